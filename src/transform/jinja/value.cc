#include "transform/jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace lakemesh::jinja {

const Value* CallArgs::Find(size_t index, std::string_view name) const {
  for (const auto& [k, v] : kwargs) {
    if (k == name) return &v;
  }
  return index < args.size() ? &args[index] : nullptr;
}

Value* Value::DictData::Find(const Value& key) {
  for (auto& [k, v] : items) {
    if (k.Equals(key)) return &v;
  }
  return nullptr;
}

Value* Value::DictData::Find(std::string_view key) {
  for (auto& [k, v] : items) {
    if (k.is_string() && k.as_string() == key) return &v;
  }
  return nullptr;
}

void Value::DictData::Set(Value key, Value value) {
  if (Value* v = Find(key)) {
    *v = std::move(value);
  } else {
    items.emplace_back(std::move(key), std::move(value));
  }
}

bool Value::DictData::Erase(const Value& key) {
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (it->first.Equals(key)) {
      items.erase(it);
      return true;
    }
  }
  return false;
}

Value Value::Undefined(std::string name) {
  Value v;
  v.kind_ = Kind::kUndefined;
  v.s_ = std::move(name);
  return v;
}

Value Value::List(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.list_ = std::make_shared<ListData>();
  v.list_->items = std::move(items);
  return v;
}

Value Value::Tuple(std::vector<Value> items) {
  Value v = List(std::move(items));
  v.list_->tuple = true;
  return v;
}

Value Value::Dict() {
  Value v;
  v.kind_ = Kind::kDict;
  v.dict_ = std::make_shared<DictData>();
  return v;
}

Value Value::Function(std::string name, NativeFunction fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.fn_ = std::make_shared<Callable>(Callable{std::move(name), std::move(fn), nullptr});
  return v;
}

Value Value::Function(std::string name, NativeFunction fn, Value attributes) {
  Value v = Function(std::move(name), std::move(fn));
  v.fn_->attributes = std::make_shared<Value>(std::move(attributes));
  return v;
}

Value Value::Object(std::string display) {
  Value v = Dict();
  v.dict_->display = std::move(display);
  return v;
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return i_ != 0;
    case Kind::kFloat: return f_ != 0.0;
    case Kind::kString: return !s_.empty();
    case Kind::kList: return !list_->items.empty();
    case Kind::kDict: return !dict_->items.empty();
    case Kind::kCallable: return true;
  }
  return false;
}

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // The shortest digits that read back the same, then Python's layout: positional for
  // exponents in [-4, 16), else d.ddde+XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  std::string out;
  // Python writes exponents in [-4, 16) positionally: repr(0.0001) is '0.0001', repr(1e-05) '1e-05'.
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
    }
    return neg ? "-" + out : out;
  }
  out = digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += ebuf;
  return neg ? "-" + out : out;
}

namespace {

std::string StringRepr(const std::string& s) {
  // Python prefers single quotes, and double quotes when the text has a single quote and none.
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == static_cast<unsigned char>(q)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += q;
  return out;
}

}  // namespace

std::string Value::Str() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kNone: return "None";
    case Kind::kBool: return i_ ? "True" : "False";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kFloat: return FloatRepr(f_);
    case Kind::kString: return s_;
    case Kind::kDict:
      if (dict_->display) return *dict_->display;
      return Repr();
    default: return Repr();
  }
}

std::string Value::Repr() const {
  switch (kind_) {
    case Kind::kString: return StringRepr(s_);
    case Kind::kUndefined: return "Undefined";
    case Kind::kList: {
      std::string out = list_->tuple ? "(" : "[";
      for (size_t i = 0; i < list_->items.size(); ++i) {
        if (i) out += ", ";
        out += list_->items[i].Repr();
      }
      if (list_->tuple && list_->items.size() == 1) out += ",";
      return out + (list_->tuple ? ")" : "]");
    }
    case Kind::kDict: {
      if (dict_->namespace_) {
        std::string out = "<Namespace {";
        for (size_t i = 0; i < dict_->items.size(); ++i) {
          if (i) out += ", ";
          out += dict_->items[i].first.Repr() + ": " + dict_->items[i].second.Repr();
        }
        return out + "}>";
      }
      std::string out = "{";
      for (size_t i = 0; i < dict_->items.size(); ++i) {
        if (i) out += ", ";
        out += dict_->items[i].first.Repr() + ": " + dict_->items[i].second.Repr();
      }
      return out + "}";
    }
    case Kind::kCallable: return "<function " + fn_->name + ">";
    default: return Str();
  }
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return list_->tuple ? "tuple" : "list";
    case Kind::kDict: return "dict";
    case Kind::kCallable: return "function";
  }
  return "object";
}

bool Value::Equals(const Value& o) const {
  if (is_number() && o.is_number()) {
    if (kind_ == Kind::kFloat || o.kind_ == Kind::kFloat) return as_float() == o.as_float();
    return i_ == o.i_;
  }
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return s_ == o.s_;
    case Kind::kList: {
      if (list_ == o.list_) return true;
      if (list_->tuple != o.list_->tuple || list_->items.size() != o.list_->items.size()) return false;
      for (size_t i = 0; i < list_->items.size(); ++i) {
        if (!list_->items[i].Equals(o.list_->items[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      if (dict_ == o.dict_) return true;
      if (dict_->items.size() != o.dict_->items.size()) return false;
      for (const auto& [k, v] : dict_->items) {
        Value* other = o.dict_->Find(k);
        if (!other || !other->Equals(v)) return false;
      }
      return true;
    }
    case Kind::kCallable: return fn_ == o.fn_;
    default: return false;
  }
}

std::optional<bool> Value::Less(const Value& o) const {
  if (is_number() && o.is_number()) {
    if (kind_ == Kind::kFloat || o.kind_ == Kind::kFloat) return as_float() < o.as_float();
    return i_ < o.i_;
  }
  if (is_string() && o.is_string()) return s_ < o.s_;
  if (is_list() && o.is_list()) {
    const auto& a = list_->items;
    const auto& b = o.list_->items;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (a[i].Equals(b[i])) continue;
      return a[i].Less(b[i]);
    }
    return a.size() < b.size();
  }
  return std::nullopt;
}

std::optional<std::vector<Value>> Value::Items() const {
  switch (kind_) {
    case Kind::kList: return list_->items;
    case Kind::kDict: {
      std::vector<Value> keys;
      keys.reserve(dict_->items.size());
      for (const auto& [k, v] : dict_->items) keys.push_back(k);
      return keys;
    }
    case Kind::kString: {
      // Characters: UTF-8 sequences kept whole.
      std::vector<Value> out;
      for (size_t i = 0; i < s_.size();) {
        size_t n = 1;
        unsigned char c = static_cast<unsigned char>(s_[i]);
        if (c >= 0xf0) n = 4; else if (c >= 0xe0) n = 3; else if (c >= 0xc0) n = 2;
        out.emplace_back(s_.substr(i, n));
        i += n;
      }
      return out;
    }
    case Kind::kUndefined: return std::vector<Value>{};
    default: return std::nullopt;
  }
}

}  // namespace lakemesh::jinja
