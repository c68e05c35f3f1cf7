// Internal constants and header parsing shared by the LZFu encoder and
// decoder (MS-OXRTFCP 2.1.2 "Dictionary", 2.1.3.1.1 header grammar).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit::rtf::internal {

// The dictionary is a 4096-byte ring; references carry a 12-bit offset and
// a 4-bit length stored as (length - 2). MS-OXRTFCP "Dictionary Reference".
inline constexpr size_t kDictionarySize = 4096;
inline constexpr size_t kDictionaryMask = kDictionarySize - 1;
inline constexpr size_t kMinMatch = 2;
inline constexpr size_t kMaxMatch = 17;

// COMPSIZE counts the contents plus the 12 header bytes that follow it.
inline constexpr uint32_t kCompSizeBias = 12;

// The dictionary's initial contents, MS-OXRTFCP 2.1.2.1; writing starts
// right after them.
inline constexpr std::string_view kInitialDictionary =
    "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman "
    "\\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New "
    "RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
    "\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
static_assert(kInitialDictionary.size() == 207, "MS-OXRTFCP 2.1.2.1: 207 bytes");

inline constexpr const char* kStructure = "compressed RTF";

struct Header {
  uint32_t comp_size;
  uint32_t raw_size;
  uint32_t comp_type;
  uint32_t crc;
};

// Reads and validates the 16-byte header, and returns the contents (the
// bytes COMPSIZE covers after the header, trailing bytes dropped).
Result<Header> parse_header(ByteView stream);
ByteView contents_of(ByteView stream, const Header& header);

}  // namespace pstkit::rtf::internal
