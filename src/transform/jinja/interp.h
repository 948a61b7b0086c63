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

// A scope's variables: few, so a vector searched in order beats a hash table (no hashing, one
// allocation, cleared without freeing).
class Vars {
 public:
  Value& operator[](const std::string& name) {
    if (Value* v = Find(name)) return *v;
    items_.emplace_back(name, Value::None());
    return items_.back().second;
  }
  Value* Find(std::string_view name) {
    for (auto& [k, v] : items_) {
      if (k.size() == name.size() && k == name) return &v;
    }
    return nullptr;
  }
  size_t count(std::string_view name) { return Find(name) ? 1 : 0; }
  void clear() { items_.clear(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::pair<std::string, Value>> items_;
};

struct Scope {
  Vars vars;
  std::shared_ptr<Scope> parent;
  Value* Find(std::string_view name) {
    for (Scope* s = this; s; s = s->parent.get()) {
      if (Value* v = s->vars.Find(name)) return v;
    }
    return nullptr;
  }
};

// Registers the built-in filters, tests and globals.
void AddBuiltins(Environment::Impl& env);
// A method of a value (`"a,b".split(",")`, `list.append(x)`, `dict.items()`), bound to it;
// nullopt when the type has no such method.
std::optional<Value> BoundMethod(const Value& self, const std::string& name);
// Calls that method at once (`s.split(',')` without making a bound method first).
std::optional<Value> CallMethod(const Value& self, std::string_view name, CallArgs& args,
                                Interpreter& in);

// Helpers for native functions.
[[noreturn]] void TypeError(const std::string& message);
int64_t ToInt(const Value& v, const char* what);
std::vector<Value> Iterate(const Value& v);  // raises when not iterable

// Python's operators, as templates use them.
Value BinaryOp(const std::string& op, const Value& a, const Value& b);

}  // namespace lakemesh::jinja
