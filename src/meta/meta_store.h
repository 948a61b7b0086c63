// MetaStore: the transactional, ordered key-value store that holds all metadata (repositories,
// refs, commits, tree nodes, staged changes, credentials). Keys and values are byte strings;
// keys sort bytewise, so a prefix is a range.
//
// Read() runs `fn` on a consistent snapshot. Write() runs `fn` in a serializable read-write
// transaction that commits only if `fn` returns OK; a backend may run `fn` again after a
// serialization failure, so `fn` must not have side effects outside the transaction.
// Implementations: SqliteMetaStore (default); PostgreSQL slots in behind the same interface.
// All methods are thread-safe; a MetaTxn belongs to the thread running its function.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lakemesh::meta {

struct KeyValue {
  std::string key;
  std::string value;
};

class MetaTxn {
 public:
  virtual ~MetaTxn() = default;
  // nullopt if the key is absent.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // Pairs with start <= key < end in key order, at most `limit` (0 = no limit).
  // An empty `end` means "to the end of the keyspace".
  virtual Result<std::vector<KeyValue>> Scan(std::string_view start, std::string_view end,
                                             size_t limit) = 0;
  // Fail with kInternal inside a read-only transaction.
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;
  // Deletes `key` only if its value is exactly `expected` (compare-and-delete); absent or
  // different values are left alone. Fails with kInternal inside a read-only transaction.
  virtual Status DeleteIfEquals(std::string_view key, std::string_view expected) = 0;
  virtual Status DeleteRange(std::string_view start, std::string_view end) = 0;
};

class MetaStore {
 public:
  virtual ~MetaStore() = default;
  virtual Status Read(const std::function<Status(MetaTxn&)>& fn) = 0;
  virtual Status Write(const std::function<Status(MetaTxn&)>& fn) = 0;
  // Write() without waiting: `fn` runs on another thread, and `done` runs there with the result
  // once the transaction has committed (durably) or failed. `done` must not block; it may run
  // before WriteAsync returns. This default runs Write() on the calling thread.
  virtual void WriteAsync(std::function<Status(MetaTxn&)> fn, std::function<void(Status)> done);

  // One-call conveniences, each its own transaction.
  Result<std::optional<std::string>> Get(std::string_view key);
  Result<std::vector<KeyValue>> Scan(std::string_view start, std::string_view end, size_t limit);
  Status Put(std::string_view key, std::string_view value);
};

// The smallest key greater than every key starting with `prefix` ("" if there is none), so that
// Scan(prefix, PrefixEnd(prefix)) lists exactly the keys under prefix.
std::string PrefixEnd(std::string_view prefix);

}  // namespace lakemesh::meta
