// MS-PST 2.3.1 Heap-on-Node, written.
//
// Each block is kept as its list of slots (allocation contents), so freeing
// or resizing an allocation never moves another HID: the block is compacted
// when its bytes are produced, the page map recording the new offsets.
#include <algorithm>
#include <set>
#include <string>

#include "pstkit/ltp_builder.h"

namespace pstkit::ltp {

namespace {

constexpr size_t kHnHdrSize = 12;        // MS-PST 2.3.1.2 HNHDR
constexpr size_t kHnPageHdrSize = 2;     // MS-PST 2.3.1.3 HNPAGEHDR
constexpr size_t kHnBitmapHdrSize = 66;  // MS-PST 2.3.1.4 HNBITMAPHDR
constexpr size_t kPageMapHeaderSize = 4; // MS-PST 2.3.1.5 cAlloc, cFree
constexpr uint32_t kMaxHidIndex = 0x7FF; // MS-PST 2.3.1.1: 11-bit hidIndex
constexpr size_t kMaxBlocks = 0x10000;   // 16-bit hidBlockIndex
constexpr size_t kBlocksPerBitmap = 128; // MS-PST 2.3.1.4

bool is_bitmap_block(size_t block) { return block >= 8 && (block - 8) % kBlocksPerBitmap == 0; }

// MS-PST 2.3.1.6.2: block 0 has the HNHDR, blocks 8, 136, 264... an
// HNBITMAPHDR, every other block an HNPAGEHDR.
size_t header_size(size_t block) {
  if (block == 0) return kHnHdrSize;
  return is_bitmap_block(block) ? kHnBitmapHdrSize : kHnPageHdrSize;
}

// MS-PST 2.3.1.2 rgbFillLevel: a 4-bit level from the bytes free in a block.
uint8_t fill_level(size_t free_bytes) {
  static constexpr size_t kAtLeast[] = {3584, 2560, 2048, 1792, 1536, 1280, 1024, 768,
                                        512,  256,  128,  64,   32,   16,   8};
  for (uint8_t level = 0; level < 15; ++level) {
    if (free_bytes >= kAtLeast[level]) return level;
  }
  return 0xF;  // FILL_LEVEL_FULL: fewer than 8 bytes free
}

// Fill levels packed two per byte, the lower-numbered block in the low nibble.
void store_fill_levels(uint8_t* out, const std::vector<uint8_t>& levels, size_t first, size_t count) {
  for (size_t i = 0; i < count && first + i < levels.size(); ++i) {
    out[i / 2] |= uint8_t(levels[first + i] << (4 * (i % 2)));
  }
}

size_t align2(size_t n) { return (n + 1) & ~size_t{1}; }

}  // namespace

HeapBuilder::HeapBuilder(ndb::FileFormat format, size_t max_block, uint8_t sig)
    : format_(format), max_block_(max_block), client_signature_(sig), pages_(1) {}

Result<HeapBuilder> HeapBuilder::create(ndb::FileFormat format, uint8_t client_signature) {
  PSTKIT_ASSIGN_OR_RETURN(size_t max_block, max_block_data_size(format));
  return HeapBuilder(format, max_block, client_signature);
}

Result<HeapBuilder> HeapBuilder::from_heap(const Heap& heap) {
  PSTKIT_ASSIGN_OR_RETURN(HeapBuilder b, create(heap.options().format, heap.client_signature()));
  b.user_root_ = heap.user_root();
  const std::vector<HeapBlockInfo> infos = heap.blocks();
  if (infos.size() > kMaxBlocks) return Status::invalid_argument("heap has too many blocks to rewrite");
  b.pages_.assign(infos.size(), Page{});
  for (const HeapBlockInfo& info : infos) {
    if (!info.status.is_ok()) return info.status.with_context("HeapBuilder::from_heap");
    Page& page = b.pages_[info.block];
    size_t zero_size = 0;
    for (const HeapAllocation& a : info.allocations) {
      PSTKIT_ASSIGN_OR_RETURN(ByteView v, heap.get(a.hid));
      page.slots.push_back(Slot{v.to_bytes(), false});
      page.data_bytes += v.size();
      if (v.empty()) ++zero_size;
    }
    // A freed slot is an empty one (MS-PST 2.3.1.5 cFree), but an empty
    // allocation looks the same: trust them as freed only when they add up.
    if (zero_size == info.free_count) {
      for (Slot& s : page.slots) s.freed = s.data.empty();
      while (!page.slots.empty() && page.slots.back().freed) page.slots.pop_back();
    } else {
      page.opaque_free = info.free_count;
    }
  }
  return b;
}

size_t HeapBuilder::used_bytes(size_t page, size_t data_bytes, size_t slots) const {
  // MS-PST 2.3.1.5: the page map follows the allocations on a 2-byte
  // boundary and has cAlloc + 1 offsets.
  return align2(header_size(page) + data_bytes) + kPageMapHeaderSize + 2 * (slots + 1);
}

bool HeapBuilder::fits(size_t page, size_t extra_bytes, bool new_slot) const {
  const Page& p = pages_[page];
  const size_t slots = p.slots.size() + (new_slot ? 1 : 0);
  if (slots > kMaxHidIndex) return false;
  return used_bytes(page, p.data_bytes + extra_bytes, slots) <= max_block_;
}

Result<Hid> HeapBuilder::allocate(ByteView data) {
  if (data.size() > kMaxHeapAllocation) {
    return Status::invalid_argument("heap allocation of " + std::to_string(data.size()) +
                                    " bytes exceeds " + std::to_string(kMaxHeapAllocation) +
                                    " (store it in a subnode)");
  }
  auto place = [&](size_t page) -> std::optional<Hid> {
    Page& p = pages_[page];
    if (!p.loaded) return std::nullopt;  // in place: only blocks already read
    // Cheap test first: a block without room even for reusing a slot is
    // skipped without scanning its slots (large tables have hundreds of
    // full blocks; scanning them made building a table quadratic).
    if (!fits(page, data.size(), false)) return std::nullopt;
    auto freed = std::find_if(p.slots.begin(), p.slots.end(), [](const Slot& s) { return s.freed; });
    const bool new_slot = freed == p.slots.end();
    if (!fits(page, data.size(), new_slot)) return std::nullopt;
    if (new_slot) freed = p.slots.insert(p.slots.end(), Slot{});
    freed->data = data.to_bytes();
    freed->freed = false;
    p.data_bytes += data.size();
    p.dirty = true;
    const uint32_t index = uint32_t(freed - p.slots.begin()) + 1;
    return make_hid(uint32_t(page), index, format_);
  };
  if (source_) {
    // In place: only the blocks read so far (kept in loaded_pages_, so the
    // search does not walk a large heap's unread blocks), last one included.
    PSTKIT_RETURN_IF_ERROR(load(pages_.size() - 1));
    for (size_t page : loaded_pages_) {
      if (auto hid = place(page)) return *hid;
    }
  } else {
    for (size_t page = 0; page < pages_.size(); ++page) {
      if (auto hid = place(page)) return *hid;
    }
  }
  if (pages_.size() >= kMaxBlocks) {
    return Status::invalid_argument("heap is full: " + std::to_string(kMaxBlocks) + " blocks");
  }
  // The block before a new one is written at the full size from now on.
  touch(pages_.size() - 1);
  pages_.emplace_back();
  if (source_) loaded_pages_.insert(pages_.size() - 1);
  if (auto hid = place(pages_.size() - 1)) return *hid;
  return Status::invalid_argument("heap allocation does not fit an empty block");
}

Result<const HeapBuilder::Page*> HeapBuilder::page_of(Hid hid, uint32_t* slot) const {
  if (!hnid_is_hid(hid)) return Status::invalid_argument(hex(hid) + " is not a HID");
  const HidParts parts = split_hid(hid, format_);
  if (parts.block < pages_.size()) PSTKIT_RETURN_IF_ERROR(load(parts.block));
  if (parts.index == 0 || parts.block >= pages_.size() ||
      parts.index > pages_[parts.block].slots.size() ||
      pages_[parts.block].slots[parts.index - 1].freed) {
    return Status::not_found("heap has no allocation " + hex(hid));
  }
  *slot = parts.index - 1;
  return &pages_[parts.block];
}

Result<HeapBuilder::Page*> HeapBuilder::page_of(Hid hid, uint32_t* slot) {
  PSTKIT_ASSIGN_OR_RETURN(const Page* p, std::as_const(*this).page_of(hid, slot));
  return const_cast<Page*>(p);
}

Status HeapBuilder::free(Hid hid) {
  uint32_t slot = 0;
  PSTKIT_ASSIGN_OR_RETURN(Page * p, page_of(hid, &slot));
  p->data_bytes -= p->slots[slot].data.size();
  p->slots[slot] = Slot{{}, true};
  p->dirty = true;
  // Trailing freed slots can go: nothing refers to them.
  while (!p->slots.empty() && p->slots.back().freed) p->slots.pop_back();
  return Status::ok();
}

Status HeapBuilder::replace(Hid hid, ByteView data) {
  if (data.size() > kMaxHeapAllocation) {
    return Status::invalid_argument("heap allocation of " + std::to_string(data.size()) +
                                    " bytes exceeds " + std::to_string(kMaxHeapAllocation));
  }
  uint32_t slot = 0;
  PSTKIT_ASSIGN_OR_RETURN(Page * p, page_of(hid, &slot));
  const size_t old_size = p->slots[slot].data.size();
  const size_t block = split_hid(hid, format_).block;
  if (data.size() > old_size && !fits(block, data.size() - old_size, false)) {
    return Status::invalid_argument("no room in heap block " + std::to_string(block) + " to grow " +
                                    hex(hid) + " to " + std::to_string(data.size()) + " bytes");
  }
  p->data_bytes = p->data_bytes - old_size + data.size();
  p->slots[slot].data = data.to_bytes();
  p->dirty = true;
  return Status::ok();
}

Result<Hid> HeapBuilder::reallocate(Hid hid, ByteView data) {
  if (!contains(hid)) return Status::not_found("heap has no allocation " + hex(hid));
  Status s = replace(hid, data);
  if (s.is_ok()) return hid;
  if (data.size() > kMaxHeapAllocation) return s;
  PSTKIT_RETURN_IF_ERROR(free(hid));
  return allocate(data);
}

Result<ByteView> HeapBuilder::get(Hid hid) const {
  uint32_t slot = 0;
  PSTKIT_ASSIGN_OR_RETURN(const Page* p, page_of(hid, &slot));
  return ByteView(p->slots[slot].data);
}

bool HeapBuilder::contains(Hid hid) const {
  uint32_t slot = 0;
  return page_of(hid, &slot).is_ok();
}

uint8_t HeapBuilder::level_of(size_t index) const {
  const Page& p = pages_[index];
  return fill_level(max_block_ - used_bytes(index, p.data_bytes, p.slots.size()));
}

size_t HeapBuilder::allocation_count() const {
  size_t n = 0;
  for (size_t i = 0; i < pages_.size(); ++i) {
    if (!load(i).is_ok()) continue;
    const Page& p = pages_[i];
    n += size_t(std::count_if(p.slots.begin(), p.slots.end(), [](const Slot& s) { return !s.freed; }));
  }
  return n;
}

Bytes HeapBuilder::build_block(size_t index) const {
  const Page& p = pages_[index];
  const size_t hdr = header_size(index);
  const size_t map = align2(hdr + p.data_bytes);
  const size_t used = used_bytes(index, p.data_bytes, p.slots.size());
  const bool last = index + 1 == pages_.size();
  // Outlook writes every block but the last at the full size.
  Bytes out(last ? used : max_block_, 0);
  store_le16(out.data(), uint16_t(map));  // ibHnpm, first in every header

  size_t offset = hdr;
  size_t freed = p.opaque_free;
  uint8_t* rgib = out.data() + map + kPageMapHeaderSize;
  for (size_t i = 0; i < p.slots.size(); ++i) {
    const Slot& s = p.slots[i];
    store_le16(rgib + 2 * i, uint16_t(offset));
    std::copy(s.data.begin(), s.data.end(), out.begin() + long(offset));
    offset += s.data.size();
    if (s.freed) ++freed;
  }
  store_le16(rgib + 2 * p.slots.size(), uint16_t(offset));
  store_le16(out.data() + map, uint16_t(p.slots.size()));  // cAlloc
  store_le16(out.data() + map + 2, uint16_t(freed));       // cFree
  return out;
}

std::vector<Bytes> HeapBuilder::build() const {
  std::vector<Bytes> blocks;
  blocks.reserve(pages_.size());
  std::vector<uint8_t> levels;
  levels.reserve(pages_.size());
  for (size_t i = 0; i < pages_.size(); ++i) {
    blocks.push_back(build_block(i));
    levels.push_back(level_of(i));
  }
  // MS-PST 2.3.1.2 HNHDR: bSig, bClientSig, hidUserRoot, the fill levels of
  // blocks 0..7.
  Bytes& first = blocks[0];
  first[2] = kHeapSignature;
  first[3] = client_signature_;
  store_le32(first.data() + 4, user_root_);
  store_fill_levels(first.data() + 8, levels, 0, 8);
  // MS-PST 2.3.1.4 HNBITMAPHDR: the fill levels of its block and the next 127.
  for (size_t i = 8; i < blocks.size(); i += kBlocksPerBitmap) {
    store_fill_levels(blocks[i].data() + 2, levels, i, kBlocksPerBitmap);
  }
  return blocks;
}

// ---------------------------------------------------------------- in place

Result<HeapBuilder> HeapBuilder::open_in_place(ndb::FileFormat format, size_t block_count, BlockSource source) {
  if (block_count == 0) return Status::corrupt("HN header", Status::kNoOffset, "heap has no blocks");
  if (block_count > kMaxBlocks) return Status::invalid_argument("heap has too many blocks to edit");
  PSTKIT_ASSIGN_OR_RETURN(HeapBuilder b, create(format, 0));
  b.source_ = std::move(source);
  b.pages_.assign(block_count, Page{});
  for (Page& p : b.pages_) {
    p.loaded = false;
    p.dirty = false;
  }
  PSTKIT_RETURN_IF_ERROR(b.load(0));  // the HNHDR
  b.header_dirty_ = false;
  return b;
}

Status HeapBuilder::load(size_t index) const {
  if (index >= pages_.size() || pages_[index].loaded) return Status::ok();
  PSTKIT_ASSIGN_OR_RETURN(SharedBytes block, source_(index));
  if (!block) return Status::corrupt("HN", Status::kNoOffset, "heap block " + std::to_string(index) + ": no data");
  return parse_page(index, ByteView(*block));
}

// MS-PST 2.3.1.5 HNPAGEMAP, read the way Heap reads it (bounds-checked), into
// slots; header fields of block 0 (HNHDR) and the fill levels of header blocks
// are kept.
Status HeapBuilder::parse_page(size_t index, ByteView data) const {
  const std::string where = "heap block " + std::to_string(index);
  const size_t hdr = header_size(index);
  if (data.size() < hdr || data.size() > max_block_) {
    return Status::corrupt("HN page header", Status::kNoOffset, where + ": " + std::to_string(data.size()) + " bytes");
  }
  const size_t map = data.u16(0);
  if (map < hdr || !data.has(map, kPageMapHeaderSize)) {
    return Status::corrupt("HN page map", Status::kNoOffset, where + ": ibHnpm " + hex(map) + " out of range");
  }
  const size_t count = data.u16(map);
  const uint16_t free_count = data.u16(map + 2);
  if (count > kMaxHidIndex || !data.has(map + kPageMapHeaderSize, 2 * (count + 1))) {
    return Status::corrupt("HN page map", Status::kNoOffset, where + ": cAlloc " + std::to_string(count) + " out of range");
  }
  Page page;
  size_t prev = hdr, zero_size = 0;
  for (size_t i = 0; i <= count; ++i) {
    const size_t off = data.u16(map + kPageMapHeaderSize + 2 * i);
    if (off < prev || off > map) {
      return Status::corrupt("HN page map", Status::kNoOffset,
                             where + ": rgibAlloc[" + std::to_string(i) + "] = " + hex(off) + " out of order");
    }
    if (i > 0) {
      page.slots.push_back(Slot{data.sub(prev, off - prev).to_bytes(), false});
      page.data_bytes += off - prev;
      if (off == prev) ++zero_size;
    }
    prev = off;
  }
  // As in from_heap: empty slots are freed ones only when they add up to cFree.
  if (zero_size == free_count) {
    for (Slot& s : page.slots) s.freed = s.data.empty();
    while (!page.slots.empty() && page.slots.back().freed) page.slots.pop_back();
  } else {
    page.opaque_free = free_count;
  }
  if (index == 0) {
    // MS-PST 2.3.1.2 HNHDR.
    if (data.u8(2) != kHeapSignature) {
      return Status::corrupt("HN header", Status::kNoOffset, "bSig " + hex(data.u8(2)) + ", expected 0xec");
    }
    auto* self = const_cast<HeapBuilder*>(this);
    self->client_signature_ = data.u8(3);
    self->user_root_ = data.u32(4);
    page.fill_levels = data.sub(8, 4).to_bytes();
  } else if (is_bitmap_block(index)) {
    page.fill_levels = data.sub(2, 64).to_bytes();  // MS-PST 2.3.1.4
  }
  page.loaded = true;
  page.dirty = false;
  pages_[index] = std::move(page);
  loaded_pages_.insert(index);
  return Status::ok();
}

Result<std::map<size_t, Bytes>> HeapBuilder::build_changed() const {
  std::map<size_t, Bytes> out;
  if (!source_) {
    std::vector<Bytes> all = build();
    for (size_t i = 0; i < all.size(); ++i) out.emplace(i, std::move(all[i]));
    return out;
  }
  // Header blocks to refresh: block 0 for its fields and blocks 0..7, the
  // HNBITMAPHDR of every group of 128 with a changed block.
  std::set<size_t> headers;
  if (header_dirty_) headers.insert(0);
  for (size_t i = 0; i < pages_.size(); ++i) {
    if (!pages_[i].dirty) continue;
    headers.insert(i < 8 ? 0 : 8 + (i - 8) / kBlocksPerBitmap * kBlocksPerBitmap);
  }
  for (size_t h : headers) PSTKIT_RETURN_IF_ERROR(load(h));
  for (size_t i = 0; i < pages_.size(); ++i) {
    if (pages_[i].dirty || headers.count(i)) out.emplace(i, build_block(i));
  }
  for (size_t h : headers) {
    Bytes& block = out[h];
    const size_t first = h, count = h == 0 ? 8 : kBlocksPerBitmap;
    uint8_t* levels = block.data() + (h == 0 ? 8 : 2);
    // Blocks not read keep the level the file gave them.
    const Bytes& before = pages_[h].fill_levels;
    for (size_t k = 0; k < count / 2; ++k) levels[k] = k < before.size() ? before[k] : 0;
    for (size_t i = first; i < first + count && i < pages_.size(); ++i) {
      if (!pages_[i].loaded) continue;
      const size_t k = i - first;
      levels[k / 2] = uint8_t((levels[k / 2] & (0xF0u >> (4 * (k % 2)))) | (level_of(i) << (4 * (k % 2))));
    }
    if (h == 0) {
      block[2] = kHeapSignature;
      block[3] = client_signature_;
      store_le32(block.data() + 4, user_root_);
    }
  }
  return out;
}

}  // namespace pstkit::ltp
