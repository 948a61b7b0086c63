// HttpServer: one listening socket and the connections it accepts. Connections are spread over
// one epoll event loop per core. A loop reads request headers as they arrive, without blocking,
// and serves a request that has no body inline when its response is small (<= 64 KiB): one loop
// thread serves many ready connections without a context switch per request. A request with a
// body, or a large response, is handed with its connection to a pool of worker threads (blocking
// I/O under poll() timeouts, so a stalled client cannot hold a worker forever; sendfile for local
// files), which gives the connection back to its loop afterwards. Idle keep-alive connections and
// headers that never complete are closed by their loop. Beast parses requests and serializes
// responses. Handlers may block on disk or metadata; inline ones hold their loop meanwhile.
//
// A request with a small body that ListenOptions::defer_body accepts (an S3 PutObject) stays in
// its loop too: the loop reads the whole body without blocking, then runs the handler with
// Request::can_defer. The handler either answers at once, returns a DeferredResponse that another
// thread finishes (a metadata commit), or asks for a worker (Response::Offload). A finished
// deferred response is queued to the connection's loop, which an eventfd wakes; the loop sends it
// and goes on reading the connection. So a small upload costs no thread hand-off of its own: a
// batch of them wakes the metadata committer once and each loop once.
//
// Stop() stops accepting, lets in-flight requests finish (idle keep-alive connections are closed
// at once), and returns when every connection and worker has ended or the drain timeout passed.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "server/http.h"
#include "server/metrics.h"

namespace lakemesh::server {

struct ListenOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;   // 0 picks a free port
  std::string api;     // label for metrics and logs: "http", "s3", ...
  std::chrono::seconds idle_timeout{60};  // keep-alive connection with no request
  std::chrono::seconds io_timeout{60};    // no progress within a request
  size_t max_connections = 4096;
  // Requests whose handler may wait a while without reading a body (a long poll): served by a
  // worker thread, never inline in an event loop. Takes the request target.
  std::function<bool(std::string_view target)> offload;
  // Requests with a body of at most kMaxDeferredBody bytes (Content-Length) that are read whole
  // and served in the event loop with Request::can_defer. Takes the method and target.
  std::function<bool(std::string_view method, std::string_view target)> defer_body;
  static constexpr uint64_t kMaxDeferredBody = 128 * 1024;
};

// "HOST:PORT" -> (host, port). Accepts "[::1]:9000", ":9000" (127.0.0.1), "0.0.0.0:0".
Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text);

class HttpServer {
 public:
  // Binds and listens; serving starts with Start().
  static Result<std::unique_ptr<HttpServer>> Listen(const ListenOptions& opts, Handler handler,
                                                    Metrics& metrics);
  ~HttpServer();

  void Start();
  // Returns false if connections were still busy when `drain` ran out.
  bool Stop(std::chrono::milliseconds drain);
  // "127.0.0.1:8080" with the port actually bound.
  const std::string& address() const { return address_; }

 private:
  HttpServer(ListenOptions opts, Handler handler, Metrics& metrics, int fd, std::string address);
  struct Conn;
  struct Loop;
  struct Served;
  enum class Outcome { kKeep, kClose, kHandoff, kDeferred };
  void AcceptLoop();
  void EventLoop(size_t index);
  void ServeInLoop(Loop& l, Conn* c, std::unordered_set<Conn*>& mine);
  void FinishDeferred(Loop& l, std::unordered_set<Conn*>& mine);
  bool DefersBody(Conn& c);
  int ReadBody(Conn& c);
  void Work(Conn* c);
  void Dispatch(Conn* c);
  void WorkerLoop();
  void Adopt(Conn* c);
  void Close(Conn* c);
  int ReadHeader(Conn& c);
  int Receive(Conn& c, size_t max);
  Outcome ServeRequest(Conn& c, bool in_loop, bool can_defer);
  Outcome Respond(Conn& c, Response& res, Served& info, bool in_loop);
  bool FinishPending(Conn& c);
  bool SendAndRecord(Conn& c, Response& res, const std::string& wire, uint64_t length,
                     bool send_body, bool ok, const Served& info);

  ListenOptions opts_;
  Handler handler_;
  Metrics& metrics_;
  int listen_fd_;
  std::string address_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t active_ = 0;  // GUARDED_BY(mu_): open connections
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<Conn*> work_;    // GUARDED_BY(work_mu_): connections waiting for a worker
  size_t workers_ = 0;        // GUARDED_BY(work_mu_)
  size_t idle_workers_ = 0;   // GUARDED_BY(work_mu_): waiting and not yet promised work
};

}  // namespace lakemesh::server
