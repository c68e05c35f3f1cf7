// Checked decoding of raw property values.
#include <cstring>

#include "pstkit/property.h"
#include "pstkit/utf.h"  // utf8_to_utf16le

namespace pstkit::ltp {

namespace {

std::string describe(PropTag tag) { return "property " + hex(tag) + " (" + prop_type_name(tag_type(tag)) + ")"; }

// Type must be one of `types`, and data exactly `size` bytes.
Status check(const PropValue& v, std::initializer_list<uint16_t> types, size_t size) {
  bool type_ok = false;
  for (uint16_t t : types) type_ok = type_ok || v.type() == t;
  if (!type_ok) {
    return Status::invalid_argument(describe(v.tag) + " is not " + prop_type_name(*types.begin()));
  }
  if (v.data.size() != size) {
    return Status::corrupt("property value", Status::kNoOffset,
                           describe(v.tag) + " has " + std::to_string(v.data.size()) +
                               " bytes, expected " + std::to_string(size));
  }
  return Status::ok();
}

}  // namespace

Result<int16_t> PropValue::as_i16() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypInteger16}, 2));
  return int16_t(load_le16(data.data()));
}

Result<int32_t> PropValue::as_i32() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypInteger32, kPtypErrorCode}, 4));
  return int32_t(load_le32(data.data()));
}

Result<int64_t> PropValue::as_i64() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypInteger64}, 8));
  return int64_t(load_le64(data.data()));
}

Result<bool> PropValue::as_bool() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypBoolean}, 1));
  return data[0] != 0;
}

Result<float> PropValue::as_float() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypFloating32}, 4));
  const uint32_t bits = load_le32(data.data());
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

Result<double> PropValue::as_double() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypFloating64, kPtypFloatingTime}, 8));
  const uint64_t bits = load_le64(data.data());
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

Result<int64_t> PropValue::as_currency() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypCurrency}, 8));
  return int64_t(load_le64(data.data()));
}

Result<uint64_t> PropValue::as_time() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypTime}, 8));
  return load_le64(data.data());
}

Result<Guid> PropValue::as_guid() const {
  PSTKIT_RETURN_IF_ERROR(check(*this, {kPtypGuid}, 16));
  Guid g;
  std::memcpy(g.data(), data.data(), g.size());
  return g;
}

Result<std::string> PropValue::as_string() const {
  if (type() != kPtypString) return Status::invalid_argument(describe(tag) + " is not PtypString");
  return ltp::utf16le_to_utf8(ByteView(data));
}

Result<Bytes> PropValue::as_string8() const {
  if (type() != kPtypString8) return Status::invalid_argument(describe(tag) + " is not PtypString8");
  return data;
}

Result<std::vector<Bytes>> PropValue::mv_elements() const {
  if (!is_multi_valued(type())) return Status::invalid_argument(describe(tag) + " is not multi-valued");
  const ByteView v(data);
  std::vector<Bytes> out;
  const size_t element = fixed_type_size(type());
  if (element != 0) {
    // MS-PST 2.3.3.4.1: a packed array.
    if (v.size() % element != 0) {
      return Status::corrupt("MV property", Status::kNoOffset,
                             describe(tag) + ": " + std::to_string(v.size()) +
                                 " bytes is not a multiple of " + std::to_string(element));
    }
    out.reserve(v.size() / element);
    for (size_t off = 0; off < v.size(); off += element) out.push_back(v.sub(off, element).to_bytes());
    return out;
  }
  if (!is_known_type(type())) return Status::unsupported(describe(tag));
  // MS-PST 2.3.3.4.2: ulCount, rgulDataOffsets[ulCount], data items.
  if (v.empty()) return out;
  if (!v.has(0, 4)) {
    return Status::corrupt("MV property", Status::kNoOffset, describe(tag) + ": no ulCount");
  }
  const uint64_t count = v.u32(0);
  if (4 + 4 * count > v.size()) {
    return Status::corrupt("MV property", Status::kNoOffset,
                           describe(tag) + ": ulCount " + std::to_string(count) + " needs more than " +
                               std::to_string(v.size()) + " bytes");
  }
  const uint64_t data_start = 4 + 4 * count;
  out.reserve(size_t(count));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t begin = v.u32(size_t(4 + 4 * i));
    const uint64_t end = (i + 1 < count) ? v.u32(size_t(8 + 4 * i)) : v.size();
    if (begin < data_start || begin > end || end > v.size()) {
      return Status::corrupt("MV property", Status::kNoOffset,
                             describe(tag) + ": element " + std::to_string(i) + " offsets " +
                                 hex(begin) + ".." + hex(end) + " outside " + hex(data_start) +
                                 ".." + hex(v.size()));
    }
    out.push_back(v.sub(size_t(begin), size_t(end - begin)).to_bytes());
  }
  return out;
}

Result<std::vector<std::string>> PropValue::mv_strings() const {
  if (type() != (kPtypMultipleFlag | kPtypString)) {
    return Status::invalid_argument(describe(tag) + " is not PtypMultipleString");
  }
  PSTKIT_ASSIGN_OR_RETURN(std::vector<Bytes> elements, mv_elements());
  std::vector<std::string> out;
  out.reserve(elements.size());
  for (const Bytes& e : elements) out.push_back(ltp::utf16le_to_utf8(ByteView(e)));
  return out;
}

Result<ObjectRef> parse_object_ref(ByteView data) {
  if (data.size() != 8) {
    return Status::corrupt("PtypObject value", Status::kNoOffset,
                           "expected 8 bytes (nid, ulSize), found " + std::to_string(data.size()));
  }
  return ObjectRef{data.u32(0), data.u32(4)};
}

PropValue string_value(uint16_t id, std::string_view utf8) {
  return PropValue{make_tag(id, kPtypString), pstkit::utf8_to_utf16le(utf8)};
}

PropValue int32_value(uint16_t id, int32_t v) {
  Bytes b(4);
  store_le32(b.data(), uint32_t(v));
  return PropValue{make_tag(id, kPtypInteger32), std::move(b)};
}

PropValue bool_value(uint16_t id, bool v) { return PropValue{make_tag(id, kPtypBoolean), Bytes{uint8_t(v ? 1 : 0)}}; }

PropValue time_value(uint16_t id, uint64_t filetime) {
  Bytes b(8);
  store_le64(b.data(), filetime);
  return PropValue{make_tag(id, kPtypTime), std::move(b)};
}

PropValue binary_value(uint16_t id, Bytes data) { return PropValue{make_tag(id, kPtypBinary), std::move(data)}; }

const PropValue* find_property(const std::vector<PropValue>& props, uint16_t id) {
  for (const auto& p : props) {
    if (p.id() == id) return &p;
  }
  return nullptr;
}

void set_property(std::vector<PropValue>& props, PropValue v) {
  for (auto& p : props) {
    if (p.id() == v.id()) {
      p = std::move(v);
      return;
    }
  }
  props.push_back(std::move(v));
}

}  // namespace pstkit::ltp
