// The tree-walking interpreter shared by render.cc (statements, expressions) and builtins.cc
// (filters, tests, globals, methods). Private to src/transform/jinja.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "transform/jinja/ast.h"
#include "transform/jinja/jinja.h"
#include "transform/jinja/parser.h"

namespace lakemesh::jinja {

struct Template::Impl {
  ast::Body body;
};

struct Environment::Impl {
  Options options;
  std::function<Result<std::string>(const std::string&)> loader;
  std::unordered_map<std::string, Value> globals;
  std::unordered_map<std::string, NativeFunction> filters;
  std::unordered_map<std::string, NativeFunction> tests;
  mutable std::mutex mu;
  mutable std::map<std::string, std::shared_ptr<const Template>> cache;  // GUARDED_BY(mu)
};

// Thrown by ReturnFromMacro; caught by the macro call.
struct MacroReturn {
  Value value;
};

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
  Value* Find(const std::string& name) {
    for (Scope* s = this; s; s = s->parent.get()) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
  }
};

// Registers the built-in filters, tests and globals.
void AddBuiltins(Environment::Impl& env);
// A method of a value (`"a,b".split(",")`, `list.append(x)`, `dict.items()`), bound to it;
// nullopt when the type has no such method.
std::optional<Value> BoundMethod(const Value& self, const std::string& name);

// Helpers for native functions.
[[noreturn]] void TypeError(const std::string& message);
int64_t ToInt(const Value& v, const char* what);
std::vector<Value> Iterate(const Value& v);  // raises when not iterable

// Python's operators, as templates use them.
Value BinaryOp(const std::string& op, const Value& a, const Value& b);

}  // namespace lakemesh::jinja
