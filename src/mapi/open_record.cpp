#include "mapi/open_record.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pstkit/env.h"
#include "util/file_lock.h"

namespace pstkit::mapi::capi {
namespace {

constexpr char kMagic[] = "pstkit-open v1\n";  // 15 bytes, then the state byte
constexpr size_t kRecordSize = 16;
constexpr off_t kUsersByte = 0;
constexpr off_t kGateByte = 1;

int ofd(int fd, int cmd, short type, off_t byte) { return filelock::ofd_lock_byte(fd, cmd, type, byte); }

// The state byte ('O', 'C'), or 0 when the record is not one of ours (empty
// because creation was interrupted, damaged, another version).
char read_state(int fd) {
  char buf[kRecordSize];
  ssize_t n;
  do {
    n = ::pread(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n != ssize_t(kRecordSize) || std::memcmp(buf, kMagic, kRecordSize - 1) != 0) return 0;
  return (buf[15] == 'O' || buf[15] == 'C') ? buf[15] : 0;
}

// Writes the whole record (one 16-byte write at offset 0: within one sector)
// and makes it durable. Async-signal-safe.
bool write_state(int fd, char state) {
  char buf[kRecordSize];
  std::memcpy(buf, kMagic, kRecordSize - 1);
  buf[15] = state;
  ssize_t n;
  do {
    n = ::pwrite(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n != ssize_t(kRecordSize)) return false;
  return ::fdatasync(fd) == 0;
}

bool sync_directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

bool no_locks_here(int err) { return err == ENOLCK || err == EINVAL || err == EOPNOTSUPP; }

// Takes the gate, polling for at most timeout_ms (holders keep it for a
// pread/pwrite/fdatasync only).
bool take_gate(int fd, int timeout_ms) {
  for (int waited = 0;; waited += 2) {
    if (ofd(fd, F_OFD_SETLK, F_WRLCK, kGateByte) == 0) return true;
    if (errno != EAGAIN && errno != EACCES) return false;  // errno says why
    if (waited >= timeout_ms) {
      errno = EAGAIN;
      return false;
    }
    ::poll(nullptr, 0, 2);
  }
}

}  // namespace

std::string OpenRecord::path_for(const std::string& store_path) { return store_path + ".pstkit-open"; }

Result<std::unique_ptr<OpenRecord>> OpenRecord::open_writer(const std::string& store_path, bool* improper_close,
                                                            int gate_timeout_ms) {
  *improper_close = false;
  const std::string path = path_for(store_path);
  bool created = false;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    created = fd >= 0;
  }
  if (fd < 0) return Status::io_error(path + ": cannot open the open-by-MAPI record: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::io_error(path + ": the open-by-MAPI record is not a regular file");
  }
  if (created && !sync_directory_of(path)) {
    ::close(fd);
    return Status::io_error(path + ": cannot sync the directory of the open-by-MAPI record");
  }
  if (!take_gate(fd, gate_timeout_ms)) {
    const int err = errno;
    if (no_locks_here(err)) {
      // A file system without OFD locks: nobody can know they are alone, so
      // the record is neither checked nor ever marked closed.
      ::close(fd);
      return Status::unsupported(path + ": the file system has no OFD locks");
    }
    // Someone holds the gate past the bound (stopped in the debugger?): join
    // without the check, and never claim a clean close.
    if (ofd(fd, F_OFD_SETLK, F_RDLCK, kUsersByte) != 0 && errno != EAGAIN && errno != EACCES) {
      ::close(fd);
      return Status::io_error(path + ": lock: " + std::strerror(errno));
    }
    return std::unique_ptr<OpenRecord>(new OpenRecord(fd, path, false));
  }
  Status error;
  if (ofd(fd, F_OFD_SETLK, F_WRLCK, kUsersByte) == 0) {
    // Alone: nobody alive uses the store.
    const char state = read_state(fd);
    *improper_close = state != 'C' && !created;
    if (state != 'O' && !write_state(fd, 'O')) {
      error = Status::io_error(path + ": cannot write the open-by-MAPI record: " + std::strerror(errno));
    }
  }
  // Shared from here (an atomic conversion when exclusive).
  if (error.is_ok() && ofd(fd, F_OFD_SETLK, F_RDLCK, kUsersByte) != 0) {
    error = Status::io_error(path + ": lock: " + std::strerror(errno));
  }
  (void)ofd(fd, F_OFD_SETLK, F_UNLCK, kGateByte);
  if (!error.is_ok()) {
    ::close(fd);
    return error;
  }
  return std::unique_ptr<OpenRecord>(new OpenRecord(fd, path, true));
}

bool OpenRecord::peek_improper_close(const std::string& store_path) {
  const int fd = ::open(path_for(store_path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  const bool improper = read_state(fd) == 'O' && ofd(fd, F_OFD_GETLK, F_WRLCK, kUsersByte) == 0;
  ::close(fd);
  return improper;
}

OpenRecord::~OpenRecord() {
  if (may_mark_closed_ && !marked_closed_ && take_gate(fd_, 2000)) {
    // The last user marks it closed (the upgrade fails while others hold it).
    if (ofd(fd_, F_OFD_SETLK, F_WRLCK, kUsersByte) == 0) (void)write_state(fd_, 'C');
  }
  ::close(fd_);  // drops every lock of the descriptor
}

bool OpenRecord::mark_closed_if_alone() {
  if (!may_mark_closed_) return false;
  if (marked_closed_) return true;
  // No gate here: it would need a bounded wait; an opener that holds it sees
  // the users lock held (by us) and so never reads the state we write.
  if (ofd(fd_, F_OFD_SETLK, F_WRLCK, kUsersByte) != 0) return false;
  if (!write_state(fd_, 'C')) {
    (void)ofd(fd_, F_OFD_SETLK, F_RDLCK, kUsersByte);
    return false;
  }
  marked_closed_ = true;
  return true;
}

void OpenRecord::mark_open_again() {
  if (!marked_closed_) return;
  (void)write_state(fd_, 'O');
  (void)ofd(fd_, F_OFD_SETLK, F_RDLCK, kUsersByte);
  marked_closed_ = false;
}

}  // namespace pstkit::mapi::capi
