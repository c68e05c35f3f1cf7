// Fuzzes the NDB parsers one structure at a time: the header, NBT/BBT
// pages in every format, block trailers, and data and subnode trees built
// over fuzzer-chosen blocks.
#include <cstddef>
#include <cstdint>
#include <map>

#include "ndb/data_tree.h"
#include "ndb/page.h"
#include "pstkit/ndb.h"

using namespace pstkit;
using namespace pstkit::ndb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t selector = data[0];
  const ByteView body(data + 1, size - 1);
  Header h;
  switch (selector % 3) {
    case 0: h.format = FileFormat::kAnsi; h.page_size = 512; h.page_trailer_size = h.block_trailer_size = 12; h.bid_size = 4; break;
    case 1: h.format = FileFormat::kUnicode; break;
    default:
      h.format = FileFormat::kUnicode4k; h.page_size = 4096; h.page_trailer_size = h.block_trailer_size = 24;
      h.block_align = 512; h.max_block_size = 65536;
      break;
  }
  switch ((selector / 3) % 4) {
    case 0:
      (void)parse_header(body, size);
      break;
    case 1:
      if (body.size() >= h.page_size) {
        (void)parse_btree_page(h, body, 0x4400, (selector & 0x40) ? 0x81 : 0x80, body.u64(0), PageCheck{false});
      }
      break;
    case 2:
      if (body.size() >= h.block_trailer_size) (void)read_block_trailer(h, body);
      break;
    default: {
      // Blocks: the body split into up to 8 blocks with BIDs 4, 8, 12...;
      // internal BIDs (bit 1) read the same blocks.
      std::map<Bid, Bytes> blocks;
      size_t at = 0;
      for (Bid bid = 4; at < body.size() && blocks.size() < 8; bid += 4) {
        const size_t len = std::min<size_t>(body.size() - at, 1 + body.u8(at) * 16);
        blocks[bid] = body.sub(at, len).to_bytes();
        at += len;
      }
      auto reader = [&](Bid b) -> Result<SharedBytes> {
        auto it = blocks.find(bid_key(b) & ~Bid{2});
        if (it == blocks.end()) return Status::not_found("block");
        return std::make_shared<const Bytes>(it->second);
      };
      (void)load_data_tree(h, 6, reader);
      (void)load_subnode_tree(h, 10, reader);
    }
  }
  return 0;
}
