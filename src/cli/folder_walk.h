// Depth-first walk of the folder tree through hierarchy tables, shared by ls
// and dump. Guards against cycles a damaged file could contain.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pstkit/messaging.h"

namespace pstkit::cli {

struct FolderVisit {
  const Folder* folder = nullptr;     // nullptr when the folder could not be opened
  Nid nid = 0;
  std::vector<std::string> path;      // names below the root folder
  int depth = 0;
  std::vector<TableRow> subfolders;   // hierarchy table rows
  Status error;                       // why the folder or its table failed
};

// Calls visit for the root folder and every folder below it, parents first,
// until visit returns false (e.g. when standard output failed). Returns false
// when any folder or table could not be read.
bool walk_folders(const Store& store, const std::function<bool(const FolderVisit&)>& visit);

}  // namespace pstkit::cli
