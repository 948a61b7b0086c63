#include "protocols/s3/sigv4.h"

#include <strings.h>

#include <algorithm>
#include <cctype>

#include "base/hash.h"
#include "server/http.h"

namespace lakemesh::s3 {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of spaces to one, as canonical header values require.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string CredentialScope::Scope() const {
  return date + "/" + region + "/" + service + "/aws4_request";
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  return server::PercentEncode(s, keep_slash);
}

Result<CredentialScope> ParseCredential(std::string_view c) {
  // AKID/YYYYMMDD/region/service/aws4_request; the key id itself has no '/'.
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = c.find('/', start);
    parts.push_back(c.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty() ||
      parts[1].size() != 8 || !std::all_of(parts[1].begin(), parts[1].end(), ::isdigit) ||
      parts[2].empty() || parts[3].empty()) {
    return InvalidArgument("malformed credential '" + std::string(c) +
                           "': expected ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
  }
  return CredentialScope{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                         std::string(parts[3])};
}

Result<Authorization> ParseAuthorization(std::string_view header) {
  header = Trim(header);
  if (header.substr(0, 4) == "AWS ") {
    return InvalidArgument("AWS Signature Version 2 is not supported; sign with Version 4");
  }
  if (header.substr(0, kSigV4Algorithm.size()) != kSigV4Algorithm ||
      header.size() == kSigV4Algorithm.size() || header[kSigV4Algorithm.size()] != ' ') {
    return InvalidArgument("unsupported authorization: expected AWS4-HMAC-SHA256");
  }
  std::string_view rest = header.substr(kSigV4Algorithm.size() + 1);
  Authorization auth;
  bool have_cred = false, have_headers = false, have_sig = false;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("malformed authorization component '" + std::string(part) + "'");
    }
    std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "Credential") {
      LM_ASSIGN_OR_RETURN(auth.credential, ParseCredential(value));
      have_cred = true;
    } else if (name == "SignedHeaders") {
      size_t s = 0;
      while (s <= value.size()) {
        size_t semi = value.find(';', s);
        std::string_view h = value.substr(s, semi == std::string_view::npos ? semi : semi - s);
        if (h.empty()) return InvalidArgument("empty name in SignedHeaders");
        auth.signed_headers.push_back(Lower(h));
        if (semi == std::string_view::npos) break;
        s = semi + 1;
      }
      have_headers = true;
    } else if (name == "Signature") {
      if (value.size() != 64 || !IsLowerHex(value)) {
        return InvalidArgument("Signature must be 64 lowercase hex characters");
      }
      auth.signature = std::string(value);
      have_sig = true;
    } else {
      return InvalidArgument("unknown authorization component '" + std::string(name) + "'");
    }
  }
  if (!have_cred || !have_headers || !have_sig) {
    return InvalidArgument("authorization needs Credential, SignedHeaders and Signature");
  }
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") ==
      auth.signed_headers.end()) {
    return InvalidArgument("SignedHeaders must include host");
  }
  return auth;
}

Result<std::string> CanonicalRequest(const SignedRequest& req,
                                     const std::vector<std::string>& signed_headers) {
  return CanonicalRequest(req.method, req.path, req.query, req.headers, req.payload_hash,
                          signed_headers);
}

Result<std::string> CanonicalRequest(std::string_view method, std::string_view raw_path,
                                     const NameValues& query, const NameValues& headers,
                                     std::string_view payload_hash,
                                     const std::vector<std::string>& signed_headers) {
  auto path = server::PercentDecode(raw_path.empty() ? "/" : raw_path, false);
  if (!path) return InvalidArgument("the request path is not valid percent-encoding");
  std::string out;
  out.reserve(512);
  out += method;
  out += '\n';
  out += UriEncode(*path, true);
  out += '\n';

  std::vector<std::pair<std::string, std::string>> q;
  q.reserve(query.size());
  for (const auto& [k, v] : query) {
    if (k == "X-Amz-Signature") continue;
    q.emplace_back(UriEncode(k, false), UriEncode(v, false));
  }
  std::sort(q.begin(), q.end());
  for (size_t i = 0; i < q.size(); ++i) {
    if (i) out += '&';
    out += q[i].first;
    out += '=';
    out += q[i].second;
  }
  out += '\n';

  std::vector<std::string> names = signed_headers;
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    out += name;
    out += ':';
    bool found = false;
    for (const auto& [k, v] : headers) {
      if (k.size() != name.size() || strncasecmp(k.data(), name.data(), k.size()) != 0) continue;
      if (found) out += ',';
      out += CanonicalValue(v);
      found = true;
    }
    if (!found) return InvalidArgument("signed header '" + name + "' is not in the request");
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ';';
    out += names[i];
  }
  out += '\n';
  out += payload_hash;
  return out;
}

std::string StringToSign(std::string_view amz_date, const CredentialScope& scope,
                         std::string_view canonical_request) {
  return std::string(kSigV4Algorithm) + "\n" + std::string(amz_date) + "\n" + scope.Scope() +
         "\n" + ToHex(Sha256(canonical_request));
}

std::string SigningKey(std::string_view secret, const CredentialScope& scope) {
  std::string k = HmacSha256("AWS4" + std::string(secret), scope.date);
  k = HmacSha256(k, scope.region);
  k = HmacSha256(k, scope.service);
  return HmacSha256(k, "aws4_request");
}

std::string Sign(std::string_view signing_key, std::string_view string_to_sign) {
  return ToHex(HmacSha256(signing_key, string_to_sign));
}

Result<std::string> ComputeSignature(const SignedRequest& req, const Authorization& auth,
                                     std::string_view amz_date, std::string_view secret) {
  LM_ASSIGN_OR_RETURN(std::string canonical, CanonicalRequest(req, auth.signed_headers));
  return Sign(SigningKey(secret, auth.credential),
              StringToSign(amz_date, auth.credential, canonical));
}

}  // namespace lakemesh::s3
