// MS-PST 2.3.2 BTree-on-Heap, edited in place.
//
// Each array is one heap allocation of records sorted by key: leaf records
// are (key, data), index records (key of the child's first record, child
// HID). An edit rewrites the arrays from the root down to the record and
// nothing else; the HIDs of untouched arrays never change.
#include <algorithm>

#include "pstkit/ltp_editor.h"

namespace pstkit::ltp {

namespace {

constexpr size_t kBthHeaderSize = 8;  // MS-PST 2.3.2.1 BTHHEADER
constexpr size_t kHidSize = 4;        // MS-PST 2.3.2.2 hidNextLevel
constexpr uint8_t kMaxLevels = 8;     // deeper than any heap can hold

}  // namespace

// What an edit did to an array, for its parent's record.
struct BthEditor::Change {
  bool found = true;   // (remove) the key was there
  bool empty = false;  // the array lost its last record and was freed
  Hid hid = 0;         // the array's HID now (reallocation may move it)
  Bytes first_key;     // its first key now
  // A split: the new right-hand array and its first key.
  std::optional<std::pair<Bytes, Hid>> split;
};

Result<BthEditor> BthEditor::open(HeapBuilder& heap, Hid header) {
  PSTKIT_ASSIGN_OR_RETURN(ByteView h, heap.get(header));
  if (h.size() != kBthHeaderSize || h.u8(0) != kClientBth) {
    return Status::corrupt("BTH header", Status::kNoOffset, "HID " + hex(header) + " is not a BTHHEADER");
  }
  BthEditor e(&heap, header);
  e.key_size_ = h.u8(1);
  e.data_size_ = h.u8(2);
  e.levels_ = h.u8(3);
  e.root_ = h.u32(4);
  if ((e.key_size_ != 2 && e.key_size_ != 4 && e.key_size_ != 8 && e.key_size_ != 16) || e.data_size_ == 0 ||
      e.data_size_ > 32 || e.levels_ > kMaxLevels) {
    return Status::corrupt("BTH header", Status::kNoOffset,
                           "HID " + hex(header) + ": cbKey " + std::to_string(e.key_size_) + ", cbEnt " +
                               std::to_string(e.data_size_) + ", bIdxLevels " + std::to_string(e.levels_));
  }
  return e;
}

Status BthEditor::write_header() {
  Bytes h(kBthHeaderSize, 0);
  h[0] = kClientBth;
  h[1] = key_size_;
  h[2] = data_size_;
  h[3] = levels_;
  store_le32(h.data() + 4, root_);
  return heap_->replace(header_, ByteView(h));
}

namespace {

// Position of the first record whose key is >= key.
size_t lower_bound(ByteView records, size_t record_size, size_t key_size, ByteView key) {
  size_t lo = 0, hi = records.size() / record_size;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (compare_keys(records.sub(mid * record_size, key_size), key) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Status check_array(ByteView records, size_t record_size, Hid hid) {
  if (records.empty() || records.size() % record_size != 0) {
    return Status::corrupt("BTH", Status::kNoOffset,
                           "array " + hex(hid) + " of " + std::to_string(records.size()) +
                               " bytes is not a whole number of " + std::to_string(record_size) + "-byte records");
  }
  return Status::ok();
}

}  // namespace

Result<BthEditor::Array> BthEditor::load_array(Hid hid, uint8_t level, ByteView key) const {
  PSTKIT_ASSIGN_OR_RETURN(ByteView view, heap_->get(hid));
  Array a;
  a.record_size = key_size_ + (level > 0 ? kHidSize : data_size_);
  PSTKIT_RETURN_IF_ERROR(check_array(view, a.record_size, hid));
  a.records = view.to_bytes();
  a.count = a.records.size() / a.record_size;
  a.pos = lower_bound(ByteView(a.records), a.record_size, key_size_, key);
  a.exact = a.pos < a.count && compare_keys(ByteView(a.records).sub(a.pos * a.record_size, key_size_), key) == 0;
  return a;
}

Result<std::optional<Bytes>> BthEditor::find(ByteView key) const {
  if (key.size() != key_size_) return Status::invalid_argument("BTH key of the wrong size");
  Hid hid = root_;
  for (int level = levels_; hid != 0; --level) {
    PSTKIT_ASSIGN_OR_RETURN(ByteView r, heap_->get(hid));
    const size_t rs = key_size_ + (level > 0 ? kHidSize : data_size_);
    PSTKIT_RETURN_IF_ERROR(check_array(r, rs, hid));
    size_t pos = lower_bound(r, rs, key_size_, key);
    const size_t n = r.size() / rs;
    const bool exact = pos < n && compare_keys(r.sub(pos * rs, key_size_), key) == 0;
    if (level == 0) {
      if (!exact) return std::optional<Bytes>{};
      return std::optional<Bytes>(r.sub(pos * rs + key_size_, data_size_).to_bytes());
    }
    if (!exact) {
      if (pos == 0) return std::optional<Bytes>{};  // smaller than every key
      --pos;
    }
    hid = r.u32(pos * rs + key_size_);
  }
  return std::optional<Bytes>{};
}

Result<BthEditor::Change> BthEditor::insert(Hid hid, uint8_t level, ByteView key, ByteView data) {
  PSTKIT_ASSIGN_OR_RETURN(Array a, load_array(hid, level, key));
  Bytes& records = a.records;
  const size_t rs = a.record_size, n = a.count, pos = a.pos;
  const bool exact = a.exact;
  bool appended = false;
  if (level == 0) {
    if (exact) {
      std::copy(data.begin(), data.end(), records.begin() + long(pos * rs + key_size_));
    } else {
      Bytes rec = key.to_bytes();
      rec.insert(rec.end(), data.begin(), data.end());
      records.insert(records.begin() + long(pos * rs), rec.begin(), rec.end());
      appended = pos == n;
    }
  } else {
    const size_t child = exact || pos == 0 ? pos : pos - 1;
    PSTKIT_ASSIGN_OR_RETURN(Change c, insert(ByteView(records).u32(child * rs + key_size_), uint8_t(level - 1), key, data));
    std::copy(c.first_key.begin(), c.first_key.end(), records.begin() + long(child * rs));
    store_le32(records.data() + child * rs + key_size_, c.hid);
    if (c.split) {
      Bytes rec = c.split->first;
      rec.resize(rs);
      store_le32(rec.data() + key_size_, c.split->second);
      records.insert(records.begin() + long((child + 1) * rs), rec.begin(), rec.end());
      appended = child + 1 == n;
    }
  }
  Change out;
  const size_t count = records.size() / rs;
  const size_t max_records = kMaxHeapAllocation / rs;
  if (count <= max_records) {
    PSTKIT_ASSIGN_OR_RETURN(out.hid, heap_->reallocate(hid, ByteView(records)));
    out.first_key.assign(records.begin(), records.begin() + key_size_);
    return out;
  }
  // Split. Records added at the end (ascending row ids) leave the left array
  // full, as a builder lays them out; others split it in half.
  const size_t left = appended ? max_records : count / 2;
  const ByteView all(records);
  PSTKIT_ASSIGN_OR_RETURN(out.hid, heap_->reallocate(hid, all.sub(0, left * rs)));
  PSTKIT_ASSIGN_OR_RETURN(Hid right, heap_->allocate(all.sub(left * rs, (count - left) * rs)));
  out.first_key.assign(records.begin(), records.begin() + key_size_);
  out.split.emplace(all.sub(left * rs, key_size_).to_bytes(), right);
  return out;
}

Status BthEditor::set(ByteView key, ByteView data) {
  if (key.size() != key_size_ || data.size() != data_size_) {
    return Status::invalid_argument("BTH record of " + std::to_string(key.size()) + "+" +
                                    std::to_string(data.size()) + " bytes, expected " +
                                    std::to_string(key_size_) + "+" + std::to_string(data_size_));
  }
  if (root_ == 0) {
    Bytes rec = key.to_bytes();
    rec.insert(rec.end(), data.begin(), data.end());
    PSTKIT_ASSIGN_OR_RETURN(root_, heap_->allocate(ByteView(rec)));
    levels_ = 0;
    return write_header();
  }
  PSTKIT_ASSIGN_OR_RETURN(Change c, insert(root_, levels_, key, data));
  const Hid old_root = root_;
  root_ = c.hid;
  if (c.split) {
    if (levels_ >= kMaxLevels) return Status::unsupported("BTH deeper than " + std::to_string(kMaxLevels) + " levels");
    // A new root over the two halves.
    Bytes rec(2 * (key_size_ + kHidSize), 0);
    std::copy(c.first_key.begin(), c.first_key.end(), rec.begin());
    store_le32(rec.data() + key_size_, c.hid);
    std::copy(c.split->first.begin(), c.split->first.end(), rec.begin() + key_size_ + kHidSize);
    store_le32(rec.data() + 2 * key_size_ + kHidSize, c.split->second);
    PSTKIT_ASSIGN_OR_RETURN(root_, heap_->allocate(ByteView(rec)));
    ++levels_;
  }
  if (root_ != old_root || c.split) return write_header();
  return Status::ok();
}

Result<BthEditor::Change> BthEditor::remove(Hid hid, uint8_t level, ByteView key) {
  PSTKIT_ASSIGN_OR_RETURN(Array a, load_array(hid, level, key));
  Bytes& records = a.records;
  const size_t rs = a.record_size, pos = a.pos;
  const bool exact = a.exact;
  Change out;
  out.hid = hid;
  if (level == 0) {
    if (!exact) {
      out.found = false;
      return out;
    }
    records.erase(records.begin() + long(pos * rs), records.begin() + long((pos + 1) * rs));
  } else {
    if (!exact && pos == 0) {
      out.found = false;
      return out;
    }
    const size_t child = exact ? pos : pos - 1;
    PSTKIT_ASSIGN_OR_RETURN(Change c, remove(ByteView(records).u32(child * rs + key_size_), uint8_t(level - 1), key));
    if (!c.found) {
      out.found = false;
      return out;
    }
    if (c.empty) {
      records.erase(records.begin() + long(child * rs), records.begin() + long((child + 1) * rs));
    } else {
      std::copy(c.first_key.begin(), c.first_key.end(), records.begin() + long(child * rs));
      store_le32(records.data() + child * rs + key_size_, c.hid);
    }
  }
  if (records.empty()) {
    PSTKIT_RETURN_IF_ERROR(heap_->free(hid));
    out.empty = true;
    return out;
  }
  PSTKIT_ASSIGN_OR_RETURN(out.hid, heap_->reallocate(hid, ByteView(records)));
  out.first_key.assign(records.begin(), records.begin() + key_size_);
  return out;
}

Result<bool> BthEditor::erase(ByteView key) {
  if (key.size() != key_size_) return Status::invalid_argument("BTH key of the wrong size");
  if (root_ == 0) return false;
  PSTKIT_ASSIGN_OR_RETURN(Change c, remove(root_, levels_, key));
  if (!c.found) return false;
  if (c.empty) {
    root_ = 0;
    levels_ = 0;
  } else {
    root_ = c.hid;
    // An index root left with one child gives way to it.
    while (levels_ > 0) {
      PSTKIT_ASSIGN_OR_RETURN(ByteView r, heap_->get(root_));
      if (r.size() != size_t(key_size_) + kHidSize) break;
      const Hid child = r.u32(key_size_);
      PSTKIT_RETURN_IF_ERROR(heap_->free(root_));
      root_ = child;
      --levels_;
    }
  }
  PSTKIT_RETURN_IF_ERROR(write_header());
  return true;
}

}  // namespace pstkit::ltp
