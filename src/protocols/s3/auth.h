// Authenticating S3 requests: AWS Signature Version 4 in the Authorization header or in a
// presigned URL's query (with its expiry), the payload hash mode the signature commits to, and
// the clock-skew limit. Failures come back as S3's own errors (InvalidAccessKeyId,
// SignatureDoesNotMatch, AccessDenied, RequestTimeTooSkewed, AuthorizationHeaderMalformed, ...).
// Signing keys are cached per key, day, region and service. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "governance/credentials.h"
#include "protocols/s3/chunked.h"
#include "protocols/s3/errors.h"
#include "protocols/s3/sigv4.h"
#include "server/http.h"

namespace lakemesh::s3 {

// What the signature says about the body (x-amz-content-sha256).
enum class PayloadMode {
  kUnsigned,                  // UNSIGNED-PAYLOAD (and presigned URLs)
  kSha256,                    // a hex SHA-256 the body must match
  kStreamingSigned,           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  kStreamingSignedTrailer,    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  kStreamingUnsignedTrailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

struct AuthResult {
  governance::Principal principal;
  PayloadMode payload = PayloadMode::kUnsigned;
  std::string payload_sha256;          // kSha256: the expected hex digest
  std::optional<ChunkSigning> signing;  // streaming signed modes
};

inline constexpr int64_t kMaxClockSkewMicros = 15LL * 60 * 1000000;
inline constexpr int64_t kMaxPresignedExpirySeconds = 7LL * 24 * 3600;

class Authenticator {
 public:
  explicit Authenticator(governance::Credentials& credentials) : credentials_(credentials) {}

  // Verifies `req` at time `now_micros`; nullopt and *out filled on success.
  std::optional<S3Error> Authenticate(const server::Request& req, int64_t now_micros,
                                      AuthResult* out);

 private:
  std::string CachedSigningKey(const std::string& secret, const CredentialScope& scope);

  governance::Credentials& credentials_;
  std::mutex mu_;
  struct CachedKey {
    std::string secret;  // the secret the key was derived from; a rotated secret misses
    std::string key;
  };
  // Keyed by access key id and credential scope.
  std::unordered_map<std::string, CachedKey> signing_keys_;  // GUARDED_BY(mu_)
};

}  // namespace lakemesh::s3
