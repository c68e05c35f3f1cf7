// MAPI property values for MIME import.
#include "import/mapi_props.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "pstkit/utf.h"

namespace pstkit::mime {

namespace {

void append_utf16z(Bytes& out, std::string_view utf8) {
  const Bytes s = utf8_to_utf16le(utf8);
  append_bytes(out, s.data(), s.size());
  out.push_back(0);
  out.push_back(0);
}

}  // namespace

void append_bytes(Bytes& out, const void* data, size_t n) {
  if (n == 0) return;
  const size_t old = out.size();
  out.resize(old + n);
  std::memcpy(out.data() + old, data, n);
}

uint64_t unix_to_filetime(int64_t seconds) {
  constexpr int64_t kEpochDeltaSeconds = 11644473600;  // 1601-01-01 to 1970-01-01
  if (seconds < -kEpochDeltaSeconds) return 0;
  return uint64_t(seconds + kEpochDeltaSeconds) * 10000000u;
}

Bytes one_off_entry_id(std::string_view display_name, std::string_view address) {
  // MAPI's one-off provider UID, {A41F2B81-A3BE-1910-9D6E-00DD010F5402}.
  static constexpr uint8_t kOneOffProvider[16] = {0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19,
                                                  0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F, 0x54, 0x02};
  Bytes out(4, 0);  // rgbFlags
  append_bytes(out, kOneOffProvider, sizeof kOneOffProvider);
  out.push_back(0);  // Version
  out.push_back(0);
  // MAPI_ONE_OFF_NO_RICH_INFO | MAPI_ONE_OFF_UNICODE (0x8001), little-endian.
  out.push_back(0x01);
  out.push_back(0x80);
  append_utf16z(out, display_name.empty() ? address : display_name);
  append_utf16z(out, "SMTP");
  append_utf16z(out, address);
  return out;
}

Bytes smtp_search_key(std::string_view address) {
  std::string key = "SMTP:";
  for (char c : address) key.push_back(char(std::toupper(static_cast<unsigned char>(c))));
  Bytes out(key.begin(), key.end());
  out.push_back(0);
  return out;
}

}  // namespace pstkit::mime

namespace pstkit::mime {

void apply_mail_flags(const MailFlags& flags, std::vector<PropValue>& props) {
  constexpr int32_t kVerbReplyToSender = 102;  // EXCHIVERB_REPLYTOSENDER
  constexpr int32_t kFollowupFlagged = 2;
  int32_t message_flags = 0;
  if (flags.read) message_flags |= kMsgFlagRead;
  if (flags.draft) message_flags |= kMsgFlagUnsent;
  set_property(props, int32_value(prop::kMessageFlags, message_flags));
  if (flags.flagged) set_property(props, int32_value(prop::kFlagStatus, kFollowupFlagged));
  if (flags.answered) set_property(props, int32_value(prop::kLastVerbExecuted, kVerbReplyToSender));
}

}  // namespace pstkit::mime
