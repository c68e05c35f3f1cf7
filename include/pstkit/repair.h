// Repair (the Inbox Repair Tool, scanpst.exe) and recovery of damaged files.
//
// Both work by rebuilding: everything that can still be read from the
// source -- through the salvaged index (pstkit/ndb_salvage.h), which finds
// intact blocks and B-tree pages by scanning the file -- is written into a
// new file by the atomic writer, and the store in it is then made
// consistent (folder tables, counts, orphans, required nodes, messages per
// Microsoft KB 287497). A rebuilt file therefore has fresh B-trees,
// allocation maps, reference counts and header totals by construction,
// whatever the damage was.
//
//   rebuild()      source database -> new file (the engine; two stages:
//                  copy_nodes() keeps every readable node with its NID,
//                  parent, data and subnodes; fix_store() makes the
//                  messaging layer consistent)
//   repair_file()  FILE in place: check; if it has errors, rebuild into a
//                  temporary file beside it, check that, keep the original
//                  as the backup and rename the rebuilt file over FILE (the
//                  commit point: a kill at any moment leaves FILE as it was
//                  or repaired)
//   recover_file() IN -> a new Unicode PST (IN never changes); IN may be
//                  any file at all
//
// NIDs are kept, so entry IDs (store record key + NID) of everything that
// survives stay valid.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pstkit/check.h"
#include "pstkit/env.h"
#include "pstkit/ndb.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/status.h"

namespace pstkit::repair {

inline constexpr uint64_t kNone = ~uint64_t{0};

// One change made (or, on a dry run, planned) by a rebuild. Codes are
// stable; tools may match on them:
//   NODE_LOST            a node the source lists could not be read at all: left out
//   SUBNODE_LOST         a subnode (attachment, table, large value) could not be read: left out
//   HEAP_REBUILT         a heap/BTH/PC/TC was rebuilt from the entries still readable
//   PROPERTY_DROPPED     a property value (body, attachment data...) could not be read: left out
//   REQUIRED_CREATED     a mandatory node (message store, name map, root folder, IPM subtree,
//                        templates, search nodes) was missing and was created
//   FOLDER_RECREATED     a folder whose node is lost but whose children survive, recreated
//                        ("Folder 0x...") under Lost and Found
//   ORPHAN_MOVED         an item whose parent is missing or not a folder: moved to Lost and Found
//   ORPHAN_ADOPTED       a message whose NBT entry is lost, found by its blocks: back with its
//                        id and folder when a contents-table row names it, else in Lost and Found
//   DELETED_RECOVERED    a deleted item found in stale pages (--deleted): put in Recovered Deleted Items
//   TABLE_REBUILT        a hierarchy/contents/associated-contents table rewritten from the objects present
//   COUNTS_FIXED         PidTagContentCount/ContentUnreadCount/Subfolders recomputed
//   MESSAGE_FIXED        message properties set per KB 287497 (class, search key, times, size,
//                        has-attachments, display to/cc/bcc)
//   RECIPIENTS_REBUILT   a recipient table rewritten
//   ATTACHMENTS_REBUILT  an attachment table rewritten from the attachments present
//   NAME_MAP_REBUILT     the name-to-ID map rewritten with every name still readable
//   SEARCH_RESET         search folders / the search management queue reset (Outlook rebuilds them)
//   STORE_REBUILT        the NDB layer was rebuilt (B-trees, maps, reference counts, header)
struct Change {
  std::string code;
  std::string structure;  // "node", "subnode", "folder", "message", "contents table", "name map"...
  uint64_t id = kNone;      // NID (or BID) concerned
  uint64_t offset = kNone;  // offset in the source file, when known
  std::string action;       // what was done, one sentence
};

struct RebuildOptions {
  ndb::FileFormat format = ndb::FileFormat::kUnicode;  // of the new file (kUnicode4k is not written)
  ndb::CryptMethod crypt = ndb::CryptMethod::kPermute;
  // Also bring back deleted items that stale pages still hold (into
  // "Recovered Deleted Items"); the source must have been salvaged with
  // SalvageOptions::include_deleted.
  bool include_deleted = false;
  Env* env = nullptr;  // nullptr: Env::posix()
  // Hears every change as it is made.
  std::function<void(const Change&)> on_change;
  // Hears progress: units done out of total (total may be 0 when unknown).
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Hears which stage the progress that follows counts: "copy", "fix".
  std::function<void(const std::string& stage)> on_stage;
};

struct RebuildReport {
  uint64_t nodes_in_source = 0;   // top-level nodes the source lists
  uint64_t nodes_copied = 0;      // written to the new file unchanged in content
  uint64_t nodes_lost = 0;        // could not be read
  uint64_t folders = 0;           // folders in the new store
  uint64_t messages = 0;          // messages (normal and associated) in the new store
  uint64_t lost_and_found = 0;    // items placed in Lost and Found
  uint64_t folders_recreated = 0;
  uint64_t changes = 0;           // Change records emitted
  // Stage 1 lists here the deleted items it brought back (include_deleted);
  // fix_store puts them in "Recovered Deleted Items".
  std::vector<ndb::Nid> deleted_items;
  // Stage 1 found the name-to-ID map only by its blocks (its NBT entry lost
  // or stale), perhaps an earlier copy in freed space: its names are right
  // for the indices it has (names are only appended), and fix_store takes
  // any later ids the objects use with placeholders.
  bool name_map_adopted = false;
};

// Stage 1: copies every top-level node of source that can be read (and the
// subnodes of each that can be read) into dest, keeping NIDs and parents;
// data streams are re-chunked (and heaps re-packed) where dest's block size
// differs. Commits dest as it goes, so memory stays flat.
Status copy_nodes(const ndb::Database& source, ndb::WritableDatabase& dest, const RebuildOptions& options,
                  RebuildReport* report);

// Stage 2: makes the store in db consistent: required nodes, hierarchy,
// Lost and Found, folder tables and counts, messages, name map, search
// state. Commits at the end. Also usable on its own on any writable store.
Status fix_store(ndb::WritableDatabase& db, const RebuildOptions& options, RebuildReport* report);

// Both stages into a new file at dest_path (which must not exist).
Result<RebuildReport> rebuild(const ndb::Database& source, const std::string& dest_path,
                              const RebuildOptions& options);

// Opens any file for rebuilding: the salvaged index when the header parses;
// otherwise a header inferred from the file itself (format, encryption and
// B-tree roots found by the scan). Fails only when the file cannot be read.
// A file that holds nothing recognisable opens as an empty database.
Result<std::unique_ptr<ndb::Database>> open_for_rebuild(const std::string& path, bool include_deleted,
                                                         std::vector<Change>* notes);

// ---- whole files (what `pstkit repair` and `pstkit recover` do)

struct FileRepairOptions {
  bool dry_run = false;          // rebuild into a temporary file, report, change nothing
  bool include_deleted = false;  // --deleted
  // Backup of the original: "" for FILE.bak; an existing backup is never
  // overwritten (a free name FILE.bak.N is taken and reported instead).
  std::string backup_path;
  bool no_backup = false;
  int max_passes = 4;            // rebuild again while check still finds errors
  std::chrono::milliseconds lock_timeout{-1};  // for the writer lock on FILE (negative: default)
  std::function<void(const Change&)> on_change;
  // Hears every finding of check: on FILE before the repair (when "before")
  // and on the result of the last pass ("after").
  std::function<void(const std::string& when, const check::Finding&)> on_finding;
  // Stages: "check", "scan", "copy", "fix", "verify".
  std::function<void(const std::string& stage, uint64_t done, uint64_t total)> progress;
};

struct FileRepairResult {
  bool was_clean = false;         // check found no errors: FILE left byte-identical
  bool changed = false;           // FILE was replaced by the repaired file
  std::string backup;             // where the original is now ("" if none)
  uint64_t errors_before = 0;     // check errors before
  uint64_t errors_after = 0;      // check errors after (0 when repaired)
  std::vector<std::string> unrepaired;  // findings left, one line each
  int passes = 0;
  RebuildReport rebuild;
};

// Repairs FILE in place (see the top of this file). Holds FILE's writer lock
// throughout. Never writes outside FILE, its backup and a temporary file
// beside FILE (removed on every path out).
Result<FileRepairResult> repair_file(const std::string& path, const FileRepairOptions& options);

// Writes a new Unicode PST at out_path (which must not exist) holding
// everything that can be found in in_path, which is only read.
Result<FileRepairResult> recover_file(const std::string& in_path, const std::string& out_path,
                                      const FileRepairOptions& options);

}  // namespace pstkit::repair
