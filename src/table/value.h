// Iceberg primitive types, single values and partition transforms
// (../shared/specs/iceberg/table-spec.md: "Primitive Types", "Partition Transforms", Appendix B
// 32-bit hashes, Appendix D single-value serialization).
//
// A Literal is one non-null value of a primitive type. Manifests keep partition values as
// Literals and column bounds in their binary single-value form; scan planning compares them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lakemesh::table {

enum class TypeId {
  kBoolean, kInt, kLong, kFloat, kDouble, kDecimal, kDate, kTime, kTimestamp, kTimestamptz,
  kTimestampNs, kTimestamptzNs, kString, kUuid, kFixed, kBinary,
};

struct PrimitiveType {
  TypeId id = TypeId::kInt;
  int precision = 0;  // decimal
  int scale = 0;      // decimal
  int length = 0;     // fixed

  bool operator==(const PrimitiveType&) const = default;
};

// "int", "decimal(9,2)", "fixed[16]", ...; kInvalidArgument for anything else (nested types too).
Result<PrimitiveType> ParsePrimitiveType(std::string_view name);
std::string TypeName(const PrimitiveType& t);
// True for types whose values are integers (int, long, date, time, timestamps) or booleans.
bool IsIntegral(TypeId id);

// One non-null value. Which member holds it depends on `type`:
//   boolean, int, long, date, time, timestamp* -> i
//   float, double                              -> d
//   decimal                                    -> dec (the unscaled value)
//   string (UTF-8), binary, fixed, uuid (16 bytes, big-endian) -> s
struct Literal {
  PrimitiveType type;
  int64_t i = 0;
  double d = 0;
  __int128 dec = 0;
  std::string s;

  Literal() = default;
  explicit Literal(PrimitiveType t) : type(t) {}
  static Literal Int(int32_t v) {
    Literal l(PrimitiveType{TypeId::kInt});
    l.i = v;
    return l;
  }
  static Literal Long(int64_t v) {
    Literal l(PrimitiveType{TypeId::kLong});
    l.i = v;
    return l;
  }
  static Literal String(std::string v) {
    Literal l(PrimitiveType{TypeId::kString});
    l.s = std::move(v);
    return l;
  }
};

// Orders two values of the same type family: negative, zero or positive. Strings, binary, fixed
// and uuid compare as unsigned bytes (for UTF-8 that is code point order); floats order -0 before
// +0 and NaN last.
int Compare(const Literal& a, const Literal& b);
inline bool operator==(const Literal& a, const Literal& b) { return Compare(a, b) == 0; }

// Appendix D binary single-value serialization.
std::string ToBytes(const Literal& v);
Result<Literal> FromBytes(const PrimitiveType& t, std::string_view bytes);

// Appendix D JSON single-value serialization ("2017-11-16", "14.20", "000102ff", ...). FromJson
// also takes plain JSON numbers for dates and timestamps as days and microseconds.
nlohmann::json ToJson(const Literal& v);
Result<Literal> FromJson(const PrimitiveType& t, const nlohmann::json& j);

// Converts a value to another type when the conversion is exact (int -> long, long -> int in
// range, date -> timestamp, string -> date/timestamp/uuid/decimal, ...); used to bind the
// literal of a predicate to its column's type.
Result<Literal> CastTo(const Literal& v, const PrimitiveType& t);

// The 32-bit Murmur3 hash (x86 variant, seed 0) of a value, as Appendix B defines it per type.
int32_t Hash(const Literal& v);

// A partition transform: identity, bucket[N], truncate[W], year, month, day, hour, void.
struct Transform {
  enum Kind { kIdentity, kBucket, kTruncate, kYear, kMonth, kDay, kHour, kVoid, kUnknown };
  Kind kind = kIdentity;
  int param = 0;  // N of bucket[N], W of truncate[W]
  std::string name;

  // Transforms that keep order (a <= b implies t(a) <= t(b)), so range predicates project.
  bool Monotonic() const {
    return kind == kIdentity || kind == kTruncate || kind == kYear || kind == kMonth ||
           kind == kDay || kind == kHour;
  }
};

// Unknown names parse as kUnknown (the spec: readers ignore such fields when filtering).
Transform ParseTransform(std::string_view name);
// The type a transform produces from `source`; kInvalidArgument when it does not apply to it.
Result<PrimitiveType> ResultType(const Transform& t, const PrimitiveType& source);
// The transform of a value; std::nullopt for void (and unknown) transforms.
Result<std::optional<Literal>> Apply(const Transform& t, const Literal& v);

}  // namespace lakemesh::table
