// A byte-bounded LRU cache of immutable shared values, so that memory stays
// flat however large the file is.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <utility>

namespace pstkit::ndb {

template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  std::shared_ptr<const V> get(uint64_t key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  void put(uint64_t key, std::shared_ptr<const V> value, size_t charge) {
    if (charge > capacity_) return;  // too big to keep; the caller holds it
    auto it = map_.find(key);
    if (it != map_.end()) {
      used_ -= it->second->charge;
      order_.erase(it->second);
      map_.erase(it);
    }
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

  // Forgets the value of key, if it is held (a page or block that was freed).
  void erase(uint64_t key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    used_ -= it->second->charge;
    order_.erase(it->second);
    map_.erase(it);
  }

  size_t used_bytes() const { return used_; }

 private:
  struct Entry {
    uint64_t key;
    std::shared_ptr<const V> value;
    size_t charge;
  };
  size_t capacity_;
  size_t used_ = 0;
  std::list<Entry> order_;
  std::unordered_map<uint64_t, typename std::list<Entry>::iterator> map_;
};

}  // namespace pstkit::ndb
