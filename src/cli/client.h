// Client: the CLI's connection to a lakemesh server over the REST API (libcurl). Finds the server
// and credentials from flags, LAKEMESH_URL / LAKEMESH_ACCESS_KEY_ID / LAKEMESH_SECRET_ACCESS_KEY,
// or the config file that `lakemesh serve` writes at first start. Server errors come back as the
// Status the server reported. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lakemesh::cli {

using Query = std::vector<std::pair<std::string, std::string>>;
// Called with (bytes done, bytes total) as a transfer progresses.
using Progress = std::function<void(uint64_t, uint64_t)>;

class Client {
 public:
  static Result<Client> Connect(const std::string& url_flag);

  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const Query& query = {}, const nlohmann::json* body = nullptr);
  // Sends `local_file` as the body of a PUT (or `method`), streaming it.
  Result<nlohmann::json> Upload(const std::string& path, const Query& query,
                                const std::string& local_file, const std::string& content_type,
                                const Progress& progress, const std::string& method = "PUT");
  // GETs every page of a paginated listing (following pagination.next_after) and returns all
  // results in one array.
  Result<nlohmann::json> ListAll(const std::string& path, Query query = {});
  // Streams the response body to `sink`; returns the number of bytes.
  Result<uint64_t> Download(const std::string& path, const Query& query,
                            const std::function<bool(const char*, size_t)>& sink,
                            const Progress& progress);

  const std::string& url() const { return url_; }
  const std::string& access_key_id() const { return key_; }
  const std::string& secret() const { return secret_; }

 private:
  Client(std::string url, std::string key, std::string secret)
      : url_(std::move(url)), key_(std::move(key)), secret_(std::move(secret)) {}
  std::string Url(const std::string& path, const Query& query) const;

  std::string url_;
  std::string key_;
  std::string secret_;
};

// Percent-encodes one path segment (repository, ref, ...).
std::string Seg(const std::string& s);

}  // namespace lakemesh::cli
