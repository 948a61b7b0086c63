#include "governance/credentials.h"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "base/random.h"
#include "base/time.h"

namespace lakemesh::governance {

using nlohmann::json;

namespace {

constexpr const char* kKeyPrefix = "k/";
constexpr const char* kTokenPrefix = "tok/";

std::string KeyKey(const std::string& id) { return kKeyPrefix + id; }

Result<AccessKey> DecodeKey(const std::string& id, std::string_view data) {
  try {
    json j = json::parse(data);
    AccessKey k;
    k.id = id;
    k.secret = j.at("secret");
    k.owner = j.at("owner");
    k.description = j.value("description", "");
    k.created_micros = j.at("created");
    return k;
  } catch (const std::exception& e) {
    return Internal(std::string("corrupt access key record: ") + e.what());
  }
}

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Status ValidateAccessKeyId(const std::string& id) {
  if (id.size() < 3 || id.size() > 128) {
    return InvalidArgument("access key id must be 3 to 128 characters");
  }
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return InvalidArgument("access key id may contain only letters, digits, '_', '-', '.'");
    }
  }
  return Status::OK();
}

Status ValidateSecret(const std::string& secret) {
  if (secret.size() < 8 || secret.size() > 256) {
    return InvalidArgument("secret access key must be 8 to 256 characters");
  }
  for (char c : secret) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return InvalidArgument("secret access key may not contain spaces or control characters");
    }
  }
  return Status::OK();
}

Result<AccessKey> Credentials::CreateKey(const std::string& owner, const std::string& description,
                                         const std::string& id, const std::string& secret) {
  if (owner.empty() || owner.size() > 128) return InvalidArgument("key owner must be 1 to 128 characters");
  AccessKey k;
  k.id = id.empty() ? "LM" + RandomUpperAlnum(18) : id;
  k.secret = secret.empty() ? RandomAlnum(40) : secret;
  k.owner = owner;
  k.description = description;
  k.created_micros = NowMicros();
  LM_TRY(ValidateAccessKeyId(k.id));
  LM_TRY(ValidateSecret(k.secret));
  LM_TRY(meta_.Write([&](meta::MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto existing, txn.Get(KeyKey(k.id)));
    if (existing) return AlreadyExists("access key '" + k.id + "' already exists");
    json j{{"secret", k.secret},
           {"owner", k.owner},
           {"description", k.description},
           {"created", k.created_micros}};
    return txn.Put(KeyKey(k.id), j.dump());
  }));
  return k;
}

Result<std::vector<AccessKey>> Credentials::ListKeys() {
  LM_ASSIGN_OR_RETURN(auto rows, meta_.Scan(kKeyPrefix, meta::PrefixEnd(kKeyPrefix), 0));
  std::vector<AccessKey> out;
  for (const auto& kv : rows) {
    LM_ASSIGN_OR_RETURN(auto k, DecodeKey(kv.key.substr(2), kv.value));
    k.secret.clear();
    out.push_back(std::move(k));
  }
  return out;
}

Status Credentials::RevokeKey(const std::string& id) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    key_cache_.erase(id);
    token_cache_.clear();  // tokens die with the key they were issued under
  }
  return meta_.Write([&](meta::MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto existing, txn.Get(KeyKey(id)));
    if (!existing) return NotFound("access key '" + id + "' not found");
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(kKeyPrefix, meta::PrefixEnd(kKeyPrefix), 2));
    if (rows.size() < 2) {
      return PreconditionFailed("access key '" + id +
                                "' is the last one; create another before revoking it");
    }
    return txn.Delete(KeyKey(id));
  });
}

Result<AccessKey> Credentials::LookupKey(const std::string& id) {
  const int64_t now = MonotonicMicros();
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = key_cache_.find(id);
    if (it != key_cache_.end() && now - it->second.first < kKeyCacheMicros) return it->second.second;
  }
  LM_ASSIGN_OR_RETURN(auto v, meta_.Get(KeyKey(id)));
  if (!v) return NotFound("access key '" + id + "' not found");
  LM_ASSIGN_OR_RETURN(AccessKey k, DecodeKey(id, *v));
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (key_cache_.size() >= 1024) key_cache_.clear();
  key_cache_[id] = {now, k};
  return k;
}

Result<Principal> Credentials::VerifySecret(const std::string& id, const std::string& secret) {
  auto k = LookupKey(id);
  if (!k.ok()) {
    if (k.status().IsNotFound()) return Unauthenticated("invalid access key id or secret");
    return k.status();
  }
  if (!ConstantTimeEqual(k->secret, secret)) {
    return Unauthenticated("invalid access key id or secret");
  }
  return Principal{k->owner, k->id};
}

Result<IssuedToken> Credentials::IssueToken(const Principal& p, int64_t ttl_micros) {
  if (ttl_micros <= 0) return InvalidArgument("token lifetime must be positive");
  IssuedToken t{"lmt_" + RandomAlnum(40), NowMicros() + ttl_micros};
  json j{{"owner", p.name}, {"key", p.access_key_id}, {"expires", t.expires_micros}};
  LM_TRY(meta_.Put(kTokenPrefix + ToHex(Sha256(t.token)), j.dump()));
  return t;
}

Result<Principal> Credentials::VerifyToken(const std::string& token) {
  const int64_t now = NowMicros();
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = token_cache_.find(token);
    if (it != token_cache_.end() && now - it->second.checked < kKeyCacheMicros &&
        now <= it->second.expires) {
      return it->second.principal;
    }
  }
  LM_ASSIGN_OR_RETURN(auto v, meta_.Get(kTokenPrefix + ToHex(Sha256(token))));
  if (!v) return Unauthenticated("invalid or expired token");
  try {
    json j = json::parse(*v);
    int64_t expires = j.at("expires").get<int64_t>();
    if (expires < now) return Unauthenticated("invalid or expired token");
    std::string key = j.at("key");
    // A token dies with the key it was issued under.
    if (!key.empty()) {
      LM_ASSIGN_OR_RETURN(auto k, meta_.Get(KeyKey(key)));
      if (!k) return Unauthenticated("invalid or expired token");
    }
    Principal p{j.at("owner"), ""};
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (token_cache_.size() >= 1024) token_cache_.clear();
    token_cache_[token] = CachedToken{now, expires, p};
    return p;
  } catch (const std::exception& e) {
    return Internal(std::string("corrupt token record: ") + e.what());
  }
}

Result<std::optional<AccessKey>> Credentials::Bootstrap(const std::string& env_id,
                                                        const std::string& env_secret) {
  if (!env_id.empty() || !env_secret.empty()) {
    if (env_id.empty() || env_secret.empty()) {
      return InvalidArgument(
          "set both LAKEMESH_ACCESS_KEY_ID and LAKEMESH_SECRET_ACCESS_KEY, or neither");
    }
    auto existing = LookupKey(env_id);
    if (existing.ok()) {
      if (existing->secret != env_secret) {
        return InvalidArgument("LAKEMESH_ACCESS_KEY_ID '" + env_id +
                               "' exists with a different secret; revoke it or use its secret");
      }
      return std::optional<AccessKey>();
    }
    if (!existing.status().IsNotFound()) return existing.status();
    LM_ASSIGN_OR_RETURN(auto k, CreateKey("admin", "from LAKEMESH_ACCESS_KEY_ID", env_id,
                                          env_secret));
    return std::optional<AccessKey>(k);
  }
  LM_ASSIGN_OR_RETURN(auto rows, meta_.Scan(kKeyPrefix, meta::PrefixEnd(kKeyPrefix), 1));
  if (!rows.empty()) return std::optional<AccessKey>();
  LM_ASSIGN_OR_RETURN(auto k, CreateKey("admin", "generated at first start"));
  return std::optional<AccessKey>(k);
}

}  // namespace lakemesh::governance
