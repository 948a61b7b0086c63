// How deeply a JSON value nests, counted without recursion. Code that walks untrusted JSON
// recursively (schemas, filters) first refuses documents nested deeper than it can walk: a
// request body of a megabyte can nest tens of thousands of levels, enough to overflow a stack.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lakemesh {

// Most JSON a client or a file sends nests far less; Iceberg schemas reach this only with
// dozens of nested structs.
inline constexpr size_t kMaxJsonDepth = 256;

// True when `j` nests more than `max` levels (a scalar is level 1).
inline bool JsonDeeperThan(const nlohmann::json& j, size_t max) {
  std::vector<std::pair<const nlohmann::json*, size_t>> stack = {{&j, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (depth > max) return true;
    if (v->is_structured()) {
      for (const auto& child : *v) stack.emplace_back(&child, depth + 1);
    }
  }
  return false;
}

}  // namespace lakemesh
