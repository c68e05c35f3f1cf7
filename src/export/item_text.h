// What the iCalendar and vCard writers share: named-property lookup by set
// and LID, content lines with RFC 5545 / RFC 6350 escaping and 75-octet
// folding, and dates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pstkit/guid.h"
#include "pstkit/messaging.h"

namespace pstkit::item_text {

// A property bag whose named properties are read by set and LID or name,
// through the store's name-to-id map (NameMap::id_of, indexed when the
// store is opened).
class Props {
 public:
  Props(const PropertyBag& bag, const NameMap& names) : bag_(bag), names_(names) {}
  const PropertyBag& bag() const { return bag_; }
  std::optional<std::string> str(uint16_t tag_id) const;  // empty strings read as absent
  std::optional<std::string> str(const Guid& set, uint32_t lid) const;
  std::optional<int32_t> i32(const Guid& set, uint32_t lid) const;
  std::optional<bool> boolean(const Guid& set, uint32_t lid) const;
  std::optional<uint64_t> time(const Guid& set, uint32_t lid) const;
  std::optional<double> f64(const Guid& set, uint32_t lid) const;
  const Bytes* binary(const Guid& set, uint32_t lid) const;
  const PropValue* value(const Guid& set, uint32_t lid) const;
  std::vector<std::string> strings(const Guid& set, const std::string& name) const;  // PtypMultipleString
  std::vector<Bytes> binaries(const Guid& set, uint32_t lid) const;                  // PtypMultipleBinary

 private:
  const PropertyBag& bag_;
  const NameMap& names_;
};

// RFC 5545 3.3.11 / RFC 6350 3.4 TEXT escaping: \ ; , and newlines.
std::string escape_text(const std::string& s);

// Content lines, each ended with CRLF and folded at 75 octets (never
// inside a UTF-8 sequence) (RFC 5545 3.1, RFC 6350 3.2).
class Lines {
 public:
  void add(const std::string& name_and_params, const std::string& value);
  std::string& text() { return text_; }

 private:
  std::string text_;
};

// FILETIME (100 ns since 1601) to minutes since 1601.
inline int64_t filetime_minutes(uint64_t ft) { return int64_t(ft / 600000000ULL); }
// Seconds since 1601 of a FILETIME.
inline int64_t filetime_seconds(uint64_t ft) { return int64_t(ft / 10000000ULL); }

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
};
Civil civil_from_seconds_since_1601(int64_t seconds);
// "20240131T143000" and "20240131".
std::string format_date_time(int64_t seconds_since_1601);
std::string format_date(int64_t seconds_since_1601);
// A PtypTime in UTC: "20240131T143000Z"; nullopt before 1601 or after 9999.
std::optional<std::string> format_utc(uint64_t filetime);
bool plausible_filetime(uint64_t filetime);

std::string base64(const Bytes& data);
// Base64 (RFC 4648 4) of n bytes into base64_length(n) characters at dst,
// padded: the encoder base64() and MIME export's line writer share.
constexpr size_t base64_length(size_t n) { return (n + 2) / 3 * 4; }
void base64_encode(char* dst, const uint8_t* src, size_t n);
std::string hex_upper(const Bytes& data);

}  // namespace pstkit::item_text
