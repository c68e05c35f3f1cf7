// Property names and values between pstkit and Python (docs/PYTHON.md).
#include <pybind11/stl.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "binding.h"
#include "pstkit/bytes.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/property_names.h"
#include "pstkit/utf.h"

namespace pstkit::python {
namespace {

using namespace ltp;

// 100 ns intervals from 1601-01-01 to 1970-01-01.
constexpr uint64_t kUnixEpochFiletime = 116444736000000000ull;

// Python objects looked up once and kept for the life of the process: a
// static py::object would be released after the interpreter is gone.
py::handle keep(py::object object) { return object.release(); }

py::handle datetime_module() {
  static py::handle module = keep(py::module_::import("datetime"));
  return module;
}

py::bytes to_bytes(ByteView data) {
  return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
}

std::string hex4(uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*X", digits, unsigned(v));
  return buf;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "0x0037" (an id) or "0x0037001F" (a tag), nothing else.
std::optional<uint32_t> parse_hex_key(std::string_view text, bool* is_tag) {
  if (text.size() != 6 && text.size() != 10) return std::nullopt;
  if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
  uint32_t v = 0;
  for (char c : text.substr(2)) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = v * 16 + uint32_t(d);
  }
  *is_tag = text.size() == 10;
  return v;
}

py::object scalar_value(const PropertyBag& bag, uint16_t type, const PropValue& v) {
  switch (type) {
    case kPtypNull:
      return py::none();
    case kPtypInteger16:
      if (auto r = v.as_i16()) return py::int_(*r);
      break;
    case kPtypInteger32:
      if (auto r = v.as_i32()) return py::int_(*r);
      break;
    case kPtypErrorCode:  // an HRESULT: its unsigned form, as Windows prints it
      if (auto r = v.as_i32()) return py::int_(uint32_t(*r));
      break;
    case kPtypInteger64:
      if (auto r = v.as_i64()) return py::int_(*r);
      break;
    case kPtypBoolean:
      if (auto r = v.as_bool()) return py::bool_(*r);
      break;
    case kPtypFloating32:
      if (auto r = v.as_float()) return py::float_(double(*r));
      break;
    case kPtypFloating64:
    case kPtypFloatingTime:
      if (auto r = v.as_double()) return py::float_(*r);
      break;
    case kPtypCurrency:  // fixed point, 4 decimals: exact as a Decimal
      if (auto r = v.as_currency()) {
        static py::handle decimal = keep(py::module_::import("decimal").attr("Decimal"));
        return decimal(py::int_(*r)).attr("scaleb")(-4);
      }
      break;
    case kPtypTime:
      if (auto r = v.as_time()) return filetime_to_python(*r);
      break;
    case kPtypGuid:
      if (v.data.size() == 16) {
        static py::handle uuid = keep(py::module_::import("uuid").attr("UUID"));
        return uuid(py::arg("bytes_le") = to_bytes(v.data));
      }
      break;
    case kPtypString:
    case kPtypString8:
      return py::str(bag.decode_string(v));
    default:
      break;
  }
  // Binary, object, server id, and any value whose size does not match its
  // type: the bytes as stored.
  return to_bytes(v.data);
}

// ---- writing -------------------------------------------------------------------

bool is_instance(py::handle value, const char* module, const char* type) {
  return py::isinstance(value, py::module_::import(module).attr(type));
}

// The type a Python value is stored as when the property's name does not say.
uint16_t type_of_python_value(py::handle value) {
  if (py::isinstance<py::bool_>(value)) return kPtypBoolean;
  if (py::isinstance<py::int_>(value)) {
    const auto v = value.cast<long long>();
    return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max() ? kPtypInteger32
                                                                                               : kPtypInteger64;
  }
  if (py::isinstance<py::float_>(value)) return kPtypFloating64;
  if (py::isinstance<py::str>(value)) return kPtypString;
  if (py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value)) return kPtypBinary;
  if (is_instance(value, "datetime", "datetime")) return kPtypTime;
  if (is_instance(value, "uuid", "UUID")) return kPtypGuid;
  if (is_instance(value, "decimal", "Decimal")) return kPtypCurrency;
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    auto seq = py::reinterpret_borrow<py::sequence>(value);
    if (seq.size() == 0) throw py::value_error("an empty list does not say which type to store: name the property");
    const uint16_t element = type_of_python_value(seq[0]);
    if (element == kPtypBoolean) throw py::value_error("there is no multi-valued boolean type");
    return uint16_t(kPtypMultipleFlag | element);
  }
  throw py::type_error("cannot store a " + std::string(py::str(py::type::of(value).attr("__name__"))) +
                       " as a property value");
}

Bytes fixed_le(uint64_t v, size_t size) {
  Bytes b(size);
  for (size_t i = 0; i < size; ++i) b[i] = uint8_t(v >> (8 * i));
  return b;
}

Bytes python_bytes(py::handle value) {
  std::string s = py::isinstance<py::bytearray>(value) ? std::string(py::bytearray(py::reinterpret_borrow<py::object>(value)))
                                                     : std::string(py::bytes(py::reinterpret_borrow<py::object>(value)));
  return Bytes(s.begin(), s.end());
}

Bytes encode_scalar(uint16_t type, py::handle value) {
  switch (type) {
    case kPtypInteger16:
      return fixed_le(uint64_t(value.cast<int16_t>()), 2);
    case kPtypInteger32:
    case kPtypErrorCode: {
      const auto v = value.cast<long long>();
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<uint32_t>::max()) {
        throw py::value_error("value out of range for a 32-bit property");
      }
      return fixed_le(uint64_t(v), 4);
    }
    case kPtypInteger64:
      return fixed_le(uint64_t(value.cast<int64_t>()), 8);
    case kPtypBoolean:
      if (!py::isinstance<py::bool_>(value) && !py::isinstance<py::int_>(value)) {
        throw py::type_error("a boolean property needs a bool");
      }
      return fixed_le(value.cast<bool>() ? 1 : 0, fixed_type_size(kPtypBoolean));
    case kPtypFloating32: {
      const float f = value.cast<float>();
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      return fixed_le(bits, 4);
    }
    case kPtypFloating64:
    case kPtypFloatingTime: {
      const double d = value.cast<double>();
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      return fixed_le(bits, 8);
    }
    case kPtypCurrency: {
      // Decimal or number, in units of 1/10000.
      py::object scaled = py::module_::import("decimal").attr("Decimal")(py::str(value)).attr("scaleb")(4);
      return fixed_le(uint64_t(py::int_(scaled.attr("to_integral_value")()).cast<int64_t>()), 8);
    }
    case kPtypTime:
      return fixed_le(filetime_from_python(value), 8);
    case kPtypGuid: {
      if (!is_instance(value, "uuid", "UUID")) throw py::type_error("a GUID property needs a uuid.UUID");
      return python_bytes(value.attr("bytes_le"));
    }
    case kPtypString:
      if (!py::isinstance<py::str>(value)) throw py::type_error("a string property needs a str");
      return utf8_to_utf16le(value.cast<std::string>());
    case kPtypBinary:
    case kPtypServerId:
    case kPtypObject:
      if (!py::isinstance<py::bytes>(value) && !py::isinstance<py::bytearray>(value)) {
        throw py::type_error("a binary property needs bytes");
      }
      return python_bytes(value);
    default:
      throw py::value_error("properties of type " + prop_type_name(type) + " cannot be written from Python");
  }
}

Bytes encode_value(uint16_t type, py::handle value) {
  if (!is_multi_valued(type)) return encode_scalar(type, value);
  if (!py::isinstance<py::list>(value) && !py::isinstance<py::tuple>(value)) {
    throw py::type_error("a multi-valued property needs a list");
  }
  const uint16_t element_type = base_type(type);
  std::vector<Bytes> elements;
  for (py::handle e : py::reinterpret_borrow<py::sequence>(value)) elements.push_back(encode_scalar(element_type, e));
  return fixed_type_size(element_type) != 0 ? encode_mv_fixed(elements) : encode_mv_variable(elements);
}

// Strings are written as Unicode whatever type a name documents: the writer
// converts them for an ANSI store.
uint16_t writable_type(uint16_t type) {
  if (base_type(type) == kPtypString8) return uint16_t((type & kPtypMultipleFlag) | kPtypString);
  return type;
}

// "PS_PUBLIC_STRINGS:Keywords", "{GUID}:0x8233": a named property by set and
// name or LID, as properties() names those that have no canonical name.
std::optional<NamedProperty> parse_set_key(std::string_view key) {
  const size_t colon = key.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == key.size()) return std::nullopt;
  const std::string_view set_text = key.substr(0, colon), member = key.substr(colon + 1);
  std::optional<pstkit::Guid> set = property_set_by_name(set_text);
  if (!set) set = pstkit::Guid::parse(set_text);
  if (!set) return std::nullopt;
  NamedProperty np;
  np.guid = *set;
  if (member.size() > 2 && member[0] == '0' && (member[1] == 'x' || member[1] == 'X')) {
    if (member.size() > 10) return std::nullopt;  // a LID has eight hex digits at most
    uint32_t lid = 0;
    for (char c : member.substr(2)) {
      const int d = hex_digit(c);
      if (d < 0) return std::nullopt;
      lid = lid * 16 + uint32_t(d);
    }
    np.lid = lid;
  } else {
    np.is_string = true;
    np.name = std::string(member);
  }
  return np;
}

}  // namespace

std::string property_name(const Store& store, PropTag tag) {
  // One id can name different properties by type (0x6619 is
  // PidTagUserEntryId as PtypBinary, PidTagPstBodyPrefix as PtypString):
  // names are looked up by id and type.
  const uint16_t id = tag_id(tag);
  const uint16_t type = ltp::tag_type(tag);
  if (id >= 0x8000) {
    if (const NamedProperty* np = store.names().find(id)) {
      const char* set = property_set_name(np->guid);
      const std::string set_text = set ? set : np->guid.to_string();
      if (np->is_string) {
        if (const char* n = named_string_name(np->guid, np->name)) return n;
        return set_text + ":" + np->name;
      }
      // [MS-OXCDATA] 2.6.1: in PS_MAPI a LID below 0x8000 is a tagged id.
      const bool tagged = np->guid == property_sets::kPsMapi && np->lid < 0x8000;
      if (const char* n = tagged ? tag_name(uint16_t(np->lid), type) : named_lid_name(np->guid, np->lid)) return n;
      return set_text + ":" + hex(np->lid);
    }
  }
  if (const char* n = tag_name(id, type)) return n;
  return hex4(id, 4);
}

py::object property_value(const PropertyBag& bag, const PropValue& v) {
  const uint16_t type = v.type();
  if (!is_multi_valued(type)) return scalar_value(bag, type, v);
  auto elements = v.mv_elements();
  if (!elements) return to_bytes(v.data);  // a layout that does not parse: as stored
  py::list out;
  PropValue one;
  one.tag = make_tag(v.id(), base_type(type));
  for (auto& e : *elements) {
    one.data = std::move(e);
    out.append(scalar_value(bag, base_type(type), one));
  }
  return out;
}

py::dict properties_dict(const Store& store, const PropertyBag& bag) {
  py::dict out;
  std::string last;
  for (const PropValue& v : bag.values()) {
    std::string name = property_name(store, v.tag);
    if (name == last) name += "_" + hex(v.tag);
    last = name;
    out[py::str(name)] = property_value(bag, v);
  }
  return out;
}

// A property key from Python: an int (an id up to 0xFFFF, else a tag) or a
// str (a name, or an id or tag in hex).
struct PropertyKey {
  std::optional<uint32_t> number;
  bool is_tag = false;
  std::string name;
};

PropertyKey property_key(py::handle key) {
  PropertyKey out;
  if (py::isinstance<py::int_>(key)) {
    const auto k = key.cast<long long>();
    if (k < 0 || k > 0xFFFFFFFFll) throw py::value_error("a property id or tag is 0 to 0xFFFFFFFF");
    out.number = uint32_t(k);
    out.is_tag = k > 0xFFFF;
  } else if (py::isinstance<py::str>(key)) {
    out.name = key.cast<std::string>();
    out.number = parse_hex_key(out.name, &out.is_tag);
  } else {
    throw py::type_error("a property is named by a str or an int");
  }
  return out;
}

py::object lookup_property(const Store& store, const PropertyBag& bag, py::handle key) {
  auto [number, is_tag, name] = property_key(key);
  for (const PropValue& v : bag.values()) {
    bool match;
    if (number) {
      // A tag matches PtypString and PtypString8 alike: which one a file
      // holds is the writer's choice.
      const auto same_type = [](uint16_t a, uint16_t b) {
        return a == b || (writable_type(a) == writable_type(b));
      };
      match = is_tag ? v.id() == tag_id(*number) && same_type(v.type(), ltp::tag_type(*number)) : v.id() == *number;
    } else {
      match = iequals(property_name(store, v.tag), name);
    }
    if (match) return property_value(bag, v);
  }
  return py::none();
}

py::object filetime_to_python(uint64_t filetime) {
  static py::handle utc = keep(datetime_module().attr("timezone").attr("utc"));
  static py::handle epoch = keep(datetime_module().attr("datetime")(1970, 1, 1, py::arg("tzinfo") = utc));
  static py::handle timedelta = keep(datetime_module().attr("timedelta"));
  if (filetime > uint64_t(std::numeric_limits<int64_t>::max())) return py::int_(filetime);
  const int64_t since_epoch = int64_t(filetime) - int64_t(kUnixEpochFiletime);
  try {
    // Whole seconds and the microseconds apart: timedelta's own range.
    const int64_t seconds = since_epoch / 10000000, rest = since_epoch % 10000000;
    return epoch + timedelta(py::arg("seconds") = seconds, py::arg("microseconds") = rest / 10);
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_OverflowError)) throw;
    return py::int_(filetime);
  }
}

uint64_t filetime_from_python(py::handle value) {
  if (py::isinstance<py::int_>(value) && !py::isinstance<py::bool_>(value)) return value.cast<uint64_t>();
  if (!is_instance(value, "datetime", "datetime")) throw py::type_error("a time property needs a datetime");
  py::object tz = value.attr("tzinfo");
  if (tz.is_none()) throw py::value_error("a naive datetime is ambiguous: give it a tzinfo (UTC)");
  static py::handle utc = keep(datetime_module().attr("timezone").attr("utc"));
  static py::handle start = keep(datetime_module().attr("datetime")(1601, 1, 1, py::arg("tzinfo") = utc));
  py::object delta = value.attr("__sub__")(start);
  // Exact integer arithmetic on the timedelta's fields.
  const int64_t days = delta.attr("days").cast<int64_t>(), seconds = delta.attr("seconds").cast<int64_t>(),
                micros = delta.attr("microseconds").cast<int64_t>();
  if (days < 0) throw py::value_error("a FILETIME cannot be before 1601");
  return uint64_t(((days * 86400 + seconds) * 1000000 + micros) * 10);
}

PropertyToWrite property_to_write(py::handle key, py::handle value) {
  PropertyToWrite out;
  auto [number, is_tag, name] = property_key(key);
  if (number) {
    const uint16_t id = is_tag ? tag_id(*number) : uint16_t(*number);
    if (id >= 0x8000) throw py::value_error("ids of 0x8000 and above are named properties: name them (PidLid..., SET:name)");
    uint16_t type = is_tag ? ltp::tag_type(*number) : tag_canonical_type(id);
    if (type == kPtypUnspecified) type = type_of_python_value(value);
    type = writable_type(type);
    out.tagged = PropValue{make_tag(id, type), encode_value(type, value)};
    return out;
  }
  if (const TagInfo* tag = find_tag_by_name(name)) {
    const uint16_t type = writable_type(tag->type);
    out.tagged = PropValue{make_tag(tag->id, type), encode_value(type, value)};
    return out;
  }
  NamedProperty np;
  uint16_t type = kPtypUnspecified;
  if (auto info = named_property_by_name(name)) {
    np.guid = info->set;
    np.is_string = info->string_name != nullptr;
    np.lid = info->lid;
    if (np.is_string) np.name = info->string_name;
    type = info->type;
  } else if (auto parsed = parse_set_key(name)) {
    np = *parsed;
  } else {
    throw py::key_error("unknown property name: " + name);
  }
  if (type == kPtypUnspecified) type = type_of_python_value(value);
  type = writable_type(type);
  out.named = true;
  out.named_value = NamedValue{np, type, encode_value(type, value)};
  return out;
}

std::vector<std::string> path_argument(py::handle path) {
  if (!py::isinstance<py::str>(path)) return path.cast<std::vector<std::string>>();
  std::vector<std::string> out;
  std::string cur;
  for (char c : path.cast<std::string>()) {
    if (c != '/') {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace pstkit::python
