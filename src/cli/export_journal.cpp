#include "cli/export_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace pstkit::cli {
namespace {

constexpr const char* kMagic = "pstkit_export_journal";

std::string io_error(const std::string& path) { return path + ": " + std::strerror(errno ? errno : EIO); }

std::vector<JournalFile> files_from(const nlohmann::ordered_json& j) {
  std::vector<JournalFile> out;
  if (!j.is_array()) return out;
  for (const auto& f : j)
    if (f.is_array() && f.size() == 2 && f[0].is_string() && f[1].is_string())
      out.emplace_back(f[0].get<std::string>(), f[1].get<std::string>());
  return out;
}

nlohmann::ordered_json files_json(const std::vector<JournalFile>& files) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& [path, sha] : files) out.push_back({path, sha});
  return out;
}

}  // namespace

std::string json_quoted(const std::string& s) {
  for (const unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return nlohmann::ordered_json(s).dump();
  }
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

ExportJournal::~ExportJournal() {
  if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<ExportJournal> ExportJournal::create(const std::string& dir, const nlohmann::ordered_json& options,
                                                     std::string* error) {
  const std::string path = dir + "/" + kExportJournalName;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return *error = io_error(path), nullptr;
  std::unique_ptr<ExportJournal> journal(new ExportJournal(path, fd));
  if (!journal->append({{kMagic, 1}, {"options", options}}, error)) return nullptr;
  return journal;
}

namespace {

// One record of an interrupted export's journal, checked and, given the
// folder its "s" and "f" name, read into it; false when it is not a record
// the journal writes.
bool take_record(const nlohmann::ordered_json& record, JournalFolder* folder) {
  if (record.contains("done")) {
    // Taken into the manifest as it is: only an entry shaped like one.
    const auto& done = record["done"];
    if (!done.is_object() || !done.contains("exported") || !done["exported"].is_number_unsigned() ||
        !done.contains("found") || !done["found"].is_number_unsigned())
      return false;
    if (folder) {
      folder->done = done;
      folder->done_files = files_from(record.contains("files") ? record["files"] : nlohmann::ordered_json());
    }
  } else if (record.contains("n") && record["n"].is_number_unsigned()) {
    if (folder) {
      JournalItem item;
      item.files = files_from(record.contains("files") ? record["files"] : nlohmann::ordered_json());
      if (record.contains("notes") && record["notes"].is_array())
        for (const auto& n : record["notes"])
          if (n.is_string()) item.notes.push_back(n.get<std::string>());
      folder->items[record["n"].get<Nid>()] = std::move(item);
    }
  }
  return true;
}

bool folder_key(const nlohmann::ordered_json& record, std::pair<size_t, Nid>* key) {
  if (!record.contains("s") || !record["s"].is_number_unsigned() || !record.contains("f") ||
      !record["f"].is_number_unsigned())
    return false;
  *key = {record["s"].get<size_t>(), record["f"].get<Nid>()};
  return true;
}

}  // namespace

std::unique_ptr<ExportJournal> ExportJournal::resume(const std::string& dir, const nlohmann::ordered_json& options,
                                                     std::string* error, bool* options_differ) {
  *options_differ = false;
  const std::string path = dir + "/" + kExportJournalName;
  std::ifstream in(path, std::ios::binary);
  if (!in) return *error = io_error(path), nullptr;
  // Read line by line and checked whole, but only where each folder's
  // records lie is kept: folder() reads a folder's records when its turn
  // comes, so memory does not grow with the export.
  std::map<std::pair<size_t, Nid>, std::vector<JournalSpan>> spans;
  bool first = true;
  uint64_t offset = 0, whole = 0;
  std::string line;
  while (std::getline(in, line)) {
    // Only lines that end in a newline were written whole; a torn last line
    // is cut off below, so that what is appended starts a line.
    if (in.eof()) break;
    const uint64_t begin = offset;
    offset += line.size() + 1;
    whole = offset;
    nlohmann::ordered_json record = nlohmann::ordered_json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      *error = path + ": not a journal line: " + line.substr(0, 80);
      return nullptr;
    }
    if (first) {
      if (!record.contains(kMagic) || record[kMagic] != 1) return *error = path + ": not a pstkit export journal", nullptr;
      if (!record.contains("options") || record["options"] != options) {
        *options_differ = true;
        *error = "the export in " + dir + " was made with other options: " + record["options"].dump();
        return nullptr;
      }
      first = false;
      continue;
    }
    std::pair<size_t, Nid> key;
    if (!folder_key(record, &key) || !take_record(record, nullptr))
      return *error = path + ": not a journal line: " + line.substr(0, 80), nullptr;
    // A folder's records follow each other, except where a resumed export
    // appended the rest of them later: a span for each run of them.
    auto& folder_spans = spans[key];
    if (!folder_spans.empty() && folder_spans.back().end == begin) {
      folder_spans.back().end = offset;
    } else {
      folder_spans.push_back({begin, offset});
    }
  }
  if (in.bad()) return *error = io_error(path), nullptr;
  if (first) return *error = path + ": the journal is empty (the export was interrupted as it started)", nullptr;
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) return *error = io_error(path), nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (uint64_t(st.st_size) != whole && ::ftruncate(fd, off_t(whole)) != 0)) {
    *error = io_error(path);
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<ExportJournal> journal(new ExportJournal(path, fd));
  journal->spans_ = std::move(spans);
  return journal;
}

const JournalFolder* ExportJournal::folder(size_t source, Nid folder) {
  auto it = spans_.find({source, folder});
  if (it == spans_.end()) return nullptr;
  current_ = JournalFolder();
  for (const JournalSpan& span : it->second) {
    std::string text(size_t(span.end - span.begin), '\0');
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::pread(fd_, text.data() + done, text.size() - done, off_t(span.begin + done));
      if (n < 0 && errno == EINTR) continue;
      // Checked when the journal was opened: a read that fails now leaves
      // the folder to be exported again.
      if (n <= 0) return nullptr;
      done += size_t(n);
    }
    for (size_t pos = 0; pos < text.size();) {
      const size_t end = text.find('\n', pos);
      if (end == std::string::npos) return nullptr;
      const auto record = nlohmann::ordered_json::parse(text.begin() + long(pos), text.begin() + long(end), nullptr, false);
      pos = end + 1;
      if (record.is_discarded() || !take_record(record, &current_)) return nullptr;
    }
  }
  return &current_;
}

bool ExportJournal::add_item(size_t source, Nid folder, Nid nid, const JournalItem& item, std::string* error) {
  // The line dump() writes for {"s","f","n","files"[,"notes"]}, put
  // together directly: one record per item, and building the JSON object
  // first cost the consumer thread more than writing it.
  std::string line = "{\"s\":" + std::to_string(source) + ",\"f\":" + std::to_string(folder) +
                     ",\"n\":" + std::to_string(nid) + ",\"files\":[";
  for (size_t i = 0; i < item.files.size(); ++i) {
    line += (i ? ",[" : "[") + json_quoted(item.files[i].first) + "," + json_quoted(item.files[i].second) + "]";
  }
  line += "]";
  if (!item.notes.empty()) line += ",\"notes\":" + nlohmann::ordered_json(item.notes).dump();
  line += "}\n";
  return append_line(line, error);
}

bool ExportJournal::add_folder(size_t source, Nid folder, const nlohmann::ordered_json& entry,
                               const std::vector<JournalFile>& files, std::string* error) {
  return append({{"s", source}, {"f", folder}, {"done", entry}, {"files", files_json(files)}}, error);
}

bool ExportJournal::append(const nlohmann::ordered_json& record, std::string* error) {
  return append_line(record.dump() + "\n", error);
}

bool ExportJournal::append_line(const std::string& line, std::string* error) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return *error = io_error(path_), false;
    done += size_t(n);
  }
  // Synced now and then: a killed process loses nothing written(2); after
  // a crash of the machine the journal may lag behind the files, or name a
  // file whose data was lost, which --resume finds by its SHA-256. By time,
  // not by count: every 256 records was a sync every 24 ms exporting a store
  // of small messages, and 12 % of the export's wall time (docs/BENCHMARKS.md, session 20).
  const auto now = std::chrono::steady_clock::now();
  if (now - synced_ >= kSyncInterval) {
    if (::fdatasync(fd_) != 0) return *error = io_error(path_), false;
    synced_ = now;
  }
  return true;
}

void ExportJournal::remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

}  // namespace pstkit::cli
