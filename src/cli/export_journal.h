// The journal of `pstkit export`: DIR/.pstkit-export-journal, what the
// export has written so far, so that `--resume` continues an interrupted
// export instead of starting over. JSON lines, appended with write(2) as
// the export goes (so a killed process loses at most the line being
// written) and synced when kSyncInterval has passed since the last sync (a
// crash of the machine loses at most the records of that time, which
// --resume then writes again; they are not synced every few records, as
// each fdatasync stalls the thread that takes the items in order):
//   {"pstkit_export_journal":1,"options":{...}}          first line
//   {"s":S,"f":F,"n":N,"files":[[PATH,SHA]...],"notes":[...]}
//        item N of folder F of source S, exported into its own files
//   {"s":S,"f":F,"done":ENTRY,"files":[[PATH,SHA]...]}
//        folder F finished: its manifest entry and the files it wrote that
//        no item record names (a mailbox's files; none for the formats
//        with a file per item, whose items records name them all)
// A torn last line (the process was killed while writing it) is ignored.
// The journal is removed when manifest.json has been written.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pstkit/ndb.h"

namespace pstkit::cli {
using ndb::Nid;
}

namespace pstkit::cli {

inline constexpr const char* kExportJournalName = ".pstkit-export-journal";

// s as a JSON string, exactly as nlohmann::json(s).dump() writes it (the
// form of the journal's records and manifest.json's entries), without
// building a json value for the usual printable ASCII.
std::string json_quoted(const std::string& s);

// A file an export wrote and its SHA-256 (hex), relative to the output directory.
using JournalFile = std::pair<std::string, std::string>;

struct JournalItem {
  std::vector<JournalFile> files;
  std::vector<std::string> notes;  // parts left out (the manifest's "incomplete")
};

struct JournalFolder {
  std::optional<nlohmann::ordered_json> done;  // the finished folder's manifest entry
  std::vector<JournalFile> done_files;
  std::map<Nid, JournalItem> items;
};

// Bytes [begin, end) of the journal: whole lines, records of one folder.
struct JournalSpan {
  uint64_t begin = 0, end = 0;
};

class ExportJournal {
 public:
  ~ExportJournal();
  ExportJournal(const ExportJournal&) = delete;
  ExportJournal& operator=(const ExportJournal&) = delete;

  // A new journal in dir (an old one is replaced), first line `options`.
  static std::unique_ptr<ExportJournal> create(const std::string& dir, const nlohmann::ordered_json& options,
                                               std::string* error);
  // The journal an interrupted export left in dir, opened to go on
  // appending; nullptr with *error when there is none, it cannot be read,
  // or it was written with other options (*options_differ set then).
  static std::unique_ptr<ExportJournal> resume(const std::string& dir, const nlohmann::ordered_json& options,
                                               std::string* error, bool* options_differ);

  // What the interrupted export recorded for folder `folder` of source
  // `source`, read from the journal now (one folder's records are in
  // memory at a time); valid until the next call. Null when it recorded
  // nothing for the folder.
  const JournalFolder* folder(size_t source, Nid folder);

  bool add_item(size_t source, Nid folder, Nid nid, const JournalItem& item, std::string* error);
  bool add_folder(size_t source, Nid folder, const nlohmann::ordered_json& entry, const std::vector<JournalFile>& files,
                  std::string* error);
  // Removes the journal (the export is complete and manifest.json written).
  void remove();

  static constexpr std::chrono::milliseconds kSyncInterval{1000};

 private:
  ExportJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  bool append(const nlohmann::ordered_json& record, std::string* error);
  bool append_line(const std::string& line, std::string* error);  // line: one record and "\n"

  std::string path_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point synced_ = std::chrono::steady_clock::now();
  // Where the interrupted export's records of each folder lie in the
  // journal, and the folder last read from there.
  std::map<std::pair<size_t, Nid>, std::vector<JournalSpan>> spans_;
  JournalFolder current_;
};

}  // namespace pstkit::cli
