// repair_file and recover_file around the rebuild engine (docs/REPAIR.md).
//
// repair_file never changes FILE in place. It rebuilds into a temporary file
// beside FILE, keeps the original inode as the backup (a hard link: instant,
// and whole by construction) and renames the rebuilt file over FILE. The
// rename is the commit point: a kill at any moment leaves FILE as it was or
// repaired, and the backup whole. FILE's writer lock is held from the first
// read to the rename, so pstkit writers wait, and see the new file after
// (WritableDatabase::open reopens a path whose inode changed while it
// waited).
#include "repair/whole_file.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "ndb/index_status.h"
#include "ndb/journal.h"
#include "pstkit/check.h"
#include "pstkit/env.h"
#include "util/file_lock.h"

namespace pstkit::repair::detail {
namespace {

std::string errno_text(const std::string& path, const std::string& what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The temporary files of a run: removed on every way out unless kept. A
// killed run's leftovers under the same names are removed first.
class TempFiles {
 public:
  TempFiles(Env* env, std::vector<std::string> paths) : env_(env), paths_(std::move(paths)) { remove_all(); }
  ~TempFiles() { remove_all(); }
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;
  void keep(const std::string& path) { std::erase(paths_, path); }

 private:
  void remove_all() {
    for (const std::string& p : paths_) {
      // The writer's own journals of a file being rebuilt (killed mid-commit).
      (void)env_->remove(p + "-journal.tmp");
      (void)env_->remove(p + "-journal");
      (void)env_->remove(p);
    }
  }
  Env* env_;
  std::vector<std::string> paths_;
};

// What tells whether another process wrote FILE during the run (without
// pstkit's lock): its inode, size and modification time.
struct FileState {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<FileState> state_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::io_error(errno_text(path, "stat"));
  FileState s;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  s.mode = st.st_mode;
  s.uid = st.st_uid;
  s.gid = st.st_gid;
  return s;
}

Status unchanged_since(const std::string& path, const FileState& before) {
  PSTKIT_ASSIGN_OR_RETURN(const FileState now, state_of(path));
  if (now.dev != before.dev || now.ino != before.ino) {
    return Status::io_error(path + ": replaced by another process during the repair; nothing was changed");
  }
  if (now.size != before.size || now.mtime.tv_sec != before.mtime.tv_sec ||
      now.mtime.tv_nsec != before.mtime.tv_nsec) {
    return Status::io_error(path +
                            ": written by another process during the repair (without pstkit's lock); nothing was "
                            "changed: close the program that has it open and run repair again");
  }
  return Status::ok();
}

std::string finding_line(const check::Finding& f) {
  std::string line = f.code + " " + f.structure;
  if (f.offset != check::kNone) line += " offset=" + hex(f.offset);
  if (f.id != check::kNone) line += " id=" + hex(f.id);
  return line + ": " + f.message;
}

// check_file, with a file it refuses (not a PST, no header left) reported
// as one FILE_UNREADABLE error, as `pstkit check` does. Fails only when the
// file cannot be read.
Result<check::Report> check_or_refusal(const std::string& path) {
  auto r = check::check_file(path);
  if (r.is_ok()) return std::move(*r);
  // Unreadable or locked (kBusy: a lock wait ran out, a crash lock): not damage.
  if (r.status().code() == Code::kIoError || r.status().code() == Code::kBusy) return r.status();
  check::Finding f;
  f.code = "FILE_UNREADABLE";
  f.severity = check::Severity::kError;
  f.structure = r.status().structure().empty() ? "file" : r.status().structure();
  f.offset = r.status().has_offset() ? r.status().offset() : check::kNone;
  f.message = r.status().detail().empty() ? r.status().message() : r.status().detail();
  check::Report report;
  report.findings.push_back(std::move(f));
  report.errors = 1;
  return report;
}

Status sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(errno_text(path, "open"));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::io_error(errno_text(path, "fsync"));
  return Status::ok();
}

// Renames from to to unless to exists (then false).
Result<bool> rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS) return Status::io_error(errno_text(from, "rename to " + to));
  // A file system without RENAME_NOREPLACE: link(2) never replaces either.
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return false;
    return Status::io_error(errno_text(from, "link to " + to));
  }
  ::unlink(from.c_str());
  return true;
}

// A durable copy of from at to, never replacing a file there (then false).
Result<bool> copy_no_replace(const std::string& from, const std::string& to, mode_t mode) {
  const std::string tmp = to + ".pstkit-tmp";
  PSTKIT_ASSIGN_OR_RETURN(const int in, open_regular_file(from, O_RDONLY));
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
  if (out < 0) {
    const Status s = Status::io_error(errno_text(tmp, "create"));
    ::close(in);
    return s;
  }
  Status s;
  std::vector<char> buf(size_t{1} << 20);
  while (s.is_ok()) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::io_error(errno_text(from, "read"));
    if (n <= 0) break;
    for (ssize_t done = 0; done < n && s.is_ok();) {
      const ssize_t w = ::write(out, buf.data() + done, size_t(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) s = Status::io_error(errno_text(tmp, "write"));
      done += w > 0 ? w : 0;
    }
  }
  if (s.is_ok() && ::fsync(out) != 0) s = Status::io_error(errno_text(tmp, "fsync"));
  ::close(in);
  if (::close(out) != 0 && s.is_ok()) s = Status::io_error(errno_text(tmp, "close"));
  Result<bool> placed = s.is_ok() ? rename_no_replace(tmp, to) : Result<bool>(s);
  if (!placed.is_ok() || !*placed) ::unlink(tmp.c_str());
  return placed;
}

// Keeps the original inode of path under a free backup name: a hard link
// where the file system has them, else a copy. A name already linked to
// path's inode is a backup a killed run made and is taken as it is.
Result<std::string> make_backup(Env* env, const std::string& path, const FileState& file,
                                const FileRepairOptions& options) {
  const std::string base = options.backup_path.empty() ? path + ".bak" : options.backup_path;
  for (int n = 0; n < 10000; ++n) {
    const std::string name = n == 0 ? base : base + "." + std::to_string(n);
    struct stat st {};
    if (::lstat(name.c_str(), &st) == 0) {
      if (S_ISREG(st.st_mode) && st.st_dev == file.dev && st.st_ino == file.ino) return name;
      continue;  // never overwritten
    }
    if (errno != ENOENT) return Status::io_error(errno_text(name, "backup"));
    if (::link(path.c_str(), name.c_str()) == 0) {
      PSTKIT_RETURN_IF_ERROR(env->sync_dir_of(name));
      return name;
    }
    if (errno == EEXIST) continue;
    // Another file system than FILE's, or one without hard links: a copy.
    PSTKIT_ASSIGN_OR_RETURN(const bool copied, copy_no_replace(path, name, file.mode));
    if (!copied) continue;
    PSTKIT_RETURN_IF_ERROR(env->sync_dir_of(name));
    return name;
  }
  return Status::io_error(base + ": no free backup name (tried .1 to .9999)");
}

// Read-only is the mode bits too: root may write any file, but a file or
// directory its owner made read-only is not one to change.
bool writable(const std::string& path) {
  struct stat st {};
  if (::access(path.c_str(), W_OK) != 0) return false;
  if (::stat(path.c_str(), &st) != 0) return false;
  if ((st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0) {
    errno = EACCES;
    return false;
  }
  return true;
}

Status writable_dir_of(const std::string& path) {
  const std::string dir = dir_of(path);
  if (!writable(dir)) {
    return Status::io_error(dir + ": the directory is read-only (" + std::string(std::strerror(errno)) +
                            "): the new file is written beside " + path);
  }
  return Status::ok();
}

// Reports progress and hears the engine's stage names.
struct Progress {
  const FileRepairOptions& options;
  std::string stage;
  void operator()(const std::string& s, uint64_t done, uint64_t total) {
    stage = s;
    if (options.progress) options.progress(s, done, total);
  }
};

RebuildOptions engine_options(const FileRepairOptions& options, Progress& progress, uint64_t* changes) {
  RebuildOptions ro;
  ro.include_deleted = options.include_deleted;
  ro.on_change = [&options, changes](const Change& c) {
    ++*changes;
    if (options.on_change) options.on_change(c);
  };
  ro.on_stage = [&progress](const std::string& stage) { progress(stage, 0, 0); };
  ro.progress = [&progress](uint64_t done, uint64_t total) { progress(progress.stage, done, total); };
  return ro;
}

void report_after(const check::Report& verify, const FileRepairOptions& options, FileRepairResult* result) {
  result->errors_after = verify.errors;
  result->unrepaired.clear();
  for (const check::Finding& f : verify.findings) {
    if (options.on_finding) options.on_finding("after", f);
    if (f.severity == check::Severity::kError) result->unrepaired.push_back(finding_line(f));
  }
}

// The rebuild's source index and writer are gone: what they freed goes
// back to the system before the verifying check allocates its own, so
// that the peak is the larger of the two, not their sum (glibc keeps freed
// small allocations in the heap otherwise).
void release_freed_memory() { (void)::malloc_trim(0); }

// A symbolic link is followed: the file it names is repaired, beside
// itself, and the link stays.
std::string followed(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string out = real;
  std::free(real);
  return out;
}

}  // namespace

std::string temp_path_of(const std::string& path) { return path + ".pstkit-repair"; }

Result<FileRepairResult> repair_file_with(const std::string& named_path, const FileRepairOptions& options,
                                          const Engine& engine) {
  const std::string path = followed(named_path);
  Env* env = Env::posix();
  Progress progress{options, ""};
  FileRepairResult result;

  // What cannot work is refused before anything is read or written.
  PSTKIT_ASSIGN_OR_RETURN(auto file, env->open(path, OpenMode::kExisting));
  if (!writable(path)) {
    return Status::io_error(path + ": the file is read-only (" + std::string(std::strerror(errno)) +
                            "); `pstkit recover FILE OUT.pst` writes a repaired copy elsewhere");
  }
  if (!options.dry_run) PSTKIT_RETURN_IF_ERROR(writable_dir_of(path));

  // FILE's writer lock, as pstkit's writers take it, for the whole run; a
  // file renamed over path while this waited is opened again.
  LockWait wait;
  wait.timeout = options.lock_timeout.count() >= 0 ? options.lock_timeout : filelock::default_timeout();
  for (int attempt = 0;; ++attempt) {
    PSTKIT_RETURN_IF_ERROR(file->lock(FileLock::kWriter, LockMode::kExclusive, wait));
    PSTKIT_ASSIGN_OR_RETURN(const bool replaced, file->replaced_at_path());
    if (!replaced) break;
    if (attempt == 8) return Status::io_error(path + ": replaced by another process again and again");
    PSTKIT_ASSIGN_OR_RETURN(file, env->open(path, OpenMode::kExisting));
  }
  // A commit interrupted by a crash is completed or undone first, as every
  // writer does (docs/COMMIT_PROTOCOL.md); a foreign FILE-journal refuses.
  PSTKIT_RETURN_IF_ERROR(ndb::recover_from_journal(env, path, file.get()).status());
  PSTKIT_ASSIGN_OR_RETURN(const FileState before, state_of(path));

  // A 4K-page OST cannot be written (pstkit writes PSTs): recover converts it.
  {
    Bytes head(size_t(std::min<uint64_t>(file->size(), 4096)));
    if (!head.empty() && file->read(0, head.size(), head.data()).is_ok()) {
      auto h = ndb::parse_header(head, file->size());
      if (h.is_ok() && h->format == ndb::FileFormat::kUnicode4k) {
        return Status::unsupported(path + ": a 4K-page OST cannot be written; run `pstkit recover " + path +
                                   " OUT.pst` to recover it into a new PST");
      }
    }
  }

  progress("check", 0, 1);
  PSTKIT_ASSIGN_OR_RETURN(const check::Report first, check_or_refusal(path));
  progress("check", 1, 1);
  for (const check::Finding& f : first.findings) {
    if (options.on_finding) options.on_finding("before", f);
  }
  result.errors_before = first.errors;
  if (first.errors == 0) {
    result.was_clean = true;
    return result;
  }

  const std::string temp = temp_path_of(path);
  const std::string next = temp + ".next";
  TempFiles temps(env, {temp, next});
  uint64_t changes = 0;
  RebuildOptions ro = engine_options(options, progress, &changes);
  ro.env = env;
  uint64_t errors = first.errors;
  const int passes = std::max(1, options.max_passes);
  for (int pass = 1; pass <= passes; ++pass) {
    // Pass 1 reads FILE; a further pass rebuilds the previous result.
    const std::string source_path = pass == 1 ? path : temp;
    const std::string dest = pass == 1 ? temp : next;
    progress("scan", 0, 0);
    std::vector<Change> notes;
    PSTKIT_ASSIGN_OR_RETURN(auto source, engine.open(source_path, options.include_deleted, &notes));
    for (const Change& c : notes) ro.on_change(c);
    if (pass == 1) {
      const ndb::Header& h = source->header();
      if (h.format == ndb::FileFormat::kUnicode4k) {
        return Status::unsupported(path + ": a 4K-page OST cannot be written; run `pstkit recover " + path +
                                   " OUT.pst` to recover it into a new PST");
      }
      // ANSI stays ANSI, Unicode Unicode, with the same block encoding.
      ro.format = h.format;
      ro.crypt = h.crypt;
    }
    PSTKIT_ASSIGN_OR_RETURN(RebuildReport report, engine.rebuild(*source, dest, ro));
    // A salvaged index whose temporary file failed found nothing since.
    PSTKIT_RETURN_IF_ERROR(ndb::index_status(*source));
    source.reset();
    release_freed_memory();
    if (pass == 1) {
      result.rebuild = report;
    } else {
      PSTKIT_RETURN_IF_ERROR(env->rename(next, temp));
      result.rebuild.folders = report.folders;
      result.rebuild.messages = report.messages;
      result.rebuild.lost_and_found += report.lost_and_found;
      result.rebuild.folders_recreated += report.folders_recreated;
    }
    result.rebuild.changes = changes;
    result.passes = pass;
    progress("verify", 0, 1);
    PSTKIT_ASSIGN_OR_RETURN(const check::Report verify, check_or_refusal(temp));
    progress("verify", 1, 1);
    const bool last = verify.errors == 0 || pass == passes || (pass > 1 && verify.errors >= errors);
    errors = verify.errors;
    if (last) {
      report_after(verify, options, &result);
      break;
    }
  }

  // A dry run stops here (the temporary file goes); so does a rebuild that
  // made nothing better.
  if (options.dry_run || result.errors_after >= result.errors_before) return result;

  // The commit: another process must not have written FILE meanwhile.
  PSTKIT_RETURN_IF_ERROR(unchanged_since(path, before));
  // FILE's permissions (and owner, where allowed) carry over.
  if (::chmod(temp.c_str(), before.mode & 07777) != 0) return Status::io_error(errno_text(temp, "chmod"));
  if (::chown(temp.c_str(), before.uid, before.gid) != 0 && errno != EPERM) {
    return Status::io_error(errno_text(temp, "chown"));
  }
  PSTKIT_RETURN_IF_ERROR(sync_file(temp));
  std::string made_backup;
  if (!options.no_backup) {
    PSTKIT_ASSIGN_OR_RETURN(made_backup, make_backup(env, path, before, options));
  }
  Status committed = unchanged_since(path, before);
  // The commit point.
  if (committed.is_ok()) committed = env->rename(temp, path);
  if (!committed.is_ok()) {
    // FILE is as it was: a backup linked to it now would change with it.
    struct stat st {};
    if (!made_backup.empty() && ::stat(made_backup.c_str(), &st) == 0 && st.st_ino == before.ino &&
        st.st_dev == before.dev) {
      ::unlink(made_backup.c_str());
    }
    return committed;
  }
  temps.keep(temp);
  PSTKIT_RETURN_IF_ERROR(env->sync_dir_of(path));
  result.backup = made_backup;
  result.changed = true;
  return result;
}

Result<FileRepairResult> recover_file_with(const std::string& in_path, const std::string& out_path,
                                           const FileRepairOptions& options, const Engine& engine) {
  Env* env = Env::posix();
  Progress progress{options, ""};
  FileRepairResult result;
  // IN is only read: opened read-only here to refuse what is not a readable
  // regular file at once.
  {
    PSTKIT_ASSIGN_OR_RETURN(const int fd, open_regular_file(in_path, O_RDONLY));
    ::close(fd);
  }
  struct stat st {};
  if (::lstat(out_path.c_str(), &st) == 0) {
    return Status::io_error(out_path + ": exists; recover writes a new file and never replaces one");
  }
  PSTKIT_RETURN_IF_ERROR(writable_dir_of(out_path));

  const std::string temp = out_path + ".pstkit-recover";
  TempFiles temps(env, {temp});
  uint64_t changes = 0;
  RebuildOptions ro = engine_options(options, progress, &changes);
  ro.env = env;
  // Always a Unicode PST (an ANSI one is limited to 2 GB; an OST becomes a PST).
  ro.format = ndb::FileFormat::kUnicode;
  ro.crypt = ndb::CryptMethod::kPermute;
  progress("scan", 0, 0);
  std::vector<Change> notes;
  PSTKIT_ASSIGN_OR_RETURN(auto source, engine.open(in_path, options.include_deleted, &notes));
  for (const Change& c : notes) ro.on_change(c);
  PSTKIT_ASSIGN_OR_RETURN(result.rebuild, engine.rebuild(*source, temp, ro));
  PSTKIT_RETURN_IF_ERROR(ndb::index_status(*source));
  source.reset();
  release_freed_memory();
  result.rebuild.changes = changes;
  result.passes = 1;
  progress("verify", 0, 1);
  PSTKIT_ASSIGN_OR_RETURN(const check::Report verify, check_or_refusal(temp));
  progress("verify", 1, 1);
  report_after(verify, options, &result);

  PSTKIT_RETURN_IF_ERROR(sync_file(temp));
  PSTKIT_ASSIGN_OR_RETURN(const bool placed, rename_no_replace(temp, out_path));
  if (!placed) return Status::io_error(out_path + ": created by another process meanwhile; left as it is");
  temps.keep(temp);
  PSTKIT_RETURN_IF_ERROR(env->sync_dir_of(out_path));
  result.changed = true;
  return result;
}

}  // namespace pstkit::repair::detail
