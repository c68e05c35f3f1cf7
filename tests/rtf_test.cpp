// Compressed RTF codec: the MS-OXRTFCP section 3 examples byte for byte,
// round trips, and damaged streams.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "pstkit/rtf.h"

namespace pstkit::rtf {
namespace {

Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string to_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

// MS-OXRTFCP 3.1.1 / 3.2.1, "Example 1: Simple Compressed RTF".
const Bytes kExample1 = {
    0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5, 0xc7,
    0xa7, 0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a,
    0xf3, 0x20, 0x68, 0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d,
    0x0a, 0x80, 0x0f, 0xa0};
const std::string_view kExample1Rtf = "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n";

// MS-OXRTFCP 3.1.2 / 3.2.2, "Example 2": a reference that crosses the
// write position, so it repeats bytes it is itself producing.
const Bytes kExample2 = {0x1a, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x4c, 0x5a,
                         0x46, 0x75, 0xe2, 0xd4, 0x4b, 0x51, 0x41, 0x00, 0x04, 0x20,
                         0x57, 0x58, 0x59, 0x5a, 0x0d, 0x6e, 0x7d, 0x01, 0x0e, 0xb0};
const std::string_view kExample2Rtf = "{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}";

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = uint8_t(rng());
  return b;
}

// RTF-like text: control words from a small vocabulary plus words, so the
// compressor finds matches both in the initial dictionary and in the input.
Bytes rtf_like(size_t n, uint32_t seed) {
  static const char* const kPieces[] = {"\\par ", "\\pard", "\\plain", "\\f0", "\\fs20", "{",
                                        "}", "hello ", "world ", "Lorem ", "ipsum ", "\\b ",
                                        "\\i0 ", "\r\n", "\\tab ", "x", "\\'e9"};
  std::mt19937 rng(seed);
  std::string s = "{\\rtf1\\ansi\\ansicpg1252";
  while (s.size() < n) s += kPieces[rng() % (sizeof(kPieces) / sizeof(kPieces[0]))];
  s.resize(n);
  return to_bytes(s);
}

void expect_round_trip(const Bytes& input) {
  Bytes packed = compress(input);
  ASSERT_GE(packed.size(), kHeaderSize);
  auto info = inspect(packed);
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->comp_type, kCompTypeCompressed);
  EXPECT_EQ(info->raw_size, input.size());
  EXPECT_EQ(info->comp_size + 4u, packed.size());
  EXPECT_TRUE(info->crc_ok());
  auto out = decompress(packed);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, input);
}

TEST(RtfCrc, MatchesSpecExamples) {
  EXPECT_EQ(crc32(ByteView(kExample1).sub(kHeaderSize)), 0xa7c7c5f1u);
  EXPECT_EQ(crc32(ByteView(kExample2).sub(kHeaderSize)), 0x514bd4e2u);
  EXPECT_EQ(crc32(ByteView()), 0u);
}

TEST(RtfCrc, DiffersFromZlibCrc) {
  // zlib's crc32("123456789") is 0xcbf43926; this variant skips the
  // pre- and post-inversion.
  Bytes check = to_bytes("123456789");
  EXPECT_NE(crc32(check), 0xcbf43926u);
  EXPECT_EQ(crc32(check), 0x2dfd2d88u);
}

TEST(RtfDecompress, SpecExample1) {
  auto out = decompress(kExample1);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(to_string(*out), kExample1Rtf);
}

TEST(RtfDecompress, SpecExample2CrossesWritePosition) {
  auto out = decompress(kExample2);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(to_string(*out), kExample2Rtf);
}

TEST(RtfCompress, ReproducesSpecExamplesByteForByte) {
  EXPECT_EQ(compress(to_bytes(kExample1Rtf)), kExample1);
  EXPECT_EQ(compress(to_bytes(kExample2Rtf)), kExample2);
}

TEST(RtfInspect, ReportsHeaderAndCrc) {
  auto info = inspect(kExample1);
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->comp_size, 0x2du);
  EXPECT_EQ(info->raw_size, 0x2bu);
  EXPECT_EQ(info->comp_type, kCompTypeCompressed);
  EXPECT_EQ(info->crc_stored, 0xa7c7c5f1u);
  EXPECT_EQ(info->crc_computed, 0xa7c7c5f1u);
  EXPECT_TRUE(info->crc_ok());
}

TEST(RtfRoundTrip, Empty) {
  expect_round_trip({});
  // Control byte plus the end-marker reference at offset 207.
  EXPECT_EQ(compress({}).size(), kHeaderSize + 3);
}

TEST(RtfRoundTrip, OneByte) {
  expect_round_trip({'x'});
  expect_round_trip({0});
  expect_round_trip({0xff});
}

TEST(RtfRoundTrip, Repetitive) {
  expect_round_trip(Bytes(10000, 'a'));
  expect_round_trip(Bytes(17, 'b'));
  expect_round_trip(Bytes(18, 'b'));
  std::string s;
  for (int i = 0; i < 500; ++i) s += "\\par \\pard\\plain ";
  Bytes input = to_bytes(s);
  expect_round_trip(input);
  EXPECT_LT(compress(input).size(), input.size() / 5);
}

TEST(RtfRoundTrip, Random) {
  for (size_t n : {2u, 3u, 15u, 16u, 17u, 100u, 4095u, 4096u, 4097u, 20000u}) {
    SCOPED_TRACE(n);
    expect_round_trip(random_bytes(n, uint32_t(n)));
  }
}

TEST(RtfRoundTrip, RtfLikeAcrossDictionaryWrap) {
  // Well past 4096 bytes so the ring wraps many times and references cross
  // the wrap point.
  for (size_t n : {300u, 4000u, 4096u + 207u, 50000u}) {
    SCOPED_TRACE(n);
    Bytes input = rtf_like(n, uint32_t(n));
    expect_round_trip(input);
    EXPECT_LT(compress(input).size(), input.size());
  }
}

TEST(RtfRoundTrip, ReferencesIntoInitialDictionary) {
  expect_round_trip(to_bytes("{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}"));
  // The whole initial dictionary, then again: every match is long.
  std::string init =
      "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
      "\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
      "{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
  expect_round_trip(to_bytes(init + init));
}

TEST(RtfDecompress, CrcMismatchIsCorrupt) {
  Bytes bad = kExample1;
  bad[20] ^= 0x01;  // a literal inside the contents
  auto out = decompress(bad);
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), Code::kCorrupt);
  EXPECT_EQ(out.status().structure(), "compressed RTF");
  EXPECT_NE(out.status().detail().find("CRC"), std::string::npos);

  auto info = inspect(bad);
  ASSERT_TRUE(info.is_ok());
  EXPECT_FALSE(info->crc_ok());
  EXPECT_EQ(info->crc_stored, 0xa7c7c5f1u);

  // The caller may opt out of the check and still decode.
  DecompressOptions lax;
  lax.verify_crc = false;
  auto decoded = decompress(bad, lax);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(decoded->size(), kExample1Rtf.size());
}

TEST(RtfDecompress, StoredCrcWrong) {
  Bytes bad = kExample2;
  bad[12] ^= 0x80;
  EXPECT_EQ(decompress(bad).status().code(), Code::kCorrupt);
}

TEST(RtfDecompress, TruncatedHeader) {
  for (size_t n = 0; n < kHeaderSize; ++n) {
    auto out = decompress(ByteView(kExample1.data(), n));
    ASSERT_FALSE(out.is_ok());
    EXPECT_EQ(out.status().code(), Code::kTruncated);
    EXPECT_EQ(out.status().structure(), "compressed RTF");
    EXPECT_FALSE(inspect(ByteView(kExample1.data(), n)).is_ok());
  }
}

TEST(RtfDecompress, TruncatedContents) {
  // Cut buffers: COMPSIZE now points past the end.
  for (size_t n = kHeaderSize; n < kExample1.size(); ++n) {
    auto out = decompress(ByteView(kExample1.data(), n));
    ASSERT_FALSE(out.is_ok()) << n;
    EXPECT_EQ(out.status().code(), Code::kTruncated);
  }
  // Cut contents with a consistent header and CRC: the token stream itself
  // runs out. Only dropping the 2-byte end marker leaves RAWSIZE reachable.
  for (size_t n = kHeaderSize; n < kExample1.size(); ++n) {
    Bytes cut(kExample1.begin(), kExample1.begin() + n);
    store_le32(cut.data(), uint32_t(n - 4));
    store_le32(cut.data() + 12, crc32(ByteView(cut).sub(kHeaderSize)));
    auto out = decompress(cut);
    if (n >= kExample1.size() - 2) {
      ASSERT_TRUE(out.is_ok()) << n << ": " << out.status().message();
      EXPECT_EQ(to_string(*out), kExample1Rtf);
    } else {
      ASSERT_FALSE(out.is_ok()) << n;
      EXPECT_EQ(out.status().code(), Code::kTruncated);
      EXPECT_EQ(out.status().structure(), "compressed RTF");
    }
  }
}

TEST(RtfDecompress, MissingEndMarker) {
  // Example 1 without its final end-marker reference, header fixed up.
  Bytes cut(kExample1.begin(), kExample1.end() - 2);
  store_le32(cut.data(), uint32_t(cut.size() - 4));
  store_le32(cut.data() + 12, crc32(ByteView(cut).sub(kHeaderSize)));
  // All RAWSIZE bytes are produced, so the stream is complete.
  auto out = decompress(cut);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(to_string(*out), kExample1Rtf);

  // With a larger RAWSIZE the data really ended early.
  store_le32(cut.data() + 4, 100);
  auto short_out = decompress(cut);
  ASSERT_FALSE(short_out.is_ok());
  EXPECT_EQ(short_out.status().code(), Code::kTruncated);
  DecompressOptions salvage;
  salvage.allow_partial = true;
  auto partial = decompress(cut, salvage);
  ASSERT_TRUE(partial.is_ok());
  EXPECT_EQ(to_string(*partial), kExample1Rtf);
}

TEST(RtfDecompress, UnknownCompType) {
  Bytes bad = kExample1;
  bad[8] = 'X';
  auto out = decompress(bad);
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), Code::kCorrupt);
  EXPECT_EQ(inspect(bad).status().code(), Code::kCorrupt);
}

TEST(RtfDecompress, CompSizeInconsistentWithBuffer) {
  Bytes bad = kExample1;
  store_le32(bad.data(), 0x2e);  // one byte more than the buffer holds
  EXPECT_EQ(decompress(bad).status().code(), Code::kTruncated);
  store_le32(bad.data(), 0xffffffffu);
  EXPECT_EQ(decompress(bad).status().code(), Code::kTruncated);
  store_le32(bad.data(), 11);  // below the 12 header bytes it must count
  EXPECT_EQ(decompress(bad).status().code(), Code::kCorrupt);
}

TEST(RtfDecompress, TrailingBytesAfterCompSizeIgnored) {
  Bytes padded = kExample1;
  padded.insert(padded.end(), {0xde, 0xad, 0xbe, 0xef});
  auto out = decompress(padded);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(to_string(*out), kExample1Rtf);
}

TEST(RtfDecompress, StopsAtRawSize) {
  Bytes small = kExample1;
  store_le32(small.data() + 4, 10);  // RAWSIZE is outside the CRC
  auto out = decompress(small);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(to_string(*out), kExample1Rtf.substr(0, 10));

  store_le32(small.data() + 4, 0);
  auto none = decompress(small);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
}

TEST(RtfDecompress, EndMarkerBeforeRawSizeAccepted) {
  Bytes big = kExample1;
  store_le32(big.data() + 4, 1000);
  auto out = decompress(big);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(to_string(*out), kExample1Rtf);
}

TEST(RtfDecompress, MaxOutputEnforced) {
  Bytes packed = compress(Bytes(5000, 'z'));
  auto out = decompress(packed, 4999);
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), Code::kCorrupt);
  EXPECT_TRUE(decompress(packed, 5000).is_ok());

  // A huge RAWSIZE alone neither allocates nor fails.
  Bytes lying = kExample1;
  store_le32(lying.data() + 4, 0xffffffffu);
  auto lied = decompress(lying, 64);
  ASSERT_TRUE(lied.is_ok()) << lied.status().message();
  EXPECT_EQ(to_string(*lied), kExample1Rtf);
}

TEST(RtfDecompress, ReferencesToUnwrittenDictionaryReadZeros) {
  // Control byte 0x01: one reference to offset 0x300 (never written), length
  // 2, then nothing; RAWSIZE 2 stops right after it.
  Bytes s(kHeaderSize, 0);
  s.insert(s.end(), {0x01, 0x30, 0x00});
  store_le32(s.data(), uint32_t(s.size() - 4));
  store_le32(s.data() + 4, 2);
  store_le32(s.data() + 8, kCompTypeCompressed);
  store_le32(s.data() + 12, crc32(ByteView(s).sub(kHeaderSize)));
  auto out = decompress(s);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, Bytes({0, 0}));
}

TEST(RtfMela, UncompressedForm) {
  Bytes rtf = to_bytes(kExample1Rtf);
  Bytes wrapped = wrap_uncompressed(rtf);
  ASSERT_EQ(wrapped.size(), kHeaderSize + rtf.size());
  EXPECT_EQ(load_le32(wrapped.data()), rtf.size() + 12);
  EXPECT_EQ(load_le32(wrapped.data() + 8), kCompTypeUncompressed);
  EXPECT_EQ(Bytes(wrapped.begin() + 8, wrapped.begin() + 12), to_bytes("MELA"));
  auto info = inspect(wrapped);
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->crc_stored, 0u);
  EXPECT_TRUE(info->crc_ok());
  auto out = decompress(wrapped);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(*out, rtf);
}

TEST(RtfMela, DamagedUncompressedForm) {
  Bytes wrapped = wrap_uncompressed(to_bytes("{\\rtf1 hi}"));
  // RAWSIZE larger than the contents: truncated unless salvaging.
  Bytes longer = wrapped;
  store_le32(longer.data() + 4, 100);
  EXPECT_EQ(decompress(longer).status().code(), Code::kTruncated);
  DecompressOptions salvage;
  salvage.allow_partial = true;
  auto partial = decompress(longer, salvage);
  ASSERT_TRUE(partial.is_ok());
  EXPECT_EQ(to_string(*partial), "{\\rtf1 hi}");
  // RAWSIZE smaller: stop there.
  Bytes shorter = wrapped;
  store_le32(shorter.data() + 4, 3);
  auto cut = decompress(shorter);
  ASSERT_TRUE(cut.is_ok());
  EXPECT_EQ(to_string(*cut), "{\\r");
  EXPECT_FALSE(decompress(wrapped, 5).is_ok());
  // A nonzero CRC violates the spec; inspect reports it.
  Bytes crc = wrapped;
  store_le32(crc.data() + 12, 7);
  EXPECT_FALSE(inspect(crc)->crc_ok());
}

TEST(RtfDecompress, GarbageNeverCrashes) {
  // Random contents behind a valid header: any outcome but a crash is fine,
  // and output stays within the limit.
  for (uint32_t seed = 0; seed < 300; ++seed) {
    Bytes s(kHeaderSize, 0);
    Bytes body = random_bytes(1 + seed % 200, seed);
    s.insert(s.end(), body.begin(), body.end());
    store_le32(s.data(), uint32_t(s.size() - 4));
    store_le32(s.data() + 4, seed * 37);
    store_le32(s.data() + 8, kCompTypeCompressed);
    store_le32(s.data() + 12, crc32(body));
    auto out = decompress(s, 1000);
    if (out.is_ok()) {
      EXPECT_LE(out->size(), 1000u);
    }
  }
}

}  // namespace
}  // namespace pstkit::rtf
