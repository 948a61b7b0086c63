// Discovery: a full-text index (SQLite FTS5) over every domain's products, tables and columns as
// main has them — names, descriptions, tags, owners, classifications — searched with ranked,
// prefix-matching queries and filters (docs/products.md, "Search").
//
// The index lives in its own SQLite file (derived data: deleting it only costs a rebuild). It
// remembers the commit of main it indexed for each domain; a search first re-indexes the domains
// whose main moved since (the repositories tell the index of every commit, and a search also
// compares heads at most every few seconds, for commits made by other processes).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

struct sqlite3;

namespace lakemesh::versioning {
class Repositories;
}

namespace lakemesh::catalog {

class Catalog;

struct SearchQuery {
  std::string text;  // words; each matches as a prefix ("ord cust" finds "orders" of "customers")
  std::string kind;  // domain, product, table, column; empty: all
  std::string domain, tag, status, classification;
  size_t limit = 20;
};

struct SearchHit {
  std::string kind;  // domain, product, table, column
  std::string id;    // sales, sales.orders (product or table), sales.orders.amount (column)
  std::string domain, name, description;
  std::string product;   // the product it belongs to (tables and columns of output ports)
  std::string table;     // a column's table
  std::string type;      // a column's type
  std::string status, owner, classification;
  std::vector<std::string> tags;
  double score = 0;  // higher is better
};

struct SearchResult {
  std::vector<SearchHit> hits;
  size_t indexed_domains = 0;
  size_t reindexed = 0;  // domains indexed again for this search
};

class SearchIndex {
 public:
  // Opens (or creates) the index at `path` (":memory:" for one in memory).
  static Result<std::unique_ptr<SearchIndex>> Open(const std::string& path, versioning::Repositories& repos,
                                                   Catalog& catalog);
  ~SearchIndex();

  // The products (domain.name) whose input ports name `product`, as main has them.
  Result<std::vector<std::string>> Downstream(const std::string& product);
  // Marks `domain` changed (a commit on its main): re-indexed before the next search.
  void Touch(const std::string& domain);
  Result<SearchResult> Search(const SearchQuery& q);
  // Re-indexes the domains whose main moved (all of them with `force`); how many it did. (A
  // search does this first; a server also does it once at start, in the background.)
  Result<size_t> Update(bool force = false);

 private:
  Result<size_t> Refresh(bool force);  // callers hold db_mu_
  SearchIndex(sqlite3* db, versioning::Repositories& repos, Catalog& catalog)
      : db_(db), repos_(repos), catalog_(catalog) {}
  Status Exec(const std::string& sql);
  Status IndexDomain(const std::string& domain, const std::string& head);
  Status DropDomain(const std::string& domain);

  sqlite3* db_;
  versioning::Repositories& repos_;
  Catalog& catalog_;
  std::mutex db_mu_;  // the connection: one search or refresh at a time
  std::mutex mu_;
  std::set<std::string> dirty_;  // GUARDED_BY(mu_)
  bool all_dirty_ = true;        // GUARDED_BY(mu_): compare every head (at start, and now and then)
  int64_t last_full_check_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace lakemesh::catalog
