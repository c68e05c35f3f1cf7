// Property types, tags and raw values ([MS-OXCDATA] 2.11.1, [MS-PST] 2.3.3).
//
// A PropValue keeps the bytes exactly as the LTP layer stores them
// (little-endian fixed-size values, variable-size values as stored,
// multi-valued values in the MS-PST 2.3.3.4 layout). Decoding is explicit and
// checked: every as_*() returns an error rather than read a value whose type
// or size does not match.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit::ltp {

// Property type codes (MS-OXCDATA 2.11.1). Multi-valued types are
// kMultipleFlag | base type (e.g. 0x101F for PtypMultipleString).
enum PropType : uint16_t {
  kPtypUnspecified = 0x0000,
  kPtypNull = 0x0001,
  kPtypInteger16 = 0x0002,
  kPtypInteger32 = 0x0003,
  kPtypFloating32 = 0x0004,
  kPtypFloating64 = 0x0005,
  kPtypCurrency = 0x0006,
  kPtypFloatingTime = 0x0007,
  kPtypErrorCode = 0x000A,
  kPtypBoolean = 0x000B,
  kPtypObject = 0x000D,
  kPtypInteger64 = 0x0014,
  kPtypString8 = 0x001E,
  kPtypString = 0x001F,
  kPtypTime = 0x0040,
  kPtypGuid = 0x0048,
  kPtypServerId = 0x00FB,
  kPtypRestriction = 0x00FD,
  kPtypRuleAction = 0x00FE,
  kPtypBinary = 0x0102,
  kPtypMultipleFlag = 0x1000,
};

// id << 16 | type.
using PropTag = uint32_t;
inline constexpr PropTag make_tag(uint16_t id, uint16_t type) { return (PropTag(id) << 16) | type; }
inline constexpr uint16_t tag_id(PropTag tag) { return uint16_t(tag >> 16); }
inline constexpr uint16_t tag_type(PropTag tag) { return uint16_t(tag & 0xFFFF); }

inline constexpr bool is_multi_valued(uint16_t type) { return (type & kPtypMultipleFlag) != 0; }
inline constexpr uint16_t base_type(uint16_t type) { return uint16_t(type & ~kPtypMultipleFlag); }

// Byte size of a single value of a fixed-size base type, 0 for variable-size
// types (strings, binary, object...) and for unknown types.
size_t fixed_type_size(uint16_t type);
// True for types this library knows how to store and decode.
bool is_known_type(uint16_t type);
// True when the (single- or multi-valued) type's values vary in size:
// strings, binary, server id, restriction, rule action, object.
bool is_variable_size_type(uint16_t type);

// "PtypString", "PtypMultipleInteger32", or "0x1234" for unknown types.
std::string prop_type_name(uint16_t type);

// UTF-16LE to UTF-8. Unpaired surrogates and an odd trailing byte become
// U+FFFD, so the result is always valid UTF-8.
std::string utf16le_to_utf8(ByteView utf16);

using Guid = std::array<uint8_t, 16>;

struct PropValue {
  PropTag tag = 0;
  Bytes data;  // raw little-endian encoding, see file comment

  uint16_t id() const { return tag_id(tag); }
  uint16_t type() const { return tag_type(tag); }

  // Fixed-size decoders: fail unless type and size match.
  Result<int16_t> as_i16() const;     // PtypInteger16
  Result<int32_t> as_i32() const;     // PtypInteger32, PtypErrorCode
  Result<int64_t> as_i64() const;     // PtypInteger64
  Result<bool> as_bool() const;       // PtypBoolean
  Result<float> as_float() const;     // PtypFloating32
  Result<double> as_double() const;   // PtypFloating64, PtypFloatingTime
  Result<int64_t> as_currency() const;  // PtypCurrency (value * 10000)
  Result<uint64_t> as_time() const;   // PtypTime: raw FILETIME
  Result<Guid> as_guid() const;       // PtypGuid

  // PtypString as UTF-8.
  Result<std::string> as_string() const;
  // PtypString8 bytes, not converted (the code page is a messaging matter).
  Result<Bytes> as_string8() const;
  // PtypBinary, PtypServerId, PtypObject...: the bytes as stored.
  const Bytes& bytes() const { return data; }

  // Multi-valued elements (MS-PST 2.3.3.4): fixed-size base types split by
  // element size, variable-size ones by the ulCount/rgulDataOffsets header.
  Result<std::vector<Bytes>> mv_elements() const;
  // PtypMultipleString elements as UTF-8.
  Result<std::vector<std::string>> mv_strings() const;
};

// Values built from native types, in PropValue's encoding.
PropValue string_value(uint16_t id, std::string_view utf8);  // PtypString (UTF-16LE)
PropValue int32_value(uint16_t id, int32_t v);
PropValue bool_value(uint16_t id, bool v);
PropValue time_value(uint16_t id, uint64_t filetime);       // PtypTime
PropValue binary_value(uint16_t id, Bytes data);

// A property list's value with this id, or null.
const PropValue* find_property(const std::vector<PropValue>& props, uint16_t id);
// Sets a property in a list, replacing the one with the same id.
void set_property(std::vector<PropValue>& props, PropValue v);

// MS-PST 2.3.3.5: the value of a PtypObject property.
struct ObjectRef {
  uint32_t nid = 0;   // subnode holding the object data
  uint32_t size = 0;  // ulSize
};
Result<ObjectRef> parse_object_ref(ByteView data);

}  // namespace pstkit::ltp
