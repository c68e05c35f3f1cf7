#include "repair/memory_env.h"

#include <algorithm>
#include <cstring>

namespace pstkit::repair {

namespace {

class MemoryFile : public WritableFile {
 public:
  explicit MemoryFile(std::shared_ptr<Bytes> data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_->size(); }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override {
    if (offset > data_->size() || len > data_->size() - offset) {
      return Status::io_error("memory file: read past the end");
    }
    if (len) std::memcpy(out, data_->data() + offset, len);
    return Status::ok();
  }
  Status write(uint64_t offset, ByteView data) override {
    const uint64_t end = offset + data.size();
    if (end < offset) return Status::io_error("memory file: write offset overflows");
    if (end > data_->size()) data_->resize(end);
    if (!data.empty()) std::memcpy(data_->data() + offset, data.data(), data.size());
    return Status::ok();
  }
  Status sync() override { return Status::ok(); }
  Status truncate(uint64_t size) override {
    data_->resize(size);
    return Status::ok();
  }

 private:
  std::shared_ptr<Bytes> data_;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> MemoryEnv::open(const std::string& path, OpenMode mode) {
  auto it = files_.find(path);
  switch (mode) {
    case OpenMode::kExisting:
      if (it == files_.end()) return Status::not_found(path);
      break;
    case OpenMode::kCreateNew:
      if (it != files_.end()) return Status::invalid_argument(path + " already exists");
      it = files_.emplace(path, std::make_shared<Bytes>()).first;
      break;
    case OpenMode::kCreateOrTruncate:
      if (it == files_.end()) it = files_.emplace(path, std::make_shared<Bytes>()).first;
      it->second->clear();
      break;
  }
  return std::unique_ptr<WritableFile>(new MemoryFile(it->second));
}

Status MemoryEnv::remove(const std::string& path) {
  if (files_.erase(path) == 0) return Status::not_found(path);
  return Status::ok();
}

Status MemoryEnv::rename(const std::string& from, const std::string& to) {
  auto it = files_.find(from);
  if (it == files_.end()) return Status::not_found(from);
  auto data = it->second;
  files_.erase(it);
  files_[to] = std::move(data);
  return Status::ok();
}

}  // namespace pstkit::repair
