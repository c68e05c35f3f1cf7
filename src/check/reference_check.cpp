// MS-PST 2.2.2.7.7.3.1 reference counts, with the data trees (2.2.2.8.3.2)
// and subnode trees (2.2.2.8.3.3) they run through.
//
// A block is referenced by every NBT entry, SLENTRY and XBLOCK/XXBLOCK that
// names it; each internal block is expanded once however often it is
// referenced, since copies share children (a copy raises only the top
// counts). The BBT entry itself holds one more reference, so a healthy file
// has cRef == references + 1; every Outlook-written file in the corpus
// follows this exactly.

#include "check/context.h"

namespace pstkit::check {

namespace {

// What the referrer expects the block to be.
enum class Role : uint8_t {
  kData,         // bidData of a node or SLENTRY: a data block or XBLOCK/XXBLOCK
  kDataLeaf,     // rgbid of an XBLOCK: a data block
  kXBlock,       // rgbid of an XXBLOCK: an XBLOCK
  kSubnode,      // bidSub: an SLBLOCK or SIBLOCK
  kSubnodeLeaf,  // an SIENTRY's bid: an SLBLOCK
};

// Owner 0: a tree reached from an orphaned block, not from a node.
std::string owner_text(ndb::Nid owner) { return owner == 0 ? std::string("orphaned tree") : "node " + hex(owner); }

bool is_data_role(Role r) { return r == Role::kData || r == Role::kDataLeaf || r == Role::kXBlock; }
BlockRecord::Expanded expanded_as(Role r) {
  return is_data_role(r) ? BlockRecord::kExpandedData : BlockRecord::kExpandedSubnode;
}

struct Referrer {
  const char* structure;  // "NBT entry", "XBLOCK", "SLBLOCK", ...
  uint64_t offset;
  ndb::Nid owner;         // the top-level node the path started at
};

struct Pending {
  ndb::Bid bid;
  Role role;
  ndb::Nid owner;
};

class ReferenceWalker {
 public:
  explicit ReferenceWalker(Context& c) : c_(c), ansi_(c.header.bid_size == 4) {}

  void run() {
    for (const NodeRecord& n : c_.nodes) {
      const Referrer from{"NBT entry", n.page, n.entry.nid};
      if (n.entry.data_bid != 0) reference(n.entry.data_bid, Role::kData, from);
      if (n.entry.subnode_bid != 0) reference(n.entry.subnode_bid, Role::kSubnode, from);
      drain();
    }
    // An orphaned internal block still references its children: expand it
    // so that only the orphan, not its whole subtree, is reported.
    for (size_t i = 0; i < c_.blocks.size(); ++i) {
      const BlockRecord r = c_.blocks.get(i);
      if (r.references != 0 || r.damaged || !ndb::bid_is_internal(r.entry.bid)) continue;
      if (r.expanded != BlockRecord::kNotExpanded) continue;
      auto data = c_.read_block(r.entry.bid);
      if (!data.is_ok() || (*data)->empty()) continue;
      const uint8_t btype = (**data)[0];
      if (btype != 0x01 && btype != 0x02) continue;  // not a tree block: nothing to count
      const Role role = btype == 0x01 ? Role::kData : Role::kSubnode;
      c_.blocks.update(i, [&](BlockRecord& w) { w.expanded = expanded_as(role); });
      pending_.push_back({r.entry.bid, role, 0});
      drain();
    }
  }

 private:
  // Depth-first keeps the pending list as short as the deepest tree.
  void drain() {
    while (!pending_.empty()) {
      const Pending p = pending_.back();
      pending_.pop_back();
      expand(p);
    }
  }
  void reference(ndb::Bid bid, Role role, const Referrer& from);
  void expand(const Pending& p);
  // r: the record at index i of c_.blocks, as it was when read.
  void expand_xblock(size_t index, const BlockRecord& r, ByteView v, const Pending& p);
  void expand_subnode_block(size_t index, const BlockRecord& r, ByteView v, const Pending& p);
  void damaged(size_t i, const BlockRecord& r, Issue issue, const std::string& message) {
    c_.add(issue, issue == Issue::kDataTree ? "XBLOCK" : "SLBLOCK", r.entry.offset, r.entry.bid, message);
    c_.blocks.update(i, [](BlockRecord& w) { w.damaged = true; });
    c_.references_complete = false;
  }
  ndb::Bid bid_at(ByteView v, size_t at) const { return ansi_ ? ndb::Bid(v.u32(at)) : v.u64(at); }

  Context& c_;
  bool ansi_;
  std::vector<Pending> pending_;

 public:
  uint64_t unfound_ = 0;  // absent BIDs not reported because the BBT is incomplete
};

void ReferenceWalker::reference(ndb::Bid bid, Role role, const Referrer& from) {
  const std::string who = owner_text(from.owner) + ": ";
  const size_t i = c_.find_block_index(bid);
  if (i == Context::kNoBlock) {
    // With part of the BBT unreadable (already an error), absent BIDs are
    // expected: count them instead of reporting each one.
    if (c_.bbt_complete) {
      c_.add(Issue::kBidMissing, from.structure, from.offset, bid,
             who + from.structure + " names block " + hex(bid) + ", which is not in the BBT");
    } else {
      ++unfound_;
    }
    if (ndb::bid_is_internal(bid)) c_.references_complete = false;
    return;
  }
  BlockRecord r;
  c_.blocks.update(i, [&r](BlockRecord& w) {
    if (w.references != UINT32_MAX) ++w.references;
    r = w;
  });
  const bool internal = ndb::bid_is_internal(bid);
  const Issue tree_issue = is_data_role(role) ? Issue::kDataTree : Issue::kSubnodeTree;
  if (role == Role::kDataLeaf && internal) {
    c_.add(tree_issue, from.structure, from.offset, bid,
           who + "XBLOCK entry " + hex(bid) + " is an internal block, expected a data block");
    return;
  }
  if ((role == Role::kXBlock || role == Role::kSubnode || role == Role::kSubnodeLeaf) && !internal) {
    c_.add(tree_issue, from.structure, from.offset, bid,
           who + from.structure + " names data block " + hex(bid) + " where an " +
               (is_data_role(role) ? "XBLOCK" : "SLBLOCK or SIBLOCK") + " belongs");
    return;
  }
  if (!internal) return;
  if (r.expanded != BlockRecord::kNotExpanded) {
    // Shared internal blocks are fine (copied nodes); a block used as both
    // a data tree and a subnode tree is not.
    if (r.expanded != expanded_as(role)) {
      c_.add(tree_issue, from.structure, from.offset, bid,
             who + "block " + hex(bid) + " is used both as a data tree and as a subnode tree");
    }
    return;
  }
  c_.blocks.update(i, [role](BlockRecord& w) { w.expanded = expanded_as(role); });
  pending_.push_back({bid, role, from.owner});
}

void ReferenceWalker::expand(const Pending& p) {
  const size_t i = c_.find_block_index(p.bid);
  if (i == Context::kNoBlock || c_.blocks.get(i).damaged) {
    c_.references_complete = false;  // its children cannot be counted
    return;
  }
  auto data = c_.read_block(p.bid);
  if (!data.is_ok()) {
    c_.references_complete = false;
    return;
  }
  const ByteView v(**data);
  const BlockRecord r = c_.blocks.get(i);
  if (is_data_role(p.role)) {
    expand_xblock(i, r, v, p);
  } else {
    expand_subnode_block(i, r, v, p);
  }
}

// MS-PST 2.2.2.8.3.2.1 XBLOCK / 2.2.2.8.3.2.2 XXBLOCK: btype 0x01, cLevel,
// cEnt, lcbTotal, rgbid.
void ReferenceWalker::expand_xblock(size_t index, const BlockRecord& r, ByteView v, const Pending& p) {
  const std::string who = owner_text(p.owner) + ": block " + hex(r.entry.bid);
  if (!v.has(0, 8)) return damaged(index, r, Issue::kDataTree, who + " is too short for an XBLOCK");
  if (v.u8(0) != 0x01) return damaged(index, r, Issue::kDataTree, who + " has btype " + hex(v.u8(0)) + ", expected 0x1");
  const uint8_t level = v.u8(1);
  if (level < 1 || level > 2 || (p.role == Role::kXBlock && level != 1)) {
    return damaged(index, r, Issue::kDataTree,
                   who + " has cLevel " + std::to_string(level) +
                       (p.role == Role::kXBlock ? ", expected 1 under an XXBLOCK" : ", expected 1 or 2"));
  }
  const size_t count = v.u16(2);
  const uint32_t total = v.u32(4);
  const size_t bid_size = ansi_ ? 4 : 8;
  if (!v.has(8, count * bid_size)) {
    return damaged(index, r, Issue::kDataTree,
                   who + " lists " + std::to_string(count) + " BIDs in " + std::to_string(v.size()) + " bytes");
  }
  if (count == 0) return damaged(index, r, Issue::kDataTree, who + " lists no BIDs");
  const Referrer from{level == 1 ? "XBLOCK" : "XXBLOCK", r.entry.offset, p.owner};
  uint64_t sum = 0;
  bool sum_known = true;
  for (size_t i = 0; i < count; ++i) {
    const ndb::Bid child = bid_at(v, 8 + i * bid_size);
    reference(child, level == 1 ? Role::kDataLeaf : Role::kXBlock, from);
    const std::optional<BlockRecord> cr = c_.find_block(child);
    if (!cr) {
      sum_known = false;
    } else if (level == 1) {
      sum += cr->entry.inflated_size;
    } else {
      // An XXBLOCK's total is the sum of its XBLOCKs' totals.
      auto cd = cr->damaged ? Result<SharedBytes>(Status::corrupt(kAlreadyReported, 0, "")) : c_.read_block(child);
      if (cd.is_ok() && (*cd)->size() >= 8) {
        sum += load_le32((*cd)->data() + 4);
      } else {
        sum_known = false;
      }
    }
  }
  if (sum_known && sum != total) {
    c_.add(Issue::kDataTree, from.structure, r.entry.offset, r.entry.bid,
           who + " lcbTotal " + std::to_string(total) + " but its blocks hold " + std::to_string(sum) + " bytes");
  }
}

// MS-PST 2.2.2.8.3.3.1.2 SLBLOCK / 2.2.2.8.3.3.2.2 SIBLOCK: btype 0x02,
// cLevel 0 or 1, cEnt, (dwPadding), SLENTRY or SIENTRY records.
void ReferenceWalker::expand_subnode_block(size_t index, const BlockRecord& r, ByteView v, const Pending& p) {
  const std::string who = owner_text(p.owner) + ": block " + hex(r.entry.bid);
  const size_t header = ansi_ ? 4 : 8;
  if (!v.has(0, header)) return damaged(index, r, Issue::kSubnodeTree, who + " is too short for an SLBLOCK");
  if (v.u8(0) != 0x02) {
    return damaged(index, r, Issue::kSubnodeTree, who + " has btype " + hex(v.u8(0)) + ", expected 0x2");
  }
  const uint8_t level = v.u8(1);
  if (level > 1 || (p.role == Role::kSubnodeLeaf && level != 0)) {
    return damaged(index, r, Issue::kSubnodeTree,
                   who + " has cLevel " + std::to_string(level) +
                       (p.role == Role::kSubnodeLeaf ? ", expected 0 under an SIBLOCK" : ", expected 0 or 1"));
  }
  const size_t count = v.u16(2);
  const size_t entry = level == 0 ? (ansi_ ? 12 : 24) : (ansi_ ? 8 : 16);
  if (!v.has(header, count * entry)) {
    return damaged(index, r, Issue::kSubnodeTree,
                   who + " lists " + std::to_string(count) + " entries in " + std::to_string(v.size()) + " bytes");
  }
  const Referrer from{level == 0 ? "SLBLOCK" : "SIBLOCK", r.entry.offset, p.owner};
  const size_t nid_size = ansi_ ? 4 : 8;
  uint64_t previous = 0;
  bool order_reported = false;
  for (size_t i = 0; i < count; ++i) {
    const size_t at = header + i * entry;
    // Unicode NIDs are 8 bytes wide here but only the low 4 are the NID;
    // Outlook leaves the upper half uninitialised.
    const uint64_t nid = v.u32(at);
    if (i > 0 && nid <= previous && !order_reported) {
      c_.add(Issue::kSubnodeTree, from.structure, r.entry.offset, r.entry.bid,
             who + " entry " + std::to_string(i) + " NID " + hex(nid) + " does not follow " + hex(previous));
      order_reported = true;
    }
    previous = nid;
    if (level == 0) {
      const ndb::Bid data = bid_at(v, at + nid_size);
      const ndb::Bid sub = bid_at(v, at + nid_size + nid_size);
      if (data != 0) reference(data, Role::kData, from);
      if (sub != 0) reference(sub, Role::kSubnode, from);
    } else {
      reference(bid_at(v, at + nid_size), Role::kSubnodeLeaf, from);
    }
  }
}

}  // namespace

void check_references(Context& c) {
  ReferenceWalker walker(c);
  walker.run();
  if (walker.unfound_ > 0) {
    c.add(Issue::kCheckLimit, "BBT", kNone, kNone,
          std::to_string(walker.unfound_) +
              " references name blocks the readable part of the BBT does not hold; not reported one by one");
  }
  // Without the whole NBT and every tree, counts found are only a lower
  // bound: shortfalls are still certain, surpluses and orphans are not.
  const bool complete = c.nbt_complete && c.references_complete;
  if (!complete) {
    c.add(Issue::kCheckLimit, "BBT", kNone, kNone,
          "part of the NBT or of a data/subnode tree is unreadable: blocks are checked only for "
          "reference counts below the references found");
  }
  for (const BlockRecord& r : c.blocks) {
    const ndb::BlockEntry e = r.entry;
    if (r.references == 0) {
      if (complete) {
        c.add(Issue::kBlockOrphan, "block", e.offset, e.bid,
              "block " + hex(e.bid) + " (cRef " + std::to_string(e.ref_count) + ") is referenced by nothing");
      }
      continue;
    }
    const uint64_t expected = uint64_t(r.references) + 1;
    if (e.ref_count < expected) {
      c.add(Issue::kRefcountLow, "block", e.offset, e.bid,
            "block " + hex(e.bid) + " cRef " + std::to_string(e.ref_count) + " but " +
                std::to_string(r.references) + " references + the BBT's own = " + std::to_string(expected));
    } else if (e.ref_count > expected && complete) {
      c.add(Issue::kRefcountHigh, "block", e.offset, e.bid,
            "block " + hex(e.bid) + " cRef " + std::to_string(e.ref_count) + " but " +
                std::to_string(r.references) + " references + the BBT's own = " + std::to_string(expected));
    }
  }
}

}  // namespace pstkit::check
