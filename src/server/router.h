// Router: maps (method, path pattern) to a handler. Patterns are '/'-separated segments where
// "{name}" captures one percent-decoded segment and a final "{name*}" captures the rest of the
// path (decoded, slashes kept). Routes are matched in registration order.
#pragma once

#include <string>
#include <vector>

#include "server/http.h"

namespace lakemesh::server {

class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler handler);
  // Fills req.params and returns the handler; nullptr when no pattern matches. Sets
  // *path_matched when the path matched for another method (405).
  const Handler* Match(Request& req, bool* path_matched) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace lakemesh::server
