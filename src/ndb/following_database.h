// A read-only database of a file that other processes write, which does not
// keep their commits waiting: it holds the readers lock only while it finds
// the committed state (at open and when it follows a commit), and reads the
// state it loaded meanwhile, relying, like libpff, on writers leaving freed
// space unused for a while (WriterOptions::freed_space_quiet_time,
// docs/COMMIT_PROTOCOL.md). For read-only MAPI stores (docs/MAPI.md
// "Shared stores"). Internal to src/.
#pragma once

#include <memory>
#include <string>

#include "pstkit/ndb.h"

namespace pstkit::ndb {

class FollowingDatabase : public Database {
 public:
  // Loads the committed state again if the file's header (or size) changed
  // since it was loaded: another process committed. Returns whether it did.
  // Nodes opened before read the new state (blocks by BID: one that a
  // commit freed is not found). Errors as Database::open (Code::kBusy for a
  // commit in progress past the wait, or a crash-locked file); the loaded
  // state is then kept. ask_pending: first ask a process holding saved
  // changes pending to commit them (filelock::wait_for_pending_batch).
  virtual Result<bool> follow_commits(bool ask_pending) = 0;
};

Result<std::unique_ptr<FollowingDatabase>> open_following(const std::string& path, const Options& options = {});

}  // namespace pstkit::ndb
