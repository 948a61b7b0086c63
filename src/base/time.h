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

// HTTP dates (RFC 9110 IMF-fixdate): "Mon, 23 Nov 2026 16:47:05 GMT", whole seconds.
std::string FormatHttpDate(int64_t micros);
// Also accepts the obsolete RFC 850 and asctime forms, as HTTP requires.
std::optional<int64_t> ParseHttpDate(std::string_view text);
// "2026-11-23T16:47:05.123Z", milliseconds always shown (S3's XML timestamps).
std::string FormatIso8601Millis(int64_t micros);
// "20261123T164705Z" (SigV4's x-amz-date) -> micros; nullopt if malformed.
std::optional<int64_t> ParseAmzDate(std::string_view text);

}  // namespace lakemesh
