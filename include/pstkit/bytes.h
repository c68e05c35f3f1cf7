// Little-endian loads and a bounds-aware view over bytes.
//
// Every parser first checks that a structure fits (ByteView::has) and then
// loads its fields; loads past the end are impossible by construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pstkit {

using Bytes = std::vector<uint8_t>;
// Immutable shared buffer: blocks handed out by the cache.
using SharedBytes = std::shared_ptr<const Bytes>;

inline uint16_t load_le16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline uint64_t load_le64(const uint8_t* p) {
  return uint64_t(load_le32(p)) | (uint64_t(load_le32(p + 4)) << 32);
}
inline void store_le16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}

// A non-owning view of bytes. Accessors assume the caller checked has().
class ByteView {
 public:
  ByteView() = default;
  ByteView(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  ByteView(const Bytes& b) : data_(b.data()), size_(b.size()) {}  // NOLINT
  ByteView(std::span<const uint8_t> s) : data_(s.data()), size_(s.size()) {}  // NOLINT

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const uint8_t* begin() const { return data_; }
  const uint8_t* end() const { return data_ + size_; }
  bool empty() const { return size_ == 0; }
  // True when [offset, offset+len) lies inside the view (overflow-safe).
  bool has(size_t offset, size_t len) const { return offset <= size_ && len <= size_ - offset; }

  uint8_t u8(size_t o) const { return data_[o]; }
  uint16_t u16(size_t o) const { return load_le16(data_ + o); }
  uint32_t u32(size_t o) const { return load_le32(data_ + o); }
  uint64_t u64(size_t o) const { return load_le64(data_ + o); }
  // Sub-view; clamps to the end so it is always safe.
  ByteView sub(size_t offset, size_t len = SIZE_MAX) const {
    if (offset > size_) offset = size_;
    if (len > size_ - offset) len = size_ - offset;
    return ByteView(data_ + offset, len);
  }
  Bytes to_bytes() const { return Bytes(data_, data_ + size_); }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// "0x1a2b" formatting used in messages.
std::string hex(uint64_t v);

}  // namespace pstkit
