// Code page and UTF conversions.
#include "pstkit/codepage.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "pstkit/utf.h"

namespace pstkit {
namespace {

ByteView bv(std::string_view s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }

const std::string kFffd = "\xEF\xBF\xBD";

// The 7-bit runs are scanned and narrowed 8 and 16 units at a time: every
// length around those steps, with one other unit at every place (or none),
// against a unit-by-unit encoder, in both byte orders. 0x0080 has its high
// byte zero and 0x0100 its low byte 7-bit: neither is ASCII.
TEST(Utf16ToUtf8, AsciiRunsOfEveryLengthAroundTheVectorSteps) {
  auto utf8_of = [](const std::u16string& s) {
    std::string out;
    for (const char16_t u : s) {
      if (u < 0x80) {
        out += char(u);
      } else if (u < 0x800) {
        out += char(0xC0 | (u >> 6));
        out += char(0x80 | (u & 0x3F));
      } else {
        out += char(0xE0 | (u >> 12));
        out += char(0x80 | ((u >> 6) & 0x3F));
        out += char(0x80 | (u & 0x3F));
      }
    }
    return out;
  };
  auto bytes = [](const std::u16string& s, bool big_endian) {
    Bytes b;
    for (const char16_t u : s)
      b.insert(b.end(), big_endian ? std::initializer_list<uint8_t>{uint8_t(u >> 8), uint8_t(u)}
                                   : std::initializer_list<uint8_t>{uint8_t(u), uint8_t(u >> 8)});
    return b;
  };
  for (const char16_t other : {u'\u0080', u'\u0100', u'\u00e9', u'\u20ac', u'\u7f00'}) {
    for (size_t n = 0; n <= 70; ++n) {
      for (size_t at = 0; at <= n; ++at) {  // at == n: all 7-bit
        std::u16string s;
        for (size_t i = 0; i < n; ++i) s += char16_t(i == at ? other : u'a' + char16_t((i * 7) % 26));
        ASSERT_EQ(utf16le_to_utf8(bytes(s, false)), utf8_of(s)) << "length " << n << " other at " << at;
        ASSERT_EQ(utf16be_to_utf8(bytes(s, true)), utf8_of(s)) << "length " << n << " other at " << at;
      }
    }
  }
}

TEST(CodepageDecode, AsciiPassesThrough) {
  EXPECT_EQ(decode_codepage(bv("Hello, world"), 1252), "Hello, world");
  EXPECT_EQ(decode_codepage(bv("Hello"), 932), "Hello");
  EXPECT_EQ(decode_codepage(bv(std::string_view("a\0b", 3)), 1252), std::string("a\0b", 3));
  EXPECT_EQ(decode_codepage(bv(""), 1252), "");
}

TEST(CodepageDecode, Windows1252SmartQuotes) {
  EXPECT_EQ(decode_codepage(bv("\x93quoted\x94"), 1252), "\u201Cquoted\u201D");
  EXPECT_EQ(decode_codepage(bv("\x80 caf\xE9 \x85"), 1252), "\u20AC caf\u00E9 \u2026");
  // Undefined bytes keep their value as C1 controls, like Windows.
  EXPECT_EQ(decode_codepage(bv("\x81"), 1252), "\u0081");
}

TEST(CodepageDecode, Latin1AndAscii) {
  EXPECT_EQ(decode_codepage(bv("\x93\xE9"), 28591), "\u0093\u00E9");
  EXPECT_EQ(decode_codepage(bv("a\xE9z"), 20127), "a" + kFffd + "z");
}

TEST(CodepageDecode, CentralEuropeanAndCyrillic) {
  EXPECT_EQ(decode_codepage(bv("\xCF\xF0\xE8\xE2\xE5\xF2"), 1251), "Привет");
  EXPECT_EQ(decode_codepage(bv("\xF0\xD2\xC9\xD7\xC5\xD4"), 20866), "Привет");
  EXPECT_EQ(decode_codepage(bv("\xA3\xD3\x44\x8F"), 1250), "ŁÓDŹ");
  EXPECT_EQ(decode_codepage(bv("\xA3\xF3\x64\xBC"), 28592), "Łódź");
  EXPECT_EQ(decode_codepage(bv("\xC5\xEB\xEB\xDC\xE4\xE1"), 1253), "Ελλάδα");
  EXPECT_EQ(decode_codepage(bv("\xF9\xEC\xE5\xED"), 1255), "שלום");
  EXPECT_EQ(decode_codepage(bv("\xE4\xB7\xC2"), 874), "ไทย");
  EXPECT_EQ(decode_codepage(bv("\x9An\x8B" "c\x94" "d\x82"), 850), "Ünïcödé");
}

TEST(CodepageDecode, EastAsian) {
  EXPECT_EQ(decode_codepage(bv("\x93\xFA\x96\x7B\x8C\xEA"), 932), "日本語");
  EXPECT_EQ(decode_codepage(bv("\xC3\xBD\xC4"), 932), "ﾃｽﾄ");  // half-width katakana
  EXPECT_EQ(decode_codepage(bv("\xD6\xD0\xCE\xC4"), 936), "中文");
  EXPECT_EQ(decode_codepage(bv("\xC7\xD1\xB1\xB9\xBE\xEE"), 949), "한국어");
  EXPECT_EQ(decode_codepage(bv("\xA4\xA4\xA4\xE5"), 950), "中文");
  EXPECT_EQ(decode_codepage(bv("\xC6\xFC\xCB\xDC"), 51932), "日本");
  EXPECT_EQ(decode_codepage(bv("\xA2\xE3\x94\x32\xBE\x34"), 54936), "€𝄞");
}

TEST(CodepageDecode, StatefulEncodings) {
  EXPECT_EQ(decode_codepage(bv("\x1B$BF|K\\\x1B(B!"), 50220), "日本!");
  EXPECT_EQ(decode_codepage(bv("a\x1B(I1\x1B(B"), 50221), "aｱ");
  EXPECT_EQ(decode_codepage(bv("Hi +Jjo-!"), 65000), "Hi ☺!");
  EXPECT_EQ(decode_codepage(bv("~{VPND~} ~~ok"), 52936), "中文 ~ok");
  EXPECT_EQ(decode_codepage(bv("Hi ~~"), 52936), "Hi ~");
}

TEST(CodepageDecode, InvalidBytesBecomeReplacement) {
  // 0x80 is not a CP932 lead byte; 0x93 at the end is a cut-off sequence.
  EXPECT_EQ(decode_codepage(bv("x\x80y"), 932), "x" + kFffd + "y");
  EXPECT_EQ(decode_codepage(bv("ab\x93"), 932), "ab" + kFffd);
  EXPECT_EQ(decode_codepage(bv("\xFF\xFF"), 936), kFffd + kFffd);
  EXPECT_EQ(decode_codepage(bv("a\xFF" "b"), 65001), "a" + kFffd + "b");
  // Every byte value decodes to valid UTF-8 in every known code page.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(char(i));
  for (uint32_t cp : {437u, 850u, 874u, 932u, 936u, 949u, 950u, 1200u, 1201u, 1250u, 1251u, 1252u, 1253u,
                      1254u, 1255u, 1256u, 1257u, 1258u, 10000u, 12000u, 12001u, 20127u, 20866u, 21866u,
                      28591u, 28592u, 28605u, 50220u, 50221u, 50222u, 50225u, 51932u, 51949u, 52936u,
                      54936u, 65000u, 65001u}) {
    std::string out = decode_codepage(bv(all), cp);
    EXPECT_TRUE(is_valid_utf8(out)) << cp;
    EXPECT_FALSE(out.empty()) << cp;
  }
}

TEST(CodepageDecode, RandomBytesAlwaysGiveValidUtf8) {
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;  // LCG: deterministic across runs
    return uint8_t(seed >> 24);
  };
  for (uint32_t cp : {932u, 936u, 949u, 950u, 1200u, 1252u, 12000u, 50220u, 51932u, 52936u, 54936u, 65000u,
                      65001u}) {
    for (int round = 0; round < 50; ++round) {
      Bytes in(size_t(next() % 64));
      for (uint8_t& b : in) b = next();
      // Bias towards the escape characters stateful decoders care about.
      if (!in.empty() && round % 3 == 0) in[in.size() / 2] = (round % 2) ? 0x1B : '~';
      EXPECT_TRUE(is_valid_utf8(decode_codepage(in, cp))) << cp;
      EXPECT_TRUE(is_valid_utf8(utf16le_to_utf8(in)));
      std::string as_text(in.begin(), in.end());
      EXPECT_TRUE(is_valid_utf8(sanitize_utf8(as_text)));
      encode_codepage(as_text, cp);  // must not crash on invalid UTF-8
    }
  }
}

TEST(CodepageDecode, UnknownCodepageFallsBackTo1252) {
  EXPECT_FALSE(is_known_codepage(12345));
  EXPECT_EQ(decode_codepage(bv("\x93hi\x94"), 12345), "\u201Chi\u201D");
  EXPECT_EQ(decode_codepage(bv("\x93hi\x94"), 0), "\u201Chi\u201D");
}

TEST(CodepageDecode, UnicodeCodepages) {
  EXPECT_EQ(decode_codepage(bv(std::string_view("h\0i\0", 4)), 1200), "hi");
  EXPECT_EQ(decode_codepage(bv(std::string_view("\0h\0i", 4)), 1201), "hi");
  EXPECT_EQ(decode_codepage(bv(std::string_view("\x1E\xD1\x01\x00", 4)), 12000), "𝄞");
  EXPECT_EQ(decode_codepage(bv(std::string_view("\x00\x01\xD1\x1E", 4)), 12001), "𝄞");
  EXPECT_EQ(decode_codepage(bv(std::string_view("\x00\xD8\x00\x00", 4)), 12000), kFffd);
  EXPECT_EQ(decode_codepage(bv("\xC3\xA9"), 65001), "é");
}

TEST(CodepageDecode, CachePerThreadIsSafe) {
  auto work = [] {
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(decode_codepage(bv("\x93\xFA"), 932), "日");
      EXPECT_EQ(decode_codepage(bv("\xD6\xD0"), 936), "中");
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
}

TEST(CodepageEncode, RoundTrips) {
  EXPECT_EQ(str(encode_codepage("日本語", 932)), "\x93\xFA\x96\x7B\x8C\xEA");
  EXPECT_EQ(str(encode_codepage("\u201Cq\u201D", 1252)), "\x93q\x94");
  EXPECT_EQ(str(encode_codepage("Привет", 1251)), "\xCF\xF0\xE8\xE2\xE5\xF2");
  EXPECT_EQ(str(encode_codepage("hi", 1200)), std::string("h\0i\0", 4));
  EXPECT_EQ(str(encode_codepage("plain", 936)), "plain");
  // Unrepresentable characters and invalid UTF-8 become '?'.
  EXPECT_EQ(str(encode_codepage("a日b", 1252)), "a?b");
  EXPECT_EQ(str(encode_codepage("a\xFF" "b", 1252)), "a?b");
  EXPECT_EQ(str(encode_codepage("é", 99999)), "\xE9");
}

TEST(CodepageNames, IconvAndCharsetNames) {
  EXPECT_STREQ(codepage_iconv_name(932), "CP932");
  EXPECT_STREQ(codepage_iconv_name(28592), "ISO-8859-2");
  EXPECT_EQ(codepage_iconv_name(4242), nullptr);
  EXPECT_STREQ(codepage_charset_name(1252), "windows-1252");
  EXPECT_STREQ(codepage_charset_name(932), "shift_jis");
  EXPECT_STREQ(codepage_charset_name(65001), "utf-8");
  EXPECT_EQ(codepage_charset_name(4242), nullptr);
}

TEST(CodepageNames, CharsetToCodepage) {
  EXPECT_EQ(codepage_from_charset("iso-8859-1"), 28591u);
  EXPECT_EQ(codepage_from_charset("ISO-8859-15"), 28605u);
  EXPECT_EQ(codepage_from_charset("utf-8"), 65001u);
  EXPECT_EQ(codepage_from_charset("UTF8"), 65001u);
  EXPECT_EQ(codepage_from_charset("Shift_JIS"), 932u);
  EXPECT_EQ(codepage_from_charset("gb2312"), 936u);
  EXPECT_EQ(codepage_from_charset("GB18030"), 54936u);
  EXPECT_EQ(codepage_from_charset("windows-1252"), 1252u);
  EXPECT_EQ(codepage_from_charset("Windows-1251"), 1251u);
  EXPECT_EQ(codepage_from_charset("cp1250"), 1250u);
  EXPECT_EQ(codepage_from_charset("x-cp1253"), 1253u);
  EXPECT_EQ(codepage_from_charset("ibm852"), 852u);
  EXPECT_EQ(codepage_from_charset("us-ascii"), 20127u);
  EXPECT_EQ(codepage_from_charset("koi8-r"), 20866u);
  EXPECT_EQ(codepage_from_charset("big5"), 950u);
  EXPECT_EQ(codepage_from_charset("euc-kr"), 51949u);
  EXPECT_EQ(codepage_from_charset("ks_c_5601-1987"), 949u);
  EXPECT_EQ(codepage_from_charset("iso-2022-jp"), 50220u);
  EXPECT_EQ(codepage_from_charset("  \"utf-16le\" "), 1200u);
  EXPECT_FALSE(codepage_from_charset("klingon"));
  EXPECT_FALSE(codepage_from_charset(""));
  EXPECT_FALSE(codepage_from_charset("cp99999"));
  EXPECT_FALSE(codepage_from_charset("windows-"));
  // Every charset name a code page reports maps back to a known code page.
  for (uint32_t cp : {437u, 932u, 936u, 949u, 950u, 1200u, 1250u, 1252u, 20127u, 28591u, 50220u, 51932u,
                      51949u, 52936u, 54936u, 65000u, 65001u}) {
    auto back = codepage_from_charset(codepage_charset_name(cp));
    ASSERT_TRUE(back) << cp;
    EXPECT_TRUE(is_known_codepage(*back)) << cp;
  }
}

TEST(UtfConvert, Utf16Basics) {
  EXPECT_EQ(utf16le_to_utf8(bv(std::string_view("A\0\xE9\0\x2C\x20", 6))), "Aé\u202C");
  EXPECT_EQ(utf16le_to_utf8(bv("")), "");
  // NULs are kept; the trim helpers drop them.
  std::string with_nul = utf16le_to_utf8(bv(std::string_view("a\0\0\0", 4)));
  EXPECT_EQ(with_nul, std::string("a\0", 2));
  EXPECT_EQ(trim_nul(with_nul), "a");
}

// The conversion unit by unit, as the spec states it: the reference for the
// converter's four-units-at-a-time 7-bit path.
std::string utf16_reference(const std::vector<char16_t>& units) {
  std::string out;
  for (size_t k = 0; k < units.size(); ++k) {
    char32_t u = units[k];
    if (u >= 0xD800 && u <= 0xDBFF && k + 1 < units.size() && units[k + 1] >= 0xDC00 && units[k + 1] <= 0xDFFF) {
      u = 0x10000 + ((u - 0xD800) << 10) + (units[++k] - 0xDC00);
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      u = 0xFFFD;
    }
    if (u < 0x80) {
      out += char(u);
    } else if (u < 0x800) {
      out += char(0xC0 | (u >> 6)), out += char(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
      out += char(0xE0 | (u >> 12)), out += char(0x80 | ((u >> 6) & 0x3F)), out += char(0x80 | (u & 0x3F));
    } else {
      out += char(0xF0 | (u >> 18)), out += char(0x80 | ((u >> 12) & 0x3F));
      out += char(0x80 | ((u >> 6) & 0x3F)), out += char(0x80 | (u & 0x3F));
    }
  }
  return out;
}

TEST(UtfConvert, Utf16SevenBitRunsAndEverythingElseAtEveryPosition) {
  // Text of every length to 40 units, all 7-bit, then with one unit that is
  // not at each position (one that only fails in its high byte, one only in
  // its low byte, a surrogate pair, a lone surrogate), in both byte orders.
  const std::vector<std::vector<char16_t>> others = {{0x0100}, {0x0080}, {0x00E9}, {0x20AC}, {0x017F},
                                                     {0xD834, 0xDD1E}, {0xDC00}, {0xFF41}};
  for (size_t n = 0; n <= 40; ++n) {
    std::vector<std::vector<char16_t>> cases;
    std::vector<char16_t> ascii(n);
    for (size_t k = 0; k < n; ++k) ascii[k] = char16_t(k % 3 == 0 ? 0x7F - k % 90 : 'a' + k % 26);
    cases.push_back(ascii);
    for (size_t at = 0; at < n; ++at) {
      for (const auto& other : others) {
        auto c = ascii;
        c.erase(c.begin() + long(at));
        c.insert(c.begin() + long(at), other.begin(), other.end());
        cases.push_back(c);
      }
    }
    for (const auto& units : cases) {
      std::string le, be;
      for (char16_t u : units) {
        le += char(u & 0xFF), le += char(u >> 8);
        be += char(u >> 8), be += char(u & 0xFF);
      }
      const std::string want = utf16_reference(units);
      ASSERT_EQ(utf16le_to_utf8(bv(le)), want) << n;
      ASSERT_EQ(utf16be_to_utf8(bv(be)), want) << n;
    }
  }
}

TEST(UtfConvert, ValidUtf8SkipsSevenBitRunsAtAnyAlignment) {
  for (size_t pad = 0; pad < 20; ++pad) {
    const std::string run(pad, 'x');
    EXPECT_TRUE(is_valid_utf8(run + "caf\xC3\xA9" + run));
    EXPECT_FALSE(is_valid_utf8(run + "\xC3" + run)) << pad;          // truncated sequence
    EXPECT_FALSE(is_valid_utf8(run + "\xED\xA0\x80" + run)) << pad;  // a surrogate
    EXPECT_FALSE(is_valid_utf8(run + run + "\xFF")) << pad;
  }
}

TEST(UtfConvert, Utf16SurrogatePairs) {
  // U+1D11E MUSICAL SYMBOL G CLEF = D834 DD1E.
  EXPECT_EQ(utf16le_to_utf8(bv(std::string_view("\x34\xD8\x1E\xDD", 4))), "𝄞");
  EXPECT_EQ(utf16be_to_utf8(bv(std::string_view("\xD8\x34\xDD\x1E", 4))), "𝄞");
  EXPECT_EQ(str(utf8_to_utf16le("𝄞")), std::string("\x34\xD8\x1E\xDD", 4));
}

TEST(UtfConvert, Utf16LoneSurrogates) {
  EXPECT_EQ(utf16le_to_utf8(bv(std::string_view("\x34\xD8x\0", 4))), kFffd + "x");  // high then BMP
  EXPECT_EQ(utf16le_to_utf8(bv(std::string_view("\x1E\xDDx\0", 4))), kFffd + "x");  // low alone
  EXPECT_EQ(utf16le_to_utf8(bv(std::string_view("\x34\xD8", 2))), kFffd);          // high at end
  EXPECT_EQ(utf16le_to_utf8(bv(std::string_view("\x34\xD8\x34\xD8\x1E\xDD", 6))), kFffd + "𝄞");
}

TEST(UtfConvert, Utf16OddTrailingByteIgnored) {
  EXPECT_EQ(utf16le_to_utf8(bv(std::string_view("h\0i\0!", 5))), "hi");
  EXPECT_EQ(utf16le_to_utf8(bv("!")), "");
}

TEST(UtfConvert, Utf8ToUtf16) {
  EXPECT_EQ(str(utf8_to_utf16le("hé")), std::string("h\0\xE9\0", 4));
  EXPECT_EQ(str(utf8_to_utf16le("a\xFF")), std::string("a\0\xFD\xFF", 4));
  std::string round = "Grüße 日本 𝄞 \u202E";
  EXPECT_EQ(utf16le_to_utf8(utf8_to_utf16le(round)), round);
}

TEST(UtfValidate, AcceptsAndRejects) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("é日𝄞\xEF\xBF\xBD"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xE6\x97"));  // cut off
}

TEST(UtfValidate, SanitizeReplacesMaximalSubparts) {
  EXPECT_EQ(sanitize_utf8("ok"), "ok");
  EXPECT_EQ(sanitize_utf8("a\x80" "b"), "a" + kFffd + "b");
  EXPECT_EQ(sanitize_utf8("\xE6\x97"), kFffd);                 // one truncated sequence
  EXPECT_EQ(sanitize_utf8("\xE6\x97" "a"), kFffd + "a");
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), kFffd + kFffd);         // C0 is never valid
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(sanitize_utf8("\xF0\x9D\x84"), kFffd);
  for (int i = 0; i < 256; ++i) {
    std::string s = "x" + std::string(1, char(i)) + "\xE6\x97\xA5";
    EXPECT_TRUE(is_valid_utf8(sanitize_utf8(s))) << i;
  }
}

TEST(UtfValidate, NulHelpers) {
  EXPECT_EQ(trim_nul(std::string_view("abc\0\0", 5)), "abc");
  EXPECT_EQ(trim_nul(std::string_view("\0", 1)), "");
  EXPECT_EQ(cut_at_nul(std::string_view("ab\0cd", 5)), "ab");
  EXPECT_EQ(cut_at_nul("abc"), "abc");
  Bytes u = {'a', 0, 0, 0, 0, 0};
  EXPECT_EQ(trim_utf16_nul(u).size(), 2u);
  Bytes odd = {'a', 0, 0, 0, 0};
  EXPECT_EQ(trim_utf16_nul(odd).size(), 2u);
}

}  // namespace
}  // namespace pstkit
