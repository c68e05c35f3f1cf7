#include "ndb/coalescing_file.h"

#include <algorithm>
#include <cstring>

namespace pstkit::ndb {

CoalescingFile::~CoalescingFile() {
  // Writes that no sync followed (the wipe of freed space when a writer
  // closes) still reach the file.
  (void)flush();
}

Status CoalescingFile::flush() const {
  if (pending_.empty()) return Status::ok();
  Bytes data;
  data.swap(pending_);
  const Status s = inner_->write(start_, data);
  // The buffer is kept for the next run (no reallocation per flush).
  data.clear();
  pending_.swap(data);
  return s;
}

uint64_t CoalescingFile::size() const {
  const uint64_t inner = inner_->size();
  return pending_.empty() ? inner : std::max(inner, start_ + pending_.size());
}

Status CoalescingFile::read(uint64_t offset, size_t len, uint8_t* out) const {
  if (!pending_.empty() && offset < start_ + pending_.size() && start_ < offset + len) {
    PSTKIT_RETURN_IF_ERROR(flush());
  }
  return inner_->read(offset, len, out);
}

Status CoalescingFile::write(uint64_t offset, ByteView data) {
  if (!pending_.empty() && offset == start_ + pending_.size() && pending_.size() + data.size() <= limit_) {
    pending_.insert(pending_.end(), data.data(), data.data() + data.size());
    return Status::ok();
  }
  PSTKIT_RETURN_IF_ERROR(flush());
  if (data.size() >= limit_) return inner_->write(offset, data);
  if (pending_.capacity() < limit_) pending_.reserve(limit_);
  start_ = offset;
  pending_.assign(data.data(), data.data() + data.size());
  return Status::ok();
}

Status CoalescingFile::sync() {
  PSTKIT_RETURN_IF_ERROR(flush());
  return inner_->sync();
}

Status CoalescingFile::truncate(uint64_t size) {
  PSTKIT_RETURN_IF_ERROR(flush());
  return inner_->truncate(size);
}

Status CoalescingFile::lock(FileLock which, LockMode mode, const LockWait& wait) {
  PSTKIT_RETURN_IF_ERROR(flush());
  return inner_->lock(which, mode, wait);
}

}  // namespace pstkit::ndb
