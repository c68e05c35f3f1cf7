// Writing compressed RTF: an LZ77 encoder for LZFu (MS-OXRTFCP "Compression")
// and the MELA wrapper.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "pstkit/rtf.h"
#include "rtf/lzfu.h"

namespace pstkit::rtf {
namespace {

using internal::kDictionaryMask;
using internal::kDictionarySize;
using internal::kMaxMatch;
using internal::kMinMatch;

// Candidates examined per token; bounds the cost on repetitive input while
// still finding the longest match in ordinary RTF.
constexpr int kMaxChain = 256;

// Packs tokens into runs of one control byte and up to eight tokens, the
// control byte's bits set LSB first for references (MS-OXRTFCP "Run",
// "Dictionary Reference").
class TokenWriter {
 public:
  explicit TokenWriter(Bytes& out) : out_(out) {}

  void literal(uint8_t b) {
    start_token(false);
    out_.push_back(b);
  }
  // length_field is the stored 4-bit value, i.e. the match length - 2.
  void reference(size_t offset, size_t length_field) {
    start_token(true);
    uint16_t word = uint16_t(((offset & kDictionaryMask) << 4) | (length_field & 0xF));
    out_.push_back(uint8_t(word >> 8));  // big-endian, unlike the header
    out_.push_back(uint8_t(word));
  }

 private:
  void start_token(bool is_reference) {
    if (used_ == 8) {
      control_at_ = out_.size();
      out_.push_back(0);
      used_ = 0;
    }
    if (is_reference) out_[control_at_] = uint8_t(out_[control_at_] | (1u << used_));
    ++used_;
  }

  Bytes& out_;
  size_t control_at_ = 0;
  int used_ = 8;  // forces a control byte before the first token
};

// Finds matches in "stream" = initial dictionary followed by the input. A
// stream position s lives at dictionary offset s % 4096, so positions at
// most 4095 back are still in the ring. Positions are chained by their
// first two bytes; chain links live in a ring of the window's size.
class Matcher {
 public:
  explicit Matcher(const Bytes& stream)
      : stream_(stream), head_(size_t{1} << 16, kNone), prev_(kDictionarySize, kNone) {}

  // Makes every position before `end` available as a match source.
  void insert_up_to(size_t end) {
    for (; inserted_ < end; ++inserted_) {
      if (inserted_ + 1 >= stream_.size()) continue;
      size_t k = key(inserted_);
      prev_[inserted_ & kDictionaryMask] = head_[k];
      head_[k] = int64_t(inserted_);
    }
  }

  struct Match {
    size_t position = 0;
    size_t length = 0;
  };

  // Longest match for the bytes at cur; among equal lengths the oldest, as
  // MS-OXRTFCP "Finding the Longest Match to Input" scans from the oldest
  // byte and keeps the first of the longest.
  Match longest(size_t cur) const {
    Match best;
    size_t limit = std::min(kMaxMatch, stream_.size() - cur);
    if (limit < kMinMatch) return best;
    int steps = 0;
    for (int64_t s = head_[key(cur)]; s != kNone && steps < kMaxChain; ++steps) {
      size_t pos = size_t(s);
      // Distance 4096 would name the write position, i.e. the end marker.
      if (cur - pos >= kDictionarySize) break;
      size_t len = 0;
      // pos + len may reach past cur: the decoder copies byte by byte, so
      // an overlapping reference repeats the bytes it has just produced.
      while (len < limit && stream_[pos + len] == stream_[cur + len]) ++len;
      if (len >= kMinMatch && len >= best.length) best = {pos, len};
      s = prev_[pos & kDictionaryMask];
    }
    return best;
  }

 private:
  static constexpr int64_t kNone = -1;
  size_t key(size_t s) const { return (size_t{stream_[s]} << 8) | stream_[s + 1]; }

  const Bytes& stream_;
  std::vector<int64_t> head_;
  std::vector<int64_t> prev_;
  size_t inserted_ = 0;
};

void put_header(Bytes& out, uint32_t raw_size, uint32_t comp_type, uint32_t crc) {
  uint32_t comp_size = uint32_t(out.size() - kHeaderSize + internal::kCompSizeBias);
  store_le32(out.data(), comp_size);
  store_le32(out.data() + 4, raw_size);
  store_le32(out.data() + 8, comp_type);
  store_le32(out.data() + 12, crc);
}

}  // namespace

Bytes compress(ByteView rtf) {
  const auto& init = internal::kInitialDictionary;
  Bytes stream(init.size() + rtf.size());
  std::memcpy(stream.data(), init.data(), init.size());
  if (!rtf.empty()) std::memcpy(stream.data() + init.size(), rtf.data(), rtf.size());

  Bytes out(kHeaderSize, 0);
  out.reserve(kHeaderSize + rtf.size() + rtf.size() / 8 + 4);
  TokenWriter writer(out);
  Matcher matcher(stream);
  size_t cur = init.size();
  while (cur < stream.size()) {
    matcher.insert_up_to(cur);
    Matcher::Match m = matcher.longest(cur);
    if (m.length >= kMinMatch) {
      writer.reference(m.position, m.length - kMinMatch);
      cur += m.length;
    } else {
      writer.literal(stream[cur]);
      ++cur;
    }
  }
  // A reference to the write position marks the end (MS-OXRTFCP "Compression").
  writer.reference(cur, 0);

  uint32_t crc = crc32(ByteView(out).sub(kHeaderSize));
  put_header(out, uint32_t(rtf.size()), kCompTypeCompressed, crc);
  return out;
}

Bytes wrap_uncompressed(ByteView rtf) {
  Bytes out(kHeaderSize + rtf.size(), 0);
  if (!rtf.empty()) std::memcpy(out.data() + kHeaderSize, rtf.data(), rtf.size());
  put_header(out, uint32_t(rtf.size()), kCompTypeUncompressed, 0);  // MELA's CRC MUST be 0
  return out;
}

}  // namespace pstkit::rtf
