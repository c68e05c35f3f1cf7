// initguid.h: Windows code includes it before mapiguid.h in one file so that
// DEFINE_GUID emits definitions. pstkit's DEFINE_GUID (mapinix.h) always
// defines inline constexpr GUIDs, so this only keeps such code compiling.
#ifndef PSTKIT_MAPI_INITGUID_H
#define PSTKIT_MAPI_INITGUID_H
#ifndef INITGUID
#define INITGUID
#endif
#include "mapinix.h"
#endif  // PSTKIT_MAPI_INITGUID_H
