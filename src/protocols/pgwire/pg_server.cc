#include "protocols/pgwire/pg_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <map>

#include "base/log.h"
#include "base/random.h"
#include "governance/credentials.h"
#include "protocols/pgwire/messages.h"
#include "protocols/pgwire/scram.h"
#include "sql/engine.h"
#include "sql/statements.h"

namespace lakemesh::pgwire {

struct PgServer::Conn {
  int fd = -1;  // GUARDED_BY(mu) once the connection's thread runs; -1 when closed
  uint32_t pid = 0, key = 0;
  std::thread thread;
  std::atomic<bool> done{false};
  std::mutex mu;                   // guards session for Cancel
  sql::Session* session = nullptr;  // GUARDED_BY(mu)
};

namespace {

// Startup and authentication must finish within this time; a client that stalls is dropped.
constexpr int kStartupTimeoutMs = 30000;
// Rows are sent when this much is buffered (and at the end of each statement).
constexpr size_t kFlushBytes = 256 << 10;
// Connections beyond this are refused (as PostgreSQL's max_connections does), each being a
// thread and a DuckDB connection.
constexpr size_t kMaxConnections = 256;

// A connection's bytes, plain or through TLS, read through a buffer.
class Io {
 public:
  explicit Io(int fd) : fd_(fd) {}
  ~Io() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
  }
  Io(const Io&) = delete;
  Io& operator=(const Io&) = delete;

  // The TLS handshake (after answering 'S' to an SSLRequest), within `timeout_ms`.
  bool StartTls(SSL_CTX* ctx, int timeout_ms) {
    ssl_ = SSL_new(ctx);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return false;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int r = SSL_accept(ssl_);
    timeval none{0, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    return r == 1;
  }
  bool tls() const { return ssl_ != nullptr; }

  // Reads exactly `n` bytes; false on EOF, error or (with timeout_ms >= 0) a timeout.
  bool Read(char* out, size_t n, int timeout_ms) {
    while (n > 0) {
      if (pos_ == len_) {
        bool pending = ssl_ && SSL_pending(ssl_) > 0;
        if (timeout_ms >= 0 && !pending) {
          pollfd p{fd_, POLLIN, 0};
          if (::poll(&p, 1, timeout_ms) <= 0) return false;
        }
        ssize_t got = ssl_ ? SSL_read(ssl_, buf_, sizeof(buf_)) : ::recv(fd_, buf_, sizeof(buf_), 0);
        if (got <= 0) {
          if (!ssl_ && got < 0 && errno == EINTR) continue;
          return false;
        }
        pos_ = 0;
        len_ = static_cast<size_t>(got);
      }
      size_t take = std::min(n, len_ - pos_);
      std::memcpy(out, buf_ + pos_, take);
      pos_ += take;
      out += take;
      n -= take;
    }
    return true;
  }
  bool buffered() const { return pos_ < len_; }

  bool Write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n;
      if (ssl_) {
        n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
        if (n <= 0) return false;
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          return false;
        }
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
  char buf_[64 << 10];
  size_t pos_ = 0, len_ = 0;
};

uint32_t Be32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

struct TypeInfo {
  int32_t oid;
  int16_t len;
};

TypeInfo PgType(sql::ColumnType t) {
  using T = sql::ColumnType;
  switch (t) {
    case T::kBool: return {16, 1};
    case T::kInt16: return {21, 2};
    case T::kInt32: return {23, 4};
    case T::kInt64: return {20, 8};
    case T::kFloat32: return {700, 4};
    case T::kFloat64: return {701, 8};
    case T::kNumeric: return {1700, -1};
    case T::kText: return {25, -1};
    case T::kBytes: return {17, -1};
    case T::kDate: return {1082, 4};
    case T::kTime: return {1083, 8};
    case T::kTimestamp: return {1114, 8};
    case T::kTimestamptz: return {1184, 8};
    case T::kInterval: return {1186, 16};
    case T::kUuid: return {2950, 16};
    case T::kJson: return {114, -1};
    case T::kOther: return {25, -1};
  }
  return {25, -1};
}

// A result column's type: a list of a primitive type is an array of it (the engine writes it
// in array_out's text form), anything else nested is text.
TypeInfo PgType(const sql::ResultColumn& c) {
  if (c.nested == sql::ResultColumn::Nested::kList && c.children.size() == 1 &&
      c.children[0].nested == sql::ResultColumn::Nested::kNone) {
    const uint32_t element = static_cast<uint32_t>(PgType(c.children[0].type).oid);
    if (uint32_t array = ArrayOid(element)) return {static_cast<int32_t>(array), -1};
    return {1009, -1};  // text[]: elements of a type with no array OID here are text
  }
  return PgType(c.type);
}

// The engine type of a parameter type OID a client declared (nullopt: unspecified or unknown).
std::optional<sql::ColumnType> ScalarFromOid(uint32_t oid) {
  using T = sql::ColumnType;
  switch (oid) {
    case 16: return T::kBool;
    case 21: return T::kInt16;
    case 23: return T::kInt32;
    case 20: return T::kInt64;
    case 700: return T::kFloat32;
    case 701: return T::kFloat64;
    case 25:
    case 1043:
    case 1042:
    case 19: return T::kText;
    case 17: return T::kBytes;
    case 1082: return T::kDate;
    case 1083: return T::kTime;
    case 1114: return T::kTimestamp;
    case 1184: return T::kTimestamptz;
    case 1186: return T::kInterval;
    case 2950: return T::kUuid;
    case 114:
    case 3802: return T::kJson;
    default: return std::nullopt;
  }
}

// ... or an array of one (int4[] 1007: a list of int4).
std::optional<sql::Session::DeclaredType> FromOid(uint32_t oid) {
  if (auto t = ScalarFromOid(oid)) return sql::Session::DeclaredType{*t, false};
  if (uint32_t element = ArrayElementOid(oid)) {
    if (auto t = ScalarFromOid(element)) return sql::Session::DeclaredType{*t, true};
  }
  return std::nullopt;
}

sql::Session::Declared DeclaredTypes(const std::vector<uint32_t>& oids) {
  sql::Session::Declared out;
  for (uint32_t oid : oids) out.push_back(FromOid(oid));
  return out;
}

// Writes a statement's rows as RowDescription and DataRow messages, sending when enough is
// buffered. `formats` are the client's result format codes (none: all text; one: for all
// columns; else one per column); binary values are encoded from the engine's text.
class WireSink : public sql::ResultSink {
 public:
  WireSink(Io& io, MessageWriter& w, bool describe, std::vector<int16_t> formats = {},
           std::vector<sql::ResultColumn> columns = {})
      : io_(io), w_(w), describe_(describe), formats_(std::move(formats)) {
    SetColumns(columns);
  }
  Status Columns(const std::vector<sql::ResultColumn>& columns) override {
    SetColumns(columns);
    if (!describe_) return Status::OK();
    w_.Begin('T');
    w_.Int16(static_cast<int16_t>(columns.size()));
    for (size_t i = 0; i < columns.size(); ++i) {
      TypeInfo t = PgType(columns[i]);
      w_.CString(columns[i].name);
      w_.Int32(0);  // table oid
      w_.Int16(0);  // column number
      w_.Int32(t.oid);
      w_.Int16(t.len);
      w_.Int32(-1);  // type modifier
      w_.Int16(binary_[i] ? 1 : 0);
    }
    w_.End();
    return Status::OK();
  }
  Status Row(const std::vector<std::optional<std::string_view>>& values) override {
    w_.Begin('D');
    w_.Int16(static_cast<int16_t>(values.size()));
    for (size_t i = 0; i < values.size(); ++i) {
      const auto& v = values[i];
      if (!v) {
        w_.Int32(-1);
        continue;
      }
      if (i < binary_.size() && binary_[i]) {
        auto b = TextToBinary(oids_[i], *v);
        if (!b.ok()) {
          w_.Abandon();  // the row's message is never sent half-written; the error follows
          return b.status();
        }
        w_.Int32(static_cast<int32_t>(b->size()));
        w_.Bytes(*b);
        continue;
      }
      w_.Int32(static_cast<int32_t>(v->size()));
      w_.Bytes(*v);
    }
    w_.End();
    if (w_.size() >= kFlushBytes) {
      if (!io_.Write(w_.buffer())) return Unavailable("client connection closed");
      w_.Clear();
    }
    return Status::OK();
  }

 private:
  void SetColumns(const std::vector<sql::ResultColumn>& columns) {
    binary_.assign(columns.size(), false);
    oids_.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      oids_.push_back(static_cast<uint32_t>(PgType(columns[i]).oid));
      int16_t f = formats_.empty() ? 0 : formats_.size() == 1 ? formats_[0]
                                   : i < formats_.size()      ? formats_[i]
                                                              : 0;
      binary_[i] = f == 1;
    }
  }
  Io& io_;
  MessageWriter& w_;
  bool describe_;
  std::vector<int16_t> formats_;
  std::vector<bool> binary_;
  std::vector<uint32_t> oids_;
};

// COPY ... TO STDOUT: CopyOutResponse, a CopyData message per row, CopyDone.
class CopySink : public sql::ResultSink {
 public:
  CopySink(Io& io, MessageWriter& w, sql::CopyToStdout copy)
      : io_(io), w_(w), copy_(std::move(copy)) {}
  Status Columns(const std::vector<sql::ResultColumn>& columns) override {
    w_.Begin('H');
    w_.Byte(0);  // text
    w_.Int16(static_cast<int16_t>(columns.size()));
    for (size_t i = 0; i < columns.size(); ++i) w_.Int16(0);
    w_.End();
    started_ = true;
    if (copy_.header) {
      std::vector<std::optional<std::string_view>> names;
      for (const auto& c : columns) names.emplace_back(c.name);
      Data(sql::FormatCopyRow(copy_, names));
    }
    return Status::OK();
  }
  Status Row(const std::vector<std::optional<std::string_view>>& values) override {
    Data(sql::FormatCopyRow(copy_, values));
    if (w_.size() >= kFlushBytes) {
      if (!io_.Write(w_.buffer())) return Unavailable("client connection closed");
      w_.Clear();
    }
    return Status::OK();
  }
  void Done() {
    if (!started_) return;
    w_.Begin('c');
    w_.End();
  }

 private:
  void Data(const std::string& line) {
    w_.Begin('d');
    w_.Bytes(line);
    w_.End();
  }
  Io& io_;
  MessageWriter& w_;
  sql::CopyToStdout copy_;
  bool started_ = false;
};

ErrorFields Fatal(std::string sqlstate, std::string message) {
  ErrorFields e;
  e.severity = "FATAL";
  e.sqlstate = std::move(sqlstate);
  e.message = std::move(message);
  return e;
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Listen(const std::string& host, uint16_t port,
                                                   PgServices services) {
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
  SSL_CTX* ctx = nullptr;
  if (!services.tls_cert.empty()) {
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, services.tls_cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, services.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      char err[256];
      ERR_error_string_n(ERR_get_error(), err, sizeof(err));
      SSL_CTX_free(ctx);
      ::close(fd);
      return InvalidArgument("cannot use the TLS certificate " + services.tls_cert + " and key " +
                             services.tls_key + " for the PostgreSQL port: " + err);
    }
  }
  auto server = std::unique_ptr<PgServer>(
      new PgServer(fd, host + ":" + std::to_string(ntohs(addr.sin_port)), std::move(services)));
  server->tls_ = ctx;
  return server;
}

PgServer::~PgServer() {
  Stop();
  if (fd_ >= 0) ::close(fd_);
  if (tls_) SSL_CTX_free(static_cast<SSL_CTX*>(tls_));
}

void PgServer::Start() { thread_ = std::thread([this] { AcceptLoop(); }); }

void PgServer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  std::list<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& c : conns_) {
      std::lock_guard<std::mutex> cl(c->mu);
      if (c->session) c->session->Cancel();
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);  // not yet closed by its thread
    }
    conns.swap(conns_);
  }
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
  }
}

void PgServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> lock(mu_);
    // Reap finished connections.
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
    if (conns_.size() >= kMaxConnections) {
      MessageWriter w;
      ErrorFields e;
      e.severity = "FATAL";
      e.sqlstate = "53300";
      e.message = "sorry, too many clients already (" + std::to_string(kMaxConnections) + ")";
      WriteError(w, e);
      (void)::send(fd, w.buffer().data(), w.buffer().size(), MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    auto c = std::make_shared<Conn>();
    c->fd = fd;
    c->pid = next_pid_++;
    uint32_t key;
    std::string r = RandomBytes(4);
    std::memcpy(&key, r.data(), 4);
    c->key = key;
    Conn* raw = c.get();
    c->thread = std::thread([this, raw] {
      Serve(*raw);
      {
        std::lock_guard<std::mutex> lock(raw->mu);
        ::close(raw->fd);
        raw->fd = -1;
      }
      raw->done = true;
    });
    conns_.push_back(std::move(c));
  }
}

void PgServer::Cancel(uint32_t pid, uint32_t key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : conns_) {
    if (c->pid == pid && c->key == key) {
      std::lock_guard<std::mutex> cl(c->mu);
      if (c->session) c->session->Cancel();
      return;
    }
  }
}

void PgServer::Serve(Conn& c) {
  Io in(c.fd);
  MessageWriter w;
  auto send = [&] {
    bool ok = in.Write(w.buffer());
    w.Clear();
    return ok;
  };
  auto fatal = [&](ErrorFields e) {
    WriteError(w, e);
    send();
  };

  // --- startup: SSLRequest / GSSENCRequest are declined, CancelRequest served, then 3.0 ---
  StartupPacket startup;
  for (int round = 0;; ++round) {
    char hdr[4];
    if (!in.Read(hdr, 4, kStartupTimeoutMs)) return;
    uint32_t len = Be32(hdr);
    if (len < 8 || len > kMaxStartupLength) {
      return fatal(Fatal("08P01", "invalid startup packet length " + std::to_string(len)));
    }
    std::string body(len - 4, '\0');
    if (!in.Read(body.data(), body.size(), kStartupTimeoutMs)) return;
    auto p = ParseStartup(body);
    if (!p.ok()) return fatal(Fatal("08P01", p.status().message()));
    if (p->kind == StartupPacket::Kind::kCancel) return Cancel(p->cancel_pid, p->cancel_key);
    if (p->kind == StartupPacket::Kind::kSsl || p->kind == StartupPacket::Kind::kGss) {
      if (round > 2 || in.buffered()) return;  // bytes sent before our answer: not a client
      const bool tls = p->kind == StartupPacket::Kind::kSsl && tls_ && !in.tls();
      if (!in.Write(tls ? "S" : "N")) return;
      if (tls && !in.StartTls(static_cast<SSL_CTX*>(tls_), kStartupTimeoutMs)) return;
      continue;
    }
    startup = std::move(*p);
    break;
  }
  const std::string user = startup.params.count("user") ? startup.params["user"] : "";
  if (user.empty()) {
    return fatal(Fatal("28000", "no PostgreSQL user name specified in startup packet (the user "
                                "is a lakemesh access key id)"));
  }

  // --- SCRAM-SHA-256 ---
  auto read_message = [&](char* type, std::string* body, int timeout_ms) {
    char hdr[5];
    if (!in.Read(hdr, 5, timeout_ms)) return false;
    *type = hdr[0];
    uint32_t len = Be32(hdr + 1);
    if (len < 4 || len > kMaxMessageLength) {
      fatal(Fatal("08P01", "invalid message length " + std::to_string(len)));
      return false;
    }
    body->assign(len - 4, '\0');
    return in.Read(body->data(), body->size(), timeout_ms);
  };
  const std::string auth_failed = "password authentication failed for user \"" + user + "\"";
  {
    char type;
    std::string body;
    std::string owner;
    if (in.tls()) {
      // Over TLS the password itself is sent (AuthenticationCleartextPassword).
      WriteAuthentication(w, 3);
      if (!send()) return;
      if (!read_message(&type, &body, kStartupTimeoutMs)) return;
      if (type != 'p') return fatal(Fatal("08P01", "expected a password message"));
      auto password = ParseQuery(body);  // one NUL-terminated string
      if (!password.ok()) return fatal(Fatal("08P01", "malformed password message"));
      auto who = services_.credentials.VerifySecret(user, *password);
      if (!who.ok()) return fatal(Fatal("28P01", auth_failed));
      owner = who->name;
    } else {
      std::string mechanisms = "SCRAM-SHA-256";
      mechanisms.push_back('\0');
      mechanisms.push_back('\0');
      WriteAuthentication(w, 10, mechanisms);
      if (!send()) return;
      if (!read_message(&type, &body, kStartupTimeoutMs)) return;
      if (type != 'p') return fatal(Fatal("08P01", "expected a SASL response"));
      auto initial = ParseSaslInitial(body);
      if (!initial.ok()) return fatal(Fatal("08P01", initial.status().message()));
      if (initial->mechanism != "SCRAM-SHA-256" || !initial->data) {
        return fatal(Fatal("28000", "unsupported SASL mechanism '" + initial->mechanism +
                                        "': lakemesh offers SCRAM-SHA-256"));
      }
      ScramServer scram;
      auto server_first = scram.Start(*initial->data);
      if (!server_first.ok()) return fatal(Fatal("08P01", server_first.status().message()));
      WriteAuthentication(w, 11, *server_first);
      if (!send()) return;
      if (!read_message(&type, &body, kStartupTimeoutMs)) return;
      if (type != 'p') return fatal(Fatal("08P01", "expected a SASL response"));
      std::optional<std::string> secret;
      if (auto key = services_.credentials.LookupKey(user); key.ok()) {
        secret = key->secret;
        owner = key->owner;
      }
      auto server_final = scram.Finish(body, secret);
      if (!server_final.ok()) {
        return fatal(Fatal(server_final.status().code() == ErrorCode::kUnauthenticated ? "28P01"
                                                                                        : "08P01",
                           server_final.status().code() == ErrorCode::kUnauthenticated
                               ? auth_failed
                               : server_final.status().message()));
      }
      WriteAuthentication(w, 12, *server_final);
    }
    WriteAuthentication(w, 0);
    auto engine = services_.engine();
    if (!engine.ok()) return fatal(Fatal("57P03", engine.status().message()));
    auto session = (*engine)->Connect(owner);
    if (!session.ok()) return fatal(Fatal("57P03", session.status().message()));
    std::unique_ptr<sql::Session> s = std::move(*session);
    {
      std::lock_guard<std::mutex> lock(c.mu);
      c.session = s.get();
    }
    const std::string app = startup.params.count("application_name")
                                ? startup.params["application_name"]
                                : "";
    for (const auto& [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
             {"server_version", "16.0 (lakemesh)"},
             {"server_encoding", "UTF8"},
             {"client_encoding", "UTF8"},
             {"DateStyle", "ISO, MDY"},
             {"IntervalStyle", "postgres"},
             {"TimeZone", "UTC"},
             {"integer_datetimes", "on"},
             {"standard_conforming_strings", "on"},
             {"is_superuser", "off"},
             {"session_authorization", user},
             {"application_name", app}}) {
      WriteParameterStatus(w, k, v);
    }
    w.Begin('K');
    w.Int32(static_cast<int32_t>(c.pid));
    w.Int32(static_cast<int32_t>(c.key));
    w.End();

    // --- queries ---
    bool failed_transaction = false;
    auto status = [&] {
      if (!s->in_transaction()) return 'I';
      return failed_transaction ? 'E' : 'T';
    };
    auto write_error = [&](const sql::SqlError& err) {
      ErrorFields e;
      e.sqlstate = err.sqlstate;
      e.message = err.message;
      WriteError(w, e);
      if (s->in_transaction()) failed_transaction = true;
    };
    // In a failed transaction only its end is run.
    auto refused_in_failed = [&](std::string_view statement) {
      if (!failed_transaction) return false;
      auto kw = sql::LeadingKeywords(statement, 1);
      bool ends = !kw.empty() && (kw[0] == "ROLLBACK" || kw[0] == "ABORT" || kw[0] == "COMMIT" ||
                                  kw[0] == "END");
      if (ends) return false;
      ErrorFields e;
      e.sqlstate = "25P02";
      e.message = "current transaction is aborted, commands ignored until end of transaction "
                  "block";
      WriteError(w, e);
      return true;
    };
    auto complete = [&](sql::Outcome& o, std::string_view statement) {
      auto kw = sql::LeadingKeywords(statement, 1);
      bool ends = !kw.empty() && (kw[0] == "ROLLBACK" || kw[0] == "ABORT" || kw[0] == "COMMIT" ||
                                  kw[0] == "END");
      if (failed_transaction && ends) {
        failed_transaction = false;
        o.tag = "ROLLBACK";
      }
      WriteCommandComplete(w, o.tag);
    };
    auto row_description = [&](const std::vector<sql::ResultColumn>& columns,
                               std::vector<int16_t> formats = {}) {
      WireSink header(in, w, /*describe=*/true, std::move(formats));
      (void)header.Columns(columns);
    };

    // COPY ... FROM STDIN: CopyInResponse, then the client's CopyData up to CopyDone (the rows
    // are written, one commit) or CopyFail (nothing is). Flush and Sync are ignored meanwhile,
    // as PostgreSQL does; the statement's CommandComplete is written here.
    bool connection_lost = false;
    auto copy_in = [&](std::string_view statement) -> std::optional<sql::SqlError> {
      std::unique_ptr<sql::CopyIn> rows;
      if (auto err = s->BeginCopyIn(statement, &rows)) return err;
      w.Begin('G');
      w.Byte(0);  // text
      w.Int16(static_cast<int16_t>(rows->columns()));
      for (size_t i = 0; i < rows->columns(); ++i) w.Int16(0);
      w.End();
      if (!send()) {
        connection_lost = true;
        return sql::SqlError{"08006", "connection lost"};
      }
      std::optional<sql::SqlError> failed;
      while (true) {
        char t;
        std::string data;
        if (!read_message(&t, &data, -1)) {
          connection_lost = true;
          return sql::SqlError{"08006", "connection lost during COPY"};
        }
        if (t == 'd') {
          if (!failed) {
            if (Status st = rows->Write(data); !st.ok()) failed = sql::SqlError{"58030", st.message()};
          }
        } else if (t == 'c') {
          break;
        } else if (t == 'f') {
          auto why = ParseQuery(data);
          return sql::SqlError{"57014", "COPY from stdin failed: " +
                                            (why.ok() ? *why : std::string("(no reason given)"))};
        } else if (t == 'H' || t == 'S') {
          continue;
        } else {
          return sql::SqlError{"08P01", std::string("unexpected message type '") + t +
                                            "' during COPY from stdin"};
        }
      }
      if (failed) return failed;
      sql::Outcome o = rows->Finish();
      if (o.error) return o.error;
      complete(o, statement);
      return std::nullopt;
    };

    // The extended protocol's prepared statements; after an error, messages up to Sync are
    // skipped.
    struct Statement {
      std::string query;
      std::vector<uint32_t> param_types;
      sql::Session::Description description;
    };
    std::map<std::string, Statement> statements;
    std::map<std::string, std::string> portal_queries;  // portal -> its statement's text
    std::map<std::string, std::vector<int16_t>> portal_formats;  // portal -> result formats
    bool skipping = false;

    WriteReadyForQuery(w, status());
    if (!send()) return;
    while (!stopping_) {
      if (!read_message(&type, &body, -1)) break;
      if (type == 'X') break;
      if (skipping && type != 'S') continue;
      switch (type) {
        case 'Q': {
          auto query = ParseQuery(body);
          if (!query.ok()) return fatal(Fatal("08P01", query.status().message()));
          std::vector<std::string> parts = sql::SplitStatements(*query);
          if (parts.empty()) {
            w.Begin('I');  // EmptyQueryResponse
            w.End();
          }
          bool copy_failed = false;
          for (const std::string& st : parts) {
            if (refused_in_failed(st)) break;
            if (sql::CopyInParse in = sql::ParseCopyFromStdin(st); in.copy || !in.error.empty()) {
              std::optional<sql::SqlError> err = copy_in(st);
              if (err) {
                write_error(*err);
                copy_failed = true;
                break;
              }
              continue;
            }
            sql::CopyParse copy = sql::ParseCopyToStdout(st);
            std::optional<CopySink> copy_sink;
            std::optional<WireSink> wire_sink;
            sql::ResultSink* sink;
            if (copy.copy) {
              sink = &copy_sink.emplace(in, w, *copy.copy);
            } else {
              sink = &wire_sink.emplace(in, w, /*describe=*/true);
            }
            sql::Outcome o = s->Execute(st, *sink);
            if (o.error) {
              write_error(*o.error);
              break;
            }
            if (copy_sink) copy_sink->Done();
            complete(o, st);
            // DISCARD ALL and DEALLOCATE forget the protocol's prepared statements (a pooler's
            // next client may name its own the same).
            auto kw = sql::LeadingKeywords(st, 3);
            if (!kw.empty() && (kw[0] == "DISCARD" || kw[0] == "DEALLOCATE")) {
              size_t at = kw.size() > 1 && kw[1] == "PREPARE" ? 2 : 1;
              if (kw[0] == "DISCARD" ? kw.size() < 2 || kw[1] == "ALL"
                                     : kw.size() <= at || kw[at] == "ALL") {
                statements.clear();
              } else if (kw[0] == "DEALLOCATE") {
                std::string_view rest = sql::AfterKeywords(st, at);
                std::string name(rest.substr(0, rest.find_first_of(" \t\n;")));
                if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
                statements.erase(name);
              }
            }
          }
          if (copy_failed && connection_lost) return;
          WriteReadyForQuery(w, status());
          if (!send()) return;
          continue;
        }
        case 'P': {
          auto m = ParseParse(body);
          if (!m.ok()) return fatal(Fatal("08P01", m.status().message()));
          std::vector<std::string> parts = sql::SplitStatements(m->query);
          if (parts.size() > 1) {
            write_error({"42601", "cannot insert multiple commands into a prepared statement"});
            skipping = true;
            break;
          }
          if (!m->name.empty() && statements.count(m->name)) {
            write_error({"42P05", "prepared statement \"" + m->name + "\" already exists"});
            skipping = true;
            break;
          }
          Statement st{parts.empty() ? "" : parts[0], m->param_types, {}};
          if (!st.query.empty() && !refused_in_failed(st.query)) {
            auto kw = sql::LeadingKeywords(st.query, 1);
            bool query = !kw.empty() && (kw[0] == "SELECT" || kw[0] == "WITH" ||
                                         kw[0] == "VALUES" || kw[0] == "TABLE" || kw[0] == "FROM");
            // Queries are checked now, as PostgreSQL does; other statements run at Bind.
            if (query) {
              if (auto e = s->Describe(st.query, &st.description, DeclaredTypes(st.param_types))) {
                write_error(*e);
                skipping = true;
                break;
              }
            }
          } else if (failed_transaction) {
            skipping = true;
            break;
          }
          statements[m->name] = std::move(st);
          w.Begin('1');  // ParseComplete
          w.End();
          break;
        }
        case 'B': {
          auto m = ParseBind(body);
          if (!m.ok()) return fatal(Fatal("08P01", m.status().message()));
          auto it = statements.find(m->statement);
          if (it == statements.end()) {
            write_error({"26000", "prepared statement \"" + m->statement + "\" does not exist"});
            skipping = true;
            break;
          }
          std::vector<std::optional<std::string>> params = m->params;
          bool bad = false;
          for (size_t i = 0; i < params.size() && !bad; ++i) {
            int16_t f = m->param_formats.empty() ? 0
                        : m->param_formats.size() == 1 ? m->param_formats[0]
                                                       : m->param_formats[i];
            if (f != 1 || !params[i]) continue;
            uint32_t oid = i < it->second.param_types.size() ? it->second.param_types[i] : 0;
            auto text = BinaryParamToText(oid, *params[i]);
            if (!text.ok()) {
              write_error({"22P03", text.status().message()});
              bad = true;
              break;
            }
            params[i] = std::move(*text);
          }
          if (bad) {
            skipping = true;
            break;
          }
          if (refused_in_failed(it->second.query)) {
            skipping = true;
            break;
          }
          if (it->second.query.empty()) {
            portal_queries[m->portal] = "";
            s->ClosePortal(m->portal);
          } else {
            if (auto e = s->Bind(m->portal, it->second.query, params, nullptr,
                                 DeclaredTypes(it->second.param_types))) {
              write_error(*e);
              skipping = true;
              break;
            }
            portal_queries[m->portal] = it->second.query;
          }
          portal_formats[m->portal] = m->result_formats;
          w.Begin('2');  // BindComplete
          w.End();
          break;
        }
        case 'D': {
          auto m = ParseDescribe(body);
          if (!m.ok()) return fatal(Fatal("08P01", m.status().message()));
          if (m->kind == 'S') {
            auto it = statements.find(m->name);
            if (it == statements.end()) {
              write_error({"26000", "prepared statement \"" + m->name + "\" does not exist"});
              skipping = true;
              break;
            }
            Statement& st = it->second;
            auto kw = sql::LeadingKeywords(st.query, 1);
            bool query = !kw.empty() && (kw[0] == "SELECT" || kw[0] == "WITH" ||
                                         kw[0] == "VALUES" || kw[0] == "TABLE" || kw[0] == "FROM");
            if (!query && !st.query.empty()) {
              if (auto e = s->Describe(st.query, &st.description, DeclaredTypes(st.param_types))) {
                write_error(*e);
                skipping = true;
                break;
              }
            }
            w.Begin('t');  // ParameterDescription
            w.Int16(static_cast<int16_t>(st.description.params.size()));
            for (size_t i = 0; i < st.description.params.size(); ++i) {
              uint32_t declared = i < st.param_types.size() ? st.param_types[i] : 0;
              w.Int32(static_cast<int32_t>(declared ? declared
                                                    : PgType(st.description.params[i]).oid));
            }
            w.End();
            if (st.description.columns.empty()) {
              w.Begin('n');  // NoData
              w.End();
            } else {
              row_description(st.description.columns);
            }
          } else {
            // A portal of the protocol, or a cursor a DECLARE made (psycopg 3 describes it).
            auto cols = s->PortalColumns(m->name);
            if (!portal_queries.count(m->name) && !cols) {
              write_error({"34000", "portal \"" + m->name + "\" does not exist"});
              skipping = true;
              break;
            }
            sql::Session::Description d;
            if (cols) d.columns = std::move(*cols);
            if (d.columns.empty()) {
              w.Begin('n');
              w.End();
            } else {
              row_description(d.columns, portal_formats[m->name]);
            }
          }
          break;
        }
        case 'E': {
          auto m = ParseExecute(body);
          if (!m.ok()) return fatal(Fatal("08P01", m.status().message()));
          auto it = portal_queries.find(m->portal);
          if (it == portal_queries.end()) {
            write_error({"34000", "portal \"" + m->portal + "\" does not exist"});
            skipping = true;
            break;
          }
          if (it->second.empty()) {
            w.Begin('I');  // EmptyQueryResponse
            w.End();
            break;
          }
          WireSink sink(in, w, /*describe=*/false, portal_formats[m->portal],
                        s->PortalColumns(m->portal).value_or(std::vector<sql::ResultColumn>{}));
          bool suspended = false;
          sql::Outcome o = s->Fetch(m->portal, m->max_rows, sink, &suspended);
          if (o.error) {
            write_error(*o.error);
            skipping = true;
            break;
          }
          if (suspended) {
            w.Begin('s');  // PortalSuspended
            w.End();
          } else {
            complete(o, it->second);
          }
          break;
        }
        case 'C': {
          auto m = ParseClose(body);
          if (!m.ok()) return fatal(Fatal("08P01", m.status().message()));
          if (m->kind == 'S') {
            statements.erase(m->name);
          } else {
            portal_queries.erase(m->name);
            portal_formats.erase(m->name);
            s->ClosePortal(m->name);
          }
          w.Begin('3');  // CloseComplete
          w.End();
          break;
        }
        case 'S':
          skipping = false;
          WriteReadyForQuery(w, status());
          if (!send()) return;
          break;
        case 'H':
          if (!send()) return;
          break;
        default: {
          ErrorFields e;
          e.sqlstate = "08P01";
          e.message = std::string("message type '") + type + "' is not supported";
          WriteError(w, e);
          WriteReadyForQuery(w, status());
          if (!send()) return;
        }
      }
    }
    std::lock_guard<std::mutex> lock(c.mu);
    c.session = nullptr;
  }
}

}  // namespace lakemesh::pgwire
