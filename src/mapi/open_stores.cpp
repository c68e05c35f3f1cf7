#include "mapi/open_stores.h"

#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "mapi/com_prop.h"

namespace pstkit::mapi::capi {
namespace {

// Never destroyed: the background flusher may still use them while the
// process exits.
std::mutex& registry_mutex() {
  static auto* m = new std::mutex;
  return *m;
}
std::vector<std::weak_ptr<StoreState>>& registry() {
  static auto* stores = new std::vector<std::weak_ptr<StoreState>>;
  return *stores;
}

}  // namespace

void register_open_store(const std::shared_ptr<StoreState>& state) {
  std::lock_guard lock(registry_mutex());
  auto& stores = registry();
  std::erase_if(stores, [](const std::weak_ptr<StoreState>& s) { return s.expired(); });
  stores.push_back(state);
}

void for_each_open_store(const std::function<void(const std::shared_ptr<StoreState>&)>& fn) {
  std::vector<std::shared_ptr<StoreState>> live;
  {
    std::lock_guard lock(registry_mutex());
    for (const auto& weak : registry())
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (const auto& s : live) fn(s);
}

HRESULT flush_open_stores(std::string* detail) {
  HRESULT first = S_OK;
  for_each_open_store([&](const std::shared_ptr<StoreState>& state) {
    std::string why;
    const HRESULT hr = state->flush(&why);
    if (FAILED(hr) && first == S_OK) {
      first = hr;
      if (detail) *detail = state->path + ": " + why;
    }
  });
  return first;
}

namespace {

// The flusher: a raw pthread rather than std::thread so that a forked child
// (which has no copy of the thread) can forget it (reset_after_fork).
struct Flusher {
  std::mutex mutex;
  std::condition_variable wake;
  std::optional<std::chrono::steady_clock::time_point> next;  // earliest deadline asked for
  bool running = false;   // a thread exists (to be joined)
  bool stopping = false;  // it is to end
  bool stopped = false;   // stop_background_flush: no thread until allowed again
  pthread_t thread{};
};

Flusher& flusher() {
  static Flusher* f = new Flusher;  // never destroyed: usable from static destructors
  return *f;
}

void* flusher_main(void*) {
  Flusher& f = flusher();
  std::unique_lock lock(f.mutex);
  while (!f.stopping) {
    if (!f.next) {
      f.wake.wait(lock);
      continue;
    }
    const auto due = *f.next;
    if (std::chrono::steady_clock::now() < due) {
      f.wake.wait_until(lock, due);
      continue;
    }
    f.next.reset();
    lock.unlock();
    std::optional<std::chrono::steady_clock::time_point> later;
    const auto now = std::chrono::steady_clock::now();
    for_each_open_store([&](const std::shared_ptr<StoreState>& state) {
      if (auto d = state->flush_if_due(now); d && (!later || *d < *later)) later = d;
    });
    lock.lock();
    if (later && (!f.next || *later < *f.next)) f.next = later;
  }
  return nullptr;
}

void reset_after_fork() {
  // The child has only the forking thread: the flusher's state is the
  // parent's. Its mutex was held across fork by prepare_fork.
  Flusher& f = flusher();
  f.running = false;
  f.stopping = false;
  f.next.reset();
  f.mutex.unlock();
}

void prepare_fork() { flusher().mutex.lock(); }
void parent_after_fork() { flusher().mutex.unlock(); }

}  // namespace

void schedule_background_flush(std::chrono::steady_clock::time_point deadline) {
  static std::once_flag atfork;
  std::call_once(atfork, [] { pthread_atfork(prepare_fork, parent_after_fork, reset_after_fork); });
  Flusher& f = flusher();
  std::lock_guard lock(f.mutex);
  if (f.stopped) return;
  if (!f.next || deadline < *f.next) f.next = deadline;
  if (!f.running) {
    f.stopping = false;
    if (pthread_create(&f.thread, nullptr, flusher_main, nullptr) != 0) return;  // batches then commit at N or logoff
    f.running = true;
  }
  f.wake.notify_one();
}

void stop_background_flush() {
  Flusher& f = flusher();
  pthread_t thread{};
  {
    std::lock_guard lock(f.mutex);
    f.stopped = true;
    if (!f.running) return;
    f.stopping = true;
    f.running = false;
    thread = f.thread;
    f.wake.notify_one();
  }
  pthread_join(thread, nullptr);
}

void allow_background_flush() {
  Flusher& f = flusher();
  std::lock_guard lock(f.mutex);
  f.stopped = false;
}

}  // namespace pstkit::mapi::capi
