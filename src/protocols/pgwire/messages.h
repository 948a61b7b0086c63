// The PostgreSQL frontend/backend protocol, version 3.0: decoding what clients send (the startup
// packet and typed messages) and encoding what the server answers. Pure functions over bytes, no
// I/O, so that the parsers can be fuzzed. Every decoder checks every length against the bytes it
// has; malformed input is kInvalidArgument, never a crash or an over-read.
// (https://www.postgresql.org/docs/current/protocol-message-formats.html)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lakemesh::pgwire {

inline constexpr uint32_t kProtocol3 = 196608;  // 3.0
inline constexpr uint32_t kSslRequest = 80877103;
inline constexpr uint32_t kGssRequest = 80877104;
inline constexpr uint32_t kCancelRequest = 80877102;
// Larger startup packets and messages are refused (PostgreSQL's own limits are 10000 bytes and
// 1 GiB; one statement's text or parameters above 64 MiB is not a use we serve).
inline constexpr uint32_t kMaxStartupLength = 10000;
inline constexpr uint32_t kMaxMessageLength = 64u << 20;

struct StartupPacket {
  enum class Kind { kStartup, kSsl, kGss, kCancel };
  Kind kind = Kind::kStartup;
  uint32_t protocol = 0;
  std::map<std::string, std::string> params;  // user, database, application_name, options...
  uint32_t cancel_pid = 0, cancel_key = 0;
};

// `body` is the packet after its 4-byte length.
Result<StartupPacket> ParseStartup(std::string_view body);

// The typed messages of the extended query protocol.
struct ParseMessage {
  std::string name, query;
  std::vector<uint32_t> param_types;  // OIDs; 0 = unspecified
};
struct BindMessage {
  std::string portal, statement;
  std::vector<int16_t> param_formats;                // 0 text, 1 binary
  std::vector<std::optional<std::string>> params;    // nullopt = NULL
  std::vector<int16_t> result_formats;
};
struct DescribeMessage {
  char kind = 'S';  // 'S' statement, 'P' portal
  std::string name;
};
struct ExecuteMessage {
  std::string portal;
  int32_t max_rows = 0;  // 0 = all
};
struct CloseMessage {
  char kind = 'S';
  std::string name;
};
struct SaslInitialResponse {
  std::string mechanism;
  std::optional<std::string> data;
};

// Each takes the message body (after the type byte and length).
Result<std::string> ParseQuery(std::string_view body);
Result<ParseMessage> ParseParse(std::string_view body);
Result<BindMessage> ParseBind(std::string_view body);
Result<DescribeMessage> ParseDescribe(std::string_view body);
Result<ExecuteMessage> ParseExecute(std::string_view body);
Result<CloseMessage> ParseClose(std::string_view body);
Result<SaslInitialResponse> ParseSaslInitial(std::string_view body);

// A parameter sent in binary format, as text the engine binds: for the types clients send in
// binary (bool, int2/4/8, float4/8, text/varchar/name, bytea, date, timestamp(tz), uuid, oid).
// kInvalidArgument for a wrong length or a type it does not decode.
Result<std::string> BinaryParamToText(uint32_t oid, std::string_view bytes);

// A result value (PostgreSQL text output, as the engine gives it) in the binary format of type
// `oid`, for clients that ask for binary results (JDBC after a statement's fifth run). Covers
// bool, int2/4/8, float4/8, numeric, text types, bytea, date, time, timestamp(tz), uuid;
// kInvalidArgument for other types or text that does not parse.
Result<std::string> TextToBinary(uint32_t oid, std::string_view text);

// The OID of the one-dimensional array type of elements of type `element` (int4 23 -> int4[]
// 1007), or 0 when there is none here; ArrayElementOid is the reverse (0: not an array type).
uint32_t ArrayOid(uint32_t element);
uint32_t ArrayElementOid(uint32_t array);

// The elements of a one-dimensional array in PostgreSQL's text form (`{1,NULL,"a b"}`), NULL
// elements as nullopt; kInvalidArgument for anything else (nested arrays among it).
Result<std::vector<std::optional<std::string>>> ParseArrayText(std::string_view text);

// Builds backend messages into one buffer: Begin(type), fields, End() (which fills in the
// length).
class MessageWriter {
 public:
  void Begin(char type);
  void Int32(int32_t v);
  void Int16(int16_t v);
  void Byte(char c) { buf_.push_back(c); }
  void CString(std::string_view s);  // the bytes and a terminating NUL
  void Bytes(std::string_view s) { buf_.append(s); }
  void End();
  void Abandon() { buf_.resize(start_ - 1); }  // drops the message begun last, not ended

  std::string& buffer() { return buf_; }
  size_t size() const { return buf_.size(); }
  void Clear() { buf_.clear(); }

 private:
  std::string buf_;
  size_t start_ = 0;
};

// Whole messages.
struct ErrorFields {
  std::string severity = "ERROR";  // ERROR, FATAL, NOTICE, ...
  std::string sqlstate;
  std::string message;
  std::string detail, hint;
};
void WriteError(MessageWriter& w, const ErrorFields& e, bool notice = false);
void WriteReadyForQuery(MessageWriter& w, char status);  // 'I', 'T', 'E'
void WriteParameterStatus(MessageWriter& w, std::string_view name, std::string_view value);
void WriteCommandComplete(MessageWriter& w, std::string_view tag);
void WriteAuthentication(MessageWriter& w, int32_t code, std::string_view data = {});

}  // namespace lakemesh::pgwire
