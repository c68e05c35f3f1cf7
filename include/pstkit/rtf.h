// Compressed RTF ([MS-OXRTFCP]): the codec behind PidTagRtfCompressed.
//
// A compressed RTF stream is a 16-byte header (COMPSIZE, RAWSIZE, COMPTYPE,
// CRC) followed either by the RTF bytes themselves ("MELA") or by an LZ77
// token stream ("LZFu") over a 4096-byte circular dictionary that starts out
// holding a fixed 207-byte RTF preamble.
//
// Decoding is defensive: every read is bounds-checked, output is capped, and
// damaged streams yield a Status naming "compressed RTF".
#pragma once

#include <cstddef>
#include <cstdint>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit::rtf {

// COMPTYPE values, MS-OXRTFCP 2.1.3.1.1.
inline constexpr uint32_t kCompTypeCompressed = 0x75465A4C;    // "LZFu"
inline constexpr uint32_t kCompTypeUncompressed = 0x414C454D;  // "MELA"

inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kDefaultMaxOutput = size_t{64} << 20;  // 64 MiB

// The header fields plus the CRC this stream's contents actually have.
struct DecompressInfo {
  uint32_t comp_size = 0;     // COMPSIZE: contents length + 12
  uint32_t raw_size = 0;      // RAWSIZE: claimed uncompressed length
  uint32_t comp_type = 0;     // kCompTypeCompressed or kCompTypeUncompressed
  uint32_t crc_stored = 0;    // CRC field of the header
  uint32_t crc_computed = 0;  // crc32() of the contents; 0 for MELA, whose CRC must be 0

  bool crc_ok() const { return crc_stored == crc_computed; }
};

// Parses and checks the header and computes the contents' CRC, without
// decompressing. A CRC mismatch is reported in the result, not as an error,
// so a checker can tell a bad checksum from a malformed header.
// Errors: header shorter than 16 bytes or COMPSIZE past the buffer
// (kTruncated), unknown COMPTYPE or COMPSIZE < 12 (kCorrupt).
Result<DecompressInfo> inspect(ByteView compressed);

struct DecompressOptions {
  // Reject LZFu streams whose CRC does not match (MS-OXRTFCP 2.1.3.2).
  bool verify_crc = true;
  // Fail rather than produce more than this many bytes.
  size_t max_output = kDefaultMaxOutput;
  // Return what was decoded when the contents end before the end marker,
  // instead of a kTruncated error; for salvaging damaged messages.
  bool allow_partial = false;
};

// Returns the RTF bytes. Tolerant where real writers are sloppy: bytes after
// COMPSIZE are ignored, decoding stops once RAWSIZE bytes are produced, and
// an end marker reached before RAWSIZE bytes is accepted.
Result<Bytes> decompress(ByteView compressed, const DecompressOptions& options);
Result<Bytes> decompress(ByteView compressed, size_t max_output = kDefaultMaxOutput);

// Compresses rtf into an LZFu stream (header included) that decompress()
// and Outlook accept. rtf must be shorter than 4 GiB (RAWSIZE is 32-bit).
Bytes compress(ByteView rtf);

// Wraps rtf unchanged in a MELA header (COMPTYPE "uncompressed", CRC 0).
Bytes wrap_uncompressed(ByteView rtf);

// The CRC of MS-OXRTFCP 2.1.3.2: CRC-32 (polynomial 0xEDB88320) starting
// from 0 with no final inversion, so it differs from zlib's crc32.
uint32_t crc32(ByteView data);

}  // namespace pstkit::rtf
