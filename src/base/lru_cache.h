// LruCache: a thread-safe least-recently-used cache bounded by a byte budget. Values are shared
// immutable objects (shared_ptr<const V>), so a reader keeps what it got even after eviction.
//
// For content-addressed values, Put is all there is. A cache of mutable state also needs
// invalidation without a lost update: a reader takes Generation() before reading the source and
// fills the cache with PutIfUnchanged(); a writer calls Erase() (or Clear()) after changing the
// source, which bumps the generation, so a read that began before the change is not cached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lakemesh {

template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  std::shared_ptr<const V> Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->value;
  }

  // Inserts (or refreshes) `key`, charging `bytes` against the budget; evicts the least
  // recently used entries beyond it (always keeping the newest).
  void Put(const std::string& key, std::shared_ptr<const V> value, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.push_front(Item{key, std::move(value), bytes});
    index_[key] = lru_.begin();
    used_ += bytes;
    EvictLocked();
  }

  uint64_t Generation() const {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }

  // Inserts or replaces `key` unless Erase or Clear ran since Generation() returned `generation`.
  void PutIfUnchanged(const std::string& key, std::shared_ptr<const V> value, size_t bytes,
                      uint64_t generation) {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != generation_) return;
    RemoveLocked(key);
    lru_.push_front(Item{key, std::move(value), bytes});
    index_[key] = lru_.begin();
    used_ += bytes;
    EvictLocked();
  }

  void Erase(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    RemoveLocked(key);
  }

  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    lru_.clear();
    index_.clear();
    used_ = 0;
  }

  size_t used_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }

 private:
  void RemoveLocked(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    used_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }

  void EvictLocked() {
    while (used_ > capacity_ && lru_.size() > 1) {
      used_ -= lru_.back().bytes;
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }

  struct Item {
    std::string key;
    std::shared_ptr<const V> value;
    size_t bytes;
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Item> lru_;                                           // GUARDED_BY(mu_)
  std::unordered_map<std::string, typename std::list<Item>::iterator> index_;  // GUARDED_BY(mu_)
  size_t used_ = 0;                                               // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                                       // GUARDED_BY(mu_)
};

}  // namespace lakemesh
