#!/usr/bin/env python3
"""Iceberg REST catalog figures (issue #4), each beside its reference in the same run:

  loadTable, 16 connections   lakemesh's GET .../tables/{table} (bearer token) vs nginx serving the
                              very same response body as a static file (wrk, 2 threads)
  commit of an append         p50/p90 of POST .../tables/{table} adding one snapshot and moving
                              main, over HTTP keep-alive (the engine's Parquet and Avro writes are
                              not part of it)

The table has a 12-column schema, a day partition and --snapshots appends (the commits measured),
so its metadata carries that many snapshots and metadata-log entries, as a busy table does before
snapshot expiry. Needs nginx and wrk (scripts/install-deps.sh --bench).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

from bench_util import KEY, SECRET, start_lakemesh, start_nginx

HERE = os.path.dirname(os.path.abspath(__file__))

SCHEMA = {"type": "struct", "fields": [
    {"id": i + 1, "name": name, "type": typ, "required": i == 0}
    for i, (name, typ) in enumerate([
        ("order_id", "long"), ("customer_id", "long"), ("ts", "timestamptz"), ("status", "string"),
        ("amount", "decimal(12, 2)"), ("currency", "string"), ("country", "string"),
        ("channel", "string"), ("items", "int"), ("discount", "double"), ("note", "string"),
        ("updated", "timestamp")])]}


def wrk(url, seconds, conns, header=None):
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds]
    if header:
        cmd += ["-H", header]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError("wrk saw errors: " + out)
    return float([l for l in out.splitlines() if l.startswith("Requests/sec")][0].split()[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "lakemesh"))
    ap.add_argument("--snapshots", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    args = ap.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit("iceberg_bench: %s is not installed (scripts/install-deps.sh --bench)" % tool)
    scratch = tempfile.mkdtemp(prefix="icebench-", dir=os.path.join(HERE, "..", "build"))
    os.chmod(scratch, 0o755)
    procs = []
    try:
        run(args, scratch, procs)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)


def run(args, scratch, procs):
    ports = start_lakemesh(args.bin, scratch, procs)
    www = os.path.join(scratch, "www")
    os.makedirs(www)
    ngp = start_nginx(scratch, www, procs)
    base = "http://127.0.0.1:%d/iceberg/v1" % ports["http"]
    token = requests.post(base + "/oauth/tokens", data={
        "grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET}).json()["access_token"]
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + token

    def ok(r):
        if r.status_code != 200:
            raise RuntimeError("%s %s: %d %s" % (r.request.method, r.url, r.status_code, r.text[:300]))
        return r.json()

    ok(http.post(base + "/main/namespaces", json={"namespace": ["bench"]}))
    table = ok(http.post(base + "/main/namespaces/bench/tables", json={
        "name": "orders", "schema": SCHEMA,
        "partition-spec": {"fields": [{"source-id": 3, "name": "ts_day", "transform": "day"}]}}))
    location = table["metadata"]["location"]
    url = base + "/main/namespaces/bench/tables/orders"

    # --- commits: one appended data file each ---
    parent, seq, times = None, 0, []
    for i in range(args.snapshots):
        seq += 1
        snap_id = 1000 + i
        snap = {"snapshot-id": snap_id, "sequence-number": seq, "timestamp-ms": int(time.time() * 1000),
                "manifest-list": "%s/metadata/snap-%d-1-%032x.avro" % (location, snap_id, i),
                "schema-id": 0,
                "summary": {"operation": "append", "added-data-files": "1", "added-records": "10000",
                            "added-files-size": "812345", "total-data-files": str(i + 1),
                            "total-records": str(10000 * (i + 1)), "total-delete-files": "0"}}
        if parent is not None:
            snap["parent-snapshot-id"] = parent
        body = {"requirements": [{"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": parent}],
                "updates": [{"action": "add-snapshot", "snapshot": snap},
                            {"action": "set-snapshot-ref", "ref-name": "main", "type": "branch",
                             "snapshot-id": snap_id}]}
        t = time.perf_counter()
        ok(http.post(url, json=body))
        times.append((time.perf_counter() - t) * 1000)
        parent = snap_id
    times.sort()
    p50, p90 = times[len(times) // 2], times[int(len(times) * 0.9)]

    # --- loadTable vs nginx serving the same bytes ---
    r = http.get(url)
    body = r.content
    with open(os.path.join(www, "orders.json"), "wb") as f:
        f.write(body)
    os.chmod(os.path.join(www, "orders.json"), 0o644)
    lm, ng = [], []
    for _ in range(args.runs):
        lm.append(wrk(url, args.seconds, 16, "Authorization: Bearer " + token))
        ng.append(wrk("http://127.0.0.1:%d/orders.json" % ngp, args.seconds, 16))
    a, b = statistics.median(lm), statistics.median(ng)
    print("Iceberg REST catalog: table with %d snapshots, loadTable response %d bytes, medians of %d runs"
          % (args.snapshots, len(body), args.runs))
    print("  loadTable, 16 conn   lakemesh %8.0f req/s  nginx %8.0f req/s   ratio %.2f (goal >= 0.5)"
          % (a, b, a / b))
    print("  commit of an append  p50 %.2f ms  p90 %.2f ms (goal p50 < 5 ms)" % (p50, p90))
    print(json.dumps({"load_table": [a, b], "commit_ms": [p50, p90], "body_bytes": len(body)}))


if __name__ == "__main__":
    main()
