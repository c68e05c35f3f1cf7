// Stage 1 of a rebuild (pstkit/repair.h): every node of the source that can
// be read goes into the new file with its NID, parent, data stream and
// subnodes. What cannot be read is left out and reported.
//
// Block sizes: a data stream is a sequence of data blocks (MS-PST
// 2.2.2.8.3.2). When the new file's largest data block equals the source's
// (Unicode to Unicode), every stream is copied block for block. Otherwise
// (ANSI 8180 or 4 KiB-page OST blocks into Unicode 8176) plain streams are
// cut again at the new size, but a heap's blocks are its pages (MS-PST
// 2.3.1: one HN page per block, addressed by HIDs that name the block) and
// a table's row matrix holds whole rows per block (2.3.4.4), so those are
// kept block for block where they fit and the OST's HID layout is the same,
// and otherwise laid out again through the LTP builders (HEAP_REBUILT).
#include <algorithm>
#include <optional>
#include <set>

#include "messaging/node_writer.h"
#include "ndb/data_tree.h"
#include "ndb/page.h"
#include "repair/adopt_orphans.h"
#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/repair.h"
#include "util/spill_array.h"

namespace pstkit::repair {
namespace {

// dest is a new file: commits along the way only bound the writer's
// in-memory B-tree changes and let a long copy keep what it has done.
constexpr uint64_t kCommitBytes = uint64_t{64} << 20;
constexpr size_t kCommitNodes = 16384;
// Subnodes nest for embedded messages (message -> attachment -> message...);
// real files stay far below these; damaged ones may loop.
constexpr int kMaxSubnodeDepth = 64;
constexpr uint64_t kMaxSubnodesPerNode = uint64_t{1} << 20;

uint64_t offset_of(const Status& s) { return s.has_offset() ? s.offset() : kNone; }

// What copying one node (or subnode) came to: its new BIDs, or why the
// source could not give it. Write failures are not outcomes: they stop the
// copy.
struct Outcome {
  bool copied = false;
  ndb::SubnodeEntry entry;
  Status lost;

  static Outcome of(ndb::SubnodeEntry e) {
    Outcome o;
    o.copied = true;
    o.entry = e;
    return o;
  }
  static Outcome lost_because(Status why) {
    Outcome o;
    o.lost = std::move(why);
    return o;
  }
};

class NodeCopier {
 public:
  NodeCopier(const ndb::Database& source, ndb::WritableDatabase& dest, const RebuildOptions& options,
             RebuildReport& report)
      : src_(source), dst_(dest), options_(options), report_(report) {
    const ndb::Header& h = source.header();
    src_max_ = h.max_block_size > h.block_trailer_size ? h.max_block_size - h.block_trailer_size : 0;
    dst_max_ = dest.max_data_block();
    src_4k_ = h.format == ndb::FileFormat::kUnicode4k;
    same_blocks_ = src_max_ == dst_max_ && !src_4k_;
    stored_copy_ = same_blocks_ && h.format == dest.header().format && h.crypt == dest.header().crypt &&
                   h.crypt != ndb::CryptMethod::kCyclic;
    ltp_options_.format = h.format;
    stream_limit_ = source.file_size() * (src_4k_ ? 128 : 1) + (uint64_t{1} << 20);
  }

  Status run();

 private:
  void emit(Change c) {
    ++report_.changes;
    if (options_.on_change) options_.on_change(c);
  }

  Status copy_top(const ndb::NodeEntry& e);
  Status adopt_orphans();
  Result<Outcome> copy_object(ndb::Nid top, ndb::Nid nid, ndb::Bid data_bid, ndb::Bid subnode_bid, int depth);
  // The node's data stream into dest. nullopt when the source cannot give
  // it (unreadable says why; unreadable_heap_ when it is a PC or TC whose
  // first block read, which rebuild_readable may still save). built: set
  // when the heap was laid out again (its new subnodes are written by the
  // caller with the source's).
  Result<std::optional<ndb::Bid>> copy_stream(const std::shared_ptr<const ndb::Node>& node, ndb::Bid data_bid,
                                              std::optional<ltp::BuiltNode>& built, Status& unreadable);
  // The node's data blocks as the source stores them (stored_copy_), each
  // checked against its trailer's CRC: no decoding, encoding or second CRC.
  // nullopt when a block does not qualify (the caller then copies decoded
  // blocks, which reports and corrects what it can).
  Result<std::optional<ndb::Bid>> copy_stored_blocks(ndb::Bid data_bid, size_t count);
  // A heap's blocks from a source of another block size: kept block for
  // block where they fit, else laid out again.
  Result<ndb::Bid> write_stream(const std::shared_ptr<const ndb::Node>& node,
                                const std::vector<SharedBytes>& blocks, std::optional<ltp::BuiltNode>& built,
                                Status& lost);
  Result<ndb::Bid> write_blocks(const std::vector<SharedBytes>& blocks);
  Result<ltp::BuiltNode> rebuild_heap(const std::shared_ptr<const ndb::Node>& node, uint8_t client_signature);
  // A PC or TC some of whose heap blocks cannot be read, rebuilt from the
  // entries that can (their values read whole: skip gets the subnodes that
  // held them, which the rebuilt node no longer uses).
  Result<ltp::BuiltNode> rebuild_readable(const std::shared_ptr<const ndb::Node>& node, std::set<ndb::Nid>& skip,
                                          const Status& why);
  Status commit_if_due(bool force);

  const ndb::Database& src_;
  ndb::WritableDatabase& dst_;
  const RebuildOptions& options_;
  RebuildReport& report_;
  ltp::Options ltp_options_;
  size_t src_max_ = 0;
  size_t dst_max_ = 0;
  bool src_4k_ = false;
  bool same_blocks_ = true;
  // Same format, block size and a BID-independent encoding (none, permute):
  // blocks can be copied as stored.
  bool stored_copy_ = false;
  Bytes stored_;  // reused buffer of copy_stored_blocks
  uint64_t bytes_since_commit_ = 0;
  size_t nodes_since_commit_ = 0;
  uint64_t subnodes_of_top_ = 0;
  std::set<ndb::Bid> subnode_trees_of_top_;
  uint64_t stream_limit_ = 0;
  uint64_t top_budget_ = 0;
  bool unreadable_heap_ = false;
};

Status NodeCopier::run() {
  // The node list first: the total for progress, and one pass over the NBT.
  // One entry a node, so within SpillArray's memory budget (issue 8).
  SpillArray<ndb::NodeEntry> nodes;
  PSTKIT_RETURN_IF_ERROR(src_.for_each_node([&](const ndb::NodeEntry& e) {
    nodes.push_back(e);
    return true;
  }));
  PSTKIT_RETURN_IF_ERROR(nodes.status());
  report_.nodes_in_source += nodes.size();
  const uint64_t total = nodes.size();
  uint64_t done = 0;
  if (options_.progress) options_.progress(0, total);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ndb::NodeEntry e = nodes.get(i);
    // A temporary file that failed reads as zeros from then on.
    PSTKIT_RETURN_IF_ERROR(nodes.status());
    PSTKIT_RETURN_IF_ERROR(copy_top(e));
    ++done;
    if (options_.progress && (done % 256 == 0 || done == total)) options_.progress(done, total);
    PSTKIT_RETURN_IF_ERROR(commit_if_due(false));
  }
  // MS-PST 2.2.2.6 rgnid: NIDs are handed out above the source's counters
  // too, so none of the source's (deleted ones included) is reused.
  const ndb::Header& h = src_.header();
  for (uint32_t type = 0; type < 32; ++type) {
    const uint32_t hw = h.nid_high_water[type];
    if (hw != 0 && hw < (uint32_t{1} << 27)) dst_.reserve_nid(ndb::make_nid(uint8_t(type), hw));
  }
  PSTKIT_RETURN_IF_ERROR(adopt_orphans());
  return commit_if_due(true);
}

// Messages no listed node leads to, found by their blocks (adopt_orphans.cpp):
// copied like listed ones; those without a known NID get a new one and no
// parent, which fix_store turns into a place in Lost and Found.
Status NodeCopier::adopt_orphans() {
  PSTKIT_ASSIGN_OR_RETURN(std::vector<OrphanMessage> orphans, find_orphan_messages(src_));
  for (OrphanMessage& o : orphans) {
    if (o.entry.nid == 0) o.entry.nid = dst_.allocate_nid(ndb::kNidTypeNormalMessage);
    const uint64_t lost_before = report_.nodes_lost;
    PSTKIT_RETURN_IF_ERROR(copy_top(o.entry));
    const bool name_map = o.entry.nid == ndb::kNidNameToIdMap;
    if (report_.nodes_lost == lost_before) {
      emit({"ORPHAN_ADOPTED", name_map ? "name map" : "message", o.entry.nid, kNone, o.how});
      if (name_map) report_.name_map_adopted = true;
    }
    PSTKIT_RETURN_IF_ERROR(commit_if_due(false));
  }
  return Status::ok();
}

Status NodeCopier::commit_if_due(bool force) {
  if (!force && bytes_since_commit_ < kCommitBytes && nodes_since_commit_ < kCommitNodes) return Status::ok();
  PSTKIT_RETURN_IF_ERROR(dst_.commit());
  bytes_since_commit_ = 0;
  nodes_since_commit_ = 0;
  return Status::ok();
}

Status NodeCopier::copy_top(const ndb::NodeEntry& e) {
  subnodes_of_top_ = 0;
  subnode_trees_of_top_.clear();
  // What one node may copy in all, subnodes included: a real node shares no
  // blocks with itself, so four times the file is generous.
  top_budget_ = 4 * stream_limit_;
  if (e.subnode_bid != 0) subnode_trees_of_top_.insert(e.subnode_bid);
  PSTKIT_ASSIGN_OR_RETURN(Outcome o, copy_object(e.nid, e.nid, e.data_bid, e.subnode_bid, 0));
  if (!o.copied) {
    ++report_.nodes_lost;
    emit({"NODE_LOST", "node", e.nid, offset_of(o.lost), "left out: " + o.lost.message()});
    return Status::ok();
  }
  PSTKIT_RETURN_IF_ERROR(dst_.put_node({e.nid, o.entry.data_bid, o.entry.subnode_bid, e.parent_nid}));
  dst_.reserve_nid(e.nid);
  ++report_.nodes_copied;
  ++nodes_since_commit_;
  return Status::ok();
}

Result<Outcome> NodeCopier::copy_object(ndb::Nid top, ndb::Nid nid, ndb::Bid data_bid, ndb::Bid subnode_bid,
                                        int depth) {
  auto opened = src_.open_node(nid, data_bid, subnode_bid);
  if (!opened) return Outcome::lost_because(opened.status());
  std::shared_ptr<const ndb::Node> node(std::move(opened).value());
  // No real stream is longer than the file holds (4K-page OST blocks inflate
  // at most 128-fold); a longer one shares blocks, in a loop or many times.
  if (node->size() > stream_limit_ || node->size() > top_budget_) {
    return Outcome::lost_because(Status::corrupt("data tree", Status::kNoOffset,
                                                 "a stream of " + std::to_string(node->size()) +
                                                     " bytes, more than the file can hold"));
  }
  top_budget_ -= node->size();

  std::optional<ltp::BuiltNode> built;
  std::set<ndb::Nid> skip;  // source subnodes not to copy
  Status unreadable;
  PSTKIT_ASSIGN_OR_RETURN(std::optional<ndb::Bid> new_data, copy_stream(node, data_bid, built, unreadable));
  if (!new_data) {
    // A PC or TC whose first block reads may still give most of its entries.
    if (!unreadable_heap_) return Outcome::lost_because(unreadable);
    auto salvaged = rebuild_readable(node, skip, unreadable);
    if (!salvaged) {
      return Outcome::lost_because(unreadable.with_context("(rebuilding what remains failed: " +
                                                           salvaged.status().message() + ")"));
    }
    built = std::move(salvaged).value();
    bytes_since_commit_ += built->size();
    PSTKIT_ASSIGN_OR_RETURN(new_data, dst_.write_data_tree(built->blocks));
  }

  // Subnodes: those the rebuilt heap made, then the source's that it did
  // not replace or drop.
  std::vector<ndb::SubnodeEntry> subs;
  if (built) {
    for (const auto& [snid, child] : built->subnodes) {
      PSTKIT_ASSIGN_OR_RETURN(ndb::SubnodeEntry se, write_built_node(dst_, snid, child));
      bytes_since_commit_ += child.size();
      subs.push_back(se);
      skip.insert(snid);
    }
    skip.insert(built->released_subnodes.begin(), built->released_subnodes.end());
  }
  if (subnode_bid != 0) {
    auto entries = node->subnodes();
    if (!entries) {
      emit({"SUBNODE_LOST", "subnode tree", nid, offset_of(entries.status()),
            "node " + hex(top) + ": its subnodes were left out: " + entries.status().message()});
    } else {
      for (const ndb::SubnodeEntry& se : *entries) {
        if (skip.count(se.nid)) continue;
        Outcome o;
        if (depth + 1 > kMaxSubnodeDepth || ++subnodes_of_top_ > kMaxSubnodesPerNode) {
          o = Outcome::lost_because(Status::corrupt("subnode tree", Status::kNoOffset,
                                                    "subnodes nested deeper than " +
                                                        std::to_string(kMaxSubnodeDepth) + " or more than " +
                                                        std::to_string(kMaxSubnodesPerNode)));
        } else if (se.subnode_bid != 0 && !subnode_trees_of_top_.insert(se.subnode_bid).second) {
          o = Outcome::lost_because(Status::corrupt("subnode tree", Status::kNoOffset,
                                                    "subnode tree " + hex(se.subnode_bid) +
                                                        " is reached twice within node " + hex(top)));
        } else {
          PSTKIT_ASSIGN_OR_RETURN(o, copy_object(top, se.nid, se.data_bid, se.subnode_bid, depth + 1));
        }
        if (!o.copied) {
          emit({"SUBNODE_LOST", "subnode", se.nid, offset_of(o.lost),
                "node " + hex(top) + ": subnode left out: " + o.lost.message()});
          continue;
        }
        subs.push_back(o.entry);
      }
    }
  }
  ndb::SubnodeEntry result;
  result.nid = nid;
  result.data_bid = *new_data;
  PSTKIT_ASSIGN_OR_RETURN(result.subnode_bid, dst_.write_subnode_tree(std::move(subs)));
  return Outcome::of(result);
}

Result<std::optional<ndb::Bid>> NodeCopier::copy_stored_blocks(ndb::Bid data_bid, size_t count) {
  const ndb::Header& h = src_.header();
  auto tree = ndb::load_data_tree(h, data_bid, [&](ndb::Bid b) { return src_.read_block(b); });
  if (!tree || tree->leaves.size() != count) return std::optional<ndb::Bid>();
  std::vector<ndb::Bid> written;
  written.reserve(count);
  uint64_t bytes = 0;
  for (ndb::Bid bid : tree->leaves) {
    auto e = src_.find_block(bid);
    bool ok = e.is_ok() && e->stored_size <= dst_max_;
    if (ok) {
      stored_.resize(size_t(ndb::block_disk_size(h, e->stored_size)));
      ok = src_.read_raw(e->offset, stored_.size(), stored_.data()).is_ok();
    }
    ndb::BlockTrailer t;
    if (ok) {
      t = ndb::read_block_trailer(h, stored_);
      ok = t.cb == e->stored_size && t.bid == bid && ndb::compute_crc(stored_.data(), t.cb) == t.crc;
    }
    if (!ok) {
      for (ndb::Bid w : written) PSTKIT_RETURN_IF_ERROR(dst_.release(w));
      return std::optional<ndb::Bid>();
    }
    PSTKIT_ASSIGN_OR_RETURN(ndb::Bid b, dst_.write_stored_block(ByteView(stored_.data(), t.cb), t.crc));
    written.push_back(b);
    bytes += t.cb;
  }
  bytes_since_commit_ += bytes;
  PSTKIT_ASSIGN_OR_RETURN(ndb::Bid top, dst_.write_data_tree_over(written));
  return std::optional<ndb::Bid>(top);
}

Result<std::optional<ndb::Bid>> NodeCopier::copy_stream(const std::shared_ptr<const ndb::Node>& node,
                                                         ndb::Bid data_bid, std::optional<ltp::BuiltNode>& built,
                                                         Status& unreadable) {
  unreadable_heap_ = false;
  const size_t count = node->block_count();
  if (count == 0) return std::optional<ndb::Bid>(0);
  // Block for block as stored, heaps included (same block size: nothing
  // is laid out again), unless a block needs the decoded path.
  if (stored_copy_) {
    PSTKIT_ASSIGN_OR_RETURN(std::optional<ndb::Bid> copied, copy_stored_blocks(data_bid, count));
    if (copied) return copied;
  }
  auto first = node->block(0);
  if (!first) {
    unreadable = first.status().with_context("data block 0");
    return std::optional<ndb::Bid>();
  }
  // MS-PST 2.3.1.2 HNHDR: ibHnpm, bSig 0xEC, bClientSig.
  const ByteView head(**first);
  const bool heap = head.size() >= 4 && head.u8(2) == ltp::kHeapSignature;
  const bool pc_or_tc =
      heap && (head.u8(3) == ltp::kClientPropertyContext || head.u8(3) == ltp::kClientTableContext);

  if (heap && !same_blocks_) {
    // Decided on the whole heap: kept block for block, or laid out again.
    std::vector<SharedBytes> blocks{*first};
    for (size_t i = 1; i < count; ++i) {
      auto b = node->block(i);
      if (!b) {
        unreadable = b.status().with_context("data block " + std::to_string(i));
        unreadable_heap_ = pc_or_tc;
        return std::optional<ndb::Bid>();
      }
      blocks.push_back(std::move(b).value());
    }
    Status lost;
    PSTKIT_ASSIGN_OR_RETURN(ndb::Bid bid, write_stream(node, blocks, built, lost));
    if (!lost.is_ok()) {
      unreadable = lost;
      return std::optional<ndb::Bid>();
    }
    return std::optional<ndb::Bid>(bid);
  }

  // A block at a time: block for block when the sizes agree, else cut again
  // at dest's block size (a plain stream). What was written is given back
  // if a later block cannot be read.
  std::vector<ndb::Bid> written;
  Bytes pending;
  auto put = [&](ByteView data) -> Status {
    PSTKIT_ASSIGN_OR_RETURN(ndb::Bid b, dst_.write_block(data, false));
    written.push_back(b);
    bytes_since_commit_ += data.size();
    return Status::ok();
  };
  auto add = [&](const Bytes& data) -> Status {
    if (same_blocks_) return put(data);
    for (size_t at = 0; at < data.size();) {
      const size_t n = std::min(dst_max_ - pending.size(), data.size() - at);
      pending.insert(pending.end(), data.begin() + long(at), data.begin() + long(at + n));
      at += n;
      if (pending.size() == dst_max_) {
        PSTKIT_RETURN_IF_ERROR(put(pending));
        pending.clear();
      }
    }
    return Status::ok();
  };
  PSTKIT_RETURN_IF_ERROR(add(**first));
  for (size_t i = 1; i < count; ++i) {
    auto b = node->block(i);
    if (!b) {
      for (ndb::Bid w : written) PSTKIT_RETURN_IF_ERROR(dst_.release(w));
      unreadable = b.status().with_context("data block " + std::to_string(i));
      unreadable_heap_ = pc_or_tc;
      return std::optional<ndb::Bid>();
    }
    PSTKIT_RETURN_IF_ERROR(add(**b));
  }
  if (!pending.empty()) PSTKIT_RETURN_IF_ERROR(put(pending));
  PSTKIT_ASSIGN_OR_RETURN(ndb::Bid top, dst_.write_data_tree_over(written));
  return std::optional<ndb::Bid>(top);
}

Result<ndb::Bid> NodeCopier::write_stream(const std::shared_ptr<const ndb::Node>& node,
                                          const std::vector<SharedBytes>& blocks,
                                          std::optional<ltp::BuiltNode>& built, Status& lost) {
  // A heap (blocks[0] starts with an HNHDR) from a source of another block size.
  const uint8_t sig = ByteView(*blocks[0]).u8(3);
  bool fits = std::all_of(blocks.begin(), blocks.end(), [&](const SharedBytes& b) { return b->size() <= dst_max_; });
  // MS-PST 2.3.1.1: 4 KiB-page OST HIDs split index and block differently;
  // HIDs of block 0 read the same either way.
  if (src_4k_ && blocks.size() > 1) fits = false;
  bool rebuild = !fits;
  if (fits && sig == ltp::kClientTableContext) {
    // A row matrix in a subnode holds as many rows per block as the
    // source's block size allows: it must be cut again.
    auto tc = ltp::TableContext::open(node, ltp_options_);
    rebuild = tc && tc->rows_hnid() != 0 && !ltp::hnid_is_hid(tc->rows_hnid());
  }
  if (!rebuild) return write_blocks(blocks);
  auto rebuilt = rebuild_heap(node, sig);
  if (!rebuilt) {
    if (fits) return write_blocks(blocks);
    lost = rebuilt.status().with_context("heap of " + std::to_string(blocks.size()) +
                                         " blocks that do not fit this file's " + std::to_string(dst_max_) +
                                         "-byte blocks could not be laid out again");
    return ndb::Bid{0};
  }
  built = std::move(rebuilt).value();
  emit({"HEAP_REBUILT", sig == ltp::kClientTableContext ? "table context" : "property context", node->id(),
        kNone,
        "laid out again for " + std::to_string(dst_max_) + "-byte blocks (the source's are " +
            std::to_string(src_max_) + ")"});
  bytes_since_commit_ += built->size();
  return dst_.write_data_tree(built->blocks);
}

Result<ltp::BuiltNode> NodeCopier::rebuild_heap(const std::shared_ptr<const ndb::Node>& node,
                                                uint8_t client_signature) {
  const ndb::FileFormat format = dst_.header().format;
  if (client_signature == ltp::kClientPropertyContext) {
    PSTKIT_ASSIGN_OR_RETURN(ltp::PropertyContext pc, ltp::PropertyContext::open(node, ltp_options_));
    PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder b, ltp::PcBuilder::from_existing(pc, {}, format));
    return b.build();
  }
  if (client_signature == ltp::kClientTableContext) {
    PSTKIT_ASSIGN_OR_RETURN(ltp::TableContext tc, ltp::TableContext::open(node, ltp_options_));
    PSTKIT_ASSIGN_OR_RETURN(ltp::TcBuilder b, ltp::TcBuilder::from_existing(tc, {}, format));
    return b.build();
  }
  return Status::unsupported("a heap of client signature " + hex(client_signature) +
                             " (neither a property nor a table context)");
}

Result<ltp::BuiltNode> NodeCopier::rebuild_readable(const std::shared_ptr<const ndb::Node>& node,
                                                    std::set<ndb::Nid>& skip, const Status& why) {
  const ndb::FileFormat format = dst_.header().format;
  PSTKIT_ASSIGN_OR_RETURN(ltp::Heap heap, ltp::Heap::open(node, ltp_options_));
  // New subnodes (values too large for the heap) go past the old ones.
  auto after = ltp::nid_allocator_after(*node);
  ltp::NidAllocator allocate = after ? *after : ltp::sequential_nid_allocator(1);
  const ndb::Nid nid = node->id();
  size_t kept = 0, dropped = 0;
  ltp::BuiltNode built;
  std::string what;
  if (heap.client_signature() == ltp::kClientPropertyContext) {
    PSTKIT_ASSIGN_OR_RETURN(ltp::PropertyContext pc, ltp::PropertyContext::open(node, ltp_options_));
    PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder b, ltp::PcBuilder::create(format, allocate));
    for (const ltp::PropertyContext::Entry& e : pc.entries()) {
      auto v = pc.get(e.id);
      Status s = v ? b.set(*v) : v.status();
      if (!s.is_ok()) {
        ++dropped;
        emit({"PROPERTY_DROPPED", "property", nid, offset_of(s),
              "property " + hex(ltp::make_tag(e.id, e.type)) + " of node " + hex(nid) + " left out: " + s.message()});
        continue;
      }
      ++kept;
      // MS-PST 2.3.3.3: a value in a subnode is now in the builder's heap
      // or a new subnode; PtypObject subnodes stay as they are.
      const size_t fixed = ltp::is_multi_valued(e.type) ? 0 : ltp::fixed_type_size(e.type);
      const bool inline_value = fixed != 0 && fixed <= 4;
      if (!inline_value && e.type != ltp::kPtypObject && e.value != 0 && !ltp::hnid_is_hid(e.value)) {
        skip.insert(e.value);
      }
    }
    PSTKIT_ASSIGN_OR_RETURN(built, b.build());
    what = std::to_string(kept) + " properties";
  } else if (heap.client_signature() == ltp::kClientTableContext) {
    PSTKIT_ASSIGN_OR_RETURN(ltp::TableContext tc, ltp::TableContext::open(node, ltp_options_));
    PSTKIT_ASSIGN_OR_RETURN(ltp::TcBuilder b, ltp::TcBuilder::create(format, ltp::template_columns(tc), allocate));
    for (const ltp::TableContext::RowIndexEntry& r : tc.row_index()) {
      auto cells = tc.row(r.row_index);
      Status s = cells ? b.add_row(r.row_id, *cells) : cells.status();
      if (!s.is_ok()) {
        ++dropped;
        emit({"PROPERTY_DROPPED", "table row", nid, offset_of(s),
              "row " + hex(r.row_id) + " of table " + hex(nid) + " left out: " + s.message()});
        continue;
      }
      ++kept;
    }
    if (tc.rows_hnid() != 0 && !ltp::hnid_is_hid(tc.rows_hnid())) skip.insert(tc.rows_hnid());
    PSTKIT_ASSIGN_OR_RETURN(built, b.build());
    what = std::to_string(kept) + " rows";
  } else {
    return Status::unsupported("a heap of client signature " + hex(heap.client_signature()));
  }
  emit({"HEAP_REBUILT", heap.client_signature() == ltp::kClientTableContext ? "table context" : "property context",
        nid, offset_of(why),
        "rebuilt from the " + what + " still readable (" + std::to_string(dropped) + " left out): " + why.message()});
  return built;
}

// Block for block, boundaries kept (heap pages, row matrix blocks).
Result<ndb::Bid> NodeCopier::write_blocks(const std::vector<SharedBytes>& blocks) {
  bool canonical = true;  // every block but the last full: a plain data tree
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (blocks[i]->size() > dst_max_) {
      return Status::invalid_argument("data block of " + std::to_string(blocks[i]->size()) + " bytes exceeds " +
                                      std::to_string(dst_max_));
    }
    if (i + 1 < blocks.size() && blocks[i]->size() != dst_max_) canonical = false;
    bytes_since_commit_ += blocks[i]->size();
  }
  if (canonical) {
    std::vector<Bytes> copy;
    copy.reserve(blocks.size());
    for (const SharedBytes& b : blocks) copy.push_back(*b);
    return dst_.write_data_tree(copy);
  }
  std::map<size_t, Bytes> all;
  for (size_t i = 0; i < blocks.size(); ++i) all.emplace(i, *blocks[i]);
  return dst_.rewrite_data_tree(0, blocks.size(), all);
}

}  // namespace

Status copy_nodes(const ndb::Database& source, ndb::WritableDatabase& dest, const RebuildOptions& options,
                  RebuildReport* report) {
  RebuildReport local;
  RebuildReport& r = report ? *report : local;
  NodeCopier copier(source, dest, options, r);
  return copier.run();
}

}  // namespace pstkit::repair
