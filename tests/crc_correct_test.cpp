// Single-bit correction with the MS-PST CRC (src/ndb/crc_correct.h): every
// flipped bit is found and undone, a flip in the stored CRC is told apart
// from one in the data, and two flips are never "corrected".
#include "ndb/crc_correct.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <random>

#include "ndb/byte_source.h"
#include "ndb/page.h"
#include "pstkit/bytes.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {
namespace {

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = uint8_t(rng());
  return b;
}

void expect_corrects_bit(const Bytes& original, uint32_t crc, size_t bit) {
  Bytes damaged = original;
  damaged[bit / 8] ^= uint8_t(1u << (bit % 8));
  const CrcCorrection c = correct_single_bit(damaged.data(), damaged.size(), crc);
  ASSERT_EQ(c.kind, CrcCorrection::kDataBit) << "size " << original.size() << " bit " << bit;
  ASSERT_EQ(c.bit_index, bit);
  ASSERT_EQ(damaged, original);
}

TEST(CrcCorrect, IntactDataIsLeftAlone) {
  Bytes b = random_bytes(1000, 1);
  const Bytes before = b;
  EXPECT_EQ(correct_single_bit(b.data(), b.size(), compute_crc(b.data(), b.size())).kind, CrcCorrection::kNone);
  EXPECT_EQ(b, before);
}

// Every bit position, in blocks of several sizes (a page body is 496 or
// 4072 bytes; a one-byte block is the smallest).
TEST(CrcCorrect, EveryBitOfSmallAndPageSizedBlocks) {
  for (size_t size : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, size_t{496}, size_t{1021}}) {
    const Bytes original = random_bytes(size, uint32_t(size));
    const uint32_t crc = compute_crc(original.data(), original.size());
    for (size_t bit = 0; bit < size * 8; ++bit) expect_corrects_bit(original, crc, bit);
  }
}

// Every bit of a 4 KiB page body and of the largest Unicode block would be
// 10^9-10^10 steps; every bit of the first and last 64 bytes and every
// 13th bit between them.
TEST(CrcCorrect, BitsOfLargeBlocks) {
  for (size_t size : {size_t{4072}, size_t{8176}, kMaxCorrectableBytes}) {
    const Bytes original = random_bytes(size, uint32_t(size));
    const uint32_t crc = compute_crc(original.data(), original.size());
    for (size_t bit = 0; bit < size * 8; bit += (bit < 512 || bit >= size * 8 - 512) ? 1 : 61) {
      expect_corrects_bit(original, crc, bit);
    }
  }
}

TEST(CrcCorrect, FlipInTheStoredCrcLeavesTheDataAlone) {
  for (size_t size : {size_t{1}, size_t{496}, size_t{8176}}) {
    const Bytes original = random_bytes(size, 7);
    const uint32_t crc = compute_crc(original.data(), original.size());
    for (int bit = 0; bit < 32; ++bit) {
      Bytes b = original;
      const CrcCorrection c = correct_single_bit(b.data(), b.size(), crc ^ (1u << bit));
      ASSERT_EQ(c.kind, CrcCorrection::kCrcBit) << "size " << size << " CRC bit " << bit;
      EXPECT_EQ(c.bit_index, size_t(bit));
      EXPECT_EQ(b, original);
    }
  }
}

// Two flipped bits (in the data, or one in the data and one in the CRC) must
// never be taken for one: within kMaxCorrectableBytes no two-bit error has a
// single-bit error's syndrome, and the data is left as it was.
TEST(CrcCorrect, TwoFlipsAreNeverCorrected) {
  std::mt19937 rng(42);
  for (size_t size : {size_t{2}, size_t{64}, size_t{496}, size_t{4072}, size_t{8176}}) {
    const Bytes original = random_bytes(size, uint32_t(size) + 1);
    const uint32_t crc = compute_crc(original.data(), original.size());
    const int trials = size > 1000 ? 40 : 400;
    for (int t = 0; t < trials; ++t) {
      const size_t a = rng() % (size * 8);
      size_t b = rng() % (size * 8);
      if (b == a) b = (a + 1) % (size * 8);
      Bytes damaged = original;
      damaged[a / 8] ^= uint8_t(1u << (a % 8));
      uint32_t stored = crc;
      if (t % 4 == 0) {
        stored ^= 1u << (rng() % 32);  // the second flip in dwCRC
      } else {
        damaged[b / 8] ^= uint8_t(1u << (b % 8));
      }
      const Bytes before = damaged;
      const CrcCorrection c = correct_single_bit(damaged.data(), damaged.size(), stored);
      ASSERT_EQ(c.kind, CrcCorrection::kUncorrectable) << "size " << size << " bits " << a << ", " << b;
      ASSERT_EQ(damaged, before);
    }
  }
  // Both flips in the same byte.
  const Bytes original = random_bytes(300, 3);
  const uint32_t crc = compute_crc(original.data(), original.size());
  for (size_t byte = 0; byte < original.size(); ++byte) {
    Bytes damaged = original;
    damaged[byte] ^= 0x11;
    EXPECT_EQ(correct_single_bit(damaged.data(), damaged.size(), crc).kind, CrcCorrection::kUncorrectable);
  }
}

TEST(CrcCorrect, DataLongerThanTheBoundIsNotCorrected) {
  const Bytes original = random_bytes(kMaxCorrectableBytes + 1, 9);
  const uint32_t crc = compute_crc(original.data(), original.size());
  Bytes damaged = original;
  damaged[100] ^= 4;
  const Bytes before = damaged;
  EXPECT_EQ(correct_single_bit(damaged.data(), damaged.size(), crc).kind, CrcCorrection::kUncorrectable);
  EXPECT_EQ(damaged, before);
}

// A compressed 4K-page OST block longer than kMaxCorrectableBytes: its
// single flipped bit is corrected because the result must also inflate
// (zlib's Adler-32); an uncompressed one that long is left, and so is a
// compressed one with two flips.
TEST(CrcCorrect, LargeCompressedOstBlockIsCorrectedWhenItInflates) {
  Header h;
  h.format = FileFormat::kUnicode4k;
  set_format_sizes(h);
  Bytes plain = random_bytes(30000, 5);
  for (size_t i = 0; i < plain.size(); i += 3) plain[i] = 0;  // compressible, but not below the bound
  uLongf len = compressBound(uLong(plain.size()));
  Bytes z(len);
  ASSERT_EQ(compress(z.data(), &len, plain.data(), uLong(plain.size())), Z_OK);
  z.resize(len);
  ASSERT_GT(z.size(), kMaxCorrectableBytes);
  ASSERT_LT(z.size(), plain.size());
  BlockEntry e;
  e.bid = 0x1004;
  e.offset = 0x10000;
  e.stored_size = uint32_t(z.size());
  e.inflated_size = uint32_t(plain.size());
  Bytes disk(size_t(block_disk_size(h, e.stored_size)));
  std::copy(z.begin(), z.end(), disk.begin());
  const size_t at = disk.size() - h.block_trailer_size;  // cb, wSig, dwCRC, bid (MS-PST 2.2.2.8.1)
  store_le16(disk.data() + at, uint16_t(e.stored_size));
  store_le16(disk.data() + at + 2, compute_signature(e.offset, e.bid));
  store_le32(disk.data() + at + 4, compute_crc(z.data(), z.size()));
  store_le64(disk.data() + at + 8, e.bid);

  Bytes one = disk;
  one[12345] ^= 0x08;
  ASSERT_TRUE(correct_block_bits(h, e, one.data(), one.size()).corrected);
  auto inflated = decode_block(h, e, ByteView(one), true);
  ASSERT_TRUE(inflated.is_ok()) << inflated.status().message();
  EXPECT_EQ(*inflated, plain);

  Bytes two = disk;
  two[100] ^= 0x01;
  two[20000] ^= 0x40;
  EXPECT_FALSE(correct_block_bits(h, e, two.data(), two.size()).corrected);

  BlockEntry stored_plain = e;  // the same bytes taken as an uncompressed block
  stored_plain.inflated_size = stored_plain.stored_size;
  Bytes uncompressed = disk;
  uncompressed[12345] ^= 0x08;
  EXPECT_FALSE(correct_block_bits(h, stored_plain, uncompressed.data(), uncompressed.size()).corrected);
}

}  // namespace
}  // namespace pstkit::ndb
