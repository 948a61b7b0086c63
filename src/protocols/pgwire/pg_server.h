// The PostgreSQL wire protocol server: psql, JDBC, psycopg, node-postgres and BI tools connect
// to lakemesh's SQL engine on the --pg port. A thread per connection (clients hold few, long
// connections). The user name is an access key id and the password its secret: over TLS (when a
// certificate is configured and the client asks) the password is sent as is, otherwise
// SCRAM-SHA-256 proves it without sending it. Any database name is accepted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"

namespace lakemesh::governance {
class Credentials;
}
namespace lakemesh::sql {
class Engine;
class Session;
}  // namespace lakemesh::sql

namespace lakemesh::pgwire {

struct PgServices {
  governance::Credentials& credentials;
  // The SQL engine, opened on first use (DuckDB is not started until a client connects).
  std::function<Result<sql::Engine*>()> engine;
  // TLS: PEM certificate and key files; empty: SSL requests are declined.
  std::string tls_cert = {};
  std::string tls_key = {};
};

class PgServer {
 public:
  static Result<std::unique_ptr<PgServer>> Listen(const std::string& host, uint16_t port,
                                                  PgServices services);
  ~PgServer();
  void Start();
  // Stops accepting, cancels running statements, closes every connection and waits for them.
  void Stop();
  const std::string& address() const { return address_; }

  struct Conn;

 private:
  PgServer(int fd, std::string address, PgServices services)
      : fd_(fd), address_(std::move(address)), services_(std::move(services)) {}
  void* tls_ = nullptr;  // SSL_CTX*, when TLS is configured
  void AcceptLoop();
  void Serve(Conn& c);
  // Cancels the statement of the connection with this process id and key (a CancelRequest).
  void Cancel(uint32_t pid, uint32_t key);

  int fd_;
  std::string address_;
  PgServices services_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::list<std::shared_ptr<Conn>> conns_;  // GUARDED_BY(mu_)
  std::atomic<uint32_t> next_pid_{1000};
};

}  // namespace lakemesh::pgwire
