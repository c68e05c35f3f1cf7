// Property name tables: see include/pstkit/property_names.h.
#include "pstkit/property_names.h"

#include <algorithm>
#include <iterator>

namespace pstkit {
namespace {

struct NamedLidEntry {
  uint8_t set;  // index into kPropertySets
  uint16_t type;
  uint32_t lid;
  const char* name;
};

struct NamedStringEntry {
  uint8_t set;
  uint16_t type;
  const char* string_name;
  const char* name;
};

#include "property_names.inc"

// ASCII case-insensitive three-way comparison; names are plain ASCII.
constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
constexpr int compare_ci(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    char x = lower(a[i]), y = lower(b[i]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y) ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

const char* named_name_at(uint16_t index) {
  return (index & 0x8000) ? kNamedStrings[index & 0x7FFF].name : kNamedLids[index].name;
}

// The generator sorts; these checks keep a hand-edited table honest. Strict
// ordering also proves the keys unique.
constexpr bool tables_sorted() {
  for (size_t i = 1; i < std::size(kPropertySets); ++i)
    if (!(kPropertySets[i - 1].guid < kPropertySets[i].guid)) return false;
  for (size_t i = 1; i < std::size(kTags); ++i)
    if (kTags[i - 1].id > kTags[i].id) return false;
  for (size_t i = 1; i < std::size(kTagsByName); ++i)
    if (compare_ci(kTags[kTagsByName[i - 1]].name, kTags[kTagsByName[i]].name) >= 0) return false;
  for (size_t i = 1; i < std::size(kNamedLids); ++i) {
    const auto &a = kNamedLids[i - 1], &b = kNamedLids[i];
    if (a.set > b.set || (a.set == b.set && a.lid >= b.lid)) return false;
  }
  for (size_t i = 1; i < std::size(kNamedStrings); ++i) {
    const auto &a = kNamedStrings[i - 1], &b = kNamedStrings[i];
    if (a.set > b.set || (a.set == b.set && compare_ci(a.string_name, b.string_name) >= 0)) return false;
  }
  for (size_t i = 1; i < std::size(kNamedByName); ++i) {
    auto name = [](uint16_t ix) {
      return (ix & 0x8000) ? kNamedStrings[ix & 0x7FFF].name : kNamedLids[ix].name;
    };
    if (compare_ci(name(kNamedByName[i - 1]), name(kNamedByName[i])) >= 0) return false;
  }
  return std::size(kTagsByName) <= std::size(kTags) &&
         std::size(kNamedByName) == std::size(kNamedLids) + std::size(kNamedStrings) &&
         std::size(kPropertySets) < 256;
}
static_assert(tables_sorted(), "regenerate src/messaging/property_names.inc");

// Rows of kTags with this id.
std::span<const TagInfo> tags_with_id(uint16_t id) {
  auto lo = std::lower_bound(std::begin(kTags), std::end(kTags), id,
                             [](const TagInfo& t, uint16_t v) { return t.id < v; });
  auto hi = std::upper_bound(lo, std::end(kTags), id,
                             [](uint16_t v, const TagInfo& t) { return v < t.id; });
  return {lo, hi};
}

// Index of the set in kPropertySets, or -1.
int set_index(const Guid& set) {
  auto it = std::lower_bound(std::begin(kPropertySets), std::end(kPropertySets), set,
                             [](const PropertySetInfo& e, const Guid& g) { return e.guid < g; });
  if (it == std::end(kPropertySets) || it->guid != set) return -1;
  return int(it - std::begin(kPropertySets));
}

NamedPropertyInfo info_of(const NamedLidEntry& e) {
  NamedPropertyInfo info;
  info.set = kPropertySets[e.set].guid;
  info.lid = e.lid;
  info.type = e.type;
  info.name = e.name;
  return info;
}

NamedPropertyInfo info_of(const NamedStringEntry& e) {
  NamedPropertyInfo info;
  info.set = kPropertySets[e.set].guid;
  info.string_name = e.string_name;
  info.type = e.type;
  info.name = e.name;
  return info;
}

const NamedLidEntry* find_lid_entry(const Guid& set, uint32_t lid) {
  int s = set_index(set);
  if (s < 0) return nullptr;
  auto it = std::lower_bound(std::begin(kNamedLids), std::end(kNamedLids), std::pair(s, lid),
                             [](const NamedLidEntry& e, std::pair<int, uint32_t> key) {
                               return e.set != key.first ? e.set < key.first : e.lid < key.second;
                             });
  if (it == std::end(kNamedLids) || it->set != s || it->lid != lid) return nullptr;
  return it;
}

const NamedStringEntry* find_string_entry(const Guid& set, std::string_view name) {
  int s = set_index(set);
  if (s < 0) return nullptr;
  auto it = std::lower_bound(std::begin(kNamedStrings), std::end(kNamedStrings), s,
                             [name](const NamedStringEntry& e, int set_ix) {
                               if (e.set != set_ix) return e.set < set_ix;
                               return compare_ci(e.string_name, name) < 0;
                             });
  if (it == std::end(kNamedStrings) || it->set != s || compare_ci(it->string_name, name) != 0)
    return nullptr;
  return it;
}

bool is_string_type(uint16_t t) { return (t & 0x0FFF) == 0x001E || (t & 0x0FFF) == 0x001F; }

struct TypeName {
  uint16_t type;
  const char* name;
};
// MS-OXCDATA 2.11.1, sorted by type.
constexpr TypeName kTypeNames[] = {
    {0x0000, "PtypUnspecified"},       {0x0001, "PtypNull"},
    {0x0002, "PtypInteger16"},         {0x0003, "PtypInteger32"},
    {0x0004, "PtypFloating32"},        {0x0005, "PtypFloating64"},
    {0x0006, "PtypCurrency"},          {0x0007, "PtypFloatingTime"},
    {0x000A, "PtypErrorCode"},         {0x000B, "PtypBoolean"},
    {0x000D, "PtypObject"},            {0x0014, "PtypInteger64"},
    {0x001E, "PtypString8"},           {0x001F, "PtypString"},
    {0x0040, "PtypTime"},              {0x0048, "PtypGuid"},
    {0x00FB, "PtypServerId"},          {0x00FD, "PtypRestriction"},
    {0x00FE, "PtypRuleAction"},        {0x0102, "PtypBinary"},
    {0x1002, "PtypMultipleInteger16"}, {0x1003, "PtypMultipleInteger32"},
    {0x1004, "PtypMultipleFloating32"}, {0x1005, "PtypMultipleFloating64"},
    {0x1006, "PtypMultipleCurrency"},  {0x1007, "PtypMultipleFloatingTime"},
    {0x1014, "PtypMultipleInteger64"}, {0x101E, "PtypMultipleString8"},
    {0x101F, "PtypMultipleString"},    {0x1040, "PtypMultipleTime"},
    {0x1048, "PtypMultipleGuid"},      {0x1102, "PtypMultipleBinary"},
};
static_assert(std::is_sorted(std::begin(kTypeNames), std::end(kTypeNames),
                             [](const TypeName& a, const TypeName& b) { return a.type < b.type; }));

}  // namespace

const char* tag_name(uint16_t prop_id) {
  auto rows = tags_with_id(prop_id);
  return rows.empty() ? nullptr : rows.front().name;
}

const char* tag_name(uint16_t prop_id, uint16_t prop_type) {
  // [MS-OXCDATA] 2.11.1: a string property is PtypString or PtypString8
  // (ANSI files); any other type must be one the name is documented with.
  auto rows = tags_with_id(prop_id);
  for (const TagInfo& t : rows)
    if (t.type == prop_type) return t.name;
  for (const TagInfo& t : rows)
    if (is_string_type(t.type) && is_string_type(prop_type) && (t.type & 0x1000) == (prop_type & 0x1000))
      return t.name;
  return nullptr;
}

uint16_t tag_canonical_type(uint16_t prop_id) {
  auto rows = tags_with_id(prop_id);
  return rows.empty() ? 0 : rows.front().type;
}

const TagInfo* find_tag_by_name(std::string_view name) {
  auto it = std::lower_bound(std::begin(kTagsByName), std::end(kTagsByName), name,
                             [](uint16_t ix, std::string_view n) { return compare_ci(kTags[ix].name, n) < 0; });
  if (it == std::end(kTagsByName) || compare_ci(kTags[*it].name, name) != 0) return nullptr;
  return &kTags[*it];
}

std::optional<uint16_t> tag_id_by_name(std::string_view name) {
  const TagInfo* t = find_tag_by_name(name);
  if (!t) return std::nullopt;
  return t->id;
}

std::span<const TagInfo> all_tags() { return kTags; }

const char* named_lid_name(const Guid& set, uint32_t lid) {
  if (const NamedLidEntry* e = find_lid_entry(set, lid)) return e->name;
  if (set == property_sets::kPsMapi && lid < 0x8000) return tag_name(uint16_t(lid));
  return nullptr;
}

const char* named_string_name(const Guid& set, std::string_view string_name) {
  const NamedStringEntry* e = find_string_entry(set, string_name);
  return e ? e->name : nullptr;
}

std::optional<NamedPropertyInfo> find_named_lid(const Guid& set, uint32_t lid) {
  if (const NamedLidEntry* e = find_lid_entry(set, lid)) return info_of(*e);
  if (set == property_sets::kPsMapi && lid < 0x8000) {
    auto rows = tags_with_id(uint16_t(lid));
    if (rows.empty()) return std::nullopt;
    NamedPropertyInfo info;
    info.set = set;
    info.lid = lid;
    info.type = rows.front().type;
    info.name = rows.front().name;
    return info;
  }
  return std::nullopt;
}

std::optional<NamedPropertyInfo> find_named_string(const Guid& set, std::string_view string_name) {
  const NamedStringEntry* e = find_string_entry(set, string_name);
  if (!e) return std::nullopt;
  return info_of(*e);
}

std::optional<NamedPropertyInfo> named_property_by_name(std::string_view name) {
  auto it = std::lower_bound(std::begin(kNamedByName), std::end(kNamedByName), name,
                             [](uint16_t ix, std::string_view n) { return compare_ci(named_name_at(ix), n) < 0; });
  if (it == std::end(kNamedByName) || compare_ci(named_name_at(*it), name) != 0) return std::nullopt;
  if (*it & 0x8000) return info_of(kNamedStrings[*it & 0x7FFF]);
  return info_of(kNamedLids[*it]);
}

std::vector<NamedPropertyInfo> all_named_properties() {
  std::vector<NamedPropertyInfo> out;
  out.reserve(std::size(kNamedLids) + std::size(kNamedStrings));
  for (const auto& e : kNamedLids) out.push_back(info_of(e));
  for (const auto& e : kNamedStrings) out.push_back(info_of(e));
  return out;
}

const char* property_set_name(const Guid& set) {
  int s = set_index(set);
  return s < 0 ? nullptr : kPropertySets[s].name;
}

std::optional<Guid> property_set_by_name(std::string_view name) {
  // Twenty entries: a scan is as fast as an index would be.
  for (const PropertySetInfo& s : kPropertySets)
    if (compare_ci(s.name, name) == 0) return s.guid;
  return std::nullopt;
}

std::span<const PropertySetInfo> all_property_sets() { return kPropertySets; }

const char* type_name(uint16_t prop_type) {
  auto it = std::lower_bound(std::begin(kTypeNames), std::end(kTypeNames), prop_type,
                             [](const TypeName& e, uint16_t t) { return e.type < t; });
  if (it == std::end(kTypeNames) || it->type != prop_type) return nullptr;
  return it->name;
}

std::optional<uint16_t> type_by_name(std::string_view name) {
  if (compare_ci(name, "PtypEmbeddedTable") == 0) return uint16_t{0x000D};
  for (const TypeName& t : kTypeNames)
    if (compare_ci(t.name, name) == 0) return t.type;
  return std::nullopt;
}

}  // namespace pstkit
