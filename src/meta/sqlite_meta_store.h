// SqliteMetaStore: the embedded MetaStore. One SQLite database in WAL mode with synchronous=FULL,
// so every acknowledged transaction survives a crash; readers never block the writer. A small pool
// of connections serves concurrent readers; concurrent writers are committed in groups (one fsync
// for many) by whichever thread is writing, asynchronous ones always by the committer thread. Schema versions are kept in `schema_version` and
// migrated forward at Open(). See src/meta/README.md.
#pragma once

#include <memory>
#include <string>

#include "meta/meta_store.h"

namespace lakemesh::meta {

class SqliteMetaStore final : public MetaStore {
 public:
  // `path` is a file path, or ":memory:" for a private database in a temporary file that is
  // removed when the store is destroyed (tests).
  static Result<std::unique_ptr<SqliteMetaStore>> Open(const std::string& path);
  ~SqliteMetaStore() override;

  Status Read(const std::function<Status(MetaTxn&)>& fn) override;
  Status Write(const std::function<Status(MetaTxn&)>& fn) override;
  // Queued for the committer thread, which runs `done` after the batch's commit.
  void WriteAsync(std::function<Status(MetaTxn&)> fn, std::function<void(Status)> done) override;

 private:
  struct Pool;
  explicit SqliteMetaStore(std::unique_ptr<Pool> pool);
  std::unique_ptr<Pool> pool_;
};

}  // namespace lakemesh::meta
