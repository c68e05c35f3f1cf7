#include "ndb/data_tree.h"

#include <algorithm>

namespace pstkit::ndb {
namespace {

constexpr uint8_t kBlockTypeXBlock = 0x01;  // XBLOCK / XXBLOCK
constexpr uint8_t kBlockTypeSubnode = 0x02;  // SLBLOCK / SIBLOCK

Bid read_bid(const Header& h, ByteView v, size_t at) {
  return h.bid_size == 4 ? Bid(v.u32(at)) : v.u64(at);
}

Status collect_leaves(const Header& h, Bid bid, int expected_level, const BlockReader& read, DataTree& out,
                      uint64_t* declared) {
  PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, read(bid));
  const ByteView v(*b);
  // MS-PST 2.2.2.8.3.2.1 XBLOCK / 2.2.2.8.3.2.2 XXBLOCK header: btype, cLevel, cEnt, lcbTotal.
  if (!v.has(0, 8)) return Status::corrupt("XBLOCK", Status::kNoOffset, "block " + hex(bid) + " is too short");
  if (v.u8(0) != kBlockTypeXBlock) {
    return Status::corrupt("XBLOCK", Status::kNoOffset,
                           "block " + hex(bid) + " has btype " + hex(v.u8(0)) + ", expected 0x1");
  }
  const int level = v.u8(1);
  if (level < 1 || level > 2 || (expected_level >= 0 && level != expected_level)) {
    return Status::corrupt("XBLOCK", Status::kNoOffset,
                           "block " + hex(bid) + " has level " + std::to_string(level));
  }
  const uint16_t count = v.u16(2);
  const uint32_t total = v.u32(4);
  if (declared && *declared == UINT64_MAX) *declared = total;
  if (!v.has(8, size_t(count) * h.bid_size)) {
    return Status::corrupt("XBLOCK", Status::kNoOffset,
                           "block " + hex(bid) + " lists " + std::to_string(count) + " BIDs but holds fewer");
  }
  if (level == 1) out.chunks.push_back({out.leaves.size(), count, total});
  for (size_t i = 0; i < count; ++i) {
    const Bid child = read_bid(h, v, 8 + i * h.bid_size);
    if (level == 2) {
      if (!bid_is_internal(child)) {
        return Status::corrupt("XXBLOCK", Status::kNoOffset,
                               "block " + hex(bid) + " entry " + hex(child) + " is not an XBLOCK");
      }
      PSTKIT_RETURN_IF_ERROR(collect_leaves(h, child, 1, read, out, nullptr));
    } else {
      out.leaves.push_back(child);
    }
  }
  return Status::ok();
}

}  // namespace

Result<DataTree> load_data_tree(const Header& h, Bid data_bid, const BlockReader& read) {
  DataTree t;
  if (data_bid == 0) return t;
  if (!bid_is_internal(data_bid)) {
    PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, read(data_bid));
    t.leaves.push_back(data_bid);
    t.total_size = b->size();
    t.chunks.push_back({0, 1, t.total_size});
    return t;
  }
  uint64_t declared = UINT64_MAX;
  PSTKIT_RETURN_IF_ERROR(collect_leaves(h, data_bid, -1, read, t, &declared));
  t.total_size = declared;
  return t;
}

Result<std::vector<SubnodeEntry>> load_subnode_tree(const Header& h, Bid subnode_bid, const BlockReader& read) {
  std::vector<SubnodeEntry> out;
  if (subnode_bid == 0) return out;
  // Explicit stack: SIBLOCK (level 1) -> SLBLOCK (level 0).
  struct Pending {
    Bid bid;
    int level;  // -1: unknown (the top)
  };
  std::vector<Pending> stack{{subnode_bid, -1}};
  size_t visited = 0;
  const bool ansi = h.bid_size == 4;
  const size_t header_size = ansi ? 4 : 8;
  const size_t sl_size = ansi ? 12 : 24;
  const size_t si_size = ansi ? 8 : 16;
  while (!stack.empty()) {
    const Pending cur = stack.back();
    stack.pop_back();
    if (++visited > 100000) return Status::corrupt("subnode tree", Status::kNoOffset, "too many blocks");
    PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, read(cur.bid));
    const ByteView v(*b);
    if (!v.has(0, header_size) || v.u8(0) != kBlockTypeSubnode) {
      return Status::corrupt("SLBLOCK", Status::kNoOffset, "block " + hex(cur.bid) + " is not a subnode block");
    }
    const int level = v.u8(1);
    if (level > 1 || (cur.level >= 0 && level != cur.level)) {
      return Status::corrupt("SLBLOCK", Status::kNoOffset,
                             "block " + hex(cur.bid) + " has level " + std::to_string(level));
    }
    const uint16_t count = v.u16(2);
    const size_t esize = level == 0 ? sl_size : si_size;
    if (!v.has(header_size, size_t(count) * esize)) {
      return Status::corrupt(level == 0 ? "SLBLOCK" : "SIBLOCK", Status::kNoOffset,
                             "block " + hex(cur.bid) + " lists " + std::to_string(count) + " entries but holds fewer");
    }
    for (size_t i = 0; i < count; ++i) {
      const size_t at = header_size + i * esize;
      if (level == 0) {
        SubnodeEntry e;
        if (ansi) {
          e.nid = v.u32(at);
          e.data_bid = v.u32(at + 4);
          e.subnode_bid = v.u32(at + 8);
        } else {
          e.nid = uint32_t(v.u64(at));
          e.data_bid = v.u64(at + 8);
          e.subnode_bid = v.u64(at + 16);
        }
        out.push_back(e);
      } else {
        const Bid child = ansi ? Bid(v.u32(at + 4)) : v.u64(at + 8);
        stack.push_back({child, 0});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const SubnodeEntry& a, const SubnodeEntry& b) { return a.nid < b.nid; });
  return out;
}

}  // namespace pstkit::ndb
