// 8-bit text in Windows code pages, converted to and from UTF-8.
//
// PtypString8 values, ANSI PST strings and MIME parts name their encoding by
// a Windows code page id: PidTagMessageCodepage (0x3FFD), PidTagInternetCodepage
// (0x3FDE) ([MS-OXCMSG] 2.2.1.10, [MS-OXCMAIL] 2.1.3.1.7). Conversion goes
// through glibc iconv, with built-in fast paths for ASCII, windows-1252,
// ISO-8859-1 and the Unicode forms. Decoding never fails: bytes that are not
// valid in the code page become U+FFFD, and an unknown code page is read as
// windows-1252, the usual default of Western Outlook installations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pstkit/bytes.h"

namespace pstkit {

inline constexpr uint32_t kCodepageWindows1252 = 1252;
inline constexpr uint32_t kCodepageUtf16Le = 1200;
inline constexpr uint32_t kCodepageUtf8 = 65001;

// Always valid UTF-8.
std::string decode_codepage(ByteView bytes, uint32_t codepage);
inline std::string decode_codepage(std::string_view bytes, uint32_t codepage) {
  return decode_codepage(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                         codepage);
}

// UTF-8 to the code page (no terminator). Characters the code page cannot
// represent, and invalid UTF-8, become '?'. An unknown code page encodes as
// windows-1252.
Bytes encode_codepage(std::string_view utf8, uint32_t codepage);

// True when decode_codepage knows this code page (rather than falling back).
bool is_known_codepage(uint32_t codepage);
// The glibc iconv name ("CP932", "ISO-8859-2"), nullptr if iconv lacks it.
const char* codepage_iconv_name(uint32_t codepage);
// The preferred MIME charset name ("shift_jis", "windows-1252"), nullptr if
// the code page is unknown.
const char* codepage_charset_name(uint32_t codepage);
// MAPI keeps 8-bit strings (PtypString8) in a Windows ANSI code page; an
// object's PidTagInternetCodepage names the charset of its MIME form, which
// for East Asian and some European mail is not the ANSI page the strings are
// in (an ISO-2022-JP message's strings are Shift-JIS, code page 932). This
// maps such a code page to the Windows page of the same script: 50220,
// 50221, 50222, 51932 and 20932 to 932; the EUC/HZ/GB18030 Chinese pages to
// 936; 50225 and 51949 to 949; ISO-8859 and KOI8 pages to their Windows
// counterparts. Pages that are already ANSI pages map to themselves; pages
// that say nothing about one (the Unicode forms, us-ascii) give nullopt.
std::optional<uint32_t> ansi_codepage_for(uint32_t codepage);

// True for the 7-bit encodings (us-ascii, ISO-2022-JP/KR/CN, HZ, UTF-7): a
// page 8-bit MAPI strings can never be in, although a PidTagMessageCodepage
// may name one.
bool is_seven_bit_codepage(uint32_t codepage);

// A guess at the code page of 8-bit text from its bytes (ICU charset
// detection), as a Windows ANSI page (or 65001 for UTF-8); nullopt for
// ASCII, or when no candidate is likely. Meant for a sample of a store's
// strings joined by newlines: short texts give weak guesses.
std::optional<uint32_t> detect_codepage(ByteView sample);

// MIME / IANA charset name to code page id, case-insensitive, ignoring
// surrounding blanks and quotes: "iso-8859-1" -> 28591, "Shift_JIS" -> 932.
std::optional<uint32_t> codepage_from_charset(std::string_view charset);

}  // namespace pstkit
