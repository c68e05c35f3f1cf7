// The table sort's key encoding and its bounded-memory sort (row_sorter.h):
// the bytewise order of encoded keys must be the order compare_values and
// ssortorder.md define, and a sort that spills runs to a temporary file
// must give the same rows as one done in memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "mapi/row_sorter.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi {
namespace {

constexpr uint16_t kId = 0x6000;

// The order the sort must produce for one key: rows lacking the key (an
// error, or another type) last in both directions, else compare_values
// (case-insensitive for strings), negated when descending.
int expected(const SortKey& key, const PropValue& a, const PropValue& b) {
  const uint16_t want = prop_type(key.tag);
  const bool am = a.is_error() || a.type() != want, bm = b.is_error() || b.type() != want;
  if (am || bm) return am == bm ? 0 : (am ? 1 : -1);
  int c = compare_values(a, b);
  c = (c > 0) - (c < 0);
  return key.order == kSortDescend ? -c : c;
}

int encoded(const SortKey& key, const PropValue& a, const PropValue& b) {
  std::string ea, eb;
  append_sort_key(ea, key, a);
  append_sort_key(eb, key, b);
  const int c = ea.compare(eb);
  return (c > 0) - (c < 0);
}

std::vector<PropValue> sample_values(uint16_t type) {
  const PropTag tag = prop_tag(kId, type);
  std::vector<PropValue> v = {PropValue::error(tag), PropValue::long_(prop_tag(kId, kPtLong), 7)};
  switch (type) {
    case kPtLong:
      for (int32_t x : {std::numeric_limits<int32_t>::min(), -5, -1, 0, 1, 5, std::numeric_limits<int32_t>::max()})
        v.push_back(PropValue::long_(tag, x));
      break;
    case kPtI8:
      for (int64_t x : {std::numeric_limits<int64_t>::min(), int64_t(-1), int64_t(0), int64_t(1) << 40,
                        std::numeric_limits<int64_t>::max()})
        v.push_back(PropValue::i8(tag, x));
      break;
    case kPtBoolean:
      v.push_back(PropValue::boolean(tag, false));
      v.push_back(PropValue::boolean(tag, true));
      break;
    case kPtSysTime:
      for (uint64_t x : {uint64_t(0), uint64_t(1), uint64_t(0x01D0000000000000), ~uint64_t(0)})
        v.push_back(PropValue::systime(tag, x));
      break;
    case kPtDouble:
      for (double x : {-std::numeric_limits<double>::infinity(), -2.5, -0.0, 0.0, 1e-300, 3.0,
                       std::numeric_limits<double>::infinity(), std::nan("")})
        v.push_back(PropValue::double_(tag, x));
      break;
    case kPtUnicode:
      for (const char* s : {"", "a", "A", "ab", "aB", "b", "\xC3\xA9t\xC3\xA9", "\xC3\x89T\xC3\x89", "zz"})
        v.push_back(PropValue::unicode(tag, s));
      v.push_back(PropValue::unicode(tag, std::string("a\0b", 3)));
      break;
    case kPtBinary:
      for (std::string s : {std::string(), std::string("\0", 1), std::string("\0\0", 2), std::string("\0\xFF", 2),
                            std::string("\x01"), std::string("\xFF"), std::string("\xFF\0", 2)})
        v.push_back(PropValue::binary(tag, ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size())));
      break;
    case kMvFlag | kPtLong: {
      const PropTag el = prop_tag(kId, kPtLong);
      v.push_back(PropValue::multi(tag, {}));
      v.push_back(PropValue::multi(tag, {PropValue::long_(el, 1)}));
      v.push_back(PropValue::multi(tag, {PropValue::long_(el, 1), PropValue::long_(el, -3)}));
      v.push_back(PropValue::multi(tag, {PropValue::long_(el, 2)}));
      break;
    }
    case kMvFlag | kPtUnicode: {
      const PropTag el = prop_tag(kId, kPtUnicode);
      v.push_back(PropValue::multi(tag, {}));
      v.push_back(PropValue::multi(tag, {PropValue::unicode(el, "b")}));
      v.push_back(PropValue::multi(tag, {PropValue::unicode(el, "B"), PropValue::unicode(el, "")}));
      v.push_back(PropValue::multi(tag, {PropValue::unicode(el, "b"), PropValue::unicode(el, "a")}));
      v.push_back(PropValue::multi(tag, {PropValue::unicode(el, "ba")}));
      break;
    }
  }
  return v;
}

TEST(TableSortKeys, BytewiseOrderIsTheDocumentedOrderForEveryTypeAndDirection) {
  for (uint16_t type : std::initializer_list<uint16_t>{kPtLong, kPtI8, kPtBoolean, kPtSysTime, kPtDouble, kPtUnicode, kPtBinary, uint16_t(kMvFlag | kPtLong),
                        uint16_t(kMvFlag | kPtUnicode)}) {
    const auto values = sample_values(type);
    for (uint32_t order : {uint32_t(kSortAscend), uint32_t(kSortDescend)}) {
      const SortKey key{prop_tag(kId, type), order};
      for (size_t i = 0; i < values.size(); ++i) {
        for (size_t j = 0; j < values.size(); ++j) {
          EXPECT_EQ(encoded(key, values[i], values[j]), expected(key, values[i], values[j]))
              << "type 0x" << std::hex << type << " order " << order << " values " << std::dec << i << ", " << j;
        }
      }
    }
  }
}

// Random rows with two keys (a time and a subject with many ties), sorted
// the way sort.cpp documents it: stable, key by key.
std::vector<uint32_t> reference_order(const SortOrderSet& sort, const std::vector<std::vector<PropValue>>& rows) {
  std::vector<uint32_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    for (size_t k = 0; k < sort.keys.size(); ++k) {
      if (int c = expected(sort.keys[k], rows[a][k], rows[b][k]); c != 0) return c < 0;
    }
    return false;
  });
  return order;
}

TEST(TableSort, SpilledRunsMergeToTheSameOrderAsAnInMemorySort) {
  SortOrderSet sort;
  sort.keys = {{prop_tag(0x0E06, kPtSysTime), kSortDescend}, {prop_tag(0x0037, kPtUnicode), kSortAscend}};
  std::mt19937 rng(42);
  std::vector<std::vector<PropValue>> rows;
  for (int i = 0; i < 5000; ++i) {
    PropValue when = rng() % 10 == 0 ? PropValue::error(sort.keys[0].tag)
                                     : PropValue::systime(sort.keys[0].tag, 0x01D0000000000000 + rng() % 50);
    const std::string subject = std::string(1, char('a' + rng() % 3)) + (rng() % 2 ? "X" : "x") + std::to_string(rng() % 4);
    rows.push_back({when, PropValue::unicode(sort.keys[1].tag, subject)});
  }
  const auto want = reference_order(sort, rows);

  RowSorter in_memory(sort);
  RowSorter spilling(sort, 1024);  // a few dozen rows per run
  for (uint32_t i = 0; i < rows.size(); ++i) {
    ASSERT_TRUE(in_memory.add(i, rows[i]).is_ok());
    ASSERT_TRUE(spilling.add(i, rows[i]).is_ok());
  }
  auto a = in_memory.finish();
  auto b = spilling.finish();
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ(in_memory.runs_spilled(), 0u);
  EXPECT_GT(spilling.runs_spilled(), 10u);
  EXPECT_EQ(*a, want);
  EXPECT_EQ(*b, want);
}

TEST(TableSort, RefusesARowWithTheWrongNumberOfKeys) {
  SortOrderSet sort;
  sort.keys = {{prop_tag(0x0037, kPtUnicode), kSortAscend}};
  RowSorter sorter(sort);
  std::vector<PropValue> two = {PropValue::unicode(sort.keys[0].tag, "a"), PropValue::unicode(sort.keys[0].tag, "b")};
  EXPECT_EQ(sorter.add(0, two).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace pstkit::mapi
