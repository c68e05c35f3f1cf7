// Envelope headers to message properties ([MS-OXCMAIL] 2.2.3.2).
#include <ctime>
#include <optional>

#include "import/mapi_props.h"
#include "import/mime_convert.h"
#include "import/mime_text.h"
#include "pstkit/utf.h"

namespace pstkit::mime {

namespace {

std::string without_line_breaks(const char* s) {
  std::string out;
  if (!s) return out;
  for (const char* p = s; *p; ++p) {
    if (*p != '\r' && *p != '\n') out.push_back(*p);
  }
  return sanitize_utf8(out);
}

std::optional<uint64_t> filetime_of(GDateTime* date) {
  if (!date) return std::nullopt;
  return unix_to_filetime(gmime().g_date_time_to_unix(date));
}

// The date of the first (most recent) Received header: the text after its
// last ';' (RFC 5321 4.4).
std::optional<uint64_t> first_received_time(GMimeObject* object) {
  GMimeHeaderList* headers = gmime().g_mime_object_get_header_list(object);
  const int n = headers ? gmime().g_mime_header_list_get_count(headers) : 0;
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = gmime().g_mime_header_list_get_header_at(headers, i);
    if (!iequals(or_empty(gmime().g_mime_header_get_name(h)), "Received")) continue;
    const std::string value = unfold(or_empty(gmime().g_mime_header_get_value(h)));
    const size_t semi = value.rfind(';');
    if (semi == std::string::npos) return std::nullopt;
    GDateRef date(gmime().g_mime_utils_header_decode_date(value.c_str() + semi + 1));
    return filetime_of(date.get());
  }
  return std::nullopt;
}

// Importance / X-Priority / Priority to PidTagImportance (0 low, 1 normal,
// 2 high; [MS-OXCMAIL] 2.2.3.2, Importance).
int32_t importance_of(GMimeObject* object) {
  const std::string importance = to_lower(header_value(object, "Importance"));
  if (importance == "high") return 2;
  if (importance == "low") return 0;
  const std::string x_priority = header_value(object, "X-Priority");
  if (!x_priority.empty()) {
    if (x_priority[0] == '1' || x_priority[0] == '2') return 2;
    if (x_priority[0] == '4' || x_priority[0] == '5') return 0;
  }
  const std::string priority = to_lower(header_value(object, "Priority"));
  if (priority == "urgent") return 2;
  if (priority == "non-urgent") return 0;
  return 1;
}

// Read, flagged and answered state kept in mbox headers by mail clients:
// Thunderbird's X-Mozilla-Status (hex bits: 1 read, 2 replied, 4 flagged)
// wins over Status (R = read) / X-Status (A answered, F flagged, T draft).
MailFlags mail_flags_of(GMimeObject* object) {
  MailFlags flags;
  const std::string mozilla = header_value(object, "X-Mozilla-Status");
  const std::string status = header_value(object, "Status");
  const std::string x_status = header_value(object, "X-Status");
  if (!x_status.empty()) {
    flags.answered = x_status.find('A') != std::string::npos;
    flags.flagged = x_status.find('F') != std::string::npos;
    flags.draft = x_status.find('T') != std::string::npos;
  }
  if (!mozilla.empty()) {
    char* end = nullptr;
    const unsigned long bits = std::strtoul(mozilla.c_str(), &end, 16);
    if (end != mozilla.c_str()) {
      flags.read = (bits & 0x1) != 0;
      flags.answered = flags.answered || (bits & 0x2) != 0;
      flags.flagged = flags.flagged || (bits & 0x4) != 0;
      return flags;
    }
  }
  if (!status.empty()) flags.read = status.find('R') != std::string::npos;
  return flags;
}

}  // namespace

void map_envelope(GMimeMessage* message, const ConvertContext& context, const std::string& received_headers,
                  NewMessage& out) {
  GMimeObject* object = GMIME_OBJECT(message);
  auto& props = out.properties;
  set_property(props, string_value(prop::kMessageClass, "IPM.Note"));
  // The code page of 8-bit strings (in ANSI files); map_content sets the
  // body's when it has one.
  set_property(props, int32_value(prop::kMessageCodepage, 1252));

  // [MS-OXCMAIL] 2.2.3.2 Subject, split into prefix and normalized subject
  // (2.2.3.2.6.1); the conversation topic is the normalized subject
  // unless Thread-Topic says otherwise.
  const std::string subject = without_line_breaks(gmime().g_mime_message_get_subject(message));
  const SplitSubject split = split_subject(subject);
  set_property(props, string_value(prop::kSubject, subject));
  set_property(props, string_value(pid::kSubjectPrefix, split.prefix));
  set_property(props, string_value(pid::kNormalizedSubject, split.normalized));
  const std::string topic = header_value(object, "Thread-Topic");
  set_property(props, string_value(pid::kConversationTopic, topic.empty() ? split.normalized : sanitize_utf8(topic)));
  const std::string thread_index = header_value(object, "Thread-Index");
  if (!thread_index.empty()) {
    gsize len = 0;
    guchar* raw = gmime().g_base64_decode(thread_index.c_str(), &len);
    if (raw && len >= 22) set_property(props, binary_value(pid::kConversationIndex, Bytes(raw, raw + len)));
    gmime().g_free(raw);
  }

  // [MS-OXCMAIL] 2.2.3.2 Sent Time: Date to PidTagClientSubmitTime; a missing or
  // invalid Date falls back to the newest Received date, then to now.
  // PidTagMessageDeliveryTime is the newest Received date, else the Date.
  const uint64_t now = unix_to_filetime(int64_t(std::time(nullptr)));
  const std::optional<uint64_t> sent = filetime_of(gmime().g_mime_message_get_date(message));
  const std::optional<uint64_t> received = first_received_time(object);
  if (!sent) context.warn("no valid Date header");
  set_property(props, time_value(prop::kClientSubmitTime, sent ? *sent : received ? *received : now));
  set_property(props, time_value(prop::kMessageDeliveryTime, received ? *received : sent ? *sent : now));

  // [MS-OXCMAIL] 2.2.3.2: Message-ID, In-Reply-To and References as written,
  // angle brackets kept.
  const std::string message_id = header_value(object, "Message-ID");
  if (!message_id.empty()) set_property(props, string_value(prop::kInternetMessageId, sanitize_utf8(message_id)));
  const std::string in_reply_to = header_value(object, "In-Reply-To");
  if (!in_reply_to.empty()) set_property(props, string_value(prop::kInReplyToId, sanitize_utf8(in_reply_to)));
  const std::string references = header_value(object, "References");
  if (!references.empty()) set_property(props, string_value(prop::kInternetReferences, sanitize_utf8(references)));

  set_property(props, int32_value(prop::kImportance, importance_of(object)));
  const std::string priority = to_lower(header_value(object, "Priority"));
  if (!priority.empty()) {
    set_property(props, int32_value(pid::kPriority, priority == "urgent" ? 1 : priority == "non-urgent" ? -1 : 0));
  }
  const std::string sensitivity = to_lower(header_value(object, "Sensitivity"));
  set_property(props, int32_value(pid::kSensitivity, sensitivity == "personal"               ? 1
                                                     : sensitivity == "private"              ? 2
                                                     : sensitivity == "company-confidential" ? 3
                                                                                             : 0));
  if (!header_value(object, "Disposition-Notification-To").empty()) {
    set_property(props, bool_value(pid::kReadReceiptRequested, true));
  }

  // The whole header block, as Outlook keeps it for "View > Message source".
  set_property(props, string_value(prop::kTransportMessageHeaders,
                                   to_crlf(decode_8bit_header(received_headers, context.options->fallback_codepage))));

  apply_mail_flags(mail_flags_of(object), props);
}

}  // namespace pstkit::mime
