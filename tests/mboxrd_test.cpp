// The export's mboxrd quoting (append_mboxrd) against a line-by-line
// reference: a line that reads ">*From " gains one more ">", a last line
// without a line end gets one, and a blank line ends the message.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "cli/mboxrd.h"

namespace pstkit::cli {
namespace {

std::string reference(std::string_view body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find('\n', pos);
    const std::string_view line = body.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    size_t q = 0;
    while (q < line.size() && line[q] == '>') ++q;
    if (line.substr(q, 5) == "From ") out += '>';
    out += line;
    out += '\n';
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out + '\n';
}

std::string mboxrd_of(std::string_view body, std::string before = "") {
  append_mboxrd(&before, body);
  return before;
}

TEST(Mboxrd, QuotesFromLinesAtAnyDepth) {
  EXPECT_EQ(mboxrd_of(""), "\n");
  EXPECT_EQ(mboxrd_of("a"), "a\n\n");
  EXPECT_EQ(mboxrd_of("a\n"), "a\n\n");
  EXPECT_EQ(mboxrd_of("From x\n"), ">From x\n\n");
  EXPECT_EQ(mboxrd_of("a\nFrom x\n>From y\n>>From z\nFromage\n From w"),
            "a\n>From x\n>>From y\n>>>From z\nFromage\n From w\n\n");
  EXPECT_EQ(mboxrd_of("From "), ">From \n\n");
  EXPECT_EQ(mboxrd_of("From"), "From\n\n");
  EXPECT_EQ(mboxrd_of(">>>"), ">>>\n\n");
  EXPECT_EQ(mboxrd_of("x\r\nFrom y\r\n"), "x\r\n>From y\r\n\n");
  EXPECT_EQ(mboxrd_of("\n\nFrom a\n\n"), "\n\n>From a\n\n\n");
  EXPECT_EQ(mboxrd_of("b\n", "From s d\nStatus: O\n"), "From s d\nStatus: O\nb\n\n");
}

// Random text of the characters that matter, as the reference quotes it.
TEST(Mboxrd, RandomTextAsTheReference) {
  std::mt19937 rng(5);
  const std::string_view pieces[] = {"From ", ">", "\n", "x", "From", " ", "\r\n", ">From "};
  for (int round = 0; round < 20000; ++round) {
    std::string body;
    const int n = int(rng() % 12);
    for (int i = 0; i < n; ++i) body += pieces[rng() % 8];
    ASSERT_EQ(mboxrd_of(body), reference(body)) << "[" << body << "]";
  }
}

}  // namespace
}  // namespace pstkit::cli
