// pstkit's advisory locks on a data file (docs/COMMIT_PROTOCOL.md).
//
// Open-file-description fcntl locks (F_OFD_SETLK), which the kernel drops
// when the holding process dies, on single bytes far past any real end of
// file, so they never touch data and never conflict with Outlook's own
// locking of the file's bytes:
//
//   kWriterByte         held exclusive by the one writer, from its open to
//                       its close (released between an import's batches);
//   kReadersByte        held shared by every pstkit reader for its lifetime,
//                       exclusive by a writer around the in-place part of a
//                       commit;
//   kCommitPendingByte  held exclusive by a writer waiting to commit: new
//                       readers wait for it, so a stream of readers cannot
//                       starve a commit;
//   kWriterWaitingByte  held shared by writers waiting for kWriterByte: a
//                       writer between batches lets them take their turn;
//   kCrashLockByte      held by a process whose MAPICrashRecovery flushed the
//                       file (docs/MAPI.md "Crash recovery"): every opener
//                       checks it first and is refused at once (kBusy), no
//                       wait, until that process ends or lifts it;
//   kBatchPendingByte   held exclusive by a writer that holds saved but
//                       uncommitted changes it commits when asked (a MAPI
//                       write-behind batch, docs/COMMIT_PROTOCOL.md
//                       "Saved changes pending");
//   kFlushRequestByte   held shared by readers asking that writer to commit
//                       them now (wait_for_pending_batch).
//
// Waits are bounded and, once, say whom they wait for: OFD locks show pid -1
// in /proc/locks, so the holder is found by its descriptor in
// /proc/PID/fdinfo.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "pstkit/env.h"

namespace pstkit::filelock {

inline constexpr off_t kWriterByte = off_t{1} << 62;
inline constexpr off_t kReadersByte = kWriterByte + 1;
inline constexpr off_t kCommitPendingByte = kWriterByte + 2;
inline constexpr off_t kWriterWaitingByte = kWriterByte + 3;
inline constexpr off_t kCrashLockByte = kWriterByte + 4;
inline constexpr off_t kBatchPendingByte = kWriterByte + 5;
inline constexpr off_t kFlushRequestByte = kWriterByte + 6;

// Status::busy naming the holder ("FILE: locked by crash recovery of pid N
// (...) (MAPICrashRecovery) until it ends") if another descriptor holds the
// crash lock of the file fd refers to; ok otherwise. lock_writer and
// hold_shared call it first; the MAPI runtime calls it before each update.
Status check_crash_lock(int fd, const std::string& path);
// The same by path (ok when the file cannot be opened: the caller's own open
// reports that).
Status check_crash_lock(const std::string& path);
// Takes (true) or drops the crash lock through fd, exclusive when fd is open
// for writing, else shared. One fcntl: async-signal-safe.
bool set_crash_lock(int fd, bool writable);
void clear_crash_lock(int fd);

// One F_OFD_SETLK / F_OFD_GETLK call (cmd) of lock type `type` on one
// byte, retried on EINTR; async-signal-safe. 0 done (GETLK: nobody else
// holds a conflicting lock), 1 (GETLK) another descriptor holds one, -1
// refused or failed (errno set).
int ofd_lock_byte(int fd, int cmd, short type, off_t byte);

// The timeout from $PSTKIT_LOCK_TIMEOUT (seconds), else 60 s.
std::chrono::milliseconds default_timeout();

// Takes the writer lock on fd (opened for writing), waiting up to
// wait.timeout. With let_waiters_first, writers already waiting get the
// lock first (a writer between batches).
Status lock_writer(int fd, const std::string& path, const LockWait& wait, bool let_waiters_first);
void unlock_writer(int fd);
// Does a live writer (of any process, or another descriptor of this one)
// hold the writer lock? Then a journal beside the file belongs to a commit
// in progress, not to an interrupted one.
bool writer_active(const std::string& path);

// The readers lock of a file is taken through one descriptor per file and
// process, shared by the process's readers and its writer: an OFD lock never
// conflicts with another lock of the same descriptor, so a writer does not
// wait for readers in its own process (which must not read while it
// commits), only for other processes'.
class ReaderHold {
 public:
  virtual ~ReaderHold() = default;
};
// Holds the readers lock shared until the returned object is destroyed.
Result<std::unique_ptr<ReaderHold>> hold_shared(const std::string& path, const LockWait& wait);
// Keeps other processes' readers out (the in-place part of a commit);
// let_readers_in undoes it.
Status keep_readers_out(const std::string& path, const LockWait& wait);
void let_readers_in(const std::string& path);

// ---- saved changes pending (docs/COMMIT_PROTOCOL.md "Saved changes pending")
//
// A writer that keeps saved changes uncommitted for a while (a MAPI
// write-behind batch) holds kBatchPendingByte through a PendingBatch for as
// long as it does, and commits at once when flush_requested() says another
// process asks for it. Destroying the object (after the commit, or a
// rollback) releases the byte; so does the holder's death.
class PendingBatch {
 public:
  // Takes the byte (the caller holds the writer lock, so nobody else can).
  static Result<std::unique_ptr<PendingBatch>> hold(const std::string& path);
  ~PendingBatch();
  PendingBatch(const PendingBatch&) = delete;
  PendingBatch& operator=(const PendingBatch&) = delete;
  // Does another process wait for this batch (a shared lock on
  // kFlushRequestByte)? One fcntl, no allocation.
  bool flush_requested() const;
  // The descriptor holding the byte, for the holder to watch the file with
  // inotify (the requester's doorbell, request_flush).
  int descriptor() const { return fd_; }

 private:
  PendingBatch(int fd, dev_t dev, ino_t ino) : fd_(fd), dev_(dev), ino_(ino) {}
  int fd_;
  dev_t dev_;
  ino_t ino_;
};

// Asks the holder of a pending batch of the file fd refers to for it: takes
// kFlushRequestByte shared through fd, then opens the file once more — the
// doorbell: the holder's flusher sleeps in inotify for IN_OPEN on the files
// it holds batches of, wakes, and finds the request with one fcntl (so a
// lone holder, whom nobody asks, never wakes for requests). False when the
// file system has no OFD locks. The request lasts until fd is closed or
// the byte unlocked.
bool request_flush(int fd, const std::string& path);

// Called by readers before they read a file's state (ndb::open_committed_file,
// a MAPI store's catch-up at the start of each call): if another process
// holds saved changes of the file pending, asks it to commit them (a shared
// lock on kFlushRequestByte) and waits until it has — the byte released, or
// the file's header rewritten by its commit. Without a pending batch it
// costs one open and one fcntl. A batch pending in this process is not waited
// for (its own readers read the committed state, as before; waiting would
// stall a thread the flusher may need). The wait is bounded by wait.timeout
// (kBusy, naming the holder), and ends at once, kBusy, when the file is or
// becomes crash-locked: a process under MAPICrashRecovery never commits again.
Status wait_for_pending_batch(const std::string& path, const LockWait& wait);

// Who holds a lock of this kind on the file fd refers to: "pid 123
// (pstkit import a.pst ...)", or "another process".
std::string describe_holders(int fd, off_t byte, bool exclusive);

}  // namespace pstkit::filelock
