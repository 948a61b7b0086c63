#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/time.h"

namespace lakemesh::cli {

static size_t DisplayWidth(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) ++w;  // count UTF-8 lead bytes
  }
  return w;
}

void Table::Print() const {
  std::vector<size_t> width(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) width[i] = DisplayWidth(headers_[i]);
  for (const auto& r : rows_) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], DisplayWidth(r[i]));
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size() && i < width.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - DisplayWidth(cells[i]) + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::printf("%s\n", out.c_str());
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
}

std::string HumanBytes(uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), start_(MonotonicMicros()),
      enabled_(isatty(STDERR_FILENO) != 0) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(uint64_t done) {
  done_ = done;
  int64_t now = MonotonicMicros();
  if (now - last_draw_ < 100000) return;  // at most ten times a second
  last_draw_ = now;
  Draw(false);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  Draw(true);
}

void ProgressBar::Draw(bool final) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  double frac = total_ ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_))
                       : (final ? 1.0 : 0.0);
  int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  double secs = static_cast<double>(MonotonicMicros() - start_) / 1e6;
  std::string rate = secs > 0 ? HumanBytes(static_cast<uint64_t>(static_cast<double>(done_) / secs)) + "/s" : "";
  std::fprintf(stderr, "\r[%s] %3d%% %s/%s %s %s\033[K", bar.c_str(), static_cast<int>(frac * 100),
               HumanBytes(done_).c_str(), HumanBytes(total_).c_str(), rate.c_str(),
               label_.c_str());
  if (final) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace lakemesh::cli
