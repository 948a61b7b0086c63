#!/usr/bin/python3
"""Trino protocol figures of issue #6, each against its baseline in the same run:

  - a 1,000,000-row result streamed through the Trino protocol (POST /v1/statement, then the
    pages at nextUri, each parsed with json.loads) against the same query over the PostgreSQL
    wire protocol (psycopg2, every value left as the text libpq received, so that neither
    client spends time converting decimals and dates) from the same Python process
    (target: >= 0.8x its rows/s);
  - time to the first row of `SELECT 1` through the Trino protocol (POST, then GETs until a
    page has data), p50 over keep-alive connections (target: < 5 ms).

Usage: /usr/bin/python3 bench/trino_bench.py --bin build/lakemesh [--rows 1000000] [--runs 5]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import psycopg2
import requests

sys.path.insert(0, os.path.dirname(__file__))
from bench_util import KEY, SECRET, start_lakemesh, wait_port  # noqa: E402


def trino_rows(session, url, sql):
    r = session.post(url + "/v1/statement", data=sql.encode(),
                     headers={"X-Trino-User": "bench"})
    doc = r.json()
    rows = 0
    while True:
        rows += len(doc.get("data", ()))
        if "error" in doc:
            raise RuntimeError(doc["error"]["message"])
        nxt = doc.get("nextUri")
        if not nxt:
            return rows
        doc = json.loads(session.get(nxt).content)


def pg_rows(dsn, sql):
    conn = psycopg2.connect(dsn)
    as_text = psycopg2.extensions.new_type((20, 25, 1700, 1082, 16), "TEXT", lambda v, c: v)
    psycopg2.extensions.register_type(as_text, conn)
    cur = conn.cursor()
    cur.execute(sql)
    rows = len(cur.fetchall())
    cur.close()
    conn.close()
    return rows


def first_row_ms(session, url):
    t0 = time.perf_counter()
    r = session.post(url + "/v1/statement", data=b"SELECT 1", headers={"X-Trino-User": "bench"})
    doc = r.json()
    while "data" not in doc:
        doc = session.get(doc["nextUri"]).json()
    ms = (time.perf_counter() - t0) * 1000
    while doc.get("nextUri"):
        doc = session.get(doc["nextUri"]).json()
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pings", type=int, default=500)
    args = ap.parse_args()
    build = os.path.dirname(os.path.abspath(args.bin))
    scratch = tempfile.mkdtemp(prefix="lm-trinobench-", dir=build)
    procs = []
    try:
        ports = start_lakemesh(args.bin, scratch, procs)
        wait_port(ports["pg"])
        url = "http://127.0.0.1:%d" % ports["http"]
        dsn = "host=127.0.0.1 port=%d user=%s password=%s dbname=bench" % (ports["pg"], KEY, SECRET)
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("CREATE SCHEMA bench")
        cur.execute("CREATE TABLE bench.t AS SELECT i AS id, 'name ' || i AS name, "
                    "CAST(i * 0.25 AS DECIMAL(12,2)) AS amount, "
                    "DATE '2026-01-01' + CAST(i %% 365 AS INTEGER) AS day, i %% 2 = 0 AS even "
                    "FROM range(%d) t(i)" % args.rows)
        conn.close()
        sql = "SELECT * FROM bench.t"
        session = requests.Session()
        session.auth = (KEY, SECRET)

        print("== %d rows (5 columns: bigint, varchar, decimal, date, boolean), median of %d runs"
              % (args.rows, args.runs))
        assert trino_rows(session, url, sql) == args.rows  # warm-up, and a check
        assert pg_rows(dsn, sql) == args.rows
        trino_s, pg_s = [], []
        for _ in range(args.runs):  # interleaved, so that both see the same machine
            t0 = time.perf_counter()
            trino_rows(session, url, sql)
            trino_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pg_rows(dsn, sql)
            pg_s.append(time.perf_counter() - t0)
        t, p = statistics.median(trino_s), statistics.median(pg_s)
        print("Trino protocol  %.2f s  %.0f rows/s   (runs: %s)"
              % (t, args.rows / t, ", ".join("%.2f" % x for x in trino_s)))
        print("PostgreSQL wire %.2f s  %.0f rows/s   (runs: %s)"
              % (p, args.rows / p, ", ".join("%.2f" % x for x in pg_s)))
        print("ratio (Trino rows/s / PostgreSQL rows/s): %.2f (target >= 0.8)" % (p / t))

        print("\n== time to first row of SELECT 1, %d queries" % args.pings)
        for _ in range(20):
            first_row_ms(session, url)
        times = sorted(first_row_ms(session, url) for _ in range(args.pings))
        print("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms (target: p50 < 5 ms)"
              % (times[len(times) // 2], times[len(times) * 9 // 10], times[len(times) * 99 // 100]))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except Exception:  # noqa: BLE001
                p.kill()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
