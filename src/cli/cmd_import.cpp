// pstkit import: Internet mail (.eml files, directories of them, mbox files,
// Maildirs) into a PST, through pstkit::mime::import_sources.
//
// Each SRC goes into the folder given by --folder, or else into a folder
// named after it below the IPM subtree; inside a directory SRC the tree
// becomes subfolders unless --flat. Messages are committed in batches
// (--batch); a source that cannot be read is reported and skipped, and the
// exit status is then 1, but everything imported stays committed. A
// failure of the PST (unwritable, full disk) stops at once and leaves it at
// its last commit.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli/cli.h"
#include "pstkit/mime_import.h"
#include "pstkit/store_writer.h"

namespace pstkit::cli {
namespace {

using Clock = std::chrono::steady_clock;


// The default folder of a source: its base name without the extension
// ("~/mail/inbox.mbox" -> "inbox"), or "Imported".
std::string folder_name_for(const std::string& source) {
  std::string s = source;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  const size_t slash = s.rfind('/');
  std::string base = slash == std::string::npos ? s : s.substr(slash + 1);
  const size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  if (base.empty() || base == "." || base == ".." || base == "/") return "Imported";
  return base;
}

// The folder at path below the IPM subtree, created where missing.
// *created tells whether the last part was made now.
Result<Nid> find_or_create(StoreWriter& writer, const std::vector<std::string>& path, bool* created) {
  Nid cur = writer.ipm_subtree();
  *created = false;
  for (const auto& name : path) {
    PSTKIT_ASSIGN_OR_RETURN(Folder folder, writer.store().open_folder(cur));
    PSTKIT_ASSIGN_OR_RETURN(auto rows, folder.subfolders());
    std::optional<Nid> next;
    for (const auto& row : rows) {
      if (row.props.get_string(prop::kDisplayName).value_or("") == name) next = row.nid;
    }
    *created = !next;
    if (!next) {
      PSTKIT_ASSIGN_OR_RETURN(next, writer.create_folder(cur, name));
    }
    cur = *next;
  }
  return cur;
}

std::string megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1e6);
  return buf;
}

// Problems always go to stderr; a one-line progress bar too, but only on a
// terminal, redrawn at most ten times a second.
class CliProgress : public mime::ImportProgress {
 public:
  CliProgress(bool bar, bool verbose) : bar_(bar), verbose_(verbose), start_(Clock::now()) {}

  void update(const mime::ImportCounters& c) override {
    if (!bar_) return;
    const auto now = Clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double fraction = c.bytes_total ? std::min(1.0, double(c.bytes_read) / double(c.bytes_total)) : 0.0;
    constexpr int kWidth = 30;
    const int filled = int(fraction * kWidth);
    std::string bar(size_t(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(size_t(kWidth - filled - 1), ' ');
    std::fprintf(stderr, "\r[%s] %3d%%  %llu messages  %s  %.0f msg/s ", bar.c_str(), int(fraction * 100),
                 static_cast<unsigned long long>(c.messages), megabytes(c.message_bytes).c_str(),
                 seconds > 0 ? double(c.messages) / seconds : 0.0);
    drawn_ = true;
  }

  void problem(const std::string& where, const Status& status) override {
    clear();
    const std::string text = status.message();
    // Errors about a source file already name it.
    if (text.find(where) != std::string::npos) {
      std::cerr << "pstkit: " << text << "\n";
    } else {
      std::cerr << "pstkit: " << where << ": " << text << "\n";
    }
  }

  void warning(const std::string& where, const std::string& text) override {
    ++warnings_;
    if (!verbose_) return;
    clear();
    std::cerr << "pstkit: warning: " << where << ": " << text << "\n";
  }

  void clear() {
    if (!drawn_) return;
    std::fprintf(stderr, "\r%*s\r", 100, "");
    drawn_ = false;
  }

  uint64_t warnings() const { return warnings_; }

 private:
  bool bar_, verbose_;
  bool drawn_ = false;
  Clock::time_point start_, last_draw_{};
  uint64_t warnings_ = 0;
};

}  // namespace

int cmd_import(const ImportCommandOptions& options) {
  const std::string& file = options.file;
  if (options.batch == 0) {
    std::cerr << "pstkit: --batch must be at least 1\n";
    return kExitUsage;
  }
  // Before the PST is created or opened: without GMime nothing can be imported.
  if (Status parser = mime::load_mime_parser(); !parser) {
    std::cerr << "pstkit: import: " << parser.message() << "\n";
    return kExitBadInput;
  }
  struct stat st;
  std::unique_ptr<StoreWriter> writer;
  if (::stat(file.c_str(), &st) != 0) {
    if (!options.create) {
      std::cerr << "pstkit: " << file << ": no such file (use --create to make a new PST)\n";
      return kExitBadInput;
    }
    auto created = StoreWriter::create(file, NewStoreOptions{}, writer_options());
    if (!created) {
      print_error(file, created.status());
      return kExitBadInput;
    }
    writer = std::move(*created);
  } else {
    auto opened = StoreWriter::open(file, writer_options());
    if (!opened) {
      print_error(file, opened.status());
      return kExitBadInput;
    }
    writer = std::move(*opened);
    report_recovery(file, writer->db().recovery());
  }

  mime::ImportOptions import_options;
  import_options.batch_size = options.batch;
  import_options.directory_folders = !options.flat;
  CliProgress progress(::isatty(STDERR_FILENO) == 1, options.verbose);
  const auto start = Clock::now();
  bool failed = false;
  Status fatal;

  // One import per target folder: --folder takes every source; otherwise
  // each source gets the folder named after it.
  std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> jobs;  // folder path, sources
  if (!options.folder.empty()) {
    jobs.push_back({split_path(options.folder), options.sources});
  } else {
    for (const auto& s : options.sources) jobs.push_back({{folder_name_for(s)}, {s}});
  }
  size_t folders = 0;
  for (const auto& [path, sources] : jobs) {
    bool created = false;
    auto folder = find_or_create(*writer, path, &created);
    if (!folder) {
      fatal = folder.status();
      break;
    }
    ++folders;
    const uint64_t before = progress.counters().messages;
    Status s = mime::import_sources(*writer, *folder, sources, import_options, &progress);
    if (s.is_ok()) continue;
    failed = true;
    if (progress.counters().store_failed) {  // the PST failed: stop here
      fatal = s;
      break;
    }
    // A source that gave nothing leaves no empty folder behind.
    if (created && progress.counters().messages == before) {
      Status undo = writer->delete_folder(*folder);
      if (undo.is_ok()) undo = writer->commit();
      if (!undo.is_ok()) {
        fatal = undo;
        break;
      }
      --folders;
    }
  }
  progress.clear();
  if (!fatal.is_ok()) {
    (void)writer->rollback();
    print_error(file, fatal);
    failed = true;
  }

  const auto& c = progress.counters();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  char rate[96];
  std::snprintf(rate, sizeof rate, "%.2f s: %.0f messages/s, %.1f MB/s", seconds,
                seconds > 0 ? double(c.messages) / seconds : 0.0,
                seconds > 0 ? double(c.message_bytes) / 1e6 / seconds : 0.0);
  std::cout << "imported " << c.messages << " messages (" << megabytes(c.message_bytes) << ") into " << folders
            << (folders == 1 ? " folder" : " folders") << " in " << rate << "\n";
  if (c.failed_messages || c.failed_sources || c.skipped_files || progress.warnings()) {
    std::cout << "failed: " << c.failed_sources << " sources, " << c.failed_messages << " messages; skipped "
              << c.skipped_files << " files that are not mail; " << progress.warnings()
              << " warnings (--verbose shows them)\n";
  }
  return failed ? kExitBadInput : kExitOk;
}

}  // namespace pstkit::cli
