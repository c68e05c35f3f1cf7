// OrderedWorkers (src/cli/ordered_workers.h), the engine of export --jobs
// and readpst -j: items come out in order whatever the threads do, no more
// than the window is rendered ahead, and an early stop or an exception
// leaves no worker running.
#include "cli/ordered_workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

namespace pstkit::cli {
namespace {

// Items that take longer the smaller their number, so that workers finish
// them out of order.
std::string slow_render(size_t i, size_t count) {
  std::this_thread::sleep_for(std::chrono::microseconds(50 * ((count - i) % 7)));
  return "item " + std::to_string(i);
}

TEST(OrderedWorkers, ConsumesInItemOrderForAnyNumberOfJobs) {
  for (unsigned jobs : {1u, 2u, 3u, 8u}) {
    OrderedWorkers<std::string> workers(jobs);
    for (size_t count : {size_t{0}, size_t{1}, size_t{5}, size_t{200}}) {  // runs reuse the threads
      std::vector<std::string> seen;
      const bool all = workers.run(
          count, [&](size_t i) { return slow_render(i, count); },
          [&](size_t i, std::string&& item) {
            EXPECT_EQ(i, seen.size());
            seen.push_back(std::move(item));
            return true;
          });
      EXPECT_TRUE(all);
      ASSERT_EQ(seen.size(), count) << jobs << " jobs";
      for (size_t i = 0; i < count; ++i) EXPECT_EQ(seen[i], "item " + std::to_string(i));
    }
  }
}

TEST(OrderedWorkers, RendersAtMostTheWindowAheadOfTheConsumer) {
  const unsigned jobs = 3;
  OrderedWorkers<size_t> workers(jobs);
  std::atomic<size_t> highest{0};
  size_t consumed = 0;
  workers.run(
      100,
      [&](size_t i) {
        size_t h = highest.load();
        while (i > h && !highest.compare_exchange_weak(h, i)) {
        }
        return i;
      },
      [&](size_t i, size_t&&) {
        // Item i is being consumed: items up to i + 2 * jobs may have been taken.
        EXPECT_LE(highest.load(), i + 2 * jobs);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        consumed = i + 1;
        return true;
      });
  EXPECT_EQ(consumed, 100u);
}

TEST(OrderedWorkers, StopsWhenTheConsumerSaysSo) {
  OrderedWorkers<size_t> workers(4);
  std::atomic<size_t> rendered{0};
  size_t consumed = 0;
  const bool all = workers.run(
      1000, [&](size_t i) { return ++rendered, i; },
      [&](size_t i, size_t&&) {
        consumed = i + 1;
        return i < 9;
      });
  EXPECT_FALSE(all);
  EXPECT_EQ(consumed, 10u);
  EXPECT_LE(rendered.load(), 10u + 2 * 4);
  // The workers serve the next run.
  size_t again = 0;
  EXPECT_TRUE(workers.run(
      3, [](size_t i) { return i; }, [&](size_t, size_t&&) { return ++again, true; }));
  EXPECT_EQ(again, 3u);
}

TEST(OrderedWorkers, PassesAnExceptionFromRenderToTheCallerInItemOrder) {
  for (unsigned jobs : {1u, 3u}) {
    OrderedWorkers<size_t> workers(jobs);
    size_t consumed = 0;
    EXPECT_THROW(workers.run(
                     50,
                     [](size_t i) {
                       if (i == 20) throw std::runtime_error("item 20");
                       return i;
                     },
                     [&](size_t, size_t&&) { return ++consumed, true; }),
                 std::runtime_error);
    EXPECT_EQ(consumed, 20u);
  }
}

TEST(OrderedWorkers, ZeroJobsMeansEveryCore) {
  EXPECT_GE(resolve_jobs(0), 1u);
  EXPECT_EQ(resolve_jobs(3), 3u);
}

}  // namespace
}  // namespace pstkit::cli
