#!/usr/bin/python3
"""UI figure of issue #8: the home page and a product page of the demo mesh, fully rendered (data
loaded and painted) in headless Chromium on loopback, target < 1 s. Cold loads use a new browser
context each (nothing cached); warm loads reload the same page. The floor, in the same run, is
Chromium loading the server's /healthz, a document without script.

Usage: /usr/bin/python3 bench/ui_bench.py --bin build/lakemesh [--runs 15]
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

sys.path.insert(0, os.path.dirname(__file__))
from bench_util import KEY, SECRET, start_lakemesh  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/lakemesh")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="lakemesh-ui-bench-")
    procs = []
    try:
        ports = start_lakemesh(os.path.abspath(args.bin), scratch, procs, ["--demo"])
        base = "http://127.0.0.1:%d" % ports["http"]
        # The demo checks its products in the background; the product page shows those runs.
        deadline = time.time() + 60
        while time.time() < deadline:
            r = requests.get(base + "/api/v1/products/sales/orders/runs", auth=(KEY, SECRET))
            if r.ok and len(r.json()["runs"]) >= 2:
                break
            time.sleep(0.2)
        here = os.path.dirname(os.path.abspath(__file__))
        out = subprocess.run(["node", os.path.join(here, "ui_render.mjs"), base, KEY, SECRET,
                              str(args.runs)], capture_output=True, text=True, check=True)
        res = json.loads(out.stdout)
        floor = statistics.median(res["floor"])
        print("UI render in headless Chromium, demo mesh, %d runs (ms from navigation start to"
              " the page's data painted)" % args.runs)
        print("  floor: Chromium loading /healthz  p50 %.1f ms" % floor)
        for kind in ("cold", "warm"):
            for page, times in res[kind].items():
                p50 = statistics.median(times)
                print("  %-7s %-4s  p50 %6.1f ms  p90 %6.1f ms  max %6.1f ms   %.1fx the floor"
                      "   (target < 1000 ms)" % (page, kind, p50, pct(times, 90), max(times),
                                                p50 / floor))
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
