#include "export/mime_text.h"

#include "export/item_text.h"
#include "util/byte_words.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

namespace pstkit::mime_text {
namespace {

constexpr size_t kFoldColumn = 78;         // RFC 5322 2.1.1: lines SHOULD be at most 78 characters
constexpr size_t kWordBytes = 39;          // UTF-8 bytes per encoded word: 52 base64 characters, a 64-character word
constexpr size_t kParameterSection = 60;   // characters of an RFC 2231 section's value
constexpr size_t kBase64LineBytes = 57;    // 76 characters a line (RFC 2045 6.8)
constexpr size_t kBase64LineChars = kBase64LineBytes / 3 * 4;
constexpr size_t kQuotedPrintableLine = 75;  // 76 with the soft line break's "=" (RFC 2045 6.7 rule 5)

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

// RFC 2047 encoded words, UTF-8 in B encoding, each whole characters,
// separated by spaces (which a reader drops between encoded words).
std::string encoded_words(std::string_view utf8) {
  std::string out;
  size_t pos = 0;
  while (pos < utf8.size()) {
    size_t end = std::min(utf8.size(), pos + kWordBytes);
    // Not inside a character: back up over continuation bytes.
    while (end < utf8.size() && end > pos + 1 && (static_cast<unsigned char>(utf8[end]) & 0xC0) == 0x80) --end;
    const size_t n = end - pos;
    if (!out.empty()) out += ' ';
    out += "=?utf-8?b?";
    const size_t at = out.size();
    out.resize(at + item_text::base64_length(n));
    item_text::base64_encode(out.data() + at, reinterpret_cast<const uint8_t*>(utf8.data() + pos), n);
    out += "?=";
    pos = end;
  }
  return out;
}

bool is_atext(unsigned char c) { return std::isalnum(c) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr; }

// RFC 2231 attribute-char: what an extended value keeps without %XX.
bool is_attribute_char(unsigned char c) { return std::isalnum(c) || std::strchr("!#$&+-.^_`|~", c) != nullptr; }

// RFC 2045 5.1 token character.
bool is_token_char(unsigned char c) {
  return c > 0x20 && c < 0x7f && std::strchr("()<>@,;:\\\"/[]?=", c) == nullptr;
}

// RFC 5322 3.2.4 / RFC 2045 5.1 quoted-string: '"' and '\\' escaped.
std::string quoted_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (is_control(static_cast<unsigned char>(c))) c = ' ';
  return out;
}

bool is_ascii(std::string_view s) { return byte_words::all_seven_bit(s.data(), s.size()); }

void Output::header(std::string_view name, std::string_view value) {
  put(name);
  put(": ");
  size_t column = name.size() + 2;
  size_t i = 0;
  bool first = true;
  // Each piece is a run of white space and the word after it; a line is
  // folded before the white space of a piece that would pass the column.
  while (i < value.size()) {
    size_t word = i;
    while (word < value.size() && (value[word] == ' ' || value[word] == '\t')) ++word;
    size_t end = word;
    while (end < value.size() && value[end] != ' ' && value[end] != '\t') ++end;
    const std::string_view piece = value.substr(i, end - i);
    if (!first && word > i && end > word && column + piece.size() > kFoldColumn) {
      newline();
      column = 0;
    }
    put(piece);
    column += piece.size();
    first = false;
    i = end;
  }
  newline();
}

std::string header_text(std::string_view utf8) {
  std::string clean = one_line(utf8);
  if (is_ascii(clean) && clean.find("=?") == std::string::npos) return clean;
  return encoded_words(clean);
}

std::string phrase(std::string_view utf8) {
  std::string clean = one_line(utf8);
  if (!is_ascii(clean) || clean.find("=?") != std::string::npos) return encoded_words(clean);
  const bool atoms = std::all_of(clean.begin(), clean.end(),
                                 [](char c) { return c == ' ' || is_atext(static_cast<unsigned char>(c)); });
  if (atoms && !clean.empty()) return clean;
  return quoted_string(clean);
}

std::string parameter(std::string_view name, std::string_view value) {
  const bool plain = value.size() <= kParameterSection &&
                     std::none_of(value.begin(), value.end(), [](char c) {
                       const auto u = static_cast<unsigned char>(c);
                       return u >= 0x80 || is_control(u) || c == '\t';
                     });
  std::string out = "; ";
  out += name;
  if (plain) {
    const bool token = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
      return is_token_char(static_cast<unsigned char>(c));
    });
    out += '=';
    if (token) return out += value;
    return out += quoted_string(value);
  }
  // RFC 2231 3, 4: utf-8''%XX..., in numbered sections when long; a section
  // never splits a %XX.
  static const char* hex = "0123456789ABCDEF";
  std::vector<std::string> sections(1);
  for (unsigned char c : value) {
    std::string code = is_attribute_char(c) ? std::string(1, char(c)) : std::string{'%', hex[c >> 4], hex[c & 15]};
    // A reader decodes each section by itself: one never starts inside a
    // UTF-8 sequence.
    const bool continuation = (c & 0xC0) == 0x80;
    if (!continuation && sections.back().size() + code.size() > kParameterSection) sections.emplace_back();
    sections.back() += code;
  }
  if (sections.size() == 1) return out + "*=utf-8''" + sections[0];
  out.clear();
  for (size_t i = 0; i < sections.size(); ++i) {
    out += "; ";
    out += name;
    out += '*' + std::to_string(i) + "*=";
    if (i == 0) out += "utf-8''";
    out += sections[i];
  }
  return out;
}

std::string rfc5322_date(int64_t unix_seconds) {
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  if (!gmtime_r(&t, &tm)) return {};
  const int year = tm.tm_year + 1900;
  if (year < 0 || year > 9999) {
    char text[64];
    std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
                  months[tm.tm_mon % 12], year, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return text;
  }
  // Written digit by digit: snprintf was a tenth of the headers' time.
  std::string out = "Ddd, 00 Mmm 0000 00:00:00 +0000";
  auto two = [&](size_t at, int v) {
    out[at] = char('0' + v / 10 % 10);
    out[at + 1] = char('0' + v % 10);
  };
  out.replace(0, 3, days[tm.tm_wday % 7]);
  two(5, tm.tm_mday);
  out.replace(8, 3, months[tm.tm_mon % 12]);
  two(12, year / 100);
  two(14, year % 100);
  two(17, tm.tm_hour);
  two(20, tm.tm_min);
  two(23, tm.tm_sec);
  return out;
}

TransferEncoding text_encoding(std::string_view content) {
  size_t escaped = 0, line = 0, longest = 0;
  bool nul = false, lone_cr = false;
  // Past this many bytes to escape the answer is base64 whatever follows:
  // binary content is decided on its first part, not read to the end.
  const size_t escape_limit = content.size() / 6;
  const char* p = content.data();
  const size_t n = content.size();
  size_t i = 0;
  while (i < n && escaped <= escape_limit) {
    // Eight bytes of 7-bit text without NUL, CR or LF only lengthen the line.
    if (n - i >= 8) {
      const uint64_t v = byte_words::load(p + i);
      if (!byte_words::has_high_byte(v) && !byte_words::has_zero_byte(v) && !byte_words::has_byte(v, '\n') &&
          !byte_words::has_byte(v, '\r')) {
        line += 8;
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == '\n') {
      longest = std::max(longest, line);
      line = 0;
    } else if (c == '\r') {
      if (i + 1 >= n || p[i + 1] != '\n') {
        lone_cr = true;
        ++escaped;
      }
    } else {
      ++line;
      if (c >= 0x80) {
        ++escaped;
      } else if (c == 0) {
        nul = true;
        ++escaped;
      }
    }
    ++i;
  }
  longest = std::max(longest, line);
  if (escaped == 0 && !nul && !lone_cr && longest <= 998) return TransferEncoding::k7Bit;
  return escaped <= content.size() / 6 ? TransferEncoding::kQuotedPrintable : TransferEncoding::kBase64;
}

const char* encoding_name(TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7Bit: return "7bit";
    case TransferEncoding::kQuotedPrintable: return "quoted-printable";
    case TransferEncoding::kBase64: return "base64";
  }
  return "7bit";
}

void write_encoded(Output& out, std::string_view content, TransferEncoding encoding) {
  Bytes& bytes = out.bytes();
  const std::string_view newline = out.newline_text();
  switch (encoding) {
    case TransferEncoding::k7Bit: {
      bytes.reserve(bytes.size() + content.size() + content.size() / 32);
      // Line ends that already are the output's stay in the span copied
      // whole; the others end a span and are written as the output's.
      const bool crlf_out = newline == "\r\n";
      size_t pos = 0, span = 0;
      while (pos < content.size()) {
        const void* found = std::memchr(content.data() + pos, '\n', content.size() - pos);
        if (!found) break;
        const size_t end = static_cast<const char*>(found) - content.data();
        const bool crlf = end > pos && content[end - 1] == '\r';
        pos = end + 1;
        if (crlf == crlf_out) continue;
        out.put(content.substr(span, (crlf ? end - 1 : end) - span));
        out.newline();
        span = pos;
      }
      out.put(content.substr(span));
      return;
    }
    case TransferEncoding::kQuotedPrintable: {
      static const char* hex = "0123456789ABCDEF";
      bytes.reserve(bytes.size() + content.size() + content.size() / 4);
      const size_t n = content.size();
      auto line_end_at = [&](size_t i) {
        return i >= n || content[i] == '\n' || (content[i] == '\r' && i + 1 < n && content[i + 1] == '\n');
      };
      size_t column = 0;
      for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(content[i]);
        if (c == '\r' && i + 1 < n && content[i + 1] == '\n') continue;  // the '\n' writes the line end
        if (c == '\n') {
          out.newline();
          column = 0;
          continue;
        }
        // RFC 2045 6.7 rules 2 and 3: printable ASCII but "=" as it is,
        // white space too unless a line ends after it.
        const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_end_at(i + 1));
        const size_t width = literal ? 1 : 3;
        if (column + width > kQuotedPrintableLine) {
          out.put('=');
          out.newline();
          column = 0;
        }
        if (literal) {
          out.put(char(c));
        } else {
          const char code[3] = {'=', hex[c >> 4], hex[c & 15]};
          out.put(std::string_view(code, 3));
        }
        column += width;
      }
      return;
    }
    case TransferEncoding::kBase64: {
      const size_t lines = (content.size() + kBase64LineBytes - 1) / kBase64LineBytes;
      const size_t encoded = item_text::base64_length(content.size());
      const size_t size = encoded + lines * newline.size();
      const size_t at = bytes.size();
      bytes.resize(at + size);
      // Encoded in one pass at the end of the space, then each line moved
      // forward to its place and its line end written: line k moves from
      // lines * newline + 76k to (76 + newline) * k, so neither its move
      // nor its line end reaches bytes not yet moved (76 characters a line).
      char* out_text = reinterpret_cast<char*>(bytes.data() + at);
      const char* in_text = out_text + lines * newline.size();
      item_text::base64_encode(out_text + lines * newline.size(), reinterpret_cast<const uint8_t*>(content.data()),
                               content.size());
      for (size_t line = 0; line < lines; ++line) {
        const size_t len = std::min(kBase64LineChars, encoded - kBase64LineChars * line);
        std::memmove(out_text, in_text + kBase64LineChars * line, len);
        std::memcpy(out_text + len, newline.data(), newline.size());
        out_text += len + newline.size();
      }
      return;
    }
  }
}

}  // namespace pstkit::mime_text
