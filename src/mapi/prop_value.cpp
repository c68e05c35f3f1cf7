// MAPI property values: construction, conversion from stored values, and
// MAPI's ordering (see compare_values in pstkit/mapi_table.h).
#include <cmath>
#include <cstring>

#include "mapi/text_fold.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi {
namespace {

PropValue with_integer(PropTag tag, int64_t v) {
  PropValue p;
  p.tag = tag;
  p.integer = v;
  return p;
}
PropValue with_real(PropTag tag, double v) {
  PropValue p;
  p.tag = tag;
  p.real = v;
  return p;
}
PropValue with_bytes(PropTag tag, std::string_view bytes) {
  PropValue p;
  p.tag = tag;
  p.bytes.assign(bytes);
  return p;
}

template <typename T>
int three_way(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_reals(double a, double b) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na && nb ? 0 : (na ? -1 : 1);
  return three_way(a, b);
}

int compare_bytes(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c < 0 ? -1 : 1;
  return three_way(a.size(), b.size());
}

}  // namespace

PropValue PropValue::i2(PropTag tag, int16_t v) { return with_integer(change_prop_type(tag, kPtI2), v); }
PropValue PropValue::long_(PropTag tag, int32_t v) { return with_integer(change_prop_type(tag, kPtLong), v); }
PropValue PropValue::i8(PropTag tag, int64_t v) { return with_integer(change_prop_type(tag, kPtI8), v); }
PropValue PropValue::currency(PropTag tag, int64_t v) {
  return with_integer(change_prop_type(tag, kPtCurrency), v);
}
PropValue PropValue::boolean(PropTag tag, bool v) { return with_integer(change_prop_type(tag, kPtBoolean), v); }
PropValue PropValue::systime(PropTag tag, uint64_t filetime) {
  return with_integer(change_prop_type(tag, kPtSysTime), int64_t(filetime));
}
PropValue PropValue::r4(PropTag tag, float v) { return with_real(change_prop_type(tag, kPtR4), v); }
PropValue PropValue::double_(PropTag tag, double v) { return with_real(change_prop_type(tag, kPtDouble), v); }
PropValue PropValue::apptime(PropTag tag, double v) { return with_real(change_prop_type(tag, kPtAppTime), v); }
PropValue PropValue::clsid(PropTag tag, const Guid& v) {
  PropValue p;
  p.tag = change_prop_type(tag, kPtClsid);
  p.guid = v;
  return p;
}
PropValue PropValue::string8(PropTag tag, std::string_view bytes) {
  return with_bytes(change_prop_type(tag, kPtString8), bytes);
}
PropValue PropValue::unicode(PropTag tag, std::string_view utf8) {
  return with_bytes(change_prop_type(tag, kPtUnicode), utf8);
}
PropValue PropValue::binary(PropTag tag, ByteView data) {
  return with_bytes(change_prop_type(tag, kPtBinary),
                    std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}
PropValue PropValue::null(PropTag tag) {
  PropValue p;
  p.tag = tag;
  return p;
}
PropValue PropValue::error(PropTag tag, int32_t scode) {
  return with_integer(change_prop_type(tag, kPtError), scode);
}
PropValue PropValue::multi(PropTag tag, std::vector<PropValue> elements) {
  PropValue p;
  p.tag = tag;
  p.values = std::move(elements);
  return p;
}

namespace {

Result<PropValue> element_from_stored(PropTag tag, ByteView raw) {
  ltp::PropValue stored;
  stored.tag = tag;
  stored.data.assign(raw.begin(), raw.end());
  return from_stored(stored);
}

}  // namespace

Result<PropValue> from_stored(const ltp::PropValue& stored) {
  const PropTag tag = stored.tag;
  const uint16_t type = prop_type(tag);
  if (type & kMvFlag) {
    PSTKIT_ASSIGN_OR_RETURN(auto elements, stored.mv_elements());
    std::vector<PropValue> values;
    values.reserve(elements.size());
    const PropTag element_tag = change_prop_type(tag, uint16_t(type & ~kMvFlag));
    for (const Bytes& e : elements) {
      PSTKIT_ASSIGN_OR_RETURN(auto v, element_from_stored(element_tag, ByteView(e)));
      values.push_back(std::move(v));
    }
    return PropValue::multi(tag, std::move(values));
  }
  switch (type) {
    case kPtI2: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_i16());
      return PropValue::i2(tag, v);
    }
    case kPtLong: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_i32());
      return PropValue::long_(tag, v);
    }
    case kPtError: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_i32());
      return PropValue::error(tag, v);
    }
    case kPtI8: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_i64());
      return PropValue::i8(tag, v);
    }
    case kPtCurrency: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_currency());
      return PropValue::currency(tag, v);
    }
    case kPtBoolean: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_bool());
      return PropValue::boolean(tag, v);
    }
    case kPtSysTime: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_time());
      return PropValue::systime(tag, v);
    }
    case kPtR4: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_float());
      return PropValue::r4(tag, v);
    }
    case kPtDouble:
    case kPtAppTime: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_double());
      return with_real(tag, v);
    }
    case kPtClsid: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_guid());
      return PropValue::clsid(tag, v);
    }
    // Writers store strings with their terminating NUL (ANSI stores almost
    // always): a storage artefact, not part of MAPI's value (a C string),
    // dropped as the messaging layer's PropertyBag::get_string drops it.
    case kPtUnicode: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_string());
      std::string_view text(v);
      while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
      return PropValue::unicode(tag, text);
    }
    case kPtString8: {
      PSTKIT_ASSIGN_OR_RETURN(auto v, stored.as_string8());
      std::string_view text(reinterpret_cast<const char*>(v.data()), v.size());
      while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
      return PropValue::string8(tag, text);
    }
    case kPtBinary:
    case kPtSvrEid:
      return with_bytes(tag, std::string_view(reinterpret_cast<const char*>(stored.data.data()), stored.data.size()));
    case kPtNull:
    case kPtUnspecified:
    case kPtObject:
      return PropValue::null(tag);
    default:
      return Status::unsupported("MAPI value of property type " + ltp::prop_type_name(type));
  }
}

int compare_values(const PropValue& a, const PropValue& b) {
  const uint16_t ta = a.type(), tb = b.type();
  if (ta != tb) return three_way(ta, tb);
  if (ta & kMvFlag) {
    const size_t n = std::min(a.values.size(), b.values.size());
    for (size_t i = 0; i < n; ++i) {
      if (int c = compare_values(a.values[i], b.values[i]); c != 0) return c;
    }
    return three_way(a.values.size(), b.values.size());
  }
  switch (ta) {
    case kPtI2:
    case kPtLong:
    case kPtI8:
    case kPtCurrency:
    case kPtBoolean:
    case kPtError:
      return three_way(a.integer, b.integer);
    case kPtSysTime:
      return three_way(uint64_t(a.integer), uint64_t(b.integer));
    case kPtR4:
    case kPtDouble:
    case kPtAppTime:
      return compare_reals(a.real, b.real);
    case kPtClsid:
      return compare_bytes(std::string_view(reinterpret_cast<const char*>(a.guid.data()), a.guid.size()),
                           std::string_view(reinterpret_cast<const char*>(b.guid.data()), b.guid.size()));
    case kPtUnicode:
      return compare_folded(a.bytes, b.bytes, true, kFoldCase);
    case kPtString8:
      return compare_folded(a.bytes, b.bytes, false, kFoldCase);
    case kPtBinary:
    case kPtSvrEid:
      return compare_bytes(a.bytes, b.bytes);
    default:
      return 0;
  }
}

}  // namespace pstkit::mapi
