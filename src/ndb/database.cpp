// The file-backed node database: B-tree lookups, block decoding, nodes.
#include <zlib.h>

#include <algorithm>
#include <mutex>

#include "ndb/block_database.h"
#include "ndb/btree_reader.h"
#include "ndb/byte_source.h"
#include "ndb/data_tree.h"
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
  FileNode(const Database* db, Nid nid, DataTree tree, Bid subnode_bid)
      : db_(db), nid_(nid), tree_(std::move(tree)), subnode_bid_(subnode_bid) {}

  Nid id() const override { return nid_; }
  uint64_t size() const override { return tree_.total_size; }
  size_t block_count() const override { return tree_.leaves.size(); }
  Result<SharedBytes> block(size_t i) const override;
  Result<std::unique_ptr<Node>> subnode(Nid nid) const override;
  Result<std::vector<SubnodeEntry>> subnodes() const override;

 private:
  Status load_subnodes() const;

  const Database* db_;
  Nid nid_;
  DataTree tree_;
  Bid subnode_bid_;
  mutable bool subnodes_loaded_ = false;
  mutable std::vector<SubnodeEntry> subnodes_;  // sorted by nid
};

class DatabaseImpl final : public BlockDatabase {
 public:
  DatabaseImpl(std::unique_ptr<ByteSource> src, Header h, const Options& o)
      : BlockDatabase(std::move(src), h, o), trees_(*src_, header_) {}

  Result<NodeEntry> find_node(Nid nid) const override { return trees_.find_node(nid); }
  Result<BlockEntry> find_block(Bid bid) const override { return trees_.find_block(bid); }

  Status for_each_node(const std::function<bool(const NodeEntry&)>& visit) const override {
    return trees_.walk(kPageNbt, [&](const BTreePage& p) {
      for (const auto& e : p.nodes) {
        if (!visit(e)) return false;
      }
      return true;
    });
  }

  Status for_each_block(const std::function<bool(const BlockEntry&)>& visit) const override {
    return trees_.walk(kPageBbt, [&](const BTreePage& p) {
      for (const auto& e : p.blocks) {
        if (!visit(e)) return false;
      }
      return true;
    });
  }

 private:
  BTreeReader trees_;
};

Result<SharedBytes> FileNode::block(size_t i) const {
  if (i >= tree_.leaves.size()) return Status::not_found("block index " + std::to_string(i));
  auto r = db_->read_block(tree_.leaves[i]);
  if (!r.is_ok()) return r.status().with_context("node " + hex(nid_));
  return r;
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

Result<SharedBytes> BlockDatabase::read_block(Bid bid) const {
  const Bid key = bid_key(bid);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto hit = blocks_.get(key)) return hit;
  }
  PSTKIT_ASSIGN_OR_RETURN(Bytes data, load_block(bid));
  auto shared = std::make_shared<const Bytes>(std::move(data));
  std::lock_guard<std::mutex> lock(mu_);
  blocks_.put(key, shared, shared->size() + 64);
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
  return make_file_node(this, nid, std::move(tree), subnode_bid);
}

std::unique_ptr<Node> make_file_node(const Database* db, Nid nid, DataTree tree, Bid subnode_bid) {
  return std::make_unique<FileNode>(db, nid, std::move(tree), subnode_bid);
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
  Bytes raw(disk);
  PSTKIT_RETURN_IF_ERROR(src.read(e.offset, raw.size(), raw.data()));
  const BlockTrailer t = read_block_trailer(header_, raw);
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
    const uint32_t crc = compute_crc(raw.data(), e.stored_size);
    if (crc != t.crc) {
      return Status::corrupt("block", e.offset,
                             "block " + hex(e.bid) + " CRC " + hex(crc) + " does not match trailer " + hex(t.crc));
    }
  }
  raw.resize(e.stored_size);
  // MS-PST 5: only external (data) blocks are encoded.
  if (!bid_is_internal(e.bid)) {
    if (header_.crypt == CryptMethod::kPermute) {
      decode_permute(raw.data(), raw.size());
    } else if (header_.crypt == CryptMethod::kCyclic) {
      code_cyclic(raw.data(), raw.size(), uint32_t(e.bid));
    }
  }
  if (header_.format == FileFormat::kUnicode4k && e.inflated_size != e.stored_size) {
    // 4K-page OST blocks may be zlib-compressed (libpff PFF format).
    if (e.inflated_size > max_data) {
      return Status::corrupt("block", e.offset, "inflated size " + std::to_string(e.inflated_size) + " too large");
    }
    Bytes out(e.inflated_size);
    uLongf out_len = out.size();
    const int rc = uncompress(out.data(), &out_len, raw.data(), raw.size());
    if (rc != Z_OK || out_len != out.size()) {
      return Status::corrupt("compressed block", e.offset,
                             "block " + hex(e.bid) + " does not inflate to " + std::to_string(e.inflated_size) +
                                 " bytes (zlib " + std::to_string(rc) + ")");
    }
    return out;
  }
  return raw;
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

Result<std::unique_ptr<Database>> Database::open_memory(Bytes image, const Options& options) {
  return open_source(make_memory_source(std::move(image)), options);
}

}  // namespace pstkit::ndb
