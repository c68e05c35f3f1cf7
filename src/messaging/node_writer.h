// Stores LTP builder output (BuiltNode) through the NDB writer: data trees,
// subnode trees, and the subnodes carried over from a node's previous version.
#pragma once

#include <vector>

#include "pstkit/ltp_builder.h"
#include "pstkit/ltp_editor.h"
#include "pstkit/ndb_writer.h"

namespace pstkit {

// Writes built (and its new subnodes, recursively) and returns the BIDs for
// an NBT entry or SLENTRY with this NID. `carried` lists subnodes of the
// node's previous version to keep as they are (their blocks gain a
// reference); built.reused_subnodes are looked up in `previous`.
Result<ndb::SubnodeEntry> write_built_node(ndb::WritableDatabase& db, ndb::Nid nid, const ltp::BuiltNode& built,
                                           const std::vector<ndb::SubnodeEntry>& previous = {},
                                           const std::vector<ndb::Nid>& carried = {});

// write_built_node, then the NBT entry (replacing any previous version).
Status put_built_node(ndb::WritableDatabase& db, ndb::Nid nid, ndb::Nid parent, const ltp::BuiltNode& built,
                      const std::vector<ndb::SubnodeEntry>& previous = {},
                      const std::vector<ndb::Nid>& carried = {});

// Applies an in-place edit to node nid (an NBT entry): changed blocks are
// written, the others shared with the previous version, subnodes kept unless
// released or edited.
Status put_edited_node(ndb::WritableDatabase& db, ndb::Nid nid, const ltp::NodeEdit& edit);

}  // namespace pstkit
