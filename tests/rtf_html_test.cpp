// RTF bodies to HTML and text (pstkit/rtf_html.h): [MS-OXRTFEX]
// de-encapsulation of HTML and text, and the rendering of native RTF.
#include <gtest/gtest.h>

#include "pstkit/rtf_html.h"

namespace pstkit::rtf {
namespace {

TEST(RtfHtml, EncapsulatedHtmlComesBackWithoutTheRtfOnlyParts) {
  // MS-OXRTFEX 2.1.3.1: HTMLTAG groups hold markup, text between them is
  // content unless \htmlrtf marks it RTF-only; \u with its fallback, \'hh
  // in the document's code page.
  const std::string rtf =
      "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
      "{\\*\\htmltag1 <p>}\\htmlrtf {\\htmlrtf0 Caf\\'e9 \\u8364?\\htmlrtf }\\htmlrtf0 "
      "{\\*\\htmltag2 </p>}\\htmlrtf \\par\\htmlrtf0 {\\*\\mhtmltag3 <img src=\"x\">}}";
  auto body = rtf_to_html(rtf);
  ASSERT_TRUE(body.is_ok()) << body.status().message();
  EXPECT_EQ(body->origin, RtfOrigin::kHtml);
  EXPECT_EQ(body->html, "<p>Caf\xC3\xA9 \xE2\x82\xAC</p>");
}

TEST(RtfHtml, ParInsideAnHtmlTagIsALineEnd) {
  const std::string rtf = "{\\rtf1\\ansi\\fromhtml1 {\\*\\htmltag <style>\\par a \\{ b \\}\\par </style>}}";
  auto body = rtf_to_html(rtf);
  ASSERT_TRUE(body.is_ok());
  EXPECT_EQ(body->html, "<style>\r\na { b }\r\n</style>");
}

TEST(RtfHtml, EncapsulatedTextComesBack) {
  const std::string rtf =
      "{\\rtf1\\ansi\\ansicpg1252\\fromtext \\fbidis\\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
      "\\uc1\\pard\\plain Line one\\par Line two\\tab x\\par}";
  auto body = rtf_to_html(rtf);
  ASSERT_TRUE(body.is_ok());
  EXPECT_EQ(body->origin, RtfOrigin::kText);
  EXPECT_EQ(body->text, "Line one\r\nLine two\tx\r\n");
  EXPECT_NE(body->html.find("<pre>Line one"), std::string::npos);
}

TEST(RtfHtml, NativeRtfIsRenderedWithItsEmphasis) {
  const std::string rtf =
      "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0\\green0\\blue0;}"
      "{\\*\\generator Riched20;}{\\info{\\title T}}\\pard Plain {\\b bold} and {\\i it} <x>\\par second\\line third"
      "{\\pict\\wmetafile8 0123abcd}}";
  auto body = rtf_to_html(rtf);
  ASSERT_TRUE(body.is_ok());
  EXPECT_EQ(body->origin, RtfOrigin::kRtf);
  EXPECT_EQ(body->text, "Plain bold and it <x>\r\nsecond\r\nthird");
  EXPECT_NE(body->html.find("Plain <b>bold</b> and <i>it</i> &lt;x&gt;<br>\r\nsecond<br>third"), std::string::npos)
      << body->html;
}

TEST(RtfHtml, FontCharsetChoosesTheCodePage) {
  // \fcharset204 is Cyrillic (code page 1251); the document's page is 1252.
  const std::string rtf =
      "{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\fcharset0 Arial;}{\\f1\\fcharset204 Arial Cyr;}}"
      "\\f1 \\'cf\\'f0\\'e8\\f0  \\'e9}";
  auto body = rtf_to_html(rtf);
  ASSERT_TRUE(body.is_ok());
  EXPECT_EQ(body->text, "\xD0\x9F\xD1\x80\xD0\xB8 \xC3\xA9");
}

TEST(RtfHtml, UnicodeFallbacksAndSurrogatesAreHandled) {
  const std::string rtf = "{\\rtf1\\ansi\\uc2 \\u-3913 ??x\\uc1 \\u55357\\'3f\\u56832\\'3f!}";
  auto body = rtf_to_html(rtf);
  ASSERT_TRUE(body.is_ok());
  // -3913 + 65536 = 0xF0B7; U+1F600 from its two halves.
  EXPECT_EQ(body->text, "\xEF\x82\xB7x\xF0\x9F\x98\x80!");
}

TEST(RtfHtml, DamagedRtfGivesWhatCanBeRead) {
  auto body = rtf_to_html("{\\rtf1 abc {\\b x\\'4");
  ASSERT_TRUE(body.is_ok());
  EXPECT_EQ(body->text, "abc x");
  auto deep = rtf_to_html("{\\rtf1 " + std::string(100000, '{') + "deep");
  ASSERT_TRUE(deep.is_ok());
  EXPECT_EQ(deep->text, "deep");
  EXPECT_FALSE(rtf_to_html("not rtf").is_ok());
}

}  // namespace
}  // namespace pstkit::rtf
