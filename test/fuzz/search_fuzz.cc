// Search queries come from GET /api/v1/search?q=...: any text, with any filter, must give
// results or a clear error from the index, never a crash or an FTS5 syntax error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "catalog/search.h"
#include "meta/sqlite_meta_store.h"
#include "storage/memory_blob_store.h"
#include "versioning/repository.h"

namespace {

using namespace lakemesh;  // NOLINT(build/namespaces)

struct World {
  std::unique_ptr<meta::SqliteMetaStore> meta;
  storage::MemoryBlobStore blobs;
  std::unique_ptr<versioning::Repositories> repos;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<catalog::SearchIndex> index;

  World() {
    meta = std::move(*meta::SqliteMetaStore::Open(":memory:"));
    repos = std::make_unique<versioning::Repositories>(*meta, blobs);
    catalog = std::make_unique<catalog::Catalog>(*repos, blobs);
    if (!repos->CreateRepo("sales", "main", "fuzz").ok()) std::abort();
    auto up = repos->NewUpload();
    (void)(*up)->Append("name: orders\ndescription: Every order.\ntags: [sales]\noutputPorts:\n"
                        "  - table: orders\n    contract:\n      schema:\n        - name: orders\n"
                        "          properties: [{name: order_id}, {name: email, classification: pii}]\n");
    (void)repos->PutObject("sales", "main", "products/orders.yaml", std::move(*up), {});
    versioning::CommitOptions o;
    o.message = "a product";
    if (!repos->CommitBranch("sales", "main", o).ok()) std::abort();
    index = std::move(*catalog::SearchIndex::Open(":memory:", *repos, *catalog));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  std::string in(reinterpret_cast<const char*>(data), size);
  catalog::SearchQuery q;
  // The first bytes choose the filters; the rest is the query text.
  const size_t cut = std::min<size_t>(size, 2);
  const unsigned flags = cut > 0 ? static_cast<unsigned char>(in[0]) : 0;
  q.text = in.substr(cut);
  static const char* kinds[] = {"", "domain", "product", "table", "column"};
  q.kind = kinds[flags % 5];
  if (flags & 0x08) q.tag = q.text.substr(0, 8);
  if (flags & 0x10) q.domain = "sales";
  if (flags & 0x20) q.status = "draft";
  if (flags & 0x40) q.classification = q.text.substr(0, 4);
  q.limit = cut > 1 ? static_cast<unsigned char>(in[1]) : 20;
  auto r = world->index->Search(q);
  if (!r.ok() && r.status().message().find("fts5: syntax error") != std::string::npos) {
    std::fprintf(stderr, "an FTS5 syntax error for query '%s'\n", q.text.c_str());
    std::abort();
  }
  return 0;
}
