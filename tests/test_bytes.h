// Deterministic test data shared by the test files.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pstkit/bytes.h"

namespace pstkit::test {

// n pseudo-random bytes, the same for the same seed on every run (an LCG).
inline Bytes pattern(size_t n, uint32_t seed) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 7;
  for (auto& c : b) {
    x = x * 1664525u + 1013904223u;
    c = uint8_t(x >> 24);
  }
  return b;
}

}  // namespace pstkit::test
