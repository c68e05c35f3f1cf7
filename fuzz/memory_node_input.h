// The input layout fuzz_ltp and fuzz_table_edit share: a control byte, then
// an in-memory node's data blocks and subnodes.
//
//   byte 0        bits 0-1: data blocks - 1 (0..2, 3 means 1)
//                 bits 2-3: subnodes (0..2, 3 means 0)
//                 bit 4:    a format switch, each target says which
//   per subnode   4-byte NID
//   per chunk     2-byte little-endian length, then that many bytes
//                 (data blocks first, then subnodes; the last chunk takes
//                 whatever is left when the input runs short)
// A subnode's chunk is split in two blocks, to exercise multi-block values
// and row matrices.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "pstkit/ndb.h"

namespace pstkit::fuzz {

struct MemoryNodeInput {
  std::shared_ptr<const ndb::Node> node;
  bool format_bit = false;  // bit 4 of the control byte
};

inline MemoryNodeInput parse_memory_node_input(ByteView in) {
  MemoryNodeInput out;
  if (in.empty()) return out;
  const uint8_t control = in.u8(0);
  size_t pos = 1;
  size_t block_count = 1 + (control & 3);
  if (block_count > 3) block_count = 1;
  size_t subnode_count = (control >> 2) & 3;
  if (subnode_count > 2) subnode_count = 0;
  out.format_bit = (control & 0x10) != 0;

  std::vector<ndb::Nid> subnode_nids;
  for (size_t i = 0; i < subnode_count; ++i) {
    subnode_nids.push_back(in.has(pos, 4) ? in.u32(pos) : 0);
    pos += 4;
  }
  std::vector<Bytes> chunks;
  for (size_t i = 0; i < block_count + subnode_count; ++i) {
    size_t len = in.has(pos, 2) ? in.u16(pos) : 0;
    pos += 2;
    const ByteView rest = in.sub(pos);
    if (len > rest.size() || i + 1 == block_count + subnode_count) len = rest.size();
    chunks.push_back(rest.sub(0, len).to_bytes());
    pos += len;
  }
  std::vector<Bytes> blocks(chunks.begin(), chunks.begin() + long(block_count));
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  for (size_t i = 0; i < subnode_count; ++i) {
    const Bytes& c = chunks[block_count + i];
    const size_t half = c.size() / 2;
    subnodes[subnode_nids[i]] = {Bytes(c.begin(), c.begin() + long(half)), Bytes(c.begin() + long(half), c.end())};
  }
  out.node.reset(ndb::make_memory_node(0x21, std::move(blocks), std::move(subnodes)).release());
  return out;
}

}  // namespace pstkit::fuzz
