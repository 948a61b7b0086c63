#include "app/application.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <condition_variable>
#include <filesystem>
#include <cstdio>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/demo.h"
#include "app/demo_dbt.h"
#include "base/coding.h"
#include "base/files.h"
#include "base/log.h"
#include "base/time.h"
#include "governance/credentials.h"
#include "meta/sqlite_meta_store.h"
#include "protocols/api/api.h"
#include "protocols/pgwire/pg_server.h"
#include "sql/engine.h"
#include "protocols/s3/s3.h"
#include "server/http_server.h"
#include "catalog/catalog.h"
#include "protocols/iceberg_rest/iceberg_rest.h"
#include "protocols/trino/trino.h"
#include "ui/ui.h"
#include "storage/local_blob_store.h"
#include "versioning/repository.h"

namespace lakemesh::app {

// Declaration order is construction order; members are destroyed in reverse, so the listeners
// go before the services they call, and the services before the stores.
struct Application::Parts {
  config::ServeOptions opts;
  int lock_fd = -1;
  std::unique_ptr<meta::MetaStore> meta;
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<versioning::Repositories> repos;
  std::unique_ptr<versioning::Buckets> buckets;
  std::unique_ptr<versioning::MultipartUploads> uploads;
  std::unique_ptr<governance::Credentials> credentials;
  std::unique_ptr<catalog::Catalog> catalog;
  server::Metrics metrics;
  std::unique_ptr<orchestrate::Products> products;
  std::unique_ptr<catalog::SearchIndex> search;
  std::unique_ptr<api::Services> services;
  std::unique_ptr<iceberg_rest::Services> iceberg_services;
  std::unique_ptr<s3::Services> s3_services;
  std::unique_ptr<server::HttpServer> http;
  std::unique_ptr<server::HttpServer> s3;
  // The SQL engine, opened when the first SQL client connects.
  std::mutex engine_mu;
  std::unique_ptr<sql::Engine> engine;  // GUARDED_BY(engine_mu)
  std::string work_dir;
  std::unique_ptr<pgwire::PgServer> pg;
  std::unique_ptr<trino::Server> trino;  // queries of the Trino protocol (on the HTTP port)
  // Builds the demo's dbt project once the server is up (a new demo data directory only).
  std::thread demo_build;
  std::thread search_warmup;
  // Hourly housekeeping: aborts abandoned multipart uploads, removes orphaned bucket blobs.
  std::thread maintenance;
  std::mutex maintenance_mu;
  std::condition_variable maintenance_cv;
  bool stopping = false;  // GUARDED_BY(maintenance_mu)
  bool stopped = false;

  ~Parts() {
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

namespace {

// The CLI reads its server URL and key from this file when the environment does not say.
std::string CliConfigPath() {
  if (const char* p = std::getenv("LAKEMESH_CONFIG"); p && *p) return p;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/lakemesh/config.json";
}

void OfferCliConfig(const governance::AccessKey& key, const std::string& http_addr) {
  std::string path = CliConfigPath();
  if (PathExists(path)) return;
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos && !MakeDirs(path.substr(0, slash), 0700).ok()) return;
  nlohmann::json j{{"url", "http://" + http_addr},
                   {"access_key_id", key.id},
                   {"secret_access_key", key.secret}};
  if (WriteFileAtomic(path, j.dump(2) + "\n", 0600).ok()) {
    log::Info("wrote CLI credentials", {{"path", path}});
  }
}

}  // namespace

Application::Application(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Application::~Application() {
  if (!Stop()) std::_Exit(1);  // threads still use the services: do not destroy them
}

Result<std::unique_ptr<Application>> Application::Start(const config::ServeOptions& opts) {
  const int64_t t0 = MonotonicMicros();
  LM_TRY(opts.Validate());
  auto p = std::make_unique<Parts>();
  p->opts = opts;
  const std::string& dir = opts.data_dir;
  LM_TRY(MakeDirs(dir, 0700, /*durable=*/true));
  std::string lock_path = dir + "/lakemesh.lock";
  p->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (p->lock_fd < 0) return ErrnoStatus("opening", lock_path, errno);
  if (::flock(p->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Unavailable("data directory '" + dir + "' is in use by another lakemesh process");
  }

  LM_ASSIGN_OR_RETURN(p->meta, meta::SqliteMetaStore::Open(dir + "/meta.db"));
  LM_ASSIGN_OR_RETURN(p->blobs, storage::LocalBlobStore::Open(dir + "/blobs"));
  p->repos = std::make_unique<versioning::Repositories>(*p->meta, *p->blobs);
  p->buckets = std::make_unique<versioning::Buckets>(*p->meta, *p->blobs);
  p->uploads = std::make_unique<versioning::MultipartUploads>(*p->meta, *p->blobs);
  p->credentials = std::make_unique<governance::Credentials>(*p->meta);
  p->catalog = std::make_unique<catalog::Catalog>(*p->repos, *p->blobs);
  // Scratch space for table appends being converted; what a crash left there is of no use.
  const std::string work_dir = dir + "/tmp";
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  LM_TRY(MakeDirs(work_dir, 0700));
  p->services = std::make_unique<api::Services>(api::Services{
      *p->repos, *p->buckets, *p->uploads, *p->credentials, p->metrics, *p->catalog, work_dir});

  const char* env_id = std::getenv("LAKEMESH_ACCESS_KEY_ID");
  const char* env_secret = std::getenv("LAKEMESH_SECRET_ACCESS_KEY");
  LM_ASSIGN_OR_RETURN(auto created,
                      p->credentials->Bootstrap(env_id ? env_id : "", env_secret ? env_secret : ""));

  bool demo_new = false;
  if (opts.demo) {
    LM_ASSIGN_OR_RETURN(auto existing, p->repos->ListRepos("", 1));
    if (existing.empty()) {
      LM_TRY_CTX(LoadDemo(*p->repos, *p->catalog, work_dir), "loading the demo mesh");
      log::Info("loaded demo mesh", {{"repositories", {"sales", "customers", "marketing"}}});
      demo_new = true;
    }
  }

  LM_ASSIGN_OR_RETURN(auto http_hp, server::ParseHostPort(opts.http));
  LM_ASSIGN_OR_RETURN(auto s3_hp, server::ParseHostPort(opts.s3));
  LM_ASSIGN_OR_RETURN(auto pg_hp, server::ParseHostPort(opts.pg));
  server::ListenOptions http_opts;
  http_opts.host = http_hp.first;
  http_opts.port = http_hp.second;
  http_opts.api = "http";
  // The S3 address is filled in below, once that listener is bound (before anything starts).
  p->iceberg_services = std::make_unique<iceberg_rest::Services>(
      iceberg_rest::Services{*p->catalog, *p->credentials, "", opts.s3_region});
  p->work_dir = work_dir;
  Parts* raw = p.get();
  // The SQL engine, opened when the first SQL client (PostgreSQL or Trino protocol) comes.
  std::function<Result<sql::Engine*>()> open_engine = [raw]() -> Result<sql::Engine*> {
    std::lock_guard<std::mutex> lock(raw->engine_mu);
    if (!raw->engine) {
      sql::EngineOptions options;
      options.scratch_dir = raw->work_dir + "/sql";
      options.memory_limit = raw->opts.sql_memory_limit;
      options.threads = raw->opts.sql_threads;
      if (!raw->opts.sql_cache_size.empty()) {
        options.table_cache_bytes = static_cast<int64_t>(*ParseByteSize(raw->opts.sql_cache_size));
      }
      if (!raw->opts.trino_catalog.empty()) options.catalog_names.push_back(raw->opts.trino_catalog);
      LM_ASSIGN_OR_RETURN(raw->engine,
                          sql::Engine::Open(*raw->catalog, options,
                                            {raw->repos.get(), raw->buckets.get(),
                                             raw->blobs.get()}));
    }
    return raw->engine.get();
  };
  p->metrics.AddGaugeSource([raw]() -> std::vector<server::Metrics::Gauge> {
    std::lock_guard<std::mutex> lock(raw->engine_mu);
    if (!raw->engine) return {};
    sql::Engine::CacheStats st = raw->engine->TableCacheStats();
    return {{"lakemesh_sql_table_cache_tables",
             "Table versions the SQL engine holds in memory (--sql-cache-size).",
             static_cast<double>(st.tables)},
            {"lakemesh_sql_table_cache_bytes", "Memory those table versions take.",
             static_cast<double>(st.bytes)},
            {"lakemesh_sql_table_cache_budget_bytes", "The most they may take.",
             static_cast<double>(st.budget)},
            {"lakemesh_sql_eager_aggregations",
             "Queries prepared with their aggregation moved below their joins.",
             static_cast<double>(raw->engine->EagerAggregations())}};
  });
  if (!opts.product_policies.empty()) {
    LM_ASSIGN_OR_RETURN(std::string text, ReadFile(opts.product_policies));
    LM_ASSIGN_OR_RETURN(p->services->policies, catalog::ParsePolicies(text, opts.product_policies));
  }
  p->products = std::make_unique<orchestrate::Products>(*p->repos, *p->catalog, *p->meta, open_engine,
                                                         p->services->policies);
  p->services->products = p->products.get();
  LM_ASSIGN_OR_RETURN(p->search, catalog::SearchIndex::Open(dir + "/search.db", *p->repos, *p->catalog));
  p->services->search = p->search.get();
  catalog::SearchIndex* search = p->search.get();
  p->repos->SetHeadObserver([search](const std::string& repo, const std::string& branch) {
    if (branch == "main" || branch.empty()) search->Touch(repo);
  });
  trino::Services trino_services{*p->credentials, *p->catalog, open_engine, {"lakemesh"}, kVersion};
  if (!opts.trino_catalog.empty()) trino_services.catalogs.push_back(opts.trino_catalog);
  p->trino = std::make_unique<trino::Server>(std::move(trino_services));
  server::Handler api_handler = api::MakeHttpHandler(*p->services);
  server::Handler iceberg_handler = iceberg_rest::MakeHandler(*p->iceberg_services);
  trino::Server* trino_server = p->trino.get();
  server::Handler http_handler = [api_handler, iceberg_handler, trino_server](server::Request& req) {
    if (req.path.rfind("/iceberg/", 0) == 0) return iceberg_handler(req);
    if (trino::Server::Handles(req.path)) return trino_server->Handle(req);
    if (ui::Handles(req)) return ui::Serve(req);
    return api_handler(req);
  };
  http_opts.offload = [](std::string_view target) { return trino::Server::MayWait(target); };
  LM_ASSIGN_OR_RETURN(p->http,
                      server::HttpServer::Listen(http_opts, std::move(http_handler), p->metrics));
  server::ListenOptions s3_opts = http_opts;
  s3_opts.offload = nullptr;
  s3_opts.defer_body = s3::MayDeferBody;
  s3_opts.host = s3_hp.first;
  s3_opts.port = s3_hp.second;
  s3_opts.api = "s3";
  p->s3_services = std::make_unique<s3::Services>(
      s3::Services{*p->repos, *p->buckets, *p->uploads, *p->credentials, *p->catalog, opts.s3_region,
                   opts.s3_domain});
  LM_ASSIGN_OR_RETURN(p->s3, server::HttpServer::Listen(s3_opts, s3::MakeS3Handler(*p->s3_services),
                                                        p->metrics));
  p->iceberg_services->s3_address = p->s3->address();
  pgwire::PgServices pg_services{*p->credentials, open_engine, opts.pg_tls_cert, opts.pg_tls_key};
  LM_ASSIGN_OR_RETURN(p->pg, pgwire::PgServer::Listen(pg_hp.first, pg_hp.second,
                                                      std::move(pg_services)));

  p->services->listeners = {{"http", p->http->address()}, {"s3", p->s3->address()},
                            {"pg", p->pg->address()}};
  nlohmann::json ports{{"http", p->http->address()}, {"s3", p->s3->address()},
                       {"pg", p->pg->address()}};
  LM_TRY(WriteFileAtomic(dir + "/ports.json", ports.dump() + "\n", 0644));
  p->http->Start();
  p->s3->Start();
  p->pg->Start();
  if (demo_new) {
    // The dbt project of the demo (examples/dbt/shop) into the domain `shop`, in the background:
    // the server answers meanwhile, and the tables appear within a second.
    orchestrate::Products* products = p->products.get();
    p->demo_build = std::thread([open_engine, products, dir = work_dir + "/demo-dbt"] {
      // The demo's products are checked once, so that their pages have a quality history; the
      // next version of sales.orders on dev fails a rule.
      for (const auto& [domain, name, ref] : DemoProductChecks()) {
        auto run = products->Check(domain, name, ref, "demo");
        if (!run.ok()) {
          log::Warn("a demo product check did not run",
                    {{"product", domain + "." + name}, {"error", run.status().ToString()}});
        }
      }
      auto engine = open_engine();
      Result<std::string> built = engine.ok() ? BuildDemoDbt(**engine, dir) : engine.status();
      if (built.ok()) {
        log::Info("built the demo dbt project into domain shop", {{"result", *built}});
      } else {
        log::Warn("the demo dbt project did not build", {{"error", built.status().ToString()}});
      }
    });
  }
  // The search index catches up with what changed while the server was down (or is built the
  // first time), before the first search needs it.
  p->search_warmup = std::thread([search] {
    auto done = search->Update();
    if (!done.ok()) {
      log::Warn("the search index could not be brought up to date", {{"error", done.status().ToString()}});
    } else if (*done > 0) {
      log::Info("search index up to date", {{"domains_indexed", *done}});
    }
  });
  Parts* parts = p.get();
  p->maintenance = std::thread([parts] {
    std::unique_lock<std::mutex> lock(parts->maintenance_mu);
    while (!parts->maintenance_cv.wait_for(lock, std::chrono::hours(1),
                                           [parts] { return parts->stopping; })) {
      lock.unlock();
      auto aborted = parts->uploads->CollectAbandoned(versioning::kAbandonedUploadMicros);
      auto removed = parts->buckets->CollectGarbage(3600LL * 1000000);
      if (!aborted.ok() || !removed.ok()) {
        log::Warn("housekeeping failed",
                  {{"error", (!aborted.ok() ? aborted.status() : removed.status()).ToString()}});
      } else if (*aborted > 0 || *removed > 0) {
        log::Info("housekeeping", {{"uploads_aborted", *aborted}, {"bucket_blobs_deleted", *removed}});
      }
      lock.lock();
    }
  });

  if (created) {
    std::printf(
        "\nlakemesh generated an admin access key. It is shown only this once:\n\n"
        "  export LAKEMESH_URL=http://%s\n"
        "  export LAKEMESH_ACCESS_KEY_ID=%s\n"
        "  export LAKEMESH_SECRET_ACCESS_KEY=%s\n\n"
        "Open the web UI at http://%s/ and sign in with this key.\n\n",
        p->http->address().c_str(), created->id.c_str(), created->secret.c_str(),
        p->http->address().c_str());
    std::fflush(stdout);
    OfferCliConfig(*created, p->http->address());
  }
  log::Info("lakemesh ready",
            {{"http", p->http->address()},
             {"ui", "http://" + p->http->address() + "/"},
             {"s3", p->s3->address()},
             {"pg", p->pg->address()},
             {"data", dir},
             {"startup_ms", static_cast<double>(MonotonicMicros() - t0) / 1000.0}});
  return std::unique_ptr<Application>(new Application(std::move(p)));
}

bool Application::Stop() {
  if (!parts_ || parts_->stopped) return true;
  parts_->stopped = true;
  {
    std::lock_guard<std::mutex> lock(parts_->maintenance_mu);
    parts_->stopping = true;
  }
  parts_->maintenance_cv.notify_all();
  if (parts_->maintenance.joinable()) parts_->maintenance.join();
  if (parts_->demo_build.joinable()) parts_->demo_build.join();
  if (parts_->search_warmup.joinable()) parts_->search_warmup.join();
  auto drain = std::chrono::seconds(parts_->opts.shutdown_timeout_seconds);
  log::Info("shutting down: no new connections, finishing in-flight requests");
  parts_->pg->Stop();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(drain);
  bool drained = parts_->s3->Stop(ms);
  drained = parts_->http->Stop(ms) && drained;
  parts_->trino->Stop();  // cancels the queries still running
  if (!drained) {
    log::Warn("shutdown timeout: requests still running were cut off",
              {{"timeout_s", parts_->opts.shutdown_timeout_seconds}});
    return false;
  }
  parts_->repos->SetHeadObserver(nullptr);  // the search index goes before the repositories
  log::Info("stopped");
  return true;
}

}  // namespace lakemesh::app
