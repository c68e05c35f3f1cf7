#include "ndb/crc_correct.h"

#include <array>
#include <bit>

#include "pstkit/ndb.h"

namespace pstkit::ndb {
namespace {

// The reflected CRC-32 table (polynomial 0xEDB88320), MS-PST 5.3.
constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = make_table();

// The register after one more zero byte.
constexpr uint32_t zero_byte_step(uint32_t c) { return kTable[c & 0xFF] ^ (c >> 8); }

}  // namespace

CrcCorrection correct_single_bit(uint8_t* data, size_t size, uint32_t stored_crc, size_t max_size) {
  CrcCorrection result;
  const uint32_t syndrome = compute_crc(data, size) ^ stored_crc;
  if (syndrome == 0) return result;
  if (std::popcount(syndrome) == 1) {
    // Every data-bit syndrome has more than one bit set (distance >= 3), so
    // this is a flip in dwCRC itself.
    result.kind = CrcCorrection::kCrcBit;
    result.bit_index = size_t(std::countr_zero(syndrome));
    return result;
  }
  result.kind = CrcCorrection::kUncorrectable;
  if (size == 0 || size > max_size) return result;
  // Bit j of byte i alone gives kTable[1 << j] after that byte, then
  // size-1-i zero bytes. Walk back from the last byte, stepping all eight
  // candidates one zero byte per byte: 8 * size steps. Every position is
  // compared, so a second match (impossible within the bound) is noticed.
  std::array<uint32_t, 8> s;
  for (int j = 0; j < 8; ++j) s[size_t(j)] = kTable[1u << j];
  size_t matches = 0, found = 0;
  for (size_t k = 0; k < size; ++k) {
    const size_t byte = size - 1 - k;
    for (int j = 0; j < 8; ++j) {
      if (s[size_t(j)] == syndrome) {
        ++matches;
        found = byte * 8 + size_t(j);
      }
      s[size_t(j)] = zero_byte_step(s[size_t(j)]);
    }
  }
  if (matches != 1) return result;
  data[found / 8] ^= uint8_t(1u << (found % 8));
  if (compute_crc(data, size) != stored_crc) {
    data[found / 8] ^= uint8_t(1u << (found % 8));  // cannot happen for a linear CRC; never keep a guess
    return result;
  }
  result.kind = CrcCorrection::kDataBit;
  result.bit_index = found;
  return result;
}

}  // namespace pstkit::ndb
