#include "config/serve_options.h"

#include "base/coding.h"

namespace lakemesh::config {

Status ServeOptions::Validate() const {
  if (data_dir.empty()) return InvalidArgument("--data must name a directory");
  if (sql_threads < 0) return InvalidArgument("--sql-threads must be 0 (one per core) or more");
  if (!sql_memory_limit.empty() &&
      sql_memory_limit.find_first_not_of("0123456789.kKmMgGtTiIbB %") != std::string::npos) {
    return InvalidArgument("--sql-memory-limit takes a size such as 4GB or 512MB");
  }
  if (!sql_cache_size.empty() && !ParseByteSize(sql_cache_size)) {
    return InvalidArgument("--sql-cache-size takes a size such as 2GB or 512MB (0 turns the "
                           "cache off)");
  }
  if (!trino_catalog.empty() &&
      (trino_catalog.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos ||
       trino_catalog == "system" || trino_catalog == "lakemesh")) {
    return InvalidArgument("--trino-catalog takes a lower-case catalog name ([a-z0-9_]) other "
                           "than lakemesh and system");
  }
  if (pg_tls_cert.empty() != pg_tls_key.empty()) {
    return InvalidArgument("--pg-tls-cert and --pg-tls-key go together");
  }
  if (log_level != "debug" && log_level != "info" && log_level != "warn" && log_level != "error") {
    return InvalidArgument("--log-level must be debug, info, warn or error");
  }
  if (log_format != "auto" && log_format != "text" && log_format != "json") {
    return InvalidArgument("--log-format must be auto, text or json");
  }
  if (s3_region.empty() || s3_region.find_first_of("/ \t") != std::string::npos) {
    return InvalidArgument("--s3-region must be a region name such as us-east-1");
  }
  if (!s3_domain.empty() && (s3_domain.front() == '.' || s3_domain.find('/') != std::string::npos ||
                             s3_domain.find(':') != std::string::npos)) {
    return InvalidArgument("--s3-domain must be a host name such as s3.example.com (no port)");
  }
  if (shutdown_timeout_seconds < 0) return InvalidArgument("--shutdown-timeout must be >= 0");
  return Status::OK();
}

const std::vector<OptionDoc>& ServeOptionDocs() {
  static const std::vector<OptionDoc> docs = {
      {"--data", "directory for metadata (SQLite) and blobs; created if missing"},
      {"--http", "HOST:PORT for the web UI (/), the REST API, the Iceberg catalog, the Trino protocol, /healthz and /metrics (port 0 picks a free port)"},
      {"--s3", "HOST:PORT for the S3 API"},
      {"--pg", "HOST:PORT for the PostgreSQL wire protocol"},
      {"--pg-tls-cert",
       "PEM certificate for TLS on the PostgreSQL port (with --pg-tls-key); clients then "
       "authenticate with a password over TLS"},
      {"--pg-tls-key", "PEM private key of --pg-tls-cert"},
      {"--sql-memory-limit",
       "memory the SQL engine may use, e.g. 4GB (default: 80% of RAM); beyond it, queries "
       "spill to disk or fail with SQLSTATE 53200"},
      {"--sql-threads", "threads the SQL engine runs queries on (default: one per core)"},
      {"--sql-cache-size",
       "memory for table versions that queries read repeatedly, kept as in-memory tables "
       "(default: a quarter of --sql-memory-limit; 0 turns it off)"},
      {"--trino-catalog",
       "another name for the catalog `lakemesh` (SQL and the Trino protocol at /v1/statement), "
       "for clients configured with a catalog of their own, e.g. iceberg"},
      {"--product-policies", "a YAML file of the policies every data product must follow (docs/products.md)"},
      {"--s3-region", "region the S3 API reports (GetBucketLocation, x-amz-bucket-region)"},
      {"--s3-domain",
       "domain for virtual-host style S3 requests (<bucket>.<domain>); path style always works"},
      {"--demo", "on a new data directory, load a small demo mesh (sales, customers, marketing)"},
      {"--log-level", "debug, info, warn or error"},
      {"--log-format", "auto (text on a terminal, JSON otherwise), text or json"},
      {"--shutdown-timeout", "seconds to let in-flight requests finish on SIGTERM/SIGINT"},
  };
  return docs;
}

}  // namespace lakemesh::config
