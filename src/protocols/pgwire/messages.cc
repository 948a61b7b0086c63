#include "protocols/pgwire/messages.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/hash.h"

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
