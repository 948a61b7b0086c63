// The values templates compute with, with Python's semantics as Jinja2 has them: None, bools,
// ints, floats, strings, lists and tuples, dicts (insertion-ordered), callables (macros, native
// functions, bound methods) and Undefined. Lists and dicts are shared, as in Python: a list
// appended to through one name changes for every name that holds it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakemesh::jinja {

class Value;
class Interpreter;

// Arguments of a call: positional, then keyword.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;

  // The argument `name` (keyword), or positional `index`, or nullopt.
  const Value* Find(size_t index, std::string_view name) const;
};

using NativeFunction = std::function<Value(CallArgs&, Interpreter&)>;

struct Callable {
  std::string name;
  NativeFunction fn;
  // Attributes of the function object (dbt's `config` is called, and has config.get()).
  std::shared_ptr<Value> attributes;  // a dict, or null
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kCallable };
  struct ListData {
    std::vector<Value> items;
    bool tuple = false;
    std::vector<std::string> fields;  // a named tuple's field names (groupby's groups)
  };
  struct DictData {
    std::vector<std::pair<Value, Value>> items;
    bool namespace_ = false;  // namespace(): attributes may be assigned
    std::shared_ptr<void> keep;  // what the values need alive (an imported module's scope)
    // When set, what str() of the dict is: an object with attributes that prints as text
    // (dbt's relations: `{{ this }}` is sales.orders, `{{ this.schema }}` is sales).
    std::optional<std::string> display;
    Value* Find(const Value& key);
    Value* Find(std::string_view key);
    void Set(Value key, Value value);
    bool Erase(const Value& key);
  };

  Value() : kind_(Kind::kNone) {}
  Value(bool b) : kind_(Kind::kBool), i_(b) {}  // NOLINT
  Value(int v) : kind_(Kind::kInt), i_(v) {}  // NOLINT
  Value(int64_t v) : kind_(Kind::kInt), i_(v) {}  // NOLINT
  Value(size_t v) : kind_(Kind::kInt), i_(static_cast<int64_t>(v)) {}  // NOLINT
  Value(double v) : kind_(Kind::kFloat), f_(v) {}  // NOLINT
  Value(std::string s) : kind_(Kind::kString), s_(std::move(s)) {}  // NOLINT
  Value(std::string_view s) : kind_(Kind::kString), s_(s) {}  // NOLINT
  Value(const char* s) : kind_(Kind::kString), s_(s) {}  // NOLINT

  static Value None() { return Value(); }
  static Value Undefined(std::string name = "");
  static Value List(std::vector<Value> items = {});
  static Value Tuple(std::vector<Value> items);
  static Value Dict();
  static Value Function(std::string name, NativeFunction fn);
  // A function with attributes (a dict).
  static Value Function(std::string name, NativeFunction fn, Value attributes);
  // A dict that prints as `display`.
  static Value Object(std::string display);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kList && list_->tuple; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return kind_ == Kind::kFloat ? static_cast<int64_t>(f_) : i_; }
  double as_float() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(i_); }
  const std::string& as_string() const { return s_; }
  std::string& mutable_string() { return s_; }
  // The undefined name, for error messages.
  const std::string& undefined_name() const { return s_; }
  ListData& list() const { return *list_; }
  DictData& dict() const { return *dict_; }
  const Callable& callable() const { return *fn_; }

  // Python's truth: empty strings, lists and dicts, 0, None and Undefined are false.
  bool Truthy() const;
  // Python's str() and repr().
  std::string Str() const;
  std::string Repr() const;
  // The type's name as Python says it (for errors): 'int', 'str', 'list', ...
  std::string TypeName() const;

  // Python's ==.
  bool Equals(const Value& other) const;
  // Python's <, for sorting: numbers, strings, lists/tuples; nullopt when not comparable.
  std::optional<bool> Less(const Value& other) const;

  // The elements iteration yields: a list's items, a dict's keys, a string's characters.
  // nullopt when the value is not iterable.
  std::optional<std::vector<Value>> Items() const;

 private:
  Kind kind_;
  union {
    int64_t i_ = 0;
    double f_;
  };
  std::string s_;
  std::shared_ptr<ListData> list_;
  std::shared_ptr<DictData> dict_;
  std::shared_ptr<Callable> fn_;
};

// Python's repr() of a float: the shortest text that reads back the same ("0.1", "1e+20",
// "1.0", "inf", "nan").
std::string FloatRepr(double d);

}  // namespace lakemesh::jinja
