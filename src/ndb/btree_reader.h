// Reading the NBT and BBT of a file (MS-PST 2.2.2.7.7): lookups through a
// bounded page cache, a strict walk for the reader and the checker, and a
// tolerant walk for salvage that steps over unreadable pages.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

#include "ndb/byte_source.h"
#include "ndb/cache_mutex.h"
#include "ndb/lru_cache.h"
#include "ndb/page.h"

namespace pstkit::ndb {

// [lo, hi) of the keys under one B-tree page.
struct KeyRange {
  uint64_t lo = 0;
  uint64_t hi = std::numeric_limits<uint64_t>::max();
  bool contains(uint64_t k) const { return k >= lo && k < hi; }
};

class BTreeReader {
 public:
  // src and h must outlive the reader. With correct_bit_errors (salvage
  // only), a page whose CRC or trailer fails is read with a single flipped
  // bit undone where that makes it whole (correct_page_bits).
  BTreeReader(const ByteSource& src, const Header& h, bool correct_bit_errors = false);

  Result<NodeEntry> find_node(Nid nid) const;
  Result<BlockEntry> find_block(Bid bid) const;

  // Calls on_leaf for each leaf in key order; fails on the first unreadable
  // page. on_leaf returns false to stop.
  Status walk(uint8_t type, const std::function<bool(const BTreePage&)>& on_leaf) const;
  // Calls on_leaf for each readable leaf in key order and on_lost for each
  // subtree it cannot read: the keys it would hold and why.
  void walk_tolerant(uint8_t type, const std::function<void(const BTreePage&)>& on_leaf,
                     const std::function<void(const KeyRange&, const Status&)>& on_lost) const;

  // The pages read so far with a bit corrected, by offset.
  struct CorrectedPage {
    uint8_t type = 0;  // kPageNbt or kPageBbt
    Bid bid = 0;
    std::string what;
  };
  std::map<uint64_t, CorrectedPage> corrected_pages() const;

 private:
  using PagePtr = std::shared_ptr<const BTreePage>;
  Result<PagePtr> read_page(uint8_t type, const Bref& ref) const;
  // The leaf that holds key if any page does: the one a descent from ref
  // reaches. Valid until this thread's next find_leaf.
  Result<const BTreePage*> find_leaf(uint8_t type, Bref ref, uint64_t key) const;

  const ByteSource& src_;
  const Header& header_;
  mutable CacheMutex mu_;
  mutable LruCache<BTreePage> pages_;
  const bool correct_bit_errors_;
  // Tells this reader's leaves apart in the per-thread memo of the last
  // leaf found (btree_reader.cpp), from any reader made before or after it.
  const uint64_t id_;
  mutable std::map<uint64_t, CorrectedPage> corrected_pages_;  // guarded by mu_
};

}  // namespace pstkit::ndb
