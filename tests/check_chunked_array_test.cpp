// check::ChunkedArray, the checker's per-block and per-node storage:
// elements stay where they are while it grows, and lookups, sorting and
// iteration behave as on a std::vector.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "check/chunked_array.h"

namespace pstkit::check {
namespace {

// Chunks of 8 elements, so that a few dozen cross many chunk boundaries.
using Small = ChunkedArray<std::pair<int, int>, 3>;

TEST(CheckChunkedArray, GrowsWithoutMovingElements) {
  Small a;
  EXPECT_TRUE(a.empty());
  a.push_back({0, 0});
  const std::pair<int, int>* first = &a[0];
  for (int i = 1; i < 100; ++i) a.push_back({i, -i});
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(first, &a[0]);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a[size_t(i)], std::make_pair(i, -i));
  int seen = 0;
  for (const auto& v : a) EXPECT_EQ(v.first, seen++);
  EXPECT_EQ(seen, 100);
  a.clear();
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.begin(), a.end());
}

TEST(CheckChunkedArray, LowerBoundMatchesStd) {
  Small a;
  std::vector<int> keys;
  for (int i = 0; i < 61; ++i) keys.push_back(i * 3 - (i % 5 == 0 ? 1 : 0));
  for (int k : keys) a.push_back({k, 0});
  auto less = [](const std::pair<int, int>& e, int k) { return e.first < k; };
  for (int probe = -5; probe < 200; ++probe) {
    const size_t want = size_t(std::lower_bound(keys.begin(), keys.end(), probe) - keys.begin());
    EXPECT_EQ(a.lower_bound(probe, less), want) << probe;
  }
  EXPECT_EQ(Small().lower_bound(1, less), 0u);
}

TEST(CheckChunkedArray, StableSortMatchesStd) {
  std::mt19937 rng(7);
  for (size_t n : {0u, 1u, 8u, 9u, 77u}) {
    Small a;
    std::vector<std::pair<int, int>> v;
    for (size_t i = 0; i < n; ++i) {
      const std::pair<int, int> e{int(rng() % 10), int(i)};  // many equal keys: order among them must stay
      a.push_back(e);
      v.push_back(e);
    }
    auto by_first = [](const std::pair<int, int>& x, const std::pair<int, int>& y) { return x.first < y.first; };
    a.stable_sort(by_first);
    std::stable_sort(v.begin(), v.end(), by_first);
    ASSERT_EQ(a.size(), v.size());
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(a[i], v[i]) << n << " " << i;
    // Already sorted: unchanged.
    a.stable_sort(by_first);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(a[i], v[i]);
  }
}

}  // namespace
}  // namespace pstkit::check
