#include "catalog/search.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "base/time.h"
#include "catalog/catalog.h"
#include "catalog/product.h"
#include "table/metadata.h"
#include "versioning/repository.h"

namespace lakemesh::catalog {
namespace {

using Json = nlohmann::json;

// How often a search compares every domain's head (for commits other processes made).
constexpr int64_t kFullCheckMicros = 5'000'000;

// A prepared statement, finalized when it goes.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db);
      s_ = nullptr;
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Status status() const { return s_ ? Status::OK() : Internal("search index: " + error_); }
  void Bind(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string Text(int c) const {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, c))) : "";
  }
  double Double(int c) const { return sqlite3_column_double(s_, c); }

 private:
  sqlite3_stmt* s_ = nullptr;
  std::string error_;
};

std::string Join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The query text as FTS5 syntax: each word a quoted prefix term, all of them required.
std::string MatchExpression(const std::string& text) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    out += (out.empty() ? "" : " ") + std::string("\"") + word + "\"*";
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c >= 0x80) {  // as the tokenizer splits words
      word += static_cast<char>(c);
    } else {
      flush();  // punctuation separates words, as the tokenizer does
    }
  }
  flush();
  return out;
}

struct Doc {
  std::string kind, key, domain, product, table, type, status, owner, classification;
  std::string name, description, tags, body;
};

}  // namespace

Result<std::unique_ptr<SearchIndex>> SearchIndex::Open(const std::string& path, versioning::Repositories& repos,
                                                       Catalog& catalog) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (path != ":memory:") {  // readable by its owner only, as the metadata is
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IoError("cannot open the search index " + path + ": " + m);
  }
  std::unique_ptr<SearchIndex> index(new SearchIndex(db, repos, catalog));
  LM_TRY(index->Exec("PRAGMA journal_mode = WAL"));
  LM_TRY(index->Exec("PRAGMA synchronous = NORMAL"));
  // Searches read much of the index: keep it in memory (a cache of 64 MiB, pages mapped).
  LM_TRY(index->Exec("PRAGMA cache_size = -65536"));
  LM_TRY(index->Exec("PRAGMA mmap_size = 268435456"));
  // The layout's version: an index of another layout is dropped and built again.
  constexpr int kLayout = 3;
  {
    Stmt v(db, "PRAGMA user_version");
    LM_TRY(v.status());
    if (v.Step() == SQLITE_ROW && static_cast<int>(v.Double(0)) != kLayout) {
      LM_TRY(index->Exec("DROP TABLE IF EXISTS docs"));
      LM_TRY(index->Exec("DROP TABLE IF EXISTS indexed"));
      LM_TRY(index->Exec("DROP TABLE IF EXISTS inputs"));
    }
  }
  // kind is indexed (weight 0 in the ranking) so that a kind filter is part of the match.
  LM_TRY(index->Exec(
      "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5("
      "name, description, tags, owner, body, kind, "
      "key UNINDEXED, domain UNINDEXED, product UNINDEXED, tbl UNINDEXED, "
      "type UNINDEXED, status UNINDEXED, classification UNINDEXED, "
      "tokenize = 'unicode61 remove_diacritics 2 tokenchars ''_''', prefix = '1 2 3')"));
  // Names weigh most, then descriptions, tags, owners, the rest.
  LM_TRY(index->Exec("INSERT INTO docs(docs, rank) VALUES('rank', 'bm25(10.0, 4.0, 3.0, 2.0, 1.0, 0.0)')"));
  LM_TRY(index->Exec("CREATE TABLE IF NOT EXISTS indexed (domain TEXT PRIMARY KEY, head TEXT NOT NULL)"));
  // Lineage between products: each product's input ports.
  LM_TRY(index->Exec("CREATE TABLE IF NOT EXISTS inputs (domain TEXT NOT NULL, product TEXT NOT NULL, "
                     "input TEXT NOT NULL)"));
  LM_TRY(index->Exec("CREATE INDEX IF NOT EXISTS inputs_by_input ON inputs (input)"));
  LM_TRY(index->Exec("PRAGMA user_version = " + std::to_string(kLayout)));
  return index;
}

SearchIndex::~SearchIndex() { sqlite3_close(db_); }

Status SearchIndex::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "failed";
    sqlite3_free(err);
    return Internal("search index: " + m);
  }
  return Status::OK();
}

void SearchIndex::Touch(const std::string& domain) {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_.insert(domain);
}

Status SearchIndex::DropDomain(const std::string& domain) {
  Stmt del(db_, "DELETE FROM docs WHERE domain = ?");
  LM_TRY(del.status());
  del.Bind(1, domain);
  if (del.Step() != SQLITE_DONE) return Internal("search index: cannot remove " + domain);
  Stmt lineage(db_, "DELETE FROM inputs WHERE domain = ?");
  LM_TRY(lineage.status());
  lineage.Bind(1, domain);
  lineage.Step();
  Stmt gone(db_, "DELETE FROM indexed WHERE domain = ?");
  LM_TRY(gone.status());
  gone.Bind(1, domain);
  gone.Step();
  return Status::OK();
}

Status SearchIndex::IndexDomain(const std::string& domain, const std::string& head) {
  std::vector<Doc> docs;
  // Tables and views of the domain's main, with their columns.
  std::map<std::string, size_t> column_doc;  // table.column -> index in docs
  std::map<std::string, size_t> table_doc;
  std::vector<std::string> names;
  auto add_relation = [&](const std::string& name, const Json& metadata, bool view) {
    Doc t;
    t.kind = "table";
    t.key = domain + "." + name;
    t.domain = domain;
    t.name = name;
    t.type = view ? "view" : "table";
    // A view's schema is the one of its current version.
    int64_t schema_id = -1;
    if (view) {
      const int64_t current = metadata.value("current-version-id", int64_t{-1});
      for (const Json& v : metadata.value("versions", Json::array())) {
        if (v.value("version-id", int64_t{-2}) == current) schema_id = v.value("schema-id", int64_t{-1});
      }
    }
    const Json* schema = table::FindSchema(metadata, schema_id);
    std::vector<std::string> cols;
    if (schema && schema->contains("fields")) {
      for (const Json& f : (*schema)["fields"]) {
        const std::string col = f.value("name", std::string());
        cols.push_back(col);
        Doc c;
        c.kind = "column";
        c.key = domain + "." + name + "." + col;
        c.domain = domain;
        c.table = name;
        c.name = col;
        c.type = f["type"].is_string() ? f["type"].get<std::string>() : f["type"].value("type", std::string());
        c.description = f.value("doc", std::string());
        c.body = name;
        column_doc[name + "." + col] = docs.size();
        docs.push_back(std::move(c));
      }
    }
    t.body = Join(cols);
    if (metadata.contains("properties") && metadata["properties"].is_object()) {
      t.description = metadata["properties"].value("comment", std::string());
    }
    table_doc[name] = docs.size();
    names.push_back(name);
    docs.push_back(std::move(t));
  };
  auto tables = catalog_.ListTables(head, {domain});
  if (tables.ok()) {
    for (const std::string& t : *tables) {
      auto loaded = catalog_.LoadTable(head, TableIdent{{domain}, t});
      if (loaded.ok()) add_relation(t, loaded->metadata, false);
    }
  }
  auto views = catalog_.ListViews(head, {domain});
  if (views.ok()) {
    for (const std::string& v : *views) {
      auto loaded = catalog_.LoadView(head, TableIdent{{domain}, v});
      if (loaded.ok()) add_relation(v, loaded->metadata, true);
    }
  }
  // Products, and what their contracts say of their tables' columns.
  std::vector<std::string> product_names;
  std::vector<std::pair<std::string, std::string>> inputs;  // product, the product it reads
  auto products = LoadProducts(repos_, domain, head);
  if (products.ok()) {
    for (const Product& p : products->products) {
      Doc d;
      d.kind = "product";
      d.key = p.id();
      d.domain = domain;
      d.product = p.id();
      d.name = p.name;
      d.description = p.description;
      d.tags = Join(p.tags);
      d.owner = p.owner;
      d.status = p.status;
      std::vector<std::string> body, classes;
      for (const OutputPort& o : p.outputs) {
        body.push_back(o.table);
        if (!o.description.empty()) body.push_back(o.description);
        for (const ContractColumn& c : o.columns) {
          body.push_back(c.name);
          if (!c.classification.empty()) classes.push_back(c.classification);
          auto it = column_doc.find(o.table + "." + c.name);
          if (it == column_doc.end()) {  // a column the table does not have (yet): the contract's
            Doc col;
            col.kind = "column";
            col.key = domain + "." + o.table + "." + c.name;
            col.domain = domain;
            col.table = o.table;
            col.name = c.name;
            col.type = c.physical_type.empty() ? c.logical_type : c.physical_type;
            col.body = o.table;
            column_doc[o.table + "." + c.name] = docs.size();
            docs.push_back(std::move(col));
            it = column_doc.find(o.table + "." + c.name);
          }
          Doc& col = docs[it->second];
          col.product = p.id();
          col.status = p.status;
          col.owner = p.owner;
          col.tags = d.tags;
          if (!c.description.empty()) col.description = c.description;
          if (!c.classification.empty()) col.classification = c.classification;
          col.body += " " + p.name;
        }
        if (auto t = table_doc.find(o.table); t != table_doc.end()) {
          Doc& td = docs[t->second];
          td.product = p.id();
          td.status = p.status;
          td.owner = p.owner;
          td.tags = d.tags;
          if (td.description.empty()) td.description = o.description.empty() ? p.description : o.description;
          td.body += " " + p.name;
        }
      }
      std::sort(classes.begin(), classes.end());
      classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
      d.classification = Join(classes);
      d.body = Join(body);
      product_names.push_back(p.name);
      for (const InputPort& in : p.inputs) inputs.emplace_back(p.id(), in.product);
      docs.push_back(std::move(d));
    }
  }
  Doc dom;
  dom.kind = "domain";
  dom.key = domain;
  dom.domain = domain;
  dom.name = domain;
  dom.body = Join(product_names) + " " + Join(names);
  docs.push_back(std::move(dom));

  LM_TRY(Exec("BEGIN"));
  Status st = [&]() -> Status {
    LM_TRY(DropDomain(domain));
    Stmt ins(db_,
             "INSERT INTO docs (name, description, tags, owner, body, kind, key, domain, product, tbl, type, status, "
             "classification) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    LM_TRY(ins.status());
    for (const Doc& d : docs) {
      const std::string* fields[] = {&d.name, &d.description, &d.tags, &d.owner, &d.body, &d.kind, &d.key,
                                     &d.domain, &d.product, &d.table, &d.type, &d.status, &d.classification};
      for (int i = 0; i < 13; ++i) ins.Bind(i + 1, *fields[i]);
      if (ins.Step() != SQLITE_DONE) return Internal("search index: cannot index " + d.key);
      ins.Reset();
    }
    Stmt lineage(db_, "INSERT INTO inputs (domain, product, input) VALUES (?, ?, ?)");
    LM_TRY(lineage.status());
    for (const auto& [product, input] : inputs) {
      lineage.Bind(1, domain);
      lineage.Bind(2, product);
      lineage.Bind(3, input);
      if (lineage.Step() != SQLITE_DONE) return Internal("search index: cannot record the inputs of " + product);
      lineage.Reset();
    }
    Stmt mark(db_, "INSERT OR REPLACE INTO indexed (domain, head) VALUES (?, ?)");
    LM_TRY(mark.status());
    mark.Bind(1, domain);
    mark.Bind(2, head);
    if (mark.Step() != SQLITE_DONE) return Internal("search index: cannot record " + domain);
    return Status::OK();
  }();
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<size_t> SearchIndex::Update(bool force) {
  std::lock_guard<std::mutex> db_lock(db_mu_);
  return Refresh(force);
}

Result<size_t> SearchIndex::Refresh(bool force) {
  std::set<std::string> check;
  bool all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = MonotonicMicros();
    all = force || all_dirty_ || now - last_full_check_ > kFullCheckMicros;
    if (all) last_full_check_ = now;
    all_dirty_ = false;
    check.swap(dirty_);
  }
  std::map<std::string, std::string> indexed;
  {
    Stmt q(db_, "SELECT domain, head FROM indexed");
    LM_TRY(q.status());
    while (q.Step() == SQLITE_ROW) indexed[q.Text(0)] = q.Text(1);
  }
  std::set<std::string> present;
  if (all) {
    std::string after;
    while (true) {
      LM_ASSIGN_OR_RETURN(auto repos, repos_.ListRepos(after, 1000));
      for (const auto& r : repos) present.insert(r.name);
      if (repos.size() < 1000) break;
      after = repos.back().name;
    }
    check.insert(present.begin(), present.end());
    for (const auto& [domain, head] : indexed) {
      if (!present.count(domain)) LM_TRY(DropDomain(domain));  // a repository gone
    }
  }
  size_t done = 0;
  for (const std::string& domain : check) {
    auto branch = repos_.GetBranch(domain, "main");
    if (!branch.ok()) {
      if (indexed.count(domain)) LM_TRY(DropDomain(domain));
      continue;
    }
    auto it = indexed.find(domain);
    if (!force && it != indexed.end() && it->second == branch->head) continue;
    LM_TRY(IndexDomain(domain, branch->head));
    ++done;
  }
  return done;
}

Result<std::vector<std::string>> SearchIndex::Downstream(const std::string& product) {
  std::lock_guard<std::mutex> db_lock(db_mu_);
  LM_TRY(Refresh(false).status());
  Stmt q(db_, "SELECT DISTINCT product FROM inputs WHERE input = ? ORDER BY product");
  LM_TRY(q.status());
  q.Bind(1, product);
  std::vector<std::string> out;
  while (q.Step() == SQLITE_ROW) out.push_back(q.Text(0));
  return out;
}

Result<SearchResult> SearchIndex::Search(const SearchQuery& q) {
  std::lock_guard<std::mutex> db_lock(db_mu_);  // one search (and re-index) at a time
  SearchResult out;
  LM_ASSIGN_OR_RETURN(out.reindexed, Refresh(false));
  std::string match = MatchExpression(q.text);
  const size_t limit = std::clamp<size_t>(q.limit, 1, 1000);
  const bool words = !match.empty();
  // Filters on indexed columns are part of the match (FTS5 intersects them): kind and tag.
  auto also = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    std::string phrase;
    for (char c : value) phrase += c == '"' ? std::string("\"\"") : std::string(1, c);
    const std::string term = std::string(column) + " : \"" + phrase + "\"";
    match = match.empty() ? term : "(" + match + ") AND " + term;
  };
  also("kind", q.kind);
  also("tags", q.tag);
  std::string sql =
      "SELECT kind, key, domain, name, description, product, tbl, type, status, owner, classification, tags, ";
  sql += words ? "rank" : "0.0";
  sql += " FROM docs WHERE 1 = 1";
  std::vector<std::string> args;
  if (!match.empty()) {
    sql += " AND docs MATCH ?";
    args.push_back(match);
  }
  auto filter = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    sql += std::string(" AND ") + column + " = ?";
    args.push_back(value);
  };
  filter("domain", q.domain);
  filter("status", q.status);
  if (!q.classification.empty()) {
    sql += " AND (' ' || classification || ' ') LIKE ?";
    args.push_back("% " + q.classification + " %");
  }
  // With words: FTS5's own ranking (ORDER BY rank, its fast path) picks the best candidates,
  // which are then ordered with two more rules: products and domains come before tables, and
  // tables before columns, at the same relevance; a name that is exactly the query comes first.
  const size_t candidates = words ? std::max<size_t>(limit * 5, 100) : limit;
  sql += words ? " ORDER BY rank"
               : " ORDER BY CASE kind WHEN 'domain' THEN 0 WHEN 'product' THEN 1 WHEN 'table' THEN 2 ELSE 3 END, key";
  sql += " LIMIT " + std::to_string(candidates);
  Stmt s(db_, sql);
  LM_TRY(s.status());
  for (size_t i = 0; i < args.size(); ++i) s.Bind(static_cast<int>(i + 1), args[i]);
  std::string wanted;
  for (char c : q.text) wanted += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    SearchHit h;
    h.kind = s.Text(0);
    h.id = s.Text(1);
    h.domain = s.Text(2);
    h.name = s.Text(3);
    h.description = s.Text(4);
    h.product = s.Text(5);
    h.table = s.Text(6);
    h.type = s.Text(7);
    h.status = s.Text(8);
    h.owner = s.Text(9);
    h.classification = s.Text(10);
    std::string tags = s.Text(11);
    size_t start = 0;
    while (start < tags.size()) {
      size_t sp = tags.find(' ', start);
      if (sp == std::string::npos) sp = tags.size();
      if (sp > start) h.tags.push_back(tags.substr(start, sp - start));
      start = sp + 1;
    }
    double score = -s.Double(12);  // bm25: lower is better
    if (words) {
      score *= h.kind == "product" ? 1.6 : h.kind == "domain" ? 1.4 : h.kind == "table" ? 1.2 : 1.0;
      std::string name = h.name;
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == wanted) score *= 4.0;
    }
    h.score = score;
    out.hits.push_back(std::move(h));
  }
  if (rc != SQLITE_DONE) return InvalidArgument("search: " + std::string(sqlite3_errmsg(db_)));
  if (words) {
    std::stable_sort(out.hits.begin(), out.hits.end(), [](const SearchHit& a, const SearchHit& b) {
      return a.score > b.score || (a.score == b.score && a.id < b.id);
    });
  }
  if (out.hits.size() > limit) out.hits.resize(limit);
  {
    Stmt n(db_, "SELECT count(*) FROM indexed");
    LM_TRY(n.status());
    if (n.Step() == SQLITE_ROW) out.indexed_domains = static_cast<size_t>(n.Double(0));
  }
  return out;
}

}  // namespace lakemesh::catalog
