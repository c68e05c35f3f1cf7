// Sort order sets: validation and the stable multi-key row sort
// (ssortorderset.md, ssortorder.md, imapitable-sorttable.md).
#include <algorithm>

#include "mapi/text_fold.h"
#include "pstkit/mapi_table.h"

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

void sort_rows(const SortOrderSet& sort, std::span<const PropValue> keys, size_t key_count,
               std::vector<uint32_t>& rows) {
  if (sort.keys.empty() || key_count == 0) return;
  const size_t n = std::min(sort.keys.size(), key_count);
  // String keys are case-folded once per row, not once per comparison: the
  // folded UTF-8 compares bytewise as compare_values compares the originals.
  std::vector<std::string> folded;
  for (size_t k = 0; k < n; ++k) {
    const uint16_t type = prop_type(sort.keys[k].tag);
    if (type != kPtUnicode && type != kPtString8) continue;
    if (folded.empty()) folded.resize(keys.size());
    for (uint32_t row : rows) {
      const PropValue& v = keys[size_t(row) * key_count + k];
      if (v.type() == type) folded[size_t(row) * key_count + k] = fold_to_utf8(v.bytes, type == kPtUnicode, kFoldCase);
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [&](uint32_t ra, uint32_t rb) {
    for (size_t k = 0; k < n; ++k) {
      const size_t ia = size_t(ra) * key_count + k, ib = size_t(rb) * key_count + k;
      const PropValue& a = keys[ia];
      const PropValue& b = keys[ib];
      const uint16_t want = prop_type(sort.keys[k].tag);
      // A row lacks the key when its cell is an error or of another type.
      const bool a_missing = a.is_error() || a.type() != want;
      const bool b_missing = b.is_error() || b.type() != want;
      if (a_missing || b_missing) {
        if (a_missing && b_missing) continue;
        return b_missing;  // ssortorder.md: NULL entries last in both directions
      }
      int c = (want == kPtUnicode || want == kPtString8) ? folded[ia].compare(folded[ib]) : compare_values(a, b);
      c = (c > 0) - (c < 0);
      if (sort.keys[k].order == kSortDescend) c = -c;
      if (c != 0) return c < 0;
    }
    return false;
  });
}

}  // namespace pstkit::mapi
