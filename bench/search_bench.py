#!/usr/bin/python3
"""Search figure of issue #8: /api/v1/search over 10,000 products with 100,000 contract columns
(100 domains of 100 products of 10 columns), p50 over HTTP (target < 20 ms). The HTTP floor of
the same server (GET /healthz, same client, same run) is the baseline the ratio is taken to. Also
times the product listing (GET /api/v1/products) the UI's home page reads.

Usage: /usr/bin/python3 bench/search_bench.py --bin build/lakemesh [--domains 100] [--products 100]
       [--queries 300]
"""
import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
from bench_util import KEY, SECRET, start_lakemesh  # noqa: E402

WORDS = ("order customer invoice payment shipment refund product stock supplier warehouse campaign "
         "click session visit account ledger revenue margin discount coupon basket cart review rating "
         "return carrier route driver store region country city channel device browser email phone "
         "address subscription plan trial churn cohort forecast budget expense salary employee team "
         "ticket incident alert metric event log sensor reading device firmware release build").split()
COLUMN_WORDS = ("id name amount total price quantity status created updated deleted email phone "
                "country city code type category score rank count currency date time zone source").split()


def product_yaml(rnd, domain, name):
    cols = []
    for c in range(10):
        col = "%s_%s_%d" % (rnd.choice(COLUMN_WORDS), rnd.choice(COLUMN_WORDS), c)
        cls = "\n              classification: pii" if "email" in col or "phone" in col else ""
        cols.append("            - name: %s\n              logicalType: string\n"
                    "              description: %s of the %s%s\n"
                    % (col, rnd.choice(WORDS), rnd.choice(WORDS), cls))
    return ("name: %s\nowner: %s-team\ndescription: %s\ntags: [%s, %s]\nstatus: %s\nversion: 1.0.0\n"
            "outputPorts:\n  - name: %s\n    table: %s\n    contract:\n      schema:\n"
            "        - name: %s\n          properties:\n%s"
            % (name, domain, " ".join(rnd.choice(WORDS) for _ in range(12)), rnd.choice(WORDS),
               rnd.choice(WORDS), rnd.choice(["draft", "published", "published", "deprecated"]), name,
               name, name, "".join(cols)))


def timed(session, url, params=None):
    t0 = time.perf_counter()
    r = session.get(url, params=params)
    dt = time.perf_counter() - t0
    r.raise_for_status()
    return dt, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/lakemesh")
    ap.add_argument("--domains", type=int, default=100)
    ap.add_argument("--products", type=int, default=100)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    scratch = tempfile.mkdtemp(prefix="lm-search-bench-")
    procs = []
    try:
        ports = start_lakemesh(binary, scratch, procs)
        base = "http://127.0.0.1:%d" % ports["http"]
        s = requests.Session()
        s.auth = (KEY, SECRET)
        rnd = random.Random(8)
        t0 = time.perf_counter()
        for d in range(args.domains):
            domain = "dom-%03d" % d
            s.post(base + "/api/v1/repositories", json={"name": domain}).raise_for_status()
            for p in range(args.products):
                name = "%s_%s_%d" % (rnd.choice(WORDS), rnd.choice(WORDS), p)
                s.put(base + "/api/v1/repositories/%s/branches/main/objects" % domain,
                      params={"path": "products/%s.yaml" % name},
                      data=product_yaml(rnd, domain, name)).raise_for_status()
            s.post(base + "/api/v1/repositories/%s/branches/main/commits" % domain,
                   json={"message": "products"}).raise_for_status()
        loaded = time.perf_counter() - t0
        total_products = args.domains * args.products
        print("== search over %d products, %d contract columns (%d domains); loaded in %.1f s"
              % (total_products, total_products * 10, args.domains, loaded))
        build, r = timed(s, base + "/api/v1/search", {"q": "order"})
        print("first search (indexes every domain): %.2f s, %d domains indexed"
              % (build, r.json()["indexedDomains"]))

        classes = ["a 4-letter prefix", "two words", "a column name, kind=column",
                   "a word, kind=product, status=published", "a 3-letter prefix, tag=..."]
        queries = []
        for i in range(args.queries):
            w = rnd.choice(WORDS)
            kind = i % 5
            if kind == 0:
                queries.append({"q": w[:4]})
            elif kind == 1:
                queries.append({"q": "%s %s" % (w, rnd.choice(WORDS)[:3])})
            elif kind == 2:
                queries.append({"q": rnd.choice(COLUMN_WORDS), "kind": "column"})
            elif kind == 3:
                queries.append({"q": w, "kind": "product", "status": "published"})
            else:
                queries.append({"q": w[:3], "tag": rnd.choice(WORDS)})
        search_times, floor_times = [], []
        by_class = {c: [] for c in classes}
        for i, params in enumerate(queries):  # interleaved: each search, then a floor request
            dt, r = timed(s, base + "/api/v1/search", params)
            search_times.append(dt)
            by_class[classes[i % 5]].append(dt)
            floor_times.append(timed(s, base + "/healthz")[0])
        for c in classes:
            print("  %-42s p50 %6.2f ms" % (c, statistics.median(by_class[c]) * 1000))
        p50, p95 = statistics.median(search_times), sorted(search_times)[int(len(search_times) * 0.95)]
        f50 = statistics.median(floor_times)
        print("search p50 %.2f ms, p95 %.2f ms over %d queries (target p50 < 20 ms)"
              % (p50 * 1000, p95 * 1000, len(queries)))
        print("HTTP floor (GET /healthz) p50 %.2f ms: search / floor = %.1f" % (f50 * 1000, p50 / f50))
        # The product listing the UI's home page reads: every domain's product files, parsed
        # once and then kept by blob address.
        first, r = timed(s, base + "/api/v1/products")
        listed = len(r.json()["products"])
        again = statistics.median(timed(s, base + "/api/v1/products")[0] for _ in range(5))
        print("product listing (%d products): first %.0f ms, then p50 %.0f ms"
              % (listed, first * 1000, again * 1000))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
