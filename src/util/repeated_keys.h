// Which keys of a sequence repeat an earlier one, in memory bounded whatever
// the sequence's length: the keys go to a SpillArray with their numbers,
// and find() sorts them by key (an external merge sort beyond the budget)
// to name every key but the first of each value. `pstkit export` keeps a
// path's first manifest entry this way (a contents table that lists an item
// twice writes its file twice) without a set of every path in memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pstkit/status.h"
#include "util/spill_array.h"

namespace pstkit {

class RepeatedKeys {
 public:
  // budget: bytes of pages in memory, for the keys and for find()'s result.
  explicit RepeatedKeys(size_t budget) : keys_(budget) {}

  // Key number size() (numbers count from 0 in the order added).
  void add(uint64_t key) {
    keys_.push_back({key, count_});
    ++count_;
  }
  size_t size() const { return count_; }

  // Appends to *repeated, ascending, the number of every key an earlier key
  // equals. The keys added are dropped (add() starts a new sequence).
  Status find(SpillArray<uint64_t>* repeated) {
    // Stable: of equal keys, the first added stays first.
    keys_.stable_sort([](const Numbered& a, const Numbered& b) { return a.key < b.key; });
    bool first = true;
    uint64_t last = 0;
    for (const Numbered& k : keys_) {
      if (!first && k.key == last) repeated->push_back(k.number);
      last = k.key;
      first = false;
    }
    repeated->stable_sort([](uint64_t a, uint64_t b) { return a < b; });
    Status s = keys_.status().is_ok() ? repeated->status() : keys_.status();
    keys_.clear();  // its pages and temporary file go
    count_ = 0;
    return s;
  }

 private:
  struct Numbered {
    uint64_t key = 0;
    uint64_t number = 0;
  };
  SpillArray<Numbered> keys_;
  uint64_t count_ = 0;
};

}  // namespace pstkit
