#!/usr/bin/env bash
# Runs every benchmark and prints each figure beside its baseline. Record results in
# docs/performance.md with the command that produced them.
#   bench/run.sh            full sizes (1,000,000 objects; git with 100,000 files)
#   QUICK=1 bench/run.sh    small sizes, for a smoke run
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
command -v nginx >/dev/null || echo "bench: nginx not installed; startup figures print no reference"
echo "== startup and memory"
/usr/bin/python3 "$here/bench/startup_bench.py" --bin "$build/lakemesh"
echo
echo "== versioning"
if [ -n "${QUICK:-}" ]; then
  "$build/bench/versioning_bench" --objects 100000 --git-files 10000 --rounds 3
else
  "$build/bench/versioning_bench" --objects 1000000 --git-files 100000 --rounds 7
fi
echo
echo "== tree (in-process, warm cache)"
"$build/bench/tree_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
echo
echo "== through the server (REST API)"
/usr/bin/python3 "$here/bench/api_bench.py" --bin "$build/lakemesh"
echo
echo "== S3 (throughput, small objects, memory)"
if [ -n "${QUICK:-}" ]; then
  /usr/bin/python3 "$here/bench/s3_bench.py" --bin "$build/lakemesh" --size-mib 256 --runs 1 --seconds 4 --small 500
else
  /usr/bin/python3 "$here/bench/s3_bench.py" --bin "$build/lakemesh"
fi
echo
echo "== Iceberg REST catalog (loadTable, commits)"
if [ -n "${QUICK:-}" ]; then
  /usr/bin/python3 "$here/bench/iceberg_bench.py" --bin "$build/lakemesh" --snapshots 30 --runs 1 --seconds 3
else
  /usr/bin/python3 "$here/bench/iceberg_bench.py" --bin "$build/lakemesh"
fi
echo
echo "== Iceberg scan planning and appends (in-process)"
if [ -n "${QUICK:-}" ]; then
  "$build/bench/scan_bench" --rounds 5
else
  "$build/bench/scan_bench" --rounds 21
fi
echo
echo "== SQL over the PostgreSQL protocol (star schema vs DuckDB and PostgreSQL 15, pgbench, streaming)"
if [ -n "${QUICK:-}" ]; then
  /usr/bin/python3 "$here/bench/sql_bench.py" --bin "$build/lakemesh" --rows 1000000 --runs 1 --pgbench-seconds 3
else
  /usr/bin/python3 "$here/bench/sql_bench.py" --bin "$build/lakemesh"
fi
echo
echo "== Trino client protocol (1,000,000 rows vs the PostgreSQL protocol, SELECT 1 first row)"
if [ -n "${QUICK:-}" ]; then
  /usr/bin/python3 "$here/bench/trino_bench.py" --bin "$build/lakemesh" --rows 100000 --runs 1 --pings 50
else
  /usr/bin/python3 "$here/bench/trino_bench.py" --bin "$build/lakemesh"
fi
echo
echo "== Jinja templates (vs Python's Jinja2) and dbt projects"
if [ -n "${QUICK:-}" ]; then
  /usr/bin/python3 "$here/bench/jinja_bench.py" --build "$build" --rounds 100 --runs 1
  /usr/bin/python3 "$here/bench/dbt_bench.py" --bin "$build/lakemesh" --runs 1 --models 50
else
  /usr/bin/python3 "$here/bench/jinja_bench.py" --build "$build"
  /usr/bin/python3 "$here/bench/dbt_bench.py" --bin "$build/lakemesh"
fi
echo
echo "== Web UI (home and product page rendered in headless Chromium)"
if [ -n "${QUICK:-}" ]; then
  /usr/bin/python3 "$here/bench/ui_bench.py" --bin "$build/lakemesh" --runs 3
else
  /usr/bin/python3 "$here/bench/ui_bench.py" --bin "$build/lakemesh"
fi
