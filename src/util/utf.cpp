// UTF-8 / UTF-16 conversions; see include/pstkit/utf.h.
#include "pstkit/utf.h"

#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util/byte_words.h"

namespace pstkit {
namespace {

bool is_high_surrogate(char32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
bool is_low_surrogate(char32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

// Decodes one UTF-8 sequence at s[i] into cp and returns its length. When
// the bytes are ill-formed, cp is U+FFFD, ok is false and the length is that
// of the maximal invalid subpart (at least 1). Bounds follow Unicode Table 3-7.
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp, bool& ok) {
  ok = false;
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    ok = true;
    return 1;
  }
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    cp = kReplacementChar;
    return 1;
  }
  for (size_t k = 1; k <= need; ++k) {
    unsigned char lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xBF;
    if (i + k >= s.size() || byte(i + k) < lo_k || byte(i + k) > hi_k) {
      cp = kReplacementChar;
      return k;  // the lead byte and the valid continuation bytes so far
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  ok = true;
  return need + 1;
}

// How many units at the start of p are 7-bit (below U+0080): four at a time
// while they are, in a word of four units those whose high byte is zero and
// whose low byte is below 0x80; then one by one.
size_t ascii_units(const uint8_t* p, size_t units, bool big_endian) {
  // Each unit's 16 bits as the word holds them: in the host's byte order
  // or swapped.
  const bool host_order = big_endian == (std::endian::native == std::endian::big);
  const uint64_t not_ascii = host_order ? 0xFF80FF80FF80FF80ULL : 0x80FF80FF80FF80FFULL;
  size_t k = 0;
#if defined(__SSE2__)
  // Eight units at a time where they are little-endian, as stores hold
  // them (this scan and narrow_ascii were 1.3 % of export's CPU).
  if (!big_endian) {
    const __m128i high_bits = _mm_set1_epi16(int16_t(0xFF80));
    while (units - k >= 8) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * k));
      if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(v, high_bits), _mm_setzero_si128())) != 0xFFFF) break;
      k += 8;
    }
  }
#endif
  while (units - k >= 4 && !(byte_words::load(reinterpret_cast<const char*>(p + 2 * k)) & not_ascii)) k += 4;
  const size_t high = big_endian ? 0 : 1;
  while (k < units && p[2 * k + high] == 0 && p[2 * k + (1 - high)] < 0x80) ++k;
  return k;
}

// Units [0, n) of p, all 7-bit, as bytes.
void narrow_ascii(const uint8_t* p, size_t n, bool big_endian, char* o) {
  size_t k = 0;
#if defined(__SSE2__)
  // Sixteen little-endian units to sixteen bytes: below 0x80, packing with
  // saturation keeps each value.
  if (!big_endian) {
    for (; n - k >= 16; k += 16) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * k));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * k + 16));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + k), _mm_packus_epi16(a, b));
    }
  }
#endif
  const size_t low = big_endian ? 1 : 0;
  for (; k < n; ++k) o[k] = char(p[2 * k + low]);
}

std::string utf16_to_utf8(ByteView in, bool big_endian) {
  const size_t units = in.size() / 2;  // an odd trailing byte is dropped
  const uint8_t* p = in.data();
  // Most stored text is 7-bit: then one byte per unit, and no zero fill of
  // the three bytes per unit that other text may need.
  const size_t ascii = ascii_units(p, units, big_endian);
  if (ascii == units) {
    std::string out(units, '\0');
    narrow_ascii(p, units, big_endian, out.data());
    return out;
  }
  // At most 3 UTF-8 bytes per unit (a surrogate pair: 4 bytes for 2 units),
  // written through a pointer: this is on the hot path of every dump.
  std::string out(units * 3, '\0');
  char* o = out.data();
  narrow_ascii(p, ascii, big_endian, o);
  o += ascii;
  auto unit = [&](size_t k) -> char32_t {
    const uint8_t* q = p + 2 * k;
    return big_endian ? char32_t(q[0] << 8 | q[1]) : char32_t(q[1] << 8 | q[0]);
  };
  for (size_t k = ascii; k < units; ++k) {
    char32_t u = unit(k);
    if (u < 0x80) {
      *o++ = char(u);
      continue;
    }
    if (is_high_surrogate(u) && k + 1 < units && is_low_surrogate(unit(k + 1))) {
      u = 0x10000 + ((u - 0xD800) << 10) + (unit(k + 1) - 0xDC00);
      ++k;
    } else if (is_high_surrogate(u) || is_low_surrogate(u)) {
      u = kReplacementChar;
    }
    if (u < 0x800) {
      *o++ = char(0xC0 | (u >> 6));
      *o++ = char(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
      *o++ = char(0xE0 | (u >> 12));
      *o++ = char(0x80 | ((u >> 6) & 0x3F));
      *o++ = char(0x80 | (u & 0x3F));
    } else {
      *o++ = char(0xF0 | (u >> 18));
      *o++ = char(0x80 | ((u >> 12) & 0x3F));
      *o++ = char(0x80 | ((u >> 6) & 0x3F));
      *o++ = char(0x80 | (u & 0x3F));
    }
  }
  out.resize(size_t(o - out.data()));
  return out;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string utf16le_to_utf8(ByteView utf16) { return utf16_to_utf8(utf16, false); }
std::string utf16be_to_utf8(ByteView utf16) { return utf16_to_utf8(utf16, true); }

Bytes utf8_to_utf16le(std::string_view utf8) {
  Bytes out;
  out.reserve(utf8.size() * 2);
  auto put = [&](char32_t u) {
    out.push_back(uint8_t(u));
    out.push_back(uint8_t(u >> 8));
  };
  for (size_t i = 0; i < utf8.size();) {
    char32_t cp;
    bool ok;
    i += decode_utf8(utf8, i, cp, ok);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(0xD800 + (cp >> 10));
      put(0xDC00 + (cp & 0x3FF));
    } else {
      put(cp);
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (s.size() - i >= 8 && !byte_words::has_high_byte(byte_words::load(s.data() + i))) {
      i += 8;  // eight 7-bit bytes
      continue;
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp;
    bool ok;
    i += decode_utf8(s, i, cp, ok);
    if (!ok) return false;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    bool ok;
    size_t n = decode_utf8(s, i, cp, ok);
    if (ok) out.append(s.substr(i, n));
    else append_utf8(out, kReplacementChar);
    i += n;
  }
  return out;
}

std::string_view trim_nul(std::string_view s) {
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return s;
}

std::string_view cut_at_nul(std::string_view s) {
  size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

ByteView trim_utf16_nul(ByteView utf16) {
  size_t n = utf16.size() & ~size_t{1};
  while (n >= 2 && utf16.u8(n - 1) == 0 && utf16.u8(n - 2) == 0) n -= 2;
  return utf16.sub(0, n);
}

}  // namespace pstkit
