// MIME import: Internet mail (RFC 5322 / MIME) into PST messages.
//
// message_from_mime() maps one message to a NewMessage the way Outlook's
// MIME reader does ([MS-OXCMAIL] 2.2, "MIME to Message object"): envelope
// headers to sender, recipient and time properties, the best text/plain and
// text/html parts to the bodies, every other leaf part to an attachment and
// message/rfc822 parts to embedded messages. Parsing is GMime's; malformed
// input gives a best-effort message, never a crash.
//
// import_sources() streams .eml files, directories of them, mbox files and
// Maildirs into a folder, committing every ImportOptions::batch_size
// messages so that memory stays flat and a crash loses at most one batch.
//
// Failure policy (what the CLI's exit status reports):
//   * A source that cannot be read, or is not mail, is reported through
//     ImportProgress::problem() and skipped; the others are still imported.
//     A source that fails part-way keeps the messages read before the
//     failure. A message that cannot be converted at all is reported and
//     skipped. import_sources() then returns a non-OK Status, but every
//     message it did import is committed.
//   * A failure of the PST itself (a write error, a full disk) rolls back the
//     batch being written and stops at once: the file stays at its last
//     commit, and the Status names the write that failed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/status.h"
#include "pstkit/store_writer.h"

namespace pstkit::mime {

struct ImportOptions {
  // Commit after this many messages (and whenever the staged messages
  // exceed batch_bytes), so a crash loses at most one batch.
  uint32_t batch_size = 500;
  uint64_t batch_bytes = uint64_t{64} << 20;
  // Maildir++ subfolders (".Sent", ".Lists.pstkit") become PST subfolders of
  // the target folder; otherwise only the Maildir's own messages are read.
  bool maildir_subfolders = true;
  // Inside a directory source, each subdirectory, mbox file and Maildir
  // becomes a subfolder named after it (a Thunderbird "Inbox.sbd" directory
  // merges with the "Inbox" mbox's folder; ".mbox"/".mbx" is dropped), as a
  // mail tree exported by readpst -e or kept by Thunderbird expects;
  // .eml files go to the directory's own folder. Otherwise everything under
  // a directory goes into one folder.
  bool directory_folders = true;
  // message/rfc822 parts nested deeper than this are kept as plain .eml
  // attachments instead of embedded messages.
  int max_embedded_depth = 8;
  // A message larger than this (as stored in the source) is skipped with an
  // error rather than loaded.
  uint64_t max_message_bytes = uint64_t{256} << 20;
  // Code page for 8-bit text whose charset is missing, unknown or wrong
  // (windows-1252, the usual default of Western mail clients).
  uint32_t fallback_codepage = 1252;
};

// Loads the MIME parser, GMime 3 (libgmime-3.0.so.0), which pstkit opens on
// first use rather than links, so that the commands that never parse MIME
// do not load it. message_from_mime and import_sources call it; an error
// (GMime missing or unusable) is returned by every call.
Status load_mime_parser();

// Converts one RFC 5322 message. Only input with no message in it (empty or
// blank) is an error; anything else yields what could be recovered, with
// what was wrong with it appended to *warnings (if given).
Result<NewMessage> message_from_mime(ByteView rfc822, const ImportOptions& options,
                                     std::vector<std::string>* warnings = nullptr);

// What import_sources has done so far; also handed to the callbacks.
struct ImportCounters {
  uint64_t messages = 0;          // imported (staged or committed)
  uint64_t message_bytes = 0;     // source bytes of the imported messages
  uint64_t failed_messages = 0;   // reported and skipped
  uint64_t failed_sources = 0;    // unreadable or not mail
  uint64_t skipped_files = 0;     // files in directories that are not mail
  uint64_t folders_created = 0;
  uint64_t commits = 0;
  uint64_t bytes_read = 0;        // of the sources, for progress
  uint64_t bytes_total = 0;       // sizes of every source file, known up front
  bool store_failed = false;      // the PST failed and the import stopped
};

// Receives progress and problems. The default implementation only counts.
class ImportProgress {
 public:
  virtual ~ImportProgress() = default;
  // After each imported message and each commit.
  virtual void update(const ImportCounters& counters) { (void)counters; }
  // A source, file or message that was skipped, or a warning about one;
  // `where` names it ("inbox.mbox: message 12 at byte 40961").
  virtual void problem(const std::string& where, const Status& status) { (void)where, (void)status; }
  virtual void warning(const std::string& where, const std::string& text) { (void)where, (void)text; }

  const ImportCounters& counters() const { return counters_; }

 private:
  friend class Importer;
  ImportCounters counters_;
};

// Imports every source into `folder` (see the failure policy above). Each
// source is an .eml file, a directory searched recursively (files in name
// order), an mbox file or a Maildir; the kind is recognised from content
// and structure, not from names.
Status import_sources(StoreWriter& writer, Nid folder, const std::vector<std::string>& sources,
                      const ImportOptions& options, ImportProgress* progress = nullptr);

}  // namespace pstkit::mime
