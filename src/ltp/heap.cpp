// MS-PST 2.3.1 Heap-on-Node.
//
// Each block of the node is decoded on first use and then kept (the blocks
// are shared with the NDB cache), with its page map parsed and checked, so
// get() is a bounds-checked lookup that returns a view into the kept block,
// valid as long as the heap. Blocks load lazily because a large table's heap
// holds mostly cells (strings, binaries) that a walk of its row ids never
// needs: a contents table of 100,000 rows has about 6.6 MB of them.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "pstkit/ltp.h"

namespace pstkit::ltp {

namespace {

constexpr size_t kHnHdrSize = 12;       // MS-PST 2.3.1.2 HNHDR
constexpr size_t kHnPageHdrSize = 2;    // MS-PST 2.3.1.3 HNPAGEHDR
constexpr size_t kHnBitmapHdrSize = 66; // MS-PST 2.3.1.4 HNBITMAPHDR

bool is_4k(ndb::FileFormat f) { return f == ndb::FileFormat::kUnicode4k; }
uint32_t max_hid_index(ndb::FileFormat f) { return is_4k(f) ? 0x3FFF : 0x7FF; }
uint32_t max_hid_blocks(ndb::FileFormat f) { return is_4k(f) ? 0x2000 : 0x10000; }

// MS-PST 2.3.1.6.2: block 0 has the HNHDR, blocks 8, 136, 264... an
// HNBITMAPHDR, every other block an HNPAGEHDR.
size_t header_size(size_t block) {
  if (block == 0) return kHnHdrSize;
  if (block >= 8 && (block - 8) % 128 == 0) return kHnBitmapHdrSize;
  return kHnPageHdrSize;
}

std::string where(ndb::Nid nid, size_t block) {
  return "node " + hex(nid) + " block " + std::to_string(block);
}

}  // namespace

HidParts split_hid(Hid hid, ndb::FileFormat format) {
  // MS-PST 2.3.1.1: hidType (5 bits), hidIndex (11), hidBlockIndex (16).
  // 4 KiB-page files widen hidIndex to 14 bits and narrow the block index.
  if (is_4k(format)) return {(hid >> 5) & 0x3FFF, hid >> 19};
  return {(hid >> 5) & 0x7FF, hid >> 16};
}

Hid make_hid(uint32_t block, uint32_t index, ndb::FileFormat format) {
  if (is_4k(format)) return (block << 19) | ((index & 0x3FFF) << 5);
  return (block << 16) | ((index & 0x7FF) << 5);
}

struct Heap::Impl {
  struct Block {
    SharedBytes data;
    Status status;
    uint32_t page_map = 0;          // ibHnpm
    uint16_t free_count = 0;        // cFree
    std::vector<uint16_t> offsets;  // rgibAlloc: cAlloc + 1 entries
  };

  std::shared_ptr<const ndb::Node> node;
  Options options;
  uint8_t client_signature = 0;
  Hid user_root = 0;
  uint32_t fill_levels = 0;
  size_t block_count = 0;

  // Block i, read and its page map parsed on the first call (thread-safe).
  // A flag and a lock, not std::call_once: glibc's pthread_once ends every
  // first call with a futex system call, one per block of every heap.
  const Block& block(size_t i) const {
    if (!loaded[i].load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(load_mu);
      if (!loaded[i].load(std::memory_order_relaxed)) {
        load(i);
        loaded[i].store(true, std::memory_order_release);
      }
    }
    return blocks[i];
  }

  mutable std::vector<Block> blocks;  // each written once, before its loaded flag is set
  std::unique_ptr<std::atomic<bool>[]> loaded;
  mutable std::mutex load_mu;  // held while a block loads

 private:
  void load(size_t i) const;
};

namespace {

// MS-PST 2.3.1.5 HNPAGEMAP, at the offset the block's header names.
Status parse_page_map(ndb::Nid nid, size_t index, const Options& options, Heap::Impl::Block& b) {
  const ByteView data(*b.data);
  const size_t hdr = header_size(index);
  if (data.size() < hdr) {
    return Status::truncated(index == 0 ? "HN header" : "HN page header", Status::kNoOffset,
                             where(nid, index) + ": " + std::to_string(data.size()) +
                                 " bytes, header needs " + std::to_string(hdr));
  }
  const size_t map = data.u16(0);
  if (map < hdr || !data.has(map, 4)) {
    return Status::corrupt("HN page map", Status::kNoOffset,
                           where(nid, index) + ": ibHnpm " + hex(map) + " outside " + hex(hdr) +
                               ".." + hex(data.size()));
  }
  const size_t count = data.u16(map);
  if (count > max_hid_index(options.format)) {
    return Status::corrupt("HN page map", Status::kNoOffset,
                           where(nid, index) + ": cAlloc " + std::to_string(count) +
                               " exceeds what a HID can address");
  }
  if (!data.has(map + 4, (count + 1) * 2)) {
    return Status::corrupt("HN page map", Status::kNoOffset,
                           where(nid, index) + ": cAlloc " + std::to_string(count) +
                               " entries run past the block end " + hex(data.size()));
  }
  b.page_map = uint32_t(map);
  b.free_count = data.u16(map + 2);
  b.offsets.resize(count + 1);
  size_t prev = hdr;
  for (size_t i = 0; i <= count; ++i) {
    const size_t off = data.u16(map + 4 + 2 * i);
    // Allocations lie between the header and the page map, in order.
    if (off < prev || off > map) {
      b.offsets.clear();
      return Status::corrupt("HN page map", Status::kNoOffset,
                             where(nid, index) + ": rgibAlloc[" + std::to_string(i) + "] = " +
                                 hex(off) + " outside " + hex(prev) + ".." + hex(map));
    }
    b.offsets[i] = uint16_t(off);
    prev = off;
  }
  return Status::ok();
}

}  // namespace

void Heap::Impl::load(size_t i) const {
  Block& b = blocks[i];
  const ndb::Nid nid = node->id();
  auto data = node->block(i);
  if (!data.is_ok()) {
    b.status = data.status().with_context(where(nid, i));
  } else if (!*data) {
    b.status = Status::corrupt("HN", Status::kNoOffset, where(nid, i) + ": no data");
  } else {
    b.data = std::move(*data);
    b.status = parse_page_map(nid, i, options, b);
  }
}

Result<Heap> Heap::open(std::shared_ptr<const ndb::Node> node, const Options& options) {
  if (!node) return Status::invalid_argument("Heap::open: null node");
  auto impl = std::make_shared<Impl>();
  impl->node = node;
  impl->options = options;
  const ndb::Nid nid = node->id();
  const size_t count = node->block_count();
  if (count == 0) {
    return Status::corrupt("HN header", Status::kNoOffset, "node " + hex(nid) + " has no data");
  }
  if (count > max_hid_blocks(options.format)) {
    return Status::corrupt("HN", Status::kNoOffset,
                           "node " + hex(nid) + " has " + std::to_string(count) +
                               " blocks, more than a HID can address");
  }
  impl->block_count = count;
  impl->blocks.resize(count);
  impl->loaded = std::make_unique<std::atomic<bool>[]>(count);
  if (const Impl::Block& b = impl->block(0); !b.status.is_ok()) return b.status;
  // MS-PST 2.3.1.2 HNHDR.
  const ByteView first(*impl->block(0).data);
  if (first.u8(2) != kHeapSignature) {
    return Status::corrupt("HN header", Status::kNoOffset,
                           "node " + hex(nid) + ": bSig " + hex(first.u8(2)) + ", expected 0xec");
  }
  impl->client_signature = first.u8(3);
  impl->user_root = first.u32(4);
  impl->fill_levels = first.u32(8);
  return Heap(std::move(impl));
}

ndb::Nid Heap::nid() const { return impl_->node->id(); }
uint8_t Heap::client_signature() const { return impl_->client_signature; }
Hid Heap::user_root() const { return impl_->user_root; }
uint32_t Heap::fill_levels() const { return impl_->fill_levels; }
size_t Heap::block_count() const { return impl_->block_count; }
const Options& Heap::options() const { return impl_->options; }
const ndb::Node& Heap::node() const { return *impl_->node; }
const std::shared_ptr<const ndb::Node>& Heap::node_ptr() const { return impl_->node; }

Result<ByteView> Heap::get(Hid hid) const {
  const ndb::Nid nid = impl_->node->id();
  if (!hnid_is_hid(hid)) {
    return Status::corrupt("HID", Status::kNoOffset,
                           "node " + hex(nid) + ": " + hex(hid) + " is not a HID (type bits " +
                               hex(hid & 0x1F) + ")");
  }
  const HidParts parts = split_hid(hid, impl_->options.format);
  if (parts.index == 0) {
    return Status::corrupt("HID", Status::kNoOffset, "node " + hex(nid) + ": HID " + hex(hid) + " has index 0");
  }
  if (parts.block >= impl_->block_count) {
    return Status::corrupt("HID", Status::kNoOffset,
                           "node " + hex(nid) + ": HID " + hex(hid) + " names block " +
                               std::to_string(parts.block) + " of " +
                               std::to_string(impl_->block_count));
  }
  const Impl::Block& b = impl_->block(parts.block);
  if (!b.status.is_ok()) return b.status;
  if (parts.index >= b.offsets.size()) {
    return Status::corrupt("HID", Status::kNoOffset,
                           where(nid, parts.block) + ": HID " + hex(hid) + " index " +
                               std::to_string(parts.index) + " past the page map's " +
                               std::to_string(b.offsets.size() - 1) + " allocations");
  }
  const size_t begin = b.offsets[parts.index - 1];
  const size_t end = b.offsets[parts.index];
  return ByteView(b.data->data() + begin, end - begin);
}

std::vector<HeapBlockInfo> Heap::blocks() const {
  std::vector<HeapBlockInfo> out;
  out.reserve(impl_->block_count);
  for (size_t i = 0; i < impl_->block_count; ++i) {
    const Impl::Block& b = impl_->block(i);
    HeapBlockInfo info;
    info.block = i;
    info.status = b.status;
    info.page_map_offset = b.page_map;
    info.free_count = b.free_count;
    for (size_t k = 1; k < b.offsets.size(); ++k) {
      info.allocations.push_back({make_hid(uint32_t(i), uint32_t(k), impl_->options.format),
                                  b.offsets[k - 1], uint32_t(b.offsets[k] - b.offsets[k - 1])});
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace pstkit::ltp
