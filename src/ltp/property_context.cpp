// MS-PST 2.3.3 Property Context: a BTH of (wPropId -> wPropType, dwValueHnid).
#include <algorithm>

#include "pstkit/ltp.h"

namespace pstkit::ltp {

namespace {

constexpr uint8_t kPcKeySize = 2;   // MS-PST 2.3.3.3 wPropId
constexpr uint8_t kPcDataSize = 6;  // wPropType + dwValueHnid

std::string describe(ndb::Nid nid, const PropertyContext::Entry& e) {
  return "node " + hex(nid) + " property " + hex(make_tag(e.id, e.type));
}

}  // namespace

Result<PropertyContext> PropertyContext::open(std::shared_ptr<const ndb::Node> node,
                                              const Options& options) {
  PSTKIT_ASSIGN_OR_RETURN(Heap heap, Heap::open(std::move(node), options));
  const auto at = [&] { return "node " + hex(heap.nid()); };
  if (heap.client_signature() != kClientPropertyContext) {
    return Status::corrupt("PC", Status::kNoOffset,
                           at() + ": bClientSig " + hex(heap.client_signature()) + ", expected 0xbc");
  }
  PSTKIT_ASSIGN_OR_RETURN(Bth bth, Bth::open(heap, heap.user_root()));
  if (bth.key_size() != kPcKeySize || bth.data_size() != kPcDataSize) {
    return Status::corrupt("PC", Status::kNoOffset,
                           at() + ": BTH cbKey " + std::to_string(bth.key_size()) + " cbEnt " +
                               std::to_string(bth.data_size()) + ", expected 2 and 6");
  }
  std::vector<Entry> entries;
  PSTKIT_RETURN_IF_ERROR(bth.for_each([&](ByteView key, ByteView data) {
    entries.push_back({key.u16(0), data.u16(0), data.u32(2)});
    return true;
  }));
  // Keep lookups valid even if a damaged BTH is out of order; the first
  // record of a duplicated id wins (Bth::validate reports the damage).
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.id < b.id; });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) { return a.id == b.id; }),
                entries.end());
  return PropertyContext(std::move(heap), std::move(entries));
}

std::vector<PropTag> PropertyContext::tags() const {
  std::vector<PropTag> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(make_tag(e.id, e.type));
  return out;
}

const PropertyContext::Entry* PropertyContext::find_entry(uint16_t prop_id) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), prop_id,
                             [](const Entry& e, uint16_t id) { return e.id < id; });
  return (it != entries_.end() && it->id == prop_id) ? &*it : nullptr;
}

bool PropertyContext::has(uint16_t prop_id) const { return find_entry(prop_id) != nullptr; }

std::optional<PropTag> PropertyContext::tag_of(uint16_t prop_id) const {
  const Entry* e = find_entry(prop_id);
  if (e == nullptr) return std::nullopt;
  return make_tag(e->id, e->type);
}

Result<PropValue> PropertyContext::read(const Entry& e) const {
  PropValue v;
  v.tag = make_tag(e.id, e.type);
  if (!is_known_type(e.type)) {
    return Status::unsupported(describe(heap_.nid(), e) + ": unknown property type");
  }
  if (e.type == kPtypNull || e.type == kPtypUnspecified) return v;
  const size_t fixed = is_multi_valued(e.type) ? 0 : fixed_type_size(e.type);
  // MS-PST 2.3.3.3: fixed-size values of up to 4 bytes are stored inline.
  if (fixed != 0 && fixed <= 4) {
    uint8_t raw[4];
    store_le32(raw, e.value);
    v.data.assign(raw, raw + fixed);
    return v;
  }
  auto bytes = read_hnid(heap_, e.value, heap_.options().max_value_bytes);
  if (!bytes.is_ok()) return bytes.status().with_context(describe(heap_.nid(), e));
  v.data = std::move(*bytes);
  if (fixed != 0 && v.data.size() != fixed) {
    return Status::corrupt("PC value", Status::kNoOffset,
                           describe(heap_.nid(), e) + ": " + std::to_string(v.data.size()) +
                               " bytes, expected " + std::to_string(fixed));
  }
  return v;
}

Result<PropValue> PropertyContext::get(uint16_t prop_id) const {
  const Entry* e = find_entry(prop_id);
  if (e == nullptr) {
    return Status::not_found("node " + hex(heap_.nid()) + " has no property " + hex(prop_id));
  }
  return read(*e);
}

// Many records may name the same large heap item; the values read together
// are held to max_value_bytes in total so a small PC cannot fan out into
// gigabytes.
Status PropertyContext::charge(uint64_t bytes, uint64_t& total) const {
  total += bytes;
  if (total > heap_.options().max_value_bytes) {
    return Status::unsupported("node " + hex(heap_.nid()) + ": property values exceed " +
                               std::to_string(heap_.options().max_value_bytes) + " bytes in total");
  }
  return Status::ok();
}

Result<std::vector<PropValue>> PropertyContext::all() const {
  std::vector<PropValue> out;
  out.reserve(entries_.size());
  uint64_t total = 0;
  for (const Entry& e : entries_) {
    PSTKIT_ASSIGN_OR_RETURN(PropValue v, read(e));
    PSTKIT_RETURN_IF_ERROR(charge(v, total));
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<PropValue> PropertyContext::all_readable(std::vector<Status>* errors) const {
  std::vector<PropValue> out;
  out.reserve(entries_.size());
  uint64_t total = 0;
  for (const Entry& e : entries_) {
    auto v = read(e);
    Status s = v.is_ok() ? charge(*v, total) : v.status();
    if (s.is_ok()) {
      out.push_back(std::move(v).value());
    } else if (errors != nullptr) {
      errors->push_back(s);
    }
  }
  return out;
}

void PropertyContext::check_values_shallow(std::vector<Status>* errors) const {
  const uint64_t max = heap_.options().max_value_bytes;
  uint64_t total = 0;
  for (const Entry& e : entries_) {
    const size_t fixed = is_multi_valued(e.type) ? 0 : fixed_type_size(e.type);
    const bool in_subnode = is_known_type(e.type) && e.type != kPtypNull && e.type != kPtypUnspecified &&
                            !(fixed != 0 && fixed <= 4) && e.value != 0 && !hnid_is_hid(e.value);
    Status s;
    if (!in_subnode) {
      auto v = read(e);
      s = v.is_ok() ? charge(*v, total) : v.status();
    } else if (auto sub = heap_.node().subnode(e.value); !sub.is_ok()) {
      // The same errors read_hnid gives.
      s = sub.status()
              .with_context("node " + hex(heap_.nid()) + " value subnode " + hex(e.value))
              .with_context(describe(heap_.nid(), e));
    } else if (!*sub) {
      s = Status::corrupt("subnode", Status::kNoOffset,
                          "node " + hex(heap_.nid()) + ": subnode " + hex(e.value) + " missing")
              .with_context(describe(heap_.nid(), e));
    } else if (const uint64_t size = (*sub)->size(); size > max) {
      s = Status::unsupported("node " + hex((*sub)->id()) + " data of " + std::to_string(size) +
                              " bytes exceeds the limit of " + std::to_string(max))
              .with_context(describe(heap_.nid(), e));
    } else if (fixed != 0 && size != fixed) {
      s = Status::corrupt("PC value", Status::kNoOffset,
                          describe(heap_.nid(), e) + ": " + std::to_string(size) + " bytes, expected " +
                              std::to_string(fixed));
    } else {
      s = charge(size, total);
    }
    if (!s.is_ok() && errors != nullptr) errors->push_back(s);
  }
}

Result<std::unique_ptr<ndb::Node>> PropertyContext::open_value_node(uint16_t prop_id) const {
  const Entry* e = find_entry(prop_id);
  if (e == nullptr) {
    return Status::not_found("node " + hex(heap_.nid()) + " has no property " + hex(prop_id));
  }
  Hnid subnode = 0;
  if (e->type == kPtypObject) {
    // MS-PST 2.3.3.5: the heap item holds (nid, ulSize) of the object's subnode.
    PSTKIT_ASSIGN_OR_RETURN(Bytes ref_bytes, read_hnid(heap_, e->value, 64));
    auto ref = parse_object_ref(ByteView(ref_bytes));
    if (!ref.is_ok()) return ref.status().with_context(describe(heap_.nid(), *e));
    subnode = ref->nid;
  } else if (is_variable_size_type(e->type) || is_multi_valued(e->type) ||
             fixed_type_size(e->type) > 4) {
    if (e->value != 0 && !hnid_is_hid(e->value)) subnode = e->value;
  }
  if (subnode != 0) {
    auto node = heap_.node().subnode(subnode);
    if (!node.is_ok()) return node.status().with_context(describe(heap_.nid(), *e));
    return node;
  }
  PSTKIT_ASSIGN_OR_RETURN(PropValue v, read(*e));
  std::vector<Bytes> blocks;
  if (!v.data.empty()) blocks.push_back(std::move(v.data));
  return ndb::make_memory_node(heap_.nid(), std::move(blocks));
}

}  // namespace pstkit::ltp
