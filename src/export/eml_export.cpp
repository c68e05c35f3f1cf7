// MAPI message → RFC 5322/MIME ([MS-OXCMAIL] 2.1), built with GMime.
#include "pstkit/eml_export.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "import/gmime_handles.h"
#include "pstkit/codepage.h"
#include "pstkit/mime_import.h"
#include "pstkit/rtf_html.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

using mime::GRef;
using mime::gmime;

// [MS-OXPROPS] ids this conversion reads besides messaging.h's.
constexpr uint16_t kSentRepresentingAddrType = 0x0064;
constexpr uint16_t kSenderAddrType = 0x0C1E;
constexpr uint16_t kAttachLongPathname = 0x370D;
constexpr uint16_t kAttachPathname = 0x3708;

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
uint64_t fnv1a(std::string_view data, uint64_t hash = kFnvOffset) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return std::string(s.substr(b, e - b));
}

// Text for GMime, which takes UTF-8: invalid sequences are replaced.
std::string utf8_text(std::string_view s) { return is_valid_utf8(s) ? std::string(s) : sanitize_utf8(s); }

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// An address for a header. SMTP addresses as they are; others (EX distinguished
// names, X400...) in the IMCEA encapsulation of [MS-OXCMAIL] 2.1.3.1.3, so that
// every header stays a valid addr-spec: IMCEA<type>-<address with characters
// outside [A-Za-z0-9-=] as +XX, "/" as "_">@<domain>.
std::string header_address(const std::string& type, const std::string& address) {
  if (address.empty()) return {};
  if (address.find('@') != std::string::npos && (type.empty() || lower_ascii(type) == "smtp")) return address;
  std::string out = "IMCEA" + (type.empty() ? std::string("EX") : type) + "-";
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : address) {
    if (std::isalnum(c) || c == '-' || c == '=') {
      out += char(c);
    } else if (c == '/') {
      out += '_';
    } else {
      out += '+';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "@pstkit.invalid";
}

struct Mailbox {
  std::string name, address;
  bool empty() const { return name.empty() && address.empty(); }
};

Mailbox mailbox_of(const PropertyBag& bag, uint16_t name_id, uint16_t smtp_id, uint16_t type_id, uint16_t email_id) {
  Mailbox m;
  m.name = utf8_text(bag.get_string(name_id).value_or(""));
  std::string smtp = bag.get_string(smtp_id).value_or("");
  if (!smtp.empty()) {
    m.address = smtp;
  } else {
    m.address = header_address(bag.get_string(type_id).value_or(""), bag.get_string(email_id).value_or(""));
  }
  if (m.address == m.name) m.name.clear();
  return m;
}

// FILETIME (100 ns since 1601) → Unix seconds.
int64_t unix_seconds(uint64_t filetime) { return int64_t(filetime / 10000000ULL) - 11644473600LL; }

// "type/subtype" when both are RFC 2045 tokens, else nullopt.
std::optional<std::pair<std::string, std::string>> split_mime_type(const std::string& text) {
  std::string t = lower_ascii(trim(text));
  auto slash = t.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == t.size()) return std::nullopt;
  auto token = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$&-^_.+", c) != nullptr;
    });
  };
  std::string type = t.substr(0, slash), sub = t.substr(slash + 1);
  if (!token(type) || !token(sub)) return std::nullopt;
  return std::make_pair(type, sub);
}

GRef<GMimeStream> memory_stream(std::string_view bytes) {
  // GMime refuses a null buffer, which an empty view may have.
  return GRef<GMimeStream>(gmime().g_mime_stream_mem_new_with_buffer(bytes.empty() ? "" : bytes.data(), bytes.size()));
}

void set_content(GMimePart* part, std::string_view bytes) {
  auto stream = memory_stream(bytes);
  GRef<GMimeDataWrapper> wrapper(gmime().g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  gmime().g_mime_part_set_content(part, wrapper.get());
}

// The charset of a stored HTML body: PidTagInternetCodepage, else UTF-8 when
// it is valid UTF-8, else the message's code page.
std::string html_charset(const Message& message, std::string_view html) {
  if (auto cpid = message.properties().get_i32(prop::kInternetCodepage)) {
    if (const char* name = codepage_charset_name(uint32_t(*cpid))) return name;
  }
  if (is_valid_utf8(html)) return "utf-8";
  if (const char* name = codepage_charset_name(message.codepage())) return name;
  return "windows-1252";
}

class EmlBuilder {
 public:
  EmlBuilder(const EmlOptions& options, std::vector<std::string>& notes) : options_(options), notes_(notes) {}

  GRef<GMimeMessage> build(const Message& message, int depth, const std::string& where) {
    const PropertyBag& props = message.properties();
    // Boundaries are derived from the message (its search key, node id and
    // place), never random: exporting it again gives the same bytes.
    uint64_t key = fnv1a(where, fnv1a(std::to_string(message.nid())));
    if (const Bytes* sk = props.get_binary(prop::kSearchKey))
      key = fnv1a(std::string_view(reinterpret_cast<const char*>(sk->data()), sk->size()), key);
    message_key_ = key;
    next_boundary_ = 0;

    GRef<GMimeMessage> out(gmime().g_mime_message_new(TRUE));
    GMimeObject* object = GMIME_OBJECT(out.get());
    // [MS-OXCMAIL] 2.1.3.1: the headers the message arrived with, where it
    // kept them; what they lack (and the subject, which the user may have
    // changed since) from its properties.
    std::set<std::string> present;
    std::string stored = props.get_string(prop::kTransportMessageHeaders).value_or("");
    if (!trim(stored).empty()) present = copy_stored_headers(object, stored);
    build_headers(message, out.get(), present);

    GRef<GMimeObject> body = build_body(message, depth, where);
    gmime().g_mime_message_set_mime_part(out.get(), body.get());
    return out;
  }

 private:
  const EmlOptions& options_;
  std::vector<std::string>& notes_;
  uint64_t message_key_ = 0;
  int next_boundary_ = 0;

  void note(const std::string& where, const std::string& what) {
    notes_.push_back(where.empty() ? what : where + ": " + what);
  }

  GRef<GMimeMultipart> multipart(const char* subtype) {
    // Made as g_mime_multipart_new*() make it but without their random
    // boundary (each draws one by opening and reading /dev/urandom), which
    // the one derived from the message below would replace.
    GRef<GMimeMultipart> m(static_cast<GMimeMultipart*>(gmime().g_object_new(gmime().g_mime_multipart_get_type(), nullptr)));
    GRef<GMimeContentType> type(gmime().g_mime_content_type_new("multipart", subtype));
    gmime().g_mime_object_set_content_type(GMIME_OBJECT(m.get()), type.get());
    char boundary[48];
    std::snprintf(boundary, sizeof boundary, "=_pstkit_%016llx_%d", static_cast<unsigned long long>(message_key_),
                  next_boundary_++);
    gmime().g_mime_multipart_set_boundary(m.get(), boundary);
    return m;
  }

  // Copies stored Internet headers but the MIME structure (Content-*,
  // MIME-Version: the one written here is new). Returns the names copied,
  // in lower case.
  std::set<std::string> copy_stored_headers(GMimeObject* object, const std::string& stored) {
    std::set<std::string> names;
    std::vector<std::pair<std::string, std::string>> headers;
    size_t pos = 0;
    while (pos < stored.size()) {
      size_t end = stored.find('\n', pos);
      if (end == std::string::npos) end = stored.size();
      std::string line = stored.substr(pos, end - pos);
      pos = end + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;  // the end of the header block
      if ((line[0] == ' ' || line[0] == '\t') && !headers.empty()) {
        headers.back().second += " " + trim(line);
        continue;
      }
      auto colon = line.find(':');
      if (colon == std::string::npos || colon == 0) continue;  // not a header: skipped
      std::string name = trim(line.substr(0, colon));
      if (name.empty() || name.find(' ') != std::string::npos) continue;
      headers.emplace_back(name, trim(line.substr(colon + 1)));
    }
    for (const auto& [name, value] : headers) {
      std::string l = lower_ascii(name);
      if (l.rfind("content-", 0) == 0 || l == "mime-version") continue;
      // 8-bit values (raw UTF-8 or a legacy charset) become encoded words.
      gmime().g_mime_object_append_header(object, name.c_str(), utf8_text(value).c_str(), "utf-8");
      names.insert(l);
    }
    return names;
  }

  // [MS-OXCMAIL] 2.2.3: headers from the message's properties, but those in
  // `present` (copied from the stored headers); the subject always.
  void build_headers(const Message& message, GMimeMessage* out, const std::set<std::string>& present) {
    const PropertyBag& props = message.properties();
    auto has = [&](const char* name) { return present.count(name) != 0; };
    Mailbox from = mailbox_of(props, prop::kSentRepresentingName, prop::kSentRepresentingSmtpAddress,
                              kSentRepresentingAddrType, prop::kSentRepresentingEmailAddress);
    Mailbox sender = mailbox_of(props, prop::kSenderName, prop::kSenderSmtpAddress, kSenderAddrType,
                                prop::kSenderEmailAddress);
    if (from.empty()) from = sender;
    if (!from.empty() && !has("from"))
      gmime().g_mime_message_add_mailbox(out, GMIME_ADDRESS_TYPE_FROM, from.name.c_str(), from.address.c_str());
    if (!sender.empty() && sender.address != from.address && !has("sender") && !has("from"))
      gmime().g_mime_message_add_mailbox(out, GMIME_ADDRESS_TYPE_SENDER, sender.name.c_str(), sender.address.c_str());

    if (has("to") || has("cc") || has("bcc")) {
      // The stored headers name the recipients as they were sent.
    } else if (auto recipients = message.recipients()) {
      for (const PropertyBag& r : *recipients) {
        GMimeAddressType type;
        switch (r.get_i32(prop::kRecipientType).value_or(1) & 0xF) {
          case 2: type = GMIME_ADDRESS_TYPE_CC; break;
          case 3: type = GMIME_ADDRESS_TYPE_BCC; break;
          default: type = GMIME_ADDRESS_TYPE_TO; break;
        }
        Mailbox m = mailbox_of(r, prop::kDisplayName, prop::kSmtpAddress, prop::kAddressType, prop::kEmailAddress);
        if (!m.empty()) gmime().g_mime_message_add_mailbox(out, type, m.name.c_str(), m.address.c_str());
      }
    } else {
      note("", "recipient table unreadable: " + recipients.status().message());
    }

    std::string subject = utf8_text(message.subject());
    if (!subject.empty()) gmime().g_mime_message_set_subject(out, subject.c_str(), "utf-8");

    std::optional<uint64_t> when = props.get_time(prop::kClientSubmitTime);
    if (!when) when = props.get_time(prop::kMessageDeliveryTime);
    if (!when) when = props.get_time(prop::kCreationTime);
    if (when && !has("date")) {
      GDateTime* date = gmime().g_date_time_new_from_unix_utc(unix_seconds(*when));
      if (date) {
        gmime().g_mime_message_set_date(out, date);
        gmime().g_date_time_unref(date);
      }
    }
    auto ascii_header = [&](uint16_t id, const char* name) {
      std::string v = trim(props.get_string(id).value_or(""));
      if (!v.empty() && is_ascii(v) && !has(lower_ascii(name).c_str()))
        gmime().g_mime_object_set_header(GMIME_OBJECT(out), name, v.c_str(), nullptr);
    };
    std::string id = trim(props.get_string(prop::kInternetMessageId).value_or(""));
    if (!id.empty() && is_ascii(id) && !has("message-id")) {
      if (id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
      gmime().g_mime_message_set_message_id(out, id.c_str());
    }
    ascii_header(prop::kInReplyToId, "In-Reply-To");
    ascii_header(prop::kInternetReferences, "References");
    if (auto importance = props.get_i32(prop::kImportance); importance && *importance != 1 && !has("importance")) {
      gmime().g_mime_object_set_header(GMIME_OBJECT(out), "Importance", *importance == 2 ? "high" : "low", nullptr);
    }
  }

  GRef<GMimeObject> text_part(const std::string& text) {
    GRef<GMimeTextPart> part(gmime().g_mime_text_part_new_with_subtype("plain"));
    gmime().g_mime_text_part_set_text(part.get(), utf8_text(text).c_str());
    return GRef<GMimeObject>(GMIME_OBJECT(part.release()));
  }

  // `charset` names the bytes' charset when they are not the stored HTML
  // (an RTF body's HTML is UTF-8).
  GRef<GMimeObject> html_part(const Message& message, const Bytes& html, const std::string& charset = "") {
    std::string_view bytes(reinterpret_cast<const char*>(html.data()), html.size());
    GRef<GMimePart> part(gmime().g_mime_part_new_with_type("text", "html"));
    set_content(part.get(), bytes);
    gmime().g_mime_object_set_content_type_parameter(
        GMIME_OBJECT(part.get()), "charset", (charset.empty() ? html_charset(message, bytes) : charset).c_str());
    return GRef<GMimeObject>(GMIME_OBJECT(part.release()));
  }

  struct Prepared {
    GRef<GMimeObject> part;
    bool inline_related = false;  // referred to by the HTML body (cid:)
  };

  std::optional<Prepared> attachment_part(const Message& message, Nid nid, int index, int depth,
                                          const std::string& where, const std::string& html) {
    std::string here = where + "attachment " + std::to_string(index);
    auto attachment = message.open_attachment(nid);
    if (!attachment) {
      note(here, "cannot open it: " + attachment.status().message());
      return std::nullopt;
    }
    const PropertyBag& props = attachment->properties();
    std::string filename = utf8_text(attachment->filename());
    if (filename.empty()) filename = utf8_text(props.get_string(prop::kDisplayName).value_or(""));
    std::string content_id = trim(props.get_string(prop::kAttachContentId).value_or(""));
    if (content_id.size() >= 2 && content_id.front() == '<' && content_id.back() == '>')
      content_id = content_id.substr(1, content_id.size() - 2);
    if (!is_ascii(content_id)) content_id.clear();
    const bool related = !content_id.empty() && html.find("cid:" + content_id) != std::string::npos;

    Prepared out;
    out.inline_related = related;
    if (attachment->is_embedded_message()) {
      if (depth + 1 > options_.max_depth) {
        note(here, "embedded message deeper than " + std::to_string(options_.max_depth) + " levels: left out");
        return std::nullopt;
      }
      auto inner = attachment->embedded_message();
      if (!inner) {
        note(here, "cannot read the embedded message: " + inner.status().message());
        return std::nullopt;
      }
      const uint64_t saved_key = message_key_;
      const int saved_next = next_boundary_;
      GRef<GMimeMessage> built = build(*inner, depth + 1, here + "/");
      message_key_ = saved_key;
      next_boundary_ = saved_next;
      GRef<GMimeMessagePart> part(gmime().g_mime_message_part_new_with_message("rfc822", built.get()));
      gmime().g_mime_object_set_disposition(GMIME_OBJECT(part.get()), "attachment");
      out.part = GRef<GMimeObject>(GMIME_OBJECT(part.release()));
      return out;
    }

    const int32_t method = attachment->method();
    if (method == kAttachByReference || method == kAttachByRefResolve || method == kAttachByRefOnly) {
      // A file the message points to: an external body naming it (RFC 2046 5.2.3).
      std::string path = props.get_string(kAttachLongPathname).value_or(props.get_string(kAttachPathname).value_or(""));
      GRef<GMimePart> part(gmime().g_mime_part_new_with_type("message", "external-body"));
      gmime().g_mime_object_set_content_type_parameter(GMIME_OBJECT(part.get()), "access-type", "local-file");
      if (!path.empty())
        gmime().g_mime_object_set_content_type_parameter(GMIME_OBJECT(part.get()), "name", utf8_text(path).c_str());
      set_content(part.get(), "Content-Type: application/octet-stream\r\n\r\n");
      out.part = GRef<GMimeObject>(GMIME_OBJECT(part.release()));
      return out;
    }

    if (options_.omit_file_attachments || !attachment_extension_accepted(filename, options_.attachment_extensions))
      return std::nullopt;

    Bytes data;
    if (attachment->has_data()) {
      auto read = attachment->read_data();
      if (!read) {
        note(here, "cannot read its data: " + read.status().message());
        return std::nullopt;
      }
      data = std::move(*read);
    }
    auto type = split_mime_type(props.get_string(prop::kAttachMimeTag).value_or(""));
    std::string_view bytes(reinterpret_cast<const char*>(data.data()), data.size());
    // RFC 2046 5.2: message/* parts are never base64 or quoted-printable;
    // one that is not 7-bit text is sent as plain octets.
    const bool message_type = type && type->first == "message";
    const bool seven_bit = is_ascii(bytes) && bytes.find('\0') == std::string_view::npos;
    if (!type || (message_type && !seven_bit)) type = std::make_pair(std::string("application"), std::string("octet-stream"));
    GRef<GMimePart> part(gmime().g_mime_part_new_with_type(type->first.c_str(), type->second.c_str()));
    set_content(part.get(), bytes);
    // Base64 keeps the bytes exact: a text attachment sent 7-bit would have
    // its line ends rewritten.
    gmime().g_mime_part_set_content_encoding(part.get(), type->first == "message" ? GMIME_CONTENT_ENCODING_7BIT
                                                                                   : GMIME_CONTENT_ENCODING_BASE64);
    gmime().g_mime_object_set_disposition(GMIME_OBJECT(part.get()), related ? "inline" : "attachment");
    if (!filename.empty()) gmime().g_mime_part_set_filename(part.get(), filename.c_str());
    if (!content_id.empty()) gmime().g_mime_part_set_content_id(part.get(), content_id.c_str());
    out.part = GRef<GMimeObject>(GMIME_OBJECT(part.release()));
    return out;
  }

  GRef<GMimeObject> build_body(const Message& message, int depth, const std::string& where) {
    std::optional<std::string> text = message.body_text();
    std::optional<Bytes> html = message.body_html();
    // Without an HTML body, the RTF body gives one ([MS-OXRTFEX]: the HTML
    // Outlook encapsulated, else a rendering, with the RTF kept beside it as
    // text/rtf, which pstkit import takes back as the RTF body).
    std::string html_charset_name;
    std::optional<std::string> rtf_kept;
    if (!html) {
      auto rtf = message.body_rtf();
      if (!rtf) {
        note(where + "RTF body", "cannot decompress it: " + rtf.status().message());
      } else if (*rtf) {
        const std::string_view source(reinterpret_cast<const char*>((*rtf)->data()), (*rtf)->size());
        auto converted = rtf::rtf_to_html(source, message.codepage());
        if (!converted) {
          note(where + "RTF body", converted.status().message());
        } else if (converted->origin == rtf::RtfOrigin::kText) {
          if (!text) text = converted->text;
        } else {
          html = Bytes(converted->html.begin(), converted->html.end());
          html_charset_name = "utf-8";
          if (converted->origin == rtf::RtfOrigin::kRtf) {
            if (!text) text = converted->text;
            rtf_kept = std::string(source);
          }
        }
      }
    }
    std::string html_text = html ? std::string(reinterpret_cast<const char*>(html->data()), html->size()) : "";

    GRef<GMimeObject> body;
    if (html && (text || rtf_kept)) {
      auto alternative = multipart("alternative");
      if (text) {
        auto t = text_part(*text);
        gmime().g_mime_multipart_add(alternative.get(), t.get());
      }
      auto h = html_part(message, *html, html_charset_name);
      gmime().g_mime_multipart_add(alternative.get(), h.get());
      if (rtf_kept) {
        GRef<GMimePart> r(gmime().g_mime_part_new_with_type("text", "rtf"));
        set_content(r.get(), *rtf_kept);
        gmime().g_mime_multipart_add(alternative.get(), GMIME_OBJECT(r.get()));
      }
      body = GRef<GMimeObject>(GMIME_OBJECT(alternative.release()));
    } else if (html) {
      body = html_part(message, *html, html_charset_name);
    } else {
      body = text_part(text.value_or(""));
    }

    auto nids = message.attachment_nids();
    if (!nids) {
      note(where, "attachment table unreadable: " + nids.status().message());
      return body;
    }
    std::vector<Prepared> parts;
    if (options_.rtf_body_attachment && !options_.omit_file_attachments &&
        attachment_extension_accepted("rtf-body.rtf", options_.attachment_extensions)) {
      auto rtf = message.body_rtf();
      if (!rtf) {
        note(where + "RTF body", "cannot decompress it: " + rtf.status().message());
      } else if (*rtf) {
        GRef<GMimePart> part(gmime().g_mime_part_new_with_type("application", "rtf"));
        set_content(part.get(), std::string_view(reinterpret_cast<const char*>((*rtf)->data()), (*rtf)->size()));
        gmime().g_mime_part_set_content_encoding(part.get(), GMIME_CONTENT_ENCODING_BASE64);
        gmime().g_mime_object_set_disposition(GMIME_OBJECT(part.get()), "attachment");
        gmime().g_mime_part_set_filename(part.get(), "rtf-body.rtf");
        parts.push_back({GRef<GMimeObject>(GMIME_OBJECT(part.release())), false});
      }
    }
    int index = 0;
    for (Nid nid : *nids) {
      if (auto p = attachment_part(message, nid, index++, depth, where, html_text)) parts.push_back(std::move(*p));
    }
    const bool any_related = std::any_of(parts.begin(), parts.end(), [](const Prepared& p) { return p.inline_related; });
    if (any_related) {
      auto related = multipart("related");
      gmime().g_mime_object_set_content_type_parameter(GMIME_OBJECT(related.get()), "type",
                                                       text ? "multipart/alternative" : "text/html");
      gmime().g_mime_multipart_add(related.get(), body.get());
      for (const Prepared& p : parts)
        if (p.inline_related) gmime().g_mime_multipart_add(related.get(), p.part.get());
      body = GRef<GMimeObject>(GMIME_OBJECT(related.release()));
    }
    const bool any_mixed = std::any_of(parts.begin(), parts.end(), [](const Prepared& p) { return !p.inline_related; });
    if (!any_mixed) return body;
    auto mixed = multipart("mixed");
    gmime().g_mime_multipart_add(mixed.get(), body.get());
    for (const Prepared& p : parts)
      if (!p.inline_related) gmime().g_mime_multipart_add(mixed.get(), p.part.get());
    return GRef<GMimeObject>(GMIME_OBJECT(mixed.release()));
  }
};

}  // namespace

bool attachment_extension_accepted(const std::string& filename, const std::vector<std::string>& extensions) {
  if (extensions.empty()) return true;
  const size_t dot = filename.rfind('.');
  if (dot == std::string::npos) return true;
  const std::string ext = lower_ascii(filename.substr(dot));
  return std::any_of(extensions.begin(), extensions.end(), [&](const std::string& e) { return lower_ascii(e) == ext; });
}

Result<EmlResult> message_to_eml(const Message& message, const EmlOptions& options) {
  PSTKIT_RETURN_IF_ERROR(mime::load_mime_parser());
  EmlResult result;
  EmlBuilder builder(options, result.notes);
  GRef<GMimeMessage> built = builder.build(message, 0, "");
  // Every part in 7-bit: quoted-printable or base64 where it needs it.
  gmime().g_mime_object_encode(GMIME_OBJECT(built.get()), GMIME_ENCODING_CONSTRAINT_7BIT);

  GMimeFormatOptions* format = gmime().g_mime_format_options_new();
  gmime().g_mime_format_options_set_newline_format(format, options.crlf ? GMIME_NEWLINE_FORMAT_DOS
                                                                         : GMIME_NEWLINE_FORMAT_UNIX);
  GRef<GMimeStream> stream(gmime().g_mime_stream_mem_new());
  const ssize_t written = gmime().g_mime_object_write_to_stream(GMIME_OBJECT(built.get()), format, stream.get());
  gmime().g_mime_format_options_free(format);
  if (written < 0) return Status::io_error("writing the MIME message failed");
  GByteArray* bytes = gmime().g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.get()));
  if (bytes) result.data.assign(bytes->data, bytes->data + bytes->len);
  return result;
}

}  // namespace pstkit
