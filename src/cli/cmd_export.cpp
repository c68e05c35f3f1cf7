// pstkit export FILE... -o DIR --format eml: every item as an .eml file
// (pstkit/eml_export.h) in a directory tree that mirrors the folders, and
// manifest.json saying, per folder, what was found, exported and not, with
// the SHA-256 of every file written.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "cli/cli.h"
#include "cli/folder_walk.h"
#include "pstkit/eml_export.h"

namespace pstkit::cli {
namespace {

namespace fs = std::filesystem;

// A folder name as a directory name: no "/" or NUL, not "." or "..", at most
// 200 bytes (cut on a UTF-8 boundary).
std::string directory_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '/') out += '_';
    else if (c != '\0') out += c;
  }
  if (out.size() > 200) {
    size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

bool directory_is_empty(const fs::path& dir) {
  std::error_code ec;
  return fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

// Writes a file whole; false (errno kept in *error) when it could not.
bool write_file(const fs::path& path, const Bytes& data, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
  if (out) out.close();
  if (!out) {
    *error = path.string() + ": " + std::strerror(errno ? errno : EIO);
    return false;
  }
  return true;
}

class Exporter {
 public:
  Exporter(const ExportCommandOptions& options, nlohmann::ordered_json& manifest)
      : options_(options), manifest_(manifest) {}

  // Exports one store into `base`. False when the export must stop (a file
  // could not be written).
  bool run(const Store& store, const fs::path& base, nlohmann::ordered_json& source) {
    source["folders"] = nlohmann::ordered_json::array();
    const std::optional<Nid> ipm = store.ipm_subtree_nid();
    const std::vector<std::string> wanted = split_path(options_.folder);
    std::map<Nid, fs::path> dirs;                  // folder → its directory
    std::map<Nid, std::vector<std::string>> below;  // folder → path below the IPM subtree
    std::map<fs::path, std::set<std::string>> taken;
    bool ok = true;
    bool selected_any = false;
    walk_folders(store, [&](const FolderVisit& v) {
      // Where this folder lives: its parent's directory plus its own name.
      fs::path dir = base;
      std::optional<std::vector<std::string>> ipm_path;
      if (ipm && v.nid == *ipm) ipm_path.emplace();
      if (v.depth > 0) {
        Nid parent = parent_of_.count(v.nid) ? parent_of_[v.nid] : 0;
        dir = dirs.count(parent) ? dirs[parent] : base;
        std::string name = directory_name(v.path.empty() ? std::to_string(v.nid) : v.path.back());
        if (!taken[dir].insert(name).second) {
          name += " (" + std::to_string(v.nid) + ")";
          taken[dir].insert(name);
        }
        dir /= name;
        if (!ipm_path && below.count(parent)) {
          ipm_path = below[parent];
          ipm_path->push_back(v.path.empty() ? "" : v.path.back());
        }
      }
      dirs[v.nid] = dir;
      if (ipm_path) below[v.nid] = *ipm_path;
      for (const TableRow& row : v.subfolders) parent_of_[row.nid] = v.nid;

      // --folder: only that folder and what is below it.
      if (!wanted.empty()) {
        if (!ipm_path || ipm_path->size() < wanted.size() ||
            !std::equal(wanted.begin(), wanted.end(), ipm_path->begin()))
          return true;
      }
      selected_any = true;
      ok = export_folder(store, v, dir, source);
      return ok;
    });
    if (!wanted.empty() && !selected_any) {
      source["error"] = "no folder " + options_.folder;
      partial_ = true;
    }
    return ok;
  }

  bool partial() const { return partial_; }
  size_t exported() const { return exported_; }

 private:
  const ExportCommandOptions& options_;
  nlohmann::ordered_json& manifest_;
  std::map<Nid, Nid> parent_of_;
  bool partial_ = false;
  size_t exported_ = 0;

  bool export_folder(const Store& store, const FolderVisit& v, const fs::path& dir, nlohmann::ordered_json& source) {
    nlohmann::ordered_json entry;
    std::string display;
    for (const auto& p : v.path) display += (display.empty() ? "" : "/") + p;
    entry["path"] = display;
    entry["nid"] = v.nid;
    if (!v.folder) {
      entry["error"] = v.error.message();
      partial_ = true;
      source["folders"].push_back(std::move(entry));
      return true;
    }
    auto nids = v.folder->content_nids();
    if (!nids) {
      entry["error"] = "contents table: " + nids.status().message();
      partial_ = true;
      source["folders"].push_back(std::move(entry));
      return true;
    }
    entry["found"] = nids->size();
    nlohmann::ordered_json failed = nlohmann::ordered_json::array();
    nlohmann::ordered_json incomplete = nlohmann::ordered_json::array();
    size_t exported = 0;
    std::error_code ec;
    if (!nids->empty()) fs::create_directories(dir, ec);
    if (ec) {
      manifest_["stopped"] = dir.string() + ": " + ec.message();
      source["folders"].push_back(std::move(entry));
      return false;
    }
    for (Nid nid : *nids) {
      auto message = store.open_message(nid);
      if (!message) {
        failed.push_back({{"nid", nid}, {"reason", message.status().message()}});
        continue;
      }
      auto eml = message_to_eml(*message);
      if (!eml) {
        failed.push_back({{"nid", nid}, {"reason", eml.status().message()}});
        continue;
      }
      fs::path file = dir / (std::to_string(nid) + ".eml");
      std::string error;
      if (!write_file(file, eml->data, &error)) {
        manifest_["stopped"] = error;
        failed.push_back({{"nid", nid}, {"reason", error}});
        entry["exported"] = exported;
        entry["failed"] = std::move(failed);
        source["folders"].push_back(std::move(entry));
        return false;
      }
      manifest_["files"][fs::relative(file, options_.out_dir).string()] = sha256_hex(eml->data);
      if (!eml->notes.empty()) incomplete.push_back({{"nid", nid}, {"left_out", eml->notes}});
      ++exported;
      ++exported_;
    }
    entry["exported"] = exported;
    if (!failed.empty()) entry["failed"] = std::move(failed);
    if (!incomplete.empty()) entry["incomplete"] = std::move(incomplete);
    if (entry.contains("failed") || entry.contains("incomplete")) partial_ = true;
    source["folders"].push_back(std::move(entry));
    return true;
  }
};

}  // namespace

int cmd_export(const ExportCommandOptions& options) {
  if (options.format != "eml") {
    std::cerr << "pstkit: export: format " << options.format << " is not supported (eml)\n";
    return kExitUsage;
  }
  const fs::path out = options.out_dir;
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) {
      std::cerr << "pstkit: export: " << options.out_dir << " exists and is not a directory\n";
      return kExitUsage;
    }
    if (!directory_is_empty(out) && !options.overwrite) {
      std::cerr << "pstkit: export: " << options.out_dir << " is not empty (--overwrite to write into it)\n";
      return kExitUsage;
    }
  } else if (!fs::create_directories(out, ec)) {
    std::cerr << "pstkit: export: cannot create " << options.out_dir << ": " << ec.message() << "\n";
    return kExitBadInput;
  }

  nlohmann::ordered_json manifest;
  manifest["format"] = options.format;
  manifest["sources"] = nlohmann::ordered_json::array();
  manifest["files"] = nlohmann::ordered_json::object();
  Exporter exporter(options, manifest);
  bool stopped = false, any_opened = false;
  std::set<std::string> stems;
  for (const std::string& file : options.files) {
    nlohmann::ordered_json source;
    source["file"] = file;
    // One source: its folders straight into DIR; several: DIR/<file name>.
    fs::path base = out;
    if (options.files.size() > 1) {
      std::string stem = directory_name(fs::path(file).stem().string());
      while (!stems.insert(stem).second) stem += "_";
      base /= stem;
      source["directory"] = stem;
    }
    auto store = open_store_or_report(file, options.read);
    if (!store) {
      source["error"] = "cannot open the file";
      manifest["sources"].push_back(std::move(source));
      continue;
    }
    any_opened = true;
    if (!exporter.run(*store, base, source)) stopped = true;
    manifest["sources"].push_back(std::move(source));
    if (stopped) break;
  }
  const bool complete = any_opened && !stopped && !exporter.partial() &&
                        manifest["sources"].size() == options.files.size() &&
                        std::none_of(manifest["sources"].begin(), manifest["sources"].end(),
                                     [](const auto& s) { return s.contains("error"); });
  manifest["exported"] = exporter.exported();
  manifest["complete"] = complete;

  std::string text = manifest.dump(2) + "\n";
  std::string error;
  if (!write_file(out / "manifest.json", Bytes(text.begin(), text.end()), &error)) {
    std::cerr << "pstkit: export: " << error << "\n";
    return kExitBadInput;
  }
  if (stopped) {
    std::cerr << "pstkit: export stopped: " << manifest.value("stopped", std::string()) << "\n";
    return kExitBadInput;
  }
  if (!any_opened) return kExitBadInput;
  if (!options.quiet)
    std::cerr << "pstkit: exported " << exporter.exported() << " items to " << options.out_dir
              << (complete ? "" : " (incomplete: see manifest.json)") << "\n";
  return complete ? kExitOk : kExitPartial;
}

}  // namespace pstkit::cli
