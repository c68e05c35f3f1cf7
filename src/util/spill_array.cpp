#include "util/spill_array.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace pstkit {

namespace {

constexpr size_t kDefaultBudget = size_t{1} << 20;

std::string temp_dir() {
  const char* d = std::getenv("TMPDIR");
  return d != nullptr && *d != '\0' ? d : "/tmp";
}

Status spill_error(const std::string& what) {
  return Status::io_error("temporary file in " + temp_dir() + " (records spilled to bound memory): " + what +
                          ": " + std::strerror(errno));
}

std::atomic<size_t> budget_override{0};
std::atomic<uint64_t> files_created{0};

}  // namespace

void set_spill_budget_bytes(size_t bytes) { budget_override = bytes; }
uint64_t spill_files_created() { return files_created; }

size_t spill_budget_bytes() {
  if (const size_t o = budget_override; o != 0) return std::max<size_t>(o, 256);
  static const size_t budget = [] {
    const char* v = std::getenv("PSTKIT_SPILL_BYTES");
    if (v == nullptr || *v == '\0') return kDefaultBudget;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (end == v || *end != '\0') return kDefaultBudget;
    return size_t(std::clamp<unsigned long long>(n, 256, kDefaultBudget * 1024));
  }();
  return budget;
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<SpillFile>> SpillFile::create() {
  const std::string dir = temp_dir();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    // A file system without O_TMPFILE: a named file, unlinked at once.
    std::string name = dir + "/pstkit-spill-XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return spill_error("create");
    ::unlink(name.c_str());
  }
  ++files_created;
  return std::unique_ptr<SpillFile>(new SpillFile(fd));
}

Status SpillFile::write(uint64_t offset, const void* data, size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (len > 0) {
    const ssize_t n = ::pwrite(fd_, p, len, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      return spill_error("write");
    }
    p += n;
    len -= size_t(n);
    offset += uint64_t(n);
  }
  return Status::ok();
}

Status SpillFile::read(uint64_t offset, void* out, size_t len) const {
  auto* p = static_cast<unsigned char*>(out);
  while (len > 0) {
    const ssize_t n = ::pread(fd_, p, len, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      // Past what was written (records appended after a merge pass wrote
      // the file short): never written, so default records.
      std::memset(p, 0, len);
      return Status::ok();
    }
    if (n < 0) return spill_error("read");
    p += n;
    len -= size_t(n);
    offset += uint64_t(n);
  }
  return Status::ok();
}

}  // namespace pstkit
