// A byte-bounded LRU cache of immutable shared values, so that memory stays
// flat however large the file is.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pstkit::ndb {

// Bytes glibc's malloc takes for a request of n: an 8-byte size header,
// rounded up to 16, at least 32 (malloc.c, request2size). Caches charge
// this rather than n: for small values the difference is most of the cost.
constexpr size_t heap_bytes(size_t n) { return n == 0 ? 0 : std::max<size_t>(32, (n + 8 + 15) & ~size_t{15}); }

// What a value made by std::make_shared costs: one allocation holding the
// control block (two counts and a vtable pointer) and the value, plus
// owned_heap, the heap blocks the value owns (a vector's buffer...).
template <typename V>
constexpr size_t shared_value_bytes(size_t owned_heap) {
  return heap_bytes(2 * sizeof(void*) + sizeof(V)) + owned_heap;
}

// The heap buffer of a vector.
template <typename T>
size_t vector_heap_bytes(const std::vector<T>& v) {
  return heap_bytes(v.capacity() * sizeof(T));
}

// A vector (a block's bytes) made by std::make_shared, with its buffer.
template <typename T>
size_t shared_vector_bytes(const std::vector<T>& v) {
  return shared_value_bytes<std::vector<T>>(vector_heap_bytes(v));
}

template <typename V>
class LruCache {
  // One hash node per value: the recency list runs through the entries
  // themselves (unordered_map nodes never move), so a put costs one
  // allocation for the bookkeeping rather than a list node and a hash node.
  struct Entry {
    std::shared_ptr<const V> value;
    size_t charge = 0;
    uint64_t key = 0;
    Entry* newer = nullptr;  // towards the most recently used
    Entry* older = nullptr;  // towards the least recently used
  };
  using Index = std::unordered_map<uint64_t, Entry>;

 public:
  // What each entry costs the cache itself, charged with its value: the
  // hash node (next link, key, entry; libstdc++ keeps no hash for integer
  // keys) and its share of the bucket array (which doubles as it grows: up
  // to two buckets an entry). Without it a cache of many small values held
  // several times its budget (issue 8: 72,000 blocks at 1.24 GB, 8 MB over
  // 16 MB).
  static constexpr size_t kEntryBytes =
      heap_bytes(sizeof(void*) + sizeof(std::pair<const uint64_t, Entry>)) + 2 * sizeof(void*);

  explicit LruCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  // The list links point into map_'s nodes, which a move keeps in place.
  LruCache(LruCache&& other) noexcept { *this = std::move(other); }
  LruCache& operator=(LruCache&& other) noexcept {
    if (this == &other) return *this;
    capacity_ = other.capacity_;
    used_ = std::exchange(other.used_, 0);
    map_ = std::move(other.map_);
    other.map_.clear();
    newest_ = std::exchange(other.newest_, nullptr);
    oldest_ = std::exchange(other.oldest_, nullptr);
    return *this;
  }
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  std::shared_ptr<const V> get(uint64_t key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    Entry& e = it->second;
    if (newest_ != &e) {
      unlink(e);
      push_newest(e);
    }
    return e.value;
  }

  // value_bytes: what the value costs in memory (shared_value_bytes); the
  // cache adds kEntryBytes.
  void put(uint64_t key, std::shared_ptr<const V> value, size_t value_bytes) {
    erase(key);
    const size_t charge = value_bytes + kEntryBytes;
    if (charge > capacity_) return;  // too big to keep; the caller holds it
    Entry& e = map_.try_emplace(key).first->second;
    e.value = std::move(value);
    e.charge = charge;
    e.key = key;
    push_newest(e);
    used_ += charge;
    while (used_ > capacity_ && oldest_) erase_entry(*oldest_);
  }

  // Forgets key's value, if it is held (it changed or was freed).
  void erase(uint64_t key) {
    auto it = map_.find(key);
    if (it != map_.end()) erase_entry(it->second);
  }

  size_t used_bytes() const { return used_; }
  size_t size() const { return map_.size(); }

 private:
  void unlink(Entry& e) {
    (e.newer ? e.newer->older : newest_) = e.older;
    (e.older ? e.older->newer : oldest_) = e.newer;
    e.newer = e.older = nullptr;
  }
  void push_newest(Entry& e) {
    e.older = newest_;
    e.newer = nullptr;
    (newest_ ? newest_->newer : oldest_) = &e;
    newest_ = &e;
  }
  void erase_entry(Entry& e) {
    used_ -= e.charge;
    unlink(e);
    map_.erase(e.key);  // destroys e
  }

  size_t capacity_ = 0;
  size_t used_ = 0;
  Index map_;
  Entry* newest_ = nullptr;
  Entry* oldest_ = nullptr;
};

}  // namespace pstkit::ndb
