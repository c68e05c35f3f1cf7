// BTreeWriter over an in-memory page store: lookups keep memory bounded.
#include <gtest/gtest.h>

#include <map>

#include "ndb/btree_writer.h"
#include "ndb/page.h"

namespace pstkit::ndb {
namespace {

// Pages by offset, as a file would hold them.
struct PageStore {
  Header h;
  std::map<uint64_t, Bytes> pages;
  uint64_t next_ib = 512;
  Bid next_bid = 1;

  PageLoader loader() {
    return [this](uint8_t type, const Bref& ref) -> Result<BTreePage> {
      auto it = pages.find(ref.ib);
      if (it == pages.end()) return Status::not_found("no page at " + std::to_string(ref.ib));
      return parse_btree_page(h, it->second, ref.ib, type, ref.bid);
    };
  }
  PageWriter writer() {
    return [this](uint8_t type, Bytes page) -> Result<Bref> {
      const Bref ref{next_bid++, next_ib};
      next_ib += 512;
      seal_page(h, type, page, ref, true);
      pages[ref.ib] = std::move(page);
      return ref;
    };
  }
  Bref empty_root(uint8_t type) {
    const Bref ref{next_bid++, next_ib};
    next_ib += 512;
    pages[ref.ib] = serialise_btree_page(h, type, 0, {}, {}, {}, ref);
    return ref;
  }
};

BlockEntry block(uint64_t i) {
  BlockEntry e;
  e.bid = (i + 1) * 4;
  e.offset = 0x10000 + i * 64;
  e.stored_size = e.inflated_size = 40;
  e.ref_count = 2;
  return e;
}

// The rebuild's fix stage looks up every block of a large file in one
// transaction: the pages those lookups load must not all stay in memory
// (they did until the next commit: 60 MB at 1.24 GB).
TEST(BTreeWriter, LookupsDoNotKeepEveryPageTheyLoad) {
  PageStore store;
  constexpr size_t kBlocks = 20000;  // about a thousand leaf pages
  constexpr size_t kMaxClean = 64;
  Bref root = store.empty_root(kPageBbt);
  {
    BTreeWriter w(store.h, kPageBbt, root, store.loader(), kMaxClean);
    for (uint64_t i = 0; i < kBlocks; ++i) ASSERT_TRUE(w.put_block(block(i)).is_ok());
    auto committed = w.commit(store.writer(), [](const Bref&) {});
    ASSERT_TRUE(committed.is_ok()) << committed.status().message();
    root = *committed;
  }
  BTreeWriter w(store.h, kPageBbt, root, store.loader(), kMaxClean);
  size_t most_loaded = 0;
  for (uint64_t i = 0; i < kBlocks; ++i) {
    auto found = w.find_block(block(i).bid);
    ASSERT_TRUE(found.is_ok()) << found.status().message();
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->offset, block(i).offset);
    most_loaded = std::max(most_loaded, w.loaded_pages());
  }
  // The root and path pages, plus at most the budget of clean pages.
  EXPECT_LE(most_loaded, kMaxClean + 8);
  EXPECT_GE(store.pages.size(), kBlocks / 20);  // the test means something: the tree is much larger

  // A walk of the whole tree is bounded too, and sees every entry.
  size_t seen = 0;
  ASSERT_TRUE(w.for_each_block([&](const BlockEntry& e) {
                 EXPECT_EQ(e.offset, block(seen).offset);
                 ++seen;
                 most_loaded = std::max(most_loaded, w.loaded_pages());
                 return true;
               }).is_ok());
  EXPECT_EQ(seen, kBlocks);
  EXPECT_LE(most_loaded, kMaxClean + 8);
}

// Changes survive the trimming: dropped pages are only ever clean ones.
TEST(BTreeWriter, ChangesSurviveTrimmingBetweenLookups) {
  PageStore store;
  constexpr size_t kBlocks = 6000;
  Bref root = store.empty_root(kPageBbt);
  {
    BTreeWriter w(store.h, kPageBbt, root, store.loader(), 4);
    for (uint64_t i = 0; i < kBlocks; ++i) ASSERT_TRUE(w.put_block(block(i)).is_ok());
    root = *w.commit(store.writer(), [](const Bref&) {});
  }
  BTreeWriter w(store.h, kPageBbt, root, store.loader(), 4);
  // Every tenth block changes; lookups of all the others load and drop
  // clean pages in between.
  for (uint64_t i = 0; i < kBlocks; ++i) {
    if (i % 10 == 0) {
      BlockEntry e = block(i);
      e.ref_count = 7;
      ASSERT_TRUE(w.put_block(e).is_ok());
    } else {
      ASSERT_TRUE(w.find_block(block(i).bid).is_ok());
    }
  }
  ASSERT_TRUE(w.erase(bid_key(block(5).bid)).is_ok());
  for (uint64_t i = 0; i < kBlocks; ++i) {
    auto found = w.find_block(block(i).bid);
    ASSERT_TRUE(found.is_ok());
    if (i == 5) {
      EXPECT_FALSE(found->has_value());
      continue;
    }
    ASSERT_TRUE(found->has_value()) << i;
    EXPECT_EQ((*found)->ref_count, i % 10 == 0 ? 7 : 2) << i;
  }
  root = *w.commit(store.writer(), [](const Bref&) {});
  BTreeWriter again(store.h, kPageBbt, root, store.loader());
  size_t seen = 0, changed = 0;
  ASSERT_TRUE(again.for_each_block([&](const BlockEntry& e) {
                   ++seen;
                   if (e.ref_count == 7) ++changed;
                   return true;
                 }).is_ok());
  EXPECT_EQ(seen, kBlocks - 1);
  EXPECT_EQ(changed, kBlocks / 10);
}

// A visitor may look up in the tree it walks (the writer's readers do):
// those lookups must not drop the page the walk is on.
TEST(BTreeWriter, LookupsFromAWalkKeepTheWalksPages) {
  PageStore store;
  constexpr size_t kBlocks = 8000;
  Bref root = store.empty_root(kPageBbt);
  {
    BTreeWriter w(store.h, kPageBbt, root, store.loader(), 4);
    for (uint64_t i = 0; i < kBlocks; ++i) ASSERT_TRUE(w.put_block(block(i)).is_ok());
    root = *w.commit(store.writer(), [](const Bref&) {});
  }
  BTreeWriter w(store.h, kPageBbt, root, store.loader(), 4);
  size_t seen = 0;
  ASSERT_TRUE(w.for_each_block([&](const BlockEntry& e) {
                 EXPECT_EQ(e.offset, block(seen).offset) << seen;
                 // A lookup far from the walk's page, loading others.
                 auto far = w.find_block(block((seen * 7919) % kBlocks).bid);
                 EXPECT_TRUE(far.is_ok() && far->has_value());
                 ++seen;
                 return true;
               }).is_ok());
  EXPECT_EQ(seen, kBlocks);
  // Once the walk is over, lookups trim again.
  for (uint64_t i = 0; i < kBlocks; i += 97) ASSERT_TRUE(w.find_block(block(i).bid).is_ok());
  EXPECT_LE(w.loaded_pages(), size_t{4 + 8});
}

}  // namespace
}  // namespace pstkit::ndb
