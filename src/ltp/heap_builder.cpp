// MS-PST 2.3.1 Heap-on-Node, written.
//
// Each block is kept as its list of slots (allocation contents), so freeing
// or resizing an allocation never moves another HID: the block is compacted
// when its bytes are produced, the page map recording the new offsets.
#include <algorithm>

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
    const uint32_t index = uint32_t(freed - p.slots.begin()) + 1;
    return make_hid(uint32_t(page), index, format_);
  };
  for (size_t page = 0; page < pages_.size(); ++page) {
    if (auto hid = place(page)) return *hid;
  }
  if (pages_.size() >= kMaxBlocks) {
    return Status::invalid_argument("heap is full: " + std::to_string(kMaxBlocks) + " blocks");
  }
  pages_.emplace_back();
  if (auto hid = place(pages_.size() - 1)) return *hid;
  return Status::invalid_argument("heap allocation does not fit an empty block");
}

Result<const HeapBuilder::Page*> HeapBuilder::page_of(Hid hid, uint32_t* slot) const {
  if (!hnid_is_hid(hid)) return Status::invalid_argument(hex(hid) + " is not a HID");
  const HidParts parts = split_hid(hid, format_);
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

size_t HeapBuilder::allocation_count() const {
  size_t n = 0;
  for (const Page& p : pages_) {
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
    levels.push_back(fill_level(max_block_ - used_bytes(i, pages_[i].data_bytes, pages_[i].slots.size())));
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

}  // namespace pstkit::ltp
