#include "protocols/trino/trino.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/coding.h"
#include "base/log.h"
#include "base/random.h"
#include "base/time.h"
#include "catalog/catalog.h"
#include "governance/credentials.h"
#include "protocols/trino/dialect.h"
#include "protocols/trino/types.h"
#include "sql/engine.h"
#include "sql/statements.h"

namespace lakemesh::trino {
namespace {

using Json = nlohmann::json;

constexpr size_t kPageBytes = 1 << 20;        // rows per response, as JSON
constexpr size_t kFlushBytes = 64 << 10;      // rows a query hands over at once
constexpr int64_t kFlushMicros = 50000;       // ... or after this long
constexpr int64_t kDefaultWaitMs = 1000;      // how long a GET waits for rows
constexpr int64_t kAbandonMicros = 300LL * 1000000;   // a query no client polls is canceled
constexpr int64_t kKeepMicros = 900LL * 1000000;      // a finished query's info is kept
constexpr size_t kHistory = 100;              // finished queries kept for /v1/query, queries
constexpr size_t kMaxStatementBytes = 16 << 20;
constexpr size_t kMaxRunning = 32;   // queries running at once; more wait, QUEUED
constexpr size_t kMaxQueries = 1000;  // queries held at once; more are refused with 503

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

server::Response JsonResponse(int status, const std::string& body) {
  server::Response r;
  r.status = status;
  r.body = body;
  r.headers.Set("Content-Type", "application/json");
  return r;
}

server::Response Message(int status, const std::string& message) {
  return JsonResponse(status, Json{{"message", message}}.dump());
}

// What a client's headers say about the session a statement runs in.
struct Context {
  std::string prefix = "X-Trino-";  // or X-Presto- for Presto's clients
  std::string user, principal, source, catalog, schema, transaction, base;
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::string>> properties;
  std::map<std::string, std::string> prepared;
};

sql::SqlError Error(std::string sqlstate, std::string message) {
  sql::SqlError e;
  e.sqlstate = std::move(sqlstate);
  e.message = std::move(message);
  return e;
}

struct Failure {
  sql::SqlError error;
  std::optional<ErrorCode> code;
};

Failure Named(const char* name, std::string message) {
  return Failure{Error("", std::move(message)), NamedError(name)};
}

// One transaction: its session, used by one statement at a time.
struct Transaction {
  std::mutex mu;
  std::unique_ptr<sql::Session> session;
  std::string principal;
  int64_t last_used = 0;
};

struct Query {
  std::string id, slug, sql;
  Context ctx;
  int64_t created = NowMicros();
  std::mutex mu;
  std::condition_variable cv;
  // GUARDED_BY(mu) from here:
  int64_t started = 0, ended = 0, last_access = NowMicros();
  bool running = false, done = false, canceled = false;
  std::optional<std::vector<sql::ResultColumn>> columns;
  std::string pending;  // rows not yet fetched: "[..],[..]"
  int64_t rows = 0, bytes = 0;
  std::optional<Failure> failure;
  std::string update_type;
  std::optional<int64_t> update_count;
  std::vector<std::pair<std::string, std::string>> headers;  // X-Trino-<name>: value
  sql::Session* session = nullptr;                           // while it runs
  uint64_t served = 0;  // the last page token answered
  std::string last_body;
  bool final_served = false;
  std::thread thread;

  std::string State() const {
    if (done && final_served) return failure ? "FAILED" : "FINISHED";
    if (done && failure) return "FAILED";
    return running || done ? "RUNNING" : "QUEUED";
  }
};

// A finished query as system.runtime.queries and /v1/query show it.
struct Summary {
  std::string id, state, user, source, sql, principal, error_name, error_type, message;
  int64_t created = 0, started = 0, ended = 0, rows = 0;
};

// Receives a statement's rows and writes them as Trino JSON into the query's page buffer.
class PageSink : public sql::ResultSink {
 public:
  explicit PageSink(Query& q) : q_(q) {}
  ~PageSink() override { (void)Flush(true); }

  Status Columns(const std::vector<sql::ResultColumn>& columns) override {
    columns_ = columns;
    std::lock_guard<std::mutex> lock(q_.mu);
    q_.columns = columns;
    return Status::OK();
  }

  Status Row(const std::vector<std::optional<std::string_view>>& values) override {
    if (!local_.empty()) local_.push_back(',');
    local_.push_back('[');
    for (size_t i = 0; i < values.size() && i < columns_.size(); ++i) {
      if (i) local_.push_back(',');
      AppendValue(columns_[i], values[i], &local_);
    }
    local_.push_back(']');
    ++local_rows_;
    if (local_.size() >= kFlushBytes || (local_rows_ % 256 == 0 &&
                                         MonotonicMicros() - last_flush_ > kFlushMicros)) {
      return Flush(false);
    }
    return Status::OK();
  }

  // Hands the rows written so far to the query, waiting while a full page is not yet fetched.
  Status Flush(bool final) {
    std::unique_lock<std::mutex> lock(q_.mu);
    if (!final) {
      q_.cv.wait(lock, [&] { return q_.pending.size() < kPageBytes || q_.canceled; });
    }
    last_flush_ = MonotonicMicros();
    if (q_.canceled) return Unavailable("Query was canceled");
    if (local_.empty()) return Status::OK();
    if (!q_.pending.empty()) q_.pending.push_back(',');
    q_.pending += local_;
    q_.rows += local_rows_;
    q_.bytes += static_cast<int64_t>(local_.size());
    local_.clear();
    local_rows_ = 0;
    q_.cv.notify_all();
    return Status::OK();
  }

 private:
  Query& q_;
  std::vector<sql::ResultColumn> columns_;
  std::string local_;
  int64_t local_rows_ = 0;
  int64_t last_flush_ = MonotonicMicros();
};

// A sink for statements whose rows nobody reads (SET on the engine).
struct NullSink : sql::ResultSink {
  Status Columns(const std::vector<sql::ResultColumn>&) override { return Status::OK(); }
  Status Row(const std::vector<std::optional<std::string_view>>&) override { return Status::OK(); }
};

sql::ResultColumn Col(std::string name, sql::ColumnType t) { return sql::ResultColumn(std::move(name), t); }

using Rows = std::vector<std::vector<std::optional<std::string>>>;

}  // namespace

struct Server::Impl {
  Services services;
  const int64_t started = NowMicros();
  const std::string node_id = "lakemesh-" + RandomAlnum(5);
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Query>> queries;        // GUARDED_BY(mu)
  std::deque<Summary> history;                                  // GUARDED_BY(mu)
  std::map<std::string, std::shared_ptr<Transaction>> txns;     // GUARDED_BY(mu)
  uint64_t counter = 0;                                         // GUARDED_BY(mu)
  bool stopping = false;                                        // GUARDED_BY(mu)
  size_t running = 0;                                           // GUARDED_BY(mu)
  std::condition_variable slots;                                // a query finished running
  const std::string coordinator = Lower(RandomAlnum(5));

  explicit Impl(Services s) : services(std::move(s)) {}

  bool OurCatalog(const std::string& name) const {
    const std::string lower = Lower(name);
    for (const auto& c : services.catalogs) {
      if (Lower(c) == lower) return true;
    }
    return false;
  }
  const std::string& MainCatalog() const { return services.catalogs.front(); }

  // --- HTTP ------------------------------------------------------------------------------------

  Result<governance::Principal> Authenticate(const server::Request& req) {
    auto auth = req.Header("Authorization");
    if (!auth) return Unauthenticated("authentication required: HTTP Basic with an access key");
    std::string_view a = *auth;
    if (a.size() > 6 && Lower(std::string(a.substr(0, 6))) == "basic ") {
      auto decoded = Base64Decode(a.substr(6));
      if (!decoded) return Unauthenticated("malformed Basic credentials");
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) return Unauthenticated("malformed Basic credentials");
      return services.credentials.VerifySecret(decoded->substr(0, colon), decoded->substr(colon + 1));
    }
    if (a.size() > 7 && Lower(std::string(a.substr(0, 7))) == "bearer ") {
      return services.credentials.VerifyToken(std::string(a.substr(7)));
    }
    return Unauthenticated("unsupported authentication scheme: use HTTP Basic with an access key");
  }

  static std::string Header(const server::Request& req, const std::string& prefix,
                            const std::string& name) {
    auto v = req.Header(prefix + name);
    return v ? std::string(*v) : std::string();
  }

  Context ContextOf(const server::Request& req, const governance::Principal& who) {
    Context c;
    if (!req.Header("X-Trino-User") && req.Header("X-Presto-User")) c.prefix = "X-Presto-";
    c.user = Header(req, c.prefix, "User");
    if (c.user.empty()) c.user = who.name;
    c.principal = who.access_key_id.empty() ? who.name : who.access_key_id;
    c.source = Header(req, c.prefix, "Source");
    c.catalog = Header(req, c.prefix, "Catalog");
    c.schema = Header(req, c.prefix, "Schema");
    c.transaction = Header(req, c.prefix, "Transaction-Id");
    if (Lower(c.transaction) == "none") c.transaction.clear();
    c.properties = ParsePairs(Header(req, c.prefix, "Session"));
    for (auto& [name, sql] : ParsePairs(Header(req, c.prefix, "Prepared-Statement"))) {
      c.prepared[Lower(name)] = sql;
    }
    for (const auto& t : sql::SplitTopLevel(Header(req, c.prefix, "Client-Tags"), ',')) {
      if (!t.empty()) c.tags.push_back(t);
    }
    std::string proto = "http";
    if (auto p = req.Header("X-Forwarded-Proto")) proto = std::string(*p);
    std::string host;
    if (auto h = req.Header("X-Forwarded-Host")) {
      host = std::string(*h);
    } else if (auto h2 = req.Header("Host")) {
      host = std::string(*h2);
    }
    c.base = proto + "://" + (host.empty() ? std::string("localhost") : host);
    return c;
  }

  server::Response Handle(server::Request& req) {
    // The server's version and state are public, as Trino's are (load balancers probe them).
    if (req.path == "/v1/info" && req.method == "GET") return JsonResponse(200, Info().dump());
    if (req.path == "/v1/info/state") return JsonResponse(200, "\"ACTIVE\"");
    auto who = Authenticate(req);
    if (!who.ok()) {
      server::Response r = Message(401, who.status().message());
      if (!req.Header("X-Requested-With")) r.headers.Set("WWW-Authenticate", "Basic realm=\"lakemesh\"");
      return r;
    }
    req.principal = who->name;
    const std::string& p = req.path;
    if (p == "/v1/info") return Message(405, "method not allowed");
    if (p == "/v1/node") {
      return JsonResponse(200, Json::array({{{"uri", ContextOf(req, *who).base},
                                             {"recentRequests", 0.0},
                                             {"recentFailures", 0.0},
                                             {"recentSuccesses", 0.0},
                                             {"age", Uptime()}}})
                                   .dump());
    }
    if (p == "/v1/statement") {
      if (req.method != "POST") return Message(405, "use POST to submit a statement");
      return Submit(req, *who);
    }
    const std::string principal = who->access_key_id.empty() ? who->name : who->access_key_id;
    if (p.rfind("/v1/statement/", 0) == 0) {
      // /v1/statement/{queued|executing}/{id}/{slug}/{token}
      std::vector<std::string> parts;
      size_t start = std::strlen("/v1/statement/");
      while (start <= p.size()) {
        size_t slash = p.find('/', start);
        parts.push_back(p.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
      if (parts.size() != 4 || (parts[0] != "queued" && parts[0] != "executing")) {
        return Message(404, "no such statement resource: " + p);
      }
      auto q = Find(parts[1], principal);
      if (!q || q->slug != parts[2]) return Message(404, "Query not found: " + parts[1]);
      if (req.method == "DELETE") {
        Cancel(*q);
        server::Response r;
        r.status = 204;
        return r;
      }
      if (req.method != "GET") return Message(405, "method not allowed");
      char* end = nullptr;
      const uint64_t token = std::strtoull(parts[3].c_str(), &end, 10);
      if (!end || *end) return Message(404, "bad page token: " + parts[3]);
      int64_t wait_ms = kDefaultWaitMs;
      if (auto w = req.Query("maxWait")) {
        if (auto ms = ParseDuration(*w)) wait_ms = std::min<int64_t>(*ms, 10000);
      } else if (auto h = req.Header(q->ctx.prefix + "Max-Wait")) {
        if (auto ms = ParseDuration(*h)) wait_ms = std::min<int64_t>(*ms, 10000);
      }
      return Next(q, token, wait_ms);
    }
    if (p.rfind("/v1/query/", 0) == 0) {
      const std::string id = p.substr(std::strlen("/v1/query/"));
      if (req.method == "DELETE") {
        auto q = Find(id, principal);
        if (!q) return Message(404, "Query not found: " + id);
        Cancel(*q);
        server::Response r;
        r.status = 204;
        return r;
      }
      if (req.method != "GET") return Message(405, "method not allowed");
      auto info = QueryInfo(id, principal, req);
      if (!info) return Message(404, "Query not found: " + id);
      return JsonResponse(200, info->dump());
    }
    return Message(404, "no such resource: " + p);
  }

  std::string Uptime() const {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2fm", static_cast<double>(NowMicros() - started) / 60e6);
    return buf;
  }

  Json Info() const {
    return {{"nodeVersion", {{"version", services.version}}},
            {"environment", "lakemesh"},
            {"coordinator", true},
            {"starting", false},
            {"uptime", Uptime()}};
  }

  std::shared_ptr<Query> Find(const std::string& id, const std::string& principal) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = queries.find(id);
    if (it == queries.end() || it->second->ctx.principal != principal) return nullptr;
    return it->second;
  }

  // --- queries -------------------------------------------------------------------------------

  server::Response Submit(server::Request& req, const governance::Principal& who) {
    std::string text;
    char buf[1 << 16];
    while (req.body) {
      auto n = req.body->Read(buf, sizeof(buf));
      if (!n.ok()) return Message(400, "reading the statement: " + n.status().message());
      if (*n == 0) break;
      text.append(buf, *n);
      if (text.size() > kMaxStatementBytes) return Message(413, "the statement is too large");
    }
    if (Trim(text).empty()) return Message(400, "SQL statement is empty");
    auto q = std::make_shared<Query>();
    q->ctx = ContextOf(req, who);
    q->sql = text;
    q->slug = "y" + RandomHex(8);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return Message(503, "the server is shutting down");
      Purge();
      if (queries.size() >= kMaxQueries) {
        return Message(503, "too many queries: " + std::to_string(queries.size()) +
                                " are running or waiting for their client; retry later");
      }
      char id[64];
      const int64_t now = NowMicros();
      time_t secs = static_cast<time_t>(now / 1000000);
      struct tm tm;
      gmtime_r(&secs, &tm);
      std::snprintf(id, sizeof(id), "%04d%02d%02d_%02d%02d%02d_%05llu_%s", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    static_cast<unsigned long long>(counter++ % 100000), coordinator.c_str());
      q->id = id;
      queries[q->id] = q;
    }
    q->thread = std::thread([this, q] { Run(*q); });
    Json body = {{"id", q->id},
                 {"infoUri", q->ctx.base + "/v1/query/" + q->id},
                 {"nextUri", NextUri(*q, 1)},
                 {"stats", Stats(*q, "QUEUED")},
                 {"warnings", Json::array()}};
    return JsonResponse(200, body.dump());
  }

  static std::string NextUri(const Query& q, uint64_t token) {
    return q.ctx.base + "/v1/statement/executing/" + q.id + "/" + q.slug + "/" +
           std::to_string(token);
  }

  static Json Stats(const Query& q, const std::string& state) {
    const int64_t end = q.ended ? q.ended : NowMicros();
    const int64_t elapsed = (end - q.created) / 1000;
    const int64_t queued = ((q.started ? q.started : end) - q.created) / 1000;
    Json s = {{"state", state},
              {"queued", state == "QUEUED"},
              {"scheduled", state != "QUEUED"},
              {"nodes", 1},
              {"totalSplits", 1},
              {"queuedSplits", state == "QUEUED" ? 1 : 0},
              {"runningSplits", state == "RUNNING" ? 1 : 0},
              {"completedSplits", q.done ? 1 : 0},
              {"cpuTimeMillis", elapsed - queued},
              {"wallTimeMillis", elapsed - queued},
              {"queuedTimeMillis", queued},
              {"elapsedTimeMillis", elapsed},
              {"processedRows", q.rows},
              {"processedBytes", q.bytes},
              {"physicalInputBytes", 0},
              {"peakMemoryBytes", 0},
              {"spilledBytes", 0}};
    if (q.done) s["progressPercentage"] = 100.0;
    return s;
  }

  // The next page of `q` for the GET of page `token`; waits up to `wait_ms` for rows.
  server::Response Next(const std::shared_ptr<Query>& qp, uint64_t token, int64_t wait_ms) {
    Query& q = *qp;
    std::unique_lock<std::mutex> lock(q.mu);
    q.last_access = NowMicros();
    if (token == q.served && !q.last_body.empty()) return Page(q, q.last_body);  // a retry
    if (token != q.served + 1) {
      return Message(410, "page " + std::to_string(token) + " of query " + q.id + " is gone");
    }
    q.cv.wait_for(lock, std::chrono::milliseconds(wait_ms),
                  [&] { return q.done || q.pending.size() >= kPageBytes || q.canceled; });
    std::string data = std::move(q.pending);
    q.pending.clear();
    q.cv.notify_all();  // the query may be waiting for room
    const bool final = q.done;
    if (final) q.final_served = true;
    Json body = {{"id", q.id}, {"infoUri", q.ctx.base + "/v1/query/" + q.id}};
    if (!final) body["nextUri"] = NextUri(q, token + 1);
    if (q.columns && !q.columns->empty()) {
      Json cols = Json::array();
      for (const auto& c : *q.columns) {
        cols.push_back({{"name", c.name}, {"type", TypeName(c)}, {"typeSignature", TypeSignature(c)}});
      }
      body["columns"] = cols;
    }
    body["stats"] = Stats(q, q.State());
    body["warnings"] = Json::array();
    if (final && q.failure) body["error"] = ErrorJson(q.failure->error, q.sql, q.failure->code);
    if (!q.update_type.empty()) body["updateType"] = q.update_type;
    if (q.update_count) body["updateCount"] = *q.update_count;
    std::string text = body.dump();
    if (!data.empty()) {
      text.pop_back();
      text += ",\"data\":[";
      text += data;
      text += "]}";
    }
    q.served = token;
    q.last_body = text;
    return Page(q, text);
  }

  server::Response Page(const Query& q, const std::string& body) {
    server::Response r = JsonResponse(200, body);
    if (q.done) {
      for (const auto& [name, value] : q.headers) r.headers.Add(q.ctx.prefix + name, value);
    }
    return r;
  }

  void Cancel(Query& q) {
    std::lock_guard<std::mutex> lock(q.mu);
    if (q.done) return;
    q.canceled = true;
    if (q.session) q.session->Cancel();
    q.cv.notify_all();
  }

  // Finished queries whose last page was fetched (or that nobody fetches) leave for the
  // history; queries nobody polls are canceled. Called with `mu` held.
  void Purge() {
    const int64_t now = NowMicros();
    for (auto it = queries.begin(); it != queries.end();) {
      Query& q = *it->second;
      bool remove = false;
      {
        std::lock_guard<std::mutex> lock(q.mu);
        if (q.done && (q.final_served || now - q.last_access > kKeepMicros)) {
          remove = true;
        } else if (!q.done && !q.canceled && now - q.last_access > kAbandonMicros) {
          q.canceled = true;
          if (q.session) q.session->Cancel();
          q.cv.notify_all();
        }
      }
      if (!remove) {
        ++it;
        continue;
      }
      if (q.thread.joinable()) q.thread.join();
      history.push_back(SummaryOf(q));
      if (history.size() > kHistory) history.pop_front();
      it = queries.erase(it);
    }
    for (auto it = txns.begin(); it != txns.end();) {
      std::unique_lock<std::mutex> busy(it->second->mu, std::try_to_lock);
      if (busy.owns_lock() && now - it->second->last_used > kAbandonMicros) {
        busy.unlock();
        it = txns.erase(it);  // its session rolls back as it closes
      } else {
        ++it;
      }
    }
  }

  static Summary SummaryOf(Query& q) {
    std::lock_guard<std::mutex> lock(q.mu);
    Summary s;
    s.id = q.id;
    s.state = q.failure ? "FAILED" : q.done ? "FINISHED" : q.State();
    s.user = q.ctx.user;
    s.principal = q.ctx.principal;
    s.source = q.ctx.source;
    s.sql = q.sql;
    s.created = q.created;
    s.started = q.started;
    s.ended = q.ended;
    s.rows = q.rows;
    if (q.failure) {
      ErrorCode c = q.failure->code ? *q.failure->code : ErrorFor(q.failure->error);
      s.error_name = c.name;
      s.error_type = c.type;
      s.message = q.failure->error.message;
    }
    return s;
  }

  std::optional<Json> QueryInfo(const std::string& id, const std::string& principal,
                                const server::Request& req) {
    Summary s;
    bool found = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (auto it = queries.find(id); it != queries.end() && it->second->ctx.principal == principal) {
        s = SummaryOf(*it->second);
        found = true;
      } else {
        for (const auto& h : history) {
          if (h.id == id && h.principal == principal) {
            s = h;
            found = true;
          }
        }
      }
    }
    if (!found) return std::nullopt;
    Json info = {{"queryId", s.id},
                 {"state", s.state},
                 {"query", s.sql},
                 {"self", ContextOf(req, {}).base + "/v1/query/" + s.id},
                 {"session", {{"user", s.user}, {"source", s.source}}},
                 {"queryStats",
                  {{"createTime", FormatRfc3339(s.created)},
                   {"endTime", s.ended ? Json(FormatRfc3339(s.ended)) : Json()},
                   {"elapsedTime", std::to_string(((s.ended ? s.ended : NowMicros()) - s.created) /
                                                  1000) + "ms"},
                   {"outputPositions", s.rows}}},
                 {"scheduled", true}};
    if (!s.error_name.empty()) {
      info["errorType"] = s.error_type;
      info["errorCode"] = {{"name", s.error_name}, {"type", s.error_type}};
      info["failureInfo"] = {{"type", "io.trino.spi.TrinoException"}, {"message", s.message}};
    }
    return info;
  }

  // --- running a statement -------------------------------------------------------------------

  // Whether `q` was canceled (taking its lock).
  static bool Canceled(Query& q) {
    std::lock_guard<std::mutex> lock(q.mu);
    return q.canceled;
  }

  void Run(Query& q) {
    {
      // Wait for a slot among the queries running; a canceled query waits no more.
      std::unique_lock<std::mutex> lock(mu);
      while (running >= kMaxRunning && !stopping && !Canceled(q)) {
        slots.wait_for(lock, std::chrono::milliseconds(100));
      }
      ++running;
    }
    std::optional<Failure> failure;
    {
      struct Slot {
        Impl& impl;
        ~Slot() {
          std::lock_guard<std::mutex> lock(impl.mu);
          --impl.running;
          impl.slots.notify_one();
        }
      } slot{*this};
      {
        std::lock_guard<std::mutex> lock(q.mu);
        q.running = true;
        q.started = NowMicros();
      }
      try {
        failure = Execute(q);
      } catch (const std::exception& e) {
        failure = Failure{Error("XX000", std::string("internal error: ") + e.what()), std::nullopt};
      }
    }  // The slot is given back before the query is done: once it is, Purge (which holds `mu`)
       // may join this thread, which must then need `mu` no more.
    std::lock_guard<std::mutex> lock(q.mu);
    if (failure && !q.failure) q.failure = std::move(failure);
    if (q.canceled && !q.failure) q.failure = Named("USER_CANCELED", "Query was canceled");
    q.done = true;
    q.ended = NowMicros();
    q.session = nullptr;
    q.cv.notify_all();
  }

  std::optional<Failure> Execute(Query& q) {
    auto engine = services.engine();
    if (!engine.ok()) return Failure{Error("XX000", engine.status().message()), std::nullopt};
    const Context& c = q.ctx;
    std::shared_ptr<Transaction> txn;
    std::unique_ptr<sql::Session> own;
    sql::Session* s = nullptr;
    std::unique_lock<std::mutex> txn_lock;
    if (!c.transaction.empty()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = txns.find(c.transaction);
        if (it != txns.end() && it->second->principal == c.principal) txn = it->second;
      }
      if (!txn) return Named("UNKNOWN_TRANSACTION", "Unknown transaction ID: " + c.transaction);
      txn_lock = std::unique_lock<std::mutex>(txn->mu);
      txn->last_used = NowMicros();
      s = txn->session.get();
    } else {
      sql::SessionOptions options;
      options.nested_as_json = true;
      auto session = (*engine)->Connect(c.user, options);
      if (!session.ok()) return Failure{Error("XX000", session.status().message()), std::nullopt};
      own = std::move(*session);
      s = own.get();
    }
    {
      std::lock_guard<std::mutex> lock(q.mu);
      if (q.canceled) return Named("USER_CANCELED", "Query was canceled");
      q.session = s;
    }
    // Cancel() reaches the session only while it exists (this goes before the session does).
    struct Forget {
      Query& q;
      ~Forget() {
        std::lock_guard<std::mutex> lock(q.mu);
        q.session = nullptr;
      }
    } forget{q};
    if (auto f = Prepare(q, *s)) return f;
    std::string statement = Trim(q.sql);
    if (sql::SplitStatements(statement).size() > 1) {
      return Failure{Error("42601", "mismatched input ';': one statement at a time"), std::nullopt};
    }
    return Dispatch(q, *s, **engine, statement, 0);
  }

  // Applies the session's catalog, schema and properties.
  std::optional<Failure> Prepare(Query& q, sql::Session& s) {
    const Context& c = q.ctx;
    if (!c.catalog.empty() && !OurCatalog(c.catalog) && Lower(c.catalog) != "system") {
      return Named("CATALOG_NOT_FOUND", "Catalog '" + c.catalog + "' not found: lakemesh serves " +
                                            "the catalog '" + MainCatalog() + "'");
    }
    s.SetDefaultDomain(OurCatalog(c.catalog) ? c.schema : "");
    NullSink sink;
    for (const auto& [name, value] : c.properties) {
      if (auto f = ApplyProperty(s, name, value, sink)) return f;
    }
    return std::nullopt;
  }

  // A session property: `<catalog>.ref` (the ref tables are read at) and query_max_run_time
  // take effect; other system properties are accepted and have no effect; an unknown property
  // of lakemesh's catalog is an error.
  std::optional<Failure> ApplyProperty(sql::Session& s, const std::string& name,
                                       const std::string& value, sql::ResultSink& sink) {
    std::string lower = Lower(name);
    size_t dot = lower.find('.');
    if (dot != std::string::npos && OurCatalog(lower.substr(0, dot))) {
      if (lower.substr(dot + 1) != "ref") {
        return Named("INVALID_SESSION_PROPERTY",
                     "Session property '" + name + "' does not exist (lakemesh's is ref)");
      }
      sql::Outcome o = s.Execute("SET lakemesh.ref = " + QuoteLiteral(value.empty() ? "main" : value),
                                 sink);
      if (o.error) return Failure{*o.error, std::nullopt};
      return std::nullopt;
    }
    if (lower == "query_max_run_time" || lower == "query_max_execution_time") {
      auto ms = ParseDuration(value);
      if (!ms) {
        return Named("INVALID_SESSION_PROPERTY",
                     name + " is not a duration (10s, 5m, 1h): " + value);
      }
      sql::Outcome o = s.Execute("SET statement_timeout = '" + std::to_string(*ms) + "ms'", sink);
      if (o.error) return Failure{*o.error, std::nullopt};
    }
    return std::nullopt;
  }

  static std::string QuoteLiteral(const std::string& v) {
    std::string out = "'";
    for (char ch : v) {
      out.push_back(ch);
      if (ch == '\'') out.push_back('\'');
    }
    return out + "'";
  }

  // Sends `columns` and `rows` as the statement's result.
  static std::optional<Failure> Emit(Query& q, std::vector<sql::ResultColumn> columns,
                                     const Rows& rows) {
    PageSink sink(q);
    Status st = sink.Columns(columns);
    std::vector<std::optional<std::string_view>> values;
    for (size_t r = 0; st.ok() && r < rows.size(); ++r) {
      values.clear();
      for (const auto& v : rows[r]) values.push_back(v ? std::optional<std::string_view>(*v) : std::nullopt);
      st = sink.Row(values);
    }
    if (st.ok()) st = sink.Flush(true);
    if (!st.ok()) return Failure{Error("57014", st.message()), std::nullopt};
    return std::nullopt;
  }

  static void SetUpdate(Query& q, std::string type, std::optional<int64_t> count = std::nullopt) {
    std::lock_guard<std::mutex> lock(q.mu);
    q.update_type = std::move(type);
    q.update_count = count;
  }

  static void AddHeader(Query& q, std::string name, std::string value) {
    std::lock_guard<std::mutex> lock(q.mu);
    q.headers.emplace_back(std::move(name), std::move(value));
  }

  std::optional<Failure> Dispatch(Query& q, sql::Session& s, sql::Engine& engine,
                                  const std::string& statement, int depth) {
    auto kw = sql::LeadingKeywords(statement, 3);
    const std::string k0 = kw.size() > 0 ? kw[0] : "";
    const std::string k1 = kw.size() > 1 ? kw[1] : "";
    const std::string k2 = kw.size() > 2 ? kw[2] : "";
    if (k0 == "USE") return Use(q, s, statement);
    if ((k0 == "SET" || k0 == "RESET") && k1 == "SESSION") return SetSession(q, s, statement, k0 == "RESET");
    if (k0 == "START" && k1 == "TRANSACTION") return StartTransaction(q, engine);
    if (k0 == "COMMIT" || k0 == "ROLLBACK") return EndTransaction(q, s, k0);
    if (k0 == "PREPARE") return PrepareStatement(q, statement);
    if (k0 == "DEALLOCATE") {
      size_t pos = 0;
      sql::ConsumeKeyword(statement, &pos, "DEALLOCATE");
      sql::ConsumeKeyword(statement, &pos, "PREPARE");
      auto name = sql::ParseName(statement, &pos);
      if (!name || name->size() != 1) return Failure{Error("42601", "DEALLOCATE PREPARE name"), std::nullopt};
      AddHeader(q, "Deallocated-Prepare", server::PercentEncode((*name)[0], false));
      SetUpdate(q, "DEALLOCATE");
      return std::nullopt;
    }
    if (k0 == "EXECUTE") {
      if (depth > 0) return Failure{Error("42601", "EXECUTE cannot run another EXECUTE"), std::nullopt};
      auto bound = Bind(q, statement, k1 == "IMMEDIATE");
      if (!bound.ok()) {
        return bound.status().IsNotFound()
                   ? Named("NOT_FOUND", bound.status().message())
                   : Failure{Error("42P02", bound.status().message()), NamedError("INVALID_PARAMETER_USAGE")};
      }
      return Dispatch(q, s, engine, *bound, depth + 1);
    }
    if (k0 == "DESCRIBE" && (k1 == "INPUT" || k1 == "OUTPUT")) return DescribePrepared(q, s, statement, k1);
    if (k0 == "DESCRIBE" || (k0 == "SHOW" && k1 == "COLUMNS")) {
      size_t pos = 0;
      sql::ConsumeKeyword(statement, &pos, k0);
      if (k0 == "SHOW") {
        sql::ConsumeKeyword(statement, &pos, "COLUMNS");
        if (!sql::ConsumeKeyword(statement, &pos, "FROM")) sql::ConsumeKeyword(statement, &pos, "IN");
      }
      return ShowColumns(q, s, std::string(statement.substr(pos)));
    }
    if (k0 == "SHOW") {
      if (k1 == "CATALOGS") return ShowCatalogs(q, statement);
      if (k1 == "SCHEMAS") return ShowSchemas(q, s, statement);
      if (k1 == "TABLES") return ShowTables(q, s, statement);
      if (k1 == "SESSION") return ShowSession(q);
      if (k1 == "CREATE" && (k2 == "TABLE" || k2 == "VIEW")) return ShowCreate(q, s, statement, k2);
      if (k1 == "FUNCTIONS" || k1 == "GRANTS" || k1 == "ROLES" || k1 == "STATS") {
        return Named("NOT_SUPPORTED", "SHOW " + k1 + " is not supported by lakemesh");
      }
    }
    const std::string lower = Lower(statement);
    if (lower.find("runtime") != std::string::npos) DefineRuntimeTables(q, s);
    if (lower.find("information_schema") != std::string::npos ||
        lower.find("jdbc") != std::string::npos) {
      if (auto f = DefineCatalogTables(s)) return f;
    }
    PageSink sink(q);
    sql::Outcome o = s.Execute(statement, sink);
    Status flushed = sink.Flush(true);
    if (o.error) return Failure{*o.error, std::nullopt};
    if (!flushed.ok()) return Named("USER_CANCELED", flushed.message());
    return Finish(q, o, k0, k1);
  }

  // The update type and count of a statement that changed something, from its command tag.
  std::optional<Failure> Finish(Query& q, const sql::Outcome& o, const std::string& k0,
                                const std::string& k1) {
    if (o.has_rows || o.tag.empty()) return std::nullopt;
    std::vector<std::string> words = sql::SplitTopLevel(o.tag, ' ');
    std::optional<int64_t> count;
    if (!words.empty() && std::all_of(words.back().begin(), words.back().end(), ::isdigit) &&
        words.size() >= 2) {
      count = std::stoll(words.back());
    }
    std::string type = words.empty() ? o.tag : words[0];
    if (k0 == "CREATE") {
      type = o.tag;
      if (count) type = "CREATE " + (k1 == "OR" ? std::string("TABLE") : k1);
    } else if (type != "INSERT" && type != "UPDATE" && type != "DELETE" && type != "MERGE") {
      type = o.tag;
      count.reset();
    }
    SetUpdate(q, type, count);
    if (count) return Emit(q, {Col("rows", sql::ColumnType::kInt64)}, {{std::to_string(*count)}});
    return Emit(q, {Col("result", sql::ColumnType::kBool)}, {{std::string("t")}});
  }

  std::optional<Failure> Use(Query& q, sql::Session& s, const std::string& statement) {
    size_t pos = 0;
    sql::ConsumeKeyword(statement, &pos, "USE");
    auto name = sql::ParseName(statement, &pos);
    if (!name || name->empty() || name->size() > 2 || sql::SkipSpace(statement, pos) != statement.size()) {
      return Failure{Error("42601", "USE takes catalog.schema or schema"), std::nullopt};
    }
    std::string catalog = name->size() == 2 ? (*name)[0] : q.ctx.catalog;
    const std::string schema = name->back();
    if (catalog.empty()) {
      return Named("MISSING_CATALOG_NAME", "Catalog must be specified when session catalog is not set");
    }
    if (!OurCatalog(catalog)) return Named("CATALOG_NOT_FOUND", "Catalog '" + catalog + "' not found");
    auto domains = Domains(s.ref());
    if (!domains.ok()) return Failure{Error("XX000", domains.status().message()), std::nullopt};
    if (!domains->count(schema) && schema != "information_schema") {
      return Named("SCHEMA_NOT_FOUND", "Schema does not exist: " + catalog + "." + schema);
    }
    AddHeader(q, "Set-Catalog", catalog);
    AddHeader(q, "Set-Schema", schema);
    SetUpdate(q, "USE");
    return std::nullopt;
  }

  Result<std::set<std::string>> Domains(const std::string& ref) {
    LM_ASSIGN_OR_RETURN(auto namespaces, services.catalog.ListNamespaces(ref, {}));
    std::set<std::string> out;
    for (const auto& ns : namespaces) {
      if (ns.size() == 1) out.insert(ns[0]);
    }
    return out;
  }

  std::optional<Failure> SetSession(Query& q, sql::Session& s, const std::string& statement, bool reset) {
    size_t pos = 0;
    sql::ConsumeKeyword(statement, &pos, reset ? "RESET" : "SET");
    sql::ConsumeKeyword(statement, &pos, "SESSION");
    auto name = sql::ParseName(statement, &pos);
    if (!name || name->empty() || name->size() > 2) {
      return Failure{Error("42601", std::string(reset ? "RESET" : "SET") + " SESSION takes a property name"),
                     std::nullopt};
    }
    std::string property = (*name)[0] + (name->size() == 2 ? "." + (*name)[1] : "");
    if (reset) {
      AddHeader(q, "Clear-Session", property);
      SetUpdate(q, "RESET SESSION");
      return std::nullopt;
    }
    pos = sql::SkipSpace(statement, pos);
    if (pos >= statement.size() || statement[pos] != '=') {
      return Failure{Error("42601", "SET SESSION name = value"), std::nullopt};
    }
    std::string expr = Trim(statement.substr(pos + 1));
    std::string value = expr;
    if (auto lit = StringLiteral(expr)) value = *lit;
    NullSink sink;
    if (auto f = ApplyProperty(s, property, value, sink)) return f;  // validates it
    AddHeader(q, "Set-Session", EncodePair(property, value));
    SetUpdate(q, "SET SESSION");
    return std::nullopt;
  }

  std::optional<Failure> StartTransaction(Query& q, sql::Engine& engine) {
    if (!q.ctx.transaction.empty()) return Named("NOT_SUPPORTED", "Nested transactions not supported");
    sql::SessionOptions options;
    options.nested_as_json = true;
    auto session = engine.Connect(q.ctx.user, options);
    if (!session.ok()) return Failure{Error("XX000", session.status().message()), std::nullopt};
    auto txn = std::make_shared<Transaction>();
    txn->session = std::move(*session);
    txn->principal = q.ctx.principal;
    txn->last_used = NowMicros();
    NullSink sink;
    if (auto f = Prepare(q, *txn->session)) return f;
    sql::Outcome o = txn->session->Execute("BEGIN", sink);
    if (o.error) return Failure{*o.error, std::nullopt};
    const std::string id = NewUuid();
    {
      std::lock_guard<std::mutex> lock(mu);
      txns[id] = txn;
    }
    AddHeader(q, "Started-Transaction-Id", id);
    SetUpdate(q, "START TRANSACTION");
    return std::nullopt;
  }

  std::optional<Failure> EndTransaction(Query& q, sql::Session& s, const std::string& verb) {
    if (q.ctx.transaction.empty()) return Named("NOT_IN_TRANSACTION", "No transaction in progress");
    NullSink sink;
    sql::Outcome o = s.Execute(verb, sink);
    {
      std::lock_guard<std::mutex> lock(mu);
      // The session goes once this query's lock on it is released (Execute's shared pointer).
      txns.erase(q.ctx.transaction);
    }
    AddHeader(q, "Clear-Transaction-Id", "true");
    SetUpdate(q, verb);
    if (o.error) return Failure{*o.error, std::nullopt};
    return std::nullopt;
  }

  std::optional<Failure> PrepareStatement(Query& q, const std::string& statement) {
    size_t pos = 0;
    sql::ConsumeKeyword(statement, &pos, "PREPARE");
    auto name = sql::ParseName(statement, &pos);
    if (!name || name->size() != 1 || !sql::ConsumeKeyword(statement, &pos, "FROM")) {
      return Failure{Error("42601", "PREPARE name FROM statement"), std::nullopt};
    }
    std::string body = Trim(statement.substr(pos));
    if (body.empty()) return Failure{Error("42601", "PREPARE name FROM statement"), std::nullopt};
    AddHeader(q, "Added-Prepare", EncodePair((*name)[0], body));
    SetUpdate(q, "PREPARE");
    return std::nullopt;
  }

  // EXECUTE name [USING a, b] / EXECUTE IMMEDIATE 'sql' [USING ...]: the statement to run.
  Result<std::string> Bind(Query& q, const std::string& statement, bool immediate) {
    size_t pos = 0;
    sql::ConsumeKeyword(statement, &pos, "EXECUTE");
    std::string body;
    if (immediate) {
      sql::ConsumeKeyword(statement, &pos, "IMMEDIATE");
      pos = sql::SkipSpace(statement, pos);
      size_t end = pos;
      if (end < statement.size() && statement[end] == '\'') {
        ++end;
        while (end < statement.size()) {
          if (statement[end] == '\'' && end + 1 < statement.size() && statement[end + 1] == '\'') {
            end += 2;
          } else if (statement[end++] == '\'') {
            break;
          }
        }
      }
      auto lit = StringLiteral(statement.substr(pos, end - pos));
      if (!lit) return InvalidArgument("EXECUTE IMMEDIATE takes the statement as a string literal");
      body = *lit;
      pos = end;
    } else {
      auto name = sql::ParseName(statement, &pos);
      if (!name || name->size() != 1) return InvalidArgument("EXECUTE name [USING ...]");
      auto it = q.ctx.prepared.find(Lower((*name)[0]));
      if (it == q.ctx.prepared.end()) return NotFound("Prepared statement not found: " + (*name)[0]);
      body = it->second;
    }
    std::vector<std::string> values;
    if (sql::ConsumeKeyword(statement, &pos, "USING")) {
      values = sql::SplitTopLevel(statement.substr(pos), ',');
    } else if (sql::SkipSpace(statement, pos) != statement.size()) {
      return InvalidArgument("unexpected text after EXECUTE: " + statement.substr(pos));
    }
    return BindParameters(body, values);
  }

  std::optional<Failure> DescribePrepared(Query& q, sql::Session& s, const std::string& statement,
                                          const std::string& which) {
    size_t pos = 0;
    sql::ConsumeKeyword(statement, &pos, "DESCRIBE");
    sql::ConsumeKeyword(statement, &pos, which);
    auto name = sql::ParseName(statement, &pos);
    if (!name || name->size() != 1) return Failure{Error("42601", "DESCRIBE " + which + " name"), std::nullopt};
    auto it = q.ctx.prepared.find(Lower((*name)[0]));
    if (it == q.ctx.prepared.end()) return Named("NOT_FOUND", "Prepared statement not found: " + (*name)[0]);
    const size_t n = CountParameters(it->second);
    if (which == "INPUT") {
      Rows rows;
      for (size_t i = 0; i < n; ++i) rows.push_back({std::to_string(i), std::string("unknown")});
      return Emit(q, {Col("Position", sql::ColumnType::kInt64), Col("Type", sql::ColumnType::kText)}, rows);
    }
    auto bound = BindParameters(it->second, std::vector<std::string>(n, "NULL"));
    sql::Session::Description d;
    if (auto e = s.Describe(*bound, &d)) return Failure{*e, std::nullopt};
    Rows rows;
    for (const auto& c : d.columns) {
      rows.push_back({c.name, MainCatalog(), std::string(""), std::string(""), TypeName(c),
                      std::string("0"), std::string("f")});
    }
    return Emit(q, {Col("Column Name", sql::ColumnType::kText), Col("Catalog", sql::ColumnType::kText),
                    Col("Schema", sql::ColumnType::kText), Col("Table", sql::ColumnType::kText),
                    Col("Type", sql::ColumnType::kText), Col("Type Size", sql::ColumnType::kInt64),
                    Col("Aliased", sql::ColumnType::kBool)},
                rows);
  }

  std::optional<Failure> ShowColumns(Query& q, sql::Session& s, const std::string& table) {
    const std::string name = Trim(table);
    if (name.empty()) return Failure{Error("42601", "a table name is expected"), std::nullopt};
    sql::Session::Description d;
    if (auto e = s.Describe("SELECT * FROM " + name, &d)) return Failure{*e, std::nullopt};
    Rows rows;
    for (const auto& c : d.columns) {
      rows.push_back({c.name, TypeName(c), std::string(""), std::string("")});
    }
    return Emit(q, {Col("Column", sql::ColumnType::kText), Col("Type", sql::ColumnType::kText),
                    Col("Extra", sql::ColumnType::kText), Col("Comment", sql::ColumnType::kText)},
                rows);
  }

  static Rows Filter(const std::vector<std::string>& names, const ShowTail& tail) {
    Rows rows;
    for (const auto& n : names) {
      if (!tail.like || Like(n, *tail.like, tail.escape)) rows.push_back({n});
    }
    return rows;
  }

  std::optional<Failure> ShowCatalogs(Query& q, const std::string& statement) {
    auto tail = ParseShowTail(sql::AfterKeywords(statement, 2));
    if (!tail.ok()) return Failure{Error("42601", tail.status().message()), std::nullopt};
    std::vector<std::string> names = services.catalogs;
    names.push_back("system");
    std::sort(names.begin(), names.end());
    return Emit(q, {Col("Catalog", sql::ColumnType::kText)}, Filter(names, *tail));
  }

  std::optional<Failure> ShowSchemas(Query& q, sql::Session& s, const std::string& statement) {
    auto tail = ParseShowTail(sql::AfterKeywords(statement, 2));
    if (!tail.ok()) return Failure{Error("42601", tail.status().message()), std::nullopt};
    std::string catalog = tail->from.empty() ? q.ctx.catalog : tail->from.back();
    std::vector<std::string> names;
    if (Lower(catalog) == "system") {
      names = {"information_schema", "runtime"};
    } else if (catalog.empty() || OurCatalog(catalog)) {
      auto domains = Domains(s.ref());
      if (!domains.ok()) return Failure{Error("XX000", domains.status().message()), std::nullopt};
      names.assign(domains->begin(), domains->end());
      names.push_back("information_schema");
      std::sort(names.begin(), names.end());
    } else {
      return Named("CATALOG_NOT_FOUND", "Catalog '" + catalog + "' not found");
    }
    return Emit(q, {Col("Schema", sql::ColumnType::kText)}, Filter(names, *tail));
  }

  std::optional<Failure> ShowTables(Query& q, sql::Session& s, const std::string& statement) {
    auto tail = ParseShowTail(sql::AfterKeywords(statement, 2));
    if (!tail.ok()) return Failure{Error("42601", tail.status().message()), std::nullopt};
    std::string catalog = q.ctx.catalog, schema = q.ctx.schema;
    if (tail->from.size() == 2) catalog = tail->from[0];
    if (!tail->from.empty()) schema = tail->from.back();
    if (tail->from.size() > 2) return Failure{Error("42601", "SHOW TABLES FROM catalog.schema"), std::nullopt};
    if (schema.empty()) {
      return Named("MISSING_SCHEMA_NAME", "Schema must be specified when session schema is not set");
    }
    std::vector<std::string> names;
    if (Lower(catalog) == "system") {
      if (schema == "runtime") names = {"nodes", "queries"};
    } else if (!catalog.empty() && !OurCatalog(catalog)) {
      return Named("CATALOG_NOT_FOUND", "Catalog '" + catalog + "' not found");
    } else if (schema == "information_schema") {
      names = {"columns", "schemata", "tables", "views"};
    } else {
      auto domains = Domains(s.ref());
      if (!domains.ok()) return Failure{Error("XX000", domains.status().message()), std::nullopt};
      if (!domains->count(schema)) {
        return Named("SCHEMA_NOT_FOUND", "Schema '" + schema + "' does not exist");
      }
      auto tables = services.catalog.ListTables(s.ref(), {schema});
      auto views = services.catalog.ListViews(s.ref(), {schema});
      if (tables.ok()) names = *tables;
      if (views.ok()) names.insert(names.end(), views->begin(), views->end());
      std::sort(names.begin(), names.end());
    }
    return Emit(q, {Col("Table", sql::ColumnType::kText)}, Filter(names, *tail));
  }

  std::optional<Failure> ShowSession(Query& q) {
    std::map<std::string, std::string> set;
    for (const auto& [k, v] : q.ctx.properties) set[Lower(k)] = v;
    auto value = [&](const std::string& k, const std::string& d) {
      auto it = set.find(k);
      return it == set.end() ? d : it->second;
    };
    const std::string ref = MainCatalog() + ".ref";
    Rows rows = {
        {ref, value(Lower(ref), "main"), std::string("main"), std::string("varchar"),
         std::string("The branch, tag or commit that table names without one read")},
        {std::string("query_max_run_time"), value("query_max_run_time", "100.00d"),
         std::string("100.00d"), std::string("varchar"),
         std::string("Maximum run time of a query (a duration: 10s, 5m, 1h)")},
    };
    return Emit(q, {Col("Name", sql::ColumnType::kText), Col("Value", sql::ColumnType::kText),
                    Col("Default", sql::ColumnType::kText), Col("Type", sql::ColumnType::kText),
                    Col("Description", sql::ColumnType::kText)},
                rows);
  }

  // SHOW CREATE TABLE: the columns as the engine reads them, the Iceberg table's partitioning
  // and location as Trino's Iceberg connector writes them.
  std::optional<Failure> ShowCreate(Query& q, sql::Session& s, const std::string& statement,
                                    const std::string& what) {
    size_t pos = 0;
    for (const char* k : {"SHOW", "CREATE"}) sql::ConsumeKeyword(statement, &pos, k);
    sql::ConsumeKeyword(statement, &pos, what);
    auto name = sql::ParseName(statement, &pos);
    if (!name || name->empty() || name->size() > 3) {
      return Failure{Error("42601", "SHOW CREATE " + what + " [catalog.]schema.table"), std::nullopt};
    }
    std::vector<std::string> parts = *name;
    if (parts.size() == 3) {
      if (!OurCatalog(parts[0])) return Named("CATALOG_NOT_FOUND", "Catalog '" + parts[0] + "' not found");
      parts.erase(parts.begin());
    }
    if (parts.size() == 1) {
      if (q.ctx.schema.empty()) {
        return Named("MISSING_SCHEMA_NAME", "Schema must be specified when session schema is not set");
      }
      parts.insert(parts.begin(), q.ctx.schema);
    }
    std::string table = parts[1], ref = s.ref();
    if (size_t at = table.find('@'); at != std::string::npos) {
      ref = table.substr(at + 1);
      table = table.substr(0, at);
    }
    const std::string qualified = MainCatalog() + "." + parts[0] + "." + table;
    if (what == "VIEW") {
      auto view = services.catalog.LoadView(ref, catalog::TableIdent{{parts[0]}, table});
      if (!view.ok()) return Named("TABLE_NOT_FOUND", "View '" + qualified + "' does not exist");
      std::string sql;
      const Json& m = view->metadata;
      for (const Json& v : m.value("versions", Json::array())) {
        if (v.value("version-id", -1) != m.value("current-version-id", -2)) continue;
        for (const Json& r : v.value("representations", Json::array())) {
          if (sql.empty() || r.value("dialect", std::string()) == "trino") sql = r.value("sql", std::string());
        }
      }
      return Emit(q, {Col("Create View", sql::ColumnType::kText)},
                  {{"CREATE VIEW " + qualified + " AS\n" + sql}});
    }
    auto loaded = services.catalog.LoadTable(ref, catalog::TableIdent{{parts[0]}, table});
    if (!loaded.ok()) {
      if (loaded.status().IsNotFound()) return Named("TABLE_NOT_FOUND", "Table '" + qualified + "' does not exist");
      return Failure{Error("XX000", loaded.status().message()), std::nullopt};
    }
    sql::Session::Description d;
    const std::string written = parts[0] + "." + (ref == s.ref() ? table : "\"" + table + "@" + ref + "\"");
    if (auto e = s.Describe("SELECT * FROM " + written, &d)) return Failure{*e, std::nullopt};
    const Json& m = loaded->metadata;
    std::string ddl = "CREATE TABLE " + qualified + " (\n";
    for (size_t i = 0; i < d.columns.size(); ++i) {
      ddl += "   " + d.columns[i].name + " " + TypeName(d.columns[i]) + (i + 1 < d.columns.size() ? ",\n" : "\n");
    }
    ddl += ")\nWITH (\n   format = 'PARQUET',\n   format_version = " +
           std::to_string(m.value("format-version", 2)) + ",\n   location = '" +
           m.value("location", std::string()) + "'";
    // The default partition spec, by source column name.
    std::map<int64_t, std::string> names;
    for (const Json& sc : m.value("schemas", Json::array())) {
      if (sc.value("schema-id", -1) != m.value("current-schema-id", -2)) continue;
      for (const Json& f : sc.value("fields", Json::array())) names[f.value("id", int64_t{-1})] = f.value("name", "");
    }
    std::vector<std::string> fields;
    for (const Json& spec : m.value("partition-specs", Json::array())) {
      if (spec.value("spec-id", -1) != m.value("default-spec-id", -2)) continue;
      for (const Json& f : spec.value("fields", Json::array())) {
        std::string col = names[f.value("source-id", int64_t{-1})];
        std::string t = f.value("transform", std::string("identity"));
        if (t == "identity") {
          fields.push_back(col);
        } else if (t == "year" || t == "month" || t == "day" || t == "hour") {
          fields.push_back(t + "(" + col + ")");
        } else if (t.rfind("bucket[", 0) == 0 || t.rfind("truncate[", 0) == 0) {
          size_t open = t.find('[');
          fields.push_back(t.substr(0, open) + "(" + col + ", " + t.substr(open + 1, t.size() - open - 2) + ")");
        }
      }
    }
    if (!fields.empty()) {
      ddl += ",\n   partitioning = ARRAY[";
      for (size_t i = 0; i < fields.size(); ++i) ddl += (i ? ", '" : "'") + fields[i] + "'";
      ddl += "]";
    }
    ddl += "\n)";
    return Emit(q, {Col("Create Table", sql::ColumnType::kText)}, {{ddl}});
  }

  // system.runtime.nodes and system.runtime.queries, for the clients that probe them.
  void DefineRuntimeTables(Query& q, sql::Session& s) {
    using T = sql::ColumnType;
    (void)s.DefineTable({"system.runtime.nodes"},
                        {Col("node_id", T::kText), Col("http_uri", T::kText),
                         Col("node_version", T::kText), Col("coordinator", T::kBool),
                         Col("state", T::kText)},
                        {{node_id, q.ctx.base, services.version, std::string("true"),
                          std::string("active")}});
    std::vector<Summary> all;
    {
      std::lock_guard<std::mutex> lock(mu);
      all.assign(history.begin(), history.end());
      for (const auto& [id, other] : queries) {
        if (other.get() == &q) {
          Summary me;
          me.id = q.id;
          me.state = "RUNNING";
          me.user = q.ctx.user;
          me.source = q.ctx.source;
          me.sql = q.sql;
          me.created = q.created;
          me.started = NowMicros();
          all.push_back(me);
        } else {
          all.push_back(SummaryOf(*other));
        }
      }
    }
    auto ts = [](int64_t micros) -> std::optional<std::string> {
      if (!micros) return std::nullopt;
      std::string t = FormatRfc3339(micros);  // 2026-11-23T16:47:05.123456Z
      t[10] = ' ';
      t.pop_back();
      return t + "+00";
    };
    Rows rows;
    for (const auto& a : all) {
      auto opt = [](const std::string& v) -> std::optional<std::string> {
        return v.empty() ? std::nullopt : std::optional<std::string>(v);
      };
      rows.push_back({a.id, a.state, a.user, opt(a.source), a.sql,
                      std::to_string(((a.started ? a.started : a.created) - a.created) / 1000),
                      ts(a.created), ts(a.started), ts(a.ended ? a.ended : NowMicros()), ts(a.ended),
                      opt(a.error_type), opt(a.error_name)});
    }
    (void)s.DefineTable({"system.runtime.queries"},
                        {Col("query_id", T::kText), Col("state", T::kText), Col("user", T::kText),
                         Col("source", T::kText), Col("query", T::kText),
                         Col("queued_time_ms", T::kInt64), Col("created", T::kTimestamptz),
                         Col("started", T::kTimestamptz), Col("last_heartbeat", T::kTimestamptz),
                         Col("end", T::kTimestamptz), Col("error_type", T::kText),
                         Col("error_code", T::kText)},
                        rows);
  }

  // Every name a catalog table may be written with: `schema.table` and `catalog.schema.table`
  // for lakemesh's catalog names (and `system.` ones for system.jdbc).
  std::vector<std::string> NamesOf(const std::string& schema_table) const {
    std::vector<std::string> out = {schema_table};
    if (schema_table.rfind("jdbc.", 0) == 0) {
      out.push_back("system." + schema_table);
      return out;
    }
    for (const auto& c : services.catalogs) out.push_back(c + "." + schema_table);
    return out;
  }

  // The JDBC type code (java.sql.Types) of a Trino type.
  static int JdbcType(const sql::ResultColumn& c) {
    using T = sql::ColumnType;
    if (c.nested == sql::ResultColumn::Nested::kList) return 2003;      // ARRAY
    if (c.nested != sql::ResultColumn::Nested::kNone) return 2000;      // JAVA_OBJECT
    switch (c.type) {
      case T::kBool: return 16;
      case T::kInt16: return 5;
      case T::kInt32: return 4;
      case T::kInt64: return -5;
      case T::kFloat32: return 7;
      case T::kFloat64: return 8;
      case T::kNumeric: return 3;
      case T::kBytes: return -3;
      case T::kDate: return 91;
      case T::kTime: return 92;
      case T::kTimestamp: return 93;
      case T::kTimestamptz: return 2014;
      case T::kUuid:
      case T::kJson: return 2000;
      default: return 12;  // VARCHAR
    }
  }

  // information_schema (schemata, tables, columns, views) and system.jdbc (catalogs, schemas,
  // tables, columns, table_types, types) as Trino has them, with Trino's type names, for the
  // session's ref: what the JDBC driver's DatabaseMetaData (DBeaver's navigator) and Trino's
  // SQLAlchemy dialect (Superset) read.
  std::optional<Failure> DefineCatalogTables(sql::Session& s) {
    using T = sql::ColumnType;
    const std::string& cat = MainCatalog();
    auto domains = Domains(s.ref());
    if (!domains.ok()) return Failure{Error("XX000", domains.status().message()), std::nullopt};
    Rows schemata, tables, columns, views, jdbc_schemas, jdbc_tables, jdbc_columns;
    auto text = [](const std::string& v) { return std::optional<std::string>(v); };
    const std::optional<std::string> null;
    for (const std::string& d : *domains) {
      schemata.push_back({cat, d});
      jdbc_schemas.push_back({d, cat});
      auto ts = services.catalog.ListTables(s.ref(), {d});
      auto vs = services.catalog.ListViews(s.ref(), {d});
      std::vector<std::pair<std::string, bool>> relations;
      if (ts.ok()) {
        for (const auto& t : *ts) relations.emplace_back(t, false);
      }
      if (vs.ok()) {
        for (const auto& v : *vs) relations.emplace_back(v, true);
      }
      for (const auto& [name, is_view] : relations) {
        tables.push_back({cat, d, name, std::string(is_view ? "VIEW" : "BASE TABLE")});
        jdbc_tables.push_back({cat, d, name, std::string(is_view ? "VIEW" : "TABLE"), null, null,
                               null, null, null, null});
        if (is_view) views.push_back({cat, d, name, null});
        sql::Session::Description desc;
        std::string quoted = "\"" + d + "\".\"" + name + "\"";
        if (s.Describe("SELECT * FROM " + quoted, &desc)) continue;  // a view that does not resolve
        for (size_t i = 0; i < desc.columns.size(); ++i) {
          const auto& c = desc.columns[i];
          const std::string type = TypeName(c);
          const std::string pos = std::to_string(i + 1);
          columns.push_back({cat, d, name, c.name, pos, null, std::string("YES"), type});
          std::optional<std::string> size, digits;
          if (c.type == T::kNumeric) {
            size = std::to_string(c.precision > 0 ? c.precision : 38);
            digits = std::to_string(c.scale);
          } else if (c.type == T::kText && c.nested == sql::ResultColumn::Nested::kNone) {
            size = "2147483647";
          }
          jdbc_columns.push_back({cat, d, name, c.name, std::to_string(JdbcType(c)), type, size,
                                  null, digits, std::string("10"), std::string("1"), null, null,
                                  null, null, null, pos, std::string("YES"), null, null, null,
                                  null, std::string("NO"), std::string("NO")});
        }
      }
    }
    schemata.push_back({cat, std::string("information_schema")});
    jdbc_schemas.push_back({std::string("information_schema"), cat});
    auto cols = [](std::initializer_list<std::pair<const char*, T>> list) {
      std::vector<sql::ResultColumn> out;
      for (const auto& [n, t] : list) out.emplace_back(n, t);
      return out;
    };
    Status st = s.DefineTable(NamesOf("information_schema.schemata"),
                              cols({{"catalog_name", T::kText}, {"schema_name", T::kText}}), schemata);
    if (st.ok()) {
      st = s.DefineTable(NamesOf("information_schema.tables"),
                         cols({{"table_catalog", T::kText}, {"table_schema", T::kText},
                               {"table_name", T::kText}, {"table_type", T::kText}}),
                         tables);
    }
    if (st.ok()) {
      st = s.DefineTable(NamesOf("information_schema.views"),
                         cols({{"table_catalog", T::kText}, {"table_schema", T::kText},
                               {"table_name", T::kText}, {"view_definition", T::kText}}),
                         views);
    }
    if (st.ok()) {
      st = s.DefineTable(NamesOf("information_schema.columns"),
                         cols({{"table_catalog", T::kText}, {"table_schema", T::kText},
                               {"table_name", T::kText}, {"column_name", T::kText},
                               {"ordinal_position", T::kInt64}, {"column_default", T::kText},
                               {"is_nullable", T::kText}, {"data_type", T::kText}}),
                         columns);
    }
    if (st.ok()) {
      st = s.DefineTable(NamesOf("jdbc.catalogs"), cols({{"table_cat", T::kText}}), {{cat}});
    }
    if (st.ok()) {
      st = s.DefineTable(NamesOf("jdbc.schemas"),
                         cols({{"table_schem", T::kText}, {"table_catalog", T::kText}}), jdbc_schemas);
    }
    if (st.ok()) {
      st = s.DefineTable(NamesOf("jdbc.table_types"), cols({{"table_type", T::kText}}),
                         {{text("TABLE")}, {text("VIEW")}});
    }
    if (st.ok()) {
      st = s.DefineTable(
          NamesOf("jdbc.tables"),
          cols({{"table_cat", T::kText}, {"table_schem", T::kText}, {"table_name", T::kText},
                {"table_type", T::kText}, {"remarks", T::kText}, {"type_cat", T::kText},
                {"type_schem", T::kText}, {"type_name", T::kText},
                {"self_referencing_col_name", T::kText}, {"ref_generation", T::kText}}),
          jdbc_tables);
    }
    if (st.ok()) {
      st = s.DefineTable(
          NamesOf("jdbc.columns"),
          cols({{"table_cat", T::kText}, {"table_schem", T::kText}, {"table_name", T::kText},
                {"column_name", T::kText}, {"data_type", T::kInt64}, {"type_name", T::kText},
                {"column_size", T::kInt64}, {"buffer_length", T::kInt64},
                {"decimal_digits", T::kInt64}, {"num_prec_radix", T::kInt64},
                {"nullable", T::kInt64}, {"remarks", T::kText}, {"column_def", T::kText},
                {"sql_data_type", T::kInt64}, {"sql_datetime_sub", T::kInt64},
                {"char_octet_length", T::kInt64}, {"ordinal_position", T::kInt64},
                {"is_nullable", T::kText}, {"scope_catalog", T::kText}, {"scope_schema", T::kText},
                {"scope_table", T::kText}, {"source_data_type", T::kInt64},
                {"is_autoincrement", T::kText}, {"is_generatedcolumn", T::kText}}),
          jdbc_columns);
    }
    if (st.ok()) {
      Rows types;
      for (const auto& [name, code] : std::vector<std::pair<const char*, int>>{
               {"boolean", 16}, {"smallint", 5}, {"integer", 4}, {"bigint", -5}, {"real", 7},
               {"double", 8}, {"decimal", 3}, {"varchar", 12}, {"varbinary", -3}, {"date", 91},
               {"time", 92}, {"timestamp", 93}, {"timestamp with time zone", 2014},
               {"array", 2003}, {"map", 2000}, {"row", 2000}, {"json", 2000}, {"uuid", 2000}}) {
        types.push_back({std::string(name), std::to_string(code)});
      }
      st = s.DefineTable(NamesOf("jdbc.types"),
                         cols({{"type_name", T::kText}, {"data_type", T::kInt64}}), types);
    }
    if (!st.ok()) return Failure{Error("XX000", st.message()), std::nullopt};
    return std::nullopt;
  }

  void Stop() {
    std::map<std::string, std::shared_ptr<Query>> all;
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
      all = queries;
    }
    for (auto& [id, q] : all) Cancel(*q);
    for (auto& [id, q] : all) {
      if (q->thread.joinable()) q->thread.join();
    }
    std::lock_guard<std::mutex> lock(mu);
    queries.clear();
    txns.clear();
  }
};

Server::Server(Services services) : impl_(std::make_unique<Impl>(std::move(services))) {}
Server::~Server() { Stop(); }

bool Server::Handles(std::string_view path) {
  return path == "/v1/statement" || path.rfind("/v1/statement/", 0) == 0 ||
         path.rfind("/v1/query/", 0) == 0 || path == "/v1/info" || path == "/v1/info/state" ||
         path == "/v1/node";
}

bool Server::MayWait(std::string_view target) {
  target = server::OriginForm(target);
  return target.rfind("/v1/statement/", 0) == 0;
}

server::Response Server::Handle(server::Request& req) { return impl_->Handle(req); }

void Server::Stop() { impl_->Stop(); }

}  // namespace lakemesh::trino
