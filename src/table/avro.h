// Avro object container files (the Avro 1.11 spec, "Object Container Files"), as Iceberg keeps
// manifests and manifest lists in them.
//
// Datums are encoded and decoded by Debian's Avro C library (libavro); the container around them
// (header with key-value metadata, blocks, sync markers, the deflate codec) is written and read
// here, because Iceberg needs header metadata ("schema", "partition-spec", "content", ...) that
// libavro's file writer cannot set, and because files arrive as bytes from the blob store rather
// than as paths. Readers take any writer schema and look fields up by name, so manifests written
// by other engines (with other field orders, extra fields or v1 layouts) read too.
//
// Malformed input is kInvalidArgument naming what is wrong; nothing here throws or aborts.
#pragma once

#include <avro.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lakemesh::table::avro {

enum class Codec { kNull, kDeflate };

// Writes records of one schema into an in-memory container file.
class Writer {
 public:
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // `schema` is the Avro schema JSON; `metadata` goes into the header beside avro.schema and
  // avro.codec.
  static Result<std::unique_ptr<Writer>> Create(
      const nlohmann::json& schema, const std::vector<std::pair<std::string, std::string>>& metadata,
      Codec codec = Codec::kDeflate);

  // The record to fill for the next Append; reset to defaults-free empty values each time.
  avro_value_t* record() { return &record_; }
  Status Append();
  // The whole file. The writer is finished afterwards.
  Result<std::string> Finish();

 private:
  Writer() = default;
  Status FlushBlock();

  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t record_{};
  avro_writer_t enc_ = nullptr;
  Codec codec_ = Codec::kDeflate;
  std::string sync_;
  std::string out_;
  std::string block_;
  int64_t block_count_ = 0;
};

class Validator;

// Reads the records of a container file held in memory (which must outlive the reader). Every
// block is checked against the writer's schema before libavro decodes it.
class Reader {
 public:
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  static Result<std::unique_ptr<Reader>> Open(std::string_view file);

  // Header metadata, e.g. "schema", "partition-spec", "content"; nullptr when absent.
  const std::string* Meta(const std::string& key) const;
  // The writer's schema as JSON, with the attributes libavro ignores (field-id, logicalType).
  const nlohmann::json& schema() const { return schema_json_; }

  // Decodes the next record into record(); false at the end of the file.
  Result<bool> Next();
  avro_value_t* record() { return &record_; }

 private:
  Reader() = default;
  static Result<std::unique_ptr<Reader>> OpenImpl(std::string_view file);
  Status LoadBlock();

  std::string_view file_;
  size_t pos_ = 0;
  std::map<std::string, std::string> meta_;
  nlohmann::json schema_json_;
  Codec codec_ = Codec::kNull;
  std::string sync_;
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t record_{};
  avro_reader_t dec_ = nullptr;
  std::unique_ptr<std::string> inflated_;  // from a per-thread pool: planning reads hundreds
  int64_t remaining_ = 0;  // records left in the current block
  std::unique_ptr<Validator> validator_;
};

// --- reading fields ------------------------------------------------------------------------------
// `Get` resolves a record field by name and unwraps a ["null", T] union: false when the field is
// absent or null.
bool Get(avro_value_t* record, const char* name, avro_value_t* out);
// Unwraps a union value (false when its branch is null); a non-union value is returned as is.
bool Unwrap(avro_value_t* value, avro_value_t* out);
// int or long as int64; kInvalidArgument for another type.
Result<int64_t> AsLong(avro_value_t* v);
Result<bool> AsBool(avro_value_t* v);
// string, bytes or fixed as bytes (strings without libavro's terminating NUL).
Result<std::string_view> AsBytes(avro_value_t* v);
Result<double> AsDouble(avro_value_t* v);

// --- writing fields ------------------------------------------------------------------------------
// Each finds the field by name, selects the non-null union branch when the field is optional,
// and sets the value. SetNull selects the null branch.
Status SetNull(avro_value_t* record, const char* name);
Status SetLong(avro_value_t* record, const char* name, int64_t v);  // int or long field
Status SetBool(avro_value_t* record, const char* name, bool v);
Status SetString(avro_value_t* record, const char* name, std::string_view v);
Status SetBytes(avro_value_t* record, const char* name, std::string_view v);  // bytes or fixed
// The value to fill for field `name`, with a union's non-null branch selected.
Result<avro_value_t> FieldForWrite(avro_value_t* record, const char* name);
// Sets a value (already unwrapped) from the matching C++ value.
Status SetValueLong(avro_value_t* v, int64_t x);
Status SetValueBytes(avro_value_t* v, std::string_view x);
Status SetValueDouble(avro_value_t* v, double x);
Status SetValueBool(avro_value_t* v, bool x);

}  // namespace lakemesh::table::avro
