// The MIME tree to bodies and attachments ([MS-OXCMAIL] 2.2.3.3 message
// body, 2.2.3.4 attachments; [MS-OXOSMIME] 2.1.3 signed and encrypted
// messages).
//
// The body is the first text/plain and/or text/html part that is not an
// attachment: in multipart/alternative one of each kind, elsewhere the
// first text part found. In multipart/related the root part (the "start"
// parameter, else the first) gives the body and the others are attachments,
// marked inline and hidden when the HTML body refers to them. Every other
// leaf part is an attachment by value; message/rfc822 parts are embedded
// messages.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>

#include "import/mapi_props.h"
#include "import/mime_convert.h"
#include "import/mime_text.h"
#include "pstkit/codepage.h"
#include "pstkit/property_names.h"
#include "pstkit/rtf.h"
#include "pstkit/utf.h"

namespace pstkit::mime {

namespace {

constexpr int kMaxPartNesting = 64;
constexpr uint16_t kRtfInSync = 0x0E1F;  // PidTagRtfInSync  // GMime stops deeper nesting; so do we

struct TextBody {
  Bytes bytes;
  std::string charset;
};

// An attachment of a multipart/related, inline if the HTML body refers to it.
struct RelatedAttachment {
  size_t index = 0;
  std::string content_id;
  std::string location;
};

const char* extension_for(const std::string& mime_type) {
  static const struct {
    const char* type;
    const char* ext;
  } kTypes[] = {{"text/plain", ".txt"},      {"text/html", ".htm"},       {"text/calendar", ".ics"},
                {"text/csv", ".csv"},        {"text/xml", ".xml"},        {"text/rtf", ".rtf"},
                {"image/png", ".png"},       {"image/jpeg", ".jpg"},      {"image/jpg", ".jpg"},
                {"image/pjpeg", ".jpg"},     {"image/gif", ".gif"},       {"image/bmp", ".bmp"},
                {"image/tiff", ".tif"},      {"image/svg+xml", ".svg"},   {"application/pdf", ".pdf"},
                {"application/zip", ".zip"}, {"application/msword", ".doc"}, {"application/rtf", ".rtf"},
                {"message/rfc822", ".eml"},  {"message/delivery-status", ".txt"},
                {"application/pkcs7-signature", ".p7s"}, {"application/x-pkcs7-signature", ".p7s"},
                {"application/pkcs7-mime", ".p7m"},      {"application/x-pkcs7-mime", ".p7m"},
                {"application/pgp-signature", ".asc"},   {"application/ms-tnef", ".dat"}};
  for (const auto& t : kTypes) {
    if (mime_type == t.type) return t.ext;
  }
  return ".bin";
}

// [MS-OXCMAIL] 2.2.3.4.1.1: readers sanitize file names. No directories,
// no characters Windows forbids in names, no leading or trailing dots and
// blanks.
std::string sanitize_filename(std::string_view name) {
  const size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string out;
  for (char c : sanitize_utf8(name)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || std::string_view("<>:\"|?*").find(c) != std::string_view::npos) {
      out.push_back('_');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  size_t lead = 0;
  while (lead < out.size() && (out[lead] == ' ' || out[lead] == '.')) ++lead;
  return out.substr(lead);
}

std::string extension_of(const std::string& filename) {
  const size_t dot = filename.rfind('.');
  if (dot == std::string::npos || dot == 0 || filename.size() - dot > 16) return {};
  return filename.substr(dot);
}

// An 8.3 name for PidTagAttachFilename, as Outlook derives it from a long one.
std::string short_filename(const std::string& filename) {
  const std::string ext = extension_of(filename);
  const std::string base = filename.substr(0, filename.size() - ext.size());
  auto ascii_upper = [](std::string_view s, size_t max) {
    std::string out;
    for (char c : s) {
      if (out.size() == max) break;
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '_' || c == '-') out.push_back(char(std::toupper(u)));
    }
    return out;
  };
  const std::string short_ext = ascii_upper(ext.empty() ? "" : std::string_view(ext).substr(1), 3);
  const std::string b = ascii_upper(base, 8);
  const bool fits = b.size() == base.size() && short_ext.size() + (ext.empty() ? 0 : 1) == ext.size();
  std::string out = fits ? b : ascii_upper(base, 6) + "~1";
  if (out == "~1") out = "ATTACH~1";
  if (!short_ext.empty()) out += "." + short_ext;
  return out;
}

// The charset an HTML document declares in a <meta> element, if any.
std::string meta_charset(const Bytes& html) {
  const std::string head = to_lower(std::string_view(reinterpret_cast<const char*>(html.data()),
                                                     std::min<size_t>(html.size(), 4096)));
  size_t pos = head.find("<meta");
  while (pos != std::string::npos) {
    const size_t end = head.find('>', pos);
    const size_t cs = head.find("charset=", pos);
    if (cs != std::string::npos && (end == std::string::npos || cs < end)) {
      size_t i = cs + 8;
      while (i < head.size() && (head[i] == '"' || head[i] == '\'' || head[i] == ' ')) ++i;
      size_t j = i;
      while (j < head.size() && (std::isalnum(static_cast<unsigned char>(head[j])) || head[j] == '-' ||
                                 head[j] == '_' || head[j] == ':' || head[j] == '.')) {
        ++j;
      }
      return head.substr(i, j - i);
    }
    pos = head.find("<meta", pos + 5);
  }
  return {};
}

std::string as_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

class ContentWalker {
 public:
  ContentWalker(const ConvertContext& context, NewMessage& out) : context_(context), out_(out) {}

  void run(GMimeMessage* message) {
    GMimeObject* root = gmime().g_mime_message_get_mime_part(message);
    if (!root) return;
    const std::string type = mime_type_of(root);
    if (is_multipart(root) && type == "multipart/signed") {
      // [MS-OXOSMIME] 2.1.3.1: the body comes from the signed content; the
      // one attachment is the whole multipart/signed entity.
      set_property(out_.properties, string_value(prop::kMessageClass, "IPM.Note.SMIME.MultipartSigned"));
      if (gmime().g_mime_multipart_get_count(GMIME_MULTIPART(root)) > 0) {
        walk(gmime().g_mime_multipart_get_part(GMIME_MULTIPART(root), 0), 1, false, /*promote=*/false);
      }
      add_signed_entity(root);
    } else if (is_part(root) && is_opaque_smime(GMIME_PART(root), type)) {
      // [MS-OXOSMIME] 2.1.3.2: no body; the CMS content is the attachment,
      // and the Content-Type is kept as a named property.
      set_property(out_.properties, string_value(prop::kMessageClass, "IPM.Note.SMIME"));
      NamedValue content_type;
      content_type.name.guid = property_sets::kPsInternetHeaders;
      content_type.name.is_string = true;
      content_type.name.name = "Content-Type";
      content_type.type = ltp::kPtypString;
      content_type.data = string_value(0, sanitize_utf8(header_value(root, "Content-Type"))).data;
      out_.named.push_back(std::move(content_type));
      add_part_attachment(GMIME_PART(root), false, "smime.p7m");
    } else {
      walk(root, 0, false, true);
    }
    finish_bodies();
    mark_inline_attachments();
  }

 private:
  static bool is_opaque_smime(GMimePart* part, const std::string& type) {
    if (type == "application/pkcs7-mime" || type == "application/x-pkcs7-mime") return true;
    if (type != "application/octet-stream") return false;
    const std::string name = to_lower(or_empty(gmime().g_mime_part_get_filename(part)));
    return name.size() > 4 && name.compare(name.size() - 4, 4, ".p7m") == 0;
  }

  bool in_alternative() const { return alternative_depth_ > 0; }

  void walk(GMimeObject* object, int level, bool in_related, bool promote) {
    if (!object) return;
    if (level > kMaxPartNesting) {
      context_.warn("MIME parts nested deeper than " + std::to_string(kMaxPartNesting) + ": rest skipped");
      return;
    }
    if (is_multipart(object)) {
      walk_multipart(GMIME_MULTIPART(object), level, promote);
    } else if (is_message_part(object)) {
      if (promote) add_message_attachment(GMIME_MESSAGE_PART(object));
    } else if (is_part(object)) {
      GMimePart* part = GMIME_PART(object);
      if (take_as_body(part)) return;
      if (promote) add_part_attachment(part, in_related, "");
    }
  }

  void walk_multipart(GMimeMultipart* multipart, int level, bool promote) {
    GMimeObject* object = GMIME_OBJECT(multipart);
    const int count = gmime().g_mime_multipart_get_count(multipart);
    if (count == 0) {
      recover_parts(multipart, level, promote);
      return;
    }
    GMimeContentType* ct = gmime().g_mime_object_get_content_type(object);
    const std::string subtype = to_lower(or_empty(ct ? gmime().g_mime_content_type_get_media_subtype(ct) : nullptr));
    if (subtype == "alternative") {
      ++alternative_depth_;
      for (int i = 0; i < count; ++i) walk(gmime().g_mime_multipart_get_part(multipart, i), level + 1, false, promote);
      --alternative_depth_;
      return;
    }
    if (subtype == "related") {
      int root = 0;
      const std::string start = or_empty(gmime().g_mime_object_get_content_type_parameter(object, "start"));
      if (!start.empty()) {
        const std::string wanted = start.front() == '<' ? start.substr(1, start.size() - 2) : start;
        for (int i = 0; i < count; ++i) {
          if (or_empty(gmime().g_mime_object_get_content_id(gmime().g_mime_multipart_get_part(multipart, i))) == wanted) root = i;
        }
      }
      walk(gmime().g_mime_multipart_get_part(multipart, root), level + 1, false, promote);
      for (int i = 0; i < count; ++i) {
        if (i != root) walk(gmime().g_mime_multipart_get_part(multipart, i), level + 1, true, promote);
      }
      return;
    }
    // mixed, and anything unknown (report, digest, nested signed...).
    for (int i = 0; i < count; ++i) walk(gmime().g_mime_multipart_get_part(multipart, i), level + 1, false, promote);
  }

  // A multipart without parts: its boundary is missing or wrong, so GMime
  // kept everything as the prologue. Guess the boundary from the first
  // "--token" line and parse again; failing that, keep the text.
  void recover_parts(GMimeMultipart* multipart, int level, bool promote) {
    const std::string prologue = or_empty(gmime().g_mime_multipart_get_prologue(multipart));
    if (prologue.empty()) return;
    std::string boundary;
    size_t pos = 0;
    while (pos < prologue.size()) {
      size_t eol = prologue.find('\n', pos);
      if (eol == std::string::npos) eol = prologue.size();
      std::string line = prologue.substr(pos, eol - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() > 2 && line.compare(0, 2, "--") == 0 && line.find_first_of(" \t\"") == std::string::npos) {
        boundary = line.substr(2);
        break;
      }
      pos = eol + 1;
    }
    GMimeContentType* ct = gmime().g_mime_object_get_content_type(GMIME_OBJECT(multipart));
    const std::string subtype = or_empty(ct ? gmime().g_mime_content_type_get_media_subtype(ct) : nullptr);
    if (!boundary.empty()) {
      const std::string text = "Content-Type: multipart/" + (subtype.empty() ? std::string("mixed") : subtype) +
                               "; boundary=\"" + boundary + "\"\n\n" + prologue;
      GRef<GMimeStream> stream(gmime().g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
      GRef<GMimeParser> parser(gmime().g_mime_parser_new_with_stream(stream.get()));
      GRef<GMimeObject> reparsed(gmime().g_mime_parser_construct_part(parser.get(), context_.parser_options));
      if (reparsed && is_multipart(reparsed.get()) &&
          gmime().g_mime_multipart_get_count(GMIME_MULTIPART(reparsed.get())) > 0) {
        context_.warn("multipart boundary missing or wrong: parts recovered with \"" + boundary + "\"");
        walk(reparsed.get(), level + 1, false, promote);
        return;
      }
    }
    context_.warn("multipart without parts: its text kept as is");
    Bytes bytes(prologue.begin(), prologue.end());
    if (!plain_ && !html_) {
      plain_ = TextBody{std::move(bytes), ""};
    } else if (promote) {
      add_attachment(std::move(bytes), "text/plain", "", nullptr, false);
    }
  }

  // Text parts without a file name or an "attachment" disposition fill the
  // body slots: one of each kind within multipart/alternative, otherwise
  // only while no body has been found.
  bool take_as_body(GMimePart* part) {
    GMimeObject* object = GMIME_OBJECT(part);
    const std::string type = mime_type_of(object);
    const bool plain = type == "text/plain";
    const bool rtf = type == "text/rtf" || type == "application/rtf";
    if (!plain && !rtf && type != "text/html") return false;
    const std::string disposition = to_lower(or_empty(gmime().g_mime_object_get_disposition(object)));
    if (disposition == "attachment" || gmime().g_mime_part_get_filename(part)) return false;
    if (rtf) {
      // An RTF alternative (as pstkit export writes for RTF bodies) is the
      // message's RTF body, not an attachment.
      if (!in_alternative() || rtf_) return false;
      rtf_ = part_content(part);
      return true;
    }
    std::optional<TextBody>& slot = plain ? plain_ : html_;
    const std::optional<TextBody>& other = plain ? html_ : plain_;
    if (slot || (other && !in_alternative())) return false;
    slot = TextBody{part_content(part), or_empty(gmime().g_mime_object_get_content_type_parameter(object, "charset"))};
    return true;
  }

  std::string next_unnamed(const std::string& mime_type) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "ATT%05u", ++unnamed_);
    return buf + std::string(extension_for(mime_type));
  }

  // Adds an attachment by value and returns its index.
  size_t add_attachment(Bytes data, const std::string& mime_type, std::string filename, GMimeObject* object,
                        bool in_related) {
    NewAttachment a;
    std::string description;
    if (object && is_part(object)) {
      description = sanitize_utf8(unfold(or_empty(gmime().g_mime_part_get_content_description(GMIME_PART(object)))));
    }
    if (filename.empty()) filename = sanitize_filename(description);  // 2.2.3.4.1.1, last resort
    if (filename.empty()) filename = next_unnamed(mime_type);
    auto& p = a.properties;
    p.push_back(int32_value(prop::kAttachMethod, kAttachByValue));
    p.push_back(string_value(prop::kAttachLongFilename, filename));
    p.push_back(string_value(prop::kAttachFilename, short_filename(filename)));
    p.push_back(string_value(prop::kDisplayName, description.empty() ? filename : description));
    const std::string ext = extension_of(filename);
    if (!ext.empty()) p.push_back(string_value(prop::kAttachExtension, ext));
    p.push_back(string_value(prop::kAttachMimeTag, mime_type));
    RelatedAttachment related;
    if (object) {
      // 2.2.3.4.1.4: Content-Id (without angle brackets), Content-Location
      // and Content-Base.
      related.content_id = sanitize_utf8(or_empty(gmime().g_mime_object_get_content_id(object)));
      if (!related.content_id.empty()) p.push_back(string_value(prop::kAttachContentId, related.content_id));
      if (is_part(object)) {
        related.location = sanitize_utf8(or_empty(gmime().g_mime_part_get_content_location(GMIME_PART(object))));
      }
      if (!related.location.empty()) p.push_back(string_value(pid::kAttachContentLocation, related.location));
      const std::string base = header_value(object, "Content-Base");
      if (!base.empty()) p.push_back(string_value(pid::kAttachContentBase, sanitize_utf8(base)));
    }
    a.data = std::move(data);
    out_.attachments.push_back(std::move(a));
    related.index = out_.attachments.size() - 1;
    if (in_related && (!related.content_id.empty() || !related.location.empty())) related_.push_back(related);
    return related.index;
  }

  void add_part_attachment(GMimePart* part, bool in_related, const char* default_name) {
    GMimeObject* object = GMIME_OBJECT(part);
    std::string filename = sanitize_filename(or_empty(gmime().g_mime_part_get_filename(part)));
    if (filename.empty()) filename = default_name;
    add_attachment(part_content(part), mime_type_of(object), filename, object, in_related);
  }

  void add_message_attachment(GMimeMessagePart* part) {
    GMimeMessage* inner = gmime().g_mime_message_part_get_message(part);
    GMimeObject* object = GMIME_OBJECT(part);
    const std::string filename = sanitize_filename(or_empty(gmime().g_mime_object_get_content_disposition_parameter(object, "filename")));
    if (!inner || context_.depth + 1 > context_.options->max_embedded_depth) {
      // Kept as an .eml file: too deep to embed, or nothing GMime could read.
      if (inner) context_.warn("embedded messages nested too deeply: kept as .eml");
      GRef<GMimeStream> sink(gmime().g_mime_stream_mem_new());
      if (inner) {
        gmime().g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, sink.get());
      } else {
        gmime().g_mime_object_write_content_to_stream(object, nullptr, sink.get());
      }
      GByteArray* bytes = gmime().g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));
      Bytes data = bytes ? Bytes(bytes->data, bytes->data + bytes->len) : Bytes{};
      add_attachment(std::move(data), "message/rfc822", filename, object, false);
      return;
    }
    ConvertContext child = context_;
    child.depth = context_.depth + 1;
    NewAttachment a;
    a.embedded = std::make_shared<NewMessage>(convert_message(inner, child));
    std::string subject = sanitize_utf8(or_empty(gmime().g_mime_message_get_subject(inner)));
    for (char& c : subject) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    a.properties.push_back(int32_value(prop::kAttachMethod, kAttachEmbeddedMessage));
    a.properties.push_back(string_value(prop::kDisplayName, subject.empty() ? "Untitled" : subject));
    a.properties.push_back(string_value(prop::kAttachMimeTag, "message/rfc822"));
    out_.attachments.push_back(std::move(a));
  }

  // [MS-OXOSMIME] 2.1.3.1: the attachment holds the multipart/signed entity
  // as received: its Content-Type header, a blank line, then its content.
  void add_signed_entity(GMimeObject* root) {
    std::string raw = " multipart/signed\n";
    if (GMimeHeaderList* headers = gmime().g_mime_object_get_header_list(root)) {
      if (GMimeHeader* h = gmime().g_mime_header_list_get_header(headers, "Content-Type")) {
        raw = or_empty(gmime().g_mime_header_get_raw_value(h));
      }
    }
    const bool crlf = raw.size() >= 2 && raw.compare(raw.size() - 2, 2, "\r\n") == 0;
    if (raw.empty() || raw.back() != '\n') raw += crlf ? "\r\n" : "\n";
    const std::string head = "Content-Type:" + raw + (crlf ? "\r\n" : "\n");
    GRef<GMimeStream> sink(gmime().g_mime_stream_mem_new());
    gmime().g_mime_object_write_content_to_stream(root, nullptr, sink.get());
    GByteArray* content = gmime().g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));
    Bytes data(head.begin(), head.end());
    if (content) append_bytes(data, content->data, content->len);
    add_attachment(std::move(data), "multipart/signed", "smime.p7m", nullptr, false);
  }

  void finish_bodies() {
    auto& props = out_.properties;
    const uint32_t fallback = context_.options->fallback_codepage;
    uint32_t internet_codepage = 0;
    if (plain_) {
      uint32_t cp = 0;
      bool used_fallback = false;
      const std::string text = decode_charset(as_string(plain_->bytes), plain_->charset, fallback, &cp, &used_fallback);
      if (used_fallback) context_.warn("plain text body not in charset \"" + plain_->charset + "\": read as code page " + std::to_string(fallback));
      set_property(props, string_value(prop::kBody, to_crlf(text)));
      internet_codepage = cp;
    }
    if (html_) {
      std::string charset = html_->charset;
      if (charset.empty()) charset = meta_charset(html_->bytes);
      uint32_t cp = 0;
      const std::string decoded = decode_charset(as_string(html_->bytes), charset, fallback, &cp);
      // PidTagHtml keeps the bytes as sent, described by
      // PidTagInternetCodepage, as Outlook stores it; text that only iconv
      // could read is stored converted to UTF-8 instead.
      Bytes html = html_->bytes;
      if (cp == kCodepageUtf8 && !is_valid_utf8(as_string(html))) html = Bytes(decoded.begin(), decoded.end());
      set_property(props, binary_value(prop::kHtml, std::move(html)));
      if (!plain_) set_property(props, string_value(prop::kBody, to_crlf(html_to_text(decoded))));
      html_text_ = decoded;
      internet_codepage = cp;
      set_property(props, int32_value(pid::kNativeBody, kNativeBodyHtml));
    } else if (plain_) {
      set_property(props, int32_value(pid::kNativeBody, kNativeBodyPlain));
    }
    if (rtf_) {
      // MS-OXRTFCP: kept compressed, as Outlook keeps RTF bodies; the RTF is
      // the native body the other forms were made from.
      set_property(props, binary_value(prop::kRtfCompressed, rtf::compress(ByteView(rtf_->data(), rtf_->size()))));
      set_property(props, bool_value(kRtfInSync, true));
      set_property(props, int32_value(pid::kNativeBody, kNativeBodyRtf));
    }
    if (internet_codepage) {
      set_property(props, int32_value(prop::kInternetCodepage, int32_t(internet_codepage)));
      set_property(props, int32_value(prop::kMessageCodepage, int32_t(message_codepage_for(internet_codepage))));
    }
  }

  // PidTagMessageCodepage: the code page 8-bit strings of the message are
  // in, which StoreWriter uses for ANSI files. The body's charset when it is
  // an 8-bit one; windows-1252 for ASCII, Latin-1 and the Unicode forms
  // (which 8-bit strings cannot use); Shift_JIS for ISO-2022-JP, whose
  // escape sequences suit only transport.
  static uint32_t message_codepage_for(uint32_t internet_codepage) {
    switch (internet_codepage) {
      case 50220:
      case 50221:
      case 50222: return 932;
      case 20127:
      case 28591:
      case 1200:
      case 1201:
      case 12000:
      case 12001:
      case 65000:
      case kCodepageUtf8: return kCodepageWindows1252;
      default: return is_known_codepage(internet_codepage) ? internet_codepage : kCodepageWindows1252;
    }
  }

  // [MS-OXCMAIL] 2.2.3.4.1.4.1: parts of a multipart/related that the HTML
  // body refers to (cid: or Content-Location) are inline: rendered in the
  // body (PidTagAttachFlags attRenderedInBody) and hidden from the list.
  void mark_inline_attachments() {
    if (html_text_.empty()) return;
    const std::string html = to_lower(html_text_);
    for (const auto& r : related_) {
      const bool referenced = (!r.content_id.empty() && html.find("cid:" + to_lower(r.content_id)) != std::string::npos) ||
                              (!r.location.empty() && html.find(to_lower(r.location)) != std::string::npos);
      if (!referenced) continue;
      auto& p = out_.attachments[r.index].properties;
      set_property(p, int32_value(pid::kAttachFlags, kAttachRenderedInBody));
      set_property(p, bool_value(pid::kAttachmentHidden, true));
    }
  }

  const ConvertContext& context_;
  NewMessage& out_;
  std::optional<TextBody> plain_, html_;
  std::optional<Bytes> rtf_;
  std::string html_text_;
  std::vector<RelatedAttachment> related_;
  unsigned unnamed_ = 0;
  int alternative_depth_ = 0;
};

}  // namespace

void map_content(GMimeMessage* message, const ConvertContext& context, NewMessage& out) {
  ContentWalker(context, out).run(message);
}

}  // namespace pstkit::mime
