// The file system as the writer sees it. Every byte pstkit writes to a user's
// file goes through WritableFile, so tests can inject crashes, torn writes
// and full disks at any write or sync (see tests/fault_env.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit {

// pstkit's advisory locks on a data file (docs/COMMIT_PROTOCOL.md).
enum class FileLock {
  kWriter,   // one writer at a time, from open to close
  kReaders,  // exclusive: keeps other processes' pstkit readers out during a commit
};
enum class LockMode {
  kUnlock,
  kExclusive,
  // The writer lock again after releasing it between batches: writers
  // already waiting take it first.
  kExclusiveAfterWaiters,
};
// How long a lock may be waited for, and who hears (once) that a wait began
// and for whom.
struct LockWait {
  std::chrono::milliseconds timeout{60000};
  std::function<void(const std::string&)> notice;
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly len bytes; a short read is an error.
  virtual Status read(uint64_t offset, size_t len, uint8_t* out) const = 0;
  virtual Status write(uint64_t offset, ByteView data) = 0;
  // Makes every completed write durable (fdatasync).
  virtual Status sync() = 0;
  virtual Status truncate(uint64_t size) = 0;
  // Takes or releases one of pstkit's locks on this file, waiting up to
  // wait.timeout (an error then says for whom it waited). In-memory files
  // have nothing to lock.
  virtual Status lock(FileLock which, LockMode mode, const LockWait& wait) {
    (void)which;
    (void)mode;
    (void)wait;
    return Status::ok();
  }
  // Whether the path this file was opened by now names another file (or
  // none): another process renamed a new file over it since, as `pstkit
  // repair` does. In-memory files are never replaced.
  virtual Result<bool> replaced_at_path() const { return false; }
};

enum class OpenMode {
  kExisting,      // read-write, must exist
  kCreateNew,     // create, fail if it exists
  kCreateOrTruncate,
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX implementation.
  static Env* posix();

  virtual Result<std::unique_ptr<WritableFile>> open(const std::string& path, OpenMode mode) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Atomically replaces to with from (rename(2)).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Makes the directory entry of path durable (after create or remove).
  virtual Status sync_dir_of(const std::string& path) = 0;
};

// open(2) of a file pstkit reads or writes: flags (O_RDONLY, O_RDWR,
// O_CREAT...) plus O_CLOEXEC and O_NONBLOCK, so that a FIFO or a device
// cannot block the open, and only a regular file is accepted ("PATH: not a
// regular file but a FIFO"). O_NONBLOCK is cleared again on the descriptor.
Result<int> open_regular_file(const std::string& path, int flags, unsigned mode = 0644);

}  // namespace pstkit
