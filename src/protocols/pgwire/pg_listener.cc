#include "protocols/pgwire/pg_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/http_server.h"

namespace lakemesh::pgwire {
namespace {

constexpr uint32_t kSslRequest = 80877103;
constexpr uint32_t kGssRequest = 80877104;

bool ReadExact(int fd, char* buf, size_t n) {
  while (n > 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    ssize_t got = ::recv(fd, buf, n, 0);
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

uint32_t Be32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

void Serve(int fd) {
  for (int round = 0; round < 3; ++round) {
    char hdr[8];
    if (!ReadExact(fd, hdr, 8)) return;
    uint32_t len = Be32(hdr);
    uint32_t code = Be32(hdr + 4);
    if (len < 8 || len > 10000) return;
    std::string rest(len - 8, '\0');
    if (!rest.empty() && !ReadExact(fd, rest.data(), rest.size())) return;
    if (code == kSslRequest || code == kGssRequest) {
      ::send(fd, "N", 1, MSG_NOSIGNAL);
      continue;
    }
    break;
  }
  std::string fields;
  auto field = [&](char type, const std::string& v) {
    fields.push_back(type);
    fields += v;
    fields.push_back('\0');
  };
  field('S', "FATAL");
  field('V', "FATAL");
  field('C', "0A000");
  field('M', "lakemesh: SQL over the PostgreSQL protocol is not available in this version");
  fields.push_back('\0');
  std::string msg = "E";
  uint32_t n = htonl(static_cast<uint32_t>(fields.size() + 4));
  msg.append(reinterpret_cast<const char*>(&n), 4);
  msg += fields;
  ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
}

}  // namespace

Result<std::unique_ptr<PgListener>> PgListener::Listen(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("--pg needs an IPv4 address, got '" + host + "'");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 128) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return Unavailable("cannot listen on " + host + ":" + std::to_string(port) +
                       " for pg: " + err + " (is another server using that port?)");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return std::unique_ptr<PgListener>(
      new PgListener(fd, host + ":" + std::to_string(ntohs(addr.sin_port))));
}

PgListener::~PgListener() {
  Stop();
  if (fd_ >= 0) ::close(fd_);
}

void PgListener::Start() { thread_ = std::thread([this] { Loop(); }); }

void PgListener::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void PgListener::Loop() {
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    Serve(c);
    ::close(c);
  }
}

}  // namespace lakemesh::pgwire
