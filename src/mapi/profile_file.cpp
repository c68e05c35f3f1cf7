// The profile file (docs/MAPI.md "Profiles and message services"): JSON,
// {"format": "pstkit-mapi-profiles", "version": 1, "default_profile": "...",
//  "profiles": [...]}. Anything else is reported as corrupt and never
// replaced by an update.
#include <cstdint>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "mapi/ascii_text.h"
#include "pstkit/mapi_profiles.h"

namespace pstkit::mapi {

namespace {

using nlohmann::json;

constexpr const char* kFormat = "pstkit-mapi-profiles";
constexpr int kVersion = 1;
// Deeper than any profile file (value arrays are at depth 8); bounds the
// parser on hostile input.
constexpr int kMaxDepth = 16;

std::string hex_bytes(const std::vector<uint8_t>& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t x : b) {
    s += digits[x >> 4];
    s += digits[x & 15];
  }
  return s;
}

std::string tag_text(uint32_t tag) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08X", tag);
  return buf;
}

json props_json(const PropBag& bag) {
  json a = json::array();
  for (const auto& [id, v] : bag.values()) {
    json value;
    switch (v.value.index()) {
      case 0: value = std::get<int32_t>(v.value); break;
      case 1: value = std::get<bool>(v.value); break;
      case 2: value = std::get<std::string>(v.value); break;
      case 3: value = std::get<uint64_t>(v.value); break;
      case 4: value = hex_bytes(std::get<std::vector<uint8_t>>(v.value)); break;
      default: value = std::get<std::vector<std::string>>(v.value); break;
    }
    a.push_back({{"tag", tag_text(v.tag)}, {"value", std::move(value)}});
  }
  return a;
}

// Errors while reading: where in the document, and what.
struct Reader {
  const std::string& file;
  Status fail(const std::string& where, const std::string& what) const {
    return Status::corrupt("profile file " + file, Status::kNoOffset, where + ": " + what);
  }
  Result<std::string> string(const json& obj, const char* key, const std::string& where, bool required = true) const {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) return fail(where, std::string("missing \"") + key + "\"");
      return std::string();
    }
    if (!it->is_string()) return fail(where, std::string("\"") + key + "\" is not a string");
    return it->get<std::string>();
  }
  Result<bool> boolean(const json& obj, const char* key, const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end()) return false;
    if (!it->is_boolean()) return fail(where, std::string("\"") + key + "\" is not true or false");
    return it->get<bool>();
  }
  Result<MapiUid> uid(const json& obj, const std::string& where) const {
    PSTKIT_ASSIGN_OR_RETURN(std::string text, string(obj, "uid", where));
    MapiUid u{};
    if (!parse_uid_hex(text, &u)) return fail(where, "\"uid\" is not 32 hex digits");
    return u;
  }
  Result<PropBag> props(const json& obj, const std::string& where) const {
    PropBag bag;
    auto it = obj.find("props");
    if (it == obj.end()) return bag;
    if (!it->is_array()) return fail(where, "\"props\" is not an array");
    size_t i = 0;
    for (const json& p : *it) {
      const std::string at = where + " props[" + std::to_string(i++) + "]";
      if (!p.is_object()) return fail(at, "not an object");
      PSTKIT_ASSIGN_OR_RETURN(std::string tag_str, string(p, "tag", at));
      auto tag = parse_tag_name(tag_str);
      if (!tag.is_ok() || tag_str.size() != 10) return fail(at, "bad tag '" + tag_str + "'");
      auto vit = p.find("value");
      if (vit == p.end()) return fail(at, "missing \"value\"");
      const json& v = *vit;
      SectionProp pv;
      pv.tag = *tag;
      switch (prop_type(*tag)) {
        case kPtLong:
          if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX)
            return fail(at, "PT_LONG value is not a 32-bit integer");
          pv.value = static_cast<int32_t>(v.get<int64_t>());
          break;
        case kPtBoolean:
          if (!v.is_boolean()) return fail(at, "PT_BOOLEAN value is not true or false");
          pv.value = v.get<bool>();
          break;
        case kPtString8:
        case kPtUnicode:
          if (!v.is_string()) return fail(at, "string value is not a string");
          pv.value = v.get<std::string>();
          break;
        case kPtSysTime:
          if (!v.is_number_unsigned()) return fail(at, "PT_SYSTIME value is not a FILETIME");
          pv.value = v.get<uint64_t>();
          break;
        case kPtBinary: {
          if (!v.is_string()) return fail(at, "PT_BINARY value is not a hex string");
          auto parsed = parse_property_text(*tag, v.get<std::string>(), false);
          if (!parsed.is_ok()) return fail(at, "PT_BINARY value is not a hex string");
          pv = std::move(parsed).value();
          break;
        }
        default: {
          if (!v.is_array()) return fail(at, "multi-valued string is not an array");
          std::vector<std::string> items;
          for (const json& s : v) {
            if (!s.is_string()) return fail(at, "multi-valued string has a non-string");
            items.push_back(s.get<std::string>());
          }
          pv.value = std::move(items);
        }
      }
      if (bag.find(prop_id(pv.tag))) return fail(at, "property " + tag_str + " repeated");
      PSTKIT_RETURN_IF_ERROR(bag.set(std::move(pv)));
    }
    return bag;
  }
};

// Nesting depth of JSON text, strings skipped; stops counting past kMaxDepth.
bool depth_within_limit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

Result<ProfileFile> parse_profile_file(std::string_view text, const std::string& file_name) {
  Reader r{file_name};
  if (text.size() > kMaxProfileFileBytes) {
    return r.fail("file", std::to_string(text.size()) + " bytes; at most " + std::to_string(kMaxProfileFileBytes) +
                              " are read");
  }
  if (!depth_within_limit(text)) return r.fail("file", "nested deeper than a profile file");
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return r.fail("file", "not JSON");
  if (!doc.is_object()) return r.fail("file", "not a JSON object");
  PSTKIT_ASSIGN_OR_RETURN(std::string format, r.string(doc, "format", "file"));
  if (format != kFormat) return r.fail("file", "\"format\" is '" + format + "', not " + kFormat);
  auto vit = doc.find("version");
  if (vit == doc.end() || !vit->is_number_integer() || vit->get<int64_t>() < 1)
    return r.fail("file", "missing or bad \"version\"");
  if (vit->get<int64_t>() > kVersion) {
    return Status::unsupported("profile file " + file_name + ": version " + std::to_string(vit->get<int64_t>()) +
                               " is newer than this pstkit's (" + std::to_string(kVersion) + ")");
  }
  ProfileFile file;
  PSTKIT_ASSIGN_OR_RETURN(file.default_profile, r.string(doc, "default_profile", "file", false));
  auto pit = doc.find("profiles");
  if (pit == doc.end() || !pit->is_array()) return r.fail("file", "missing \"profiles\" array");
  size_t pi = 0;
  for (const json& pj : *pit) {
    const std::string where = "profiles[" + std::to_string(pi++) + "]";
    if (!pj.is_object()) return r.fail(where, "not an object");
    Profile p;
    PSTKIT_ASSIGN_OR_RETURN(p.name, r.string(pj, "name", where));
    if (!check_profile_name(p.name).is_ok()) return r.fail(where, "bad profile name '" + p.name + "'");
    PSTKIT_ASSIGN_OR_RETURN(p.id, r.string(pj, "id", where));
    MapiUid id_check{};
    if (!parse_uid_hex(p.id, &id_check)) return r.fail(where, "\"id\" is not 32 hex digits");
    PSTKIT_ASSIGN_OR_RETURN(p.app_profile, r.boolean(pj, "app_profile", where));
    PSTKIT_ASSIGN_OR_RETURN(p.delete_pending, r.boolean(pj, "delete_pending", where));
    PSTKIT_ASSIGN_OR_RETURN(p.rename_pending, r.string(pj, "rename_pending", where, false));
    if (!p.rename_pending.empty() && !check_profile_name(p.rename_pending).is_ok())
      return r.fail(where, "bad \"rename_pending\" name");
    for (const auto& other : file.profiles) {
      if (same_profile_name(other.name, p.name)) return r.fail(where, "profile name '" + p.name + "' repeated");
      if (other.id == p.id) return r.fail(where, "profile id repeated");
    }
    auto sit = pj.find("services");
    if (sit != pj.end()) {
      if (!sit->is_array()) return r.fail(where, "\"services\" is not an array");
      size_t si = 0;
      for (const json& sj : *sit) {
        const std::string swhere = where + " services[" + std::to_string(si++) + "]";
        if (!sj.is_object()) return r.fail(swhere, "not an object");
        MessageService s;
        PSTKIT_ASSIGN_OR_RETURN(s.uid, r.uid(sj, swhere));
        PSTKIT_ASSIGN_OR_RETURN(s.name, r.string(sj, "name", swhere));
        PSTKIT_ASSIGN_OR_RETURN(s.props, r.props(sj, swhere));
        auto prit = sj.find("providers");
        if (prit != sj.end()) {
          if (!prit->is_array()) return r.fail(swhere, "\"providers\" is not an array");
          size_t qi = 0;
          for (const json& qj : *prit) {
            const std::string qwhere = swhere + " providers[" + std::to_string(qi++) + "]";
            if (!qj.is_object()) return r.fail(qwhere, "not an object");
            Provider q;
            PSTKIT_ASSIGN_OR_RETURN(q.uid, r.uid(qj, qwhere));
            PSTKIT_ASSIGN_OR_RETURN(q.section, r.string(qj, "section", qwhere, false));
            PSTKIT_ASSIGN_OR_RETURN(q.props, r.props(qj, qwhere));
            s.providers.push_back(std::move(q));
          }
        }
        p.services.push_back(std::move(s));
      }
    }
    file.profiles.push_back(std::move(p));
  }
  if (!file.default_profile.empty() && !file.find(file.default_profile))
    return r.fail("file", "\"default_profile\" names no listed profile");
  return file;
}

std::string serialize_profile_file(const ProfileFile& file) {
  json doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["default_profile"] = file.default_profile;
  json profiles = json::array();
  for (const auto& p : file.profiles) {
    json pj;
    pj["name"] = p.name;
    pj["id"] = p.id;
    if (p.app_profile) pj["app_profile"] = true;
    if (p.delete_pending) pj["delete_pending"] = true;
    if (!p.rename_pending.empty()) pj["rename_pending"] = p.rename_pending;
    json services = json::array();
    for (const auto& s : p.services) {
      json sj;
      sj["uid"] = uid_hex(s.uid);
      sj["name"] = s.name;
      sj["props"] = props_json(s.props);
      json providers = json::array();
      for (const auto& q : s.providers) {
        providers.push_back({{"uid", uid_hex(q.uid)}, {"section", q.section}, {"props", props_json(q.props)}});
      }
      sj["providers"] = std::move(providers);
      services.push_back(std::move(sj));
    }
    pj["services"] = std::move(services);
    profiles.push_back(std::move(pj));
  }
  doc["profiles"] = std::move(profiles);
  // Invalid UTF-8 in a name or value (from a caller) is replaced, never thrown.
  return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

// ---------------------------------------------------------------------------

namespace {

// Decodes one UTF-8 code point; false for malformed or overlong sequences.
bool next_code_point(std::string_view s, size_t* i, char32_t* out) {
  const auto b0 = static_cast<uint8_t>(s[*i]);
  size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (len == 0 || *i + len > s.size()) return false;
  char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[*i + k]);
    if ((b >> 6) != 2) return false;
    cp = cp << 6 | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  *i += len;
  *out = cp;
  return true;
}

// "All alphanumeric characters, including accent characters": ASCII
// letters and digits, and outside ASCII every code point that is not a
// control, space, punctuation or symbol block (Latin-1 punctuation and
// symbols, General Punctuation to Misc. Symbols and Arrows, CJK Symbols and
// Punctuation, specials, private use).
bool is_name_char(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;  // ª µ º
  if (c == 0xD7 || c == 0xF7) return false;                  // × ÷
  if (c >= 0x2000 && c <= 0x2BFF) return false;
  if (c >= 0x3000 && c <= 0x303F) return false;
  if (c >= 0xE000 && c <= 0xF8FF) return false;
  if (c >= 0xFE00 && c <= 0xFE0F) return false;
  if (c >= 0xFFF0) return c >= 0x10000 && c < 0xF0000;
  return true;
}

}  // namespace

Status check_profile_name(std::string_view name) {
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument("profile name '" + std::string(name.substr(0, 80)) + "': " + why);
  };
  if (name.empty()) return bad("empty");
  if (name.front() == ' ' || name.back() == ' ') return bad("leading or trailing space");
  size_t count = 0;
  for (size_t i = 0; i < name.size();) {
    char32_t c = 0;
    if (!next_code_point(name, &i, &c)) return bad("not UTF-8");
    if (++count > kMaxProfileName) return bad("longer than 64 characters");
    if (c != ' ' && !is_name_char(c)) return bad("only letters, digits, '_' and embedded spaces are allowed");
  }
  return Status::ok();
}

bool same_profile_name(std::string_view a, std::string_view b) { return ascii_iequals(a, b); }

Profile* ProfileFile::find(std::string_view name) {
  for (auto& p : profiles) {
    if (!p.delete_pending && same_profile_name(p.name, name)) return &p;
  }
  return nullptr;
}

const Profile* ProfileFile::find(std::string_view name) const {
  return const_cast<ProfileFile*>(this)->find(name);
}

bool ProfileFile::name_taken(std::string_view name) const {
  for (const auto& p : profiles) {
    if (same_profile_name(p.name, name) || same_profile_name(p.rename_pending, name)) return true;
  }
  return false;
}

const MessageService* Profile::find_service(const MapiUid& uid) const {
  for (const auto& s : services) {
    if (s.uid == uid) return &s;
  }
  return nullptr;
}

MessageService* Profile::find_service(const MapiUid& uid) {
  for (auto& s : services) {
    if (s.uid == uid) return &s;
  }
  return nullptr;
}

std::string MessageService::display_name() const {
  return props.get_string(prop_id(tags::kDisplayName)).value_or(name);
}

uint32_t MessageService::resource_flags() const {
  return static_cast<uint32_t>(props.get_long(prop_id(tags::kResourceFlags)).value_or(0));
}

}  // namespace pstkit::mapi
