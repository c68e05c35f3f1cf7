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
// When source's own name-to-ID map (node 0x61) cannot be read, the result
// also holds the newest copy of it found the same way (a PC with the map's
// bucket count and streams, MS-PST 2.4.7; entry.nid 0x61), the lost current
// one or an earlier one in freed space: names are only ever appended, so an
// earlier map is a prefix of the lost one.
Result<std::vector<OrphanMessage>> find_orphan_messages(const ndb::Database& source);

}  // namespace pstkit::repair
