// The rollback journal that makes commits atomic (docs/COMMIT_PROTOCOL.md).
//
// Before a commit overwrites anything live in place (the header, AMap and
// DList pages), it saves the original bytes and the file's size to
// FILE-journal and syncs it. If the commit is interrupted, restoring those
// bytes and that size brings back the last committed state exactly; new
// blocks and pages were only ever written to space that state did not use.
#pragma once

#include <string>
#include <vector>

#include "pstkit/env.h"

namespace pstkit::ndb {

struct JournalRecord {
  uint64_t offset = 0;
  Bytes original;
};

std::string journal_path(const std::string& data_path);

// Writes and syncs a complete journal (and its directory entry).
Status write_journal(Env* env, const std::string& data_path, uint64_t original_size,
                     const std::vector<JournalRecord>& records);

enum class JournalState { kNone, kIncomplete, kRolledBack };

// Restores the data file from a complete journal and removes the journal;
// removes an incomplete one (its commit never wrote in place).
Result<JournalState> recover_from_journal(Env* env, const std::string& data_path, WritableFile* data);

// Removes the journal: the commit point.
Status remove_journal(Env* env, const std::string& data_path);

}  // namespace pstkit::ndb
