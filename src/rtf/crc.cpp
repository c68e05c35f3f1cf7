// The compressed RTF checksum, MS-OXRTFCP 2.1.3.2.

#include <zlib.h>

#include <algorithm>

#include "pstkit/rtf.h"

namespace pstkit::rtf {

uint32_t crc32(ByteView data) {
  // The reflected CRC-32 of polynomial 0xEDB88320, as zlib's, except that
  // the register starts at 0 and is not inverted at the end. zlib inverts on
  // the way in and out, so starting it from ~0 and inverting its result
  // gives the same function, at zlib's speed (several bytes a step).
  uLong crc = 0xFFFFFFFFul;
  const uint8_t* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const size_t n = std::min<size_t>(left, 1u << 30);
    crc = crc32_z(crc, p, n);
    p += n;
    left -= n;
  }
  return ~uint32_t(crc);
}

}  // namespace pstkit::rtf
