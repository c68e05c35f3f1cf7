#include "export/item_text.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "pstkit/codepage.h"

namespace pstkit::item_text {

std::optional<std::string> Props::str(uint16_t tag_id) const {
  auto s = bag_.get_string(tag_id);
  if (!s || s->empty()) return std::nullopt;
  return s;
}

const PropValue* Props::value(const Guid& set, uint32_t lid) const {
  auto id = names_.id_of(set, lid);
  return id ? bag_.find(*id) : nullptr;
}

std::optional<std::string> Props::str(const Guid& set, uint32_t lid) const {
  auto id = names_.id_of(set, lid);
  return id ? str(*id) : std::nullopt;
}

std::optional<int32_t> Props::i32(const Guid& set, uint32_t lid) const {
  auto id = names_.id_of(set, lid);
  return id ? bag_.get_i32(*id) : std::nullopt;
}

std::optional<bool> Props::boolean(const Guid& set, uint32_t lid) const {
  auto id = names_.id_of(set, lid);
  return id ? bag_.get_bool(*id) : std::nullopt;
}

std::optional<uint64_t> Props::time(const Guid& set, uint32_t lid) const {
  auto id = names_.id_of(set, lid);
  return id ? bag_.get_time(*id) : std::nullopt;
}

std::optional<double> Props::f64(const Guid& set, uint32_t lid) const {
  const PropValue* v = value(set, lid);
  if (!v) return std::nullopt;
  auto d = v->as_double();
  if (!d) return std::nullopt;
  return *d;
}

const Bytes* Props::binary(const Guid& set, uint32_t lid) const {
  auto id = names_.id_of(set, lid);
  return id ? bag_.get_binary(*id) : nullptr;
}

std::vector<std::string> Props::strings(const Guid& set, const std::string& name) const {
  std::vector<std::string> out;
  auto id = names_.id_of(set, name);
  const PropValue* v = id ? bag_.find(*id) : nullptr;
  if (!v) return out;
  if (v->type() == ltp::kPtypMultipleFlag + ltp::kPtypString) {
    if (auto s = v->mv_strings()) out = std::move(*s);
  } else if (v->type() == ltp::kPtypMultipleFlag + ltp::kPtypString8) {
    if (auto e = v->mv_elements())
      for (const Bytes& b : *e) out.push_back(decode_codepage(b, bag_.codepage()));
  } else if (auto s = bag_.get_string(*id)) {
    out.push_back(*s);
  }
  return out;
}

std::vector<Bytes> Props::binaries(const Guid& set, uint32_t lid) const {
  const PropValue* v = value(set, lid);
  if (!v || v->type() != ltp::kPtypMultipleFlag + ltp::kPtypBinary) return {};
  auto e = v->mv_elements();
  return e ? std::move(*e) : std::vector<Bytes>{};
}

std::string escape_text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\r':
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      case '\n': out += "\\n"; break;
      default:
        // Other control characters are not allowed in TEXT (RFC 5545 3.3.11).
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') break;
        out += c;
    }
  }
  return out;
}

void Lines::add(const std::string& name_and_params, const std::string& value) {
  const std::string line = name_and_params + ":" + value;
  size_t pos = 0, width = 75;  // the first line 75 octets, the next 74 after the space
  while (line.size() - pos > width) {
    size_t cut = pos + width;
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    text_.append(line, pos, cut - pos);
    text_ += "\r\n ";
    pos = cut;
    width = 74;
  }
  text_.append(line, pos, std::string::npos);
  text_ += "\r\n";
}

Civil civil_from_seconds_since_1601(int64_t seconds) {
  constexpr int64_t kDaysFrom1601To1970 = 134774;
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) rem += 86400, --days;
  // Howard Hinnant's civil_from_days.
  const int64_t z = days - kDaysFrom1601To1970 + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = int64_t(yoe) + era * 400 + (c.month <= 2);
  c.hour = unsigned(rem / 3600);
  c.minute = unsigned(rem / 60 % 60);
  c.second = unsigned(rem % 60);
  return c;
}

namespace {
std::string digits(int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? 0 : v);
  if (int(s.size()) < width) s.insert(0, size_t(width) - s.size(), '0');
  return s;
}
}  // namespace

std::string format_date(int64_t seconds) {
  const Civil c = civil_from_seconds_since_1601(seconds);
  return digits(c.year, 4) + digits(c.month, 2) + digits(c.day, 2);
}

std::string format_date_time(int64_t seconds) {
  const Civil c = civil_from_seconds_since_1601(seconds);
  return format_date(seconds) + "T" + digits(c.hour, 2) + digits(c.minute, 2) + digits(c.second, 2);
}

bool plausible_filetime(uint64_t ft) {
  // 1601-01-02 .. 9999-12-31: outside, a time is a placeholder (Outlook's
  // "none" is 4501-01-01, which is inside and handled by callers).
  return ft >= 864000000000ULL && ft <= 2650467743999999999ULL;
}

std::optional<std::string> format_utc(uint64_t ft) {
  if (!plausible_filetime(ft)) return std::nullopt;
  return format_date_time(filetime_seconds(ft)) + "Z";
}

namespace {

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The two characters of every 12-bit group: a table of 8 KiB (it stays in
// the L1 cache) turns three bytes into two lookups instead of four.
struct Base64Pairs {
  char pair[4096][2];
  constexpr Base64Pairs() : pair() {
    for (int i = 0; i < 4096; ++i) {
      pair[i][0] = kBase64Alphabet[i >> 6];
      pair[i][1] = kBase64Alphabet[i & 63];
    }
  }
};
constexpr Base64Pairs kBase64Pairs;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PSTKIT_BASE64_AVX2 1
// Base64 with AVX2, 24 bytes into 32 characters a step (after Muła and
// Lemire, "Faster Base64 Encoding and Decoding using AVX2 Instructions",
// 2018). Each lane's 12 bytes are spread so that every 32-bit word holds one
// 3-byte group as [b1 b0 b2 b1]; a multiply-high and a multiply-low move its
// four 6-bit fields into four bytes; a 16-entry lookup then gives the offset
// from each field to its character. Reads 28 bytes a step (the second lane
// loads from byte 12), so the caller leaves the last 4 to the scalar loop.
__attribute__((target("avx2"))) size_t base64_encode_avx2(char* dst, const uint8_t* src, size_t n) {
  const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,  //
                                          1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  // Offsets by class: 0 lower case (26-51), 1-10 digits (52-61), 11 '+',
  // 12 '/', 13 upper case (0-25).
  const __m256i offsets = _mm256_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                           '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0,
                                           'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                           '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0);
  size_t i = 0;
  for (; i + 28 <= n; i += 24, dst += 32) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 12));
    const __m256i in = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), spread);
    // Per 16-bit half: the low half (b0 b1) gives fields a (bits 15-10) and
    // b (9-4), the high half (b1 b2) fields c (11-6) and d (5-0).
    const __m256i ac = _mm256_mulhi_epu16(_mm256_and_si256(in, _mm256_set1_epi32(0x0FC0FC00)),
                                          _mm256_set1_epi32(0x04000040));
    const __m256i bd = _mm256_mullo_epi16(_mm256_and_si256(in, _mm256_set1_epi32(0x003F03F0)),
                                          _mm256_set1_epi32(0x01000010));
    const __m256i fields = _mm256_or_si256(ac, bd);
    __m256i cls = _mm256_subs_epu8(fields, _mm256_set1_epi8(51));
    const __m256i upper = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), fields);
    cls = _mm256_or_si256(cls, _mm256_and_si256(upper, _mm256_set1_epi8(13)));
    const __m256i chars = _mm256_add_epi8(fields, _mm256_shuffle_epi8(offsets, cls));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), chars);
  }
  return i;
}
#endif

void base64_encode_bytes(char* dst, const uint8_t* src, size_t n) {
  size_t i = 0;
  for (; i + 3 <= n; i += 3, dst += 4) {
    const uint32_t v = uint32_t(src[i]) << 16 | uint32_t(src[i + 1]) << 8 | src[i + 2];
    std::memcpy(dst, kBase64Pairs.pair[v >> 12], 2);
    std::memcpy(dst + 2, kBase64Pairs.pair[v & 0xFFF], 2);
  }
  if (i < n) {
    const uint32_t v = uint32_t(src[i]) << 16 | (i + 1 < n ? uint32_t(src[i + 1]) << 8 : 0);
    dst[0] = kBase64Alphabet[v >> 18];
    dst[1] = kBase64Alphabet[(v >> 12) & 63];
    dst[2] = i + 1 < n ? kBase64Alphabet[(v >> 6) & 63] : '=';
    dst[3] = '=';
  }
}

}  // namespace

void base64_encode(char* dst, const uint8_t* src, size_t n) {
#ifdef PSTKIT_BASE64_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && n >= 28) {
    const size_t done = base64_encode_avx2(dst, src, n);
    dst += done / 3 * 4;
    src += done;
    n -= done;
  }
#endif
  base64_encode_bytes(dst, src, n);
}

std::string base64(const Bytes& data) {
  std::string out(base64_length(data.size()), '\0');
  base64_encode(out.data(), data.data(), data.size());
  return out;
}

std::string hex_upper(const Bytes& data) {
  static const char* k = "0123456789ABCDEF";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) out += k[b >> 4], out += k[b & 15];
  return out;
}

}  // namespace pstkit::item_text
