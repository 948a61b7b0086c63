#include "protocols/pgwire/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/coding.h"
#include "base/hash.h"
#include "base/random.h"

namespace lakemesh::pgwire {
namespace {

Status Bad(const char* what) {
  return InvalidArgument(std::string("malformed SCRAM ") + what + " message");
}

// The value of attribute `a` ("r" in "r=abc") among comma-separated attributes.
std::optional<std::string_view> Attr(std::string_view msg, char a) {
  size_t i = 0;
  while (i < msg.size()) {
    size_t comma = msg.find(',', i);
    std::string_view part = msg.substr(i, comma == std::string_view::npos ? msg.npos : comma - i);
    if (part.size() >= 2 && part[0] == a && part[1] == '=') return part.substr(2);
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
  return std::nullopt;
}

std::string SaltedPassword(std::string_view password, std::string_view salt, int iterations) {
  std::string out(32, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), 32,
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

Result<std::string> ScramServer::Start(std::string_view client_first) {
  // gs2-header: "n,," or "y,," (no channel binding), optionally with an authzid we ignore.
  if (client_first.size() < 3 || (client_first[0] != 'n' && client_first[0] != 'y') ||
      client_first[1] != ',') {
    if (!client_first.empty() && client_first[0] == 'p') {
      return InvalidArgument("SCRAM channel binding is not supported");
    }
    return Bad("client-first");
  }
  size_t second = client_first.find(',', 2);
  if (second == std::string_view::npos) return Bad("client-first");
  client_first_bare_ = std::string(client_first.substr(second + 1));
  auto r = Attr(client_first_bare_, 'r');
  if (!r || r->empty() || r->size() > 256) return Bad("client-first");
  nonce_ = std::string(*r) + Base64Encode(RandomBytes(18));
  salt_ = RandomBytes(16);
  server_first_ = "r=" + nonce_ + ",s=" + Base64Encode(salt_) + ",i=" + std::to_string(kIterations);
  return server_first_;
}

Result<std::string> ScramServer::Finish(std::string_view client_final,
                                        const std::optional<std::string>& password) {
  if (server_first_.empty()) return Bad("client-final");
  size_t p = client_final.rfind(",p=");
  if (p == std::string_view::npos) return Bad("client-final");
  std::string_view without_proof = client_final.substr(0, p);
  auto r = Attr(without_proof, 'r');
  auto proof_b64 = Attr(client_final.substr(p + 1), 'p');
  auto binding = Attr(without_proof, 'c');
  if (!r || !proof_b64 || !binding) return Bad("client-final");
  // "biws" is base64("n,,"); "eSws" is base64("y,,").
  if (*binding != "biws" && *binding != "eSws") {
    return InvalidArgument("SCRAM channel binding is not supported");
  }
  auto proof = Base64Decode(*proof_b64);
  if (*r != nonce_ || !proof || proof->size() != 32 || !password) {
    return Unauthenticated("password authentication failed");
  }
  const std::string salted = SaltedPassword(*password, salt_, kIterations);
  const std::string client_key = HmacSha256(salted, "Client Key");
  const std::string stored_key = Sha256(client_key);
  const std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string client_signature = HmacSha256(stored_key, auth_message);
  std::string recovered(32, '\0');
  for (size_t i = 0; i < 32; ++i) recovered[i] = (*proof)[i] ^ client_signature[i];
  const std::string check = Sha256(recovered);
  if (CRYPTO_memcmp(check.data(), stored_key.data(), 32) != 0) {
    return Unauthenticated("password authentication failed");
  }
  const std::string server_key = HmacSha256(salted, "Server Key");
  return "v=" + Base64Encode(HmacSha256(server_key, auth_message));
}

}  // namespace lakemesh::pgwire
