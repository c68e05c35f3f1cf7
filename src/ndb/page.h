// Page-level parsing shared by the reader and the checker (MS-PST 2.2.2.7).
#pragma once

#include <string>
#include <vector>

#include "pstkit/ndb.h"

namespace pstkit::ndb {

// MS-PST 2.2.2.7.1 ptype values.
enum PageType : uint8_t {
  kPageBbt = 0x80,
  kPageNbt = 0x81,
  kPageFMap = 0x82,
  kPagePMap = 0x83,
  kPageAMap = 0x84,
  kPageFPMap = 0x85,
  kPageDList = 0x86,
};

// MS-PST 2.2.2.7.1 PAGETRAILER, normalised.
struct PageTrailer {
  uint8_t ptype = 0;
  uint8_t ptype_repeat = 0;
  uint16_t signature = 0;
  uint32_t crc = 0;
  Bid bid = 0;
};

PageTrailer read_page_trailer(const Header& h, ByteView page);
// CRC over the page body as the trailer defines it.
uint32_t page_crc(const Header& h, ByteView page);

// MS-PST 2.2.2.7.7.2 BTENTRY.
struct BTreeBranchEntry {
  uint64_t key = 0;
  Bref child;
};

// A decoded NBT or BBT page (MS-PST 2.2.2.7.7.1 BTPAGE).
struct BTreePage {
  uint64_t offset = 0;
  PageTrailer trailer;
  uint8_t level = 0;
  uint16_t entry_count = 0;
  uint16_t entry_max = 0;
  uint8_t entry_size = 0;
  std::vector<BTreeBranchEntry> branches;  // level > 0
  std::vector<NodeEntry> nodes;            // NBT leaf
  std::vector<BlockEntry> blocks;          // BBT leaf
};

// What a page kept by std::make_shared costs in memory, its entries
// included: what the page caches charge (a leaf's entries are 32 bytes
// each in memory, 24 on disk).
size_t shared_page_bytes(const BTreePage& p);

// How strictly a page is checked: the reader needs a usable page, the
// checker also wants every deviation reported.
struct PageCheck {
  bool verify_crc = true;
};

// Parses a B-tree page read from offset. expected_type is kPageNbt or
// kPageBbt; expected_bid is the BID the parent's BREF named.
Result<BTreePage> parse_btree_page(const Header& h, ByteView page, uint64_t offset, uint8_t expected_type,
                                   Bid expected_bid, const PageCheck& check = {});

// MS-PST 2.2.2.8.1 BLOCKTRAILER, normalised (+ 4K-page OST inflated size).
struct BlockTrailer {
  uint16_t cb = 0;
  uint16_t signature = 0;
  uint32_t crc = 0;
  Bid bid = 0;
  uint16_t inflated_size = 0;  // 4K-page OST only
};

// Bytes a block with cb data bytes occupies on disk, trailer and padding included.
uint64_t block_disk_size(const Header& h, uint32_t cb);
// Whether block e is stored zlib-compressed: 4K-page OST blocks whose
// inflated size differs from their stored size (libpff's PFF format).
inline bool block_is_compressed(const Header& h, const BlockEntry& e) {
  return h.format == FileFormat::kUnicode4k && e.inflated_size != e.stored_size;
}
BlockTrailer read_block_trailer(const Header& h, ByteView disk_block);

}  // namespace pstkit::ndb

namespace pstkit::ndb {

// What correct_page_bits / correct_block_bits changed, for the log: empty
// when nothing was (or could be) corrected.
struct BitFix {
  bool corrected = false;
  std::string what;  // e.g. "bit 3 of byte 0x1f2 flipped back (CRC)"
};

// Salvage only (pstkit/ndb_salvage.h): undoes a single flipped bit in a
// B-tree page read from offset (page_size bytes, changed in place), found
// with the page CRC (MS-PST 5.3, over the page minus its trailer). Also
// puts back a trailer field that differs in one bit from what is known:
// ptype or its repeat (the other equals expected_type), the BID (the
// parent names expected_bid and the signature agrees with it) or the
// signature (MS-PST 2.2.2.7.1). The CRC field itself is rewritten when only
// it is off by one bit. Nothing changes when more than that is wrong.
BitFix correct_page_bits(const Header& h, uint8_t* page, uint64_t offset, uint8_t expected_type, Bid expected_bid);

// The same for a block on disk (disk_size bytes: data, padding, trailer)
// that the BBT (or the scan) lists as e: the data bit found with dwCRC, or
// a trailer cb or BID one bit off e's where the signature agrees with e
// (MS-PST 2.2.2.8.1). Blocks longer than kMaxCorrectableBytes are left,
// except compressed 4K-page OST blocks whose corrected bytes inflate (zlib's
// Adler-32 confirms them). When nothing is corrected disk may still have
// been changed: callers pass a copy.
BitFix correct_block_bits(const Header& h, const BlockEntry& e, uint8_t* disk, size_t disk_size);

}  // namespace pstkit::ndb
