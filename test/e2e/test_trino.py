"""The Trino client protocol (/v1/statement on the HTTP port) with Trino's own clients (npm
`trino-client` and `presto-client`) and, exchange by exchange, as the protocol documentation
describes it (trino.io/docs/current/develop/client-protocol): POST answers QUEUED with a
nextUri, GETs page through the rows, a repeated GET of a page returns it again, DELETE cancels,
and session state travels in X-Trino-* headers."""
import base64
import json
import os
import subprocess
import threading
import time

import requests

from conftest import KEY_ID, SECRET
from test_sql import mesh  # noqa: F401  (the fixture: domains sales and crm)

HERE = os.path.dirname(__file__)
AUTH = (KEY_ID, SECRET)


class Trino:
    """A minimal client that follows the protocol step by step and keeps every response."""

    def __init__(self, server, **headers):
        self.url = server.url
        self.headers = {"X-Trino-User": "e2e"}
        self.headers.update(headers)
        self.responses = []

    def post(self, sql, **headers):
        h = dict(self.headers)
        h.update(headers)
        r = requests.post(self.url + "/v1/statement", data=sql.encode(), headers=h, auth=AUTH,
                          timeout=30)
        self.responses = [r]
        return r

    def run(self, sql, **headers):
        """Runs `sql` to the end: (columns, rows, last JSON document, every response)."""
        r = self.post(sql, **headers)
        assert r.status_code == 200, r.text
        doc = r.json()
        columns, rows = None, []
        while True:
            if doc.get("columns"):
                columns = doc["columns"]
            rows.extend(doc.get("data", []))
            if "nextUri" not in doc:
                return columns, rows, doc, self.responses
            r = requests.get(doc["nextUri"], auth=AUTH, timeout=30)
            assert r.status_code == 200, r.text
            self.responses.append(r)
            doc = r.json()


def test_documented_exchange(mesh):
    t = Trino(mesh, **{"X-Trino-Catalog": "lakemesh", "X-Trino-Schema": "sales"})
    r = t.post("SELECT id, amount FROM orders ORDER BY id")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    first = r.json()
    # The first response: the query id, infoUri and nextUri, state QUEUED, no rows yet.
    assert first["stats"]["state"] == "QUEUED"
    assert first["nextUri"].startswith(mesh.url + "/v1/statement/")
    assert first["infoUri"] == mesh.url + "/v1/query/" + first["id"]
    assert "data" not in first and "error" not in first
    assert first["id"].count("_") == 3  # 20261201_034402_00000_abcde, as Trino's
    # Following nextUri gives the columns with their types and the rows.
    second = requests.get(first["nextUri"], auth=AUTH, timeout=30)
    doc = second.json()
    assert doc["columns"] == [
        {"name": "id", "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}},
        {"name": "amount", "type": "decimal(9,2)",
         "typeSignature": {"rawType": "decimal", "arguments": [{"kind": "LONG", "value": 9},
                                                                {"kind": "LONG", "value": 2}]}}]
    assert doc["data"] == [[1, "5.50"], [2, "7.25"], [3, "1.00"]]
    assert "nextUri" not in doc and doc["stats"]["state"] == "FINISHED"
    assert doc["stats"]["processedRows"] == 3
    # Asking again for the page just served returns it again (a client retrying after a lost
    # response); an older or later page is gone.
    again = requests.get(first["nextUri"], auth=AUTH, timeout=30)
    assert again.status_code == 200 and again.json() == doc
    token = int(first["nextUri"].rsplit("/", 1)[1])
    gone = requests.get(first["nextUri"].rsplit("/", 1)[0] + "/%d" % (token + 5), auth=AUTH,
                        timeout=30)
    assert gone.status_code in (404, 410)
    # The query's info.
    info = requests.get(first["infoUri"], auth=AUTH, timeout=30).json()
    assert info["queryId"] == first["id"] and info["state"] == "FINISHED"
    assert info["query"] == "SELECT id, amount FROM orders ORDER BY id"


def test_authentication(mesh):
    r = requests.post(mesh.url + "/v1/statement", data=b"SELECT 1",
                      headers={"X-Trino-User": "x"}, timeout=30)
    assert r.status_code == 401 and "Basic" in r.headers.get("WWW-Authenticate", "")
    r = requests.post(mesh.url + "/v1/statement", data=b"SELECT 1",
                      headers={"X-Trino-User": "x"}, auth=(KEY_ID, "wrong"), timeout=30)
    assert r.status_code == 401
    # Another key cannot read or cancel this key's query.
    other = json.loads(mesh.cli("--json", "keys", "create", "--owner", "bob").stdout)
    t = Trino(mesh)
    first = t.post("SELECT 1").json()
    r = requests.get(first["nextUri"], auth=(other["access_key_id"], other["secret_access_key"]),
                     timeout=30)
    assert r.status_code == 404


def test_info_and_nodes(mesh):
    info = requests.get(mesh.url + "/v1/info", timeout=30).json()  # public, as Trino's
    assert info["starting"] is False and info["coordinator"] is True
    assert info["nodeVersion"]["version"]
    _, rows, _, _ = Trino(mesh).run("SELECT node_version, coordinator, state FROM system.runtime.nodes")
    assert rows == [[info["nodeVersion"]["version"], True, "active"]]
    t = Trino(mesh)
    t.run("SELECT 42")
    _, rows, _, _ = Trino(mesh).run(
        "SELECT query, state FROM system.runtime.queries WHERE query = 'SELECT 42'")
    assert rows == [["SELECT 42", "FINISHED"]]


def test_types(mesh):
    cols, rows, _, _ = Trino(mesh).run(
        "SELECT 'a\"b\\n' AS s, '\\x00\\xff'::BLOB AS b, 'nan'::DOUBLE AS n, 'inf'::DOUBLE AS i, "
        "1.25::REAL AS r, 123456789012345678.99::DECIMAL(20,2) AS d, TIME '10:11:12' AS t, "
        "TIMESTAMP '2026-11-01 10:00:00' AS ts, TIMESTAMPTZ '2026-11-01 10:00:00.25+00' AS tz, "
        "[[1, 2], NULL] AS nested, MAP {'k': [1.5::DECIMAL(3,1)]} AS m, "
        "{'a': 1, 'b': {'c': 'd'}} AS rw, uuid '00000000-0000-0000-0000-000000000001' AS u, "
        "'{\"x\": 1}'::JSON AS j")
    types = {c["name"]: c["type"] for c in cols}
    assert types == {"s": "varchar", "b": "varbinary", "n": "double", "i": "double", "r": "real",
                     "d": "decimal(20,2)", "t": "time(6)", "ts": "timestamp(6)",
                     "tz": "timestamp(6) with time zone", "nested": "array(array(integer))",
                     "m": "map(varchar, array(decimal(3,1)))",
                     "rw": "row(a integer, b row(c varchar))", "u": "uuid", "j": "json"}
    assert rows == [["a\"b\\n", base64.b64encode(b"\x00\xff").decode(), "NaN", "Infinity", 1.25,
                     "123456789012345678.99", "10:11:12.000000", "2026-11-01 10:00:00.000000",
                     "2026-11-01 10:00:00.250000 UTC", [[1, 2], None], {"k": ["1.5"]},
                     [1, ["d"]], "00000000-0000-0000-0000-000000000001", "{\"x\": 1}"]]
    row_sig = [c for c in cols if c["name"] == "rw"][0]["typeSignature"]
    assert row_sig["rawType"] == "row"
    assert row_sig["arguments"][0] == {"kind": "NAMED_TYPE", "value": {
        "fieldName": {"name": "a"}, "typeSignature": {"rawType": "integer", "arguments": []}}}


def test_errors(mesh):
    t = Trino(mesh, **{"X-Trino-Catalog": "lakemesh", "X-Trino-Schema": "sales"})
    _, _, doc, _ = t.run("SELECT 1,\n  FROM orders WHERE")
    e = doc["error"]
    assert e["errorName"] == "SYNTAX_ERROR" and e["errorCode"] == 1 and e["errorType"] == "USER_ERROR"
    assert e["errorLocation"]["lineNumber"] == 2
    assert doc["stats"]["state"] == "FAILED"
    for sql, name in [("SELECT * FROM nowhere", "TABLE_NOT_FOUND"),
                      ("SELECT nope FROM orders", "COLUMN_NOT_FOUND"),
                      ("SELECT 1/0::INTEGER", None),
                      ("SELECT * FROM read_csv('/etc/passwd')", "PERMISSION_DENIED"),
                      ("SELECT 1; SELECT 2", "SYNTAX_ERROR")]:
        _, _, doc, _ = t.run(sql)
        if name:
            assert doc.get("error", {}).get("errorName") == name, (sql, doc)
    _, _, doc, _ = Trino(mesh, **{"X-Trino-Catalog": "hive"}).run("SELECT 1")
    assert doc["error"]["errorName"] == "CATALOG_NOT_FOUND"
    _, _, doc, _ = t.run("SET SESSION lakemesh.nope = 'x'")
    assert doc["error"]["errorName"] == "INVALID_SESSION_PROPERTY"
    _, _, doc, _ = t.run("COMMIT")
    assert doc["error"]["errorName"] == "NOT_IN_TRANSACTION"


def test_session_headers(mesh):
    t = Trino(mesh, **{"X-Trino-Catalog": "lakemesh", "X-Trino-Schema": "sales"})
    _, _, doc, responses = t.run("SET SESSION lakemesh.ref = 'dev'")
    assert doc["updateType"] == "SET SESSION"
    assert responses[-1].headers["X-Trino-Set-Session"] == "lakemesh.ref=dev"
    _, rows, _, _ = t.run("SELECT count(*) FROM orders", **{"X-Trino-Session": "lakemesh.ref=dev"})
    assert rows == [[4]]
    _, rows, _, _ = t.run("SELECT count(*) FROM orders")
    assert rows == [[3]]
    _, _, _, responses = t.run("RESET SESSION lakemesh.ref")
    assert responses[-1].headers["X-Trino-Clear-Session"] == "lakemesh.ref"
    _, _, _, responses = t.run("USE lakemesh.crm")
    assert responses[-1].headers["X-Trino-Set-Catalog"] == "lakemesh"
    assert responses[-1].headers["X-Trino-Set-Schema"] == "crm"
    _, _, doc, _ = t.run("USE lakemesh.nowhere")
    assert doc["error"]["errorName"] == "SCHEMA_NOT_FOUND"
    # A statement timeout through query_max_run_time.
    _, _, doc, _ = t.run("SELECT count(*) FROM range(10000000000) a(i) WHERE i % 7 = 3",
                         **{"X-Trino-Session": "query_max_run_time=300ms"})
    assert doc["error"]["errorName"] == "EXCEEDED_TIME_LIMIT", doc["error"]


def test_prepared_statements(mesh):
    t = Trino(mesh, **{"X-Trino-Catalog": "lakemesh", "X-Trino-Schema": "sales"})
    _, _, doc, responses = t.run("PREPARE big FROM SELECT id FROM orders WHERE amount > ? AND id <> ?")
    added = responses[-1].headers["X-Trino-Added-Prepare"]
    assert added.startswith("big=")
    prepared = {"X-Trino-Prepared-Statement": added}
    _, rows, _, _ = t.run("EXECUTE big USING 2, 1", **prepared)
    assert rows == [[2]]
    _, rows, _, _ = t.run("DESCRIBE INPUT big", **prepared)
    assert [r[0] for r in rows] == [0, 1]
    cols, rows, _, _ = t.run("DESCRIBE OUTPUT big", **prepared)
    assert rows[0][0] == "id" and rows[0][4] == "bigint"
    _, _, doc, _ = t.run("EXECUTE big USING 1", **prepared)
    assert doc["error"]["errorName"] == "INVALID_PARAMETER_USAGE"
    _, _, doc, _ = t.run("EXECUTE nope USING 1")
    assert doc["error"]["errorName"] == "NOT_FOUND"
    _, rows, _, _ = t.run("EXECUTE IMMEDIATE 'SELECT ? + ?' USING 40, 2")
    assert rows == [[42]]
    _, _, _, responses = t.run("DEALLOCATE PREPARE big")
    assert responses[-1].headers["X-Trino-Deallocated-Prepare"] == "big"


def test_show_and_describe(mesh):
    t = Trino(mesh, **{"X-Trino-Catalog": "lakemesh", "X-Trino-Schema": "sales"})
    cols, rows, _, _ = t.run("SHOW CATALOGS")
    assert cols[0]["name"] == "Catalog" and ["lakemesh"] in rows and ["system"] in rows
    _, rows, _, _ = t.run("SHOW SCHEMAS FROM lakemesh")
    assert ["sales"] in rows and ["crm"] in rows and ["information_schema"] in rows
    _, rows, _, _ = t.run("SHOW SCHEMAS LIKE 'c%'")
    assert rows == [["crm"]]
    _, rows, _, _ = t.run("SHOW TABLES")
    assert rows == [["orders"]]
    _, rows, _, _ = t.run("SHOW TABLES FROM lakemesh.crm LIKE 'cust%'")
    assert rows == [["customers"]]
    cols, rows, _, _ = t.run("DESCRIBE orders")
    assert [c["name"] for c in cols] == ["Column", "Type", "Extra", "Comment"]
    assert [r[:2] for r in rows] == [["id", "bigint"], ["customer", "bigint"],
                                     ["amount", "decimal(9,2)"], ["paid", "boolean"],
                                     ["ts", "timestamp(6) with time zone"]]
    _, rows2, _, _ = t.run("SHOW COLUMNS FROM lakemesh.sales.orders")
    assert rows2 == rows
    _, rows, _, _ = t.run("SHOW CREATE TABLE orders")
    ddl = rows[0][0]
    assert ddl.startswith("CREATE TABLE lakemesh.sales.orders (\n   id bigint,")
    assert "partitioning = ARRAY['day(ts)']" in ddl and "format = 'PARQUET'" in ddl
    _, rows, _, _ = t.run("SHOW SESSION")
    assert ["lakemesh.ref", "main"] == rows[0][:2]


def test_catalog_metadata(mesh):
    """What the Trino JDBC driver's DatabaseMetaData (DBeaver's navigator) and Trino's SQLAlchemy
    dialect (Superset) query: system.jdbc and information_schema with Trino's type names."""
    t = Trino(mesh, **{"X-Trino-Catalog": "lakemesh", "X-Trino-Schema": "sales"})
    _, rows, _, _ = t.run(
        "SELECT TABLE_CAT, TABLE_SCHEM, TABLE_NAME, TABLE_TYPE, REMARKS, TYPE_CAT, TYPE_SCHEM, "
        "TYPE_NAME, SELF_REFERENCING_COL_NAME, REF_GENERATION FROM system.jdbc.tables "
        "WHERE TABLE_CAT = 'lakemesh' AND TABLE_SCHEM LIKE 'sa%' ESCAPE '\\' "
        "ORDER BY TABLE_TYPE, TABLE_CAT, TABLE_SCHEM, TABLE_NAME")
    assert rows == [["lakemesh", "sales", "orders", "TABLE"] + [None] * 6]
    _, rows, _, _ = t.run(
        "SELECT TABLE_CAT, TABLE_SCHEM, TABLE_NAME, COLUMN_NAME, DATA_TYPE, TYPE_NAME, COLUMN_SIZE, "
        "DECIMAL_DIGITS, ORDINAL_POSITION, IS_NULLABLE FROM system.jdbc.columns "
        "WHERE TABLE_SCHEM = 'sales' AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION")
    assert rows == [["lakemesh", "sales", "orders", "id", -5, "bigint", None, None, 1, "YES"],
                    ["lakemesh", "sales", "orders", "customer", -5, "bigint", None, None, 2, "YES"],
                    ["lakemesh", "sales", "orders", "amount", 3, "decimal(9,2)", 9, 2, 3, "YES"],
                    ["lakemesh", "sales", "orders", "paid", 16, "boolean", None, None, 4, "YES"],
                    ["lakemesh", "sales", "orders", "ts", 2014, "timestamp(6) with time zone",
                     None, None, 5, "YES"]]
    _, rows, _, _ = t.run("SELECT TABLE_SCHEM, TABLE_CATALOG FROM system.jdbc.schemas "
                          "ORDER BY TABLE_CATALOG, TABLE_SCHEM")
    assert rows == [["crm", "lakemesh"], ["information_schema", "lakemesh"], ["sales", "lakemesh"]]
    _, rows, _, _ = t.run("SELECT TABLE_CAT FROM system.jdbc.catalogs")
    assert rows == [["lakemesh"]]
    _, rows, _, _ = t.run(
        "SELECT column_name, data_type, column_default, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'crm' AND table_name = 'customers' ORDER BY ordinal_position")
    assert rows == [["id", "bigint", None, "YES"], ["name", "varchar", None, "YES"]]
    _, rows, _, _ = t.run("SELECT table_schema, table_name, table_type "
                          "FROM lakemesh.information_schema.tables ORDER BY 1, 2")
    assert rows == [["crm", "customers", "BASE TABLE"], ["sales", "orders", "BASE TABLE"]]


def test_writes_and_transactions(mesh):
    t = Trino(mesh, **{"X-Trino-Catalog": "lakemesh", "X-Trino-Schema": "sales"})
    cols, rows, doc, _ = t.run(
        "CREATE TABLE events WITH (partitioning = ARRAY['day(ts)']) AS "
        "SELECT id, ts FROM orders")
    assert doc["updateType"] == "CREATE TABLE" and doc["updateCount"] == 3
    assert rows == [[3]] and cols[0]["name"] == "rows"
    _, rows, _, _ = t.run("SHOW CREATE TABLE events")
    assert "partitioning = ARRAY['day(ts)']" in rows[0][0]
    _, rows, doc, _ = t.run("INSERT INTO events VALUES (9, TIMESTAMPTZ '2026-11-05 00:00:00+00')")
    assert doc["updateType"] == "INSERT" and doc["updateCount"] == 1 and rows == [[1]]
    _, rows, doc, _ = t.run("DELETE FROM events WHERE id < 3")
    assert doc["updateType"] == "DELETE" and doc["updateCount"] == 2
    # Time travel to the snapshot before the delete.
    r = mesh.api("GET", "/iceberg/v1/main/namespaces/sales/tables/events")
    snaps = sorted(r.json()["metadata"]["snapshots"], key=lambda s: s["timestamp-ms"])
    _, rows, _, _ = t.run("SELECT count(*) FROM events FOR VERSION AS OF %d"
                          % snaps[-2]["snapshot-id"])
    assert rows == [[4]]
    # A transaction: its writes are seen inside it, and ROLLBACK leaves no trace.
    _, _, _, responses = t.run("START TRANSACTION")
    txn = responses[-1].headers["X-Trino-Started-Transaction-Id"]
    inside = {"X-Trino-Transaction-Id": txn}
    t.run("INSERT INTO events VALUES (10, NULL)", **inside)
    _, rows, _, _ = t.run("SELECT count(*) FROM events", **inside)
    assert rows == [[3]]
    _, _, _, responses = t.run("ROLLBACK", **inside)
    assert responses[-1].headers["X-Trino-Clear-Transaction-Id"] == "true"
    _, rows, _, _ = t.run("SELECT count(*) FROM events")
    assert rows == [[2]]
    _, _, doc, _ = t.run("SELECT 1", **inside)
    assert doc["error"]["errorName"] == "UNKNOWN_TRANSACTION"
    # COMMIT makes them one commit.
    _, _, _, responses = t.run("START TRANSACTION")
    inside = {"X-Trino-Transaction-Id": responses[-1].headers["X-Trino-Started-Transaction-Id"]}
    t.run("INSERT INTO events VALUES (11, NULL)", **inside)
    t.run("INSERT INTO events VALUES (12, NULL)", **inside)
    _, _, doc, _ = t.run("COMMIT", **inside)
    assert "error" not in doc
    _, rows, _, _ = t.run("SELECT id FROM events ORDER BY id")
    assert rows == [[3], [9], [11], [12]]


def test_large_result_streams(mesh):
    t = Trino(mesh)
    n = 300000
    cols, rows, doc, responses = t.run(
        "SELECT i, repeat('x', 20) AS pad FROM range(%d) t(i)" % n)
    assert len(rows) == n and rows[0] == [0, "x" * 20] and rows[-1][0] == n - 1
    pages = [r for r in responses if "data" in r.json()]
    assert len(pages) >= 3, len(pages)  # several pages, none holding everything
    assert max(len(r.content) for r in responses) < 3 * (1 << 20)
    assert doc["stats"]["processedRows"] == n


def test_cancel(mesh):
    t = Trino(mesh)
    first = t.post("SELECT count(*) FROM range(10000000000) a(i) WHERE i % 7 = 3").json()
    r = requests.get(first["nextUri"], auth=AUTH, timeout=30)  # running, no rows within a second
    doc = r.json()
    assert doc["stats"]["state"] == "RUNNING" and "nextUri" in doc and "data" not in doc
    t0 = time.time()
    d = requests.delete(doc["nextUri"], auth=AUTH, timeout=30)
    assert d.status_code == 204
    deadline = time.time() + 10
    while time.time() < deadline:
        info = requests.get(first["infoUri"], auth=AUTH, timeout=30).json()
        if info["state"] == "FAILED":
            break
        time.sleep(0.05)
    assert info["state"] == "FAILED" and info["errorCode"]["name"] == "USER_CANCELED"
    assert time.time() - t0 < 5


def test_node_clients(mesh):
    host = mesh.ports["http"]
    r = subprocess.run(["node", os.path.join(HERE, "node", "trino_client.mjs"), host, KEY_ID,
                        SECRET], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["join"]["rows"] == [["Ada", 2, "6.50"], ["Grace", 1, "7.25"]]
    assert out["join"]["columns"] == [["name", "varchar"], ["orders", "bigint"],
                                      ["total", "decimal(38,2)"]]
    assert out["types"]["rows"] == [[1, 2, 1.5, "NaN", "12.30", True, "2026-11-01",
                                     "2026-11-01 10:00:00.500000",
                                     "2026-11-01 10:00:00.000000 UTC", "Af8=", [1, 2], {"a": 1},
                                     [1, "z"], None]]
    assert ["lakemesh"] in out["catalogs"]["rows"]
    assert ["sales"] in out["schemas"]["rows"]
    assert out["tables"]["rows"] == [["orders"]]
    assert out["describe"]["rows"][0][:2] == ["id", "bigint"]
    assert out["error"]["error"]["name"] == "COLUMN_NOT_FOUND"
    assert out["syntax"]["error"]["name"] == "SYNTAX_ERROR"
    assert out["syntax"]["error"]["location"]["lineNumber"] == 2
    assert out["set"]["updateType"] == "SET SESSION"
    assert out["at_dev"]["rows"] == [[4]]  # the client sent the session property back
    assert out["prepare"]["updateType"] == "PREPARE"
    assert out["execute"]["rows"] == [[2], [4]]  # ... and the prepared statement (at dev)
    assert out["after_use"]["rows"] == [["Ada"], ["Grace"]]  # ... and the schema USE set
    assert out["big"]["count"] == 200000 and out["big"]["sum"] == 199999 * 200000 // 2
    assert out["big"]["pages"] >= 2
    assert out["cancel"]["canceled"] == "USER_CANCELED"
    assert out["info"]["queryId"] and out["info"]["state"] == "FAILED"
    assert out["presto_trino"]["columns"] == ["id", "name"]
    assert out["presto_trino"]["rows"] == [[10, "Ada"], [11, "Grace"]]
    assert out["presto_trino"]["final"] == "FINISHED"
    assert out["presto_presto"]["rows"] == [[3]]
    assert "nowhere" in out["presto_error"]["error"]
    assert "canceled" in out["presto_cancel"]["error"]


def test_catalog_alias(workdir):
    """--trino-catalog: clients configured for a catalog of another name work unchanged."""
    from conftest import Server
    s = Server(os.path.join(workdir, "alias"), ["--demo", "--trino-catalog", "iceberg"]).start()
    try:
        t = Trino(s, **{"X-Trino-Catalog": "iceberg", "X-Trino-Schema": "sales"})
        _, rows, _, _ = t.run("SELECT count(*) FROM orders")
        _, rows2, _, _ = t.run("SELECT count(*) FROM iceberg.sales.orders")
        _, rows3, _, _ = t.run("SELECT count(*) FROM lakemesh.sales.orders")
        assert rows == rows2 == rows3 == [[140]]
        _, rows, _, _ = t.run("SHOW CATALOGS")
        assert rows == [["iceberg"], ["lakemesh"], ["system"]]
        _, rows, _, _ = t.run("SELECT table_catalog, table_name FROM iceberg.information_schema.tables "
                              "WHERE table_schema = 'sales' ORDER BY 2")
        assert rows and all(r[0] == "lakemesh" for r in rows)
        # The PostgreSQL side knows the alias too.
        import psycopg2
        host, port = s.ports["pg"].rsplit(":", 1)
        conn = psycopg2.connect(host=host, port=port, user=KEY_ID, password=SECRET, dbname="x")
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM iceberg.sales.orders")
        assert cur.fetchone() == (140,)
        conn.close()
    finally:
        s.stop()


def test_queries_beyond_the_running_limit_wait(mesh):
    """At most 32 queries run at once; more wait in state QUEUED until one ends, and can be
    canceled while they wait."""
    slow = "SELECT count(*) FROM range(10000000000) a(i) WHERE i % 7 = 3"
    firsts = [Trino(mesh).post(slow).json() for _ in range(34)]
    try:
        time.sleep(0.5)
        states = []
        for f in firsts:
            r = requests.get(f["nextUri"] + "?maxWait=10ms", auth=AUTH, timeout=30)
            states.append(r.json()["stats"]["state"])
        assert states.count("RUNNING") == 32 and states.count("QUEUED") == 2, states
    finally:
        for f in firsts:
            requests.delete(f["infoUri"], auth=AUTH, timeout=30)
    deadline = time.time() + 20
    pending = {f["infoUri"] for f in firsts}
    while pending and time.time() < deadline:
        for uri in list(pending):
            if requests.get(uri, auth=AUTH, timeout=30).json()["state"] == "FAILED":
                pending.discard(uri)
        time.sleep(0.1)
    assert not pending
