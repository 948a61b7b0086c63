#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "base/time.h"

namespace lakemesh::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_json{false};
std::mutex g_mu;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void Init(Level min_level, Format format) {
  g_min_level = static_cast<int>(min_level);
  g_json = format == Format::kJson || (format == Format::kAuto && !isatty(STDERR_FILENO));
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(); }

void Event(Level level, std::string_view msg, const nlohmann::json& fields) {
  if (!Enabled(level)) return;
  std::string line;
  std::string ts = FormatRfc3339(NowMicros() / 1000 * 1000);
  if (g_json) {
    nlohmann::json j = nlohmann::json::object();
    j["ts"] = ts;
    j["level"] = LevelName(level);
    j["msg"] = msg;
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts;
    line += ' ';
    std::string lv = LevelName(level);
    for (auto& c : lv) c = static_cast<char>(toupper(c));
    lv.resize(5, ' ');
    line += lv;
    line += ' ';
    line += msg;
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) {
        line += ' ';
        line += it.key();
        line += '=';
        if (it.value().is_string()) {
          line += it.value().get<std::string>();
        } else {
          line += it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
      }
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace lakemesh::log
