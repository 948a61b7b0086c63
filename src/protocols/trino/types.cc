#include "protocols/trino/types.h"

#include <array>
#include <cstring>

#include "base/coding.h"

namespace lakemesh::trino {
namespace {

using Json = nlohmann::json;
using sql::ColumnType;
using Nested = sql::ResultColumn::Nested;

Json LongArg(int64_t v) { return {{"kind", "LONG"}, {"value", v}}; }
Json TypeArg(const sql::ResultColumn& c) { return {{"kind", "TYPE"}, {"value", TypeSignature(c)}}; }

int Digits(const sql::ResultColumn& c, int fallback) { return c.precision > 0 ? c.precision : fallback; }

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (ch) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", ch);
        out->append(buf);
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

// "12:34:56.5" with exactly `digits` fractional digits ("12:34:56.500000"); text without a
// time part (infinity) is kept.
std::string FixFraction(std::string_view t, int digits) {
  std::string s(t);
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return s;
  size_t end = colon + 3;  // ss
  if (end > s.size()) return s;
  std::string frac;
  size_t pos = end;
  if (pos < s.size() && s[pos] == '.') {
    size_t q = pos + 1;
    while (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) ++q;
    frac = s.substr(pos + 1, q - pos - 1);
    s.erase(pos, q - pos);
  }
  frac.resize(static_cast<size_t>(digits), '0');
  if (digits > 0) s.insert(end, "." + frac);
  return s;
}

// A nested value from DuckDB's JSON into Trino's: rows as arrays, decimals as strings.
using OJson = nlohmann::ordered_json;
OJson Convert(const sql::ResultColumn& c, const OJson& v) {
  if (v.is_null()) return v;
  switch (c.nested) {
    case Nested::kList: {
      if (!v.is_array() || c.children.empty()) return v;
      OJson out = OJson::array();
      for (const OJson& e : v) out.push_back(Convert(c.children[0], e));
      return out;
    }
    case Nested::kMap: {
      if (!v.is_object() || c.children.size() != 2) return v;
      OJson out = OJson::object();
      for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = Convert(c.children[1], it.value());
      return out;
    }
    case Nested::kStruct: {
      if (!v.is_object()) return v;
      OJson out = OJson::array();
      for (const auto& f : c.children) {
        auto it = v.find(f.name);
        out.push_back(it == v.end() ? OJson() : Convert(f, *it));
      }
      return out;
    }
    case Nested::kNone: break;
  }
  if (c.type == ColumnType::kNumeric && v.is_number()) return v.dump();
  return v;
}

bool NeedsConversion(const sql::ResultColumn& c) {
  if (c.nested == Nested::kStruct) return true;
  if (c.nested == Nested::kNone) return c.type == ColumnType::kNumeric;
  for (const auto& k : c.children) {
    if (NeedsConversion(k)) return true;
  }
  return false;
}

}  // namespace

std::string TypeName(const sql::ResultColumn& c) {
  switch (c.nested) {
    case Nested::kList:
      return "array(" + (c.children.empty() ? std::string("varchar") : TypeName(c.children[0])) + ")";
    case Nested::kMap:
      if (c.children.size() == 2) {
        return "map(" + TypeName(c.children[0]) + ", " + TypeName(c.children[1]) + ")";
      }
      return "varchar";
    case Nested::kStruct: {
      std::string s = "row(";
      for (size_t i = 0; i < c.children.size(); ++i) {
        s += (i ? ", " : "") + c.children[i].name + " " + TypeName(c.children[i]);
      }
      return s + ")";
    }
    case Nested::kNone: break;
  }
  switch (c.type) {
    case ColumnType::kBool: return "boolean";
    case ColumnType::kInt16: return "smallint";
    case ColumnType::kInt32: return "integer";
    case ColumnType::kInt64: return "bigint";
    case ColumnType::kFloat32: return "real";
    case ColumnType::kFloat64: return "double";
    case ColumnType::kNumeric:
      return "decimal(" + std::to_string(Digits(c, 38)) + "," + std::to_string(c.scale) + ")";
    case ColumnType::kBytes: return "varbinary";
    case ColumnType::kDate: return "date";
    case ColumnType::kTime: return "time(" + std::to_string(Digits(c, 6)) + ")";
    case ColumnType::kTimestamp: return "timestamp(" + std::to_string(c.precision) + ")";
    case ColumnType::kTimestamptz:
      return "timestamp(" + std::to_string(c.precision) + ") with time zone";
    case ColumnType::kUuid: return "uuid";
    case ColumnType::kJson: return "json";
    case ColumnType::kText:
    case ColumnType::kInterval:
    case ColumnType::kOther: return "varchar";
  }
  return "varchar";
}

Json TypeSignature(const sql::ResultColumn& c) {
  Json args = Json::array();
  std::string raw;
  switch (c.nested) {
    case Nested::kList:
      raw = "array";
      if (!c.children.empty()) args.push_back(TypeArg(c.children[0]));
      break;
    case Nested::kMap:
      raw = "map";
      for (const auto& k : c.children) args.push_back(TypeArg(k));
      break;
    case Nested::kStruct:
      raw = "row";
      for (const auto& f : c.children) {
        args.push_back({{"kind", "NAMED_TYPE"},
                        {"value", {{"fieldName", {{"name", f.name}}},
                                   {"typeSignature", TypeSignature(f)}}}});
      }
      break;
    case Nested::kNone:
      switch (c.type) {
        case ColumnType::kNumeric:
          raw = "decimal";
          args.push_back(LongArg(Digits(c, 38)));
          args.push_back(LongArg(c.scale));
          break;
        case ColumnType::kTime:
          raw = "time";
          args.push_back(LongArg(Digits(c, 6)));
          break;
        case ColumnType::kTimestamp:
          raw = "timestamp";
          args.push_back(LongArg(c.precision));
          break;
        case ColumnType::kTimestamptz:
          raw = "timestamp with time zone";
          args.push_back(LongArg(c.precision));
          break;
        default: {
          raw = TypeName(c);
          if (raw == "varchar") args.push_back(LongArg(2147483647));
        }
      }
  }
  if (raw.empty()) raw = "varchar";
  return {{"rawType", raw}, {"arguments", args}};
}

void AppendValue(const sql::ResultColumn& c, std::optional<std::string_view> v, std::string* out) {
  if (!v) {
    out->append("null");
    return;
  }
  if (c.nested != Nested::kNone) {
    if (!NeedsConversion(c)) {
      out->append(*v);  // DuckDB's JSON is Trino's
      return;
    }
    OJson parsed = OJson::parse(*v, nullptr, false);
    if (parsed.is_discarded()) {
      AppendJsonString(*v, out);
      return;
    }
    out->append(Convert(c, parsed).dump());
    return;
  }
  switch (c.type) {
    case ColumnType::kBool:
      out->append(*v == "t" || *v == "true" ? "true" : "false");
      return;
    case ColumnType::kInt16:
    case ColumnType::kInt32:
    case ColumnType::kInt64:
      out->append(*v);
      return;
    case ColumnType::kFloat32:
    case ColumnType::kFloat64:
      if (*v == "nan" || *v == "-nan") {
        out->append("\"NaN\"");
      } else if (*v == "inf") {
        out->append("\"Infinity\"");
      } else if (*v == "-inf") {
        out->append("\"-Infinity\"");
      } else {
        out->append(*v);
      }
      return;
    case ColumnType::kBytes: {
      std::string_view hex = *v;
      if (hex.substr(0, 2) == "\\x") hex.remove_prefix(2);
      std::string bytes;
      bytes.reserve(hex.size() / 2);
      auto nibble = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return 0;
      };
      for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        bytes.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
      }
      AppendJsonString(Base64Encode(bytes), out);
      return;
    }
    case ColumnType::kTime:
      AppendJsonString(FixFraction(*v, Digits(c, 6)), out);
      return;
    case ColumnType::kTimestamp:
      AppendJsonString(FixFraction(*v, c.precision), out);
      return;
    case ColumnType::kTimestamptz: {
      std::string_view t = *v;
      // The session's zone is UTC: DuckDB writes "+00" after the time.
      if (t.size() > 3 && t.substr(t.size() - 3) == "+00") {
        AppendJsonString(FixFraction(t.substr(0, t.size() - 3), c.precision) + " UTC", out);
      } else {
        AppendJsonString(t, out);
      }
      return;
    }
    default:
      AppendJsonString(*v, out);
  }
}

namespace {

struct Named {
  const char* name;
  int code;
  const char* type;
};

const Named kCodes[] = {
    {"GENERIC_USER_ERROR", 0, "USER_ERROR"},
    {"SYNTAX_ERROR", 1, "USER_ERROR"},
    {"USER_CANCELED", 3, "USER_ERROR"},
    {"PERMISSION_DENIED", 4, "USER_ERROR"},
    {"NOT_FOUND", 5, "USER_ERROR"},
    {"FUNCTION_NOT_FOUND", 6, "USER_ERROR"},
    {"INVALID_FUNCTION_ARGUMENT", 7, "USER_ERROR"},
    {"DIVISION_BY_ZERO", 8, "USER_ERROR"},
    {"INVALID_CAST_ARGUMENT", 9, "USER_ERROR"},
    {"NOT_SUPPORTED", 13, "USER_ERROR"},
    {"INVALID_SESSION_PROPERTY", 14, "USER_ERROR"},
    {"TRANSACTION_CONFLICT", 17, "USER_ERROR"},
    {"NUMERIC_VALUE_OUT_OF_RANGE", 19, "USER_ERROR"},
    {"NOT_IN_TRANSACTION", 21, "USER_ERROR"},
    {"READ_ONLY_VIOLATION", 23, "USER_ERROR"},
    {"CATALOG_NOT_FOUND", 44, "USER_ERROR"},
    {"SCHEMA_NOT_FOUND", 45, "USER_ERROR"},
    {"TABLE_NOT_FOUND", 46, "USER_ERROR"},
    {"COLUMN_NOT_FOUND", 47, "USER_ERROR"},
    {"TABLE_ALREADY_EXISTS", 50, "USER_ERROR"},
    {"MISSING_SCHEMA_NAME", 57, "USER_ERROR"},
    {"TYPE_MISMATCH", 58, "USER_ERROR"},
    {"INVALID_PARAMETER_USAGE", 80, "USER_ERROR"},
    {"UNKNOWN_TRANSACTION", 20, "USER_ERROR"},
    {"MISSING_CATALOG_NAME", 56, "USER_ERROR"},
    {"GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR"},
};

ErrorCode Code(std::string_view name) {
  for (const auto& n : kCodes) {
    if (name == n.name) return {n.name, n.code, n.type};
  }
  return {"GENERIC_USER_ERROR", 0, "USER_ERROR"};
}

}  // namespace

ErrorCode NamedError(std::string_view name) {
  if (name == "EXCEEDED_TIME_LIMIT") return {"EXCEEDED_TIME_LIMIT", 131075, "INSUFFICIENT_RESOURCES"};
  if (name == "EXCEEDED_LOCAL_MEMORY_LIMIT") {
    return {"EXCEEDED_LOCAL_MEMORY_LIMIT", 131079, "INSUFFICIENT_RESOURCES"};
  }
  return Code(name);
}

ErrorCode ErrorFor(const sql::SqlError& e) {
  const std::string& s = e.sqlstate;
  if (s == "42601") return Code("SYNTAX_ERROR");
  if (s == "42P01") return Code("TABLE_NOT_FOUND");
  if (s == "3F000") return Code("SCHEMA_NOT_FOUND");
  if (s == "42703") return Code("COLUMN_NOT_FOUND");
  if (s == "42883") return Code("FUNCTION_NOT_FOUND");
  if (s == "42P07") return Code("TABLE_ALREADY_EXISTS");
  if (s == "42501") return Code("PERMISSION_DENIED");
  if (s == "0A000") return Code("NOT_SUPPORTED");
  if (s == "22012") return Code("DIVISION_BY_ZERO");
  if (s == "22P02") return Code("INVALID_CAST_ARGUMENT");
  if (s == "22003") return Code("NUMERIC_VALUE_OUT_OF_RANGE");
  if (s == "22023") return Code("INVALID_FUNCTION_ARGUMENT");
  if (s == "40001") return Code("TRANSACTION_CONFLICT");
  if (s == "25006") return Code("READ_ONLY_VIOLATION");
  if (s == "42P02") return Code("INVALID_PARAMETER_USAGE");
  if (s == "42804" || s == "42P18") return Code("TYPE_MISMATCH");
  if (s == "57014") {
    return e.message.find("timeout") != std::string::npos ? NamedError("EXCEEDED_TIME_LIMIT")
                                                          : Code("USER_CANCELED");
  }
  if (s == "53200") return NamedError("EXCEEDED_LOCAL_MEMORY_LIMIT");
  if (s == "XX000" || s.empty()) return Code("GENERIC_INTERNAL_ERROR");
  return Code("GENERIC_USER_ERROR");
}

Json ErrorJson(const sql::SqlError& e, std::string_view statement, std::optional<ErrorCode> code) {
  const ErrorCode c = code ? *code : ErrorFor(e);
  Json failure = {{"type", "io.trino.spi.TrinoException"},
                  {"message", e.message},
                  {"suppressed", Json::array()},
                  {"stack", Json::array()}};
  Json out = {{"message", e.message},
              {"errorCode", c.code},
              {"errorName", c.name},
              {"errorType", c.type}};
  if (e.position >= 0 && static_cast<size_t>(e.position) <= statement.size()) {
    int line = 1, column = 1;
    for (size_t i = 0; i < static_cast<size_t>(e.position); ++i) {
      if (statement[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    Json location = {{"lineNumber", line}, {"columnNumber", column}};
    out["errorLocation"] = location;
    failure["errorLocation"] = location;
  }
  out["failureInfo"] = failure;
  return out;
}

}  // namespace lakemesh::trino
