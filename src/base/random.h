// Cryptographically strong random identifiers (OpenSSL RAND_bytes). Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace lakemesh {

std::string RandomBytes(size_t n);
std::string RandomHex(size_t n_bytes);
// Random text from [A-Za-z0-9], for secrets and tokens.
std::string RandomAlnum(size_t n);
// Random uppercase [A-Z0-9], the alphabet of access key ids.
std::string RandomUpperAlnum(size_t n);
// RFC 4122 version 4 UUID, lowercase.
std::string NewUuid();

// Fast per-thread pseudo-random numbers (splitmix64 seeded from RandomBytes), for identifiers
// that must be unique but need not be unguessable, such as request ids. Never for secrets.
uint64_t FastRandom64();

}  // namespace lakemesh
