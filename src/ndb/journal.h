// The undo/redo journal that makes commits atomic (docs/COMMIT_PROTOCOL.md).
//
// Before a commit overwrites anything live in place (the header, AMap and
// DList pages), it records, for each such region, the bytes there now (old)
// and the bytes about to be written (new), plus the file's old and new
// sizes, in FILE-journal. The journal is written under a temporary name,
// synced and renamed into place, so a FILE-journal is either a whole pstkit
// journal or not pstkit's at all.
//
// The commit point is the header write: once the file's header equals the
// journal's new header, the commit has happened (every reader, pstkit or
// not, sees the new state), and recovery completes it; before that, recovery
// undoes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ndb/byte_source.h"
#include "pstkit/env.h"
#include "pstkit/ndb_writer.h"

namespace pstkit::ndb {

struct JournalRecord {
  uint64_t offset = 0;
  Bytes old_bytes;
  Bytes new_bytes;  // same length as old_bytes
};

struct Journal {
  uint64_t old_size = 0;
  uint64_t new_size = 0;
  // records[0] is the header (offset 0).
  std::vector<JournalRecord> records;
};

std::string journal_path(const std::string& data_path);
// Where a journal is written before it is renamed to journal_path.
std::string journal_temp_path(const std::string& data_path);

Bytes serialize_journal(const Journal& j);
// Parses a whole journal file. Any defect (magic, size, CRC, end marker,
// records) means the file is not a complete pstkit journal.
Result<Journal> parse_journal(ByteView bytes);

// Writes and syncs the journal under the temporary name, renames it to
// FILE-journal and syncs the directory.
Status write_journal(Env* env, const std::string& data_path, const Journal& j);

// Removes FILE-journal and syncs the directory: the end of a commit.
Status remove_journal(Env* env, const std::string& data_path);

// Whether the commit a journal describes happened: the file's header bytes
// are the journal's new header.
bool journal_committed(const Journal& j, ByteView file_header);

enum class JournalState {
  kNone,         // no FILE-journal
  kRolledBack,   // the header had not landed: the old state was restored
  kRolledForward,  // the header had landed: the commit was completed
};

// Writer-side recovery (the caller holds the writer lock and keeps readers
// out): completes or undoes the commit FILE-journal describes, then removes
// the journal; removes a leftover temporary journal. A FILE-journal that is
// not a pstkit journal is an error and is left alone.
Result<JournalState> recover_from_journal(Env* env, const std::string& data_path, WritableFile* data);

// A read-only view of the committed state of a file whose FILE-journal is
// pending: the journal's new (committed) or old (not committed) in-place
// bytes laid over the file, its size limited to the committed size. With
// no journal (or a foreign one) the file is read as it is.
Result<std::unique_ptr<ByteSource>> committed_source(std::unique_ptr<ByteSource> file, const std::string& data_path,
                                                     PendingJournal* pending);

// How pstkit reads a file by path: under the shared readers lock (held by
// the returned source; a commit in progress is waited for up to
// lock_timeout, negative: the default), through committed_source. Saved
// changes another process holds pending are committed at its request first
// (filelock::wait_for_pending_batch, bounded by the same timeout).
// hold_lock false: the lock is held only while this opens (the header and
// journal are read), then dropped; see Options::hold_readers_lock.
// ask_pending false: pending batches are not asked for (a background watch,
// which would otherwise commit every writer's batches at its own period).
Result<std::unique_ptr<ByteSource>> open_committed_file(const std::string& path,
                                                        std::chrono::milliseconds lock_timeout,
                                                        PendingJournal* pending = nullptr, bool hold_lock = true,
                                                        bool ask_pending = true);

}  // namespace pstkit::ndb
