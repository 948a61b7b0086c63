#include "table/manifest.h"

#include <algorithm>
#include <cmath>

#include "table/avro.h"

namespace lakemesh::table {
namespace {

using Json = nlohmann::json;

Status Bad(std::string m) { return InvalidArgument(std::move(m)); }

// --- schemas -------------------------------------------------------------------------------------

bool FindField(const Json& type, int32_t id, const Json** out) {
  if (!type.is_object()) return false;
  std::string kind = type.value("type", std::string());
  if (kind == "struct") {
    auto fields = type.find("fields");
    if (fields == type.end() || !fields->is_array()) return false;
    for (const Json& f : *fields) {
      if (!f.is_object()) continue;
      auto fid = f.find("id");
      if (fid != f.end() && fid->is_number_integer() && fid->get<int64_t>() == id) {
        auto t = f.find("type");
        if (t == f.end()) return false;
        *out = &*t;
        return true;
      }
      auto t = f.find("type");
      if (t != f.end() && FindField(*t, id, out)) return true;
    }
    return false;
  }
  if (kind == "list") {
    if (type.value("element-id", int64_t{-1}) == id && type.contains("element")) {
      *out = &type["element"];
      return true;
    }
    return type.contains("element") && FindField(type["element"], id, out);
  }
  if (kind == "map") {
    if (type.value("key-id", int64_t{-1}) == id && type.contains("key")) {
      *out = &type["key"];
      return true;
    }
    if (type.value("value-id", int64_t{-1}) == id && type.contains("value")) {
      *out = &type["value"];
      return true;
    }
    return (type.contains("key") && FindField(type["key"], id, out)) ||
           (type.contains("value") && FindField(type["value"], id, out));
  }
  return false;
}

// Avro names: letters, digits and underscores, not starting with a digit. Other characters become
// "_x" and their hex code, as Iceberg's AvroSchemaUtil.makeCompatibleName does.
std::string AvroName(const std::string& name) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = name[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (ok) {
      out.push_back(static_cast<char>(c));
    } else if (i == 0 && c >= '0' && c <= '9') {
      out += "_";
      out.push_back(static_cast<char>(c));
    } else {
      out += "_x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out.empty() ? "_" : out;
}

int DecimalBytes(int precision) {
  // The fewest bytes whose two's complement holds 10^precision - 1.
  for (int n = 1; n <= 16; ++n) {
    if (std::ldexp(1.0, 8 * n - 1) > std::pow(10.0, precision) - 1) return n;
  }
  return 16;
}

Json AvroType(const PrimitiveType& t, const std::string& fixed_name) {
  switch (t.id) {
    case TypeId::kBoolean: return "boolean";
    case TypeId::kInt: return "int";
    case TypeId::kLong: return "long";
    case TypeId::kFloat: return "float";
    case TypeId::kDouble: return "double";
    case TypeId::kDecimal:
      return {{"type", "fixed"}, {"name", fixed_name}, {"size", DecimalBytes(t.precision)},
              {"logicalType", "decimal"}, {"precision", t.precision}, {"scale", t.scale}};
    case TypeId::kDate: return {{"type", "int"}, {"logicalType", "date"}};
    case TypeId::kTime: return {{"type", "long"}, {"logicalType", "time-micros"}};
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz:
      return {{"type", "long"}, {"logicalType", "timestamp-micros"},
              {"adjust-to-utc", t.id == TypeId::kTimestamptz}};
    case TypeId::kTimestampNs:
    case TypeId::kTimestamptzNs:
      return {{"type", "long"}, {"logicalType", "timestamp-nanos"},
              {"adjust-to-utc", t.id == TypeId::kTimestamptzNs}};
    case TypeId::kString: return "string";
    case TypeId::kUuid:
      return {{"type", "fixed"}, {"name", fixed_name}, {"size", 16}, {"logicalType", "uuid"}};
    case TypeId::kFixed: return {{"type", "fixed"}, {"name", fixed_name}, {"size", t.length}};
    case TypeId::kBinary: return "bytes";
  }
  return "null";
}

Json Optional(const std::string& name, Json type, int id) {
  return {{"name", name}, {"type", Json::array({"null", std::move(type)})}, {"default", nullptr},
          {"field-id", id}};
}

Json Required(const std::string& name, Json type, int id) {
  return {{"name", name}, {"type", std::move(type)}, {"field-id", id}};
}

Json IntMap(int key_id, int value_id, const char* value_type) {
  std::string rec = "k" + std::to_string(key_id) + "_v" + std::to_string(value_id);
  Json items = {{"type", "record"},
                {"name", rec},
                {"fields", Json::array({Required("key", "int", key_id),
                                        Required("value", value_type, value_id)})}};
  return {{"type", "array"}, {"items", items}, {"logicalType", "map"}};
}

Json PartitionRecord(const PartitionSpec& spec) {
  Json fields = Json::array();
  for (const PartitionField& f : spec.fields) {
    fields.push_back(Optional(AvroName(f.name),
                              AvroType(f.type, "fixed_" + std::to_string(f.field_id)),
                              f.field_id));
  }
  return {{"type", "record"}, {"name", "r102"}, {"fields", fields}};
}

Json ManifestEntrySchema(const PartitionSpec& spec) {
  Json data_file = {
      {"type", "record"},
      {"name", "r2"},
      {"fields",
       Json::array({
           Required("content", "int", 134),
           Required("file_path", "string", 100),
           Required("file_format", "string", 101),
           Required("partition", PartitionRecord(spec), 102),
           Required("record_count", "long", 103),
           Required("file_size_in_bytes", "long", 104),
           Optional("column_sizes", IntMap(117, 118, "long"), 108),
           Optional("value_counts", IntMap(119, 120, "long"), 109),
           Optional("null_value_counts", IntMap(121, 122, "long"), 110),
           Optional("nan_value_counts", IntMap(138, 139, "long"), 137),
           Optional("lower_bounds", IntMap(126, 127, "bytes"), 125),
           Optional("upper_bounds", IntMap(129, 130, "bytes"), 128),
           Optional("key_metadata", "bytes", 131),
           Optional("split_offsets", {{"type", "array"}, {"items", "long"}, {"element-id", 133}},
                    132),
           Optional("equality_ids", {{"type", "array"}, {"items", "int"}, {"element-id", 136}},
                    135),
           Optional("sort_order_id", "int", 140),
           Optional("referenced_data_file", "string", 143),
       })}};
  return {{"type", "record"},
          {"name", "manifest_entry"},
          {"fields", Json::array({Required("status", "int", 0), Optional("snapshot_id", "long", 1),
                                  Optional("sequence_number", "long", 3),
                                  Optional("file_sequence_number", "long", 4),
                                  Required("data_file", data_file, 2)})}};
}

Json ManifestListSchema() {
  Json summary = {{"type", "record"},
                  {"name", "r508"},
                  {"fields", Json::array({Required("contains_null", "boolean", 509),
                                          Optional("contains_nan", "boolean", 518),
                                          Optional("lower_bound", "bytes", 510),
                                          Optional("upper_bound", "bytes", 511)})}};
  return {{"type", "record"},
          {"name", "manifest_file"},
          {"fields",
           Json::array({
               Required("manifest_path", "string", 500),
               Required("manifest_length", "long", 501),
               Required("partition_spec_id", "int", 502),
               Required("content", "int", 517),
               Required("sequence_number", "long", 515),
               Required("min_sequence_number", "long", 516),
               Required("added_snapshot_id", "long", 503),
               Required("added_files_count", "int", 504),
               Required("existing_files_count", "int", 505),
               Required("deleted_files_count", "int", 506),
               Required("added_rows_count", "long", 512),
               Required("existing_rows_count", "long", 513),
               Required("deleted_rows_count", "long", 514),
               Optional("partitions", {{"type", "array"}, {"items", summary}, {"element-id", 508}},
                        507),
               Optional("key_metadata", "bytes", 519),
           })}};
}

// --- writing values ------------------------------------------------------------------------------

Status SetLiteral(avro_value_t* v, const Literal& x, const PrimitiveType& t) {
  switch (t.id) {
    case TypeId::kBoolean: return avro::SetValueBool(v, x.i != 0);
    case TypeId::kFloat:
    case TypeId::kDouble: return avro::SetValueDouble(v, x.d);
    case TypeId::kDecimal: {
      // Sign-extended to the fixed size of the precision.
      std::string b = ToBytes(x);
      size_t size = static_cast<size_t>(DecimalBytes(t.precision));
      if (b.size() > size) return Bad("decimal value does not fit " + TypeName(t));
      char pad = (!b.empty() && (static_cast<unsigned char>(b[0]) & 0x80)) ? '\xff' : '\0';
      b.insert(b.begin(), size - b.size(), pad);
      return avro::SetValueBytes(v, b);
    }
    case TypeId::kString: case TypeId::kUuid: case TypeId::kFixed: case TypeId::kBinary:
      return avro::SetValueBytes(v, x.s);
    default: return avro::SetValueLong(v, x.i);
  }
}

// Writes a field-id map as Iceberg's array of key/value records; `set` writes one value.
template <typename V, typename F>
Status SetIdMap(avro_value_t* rec, const char* name, const std::vector<std::pair<int32_t, V>>& m,
                F set) {
  if (m.empty()) return avro::SetNull(rec, name);
  LM_ASSIGN_OR_RETURN(avro_value_t arr, avro::FieldForWrite(rec, name));
  for (const auto& [k, v] : m) {
    avro_value_t e, key, val;
    avro_value_append(&arr, &e, nullptr);
    avro_value_get_by_index(&e, 0, &key, nullptr);
    avro_value_get_by_index(&e, 1, &val, nullptr);
    avro_value_set_int(&key, k);
    LM_TRY(set(&val, v));
  }
  return Status::OK();
}

Status SetCountMap(avro_value_t* rec, const char* name, const CountMap& m) {
  return SetIdMap(rec, name, m,
                  [](avro_value_t* v, int64_t x) { return avro::SetValueLong(v, x); });
}

Status SetBoundMap(avro_value_t* rec, const char* name, const BoundMap& m) {
  return SetIdMap(rec, name, m,
                  [](avro_value_t* v, const std::string& x) { return avro::SetValueBytes(v, x); });
}

Status SetOptionalLong(avro_value_t* rec, const char* name, const std::optional<int64_t>& v) {
  return v ? avro::SetLong(rec, name, *v) : avro::SetNull(rec, name);
}

Status WriteDataFile(avro_value_t* df, const DataFile& f, const PartitionSpec& spec) {
  LM_TRY(avro::SetLong(df, "content", static_cast<int>(f.content)));
  LM_TRY(avro::SetString(df, "file_path", f.file_path));
  LM_TRY(avro::SetString(df, "file_format", f.file_format));
  if (f.partition.size() != spec.fields.size()) {
    return Bad("file " + f.file_path + " has " + std::to_string(f.partition.size()) +
               " partition values; spec " + std::to_string(spec.spec_id) + " has " +
               std::to_string(spec.fields.size()) + " fields");
  }
  avro_value_t part;
  avro_value_get_by_name(df, "partition", &part, nullptr);
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    avro_value_t u, branch;
    avro_value_get_by_index(&part, i, &u, nullptr);
    if (!f.partition[i]) {
      avro_value_set_branch(&u, 0, &branch);
      continue;
    }
    avro_value_set_branch(&u, 1, &branch);
    LM_TRY(SetLiteral(&branch, *f.partition[i], spec.fields[i].type));
  }
  LM_TRY(avro::SetLong(df, "record_count", f.record_count));
  LM_TRY(avro::SetLong(df, "file_size_in_bytes", f.file_size_in_bytes));
  LM_TRY(SetCountMap(df, "column_sizes", f.column_sizes));
  LM_TRY(SetCountMap(df, "value_counts", f.value_counts));
  LM_TRY(SetCountMap(df, "null_value_counts", f.null_value_counts));
  LM_TRY(SetCountMap(df, "nan_value_counts", f.nan_value_counts));
  LM_TRY(SetBoundMap(df, "lower_bounds", f.lower_bounds));
  LM_TRY(SetBoundMap(df, "upper_bounds", f.upper_bounds));
  LM_TRY(avro::SetNull(df, "key_metadata"));
  if (f.split_offsets.empty()) {
    LM_TRY(avro::SetNull(df, "split_offsets"));
  } else {
    LM_ASSIGN_OR_RETURN(avro_value_t arr, avro::FieldForWrite(df, "split_offsets"));
    for (int64_t o : f.split_offsets) {
      avro_value_t e;
      avro_value_append(&arr, &e, nullptr);
      avro_value_set_long(&e, o);
    }
  }
  if (f.equality_ids.empty()) {
    LM_TRY(avro::SetNull(df, "equality_ids"));
  } else {
    LM_ASSIGN_OR_RETURN(avro_value_t arr, avro::FieldForWrite(df, "equality_ids"));
    for (int32_t id : f.equality_ids) {
      avro_value_t e;
      avro_value_append(&arr, &e, nullptr);
      avro_value_set_int(&e, id);
    }
  }
  LM_TRY(f.sort_order_id ? avro::SetLong(df, "sort_order_id", *f.sort_order_id)
                         : avro::SetNull(df, "sort_order_id"));
  LM_TRY(f.referenced_data_file ? avro::SetString(df, "referenced_data_file",
                                                  *f.referenced_data_file)
                                : avro::SetNull(df, "referenced_data_file"));
  return Status::OK();
}

// --- reading values ------------------------------------------------------------------------------

Result<std::optional<Literal>> ReadLiteral(avro_value_t* u, const PartitionField& f) {
  avro_value_t v;
  if (!avro::Unwrap(u, &v)) return std::optional<Literal>();
  Literal out{f.type};
  switch (f.type.id) {
    case TypeId::kBoolean: {
      LM_ASSIGN_OR_RETURN(bool b, avro::AsBool(&v));
      out.i = b;
      break;
    }
    case TypeId::kFloat:
    case TypeId::kDouble: {
      LM_ASSIGN_OR_RETURN(out.d, avro::AsDouble(&v));
      break;
    }
    case TypeId::kDecimal:
    case TypeId::kString:
    case TypeId::kUuid:
    case TypeId::kFixed:
    case TypeId::kBinary: {
      LM_ASSIGN_OR_RETURN(std::string_view b, avro::AsBytes(&v));
      LM_ASSIGN_OR_RETURN(out, FromBytes(f.type, b));
      break;
    }
    default: {
      auto n = avro::AsLong(&v);
      if (!n.ok()) {
        if (f.transform.kind == Transform::kUnknown) return std::optional<Literal>();
        return n.status();
      }
      out.i = *n;
      break;
    }
  }
  return std::optional<Literal>(std::move(out));
}

// A field-id map of a data file (column sizes, counts, bounds): Iceberg's array of key/value
// records, or an Avro map with the field ids as string keys. `value` decodes one value in place.
template <typename V, typename F>
Status ReadIdMap(avro_value_t* df, int idx, std::vector<std::pair<int32_t, V>>* out, F value) {
  if (idx < 0) return Status::OK();
  avro_value_t u, m;
  avro_value_get_by_index(df, idx, &u, nullptr);
  if (!avro::Unwrap(&u, &m)) return Status::OK();
  size_t n = 0;
  avro_value_get_size(&m, &n);
  out->reserve(n);
  bool is_map = avro_value_get_type(&m) == AVRO_MAP;
  for (size_t i = 0; i < n; ++i) {
    avro_value_t e, key, val;
    const char* map_key = nullptr;
    avro_value_get_by_index(&m, i, &e, &map_key);
    int64_t k;
    if (is_map) {  // a map with string keys: the field id in decimal
      k = std::atoll(map_key ? map_key : "0");
      val = e;
    } else {
      if (avro_value_get_by_index(&e, 0, &key, nullptr) != 0 ||
          avro_value_get_by_index(&e, 1, &val, nullptr) != 0) {
        return Bad("a metrics map entry is not a key/value record");
      }
      LM_ASSIGN_OR_RETURN(k, avro::AsLong(&key));
    }
    avro_value_t vv;
    if (!avro::Unwrap(&val, &vv)) continue;
    out->emplace_back(static_cast<int32_t>(k), V());
    LM_TRY(value(&vv, &out->back().second));
  }
  std::sort(out->begin(), out->end());
  return Status::OK();
}

Status ReadCountMap(avro_value_t* df, int idx, CountMap* out) {
  return ReadIdMap<int64_t>(df, idx, out, [](avro_value_t* v, int64_t* x) -> Status {
    LM_ASSIGN_OR_RETURN(*x, avro::AsLong(v));
    return Status::OK();
  });
}

Status ReadBoundMap(avro_value_t* df, int idx, BoundMap* out) {
  return ReadIdMap<std::string>(df, idx, out, [](avro_value_t* v, std::string* x) -> Status {
    LM_ASSIGN_OR_RETURN(std::string_view b, avro::AsBytes(v));
    x->assign(b);
    return Status::OK();
  });
}

// Positions of named fields in a record schema (JSON), -1 when absent.
int IndexOf(const Json& record, std::string_view name) {
  auto fields = record.find("fields");
  if (fields == record.end() || !fields->is_array()) return -1;
  for (size_t i = 0; i < fields->size(); ++i) {
    const Json& f = (*fields)[i];
    if (f.is_object() && f.value("name", std::string()) == name) return static_cast<int>(i);
  }
  return -1;
}

const Json* FieldSchema(const Json& record, int idx) {
  if (idx < 0) return nullptr;
  const Json& t = record["fields"][idx]["type"];
  if (t.is_array()) {  // union: the non-null branch
    for (const Json& b : t) {
      if (!(b.is_string() && b == "null")) return &b;
    }
    return nullptr;
  }
  return &t;
}

struct DataFileLayout {
  int content = -1, file_path = -1, file_format = -1, partition = -1, record_count = -1,
      file_size = -1, column_sizes = -1, value_counts = -1, null_counts = -1, nan_counts = -1,
      lower = -1, upper = -1, split_offsets = -1, equality_ids = -1, sort_order_id = -1,
      referenced = -1;
  std::vector<int> partition_index;  // per spec field: position in the avro partition record
};

Result<DataFileLayout> Layout(const Json& df, const PartitionSpec& spec) {
  DataFileLayout l;
  l.content = IndexOf(df, "content");
  l.file_path = IndexOf(df, "file_path");
  l.file_format = IndexOf(df, "file_format");
  l.partition = IndexOf(df, "partition");
  l.record_count = IndexOf(df, "record_count");
  l.file_size = IndexOf(df, "file_size_in_bytes");
  l.column_sizes = IndexOf(df, "column_sizes");
  l.value_counts = IndexOf(df, "value_counts");
  l.null_counts = IndexOf(df, "null_value_counts");
  l.nan_counts = IndexOf(df, "nan_value_counts");
  l.lower = IndexOf(df, "lower_bounds");
  l.upper = IndexOf(df, "upper_bounds");
  l.split_offsets = IndexOf(df, "split_offsets");
  l.equality_ids = IndexOf(df, "equality_ids");
  l.sort_order_id = IndexOf(df, "sort_order_id");
  l.referenced = IndexOf(df, "referenced_data_file");
  if (l.file_path < 0 || l.partition < 0 || l.record_count < 0 || l.file_size < 0) {
    return Bad("manifest's data_file lacks file_path, partition, record_count or "
               "file_size_in_bytes");
  }
  const Json* part = FieldSchema(df, l.partition);
  if (!part || !part->is_object() || !part->contains("fields")) {
    return Bad("manifest's partition is not a record");
  }
  const Json& pfields = (*part)["fields"];
  l.partition_index.assign(spec.fields.size(), -1);
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    for (size_t j = 0; j < pfields.size(); ++j) {
      if (pfields[j].value("field-id", int64_t{-1}) == spec.fields[i].field_id) {
        l.partition_index[i] = static_cast<int>(j);
      }
    }
    // Manifests without field ids: by position.
    if (l.partition_index[i] < 0 && i < pfields.size() && !pfields[i].contains("field-id")) {
      l.partition_index[i] = static_cast<int>(i);
    }
  }
  return l;
}

Result<int64_t> LongAt(avro_value_t* rec, int idx) {
  avro_value_t u, v;
  if (idx < 0) return Bad("missing field");
  avro_value_get_by_index(rec, idx, &u, nullptr);
  if (!avro::Unwrap(&u, &v)) return Bad("null field");
  return avro::AsLong(&v);
}

std::optional<int64_t> OptLongAt(avro_value_t* rec, int idx) {
  auto r = LongAt(rec, idx);
  if (!r.ok()) return std::nullopt;
  return *r;
}

Result<std::string> StringAt(avro_value_t* rec, int idx) {
  avro_value_t u, v;
  if (idx < 0) return Bad("missing field");
  avro_value_get_by_index(rec, idx, &u, nullptr);
  if (!avro::Unwrap(&u, &v)) return Bad("null field");
  LM_ASSIGN_OR_RETURN(std::string_view s, avro::AsBytes(&v));
  return std::string(s);
}

}  // namespace

// --- public --------------------------------------------------------------------------------------

Result<PrimitiveType> FieldType(const Json& schema, int32_t id) {
  const Json* t = nullptr;
  if (!FindField(schema, id, &t) || !t->is_string()) {
    return NotFound("no primitive field with id " + std::to_string(id) + " in the schema");
  }
  return ParsePrimitiveType(t->get<std::string>());
}

Result<PartitionSpec> BindPartitionSpec(const Json& spec, const Json& schema) {
  PartitionSpec out;
  out.json = spec;
  if (!spec.is_object()) return Bad("partition spec must be an object");
  out.spec_id = static_cast<int32_t>(spec.value("spec-id", int64_t{0}));
  auto fields = spec.find("fields");
  if (fields == spec.end()) return out;
  if (!fields->is_array()) return Bad("partition spec fields must be an array");
  for (const Json& f : *fields) {
    if (!f.is_object() || !f.contains("source-id") || !f.contains("field-id") ||
        !f.contains("transform") || !f["transform"].is_string() || !f["source-id"].is_number() ||
        !f["field-id"].is_number()) {
      return Bad("partition field needs source-id, field-id and transform: " + f.dump());
    }
    PartitionField pf;
    pf.field_id = f["field-id"].get<int32_t>();
    pf.source_id = f["source-id"].get<int32_t>();
    pf.name = f.value("name", std::string("_") + std::to_string(pf.field_id));
    pf.transform = ParseTransform(f["transform"].get<std::string>());
    auto st = FieldType(schema, pf.source_id);
    if (!st.ok()) {
      pf.transform.kind = Transform::kUnknown;
      pf.source_type = pf.type = PrimitiveType{TypeId::kInt};
    } else {
      pf.source_type = *st;
      auto rt = ResultType(pf.transform, *st);
      if (!rt.ok()) return rt.status();
      pf.type = *rt;
    }
    out.fields.push_back(std::move(pf));
  }
  return out;
}

const int64_t* Lookup(const CountMap& m, int32_t id) {
  auto it = std::lower_bound(m.begin(), m.end(), id,
                             [](const auto& e, int32_t k) { return e.first < k; });
  return it != m.end() && it->first == id ? &it->second : nullptr;
}

const std::string* Lookup(const BoundMap& m, int32_t id) {
  auto it = std::lower_bound(m.begin(), m.end(), id,
                             [](const auto& e, int32_t k) { return e.first < k; });
  return it != m.end() && it->first == id ? &it->second : nullptr;
}

Result<std::string> WriteManifest(const Json& schema, const PartitionSpec& spec,
                                  ManifestContent content,
                                  const std::vector<ManifestEntry>& entries, ManifestFile* out) {
  std::vector<std::pair<std::string, std::string>> meta = {
      {"schema", schema.dump()},
      {"schema-id", std::to_string(schema.value("schema-id", int64_t{0}))},
      {"partition-spec", spec.json.value("fields", Json::array()).dump()},
      {"partition-spec-id", std::to_string(spec.spec_id)},
      {"format-version", "2"},
      {"content", content == ManifestContent::kData ? "data" : "deletes"},
  };
  LM_ASSIGN_OR_RETURN(auto w, avro::Writer::Create(ManifestEntrySchema(spec), meta));

  ManifestFile m;
  m.partition_spec_id = spec.spec_id;
  m.content = content;
  m.added_files_count = m.existing_files_count = m.deleted_files_count = 0;
  m.added_rows_count = m.existing_rows_count = m.deleted_rows_count = 0;
  std::vector<std::optional<Literal>> lo(spec.fields.size()), hi(spec.fields.size());
  m.partitions.resize(spec.fields.size());
  std::optional<int64_t> min_seq;

  for (const ManifestEntry& e : entries) {
    bool is_data = e.file.content == FileContent::kData;
    if (is_data != (content == ManifestContent::kData)) {
      return Bad("a " + std::string(is_data ? "data" : "delete") + " file cannot go into a " +
                 (is_data ? "delete" : "data") + " manifest: " + e.file.file_path);
    }
    if (e.status != EntryStatus::kAdded && (!e.sequence_number || !e.file_sequence_number)) {
      return Bad("existing and deleted entries need explicit sequence numbers: " +
                 e.file.file_path);
    }
    avro_value_t* rec = w->record();
    LM_TRY(avro::SetLong(rec, "status", static_cast<int>(e.status)));
    LM_TRY(SetOptionalLong(rec, "snapshot_id", e.snapshot_id));
    LM_TRY(SetOptionalLong(rec, "sequence_number", e.sequence_number));
    LM_TRY(SetOptionalLong(rec, "file_sequence_number", e.file_sequence_number));
    avro_value_t df;
    avro_value_get_by_name(rec, "data_file", &df, nullptr);
    LM_TRY(WriteDataFile(&df, e.file, spec));
    LM_TRY(w->Append());

    switch (e.status) {
      case EntryStatus::kAdded:
        ++*m.added_files_count;
        *m.added_rows_count += e.file.record_count;
        break;
      case EntryStatus::kExisting:
        ++*m.existing_files_count;
        *m.existing_rows_count += e.file.record_count;
        break;
      case EntryStatus::kDeleted:
        ++*m.deleted_files_count;
        *m.deleted_rows_count += e.file.record_count;
        break;
    }
    if (e.status != EntryStatus::kDeleted && e.sequence_number) {
      min_seq = min_seq ? std::min(*min_seq, *e.sequence_number) : *e.sequence_number;
    }
    for (size_t i = 0; i < spec.fields.size(); ++i) {
      const auto& v = e.file.partition[i];
      FieldSummary& s = m.partitions[i];
      if (!v) {
        s.contains_null = true;
        continue;
      }
      bool floating = v->type.id == TypeId::kFloat || v->type.id == TypeId::kDouble;
      if (floating) {
        if (!s.contains_nan) s.contains_nan = false;
        if (std::isnan(v->d)) {
          s.contains_nan = true;
          continue;
        }
      }
      if (!lo[i] || Compare(*v, *lo[i]) < 0) lo[i] = v;
      if (!hi[i] || Compare(*v, *hi[i]) > 0) hi[i] = v;
    }
  }
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (lo[i]) m.partitions[i].lower_bound = ToBytes(*lo[i]);
    if (hi[i]) m.partitions[i].upper_bound = ToBytes(*hi[i]);
  }
  // Entries that inherit their sequence number get the manifest's, which the list assigns; the
  // caller lowers min_sequence_number to it.
  m.min_sequence_number = min_seq.value_or(INT64_MAX);
  LM_ASSIGN_OR_RETURN(std::string bytes, w->Finish());
  m.manifest_length = static_cast<int64_t>(bytes.size());
  if (out) *out = std::move(m);
  return bytes;
}

Result<std::string> WriteManifestList(int64_t snapshot_id, std::optional<int64_t> parent_id,
                                      int64_t sequence_number,
                                      const std::vector<ManifestFile>& manifests) {
  std::vector<std::pair<std::string, std::string>> meta = {
      {"snapshot-id", std::to_string(snapshot_id)},
      {"parent-snapshot-id", parent_id ? std::to_string(*parent_id) : "null"},
      {"sequence-number", std::to_string(sequence_number)},
      {"format-version", "2"},
  };
  LM_ASSIGN_OR_RETURN(auto w, avro::Writer::Create(ManifestListSchema(), meta));
  for (const ManifestFile& m : manifests) {
    avro_value_t* rec = w->record();
    LM_TRY(avro::SetString(rec, "manifest_path", m.manifest_path));
    LM_TRY(avro::SetLong(rec, "manifest_length", m.manifest_length));
    LM_TRY(avro::SetLong(rec, "partition_spec_id", m.partition_spec_id));
    LM_TRY(avro::SetLong(rec, "content", static_cast<int>(m.content)));
    LM_TRY(avro::SetLong(rec, "sequence_number", m.sequence_number));
    LM_TRY(avro::SetLong(rec, "min_sequence_number",
                         std::min(m.min_sequence_number, m.sequence_number)));
    LM_TRY(avro::SetLong(rec, "added_snapshot_id", m.added_snapshot_id));
    LM_TRY(avro::SetLong(rec, "added_files_count", m.added_files_count.value_or(0)));
    LM_TRY(avro::SetLong(rec, "existing_files_count", m.existing_files_count.value_or(0)));
    LM_TRY(avro::SetLong(rec, "deleted_files_count", m.deleted_files_count.value_or(0)));
    LM_TRY(avro::SetLong(rec, "added_rows_count", m.added_rows_count.value_or(0)));
    LM_TRY(avro::SetLong(rec, "existing_rows_count", m.existing_rows_count.value_or(0)));
    LM_TRY(avro::SetLong(rec, "deleted_rows_count", m.deleted_rows_count.value_or(0)));
    LM_ASSIGN_OR_RETURN(avro_value_t arr, avro::FieldForWrite(rec, "partitions"));
    for (const FieldSummary& s : m.partitions) {
      avro_value_t e;
      avro_value_append(&arr, &e, nullptr);
      LM_TRY(avro::SetBool(&e, "contains_null", s.contains_null));
      LM_TRY(s.contains_nan ? avro::SetBool(&e, "contains_nan", *s.contains_nan)
                            : avro::SetNull(&e, "contains_nan"));
      LM_TRY(s.lower_bound ? avro::SetBytes(&e, "lower_bound", *s.lower_bound)
                           : avro::SetNull(&e, "lower_bound"));
      LM_TRY(s.upper_bound ? avro::SetBytes(&e, "upper_bound", *s.upper_bound)
                           : avro::SetNull(&e, "upper_bound"));
    }
    LM_TRY(avro::SetNull(rec, "key_metadata"));
    LM_TRY(w->Append());
  }
  return w->Finish();
}

static Result<std::vector<ManifestFile>> ReadManifestListImpl(std::string_view file) {
  LM_ASSIGN_OR_RETURN(auto r, avro::Reader::Open(file));
  std::vector<ManifestFile> out;
  auto opt32 = [](avro_value_t* rec, const char* a, const char* b) -> std::optional<int32_t> {
    avro_value_t v;
    if (avro::Get(rec, a, &v) || (b && avro::Get(rec, b, &v))) {
      auto n = avro::AsLong(&v);
      if (n.ok()) return static_cast<int32_t>(*n);
    }
    return std::nullopt;
  };
  auto opt64 = [](avro_value_t* rec, const char* a, const char* b) -> std::optional<int64_t> {
    avro_value_t v;
    if (avro::Get(rec, a, &v) || (b && avro::Get(rec, b, &v))) {
      auto n = avro::AsLong(&v);
      if (n.ok()) return *n;
    }
    return std::nullopt;
  };
  while (true) {
    LM_ASSIGN_OR_RETURN(bool more, r->Next());
    if (!more) break;
    avro_value_t* rec = r->record();
    ManifestFile m;
    avro_value_t v;
    if (!avro::Get(rec, "manifest_path", &v)) return Bad("manifest list entry without a path");
    LM_ASSIGN_OR_RETURN(std::string_view path, avro::AsBytes(&v));
    m.manifest_path = std::string(path);
    m.manifest_length = opt64(rec, "manifest_length", nullptr).value_or(0);
    auto spec = opt32(rec, "partition_spec_id", nullptr);
    if (!spec) return Bad("manifest list entry without partition_spec_id: " + m.manifest_path);
    m.partition_spec_id = *spec;
    m.content = opt32(rec, "content", nullptr).value_or(0) == 1 ? ManifestContent::kDeletes
                                                                  : ManifestContent::kData;
    m.sequence_number = opt64(rec, "sequence_number", nullptr).value_or(0);
    m.min_sequence_number = opt64(rec, "min_sequence_number", nullptr).value_or(0);
    m.added_snapshot_id = opt64(rec, "added_snapshot_id", nullptr).value_or(0);
    // v1 manifest lists name the counts "*_data_files_count".
    m.added_files_count = opt32(rec, "added_files_count", "added_data_files_count");
    m.existing_files_count = opt32(rec, "existing_files_count", "existing_data_files_count");
    m.deleted_files_count = opt32(rec, "deleted_files_count", "deleted_data_files_count");
    m.added_rows_count = opt64(rec, "added_rows_count", nullptr);
    m.existing_rows_count = opt64(rec, "existing_rows_count", nullptr);
    m.deleted_rows_count = opt64(rec, "deleted_rows_count", nullptr);
    avro_value_t parts;
    if (avro::Get(rec, "partitions", &parts)) {
      size_t n = 0;
      avro_value_get_size(&parts, &n);
      for (size_t i = 0; i < n; ++i) {
        avro_value_t e, f;
        avro_value_get_by_index(&parts, i, &e, nullptr);
        FieldSummary s;
        if (avro::Get(&e, "contains_null", &f)) {
          LM_ASSIGN_OR_RETURN(s.contains_null, avro::AsBool(&f));
        }
        if (avro::Get(&e, "contains_nan", &f)) {
          LM_ASSIGN_OR_RETURN(bool b, avro::AsBool(&f));
          s.contains_nan = b;
        }
        if (avro::Get(&e, "lower_bound", &f)) {
          LM_ASSIGN_OR_RETURN(std::string_view b, avro::AsBytes(&f));
          s.lower_bound = std::string(b);
        }
        if (avro::Get(&e, "upper_bound", &f)) {
          LM_ASSIGN_OR_RETURN(std::string_view b, avro::AsBytes(&f));
          s.upper_bound = std::string(b);
        }
        m.partitions.push_back(std::move(s));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

static Result<std::vector<ManifestEntry>> ReadManifestImpl(std::string_view file,
                                                           const ManifestFile& m,
                                                           const PartitionSpec& spec,
                                                           const PartitionFilter& keep) {
  LM_ASSIGN_OR_RETURN(auto r, avro::Reader::Open(file));
  const Json& schema = r->schema();
  int status_idx = IndexOf(schema, "status"), snap_idx = IndexOf(schema, "snapshot_id"),
      seq_idx = IndexOf(schema, "sequence_number"),
      fseq_idx = IndexOf(schema, "file_sequence_number"),
      df_idx = IndexOf(schema, "data_file");
  if (status_idx < 0 || df_idx < 0) return Bad("not a manifest: no status or data_file field");
  const Json* df_schema = FieldSchema(schema, df_idx);
  if (!df_schema || !df_schema->is_object()) return Bad("manifest's data_file is not a record");
  LM_ASSIGN_OR_RETURN(DataFileLayout l, Layout(*df_schema, spec));

  std::vector<ManifestEntry> out;
  PartitionTuple partition(spec.fields.size());
  while (true) {
    LM_ASSIGN_OR_RETURN(bool more, r->Next());
    if (!more) break;
    avro_value_t* rec = r->record();
    avro_value_t df, pv;
    avro_value_get_by_index(rec, df_idx, &df, nullptr);
    avro_value_get_by_index(&df, l.partition, &pv, nullptr);
    for (size_t i = 0; i < spec.fields.size(); ++i) {
      partition[i].reset();
      if (l.partition_index[i] < 0) continue;
      avro_value_t u;
      avro_value_get_by_index(&pv, l.partition_index[i], &u, nullptr);
      LM_ASSIGN_OR_RETURN(partition[i], ReadLiteral(&u, spec.fields[i]));
    }
    if (keep && !keep(partition)) continue;

    ManifestEntry e;
    LM_ASSIGN_OR_RETURN(int64_t status, LongAt(rec, status_idx));
    if (status < 0 || status > 2) return Bad("manifest entry status " + std::to_string(status));
    e.status = static_cast<EntryStatus>(status);
    e.snapshot_id = OptLongAt(rec, snap_idx);
    e.sequence_number = OptLongAt(rec, seq_idx);
    e.file_sequence_number = OptLongAt(rec, fseq_idx);
    // Inheritance (spec: "Sequence Number Inheritance"); v1 manifests have no sequence numbers.
    if (!e.snapshot_id) e.snapshot_id = m.added_snapshot_id;
    if (seq_idx < 0) {
      e.sequence_number = e.file_sequence_number = 0;
    } else if (e.status == EntryStatus::kAdded) {
      if (!e.sequence_number) e.sequence_number = m.sequence_number;
      if (!e.file_sequence_number) e.file_sequence_number = m.sequence_number;
    }
    DataFile& f = e.file;
    int64_t content = OptLongAt(&df, l.content).value_or(0);
    if (content < 0 || content > 2) return Bad("data file content " + std::to_string(content));
    f.content = static_cast<FileContent>(content);
    LM_ASSIGN_OR_RETURN(f.file_path, StringAt(&df, l.file_path));
    auto format = StringAt(&df, l.file_format);
    f.file_format = format.ok() ? *format : "PARQUET";
    f.partition = partition;
    LM_ASSIGN_OR_RETURN(f.record_count, LongAt(&df, l.record_count));
    LM_ASSIGN_OR_RETURN(f.file_size_in_bytes, LongAt(&df, l.file_size));
    LM_TRY(ReadCountMap(&df, l.column_sizes, &f.column_sizes));
    LM_TRY(ReadCountMap(&df, l.value_counts, &f.value_counts));
    LM_TRY(ReadCountMap(&df, l.null_counts, &f.null_value_counts));
    LM_TRY(ReadCountMap(&df, l.nan_counts, &f.nan_value_counts));
    LM_TRY(ReadBoundMap(&df, l.lower, &f.lower_bounds));
    LM_TRY(ReadBoundMap(&df, l.upper, &f.upper_bounds));
    for (int idx : {l.split_offsets, l.equality_ids}) {
      avro_value_t u, arr;
      if (idx < 0) continue;
      avro_value_get_by_index(&df, idx, &u, nullptr);
      if (!avro::Unwrap(&u, &arr)) continue;
      size_t n = 0;
      avro_value_get_size(&arr, &n);
      for (size_t i = 0; i < n; ++i) {
        avro_value_t x, xv;
        avro_value_get_by_index(&arr, i, &x, nullptr);
        if (!avro::Unwrap(&x, &xv)) continue;
        LM_ASSIGN_OR_RETURN(int64_t n64, avro::AsLong(&xv));
        if (idx == l.split_offsets) {
          f.split_offsets.push_back(n64);
        } else {
          f.equality_ids.push_back(static_cast<int32_t>(n64));
        }
      }
    }
    if (auto so = OptLongAt(&df, l.sort_order_id)) f.sort_order_id = static_cast<int32_t>(*so);
    if (auto ref = StringAt(&df, l.referenced); ref.ok()) f.referenced_data_file = *ref;
    out.push_back(std::move(e));
  }
  return out;
}

// Files come from storage, written by any engine: a schema field of an unexpected JSON type is
// an invalid file, not an exception.
template <typename F>
static auto Guarded(F f) -> decltype(f()) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    return Bad(std::string("malformed Avro schema in a manifest: ") + e.what());
  }
}

Result<std::vector<ManifestFile>> ReadManifestList(std::string_view file) {
  return Guarded([&] { return ReadManifestListImpl(file); });
}

Result<std::vector<ManifestEntry>> ReadManifest(std::string_view file, const ManifestFile& m,
                                                const PartitionSpec& spec,
                                                const PartitionFilter& keep) {
  return Guarded([&] { return ReadManifestImpl(file, m, spec, keep); });
}

}  // namespace lakemesh::table
