// UTF-16LE to UTF-8, tolerant of damage: PtypString values in damaged files
// can hold unpaired surrogates or an odd byte count; both become U+FFFD so
// callers always receive valid UTF-8.
#include "pstkit/property.h"

namespace pstkit::ltp {

namespace {

constexpr uint32_t kReplacement = 0xFFFD;

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

bool is_high_surrogate(uint32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
bool is_low_surrogate(uint32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

}  // namespace

std::string utf16le_to_utf8(ByteView in) {
  std::string out;
  const size_t units = in.size() / 2;
  out.reserve(units + units / 2);
  for (size_t i = 0; i < units; ++i) {
    const uint32_t u = in.u16(2 * i);
    if (is_high_surrogate(u) && i + 1 < units && is_low_surrogate(in.u16(2 * i + 2))) {
      const uint32_t lo = in.u16(2 * i + 2);
      append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
      ++i;
    } else if (is_high_surrogate(u) || is_low_surrogate(u)) {
      append_utf8(out, kReplacement);
    } else {
      append_utf8(out, u);
    }
  }
  if (in.size() % 2 != 0) append_utf8(out, kReplacement);
  return out;
}

}  // namespace pstkit::ltp
