#include "ndb/allocation_map.h"

#include <algorithm>

namespace pstkit::ndb {
namespace {

constexpr uint64_t kFMapFirstRegion = 128;     // the header's rgbFM covers regions 0..127
constexpr uint64_t kFMapInterval = 496;        // one FMap byte per region
constexpr uint64_t kFPMapFirstRegion = 8192;   // rgbFP covers 128*8 PMaps = 8192 regions
constexpr uint64_t kFPMapInterval = 496 * 8 * 8;  // one FPMap bit per PMap
// Free space behind the allocation point is reused once it exceeds this
// fraction (1/n) of the file; until then the file grows.
constexpr uint64_t kReuseFreeFraction = 4;

}  // namespace

RegionLayout region_layout(uint64_t region) {
  RegionLayout l;
  l.has_pmap = region % 8 == 0;
  l.has_fmap = region >= kFMapFirstRegion && (region - kFMapFirstRegion) % kFMapInterval == 0;
  l.has_fpmap = region >= kFPMapFirstRegion && (region - kFPMapFirstRegion) % kFPMapInterval == 0;
  return l;
}

AllocationMap AllocationMap::create(uint64_t regions) {
  AllocationMap m;
  for (uint64_t r = 0; r < regions; ++r) m.add_region();
  m.first_new_region_ = 0;
  return m;
}

AllocationMap AllocationMap::from_pages(std::vector<Bytes> bodies) {
  AllocationMap m;
  for (size_t r = 0; r < bodies.size(); ++r) m.bits_.add_region();
  m.free_in_region_.assign(bodies.size(), 0);
  for (size_t r = 0; r < bodies.size(); ++r) {
    for (uint32_t i = 0; i < kSlotsPerRegion; ++i) {
      // MS-PST 2.2.2.7.2.1: the most significant bit of each byte is the first slot.
      const uint8_t byte = i / 8 < bodies[r].size() ? bodies[r][i / 8] : 0xFF;
      const bool used = (byte >> (7 - i % 8)) & 1;
      m.bits_.set(r * kSlotsPerRegion + i, used);
      m.free_in_region_[r] += !used;
    }
    if (m.free_in_region_[r] == 0) m.bits_.drop_full(r);
  }
  m.first_new_region_ = bodies.size();
  return m;
}

void AllocationMap::add_region() {
  const uint64_t region = region_count();
  bits_.add_region();
  free_in_region_.push_back(kSlotsPerRegion);
  // The map pages at the start of the region map themselves.
  set_bits(region * kSlotsPerRegion, uint64_t(region_layout(region).map_pages()) * 512 / kSlotSize, true);
}

void AllocationMap::set_bits(uint64_t first, uint64_t count, bool value) {
  for (uint64_t i = 0; i < count; ++i) {
    if (bits_[first + i] == value) continue;
    bits_.set(first + i, value);
    const uint64_t region = (first + i) / kSlotsPerRegion;
    uint32_t& free = free_in_region_[region];
    free = value ? free - 1 : free + 1;
    if (free == 0) bits_.drop_full(region);
  }
  for (uint64_t r = first / kSlotsPerRegion; r <= (first + count - 1) / kSlotsPerRegion; ++r) dirty_.insert(r);
}

bool AllocationMap::allocate_in_region(uint64_t region, uint64_t slots, uint64_t step, uint64_t from,
                                       uint64_t* at) const {
  const uint64_t begin = region * kSlotsPerRegion, end = begin + kSlotsPerRegion;
  uint64_t i = std::max(begin, from);
  i = (i + step - 1) / step * step;
  while (i + slots <= end) {
    if (!quiet_.empty()) {
      // The first quiet range that ends after i: if it starts before the
      // run would end, the search goes on past it.
      auto q = std::upper_bound(quiet_.begin(), quiet_.end(), i,
                                [](uint64_t slot, const auto& range) { return slot < range.second; });
      if (q != quiet_.end() && q->first < i + slots) {
        i = (q->second + step - 1) / step * step;
        continue;
      }
    }
    uint64_t run = 0;
    while (run < slots && !bits_[i + run]) ++run;
    if (run == slots) {
      *at = i;
      return true;
    }
    i = (i + run + 1 + step - 1) / step * step;
  }
  return false;
}

bool AllocationMap::allocate_reusable(uint64_t slots, uint64_t step, uint64_t* at) {
  for (auto it = reusable_.begin(); it != reusable_.end(); ++it) {
    const uint64_t first = it->first, end = it->second;
    const uint64_t i = (first + step - 1) / step * step;
    if (i + slots > end) continue;
    // Ranges lie within one region (each is a freed block, merged only
    // with neighbours), so a run inside one never straddles regions; the
    // check stays for safety.
    if (i / kSlotsPerRegion != (i + slots - 1) / kSlotsPerRegion) continue;
    bool free = true;
    for (uint64_t k = 0; k < slots && free; ++k) free = !bits_[i + k];
    if (!free) continue;
    reusable_.erase(it);
    if (first < i) reusable_[first] = i;
    if (i + slots < end) reusable_[i + slots] = end;
    *at = i;
    return true;
  }
  return false;
}

void AllocationMap::free_now(uint64_t offset, uint64_t size) {
  if (offset < kFirstAMapOffset || size == 0) return;
  uint64_t first = (offset - kFirstAMapOffset) / kSlotSize;
  const uint64_t count = (size + kSlotSize - 1) / kSlotSize;
  if (first + count > bits_.size()) return;
  set_bits(first, count, false);
  uint64_t end = first + count;
  // Merge with the ranges either side, within the region.
  const uint64_t region = first / kSlotsPerRegion;
  auto next = reusable_.lower_bound(first);
  if (next != reusable_.end() && next->first == end && (next->second - 1) / kSlotsPerRegion == region) {
    end = next->second;
    next = reusable_.erase(next);
  }
  if (next != reusable_.begin()) {
    auto prev = std::prev(next);
    if (prev->second == first && prev->first / kSlotsPerRegion == region) {
      first = prev->first;
      reusable_.erase(prev);
    }
  }
  reusable_[first] = end;
}

uint64_t AllocationMap::allocate(uint64_t size, uint64_t align) {
  const uint64_t slots = (size + kSlotSize - 1) / kSlotSize;
  const uint64_t step = std::max<uint64_t>(1, align / kSlotSize);
  // Space this transaction wrote and freed again first: no state any
  // reader may be reading uses it.
  if (uint64_t at = 0; !reusable_.empty() && allocate_reusable(slots, step, &at)) {
    set_bits(at, slots, true);
    return kFirstAMapOffset + at * kSlotSize;
  }
  // Next-fit: from the hint to the end of the file; then, only when a
  // good part of the file is free, wrapping around to reuse it (the hint's
  // region before the hint last); otherwise the file grows. Space freed
  // recently is thus reused last: readers that take no lock (libpff,
  // readpst, Outlook) and opened an earlier state keep finding its blocks
  // and pages. Full regions are skipped by their free count, so a search
  // costs at most one region scan per region with room. A block never
  // straddles regions.
  const uint64_t regions = region_count();
  const uint64_t hint_region = regions ? std::min(search_hint_ / kSlotsPerRegion, regions - 1) : 0;
  auto search = [&](uint64_t from_n, uint64_t to_n, uint64_t* out) {
    for (uint64_t n = from_n; n <= to_n; ++n) {
      const uint64_t r = (hint_region + n) % regions;
      if (free_in_region_[r] < slots) continue;
      uint64_t at = 0;
      if (allocate_in_region(r, slots, step, n == 0 ? search_hint_ : 0, &at)) {
        set_bits(at, slots, true);
        search_hint_ = at + slots;
        *out = kFirstAMapOffset + at * kSlotSize;
        return true;
      }
    }
    return false;
  };
  uint64_t offset = 0;
  if (regions > 0) {
    if (search(0, regions - hint_region - 1, &offset)) return offset;
    const bool reuse = free_bytes() > regions * kAMapRegionSize / kReuseFreeFraction;
    if (reuse && search(regions - hint_region, regions, &offset)) return offset;
  }
  add_region();
  search_hint_ = (region_count() - 1) * kSlotsPerRegion;
  return allocate(size, align);
}

void AllocationMap::free_later(uint64_t offset, uint64_t size) { pending_frees_.emplace_back(offset, size); }

std::vector<std::pair<uint64_t, uint64_t>> AllocationMap::apply_frees() {
  std::vector<std::pair<uint64_t, uint64_t>> freed;
  for (const auto& [offset, size] : pending_frees_) {
    if (offset < kFirstAMapOffset) continue;
    const uint64_t first = (offset - kFirstAMapOffset) / kSlotSize;
    const uint64_t count = (size + kSlotSize - 1) / kSlotSize;
    if (first + count > bits_.size()) continue;
    set_bits(first, count, false);
    freed.emplace_back(offset, count * kSlotSize);
  }
  pending_frees_.clear();
  reusable_.clear();
  return freed;
}

void AllocationMap::mark_allocated(uint64_t offset, uint64_t size) {
  if (offset < kFirstAMapOffset) return;
  const uint64_t first = (offset - kFirstAMapOffset) / kSlotSize;
  const uint64_t count = (size + kSlotSize - 1) / kSlotSize;
  while (first + count > bits_.size()) add_region();
  set_bits(first, count, true);
}

bool AllocationMap::is_allocated(uint64_t offset, uint64_t size) const {
  if (offset < kFirstAMapOffset) return true;
  const uint64_t first = (offset - kFirstAMapOffset) / kSlotSize;
  const uint64_t count = (size + kSlotSize - 1) / kSlotSize;
  if (first + count > bits_.size()) return false;
  for (uint64_t i = 0; i < count; ++i) {
    if (!bits_[first + i]) return false;
  }
  return true;
}

bool AllocationMap::is_free(uint64_t offset, uint64_t size) const {
  if (offset < kFirstAMapOffset) return false;
  const uint64_t first = (offset - kFirstAMapOffset) / kSlotSize;
  const uint64_t count = (size + kSlotSize - 1) / kSlotSize;
  if (first + count > bits_.size()) return false;
  for (uint64_t i = 0; i < count; ++i) {
    if (bits_[first + i]) return false;
  }
  return true;
}

void AllocationMap::set_quiet(const std::vector<std::pair<uint64_t, uint64_t>>& extents) {
  quiet_.clear();
  for (const auto& [offset, size] : extents) {
    if (offset < kFirstAMapOffset || size == 0) continue;
    const uint64_t first = (offset - kFirstAMapOffset) / kSlotSize;
    quiet_.emplace_back(first, first + (size + kSlotSize - 1) / kSlotSize);
  }
  std::sort(quiet_.begin(), quiet_.end());
  size_t out = 0;
  for (size_t i = 0; i < quiet_.size(); ++i) {
    if (out > 0 && quiet_[i].first <= quiet_[out - 1].second) {
      quiet_[out - 1].second = std::max(quiet_[out - 1].second, quiet_[i].second);
    } else {
      quiet_[out++] = quiet_[i];
    }
  }
  quiet_.resize(out);
}

void AllocationMap::set_search_start(uint64_t offset) {
  search_hint_ = offset < kFirstAMapOffset ? 0 : std::min<uint64_t>((offset - kFirstAMapOffset) / kSlotSize, bits_.size());
}

uint64_t AllocationMap::free_slots(uint64_t region) const { return free_in_region_[region]; }

uint64_t AllocationMap::free_bytes() const {
  uint64_t n = 0;
  for (uint32_t f : free_in_region_) n += f;
  return n * kSlotSize;
}

Bytes AllocationMap::amap_body(uint64_t region) const {
  Bytes body(496, 0);
  for (uint32_t i = 0; i < kSlotsPerRegion; ++i) {
    if (bits_[region * kSlotsPerRegion + i]) body[i / 8] |= uint8_t(0x80 >> (i % 8));
  }
  return body;
}

}  // namespace pstkit::ndb
