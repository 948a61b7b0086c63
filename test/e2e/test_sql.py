"""SQL over the PostgreSQL wire protocol, with real clients: psql, psycopg2, psycopg (3, the
extended protocol with parameters), node-postgres and the PostgreSQL JDBC driver. Tables are
Iceberg tables of two domains appended with `lakemesh table append`; queries join across
domains, read other refs (`table@ref`, `SET lakemesh.ref`), and SQL that reaches outside the
tables is refused."""
import io
import json
import os
import subprocess
import time

import psycopg
import psycopg2
import pytest

from conftest import KEY_ID, SECRET
from test_iceberg import Iceberg
from test_iceberg_data import s3_client

HERE = os.path.dirname(__file__)

ORDERS = {"type": "struct", "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "customer", "type": "long", "required": False},
    {"id": 3, "name": "amount", "type": "decimal(9,2)", "required": False},
    {"id": 4, "name": "paid", "type": "boolean", "required": False},
    {"id": 5, "name": "ts", "type": "timestamptz", "required": False}]}
CUSTOMERS = {"type": "struct", "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "name", "type": "string", "required": False}]}


@pytest.fixture
def mesh(server, workdir):
    """Domains `sales` (orders, partitioned by day) and `crm` (customers) with rows on main, and
    one more order on branch `dev` of sales."""
    ice = Iceberg(server)
    for ns in ("sales", "crm"):
        assert ice.call("POST", "/namespaces", {"namespace": [ns]}).status_code == 200
    r = ice.call("POST", "/namespaces/sales/tables", {
        "name": "orders", "schema": ORDERS,
        "partition-spec": {"fields": [{"source-id": 5, "name": "ts_day", "transform": "day"}]}})
    assert r.status_code == 200, r.text
    r = ice.call("POST", "/namespaces/crm/tables", {"name": "customers", "schema": CUSTOMERS})
    assert r.status_code == 200, r.text

    def append(table, csv, *extra):
        path = os.path.join(workdir, "in.csv")
        with open(path, "w") as f:
            f.write(csv)
        server.cli("table", "append", table, path, *extra)

    append("sales.orders", "id,customer,amount,paid,ts\n"
                           "1,10,5.50,true,2026-11-01 10:00:00+00\n"
                           "2,11,7.25,false,2026-11-01 11:00:00+00\n"
                           "3,10,1.00,,2026-11-02 09:30:00+00\n")
    append("crm.customers", "id,name\n10,Ada\n11,Grace\n")
    server.cli("branch", "create", "sales", "dev", "--from", "main")
    append("sales.orders", "id,customer,amount,paid,ts\n4,11,100.00,true,2026-11-03 00:00:00+00\n",
           "--ref", "dev")
    return server


def dsn(server):
    host, port = server.ports["pg"].rsplit(":", 1)
    return "host=%s port=%s user=%s password=%s dbname=analytics" % (host, port, KEY_ID, SECRET)


def psql(server, *args, password=SECRET, stdin=None):
    host, port = server.ports["pg"].rsplit(":", 1)
    return subprocess.run(["psql", "-h", host, "-p", port, "-U", KEY_ID, "-d", "lakemesh",
                           "-X", "-v", "ON_ERROR_STOP=1"] + list(args),
                          capture_output=True, text=True, timeout=60, input=stdin,
                          env=dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10"))


def test_psql_queries_join_domains_and_reads_refs(mesh):
    r = psql(mesh, "-A", "-F", ",", "-c",
             "SELECT c.name, count(*), sum(o.amount) FROM sales.orders o "
             "JOIN crm.customers c ON o.customer = c.id GROUP BY 1 ORDER BY 1")
    assert r.returncode == 0, r.stderr
    # Columns are named as PostgreSQL names them (count, sum).
    assert r.stdout.splitlines() == ["name,count,sum", "Ada,2,6.50",
                                     "Grace,1,7.25", "(2 rows)"]
    # Several statements in one query string; a branch by name and by session setting.
    r = psql(mesh, "-A", "-t", "-c", "SELECT count(*) FROM sales.orders; "
             "SELECT count(*) FROM sales.\"orders@dev\"")
    assert r.stdout.split() == ["3", "4"], r.stdout + r.stderr
    r = psql(mesh, "-A", "-t", stdin="SET lakemesh.ref = 'dev';\n"
             "SELECT max(id) FROM sales.orders;\nSHOW lakemesh.ref;\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["SET", "4", "dev"], r.stdout
    # Errors carry PostgreSQL's SQLSTATEs.
    for sql, state in [("SELECT * FROM sales.nope", "42P01"),
                       ("SELECT nope FROM sales.orders", "42703"),
                       ("SELEC 1", "42601")]:
        r = psql(mesh, "-c", "\\set VERBOSITY verbose", "-c", sql)
        assert r.returncode != 0 and ("ERROR:  %s:" % state) in r.stderr, (sql, r.stderr)
    r = psql(mesh, "-c", "SELECT 1", password="wrong-secret")
    assert r.returncode != 0
    assert 'password authentication failed for user "%s"' % KEY_ID in r.stderr


def test_psql_describes_domains_and_tables(mesh):
    """psql's \\dn, \\dt and \\d query pg_catalog in PostgreSQL's dialect."""
    r = psql(mesh, "-c", "\\dn")
    assert r.returncode == 0, r.stderr
    assert [l.split("|")[0].strip() for l in r.stdout.splitlines()[3:5]] == ["crm", "sales"]
    r = psql(mesh, "-A", "-c", "\\dt sales.*")
    assert r.returncode == 0, r.stderr
    assert "sales|orders|table|" in r.stdout, r.stdout
    r = psql(mesh, "-c", "\\d sales.orders")
    assert r.returncode == 0, r.stderr
    assert 'Table "sales.orders"' in r.stdout
    rows = [[c.strip() for c in l.split("|")] for l in r.stdout.splitlines()[3:8]]
    assert [(x[0], x[1]) for x in rows] == [
        ("id", "bigint"), ("customer", "bigint"), ("amount", "numeric(9,2)"), ("paid", "boolean"),
        ("ts", "timestamp with time zone")], r.stdout
    r = psql(mesh, "-A", "-t", "-c", "\\l")
    assert r.stdout.startswith("lakemesh|"), r.stdout
    r = psql(mesh, "-A", "-t", "-c", "\\dt")
    assert r.stdout.split() == ["crm|customers|table|lakemesh", "sales|orders|table|lakemesh"]


def test_sql_reaches_only_lakemesh_tables(mesh, workdir):
    conn = psycopg2.connect(dsn(mesh))
    conn.autocommit = True
    cur = conn.cursor()
    target = os.path.join(workdir, "leak.csv")
    for sql in ["SELECT * FROM read_csv('/etc/passwd')",
                "SELECT * FROM read_text('/etc/hostname')",
                "SELECT * FROM glob('/*')",
                "COPY (SELECT 1) TO '%s'" % target,
                "ATTACH '%s' AS x" % os.path.join(workdir, "x.db"),
                "INSTALL httpfs", "LOAD httpfs",
                "SET enable_external_access = true",
                "SET allowed_directories = ['/']"]:
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(sql)
        assert e.value.pgcode == "42501", (sql, e.value.pgcode, str(e.value))
    assert not os.path.exists(target)
    # The session still works after refusals.
    cur.execute("SELECT count(*) FROM sales.orders")
    assert cur.fetchone() == (3,)


def test_psycopg2_types_transactions_and_catalogs(mesh):
    conn = psycopg2.connect(dsn(mesh))
    cur = conn.cursor()  # psycopg2 opens a transaction (BEGIN) before the first statement
    cur.execute("SELECT id, customer, amount, paid, ts FROM sales.orders ORDER BY id")
    rows = cur.fetchall()
    assert [r[0] for r in rows] == [1, 2, 3]
    assert str(rows[0][2]) == "5.50" and rows[0][3] is True and rows[2][3] is None
    assert rows[0][4].isoformat() == "2026-11-01T10:00:00+00:00"
    assert [d.type_code for d in cur.description] == [20, 20, 1700, 16, 1184]
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.execute("SELECT * FROM sales.nope")
    # The failed transaction refuses statements until it ends, as PostgreSQL does.
    with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
        cur.execute("SELECT 1")
    conn.rollback()
    cur.execute("SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN ('sales', 'crm') ORDER BY 1, 2")
    assert cur.fetchall() == [("crm", "customers"), ("sales", "orders")]
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'sales' "
                "AND table_name = 'orders' ORDER BY ordinal_position")
    assert [r[0] for r in cur.fetchall()] == ["id", "customer", "amount", "paid", "ts"]
    conn.close()


def test_commits_are_seen_by_the_next_statement(mesh, workdir):
    conn = psycopg2.connect(dsn(mesh))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM sales.orders")
    assert cur.fetchone() == (3,)
    # A merge of dev brings its order to main; a delete takes one away.
    mesh.cli("merge", "sales", "dev", "main")
    cur.execute("SELECT count(*), max(id) FROM sales.orders")
    assert cur.fetchone() == (4, 4)
    mesh.cli("table", "delete", "sales.orders", "--where", "id = 2")
    cur.execute("SELECT array_agg(id ORDER BY id) FROM sales.orders")
    assert cur.fetchone()[0] == [1, 3, 4]  # an int8[] array, as from PostgreSQL


def test_psycopg3_extended_protocol_with_parameters(mesh):
    with psycopg.connect(dsn(mesh), autocommit=True) as conn:
        rows = conn.execute("SELECT id, amount FROM sales.orders WHERE amount > %s AND "
                            "customer = %s ORDER BY id", ("1.00", 10)).fetchall()
        assert [(r[0], str(r[1])) for r in rows] == [(1, "5.50")]
        # Parameters the query leaves untyped are text; NULL binds.
        row = conn.execute("SELECT %s::INTEGER + 1, %s, %s IS NULL", (41, "x", None)).fetchone()
        assert row == (42, "x", True)
        # A prepared statement run many times (psycopg prepares it on the server).
        cur = conn.cursor()
        for i in range(1, 4):
            cur.execute("SELECT name FROM crm.customers WHERE id = %s", (9 + i,), prepare=True)
            assert cur.fetchall() == ([("Ada",)] if i == 1 else [("Grace",)] if i == 2 else [])
        with pytest.raises(psycopg.errors.UndefinedColumn):
            conn.execute("SELECT nope FROM sales.orders WHERE id = %s", (1,))
        # After the error the connection goes on.
        assert conn.execute("SELECT count(*) FROM sales.\"orders@dev\" WHERE id > %s",
                            (0,)).fetchone() == (4,)
        # Lists are arrays: as parameters (`= ANY(%s)`, typed int2[] or sent untyped as
        # strings) and as results.
        assert conn.execute("SELECT id FROM sales.orders WHERE id = ANY(%s) ORDER BY id",
                            ([1, 3],)).fetchall() == [(1,), (3,)]
        assert conn.execute("SELECT name FROM crm.customers WHERE name = ANY(%s) ORDER BY 1",
                            (["Grace", "Ada", "it's"],)).fetchall() == [("Ada",), ("Grace",)]
        assert conn.execute("SELECT %s AS l", ([1, None, 3],)).fetchone() == ([1, None, 3],)
        # Pipeline mode: several statements before one Sync.
        with conn.pipeline():
            a = conn.execute("SELECT 1")
            b = conn.execute("SELECT %s::TEXT", ("two",))
        assert a.fetchone() == (1,) and b.fetchone() == ("two",)
        # Writes take parameters too: the values stay values (quotes, a would-be injection, NULL).
        row = conn.execute("INSERT INTO crm.customers VALUES (%s, %s) RETURNING id, name",
                           (20, "O'Brien")).fetchone()
        assert row == (20, "O'Brien")
        cur.executemany("INSERT INTO crm.customers (id, name) VALUES (%s, %s)",
                        [(21, "x'); DROP TABLE crm.customers; --"), (22, None)])
        cur = conn.execute("UPDATE crm.customers SET name = %s WHERE id = %s RETURNING id, name",
                           ("Lin", 22))
        assert cur.rowcount == 1 and cur.fetchall() == [(22, "Lin")]
        cur = conn.execute("DELETE FROM crm.customers WHERE id = %s RETURNING *", (20,))
        assert cur.rowcount == 1 and cur.fetchall() == [(20, "O'Brien")]
        assert conn.execute("SELECT id, name FROM crm.customers WHERE id >= 20 ORDER BY id"
                            ).fetchall() == [(21, "x'); DROP TABLE crm.customers; --"),
                                             (22, "Lin")]


def test_node_postgres(mesh):
    host, port = mesh.ports["pg"].rsplit(":", 1)
    r = subprocess.run(["node", os.path.join(HERE, "node", "pg_client.mjs"), host, port, KEY_ID,
                        SECRET], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["plain"] == [{"name": "Ada", "orders": "2", "total": "6.50"},
                            {"name": "Grace", "orders": "1", "total": "7.25"}]
    assert out["params"] == [{"id": "1", "amount": "5.50"}]
    assert out["error"]["code"] == "42703"
    assert out["types"]["i"] == 1 and out["types"]["d"] == 1.5 and out["types"]["t"] is True
    assert out["types"]["n"] is None
    assert out["types"]["ts"] == "2026-11-01T10:00:00.000Z"
    assert dict(out["fields"]) == {"i": 23, "b": 20, "d": 701, "t": 16, "day": 1082,
                                   "ts": 1184, "n": 25}
    assert out["arrays"] == {"i": [1, None, 3], "t": ["a b", 'q"x', None]}
    assert out["inserted"] == {"rows": [{"id": "30", "name": "Hopper"}], "count": 1,
                               "command": "INSERT"}


def test_jdbc_driver(mesh, workdir):
    # Java 17 and the driver come with scripts/install-deps.sh (openjdk-17-jdk-headless,
    # libpostgresql-jdbc-java): a missing one fails here rather than skipping.
    src = os.path.join(HERE, "java", "PgClient.java")
    subprocess.run(["javac", "-cp", "/usr/share/java/postgresql.jar", "-d", workdir, src],
                   check=True, timeout=120)
    cp = "/usr/share/java/postgresql.jar:" + workdir
    r = subprocess.run(["java", "-cp", cp, "PgClient", mesh.ports["pg"], KEY_ID, SECRET],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert lines["product"] == "PostgreSQL"
    assert lines["join"] == "3 13.75"
    # Runs 6 to 8 are past the driver's prepareThreshold: binary results, same values.
    expected = ["1:5.50:true:2026-11-01T10:00:00Z", "2:7.25:false:2026-11-01T11:00:00Z",
                "3:1.00:false:2026-11-02T09:30:00Z"]
    assert lines["prepared"].split() == [expected[i % 3] for i in range(8)]
    assert lines["arrays"].split() == ['int8:[1,2,3]:[a_b,_null,_q"x]'] * 7
    assert lines["error"] == "42P01"
    assert lines["fetched"] == "50 1225"
    assert lines["ref"] == "main"
    assert lines["schemas"] == "crm sales"
    assert lines["tables"] == "crm.customers sales.orders"
    assert lines["columns"] == "id:int8 customer:int8 amount:numeric paid:bool ts:timestamptz"
    assert lines["primary-keys"] == "0"
    assert lines["written"] == "3 1 it's 0|renamed|it's 2"
    assert lines["generated"] == "1 110 keyed"
    assert lines["copied"] == "2 Turing|Hamilton, M."


def test_sql_writes_are_iceberg_commits(mesh, workdir):
    """CREATE TABLE / INSERT / UPDATE / DELETE / ALTER through psql become Iceberg commits that
    other clients see: the CLI's table history and the Iceberg REST catalog."""
    r = psql(mesh, "-A", "-t", stdin="""
CREATE TABLE sales.daily (day DATE NOT NULL, customer VARCHAR, total DECIMAL(12,2))
  WITH (partitioning = ARRAY['month(day)']);
INSERT INTO sales.daily
  SELECT CAST(o.ts AS DATE), c.name, sum(o.amount) FROM sales.orders o
  JOIN crm.customers c ON o.customer = c.id GROUP BY 1, 2;
UPDATE sales.daily SET total = total * 2 WHERE customer = 'Ada';
DELETE FROM sales.daily WHERE total < 2;
ALTER TABLE sales.daily ADD COLUMN note VARCHAR;
SELECT day, customer, total, note FROM sales.daily ORDER BY day, customer;
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:6] == ["CREATE TABLE", "INSERT 0 3", "UPDATE 2", "DELETE 0",
                                        "ALTER TABLE", "2026-11-01|Ada|11.00|"], r.stdout
    ice = Iceberg(mesh)
    m = ice.call("GET", "/namespaces/sales/tables/daily").json()["metadata"]
    assert [s["summary"]["operation"] for s in m["snapshots"]] == ["append", "overwrite"]
    assert m["partition-specs"][0]["fields"][0]["transform"] == "month"
    log = mesh.cli("log", "sales", "main").stdout
    assert "daily" in log, log
    # A NOT NULL column refuses NULLs; a tag refuses writes.
    r = psql(mesh, "-c", "\\set VERBOSITY verbose", "-c",
             "INSERT INTO sales.daily (customer) VALUES ('x')")
    assert "23502" in r.stderr, r.stderr
    mesh.cli("tag", "create", "sales", "v1", "main")
    r = psql(mesh, "-c", "\\set VERBOSITY verbose", "-c",
             "INSERT INTO sales.\"daily@v1\" VALUES (DATE '2026-01-01', 'y', 1, NULL)")
    assert "25006" in r.stderr, r.stderr
    # psycopg2's implicit transaction: INSERTs commit together at commit(), not before.
    conn = psycopg2.connect(dsn(mesh))
    cur = conn.cursor()
    cur.execute("INSERT INTO sales.daily (day, customer) VALUES (DATE '2026-12-01', 'Lin')")
    cur.execute("INSERT INTO sales.daily (day, customer) VALUES (DATE '2026-12-02', 'Lin')")
    other = psycopg2.connect(dsn(mesh))
    other.autocommit = True
    ocur = other.cursor()
    ocur.execute("SELECT count(*) FROM sales.daily WHERE customer = 'Lin'")
    assert ocur.fetchone() == (0,)
    conn.commit()
    ocur.execute("SELECT count(*) FROM sales.daily WHERE customer = 'Lin'")
    assert ocur.fetchone() == (2,)
    cur.execute("INSERT INTO sales.daily (day, customer) VALUES (DATE '2026-12-03', 'Lin')")
    conn.rollback()
    ocur.execute("SELECT count(*) FROM sales.daily WHERE customer = 'Lin'")
    assert ocur.fetchone() == (2,)
    # UPDATE and DELETE in the implicit transaction: seen inside it, by others after commit().
    cur.execute("UPDATE sales.daily SET note = 'seen' WHERE customer = 'Lin'")
    cur.execute("DELETE FROM sales.daily WHERE day = DATE '2026-12-01'")
    cur.execute("SELECT count(*), max(note) FROM sales.daily WHERE customer = 'Lin'")
    assert cur.fetchone() == (1, "seen")
    ocur.execute("SELECT count(*) FROM sales.daily WHERE customer = 'Lin' AND note IS NULL")
    assert ocur.fetchone() == (2,)
    conn.commit()
    ocur.execute("SELECT count(*), max(note) FROM sales.daily WHERE customer = 'Lin'")
    assert ocur.fetchone() == (1, "seen")
    # No transaction branch is left behind.
    assert "lm-txn-" not in mesh.cli("branch", "list", "sales").stdout


def test_copy_to_stdout(mesh, workdir):
    r = psql(mesh, "-c", "COPY (SELECT id, customer, amount, paid FROM sales.orders ORDER BY id) "
             "TO STDOUT")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["1\t10\t5.50\tt", "2\t11\t7.25\tf", "3\t10\t1.00\t\\N"]
    r = psql(mesh, "-c", "COPY (SELECT name, 'a,\"b' AS odd, '' AS empty, NULL AS nothing "
             "FROM crm.customers ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)")
    assert r.stdout.splitlines() == ["name,odd,empty,nothing", 'Ada,"a,""b","",',
                                     'Grace,"a,""b","",'], r.stdout
    out = os.path.join(workdir, "orders.csv")
    r = psql(mesh, "-c", "\\copy crm.customers TO '%s' CSV HEADER" % out)
    assert r.returncode == 0, r.stderr
    assert open(out).read() == "id,name\n10,Ada\n11,Grace\n"
    # COPY to or from anywhere else is refused.
    r = psql(mesh, "-c", "\\set VERBOSITY verbose", "-c",
             "COPY (SELECT 1) TO '%s'" % os.path.join(workdir, "x.csv"))
    assert "42501" in r.stderr, r.stderr


def snapshots(server, table):
    """How many snapshots table `domain.name` has on main (one per commit that changed it)."""
    ns, name = table.split(".")
    r = Iceberg(server).call("GET", "/namespaces/%s/tables/%s" % (ns, name))
    assert r.status_code == 200, r.text
    return len(r.json()["metadata"].get("snapshots", []))


def test_copy_from_stdin(mesh, workdir):
    """Rows sent with COPY FROM STDIN (psql's \\copy, psycopg2's copy_expert, psycopg's copy)
    land as one commit each, byte for byte; bad rows, a client's CopyFail and ROLLBACK land
    nothing."""
    def rows():
        r = psql(mesh, "-c", "COPY (SELECT * FROM crm.customers ORDER BY id) TO STDOUT")
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    before = snapshots(mesh, "crm.customers")
    # psql's \copy of a CSV file with a header: quotes, a comma, a line break, an empty string
    # (quoted) and a NULL (unquoted empty).
    path = os.path.join(workdir, "customers.csv")
    with open(path, "w") as f:
        f.write('id,name\n20,"Lovelace, Ada"\n21,"two\nlines"\n22,""\n23,\n24,"say ""hi"""\n')
    r = psql(mesh, "-c", "\\copy crm.customers FROM '%s' WITH (FORMAT csv, HEADER)" % path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "COPY 5"
    assert snapshots(mesh, "crm.customers") == before + 1
    assert rows()[2:] == ["20\tLovelace, Ada", "21\ttwo\\nlines", "22\t", "23\t\\N",
                          '24\tsay "hi"']

    # COPY's text format from standard input: escapes, a tab in a value, NULL, a column list.
    text = "30\tback\\\\slash\n31\ttab\\there\n32\t\\N\n33\toct\\101\\x42\n"
    r = psql(mesh, "-c", "COPY crm.customers (id, name) FROM STDIN", stdin=text)
    assert r.returncode == 0, r.stderr
    assert rows()[7:] == ["30\tback\\\\slash", "31\ttab\\there", "32\t\\N", "33\toctAB"]

    conn = psycopg2.connect(dsn(mesh))
    cur = conn.cursor()
    # psycopg2: copy_expert with CSV, in a transaction with an INSERT: one commit for both.
    cur.copy_expert("COPY crm.customers FROM STDIN WITH CSV", io.StringIO("40,Hopper\n41,Noether\n"))
    cur.execute("INSERT INTO crm.customers VALUES (42, 'Curie')")
    conn.commit()
    cur.execute("SELECT count(*) FROM crm.customers WHERE id BETWEEN 40 AND 42")
    assert cur.fetchone()[0] == 3
    conn.commit()
    # ... and ROLLBACK drops what COPY sent.
    cur.copy_expert("COPY crm.customers FROM STDIN WITH CSV", io.StringIO("50,Gone\n"))
    conn.rollback()
    cur.execute("SELECT count(*) FROM crm.customers WHERE id = 50")
    assert cur.fetchone()[0] == 0
    conn.commit()
    conn.autocommit = True
    count = len(rows())

    # Errors, in PostgreSQL's codes; nothing of a failed COPY is written.
    def copy_error(sql, data):
        with pytest.raises(psycopg2.Error) as e:
            cur.copy_expert(sql, io.StringIO(data))
        return e.value.pgcode, str(e.value)
    code, msg = copy_error("COPY crm.customers FROM STDIN WITH CSV", "60,ok\nnot-a-number,x\n")
    assert code == "22P02", msg
    assert "not-a-number" in msg
    code, msg = copy_error("COPY crm.customers FROM STDIN WITH CSV", "61,a,extra\n")
    assert code == "22P04", msg
    assert copy_error("COPY crm.nope FROM STDIN", "1\tx\n")[0] == "42P01"
    assert copy_error("COPY crm.customers (id, age) FROM STDIN", "1\t2\n")[0] == "42703"
    assert copy_error("COPY crm.customers FROM STDIN WITH (FORMAT binary)", "")[0] == "0A000"

    class Failing(io.StringIO):
        def read(self, *args):
            raise RuntimeError("the source broke")
    with pytest.raises(psycopg2.Error) as e:
        cur.copy_expert("COPY crm.customers FROM STDIN", Failing())
    assert e.value.pgcode == "57014" and "the source broke" in str(e.value), str(e.value)
    assert len(rows()) == count

    # psycopg (3): rows written one by one, in its text format.
    with psycopg.connect(dsn(mesh), autocommit=True) as c3:
        with c3.cursor() as c:
            with c.copy("COPY crm.customers (id, name) FROM STDIN") as copy:
                copy.write_row((70, "tab\there"))
                copy.write_row((71, None))
            assert c.rowcount == 2
            c.execute("SELECT name FROM crm.customers WHERE id >= 70 ORDER BY id")
            assert [r[0] for r in c.fetchall()] == ["tab\there", None]
    # Writing at a tag is refused before any row is sent.
    mesh.cli("tag", "create", "crm", "v1", "main")
    assert copy_error('COPY crm."customers@v1" FROM STDIN', "")[0] == "25006"
    conn.close()


def test_statement_timeout_and_cancel(mesh):
    import threading
    slow = "SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = -1"
    conn = psycopg2.connect(dsn(mesh))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET statement_timeout = '300ms'")
    t0 = time.time()
    with pytest.raises(psycopg2.errors.QueryCanceled) as e:
        cur.execute(slow)
    assert time.time() - t0 < 10
    assert "statement timeout" in str(e.value)
    cur.execute("SET statement_timeout = 0")
    cur.execute("SELECT count(*) FROM sales.orders")  # the session goes on
    assert cur.fetchone() == (3,)
    # A CancelRequest from the client (another connection) stops the running statement.
    timer = threading.Timer(0.5, conn.cancel)
    timer.start()
    t0 = time.time()
    with pytest.raises(psycopg2.errors.QueryCanceled) as e:
        cur.execute(slow)
    assert time.time() - t0 < 10
    assert "user request" in str(e.value)
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)


def test_lakemesh_sql_shell(mesh, workdir):
    """`lakemesh sql` finds the server's SQL port itself; -c, -f, stdin, the three formats; with
    --data it opens a data directory no server holds."""
    r = mesh.cli("sql", "-c", "SELECT name, count(*) FROM crm.customers c JOIN sales.orders o "
                 "ON o.customer = c.id GROUP BY 1 ORDER BY 1")
    assert r.stdout.splitlines() == [" name  | count", "-------+-------", " Ada   |     2",
                                     " Grace |     1", "(2 rows)", ""], r.stdout
    r = mesh.cli("sql", "--format", "csv", "-c", "SELECT id, name FROM crm.customers ORDER BY id")
    assert r.stdout == "id,name\n10,Ada\n11,Grace\n"
    r = mesh.cli("sql", "--format", "json", "-c",
                 "SELECT id, amount, paid, ts FROM sales.orders WHERE id = 3")
    assert json.loads(r.stdout) == {"id": 3, "amount": 1.0, "paid": None,
                                    "ts": "2026-11-02 09:30:00+00"}
    path = os.path.join(workdir, "script.sql")
    with open(path, "w") as f:
        f.write("CREATE TABLE crm.notes (id BIGINT, note VARCHAR);\n"
                "INSERT INTO crm.notes\nVALUES (1, 'a;b');\nSELECT * FROM crm.notes;\n")
    r = mesh.cli("sql", "-f", path)
    assert r.stdout.splitlines()[:5] == ["CREATE TABLE", "INSERT 0 1", " id | note",
                                         "----+------", "  1 | a;b"], r.stdout
    # Statements on stdin; the first error stops and fails.
    r = mesh.cli("sql", check=False, input="SELECT 1 AS a;\nSELECT nope FROM crm.notes;\nSELECT 2;\n")
    assert r.returncode == 1
    assert " a" in r.stdout and " 2" not in r.stdout.splitlines()
    assert 'Referenced column "nope" not found' in r.stderr
    # COPY: rows from stdin (when -c gives the statement), rows to stdout.
    r = mesh.cli("sql", "-c", "COPY crm.notes FROM STDIN WITH (FORMAT csv)",
                 input="2,\"c,d\"\n3,\n")
    assert r.stdout.splitlines() == ["COPY 2"], r.stdout + r.stderr
    r = mesh.cli("sql", "-c", "COPY (SELECT * FROM crm.notes ORDER BY id) TO STDOUT")
    assert r.stdout.splitlines() == ["1\ta;b", "2\tc,d", "3\t\\N", "COPY 3"], r.stdout
    # --data refuses a directory in use, and opens it once the server is gone.
    r = mesh.cli("sql", "--data", mesh.data_dir, "-c", "SELECT 1", check=False)
    assert r.returncode == 1 and "in use by a running server" in r.stderr
    mesh.stop()
    r = mesh.cli("sql", "--data", mesh.data_dir, "--format", "csv", "-c",
                 "SELECT count(*) AS n FROM sales.\"orders@dev\"")
    assert r.stdout == "n\n4\n", r.stdout + r.stderr


def test_raw_objects_are_queryable_where_they_lie(mesh, workdir):
    """read_csv / read_json / read_parquet on s3:// URIs of plain buckets and of repositories at
    a ref, with globs; loading them into a table is a CREATE TABLE AS."""
    s3 = s3_client(mesh)
    s3.create_bucket(Bucket="landing")
    s3.put_object(Bucket="landing", Key="2026/a.csv", Body=b"id,qty\n1,5\n2,7\n")
    s3.put_object(Bucket="landing", Key="2026/b.csv", Body=b"id,qty\n3,1\n")
    s3.put_object(Bucket="landing", Key="2027/c.csv", Body=b"id,qty\n9,100\n")
    s3.put_object(Bucket="sales", Key="dev/raw/returns.json",
                  Body=b'[{"order": 1, "reason": "late"}, {"order": 3, "reason": "broken"}]')
    conn = psycopg2.connect(dsn(mesh))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*), sum(qty) FROM read_csv('s3://landing/2026/*.csv')")
    assert cur.fetchone() == (3, 13)
    cur.execute("SELECT sum(qty) FROM read_csv(['s3://landing/2026/a.csv', 's3://landing/2027/c.csv'])")
    assert cur.fetchone() == (112,)
    # A repository object is read at a ref; a join with a table works as any join.
    cur.execute("SELECT r.reason FROM read_json('s3://sales/dev/raw/returns.json') r "
                "JOIN sales.orders o ON o.id = r.\"order\" ORDER BY o.id")
    assert cur.fetchall() == [("late",), ("broken",)]
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("SELECT * FROM read_json('s3://sales/main/raw/returns.json')")  # not on main
    assert e.value.pgcode == "58P01"
    cur.execute("CREATE TABLE sales.landed AS SELECT * FROM read_csv('s3://landing/2026/*.csv')")
    cur.execute("SELECT count(*) FROM sales.landed")
    assert cur.fetchone() == (3,)
    # A new object under the glob is seen by the next query (no stale file list).
    s3.put_object(Bucket="landing", Key="2026/d.csv", Body=b"id,qty\n4,2\n")
    cur.execute("SELECT count(*) FROM read_csv('s3://landing/2026/*.csv')")
    assert cur.fetchone() == (4,)
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("SELECT * FROM read_csv('file:///etc/passwd')")
    assert e.value.pgcode == "42501"


def test_search_path_sets_the_domain_of_unqualified_names(mesh):
    conn = psycopg2.connect(dsn(mesh))
    conn.autocommit = True
    cur = conn.cursor()
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.execute("SELECT count(*) FROM customers")
    cur.execute('SET search_path TO "$user", crm, public')
    cur.execute("SELECT name FROM customers ORDER BY id")
    assert cur.fetchall() == [("Ada",), ("Grace",)]
    cur.execute("SHOW search_path")
    assert cur.fetchone() == ('"$user", crm, public',)
    cur.execute("CREATE TABLE vip AS SELECT * FROM customers WHERE id = 10")  # crm.vip
    cur.execute("SELECT count(*) FROM crm.vip")
    assert cur.fetchone() == (1,)
    cur.execute("SELECT count(*) FROM sales.orders o JOIN customers c ON o.customer = c.id")
    assert cur.fetchone() == (3,)
    cur.execute("SET search_path TO public")
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.execute("SELECT count(*) FROM customers")
    conn.close()


def test_server_side_cursors(mesh):
    """DECLARE / FETCH / CLOSE: psycopg2's named cursors and psycopg 3's server cursors read a
    result a batch at a time."""
    conn = psycopg2.connect(dsn(mesh))
    cur = conn.cursor(name="batches")
    cur.itersize = 2
    cur.execute("SELECT i, 'row ' || i AS s FROM range(5) t(i) ORDER BY i")
    assert cur.fetchmany(2) == [(0, "row 0"), (1, "row 1")]
    assert cur.fetchone() == (2, "row 2")
    assert cur.fetchall() == [(3, "row 3"), (4, "row 4")]
    assert [d.name for d in cur.description] == ["i", "s"]
    cur.close()
    # Iterating fetches itersize rows per round trip.
    cur = conn.cursor(name="iter")
    cur.itersize = 3
    cur.execute("SELECT id FROM sales.orders ORDER BY id")
    assert [r[0] for r in cur] == [1, 2, 3]
    cur.close()
    conn.commit()
    # By hand: FETCH forms, CLOSE, and the errors of PostgreSQL for the same mistakes.
    c2 = conn.cursor()
    c2.execute("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT i FROM range(10) t(i) ORDER BY i")
    conn.commit()  # WITH HOLD: it outlives the transaction
    c2.execute("FETCH FORWARD 3 FROM c")
    assert c2.fetchall() == [(0,), (1,), (2,)] and c2.statusmessage == "FETCH 3"
    c2.execute("FETCH NEXT FROM c")
    assert c2.fetchall() == [(3,)]
    c2.execute("FETCH ALL IN c")
    assert len(c2.fetchall()) == 6
    c2.execute("FETCH 5 FROM c")
    assert c2.fetchall() == [] and c2.statusmessage == "FETCH 0"
    with pytest.raises(psycopg2.errors.FeatureNotSupported):
        c2.execute("FETCH PRIOR FROM c")
    conn.rollback()
    c2.execute("CLOSE c")
    with pytest.raises(psycopg2.errors.InvalidCursorName):
        c2.execute("FETCH 1 FROM c")
    conn.rollback()
    c2.execute("DECLARE d CURSOR FOR SELECT 1")
    conn.commit()  # without HOLD it closes with its transaction
    with pytest.raises(psycopg2.errors.InvalidCursorName):
        c2.execute("FETCH 1 FROM d")
    conn.close()
    with psycopg.connect(dsn(mesh)) as conn3:
        with conn3.cursor(name="p3") as cur3:
            cur3.itersize = 2
            cur3.execute("SELECT i FROM range(5) t(i) WHERE i >= %s ORDER BY i", (1,))
            assert [r[0] for r in cur3] == [1, 2, 3, 4]


def test_pandas_reads_sql(mesh):
    """pandas.read_sql over psycopg2, as notebooks do: typed columns, NULLs as NaN/None."""
    import warnings
    import pandas as pd
    conn = psycopg2.connect(dsn(mesh))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas prefers SQLAlchemy; a DBAPI connection works
        df = pd.read_sql("SELECT o.id, c.name, o.amount, o.paid, o.ts FROM sales.orders o "
                         "JOIN crm.customers c ON o.customer = c.id ORDER BY o.id", conn)
        params = pd.read_sql("SELECT id FROM sales.orders WHERE amount > %(min)s ORDER BY id",
                             conn, params={"min": 2})
    assert list(df.columns) == ["id", "name", "amount", "paid", "ts"]
    assert df["id"].tolist() == [1, 2, 3] and str(df["id"].dtype) == "int64"
    assert df["name"].tolist() == ["Ada", "Grace", "Ada"]
    assert [float(a) for a in df["amount"]] == [5.5, 7.25, 1.0]
    assert df["paid"].tolist()[:2] == [True, False] and df["paid"].tolist()[2] is None
    assert str(df["ts"][0]) == "2026-11-01 10:00:00+00:00"
    assert params["id"].tolist() == [1, 2]
    conn.close()


@pytest.mark.filterwarnings("ignore:Deprecated API features")  # pandas on SQLAlchemy 1.4
def test_sqlalchemy_and_pandas_write_and_reflect(mesh):
    """SQLAlchemy's PostgreSQL dialect (python3-sqlalchemy) over psycopg2, as notebooks use it:
    it connects (it parses version()), pandas writes DataFrames with to_sql (create, append,
    replace) and reads them back, the inspector and Table reflection list schemas, tables and
    columns, and Core statements run in a transaction with schema-qualified columns."""
    import pandas as pd
    import sqlalchemy as sa
    host, port = mesh.ports["pg"].rsplit(":", 1)
    eng = sa.create_engine("postgresql+psycopg2://%s:%s@%s:%s/lakemesh" % (KEY_ID, SECRET, host,
                                                                          port))
    with eng.connect() as c:
        version = c.execute(sa.text("SELECT version()")).scalar()
        assert version.startswith("PostgreSQL 16.0 (lakemesh)"), version
        assert c.execute(sa.text("SHOW TRANSACTION ISOLATION LEVEL")).scalar() == "read committed"
    assert eng.dialect.server_version_info[:2] == (16, 0)
    with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("CREATE SCHEMA ops"))
    df = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", None], "amount": [1.5, 2.25, None],
                       "ok": [True, False, True],
                       "ts": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"])})
    assert df.to_sql("events", eng, schema="ops", index=False) == 3
    back = pd.read_sql("SELECT * FROM ops.events ORDER BY id", eng)
    assert back["name"].tolist() == ["a", "b", None]
    assert back["amount"].tolist()[:2] == [1.5, 2.25] and pd.isna(back["amount"][2])
    assert str(back["ts"][2]) == "2026-01-03 00:00:00"
    df.to_sql("events", eng, schema="ops", index=False, if_exists="append")
    assert len(pd.read_sql_table("events", eng, schema="ops")) == 6
    df.head(1).to_sql("events", eng, schema="ops", index=False, if_exists="replace")
    assert pd.read_sql("SELECT count(*) AS n FROM ops.events", eng)["n"][0] == 1

    insp = sa.inspect(eng)
    assert "ops" in insp.get_schema_names() and "lakemesh_pg" not in insp.get_schema_names()
    assert insp.get_table_names(schema="ops") == ["events"]
    assert [(c["name"], str(c["type"])) for c in insp.get_columns("events", schema="ops")] == [
        ("id", "BIGINT"), ("name", "TEXT"), ("amount", "DOUBLE_PRECISION"), ("ok", "BOOLEAN"),
        ("ts", "TIMESTAMP")]
    assert insp.get_indexes("events", schema="ops") == []
    t = sa.Table("events", sa.MetaData(), schema="ops", autoload_with=eng)
    with eng.begin() as c:  # one transaction: Core writes ops.events.id-style columns
        c.execute(t.insert(), [{"id": 7, "name": "x"}, {"id": 8, "name": "z"}])
        assert c.execute(sa.select(t.c.id).where(t.c.id > 1).order_by(t.c.id)).all() == [(7,), (8,)]
        assert c.execute(t.update().where(t.c.id == 7).values(name="y")).rowcount == 1
        assert c.execute(t.delete().where(t.c.id == 8)).rowcount == 1
    assert pd.read_sql("SELECT id, name FROM ops.events ORDER BY id", eng).values.tolist() == [
        [1, "a"], [7, "y"]]
    eng.dispose()


def test_discard_all_resets_a_pooled_session(mesh):
    """DISCARD ALL, which connection poolers (pgbouncer) run between clients, returns the session
    to how it connected: settings and ref reset, and the protocol's prepared statements
    forgotten, so the next client may prepare statements of the same names."""
    from psycopg import pq
    with psycopg.connect(dsn(mesh), autocommit=True) as c:
        q = "SELECT count(*) FROM sales.orders WHERE id > %s"
        assert c.execute(q, (0,), prepare=True).fetchone()[0] == 3
        c.execute("SET lakemesh.ref = 'dev'")
        c.execute("SET search_path = sales")
        assert c.execute("SELECT count(*) FROM orders").fetchone()[0] == 4
        assert c.execute("DISCARD ALL").statusmessage == "DISCARD ALL"
        assert c.execute("SHOW lakemesh.ref").fetchone()[0] == "main"
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("SELECT count(*) FROM orders")
        # psycopg still holds its statement; the server forgot it, as PostgreSQL does.
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            c.execute(q, (1,), prepare=True)

        def prepare(name):
            return c.pgconn.prepare(name, b"SELECT 1").status == pq.ExecStatus.COMMAND_OK
        assert prepare(b"_pg3_0")  # the name is free again
        assert not prepare(b"_pg3_0")  # ... and now taken (42P05)
        assert c.execute("DEALLOCATE ALL").statusmessage == "DEALLOCATE ALL"
        assert prepare(b"_pg3_0")
        assert c.execute("DEALLOCATE _pg3_0").statusmessage == "DEALLOCATE"
        assert prepare(b"_pg3_0")
        c.execute("BEGIN")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            c.execute("DISCARD ALL")


def test_copy_query_results_to_objects(mesh):
    """COPY (query) TO 's3://...' writes one object: into a plain bucket, or staged on a
    repository branch as an S3 upload is; a tag is refused."""
    s3 = s3_client(mesh)
    s3.create_bucket(Bucket="exports")
    conn = psycopg2.connect(dsn(mesh))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("COPY (SELECT id, amount FROM sales.orders ORDER BY id) TO "
                "'s3://exports/orders.csv' (FORMAT csv, HEADER true)")
    assert cur.statusmessage == "COPY 3"
    body = s3.get_object(Bucket="exports", Key="orders.csv")["Body"].read().decode()
    assert body == "id,amount\n1,5.50\n2,7.25\n3,1.00\n"
    cur.execute("COPY (SELECT * FROM crm.customers) TO 's3://sales/dev/exports/customers.parquet' "
                "(FORMAT parquet)")
    cur.execute("SELECT count(*) FROM read_parquet('s3://sales/dev/exports/customers.parquet')")
    assert cur.fetchone() == (2,)
    assert "exports/customers.parquet" in mesh.cli("status", "sales", "dev").stdout
    mesh.cli("tag", "create", "sales", "t1", "main")
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("COPY (SELECT 1) TO 's3://sales/t1/x.csv'")
    assert e.value.pgcode == "25006"
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("COPY (SELECT 1) TO 's3://exports/x' (FORMAT csv, PARTITION_BY (a))")
    assert e.value.pgcode == "0A000"


def test_tls_with_password_authentication(workdir):
    """With --pg-tls-cert/--pg-tls-key the server answers SSLRequest with TLS and takes the
    password over it; without TLS a client still gets SCRAM."""
    from conftest import BIN, Server
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    # A key that does not match fails at start, clearly.
    r = subprocess.run([BIN, "serve", "--data", os.path.join(workdir, "bad"), "--http",
                        "127.0.0.1:0", "--s3", "127.0.0.1:0", "--pg", "127.0.0.1:0",
                        "--pg-tls-cert", cert, "--pg-tls-key", cert],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "TLS certificate" in r.stderr, r.stderr
    srv = Server(os.path.join(workdir, "data"), ["--pg-tls-cert", cert, "--pg-tls-key", key]).start()
    try:
        for mode, tls in (("require", True), ("disable", False)):
            conn = psycopg2.connect(dsn(srv) + " sslmode=" + mode)
            assert conn.info.ssl_in_use is tls
            cur = conn.cursor()
            cur.execute("SELECT 41 + 1")
            assert cur.fetchone() == (42,)
            conn.close()
        host, port = srv.ports["pg"].rsplit(":", 1)
        r = subprocess.run(["psql", "host=%s port=%s user=%s dbname=x sslmode=require" % (
            host, port, KEY_ID), "-c", "\\conninfo"], capture_output=True, text=True,
            env=dict(os.environ, PGPASSWORD=SECRET), timeout=30)
        assert "SSL connection (protocol: TLSv1." in r.stdout, r.stdout + r.stderr
        with pytest.raises(psycopg2.OperationalError) as e:
            psycopg2.connect(dsn(srv).replace(SECRET, "wrong") + " sslmode=require")
        assert "password authentication failed" in str(e.value)
    finally:
        srv.stop()


def test_engine_limits_from_serve_flags(workdir):
    from conftest import Server
    srv = Server(os.path.join(workdir, "data"), ["--sql-memory-limit", "200MB",
                                                 "--sql-threads", "1"]).start()
    try:
        conn = psycopg2.connect(dsn(srv))
        cur = conn.cursor()
        cur.execute("SELECT current_setting('memory_limit'), current_setting('threads')")
        limit, threads = cur.fetchone()
        assert limit.endswith("MiB") and 150 < float(limit.split()[0]) <= 200, limit
        assert str(threads) == "1"
        conn.close()
    finally:
        srv.stop()
    r = subprocess.run([os.environ.get("LAKEMESH_BIN") or os.path.join(HERE, "..", "..", "build",
                                                                         "lakemesh"),
                        "serve", "--data", os.path.join(workdir, "x"), "--sql-threads", "-1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--sql-threads" in r.stderr


def test_pg_dump_script_loads_its_tables(server):
    """A plain pg_dump script of a PostgreSQL 15 schema (fixtures/pg_dump_shop.sql: its SET
    lines and set_config, CREATE SCHEMA/TABLE, COPY ... FROM stdin with an array column) run
    with psql loads its tables; what an Iceberg table has no place for (sequences, defaults,
    constraints) fails with a message saying so, and nothing else does."""
    r = psql(server, "-v", "ON_ERROR_STOP=0", "-f", os.path.join(HERE, "fixtures",
                                                                   "pg_dump_shop.sql"))
    errors = [l.split("ERROR:", 1)[1].strip() for l in r.stderr.splitlines() if "ERROR:" in l]
    assert errors == [
        "CREATE SEQUENCE is not supported",
        "ALTER SEQUENCE is not supported (ALTER TABLE is)",
        "ALTER TABLE supports ADD COLUMN, DROP COLUMN, RENAME COLUMN and RENAME TO",
        "Scalar Function with name setval does not exist!",
    ] + ["table constraints are not supported: an Iceberg table holds none (NOT NULL is "
         "declared with a column)"] * 3, r.stderr
    conn = psycopg2.connect(dsn(server))
    cur = conn.cursor()
    cur.execute("SELECT id, customer, amount, placed, tags FROM shop.orders ORDER BY id")
    rows = cur.fetchall()
    assert [(i, c, str(a), p.isoformat(), t) for i, c, a, p, t in rows] == [
        (1, "Ada", "5.50", "2026-11-01T10:00:00+00:00", ["a", "b"]),
        (2, "Grace", "None", "2026-11-02T11:00:00+00:00", None)]
    cur.execute("SELECT id, order_id, sku FROM shop.items ORDER BY id")
    assert cur.fetchall() == [(1, 1, "x-1"), (2, 1, 'y"2')]
    conn.close()
    assert " set_config " in r.stdout  # SELECT pg_catalog.set_config('search_path', '', false)
