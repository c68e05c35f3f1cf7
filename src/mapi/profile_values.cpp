// Profile section values: SectionProp/PropBag, MAPIUIDs, error kinds, and the
// text form of tags and values that mapisvc.inf and the CLI use
// (property-entries-in-mapisvc-inf-message-service-sections.md).
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "mapi/ascii_text.h"
#include "pstkit/mapi_profiles.h"

namespace pstkit::mapi {

ErrorKind error_kind(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return ErrorKind::kOk;
    case Code::kNotFound: return ErrorKind::kNotFound;
    case Code::kAlreadyExists: return ErrorKind::kExists;
    case Code::kInvalidArgument: return ErrorKind::kInvalid;
    case Code::kCorrupt:
    case Code::kTruncated: return ErrorKind::kCorrupt;
    case Code::kBusy: return ErrorKind::kBusy;
    case Code::kIoError: return ErrorKind::kIo;
    case Code::kUnsupported: return ErrorKind::kUnsupported;
  }
  return ErrorKind::kIo;
}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "ok";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kExists: return "exists";
    case ErrorKind::kInvalid: return "invalid";
    case ErrorKind::kCorrupt: return "corrupt";
    case ErrorKind::kBusy: return "busy";
    case ErrorKind::kIo: return "I/O error";
    case ErrorKind::kUnsupported: return "unsupported";
  }
  return "?";
}

bool is_supported_type(uint16_t type) {
  switch (type) {
    case kPtLong:
    case kPtBoolean:
    case kPtString8:
    case kPtUnicode:
    case kPtSysTime:
    case kPtBinary:
    case kPtMvString8:
    case kPtMvUnicode: return true;
    default: return false;
  }
}

namespace {

// The variant alternative each supported type holds.
size_t alternative_for(uint16_t type) {
  switch (type) {
    case kPtLong: return 0;
    case kPtBoolean: return 1;
    case kPtString8:
    case kPtUnicode: return 2;
    case kPtSysTime: return 3;
    case kPtBinary: return 4;
    default: return 5;  // multi-valued strings
  }
}

std::string hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

}  // namespace

Status SectionProp::check() const {
  const uint16_t type = prop_type(tag);
  if (!is_supported_type(type)) {
    return Status::invalid_argument("property " + hex32(tag) + ": type " + hex32(type).substr(6) +
                                    " is not supported in profile sections");
  }
  if (value.index() != alternative_for(type)) {
    return Status::invalid_argument("property " + hex32(tag) + ": value does not match its type");
  }
  return Status::ok();
}

Status PropBag::set(SectionProp value) {
  PSTKIT_RETURN_IF_ERROR(value.check());
  const uint16_t id = prop_id(value.tag);
  values_.insert_or_assign(id, std::move(value));
  return Status::ok();
}

const SectionProp* PropBag::find(uint16_t id) const {
  auto it = values_.find(id);
  return it == values_.end() ? nullptr : &it->second;
}

const SectionProp* PropBag::find_tag(uint32_t tag) const {
  const SectionProp* v = find(prop_id(tag));
  return v && v->tag == tag ? v : nullptr;
}

bool PropBag::erase(uint16_t id) { return values_.erase(id) > 0; }

std::optional<int32_t> PropBag::get_long(uint16_t id) const {
  const SectionProp* v = find(id);
  if (!v || prop_type(v->tag) != kPtLong) return std::nullopt;
  return std::get<int32_t>(v->value);
}

std::optional<std::string> PropBag::get_string(uint16_t id) const {
  const SectionProp* v = find(id);
  if (!v) return std::nullopt;
  const uint16_t type = prop_type(v->tag);
  if (type != kPtString8 && type != kPtUnicode) return std::nullopt;
  return std::get<std::string>(v->value);
}

MapiUid new_uid() {
  MapiUid uid{};
  size_t got = 0;
  while (got < uid.size()) {
    ssize_t n = getrandom(uid.data() + got, uid.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // getrandom cannot fail on Linux >= 3.17 with a buffer this small;
      // abort rather than hand out a predictable UID.
      std::abort();
    }
    got += static_cast<size_t>(n);
  }
  return uid;
}

std::string uid_hex(const MapiUid& uid) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(32);
  for (uint8_t b : uid) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex_bytes(std::string_view text, std::vector<uint8_t>* out) {
  if (text.size() % 2 != 0) return false;
  out->clear();
  out->reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

// Named tags a catalog or the CLI may use (mapitags.h; the PST ones from
// mspst.h). The unsuffixed string names mean the Unicode tag, as under
// UNICODE; _A and _W pick the 8-bit or Unicode one.
struct NamedTag {
  const char* name;
  uint32_t tag;
};
constexpr NamedTag kNamedTags[] = {
    {"PR_DISPLAY_NAME", tags::kDisplayName},
    {"PR_PROVIDER_DISPLAY", tags::kProviderDisplay},
    {"PR_RESOURCE_FLAGS", tags::kResourceFlags},
    {"PR_PROVIDER_DLL_NAME", tags::kProviderDllName},
    {"PR_PROVIDER_UID", tags::kProviderUid},
    {"PR_PROVIDER_ORDINAL", tags::kProviderOrdinal},
    {"PR_MDB_PROVIDER", tags::kMdbProvider},
    {"PR_SERVICE_NAME", tags::kServiceName},
    {"PR_SERVICE_DLL_NAME", tags::kServiceDllName},
    {"PR_SERVICE_ENTRY_NAME", tags::kServiceEntryName},
    {"PR_SERVICE_UID", tags::kServiceUid},
    {"PR_SERVICE_SUPPORT_FILES", tags::kServiceSupportFiles},
    {"PR_SERVICE_DELETE_FILES", tags::kServiceDeleteFiles},
    {"PR_RESOURCE_TYPE", tags::kResourceType},
    {"PR_RESOURCE_PATH", 0x3E07001F},
    {"PR_PROFILE_NAME", 0x3D12001F},
    {"PR_IDENTITY_DISPLAY", 0x3E00001F},
    {"PR_IDENTITY_ENTRYID", 0x3E010102},
    {"PR_PST_PATH", tags::kPstPath},
    {"PR_PST_REMEMBER_PW", tags::kPstRememberPw},
    {"PR_PST_ENCRYPTION", tags::kPstEncryption},
    {"PR_PST_PW_SZ_OLD", 0x6703001F},
    {"PR_PST_PW_SZ_NEW", 0x6704001F},
    {"PR_PST_CONFIG_FLAGS", tags::kPstConfigFlags},
    {"PR_PST_PATH_HINT", 0x6771001F},
};

// Symbolic values of PT_LONG entries (mapix.h, mspst.h).
struct NamedValue {
  const char* name;
  uint32_t value;
};
constexpr NamedValue kNamedValues[] = {
    {"SERVICE_DEFAULT_STORE", 0x1},      {"SERVICE_SINGLE_COPY", 0x2},
    {"SERVICE_CREATE_WITH_STORE", 0x4},  {"SERVICE_PRIMARY_IDENTITY", 0x8},
    {"SERVICE_NO_PRIMARY_IDENTITY", 0x20}, {"SERVICE_NO_RESTART_WARNING", 0x80},
    {"STATUS_DEFAULT_OUTBOUND", 0x1},    {"STATUS_DEFAULT_STORE", 0x2},
    {"STATUS_PRIMARY_IDENTITY", 0x4},    {"STATUS_SIMPLE_STORE", 0x8},
    {"STATUS_XP_PREFER_LAST", 0x10},     {"STATUS_NO_PRIMARY_IDENTITY", 0x20},
    {"STATUS_NO_DEFAULT_STORE", 0x40},   {"STATUS_TEMP_SECTION", 0x80},
    {"STATUS_OWN_STORE", 0x100},         {"HOOK_INBOUND", 0x200},
    {"HOOK_OUTBOUND", 0x400},            {"STATUS_NEED_IPM_TREE", 0x800},
    {"STATUS_PRIMARY_STORE", 0x1000},    {"STATUS_SECONDARY_STORE", 0x2000},
    {"MAPI_STORE_PROVIDER", 33},         {"MAPI_AB_PROVIDER", 35},
    {"MAPI_TRANSPORT_PROVIDER", 36},     {"MAPI_SPOOLER", 37},
    {"MAPI_PROFILE_PROVIDER", 38},       {"MAPI_SUBSYSTEM", 39},
    {"MAPI_HOOK_PROVIDER", 40},          {"PST_CONFIG_UNICODE", 0x80000000},
    {"PST_CONFIG_CREATE_NOWARN", 0x1},   {"PST_CONFIG_PRESERVE_DISPLAY_NAME", 0x2},
    {"PSTF_NO_ENCRYPTION", 0x80000000},  {"PSTF_COMPRESSABLE_ENCRYPTION", 0x40000000},
    {"PSTF_BEST_ENCRYPTION", 0x20000000},
};

bool is_string_type(uint16_t type) { return type == kPtString8 || type == kPtUnicode; }

bool parse_u32(std::string_view text, uint32_t* out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && end == text.data() + text.size();
}

// "01000000" of a hex-tagged entry: the value's bytes in file order, as in
// the documentation's examples ("66020003=01000000" is 1).
uint32_t little_endian_u32(const std::vector<uint8_t>& b) {
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

// PT_LONG text: symbols and numbers joined by '|', or (numeric tags only)
// eight hex digits in byte order.
bool parse_long_text(std::string_view text, bool numeric_tag, uint32_t* out) {
  if (numeric_tag && text.size() == 8) {
    std::vector<uint8_t> bytes;
    if (parse_hex_bytes(text, &bytes)) {
      *out = little_endian_u32(bytes);
      return true;
    }
  }
  uint32_t total = 0;
  while (true) {
    size_t bar = text.find('|');
    std::string_view part = trim(text.substr(0, bar));
    uint32_t v = 0;
    bool known = parse_u32(part, &v);
    if (!known && !part.empty() && part[0] == '-') {
      int32_t neg = 0;
      auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), neg);
      known = ec == std::errc() && end == part.data() + part.size();
      v = static_cast<uint32_t>(neg);
    }
    for (const auto& nv : kNamedValues) {
      if (!known && part == nv.name) {
        v = nv.value;
        known = true;
      }
    }
    if (!known) return false;
    total |= v;
    if (bar == std::string_view::npos) break;
    text.remove_prefix(bar + 1);
  }
  *out = total;
  return true;
}

}  // namespace

bool parse_uid_hex(std::string_view text, MapiUid* out) {
  std::vector<uint8_t> bytes;
  if (text.size() != 32 || !parse_hex_bytes(text, &bytes)) return false;
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return true;
}

Result<uint32_t> parse_tag_name(std::string_view name) {
  name = trim(name);
  if (name.size() == 8 || (name.size() == 10 && (name.substr(0, 2) == "0x" || name.substr(0, 2) == "0X"))) {
    uint32_t tag = 0;
    std::string_view digits = name.size() == 10 ? name.substr(2) : name;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), tag, 16);
    if (ec == std::errc() && end == digits.data() + digits.size()) {
      if (!is_supported_type(prop_type(tag))) {
        return Status::invalid_argument("tag " + std::string(name) + ": property type " +
                                        hex32(prop_type(tag)).substr(6) + " is not supported");
      }
      return tag;
    }
  }
  std::string_view base = name;
  int variant = 0;  // 0 plain, 'A' 8-bit, 'W' Unicode
  if (base.size() > 2 && (base.ends_with("_A") || base.ends_with("_W"))) {
    variant = base.back();
    base.remove_suffix(2);
  }
  for (const auto& nt : kNamedTags) {
    if (base != nt.name) continue;
    uint32_t tag = nt.tag;
    const uint16_t type = prop_type(tag);
    if (variant != 0) {
      if (!is_string_type(type) && type != kPtMvUnicode) break;
      if (tag == tags::kServiceEntryName) break;  // PR_SERVICE_ENTRY_NAME is 8-bit only
      const bool mv = (type & kMvFlag) != 0;
      const uint16_t t = variant == 'A' ? kPtString8 : kPtUnicode;
      tag = prop_tag(prop_id(tag), static_cast<uint16_t>(mv ? (t | kMvFlag) : t));
    }
    return tag;
  }
  return Status::not_found("unknown property name '" + std::string(name) + "'");
}

std::string tag_display_name(uint32_t tag) {
  for (const auto& nt : kNamedTags) {
    if (prop_id(nt.tag) != prop_id(tag)) continue;
    if (nt.tag == tag) {
      const uint16_t type = prop_type(tag);
      if (tag != tags::kServiceEntryName && (type == kPtUnicode || type == kPtMvUnicode))
        return std::string(nt.name) + "_W";
      return nt.name;
    }
    const uint16_t type = prop_type(tag), named = prop_type(nt.tag);
    if ((named & 0x0FFF) == kPtUnicode && (type & 0x0FFF) == kPtString8 &&
        (type & 0x1000) == (named & 0x1000))
      return std::string(nt.name) + "_A";
  }
  return hex32(tag);
}

Result<SectionProp> parse_property_text(uint32_t tag, std::string_view text, bool numeric_tag) {
  text = trim(text);
  const uint16_t type = prop_type(tag);
  auto bad = [&](const char* what) {
    return Status::invalid_argument(tag_display_name(tag) + ": '" + std::string(text.substr(0, 64)) + "' is not " +
                                    what);
  };
  switch (type) {
    case kPtLong: {
      uint32_t v = 0;
      if (!parse_long_text(text, numeric_tag, &v)) return bad("a number or a known constant");
      return SectionProp::long_value(tag, static_cast<int32_t>(v));
    }
    case kPtBoolean: {
      uint32_t v = 0;
      if (text == "TRUE" || text == "true") return SectionProp::bool_value(tag, true);
      if (text == "FALSE" || text == "false") return SectionProp::bool_value(tag, false);
      if (!parse_long_text(text, numeric_tag, &v)) return bad("a boolean");
      return SectionProp::bool_value(tag, v != 0);
    }
    case kPtString8:
    case kPtUnicode: return SectionProp::string_value(tag, std::string(text));
    case kPtSysTime: {
      std::vector<uint8_t> bytes;
      if (numeric_tag && text.size() == 16 && parse_hex_bytes(text, &bytes)) {
        uint64_t ft = 0;
        for (int i = 7; i >= 0; --i) ft = ft << 8 | bytes[static_cast<size_t>(i)];
        return SectionProp::systime_value(tag, ft);
      }
      uint64_t ft = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ft);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return bad("a FILETIME");
      return SectionProp::systime_value(tag, ft);
    }
    case kPtBinary: {
      std::vector<uint8_t> bytes;
      if (!parse_hex_bytes(text, &bytes)) return bad("hex bytes");
      return SectionProp::binary_value(tag, std::move(bytes));
    }
    case kPtMvString8:
    case kPtMvUnicode:
      return SectionProp::multi_string_value(tag, split_list(text));
    default: return bad("of a supported property type");
  }
}

}  // namespace pstkit::mapi
