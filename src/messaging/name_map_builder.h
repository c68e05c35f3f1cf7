// Builds and extends the Named Property Lookup Map ([MS-PST] 2.4.7, node
// 0x61) the way Outlook lays it out, so a map it created keeps its layout
// when names are added.
//
// The map is a PC whose properties are not MAPI properties but streams:
//   0x0001 PidTagNameidBucketCount  PtypInteger32  number of hash buckets (251)
//   0x0002 PidTagNameidStreamGuid   PtypBinary     property set GUIDs, 16 bytes each (2.4.7.2)
//   0x0003 PidTagNameidStreamEntry  PtypBinary     NAMEID records, 8 bytes each (2.4.7.1, 2.4.7.3)
//   0x0004 PidTagNameidStreamString PtypBinary     length-prefixed UTF-16LE names (2.4.7.4)
//   0x1000 + b                      PtypBinary     hash bucket b: NAMEID records (2.4.7.5)
// Named property i (0x8000 + i) is entry i. Buckets exist only when not
// empty, and records are appended to them in the order names were added.
// String names match exactly (MS-PST 2.4.7.5 hashes them case-sensitively);
// Outlook registers PS_INTERNET_HEADERS names in lower case.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "messaging/name_map_format.h"
#include "pstkit/messaging.h"

namespace pstkit {

class NameMapBuilder {
 public:
  // MS-PST 2.4.7.5: PidTagNameidBucketCount "SHOULD be 251".
  static constexpr uint32_t kDefaultBucketCount = 251;
  // Named property ids run from 0x8000 to 0xFFFE.
  static constexpr size_t kMaxEntries = 0xFFFF - 0x8000;
  static constexpr size_t kNameIdSize = name_map_format::kNameIdSize;

  // An empty map.
  static Result<NameMapBuilder> create(ndb::FileFormat format, uint32_t bucket_count = kDefaultBucketCount);
  // Loads a map to add names to; properties other than the streams and
  // buckets are kept as they are. Damaged entries are refused (kCorrupt):
  // rewriting them would lose names.
  static Result<NameMapBuilder> from_existing(const ltp::PropertyContext& pc);

  // The id (0x8000 + index) of a name already in the map.
  std::optional<uint16_t> find(const NamedProperty& name) const;
  // The id of name, appending it (entry, GUID, string, hash bucket) when new.
  Result<uint16_t> add(const NamedProperty& name);
  size_t size() const { return entries_.size() / kNameIdSize; }
  uint32_t bucket_count() const { return bucket_count_; }

  // The map's PC. For a map from from_existing, values left unchanged stay
  // in their subnodes (BuiltNode::reused_subnodes): store it with
  // put_built_node and the old node's subnode entries as `previous`.
  Result<ltp::BuiltNode> build() const;

  // MS-PST 2.4.7.5: the bucket of a NAMEID record; for string names
  // dwPropertyID is the CRC-32 (MS-PST 5.3) of the UTF-16LE name.
  static uint32_t bucket_of(uint32_t property_id_or_crc, uint16_t guid_field, uint32_t bucket_count);

 private:
  // (GUID, kind, LID or name): how two names compare.
  using Key = std::tuple<Guid, bool, uint32_t, std::string>;
  static Key key_of(const NamedProperty& name);

  NameMapBuilder(ltp::PcBuilder pc, uint32_t bucket_count) : pc_(std::move(pc)), bucket_count_(bucket_count) {}
  // wGuid for a GUID (0 none, 1 PS_MAPI, 2 PS_PUBLIC_STRINGS, 3 + index in
  // the GUID stream); nullopt when the stream does not hold it yet.
  std::optional<uint16_t> known_guid_index(const Guid& guid) const;
  // Marks a property changed (and, the first time, its place in the heap).
  void touch(uint32_t id);
  Status set_property(ltp::PcBuilder& pc, uint32_t id) const;

  ltp::PcBuilder pc_;  // everything else in the PC
  uint32_t bucket_count_;
  Bytes guids_;
  Bytes entries_;
  Bytes strings_;
  std::map<uint32_t, Bytes> buckets_;  // by bucket number; absent when empty
  std::map<Key, uint16_t> ids_;
  size_t next_index_ = 0;       // wPropIdx of the next name
  std::set<uint32_t> dirty_;    // property ids build() must (re)write
  std::vector<uint32_t> order_; // property ids in the order they first held data
};

}  // namespace pstkit
