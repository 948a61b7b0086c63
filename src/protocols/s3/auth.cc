#include "protocols/s3/auth.h"

#include "base/hash.h"
#include "base/time.h"
#include "protocols/s3/sigv4.h"

namespace lakemesh::s3 {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

S3Error Malformed(const std::string& why) {
  return MakeError(400, "AuthorizationHeaderMalformed", why);
}

std::optional<S3Error> ParsePayloadMode(std::string_view v, AuthResult* out) {
  if (v == kUnsignedPayload) {
    out->payload = PayloadMode::kUnsigned;
  } else if (v == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
    out->payload = PayloadMode::kStreamingSigned;
  } else if (v == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
    out->payload = PayloadMode::kStreamingSignedTrailer;
  } else if (v == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    out->payload = PayloadMode::kStreamingUnsignedTrailer;
  } else if (v.size() == 64 && IsLowerHex(v)) {
    out->payload = PayloadMode::kSha256;
    out->payload_sha256 = std::string(v);
  } else if (v.substr(0, 10) == "STREAMING-") {
    return MakeError(501, "NotImplemented",
                     "payload signing mode '" + std::string(v) +
                         "' is not supported (SigV4a is not); use SigV4 streaming or "
                         "UNSIGNED-PAYLOAD");
  } else {
    return MakeError(400, "InvalidArgument",
                     "x-amz-content-sha256 must be a lowercase hex SHA-256, UNSIGNED-PAYLOAD or "
                     "a STREAMING-* mode");
  }
  return std::nullopt;
}

}  // namespace

std::string Authenticator::CachedSigningKey(const std::string& secret,
                                            const CredentialScope& scope) {
  std::string id = scope.access_key_id + '\n' + scope.Scope();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = signing_keys_.find(id);
  if (it != signing_keys_.end() && it->second.secret == secret) return it->second.key;
  if (signing_keys_.size() > 4096) signing_keys_.clear();
  std::string key = SigningKey(secret, scope);
  signing_keys_[std::move(id)] = CachedKey{secret, key};
  return key;
}

std::optional<S3Error> Authenticator::Authenticate(const server::Request& req, int64_t now,
                                                   AuthResult* out) {
  Authorization auth;
  std::string amz_date;
  int64_t expires_seconds = -1;  // presigned only
  std::string payload_hash;

  auto auth_header = req.Header("Authorization");
  if (req.Query("X-Amz-Algorithm")) {
    if (auth_header) {
      return MakeError(400, "InvalidArgument",
                       "only one auth mechanism allowed: a presigned URL or an Authorization "
                       "header, not both");
    }
    if (*req.Query("X-Amz-Algorithm") != kSigV4Algorithm) {
      return MakeError(400, "AuthorizationQueryParametersError",
                       "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
    }
    auto cred = req.Query("X-Amz-Credential");
    auto date = req.Query("X-Amz-Date");
    auto exp = req.Query("X-Amz-Expires");
    auto sh = req.Query("X-Amz-SignedHeaders");
    auto sig = req.Query("X-Amz-Signature");
    if (!cred || !date || !exp || !sh || !sig) {
      return MakeError(400, "AuthorizationQueryParametersError",
                       "a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, "
                       "X-Amz-SignedHeaders and X-Amz-Signature");
    }
    auto parsed = ParseAuthorization(std::string(kSigV4Algorithm) + " Credential=" + *cred +
                                     ", SignedHeaders=" + *sh + ", Signature=" + *sig);
    if (!parsed.ok()) {
      return MakeError(400, "AuthorizationQueryParametersError", parsed.status().message());
    }
    auth = std::move(*parsed);
    amz_date = *date;
    if (exp->empty() || exp->size() > 7 || exp->find_first_not_of("0123456789") != std::string::npos) {
      return MakeError(400, "AuthorizationQueryParametersError",
                       "X-Amz-Expires must be a number of seconds");
    }
    expires_seconds = std::stoll(*exp);
    if (expires_seconds < 1 || expires_seconds > kMaxPresignedExpirySeconds) {
      return MakeError(400, "AuthorizationQueryParametersError",
                       "X-Amz-Expires must be between 1 and 604800 seconds (7 days)");
    }
    payload_hash = req.Query("X-Amz-Content-Sha256").value_or(std::string(kUnsignedPayload));
  } else if (auth_header) {
    auto parsed = ParseAuthorization(*auth_header);
    if (!parsed.ok()) {
      if (auth_header->substr(0, 4) == "AWS ") {
        return MakeError(400, "InvalidRequest",
                         "AWS Signature Version 2 is not supported; use Signature Version 4 "
                         "(AWS4-HMAC-SHA256)");
      }
      return Malformed(parsed.status().message());
    }
    auth = std::move(*parsed);
    if (auto d = req.Header("x-amz-date")) {
      amz_date = std::string(*d);
    } else if (auto hd = req.Header("Date")) {
      auto t = ParseHttpDate(*hd);
      if (!t) return MakeError(403, "AccessDenied", "the Date header is not an HTTP date");
      time_t secs = static_cast<time_t>(*t / 1000000);
      struct tm tm;
      gmtime_r(&secs, &tm);
      char buf[32];
      strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
      amz_date = buf;
    } else {
      return MakeError(403, "AccessDenied", "a signed request needs an x-amz-date or Date header");
    }
    auto ph = req.Header("x-amz-content-sha256");
    if (!ph) {
      return MakeError(400, "InvalidRequest",
                       "missing required header for this request: x-amz-content-sha256");
    }
    payload_hash = std::string(*ph);
  } else if (req.Query("AWSAccessKeyId") && req.Query("Signature")) {
    return MakeError(400, "InvalidRequest",
                     "this presigned URL uses AWS Signature Version 2, which is not supported; "
                     "presign with Signature Version 4 (e.g. boto3 Config(signature_version='s3v4'))");
  } else {
    return MakeError(403, "AccessDenied",
                     "anonymous access is not allowed: sign requests with an access key "
                     "(AWS Signature Version 4)");
  }

  auto when = ParseAmzDate(amz_date);
  if (!when) {
    return MakeError(403, "AccessDenied", "X-Amz-Date '" + amz_date + "' is not YYYYMMDDTHHMMSSZ");
  }
  if (amz_date.substr(0, 8) != auth.credential.date) {
    return Malformed("the credential date " + auth.credential.date +
                     " does not match the request date " + amz_date.substr(0, 8));
  }
  if (auth.credential.service != "s3") {
    return Malformed("the credential is scoped to service '" + auth.credential.service +
                     "'; it must be 's3'");
  }
  if (expires_seconds < 0) {
    if (*when > now + kMaxClockSkewMicros || *when < now - kMaxClockSkewMicros) {
      return MakeError(403, "RequestTimeTooSkewed",
                       "the difference between the request time (" + amz_date +
                           ") and the server's time is larger than 15 minutes");
    }
  } else {
    if (*when > now + kMaxClockSkewMicros) {
      return MakeError(403, "AccessDenied", "the presigned URL is not valid yet");
    }
    if (now > *when + expires_seconds * 1000000) {
      return MakeError(403, "AccessDenied", "Request has expired");
    }
  }
  if (auto e = ParsePayloadMode(payload_hash, out)) return e;
  if (expires_seconds >= 0 && out->payload != PayloadMode::kUnsigned &&
      out->payload != PayloadMode::kSha256) {
    return MakeError(400, "InvalidRequest", "a presigned URL cannot use a streaming payload");
  }

  auto key = credentials_.LookupKey(auth.credential.access_key_id);
  if (!key.ok()) {
    if (key.status().IsNotFound()) {
      return MakeError(403, "InvalidAccessKeyId",
                       "the access key id '" + auth.credential.access_key_id +
                           "' does not exist in our records");
    }
    return FromStatus(key.status());
  }
  auto canonical = CanonicalRequest(req.method, req.path, req.query, req.headers.all(),
                                    payload_hash, auth.signed_headers);
  if (!canonical.ok()) return Malformed(canonical.status().message());
  std::string signing_key = CachedSigningKey(key->secret, auth.credential);
  std::string sts = StringToSign(amz_date, auth.credential, *canonical);
  std::string want = Sign(signing_key, sts);
  if (!ConstantTimeEquals(want, auth.signature)) {
    return MakeError(403, "SignatureDoesNotMatch",
                     "the request signature we calculated does not match the signature you "
                     "provided; check your key and signing method");
  }
  out->principal = governance::Principal{key->owner, key->id};
  if (out->payload == PayloadMode::kStreamingSigned ||
      out->payload == PayloadMode::kStreamingSignedTrailer) {
    out->signing = ChunkSigning{signing_key, amz_date, auth.credential.Scope(), auth.signature};
  }
  return std::nullopt;
}

}  // namespace lakemesh::s3
