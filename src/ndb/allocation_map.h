// Space allocation for the writer: the AMap bitmaps (MS-PST 2.2.2.7.2), the
// fixed-position map pages, and file growth (MS-PST 2.6.1.1.1-2.6.1.1.3).
//
// The file is a sequence of regions of 253,952 bytes starting at 0x4400; each
// begins with its AMap page, and some also hold a PMap, FMap or FPMap page at
// fixed positions. Allocation never hands out space that is live in the last
// committed state: frees made during a transaction take effect at commit.
#pragma once

#include <bitset>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "pstkit/ndb.h"

namespace pstkit::ndb {

inline constexpr uint64_t kFirstAMapOffset = 0x4400;
inline constexpr uint64_t kDListOffset = 0x4200;
inline constexpr uint64_t kAMapRegionSize = 496 * 8 * 64;  // 253,952
inline constexpr uint32_t kSlotSize = 64;
inline constexpr uint32_t kSlotsPerRegion = 496 * 8;

// The deprecated map pages that some regions carry right after their AMap.
struct RegionLayout {
  bool has_pmap = false;   // every 8th region (MS-PST 2.2.2.7.3)
  bool has_fmap = false;   // from region 128, every 496th (MS-PST 2.2.2.7.5)
  bool has_fpmap = false;  // from region 8192, every 31,744th (MS-PST 2.2.2.7.6)
  uint32_t map_pages() const { return 1 + has_pmap + has_fmap + has_fpmap; }
};
RegionLayout region_layout(uint64_t region);
inline uint64_t region_offset(uint64_t region) { return kFirstAMapOffset + region * kAMapRegionSize; }

// One bit per 64-byte slot, held a region at a time: the file growing by a
// region adds 496 bytes, where one vector of bits was reallocated (the old
// and the new copy alive at once) and kept up to twice the file's map.
// A region whose every slot is used holds no bits (drop_full), so a file
// written mostly by appending (an import, a MAPI client, repair's and
// recover's new file) costs a pointer per region, not 496 bytes.
class SlotBits {
 public:
  uint64_t size() const { return regions_.size() * kSlotsPerRegion; }
  bool operator[](uint64_t slot) const {
    const auto& bits = regions_[slot / kSlotsPerRegion];
    return bits ? (*bits)[slot % kSlotsPerRegion] : true;
  }
  void set(uint64_t slot, bool used) {
    auto& bits = regions_[slot / kSlotsPerRegion];
    if (!bits) {
      if (used) return;
      bits = std::make_unique<Region>();
      bits->set();
    }
    (*bits)[slot % kSlotsPerRegion] = used;
  }
  void add_region() { regions_.push_back(std::make_unique<Region>()); }
  // Frees the bits of a region the caller knows to be full.
  void drop_full(uint64_t region) { regions_[region].reset(); }

 private:
  using Region = std::bitset<kSlotsPerRegion>;
  std::deque<std::unique_ptr<Region>> regions_;  // null: every slot used
};

class AllocationMap {
 public:
  // Empty map for a new file with `regions` regions (map pages pre-marked).
  static AllocationMap create(uint64_t regions);
  // From the AMap page bodies of an existing file (496 bytes each).
  static AllocationMap from_pages(std::vector<Bytes> amap_bodies);

  uint64_t region_count() const { return bits_.size() / kSlotsPerRegion; }
  uint64_t file_end() const { return region_offset(region_count()); }

  // Finds free space of `size` bytes (a multiple of 64) aligned to `align`,
  // not crossing a region, marks it allocated and returns its offset; grows
  // the map by whole regions when nothing fits.
  uint64_t allocate(uint64_t size, uint64_t align);
  // Frees space at commit: until then it stays allocated.
  void free_later(uint64_t offset, uint64_t size);
  // Applies deferred frees (at commit); returns the extents freed.
  std::vector<std::pair<uint64_t, uint64_t>> apply_frees();
  // Frees at once space that no committed state uses (a block written and
  // replaced within the same transaction): no reader, whatever its locks,
  // can hold a reference to it, so allocate() hands it out again first.
  // Forgotten at commit (apply_frees), when it becomes ordinary free space.
  void free_now(uint64_t offset, uint64_t size);
  void mark_allocated(uint64_t offset, uint64_t size);
  bool is_allocated(uint64_t offset, uint64_t size) const;
  // True when every slot of the extent is free.
  bool is_free(uint64_t offset, uint64_t size) const;
  // Free extents that allocate() must not hand out for now (space recent
  // commits freed: see recent_frees.h); replaces the previous set. They
  // still count as free in the AMap and in free_bytes().
  void set_quiet(const std::vector<std::pair<uint64_t, uint64_t>>& extents);
  // Where the next search for free space starts (next-fit). Frees never
  // move it back, so recently freed space is reused last.
  void set_search_start(uint64_t offset);

  uint64_t free_bytes() const;
  uint64_t free_slots(uint64_t region) const;
  // The 496-byte AMap body of a region, for writing its page.
  Bytes amap_body(uint64_t region) const;
  // Regions whose AMap changed since the last clear_dirty().
  const std::set<uint64_t>& dirty_regions() const { return dirty_; }
  void clear_dirty() { dirty_.clear(); }
  // Regions added by growth since creation/load (their map pages must be written).
  uint64_t first_new_region() const { return first_new_region_; }
  void mark_regions_written() { first_new_region_ = region_count(); }

 private:
  void add_region();
  void set_bits(uint64_t first_slot, uint64_t count, bool value);

  // Finds a free run inside one region, or returns false.
  bool allocate_in_region(uint64_t region, uint64_t slots, uint64_t step, uint64_t from, uint64_t* at) const;

  SlotBits bits_;  // one per 64-byte slot from 0x4400
  // Slot ranges [first, end) not to be reused yet, sorted and disjoint.
  std::vector<std::pair<uint64_t, uint64_t>> quiet_;
  std::vector<uint32_t> free_in_region_;  // free slots per region: lets a search skip full regions
  std::vector<std::pair<uint64_t, uint64_t>> pending_frees_;
  // Slot ranges [first, end) freed by free_now in this transaction, reused
  // before the next-fit search: first -> end, adjacent ranges merged.
  std::map<uint64_t, uint64_t> reusable_;
  bool allocate_reusable(uint64_t slots, uint64_t step, uint64_t* at);
  std::set<uint64_t> dirty_;
  uint64_t first_new_region_ = 0;
  uint64_t search_hint_ = 0;  // slot to start searching from
};

}  // namespace pstkit::ndb
