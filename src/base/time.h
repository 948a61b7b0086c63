// Wall-clock time as microseconds since the Unix epoch, and RFC 3339 text ("2026-11-01T00:00:00Z").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lakemesh {

int64_t NowMicros();
// Monotonic clock for measuring durations.
int64_t MonotonicMicros();

// "2026-11-23T16:47:05.123456Z" (fraction omitted when zero).
std::string FormatRfc3339(int64_t micros);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" with "Z", "+HH:MM" or no zone (UTC).
std::optional<int64_t> ParseRfc3339(std::string_view text);

}  // namespace lakemesh
