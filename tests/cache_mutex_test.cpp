// CacheMutex (src/ndb/cache_mutex.h), the lock of the block and B-tree page
// caches: it tries briefly before it sleeps, and must exclude as a mutex
// does, under contention and when held long enough that waiters sleep.
#include "ndb/cache_mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace pstkit::ndb {
namespace {

TEST(CacheMutex, ExcludesUnderContention) {
  CacheMutex mu;
  uint64_t counter = 0;  // a plain counter: lost updates if two threads were inside at once
  std::vector<std::thread> threads;
  constexpr int kThreads = 4, kIncrements = 200000;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        std::lock_guard lock(mu);
        counter = counter + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, uint64_t{kThreads} * kIncrements);
}

TEST(CacheMutex, AWaiterPastItsTriesSleepsUntilTheHolderLetsGo) {
  CacheMutex mu;
  mu.lock();
  EXPECT_FALSE(mu.try_lock());
  bool entered = false;
  std::thread waiter([&] {
    std::lock_guard lock(mu);
    entered = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // far past the tries
  mu.unlock();
  waiter.join();
  EXPECT_TRUE(entered);
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

}  // namespace
}  // namespace pstkit::ndb
