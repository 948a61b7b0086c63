#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

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
