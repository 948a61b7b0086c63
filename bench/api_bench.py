#!/usr/bin/python3
"""Versioning operations through the running server's REST API (keep-alive HTTP on loopback),
with GET /healthz measured the same way as the HTTP floor they are compared with.

    bench/api_bench.py [--bin build/lakemesh] [--n 300]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

import requests

KEY = ("LMBENCHKEY0000000001", "bench-secret-000000000000000000000000")


def p50(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                   "lakemesh"))
    ap.add_argument("--n", type=int, default=300)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lakemesh-api-bench-")
    data = os.path.join(work, "data")
    env = dict(os.environ, LAKEMESH_ACCESS_KEY_ID=KEY[0], LAKEMESH_SECRET_ACCESS_KEY=KEY[1],
               LAKEMESH_CONFIG=os.path.join(work, "cli.json"))
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    p = subprocess.Popen([a.bin, "serve", "--data", data, "--http", "127.0.0.1:0", "--s3",
                          "127.0.0.1:0", "--pg", "127.0.0.1:0", "--log-format", "json"],
                         stdout=subprocess.DEVNULL, stderr=log, env=env)
    try:
        for _ in range(500):
            if os.path.exists(os.path.join(data, "ports.json")):
                break
            time.sleep(0.01)
        time.sleep(0.1)
        url = "http://" + json.load(open(os.path.join(data, "ports.json")))["http"]
        s = requests.Session()
        s.auth = KEY
        s.post(url + "/api/v1/repositories", json={"name": "bench"}).raise_for_status()
        base = url + "/api/v1/repositories/bench"

        def timed(fn):
            t = time.perf_counter()
            fn()
            return (time.perf_counter() - t) * 1000

        def ok(r):
            if r.status_code >= 300:
                raise SystemExit("unexpected %d: %s" % (r.status_code, r.text))

        health = [timed(lambda: ok(s.get(url + "/healthz"))) for _ in range(a.n)]
        branch = [timed(lambda i=i: ok(s.post(base + "/branches", json={"name": "b%d" % i})))
                  for i in range(a.n)]
        put = [timed(lambda i=i: ok(s.put(base + "/branches/main/objects",
                                          params={"path": "f/%05d" % i}, data=b"x" * 1024)))
               for i in range(a.n)]
        commit = []
        for i in range(min(a.n, 100)):
            ok(s.put(base + "/branches/main/objects", params={"path": "c/%05d" % i}, data=b"y"))
            commit.append(timed(lambda i=i: ok(s.post(base + "/branches/main/commits",
                                                      json={"message": "c%d" % i}))))
        # Server-side time of each request, from the server's own request log.
        time.sleep(0.2)
        server = {}
        for line in open(log_path):
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("msg") != "request":
                continue
            path, method = ev["path"], ev["method"]
            kind = ("branch" if method == "POST" and path.endswith("/branches") else
                    "commit" if method == "POST" and path.endswith("/commits") else
                    "put" if method == "PUT" else None)
            if kind:
                server.setdefault(kind, []).append(ev["ms"])
        floor = p50(health)
        print("%-30s %12s %14s %14s %7s" % ("figure (p50)", "client sees", "server time",
                                            "GET /healthz", "ratio"))
        for name, key, xs in [("create a branch", "branch", branch),
                              ("upload a 1 KiB object", "put", put),
                              ("commit one changed object", "commit", commit)]:
            print("%-30s %9.3f ms %11.3f ms %11.3f ms %7.2f" % (
                name, p50(xs), p50(server.get(key, [0])), floor, p50(xs) / floor))
        print("\nclient sees: round trip with Python requests over keep-alive loopback HTTP; "
              "server time: from the\nserver's request log; ratio = client time / the same "
              "client's GET /healthz (the HTTP floor).")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
