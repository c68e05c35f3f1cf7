// sha256_two (src/cli/sha256.cpp), the export's two-stream SHA-256: the
// same digests as nettle for every pair of lengths around the block and
// padding boundaries, unaligned data, and large buffers.
#include "cli/sha256.h"

#include <gtest/gtest.h>
#include <nettle/sha2.h>

#include <random>

namespace pstkit::cli {
namespace {

Sha256Digest nettle_sha256(ByteView data) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, data.size(), data.data());
  Sha256Digest d;
  sha256_digest(&ctx, d.size(), d.data());
  return d;
}

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = uint8_t(rng());
  return b;
}

TEST(Sha256Two, MatchesNettleForEveryPairOfLengthsAroundTheBoundaries) {
  std::printf("SHA-NI interleaved: %s\n", sha256_two_uses_sha_ni() ? "yes" : "no (nettle)");
  const Bytes pool = random_bytes(4096 + 64, 7);
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 200; ++n) lengths.push_back(n);
  for (size_t n : {255, 256, 257, 447, 448, 511, 512, 513, 1000, 4095, 4096}) lengths.push_back(n);
  for (size_t a : lengths) {
    for (size_t b : {size_t{0}, size_t{1}, size_t{55}, size_t{56}, size_t{64}, size_t{119}, size_t{120}, size_t{128},
                     size_t{200}, size_t{513}, size_t{4096}}) {
      // Unaligned starts, different for the two.
      const ByteView va(pool.data() + 1, a), vb(pool.data() + 3 + (a % 61), b);
      Sha256Digest da, db;
      sha256_two(va, vb, &da, &db);
      ASSERT_EQ(da, nettle_sha256(va)) << a << " and " << b;
      ASSERT_EQ(db, nettle_sha256(vb)) << a << " and " << b;
      sha256_two(vb, va, &db, &da);
      ASSERT_EQ(da, nettle_sha256(va)) << b << " and " << a;
      ASSERT_EQ(db, nettle_sha256(vb)) << b << " and " << a;
    }
  }
}

TEST(Sha256Two, MatchesNettleOnLargeBuffers) {
  const Bytes a = random_bytes((3 << 20) + 17, 1), b = random_bytes((5 << 20) + 64, 2);
  Sha256Digest da, db;
  sha256_two(a, b, &da, &db);
  EXPECT_EQ(da, nettle_sha256(a));
  EXPECT_EQ(db, nettle_sha256(b));
  sha256_two(a, a, &da, &db);  // the same buffer twice
  EXPECT_EQ(da, nettle_sha256(a));
  EXPECT_EQ(db, da);
}

TEST(Sha256Two, KnownDigestsInHex) {
  Sha256Digest d1, d2;
  const std::string abc = "abc";
  sha256_two(ByteView(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()), ByteView(), &d1, &d2);
  // FIPS 180-4 examples: "abc" and the empty message.
  EXPECT_EQ(sha256_digest_hex(d1), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_digest_hex(d2), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace pstkit::cli
