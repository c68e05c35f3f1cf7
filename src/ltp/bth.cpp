// MS-PST 2.3.2 BTree-on-Heap.
//
// Record arrays are heap allocations; intermediate records are (key, HID of
// the next level), leaf records (key, data). A damaged tree can point back to
// an array already visited, so walks remember every HID they enter, and the
// depth is bounded by bIdxLevels, itself capped at kMaxDepth.
#include <cstring>
#include <set>

#include "pstkit/ltp.h"

namespace pstkit::ltp {

namespace {

constexpr size_t kBthHeaderSize = 8;  // MS-PST 2.3.2.1 BTHHEADER

}  // namespace

int compare_keys(ByteView a, ByteView b) {
  // The spec does not say how keys are ordered. Outlook-written files sort
  // 2- and 4-byte keys (property ids, row ids) as little-endian numbers, and
  // 8- and 16-byte keys (the 0x8C, 0x9C and 0x6C heaps) byte by byte.
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  if (a.size() <= 4) {
    for (size_t i = a.size(); i-- > 0;) {
      if (a.u8(i) != b.u8(i)) return a.u8(i) < b.u8(i) ? -1 : 1;
    }
    return 0;
  }
  const int c = a.empty() ? 0 : std::memcmp(a.data(), b.data(), a.size());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

Result<Bth> Bth::open(const Heap& heap, Hid header_hid) {
  auto header = heap.get(header_hid);
  if (!header.is_ok()) return header.status().with_context("BTH header");
  const ByteView h = *header;
  const auto at = [&] { return "node " + hex(heap.nid()) + " BTH header " + hex(header_hid); };
  if (h.size() < kBthHeaderSize) {
    return Status::corrupt("BTH header", Status::kNoOffset,
                           at() + ": " + std::to_string(h.size()) + " bytes, needs 8");
  }
  if (h.u8(0) != kClientBth) {
    return Status::corrupt("BTH header", Status::kNoOffset, at() + ": bType " + hex(h.u8(0)) + ", expected 0xb5");
  }
  const uint8_t key_size = h.u8(1);
  const uint8_t data_size = h.u8(2);
  const uint8_t levels = h.u8(3);
  if (key_size != 2 && key_size != 4 && key_size != 8 && key_size != 16) {
    return Status::corrupt("BTH header", Status::kNoOffset, at() + ": cbKey " + std::to_string(key_size));
  }
  if (data_size == 0 || data_size > 32) {
    return Status::corrupt("BTH header", Status::kNoOffset, at() + ": cbEnt " + std::to_string(data_size));
  }
  if (levels > kMaxDepth) {
    return Status::corrupt("BTH header", Status::kNoOffset,
                           at() + ": bIdxLevels " + std::to_string(levels) + " exceeds " +
                               std::to_string(kMaxDepth));
  }
  return Bth(heap, key_size, data_size, levels, h.u32(4));
}

Status Bth::walk(Hid hid, int level, std::set<Hid>& seen, const uint8_t* expect_first,
                 bool check_order, Bytes& last_key, bool& have_last,
                 const std::function<bool(ByteView, ByteView)>& visit, bool& stopped) const {
  // Named only on error: this runs for every record array walked.
  const auto at = [&] { return "node " + hex(heap_.nid()) + " BTH records " + hex(hid); };
  if (!seen.insert(hid).second) {
    return Status::corrupt("BTH", Status::kNoOffset, at() + ": reached twice (cycle)");
  }
  auto records = heap_.get(hid);
  if (!records.is_ok()) return records.status().with_context("BTH records");
  const ByteView r = *records;
  const size_t record_size = key_size_ + (level > 0 ? 4 : data_size_);
  if (r.size() % record_size != 0) {
    return Status::corrupt("BTH", Status::kNoOffset,
                           at() + ": " + std::to_string(r.size()) + " bytes is not a multiple of " +
                               std::to_string(record_size));
  }
  if (check_order && expect_first != nullptr) {
    if (r.empty() || compare_keys(r.sub(0, key_size_), ByteView(expect_first, key_size_)) != 0) {
      return Status::corrupt("BTH", Status::kNoOffset,
                             at() + ": first key differs from the index key that points here");
    }
  }
  for (size_t off = 0; off < r.size() && !stopped; off += record_size) {
    const ByteView key = r.sub(off, key_size_);
    if (level > 0) {
      const Hid child = r.u32(off + key_size_);
      PSTKIT_RETURN_IF_ERROR(walk(child, level - 1, seen, key.data(), check_order, last_key,
                                  have_last, visit, stopped));
      continue;
    }
    if (check_order) {
      if (have_last && compare_keys(ByteView(last_key), key) >= 0) {
        return Status::corrupt("BTH", Status::kNoOffset, at() + ": keys not in ascending order");
      }
      last_key.assign(key.data(), key.data() + key.size());
      have_last = true;
    }
    if (!visit(key, r.sub(off + key_size_, data_size_))) stopped = true;
  }
  return Status::ok();
}

Status Bth::for_each(const std::function<bool(ByteView key, ByteView data)>& visit) const {
  if (root_ == 0) return Status::ok();
  std::set<Hid> seen;
  Bytes last;
  bool have_last = false;
  bool stopped = false;
  return walk(root_, levels_, seen, nullptr, false, last, have_last, visit, stopped);
}

Status Bth::validate() const {
  if (root_ == 0) return Status::ok();
  std::set<Hid> seen;
  Bytes last;
  bool have_last = false;
  bool stopped = false;
  return walk(root_, levels_, seen, nullptr, true, last, have_last,
              [](ByteView, ByteView) { return true; }, stopped);
}

Result<std::optional<ByteView>> Bth::find(ByteView key) const {
  if (key.size() != key_size_) {
    return Status::invalid_argument("BTH key of " + std::to_string(key.size()) + " bytes, expected " +
                                    std::to_string(key_size_));
  }
  Hid hid = root_;
  // Descends levels_ index levels; each step lowers the level, so at most
  // kMaxDepth + 1 arrays are read and no cycle can loop.
  for (int level = levels_; hid != 0; --level) {
    auto records = heap_.get(hid);
    if (!records.is_ok()) return records.status().with_context("BTH records");
    const ByteView r = *records;
    const size_t record_size = key_size_ + (level > 0 ? 4 : data_size_);
    if (r.size() % record_size != 0) {
      return Status::corrupt("BTH", Status::kNoOffset,
                             "node " + hex(heap_.nid()) + " BTH records " + hex(hid) + ": " +
                                 std::to_string(r.size()) + " bytes is not a multiple of " +
                                 std::to_string(record_size));
    }
    if (level == 0) {
      for (size_t off = 0; off < r.size(); off += record_size) {
        if (compare_keys(r.sub(off, key_size_), key) == 0) {
          return std::optional<ByteView>(r.sub(off + key_size_, data_size_));
        }
      }
      return std::optional<ByteView>();
    }
    // The last index record whose key is <= the wanted key.
    Hid next = 0;
    for (size_t off = 0; off < r.size(); off += record_size) {
      if (compare_keys(r.sub(off, key_size_), key) > 0) break;
      next = r.u32(off + key_size_);
    }
    if (next == 0) return std::optional<ByteView>();
    hid = next;
  }
  return std::optional<ByteView>();
}

}  // namespace pstkit::ltp
