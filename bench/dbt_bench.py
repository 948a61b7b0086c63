#!/usr/bin/python3
"""dbt figures of issue #7, on generated projects:

  - parse and compile a project of 1,000 models (each refs up to two earlier ones, uses a macro,
    a loop and config), `lakemesh dbt compile`, median of --runs (target: < 1 s);
  - the overhead of `lakemesh dbt run` beyond the SQL itself, per model: a project of --models
    view models run in-process, against the same CREATE VIEW statements run by `lakemesh sql`
    in-process from one file right after it, the median of the runs' differences (target:
    < 10 ms per model).

Usage: /usr/bin/python3 bench/dbt_bench.py --bin build/lakemesh [--runs 5] [--models 200]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_util import KEY, SECRET  # noqa: E402


def make_project(root, models):
    os.makedirs(os.path.join(root, "models", "layer"), exist_ok=True)
    os.makedirs(os.path.join(root, "macros"), exist_ok=True)
    with open(os.path.join(root, "dbt_project.yml"), "w") as f:
        f.write("name: gen\nmodels:\n  gen:\n    +materialized: view\n")
    with open(os.path.join(root, "macros", "m.sql"), "w") as f:
        f.write("{% macro plus(x, n=1) %}({{ x }} + {{ n }}){% endmacro %}\n")
    for i in range(models):
        with open(os.path.join(root, "models", "layer", "m%04d.sql" % i), "w") as f:
            f.write("{{ config(tags=['t%d']) }}\n" % (i % 7))
            if i == 0:
                f.write("select 1 as id, 2 as v\n")
                continue
            a, b = i // 2, (i - 1) // 3
            f.write("select a.id, {{ plus('a.v', %d) }} as v\n" % (i % 5))
            f.write("{% for c in ['x', 'y'] %}, '{{ c }}' as col_{{ c }}{% endfor %}\n")
            f.write("from {{ ref('m%04d') }} a join {{ ref('m%04d') }} b on a.id = b.id\n" % (a, b))


def data_dir(binary, scratch):
    d = os.path.join(scratch, "lm")
    env = dict(os.environ, LAKEMESH_ACCESS_KEY_ID=KEY, LAKEMESH_SECRET_ACCESS_KEY=SECRET,
               LAKEMESH_CONFIG=os.path.join(scratch, "cli.json"))
    p = subprocess.Popen([binary, "serve", "--data", d, "--http", "127.0.0.1:0", "--s3",
                          "127.0.0.1:0", "--pg", "127.0.0.1:0", "--log-level", "warn"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not os.path.exists(os.path.join(d, "ports.json")) and time.time() < deadline:
        time.sleep(0.05)
    p.terminate()
    p.wait()
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", type=int, default=200)
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    scratch = tempfile.mkdtemp(prefix="lm-dbtbench-", dir=os.path.dirname(binary))
    try:
        big = os.path.join(scratch, "big")
        make_project(big, 1000)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([binary, "dbt", "compile", "--project-dir", big], check=True,
                           stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        print("== parse and compile 1,000 models (lakemesh dbt compile, process included)")
        print("median %.3f s (runs: %s) (target < 1 s)"
              % (statistics.median(times), ", ".join("%.3f" % t for t in times)))

        small = os.path.join(scratch, "small")
        make_project(small, args.models)
        subprocess.run([binary, "dbt", "compile", "--project-dir", small], check=True,
                       stdout=subprocess.DEVNULL)
        # The same statements, for `lakemesh sql`: what the SQL itself costs.
        statements = ["CREATE SCHEMA IF NOT EXISTS gen;"]
        order = subprocess.run([binary, "dbt", "ls", "--project-dir", small], check=True,
                               capture_output=True, text=True).stdout.split()
        for fqn in order:
            name = fqn.rsplit(".", 1)[1]
            sql = open(os.path.join(small, "target", "compiled", "gen", "models", "layer",
                                    name + ".sql")).read()
            statements.append("CREATE OR REPLACE VIEW gen.%s AS\n%s;" % (name, sql.strip()))
        sql_file = os.path.join(scratch, "views.sql")
        with open(sql_file, "w") as f:
            f.write("\n".join(statements) + "\n")
        run_s, sql_s = [], []
        for _ in range(args.runs):
            d = data_dir(binary, os.path.join(scratch, "run%d" % len(run_s)))
            t0 = time.perf_counter()
            subprocess.run([binary, "dbt", "run", "--project-dir", small, "--data", d], check=True,
                           stdout=subprocess.DEVNULL)
            run_s.append(time.perf_counter() - t0)
            d = data_dir(binary, os.path.join(scratch, "sql%d" % len(sql_s)))
            t0 = time.perf_counter()
            subprocess.run([binary, "sql", "--data", d, "-f", sql_file], check=True,
                           stdout=subprocess.DEVNULL)
            sql_s.append(time.perf_counter() - t0)
        r, s = statistics.median(run_s), statistics.median(sql_s)
        # Each run's pair (dbt, then sql right after) shares the machine's load of the moment:
        # the median of the pairs' differences is the steadier figure.
        paired = statistics.median(a - b for a, b in zip(run_s, sql_s))
        print("\n== lakemesh dbt run of %d view models vs the same statements through lakemesh sql"
              % args.models)
        print("dbt run %.2f s, sql %.2f s: overhead %.2f ms per model, median of the runs' "
              "differences (target < 10 ms)" % (r, s, paired / args.models * 1000))
        print("(runs: dbt %s; sql %s)" % (", ".join("%.2f" % x for x in run_s),
                                          ", ".join("%.2f" % x for x in sql_s)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
