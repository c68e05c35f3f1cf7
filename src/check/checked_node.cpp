// A Node whose blocks come from the checker's own BBT walk
// (Context::read_block), so heaps and tables can be checked even where the
// database's B-tree lookups would fail, and already-reported damage is
// recognisable (kAlreadyReported) when it surfaces again.
#include <algorithm>

#include "check/context.h"
#include "ndb/data_tree.h"

namespace pstkit::check {

namespace {

class CheckedNode final : public ndb::Node {
 public:
  CheckedNode(const Context& c, ndb::Nid nid, ndb::DataTree tree, ndb::Bid subnode_bid)
      : c_(c), nid_(nid), tree_(std::move(tree)), subnode_bid_(subnode_bid) {}

  ndb::Nid id() const override { return nid_; }
  uint64_t size() const override { return tree_.total_size; }
  size_t block_count() const override { return tree_.leaves.size(); }

  Result<SharedBytes> block(size_t i) const override {
    if (i >= tree_.leaves.size()) return Status::not_found("block index " + std::to_string(i));
    return c_.read_block(tree_.leaves[i]);
  }

  Result<std::unique_ptr<ndb::Node>> subnode(ndb::Nid nid) const override {
    PSTKIT_RETURN_IF_ERROR(load_subnodes());
    auto it = std::lower_bound(subnodes_->begin(), subnodes_->end(), nid,
                               [](const ndb::SubnodeEntry& e, ndb::Nid k) { return e.nid < k; });
    if (it == subnodes_->end() || it->nid != nid) {
      return Status::not_found("subnode " + hex(nid) + " of node " + hex(nid_));
    }
    return open_checked_node(c_, it->nid, it->data_bid, it->subnode_bid);
  }

  Result<std::vector<ndb::SubnodeEntry>> subnodes() const override {
    PSTKIT_RETURN_IF_ERROR(load_subnodes());
    return *subnodes_;
  }

 private:
  Status load_subnodes() const {
    if (subnodes_) return Status::ok();
    if (subnode_bid_ == 0) {
      subnodes_ = std::make_shared<const std::vector<ndb::SubnodeEntry>>();
      return Status::ok();
    }
    PSTKIT_ASSIGN_OR_RETURN(subnodes_, c_.subnode_tree(subnode_bid_));
    return Status::ok();
  }

  const Context& c_;
  ndb::Nid nid_;
  ndb::DataTree tree_;
  ndb::Bid subnode_bid_;
  mutable Context::SubnodeList subnodes_;
};

}  // namespace

Result<std::unique_ptr<ndb::Node>> open_checked_node(const Context& c, ndb::Nid nid, ndb::Bid data_bid,
                                                     ndb::Bid subnode_bid) {
  PSTKIT_ASSIGN_OR_RETURN(ndb::DataTree tree,
                          ndb::load_data_tree(c.header, data_bid, [&c](ndb::Bid b) { return c.read_block(b); }));
  return std::unique_ptr<ndb::Node>(std::make_unique<CheckedNode>(c, nid, std::move(tree), subnode_bid));
}

}  // namespace pstkit::check
