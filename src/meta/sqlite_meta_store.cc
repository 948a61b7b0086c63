#include "meta/sqlite_meta_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "base/random.h"

namespace lakemesh::meta {
namespace {

// Version 2 keeps long values out of the key B-tree (kv.x, kv_ext); version 1 databases are
// upgraded in place when opened.
constexpr int kSchemaVersion = 2;

// Values longer than this live in kv_ext, a rowid table, and their kv row holds only the key and
// the kv_ext row id. kv is a WITHOUT ROWID table, i.e. a B-tree of whole rows ordered by key: a
// row larger than about a quarter of a page spills to overflow pages, and every key comparison
// against such a row copies the whole row out first, so a few long values (small objects kept
// inline, for example) would slow every lookup near them.
constexpr size_t kMaxLocalValue = 512;

// The value of a kv row, wherever it is kept.
#define LM_KV_VALUE "CASE WHEN x IS NULL THEN v ELSE (SELECT e.v FROM kv_ext e WHERE e.id = kv.x) END"

constexpr const char* kSchemaSql =
    "CREATE TABLE IF NOT EXISTS kv_ext (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"
    // Replacing or deleting a row drops the long value it pointed at.
    "CREATE TRIGGER IF NOT EXISTS kv_ext_on_update AFTER UPDATE OF x ON kv"
    "  WHEN old.x IS NOT NULL AND old.x IS NOT new.x"
    "  BEGIN DELETE FROM kv_ext WHERE id = old.x; END;"
    "CREATE TRIGGER IF NOT EXISTS kv_ext_on_delete AFTER DELETE ON kv WHEN old.x IS NOT NULL"
    "  BEGIN DELETE FROM kv_ext WHERE id = old.x; END;";

Status SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  std::string m = std::string(what) + ": " + sqlite3_errmsg(db);
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    return Unavailable("metadata store busy: " + m);
  }
  if ((code & 0xff) == SQLITE_FULL) return ResourceExhausted(m);
  if ((code & 0xff) == SQLITE_CORRUPT) return Internal("metadata store corrupt: " + m);
  return IoError(m);
}

class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Status Prepare(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK) {
      return SqliteError(db, "preparing statement");
    }
    return Status::OK();
  }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Resets a statement on scope exit.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

void BindBlob(sqlite3_stmt* s, int i, std::string_view v) {
  // An empty key or value must still bind as a (zero-length) blob, not NULL.
  sqlite3_bind_blob64(s, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC);
}

std::string ColumnBlob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

// Owns the connection handle. Declared before the statements in Conn so that, members being
// destroyed in reverse order, every statement is finalized before the connection closes.
struct DbHandle {
  sqlite3* db = nullptr;
  ~DbHandle() { sqlite3_close_v2(db); }
};

struct Conn {
  DbHandle handle;
  sqlite3*& db = handle.db;
  Stmt get, put, put_ext, del, del_if, scan, scan_to, del_range, del_range_to;
  Stmt begin, begin_immediate, commit, rollback, savepoint, release, rollback_to;

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      return IoError(std::string("sqlite: ") + m + " in: " + sql);
    }
    return Status::OK();
  }

  Status Step(Stmt& st, std::string_view what) {
    sqlite3_stmt* s = st.get();
    Reset r{s};
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, what);
    return Status::OK();
  }
};

class SqliteTxn final : public MetaTxn {
 public:
  SqliteTxn(Conn& c, bool writable) : c_(c), writable_(writable) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    sqlite3_stmt* s = c_.get.get();
    Reset r{s};
    BindBlob(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return std::optional<std::string>(ColumnBlob(s, 0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return SqliteError(c_.db, "reading metadata");
  }

  Result<std::vector<KeyValue>> Scan(std::string_view start, std::string_view end,
                                     size_t limit) override {
    sqlite3_stmt* s = end.empty() ? c_.scan.get() : c_.scan_to.get();
    Reset r{s};
    BindBlob(s, 1, start);
    int limit_idx = 2;
    if (!end.empty()) {
      BindBlob(s, 2, end);
      limit_idx = 3;
    }
    sqlite3_bind_int64(s, limit_idx, limit == 0 ? -1 : static_cast<sqlite3_int64>(limit));
    std::vector<KeyValue> out;
    while (true) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(c_.db, "scanning metadata");
      out.push_back(KeyValue{ColumnBlob(s, 0), ColumnBlob(s, 1)});
    }
    return out;
  }

  Status Put(std::string_view key, std::string_view value) override {
    if (!writable_) return Internal("Put in a read-only metadata transaction");
    sqlite3_stmt* s = c_.put.get();
    if (value.size() > kMaxLocalValue) {
      BindBlob(c_.put_ext.get(), 1, value);
      LM_TRY(c_.Step(c_.put_ext, "writing metadata"));
      BindBlob(s, 1, key);
      BindBlob(s, 2, "");
      sqlite3_bind_int64(s, 3, sqlite3_last_insert_rowid(c_.db));
    } else {
      BindBlob(s, 1, key);
      BindBlob(s, 2, value);  // ?3 stays NULL
    }
    return c_.Step(c_.put, "writing metadata");
  }

  Status Delete(std::string_view key) override {
    if (!writable_) return Internal("Delete in a read-only metadata transaction");
    BindBlob(c_.del.get(), 1, key);
    return c_.Step(c_.del, "deleting metadata");
  }

  Status DeleteIfEquals(std::string_view key, std::string_view expected) override {
    if (!writable_) return Internal("DeleteIfEquals in a read-only metadata transaction");
    BindBlob(c_.del_if.get(), 1, key);
    BindBlob(c_.del_if.get(), 2, expected);
    return c_.Step(c_.del_if, "deleting metadata");
  }

  Status DeleteRange(std::string_view start, std::string_view end) override {
    if (!writable_) return Internal("DeleteRange in a read-only metadata transaction");
    if (end.empty()) {
      BindBlob(c_.del_range.get(), 1, start);
      return c_.Step(c_.del_range, "deleting metadata");
    }
    BindBlob(c_.del_range_to.get(), 1, start);
    BindBlob(c_.del_range_to.get(), 2, end);
    return c_.Step(c_.del_range_to, "deleting metadata");
  }

 private:
  Conn& c_;
  bool writable_;
};

}  // namespace

struct SqliteMetaStore::Pool {
  std::string path;
  bool temporary = false;  // delete the file (and its WAL) on close
  // Writers queue here rather than in SQLite's busy handler, which sleeps and retries. Queued
  // write functions run in one transaction, each under its own savepoint, and commit together
  // (group commit: one WAL fsync for many). A writer that finds nobody writing runs its own
  // function at once on its own thread. Writes that queue up meanwhile are run by the committer
  // thread, which keeps taking batches until the queue is empty: under load the next batch
  // starts as soon as the last one committed, instead of after waking a queued writer's thread
  // (which on a busy machine took as long as half a commit). Each waiter sleeps on its own
  // condition variable and is woken after the queue lock is released. An asynchronous write
  // (WriteAsync) owns its function and has a callback instead; it always goes to the committer,
  // since its caller (an event loop) must not wait for a commit.
  struct PendingWrite {
    const std::function<Status(MetaTxn&)>* fn;
    Status result;
    bool done = false;
    std::condition_variable cv;
    std::function<Status(MetaTxn&)> owned_fn;   // WriteAsync
    std::function<void(Status)> on_done;        // WriteAsync
  };
  using Batch = std::vector<std::shared_ptr<PendingWrite>>;
  static constexpr size_t kMaxBatch = 64;
  std::mutex queue_mu;
  std::deque<std::shared_ptr<PendingWrite>> queue;  // GUARDED_BY(queue_mu)
  bool writing = false;        // GUARDED_BY(queue_mu): a batch is running or about to
  bool committer_due = false;  // GUARDED_BY(queue_mu): the committer is to drain the queue
  bool stopping = false;       // GUARDED_BY(queue_mu)
  std::condition_variable committer_cv;
  std::thread committer;       // started on first need
  std::mutex mu;
  std::vector<std::unique_ptr<Conn>> free;  // GUARDED_BY(mu)

  Result<std::unique_ptr<Conn>> NewConn() {
    auto c = std::make_unique<Conn>();
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                SQLITE_OPEN_URI;
    if (sqlite3_open_v2(path.c_str(), &c->db, flags, nullptr) != SQLITE_OK) {
      std::string m = c->db ? sqlite3_errmsg(c->db) : "out of memory";
      return IoError("opening metadata database '" + path + "': " + m);
    }
    sqlite3_busy_timeout(c->db, 30000);
    LM_TRY(c->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                   "PRAGMA cache_size=-8192;"
                   // Checkpoint every 4000 pages (16 MiB of WAL) rather than 1000: fewer
                   // checkpoints in the writer's path; small PUTs ran 10-20% faster.
                   "PRAGMA wal_autocheckpoint=4000;"));
    return c;
  }

  Status PrepareAll(Conn& c) {
    LM_TRY(c.get.Prepare(c.db, "SELECT " LM_KV_VALUE " FROM kv WHERE k = ?1"));
    // An upsert rather than INSERT OR REPLACE, whose implicit delete would not fire the trigger
    // that drops the replaced long value.
    LM_TRY(c.put.Prepare(c.db,
                         "INSERT INTO kv(k, v, x) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT(k) DO UPDATE SET v = excluded.v, x = excluded.x"));
    LM_TRY(c.put_ext.Prepare(c.db, "INSERT INTO kv_ext(v) VALUES (?1)"));
    LM_TRY(c.del.Prepare(c.db, "DELETE FROM kv WHERE k = ?1"));
    LM_TRY(c.del_if.Prepare(c.db, "DELETE FROM kv WHERE k = ?1 AND " LM_KV_VALUE " = ?2"));
    LM_TRY(c.scan.Prepare(
        c.db, "SELECT k, " LM_KV_VALUE " FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2"));
    LM_TRY(c.scan_to.Prepare(
        c.db, "SELECT k, " LM_KV_VALUE " FROM kv WHERE k >= ?1 AND k < ?2 ORDER BY k LIMIT ?3"));
    LM_TRY(c.del_range.Prepare(c.db, "DELETE FROM kv WHERE k >= ?1"));
    LM_TRY(c.del_range_to.Prepare(c.db, "DELETE FROM kv WHERE k >= ?1 AND k < ?2"));
    LM_TRY(c.begin.Prepare(c.db, "BEGIN"));
    LM_TRY(c.begin_immediate.Prepare(c.db, "BEGIN IMMEDIATE"));
    LM_TRY(c.commit.Prepare(c.db, "COMMIT"));
    LM_TRY(c.rollback.Prepare(c.db, "ROLLBACK"));
    LM_TRY(c.savepoint.Prepare(c.db, "SAVEPOINT w"));
    LM_TRY(c.release.Prepare(c.db, "RELEASE w"));
    LM_TRY(c.rollback_to.Prepare(c.db, "ROLLBACK TO w"));
    return Status::OK();
  }

  Result<std::unique_ptr<Conn>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!free.empty()) {
        auto c = std::move(free.back());
        free.pop_back();
        return c;
      }
    }
    LM_ASSIGN_OR_RETURN(auto c, NewConn());
    LM_TRY(PrepareAll(*c));
    return c;
  }

  void Release(std::unique_ptr<Conn> c) {
    std::lock_guard<std::mutex> lock(mu);
    if (free.size() < 8) free.push_back(std::move(c));
  }

  Batch TakeBatch() {  // REQUIRES(queue_mu)
    Batch batch;
    while (!queue.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    return batch;
  }

  // Marks `batch` done (REQUIRES queue_mu) and decides who writes next: nobody if the queue is
  // empty, else the committer thread. Returns true if the queue was empty.
  bool Done(const Batch& batch) {
    for (auto& w : batch) w->done = true;
    if (queue.empty()) {
      writing = false;
      return true;
    }
    return false;
  }

  // Wakes the writers of a finished batch, but not `except` (the caller). Call unlocked, so that
  // a woken writer does not block on the lock at once.
  static void Wake(const Batch& batch, const PendingWrite* except) {
    for (auto& w : batch) {
      if (w->on_done) {
        w->on_done(w->result);
      } else if (w.get() != except) {
        w->cv.notify_one();
      }
    }
  }

  // Writes queued behind an inline writer: run batch after batch until the queue is empty, then
  // give up the writer role.
  void CommitterLoop() {
    std::unique_lock<std::mutex> lock(queue_mu);
    while (true) {
      committer_cv.wait(lock, [&] { return committer_due || stopping; });
      if (!committer_due) return;  // stopping, with nothing queued
      committer_due = false;
      bool empty = false;
      while (!empty) {
        Batch batch = TakeBatch();
        lock.unlock();
        RunBatch(batch);
        lock.lock();
        empty = Done(batch);
        lock.unlock();
        Wake(batch, nullptr);
        lock.lock();
      }
    }
  }

  // Runs the write functions of `batch` in one transaction and sets each one's result.
  void RunBatch(const Batch& batch) {
    auto conn = Acquire();
    if (!conn.ok()) {
      for (auto& w : batch) w->result = conn.status();
      return;
    }
    std::unique_ptr<Conn> c = std::move(*conn);
    if (Status st = c->Step(c->begin_immediate, "beginning write"); !st.ok()) {
      Release(std::move(c));
      for (auto& w : batch) w->result = st;
      return;
    }
    SqliteTxn txn(*c, true);
    size_t succeeded = 0;
    Status abort;  // a failure that spoils the whole transaction
    for (auto& w : batch) {
      if (batch.size() == 1) {
        w->result = Call(*w->fn, txn);
      } else {
        // A failing function's changes are undone without touching the others'.
        if (Status st = c->Step(c->savepoint, "savepoint"); !st.ok()) {
          abort = st;
          break;
        }
        w->result = Call(*w->fn, txn);
        if (!w->result.ok()) {
          if (Status st = c->Step(c->rollback_to, "rolling back to savepoint"); !st.ok()) {
            abort = st;
            break;
          }
        }
        if (Status st = c->Step(c->release, "releasing savepoint"); !st.ok()) {
          abort = st;
          break;
        }
      }
      if (w->result.ok()) ++succeeded;
    }
    Status commit = abort;
    if (commit.ok() && succeeded > 0) commit = c->Step(c->commit, "committing");
    if (!commit.ok() || succeeded == 0) c->Step(c->rollback, "rolling back").IgnoreError();
    Release(std::move(c));
    // Nothing of the batch was stored if the commit failed: every function that had succeeded
    // fails with the cause, and so does any that never ran after an abort.
    if (!commit.ok()) {
      for (auto& w : batch) {
        if (w->result.ok()) w->result = commit;
      }
    }
  }

  // A write function that throws fails its own write, not the process or its batch.
  static Status Call(const std::function<Status(MetaTxn&)>& fn, MetaTxn& txn) {
    try {
      return fn(txn);
    } catch (const std::exception& e) {
      return Internal(std::string("metadata write failed: ") + e.what());
    }
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> l(queue_mu);
      stopping = true;
    }
    committer_cv.notify_one();
    if (committer.joinable()) committer.join();
    free.clear();
    if (temporary) {
      for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
    }
  }
};

SqliteMetaStore::SqliteMetaStore(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}
SqliteMetaStore::~SqliteMetaStore() = default;

Result<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::Open(const std::string& path) {
  auto pool = std::make_unique<Pool>();
  if (path == ":memory:") {
    // A private temporary file rather than SQLite's shared-cache memory mode, whose table locks
    // fail concurrent transactions instead of giving them WAL snapshots.
    const char* tmpdir = std::getenv("TMPDIR");
    pool->path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/lakemesh-meta-" +
                 RandomHex(8) + ".db";
    pool->temporary = true;
  } else {
    pool->path = path;
  }
  LM_ASSIGN_OR_RETURN(auto first, pool->NewConn());
  ::chmod(pool->path.c_str(), 0600);  // holds credentials
  LM_TRY(first->Exec("BEGIN IMMEDIATE"));
  Status opened = [&]() -> Status {
    LM_TRY(first->Exec(
        "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL, x INTEGER) "
        "WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"));
    int version = 0;
    {
      Stmt s;
      LM_TRY(s.Prepare(first->db, "SELECT max(version) FROM schema_version"));
      if (sqlite3_step(s.get()) == SQLITE_ROW) version = sqlite3_column_int(s.get(), 0);
    }
    if (version > kSchemaVersion) {
      return InvalidArgument("metadata database '" + path + "' has schema version " +
                             std::to_string(version) + ", newer than this lakemesh understands (" +
                             std::to_string(kSchemaVersion) + "); upgrade lakemesh");
    }
    // Version 1 had no x column; its long values stay where they are (x NULL) and read as before.
    if (version == 1) LM_TRY(first->Exec("ALTER TABLE kv ADD COLUMN x INTEGER"));
    LM_TRY(first->Exec(kSchemaSql));
    if (version < kSchemaVersion) {
      LM_TRY(first->Exec(("DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                          std::to_string(kSchemaVersion) + ");")
                             .c_str()));
    }
    return first->Exec("COMMIT");
  }();
  if (!opened.ok()) {
    first->Exec("ROLLBACK").IgnoreError();
    return opened;
  }
  LM_TRY(pool->PrepareAll(*first));
  pool->free.push_back(std::move(first));
  return std::unique_ptr<SqliteMetaStore>(new SqliteMetaStore(std::move(pool)));
}

Status SqliteMetaStore::Read(const std::function<Status(MetaTxn&)>& fn) {
  LM_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
  LM_TRY(c->Step(c->begin, "beginning read"));
  SqliteTxn txn(*c, false);
  Status st = fn(txn);
  Status end = c->Step(c->commit, "ending read");
  pool_->Release(std::move(c));
  LM_TRY(st);
  return end;
}

Status SqliteMetaStore::Write(const std::function<Status(MetaTxn&)>& fn) {
  Pool& p = *pool_;
  auto self = std::make_shared<Pool::PendingWrite>();
  self->fn = &fn;
  std::unique_lock<std::mutex> lock(p.queue_mu);
  p.queue.push_back(self);
  if (p.writing) {
    self->cv.wait(lock, [&] { return self->done; });
    return self->result;
  }
  p.writing = true;  // nobody is writing: run this write here and now
  Pool::Batch batch = p.TakeBatch();
  lock.unlock();
  p.RunBatch(batch);
  lock.lock();
  if (!p.Done(batch)) {  // writes queued meanwhile: the committer takes over the writer role
    p.committer_due = true;
    if (!p.committer.joinable()) p.committer = std::thread([&p] { p.CommitterLoop(); });
    p.committer_cv.notify_one();
  }
  lock.unlock();
  Pool::Wake(batch, self.get());
  return self->result;
}

void SqliteMetaStore::WriteAsync(std::function<Status(MetaTxn&)> fn,
                                 std::function<void(Status)> done) {
  Pool& p = *pool_;
  auto w = std::make_shared<Pool::PendingWrite>();
  w->owned_fn = std::move(fn);
  w->fn = &w->owned_fn;
  w->on_done = std::move(done);
  std::lock_guard<std::mutex> lock(p.queue_mu);
  p.queue.push_back(std::move(w));
  if (p.writing) return;  // the writer running now hands the queue to the committer
  p.writing = true;
  p.committer_due = true;
  if (!p.committer.joinable()) p.committer = std::thread([&p] { p.CommitterLoop(); });
  p.committer_cv.notify_one();
}

}  // namespace lakemesh::meta
