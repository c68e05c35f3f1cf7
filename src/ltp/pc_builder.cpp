// MS-PST 2.3.3 Property Context, written: an HN (bClientSig 0xBC) whose user
// root is a BTH of (wPropId -> wPropType, dwValueHnid) records.
//
// Allocation order follows Outlook's: the BTH header, the record arrays, then
// the values in the order their properties were first set. The records are
// placed before the values' HNIDs are known and rewritten in place after.
#include <algorithm>

#include "ltp/value_builder.h"
#include "pstkit/ltp_builder.h"

namespace pstkit::ltp {

namespace {

constexpr uint8_t kPcKeySize = 2;   // MS-PST 2.3.3.3 wPropId
constexpr uint8_t kPcDataSize = 6;  // wPropType, dwValueHnid

// MS-PST 2.3.3.3: fixed-size values of up to 4 bytes sit in dwValueHnid.
bool stored_inline(uint16_t type) {
  if (type == kPtypNull || type == kPtypUnspecified) return true;
  const size_t fixed = is_multi_valued(type) ? 0 : fixed_type_size(type);
  return fixed != 0 && fixed <= 4;
}

}  // namespace

struct PcBuilder::Prop {
  PropTag tag = 0;
  Bytes data;                    // the value, unless it stays in source_subnode
  ndb::Nid source_subnode = 0;   // value held in this subnode of the source node
  ndb::Nid object_nid = 0;       // PtypObject: the object's subnode
  std::shared_ptr<const BuiltNode> object;  // ... when it is a new one
  uint64_t order = 0;            // heap allocation order
};

PcBuilder::PcBuilder(ndb::FileFormat format, size_t max_block, NidAllocator allocate_nid)
    : format_(format), max_block_(max_block), allocate_nid_(std::move(allocate_nid)) {}

Result<PcBuilder> PcBuilder::create(ndb::FileFormat format, NidAllocator allocate_nid) {
  PSTKIT_ASSIGN_OR_RETURN(size_t max_block, max_block_data_size(format));
  if (!allocate_nid) allocate_nid = sequential_nid_allocator();
  return PcBuilder(format, max_block, std::move(allocate_nid));
}

Result<PcBuilder> PcBuilder::from_existing(const PropertyContext& pc, NidAllocator allocate_nid,
                                           std::optional<ndb::FileFormat> format) {
  if (!allocate_nid) {
    PSTKIT_ASSIGN_OR_RETURN(allocate_nid, nid_allocator_after(pc.heap().node()));
  }
  PSTKIT_ASSIGN_OR_RETURN(PcBuilder b, create(format.value_or(pc.heap().options().format), std::move(allocate_nid)));
  uint64_t last_order = 0;
  for (const PropertyContext::Entry& e : pc.entries()) {
    auto prop = std::make_shared<Prop>();
    prop->tag = make_tag(e.id, e.type);
    const bool in_subnode = !stored_inline(e.type) && e.value != 0 && !hnid_is_hid(e.value);
    if (in_subnode && e.type != kPtypObject) {
      prop->source_subnode = e.value;
      b.source_subnodes_.insert(e.value);
    } else {
      PSTKIT_ASSIGN_OR_RETURN(PropValue v, pc.get(e.id));
      prop->data = std::move(v.data);
      if (e.type == kPtypObject) {
        PSTKIT_ASSIGN_OR_RETURN(ObjectRef ref, parse_object_ref(ByteView(prop->data)));
        prop->object_nid = ref.nid;
        b.source_subnodes_.insert(ref.nid);
      }
    }
    // Heap values keep their relative order: block, then index.
    if (!stored_inline(e.type) && e.value != 0 && hnid_is_hid(e.value)) {
      const HidParts parts = split_hid(e.value, pc.heap().options().format);
      prop->order = (uint64_t(parts.block) << 16) | parts.index;
    }
    last_order = std::max(last_order, prop->order);
    b.props_[e.id] = std::move(prop);
  }
  b.next_order_ = last_order + 1;
  return b;
}

Status PcBuilder::set(PropTag tag, ByteView value) {
  PSTKIT_RETURN_IF_ERROR(detail::check_value(tag, value));
  auto prop = std::make_shared<Prop>();
  prop->tag = tag;
  prop->data = value.to_bytes();
  if (tag_type(tag) == kPtypObject) prop->object_nid = load_le32(value.data());
  auto it = props_.find(tag_id(tag));
  // A replaced property keeps its place in the allocation order.
  prop->order = it != props_.end() ? it->second->order : next_order_++;
  props_[tag_id(tag)] = std::move(prop);
  return Status::ok();
}

Result<ndb::Nid> PcBuilder::set_object(PropTag tag, BuiltNode object, uint32_t size) {
  if (tag_type(tag) != kPtypObject) {
    return Status::invalid_argument("property " + hex(tag) + " is not PtypObject");
  }
  const ndb::Nid nid = allocate_nid_();
  if (ndb::nid_type(nid) == ndb::kNidTypeHid) {
    return Status::invalid_argument("NID allocator returned " + hex(nid) + ", a HID");
  }
  // MS-PST 2.3.3.5: the value is (Nid, ulSize) of the object's subnode.
  Bytes ref(8);
  store_le32(ref.data(), nid);
  store_le32(ref.data() + 4, size);
  PSTKIT_RETURN_IF_ERROR(set(tag, ByteView(ref)));
  auto prop = std::make_shared<Prop>(*props_[tag_id(tag)]);
  prop->object = std::make_shared<const BuiltNode>(std::move(object));
  props_[tag_id(tag)] = std::move(prop);
  return nid;
}

bool PcBuilder::remove(uint16_t prop_id) { return props_.erase(prop_id) > 0; }

bool PcBuilder::has(uint16_t prop_id) const { return props_.count(prop_id) != 0; }

std::optional<PropTag> PcBuilder::tag_of(uint16_t prop_id) const {
  auto it = props_.find(prop_id);
  if (it == props_.end()) return std::nullopt;
  return it->second->tag;
}

Result<BuiltNode> PcBuilder::build() const {
  BuiltNode out;
  PSTKIT_ASSIGN_OR_RETURN(HeapBuilder heap, HeapBuilder::create(format_, kClientPropertyContext));
  PSTKIT_ASSIGN_OR_RETURN(BthBuilder bth, BthBuilder::create(kPcKeySize, kPcDataSize));

  // MS-PST 2.3.3.3 records: wPropId -> wPropType, dwValueHnid (for now 0).
  auto set_record = [&](const Prop& p, uint32_t value) {
    uint8_t key[kPcKeySize];
    uint8_t data[kPcDataSize];
    store_le16(key, tag_id(p.tag));
    store_le16(data, tag_type(p.tag));
    store_le32(data + 2, value);
    return bth.set(ByteView(key, sizeof key), ByteView(data, sizeof data));
  };
  for (const auto& [id, p] : props_) PSTKIT_RETURN_IF_ERROR(set_record(*p, 0));
  PSTKIT_ASSIGN_OR_RETURN(BthBuilder::Placement placement, bth.build(heap));
  heap.set_user_root(placement.header);  // MS-PST 2.3.3.1

  std::vector<const Prop*> by_order;
  for (const auto& [id, p] : props_) by_order.push_back(p.get());
  std::stable_sort(by_order.begin(), by_order.end(),
                   [](const Prop* a, const Prop* b) { return a->order < b->order; });
  for (const Prop* p : by_order) {
    const uint16_t type = tag_type(p->tag);
    uint32_t value = 0;
    if (stored_inline(type)) {
      uint8_t raw[4] = {};
      std::copy(p->data.begin(), p->data.end(), raw);
      value = load_le32(raw);
    } else if (p->source_subnode != 0) {
      value = p->source_subnode;
      out.reused_subnodes.insert(p->source_subnode);
    } else {
      PSTKIT_ASSIGN_OR_RETURN(value, detail::store_value(heap, ByteView(p->data), allocate_nid_, max_block_,
                                                          out.subnodes));
    }
    if (type == kPtypObject) {
      if (p->object) {
        out.subnodes[p->object_nid] = *p->object;
      } else if (source_subnodes_.count(p->object_nid) != 0) {
        out.reused_subnodes.insert(p->object_nid);
      }
    }
    PSTKIT_RETURN_IF_ERROR(set_record(*p, value));
  }
  PSTKIT_RETURN_IF_ERROR(bth.rewrite(heap, placement));

  for (ndb::Nid nid : source_subnodes_) {
    if (out.reused_subnodes.count(nid) == 0) out.released_subnodes.insert(nid);
  }
  out.blocks = heap.build();
  return out;
}

}  // namespace pstkit::ltp
