// An in-memory file system: fix_store lays a new store out in one to copy
// the required nodes a damaged store lacks ("the way a new store has it"),
// without writing anywhere but the file being repaired.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "pstkit/env.h"

namespace pstkit::repair {

class MemoryEnv : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> open(const std::string& path, OpenMode mode) override;
  bool exists(const std::string& path) override { return files_.count(path) > 0; }
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status sync_dir_of(const std::string&) override { return Status::ok(); }

 private:
  std::map<std::string, std::shared_ptr<Bytes>> files_;
};

}  // namespace pstkit::repair
