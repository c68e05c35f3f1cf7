// A 16-byte GUID in the layout Windows stores it on disk.
//
// MS-DTYP 2.3.4: Data1 (32 bits), Data2 and Data3 (16 bits) are little-endian,
// Data4 is 8 plain bytes. PSTs store GUIDs this way (the MS-PST 2.4.7
// name-to-id map's GUID stream, PtypGuid values), so bytes[] is exactly what
// is on disk and comparison is a byte comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <compare>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pstkit {

struct Guid {
  uint8_t bytes[16] = {};

  // From the registry-format fields, e.g. {00062002-0000-0000-C000-000000000046}
  // is from_fields(0x00062002, 0x0000, 0x0000, 0xC000000000000046).
  static constexpr Guid from_fields(uint32_t data1, uint16_t data2, uint16_t data3, uint64_t data4) {
    Guid g;
    for (int i = 0; i < 4; ++i) g.bytes[i] = uint8_t(data1 >> (8 * i));
    for (int i = 0; i < 2; ++i) g.bytes[4 + i] = uint8_t(data2 >> (8 * i));
    for (int i = 0; i < 2; ++i) g.bytes[6 + i] = uint8_t(data3 >> (8 * i));
    for (int i = 0; i < 8; ++i) g.bytes[8 + i] = uint8_t(data4 >> (8 * (7 - i)));
    return g;
  }
  // Copies 16 on-disk bytes; the caller checks they exist.
  static Guid from_bytes(const uint8_t* p);
  // "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}", braces optional, any hex case.
  static std::optional<Guid> parse(std::string_view text);

  // Registry format with braces and upper-case hex.
  std::string to_string() const;
  bool is_null() const;

  friend constexpr bool operator==(const Guid&, const Guid&) = default;
  friend constexpr auto operator<=>(const Guid&, const Guid&) = default;
};

}  // namespace pstkit

template <>
struct std::hash<pstkit::Guid> {
  size_t operator()(const pstkit::Guid& g) const noexcept {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (uint8_t b : g.bytes) h = (h ^ b) * 1099511628211ull;
    return size_t(h);
  }
};
