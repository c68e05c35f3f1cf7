#include "ndb/byte_source.h"

#include "pstkit/env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pstkit::ndb {
namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override {
    if (offset > size_ || len > size_ - offset) {
      return Status::truncated("file", offset,
                               "read of " + std::to_string(len) + " bytes past the end (" +
                                   std::to_string(size_) + " bytes)");
    }
    while (len > 0) {
      const ssize_t n = ::pread(fd_, out, len, off_t(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::io_error(path_ + ": read at " + hex(offset) + ": " + std::strerror(errno));
      }
      if (n == 0) return Status::truncated("file", offset, "unexpected end of file");
      out += n;
      len -= size_t(n);
      offset += uint64_t(n);
    }
    return Status::ok();
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(Bytes data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override {
    if (offset > data_.size() || len > data_.size() - offset) {
      return Status::truncated("file", offset, "read of " + std::to_string(len) + " bytes past the end");
    }
    if (len) std::memcpy(out, data_.data() + offset, len);
    return Status::ok();
  }

 private:
  Bytes data_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> open_file_source(const std::string& path) {
  PSTKIT_ASSIGN_OR_RETURN(const int fd, open_regular_file(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::io_error(path + ": " + std::strerror(e));
  }
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, uint64_t(st.st_size), path));
}

std::unique_ptr<ByteSource> make_memory_source(Bytes data) {
  return std::make_unique<MemorySource>(std::move(data));
}

}  // namespace pstkit::ndb
