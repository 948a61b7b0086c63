// The parsed form of a template: expressions and statements, each with its line and column.
// Private to src/transform/jinja.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "transform/jinja/value.h"

namespace lakemesh::jinja::ast {

struct Expr;
struct Stmt;
using ExprP = std::unique_ptr<Expr>;
using StmtP = std::unique_ptr<Stmt>;
using Body = std::vector<StmtP>;

enum class EK {
  kConst,     // value
  kName,      // name
  kTuple,     // items
  kList,      // items
  kDict,      // items: key, value, key, value, ...
  kAttr,      // a.name
  kItem,      // a[b]
  kSlice,     // a[b:c:d] (b, c, d may be null): a, b, c, d = items[0..2]
  kCall,      // a(items..., kwargs..., *star, **dstar)
  kFilter,    // a|name(items..., kwargs...) (a null in a filter block)
  kTest,      // a is [not] name(items...)
  kNot,       // not a
  kNeg,       // -a
  kPos,       // +a
  kBinary,    // a op b: + - * / // % **
  kAnd,       // a and b
  kOr,        // a or b
  kConcat,    // items joined with ~
  kCompare,   // a (op b)...: ops
  kCond,      // b if a else c
};

struct Expr {
  EK kind;
  int line = 0, col = 0;
  Value value;
  std::string name;  // a name, attribute, filter, test or operator
  ExprP a, b, c, d;
  std::vector<ExprP> items;
  std::vector<std::pair<std::string, ExprP>> kwargs;
  std::vector<std::pair<std::string, ExprP>> ops;  // comparisons: (op, operand)
  ExprP star, dstar;
  bool negated = false;
  // A filter's or test's function, found at its first use (by the environment that parsed the
  // template, whose filters and tests outlive it).
  mutable std::atomic<const void*> resolved{nullptr};
};

enum class SK {
  kData,       // text
  kOutput,     // {{ expr }}
  kIf,         // branches, else_body
  kFor,        // target, expr (iterable), cond (filter), body, else_body
  kSet,        // target = expr
  kSetBlock,   // target; body; filters (a filter chain over a null expr) in expr
  kMacro,      // name, params, body
  kCallBlock,  // expr (the call), params (caller's), body
  kFilterBlock,// expr (filter chain over null), body
  kDo,         // expr
  kWith,       // assigns, body
  kImport,     // expr (template), name (alias), with_context
  kFromImport, // expr, names, with_context
  kInclude,    // expr, ignore_missing, with_context
  kBreak,
  kContinue,
};

struct Param {
  std::string name;
  ExprP default_value;
};

struct Stmt {
  SK kind;
  int line = 0, col = 0;
  std::string text;  // data; a macro's name
  ExprP expr, target, cond;
  std::vector<std::pair<ExprP, Body>> branches;
  Body body, else_body;
  std::vector<Param> params;
  std::vector<std::pair<ExprP, ExprP>> assigns;                 // with: target = value
  std::vector<std::pair<std::string, std::string>> names;      // from-import: name, alias
  bool with_context = false, ignore_missing = false;
  // Macros: which of caller, varargs, kwargs the body uses; loops: whether the body uses `loop`.
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false, uses_loop = false;
};

}  // namespace lakemesh::jinja::ast
