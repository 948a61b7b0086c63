// The SQL logic tests of test/sql (format in test/sql/README.md), run in-process: each file on a
// fresh data directory with the domain `shop`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/random.h"
#include "catalog/catalog.h"
#include "meta/sqlite_meta_store.h"
#include "sql/engine.h"
#include "storage/local_blob_store.h"
#include "versioning/buckets.h"

#ifndef LAKEMESH_SQL_TESTS
#error "LAKEMESH_SQL_TESTS must name test/sql"
#endif

namespace lakemesh::sql {
namespace {

struct Record {
  enum Kind { kOk, kError, kQuery } kind;
  std::string sqlstate;
  std::string sql;
  std::vector<std::string> expected;
  bool rowsort = false;  // rows compared in sorted order (their order is not defined)
  int line = 0;
};

std::vector<Record> Parse(const std::string& path) {
  std::ifstream in(path);
  std::vector<Record> out;
  std::string line;
  int n = 0;
  std::optional<Record> cur;
  bool in_results = false;
  auto flush = [&] {
    if (cur) out.push_back(*cur);
    cur.reset();
    in_results = false;
  };
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      flush();
      continue;
    }
    if (!cur) {
      Record r;
      r.line = n;
      if (line == "statement ok") {
        r.kind = Record::kOk;
      } else if (line.rfind("statement error", 0) == 0) {
        r.kind = Record::kError;
        r.sqlstate = line.size() > 16 ? line.substr(16) : "";
      } else if (line == "query" || line == "query rowsort") {
        r.kind = Record::kQuery;
        r.rowsort = line != "query";
      } else {
        ADD_FAILURE() << path << ":" << n << ": unknown record '" << line << "'";
        return out;
      }
      cur = r;
      continue;
    }
    if (cur->kind == Record::kQuery && line == "----") {
      in_results = true;
      continue;
    }
    if (in_results) {
      cur->expected.push_back(line);
    } else {
      cur->sql += (cur->sql.empty() ? "" : "\n") + line;
    }
  }
  flush();
  return out;
}

struct Rows : ResultSink {
  std::vector<std::string> lines;
  Status Columns(const std::vector<ResultColumn>&) override { return Status::OK(); }
  Status Row(const std::vector<std::optional<std::string_view>>& values) override {
    std::string l;
    for (size_t i = 0; i < values.size(); ++i) {
      l += (i ? "|" : "") + (values[i] ? std::string(*values[i]) : std::string("NULL"));
    }
    lines.push_back(std::move(l));
    return Status::OK();
  }
};

class LogicTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LogicTest, RunsInProcess) {
  const std::string file = GetParam();
  auto dir = std::filesystem::temp_directory_path() / ("lm-logic-" + RandomHex(6));
  std::filesystem::create_directories(dir / "scratch");
  {
    auto meta = meta::SqliteMetaStore::Open((dir / "meta.db").string());
    ASSERT_TRUE(meta.ok());
    auto blobs = storage::LocalBlobStore::Open((dir / "blobs").string());
    ASSERT_TRUE(blobs.ok());
    versioning::Repositories repos(**meta, **blobs);
    versioning::Buckets buckets(**meta, **blobs);
    catalog::Catalog catalog(repos, **blobs);
    ASSERT_TRUE(catalog.CreateNamespace("main", {"shop"}, nlohmann::json::object(), "t").ok());
    EngineOptions options;
    options.scratch_dir = (dir / "scratch").string();
    options.threads = 2;
    auto engine = Engine::Open(catalog, options, ObjectSources{&repos, &buckets, blobs->get()});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    auto session = (*engine)->Connect("tester");
    ASSERT_TRUE(session.ok());
    for (const Record& r : Parse(file)) {
      Rows rows;
      Outcome o = (*session)->Execute(r.sql, rows);
      const std::string where = file + ":" + std::to_string(r.line);
      switch (r.kind) {
        case Record::kOk:
          EXPECT_FALSE(o.error) << where << ": " << o.error->sqlstate << " " << o.error->message;
          break;
        case Record::kError:
          EXPECT_TRUE(o.error) << where << ": expected an error";
          if (o.error) {
            EXPECT_EQ(o.error->sqlstate, r.sqlstate) << where << ": " << o.error->message;
          }
          break;
        case Record::kQuery:
          EXPECT_FALSE(o.error) << where << ": " << (o.error ? o.error->message : "");
          if (r.rowsort) {
            std::sort(rows.lines.begin(), rows.lines.end());
            std::vector<std::string> expected = r.expected;
            std::sort(expected.begin(), expected.end());
            EXPECT_EQ(rows.lines, expected) << where;
          } else {
            EXPECT_EQ(rows.lines, r.expected) << where;
          }
          break;
      }
    }
  }
  std::filesystem::remove_all(dir);
}

std::vector<std::string> Files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(LAKEMESH_SQL_TESTS)) {
    if (e.path().extension() == ".test") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, LogicTest, ::testing::ValuesIn(Files()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return std::filesystem::path(i.param).stem().string();
                         });

}  // namespace
}  // namespace lakemesh::sql
