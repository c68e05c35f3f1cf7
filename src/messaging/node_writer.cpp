#include "messaging/node_writer.h"

#include <algorithm>

namespace pstkit {
namespace {

Status carry(ndb::WritableDatabase& db, const std::vector<ndb::SubnodeEntry>& previous, ndb::Nid nid,
             std::vector<ndb::SubnodeEntry>& out) {
  auto it = std::find_if(previous.begin(), previous.end(), [&](const ndb::SubnodeEntry& e) { return e.nid == nid; });
  if (it == previous.end()) return Status::not_found("subnode " + hex(nid) + " to carry over");
  // The new subnode tree references the same blocks as the old one, which
  // is released when the node's entry is replaced.
  if (it->data_bid) PSTKIT_RETURN_IF_ERROR(db.add_ref(it->data_bid));
  if (it->subnode_bid) PSTKIT_RETURN_IF_ERROR(db.add_ref(it->subnode_bid));
  out.push_back(*it);
  return Status::ok();
}

}  // namespace

Result<ndb::SubnodeEntry> write_built_node(ndb::WritableDatabase& db, ndb::Nid nid, const ltp::BuiltNode& built,
                                           const std::vector<ndb::SubnodeEntry>& previous,
                                           const std::vector<ndb::Nid>& carried) {
  ndb::SubnodeEntry result;
  result.nid = nid;
  PSTKIT_ASSIGN_OR_RETURN(result.data_bid, db.write_data_tree(built.blocks));
  std::vector<ndb::SubnodeEntry> subs;
  for (const auto& [snid, child] : built.subnodes) {
    PSTKIT_ASSIGN_OR_RETURN(ndb::SubnodeEntry e, write_built_node(db, snid, child));
    subs.push_back(e);
  }
  for (ndb::Nid r : built.reused_subnodes) {
    if (built.subnodes.count(r)) continue;
    PSTKIT_RETURN_IF_ERROR(carry(db, previous, r, subs));
  }
  for (ndb::Nid c : carried) {
    if (built.subnodes.count(c) || built.reused_subnodes.count(c)) continue;
    PSTKIT_RETURN_IF_ERROR(carry(db, previous, c, subs));
  }
  PSTKIT_ASSIGN_OR_RETURN(result.subnode_bid, db.write_subnode_tree(std::move(subs)));
  return result;
}

Status put_built_node(ndb::WritableDatabase& db, ndb::Nid nid, ndb::Nid parent, const ltp::BuiltNode& built,
                      const std::vector<ndb::SubnodeEntry>& previous, const std::vector<ndb::Nid>& carried) {
  PSTKIT_ASSIGN_OR_RETURN(ndb::SubnodeEntry e, write_built_node(db, nid, built, previous, carried));
  return db.put_node({nid, e.data_bid, e.subnode_bid, parent});
}

}  // namespace pstkit
