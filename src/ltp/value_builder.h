// Values of PCs and TCs that do not sit inline: checked, then stored in the
// heap or in a subnode (MS-PST 2.3.3.3, 2.3.4.4.2). Internal to the builders.
#pragma once

#include <map>

#include "pstkit/ltp_builder.h"

namespace pstkit::ltp::detail {

// Checks that value is a valid encoding of the tag's type (property.h): a
// known type, the exact size of a fixed-size type, a whole number of
// elements or a valid MS-PST 2.3.3.4.2 layout for multi-valued types, 8 bytes
// (nid, ulSize) for PtypObject.
Status check_value(PropTag tag, ByteView value);

// HNID 0 when value is empty, a new heap allocation when it fits
// kMaxHeapAllocation, else a new subnode (added to subnodes) of the value
// split into blocks of max_block bytes.
Result<Hnid> store_value(HeapBuilder& heap, ByteView value, const NidAllocator& allocate_nid,
                         size_t max_block, std::map<ndb::Nid, BuiltNode>& subnodes);

}  // namespace pstkit::ltp::detail
