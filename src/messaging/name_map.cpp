// MS-PST 2.4.7 Named Property Lookup Map (node 0x61).
#include <cstring>

#include "pstkit/messaging.h"
#include "pstkit/property_names.h"

namespace pstkit {
namespace {

constexpr uint16_t kNameidStreamGuid = 0x0002;    // PidTagNameidStreamGuid
constexpr uint16_t kNameidStreamEntry = 0x0003;   // PidTagNameidStreamEntry
constexpr uint16_t kNameidStreamString = 0x0004;  // PidTagNameidStreamString


}  // namespace

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
  if (auto v = pc.get(kNameidStreamGuid)) guids = std::move(v->data);
  if (auto v = pc.get(kNameidStreamEntry)) entries = std::move(v->data);
  if (auto v = pc.get(kNameidStreamString)) strings = std::move(v->data);
  const ByteView ev(entries), sv(strings);
  // MS-PST 2.4.7.1 NAMEID: dwPropertyID, wGuid (bit 0: N, string name), wPropIdx.
  for (size_t at = 0; ev.has(at, 8); at += 8) {
    NamedProperty np;
    const uint32_t prop = ev.u32(at);
    const uint16_t guid_field = ev.u16(at + 4);
    const uint16_t index = ev.u16(at + 6);
    const uint16_t guid_index = guid_field >> 1;
    np.is_string = (guid_field & 1) != 0;
    // MS-PST 2.4.7.1: wGuid 1 and 2 name PS_MAPI and PS_PUBLIC_STRINGS
    // without storing them; 3 and up index the GUID stream.
    if (guid_index == 1) {
      np.guid = property_sets::kPsMapi;
    } else if (guid_index == 2) {
      np.guid = property_sets::kPsPublicStrings;
    } else if (guid_index >= 3) {
      const size_t g = size_t(guid_index - 3) * 16;
      if (!ByteView(guids).has(g, 16)) continue;  // damaged entry: skip it
      np.guid = Guid::from_bytes(guids.data() + g);
    }
    if (np.is_string) {
      if (!sv.has(prop, 4)) continue;
      const uint32_t len = sv.u32(prop);
      if (!sv.has(size_t(prop) + 4, len)) continue;
      np.name = ltp::utf16le_to_utf8(sv.sub(size_t(prop) + 4, len));
    } else {
      np.lid = prop;
    }
    const uint32_t id = 0x8000u + index;
    if (id > 0xFFFF) continue;
    map.by_id_[uint16_t(id)] = std::move(np);
  }
  return map;
}

const NamedProperty* NameMap::find(uint16_t prop_id) const {
  auto it = by_id_.find(prop_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

}  // namespace pstkit
