#include "messaging/node_writer.h"

#include <algorithm>
#include <set>

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

Status put_edited_node(ndb::WritableDatabase& db, ndb::Nid nid, const ltp::NodeEdit& edit) {
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry entry, db.find_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto node, db.open_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(std::vector<ndb::SubnodeEntry> previous, node->subnodes());
  node.reset();

  PSTKIT_ASSIGN_OR_RETURN(ndb::Bid data_bid, db.rewrite_data_tree(entry.data_bid, edit.data.block_count, edit.data.changed));
  // put_node keeps an unchanged data BID without releasing it: give back the
  // reference rewrite_data_tree added.
  if (data_bid == entry.data_bid) PSTKIT_RETURN_IF_ERROR(db.release(data_bid));

  std::vector<ndb::SubnodeEntry> subs;
  std::set<ndb::Nid> present;
  for (const ndb::SubnodeEntry& p : previous) {
    present.insert(p.nid);
    if (edit.released_subnodes.count(p.nid) || edit.new_subnodes.count(p.nid)) continue;
    auto edited = edit.edited_subnodes.find(p.nid);
    if (edited == edit.edited_subnodes.end()) {
      PSTKIT_RETURN_IF_ERROR(carry(db, previous, p.nid, subs));
      continue;
    }
    ndb::SubnodeEntry e = p;
    PSTKIT_ASSIGN_OR_RETURN(e.data_bid, db.rewrite_data_tree(p.data_bid, edited->second.block_count, edited->second.changed));
    if (e.subnode_bid) PSTKIT_RETURN_IF_ERROR(db.add_ref(e.subnode_bid));
    subs.push_back(e);
  }
  for (const auto& [snid, stream] : edit.edited_subnodes) {
    if (present.count(snid) || edit.released_subnodes.count(snid)) continue;
    ndb::SubnodeEntry e;
    e.nid = snid;
    PSTKIT_ASSIGN_OR_RETURN(e.data_bid, db.rewrite_data_tree(0, stream.block_count, stream.changed));
    subs.push_back(e);
  }
  for (const auto& [snid, child] : edit.new_subnodes) {
    PSTKIT_ASSIGN_OR_RETURN(ndb::SubnodeEntry e, write_built_node(db, snid, child));
    subs.push_back(e);
  }
  PSTKIT_ASSIGN_OR_RETURN(ndb::Bid subnode_bid, db.write_subnode_tree(std::move(subs)));
  return db.put_node({nid, data_bid, subnode_bid, entry.parent_nid});
}

}  // namespace pstkit
