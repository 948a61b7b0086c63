// Structured logging. Every line is one event with a message and fields; on a terminal it prints
// as "2026-11-23T16:47:05Z INFO  listening http=127.0.0.1:8080", otherwise (or with
// LogFormat::kJson) as one JSON object per line. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace lakemesh::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };
enum class Format { kAuto, kText, kJson };

void Init(Level min_level, Format format);
bool Enabled(Level level);
void Event(Level level, std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());

inline void Debug(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  Event(Level::kDebug, msg, f);
}
inline void Info(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  Event(Level::kInfo, msg, f);
}
inline void Warn(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  Event(Level::kWarn, msg, f);
}
inline void Error(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  Event(Level::kError, msg, f);
}

}  // namespace lakemesh::log
