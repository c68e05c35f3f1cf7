// MAPICrashRecovery (mapicrashrecovery.md) and the "did not close properly"
// check: see crash_recovery.h and docs/MAPI.md "Crash recovery".
//
// A signal handler may call MAPICrashRecovery, so its own code does only
// async-signal-safe work (signal-safety(7)): it writes the request to a pipe
// read by the recovery thread (started at the first store open) and waits
// for the answer with poll, bounded by $PSTKIT_CRASH_RECOVERY_TIMEOUT
// seconds (10). The thread does the real work (the writer allocates and
// takes locks): for every open store whose mutex it can take — a store whose
// mutex the crashed thread holds is in the middle of an update, inconsistent
// — it commits what is pending (StoreState::flush: durable, through the
// journal), takes the crash lock and marks the open-by-MAPI record closed.
// If it cannot finish in time (the crashed thread held a lock it needs),
// the caller goes on without it: what was not flushed stays as the last
// commit left it, and the next open checks the store.
#include "mapi/crash_recovery.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

#include "mapi/capi_runtime.h"
#include "mapi/com_prop.h"
#include "mapi/open_stores.h"
#include "pstkit/check.h"
#include "pstkit/mapi_session.h"
#include "util/file_lock.h"

namespace pstkit::mapi::capi {
namespace {

// ---- the log: one line on stderr per event (docs/MAPI.md)

void log_line(const std::string& text) {
  const std::string line = "pstkit MAPI: " + text + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += size_t(n);
  }
}

// ---- the channel between MAPICrashRecovery and the recovery thread.
// Constant-initialised (no guard variable, no destructor): a handler may
// read it at any moment, even during exit.

struct Request {
  uint32_t seq;
  uint32_t flags;
};
struct Reply {
  uint32_t seq;
  uint32_t stores_locked;
};

struct Channel {
  int request_r = -1, request_w = -1, reply_r = -1, reply_w = -1;
  int timeout_ms = 10000;
  std::atomic<bool> ready{false};
  std::atomic<uint32_t> seq{0};
  std::atomic<bool> busy{false};
  std::atomic<bool> shutdown_locked{false};  // RECOVER | SYSTEM_SHUTDOWN ran: CONTINUE is refused
  std::atomic<bool> stop_after_crash{false};
  std::atomic<pid_t> owner{0};  // the process whose recovery thread reads the pipe
};
constinit Channel g_channel;

constexpr ULONG kKnownFlags = MAPICRASH_RECOVER | MAPICRASH_CONTINUE | MAPICRASH_SYSTEM_SHUTDOWN;
constexpr ULONG kProviderFlags = 0xFF000000;

int64_t monotonic_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// ---- the recovery thread's work

// The store's mutex if no thread keeps it for long: a thread in the middle
// of a call may finish it, the crashed thread never does.
bool try_lock_for(StoreMutex& mutex, int ms) {
  const int64_t until = monotonic_ms() + ms;
  while (true) {
    if (mutex.try_lock()) return true;
    if (monotonic_ms() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

uint32_t recover(bool system_shutdown) {
  uint32_t locked = 0;
  for_each_open_store([&](const std::shared_ptr<StoreState>& state) {
    StoreRecovery* r = state->recovery.get();
    if (r == nullptr) return;
    if (r->locked.load()) {
      ++locked;
      return;
    }
    if (!try_lock_for(state->mutex, 500)) {
      log_line(state->path + ": crash recovery: an update was in progress; nothing flushed (the last commit "
                             "stands; the next open checks the store)");
      return;
    }
    std::lock_guard lock(state->mutex, std::adopt_lock);
    const bool forked = r->opener != ::getpid();
    if (forked) {
      // A child of fork(): a lock through the parent's descriptor would be
      // the parent's too, and outlive this process.
      int fd = ::open(state->path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
      r->crash_fd_writable = fd >= 0;
      if (fd < 0) fd = ::open(state->path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        log_line(state->path + ": crash recovery: cannot open it: " + std::strerror(errno));
        return;
      }
      r->crash_fd = fd;  // the parent's stays open in the parent
      r->opener = ::getpid();
    }
    std::string detail;
    const HRESULT hr = state->flush(&detail);
    if (FAILED(hr)) {
      log_line(state->path + ": crash recovery: flushing failed (" + detail + "); nothing locked");
      return;
    }
    if (!filelock::set_crash_lock(r->crash_fd, r->crash_fd_writable)) {
      log_line(state->path + ": crash recovery: flushed, but the crash lock could not be taken: " +
               std::strerror(errno));
      return;
    }
    r->locked = true;
    ++locked;
    // The record's lock is shared with the parent after a fork: left as is.
    const bool closed = !forked && r->record && r->record->mark_closed_if_alone();
    log_line(state->path + ": crash recovery: consistent, flushed and locked until this process ends" +
             (closed ? "" : " (left marked open: another process uses it, or it is read-only here)"));
  });
  if (system_shutdown) g_channel.shutdown_locked = true;
  return locked;
}

void lift() {
  if (g_channel.shutdown_locked.load()) {
    log_line("crash recovery: MAPICRASH_CONTINUE after MAPICRASH_SYSTEM_SHUTDOWN: the stores stay locked");
    return;
  }
  for_each_open_store([](const std::shared_ptr<StoreState>& state) {
    StoreRecovery* r = state->recovery.get();
    if (r == nullptr || !r->locked.load()) return;
    if (r->record) r->record->mark_open_again();
    filelock::clear_crash_lock(r->crash_fd);
    r->locked = false;
    log_line(state->path + ": crash recovery lifted (MAPICRASH_CONTINUE)");
  });
}

bool read_all(int fd, void* buf, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, static_cast<char*>(buf) + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

// Set by the recovery thread once it runs (before its first read). The
// starter waits for it so that the thread's start-up, which allocates, is
// over before the caller goes on: a fork() during it would give the child an
// allocator lock that no thread of the child releases (ASan's allocator,
// unlike glibc's, takes no lock around fork).
std::atomic<bool> g_recovery_thread_running{false};

void recovery_thread() {
  Request req{};
  g_recovery_thread_running = true;
  while (read_all(g_channel.request_r, &req, sizeof req)) {
    Reply reply{req.seq, 0};
    if (req.flags & MAPICRASH_RECOVER) {
      reply.stores_locked = recover((req.flags & MAPICRASH_SYSTEM_SHUTDOWN) != 0);
    } else if (req.flags & MAPICRASH_CONTINUE) {
      lift();
    }
    ssize_t n;
    do {
      n = ::write(g_channel.reply_w, &reply, sizeof reply);
    } while (n < 0 && errno == EINTR);
  }
}

int timeout_from_env() {
  if (const char* s = std::getenv("PSTKIT_CRASH_RECOVERY_TIMEOUT")) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end != s && v >= 0 && v < 3600) return int(v * 1000);
  }
  return 10000;
}

// Starts the recovery thread once per process (a fork's child has no copy
// of it and starts its own). False when it cannot (no pipes, no thread):
// MAPICrashRecovery then does nothing.
bool start_recovery_thread() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (g_channel.ready.load() && g_channel.owner.load() == ::getpid()) return true;
  g_channel.ready = false;
  for (int fd : {g_channel.request_r, g_channel.request_w, g_channel.reply_r, g_channel.reply_w})
    if (fd >= 0) ::close(fd);
  g_channel.request_r = g_channel.request_w = g_channel.reply_r = g_channel.reply_w = -1;
  int request[2], reply[2];
  if (::pipe2(request, O_CLOEXEC) != 0) return false;
  if (::pipe2(reply, O_CLOEXEC) != 0) {
    ::close(request[0]);
    ::close(request[1]);
    return false;
  }
  // The caller's ends never block: a stuck thread cannot stall a handler.
  ::fcntl(request[1], F_SETFL, O_NONBLOCK);
  ::fcntl(reply[0], F_SETFL, O_NONBLOCK);
  g_channel.request_r = request[0];
  g_channel.request_w = request[1];
  g_channel.reply_r = reply[0];
  g_channel.reply_w = reply[1];
  g_channel.timeout_ms = timeout_from_env();
  g_recovery_thread_running = false;
  try {
    std::thread(recovery_thread).detach();
  } catch (const std::system_error&) {
    return false;
  }
  for (int waited_ms = 0; !g_recovery_thread_running.load() && waited_ms < 2000; ++waited_ms)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  g_channel.owner = ::getpid();
  g_channel.ready = true;
  return true;
}

// ---- "did not close properly": the report and the background check

struct Reports {
  std::mutex mutex;
  std::vector<DataFileReport> list;
};
Reports& reports() {
  static Reports* r = new Reports;  // never destroyed: a check may end during exit
  return *r;
}

void set_report(const std::string& path, uint32_t code, const std::string& text) {
  Reports& r = reports();
  std::lock_guard lock(r.mutex);
  for (auto& e : r.list) {
    if (e.path == path) {
      e.status_code = code;
      e.text = text;
      return;
    }
  }
  r.list.push_back({path, code, text});
}

constexpr char kImproperClose[] =
    "A data file did not close properly the last time it was used and is being checked for problems.";

uint64_t generation_of(const std::weak_ptr<StoreState>& weak) {
  auto state = weak.lock();
  if (!state) return 0;
  std::lock_guard lock(state->mutex);
  return state->generation;
}

// Checks the committed state in the background. A commit of this process
// during the check can show the checker a half-written map (this process's
// readers and writer share the readers lock, docs/COMMIT_PROTOCOL.md), so
// problems found while the store's generation moved are checked again.
void check_in_background(const std::string& path, const std::weak_ptr<StoreState>& weak) {
  try {
    std::thread([path, weak] {
      std::string text;
      uint32_t code = kStatusAvailable;
      for (int attempt = 0; attempt < 3; ++attempt) {
        const uint64_t before = generation_of(weak);
        auto report = check::check_file(path);
        const bool moved = generation_of(weak) != before;
        if (!report) {
          if (moved) continue;
          code = kStatusFailure;
          text = "Did not close properly; the check could not read it: " + report.status().message();
          break;
        }
        if (!report->clean() && moved) continue;
        if (report->clean()) {
          text = "Did not close properly; checked: no errors (" + std::to_string(report->warnings) + " warnings)";
        } else {
          code = kStatusFailure;
          text = "Did not close properly; checked: " + std::to_string(report->errors) +
                 " errors; run `pstkit check` and `pstkit repair` on it";
        }
        break;
      }
      if (text.empty()) text = "Did not close properly; the check was inconclusive (the store changed during it)";
      set_report(path, code, text);
      log_line(path + ": " + text);
    }).detach();
  } catch (const std::system_error&) {
    set_report(path, kStatusFailure, "Did not close properly; the check could not be started");
  }
}

}  // namespace

// The last MAPIUninitialize (and DoFastShutdown) ends MAPI cleanly even if
// the client still holds store objects (mapiuninitialize.md: no MAPI call
// may follow): every store no call is updating has what is pending
// committed and its record marked closed, so that the process's end is not
// taken for a crash.
void close_open_records() {
  for_each_open_store([](const std::shared_ptr<StoreState>& state) {
    StoreRecovery* r = state->recovery.get();
    if (r == nullptr || !r->record || r->locked.load()) return;
    if (!state->mutex.try_lock()) return;
    std::lock_guard lock(state->mutex, std::adopt_lock);
    if (SUCCEEDED(state->flush(nullptr))) (void)r->record->mark_closed_if_alone();
  });
}

namespace {

// Registers close_open_records once per MAPIInitialize cycle.
void hook_uninitialize() {
  static std::mutex mutex;
  static bool hooked = false;
  std::lock_guard lock(mutex);
  if (hooked) return;
  hooked = true;
  add_uninitialize_hook([] {
    {
      std::lock_guard relock(mutex);
      hooked = false;
    }
    close_open_records();
  });
}

}  // namespace

StoreRecovery::~StoreRecovery() {
  // A crash lock lasts until the process ends, even if the store is
  // released after MAPICrashRecovery: its descriptor is then kept open.
  if (crash_fd >= 0 && !locked.load()) ::close(crash_fd);
}

HRESULT prepare_store_recovery(const std::shared_ptr<StoreState>& state, std::string* detail) {
  auto r = std::make_unique<StoreRecovery>();
  int fd = ::open(state->path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  r->crash_fd_writable = fd >= 0;
  if (fd < 0) fd = ::open(state->path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (detail) *detail = state->path + ": " + std::strerror(errno);
    return MAPI_E_NO_ACCESS;
  }
  r->crash_fd = fd;
  r->opener = ::getpid();
  if (Status s = filelock::check_crash_lock(fd, state->path); !s.is_ok()) {
    if (detail) *detail = s.message();
    return MAPI_E_BUSY;
  }
  bool improper = false;
  if (state->writable) {
    auto record = OpenRecord::open_writer(state->path, &improper);
    if (!record && record.status().code() == Code::kUnsupported) {
      // No OFD locks here: no record, no improper-close check (documented).
    } else if (!record) {
      if (detail) *detail = record.status().message();
      return MAPI_E_DISK_ERROR;
    } else {
      r->record = std::move(*record);
    }
  } else {
    improper = OpenRecord::peek_improper_close(state->path);
  }
  (void)start_recovery_thread();
  if (r->record) hook_uninitialize();
  state->recovery = std::move(r);
  if (improper) {
    set_report(state->path, kStatusAvailable, kImproperClose);
    log_line(state->path + ": " + kImproperClose);
    check_in_background(state->path, state);
  }
  return S_OK;
}

HRESULT refuse_if_crash_locked(const StoreState& state, std::string* detail) {
  const StoreRecovery* r = state.recovery.get();
  if (r == nullptr) return S_OK;
  if (r->locked.load()) {
    if (detail) *detail = state.path + ": locked by this process's crash recovery (MAPICrashRecovery)";
    return MAPI_E_BUSY;
  }
  if (Status s = filelock::check_crash_lock(r->crash_fd, state.path); !s.is_ok()) {
    if (detail) *detail = s.message();
    return MAPI_E_BUSY;
  }
  return S_OK;
}

void crash_fault_point() {
  static const long crash_at = [] {
    const char* s = std::getenv("PSTKIT_FAULT_SIGSEGV_IN_COMMIT");
    return s ? std::strtol(s, nullptr, 10) : 0L;
  }();
  static std::atomic<long> commits{0};
  if (crash_at > 0 && ++commits == crash_at) ::raise(SIGSEGV);
}

std::vector<DataFileReport> data_file_reports() {
  Reports& r = reports();
  std::lock_guard lock(r.mutex);
  return r.list;
}

// ---- the signal handlers (PstkitInstallCrashHandlers)

namespace {

void on_fatal_signal(int sig) {
  const int saved = errno;
  MAPICrashRecovery(sig == SIGTERM ? (MAPICRASH_RECOVER | MAPICRASH_SYSTEM_SHUTDOWN) : MAPICRASH_RECOVER);
  if (sig != SIGTERM && g_channel.stop_after_crash.load()) ::raise(SIGSTOP);
  // The default action: for a raised signal when the handler returns, for a
  // fault when the faulting instruction runs again.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
  errno = saved;
}

}  // namespace

}  // namespace pstkit::mapi::capi

using namespace pstkit::mapi::capi;

STDAPI_(void) MAPICrashRecovery(ULONG ulFlags) {
  // Flag rules (mapicrashrecovery.md): RECOVER or CONTINUE, not both;
  // SYSTEM_SHUTDOWN only with RECOVER; the provider byte is passed over.
  const ULONG flags = ulFlags & ~kProviderFlags;
  if (flags & ~kKnownFlags) return;
  const bool recover = (flags & MAPICRASH_RECOVER) != 0, resume = (flags & MAPICRASH_CONTINUE) != 0;
  if (recover == resume) return;
  if ((flags & MAPICRASH_SYSTEM_SHUTDOWN) && !recover) return;
  Channel& c = g_channel;
  // No store was ever opened (or a fork's child, whose thread is gone).
  if (!c.ready.load() || c.owner.load() != ::getpid()) return;
  // One request at a time (two threads crashing at once).
  const int64_t deadline = monotonic_ms() + c.timeout_ms;
  bool expected = false;
  while (!c.busy.compare_exchange_weak(expected, true)) {
    expected = false;
    if (monotonic_ms() >= deadline) return;
    ::poll(nullptr, 0, 5);
  }
  const uint32_t seq = c.seq.fetch_add(1) + 1;
  const Request req{seq, flags};
  ssize_t n;
  do {
    n = ::write(c.request_w, &req, sizeof req);
  } while (n < 0 && errno == EINTR);
  while (n == ssize_t(sizeof req)) {
    const int64_t left = deadline - monotonic_ms();
    if (left <= 0) break;
    struct pollfd p {c.reply_r, POLLIN, 0};
    const int rc = ::poll(&p, 1, int(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    Reply reply{};
    const ssize_t got = ::read(c.reply_r, &reply, sizeof reply);
    if (got == ssize_t(sizeof reply) && reply.seq == seq) break;  // older replies are passed over
    if (got <= 0 && errno != EAGAIN && errno != EINTR) break;
  }
  c.busy = false;
}

STDAPI PstkitInstallCrashHandlers(ULONG ulFlags) {
  if (ulFlags & ~PSTKIT_CRASH_HANDLERS_STOP) return MAPI_E_UNKNOWN_FLAGS;
  if (!start_recovery_thread()) return MAPI_E_CALL_FAILED;
  g_channel.stop_after_crash = (ulFlags & PSTKIT_CRASH_HANDLERS_STOP) != 0;
  // An alternate stack for this thread, so that a stack overflow's SIGSEGV
  // still runs the handler.
  static void* alt = nullptr;
  if (alt == nullptr) {
    const size_t size = 64 * 1024;
    void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem != MAP_FAILED) {
      stack_t ss{};
      ss.ss_sp = mem;
      ss.ss_size = size;
      if (::sigaltstack(&ss, nullptr) == 0) alt = mem;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  ::sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_ONSTACK;
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM}) {
    if (::sigaction(sig, &sa, nullptr) != 0) return MAPI_E_CALL_FAILED;
  }
  return S_OK;
}
