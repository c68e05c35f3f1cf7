// PropertyBag: typed access to a set of property values, with 8-bit strings
// decoded through the object's code page.
#include <algorithm>

#include "pstkit/codepage.h"
#include "pstkit/messaging.h"

namespace pstkit {

PropertyBag::PropertyBag(std::vector<PropValue> values, uint32_t codepage)
    : values_(std::move(values)), codepage_(codepage) {
  std::stable_sort(values_.begin(), values_.end(),
                   [](const PropValue& a, const PropValue& b) { return a.id() < b.id(); });
}

const PropValue* PropertyBag::find(uint16_t id) const {
  auto it = std::lower_bound(values_.begin(), values_.end(), id,
                             [](const PropValue& v, uint16_t k) { return v.id() < k; });
  if (it == values_.end() || it->id() != id) return nullptr;
  return &*it;
}

std::string PropertyBag::decode_string(const PropValue& v) const {
  switch (v.type()) {
    case ltp::kPtypString: {
      auto s = v.as_string();
      return s ? *s : std::string();
    }
    case ltp::kPtypString8: {
      ByteView b(v.data);
      // Stored 8-bit strings usually carry their terminating NUL.
      size_t n = b.size();
      while (n > 0 && b.u8(n - 1) == 0) --n;
      return decode_codepage(b.sub(0, n), codepage_);
    }
    default:
      return {};
  }
}

std::optional<std::string> PropertyBag::get_string(uint16_t id) const {
  const PropValue* v = find(id);
  if (!v || (v->type() != ltp::kPtypString && v->type() != ltp::kPtypString8)) return std::nullopt;
  std::string s = decode_string(*v);
  // Trailing NULs are storage artefacts, not text.
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::optional<int32_t> PropertyBag::get_i32(uint16_t id) const {
  const PropValue* v = find(id);
  if (!v) return std::nullopt;
  if (v->type() == ltp::kPtypInteger16) {
    auto r = v->as_i16();
    return r ? std::optional<int32_t>(*r) : std::nullopt;
  }
  auto r = v->as_i32();
  return r ? std::optional<int32_t>(*r) : std::nullopt;
}

std::optional<int64_t> PropertyBag::get_i64(uint16_t id) const {
  const PropValue* v = find(id);
  if (!v) return std::nullopt;
  if (v->type() == ltp::kPtypInteger64) {
    auto r = v->as_i64();
    return r ? std::optional<int64_t>(*r) : std::nullopt;
  }
  auto r = get_i32(id);
  return r ? std::optional<int64_t>(*r) : std::nullopt;
}

std::optional<bool> PropertyBag::get_bool(uint16_t id) const {
  const PropValue* v = find(id);
  if (!v) return std::nullopt;
  auto r = v->as_bool();
  return r ? std::optional<bool>(*r) : std::nullopt;
}

std::optional<uint64_t> PropertyBag::get_time(uint16_t id) const {
  const PropValue* v = find(id);
  if (!v) return std::nullopt;
  auto r = v->as_time();
  return r ? std::optional<uint64_t>(*r) : std::nullopt;
}

const Bytes* PropertyBag::get_binary(uint16_t id) const {
  const PropValue* v = find(id);
  if (!v || v->type() != ltp::kPtypBinary) return nullptr;
  return &v->data;
}

std::string normalize_subject(std::string s) {
  // MS-OXCMSG 2.2.1.46: a leading 0x01 is followed by a character giving the
  // prefix length; neither is shown to the user.
  if (s.size() >= 2 && s[0] == '\x01') s.erase(0, 2);
  return s;
}

}  // namespace pstkit
