// Text as MAPI compares it: code point by code point, optionally folded
// (case; non-spacing marks) without allocating. Internal to src/mapi.
#pragma once

#include <cstdint>
#include <string_view>

namespace pstkit::mapi {

enum FoldFlags : uint32_t {
  kFoldNone = 0,
  kFoldCase = 1,      // simple lower-case mapping
  kFoldNonSpace = 2,  // drop combining marks, precomposed Latin letters to their base
};

// Reads a string as a sequence of (folded) units: code points of UTF-8
// (PT_UNICODE; an invalid byte reads as U+FFFD) or bytes (PT_STRING8, whose
// code page the engine does not know: only ASCII letters fold).
class FoldedText {
 public:
  FoldedText(std::string_view text, bool utf8, uint32_t fold) : text_(text), utf8_(utf8), fold_(fold) {}
  // The next unit, or false at the end.
  bool next(char32_t& out);
  size_t offset() const { return pos_; }

 private:
  char32_t decode();
  std::string_view text_;
  size_t pos_ = 0;
  bool utf8_;
  uint32_t fold_;
};

// The folded units of `text` as UTF-8 (bytes for 8-bit text), so that
// comparing two results bytewise orders them as compare_folded does (UTF-8
// byte order is code point order).
std::string fold_to_utf8(std::string_view text, bool utf8, uint32_t fold);

// <0, 0, >0 comparing two folded strings unit by unit (a prefix first).
int compare_folded(std::string_view a, std::string_view b, bool utf8, uint32_t fold);
// Whether `needle` occurs in `haystack` (folded): at its start (prefix),
// as the whole (full), or anywhere (substring).
enum class MatchKind { kFull, kPrefix, kSubstring };
bool contains_folded(std::string_view haystack, std::string_view needle, bool utf8, uint32_t fold,
                     MatchKind kind);

}  // namespace pstkit::mapi
