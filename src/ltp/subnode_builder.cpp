// What every LTP builder shares: block size limits, splitting a stream into
// data blocks, and handing out subnode NIDs.
#include <algorithm>
#include <memory>

#include "pstkit/ltp_builder.h"

namespace pstkit::ltp {

uint64_t BuiltNode::size() const {
  uint64_t total = 0;
  for (const Bytes& b : blocks) total += b.size();
  return total;
}

Bytes BuiltNode::data() const {
  Bytes out;
  out.reserve(size_t(size()));
  for (const Bytes& b : blocks) out.insert(out.end(), b.begin(), b.end());
  return out;
}

Result<size_t> max_block_data_size(ndb::FileFormat format) {
  // MS-PST 2.2.2.8: blocks are at most 8192 bytes with the BLOCKTRAILER
  // (2.2.2.8.1: 16 bytes Unicode, 12 bytes ANSI).
  switch (format) {
    case ndb::FileFormat::kUnicode: return size_t{8192 - 16};
    case ndb::FileFormat::kAnsi: return size_t{8192 - 12};
    case ndb::FileFormat::kUnicode4k: break;
  }
  return Status::unsupported("writing 4 KiB-page OST (wVer 36) LTP structures");
}

std::vector<Bytes> split_into_blocks(ByteView data, size_t max_block) {
  std::vector<Bytes> blocks;
  if (max_block == 0) return blocks;
  for (size_t off = 0; off < data.size(); off += max_block) {
    const ByteView part = data.sub(off, max_block);
    blocks.emplace_back(part.data(), part.data() + part.size());
  }
  return blocks;
}

NidAllocator sequential_nid_allocator(uint32_t first_index) {
  auto next = std::make_shared<uint32_t>(first_index);
  return [next]() { return ndb::make_nid(ndb::kNidTypeLtp, (*next)++); };
}

Result<NidAllocator> nid_allocator_after(const ndb::Node& node) {
  PSTKIT_ASSIGN_OR_RETURN(std::vector<ndb::SubnodeEntry> entries, node.subnodes());
  uint32_t last = 0;
  for (const ndb::SubnodeEntry& e : entries) last = std::max(last, ndb::nid_index(e.nid));
  return sequential_nid_allocator(last + 1);
}

}  // namespace pstkit::ltp
