// The table lookups behind permutative (MS-PST 5.1) and cyclic (5.2)
// encoding: one byte loop and the SIMD versions this CPU can run, chosen
// once per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pstkit::ndb {

struct ByteSubstitution {
  // data[i] = table[data[i]] for every byte; table has 256 entries.
  using Run = void (*)(const uint8_t* table, uint8_t* data, size_t size);
  Run run;
  const char* name;  // "avx512vbmi", "avx2" or "bytes"
};

// Every version this CPU can run, fastest first: the first is the one
// encode_permute and decode_permute use. Listed so that tests can check
// each against the byte loop.
const std::vector<ByteSubstitution>& byte_substitutions();

struct CyclicCoding {
  // MS-PST 5.2 on data with the key (a block's BID, low 32 bits).
  using Run = void (*)(uint8_t* data, size_t size, uint32_t key);
  Run run;
  const char* name;  // "avx2" or "bytes"
};

// The same for cyclic encoding: the first is the one code_cyclic uses.
const std::vector<CyclicCoding>& cyclic_codings();

}  // namespace pstkit::ndb
