// What the profile administration objects (com_admin.h) need from the table
// engine and the conversions, without pstkit/mapi_table.h: that header and
// pstkit/mapi_profiles.h both define prop_tag() (with different argument
// orders) and cannot be included together. Internal to src/mapi.
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

// UTF-32 wchar_t <-> UTF-8 (capi_convert.h's conversions).
std::string utf8_of_wide(const wchar_t* s);
std::wstring wide_of_utf8(std::string_view utf8);

}  // namespace pstkit::mapi::capi
