// pstkit ls FILE [-r]: the folder tree with item counts.
#include <iostream>

#include "cli/cli.h"
#include "cli/folder_walk.h"
#include "cli/output.h"

namespace pstkit::cli {

int cmd_ls(const std::string& file, bool recursive, bool as_json, const ReadOptions& read) {
  auto store = open_store_or_report(file, read);
  if (!store) return kExitBadInput;
  bool damaged = false;
  const bool ok = walk_folders(*store, [&](const FolderVisit& v) {
    const std::string indent(size_t(v.depth) * 2, ' ');
    if (!v.folder) {
      std::cout << indent << "[" << v.nid << "] <unreadable: " << v.error.message() << ">\n";
      damaged = true;
      return stdout_ok();
    }
    // Without -r only the count is needed: the row ids cost 4 bytes a row,
    // where whole rows cost kilobytes in a folder of 100,000 messages.
    Result<std::vector<TableRow>> contents = std::vector<TableRow>{};
    size_t items = 0;
    Status table_error;
    if (recursive) {
      contents = v.folder->contents();
      if (contents) {
        items = contents->size();
      } else {
        table_error = contents.status();
      }
    } else if (auto nids = v.folder->content_nids()) {
      items = nids->size();
    } else {
      table_error = nids.status();
    }
    if (as_json) {
      nlohmann::json j{{"type", "folder"}, {"path", v.path}, {"nid", v.nid}, {"items", items},
                       {"subfolders", v.subfolders.size()}, {"unread", v.folder->unread_count()}};
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::string name = v.depth == 0 ? "(root)" : v.folder->name();
      std::cout << indent << name << "  [" << v.nid << "]  " << items << (items == 1 ? " item" : " items");
      if (v.folder->unread_count() > 0) std::cout << ", " << v.folder->unread_count() << " unread";
      std::cout << "\n";
    }
    if (!table_error.is_ok()) {
      std::cout << indent << "  <contents table unreadable: " << table_error.message() << ">\n";
      damaged = true;
      return stdout_ok();
    }
    if (!recursive) return stdout_ok();
    for (const TableRow& row : *contents) {
      if (!stdout_ok()) return false;
      std::string subject = normalize_subject(row.props.get_string(prop::kSubject).value_or(""));
      std::string cls = row.props.get_string(prop::kMessageClass).value_or("");
      if (as_json) {
        nlohmann::json j{{"type", "item"}, {"folder", v.path}, {"nid", row.nid}, {"class", cls}, {"subject", subject}};
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      } else {
        std::cout << indent << "  - [" << row.nid << "] " << cls << "  " << subject << "\n";
      }
    }
    return stdout_ok();
  });
  return ok && !damaged ? kExitOk : kExitBadInput;
}

}  // namespace pstkit::cli
