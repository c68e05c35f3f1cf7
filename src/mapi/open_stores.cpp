#include "mapi/open_stores.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <map>
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
//
// It sleeps in ppoll on two descriptors until the earliest deadline: an
// eventfd that schedule_background_flush and stop_background_flush write,
// and an inotify descriptor watching, for IN_OPEN, the files whose batches
// this process holds pending. Another process asking for a batch takes the
// flush-request lock and then opens the file (filelock::request_flush, the
// doorbell), so the flusher wakes only when someone may ask — every open of
// the file by anyone wakes it, and each store then checks its request byte
// with one fcntl. A lone writer's flusher wakes only at deadlines. Files
// inotify cannot watch for other hosts' opens (network file systems) or at
// all are polled every kFlushRequestPoll instead, as long as one of them
// has a batch pending.
struct Flusher {
  std::mutex mutex;
  std::optional<std::chrono::steady_clock::time_point> next;  // earliest deadline asked for
  bool running = false;   // a thread exists (to be joined)
  bool stopping = false;  // it is to end
  bool stopped = false;   // stop_background_flush: no thread until allowed again
  pthread_t thread{};
  int wake_fd = -1;    // eventfd
  int notify_fd = -1;  // inotify, made at the first watch
  std::map<int, int> watches;  // inotify watch → pending batches on its file
  int polled = 0;              // pending batches whose file is polled instead
};

Flusher& flusher() {
  static Flusher* f = new Flusher;  // never destroyed: usable from static destructors
  return *f;
}

thread_local bool background_thread = false;

std::atomic<uint64_t> flush_looks{0};

// Live pending batches of this process (watched or polled), so that a call's
// catch-up looks for another store object's batch only when there is one.
std::atomic<int> pending_batches_here{0};

void ring(int fd) {
  if (fd < 0) return;
  const uint64_t one = 1;
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void drain(int fd) {
  // Both descriptors are non-blocking: read until empty. An inotify event
  // is only a reason to look (its content does not matter), an overflow too.
  alignas(struct inotify_event) char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
}

// Whether inotify sees opens made by other machines' processes on this
// file system: not on network or FUSE file systems (the client's kernel
// only knows its own opens). Magic numbers from linux/magic.h and statfs(2).
bool opens_seen_locally(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x6969UL:      // NFS_SUPER_MAGIC
    case 0x517BUL:      // SMB_SUPER_MAGIC
    case 0xFF534D42UL:  // CIFS_MAGIC_NUMBER
    case 0xFE534D42UL:  // SMB2_MAGIC_NUMBER
    case 0x65735546UL:  // FUSE_SUPER_MAGIC
    case 0x00C36400UL:  // CEPH_SUPER_MAGIC
    case 0x01021997UL:  // V9FS_MAGIC
    case 0x5346414FUL:  // AFS_FS_MAGIC
    case 0x47504653UL:  // GPFS
    case 0x0BD00BD0UL:  // Lustre
      return false;
    default: return true;
  }
}

void* flusher_main(void*) {
  background_thread = true;
  Flusher& f = flusher();
  std::unique_lock lock(f.mutex);
  while (!f.stopping) {
    // Sleep until the earliest deadline (none: until woken), or the next
    // poll while a polled file has a batch pending.
    auto now = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> until = f.next;
    if (until && f.polled > 0) until = std::min(*until, now + kFlushRequestPoll);
    struct pollfd fds[2] = {{f.wake_fd, POLLIN, 0}, {f.notify_fd, POLLIN, 0}};
    const nfds_t nfds = f.notify_fd >= 0 ? 2 : 1;
    struct timespec ts {};
    if (until) {
      const auto left = std::max(*until - now, std::chrono::steady_clock::duration::zero());
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      ts.tv_sec = time_t(ns / 1000000000);
      ts.tv_nsec = long(ns % 1000000000);
    }
    lock.unlock();
    const int ready = ::ppoll(fds, nfds, until ? &ts : nullptr, nullptr);
    lock.lock();
    // Woken (a new batch, a stop) or rung (someone opened a watched file):
    // look at every pending store at once.
    bool look = false;
    if (ready > 0) {
      if (fds[0].revents != 0) {
        drain(f.wake_fd);
        look = true;
      }
      if (nfds == 2 && fds[1].revents != 0) {
        drain(f.notify_fd);
        look = true;
      }
    }
    if (f.stopping) break;
    if (!f.next) continue;
    now = std::chrono::steady_clock::now();
    if (!look && f.polled == 0 && now < *f.next) continue;
    // Each store commits when its deadline passed or another process asks
    // for its batch, and says when it is due otherwise.
    f.next.reset();
    lock.unlock();
    flush_looks.fetch_add(1, std::memory_order_relaxed);
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
  // parent's. Its mutex was held across fork by prepare_fork. The inotify
  // descriptor is the parent's instance (reading it would take the
  // parent's events): the child makes its own.
  Flusher& f = flusher();
  f.running = false;
  f.stopping = false;
  f.next.reset();
  if (f.notify_fd >= 0) ::close(f.notify_fd);
  if (f.wake_fd >= 0) ::close(f.wake_fd);
  f.notify_fd = -1;
  f.wake_fd = -1;
  f.watches.clear();
  f.polled = 0;
  f.mutex.unlock();
}

void prepare_fork() { flusher().mutex.lock(); }
void parent_after_fork() { flusher().mutex.unlock(); }

void install_fork_handlers() {
  static std::once_flag atfork;
  std::call_once(atfork, [] { pthread_atfork(prepare_fork, parent_after_fork, reset_after_fork); });
}

}  // namespace

bool on_background_thread() { return background_thread; }

uint64_t background_flush_looks() { return flush_looks.load(std::memory_order_relaxed); }

int watch_pending_file(int fd) {
  install_fork_handlers();
  Flusher& f = flusher();
  std::lock_guard lock(f.mutex);
  pending_batches_here.fetch_add(1);
  int watch = -1;
  if (fd >= 0 && opens_seen_locally(fd)) {
    if (f.notify_fd < 0) f.notify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (f.notify_fd >= 0) {
      // Through the descriptor's /proc link: the file it holds, whatever
      // the path now names.
      const std::string link = "/proc/self/fd/" + std::to_string(fd);
      watch = ::inotify_add_watch(f.notify_fd, link.c_str(), IN_OPEN);
    }
  }
  if (watch >= 0) {
    ++f.watches[watch];
  } else if (fd >= 0) {
    ++f.polled;
  } else {
    return kNoRequests;  // no lock held: nobody can ask
  }
  // The flusher, woken by the batch's schedule_background_flush, sleeps on
  // the new descriptor from then on and looks once first: a request made
  // before the watch (a writer already waiting for the lock) rang no bell.
  return watch;
}

void unwatch_pending_file(int watch) {
  Flusher& f = flusher();
  std::lock_guard lock(f.mutex);
  pending_batches_here.fetch_sub(1);
  if (watch == kNoRequests) return;
  if (watch < 0) {
    if (f.polled > 0) --f.polled;
    return;
  }
  auto it = f.watches.find(watch);
  if (it == f.watches.end()) return;  // forgotten in a forked child
  if (--it->second == 0) {
    f.watches.erase(it);
    (void)::inotify_rm_watch(f.notify_fd, watch);
  }
}

bool batches_pending_here() { return pending_batches_here.load() > 0; }

void schedule_background_flush(std::chrono::steady_clock::time_point deadline) {
  install_fork_handlers();
  Flusher& f = flusher();
  std::lock_guard lock(f.mutex);
  if (f.stopped) return;
  if (!f.next || deadline < *f.next) f.next = deadline;
  if (f.wake_fd < 0) f.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (f.wake_fd < 0) return;  // batches then commit at N or logoff
  if (!f.running) {
    f.stopping = false;
    if (pthread_create(&f.thread, nullptr, flusher_main, nullptr) != 0) return;
    f.running = true;
  }
  ring(f.wake_fd);
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
    ring(f.wake_fd);
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
