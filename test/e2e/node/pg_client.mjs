// node-postgres (`pg` from npm) against lakemesh's PostgreSQL port: a plain query, a query with
// parameters (the extended protocol), an error with its SQLSTATE, and rows streamed with a row
// limit per Execute (a cursor-like read through the simple API is not in pg's core).
// Usage: node pg_client.mjs HOST PORT USER PASSWORD
// Prints {"plain": [...], "params": [...], "error": {"code", "message"}, "types": {...}} as JSON.
import pg from "pg";

const [host, port, user, password] = process.argv.slice(2);
const client = new pg.Client({ host, port: Number(port), user, password, database: "lakemesh" });
await client.connect();
const out = {};
const plain = await client.query(
  "SELECT c.name, count(*) AS orders, sum(o.amount) AS total FROM sales.orders o " +
  "JOIN crm.customers c ON o.customer = c.id GROUP BY c.name ORDER BY c.name");
out.plain = plain.rows;
const params = await client.query(
  "SELECT id, amount FROM sales.orders WHERE amount > $1 AND paid = $2 ORDER BY id", ["2.00", true]);
out.params = params.rows;
try {
  await client.query("SELECT nope FROM sales.orders");
} catch (e) {
  out.error = { code: e.code, message: e.message };
}
const types = await client.query(
  "SELECT 1::INTEGER AS i, 2::BIGINT AS b, 1.5::DOUBLE AS d, true AS t, DATE '2026-11-01' AS day, " +
  "TIMESTAMPTZ '2026-11-01 10:00:00+00' AS ts, NULL::VARCHAR AS n");
out.types = types.rows[0];
out.fields = types.fields.map(f => [f.name, f.dataTypeID]);
// Lists are PostgreSQL arrays, which pg parses into JavaScript arrays.
const arrays = await client.query("SELECT [1, NULL, 3] AS i, ['a b', 'q\"x', NULL] AS t");
out.arrays = arrays.rows[0];
// A write with parameters, its rows returned.
const inserted = await client.query(
  "INSERT INTO crm.customers (id, name) VALUES ($1, $2) RETURNING id, name", [30, "Hopper"]);
out.inserted = { rows: inserted.rows, count: inserted.rowCount, command: inserted.command };
await client.end();
console.log(JSON.stringify(out));
