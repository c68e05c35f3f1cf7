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
//
// A run may hand a worker up to `batch` consecutive items at a time, and
// call finish on those it rendered before any is consumed: work that is
// cheaper on two items at once (export hashes two files together).
#pragma once

#include <algorithm>
#include <array>
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
  // The items of one batch that rendered (in item order), and their number.
  using Finish = std::function<void(Rendered* const*, size_t)>;
  static constexpr size_t kMaxBatch = 4;

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
  // With `finish`, a worker takes up to `batch` (at most kMaxBatch) items
  // at a time, renders them and calls finish on them, on its thread.
  bool run(size_t count, const Render& render, const Consume& consume, size_t batch = 1,
           const Finish& finish = nullptr) {
    batch = finish ? std::clamp<size_t>(batch, 1, kMaxBatch) : 1;
    if (jobs_ == 1) {
      std::array<Slot, kMaxBatch> slots;
      for (size_t i = 0; i < count; i += batch) {
        const size_t n = std::min(batch, count - i);
        render_batch(render, finish ? &finish : nullptr, i, n, slots.data());
        for (size_t k = 0; k < n; ++k) {
          Slot& slot = slots[k];
          if (slot.thrown) std::rethrow_exception(slot.thrown);
          if (!consume(i + k, std::move(*slot.item))) return false;
        }
      }
      return true;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      render_ = &render;
      finish_ = finish ? &finish : nullptr;
      batch_ = batch;
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
    finish_ = nullptr;
    return true;
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return shutdown_ || (render_ && next_ < count_ && next_ < consumed_ + window_); });
      if (shutdown_) return;
      const size_t first = next_;
      const size_t n = std::min({batch_, count_ - next_, consumed_ + window_ - next_});
      next_ += n;
      const Render* render = render_;
      const Finish* finish = finish_;
      in_flight_ += n;
      lock.unlock();
      std::array<Slot, kMaxBatch> batch;
      render_batch(*render, finish, first, n, batch.data());
      lock.lock();
      for (size_t k = 0; k < n; ++k) {
        slots_[(first + k) % window_].item = std::move(batch[k].item);
        slots_[(first + k) % window_].thrown = std::move(batch[k].thrown);
      }
      in_flight_ -= n;
      ready_ += n;
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
    finish_ = nullptr;
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

  // Renders items first..first+n-1 into slots, then finishes those that
  // rendered. What render or finish throws is kept in the item's slot, for
  // the consumer to rethrow in its turn.
  static void render_batch(const Render& render, const Finish* finish, size_t first, size_t n, Slot* slots) {
    std::array<Rendered*, kMaxBatch> rendered;
    size_t count = 0;
    for (size_t k = 0; k < n; ++k) {
      slots[k].clear();
      try {
        rendered[count] = &slots[k].item.emplace(render(first + k));
        ++count;
      } catch (...) {
        slots[k].thrown = std::current_exception();
      }
    }
    if (!finish || count == 0) return;
    try {
      (*finish)(rendered.data(), count);
    } catch (...) {
      const std::exception_ptr thrown = std::current_exception();
      for (size_t k = 0; k < n; ++k) {
        if (!slots[k].thrown) {
          slots[k].item.reset();
          slots[k].thrown = thrown;
        }
      }
    }
  }

  const unsigned jobs_;
  const size_t window_;  // items rendered ahead of the consumer, at most
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // workers: an item may be taken, or shut down
  std::condition_variable done_cv_;  // consumer: an item was rendered
  // Guarded by mu_:
  std::vector<Slot> slots_;  // item i in slots_[i % window_]
  const Render* render_ = nullptr;              // the current run's, null between runs
  const Finish* finish_ = nullptr;              // the current run's, or null
  size_t batch_ = 1;                            // items a worker takes at a time
  size_t count_ = 0, next_ = 0, consumed_ = 0, in_flight_ = 0;
  size_t ready_ = 0;  // rendered items the consumer has not taken
  bool shutdown_ = false;
};

}  // namespace pstkit::cli
