// The file-backed node database: B-tree lookups, block decoding, nodes.

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>

#include "ndb/block_database.h"
#include "ndb/btree_reader.h"
#include "ndb/byte_source.h"
#include "ndb/data_tree.h"
#include "ndb/following_database.h"
#include "ndb/inflate.h"
#include "ndb/journal.h"
#include "ndb/lru_cache.h"
#include "ndb/page.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {
namespace {

// A node read from the file: its data tree flattened to the list of leaf
// block BIDs, and its subnode tree loaded on first use.
class FileNode final : public Node {
 public:
  // block_db: the same database when it is a BlockDatabase (it then reads
  // adjacent blocks of the node together), else null.
  FileNode(const Database* db, const BlockDatabase* block_db, Nid nid, DataTree tree, Bid subnode_bid)
      : db_(db), block_db_(block_db), nid_(nid), tree_(std::move(tree)), subnode_bid_(subnode_bid) {}

  Nid id() const override { return nid_; }
  uint64_t size() const override { return tree_.total_size; }
  size_t block_count() const override { return tree_.leaves.size(); }
  Result<SharedBytes> block(size_t i) const override;
  Result<std::unique_ptr<Node>> subnode(Nid nid) const override;
  Result<std::vector<SubnodeEntry>> subnodes() const override;

 protected:
  Status read_blocks(size_t first, size_t count, uint64_t max_bytes, Bytes* out) const override;

 private:
  Status load_subnodes() const;

  const Database* db_;
  const BlockDatabase* block_db_;
  Nid nid_;
  DataTree tree_;
  Bid subnode_bid_;
  mutable bool subnodes_loaded_ = false;
  mutable std::vector<SubnodeEntry> subnodes_;  // sorted by nid
};

class DatabaseImpl final : public BlockDatabase {
 public:
  DatabaseImpl(std::unique_ptr<ByteSource> src, Header h, const Options& o) : BlockDatabase(std::move(src), h, o) {
    trees_.emplace(*src_, header_);
  }

  Result<NodeEntry> find_node(Nid nid) const override { return trees_->find_node(nid); }
  Result<BlockEntry> find_block(Bid bid) const override { return trees_->find_block(bid); }

  // Another committed state of the same file (FollowingDatabase). Cached
  // blocks stay valid: a BID names one block's content for good.
  void follow(std::unique_ptr<ByteSource> src, const Header& h) {
    trees_.reset();
    src_ = std::move(src);
    header_ = h;
    trees_.emplace(*src_, header_);
  }

  Status for_each_node(const std::function<bool(const NodeEntry&)>& visit) const override {
    return trees_->walk(kPageNbt, [&](const BTreePage& p) {
      for (const auto& e : p.nodes) {
        if (!visit(e)) return false;
      }
      return true;
    });
  }

  Status for_each_block(const std::function<bool(const BlockEntry&)>& visit) const override {
    return trees_->walk(kPageBbt, [&](const BTreePage& p) {
      for (const auto& e : p.blocks) {
        if (!visit(e)) return false;
      }
      return true;
    });
  }

 private:
  std::optional<BTreeReader> trees_;  // over src_ and header_, made again when they change
};

Result<SharedBytes> FileNode::block(size_t i) const {
  if (i >= tree_.leaves.size()) return Status::not_found("block index " + std::to_string(i));
  auto r = block_db_ ? block_db_->read_node_block(tree_.leaves.data() + i, tree_.leaves.size() - i)
                    : db_->read_block(tree_.leaves[i]);
  if (!r.is_ok()) return r.status().with_context("node " + hex(nid_));
  return r;
}

Status FileNode::read_blocks(size_t first, size_t count, uint64_t max_bytes, Bytes* out) const {
  if (!block_db_) return Node::read_blocks(first, count, max_bytes, out);
  return block_db_->read_node_stream(nid_, tree_.leaves.data() + first, count, max_bytes, out);
}

Status FileNode::load_subnodes() const {
  if (subnodes_loaded_) return Status::ok();
  PSTKIT_ASSIGN_OR_RETURN(subnodes_, load_subnode_tree(db_->header(), subnode_bid_,
                                                       [this](Bid b) { return db_->read_block(b); }));
  subnodes_loaded_ = true;
  return Status::ok();
}

Result<std::unique_ptr<Node>> FileNode::subnode(Nid nid) const {
  PSTKIT_RETURN_IF_ERROR(load_subnodes());
  auto it = std::lower_bound(subnodes_.begin(), subnodes_.end(), nid,
                             [](const SubnodeEntry& e, Nid k) { return e.nid < k; });
  if (it == subnodes_.end() || it->nid != nid) {
    return Status::not_found("subnode " + hex(nid) + " of node " + hex(nid_));
  }
  return db_->open_node(nid, it->data_bid, it->subnode_bid);
}

Result<std::vector<SubnodeEntry>> FileNode::subnodes() const {
  PSTKIT_RETURN_IF_ERROR(load_subnodes());
  return subnodes_;
}

}  // namespace

namespace {

// Per-thread scratch buffers, reused from block to block: no allocation and
// no zero fill per block. Each grows to the largest block it held (at most
// max_block_size, 64 KiB; kExtent at most kMaxExtentBytes) and stays there.
// Slot kRawBlock holds a block's on-disk form (data, padding, trailer),
// which is only checked and decoded, never kept; slot kCompressedPlain a
// compressed block decrypted before it is inflated (the raw block may lie
// in a caller's buffer, not ours to change); slot kExtent blocks lying back
// to back in the file, read together.
enum ScratchSlot { kRawBlock, kCompressedPlain, kExtent };
template <ScratchSlot>
uint8_t* scratch_buffer(size_t n) {
  thread_local Bytes buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// The size of block e decoded: inflated if compressed, else as stored.
size_t decoded_block_size(const Header& h, const BlockEntry& e) {
  return block_is_compressed(h, e) ? e.inflated_size : e.stored_size;
}

// A block's on-disk form against its BBT entry: size, trailer, CRC.
Status check_block(const Header& header_, const BlockEntry& e, ByteView disk_block, bool verify_crc) {
  const uint32_t max_data = header_.max_block_size - header_.block_trailer_size;
  const uint64_t disk = block_disk_size(header_, e.stored_size);
  if (e.stored_size > max_data || disk_block.size() != disk) {
    return Status::corrupt("block", e.offset,
                           "block " + hex(e.bid) + " of " + std::to_string(e.stored_size) + " bytes does not fit " +
                               std::to_string(disk_block.size()) + " bytes on disk");
  }
  const BlockTrailer t = read_block_trailer(header_, disk_block);
  if (t.cb != e.stored_size) {
    return Status::corrupt("block trailer", e.offset + disk - header_.block_trailer_size,
                           "block " + hex(e.bid) + " trailer size " + std::to_string(t.cb) + ", BBT says " +
                               std::to_string(e.stored_size));
  }
  if (bid_key(t.bid) != bid_key(e.bid)) {
    return Status::corrupt("block trailer", e.offset + disk - header_.block_trailer_size,
                           "trailer BID " + hex(t.bid) + ", BBT says " + hex(e.bid));
  }
  if (verify_crc) {
    const uint32_t crc = compute_crc(disk_block.data(), e.stored_size);
    if (crc != t.crc) {
      return Status::corrupt("block", e.offset,
                             "block " + hex(e.bid) + " CRC " + hex(crc) + " does not match trailer " + hex(t.crc));
    }
  }
  if (block_is_compressed(header_, e) && e.inflated_size > max_data) {
    return Status::corrupt("block", e.offset, "inflated size " + std::to_string(e.inflated_size) + " too large");
  }
  return Status::ok();
}

// The checked block's data (e.stored_size bytes at raw) decoded into out
// (decoded_block_size bytes): decrypted if external, inflated if
// compressed. An uncompressed block may be decoded in place (raw == out).
Status transform_block(const Header& header_, const BlockEntry& e, const uint8_t* raw, uint8_t* out) {
  const bool compressed = block_is_compressed(header_, e);
  // A compressed block is decrypted in a per-thread buffer first, then
  // inflated into out.
  uint8_t* plain = compressed ? scratch_buffer<kCompressedPlain>(e.stored_size) : out;
  if (plain != raw) std::memcpy(plain, raw, e.stored_size);
  // MS-PST 5: only external (data) blocks are encoded.
  if (!bid_is_internal(e.bid)) {
    if (header_.crypt == CryptMethod::kPermute) {
      decode_permute(plain, e.stored_size);
    } else if (header_.crypt == CryptMethod::kCyclic) {
      code_cyclic(plain, e.stored_size, uint32_t(e.bid));
    }
  }
  if (compressed) {
    // 4K-page OST blocks may be zlib-compressed (libpff PFF format).
    if (std::string why; !inflate_stream(plain, e.stored_size, out, e.inflated_size, &why)) {
      return Status::corrupt("compressed block", e.offset,
                             "block " + hex(e.bid) + " does not inflate to " + std::to_string(e.inflated_size) +
                                 " bytes (" + why + ")");
    }
  }
  return Status::ok();
}

// The checked block decoded at the end of out: its data copied and decoded
// in place (no zero fill first), or inflated into out. On failure out is
// as it was.
Status append_decoded(const Header& h, const BlockEntry& e, ByteView disk_block, Bytes* out) {
  const size_t at = out->size();
  const bool compressed = block_is_compressed(h, e);
  if (compressed) {
    out->resize(at + e.inflated_size);
  } else {
    out->insert(out->end(), disk_block.data(), disk_block.data() + e.stored_size);
  }
  Status s = transform_block(h, e, compressed ? disk_block.data() : out->data() + at, out->data() + at);
  if (!s.is_ok()) out->resize(at);
  return s;
}

}  // namespace

Result<SharedBytes> BlockDatabase::read_block(Bid bid) const {
  const Bid key = bid_key(bid);
  {
    std::lock_guard lock(mu_);
    if (auto hit = blocks_.get(key)) return hit;
  }
  PSTKIT_ASSIGN_OR_RETURN(Bytes data, load_block(bid));
  auto shared = std::make_shared<const Bytes>(std::move(data));
  std::lock_guard lock(mu_);
  blocks_.put(key, shared, shared_vector_bytes(*shared));
  return SharedBytes(shared);
}

Result<Bytes> BlockDatabase::load_block(Bid bid) const {
  PSTKIT_ASSIGN_OR_RETURN(BlockEntry e, find_block(bid));
  return read_block_from(header_, *src_, e, options_.verify_block_crc);
}

Result<std::unique_ptr<Node>> BlockDatabase::open_node(Nid nid) const {
  PSTKIT_ASSIGN_OR_RETURN(NodeEntry e, find_node(nid));
  return open_node(nid, e.data_bid, e.subnode_bid);
}

Result<std::unique_ptr<Node>> BlockDatabase::open_node(Nid nid, Bid data_bid, Bid subnode_bid) const {
  PSTKIT_ASSIGN_OR_RETURN(DataTree tree, load_data_tree(header_, data_bid, [this](Bid b) { return read_block(b); }));
  return std::unique_ptr<Node>(std::make_unique<FileNode>(this, this, nid, std::move(tree), subnode_bid));
}

std::unique_ptr<Node> make_file_node(const Database* db, Nid nid, DataTree tree, Bid subnode_bid) {
  return std::make_unique<FileNode>(db, nullptr, nid, std::move(tree), subnode_bid);
}

Result<SharedBytes> BlockDatabase::read_node_block(const Bid* bids, size_t count) const {
  const Bid first = bids[0];
  {
    std::lock_guard lock(mu_);
    if (auto hit = blocks_.get(bid_key(first))) return hit;
  }
  // The first block and those after it that are not cached, in order, while
  // they lie back to back in the file: one read instead of one per block.
  // (Per thread and reused: no allocation per block.)
  thread_local std::vector<BlockEntry> run;
  const uint64_t end = adjacent_blocks(bids, count, /*stop_at_cached=*/true, run);
  const auto keep = [this](const BlockEntry& e, Bytes data) {
    auto shared = std::make_shared<const Bytes>(std::move(data));
    std::lock_guard lock(mu_);
    blocks_.put(bid_key(e.bid), shared, shared_vector_bytes(*shared));
    return SharedBytes(shared);
  };
  // Whatever fails here is left to read_block, which reports it (or, for
  // salvage, finds another copy of the block).
  if (run.empty()) return read_block(first);
  if (run.size() == 1) {
    auto data = read_block_from(header_, *src_, run[0], options_.verify_block_crc);
    if (!data) return read_block(first);
    return keep(run[0], std::move(*data));
  }
  const uint64_t base = run.front().offset;
  const size_t len = size_t(end - base);
  uint8_t* extent = scratch_buffer<kExtent>(len);
  if (!src_->read(base, len, extent).is_ok()) return read_block(first);
  SharedBytes result;
  for (const BlockEntry& e : run) {
    const ByteView disk(extent + (e.offset - base), size_t(block_disk_size(header_, e.stored_size)));
    auto data = decode_block(header_, e, disk, options_.verify_block_crc);
    if (!data) {
      if (!result) return read_block(first);
      break;  // read again, alone, when asked for
    }
    SharedBytes kept = keep(e, std::move(*data));
    if (!result) result = std::move(kept);
  }
  return result;
}

uint64_t BlockDatabase::adjacent_blocks(const Bid* bids, size_t count, bool stop_at_cached,
                                        std::vector<BlockEntry>& run) const {
  run.clear();
  uint64_t end = 0;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0 && stop_at_cached) {
      std::lock_guard lock(mu_);
      if (blocks_.get(bid_key(bids[i]))) break;
    }
    auto e = find_block(bids[i]);
    if (!e) break;
    const uint64_t disk = block_disk_size(header_, e->stored_size);
    if (i > 0 && (e->offset != end || end - run.front().offset + disk > kMaxExtentBytes)) break;
    if (e->offset > src_->size() || disk > src_->size() - e->offset) break;
    end = e->offset + disk;
    run.push_back(*e);
  }
  return end;
}

Status BlockDatabase::read_node_stream(Nid nid, const Bid* bids, size_t count, uint64_t max_bytes,
                                       Bytes* out) const {
  const auto exceeds = [&] {
    return Status::corrupt("data tree", Status::kNoOffset,
                           "node " + hex(nid) + " blocks exceed the declared size");
  };
  thread_local std::vector<BlockEntry> run;
  size_t i = 0;
  while (i < count) {
    // Blocks back to back in the file are read together and decoded
    // straight into out.
    const uint64_t end = adjacent_blocks(bids + i, count - i, /*stop_at_cached=*/false, run);
    size_t decoded = 0;
    if (!run.empty()) {
      const uint64_t base = run.front().offset;
      const size_t len = size_t(end - base);
      uint8_t* extent = scratch_buffer<kExtent>(len);
      if (src_->read(base, len, extent).is_ok()) {
        for (const BlockEntry& e : run) {
          const ByteView disk(extent + (e.offset - base), size_t(block_disk_size(header_, e.stored_size)));
          // Checked first: the decoded size is bounded by the block size then.
          if (!check_block(header_, e, disk, options_.verify_block_crc).is_ok()) break;
          const size_t n = decoded_block_size(header_, e);
          if (out->size() + n > max_bytes) return exceeds();
          if (!append_decoded(header_, e, disk, out).is_ok()) break;
          ++decoded;
        }
      }
    }
    i += decoded;
    if (decoded == run.size() && !run.empty()) continue;
    // A block that could not be found, read or decoded here goes through
    // read_block, which reports it (or, for salvage, finds another copy).
    auto b = read_block(bids[i]);
    if (!b.is_ok()) return b.status().with_context("node " + hex(nid));  // as Node::block says it
    if (out->size() + (*b)->size() > max_bytes) return exceeds();
    out->insert(out->end(), (*b)->begin(), (*b)->end());
    ++i;
  }
  return Status::ok();
}

Result<Bytes> read_block_from(const Header& header_, const ByteSource& src, const BlockEntry& e, bool verify_crc) {
  const uint32_t max_data = header_.max_block_size - header_.block_trailer_size;
  if (e.stored_size > max_data) {
    return Status::corrupt("block", e.offset,
                           "BBT size " + std::to_string(e.stored_size) + " of block " + hex(e.bid) +
                               " exceeds the maximum " + std::to_string(max_data));
  }
  const uint64_t disk = block_disk_size(header_, e.stored_size);
  if (e.offset > src.size() || disk > src.size() - e.offset) {
    return Status::truncated("block", e.offset, "block " + hex(e.bid) + " extends past the end of the file");
  }
  uint8_t* raw = scratch_buffer<kRawBlock>(size_t(disk));
  PSTKIT_RETURN_IF_ERROR(src.read(e.offset, size_t(disk), raw));
  return decode_block(header_, e, ByteView(raw, size_t(disk)), verify_crc);
}

Result<Bytes> decode_block(const Header& header_, const BlockEntry& e, ByteView disk_block, bool verify_crc) {
  PSTKIT_RETURN_IF_ERROR(check_block(header_, e, disk_block, verify_crc));
  // The kept block is allocated once at its exact size: from the data (a
  // copy, not a zero fill) and decoded in place, or inflated into.
  Bytes data;
  PSTKIT_RETURN_IF_ERROR(append_decoded(header_, e, disk_block, &data));
  return data;
}

Result<Header> read_header(const ByteSource& src) {
  Bytes head(std::min<uint64_t>(src.size(), 4096));
  PSTKIT_RETURN_IF_ERROR(src.read(0, head.size(), head.data()));
  return parse_header(head, src.size());
}

namespace {

Result<std::unique_ptr<Database>> open_source(std::unique_ptr<ByteSource> src, const Options& options) {
  PSTKIT_ASSIGN_OR_RETURN(Header h, read_header(*src));
  return std::unique_ptr<Database>(std::make_unique<DatabaseImpl>(std::move(src), h, options));
}

}  // namespace

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const Options& options) {
  // The last committed state, never a commit half-way (docs/COMMIT_PROTOCOL.md).
  PSTKIT_ASSIGN_OR_RETURN(auto src, open_committed_file(path, options.lock_timeout));
  return open_source(std::move(src), options);
}

namespace {

// The first bytes of a file, which hold its header (MS-PST 2.2.2.6): what a
// commit changes.
Result<Bytes> head_of(const ByteSource& src) {
  Bytes head(std::min<uint64_t>(src.size(), 4096));
  PSTKIT_RETURN_IF_ERROR(src.read(0, head.size(), head.data()));
  return head;
}

class FollowingDatabaseImpl final : public FollowingDatabase {
 public:
  FollowingDatabaseImpl(std::string path, const Options& options, Bytes head, std::unique_ptr<DatabaseImpl> db)
      : path_(std::move(path)), options_(options), head_(std::move(head)), db_(std::move(db)) {}

  Result<bool> follow_commits(bool ask_pending) override {
    PSTKIT_ASSIGN_OR_RETURN(auto src, open_committed_file(path_, options_.lock_timeout, nullptr, false, ask_pending));
    PSTKIT_ASSIGN_OR_RETURN(Bytes head, head_of(*src));
    if (head == head_ && src->size() == db_->file_size()) return false;
    PSTKIT_ASSIGN_OR_RETURN(Header h, parse_header(head, src->size()));
    db_->follow(std::move(src), h);
    head_ = std::move(head);
    return true;
  }

  const Header& header() const override { return db_->header(); }
  uint64_t file_size() const override { return db_->file_size(); }
  Result<NodeEntry> find_node(Nid nid) const override { return db_->find_node(nid); }
  Result<BlockEntry> find_block(Bid bid) const override { return db_->find_block(bid); }
  Status for_each_node(const std::function<bool(const NodeEntry&)>& visit) const override {
    return db_->for_each_node(visit);
  }
  Status for_each_block(const std::function<bool(const BlockEntry&)>& visit) const override {
    return db_->for_each_block(visit);
  }
  Result<SharedBytes> read_block(Bid bid) const override { return db_->read_block(bid); }
  Status read_raw(uint64_t offset, size_t len, uint8_t* out) const override { return db_->read_raw(offset, len, out); }
  Result<std::unique_ptr<Node>> open_node(Nid nid) const override { return db_->open_node(nid); }
  Result<std::unique_ptr<Node>> open_node(Nid nid, Bid data_bid, Bid subnode_bid) const override {
    return db_->open_node(nid, data_bid, subnode_bid);
  }

 private:
  std::string path_;
  Options options_;
  Bytes head_;
  std::unique_ptr<DatabaseImpl> db_;
};

}  // namespace

Result<std::unique_ptr<FollowingDatabase>> open_following(const std::string& path, const Options& options) {
  PSTKIT_ASSIGN_OR_RETURN(auto src, open_committed_file(path, options.lock_timeout, nullptr, false));
  PSTKIT_ASSIGN_OR_RETURN(Bytes head, head_of(*src));
  PSTKIT_ASSIGN_OR_RETURN(Header h, parse_header(head, src->size()));
  auto db = std::make_unique<DatabaseImpl>(std::move(src), h, options);
  return std::unique_ptr<FollowingDatabase>(
      std::make_unique<FollowingDatabaseImpl>(path, options, std::move(head), std::move(db)));
}

Result<std::unique_ptr<Database>> Database::open_memory(Bytes image, const Options& options) {
  return open_source(make_memory_source(std::move(image)), options);
}

}  // namespace pstkit::ndb
