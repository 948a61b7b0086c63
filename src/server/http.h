// HTTP request and response as handlers see them: no Beast or socket types. A request body is
// pulled through BodyReader as the handler needs it (so uploads stream); a response body is a
// string or a BodySource that is streamed out (a local file goes by sendfile).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lakemesh::server {

// Header names compare case-insensitively; order and repeats are kept.
class Headers {
 public:
  void Add(std::string name, std::string value) { h_.emplace_back(std::move(name), std::move(value)); }
  void Set(const std::string& name, std::string value);
  void Remove(std::string_view name);
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return h_; }

 private:
  std::vector<std::pair<std::string, std::string>> h_;
};

class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to n bytes of the request body; 0 at its end. Errors if the client stalls or
  // breaks off.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // The declared length, if the client sent Content-Length.
  virtual std::optional<uint64_t> content_length() const = 0;
  virtual uint64_t bytes_read() const = 0;
};

class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  virtual uint64_t size() const = 0;
  // A local file descriptor and offset to send with sendfile instead of Read.
  virtual std::optional<std::pair<int, uint64_t>> LocalFile() const { return std::nullopt; }
};

struct Request {
  std::string method;
  std::string target;        // as received: path and query
  std::string path;          // percent-encoded, without the query
  std::string query_string;  // without '?'
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  Headers headers;
  BodyReader* body = nullptr;
  std::string remote;
  std::map<std::string, std::string> params;  // route parameters, decoded
  std::string principal;                      // who, for logs; set by authentication
  // The server lets this request's handler answer later (Response::deferred) or send it to a
  // worker thread (Response::Offload): it is being served on an event loop, which must not
  // block, and its whole body has arrived.
  bool can_defer = false;

  std::optional<std::string> Query(std::string_view name) const;
  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
};

class DeferredResponse;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::unique_ptr<BodySource> stream;      // used instead of `body` when set
  bool head = false;                       // send headers only (HEAD)
  std::optional<uint64_t> content_length;  // for HEAD: the length the body would have
  // Only when Request::can_defer. Set: the real response comes later through this object (the
  // handler started work that ends on another thread). `offload`: the handler would block, and
  // has not read the body; the server runs it again on a worker thread.
  std::shared_ptr<DeferredResponse> deferred;
  bool offload = false;

  static Response Text(int status, std::string text, std::string content_type = "text/plain");
  static Response Offload();
};

// The response a handler finishes after returning. Finish() is called exactly once, from any
// thread; the server's callback then runs on that thread (or in OnFinish, if Finish came first),
// so it must be quick and must not block.
class DeferredResponse {
 public:
  void Finish(Response r);
  void OnFinish(std::function<void(Response)> fn);

 private:
  std::mutex mu_;
  std::optional<Response> res_;              // GUARDED_BY(mu_): finished before OnFinish
  std::function<void(Response)> fn_;         // GUARDED_BY(mu_)
};

using Handler = std::function<Response(Request&)>;

// %XX and (in queries) '+' decoding. nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);
// Encodes everything but unreserved characters (and '/' when keep_slash).
std::string PercentEncode(std::string_view s, bool keep_slash);
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view qs);
// A request target in origin form: "http://host:port/p?q" -> "/p?q"; others as they are.
std::string_view OriginForm(std::string_view target);

// "bytes first-last/size", the Content-Range of a partial response.
std::string ContentRange(uint64_t first, uint64_t last, uint64_t size);
// A Range header ("bytes=a-b", "bytes=a-", "bytes=-n") against a body of `size` bytes, as the
// inclusive [first, last]. nullopt when there is no usable single range (serve the whole body);
// kInvalidArgument when it cannot be satisfied (416).
Result<std::optional<std::pair<uint64_t, uint64_t>>> ParseByteRange(std::string_view header,
                                                                    uint64_t size);

}  // namespace lakemesh::server
