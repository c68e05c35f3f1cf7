// repair_file and recover_file: the file handling (repair/whole_file.cpp)
// around the rebuild engine.
#include "pstkit/repair.h"
#include "repair/whole_file.h"

namespace pstkit::repair {
namespace {

detail::Engine the_engine() {
  detail::Engine e;
  e.open = open_for_rebuild;
  e.rebuild = rebuild;
  return e;
}

}  // namespace

Result<FileRepairResult> repair_file(const std::string& path, const FileRepairOptions& options) {
  return detail::repair_file_with(path, options, the_engine());
}

Result<FileRepairResult> recover_file(const std::string& in_path, const std::string& out_path,
                                      const FileRepairOptions& options) {
  return detail::recover_file_with(in_path, out_path, options, the_engine());
}

}  // namespace pstkit::repair
