// TableCursor: IMAPITable's cursor semantics over a RowSource
// (imapitable-*.md). The view keeps, per row, its id, its sort keys and
// whether it passes the restriction; columns are read only for the rows
// QueryRows returns.
#include <algorithm>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "mapi/row_sorter.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi {
namespace {

constexpr std::string_view kInvalidBookmarkPrefix = "invalid bookmark: ";
constexpr std::string_view kUnableToCompletePrefix = "unable to complete: ";
// FindRow reads candidate rows from the source in batches of this many.
constexpr size_t kFindBatch = 256;

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

constexpr PropTag kInstanceKeyTag = prop_tag(0x0FF6, kPtBinary);  // PR_INSTANCE_KEY

// A row's id as an instance key: 4 bytes little-endian.
Bytes id_key(RowId id) { return Bytes{uint8_t(id), uint8_t(id >> 8), uint8_t(id >> 16), uint8_t(id >> 24)}; }

}  // namespace

Status invalid_bookmark(std::string detail) {
  return Status::not_found(std::string(kInvalidBookmarkPrefix) + detail);
}
bool is_invalid_bookmark(const Status& status) {
  return status.code() == Code::kNotFound && starts_with(status.detail(), kInvalidBookmarkPrefix);
}

int32_t mapi_scode(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument: return int32_t(0x80070057);  // MAPI_E_INVALID_PARAMETER
    case Code::kUnsupported: return int32_t(0x80040117);      // MAPI_E_TOO_COMPLEX
    case Code::kNotFound:
      if (is_invalid_bookmark(status)) return int32_t(0x80040405);  // MAPI_E_INVALID_BOOKMARK
      return int32_t(0x8004010F);                                   // MAPI_E_NOT_FOUND
    case Code::kCorrupt:
    case Code::kTruncated: return int32_t(0x8004011B);  // MAPI_E_CORRUPT_DATA
    case Code::kIoError:
      if (starts_with(status.detail(), kUnableToCompletePrefix)) return int32_t(0x80040400);  // MAPI_E_UNABLE_TO_COMPLETE
      return int32_t(0x80040116);  // MAPI_E_DISK_ERROR
    case Code::kAlreadyExists: return int32_t(0x80040604);  // MAPI_E_COLLISION
    case Code::kBusy: return int32_t(0x8004010B);           // MAPI_E_BUSY
  }
  return int32_t(0x80004005);  // MAPI_E_CALL_FAILED
}

// RES_SUBRESTRICTION for one row of the source.
class TableCursor::RowSubObjects final : public SubObjects {
 public:
  RowSubObjects(RowSource& source, RowId row) : source_(source), row_(row) {}
  Status for_each_sub_row(PropTag subobject, std::span<const PropTag> columns, const SubRowVisitor& visit) override {
    return source_.for_each_sub_row(row_, subobject, columns, visit);
  }

 private:
  RowSource& source_;
  RowId row_;
};

TableCursor::TableCursor(RowSource& source) : source_(source), columns_(source.default_columns()) {}

Status TableCursor::set_columns(std::vector<PropTag> columns) {
  if (columns.empty()) return Status::invalid_argument("SetColumns with no columns");
  for (PropTag tag : columns) {
    if (prop_type(tag) & kMvInstance) {
      return Status::unsupported("table too complex: MVI_FLAG columns (one row per value) are not supported");
    }
  }
  columns_ = std::move(columns);
  return Status::ok();
}

std::vector<PropTag> TableCursor::query_columns(bool all_columns) const {
  return all_columns ? source_.available_columns() : columns_;
}

Status TableCursor::ensure_built() {
  if (stale_) return refresh({}).status();
  return built_ ? Status::ok() : rebuild();
}

Result<std::vector<TableCursor::RowChange>> TableCursor::refresh(std::span<const RowId> changed) {
  std::vector<RowChange> changes;
  stale_ = false;
  if (!built_) return changes;
  // The view before: which rows were visible, and the row under the cursor.
  std::unordered_map<RowId, uint32_t> was_visible;  // row -> old position
  std::unordered_map<RowId, Bytes> old_keys;         // of the rows that were visible
  for (uint32_t i = 0; i < visible_.size(); ++i) {
    was_visible.emplace(ids_[visible_[i]], i);
    if (track_keys_) old_keys.emplace(ids_[visible_[i]], keys_[visible_[i]]);
  }
  const bool at_end = position_ >= visible_.size();
  const RowId current = at_end ? 0 : ids_[visible_[position_]];
  const size_t old_position = position_;
  PSTKIT_RETURN_IF_ERROR(rebuild());
  std::unordered_map<RowId, uint32_t> now_visible;
  for (uint32_t i = 0; i < visible_.size(); ++i) now_visible.emplace(ids_[visible_[i]], i);
  // The cursor stays on its row; if the row left the view, at the same
  // position (imapitable-seekrow.md leaves this to the provider).
  if (at_end) {
    position_ = visible_.size();
  } else if (auto it = now_visible.find(current); it != now_visible.end()) {
    position_ = it->second;
  } else {
    position_ = std::min(old_position, visible_.size());
  }
  std::unordered_map<RowId, bool> asked;
  for (RowId r : changed) asked.emplace(r, true);
  std::vector<std::pair<uint32_t, RowId>> deleted;
  for (const auto& [row, pos] : was_visible) {
    if (!now_visible.count(row)) deleted.emplace_back(pos, row);
  }
  std::sort(deleted.begin(), deleted.end());
  for (const auto& [pos, row] : deleted) {
    RowChange c;
    c.kind = RowChange::kDeleted;
    c.row = row;
    c.key = track_keys_ ? old_keys[row] : id_key(row);
    changes.push_back(std::move(c));
  }
  std::vector<RowId> read;
  for (uint32_t i = 0; i < visible_.size(); ++i) {
    const RowId row = ids_[visible_[i]];
    const bool added = !was_visible.count(row);
    if (!added && !asked.count(row)) continue;
    RowChange c;
    c.kind = added ? RowChange::kAdded : RowChange::kModified;
    c.row = row;
    c.key = track_keys_ ? keys_[visible_[i]] : id_key(row);
    if (i > 0) {
      c.prior = ids_[visible_[i - 1]];
      c.prior_key = track_keys_ ? keys_[visible_[i - 1]] : id_key(*c.prior);
    }
    changes.push_back(std::move(c));
    read.push_back(row);
  }
  if (!read.empty()) {
    PSTKIT_ASSIGN_OR_RETURN(auto rows, source_.read_rows(read, columns_));
    size_t k = 0;
    for (RowChange& c : changes) {
      if (c.kind == RowChange::kDeleted) continue;
      if (k < rows.size()) c.values = std::move(rows[k]);
      ++k;
    }
  }
  return changes;
}

Status TableCursor::rebuild() {
  // The columns one scan reads: the sort keys, then what the restriction
  // reads that the keys do not.
  std::vector<PropTag> scan_columns;
  for (const SortKey& key : sort_.keys) scan_columns.push_back(key.tag);
  if (restriction_) {
    for (PropTag tag : restriction_columns(*restriction_)) {
      if (std::find(scan_columns.begin(), scan_columns.end(), tag) == scan_columns.end()) scan_columns.push_back(tag);
    }
  }
  const size_t key_count = sort_.keys.size();
  if (track_keys_) scan_columns.push_back(kInstanceKeyTag);  // last
  std::vector<Bytes> keys;
  std::vector<RowId> ids;
  std::vector<bool> visible;
  // Sort keys go to the sorter as they are read and are not kept: a row
  // costs a few bytes here, whatever its keys (row_sorter.h).
  std::optional<RowSorter> sorter;
  if (key_count > 0) sorter.emplace(sort_);
  // The hint only reserves memory, so a wrong one costs at most this much.
  const uint64_t hint = std::min<uint64_t>(source_.row_count_hint(), 1u << 17);
  ids.reserve(hint);
  PSTKIT_RETURN_IF_ERROR(source_.scan(scan_columns, [&](RowId id, std::span<const PropValue> row) -> Status {
    if (row.size() != scan_columns.size()) return Status::invalid_argument("row source returned a short row");
    if (ids.size() >= UINT32_MAX - 1) return Status::unsupported("table too complex: more than 2^32 rows");
    bool passes = true;
    if (restriction_) {
      RowSubObjects sub(source_, id);
      PSTKIT_ASSIGN_OR_RETURN(passes, matches(row, *restriction_, &sub));
    }
    if (sorter) PSTKIT_RETURN_IF_ERROR(sorter->add(uint32_t(ids.size()), row.first(key_count)));
    if (track_keys_) {
      const PropValue& key = row.back();
      keys.push_back(key.tag == kInstanceKeyTag ? Bytes(key.bytes.begin(), key.bytes.end()) : id_key(id));
    }
    ids.push_back(id);
    visible.push_back(passes);
    return Status::ok();
  }));
  std::vector<uint32_t> order;
  if (sorter) {
    PSTKIT_ASSIGN_OR_RETURN(order, sorter->finish());
  } else {
    order.resize(ids.size());
    std::iota(order.begin(), order.end(), 0u);
  }
  std::vector<uint32_t> rank(ids.size());
  std::vector<uint32_t> visible_rows;
  for (uint32_t i = 0; i < order.size(); ++i) {
    rank[order[i]] = i;
    if (visible[order[i]]) visible_rows.push_back(order[i]);
  }
  ids_ = std::move(ids);
  keys_ = std::move(keys);
  row_visible_ = std::move(visible);
  order_ = std::move(order);
  rank_ = std::move(rank);
  visible_ = std::move(visible_rows);
  position_ = 0;
  built_ = true;
  stale_ = false;
  return Status::ok();
}

Result<uint32_t> TableCursor::row_count() {
  PSTKIT_RETURN_IF_ERROR(ensure_built());
  return visible_count();
}

Result<std::vector<std::vector<PropValue>>> TableCursor::query_rows(int32_t count, uint32_t flags) {
  if (flags & ~kTblNoAdvance) return Status::invalid_argument("QueryRows flags " + std::to_string(flags));
  PSTKIT_RETURN_IF_ERROR(ensure_built());
  size_t first = position_, end = position_;
  if (count >= 0) {
    end = std::min(visible_.size(), position_ + size_t(count));
  } else {
    // queryrows.md: move back |count| rows, then read forward.
    const size_t back = std::min(position_, size_t(-int64_t(count)));
    first = position_ - back;
  }
  std::vector<RowId> ids;
  ids.reserve(end - first);
  for (size_t i = first; i < end; ++i) ids.push_back(ids_[visible_[i]]);
  PSTKIT_ASSIGN_OR_RETURN(auto rows, source_.read_rows(ids, columns_));
  if (!(flags & kTblNoAdvance)) position_ = count >= 0 ? end : first;
  return rows;
}

Result<SeekResult> TableCursor::resolve(Bookmark origin, size_t& position) {
  SeekResult result;
  switch (origin) {
    case kBookmarkBeginning: position = 0; return result;
    case kBookmarkCurrent: position = position_; return result;
    case kBookmarkEnd: position = visible_.size(); return result;
    default: break;
  }
  const auto it = bookmarks_.find(origin);
  if (it == bookmarks_.end()) return invalid_bookmark(std::to_string(origin) + " was not created or was freed");
  BookmarkState& state = it->second;
  if (state.after_last) {
    position = visible_.size();
    return result;
  }
  const auto row = std::find(ids_.begin(), ids_.end(), state.row);
  if (row == ids_.end()) return invalid_bookmark(std::to_string(origin) + ": its row is no longer in the table");
  const uint32_t index = uint32_t(row - ids_.begin());
  const uint32_t rank = rank_[index];
  const auto at = std::lower_bound(visible_.begin(), visible_.end(), rank,
                                   [&](uint32_t visible_row, uint32_t r) { return rank_[visible_row] < r; });
  position = size_t(at - visible_.begin());
  if (!row_visible_[index]) {
    // createbookmark.md: a bookmark on a row no longer in view moves to the
    // next visible row; seekrow.md: MAPI_W_POSITION_CHANGED.
    result.position_changed = true;
    if (position == visible_.size()) {
      state.after_last = true;
    } else {
      state.row = ids_[visible_[position]];
    }
  }
  return result;
}

Result<SeekResult> TableCursor::seek_row(Bookmark origin, int32_t count) {
  PSTKIT_RETURN_IF_ERROR(ensure_built());
  size_t from = 0;
  PSTKIT_ASSIGN_OR_RETURN(SeekResult result, resolve(origin, from));
  const int64_t target = std::clamp<int64_t>(int64_t(from) + count, 0, int64_t(visible_.size()));
  result.rows_sought = int32_t(target - int64_t(from));
  position_ = size_t(target);
  return result;
}

Status TableCursor::seek_row_approx(uint32_t numerator, uint32_t denominator) {
  if (denominator == 0) return Status::invalid_argument("SeekRowApprox with a zero denominator");
  PSTKIT_RETURN_IF_ERROR(ensure_built());
  if (numerator >= denominator) {
    position_ = visible_.size();
  } else {
    position_ = size_t(uint64_t(visible_.size()) * numerator / denominator);
  }
  return Status::ok();
}

Result<Position> TableCursor::query_position() {
  PSTKIT_RETURN_IF_ERROR(ensure_built());
  Position p;
  p.row = uint32_t(position_);
  p.numerator = uint32_t(position_);
  p.denominator = std::max<uint32_t>(visible_count(), 1);
  return p;
}

Result<SeekResult> TableCursor::find_row(const Restriction& restriction, Bookmark origin, uint32_t flags) {
  if (flags & ~kDirBackward) return Status::invalid_argument("FindRow flags " + std::to_string(flags));
  PSTKIT_RETURN_IF_ERROR(validate(restriction));
  PSTKIT_RETURN_IF_ERROR(ensure_built());
  size_t from = 0;
  PSTKIT_ASSIGN_OR_RETURN(SeekResult result, resolve(origin, from));
  const bool backward = flags & kDirBackward;
  const std::vector<PropTag> columns = restriction_columns(restriction);
  // Candidate positions in search order: forward from the bookmarked row,
  // backward from the row before it (findrow.md).
  size_t next = from;
  const size_t total = backward ? from : visible_.size() - std::min(from, visible_.size());
  size_t done = 0;
  std::vector<RowId> batch;
  while (done < total) {
    const size_t n = std::min(kFindBatch, total - done);
    batch.clear();
    for (size_t i = 0; i < n; ++i) {
      const size_t pos = backward ? next - 1 - i : next + i;
      batch.push_back(ids_[visible_[pos]]);
    }
    PSTKIT_ASSIGN_OR_RETURN(auto rows, source_.read_rows(batch, columns));
    for (size_t i = 0; i < rows.size() && i < n; ++i) {
      RowSubObjects sub(source_, batch[i]);
      PSTKIT_ASSIGN_OR_RETURN(bool hit, matches(rows[i], restriction, &sub));
      if (hit) {
        position_ = backward ? next - 1 - i : next + i;
        return result;
      }
    }
    next = backward ? next - n : next + n;
    done += n;
  }
  return Status::not_found("FindRow: no row matches the restriction");
}

Status TableCursor::restrict(std::optional<Restriction> restriction) {
  if (restriction) PSTKIT_RETURN_IF_ERROR(validate(*restriction));
  std::optional<Restriction> previous = std::move(restriction_);
  restriction_ = std::move(restriction);
  if (Status s = rebuild(); !s.is_ok()) {
    restriction_ = std::move(previous);  // a failed Restrict leaves the view as it was
    return s;
  }
  return Status::ok();
}

Status TableCursor::sort_table(SortOrderSet sort) {
  PSTKIT_RETURN_IF_ERROR(validate(sort));
  SortOrderSet previous = std::move(sort_);
  sort_ = std::move(sort);
  if (Status s = rebuild(); !s.is_ok()) {
    sort_ = std::move(previous);  // sorttable.md: the previous order stays in effect
    return s;
  }
  bookmarks_.clear();  // sorttable.md: all bookmarks are invalidated
  return Status::ok();
}

Result<Bookmark> TableCursor::create_bookmark() {
  PSTKIT_RETURN_IF_ERROR(ensure_built());
  if (bookmarks_.size() >= kMaxBookmarks || next_bookmark_ == UINT32_MAX) {
    // createbookmark.md: limit the bookmarks, then MAPI_E_UNABLE_TO_COMPLETE.
    return Status::io_error(std::string(kUnableToCompletePrefix) + "too many bookmarks");
  }
  BookmarkState state;
  if (position_ >= visible_.size()) {
    state.after_last = true;
  } else {
    state.row = ids_[visible_[position_]];
  }
  const Bookmark bookmark = next_bookmark_++;
  bookmarks_.emplace(bookmark, state);
  return bookmark;
}

Status TableCursor::free_bookmark(Bookmark bookmark) {
  if (bookmark <= kBookmarkEnd) return Status::ok();  // freebookmark.md: ignored
  if (bookmarks_.erase(bookmark) == 0) return invalid_bookmark(std::to_string(bookmark) + " was not created or was freed");
  return Status::ok();
}

}  // namespace pstkit::mapi
