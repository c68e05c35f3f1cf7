// The static tables of the profile administration objects (com_admin.h):
// profile, message service and provider tables built from cells, over the
// table engine (pstkit/mapi_table.h). Internal to src/mapi.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {

// One cell of an administration table; the type of `tag` says which member
// holds the value.
struct TableCell {
  ULONG tag = 0;
  int32_t number = 0;               // PT_LONG; PT_BOOLEAN (0 or 1)
  std::string text;                 // PT_STRING8, PT_UNICODE (UTF-8)
  std::vector<uint8_t> bytes;       // PT_BINARY
  std::vector<std::string> texts;   // PT_MV_STRING8, PT_MV_UNICODE (UTF-8)
};

// The string type MAPI_UNICODE asks for (PT_UNICODE, else PT_STRING8).
inline ULONG string_type(ULONG ulFlags) { return (ulFlags & MAPI_UNICODE) ? PT_UNICODE : PT_STRING8; }
TableCell string_cell(uint16_t id, std::string utf8, ULONG ulFlags);
TableCell long_cell(ULONG tag, int32_t value);
TableCell bool_cell(ULONG tag, bool value);
TableCell binary_cell(ULONG tag, const uint8_t* data, size_t size);

// An IMAPITable over rows held in memory (the administration tables are
// static: profile-tables.md, message-service-tables.md, provider-tables.md).
HRESULT make_static_table(std::vector<ULONG> columns, std::vector<std::vector<TableCell>> rows, LPMAPITABLE* out);

}  // namespace pstkit::mapi::capi
