// Decompressing LZFu and unwrapping MELA streams (MS-OXRTFCP "Decompression").

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "pstkit/rtf.h"
#include "rtf/lzfu.h"

namespace pstkit::rtf {
namespace {

using internal::kStructure;

Status output_too_large(size_t max_output) {
  return Status::corrupt(kStructure, Status::kNoOffset,
                         "output exceeds the limit of " + std::to_string(max_output) + " bytes");
}

// Collects output and mirrors it into the dictionary ring. Producing stops
// (full() turns true) at RAWSIZE; exceeding max_output is an error. The
// output is written through a pointer into a buffer sized once (a byte at a
// time through push_back was a tenth of a full dump's time).
class Sink {
 public:
  Sink(uint32_t raw_size, size_t max_output, size_t contents_size)
      : raw_size_(raw_size), max_output_(max_output) {
    const auto& init = internal::kInitialDictionary;
    std::memcpy(dict_.data(), init.data(), init.size());
    write_ = init.size();
    // Each control byte buys at most 8 references of 17 bytes, so the
    // contents bound the output; never trust RAWSIZE for the allocation.
    const uint64_t bound = uint64_t{contents_size} * 17 + 17;
    limit_ = size_t(std::min<uint64_t>({bound, raw_size_, max_output_}));
    out_.resize(limit_);
  }

  bool full() const { return size_ >= raw_size_; }
  size_t write_position() const { return write_; }
  uint8_t dict_at(size_t offset) const { return dict_[offset & internal::kDictionaryMask]; }

  // False when the byte would exceed max_output.
  bool put(uint8_t b) {
    if (size_ >= limit_) return false;  // limit_ < raw_size only through max_output or the bound
    out_[size_++] = b;
    dict_[write_] = b;
    write_ = (write_ + 1) & internal::kDictionaryMask;
    return true;
  }

  Bytes take() {
    out_.resize(size_);
    return std::move(out_);
  }
  size_t size() const { return size_; }

 private:
  uint32_t raw_size_;
  size_t max_output_;
  size_t limit_ = 0;
  size_t size_ = 0;
  std::array<uint8_t, internal::kDictionarySize> dict_{};  // unwritten bytes read as 0
  size_t write_;
  Bytes out_;
};

enum class Stop { kEndMarker, kRawSizeReached, kContentsExhausted, kOutputTooLarge };

// MS-OXRTFCP "Decompression": control bytes, LSB first, select literal
// bytes (0) or big-endian 16-bit references (1): 12-bit dictionary offset,
// 4-bit length - 2. A reference to the current write position ends the data.
Stop run_tokens(ByteView contents, size_t& pos, Sink& sink) {
  while (true) {
    if (sink.full()) return Stop::kRawSizeReached;
    if (!contents.has(pos, 1)) return Stop::kContentsExhausted;
    uint8_t control = contents.u8(pos++);
    for (int bit = 0; bit < 8; ++bit) {
      if (sink.full()) return Stop::kRawSizeReached;
      if ((control & (1u << bit)) == 0) {
        if (!contents.has(pos, 1)) return Stop::kContentsExhausted;
        if (!sink.put(contents.u8(pos++))) return Stop::kOutputTooLarge;
        continue;
      }
      if (!contents.has(pos, 2)) return Stop::kContentsExhausted;
      uint16_t word = uint16_t((contents.u8(pos) << 8) | contents.u8(pos + 1));
      pos += 2;
      size_t offset = word >> 4;
      size_t length = (word & 0xF) + internal::kMinMatch;
      if (offset == sink.write_position()) return Stop::kEndMarker;
      // Byte by byte: a reference may overlap the bytes it is producing.
      for (size_t i = 0; i < length && !sink.full(); ++i) {
        if (!sink.put(sink.dict_at(offset + i))) return Stop::kOutputTooLarge;
      }
    }
  }
}

Result<Bytes> decode_lzfu(ByteView contents, uint32_t raw_size, const DecompressOptions& options) {
  Sink sink(raw_size, options.max_output, contents.size());
  size_t pos = 0;
  switch (run_tokens(contents, pos, sink)) {
    case Stop::kEndMarker:  // fewer bytes than RAWSIZE is a writer quirk, not damage
    case Stop::kRawSizeReached:
      return sink.take();
    case Stop::kOutputTooLarge:
      return output_too_large(options.max_output);
    case Stop::kContentsExhausted:
      break;
  }
  if (options.allow_partial) return sink.take();
  return Status::truncated(kStructure, Status::kNoOffset,
                           "contents end at byte " + std::to_string(pos) +
                               " before the end marker, after " + std::to_string(sink.size()) +
                               " of " + std::to_string(raw_size) + " bytes");
}

// MELA: the contents are the RTF itself, RAWSIZE bytes of it.
Result<Bytes> unwrap_mela(ByteView contents, uint32_t raw_size, const DecompressOptions& options) {
  size_t n = std::min<size_t>(raw_size, contents.size());
  if (n > options.max_output) return output_too_large(options.max_output);
  if (n < raw_size && !options.allow_partial) {
    return Status::truncated(kStructure, Status::kNoOffset,
                             "uncompressed contents hold " + std::to_string(contents.size()) +
                                 " of RAWSIZE " + std::to_string(raw_size) + " bytes");
  }
  return contents.sub(0, n).to_bytes();
}

}  // namespace

Result<Bytes> decompress(ByteView compressed, const DecompressOptions& options) {
  PSTKIT_ASSIGN_OR_RETURN(internal::Header h, internal::parse_header(compressed));
  ByteView contents = internal::contents_of(compressed, h);
  if (h.comp_type == kCompTypeUncompressed) return unwrap_mela(contents, h.raw_size, options);
  if (options.verify_crc) {
    uint32_t computed = crc32(contents);
    if (computed != h.crc) {
      return Status::corrupt(kStructure, Status::kNoOffset,
                             "CRC mismatch: stored " + hex(h.crc) + ", computed " + hex(computed));
    }
  }
  return decode_lzfu(contents, h.raw_size, options);
}

Result<Bytes> decompress(ByteView compressed, size_t max_output) {
  DecompressOptions options;
  options.max_output = max_output;
  return decompress(compressed, options);
}

}  // namespace pstkit::rtf
