#include "ndb/journal.h"

#include <algorithm>
#include <cstring>

#include "pstkit/ndb.h"
#include "util/file_lock.h"

namespace pstkit::ndb {
namespace {

// Layout: magic, old size, new size, record count, records (offset u64,
// length u32, old bytes, new bytes), CRC-32 of everything before it, end
// marker.
constexpr char kMagic[8] = {'p', 's', 't', 'k', 'j', 'r', 'n', '2'};
constexpr char kDone[8] = {'p', 's', 't', 'k', 'd', 'o', 'n', 'e'};
constexpr size_t kHeadSize = 8 + 8 + 8 + 4;
constexpr size_t kTailSize = 4 + 8;
constexpr uint32_t kMaxRecord = 1u << 20;
constexpr uint64_t kMaxJournal = uint64_t{1} << 30;

}  // namespace

std::string journal_path(const std::string& data_path) { return data_path + "-journal"; }
std::string journal_temp_path(const std::string& data_path) { return data_path + "-journal.tmp"; }

Bytes serialize_journal(const Journal& jr) {
  Bytes j(kHeadSize);
  std::memcpy(j.data(), kMagic, 8);
  store_le64(j.data() + 8, jr.old_size);
  store_le64(j.data() + 16, jr.new_size);
  store_le32(j.data() + 24, uint32_t(jr.records.size()));
  for (const auto& r : jr.records) {
    const size_t at = j.size();
    const size_t len = r.old_bytes.size();
    j.resize(at + 12 + 2 * len);
    store_le64(j.data() + at, r.offset);
    store_le32(j.data() + at + 8, uint32_t(len));
    std::memcpy(j.data() + at + 12, r.old_bytes.data(), len);
    std::memcpy(j.data() + at + 12 + len, r.new_bytes.data(), std::min(len, r.new_bytes.size()));
  }
  const uint32_t crc = compute_crc(j.data(), j.size());
  const size_t at = j.size();
  j.resize(at + kTailSize);
  store_le32(j.data() + at, crc);
  std::memcpy(j.data() + at + 4, kDone, 8);
  return j;
}

Result<Journal> parse_journal(ByteView v) {
  if (v.size() < kHeadSize + kTailSize) return Status::corrupt("journal", 0, "too short for a pstkit journal");
  if (std::memcmp(v.data(), kMagic, 8) != 0) return Status::corrupt("journal", 0, "no pstkit journal signature");
  const size_t end = v.size() - kTailSize;
  if (std::memcmp(v.data() + end + 4, kDone, 8) != 0) return Status::corrupt("journal", end, "no end marker");
  if (compute_crc(v.data(), end) != v.u32(end)) return Status::corrupt("journal", end, "CRC mismatch");
  Journal j;
  j.old_size = v.u64(8);
  j.new_size = v.u64(16);
  const uint32_t count = v.u32(24);
  size_t at = kHeadSize;
  for (uint32_t i = 0; i < count; ++i) {
    if (at + 12 > end) return Status::corrupt("journal", at, "record header past the end");
    JournalRecord r;
    r.offset = v.u64(at);
    const uint32_t len = v.u32(at + 8);
    if (len == 0 || len > kMaxRecord || 2 * uint64_t(len) > end - at - 12) {
      return Status::corrupt("journal", at, "record of " + std::to_string(len) + " bytes past the end");
    }
    r.old_bytes = v.sub(at + 12, len).to_bytes();
    r.new_bytes = v.sub(at + 12 + len, len).to_bytes();
    j.records.push_back(std::move(r));
    at += 12 + 2 * size_t(len);
  }
  if (at != end) return Status::corrupt("journal", at, "bytes after the last record");
  if (j.records.empty() || j.records[0].offset != 0) return Status::corrupt("journal", kHeadSize, "no header record");
  return j;
}

Status write_journal(Env* env, const std::string& data_path, const Journal& j) {
  const std::string temp = journal_temp_path(data_path);
  {
    PSTKIT_ASSIGN_OR_RETURN(auto file, env->open(temp, OpenMode::kCreateOrTruncate));
    PSTKIT_RETURN_IF_ERROR(file->write(0, serialize_journal(j)));
    PSTKIT_RETURN_IF_ERROR(file->sync());
  }
  // rename(2) is atomic: FILE-journal appears whole or not at all.
  PSTKIT_RETURN_IF_ERROR(env->rename(temp, journal_path(data_path)));
  return env->sync_dir_of(data_path);
}

Status remove_journal(Env* env, const std::string& data_path) {
  PSTKIT_RETURN_IF_ERROR(env->remove(journal_path(data_path)));
  return env->sync_dir_of(data_path);
}

bool journal_committed(const Journal& j, ByteView file_header) {
  const Bytes& h = j.records[0].new_bytes;
  return file_header.size() >= h.size() && std::memcmp(file_header.data(), h.data(), h.size()) == 0;
}

namespace {

Result<Bytes> read_whole(const ByteSource& src, const std::string& what) {
  if (src.size() > kMaxJournal) return Status::corrupt(what, 0, "too large for a pstkit journal");
  Bytes b(size_t(src.size()));
  PSTKIT_RETURN_IF_ERROR(src.read(0, b.size(), b.data()));
  return b;
}

}  // namespace

Result<JournalState> recover_from_journal(Env* env, const std::string& data_path, WritableFile* data) {
  const std::string path = journal_path(data_path);
  const std::string temp = journal_temp_path(data_path);
  // A temporary journal never became FILE-journal: its commit wrote nothing in place.
  if (env->exists(temp)) PSTKIT_RETURN_IF_ERROR(env->remove(temp));
  if (!env->exists(path)) return JournalState::kNone;
  Bytes bytes;
  {
    PSTKIT_ASSIGN_OR_RETURN(auto file, env->open(path, OpenMode::kExisting));
    if (file->size() > kMaxJournal) return Status::corrupt(path, 0, "not a pstkit journal (too large)");
    bytes.resize(size_t(file->size()));
    PSTKIT_RETURN_IF_ERROR(file->read(0, bytes.size(), bytes.data()));
  }
  auto parsed = parse_journal(bytes);
  if (!parsed) {
    return Status::corrupt(path, parsed.status().has_offset() ? parsed.status().offset() : 0,
                           "is not a pstkit journal (" + parsed.status().detail() +
                               "); pstkit will not write to the file while it is there: move it away if it is not needed");
  }
  const Journal& j = *parsed;
  Bytes head(std::min<uint64_t>(data->size(), j.records[0].new_bytes.size()));
  PSTKIT_RETURN_IF_ERROR(data->read(0, head.size(), head.data()));
  const bool forward = journal_committed(j, head);
  if (forward && data->size() < j.new_size) PSTKIT_RETURN_IF_ERROR(data->truncate(j.new_size));
  for (const auto& r : j.records) PSTKIT_RETURN_IF_ERROR(data->write(r.offset, forward ? r.new_bytes : r.old_bytes));
  // Forward, bytes past the new size belong to no commit; backward, the
  // space the commit added goes.
  PSTKIT_RETURN_IF_ERROR(data->truncate(forward ? j.new_size : j.old_size));
  PSTKIT_RETURN_IF_ERROR(data->sync());
  PSTKIT_RETURN_IF_ERROR(remove_journal(env, data_path));
  return forward ? JournalState::kRolledForward : JournalState::kRolledBack;
}

namespace {

// The file with the committed in-place bytes laid over it.
class OverlaySource final : public ByteSource {
 public:
  OverlaySource(std::unique_ptr<ByteSource> file, uint64_t size, std::vector<std::pair<uint64_t, Bytes>> patches)
      : file_(std::move(file)), size_(size), patches_(std::move(patches)) {}

  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override {
    if (offset > size_ || len > size_ - offset) {
      return Status::truncated("file", offset,
                               "read of " + std::to_string(len) + " bytes past the committed end (" +
                                   std::to_string(size_) + " bytes)");
    }
    PSTKIT_RETURN_IF_ERROR(file_->read(offset, len, out));
    for (const auto& [at, bytes] : patches_) {
      const uint64_t lo = std::max(at, offset), hi = std::min(at + bytes.size(), offset + len);
      if (lo < hi) std::memcpy(out + (lo - offset), bytes.data() + (lo - at), size_t(hi - lo));
    }
    return Status::ok();
  }

 private:
  std::unique_ptr<ByteSource> file_;
  uint64_t size_;
  std::vector<std::pair<uint64_t, Bytes>> patches_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> committed_source(std::unique_ptr<ByteSource> file, const std::string& data_path,
                                                     PendingJournal* pending) {
  PendingJournal p;
  auto jsrc = open_file_source(journal_path(data_path));
  if (!jsrc) {
    if (pending) *pending = p;  // no journal (or none readable): the file is what it says
    return file;
  }
  auto bytes = read_whole(**jsrc, journal_path(data_path));
  auto parsed = bytes ? parse_journal(*bytes) : Result<Journal>(bytes.status());
  if (!parsed) {
    p.kind = PendingJournal::Kind::kForeign;
    p.detail = parsed.status().detail();
    if (pending) *pending = p;
    return file;
  }
  const Journal& j = *parsed;
  Bytes head(std::min<uint64_t>(file->size(), j.records[0].new_bytes.size()));
  PSTKIT_RETURN_IF_ERROR(file->read(0, head.size(), head.data()));
  const bool forward = journal_committed(j, head);
  p.kind = forward ? PendingJournal::Kind::kRollForward : PendingJournal::Kind::kRollBack;
  std::vector<std::pair<uint64_t, Bytes>> patches;
  for (const auto& r : j.records) patches.emplace_back(r.offset, forward ? r.new_bytes : r.old_bytes);
  const uint64_t size = std::min(file->size(), forward ? j.new_size : j.old_size);
  if (pending) *pending = p;
  return std::unique_ptr<ByteSource>(std::make_unique<OverlaySource>(std::move(file), size, std::move(patches)));
}

PendingJournal inspect_journal(const std::string& path) {
  PendingJournal p;
  // Asked before and after: a writer that starts or ends meanwhile still
  // counts (its journal was or will be a commit in progress).
  const bool writer_before = filelock::writer_active(path);
  auto file = open_file_source(path);
  if (!file) return p;
  (void)committed_source(std::move(*file), path, &p);
  if (p.kind != PendingJournal::Kind::kNone) p.writer_active = writer_before || filelock::writer_active(path);
  return p;
}

namespace {

// A source that holds the readers lock for as long as it lives.
class LockedSource final : public ByteSource {
 public:
  LockedSource(std::unique_ptr<filelock::ReaderHold> hold, std::unique_ptr<ByteSource> src)
      : hold_(std::move(hold)), src_(std::move(src)) {}
  uint64_t size() const override { return src_->size(); }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override { return src_->read(offset, len, out); }

 private:
  std::unique_ptr<filelock::ReaderHold> hold_;  // destroyed after src_
  std::unique_ptr<ByteSource> src_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> open_committed_file(const std::string& path,
                                                        std::chrono::milliseconds lock_timeout,
                                                        PendingJournal* pending, bool hold_lock,
                                                        bool ask_pending) {
  LockWait wait;
  wait.timeout = lock_timeout.count() >= 0 ? lock_timeout : filelock::default_timeout();
  // Saved changes another process holds pending (a MAPI write-behind batch)
  // are committed first, at this reader's request, so that it reads them
  // (docs/COMMIT_PROTOCOL.md "Saved changes pending"). Before the readers
  // lock, which that commit needs.
  if (ask_pending) PSTKIT_RETURN_IF_ERROR(filelock::wait_for_pending_batch(path, wait));
  // The lock before the first byte is read: no commit of another process
  // is half-way through its in-place writes while this source lives.
  PSTKIT_ASSIGN_OR_RETURN(auto hold, filelock::hold_shared(path, wait));
  PSTKIT_ASSIGN_OR_RETURN(auto file, open_file_source(path));
  PSTKIT_ASSIGN_OR_RETURN(auto committed, committed_source(std::move(file), path, pending));
  if (!hold_lock) return committed;  // the hold ends here
  return std::unique_ptr<ByteSource>(std::make_unique<LockedSource>(std::move(hold), std::move(committed)));
}

}  // namespace pstkit::ndb
