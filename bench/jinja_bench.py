#!/usr/bin/python3
"""Jinja figure of issue #7: rendering the template corpus of test/jinja (its cases that
render without error: SQL models, macros, loops, filters, whitespace control) with lakemesh's
engine against Python's Jinja2 (Debian python3-jinja2), in the same run. Both parse every
template once and then render the whole corpus --rounds times; median of --runs.
Usage: /usr/bin/python3 bench/jinja_bench.py [--build build] [--rounds 300] [--runs 5]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jinja2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "jinja"))
from test_differential import environment  # noqa: E402  (the same Jinja2 setup as the test)


def python_render(corpus, rounds):
    prepared = []
    t0 = time.perf_counter()
    for case in corpus:
        env = environment(case)
        prepared.append((env.from_string(case["template"]), case.get("context", {})))
    parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(rounds):
        for template, context in prepared:
            template.render(**context)
    return parse, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--build", default=os.path.join(here, "build"))
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    corpus = [c for c in json.load(open(os.path.join(here, "test", "jinja", "corpus.json")))
              if not c["name"].startswith("err_")]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(corpus, f)
        path = f.name
    try:
        ours, theirs, ours_parse, theirs_parse = [], [], [], []
        for _ in range(args.runs):
            out = subprocess.run([os.path.join(args.build, "src", "jinja_render"), path,
                                  str(args.rounds)], capture_output=True, text=True, check=True)
            p, r = (float(x) for x in out.stdout.split())
            ours_parse.append(p)
            ours.append(r)
            p, r = python_render(corpus, args.rounds)
            theirs_parse.append(p)
            theirs.append(r)
        renders = len(corpus) * args.rounds
        o, t = statistics.median(ours), statistics.median(theirs)
        ratios = sorted(b / a for a, b in zip(ours, theirs))  # each run's pair, side by side
        print("%d templates, %d renders each way, median of %d runs" % (len(corpus), renders, args.runs))
        print("render: lakemesh %.3f s (%.2f us/render), Jinja2 %.3f s (%.2f us/render): %.1fx "
              "(target >= 5x; runs %s)" % (o, o / renders * 1e6, t, t / renders * 1e6,
                                           statistics.median(ratios),
                                           ", ".join("%.1f" % r for r in ratios)))
        print("parse once: lakemesh %.2f ms, Jinja2 %.2f ms: %.1fx"
              % (statistics.median(ours_parse) * 1e3, statistics.median(theirs_parse) * 1e3,
                 statistics.median(theirs_parse) / statistics.median(ours_parse)))
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
