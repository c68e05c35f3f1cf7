// The MIME text primitives export writes every .eml with (src/export/mime_text).
#include "export/mime_text.h"

#include "export/item_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <random>
#include <string>
#include <utility>

namespace pstkit::mime_text {
namespace {

std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

std::string encoded(std::string_view content, TransferEncoding e, bool crlf = true) {
  Bytes out;
  Output o(out, crlf);
  write_encoded(o, content, e);
  return text_of(out);
}

// RFC 2045 6.7 decoding, for checking what the encoder wrote.
std::string decode_quoted_printable(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
    } else if (in.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;  // soft line break
    } else {
      out += char(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

std::string percent_decode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      out += char(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

TEST(MimeTextHeader, ShortValuesStayOnOneLine) {
  Bytes out;
  Output o(out, true);
  o.header("Subject", "Quarterly report");
  EXPECT_EQ(text_of(out), "Subject: Quarterly report\r\n");
}

TEST(MimeTextHeader, LongValuesFoldAtWhiteSpaceAndUnfoldToTheValue) {
  std::string value;
  for (int i = 0; i < 40; ++i) value += (i ? " " : "") + std::string("word") + std::to_string(i);
  Bytes out;
  Output o(out, false);
  o.header("X-Long", value);
  const std::string text = text_of(out);
  size_t start = 0, lines = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 78u) << text.substr(start, end - start);
    if (lines > 0) {
      EXPECT_EQ(text[start], ' ');  // a continuation starts with the folded white space
    }
    start = end + 1;
    ++lines;
  }
  EXPECT_GT(lines, 3u);
  std::string unfolded = text;
  for (size_t p; (p = unfolded.find('\n')) != std::string::npos;) unfolded.erase(p, 1);
  EXPECT_EQ(unfolded, "X-Long: " + value);
}

TEST(MimeTextHeader, AWordLongerThanALineIsNotBroken) {
  const std::string word(120, 'a');
  Bytes out;
  Output o(out, true);
  o.header("X-Token", word);
  EXPECT_EQ(text_of(out), "X-Token: " + word + "\r\n");
}

TEST(MimeTextHeader, EightBitTextBecomesEncodedWords) {
  EXPECT_EQ(header_text("plain text"), "plain text");
  EXPECT_EQ(header_text("line\r\nend"), "line  end");
  // "Größe" in UTF-8 is 47 72 C3 B6 C3 9F 65.
  EXPECT_EQ(header_text("Größe"), "=?utf-8?b?R3LDtsOfZQ==?=");
  // Text that would read as an encoded word is encoded too.
  EXPECT_EQ(header_text("=?x?"), "=?utf-8?b?PT94Pw==?=");
}

TEST(MimeTextHeader, EncodedWordsAreShortAndSplitBetweenCharacters) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "ü€";  // 2- and 3-byte characters
  const std::string words = header_text(text);
  size_t pos = 0, count = 0;
  while (pos < words.size()) {
    size_t end = words.find(' ', pos);
    if (end == std::string::npos) end = words.size();
    const std::string word = words.substr(pos, end - pos);
    EXPECT_LE(word.size(), 75u);  // RFC 2047 2
    EXPECT_EQ(word.rfind("=?utf-8?b?", 0), 0u);
    // Each word holds whole characters: its payload is a multiple of one
    // "ü€" pair or starts at one (5 bytes a pair, 39 bytes at most a word).
    ++count;
    pos = end + 1;
  }
  EXPECT_EQ(count, 4u);  // 150 bytes in words of 39, 39, 39, 33 at most
}

TEST(MimeTextHeader, PhrasesAreAtomsQuotedOrEncoded) {
  EXPECT_EQ(phrase("Ann Lee"), "Ann Lee");
  EXPECT_EQ(phrase("John Q. Public"), "\"John Q. Public\"");
  EXPECT_EQ(phrase("Lee, Ann"), "\"Lee, Ann\"");
  EXPECT_EQ(phrase("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
  EXPECT_EQ(phrase("Jörn"), "=?utf-8?b?SsO2cm4=?=");
}

TEST(MimeTextParameter, TokensQuotedStringsAndRfc2231) {
  EXPECT_EQ(parameter("charset", "utf-8"), "; charset=utf-8");
  EXPECT_EQ(parameter("filename", "my file.pdf"), "; filename=\"my file.pdf\"");
  EXPECT_EQ(parameter("boundary", "=_b_0"), "; boundary=\"=_b_0\"");
  EXPECT_EQ(parameter("filename", "a\"b.txt"), "; filename=\"a\\\"b.txt\"");
  EXPECT_EQ(parameter("filename", "Größe.txt"), "; filename*=utf-8''Gr%C3%B6%C3%9Fe.txt");
}

TEST(MimeTextParameter, LongValuesSplitIntoSectionsBetweenCharacters) {
  std::string name;
  for (int i = 0; i < 25; ++i) name += "企业";
  name += ".doc";
  const std::string p = parameter("filename", name);
  // "; filename*0*=utf-8''...; filename*1*=...": each section, decoded by
  // itself, must be whole UTF-8 (a reader decodes sections separately).
  std::string joined;
  size_t pos = 0;
  int n = 0;
  while ((pos = p.find("; filename*", pos)) != std::string::npos) {
    const std::string prefix = "; filename*" + std::to_string(n) + "*=" + (n == 0 ? "utf-8''" : "");
    ASSERT_EQ(p.compare(pos, prefix.size(), prefix), 0) << p;
    const size_t start = pos + prefix.size();
    size_t end = p.find(';', start);
    if (end == std::string::npos) end = p.size();
    const std::string section = percent_decode(p.substr(start, end - start));
    ASSERT_FALSE(section.empty());
    EXPECT_NE(static_cast<unsigned char>(section[0]) & 0xC0, 0x80u) << "section " << n << " starts inside a character";
    joined += section;
    pos = end;
    ++n;
  }
  EXPECT_GT(n, 2);
  EXPECT_EQ(joined, name);
}

TEST(MimeTextDate, Rfc5322InUtc) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1655586340), "Sat, 18 Jun 2022 21:05:40 +0000");
  // Against strftime in the C locale, from 1601 (FILETIME's epoch) to 9999,
  // and past it (snprintf writes the wider year).
  std::mt19937_64 rng(5);
  const int64_t first = -11644473600, last = 253402300799;  // 1601-01-01, 9999-12-31 23:59:59
  for (int i = 0; i < 20000; ++i) {
    const int64_t t = i == 0 ? first : i == 1 ? last : first + int64_t(rng() % uint64_t(last - first + 1));
    const time_t tt = time_t(t);
    struct tm tm {};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char expected[64];
    std::strftime(expected, sizeof expected, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    ASSERT_EQ(rfc5322_date(t), expected) << t;
  }
  EXPECT_EQ(rfc5322_date(last + 1), "Sat, 01 Jan 10000 00:00:00 +0000");
}

TEST(MimeTextEncoding, ChoosesTheLeastEncodingThatIs7Bit) {
  EXPECT_EQ(text_encoding("hello\r\nworld\r\n"), TransferEncoding::k7Bit);
  EXPECT_EQ(text_encoding(""), TransferEncoding::k7Bit);
  EXPECT_EQ(text_encoding(std::string(998, 'a')), TransferEncoding::k7Bit);
  EXPECT_EQ(text_encoding(std::string(999, 'a')), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(text_encoding("mostly ASCII with one é in it"), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(text_encoding("lone\rCR"), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(text_encoding(std::string("nul\0here", 8)), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(text_encoding("Привет, мир"), TransferEncoding::kBase64);
}

TEST(MimeTextEncoding, SevenBitWritesTheOutputsLineEnds) {
  EXPECT_EQ(encoded("a\r\nb\nc", TransferEncoding::k7Bit, true), "a\r\nb\r\nc");
  EXPECT_EQ(encoded("a\r\nb\nc\r\n", TransferEncoding::k7Bit, false), "a\nb\nc\n");
  // Runs of either line end, at the start and the end, in both outputs.
  for (const std::string& s : {std::string("\n\r\n\nx\r\n\r\n"), std::string("\r\n"), std::string("\n"),
                               std::string("ab\r\ncd\r\n\nef"), std::string("no line end")}) {
    std::string crlf, lf;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\r') continue;
      crlf += s[i] == '\n' ? "\r\n" : std::string(1, s[i]);
      lf += s[i];
    }
    EXPECT_EQ(encoded(s, TransferEncoding::k7Bit, true), crlf);
    EXPECT_EQ(encoded(s, TransferEncoding::k7Bit, false), lf);
  }
}

TEST(MimeTextEncoding, QuotedPrintableEscapesAndSoftBreaks) {
  EXPECT_EQ(encoded("a=b  \r\nc\td\t", TransferEncoding::kQuotedPrintable), "a=3Db =20\r\nc\td=09");
  EXPECT_EQ(encoded("caf\xC3\xA9\rx", TransferEncoding::kQuotedPrintable), "caf=C3=A9=0Dx");
  std::string long_line;
  for (int i = 0; i < 300; ++i) long_line += (i % 7 == 0) ? "\xC3\xA9" : "x";
  const std::string qp = encoded(long_line + "\r\nend", TransferEncoding::kQuotedPrintable);
  size_t start = 0;
  while (start < qp.size()) {
    size_t end = qp.find("\r\n", start);
    if (end == std::string::npos) end = qp.size();
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
  EXPECT_EQ(decode_quoted_printable(qp), long_line + "\r\nend");
}

TEST(MimeTextEncoding, Base64LinesOf76) {
  EXPECT_EQ(encoded("hello", TransferEncoding::kBase64), "aGVsbG8=\r\n");
  EXPECT_EQ(encoded("", TransferEncoding::kBase64), "");
  const std::string b = encoded(std::string(58, 'x'), TransferEncoding::kBase64, false);
  ASSERT_EQ(b.find('\n'), 76u);
  EXPECT_EQ(b.substr(77), "eA==\n");
}

// The rule text_encoding implements, byte by byte: the reference for its
// eight-bytes-at-a-time path.
TransferEncoding reference_encoding(std::string_view s) {
  size_t escaped = 0, line = 0, longest = 0;
  bool special = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      longest = std::max(longest, line);
      line = 0;
    } else if (c == '\r') {
      if (i + 1 >= s.size() || s[i + 1] != '\n') special = true, ++escaped;
    } else {
      ++line;
      if (c >= 0x80) ++escaped;
      if (c == 0) special = true, ++escaped;
    }
  }
  longest = std::max(longest, line);
  if (escaped == 0 && !special && longest <= 998) return TransferEncoding::k7Bit;
  return escaped <= s.size() / 6 ? TransferEncoding::kQuotedPrintable : TransferEncoding::kBase64;
}

TEST(MimeTextEncoding, EveryByteClassAtEveryPositionAsTheByteRule) {
  const std::string specials[] = {"\n", "\r\n", "\r", std::string(1, '\0'), "\xC3\xA9", "\x80", "\t"};
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 33, 997, 998, 999, 1000, 2000}) {
    const std::string plain(n, 'q');
    ASSERT_EQ(text_encoding(plain), reference_encoding(plain)) << n;
    for (size_t at = 0; at <= std::min<size_t>(n, 40); ++at) {
      for (const std::string& special : specials) {
        std::string s = plain;
        s.insert(at, special);
        ASSERT_EQ(text_encoding(s), reference_encoding(s)) << n << " " << at;
        s.insert(s.size() - std::min<size_t>(s.size(), at), special);
        ASSERT_EQ(text_encoding(s), reference_encoding(s)) << n << " " << at;
      }
    }
  }
  // Long lines split by line ends at every offset around a word.
  for (size_t cut = 990; cut < 1010; ++cut) {
    std::string s(2500, 'z');
    s[cut] = '\n';
    ASSERT_EQ(text_encoding(s), reference_encoding(s)) << cut;
  }
  // Binary content is decided early, as the rule decides it.
  std::string binary;
  for (int i = 0; i < 5000; ++i) binary += char((i * 7919) & 0xFF);
  EXPECT_EQ(text_encoding(binary), TransferEncoding::kBase64);
  EXPECT_EQ(text_encoding(binary), reference_encoding(binary));
}

TEST(MimeTextEncoding, IsAsciiAtEveryPosition) {
  for (size_t n = 0; n < 40; ++n) {
    const std::string plain(n, 'a');
    EXPECT_TRUE(is_ascii(plain));
    for (size_t at = 0; at < n; ++at) {
      std::string s = plain;
      s[at] = '\x80';
      EXPECT_FALSE(is_ascii(s)) << n << " " << at;
    }
  }
}

// RFC 4648 4, three bytes at a time through the alphabet, for checking the
// encoder (whose 24-byte steps use AVX2 where the CPU has it).
std::string reference_base64(const uint8_t* p, size_t n) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = uint32_t(p[i]) << 16 | (i + 1 < n ? uint32_t(p[i + 1]) << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? alphabet[v & 63] : '=';
  }
  return out;
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},    {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, want] : vectors) EXPECT_EQ(item_text::base64(Bytes(in.begin(), in.end())), want);
}

TEST(Base64, EveryLengthAndOffsetAsTheReference) {
  // Every byte value in every position of the 24-byte steps, lengths around
  // each step's 28-byte read, and offsets that misalign the loads.
  Bytes data(1100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t((i * 151 + (i >> 8) * 7) & 0xFF);
  for (size_t offset = 0; offset < 4; ++offset) {
    for (size_t n = 0; n <= 300; ++n) {
      std::string got(item_text::base64_length(n), '?');
      item_text::base64_encode(got.data(), data.data() + offset, n);
      ASSERT_EQ(got, reference_base64(data.data() + offset, n)) << offset << " " << n;
    }
    const size_t n = data.size() - offset;
    std::string got(item_text::base64_length(n), '?');
    item_text::base64_encode(got.data(), data.data() + offset, n);
    ASSERT_EQ(got, reference_base64(data.data() + offset, n)) << offset;
  }
}

TEST(MimeTextEncoding, Base64LinesAsTheReferenceForEveryLength) {
  std::string data;
  for (int i = 0; i < 700; ++i) data += char((i * 97 + 13) & 0xFF);
  for (bool crlf : {true, false}) {
    for (size_t n = 0; n <= data.size(); n += (n < 200 ? 1 : 37)) {
      const std::string whole = reference_base64(reinterpret_cast<const uint8_t*>(data.data()), n);
      std::string want;
      for (size_t at = 0; at < whole.size(); at += 76) want += whole.substr(at, 76) + (crlf ? "\r\n" : "\n");
      ASSERT_EQ(encoded(data.substr(0, n), TransferEncoding::kBase64, crlf), want) << n << " " << crlf;
      // After other output, as in a message.
      const std::string before = "before";
      Bytes out(before.begin(), before.end());
      Output o(out, crlf);
      write_encoded(o, data.substr(0, n), TransferEncoding::kBase64);
      ASSERT_EQ(text_of(out), "before" + want) << n << " " << crlf;
    }
  }
}

}  // namespace
}  // namespace pstkit::mime_text
