// Items rendered on worker threads and handed to one consumer in item order:
// the parallel engine of `pstkit export --jobs` and `pstkit readpst -j`.
//
// Workers call render(i) for items 0..count-1, at most `window` items ahead
// of the consumer, so memory is bounded by `window` rendered items however
// large a folder is; the calling thread gets consume(i, item) strictly in
// order, so output written by the consumer does not depend on the number of
// workers or on scheduling. With one job nothing runs on another thread.
//
// render runs concurrently with itself and with consume: it may only read
// what is shared (pstkit's reader is safe for concurrent reads: the block
// and B-tree page caches are locked, scratch buffers are per thread).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace pstkit::cli {

// Number of worker threads for --jobs N: 0 means one per core.
inline unsigned resolve_jobs(unsigned jobs) {
  if (jobs != 0) return jobs;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

template <typename Rendered>
class OrderedWorkers {
 public:
  using Render = std::function<Rendered(size_t)>;
  using Consume = std::function<bool(size_t, Rendered&&)>;

  // jobs worker threads (1: none, everything on the caller's thread); they
  // live until destruction and serve every run(). Each may render up to
  // `ahead_per_job` items ahead of the consumer: a wider window blocks the
  // workers less often behind a slow item (fewer thread switches), at the
  // cost of that many rendered items held at once.
  explicit OrderedWorkers(unsigned jobs, size_t ahead_per_job = 2)
      : jobs_(jobs == 0 ? 1 : jobs), window_(std::max<size_t>(1, ahead_per_job) * jobs_) {
    if (jobs_ > 1) {
      slots_.resize(window_);
      for (unsigned i = 0; i < jobs_; ++i) threads_.emplace_back([this] { work(); });
    }
  }
  ~OrderedWorkers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  OrderedWorkers(const OrderedWorkers&) = delete;
  OrderedWorkers& operator=(const OrderedWorkers&) = delete;

  unsigned jobs() const { return jobs_; }

  // Renders items 0..count-1 and consumes them in order. Stops taking new
  // items when consume returns false (the items being rendered are
  // finished and dropped) and returns false then; true when every item was
  // consumed. An exception from render or consume reaches the caller, in
  // item order, once no worker is rendering any more.
  bool run(size_t count, const Render& render, const Consume& consume) {
    if (jobs_ == 1) {
      for (size_t i = 0; i < count; ++i)
        if (!consume(i, render(i))) return false;
      return true;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      render_ = &render;
      count_ = count;
      next_ = 0;
      consumed_ = 0;
      ready_ = 0;
    }
    work_cv_.notify_all();
    for (size_t i = 0; i < count; ++i) {
      Slot slot;
      bool window_was_full = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        Slot& ready = slots_[i % window_];
        done_cv_.wait(lock, [&] { return ready.filled(); });
        slot.item = std::move(ready.item);
        slot.thrown = std::move(ready.thrown);
        ready.clear();
        --ready_;
        consumed_ = i + 1;
        window_was_full = next_ >= i + window_;
      }
      // A slot is free: workers waiting for one may take the next item.
      if (window_was_full) work_cv_.notify_all();
      // Neither an exception nor an early stop may leave a worker running
      // `render`, which belongs to the caller.
      bool go_on = false;
      try {
        if (slot.thrown) std::rethrow_exception(slot.thrown);
        go_on = consume(i, std::move(*slot.item));
      } catch (...) {
        finish_early();
        throw;
      }
      if (!go_on) {
        finish_early();
        return false;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    render_ = nullptr;
    return true;
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return shutdown_ || (render_ && next_ < count_ && next_ < consumed_ + window_); });
      if (shutdown_) return;
      const size_t i = next_++;
      const Render* render = render_;
      ++in_flight_;
      lock.unlock();
      Slot slot;
      try {
        slot.item.emplace((*render)(i));
      } catch (...) {  // handed to the consumer, which rethrows it in its turn
        slot.thrown = std::current_exception();
      }
      lock.lock();
      slots_[i % window_].item = std::move(slot.item);
      slots_[i % window_].thrown = std::move(slot.thrown);
      --in_flight_;
      ++ready_;
      // The consumer is woken when its next item is there and half the
      // window is ready too (it then takes them without sleeping), or when
      // nothing more will come soon: the last items, every worker idle
      // (the window is full), or stopping early. Waking it for each item
      // cost two thread switches an item.
      const bool next_ready = slots_[consumed_ % window_].filled();
      if ((next_ready && (2 * ready_ >= window_ || next_ >= count_)) || in_flight_ == 0) done_cv_.notify_one();
    }
  }

  // Takes no more items, waits for those being rendered and drops them.
  void finish_early() {
    std::unique_lock<std::mutex> lock(mu_);
    count_ = next_;
    done_cv_.wait(lock, [&] { return in_flight_ == 0; });
    for (auto& slot : slots_) slot.clear();
    render_ = nullptr;
  }

  struct Slot {
    std::optional<Rendered> item;
    std::exception_ptr thrown;  // what render threw instead
    bool filled() const { return item.has_value() || thrown; }
    void clear() {
      item.reset();
      thrown = nullptr;
    }
  };

  const unsigned jobs_;
  const size_t window_;  // items rendered ahead of the consumer, at most
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // workers: an item may be taken, or shut down
  std::condition_variable done_cv_;  // consumer: an item was rendered
  // Guarded by mu_:
  std::vector<Slot> slots_;  // item i in slots_[i % window_]
  const Render* render_ = nullptr;              // the current run's, null between runs
  size_t count_ = 0, next_ = 0, consumed_ = 0, in_flight_ = 0;
  size_t ready_ = 0;  // rendered items the consumer has not taken
  bool shutdown_ = false;
};

}  // namespace pstkit::cli
