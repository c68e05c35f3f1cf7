// Checking and storing property values for the PC and TC builders, and the
// multi-valued encodings of MS-PST 2.3.3.4.
#include "ltp/value_builder.h"

namespace pstkit::ltp {

Bytes encode_mv_variable(const std::vector<Bytes>& elements) {
  // MS-PST 2.3.3.4.2: ulCount, rgulDataOffsets[ulCount], rgDataItems; the
  // offsets count from the start of the value.
  const size_t header = 4 + 4 * elements.size();
  size_t total = header;
  for (const Bytes& e : elements) total += e.size();
  Bytes out(header, 0);
  out.reserve(total);
  store_le32(out.data(), uint32_t(elements.size()));
  for (size_t i = 0; i < elements.size(); ++i) {
    store_le32(out.data() + 4 + 4 * i, uint32_t(out.size()));
    out.insert(out.end(), elements[i].begin(), elements[i].end());
  }
  return out;
}

Bytes encode_mv_fixed(const std::vector<Bytes>& elements) {
  // MS-PST 2.3.3.4.1: the elements packed end to end.
  Bytes out;
  for (const Bytes& e : elements) out.insert(out.end(), e.begin(), e.end());
  return out;
}

}  // namespace pstkit::ltp

namespace pstkit::ltp::detail {

Status check_value(PropTag tag, ByteView value) {
  const uint16_t type = tag_type(tag);
  const std::string what = "property " + hex(tag) + " (" + prop_type_name(type) + ")";
  if (!is_known_type(type)) return Status::invalid_argument(what + ": unknown property type");
  if (type == kPtypNull || type == kPtypUnspecified) {
    if (!value.empty()) return Status::invalid_argument(what + " has no value, got " + std::to_string(value.size()) + " bytes");
    return Status::ok();
  }
  const size_t fixed = fixed_type_size(type);
  if (is_multi_valued(type)) {
    if (fixed != 0) {
      if (value.size() % fixed != 0) {
        return Status::invalid_argument(what + ": " + std::to_string(value.size()) +
                                        " bytes is not a whole number of " + std::to_string(fixed) +
                                        "-byte elements");
      }
      return Status::ok();
    }
    PropValue v{tag, value.to_bytes()};
    auto elements = v.mv_elements();
    if (!elements.is_ok()) return Status::invalid_argument(elements.status().message());
    return Status::ok();
  }
  if (fixed != 0 && value.size() != fixed) {
    return Status::invalid_argument(what + ": " + std::to_string(value.size()) + " bytes, expected " +
                                    std::to_string(fixed));
  }
  if (type == kPtypObject && value.size() != 8) {
    return Status::invalid_argument(what + ": expected 8 bytes (nid, ulSize), got " + std::to_string(value.size()));
  }
  return Status::ok();
}

Result<Hnid> store_value(HeapBuilder& heap, ByteView value, const NidAllocator& allocate_nid,
                         size_t max_block, std::map<ndb::Nid, BuiltNode>& subnodes) {
  if (value.empty()) return Hnid{0};
  if (value.size() <= kMaxHeapAllocation) return heap.allocate(value);
  // MS-PST 2.3.3.3: larger values live in a subnode of the node.
  const ndb::Nid nid = allocate_nid();
  if (ndb::nid_type(nid) == ndb::kNidTypeHid || subnodes.count(nid) != 0) {
    return Status::invalid_argument("NID allocator returned an unusable subnode NID " + hex(nid));
  }
  BuiltNode& node = subnodes[nid];
  node.blocks = split_into_blocks(value, max_block);
  return Hnid{nid};
}

}  // namespace pstkit::ltp::detail
