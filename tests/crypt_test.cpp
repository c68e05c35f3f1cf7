// MS-PST 5.1 permutative encoding and 5.3 CRC (src/ndb/crypt.cpp). The
// table lookup runs 32 bytes at a time where the CPU has AVX2 and a byte at
// a time otherwise and for short runs; every length and offset must give
// the byte-at-a-time answer, and decoding must undo encoding. The CRC comes
// from ISA-L where it is installed, else zlib: it must be zlib's CRC-32
// without the inversions, and ISA-L's wherever the library loads.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <random>
#include <string>

#include "ndb/byte_substitution.h"
#include "ndb/crc32.h"
#include "pstkit/bytes.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {
namespace {

// Each byte encoded alone: calls of one byte never take the wide path.
Bytes one_byte_at_a_time(Bytes data, void (*code)(uint8_t*, size_t)) {
  for (auto& b : data) code(&b, 1);
  return data;
}

TEST(Permute, KnownAnswersFromTheSpec) {
  // MS-PST 5.1 mpbbCrypt: the first entries of table R (encoding).
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = uint8_t(i);
  Bytes encoded = all;
  encode_permute(encoded.data(), encoded.size());
  EXPECT_EQ(encoded[0], 65);
  EXPECT_EQ(encoded[1], 54);
  EXPECT_EQ(encoded[2], 19);
  EXPECT_EQ(encoded[3], 98);
  EXPECT_EQ(encoded[255], one_byte_at_a_time(Bytes{255}, encode_permute)[0]);
  // R is a permutation, and I its inverse.
  Bytes sorted = encoded;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, all);
  decode_permute(encoded.data(), encoded.size());
  EXPECT_EQ(encoded, all);
}

TEST(Permute, EveryLengthAndOffsetMatchesTheByteLoop) {
  std::mt19937 rng(7);
  Bytes source(4096 + 64);
  for (auto& b : source) b = uint8_t(rng());
  for (size_t offset : {0, 1, 7, 31}) {
    for (size_t length = 0; length <= 300; ++length) {
      Bytes data(source.begin() + offset, source.begin() + offset + length);
      const Bytes want = one_byte_at_a_time(data, decode_permute);
      decode_permute(data.data(), data.size());
      ASSERT_EQ(data, want) << "offset " << offset << " length " << length;
      encode_permute(data.data(), data.size());
      ASSERT_EQ(data, Bytes(source.begin() + offset, source.begin() + offset + length));
    }
  }
  Bytes block(source.begin(), source.begin() + 4096 + 17);
  const Bytes want = one_byte_at_a_time(block, encode_permute);
  encode_permute(block.data(), block.size());
  EXPECT_EQ(block, want);
}

// Each SIMD version this CPU has, not only the one chosen, against the byte
// loop: every length through two vectors and a tail, at several alignments.
TEST(Permute, EverySubstitutionKernelMatchesTheByteLoop) {
  const auto& kernels = byte_substitutions();
  ASSERT_FALSE(kernels.empty());
  EXPECT_STREQ(kernels.back().name, "bytes");
  std::mt19937 rng(19);
  Bytes table(256);
  for (size_t i = 0; i < 256; ++i) table[i] = uint8_t(i);
  std::shuffle(table.begin(), table.end(), rng);
  Bytes source(1024 + 64);
  for (auto& b : source) b = uint8_t(rng());
  for (const ByteSubstitution& kernel : kernels) {
    for (size_t offset : {0, 1, 13, 63}) {
      for (size_t length = 0; length <= 520; ++length) {
        Bytes data(source.begin() + offset, source.begin() + offset + length);
        Bytes want = data;
        for (auto& b : want) b = table[b];
        kernel.run(table.data(), data.data(), data.size());
        ASSERT_EQ(data, want) << kernel.name << " offset " << offset << " length " << length;
      }
    }
  }
}

// Each cyclic version this CPU has against the byte loop: every length
// through two vectors and a tail, at several alignments, with keys whose
// word wraps within a vector (low byte near 255) and past 0xFFFF.
TEST(Cyclic, EveryCodingMatchesTheByteLoop) {
  const auto& kernels = cyclic_codings();
  ASSERT_FALSE(kernels.empty());
  EXPECT_STREQ(kernels.back().name, "bytes");
  const auto reference = kernels.back().run;
  std::mt19937 rng(23);
  Bytes source(1024 + 64);
  for (auto& b : source) b = uint8_t(rng());
  for (const CyclicCoding& kernel : kernels) {
    for (uint32_t key : {0u, 1u, 0xE5u, 0xFFu, 0x1F0u, 0xFFE7u, 0xFFFFu, 0x12345678u, 0xFFFF0000u, 0xDEADBEEFu}) {
      for (size_t offset : {0, 1, 13, 63}) {
        for (size_t length = 0; length <= 200; ++length) {
          Bytes data(source.begin() + offset, source.begin() + offset + length);
          Bytes want = data;
          reference(want.data(), want.size(), key);
          kernel.run(data.data(), data.size(), key);
          ASSERT_EQ(data, want) << kernel.name << " key " << key << " offset " << offset << " length " << length;
          kernel.run(data.data(), data.size(), key);  // symmetric: twice gives the bytes back
          ASSERT_TRUE(std::equal(data.begin(), data.end(), source.begin() + long(offset))) << kernel.name;
        }
      }
      // A whole block, through code_cyclic itself.
      Bytes block(source.begin(), source.begin() + 1000);
      Bytes want = block;
      reference(want.data(), want.size(), key);
      code_cyclic(block.data(), block.size(), key);
      ASSERT_EQ(block, want) << "code_cyclic key " << key;
    }
  }
}

TEST(Crc, IsZlibsCrc32WithoutTheInversions) {
  std::mt19937 rng(11);
  Bytes data(70000);
  for (auto& b : data) b = uint8_t(rng());
  for (size_t length : {size_t{0}, size_t{1}, size_t{3}, size_t{15}, size_t{16}, size_t{63}, size_t{64},
                        size_t{255}, size_t{512}, size_t{8176}, size_t{65536}, size_t{70000}}) {
    for (size_t offset : {0, 1, 5}) {
      if (offset + length > data.size()) continue;
      for (uint32_t seed : {0u, 0xFFFFFFFFu, 0x12345678u}) {
        const uint32_t want = ~uint32_t(crc32_z(~seed, data.data() + offset, length));
        ASSERT_EQ(compute_crc(data.data() + offset, length, seed), want)
            << crc32_function().name << " length " << length << " offset " << offset << " seed " << seed;
      }
    }
  }
  // MS-PST 5.3: a CRC continued over the second half equals the whole one.
  EXPECT_EQ(compute_crc(data.data() + 100, 900, compute_crc(data.data(), 100)), compute_crc(data.data(), 1000));
}

TEST(Crc, IsaLIsUsedWhereItIsInstalled) {
  void* isal = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
  EXPECT_EQ(std::string(crc32_function().name), isal ? "isa-l" : "zlib");
  if (isal) dlclose(isal);
}

}  // namespace
}  // namespace pstkit::ndb
