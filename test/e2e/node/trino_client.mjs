// Trino's JavaScript clients against lakemesh's Trino protocol: `trino-client` (queries with a
// catalog and schema, the session, prepared statements and USE carried by its headers, errors,
// a large result, cancellation, query info) and `presto-client` (callbacks for columns, data
// and state, in both its Trino and Presto header modes, an error, cancellation).
// Usage: node trino_client.mjs HOST:PORT USER PASSWORD
// Prints a JSON object of what each step saw.
import { Trino, BasicAuth } from "trino-client";
import presto from "presto-client";

const [server, user, password] = process.argv.slice(2);
const out = {};

async function all(trino, sql) {
  const iter = await trino.query(sql);
  let columns = null;
  const rows = [];
  let error = null;
  let id = null;
  let updateType = null;
  for await (const r of iter) {
    id = r.id || id;
    if (r.columns) columns = r.columns.map((c) => [c.name, c.type]);
    if (r.data) rows.push(...r.data);
    if (r.error) error = { name: r.error.errorName, type: r.error.errorType, message: r.error.message,
                           location: r.error.errorLocation || null };
    if (r.updateType) updateType = r.updateType;
  }
  return { id, columns, rows, error, updateType };
}

const trino = Trino.create({
  server: "http://" + server, catalog: "lakemesh", schema: "sales", source: "e2e",
  auth: new BasicAuth(user, password),
});

out.join = await all(trino,
  "SELECT c.name, count(*) AS orders, sum(o.amount) AS total FROM orders o " +
  "JOIN crm.customers c ON o.customer = c.id GROUP BY c.name ORDER BY c.name");
out.types = await all(trino,
  "SELECT CAST(1 AS TINYINT) AS t, 2::BIGINT AS b, 1.5::REAL AS r, 'nan'::DOUBLE AS n, " +
  "12.30::DECIMAL(5,2) AS d, true AS f, DATE '2026-11-01' AS day, " +
  "TIMESTAMP '2026-11-01 10:00:00.5' AS ts, TIMESTAMPTZ '2026-11-01 10:00:00+00' AS tz, " +
  "'\\x01\\xff'::BLOB AS bin, [1, 2] AS arr, MAP {'a': 1} AS m, {'x': 1, 'y': 'z'} AS rw, " +
  "NULL::VARCHAR AS nul");
out.catalogs = await all(trino, "SHOW CATALOGS");
out.schemas = await all(trino, "SHOW SCHEMAS");
out.tables = await all(trino, "SHOW TABLES");
out.describe = await all(trino, "DESCRIBE orders");
out.error = await all(trino, "SELECT nope FROM orders");
out.syntax = await all(trino, "SELECT 1,\n  FROM orders WHERE");

// Session properties, prepared statements and USE travel in headers the client keeps.
out.set = await all(trino, "SET SESSION lakemesh.ref = 'dev'");
out.at_dev = await all(trino, "SELECT count(*) FROM orders");
out.prepare = await all(trino, "PREPARE q1 FROM SELECT id FROM orders WHERE amount > ? ORDER BY id");
out.execute = await all(trino, "EXECUTE q1 USING 6");
out.reset = await all(trino, "RESET SESSION lakemesh.ref");
out.use = await all(trino, "USE lakemesh.crm");
out.after_use = await all(trino, "SELECT name FROM customers ORDER BY id");

// A large result comes page by page.
const big = await trino.query("SELECT i, 'row ' || i AS s FROM range(200000) t(i)");
let pages = 0;
let count = 0;
let sum = 0;
for await (const r of big) {
  if (r.data) {
    pages += 1;
    count += r.data.length;
    for (const row of r.data) sum += row[0];
  }
}
out.big = { pages, count, sum };

// Cancellation: a slow query, canceled while it runs.
const slow = await trino.query(
  "SELECT count(*) FROM range(10000000000) a(i) WHERE i % 7 = 3");
const slowId = slow.iter.queryResult.id;  // from the POST's response
await new Promise((resolve) => setTimeout(resolve, 300));
await trino.cancel(slowId);
let canceled = null;
for await (const r of slow) {
  if (r.error) canceled = r.error.errorName;
}
out.cancel = { canceled };
out.info = await trino.queryInfo(slowId);

// presto-client, in its Trino mode and in its Presto mode.
function prestoRun(engine, sql, extra = {}) {
  return new Promise((resolve) => {
    const [host, port] = server.split(":");
    const client = new presto.Client({
      host, port: Number(port), user, engine, catalog: "lakemesh", schema: "crm",
      basic_auth: { user, password }, checkInterval: 20,
    });
    const result = { columns: null, rows: [], states: [] };
    client.execute({
      query: sql,
      columns: (error, columns) => { result.columns = columns.map((c) => c.name); },
      data: (error, data) => { result.rows.push(...data); },
      state: (error, id, stats) => { result.states.push(stats.state); },
      success: (error, stats) => { result.final = stats.state; resolve(result); },
      error: (error) => { result.error = error.message || String(error); resolve(result); },
      ...extra,
    });
  });
}
out.presto_trino = await prestoRun("trino", "SELECT id, name FROM customers ORDER BY id");
out.presto_presto = await prestoRun("presto", "SELECT count(*) AS n FROM lakemesh.sales.orders");
out.presto_error = await prestoRun("trino", "SELECT * FROM nowhere");
let polls = 0;
out.presto_cancel = await prestoRun("trino", "SELECT count(*) FROM range(10000000000) a(i) WHERE i % 7 = 3",
                                    { cancel: () => ++polls > 2 });

console.log(JSON.stringify(out));
