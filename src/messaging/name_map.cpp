// MS-PST 2.4.7 Named Property Lookup Map (node 0x61).
#include <algorithm>
#include <cstring>
#include <tuple>

#include "messaging/name_map_format.h"
#include "pstkit/messaging.h"
#include "pstkit/property_names.h"

namespace pstkit {

namespace name_map_format {

Result<NamedProperty> decode_nameid(ByteView entries, size_t offset, ByteView guids, ByteView strings,
                                    uint16_t* index) {
  if (!entries.has(offset, kNameIdSize)) {
    return Status::corrupt("name-to-id map", Status::kNoOffset, "NAMEID past the entry stream");
  }
  const uint32_t property_id = entries.u32(offset);
  const uint16_t guid_field = entries.u16(offset + 4);
  *index = entries.u16(offset + 6);
  const uint16_t guid = guid_field >> 1;
  NamedProperty name;
  name.is_string = (guid_field & 1) != 0;
  // wGuid 1 and 2 name PS_MAPI and PS_PUBLIC_STRINGS without storing them;
  // 3 and up index the GUID stream.
  if (guid == kGuidMapi) {
    name.guid = property_sets::kPsMapi;
  } else if (guid == kGuidPublicStrings) {
    name.guid = property_sets::kPsPublicStrings;
  } else if (guid >= kFirstStreamGuid) {
    const size_t g = size_t(guid - kFirstStreamGuid) * kGuidSize;
    if (!guids.has(g, kGuidSize)) {
      return Status::corrupt("name-to-id map", Status::kNoOffset, "GUID index past the GUID stream");
    }
    name.guid = Guid::from_bytes(guids.data() + g);
  }
  if (name.is_string) {
    if (!strings.has(property_id, 4) || !strings.has(size_t(property_id) + 4, strings.u32(property_id))) {
      return Status::corrupt("name-to-id map", Status::kNoOffset, "name past the string stream");
    }
    name.name = ltp::utf16le_to_utf8(strings.sub(size_t(property_id) + 4, strings.u32(property_id)));
  } else {
    name.lid = property_id;
  }
  return name;
}

}  // namespace name_map_format

using namespace name_map_format;

Result<NameMap> NameMap::load(const ndb::Database& db) {
  NameMap map;
  auto node = db.open_node(ndb::kNidNameToIdMap);
  if (!node) {
    if (node.status().code() == Code::kNotFound) return map;
    return node.status();
  }
  ltp::Options opts;
  opts.format = db.header().format;
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)), opts));
  Bytes guids, entries, strings;
  if (auto v = pc.get(kStreamGuidId)) guids = std::move(v->data);
  if (auto v = pc.get(kStreamEntryId)) entries = std::move(v->data);
  if (auto v = pc.get(kStreamStringId)) strings = std::move(v->data);
  for (size_t at = 0; at + kNameIdSize <= entries.size(); at += kNameIdSize) {
    uint16_t index = 0;
    auto name = decode_nameid(ByteView(entries), at, ByteView(guids), ByteView(strings), &index);
    if (!name) continue;  // damaged entry: skip it (the checker reports it)
    const uint32_t id = 0x8000u + index;
    if (id > 0xFFFF) continue;
    map.by_id_[uint16_t(id)] = std::move(*name);
  }
  map.index();
  return map;
}

void NameMap::index() {
  by_lid_.clear();
  by_name_.clear();
  for (const auto& [id, np] : by_id_) {
    if (np.is_string) by_name_.push_back({np.guid, np.name, id});
    else by_lid_.push_back({np.guid, np.lid, id});
  }
  std::sort(by_lid_.begin(), by_lid_.end(), [](const ByLid& a, const ByLid& b) {
    return std::tie(a.set, a.lid, a.id) < std::tie(b.set, b.lid, b.id);
  });
  std::sort(by_name_.begin(), by_name_.end(), [](const ByName& a, const ByName& b) {
    return std::tie(a.set, a.name, a.id) < std::tie(b.set, b.name, b.id);
  });
}

std::optional<uint16_t> NameMap::id_of(const Guid& set, uint32_t lid) const {
  auto it = std::lower_bound(by_lid_.begin(), by_lid_.end(), std::tie(set, lid), [](const ByLid& e, const auto& key) {
    return std::tie(e.set, e.lid) < key;
  });
  if (it == by_lid_.end() || it->set != set || it->lid != lid) return std::nullopt;
  return it->id;
}

std::optional<uint16_t> NameMap::id_of(const Guid& set, std::string_view name) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), std::make_pair(set, name),
                             [](const ByName& e, const std::pair<Guid, std::string_view>& key) {
                               if (e.set != key.first) return e.set < key.first;
                               return std::string_view(e.name) < key.second;
                             });
  if (it == by_name_.end() || it->set != set || it->name != name) return std::nullopt;
  return it->id;
}

const NamedProperty* NameMap::find(uint16_t prop_id) const {
  auto it = by_id_.find(prop_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

}  // namespace pstkit
