// Application: the running lakemesh server. Start() opens the stores in dependency order
// (metadata, blobs, then the services over them), bootstraps credentials, loads the demo mesh if
// asked, binds the listeners and writes DIR/ports.json. Stop() tears down in reverse: stop
// accepting, drain in-flight requests, close the stores.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "config/serve_options.h"

namespace lakemesh::app {

// lakemesh's version, as `--version`, /v1/info and system.runtime.nodes report it.
inline constexpr const char* kVersion = "0.1.0";

class Application {
 public:
  static Result<std::unique_ptr<Application>> Start(const config::ServeOptions& opts);
  ~Application();
  // Returns false if requests were still running when the shutdown timeout ran out; the caller
  // must then end the process without running destructors.
  bool Stop();

 private:
  struct Parts;
  explicit Application(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace lakemesh::app
