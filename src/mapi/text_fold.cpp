#include "mapi/text_fold.h"

#include <locale.h>
#include <wctype.h>

#include "pstkit/utf.h"

namespace pstkit::mapi {
namespace {

// The base letter of each precomposed letter U+00C0..U+024F whose canonical
// decomposition is an ASCII letter followed by combining marks ('.' where
// there is none). Generated from Python's unicodedata (NFD) for this range.
constexpr std::string_view kLatinBase =
    "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y"
    "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl."
    "...NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZz."
    "................................Oo.............Uu..............."
    ".............AaIiOoUuUuUuUuUu.AaAa....GgKkOoOo..j...Gg..NnAa...."
    "AaAaEeEeIiIiOoOoRrRrUuUuSsTt..Hh......AaEeOoOoOoOoYy............"
    "................";
constexpr char32_t kLatinBaseFirst = 0xC0;

// Combining marks (general category Mn) of the blocks made of them.
bool is_combining_mark(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
         (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F);
}

// glibc's C.UTF-8 locale holds Unicode's simple case mappings; towlower_l
// with it does not depend on the process's locale.
locale_t utf8_locale() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t(0));
  return loc;
}

char32_t lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  locale_t loc = utf8_locale();
  if (loc == locale_t(0)) return c;
  return char32_t(towlower_l(wint_t(c), loc));
}

}  // namespace

char32_t FoldedText::decode() {
  const auto byte = [&](size_t i) { return uint8_t(text_[i]); };
  uint8_t b0 = byte(pos_);
  if (!utf8_ || b0 < 0x80) {
    ++pos_;
    return b0;
  }
  size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 0;
  if (len == 0 || b0 > 0xF4 || pos_ + len > text_.size()) {
    ++pos_;
    return 0xFFFD;
  }
  char32_t cp = b0 & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    uint8_t b = byte(pos_ + i);
    if ((b & 0xC0) != 0x80) {
      ++pos_;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++pos_;
    return 0xFFFD;
  }
  pos_ += len;
  return cp;
}

bool FoldedText::next(char32_t& out) {
  while (pos_ < text_.size()) {
    char32_t c = decode();
    if (fold_ & kFoldNonSpace) {
      if (utf8_ && is_combining_mark(c)) continue;
      if (utf8_ && c >= kLatinBaseFirst && c - kLatinBaseFirst < kLatinBase.size() &&
          kLatinBase[c - kLatinBaseFirst] != '.') {
        c = char32_t(kLatinBase[c - kLatinBaseFirst]);
      }
    }
    if (fold_ & kFoldCase) c = utf8_ ? lower(c) : ((c >= 'A' && c <= 'Z') ? c + 32 : c);
    out = c;
    return true;
  }
  return false;
}

int compare_folded(std::string_view a, std::string_view b, bool utf8, uint32_t fold) {
  FoldedText ta(a, utf8, fold), tb(b, utf8, fold);
  for (;;) {
    char32_t ca = 0, cb = 0;
    bool ha = ta.next(ca), hb = tb.next(cb);
    if (!ha || !hb) return ha ? 1 : hb ? -1 : 0;
    if (ca != cb) return ca < cb ? -1 : 1;
  }
}

std::string fold_to_utf8(std::string_view text, bool utf8, uint32_t fold) {
  std::string out;
  out.reserve(text.size());
  FoldedText t(text, utf8, fold);
  char32_t c = 0;
  while (t.next(c)) {
    if (utf8) {
      append_utf8(out, c);
    } else {
      out.push_back(char(c));
    }
  }
  return out;
}

namespace {
// Whether `needle` matches at the start of `text`; with `whole`, text must
// end there too.
bool matches_at(FoldedText text, std::string_view needle, bool utf8, uint32_t fold, bool whole) {
  FoldedText n(needle, utf8, fold);
  char32_t cn = 0, ct = 0;
  while (n.next(cn)) {
    if (!text.next(ct) || ct != cn) return false;
  }
  return !whole || !text.next(ct);
}
}  // namespace

bool contains_folded(std::string_view haystack, std::string_view needle, bool utf8, uint32_t fold,
                     MatchKind kind) {
  FoldedText text(haystack, utf8, fold);
  if (kind != MatchKind::kSubstring) return matches_at(text, needle, utf8, fold, kind == MatchKind::kFull);
  // Naive search from every unit: O(n*m) without allocating; search strings
  // are short.
  for (;;) {
    if (matches_at(text, needle, utf8, fold, false)) return true;
    char32_t skipped = 0;
    if (!text.next(skipped)) return false;
  }
}

}  // namespace pstkit::mapi
