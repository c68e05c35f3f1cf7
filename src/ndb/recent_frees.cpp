#include "ndb/recent_frees.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>

#include "pstkit/bytes.h"

namespace pstkit::ndb {
namespace {

// The shared record: "PSTKFREE", a version, a count, then per extent its
// offset, size and when it was freed (ms of CLOCK_MONOTONIC), little-endian.
constexpr char kMagic[8] = {'P', 'S', 'T', 'K', 'F', 'R', 'E', 'E'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 16;
constexpr size_t kRecordSize = 24;
// Beyond this many extents in a quiet time the oldest are forgotten
// (they may then be reused a little early): 6 MB at most.
constexpr size_t kMaxRecords = size_t{1} << 18;
// A record of another data file untouched this long has only expired
// extents: it is removed by the next writer of any file.
constexpr int64_t kStaleSeconds = 60;
constexpr const char* kPrefix = "pstkit-";
constexpr const char* kSuffix = ".freed";

int64_t now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string shared_dir() {
  const char* dir = std::getenv("PSTKIT_SHM_DIR");
  return dir && *dir ? dir : "/dev/shm";
}

// Opens (creating if asked) the record with an exclusive flock, making sure
// it is still the file at its path (a stale-record sweep may have removed
// it) and is this user's regular file. Returns -1 if unusable.
int open_locked(const std::string& path, bool create) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const int fd = ::open(path.c_str(), (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -1;
    struct stat st {};
    if (::flock(fd, LOCK_EX) != 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
      ::close(fd);
      return -1;
    }
    if (st.st_nlink > 0) return fd;
    ::close(fd);  // removed meanwhile: open the new one
  }
  return -1;
}

bool read_all(int fd, Bytes* out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || uint64_t(st.st_size) > kHeaderSize + kMaxRecords * kRecordSize) return false;
  out->resize(size_t(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = ::pread(fd, out->data() + done, out->size() - done, off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

// Removes other data files' records that nobody has written for a while.
void sweep_stale(const std::string& dir, const std::string& keep) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  const time_t now = ::time(nullptr);
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(kPrefix, 0) != 0 || name.size() < std::strlen(kSuffix) ||
        name.compare(name.size() - std::strlen(kSuffix), std::string::npos, kSuffix) != 0) {
      continue;
    }
    const std::string path = dir + "/" + name;
    if (path == keep) continue;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
        now - st.st_mtime < kStaleSeconds) {
      continue;
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    struct stat again {};
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &again) == 0 && again.st_nlink > 0 &&
        now - again.st_mtime >= kStaleSeconds) {
      (void)::unlink(path.c_str());
    }
    ::close(fd);
  }
  ::closedir(d);
}

}  // namespace

std::string RecentFrees::record_path(const std::string& data_path) {
  struct stat st {};
  if (data_path.empty() || ::stat(data_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  char name[96];
  std::snprintf(name, sizeof name, "%s%llx-%llx%s", kPrefix, static_cast<unsigned long long>(st.st_dev),
                static_cast<unsigned long long>(st.st_ino), kSuffix);
  return shared_dir() + "/" + name;
}

std::vector<RecentFrees::Record> RecentFrees::read_shared() const {
  std::vector<Record> records;
  if (record_path_.empty()) return records;
  const int fd = open_locked(record_path_, false);
  if (fd < 0) return records;
  Bytes raw;
  const bool ok = read_all(fd, &raw);
  ::close(fd);
  // A damaged or foreign record is ignored (and replaced at the next add).
  if (!ok || raw.size() < kHeaderSize || std::memcmp(raw.data(), kMagic, 8) != 0 ||
      load_le32(raw.data() + 8) != kVersion) {
    return records;
  }
  const uint64_t count = load_le32(raw.data() + 12);
  if (raw.size() != kHeaderSize + count * kRecordSize) return records;
  const int64_t cutoff = now_ms() - quiet_ms_;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* p = raw.data() + kHeaderSize + i * kRecordSize;
    const Record r{load_le64(p), load_le64(p + 8), int64_t(load_le64(p + 16))};
    // A time in the future is from before a reboot (CLOCK_MONOTONIC restarted).
    if (r.freed_ms >= cutoff && r.freed_ms <= now_ms() && r.size > 0) records.push_back(r);
  }
  return records;
}

void RecentFrees::write_shared(const std::vector<Record>& records) const {
  if (record_path_.empty()) return;
  sweep_stale(shared_dir(), record_path_);
  const int fd = open_locked(record_path_, true);
  if (fd < 0) return;
  Bytes raw(kHeaderSize + records.size() * kRecordSize);
  std::memcpy(raw.data(), kMagic, 8);
  store_le32(raw.data() + 8, kVersion);
  store_le32(raw.data() + 12, uint32_t(records.size()));
  for (size_t i = 0; i < records.size(); ++i) {
    uint8_t* p = raw.data() + kHeaderSize + i * kRecordSize;
    store_le64(p, records[i].offset);
    store_le64(p + 8, records[i].size);
    store_le64(p + 16, uint64_t(records[i].freed_ms));
  }
  // Readers of the record hold the same flock, so a short write is never
  // seen; a failed one leaves a record that read_shared rejects.
  size_t done = 0;
  while (done < raw.size()) {
    const ssize_t n = ::pwrite(fd, raw.data() + done, raw.size() - done, off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  (void)::ftruncate(fd, off_t(raw.size()));
  ::close(fd);
}

std::vector<RecentFrees::Extent> RecentFrees::load() {
  if (quiet_ms_ <= 0) return {};
  // The file may have been replaced since (a repair renames a new one over
  // it): its record is found again.
  record_path_ = record_path(data_path_);
  // Ours are in the shared record unless writing it failed: kept either way.
  std::vector<Record> merged = read_shared();
  merged.insert(merged.end(), records_.begin(), records_.end());
  auto key = [](const Record& r) { return std::tuple(r.offset, r.size, r.freed_ms); };
  std::sort(merged.begin(), merged.end(), [&](const Record& x, const Record& y) { return key(x) < key(y); });
  merged.erase(std::unique(merged.begin(), merged.end(), [&](const Record& x, const Record& y) { return key(x) == key(y); }),
               merged.end());
  records_ = std::move(merged);
  return quiet();
}

void RecentFrees::forget() {
  records_.clear();
  record_path_ = record_path(data_path_);
  if (record_path_.empty()) return;
  const int fd = open_locked(record_path_, false);
  if (fd < 0) return;
  (void)::unlink(record_path_.c_str());
  ::close(fd);
}

std::vector<RecentFrees::Extent> RecentFrees::quiet() const {
  if (quiet_ms_ <= 0) return {};
  const int64_t cutoff = now_ms() - quiet_ms_;
  std::vector<Extent> out;
  for (const Record& r : records_) {
    if (r.freed_ms >= cutoff) out.emplace_back(r.offset, r.size);
  }
  return out;
}

std::vector<RecentFrees::Extent> RecentFrees::add(const std::vector<Extent>& freed_extents) {
  if (quiet_ms_ <= 0) return {};
  // A commit frees runs of neighbouring blocks and pages: one record each.
  std::vector<Extent> freed = freed_extents;
  std::sort(freed.begin(), freed.end());
  size_t merged = 0;
  for (size_t i = 0; i < freed.size(); ++i) {
    if (merged > 0 && freed[i].first <= freed[merged - 1].first + freed[merged - 1].second) {
      Extent& last = freed[merged - 1];
      last.second = std::max(last.first + last.second, freed[i].first + freed[i].second) - last.first;
    } else {
      freed[merged++] = freed[i];
    }
  }
  freed.resize(merged);
  const int64_t now = now_ms();
  const int64_t cutoff = now - quiet_ms_;
  records_.erase(
      std::remove_if(records_.begin(), records_.end(), [&](const Record& r) { return r.freed_ms < cutoff; }),
      records_.end());
  for (const auto& [offset, size] : freed) records_.push_back({offset, size, now});
  if (records_.size() > kMaxRecords) records_.erase(records_.begin(), records_.end() - long(kMaxRecords));
  // The shared record changes only under the writer lock, which the caller
  // holds: what load read plus what this writer added is all of it.
  if (!freed.empty()) write_shared(records_);
  return quiet();
}

}  // namespace pstkit::ndb
