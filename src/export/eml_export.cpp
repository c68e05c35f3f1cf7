// MAPI message → RFC 5322/MIME ([MS-OXCMAIL] 2.1), written directly
// (src/export/mime_text.h); GMime only rewrites stored address headers and
// formats addresses with 8-bit text.
#include "pstkit/eml_export.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <set>

#include "export/mime_text.h"
#include "import/gmime_handles.h"
#include "pstkit/codepage.h"
#include "pstkit/mime_import.h"
#include "pstkit/rtf_html.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

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

// Text for headers and text bodies, which are UTF-8: invalid sequences are
// replaced, and it ends at a NUL, as a MAPI string does (what follows one in
// a damaged property is not text).
std::string utf8_text(std::string_view s) {
  s = s.substr(0, s.find('\0'));
  return is_valid_utf8(s) ? std::string(s) : sanitize_utf8(s);
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


using mime_text::TransferEncoding;

// One MIME entity (RFC 2045 2.4) before it is written: a leaf with its
// content, a multipart with its parts, or a message/rfc822 with its message.
struct Entity;

struct BuiltMessage {
  std::vector<std::pair<std::string, std::string>> headers;  // 7-bit values, unfolded
  std::unique_ptr<Entity> body;
};

struct Entity {
  std::string content_type;  // "type/subtype" and its parameters, rendered
  std::string disposition;   // Content-Disposition value, or empty
  std::string content_id;    // without the angle brackets, or empty
  TransferEncoding encoding = TransferEncoding::k7Bit;
  // A leaf's content: text (a body, converted) or bytes (attachment data,
  // moved from the attachment, not copied).
  std::string text;
  Bytes data;
  bool holds_data = false;
  std::string boundary;  // a multipart's, else empty
  std::vector<Entity> parts;
  std::unique_ptr<BuiltMessage> message;  // message/rfc822
  // Attachment data read block by block as it is written (base64), instead
  // of `data` (EmlOptions::stream_attachments_above).
  std::shared_ptr<const ndb::Node> stream;
  uint64_t stream_size = 0;

  std::string_view content() const {
    return holds_data ? std::string_view(reinterpret_cast<const char*>(data.data()), data.size())
                      : std::string_view(text);
  }
};

Entity leaf(std::string content_type, std::string text, TransferEncoding encoding) {
  Entity e;
  e.content_type = std::move(content_type);
  e.text = std::move(text);
  e.encoding = encoding;
  return e;
}

Status write_message(mime_text::Output& out, const BuiltMessage& message);

// About the size of a written message: its contents as encoded (base64 is
// 4/3 and its line ends; quoted-printable a little more than the text), its
// headers and some room for the part headers. Reserved at once, the buffer
// is not grown (and copied) a few times per message.
size_t estimated_size(const BuiltMessage& message);

size_t estimated_size(const Entity& entity) {
  size_t size = 256 + entity.content_type.size() + entity.disposition.size();
  if (entity.message) return size + estimated_size(*entity.message);
  for (const Entity& part : entity.parts) size += estimated_size(part) + 2 * entity.boundary.size() + 8;
  const size_t content = entity.stream ? size_t(entity.stream_size) : entity.content().size();
  return size + (entity.encoding == TransferEncoding::kBase64 ? content / 57 * 78 + 80 : content + content / 8);
}

size_t estimated_size(const BuiltMessage& message) {
  size_t size = 64;
  for (const auto& [name, value] : message.headers) size += name.size() + value.size() + value.size() / 64 * 3 + 4;
  return size + estimated_size(*message.body);
}

// Base64 of a streamed attachment: its blocks read a group at a time into
// a buffer that is reused (not through the block cache), each group's whole
// lines (57 bytes each) encoded and flushed to the sink, the rest carried to
// the next group; neither the data nor its encoding is ever whole in memory.
// A block that fails now fails the message: an I/O error after the blocks
// were checked, or, when they were not (EmlOptions::check_streamed_attachments),
// a damaged one.
constexpr size_t kStreamBlocks = 16;  // about 128 KiB of PST blocks (up to 1 MiB of 64 KiB OST blocks)
constexpr size_t kFlushAt = size_t{256} << 10;
constexpr size_t kBase64Line = 57;
Status write_streamed(mime_text::Output& out, const Entity& entity) {
  const ndb::Node& node = *entity.stream;
  Bytes pending;
  pending.reserve(kStreamBlocks * 8192 + kBase64Line);
  for (size_t i = 0; i < node.block_count(); i += kStreamBlocks) {
    PSTKIT_RETURN_IF_ERROR(node.append_blocks(i, std::min(kStreamBlocks, node.block_count() - i), &pending));
    const size_t whole_lines = pending.size() / kBase64Line * kBase64Line;
    mime_text::write_encoded(out, std::string_view(reinterpret_cast<const char*>(pending.data()), whole_lines),
                             mime_text::TransferEncoding::kBase64);
    pending.erase(pending.begin(), pending.begin() + long(whole_lines));
    if (!out.flush(kFlushAt)) return Status::io_error("writing the message failed");
  }
  mime_text::write_encoded(out, std::string_view(reinterpret_cast<const char*>(pending.data()), pending.size()),
                           mime_text::TransferEncoding::kBase64);
  return Status::ok();
}

// Whether every data block of node can be read, read a group at a time into
// one buffer (the first failure's status otherwise).
Status check_blocks(const ndb::Node& node) {
  Bytes group;
  group.reserve(kStreamBlocks * 8192);
  for (size_t i = 0; i < node.block_count(); i += kStreamBlocks) {
    group.clear();
    PSTKIT_RETURN_IF_ERROR(node.append_blocks(i, std::min(kStreamBlocks, node.block_count() - i), &group));
  }
  return Status::ok();
}

Status write_entity(mime_text::Output& out, const Entity& entity) {
  out.header("Content-Type", entity.content_type);
  if (!entity.disposition.empty()) out.header("Content-Disposition", entity.disposition);
  if (!entity.content_id.empty()) out.header("Content-Id", "<" + entity.content_id + ">");
  const bool leaf = entity.boundary.empty() && !entity.message;
  if (leaf) out.header("Content-Transfer-Encoding", mime_text::encoding_name(entity.encoding));
  out.newline();
  if (entity.message) {
    return write_message(out, *entity.message);
  } else if (!entity.boundary.empty()) {
    // RFC 2046 5.1.1: the line end before each delimiter is the delimiter's.
    for (const Entity& part : entity.parts) {
      out.put("--");
      out.put(entity.boundary);
      out.newline();
      PSTKIT_RETURN_IF_ERROR(write_entity(out, part));
      out.newline();
    }
    out.put("--");
    out.put(entity.boundary);
    out.put("--");
    out.newline();
  } else if (entity.stream) {
    return write_streamed(out, entity);
  } else {
    mime_text::write_encoded(out, entity.content(), entity.encoding);
  }
  return Status::ok();
}

Status write_message(mime_text::Output& out, const BuiltMessage& message) {
  for (const auto& [name, value] : message.headers) out.header(name, value);
  out.header("MIME-Version", "1.0");
  return write_entity(out, *message.body);
}

// Address headers: a stored one is rewritten by GMime's address parser, which
// encodes display names with 8-bit text word by word (RFC 2047 5(3)).
bool is_address_header(const std::string& lower_name) {
  static const std::set<std::string> names = {
      "from",          "to",          "cc",          "bcc",           "reply-to",   "sender",
      "resent-from",   "resent-to",   "resent-cc",   "resent-bcc",    "resent-sender",
      "resent-reply-to", "mail-followup-to", "mail-reply-to", "disposition-notification-to"};
  return names.count(lower_name) != 0;
}

using mime_text::one_line;  // GMime may fold what it writes

class EmlBuilder {
 public:
  EmlBuilder(const EmlOptions& options, std::vector<std::string>& notes, bool may_stream = false)
      : options_(options), notes_(notes), may_stream_(may_stream) {}
  // Whether an attachment of the message built is streamed.
  bool streamed() const { return streamed_; }

  // Fails only when an address needs GMime (8-bit) and it cannot be loaded.
  Result<std::unique_ptr<BuiltMessage>> build(const Message& message, int depth, const std::string& where) {
    const PropertyBag& props = message.properties();
    // Boundaries are derived from the message (its search key, node id and
    // place), never random: exporting it again gives the same bytes.
    uint64_t key = fnv1a(where, fnv1a(std::to_string(message.nid())));
    if (const Bytes* sk = props.get_binary(prop::kSearchKey))
      key = fnv1a(std::string_view(reinterpret_cast<const char*>(sk->data()), sk->size()), key);
    message_key_ = key;
    next_boundary_ = 0;

    auto out = std::make_unique<BuiltMessage>();
    // [MS-OXCMAIL] 2.1.3.1: the headers the message arrived with, where it
    // kept them; what they lack (and the subject, which the user may have
    // changed since) from its properties.
    std::set<std::string> present;
    std::string stored = props.get_string(prop::kTransportMessageHeaders).value_or("");
    if (!trim(stored).empty()) {
      PSTKIT_ASSIGN_OR_RETURN(present, copy_stored_headers(*out, stored));
    }
    PSTKIT_RETURN_IF_ERROR(build_headers(message, *out, present));

    PSTKIT_ASSIGN_OR_RETURN(Entity body, build_body(message, depth, where));
    out->body = std::make_unique<Entity>(std::move(body));
    return out;
  }

 private:
  const EmlOptions& options_;
  std::vector<std::string>& notes_;
  const bool may_stream_;
  bool streamed_ = false;
  uint64_t held_ = 0;  // bytes of attachment data read whole, in the whole message
  uint64_t message_key_ = 0;
  int next_boundary_ = 0;

  void note(const std::string& where, const std::string& what) {
    notes_.push_back(where.empty() ? what : where + ": " + what);
  }

  Entity multipart(const char* subtype) {
    Entity m;
    char boundary[48];
    std::snprintf(boundary, sizeof boundary, "=_pstkit_%016llx_%d", static_cast<unsigned long long>(message_key_),
                  next_boundary_++);
    m.boundary = boundary;
    m.content_type = std::string("multipart/") + subtype + mime_text::parameter("boundary", m.boundary);
    return m;
  }

  // Copies stored Internet headers but the MIME structure (Content-*,
  // MIME-Version: the one written here is new) and the subject (written from
  // the property). Returns the names copied, in lower case.
  Result<std::set<std::string>> copy_stored_headers(BuiltMessage& out, const std::string& stored) {
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
      // RFC 5322 2.2: a field name is printable ASCII but the colon.
      const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) > 32 && static_cast<unsigned char>(c) < 127;
      });
      if (!valid) continue;
      headers.emplace_back(name, trim(line.substr(colon + 1)));
    }
    for (auto& [name, value] : headers) {
      std::string l = lower_ascii(name);
      if (l.rfind("content-", 0) == 0 || l == "mime-version" || l == "subject") continue;
      std::string text;
      if (is_address_header(l)) {
        PSTKIT_ASSIGN_OR_RETURN(text, formatted_address_list(value));
      } else if (mime_text::is_ascii(value)) {
        text = one_line(value.substr(0, value.find('\0')));  // as it arrived (encoded words stay as they are)
      } else {
        // 8-bit values (raw UTF-8 or a legacy charset) become encoded words.
        text = mime_text::header_text(utf8_text(value));
      }
      out.headers.emplace_back(std::move(name), std::move(text));
      names.insert(l);
    }
    return names;
  }

  // A stored address list as GMime parses and writes it: display names with
  // 8-bit text as encoded words, domains in IDNA, obsolete forms (a "." in
  // an unquoted name) quoted. Without GMime, 7-bit lists stay as they are.
  static Result<std::string> formatted_address_list(const std::string& value) {
    if (Status loaded = mime::load_mime_parser(); !loaded.is_ok()) {
      if (mime_text::is_ascii(value)) return one_line(value);
      return loaded;
    }
    const std::string utf8 = utf8_text(value);
    InternetAddressList* list = gmime().internet_address_list_parse(nullptr, utf8.c_str());
    std::string out;
    if (list) {
      if (gmime().internet_address_list_length(list) > 0)
        out = one_line(mime::take_gstring(gmime().internet_address_list_to_string(list, nullptr, TRUE)));
      gmime().g_object_unref(list);
    }
    // No address GMime can read in it: kept as text.
    if (trim(out).empty()) return mime_text::header_text(utf8);
    return out;
  }

  static Result<std::string> mailbox_text(const Mailbox& m) {
    if (!mime_text::is_ascii(m.address)) {
      // An internationalized address: GMime's mailbox writer (IDNA domain).
      PSTKIT_RETURN_IF_ERROR(mime::load_mime_parser());
      InternetAddress* address = gmime().internet_address_mailbox_new(m.name.c_str(), m.address.c_str());
      std::string out = mime::take_gstring(gmime().internet_address_to_string(address, nullptr, TRUE));
      gmime().g_object_unref(address);
      return one_line(out);
    }
    const std::string address = one_line(m.address);
    if (m.name.empty()) return address;
    return mime_text::phrase(m.name) + " <" + address + ">";
  }

  // [MS-OXCMAIL] 2.2.3: headers from the message's properties, but those in
  // `present` (copied from the stored headers); the subject always.
  Status build_headers(const Message& message, BuiltMessage& out, const std::set<std::string>& present) {
    const PropertyBag& props = message.properties();
    auto has = [&](const char* name) { return present.count(name) != 0; };
    auto add = [&](const char* name, std::string value) { out.headers.emplace_back(name, std::move(value)); };
    std::optional<uint64_t> when = props.get_time(prop::kClientSubmitTime);
    if (!when) when = props.get_time(prop::kMessageDeliveryTime);
    if (!when) when = props.get_time(prop::kCreationTime);
    if (when && !has("date")) {
      std::string date = mime_text::rfc5322_date(unix_seconds(*when));
      if (!date.empty()) add("Date", std::move(date));
    }

    Mailbox from = mailbox_of(props, prop::kSentRepresentingName, prop::kSentRepresentingSmtpAddress,
                              kSentRepresentingAddrType, prop::kSentRepresentingEmailAddress);
    Mailbox sender = mailbox_of(props, prop::kSenderName, prop::kSenderSmtpAddress, kSenderAddrType,
                                prop::kSenderEmailAddress);
    if (from.empty()) from = sender;
    if (!from.empty() && !has("from")) {
      PSTKIT_ASSIGN_OR_RETURN(std::string text, mailbox_text(from));
      add("From", std::move(text));
    }
    if (!sender.empty() && sender.address != from.address && !has("sender") && !has("from")) {
      PSTKIT_ASSIGN_OR_RETURN(std::string text, mailbox_text(sender));
      add("Sender", std::move(text));
    }

    std::string subject = utf8_text(message.subject());
    if (!subject.empty()) add("Subject", mime_text::header_text(subject));

    if (has("to") || has("cc") || has("bcc")) {
      // The stored headers name the recipients as they were sent.
    } else if (auto recipients = message.recipients()) {
      std::string lists[3];  // To, Cc, Bcc
      for (const PropertyBag& r : *recipients) {
        int list = 0;
        switch (r.get_i32(prop::kRecipientType).value_or(1) & 0xF) {
          case 2: list = 1; break;
          case 3: list = 2; break;
          default: break;
        }
        Mailbox m = mailbox_of(r, prop::kDisplayName, prop::kSmtpAddress, prop::kAddressType, prop::kEmailAddress);
        if (m.empty()) continue;
        PSTKIT_ASSIGN_OR_RETURN(std::string text, mailbox_text(m));
        if (!lists[list].empty()) lists[list] += ", ";
        lists[list] += text;
      }
      static const char* names[] = {"To", "Cc", "Bcc"};
      for (int i = 0; i < 3; ++i)
        if (!lists[i].empty()) add(names[i], std::move(lists[i]));
    } else {
      note("", "recipient table unreadable: " + recipients.status().message());
    }

    std::string id = trim(props.get_string(prop::kInternetMessageId).value_or(""));
    if (!id.empty() && mime_text::is_ascii(id) && !has("message-id")) {
      if (id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
      add("Message-Id", "<" + one_line(id) + ">");
    }
    auto ascii_header = [&](uint16_t prop_id, const char* name) {
      std::string v = trim(props.get_string(prop_id).value_or(""));
      if (!v.empty() && mime_text::is_ascii(v) && !has(lower_ascii(name).c_str())) add(name, one_line(v));
    };
    ascii_header(prop::kInReplyToId, "In-Reply-To");
    ascii_header(prop::kInternetReferences, "References");
    if (auto importance = props.get_i32(prop::kImportance); importance && *importance != 1 && !has("importance"))
      add("Importance", *importance == 2 ? "high" : "low");
    return Status::ok();
  }

  static Entity text_part(const std::string& text) {
    std::string utf8 = utf8_text(text);
    const TransferEncoding encoding = mime_text::text_encoding(utf8);
    const char* charset = mime_text::is_ascii(utf8) ? "us-ascii" : "utf-8";
    return leaf(std::string("text/plain") + mime_text::parameter("charset", charset), std::move(utf8), encoding);
  }

  // `charset` names the bytes' charset when they are not the stored HTML
  // (an RTF body's HTML is UTF-8).
  static Entity html_part(const Message& message, std::string html, const std::string& charset = "") {
    std::string type = "text/html" + mime_text::parameter("charset", charset.empty() ? html_charset(message, html) : charset);
    const TransferEncoding encoding = mime_text::text_encoding(html);
    return leaf(std::move(type), std::move(html), encoding);
  }

  struct Prepared {
    Entity part;
    bool inline_related = false;  // referred to by the HTML body (cid:)
  };

  Result<std::optional<Prepared>> attachment_part(const Message& message, Nid nid, int index, int depth,
                                                  const std::string& where, const std::string& html) {
    std::string here = where + "attachment " + std::to_string(index);
    auto attachment = message.open_attachment(nid);
    if (!attachment) {
      note(here, "cannot open it: " + attachment.status().message());
      return std::optional<Prepared>();
    }
    const PropertyBag& props = attachment->properties();
    std::string filename = utf8_text(attachment->filename());
    if (filename.empty()) filename = utf8_text(props.get_string(prop::kDisplayName).value_or(""));
    std::string content_id = trim(props.get_string(prop::kAttachContentId).value_or(""));
    if (content_id.size() >= 2 && content_id.front() == '<' && content_id.back() == '>')
      content_id = content_id.substr(1, content_id.size() - 2);
    if (!mime_text::is_ascii(content_id)) content_id.clear();
    content_id = one_line(content_id);
    const bool related = !content_id.empty() && html.find("cid:" + content_id) != std::string::npos;

    Prepared out;
    out.inline_related = related;
    if (attachment->is_embedded_message()) {
      if (depth + 1 > options_.max_depth) {
        note(here, "embedded message deeper than " + std::to_string(options_.max_depth) + " levels: left out");
        return std::optional<Prepared>();
      }
      auto inner = attachment->embedded_message();
      if (!inner) {
        note(here, "cannot read the embedded message: " + inner.status().message());
        return std::optional<Prepared>();
      }
      const uint64_t saved_key = message_key_;
      const int saved_next = next_boundary_;
      auto built = build(*inner, depth + 1, here + "/");
      message_key_ = saved_key;
      next_boundary_ = saved_next;
      if (!built) return built.status();
      out.part.content_type = "message/rfc822";
      out.part.disposition = "attachment";
      out.part.message = std::move(*built);
      return std::optional<Prepared>(std::move(out));
    }

    const int32_t method = attachment->method();
    if (method == kAttachByReference || method == kAttachByRefResolve || method == kAttachByRefOnly) {
      // A file the message points to: an external body naming it (RFC 2046 5.2.3).
      std::string path = props.get_string(kAttachLongPathname).value_or(props.get_string(kAttachPathname).value_or(""));
      std::string type = "message/external-body" + mime_text::parameter("access-type", "local-file");
      if (!path.empty()) type += mime_text::parameter("name", utf8_text(path));
      out.part = leaf(std::move(type), "Content-Type: application/octet-stream\r\n\r\n", TransferEncoding::k7Bit);
      return std::optional<Prepared>(std::move(out));
    }

    if (options_.omit_file_attachments || !attachment_extension_accepted(filename, options_.attachment_extensions))
      return std::optional<Prepared>();

    auto type = split_mime_type(props.get_string(prop::kAttachMimeTag).value_or(""));
    Bytes data;
    std::shared_ptr<const ndb::Node> stream;
    if (attachment->has_data()) {
      auto node = attachment->open_data();
      if (!node) {
        note(here, "cannot read its data: " + node.status().message());
        return std::optional<Prepared>();
      }
      // A large attachment is read block by block as the message is written
      // (not message/*, whose 7-bit check needs its bytes first); its blocks
      // are read once here, so that one that cannot be read leaves it out as
      // reading it whole would. Also once the attachments read whole add up
      // to four times the limit: the message holds them all until written.
      const uint64_t size = (*node)->size();
      const uint64_t limit = options_.stream_attachments_above;
      const bool large = size > limit || held_ + size > (limit > UINT64_MAX / 4 ? UINT64_MAX : 4 * limit);
      if (may_stream_ && large && !(type && type->first == "message")) {
        const Status readable = options_.check_streamed_attachments ? check_blocks(**node) : Status::ok();
        if (!readable.is_ok()) {
          note(here, "cannot read its data: " + readable.message());
          return std::optional<Prepared>();
        }
        stream = std::move(*node);
      } else {
        auto read = (*node)->read_all();
        if (!read) {
          note(here, "cannot read its data: " + read.status().message());
          return std::optional<Prepared>();
        }
        data = std::move(*read);
        held_ += data.size();
      }
    }
    std::string_view bytes(reinterpret_cast<const char*>(data.data()), data.size());
    // RFC 2046 5.2: message/* parts are never base64 or quoted-printable;
    // one that is not 7-bit text is sent as plain octets.
    const bool message_type = type && type->first == "message";
    const bool seven_bit = mime_text::is_ascii(bytes) && bytes.find('\0') == std::string_view::npos;
    if (!type || (message_type && !seven_bit)) type = std::make_pair(std::string("application"), std::string("octet-stream"));
    Entity& part = out.part;
    part.content_type = type->first + "/" + type->second;
    if (!filename.empty()) part.content_type += mime_text::parameter("name", filename);
    // Base64 keeps the bytes exact: a text attachment sent 7-bit would have
    // its line ends rewritten.
    part.encoding = type->first == "message" ? TransferEncoding::k7Bit : TransferEncoding::kBase64;
    part.disposition = related ? "inline" : "attachment";
    if (!filename.empty()) part.disposition += mime_text::parameter("filename", filename);
    part.content_id = content_id;
    if (stream) {
      part.stream_size = stream->size();
      part.stream = std::move(stream);
      streamed_ = true;
    } else {
      part.data = std::move(data);
      part.holds_data = true;
    }
    return std::optional<Prepared>(std::move(out));
  }

  Result<Entity> build_body(const Message& message, int depth, const std::string& where) {
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
    const bool has_html = html.has_value();
    std::string html_text = html ? std::string(reinterpret_cast<const char*>(html->data()), html->size()) : "";
    html.reset();

    Entity body;
    if (has_html && (text || rtf_kept)) {
      body = multipart("alternative");
      if (text) body.parts.push_back(text_part(*text));
      // The HTML is kept for the cid: test below; the part has its copy.
      body.parts.push_back(html_part(message, html_text, html_charset_name));
      if (rtf_kept) {
        const TransferEncoding encoding = mime_text::text_encoding(*rtf_kept);
        body.parts.push_back(leaf("text/rtf", std::move(*rtf_kept), encoding));
      }
    } else if (has_html) {
      body = html_part(message, html_text, html_charset_name);
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
        Prepared p;
        p.part.content_type = "application/rtf" + mime_text::parameter("name", "rtf-body.rtf");
        p.part.disposition = "attachment" + mime_text::parameter("filename", "rtf-body.rtf");
        p.part.encoding = TransferEncoding::kBase64;
        p.part.data = std::move(**rtf);
        p.part.holds_data = true;
        parts.push_back(std::move(p));
      }
    }
    int index = 0;
    for (Nid nid : *nids) {
      PSTKIT_ASSIGN_OR_RETURN(auto p, attachment_part(message, nid, index++, depth, where, html_text));
      if (p) parts.push_back(std::move(*p));
    }
    const bool any_related = std::any_of(parts.begin(), parts.end(), [](const Prepared& p) { return p.inline_related; });
    if (any_related) {
      Entity related = multipart("related");
      related.content_type += mime_text::parameter("type", text ? "multipart/alternative" : "text/html");
      related.parts.push_back(std::move(body));
      for (Prepared& p : parts)
        if (p.inline_related) related.parts.push_back(std::move(p.part));
      body = std::move(related);
    }
    const bool any_mixed = std::any_of(parts.begin(), parts.end(), [](const Prepared& p) { return !p.inline_related; });
    if (!any_mixed) return body;
    Entity mixed = multipart("mixed");
    mixed.parts.push_back(std::move(body));
    for (Prepared& p : parts)
      if (!p.inline_related) mixed.parts.push_back(std::move(p.part));
    return mixed;
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
  EmlResult result;
  EmlBuilder builder(options, result.notes);
  PSTKIT_ASSIGN_OR_RETURN(auto built, builder.build(message, 0, ""));
  result.data.reserve(estimated_size(*built));
  mime_text::Output out(result.data, options.crlf);
  PSTKIT_RETURN_IF_ERROR(write_message(out, *built));
  if (!out.ends_with_newline()) out.newline();
  return result;
}

Result<EmlResult> message_to_eml(const Message& message, const EmlOptions& options, const EmlWrite& write,
                                 bool* streamed) {
  EmlResult result;
  EmlBuilder builder(options, result.notes, true);
  PSTKIT_ASSIGN_OR_RETURN(auto built, builder.build(message, 0, ""));
  *streamed = builder.streamed();
  if (!*streamed) {
    result.data.reserve(estimated_size(*built));
    mime_text::Output out(result.data, options.crlf);
    PSTKIT_RETURN_IF_ERROR(write_message(out, *built));
    if (!out.ends_with_newline()) out.newline();
    return result;
  }
  Bytes buffer;
  buffer.reserve(kFlushAt + kFlushAt / 2);
  mime_text::Output out(buffer, options.crlf, &write);
  PSTKIT_RETURN_IF_ERROR(write_message(out, *built));
  if (!out.ends_with_newline()) out.newline();
  if (!out.flush()) return Status::io_error("writing the message failed");
  return result;
}

}  // namespace pstkit
