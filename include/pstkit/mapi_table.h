// The MAPI table engine: typed property values with MAPI's comparison rules,
// restriction trees and their evaluation, sort order sets, and a table
// cursor (IMAPITable's semantics) over a row source.
//
// This is the C++ core that the COM surface (IMAPITable, SRestriction,
// SSortOrderSet, SPropValue of <mapidefs.h>) adapts; it knows nothing of
// COM. Errors are Status values that map to MAPI codes with mapi_scode():
//   kInvalidArgument  -> MAPI_E_INVALID_PARAMETER (unknown restriction type,
//                        relop, bitmask operator, sort order, flags)
//   kUnsupported      -> MAPI_E_TOO_COMPLEX (RELOP_RE, categories, RES_COUNT,
//                        trees deeper than kMaxRestrictionDepth, type
//                        mismatches the reference says are too complex)
//   kNotFound         -> MAPI_E_NOT_FOUND (FindRow found no row), or
//                        MAPI_E_INVALID_BOOKMARK when is_invalid_bookmark()
//   kIoError          -> MAPI_E_DISK_ERROR, or MAPI_E_UNABLE_TO_COMPLETE
//                        (CreateBookmark past kMaxBookmarks)
//   kCorrupt, kTruncated -> MAPI_E_CORRUPT_DATA (from the row source)
// Every rule below cites the page of Microsoft's MAPI reference
// (MicrosoftDocs/office-developer-client-docs, docs/outlook/mapi/) it
// implements; docs/MAPI.md, "Tables, restrictions and sorts", lists the
// choices where the reference leaves the behaviour open.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/mapi_prop_tag.h"
#include "pstkit/property.h"
#include "pstkit/status.h"

namespace pstkit::mapi {

using Guid = ltp::Guid;

inline constexpr int32_t kMapiENotFound = int32_t(0x8004010F);

// PR_MESSAGE_RECIPIENTS and PR_MESSAGE_ATTACHMENTS: the sub-objects a
// RES_SUBRESTRICTION can name (ssubrestriction.md).
inline constexpr PropTag kPrMessageRecipients = prop_tag(0x0E12, kPtObject);
inline constexpr PropTag kPrMessageAttachments = prop_tag(0x0E13, kPtObject);

// One property value, SPropValue's content: a tag and a value of its type.
// Which member holds the value depends on the tag's base type:
//   integer: PT_I2, PT_LONG, PT_I8, PT_CURRENCY (value * 10000),
//            PT_BOOLEAN (0/1), PT_ERROR (the SCODE), PT_SYSTIME (the FILETIME)
//   real:    PT_R4, PT_DOUBLE, PT_APPTIME
//   guid:    PT_CLSID
//   bytes:   PT_STRING8 (8-bit text in its code page), PT_UNICODE (UTF-8),
//            PT_BINARY, PT_SVREID
// Multi-valued types (MV_FLAG) keep their elements, each tagged with the base
// type, in `values`. PT_NULL, PT_UNSPECIFIED and PT_OBJECT hold nothing.
struct PropValue {
  PropTag tag = prop_tag(0, kPtNull);
  int64_t integer = 0;
  double real = 0;
  Guid guid{};
  std::string bytes;
  std::vector<PropValue> values;

  uint16_t type() const { return prop_type(tag); }
  bool is_error() const { return prop_type(tag) == kPtError; }

  static PropValue i2(PropTag tag, int16_t v);
  static PropValue long_(PropTag tag, int32_t v);
  static PropValue i8(PropTag tag, int64_t v);
  static PropValue currency(PropTag tag, int64_t v);
  static PropValue boolean(PropTag tag, bool v);
  static PropValue systime(PropTag tag, uint64_t filetime);
  static PropValue r4(PropTag tag, float v);
  static PropValue double_(PropTag tag, double v);
  static PropValue apptime(PropTag tag, double v);
  static PropValue clsid(PropTag tag, const Guid& v);
  static PropValue string8(PropTag tag, std::string_view bytes);
  static PropValue unicode(PropTag tag, std::string_view utf8);
  static PropValue binary(PropTag tag, ByteView data);
  static PropValue null(PropTag tag);
  // The cell of a column a row lacks: PT_ERROR with `scode` (queryrows.md:
  // PT_ERROR in the tag's type, MAPI_E_NOT_FOUND as the value).
  static PropValue error(PropTag tag, int32_t scode = kMapiENotFound);
  // A multi-valued value; `elements` carry the base type.
  static PropValue multi(PropTag tag, std::vector<PropValue> elements);
};

// A value as stored in a PST (ltp::PropValue, raw little-endian bytes) as a
// PropValue: PtypString to UTF-8, PtypString8 bytes unconverted (the code
// page is the messaging layer's business), multi-valued split into elements.
Result<PropValue> from_stored(const ltp::PropValue& stored);

// MAPI's ordering of two values of the same base type: <0, 0 or >0.
//  - numbers, currency, SYSTIME (unsigned FILETIME) by value; NaN orders
//    below every number so that sorting stays a strict weak order;
//  - booleans: false < true;
//  - PT_UNICODE case-insensitively by code point (full Unicode simple case
//    mapping); PT_STRING8 case-insensitively for ASCII letters, other bytes
//    by value. Sorts and RELOP comparisons use the same function, as
//    imapitable-findrow.md asks ("the comparison function implied by
//    RELOP_GE ... should be the same comparison function on which the table
//    sort order is based");
//  - PT_BINARY, PT_SVREID and PT_CLSID as unsigned byte strings (a prefix
//    orders first);
//  - multi-valued values without MVI_FLAG as tuples, element by element, the
//    first inequality deciding; a value with fewer elements than the other
//    orders first (imapitable-sorttable.md: "a comparison of two multivalued
//    columns compares the column elements in order").
// Values of different base types order by type code (never equal).
int compare_values(const PropValue& a, const PropValue& b);

// ---- Restrictions (srestriction.md) ----

enum class RestrictionType : uint32_t {
  kAnd = 0,
  kOr = 1,
  kNot = 2,
  kContent = 3,
  kProperty = 4,
  kCompareProps = 5,
  kBitmask = 6,
  kSize = 7,
  kExist = 8,
  kSubRestriction = 9,
  kComment = 10,
  kCount = 11,
  kAnnotation = 12,
};
enum Relop : uint32_t { kRelopLt = 0, kRelopLe, kRelopGt, kRelopGe, kRelopEq, kRelopNe, kRelopRe };
enum BitmaskRelop : uint32_t { kBmrEqz = 0, kBmrNez = 1 };
// scontentrestriction.md: the low 16 bits pick one match kind, the high 16
// bits are independent options.
inline constexpr uint32_t kFlFullString = 0x0;
inline constexpr uint32_t kFlSubstring = 0x1;
inline constexpr uint32_t kFlPrefix = 0x2;
inline constexpr uint32_t kFlIgnoreCase = 0x10000;
inline constexpr uint32_t kFlIgnoreNonSpace = 0x20000;
inline constexpr uint32_t kFlLoose = 0x40000;

// Deeper trees are refused (MAPI_E_TOO_COMPLEX): evaluation recurses once per
// level. An adapter converting an SRestriction must stop at this depth too.
inline constexpr int kMaxRestrictionDepth = 64;

// One node of a restriction tree; which members count depends on `type`:
//   kAnd, kOr:        children
//   kNot:             children[0]
//   kContent:         flags = ulFuzzyLevel, tag, value (the search string)
//   kProperty:        flags = relop, tag, value
//   kCompareProps:    flags = relop, tag, tag2
//   kBitmask:         flags = relBMR, tag, number = ulMask
//   kSize:            flags = relop, tag, number = cb
//   kExist:           tag
//   kSubRestriction:  tag = PR_MESSAGE_RECIPIENTS or _ATTACHMENTS, children[0]
//   kComment:         comment_values (ignored, scommentrestriction.md);
//                     children[0] (lpRes) is evaluated if present, else it
//                     matches
//   kCount, kAnnotation: refused (MAPI_E_TOO_COMPLEX)
struct Restriction {
  RestrictionType type = RestrictionType::kAnd;
  uint32_t flags = 0;
  PropTag tag = 0;
  PropTag tag2 = 0;
  uint32_t number = 0;
  PropValue value;
  std::vector<Restriction> children;
  std::vector<PropValue> comment_values;

  static Restriction all_of(std::vector<Restriction> children);
  static Restriction any_of(std::vector<Restriction> children);
  static Restriction negate(Restriction child);
  static Restriction content(uint32_t fuzzy_level, PropTag tag, PropValue search);
  static Restriction property(Relop relop, PropTag tag, PropValue constant);
  static Restriction compare_props(Relop relop, PropTag tag1, PropTag tag2);
  static Restriction bitmask(BitmaskRelop op, PropTag tag, uint32_t mask);
  static Restriction size(Relop relop, PropTag tag, uint32_t cb);
  static Restriction exist(PropTag tag);
  static Restriction sub(PropTag subobject, Restriction child);
  static Restriction comment(std::vector<PropValue> values, std::optional<Restriction> child);
};

// Checks a tree before use: types, operators, value types and depth.
Status validate(const Restriction& restriction);

// The tags a tree reads from its row (not those of sub-restrictions'
// sub-rows), each once, with MV_INSTANCE cleared.
std::vector<PropTag> restriction_columns(const Restriction& restriction);

// Answers a RES_SUBRESTRICTION for the row being evaluated: calls `visit`
// with each sub-row (recipient or attachment) of `subobject`, holding the
// values of `columns`, until `visit` returns true or the rows end.
using SubRowVisitor = std::function<bool(std::span<const PropValue> sub_row)>;
class SubObjects {
 public:
  virtual ~SubObjects() = default;
  virtual Status for_each_sub_row(PropTag subobject, std::span<const PropTag> columns,
                                  const SubRowVisitor& visit) = 0;
};

// Evaluates a validated tree against one row (its values in any order; a
// column the row lacks is absent or a PT_ERROR cell). A property the row
// lacks never satisfies a leaf, so it satisfies only a NOT over it.
// `sub_objects` answers RES_SUBRESTRICTION; without it one never matches.
// No allocation unless a sub-restriction is evaluated.
Result<bool> matches(std::span<const PropValue> row, const Restriction& restriction,
                     SubObjects* sub_objects = nullptr);

// ---- Sorts (ssortorderset.md, ssortorder.md) ----

enum SortDirection : uint32_t {
  kSortAscend = 0,      // TABLE_SORT_ASCEND
  kSortDescend = 1,     // TABLE_SORT_DESCEND
  kSortCombine = 2,     // TABLE_SORT_COMBINE (categories only)
  kSortCategMax = 4,    // TABLE_SORT_CATEG_MAX
  kSortCategMin = 8,    // TABLE_SORT_CATEG_MIN
};
struct SortKey {
  PropTag tag = 0;
  uint32_t order = kSortAscend;
};
struct SortOrderSet {
  std::vector<SortKey> keys;
  uint32_t categories = 0;  // cCategories: categorized sorts are refused for now
  uint32_t expanded = 0;    // cExpanded
};

// Checks a sort order set: only standard sorts (no categories) on ascending
// or descending keys, no MVI_FLAG key (per-value sorting), else
// MAPI_E_TOO_COMPLEX; unknown order values are invalid parameters.
Status validate(const SortOrderSet& sort);

// ---- Table cursor (imapitable-*.md) ----

// A row's identity in its source, stable while the table is open (a
// folder's contents table: the message's node id).
using RowId = uint64_t;

// What a table reads its rows from. A folder's contents table implements
// this over its TC; InMemoryRowSource serves tests. The cursor keeps only row
// ids, sort keys and a visibility bit per row; it reads the requested columns
// only for the rows QueryRows returns.
class RowSource {
 public:
  virtual ~RowSource() = default;
  // An estimate of the row count (may be wrong; used to reserve memory).
  virtual uint64_t row_count_hint() const = 0;
  // The default column set (setcolumns.md) and the available columns
  // (QueryColumns with TBL_ALL_COLUMNS).
  virtual std::vector<PropTag> default_columns() const = 0;
  virtual std::vector<PropTag> available_columns() const = 0;
  // Every row in the source's order with the values of `columns` (in that
  // order; a missing property as PropValue::error). `visit` may stop the
  // scan by returning a non-OK status, which scan returns.
  virtual Status scan(std::span<const PropTag> columns,
                      const std::function<Status(RowId, std::span<const PropValue>)>& visit) = 0;
  // The values of `columns` for the given rows, one vector per row.
  virtual Result<std::vector<std::vector<PropValue>>> read_rows(std::span<const RowId> rows,
                                                                std::span<const PropTag> columns) = 0;
  // The sub-rows of a row's recipients or attachments for RES_SUBRESTRICTION
  // (SubObjects::for_each_sub_row for one row). A source without them
  // returns an unsupported status (MAPI_E_TOO_COMPLEX).
  virtual Status for_each_sub_row(RowId row, PropTag subobject, std::span<const PropTag> columns,
                                  const SubRowVisitor& visit) = 0;
};

// Rows held in memory: each row is a list of values, recipients and
// attachments lists of sub-rows. For tests and small tables.
class InMemoryRowSource final : public RowSource {
 public:
  struct Row {
    RowId id = 0;
    std::vector<PropValue> values;
    std::vector<std::vector<PropValue>> recipients;
    std::vector<std::vector<PropValue>> attachments;
  };
  InMemoryRowSource(std::vector<PropTag> default_columns, std::vector<Row> rows);

  uint64_t row_count_hint() const override { return rows_.size(); }
  std::vector<PropTag> default_columns() const override { return default_columns_; }
  std::vector<PropTag> available_columns() const override;
  Status scan(std::span<const PropTag> columns,
              const std::function<Status(RowId, std::span<const PropValue>)>& visit) override;
  Result<std::vector<std::vector<PropValue>>> read_rows(std::span<const RowId> rows,
                                                        std::span<const PropTag> columns) override;
  Status for_each_sub_row(RowId row, PropTag subobject, std::span<const PropTag> columns,
                          const SubRowVisitor& visit) override;

  // Counts of calls, for tests of what the cursor reads.
  size_t scans = 0;
  size_t rows_read = 0;

 private:
  const Row* find(RowId id) const;
  std::vector<PropTag> default_columns_;
  std::vector<Row> rows_;
  std::unordered_map<RowId, size_t> index_;
};

// The values of `columns` picked from a list of values (missing ones as
// PT_ERROR cells); PR_NULL columns stay PR_NULL (setcolumns.md).
std::vector<PropValue> pick_columns(std::span<const PropValue> values, std::span<const PropTag> columns);

// Predefined bookmarks (imapitable-seekrow.md); CreateBookmark's start above.
using Bookmark = uint32_t;
inline constexpr Bookmark kBookmarkBeginning = 0;
inline constexpr Bookmark kBookmarkCurrent = 1;
inline constexpr Bookmark kBookmarkEnd = 2;
inline constexpr size_t kMaxBookmarks = 4096;  // then MAPI_E_UNABLE_TO_COMPLETE

inline constexpr uint32_t kTblNoAdvance = 0x1;  // QueryRows
inline constexpr uint32_t kDirBackward = 0x1;   // FindRow

struct SeekResult {
  int32_t rows_sought = 0;        // signed like lRowCount
  bool position_changed = false;  // MAPI_W_POSITION_CHANGED
};
struct Position {
  uint32_t row = 0;          // the next row to read, zero-based
  uint32_t numerator = 0;    // row
  uint32_t denominator = 1;  // row count (at least 1)
};

// One view of a row source: column set, restriction, sort order, cursor and
// bookmarks, with IMAPITable's semantics.
class TableCursor {
 public:
  explicit TableCursor(RowSource& source);

  // SetColumns: PR_NULL entries are kept as empty slots; MVI_FLAG columns
  // (one row per value) are refused with MAPI_E_TOO_COMPLEX.
  Status set_columns(std::vector<PropTag> columns);
  // QueryColumns: the current set, or with all_columns the available ones.
  std::vector<PropTag> query_columns(bool all_columns) const;
  Result<uint32_t> row_count();

  // QueryRows: count > 0 reads forward from the cursor; count < 0 moves the
  // cursor back |count| rows (less at the beginning) and reads forward from
  // there. The cursor ends after the last row read unless kTblNoAdvance.
  Result<std::vector<std::vector<PropValue>>> query_rows(int32_t count, uint32_t flags = 0);
  // SeekRow: moves from a bookmark; beyond the ends the cursor stops at the
  // end or the beginning and rows_sought says how far it moved.
  Result<SeekResult> seek_row(Bookmark origin, int32_t count);
  // SeekRowApprox: numerator/denominator of the way through (0 → first row,
  // equal → after the last); a zero denominator is invalid.
  Status seek_row_approx(uint32_t numerator, uint32_t denominator);
  Result<Position> query_position();
  // FindRow: the first row from `origin` (forward: from the bookmarked row;
  // backward: from the row before it) that matches; the cursor moves to it.
  // No match: MAPI_E_NOT_FOUND and the cursor stays.
  Result<SeekResult> find_row(const Restriction& restriction, Bookmark origin, uint32_t flags = 0);
  // Restrict (nullopt clears it). The cursor goes to the beginning; bookmarks
  // stay on their rows (a row the restriction hides moves its bookmark on to
  // the next visible row when used, with MAPI_W_POSITION_CHANGED).
  Status restrict(std::optional<Restriction> restriction);
  // SortTable: an empty set removes the sort (source order). The cursor goes
  // to the beginning and every bookmark is invalidated (sorttable.md).
  Status sort_table(SortOrderSet sort);
  const SortOrderSet& query_sort_order() const { return sort_; }

  Result<Bookmark> create_bookmark();
  // FreeBookmark; the predefined bookmarks are ignored.
  Status free_bookmark(Bookmark bookmark);

  // What a change of the source did to one row of this view
  // (table_notification.md): the row entered the view, left it, or changed
  // in it. `prior` is the visible row before it now (nullopt: it is first);
  // `values` are its columns (the current SetColumns) for kAdded/kModified.
  // `key`/`prior_key`: the rows' PR_INSTANCE_KEY (track_instance_keys).
  struct RowChange {
    enum Kind { kAdded, kDeleted, kModified } kind = kModified;
    RowId row = 0;
    std::optional<RowId> prior;
    std::vector<PropValue> values;
    Bytes key;
    std::optional<Bytes> prior_key;
  };
  // Keeps each row's PR_INSTANCE_KEY, read with the sort keys, so that a
  // change names even a row the source no longer holds. A row without the
  // column: its id, 4 bytes little-endian (as the PST row sources compute it).
  void track_instance_keys() {
    track_keys_ = true;
    built_ = false;
  }
  // Re-reads the source after rows changed in it (`changed`: rows whose
  // values may differ; rows that appeared or vanished are found by the
  // re-read). The cursor stays on its row (or where the row was) and
  // bookmarks stay on theirs. Changes come deleted rows first, then added
  // and modified rows in view order; rows the restriction hides give none.
  // Without a built view nothing is read and nothing is reported.
  Result<std::vector<RowChange>> refresh(std::span<const RowId> changed);
  // Marks the view out of date: the next call that reads it refreshes it
  // first (as refresh, reporting nothing).
  void invalidate() { stale_ = built_; }

 private:
  struct BookmarkState {
    RowId row = 0;
    bool after_last = false;
  };
  class RowSubObjects;

  Status ensure_built();
  Status rebuild();
  // The position of `origin` in visible_; position_changed when a
  // bookmark's row is no longer visible and it moved to the next one.
  Result<SeekResult> resolve(Bookmark origin, size_t& position);
  uint32_t visible_count() const { return uint32_t(visible_.size()); }

  RowSource& source_;
  std::vector<PropTag> columns_;
  std::optional<Restriction> restriction_;
  SortOrderSet sort_;

  bool built_ = false;
  bool stale_ = false;  // built, but the source changed since (invalidate)
  bool track_keys_ = false;
  std::vector<Bytes> keys_;         // PR_INSTANCE_KEY per row (track_keys_)
  std::vector<RowId> ids_;          // every row, source order
  std::vector<bool> row_visible_;   // passes the restriction
  std::vector<uint32_t> order_;     // every row index, sorted
  std::vector<uint32_t> rank_;      // row index -> position in order_
  std::vector<uint32_t> visible_;   // visible row indexes, sorted
  size_t position_ = 0;             // in visible_, 0..size
  std::map<Bookmark, BookmarkState> bookmarks_;
  Bookmark next_bookmark_ = 3;
};

// The MAPI code (HRESULT value) an error from this header stands for.
int32_t mapi_scode(const Status& status);
// An invalid-bookmark status (MAPI_E_INVALID_BOOKMARK) and its test.
Status invalid_bookmark(std::string detail);
bool is_invalid_bookmark(const Status& status);

}  // namespace pstkit::mapi
