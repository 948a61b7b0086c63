#!/usr/bin/python3
"""SQL figures of issue #5, each against its baseline in the same run:

  - analytics: a synthetic star schema (a fact table of --rows rows, four dimensions) and 12
    analytic queries, through lakemesh over the PostgreSQL wire protocol, against DuckDB run
    in-process on the same Parquet files (target: <= 1.10x; lakemesh runs with its table cache
    off for this) and against PostgreSQL 15 holding the same rows with indexes on the join
    keys (target: lakemesh >= 20x faster; both on files and with the table cache warm, as
    PostgreSQL's own buffers are);
  - `SELECT 1` with pgbench, 8 clients, against PostgreSQL (target: >= 0.5x its tps);
  - streaming the fact table to psql, as COPY ... TO STDOUT and as a plain SELECT, against
    PostgreSQL (target: >= 0.8x its rows/s);
  - loading 1 M rows from a CSV file with psql's \\copy (COPY ... FROM STDIN), against
    PostgreSQL (no target).

Needs postgresql-15 (initdb, pg_ctl, pgbench) and psycopg2. PostgreSQL runs as the `postgres`
user in a scratch cluster on a free port. Usage:
  /usr/bin/python3 bench/sql_bench.py --bin build/lakemesh [--rows 10000000] [--runs 3]
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2
import requests

sys.path.insert(0, os.path.dirname(__file__))
from bench_util import KEY, SECRET, free_port, start_lakemesh, wait_port  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"

DIMENSIONS = {
    "dates": "SELECT CAST(i AS INTEGER) AS date_id, CAST(DATE '2020-01-01' + CAST(i AS INTEGER) "
             "AS DATE) AS day, CAST(year(DATE '2020-01-01' + CAST(i AS INTEGER)) AS INTEGER) AS "
             "year, CAST(month(DATE '2020-01-01' + CAST(i AS INTEGER)) AS INTEGER) AS month, "
             "CAST(dayofweek(DATE '2020-01-01' + CAST(i AS INTEGER)) AS INTEGER) AS dow "
             "FROM range(0, 1826) t(i)",
    "products": "SELECT CAST(i AS INTEGER) AS product_id, 'cat' || (i % 20) AS category, "
                "'brand' || (i % 200) AS brand, CAST(5 + (i % 500) AS DECIMAL(10,2)) AS "
                "list_price FROM range(0, 10000) t(i)",
    "stores": "SELECT CAST(i AS INTEGER) AS store_id, 'region' || (i % 8) AS region, "
              "'city' || (i % 100) AS city FROM range(0, 500) t(i)",
    "customers": "SELECT CAST(i AS INTEGER) AS customer_id, 'seg' || (i % 5) AS segment, "
                 "'country' || (i % 40) AS country FROM range(0, 200000) t(i)",
}
FACT = ("SELECT i AS sale_id, CAST(hash(i) % 1826 AS INTEGER) AS date_id, "
        "CAST(hash(i * 3) % 10000 AS INTEGER) AS product_id, "
        "CAST(hash(i * 7) % 500 AS INTEGER) AS store_id, "
        "CAST(hash(i * 11) % 200000 AS INTEGER) AS customer_id, "
        "CAST(1 + hash(i * 13) % 10 AS INTEGER) AS quantity, "
        "CAST((hash(i * 17) % 100000) / 100.0 AS DECIMAL(10,2)) AS price, "
        "CAST((hash(i * 19) % 30) / 100.0 AS DECIMAL(4,2)) AS discount "
        "FROM range(0, {rows}) t(i)")
PG_TABLES = {
    "dates": "date_id INTEGER PRIMARY KEY, day DATE, year INTEGER, month INTEGER, dow INTEGER",
    "products": "product_id INTEGER PRIMARY KEY, category TEXT, brand TEXT, "
                "list_price NUMERIC(10,2)",
    "stores": "store_id INTEGER PRIMARY KEY, region TEXT, city TEXT",
    "customers": "customer_id INTEGER PRIMARY KEY, segment TEXT, country TEXT",
    "sales": "sale_id BIGINT, date_id INTEGER, product_id INTEGER, store_id INTEGER, "
             "customer_id INTEGER, quantity INTEGER, price NUMERIC(10,2), discount NUMERIC(4,2)",
}
PG_INDEXES = ["CREATE INDEX ON sales (date_id)", "CREATE INDEX ON sales (product_id)",
              "CREATE INDEX ON sales (store_id)", "CREATE INDEX ON sales (customer_id)"]

# Portable SQL (DuckDB and PostgreSQL); {p} is the schema prefix ("star." in lakemesh).
QUERIES = [
    "SELECT d.year, sum(s.quantity * s.price) AS revenue FROM {p}sales s JOIN {p}dates d "
    "ON s.date_id = d.date_id GROUP BY d.year ORDER BY d.year",
    "SELECT p.category, st.region, sum(s.quantity * s.price * (1 - s.discount)) AS net "
    "FROM {p}sales s JOIN {p}products p ON s.product_id = p.product_id JOIN {p}stores st "
    "ON s.store_id = st.store_id GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20",
    "SELECT p.product_id, p.brand, sum(s.quantity) AS units FROM {p}sales s JOIN {p}products p "
    "ON s.product_id = p.product_id GROUP BY 1, 2 ORDER BY units DESC, p.product_id LIMIT 10",
    "WITH m AS (SELECT d.year, d.month, sum(s.quantity * s.price) AS revenue FROM {p}sales s "
    "JOIN {p}dates d ON s.date_id = d.date_id GROUP BY 1, 2) SELECT year, month, revenue, "
    "sum(revenue) OVER (PARTITION BY year ORDER BY month) AS ytd FROM m ORDER BY 1, 2",
    "SELECT count(*), sum(s.price) FROM {p}sales s JOIN {p}dates d ON s.date_id = d.date_id "
    "JOIN {p}stores st ON s.store_id = st.store_id WHERE d.year = 2022 AND d.month = 6 "
    "AND st.region = 'region3'",
    "SELECT c.segment, count(DISTINCT s.customer_id) FROM {p}sales s JOIN {p}customers c "
    "ON s.customer_id = c.customer_id GROUP BY 1 ORDER BY 1",
    "SELECT p.brand, avg(s.discount) AS d, count(*) FROM {p}sales s JOIN {p}products p "
    "ON s.product_id = p.product_id GROUP BY p.brand HAVING count(*) > 1000 "
    "ORDER BY d DESC, p.brand LIMIT 10",
    "SELECT * FROM (SELECT st.region, st.store_id, sum(s.quantity * s.price) AS revenue, "
    "rank() OVER (PARTITION BY st.region ORDER BY sum(s.quantity * s.price) DESC) AS r "
    "FROM {p}sales s JOIN {p}stores st ON s.store_id = st.store_id GROUP BY 1, 2) x "
    "WHERE r <= 3 ORDER BY region, r",
    "SELECT d.year, p.category, st.region, c.segment, sum(s.quantity) AS units "
    "FROM {p}sales s JOIN {p}dates d ON s.date_id = d.date_id JOIN {p}products p "
    "ON s.product_id = p.product_id JOIN {p}stores st ON s.store_id = st.store_id "
    "JOIN {p}customers c ON s.customer_id = c.customer_id WHERE d.dow IN (0, 6) "
    "GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4 LIMIT 20",
    "SELECT d.dow, avg(s.quantity * s.price) FROM {p}sales s JOIN {p}dates d "
    "ON s.date_id = d.date_id GROUP BY 1 ORDER BY 1",
    "SELECT s.customer_id, count(*) AS orders FROM {p}sales s GROUP BY 1 "
    "ORDER BY orders DESC, 1 LIMIT 10",
    "SELECT count(*) FROM {p}sales WHERE price > 900 AND quantity >= 9",
]


def timed(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def connect_lakemesh(port):
    conn = psycopg2.connect("host=127.0.0.1 port=%d user=%s password=%s dbname=bench"
                            % (port, KEY, SECRET))
    conn.autocommit = True
    return conn


def wait_for_cache(http_port, tables, timeout=300):
    """Waits until lakemesh's table cache holds `tables` table versions (its /metrics), or the
    timeout; returns (tables, bytes)."""
    deadline = time.time() + timeout
    got = (0, 0)
    while time.time() < deadline:
        text = requests.get("http://127.0.0.1:%d/metrics" % http_port).text
        values = {}
        for line in text.splitlines():
            if line.startswith("lakemesh_sql_table_cache_"):
                name, value = line.split()
                values[name] = float(value)
        got = (int(values.get("lakemesh_sql_table_cache_tables", 0)),
               values.get("lakemesh_sql_table_cache_bytes", 0))
        if got[0] >= tables:
            return got
        time.sleep(0.5)
    return got


def run_queries(conn, prefix, runs):
    cur = conn.cursor()
    out = []
    for q in QUERIES:
        sql = q.format(p=prefix)
        out.append(timed(lambda: (cur.execute(sql), cur.fetchall()), runs))
    return out


def start_postgres(scratch, procs):
    data = os.path.join(scratch, "pg")
    os.makedirs(data)
    shutil.chown(scratch, "postgres")
    shutil.chown(data, "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [PG_BIN + "/initdb", "-D", data, "-A", "trust", "-U", "postgres",
                            "--no-sync"], check=True, stdout=subprocess.DEVNULL)
    # Settings for an analytic load on this machine: parallel workers on both cores, enough
    # memory for hash joins and sorts.
    with open(os.path.join(data, "postgresql.auto.conf"), "a") as f:
        f.write("shared_buffers = '2GB'\nwork_mem = '256MB'\nmax_parallel_workers_per_gather = 2\n"
                "effective_cache_size = '8GB'\nfsync = off\nsynchronous_commit = off\n"
                "max_wal_size = '4GB'\nlisten_addresses = '127.0.0.1'\nport = %d\n"
                "unix_socket_directories = '%s'\n" % (port, scratch))
    proc = subprocess.Popen(as_pg + [PG_BIN + "/postgres", "-D", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(proc)
    wait_port(port)
    time.sleep(0.5)
    return port


def psql_env(password=None):
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pgbench-seconds", type=int, default=10)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.dirname(os.path.abspath(args.bin))
    scratch = tempfile.mkdtemp(prefix="lm-sqlbench-", dir=os.path.join(build))
    procs = []
    try:
        # First without the table cache: lakemesh reading the tables' Parquet files, the same
        # files DuckDB reads in-process below.
        ports = start_lakemesh(args.bin, scratch, procs, ["--sql-cache-size", "0"])
        wait_port(ports["pg"])
        lm = connect_lakemesh(ports["pg"])
        cur = lm.cursor()
        t0 = time.perf_counter()
        cur.execute("CREATE SCHEMA star")
        for name, sql in DIMENSIONS.items():
            cur.execute("CREATE TABLE star.%s AS %s" % (name, sql))
        cur.execute("CREATE TABLE star.sales AS " + FACT.format(rows=args.rows))
        print("generated the star schema in lakemesh (%d fact rows): %.1f s"
              % (args.rows, time.perf_counter() - t0))

        # The same Parquet files for DuckDB: the tables' data files, found in the blob store.
        token = requests.post("http://127.0.0.1:%d/iceberg/v1/oauth/tokens" % ports["http"],
                              data={"grant_type": "client_credentials", "client_id": KEY,
                                    "client_secret": SECRET}).json()["access_token"]
        by_name = {}
        for path in glob.glob(os.path.join(scratch, "lm", "blobs", "**", "*.parquet"),
                              recursive=True):
            by_name[os.path.basename(path)] = path
        setup = []
        files_total = 0
        for table in list(DIMENSIONS) + ["sales"]:
            plan = requests.post(
                "http://127.0.0.1:%d/iceberg/v1/main/namespaces/star/tables/%s/plan"
                % (ports["http"], table), json={},
                headers={"Authorization": "Bearer " + token}).json()
            files = [by_name[os.path.basename(t["data-file"]["file-path"])]
                     for t in plan["file-scan-tasks"]]
            files_total += len(files)
            setup.append("CREATE VIEW %s AS SELECT * FROM read_parquet([%s]);" % (
                table, ", ".join("'%s'" % f for f in files)))
        setup_file = os.path.join(scratch, "setup.sql")
        queries_file = os.path.join(scratch, "queries.sql")
        with open(setup_file, "w") as f:
            f.write("\n".join(setup))
        with open(queries_file, "w") as f:
            f.write("\n".join(q.format(p="") for q in QUERIES) + "\n")

        print("\n== analytics: %d queries, median of %d runs each (ms)" % (len(QUERIES), args.runs))
        lm_times = run_queries(lm, "star.", args.runs)
        # Then as lakemesh runs by default: tables read again and again are kept in memory (the
        # table cache). A restart on the same data; the first passes fill the cache.
        lm.close()
        first = procs.pop()
        first.terminate()
        first.wait(30)
        ports = start_lakemesh(args.bin, scratch, procs)
        wait_port(ports["pg"])
        lm = connect_lakemesh(ports["pg"])
        t0 = time.perf_counter()
        warm = lm.cursor()
        for _ in range(2):
            for q in QUERIES:
                warm.execute(q.format(p="star."))
                warm.fetchall()
        tables = wait_for_cache(ports["http"], len(DIMENSIONS) + 1)
        print("table cache: %d tables, %.0f MB in memory, filled in %.1f s"
              % (tables[0], tables[1] / 1e6, time.perf_counter() - t0))
        cached_times = run_queries(lm, "star.", args.runs)
        threads = str(os.cpu_count())
        raw = subprocess.run([os.path.join(build, "bench", "duckdb_queries"), setup_file,
                              queries_file, str(args.runs), threads],
                             capture_output=True, text=True, check=True).stdout
        duck_times = [float(line.split()[1]) / 1000 for line in raw.splitlines()]

        pg_port = start_postgres(scratch, procs)
        pg_dsn = "host=127.0.0.1 port=%d user=postgres dbname=postgres" % pg_port
        pg = psycopg2.connect(pg_dsn)
        pg.autocommit = True
        pcur = pg.cursor()
        t0 = time.perf_counter()
        for name, cols in PG_TABLES.items():
            pcur.execute("CREATE TABLE %s (%s)" % (name, cols))
            # Rows straight from lakemesh: COPY TO STDOUT piped into COPY FROM STDIN.
            src = subprocess.Popen(
                ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(ports["pg"]), "-U", KEY, "-d",
                 "x", "-c", "COPY star.%s TO STDOUT" % name],
                stdout=subprocess.PIPE, env=psql_env(SECRET))
            pcur.copy_expert("COPY %s FROM STDIN" % name, src.stdout)
            src.wait()
        for ix in PG_INDEXES:
            pcur.execute(ix)
        pcur.execute("VACUUM ANALYZE")
        print("loaded PostgreSQL 15 with indexes on the join keys: %.1f s"
              % (time.perf_counter() - t0))
        pg_times = run_queries(pg, "", args.runs)
        print("%-4s %12s %12s %12s %12s %10s %10s %10s" % (
            "q", "lm files", "lm cached", "duckdb", "postgres", "lm/duck", "pg/lm", "pg/cached"))
        for i, (a, m, b, c) in enumerate(zip(lm_times, cached_times, duck_times, pg_times)):
            print("%-4s %12.1f %12.1f %12.1f %12.1f %10.2f %10.1f %10.1f" % (
                "q%d" % (i + 1), a * 1000, m * 1000, b * 1000, c * 1000, a / b, c / a, c / m))
        lm_total, duck_total, pg_total = sum(lm_times), sum(duck_times), sum(pg_times)
        cached_total = sum(cached_times)
        print("total %11.1f %12.1f %12.1f %12.1f %10.2f %10.1f %10.1f"
              % (lm_total * 1000, cached_total * 1000, duck_total * 1000, pg_total * 1000,
                 lm_total / duck_total, pg_total / lm_total, pg_total / cached_total))
        print("(targets: lakemesh on the files / DuckDB on the same files <= 1.10; "
              "PostgreSQL / lakemesh >= 20)")

        print("\n== SELECT 1 with pgbench, 8 clients, %d s" % args.pgbench_seconds)
        script = os.path.join(scratch, "select1.sql")
        with open(script, "w") as f:
            f.write("SELECT 1;\n")

        def pgbench(port, user, password):
            out = subprocess.run(
                ["pgbench", "-n", "-c", "8", "-j", "2", "-T", str(args.pgbench_seconds), "-f",
                 script, "-h", "127.0.0.1", "-p", str(port), "-U", user, "postgres"],
                capture_output=True, text=True, env=psql_env(password), check=True).stdout
            return float([l for l in out.splitlines() if l.startswith("tps")][0].split()[2])

        lm_tps = pgbench(ports["pg"], KEY, SECRET)
        pg_tps = pgbench(pg_port, "postgres", None)
        print("lakemesh %.0f tps, PostgreSQL %.0f tps: %.2fx (target >= 0.5)"
              % (lm_tps, pg_tps, lm_tps / pg_tps))
        # SELECT 1 is answered from rows computed once (a constant query); a lookup in a small
        # table runs in DuckDB every time, so it shows the per-query cost of the engine.
        with open(script, "w") as f:
            f.write("\\set id random(0, 1825)\nSELECT day FROM {p}dates WHERE date_id = :id;\n")
        text = open(script).read()
        with open(script, "w") as f:
            f.write(text.format(p="star."))
        lm_tps = pgbench(ports["pg"], KEY, SECRET)
        with open(script, "w") as f:
            f.write(text.format(p=""))
        pg_tps = pgbench(pg_port, "postgres", None)
        print("point lookup in a 1,826-row table: lakemesh %.0f tps, PostgreSQL %.0f tps "
              "(primary key): %.2fx (no target)" % (lm_tps, pg_tps, lm_tps / pg_tps))

        print("\n== streaming %d rows to psql" % args.rows)

        def stream(port, user, password, sql, runs=3):
            def once():
                subprocess.run(["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(port),
                                "-U", user, "-d", "postgres", "-c", sql],
                               stdout=subprocess.DEVNULL, env=psql_env(password), check=True)
            return timed(once, runs)

        for label, lm_sql, pg_sql in [
                ("COPY TO STDOUT", "COPY star.sales TO STDOUT", "COPY sales TO STDOUT"),
                ("SELECT *", "SELECT * FROM star.sales", "SELECT * FROM sales")]:
            a = stream(ports["pg"], KEY, SECRET, lm_sql)
            b = stream(pg_port, "postgres", None, pg_sql)
            print("%-15s lakemesh %.2f s (%.2f M rows/s), PostgreSQL %.2f s (%.2f M rows/s): "
                  "%.2fx (target >= 0.8)" % (label, a, args.rows / a / 1e6, b,
                                            args.rows / b / 1e6, b / a))

        # Loading: psql's \copy of a CSV file (COPY ... FROM STDIN), into a new table of each.
        load_rows = min(args.rows, 1_000_000)
        print("\n== loading %d rows from a CSV file with psql's \\copy" % load_rows)
        csv_path = os.path.join(scratch, "load.csv")
        with open(csv_path, "w") as f:
            for i in range(load_rows):
                f.write("%d,%d,%d.%02d,customer %d\n" % (i, i % 1000, i % 500, i % 100, i % 200000))
        lm.cursor().execute("CREATE TABLE star.loaded (id BIGINT, k INTEGER, amount DECIMAL(9,2), "
                    "name VARCHAR)")
        pcur.execute("CREATE TABLE loaded (id BIGINT, k INTEGER, amount NUMERIC(9,2), name TEXT)")
        copy_in = "\\copy %s FROM '" + csv_path + "' WITH (FORMAT csv)"
        a = stream(ports["pg"], KEY, SECRET, copy_in % "star.loaded")
        b = stream(pg_port, "postgres", None, copy_in % "loaded")
        print("\\copy FROM       lakemesh %.2f s (%.2f M rows/s), PostgreSQL %.2f s (%.2f M rows/s): "
              "%.2fx (no target)" % (a, load_rows / a / 1e6, b, load_rows / b / 1e6, b / a))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
