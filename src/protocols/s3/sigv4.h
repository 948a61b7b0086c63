// AWS Signature Version 4: parsing the Authorization header, building the canonical request and
// string to sign, and computing signatures, as S3 defines them
// (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html). The S3 handlers verify
// a request by recomputing its signature with the secret of the key it names. Stateless and
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lakemesh::s3 {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string, the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// "AKID/20150830/us-east-1/s3/aws4_request"
struct CredentialScope {
  std::string access_key_id;
  std::string date;     // YYYYMMDD
  std::string region;
  std::string service;

  std::string Scope() const;  // "20150830/us-east-1/s3/aws4_request"
};

struct Authorization {
  CredentialScope credential;
  std::vector<std::string> signed_headers;  // lowercase, as listed
  std::string signature;                    // lowercase hex
};

// Parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…". kInvalidArgument, with
// what is wrong, for anything else (including Signature Version 2 headers).
Result<Authorization> ParseAuthorization(std::string_view header);
Result<CredentialScope> ParseCredential(std::string_view credential);

// What a signature covers.
struct SignedRequest {
  std::string method;
  std::string path;  // the request path as sent, percent-encoded
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // as received, any case
  std::string payload_hash;  // hex SHA-256 of the body, or UNSIGNED-PAYLOAD, or a streaming marker
};

// The canonical request over `signed_headers` (lowercase names). Query parameter
// X-Amz-Signature is left out (presigned URLs). kInvalidArgument if a signed header is missing
// or the path is not valid percent-encoding.
Result<std::string> CanonicalRequest(const SignedRequest& req,
                                     const std::vector<std::string>& signed_headers);
// The same over the parts of a request held elsewhere (the server's, without copying them).
using NameValues = std::vector<std::pair<std::string, std::string>>;
Result<std::string> CanonicalRequest(std::string_view method, std::string_view path,
                                     const NameValues& query, const NameValues& headers,
                                     std::string_view payload_hash,
                                     const std::vector<std::string>& signed_headers);
std::string StringToSign(std::string_view amz_date, const CredentialScope& scope,
                         std::string_view canonical_request);
// The raw 32-byte signing key for a date, region and service.
std::string SigningKey(std::string_view secret, const CredentialScope& scope);
// Lowercase hex HMAC-SHA256 of the string to sign.
std::string Sign(std::string_view signing_key, std::string_view string_to_sign);

// All of the above: the signature `secret` gives `req` for `auth`'s scope and signed headers.
Result<std::string> ComputeSignature(const SignedRequest& req, const Authorization& auth,
                                     std::string_view amz_date, std::string_view secret);

// URI-encodes as SigV4 requires: everything but A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash),
// with uppercase hex.
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace lakemesh::s3
