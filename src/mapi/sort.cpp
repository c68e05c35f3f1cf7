// Sort order sets: validation and the stable multi-key row sort
// (ssortorderset.md, ssortorder.md, imapitable-sorttable.md), in bounded
// memory (row_sorter.h).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>
#include <queue>

#include "mapi/row_sorter.h"
#include "mapi/text_fold.h"

namespace pstkit::mapi {
namespace {
// More keys than this are refused as too complex (sorttable.md allows a
// limit); each key costs one value per row.
constexpr size_t kMaxSortKeys = 32;
}  // namespace

Status validate(const SortOrderSet& sort) {
  if (sort.categories > sort.keys.size() || sort.expanded > sort.categories) {
    return Status::invalid_argument("sort order set: more categories than keys or more expanded than categories");
  }
  if (sort.categories != 0) return Status::unsupported("sort too complex: categorized sorts are not supported");
  if (sort.keys.size() > kMaxSortKeys) {
    return Status::unsupported("sort too complex: more than " + std::to_string(kMaxSortKeys) + " keys");
  }
  for (const SortKey& key : sort.keys) {
    switch (key.order) {
      case kSortAscend:
      case kSortDescend:
        break;
      case kSortCombine:
      case kSortCategMax:
      case kSortCategMin:
        return Status::unsupported("sort too complex: category orders are not supported");
      default:
        return Status::invalid_argument("unknown sort order " + std::to_string(key.order));
    }
    const uint16_t type = prop_type(key.tag);
    // ssortorder.md: MVI_FLAG sorts on the individual values (one row per
    // value), which this table does not expand.
    if (type & kMvInstance) return Status::unsupported("sort too complex: MVI_FLAG sort keys");
    const uint16_t base = uint16_t(type & ~kMvFlag);
    if (base == kPtObject || base == kPtError || base == kPtUnspecified) {
      return Status::unsupported("sort too complex: a key of property type " + std::to_string(type));
    }
  }
  return Status::ok();
}

namespace {

void put_big_endian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(char(uint8_t(v >> (8 * i))));
}

// Bytes, then a terminator that sorts before any continuation: 0x00 is
// written 0x00 0xFF and the end 0x00 0x00, so a prefix sorts first and no
// encoding is a prefix of another (which keeps concatenated keys and the
// inverted bytes of a descending key in order).
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xFF');
  }
  out.push_back('\0');
  out.push_back('\0');
}

// The value's encoding, in the order of compare_values (prop_value.cpp).
void append_value(std::string& out, const PropValue& v) {
  const uint16_t type = v.type();
  if (type & kMvFlag) {
    // Element by element, then the shorter list first.
    for (const PropValue& e : v.values) {
      out.push_back('\x01');
      append_value(out, e);
    }
    out.push_back('\0');
    return;
  }
  switch (type) {
    case kPtI2:
    case kPtLong:
    case kPtI8:
    case kPtCurrency:
    case kPtBoolean:
    case kPtError:
      put_big_endian(out, uint64_t(v.integer) ^ (uint64_t(1) << 63), 8);
      return;
    case kPtSysTime:
      put_big_endian(out, uint64_t(v.integer), 8);
      return;
    case kPtR4:
    case kPtDouble:
    case kPtAppTime: {
      if (std::isnan(v.real)) {  // NaN first, equal to each other
        out.push_back('\0');
        return;
      }
      out.push_back('\x01');
      const double d = v.real == 0 ? 0.0 : v.real;  // -0 == +0
      uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      bits = (bits >> 63) ? ~bits : bits | (uint64_t(1) << 63);
      put_big_endian(out, bits, 8);
      return;
    }
    case kPtClsid:
      out.append(reinterpret_cast<const char*>(v.guid.data()), v.guid.size());
      return;
    case kPtUnicode:
    case kPtString8:
      append_escaped(out, fold_to_utf8(v.bytes, type == kPtUnicode, kFoldCase));
      return;
    case kPtBinary:
    case kPtSvrEid:
      append_escaped(out, v.bytes);
      return;
    default:
      return;  // compare_values treats these as equal
  }
}

constexpr size_t kRowBytes = 4;

uint32_t row_of(std::string_view record) {
  uint32_t row = 0;
  for (size_t i = record.size() - kRowBytes; i < record.size(); ++i) row = row << 8 | uint8_t(record[i]);
  return row;
}

// Reads one sorted run back from the spill file, a buffer at a time.
class RunReader {
 public:
  RunReader(int fd, uint64_t offset, uint64_t size) : fd_(fd), next_(offset), end_(offset + size) {}

  // The next record, or nullopt at the end of the run.
  Result<std::optional<std::string>> next() {
    uint8_t len[4];
    PSTKIT_ASSIGN_OR_RETURN(bool more, read(len, sizeof len));
    if (!more) return std::optional<std::string>();
    const uint32_t n = uint32_t(len[0]) | uint32_t(len[1]) << 8 | uint32_t(len[2]) << 16 | uint32_t(len[3]) << 24;
    if (n < kRowBytes || n > end_ - next_ + (buffer_.size() - used_)) {
      return Status::io_error("table sort: a damaged record in the temporary file");
    }
    std::string record(n, '\0');
    PSTKIT_ASSIGN_OR_RETURN(bool whole, read(record.data(), n));
    if (!whole) return Status::io_error("table sort: the temporary file ends inside a record");
    return std::optional<std::string>(std::move(record));
  }

 private:
  Result<bool> read(void* dst, size_t n) {
    auto* out = static_cast<char*>(dst);
    while (n > 0) {
      if (used_ == buffer_.size()) {
        if (next_ >= end_) return false;
        buffer_.resize(size_t(std::min<uint64_t>(kBuffer, end_ - next_)));
        size_t got = 0;
        while (got < buffer_.size()) {
          const ssize_t r = ::pread(fd_, buffer_.data() + got, buffer_.size() - got, off_t(next_ + got));
          if (r < 0 && errno == EINTR) continue;
          if (r <= 0) return Status::io_error("table sort: cannot read the temporary file");
          got += size_t(r);
        }
        next_ += buffer_.size();
        used_ = 0;
      }
      const size_t take = std::min(n, buffer_.size() - used_);
      std::memcpy(out, buffer_.data() + used_, take);
      used_ += take;
      out += take;
      n -= take;
    }
    return true;
  }

  static constexpr size_t kBuffer = 64 * 1024;
  int fd_;
  uint64_t next_, end_;
  std::string buffer_;
  size_t used_ = 0;
};

}  // namespace

void append_sort_key(std::string& out, const SortKey& key, const PropValue& cell) {
  // A row lacks the key when its cell is an error or of another type;
  // ssortorder.md: such NULL entries come last in both directions.
  if (cell.is_error() || cell.type() != prop_type(key.tag)) {
    out.push_back('\x01');
    return;
  }
  out.push_back('\0');
  const size_t start = out.size();
  append_value(out, cell);
  if (key.order == kSortDescend) {
    for (size_t i = start; i < out.size(); ++i) out[i] = char(~uint8_t(out[i]));
  }
}

RowSorter::RowSorter(const SortOrderSet& sort, size_t memory_limit)
    : sort_(sort), memory_limit_(std::max<size_t>(memory_limit, 1024)) {}

RowSorter::~RowSorter() {
  if (spill_ != nullptr) std::fclose(spill_);
}

std::string_view RowSorter::record(size_t i) const {
  const uint64_t end = i + 1 < starts_.size() ? starts_[i + 1] : arena_.size();
  return std::string_view(arena_).substr(size_t(starts_[i]), size_t(end - starts_[i]));
}

Status RowSorter::add(uint32_t row, std::span<const PropValue> keys) {
  if (keys.size() != sort_.keys.size()) return Status::invalid_argument("table sort: a row with the wrong number of keys");
  starts_.push_back(arena_.size());
  for (size_t k = 0; k < keys.size(); ++k) append_sort_key(arena_, sort_.keys[k], keys[k]);
  put_big_endian(arena_, row, kRowBytes);
  ++rows_;
  if (arena_.size() + starts_.size() * sizeof(uint64_t) > memory_limit_) return spill();
  return Status::ok();
}

std::vector<size_t> RowSorter::sorted_records() const {
  std::vector<size_t> order(starts_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  // Records are distinct (each ends in its row), so any sort is stable.
  std::sort(order.begin(), order.end(), [this](size_t a, size_t b) { return record(a) < record(b); });
  return order;
}

Status RowSorter::spill() {
  if (starts_.empty()) return Status::ok();
  if (spill_ == nullptr) {
    spill_ = std::tmpfile();  // unnamed: gone when closed or the process ends
    if (spill_ == nullptr) return Status::io_error("table sort: cannot create a temporary file");
  }
  Run run;
  run.offset = spill_size_;
  std::string out;
  for (size_t i : sorted_records()) {
    const std::string_view r = record(i);
    const auto n = uint32_t(r.size());
    const char len[4] = {char(n), char(n >> 8), char(n >> 16), char(n >> 24)};
    out.append(len, 4);
    out.append(r);
  }
  if (std::fseek(spill_, long(spill_size_), SEEK_SET) != 0 || std::fwrite(out.data(), 1, out.size(), spill_) != out.size() ||
      std::fflush(spill_) != 0) {
    return Status::io_error("table sort: cannot write the temporary file (disk full?)");
  }
  run.size = out.size();
  spill_size_ += out.size();
  runs_.push_back(run);
  arena_.clear();
  arena_.shrink_to_fit();
  starts_.clear();
  starts_.shrink_to_fit();
  return Status::ok();
}

Result<std::vector<uint32_t>> RowSorter::finish() {
  std::vector<uint32_t> rows;
  rows.reserve(rows_);
  if (runs_.empty()) {
    for (size_t i : sorted_records()) rows.push_back(row_of(record(i)));
    return rows;
  }
  PSTKIT_RETURN_IF_ERROR(spill());
  // A k-way merge of the sorted runs: a min-heap of each run's next record.
  std::vector<RunReader> readers;
  readers.reserve(runs_.size());
  for (const Run& run : runs_) readers.emplace_back(fileno(spill_), run.offset, run.size);
  using Head = std::pair<std::string, size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
  for (size_t r = 0; r < readers.size(); ++r) {
    PSTKIT_ASSIGN_OR_RETURN(std::optional<std::string> first, readers[r].next());
    if (first) heads.emplace(std::move(*first), r);
  }
  while (!heads.empty()) {
    Head head = heads.top();
    heads.pop();
    rows.push_back(row_of(head.first));
    PSTKIT_ASSIGN_OR_RETURN(std::optional<std::string> next, readers[head.second].next());
    if (next) heads.emplace(std::move(*next), head.second);
  }
  if (rows.size() != rows_) return Status::io_error("table sort: rows lost in the temporary file");
  return rows;
}

}  // namespace pstkit::mapi
