#include "server/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <limits>

#include "base/log.h"
#include "base/time.h"
#include "server/internal/request_header.h"

namespace lakemesh::server {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;

namespace {

// How long a worker waits for the next request on a connection it just served.
constexpr int kWorkerLingerMs = 5;

// A connected socket as a Beast SyncReadStream/SyncWriteStream with a timeout on every wait.
class FdStream {
 public:
  FdStream(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    ec = {};
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      net::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      while (true) {
        ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
        if (n > 0) {
          bytes_in_ += static_cast<uint64_t>(n);
          return static_cast<size_t>(n);
        }
        if (n == 0) {
          ec = net::error::eof;
          return 0;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          ec = beast::error_code(errno, beast::system_category());
          return 0;
        }
        if (!Wait(POLLIN, ec)) return 0;
      }
    }
    return 0;
  }

  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, beast::error_code& ec) {
    // All the buffers in one sendmsg: a response header goes out as one packet.
    ec = {};
    iovec iov[16];
    int n = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && n < 16; ++it) {
      net::const_buffer b = *it;
      if (b.size() == 0) continue;
      iov[n].iov_base = const_cast<void*>(b.data());
      iov[n].iov_len = b.size();
      ++n;
    }
    if (n == 0) return 0;
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    while (true) {
      ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (sent >= 0) {
        bytes_out_ += static_cast<uint64_t>(sent);
        return static_cast<size_t>(sent);
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = beast::error_code(errno, beast::system_category());
        return 0;
      }
      if (!Wait(POLLOUT, ec)) return 0;
    }
  }

  size_t WriteRaw(const void* data, size_t len, beast::error_code& ec) {
    while (true) {
      ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
      if (n >= 0) {
        bytes_out_ += static_cast<uint64_t>(n);
        return static_cast<size_t>(n);
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = beast::error_code(errno, beast::system_category());
        return 0;
      }
      if (!Wait(POLLOUT, ec)) return 0;
    }
  }

  bool WriteAll(const void* data, size_t len, beast::error_code& ec) {
    const char* p = static_cast<const char*>(data);
    while (len > 0) {
      size_t n = WriteRaw(p, len, ec);
      if (ec) return false;
      p += n;
      len -= n;
    }
    return true;
  }

  bool SendFile(int in_fd, uint64_t offset, uint64_t len, beast::error_code& ec) {
    auto off = static_cast<off_t>(offset);
    while (len > 0) {
      ssize_t n = ::sendfile(fd_, in_fd, &off, std::min<uint64_t>(len, 1 << 30));
      if (n > 0) {
        bytes_out_ += static_cast<uint64_t>(n);
        len -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) {
        ec = net::error::eof;
        return false;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        ec = beast::error_code(errno, beast::system_category());
        return false;
      }
      if (!Wait(POLLOUT, ec)) return false;
    }
    return true;
  }

  void CountIn(uint64_t n) { bytes_in_ += n; }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  bool Wait(short events, beast::error_code& ec) {
    pollfd p{fd_, events, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ec = net::error::timed_out;
      return false;
    }
    if (rc < 0) {
      ec = beast::error_code(errno, beast::system_category());
      return false;
    }
    return true;
  }

  int fd_;
  std::chrono::milliseconds timeout_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

using Parser = http::request_parser<http::buffer_body>;

class ParserBody final : public BodyReader {
 public:
  ParserBody(FdStream& s, beast::flat_buffer& buf, Parser& p, bool expect_continue)
      : s_(s), buf_(buf), p_(p), expect_continue_(expect_continue) {}

  Result<size_t> Read(char* out, size_t n) override {
    if (expect_continue_) {
      expect_continue_ = false;
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      beast::error_code ec;
      if (!s_.WriteAll(kContinue, sizeof(kContinue) - 1, ec)) {
        return IoError("client connection lost: " + ec.message());
      }
    }
    if (p_.is_done() || n == 0) return size_t{0};
    while (true) {
      p_.get().body().data = out;
      p_.get().body().size = n;
      beast::error_code ec;
      http::read(s_, buf_, p_, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        if (ec == net::error::timed_out) return IoError("timed out reading the request body");
        return InvalidArgument("bad request body: " + ec.message());
      }
      size_t got = n - p_.get().body().size;
      if (got > 0 || p_.is_done()) {
        read_ += got;
        return got;
      }
    }
  }

  std::optional<uint64_t> content_length() const override {
    auto cl = p_.content_length();
    if (cl) return static_cast<uint64_t>(*cl);
    return std::nullopt;
  }
  uint64_t bytes_read() const override { return read_; }
  bool expect_continue_pending() const { return expect_continue_; }

 private:
  FdStream& s_;
  beast::flat_buffer& buf_;
  Parser& p_;
  bool expect_continue_;
  uint64_t read_ = 0;
};

// Drains the rest of a small request body so the connection can be reused.
bool DrainBody(ParserBody& body) {
  auto cl = body.content_length();
  if (!cl || *cl - body.bytes_read() > (1 << 20)) return false;
  char buf[16384];
  while (true) {
    auto n = body.Read(buf, sizeof(buf));
    if (!n.ok()) return false;
    if (*n == 0) return true;
  }
}


}  // namespace

Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text) {
  auto bad = [&] {
    return InvalidArgument("invalid address '" + text + "': use HOST:PORT, e.g. 127.0.0.1:8080");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad();
  std::string host = text.substr(0, colon);
  std::string port_s = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  if (port_s.empty() || port_s.size() > 5) return bad();
  int port = 0;
  for (char c : port_s) {
    if (c < '0' || c > '9') return bad();
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return bad();
  return std::make_pair(host, static_cast<uint16_t>(port));
}

HttpServer::HttpServer(ListenOptions opts, Handler handler, Metrics& metrics, int fd,
                       std::string address)
    : opts_(std::move(opts)),
      handler_(std::move(handler)),
      metrics_(metrics),
      listen_fd_(fd),
      address_(std::move(address)) {}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Listen(const ListenOptions& opts, Handler handler,
                                                       Metrics& metrics) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(opts.port);
  int rc = ::getaddrinfo(opts.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return InvalidArgument("cannot resolve listen address '" + opts.host + "': " +
                           gai_strerror(rc));
  }
  int fd = -1;
  std::string err;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) break;
    err = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    return Unavailable("cannot listen on " + opts.host + ":" + port + " for " + opts.api + ": " +
                       err + " (is another server using that port? pick another, or port 0)");
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  char host[INET6_ADDRSTRLEN] = {0};
  uint16_t bound = 0;
  std::string address;
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    bound = ntohs(a->sin6_port);
    address = "[" + std::string(host) + "]:" + std::to_string(bound);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    bound = ntohs(a->sin_port);
    address = std::string(host) + ":" + std::to_string(bound);
  }
  return std::unique_ptr<HttpServer>(
      new HttpServer(opts, std::move(handler), metrics, fd, std::move(address)));
}

// One accepted connection. It belongs to an event loop while it waits for a request and while a
// short request is served inline; to a worker thread while a request with a body, or a large
// response, is in progress.
struct HttpServer::Conn {
  Conn(int fd, std::string remote, std::chrono::milliseconds timeout)
      : fd(fd), remote(std::move(remote)), stream(fd, timeout) {}
  int fd;
  std::string remote;
  FdStream stream;
  beast::flat_buffer buf;          // bytes read and not yet parsed
  std::unique_ptr<Parser> parser;  // the request being read
  uint64_t in_mark = 0;            // stream.bytes_in() where this request's bytes began
  int64_t since = MonotonicMicros();  // last activity, for the idle and header timeouts
  size_t loop = 0;
  // Owned by the loop thread while the connection is in its loop:
  bool awaiting_body = false;  // the header is read; the loop waits for the rest of a small body
  bool continue_sent = false;  // "100 Continue" already went out for this request
  bool busy = false;           // a deferred response is outstanding
  bool armed = true;           // registered for input (a busy connection is disarmed lazily)
  // A response whose body is too large to send from the event loop, for the worker to finish.
  struct Pending {
    Response res;
    std::string wire;  // serialized header
    uint64_t length = 0;
    std::unique_ptr<Served> info;
  };
  std::unique_ptr<Pending> pending;
};

// What the log line and metrics of a response need from its request.
struct HttpServer::Served {
  bool keep_alive = false;
  std::string method, path, principal;
  int64_t start = 0;
  uint64_t in0 = 0, out0 = 0;
};

struct HttpServer::Loop {
  int epfd = -1;
  int wake_fd = -1;  // eventfd: deferred responses are waiting in `finished`
  std::thread thread;
  std::mutex mu;
  std::vector<Conn*> incoming;  // GUARDED_BY(mu): new or returned connections
  bool closed = false;          // GUARDED_BY(mu): the loop has ended
  struct Finished {
    Conn* c;
    Response res;
    Served info;
  };
  std::vector<Finished> finished;  // GUARDED_BY(mu)
  size_t busy = 0;  // loop thread only: connections with a deferred response outstanding
};

void HttpServer::Start() {
  size_t n = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < n; ++i) {
    auto l = std::make_unique<Loop>();
    l->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // not a connection
    if (l->wake_fd < 0 || ::epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) != 0) {
      // Without a wake-up a deferred response would never be sent: bodies go to workers.
      log::Warn("cannot create an event loop's wake-up; small uploads go to worker threads",
                {{"api", opts_.api}, {"error", std::strerror(errno)}});
      opts_.defer_body = nullptr;
    }
    loops_.push_back(std::move(l));
  }
  for (size_t i = 0; i < loops_.size(); ++i) {
    loops_[i]->thread = std::thread([this, i] { EventLoop(i); });
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

void HttpServer::Adopt(Conn* c) {
  Loop& l = *loops_[c->loop];
  {
    std::lock_guard<std::mutex> lock(l.mu);
    if (!l.closed) {
      l.incoming.push_back(c);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.ptr = c;
      ::epoll_ctl(l.epfd, EPOLL_CTL_ADD, c->fd, &ev);
      return;
    }
  }
  Close(c);  // stopping: the loop has ended
}

void HttpServer::Close(Conn* c) {
  ::close(c->fd);
  delete c;
  metrics_.ConnectionClosed(opts_.api);
  std::lock_guard<std::mutex> lock(mu_);
  --active_;
  cv_.notify_all();
}

void HttpServer::AcceptLoop() {
  size_t next = 0;
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, 100);
    if (rc <= 0) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending connection stays queued; back off rather
        // than spin on a socket that stays readable.
        log::Warn("cannot accept connections", {{"api", opts_.api}, {"error", std::strerror(errno)}});
        ::usleep(50000);
      }
      continue;
    }
    char host[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, host, sizeof(host));
    } else {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, host, sizeof(host));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (active_ >= opts_.max_connections) {
        ::close(fd);
        continue;
      }
      ++active_;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    metrics_.ConnectionOpened(opts_.api);
    auto* c = new Conn(fd, host, opts_.io_timeout);
    c->loop = next++ % loops_.size();
    Adopt(c);
  }
}

// Reads what has arrived without waiting: 1 when a request header is complete, 0 when more is
// needed, -1 when the connection is to close (a 400 is sent for a malformed header).
int HttpServer::ReadHeader(Conn& c) {
  if (!c.parser) {
    c.since = MonotonicMicros();  // a header has io_timeout to arrive from now
    c.in_mark = c.stream.bytes_in() - c.buf.size();
    c.parser = std::make_unique<Parser>();
    c.continue_sent = false;
    c.parser->header_limit(64 * 1024);
    c.parser->body_limit(std::numeric_limits<std::uint64_t>::max());  // uploads may be any size
  }
  while (true) {
    if (c.buf.size() > 0) {
      beast::error_code ec;
      size_t n = c.parser->put(c.buf.data(), ec);
      c.buf.consume(n);
      if (!ec && c.parser->is_header_done()) return 1;
      if (ec && ec != http::error::need_more) {
        std::string msg = "Bad request: " + ec.message() + "\n";
        std::string resp = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: "
                           "close\r\nContent-Length: " + std::to_string(msg.size()) + "\r\n\r\n" + msg;
        beast::error_code wec;
        c.stream.WriteAll(resp.data(), resp.size(), wec);
        return -1;
      }
    }
    int got = Receive(c, 16384);
    if (got <= 0) return got;
  }
}

// Appends what has arrived, up to `max` bytes, to the connection's buffer without waiting: 1 if
// something came, 0 if nothing has, -1 if the connection closed or failed.
int HttpServer::Receive(Conn& c, size_t max) {
  while (true) {
    auto mb = c.buf.prepare(max);
    ssize_t n = ::recv(c.fd, mb.data(), mb.size(), MSG_DONTWAIT);
    if (n > 0) {
      c.buf.commit(static_cast<size_t>(n));
      c.stream.CountIn(static_cast<uint64_t>(n));
      return 1;
    }
    if (n == 0) return -1;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

void HttpServer::EventLoop(size_t index) {
  Loop& l = *loops_[index];
  std::unordered_set<Conn*> mine;
  epoll_event events[64];
  int64_t last_reap = MonotonicMicros();
  while (true) {
    {
      std::lock_guard<std::mutex> lock(l.mu);
      for (Conn* c : l.incoming) mine.insert(c);
      l.incoming.clear();
    }
    if (stopping_) {
      // Connections waiting for a request close now; those whose response is still being
      // produced (a commit) are answered first.
      std::vector<Conn*> idle;
      for (Conn* c : mine) {
        if (!c->busy) idle.push_back(c);
      }
      for (Conn* c : idle) {
        ::epoll_ctl(l.epfd, EPOLL_CTL_DEL, c->fd, nullptr);
        mine.erase(c);
        Close(c);
      }
      if (l.busy == 0) break;
    }
    int n = ::epoll_wait(l.epfd, events, 64, 100);
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Conn*>(events[i].data.ptr);
      if (!c) {
        woken = true;  // after the connections' events: finishing may close one listed here
        continue;
      }
      {
        // A connection a worker just gave back may still be listed as incoming: take it now, so
        // a later merge cannot list it again after it has moved on to a worker.
        std::lock_guard<std::mutex> lock(l.mu);
        auto it = std::find(l.incoming.begin(), l.incoming.end(), c);
        if (it != l.incoming.end()) l.incoming.erase(it);
      }
      mine.insert(c);
      if (c->busy || stopping_) {
        // Input for a connection whose response is not ready (a pipelined request, or a client
        // that went away): stop watching it until the response is out.
        if (c->armed) {
          epoll_event ev{};
          ev.data.ptr = c;
          ::epoll_ctl(l.epfd, EPOLL_CTL_MOD, c->fd, &ev);
          c->armed = false;
        }
        continue;
      }
      ServeInLoop(l, c, mine);
    }
    if (woken) FinishDeferred(l, mine);
    const int64_t now = MonotonicMicros();
    if (now - last_reap > 100000) {
      last_reap = now;
      std::vector<Conn*> expired;
      for (Conn* c : mine) {
        if (c->busy) continue;  // its response comes
        // Idle keep-alive connections, and requests whose header or body never completes.
        int64_t limit = (c->parser ? opts_.io_timeout : opts_.idle_timeout).count() * 1000000;
        if (now - c->since > limit) expired.push_back(c);
      }
      for (Conn* c : expired) {
        ::epoll_ctl(l.epfd, EPOLL_CTL_DEL, c->fd, nullptr);
        mine.erase(c);
        Close(c);
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(l.mu);
    l.closed = true;
    for (Conn* c : l.incoming) mine.insert(c);
    l.incoming.clear();
  }
  for (Conn* c : mine) Close(c);
  ::close(l.epfd);
  if (l.wake_fd >= 0) ::close(l.wake_fd);
}

// Serves what has arrived on `c`: requests without a body (or with a small one the handler may
// defer) here, anything else on a worker.
void HttpServer::ServeInLoop(Loop& l, Conn* c, std::unordered_set<Conn*>& mine) {
  auto drop = [&] {
    ::epoll_ctl(l.epfd, EPOLL_CTL_DEL, c->fd, nullptr);
    mine.erase(c);
    Close(c);
  };
  while (true) {
    int h = c->awaiting_body ? 1 : ReadHeader(*c);
    if (h == 0) return;
    if (h < 0) return drop();
    c->since = MonotonicMicros();
    bool in_loop = c->parser->is_done();
    bool defer = false;
    if (in_loop && opts_.offload) {
      auto target = c->parser->get().target();
      in_loop = !opts_.offload(std::string_view(target.data(), target.size()));
    }
    if (!c->parser->is_done() && (c->awaiting_body || DefersBody(*c))) {
      int b = ReadBody(*c);
      if (b == 0) {
        c->awaiting_body = true;
        return;
      }
      c->awaiting_body = false;
      if (b < 0) return drop();
      in_loop = defer = true;
    }
    if (in_loop) {
      Outcome o = ServeRequest(*c, /*in_loop=*/true, defer);
      if (o == Outcome::kDeferred) {
        ++l.busy;
        return;  // FinishDeferred goes on with the connection
      }
      if (o == Outcome::kKeep && !stopping_) {
        if (c->buf.size() > 0) continue;  // a pipelined request is already here
        return;
      }
      if (o == Outcome::kClose || stopping_) return drop();
    }
    // Hand the connection to a worker until the request is done.
    ::epoll_ctl(l.epfd, EPOLL_CTL_DEL, c->fd, nullptr);
    mine.erase(c);
    Dispatch(c);
    return;
  }
}

// Sends the deferred responses that other threads finished for this loop's connections.
void HttpServer::FinishDeferred(Loop& l, std::unordered_set<Conn*>& mine) {
  uint64_t count;
  while (::read(l.wake_fd, &count, sizeof(count)) < 0 && errno == EINTR) {
  }
  // The eventfd is read before the list is taken: a response queued after this point writes it
  // again (see the producer in ServeRequest).
  std::vector<Loop::Finished> finished;
  {
    std::lock_guard<std::mutex> lock(l.mu);
    finished.swap(l.finished);
  }
  for (auto& f : finished) {
    Conn* c = f.c;
    c->busy = false;
    --l.busy;
    if (stopping_) f.info.keep_alive = false;
    Outcome o = Respond(*c, f.res, f.info, /*in_loop=*/true);
    if (o == Outcome::kKeep && !stopping_) {
      if (!c->armed) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = c;
        ::epoll_ctl(l.epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->armed = true;
      }
      c->since = MonotonicMicros();
      if (c->buf.size() > 0) ServeInLoop(l, c, mine);  // pipelined behind it
      continue;
    }
    ::epoll_ctl(l.epfd, EPOLL_CTL_DEL, c->fd, nullptr);
    mine.erase(c);
    if (o == Outcome::kHandoff && !stopping_) {
      Dispatch(c);  // a large body: a worker sends it
    } else {
      Close(c);
    }
  }
}

// Whether the loop reads this request's body itself and lets the handler defer its response.
bool HttpServer::DefersBody(Conn& c) {
  if (!opts_.defer_body) return false;
  auto& h = c.parser->get();
  auto length = c.parser->content_length();
  if (!length || *length > ListenOptions::kMaxDeferredBody || c.parser->chunked()) return false;
  auto m = h.method_string();
  auto t = h.target();
  if (!opts_.defer_body(std::string_view(m.data(), m.size()), std::string_view(t.data(), t.size()))) {
    return false;
  }
  auto e = h.find(http::field::expect);
  if (e != h.end() && !c.continue_sent) {
    if (!beast::iequals(e->value(), "100-continue")) return false;
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::error_code ec;
    if (!c.stream.WriteAll(kContinue, sizeof(kContinue) - 1, ec)) return false;
    c.continue_sent = true;
  }
  return true;
}

// Reads what has arrived of the body without waiting: 1 when all of it is in the buffer, 0 when
// more is needed, -1 when the connection is to close.
int HttpServer::ReadBody(Conn& c) {
  const uint64_t need = *c.parser->content_length();
  while (c.buf.size() < need) {
    int got = Receive(c, static_cast<size_t>(need - c.buf.size()));
    if (got <= 0) return got;
  }
  return 1;
}

void HttpServer::Dispatch(Conn* c) {
  std::lock_guard<std::mutex> lock(work_mu_);
  work_.push_back(c);
  if (work_.size() > idle_workers_) {
    ++workers_;
    std::thread([this] { WorkerLoop(); }).detach();
  }
  work_cv_.notify_one();
}

// Workers wait for connections handed over by the event loops, and leave after a quiet while.
void HttpServer::WorkerLoop() {
  std::unique_lock<std::mutex> lock(work_mu_);
  while (true) {
    ++idle_workers_;
    bool got = work_cv_.wait_for(lock, std::chrono::seconds(5),
                                 [&] { return !work_.empty() || stopping_; });
    --idle_workers_;
    if (!got || work_.empty()) break;  // quiet for a while, or stopping
    Conn* c = work_.front();
    work_.pop_front();
    lock.unlock();
    Work(c);
    lock.lock();
  }
  --workers_;
  work_cv_.notify_all();
}

void HttpServer::Work(Conn* c) {
  bool keep = true;
  if (c->pending) {
    keep = FinishPending(*c);
  } else {
    keep = ServeRequest(*c, /*in_loop=*/false, /*can_defer=*/false) == Outcome::kKeep;
  }
  // Requests that already arrived behind this one are served here too, and so are those that
  // arrive within kWorkerLingerMs: a client that uploads usually sends its next request right
  // after the response, and serving it here saves handing the connection to its loop and back
  // to a worker (two thread switches per request).
  while (keep && !stopping_) {
    if (c->buf.size() == 0) {
      pollfd p{c->fd, POLLIN, 0};
      if (::poll(&p, 1, kWorkerLingerMs) <= 0) break;
    }
    int h = ReadHeader(*c);
    if (h <= 0) {
      keep = h == 0;  // an incomplete header goes back to the loop, which keeps reading it
      break;
    }
    keep = ServeRequest(*c, false, false) == Outcome::kKeep;
  }
  if (!keep || stopping_) {
    Close(c);
    return;
  }
  c->since = MonotonicMicros();
  Adopt(c);
}

HttpServer::Outcome HttpServer::ServeRequest(Conn& c, bool in_loop, bool can_defer) {
  FdStream& stream = c.stream;
  Parser& parser = *c.parser;
  Served info;
  info.start = MonotonicMicros();
  info.in0 = c.in_mark;
  info.out0 = stream.bytes_out();
  Request req;
  internal::FillRequest(parser.get(), &req);
  req.remote = c.remote;
  req.can_defer = can_defer;
  bool expect_continue = false;
  if (auto e = req.headers.Get("Expect"); e && !c.continue_sent) {
    expect_continue = beast::iequals(beast::string_view(e->data(), e->size()), "100-continue");
  }
  ParserBody body(stream, c.buf, parser, expect_continue);
  req.body = &body;

  Response res;
  try {
    res = handler_(req);
  } catch (const std::exception& e) {
    log::Error("handler threw", {{"error", e.what()}, {"path", req.path}});
    res = Response::Text(500, "internal error\n");
  }
  if (res.offload) {
    if (can_defer && body.bytes_read() == 0) {
      return Outcome::kHandoff;  // the parser still holds the request: a worker runs it again
    }
    log::Error("handler asked for a worker after reading the body", {{"path", req.path}});
    res = Response::Text(500, "internal error\n");
  }
  if (res.deferred && !can_defer) {
    log::Error("handler deferred a response it may not defer", {{"path", req.path}});
    res = Response::Text(500, "internal error\n");
  }

  info.keep_alive = parser.keep_alive() && !stopping_;
  // A final response to a request still waiting for "100 Continue": some clients (botocore)
  // then misread the next response on the connection, so it is the last one.
  if (body.expect_continue_pending()) info.keep_alive = false;
  if (!parser.is_done()) {
    // An unread body: skip it when small, else close (the client may still be sending it).
    if (body.expect_continue_pending() || !DrainBody(body)) info.keep_alive = false;
  }
  info.method = std::move(req.method);
  info.path = std::move(req.path);
  info.principal = std::move(req.principal);
  c.parser.reset();
  if (res.deferred) {
    c.busy = true;
    std::shared_ptr<DeferredResponse> d = std::move(res.deferred);
    Loop& l = *loops_[c.loop];
    Conn* conn = &c;
    d->OnFinish([&l, conn, info = std::move(info)](Response r) mutable {
      // Under the lock: once the loop has taken this response it may end, closing wake_fd.
      std::lock_guard<std::mutex> lock(l.mu);
      // A list that is not empty has a wake-up pending that the loop has not acted on yet.
      bool wake = l.finished.empty();
      l.finished.push_back(Loop::Finished{conn, std::move(r), std::move(info)});
      if (wake) {
        uint64_t one = 1;
        while (::write(l.wake_fd, &one, sizeof(one)) < 0 && errno == EINTR) {
        }
      }
    });
    return Outcome::kDeferred;
  }
  return Respond(c, res, info, in_loop);
}

// Sends a response, or (from an event loop) leaves a large body to a worker.
HttpServer::Outcome HttpServer::Respond(Conn& c, Response& res, Served& info, bool in_loop) {
  beast::error_code ec;
  http::response<http::empty_body> out{static_cast<http::status>(res.status), 11};
  out.set(http::field::server, "lakemesh");
  out.set(http::field::date, FormatHttpDate(NowMicros()));
  for (const auto& [k, v] : res.headers.all()) out.insert(k, v);
  uint64_t length = res.stream ? res.stream->size() : res.body.size();
  if (res.content_length) length = *res.content_length;
  bool no_body = res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
  if (!no_body) out.content_length(length);
  out.keep_alive(info.keep_alive);
  // The header, serialized by Beast into one string.
  std::string wire;
  http::response_serializer<http::empty_body> sr{out};
  sr.split(true);
  while (!ec && !sr.is_header_done()) {
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      for (auto b : beast::buffers_range_ref(buffers)) {
        wire.append(static_cast<const char*>(b.data()), b.size());
      }
      sr.consume(beast::buffer_bytes(buffers));
    });
  }
  bool ok = !ec;
  bool send_body = ok && !res.head && !no_body;
  // A small body goes out with the header in one write (one packet for a small object).
  constexpr uint64_t kInlineBody = 64 * 1024;
  if (send_body && !res.stream) {
    wire += res.body;
    send_body = false;
  } else if (send_body && length <= kInlineBody) {
    size_t at = wire.size();
    wire.resize(at + length);
    uint64_t got = 0;
    while (got < length) {
      auto n = res.stream->Read(wire.data() + at + got, length - got);
      if (!n.ok() || *n == 0) break;
      got += *n;
    }
    if (got == length) {
      send_body = false;
    } else {
      ok = false;  // cannot produce the promised length: send nothing, close the connection
    }
  }
  if (in_loop && send_body) {
    // A large body would hold the event loop: a worker sends it.
    auto p = std::make_unique<Conn::Pending>();
    p->wire = std::move(wire);
    p->length = length;
    p->info = std::make_unique<Served>(std::move(info));
    p->res = std::move(res);
    c.pending = std::move(p);
    return ok ? Outcome::kHandoff : Outcome::kClose;
  }
  bool keep = SendAndRecord(c, res, wire, length, send_body, ok, info);
  return keep ? Outcome::kKeep : Outcome::kClose;
}

bool HttpServer::FinishPending(Conn& c) {
  std::unique_ptr<Conn::Pending> p = std::move(c.pending);
  return SendAndRecord(c, p->res, p->wire, p->length, true, true, *p->info);
}

bool HttpServer::SendAndRecord(Conn& c, Response& res, const std::string& wire, uint64_t length,
                               bool send_body, bool ok, const Served& info) {
  FdStream& stream = c.stream;
  beast::error_code ec;
  if (ok) ok = stream.WriteAll(wire.data(), wire.size(), ec);
  if (ok && send_body) {
    if (auto lf = res.stream->LocalFile()) {
      ok = stream.SendFile(lf->first, lf->second, length, ec);
    } else {
      std::string chunk(256 * 1024, '\0');
      uint64_t left = length;
      while (ok && left > 0) {
        auto n = res.stream->Read(chunk.data(), std::min<uint64_t>(chunk.size(), left));
        if (!n.ok() || *n == 0) {
          ok = false;  // cannot finish the promised length: close the connection
          break;
        }
        ok = stream.WriteAll(chunk.data(), *n, ec);
        left -= *n;
      }
    }
  }
  double secs = static_cast<double>(MonotonicMicros() - info.start) / 1e6;
  uint64_t bytes_in = stream.bytes_in() - info.in0, bytes_out = stream.bytes_out() - info.out0;
  metrics_.ObserveRequest(opts_.api, info.method, res.status, secs, bytes_in, bytes_out);
  if (log::Enabled(log::Level::kInfo)) {
    log::Info("request", {{"api", opts_.api},
                          {"method", info.method},
                          {"path", info.path},
                          {"status", res.status},
                          {"ms", std::round(secs * 1e5) / 100},
                          {"in", bytes_in},
                          {"out", bytes_out},
                          {"principal", info.principal},
                          {"remote", c.remote}});
  }
  return ok && info.keep_alive;
}

bool HttpServer::Stop(std::chrono::milliseconds drain) {
  if (stopping_.exchange(true)) return true;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  for (auto& l : loops_) {
    if (l->thread.joinable()) l->thread.join();
  }
  const auto deadline = std::chrono::steady_clock::now() + drain;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return active_ == 0; })) return false;
  }
  // Every connection is closed; idle workers leave now (they reference this server).
  std::unique_lock<std::mutex> lock(work_mu_);
  work_cv_.notify_all();
  return work_cv_.wait_until(lock, deadline + std::chrono::seconds(1), [&] { return workers_ == 0; });
}

}  // namespace lakemesh::server
