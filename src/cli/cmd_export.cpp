// pstkit export FILE... -o DIR --format eml|mbox|maildir|thunderbird|msg:
// every item converted to RFC 5322 (pstkit/eml_export.h), or to an Outlook
// .msg file (pstkit/msg_export.h) for msg, and written in the
// format's layout (export_writers.h), which mirrors the folders, and
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
#include "cli/export_writers.h"
#include "cli/folder_walk.h"
#include "pstkit/eml_export.h"
#include "pstkit/ical_export.h"
#include "pstkit/msg_export.h"

namespace pstkit::cli {
namespace {

namespace fs = std::filesystem;

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
    layout_ = ExportLayout::make(options_.format, base, options_.out_dir);
    const std::optional<Nid> ipm = store.ipm_subtree_nid();
    const std::vector<std::string> wanted = split_path(options_.folder);
    std::map<Nid, std::vector<std::string>> dirs;  // folder → its directory names below the root
    std::map<Nid, std::vector<std::string>> below;  // folder → path below the IPM subtree
    std::map<fs::path, std::set<std::string>> taken;
    bool ok = true;
    bool selected_any = false;
    walk_folders(store, [&](const FolderVisit& v) {
      // Where this folder lives: its parent's directory plus its own name.
      std::vector<std::string> dir;
      std::optional<std::vector<std::string>> ipm_path;
      if (ipm && v.nid == *ipm) ipm_path.emplace();
      if (v.depth > 0) {
        Nid parent = parent_of_.count(v.nid) ? parent_of_[v.nid] : 0;
        if (dirs.count(parent)) dir = dirs[parent];
        std::string name = directory_name(v.path.empty() ? std::to_string(v.nid) : v.path.back());
        fs::path parent_key;
        for (const auto& n : dir) parent_key /= n;
        if (!taken[parent_key].insert(name).second) {
          name += " (" + std::to_string(v.nid) + ")";
          taken[parent_key].insert(name);
        }
        dir.push_back(name);
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
      // --unit: only the unit's folder (the others were walked for their names).
      if (options_.unit && v.nid != options_.unit->folder_nid) return true;
      selected_any = true;
      FolderPlace place;
      place.names = dir;
      place.below_ipm_subtree = ipm_path.has_value();  // the IPM subtree itself or a folder below it
      place.is_ipm_subtree = ipm && v.nid == *ipm;
      place.display_name = v.folder ? v.folder->name() : "";
      ok = export_folder(store, v, place, source);
      return ok;
    });
    if (!wanted.empty() && !selected_any) {
      source["error"] = "no folder " + options_.folder;
      partial_ = true;
    }
    if (options_.unit && !selected_any) {
      source["error"] = "unit " + options_.unit->id + ": no folder " + hex(options_.unit->folder_nid) +
                        " (the file changed since it was planned)";
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
  std::unique_ptr<ExportLayout> layout_;
  bool partial_ = false;
  size_t exported_ = 0;

  // The .ics or .vcf of an item exported as .eml, when it has one; what
  // could not be converted goes to notes. False when writing failed.
  bool add_beside(const Store& store, const Message& message, FolderSink& sink, const VcardOptions& vcard_options,
                  std::vector<std::string>& notes, std::string* error) {
    if (options_.format != "eml") return true;
    const std::string cls = message.message_class();
    const bool ics = has_icalendar_form(cls);
    if (!ics && !has_vcard_form(cls)) return true;
    auto item = ics ? message_to_icalendar(message, store.names()) : message_to_vcard(message, store.names(), vcard_options);
    const std::string extension = ics ? "ics" : "vcf";
    if (!item) {
      notes.push_back(extension + ": " + item.status().message());
      return true;
    }
    for (const std::string& n : item->notes) notes.push_back(extension + ": " + n);
    return sink.add_beside(message, extension, item->data, error);
  }

  bool export_folder(const Store& store, const FolderVisit& v, const FolderPlace& place,
                     nlohmann::ordered_json& source) {
    nlohmann::ordered_json entry;
    std::string display;
    for (const auto& p : v.path) display += (display.empty() ? "" : "/") + p;
    entry["path"] = display;
    entry["nid"] = v.nid;
    auto give_up = [&](const std::string& why) {
      entry["error"] = why;
      partial_ = true;
      source["folders"].push_back(std::move(entry));
      return true;
    };
    if (!v.folder) return give_up(v.error.message());
    auto nids = v.folder->content_nids();
    if (!nids) return give_up("contents table: " + nids.status().message());
    entry["found"] = nids->size();
    if (options_.unit) {
      std::string why;
      if (!select_unit_rows(*options_.unit, display, &*nids, &why)) return give_up(why);
      entry["first"] = options_.unit->first;
      entry["count"] = options_.unit->count;
    }
    nlohmann::ordered_json failed = nlohmann::ordered_json::array();
    nlohmann::ordered_json incomplete = nlohmann::ordered_json::array();
    size_t exported = 0;
    std::string error;
    auto stop = [&](const std::string& why) {
      manifest_["stopped"] = why;
      entry["exported"] = exported;
      if (!failed.empty()) entry["failed"] = std::move(failed);
      source["folders"].push_back(std::move(entry));
      return false;
    };
    if (nids->empty() && !layout_->keeps_empty(place)) {
      entry["exported"] = 0;
      source["folders"].push_back(std::move(entry));
      return true;
    }
    std::unique_ptr<FolderSink> sink = layout_->open(place, &error);
    if (!sink) return stop(error);
    EmlOptions eml_options;
    eml_options.crlf = layout_->crlf();
    VcardOptions vcard_options;
    vcard_options.version3 = options_.vcard == "3.0";
    const bool item_format = options_.format == "ics" || options_.format == "vcf";
    size_t skipped = 0;
    for (Nid nid : *nids) {
      auto message = store.open_message(nid);
      if (!message) {
        failed.push_back({{"nid", nid}, {"reason", message.status().message()}});
        continue;
      }
      if (item_format) {
        // ics / vcf: items of other types are counted, not exported.
        const std::string cls = message->message_class();
        const bool ics = options_.format == "ics";
        if (!(ics ? has_icalendar_form(cls) : has_vcard_form(cls))) {
          ++skipped;
          continue;
        }
        auto item = ics ? message_to_icalendar(*message, store.names())
                        : message_to_vcard(*message, store.names(), vcard_options);
        if (!item) {
          failed.push_back({{"nid", nid}, {"reason", item.status().message()}});
          continue;
        }
        if (!sink->add(*message, item->data, &error)) {
          failed.push_back({{"nid", nid}, {"reason", error}});
          return stop(error);
        }
        if (!item->notes.empty()) incomplete.push_back({{"nid", nid}, {"left_out", item->notes}});
        ++exported;
        ++exported_;
        continue;
      }
      Bytes data;
      std::vector<std::string> notes;
      if (options_.format == "msg") {
        auto msg = message_to_msg(store, *message);
        if (!msg) {
          failed.push_back({{"nid", nid}, {"reason", msg.status().message()}});
          continue;
        }
        data = std::move(msg->data);
        notes = std::move(msg->notes);
      } else {
        auto eml = message_to_eml(*message, eml_options);
        if (!eml) {
          failed.push_back({{"nid", nid}, {"reason", eml.status().message()}});
          continue;
        }
        data = std::move(eml->data);
        notes = std::move(eml->notes);
      }
      if (!sink->add(*message, data, &error)) {
        failed.push_back({{"nid", nid}, {"reason", error}});
        return stop(error);
      }
      // Contacts, appointments and tasks also get their .vcf / .ics beside
      // the .eml (formats with mailboxes have no place for them).
      if (!add_beside(store, *message, *sink, vcard_options, notes, &error)) {
        failed.push_back({{"nid", nid}, {"reason", error}});
        return stop(error);
      }
      if (!notes.empty()) incomplete.push_back({{"nid", nid}, {"left_out", notes}});
      ++exported;
      ++exported_;
    }
    if (!sink->finish(&error)) return stop(error);
    // ics / vcf: a folder whose items were all skipped has no directory.
    if (!item_format || exported > 0) entry["output"] = sink->location();
    for (const ExportedFile& f : sink->files()) {
      std::string sha = f.sha256;
      if (sha.empty()) {
        Status s;
        sha = sha256_file_hex((fs::path(options_.out_dir) / f.path).string(), &s);
        if (!s.is_ok()) return stop(s.message());
      }
      manifest_["files"][f.path] = sha;
    }
    entry["exported"] = exported;
    if (item_format) entry["skipped"] = skipped;
    if (!failed.empty()) entry["failed"] = std::move(failed);
    if (!incomplete.empty()) entry["incomplete"] = std::move(incomplete);
    if (entry.contains("failed") || entry.contains("incomplete")) partial_ = true;
    source["folders"].push_back(std::move(entry));
    return true;
  }
};

}  // namespace

int cmd_export(const ExportCommandOptions& options) {
  if (!ExportLayout::make(options.format, options.out_dir, options.out_dir)) {
    std::cerr << "pstkit: export: format " << options.format << " is not supported\n";
    return kExitUsage;
  }
  // Units of one file go into one tree side by side; a folder's mbox file
  // would be written whole by each unit of the folder.
  if (options.unit && (options.format == "mbox" || options.format == "thunderbird")) {
    std::cerr << "pstkit: export: --unit writes eml, msg, maildir, ics or vcf, not " << options.format
              << " (one mailbox file per folder; export the file whole instead)\n";
    return kExitUsage;
  }
  const fs::path out = options.out_dir;
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) {
      std::cerr << "pstkit: export: " << options.out_dir << " exists and is not a directory\n";
      return kExitUsage;
    }
    if (!directory_is_empty(out) && !options.overwrite && !options.unit) {
      std::cerr << "pstkit: export: " << options.out_dir << " is not empty (--overwrite to write into it)\n";
      return kExitUsage;
    }
  } else if (!fs::create_directories(out, ec)) {
    std::cerr << "pstkit: export: cannot create " << options.out_dir << ": " << ec.message() << "\n";
    return kExitBadInput;
  }

  nlohmann::ordered_json manifest;
  manifest["format"] = options.format;
  if (options.unit) manifest["unit"] = nlohmann::ordered_json::parse(work_unit_json(*options.unit));
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
    if (options.unit && !options.unit->directory.empty()) {
      base /= options.unit->directory;
      source["directory"] = options.unit->directory;
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
  const std::string manifest_name = options.unit ? "manifest-" + options.unit->id + ".json" : "manifest.json";
  if (!write_file(out / manifest_name, Bytes(text.begin(), text.end()), &error)) {
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
              << (complete ? "" : " (incomplete: see " + manifest_name + ")") << "\n";
  return complete ? kExitOk : kExitPartial;
}

}  // namespace pstkit::cli
