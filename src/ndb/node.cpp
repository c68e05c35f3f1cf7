// Node helpers shared by file-backed and in-memory nodes.
#include <algorithm>
#include <cstring>

#include "pstkit/ndb.h"

namespace pstkit::ndb {

Result<Bytes> Node::read_all(uint64_t max_bytes) const {
  const uint64_t total = size();
  if (total > max_bytes) {
    return Status::unsupported("node " + hex(id()) + " data of " + std::to_string(total) +
                               " bytes exceeds the limit of " + std::to_string(max_bytes));
  }
  Bytes out;
  out.reserve(size_t(total));
  PSTKIT_RETURN_IF_ERROR(read_blocks(0, block_count(), max_bytes, &out));
  return out;
}

Status Node::append_blocks(size_t first, size_t count, Bytes* out) const {
  if (first > block_count() || count > block_count() - first)
    return Status::not_found("blocks " + std::to_string(first) + "+" + std::to_string(count) + " of node " +
                             hex(id()) + ", which has " + std::to_string(block_count()));
  return read_blocks(first, count, UINT64_MAX, out);
}

Status Node::read_blocks(size_t first, size_t count, uint64_t max_bytes, Bytes* out) const {
  for (size_t i = first; i < first + count; ++i) {
    PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, block(i));
    if (out->size() + b->size() > max_bytes) {
      return Status::corrupt("data tree", Status::kNoOffset,
                             "node " + hex(id()) + " blocks exceed the declared size");
    }
    out->insert(out->end(), b->begin(), b->end());
  }
  return Status::ok();
}

Status Node::read(uint64_t offset, size_t len, uint8_t* out) const {
  uint64_t pos = 0;
  for (size_t i = 0; i < block_count() && len > 0; ++i) {
    PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, block(i));
    const uint64_t end = pos + b->size();
    if (offset < end) {
      const size_t from = size_t(offset - pos);
      const size_t n = std::min(len, b->size() - from);
      std::memcpy(out, b->data() + from, n);
      out += n;
      len -= n;
      offset += n;
    }
    pos = end;
  }
  if (len > 0) return Status::not_found("read past the end of node " + hex(id()));
  return Status::ok();
}

namespace {

class MemoryNode final : public Node {
 public:
  MemoryNode(Nid nid, std::vector<Bytes> blocks, std::map<Nid, std::vector<Bytes>> subnodes)
      : nid_(nid), subnodes_(std::move(subnodes)) {
    for (auto& b : blocks) {
      size_ += b.size();
      blocks_.push_back(std::make_shared<const Bytes>(std::move(b)));
    }
  }
  Nid id() const override { return nid_; }
  uint64_t size() const override { return size_; }
  size_t block_count() const override { return blocks_.size(); }
  Result<SharedBytes> block(size_t i) const override {
    if (i >= blocks_.size()) return Status::not_found("block index " + std::to_string(i));
    return blocks_[i];
  }
  Result<std::unique_ptr<Node>> subnode(Nid nid) const override {
    auto it = subnodes_.find(nid);
    if (it == subnodes_.end()) return Status::not_found("subnode " + hex(nid));
    return std::unique_ptr<Node>(std::make_unique<MemoryNode>(nid, it->second,
                                                              std::map<Nid, std::vector<Bytes>>{}));
  }
  Result<std::vector<SubnodeEntry>> subnodes() const override {
    std::vector<SubnodeEntry> out;
    for (const auto& [nid, blocks] : subnodes_) out.push_back({nid, 0, 0});
    return out;
  }

 private:
  Nid nid_;
  uint64_t size_ = 0;
  std::vector<SharedBytes> blocks_;
  std::map<Nid, std::vector<Bytes>> subnodes_;
};

}  // namespace

std::unique_ptr<Node> make_memory_node(Nid nid, std::vector<Bytes> blocks,
                                       std::map<Nid, std::vector<Bytes>> subnodes) {
  return std::make_unique<MemoryNode>(nid, std::move(blocks), std::move(subnodes));
}

}  // namespace pstkit::ndb
