// The "open by MAPI" record beside a PST (issue 10 part 2, docs/MAPI.md
// "Did not close properly"): FILE.pstkit-open, a 16-byte file that says
// whether the MAPI processes that wrote FILE all closed it. Internal to
// src/mapi.
//
//   bytes 0..14  "pstkit-open v1\n"
//   byte  15     'O' open by a MAPI writer, 'C' closed consistently
//
// Every writable MAPI open holds a shared OFD lock on byte 0 ("users") for
// its lifetime; opens and closes take byte 1 ("gate") exclusive for a
// moment, so that exactly one of them sees itself alone. The first user
// marks the record 'O' (pwrite + fdatasync; the directory is synced when
// the record is created), the last one to close — or a successful
// MAPICrashRecovery — marks it 'C'. An open that finds 'O' (or a record it
// cannot read) while nobody holds the users lock knows that the last users
// ended without closing: the improper close. The record is never the PST:
// nothing outside the commit path writes to the store file.
#pragma once

#include <memory>
#include <string>

#include "pstkit/status.h"

namespace pstkit::mapi::capi {

class OpenRecord {
 public:
  // The record's path for a store file.
  static std::string path_for(const std::string& store_path);

  // A writable open: creates the record if needed, joins the users, marks
  // it open. *improper_close: the record said 'O' (or was unreadable) and
  // no live process held it. Fails (io_error naming the record) when the
  // record cannot be created or written (a read-only directory, a full
  // disk); a gate held longer than `gate_timeout_ms` is not waited for
  // further: the open joins without the check and never marks it closed.
  static Result<std::unique_ptr<OpenRecord>> open_writer(const std::string& store_path, bool* improper_close,
                                                         int gate_timeout_ms = 2000);
  // A read-only open never writes: true when the record says 'O' and no
  // live process holds the users lock (the writers died without closing).
  static bool peek_improper_close(const std::string& store_path);

  // Leaves the users; the last one marks the record closed ('C').
  ~OpenRecord();
  OpenRecord(const OpenRecord&) = delete;
  OpenRecord& operator=(const OpenRecord&) = delete;

  // MAPICrashRecovery after a consistent flush: marks the record closed if
  // no other process uses the store (keeping the users lock exclusive until
  // this process ends). Only fcntl, pwrite and fdatasync: async-signal-safe.
  bool mark_closed_if_alone();
  // MAPICRASH_CONTINUE: undoes mark_closed_if_alone (open again, shared).
  void mark_open_again();

 private:
  OpenRecord(int fd, std::string path, bool may_mark_closed)
      : fd_(fd), path_(std::move(path)), may_mark_closed_(may_mark_closed) {}
  int fd_;
  std::string path_;
  bool may_mark_closed_;
  bool marked_closed_ = false;
};

}  // namespace pstkit::mapi::capi
