// The whole-file side of `pstkit repair` and `pstkit recover`: locks,
// passes, the backup and the atomic replacement of FILE (docs/REPAIR.md).
// The engine (open_for_rebuild, rebuild) is passed in, so that the file
// handling can be tested on its own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/ndb.h"
#include "pstkit/repair.h"

namespace pstkit::repair::detail {

struct Engine {
  std::function<Result<std::unique_ptr<ndb::Database>>(const std::string& path, bool include_deleted,
                                                       std::vector<Change>* notes)>
      open;
  std::function<Result<RebuildReport>(const ndb::Database& source, const std::string& dest_path,
                                      const RebuildOptions& options)>
      rebuild;
};

// Where repair_file rebuilds FILE (beside it, so that the rename is atomic).
std::string temp_path_of(const std::string& path);

Result<FileRepairResult> repair_file_with(const std::string& path, const FileRepairOptions& options,
                                          const Engine& engine);
Result<FileRepairResult> recover_file_with(const std::string& in_path, const std::string& out_path,
                                           const FileRepairOptions& options, const Engine& engine);

}  // namespace pstkit::repair::detail
