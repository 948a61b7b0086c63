#!/usr/bin/env bash
# Installs what lakemesh needs to build, test and run on Debian 12, and nothing that is already there.
# Idempotent and fast on a machine that has everything: it checks before it installs.
#
#   scripts/install-deps.sh          build + test dependencies (Chromium for the UI's browser tests)
#   scripts/install-deps.sh --run    only what building and running needs
#   scripts/install-deps.sh --bench  also the baselines benchmarks compare against (nginx, wrk,
#                                    s3rver from npm)
#
# DuckDB is not in Debian: its C header comes from the `duckdb` npm package and libduckdb.so from
# `@duckdb/node-bindings-linux-x64`. Both tarballs are fetched with `npm pack`, checked against the
# SHA-256 sums below and unpacked into third_party/duckdb/ (ignored by git).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-all}"

build_pkgs=(build-essential cmake ninja-build pkg-config git ca-certificates
  libboost-dev libboost-system-dev nlohmann-json3-dev libsqlite3-dev libssl-dev
  libspdlog-dev libfmt-dev libcli11-dev libcurl4-openssl-dev libyaml-cpp-dev libpq-dev
  libpugixml-dev zlib1g-dev libavro-dev libedit-dev)
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pytest python3-requests
  curl procps postgresql-client awscli python3-boto3 python3-avro s3cmd rclone
  python3-psycopg2 python3-psycopg python3-pandas python3-sqlalchemy openjdk-17-jdk-headless libpostgresql-jdbc-java
  python3-jinja2 chromium)

pkgs=("${build_pkgs[@]}")
if [ "$mode" != "--run" ]; then pkgs+=("${test_pkgs[@]}"); fi
if [ "$mode" = "--bench" ]; then pkgs+=(nginx wrk postgresql-15 postgresql-contrib-15); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from a nodejs build outside Debian; only ask apt for it when there is none.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- DuckDB from npm -------------------------------------------------------------------------
duckdb_dir="$here/third_party/duckdb"
header_pkg="duckdb@1.4.4"
header_sha="5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed"
lib_pkg="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
lib_sha="732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b"
stamp="$duckdb_dir/.stamp"
want_stamp="$header_sha $lib_sha"

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ] \
   || [ ! -f "$duckdb_dir/include/duckdb.h" ] || [ ! -f "$duckdb_dir/lib/libduckdb.so" ]; then
  echo "install-deps: fetching DuckDB 1.4.4 from npm"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$header_pkg" "$lib_pkg" >/dev/null)
  check() {  # file expected-sha
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [ "$got" != "$2" ]; then
      echo "install-deps: checksum mismatch for $(basename "$1"): got $got, want $2" >&2
      exit 1
    fi
  }
  check "$tmp/duckdb-1.4.4.tgz" "$header_sha"
  check "$tmp/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz" "$lib_sha"
  rm -rf "$duckdb_dir"
  mkdir -p "$duckdb_dir/include" "$duckdb_dir/lib"
  tar -xzf "$tmp/duckdb-1.4.4.tgz" -C "$tmp" package/src/duckdb/src/include/duckdb.h
  mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$duckdb_dir/include/duckdb.h"
  rm -rf "$tmp/package"
  tar -xzf "$tmp/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz" -C "$tmp" package/libduckdb.so
  mv "$tmp/package/libduckdb.so" "$duckdb_dir/lib/libduckdb.so"
  echo "$want_stamp" > "$stamp"
fi

# --- The web UI's build tools: esbuild and Preact (src/ui/package-lock.json) -------------------
# Needed to build the binary, which embeds the UI.
ui_dir="$here/src/ui"
if [ ! -f "$ui_dir/node_modules/.package-lock.json" ] \
   || [ "$ui_dir/package-lock.json" -nt "$ui_dir/node_modules/.package-lock.json" ]; then
  echo "install-deps: installing the web UI's build tools (npm ci in src/ui)"
  (cd "$ui_dir" && npm ci --silent --no-audit --no-fund >/dev/null)
fi

# --- Node.js clients the end-to-end tests drive (test/e2e/node/package-lock.json) -----------------
if [ "$mode" != "--run" ]; then
  node_dir="$here/test/e2e/node"
  if [ ! -f "$node_dir/node_modules/.package-lock.json" ] \
     || [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: installing the Node.js test clients (npm ci)"
    (cd "$node_dir" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
fi
if [ "$mode" = "--bench" ]; then
  bench_node="$here/bench/node"
  if [ ! -f "$bench_node/node_modules/.package-lock.json" ] \
     || [ "$bench_node/package-lock.json" -nt "$bench_node/node_modules/.package-lock.json" ]; then
    echo "install-deps: installing the benchmark baselines from npm (s3rver)"
    (cd "$bench_node" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
fi
