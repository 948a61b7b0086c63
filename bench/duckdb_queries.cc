// The raw-DuckDB baseline of bench/sql_bench.py: runs queries in-process on DuckDB (the same
// library lakemesh embeds) over the same Parquet files, without lakemesh in between.
// Usage: duckdb_queries SETUP_SQL_FILE QUERIES_FILE RUNS THREADS
//   SETUP_SQL_FILE: statements run once (views over read_parquet of the files)
//   QUERIES_FILE: one query per line
// Prints one line per query: "<index> <median ms> <rows>".
#include <duckdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static bool Run(duckdb_connection c, const std::string& sql, size_t* rows) {
  duckdb_result r;
  if (duckdb_query(c, sql.c_str(), &r) != DuckDBSuccess) {
    std::fprintf(stderr, "error: %s\n  in: %s\n", duckdb_result_error(&r), sql.c_str());
    duckdb_destroy_result(&r);
    return false;
  }
  if (rows) *rows = duckdb_row_count(&r);
  duckdb_destroy_result(&r);
  return true;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s SETUP_SQL QUERIES RUNS THREADS\n", argv[0]);
    return 2;
  }
  int runs = std::atoi(argv[3]);
  duckdb_config config;
  duckdb_create_config(&config);
  duckdb_set_config(config, "threads", argv[4]);
  duckdb_database db;
  char* err = nullptr;
  if (duckdb_open_ext(nullptr, &db, config, &err) != DuckDBSuccess) {
    std::fprintf(stderr, "open: %s\n", err ? err : "?");
    return 1;
  }
  duckdb_destroy_config(&config);
  duckdb_connection c;
  duckdb_connect(db, &c);
  Run(c, "SET TimeZone = 'UTC'", nullptr);
  std::ifstream setup(argv[1]);
  std::stringstream ss;
  ss << setup.rdbuf();
  if (!Run(c, ss.str(), nullptr)) return 1;
  std::ifstream queries(argv[2]);
  std::string q;
  int index = 0;
  while (std::getline(queries, q)) {
    if (q.empty()) continue;
    ++index;
    size_t rows = 0;
    if (!Run(c, q, &rows)) return 1;  // warm-up
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      if (!Run(c, q, &rows)) return 1;
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%d %.2f %zu\n", index, ms[ms.size() / 2], rows);
    std::fflush(stdout);
  }
  duckdb_disconnect(&c);
  duckdb_close(&db);
  return 0;
}
