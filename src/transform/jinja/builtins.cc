// Jinja2's built-in filters, tests and globals, and the Python methods of strings, lists and
// dicts that templates call (`s.split(',')`, `l.append(x)`, `d.items()`).
#include <algorithm>
#include <cmath>
#include <map>

#include "transform/jinja/interp.h"

namespace lakemesh::jinja {
namespace {

// The argument `name` or at `i`, else `dflt` (a copy: defaults are temporaries).
Value Arg(CallArgs& a, size_t i, const char* name, const Value& dflt) {
  const Value* v = a.Find(i, name);
  return v ? *v : dflt;
}

std::string S(const Value& v) { return v.is_string() ? v.as_string() : v.Str(); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string Strip(const std::string& s, const Value& chars, bool left, bool right) {
  auto strip = [&](char c) {
    if (chars.is_none() || chars.is_undefined()) return IsSpace(c);
    return chars.as_string().find(c) != std::string::npos;
  };
  size_t b = 0, e = s.size();
  if (left) while (b < e && strip(s[b])) ++b;
  if (right) while (e > b && strip(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string Capitalize(const std::string& s) {
  std::string out = Lower(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}
std::string Title(const std::string& s) {
  std::string out;
  bool start = true;
  for (char c : s) {
    bool alpha = std::isalpha(static_cast<unsigned char>(c));
    out += alpha ? static_cast<char>(start ? std::toupper(static_cast<unsigned char>(c))
                                           : std::tolower(static_cast<unsigned char>(c)))
                 : c;
    start = !alpha;
  }
  return out;
}

std::string Replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) {
    std::string out;
    int64_t n = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      if (i < s.size()) out += s[i];
    }
    return out;
  }
  std::string out;
  size_t pos = 0;
  int64_t n = 0;
  while (true) {
    size_t f = s.find(from, pos);
    if (f == std::string::npos || (count >= 0 && n >= count)) break;
    out.append(s, pos, f - pos);
    out += to;
    pos = f + from.size();
    ++n;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

Value Split(const std::string& s, const Value& sep, int64_t max) {
  std::vector<Value> parts;
  if (sep.is_none() || sep.is_undefined()) {
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i >= s.size()) break;
      if (max >= 0 && static_cast<int64_t>(parts.size()) == max) {
        std::string rest = s.substr(i);
        while (!rest.empty() && IsSpace(rest.back())) rest.pop_back();
        parts.emplace_back(rest);
        break;
      }
      size_t j = i;
      while (j < s.size() && !IsSpace(s[j])) ++j;
      parts.emplace_back(s.substr(i, j - i));
      i = j;
    }
    return Value::List(std::move(parts));
  }
  const std::string& d = sep.as_string();
  if (d.empty()) TypeError("empty separator");
  size_t pos = 0;
  while (true) {
    size_t f = s.find(d, pos);
    if (f == std::string::npos || (max >= 0 && static_cast<int64_t>(parts.size()) == max)) break;
    parts.emplace_back(s.substr(pos, f - pos));
    pos = f + d.size();
  }
  parts.emplace_back(s.substr(pos));
  return Value::List(std::move(parts));
}

// Jinja's attribute lookup for filters (map, sort, groupby): "a.b.0".
Value Attribute(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur.is_dict()) {
      Value* f = cur.dict().Find(std::string_view(part));
      cur = f ? *f : Value::Undefined(part);
    } else if (cur.is_list() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t i = std::stoul(part);
      cur = i < cur.list().items.size() ? cur.list().items[i] : Value::Undefined(part);
    } else {
      cur = Value::Undefined(part);
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

int Cmp(const Value& a, const Value& b, bool case_sensitive) {
  if (!case_sensitive && a.is_string() && b.is_string()) {
    const std::string& x = a.as_string();
    const std::string& y = b.as_string();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      int cx = std::tolower(static_cast<unsigned char>(x[i]));
      int cy = std::tolower(static_cast<unsigned char>(y[i]));
      if (cx != cy) return cx < cy ? -1 : 1;
    }
    return x.size() == y.size() ? 0 : x.size() < y.size() ? -1 : 1;
  }
  if (a.Equals(b)) return 0;
  auto less = a.Less(b);
  if (!less) TypeError("'<' not supported between instances of '" + a.TypeName() + "' and '" + b.TypeName() + "'");
  return *less ? -1 : 1;
}

std::string Json(const Value& v, int indent, int level) {
  auto esc = [](const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '<': out += "\\u003c"; break;
        case '>': out += "\\u003e"; break;
        case '&': out += "\\u0026"; break;
        case '\'': out += "\\u0027"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    return out + "\"";
  };
  std::string nl = indent > 0 ? "\n" + std::string(static_cast<size_t>(indent * (level + 1)), ' ') : "";
  std::string close = indent > 0 ? "\n" + std::string(static_cast<size_t>(indent * level), ' ') : "";
  switch (v.kind()) {
    case Value::Kind::kNone:
    case Value::Kind::kUndefined: return "null";
    case Value::Kind::kBool: return v.as_bool() ? "true" : "false";
    case Value::Kind::kInt: return std::to_string(v.as_int());
    case Value::Kind::kFloat: {
      double d = v.as_float();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
      return FloatRepr(d);
    }
    case Value::Kind::kString: return esc(v.as_string());
    case Value::Kind::kList: {
      if (v.list().items.empty()) return "[]";
      std::string out = "[";
      for (size_t i = 0; i < v.list().items.size(); ++i) {
        out += (i ? (indent > 0 ? "," : ", ") : "") + nl + Json(v.list().items[i], indent, level + 1);
      }
      return out + close + "]";
    }
    case Value::Kind::kDict: {
      if (v.dict().items.empty()) return "{}";
      // Jinja's tojson sorts keys.
      std::vector<std::pair<std::string, const Value*>> items;
      for (const auto& [k, val] : v.dict().items) items.emplace_back(k.Str(), &val);
      std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      std::string out = "{";
      for (size_t i = 0; i < items.size(); ++i) {
        out += (i ? (indent > 0 ? "," : ", ") : "") + nl + esc(items[i].first) + ": " +
               Json(*items[i].second, indent, level + 1);
      }
      return out + close + "}";
    }
    case Value::Kind::kCallable: TypeError("Object of type function is not JSON serializable");
  }
  return "null";
}

Value Fn(const char* name, NativeFunction fn) { return Value::Function(name, std::move(fn)); }

// Filters that select items by a test (select, reject) or attribute (selectattr, rejectattr).
Value SelectFilter(CallArgs& a, Interpreter& in, bool attr, bool keep_if) {
  std::vector<Value> items = Iterate(a.args.at(0));
  size_t next = 1;
  std::string attribute;
  if (attr) {
    if (a.args.size() < 2) TypeError("missing attribute");
    attribute = S(a.args[1]);
    next = 2;
  }
  std::string test = a.args.size() > next ? S(a.args[next]) : "";
  std::vector<Value> test_args(a.args.begin() + static_cast<std::ptrdiff_t>(std::min(a.args.size(), next + 1)), a.args.end());
  std::vector<Value> out;
  for (auto& item : items) {
    Value v = attr ? Attribute(item, attribute) : item;
    bool ok;
    if (test.empty()) {
      ok = v.Truthy();
    } else {
      Value fn = in.Lookup("__test__" + test);
      CallArgs ta;
      ta.args.push_back(v);
      ta.args.insert(ta.args.end(), test_args.begin(), test_args.end());
      ok = in.Call(fn, std::move(ta)).Truthy();
    }
    if (ok == keep_if) out.push_back(std::move(item));
  }
  return Value::List(std::move(out));
}

}  // namespace

namespace {

using M = Value (*)(const Value& self, CallArgs& a, Interpreter& in);

const std::string& Str0(const Value& self) { return self.as_string(); }

Value StartsEnds(const Value& self, CallArgs& a, bool start) {
  const std::string& s = Str0(self);
  if (a.args.empty()) TypeError(std::string(start ? "startswith" : "endswith") + " takes an argument");
  std::vector<Value> options = a.args[0].is_tuple() ? a.args[0].list().items : std::vector<Value>{a.args[0]};
  for (const auto& o : options) {
    const std::string p = S(o);
    if (p.size() <= s.size() && (start ? s.compare(0, p.size(), p) == 0
                                       : s.compare(s.size() - p.size(), p.size(), p) == 0)) {
      return Value(true);
    }
  }
  return Value(false);
}

Value FindIn(const Value& self, CallArgs& a, int mode) {  // 0 find, 1 rfind, 2 index
  const std::string& s = Str0(self);
  if (a.args.empty()) TypeError("find takes an argument");
  size_t f = mode == 1 ? s.rfind(S(a.args[0])) : s.find(S(a.args[0]));
  if (f == std::string::npos) {
    if (mode == 2) TypeError("substring not found");
    return Value(-1);
  }
  return Value(static_cast<int64_t>(f));
}

template <int (*Pred)(int)>
Value AllChars(const Value& self, CallArgs&, Interpreter&) {
  const std::string& s = Str0(self);
  if (s.empty()) return Value(false);
  return Value(std::all_of(s.begin(), s.end(), [](char c) { return Pred(static_cast<unsigned char>(c)) != 0; }));
}

Value Cased(const Value& self, bool up) {
  bool cased = false;
  for (char c : Str0(self)) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      cased = true;
      if (up ? std::islower(static_cast<unsigned char>(c)) : std::isupper(static_cast<unsigned char>(c))) return Value(false);
    }
  }
  return Value(cased);
}

const std::map<std::string, M, std::less<>>& StringMethods() {
  static const std::map<std::string, M, std::less<>> m = {
      {"upper", [](const Value& v, CallArgs&, Interpreter&) { return Value(Upper(Str0(v))); }},
      {"lower", [](const Value& v, CallArgs&, Interpreter&) { return Value(Lower(Str0(v))); }},
      {"title", [](const Value& v, CallArgs&, Interpreter&) { return Value(Title(Str0(v))); }},
      {"capitalize", [](const Value& v, CallArgs&, Interpreter&) { return Value(Capitalize(Str0(v))); }},
      {"strip", [](const Value& v, CallArgs& a, Interpreter&) { return Value(Strip(Str0(v), Arg(a, 0, "chars", Value::None()), true, true)); }},
      {"lstrip", [](const Value& v, CallArgs& a, Interpreter&) { return Value(Strip(Str0(v), Arg(a, 0, "chars", Value::None()), true, false)); }},
      {"rstrip", [](const Value& v, CallArgs& a, Interpreter&) { return Value(Strip(Str0(v), Arg(a, 0, "chars", Value::None()), false, true)); }},
      {"split", [](const Value& v, CallArgs& a, Interpreter&) {
         return Split(Str0(v), Arg(a, 0, "sep", Value::None()), ToInt(Arg(a, 1, "maxsplit", Value(-1)), "maxsplit"));
       }},
      {"splitlines", [](const Value& v, CallArgs&, Interpreter&) {
         const std::string& s = Str0(v);
         std::vector<Value> lines;
         size_t pos = 0;
         while (pos < s.size()) {
           size_t nl = s.find('\n', pos);
           std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
           if (!line.empty() && line.back() == '\r') line.pop_back();
           lines.emplace_back(line);
           if (nl == std::string::npos) break;
           pos = nl + 1;
         }
         return Value::List(std::move(lines));
       }},
      {"replace", [](const Value& v, CallArgs& a, Interpreter&) {
         if (a.args.size() < 2) TypeError("replace expected at least 2 arguments");
         return Value(Replace(Str0(v), S(a.args[0]), S(a.args[1]), a.args.size() > 2 ? ToInt(a.args[2], "count") : -1));
       }},
      {"startswith", [](const Value& v, CallArgs& a, Interpreter&) { return StartsEnds(v, a, true); }},
      {"endswith", [](const Value& v, CallArgs& a, Interpreter&) { return StartsEnds(v, a, false); }},
      {"find", [](const Value& v, CallArgs& a, Interpreter&) { return FindIn(v, a, 0); }},
      {"rfind", [](const Value& v, CallArgs& a, Interpreter&) { return FindIn(v, a, 1); }},
      {"index", [](const Value& v, CallArgs& a, Interpreter&) { return FindIn(v, a, 2); }},
      {"count", [](const Value& v, CallArgs& a, Interpreter&) {
         const std::string& s = Str0(v);
         if (a.args.empty()) TypeError("count takes an argument");
         const std::string sub = S(a.args[0]);
         if (sub.empty()) return Value(static_cast<int64_t>(s.size() + 1));
         int64_t n = 0;
         for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
         return Value(n);
       }},
      {"join", [](const Value& v, CallArgs& a, Interpreter&) {
         const std::string& s = Str0(v);
         if (a.args.empty()) TypeError("join takes an argument");
         std::string out;
         bool first = true;
         for (const auto& x : Iterate(a.args[0])) {
           if (!x.is_string()) TypeError("sequence item: expected str instance, " + x.TypeName() + " found");
           if (!first) out += s;
           out += x.as_string();
           first = false;
         }
         return Value(std::move(out));
       }},
      {"format", [](const Value& v, CallArgs& a, Interpreter&) {
         const std::string& s = Str0(v);
         std::string out;
         size_t next = 0;
         for (size_t i = 0; i < s.size(); ++i) {
           if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '{') {
             out += '{';
             ++i;
           } else if (s[i] == '}' && i + 1 < s.size() && s[i + 1] == '}') {
             out += '}';
             ++i;
           } else if (s[i] == '{') {
             size_t close = s.find('}', i);
             if (close == std::string::npos) TypeError("Single '{' encountered in format string");
             std::string field = s.substr(i + 1, close - i - 1);
             const Value* x = nullptr;
             if (field.empty()) {
               x = next < a.args.size() ? &a.args[next++] : nullptr;
             } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
               size_t k = std::stoul(field);
               x = k < a.args.size() ? &a.args[k] : nullptr;
             } else {
               for (const auto& [k, val] : a.kwargs) {
                 if (k == field) x = &val;
               }
             }
             if (!x) TypeError("format: no value for {" + field + "}");
             out += S(*x);
             i = close;
           } else {
             out += s[i];
           }
         }
         return Value(std::move(out));
       }},
      {"isdigit", AllChars<::isdigit>},
      {"isalpha", AllChars<::isalpha>},
      {"isalnum", AllChars<::isalnum>},
      {"isspace", AllChars<::isspace>},
      {"isupper", [](const Value& v, CallArgs&, Interpreter&) { return Cased(v, true); }},
      {"islower", [](const Value& v, CallArgs&, Interpreter&) { return Cased(v, false); }},
      {"zfill", [](const Value& v, CallArgs& a, Interpreter&) {
         const std::string& s = Str0(v);
         int64_t w = a.args.empty() ? 0 : ToInt(a.args[0], "width");
         if (static_cast<int64_t>(s.size()) >= w) return Value(s);
         size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
         return Value(s.substr(0, sign) + std::string(static_cast<size_t>(w) - s.size(), '0') + s.substr(sign));
       }},
  };
  return m;
}

const std::map<std::string, M, std::less<>>& SequenceMethods() {  // lists and tuples
  static const std::map<std::string, M, std::less<>> m = {
      {"count", [](const Value& l, CallArgs& a, Interpreter&) {
         int64_t n = 0;
         for (const auto& v : l.list().items) n += !a.args.empty() && v.Equals(a.args[0]);
         return Value(n);
       }},
      {"index", [](const Value& l, CallArgs& a, Interpreter&) {
         for (size_t i = 0; i < l.list().items.size(); ++i) {
           if (!a.args.empty() && l.list().items[i].Equals(a.args[0])) return Value(static_cast<int64_t>(i));
         }
         TypeError("x not in list");
       }},
  };
  return m;
}

const std::map<std::string, M, std::less<>>& ListMethods() {  // lists only: they change
  static const std::map<std::string, M, std::less<>> m = {
      {"append", [](const Value& l, CallArgs& a, Interpreter&) {
         if (a.args.size() != 1) TypeError("append() takes exactly one argument");
         l.list().items.push_back(a.args[0]);
         return Value::None();
       }},
      {"extend", [](const Value& l, CallArgs& a, Interpreter&) {
         if (a.args.size() != 1) TypeError("extend() takes exactly one argument");
         for (auto& v : Iterate(a.args[0])) l.list().items.push_back(std::move(v));
         return Value::None();
       }},
      {"insert", [](const Value& l, CallArgs& a, Interpreter&) {
         if (a.args.size() != 2) TypeError("insert expected 2 arguments");
         auto& items = l.list().items;
         int64_t i = ToInt(a.args[0], "index");
         if (i < 0) i += static_cast<int64_t>(items.size());
         i = std::clamp<int64_t>(i, 0, static_cast<int64_t>(items.size()));
         items.insert(items.begin() + i, a.args[1]);
         return Value::None();
       }},
      {"pop", [](const Value& l, CallArgs& a, Interpreter&) {
         auto& items = l.list().items;
         if (items.empty()) TypeError("pop from empty list");
         int64_t i = a.args.empty() ? -1 : ToInt(a.args[0], "index");
         if (i < 0) i += static_cast<int64_t>(items.size());
         if (i < 0 || i >= static_cast<int64_t>(items.size())) TypeError("pop index out of range");
         Value v = items[static_cast<size_t>(i)];
         items.erase(items.begin() + i);
         return v;
       }},
      {"remove", [](const Value& l, CallArgs& a, Interpreter&) {
         auto& items = l.list().items;
         for (auto it = items.begin(); it != items.end(); ++it) {
           if (!a.args.empty() && it->Equals(a.args[0])) {
             items.erase(it);
             return Value::None();
           }
         }
         TypeError("list.remove(x): x not in list");
       }},
      {"reverse", [](const Value& l, CallArgs&, Interpreter&) {
         std::reverse(l.list().items.begin(), l.list().items.end());
         return Value::None();
       }},
      {"copy", [](const Value& l, CallArgs&, Interpreter&) { return Value::List(l.list().items); }},
  };
  return m;
}

const std::map<std::string, M, std::less<>>& DictMethods() {
  static const std::map<std::string, M, std::less<>> m = {
      {"items", [](const Value& d, CallArgs&, Interpreter&) {
         std::vector<Value> items;
         items.reserve(d.dict().items.size());
         for (const auto& [k, v] : d.dict().items) items.push_back(Value::Tuple({k, v}));
         return Value::List(std::move(items));
       }},
      {"keys", [](const Value& d, CallArgs&, Interpreter&) {
         std::vector<Value> items;
         for (const auto& [k, v] : d.dict().items) items.push_back(k);
         return Value::List(std::move(items));
       }},
      {"values", [](const Value& d, CallArgs&, Interpreter&) {
         std::vector<Value> items;
         for (const auto& [k, v] : d.dict().items) items.push_back(v);
         return Value::List(std::move(items));
       }},
      {"get", [](const Value& d, CallArgs& a, Interpreter&) {
         if (a.args.empty()) TypeError("get expected at least 1 argument");
         Value* v = d.dict().Find(a.args[0]);
         return v ? *v : (a.args.size() > 1 ? a.args[1] : Value::None());
       }},
      {"update", [](const Value& d, CallArgs& a, Interpreter&) {
         if (!a.args.empty()) {
           if (!a.args[0].is_dict()) TypeError("update() takes a dict");
           for (const auto& [k, v] : a.args[0].dict().items) d.dict().Set(k, v);
         }
         for (const auto& [k, v] : a.kwargs) d.dict().Set(Value(k), v);
         return Value::None();
       }},
      {"pop", [](const Value& d, CallArgs& a, Interpreter&) {
         if (a.args.empty()) TypeError("pop expected at least 1 argument");
         Value* v = d.dict().Find(a.args[0]);
         if (!v) {
           if (a.args.size() > 1) return a.args[1];
           TypeError("KeyError: " + a.args[0].Repr());
         }
         Value out = *v;
         d.dict().Erase(a.args[0]);
         return out;
       }},
      {"setdefault", [](const Value& d, CallArgs& a, Interpreter&) {
         if (a.args.empty()) TypeError("setdefault expected at least 1 argument");
         if (Value* v = d.dict().Find(a.args[0])) return *v;
         Value dflt = a.args.size() > 1 ? a.args[1] : Value::None();
         d.dict().Set(a.args[0], dflt);
         return dflt;
       }},
      {"copy", [](const Value& d, CallArgs&, Interpreter&) {
         Value c = Value::Dict();
         c.dict().items = d.dict().items;
         return c;
       }},
  };
  return m;
}

M FindMethod(const Value& self, std::string_view name) {
  const std::map<std::string, M, std::less<>>* tables[2] = {nullptr, nullptr};
  if (self.is_string()) {
    tables[0] = &StringMethods();
  } else if (self.is_list()) {
    tables[0] = &SequenceMethods();
    if (!self.is_tuple()) tables[1] = &ListMethods();
  } else if (self.is_dict() && !self.dict().namespace_) {
    tables[0] = &DictMethods();
  }
  for (const auto* t : tables) {
    if (!t) continue;
    auto it = t->find(name);
    if (it != t->end()) return it->second;
  }
  return nullptr;
}

}  // namespace

std::optional<Value> BoundMethod(const Value& self, const std::string& name) {
  M m = FindMethod(self, name);
  if (!m) return std::nullopt;
  return Value::Function(name, [self, m](CallArgs& a, Interpreter& in) { return m(self, a, in); });
}

std::optional<Value> CallMethod(const Value& self, std::string_view name, CallArgs& args,
                                Interpreter& in) {
  M m = FindMethod(self, name);
  if (!m) return std::nullopt;
  return m(self, args, in);
}

void AddBuiltins(Environment::Impl& env) {
  auto& F = env.filters;
  auto& T = env.tests;
  auto& G = env.globals;
  static const Value kNone = Value::None();

  F["abs"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_int() || v.is_bool()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    TypeError("bad operand type for abs(): '" + v.TypeName() + "'");
  };
  F["attr"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    std::string n = S(Arg(a, 1, "name", kNone));
    if (v.is_dict()) {
      if (Value* f = v.dict().Find(std::string_view(n))) return *f;
    }
    return Value::Undefined(n);
  };
  F["batch"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    int64_t n = ToInt(Arg(a, 1, "linecount", Value(1)), "linecount");
    if (n <= 0) TypeError("batch size must be positive");
    const Value* fill = a.Find(2, "fill_with");
    std::vector<Value> out, cur;
    for (auto& v : items) {
      cur.push_back(std::move(v));
      if (static_cast<int64_t>(cur.size()) == n) {
        out.push_back(Value::List(std::move(cur)));
        cur.clear();
      }
    }
    if (!cur.empty()) {
      if (fill) while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*fill);
      out.push_back(Value::List(std::move(cur)));
    }
    return Value::List(std::move(out));
  };
  F["capitalize"] = [](CallArgs& a, Interpreter&) { return Value(Capitalize(S(a.args.at(0)))); };
  F["center"] = [](CallArgs& a, Interpreter&) {
    std::string s = S(a.args.at(0));
    int64_t w = ToInt(Arg(a, 1, "width", Value(80)), "width");
    if (static_cast<int64_t>(s.size()) >= w) return Value(s);
    size_t total = static_cast<size_t>(w) - s.size();
    size_t left = total / 2 + (total & static_cast<size_t>(w) & 1);
    return Value(std::string(left, ' ') + s + std::string(total - left, ' '));
  };
  F["default"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    const Value dflt = Arg(a, 1, "default_value", Value(""));
    bool boolean = Arg(a, 2, "boolean", Value(false)).Truthy();
    if (v.is_undefined() || (boolean && !v.Truthy())) return dflt;
    return v;
  };
  F["d"] = F["default"];
  F["dictsort"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    if (!v.is_dict()) TypeError("dictsort takes a dict");
    bool cs = Arg(a, 1, "case_sensitive", Value(false)).Truthy();
    std::string by = S(Arg(a, 2, "by", Value("key")));
    bool rev = Arg(a, 3, "reverse", Value(false)).Truthy();
    std::vector<std::pair<Value, Value>> items = v.dict().items;
    size_t idx = by == "value" ? 1 : 0;
    std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
      int c = idx ? Cmp(x.second, y.second, cs) : Cmp(x.first, y.first, cs);
      return rev ? c > 0 : c < 0;
    });
    std::vector<Value> out;
    for (auto& [k, val] : items) out.push_back(Value::Tuple({k, val}));
    return Value::List(std::move(out));
  };
  F["escape"] = [](CallArgs& a, Interpreter&) {
    std::string out;
    for (char c : S(a.args.at(0))) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
      }
    }
    return Value(std::move(out));
  };
  F["e"] = F["escape"];
  F["forceescape"] = F["escape"];
  F["first"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    return items.empty() ? Value::Undefined("first") : items.front();
  };
  F["last"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    return items.empty() ? Value::Undefined("last") : items.back();
  };
  F["float"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    const Value dflt = Arg(a, 1, "default", Value(0.0));
    if (v.is_number()) return Value(v.as_float());
    if (v.is_string()) {
      std::string s = Strip(v.as_string(), kNone, true, true);
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0') return Value(d);
    }
    return dflt;
  };
  F["int"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    const Value dflt = Arg(a, 1, "default", Value(0));
    int64_t base = ToInt(Arg(a, 2, "base", Value(10)), "base");
    if (v.is_int() || v.is_bool()) return Value(v.as_int());
    if (v.is_float()) return Value(static_cast<int64_t>(v.as_float()));
    if (v.is_string()) {
      std::string s = Strip(v.as_string(), kNone, true, true);
      std::string digits;
      for (char c : s) {
        if (c != '_') digits += c;
      }
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
      if (!digits.empty() && end && *end == '\0' && errno == 0) return Value(static_cast<int64_t>(n));
      double d = std::strtod(digits.c_str(), &end);
      if (!digits.empty() && end && *end == '\0' && base == 10) return Value(static_cast<int64_t>(d));
    }
    return dflt;
  };
  F["format"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> rest(a.args.begin() + 1, a.args.end());
    return BinaryOp("%", a.args.at(0), Value::Tuple(std::move(rest)));
  };
  F["indent"] = [](CallArgs& a, Interpreter&) {
    std::string s = S(a.args.at(0));
    const Value w = Arg(a, 1, "width", Value(4));
    std::string pad = w.is_string() ? w.as_string() : std::string(static_cast<size_t>(ToInt(w, "width")), ' ');
    bool first = Arg(a, 2, "first", Value(false)).Truthy();
    bool blank = Arg(a, 3, "blank", Value(false)).Truthy();
    std::string out;
    size_t pos = 0;
    bool is_first = true;
    while (true) {
      size_t nl = s.find('\n', pos);
      std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      bool do_pad = is_first ? first : (blank || !Strip(line, kNone, true, true).empty());
      if (do_pad) out += pad;
      out += line;
      if (nl == std::string::npos) break;
      out += '\n';
      pos = nl + 1;
      is_first = false;
    }
    return Value(std::move(out));
  };
  F["join"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    std::string sep = S(Arg(a, 1, "d", Value("")));
    const Value* attr = a.Find(2, "attribute");
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += sep;
      out += S(attr ? Attribute(items[i], S(*attr)) : items[i]);
    }
    return Value(std::move(out));
  };
  F["length"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    if (v.is_string()) return Value(static_cast<int64_t>(Iterate(v).size()));
    if (v.is_list()) return Value(static_cast<int64_t>(v.list().items.size()));
    if (v.is_dict()) return Value(static_cast<int64_t>(v.dict().items.size()));
    if (v.is_undefined()) return Value(0);
    TypeError("object of type '" + v.TypeName() + "' has no len()");
  };
  F["count"] = F["length"];
  F["list"] = [](CallArgs& a, Interpreter&) { return Value::List(Iterate(a.args.at(0))); };
  F["lower"] = [](CallArgs& a, Interpreter&) { return Value(Lower(S(a.args.at(0)))); };
  F["upper"] = [](CallArgs& a, Interpreter&) { return Value(Upper(S(a.args.at(0)))); };
  F["title"] = [](CallArgs& a, Interpreter&) { return Value(Title(S(a.args.at(0)))); };
  F["trim"] = [](CallArgs& a, Interpreter&) {
    return Value(Strip(S(a.args.at(0)), Arg(a, 1, "chars", kNone), true, true));
  };
  F["string"] = [](CallArgs& a, Interpreter&) { return Value(S(a.args.at(0))); };
  F["safe"] = [](CallArgs& a, Interpreter&) { return a.args.at(0); };
  F["items"] = [](CallArgs& a, Interpreter& in) {
    const Value& v = a.args.at(0);
    if (v.is_undefined()) return Value::List();
    if (!v.is_dict()) TypeError("items filter takes a mapping");
    return in.Call(*BoundMethod(v, "items"), {});
  };
  F["map"] = [](CallArgs& a, Interpreter& in) {
    std::vector<Value> items = Iterate(a.args.at(0));
    std::vector<Value> out;
    const Value* attr = nullptr;
    for (const auto& [k, v] : a.kwargs) {
      if (k == "attribute") attr = &v;
    }
    if (attr) {
      const Value* dflt = nullptr;
      for (const auto& [k, v] : a.kwargs) {
        if (k == "default") dflt = &v;
      }
      for (auto& item : items) {
        Value v = Attribute(item, S(*attr));
        out.push_back(v.is_undefined() && dflt ? *dflt : v);
      }
      return Value::List(std::move(out));
    }
    if (a.args.size() < 2) TypeError("map needs a filter name or attribute=");
    std::string filter = S(a.args[1]);
    Value fn = in.Lookup("__filter__" + filter);
    for (auto& item : items) {
      CallArgs fa;
      fa.args.push_back(item);
      fa.args.insert(fa.args.end(), a.args.begin() + 2, a.args.end());
      for (const auto& kv : a.kwargs) fa.kwargs.push_back(kv);
      out.push_back(in.Call(fn, std::move(fa)));
    }
    return Value::List(std::move(out));
  };
  // max and min: the item whose value (or attribute) is largest (sign 1) or smallest (-1).
  auto extreme = [](const char* name, int sign) {
    return [name, sign](CallArgs& a, Interpreter&) {
      std::vector<Value> items = Iterate(a.args.at(0));
      if (items.empty()) return Value::Undefined(name);
      bool cs = Arg(a, 1, "case_sensitive", Value(false)).Truthy();
      const Value* attr = a.Find(2, "attribute");
      size_t best = 0;
      for (size_t i = 1; i < items.size(); ++i) {
        const Value x = attr ? Attribute(items[i], S(*attr)) : items[i];
        const Value y = attr ? Attribute(items[best], S(*attr)) : items[best];
        if (Cmp(x, y, cs) * sign > 0) best = i;
      }
      return items[best];
    };
  };
  F["max"] = extreme("max", 1);
  F["min"] = extreme("min", -1);
  F["pprint"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).Repr()); };
  F["replace"] = [](CallArgs& a, Interpreter&) {
    if (a.args.size() < 3) TypeError("replace needs old and new");
    return Value(Replace(S(a.args[0]), S(a.args[1]), S(a.args[2]),
                         a.args.size() > 3 ? ToInt(a.args[3], "count") : -1));
  };
  F["reverse"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    if (v.is_string()) {
      std::vector<Value> chars = Iterate(v);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->as_string();
      return Value(std::move(out));
    }
    std::vector<Value> items = Iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::List(std::move(items));
  };
  F["round"] = [](CallArgs& a, Interpreter&) {
    double v = a.args.at(0).as_float();
    int64_t precision = ToInt(Arg(a, 1, "precision", Value(0)), "precision");
    std::string method = S(Arg(a, 2, "method", Value("common")));
    double m = std::pow(10.0, static_cast<double>(precision));
    double r = method == "ceil" ? std::ceil(v * m) / m
               : method == "floor" ? std::floor(v * m) / m
                                   : std::nearbyint(v * m) / m;  // half to even, as Python
    return Value(r);
  };
  F["groupby"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    if (a.args.size() < 2 && !a.Find(1, "attribute")) TypeError("groupby needs an attribute");
    const std::string attr = S(Arg(a, 1, "attribute", kNone));
    const Value dflt = Arg(a, 2, "default", Value::Undefined());
    bool cs = Arg(a, 3, "case_sensitive", Value(false)).Truthy();
    auto key = [&](const Value& v) {
      Value k = Attribute(v, attr);
      return k.is_undefined() && !dflt.is_undefined() ? dflt : k;
    };
    std::stable_sort(items.begin(), items.end(),
                     [&](const Value& x, const Value& y) { return Cmp(key(x), key(y), cs) < 0; });
    std::vector<Value> groups;
    for (size_t i = 0; i < items.size();) {
      Value k = key(items[i]);
      std::vector<Value> members;
      size_t j = i;
      while (j < items.size() && Cmp(key(items[j]), k, cs) == 0) members.push_back(items[j++]);
      Value g = Value::Tuple({cs || !k.is_string() ? k : key(items[i]), Value::List(std::move(members))});
      g.list().fields = {"grouper", "list"};
      groups.push_back(std::move(g));
      i = j;
    }
    return Value::List(std::move(groups));
  };
  F["slice"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> seq = Iterate(a.args.at(0));
    int64_t slices = ToInt(Arg(a, 1, "slices", Value(1)), "slices");
    if (slices <= 0) TypeError("slices must be positive");
    const Value* fill = a.Find(2, "fill_with");
    const size_t n = static_cast<size_t>(slices);
    const size_t per = seq.size() / n, extra = seq.size() % n;
    std::vector<Value> out;
    size_t offset = 0;
    for (size_t k = 0; k < n; ++k) {
      size_t start = offset + k * per;
      if (k < extra) ++offset;
      size_t end = offset + (k + 1) * per;
      std::vector<Value> part(seq.begin() + static_cast<std::ptrdiff_t>(std::min(start, seq.size())),
                              seq.begin() + static_cast<std::ptrdiff_t>(std::min(end, seq.size())));
      if (fill && !fill->is_none() && k >= extra) part.push_back(*fill);
      out.push_back(Value::List(std::move(part)));
    }
    return Value::List(std::move(out));
  };
  F["striptags"] = [](CallArgs& a, Interpreter&) {
    const std::string s = S(a.args.at(0));
    std::string text;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.compare(i, 4, "<!--") == 0) {
        size_t e = s.find("-->", i + 4);
        if (e == std::string::npos) break;
        i = e + 2;
      } else if (s[i] == '<' && i + 1 < s.size() && (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '/' || s[i + 1] == '!')) {
        size_t e = s.find('>', i);
        if (e == std::string::npos) {
          text += s.substr(i);
          break;
        }
        i = e;
      } else {
        text += s[i];
      }
    }
    std::string out;
    for (const auto& w : Split(text, kNone, -1).list().items) {
      if (!out.empty()) out += ' ';
      out += w.as_string();
    }
    // The entities Markup.striptags unescapes.
    out = Replace(Replace(Replace(Replace(Replace(out, "&lt;", "<", -1), "&gt;", ">", -1), "&quot;", "\"", -1), "&#39;", "'", -1), "&amp;", "&", -1);
    return Value(std::move(out));
  };
  F["select"] = [](CallArgs& a, Interpreter& in) { return SelectFilter(a, in, false, true); };
  F["reject"] = [](CallArgs& a, Interpreter& in) { return SelectFilter(a, in, false, false); };
  F["selectattr"] = [](CallArgs& a, Interpreter& in) { return SelectFilter(a, in, true, true); };
  F["rejectattr"] = [](CallArgs& a, Interpreter& in) { return SelectFilter(a, in, true, false); };
  F["sort"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    bool rev = Arg(a, 1, "reverse", Value(false)).Truthy();
    bool cs = Arg(a, 2, "case_sensitive", Value(false)).Truthy();
    const Value* attr = a.Find(3, "attribute");
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      int c = attr ? Cmp(Attribute(x, S(*attr)), Attribute(y, S(*attr)), cs) : Cmp(x, y, cs);
      return rev ? c > 0 : c < 0;
    });
    return Value::List(std::move(items));
  };
  F["sum"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    const Value* attr = a.Find(1, "attribute");
    Value total = Arg(a, 2, "start", Value(0));
    for (const auto& v : items) total = BinaryOp("+", total, attr ? Attribute(v, S(*attr)) : v);
    return total;
  };
  F["unique"] = [](CallArgs& a, Interpreter&) {
    std::vector<Value> items = Iterate(a.args.at(0));
    bool cs = Arg(a, 1, "case_sensitive", Value(false)).Truthy();
    std::vector<Value> out, seen;
    for (auto& v : items) {
      Value key = !cs && v.is_string() ? Value(Lower(v.as_string())) : v;
      bool dup = false;
      for (const auto& s : seen) dup = dup || s.Equals(key);
      if (!dup) {
        seen.push_back(key);
        out.push_back(std::move(v));
      }
    }
    return Value::List(std::move(out));
  };
  F["tojson"] = [](CallArgs& a, Interpreter&) {
    const Value* indent = a.Find(1, "indent");
    return Value(Json(a.args.at(0), indent && !indent->is_none() ? static_cast<int>(ToInt(*indent, "indent")) : 0, 0));
  };
  F["truncate"] = [](CallArgs& a, Interpreter&) {
    std::string s = S(a.args.at(0));
    int64_t length = ToInt(Arg(a, 1, "length", Value(255)), "length");
    bool killwords = Arg(a, 2, "killwords", Value(false)).Truthy();
    std::string end = S(Arg(a, 3, "end", Value("...")));
    int64_t leeway = ToInt(Arg(a, 4, "leeway", Value(5)), "leeway");
    if (static_cast<int64_t>(s.size()) <= length + leeway) return Value(s);
    size_t keep = static_cast<size_t>(std::max<int64_t>(0, length - static_cast<int64_t>(end.size())));
    if (killwords) return Value(s.substr(0, keep) + end);
    std::string cut = s.substr(0, keep);
    size_t sp = cut.rfind(' ');
    if (sp != std::string::npos) cut = cut.substr(0, sp);
    return Value(cut + end);
  };
  F["wordcount"] = [](CallArgs& a, Interpreter&) {
    return Value(static_cast<int64_t>(Split(S(a.args.at(0)), kNone, -1).list().items.size()));
  };
  F["urlencode"] = [](CallArgs& a, Interpreter&) {
    auto enc = [](const std::string& s) {
      std::string out;
      for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
          out += static_cast<char>(c);
        } else {
          char buf[4];
          std::snprintf(buf, sizeof(buf), "%%%02X", c);
          out += buf;
        }
      }
      return out;
    };
    const Value& v = a.args.at(0);
    if (v.is_dict()) {
      std::string out;
      for (const auto& [k, val] : v.dict().items) {
        if (!out.empty()) out += '&';
        out += enc(S(k)) + "=" + enc(S(val));
      }
      return Value(std::move(out));
    }
    return Value(enc(S(v)));
  };

  // Tests.
  T["defined"] = [](CallArgs& a, Interpreter&) { return Value(!a.args.at(0).is_undefined()); };
  T["undefined"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_undefined()); };
  T["none"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_none()); };
  T["boolean"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_bool()); };
  T["true"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_bool() && a.args[0].as_bool()); };
  T["false"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_bool() && !a.args[0].as_bool()); };
  T["integer"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_int()); };
  T["float"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_float()); };
  T["number"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_number()); };
  T["string"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_string()); };
  T["mapping"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_dict()); };
  T["sequence"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    return Value(v.is_list() || v.is_string() || v.is_dict());
  };
  T["iterable"] = [](CallArgs& a, Interpreter&) {
    const Value& v = a.args.at(0);
    return Value(v.is_list() || v.is_string() || v.is_dict() || v.is_undefined());
  };
  T["callable"] = [](CallArgs& a, Interpreter&) { return Value(a.args.at(0).is_callable()); };
  T["odd"] = [](CallArgs& a, Interpreter&) { return Value(ToInt(a.args.at(0), "value") % 2 != 0); };
  T["even"] = [](CallArgs& a, Interpreter&) { return Value(ToInt(a.args.at(0), "value") % 2 == 0); };
  T["divisibleby"] = [](CallArgs& a, Interpreter&) {
    int64_t d = ToInt(Arg(a, 1, "num", Value(1)), "num");
    if (d == 0) TypeError("integer division or modulo by zero");
    return Value(ToInt(a.args.at(0), "value") % d == 0);
  };
  T["lower"] = [](CallArgs& a, Interpreter&) {
    std::string s = S(a.args.at(0));
    return Value(Lower(s) == s);
  };
  T["upper"] = [](CallArgs& a, Interpreter&) {
    std::string s = S(a.args.at(0));
    return Value(Upper(s) == s);
  };
  auto cmp = [](const char* op) {
    return [op = std::string(op)](CallArgs& a, Interpreter&) -> Value {
      const Value& x = a.args.at(0);
      const Value& y = a.args.size() > 1 ? a.args[1] : kNone;
      if (op == "==") return Value(x.Equals(y));
      if (op == "!=") return Value(!x.Equals(y));
      auto less = op == "<" || op == ">=" ? x.Less(y) : y.Less(x);
      if (!less) TypeError("'" + op + "' not supported between instances of '" + x.TypeName() + "' and '" + y.TypeName() + "'");
      return Value(op == "<" || op == ">" ? *less : !*less);
    };
  };
  for (const char* n : {"eq", "equalto", "=="}) T[n] = cmp("==");
  for (const char* n : {"ne", "!="}) T[n] = cmp("!=");
  for (const char* n : {"lt", "lessthan", "<"}) T[n] = cmp("<");
  for (const char* n : {"gt", "greaterthan", ">"}) T[n] = cmp(">");
  for (const char* n : {"le", "<="}) T[n] = cmp("<=");
  for (const char* n : {"ge", ">="}) T[n] = cmp(">=");
  T["sameas"] = [](CallArgs& a, Interpreter&) {
    const Value& x = a.args.at(0);
    const Value& y = a.args.size() > 1 ? a.args[1] : kNone;
    if ((x.is_none() || x.is_bool()) && x.kind() == y.kind()) return Value(x.Equals(y));
    if (x.is_list() && y.is_list()) return Value(&x.list() == &y.list());
    if (x.is_dict() && y.is_dict()) return Value(&x.dict() == &y.dict());
    return Value(false);
  };
  T["in"] = [](CallArgs& a, Interpreter&) {
    const Value& seq = a.args.size() > 1 ? a.args[1] : kNone;
    if (seq.is_string()) return Value(seq.as_string().find(S(a.args.at(0))) != std::string::npos);
    if (seq.is_dict()) return Value(seq.dict().Find(a.args.at(0)) != nullptr);
    for (const auto& v : Iterate(seq)) {
      if (v.Equals(a.args.at(0))) return Value(true);
    }
    return Value(false);
  };
  T["escaped"] = [](CallArgs&, Interpreter&) { return Value(false); };

  // Globals.
  G["range"] = Fn("range", [](CallArgs& a, Interpreter&) {
    int64_t start = 0, stop = 0, step = 1;
    if (a.args.size() == 1) {
      stop = ToInt(a.args[0], "range");
    } else if (a.args.size() >= 2) {
      start = ToInt(a.args[0], "range");
      stop = ToInt(a.args[1], "range");
      if (a.args.size() > 2) step = ToInt(a.args[2], "range");
    } else {
      TypeError("range expected at least 1 argument, got 0");
    }
    if (step == 0) TypeError("range() arg 3 must not be zero");
    std::vector<Value> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      out.emplace_back(i);
      if (out.size() > 100000) TypeError("range too big, maximum size for range is 100000");
    }
    return Value::List(std::move(out));
  });
  G["dict"] = Fn("dict", [](CallArgs& a, Interpreter&) {
    Value d = Value::Dict();
    if (!a.args.empty() && a.args[0].is_dict()) d.dict().items = a.args[0].dict().items;
    for (const auto& [k, v] : a.kwargs) d.dict().Set(Value(k), v);
    return d;
  });
  G["namespace"] = Fn("namespace", [](CallArgs& a, Interpreter&) {
    Value d = Value::Dict();
    d.dict().namespace_ = true;
    if (!a.args.empty() && a.args[0].is_dict()) d.dict().items = a.args[0].dict().items;
    for (const auto& [k, v] : a.kwargs) d.dict().Set(Value(k), v);
    return d;
  });
  G["joiner"] = Fn("joiner", [](CallArgs& a, Interpreter&) {
    std::string sep = S(Arg(a, 0, "sep", Value(", ")));
    auto used = std::make_shared<bool>(false);
    return Value::Function("joiner", [sep, used](CallArgs&, Interpreter&) {
      if (!*used) {
        *used = true;
        return Value("");
      }
      return Value(sep);
    });
  });
  G["cycler"] = Fn("cycler", [](CallArgs& a, Interpreter&) {
    auto items = std::make_shared<std::vector<Value>>(a.args);
    auto pos = std::make_shared<size_t>(0);
    Value c = Value::Dict();
    c.dict().Set(Value("next"), Value::Function("next", [items, pos](CallArgs&, Interpreter&) {
      if (items->empty()) return Value::None();
      Value v = (*items)[*pos % items->size()];
      ++*pos;
      return v;
    }));
    c.dict().Set(Value("reset"), Value::Function("reset", [pos](CallArgs&, Interpreter&) {
      *pos = 0;
      return Value::None();
    }));
    return c;
  });
}

}  // namespace lakemesh::jinja
