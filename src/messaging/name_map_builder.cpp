// MS-PST 2.4.7 Named Property Lookup Map: building and extending node 0x61.
#include "messaging/name_map_builder.h"

#include "messaging/name_map_format.h"

#include <algorithm>

#include "pstkit/property_names.h"
#include "pstkit/utf.h"

namespace pstkit {

using namespace name_map_format;

namespace {

constexpr uint16_t kMaxGuidIndex = 0x7FFF;  // 15 bits

// Bucket properties run from 0x1000 to 0xFFFF.
constexpr uint32_t kMaxBucketCount = 0x10000 - 0x1000;

void append_le32(Bytes& out, uint32_t v) {
  uint8_t b[4];
  store_le32(b, v);
  out.insert(out.end(), b, b + 4);
}

void append_nameid(Bytes& out, uint32_t property_id, uint16_t guid_field, uint16_t index) {
  append_le32(out, property_id);
  append_le32(out, uint32_t(guid_field) | (uint32_t(index) << 16));
}

// A binary stream of the map; absent means empty.
Result<Bytes> read_stream(const ltp::PropertyContext& pc, uint16_t id) {
  auto v = pc.get(id);
  if (!v.is_ok()) {
    if (v.status().code() == Code::kNotFound) return Bytes{};
    return v.status();
  }
  return std::move(v->data);
}

}  // namespace

uint32_t NameMapBuilder::bucket_of(uint32_t property_id_or_crc, uint16_t guid_field, uint32_t bucket_count) {
  // MS-PST 2.4.7.5: (pul[0] ^ (pul[1] & 0xFFFF)) % BucketCount, where the
  // low word of pul[1] is wGuid with the N bit.
  return (property_id_or_crc ^ guid_field) % bucket_count;
}

NameMapBuilder::Key NameMapBuilder::key_of(const NamedProperty& name) {
  return {name.guid, name.is_string, name.is_string ? 0u : name.lid, name.is_string ? name.name : std::string()};
}

Result<NameMapBuilder> NameMapBuilder::create(ndb::FileFormat format, uint32_t bucket_count) {
  if (bucket_count == 0 || bucket_count > kMaxBucketCount) {
    return Status::invalid_argument("name-to-id map with " + std::to_string(bucket_count) + " hash buckets");
  }
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PcBuilder::create(format));
  NameMapBuilder map(std::move(pc), bucket_count);
  map.dirty_ = {kBucketCountId, kStreamGuidId, kStreamEntryId, kStreamStringId};
  return map;
}

Result<NameMapBuilder> NameMapBuilder::from_existing(const ltp::PropertyContext& pc) {
  uint32_t bucket_count = kDefaultBucketCount;
  if (auto v = pc.get(kBucketCountId); v.is_ok()) {
    PSTKIT_ASSIGN_OR_RETURN(int32_t n, v->as_i32());
    if (n <= 0 || uint32_t(n) > kMaxBucketCount) {
      return Status::corrupt("name-to-id map", Status::kNoOffset, "bucket count " + std::to_string(n));
    }
    bucket_count = uint32_t(n);
  } else if (v.status().code() != Code::kNotFound) {
    return v.status();
  }
  PSTKIT_ASSIGN_OR_RETURN(auto builder, ltp::PcBuilder::from_existing(pc));
  NameMapBuilder map(std::move(builder), bucket_count);
  PSTKIT_ASSIGN_OR_RETURN(map.guids_, read_stream(pc, kStreamGuidId));
  PSTKIT_ASSIGN_OR_RETURN(map.entries_, read_stream(pc, kStreamEntryId));
  PSTKIT_ASSIGN_OR_RETURN(map.strings_, read_stream(pc, kStreamStringId));
  if (map.guids_.size() % kGuidSize != 0 || map.entries_.size() % kNameIdSize != 0) {
    return Status::corrupt("name-to-id map", Status::kNoOffset, "GUID or entry stream of a partial record");
  }
  const ByteView ev(map.entries_), sv(map.strings_);
  for (size_t at = 0; at < map.entries_.size(); at += kNameIdSize) {
    const auto bad = [&](const std::string& why) {
      return Status::corrupt("name-to-id map", Status::kNoOffset,
                             "entry " + std::to_string(at / kNameIdSize) + ": " + why);
    };
    uint16_t index = 0;
    auto decoded = decode_nameid(ev, at, ByteView(map.guids_), sv, &index);
    if (!decoded) return bad(decoded.status().detail());
    const NamedProperty& name = *decoded;
    if (index >= kMaxEntries) return bad("property index past 0x7FFE");
    map.ids_.emplace(key_of(name), uint16_t(0x8000 + index));
    map.next_index_ = std::max<size_t>(map.next_index_, size_t(index) + 1);
  }
  for (uint32_t b = 0; b < bucket_count; ++b) {
    auto v = pc.get(uint16_t(kBucketBaseId + b));
    if (v.is_ok()) {
      map.buckets_[b] = std::move(v->data);
    } else if (v.status().code() != Code::kNotFound) {
      return v.status();
    }
  }
  return map;
}

std::optional<uint16_t> NameMapBuilder::find(const NamedProperty& name) const {
  auto it = ids_.find(key_of(name));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint16_t> NameMapBuilder::known_guid_index(const Guid& guid) const {
  if (guid.is_null()) return kGuidNone;
  if (guid == property_sets::kPsMapi) return kGuidMapi;
  if (guid == property_sets::kPsPublicStrings) return kGuidPublicStrings;
  for (size_t g = 0; g + kGuidSize <= guids_.size(); g += kGuidSize) {
    if (std::equal(guid.bytes, guid.bytes + kGuidSize, guids_.begin() + long(g))) {
      return uint16_t(kFirstStreamGuid + g / kGuidSize);
    }
  }
  return std::nullopt;
}

Result<uint16_t> NameMapBuilder::add(const NamedProperty& name) {
  const Key key = key_of(name);
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  if (next_index_ >= kMaxEntries) return Status::unsupported("name-to-id map is full (0x7FFF named properties)");
  std::optional<uint16_t> guid = known_guid_index(name.guid);
  if (!guid) {
    // MS-PST 2.4.7.2: GUIDs are appended in the order names first use them.
    const size_t next = kFirstStreamGuid + guids_.size() / kGuidSize;
    if (next > kMaxGuidIndex) return Status::unsupported("name-to-id map GUID stream is full");
    guids_.insert(guids_.end(), name.guid.bytes, name.guid.bytes + kGuidSize);
    touch(kStreamGuidId);
    guid = uint16_t(next);
  }
  const uint16_t guid_field = uint16_t((*guid << 1) | (name.is_string ? 1 : 0));
  const uint16_t index = uint16_t(next_index_++);
  uint32_t property_id = name.lid;
  uint32_t hash = name.lid;
  if (name.is_string) {
    // MS-PST 2.4.7.4: a DWORD byte length, the UTF-16LE name (no
    // terminator), padded so the next length starts on 4 bytes.
    const Bytes utf16 = utf8_to_utf16le(name.name);
    property_id = uint32_t(strings_.size());
    append_le32(strings_, uint32_t(utf16.size()));
    strings_.insert(strings_.end(), utf16.begin(), utf16.end());
    strings_.resize((strings_.size() + 3) & ~size_t{3}, 0);
    hash = ndb::compute_crc(utf16.data(), utf16.size());
    touch(kStreamStringId);
  }
  append_nameid(entries_, property_id, guid_field, index);
  touch(kStreamEntryId);
  const uint32_t bucket = bucket_of(hash, guid_field, bucket_count_);
  append_nameid(buckets_[bucket], hash, guid_field, index);
  touch(uint32_t(kBucketBaseId) + bucket);
  const uint16_t id = uint16_t(0x8000 + index);
  ids_.emplace(key, id);
  return id;
}

void NameMapBuilder::touch(uint32_t id) {
  dirty_.insert(id);
  if (std::find(order_.begin(), order_.end(), id) == order_.end()) order_.push_back(id);
}

Status NameMapBuilder::set_property(ltp::PcBuilder& pc, uint32_t id) const {
  switch (id) {
    case kBucketCountId: {
      uint8_t b[4];
      store_le32(b, bucket_count_);
      return pc.set(ltp::make_tag(kBucketCountId, ltp::kPtypInteger32), ByteView(b, 4));
    }
    case kStreamGuidId: return pc.set(ltp::make_tag(kStreamGuidId, ltp::kPtypBinary), guids_);
    case kStreamEntryId: return pc.set(ltp::make_tag(kStreamEntryId, ltp::kPtypBinary), entries_);
    case kStreamStringId: return pc.set(ltp::make_tag(kStreamStringId, ltp::kPtypBinary), strings_);
    default: {
      auto it = buckets_.find(id - kBucketBaseId);
      if (it == buckets_.end()) return Status::ok();
      return pc.set(ltp::make_tag(uint16_t(id), ltp::kPtypBinary), it->second);
    }
  }
}

Result<ltp::BuiltNode> NameMapBuilder::build() const {
  ltp::PcBuilder pc = pc_;
  // Properties that gained a value first get their heap allocations first,
  // as in Outlook's maps; then the rest (empty streams, the bucket count).
  for (uint32_t id : order_) {
    if (dirty_.count(id)) PSTKIT_RETURN_IF_ERROR(set_property(pc, id));
  }
  for (uint32_t id : dirty_) {
    if (std::find(order_.begin(), order_.end(), id) == order_.end()) PSTKIT_RETURN_IF_ERROR(set_property(pc, id));
  }
  return pc.build();
}

}  // namespace pstkit
