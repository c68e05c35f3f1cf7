// ndb::LruCache (src/ndb/lru_cache.h), the block and B-tree page caches of
// the reader, the writer and the checker: its byte budget must bound what
// the cache really holds on the heap, bookkeeping included, however small
// the values (issue 8: caches charged 64 bytes an entry where an entry cost
// about 170, so many small blocks held several times the budget).
#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>

#include "ndb/lru_cache.h"
#include "ndb/page.h"
#include "pstkit/bytes.h"

namespace pstkit::ndb {
namespace {

// Bytes the program has allocated and not freed (glibc's count).
size_t heap_in_use() { return mallinfo2().uordblks; }

#if defined(__SANITIZE_ADDRESS__)
#define SKIP_WITHOUT_GLIBC_MALLOC() GTEST_SKIP() << "ASan's allocator: glibc's heap counts do not see it"
#else
#define SKIP_WITHOUT_GLIBC_MALLOC() (void)0
#endif

constexpr size_t kValues = 100000;

TEST(LruCache, SmallBlocksStayWithinTheBudget) {
  SKIP_WITHOUT_GLIBC_MALLOC();
  constexpr size_t kBudget = size_t{1} << 20;
  const size_t before = heap_in_use();
  {
    LruCache<Bytes> cache(kBudget);
    for (size_t i = 0; i < kValues; ++i) {
      auto value = std::make_shared<const Bytes>(8, uint8_t(i));  // a tiny block
      cache.put(i, value, shared_vector_bytes(*value));
    }
    const size_t held = heap_in_use() - before;
    EXPECT_LE(cache.used_bytes(), kBudget);
    // What the cache holds is what it charged, within a few percent (the
    // bucket array's size between two rehashes).
    EXPECT_LE(held, kBudget + kBudget / 20) << cache.size() << " entries";
    EXPECT_GE(held, kBudget / 2) << "the cache should be full";
    EXPECT_EQ(*cache.get(kValues - 1), Bytes(8, uint8_t(kValues - 1)));
    EXPECT_EQ(cache.get(0), nullptr);  // least recently used: gone
  }
}

TEST(LruCache, BTreePagesStayWithinTheBudget) {
  SKIP_WITHOUT_GLIBC_MALLOC();
  constexpr size_t kBudget = size_t{256} << 10;
  const size_t before = heap_in_use();
  LruCache<BTreePage> cache(kBudget);
  for (size_t i = 0; i < kValues / 10; ++i) {
    // A full Unicode BBT leaf: 20 entries of 24 bytes on disk, 32 in memory.
    BTreePage p;
    p.offset = i * 512;
    p.blocks.resize(20);
    auto value = std::make_shared<const BTreePage>(std::move(p));
    cache.put(i, value, shared_page_bytes(*value));
  }
  const size_t held = heap_in_use() - before;
  EXPECT_LE(cache.used_bytes(), kBudget);
  EXPECT_LE(held, kBudget + kBudget / 20) << cache.size() << " pages";
  EXPECT_GE(held, kBudget / 2);
}

TEST(LruCache, EraseForgetsAValue) {
  LruCache<Bytes> cache(size_t{1} << 20);
  cache.put(1, std::make_shared<const Bytes>(100, 1), 200);
  cache.put(2, std::make_shared<const Bytes>(100, 2), 200);
  EXPECT_EQ(cache.used_bytes(), 2 * (200 + LruCache<Bytes>::kEntryBytes));
  cache.erase(1);
  cache.erase(3);  // absent: nothing happens
  EXPECT_EQ(cache.get(1), nullptr);
  EXPECT_NE(cache.get(2), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.used_bytes(), 200 + LruCache<Bytes>::kEntryBytes);
  // A value too big for the budget replaces nothing it cannot hold: the
  // key's old value is dropped, not kept stale.
  cache.put(2, std::make_shared<const Bytes>(10, 3), size_t{2} << 20);
  EXPECT_EQ(cache.get(2), nullptr);
  EXPECT_EQ(cache.used_bytes(), 0u);
}

// Eviction follows use, not insertion: a value read since goes last.
TEST(LruCache, EvictsTheLeastRecentlyUsed) {
  const size_t charge = 100 + LruCache<Bytes>::kEntryBytes;
  LruCache<Bytes> cache(3 * charge);
  for (uint64_t k = 1; k <= 3; ++k) cache.put(k, std::make_shared<const Bytes>(1, uint8_t(k)), 100);
  ASSERT_NE(cache.get(1), nullptr);  // 1 becomes the most recent: 2 is the oldest
  cache.put(4, std::make_shared<const Bytes>(1, 4), 100);
  EXPECT_EQ(cache.get(2), nullptr);
  EXPECT_NE(cache.get(3), nullptr);  // newest first: 3, 4, 1
  EXPECT_NE(cache.get(4), nullptr);
  cache.put(5, std::make_shared<const Bytes>(1, 5), 100);  // evicts 1, the least recently read
  EXPECT_EQ(cache.get(1), nullptr);
  EXPECT_EQ(cache.size(), 3u);
  // Replacing a key's value keeps one entry for it.
  cache.put(5, std::make_shared<const Bytes>(1, 6), 100);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(*cache.get(5), Bytes(1, 6));
  EXPECT_EQ(cache.used_bytes(), 3 * charge);
  // Erasing the newest, the oldest and the only entry keeps the list whole.
  cache.erase(5);
  cache.erase(3);
  EXPECT_EQ(cache.size(), 1u);
  cache.erase(4);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.used_bytes(), 0u);
  cache.put(7, std::make_shared<const Bytes>(1, 7), 100);
  EXPECT_NE(cache.get(7), nullptr);
}

// The writer replaces its caches by assignment: the moved cache keeps its
// values and its order, and the one it came from is left empty.
TEST(LruCache, AMovedCacheKeepsItsOrder) {
  const size_t charge = 100 + LruCache<Bytes>::kEntryBytes;
  LruCache<Bytes> first(2 * charge);
  first.put(1, std::make_shared<const Bytes>(1, 1), 100);
  first.put(2, std::make_shared<const Bytes>(1, 2), 100);
  LruCache<Bytes> second(std::move(first));
  EXPECT_EQ(first.size(), 0u);
  EXPECT_EQ(first.used_bytes(), 0u);
  second.put(3, std::make_shared<const Bytes>(1, 3), 100);  // evicts 1
  EXPECT_EQ(second.get(1), nullptr);
  EXPECT_NE(second.get(2), nullptr);
  LruCache<Bytes> third(charge);
  third = std::move(second);
  EXPECT_EQ(third.size(), 2u);
  third.put(4, std::make_shared<const Bytes>(1, 4), 100);  // evicts 3: 2 was read since
  EXPECT_EQ(third.get(3), nullptr);
  EXPECT_NE(third.get(2), nullptr);
  EXPECT_NE(third.get(4), nullptr);
}

}  // namespace
}  // namespace pstkit::ndb
