#include "util/file_lock.h"

#include "pstkit/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace pstkit::filelock {
namespace {

using Clock = std::chrono::steady_clock;

int ofd(int fd, int cmd, short type, off_t byte) { return ofd_lock_byte(fd, cmd, type, byte); }

bool try_lock(int fd, short type, off_t byte, Status* error) {
  if (ofd(fd, F_OFD_SETLK, type, byte) == 0) return true;
  if (errno == EAGAIN || errno == EACCES) return false;
  // A file system without OFD locks: go on without them, as before them.
  if (errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP) return true;
  *error = Status::io_error(std::string("lock: ") + std::strerror(errno));
  return false;
}

// Would a lock of this type on byte conflict with another descriptor's?
bool conflicts(int fd, short type, off_t byte) { return ofd(fd, F_OFD_GETLK, type, byte) == 1; }

// The whole of a small /proc file, or "" if it cannot be read: the process
// may end at any moment, and a read then fails with ESRCH (which
// std::ifstream turns into an exception from its iterators).
std::string read_proc_file(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  while (out.size() < (1u << 16)) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", double(ms.count()) / 1000.0);
  return buf;
}

// Polls until the lock is taken or the wait times out. Polling (a few ms)
// keeps the wait bounded without signals; `whom` names what is waited for.
Status wait_for(int fd, short type, off_t byte, const std::string& path, const LockWait& wait, const char* whom,
                const std::function<bool()>& may_try = {}) {
  Status error;
  if ((!may_try || may_try()) && try_lock(fd, type, byte, &error)) return Status::ok();
  if (!error.is_ok()) return error;
  const std::string holders = describe_holders(fd, byte, type == F_RDLCK);
  if (wait.notice) {
    wait.notice(path + ": waiting up to " + seconds_text(wait.timeout) + " for " + whom + ": " + holders);
  }
  const auto deadline = Clock::now() + wait.timeout;
  auto pause = std::chrono::milliseconds(1);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
    if ((!may_try || may_try()) && try_lock(fd, type, byte, &error)) return Status::ok();
    if (!error.is_ok()) return error;
  }
  // kBusy: the wait ran out (MAPI_E_BUSY for MAPI callers, exit 1 for the CLI).
  return Status::busy(path + ": timed out after " + seconds_text(wait.timeout) + " waiting for " + whom + " (" +
                      holders + "); the file is unchanged");
}

// ---- the process-wide readers-lock descriptors

struct Shared {
  int fd = -1;
  int readers = 0;
  bool exclusive = false;
};

std::mutex registry_mu;
std::map<std::pair<dev_t, ino_t>, Shared> registry;

Result<std::pair<dev_t, ino_t>> key_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::io_error(path + ": " + std::strerror(errno));
  return std::make_pair(st.st_dev, st.st_ino);
}

Result<Shared*> entry(const std::string& path) {
  PSTKIT_ASSIGN_OR_RETURN(auto key, key_of(path));
  Shared& s = registry[key];
  if (s.fd < 0) {
    // Read-write when allowed, so that this process's writer can take the
    // lock exclusive through the same descriptor.
    // open_regular_file: a FIFO, socket or device is refused, never opened.
    auto fd = open_regular_file(path, O_RDWR);
    if (!fd) fd = open_regular_file(path, O_RDONLY);
    if (!fd) {
      registry.erase(key);
      return fd.status();
    }
    s.fd = *fd;
  }
  return &s;
}

void release_if_idle(const std::string& path) {
  auto key = key_of(path);
  if (!key) return;
  auto it = registry.find(*key);
  if (it == registry.end() || it->second.readers > 0 || it->second.exclusive) return;
  ::close(it->second.fd);  // drops every lock of the descriptor
  registry.erase(it);
}

class Hold final : public ReaderHold {
 public:
  explicit Hold(std::string path) : path_(std::move(path)) {}
  ~Hold() override {
    std::lock_guard<std::mutex> lock(registry_mu);
    auto key = key_of(path_);
    if (!key) return;
    auto it = registry.find(*key);
    if (it == registry.end()) return;
    if (--it->second.readers == 0 && !it->second.exclusive) {
      ::close(it->second.fd);
      registry.erase(it);
    }
  }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;

 private:
  std::string path_;
};

// ---- the batches this process holds pending, by file: its own readers do
// not wait for them (wait_for_pending_batch).

std::mutex pending_mu;
std::map<std::pair<dev_t, ino_t>, int> pending_here;

bool pending_in_this_process(dev_t dev, ino_t ino) {
  std::lock_guard<std::mutex> lock(pending_mu);
  return pending_here.count({dev, ino}) != 0;
}

// The first 4 KiB of the file (its header, MS-PST 2.2.2.6), which every
// commit rewrites; empty if unreadable.
std::string head_bytes(int fd) {
  std::string head(4096, '\0');
  const ssize_t n = ::pread(fd, head.data(), head.size(), 0);
  head.resize(n > 0 ? size_t(n) : 0);
  return head;
}

}  // namespace

Result<std::unique_ptr<PendingBatch>> PendingBatch::hold(const std::string& path) {
  PSTKIT_ASSIGN_OR_RETURN(const int fd, open_regular_file(path, O_RDWR));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::io_error(path + ": " + std::strerror(e));
  }
  // Nobody else can hold the byte: the caller holds the writer lock. Without
  // OFD locks (ENOLCK, EINVAL) readers simply see the batch at its commit.
  if (ofd(fd, F_OFD_SETLK, F_WRLCK, kBatchPendingByte) != 0 && errno != ENOLCK && errno != EINVAL &&
      errno != EOPNOTSUPP) {
    const int e = errno;
    ::close(fd);
    return Status::io_error(path + ": pending-batch lock: " + std::strerror(e));
  }
  {
    std::lock_guard<std::mutex> lock(pending_mu);
    ++pending_here[{st.st_dev, st.st_ino}];
  }
  return std::unique_ptr<PendingBatch>(new PendingBatch(fd, st.st_dev, st.st_ino));
}

PendingBatch::~PendingBatch() {
  ::close(fd_);  // drops the lock
  std::lock_guard<std::mutex> lock(pending_mu);
  auto it = pending_here.find({dev_, ino_});
  if (it != pending_here.end() && --it->second <= 0) pending_here.erase(it);
}

bool PendingBatch::flush_requested() const { return ofd(fd_, F_OFD_GETLK, F_WRLCK, kFlushRequestByte) == 1; }

bool request_flush(int fd, const std::string& path) {
  if (ofd(fd, F_OFD_SETLK, F_RDLCK, kFlushRequestByte) != 0) return false;
  // After the lock, so that the holder's look, which the open's IN_OPEN
  // event causes, finds it. Closing this second descriptor keeps the OFD
  // lock, which belongs to fd's open file description.
  const int bell = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (bell >= 0) ::close(bell);
  return true;
}

Status wait_for_pending_batch(const std::string& path, const LockWait& wait) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::ok();  // the caller's own open reports it
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }  // drops the request too
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Status::ok();
  // The common case: one fcntl, nobody holds a batch.
  if (!conflicts(fd, F_RDLCK, kBatchPendingByte)) return Status::ok();
  if (pending_in_this_process(st.st_dev, st.st_ino)) return Status::ok();
  {
    // This process already reads the file under the readers lock (a Store
    // it keeps open): the holder's commit would wait for that lock, and this
    // wait for the commit. Read the committed state, as before; no request
    // either (it would start a commit bound to time out, losing the batch).
    std::lock_guard<std::mutex> lock(registry_mu);
    auto it = registry.find({st.st_dev, st.st_ino});
    if (it != registry.end() && it->second.readers > 0) return Status::ok();
  }
  PSTKIT_RETURN_IF_ERROR(check_crash_lock(fd, path));
  const std::string head = head_bytes(fd);
  // The request: the holder's flusher wakes at the doorbell and commits.
  if (!request_flush(fd, path)) return Status::ok();  // no OFD locks here
  const auto start = Clock::now();
  const auto deadline = start + wait.timeout;
  bool told = false;
  while (true) {
    // Done when the byte is free (committed, or rolled back) or the header
    // changed: the holder committed, and what else holds the byte now is a
    // batch saved after this wait began.
    if (!conflicts(fd, F_RDLCK, kBatchPendingByte) || head_bytes(fd) != head) return Status::ok();
    // A process under MAPICrashRecovery never commits again: no wait.
    PSTKIT_RETURN_IF_ERROR(check_crash_lock(fd, path));
    const auto now = Clock::now();
    if (now >= deadline) {
      return Status::busy(path + ": timed out after " + seconds_text(wait.timeout) +
                          " waiting for another process to commit its saved changes (" +
                          describe_holders(fd, kBatchPendingByte, true) + ")");
    }
    // A commit takes milliseconds; say whom this waits for only when it
    // takes long (a stopped or very busy holder).
    if (!told && wait.notice && now - start >= std::chrono::seconds(1)) {
      told = true;
      wait.notice(path + ": waiting up to " + seconds_text(wait.timeout) + " for " +
                  describe_holders(fd, kBatchPendingByte, true) + " to commit its saved changes");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int ofd_lock_byte(int fd, int cmd, short type, off_t byte) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  fl.l_pid = 0;  // required by OFD locks
  while (true) {
    const int rc = ::fcntl(fd, cmd, &fl);
    if (rc == 0 && cmd == F_OFD_GETLK) return fl.l_type == F_UNLCK ? 0 : 1;
    if (rc == 0 || errno != EINTR) return rc == 0 ? 0 : -1;
  }
}

Status check_crash_lock(int fd, const std::string& path) {
  if (!conflicts(fd, F_WRLCK, kCrashLockByte)) return Status::ok();
  return Status::busy(path + ": locked by crash recovery of " + describe_holders(fd, kCrashLockByte, false) +
                      " (MAPICrashRecovery) until that process ends");
}

Status check_crash_lock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::ok();
  Status s = check_crash_lock(fd, path);
  ::close(fd);
  return s;
}

bool set_crash_lock(int fd, bool writable) {
  // ofd() only: no allocation, no lock of this process (a signal handler's
  // recovery may run it).
  return ofd(fd, F_OFD_SETLK, writable ? F_WRLCK : F_RDLCK, kCrashLockByte) == 0;
}

void clear_crash_lock(int fd) { (void)ofd(fd, F_OFD_SETLK, F_UNLCK, kCrashLockByte); }

std::chrono::milliseconds default_timeout() {
  if (const char* s = std::getenv("PSTKIT_LOCK_TIMEOUT")) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end != s && v >= 0 && v < 1e6) return std::chrono::milliseconds(int64_t(v * 1000));
  }
  return std::chrono::seconds(60);
}

Status lock_writer(int fd, const std::string& path, const LockWait& wait, bool let_waiters_first) {
  PSTKIT_RETURN_IF_ERROR(check_crash_lock(fd, path));
  if (let_waiters_first) {
    // Between batches: if other writers are waiting, let one of them take
    // the lock before this one takes it again (bounded, in case a waiter
    // gave up).
    const auto until = Clock::now() + std::chrono::seconds(2);
    while (conflicts(fd, F_WRLCK, kWriterWaitingByte) && !conflicts(fd, F_WRLCK, kWriterByte) &&
           Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  Status error;
  if (try_lock(fd, F_WRLCK, kWriterByte, &error)) return Status::ok();
  if (!error.is_ok()) return error;
  // Say that this writer waits, then wait. A holder with a batch of saved
  // changes pending (kBatchPendingByte) takes the wait as a request for
  // them too, commits and lets the lock go at once, not at its deadline.
  (void)ofd(fd, F_OFD_SETLK, F_RDLCK, kWriterWaitingByte);
  (void)request_flush(fd, path);
  Status s = wait_for(fd, F_WRLCK, kWriterByte, path, wait, "another writer");
  (void)ofd(fd, F_OFD_SETLK, F_UNLCK, kFlushRequestByte);
  (void)ofd(fd, F_OFD_SETLK, F_UNLCK, kWriterWaitingByte);
  return s;
}

void unlock_writer(int fd) { (void)ofd(fd, F_OFD_SETLK, F_UNLCK, kWriterByte); }

bool writer_active(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  const bool held = conflicts(fd, F_RDLCK, kWriterByte);
  ::close(fd);
  return held;
}

Result<std::unique_ptr<ReaderHold>> hold_shared(const std::string& path, const LockWait& wait) {
  std::unique_lock<std::mutex> lock(registry_mu);
  PSTKIT_ASSIGN_OR_RETURN(Shared * s, entry(path));
  if (Status crashed = check_crash_lock(s->fd, path); !crashed.is_ok()) {
    release_if_idle(path);
    return crashed;
  }
  if (s->readers == 0 && !s->exclusive) {
    const int fd = s->fd;
    lock.unlock();  // the wait may be long; other threads' holds go on
    // A writer waiting to commit goes first.
    Status st = wait_for(fd, F_RDLCK, kReadersByte, path, wait, "a commit to finish",
                         [&] { return !conflicts(fd, F_RDLCK, kCommitPendingByte); });
    lock.lock();
    if (!st.is_ok()) {
      release_if_idle(path);
      return st;
    }
  }
  ++s->readers;
  return std::unique_ptr<ReaderHold>(std::make_unique<Hold>(path));
}

Status keep_readers_out(const std::string& path, const LockWait& wait) {
  std::unique_lock<std::mutex> lock(registry_mu);
  PSTKIT_ASSIGN_OR_RETURN(Shared * s, entry(path));
  const int fd = s->fd;
  s->exclusive = true;
  Status error;
  if (!try_lock(fd, F_WRLCK, kCommitPendingByte, &error)) {
    // Only a reader's momentary test, or an error.
    if (!error.is_ok()) {
      s->exclusive = false;
      release_if_idle(path);
      return error;
    }
  }
  lock.unlock();
  Status st = wait_for(fd, F_WRLCK, kReadersByte, path, wait, "readers to finish");
  lock.lock();
  if (!st.is_ok()) {
    (void)ofd(fd, F_OFD_SETLK, F_UNLCK, kCommitPendingByte);
    s->exclusive = false;
    if (s->readers > 0) {
      (void)ofd(fd, F_OFD_SETLK, F_RDLCK, kReadersByte);
    } else {
      (void)ofd(fd, F_OFD_SETLK, F_UNLCK, kReadersByte);
    }
    release_if_idle(path);
  }
  return st;
}

void let_readers_in(const std::string& path) {
  std::lock_guard<std::mutex> lock(registry_mu);
  auto key = key_of(path);
  if (!key) return;
  auto it = registry.find(*key);
  if (it == registry.end()) return;
  Shared& s = it->second;
  s.exclusive = false;
  // This process's readers keep the lock, shared again.
  (void)ofd(s.fd, F_OFD_SETLK, s.readers > 0 ? F_RDLCK : F_UNLCK, kReadersByte);
  (void)ofd(s.fd, F_OFD_SETLK, F_UNLCK, kCommitPendingByte);
  release_if_idle(path);
}

std::string describe_holders(int fd, off_t byte, bool exclusive_only) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "another process";
  // As /proc/locks and fdinfo print it: "... OFDLCK ADVISORY WRITE -1 08:01:1234 START END".
  char id[96];
  std::snprintf(id, sizeof id, "%02x:%02x:%llu %lld ", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino), static_cast<long long>(byte));
  std::vector<std::string> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return "another process";
  while (dirent* p = ::readdir(proc)) {
    const char* name = p->d_name;
    if (*name < '1' || *name > '9') continue;
    const std::string fdinfo = std::string("/proc/") + name + "/fdinfo";
    DIR* fds = ::opendir(fdinfo.c_str());
    if (!fds) continue;
    bool holds = false;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      std::istringstream in(read_proc_file(fdinfo + "/" + f->d_name));
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("lock:", 0) != 0 || line.find("OFDLCK") == std::string::npos) continue;
        if (line.find(id) == std::string::npos) continue;
        if (exclusive_only && line.find("WRITE") == std::string::npos) continue;
        holds = true;
      }
      if (holds) break;
    }
    ::closedir(fds);
    if (!holds) continue;
    std::string args = read_proc_file(std::string("/proc/") + name + "/cmdline");
    while (!args.empty() && args.back() == '\0') args.pop_back();
    for (char& c : args) {
      if (c == '\0') c = ' ';
    }
    if (args.size() > 120) args = args.substr(0, 117) + "...";
    found.push_back("pid " + std::string(name) + (args.empty() ? "" : " (" + args + ")"));
    if (found.size() == 3) break;
  }
  ::closedir(proc);
  if (found.empty()) return "another process";
  std::string out;
  for (const auto& f : found) out += (out.empty() ? "" : ", ") + f;
  return out;
}

}  // namespace pstkit::filelock
