#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.h"
#include "server/http_server.h"
#include "server/router.h"

namespace lakemesh::server {
namespace {

// A raw HTTP/1.1 client: what goes over the wire is exactly what the test writes.
class RawClient {
 public:
  explicit RawClient(const std::string& address) {
    auto hp = ParseHostPort(address);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(hp->second);
    ::inet_pton(AF_INET, hp->first.c_str(), &a.sin_addr);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawClient() { ::close(fd_); }
  void Send(const std::string& s) { ASSERT_EQ(::send(fd_, s.data(), s.size(), 0), static_cast<ssize_t>(s.size())); }
  // Reads until `marker` has been seen or the peer closes.
  std::string ReadUntil(const std::string& marker) {
    while (buf_.find(marker) == std::string::npos) {
      char b[4096];
      ssize_t n = ::recv(fd_, b, sizeof(b), 0);
      if (n <= 0) break;
      buf_.append(b, static_cast<size_t>(n));
    }
    std::string out = buf_;
    size_t at = buf_.find(marker);
    buf_ = at == std::string::npos ? "" : buf_.substr(at + marker.size());
    return out.substr(0, at == std::string::npos ? out.size() : at + marker.size());
  }
  bool Closed() {
    char b;
    return ::recv(fd_, &b, 1, 0) == 0;
  }

 private:
  int fd_;
  std::string buf_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::Init(log::Level::kDebug, log::Format::kText);
    router_.Add("GET", "/hello/{name}", [](Request& r) {
      return Response::Text(200, "hello " + r.params["name"]);
    });
    router_.Add("PUT", "/echo", [](Request& r) {
      std::string body;
      char buf[1000];
      while (true) {
        auto n = r.body->Read(buf, sizeof(buf));
        if (!n.ok()) return Response::Text(400, n.status().message());
        if (*n == 0) break;
        body.append(buf, *n);
      }
      return Response::Text(200, std::to_string(body.size()) + ":" + body.substr(0, 20));
    });
    router_.Add("PUT", "/reject", [](Request&) { return Response::Text(403, "no"); });
    router_.Add("GET", "/files/{path*}", [](Request& r) {
      return Response::Text(200, r.params["path"]);
    });
    ListenOptions o;
    o.api = "test";
    auto s = HttpServer::Listen(o, [this](Request& r) {
      bool matched;
      const Handler* h = router_.Match(r, &matched);
      return h ? (*h)(r) : Response::Text(matched ? 405 : 404, "none");
    }, metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    server_->Start();
  }

  Router router_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ServerTest, KeepAliveAndRouting) {
  RawClient c(server_->address());
  c.Send("GET /hello/w%C3%B6rld HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r1 = c.ReadUntil("hello wörld");
  EXPECT_NE(r1.find("HTTP/1.1 200 OK"), std::string::npos);
  c.Send("GET /files/a/b%2Fc.csv HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadUntil("a/b/c.csv").find("200 OK"), std::string::npos);
  c.Send("DELETE /hello/x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadUntil("none").find("405"), std::string::npos);
  EXPECT_NE(metrics_.Render().find("lakemesh_http_requests_total{api=\"test\",method=\"GET\",status=\"200\"} 2"),
            std::string::npos);
}

TEST_F(ServerTest, ChunkedAndExpectContinueBodies) {
  RawClient c(server_->address());
  c.Send("PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_NE(c.ReadUntil("11:hello world").find("200 OK"), std::string::npos);
  c.Send("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("100 Continue"), std::string::npos);
  c.Send("abc");
  EXPECT_NE(c.ReadUntil("3:abc").find("200 OK"), std::string::npos);
}

TEST_F(ServerTest, RejectedExpectContinueClosesTheConnection) {
  RawClient c(server_->address());
  c.Send("PUT /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
         "Expect: 100-continue\r\n\r\n");
  std::string r = c.ReadUntil("no");
  EXPECT_NE(r.find("403"), std::string::npos);
  EXPECT_EQ(r.find("100 Continue"), std::string::npos);
  EXPECT_TRUE(c.Closed());
}

TEST_F(ServerTest, MalformedRequestGets400) {
  RawClient c(server_->address());
  c.Send("GARBAGE\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("400 Bad Request"), std::string::npos);
}

TEST_F(ServerTest, HeadersArrivingSlowlyAfterAnIdlePeriodAreServed) {
  RawClient c(server_->address());
  c.Send("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("hello a");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // idle on a keep-alive connection
  c.Send("GET /hello/b HTTP/1.1\r\n");                          // then a header in pieces
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c.Send("Host: x\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c.Send("\r\n");
  EXPECT_NE(c.ReadUntil("hello b").find("hello b"), std::string::npos);
}

TEST_F(ServerTest, StopClosesIdleConnectionsPromptly) {
  RawClient c(server_->address());
  c.Send("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("hello a");
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(server_->Stop(std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_TRUE(c.Closed());
}

// A server whose loops read small PUT bodies and let the handler answer later, as the S3 port
// does for PutObject.
// The next response on `client` is a 200 whose body has `marker`.
#define EXPECT_OK_WITH(client, marker)                          \
  do {                                                          \
    std::string r_ = (client).ReadUntil(marker);                \
    EXPECT_NE(r_.find(marker), std::string::npos) << r_;        \
    EXPECT_NE(r_.find("200 OK"), std::string::npos) << r_;      \
  } while (0)

class DeferredServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::Init(log::Level::kDebug, log::Format::kText);
    ListenOptions o;
    o.api = "test";
    o.defer_body = [](std::string_view method, std::string_view) { return method == "PUT"; };
    auto s = HttpServer::Listen(o, [this](Request& r) { return Handle(r); }, metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop(std::chrono::seconds(5));
    for (auto& t : finishers_) t.join();
  }

  static std::string ReadAll(Request& r) {
    std::string body;
    char buf[1000];
    while (true) {
      auto n = r.body->Read(buf, sizeof(buf));
      if (!n.ok() || *n == 0) break;
      body.append(buf, *n);
    }
    return body;
  }

  Response Handle(Request& r) {
    if (r.method == "GET") return Response::Text(200, "got " + r.path);
    if (r.path == "/block") {
      // Would block: a worker runs it again, with the body still unread.
      if (r.can_defer) {
        offloaded_++;
        return Response::Offload();
      }
      return Response::Text(200, "worker " + ReadAll(r));
    }
    if (!r.can_defer) return Response::Text(200, "not deferred " + ReadAll(r));
    std::string body = ReadAll(r);
    auto d = std::make_shared<DeferredResponse>();
    std::lock_guard<std::mutex> lock(mu_);
    finishers_.emplace_back([d, body, delay = delay_ms_.load()] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      d->Finish(Response::Text(200, "later " + body));
    });
    Response res;
    res.deferred = d;
    return res;
  }

  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<std::thread> finishers_;  // GUARDED_BY(mu_)
  std::atomic<int> delay_ms_{20};
  std::atomic<int> offloaded_{0};
};

TEST_F(DeferredServerTest, DeferredResponsesComeInOrderOnAKeptConnection) {
  RawClient c(server_->address());
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_OK_WITH(c, "later abc");
  c.Send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_OK_WITH(c, "got /g");
  // Pipelined: the second request waits in the buffer until the first one's response is out.
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy"
         "PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nzw"
         "GET /h HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string all = c.ReadUntil("got /h");
  size_t a = all.find("later xy"), b = all.find("later zw"), g = all.find("got /h");
  ASSERT_NE(a, std::string::npos) << all;
  ASSERT_NE(b, std::string::npos) << all;
  EXPECT_LT(a, b);
  EXPECT_LT(b, g);
}

TEST_F(DeferredServerTest, ABodyArrivingInPiecesIsWaitedFor) {
  RawClient c(server_->address());
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  c.Send("56789");
  EXPECT_OK_WITH(c, "later 0123456789");
}

TEST_F(DeferredServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  RawClient c(server_->address());
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("100 Continue"), std::string::npos);
  c.Send("body");
  std::string r = c.ReadUntil("later body");
  EXPECT_NE(r.find("200 OK"), std::string::npos);
  EXPECT_EQ(r.find("100 Continue"), std::string::npos);  // only once
  c.Send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_OK_WITH(c, "got /g");
}

TEST_F(DeferredServerTest, AnOffloadedRequestRunsOnAWorkerWithItsBody) {
  RawClient c(server_->address());
  c.Send("PUT /block HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_OK_WITH(c, "worker hello");
  EXPECT_EQ(offloaded_.load(), 1);
  // Back in the loop afterwards (once the worker has stopped waiting for a next request).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nq");
  EXPECT_OK_WITH(c, "later q");
}

TEST_F(DeferredServerTest, LargeAndChunkedBodiesGoToAWorker) {
  RawClient c(server_->address());
  std::string big(ListenOptions::kMaxDeferredBody + 1, 'x');
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
         "\r\n\r\n" + big);
  EXPECT_OK_WITH(c, "not deferred xxx");
  RawClient d(server_->address());
  d.Send("PUT /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_OK_WITH(d, "not deferred abc");
}

TEST_F(DeferredServerTest, AClientThatLeavesBeforeItsResponseDoesNoHarm) {
  delay_ms_ = 200;
  {
    RawClient gone(server_->address());
    gone.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }  // closed while the response is outstanding
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  delay_ms_ = 0;
  RawClient c(server_->address());
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nk");
  EXPECT_OK_WITH(c, "later k");
}

TEST_F(DeferredServerTest, StopAnswersOutstandingDeferredResponsesFirst) {
  delay_ms_ = 300;
  RawClient c(server_->address());
  c.Send("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(server_->Stop(std::chrono::seconds(5)));
  std::string r = c.ReadUntil("later ok");
  EXPECT_NE(r.find("200 OK"), std::string::npos);
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.Closed());
}

TEST(Http, Helpers) {
  log::Init(log::Level::kDebug, log::Format::kText);
  EXPECT_EQ(*PercentDecode("a%2Fb+c", true), "a/b c");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("%4", false).has_value());
  EXPECT_FALSE(PercentDecode("%zz", false).has_value());
  EXPECT_EQ(*PercentDecode("%41%42c", false), "ABc");
  EXPECT_EQ(*PercentDecode("", true), "");
  EXPECT_EQ(*PercentDecode("++%2b", true), "  +");
  EXPECT_FALSE(PercentDecode("ab%", true).has_value());
  EXPECT_EQ(PercentEncode("a b/~é", true), "a%20b/~%C3%A9");
  EXPECT_EQ(PercentEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(PercentEncode("a b/ü", true), "a%20b/%C3%BC");
  auto q = ParseQuery("path=raw%2Fx.csv&limit=10&flag");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].second, "raw/x.csv");
  EXPECT_EQ(q[2].first, "flag");
  EXPECT_EQ(ParseHostPort(":9000")->first, "127.0.0.1");
  EXPECT_EQ(ParseHostPort("[::1]:0")->first, "::1");
  EXPECT_FALSE(ParseHostPort("localhost").ok());
  EXPECT_FALSE(ParseHostPort("h:99999").ok());
}

}  // namespace
}  // namespace lakemesh::server
