#include "cli/folder_walk.h"

#include <unordered_set>

namespace pstkit::cli {
namespace {

constexpr int kMaxDepth = 256;

// *stop is set when visit asks to stop.
bool walk(const Store& store, Nid nid, std::vector<std::string>& path, int depth, std::unordered_set<Nid>& seen,
          const std::function<bool(const FolderVisit&)>& visit, bool* stop) {
  FolderVisit v;
  v.nid = nid;
  v.depth = depth;
  v.path = path;
  if (!seen.insert(nid).second || depth > kMaxDepth) {
    v.error = Status::corrupt("hierarchy table", Status::kNoOffset, "folder " + hex(nid) + " is reachable twice");
    *stop = !visit(v);
    return false;
  }
  auto folder = store.open_folder(nid);
  if (!folder) {
    v.error = folder.status();
    *stop = !visit(v);
    return false;
  }
  v.folder = &*folder;
  // The folder's own PC names it; the parent's table row is only a copy.
  if (depth > 0 && !path.empty()) {
    path.back() = folder->name();
    v.path = path;
  }
  bool ok = true;
  auto subs = folder->subfolders();
  if (subs) {
    v.subfolders = std::move(*subs);
  } else {
    v.error = subs.status();
    ok = false;
  }
  *stop = !visit(v);
  for (const auto& row : v.subfolders) {
    if (*stop) break;
    std::string name = row.props.get_string(prop::kDisplayName).value_or("");
    path.push_back(std::move(name));
    ok &= walk(store, row.nid, path, depth + 1, seen, visit, stop);
    path.pop_back();
  }
  return ok;
}

}  // namespace

bool walk_folders(const Store& store, const std::function<bool(const FolderVisit&)>& visit) {
  std::vector<std::string> path;
  std::unordered_set<Nid> seen;
  bool stop = false;
  return walk(store, ndb::kNidRootFolder, path, 0, seen, visit, &stop);
}

}  // namespace pstkit::cli
