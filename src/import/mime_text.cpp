// Text handling for MIME import.
#include "import/mime_text.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "import/gmime_api.h"
#include "pstkit/codepage.h"
#include "pstkit/utf.h"

namespace pstkit::mime {

namespace {

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::string trim_charset(std::string_view charset) {
  std::string out;
  for (char c : charset) {
    if (c == '"' || c == '\'' || std::isspace(static_cast<unsigned char>(c))) continue;
    out.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Labels that say nothing about the bytes.
bool is_unlabelled(const std::string& cs) {
  return cs.empty() || cs == "us-ascii" || cs == "ascii" || cs == "unknown-8bit" || cs == "x-unknown" ||
         cs == "unknown" || cs == "default" || cs == "8bit" || cs == "x-user-defined";
}

// iconv through GLib for charsets the code page table lacks. nullopt-like
// empty result with ok=false when iconv refuses the charset or the bytes.
bool iconv_to_utf8(std::string_view bytes, const std::string& charset, std::string* out) {
  if (!load_gmime()) return false;  // reached without a parsed message (decode_charset)
  gsize read = 0, written = 0;
  GError* error = nullptr;
  gchar* converted = gmime().g_convert(bytes.data(), gssize(bytes.size()), "UTF-8", charset.c_str(), &read, &written, &error);
  if (error) gmime().g_error_free(error);
  if (!converted) return false;
  out->assign(converted, written);
  gmime().g_free(converted);
  return read == bytes.size();
}

uint32_t decode_code_point(std::string_view s, size_t* i) {
  const auto c = static_cast<unsigned char>(s[*i]);
  int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
  uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
  ++*i;
  for (int k = 0; k < extra && *i < s.size(); ++k, ++*i) cp = (cp << 6) | (static_cast<unsigned char>(s[*i]) & 0x3F);
  return cp;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string decode_charset(std::string_view bytes, std::string_view charset, uint32_t fallback_codepage,
                           uint32_t* codepage, bool* used_fallback) {
  uint32_t cp_dummy = 0;
  bool fb_dummy = false;
  if (!codepage) codepage = &cp_dummy;
  if (!used_fallback) used_fallback = &fb_dummy;
  *used_fallback = false;
  const std::string cs = trim_charset(charset);
  const bool eight_bit = has_8bit(bytes);
  auto fallback = [&]() {
    *used_fallback = true;
    *codepage = fallback_codepage;
    return decode_codepage(bytes, fallback_codepage);
  };
  if (is_unlabelled(cs)) {
    if (!eight_bit) {
      *codepage = cs.empty() ? kCodepageUtf8 : 20127;
      return std::string(bytes);
    }
    if (is_valid_utf8(bytes)) {
      *codepage = kCodepageUtf8;
      return std::string(bytes);
    }
    return fallback();
  }
  if (auto cp = codepage_from_charset(cs); cp && is_known_codepage(*cp)) {
    if (*cp == kCodepageUtf8 && !is_valid_utf8(bytes)) return fallback();
    *codepage = *cp;
    return decode_codepage(bytes, *cp);
  }
  std::string converted;
  if (iconv_to_utf8(bytes, cs, &converted)) {
    *codepage = kCodepageUtf8;  // the stored text is UTF-8 from here on
    return sanitize_utf8(converted);
  }
  if (!eight_bit) {
    *codepage = 20127;
    return std::string(bytes);
  }
  return fallback();
}

std::string decode_8bit_header(std::string_view bytes, uint32_t fallback_codepage) {
  if (!has_8bit(bytes) || is_valid_utf8(bytes)) return std::string(bytes);
  return decode_codepage(bytes, fallback_codepage);
}

SplitSubject split_subject(std::string_view subject) {
  SplitSubject out;
  // Count up to three code points before the colon.
  size_t i = 0;
  int chars = 0;
  while (i < subject.size() && chars <= 3) {
    const size_t start = i;
    const uint32_t cp = decode_code_point(subject, &i);
    if (cp == ':') {
      if (chars == 0) break;
      size_t rest = i;
      while (rest < subject.size() && subject[rest] == ' ') ++rest;
      out.prefix = std::string(subject.substr(0, start)) + ": ";
      out.normalized = std::string(subject.substr(rest));
      return out;
    }
    if (cp == ' ' || (cp >= '0' && cp <= '9')) break;
    ++chars;
  }
  out.normalized = std::string(subject);
  return out;
}

std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string unfold(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

namespace {

// Named entities common in mail HTML; others are kept as written.
const struct {
  const char* name;
  char32_t cp;
} kEntities[] = {{"amp", '&'},     {"lt", '<'},       {"gt", '>'},       {"quot", '"'},    {"apos", '\''},
                 {"nbsp", 0xA0},   {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"hellip", 0x2026},
                 {"mdash", 0x2014}, {"ndash", 0x2013}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
                 {"rdquo", 0x201D}, {"bull", 0x2022},  {"euro", 0x20AC},  {"laquo", 0xAB},   {"raquo", 0xBB},
                 {"middot", 0xB7}, {"deg", 0xB0},     {"eacute", 0xE9},  {"egrave", 0xE8},  {"agrave", 0xE0},
                 {"uuml", 0xFC},   {"ouml", 0xF6},    {"auml", 0xE4},    {"szlig", 0xDF},   {"ccedil", 0xE7}};

bool is_block_tag(std::string_view name) {
  static const char* const kBlocks[] = {"p",  "div", "br", "tr", "li", "h1", "h2",         "h3",   "h4",
                                        "h5", "h6",  "ul", "ol", "table", "blockquote", "hr", "pre", "title"};
  for (const char* b : kBlocks) {
    if (iequals(name, b)) return true;
  }
  return false;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size() / 2);
  size_t i = 0;
  bool pending_space = false;
  auto newline = [&]() {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    // At most one blank line in a row.
    if (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0) return;
    if (!out.empty()) out += "\r\n";
    pending_space = false;
  };
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (html.substr(i, 4) == "<!--") {
        const size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      const size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      std::string_view tag = html.substr(i + 1, close - i - 1);
      i = close + 1;
      const bool closing = !tag.empty() && tag[0] == '/';
      if (closing) tag.remove_prefix(1);
      size_t n = 0;
      while (n < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[n])))) ++n;
      const std::string_view name = tag.substr(0, n);
      if (!closing && (iequals(name, "script") || iequals(name, "style") || iequals(name, "head"))) {
        // Skip to the matching end tag.
        const std::string end_tag = "</" + to_lower(name);
        size_t j = i;
        while (j < html.size()) {
          const size_t lt = html.find("</", j);
          if (lt == std::string_view::npos) {
            j = html.size();
            break;
          }
          if (istarts_with(html.substr(lt), end_tag)) {
            const size_t gt = html.find('>', lt);
            j = gt == std::string_view::npos ? html.size() : gt + 1;
            break;
          }
          j = lt + 2;
        }
        i = j;
        continue;
      }
      if (is_block_tag(name)) {
        newline();
      } else if (iequals(name, "td") || iequals(name, "th")) {
        pending_space = true;
      }
      continue;
    }
    if (c == '&') {
      const size_t semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const std::string_view ent = html.substr(i + 1, semi - i - 1);
        char32_t cp = 0;
        if (!ent.empty() && ent[0] == '#') {
          const bool hexa = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
          const std::string digits(ent.substr(hexa ? 2 : 1));
          char* end = nullptr;
          const unsigned long v = std::strtoul(digits.c_str(), &end, hexa ? 16 : 10);
          if (!digits.empty() && end && *end == '\0') cp = v > 0x10FFFF ? kReplacementChar : char32_t(v);
        } else {
          for (const auto& e : kEntities) {
            if (ent == e.name) cp = e.cp;
          }
        }
        if (cp != 0) {
          if (pending_space) out.push_back(' ');
          pending_space = false;
          append_utf8(out, cp == 0xA0 ? ' ' : cp);
          i = semi + 1;
          continue;
        }
      }
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!out.empty() && out.back() != '\n') pending_space = true;
      ++i;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
    ++i;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return sanitize_utf8(out);
}

}  // namespace pstkit::mime

namespace pstkit::mime {
namespace {

// One RFC 2047 encoded word, "=?charset?B|Q?text?=", starting at s[pos].
struct EncodedWord {
  size_t end = 0;  // one past "?="
  std::string_view charset;
  char encoding = 0;  // 'B' or 'Q'
  std::string_view text;
};

std::optional<EncodedWord> encoded_word_at(std::string_view s, size_t pos) {
  if (s.substr(pos, 2) != "=?") return std::nullopt;
  const size_t charset_end = s.find('?', pos + 2);
  if (charset_end == std::string_view::npos || charset_end == pos + 2 || charset_end + 2 >= s.size() ||
      s[charset_end + 2] != '?')
    return std::nullopt;
  EncodedWord w;
  w.charset = s.substr(pos + 2, charset_end - pos - 2);
  w.encoding = char(std::toupper(static_cast<unsigned char>(s[charset_end + 1])));
  if (w.encoding != 'B' && w.encoding != 'Q') return std::nullopt;
  const size_t text_start = charset_end + 3;
  const size_t text_end = s.find("?=", text_start);
  if (text_end == std::string_view::npos) return std::nullopt;
  w.text = s.substr(text_start, text_end - text_start);
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  if (std::any_of(w.charset.begin(), w.charset.end(), blank) || std::any_of(w.text.begin(), w.text.end(), blank))
    return std::nullopt;
  w.end = text_end + 2;
  return w;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The word's bytes: base64 read leniently (padding and stray characters
// skipped), or RFC 2047 4.2 Q ('_' is a space, "=XX" a byte).
void append_decoded(const EncodedWord& w, std::string& out) {
  if (w.encoding == 'Q') {
    for (size_t i = 0; i < w.text.size(); ++i) {
      const char c = w.text[i];
      if (c == '_') {
        out.push_back(' ');
      } else if (c == '=' && i + 2 < w.text.size() && hex_digit(w.text[i + 1]) >= 0 && hex_digit(w.text[i + 2]) >= 0) {
        out.push_back(char(hex_digit(w.text[i + 1]) * 16 + hex_digit(w.text[i + 2])));
        i += 2;
      } else {
        out.push_back(c);
      }
    }
    return;
  }
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : w.text) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0) continue;
    bits = (bits << 6) | uint32_t(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(char((bits >> nbits) & 0xFF));
    }
  }
}

}  // namespace

std::optional<std::string> merge_encoded_word_runs(std::string_view raw) {
  std::string out;
  bool merged_any = false;
  size_t copied = 0;  // raw[copied, pos) is not yet in out
  size_t pos = raw.find("=?");
  while (pos != std::string_view::npos) {
    auto first = encoded_word_at(raw, pos);
    if (!first) {
      pos = raw.find("=?", pos + 1);
      continue;
    }
    // Extend the run over words in the same charset with only folding
    // white space between them.
    std::vector<EncodedWord> run{*first};
    size_t next = first->end;
    while (true) {
      size_t k = next;
      while (k < raw.size() && (raw[k] == ' ' || raw[k] == '\t' || raw[k] == '\r' || raw[k] == '\n')) ++k;
      auto w = encoded_word_at(raw, k);
      if (!w || !iequals(w->charset, run.front().charset)) break;
      run.push_back(*w);
      next = w->end;
    }
    if (run.size() >= 2) {
      std::string bytes;
      for (const EncodedWord& w : run) append_decoded(w, bytes);
      gchar* b64 = gmime().g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
      out.append(raw.substr(copied, pos - copied));
      out += "=?";
      out += run.front().charset;
      out += "?B?";
      out += b64;
      out += "?=";
      gmime().g_free(b64);
      copied = next;
      merged_any = true;
    }
    pos = raw.find("=?", next);
  }
  if (!merged_any) return std::nullopt;
  out.append(raw.substr(copied));
  return out;
}

}  // namespace pstkit::mime
