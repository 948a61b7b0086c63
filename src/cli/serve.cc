#include <malloc.h>
#include <signal.h>

#include "app/application.h"
#include "base/log.h"
#include "cli/commands.h"
#include "config/serve_options.h"

namespace lakemesh::cli {

void AddServe(CLI::App& app, Cli& cli) {
  auto opts = std::make_shared<config::ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Run the lakemesh server");
  const auto& docs = config::ServeOptionDocs();
  auto doc = [&](const char* flag) {
    for (const auto& d : docs) {
      if (std::string(d.flag) == flag) return std::string(d.help);
    }
    return std::string();
  };
  cmd->add_option("--data", opts->data_dir, doc("--data"))->capture_default_str();
  cmd->add_option("--http", opts->http, doc("--http"))->capture_default_str();
  cmd->add_option("--s3", opts->s3, doc("--s3"))->capture_default_str();
  cmd->add_option("--pg", opts->pg, doc("--pg"))->capture_default_str();
  cmd->add_option("--pg-tls-cert", opts->pg_tls_cert, doc("--pg-tls-cert"));
  cmd->add_option("--pg-tls-key", opts->pg_tls_key, doc("--pg-tls-key"));
  cmd->add_option("--sql-memory-limit", opts->sql_memory_limit, doc("--sql-memory-limit"));
  cmd->add_option("--sql-threads", opts->sql_threads, doc("--sql-threads"));
  cmd->add_option("--sql-cache-size", opts->sql_cache_size, doc("--sql-cache-size"));
  cmd->add_option("--trino-catalog", opts->trino_catalog, doc("--trino-catalog"));
  cmd->add_option("--product-policies", opts->product_policies, doc("--product-policies"));
  cmd->add_option("--s3-region", opts->s3_region, doc("--s3-region"))->capture_default_str();
  cmd->add_option("--s3-domain", opts->s3_domain, doc("--s3-domain"));
  cmd->add_flag("--demo", opts->demo, doc("--demo"));
  cmd->add_option("--log-level", opts->log_level, doc("--log-level"))->capture_default_str();
  cmd->add_option("--log-format", opts->log_format, doc("--log-format"))->capture_default_str();
  cmd->add_option("--shutdown-timeout", opts->shutdown_timeout_seconds, doc("--shutdown-timeout"))
      ->capture_default_str();
  cmd->callback([&cli, opts] {
    cli.action = [opts]() -> Status {
      LM_TRY(opts->Validate());
      log::Level level = opts->log_level == "debug" ? log::Level::kDebug
                         : opts->log_level == "warn" ? log::Level::kWarn
                         : opts->log_level == "error" ? log::Level::kError
                                                      : log::Level::kInfo;
      log::Format format = opts->log_format == "json"   ? log::Format::kJson
                           : opts->log_format == "text" ? log::Format::kText
                                                        : log::Format::kAuto;
      log::Init(level, format);
      // Block the stop signals in every thread; this thread waits for them.
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGINT);
      sigaddset(&set, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      signal(SIGPIPE, SIG_IGN);
      // glibc returns freed memory at the top of a heap to the kernel once more than 128 KiB
      // (adaptively more) is free there; for a server that builds and frees responses of tens
      // of KiB on many threads, that is an madvise and a TLB shootdown on every core several
      // times a request (a third of the CPU of Iceberg table loads). Keep up to 8 MiB per heap.
      // Fixing the trim threshold also fixes the mmap threshold, which glibc otherwise raises as
      // large blocks are freed; left at 128 KiB, every larger buffer would be mapped and unmapped
      // again (small S3 PUTs ran 25% slower), so it is set to where glibc lets it grow.
      mallopt(M_MMAP_THRESHOLD, 32 << 20);
      mallopt(M_TRIM_THRESHOLD, 8 << 20);
      LM_ASSIGN_OR_RETURN(auto application, app::Application::Start(*opts));
      int sig = 0;
      sigwait(&set, &sig);
      log::Info("signal received", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      if (!application->Stop()) std::_Exit(1);
      return Status::OK();
    };
  });
}

}  // namespace lakemesh::cli
