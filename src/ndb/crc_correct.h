// Single-bit error correction with the CRC of a block or B-tree page
// (MS-PST 5.3, the CRC of BLOCKTRAILER.dwCRC and PAGETRAILER.dwCRC).
//
// The MS-PST CRC (CRC-32, seed 0, no final inversion) is linear: the CRC of
// data with one bit flipped differs from the CRC of the original by the
// CRC of that single bit followed by zero bytes (the "syndrome"), which
// depends only on the bit's position. For a message of up to
// kMaxCorrectableBytes the CRC-32 polynomial's Hamming distance is 4, so
// every single-bit error (in the data or in the stored CRC itself) has a
// different syndrome, and no two-bit error shares one with a single-bit
// error: a match is the flip, and more damage never matches.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pstkit::ndb {

// Longer data is not corrected: beyond 91607 bits (CRC and data) CRC-32's
// Hamming distance drops to 3 and a two-bit error could pass for a
// single-bit one. Covers every Unicode and ANSI block (at most 8176 data
// bytes) and every page; not the large 4K-page OST blocks.
constexpr size_t kMaxCorrectableBytes = 11000;

struct CrcCorrection {
  enum Kind {
    kNone,       // the CRC matches: nothing to do
    kDataBit,    // one data bit was flipped back (bit_index)
    kCrcBit,     // the data is intact; the stored CRC has one bit flipped (bit_index in it)
    kUncorrectable,  // more than one bit differs, or the data is too long
  };
  Kind kind = kNone;
  size_t bit_index = 0;  // kDataBit: byte bit_index / 8, bit bit_index % 8 (LSB = 0)
  bool corrected() const { return kind == kDataBit || kind == kCrcBit; }
};

// Given data[0, size) and the CRC stored for it: when the two disagree in a
// way a single flipped bit explains, flips the data bit back (kDataBit) or
// reports that only the stored CRC is wrong (kCrcBit). A data correction is
// verified by recomputing the CRC. data is left unchanged unless kDataBit.
// max_size: longer data is not corrected. Above kMaxCorrectableBytes a
// single-bit error is still located uniquely, but two flips may pass for
// one; only a caller with a second check of the result (a zlib stream's
// Adler-32) may raise it.
CrcCorrection correct_single_bit(uint8_t* data, size_t size, uint32_t stored_crc,
                                 size_t max_size = kMaxCorrectableBytes);

}  // namespace pstkit::ndb
