#include <cstdio>

#include "cli/commands.h"

namespace lakemesh::cli {

void PrintJson(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

bool IsUri(const std::string& text) { return text.rfind("lakemesh://", 0) == 0; }

Result<Uri> ParseUri(const std::string& text, bool need_ref) {
  if (!IsUri(text)) {
    return InvalidArgument("'" + text + "' is not a lakemesh URI; write lakemesh://REPO/REF/PATH");
  }
  std::string rest = text.substr(11);
  Uri u;
  size_t slash = rest.find('/');
  u.repo = rest.substr(0, slash);
  if (slash != std::string::npos) {
    rest = rest.substr(slash + 1);
    slash = rest.find('/');
    u.ref = rest.substr(0, slash);
    if (slash != std::string::npos) u.path = rest.substr(slash + 1);
  }
  if (u.repo.empty()) return InvalidArgument("'" + text + "' names no repository");
  if (need_ref && u.ref.empty()) {
    return InvalidArgument("'" + text + "' names no branch or ref; write lakemesh://" + u.repo +
                           "/main/...");
  }
  return u;
}

Result<int64_t> ParseDuration(const std::string& text) {
  if (text.empty()) return InvalidArgument("empty duration");
  int64_t mult = 1;
  std::string num = text;
  switch (text.back()) {
    case 'd': mult = 86400; num.pop_back(); break;
    case 'h': mult = 3600; num.pop_back(); break;
    case 'm': mult = 60; num.pop_back(); break;
    case 's': num.pop_back(); break;
    default: break;
  }
  if (num.empty() || num.size() > 12 ||
      num.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("invalid duration '" + text + "': use e.g. 7d, 12h, 30m, 45s");
  }
  return std::stoll(num) * mult;
}

}  // namespace lakemesh::cli
