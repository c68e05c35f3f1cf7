// Windows code page conversions; see include/pstkit/codepage.h.
#include "pstkit/codepage.h"

#include <errno.h>
#include <iconv.h>
#include <unicode/ucsdet.h>

#include <algorithm>
#include <iterator>
#include <mutex>
#include <vector>

#include "pstkit/utf.h"
#include "util/byte_words.h"
#include "util/shared_library.h"

namespace pstkit {
namespace {

// How a code page is decoded: most through iconv, a few by hand because they
// are hot (1252, ASCII, Latin-1), exact about errors (the Unicode forms), or
// missing from glibc (HZ).
enum class Method : uint8_t {
  kIconv,
  kAscii,
  kLatin1,
  kWindows1252,
  kUtf8,
  kUtf16Le,
  kUtf16Be,
  kUtf32Le,
  kUtf32Be,
  kHz,
};

struct CodePage {
  uint32_t id;
  Method method;
  bool ascii_compatible;  // bytes 0x00-0x7F always mean ASCII
  const char* iconv_name;
  const char* charset;  // preferred MIME name, as Windows reports it
};

// Code page identifiers as listed in Microsoft's "Code Page Identifiers"
// reference, sorted by id.
constexpr CodePage kCodePages[] = {
    {437, Method::kIconv, true, "CP437", "IBM437"},
    {737, Method::kIconv, true, "CP737", "ibm737"},
    {775, Method::kIconv, true, "CP775", "ibm775"},
    {850, Method::kIconv, true, "CP850", "ibm850"},
    {852, Method::kIconv, true, "CP852", "ibm852"},
    {855, Method::kIconv, true, "CP855", "IBM855"},
    {857, Method::kIconv, true, "CP857", "ibm857"},
    {858, Method::kIconv, true, "CP858", "IBM00858"},
    {860, Method::kIconv, true, "CP860", "IBM860"},
    {861, Method::kIconv, true, "CP861", "ibm861"},
    {862, Method::kIconv, true, "CP862", "DOS-862"},
    {863, Method::kIconv, true, "CP863", "IBM863"},
    {864, Method::kIconv, true, "CP864", "IBM864"},
    {865, Method::kIconv, true, "CP865", "IBM865"},
    {866, Method::kIconv, true, "CP866", "cp866"},
    {869, Method::kIconv, true, "CP869", "ibm869"},
    {874, Method::kIconv, true, "CP874", "windows-874"},
    {932, Method::kIconv, true, "CP932", "shift_jis"},
    {936, Method::kIconv, true, "CP936", "gb2312"},
    {949, Method::kIconv, true, "CP949", "ks_c_5601-1987"},
    {950, Method::kIconv, true, "CP950", "big5"},
    {1200, Method::kUtf16Le, false, "UTF-16LE", "utf-16"},
    {1201, Method::kUtf16Be, false, "UTF-16BE", "unicodeFFFE"},
    {1250, Method::kIconv, true, "CP1250", "windows-1250"},
    {1251, Method::kIconv, true, "CP1251", "windows-1251"},
    {1252, Method::kWindows1252, true, "CP1252", "windows-1252"},
    {1253, Method::kIconv, true, "CP1253", "windows-1253"},
    {1254, Method::kIconv, true, "CP1254", "windows-1254"},
    {1255, Method::kIconv, true, "CP1255", "windows-1255"},
    {1256, Method::kIconv, true, "CP1256", "windows-1256"},
    {1257, Method::kIconv, true, "CP1257", "windows-1257"},
    {1258, Method::kIconv, true, "CP1258", "windows-1258"},
    {1361, Method::kIconv, true, "JOHAB", "Johab"},
    {10000, Method::kIconv, true, "MACINTOSH", "macintosh"},
    {10007, Method::kIconv, true, "MAC-CYRILLIC", "x-mac-cyrillic"},
    {10029, Method::kIconv, true, "MAC-CENTRALEUROPE", "x-mac-ce"},
    {12000, Method::kUtf32Le, false, "UTF-32LE", "utf-32"},
    {12001, Method::kUtf32Be, false, "UTF-32BE", "utf-32BE"},
    {20127, Method::kAscii, true, "ASCII", "us-ascii"},
    {20866, Method::kIconv, true, "KOI8-R", "koi8-r"},
    {20932, Method::kIconv, true, "EUC-JP", "EUC-JP"},
    {20936, Method::kIconv, true, "GB2312", "x-cp20936"},
    {21866, Method::kIconv, true, "KOI8-U", "koi8-u"},
    {28591, Method::kLatin1, true, "ISO-8859-1", "iso-8859-1"},
    {28592, Method::kIconv, true, "ISO-8859-2", "iso-8859-2"},
    {28593, Method::kIconv, true, "ISO-8859-3", "iso-8859-3"},
    {28594, Method::kIconv, true, "ISO-8859-4", "iso-8859-4"},
    {28595, Method::kIconv, true, "ISO-8859-5", "iso-8859-5"},
    {28596, Method::kIconv, true, "ISO-8859-6", "iso-8859-6"},
    {28597, Method::kIconv, true, "ISO-8859-7", "iso-8859-7"},
    {28598, Method::kIconv, true, "ISO-8859-8", "iso-8859-8"},
    {28599, Method::kIconv, true, "ISO-8859-9", "iso-8859-9"},
    {28603, Method::kIconv, true, "ISO-8859-13", "iso-8859-13"},
    {28605, Method::kIconv, true, "ISO-8859-15", "iso-8859-15"},
    {38598, Method::kIconv, true, "ISO-8859-8", "iso-8859-8-i"},
    // ISO-2022-JP-2 also reads the half-width katakana escape of 50221.
    {50220, Method::kIconv, false, "ISO-2022-JP-2", "iso-2022-jp"},
    {50221, Method::kIconv, false, "ISO-2022-JP-2", "csISO2022JP"},
    {50222, Method::kIconv, false, "ISO-2022-JP-2", "iso-2022-jp"},
    {50225, Method::kIconv, false, "ISO-2022-KR", "iso-2022-kr"},
    {51932, Method::kIconv, true, "EUC-JP", "euc-jp"},
    {51936, Method::kIconv, true, "EUC-CN", "EUC-CN"},
    {51949, Method::kIconv, true, "EUC-KR", "euc-kr"},
    {52936, Method::kHz, false, nullptr, "hz-gb-2312"},
    {54936, Method::kIconv, true, "GB18030", "GB18030"},
    {65000, Method::kIconv, false, "UTF-7", "utf-7"},
    {65001, Method::kUtf8, true, "UTF-8", "utf-8"},
};

constexpr bool code_pages_sorted() {
  for (size_t i = 1; i < std::size(kCodePages); ++i)
    if (kCodePages[i - 1].id >= kCodePages[i].id) return false;
  return true;
}
static_assert(code_pages_sorted());

const CodePage* find_code_page(uint32_t id) {
  auto it = std::lower_bound(std::begin(kCodePages), std::end(kCodePages), id,
                             [](const CodePage& c, uint32_t v) { return c.id < v; });
  return (it != std::end(kCodePages) && it->id == id) ? it : nullptr;
}

const CodePage& code_page_or_default(uint32_t id) {
  const CodePage* cp = find_code_page(id);
  return cp ? *cp : *find_code_page(kCodepageWindows1252);
}

// MIME charset names that are not simply "windows-N", "cpN", "ibmN" or
// "x-cpN" (handled in codepage_from_charset). Lower case, sorted.
struct CharsetAlias {
  const char* name;
  uint32_t codepage;
};
constexpr CharsetAlias kCharsets[] = {
    {"ansi_x3.4-1968", 20127}, {"arabic", 28596}, {"ascii", 20127}, {"big5", 950},
    {"big5-hkscs", 950}, {"chinese", 936}, {"cn-big5", 950}, {"csbig5", 950},
    {"cseuckr", 51949}, {"cseucpkdfmtjapanese", 51932}, {"csgb2312", 936}, {"csibm866", 866},
    {"csiso2022jp", 50221}, {"csiso2022kr", 50225}, {"cskoi8r", 20866}, {"csksc56011987", 949},
    {"csmacintosh", 10000}, {"cspc8codepage437", 437}, {"csshiftjis", 932}, {"cyrillic", 28595},
    {"dos-862", 862}, {"euc-cn", 936}, {"euc-jp", 51932}, {"euc-kr", 51949},
    {"extended_unix_code_packed_format_for_japanese", 51932}, {"gb18030", 54936},
    {"gb2312", 936}, {"gb_2312-80", 936}, {"gbk", 936}, {"greek", 28597}, {"hebrew", 28598},
    {"hz-gb-2312", 52936}, {"iso-2022-jp", 50220}, {"iso-2022-kr", 50225},
    {"iso-8859-1", 28591}, {"iso-8859-11", 874}, {"iso-8859-13", 28603}, {"iso-8859-15", 28605},
    {"iso-8859-2", 28592}, {"iso-8859-3", 28593}, {"iso-8859-4", 28594}, {"iso-8859-5", 28595},
    {"iso-8859-6", 28596}, {"iso-8859-7", 28597}, {"iso-8859-8", 28598},
    {"iso-8859-8-e", 28598}, {"iso-8859-8-i", 38598}, {"iso-8859-9", 28599},
    {"iso-ir-100", 28591}, {"iso-ir-149", 949}, {"iso646-us", 20127}, {"iso8859-1", 28591},
    {"iso8859-13", 28603}, {"iso8859-15", 28605}, {"iso8859-2", 28592}, {"iso8859-3", 28593},
    {"iso8859-4", 28594}, {"iso8859-5", 28595}, {"iso8859-6", 28596}, {"iso8859-7", 28597},
    {"iso8859-8", 28598}, {"iso8859-9", 28599}, {"iso_8859-1", 28591}, {"iso_8859-15", 28605},
    {"iso_8859-2", 28592}, {"iso_8859-3", 28593}, {"iso_8859-4", 28594}, {"iso_8859-5", 28595},
    {"iso_8859-6", 28596}, {"iso_8859-7", 28597}, {"iso_8859-8", 28598}, {"iso_8859-9", 28599},
    {"johab", 1361}, {"koi", 20866}, {"koi8", 20866}, {"koi8-r", 20866}, {"koi8-ru", 21866},
    {"koi8-u", 21866}, {"koi8r", 20866}, {"korean", 949}, {"ks_c_5601", 949},
    {"ks_c_5601-1987", 949}, {"ks_c_5601-1989", 949}, {"ksc5601", 949}, {"ksc_5601", 949},
    {"l1", 28591}, {"l2", 28592}, {"latin-9", 28605}, {"latin1", 28591}, {"latin2", 28592},
    {"latin3", 28593}, {"latin4", 28594}, {"latin5", 28599}, {"latin9", 28605},
    {"mac", 10000}, {"macintosh", 10000}, {"ms936", 936}, {"ms_kanji", 932},
    {"shift-jis", 932}, {"shift_jis", 932}, {"sjis", 932}, {"tis-620", 874}, {"ucs-2", 1200},
    {"uhc", 949}, {"unicode", 1200}, {"unicode-1-1-utf-7", 65000}, {"unicode-1-1-utf-8", 65001},
    {"unicodefffe", 1201}, {"us", 20127}, {"us-ascii", 20127}, {"utf-16", 1200},
    {"utf-16be", 1201}, {"utf-16le", 1200}, {"utf-32", 12000}, {"utf-32be", 12001},
    {"utf-32le", 12000}, {"utf-7", 65000}, {"utf-8", 65001}, {"utf8", 65001},
    {"windows-31j", 932}, {"x-euc-cn", 936}, {"x-euc-jp", 51932}, {"x-gbk", 936},
    {"x-mac-ce", 10029}, {"x-mac-cyrillic", 10007}, {"x-mac-roman", 10000},
    {"x-ms-cp932", 932}, {"x-sjis", 932}, {"x-x-big5", 950},
};

constexpr bool charsets_sorted() {
  for (size_t i = 1; i < std::size(kCharsets); ++i)
    if (!(std::string_view(kCharsets[i - 1].name) < std::string_view(kCharsets[i].name))) return false;
  return true;
}
static_assert(charsets_sorted());

// Windows-1252 bytes 0x80-0x9F. The five bytes Windows leaves undefined
// (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 controls of the same value,
// as MultiByteToWideChar and the WHATWG Encoding Standard do, so nothing is
// lost.
constexpr char16_t kWindows1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

bool is_ascii(ByteView in) { return byte_words::all_seven_bit(reinterpret_cast<const char*>(in.data()), in.size()); }

std::string as_string(ByteView in) { return std::string(reinterpret_cast<const char*>(in.data()), in.size()); }

// iconv descriptors are costly to open, so each thread keeps the ones it
// used. A failed open is remembered too, so it is not retried.
class IconvCache {
 public:
  ~IconvCache() {
    for (const Slot& s : slots_)
      if (s.cd != kInvalid) iconv_close(s.cd);
  }
  // A descriptor converting from `from` to `to`; kInvalid if unsupported.
  iconv_t get(const char* from, const char* to) {
    for (const Slot& s : slots_)
      if (s.from == from && s.to == to) return s.cd;
    iconv_t cd = iconv_open(to, from);
    slots_.push_back({from, to, cd});
    return cd;
  }
  static inline const iconv_t kInvalid = reinterpret_cast<iconv_t>(-1);

 private:
  struct Slot {
    const char* from;  // names come from kCodePages, so pointers identify them
    const char* to;
    iconv_t cd;
  };
  std::vector<Slot> slots_;
};

IconvCache& iconv_cache() {
  thread_local IconvCache cache;
  return cache;
}

constexpr const char* kUtf8Name = "UTF-8";

// Runs cd over the whole input. EILSEQ skips one byte and writes
// `replacement`; EINVAL (a sequence cut off by the end) writes it once.
void run_iconv(iconv_t cd, ByteView in, std::string_view replacement, std::string& out) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // initial shift state
  char* inp = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
  size_t inleft = in.size();
  char buf[4096];
  while (true) {
    char* outp = buf;
    size_t outleft = sizeof buf;
    size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
    out.append(buf, size_t(outp - buf));
    if (r != size_t(-1)) break;  // all input converted
    if (errno == E2BIG) continue;
    if (errno == EINVAL) {
      out.append(replacement);
      break;
    }
    // EILSEQ, or anything unexpected: step over one byte.
    out.append(replacement);
    if (inleft == 0) break;
    ++inp;
    --inleft;
  }
  char* outp = buf;
  size_t outleft = sizeof buf;
  iconv(cd, nullptr, nullptr, &outp, &outleft);  // return to the initial state
  out.append(buf, size_t(outp - buf));
}

std::string decode_utf32(ByteView in, bool big_endian) {
  std::string out;
  size_t i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    const uint8_t* p = in.data() + i;
    uint32_t cp = big_endian ? (uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]) : load_le32(p);
    append_utf8(out, char32_t(cp));  // surrogates and values past U+10FFFF become U+FFFD
  }
  if (i < in.size()) append_utf8(out, kReplacementChar);
  return out;
}

// HZ (RFC 1843): 7-bit GB2312 between "~{" and "~}". Rewritten to EUC-CN
// bytes, which CP936 reads.
std::string decode_hz(ByteView in) {
  Bytes gb;
  gb.reserve(in.size());
  bool in_gb = false;
  for (size_t i = 0; i < in.size(); ++i) {
    uint8_t c = in.u8(i);
    if (c == '~' && i + 1 < in.size()) {
      uint8_t next = in.u8(i + 1);
      if (!in_gb && next == '~') { gb.push_back('~'); ++i; continue; }
      if (!in_gb && next == '\n') { ++i; continue; }  // line continuation
      if (!in_gb && next == '{') { in_gb = true; ++i; continue; }
      if (in_gb && next == '}') { in_gb = false; ++i; continue; }
    }
    if (in_gb && c >= 0x21 && c <= 0x7E && i + 1 < in.size() && in.u8(i + 1) >= 0x21 &&
        in.u8(i + 1) <= 0x7E) {
      gb.push_back(uint8_t(c | 0x80));
      gb.push_back(uint8_t(in.u8(i + 1) | 0x80));
      ++i;
      continue;
    }
    if (c == '\n') in_gb = false;  // GB mode never spans lines
    gb.push_back(c >= 0x80 ? 0xFF : c);  // 8-bit bytes are invalid in HZ; 0xFF is invalid in CP936 too
  }
  return decode_codepage(gb, 936);
}

// ICU's charset detector, from libicui18n opened on first use: ICU (with
// libicuuc and its 30 MB data library) is only needed for an ANSI store
// whose items name no code page, and linking it slowed every start.
// decltype gives each pointer the prototype of ucsdet.h, so every call is
// type-checked; the headers rename each function with the ICU version
// (ucsdet_open -> ucsdet_open_72), which is the symbol looked up.
#define PSTKIT_UCSDET_FUNCTIONS(X) \
  X(ucsdet_open)                  \
  X(ucsdet_setText)               \
  X(ucsdet_detectAll)             \
  X(ucsdet_getName)               \
  X(ucsdet_getConfidence)         \
  X(ucsdet_close)

struct CharsetDetector {
#define PSTKIT_DECLARE(f) decltype(&f) f##_fn = nullptr;
  PSTKIT_UCSDET_FUNCTIONS(PSTKIT_DECLARE)
#undef PSTKIT_DECLARE
};

constexpr const char* kIcuI18nLibrary = "libicui18n.so." PSTKIT_SYMBOL_NAME(U_ICU_VERSION_MAJOR_NUM);

// The detector's functions, or null when libicui18n (of the major version
// pstkit was built against) cannot be loaded: then nothing is guessed.
const CharsetDetector* charset_detector() {
  static CharsetDetector detector;
  static bool loaded = false;
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = open_shared_library(kIcuI18nLibrary, nullptr);
    if (!library) return;
    bool all = true;
#define PSTKIT_RESOLVE(f)                                                                            \
  detector.f##_fn = reinterpret_cast<decltype(&f)>(shared_library_symbol(library, PSTKIT_SYMBOL_NAME(f), nullptr)); \
  all = all && detector.f##_fn != nullptr;
    PSTKIT_UCSDET_FUNCTIONS(PSTKIT_RESOLVE)
#undef PSTKIT_RESOLVE
    loaded = all;
  });
  return loaded ? &detector : nullptr;
}

}  // namespace

std::string decode_codepage(ByteView bytes, uint32_t codepage) {
  const CodePage& cp = code_page_or_default(codepage);
  if (cp.ascii_compatible && is_ascii(bytes)) return as_string(bytes);
  std::string out;
  switch (cp.method) {
    case Method::kAscii:
      out.reserve(bytes.size());
      for (size_t i = 0; i < bytes.size(); ++i) append_utf8(out, bytes.u8(i) < 0x80 ? bytes.u8(i) : kReplacementChar);
      return out;
    case Method::kLatin1:
      out.reserve(bytes.size() + bytes.size() / 4);
      for (size_t i = 0; i < bytes.size(); ++i) append_utf8(out, bytes.u8(i));
      return out;
    case Method::kWindows1252:
      out.reserve(bytes.size() + bytes.size() / 4);
      for (size_t i = 0; i < bytes.size(); ++i) {
        uint8_t b = bytes.u8(i);
        append_utf8(out, (b >= 0x80 && b < 0xA0) ? char32_t(kWindows1252High[b - 0x80]) : char32_t(b));
      }
      return out;
    case Method::kUtf8: return sanitize_utf8(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    case Method::kUtf16Le: return utf16le_to_utf8(bytes);
    case Method::kUtf16Be: return utf16be_to_utf8(bytes);
    case Method::kUtf32Le: return decode_utf32(bytes, false);
    case Method::kUtf32Be: return decode_utf32(bytes, true);
    case Method::kHz: return decode_hz(bytes);
    case Method::kIconv: break;
  }
  iconv_t cd = iconv_cache().get(cp.iconv_name, kUtf8Name);
  if (cd == IconvCache::kInvalid) return decode_codepage(bytes, kCodepageWindows1252);
  out.reserve(bytes.size() * 2);
  run_iconv(cd, bytes, "\xEF\xBF\xBD", out);
  // glibc emits valid UTF-8; checking is cheap insurance for odd converters.
  return is_valid_utf8(out) ? out : sanitize_utf8(out);
}

Bytes encode_codepage(std::string_view utf8, uint32_t codepage) {
  const CodePage& cp = code_page_or_default(codepage);
  std::string clean = sanitize_utf8(utf8);
  ByteView in(reinterpret_cast<const uint8_t*>(clean.data()), clean.size());
  if (cp.ascii_compatible && is_ascii(in)) return in.to_bytes();
  switch (cp.method) {
    case Method::kUtf8: return in.to_bytes();
    case Method::kUtf16Le: return utf8_to_utf16le(clean);
    case Method::kUtf16Be: {
      Bytes out = utf8_to_utf16le(clean);
      for (size_t i = 0; i + 1 < out.size(); i += 2) std::swap(out[i], out[i + 1]);
      return out;
    }
    default: break;
  }
  const char* name = cp.iconv_name ? cp.iconv_name : "CP936";  // HZ: write plain GBK
  iconv_t cd = iconv_cache().get(kUtf8Name, name);
  if (cd == IconvCache::kInvalid) return encode_codepage(utf8, kCodepageWindows1252);
  // On an unencodable character iconv stops at its first byte; stepping one
  // byte at a time would leave continuation bytes, so skip the whole character.
  std::string out;
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  char* inp = clean.data();
  size_t inleft = clean.size();
  char buf[4096];
  while (true) {
    char* outp = buf;
    size_t outleft = sizeof buf;
    size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
    out.append(buf, size_t(outp - buf));
    if (r != size_t(-1) || inleft == 0) break;
    if (errno == E2BIG) continue;
    out.push_back('?');
    do {
      ++inp;
      --inleft;
    } while (inleft > 0 && (static_cast<unsigned char>(*inp) & 0xC0) == 0x80);
  }
  char* outp = buf;
  size_t outleft = sizeof buf;
  iconv(cd, nullptr, nullptr, &outp, &outleft);
  out.append(buf, size_t(outp - buf));
  return Bytes(out.begin(), out.end());
}

bool is_known_codepage(uint32_t codepage) { return find_code_page(codepage) != nullptr; }

const char* codepage_iconv_name(uint32_t codepage) {
  const CodePage* cp = find_code_page(codepage);
  return cp ? cp->iconv_name : nullptr;
}

const char* codepage_charset_name(uint32_t codepage) {
  const CodePage* cp = find_code_page(codepage);
  return cp ? cp->charset : nullptr;
}

std::optional<uint32_t> codepage_from_charset(std::string_view charset) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '\r' || c == '\n'; };
  while (!charset.empty() && blank(charset.front())) charset.remove_prefix(1);
  while (!charset.empty() && blank(charset.back())) charset.remove_suffix(1);
  if (charset.empty() || charset.size() > 64) return std::nullopt;
  std::string name(charset);
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');

  auto it = std::lower_bound(std::begin(kCharsets), std::end(kCharsets), name,
                             [](const CharsetAlias& a, const std::string& n) { return a.name < std::string_view(n); });
  if (it != std::end(kCharsets) && it->name == std::string_view(name)) return it->codepage;

  // "windows-1251", "cp1251", "x-cp1251", "ibm852": a known code page number.
  for (std::string_view prefix : {"windows-", "x-cp", "cp", "ibm"}) {
    std::string_view rest(name);
    if (rest.substr(0, prefix.size()) != prefix) continue;
    rest.remove_prefix(prefix.size());
    if (rest.empty() || rest.size() > 5) continue;
    uint32_t number = 0;
    bool digits = true;
    for (char c : rest) {
      if (c < '0' || c > '9') { digits = false; break; }
      number = number * 10 + uint32_t(c - '0');
    }
    if (digits && is_known_codepage(number)) return number;
  }
  return std::nullopt;
}

bool is_seven_bit_codepage(uint32_t codepage) {
  switch (codepage) {
    case 20127: case 50220: case 50221: case 50222: case 50225: case 50227: case 52936: case 65000:
      return true;
    default:
      return false;
  }
}

std::optional<uint32_t> ansi_codepage_for(uint32_t codepage) {
  switch (codepage) {
    case 1200: case 1201: case 12000: case 12001: case 65000: case 65001:
    case 20127:  // us-ascii: 7-bit, no script
      return std::nullopt;
    case 50220: case 50221: case 50222: case 51932: case 20932: return 932;
    case 52936: case 51936: case 20936: case 54936: case 50227: return 936;
    case 50225: case 51949: return 949;
    case 28591: case 28605: return 1252;
    case 28592: return 1250;
    case 28595: case 20866: case 21866: return 1251;
    case 28597: return 1253;
    case 28599: return 1254;
    case 28598: case 38598: return 1255;
    case 28596: return 1256;
    case 28594: case 28603: return 1257;
    default: break;
  }
  if (!is_known_codepage(codepage)) return std::nullopt;
  return codepage;
}

std::optional<uint32_t> detect_codepage(ByteView sample) {
  if (is_ascii(sample)) return std::nullopt;
  const CharsetDetector* icu = charset_detector();
  if (!icu) return std::nullopt;
  // ICU takes an int32_t length; a sample is kilobytes.
  const int32_t size = int32_t(std::min<size_t>(sample.size(), size_t{1} << 20));
  UErrorCode status = U_ZERO_ERROR;
  UCharsetDetector* detector = icu->ucsdet_open_fn(&status);
  if (U_FAILURE(status)) return std::nullopt;
  std::optional<uint32_t> best;
  icu->ucsdet_setText_fn(detector, reinterpret_cast<const char*>(sample.data()), size, &status);
  int32_t count = 0;
  const UCharsetMatch** matches = U_SUCCESS(status) ? icu->ucsdet_detectAll_fn(detector, &count, &status) : nullptr;
  // Matches come best first; the first that names a code page an ANSI store
  // can hold and that reads every byte of the sample wins. Short samples
  // give ICU little to go on (it ranks Shift-JIS first for "Gr\xFC\xDF"),
  // so a guess under which some bytes are invalid is passed over, and a
  // double-byte page needs a few characters of evidence (those two bytes
  // are one valid character in 949).
  constexpr int32_t kMinConfidence = 10;
  constexpr size_t kMinDoubleByteEvidence = 8;  // high bytes: four characters
  size_t high_bytes = 0;
  for (size_t i = 0; i < size_t(size); ++i) high_bytes += sample.u8(i) >> 7;
  auto reads_cleanly = [&](uint32_t cp) {
    const bool double_byte = cp == 932 || cp == 936 || cp == 949 || cp == 950 || cp == 1361;
    if (double_byte && high_bytes < kMinDoubleByteEvidence) return false;
    return decode_codepage(sample, cp).find("\xEF\xBF\xBD") == std::string::npos;
  };
  for (int32_t i = 0; matches && U_SUCCESS(status) && i < count && !best; ++i) {
    UErrorCode s = U_ZERO_ERROR;
    const char* name = icu->ucsdet_getName_fn(matches[i], &s);
    const int32_t confidence = icu->ucsdet_getConfidence_fn(matches[i], &s);
    if (U_FAILURE(s) || !name || confidence < kMinConfidence) continue;
    auto cp = codepage_from_charset(name);
    if (!cp) continue;
    std::optional<uint32_t> candidate = *cp == kCodepageUtf8 ? std::optional<uint32_t>(kCodepageUtf8) : ansi_codepage_for(*cp);
    if (candidate && reads_cleanly(*candidate)) best = candidate;
  }
  icu->ucsdet_close_fn(detector);
  return best;
}

}  // namespace pstkit
