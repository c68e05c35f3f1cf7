// Shared pieces of the pstkit command-line tool. The tool is a thin layer:
// every command opens the store through the library and prints.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pstkit/messaging.h"
#include "pstkit/ndb_writer.h"

namespace pstkit::cli {

// Exit codes promised by `pstkit --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 1;  // damaged, unsupported or unreadable input
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;  // export: some items could not be exported

// Prints "pstkit: FILE: message" to stderr.
void print_error(const std::string& file, const Status& status);

// How the reading commands open a file.
struct ReadOptions {
  // Index nodes and blocks from what the B-trees still give plus a scan of
  // the whole file (pstkit/ndb_salvage.h), for files whose B-trees are damaged.
  bool recover = false;
  // With recover: also nodes found only in stale B-tree pages (deleted items).
  bool include_deleted = false;
  // --codepage: the store's code page for 8-bit strings of objects that name
  // none, in place of the recorded or inferred one; 0 when not given.
  uint32_t codepage = 0;
  // The code page of 8-bit strings of objects that name none and of stores
  // that record none (readpst -C); 0 keeps StoreOptions' default.
  uint32_t default_codepage = 0;
};

// Opens a store or prints why not (returns nullptr). With options.recover,
// prints what the recovery found on stderr.
std::unique_ptr<Store> open_store_or_report(const std::string& path, const ReadOptions& options = {});

// How the writing commands open a file: waits for locks are announced on
// stderr (docs/COMMIT_PROTOCOL.md).
ndb::WriterOptions writer_options();
// Says on stderr what a writer's open recovered.
void report_recovery(const std::string& path, const ndb::RecoveryReport& report);
// Says on stderr, for a reading command, that FILE has a pending recovery
// (the command reads the committed state; the next writing command
// completes it) or a FILE-journal that is not pstkit's.
void report_pending_journal(const std::string& path);

// "Inbox/Projects/" -> {"Inbox", "Projects"}; empty components are dropped,
// so "" and "/" name the IPM subtree itself.
std::vector<std::string> split_path(const std::string& text);

// Parses a node id as printed by ls/dump: decimal (leading zeros allowed) or
// 0x-prefixed hex, nothing else.
bool parse_nid(const std::string& text, Nid* out);

// Property naming and value rendering shared by show and dump --full.
// Name of a property by id and type (named properties through the store's
// name-to-id map); "0xIIII" when unknown.
std::string property_name(const Store& store, PropTag tag);
nlohmann::json property_value_json(const PropertyBag& bag, const PropValue& value);
std::string property_value_text(const PropertyBag& bag, const PropValue& value, size_t max_bytes = 64);
// FILETIME to ISO 8601 UTC ("2009-10-22T16:32:05.886Z").
std::string filetime_to_iso(uint64_t filetime);
std::string base64(ByteView data);
std::string sha256_hex(const ndb::Node& node, Status* error);
std::string sha256_hex(ByteView data);
// SHA-256 of a file's contents, read in pieces.
std::string sha256_file_hex(const std::string& path, Status* error);

// A work unit of `pstkit plan` (cmd_plan.cpp): rows [first, first + count)
// of one folder's contents table, in table order (the order export and dump
// walk), of one file. docs/SCALE.md.
struct WorkUnit {
  std::string file;       // absolute path
  std::string directory;  // a plan of several files: the file's directory below -o, as export names it
  std::string folder;     // the folder's path as export's manifest and dump name it ("" for the root)
  Nid folder_nid = 0;
  uint64_t first = 0;
  uint64_t count = 0;
  uint64_t bytes = 0;     // PR_MESSAGE_SIZE of the items, summed
  std::string id;         // stable id, [0-9a-z-] only: names the unit's manifest
  // Planned with --recover (--deleted): the rows are those a recovering
  // read gives, so the unit is run with the same reading.
  bool recover = false;
  bool include_deleted = false;
};
// The unit SPEC names: its JSON line itself, @FILE (a file holding it) or -
// (standard input holding it). False, with *error, when it is not one unit.
bool read_work_unit(const std::string& spec, WorkUnit* unit, std::string* error);
// The unit as the JSON line plan prints (without the newline).
std::string work_unit_json(const WorkUnit& unit);
// Cuts a folder's contents-table NIDs down to the unit's rows; false, with
// *error, when the folder is not the one the unit was planned on (another
// path, fewer rows: the file changed since `pstkit plan`).
bool select_unit_rows(const WorkUnit& unit, const std::string& folder_path, std::vector<Nid>* nids,
                      std::string* error);
// The same check for a folder of `rows` rows read one at a time: the unit's
// rows are [*first, *first + *count).
bool select_unit_range(const WorkUnit& unit, const std::string& folder_path, size_t rows, size_t* first,
                       size_t* count, std::string* error);

// Commands.
struct DumpOptions {
  bool json = true;
  bool full = false;
  std::optional<WorkUnit> unit;  // --unit: the unit's folder line (when first is 0) and its items only
};
int cmd_info(const std::string& file, bool json, const ReadOptions& read = {});
int cmd_ls(const std::string& file, bool recursive, bool json, const ReadOptions& read = {});
int cmd_show(const std::string& file, const std::string& item, bool json, const ReadOptions& read = {});
int cmd_dump(const std::string& file, const DumpOptions& options, const ReadOptions& read = {});
int cmd_check(const std::string& file, bool json);

// Writing commands (cmd_create.cpp, cmd_folders.cpp). Paths are slash-separated
// folder names below the IPM subtree ("Top of Outlook data file").
struct CreateCommandOptions {
  bool ansi = false;
  std::string encoding = "permute";  // none | permute | cyclic
  std::string name;                  // store display name; empty: the default
};
int cmd_create(const std::string& file, const CreateCommandOptions& options);
int cmd_mkdir(const std::string& file, const std::string& path, bool parents);
int cmd_rm(const std::string& file, const std::string& target, bool recursive);
int cmd_mv(const std::string& file, const std::string& source, const std::string& dest);

// pstkit import (cmd_import.cpp): mail into a PST.
struct ImportCommandOptions {
  std::string file;
  std::vector<std::string> sources;  // .eml files, directories, mbox files, Maildirs
  std::string folder;                // slash-separated path; empty: a folder per source
  uint32_t batch = 500;              // messages per commit
  bool create = false;               // create the PST if it does not exist
  bool verbose = false;              // print per-message warnings
  bool flat = false;                 // a directory's whole tree into one folder
};
int cmd_import(const ImportCommandOptions& options);

struct PlanCommandOptions {
  std::vector<std::string> files;
  uint64_t target_bytes = 0;
  std::string folder;  // only this folder (path below the IPM subtree) and below, as export --folder
  ReadOptions read;
};
int cmd_plan(const PlanCommandOptions& options);

// pstkit export (cmd_export.cpp): items as files, with manifest.json.
struct ExportCommandOptions {
  std::vector<std::string> files;
  std::string out_dir;
  std::string format = "eml";  // eml, mbox, maildir, thunderbird, ics, vcf (export_writers.h)
  std::string vcard = "4.0";   // --vcard: 4.0 or 3.0
  std::string folder;  // only this folder (path below the IPM subtree) and below
  std::vector<std::string> types;  // --type: item types to export (item_type.h); empty: all
  unsigned jobs = 0;               // worker threads; 0: one per core (the default)
  bool resume = false;             // continue the interrupted export in out_dir
  bool overwrite = false;
  bool quiet = false;
  ReadOptions read;
  // --unit: only this work unit's items (files[0] is its file), written as
  // the full export of that file writes them, with manifest-<unit id>.json.
  std::optional<WorkUnit> unit;
};
int cmd_export(const ExportCommandOptions& options);

// pstkit readpst ARGS... / pstkit-readpst ARGS... (cmd_readpst.cpp,
// docs/READPST.md): readpst's command line and output layout.
int cmd_readpst(const std::vector<std::string>& args);

// pstkit repair / recover (cmd_repair.cpp, cmd_recover.cpp; docs/REPAIR.md).
struct RepairCommandOptions {
  std::string file;
  std::string backup;  // --backup PATH; empty: FILE.bak
  bool no_backup = false;
  std::string log;     // --log PATH; empty: FILE.log
  bool json = false;   // the log (and the summary on stdout) as JSON lines
  bool dry_run = false;
  bool include_deleted = false;
  bool quiet = false;
};
int cmd_repair(const RepairCommandOptions& options);
struct RecoverCommandOptions {
  std::string in, out;
  std::string log;  // empty: OUT.log
  bool json = false;
  bool include_deleted = false;
  bool quiet = false;
};
int cmd_recover(const RecoverCommandOptions& options);

// pstkit profile ... (cmd_profile.cpp; pstkit/mapi_profiles.h).
enum class ProfileAction { kList, kCreate, kDelete, kAddPst, kSetDefault, kShow };
struct ProfileCommandOptions {
  ProfileAction action = ProfileAction::kList;
  std::string name;     // the profile
  std::string file;     // add-pst: the PST
  std::string display;  // add-pst --display
  bool create = false;  // add-pst --create: make a new PST when FILE is missing
  bool ansi = false;    // add-pst --create --ansi
  bool json = false;    // list/show --json
};
int cmd_profile(const ProfileCommandOptions& options);

}  // namespace pstkit::cli
