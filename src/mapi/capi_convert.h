// Conversions between the MAPI C structures of <mapidefs.h> and the C++
// table core (pstkit/mapi_table.h). Internal to src/mapi.
//
// From MAPI: every pointer and count a client passes is checked as far as it
// can be (null pointers with non-zero counts, unknown types, restriction
// types and operators) and refused with the code the reference gives
// (MAPI_E_INVALID_PARAMETER, MAPI_E_TOO_COMPLEX, MAPI_E_INVALID_TYPE). A
// restriction graph is read to kMaxRestrictionDepth levels and at most
// kMaxRestrictionNodes nodes (a client's tree may share sub-trees, which
// would otherwise multiply).
// To MAPI: structures are allocated with MAPIAllocateBuffer (the outer block)
// and MAPIAllocateMore (everything it points to), so one MAPIFreeBuffer frees
// them; an SRowSet's rows are separate MAPIAllocateBuffer blocks, as
// FreeProws expects (freeprows.md).
#pragma once

#include <string>
#include <vector>

#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi::capi {

inline constexpr size_t kMaxRestrictionNodes = 16384;

// SCODE of a conversion; S_OK or an error.
struct Converted {
  SCODE scode = S_OK;
  std::string detail;  // why, for GetLastError
  bool ok() const { return scode == S_OK; }
};

// SPropValue -> PropValue. PT_UNICODE: UTF-32 wchar_t to UTF-8 (invalid code
// points become U+FFFD); PT_STRING8: its bytes; PT_OBJECT: the tag only.
Converted from_mapi(const SPropValue& in, PropValue& out);
// PropValue -> SPropValue; memory for strings, binaries and arrays comes from
// MAPIAllocateMore(parent).
Converted to_mapi(const PropValue& in, void* parent, SPropValue& out);

Converted from_mapi(const SPropTagArray* in, std::vector<PropTag>& out);
// A new SPropTagArray (one MAPIAllocateBuffer block).
Converted to_mapi(const std::vector<PropTag>& in, LPSPropTagArray* out);

Converted from_mapi(const SRestriction* in, Restriction& out);
// A new SRestriction tree (MAPIAllocateBuffer + More).
Converted to_mapi(const Restriction& in, LPSRestriction* out);

Converted from_mapi(const SSortOrderSet* in, SortOrderSet& out);
Converted to_mapi(const SortOrderSet& in, LPSSortOrderSet* out);

// An array of values as one MAPIAllocateBuffer block (an SRow's lpProps).
Converted to_mapi(const std::vector<PropValue>& values, LPSPropValue* out);
// A new SRowSet: each row's lpProps its own block, the set another.
Converted to_mapi(const std::vector<std::vector<PropValue>>& rows, LPSRowSet* out);

// UTF-32 (wchar_t) <-> UTF-8.
std::string utf8_from_wide(const wchar_t* s);
std::wstring wide_from_utf8(std::string_view utf8);

// A string for the caller, in MAPI memory linked to `parent`: wide
// (wchar_t) when `wide` (MAPI_UNICODE), else its UTF-8 bytes. LPTSTR is
// either kind, as in MAPIERROR and the TCHAR members of MAPI structures.
SCODE copy_mapi_string(std::string_view utf8, bool wide, void* parent, LPTSTR* out);

// The MAPI code of a core Status (mapi_scode) with its message.
Converted from_status(const Status& status);

}  // namespace pstkit::mapi::capi
