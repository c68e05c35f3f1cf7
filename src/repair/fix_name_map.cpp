// fix_store, the name-to-ID map (MS-PST 2.4.7, node 0x61): a map that
// cannot be read whole is laid out again from every name still readable.
//
// A named property's id is 0x8000 + its index in the entry stream, and
// every message stores its named properties under those ids, so each name
// keeps its index: an index whose record is lost (or repeats a name held
// by an earlier index) is filled with a placeholder name in pstkit's own
// property set, which no client interprets.
#include <algorithm>
#include <map>

#include "messaging/name_map_builder.h"
#include "messaging/name_map_format.h"
#include "messaging/node_writer.h"
#include "pstkit/ltp.h"
#include "repair/fix_store_internal.h"

namespace pstkit::repair {

namespace {

using namespace name_map_format;

// {7A9E1C52-3F0B-4D6E-9C2A-5B8F1E0D4C31}: placeholders for lost names.
constexpr Guid kLostNameSet = Guid::from_fields(0x7A9E1C52, 0x3F0B, 0x4D6E, 0x9C2A5B8F1E0D4C31);

NamedProperty placeholder(uint32_t index) {
  NamedProperty p;
  p.guid = kLostNameSet;
  p.is_string = true;
  p.name = "pstkit-lost-name-" + hex(0x8000 + index);
  return p;
}

}  // namespace

// The highest named-property index (id - 0x8000) that an object's property
// context or a table's columns use, or -1: how many names a map rebuilt
// without its entries must hold so no id is handed out again.
int32_t StoreFixer::highest_named_index() const {
  int32_t highest = -1;
  auto note_id = [&](uint16_t id) {
    if (id >= 0x8000) highest = std::max<int32_t>(highest, id - 0x8000);
  };
  (void)db_.for_each_node([&](const ndb::NodeEntry& e) {
    if (e.nid == ndb::kNidNameToIdMap) return true;
    auto node = db_.open_node(e.nid);
    if (!node) return true;
    std::shared_ptr<const ndb::Node> shared(std::move(*node));
    auto first = shared->block_count() ? shared->block(0) : Result<SharedBytes>(Status::not_found("no data"));
    if (!first || (*first)->size() < 4 || (**first)[2] != ltp::kHeapSignature) return true;
    const uint8_t client = (**first)[3];
    if (client == ltp::kClientPropertyContext) {
      if (auto pc = ltp::PropertyContext::open(shared, ltp_options_)) {
        for (const auto& entry : pc->entries()) note_id(entry.id);
      }
    } else if (client == ltp::kClientTableContext) {
      if (auto tc = ltp::TableContext::open(shared, ltp_options_)) {
        for (const auto& c : tc->columns()) note_id(ltp::tag_id(c.tag));
      }
    }
    return true;
  });
  return highest;
}

// Why the map cannot be kept as it is ("" when it can).
std::string StoreFixer::name_map_defect() const {
  auto pc = open_pc(ndb::kNidNameToIdMap);
  if (!pc) return pc.status().message();
  auto bth = ltp::Bth::open(pc->heap(), pc->heap().user_root());
  Status order = bth ? bth->validate() : bth.status();
  if (!order.is_ok()) return order.message();
  std::vector<Status> errors;
  pc->all_readable(&errors);
  for (const Status& e : errors) {
    if (e.code() != Code::kUnsupported) return e.message();
  }
  auto builder = NameMapBuilder::from_existing(*pc);
  if (!builder) return builder.status().message();
  Bytes guids, entries, strings;
  if (auto v = pc->get(kStreamGuidId)) guids = std::move(v->data);
  if (auto v = pc->get(kStreamEntryId)) entries = std::move(v->data);
  if (auto v = pc->get(kStreamStringId)) strings = std::move(v->data);
  for (size_t at = 0; at + kNameIdSize <= entries.size(); at += kNameIdSize) {
    uint16_t index = 0;
    auto name = decode_nameid(ByteView(entries), at, ByteView(guids), ByteView(strings), &index);
    if (!name) return "entry " + std::to_string(at / kNameIdSize) + ": " + name.status().message();
  }
  return "";
}

Status StoreFixer::fix_name_map() {
  std::string defect = name_map_defect();
  const bool adopted_map = report_ && report_->name_map_adopted;
  if (defect.empty() && adopted_map) defect = "a copy found by its blocks, perhaps an earlier one";
  if (defect.empty()) return Status::ok();
  // What can still be read: the bucket count and the three streams.
  uint32_t bucket_count = NameMapBuilder::kDefaultBucketCount;
  Bytes guids, entries, strings;
  auto pc = open_pc(ndb::kNidNameToIdMap);
  auto entry = db_.find_node(ndb::kNidNameToIdMap);
  if (pc) {
    if (auto v = pc->get(kBucketCountId); v.is_ok()) {
      if (auto n = v->as_i32(); n && *n > 0 && *n <= 0xF000) bucket_count = uint32_t(*n);
    }
    if (auto v = pc->get(kStreamGuidId)) guids = std::move(v->data);
    if (auto v = pc->get(kStreamEntryId)) entries = std::move(v->data);
    if (auto v = pc->get(kStreamStringId)) strings = std::move(v->data);
  }
  std::map<uint32_t, NamedProperty> by_index;
  for (size_t at = 0; at + kNameIdSize <= entries.size(); at += kNameIdSize) {
    uint16_t index = 0;
    auto name = decode_nameid(ByteView(entries), at, ByteView(guids), ByteView(strings), &index);
    if (name && index < NameMapBuilder::kMaxEntries) by_index.emplace(index, std::move(*name));
  }
  PSTKIT_ASSIGN_OR_RETURN(auto map, NameMapBuilder::create(format_, bucket_count));
  uint32_t count = by_index.empty() ? 0 : by_index.rbegin()->first + 1;
  if (!entry || adopted_map) {
    // The whole map is lost (or only a copy found by its blocks, perhaps an earlier, shorter one): its names cannot be known, but the ids the
    // objects use must stay taken (placeholders), or a new name would be
    // given an id that already means something else.
    count = std::max<uint32_t>(count, uint32_t(highest_named_index() + 1));
  }
  size_t kept = 0, placeholders = 0;
  for (uint32_t i = 0; i < count; ++i) {
    auto it = by_index.find(i);
    bool placed = false;
    if (it != by_index.end() && !map.find(it->second)) {
      PSTKIT_ASSIGN_OR_RETURN(uint16_t id, map.add(it->second));
      placed = id == 0x8000 + i;
      if (!placed) return Status::corrupt("name-to-id map", Status::kNoOffset, "rebuilt map lost an index");
      ++kept;
    }
    if (!placed) {
      PSTKIT_RETURN_IF_ERROR(map.add(placeholder(i)).status());
      ++placeholders;
    }
  }
  PSTKIT_ASSIGN_OR_RETURN(auto built, map.build());
  const Nid parent = entry ? entry->parent_nid : 0;
  PSTKIT_RETURN_IF_ERROR(put_built_node(db_, ndb::kNidNameToIdMap, parent, built));
  note("NAME_MAP_REBUILT", "name map", ndb::kNidNameToIdMap,
       (entry ? "damaged (" + defect + ")" : std::string("lost")) + ": rewritten with the " + std::to_string(kept) + " readable names" +
           (placeholders ? ", " + std::to_string(placeholders) + " lost ones kept as placeholders" : std::string()));
  return Status::ok();
}

}  // namespace pstkit::repair
