// import_sources: walks the sources, converts each message and stages it,
// committing in batches (failure policy: include/pstkit/mime_import.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include "import/gmime_api.h"
#include "import/mail_sources.h"
#include "import/mapi_props.h"
#include "import/mbox_reader.h"
#include "pstkit/mime_import.h"

namespace pstkit::mime {

namespace {

// Errors of the PST itself, after which nothing more can be written.
bool is_store_failure(const Status& s) {
  return s.code() == Code::kIoError || s.code() == Code::kBusy || s.code() == Code::kCorrupt ||
         s.code() == Code::kTruncated;
}

std::string join_path(const std::string& dir, const std::string& name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

Result<std::string> read_whole_file(const std::string& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::io_error(path + ": " + std::strerror(e));
  }
  if (uint64_t(st.st_size) > max_bytes) {
    ::close(fd);
    return Status::unsupported(path + ": message of " + std::to_string(st.st_size) + " bytes is over the limit of " +
                               std::to_string(max_bytes));
  }
  std::string data(size_t(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Status::io_error(path + ": " + std::strerror(e));
    }
    if (n == 0) break;  // the file shrank meanwhile
    done += size_t(n);
  }
  ::close(fd);
  data.resize(done);
  return data;
}

}  // namespace

class Importer {
 public:
  Importer(StoreWriter& writer, const ImportOptions& options, ImportProgress& progress)
      : writer_(writer), options_(options), progress_(progress), counters_(progress.counters_) {}

  Status run(Nid folder, const std::vector<std::string>& sources) {
    for (const auto& s : sources) counters_.bytes_total += total_file_bytes(s);
    progress_.update(counters_);
    for (const auto& source : sources) {
      Status s = import_source(source, folder);
      if (!s.is_ok()) return fail_store(s);
    }
    if (writer_.has_changes()) {
      Status s = commit();
      if (!s.is_ok()) return fail_store(s);
    }
    progress_.update(counters_);
    if (counters_.failed_sources || counters_.failed_messages) {
      return Status::invalid_argument(std::to_string(counters_.failed_sources) + " source(s) and " +
                                      std::to_string(counters_.failed_messages) +
                                      " message(s) could not be imported; " + std::to_string(counters_.messages) +
                                      " message(s) were");
    }
    return Status::ok();
  }

 private:
  // The PST failed: drop the batch in progress, keep the last commit.
  Status fail_store(const Status& s) {
    counters_.store_failed = true;
    (void)writer_.rollback();
    return s.with_context("import stopped, the file keeps its last commit");
  }

  void source_failed(const std::string& where, const Status& s) {
    ++counters_.failed_sources;
    progress_.problem(where, s);
  }
  void message_failed(const std::string& where, const Status& s) {
    ++counters_.failed_messages;
    progress_.problem(where, s);
  }

  // Returns non-OK only when the PST failed; source problems are reported.
  Status import_source(const std::string& source, Nid folder) {
    auto info = classify_source(source);
    if (!info) {
      source_failed(source, info.status());
      return Status::ok();
    }
    switch (info->kind) {
      case SourceKind::kEml: return import_eml(source, folder, nullptr);
      case SourceKind::kMbox: return import_mbox(source, folder);
      case SourceKind::kMaildir: return import_maildir(source, folder);
      case SourceKind::kDirectory: return import_directory(source, folder, 0);
      case SourceKind::kUnknown: break;
    }
    // Content first; a name that says what the file is decides the rest.
    const auto ends_with = [&](const char* ext) {
      const std::string e = ext;
      return source.size() > e.size() && source.compare(source.size() - e.size(), e.size(), e) == 0;
    };
    if (info->size == 0) {
      if (ends_with(".mbox") || ends_with(".mbx")) return Status::ok();  // an empty mailbox
      source_failed(source, Status::invalid_argument("empty file"));
      return Status::ok();
    }
    if (ends_with(".eml")) {
      progress_.warning(source, "does not start like a message; imported as one because of its name");
      return import_eml(source, folder, nullptr);
    }
    source_failed(source, Status::invalid_argument("not an RFC 5322 message, mbox file, Maildir or directory"));
    return Status::ok();
  }

  Status import_eml(const std::string& path, Nid folder, const MailFlags* flags) {
    auto data = read_whole_file(path, options_.max_message_bytes);
    if (!data) {
      if (data.status().code() == Code::kUnsupported) {
        message_failed(path, data.status());
      } else {
        source_failed(path, data.status());
      }
      return Status::ok();
    }
    const uint64_t size = data->size();
    PSTKIT_RETURN_IF_ERROR(add_message(*data, path, folder, flags));
    counters_.bytes_read += size;
    return Status::ok();
  }

  Status import_mbox(const std::string& path, Nid folder) {
    auto reader = MboxReader::open(path);
    if (!reader) {
      source_failed(path, reader.status());
      return Status::ok();
    }
    const uint64_t start_read = counters_.bytes_read;
    MboxReader::Message m;
    uint64_t index = 0;
    for (;;) {
      auto more = (*reader)->next(&m, options_.max_message_bytes);
      if (!more) {
        // Messages read before the failure stay imported.
        source_failed(path, more.status());
        return Status::ok();
      }
      if (!*more) break;
      ++index;
      const std::string where = path + ": message " + std::to_string(index) + " at byte " + std::to_string(m.offset);
      if (m.too_large) {
        message_failed(where, Status::unsupported("message of " + std::to_string(m.size) +
                                                  " bytes is over the limit of " +
                                                  std::to_string(options_.max_message_bytes)));
      } else {
        PSTKIT_RETURN_IF_ERROR(add_message(m.bytes, where, folder, nullptr));
      }
      counters_.bytes_read = start_read + (*reader)->position();
    }
    counters_.bytes_read = start_read + (*reader)->position();
    return Status::ok();
  }

  Status import_maildir(const std::string& path, Nid folder) {
    // cur/ and new/ together in name order: names start with the delivery
    // time, so this is (nearly) delivery order.
    std::vector<std::pair<std::string, bool>> files;  // name in its subdirectory, in new/
    for (const char* sub : {"cur", "new"}) {
      auto names = sorted_entries(join_path(path, sub));
      if (!names) {
        source_failed(join_path(path, sub), names.status());
        continue;
      }
      for (auto& n : *names) {
        if (!n.empty() && n[0] != '.') files.emplace_back(std::string(sub) + "/" + n, sub[0] == 'n');
      }
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
      return a.first.substr(4) < b.first.substr(4);
    });
    for (const auto& [name, in_new] : files) {
      const std::string file = join_path(path, name);
      const MailFlags flags = maildir_flags(name, in_new);
      PSTKIT_RETURN_IF_ERROR(import_eml(file, folder, &flags));
    }
    if (!options_.maildir_subfolders) return Status::ok();
    auto entries = sorted_entries(path);
    if (!entries) return Status::ok();  // reported above if unreadable
    for (const auto& e : *entries) {
      if (e.size() < 2 || e[0] != '.' || e == "..") continue;
      const std::string sub = join_path(path, e);
      auto info = classify_source(sub);
      if (!info || info->kind != SourceKind::kMaildir) continue;
      Nid target = folder;
      for (const auto& part : maildir_folder_path(e)) {
        auto child = child_folder(target, part);
        if (!child) return child.status();
        target = *child;
      }
      // The subfolder's own ".X" entries are siblings at the root
      // (Maildir++ keeps the hierarchy flat), so no recursion here.
      PSTKIT_RETURN_IF_ERROR(import_maildir_messages_only(sub, target));
    }
    return Status::ok();
  }

  Status import_maildir_messages_only(const std::string& path, Nid folder) {
    ImportOptions saved = options_;
    options_.maildir_subfolders = false;
    Status s = import_maildir(path, folder);
    options_ = saved;
    return s;
  }

  Status import_directory(const std::string& path, Nid folder, int depth) {
    if (depth > 64) {
      source_failed(path, Status::unsupported("directories nested deeper than 64"));
      return Status::ok();
    }
    auto names = sorted_entries(path);
    if (!names) {
      source_failed(path, names.status());
      return Status::ok();
    }
    for (const auto& name : *names) {
      if (name.empty() || name[0] == '.') continue;  // hidden files and folders
      const std::string child = join_path(path, name);
      struct stat st;
      if (::lstat(child.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;  // no symlink loops
      auto info = classify_source(child);
      if (!info) {
        source_failed(child, info.status());
        continue;
      }
      // The folder a child goes into: a subfolder named after it, or this one.
      auto target = [&](bool own_folder) -> Result<Nid> {
        if (!options_.directory_folders || !own_folder) return folder;
        return child_folder(folder, folder_name_of(name, info->kind));
      };
      switch (info->kind) {
        case SourceKind::kEml: PSTKIT_RETURN_IF_ERROR(import_eml(child, folder, nullptr)); break;
        case SourceKind::kMbox: {
          PSTKIT_ASSIGN_OR_RETURN(Nid to, target(true));
          PSTKIT_RETURN_IF_ERROR(import_mbox(child, to));
          break;
        }
        case SourceKind::kMaildir: {
          PSTKIT_ASSIGN_OR_RETURN(Nid to, target(true));
          PSTKIT_RETURN_IF_ERROR(import_maildir(child, to));
          break;
        }
        case SourceKind::kDirectory: {
          PSTKIT_ASSIGN_OR_RETURN(Nid to, target(true));
          PSTKIT_RETURN_IF_ERROR(import_directory(child, to, depth + 1));
          break;
        }
        case SourceKind::kUnknown:
          ++counters_.skipped_files;
          counters_.bytes_read += info->size;
          progress_.warning(child, info->size ? "not mail: skipped" : "empty file: skipped");
          break;
      }
    }
    return Status::ok();
  }

  // A folder name for a directory entry: Thunderbird's "X.sbd" holds the
  // subfolders of the mbox "X"; "X.mbox"/"X.mbx" is the mbox X.
  static std::string folder_name_of(const std::string& name, SourceKind kind) {
    const auto strip = [&](const std::string& ext) -> std::optional<std::string> {
      if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
        return name.substr(0, name.size() - ext.size());
      }
      return std::nullopt;
    };
    if (kind == SourceKind::kDirectory) return strip(".sbd").value_or(name);
    if (kind == SourceKind::kMbox) {
      if (auto s = strip(".mbox")) return *s;
      if (auto s = strip(".mbx")) return *s;
    }
    return name;
  }

  // Converts and stages one message; returns non-OK only when the PST failed.
  Status add_message(std::string_view bytes, const std::string& where, Nid folder, const MailFlags* flags) {
    std::vector<std::string> warnings;
    auto message = message_from_mime(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), options_,
                                     &warnings);
    for (const auto& w : warnings) progress_.warning(where, w);
    if (!message) {
      message_failed(where, message.status());
      return Status::ok();
    }
    if (flags) apply_mail_flags(*flags, message->properties);
    auto nid = writer_.create_message(folder, *message);
    if (!nid) {
      if (is_store_failure(nid.status())) return nid.status().with_context(where);
      message_failed(where, nid.status());
      return Status::ok();
    }
    ++counters_.messages;
    counters_.message_bytes += bytes.size();
    ++staged_messages_;
    staged_bytes_ += bytes.size();
    if (staged_messages_ >= std::max<uint32_t>(options_.batch_size, 1) || staged_bytes_ >= options_.batch_bytes) {
      PSTKIT_RETURN_IF_ERROR(commit());
    }
    progress_.update(counters_);
    return Status::ok();
  }

  Status commit() {
    PSTKIT_RETURN_IF_ERROR(writer_.commit());
    // Other writers waiting for the file commit between batches.
    PSTKIT_RETURN_IF_ERROR(writer_.let_other_writers_commit());
    ++counters_.commits;
    staged_messages_ = 0;
    staged_bytes_ = 0;
    progress_.update(counters_);
    return Status::ok();
  }

  // A subfolder by name, created if missing.
  Result<Nid> child_folder(Nid parent, const std::string& name) {
    const auto key = std::make_pair(parent, name);
    if (auto it = folders_.find(key); it != folders_.end()) return it->second;
    auto parent_folder = writer_.store().open_folder(parent);
    if (!parent_folder) return parent_folder.status();
    PSTKIT_ASSIGN_OR_RETURN(auto rows, parent_folder->subfolders());
    for (const auto& row : rows) {
      if (row.props.get_string(prop::kDisplayName).value_or("") == name) return folders_[key] = row.nid;
    }
    PSTKIT_ASSIGN_OR_RETURN(Nid created, writer_.create_folder(parent, name));
    ++counters_.folders_created;
    return folders_[key] = created;
  }

  StoreWriter& writer_;
  ImportOptions options_;
  ImportProgress& progress_;
  ImportCounters& counters_;
  uint64_t staged_messages_ = 0;
  uint64_t staged_bytes_ = 0;
  std::map<std::pair<Nid, std::string>, Nid> folders_;
};

Status import_sources(StoreWriter& writer, Nid folder, const std::vector<std::string>& sources,
                      const ImportOptions& options, ImportProgress* progress) {
  // Once, not once per message, when GMime is missing.
  if (Status loaded = load_gmime(); !loaded) return loaded;
  ImportProgress counting_only;
  Importer importer(writer, options, progress ? *progress : counting_only);
  return importer.run(folder, sources);
}

}  // namespace pstkit::mime
