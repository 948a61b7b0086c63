// Credentials: access keys and bearer tokens, and the Principal every request carries.
//
// An access key is an id ("LM" + 18 uppercase characters, like AWS's) and a secret (40
// characters). The same pair signs S3 requests (SigV4, which needs the secret itself, so secrets
// are stored, in a MetaStore file readable by its owner only), authenticates HTTP requests with
// Basic auth, and is a PostgreSQL user/password. A bearer token is issued for a principal and
// stored only as its SHA-256. Authorization rules come later; today any principal may do all.
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "base/status.h"
#include "meta/meta_store.h"

namespace lakemesh::governance {

struct Principal {
  std::string name;           // who: "admin", "alice", a service account
  std::string access_key_id;  // the key that authenticated the request ("" for tokens)
};

struct AccessKey {
  std::string id;
  std::string secret;  // empty in listings
  std::string owner;
  std::string description;
  int64_t created_micros = 0;
  int64_t last_used_micros = 0;
};

struct IssuedToken {
  std::string token;
  int64_t expires_micros;
};

class Credentials {
 public:
  explicit Credentials(meta::MetaStore& meta) : meta_(meta) {}

  // Creates a key for `owner`. With `id`/`secret` given (from the environment), uses them;
  // kInvalidArgument if they are malformed, kAlreadyExists if the id is taken.
  Result<AccessKey> CreateKey(const std::string& owner, const std::string& description,
                              const std::string& id = "", const std::string& secret = "");
  Result<std::vector<AccessKey>> ListKeys();  // secrets omitted
  Status RevokeKey(const std::string& id);    // kNotFound if there is no such key
  // The key with its secret (for signature checks). kNotFound if unknown. Keys found are
  // cached for a second (every S3 request looks its key up); RevokeKey drops its key from this
  // process's cache at once, another process sharing the metadata sees it within that second.
  Result<AccessKey> LookupKey(const std::string& id);
  // kUnauthenticated (without saying which part was wrong) unless id and secret match.
  Result<Principal> VerifySecret(const std::string& id, const std::string& secret);

  Result<IssuedToken> IssueToken(const Principal& p, int64_t ttl_micros);
  Result<Principal> VerifyToken(const std::string& token);

  // At first start: makes sure an admin key exists. If LAKEMESH_ACCESS_KEY_ID/SECRET are given
  // they are registered (when new); if no key exists at all one is generated. Returns the key
  // when this call created it, so the caller can print it once.
  Result<std::optional<AccessKey>> Bootstrap(const std::string& env_id,
                                             const std::string& env_secret);

 private:
  static constexpr int64_t kKeyCacheMicros = 1000000;
  meta::MetaStore& meta_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::pair<int64_t, AccessKey>> key_cache_;  // GUARDED_BY(cache_mu_)
  // Verified tokens, for the same second as keys (a catalog client sends its token with every
  // call). Revoking any key empties it.
  struct CachedToken {
    int64_t checked = 0;
    int64_t expires = 0;
    Principal principal;
  };
  std::unordered_map<std::string, CachedToken> token_cache_;  // GUARDED_BY(cache_mu_)
};

Status ValidateAccessKeyId(const std::string& id);
Status ValidateSecret(const std::string& secret);

}  // namespace lakemesh::governance
