#include "ndb/page.h"

namespace pstkit::ndb {

PageTrailer read_page_trailer(const Header& h, ByteView page) {
  PageTrailer t;
  const size_t at = h.page_size - h.page_trailer_size;
  t.ptype = page.u8(at);
  t.ptype_repeat = page.u8(at + 1);
  t.signature = page.u16(at + 2);
  if (h.format == FileFormat::kAnsi) {
    t.bid = page.u32(at + 4);
    t.crc = page.u32(at + 8);
  } else {
    t.crc = page.u32(at + 4);
    t.bid = page.u64(at + 8);
  }
  return t;
}

uint32_t page_crc(const Header& h, ByteView page) {
  return compute_crc(page.data(), h.page_size - h.page_trailer_size);
}

namespace {

// Layout of the BTPAGE footer fields per format (MS-PST 2.2.2.7.7.1; libpff
// "The 64-bit 4k page index B-tree node").
struct BtFooter {
  size_t entries_bytes;
  size_t count_at;
  bool wide_counts;  // 4K pages store cEnt/cEntMax as 16-bit values
};

BtFooter bt_footer(const Header& h) {
  switch (h.format) {
    case FileFormat::kAnsi: return {496, 496, false};
    case FileFormat::kUnicode: return {488, 488, false};
    case FileFormat::kUnicode4k: return {4056, 4056, true};
  }
  return {488, 488, false};
}

}  // namespace

Result<BTreePage> parse_btree_page(const Header& h, ByteView page, uint64_t offset, uint8_t expected_type,
                                   Bid expected_bid, const PageCheck& check) {
  const char* name = expected_type == kPageNbt ? "NBT page" : "BBT page";
  if (page.size() < h.page_size) return Status::truncated(name, offset, "page extends past the end of the file");
  BTreePage p;
  p.offset = offset;
  p.trailer = read_page_trailer(h, page);
  if (p.trailer.ptype != expected_type || p.trailer.ptype_repeat != expected_type) {
    return Status::corrupt(name, offset,
                           "page type " + hex(p.trailer.ptype) + "/" + hex(p.trailer.ptype_repeat) +
                               ", expected " + hex(expected_type));
  }
  if (check.verify_crc) {
    const uint32_t crc = page_crc(h, page);
    if (crc != p.trailer.crc) {
      return Status::corrupt(name, offset, "CRC " + hex(crc) + " does not match trailer CRC " + hex(p.trailer.crc));
    }
  }
  if (bid_key(p.trailer.bid) != bid_key(expected_bid)) {
    return Status::corrupt(name, offset,
                           "trailer BID " + hex(p.trailer.bid) + " differs from the parent's " + hex(expected_bid));
  }
  const uint16_t sig = compute_signature(offset, p.trailer.bid);
  if (p.trailer.signature != sig) {
    return Status::corrupt(name, offset, "signature " + hex(p.trailer.signature) + ", expected " + hex(sig));
  }
  const BtFooter f = bt_footer(h);
  if (f.wide_counts) {
    p.entry_count = page.u16(f.count_at);
    p.entry_max = page.u16(f.count_at + 2);
    p.entry_size = page.u8(f.count_at + 4);
    p.level = page.u8(f.count_at + 5);
  } else {
    p.entry_count = page.u8(f.count_at);
    p.entry_max = page.u8(f.count_at + 1);
    p.entry_size = page.u8(f.count_at + 2);
    p.level = page.u8(f.count_at + 3);
  }
  const bool ansi = h.format == FileFormat::kAnsi;
  size_t want;
  if (p.level > 0) {
    want = ansi ? 12 : 24;
  } else if (expected_type == kPageNbt) {
    want = ansi ? 16 : 32;
  } else {
    want = ansi ? 12 : 24;
  }
  if (p.entry_size < want) {
    return Status::corrupt(name, offset,
                           "entry size " + std::to_string(p.entry_size) + ", expected " + std::to_string(want));
  }
  if (size_t(p.entry_count) * p.entry_size > f.entries_bytes) {
    return Status::corrupt(name, offset,
                           std::to_string(p.entry_count) + " entries of " + std::to_string(p.entry_size) +
                               " bytes overflow the page");
  }
  if (p.level > 8) return Status::corrupt(name, offset, "level " + std::to_string(p.level) + " is implausible");
  for (size_t i = 0; i < p.entry_count; ++i) {
    const ByteView e = page.sub(i * p.entry_size, p.entry_size);
    if (p.level > 0) {
      BTreeBranchEntry b;
      if (ansi) {
        b.key = e.u32(0);
        b.child = {e.u32(4), e.u32(8)};
      } else {
        b.key = e.u64(0);
        b.child = {e.u64(8), e.u64(16)};
      }
      p.branches.push_back(b);
    } else if (expected_type == kPageNbt) {
      NodeEntry n;
      if (ansi) {
        n.nid = e.u32(0);
        n.data_bid = e.u32(4);
        n.subnode_bid = e.u32(8);
        n.parent_nid = e.u32(12);
      } else {
        n.nid = uint32_t(e.u64(0));
        n.data_bid = e.u64(8);
        n.subnode_bid = e.u64(16);
        n.parent_nid = e.u32(24);
      }
      p.nodes.push_back(n);
    } else {
      BlockEntry b;
      if (ansi) {
        b.bid = e.u32(0);
        b.offset = e.u32(4);
        b.stored_size = e.u16(8);
        b.inflated_size = b.stored_size;
        b.ref_count = e.u16(10);
      } else if (h.format == FileFormat::kUnicode) {
        b.bid = e.u64(0);
        b.offset = e.u64(8);
        b.stored_size = e.u16(16);
        b.inflated_size = b.stored_size;
        b.ref_count = e.u16(18);
      } else {
        // 4K-page OST: cb, cbInflated, cRef (libpff; verified on real files).
        b.bid = e.u64(0);
        b.offset = e.u64(8);
        b.stored_size = e.u16(16);
        b.inflated_size = e.u16(18);
        b.ref_count = e.u16(20);
      }
      p.blocks.push_back(b);
    }
  }
  return p;
}

uint64_t block_disk_size(const Header& h, uint32_t cb) {
  const uint64_t raw = uint64_t(cb) + h.block_trailer_size;
  return (raw + h.block_align - 1) / h.block_align * h.block_align;
}

BlockTrailer read_block_trailer(const Header& h, ByteView b) {
  BlockTrailer t;
  const size_t at = b.size() - h.block_trailer_size;
  t.cb = b.u16(at);
  t.signature = b.u16(at + 2);
  if (h.format == FileFormat::kAnsi) {
    t.bid = b.u32(at + 4);
    t.crc = b.u32(at + 8);
  } else {
    t.crc = b.u32(at + 4);
    t.bid = b.u64(at + 8);
    if (h.format == FileFormat::kUnicode4k) t.inflated_size = b.u16(at + 18);
  }
  return t;
}

}  // namespace pstkit::ndb
