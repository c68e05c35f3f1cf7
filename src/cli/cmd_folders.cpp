// pstkit mkdir / rm / mv: folder and item edits below the IPM subtree ("Top of
// Outlook data file"). Each command is one transaction: it commits once when
// everything succeeded and otherwise leaves the file at its last commit.
#include <sys/stat.h>

#include <functional>
#include <iostream>
#include <optional>

#include "cli/cli.h"
#include "pstkit/store_writer.h"

namespace pstkit::cli {
namespace {

using Path = std::vector<std::string>;


std::string join(const Path& path) {
  if (path.empty()) return "/";
  std::string s;
  for (const auto& p : path) s += (s.empty() ? "" : "/") + p;
  return s;
}

// The subfolder of parent with this display name, if any.
Result<std::optional<Nid>> child_named(const Store& store, Nid parent, const std::string& name) {
  PSTKIT_ASSIGN_OR_RETURN(Folder folder, store.open_folder(parent));
  PSTKIT_ASSIGN_OR_RETURN(auto rows, folder.subfolders());
  for (const auto& row : rows) {
    if (row.props.get_string(prop::kDisplayName).value_or("") == name) return std::optional<Nid>(row.nid);
  }
  return std::optional<Nid>();
}

// The folder at path below the IPM subtree; nullopt when some part is missing.
Result<std::optional<Nid>> resolve(StoreWriter& writer, const Path& path) {
  Nid cur = writer.ipm_subtree();
  for (const auto& name : path) {
    PSTKIT_ASSIGN_OR_RETURN(auto next, child_named(writer.store(), cur, name));
    if (!next) return std::optional<Nid>();
    cur = *next;
  }
  return std::optional<Nid>(cur);
}

bool is_folder_nid(Nid nid) {
  const uint8_t t = ndb::nid_type(nid);
  return t == ndb::kNidTypeNormalFolder || t == ndb::kNidTypeSearchFolder;
}

bool is_message_nid(Nid nid) {
  const uint8_t t = ndb::nid_type(nid);
  return t == ndb::kNidTypeNormalMessage || t == ndb::kNidTypeAssocMessage;
}

// What a SRC or rm argument names: an existing folder path wins over a node
// id, so that a folder called "2024" stays reachable by its name.
struct Target {
  Nid nid = 0;
  bool folder = false;
  std::string label;  // for messages
};

Result<Target> resolve_target(StoreWriter& writer, const std::string& text) {
  const Path path = split_path(text);
  PSTKIT_ASSIGN_OR_RETURN(auto by_path, resolve(writer, path));
  if (by_path) return Target{*by_path, true, "folder " + join(path)};
  Nid nid = 0;
  if (parse_nid(text, &nid) && (is_folder_nid(nid) || is_message_nid(nid))) {
    auto entry = writer.db().find_node(nid);
    if (entry) {
      const bool folder = is_folder_nid(nid);
      return Target{nid, folder, (folder ? "folder " : "item ") + std::to_string(nid)};
    }
    if (entry.status().code() != Code::kNotFound) return entry.status();
  }
  return Status::not_found("no folder or item '" + text + "'");
}

// Refuses files nobody may write even when running as root, who could
// otherwise write through the permission bits: write protection is the
// user's intent.
Status check_writable(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return Status::io_error("cannot open: no such file");
  if ((st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0) return Status::io_error("file is read-only");
  return Status::ok();
}

// Opens FILE for writing, runs edit and commits. Prints one line on failure.
int run_edit(const std::string& file, const std::function<Status(StoreWriter&)>& edit) {
  if (Status s = check_writable(file); !s.is_ok()) {
    print_error(file, s);
    return kExitBadInput;
  }
  auto writer = StoreWriter::open(file, writer_options());
  if (!writer) {
    print_error(file, writer.status());
    return kExitBadInput;
  }
  report_recovery(file, (*writer)->db().recovery());
  Status s = edit(**writer);
  if (s.is_ok() && (*writer)->has_changes()) s = (*writer)->commit();
  if (!s.is_ok()) {
    (void)(*writer)->rollback();
    print_error(file, s);
    return kExitBadInput;
  }
  return kExitOk;
}

std::string count(size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

Status remove_target(StoreWriter& w, const Target& target, bool recursive) {
  if (!target.folder) return w.delete_message(target.nid);
  if (target.nid == w.ipm_subtree()) return Status::invalid_argument("cannot remove the top of the store");
  PSTKIT_ASSIGN_OR_RETURN(Folder folder, w.store().open_folder(target.nid));
  PSTKIT_ASSIGN_OR_RETURN(auto subs, folder.subfolders());
  PSTKIT_ASSIGN_OR_RETURN(auto items, folder.contents());
  if (!recursive && (!subs.empty() || !items.empty())) {
    return Status::invalid_argument(target.label + " is not empty (" + count(items.size(), "item") + ", " +
                                    count(subs.size(), "subfolder") + "); use -r to remove it all");
  }
  return w.delete_folder(target.nid);
}

// mv for a folder: into DEST when DEST is a folder, else to DEST's parent
// under DEST's last name.
Status move_folder_to(StoreWriter& w, const Target& src, const std::string& dest_text, std::string* done) {
  const Path dest = split_path(dest_text);
  PSTKIT_ASSIGN_OR_RETURN(auto dest_nid, resolve(w, dest));
  PSTKIT_ASSIGN_OR_RETURN(Folder folder, w.store().open_folder(src.nid));
  std::string name = folder.name();
  Nid parent = 0;
  if (dest_nid) {
    parent = *dest_nid;
  } else {
    const Path parent_path(dest.begin(), dest.end() - 1);
    PSTKIT_ASSIGN_OR_RETURN(auto p, resolve(w, parent_path));
    if (!p) return Status::not_found("no folder '" + join(parent_path) + "' to move into");
    parent = *p;
    name = dest.back();
  }
  PSTKIT_ASSIGN_OR_RETURN(auto clash, child_named(w.store(), parent, name));
  if (clash && *clash != src.nid) {
    return Status::invalid_argument("a folder named '" + name + "' already exists there");
  }
  PSTKIT_RETURN_IF_ERROR(w.move_folder(src.nid, parent));
  if (name != folder.name()) PSTKIT_RETURN_IF_ERROR(w.rename_folder(src.nid, name));
  Path final_path = dest_nid ? dest : Path(dest.begin(), dest.end() - 1);
  final_path.push_back(name);
  *done = "moved " + src.label + " to " + join(final_path);
  return Status::ok();
}

}  // namespace

int cmd_mkdir(const std::string& file, const std::string& path_text, bool parents) {
  const Path path = split_path(path_text);
  if (path.empty()) {
    std::cerr << "pstkit: mkdir: PATH names no folder\n";
    return kExitUsage;
  }
  std::string done;
  const int rc = run_edit(file, [&](StoreWriter& w) -> Status {
    Nid cur = w.ipm_subtree();
    for (size_t i = 0; i < path.size(); ++i) {
      PSTKIT_ASSIGN_OR_RETURN(auto next, child_named(w.store(), cur, path[i]));
      const bool last = i + 1 == path.size();
      if (next) {
        if (last && !parents) return Status::invalid_argument("folder '" + join(path) + "' already exists");
        cur = *next;
        continue;
      }
      if (!last && !parents) {
        return Status::not_found("no folder '" + join(Path(path.begin(), path.begin() + i + 1)) +
                                 "' (use -p to create parents)");
      }
      PSTKIT_ASSIGN_OR_RETURN(cur, w.create_folder(cur, path[i]));
      done = "created folder " + join(path) + " [" + std::to_string(cur) + "]";
    }
    return Status::ok();
  });
  if (rc == kExitOk && !done.empty()) std::cout << done << "\n";
  return rc;
}

int cmd_rm(const std::string& file, const std::string& target_text, bool recursive) {
  std::string done;
  const int rc = run_edit(file, [&](StoreWriter& w) -> Status {
    PSTKIT_ASSIGN_OR_RETURN(Target target, resolve_target(w, target_text));
    PSTKIT_RETURN_IF_ERROR(remove_target(w, target, recursive));
    done = "removed " + target.label;
    return Status::ok();
  });
  if (rc == kExitOk) std::cout << done << "\n";
  return rc;
}

int cmd_mv(const std::string& file, const std::string& source, const std::string& dest) {
  std::string done;
  const int rc = run_edit(file, [&](StoreWriter& w) -> Status {
    PSTKIT_ASSIGN_OR_RETURN(Target src, resolve_target(w, source));
    if (src.folder) return move_folder_to(w, src, dest, &done);
    PSTKIT_ASSIGN_OR_RETURN(auto to, resolve(w, split_path(dest)));
    if (!to) return Status::not_found("no folder '" + join(split_path(dest)) + "'");
    PSTKIT_RETURN_IF_ERROR(w.move_message(src.nid, *to));
    done = "moved " + src.label + " to " + join(split_path(dest));
    return Status::ok();
  });
  if (rc == kExitOk) std::cout << done << "\n";
  return rc;
}

}  // namespace pstkit::cli
