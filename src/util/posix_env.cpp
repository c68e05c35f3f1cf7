// POSIX implementation of Env: pread/pwrite, fdatasync, directory fsync.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "pstkit/env.h"
#include "util/file_lock.h"

namespace pstkit {
namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return path + ": " + what + ": " + std::strerror(errno);
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file";
}

Status not_regular(const std::string& path, mode_t mode) {
  return Status::io_error(path + ": not a regular file but " + std::string(file_kind(mode)));
}

class PosixFile final : public WritableFile {
 public:
  PosixFile(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  uint64_t size() const override { return size_; }

  Status read(uint64_t offset, size_t len, uint8_t* out) const override {
    if (offset > size_ || len > size_ - offset) {
      return Status::truncated("file", offset, "read of " + std::to_string(len) + " bytes past the end");
    }
    while (len > 0) {
      const ssize_t n = ::pread(fd_, out, len, off_t(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::io_error(errno_text("read", path_));
      }
      if (n == 0) return Status::truncated("file", offset, "unexpected end of file");
      out += n;
      len -= size_t(n);
      offset += uint64_t(n);
    }
    return Status::ok();
  }

  Status write(uint64_t offset, ByteView data) override {
    const uint8_t* p = data.data();
    size_t len = data.size();
    uint64_t at = offset;
    while (len > 0) {
      const ssize_t n = ::pwrite(fd_, p, len, off_t(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::io_error(errno_text("write", path_));
      }
      p += n;
      len -= size_t(n);
      at += uint64_t(n);
    }
    size_ = std::max(size_, offset + data.size());
    return Status::ok();
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return Status::io_error(errno_text("fsync", path_));
    return Status::ok();
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, off_t(size)) != 0) return Status::io_error(errno_text("truncate", path_));
    size_ = size;
    return Status::ok();
  }

  Status lock(FileLock which, LockMode mode, const LockWait& wait) override {
    if (which == FileLock::kWriter) {
      if (mode == LockMode::kUnlock) {
        filelock::unlock_writer(fd_);
        return Status::ok();
      }
      PSTKIT_RETURN_IF_ERROR(filelock::lock_writer(fd_, path_, wait, mode == LockMode::kExclusiveAfterWaiters));
      // Another writer may have grown the file while this one waited.
      struct stat st {};
      if (::fstat(fd_, &st) != 0) return Status::io_error(errno_text("stat", path_));
      size_ = uint64_t(st.st_size);
      return Status::ok();
    }
    if (mode == LockMode::kUnlock) {
      filelock::let_readers_in(path_);
      return Status::ok();
    }
    return filelock::keep_readers_out(path_, wait);
  }

  Result<bool> replaced_at_path() const override {
    struct stat mine {}, named {};
    if (::fstat(fd_, &mine) != 0) return Status::io_error(errno_text("stat", path_));
    if (::stat(path_.c_str(), &named) != 0) {
      if (errno == ENOENT) return true;
      return Status::io_error(errno_text("stat", path_));
    }
    return mine.st_dev != named.st_dev || mine.st_ino != named.st_ino;
  }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> open(const std::string& path, OpenMode mode) override {
    int flags = O_RDWR | O_CLOEXEC;
    if (mode == OpenMode::kCreateNew) flags |= O_CREAT | O_EXCL;
    if (mode == OpenMode::kCreateOrTruncate) flags |= O_CREAT | O_TRUNC;
    PSTKIT_ASSIGN_OR_RETURN(const int fd, open_regular_file(path, flags));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Status::io_error(errno_text("stat", path));
    }
    return std::unique_ptr<WritableFile>(std::make_unique<PosixFile>(fd, path, uint64_t(st.st_size)));
  }

  bool exists(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::io_error(errno_text("remove", path));
    return Status::ok();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Status::io_error(errno_text("rename to " + to, from));
    return Status::ok();
  }

  Status sync_dir_of(const std::string& path) override {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::io_error(errno_text("open directory", dir));
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return Status::io_error(errno_text("fsync directory", dir));
    return Status::ok();
  }
};

}  // namespace

Result<int> open_regular_file(const std::string& path, int flags, unsigned mode) {
  // A path that exists and is no regular file is refused before open(2),
  // which would fail on a directory for writing and block on a FIFO without
  // O_NONBLOCK; the fstat below covers a file replaced in between.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NONBLOCK, mode_t(mode));
  if (fd < 0) return Status::io_error(path + ": " + std::strerror(errno));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const Status s = not_regular(path, st.st_mode);
    ::close(fd);
    return s;
  }
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
    const Status s = Status::io_error(errno_text("fcntl", path));
    ::close(fd);
    return s;
  }
  return fd;
}

Env* Env::posix() {
  static PosixEnv env;
  return &env;
}

}  // namespace pstkit
