// Eight bytes at a time: the tests that let text scanners skip plain 7-bit
// runs word by word instead of byte by byte (bodies are mostly such runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pstkit::byte_words {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHighBits = 0x8080808080808080ULL;

inline uint64_t load(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One of the eight bytes has its high bit set (is not 7-bit).
inline bool has_high_byte(uint64_t v) { return (v & kHighBits) != 0; }

// One of the eight bytes is zero. Exact for "any": the borrow that can mark
// a byte above a zero byte only happens when there is a zero byte.
inline bool has_zero_byte(uint64_t v) { return ((v - kOnes) & ~v & kHighBits) != 0; }

// One of the eight bytes equals c.
inline bool has_byte(uint64_t v, unsigned char c) { return has_zero_byte(v ^ (kOnes * c)); }

// None of the n bytes at p has its high bit set.
inline bool all_seven_bit(const char* p, size_t n) {
  size_t i = 0;
  for (; n - i >= 8; i += 8) {
    if (has_high_byte(load(p + i))) return false;
  }
  for (; i < n; ++i) {
    if (static_cast<unsigned char>(p[i]) >= 0x80) return false;
  }
  return true;
}

}  // namespace pstkit::byte_words
