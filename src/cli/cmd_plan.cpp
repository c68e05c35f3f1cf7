// pstkit plan FILE... --target-bytes N: cuts the items of every folder into
// work units of about N bytes of messages, one JSON line each, which
// `pstkit export --unit` and `pstkit dump --unit` run one at a time, on as
// many processes or machines as there are (docs/SCALE.md).
//
// Sizes come from the contents table's PR_MESSAGE_SIZE column (MS-PST
// 2.4.4.5.1 lists it among the contents table's columns): no message is
// opened unless its row lacks the cell. Units follow the table's row order,
// the order export and dump walk (Folder::content_nids reads the same rows),
// so a unit's rows are the same items in both. Every folder gets at least
// one unit (an empty one a unit of 0 items: the formats that show empty
// folders create them, dump prints the folder line); folders are never
// grouped, so a unit names one folder.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "cli/cli.h"
#include "cli/export_writers.h"
#include "cli/folder_walk.h"

namespace pstkit::cli {
namespace {

namespace fs = std::filesystem;

constexpr PropTag kMessageSizeTag = ltp::make_tag(prop::kMessageSize, ltp::kPtypInteger32);
// A unit SPEC read from a file or standard input: far more than a line of
// plan output (paths and folder names are bounded by PATH_MAX and 200-byte
// names) and small enough to be no memory risk.
constexpr size_t kMaxUnitText = 1 << 20;

std::string join_path(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "/") + n;
  return out;
}

// The NIDs and PR_MESSAGE_SIZE of a folder's contents-table rows, in row
// order. A row without the cell gets the size its message's property
// context records (0 when that has none either).
Status content_sizes(const Store& store, Nid folder, std::vector<std::pair<Nid, uint64_t>>* rows) {
  const Nid table_nid = ndb::make_nid(ndb::kNidTypeContentsTable, ndb::nid_index(folder));
  auto node = store.db().open_node(table_nid);
  if (!node) {
    if (node.status().code() == Code::kNotFound) return Status::ok();
    return node.status().with_context("folder " + hex(folder) + " table " + hex(table_nid));
  }
  auto tc = store.open_table(std::shared_ptr<const ndb::Node>(std::move(*node)));
  if (!tc) return tc.status().with_context("folder " + hex(folder) + " table " + hex(table_nid));
  const std::optional<size_t> column = tc->find_column(kMessageSizeTag);
  rows->reserve(tc->row_count());
  for (size_t i = 0; i < tc->row_count(); ++i) {
    auto row_id = tc->row_id(i);
    if (!row_id) return row_id.status().with_context("folder " + hex(folder) + " table " + hex(table_nid));
    std::optional<int32_t> size;
    if (column) {
      auto cell = tc->cell(i, *column);
      if (cell && *cell) {
        if (auto v = (*cell)->as_i32()) size = *v;
      }
    }
    if (!size) {
      if (auto message = store.open_message(*row_id)) size = message->properties().get_i32(prop::kMessageSize);
    }
    rows->emplace_back(*row_id, uint64_t(std::max<int32_t>(0, size.value_or(0))));
  }
  return Status::ok();
}

// The units of one file, printed as they are cut. False when some folder
// could not be read (it still gets a unit of 0 items, which export and dump
// report as they report that folder in a full run).
bool plan_file(const Store& store, const std::string& file, const std::string& directory,
               const PlanCommandOptions& options) {
  const std::string file_key =
      sha256_hex(ByteView(reinterpret_cast<const uint8_t*>(file.data()), file.size())).substr(0, 8);
  const std::optional<Nid> ipm = store.ipm_subtree_nid();
  const std::vector<std::string> wanted = split_path(options.folder);
  std::map<Nid, std::vector<std::string>> below;  // folder → path below the IPM subtree (as export's --folder)
  std::map<Nid, Nid> parent_of;
  bool ok = true, selected_any = false;
  auto emit = [&](const WorkUnit& unit) {
    std::cout << work_unit_json(unit) << '\n';
    return bool(std::cout);
  };
  // A hierarchy table that cannot be read makes the walk false: the
  // folders below it are in no unit (nor in a full export).
  ok &= walk_folders(store, [&](const FolderVisit& v) {
    for (const TableRow& row : v.subfolders) parent_of[row.nid] = v.nid;
    std::optional<std::vector<std::string>> ipm_path;
    if (ipm && v.nid == *ipm) ipm_path.emplace();
    if (!ipm_path && v.depth > 0) {
      auto parent = parent_of.find(v.nid);
      if (parent != parent_of.end() && below.count(parent->second)) {
        ipm_path = below[parent->second];
        ipm_path->push_back(v.path.empty() ? "" : v.path.back());
      }
    }
    if (ipm_path) below[v.nid] = *ipm_path;
    if (!wanted.empty() && (!ipm_path || ipm_path->size() < wanted.size() ||
                            !std::equal(wanted.begin(), wanted.end(), ipm_path->begin())))
      return true;
    selected_any = true;

    WorkUnit unit;
    unit.file = file;
    unit.directory = directory;
    unit.folder = join_path(v.path);
    unit.folder_nid = v.nid;
    unit.recover = options.read.recover;
    unit.include_deleted = options.read.include_deleted;
    auto finish = [&]() {
      unit.id = file_key + "-" + hex(unit.folder_nid).substr(2) + "-" + std::to_string(unit.first) + "-" +
                std::to_string(unit.count);
      return emit(unit);
    };
    std::vector<std::pair<Nid, uint64_t>> rows;
    Status status = v.folder ? content_sizes(store, v.nid, &rows) : v.error;
    if (!status.is_ok()) {
      std::cerr << "pstkit: " << file << ": folder " << (unit.folder.empty() ? hex(v.nid) : unit.folder) << ": "
                << status.message() << " (planned as one unit of 0 items)\n";
      ok = false;
      return finish();
    }
    if (rows.empty()) return finish();
    // Greedy cut in row order: a unit takes items while they fit in the
    // target; an item larger than the target is a unit of its own.
    for (size_t i = 0; i < rows.size(); ++i) {
      const uint64_t size = rows[i].second;
      if (unit.count > 0 && unit.bytes + size > options.target_bytes) {
        if (!finish()) return false;
        unit.first = i;
        unit.count = 0;
        unit.bytes = 0;
      }
      ++unit.count;
      unit.bytes += size;
    }
    return finish();
  });
  if (!wanted.empty() && !selected_any) {
    std::cerr << "pstkit: " << file << ": no folder " << options.folder << "\n";
    ok = false;
  }
  return ok;
}

bool is_unit_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  return true;
}

}  // namespace

std::string work_unit_json(const WorkUnit& unit) {
  nlohmann::ordered_json j;
  j["file"] = unit.file;
  if (!unit.directory.empty()) j["directory"] = unit.directory;
  j["folder"] = unit.folder;
  j["folder_nid"] = unit.folder_nid;
  j["first"] = unit.first;
  j["count"] = unit.count;
  j["bytes"] = unit.bytes;
  j["unit"] = unit.id;
  if (unit.recover) j["recover"] = true;
  if (unit.include_deleted) j["deleted"] = true;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool read_work_unit(const std::string& spec, WorkUnit* unit, std::string* error) {
  std::string text;
  if (spec == "-" || (!spec.empty() && spec[0] == '@')) {
    const std::string path = spec == "-" ? std::string() : spec.substr(1);
    std::ifstream file;
    if (!path.empty()) {
      file.open(path, std::ios::binary);
      if (!file) return *error = path + ": " + std::strerror(errno ? errno : ENOENT), false;
    }
    std::istream& in = path.empty() ? std::cin : file;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      text.append(buffer, size_t(in.gcount()));
      if (text.size() > kMaxUnitText) return *error = "unit: more than 1 MiB of text, not one unit", false;
    }
  } else {
    text = spec;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return *error = "unit: not one JSON object (give the line pstkit plan printed, @FILE or -)", false;
  auto text_field = [&](const char* key, std::string* out, bool required) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) *error = std::string("unit: no \"") + key + "\"";
      return !required;
    }
    if (!it->is_string()) return *error = std::string("unit: \"") + key + "\" is not a string", false;
    *out = it->get<std::string>();
    return true;
  };
  auto number_field = [&](const char* key, uint64_t* out, bool required) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) *error = std::string("unit: no \"") + key + "\"";
      return !required;
    }
    if (!it->is_number_unsigned()) return *error = std::string("unit: \"") + key + "\" is not a count", false;
    *out = it->get<uint64_t>();
    return true;
  };
  auto flag_field = [&](const char* key, bool* out) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_boolean()) return *error = std::string("unit: \"") + key + "\" is not true or false", false;
    *out = it->get<bool>();
    return true;
  };
  WorkUnit u;
  uint64_t nid = 0;
  if (!text_field("file", &u.file, true) || !text_field("directory", &u.directory, false) ||
      !text_field("folder", &u.folder, true) || !number_field("folder_nid", &nid, true) ||
      !number_field("first", &u.first, true) || !number_field("count", &u.count, true) ||
      !number_field("bytes", &u.bytes, false) || !text_field("unit", &u.id, true) ||
      !flag_field("recover", &u.recover) || !flag_field("deleted", &u.include_deleted))
    return false;
  if (u.file.empty()) return *error = "unit: \"file\" is empty", false;
  if (nid > 0xFFFFFFFFu) return *error = "unit: \"folder_nid\" is not a node id", false;
  u.folder_nid = Nid(nid);
  if (u.first > UINT64_MAX - u.count) return *error = "unit: \"first\" + \"count\" overflows", false;
  // The id names a file and the directory a directory below -o: neither
  // may lead anywhere else.
  if (!is_unit_id(u.id)) return *error = "unit: \"unit\" is not a unit id (0-9, a-z and -)", false;
  if (!u.directory.empty() && directory_name(u.directory) != u.directory)
    return *error = "unit: \"directory\" is not a directory name", false;
  *unit = std::move(u);
  return true;
}

bool select_unit_range(const WorkUnit& unit, const std::string& folder_path, size_t rows, size_t* first,
                       size_t* count, std::string* error) {
  if (folder_path != unit.folder) {
    *error = "unit " + unit.id + ": folder " + hex(unit.folder_nid) + " is \"" + folder_path + "\", not \"" +
             unit.folder + "\" (the file changed since it was planned)";
    return false;
  }
  if (unit.first + unit.count > rows) {
    *error = "unit " + unit.id + ": the folder has " + std::to_string(rows) + " items, not " +
             std::to_string(unit.first + unit.count) + " or more (the file changed since it was planned)";
    return false;
  }
  *first = size_t(unit.first);
  *count = size_t(unit.count);
  return true;
}

bool select_unit_rows(const WorkUnit& unit, const std::string& folder_path, std::vector<Nid>* nids,
                      std::string* error) {
  size_t first = 0, count = 0;
  if (!select_unit_range(unit, folder_path, nids->size(), &first, &count, error)) return false;
  nids->erase(nids->begin() + std::ptrdiff_t(first + count), nids->end());
  nids->erase(nids->begin(), nids->begin() + std::ptrdiff_t(first));
  return true;
}

int cmd_plan(const PlanCommandOptions& options) {
  if (options.target_bytes == 0) {
    std::cerr << "pstkit: plan: --target-bytes must be more than 0\n";
    return kExitUsage;
  }
  for (const std::string& file : options.files) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      std::cerr << "pstkit: plan: " << file << ": no such file\n";
      return kExitUsage;
    }
  }
  bool ok = true;
  // Several files: each unit names the directory `pstkit export FILE...`
  // gives the file (its name's stem, made unique in the order given).
  std::set<std::string> stems;
  for (const std::string& file : options.files) {
    std::string directory;
    if (options.files.size() > 1) {
      directory = directory_name(fs::path(file).stem().string());
      while (!stems.insert(directory).second) directory += "_";
    }
    std::error_code ec;
    const std::string absolute = fs::absolute(file, ec).lexically_normal().string();
    auto store = open_store_or_report(file, options.read);
    if (!store) {
      ok = false;
      continue;
    }
    ok &= plan_file(*store, ec ? file : absolute, directory, options);
    if (!std::cout) break;
  }
  std::cout.flush();
  if (!std::cout) return kExitBadInput;
  return ok ? kExitOk : kExitBadInput;
}

}  // namespace pstkit::cli
