// The CRC-32 routine behind compute_crc (MS-PST 5.3): ISA-L's where the
// library is installed, else zlib's; both compute the gzip CRC-32.
#pragma once

#include <cstdint>

namespace pstkit::ndb {

struct Crc32Function {
  // gzip CRC-32 of n bytes continuing from crc (inverted on entry and exit).
  using Compute = uint32_t (*)(uint32_t crc, const uint8_t* p, uint64_t n);
  Compute compute;
  const char* name;  // "isa-l" or "zlib"
};

// Chosen once per process, on first use (thread-safe).
const Crc32Function& crc32_function();

}  // namespace pstkit::ndb
