// A byte-bounded LRU cache of immutable shared values, so that memory stays
// flat however large the file is.
#pragma once

#include <algorithm>
#include <cstdint>
#include <list>
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
  struct Entry {
    uint64_t key;
    std::shared_ptr<const V> value;
    size_t charge;
  };
  using Order = std::list<Entry>;
  using Index = std::unordered_map<uint64_t, typename Order::iterator>;

 public:
  // What each entry costs the cache itself, charged with its value: the
  // list node (entry and two links), the hash node (next link, key,
  // iterator; libstdc++ keeps no hash for integer keys) and its share of
  // the bucket array (which doubles as it grows: up to two buckets an
  // entry). Without it a cache of many small values held several times
  // its budget (issue 8: 72,000 blocks at 1.24 GB, 8 MB over 16 MB).
  static constexpr size_t kEntryBytes = heap_bytes(sizeof(Entry) + 2 * sizeof(void*)) +
                                        heap_bytes(sizeof(void*) + sizeof(uint64_t) + sizeof(void*)) +
                                        2 * sizeof(void*);

  explicit LruCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  std::shared_ptr<const V> get(uint64_t key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  // value_bytes: what the value costs in memory (shared_value_bytes); the
  // cache adds kEntryBytes.
  void put(uint64_t key, std::shared_ptr<const V> value, size_t value_bytes) {
    erase(key);
    const size_t charge = value_bytes + kEntryBytes;
    if (charge > capacity_) return;  // too big to keep; the caller holds it
    order_.push_front({key, std::move(value), charge});
    map_[key] = order_.begin();
    used_ += charge;
    while (used_ > capacity_ && !order_.empty()) {
      auto& last = order_.back();
      used_ -= last.charge;
      map_.erase(last.key);
      order_.pop_back();
    }
  }

  // Forgets key's value, if it is held (it changed or was freed).
  void erase(uint64_t key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    used_ -= it->second->charge;
    order_.erase(it->second);
    map_.erase(it);
  }

  size_t used_bytes() const { return used_; }
  size_t size() const { return map_.size(); }

 private:
  size_t capacity_;
  size_t used_ = 0;
  Order order_;
  Index map_;
};

}  // namespace pstkit::ndb
