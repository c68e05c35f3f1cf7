// MIME import: message_from_mime on built messages (well-formed, in many
// charsets, and damaged), the mbox reader and source recognition, an end to
// end import read back through Store, and a full disk during an import.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "fault_env.h"
#include "import/mail_sources.h"
#include "import/mbox_reader.h"
#include "import/mime_text.h"
#include "pstkit/check.h"
#include "pstkit/mime_import.h"
#include "pstkit/rtf.h"
#include "pstkit/utf.h"

namespace pstkit::mime {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- helpers

ByteView view(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

const PropValue* find(const std::vector<PropValue>& props, uint16_t id) {
  for (const auto& p : props) {
    if (p.id() == id) return &p;
  }
  return nullptr;
}

std::string str(const std::vector<PropValue>& props, uint16_t id) {
  const PropValue* p = find(props, id);
  if (!p) return "<absent>";
  auto s = p->as_string();
  return s ? *s : "<not a string>";
}

int64_t i32(const std::vector<PropValue>& props, uint16_t id) {
  const PropValue* p = find(props, id);
  if (!p) return -999;
  auto v = p->as_i32();
  return v ? *v : -998;
}

Bytes bin(const std::vector<PropValue>& props, uint16_t id) {
  const PropValue* p = find(props, id);
  return p ? p->data : Bytes{};
}

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

uint64_t filetime(const std::vector<PropValue>& props, uint16_t id) {
  const PropValue* p = find(props, id);
  if (!p) return 0;
  auto v = p->as_time();
  return v ? *v : 0;
}

constexpr uint64_t kUnixEpochFiletime = 116444736000000000ull;
uint64_t unix_seconds(uint64_t ft) { return (ft - kUnixEpochFiletime) / 10000000; }

NewMessage convert(const std::string& eml, std::vector<std::string>* warnings = nullptr,
                   const ImportOptions& options = {}) {
  auto m = message_from_mime(view(eml), options, warnings);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? std::move(*m) : NewMessage{};
}

constexpr uint16_t kSubjectPrefix = 0x003D, kNormalizedSubject = 0x0E1D, kDisplayTo = 0x0E04, kDisplayCc = 0x0E03,
                   kDisplayBcc = 0x0E02, kInternetMessageId = 0x1035, kInReplyToId = 0x1042,
                   kInternetReferences = 0x1039, kTransportHeaders = 0x007D, kSentRepresentingEmail = 0x0065,
                   kSenderSmtp = 0x5D01, kNativeBody = 0x1016, kAttachFlags = 0x3714, kAttachmentHidden = 0x7FFE,
                   kObjectType = 0x0FFE, kDisplayType = 0x3900, kFlagStatus = 0x1090, kReplyRecipientNames = 0x0050;

// ---------------------------------------------------------------- text

TEST(MimeImportText, SubjectPrefixFollowsMsOxcmail) {
  EXPECT_EQ(split_subject("RE: Hello").prefix, "RE: ");
  EXPECT_EQ(split_subject("RE: Hello").normalized, "Hello");
  EXPECT_EQ(split_subject("Fwd:   spaced").prefix, "Fwd: ");
  EXPECT_EQ(split_subject("Fwd:   spaced").normalized, "spaced");
  EXPECT_EQ(split_subject("AW:x").prefix, "AW: ");
  EXPECT_EQ(split_subject("Ответ: да").prefix, "");  // five characters
  EXPECT_EQ(split_subject("Отв: да").prefix, "Отв: ");
  EXPECT_EQ(split_subject("Re 2: no").prefix, "");
  EXPECT_EQ(split_subject("10:30 meeting").prefix, "");
  EXPECT_EQ(split_subject("Note: x").prefix, "");  // four characters
  EXPECT_EQ(split_subject(": x").normalized, ": x");
}

TEST(MimeImportText, CharsetsDecodeAndFallBack) {
  uint32_t cp = 0;
  bool fallback = false;
  EXPECT_EQ(decode_charset("caf\xe9", "iso-8859-1", 1252, &cp), "café");
  EXPECT_EQ(cp, 28591u);
  EXPECT_EQ(decode_charset("\xf0\xd2\xc9\xd7\xc5\xd4", "koi8-r", 1252, &cp), "Привет");
  EXPECT_EQ(cp, 20866u);
  EXPECT_EQ(decode_charset("\x93\xfa\x96\x7b", "Shift_JIS", 1252, &cp), "日本");
  EXPECT_EQ(decode_charset("\x80 caf\xe9", "x-no-such-charset", 1252, &cp, &fallback), "€ café");
  EXPECT_TRUE(fallback);
  EXPECT_EQ(decode_charset("caf\xe9", "utf-8", 1252, &cp, &fallback), "café");  // mislabelled
  EXPECT_TRUE(fallback);
  EXPECT_EQ(decode_charset("caf\xc3\xa9", "", 1252, &cp), "café");  // unlabelled UTF-8
  EXPECT_EQ(cp, 65001u);
  EXPECT_EQ(decode_charset("caf\xe9", "us-ascii", 1252, &cp), "café");
  EXPECT_EQ(cp, 1252u);
}

TEST(MimeImportText, HtmlToTextAndLineEnds) {
  EXPECT_EQ(html_to_text("<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>World</b></p>"
                         "<p>A &amp; B &#8364; &#x41;</p><script>x()</script><!-- c --></body></html>"),
            "Hello World\r\n\r\nA & B € A");
  EXPECT_EQ(to_crlf("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd");
  EXPECT_EQ(unfold(" a\r\n\tb  c "), "a b c");
}

// ---------------------------------------------------------------- messages

const char* const kPlain =
    "Return-Path: <ann@example.com>\n"
    "Received: from mx.example.org by mail.example.com; Wed, 17 Jan 2018 09:00:05 +0000\n"
    "Received: from client by mx.example.org; Wed, 17 Jan 2018 08:59:00 +0000\n"
    "From: \"Ann Example\" <ann@example.com>\n"
    "To: Bob <bob@example.org>, carol@example.net\n"
    "Cc: =?utf-8?Q?D=C3=A9nis?= <denis@example.fr>\n"
    "Bcc: eve@example.com\n"
    "Reply-To: Team <team@example.com>\n"
    "Subject: RE: Quarterly report\n"
    "Date: Tue, 16 Jan 2018 17:17:45 +0300\n"
    "Message-ID: <m1@example.com>\n"
    "In-Reply-To: <m0@example.com>\n"
    "References: <a@example.com>\n <m0@example.com>\n"
    "Importance: High\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Line one\nLine two \xe2\x82\xac\n";

TEST(MimeImportMessage, PlainMessageEnvelope) {
  const NewMessage m = convert(kPlain);
  const auto& p = m.properties;
  EXPECT_EQ(str(p, prop::kMessageClass), "IPM.Note");
  EXPECT_EQ(str(p, prop::kSubject), "RE: Quarterly report");
  EXPECT_EQ(str(p, kSubjectPrefix), "RE: ");
  EXPECT_EQ(str(p, kNormalizedSubject), "Quarterly report");
  EXPECT_EQ(str(p, prop::kSentRepresentingName), "Ann Example");
  EXPECT_EQ(str(p, kSentRepresentingEmail), "ann@example.com");
  EXPECT_EQ(str(p, prop::kSenderName), "Ann Example");
  EXPECT_EQ(str(p, prop::kSenderEmailAddress), "ann@example.com");
  EXPECT_EQ(str(p, kSenderSmtp), "ann@example.com");
  EXPECT_EQ(str(p, kReplyRecipientNames), "Team");
  EXPECT_EQ(str(p, kDisplayTo), "Bob; carol@example.net");
  EXPECT_EQ(str(p, kDisplayCc), "Dénis");
  EXPECT_EQ(str(p, kDisplayBcc), "eve@example.com");
  EXPECT_EQ(str(p, kInternetMessageId), "<m1@example.com>");
  EXPECT_EQ(str(p, kInReplyToId), "<m0@example.com>");
  EXPECT_EQ(str(p, kInternetReferences), "<a@example.com> <m0@example.com>");
  EXPECT_EQ(i32(p, prop::kImportance), 2);
  EXPECT_EQ(i32(p, prop::kMessageFlags), 1);  // read
  EXPECT_EQ(unix_seconds(filetime(p, prop::kClientSubmitTime)), 1516112265u);
  EXPECT_EQ(unix_seconds(filetime(p, prop::kMessageDeliveryTime)), 1516179605u);  // first Received
  EXPECT_EQ(str(p, prop::kBody), "Line one\r\nLine two €\r\n");
  EXPECT_EQ(i32(p, kNativeBody), 1);
  EXPECT_EQ(i32(p, prop::kInternetCodepage), 65001);
  EXPECT_NE(str(p, kTransportHeaders).find("Subject: RE: Quarterly report\r\n"), std::string::npos);
  EXPECT_NE(str(p, kTransportHeaders).find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_EQ(find(p, prop::kHtml), nullptr);

  ASSERT_EQ(m.recipients.size(), 4u);
  const int32_t types[] = {1, 1, 2, 3};
  const char* names[] = {"Bob", "carol@example.net", "Dénis", "eve@example.com"};
  const char* addresses[] = {"bob@example.org", "carol@example.net", "denis@example.fr", "eve@example.com"};
  for (size_t i = 0; i < 4; ++i) {
    const auto& r = m.recipients[i];
    EXPECT_EQ(i32(r, prop::kRecipientType), types[i]);
    EXPECT_EQ(str(r, prop::kDisplayName), names[i]);
    EXPECT_EQ(str(r, prop::kEmailAddress), addresses[i]);
    EXPECT_EQ(str(r, prop::kSmtpAddress), addresses[i]);
    EXPECT_EQ(str(r, prop::kAddressType), "SMTP");
    EXPECT_EQ(i32(r, kObjectType), 6);
    EXPECT_EQ(i32(r, kDisplayType), 0);
  }
  EXPECT_TRUE(m.attachments.empty());
}

TEST(MimeImportMessage, RtfAlternativeIsTheRtfBodyNotAnAttachment) {
  // What pstkit export writes for an RTF body: text, the HTML made from it,
  // and the RTF itself as a text/rtf alternative.
  const std::string rtf = "{\\rtf1\\ansi Hello {\\b world}\\par}";
  const std::string eml =
      "From: a@example.com\r\nSubject: rtf\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello world\r\n"
      "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>world</b></p>\r\n"
      "--b\r\nContent-Type: text/rtf\r\n\r\n" + rtf + "\r\n--b--\r\n";
  const NewMessage m = convert(eml);
  EXPECT_TRUE(m.attachments.empty());
  const Bytes compressed = bin(m.properties, prop::kRtfCompressed);
  ASSERT_FALSE(compressed.empty());
  auto back = rtf::decompress(ByteView(compressed.data(), compressed.size()));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(text(*back).substr(0, rtf.size()), rtf);
  EXPECT_EQ(i32(m.properties, kNativeBody), 2);  // RTF
  EXPECT_EQ(str(m.properties, prop::kBody), "Hello world");
  // Outside multipart/alternative, or named, it stays an attachment.
  const std::string attached =
      "From: a@example.com\r\nSubject: rtf\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
      "--b\r\nContent-Type: text/rtf\r\n\r\n" + rtf + "\r\n--b--\r\n";
  const NewMessage a = convert(attached);
  EXPECT_EQ(a.attachments.size(), 1u);
  EXPECT_TRUE(bin(a.properties, prop::kRtfCompressed).empty());
}

TEST(MimeImportMessage, MissingDateAndFromStillConvert) {
  std::vector<std::string> warnings;
  const NewMessage m = convert("Subject: bare\n\nJust text\n", &warnings);
  EXPECT_EQ(str(m.properties, prop::kSubject), "bare");
  EXPECT_EQ(str(m.properties, prop::kBody), "Just text\r\n");
  EXPECT_NE(filetime(m.properties, prop::kClientSubmitTime), 0u);  // now, per MS-OXCMAIL
  EXPECT_EQ(find(m.properties, prop::kSenderName), nullptr);
  EXPECT_TRUE(m.recipients.empty());
  EXPECT_GE(warnings.size(), 2u);
}

TEST(MimeImportMessage, AlternativePlainAndHtml) {
  const NewMessage m = convert(
      "From: a@example.com\nSubject: alt\nMIME-Version: 1.0\n"
      "Content-Type: multipart/alternative; boundary=\"b1\"\n\n"
      "--b1\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
      "Caf=E9 au lait\n"
      "--b1\nContent-Type: text/html; charset=iso-8859-1\n\n"
      "<html><body><p>Caf\xe9 <b>au lait</b></p></body></html>\n"
      "--b1--\n");
  EXPECT_EQ(str(m.properties, prop::kBody), "Café au lait");  // the last line end belongs to the boundary
  EXPECT_EQ(text(bin(m.properties, prop::kHtml)), "<html><body><p>Caf\xe9 <b>au lait</b></p></body></html>");
  EXPECT_EQ(i32(m.properties, prop::kInternetCodepage), 28591);  // describes PidTagHtml's bytes
  EXPECT_EQ(i32(m.properties, kNativeBody), 3);
  EXPECT_TRUE(m.attachments.empty());
}

TEST(MimeImportMessage, HtmlOnlyGetsAPlainBody) {
  const NewMessage m = convert(
      "From: a@example.com\nSubject: html\nContent-Type: text/html\n\n"
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\"></head>"
      "<body>\xf0\xd2\xc9\xd7\xc5\xd4<br>world</body></html>");
  EXPECT_EQ(str(m.properties, prop::kBody), "Привет\r\nworld");
  EXPECT_EQ(i32(m.properties, prop::kInternetCodepage), 20866);  // from the <meta>
}

const std::string kPng("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);

TEST(MimeImportMessage, RelatedInlineImageIsHidden) {
  const NewMessage m = convert(
      "From: a@example.com\nSubject: pic\nContent-Type: multipart/related; boundary=r; type=\"text/html\"\n\n"
      "--r\nContent-Type: text/html; charset=utf-8\n\n<p>Logo: <img src=\"cid:logo@x\"></p>\n"
      "--r\nContent-Type: image/png\nContent-ID: <logo@x>\nContent-Transfer-Encoding: base64\n\n"
      "iVBORw0KGgoAAAANSUhEUg==\n"
      "--r\nContent-Type: image/gif; name=unused.gif\nContent-ID: <other@x>\n\nGIF89a\n"
      "--r--\n");
  ASSERT_EQ(m.attachments.size(), 2u);
  const auto& logo = m.attachments[0];
  EXPECT_EQ(logo.data, Bytes(kPng.begin(), kPng.end()));
  EXPECT_EQ(str(logo.properties, prop::kAttachContentId), "logo@x");
  EXPECT_EQ(str(logo.properties, prop::kAttachMimeTag), "image/png");
  EXPECT_EQ(str(logo.properties, prop::kAttachLongFilename), "ATT00001.png");
  EXPECT_EQ(i32(logo.properties, prop::kAttachMethod), 1);
  EXPECT_EQ(i32(logo.properties, kAttachFlags), 4);
  ASSERT_NE(find(logo.properties, kAttachmentHidden), nullptr);
  EXPECT_EQ(find(logo.properties, kAttachmentHidden)->data, Bytes{1});
  // Not referenced from the HTML: an ordinary attachment.
  const auto& other = m.attachments[1];
  EXPECT_EQ(str(other.properties, prop::kAttachLongFilename), "unused.gif");
  EXPECT_EQ(find(other.properties, kAttachFlags), nullptr);
  EXPECT_EQ(find(other.properties, kAttachmentHidden), nullptr);
}

TEST(MimeImportMessage, AttachmentNamesRfc2231AndEncodedWords) {
  const NewMessage m = convert(
      "From: a@example.com\nSubject: files\nContent-Type: multipart/mixed; boundary=\"==x==\"\n\n"
      "preamble\n--==x==\nContent-Type: text/plain\n\nSee attached.\n"
      "--==x==\nContent-Type: application/pdf\n"
      "Content-Disposition: attachment;\n filename*0*=UTF-8''%E2%82%AC%20Quarterly%20;\n filename*1=report.pdf\n"
      "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n"
      "--==x==\nContent-Type: text/plain; name=\"=?iso-8859-1?Q?r=E9sum=E9.txt?=\"\n"
      "Content-Disposition: attachment\n\nnot the body\n"
      "--==x==\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"../../etc/pass:wd\"\n\n"
      "x\n--==x==--\n");
  EXPECT_EQ(str(m.properties, prop::kBody), "See attached.");
  ASSERT_EQ(m.attachments.size(), 3u);
  const auto& pdf = m.attachments[0].properties;
  EXPECT_EQ(str(pdf, prop::kAttachLongFilename), "€ Quarterly report.pdf");
  EXPECT_EQ(str(pdf, prop::kAttachFilename), "QUARTE~1.PDF");
  EXPECT_EQ(str(pdf, prop::kAttachExtension), ".pdf");
  EXPECT_EQ(str(pdf, prop::kDisplayName), "€ Quarterly report.pdf");
  EXPECT_EQ(text(m.attachments[0].data), "%PDF-1.4\n");
  EXPECT_EQ(str(m.attachments[1].properties, prop::kAttachLongFilename), "résumé.txt");
  EXPECT_EQ(text(m.attachments[1].data), "not the body");
  EXPECT_EQ(str(m.attachments[2].properties, prop::kAttachLongFilename), "pass_wd");  // sanitized
}

std::string nested(int levels) {
  std::string eml = "From: level" + std::to_string(levels) + "@example.com\nSubject: level " +
                    std::to_string(levels) + "\n";
  if (levels == 0) return eml + "\nInnermost body\n";
  const std::string b = "nb" + std::to_string(levels);
  return eml + "Content-Type: multipart/mixed; boundary=" + b + "\n\n--" + b +
         "\nContent-Type: text/plain\n\nOuter body " + std::to_string(levels) + "\n--" + b +
         "\nContent-Type: message/rfc822\n\n" + nested(levels - 1) + "--" + b + "--\n";
}

TEST(MimeImportMessage, NestedMessagesEmbedRecursively) {
  const NewMessage m = convert(nested(2));
  ASSERT_EQ(m.attachments.size(), 1u);
  ASSERT_TRUE(m.attachments[0].embedded);
  EXPECT_EQ(str(m.attachments[0].properties, prop::kDisplayName), "level 1");
  const NewMessage& inner = *m.attachments[0].embedded;
  EXPECT_EQ(str(inner.properties, prop::kSubject), "level 1");
  EXPECT_EQ(str(inner.properties, prop::kSenderEmailAddress), "level1@example.com");
  EXPECT_EQ(str(inner.properties, prop::kBody), "Outer body 1");
  ASSERT_EQ(inner.attachments.size(), 1u);
  ASSERT_TRUE(inner.attachments[0].embedded);
  EXPECT_EQ(str(inner.attachments[0].embedded->properties, prop::kBody), "Innermost body");

  // Past the depth limit the message is kept as an .eml file.
  ImportOptions shallow;
  shallow.max_embedded_depth = 1;
  const NewMessage cut = convert(nested(2), nullptr, shallow);
  const NewMessage& level1 = *cut.attachments[0].embedded;
  ASSERT_EQ(level1.attachments.size(), 1u);
  EXPECT_FALSE(level1.attachments[0].embedded);
  EXPECT_EQ(str(level1.attachments[0].properties, prop::kAttachMimeTag), "message/rfc822");
  EXPECT_NE(text(level1.attachments[0].data).find("Innermost body"), std::string::npos);
}

TEST(MimeImportMessage, EightBitCharsetsAndEncodedWords) {
  struct Case {
    std::string subject_header, charset, body_bytes, subject, body;
  } cases[] = {
      {"=?iso-8859-1?Q?Gr=FC=DFe?=", "iso-8859-1", "Gr\xfc\xdf" "e", "Grüße", "Grüße"},
      {"=?koi8-r?B?8NLJ18XU?=", "koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "Привет", "Привет"},
      {"=?shift_jis?B?k/qWew==?=", "shift_jis", "\x93\xfa\x96\x7b", "日本", "日本"},
      {"=?utf-8?B?8J+YgA==?= and =?iso-8859-2?Q?=B3=F3d=BC?=", "windows-1250", "\x9a", "😀 and łódź", "š"},
      {"caf\xe9 raw 8-bit", "unknown-8bit", "caf\xe9", "café raw 8-bit", "café"},
  };
  for (const auto& c : cases) {
    const NewMessage m = convert("From: a@example.com\nSubject: " + c.subject_header +
                                 "\nContent-Type: text/plain; charset=" + c.charset + "\n\n" + c.body_bytes);
    EXPECT_EQ(str(m.properties, prop::kSubject), c.subject) << c.charset;
    EXPECT_EQ(str(m.properties, prop::kBody), c.body) << c.charset;
  }
}

// GMime 3.2.13 joins the encoded texts of adjacent same-charset words
// before base64-decoding them, so everything after a padded word was lost.
TEST(MimeImportMessage, AdjacentEncodedWordsAllDecode) {
  const std::string kom = "=?iso-2022-jp?b?GyRCJTMlYBsoQg==?=", den = "=?iso-2022-jp?b?GyRCRUIbKEI=?=";
  struct Case {
    std::string header, subject;
  } cases[] = {
      {kom + " " + den, "コム殿"},
      {kom + "\n " + den, "コム殿"},             // folded over two lines
      {kom + "\r\n\t" + den + "\n " + kom, "コム殿コム"},
      {"=?utf-8?b?w6k=?= =?UTF-8?B?w6k=?= x", "éé x"},
      {"=?shift_jis?B?g1KDgA==?= =?shift_jis?Q?=93a?=", "コム殿"},  // B then Q in one run
      {"=?utf-8?b?w6k=?= =?iso-8859-1?q?=E9?=", "éé"},               // different charsets
      {"plain =?utf-8?q?x?= text", "plain x text"},
  };
  for (const auto& c : cases) {
    const NewMessage m = convert("From: " + kom + " " + den + " <kd@example.jp>\nTo: " + den + "\n " + kom +
                                 " <a@example.jp>, b@example.jp\nSubject: " + c.header + "\n\nbody\n");
    EXPECT_EQ(str(m.properties, prop::kSubject), c.subject) << c.header;
    EXPECT_EQ(str(m.properties, prop::kSentRepresentingName), "コム殿");
    EXPECT_EQ(str(m.properties, kDisplayTo), "殿コム; b@example.jp");
    // The transport headers keep the header block as received.
    EXPECT_NE(str(m.properties, kTransportHeaders).find(den), std::string::npos);
  }
  // Embedded messages get the same repair.
  const NewMessage outer = convert("From: a@example.com\nSubject: outer\nContent-Type: multipart/mixed; boundary=b\n\n"
                                   "--b\nContent-Type: message/rfc822\n\nFrom: c@example.com\nSubject: " + kom + " " +
                                   den + "\n\ninner\n--b--\n");
  ASSERT_EQ(outer.attachments.size(), 1u);
  ASSERT_TRUE(outer.attachments[0].embedded);
  EXPECT_EQ(str(outer.attachments[0].embedded->properties, prop::kSubject), "コム殿");
  EXPECT_EQ(str(outer.attachments[0].properties, prop::kDisplayName), "コム殿");

  EXPECT_FALSE(merge_encoded_word_runs("=?utf-8?q?a?= plain =?utf-8?q?b?="));
  EXPECT_FALSE(merge_encoded_word_runs("=?utf-8?q?a?= =?iso-8859-1?q?b?="));
  EXPECT_EQ(merge_encoded_word_runs(" =?utf-8?q?a_?=\n =?utf-8?b?Yg==?= tail\n"), " =?utf-8?B?YSBi?= tail\n");
}

TEST(MimeImportMessage, SignedAndEncryptedSmime) {
  const NewMessage s = convert(
      "From: a@example.com\nSubject: signed\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
      " micalg=sha-256; boundary=sig\n\n--sig\nContent-Type: multipart/mixed; boundary=in\n\n--in\n"
      "Content-Type: text/plain\n\nSigned text\n--in\nContent-Type: application/pdf; name=a.pdf\n\nPDF\n--in--\n"
      "\n--sig\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\n"
      "MIIB\n--sig--\n");
  EXPECT_EQ(str(s.properties, prop::kMessageClass), "IPM.Note.SMIME.MultipartSigned");
  EXPECT_EQ(str(s.properties, prop::kBody), "Signed text");
  ASSERT_EQ(s.attachments.size(), 1u);  // [MS-OXOSMIME] 2.1.3.1: exactly one
  EXPECT_EQ(str(s.attachments[0].properties, prop::kAttachMimeTag), "multipart/signed");
  const std::string entity = text(s.attachments[0].data);
  EXPECT_EQ(entity.rfind("Content-Type: multipart/signed;", 0), 0u) << entity;
  EXPECT_NE(entity.find("Signed text"), std::string::npos);
  EXPECT_NE(entity.find("MIIB"), std::string::npos);

  const NewMessage e = convert(
      "From: a@example.com\nSubject: sealed\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data;"
      " name=smime.p7m\nContent-Transfer-Encoding: base64\n\nAAECAw==\n");
  EXPECT_EQ(str(e.properties, prop::kMessageClass), "IPM.Note.SMIME");
  EXPECT_EQ(find(e.properties, prop::kBody), nullptr);
  ASSERT_EQ(e.attachments.size(), 1u);
  EXPECT_EQ(e.attachments[0].data, (Bytes{0, 1, 2, 3}));
  ASSERT_EQ(e.named.size(), 1u);
  EXPECT_EQ(e.named[0].name.name, "Content-Type");
}

TEST(MimeImportMessage, ReadStateFromMailboxHeaders) {
  EXPECT_EQ(i32(convert("Subject: a\nStatus: O\n\nx").properties, prop::kMessageFlags), 0);
  EXPECT_EQ(i32(convert("Subject: a\nStatus: RO\n\nx").properties, prop::kMessageFlags), 1);
  EXPECT_EQ(i32(convert("Subject: a\nX-Mozilla-Status: 0000\n\nx").properties, prop::kMessageFlags), 0);
  const NewMessage flagged = convert("Subject: a\nX-Mozilla-Status: 0005\n\nx");
  EXPECT_EQ(i32(flagged.properties, prop::kMessageFlags), 1);
  EXPECT_EQ(i32(flagged.properties, kFlagStatus), 2);
}

// ---------------------------------------------------------------- damage

TEST(MimeImportDamage, TruncatedMultipartKeepsWhatArrived) {
  std::vector<std::string> warnings;
  const NewMessage m = convert(
      "From: a@example.com\nSubject: cut\nContent-Type: multipart/mixed; boundary=q\n\n--q\n"
      "Content-Type: text/plain\n\nfirst part\n--q\nContent-Type: application/octet-stream; name=f.bin\n"
      "Content-Transfer-Encoding: base64\n\nAAEC",
      &warnings);
  EXPECT_EQ(str(m.properties, prop::kBody), "first part");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].data, (Bytes{0, 1, 2}));
  EXPECT_FALSE(warnings.empty());
}

TEST(MimeImportDamage, BadBase64IsDecodedLeniently) {
  const NewMessage m = convert(
      "Subject: b64\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: application/octet-stream;"
      " name=x.bin\nContent-Transfer-Encoding: base64\n\nSGVs!!bG8=\x01\xff===garbage@@\n--q--\n");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(text(m.attachments[0].data).substr(0, 5), "Hello");
  // Broken quoted-printable: invalid escapes are kept, valid ones decoded.
  const NewMessage qp = convert(
      "Subject: qp\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
      "caf=E9 =ZZ soft=\nbreak end=");
  EXPECT_EQ(str(qp.properties, prop::kBody).substr(0, 5), "café");
  EXPECT_NE(str(qp.properties, prop::kBody).find("softbreak"), std::string::npos);
}

TEST(MimeImportDamage, MissingBoundaryIsGuessed) {
  std::vector<std::string> warnings;
  const NewMessage m = convert(
      "Subject: nb\nContent-Type: multipart/mixed\n\n--guess\nContent-Type: text/plain\n\nbody text\n"
      "--guess\nContent-Type: text/csv; name=t.csv\n\na,b\n--guess--\n",
      &warnings);
  EXPECT_EQ(str(m.properties, prop::kBody), "body text");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(str(m.attachments[0].properties, prop::kAttachLongFilename), "t.csv");
  // A wrong boundary with no usable "--" line keeps the text.
  const NewMessage w = convert("Subject: w\nContent-Type: multipart/mixed; boundary=nowhere\n\njust words\n");
  EXPECT_NE(str(w.properties, prop::kBody).find("just words"), std::string::npos);
}

TEST(MimeImportDamage, GarbageAndEmptyInput) {
  std::vector<std::string> warnings;
  const std::string garbage("\x00\x01\x02\xff\xfe binary\n\nmore", 19);
  const NewMessage g = convert(garbage, &warnings);
  EXPECT_EQ(str(g.properties, prop::kMessageClass), "IPM.Note");
  EXPECT_NE(str(g.properties, prop::kBody).find("binary"), std::string::npos);
  EXPECT_FALSE(warnings.empty());

  auto empty = message_from_mime(view(""), {});
  ASSERT_FALSE(empty.is_ok());
  EXPECT_EQ(empty.status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(message_from_mime(view(" \r\n\r\n\t"), {}).is_ok());
}

TEST(MimeImportDamage, RandomMutationsNeverCrash) {
  const std::string seeds[] = {kPlain, nested(3),
                               "Subject: s\nContent-Type: multipart/related; boundary=r\n\n--r\nContent-Type: "
                               "text/html\n\n<img src=cid:a>\n--r\nContent-ID: <a>\nContent-Type: image/png\n"
                               "Content-Transfer-Encoding: base64\n\nAAAA\n--r--\n"};
  std::mt19937 rng(12345);
  // PSTKIT_MIME_MUTATIONS raises the count for longer runs (e.g. under ASan).
  const char* env = std::getenv("PSTKIT_MIME_MUTATIONS");
  const int rounds = env ? std::atoi(env) : 600;
  for (int i = 0; i < rounds; ++i) {
    std::string s = seeds[size_t(i) % 3];
    const int edits = 1 + int(rng() % 8);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[at] = char(rng()); break;
        case 1: s.erase(at, rng() % 16); break;
        case 2: s.insert(at, s.substr(rng() % s.size(), rng() % 40)); break;
        case 3: s.resize(at); break;
      }
    }
    std::vector<std::string> warnings;
    auto m = message_from_mime(view(s), {}, &warnings);
    if (m.is_ok()) {
      EXPECT_NE(find(m->properties, prop::kMessageClass), nullptr);
    }
  }
}

// ---------------------------------------------------------------- mbox

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("pstkit-mime-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& data) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::vector<MboxReader::Message> read_mbox(const fs::path& path, uint64_t max = 1 << 20) {
  auto reader = MboxReader::open(path.string());
  EXPECT_TRUE(reader.is_ok());
  std::vector<MboxReader::Message> out;
  MboxReader::Message m;
  while (true) {
    auto more = (*reader)->next(&m, max);
    EXPECT_TRUE(more.is_ok());
    if (!more.is_ok() || !*more) break;
    out.push_back(m);
  }
  return out;
}

TEST(MimeImportMbox, SplitsOnFromLinesAndUnquotes) {
  const fs::path dir = temp_dir("mbox");
  write(dir / "box",
        "From alice@example.com Tue Jan 16 17:17:45 2018\n"
        "Subject: one\n\n"
        "Hello\n>From the start\n>>From deeper\nFrom here on, no time, no split\n\n"
        "From bob@example.com Wed Jan 17 08:00:00 2018\n"
        "Subject: two\n\nBody two\n"
        "From carol@example.com Thu Jan 18 09:30:00 2018\n"  // no blank line, but the full form
        "Subject: three\n\nBody three\n");
  const auto messages = read_mbox(dir / "box");
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].bytes,
            "Subject: one\n\nHello\nFrom the start\n>From deeper\nFrom here on, no time, no split\n");
  EXPECT_EQ(messages[0].offset, 0u);
  EXPECT_EQ(messages[1].bytes, "Subject: two\n\nBody two\n");
  EXPECT_EQ(messages[2].bytes, "Subject: three\n\nBody three\n");
  EXPECT_TRUE(MboxReader::looks_like_mbox("From - Sat Jan 03 10:00:00 2020\nSubject: x\n"));
  EXPECT_FALSE(MboxReader::looks_like_mbox("From: someone@example.com\n"));
  fs::remove_all(dir);
}

TEST(MimeImportMbox, CrlfLongLinesAndSizeLimit) {
  const fs::path dir = temp_dir("mbox2");
  const std::string long_line(3 << 20, 'x');  // longer than the reader's buffer
  write(dir / "box", "From a@b Tue Jan 16 17:17:45 2018\r\nSubject: crlf\r\n\r\nshort\r\n\r\n"
                     "From a@b Tue Jan 16 17:17:46 2018\r\nSubject: big\r\n\r\n" + long_line + "\r\n\r\n"
                     "From a@b Tue Jan 16 17:17:47 2018\r\nSubject: last\r\n\r\nend\r\n");
  auto messages = read_mbox(dir / "box", 8 << 20);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].bytes, "Subject: crlf\r\n\r\nshort\r\n");
  EXPECT_EQ(messages[1].bytes.size(), long_line.size() + 18);
  EXPECT_EQ(messages[2].bytes, "Subject: last\r\n\r\nend\r\n");
  messages = read_mbox(dir / "box", 1 << 20);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_FALSE(messages[0].too_large);
  EXPECT_TRUE(messages[1].too_large);
  EXPECT_EQ(messages[2].bytes, "Subject: last\r\n\r\nend\r\n");
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- sources

TEST(MimeImportSources, RecognitionAndMaildirNames) {
  EXPECT_TRUE(looks_like_message("Return-Path: <a@b>\nReceived: x\n y\nSubject: s\n\nbody"));
  EXPECT_TRUE(looks_like_message("X-Custom: 1\r\nFrom: a@b\r\n"));
  EXPECT_FALSE(looks_like_message("name: value\nother: 2\n"));  // no mail header
  EXPECT_FALSE(looks_like_message("%PDF-1.4\n"));
  EXPECT_FALSE(looks_like_message(""));

  MailFlags f = maildir_flags("1516112265.M1P2.host:2,FRS", false);
  EXPECT_TRUE(f.read && f.flagged && f.answered && !f.draft);
  EXPECT_FALSE(maildir_flags("1516112265.M1P2.host:2,", false).read);
  EXPECT_FALSE(maildir_flags("1516112265.M1P2.host", true).read);
  EXPECT_TRUE(maildir_flags("x!2,S", false).read);

  EXPECT_EQ(maildir_folder_path(".Sent"), (std::vector<std::string>{"Sent"}));
  EXPECT_EQ(maildir_folder_path(".Lists.pstkit"), (std::vector<std::string>{"Lists", "pstkit"}));
  EXPECT_EQ(maildir_folder_path(".Entw&APw-rfe"), (std::vector<std::string>{"Entwürfe"}));
  EXPECT_EQ(maildir_folder_path(".A&-B"), (std::vector<std::string>{"A&B"}));
}

// ---------------------------------------------------------------- end to end

struct FolderView {
  std::map<std::string, Nid> subfolders;
  std::vector<Message> messages;
};

FolderView open_folder(const Store& store, Nid nid) {
  FolderView v;
  auto f = store.open_folder(nid);
  EXPECT_TRUE(f.is_ok());
  if (!f) return v;
  auto subs = f->subfolders();
  auto rows = f->contents();
  EXPECT_TRUE(subs.is_ok() && rows.is_ok());
  if (!subs || !rows) return v;
  for (const auto& s : *subs) v.subfolders[s.props.get_string(prop::kDisplayName).value_or("")] = s.nid;
  for (const auto& r : *rows) {
    auto m = store.open_message(r.nid);
    EXPECT_TRUE(m.is_ok());
    if (m) v.messages.push_back(std::move(*m));
  }
  return v;
}

class RecordingProgress : public ImportProgress {
 public:
  void problem(const std::string& where, const Status& status) override {
    problems.push_back(where + ": " + status.message());
  }
  std::vector<std::string> problems;
};

TEST(MimeImportEndToEnd, SourcesIntoAStoreAndBack) {
  const fs::path dir = temp_dir("e2e");
  const std::string eml_with_attachment =
      "From: Ann <ann@example.com>\nTo: Bob <bob@example.org>\nSubject: with attachment\n"
      "Date: Tue, 16 Jan 2018 17:17:45 +0000\nContent-Type: multipart/mixed; boundary=m\n\n--m\n"
      "Content-Type: text/plain\n\nSee the file.\n--m\nContent-Type: application/octet-stream; name=data.bin\n"
      "Content-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n--m\nContent-Type: message/rfc822\n\n"
      "From: c@example.com\nSubject: forwarded\n\nInner text\n--m--\n";
  write(dir / "emls" / "b.eml", eml_with_attachment);
  write(dir / "emls" / "a.eml", "From: a@example.com\nSubject: first eml\n\nA\n");
  write(dir / "emls" / "sub" / "c.txt", "From: c@example.com\nSubject: third eml\n\nC\n");  // by content
  write(dir / "emls" / "notes.txt", "just some notes\n");                                      // skipped
  write(dir / "inbox.mbox", "From a@b Tue Jan 16 17:17:45 2018\nSubject: mbox one\nStatus: RO\n\n1\n\n"
                            "From a@b Tue Jan 16 17:17:46 2018\nSubject: mbox two\nStatus: O\n\n2\n");
  write(dir / "Maildir" / "cur" / "1000.A.host:2,S", "From: m@example.com\nSubject: maildir seen\n\nS\n");
  write(dir / "Maildir" / "new" / "1001.B.host", "From: m@example.com\nSubject: maildir new\n\nN\n");
  fs::create_directories(dir / "Maildir" / "tmp");
  write(dir / "Maildir" / ".Archive.2017" / "cur" / "0999.C.host:2,S",
        "From: m@example.com\nSubject: archived\n\nold\n");
  fs::create_directories(dir / "Maildir" / ".Archive.2017" / "new");

  const std::string pst = (dir / "out.pst").string();
  auto writer = StoreWriter::create(pst, NewStoreOptions{});
  ASSERT_TRUE(writer.is_ok()) << writer.status().message();
  auto folder = (*writer)->create_folder((*writer)->ipm_subtree(), "Imported");
  ASSERT_TRUE(folder.is_ok());
  ImportOptions options;
  options.batch_size = 2;
  RecordingProgress progress;
  Status s = import_sources(**writer, *folder,
                            {(dir / "emls").string(), (dir / "inbox.mbox").string(), (dir / "Maildir").string()},
                            options, &progress);
  EXPECT_TRUE(s.is_ok()) << s.message();
  EXPECT_TRUE(progress.problems.empty());
  EXPECT_EQ(progress.counters().messages, 8u);
  EXPECT_EQ(progress.counters().skipped_files, 1u);
  EXPECT_EQ(progress.counters().folders_created, 3u);  // emls/sub, Archive, Archive/2017
  EXPECT_GE(progress.counters().commits, 4u);
  EXPECT_EQ(progress.counters().bytes_read, progress.counters().bytes_total);
  const Nid folder_nid = *folder;
  writer->reset();

  auto store = Store::open(pst);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  const FolderView top = open_folder(**store, folder_nid);
  std::vector<std::string> subjects;
  for (const auto& m : top.messages) subjects.push_back(m.subject());
  EXPECT_EQ(subjects, (std::vector<std::string>{"first eml", "with attachment", "mbox one", "mbox two",
                                                "maildir seen", "maildir new"}));
  auto f = (*store)->open_folder(folder_nid);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->content_count(), 6);
  // A subdirectory of a directory source is a subfolder.
  ASSERT_EQ(top.subfolders.count("sub"), 1u);
  const FolderView sub = open_folder(**store, top.subfolders.at("sub"));
  ASSERT_EQ(sub.messages.size(), 1u);
  EXPECT_EQ(sub.messages[0].subject(), "third eml");
  EXPECT_EQ(f->unread_count(), 2);  // "mbox two" and "maildir new"

  const Message& m = top.messages[1];
  EXPECT_EQ(m.body_text().value_or(""), "See the file.");
  auto recipients = m.recipients();
  ASSERT_TRUE(recipients.is_ok());
  ASSERT_EQ(recipients->size(), 1u);
  EXPECT_EQ((*recipients)[0].get_string(prop::kDisplayName).value_or(""), "Bob");
  EXPECT_EQ((*recipients)[0].get_string(prop::kEmailAddress).value_or(""), "bob@example.org");
  auto attachments = m.attachment_nids();
  ASSERT_TRUE(attachments.is_ok());
  ASSERT_EQ(attachments->size(), 2u);
  auto data = m.open_attachment((*attachments)[0]);
  ASSERT_TRUE(data.is_ok());
  EXPECT_EQ(data->filename(), "data.bin");
  auto bytes = data->read_data();
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(*bytes, (Bytes{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  auto forwarded = m.open_attachment((*attachments)[1]);
  ASSERT_TRUE(forwarded.is_ok());
  ASSERT_TRUE(forwarded->is_embedded_message());
  auto inner = forwarded->embedded_message();
  ASSERT_TRUE(inner.is_ok());
  EXPECT_EQ(inner->subject(), "forwarded");
  EXPECT_EQ(inner->body_text().value_or(""), "Inner text");

  ASSERT_EQ(top.subfolders.count("Archive"), 1u);
  const FolderView archive = open_folder(**store, top.subfolders.at("Archive"));
  ASSERT_EQ(archive.subfolders.count("2017"), 1u);
  const FolderView y2017 = open_folder(**store, archive.subfolders.at("2017"));
  ASSERT_EQ(y2017.messages.size(), 1u);
  EXPECT_EQ(y2017.messages[0].subject(), "archived");
  store->reset();

  auto report = check::check_file(pst);
  ASSERT_TRUE(report.is_ok());
  EXPECT_TRUE(report->clean());
  fs::remove_all(dir);
}

TEST(MimeImportEndToEnd, BadSourcesAreReportedOthersImported) {
  const fs::path dir = temp_dir("bad");
  write(dir / "good.eml", "From: a@example.com\nSubject: good\n\nok\n");
  write(dir / "empty.eml", "");
  write(dir / "picture.png", kPng);
  const std::string pst = (dir / "out.pst").string();
  auto writer = StoreWriter::create(pst, NewStoreOptions{});
  ASSERT_TRUE(writer.is_ok());
  RecordingProgress progress;
  Status s = import_sources(**writer, (*writer)->ipm_subtree(),
                            {(dir / "missing.mbox").string(), (dir / "empty.eml").string(),
                             (dir / "picture.png").string(), (dir / "good.eml").string()},
                            {}, &progress);
  EXPECT_FALSE(s.is_ok());
  EXPECT_FALSE(progress.counters().store_failed);
  EXPECT_EQ(progress.counters().messages, 1u);
  EXPECT_EQ(progress.counters().failed_sources, 3u);
  ASSERT_EQ(progress.problems.size(), 3u);
  EXPECT_NE(progress.problems[0].find("missing.mbox"), std::string::npos);
  EXPECT_NE(progress.problems[1].find("empty.eml"), std::string::npos);
  EXPECT_NE(progress.problems[2].find("picture.png"), std::string::npos);
  EXPECT_FALSE((*writer)->has_changes());  // the good message is committed
  fs::remove_all(dir);
}

TEST(MimeImportEndToEnd, AnsiStoreKeepsTheMessageCodePage) {
  const fs::path dir = temp_dir("ansi");
  write(dir / "ru.eml", "From: =?koi8-r?B?8NLJ18XU?= <a@example.ru>\nSubject: =?koi8-r?B?8NLJ18XU?=\n"
                        "Content-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4");
  write(dir / "jp.eml", "From: a@example.jp\nSubject: =?iso-2022-jp?B?GyRCRnxLXBsoQg==?=\n"
                        "Content-Type: text/plain; charset=iso-2022-jp\n\n\x1b$BF|K\\\x1b(B");
  const std::string pst = (dir / "ansi.pst").string();
  NewStoreOptions o;
  o.format = ndb::FileFormat::kAnsi;
  auto writer = StoreWriter::create(pst, o);
  ASSERT_TRUE(writer.is_ok()) << writer.status().message();
  Status s = import_sources(**writer, (*writer)->ipm_subtree(), {(dir / "ru.eml").string(), (dir / "jp.eml").string()},
                            {}, nullptr);
  ASSERT_TRUE(s.is_ok()) << s.message();
  const Nid ipm = (*writer)->ipm_subtree();
  writer->reset();
  auto store = Store::open(pst);
  ASSERT_TRUE(store.is_ok());
  const FolderView v = open_folder(**store, ipm);
  ASSERT_EQ(v.messages.size(), 2u);
  EXPECT_EQ(v.messages[0].subject(), "Привет");
  EXPECT_EQ(v.messages[0].body_text().value_or(""), "Привет");
  EXPECT_EQ(v.messages[0].properties().get_string(prop::kSenderName).value_or(""), "Привет");
  EXPECT_EQ(v.messages[0].properties().get_i32(prop::kMessageCodepage).value_or(0), 20866);
  EXPECT_EQ(v.messages[1].subject(), "日本");
  EXPECT_EQ(v.messages[1].body_text().value_or(""), "日本");
  EXPECT_EQ(v.messages[1].properties().get_i32(prop::kMessageCodepage).value_or(0), 932);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- full disk

// Counts the messages below the IPM subtree of a file image.
int count_messages(const std::string& path) {
  auto w = ndb::WritableDatabase::open(path);  // recovers an interrupted commit
  if (!w) return -1;
  w->reset();
  auto store = Store::open(path);
  if (!store) return -2;
  int n = 0;
  std::vector<Nid> pending{(*store)->ipm_subtree_nid().value_or(0)};
  while (!pending.empty()) {
    auto f = (*store)->open_folder(pending.back());
    pending.pop_back();
    if (!f) return -3;
    auto subs = f->subfolders();
    auto rows = f->contents();
    if (!subs || !rows) return -4;
    n += int(rows->size());
    for (const auto& s : *subs) pending.push_back(s.nid);
  }
  return n;
}

TEST(MimeImportFault, WriteFailureLeavesTheLastCommit) {
  const fs::path dir = temp_dir("fault");
  std::string mbox;
  for (int i = 0; i < 12; ++i) {
    mbox += "From a@b Tue Jan 16 17:17:45 2018\nSubject: message " + std::to_string(i) +
            "\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\nbody\n--q\n"
            "Content-Type: application/octet-stream; name=a.bin\n\n" + std::string(size_t(3000 + 500 * i), 'z') +
            "\n--q--\n\n";
  }
  write(dir / "in.mbox", mbox);
  const std::string base_path = (dir / "base.pst").string();
  ASSERT_TRUE(StoreWriter::create(base_path, NewStoreOptions{}).is_ok());
  std::ifstream in(base_path, std::ios::binary);
  const Bytes base((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string path = "/virtual/import.pst";
  ImportOptions options;
  options.batch_size = 5;  // commits after 5, 10 and 12 messages

  auto run = [&](testing::FaultEnv& env) {
    ndb::WriterOptions wo;
    wo.env = &env;
    auto w = StoreWriter::open(path, wo);
    if (!w) return std::make_pair(w.status(), ImportCounters{});
    ImportProgress progress;
    Status s = import_sources(**w, (*w)->ipm_subtree(), {(dir / "in.mbox").string()}, options, &progress);
    return std::make_pair(s, progress.counters());
  };
  testing::FaultEnv env;
  env.put_file(path, base);
  env.arm(-1, false);
  auto [ok, done] = run(env);
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  ASSERT_EQ(done.commits, 3u);
  const int64_t events = env.events();

  // The disk fills up at every 3rd write or sync; what is left on disk must
  // be a committed state: 0, 5, 10 or 12 messages.
  const std::string real = (dir / "after.pst").string();
  int tried = 0;
  for (int64_t k = 0; k < events; k += 3) {
    env.put_file(path, base);
    env.files().erase(path + "-journal");
    env.files().erase(path + "-journal.tmp");
    env.arm(k, false);
    auto [status, counters] = run(env);
    // A failure after the last commit became durable (removing the journal)
    // does not fail the import.
    EXPECT_TRUE(!status.is_ok() || counters.commits == 3) << "event " << k;
    EXPECT_EQ(counters.store_failed, !status.is_ok()) << "event " << k;
    for (auto survival : {testing::FaultEnv::Survival::kNoUnsynced, testing::FaultEnv::Survival::kAllUnsynced}) {
      fs::remove(real);
      fs::remove(real + "-journal");
      fs::remove(real + "-journal.tmp");
      for (const auto& [p, bytes] : env.disk_after_crash(survival)) {
        // The file, its journal, and a journal not yet renamed into place.
        if (p.rfind(path, 0) != 0) continue;
        std::ofstream out(real + p.substr(path.size()), std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
      }
      const int n = count_messages(real);
      const int committed = int(counters.commits) * 5 > 12 ? 12 : int(counters.commits) * 5;
      EXPECT_TRUE(n == committed || n == std::min(committed + 5, 12))
          << "event " << k << ": " << n << " messages after " << counters.commits << " commits";
      auto report = check::check_file(real);
      EXPECT_TRUE(report.is_ok() && report->clean()) << "event " << k;
      ++tried;
    }
  }
  EXPECT_GT(tried, 4);
  fs::remove_all(dir);
}

// A disk that fills up: writes that would grow the files past a budget fail
// with ENOSPC's message, everything else (reads, in-place writes, syncs)
// keeps working, as on a real full file system.
class DiskFullEnv : public Env {
 public:
  explicit DiskFullEnv(uint64_t budget) : budget_(budget) {}

  class File : public WritableFile {
   public:
    File(DiskFullEnv* env, std::unique_ptr<WritableFile> base) : env_(env), base_(std::move(base)) {}
    uint64_t size() const override { return base_->size(); }
    Status read(uint64_t offset, size_t len, uint8_t* out) const override { return base_->read(offset, len, out); }
    Status write(uint64_t offset, ByteView data) override {
      const uint64_t end = offset + data.size();
      const uint64_t growth = end > base_->size() ? end - base_->size() : 0;
      if (env_->used_ + growth > env_->budget_) {
        ++env_->failures_;
        return Status::io_error("write: No space left on device");
      }
      env_->used_ += growth;
      return base_->write(offset, data);
    }
    Status sync() override { return base_->sync(); }
    Status truncate(uint64_t size) override { return base_->truncate(size); }

   private:
    DiskFullEnv* env_;
    std::unique_ptr<WritableFile> base_;
  };

  Result<std::unique_ptr<WritableFile>> open(const std::string& path, OpenMode mode) override {
    PSTKIT_ASSIGN_OR_RETURN(auto base, Env::posix()->open(path, mode));
    return std::unique_ptr<WritableFile>(std::make_unique<File>(this, std::move(base)));
  }
  bool exists(const std::string& path) override { return Env::posix()->exists(path); }
  Status remove(const std::string& path) override { return Env::posix()->remove(path); }
  Status rename(const std::string& from, const std::string& to) override { return Env::posix()->rename(from, to); }
  Status sync_dir_of(const std::string& path) override { return Env::posix()->sync_dir_of(path); }

  uint64_t failures() const { return failures_; }
  uint64_t used() const { return used_; }

 private:
  uint64_t budget_;
  uint64_t used_ = 0;
  uint64_t failures_ = 0;
};

TEST(MimeImportFault, FullDiskStopsAtTheLastCommitAndResumes) {
  const fs::path dir = temp_dir("full");
  std::string mbox;
  for (int i = 0; i < 12; ++i) {
    mbox += "From a@b Tue Jan 16 17:17:45 2018\nSubject: message " + std::to_string(i) +
            "\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\nbody\n--q\n"
            "Content-Type: application/octet-stream; name=a.bin\n\n" + std::string(size_t(20000 + 3000 * i), 'z') +
            "\n--q--\n\n";
  }
  write(dir / "in.mbox", mbox);
  const std::string base_path = (dir / "base.pst").string();
  ASSERT_TRUE(StoreWriter::create(base_path, NewStoreOptions{}).is_ok());
  const std::string path = (dir / "full.pst").string();
  ImportOptions options;
  options.batch_size = 5;
  auto import = [&](DiskFullEnv& env) {
    ndb::WriterOptions wo;
    wo.env = &env;
    auto w = StoreWriter::open(path, wo);
    if (!w) return std::make_pair(w.status(), ImportCounters{});
    ImportProgress progress;
    Status s = import_sources(**w, (*w)->ipm_subtree(), {(dir / "in.mbox").string()}, options, &progress);
    return std::make_pair(s, progress.counters());
  };
  // How much the whole import grows the file and its journal.
  fs::copy_file(base_path, path, fs::copy_options::overwrite_existing);
  DiskFullEnv unlimited(~uint64_t{0});
  ASSERT_TRUE(import(unlimited).first.is_ok());
  const uint64_t full_growth = unlimited.used();

  for (int percent : {5, 25, 50, 75, 95}) {
    fs::copy_file(base_path, path, fs::copy_options::overwrite_existing);
    fs::remove(path + "-journal");
    DiskFullEnv env(full_growth * uint64_t(percent) / 100);
    auto [status, counters] = import(env);
    ASSERT_FALSE(status.is_ok()) << percent << "%";
    EXPECT_GT(env.failures(), 0u);
    EXPECT_TRUE(counters.store_failed);
    EXPECT_NE(status.message().find("No space left on device"), std::string::npos) << status.message();
    // The file holds exactly the committed batches and checks clean.
    EXPECT_EQ(count_messages(path), int(std::min<uint64_t>(counters.commits * 5, 12))) << percent << "%";
    auto report = check::check_file(path);
    EXPECT_TRUE(report.is_ok() && report->clean()) << percent << "%";
  }
  // With space again, the same file takes the import.
  DiskFullEnv roomy(~uint64_t{0});
  EXPECT_TRUE(import(roomy).first.is_ok());
  EXPECT_GE(count_messages(path), 12);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pstkit::mime
