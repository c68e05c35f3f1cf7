// The compressed RTF checksum, MS-OXRTFCP 2.1.3.2.

#include <array>

#include "pstkit/rtf.h"

namespace pstkit::rtf {
namespace {

// Table-driven reflected CRC-32, polynomial 0xEDB88320.
constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = make_table();

}  // namespace

uint32_t crc32(ByteView data) {
  // Unlike zlib's CRC-32 the register starts at 0 and is not inverted at
  // the end.
  uint32_t crc = 0;
  const uint8_t* p = data.data();
  for (size_t i = 0; i < data.size(); ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

}  // namespace pstkit::rtf
