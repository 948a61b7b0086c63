// StrongString<Tag>: a string with a distinct type per kind of identifier, so that a RepoName
// cannot be passed where a RefName is expected. Comparable, hashable, printable.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace lakemesh {

template <typename Tag>
class StrongString {
 public:
  StrongString() = default;
  explicit StrongString(std::string v) : v_(std::move(v)) {}
  const std::string& str() const { return v_; }
  std::string_view view() const { return v_; }
  bool empty() const { return v_.empty(); }
  auto operator<=>(const StrongString&) const = default;

 private:
  std::string v_;
};

}  // namespace lakemesh

template <typename Tag>
struct std::hash<lakemesh::StrongString<Tag>> {
  size_t operator()(const lakemesh::StrongString<Tag>& s) const {
    return std::hash<std::string>()(s.str());
  }
};
