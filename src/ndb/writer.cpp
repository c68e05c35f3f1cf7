// WritableDatabase: copy-on-write changes, committed through the journal.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "ndb/allocation_map.h"
#include "ndb/btree_writer.h"
#include "ndb/byte_source.h"
#include "ndb/coalescing_file.h"
#include "ndb/data_tree.h"
#include "ndb/journal.h"
#include "ndb/lru_cache.h"
#include "ndb/page.h"
#include "pstkit/ndb_writer.h"
#include "ndb/recent_frees.h"
#include "util/file_lock.h"

namespace pstkit::ndb {
namespace {

constexpr uint8_t kBlockTypeXBlock = 0x01;
constexpr uint8_t kBlockTypeSubnode = 0x02;
constexpr uint8_t kDListFlagBackfillComplete = 0x01;

// Lets the block decoder read through a WritableFile.
class FileByteSource final : public ByteSource {
 public:
  explicit FileByteSource(const WritableFile* f) : f_(f) {}
  uint64_t size() const override { return f_->size(); }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override { return f_->read(offset, len, out); }

 private:
  const WritableFile* f_;
};

class Writer final : public WritableDatabase {
 public:
  Writer(Env* env, std::string path, std::unique_ptr<WritableFile> file, const WriterOptions& o)
      : env_(env),
        path_(std::move(path)),
        file_(file ? std::make_unique<CoalescingFile>(std::move(file)) : nullptr),
        source_(file_.get()),
        options_(o),
        pages_(size_t{2} << 20), blocks_(o.read.cache_bytes) {
    wait_.timeout = o.lock_timeout.count() >= 0 ? o.lock_timeout : filelock::default_timeout();
    wait_.notice = o.notice;
  }

  ~Writer() override {
    // Space this session freed and nobody reuses is wiped while the writer
    // lock is still held (see wipe_deferred).
    if (!changed_ && holds_writer_lock_) {
      (void)wipe_deferred();
      // Deleted content does not linger, whichever commit deleted it.
      for (const auto& [offset, size] : deleted_) {
        if (amap_.is_free(offset, size)) (void)zero(offset, size);
      }
    }
  }

  const LockWait& lock_wait() const { return wait_; }
  void adopt_file(std::unique_ptr<WritableFile> file) {
    file_ = std::make_unique<CoalescingFile>(std::move(file));
    source_ = FileByteSource(file_.get());
  }

  // ---- set-up

  Status load(bool created) {
    Bytes head(std::min<uint64_t>(file_->size(), 4096));
    PSTKIT_RETURN_IF_ERROR(file_->read(0, head.size(), head.data()));
    PSTKIT_ASSIGN_OR_RETURN(committed_, parse_header(head, file_->size()));
    if (committed_.format == FileFormat::kUnicode4k) {
      return Status::unsupported("writing 4K-page OST files");
    }
    if (!committed_.crc_partial_ok || !committed_.crc_full_ok) {
      return Status::corrupt("header", 0, "header CRC mismatch: repair the file before writing to it");
    }
    raw_header_.assign(head.begin(), head.begin() + (committed_.format == FileFormat::kAnsi ? 512 : 564));
    h_ = committed_;
    first_written_bid_ = committed_.bid_next_b;
    // ibFileEof normally ends a whole AMap region; early Outlook (97/98,
    // ANSI) left small files shorter than their first region, whose map
    // still covers the region: such a file is written to as it is, and its
    // first commit grows it to the region's end as later Outlooks do.
    if (committed_.file_eof < kFirstAMapOffset + 512 || committed_.file_eof > file_->size()) {
      return Status::corrupt("header", 184,
                             "ibFileEof " + std::to_string(committed_.file_eof) +
                                 " does not reach the first AMap page or lies past the end of the file (" +
                                 std::to_string(file_->size()) + " bytes)");
    }
    // Bytes past ibFileEof belong to a commit that never happened.
    if (file_->size() > committed_.file_eof) {
      PSTKIT_RETURN_IF_ERROR(file_->truncate(committed_.file_eof));
      PSTKIT_RETURN_IF_ERROR(file_->sync());
      recovery_.truncated_tail = !created;
    }
    const uint64_t regions = (committed_.file_eof - kFirstAMapOffset + kAMapRegionSize - 1) / kAMapRegionSize;
    bool amap_ok = committed_.amap_valid != 0;
    std::vector<Bytes> bodies;
    for (uint64_t r = 0; r < regions && amap_ok; ++r) {
      Bytes page(512);
      PSTKIT_RETURN_IF_ERROR(file_->read(region_offset(r), 512, page.data()));
      const PageTrailer t = read_page_trailer(committed_, page);
      if (t.ptype != kPageAMap || t.ptype_repeat != kPageAMap || page_crc(committed_, page) != t.crc) {
        amap_ok = false;
        break;
      }
      const size_t body_at = committed_.format == FileFormat::kAnsi ? 4 : 0;
      bodies.emplace_back(page.begin() + long(body_at), page.begin() + long(body_at + 496));
    }
    Bytes dlist(512);
    PSTKIT_RETURN_IF_ERROR(file_->read(kDListOffset, 512, dlist.data()));
    has_dlist_ = read_page_trailer(committed_, dlist).ptype == kPageDList;
    reset_trees();
    if (amap_ok) {
      amap_ = AllocationMap::from_pages(std::move(bodies));
    } else {
      PSTKIT_RETURN_IF_ERROR(rebuild_amap(regions));
      recovery_.rebuilt_amap = true;
      // The rebuilt maps are written by a commit of their own.
      force_commit_ = true;
      PSTKIT_RETURN_IF_ERROR(commit());
    }
    amap_.clear_dirty();
    amap_.mark_regions_written();
    committed_regions_ = amap_.region_count();
    // Space any writer freed lately is not reused yet (recent_frees.h).
    if (created) recent_frees_.forget();
    amap_.set_quiet(recent_frees_.load());
    PSTKIT_RETURN_IF_ERROR(start_allocating_after_newest_block());
    return Status::ok();
  }

  // Allocation is next-fit from just after the newest block (the highest
  // BID: BIDs only grow), so the space the latest commits freed is reused
  // last: a reader without pstkit's locks (libpff, readpst, Outlook) that
  // opened an earlier state finds its blocks intact for as long as possible.
  Status start_allocating_after_newest_block() {
    Bref ref = committed_.bbt_root;
    for (int depth = 0; depth <= 16; ++depth) {
      PSTKIT_ASSIGN_OR_RETURN(BTreePage p, load_page(kPageBbt, ref));
      if (!p.branches.empty()) {
        ref = p.branches.back().child;
        continue;
      }
      if (!p.blocks.empty()) {
        const BlockEntry& e = p.blocks.back();
        amap_.set_search_start(e.offset + block_disk_size(committed_, e.stored_size));
        // A file whose bidNextB lags its newest block: only BIDs past both are ours.
        first_written_bid_ = std::max(first_written_bid_, (e.bid & ~Bid{3}) + 4);
      }
      return Status::ok();
    }
    return Status::corrupt("BBT", ref.ib, "too deep");
  }

  // MS-PST 2.6.1.3.7 AMap rebuild: everything free, then mark every page and
  // block reachable from the two B-trees, and the map pages themselves.
  Status rebuild_amap(uint64_t regions) {
    amap_ = AllocationMap::create(regions);
    Status s = mark_tree_pages(kPageNbt, committed_.nbt_root, 0);
    if (s.is_ok()) s = mark_tree_pages(kPageBbt, committed_.bbt_root, 0);
    if (!s.is_ok()) return s.with_context("AMap rebuild");
    return bbt_->for_each_block([&](const BlockEntry& e) {
      amap_.mark_allocated(e.offset, block_disk_size(committed_, e.stored_size));
      return true;
    });
  }

  Status mark_tree_pages(uint8_t type, const Bref& ref, int depth) {
    if (depth > 16) return Status::corrupt("B-tree", ref.ib, "too deep");
    amap_.mark_allocated(ref.ib, 512);
    PSTKIT_ASSIGN_OR_RETURN(BTreePage p, load_page(type, ref));
    for (const auto& b : p.branches) PSTKIT_RETURN_IF_ERROR(mark_tree_pages(type, b.child, depth + 1));
    return Status::ok();
  }

  void reset_trees() {
    auto loader = [this](uint8_t type, const Bref& ref) { return load_page(type, ref); };
    nbt_ = std::make_unique<BTreeWriter>(committed_, kPageNbt, committed_.nbt_root, loader);
    bbt_ = std::make_unique<BTreeWriter>(committed_, kPageBbt, committed_.bbt_root, loader);
  }

  Result<BTreePage> load_page(uint8_t type, const Bref& ref) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto hit = pages_.get(ref.ib)) {
        if (hit->trailer.ptype == type && bid_key(hit->trailer.bid) == bid_key(ref.bid)) return *hit;
      }
    }
    Bytes raw(512);
    PSTKIT_RETURN_IF_ERROR(file_->read(ref.ib, raw.size(), raw.data()));
    PSTKIT_ASSIGN_OR_RETURN(BTreePage p, parse_btree_page(committed_, raw, ref.ib, type, ref.bid));
    std::lock_guard<std::mutex> lock(mu_);
    pages_.put(ref.ib, std::make_shared<const BTreePage>(p), shared_page_bytes(p));
    return p;
  }

  // ---- Database (reads see uncommitted changes)

  const Header& header() const override { return h_; }
  uint64_t file_size() const override { return file_->size(); }

  Result<NodeEntry> find_node(Nid nid) const override {
    PSTKIT_ASSIGN_OR_RETURN(auto e, nbt_->find_node(nid));
    if (!e) return Status::not_found("node " + hex(nid) + " is not in the NBT");
    return *e;
  }
  Result<BlockEntry> find_block(Bid bid) const override {
    PSTKIT_ASSIGN_OR_RETURN(auto e, bbt_->find_block(bid));
    if (!e) return Status::not_found("block " + hex(bid) + " is not in the BBT");
    e->ref_count = uint16_t(e->ref_count + pending_shares(e->bid));
    return *e;
  }
  Status for_each_node(const std::function<bool(const NodeEntry&)>& visit) const override {
    return nbt_->for_each_node(visit);
  }
  Status for_each_block(const std::function<bool(const BlockEntry&)>& visit) const override {
    if (shared_leaves_.empty()) return bbt_->for_each_block(visit);
    return bbt_->for_each_block([&](const BlockEntry& e) {
      BlockEntry counted = e;
      counted.ref_count = uint16_t(e.ref_count + pending_shares(e.bid));
      return visit(counted);
    });
  }
  Result<SharedBytes> read_block(Bid bid) const override {
    const Bid key = bid_key(bid);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto hit = blocks_.get(key)) return hit;
    }
    PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(bid));
    // A block this writer wrote (BIDs only grow) is read back without
    // checking its CRC: it was computed from these very bytes.
    const bool written_here = (bid & ~Bid{3}) >= first_written_bid_;
    PSTKIT_ASSIGN_OR_RETURN(Bytes data, read_block_from(h_, source_, e, !written_here));
    auto shared = std::make_shared<const Bytes>(std::move(data));
    std::lock_guard<std::mutex> lock(mu_);
    blocks_.put(key, shared, shared_vector_bytes(*shared));
    return SharedBytes(shared);
  }
  Status read_raw(uint64_t offset, size_t len, uint8_t* out) const override { return file_->read(offset, len, out); }
  Result<std::unique_ptr<Node>> open_node(Nid nid) const override {
    PSTKIT_ASSIGN_OR_RETURN(NodeEntry e, find_node(nid));
    return open_node(nid, e.data_bid, e.subnode_bid);
  }
  Result<std::unique_ptr<Node>> open_node(Nid nid, Bid data_bid, Bid subnode_bid) const override {
    PSTKIT_ASSIGN_OR_RETURN(DataTree tree, load_data_tree(h_, data_bid, [this](Bid b) { return read_block(b); }));
    return make_file_node(this, nid, std::move(tree), subnode_bid);
  }

  // ---- WritableDatabase

  const RecoveryReport& recovery() const override { return recovery_; }
  const std::string& path() const override { return path_; }
  uint32_t max_data_block() const override { return h_.max_block_size - h_.block_trailer_size; }
  bool has_changes() const override { return changed_; }

  Nid allocate_nid(uint8_t type) override {
    changed_ = true;
    return make_nid(type, ++h_.nid_high_water[type & 0x1f]);
  }

  void reserve_nid(Nid nid) override {
    uint32_t& hw = h_.nid_high_water[nid_type(nid)];
    if (nid_index(nid) > hw) {
      hw = nid_index(nid);
      changed_ = true;
    }
  }

  Result<Bid> write_block(ByteView data, bool internal) override {
    if (data.size() > max_data_block()) {
      return Status::invalid_argument("block of " + std::to_string(data.size()) + " bytes exceeds " +
                                      std::to_string(max_data_block()));
    }
    const Bid bid = h_.bid_next_b | (internal ? 2 : 0);
    Bytes& buf = block_buffer(data.size());
    if (!data.empty()) std::memcpy(buf.data(), data.data(), data.size());
    const uint32_t cb = uint32_t(data.size());
    // MS-PST 5.1/5.2: only external blocks are encoded, with the block's own BID.
    if (!internal) {
      if (h_.crypt == CryptMethod::kPermute) encode_permute(buf.data(), cb);
      if (h_.crypt == CryptMethod::kCyclic) code_cyclic(buf.data(), cb, uint32_t(bid));
    }
    PSTKIT_RETURN_IF_ERROR(place_block(bid, cb, compute_crc(buf.data(), cb)));
    auto shared = std::make_shared<const Bytes>(data.to_bytes());
    std::lock_guard<std::mutex> lock(mu_);
    blocks_.put(bid_key(bid), shared, shared_vector_bytes(*shared));
    return bid;
  }

  Result<Bid> write_stored_block(ByteView stored, uint32_t crc) override {
    if (stored.size() > max_data_block()) {
      return Status::invalid_argument("block of " + std::to_string(stored.size()) + " bytes exceeds " +
                                      std::to_string(max_data_block()));
    }
    if (h_.crypt == CryptMethod::kCyclic) {
      return Status::invalid_argument("a stored block cannot be copied into a cyclic-encoded file (keyed by BID)");
    }
    const Bid bid = h_.bid_next_b;
    Bytes& buf = block_buffer(stored.size());
    if (!stored.empty()) std::memcpy(buf.data(), stored.data(), stored.size());
    PSTKIT_RETURN_IF_ERROR(place_block(bid, uint32_t(stored.size()), crc));
    return bid;
  }

  // The reused buffer a block is laid out in: cb data bytes, zeroed padding
  // and trailer.
  Bytes& block_buffer(size_t cb) {
    block_buf_.assign(block_disk_size(h_, uint32_t(cb)), 0);
    return block_buf_;
  }

  // Gives the block in block_buf_ (data in place, cb bytes) its offset,
  // trailer and BBT entry, and writes it.
  Status place_block(Bid bid, uint32_t cb, uint32_t crc) {
    changed_ = true;
    h_.bid_next_b += 4;
    const uint64_t disk = block_buf_.size();
    const uint64_t ib = amap_.allocate(disk, 64);
    uint8_t* buf = block_buf_.data();
    const size_t t = disk - h_.block_trailer_size;
    store_le16(buf + t, uint16_t(cb));
    store_le16(buf + t + 2, compute_signature(ib, bid));
    if (h_.format == FileFormat::kAnsi) {
      store_le32(buf + t + 4, uint32_t(bid));
      store_le32(buf + t + 8, crc);
    } else {
      store_le32(buf + t + 4, crc);
      store_le64(buf + t + 8, bid);
    }
    PSTKIT_RETURN_IF_ERROR(file_->write(ib, block_buf_));
    BlockEntry e;
    e.bid = bid;
    e.offset = ib;
    e.stored_size = cb;
    e.inflated_size = cb;
    e.ref_count = 2;  // the BBT's own reference plus the caller's (MS-PST 2.2.2.7.7.3.1)
    return bbt_->put_block(e);
  }

  // A data block of a tree being built and its size.
  struct Leaf {
    Bid bid;
    uint64_t size;
  };

  Result<Bid> write_data_tree(const std::vector<Bytes>& blocks) override {
    if (blocks.empty()) return Bid{0};
    if (blocks.size() == 1) return write_block(blocks[0], false);
    std::vector<Leaf> leaves;
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (i + 1 < blocks.size() && blocks[i].size() != max_data_block()) {
        return Status::invalid_argument("data block " + std::to_string(i) + " is not full");
      }
      PSTKIT_ASSIGN_OR_RETURN(Bid b, write_block(blocks[i], false));
      leaves.push_back({b, blocks[i].size()});
    }
    return write_tree_over(leaves);
  }

  Result<Bid> write_data_tree_over(const std::vector<Bid>& blocks) override {
    if (blocks.empty()) return Bid{0};
    if (blocks.size() == 1) return blocks[0];
    std::vector<Leaf> leaves;
    leaves.reserve(blocks.size());
    for (Bid b : blocks) {
      if (bid_is_internal(b)) return Status::invalid_argument("data tree over internal block " + hex(b));
      PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(b));
      leaves.push_back({e.bid, e.inflated_size});
    }
    return write_tree_over(leaves);
  }

  Result<Bid> rewrite_data_tree(Bid old_data_bid, size_t block_count,
                                const std::map<size_t, Bytes>& changed) override {
    DataTree old;
    if (old_data_bid != 0) {
      PSTKIT_ASSIGN_OR_RETURN(old, load_data_tree(h_, old_data_bid, [this](Bid b) { return read_block(b); }));
    }
    if (!changed.empty() && changed.rbegin()->first >= block_count) {
      return Status::invalid_argument("rewrite_data_tree: block " + std::to_string(changed.rbegin()->first) +
                                      " past the new count " + std::to_string(block_count));
    }
    if (block_count == 0) return Bid{0};
    std::vector<Bid> leaves;
    leaves.reserve(block_count);
    std::map<size_t, uint64_t> new_sizes;  // of the blocks written now
    for (size_t i = 0; i < block_count; ++i) {
      auto it = changed.find(i);
      if (it != changed.end()) {
        if (it->second.size() > max_data_block()) {
          return Status::invalid_argument("data block " + std::to_string(i) + " exceeds a block");
        }
        PSTKIT_ASSIGN_OR_RETURN(Bid b, write_block(it->second, false));
        leaves.push_back(b);
        new_sizes[i] = it->second.size();
        continue;
      }
      if (i >= old.leaves.size()) {
        return Status::invalid_argument("rewrite_data_tree: block " + std::to_string(i) +
                                        " is neither given nor in the old stream of " +
                                        std::to_string(old.leaves.size()));
      }
      share_leaf(old.leaves[i]);  // now referenced by the old and the new tree
      leaves.push_back(old.leaves[i]);
    }
    if (leaves.size() == 1) {
      // A lone block is the tree: its size is needed nowhere.
      return leaves[0];
    }
    // The size of each XBLOCK's span, from the old XBLOCKs' lcbTotal where
    // a span starts where an old one did, so that an unchanged block is not
    // looked up in the BBT: a contents table's row matrix keeps all but its
    // last block from one commit to the next, and looking each up made
    // every commit load BBT pages in proportion to the folder's size.
    const size_t per_x = (max_data_block() - 8) / h_.bid_size;
    std::vector<uint64_t> spans;
    for (size_t first = 0; first < leaves.size(); first += per_x) {
      const size_t end = std::min(leaves.size(), first + per_x);
      PSTKIT_ASSIGN_OR_RETURN(uint64_t total, span_size(old, first, end, new_sizes, old_data_bid));
      spans.push_back(total);
    }
    return write_tree_over(leaves, spans);
  }

  // The bytes in leaves [first, end) of a rewritten tree: the new blocks'
  // sizes (new_sizes), and for the blocks kept from `old`, the lcbTotal of
  // the old XBLOCK that starts at `first` less its blocks that were replaced
  // or dropped; without such an XBLOCK, each kept block's BBT entry.
  Result<uint64_t> span_size(const DataTree& old, size_t first, size_t end, const std::map<size_t, uint64_t>& new_sizes,
                             Bid old_data_bid) const {
    uint64_t total = 0;
    for (auto it = new_sizes.lower_bound(first); it != new_sizes.end() && it->first < end; ++it) total += it->second;
    auto chunk = std::find_if(old.chunks.begin(), old.chunks.end(),
                              [&](const DataTree::Chunk& c) { return c.first == first; });
    if (chunk == old.chunks.end() || chunk->first + chunk->count > old.leaves.size()) {
      for (size_t i = first; i < end && i < old.leaves.size(); ++i) {
        if (new_sizes.count(i) != 0) continue;
        PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(old.leaves[i]));
        total += e.inflated_size;
      }
      return total;
    }
    uint64_t kept = chunk->total;
    for (size_t i = chunk->first; i < chunk->first + chunk->count; ++i) {
      if (i < end && new_sizes.count(i) == 0) continue;
      PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(old.leaves[i]));
      if (e.inflated_size > kept) {
        return Status::corrupt("data tree", Status::kNoOffset,
                               hex(old_data_bid) + ": an XBLOCK's lcbTotal is less than its blocks hold");
      }
      kept -= e.inflated_size;
    }
    // Kept blocks past that XBLOCK's span (a tree whose XBLOCKs are not
    // full): looked up.
    for (size_t i = chunk->first + chunk->count; i < end && i < old.leaves.size(); ++i) {
      if (new_sizes.count(i) != 0) continue;
      PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(old.leaves[i]));
      kept += e.inflated_size;
    }
    return total + kept;
  }

  Result<Bid> append_data_tree(Bid data_bid, ByteView more) override {
    if (more.empty()) return Status::invalid_argument("nothing to append to data tree " + hex(data_bid));
    PSTKIT_ASSIGN_OR_RETURN(DataTree tree, load_data_tree(h_, data_bid, [this](Bid b) { return read_block(b); }));
    const size_t max = max_data_block();
    std::vector<Leaf> leaves;
    Bytes tail;  // the old stream's last leaf when it is not full: rewritten with `more`
    for (size_t i = 0; i < tree.leaves.size(); ++i) {
      PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(tree.leaves[i]));
      if (e.inflated_size == max) {
        // MS-PST 2.2.2.7.7.3.1: the new tree shares the full leaf.
        share_leaf(tree.leaves[i]);
        leaves.push_back({tree.leaves[i], max});
      } else if (i + 1 == tree.leaves.size()) {
        PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, read_block(e.bid));
        tail = *b;
      } else {
        return Status::corrupt("data tree", Status::kNoOffset,
                               "leaf " + std::to_string(i) + " of " + hex(data_bid) + " is not full");
      }
    }
    tail.insert(tail.end(), more.data(), more.data() + more.size());
    for (size_t at = 0; at < tail.size(); at += max) {
      const size_t n = std::min(max, tail.size() - at);
      PSTKIT_ASSIGN_OR_RETURN(Bid b, write_block(ByteView(tail.data() + at, n), false));
      leaves.push_back({b, n});
    }
    if (leaves.size() == 1) return leaves[0].bid;
    return write_tree_over(leaves);
  }

  // MS-PST 2.2.2.8.3.2: the XBLOCK (or XBLOCKs and an XXBLOCK) over leaves,
  // whose references move into the tree.
  Result<Bid> write_tree_over(const std::vector<Leaf>& leaves) {
    const size_t per_x = (max_data_block() - 8) / h_.bid_size;
    std::vector<Bid> bids;
    std::vector<uint64_t> spans;
    bids.reserve(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (i % per_x == 0) spans.push_back(0);
      spans.back() += leaves[i].size;
      bids.push_back(leaves[i].bid);
    }
    return write_tree_over(bids, spans);
  }

  // The same over leaves whose XBLOCK spans (per_x leaves each, the last
  // one shorter) hold span_sizes bytes.
  Result<Bid> write_tree_over(const std::vector<Bid>& leaves, const std::vector<uint64_t>& span_sizes) {
    const size_t per_x = (max_data_block() - 8) / h_.bid_size;
    if (span_sizes.size() != (leaves.size() + per_x - 1) / per_x) {
      return Status::invalid_argument("write_tree_over: " + std::to_string(span_sizes.size()) + " span sizes for " +
                                      std::to_string(leaves.size()) + " blocks");
    }
    auto write_x = [&](uint8_t level, const Bid* kids, size_t count, uint64_t total) -> Result<Bid> {
      if (total > 0xFFFFFFFFull) return Status::unsupported("data stream over 4 GiB");
      Bytes x(8 + count * h_.bid_size);
      // MS-PST 2.2.2.8.3.2 XBLOCK/XXBLOCK: btype, cLevel, cEnt, lcbTotal, rgbid.
      x[0] = kBlockTypeXBlock;
      x[1] = level;
      store_le16(x.data() + 2, uint16_t(count));
      store_le32(x.data() + 4, uint32_t(total));
      for (size_t i = 0; i < count; ++i) {
        if (h_.bid_size == 4) {
          store_le32(x.data() + 8 + 4 * i, uint32_t(kids[i]));
        } else {
          store_le64(x.data() + 8 + 8 * i, kids[i]);
        }
      }
      return write_block(x, true);
    };
    if (leaves.size() <= per_x) return write_x(1, leaves.data(), leaves.size(), span_sizes[0]);
    std::vector<Bid> xblocks;
    uint64_t total = 0;
    for (size_t i = 0, span = 0; i < leaves.size(); i += per_x, ++span) {
      PSTKIT_ASSIGN_OR_RETURN(Bid xb, write_x(1, leaves.data() + i, std::min(per_x, leaves.size() - i), span_sizes[span]));
      xblocks.push_back(xb);
      total += span_sizes[span];
    }
    if (xblocks.size() > per_x) return Status::unsupported("data stream too large for an XXBLOCK");
    return write_x(2, xblocks.data(), xblocks.size(), total);
  }

  Result<Bid> write_subnode_tree(std::vector<SubnodeEntry> entries) override {
    if (entries.empty()) return Bid{0};
    std::sort(entries.begin(), entries.end(), [](const SubnodeEntry& a, const SubnodeEntry& b) { return a.nid < b.nid; });
    const bool ansi = h_.format == FileFormat::kAnsi;
    const size_t head = ansi ? 4 : 8;
    const size_t sl = ansi ? 12 : 24, si = ansi ? 8 : 16;
    const size_t per_sl = (max_data_block() - head) / sl;
    const size_t per_si = (max_data_block() - head) / si;
    auto put_bid = [&](uint8_t* p, uint64_t v) {
      if (ansi) {
        store_le32(p, uint32_t(v));
      } else {
        store_le64(p, v);
      }
    };
    // MS-PST 2.2.2.8.3.3.1 SLBLOCK: btype 2, cLevel 0, cEnt, (padding), SLENTRY[].
    auto write_sl = [&](size_t from, size_t to) -> Result<Bid> {
      Bytes b(head + (to - from) * sl, 0);
      b[0] = kBlockTypeSubnode;
      b[1] = 0;
      store_le16(b.data() + 2, uint16_t(to - from));
      for (size_t i = from; i < to; ++i) {
        uint8_t* e = b.data() + head + (i - from) * sl;
        put_bid(e, entries[i].nid);
        put_bid(e + sl / 3, entries[i].data_bid);
        put_bid(e + 2 * sl / 3, entries[i].subnode_bid);
      }
      return write_block(b, true);
    };
    if (entries.size() <= per_sl) return write_sl(0, entries.size());
    std::vector<std::pair<Nid, Bid>> children;
    for (size_t i = 0; i < entries.size(); i += per_sl) {
      PSTKIT_ASSIGN_OR_RETURN(Bid b, write_sl(i, std::min(entries.size(), i + per_sl)));
      children.emplace_back(entries[i].nid, b);
    }
    if (children.size() > per_si) return Status::unsupported("too many subnodes for one SIBLOCK");
    // MS-PST 2.2.2.8.3.3.2 SIBLOCK: btype 2, cLevel 1, SIENTRY{nid, bid}.
    Bytes b(head + children.size() * si, 0);
    b[0] = kBlockTypeSubnode;
    b[1] = 1;
    store_le16(b.data() + 2, uint16_t(children.size()));
    for (size_t i = 0; i < children.size(); ++i) {
      uint8_t* e = b.data() + head + i * si;
      put_bid(e, children[i].first);
      put_bid(e + si / 2, children[i].second);
    }
    return write_block(b, true);
  }

  // A reference a rewritten data tree takes on a block of the tree it
  // replaces, which is live, so nothing is looked up. It reaches the BBT at
  // commit, unless (the usual case) the old tree's release in the same
  // transaction cancels it: then that block's BBT entry and page are not
  // touched at all. Without this, rewriting a contents table's row matrix
  // loaded, changed and changed back one BBT page per block of the matrix
  // at every commit, so memory and time per commit grew with the folder.
  void share_leaf(Bid bid) {
    ++shared_leaves_[bid_key(bid)];
    changed_ = true;
  }
  uint32_t pending_shares(Bid bid) const {
    auto it = shared_leaves_.find(bid_key(bid));
    return it == shared_leaves_.end() ? 0 : it->second;
  }
  // Puts the references share_leaf took and no release cancelled into the BBT.
  Status apply_shared_leaves() {
    for (const auto& [key, count] : shared_leaves_) {
      PSTKIT_ASSIGN_OR_RETURN(auto e, bbt_->find_block(key));
      if (!e) return Status::not_found("block " + hex(key) + ", shared by a rewritten data tree, is not in the BBT");
      if (uint32_t(e->ref_count) + count > 0xFFFF) {
        return Status::unsupported("reference count overflow on block " + hex(key));
      }
      e->ref_count = uint16_t(e->ref_count + count);
      PSTKIT_RETURN_IF_ERROR(bbt_->put_block(*e));
    }
    shared_leaves_.clear();
    return Status::ok();
  }

  Status add_ref(Bid bid) override {
    PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(bid));
    if (e.ref_count == 0xFFFF) return Status::unsupported("reference count overflow on block " + hex(bid));
    ++e.ref_count;
    changed_ = true;
    return bbt_->put_block(e);
  }

  Status release(Bid bid) override {
    if (bid == 0) return Status::ok();
    if (auto shared = shared_leaves_.find(bid_key(bid)); shared != shared_leaves_.end()) {
      // A reference a rewritten tree took in this transaction: the two
      // cancel out and the BBT entry stays as it is.
      changed_ = true;
      if (--shared->second == 0) shared_leaves_.erase(shared);
      return Status::ok();
    }
    PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(bid));
    changed_ = true;
    if (e.ref_count > 2) {
      --e.ref_count;
      return bbt_->put_block(e);
    }
    // Last reference: free the block and what it references.
    if (bid_is_internal(e.bid)) {
      PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, read_block(e.bid));
      PSTKIT_RETURN_IF_ERROR(release_children(e.bid, *b));
    }
    PSTKIT_RETURN_IF_ERROR(bbt_->erase(bid_key(e.bid)));
    if (bid_key(e.bid) >= std::max(committed_.bid_next_b, first_written_bid_)) {
      // Written by this transaction (BIDs only grow; first_written_bid_
      // covers a file whose bidNextB lags its newest block): no committed state,
      // hence no reader, uses it, so it is reused at once. Without this, a
      // table written again and again within one transaction (a client
      // reading its folder between the saves of a batch) left a copy per
      // write in the file.
      amap_.free_now(e.offset, block_disk_size(h_, e.stored_size));
    } else {
      amap_.free_later(e.offset, block_disk_size(h_, e.stored_size));
    }
    if (deleting_) deleted_now_.emplace_back(e.offset, block_disk_size(h_, e.stored_size));
    std::lock_guard<std::mutex> lock(mu_);
    blocks_.erase(bid_key(e.bid));
    return Status::ok();
  }

  Status release_children(Bid bid, const Bytes& data) {
    const ByteView v(data);
    if (!v.has(0, 4)) return Status::corrupt("internal block", Status::kNoOffset, hex(bid) + " is too short");
    const bool ansi = h_.format == FileFormat::kAnsi;
    auto get_bid = [&](size_t at) -> Bid { return ansi ? Bid(v.u32(at)) : v.u64(at); };
    const uint16_t count = v.u16(2);
    if (v.u8(0) == kBlockTypeXBlock) {
      for (size_t i = 0; i < count && v.has(8 + i * h_.bid_size, h_.bid_size); ++i) {
        PSTKIT_RETURN_IF_ERROR(release(get_bid(8 + i * h_.bid_size)));
      }
      return Status::ok();
    }
    if (v.u8(0) == kBlockTypeSubnode) {
      const size_t head = ansi ? 4 : 8;
      if (v.u8(1) == 0) {
        const size_t sl = ansi ? 12 : 24;
        for (size_t i = 0; i < count && v.has(head + i * sl, sl); ++i) {
          const size_t at = head + i * sl;
          PSTKIT_RETURN_IF_ERROR(release(get_bid(at + sl / 3)));
          PSTKIT_RETURN_IF_ERROR(release(get_bid(at + 2 * sl / 3)));
        }
      } else {
        const size_t si = ansi ? 8 : 16;
        for (size_t i = 0; i < count && v.has(head + i * si, si); ++i) {
          PSTKIT_RETURN_IF_ERROR(release(get_bid(head + i * si + si / 2)));
        }
      }
      return Status::ok();
    }
    return Status::corrupt("internal block", Status::kNoOffset, hex(bid) + " has unknown btype " + hex(v.u8(0)));
  }

  Status put_node(const NodeEntry& entry) override {
    PSTKIT_ASSIGN_OR_RETURN(auto old, nbt_->find_node(entry.nid));
    changed_ = true;
    PSTKIT_RETURN_IF_ERROR(nbt_->put_node(entry));
    if (old) {
      if (old->data_bid != entry.data_bid) PSTKIT_RETURN_IF_ERROR(release(old->data_bid));
      if (old->subnode_bid != entry.subnode_bid) PSTKIT_RETURN_IF_ERROR(release(old->subnode_bid));
    }
    return Status::ok();
  }

  Status delete_node(Nid nid) override {
    PSTKIT_ASSIGN_OR_RETURN(auto old, nbt_->find_node(nid));
    if (!old) return Status::not_found("node " + hex(nid) + " is not in the NBT");
    changed_ = true;
    PSTKIT_RETURN_IF_ERROR(nbt_->erase(nid));
    // What a deleted node held is wiped at close even if the last commit
    // freed it (see wipe_deferred).
    deleting_ = true;
    Status s = release(old->data_bid);
    if (s.is_ok()) s = release(old->subnode_bid);
    deleting_ = false;
    return s;
  }

  // ---- commit

  Status commit() override {
    if (!changed_ && !force_commit_) return Status::ok();
    if (!holds_writer_lock_) {
      return Status::io_error(path_ + ": the writer lock was given up and not taken again; nothing was written");
    }
    Status s = do_commit();
    if (!s.is_ok()) {
      // Finish or undo what the journal describes (the header decides),
      // then continue from whichever state the file is in. If even that
      // fails, the journal stays and the next writer recovers.
      if (env_->exists(journal_path(path_))) {
        auto recovered = recover_from_journal(env_, path_, file_.get());
        if (recovered && *recovered == JournalState::kRolledForward) {
          // The header had landed: the commit happened.
          finish_commit();
          return Status::ok();
        }
      }
      (void)rollback();
    }
    return s;
  }

  Status do_commit() {
    auto write_page = [this](uint8_t type, Bytes page) -> Result<Bref> {
      Bref ref;
      ref.ib = amap_.allocate(512, 512);
      ref.bid = h_.bid_next_p++;
      seal_page(h_, type, page, ref, true);
      PSTKIT_RETURN_IF_ERROR(file_->write(ref.ib, page));
      return ref;
    };
    // A page the new trees no longer use leaves the page cache too: with
    // copy-on-write every commit replaces the pages on the paths it changed,
    // and their old copies, never looked up again, otherwise stayed cached
    // until the cache was full.
    auto release_page = [this](const Bref& old) {
      amap_.free_later(old.ib, 512);
      std::lock_guard<std::mutex> lock(mu_);
      pages_.erase(old.ib);
    };
    // A changed page whose bytes, sealed for its old place, are those already
    // there (byte for byte: a damaged or foreign-formatted page is written
    // anew) stays where it is.
    auto keep_page = [this](uint8_t type, const Bytes& page, const Bref& old) {
      Bytes sealed = page;
      seal_page(h_, type, sealed, old, true);
      Bytes on_disk(sealed.size());
      return file_->read(old.ib, on_disk.size(), on_disk.data()).is_ok() && on_disk == sealed;
    };
    PSTKIT_RETURN_IF_ERROR(apply_shared_leaves());
    // The BBT goes last: committing the NBT allocates only pages, never blocks.
    PSTKIT_ASSIGN_OR_RETURN(h_.nbt_root, nbt_->commit(write_page, release_page, keep_page));
    PSTKIT_ASSIGN_OR_RETURN(h_.bbt_root, bbt_->commit(write_page, release_page, keep_page));
    Bytes dlist;
    if (has_dlist_) {
      // The DList carries a page BID of its own, taken before the header is sealed.
      dlist_bid_ = h_.bid_next_p++;
    }
    freed_now_ = amap_.apply_frees();

    const uint64_t regions = amap_.region_count();
    h_.file_eof = amap_.file_end();
    h_.amap_last = region_offset(regions - 1);
    h_.amap_free = amap_.free_bytes();
    h_.pmap_free = 0;
    h_.amap_valid = 2;
    ++h_.unique;
    Bytes header = raw_header_;
    encode_header(h_, header);
    if (has_dlist_) dlist = make_dlist_page();

    // 1. Journal every region overwritten in place, old and new bytes; the
    // header first.
    Journal journal;
    journal.old_size = committed_.file_eof;
    journal.new_size = h_.file_eof;
    auto save = [&](uint64_t offset, Bytes new_bytes) -> Status {
      JournalRecord r;
      r.offset = offset;
      r.old_bytes.resize(new_bytes.size());
      PSTKIT_RETURN_IF_ERROR(file_->read(offset, r.old_bytes.size(), r.old_bytes.data()));
      r.new_bytes = std::move(new_bytes);
      journal.records.push_back(std::move(r));
      return Status::ok();
    };
    PSTKIT_RETURN_IF_ERROR(save(0, header));
    if (has_dlist_) PSTKIT_RETURN_IF_ERROR(save(kDListOffset, dlist));
    std::vector<std::pair<uint64_t, Bytes>> amaps;
    for (uint64_t r : amap_.dirty_regions()) {
      amaps.emplace_back(r, amap_page(r));
      if (r < committed_regions_) PSTKIT_RETURN_IF_ERROR(save(region_offset(r), amaps.back().second));
    }
    PSTKIT_RETURN_IF_ERROR(write_journal(env_, path_, journal));

    // 2. New space: grow the file, write the new regions' map pages, and make
    // every new block and page durable before anything live changes.
    if (file_->size() < h_.file_eof) PSTKIT_RETURN_IF_ERROR(file_->truncate(h_.file_eof));
    for (uint64_t r = committed_regions_; r < regions; ++r) PSTKIT_RETURN_IF_ERROR(write_region_maps(r));
    PSTKIT_RETURN_IF_ERROR(file_->sync());

    // 3. In place, with other processes' pstkit readers kept out (each
    // reads one committed state for its lifetime): AMaps, DList, and the
    // header, whose write is the commit point; then make them durable and
    // drop the journal.
    PSTKIT_RETURN_IF_ERROR(file_->lock(FileLock::kReaders, LockMode::kExclusive, wait_));
    Status s = write_in_place(amaps, dlist, header);
    (void)file_->lock(FileLock::kReaders, LockMode::kUnlock, wait_);
    PSTKIT_RETURN_IF_ERROR(s);

    raw_header_ = std::move(header);
    finish_commit();
    // 4. Wipe what earlier commits of this session freed and no later one
    // reused (see wipe_deferred).
    (void)wipe_deferred();
    return Status::ok();
  }

  Status write_in_place(const std::vector<std::pair<uint64_t, Bytes>>& amaps, const Bytes& dlist,
                        const Bytes& header) {
    for (const auto& [r, page] : amaps) PSTKIT_RETURN_IF_ERROR(file_->write(region_offset(r), page));
    if (has_dlist_) PSTKIT_RETURN_IF_ERROR(file_->write(kDListOffset, dlist));
    PSTKIT_RETURN_IF_ERROR(file_->write(0, header));
    PSTKIT_RETURN_IF_ERROR(file_->sync());
    return remove_journal(env_, path_);
  }

  // The in-memory side of a commit that happened.
  void finish_commit() {
    if (!raw_header_.empty()) {
      Bytes head(raw_header_.size());
      if (file_->read(0, head.size(), head.data()).is_ok()) raw_header_ = std::move(head);
    }
    committed_ = h_;
    committed_regions_ = amap_.region_count();
    amap_.clear_dirty();
    amap_.mark_regions_written();
    changed_ = false;
    force_commit_ = false;
    amap_.set_quiet(recent_frees_.add(freed_now_));
    wipe_later_.push_back({std::chrono::steady_clock::now(), std::move(freed_now_)});
    freed_now_.clear();
    deleted_.insert(deleted_.end(), deleted_now_.begin(), deleted_now_.end());
    deleted_now_.clear();
  }

  // Freed space is zeroed so that deleted content does not linger in the
  // file and recovery tools do not resurrect stale versions of tables, but
  // late: a reader without pstkit's locks (libpff, readpst, Outlook) that
  // opened the state before a commit still reads the blocks and pages that
  // commit freed. So what a commit freed is wiped by a later commit or the
  // close of the same writer once the quiet time has passed; what deleted nodes
  // held is wiped at close in any case. Each extent is wiped only if it is
  // still free, and not quiet now: another writer may have used the space
  // and freed it again since, lately enough that a lock-less reader of its
  // state still reads it (the shared record of recent frees says so; a
  // writer holding the lock has read it since any other commit). Free space
  // needs no journal or sync.
  Status wipe_deferred() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<RecentFrees::Extent> quiet;
    bool quiet_loaded = false;
    auto quiet_now = [&](uint64_t offset, uint64_t size) {
      if (!quiet_loaded) {
        quiet = recent_frees_.quiet();
        std::sort(quiet.begin(), quiet.end());
        quiet_loaded = true;
      }
      // The first quiet extent ending after offset overlaps when it starts before offset + size.
      auto it = std::lower_bound(quiet.begin(), quiet.end(), offset, [](const RecentFrees::Extent& e, uint64_t at) {
        return e.first + e.second <= at;
      });
      return it != quiet.end() && it->first < offset + size;
    };
    while (!wipe_later_.empty() && now - wipe_later_.front().first >= options_.freed_space_quiet_time) {
      for (const auto& [offset, size] : wipe_later_.front().second) {
        if (!amap_.is_free(offset, size) || quiet_now(offset, size)) continue;
        PSTKIT_RETURN_IF_ERROR(zero(offset, size));
      }
      wipe_later_.erase(wipe_later_.begin());
    }
    return Status::ok();
  }

  Status zero(uint64_t offset, uint64_t size) {
    static const Bytes zeros(8192, 0);
    for (uint64_t done = 0; done < size;) {
      const uint64_t n = std::min<uint64_t>(size - done, zeros.size());
      PSTKIT_RETURN_IF_ERROR(file_->write(offset + done, ByteView(zeros.data(), size_t(n))));
      done += n;
    }
    return Status::ok();
  }

  Result<bool> yield_to_other_writers() override {
    PSTKIT_RETURN_IF_ERROR(release_writer_lock());
    return reacquire_writer_lock();
  }

  bool holds_writer_lock() const override { return holds_writer_lock_; }

  Status release_writer_lock() override {
    if (changed_ || force_commit_) return Status::invalid_argument("release_writer_lock: uncommitted changes");
    if (!holds_writer_lock_) return Status::ok();
    PSTKIT_RETURN_IF_ERROR(file_->lock(FileLock::kWriter, LockMode::kUnlock, wait_));
    // Without the lock, nothing may be written (not even a wipe at close).
    holds_writer_lock_ = false;
    return Status::ok();
  }

  // Compares the header in the file with the one this state was loaded
  // from: every commit rewrites it (new B-tree roots, CRCs), so any commit
  // of another writer shows there. Read without a lock, a header torn by a
  // commit's in-place write differs too, which only costs a reload.
  Result<bool> changed_by_other_writer() const override {
    if (holds_writer_lock_) return false;
    Bytes head(raw_header_.size());
    PSTKIT_RETURN_IF_ERROR(file_->read(0, head.size(), head.data()));
    return head != raw_header_;
  }

  Result<bool> reacquire_writer_lock() override {
    if (holds_writer_lock_) return false;
    // Another writer may grow the file: a fresh descriptor sees its size.
    // Or replace it (`pstkit repair` renames a new file over path): the
    // file at path is opened again, as in open().
    std::unique_ptr<WritableFile> file;
    bool replaced = false;
    for (int attempt = 0;; ++attempt) {
      PSTKIT_ASSIGN_OR_RETURN(file, env_->open(path_, OpenMode::kExisting));
      PSTKIT_RETURN_IF_ERROR(file->lock(FileLock::kWriter, LockMode::kExclusiveAfterWaiters, wait_));
      PSTKIT_ASSIGN_OR_RETURN(const bool moved, file->replaced_at_path());
      if (!moved) break;
      replaced = true;
      if (attempt == 8) {
        return Status::io_error(path_ + ": replaced by another process again and again while waiting for its writer lock");
      }
    }
    holds_writer_lock_ = true;
    file_ = std::make_unique<CoalescingFile>(std::move(file));
    source_ = FileByteSource(file_.get());
    PSTKIT_ASSIGN_OR_RETURN(JournalState js, recover_from_journal(env_, path_, file_.get()));
    Bytes head(std::min<uint64_t>(file_->size(), raw_header_.size()));
    PSTKIT_RETURN_IF_ERROR(file_->read(0, head.size(), head.data()));
    if (!replaced && js == JournalState::kNone && head == raw_header_ && file_->size() == committed_.file_eof) {
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks_ = LruCache<Bytes>(options_.read.cache_bytes);
      pages_ = LruCache<BTreePage>(size_t{2} << 20);
    }
    PSTKIT_RETURN_IF_ERROR(load(false));
    return true;
  }

  Bytes amap_page(uint64_t region) const {
    Bytes page(512, 0);
    const Bytes body = amap_.amap_body(region);
    const size_t at = h_.format == FileFormat::kAnsi ? 4 : 0;
    std::memcpy(page.data() + at, body.data(), body.size());
    // Map pages use their own offset as BID and no signature (MS-PST 2.2.2.7.1).
    seal_page(h_, kPageAMap, page, Bref{region_offset(region), region_offset(region)}, false);
    return page;
  }

  Status write_amap(uint64_t region) { return file_->write(region_offset(region), amap_page(region)); }

  Status write_region_maps(uint64_t region) {
    const RegionLayout l = region_layout(region);
    uint64_t at = region_offset(region) + 512;
    const size_t body_at = h_.format == FileFormat::kAnsi ? 4 : 0;
    auto write_map = [&](uint8_t type, uint8_t fill) -> Status {
      Bytes page(512, 0);
      std::fill(page.begin() + long(body_at), page.begin() + long(body_at + 496), fill);
      seal_page(h_, type, page, Bref{at, at}, false);
      PSTKIT_RETURN_IF_ERROR(file_->write(at, page));
      at += 512;
      return Status::ok();
    };
    // Deprecated maps (MS-PST 2.2.2.7.3-6): present with valid CRCs; their
    // contents claim no free space, so old clients fall back to the AMaps.
    if (l.has_pmap) PSTKIT_RETURN_IF_ERROR(write_map(kPagePMap, 0xFF));
    if (l.has_fmap) PSTKIT_RETURN_IF_ERROR(write_map(kPageFMap, 0x00));
    if (l.has_fpmap) PSTKIT_RETURN_IF_ERROR(write_map(kPageFPMap, 0xFF));
    return write_amap(region);
  }

  // MS-PST 2.2.2.7.4 DList: AMap pages by free space, most free first.
  Bytes make_dlist_page() {
    Bytes page(512, 0);
    const bool ansi = h_.format == FileFormat::kAnsi;
    const size_t max_entries = (ansi ? 480 : 476) / 4;
    std::vector<std::pair<uint64_t, uint64_t>> entries;  // free slots, region
    for (uint64_t r = 0; r < amap_.region_count(); ++r) {
      const uint64_t free = amap_.free_slots(r);
      if (free > 0) entries.emplace_back(free, r);
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (entries.size() > max_entries) entries.resize(max_entries);
    page[0] = kDListFlagBackfillComplete;
    page[1] = uint8_t(entries.size());
    store_le32(page.data() + 4, uint32_t(amap_.region_count() - 1));
    for (size_t i = 0; i < entries.size(); ++i) {
      store_le32(page.data() + 8 + 4 * i, uint32_t(entries[i].second & 0xFFFFF) | uint32_t(entries[i].first << 20));
    }
    seal_page(h_, kPageDList, page, Bref{dlist_bid_, kDListOffset}, true);
    return page;
  }

  Status rollback() override {
    // Uncommitted blocks and pages only used space that is free in the
    // committed state: reloading that state is enough.
    h_ = committed_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks_ = LruCache<Bytes>(options_.read.cache_bytes);
      pages_ = LruCache<BTreePage>(size_t{2} << 20);
    }
    reset_trees();
    shared_leaves_.clear();
    std::vector<Bytes> bodies;
    for (uint64_t r = 0; r < committed_regions_; ++r) {
      Bytes page(512);
      PSTKIT_RETURN_IF_ERROR(file_->read(region_offset(r), 512, page.data()));
      const size_t at = h_.format == FileFormat::kAnsi ? 4 : 0;
      bodies.emplace_back(page.begin() + long(at), page.begin() + long(at + 496));
    }
    amap_ = AllocationMap::from_pages(std::move(bodies));
    amap_.clear_dirty();
    amap_.set_quiet(recent_frees_.quiet());
    changed_ = false;
    deleted_now_.clear();
    if (file_->size() > committed_.file_eof) PSTKIT_RETURN_IF_ERROR(file_->truncate(committed_.file_eof));
    return Status::ok();
  }

  RecoveryReport recovery_;

 private:
  Env* env_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
  FileByteSource source_;
  WriterOptions options_;
  Header committed_;
  Header h_;
  Bytes raw_header_;
  AllocationMap amap_;
  Bytes block_buf_;
  Bid first_written_bid_ = ~Bid{0};  // the first BID this writer's loaded state did not hold
  RecentFrees recent_frees_{path_, options_.freed_space_quiet_time};
  uint64_t committed_regions_ = 0;
  std::unique_ptr<BTreeWriter> nbt_, bbt_;
  // References share_leaf took in this transaction, by BID key: not in the
  // BBT yet (find_block and for_each_block count them).
  std::unordered_map<uint64_t, uint32_t> shared_leaves_;
  bool changed_ = false;
  bool force_commit_ = false;
  bool has_dlist_ = false;
  Bid dlist_bid_ = 0;
  LockWait wait_;
  bool holds_writer_lock_ = true;
  // Blocks of nodes deleted in the transaction in progress, and by this
  // session's commits.
  bool deleting_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> deleted_now_, deleted_;
  // Extents freed by the commit in progress, and by each earlier commit of
  // this session with when it committed, oldest first, not wiped yet.
  std::vector<std::pair<uint64_t, uint64_t>> freed_now_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::vector<std::pair<uint64_t, uint64_t>>>>
      wipe_later_;
  mutable std::mutex mu_;
  mutable LruCache<BTreePage> pages_;
  mutable LruCache<Bytes> blocks_;
};

// Lays out an empty file: header, DList, the first region's AMap and PMap,
// and empty NBT and BBT leaf roots.
Status write_empty_file(const Header& base, Bytes raw_header, WritableFile* f) {
  Header h = base;
  const uint64_t eof = region_offset(1);
  AllocationMap amap = AllocationMap::create(1);
  Bref nbt{0, 0}, bbt{0, 0};
  h.bid_next_p = 1;
  h.bid_next_b = 4;
  for (auto& n : h.nid_high_water) n = 0x400;
  // MS-PST 2.2.2.6 rgnid starting values.
  h.nid_high_water[kNidTypeNormalFolder] = 0x400;
  h.nid_high_water[kNidTypeSearchFolder] = 0x4000;
  h.nid_high_water[kNidTypeNormalMessage] = 0x10000;
  h.nid_high_water[kNidTypeAssocMessage] = 0x8000;
  PSTKIT_RETURN_IF_ERROR(f->truncate(eof));
  auto write_root = [&](uint8_t type, Bref& ref) -> Status {
    ref.ib = amap.allocate(512, 512);
    ref.bid = h.bid_next_p++;
    Bytes page = serialise_btree_page(h, type, 0, {}, {}, {}, ref);
    return f->write(ref.ib, page);
  };
  PSTKIT_RETURN_IF_ERROR(write_root(kPageNbt, nbt));
  PSTKIT_RETURN_IF_ERROR(write_root(kPageBbt, bbt));
  // PMap (all 0xFF, as Outlook writes it) and AMap of region 0.
  Bytes pmap(512, 0);
  const size_t body_at = h.format == FileFormat::kAnsi ? 4 : 0;
  std::fill(pmap.begin() + long(body_at), pmap.begin() + long(body_at + 496), 0xFF);
  seal_page(h, kPagePMap, pmap, Bref{region_offset(0) + 512, region_offset(0) + 512}, false);
  PSTKIT_RETURN_IF_ERROR(f->write(region_offset(0) + 512, pmap));
  Bytes amap_page(512, 0);
  const Bytes body = amap.amap_body(0);
  std::memcpy(amap_page.data() + body_at, body.data(), body.size());
  seal_page(h, kPageAMap, amap_page, Bref{region_offset(0), region_offset(0)}, false);
  PSTKIT_RETURN_IF_ERROR(f->write(region_offset(0), amap_page));
  // An empty DList; the first commit fills it in.
  Bytes dlist(512, 0);
  const Bid dlist_bid = h.bid_next_p++;
  seal_page(h, kPageDList, dlist, Bref{dlist_bid, kDListOffset}, true);
  PSTKIT_RETURN_IF_ERROR(f->write(kDListOffset, dlist));
  h.file_eof = eof;
  h.amap_last = region_offset(0);
  h.amap_free = amap.free_bytes();
  h.pmap_free = 0;
  h.nbt_root = nbt;
  h.bbt_root = bbt;
  h.amap_valid = 2;
  h.unique = 1;
  encode_header(h, raw_header);
  PSTKIT_RETURN_IF_ERROR(f->write(0, raw_header));
  return f->sync();
}

}  // namespace

Result<std::unique_ptr<WritableDatabase>> WritableDatabase::create(const std::string& path,
                                                                    const CreateOptions& options,
                                                                    const WriterOptions& writer) {
  if (options.format == FileFormat::kUnicode4k) return Status::unsupported("creating 4K-page OST files");
  Env* env = writer.env ? writer.env : Env::posix();
  PSTKIT_ASSIGN_OR_RETURN(auto file, env->open(path, OpenMode::kCreateNew));
  Bytes raw = new_header_bytes(options.format, options.crypt);
  Header h;
  h.format = options.format;
  h.ndb_version = options.format == FileFormat::kAnsi ? 14 : 23;
  h.client_version = 19;
  h.magic_client = 0x4D53;
  h.platform_create = h.platform_access = 1;
  h.crypt = options.crypt;
  h.bid_size = options.format == FileFormat::kAnsi ? 4 : 8;
  h.page_trailer_size = h.block_trailer_size = options.format == FileFormat::kAnsi ? 12 : 16;
  Status s = write_empty_file(h, raw, file.get());
  if (s.is_ok()) s = env->sync_dir_of(path);
  if (!s.is_ok()) {
    file.reset();
    (void)env->remove(path);
    return s;
  }
  auto w = std::make_unique<Writer>(env, path, std::move(file), writer);
  PSTKIT_RETURN_IF_ERROR(w->load(true));
  return std::unique_ptr<WritableDatabase>(std::move(w));
}

Result<std::unique_ptr<WritableDatabase>> WritableDatabase::open(const std::string& path, const WriterOptions& writer) {
  Env* env = writer.env ? writer.env : Env::posix();
  auto w = std::make_unique<Writer>(env, path, nullptr, writer);
  std::unique_ptr<WritableFile> file;
  // The writer lock comes before anything is read: the header, the journal.
  // A writer that waited for the lock while its holder renamed a new file
  // over path (`pstkit repair` does) would hold the lock of an unlinked
  // inode and write into it: it opens the file at path again instead.
  for (int attempt = 0;; ++attempt) {
    PSTKIT_ASSIGN_OR_RETURN(file, env->open(path, OpenMode::kExisting));
    PSTKIT_RETURN_IF_ERROR(file->lock(FileLock::kWriter, LockMode::kExclusive, w->lock_wait()));
    PSTKIT_ASSIGN_OR_RETURN(const bool replaced, file->replaced_at_path());
    if (!replaced) break;
    if (attempt == 8) {
      return Status::io_error(path + ": replaced by another process again and again while waiting for its writer lock");
    }
  }
  // Recovery writes exactly the bytes that readers of the pending journal
  // already see through it (ndb::committed_source), so they need not be
  // kept out.
  PSTKIT_ASSIGN_OR_RETURN(JournalState js, recover_from_journal(env, path, file.get()));
  w->adopt_file(std::move(file));
  w->recovery_.rolled_back_journal = js == JournalState::kRolledBack;
  w->recovery_.rolled_forward_journal = js == JournalState::kRolledForward;
  PSTKIT_RETURN_IF_ERROR(w->load(false));
  return std::unique_ptr<WritableDatabase>(std::move(w));
}

}  // namespace pstkit::ndb
