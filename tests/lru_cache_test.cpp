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

}  // namespace
}  // namespace pstkit::ndb
