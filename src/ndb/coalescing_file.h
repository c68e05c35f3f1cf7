// A WritableFile that gathers writes which follow one another in the file
// into one write of up to a limit (1 MiB): the writer lays blocks out back
// to back (next-fit allocation), and a repair or import writes hundreds of
// thousands of them; one pwrite per block made the kernel's page-cache
// work per call (partial pages, allocation) a fifth of `pstkit repair`.
//
// Every other operation (read of an overlapping range, sync, truncate,
// lock, size) first writes what is gathered, so the file behaves exactly as
// if each write had been made at once; a failed gathered write is reported
// by the operation that flushed it (at the latest the commit's sync).
#pragma once

#include <memory>

#include "pstkit/env.h"

namespace pstkit::ndb {

class CoalescingFile final : public WritableFile {
 public:
  explicit CoalescingFile(std::unique_ptr<WritableFile> inner, size_t limit = size_t{1} << 20)
      : inner_(std::move(inner)), limit_(limit) {}
  ~CoalescingFile() override;

  uint64_t size() const override;
  Status read(uint64_t offset, size_t len, uint8_t* out) const override;
  Status write(uint64_t offset, ByteView data) override;
  Status sync() override;
  Status truncate(uint64_t size) override;
  Status lock(FileLock which, LockMode mode, const LockWait& wait) override;
  Result<bool> replaced_at_path() const override { return inner_->replaced_at_path(); }

  // Writes what is gathered.
  Status flush() const;

 private:
  std::unique_ptr<WritableFile> inner_;
  size_t limit_;
  // Gathered bytes for [start_, start_ + pending_.size()); flushed by const
  // operations too, hence mutable.
  mutable uint64_t start_ = 0;
  mutable Bytes pending_;
};

}  // namespace pstkit::ndb
