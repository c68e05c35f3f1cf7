// RepeatedKeys (src/util/repeated_keys.h), which names the manifest entries
// of `pstkit export` whose path an earlier entry has: it must name exactly
// what a set of the keys seen so far would, whether the keys stay in memory
// or go through SpillArray's temporary file and external merge sort.
#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

#include "util/repeated_keys.h"

namespace pstkit {
namespace {

// What a set of the keys seen so far names.
std::vector<uint64_t> repeated_by_set(const std::vector<uint64_t>& keys) {
  std::unordered_set<uint64_t> seen;
  std::vector<uint64_t> out;
  for (size_t i = 0; i < keys.size(); ++i)
    if (!seen.insert(keys[i]).second) out.push_back(i);
  return out;
}

std::vector<uint64_t> repeated_by(RepeatedKeys& finder, size_t budget, const std::vector<uint64_t>& keys) {
  for (uint64_t k : keys) finder.add(k);
  EXPECT_EQ(finder.size(), keys.size());
  SpillArray<uint64_t> repeated(budget);
  Status s = finder.find(&repeated);
  EXPECT_TRUE(s.is_ok()) << s.message();
  std::vector<uint64_t> out;
  for (uint64_t n : repeated) out.push_back(n);
  return out;
}

TEST(RepeatedKeys, NamesEveryKeyButTheFirstOfEachValue) {
  RepeatedKeys finder(1 << 20);
  EXPECT_EQ(repeated_by(finder, 1 << 20, {7, 3, 7, 9, 3, 7, 0, 0}), (std::vector<uint64_t>{2, 4, 5, 7}));
  // find() dropped the keys: a new sequence starts at number 0.
  EXPECT_EQ(finder.size(), 0u);
  EXPECT_EQ(repeated_by(finder, 1 << 20, {1, 2, 1}), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(repeated_by(finder, 1 << 20, {}).empty());
}

TEST(RepeatedKeys, SpilledKeysAgreeWithASet) {
  // 256 bytes a array: 16 keys a page, so 20,000 keys take the temporary
  // file and several merge passes.
  constexpr size_t kTinyBudget = 256;
  const uint64_t files = spill_files_created();
  std::mt19937_64 rng(11);
  std::vector<uint64_t> keys;
  for (size_t i = 0; i < 20000; ++i) keys.push_back(rng() % 15000);  // about a quarter repeat
  const std::vector<uint64_t> expected = repeated_by_set(keys);
  ASSERT_GT(expected.size(), 1000u);
  RepeatedKeys finder(kTinyBudget);
  EXPECT_EQ(repeated_by(finder, kTinyBudget, keys), expected);
  EXPECT_GT(spill_files_created(), files);
}

}  // namespace
}  // namespace pstkit
