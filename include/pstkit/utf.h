// UTF-8 / UTF-16 conversions that never fail.
//
// PST text is UTF-16LE (PtypString, [MS-OXCDATA] 2.11.1) and may be damaged:
// every decoder here replaces what it cannot read with U+FFFD, so its result
// is always valid UTF-8. Strings are converted exactly, NULs included; the
// trim helpers drop terminators when the caller wants that.
#pragma once

#include <string>
#include <string_view>

#include "pstkit/bytes.h"

namespace pstkit {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Appends the UTF-8 form of a code point; surrogates and values past
// U+10FFFF become U+FFFD.
void append_utf8(std::string& out, char32_t cp);

// Surrogate pairs are combined; a lone surrogate becomes U+FFFD; an odd
// trailing byte is ignored.
std::string utf16le_to_utf8(ByteView utf16);
std::string utf16be_to_utf8(ByteView utf16);
// Invalid UTF-8 is encoded as U+FFFD. No terminator is added.
Bytes utf8_to_utf16le(std::string_view utf8);

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool is_valid_utf8(std::string_view s);
// Each maximal invalid subsequence becomes one U+FFFD (Unicode 15, 3.9 "U+FFFD
// Substitution of Maximal Subparts"), the way browsers do it.
std::string sanitize_utf8(std::string_view s);

// Drops trailing NUL characters ("abc\0\0" -> "abc").
std::string_view trim_nul(std::string_view s);
// Cuts at the first NUL ("ab\0cd" -> "ab").
std::string_view cut_at_nul(std::string_view s);
// Drops trailing 16-bit NUL code units from UTF-16LE bytes.
ByteView trim_utf16_nul(ByteView utf16);

}  // namespace pstkit
