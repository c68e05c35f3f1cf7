#include "ndb/page.h"

#include <bit>

#include "ndb/byte_source.h"
#include "ndb/crc_correct.h"
#include "ndb/lru_cache.h"

namespace pstkit::ndb {

size_t shared_page_bytes(const BTreePage& p) {
  return shared_value_bytes<BTreePage>(vector_heap_bytes(p.branches) + vector_heap_bytes(p.nodes) +
                                       vector_heap_bytes(p.blocks));
}

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

namespace pstkit::ndb {
namespace {

bool one_bit_apart(uint64_t a, uint64_t b) { return std::popcount(a ^ b) == 1; }

std::string describe(const CrcCorrection& c, uint64_t data_offset) {
  if (c.kind == CrcCorrection::kDataBit) {
    return "bit " + std::to_string(c.bit_index % 8) + " of the byte at " + hex(data_offset + c.bit_index / 8) +
           " flipped back (found with the CRC)";
  }
  return "bit " + std::to_string(c.bit_index) + " of the stored CRC was flipped; the data is intact";
}

void append(BitFix& fix, const std::string& what) {
  fix.corrected = true;
  fix.what += fix.what.empty() ? what : "; " + what;
}

}  // namespace

BitFix correct_page_bits(const Header& h, uint8_t* page, uint64_t offset, uint8_t expected_type, Bid expected_bid) {
  BitFix fix;
  const size_t at = h.page_size - h.page_trailer_size;
  const bool ansi = h.format == FileFormat::kAnsi;
  const size_t crc_at = at + (ansi ? 8 : 4);
  const size_t bid_at = at + (ansi ? 4 : 8);
  // MS-PST 2.2.2.7.1: ptype and ptypeRepeat are equal.
  for (size_t i : {at, at + 1}) {
    const size_t other = i == at ? at + 1 : at;
    if (page[i] != expected_type && page[other] == expected_type && one_bit_apart(page[i], expected_type)) {
      page[i] = expected_type;
      append(fix, "page type byte flipped back");
    }
  }
  if (expected_bid != 0) {
    // The parent names the BID; the signature, a function of offset and
    // BID, tells a flip in the BID from one in the signature.
    const Bid bid = ansi ? load_le32(page + bid_at) : load_le64(page + bid_at);
    const uint16_t sig = load_le16(page + at + 2);
    if (bid != expected_bid && one_bit_apart(bid, expected_bid) && sig == compute_signature(offset, expected_bid)) {
      if (ansi) {
        store_le32(page + bid_at, uint32_t(expected_bid));
      } else {
        store_le64(page + bid_at, expected_bid);
      }
      append(fix, "trailer BID " + hex(bid) + " put back to " + hex(expected_bid));
    } else if (bid == expected_bid && sig != compute_signature(offset, bid) &&
               one_bit_apart(sig, compute_signature(offset, bid))) {
      store_le16(page + at + 2, compute_signature(offset, bid));
      append(fix, "trailer signature bit flipped back");
    }
  }
  const CrcCorrection c = correct_single_bit(page, at, load_le32(page + crc_at));
  if (c.kind == CrcCorrection::kUncorrectable) return BitFix{};
  if (c.kind == CrcCorrection::kCrcBit) store_le32(page + crc_at, compute_crc(page, at));
  if (c.corrected()) append(fix, describe(c, offset));
  return fix;
}

BitFix correct_block_bits(const Header& h, const BlockEntry& e, uint8_t* disk, size_t disk_size) {
  BitFix fix;
  if (disk_size != block_disk_size(h, e.stored_size) || disk_size < h.block_trailer_size) return fix;
  const size_t at = disk_size - h.block_trailer_size;
  const bool ansi = h.format == FileFormat::kAnsi;
  const size_t crc_at = at + (ansi ? 8 : 4);
  const size_t bid_at = at + (ansi ? 4 : 8);
  const uint16_t cb = load_le16(disk + at);
  const uint16_t sig = load_le16(disk + at + 2);
  const Bid bid = ansi ? load_le32(disk + bid_at) : load_le64(disk + bid_at);
  // MS-PST 2.2.2.8.1: wSig is computed from the block's offset and BID, so
  // it confirms which of BID and the BBT's entry is right.
  if (bid_key(bid) != bid_key(e.bid)) {
    if (!one_bit_apart(bid, e.bid) || sig != compute_signature(e.offset, e.bid)) return BitFix{};
    if (ansi) {
      store_le32(disk + bid_at, uint32_t(e.bid));
    } else {
      store_le64(disk + bid_at, e.bid);
    }
    append(fix, "trailer BID " + hex(bid) + " put back to " + hex(e.bid));
  } else if (cb != e.stored_size) {
    if (!one_bit_apart(cb, e.stored_size) || sig != compute_signature(e.offset, bid)) return BitFix{};
    store_le16(disk + at, uint16_t(e.stored_size));
    append(fix, "trailer size " + std::to_string(cb) + " put back to " + std::to_string(e.stored_size));
  }
  // A compressed 4K-page OST block (its CRC covers the stored, compressed
  // bytes) carries a second check, zlib's Adler-32: a longer one may be
  // corrected when the result inflates (decode_block), which no two-flip
  // miscorrection does but with odds of 2^-32.
  const bool compressed = block_is_compressed(h, e);
  const CrcCorrection c = correct_single_bit(disk, e.stored_size, load_le32(disk + crc_at),
                                             compressed ? e.stored_size : kMaxCorrectableBytes);
  if (c.kind == CrcCorrection::kUncorrectable) return BitFix{};
  if (c.kind == CrcCorrection::kCrcBit) store_le32(disk + crc_at, compute_crc(disk, e.stored_size));
  if (c.corrected()) append(fix, describe(c, e.offset));
  if (compressed && c.kind == CrcCorrection::kDataBit && e.stored_size > kMaxCorrectableBytes &&
      !decode_block(h, e, ByteView(disk, disk_size), true)) {
    return BitFix{};  // the caller's copy is discarded with it
  }
  return fix;
}

}  // namespace pstkit::ndb
