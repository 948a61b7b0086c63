// The interpreter: renders a parsed template, with Jinja2's scoping (loop and macro bodies,
// `with`, namespaces), macros with defaults, varargs, kwargs and `caller`, imports and includes.
#include <cmath>
#include <cstring>

#include "transform/jinja/interp.h"

namespace lakemesh::jinja {

using namespace ast;  // NOLINT(build/namespaces)

void ReturnFromMacro(Value value) { throw MacroReturn{std::move(value)}; }
void RaiseError(std::string message) { throw RuntimeError{std::move(message)}; }
void TypeError(const std::string& message) { throw RuntimeError{message}; }

int64_t ToInt(const Value& v, const char* what) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  if (v.is_float()) return static_cast<int64_t>(v.as_float());
  TypeError(std::string(what) + " must be an integer, not '" + v.TypeName() + "'");
}

std::vector<Value> Iterate(const Value& v) {
  auto items = v.Items();
  if (!items) TypeError("'" + v.TypeName() + "' object is not iterable");
  return std::move(*items);
}

namespace {

Value Arith(const std::string& op, const Value& a, const Value& b) {
  auto unsupported = [&]() -> Value {
    TypeError("unsupported operand type(s) for " + op + ": '" + a.TypeName() + "' and '" +
              b.TypeName() + "'");
  };
  if (a.is_number() && b.is_number()) {
    const bool ints = !a.is_float() && !b.is_float();
    // Integers beyond 64 bits (Python's are unbounded) continue as floats.
    int64_t r = 0;
    if (op == "+") {
      if (ints && !__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return Value(r);
      return Value(a.as_float() + b.as_float());
    }
    if (op == "-") {
      if (ints && !__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return Value(r);
      return Value(a.as_float() - b.as_float());
    }
    if (op == "*") {
      if (ints && !__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return Value(r);
      return Value(a.as_float() * b.as_float());
    }
    if (op == "/") {
      if (b.as_float() == 0) TypeError("division by zero");
      return Value(a.as_float() / b.as_float());
    }
    if (op == "//") {
      if (b.as_float() == 0) TypeError("integer division or modulo by zero");
      if (ints && !(a.as_int() == INT64_MIN && b.as_int() == -1)) {
        int64_t q = a.as_int() / b.as_int();
        if ((a.as_int() % b.as_int() != 0) && ((a.as_int() < 0) != (b.as_int() < 0))) --q;
        return Value(q);
      }
      return Value(std::floor(a.as_float() / b.as_float()));
    }
    if (op == "%") {
      if (b.as_float() == 0) TypeError("integer division or modulo by zero");
      if (ints) {
        if (b.as_int() == -1) return Value(0);
        int64_t m = a.as_int() % b.as_int();
        if (m != 0 && ((m < 0) != (b.as_int() < 0))) m += b.as_int();
        return Value(m);
      }
      double r = std::fmod(a.as_float(), b.as_float());
      if (r != 0 && ((r < 0) != (b.as_float() < 0))) r += b.as_float();
      return Value(r);
    }
    if (op == "**") {
      if (ints && b.as_int() >= 0) {  // by squaring; on overflow, as a float
        int64_t base = a.as_int(), e = b.as_int(), acc = 1;
        bool overflow = false;
        while (e > 0 && !overflow) {
          if (e & 1) overflow = __builtin_mul_overflow(acc, base, &acc);
          e >>= 1;
          if (e > 0 && !overflow) overflow = __builtin_mul_overflow(base, base, &base);
        }
        if (!overflow) return Value(acc);
      }
      return Value(std::pow(a.as_float(), b.as_float()));
    }
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      std::vector<Value> items = a.list().items;
      items.insert(items.end(), b.list().items.begin(), b.list().items.end());
      return a.is_tuple() ? Value::Tuple(std::move(items)) : Value::List(std::move(items));
    }
  }
  if (op == "*") {
    const Value* seq = a.is_string() || a.is_list() ? &a : b.is_string() || b.is_list() ? &b : nullptr;
    const Value* n = seq == &a ? &b : &a;
    if (seq && (n->is_int() || n->is_bool())) {
      int64_t times = std::max<int64_t>(0, n->as_int());
      const size_t unit = seq->is_string() ? seq->as_string().size() : seq->list().items.size();
      if (unit > 0 && static_cast<uint64_t>(times) > (64u << 20) / unit) {
        TypeError("the result of * would be too large");
      }
      if (seq->is_string()) {
        std::string out;
        for (int64_t i = 0; i < times; ++i) out += seq->as_string();
        return Value(std::move(out));
      }
      std::vector<Value> items;
      for (int64_t i = 0; i < times; ++i) {
        items.insert(items.end(), seq->list().items.begin(), seq->list().items.end());
      }
      return seq->is_tuple() ? Value::Tuple(std::move(items)) : Value::List(std::move(items));
    }
  }
  if (op == "%" && a.is_string()) {
    // printf-style formatting: %s %r %d %i %f %%
    std::vector<Value> args = b.is_tuple() ? b.list().items : std::vector<Value>{b};
    std::string out;
    size_t next = 0;
    const std::string& f = a.as_string();
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] != '%') {
        out += f[i];
        continue;
      }
      if (++i >= f.size()) TypeError("incomplete format");
      std::string spec;
      while (i < f.size() && (std::isdigit(static_cast<unsigned char>(f[i])) || f[i] == '.' || f[i] == '-')) spec += f[i++];
      if (i >= f.size()) TypeError("incomplete format");
      char c = f[i];
      if (c == '%') {
        out += '%';
        continue;
      }
      if (next >= args.size()) TypeError("not enough arguments for format string");
      const Value& v = args[next++];
      char buf[128];
      switch (c) {
        case 's': out += v.Str(); break;
        case 'r': out += v.Repr(); break;
        case 'd':
        case 'i':
          std::snprintf(buf, sizeof(buf), ("%" + spec + "lld").c_str(), static_cast<long long>(ToInt(v, "%d format")));
          out += buf;
          break;
        case 'f':
          std::snprintf(buf, sizeof(buf), ("%" + spec + "f").c_str(), v.as_float());
          out += buf;
          break;
        default: TypeError(std::string("unsupported format character '") + c + "'");
      }
    }
    if (next < args.size() && !(args.size() == 1 && b.is_dict())) {
      TypeError("not all arguments converted during string formatting");
    }
    return Value(std::move(out));
  }
  return unsupported();
}

bool Contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string()) TypeError("'in <string>' requires string as left operand, not " + item.TypeName());
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const auto& v : container.list().items) {
      if (v.Equals(item)) return true;
    }
    return false;
  }
  if (container.is_dict()) return container.dict().Find(item) != nullptr;
  if (container.is_undefined()) return false;
  TypeError("argument of type '" + container.TypeName() + "' is not iterable");
}

bool Compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return a.Equals(b);
  if (op == "!=") return !a.Equals(b);
  if (op == "in") return Contains(b, a);
  if (op == "not in") return !Contains(b, a);
  auto less = [&](const Value& x, const Value& y) {
    auto r = x.Less(y);
    if (!r) {
      TypeError("'" + op + "' not supported between instances of '" + a.TypeName() + "' and '" +
                b.TypeName() + "'");
    }
    return *r;
  };
  if (op == "<") return less(a, b);
  if (op == ">") return less(b, a);
  if (op == "<=") return !less(b, a);
  if (op == ">=") return !less(a, b);
  TypeError("unknown comparison " + op);
}

}  // namespace

Value BinaryOp(const std::string& op, const Value& a, const Value& b) { return Arith(op, a, b); }

namespace {

struct Macro {
  const Stmt* def;
  // The scope the macro was defined in. Weak: that scope holds the macro, and a strong
  // reference back would keep both alive forever. Whoever hands a macro out of its render
  // (an import, GetMacro) keeps the scope alive alongside.
  std::weak_ptr<Scope> closure;
  std::shared_ptr<const Template> keep;  // the template the macro's tree belongs to
  std::string template_name;
  bool is_caller = false;
};

enum class Flow { kNormal, kBreak, kContinue };

// A running for loop, for its `loop` variable.
struct LoopState {
  const std::vector<Value>* items;
  size_t i;
  std::shared_ptr<std::optional<Value>> changed_last;  // loop.changed()
};
// The value a loop body's `loop` holds: an Undefined whose name marks the loop.
constexpr const char* kLoopMarker = "\x01loop";

class Renderer : public Interpreter {
 public:
  Renderer(const Environment& env, const Environment::Impl& impl, const Value& context,
           std::string name)
      : env_(env), impl_(impl), context_(context), name_(std::move(name)) {}

  const Environment& environment() const override { return env_; }

  Value Lookup(const std::string& name) override {
    if (name.size() > 2 && name[0] == '_' && name[1] == '_') {
      // Filters and tests by name, for map() and select().
      if (name.rfind("__filter__", 0) == 0) {
        auto f = impl_.filters.find(name.substr(10));
        if (f == impl_.filters.end()) Fail("no filter named '" + name.substr(10) + "'");
        return Value::Function(f->first, f->second);
      }
      if (name.rfind("__test__", 0) == 0) {
        auto t = impl_.tests.find(name.substr(8));
        if (t == impl_.tests.end()) Fail("no test named '" + name.substr(8) + "'");
        return Value::Function(t->first, t->second);
      }
    }
    if (Value* v = scope_ ? scope_->Find(name) : nullptr) return *v;
    if (context_.is_dict()) {
      if (Value* v = context_.dict().Find(std::string_view(name))) return *v;
    }
    auto g = impl_.globals.find(name);
    if (g != impl_.globals.end()) return g->second;
    return Value::Undefined(name);
  }

  // Where a name's value lives (scope, context, globals); null when undefined.
  const Value* Find(const std::string& name) {
    if (Value* v = scope_ ? scope_->Find(name) : nullptr) return v;
    if (context_.is_dict()) {
      if (Value* v = context_.dict().Find(std::string_view(name))) return v;
    }
    auto g = impl_.globals.find(name);
    return g != impl_.globals.end() ? &g->second : nullptr;
  }

  Value Call(const Value& fn, CallArgs args) override {
    if (fn.is_undefined()) Fail("'" + fn.undefined_name() + "' is undefined");
    if (!fn.is_callable()) Fail("'" + fn.TypeName() + "' object is not callable");
    return fn.callable().fn(args, *this);
  }

  // Renders a whole template body into `out`; the root scope is kept (for imports).
  void RenderRoot(const Body& body, std::shared_ptr<const Template> keep, std::string* out,
                  std::shared_ptr<Scope> root) {
    keep_ = std::move(keep);
    scope_ = std::move(root);
    out_ = out;
    Exec(body);
  }

  std::shared_ptr<Scope> scope() const { return scope_; }

  [[noreturn]] void Fail(const std::string& msg) const {
    throw TemplateError{name_ + ":" + std::to_string(line_) + ":" + std::to_string(col_) + ": " + msg};
  }

 private:
  // --- statements -------------------------------------------------------------------------

  Flow Exec(const Body& body) {
    for (const auto& s : body) {
      Flow f = ExecOne(*s);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  void At(int line, int col) {
    line_ = line;
    col_ = col;
  }

  Flow ExecOne(const Stmt& s) {
    try {
      return ExecOneUnchecked(s);
    } catch (const RuntimeError& e) {
      Fail(e.message);  // at the expression being evaluated
    }
  }

  Flow ExecOneUnchecked(const Stmt& s) {
    At(s.line, s.col);
    if (impl_.options.max_steps && ++steps_ > impl_.options.max_steps) {
      Fail("the template ran more than " + std::to_string(impl_.options.max_steps) + " steps");
    }
    if (out_->size() > impl_.options.max_output_bytes) {
      Fail("the template's output passed " + std::to_string(impl_.options.max_output_bytes) + " bytes");
    }
    switch (s.kind) {
      case SK::kData:
        out_->append(s.text);
        return Flow::kNormal;
      case SK::kOutput: {
        if (s.expr->kind == EK::kName) {  // the common case: no copy of the value
          if (const Value* p = Find(s.expr->name); p && !LoopOf(*p)) {
            if (p->is_string()) {
              out_->append(p->as_string());
            } else {
              out_->append(p->Str());
            }
            return Flow::kNormal;
          }
        }
        Value v = Eval(*s.expr);
        if (v.is_string()) {
          out_->append(v.as_string());
        } else {
          out_->append(v.Str());
        }
        return Flow::kNormal;
      }
      case SK::kIf:
        for (const auto& [cond, body] : s.branches) {
          if (Eval(*cond).Truthy()) return Exec(body);
        }
        return Exec(s.else_body);
      case SK::kFor: return ExecFor(s);
      case SK::kSet: {
        Value v = Eval(*s.expr);
        Assign(*s.target, std::move(v));
        return Flow::kNormal;
      }
      case SK::kSetBlock: {
        std::string text = Capture(s.body);
        Value v(std::move(text));
        if (s.expr) v = ApplyFilterChain(*s.expr, std::move(v));
        Assign(*s.target, std::move(v));
        return Flow::kNormal;
      }
      case SK::kMacro:
        scope_->vars[s.text] = MakeMacro(Macro{&s, scope_, keep_, name_});
        return Flow::kNormal;
      case SK::kCallBlock: {
        Value caller = MakeMacro(Macro{&s, scope_, keep_, name_, true});
        const Expr& call = *s.expr;
        Value fn = Eval(*call.a);
        CallArgs args = EvalArgs(call);
        args.kwargs.emplace_back("caller", caller);
        Value r = Call(fn, std::move(args));
        out_->append(r.is_string() ? r.as_string() : r.Str());
        return Flow::kNormal;
      }
      case SK::kFilterBlock: {
        std::string text = Capture(s.body);
        Value v = ApplyFilterChain(*s.expr, Value(std::move(text)));
        out_->append(v.Str());
        return Flow::kNormal;
      }
      case SK::kDo:
        Eval(*s.expr);
        return Flow::kNormal;
      case SK::kWith: {
        auto inner = std::make_shared<Scope>();
        inner->parent = scope_;
        std::vector<std::pair<const Expr*, Value>> values;
        for (const auto& [target, value] : s.assigns) values.emplace_back(target.get(), Eval(*value));
        auto saved = scope_;
        scope_ = inner;
        for (auto& [target, value] : values) Assign(*target, std::move(value));
        Flow f = Exec(s.body);
        scope_ = saved;
        return f;
      }
      case SK::kImport: {
        Value module = Import(Eval(*s.expr), s.with_context);
        scope_->vars[s.text] = module;
        return Flow::kNormal;
      }
      case SK::kFromImport: {
        Value module = Import(Eval(*s.expr), s.with_context);
        for (const auto& [n, alias] : s.names) {
          Value* v = module.dict().Find(std::string_view(n));
          if (!v) Fail("the template does not export '" + n + "'");
          scope_->vars[alias] = v->is_callable() ? KeepAlive(*v, module.dict().keep) : *v;
        }
        return Flow::kNormal;
      }
      case SK::kInclude: {
        Value which = Eval(*s.expr);
        std::vector<Value> names = which.is_list() ? which.list().items : std::vector<Value>{which};
        for (const Value& n : names) {
          auto t = env_.GetTemplate(n.Str());
          if (!t.ok()) {
            if (t.status().IsNotFound()) continue;
            Fail(t.status().message());
          }
          Renderer sub(env_, impl_, context_, (*t)->name());
          auto root = std::make_shared<Scope>();
          if (s.with_context) root->parent = scope_;
          sub.depth_ = depth_ + 1;
          if (sub.depth_ > 100) Fail("templates include each other too deep");
          sub.RenderRoot((*t)->impl_->body, *t, out_, root);
          return Flow::kNormal;
        }
        if (!s.ignore_missing) Fail("template not found: " + which.Str());
        return Flow::kNormal;
      }
      case SK::kBreak: return Flow::kBreak;
      case SK::kContinue: return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  std::string Capture(const Body& body) {
    std::string text;
    std::string* saved = out_;
    out_ = &text;
    Exec(body);
    out_ = saved;
    return text;
  }

  Value Import(const Value& name, bool with_context) {
    auto t = env_.GetTemplate(name.Str());
    if (!t.ok()) Fail(t.status().message());
    Renderer sub(env_, impl_, with_context ? context_ : Value::None(), (*t)->name());
    sub.depth_ = depth_ + 1;
    if (sub.depth_ > 100) Fail("templates import each other too deep");
    auto root = std::make_shared<Scope>();
    if (with_context) root->parent = scope_;
    std::string ignored;
    sub.RenderRoot((*t)->impl_->body, *t, &ignored, root);
    Value module = Value::Dict();
    for (const auto& [k, v] : root->vars) {
      if (!k.empty() && k[0] != '_') module.dict().Set(Value(k), v);
    }
    module.dict().keep = root;  // its macros' scope
    return module;
  }

  Flow ExecFor(const Stmt& s) {
    Value iterable = Eval(*s.expr);
    // A list is iterated where it is (kept alive by `iterable`); others as their items.
    std::vector<Value> own;
    const bool in_place = iterable.is_list() && !s.cond;
    if (!in_place) own = Iterate(iterable);
    std::vector<Value>& items = in_place ? iterable.list().items : own;
    auto saved = scope_;
    auto inner = std::make_shared<Scope>();
    inner->parent = saved;
    scope_ = inner;
    if (s.cond) {  // the filter applies before the loop counts
      std::vector<Value> kept;
      for (auto& item : own) {
        Assign(*s.target, item);
        if (Eval(*s.cond).Truthy()) kept.push_back(std::move(item));
      }
      own = std::move(kept);
      inner->vars.clear();
    }
    const size_t n = items.size();
    LoopState state{&items, 0, std::make_shared<std::optional<Value>>()};
    if (s.uses_loop) loops_.push_back(&state);
    const Value marker = Value::Undefined(kLoopMarker + std::to_string(loops_.size() - 1));
    for (size_t i = 0; i < n && i < items.size(); ++i) {
      inner->vars.clear();
      state.i = i;
      // `loop.x` is computed when read; `loop` itself becomes a dict only if used as a value.
      if (s.uses_loop) inner->vars["loop"] = marker;
      Assign(*s.target, items[i]);
      Flow f = Exec(s.body);
      if (f == Flow::kBreak) break;
    }
    if (s.uses_loop) loops_.pop_back();
    scope_ = saved;
    if (n == 0) return Exec(s.else_body);
    return Flow::kNormal;
  }

  // The loop a marker value stands for (null: not a marker).
  LoopState* LoopOf(const Value& v) {
    if (!v.is_undefined() || v.undefined_name().rfind(kLoopMarker, 0) != 0) return nullptr;
    size_t k = std::stoul(v.undefined_name().substr(std::strlen(kLoopMarker)));
    return k < loops_.size() ? loops_[k] : nullptr;
  }

  // One attribute of a loop's `loop`.
  static Value LoopAttr(const LoopState& l, const std::string& name) {
    const size_t n = l.items->size(), i = l.i;
    if (name == "index") return Value(static_cast<int64_t>(i + 1));
    if (name == "index0") return Value(static_cast<int64_t>(i));
    if (name == "first") return Value(i == 0);
    if (name == "last") return Value(i + 1 == n);
    if (name == "length") return Value(static_cast<int64_t>(n));
    if (name == "revindex") return Value(static_cast<int64_t>(n - i));
    if (name == "revindex0") return Value(static_cast<int64_t>(n - i - 1));
    if (name == "previtem") return i > 0 ? (*l.items)[i - 1] : Value::Undefined("previtem");
    if (name == "nextitem") return i + 1 < n ? (*l.items)[i + 1] : Value::Undefined("nextitem");
    if (name == "depth") return Value(1);
    if (name == "depth0") return Value(0);
    if (name == "cycle") return CycleFn(i);
    if (name == "changed") return ChangedFn(l.changed_last);
    return Value::Undefined(name);
  }

  static Value CycleFn(size_t i) {
    return Value::Function("cycle", [i](CallArgs& a, Interpreter&) -> Value {
      if (a.args.empty()) TypeError("no items for cycling given");
      return a.args[i % a.args.size()];
    });
  }

  static Value ChangedFn(const std::shared_ptr<std::optional<Value>>& changed_last) {
    return Value::Function("changed", [changed_last](CallArgs& a, Interpreter&) -> Value {
      Value now = Value::Tuple(a.args);
      if (*changed_last && (*changed_last)->Equals(now)) return Value(false);
      *changed_last = now;
      return Value(true);
    });
  }

  // The `loop` variable of iteration `i` over `items`, as a value.
  static Value LoopVar(const std::vector<Value>& items, size_t i,
                       const std::shared_ptr<std::optional<Value>>& changed_last) {
    const size_t n = items.size();
    Value loop = Value::Dict();
    auto& d = loop.dict().items;
    d.reserve(14);
    auto add = [&](const char* k, Value v) { d.emplace_back(Value(k), std::move(v)); };
    add("index", Value(static_cast<int64_t>(i + 1)));
    add("index0", Value(static_cast<int64_t>(i)));
    add("revindex", Value(static_cast<int64_t>(n - i)));
    add("revindex0", Value(static_cast<int64_t>(n - i - 1)));
    add("first", Value(i == 0));
    add("last", Value(i + 1 == n));
    add("length", Value(static_cast<int64_t>(n)));
    add("depth", Value(1));
    add("depth0", Value(0));
    add("previtem", i > 0 ? items[i - 1] : Value::Undefined("previtem"));
    add("nextitem", i + 1 < n ? items[i + 1] : Value::Undefined("nextitem"));
    add("cycle", CycleFn(i));
    add("changed", ChangedFn(changed_last));
    return loop;
  }

  void Assign(const Expr& target, Value v) {
    if (target.kind == EK::kName) {
      scope_->vars[target.name] = std::move(v);
      return;
    }
    if (target.kind == EK::kTuple) {
      std::vector<Value> parts = Iterate(v);
      if (parts.size() != target.items.size()) {
        Fail(std::string(parts.size() < target.items.size() ? "not enough" : "too many") +
             " values to unpack (expected " + std::to_string(target.items.size()) + ", got " +
             std::to_string(parts.size()) + ")");
      }
      for (size_t i = 0; i < parts.size(); ++i) Assign(*target.items[i], std::move(parts[i]));
      return;
    }
    if (target.kind == EK::kAttr) {  // {% set ns.x = ... %}
      Value obj = Eval(*target.a);
      if (!obj.is_dict() || !obj.dict().namespace_) Fail("cannot assign attribute on non-namespace object");
      obj.dict().Set(Value(target.name), std::move(v));
      return;
    }
    Fail("cannot assign to this expression");
  }

  // --- macros -----------------------------------------------------------------------------

  // `fn`, holding `keep` (the scope a macro was defined in) alive while it lives.
  static Value KeepAlive(const Value& fn, std::shared_ptr<void> keep) {
    return Value::Function(fn.callable().name, [fn, keep](CallArgs& a, Interpreter& in) {
      return in.Call(fn, std::move(a));
    });
  }

  Value MakeMacro(Macro m) {
    auto shared = std::make_shared<Macro>(std::move(m));
    const std::string name = shared->is_caller ? "caller" : shared->def->text;
    return Value::Function(name, [shared](CallArgs& args, Interpreter& interp) -> Value {
      auto* r = dynamic_cast<Renderer*>(&interp);
      if (!r) TypeError("macros are called from templates");
      return r->CallMacro(*shared, args);
    });
  }

  Value CallMacro(const Macro& m, CallArgs& args) {
    const Stmt& def = *m.def;
    const std::string macro_name = m.is_caller ? "caller" : def.text;
    auto scope = std::make_shared<Scope>();
    scope->parent = m.closure.lock();
    if (!scope->parent) Fail("macro '" + macro_name + "' outlived the template that defined it");
    size_t pos = 0;
    for (const Param& p : def.params) {
      if (pos < args.args.size()) {
        scope->vars[p.name] = args.args[pos++];
      }
    }
    std::vector<Value> extra(args.args.begin() + static_cast<std::ptrdiff_t>(std::min(pos, args.args.size())), args.args.end());
    if (!extra.empty() && !def.uses_varargs) {
      Fail("macro '" + macro_name + "' takes not more than " + std::to_string(def.params.size()) +
           " argument(s)");
    }
    Value kwargs = def.uses_kwargs ? Value::Dict() : Value::None();
    Value caller = Value::Undefined("caller");
    for (auto& [k, v] : args.kwargs) {
      bool is_param = false;
      for (const Param& p : def.params) {
        if (p.name == k) {
          if (scope->vars.count(k)) Fail("macro '" + macro_name + "' got multiple values for argument '" + k + "'");
          scope->vars[k] = v;
          is_param = true;
        }
      }
      if (is_param) continue;
      if (k == "caller" && !m.is_caller) {
        caller = v;
        continue;
      }
      if (!def.uses_kwargs) Fail("macro '" + macro_name + "' takes no keyword argument '" + k + "'");
      kwargs.dict().Set(Value(k), v);
    }
    // Defaults, in the macro's scope (a default may use an earlier argument).
    auto saved_scope = scope_;
    std::string* saved_out = out_;
    auto saved_keep = keep_;
    std::string saved_name = name_;
    const int saved_line = line_, saved_col = col_;
    scope_ = scope;
    keep_ = m.keep;
    name_ = m.template_name;
    for (const Param& p : def.params) {
      if (scope->vars.count(p.name)) continue;
      scope->vars[p.name] = p.default_value ? Eval(*p.default_value) : Value::Undefined(p.name);
    }
    if (def.uses_varargs) scope->vars["varargs"] = Value::Tuple(std::move(extra));
    if (def.uses_kwargs) scope->vars["kwargs"] = kwargs;
    if (!m.is_caller && def.uses_caller) scope->vars["caller"] = caller;
    if (++depth_ > 100) Fail("macros call each other too deep");
    std::string text;
    out_ = &text;
    Value result;
    bool returned = false;
    try {
      Exec(def.body);
    } catch (MacroReturn& r) {
      result = std::move(r.value);
      returned = true;
    } catch (...) {
      --depth_;
      scope_ = saved_scope;
      out_ = saved_out;
      keep_ = saved_keep;
      name_ = saved_name;
      throw;
    }
    --depth_;
    scope_ = saved_scope;
    out_ = saved_out;
    keep_ = saved_keep;
    name_ = saved_name;
    At(saved_line, saved_col);
    if (returned) return result;
    return Value(std::move(text));
  }

  // --- expressions ------------------------------------------------------------------------

  CallArgs EvalArgs(const Expr& e) {
    CallArgs a = TakeArgs();
    AppendArgs(e, &a);
    return a;
  }

  // Argument lists are reused (their vectors keep their capacity): a call allocates nothing
  // for its arguments once the render is warm.
  CallArgs TakeArgs() {
    if (spare_.empty()) {
      CallArgs a;
      a.args.reserve(4);
      return a;
    }
    CallArgs a = std::move(spare_.back());
    spare_.pop_back();
    return a;
  }
  void GiveBack(CallArgs&& a) {
    if (spare_.size() >= 16) return;
    a.args.clear();
    a.kwargs.clear();
    spare_.push_back(std::move(a));
  }

  void AppendArgs(const Expr& e, CallArgs* out) {
    CallArgs& a = *out;
    for (const auto& i : e.items) a.args.push_back(Eval(*i));
    if (e.star) {
      Value s = Eval(*e.star);
      for (auto& v : Iterate(s)) a.args.push_back(std::move(v));
    }
    for (const auto& [k, v] : e.kwargs) a.kwargs.emplace_back(k, Eval(*v));
    if (e.dstar) {
      Value d = Eval(*e.dstar);
      if (!d.is_dict()) Fail("argument after ** must be a mapping, not " + d.TypeName());
      for (const auto& [k, v] : d.dict().items) a.kwargs.emplace_back(k.Str(), v);
    }
  }

  Value ApplyFilterChain(const Expr& chain, Value base) {
    // A chain is nested kFilter nodes whose innermost `a` is null: apply from the inside out.
    if (chain.kind != EK::kFilter) Fail("expected a filter");
    if (chain.a) base = ApplyFilterChain(*chain.a, std::move(base));
    return ApplyFilter(chain, std::move(base));
  }

  Value ApplyFilter(const Expr& f, Value base) {
    return ApplyNamed(f, std::move(base), impl_.filters, "filter");
  }

  // A filter or test (from `table`) applied to `first` with the node's arguments; the function
  // is looked up once per template node.
  Value ApplyNamed(const Expr& e, Value first,
                   const std::unordered_map<std::string, NativeFunction>& table, const char* what) {
    auto* fn = static_cast<const NativeFunction*>(e.resolved.load(std::memory_order_relaxed));
    if (!fn) {
      auto it = table.find(e.name);
      if (it == table.end()) Fail(std::string("no ") + what + " named '" + e.name + "'");
      fn = &it->second;
      e.resolved.store(fn, std::memory_order_relaxed);
    }
    CallArgs a = TakeArgs();
    a.args.push_back(std::move(first));
    AppendArgs(e, &a);
    At(e.line, e.col);
    Value r = (*fn)(a, *this);
    GiveBack(std::move(a));
    return r;
  }

  Value GetAttr(const Value& obj, const std::string& name) {
    if (obj.is_undefined()) {
      Fail("'" + (obj.undefined_name().empty() ? std::string("value") : obj.undefined_name()) +
           "' is undefined");
    }
    if (obj.is_dict()) {
      if (obj.dict().namespace_) {
        if (Value* v = obj.dict().Find(std::string_view(name))) return *v;
        return Value::Undefined(name);
      }
      if (obj.dict().display) {  // an object: its attributes first
        if (Value* v = obj.dict().Find(std::string_view(name))) return *v;
      }
      if (auto m = BoundMethod(obj, name)) return *m;
      if (Value* v = obj.dict().Find(std::string_view(name))) return *v;
      return Value::Undefined(name);
    }
    if (obj.is_callable() && obj.callable().attributes && obj.callable().attributes->is_dict()) {
      if (Value* v = obj.callable().attributes->dict().Find(std::string_view(name))) return *v;
    }
    if (obj.is_list() && !obj.list().fields.empty()) {  // a named tuple's field
      const auto& f = obj.list().fields;
      for (size_t i = 0; i < f.size() && i < obj.list().items.size(); ++i) {
        if (f[i] == name) return obj.list().items[i];
      }
    }
    if (auto m = BoundMethod(obj, name)) return *m;
    return Value::Undefined(name);
  }

  Value GetItem(const Value& obj, const Value& key) {
    if (obj.is_undefined()) {
      Fail("'" + (obj.undefined_name().empty() ? std::string("value") : obj.undefined_name()) +
           "' is undefined");
    }
    if (obj.is_dict()) {
      if (Value* v = obj.dict().Find(key)) return *v;
      if (key.is_string()) {
        if (auto m = BoundMethod(obj, key.as_string())) return *m;
      }
      return Value::Undefined(key.Str());
    }
    if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
      std::vector<Value> items = obj.is_list() ? std::vector<Value>{} : Iterate(obj);
      const std::vector<Value>& seq = obj.is_list() ? obj.list().items : items;
      int64_t i = key.as_int();
      if (i < 0) i += static_cast<int64_t>(seq.size());
      if (i < 0 || i >= static_cast<int64_t>(seq.size())) return Value::Undefined(key.Str());
      return seq[static_cast<size_t>(i)];
    }
    if (key.is_string()) return GetAttr(obj, key.as_string());
    return Value::Undefined(key.Str());
  }

  Value Slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    std::vector<Value> seq = Iterate(obj);
    const int64_t n = static_cast<int64_t>(seq.size());
    int64_t st = step.is_none() ? 1 : ToInt(step, "slice step");
    if (st == 0) Fail("slice step cannot be zero");
    auto norm = [&](const Value& v, int64_t dflt, bool is_start) {
      if (v.is_none()) return dflt;
      int64_t i = ToInt(v, "slice index");
      if (i < 0) i += n;
      if (st > 0) return std::clamp<int64_t>(i, 0, n);
      (void)is_start;
      return std::clamp<int64_t>(i, -1, n - 1);
    };
    int64_t b = norm(start, st > 0 ? 0 : n - 1, true);
    int64_t e = norm(stop, st > 0 ? n : -1, false);
    std::vector<Value> out;
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) out.push_back(seq[static_cast<size_t>(i)]);
    if (obj.is_string()) {
      std::string s;
      for (const auto& c : out) s += c.as_string();
      return Value(std::move(s));
    }
    return obj.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
  }

  // Expressions nest (and macros recurse) at most this deep: an error, not a stack overflow.
  static constexpr int kMaxEvalDepth = 800;

  Value Eval(const Expr& e) {
    if (++eval_depth_ > kMaxEvalDepth) Fail("expressions or macro calls nest too deep");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{eval_depth_};
    return EvalUnchecked(e);
  }

  Value EvalUnchecked(const Expr& e) {
    switch (e.kind) {
      case EK::kConst: return e.value;
      case EK::kName: {
        Value v = Lookup(e.name);
        if (LoopState* l = LoopOf(v)) return LoopVar(*l->items, l->i, l->changed_last);
        return v;
      }
      case EK::kTuple:
      case EK::kList: {
        std::vector<Value> items;
        items.reserve(e.items.size());
        for (const auto& i : e.items) items.push_back(Eval(*i));
        return e.kind == EK::kTuple ? Value::Tuple(std::move(items)) : Value::List(std::move(items));
      }
      case EK::kDict: {
        Value d = Value::Dict();
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          Value k = Eval(*e.items[i]);
          d.dict().Set(std::move(k), Eval(*e.items[i + 1]));
        }
        return d;
      }
      case EK::kAttr: {
        if (e.a->kind == EK::kName) {
          if (const Value* p = Find(e.a->name)) {
            At(e.line, e.col);
            if (LoopState* l = LoopOf(*p)) return LoopAttr(*l, e.name);
            return GetAttr(*p, e.name);
          }
        }
        Value obj = Eval(*e.a);
        At(e.line, e.col);
        return GetAttr(obj, e.name);
      }
      case EK::kItem: {
        Value obj = Eval(*e.a);
        Value key = Eval(*e.b);
        At(e.line, e.col);
        return GetItem(obj, key);
      }
      case EK::kSlice: {
        Value obj = Eval(*e.a);
        Value b = e.b ? Eval(*e.b) : Value::None();
        Value c = e.c ? Eval(*e.c) : Value::None();
        Value d = e.d ? Eval(*e.d) : Value::None();
        At(e.line, e.col);
        return Slice(obj, b, c, d);
      }
      case EK::kCall: {
        if (e.a->kind == EK::kAttr) {  // obj.method(...): no bound method made
          const Expr& attr = *e.a;
          Value holder;
          const Value* obj = attr.a->kind == EK::kName ? Find(attr.a->name) : nullptr;
          if (!obj || LoopOf(*obj)) {
            holder = Eval(*attr.a);
            obj = &holder;
          }
          // (An object's own attribute comes before the dict methods: dbt's agate columns
          // have values().)
          const bool own = obj->is_dict() && obj->dict().display &&
                           obj->dict().Find(std::string_view(attr.name));
          if (!own && (obj->is_string() || obj->is_list() || (obj->is_dict() && !obj->dict().namespace_))) {
            CallArgs args = EvalArgs(e);
            At(e.line, e.col);
            if (auto r = CallMethod(*obj, attr.name, args, *this)) {
              GiveBack(std::move(args));
              return std::move(*r);
            }
            At(attr.line, attr.col);
            return Call(GetAttr(*obj, attr.name), std::move(args));
          }
          At(attr.line, attr.col);
          if (LoopState* l = LoopOf(*obj); l && (attr.name == "cycle" || attr.name == "changed")) {
            CallArgs args = EvalArgs(e);
            At(e.line, e.col);
            if (attr.name == "cycle") {
              if (args.args.empty()) Fail("no items for cycling given");
              return args.args[l->i % args.args.size()];
            }
            Value now = Value::Tuple(std::move(args.args));
            if (*l->changed_last && (*l->changed_last)->Equals(now)) return Value(false);
            *l->changed_last = std::move(now);
            return Value(true);
          }
          Value fn = LoopOf(*obj) ? LoopAttr(*LoopOf(*obj), attr.name) : GetAttr(*obj, attr.name);
          CallArgs args = EvalArgs(e);
          At(e.line, e.col);
          if (fn.is_undefined()) {
            Fail("'" + (fn.undefined_name().empty() ? std::string("value") : fn.undefined_name()) +
                 "' is undefined");
          }
          return Call(fn, std::move(args));
        }
        if (e.a->kind == EK::kName) {  // f(...): no copy of the function
          CallArgs args = EvalArgs(e);
          At(e.line, e.col);
          if (const Value* p = Find(e.a->name); p && p->is_callable()) {
            Value r = p->callable().fn(args, *this);
            GiveBack(std::move(args));
            return r;
          }
          Value fn = Lookup(e.a->name);
          if (fn.is_undefined()) Fail("'" + e.a->name + "' is undefined");
          return Call(fn, std::move(args));
        }
        Value fn = Eval(*e.a);
        CallArgs args = EvalArgs(e);
        At(e.line, e.col);
        if (fn.is_undefined()) {
          Fail("'" + (fn.undefined_name().empty() ? std::string("value") : fn.undefined_name()) +
               "' is undefined");
        }
        return Call(fn, std::move(args));
      }
      case EK::kFilter: {
        Value base = Eval(*e.a);
        return ApplyFilter(e, std::move(base));
      }
      case EK::kTest: {
        bool r = ApplyNamed(e, Eval(*e.a), impl_.tests, "test").Truthy();
        return Value(e.negated ? !r : r);
      }
      case EK::kNot: return Value(!Eval(*e.a).Truthy());
      case EK::kNeg: {
        Value v = Eval(*e.a);
        At(e.line, e.col);
        if (v.is_float()) return Value(-v.as_float());
        if (v.is_int() || v.is_bool()) return Value(-v.as_int());
        Fail("bad operand type for unary -: '" + v.TypeName() + "'");
      }
      case EK::kPos: {
        Value v = Eval(*e.a);
        if (!v.is_number()) Fail("bad operand type for unary +: '" + v.TypeName() + "'");
        return v.is_bool() ? Value(v.as_int()) : v;
      }
      case EK::kBinary: {
        Value a = Eval(*e.a);
        Value b = Eval(*e.b);
        At(e.line, e.col);
        return Arith(e.name, a, b);
      }
      case EK::kAnd: {
        Value a = Eval(*e.a);
        return a.Truthy() ? Eval(*e.b) : a;
      }
      case EK::kOr: {
        Value a = Eval(*e.a);
        return a.Truthy() ? a : Eval(*e.b);
      }
      case EK::kConcat: {
        std::string s;
        for (const auto& i : e.items) {
          Value v = Eval(*i);
          s += v.is_string() ? v.as_string() : v.Str();
        }
        return Value(std::move(s));
      }
      case EK::kCompare: {
        Value left = Eval(*e.a);
        for (const auto& [op, operand] : e.ops) {
          Value right = Eval(*operand);
          At(e.line, e.col);
          if (!Compare(op, left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case EK::kCond: {
        if (Eval(*e.a).Truthy()) return Eval(*e.b);
        return e.c ? Eval(*e.c) : Value::Undefined();
      }
    }
    return Value::None();
  }

  const Environment& env_;
  const Environment::Impl& impl_;
  Value context_;
  std::string name_;
  std::shared_ptr<Scope> scope_;
  std::shared_ptr<const Template> keep_;
  std::string* out_ = nullptr;
  int line_ = 1, col_ = 1;
  int depth_ = 0;
  std::vector<LoopState*> loops_;
  std::vector<CallArgs> spare_;
  uint64_t steps_ = 0;
  int eval_depth_ = 0;
};

}  // namespace

// --- the Environment --------------------------------------------------------------------------

Template::~Template() = default;

Environment::Environment(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  AddBuiltins(*impl_);
}

Environment::~Environment() = default;

void Environment::SetLoader(std::function<Result<std::string>(const std::string&)> loader) {
  impl_->loader = std::move(loader);
}
void Environment::AddGlobal(const std::string& name, Value value) { impl_->globals[name] = std::move(value); }
void Environment::AddFilter(const std::string& name, NativeFunction fn) { impl_->filters[name] = std::move(fn); }
void Environment::AddTest(const std::string& name, NativeFunction fn) { impl_->tests[name] = std::move(fn); }

Result<std::shared_ptr<const Template>> Environment::Parse(const std::string& name,
                                                           std::string_view source) const {
  try {
    auto t = std::make_shared<Template>();
    t->name_ = name;
    t->impl_ = std::make_unique<Template::Impl>();
    t->impl_->body = ParseTemplate(name, source, impl_->options);
    return std::shared_ptr<const Template>(std::move(t));
  } catch (const TemplateError& e) {
    return InvalidArgument(e.message);
  }
}

Result<std::shared_ptr<const Template>> Environment::GetTemplate(const std::string& name) const {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->cache.find(name);
    if (it != impl_->cache.end()) return it->second;
  }
  if (!impl_->loader) return NotFound("template not found: " + name + " (no loader)");
  LM_ASSIGN_OR_RETURN(std::string source, impl_->loader(name));
  LM_ASSIGN_OR_RETURN(auto t, Parse(name, source));
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->cache[name] = t;
  return t;
}

Result<std::string> Environment::Render(const Template& t, const Value& context) const {
  std::string out;
  out.reserve(256);
  try {
    Renderer r(*this, *impl_, context, t.name());
    // The template's tree lives as long as `t`; no need to keep it alive from here.
    r.RenderRoot(t.impl_->body, nullptr, &out, std::make_shared<Scope>());
  } catch (const TemplateError& e) {
    return InvalidArgument(e.message);
  } catch (const RuntimeError& e) {
    return InvalidArgument(t.name() + ": " + e.message);
  } catch (const MacroReturn&) {
    return InvalidArgument(t.name() + ": return() outside a macro");
  }
  return out;
}

Result<std::string> Environment::RenderString(std::string_view source, const Value& context) const {
  LM_ASSIGN_OR_RETURN(auto t, Parse("<string>", source));
  return Render(*t, context);
}

Result<std::vector<std::pair<std::string, Value>>> Environment::Macros(const Template& t,
                                                                       const Value& context) const {
  try {
    Renderer r(*this, *impl_, context, t.name());
    auto root = std::make_shared<Scope>();
    std::string ignored;
    r.RenderRoot(t.impl_->body, nullptr, &ignored, root);
    std::vector<std::pair<std::string, Value>> out;
    for (const auto& [name, v] : root->vars) {
      if (!v.is_callable()) continue;
      out.emplace_back(name, Value::Function(name, [fn = v, root](CallArgs& a, Interpreter& in) {
                         return in.Call(fn, std::move(a));
                       }));
    }
    return out;
  } catch (const TemplateError& e) {
    return InvalidArgument(e.message);
  } catch (const RuntimeError& e) {
    return InvalidArgument(t.name() + ": " + e.message);
  }
}

Result<Value> Environment::GetMacro(const Template& t, const std::string& name,
                                    const Value& context) const {
  try {
    Renderer r(*this, *impl_, context, t.name());
    auto root = std::make_shared<Scope>();
    std::string ignored;
    r.RenderRoot(t.impl_->body, nullptr, &ignored, root);
    Value* v = root->vars.Find(name);
    if (!v || !v->is_callable()) return NotFound("no macro '" + name + "' in " + t.name());
    return Value::Function(name, [fn = *v, root](CallArgs& a, Interpreter& in) {
      return in.Call(fn, std::move(a));
    });
  } catch (const TemplateError& e) {
    return InvalidArgument(e.message);
  }
}

}  // namespace lakemesh::jinja
