#include "cli/export_writers.h"

#include <fcntl.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>

#include "cli/cli.h"
#include "cli/export_journal.h"

namespace pstkit::cli {
namespace {

namespace fs = std::filesystem;

// [MS-OXPROPS] properties the mail flags come from.
constexpr int32_t kMsgFlagRead = 0x1;    // MS-OXCMSG 2.2.1.6 mfRead
constexpr int32_t kMsgFlagUnsent = 0x8;  // mfUnsent: a draft

struct MailFlags {
  bool read = false, answered = false, forwarded = false, flagged = false, draft = false;
};

MailFlags flags_of(const Message& message) {
  const PropertyBag& p = message.properties();
  MailFlags f;
  const int32_t flags = p.get_i32(prop::kMessageFlags).value_or(0);
  f.read = flags & kMsgFlagRead;
  f.draft = flags & kMsgFlagUnsent;
  f.flagged = p.get_i32(prop::kFlagStatus).value_or(0) == 2;  // followupFlagged
  switch (p.get_i32(prop::kLastVerbExecuted).value_or(0)) {     // MS-OXOMSG 2.2.1.4
    case 102:                                             // NOTEIVERB_REPLYTOSENDER
    case 103: f.answered = true; break;                   // NOTEIVERB_REPLYTOALL
    case 104: f.forwarded = true; break;                  // NOTEIVERB_FORWARD
    default: break;
  }
  return f;
}

// Delivery time (else submit, else creation) in Unix seconds; 0 if none.
int64_t delivery_time(const Message& message) {
  const PropertyBag& p = message.properties();
  std::optional<uint64_t> t = p.get_time(prop::kMessageDeliveryTime);
  if (!t) t = p.get_time(prop::kClientSubmitTime);
  if (!t) t = p.get_time(prop::kCreationTime);
  if (!t || *t < 116444736000000000ULL) return 0;
  return int64_t((*t - 116444736000000000ULL) / 10000000ULL);
}

std::string io_error(const fs::path& path) { return path.string() + ": " + std::strerror(errno ? errno : EIO); }

// Lexically: the sinks' paths are `out` with names appended, and
// fs::relative resolves every component of both paths on disk (about 1 ms
// for each folder of an export).
std::string relative_to(const fs::path& path, const fs::path& out) {
  fs::path relative = path.lexically_normal().lexically_relative(out.lexically_normal());
  if (relative.empty()) relative = fs::relative(path, out);  // not below out as written
  return relative.string();
}

// SHA-256 of what a sink writes, fed as it writes (nettle, as sha256_hex).
class Sha256 {
 public:
  Sha256() { sha256_init(&ctx_); }
  void update(std::string_view data) {
    sha256_update(&ctx_, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
  }
  std::string hex() {
    uint8_t md[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx_, sizeof md, md);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (uint8_t b : md) {
      out += digits[b >> 4];
      out += digits[b & 15];
    }
    return out;
  }

 private:
  sha256_ctx ctx_;
};

// Writes a whole file with POSIX calls (no stream objects per item), path
// relative to the directory dir_fd (or AT_FDCWD); false with errno set when
// that failed.
// Writes all of data to fd; false with errno set when that failed.
bool write_all(int fd, ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    done += size_t(n);
  }
  return true;
}

bool write_whole_file(int dir_fd, const char* path, ByteView data) {
  const int fd = ::openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  if (!write_all(fd, data)) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return false;
  }
  // No fsync: an export is a copy that can be made again; close reports
  // the write errors the file system deferred.
  return ::close(fd) == 0;
}

// An ItemFile on a POSIX file: created at `path` (relative to dir_fd, the
// directory `dir`, which errors name), renamed to `final_path` when finished
// if that differs (Maildir's tmp/ to cur/), with the delivery time as its
// file time if `when` is set.
class PosixItemFile : public ItemFile {
 public:
  PosixItemFile(int dir_fd, fs::path dir, std::string path, std::string final_path, std::string manifest_path,
                std::optional<int64_t> when, int fd)
      : dir_fd_(dir_fd), dir_(std::move(dir)), path_(std::move(path)), final_path_(std::move(final_path)),
        manifest_path_(std::move(manifest_path)), when_(when), fd_(fd) {}
  ~PosixItemFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  bool write(ByteView piece) override {
    if (!write_all(fd_, piece)) {
      error_ = io_error(dir_ / path_);
      return false;
    }
    sha256_.update(std::string_view(reinterpret_cast<const char*>(piece.data()), piece.size()));
    return true;
  }
  bool finish(ExportedFile* file, std::string* error) override {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) return *error = io_error(dir_ / path_), false;
    if (when_) {
      struct timespec times[2] = {{time_t(*when_), 0}, {time_t(*when_), 0}};
      ::utimensat(dir_fd_, path_.c_str(), times, 0);
    }
    if (final_path_ != path_ && ::renameat(dir_fd_, path_.c_str(), dir_fd_, final_path_.c_str()) != 0)
      return *error = io_error(dir_ / final_path_), false;
    file->path = manifest_path_;
    file->sha256 = sha256_.hex();
    return true;
  }
  void abandon() override {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    ::unlinkat(dir_fd_, path_.c_str(), 0);
  }

 private:
  int dir_fd_;
  fs::path dir_;
  std::string path_, final_path_, manifest_path_;
  std::optional<int64_t> when_;
  int fd_;
  Sha256 sha256_;
};

// ---- one .eml (or .msg) file per item -----------------------------------

class EmlSink : public FolderSink {
 public:
  EmlSink(fs::path dir, fs::path out, std::string extension)
      : dir_(std::move(dir)), out_(std::move(out)), extension_(std::move(extension)) {
    location_ = relative_to(dir_, out_);
  }
  bool add(const Message& message, const Bytes& eml, std::string* error) override {
    return add_beside(message, extension_, eml, error);
  }
  bool add_beside(const Message& message, const std::string& extension, const Bytes& eml,
                  std::string* error) override {
    return add_written(message, extension, eml, error);
  }
  bool writes_items_anywhere() const override { return true; }
  bool write_item(const Message& message, const std::string& extension, ByteView data, std::string sha256,
                  ExportedFile* file, std::string* error) override {
    if (!make_directory(error)) return false;
    const std::string name = file_name(message, extension);
    if (!write_whole_file(dir_fd_, name.c_str(), data)) return *error = io_error(dir_ / name), false;
    file->path = in_location(name);
    file->sha256 = sha256.empty() ? sha256_hex(data) : std::move(sha256);
    return true;
  }
  std::unique_ptr<ItemFile> open_item_file(const Message& message, const std::string& extension,
                                           std::string* error) override {
    if (!make_directory(error)) return nullptr;
    const std::string name = file_name(message, extension);
    const int fd = ::openat(dir_fd_, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return *error = io_error(dir_ / name), nullptr;
    return std::make_unique<PosixItemFile>(dir_fd_, dir_, name, name, in_location(name), std::nullopt, fd);
  }
  bool finish(std::string*) override { return true; }
  ~EmlSink() override {
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }

 private:
  std::string file_name(const Message& message, const std::string& extension) const {
    return std::to_string(message.nid()) + "." + (extension.empty() ? extension_ : extension);
  }
  // The directory is made with the first file (a folder whose items all
  // fail has none), once, whichever thread writes it.
  bool make_directory(std::string* error) {
    if (created_.load(std::memory_order_acquire)) return true;
    std::lock_guard<std::mutex> lock(create_mu_);
    if (created_.load(std::memory_order_relaxed)) return true;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return *error = dir_.string() + ": " + ec.message(), false;
    // Files are created relative to it: no walk of the whole path per file.
    dir_fd_ = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) return *error = io_error(dir_), false;
    created_.store(true, std::memory_order_release);
    return true;
  }

  fs::path dir_, out_;
  std::string extension_;
  std::mutex create_mu_;
  std::atomic<bool> created_{false};
  int dir_fd_ = -1;  // dir_, once created (written before created_ is set)
};

// ---- mboxrd (mbox and Thunderbird) ---------------------------------------

class MboxSink : public FolderSink {
 public:
  MboxSink(fs::path file, fs::path out, bool mozilla)
      : file_(std::move(file)), out_(std::move(out)), mozilla_(mozilla) {
    location_ = relative_to(file_, out_);
  }
  bool open(std::string* error) {
    std::error_code ec;
    fs::create_directories(file_.parent_path(), ec);
    if (ec) return *error = file_.parent_path().string() + ": " + ec.message(), false;
    stream_.open(file_, std::ios::binary | std::ios::trunc);
    if (!stream_) return *error = io_error(file_), false;
    return true;
  }
  bool add(const Message& message, const Bytes& eml, std::string* error) override {
    std::string text;
    prepare(message, eml, &text);
    return add_prepared(text, error);
  }
  bool prepares_items() const override { return true; }
  void prepare(const Message& message, const Bytes& eml, std::string* text) const override {
    const MailFlags f = flags_of(message);
    *text = mbox_from_line(message);
    // mbox flags (Status, X-Status), which mail readers and Python's mailbox read.
    *text += std::string("Status: ") + (f.read ? "RO" : "O") + "\n";
    std::string x;
    if (f.answered) x += 'A';
    if (f.flagged) x += 'F';
    if (f.draft) x += 'T';
    if (!x.empty()) *text += "X-Status: " + x + "\n";
    if (mozilla_) {
      // Thunderbird's own flags: read 0x1, replied 0x2, marked 0x4, forwarded 0x1000.
      unsigned m = (f.read ? 0x1 : 0) | (f.answered ? 0x2 : 0) | (f.flagged ? 0x4 : 0) | (f.forwarded ? 0x1000 : 0);
      char line[64];
      std::snprintf(line, sizeof line, "X-Mozilla-Status: %04x\nX-Mozilla-Status2: 00000000\n", m);
      *text += line;
    }
    append_mboxrd(text, std::string_view(reinterpret_cast<const char*>(eml.data()), eml.size()));
  }
  bool add_prepared(std::string_view text, std::string* error) override {
    stream_.write(text.data(), std::streamsize(text.size()));
    sha256_.update(text);  // hashed as written, not read back
    if (!stream_) return *error = io_error(file_), false;
    return true;
  }
  bool finish(std::string* error) override {
    stream_.close();
    if (!stream_) return *error = io_error(file_), false;
    files_.push_back({location_, sha256_.hex()});
    return true;
  }

 private:
  fs::path file_, out_;
  bool mozilla_;
  std::ofstream stream_;
  Sha256 sha256_;
};

// ---- Maildir++ ------------------------------------------------------------

class MaildirSink : public FolderSink {
 public:
  MaildirSink(fs::path dir, fs::path out) : dir_(std::move(dir)), out_(std::move(out)) {
    location_ = relative_to(dir_, out_);
  }
  bool open(bool subfolder, std::string* error) {
    std::error_code ec;
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(dir_ / sub, ec);
    if (ec) return *error = dir_.string() + ": " + ec.message(), false;
    if (subfolder) std::ofstream(dir_ / "maildirfolder");  // Maildir++ marks its subfolders so
    return true;
  }
  bool add(const Message& message, const Bytes& eml, std::string* error) override {
    return add_written(message, "", eml, error);
  }
  // Each file's name comes from its item alone (and cur/, new/, tmp/ exist
  // from open()): the workers write them, in parallel.
  bool writes_items_anywhere() const override { return true; }
  bool write_item(const Message& message, const std::string& extension, ByteView data, std::string sha256,
                  ExportedFile* file, std::string* error) override {
    if (!extension.empty()) return *error = "a Maildir keeps no files beside its messages", false;
    const Names n = names(message);
    fs::path tmp = dir_ / n.tmp;
    fs::path final = dir_ / n.cur;
    if (!write_whole_file(AT_FDCWD, tmp.c_str(), data)) return *error = io_error(tmp), false;
    // The delivery time as the file time (readers sort and date by it).
    struct timespec times[2] = {{time_t(n.when), 0}, {time_t(n.when), 0}};
    ::utimensat(AT_FDCWD, tmp.c_str(), times, 0);
    if (::rename(tmp.c_str(), final.c_str()) != 0) return *error = io_error(final), false;
    file->path = in_location(n.cur);
    file->sha256 = sha256.empty() ? sha256_hex(data) : std::move(sha256);
    return true;
  }
  std::unique_ptr<ItemFile> open_item_file(const Message& message, const std::string& extension,
                                           std::string* error) override {
    if (!extension.empty()) return *error = "a Maildir keeps no files beside its messages", nullptr;
    const Names n = names(message);
    const std::string tmp = (dir_ / n.tmp).string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return *error = io_error(tmp), nullptr;
    return std::make_unique<PosixItemFile>(AT_FDCWD, fs::path(), tmp, (dir_ / n.cur).string(), in_location(n.cur),
                                           n.when, fd);
  }
  bool finish(std::string*) override { return true; }

 private:
  struct Names {
    int64_t when;     // the delivery time, the file's time
    std::string tmp;  // tmp/<unique>
    std::string cur;  // cur/<unique>:2,<flags>
  };
  static Names names(const Message& message) {
    const MailFlags f = flags_of(message);
    Names n;
    n.when = delivery_time(message);
    // Info flags in ASCII order (maildir(5)): Draft, Flagged, Passed, Replied, Seen.
    std::string info = ":2,";
    if (f.draft) info += 'D';
    if (f.flagged) info += 'F';
    if (f.forwarded) info += 'P';
    if (f.answered) info += 'R';
    if (f.read) info += 'S';
    // A unique name derived from the item, so a second export names it alike.
    const std::string unique = std::to_string(n.when) + ".N" + std::to_string(message.nid()) + ".pstkit";
    n.tmp = "tmp/" + unique;
    n.cur = "cur/" + unique + info;
    return n;
  }
  fs::path dir_, out_;
};

// Maildir++ folder names: components joined by "."; a "." inside a name
// would split it, so it becomes "_".
std::string maildir_component(std::string name) {
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

class Layout : public ExportLayout {
 public:
  Layout(std::string format, fs::path base, fs::path out)
      : format_(std::move(format)), base_(std::move(base)), out_(std::move(out)) {}
  bool crlf() const override { return format_ == "eml"; }
  bool keeps_empty(const FolderPlace& place) const override {
    if (has_file_per_item(format_)) return false;
    // Maildir++'s top folder (cur/, new/, tmp/ in DIR) is the IPM subtree.
    if (format_ == "maildir") return place.below_ipm_subtree;
    return place.below_ipm_subtree && !place.is_ipm_subtree;
  }

  std::unique_ptr<FolderSink> open(const FolderPlace& place, std::string* error) override {
    fs::path dir = base_;
    for (const auto& n : place.names) dir /= n;
    if (has_file_per_item(format_)) return std::make_unique<EmlSink>(dir, out_, format_);
    if (format_ == "mbox") {
      auto sink = std::make_unique<MboxSink>(dir / "mbox", out_, false);
      return sink->open(error) ? std::move(sink) : nullptr;
    }
    // The mail clients' trees start below the IPM subtree.
    std::vector<std::string> names = place.names;
    if (place.below_ipm_subtree && !names.empty()) names.erase(names.begin());
    if (format_ == "maildir") {
      std::string folder;
      for (const auto& n : names) folder += "." + maildir_component(n);
      auto sink = std::make_unique<MaildirSink>(base_ / folder, out_);
      return sink->open(!folder.empty(), error) ? std::move(sink) : nullptr;
    }
    // thunderbird: Inbox is a file, its subfolders are in Inbox.sbd/.
    if (names.empty()) names.push_back(place.display_name.empty() ? "Unnamed" : place.display_name);
    fs::path file = base_;
    for (size_t i = 0; i + 1 < names.size(); ++i) file /= names[i] + ".sbd";
    file /= names.back();
    auto sink = std::make_unique<MboxSink>(file, out_, true);
    return sink->open(error) ? std::move(sink) : nullptr;
  }

 private:
  std::string format_;
  fs::path base_, out_;
};

}  // namespace

bool has_file_per_item(const std::string& format) {
  return format == "eml" || format == "msg" || format == "ics" || format == "vcf";
}

bool workers_write_items(const std::string& format) { return has_file_per_item(format) || format == "maildir"; }

std::string directory_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '/') out += '_';
    else if (c != '\0') out += c;
  }
  if (out.size() > 200) {
    size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

std::string mbox_from_line(const Message& message) {
  const PropertyBag& p = message.properties();
  std::string sender = p.get_string(prop::kSentRepresentingSmtpAddress).value_or("");
  if (sender.empty()) sender = p.get_string(prop::kSentRepresentingEmailAddress).value_or("");
  if (sender.find('@') == std::string::npos) sender.clear();
  if (sender.empty() || sender.find_first_of(" \t\r\n") != std::string::npos) sender = "MAILER-DAEMON";
  std::time_t t = std::time_t(delivery_time(message));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  return "From " + sender + " " + when + "\n";
}

std::unique_ptr<ExportLayout> ExportLayout::make(const std::string& format, const fs::path& base, const fs::path& out) {
  if (format != "eml" && format != "mbox" && format != "maildir" && format != "thunderbird" && format != "msg" &&
      format != "ics" && format != "vcf")
    return nullptr;
  return std::make_unique<Layout>(format, base, out);
}

// ---- manifest.json's "files" ----------------------------------------------

ManifestFiles::~ManifestFiles() {
  if (entries_) std::fclose(entries_);
}

bool ManifestFiles::open(std::string* error) {
  entries_ = std::tmpfile();
  if (!entries_) return *error = std::string("temporary file for the manifest: ") + std::strerror(errno), false;
  return true;
}

bool ManifestFiles::add(const std::string& path, const std::string& sha256, std::string* error) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : path) hash = (hash ^ c) * 0x100000001b3ULL;
  // One line per entry as dump(2) writes a member of a top-level object's
  // object (a JSON string holds no raw line end).
  const std::string line = "    " + json_quoted(path) + ": " + json_quoted(sha256) + "\n";
  if (!entries_ || std::fwrite(line.data(), 1, line.size(), entries_) != line.size())
    return *error = std::string("temporary file for the manifest: ") + std::strerror(errno ? errno : EIO), false;
  path_hashes_.add(hash);
  ++count_;
  return true;
}

bool ManifestFiles::write(const nlohmann::ordered_json& manifest, const fs::path& file, std::string* error) {
  const std::string text = manifest.dump(2) + "\n";
  // The top-level member is the only place this appears unescaped: strings
  // inside the manifest hold no raw line end.
  const std::string_view empty_files = "\n  \"files\": {}";
  const size_t at = text.find(empty_files);
  SpillArray<uint64_t> repeated(kHashBudget);  // entries whose path an earlier one has
  if (Status s = path_hashes_.find(&repeated); !s.is_ok())
    return *error = "temporary file for the manifest: " + s.message(), false;
  std::FILE* out = std::fopen(file.c_str(), "wb");
  if (!out) return *error = io_error(file), false;
  bool ok = true;
  auto put = [&](std::string_view s) { ok = ok && std::fwrite(s.data(), 1, s.size(), out) == s.size(); };
  if (at == std::string::npos || count_ == 0) {
    put(text);
  } else {
    put(std::string_view(text).substr(0, at));
    put("\n  \"files\": {\n");
    ok = ok && entries_ && std::fflush(entries_) == 0 && std::fseek(entries_, 0, SEEK_SET) == 0;
    // Lines ",\n"-joined: each but the last loses its "\n" to a ",\n".
    bool first = true;
    char* line = nullptr;
    size_t capacity = 0;
    ssize_t n;
    size_t next_repeated = 0;  // in `repeated`
    for (uint64_t entry = 0; ok && (n = ::getline(&line, &capacity, entries_)) > 0; ++entry) {
      if (next_repeated < repeated.size() && repeated.get(next_repeated) == entry) {
        ++next_repeated;
        continue;
      }
      if (!first) put(",\n");
      first = false;
      put(std::string_view(line, size_t(n) - 1));
    }
    std::free(line);
    put("\n  }");
    put(std::string_view(text).substr(at + empty_files.size()));
  }
  if (std::fclose(out) != 0) ok = false;
  if (!ok) return *error = io_error(file), false;
  return true;
}

}  // namespace pstkit::cli
