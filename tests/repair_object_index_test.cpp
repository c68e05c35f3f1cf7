// repair's ObjectIndex (src/repair/fix_store_internal.h): fix_store's
// NID -> parent index, kept in a SpillArray so that its memory does not grow
// with the store (issue 8). With a budget of a few pages it must answer and
// iterate exactly as the std::map it replaced, changes during iteration
// included.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "repair/fix_store_internal.h"

namespace pstkit::repair {
namespace {

using Nid = ndb::Nid;

std::vector<std::pair<Nid, Nid>> listed(const ObjectIndex& index) {
  std::vector<std::pair<Nid, Nid>> out;
  for (const auto& [nid, parent] : index) out.push_back({nid, parent});
  return out;
}

std::vector<std::pair<Nid, Nid>> as_list(const std::map<Nid, Nid>& m) { return {m.begin(), m.end()}; }

class ObjectIndexTest : public ::testing::Test {
 protected:
  // 256 bytes of pages: thousands of objects go to the temporary file.
  void SetUp() override { set_spill_budget_bytes(256); }
  void TearDown() override { set_spill_budget_bytes(0); }
};

TEST_F(ObjectIndexTest, AnswersAsAMapThroughSetEraseAndAdd) {
  std::mt19937 rng(8);
  std::map<Nid, Nid> want;
  ObjectIndex index;
  // Loaded out of order: finish_loading sorts.
  std::vector<Nid> nids;
  for (Nid i = 1; i <= 5000; ++i) nids.push_back(i * 32 + 4);
  std::shuffle(nids.begin(), nids.end(), rng);
  for (Nid nid : nids) {
    index.load(nid, nid % 7);
    want[nid] = nid % 7;
  }
  index.finish_loading();
  for (int step = 0; step < 4000; ++step) {
    const Nid nid = Nid(rng() % 6000) * 32 + 4 + (rng() % 4 == 0 ? 2 : 0);  // some never loaded
    switch (rng() % 3) {
      case 0:
        index.set(nid, step);
        want[nid] = step;
        break;
      case 1:
        index.erase(nid);
        want.erase(nid);
        break;
      default:
        break;
    }
    const auto it = want.find(nid);
    ASSERT_EQ(index.count(nid), it != want.end() ? 1u : 0u) << nid;
    if (it != want.end()) {
      ASSERT_EQ(index.parent_of(nid), it->second);
    }
  }
  EXPECT_EQ(listed(index), as_list(want));
  EXPECT_TRUE(index.status().is_ok());
}

// What fix_store's loops rely on: the parent read is the current one, an
// object added after the current NID is visited, an erased one is not.
TEST_F(ObjectIndexTest, IteratesLikeAMapWhileChanged) {
  ObjectIndex index;
  std::map<Nid, Nid> want;
  for (Nid nid = 100; nid < 3100; nid += 3) {
    index.load(nid, 1);
    want[nid] = 1;
  }
  index.finish_loading();
  std::vector<std::pair<Nid, Nid>> seen, seen_want;
  for (const auto& [nid, parent] : index) {
    seen.push_back({nid, parent});
    if (nid % 2 == 0) index.set(nid + 3, 9);   // a later object: visited with 9
    if (nid % 5 == 0) index.erase(nid + 6);    // a later object: not visited
    if (nid % 11 == 0) index.set(nid + 1, 7);  // a new NID after this one: visited
  }
  for (auto it = want.begin(); it != want.end(); ++it) {
    const auto [nid, parent] = *it;
    seen_want.push_back({nid, parent});
    if (nid % 2 == 0) want[nid + 3] = 9;
    if (nid % 5 == 0) want.erase(nid + 6);
    if (nid % 11 == 0) want[nid + 1] = 7;
  }
  EXPECT_EQ(seen, seen_want);
  EXPECT_EQ(listed(index), as_list(want));
}

TEST_F(ObjectIndexTest, ClearEmpties) {
  ObjectIndex index;
  index.load(4, 1);
  index.finish_loading();
  index.set(8, 1);
  index.clear();
  EXPECT_TRUE(listed(index).empty());
  EXPECT_EQ(index.count(4), 0u);
  EXPECT_EQ(index.count(8), 0u);
}

}  // namespace
}  // namespace pstkit::repair
