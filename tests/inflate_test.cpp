// Inflating compressed 4K-page OST blocks: the engine chosen (ISA-L where
// installed) and zlib's agree on good streams and both refuse damaged
// ones: a bad Adler-32, a cut stream, a wrong inflated size, a bad header.
#include "ndb/inflate.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "pstkit/bytes.h"

namespace pstkit::ndb {
namespace {

// Text-like data that compresses: words from a small vocabulary.
Bytes compressible(size_t n, uint32_t seed) {
  static const char* const kWords[] = {"mail ", "store ", "folder ", "the ", "of ", "Outlook ", "\r\n", "attachment "};
  std::mt19937 rng(seed);
  Bytes out;
  while (out.size() < n) {
    const char* w = kWords[rng() % 8];
    while (*w && out.size() < n) out.push_back(uint8_t(*w++));
  }
  return out;
}

Bytes deflate_zlib(const Bytes& plain, int level) {
  uLongf len = compressBound(uLong(plain.size()));
  Bytes z(len);
  EXPECT_EQ(compress2(z.data(), &len, plain.data(), uLong(plain.size()), level), Z_OK);
  z.resize(len);
  return z;
}

bool inflates(const InflateEngine& engine, const Bytes& z, size_t out_size, Bytes* out, std::string* why) {
  out->assign(out_size, 0xCC);
  return engine.inflate(z.data(), z.size(), out->data(), out->size(), why);
}

const InflateEngine* engines[] = {&inflate_engine(), &zlib_inflate_engine()};

TEST(Inflate, IsaLIsUsedWhereItIsInstalled) {
  void* isal = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
#ifdef PSTKIT_HAVE_ISAL_HEADER
  EXPECT_EQ(std::string(inflate_engine().name), isal ? "isa-l" : "zlib");
#else
  EXPECT_EQ(std::string(inflate_engine().name), "zlib");
#endif
  if (isal) dlclose(isal);
}

TEST(Inflate, GoodStreamsOfEverySizeAndLevel) {
  std::mt19937 rng(3);
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{100}, size_t{4000}, size_t{8176}, size_t{32768},
                   size_t{65000}}) {
    for (int level : {0, 1, 6, 9}) {
      Bytes plain = compressible(n, uint32_t(n + level));
      if (level == 1) for (auto& b : plain) b = uint8_t(rng());  // incompressible: stored blocks
      const Bytes z = deflate_zlib(plain, level);
      for (const InflateEngine* engine : engines) {
        Bytes out;
        std::string why;
        ASSERT_TRUE(inflates(*engine, z, plain.size(), &out, &why)) << engine->name << " " << n << " level " << level
                                                                     << ": " << why;
        ASSERT_EQ(out, plain) << engine->name << " " << n << " level " << level;
      }
    }
  }
}

TEST(Inflate, DamagedStreamsAreRefused) {
  const Bytes plain = compressible(8000, 9);
  const Bytes z = deflate_zlib(plain, 6);
  for (const InflateEngine* engine : engines) {
    SCOPED_TRACE(engine->name);
    Bytes out;
    std::string why;
    // The Adler-32 (the stream's last four bytes).
    Bytes bad_sum = z;
    bad_sum.back() ^= 0x01;
    EXPECT_FALSE(inflates(*engine, bad_sum, plain.size(), &out, &why));
    EXPECT_NE(why.find(engine->name), std::string::npos) << why;
    // Cut short: inside the trailer, and inside the data.
    for (size_t cut : {size_t{1}, size_t{4}, z.size() / 2}) {
      Bytes shorter(z.begin(), z.end() - long(cut));
      why.clear();
      EXPECT_FALSE(inflates(*engine, shorter, plain.size(), &out, &why)) << "cut " << cut;
      EXPECT_FALSE(why.empty());
    }
    // Inflating to more or fewer bytes than the block says.
    EXPECT_FALSE(inflates(*engine, z, plain.size() - 1, &out, &why));
    EXPECT_FALSE(inflates(*engine, z, plain.size() + 1, &out, &why));
    // The header: a compression method other than deflate, a bad check.
    Bytes bad_method = z;
    bad_method[0] = uint8_t((bad_method[0] & 0xF0) | 0x07);
    EXPECT_FALSE(inflates(*engine, bad_method, plain.size(), &out, &why));
    Bytes bad_check = z;
    bad_check[1] ^= 0x01;
    EXPECT_FALSE(inflates(*engine, bad_check, plain.size(), &out, &why));
    // Nothing at all.
    EXPECT_FALSE(inflates(*engine, Bytes{}, plain.size(), &out, &why));
  }
}

// Every single-bit flip of a stream: neither engine turns it into other
// bytes (a flip fails the header check, the inflation or the Adler-32, or
// lies in bits the stream does not use), and neither reads or writes out
// of bounds (ASan; ISA-L itself is not instrumented).
TEST(Inflate, EveryBitFlipIsRefusedByBothEngines) {
  const Bytes plain = compressible(3000, 21);
  const Bytes z = deflate_zlib(plain, 9);
  Bytes out;
  std::string why;
  for (size_t bit = 0; bit < z.size() * 8; ++bit) {
    Bytes flipped = z;
    flipped[bit / 8] ^= uint8_t(1u << (bit % 8));
    for (const InflateEngine* engine : engines) {
      const bool ok = inflates(*engine, flipped, plain.size(), &out, &why);
      EXPECT_TRUE(!ok || out == plain) << engine->name << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace pstkit::ndb
