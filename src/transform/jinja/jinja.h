// A Jinja2 template engine (jinja.palletsprojects.com/en/3.1.x/templates), for dbt projects:
// the template language as Jinja2 defines it, rendering byte for byte what Jinja2 renders
// (test/jinja compares both on a corpus). Depends on nothing but the standard library.
//
//   jinja::Environment env;
//   env.SetLoader([](const std::string& name) -> Result<std::string> { ... });
//   auto t = env.Parse("model.sql", "select {{ cols | join(', ') }} from {{ this }}");
//   auto text = env.Render(**t, context);   // context: a dict Value
//
// Errors name the template, line and column ("model.sql:3:14: ..."). Parsed templates are kept
// by name (GetTemplate), so each file is parsed once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"
#include "transform/jinja/value.h"

namespace lakemesh::jinja {

namespace ast {
struct Stmt;
}

struct Options {
  bool trim_blocks = false;    // drop the first newline after a block tag
  bool lstrip_blocks = false;  // drop spaces and tabs before a block tag on its line
  bool keep_trailing_newline = false;
  // dbt's block tags: {% test name(args) %} (a macro test_<name>), {% materialization name,
  // adapter='x' %} (a macro materialization_<name>_<adapter>), {% docs name %} (a macro
  // docs_<name> rendering the text).
  bool dbt_tags = false;
  // Limits, so that a runaway template fails instead of running on: statements executed per
  // render (0: none), and the size of the text it renders.
  uint64_t max_steps = 0;
  size_t max_output_bytes = size_t{1} << 30;
};

class Template {
 public:
  ~Template();
  const std::string& name() const { return name_; }

  struct Impl;
  std::unique_ptr<Impl> impl_;

 private:
  friend class Environment;
  std::string name_;
};

class Environment {
 public:
  explicit Environment(Options options = {});
  ~Environment();

  // Where {% include %}, {% import %} and GetTemplate find templates by name.
  void SetLoader(std::function<Result<std::string>(const std::string&)> loader);
  // Values every template sees (functions included); a render's context comes first.
  void AddGlobal(const std::string& name, Value value);
  void AddFilter(const std::string& name, NativeFunction fn);
  void AddTest(const std::string& name, NativeFunction fn);

  Result<std::shared_ptr<const Template>> Parse(const std::string& name, std::string_view source) const;
  // The template `name` from the loader, parsed once and kept.
  Result<std::shared_ptr<const Template>> GetTemplate(const std::string& name) const;

  // Renders `t` with `context` (a dict; None for none).
  Result<std::string> Render(const Template& t, const Value& context) const;
  Result<std::string> RenderString(std::string_view source, const Value& context) const;

  // A macro of template `t` (its top-level macros), to call from native code (dbt's
  // adapter.dispatch); kNotFound when it has none of that name. `t` must outlive the macro.
  Result<Value> GetMacro(const Template& t, const std::string& name, const Value& context) const;
  // Every macro `t` defines at its top level, by name (runs its top level once).
  Result<std::vector<std::pair<std::string, Value>>> Macros(const Template& t,
                                                            const Value& context) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Raised by a native function: ends the macro being called, which returns `value` instead of
// its text (dbt's return()).
[[noreturn]] void ReturnFromMacro(Value value);
// Raised by a native function: fails the render with `message` at the current position.
[[noreturn]] void RaiseError(std::string message);

// The interpreter as native functions see it.
class Interpreter {
 public:
  virtual ~Interpreter() = default;
  // Calls a callable value.
  virtual Value Call(const Value& fn, CallArgs args) = 0;
  // A name as the template sees it where the native function was called.
  virtual Value Lookup(const std::string& name) = 0;
  virtual const Environment& environment() const = 0;
};

}  // namespace lakemesh::jinja
