// What every file-backed Database shares, whatever indexes its nodes and
// blocks: decoded blocks through a bounded cache, and nodes built from
// their data and subnode trees. Subclasses supply find_node/find_block (the
// B-trees for a healthy file, a scan's index for a damaged one).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "ndb/byte_source.h"
#include "ndb/cache_mutex.h"
#include "ndb/lru_cache.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {

class BlockDatabase : public Database {
 public:
  BlockDatabase(std::unique_ptr<ByteSource> src, Header h, const Options& o)
      : src_(std::move(src)), header_(h), options_(o), blocks_(o.cache_bytes) {}

  const Header& header() const override { return header_; }
  uint64_t file_size() const override { return src_->size(); }
  Result<SharedBytes> read_block(Bid bid) const override;
  Status read_raw(uint64_t offset, size_t len, uint8_t* out) const override {
    return src_->read(offset, len, out);
  }
  Result<std::unique_ptr<Node>> open_node(Nid nid) const override;
  Result<std::unique_ptr<Node>> open_node(Nid nid, Bid data_bid, Bid subnode_bid) const override;

  // Block bids[0] of a node whose next blocks are bids[1..count): when it is
  // not cached, the following blocks that lie right after it in the file
  // (up to kMaxExtentBytes) are read with it in one read and cached, since
  // the node's reader asks for them next. Otherwise the same as read_block.
  Result<SharedBytes> read_node_block(const Bid* bids, size_t count) const;
  static constexpr size_t kMaxExtentBytes = size_t{64} << 10;

  // Appends the decoded blocks bids[0..count) of node nid to out (at most
  // max_bytes in all), read a run of adjacent blocks at a time and decoded
  // straight into out, bypassing the cache: a stream read whole is rarely
  // read again, and caching it would only evict the blocks that are. A
  // block that fails here goes through read_block, which reports it (or,
  // for salvage, finds another copy).
  Status read_node_stream(Nid nid, const Bid* bids, size_t count, uint64_t max_bytes, Bytes* out) const;

 protected:
  // Reads and decodes one block (cached by read_block). Salvage overrides it
  // to fall back on another intact copy of a damaged block.
  virtual Result<Bytes> load_block(Bid bid) const;

  // The blocks bids[0..) that lie back to back in the file from bids[0],
  // up to kMaxExtentBytes, into run (stopping at a cached one when
  // stop_at_cached); returns the file offset where the last one ends.
  uint64_t adjacent_blocks(const Bid* bids, size_t count, bool stop_at_cached, std::vector<BlockEntry>& run) const;

  std::unique_ptr<ByteSource> src_;
  Header header_;
  Options options_;
  mutable CacheMutex mu_;

 private:
  mutable LruCache<Bytes> blocks_;
};

}  // namespace pstkit::ndb
