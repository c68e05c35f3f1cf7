// message_from_mime: parse with GMime, then map headers, addresses and
// content onto a NewMessage.
#include "import/mapi_props.h"
#include "import/mime_convert.h"
#include "import/mime_text.h"
#include "pstkit/codepage.h"
#include "pstkit/utf.h"

namespace pstkit::mime {

std::string header_value(GMimeObject* object, const char* name) {
  const char* v = gmime().g_mime_object_get_header(object, name);
  return v ? unfold(v) : std::string();
}

Bytes part_content(GMimePart* part) {
  GMimeDataWrapper* wrapper = gmime().g_mime_part_get_content(part);
  if (!wrapper) return {};
  GRef<GMimeStream> sink(gmime().g_mime_stream_mem_new());
  // Decoding never fails in GMime: invalid base64 or quoted-printable
  // characters are skipped, which is the best-effort result we want.
  gmime().g_mime_data_wrapper_write_to_stream(wrapper, sink.get());
  GByteArray* bytes = gmime().g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));
  if (!bytes || bytes->len == 0) return {};
  return Bytes(bytes->data, bytes->data + bytes->len);
}

std::string mime_type_of(GMimeObject* object) {
  GMimeContentType* type = gmime().g_mime_object_get_content_type(object);
  if (!type) return "application/octet-stream";
  std::string t = take_gstring(gmime().g_mime_content_type_get_mime_type(type));
  return t.empty() ? "application/octet-stream" : to_lower(t);
}

namespace {

// See merge_encoded_word_runs: rewrites the raw value of every header with a
// run of adjacent encoded words, which makes GMime re-read the subject and
// the address lists from the merged words.
void repair_encoded_word_runs(GMimeObject* object) {
  GMimeHeaderList* headers = gmime().g_mime_object_get_header_list(object);
  const int n = headers ? gmime().g_mime_header_list_get_count(headers) : 0;
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = gmime().g_mime_header_list_get_header_at(headers, i);
    const char* raw = h ? gmime().g_mime_header_get_raw_value(h) : nullptr;
    if (!raw) continue;
    if (auto merged = merge_encoded_word_runs(raw)) gmime().g_mime_header_set_raw_value(h, merged->c_str());
  }
}

}  // namespace

NewMessage convert_message(GMimeMessage* message, const ConvertContext& context) {
  NewMessage out;
  // The header block as received, for PidTagTransportMessageHeaders.
  const std::string received_headers = take_gstring(gmime().g_mime_object_get_headers(GMIME_OBJECT(message), nullptr));
  repair_encoded_word_runs(GMIME_OBJECT(message));
  map_envelope(message, context, received_headers, out);
  map_addresses(message, context, out);
  map_content(message, context, out);
  return out;
}

namespace {

struct ParserOptions {
  GMimeParserOptions* p = gmime().g_mime_parser_options_new();
  ParserOptions() = default;
  ParserOptions(const ParserOptions&) = delete;
  ParserOptions& operator=(const ParserOptions&) = delete;
  ~ParserOptions() { gmime().g_mime_parser_options_free(p); }
};

const char* warning_text(GMimeParserWarning code) {
  switch (code) {
    case GMIME_WARN_DUPLICATED_HEADER: return "duplicated header";
    case GMIME_WARN_DUPLICATED_PARAMETER: return "duplicated header parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER: return "unencoded 8-bit header";
    case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid Content-Type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "invalid RFC 2047 encoded word";
    case GMIME_WARN_MALFORMED_MULTIPART: return "multipart without parts";
    case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated message";
    case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
    case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
    case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting headers";
    case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting header parameters";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
    case GMIME_WARN_INVALID_PARAMETER: return "invalid header parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST: return "invalid address list";
    case GMIME_CRIT_NESTING_OVERFLOW: return "MIME parts nested too deeply";
    case GMIME_WARN_PART_WITHOUT_CONTENT: return "part without content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
  }
  return "MIME problem";
}

void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar* item, gpointer user_data) {
  auto* warnings = static_cast<std::vector<std::string>*>(user_data);
  if (!warnings || warnings->size() >= 64) return;  // a hostile message can warn per line
  std::string text = warning_text(code);
  if (item && *item) text += std::string(" (") + sanitize_utf8(std::string_view(item).substr(0, 80)) + ")";
  if (offset >= 0) text += " at byte " + std::to_string(offset);
  warnings->push_back(std::move(text));
}

bool is_blank(ByteView bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    const uint8_t c = bytes.u8(i);
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// Input GMime cannot read as a message (no header block at all): keep the
// bytes as the text of a message without headers.
NewMessage headerless_message(ByteView raw, const ImportOptions& options) {
  NewMessage out;
  const std::string_view bytes(reinterpret_cast<const char*>(raw.data()), raw.size());
  set_property(out.properties, string_value(prop::kMessageClass, "IPM.Note"));
  set_property(out.properties, string_value(prop::kSubject, ""));
  set_property(out.properties, string_value(prop::kBody, to_crlf(decode_charset(bytes, "", options.fallback_codepage))));
  set_property(out.properties, int32_value(prop::kMessageFlags, kMsgFlagRead));
  return out;
}

}  // namespace

Result<NewMessage> message_from_mime(ByteView rfc822, const ImportOptions& options,
                                     std::vector<std::string>* warnings) {
  if (is_blank(rfc822)) return Status::invalid_argument("empty message");
  if (rfc822.size() > G_MAXUINT) return Status::unsupported("message larger than 4 GiB");
  if (Status loaded = load_gmime(); !loaded) return loaded;

  ParserOptions parser_options;
  const char* fallback = codepage_charset_name(options.fallback_codepage);
  const char* charsets[] = {"UTF-8", fallback ? fallback : "windows-1252", nullptr};
  gmime().g_mime_parser_options_set_fallback_charsets(parser_options.p, charsets);
  gmime().g_mime_parser_options_set_warning_callback(parser_options.p, on_parser_warning, warnings);

  // The stream reads the caller's bytes in place: the array is borrowed
  // (the stream does not own it) and only the struct is freed afterwards.
  GByteArray* borrowed = gmime().g_byte_array_new_take(const_cast<uint8_t*>(rfc822.data()), rfc822.size());
  NewMessage result;
  bool parsed = false;
  {
    GRef<GMimeStream> stream(gmime().g_mime_stream_mem_new_with_byte_array(borrowed));
    gmime().g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream.get()), FALSE);
    GRef<GMimeParser> parser(gmime().g_mime_parser_new_with_stream(stream.get()));
    gmime().g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    GRef<GMimeMessage> message(gmime().g_mime_parser_construct_message(parser.get(), parser_options.p));
    if (message) {
      ConvertContext context;
      context.options = &options;
      context.warnings = warnings;
      context.parser_options = parser_options.p;
      result = convert_message(message.get(), context);
      parsed = true;
    }
  }
  gmime().g_byte_array_free(borrowed, FALSE);  // frees the struct, not our bytes
  if (!parsed) {
    if (warnings) warnings->push_back("no header fields: imported as a text message");
    return headerless_message(rfc822, options);
  }
  return result;
}

}  // namespace pstkit::mime
