#include "protocols/pgwire/messages.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/hash.h"
#include "sql/statements.h"

namespace lakemesh::pgwire {
namespace {

Status Bad(const std::string& what) { return InvalidArgument("malformed " + what + " message"); }

// Reads the fields of one message body, each checked against the bytes left.
class Cursor {
 public:
  explicit Cursor(std::string_view b) : b_(b) {}
  bool Int32(int32_t* v) {
    if (b_.size() - pos_ < 4) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(b_.data() + pos_);
    *v = static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                              (uint32_t{p[2]} << 8) | uint32_t{p[3]});
    pos_ += 4;
    return true;
  }
  bool Int16(int16_t* v) {
    if (b_.size() - pos_ < 2) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(b_.data() + pos_);
    *v = static_cast<int16_t>((uint16_t{p[0]} << 8) | uint16_t{p[1]});
    pos_ += 2;
    return true;
  }
  bool Byte(char* c) {
    if (pos_ >= b_.size()) return false;
    *c = b_[pos_++];
    return true;
  }
  bool CString(std::string* s) {
    size_t nul = b_.find('\0', pos_);
    if (nul == std::string_view::npos) return false;
    s->assign(b_.substr(pos_, nul - pos_));
    pos_ = nul + 1;
    return true;
  }
  bool Bytes(size_t n, std::string* s) {
    if (b_.size() - pos_ < n) return false;
    s->assign(b_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  size_t left() const { return b_.size() - pos_; }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

Result<StartupPacket> ParseStartup(std::string_view body) {
  Cursor c(body);
  int32_t code;
  if (!c.Int32(&code)) return Bad("startup");
  StartupPacket p;
  p.protocol = static_cast<uint32_t>(code);
  switch (p.protocol) {
    case kSslRequest: p.kind = StartupPacket::Kind::kSsl; return p;
    case kGssRequest: p.kind = StartupPacket::Kind::kGss; return p;
    case kCancelRequest: {
      int32_t pid, key;
      if (!c.Int32(&pid) || !c.Int32(&key)) return Bad("CancelRequest");
      p.kind = StartupPacket::Kind::kCancel;
      p.cancel_pid = static_cast<uint32_t>(pid);
      p.cancel_key = static_cast<uint32_t>(key);
      return p;
    }
    default: break;
  }
  if ((p.protocol >> 16) != 3) {
    return InvalidArgument("unsupported frontend protocol " + std::to_string(p.protocol >> 16) +
                           "." + std::to_string(p.protocol & 0xffff) +
                           ": server supports 3.0");
  }
  // name\0value\0 ... \0
  while (true) {
    std::string name, value;
    if (!c.CString(&name)) return Bad("startup");
    if (name.empty()) break;
    if (!c.CString(&value)) return Bad("startup");
    p.params[name] = value;
  }
  return p;
}

Result<std::string> ParseQuery(std::string_view body) {
  Cursor c(body);
  std::string q;
  if (!c.CString(&q)) return Bad("Query");
  return q;
}

Result<ParseMessage> ParseParse(std::string_view body) {
  Cursor c(body);
  ParseMessage m;
  int16_t n;
  if (!c.CString(&m.name) || !c.CString(&m.query) || !c.Int16(&n) || n < 0) return Bad("Parse");
  for (int16_t i = 0; i < n; ++i) {
    int32_t oid;
    if (!c.Int32(&oid)) return Bad("Parse");
    m.param_types.push_back(static_cast<uint32_t>(oid));
  }
  return m;
}

Result<BindMessage> ParseBind(std::string_view body) {
  Cursor c(body);
  BindMessage m;
  int16_t n;
  if (!c.CString(&m.portal) || !c.CString(&m.statement) || !c.Int16(&n) || n < 0) {
    return Bad("Bind");
  }
  for (int16_t i = 0; i < n; ++i) {
    int16_t f;
    if (!c.Int16(&f) || (f != 0 && f != 1)) return Bad("Bind");
    m.param_formats.push_back(f);
  }
  if (!c.Int16(&n) || n < 0) return Bad("Bind");
  for (int16_t i = 0; i < n; ++i) {
    int32_t len;
    if (!c.Int32(&len) || len < -1) return Bad("Bind");
    if (len == -1) {
      m.params.emplace_back();
      continue;
    }
    std::string v;
    if (!c.Bytes(static_cast<size_t>(len), &v)) return Bad("Bind");
    m.params.emplace_back(std::move(v));
  }
  if (!c.Int16(&n) || n < 0) return Bad("Bind");
  for (int16_t i = 0; i < n; ++i) {
    int16_t f;
    if (!c.Int16(&f) || (f != 0 && f != 1)) return Bad("Bind");
    m.result_formats.push_back(f);
  }
  if (m.param_formats.size() > 1 && m.param_formats.size() != m.params.size()) {
    return InvalidArgument("bind message has " + std::to_string(m.param_formats.size()) +
                           " parameter formats but " + std::to_string(m.params.size()) +
                           " parameters");
  }
  return m;
}

Result<DescribeMessage> ParseDescribe(std::string_view body) {
  Cursor c(body);
  DescribeMessage m;
  if (!c.Byte(&m.kind) || (m.kind != 'S' && m.kind != 'P') || !c.CString(&m.name)) {
    return Bad("Describe");
  }
  return m;
}

Result<ExecuteMessage> ParseExecute(std::string_view body) {
  Cursor c(body);
  ExecuteMessage m;
  if (!c.CString(&m.portal) || !c.Int32(&m.max_rows)) return Bad("Execute");
  return m;
}

Result<CloseMessage> ParseClose(std::string_view body) {
  Cursor c(body);
  CloseMessage m;
  if (!c.Byte(&m.kind) || (m.kind != 'S' && m.kind != 'P') || !c.CString(&m.name)) {
    return Bad("Close");
  }
  return m;
}

Result<SaslInitialResponse> ParseSaslInitial(std::string_view body) {
  Cursor c(body);
  SaslInitialResponse m;
  int32_t len;
  if (!c.CString(&m.mechanism) || !c.Int32(&len) || len < -1) return Bad("SASLInitialResponse");
  if (len >= 0) {
    std::string d;
    if (!c.Bytes(static_cast<size_t>(len), &d)) return Bad("SASLInitialResponse");
    m.data = std::move(d);
  }
  return m;
}

namespace {

uint64_t BigEndian(std::string_view b) {
  uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

// Days since 1970-01-01 as "YYYY-MM-DD" (proleptic Gregorian, any sign).
std::string CivilDate(int64_t days) {
  // Howard Hinnant's civil_from_days.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04" PRId64 "-%02" PRId64 "-%02" PRId64, y, m, d);
  return buf;
}

// PostgreSQL's epoch (2000-01-01) in days after 1970-01-01.
constexpr int64_t kPgEpochDays = 10957;

}  // namespace

Result<std::string> BinaryParamToText(uint32_t oid, std::string_view b) {
  auto need = [&](size_t n) -> Status {
    if (b.size() != n) {
      return InvalidArgument("binary parameter of type " + std::to_string(oid) + " has " +
                             std::to_string(b.size()) + " bytes, expected " + std::to_string(n));
    }
    return Status::OK();
  };
  switch (oid) {
    case 16:  // bool
      LM_TRY(need(1));
      return std::string(b[0] ? "true" : "false");
    case 21:  // int2
      LM_TRY(need(2));
      return std::to_string(static_cast<int16_t>(BigEndian(b)));
    case 23:  // int4
    case 26:  // oid
      LM_TRY(need(4));
      return oid == 26 ? std::to_string(static_cast<uint32_t>(BigEndian(b)))
                       : std::to_string(static_cast<int32_t>(BigEndian(b)));
    case 20:  // int8
      LM_TRY(need(8));
      return std::to_string(static_cast<int64_t>(BigEndian(b)));
    case 700: {  // float4
      LM_TRY(need(4));
      uint32_t u = static_cast<uint32_t>(BigEndian(b));
      float f;
      std::memcpy(&f, &u, 4);
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(f));
      return std::string(std::isnan(f) ? "NaN" : std::isinf(f) ? (f > 0 ? "Infinity" : "-Infinity") : buf);
    }
    case 701: {  // float8
      LM_TRY(need(8));
      uint64_t u = BigEndian(b);
      double d;
      std::memcpy(&d, &u, 8);
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", d);
      return std::string(std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : buf);
    }
    case 25:    // text
    case 1043:  // varchar
    case 1042:  // bpchar
    case 19:    // name
    case 114:   // json
      return std::string(b);
    case 17:  // bytea: as DuckDB's blob text, every byte escaped
    {
      std::string out;
      static const char* kHex = "0123456789ABCDEF";
      for (unsigned char c : b) {
        out += "\\x";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return out;
    }
    case 1082: {  // date: days since 2000-01-01
      LM_TRY(need(4));
      return CivilDate(static_cast<int32_t>(BigEndian(b)) + kPgEpochDays);
    }
    case 1114:    // timestamp: microseconds since 2000-01-01
    case 1184: {  // timestamptz (UTC)
      LM_TRY(need(8));
      int64_t us = static_cast<int64_t>(BigEndian(b));
      int64_t day_us = 86400LL * 1000000;
      int64_t days = us / day_us, rem = us % day_us;
      if (rem < 0) {
        rem += day_us;
        --days;
      }
      char buf[48];
      std::snprintf(buf, sizeof(buf), " %02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64,
                    rem / int64_t{3600000000}, rem / int64_t{60000000} % 60, rem / 1000000 % 60,
                    rem % 1000000);
      return CivilDate(days + kPgEpochDays) + buf + (oid == 1184 ? "+00" : "");
    }
    case 2950: {  // uuid
      LM_TRY(need(16));
      std::string h = ToHex(b);
      return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
             "-" + h.substr(20);
    }
    default:
      return InvalidArgument("binary parameters of type " + std::to_string(oid) +
                             " are not supported: send it in text format");
  }
}

namespace {

void PutBig(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool ParseInt(std::string_view t, int64_t* v) {
  if (t.empty()) return false;
  bool neg = t[0] == '-';
  size_t i = (neg || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  uint64_t acc = 0;
  for (; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    uint64_t next = acc * 10 + static_cast<uint64_t>(t[i] - '0');
    if (next / 10 != acc) return false;
    acc = next;
  }
  if (acc > (neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) return false;
  *v = neg ? static_cast<int64_t>(0 - acc) : static_cast<int64_t>(acc);
  return true;
}

// "YYYY-MM-DD" -> days since 1970-01-01.
bool ParseDate(std::string_view t, int64_t* days) {
  bool bc = false;
  if (t.size() > 5 && t.substr(t.size() - 5) == " (BC)") {
    bc = true;
    t.remove_suffix(5);
  }
  size_t d1 = t.find('-', 1);
  if (d1 == std::string_view::npos || t.size() < d1 + 6 || t[d1 + 3] != '-') return false;
  int64_t y, m, d;
  if (!ParseInt(t.substr(0, d1), &y) || !ParseInt(t.substr(d1 + 1, 2), &m) ||
      !ParseInt(t.substr(d1 + 4), &d)) {
    return false;
  }
  if (bc) y = 1 - y;
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  *days = era * 146097 + doe - 719468;
  return true;
}

// "HH:MM:SS[.ffffff]" -> microseconds.
bool ParseTime(std::string_view t, int64_t* us) {
  if (t.size() < 8 || t[2] != ':' || t[5] != ':') return false;
  int64_t h, m, sec, frac = 0;
  if (!ParseInt(t.substr(0, 2), &h) || !ParseInt(t.substr(3, 2), &m) ||
      !ParseInt(t.substr(6, 2), &sec)) {
    return false;
  }
  if (t.size() > 8) {
    if (t[8] != '.' || t.size() > 15) return false;
    std::string f(t.substr(9));
    f.resize(6, '0');
    if (!ParseInt(f, &frac)) return false;
  }
  *us = ((h * 60 + m) * 60 + sec) * 1000000 + frac;
  return true;
}

bool ParseNumeric(std::string_view t, std::string* out) {
  if (t == "NaN") {
    PutBig(out, 0, 2);
    PutBig(out, 0, 2);
    PutBig(out, 0xC000, 2);
    PutBig(out, 0, 2);
    return true;
  }
  bool neg = !t.empty() && t[0] == '-';
  if (neg || (!t.empty() && t[0] == '+')) t.remove_prefix(1);
  size_t dot = t.find('.');
  std::string_view ip = t.substr(0, dot), fp = dot == t.npos ? "" : t.substr(dot + 1);
  if (ip.empty() && fp.empty()) return false;
  for (char c : ip) if (c < '0' || c > '9') return false;
  for (char c : fp) if (c < '0' || c > '9') return false;
  std::string is(ip), fs(fp);
  is.insert(0, (4 - is.size() % 4) % 4, '0');
  fs.append((4 - fs.size() % 4) % 4, '0');
  std::vector<int16_t> digits;
  for (size_t i = 0; i < is.size(); i += 4) digits.push_back(static_cast<int16_t>(std::stoi(is.substr(i, 4))));
  int weight = static_cast<int>(is.size() / 4) - 1;
  for (size_t i = 0; i < fs.size(); i += 4) digits.push_back(static_cast<int16_t>(std::stoi(fs.substr(i, 4))));
  size_t lead = 0;
  while (lead < digits.size() && digits[lead] == 0) {
    ++lead;
    --weight;
  }
  digits.erase(digits.begin(), digits.begin() + static_cast<long>(lead));
  while (!digits.empty() && digits.back() == 0) digits.pop_back();
  if (digits.empty()) weight = 0;
  PutBig(out, digits.size(), 2);
  PutBig(out, static_cast<uint16_t>(weight), 2);
  PutBig(out, digits.empty() ? 0 : neg ? 0x4000 : 0, 2);
  PutBig(out, fp.size(), 2);
  for (int16_t d : digits) PutBig(out, static_cast<uint16_t>(d), 2);
  return true;
}

}  // namespace

namespace {

constexpr std::pair<uint32_t, uint32_t> kArrayTypes[] = {
    {16, 1000},   {21, 1005},   {23, 1007},   {20, 1016},   {700, 1021}, {701, 1022},
    {1700, 1231}, {25, 1009},   {1043, 1015}, {17, 1001},   {1082, 1182}, {1083, 1183},
    {1114, 1115}, {1184, 1185}, {1186, 1187}, {2950, 2951}, {114, 199},  {3802, 3807}};

}  // namespace

uint32_t ArrayOid(uint32_t element) {
  for (const auto& [e, a] : kArrayTypes) {
    if (e == element) return a;
  }
  return 0;
}

uint32_t ArrayElementOid(uint32_t array) {
  for (const auto& [e, a] : kArrayTypes) {
    if (a == array) return e;
  }
  return 0;
}

Result<std::vector<std::optional<std::string>>> ParseArrayText(std::string_view t) {
  auto elements = sql::PgArrayElements(t);
  if (!elements) {
    return InvalidArgument("not a one-dimensional array: '" + std::string(t.substr(0, 40)) + "'");
  }
  return std::move(*elements);
}

Result<std::string> TextToBinary(uint32_t oid, std::string_view t) {
  std::string out;
  auto bad = [&] {
    return InvalidArgument("cannot send '" + std::string(t.substr(0, 40)) +
                           "' in binary as type " + std::to_string(oid));
  };
  int64_t v;
  switch (oid) {
    case 16:
      if (t != "t" && t != "f" && t != "true" && t != "false") return bad();
      out.push_back(t[0] == 't' ? 1 : 0);
      return out;
    case 21:
    case 23:
    case 20:
      if (!ParseInt(t, &v)) return bad();
      PutBig(&out, static_cast<uint64_t>(v), oid == 21 ? 2 : oid == 23 ? 4 : 8);
      return out;
    case 700:
    case 701: {
      std::string s(t);
      double d;
      if (s == "inf" || s == "Infinity") d = HUGE_VAL;
      else if (s == "-inf" || s == "-Infinity") d = -HUGE_VAL;
      else if (s == "nan" || s == "NaN" || s == "-nan") d = std::nan("");
      else {
        char* end = nullptr;
        d = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0') return bad();
      }
      if (oid == 700) {
        float f = static_cast<float>(d);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        PutBig(&out, u, 4);
      } else {
        uint64_t u;
        std::memcpy(&u, &d, 8);
        PutBig(&out, u, 8);
      }
      return out;
    }
    case 1700:
      if (!ParseNumeric(t, &out)) return bad();
      return out;
    case 25:
    case 1043:
    case 1042:
    case 19:
    case 114:
      return std::string(t);
    case 17: {
      if (t.substr(0, 2) != "\\x") return bad();
      auto bytes = FromHex(t.substr(2));
      if (!bytes) return bad();
      return *bytes;
    }
    case 1082: {
      int64_t days;
      if (t == "infinity") days = INT32_MAX;
      else if (t == "-infinity") days = INT32_MIN;
      else if (!ParseDate(t, &days)) return bad();
      else days -= kPgEpochDays;
      PutBig(&out, static_cast<uint32_t>(days), 4);
      return out;
    }
    case 1083:
      if (!ParseTime(t, &v)) return bad();
      PutBig(&out, static_cast<uint64_t>(v), 8);
      return out;
    case 1114:
    case 1184: {
      if (t == "infinity" || t == "-infinity") {
        PutBig(&out, t[0] == '-' ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1, 8);
        return out;
      }
      std::string_view s = t;
      if (oid == 1184) {  // the engine writes UTC: "+00"
        if (s.size() < 3 || s.substr(s.size() - 3) != "+00") return bad();
        s.remove_suffix(3);
      }
      size_t space = s.find(' ');
      int64_t days, us;
      if (space == s.npos || !ParseDate(s.substr(0, space), &days) ||
          !ParseTime(s.substr(space + 1), &us)) {
        return bad();
      }
      PutBig(&out, static_cast<uint64_t>((days - kPgEpochDays) * 86400000000LL + us), 8);
      return out;
    }
    case 2950: {
      std::string hex;
      for (char c : t) if (c != '-') hex.push_back(c);
      auto bytes = FromHex(hex);
      if (!bytes || bytes->size() != 16) return bad();
      return *bytes;
    }
    default:
      break;
  }
  if (uint32_t element = ArrayElementOid(oid)) {
    // array_send: dimensions, has-nulls, element type, then each dimension's length and lower
    // bound (1), then each element as its length (-1: NULL) and binary value.
    LM_ASSIGN_OR_RETURN(auto elements, ParseArrayText(t));
    bool nulls = false;
    for (const auto& e : elements) nulls = nulls || !e;
    PutBig(&out, elements.empty() ? 0 : 1, 4);
    PutBig(&out, nulls ? 1 : 0, 4);
    PutBig(&out, element, 4);
    if (!elements.empty()) {
      PutBig(&out, elements.size(), 4);
      PutBig(&out, 1, 4);
    }
    for (const auto& e : elements) {
      if (!e) {
        PutBig(&out, 0xFFFFFFFFu, 4);
        continue;
      }
      LM_ASSIGN_OR_RETURN(std::string b, TextToBinary(element, *e));
      PutBig(&out, b.size(), 4);
      out += b;
    }
    return out;
  }
  return InvalidArgument("binary results of type " + std::to_string(oid) +
                         " are not supported: request text");
}

void MessageWriter::Begin(char type) {
  buf_.push_back(type);
  start_ = buf_.size();
  buf_.append(4, '\0');
}

void MessageWriter::Int32(int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
               static_cast<char>(u)};
  buf_.append(b, 4);
}

void MessageWriter::Int16(int16_t v) {
  uint16_t u = static_cast<uint16_t>(v);
  char b[2] = {static_cast<char>(u >> 8), static_cast<char>(u)};
  buf_.append(b, 2);
}

void MessageWriter::CString(std::string_view s) {
  // A NUL inside would end the field early for the client: cut there.
  size_t nul = s.find('\0');
  buf_.append(s.substr(0, nul));
  buf_.push_back('\0');
}

void MessageWriter::End() {
  uint32_t len = static_cast<uint32_t>(buf_.size() - start_);
  buf_[start_] = static_cast<char>(len >> 24);
  buf_[start_ + 1] = static_cast<char>(len >> 16);
  buf_[start_ + 2] = static_cast<char>(len >> 8);
  buf_[start_ + 3] = static_cast<char>(len);
}

void WriteError(MessageWriter& w, const ErrorFields& e, bool notice) {
  w.Begin(notice ? 'N' : 'E');
  w.Byte('S');
  w.CString(e.severity);
  w.Byte('V');
  w.CString(e.severity);
  w.Byte('C');
  w.CString(e.sqlstate.empty() ? "XX000" : e.sqlstate);
  w.Byte('M');
  w.CString(e.message);
  if (!e.detail.empty()) {
    w.Byte('D');
    w.CString(e.detail);
  }
  if (!e.hint.empty()) {
    w.Byte('H');
    w.CString(e.hint);
  }
  w.Byte('\0');
  w.End();
}

void WriteReadyForQuery(MessageWriter& w, char status) {
  w.Begin('Z');
  w.Byte(status);
  w.End();
}

void WriteParameterStatus(MessageWriter& w, std::string_view name, std::string_view value) {
  w.Begin('S');
  w.CString(name);
  w.CString(value);
  w.End();
}

void WriteCommandComplete(MessageWriter& w, std::string_view tag) {
  w.Begin('C');
  w.CString(tag);
  w.End();
}

void WriteAuthentication(MessageWriter& w, int32_t code, std::string_view data) {
  w.Begin('R');
  w.Int32(code);
  w.Bytes(data);
  w.End();
}

}  // namespace lakemesh::pgwire
