// RTF → HTML / text: [MS-OXRTFEX] de-encapsulation, else a simple
// rendering. The tokenizer follows the RTF 1.9 syntax: groups, control
// words with an optional numeric parameter and one delimiting space,
// control symbols, \'hh bytes and \uN characters with \ucN fallbacks.
#include "pstkit/rtf_html.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/codepage.h"
#include "pstkit/utf.h"

namespace pstkit::rtf {
namespace {

constexpr size_t kMaxOutput = size_t{64} << 20;  // like the decompressor's cap
constexpr size_t kMaxDepth = 4096;              // deeper groups are read flat

// RTF \fcharset values → Windows code pages ([MSFT-RTF] \fcharset).
uint32_t codepage_of_charset(int charset) {
  switch (charset) {
    case 0: return 1252;
    case 2: return 0;  // symbol: bytes are glyph indexes, taken as Latin-1
    case 77: return 10000;
    case 128: return 932;
    case 129: return 949;
    case 130: return 1361;
    case 134: return 936;
    case 136: return 950;
    case 161: return 1253;
    case 162: return 1254;
    case 163: return 1258;
    case 177: return 1255;
    case 178: return 1256;
    case 186: return 1257;
    case 204: return 1251;
    case 222: return 874;
    case 238: return 1250;
    case 254: return 437;
    default: return 1252;
  }
}

// Destinations whose text is not part of the body.
bool skipped_destination(std::string_view word) {
  static const char* const kSkipped[] = {
      "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "header", "headerl", "headerr", "headerf",
      "footer", "footerl", "footerr", "footerf", "footnote", "fldinst", "themedata", "datastore", "xmlnstbl",
      "listtable", "listoverridetable", "rsidtbl", "generator", "latentstyles", "pgdsctbl", "filetbl", "revtbl",
      "userprops", "nonshppict", "shppict", "mhtmltag", "bkmkstart", "bkmkend", "field_inst", "template",
      "comment", "annotation", "atnid", "atnauthor", "colorschememapping", "passwordhash", "wgrffmtfilter"};
  return std::any_of(std::begin(kSkipped), std::end(kSkipped), [&](const char* s) { return word == s; });
}

struct Format {
  bool bold = false, italic = false, underline = false;
  bool operator==(const Format&) const = default;
};

struct GroupState {
  bool skip = false;        // a destination whose text is not the body's
  bool htmlrtf = false;     // \htmlrtf: RTF-only text of an encapsulated document
  bool htmltag = false;     // inside {\*\htmltag ...}: HTML to copy
  bool in_fonttbl = false;  // inside the font table: \fN defines a font
  int font = -1;
  int uc = 1;               // \ucN: fallback characters after \uN
  Format format;
};

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

class Converter {
 public:
  Converter(std::string_view rtf, uint32_t default_codepage) : in_(rtf), default_codepage_(default_codepage) {}

  RtfBody run() {
    stack_.push_back(GroupState{});
    size_t i = 0;
    while (i < in_.size() && out_size() < kMaxOutput) {
      const char c = in_[i];
      if (c == '{') {
        flush();
        if (stack_.size() < kMaxDepth) stack_.push_back(stack_.back());
        group_start_ = true;
        ++i;
        continue;
      }
      if (c == '}') {
        flush();
        if (stack_.size() > 1) stack_.pop_back();
        group_start_ = false;
        ++i;
        continue;
      }
      if (c == '\\') {
        i = control(i + 1);
        continue;
      }
      if (c == '\r' || c == '\n') {
        ++i;
        continue;
      }
      group_start_ = false;
      text_byte(static_cast<uint8_t>(c));
      ++i;
    }
    flush();
    return finish();
  }

 private:
  std::string_view in_;
  uint32_t default_codepage_;
  uint32_t document_codepage_ = 0;
  std::map<int, uint32_t> font_codepage_;
  std::vector<GroupState> stack_;
  bool group_start_ = false;  // the last token opened a group
  bool star_ = false;         // \* seen at the start of this group
  int skip_fallback_ = 0;     // characters still to skip after \uN
  RtfOrigin origin_ = RtfOrigin::kRtf;
  bool origin_fixed_ = false;  // \fromhtml/\fromtext are only read in the header
  Bytes pending_;              // 8-bit text not yet decoded
  uint32_t pending_codepage_ = 0;
  std::string html_;           // the encapsulated HTML or the rendering
  std::string text_;           // plain text
  Format open_;                // tags open in the rendering
  uint32_t high_surrogate_ = 0;  // the first half of a \u surrogate pair

  GroupState& state() { return stack_.back(); }
  size_t out_size() const { return html_.size() + text_.size(); }

  uint32_t codepage_now() {
    const GroupState& s = stack_.back();
    if (s.font >= 0 && !s.in_fonttbl) {
      auto it = font_codepage_.find(s.font);
      if (it != font_codepage_.end()) return it->second;
    }
    return document_codepage_ ? document_codepage_ : default_codepage_;
  }

  bool copying() const {
    const GroupState& s = stack_.back();
    if (s.skip) return false;
    if (origin_ == RtfOrigin::kRtf) return true;
    return s.htmltag || !s.htmlrtf;
  }

  void text_byte(uint8_t b) {
    if (skip_fallback_ > 0) {
      --skip_fallback_;
      return;
    }
    if (!copying()) return;
    const uint32_t cp = codepage_now();
    if (!pending_.empty() && cp != pending_codepage_) flush();
    pending_codepage_ = cp;
    pending_.push_back(b);
  }

  void flush() {
    if (pending_.empty()) return;
    std::string utf8;
    if (pending_codepage_ == 0) {
      for (uint8_t b : pending_) utf8 += encode_utf8(b);  // symbol fonts: Latin-1
    } else {
      utf8 = decode_codepage(ByteView(pending_.data(), pending_.size()), pending_codepage_);
    }
    pending_.clear();
    emit(utf8);
  }

  static std::string encode_utf8(uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
      s += char(cp);
    } else if (cp < 0x800) {
      s += char(0xC0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += char(0xE0 | (cp >> 12));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    } else {
      s += char(0xF0 | (cp >> 18));
      s += char(0x80 | ((cp >> 12) & 0x3F));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    }
    return s;
  }

  // Text (UTF-8) into the outputs.
  void emit(std::string_view utf8) {
    if (utf8.empty()) return;
    switch (origin_) {
      case RtfOrigin::kHtml: html_ += utf8; break;
      case RtfOrigin::kText: text_ += utf8; break;
      case RtfOrigin::kRtf:
        text_ += utf8;
        retag();
        html_ += escape_html(utf8);
        break;
    }
  }

  // A break (\par, \line): CRLF in encapsulated documents, <br> in a rendering.
  void emit_break(bool paragraph) {
    flush();
    if (!copying()) return;
    if (origin_ == RtfOrigin::kRtf) {
      text_ += "\r\n";
      html_ += paragraph ? "<br>\r\n" : "<br>";
    } else {
      emit("\r\n");
    }
  }

  void emit_char(uint32_t cp) {
    flush();
    if (copying()) emit(encode_utf8(cp));
  }

  // Opens and closes <b>, <i>, <u> so the rendering matches the state.
  void retag() {
    const Format want = stack_.back().format;
    if (want == open_) return;
    if (open_.underline) html_ += "</u>";
    if (open_.italic) html_ += "</i>";
    if (open_.bold) html_ += "</b>";
    if (want.bold) html_ += "<b>";
    if (want.italic) html_ += "<i>";
    if (want.underline) html_ += "<u>";
    open_ = want;
  }

  // Reads a control word or symbol starting after the backslash at i-1;
  // returns where the next token starts.
  size_t control(size_t i) {
    if (i >= in_.size()) return i;
    const char c = in_[i];
    const bool at_group_start = group_start_;
    group_start_ = false;
    if (c == '\'') {
      // \'hh: one byte of 8-bit text.
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      const int hi = i + 1 < in_.size() ? hex(in_[i + 1]) : -1;
      const int lo = i + 2 < in_.size() ? hex(in_[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        text_byte(uint8_t(hi * 16 + lo));
        return i + 3;
      }
      return hi >= 0 ? i + 2 : i + 1;  // a damaged escape: its digits are not text
    }
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      // Control symbols.
      switch (c) {
        case '\\':
        case '{':
        case '}':
          text_byte(uint8_t(c));
          break;
        case '~': emit_char(0xA0); break;
        case '_': emit_char(0x2011); break;
        case '*':
          if (at_group_start) {
            star_ = true;
            group_start_ = true;  // the destination word follows
          }
          break;
        case '\r':
        case '\n':
          emit_break(true);
          break;
        default: break;  // \- (optional hyphen), \| ...
      }
      return i + 1;
    }
    size_t j = i;
    while (j < in_.size() && j - i < 32 && std::isalpha(static_cast<unsigned char>(in_[j]))) ++j;
    const std::string_view word = in_.substr(i, j - i);
    bool has_param = false;
    long param = 0;
    bool negative = false;
    if (j < in_.size() && in_[j] == '-' && j + 1 < in_.size() && std::isdigit(static_cast<unsigned char>(in_[j + 1]))) {
      negative = true;
      ++j;
    }
    size_t digits = 0;
    while (j < in_.size() && std::isdigit(static_cast<unsigned char>(in_[j])) && digits < 10) {
      param = param * 10 + (in_[j] - '0');
      ++j;
      ++digits;
      has_param = true;
    }
    if (negative) param = -param;
    if (j < in_.size() && in_[j] == ' ') ++j;  // the delimiting space belongs to the word
    const bool star = star_;
    star_ = false;
    control_word(word, has_param, param, at_group_start, star);
    return j;
  }

  void control_word(std::string_view w, bool has_param, long param, bool at_group_start, bool star) {
    GroupState& s = state();
    // Destinations: a word opening a group.
    if (at_group_start) {
      if (w == "htmltag") {
        flush();
        s.htmltag = true;
        s.skip = false;
        return;
      }
      if (w == "fonttbl") {
        flush();
        s.in_fonttbl = true;
        s.skip = true;
        return;
      }
      if (skipped_destination(w) || star) {
        flush();
        s.skip = true;
        return;
      }
    }
    if (s.in_fonttbl) {
      // {\f1\fswiss\fcharset0 Arial;} defines font 1's code page.
      if (w == "f" && has_param) s.font = int(param), font_codepage_.try_emplace(int(param), 0);
      if (w == "fcharset" && has_param && s.font >= 0) font_codepage_[s.font] = codepage_of_charset(int(param));
      if (w == "cpg" && has_param && s.font >= 0) font_codepage_[s.font] = uint32_t(param);
      return;
    }
    // Control words that produce text: these count as one fallback
    // character after \uN.
    if (skip_fallback_ > 0 && (w == "par" || w == "line" || w == "tab" || w == "emdash" || w == "endash" ||
                               w == "lquote" || w == "rquote" || w == "ldblquote" || w == "rdblquote" ||
                               w == "bullet")) {
      --skip_fallback_;
      return;
    }
    if (w == "par" || w == "sect" || w == "row") return emit_break(true);
    if (w == "line") return emit_break(false);
    if (w == "tab" || w == "cell") return emit_char('\t');
    if (w == "emdash") return emit_char(0x2014);
    if (w == "endash") return emit_char(0x2013);
    if (w == "lquote") return emit_char(0x2018);
    if (w == "rquote") return emit_char(0x2019);
    if (w == "ldblquote") return emit_char(0x201C);
    if (w == "rdblquote") return emit_char(0x201D);
    if (w == "bullet") return emit_char(0x2022);
    if (w == "u" && has_param) {
      long cp = param < 0 ? param + 65536 : param;
      if (cp < 0 || cp > 0xFFFF) cp = 0xFFFD;
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        // A surrogate pair arrives as two \u words.
        if (cp <= 0xDBFF) {
          high_surrogate_ = uint32_t(cp);
        } else if (high_surrogate_) {
          emit_char(0x10000 + ((high_surrogate_ - 0xD800) << 10) + (uint32_t(cp) - 0xDC00));
          high_surrogate_ = 0;
        }
      } else {
        emit_char(uint32_t(cp));
      }
      skip_fallback_ = s.uc;
      return;
    }
    if (w == "uc" && has_param) {
      s.uc = int(std::clamp(param, 0L, 16L));
      return;
    }
    flush();
    if (w == "ansicpg" && has_param && param > 0) document_codepage_ = uint32_t(param);
    else if (w == "f" && has_param) s.font = int(param);
    else if (w == "fromhtml" && !origin_fixed_) origin_ = RtfOrigin::kHtml, origin_fixed_ = true;
    else if (w == "fromtext" && !origin_fixed_) origin_ = RtfOrigin::kText, origin_fixed_ = true;
    else if (w == "htmlrtf") s.htmlrtf = !has_param || param != 0;
    else if (w == "b") s.format.bold = !has_param || param != 0;
    else if (w == "i") s.format.italic = !has_param || param != 0;
    else if (w == "ul") s.format.underline = !has_param || param != 0;
    else if (w == "ulnone") s.format.underline = false;
    else if (w == "plain") s.format = Format{};
  }

  RtfBody finish() {
    RtfBody body;
    body.origin = origin_;
    switch (origin_) {
      case RtfOrigin::kHtml:
        body.html = std::move(html_);
        break;
      case RtfOrigin::kText:
        body.html = "<html><body><pre>" + escape_html(text_) + "</pre></body></html>\r\n";
        body.text = std::move(text_);
        break;
      case RtfOrigin::kRtf: {
        const Format none{};
        stack_.back().format = none;
        retag();
        body.html = "<html><head><meta charset=\"utf-8\"></head><body>\r\n" + html_ + "\r\n</body></html>\r\n";
        body.text = std::move(text_);
        break;
      }
    }
    if (!is_valid_utf8(body.html)) body.html = sanitize_utf8(body.html);
    if (!is_valid_utf8(body.text)) body.text = sanitize_utf8(body.text);
    return body;
  }
};

}  // namespace

Result<RtfBody> rtf_to_html(std::string_view rtf, uint32_t default_codepage) {
  size_t start = 0;
  while (start < rtf.size() && (rtf[start] == ' ' || rtf[start] == '\r' || rtf[start] == '\n' || rtf[start] == '\t'))
    ++start;
  if (rtf.substr(start, 5) != "{\\rtf") return Status::corrupt("RTF body", 0, "does not start with {\\rtf");
  Converter converter(rtf.substr(start), default_codepage ? default_codepage : 1252);
  return converter.run();
}

}  // namespace pstkit::rtf
