// The PostgreSQL wire protocol listener. Until SQL is served it completes the startup exchange
// (declining SSL) and answers with a FATAL ErrorResponse, SQLSTATE 0A000, so psql and drivers
// print a clear message. Thread-safe; Stop() closes the socket and waits for its thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"

namespace lakemesh::pgwire {

class PgListener {
 public:
  static Result<std::unique_ptr<PgListener>> Listen(const std::string& host, uint16_t port);
  ~PgListener();
  void Start();
  void Stop();
  const std::string& address() const { return address_; }

 private:
  PgListener(int fd, std::string address) : fd_(fd), address_(std::move(address)) {}
  void Loop();
  int fd_;
  std::string address_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lakemesh::pgwire
