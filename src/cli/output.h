// Terminal output for the CLI: aligned tables, human-readable sizes and times, and a progress bar
// drawn on stderr when it is a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lakemesh::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print() const;  // to stdout; prints nothing but the header for an empty table

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

std::string HumanBytes(uint64_t n);  // "1.5 MiB"
std::string ShortId(const std::string& commit_id);  // first 12 characters

class ProgressBar {
 public:
  ProgressBar(std::string label, uint64_t total);
  ~ProgressBar();
  void Update(uint64_t done);
  void SetLabel(std::string label) { label_ = std::move(label); }
  void Finish();

 private:
  void Draw(bool final);
  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  int64_t start_;
  int64_t last_draw_ = 0;
  bool enabled_;
  bool finished_ = false;
};

}  // namespace lakemesh::cli
