#include "table/avro.h"

#include <zlib.h>

#include <cstring>
#include <set>

#include "base/compress.h"
#include "base/json_depth.h"
#include "base/random.h"

namespace lakemesh::table::avro {
namespace {

using Json = nlohmann::json;

constexpr char kMagic[4] = {'O', 'b', 'j', 1};
constexpr size_t kBlockBytes = 256 * 1024;            // a block is written once this full
constexpr size_t kMaxInflatedBlock = 512u << 20;      // a block may not inflate beyond this

Status Bad(std::string m) { return InvalidArgument("Avro file: " + std::move(m)); }

std::string AvroError(std::string_view what) {
  return std::string(what) + ": " + avro_strerror();
}

void PutLong(std::string* out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out->push_back(static_cast<char>((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out->push_back(static_cast<char>(z));
}

void PutBytes(std::string* out, std::string_view b) {
  PutLong(out, static_cast<int64_t>(b.size()));
  out->append(b);
}

bool GetLong(std::string_view in, size_t* pos, int64_t* v) {
  uint64_t z = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= in.size()) return false;
    unsigned char c = in[(*pos)++];
    z |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
      return true;
    }
  }
  return false;
}

bool GetBytes(std::string_view in, size_t* pos, std::string_view* b) {
  int64_t n;
  if (!GetLong(in, pos, &n) || n < 0 || static_cast<uint64_t>(n) > in.size() - *pos) return false;
  *b = in.substr(*pos, static_cast<size_t>(n));
  *pos += static_cast<size_t>(n);
  return true;
}

Result<std::string> Deflate(std::string_view in) { return lakemesh::Deflate(in, DeflateFormat::kRaw); }

Status Inflate(std::string_view in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return Internal("inflateInit2 failed");
  out->resize(std::max({out->capacity(), in.size() * 4, size_t{4096}}));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out->size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (zs.avail_out == 0) {
      if (out->size() >= kMaxInflatedBlock) {
        inflateEnd(&zs);
        return Bad("a block inflates beyond " + std::to_string(kMaxInflatedBlock >> 20) + " MiB");
      }
      out->resize(std::min(out->size() * 2, kMaxInflatedBlock));
    } else if (rc == Z_BUF_ERROR || zs.avail_in == 0) {
      rc = Z_DATA_ERROR;  // input ended before the stream did
      break;
    }
  }
  out->resize(zs.total_out);
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Bad("a deflate block is corrupt");
  return Status::OK();
}

}  // namespace

// Checks that `count` records of the writer's schema are exactly `data`, reading nothing beyond
// it, with every length non-negative and within the bytes left, every union branch in range and
// nesting bounded. libavro trusts the lengths it decodes (a corrupt one makes it allocate whatever
// the file says), so a block reaches it only after this pass. The schema is compiled once into
// nodes so the pass costs little beside decoding.
class Validator {
 public:
  explicit Validator(const Json& schema) {
    Register(schema, "");
    root_ = duplicate_ ? nullptr : Compile(schema, 0);
  }

  bool usable() const { return root_ != nullptr; }

  Status Check(std::string_view data, int64_t count) {
    in_ = data;
    pos_ = 0;
    for (int64_t i = 0; i < count; ++i) {
      if (!root_ || !Skip(*root_, 0)) return Bad("a record does not decode (corrupt block)");
    }
    if (pos_ != in_.size()) return Bad("a block has bytes after its records");
    return Status::OK();
  }

 private:
  enum class Kind { kNull, kBool, kVarint, kFloat, kDouble, kBytes, kFixed, kRecord, kArray, kMap,
                    kUnion };
  struct Node {
    Kind kind = Kind::kNull;
    int64_t size = 0;                    // fixed
    std::vector<const Node*> children;  // record fields, union branches, array/map item
  };

  void Register(const Json& s, const std::string& ns) {
    if (s.is_array()) {
      for (const Json& b : s) Register(b, ns);
      return;
    }
    if (!s.is_object()) return;
    std::string type = s.value("type", std::string());
    std::string space = s.value("namespace", ns);
    if ((type == "record" || type == "error" || type == "enum" || type == "fixed") &&
        s.contains("name") && s["name"].is_string()) {
      std::string name = s["name"].get<std::string>();
      // A name defined twice is an invalid schema (libavro rejects it, leaking what it parsed).
      if (auto it = named_json_.find(name); it != named_json_.end() && it->second != &s) {
        duplicate_ = true;
      }
      named_json_[name] = &s;
      if (!space.empty() && name.find('.') == std::string::npos) {
        named_json_[space + "." + name] = &s;
      }
      size_t dot = name.rfind('.');
      if (dot != std::string::npos) named_json_[name.substr(dot + 1)] = &s;
    }
    if ((type == "record" || type == "error") && s.contains("fields") && s["fields"].is_array()) {
      for (const Json& f : s["fields"]) {
        if (f.is_object() && f.contains("type")) Register(f["type"], space);
      }
    }
    if (type == "array" && s.contains("items")) Register(s["items"], space);
    if (type == "map" && s.contains("values")) Register(s["values"], space);
    if (s.contains("type") && (s["type"].is_object() || s["type"].is_array())) {
      Register(s["type"], space);
    }
  }

  // Avro names: [A-Za-z_][A-Za-z0-9_]*, dot-separated for full names.
  static bool ValidName(const Json& j) {
    if (!j.is_string()) return false;
    const std::string& n = j.get_ref<const std::string&>();
    bool start = true;
    for (char c : n) {
      if (c == '.' && !start) {
        start = true;
        continue;
      }
      bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      if (!alpha && (start || c < '0' || c > '9')) return false;
      start = false;
    }
    return !start;
  }

  Node* New(Kind k) {
    nodes_.push_back(std::make_unique<Node>());
    nodes_.back()->kind = k;
    return nodes_.back().get();
  }

  // nullptr for a schema this cannot compile (then every block fails the check).
  const Node* Compile(const Json& s, int depth) {
    if (depth > 64) return nullptr;
    if (s.is_array()) {
      Node* n = New(Kind::kUnion);
      for (const Json& b : s) {
        const Node* c = Compile(b, depth + 1);
        if (!c) return nullptr;
        n->children.push_back(c);
      }
      return n;
    }
    std::string type;
    if (s.is_string()) {
      type = s.get<std::string>();
    } else if (s.is_object() && s.contains("type")) {
      if (!s["type"].is_string()) return Compile(s["type"], depth + 1);
      type = s["type"].get<std::string>();
    } else {
      return nullptr;
    }
    if (type == "null") return New(Kind::kNull);
    if (type == "boolean") return New(Kind::kBool);
    if (type == "int" || type == "long") return New(Kind::kVarint);
    if (type == "float") return New(Kind::kFloat);
    if (type == "double") return New(Kind::kDouble);
    if (type == "bytes" || type == "string") return New(Kind::kBytes);
    if (s.is_object()) {
      if (type == "enum") {
        if (!s.contains("name") || !ValidName(s["name"]) || !s.contains("symbols") ||
            !s["symbols"].is_array() || s["symbols"].empty()) {
          return nullptr;
        }
        for (const Json& sym : s["symbols"]) {
          if (!ValidName(sym)) return nullptr;
        }
        return New(Kind::kVarint);
      }
      if (type == "fixed") {
        if (!s.contains("name") || !ValidName(s["name"])) return nullptr;
        Node* n = New(Kind::kFixed);
        n->size = s.value("size", int64_t{-1});
        return n->size < 0 ? nullptr : n;
      }
      if (type == "record" || type == "error") {
        if (!s.contains("name") || !ValidName(s["name"])) return nullptr;
        Node* n = New(Kind::kRecord);
        compiled_[&s] = n;
        in_progress_.insert(&s);
        if (!s.contains("fields") || !s["fields"].is_array()) return nullptr;
        std::set<std::string> names;
        for (const Json& f : s["fields"]) {
          if (!f.is_object() || !f.contains("type") || !f.contains("name") ||
              !ValidName(f["name"]) || !names.insert(f["name"].get<std::string>()).second) {
            return nullptr;
          }
          const Node* c = Compile(f["type"], depth + 1);
          if (!c) return nullptr;
          n->children.push_back(c);
        }
        in_progress_.erase(&s);
        return n;
      }
      if (type == "array" || type == "map") {
        Node* n = New(type == "array" ? Kind::kArray : Kind::kMap);
        const char* key = type == "array" ? "items" : "values";
        if (!s.contains(key)) return nullptr;
        const Node* c = Compile(s[key], depth + 1);
        if (!c) return nullptr;
        n->children.push_back(c);
        return n;
      }
    }
    // A reference to a named type compiled already. A recursive schema (a record that refers
    // to itself) is refused: no manifest has one, and libavro recurses without end building
    // values for some.
    auto it = named_json_.find(type);
    if (it == named_json_.end() || in_progress_.count(it->second)) return nullptr;
    if (auto done = compiled_.find(it->second); done != compiled_.end()) return done->second;
    return Compile(*it->second, depth + 1);
  }

  bool Long(int64_t* v) { return GetLong(in_, &pos_, v); }
  bool Take(int64_t n) {
    if (n < 0 || static_cast<uint64_t>(n) > in_.size() - pos_) return false;
    pos_ += static_cast<size_t>(n);
    return true;
  }

  bool Skip(const Node& n, int depth) {
    if (depth > 64) return false;
    int64_t v;
    switch (n.kind) {
      case Kind::kNull: return true;
      case Kind::kBool: return Take(1);
      case Kind::kVarint: return Long(&v);
      case Kind::kFloat: return Take(4);
      case Kind::kDouble: return Take(8);
      case Kind::kBytes: return Long(&v) && Take(v);
      case Kind::kFixed: return Take(n.size);
      case Kind::kUnion:
        if (!Long(&v) || v < 0 || static_cast<uint64_t>(v) >= n.children.size()) return false;
        return Skip(*n.children[static_cast<size_t>(v)], depth + 1);
      case Kind::kRecord:
        for (const Node* c : n.children) {
          if (!Skip(*c, depth + 1)) return false;
        }
        return true;
      case Kind::kArray:
      case Kind::kMap:
        while (true) {
          int64_t count;
          if (!Long(&count)) return false;
          if (count == 0) return true;
          if (count < 0) {
            int64_t bytes;
            if (count == INT64_MIN || !Long(&bytes) || bytes < 0) return false;
            count = -count;
          }
          // Items of an empty type take no bytes; do not loop on a count no data backs.
          if (count > static_cast<int64_t>(in_.size() - pos_) * 8 + 1024) return false;
          for (int64_t i = 0; i < count; ++i) {
            if (n.kind == Kind::kMap && !(Long(&v) && Take(v))) return false;
            if (!Skip(*n.children[0], depth + 1)) return false;
          }
        }
    }
    return false;
  }

  std::map<std::string, const Json*> named_json_;
  std::map<const Json*, const Node*> compiled_;
  std::set<const Json*> in_progress_;  // records whose fields are being compiled
  std::vector<std::unique_ptr<Node>> nodes_;
  const Node* root_ = nullptr;
  bool duplicate_ = false;
  std::string_view in_;
  size_t pos_ = 0;
};

// --- Writer ------------------------------------------------------------------------------------

Writer::~Writer() {
  if (enc_) avro_writer_free(enc_);
  if (iface_) {
    avro_value_decref(&record_);
    avro_value_iface_decref(iface_);
  }
  if (schema_) avro_schema_decref(schema_);
}

Result<std::unique_ptr<Writer>> Writer::Create(
    const Json& schema, const std::vector<std::pair<std::string, std::string>>& metadata,
    Codec codec) {
  std::unique_ptr<Writer> w(new Writer());
  std::string text = schema.dump();
  // On failure libavro may leave a freed schema in its out parameter: parse into a local.
  avro_schema_t parsed = nullptr;
  if (avro_schema_from_json_length(text.data(), text.size(), &parsed) != 0) {
    return Internal(AvroError("bad Avro schema"));
  }
  w->schema_ = parsed;
  w->iface_ = avro_generic_class_from_schema(w->schema_);
  if (!w->iface_ || avro_generic_value_new(w->iface_, &w->record_) != 0) {
    if (w->iface_) {
      avro_value_iface_decref(w->iface_);
      w->iface_ = nullptr;
    }
    return Internal(AvroError("Avro value"));
  }
  w->enc_ = avro_writer_memory(nullptr, 0);
  w->codec_ = codec;
  w->sync_ = RandomBytes(16);
  w->out_.append(kMagic, 4);
  PutLong(&w->out_, static_cast<int64_t>(metadata.size() + 2));
  PutBytes(&w->out_, "avro.schema");
  PutBytes(&w->out_, text);
  PutBytes(&w->out_, "avro.codec");
  PutBytes(&w->out_, codec == Codec::kDeflate ? "deflate" : "null");
  for (const auto& [k, v] : metadata) {
    PutBytes(&w->out_, k);
    PutBytes(&w->out_, v);
  }
  PutLong(&w->out_, 0);
  w->out_ += w->sync_;
  avro_value_reset(&w->record_);
  return w;
}

Status Writer::Append() {
  size_t size = 0;
  if (avro_value_sizeof(&record_, &size) != 0) return Internal(AvroError("sizing a record"));
  size_t at = block_.size();
  block_.resize(at + size);
  avro_writer_memory_set_dest(enc_, block_.data() + at, static_cast<int64_t>(size));
  if (avro_value_write(enc_, &record_) != 0) return Internal(AvroError("encoding a record"));
  ++block_count_;
  avro_value_reset(&record_);
  if (block_.size() >= kBlockBytes) LM_TRY(FlushBlock());
  return Status::OK();
}

Status Writer::FlushBlock() {
  if (block_count_ == 0) return Status::OK();
  PutLong(&out_, block_count_);
  if (codec_ == Codec::kDeflate) {
    LM_ASSIGN_OR_RETURN(std::string z, Deflate(block_));
    PutBytes(&out_, z);
  } else {
    PutBytes(&out_, block_);
  }
  out_ += sync_;
  block_.clear();
  block_count_ = 0;
  return Status::OK();
}

Result<std::string> Writer::Finish() {
  LM_TRY(FlushBlock());
  return std::move(out_);
}

// --- Reader ------------------------------------------------------------------------------------

namespace {
// Inflate buffers kept per thread, so that reading many manifests does not allocate and free a
// large buffer for each (which also makes malloc consolidate its free lists every time).
thread_local std::vector<std::unique_ptr<std::string>> buffer_pool;

std::unique_ptr<std::string> TakeBuffer() {
  if (buffer_pool.empty()) return std::make_unique<std::string>();
  auto b = std::move(buffer_pool.back());
  buffer_pool.pop_back();
  return b;
}

void ReturnBuffer(std::unique_ptr<std::string> b) {
  if (!b || buffer_pool.size() >= 4 || b->capacity() > (64u << 20)) return;
  buffer_pool.push_back(std::move(b));
}
}  // namespace

Reader::~Reader() {
  ReturnBuffer(std::move(inflated_));
  if (dec_) avro_reader_free(dec_);
  if (iface_) {
    avro_value_decref(&record_);
    avro_value_iface_decref(iface_);
  }
  if (schema_) avro_schema_decref(schema_);
}

Result<std::unique_ptr<Reader>> Reader::Open(std::string_view file) {
  try {
    return OpenImpl(file);
  } catch (const nlohmann::json::exception& e) {
    return Bad(std::string("avro.schema: ") + e.what());
  }
}

Result<std::unique_ptr<Reader>> Reader::OpenImpl(std::string_view file) {
  std::unique_ptr<Reader> r(new Reader());
  r->file_ = file;
  if (file.size() < 4 || std::memcmp(file.data(), kMagic, 4) != 0) {
    return Bad("does not start with the Avro magic 'Obj\\x01'");
  }
  size_t pos = 4;
  while (true) {
    int64_t n;
    if (!GetLong(file, &pos, &n)) return Bad("truncated header");
    if (n == 0) break;
    if (n < 0) {
      int64_t bytes;
      if (!GetLong(file, &pos, &bytes)) return Bad("truncated header");
      n = n == INT64_MIN ? INT64_MAX : -n;
    }
    for (int64_t i = 0; i < n; ++i) {
      std::string_view k, v;
      if (!GetBytes(file, &pos, &k) || !GetBytes(file, &pos, &v)) return Bad("truncated header");
      r->meta_[std::string(k)] = std::string(v);
    }
  }
  if (file.size() - pos < 16) return Bad("truncated header (no sync marker)");
  r->sync_ = std::string(file.substr(pos, 16));
  r->pos_ = pos + 16;

  auto codec = r->meta_.find("avro.codec");
  if (codec == r->meta_.end() || codec->second == "null") {
    r->codec_ = Codec::kNull;
  } else if (codec->second == "deflate") {
    r->codec_ = Codec::kDeflate;
  } else {
    return Bad("codec '" + codec->second + "' is not supported (null and deflate are)");
  }
  auto schema = r->meta_.find("avro.schema");
  if (schema == r->meta_.end()) return Bad("no avro.schema in the header");
  r->schema_json_ = Json::parse(schema->second, nullptr, false);
  if (r->schema_json_.is_discarded()) return Bad("avro.schema is not JSON");
  if (JsonDeeperThan(r->schema_json_, kMaxJsonDepth)) return Bad("avro.schema nests too deeply");
  // Our own check of the schema first: libavro leaks memory on many malformed schemas.
  r->validator_ = std::make_unique<Validator>(r->schema_json_);
  if (!r->validator_->usable()) return Bad("avro.schema is not a schema this reader can decode");
  avro_schema_t parsed = nullptr;  // see Writer::Create
  if (avro_schema_from_json_length(schema->second.data(), schema->second.size(), &parsed) != 0) {
    return Bad(AvroError("avro.schema is not a valid schema"));
  }
  r->schema_ = parsed;
  r->iface_ = avro_generic_class_from_schema(r->schema_);
  if (!r->iface_) return Bad(AvroError("avro.schema"));
  if (avro_generic_value_new(r->iface_, &r->record_) != 0) {
    avro_value_iface_decref(r->iface_);
    r->iface_ = nullptr;
    return Bad(AvroError("avro.schema"));
  }
  r->dec_ = avro_reader_memory(nullptr, 0);
  return r;
}

const std::string* Reader::Meta(const std::string& key) const {
  auto it = meta_.find(key);
  return it == meta_.end() ? nullptr : &it->second;
}

Status Reader::LoadBlock() {
  int64_t count;
  std::string_view data;
  if (!GetLong(file_, &pos_, &count) || count < 0 || !GetBytes(file_, &pos_, &data)) {
    return Bad("truncated block");
  }
  if (file_.size() - pos_ < 16 || file_.substr(pos_, 16) != sync_) {
    return Bad("block not followed by the sync marker");
  }
  pos_ += 16;
  // Every record takes at least one byte except those of an empty schema; do not trust a count
  // that the block cannot hold.
  if (codec_ == Codec::kDeflate) {
    if (!inflated_) inflated_ = TakeBuffer();
    LM_TRY(Inflate(data, inflated_.get()));
    data = *inflated_;
  }
  if (count > static_cast<int64_t>(data.size()) * 8 + 1024) return Bad("block count too large");
  LM_TRY(validator_->Check(data, count));
  avro_reader_memory_set_source(dec_, data.data(), static_cast<int64_t>(data.size()));
  remaining_ = count;
  return Status::OK();
}

Result<bool> Reader::Next() {
  while (remaining_ == 0) {
    if (pos_ >= file_.size()) return false;
    LM_TRY(LoadBlock());
  }
  avro_value_reset(&record_);
  if (avro_value_read(dec_, &record_) != 0) return Bad(AvroError("a record does not decode"));
  --remaining_;
  return true;
}

// --- fields ------------------------------------------------------------------------------------

bool Unwrap(avro_value_t* v, avro_value_t* out) {
  if (avro_value_get_type(v) != AVRO_UNION) {
    *out = *v;
    return true;
  }
  avro_value_t branch;
  if (avro_value_get_current_branch(v, &branch) != 0) return false;
  if (avro_value_get_type(&branch) == AVRO_NULL) return false;
  *out = branch;
  return true;
}

bool Get(avro_value_t* record, const char* name, avro_value_t* out) {
  avro_value_t f;
  if (avro_value_get_by_name(record, name, &f, nullptr) != 0) return false;
  return Unwrap(&f, out);
}

Result<int64_t> AsLong(avro_value_t* v) {
  switch (avro_value_get_type(v)) {
    case AVRO_INT32: {
      int32_t x = 0;
      avro_value_get_int(v, &x);
      return static_cast<int64_t>(x);
    }
    case AVRO_INT64: {
      int64_t x = 0;
      avro_value_get_long(v, &x);
      return x;
    }
    default:
      return Bad("expected an int or long");
  }
}

Result<bool> AsBool(avro_value_t* v) {
  if (avro_value_get_type(v) != AVRO_BOOLEAN) return Bad("expected a boolean");
  int x = 0;
  avro_value_get_boolean(v, &x);
  return x != 0;
}

Result<double> AsDouble(avro_value_t* v) {
  switch (avro_value_get_type(v)) {
    case AVRO_FLOAT: {
      float f = 0;
      avro_value_get_float(v, &f);
      return static_cast<double>(f);
    }
    case AVRO_DOUBLE: {
      double d = 0;
      avro_value_get_double(v, &d);
      return d;
    }
    default:
      return Bad("expected a float or double");
  }
}

Result<std::string_view> AsBytes(avro_value_t* v) {
  const void* buf = nullptr;
  const char* str = nullptr;
  size_t size = 0;
  switch (avro_value_get_type(v)) {
    case AVRO_STRING:
      avro_value_get_string(v, &str, &size);
      return std::string_view(str, size > 0 ? size - 1 : 0);  // size counts the NUL
    case AVRO_BYTES:
      avro_value_get_bytes(v, &buf, &size);
      return std::string_view(static_cast<const char*>(buf), size);
    case AVRO_FIXED:
      avro_value_get_fixed(v, &buf, &size);
      return std::string_view(static_cast<const char*>(buf), size);
    default:
      return Bad("expected a string, bytes or fixed");
  }
}

Result<avro_value_t> FieldForWrite(avro_value_t* record, const char* name) {
  avro_value_t f;
  if (avro_value_get_by_name(record, name, &f, nullptr) != 0) {
    return Internal(std::string("no field '") + name + "' in the Avro schema");
  }
  if (avro_value_get_type(&f) != AVRO_UNION) return f;
  // Iceberg's only unions are ["null", T]: select T.
  avro_value_t branch;
  if (avro_value_set_branch(&f, 1, &branch) != 0) return Internal(AvroError(name));
  return branch;
}

Status SetNull(avro_value_t* record, const char* name) {
  avro_value_t f, branch;
  if (avro_value_get_by_name(record, name, &f, nullptr) != 0) {
    return Internal(std::string("no field '") + name + "' in the Avro schema");
  }
  if (avro_value_get_type(&f) != AVRO_UNION) {
    return Internal(std::string("field '") + name + "' is required");
  }
  if (avro_value_set_branch(&f, 0, &branch) != 0) return Internal(AvroError(name));
  return Status::OK();
}

Status SetValueLong(avro_value_t* v, int64_t x) {
  int rc = avro_value_get_type(v) == AVRO_INT32 ? avro_value_set_int(v, static_cast<int32_t>(x))
                                                : avro_value_set_long(v, x);
  return rc == 0 ? Status::OK() : Internal(AvroError("setting a number"));
}

Status SetValueBool(avro_value_t* v, bool x) {
  return avro_value_set_boolean(v, x) == 0 ? Status::OK() : Internal(AvroError("boolean"));
}

Status SetValueDouble(avro_value_t* v, double x) {
  int rc = avro_value_get_type(v) == AVRO_FLOAT ? avro_value_set_float(v, static_cast<float>(x))
                                                : avro_value_set_double(v, x);
  return rc == 0 ? Status::OK() : Internal(AvroError("setting a number"));
}

Status SetValueBytes(avro_value_t* v, std::string_view x) {
  int rc;
  switch (avro_value_get_type(v)) {
    case AVRO_STRING:  // libavro wants the terminating NUL
      rc = avro_value_set_string_len(v, std::string(x).c_str(), x.size() + 1);
      break;
    case AVRO_FIXED:
      rc = avro_value_set_fixed(v, const_cast<char*>(x.data()), x.size());
      break;
    default:
      rc = avro_value_set_bytes(v, const_cast<char*>(x.data()), x.size());
      break;
  }
  return rc == 0 ? Status::OK() : Internal(AvroError("setting bytes"));
}

Status SetLong(avro_value_t* record, const char* name, int64_t v) {
  LM_ASSIGN_OR_RETURN(avro_value_t f, FieldForWrite(record, name));
  return SetValueLong(&f, v);
}

Status SetBool(avro_value_t* record, const char* name, bool v) {
  LM_ASSIGN_OR_RETURN(avro_value_t f, FieldForWrite(record, name));
  return SetValueBool(&f, v);
}

Status SetString(avro_value_t* record, const char* name, std::string_view v) {
  LM_ASSIGN_OR_RETURN(avro_value_t f, FieldForWrite(record, name));
  return SetValueBytes(&f, v);
}

Status SetBytes(avro_value_t* record, const char* name, std::string_view v) {
  return SetString(record, name, v);
}

}  // namespace lakemesh::table::avro
