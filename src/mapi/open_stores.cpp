#include "mapi/open_stores.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
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

thread_local bool background_thread = false;

void* flusher_main(void*) {
  background_thread = true;
  Flusher& f = flusher();
  std::unique_lock lock(f.mutex);
  while (!f.stopping) {
    // While a batch is pending, look for requests every kFlushRequestPoll.
    const bool polling = f.next.has_value();
    if (!f.next) {
      f.wake.wait(lock);
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    if (now < *f.next) {
      f.wake.wait_until(lock, polling ? std::min(*f.next, now + kFlushRequestPoll) : *f.next);
      if (f.stopping || !f.next) continue;
      now = std::chrono::steady_clock::now();
    }
    // Each store commits when its deadline passed or another process asks
    // for its batch, and says when it is due otherwise.
    f.next.reset();
    lock.unlock();
    std::optional<std::chrono::steady_clock::time_point> later;
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

bool on_background_thread() { return background_thread; }

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
  stop_change_watch();
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
  {
    std::lock_guard lock(f.mutex);
    f.stopped = false;
  }
  allow_change_watch();
}

namespace {

// The watch for changes made elsewhere: its own thread, so that a store
// waiting for the writer lock while it catches up (another store object of
// this process holds it for a batch) never holds up the flusher that will
// release it.
struct Watcher {
  std::mutex mutex;
  std::condition_variable wake;
  bool running = false;
  bool stopping = false;
  bool stopped = false;
  bool poll_now = false;
  std::chrono::milliseconds period{50};
  pthread_t thread{};
};

Watcher& watcher() {
  static Watcher* w = new Watcher;  // never destroyed, like the flusher
  return *w;
}

std::chrono::milliseconds watch_period_from_environment() {
  const char* text = std::getenv("PSTKIT_MAPI_WATCH_MS");
  if (text == nullptr || *text == 0) return std::chrono::milliseconds(50);
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (*end != 0) return std::chrono::milliseconds(50);
  return std::chrono::milliseconds(std::clamp<long long>(v, 5, 1000));
}

void* watcher_main(void*) {
  background_thread = true;
  Watcher& w = watcher();
  std::unique_lock lock(w.mutex);
  while (!w.stopping) {
    if (!w.poll_now) w.wake.wait_for(lock, w.period);
    if (w.stopping) break;
    w.poll_now = false;
    lock.unlock();
    bool any = false;
    for_each_open_store([&](const std::shared_ptr<StoreState>& state) { any = state->poll_changes() || any; });
    lock.lock();
    // Nobody listens any more: the thread ends (the next Advise starts one).
    if (!any && !w.poll_now) {
      w.running = false;
      pthread_detach(pthread_self());
      return nullptr;
    }
  }
  return nullptr;
}

void watcher_reset_after_fork() {
  Watcher& w = watcher();
  w.running = false;
  w.stopping = false;
  w.poll_now = false;
  w.mutex.unlock();
}
void watcher_prepare_fork() { watcher().mutex.lock(); }
void watcher_parent_after_fork() { watcher().mutex.unlock(); }

}  // namespace

void watch_for_changes() {
  static std::once_flag atfork;
  std::call_once(atfork,
                 [] { pthread_atfork(watcher_prepare_fork, watcher_parent_after_fork, watcher_reset_after_fork); });
  Watcher& w = watcher();
  std::lock_guard lock(w.mutex);
  if (w.stopped || w.running) return;
  w.period = watch_period_from_environment();
  w.stopping = false;
  // Without a thread, changes are seen at the next call on the store.
  if (pthread_create(&w.thread, nullptr, watcher_main, nullptr) == 0) w.running = true;
}

void wake_change_watch() {
  Watcher& w = watcher();
  std::lock_guard lock(w.mutex);
  if (!w.running) return;
  w.poll_now = true;
  w.wake.notify_one();
}

void stop_change_watch() {
  Watcher& w = watcher();
  pthread_t thread{};
  {
    std::lock_guard lock(w.mutex);
    w.stopped = true;
    if (!w.running) return;
    w.stopping = true;
    w.running = false;
    thread = w.thread;
    w.wake.notify_one();
  }
  pthread_join(thread, nullptr);
}

void allow_change_watch() {
  Watcher& w = watcher();
  std::lock_guard lock(w.mutex);
  w.stopped = false;
}

}  // namespace pstkit::mapi::capi
