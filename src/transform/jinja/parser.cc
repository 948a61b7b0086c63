// The lexer and parser: template text -> ast::Body, following Jinja2's lexer (whitespace
// control, trim_blocks, lstrip_blocks, raw blocks, nested braces in expressions) and its
// parser's operator precedence.
#include "transform/jinja/parser.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

namespace lakemesh::jinja {
namespace {

using namespace ast;  // NOLINT(build/namespaces)

enum class TK { kData, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };

struct Token {
  TK kind;
  std::string text;
  int line = 1, col = 1;
  Value value;  // numbers and strings
};

class Lexer {
 public:
  Lexer(const std::string& name, std::string_view src, const Options& o)
      : name_(name), src_(src), opts_(o) {}

  std::vector<Token> Run() {
    std::string data;
    size_t data_line = line_, data_col = col_;
    bool strip_next = false;  // the previous tag ended with '-'
    bool trim_next = false;   // trim_blocks: drop one newline after the previous block tag
    auto flush = [&](bool rstrip_all, bool lstrip_line) {
      if (rstrip_all) {
        while (!data.empty() && std::isspace(static_cast<unsigned char>(data.back()))) data.pop_back();
      } else if (lstrip_line) {
        size_t nl = data.find_last_of('\n');
        size_t start = nl == std::string::npos ? 0 : nl + 1;
        bool blank = true;
        for (size_t i = start; i < data.size(); ++i) {
          if (data[i] != ' ' && data[i] != '\t') blank = false;
        }
        // Only when the tag starts its line (after the text before it on that line).
        if (blank && (nl != std::string::npos || at_line_start_)) data.resize(start);
      }
      if (!data.empty()) {
        Token t{TK::kData, data, static_cast<int>(data_line), static_cast<int>(data_col), {}};
        out_.push_back(std::move(t));
      }
      data.clear();
    };
    at_line_start_ = true;
    while (pos_ < src_.size()) {
      size_t open = src_.find('{', pos_);
      while (open != std::string_view::npos && open + 1 < src_.size() &&
             src_[open + 1] != '{' && src_[open + 1] != '%' && src_[open + 1] != '#') {
        open = src_.find('{', open + 1);
      }
      if (open == std::string_view::npos || open + 1 >= src_.size()) {
        Append(&data, src_.size(), &strip_next, &trim_next);
        break;
      }
      Append(&data, open, &strip_next, &trim_next);
      // `at_line_start_` means the data so far began at a line start (for lstrip_blocks).
      const char kind = src_[open + 1];
      const int tag_line = line_, tag_col = col_;
      Advance(2);
      bool minus = Peek('-');
      bool plus = Peek('+');
      if (minus || plus) Advance(1);
      if (kind == '#') {
        size_t end = src_.find("#}", pos_);
        if (end == std::string_view::npos) Fail(tag_line, tag_col, "unclosed comment");
        bool end_minus = end > pos_ && src_[end - 1] == '-';
        flush(minus, opts_.lstrip_blocks && !plus);
        Advance(end + 2 - pos_);
        strip_next = end_minus;
        trim_next = opts_.trim_blocks && !end_minus;
        data_line = line_;
        data_col = col_;
        at_line_start_ = false;
        continue;
      }
      if (kind == '%') {
        // {% raw %} ... {% endraw %}: the text between, as it is.
        size_t save = pos_;
        int sl = line_, sc = col_;
        SkipSpace();
        if (src_.compare(pos_, 3, "raw") == 0 && (pos_ + 3 >= src_.size() || !IsName(src_[pos_ + 3]))) {
          Advance(3);
          SkipSpace();
          bool raw_minus = Peek('-');
          if (raw_minus) Advance(1);
          if (src_.compare(pos_, 2, "%}") != 0) Fail(line_, col_, "expected '%}' after raw");
          Advance(2);
          flush(minus, opts_.lstrip_blocks && !plus);
          // Find {%-? endraw -?%}
          size_t search = pos_;
          while (true) {
            size_t e = src_.find("{%", search);
            if (e == std::string_view::npos) Fail(tag_line, tag_col, "missing endraw");
            size_t p = e + 2;
            bool end_open_minus = p < src_.size() && src_[p] == '-';
            if (end_open_minus || (p < src_.size() && src_[p] == '+')) ++p;
            while (p < src_.size() && std::isspace(static_cast<unsigned char>(src_[p]))) ++p;
            if (src_.compare(p, 6, "endraw") == 0) {
              p += 6;
              while (p < src_.size() && std::isspace(static_cast<unsigned char>(src_[p]))) ++p;
              bool end_minus = p < src_.size() && src_[p] == '-';
              if (end_minus) ++p;
              if (src_.compare(p, 2, "%}") == 0) {
                std::string text(src_.substr(pos_, e - pos_));
                if (raw_minus) {
                  size_t k = 0;
                  while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
                  text.erase(0, k);
                } else if (opts_.trim_blocks && !text.empty() && text[0] == '\n') {
                  text.erase(0, 1);
                }
                if (end_open_minus) {
                  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
                } else if (opts_.lstrip_blocks) {
                  size_t nl = text.find_last_of('\n');
                  size_t start = nl == std::string::npos ? std::string::npos : nl + 1;
                  if (start != std::string::npos) {
                    bool blank = true;
                    for (size_t i = start; i < text.size(); ++i) {
                      if (text[i] != ' ' && text[i] != '\t') blank = false;
                    }
                    if (blank) text.resize(start);
                  }
                }
                if (!text.empty()) out_.push_back(Token{TK::kData, text, line_, col_, {}});
                Advance(p + 2 - pos_);
                strip_next = end_minus;
                trim_next = opts_.trim_blocks && !end_minus;
                break;
              }
            }
            search = e + 2;
          }
          data_line = line_;
          data_col = col_;
          at_line_start_ = false;
          continue;
        }
        pos_ = save;
        line_ = sl;
        col_ = sc;
      }
      flush(minus, kind == '%' && opts_.lstrip_blocks && !plus);
      out_.push_back(Token{kind == '{' ? TK::kVarBegin : TK::kBlockBegin, "", tag_line, tag_col, {}});
      bool end_minus = false, end_plus = false;
      LexTag(kind == '{' ? "}}" : "%}", &end_minus, &end_plus);
      out_.push_back(Token{kind == '{' ? TK::kVarEnd : TK::kBlockEnd, "", end_line_, end_col_, {}});
      strip_next = end_minus;
      trim_next = kind == '%' && opts_.trim_blocks && !end_minus && !end_plus;
      data_line = line_;
      data_col = col_;
      at_line_start_ = false;
    }
    flush(false, false);
    // Jinja drops one trailing newline unless told to keep it.
    if (!opts_.keep_trailing_newline && !out_.empty() && out_.back().kind == TK::kData &&
        pos_ >= src_.size()) {
      std::string& t = out_.back().text;
      if (!t.empty() && t.back() == '\n') {
        t.pop_back();
        if (!t.empty() && t.back() == '\r') t.pop_back();
        if (t.empty()) out_.pop_back();
      }
    }
    out_.push_back(Token{TK::kEof, "", line_, col_, {}});
    return std::move(out_);
  }

 private:
  static bool IsName(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
  bool Peek(char c) const { return pos_ < src_.size() && src_[pos_] == c; }

  void Advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < src_.size(); ++i, ++pos_) {
      if (src_[pos_] == '\n') {
        ++line_;
        col_ = 1;
      } else {
        ++col_;
      }
    }
  }

  void SkipSpace() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) Advance(1);
  }

  // Appends template text up to `end` to `data`, applying the previous tag's whitespace control.
  void Append(std::string* data, size_t end, bool* strip_next, bool* trim_next) {
    if (*strip_next) {
      while (pos_ < end && std::isspace(static_cast<unsigned char>(src_[pos_]))) Advance(1);
      *strip_next = false;
    }
    if (*trim_next) {
      if (pos_ < end && src_[pos_] == '\n') {
        Advance(1);
      } else if (pos_ + 1 < end && src_[pos_] == '\r' && src_[pos_ + 1] == '\n') {
        Advance(2);
      }
      *trim_next = false;
    }
    if (data->empty()) at_line_start_ = pos_ == 0 || src_[pos_ - 1] == '\n';
    data->append(src_.substr(pos_, end - pos_));
    Advance(end - pos_);
  }

  [[noreturn]] void Fail(int line, int col, const std::string& msg) {
    throw TemplateError{name_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg};
  }

  void LexTag(const char* end, bool* end_minus, bool* end_plus) {
    int depth = 0;
    const int start_line = line_, start_col = col_;
    while (true) {
      SkipSpace();
      if (pos_ >= src_.size()) Fail(start_line, start_col, std::string("unexpected end of template, expected '") + end + "'");
      if (depth == 0) {
        end_line_ = line_;
        end_col_ = col_;
        if (src_.compare(pos_, 2, end) == 0) {
          Advance(2);
          return;
        }
        if ((src_[pos_] == '-' || src_[pos_] == '+') && src_.compare(pos_ + 1, 2, end) == 0) {
          (src_[pos_] == '-' ? *end_minus : *end_plus) = true;
          Advance(3);
          return;
        }
      }
      const int l = line_, c = col_;
      char ch = src_[pos_];
      if (std::isalpha(static_cast<unsigned char>(ch)) || ch == '_') {
        size_t s = pos_;
        while (pos_ < src_.size() && IsName(src_[pos_])) Advance(1);
        out_.push_back(Token{TK::kName, std::string(src_.substr(s, pos_ - s)), l, c, {}});
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(ch))) {
        size_t s = pos_;
        bool is_float = false;
        while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) Advance(1);
        if (pos_ + 1 < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
          is_float = true;
          Advance(1);
          while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) Advance(1);
        }
        if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
          size_t q = pos_ + 1;
          if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
          if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
            is_float = true;
            Advance(q - pos_);
            while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) Advance(1);
          }
        }
        std::string text;
        for (char d : src_.substr(s, pos_ - s)) {
          if (d != '_') text.push_back(d);
        }
        Token t{is_float ? TK::kFloat : TK::kInt, text, l, c, {}};
        if (is_float) {
          t.value = Value(std::strtod(text.c_str(), nullptr));
        } else {
          errno = 0;
          long long v = std::strtoll(text.c_str(), nullptr, 10);
          if (errno == ERANGE) Fail(l, c, "integer too large: " + text);
          t.value = Value(static_cast<int64_t>(v));
        }
        out_.push_back(std::move(t));
        continue;
      }
      if (ch == '\'' || ch == '"') {
        Advance(1);
        std::string value;
        while (true) {
          if (pos_ >= src_.size()) Fail(l, c, "unterminated string");
          char x = src_[pos_];
          if (x == ch) {
            Advance(1);
            break;
          }
          if (x == '\\' && pos_ + 1 < src_.size()) {
            char e = src_[pos_ + 1];
            Advance(2);
            switch (e) {
              case 'n': value += '\n'; break;
              case 't': value += '\t'; break;
              case 'r': value += '\r'; break;
              case '\\': value += '\\'; break;
              case '\'': value += '\''; break;
              case '"': value += '"'; break;
              case '0': value += '\0'; break;
              case '\n': break;  // a line continuation
              default:
                value += '\\';
                value += e;
            }
            continue;
          }
          value += x;
          Advance(1);
        }
        out_.push_back(Token{TK::kString, "", l, c, Value(std::move(value))});
        continue;
      }
      static const char* kOps[] = {"**", "//", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~",
                                   "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "=", ";"};
      const char* op = nullptr;
      for (const char* o : kOps) {
        if (src_.compare(pos_, std::strlen(o), o) == 0) {
          op = o;
          break;
        }
      }
      if (!op) Fail(l, c, std::string("unexpected character '") + ch + "'");
      if (*op == '(' || *op == '[' || *op == '{') ++depth;
      if ((*op == ')' || *op == ']' || *op == '}') && depth > 0) --depth;
      Advance(std::strlen(op));
      out_.push_back(Token{TK::kOp, op, l, c, {}});
    }
  }

  const std::string& name_;
  std::string_view src_;
  const Options& opts_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  int end_line_ = 1, end_col_ = 1;  // where the last tag's closing marker began
  bool at_line_start_ = true;
  std::vector<Token> out_;
};

class Parser {
 public:
  Parser(const std::string& name, std::vector<Token> tokens, const Options& o)
      : name_(name), t_(std::move(tokens)), opts_(o) {}

  Body Template() {
    Body body = Subparse({});
    if (Cur().kind != TK::kEof) Fail(Cur(), "unexpected '" + Cur().text + "'");
    return body;
  }

 private:
  const Token& Cur() const { return t_[i_]; }
  const Token& Next() const { return t_[i_ + 1 < t_.size() ? i_ + 1 : i_]; }
  bool IsOp(const char* op) const { return Cur().kind == TK::kOp && Cur().text == op; }
  bool IsName(const char* n) const { return Cur().kind == TK::kName && Cur().text == n; }
  void Skip() { if (i_ + 1 < t_.size()) ++i_; }

  [[noreturn]] void Fail(const Token& t, const std::string& msg) const {
    throw TemplateError{name_ + ":" + std::to_string(t.line) + ":" + std::to_string(t.col) + ": " + msg};
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TK::kBlockEnd: return "end of statement block";
      case TK::kVarEnd: return "end of print statement";
      case TK::kEof: return "end of template";
      case TK::kString: return "string";
      default: return "'" + t.text + "'";
    }
  }
  void ExpectOp(const char* op) {
    if (!IsOp(op)) Fail(Cur(), std::string("expected '") + op + "', got " + Describe(Cur()));
    Skip();
  }
  std::string ExpectName() {
    if (Cur().kind != TK::kName) Fail(Cur(), "expected a name, got " + Describe(Cur()));
    std::string n = Cur().text;
    Skip();
    return n;
  }
  void ExpectBlockEnd() {
    if (Cur().kind != TK::kBlockEnd) Fail(Cur(), "expected end of statement block, got " + Describe(Cur()));
    Skip();
  }

  template <typename T>
  std::unique_ptr<T> Make(const Token& at) {
    auto p = std::make_unique<T>();
    p->line = at.line;
    p->col = at.col;
    return p;
  }
  ExprP E(EK k, const Token& at) {
    auto e = Make<Expr>(at);
    e->kind = k;
    return e;
  }

  // Statements until a block tag whose first name is in `ends` (left unconsumed, after its
  // "{%"), or the end.
  Body Subparse(const std::set<std::string>& ends) {
    Body body;
    while (true) {
      const Token& t = Cur();
      if (t.kind == TK::kEof) {
        if (!ends.empty()) {
          std::string expected;
          for (const auto& e : ends) expected += (expected.empty() ? "'" : " or '") + e + "'";
          Fail(t, "unexpected end of template, expected " + expected);
        }
        return body;
      }
      if (t.kind == TK::kData) {
        auto s = Make<Stmt>(t);
        s->kind = SK::kData;
        s->text = t.text;
        body.push_back(std::move(s));
        Skip();
        continue;
      }
      if (t.kind == TK::kVarBegin) {
        auto s = Make<Stmt>(t);
        s->kind = SK::kOutput;
        Skip();
        s->expr = ParseTuple(false);
        if (Cur().kind != TK::kVarEnd) Fail(Cur(), "expected end of print statement, got " + Describe(Cur()));
        Skip();
        body.push_back(std::move(s));
        continue;
      }
      if (t.kind == TK::kBlockBegin) {
        const Token& kw = Next();
        if (kw.kind != TK::kName) Fail(kw, "expected a statement name, got " + Describe(kw));
        if (ends.count(kw.text)) {
          Skip();  // "{%"; the caller reads the name
          return body;
        }
        Skip();
        body.push_back(ParseStatement());
        continue;
      }
      Fail(t, "unexpected " + Describe(t));
    }
  }

  StmtP ParseStatement() {
    const Token& kw = Cur();
    if (++nesting_ > 200) Fail(kw, "blocks nest too deep");
    struct Leave {
      int& n;
      ~Leave() { --n; }
    } leave{nesting_};
    const std::string k = kw.text;
    Skip();
    auto s = Make<Stmt>(kw);
    if (k == "if") {
      s->kind = SK::kIf;
      ExprP cond = ParseTuple(false);
      ExpectBlockEnd();
      while (true) {
        Body body = Subparse({"elif", "else", "endif"});
        s->branches.emplace_back(std::move(cond), std::move(body));
        std::string which = ExpectName();
        if (which == "elif") {
          cond = ParseTuple(false);
          ExpectBlockEnd();
          continue;
        }
        if (which == "else") {
          ExpectBlockEnd();
          s->else_body = Subparse({"endif"});
          ExpectName();
        }
        ExpectBlockEnd();
        return s;
      }
    }
    if (k == "for") {
      s->kind = SK::kFor;
      s->target = ParseAssignTarget();
      if (!IsName("in")) Fail(Cur(), "expected 'in', got " + Describe(Cur()));
      Skip();
      s->expr = ParseTuple(false, /*no_cond=*/true);
      if (IsName("if")) {
        Skip();
        s->cond = ParseExpression();
      }
      if (IsName("recursive")) Fail(Cur(), "recursive loops are not supported");
      ExpectBlockEnd();
      s->body = Subparse({"else", "endfor"});
      s->uses_loop = UsesName(s->body, "loop");
      if (ExpectName() == "else") {
        ExpectBlockEnd();
        s->else_body = Subparse({"endfor"});
        ExpectName();
      }
      ExpectBlockEnd();
      return s;
    }
    if (k == "set") {
      ExprP target = ParseAssignTarget(/*allow_attr=*/true);
      if (IsOp("=")) {
        Skip();
        s->kind = SK::kSet;
        s->target = std::move(target);
        s->expr = ParseTuple(false);
        ExpectBlockEnd();
        return s;
      }
      s->kind = SK::kSetBlock;
      s->target = std::move(target);
      if (IsOp("|")) s->expr = ParseFilterChain(nullptr);
      ParseBody(s.get(), "endset");
      return s;
    }
    if (k == "macro") {
      s->kind = SK::kMacro;
      s->text = ExpectName();
      ParseSignature(s.get());
      ExpectBlockEnd();
      s->body = Subparse({"endmacro"});
      ExpectName();
      if (Cur().kind == TK::kName) Skip();  // {% endmacro name %}
      ExpectBlockEnd();
      ScanUses(s->body, s.get());
      return s;
    }
    if (opts_.dbt_tags && (k == "test" || k == "materialization" || k == "docs")) {
      s->kind = SK::kMacro;
      std::string name = ExpectName();
      if (k == "test") {
        s->text = "test_" + name;
        ParseSignature(s.get());
      } else if (k == "materialization") {
        std::string adapter = "default";
        while (IsOp(",")) {  // , adapter='x' [, supported_languages=[...]]
          Skip();
          std::string key = ExpectName();
          ExpectOp("=");
          ExprP value = ParseExpression();
          if (key == "adapter") {
            if (value->kind != EK::kConst || !value->value.is_string()) {
              Fail(kw, "materialization adapter must be a string");
            }
            adapter = value->value.as_string();
          }
        }
        s->text = "materialization_" + name + "_" + adapter;
      } else {
        s->text = "docs_" + name;
      }
      ParseBody(s.get(), "end" + k);
      ScanUses(s->body, s.get());
      return s;
    }
    if (k == "call") {
      s->kind = SK::kCallBlock;
      if (IsOp("(")) ParseSignature(s.get());
      s->expr = ParseExpression();
      if (s->expr->kind != EK::kCall) Fail(kw, "expected a call after {% call %}");
      ParseBody(s.get(), "endcall");
      return s;
    }
    if (k == "filter") {
      s->kind = SK::kFilterBlock;
      s->expr = ParseFilterChain(nullptr, /*first_bar=*/false);
      ParseBody(s.get(), "endfilter");
      return s;
    }
    if (k == "do") {
      s->kind = SK::kDo;
      s->expr = ParseTuple(false);
      ExpectBlockEnd();
      return s;
    }
    if (k == "with") {
      s->kind = SK::kWith;
      while (Cur().kind != TK::kBlockEnd) {
        if (!s->assigns.empty()) ExpectOp(",");
        ExprP target = ParseAssignTarget();
        ExpectOp("=");
        s->assigns.emplace_back(std::move(target), ParseExpression());
      }
      ParseBody(s.get(), "endwith");
      return s;
    }
    if (k == "import") {
      s->kind = SK::kImport;
      s->expr = ParseExpression();
      if (!IsName("as")) Fail(Cur(), "expected 'as', got " + Describe(Cur()));
      Skip();
      s->text = ExpectName();
      s->with_context = ParseContextModifier(false);
      ExpectBlockEnd();
      return s;
    }
    if (k == "from") {
      s->kind = SK::kFromImport;
      s->expr = ParseExpression();
      if (!IsName("import")) Fail(Cur(), "expected 'import', got " + Describe(Cur()));
      Skip();
      while (true) {
        if (IsName("with") || IsName("without")) break;
        std::string n = ExpectName();
        std::string alias = n;
        if (IsName("as")) {
          Skip();
          alias = ExpectName();
        }
        s->names.emplace_back(n, alias);
        if (!IsOp(",")) break;
        Skip();
      }
      s->with_context = ParseContextModifier(false);
      ExpectBlockEnd();
      return s;
    }
    if (k == "include") {
      s->kind = SK::kInclude;
      s->expr = ParseExpression();
      if (IsName("ignore") && Next().kind == TK::kName && Next().text == "missing") {
        Skip();
        Skip();
        s->ignore_missing = true;
      }
      s->with_context = ParseContextModifier(true);
      ExpectBlockEnd();
      return s;
    }
    if (k == "break" || k == "continue") {
      s->kind = k == "break" ? SK::kBreak : SK::kContinue;
      ExpectBlockEnd();
      return s;
    }
    Fail(kw, "unknown tag '" + k + "'");
  }

  // The end of a block tag, the body up to `end`, and the end tag.
  void ParseBody(Stmt* s, const std::string& end) {
    ExpectBlockEnd();
    s->body = Subparse({end});
    ExpectName();
    ExpectBlockEnd();
  }

  bool ParseContextModifier(bool dflt) {
    if ((IsName("with") || IsName("without")) && Next().kind == TK::kName && Next().text == "context") {
      bool with = IsName("with");
      Skip();
      Skip();
      return with;
    }
    return dflt;
  }

  void ParseSignature(Stmt* s) {
    ExpectOp("(");
    while (!IsOp(")")) {
      if (!s->params.empty()) ExpectOp(",");
      if (IsOp(")")) break;
      Param p;
      p.name = ExpectName();
      if (IsOp("=")) {
        Skip();
        p.default_value = ParseExpression();
      } else if (!s->params.empty() && s->params.back().default_value) {
        Fail(Cur(), "non-default argument follows default argument");
      }
      s->params.push_back(std::move(p));
    }
    Skip();
  }

  // Whether `body` refers to `name` (not counting the bodies of loops inside, whose `loop` is
  // their own; macros inside count, as they may be called here).
  static bool NameIn(const Expr* e, const std::string& name) {
    if (!e) return false;
    if (e->kind == EK::kName && e->name == name) return true;
    for (const Expr* c : {e->a.get(), e->b.get(), e->c.get(), e->d.get(), e->star.get(), e->dstar.get()}) {
      if (NameIn(c, name)) return true;
    }
    for (const auto& i : e->items) {
      if (NameIn(i.get(), name)) return true;
    }
    for (const auto& [k, v] : e->kwargs) {
      if (NameIn(v.get(), name)) return true;
    }
    for (const auto& [k, v] : e->ops) {
      if (NameIn(v.get(), name)) return true;
    }
    return false;
  }
  static bool UsesName(const Body& body, const std::string& name) {
    for (const auto& s : body) {
      for (const Expr* e : {s->expr.get(), s->target.get(), s->cond.get()}) {
        if (NameIn(e, name)) return true;
      }
      for (const auto& [c, b] : s->branches) {
        if (NameIn(c.get(), name) || UsesName(b, name)) return true;
      }
      for (const auto& [t, v] : s->assigns) {
        if (NameIn(v.get(), name)) return true;
      }
      for (const auto& p : s->params) {
        if (NameIn(p.default_value.get(), name)) return true;
      }
      if (s->kind != SK::kFor && UsesName(s->body, name)) return true;
      if (UsesName(s->else_body, name)) return true;
    }
    return false;
  }

  static void ScanExpr(const Expr* e, Stmt* m) {
    if (!e) return;
    if (e->kind == EK::kName) {
      if (e->name == "caller") m->uses_caller = true;
      if (e->name == "varargs") m->uses_varargs = true;
      if (e->name == "kwargs") m->uses_kwargs = true;
    }
    for (const Expr* c : {e->a.get(), e->b.get(), e->c.get(), e->d.get(), e->star.get(), e->dstar.get()}) ScanExpr(c, m);
    for (const auto& i : e->items) ScanExpr(i.get(), m);
    for (const auto& [k, v] : e->kwargs) ScanExpr(v.get(), m);
    for (const auto& [k, v] : e->ops) ScanExpr(v.get(), m);
  }
  static void ScanUses(const Body& body, Stmt* m) {
    for (const auto& s : body) {
      for (const Expr* e : {s->expr.get(), s->target.get(), s->cond.get()}) ScanExpr(e, m);
      for (const auto& [c, b] : s->branches) {
        ScanExpr(c.get(), m);
        ScanUses(b, m);
      }
      for (const auto& [t, v] : s->assigns) ScanExpr(v.get(), m);
      for (const auto& p : s->params) ScanExpr(p.default_value.get(), m);
      if (s->kind != SK::kMacro) {  // a nested macro's own caller is its own
        ScanUses(s->body, m);
      }
      ScanUses(s->else_body, m);
    }
  }

  // A name, or names separated by commas (a, b), optionally parenthesized; with attributes
  // (ns.x) when `allow_attr`.
  ExprP ParseAssignTarget(bool allow_attr = false) {
    const Token& at = Cur();
    auto one = [&]() -> ExprP {
      if (IsOp("(")) {
        Skip();
        ExprP inner = ParseAssignTarget(allow_attr);
        ExpectOp(")");
        return inner;
      }
      const Token& nt = Cur();
      auto n = E(EK::kName, nt);
      n->name = ExpectName();
      if (allow_attr && IsOp(".")) {
        Skip();
        auto a = E(EK::kAttr, nt);
        a->a = std::move(n);
        a->name = ExpectName();
        return a;
      }
      return n;
    };
    ExprP first = one();
    if (!IsOp(",")) return first;
    auto t = E(EK::kTuple, at);
    t->items.push_back(std::move(first));
    while (IsOp(",")) {
      Skip();
      if (Cur().kind != TK::kName && !IsOp("(")) break;
      t->items.push_back(one());
    }
    return t;
  }

  // A filter chain: |name(args)|name2 ... over `base` (null: applied to a block's text).
  ExprP ParseFilterChain(ExprP base, bool first_bar = true) {
    bool first = true;
    while ((first && !first_bar) || IsOp("|")) {
      if (!(first && !first_bar)) Skip();
      first = false;
      base = ParseFilter(std::move(base));
    }
    return base;
  }

  ExprP ParseFilter(ExprP base) {
    const Token& at = Cur();
    auto f = E(EK::kFilter, at);
    f->name = ExpectName();
    while (IsOp(".")) {  // dotted filter names
      Skip();
      f->name += "." + ExpectName();
    }
    f->a = std::move(base);
    if (IsOp("(")) ParseCallArgs(f.get());
    return f;
  }

  // Expressions, tuples without parentheses when `explicit_parens` is false: "a, b".
  ExprP ParseTuple(bool simplified, bool no_cond = false) {
    const Token& at = Cur();
    auto parse = [&]() { return simplified ? ParsePrimary() : ParseExpression(!no_cond); };
    std::vector<ExprP> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) {
        if (!IsOp(",")) break;
        Skip();
        is_tuple = true;
        if (Cur().kind == TK::kVarEnd || Cur().kind == TK::kBlockEnd || IsOp(")") || IsName("if") ||
            IsName("in")) {
          break;
        }
      }
      items.push_back(parse());
    }
    if (!is_tuple && items.size() == 1) return std::move(items[0]);
    auto t = E(EK::kTuple, at);
    t->items = std::move(items);
    return t;
  }

  ExprP ParseExpression(bool with_cond = true) {
    return with_cond ? ParseCondExpr() : ParseOr();
  }

  ExprP ParseCondExpr() {
    ExprP e = ParseOr();
    while (IsName("if")) {
      const Token& at = Cur();
      Skip();
      ExprP cond = ParseOr();
      ExprP other;
      if (IsName("else")) {
        Skip();
        other = ParseCondExpr();
      }
      auto c = E(EK::kCond, at);
      c->a = std::move(cond);
      c->b = std::move(e);
      c->c = std::move(other);
      e = std::move(c);
    }
    return e;
  }

  // `next (word next)*` as a left-leaning tree of `kind` nodes: or over and, and over not.
  ExprP ParseChain(const char* word, EK kind, ExprP (Parser::*next)()) {
    ExprP e = (this->*next)();
    while (IsName(word)) {
      const Token& at = Cur();
      Skip();
      auto o = E(kind, at);
      o->a = std::move(e);
      o->b = (this->*next)();
      e = std::move(o);
    }
    return e;
  }
  ExprP ParseOr() { return ParseChain("or", EK::kOr, &Parser::ParseAnd); }
  ExprP ParseAnd() { return ParseChain("and", EK::kAnd, &Parser::ParseNot); }

  ExprP ParseNot() {
    if (IsName("not")) {
      const Token& at = Cur();
      Skip();
      auto n = E(EK::kNot, at);
      n->a = ParseNot();
      return n;
    }
    return ParseCompare();
  }

  ExprP ParseCompare() {
    const Token& at = Cur();
    ExprP e = ParseMath1();
    std::vector<std::pair<std::string, ExprP>> ops;
    while (true) {
      std::string op;
      if (Cur().kind == TK::kOp && (Cur().text == "==" || Cur().text == "!=" || Cur().text == "<" ||
                                    Cur().text == ">" || Cur().text == "<=" || Cur().text == ">=")) {
        op = Cur().text;
        Skip();
      } else if (IsName("in")) {
        op = "in";
        Skip();
      } else if (IsName("not") && Next().kind == TK::kName && Next().text == "in") {
        op = "not in";
        Skip();
        Skip();
      } else {
        break;
      }
      ops.emplace_back(op, ParseMath1());
    }
    if (ops.empty()) return e;
    auto c = E(EK::kCompare, at);
    c->a = std::move(e);
    c->ops = std::move(ops);
    return c;
  }

  ExprP Binary(const Token& at, const std::string& op, ExprP l, ExprP r) {
    auto b = E(EK::kBinary, at);
    b->name = op;
    b->a = std::move(l);
    b->b = std::move(r);
    return b;
  }

  ExprP ParseMath1() {
    ExprP e = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      const Token at = Cur();
      Skip();
      e = Binary(at, at.text, std::move(e), ParseConcat());
    }
    return e;
  }

  ExprP ParseConcat() {
    const Token& at = Cur();
    ExprP e = ParseMath2();
    if (!IsOp("~")) return e;
    auto c = E(EK::kConcat, at);
    c->items.push_back(std::move(e));
    while (IsOp("~")) {
      Skip();
      c->items.push_back(ParseMath2());
    }
    return c;
  }

  ExprP ParseMath2() {
    ExprP e = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const Token at = Cur();
      Skip();
      e = Binary(at, at.text, std::move(e), ParsePow());
    }
    return e;
  }

  ExprP ParsePow() {
    ExprP e = ParseUnary();
    while (IsOp("**")) {
      const Token at = Cur();
      Skip();
      e = Binary(at, "**", std::move(e), ParseUnary());
    }
    return e;
  }

  ExprP ParseUnary(bool with_filter = true) {
    const Token& at = Cur();
    if (++nesting_ > 200) Fail(at, "the expression nests too deep");
    struct Leave {
      int& n;
      ~Leave() { --n; }
    } leave{nesting_};
    ExprP e;
    if (IsOp("-")) {
      Skip();
      e = E(EK::kNeg, at);
      e->a = ParseUnary(false);
    } else if (IsOp("+")) {
      Skip();
      e = E(EK::kPos, at);
      e->a = ParseUnary(false);
    } else {
      e = ParsePrimary();
    }
    e = ParsePostfix(std::move(e));
    if (with_filter) e = ParseFilterExpr(std::move(e));
    return e;
  }

  ExprP ParsePrimary() {
    const Token& t = Cur();
    if (t.kind == TK::kName) {
      Skip();
      if (t.text == "true" || t.text == "True") return Const(t, Value(true));
      if (t.text == "false" || t.text == "False") return Const(t, Value(false));
      if (t.text == "none" || t.text == "None") return Const(t, Value::None());
      auto n = E(EK::kName, t);
      n->name = t.text;
      return n;
    }
    if (t.kind == TK::kString) {
      std::string s = t.value.as_string();
      Skip();
      while (Cur().kind == TK::kString) {  // adjacent literals join
        s += Cur().value.as_string();
        Skip();
      }
      return Const(t, Value(std::move(s)));
    }
    if (t.kind == TK::kInt || t.kind == TK::kFloat) {
      Skip();
      return Const(t, t.value);
    }
    if (IsOp("(")) {
      Skip();
      if (IsOp(")")) {
        Skip();
        auto e = E(EK::kTuple, t);
        return e;
      }
      ExprP e = ParseTuple(false);
      ExpectOp(")");
      return e;
    }
    if (IsOp("[")) {
      Skip();
      auto l = E(EK::kList, t);
      while (!IsOp("]")) {
        if (!l->items.empty()) ExpectOp(",");
        if (IsOp("]")) break;
        l->items.push_back(ParseExpression());
      }
      Skip();
      return l;
    }
    if (IsOp("{")) {
      Skip();
      auto d = E(EK::kDict, t);
      while (!IsOp("}")) {
        if (!d->items.empty()) ExpectOp(",");
        if (IsOp("}")) break;
        d->items.push_back(ParseExpression());
        ExpectOp(":");
        d->items.push_back(ParseExpression());
      }
      Skip();
      return d;
    }
    Fail(t, "unexpected " + Describe(t));
  }

  ExprP Const(const Token& at, Value v) {
    auto e = E(EK::kConst, at);
    e->value = std::move(v);
    return e;
  }

  ExprP ParsePostfix(ExprP e) {
    while (true) {
      const Token& at = Cur();
      if (IsOp(".")) {
        Skip();
        if (Cur().kind == TK::kInt) {
          auto item = E(EK::kItem, at);
          item->a = std::move(e);
          item->b = Const(Cur(), Cur().value);
          Skip();
          e = std::move(item);
          continue;
        }
        auto a = E(EK::kAttr, at);
        a->a = std::move(e);
        a->name = ExpectName();
        e = std::move(a);
      } else if (IsOp("[")) {
        Skip();
        e = ParseSubscript(std::move(e), at);
      } else if (IsOp("(")) {
        auto c = E(EK::kCall, at);
        c->a = std::move(e);
        ParseCallArgs(c.get());
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  ExprP ParseSubscript(ExprP base, const Token& at) {
    std::vector<ExprP> parts(3);
    bool slice = false;
    int idx = 0;
    while (!IsOp("]")) {
      if (IsOp(":")) {
        slice = true;
        Skip();
        if (++idx > 2) Fail(Cur(), "invalid slice");
        continue;
      }
      if (parts[idx]) Fail(Cur(), "expected ']' or ':'");
      parts[idx] = slice ? ParseExpression() : ParseTuple(false);
    }
    Skip();
    if (!slice) {
      if (!parts[0]) Fail(at, "expected a subscript");
      auto item = E(EK::kItem, at);
      item->a = std::move(base);
      item->b = std::move(parts[0]);
      return item;
    }
    auto s = E(EK::kSlice, at);
    s->a = std::move(base);
    s->b = std::move(parts[0]);
    s->c = std::move(parts[1]);
    s->d = std::move(parts[2]);
    return s;
  }

  void ParseCallArgs(Expr* call) {
    ExpectOp("(");
    bool first = true;
    while (!IsOp(")")) {
      if (!first) ExpectOp(",");
      first = false;
      if (IsOp(")")) break;
      if (IsOp("*")) {
        Skip();
        call->star = ParseExpression();
      } else if (IsOp("**")) {
        Skip();
        call->dstar = ParseExpression();
      } else if (Cur().kind == TK::kName && Next().kind == TK::kOp && Next().text == "=") {
        std::string name = Cur().text;
        Skip();
        Skip();
        call->kwargs.emplace_back(name, ParseExpression());
      } else {
        if (!call->kwargs.empty()) Fail(Cur(), "positional argument follows keyword argument");
        call->items.push_back(ParseExpression());
      }
    }
    Skip();
  }

  ExprP ParseFilterExpr(ExprP e) {
    while (true) {
      if (IsOp("|")) {
        Skip();
        e = ParseFilter(std::move(e));
      } else if (IsName("is")) {
        const Token& at = Cur();
        Skip();
        auto t = E(EK::kTest, at);
        if (IsName("not")) {
          Skip();
          t->negated = true;
        }
        t->name = ExpectName();
        while (IsOp(".")) {
          Skip();
          t->name += "." + ExpectName();
        }
        t->a = std::move(e);
        if (IsOp("(")) {
          ParseCallArgs(t.get());
        } else if (Cur().kind == TK::kString || Cur().kind == TK::kInt || Cur().kind == TK::kFloat ||
                   (Cur().kind == TK::kName && !IsName("else") && !IsName("or") && !IsName("and") &&
                    !IsName("if") && !IsName("is") && !IsName("in") && !IsName("not")) ||
                   IsOp("[") || IsOp("{")) {
          // `x is divisibleby 3`, `x is sameas false`: one argument without parentheses.
          t->items.push_back(ParsePostfix(ParsePrimary()));
        }
        e = std::move(t);
      } else if (IsOp("(")) {
        const Token& at = Cur();
        auto c = E(EK::kCall, at);
        c->a = std::move(e);
        ParseCallArgs(c.get());
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  const std::string& name_;
  std::vector<Token> t_;
  const Options& opts_;
  size_t i_ = 0;
  int nesting_ = 0;  // expressions being parsed inside each other
};

}  // namespace

ast::Body ParseTemplate(const std::string& name, std::string_view source, const Options& options) {
  Lexer lexer(name, source, options);
  Parser parser(name, lexer.Run(), options);
  return parser.Template();
}

}  // namespace lakemesh::jinja
