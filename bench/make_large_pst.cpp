// Generates a large PST through the library's writer, for benchmarks of the
// readers (pstkit, pffexport, readpst) on files far bigger than the corpus:
//   make_large_pst OUT.pst MESSAGES [ATTACHMENT_EVERY] [ATTACHMENT_KB] [FOLDERS]
// Messages are spread round-robin over FOLDERS (default 4) folders below the
// IPM subtree ("Folder 0", ...); ATTACHMENT_EVERY 0 means no attachments.
// Messages get varied plain and HTML bodies, three recipients and, every
// ATTACHMENT_EVERY messages, an attachment of about ATTACHMENT_KB KiB.
// Content is deterministic. Prints messages/s and MB/s of writing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "pstkit/store_writer.h"
#include "pstkit/utf.h"

using namespace pstkit;

namespace {

PropValue text(uint16_t id, const std::string& s) { return ltp::string_value(id, s); }
PropValue binary(uint16_t id, const std::string& s) { return ltp::binary_value(id, Bytes(s.begin(), s.end())); }
PropValue i32(uint16_t id, int32_t x) { return ltp::int32_value(id, x); }
PropValue time(uint16_t id, uint64_t ft) { return ltp::time_value(id, ft); }

const char* kWords[] = {"meeting", "budget", "project", "review", "deadline", "customer", "report", "quarter",
                        "schedule", "design", "release", "invoice", "contract", "team", "update", "draft"};

std::string sentence(uint64_t& seed, int words) {
  std::string s;
  for (int i = 0; i < words; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    if (i) s += ' ';
    s += kWords[(seed >> 33) % 16];
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_large_pst OUT.pst MESSAGES [ATTACHMENT_EVERY] [ATTACHMENT_KB] [FOLDERS]\n");
    return 2;
  }
  const std::string out = argv[1];
  const long messages = std::atol(argv[2]);
  const long every = argc > 3 ? std::atol(argv[3]) : 4;
  const long kb = argc > 4 ? std::atol(argv[4]) : 64;
  const long folder_count = argc > 5 ? std::atol(argv[5]) : 4;
  if (folder_count < 1 || folder_count > 1000) {
    std::fprintf(stderr, "make_large_pst: FOLDERS must be 1 to 1000\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  auto w = StoreWriter::create(out, NewStoreOptions{});
  if (!w) {
    std::fprintf(stderr, "make_large_pst: %s\n", w.status().message().c_str());
    return 1;
  }
  StoreWriter& s = **w;
  std::vector<Nid> folders;
  for (long f = 0; f < folder_count; ++f) {
    auto nid = s.create_folder(s.ipm_subtree(), "Folder " + std::to_string(f));
    if (!nid) return std::fprintf(stderr, "make_large_pst: %s\n", nid.status().message().c_str()), 1;
    folders.push_back(*nid);
  }
  uint64_t seed = 42, bytes = 0;
  for (long i = 0; i < messages; ++i) {
    NewMessage m;
    const std::string subject = "Message " + std::to_string(i) + ": " + sentence(seed, 5);
    std::string body;
    for (int p = 0; p < 8 + int(i % 24); ++p) body += sentence(seed, 12) + ".\r\n";
    const std::string html = "<html><body><p>" + body + "</p></body></html>";
    m.properties = {text(prop::kMessageClass, "IPM.Note"), text(prop::kSubject, subject), text(prop::kBody, body),
                    binary(prop::kHtml, html), i32(prop::kMessageFlags, i % 5 ? 1 : 0),
                    time(prop::kClientSubmitTime, 133000000000000000ull + uint64_t(i) * 600000000ull),
                    time(prop::kMessageDeliveryTime, 133000000000000000ull + uint64_t(i) * 600000000ull + 1),
                    text(prop::kSenderName, "Sender " + std::to_string(i % 97)),
                    text(prop::kSenderEmailAddress, "sender" + std::to_string(i % 97) + "@example.com")};
    for (int r = 0; r < 3; ++r) {
      m.recipients.push_back({text(prop::kDisplayName, "Recipient " + std::to_string(r)),
                              i32(prop::kRecipientType, r == 2 ? 2 : 1),
                              text(prop::kEmailAddress, "r" + std::to_string(r) + "@example.com"),
                              text(prop::kAddressType, "SMTP")});
    }
    bytes += body.size() + html.size();
    if (every > 0 && i % every == 0) {
      NewAttachment a;
      a.properties = {text(prop::kAttachLongFilename, "attachment-" + std::to_string(i) + ".bin")};
      a.data.resize(size_t(kb) * 1024 + size_t(i % 1000));
      for (size_t k = 0; k < a.data.size(); ++k) a.data[k] = uint8_t((k * 31 + size_t(i)) >> 3);
      bytes += a.data.size();
      m.attachments.push_back(std::move(a));
    }
    auto nid = s.create_message(folders[size_t(i) % folders.size()], m);
    if (!nid) return std::fprintf(stderr, "make_large_pst: %s\n", nid.status().message().c_str()), 1;
    if (i % 1000 == 999) {
      if (Status st = s.commit(); !st.is_ok()) return std::fprintf(stderr, "make_large_pst: %s\n", st.message().c_str()), 1;
    }
  }
  if (Status st = s.commit(); !st.is_ok()) return std::fprintf(stderr, "make_large_pst: %s\n", st.message().c_str()), 1;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%ld messages, %.1f MB of content in %.2f s: %.0f messages/s, %.1f MB/s\n", messages, bytes / 1e6, secs,
              double(messages) / secs, bytes / 1e6 / secs);
  return 0;
}
