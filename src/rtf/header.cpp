// The compressed RTF header and inspect(): MS-OXRTFCP 2.1.3.1.1.

#include <string>

#include "pstkit/rtf.h"
#include "rtf/lzfu.h"

namespace pstkit::rtf {
namespace internal {

Result<Header> parse_header(ByteView stream) {
  if (!stream.has(0, kHeaderSize)) {
    return Status::truncated(kStructure, Status::kNoOffset,
                             "header needs 16 bytes, have " + std::to_string(stream.size()));
  }
  Header h{stream.u32(0), stream.u32(4), stream.u32(8), stream.u32(12)};
  if (h.comp_type != kCompTypeCompressed && h.comp_type != kCompTypeUncompressed) {
    return Status::corrupt(kStructure, Status::kNoOffset, "unknown COMPTYPE " + hex(h.comp_type));
  }
  if (h.comp_size < kCompSizeBias) {
    return Status::corrupt(kStructure, Status::kNoOffset,
                           "COMPSIZE " + std::to_string(h.comp_size) + " is below the minimum 12");
  }
  // COMPSIZE excludes only its own 4 bytes. A longer buffer is tolerated
  // (property storage may pad); a shorter one has lost data.
  uint64_t total = uint64_t{h.comp_size} + 4;
  if (total > stream.size()) {
    return Status::truncated(kStructure, Status::kNoOffset,
                             "COMPSIZE " + std::to_string(h.comp_size) + " needs " +
                                 std::to_string(total) + " bytes, have " +
                                 std::to_string(stream.size()));
  }
  return h;
}

ByteView contents_of(ByteView stream, const Header& header) {
  return stream.sub(kHeaderSize, size_t{header.comp_size} - kCompSizeBias);
}

}  // namespace internal

Result<DecompressInfo> inspect(ByteView compressed) {
  PSTKIT_ASSIGN_OR_RETURN(internal::Header h, internal::parse_header(compressed));
  DecompressInfo info;
  info.comp_size = h.comp_size;
  info.raw_size = h.raw_size;
  info.comp_type = h.comp_type;
  info.crc_stored = h.crc;
  // MS-OXRTFCP 2.1.3.1.1: the CRC covers the contents for LZFu and MUST be
  // zero for MELA.
  info.crc_computed =
      h.comp_type == kCompTypeCompressed ? crc32(internal::contents_of(compressed, h)) : 0;
  return info;
}

}  // namespace pstkit::rtf
