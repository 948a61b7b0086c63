// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it for password authentication, server
// side: the client proves it knows the password (an access key's secret) without sending it, and
// the server proves it knows it too. lakemesh keeps secrets (it verifies SigV4 signatures), so the
// salted password is derived per exchange with a fresh salt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lakemesh::pgwire {

class ScramServer {
 public:
  static constexpr int kIterations = 4096;

  // `client_first`: "n,,n=<user>,r=<nonce>" (channel binding not supported: "n" or "y" only).
  // Returns the server-first message to send. kInvalidArgument for a malformed message.
  Result<std::string> Start(std::string_view client_first);
  // `client_final`: "c=biws,r=<nonce>,p=<proof>". With `password` (the secret of the user the
  // startup named; nullopt when there is no such user) returns the server-final message
  // ("v=<signature>"); kUnauthenticated when the proof does not match.
  Result<std::string> Finish(std::string_view client_final,
                             const std::optional<std::string>& password);

 private:
  std::string client_first_bare_, server_first_, nonce_, salt_;
};

}  // namespace lakemesh::pgwire
