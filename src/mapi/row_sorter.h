// The row sort of a MAPI table, in memory bounded by a constant.
//
// Each row's sort keys are encoded as one byte string whose bytewise order
// is the sort's order (sort keys in the manner of database indexes), so a
// row costs its encoded keys while the sort runs and nothing after. Up to
// `memory_limit` bytes of keys are sorted in memory; beyond that, sorted
// runs go to an unnamed temporary file and are merged, so sorting a
// folder of a million messages needs no more memory than one of a
// thousand (issue 9: memory flat in folder size). Internal to src/mapi.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "pstkit/mapi_table.h"

namespace pstkit::mapi {

// Appends to `out` the encoding of one sort key's cell: bytewise order of
// encodings is the order sort.cpp documents (compare_values, strings
// case-folded, rows lacking the key last in both directions). Exposed for
// tests.
void append_sort_key(std::string& out, const SortKey& key, const PropValue& cell);

class RowSorter {
 public:
  static constexpr size_t kDefaultMemoryLimit = size_t(8) << 20;

  explicit RowSorter(const SortOrderSet& sort, size_t memory_limit = kDefaultMemoryLimit);
  ~RowSorter();
  RowSorter(const RowSorter&) = delete;
  RowSorter& operator=(const RowSorter&) = delete;

  // Adds row `row` (rows are numbered 0, 1, 2... in source order) with its
  // cells for sort.keys, in that order.
  Status add(uint32_t row, std::span<const PropValue> keys);
  // The rows in sort order; equal keys keep source order (a stable sort).
  Result<std::vector<uint32_t>> finish();

  // Sorted runs written to the temporary file so far (for tests).
  size_t runs_spilled() const { return runs_.size(); }

 private:
  struct Run {
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  Status spill();
  std::vector<size_t> sorted_records() const;
  std::string_view record(size_t i) const;

  const SortOrderSet& sort_;
  const size_t memory_limit_;
  std::string arena_;              // records back to back: keys, then the row (4 bytes, big-endian)
  std::vector<uint64_t> starts_;   // where each record of the arena starts
  std::string scratch_;
  std::FILE* spill_ = nullptr;
  uint64_t spill_size_ = 0;
  std::vector<Run> runs_;
  uint32_t rows_ = 0;
};

}  // namespace pstkit::mapi
