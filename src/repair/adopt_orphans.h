// Messages whose NBT entries are lost but whose blocks survive (issue 8:
// a file cut before its NBT, NBT leaf pages zeroed). See adopt_orphans.cpp.
#pragma once

#include <string>
#include <vector>

#include "pstkit/ndb.h"

namespace pstkit::repair {

struct OrphanMessage {
  // nid: the message's original NID when a surviving contents-table row
  // names it (parent_nid is then that folder), else 0 (give it a new one;
  // parent_nid 0: Lost and Found).
  ndb::NodeEntry entry;
  std::string how;  // how it was found and placed, for the log
};

// Finds, among the intact blocks source lists that no node it lists
// references, message property contexts (HN bClientSig 0xBC with
// PidTagMessageClass) and pairs each with the unreferenced subnode tree
// that fits it best. Empty when the source's node index is complete.
Result<std::vector<OrphanMessage>> find_orphan_messages(const ndb::Database& source);

}  // namespace pstkit::repair
