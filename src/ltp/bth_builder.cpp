// MS-PST 2.3.2 BTree-on-Heap, written: leaf arrays of (key, data) records,
// then levels of index arrays of (first key of a child, child HID) until one
// array remains.
#include <functional>

#include "pstkit/ltp_builder.h"

namespace pstkit::ltp {

namespace {

constexpr size_t kBthHeaderSize = 8;  // MS-PST 2.3.2.1 BTHHEADER
constexpr size_t kHidSize = 4;        // MS-PST 2.3.2.2 hidNextLevel

Bytes bth_header(uint8_t key_size, uint8_t data_size, uint8_t levels, Hid root) {
  Bytes h(kBthHeaderSize, 0);
  h[0] = kClientBth;  // bType
  h[1] = key_size;    // cbKey
  h[2] = data_size;   // cbEnt
  h[3] = levels;      // bIdxLevels
  store_le32(h.data() + 4, root);
  return h;
}

}  // namespace

bool BthBuilder::KeyLess::operator()(const Bytes& a, const Bytes& b) const {
  return compare_keys(ByteView(a), ByteView(b)) < 0;
}

Result<BthBuilder> BthBuilder::create(uint8_t key_size, uint8_t data_size) {
  if (key_size != 2 && key_size != 4 && key_size != 8 && key_size != 16) {
    return Status::invalid_argument("BTH cbKey must be 2, 4, 8 or 16, not " + std::to_string(key_size));
  }
  if (data_size == 0 || data_size > 32) {
    return Status::invalid_argument("BTH cbEnt must be 1..32, not " + std::to_string(data_size));
  }
  return BthBuilder(key_size, data_size);
}

Status BthBuilder::set(ByteView key, ByteView data) {
  if (key.size() != key_size_ || data.size() != data_size_) {
    return Status::invalid_argument("BTH record of " + std::to_string(key.size()) + "+" +
                                    std::to_string(data.size()) + " bytes, expected " +
                                    std::to_string(key_size_) + "+" + std::to_string(data_size_));
  }
  records_[key.to_bytes()] = data.to_bytes();
  return Status::ok();
}

bool BthBuilder::erase(ByteView key) { return records_.erase(key.to_bytes()) > 0; }

std::optional<ByteView> BthBuilder::find(ByteView key) const {
  auto it = records_.find(key.to_bytes());
  if (it == records_.end()) return std::nullopt;
  return ByteView(it->second);
}

void BthBuilder::for_each(const std::function<void(ByteView key, ByteView data)>& visit) const {
  for (const auto& [key, data] : records_) visit(ByteView(key), ByteView(data));
}

Status BthBuilder::set_max_array_bytes(size_t bytes) {
  const size_t widest = key_size_ + std::max<size_t>(data_size_, kHidSize);
  if (bytes > kMaxHeapAllocation || bytes < 2 * widest) {
    return Status::invalid_argument("BTH array size " + std::to_string(bytes) + " outside " +
                                    std::to_string(2 * widest) + ".." + std::to_string(kMaxHeapAllocation));
  }
  max_array_bytes_ = bytes;
  return Status::ok();
}

Result<Hid> BthBuilder::reserve_header(HeapBuilder& heap) {
  return heap.allocate(ByteView(Bytes(kBthHeaderSize, 0)));
}

namespace {

// Lays out the arrays of a BTH level by level, leaves first, handing each to
// place (which stores it and says at which HID); returns the root and the
// number of index levels.
struct Tree {
  Hid root = 0;
  uint8_t levels = 0;
};
using PlaceArray = std::function<Result<Hid>(const Bytes& array)>;

Result<Tree> place_tree(const std::vector<std::pair<const Bytes*, const Bytes*>>& records, size_t key_size,
                        size_t data_size, size_t max_array_bytes, const PlaceArray& place) {
  Tree tree;
  if (records.empty()) return tree;
  // (first key, HID) of each array of the level just placed.
  std::vector<std::pair<Bytes, Hid>> level;
  const size_t per_leaf = max_array_bytes / (key_size + data_size);
  for (size_t i = 0; i < records.size(); i += per_leaf) {
    Bytes array;
    const size_t end = std::min(records.size(), i + per_leaf);
    array.reserve((end - i) * (key_size + data_size));
    for (size_t k = i; k < end; ++k) {
      array.insert(array.end(), records[k].first->begin(), records[k].first->end());
      array.insert(array.end(), records[k].second->begin(), records[k].second->end());
    }
    PSTKIT_ASSIGN_OR_RETURN(Hid hid, place(array));
    level.emplace_back(*records[i].first, hid);
  }
  const size_t per_index = max_array_bytes / (key_size + kHidSize);
  while (level.size() > 1) {
    if (tree.levels >= Bth::kMaxDepth) return Status::invalid_argument("BTH deeper than 8 index levels");
    std::vector<std::pair<Bytes, Hid>> upper;
    for (size_t i = 0; i < level.size(); i += per_index) {
      Bytes array;
      const size_t end = std::min(level.size(), i + per_index);
      for (size_t k = i; k < end; ++k) {
        // MS-PST 2.3.2.2: the key of the first record of the child array.
        array.insert(array.end(), level[k].first.begin(), level[k].first.end());
        uint8_t hid[kHidSize];
        store_le32(hid, level[k].second);
        array.insert(array.end(), hid, hid + kHidSize);
      }
      PSTKIT_ASSIGN_OR_RETURN(Hid hid, place(array));
      upper.emplace_back(level[i].first, hid);
    }
    level = std::move(upper);
    ++tree.levels;
  }
  tree.root = level[0].second;
  return tree;
}

}  // namespace

Result<BthBuilder::Placement> BthBuilder::build(HeapBuilder& heap, Hid header) const {
  Placement placement;
  if (header == 0) {
    PSTKIT_ASSIGN_OR_RETURN(header, reserve_header(heap));
  } else {
    PSTKIT_ASSIGN_OR_RETURN(ByteView old, heap.get(header));
    if (old.size() != kBthHeaderSize) {
      return Status::invalid_argument("BTH header allocation " + hex(header) + " is " +
                                      std::to_string(old.size()) + " bytes, not 8");
    }
  }
  placement.header = header;
  std::vector<std::pair<const Bytes*, const Bytes*>> records;
  records.reserve(records_.size());
  for (const auto& [key, data] : records_) records.emplace_back(&key, &data);
  PSTKIT_ASSIGN_OR_RETURN(
      Tree tree, place_tree(records, key_size_, data_size_, max_array_bytes_, [&](const Bytes& array) -> Result<Hid> {
        PSTKIT_ASSIGN_OR_RETURN(Hid hid, heap.allocate(ByteView(array)));
        placement.arrays.push_back(hid);
        return hid;
      }));
  PSTKIT_RETURN_IF_ERROR(heap.replace(header, ByteView(bth_header(key_size_, data_size_, tree.levels, tree.root))));
  return placement;
}

Status BthBuilder::rewrite(HeapBuilder& heap, const Placement& placement) const {
  std::vector<std::pair<const Bytes*, const Bytes*>> records;
  records.reserve(records_.size());
  for (const auto& [key, data] : records_) records.emplace_back(&key, &data);
  size_t next = 0;
  auto tree = place_tree(records, key_size_, data_size_, max_array_bytes_, [&](const Bytes& array) -> Result<Hid> {
    if (next >= placement.arrays.size()) {
      return Status::invalid_argument("BTH rewrite needs more arrays than were placed");
    }
    const Hid hid = placement.arrays[next++];
    PSTKIT_RETURN_IF_ERROR(heap.replace(hid, ByteView(array)));
    return hid;
  });
  if (!tree.is_ok()) return tree.status();
  if (next != placement.arrays.size()) {
    return Status::invalid_argument("BTH rewrite needs fewer arrays than were placed");
  }
  return heap.replace(placement.header, ByteView(bth_header(key_size_, data_size_, tree->levels, tree->root)));
}

}  // namespace pstkit::ltp
