// OrderedWorkers (src/cli/ordered_workers.h), the engine of export --jobs
// and readpst -j: items come out in order whatever the threads do, no more
// than the window is rendered ahead, and an early stop or an exception
// leaves no worker running.
#include "cli/ordered_workers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>
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

// A batched run: finish sees consecutive items, on the thread that rendered
// them, before the consumer does; the order and the window hold as before.
TEST(OrderedWorkers, FinishesBatchesOfConsecutiveItemsBeforeConsumingThem) {
  struct Item {
    size_t i = 0;
    std::thread::id rendered_on, finished_on;
    size_t batch_size = 0;
  };
  for (unsigned jobs : {1u, 2u, 3u}) {
    for (size_t batch : {size_t{1}, size_t{2}, size_t{3}, size_t{9}}) {
      OrderedWorkers<Item> workers(jobs);
      for (size_t count : {size_t{0}, size_t{1}, size_t{7}, size_t{200}}) {
        size_t consumed = 0, batched = 0;
        const OrderedWorkers<Item>::Finish finish = [&](Item* const* items, size_t n) {
          ASSERT_GE(n, 1u);
          ASSERT_LE(n, std::min(batch, OrderedWorkers<Item>::kMaxBatch));
          for (size_t k = 0; k < n; ++k) {
            EXPECT_EQ(items[k]->i, items[0]->i + k);
            items[k]->finished_on = std::this_thread::get_id();
            items[k]->batch_size = n;
          }
        };
        const bool all = workers.run(
            count,
            [&](size_t i) {
              slow_render(i, count);
              return Item{i, std::this_thread::get_id(), {}, 0};
            },
            [&](size_t i, Item&& item) {
              EXPECT_EQ(item.i, i);
              EXPECT_EQ(i, consumed);
              EXPECT_EQ(item.finished_on, item.rendered_on);
              EXPECT_GE(item.batch_size, 1u);
              if (item.batch_size > 1) ++batched;
              ++consumed;
              return true;
            },
            batch, finish);
        EXPECT_TRUE(all);
        EXPECT_EQ(consumed, count);
        // One job has no window to run into: every batch is full but the
        // last, and only a last batch of one item is alone.
        if (jobs == 1 && batch > 1 && count >= 7) {
          const size_t b = std::min(batch, OrderedWorkers<Item>::kMaxBatch);
          EXPECT_EQ(batched, count - (count % b == 1 ? 1 : 0)) << batch << " " << count;
        }
      }
    }
  }
}

TEST(OrderedWorkers, PassesAnExceptionFromFinishToTheCallerInItemOrder) {
  for (unsigned jobs : {1u, 3u}) {
    OrderedWorkers<size_t> workers(jobs);
    size_t consumed = 0;
    std::atomic<size_t> batch_start{0};
    const OrderedWorkers<size_t>::Finish finish = [&](size_t* const* items, size_t n) {
      for (size_t k = 0; k < n; ++k) {
        if (*items[k] == 21) {
          batch_start = *items[0];
          throw std::runtime_error("batch of item 21");
        }
      }
    };
    // Every item of item 21's batch fails; those before the batch are
    // consumed. (With one job the batches are 0-1, 2-3...; with more, a
    // worker takes one item when the window has room for one only.)
    EXPECT_THROW(workers.run(
                     50, [](size_t i) { return i; }, [&](size_t, size_t&&) { return ++consumed, true; }, 2, finish),
                 std::runtime_error);
    EXPECT_EQ(consumed, batch_start.load());
    EXPECT_GE(consumed, 20u);
    if (jobs == 1) {
      EXPECT_EQ(consumed, 20u);
    }
  }
}

TEST(OrderedWorkers, ARenderExceptionLeavesTheRestOfItsBatchToBeConsumed) {
  for (unsigned jobs : {1u, 3u}) {
    OrderedWorkers<size_t> workers(jobs);
    std::vector<size_t> finished;
    std::mutex mu;
    size_t consumed = 0;
    const OrderedWorkers<size_t>::Finish finish = [&](size_t* const* items, size_t n) {
      std::lock_guard<std::mutex> lock(mu);
      for (size_t k = 0; k < n; ++k) finished.push_back(*items[k]);
    };
    EXPECT_THROW(workers.run(
                     10,
                     [](size_t i) {
                       if (i == 5) throw std::runtime_error("item 5");
                       return i;
                     },
                     [&](size_t, size_t&&) { return ++consumed, true; }, 2, finish),
                 std::runtime_error);
    EXPECT_EQ(consumed, 5u);  // items 0-4, whichever batch 4 was in
    std::lock_guard<std::mutex> lock(mu);
    // Item 5 never reaches finish; the rest of its batch does.
    EXPECT_NE(std::find(finished.begin(), finished.end(), size_t{4}), finished.end());
    EXPECT_EQ(std::find(finished.begin(), finished.end(), size_t{5}), finished.end());
  }
}

TEST(OrderedWorkers, ZeroJobsMeansEveryCore) {
  EXPECT_GE(resolve_jobs(0), 1u);
  EXPECT_EQ(resolve_jobs(3), 3u);
}

}  // namespace
}  // namespace pstkit::cli
