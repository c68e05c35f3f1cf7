// make_sample_pst OUT.pst [--ansi]: writes, with the pstkit library, a small
// store that exercises what readers must handle: nested folders, plain and
// HTML bodies, To/Cc/Bcc recipients, attachments from a few bytes to more
// than 100 KB (an XBLOCK data tree), an embedded message with its own
// attachment, non-ASCII subjects and unread items.
//
// Everything is deterministic (no clock, no randomness), so two runs give
// stores with the same content. OUT is replaced if it exists.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/store_writer.h"
#include "pstkit/utf.h"

namespace {

using namespace pstkit;

// Property ids used here beyond those in pstkit/messaging.h ([MS-OXPROPS]).
constexpr uint16_t kConversationTopic = 0x0070;
constexpr uint16_t kSentRepresentingAddressType = 0x0064;
constexpr uint16_t kSentRepresentingEmail = 0x0065;
constexpr uint16_t kSenderAddressType = 0x0C1E;
constexpr uint16_t kDisplayBcc = 0x0E02;
constexpr uint16_t kDisplayCc = 0x0E03;
constexpr uint16_t kDisplayTo = 0x0E04;
constexpr uint16_t kObjectType = 0x0FFE;
constexpr uint16_t kInternetMessageId = 0x1035;
constexpr uint16_t kCreationTime = 0x3007;
constexpr uint16_t kLastModificationTime = 0x3008;
constexpr uint16_t kDisplayType = 0x3900;

PropValue text(uint16_t id, const std::string& utf8) {
  return PropValue{ltp::make_tag(id, ltp::kPtypString), utf8_to_utf16le(utf8)};
}
PropValue i32(uint16_t id, int32_t v) {
  PropValue p{ltp::make_tag(id, ltp::kPtypInteger32), Bytes(4)};
  store_le32(p.data.data(), uint32_t(v));
  return p;
}
PropValue time(uint16_t id, uint64_t filetime) {
  PropValue p{ltp::make_tag(id, ltp::kPtypTime), Bytes(8)};
  store_le64(p.data.data(), filetime);
  return p;
}
PropValue binary(uint16_t id, const std::string& bytes) {
  return PropValue{ltp::make_tag(id, ltp::kPtypBinary), Bytes(bytes.begin(), bytes.end())};
}

// 2024-03-01T09:00:00Z plus an hour per message.
constexpr uint64_t kMarch2024 = 133537572000000000ull;
uint64_t filetime_of(int index) { return kMarch2024 + uint64_t(index) * 36000000000ull; }

struct Person {
  const char* name;
  const char* email;
};
constexpr Person kAnn{"Ann Archer", "ann@example.com"};
constexpr Person kBob{"Bob Brown", "bob@example.org"};
constexpr Person kChloe{"Chloé Dubois", "chloe@example.fr"};
constexpr Person kDai{"Dai Tanaka", "dai@example.jp"};
constexpr Person kMe{"Sam Sample", "sam@example.net"};

std::vector<PropValue> recipient(const Person& p, int32_t type) {
  return {i32(prop::kRecipientType, type), text(prop::kDisplayName, p.name), text(prop::kEmailAddress, p.email),
          text(prop::kAddressType, "SMTP"), text(prop::kSmtpAddress, p.email), i32(kObjectType, 6 /* mail user */),
          i32(kDisplayType, 0)};
}

// Deterministic pseudo-random bytes (a linear congruential generator).
Bytes noise(size_t size, uint32_t seed) {
  Bytes b(size);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : b) {
    x = x * 1664525u + 1013904223u;
    c = uint8_t(x >> 24);
  }
  return b;
}

Bytes text_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

NewAttachment file(const std::string& name, const std::string& mime, Bytes data) {
  NewAttachment a;
  const auto dot = name.rfind('.');
  a.properties = {text(prop::kAttachLongFilename, name), text(prop::kAttachFilename, name),
                  text(prop::kDisplayName, name), text(prop::kAttachMimeTag, mime),
                  time(kCreationTime, kMarch2024), time(kLastModificationTime, kMarch2024)};
  if (dot != std::string::npos) a.properties.push_back(text(prop::kAttachExtension, name.substr(dot)));
  a.data = std::move(data);
  return a;
}

// One message of the sample.
struct Spec {
  const char* folder;  // path below the IPM subtree
  std::string subject;
  Person from;
  std::vector<Person> to, cc, bcc;
  bool html = false;   // HTML body (with a plain one when plain_too)
  bool plain_too = true;
  bool unread = false;
  std::vector<NewAttachment> attachments;
};

std::string join_names(const std::vector<Person>& people) {
  std::string s;
  for (const auto& p : people) s += (s.empty() ? "" : "; ") + std::string(p.name);
  return s;
}

NewMessage build(const Spec& spec, int index) {
  NewMessage m;
  const uint64_t when = filetime_of(index);
  const std::string body = "Hello,\r\n\r\nThis is sample message " + std::to_string(index + 1) + ": " +
                           spec.subject + ".\r\n\r\nRegards,\r\n" + spec.from.name + "\r\n";
  m.properties = {text(prop::kMessageClass, "IPM.Note"),
                  text(prop::kSubject, spec.subject),
                  text(kConversationTopic, spec.subject),
                  text(prop::kSenderName, spec.from.name),
                  text(prop::kSenderEmailAddress, spec.from.email),
                  text(kSenderAddressType, "SMTP"),
                  text(prop::kSentRepresentingName, spec.from.name),
                  text(kSentRepresentingEmail, spec.from.email),
                  text(kSentRepresentingAddressType, "SMTP"),
                  text(kDisplayTo, join_names(spec.to)),
                  text(kDisplayCc, join_names(spec.cc)),
                  text(kDisplayBcc, join_names(spec.bcc)),
                  text(kInternetMessageId, "<sample-" + std::to_string(index + 1) + "@pstkit.example>"),
                  time(prop::kClientSubmitTime, when - 600000000ull),
                  time(prop::kMessageDeliveryTime, when),
                  time(kCreationTime, when),
                  time(kLastModificationTime, when),
                  i32(prop::kImportance, index % 7 == 3 ? 2 : 1),
                  i32(prop::kMessageFlags, spec.unread ? 0 : 1)};
  if (!spec.html || spec.plain_too) m.properties.push_back(text(prop::kBody, body));
  if (spec.html) {
    const std::string html = "<html><head><meta charset=\"utf-8\"></head><body><p>Hello,</p><p>This is sample "
                             "message <b>" + std::to_string(index + 1) + "</b>: " + spec.subject +
                             ".</p><p>Regards,<br>" + spec.from.name + "</p></body></html>";
    m.properties.push_back(binary(prop::kHtml, html));
    m.properties.push_back(i32(prop::kInternetCodepage, 65001));
  }
  for (const auto& p : spec.to) m.recipients.push_back(recipient(p, 1));
  for (const auto& p : spec.cc) m.recipients.push_back(recipient(p, 2));
  for (const auto& p : spec.bcc) m.recipients.push_back(recipient(p, 3));
  m.attachments = spec.attachments;
  return m;
}

// ANSI stores keep 8-bit strings (Windows-1252 here); PidTagMessageCodepage
// says so, as Outlook does, rather than leaving readers to guess from
// PidTagInternetCodepage, which describes the HTML body.
void mark_codepage(NewMessage& m) {
  m.properties.push_back(i32(prop::kMessageCodepage, 1252));
  for (auto& a : m.attachments) {
    if (a.embedded) mark_codepage(*a.embedded);
  }
}

// A forwarded message carried as an attachment, with an attachment of its own.
NewAttachment forwarded() {
  Spec inner{"", "Original: quarterly numbers", kBob, {kAnn}, {}, {}, false, true, false,
             {file("numbers.csv", "text/csv", text_bytes("quarter,revenue\nQ1,100\nQ2,120\nQ3,135\nQ4,150\n"))}};
  NewAttachment a;
  a.properties = {text(prop::kDisplayName, "Original: quarterly numbers"), time(kCreationTime, kMarch2024),
                  time(kLastModificationTime, kMarch2024)};
  a.embedded = std::make_shared<NewMessage>(build(inner, 99));
  return a;
}

std::vector<Spec> specs() {
  const std::string notes = "Meeting notes\n=============\n\n- budget approved\n- next review in April\n";
  return {
      {"Inbox", "Welcome to pstkit", kAnn, {kMe}, {}, {}, false, true, false, {}},
      {"Inbox", "Lunch on Friday?", kBob, {kMe}, {kAnn}, {}, false, true, true, {}},
      {"Inbox", "Café: menu du jour — crème brûlée", kChloe, {kMe}, {}, {}, true, true, false, {}},
      {"Inbox", "日本語のテスト", kDai, {kMe}, {kAnn, kBob}, {}, true, true, true, {}},
      {"Inbox", "Party time 🎉🎂", kAnn, {kMe, kBob}, {}, {kChloe}, true, false, false, {}},
      {"Inbox", "Meeting notes", kBob, {kMe}, {}, {}, false, true, false,
       {file("notes.txt", "text/plain", text_bytes(notes))}},
      {"Inbox", "Photos from the trip", kChloe, {kMe}, {kAnn}, {}, true, true, true,
       {file("beach.jpg", "image/jpeg", noise(40000, 1)), file("sunset.jpg", "image/jpeg", noise(150000, 2))}},
      {"Inbox", "Fwd: quarterly numbers", kAnn, {kMe}, {}, {}, false, true, false, {forwarded()}},
      {"Inbox/Projects", "Apollo kickoff", kAnn, {kMe, kBob}, {kDai}, {}, true, true, false,
       {file("agenda.txt", "text/plain", text_bytes("1. Goals\n2. Team\n3. Timeline\n"))}},
      {"Inbox/Projects", "Apollo: design review", kBob, {kMe}, {}, {kAnn}, false, true, false,
       {file("design.pdf", "application/pdf", noise(9000, 3))}},
      {"Inbox/Projects/Apollo", "Apollo build 42 passed", kDai, {kMe}, {}, {}, false, true, false, {}},
      {"Inbox/Projects/Apollo", "Apollo build 43 failed", kDai, {kMe}, {kBob}, {}, false, true, true,
       {file("build.log", "text/plain", text_bytes(std::string(3000, 'x') + "\nerror: test failed\n"))}},
      {"Inbox/Receipts", "Your order #1001", kChloe, {kMe}, {}, {}, true, false, false,
       {file("invoice-1001.pdf", "application/pdf", noise(2048, 4))}},
      {"Inbox/Receipts", "Grüße aus München: Ihre Rechnung", kChloe, {kMe}, {}, {}, false, true, false, {}},
      {"Sent Items", "Re: Lunch on Friday?", kMe, {kBob}, {kAnn}, {}, false, true, false, {}},
      {"Sent Items", "Re: Apollo kickoff", kMe, {kAnn}, {kBob, kDai}, {kChloe}, true, true, false, {}},
      {"Archive", "Old newsletter", kBob, {kMe}, {}, {}, true, false, false, {}},
      {"Archive/2023", "Happy new year 2023", kAnn, {kMe}, {kBob, kChloe, kDai}, {}, false, true, false,
       {file("card.png", "image/png", noise(700, 5))}},
      {"Archive/2023", "Tax documents", kChloe, {kMe}, {}, {}, false, true, false,
       {file("empty.txt", "text/plain", Bytes{}), file("tax.bin", "application/octet-stream", noise(20000, 6))}},
      {"Deleted Items", "Spam you deleted", kDai, {kMe}, {}, {}, false, true, false, {}},
  };
}

// "Inbox/Projects" -> {"Inbox", "Projects"}.
std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  for (size_t start = 0, end = 0; end != std::string::npos; start = end + 1) {
    end = path.find('/', start);
    parts.push_back(path.substr(start, end - start));
  }
  return parts;
}

int fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "make_sample_pst: %s: %s\n", what.c_str(), s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  bool ansi = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ansi") == 0) {
      ansi = true;
    } else if (argv[i][0] != '-' && out.empty()) {
      out = argv[i];
    } else {
      out.clear();
      break;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "usage: make_sample_pst OUT.pst [--ansi]\n");
    return 2;
  }
  std::remove(out.c_str());
  std::remove((out + "-journal").c_str());
  NewStoreOptions options;
  options.format = ansi ? ndb::FileFormat::kAnsi : ndb::FileFormat::kUnicode;
  options.display_name = "pstkit sample";
  auto created = StoreWriter::create(out, options);
  if (!created) return fail(out, created.status());
  StoreWriter& w = **created;
  for (const char* path : {"Inbox", "Inbox/Projects", "Inbox/Projects/Apollo", "Inbox/Receipts", "Sent Items",
                           "Archive", "Archive/2023"}) {
    std::vector<std::string> parent_path = split(path);
    const std::string name = parent_path.back();
    parent_path.pop_back();
    auto parent = w.find_folder(parent_path);
    if (!parent) return fail(path, parent.status());
    if (auto folder = w.create_folder(*parent, name); !folder) return fail(path, folder.status());
  }
  const auto all = specs();
  for (size_t i = 0; i < all.size(); ++i) {
    auto folder = w.find_folder(split(all[i].folder));
    if (!folder) return fail(all[i].folder, folder.status());
    NewMessage m = build(all[i], int(i));
    if (ansi) mark_codepage(m);
    if (auto msg = w.create_message(*folder, m); !msg) return fail(all[i].subject, msg.status());
  }
  if (Status s = w.commit(); !s.is_ok()) return fail("commit", s);
  std::printf("wrote %s: %zu messages in 7 folders (%s)\n", out.c_str(), all.size(), ansi ? "ANSI" : "Unicode");
  return 0;
}
