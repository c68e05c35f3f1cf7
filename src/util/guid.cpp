// Guid text conversions (MS-DTYP 2.3.4.3 registry format).
#include "pstkit/guid.h"

#include <cstdio>
#include <cstring>

namespace pstkit {

Guid Guid::from_bytes(const uint8_t* p) {
  Guid g;
  std::memcpy(g.bytes, p, sizeof g.bytes);
  return g;
}

std::optional<Guid> Guid::parse(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36) return std::nullopt;
  // 32 hex digits with dashes at 8, 13, 18 and 23, read as one big-endian number.
  uint8_t be[16] = {};
  size_t digit = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return std::nullopt;
    be[digit / 2] = uint8_t(be[digit / 2] << 4 | v);
    ++digit;
  }
  Guid g;
  // Data1..Data3 are little-endian on disk; Data4 keeps its order.
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; ++i) g.bytes[i] = be[order[i]];
  return g;
}

std::string Guid::to_string() const {
  const uint8_t* b = bytes;
  char buf[40];
  std::snprintf(buf, sizeof buf,
                "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}", b[3], b[2],
                b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
}

bool Guid::is_null() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

}  // namespace pstkit
