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

// MS-PST 2.3.4.1 TCINFO (before rgTCOLDESC) and 2.3.4.2 TCOLDESC sizes.
inline constexpr size_t kTcInfoSize = 22;
inline constexpr size_t kTcColDescSize = 8;

// MS-PST 2.3.4.4.2 table cells.
inline constexpr size_t kHnidSize = 4;
// Fixed-size values of up to 8 bytes sit in the row.
inline bool stored_inline(uint16_t type) {
  const size_t fixed = is_multi_valued(type) ? 0 : fixed_type_size(type);
  return fixed != 0 && fixed <= 8;
}
// Bytes a column takes in a row: its value, or an HNID; 0 when the type
// cannot be a column.
inline size_t cell_width(uint16_t type) {
  if (!is_known_type(type) || type == kPtypNull || type == kPtypUnspecified) return 0;
  return stored_inline(type) ? fixed_type_size(type) : kHnidSize;
}
// MS-PST 2.3.4.4.1: iBit 0 is the most significant bit of rgCEB[0].
inline void set_cell_exists(uint8_t* ceb, uint8_t bit) { ceb[bit / 8] |= uint8_t(0x80u >> (bit % 8)); }
inline bool cell_exists(const uint8_t* ceb, uint8_t bit) { return (ceb[bit / 8] & (0x80u >> (bit % 8))) != 0; }

}  // namespace pstkit::ltp::detail
