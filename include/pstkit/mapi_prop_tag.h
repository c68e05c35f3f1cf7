// MAPI property tags and types (PT_* of mapidefs.h, MS-OXCDATA 2.11.1):
// the vocabulary every part of the MAPI runtime's C++ core shares (tables,
// profiles, sessions), so that a file may use any of them together.
#pragma once

#include <cstdint>

namespace pstkit::mapi {

using PropTag = uint32_t;

// Property types (PT_* of mapidefs.h; the same codes as MS-OXCDATA 2.11.1).
enum PropTypeCode : uint16_t {
  kPtUnspecified = 0x0000,
  kPtNull = 0x0001,
  kPtI2 = 0x0002,
  kPtLong = 0x0003,
  kPtR4 = 0x0004,
  kPtDouble = 0x0005,
  kPtCurrency = 0x0006,
  kPtAppTime = 0x0007,
  kPtError = 0x000A,
  kPtBoolean = 0x000B,
  kPtObject = 0x000D,
  kPtI8 = 0x0014,
  kPtString8 = 0x001E,
  kPtUnicode = 0x001F,
  kPtSysTime = 0x0040,
  kPtClsid = 0x0048,
  kPtSvrEid = 0x00FB,
  kPtBinary = 0x0102,
};
inline constexpr uint16_t kMvFlag = 0x1000;       // MV_FLAG
inline constexpr uint16_t kMvInstance = 0x2000;   // MV_INSTANCE; MVI_FLAG = both
inline constexpr uint16_t kPtMvString8 = kMvFlag | kPtString8;  // PT_MV_STRING8
inline constexpr uint16_t kPtMvUnicode = kMvFlag | kPtUnicode;  // PT_MV_UNICODE

// PROP_TAG, PROP_ID, PROP_TYPE and CHANGE_PROP_TYPE of mapidefs.h.
inline constexpr PropTag prop_tag(uint16_t id, uint16_t type) { return (PropTag(id) << 16) | type; }
inline constexpr uint16_t prop_id(PropTag tag) { return uint16_t(tag >> 16); }
inline constexpr uint16_t prop_type(PropTag tag) { return uint16_t(tag & 0xFFFF); }
inline constexpr PropTag change_prop_type(PropTag tag, uint16_t type) { return (tag & 0xFFFF0000u) | type; }

}  // namespace pstkit::mapi
