// MS-PST 2.4.7 name-to-ID map (node 0x61): the layout the reader (NameMap)
// and the builder (NameMapBuilder) share.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pstkit/messaging.h"

namespace pstkit::name_map_format {

inline constexpr uint16_t kBucketCountId = 0x0001;   // PidTagNameidBucketCount
inline constexpr uint16_t kStreamGuidId = 0x0002;    // PidTagNameidStreamGuid
inline constexpr uint16_t kStreamEntryId = 0x0003;   // PidTagNameidStreamEntry
inline constexpr uint16_t kStreamStringId = 0x0004;  // PidTagNameidStreamString
inline constexpr uint16_t kBucketBaseId = 0x1000;    // PidTagNameidBucketBase

// MS-PST 2.4.7.1 wGuid values below the GUID stream.
inline constexpr uint16_t kGuidNone = 0;
inline constexpr uint16_t kGuidMapi = 1;
inline constexpr uint16_t kGuidPublicStrings = 2;
inline constexpr uint16_t kFirstStreamGuid = 3;

inline constexpr size_t kGuidSize = 16;
inline constexpr size_t kNameIdSize = 8;  // MS-PST 2.4.7.1 NAMEID

// The NAMEID record at entries[offset] (dwPropertyID, wGuid with the N bit,
// wPropIdx): its name, and *index its wPropIdx (the property id is 0x8000
// + index). kCorrupt when its GUID index or string lies outside the streams.
Result<NamedProperty> decode_nameid(ByteView entries, size_t offset, ByteView guids, ByteView strings,
                                    uint16_t* index);

}  // namespace pstkit::name_map_format
