// Every option of `lakemesh serve`, declared once with its default and its help text. The CLI
// builds its flags from this table; Validate() checks values before anything starts.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace lakemesh::config {

struct ServeOptions {
  std::string data_dir = "./lakemesh-data";
  std::string http = "127.0.0.1:8080";
  std::string s3 = "127.0.0.1:9000";
  std::string pg = "127.0.0.1:5433";
  // TLS for the PostgreSQL port: a PEM certificate (chain) and its private key; both or neither.
  std::string pg_tls_cert;
  std::string pg_tls_key;
  // The SQL engine's limits: memory (DuckDB syntax, "4GB"; empty: 80% of RAM) and threads
  // (0: one per core), shared by all queries.
  std::string sql_memory_limit;
  int sql_threads = 0;
  // Memory for table versions kept in memory between queries ("2GB"; "0": none; empty: a
  // quarter of the memory limit).
  std::string sql_cache_size;
  // Another name for the catalog `lakemesh` in SQL and the Trino protocol (clients configured
  // for a Trino catalog called, say, `iceberg` then work unchanged).
  std::string trino_catalog;
  // The organisation's policies for data products (a YAML file; docs/products.md); empty: the
  // defaults.
  std::string product_policies;
  std::string s3_region = "us-east-1";
  std::string s3_domain;  // virtual-host style addressing for <bucket>.<domain>
  bool demo = false;
  std::string log_level = "info";
  std::string log_format = "auto";
  int shutdown_timeout_seconds = 30;

  Status Validate() const;
};

struct OptionDoc {
  const char* flag;
  const char* help;
};

// Help text for each flag, in the order --help shows them.
const std::vector<OptionDoc>& ServeOptionDocs();

}  // namespace lakemesh::config
