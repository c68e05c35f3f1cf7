// Building the MAPI property values MIME import sets: ids of the properties
// ([MS-OXPROPS]), typed value constructors in the PropValue encoding, and the
// address structures Outlook derives from an SMTP address (one-off entry
// ids, search keys).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pstkit/messaging.h"

namespace pstkit::mime {

// Property ids beyond those in pstkit::prop ([MS-OXPROPS] section 2).
namespace pid {
inline constexpr uint16_t kSubjectPrefix = 0x003D;
inline constexpr uint16_t kNormalizedSubject = 0x0E1D;
inline constexpr uint16_t kConversationTopic = 0x0070;
inline constexpr uint16_t kConversationIndex = 0x0071;
inline constexpr uint16_t kPriority = 0x0026;
inline constexpr uint16_t kSensitivity = 0x0036;
inline constexpr uint16_t kReadReceiptRequested = 0x0029;
inline constexpr uint16_t kSentRepresentingSearchKey = 0x003B;
inline constexpr uint16_t kSentRepresentingEntryId = 0x0041;
inline constexpr uint16_t kReplyRecipientEntries = 0x004F;
inline constexpr uint16_t kReplyRecipientNames = 0x0050;
inline constexpr uint16_t kSenderEntryId = 0x0C19;
inline constexpr uint16_t kSenderSearchKey = 0x0C1D;
inline constexpr uint16_t kDisplayBcc = 0x0E02;
inline constexpr uint16_t kDisplayCc = 0x0E03;
inline constexpr uint16_t kDisplayTo = 0x0E04;
inline constexpr uint16_t kResponsibility = 0x0E0F;
inline constexpr uint16_t kObjectType = 0x0FFE;
inline constexpr uint16_t kEntryId = 0x0FFF;
inline constexpr uint16_t kNativeBody = 0x1016;
inline constexpr uint16_t kDisplayType = 0x3900;
inline constexpr uint16_t kTransmittableDisplayName = 0x3A20;
inline constexpr uint16_t kSendRichInfo = 0x3A40;
inline constexpr uint16_t kAttachContentBase = 0x3711;
inline constexpr uint16_t kAttachContentLocation = 0x3713;
inline constexpr uint16_t kAttachFlags = 0x3714;
inline constexpr uint16_t kRecipientDisplayName = 0x5FF6;
inline constexpr uint16_t kRecipientEntryId = 0x5FF7;
inline constexpr uint16_t kRecipientFlags = 0x5FFD;
inline constexpr uint16_t kAttachmentHidden = 0x7FFE;
}  // namespace pid

// [MS-OXCMSG] 2.2.1.6 PidTagMessageFlags bits.
inline constexpr int32_t kMsgFlagRead = 0x0001;
inline constexpr int32_t kMsgFlagUnsent = 0x0008;
// [MS-OXCMSG] 2.2.2.18 PidTagAttachFlags: attRenderedInBody.
inline constexpr int32_t kAttachRenderedInBody = 0x0004;
// [MS-OXCMSG] 2.2.1.11 PidTagNativeBody values.
inline constexpr int32_t kNativeBodyPlain = 1;
inline constexpr int32_t kNativeBodyRtf = 2;
inline constexpr int32_t kNativeBodyHtml = 3;

using ltp::binary_value;
using ltp::bool_value;
using ltp::int32_value;
using ltp::string_value;
using ltp::time_value;

// Appends n bytes (resize and copy: GCC 12 misreports vector::insert of
// small arrays under -Warray-bounds).
void append_bytes(Bytes& out, const void* data, size_t n);

// Seconds since 1970 to a FILETIME (100 ns since 1601), clamped at 1601.
uint64_t unix_to_filetime(int64_t seconds);

using ltp::find_property;
using ltp::set_property;

// [MS-OXCDATA] 2.2.5.1 One-Off EntryID for an SMTP address (Unicode strings,
// no rich text), as Outlook stores for Internet recipients.
Bytes one_off_entry_id(std::string_view display_name, std::string_view address);
// PidTagSearchKey of an address ([MS-OXCPRPT] 2.2.1.9): "SMTP:" and the
// upper-cased address, NUL-terminated.
Bytes smtp_search_key(std::string_view address);

}  // namespace pstkit::mime

namespace pstkit::mime {

// Per-message state kept by mail stores outside MIME: mbox Status/X-Status
// and X-Mozilla-Status headers, Maildir file name flags.
struct MailFlags {
  bool read = true;
  bool flagged = false;
  bool answered = false;
  bool draft = false;
};

// Sets PidTagMessageFlags (mfRead, mfUnsent), PidTagFlagStatus
// (followupFlagged, [MS-OXOFLAG] 2.2.1.1) and PidTagLastVerbExecuted
// (reply, [MS-OXOMSG]) from flags.
void apply_mail_flags(const MailFlags& flags, std::vector<PropValue>& props);

}  // namespace pstkit::mime
