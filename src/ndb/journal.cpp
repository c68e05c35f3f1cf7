#include "ndb/journal.h"

#include <cstring>

#include "pstkit/ndb.h"

namespace pstkit::ndb {
namespace {

constexpr char kMagic[8] = {'p', 's', 't', 'k', 'j', 'r', 'n', '1'};
constexpr char kDone[8] = {'p', 's', 't', 'k', 'd', 'o', 'n', 'e'};
constexpr size_t kHeaderSize = 8 + 8 + 4;
constexpr uint32_t kMaxRecord = 1u << 20;

}  // namespace

std::string journal_path(const std::string& data_path) { return data_path + "-journal"; }

Status write_journal(Env* env, const std::string& data_path, uint64_t original_size,
                     const std::vector<JournalRecord>& records) {
  Bytes j(kHeaderSize);
  std::memcpy(j.data(), kMagic, 8);
  store_le64(j.data() + 8, original_size);
  store_le32(j.data() + 16, uint32_t(records.size()));
  for (const auto& r : records) {
    const size_t at = j.size();
    j.resize(at + 12 + r.original.size());
    store_le64(j.data() + at, r.offset);
    store_le32(j.data() + at + 8, uint32_t(r.original.size()));
    std::memcpy(j.data() + at + 12, r.original.data(), r.original.size());
  }
  const uint32_t crc = compute_crc(j.data(), j.size());
  const size_t at = j.size();
  j.resize(at + 12);
  store_le32(j.data() + at, crc);
  std::memcpy(j.data() + at + 4, kDone, 8);

  const std::string path = journal_path(data_path);
  PSTKIT_ASSIGN_OR_RETURN(auto file, env->open(path, OpenMode::kCreateOrTruncate));
  PSTKIT_RETURN_IF_ERROR(file->write(0, j));
  PSTKIT_RETURN_IF_ERROR(file->sync());
  return env->sync_dir_of(path);
}

Status remove_journal(Env* env, const std::string& data_path) {
  const std::string path = journal_path(data_path);
  PSTKIT_RETURN_IF_ERROR(env->remove(path));
  return env->sync_dir_of(path);
}

Result<JournalState> recover_from_journal(Env* env, const std::string& data_path, WritableFile* data) {
  const std::string path = journal_path(data_path);
  if (!env->exists(path)) return JournalState::kNone;
  PSTKIT_ASSIGN_OR_RETURN(auto file, env->open(path, OpenMode::kExisting));
  const uint64_t size = file->size();
  bool complete = size >= kHeaderSize + 12 && size < (uint64_t{1} << 32);
  Bytes j;
  if (complete) {
    j.resize(size_t(size));
    PSTKIT_RETURN_IF_ERROR(file->read(0, j.size(), j.data()));
    complete = std::memcmp(j.data(), kMagic, 8) == 0 && std::memcmp(j.data() + j.size() - 8, kDone, 8) == 0 &&
               compute_crc(j.data(), j.size() - 12) == load_le32(j.data() + j.size() - 12);
  }
  if (!complete) {
    // The journal was not fully synced, so nothing was written in place yet.
    file.reset();
    PSTKIT_RETURN_IF_ERROR(remove_journal(env, data_path));
    return JournalState::kIncomplete;
  }
  const ByteView v(j);
  const uint64_t original_size = v.u64(8);
  const uint32_t count = v.u32(16);
  size_t at = kHeaderSize;
  for (uint32_t i = 0; i < count; ++i) {
    if (!v.has(at, 12)) return Status::corrupt("journal", at, "record header past the end");
    const uint64_t offset = v.u64(at);
    const uint32_t len = v.u32(at + 8);
    if (len > kMaxRecord || !v.has(at + 12, len)) return Status::corrupt("journal", at, "record past the end");
    PSTKIT_RETURN_IF_ERROR(data->write(offset, v.sub(at + 12, len)));
    at += 12 + len;
  }
  PSTKIT_RETURN_IF_ERROR(data->truncate(original_size));
  PSTKIT_RETURN_IF_ERROR(data->sync());
  file.reset();
  PSTKIT_RETURN_IF_ERROR(remove_journal(env, data_path));
  return JournalState::kRolledBack;
}

}  // namespace pstkit::ndb
