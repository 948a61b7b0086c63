#include "table/value.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "base/hash.h"

namespace lakemesh::table {
namespace {

using Json = nlohmann::json;

Status Bad(std::string m) { return InvalidArgument(std::move(m)); }

// --- civil dates (proleptic Gregorian), after Howard Hinnant's algorithms -----------------------

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DD" -> days from 1970-01-01.
std::optional<int64_t> ParseDate(std::string_view s) {
  int64_t y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31) {
    return std::nullopt;
  }
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

// "HH:MM:SS[.ffffff[fff]]" -> units (micros or nanos) from midnight; `digits` = 6 or 9.
std::optional<int64_t> ParseTime(std::string_view s, int digits) {
  int64_t h, mi, sec;
  if (s.size() < 8 || s[2] != ':' || s[5] != ':' || !Digits(s, 0, 2, &h) ||
      !Digits(s, 3, 2, &mi) || !Digits(s, 6, 2, &sec) || h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  int64_t unit = digits == 9 ? 1000000000 : 1000000;
  int64_t frac = 0;
  if (s.size() > 8) {
    if (s[8] != '.' || s.size() == 9 || s.size() - 9 > static_cast<size_t>(digits)) {
      return std::nullopt;
    }
    int64_t f;
    size_t n = s.size() - 9;
    if (!Digits(s, 9, n, &f)) return std::nullopt;
    for (size_t i = n; i < static_cast<size_t>(digits); ++i) f *= 10;
    frac = f;
  }
  return ((h * 60 + mi) * 60 + sec) * unit + frac;
}

// "YYYY-MM-DDTHH:MM:SS[.f][+00:00|Z]" -> units from the epoch. `zone` says whether an offset is
// required (timestamptz) or forbidden (timestamp); a non-zero offset is applied.
std::optional<int64_t> ParseTimestamp(std::string_view s, int digits, bool zone) {
  if (s.size() < 19 || (s[10] != 'T' && s[10] != ' ')) return std::nullopt;
  auto day = ParseDate(s.substr(0, 10));
  if (!day) return std::nullopt;
  std::string_view rest = s.substr(11);
  int64_t offset_minutes = 0;
  bool has_zone = false;
  if (!rest.empty() && rest.back() == 'Z') {
    has_zone = true;
    rest.remove_suffix(1);
  } else if (rest.size() > 6 && (rest[rest.size() - 6] == '+' || rest[rest.size() - 6] == '-') &&
             rest[rest.size() - 3] == ':') {
    int64_t oh, om;
    std::string_view z = rest.substr(rest.size() - 6);
    if (!Digits(z, 1, 2, &oh) || !Digits(z, 4, 2, &om)) return std::nullopt;
    offset_minutes = (oh * 60 + om) * (z[0] == '-' ? -1 : 1);
    has_zone = true;
    rest.remove_suffix(6);
  }
  if (has_zone != zone) return std::nullopt;
  auto t = ParseTime(rest, digits);
  if (!t) return std::nullopt;
  int64_t unit = digits == 9 ? 1000000000 : 1000000;
  return *day * 86400 * unit + *t - offset_minutes * 60 * unit;
}

std::string Pad(int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), '0');
  return v < 0 ? "-" + s : s;
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return Pad(y, 4) + "-" + Pad(m, 2) + "-" + Pad(d, 2);
}

std::string FormatTime(int64_t units, int digits) {
  int64_t unit = digits == 9 ? 1000000000 : 1000000;
  int64_t secs = units / unit, frac = units % unit;
  return Pad(secs / 3600, 2) + ":" + Pad(secs / 60 % 60, 2) + ":" + Pad(secs % 60, 2) + "." +
         Pad(frac, digits);
}

std::string FormatTimestamp(int64_t units, int digits) {
  int64_t unit_per_day = 86400LL * (digits == 9 ? 1000000000 : 1000000);
  int64_t day = FloorDiv(units, unit_per_day);
  return FormatDate(day) + "T" + FormatTime(units - day * unit_per_day, digits);
}

// --- decimals ----------------------------------------------------------------------------------

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

std::string FormatDecimal(__int128 unscaled, int scale) {
  std::string digits = Int128ToString(unscaled < 0 ? -unscaled : unscaled);
  if (scale > 0) {
    while (static_cast<int>(digits.size()) <= scale) digits.insert(digits.begin(), '0');
    digits.insert(digits.end() - scale, '.');
  }
  return unscaled < 0 ? "-" + digits : digits;
}

// "14.20" -> 1420 at scale 2; kInvalidArgument if it has more fractional digits than `scale`.
Result<__int128> ParseDecimal(std::string_view s, int scale) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  __int128 v = 0;
  int frac = -1, digits = 0;
  for (char c : s) {
    if (c == '.' && frac < 0) {
      frac = 0;
      continue;
    }
    if (c < '0' || c > '9') return Bad("not a decimal number: '" + std::string(s) + "'");
    if (++digits > 38) return Bad("decimal has more than 38 digits");
    v = v * 10 + (c - '0');
    if (frac >= 0) ++frac;
  }
  if (digits == 0) return Bad("not a decimal number: '" + std::string(s) + "'");
  if (frac < 0) frac = 0;
  if (frac > scale) return Bad("decimal '" + std::string(s) + "' has more than " +
                               std::to_string(scale) + " fractional digits");
  for (int i = frac; i < scale; ++i) v *= 10;
  return neg ? -v : v;
}

// Two's-complement big-endian with the fewest bytes that hold the value.
std::string MinBigEndian(__int128 v) {
  std::string out;
  for (int i = 15; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
  size_t start = 0;
  while (start + 1 < out.size()) {
    unsigned char b = out[start], next = out[start + 1];
    if ((b == 0x00 && !(next & 0x80)) || (b == 0xff && (next & 0x80))) {
      ++start;
    } else {
      break;
    }
  }
  return out.substr(start);
}

__int128 FromBigEndian(std::string_view b) {
  if (b.empty()) return 0;
  __int128 v = (static_cast<unsigned char>(b[0]) & 0x80) ? -1 : 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

// --- hex and uuids -----------------------------------------------------------------------------

std::optional<std::string> ParseUuid(std::string_view s) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
    return std::nullopt;
  }
  std::string h;
  for (char c : s) {
    if (c != '-') h.push_back(c);
  }
  return FromHex(h);
}

std::string FormatUuid(std::string_view b) {
  std::string h = ToHex(b);
  if (h.size() != 32) return h;
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// --- Murmur3 x86 32 ----------------------------------------------------------------------------

uint32_t Rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

int32_t Murmur3(std::string_view data) {
  const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
  uint32_t h = 0;
  size_t nblocks = data.size() / 4;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  for (size_t i = 0; i < nblocks; ++i) {
    uint32_t k = static_cast<uint32_t>(p[i * 4]) | static_cast<uint32_t>(p[i * 4 + 1]) << 8 |
                 static_cast<uint32_t>(p[i * 4 + 2]) << 16 |
                 static_cast<uint32_t>(p[i * 4 + 3]) << 24;
    k *= c1;
    k = Rotl(k, 15);
    k *= c2;
    h ^= k;
    h = Rotl(h, 13);
    h = h * 5 + 0xe6546b64;
  }
  const unsigned char* tail = p + nblocks * 4;
  uint32_t k = 0;
  switch (data.size() & 3) {
    case 3: k ^= static_cast<uint32_t>(tail[2]) << 16; [[fallthrough]];
    case 2: k ^= static_cast<uint32_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= c1;
      k = Rotl(k, 15);
      k *= c2;
      h ^= k;
  }
  h ^= static_cast<uint32_t>(data.size());
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return static_cast<int32_t>(h);
}

std::string LittleEndian(uint64_t v, int n) {
  std::string out(n, '\0');
  for (int i = 0; i < n; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

uint64_t ReadLittleEndian(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < b.size(); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
  return v;
}

// Truncates UTF-8 to at most `n` code points.
std::string TruncateUtf8(const std::string& s, int n) {
  size_t pos = 0;
  int count = 0;
  while (pos < s.size() && count < n) {
    unsigned char c = s[pos];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    pos += len;
    ++count;
  }
  return s.substr(0, std::min(pos, s.size()));
}

bool IsTemporalSource(TypeId id) {
  return id == TypeId::kDate || id == TypeId::kTimestamp || id == TypeId::kTimestamptz ||
         id == TypeId::kTimestampNs || id == TypeId::kTimestamptzNs;
}

// Micros (or days for dates) of a temporal value, for the year/month/day/hour transforms.
int64_t ToMicros(const Literal& v) {
  switch (v.type.id) {
    case TypeId::kDate: return v.i * kMicrosPerDay;
    case TypeId::kTimestampNs:
    case TypeId::kTimestamptzNs: return FloorDiv(v.i, 1000);
    default: return v.i;
  }
}

}  // namespace

// --- types -------------------------------------------------------------------------------------

Result<PrimitiveType> ParsePrimitiveType(std::string_view n) {
  static const std::pair<const char*, TypeId> kSimple[] = {
      {"boolean", TypeId::kBoolean},       {"int", TypeId::kInt},
      {"long", TypeId::kLong},             {"float", TypeId::kFloat},
      {"double", TypeId::kDouble},         {"date", TypeId::kDate},
      {"time", TypeId::kTime},             {"timestamp", TypeId::kTimestamp},
      {"timestamptz", TypeId::kTimestamptz}, {"timestamp_ns", TypeId::kTimestampNs},
      {"timestamptz_ns", TypeId::kTimestamptzNs}, {"string", TypeId::kString},
      {"uuid", TypeId::kUuid},             {"binary", TypeId::kBinary},
  };
  for (const auto& [name, id] : kSimple) {
    if (n == name) return PrimitiveType{id};
  }
  auto number = [](std::string_view s, int* out) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (s.empty() || s.size() > 9) return false;
    int v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
  };
  if (n.starts_with("decimal(") && n.ends_with(")")) {
    std::string_view inner = n.substr(8, n.size() - 9);
    size_t comma = inner.find(',');
    PrimitiveType t{TypeId::kDecimal};
    if (comma != std::string_view::npos && number(inner.substr(0, comma), &t.precision) &&
        number(inner.substr(comma + 1), &t.scale) && t.precision >= 1 && t.precision <= 38 &&
        t.scale <= t.precision) {
      return t;
    }
  }
  if (n.starts_with("fixed[") && n.ends_with("]")) {
    PrimitiveType t{TypeId::kFixed};
    if (number(n.substr(6, n.size() - 7), &t.length) && t.length > 0) return t;
  }
  return Bad("not an Iceberg primitive type: '" + std::string(n) + "'");
}

std::string TypeName(const PrimitiveType& t) {
  switch (t.id) {
    case TypeId::kBoolean: return "boolean";
    case TypeId::kInt: return "int";
    case TypeId::kLong: return "long";
    case TypeId::kFloat: return "float";
    case TypeId::kDouble: return "double";
    case TypeId::kDecimal:
      return "decimal(" + std::to_string(t.precision) + "," + std::to_string(t.scale) + ")";
    case TypeId::kDate: return "date";
    case TypeId::kTime: return "time";
    case TypeId::kTimestamp: return "timestamp";
    case TypeId::kTimestamptz: return "timestamptz";
    case TypeId::kTimestampNs: return "timestamp_ns";
    case TypeId::kTimestamptzNs: return "timestamptz_ns";
    case TypeId::kString: return "string";
    case TypeId::kUuid: return "uuid";
    case TypeId::kFixed: return "fixed[" + std::to_string(t.length) + "]";
    case TypeId::kBinary: return "binary";
  }
  return "?";
}

bool IsIntegral(TypeId id) {
  switch (id) {
    case TypeId::kBoolean: case TypeId::kInt: case TypeId::kLong: case TypeId::kDate:
    case TypeId::kTime: case TypeId::kTimestamp: case TypeId::kTimestamptz:
    case TypeId::kTimestampNs: case TypeId::kTimestamptzNs:
      return true;
    default:
      return false;
  }
}

// --- values ------------------------------------------------------------------------------------

int Compare(const Literal& a, const Literal& b) {
  if (IsIntegral(a.type.id) && IsIntegral(b.type.id)) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  switch (a.type.id) {
    case TypeId::kFloat:
    case TypeId::kDouble: {
      bool an = std::isnan(a.d), bn = std::isnan(b.d);
      if (an || bn) return an == bn ? 0 : an ? 1 : -1;
      if (a.d == b.d) {
        bool as = std::signbit(a.d), bs = std::signbit(b.d);
        return as == bs ? 0 : as ? -1 : 1;
      }
      return a.d < b.d ? -1 : 1;
    }
    case TypeId::kDecimal: return a.dec < b.dec ? -1 : a.dec > b.dec ? 1 : 0;
    default: {
      int c = std::memcmp(a.s.data(), b.s.data(), std::min(a.s.size(), b.s.size()));
      if (c != 0) return c < 0 ? -1 : 1;
      return a.s.size() < b.s.size() ? -1 : a.s.size() > b.s.size() ? 1 : 0;
    }
  }
}

std::string ToBytes(const Literal& v) {
  switch (v.type.id) {
    case TypeId::kBoolean: return std::string(1, v.i ? '\1' : '\0');
    case TypeId::kInt:
    case TypeId::kDate: return LittleEndian(static_cast<uint32_t>(v.i), 4);
    case TypeId::kLong: case TypeId::kTime: case TypeId::kTimestamp: case TypeId::kTimestamptz:
    case TypeId::kTimestampNs: case TypeId::kTimestamptzNs:
      return LittleEndian(static_cast<uint64_t>(v.i), 8);
    case TypeId::kFloat: {
      float f = static_cast<float>(v.d);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      return LittleEndian(bits, 4);
    }
    case TypeId::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &v.d, 8);
      return LittleEndian(bits, 8);
    }
    case TypeId::kDecimal: return MinBigEndian(v.dec);
    case TypeId::kString: case TypeId::kUuid: case TypeId::kFixed: case TypeId::kBinary:
      return v.s;
  }
  return {};
}

Result<Literal> FromBytes(const PrimitiveType& t, std::string_view b) {
  Literal v{t};
  auto need = [&](size_t n) -> Status {
    if (b.size() != n) {
      return Bad("a " + TypeName(t) + " value takes " + std::to_string(n) + " bytes, not " +
                 std::to_string(b.size()));
    }
    return Status::OK();
  };
  switch (t.id) {
    case TypeId::kBoolean:
      LM_TRY(need(1));
      v.i = b[0] != 0;
      break;
    case TypeId::kInt:
    case TypeId::kDate:
      LM_TRY(need(4));
      v.i = static_cast<int32_t>(ReadLittleEndian(b));
      break;
    case TypeId::kLong: case TypeId::kTime: case TypeId::kTimestamp: case TypeId::kTimestamptz:
    case TypeId::kTimestampNs: case TypeId::kTimestamptzNs:
      // Bounds of a column promoted from int to long are still 4 bytes long.
      if (t.id == TypeId::kLong && b.size() == 4) {
        v.i = static_cast<int32_t>(ReadLittleEndian(b));
        break;
      }
      LM_TRY(need(8));
      v.i = static_cast<int64_t>(ReadLittleEndian(b));
      break;
    case TypeId::kFloat: {
      LM_TRY(need(4));
      uint32_t bits = static_cast<uint32_t>(ReadLittleEndian(b));
      float f;
      std::memcpy(&f, &bits, 4);
      v.d = f;
      break;
    }
    case TypeId::kDouble: {
      if (b.size() == 4) {  // promoted from float
        uint32_t bits = static_cast<uint32_t>(ReadLittleEndian(b));
        float f;
        std::memcpy(&f, &bits, 4);
        v.d = f;
        break;
      }
      LM_TRY(need(8));
      uint64_t bits = ReadLittleEndian(b);
      std::memcpy(&v.d, &bits, 8);
      break;
    }
    case TypeId::kDecimal:
      if (b.empty() || b.size() > 16) return Bad("a decimal value takes 1 to 16 bytes");
      v.dec = FromBigEndian(b);
      break;
    case TypeId::kUuid:
      LM_TRY(need(16));
      v.s = std::string(b);
      break;
    case TypeId::kString: case TypeId::kFixed: case TypeId::kBinary:
      v.s = std::string(b);
      break;
  }
  return v;
}

Json ToJson(const Literal& v) {
  switch (v.type.id) {
    case TypeId::kBoolean: return v.i != 0;
    case TypeId::kInt: case TypeId::kLong: return v.i;
    case TypeId::kFloat: case TypeId::kDouble: return v.d;
    case TypeId::kDecimal: return FormatDecimal(v.dec, v.type.scale);
    case TypeId::kDate: return FormatDate(v.i);
    case TypeId::kTime: return FormatTime(v.i, 6);
    case TypeId::kTimestamp: return FormatTimestamp(v.i, 6);
    case TypeId::kTimestamptz: return FormatTimestamp(v.i, 6) + "+00:00";
    case TypeId::kTimestampNs: return FormatTimestamp(v.i, 9);
    case TypeId::kTimestamptzNs: return FormatTimestamp(v.i, 9) + "+00:00";
    case TypeId::kString: return v.s;
    case TypeId::kUuid: return FormatUuid(v.s);
    case TypeId::kFixed: case TypeId::kBinary: return ToHex(v.s);
  }
  return nullptr;
}

Result<Literal> FromJson(const PrimitiveType& t, const Json& j) {
  Literal v{t};
  auto wrong = [&]() {
    return Bad("'" + j.dump() + "' is not a value of type " + TypeName(t));
  };
  bool is_int = j.is_number_integer() || j.is_number_unsigned();
  switch (t.id) {
    case TypeId::kBoolean:
      if (!j.is_boolean()) return wrong();
      v.i = j.get<bool>();
      return v;
    case TypeId::kInt:
    case TypeId::kLong: {
      if (!is_int) return wrong();
      if (j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX) return wrong();
      v.i = j.get<int64_t>();
      if (t.id == TypeId::kInt && (v.i < INT32_MIN || v.i > INT32_MAX)) return wrong();
      return v;
    }
    case TypeId::kFloat:
    case TypeId::kDouble:
      if (!j.is_number()) return wrong();
      v.d = j.get<double>();
      return v;
    case TypeId::kDecimal:
      if (j.is_string()) {
        LM_ASSIGN_OR_RETURN(v.dec, ParseDecimal(j.get<std::string>(), t.scale));
        return v;
      }
      if (is_int) {
        LM_ASSIGN_OR_RETURN(v.dec, ParseDecimal(std::to_string(j.get<int64_t>()), t.scale));
        return v;
      }
      return wrong();
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz:
    case TypeId::kTimestampNs:
    case TypeId::kTimestamptzNs: {
      if (is_int) {
        v.i = j.get<int64_t>();
        return v;
      }
      if (!j.is_string()) return wrong();
      std::string s = j.get<std::string>();
      std::optional<int64_t> parsed;
      int digits = (t.id == TypeId::kTimestampNs || t.id == TypeId::kTimestamptzNs) ? 9 : 6;
      if (t.id == TypeId::kDate) {
        parsed = ParseDate(s);
      } else if (t.id == TypeId::kTime) {
        parsed = ParseTime(s, 6);
      } else {
        bool tz = t.id == TypeId::kTimestamptz || t.id == TypeId::kTimestamptzNs;
        parsed = ParseTimestamp(s, digits, tz);
        if (!parsed && s.size() == 10) {  // a date alone: midnight
          auto d = ParseDate(s);
          if (d) parsed = *d * 86400 * (digits == 9 ? 1000000000LL : 1000000LL);
        }
      }
      if (!parsed) return wrong();
      v.i = *parsed;
      return v;
    }
    case TypeId::kString:
      if (!j.is_string()) return wrong();
      v.s = j.get<std::string>();
      return v;
    case TypeId::kUuid: {
      if (!j.is_string()) return wrong();
      auto b = ParseUuid(j.get<std::string>());
      if (!b) return wrong();
      v.s = *b;
      return v;
    }
    case TypeId::kFixed:
    case TypeId::kBinary: {
      if (!j.is_string()) return wrong();
      auto b = FromHex(j.get<std::string>());
      if (!b || (t.id == TypeId::kFixed && static_cast<int>(b->size()) != t.length)) return wrong();
      v.s = *b;
      return v;
    }
  }
  return wrong();
}

Result<Literal> CastTo(const Literal& v, const PrimitiveType& t) {
  if (v.type == t) return v;
  auto no = [&]() {
    return Bad("cannot use " + ToJson(v).dump() + " (" + TypeName(v.type) + ") as a " +
               TypeName(t));
  };
  TypeId from = v.type.id;
  if (from == TypeId::kString) return FromJson(t, Json(v.s));
  Literal out{t};
  switch (t.id) {
    case TypeId::kInt:
    case TypeId::kLong:
      if (from != TypeId::kInt && from != TypeId::kLong) return no();
      if (t.id == TypeId::kInt && (v.i < INT32_MIN || v.i > INT32_MAX)) return no();
      out.i = v.i;
      return out;
    case TypeId::kFloat:
    case TypeId::kDouble:
      if (from == TypeId::kFloat || from == TypeId::kDouble) {
        out.d = v.d;
      } else if (from == TypeId::kInt || from == TypeId::kLong) {
        out.d = static_cast<double>(v.i);
      } else {
        return no();
      }
      return out;
    case TypeId::kDecimal:
      if (from == TypeId::kInt || from == TypeId::kLong) {
        out.dec = v.i;
        for (int i = 0; i < t.scale; ++i) out.dec *= 10;
        return out;
      }
      if (from == TypeId::kDecimal && v.type.scale <= t.scale) {
        out.dec = v.dec;
        for (int i = v.type.scale; i < t.scale; ++i) out.dec *= 10;
        return out;
      }
      return no();
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz:
      if (from == TypeId::kDate) {
        out.i = v.i * kMicrosPerDay;
        return out;
      }
      if (from == TypeId::kTimestamp || from == TypeId::kTimestamptz) {
        out.i = v.i;
        return out;
      }
      if (from == TypeId::kTimestampNs || from == TypeId::kTimestamptzNs) {
        out.i = FloorDiv(v.i, 1000);
        return out;
      }
      return no();
    case TypeId::kTimestampNs:
    case TypeId::kTimestamptzNs:
      if (from == TypeId::kDate) {
        out.i = v.i * kMicrosPerDay * 1000;
        return out;
      }
      if (from == TypeId::kTimestamp || from == TypeId::kTimestamptz) {
        out.i = v.i * 1000;
        return out;
      }
      if (from == TypeId::kTimestampNs || from == TypeId::kTimestamptzNs) {
        out.i = v.i;
        return out;
      }
      return no();
    case TypeId::kDate:
      if (from == TypeId::kInt) {
        out.i = v.i;
        return out;
      }
      return no();
    case TypeId::kBinary:
    case TypeId::kFixed:
      if (from == TypeId::kBinary || from == TypeId::kFixed) {
        if (t.id == TypeId::kFixed && static_cast<int>(v.s.size()) != t.length) return no();
        out.s = v.s;
        return out;
      }
      return no();
    default:
      return no();
  }
}

int32_t Hash(const Literal& v) {
  switch (v.type.id) {
    case TypeId::kBoolean: case TypeId::kInt: case TypeId::kLong: case TypeId::kDate:
    case TypeId::kTime: case TypeId::kTimestamp: case TypeId::kTimestamptz:
      return Murmur3(LittleEndian(static_cast<uint64_t>(v.i), 8));
    case TypeId::kTimestampNs:
    case TypeId::kTimestamptzNs:
      return Murmur3(LittleEndian(static_cast<uint64_t>(FloorDiv(v.i, 1000)), 8));
    case TypeId::kFloat:
    case TypeId::kDouble: {
      double d = v.d;
      uint64_t bits;
      if (std::isnan(d)) {
        bits = 0x7ff8000000000000ULL;
      } else {
        if (d == 0) d = 0.0;
        std::memcpy(&bits, &d, 8);
      }
      return Murmur3(LittleEndian(bits, 8));
    }
    case TypeId::kDecimal: return Murmur3(MinBigEndian(v.dec));
    case TypeId::kString: case TypeId::kUuid: case TypeId::kFixed: case TypeId::kBinary:
      return Murmur3(v.s);
  }
  return 0;
}

// --- transforms --------------------------------------------------------------------------------

Transform ParseTransform(std::string_view n) {
  Transform t;
  t.name = std::string(n);
  auto param = [&](std::string_view prefix) -> std::optional<int> {
    if (!n.starts_with(prefix) || !n.ends_with("]")) return std::nullopt;
    std::string_view inner = n.substr(prefix.size(), n.size() - prefix.size() - 1);
    if (inner.empty() || inner.size() > 9) return std::nullopt;
    int v = 0;
    for (char c : inner) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    if (v <= 0) return std::nullopt;
    return v;
  };
  if (n == "identity") t.kind = Transform::kIdentity;
  else if (n == "year") t.kind = Transform::kYear;
  else if (n == "month") t.kind = Transform::kMonth;
  else if (n == "day") t.kind = Transform::kDay;
  else if (n == "hour") t.kind = Transform::kHour;
  else if (n == "void") t.kind = Transform::kVoid;
  else if (auto b = param("bucket[")) t = Transform{Transform::kBucket, *b, t.name};
  else if (auto w = param("truncate[")) t = Transform{Transform::kTruncate, *w, t.name};
  else t.kind = Transform::kUnknown;
  return t;
}

Result<PrimitiveType> ResultType(const Transform& t, const PrimitiveType& s) {
  auto no = [&]() {
    return Bad("transform " + t.name + " does not apply to " + TypeName(s));
  };
  switch (t.kind) {
    case Transform::kIdentity:
    case Transform::kVoid:
    case Transform::kUnknown:
      return s;
    case Transform::kBucket:
      if (s.id == TypeId::kBoolean || s.id == TypeId::kFloat || s.id == TypeId::kDouble) return no();
      return PrimitiveType{TypeId::kInt};
    case Transform::kTruncate:
      if (s.id != TypeId::kInt && s.id != TypeId::kLong && s.id != TypeId::kDecimal &&
          s.id != TypeId::kString && s.id != TypeId::kBinary) {
        return no();
      }
      return s;
    case Transform::kYear:
    case Transform::kMonth:
      if (!IsTemporalSource(s.id)) return no();
      return PrimitiveType{TypeId::kInt};
    case Transform::kDay:
      if (!IsTemporalSource(s.id)) return no();
      return PrimitiveType{TypeId::kDate};
    case Transform::kHour:
      if (!IsTemporalSource(s.id) || s.id == TypeId::kDate) return no();
      return PrimitiveType{TypeId::kInt};
  }
  return no();
}

Result<std::optional<Literal>> Apply(const Transform& t, const Literal& v) {
  LM_ASSIGN_OR_RETURN(PrimitiveType rt, ResultType(t, v.type));
  Literal out{rt};
  switch (t.kind) {
    case Transform::kIdentity: return std::optional<Literal>(v);
    case Transform::kVoid:
    case Transform::kUnknown: return std::optional<Literal>();
    case Transform::kBucket:
      out.i = (Hash(v) & 0x7fffffff) % t.param;
      return std::optional<Literal>(out);
    case Transform::kTruncate:
      out = v;
      if (v.type.id == TypeId::kInt || v.type.id == TypeId::kLong) {
        out.i = v.i - (((v.i % t.param) + t.param) % t.param);
      } else if (v.type.id == TypeId::kDecimal) {
        out.dec = v.dec - (((v.dec % t.param) + t.param) % t.param);
      } else if (v.type.id == TypeId::kString) {
        out.s = TruncateUtf8(v.s, t.param);
      } else {
        out.s = v.s.substr(0, t.param);
      }
      return std::optional<Literal>(out);
    case Transform::kYear:
    case Transform::kMonth:
    case Transform::kDay: {
      int64_t days = v.type.id == TypeId::kDate ? v.i : FloorDiv(ToMicros(v), kMicrosPerDay);
      if (t.kind == Transform::kDay) {
        out.i = days;
        return std::optional<Literal>(out);
      }
      int64_t y;
      unsigned m, d;
      CivilFromDays(days, &y, &m, &d);
      out.i = t.kind == Transform::kYear ? y - 1970 : (y - 1970) * 12 + (m - 1);
      return std::optional<Literal>(out);
    }
    case Transform::kHour:
      out.i = FloorDiv(ToMicros(v), 3600LL * 1000000);
      return std::optional<Literal>(out);
  }
  return std::optional<Literal>();
}

}  // namespace lakemesh::table
