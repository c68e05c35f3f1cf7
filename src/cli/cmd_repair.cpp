// `pstkit repair FILE`: the Inbox Repair Tool, in place, with a backup and a
// log (include/pstkit/repair.h, docs/REPAIR.md).
#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/repair_log.h"
#include "pstkit/repair.h"

namespace pstkit::cli {
namespace {

using Json = nlohmann::ordered_json;


std::string plural(uint64_t n, const std::string& word) {
  if (n == 1) return "1 " + word;
  return std::to_string(n) + " " + word + (word.back() == 's' ? "es" : "s");  // passes
}

}  // namespace

int cmd_repair(const RepairCommandOptions& options) {
  const std::string& file = options.file;
  std::unique_ptr<RepairLog> log;
  const std::string command = "pstkit repair " + file + (options.dry_run ? " --dry-run" : "");
  if (options.dry_run && options.log.empty()) {
    log = RepairLog::none(options.json);  // a dry run writes nothing unless asked to
  } else {
    // Only beside a file that exists: a mistyped name leaves no log behind.
    auto probe = open_regular_file(file, O_RDONLY);
    if (!probe) {
      print_failure({file}, probe.status());
      return kExitBadInput;
    }
    ::close(*probe);
    auto opened = RepairLog::open(options.log.empty() ? file + ".log" : options.log, options.json, command);
    if (!opened) {
      print_failure({file}, opened.status());
      return kExitBadInput;
    }
    log = std::move(*opened);
  }

  StageProgress progress(!options.quiet && ::isatty(STDERR_FILENO) == 1);
  repair::FileRepairOptions o;
  o.dry_run = options.dry_run;
  o.include_deleted = options.include_deleted;
  o.backup_path = options.backup;
  o.no_backup = options.no_backup;
  uint64_t changes = 0;
  o.on_finding = [&](const std::string& when, const check::Finding& f) { log->finding(when, f); };
  o.on_change = [&](const repair::Change& c) {
    ++changes;
    log->change(c);
    // A dry run's plan is its output.
    if (options.dry_run && !options.quiet) {
      progress.clear();
      if (options.json) {
        std::cout << change_json(c).dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
      } else {
        std::cout << "would: " << change_text(c) << "\n";
      }
    }
  };
  o.progress = [&](const std::string& stage, uint64_t done, uint64_t total) { progress.update(stage, done, total); };

  auto result = repair::repair_file(file, o);
  progress.clear();
  if (!result) {
    Json s;
    s["type"] = "summary";
    s["file"] = file;
    s["ok"] = false;
    s["error"] = result.status().message();
    log->summary(s, "failed; " + file + " is as it was: " + result.status().message());
    print_failure({file}, result.status());
    if (options.json && !options.quiet) std::cout << s.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    return kExitBadInput;
  }
  const repair::FileRepairResult& r = *result;
  const bool clean_after = r.was_clean || r.errors_after == 0;

  std::string text;
  if (r.was_clean) {
    text = "no errors found: nothing to repair, the file is unchanged";
    if (log->warnings() > 0) {
      text += "; " + plural(log->warnings(), "warning") + " (leaks, stale hints that Outlook's own files show) left as they are";
    }
  } else if (options.dry_run) {
    text = "dry run: " + plural(r.errors_before, "error") + " found; the repair would make " +
           plural(changes, "change") + " in " + plural(uint64_t(r.passes), "pass") +
           (r.errors_after == 0 ? " and leave no error" : " and leave " + plural(r.errors_after, "error")) +
           "; nothing was changed";
  } else if (r.changed) {
    text = "repaired: " + plural(r.errors_before, "error") + " found, " + plural(changes, "change") + " in " +
           plural(uint64_t(r.passes), "pass") + "; " + plural(r.rebuild.folders, "folder") + ", " +
           plural(r.rebuild.messages, "message") +
           (r.rebuild.lost_and_found ? " (" + std::to_string(r.rebuild.lost_and_found) + " in Lost and Found)" : "");
    text += r.backup.empty() ? "; no backup" : "; the original is in " + r.backup;
    if (r.errors_after > 0) text += "; " + plural(r.errors_after, "error") + " could not be repaired";
  } else {
    text = plural(r.errors_before, "error") + " found; the rebuilt file still had " + plural(r.errors_after, "error") +
           ", so " + file + " was left as it was";
  }

  Json s;
  s["type"] = "summary";
  s["file"] = file;
  s["ok"] = clean_after;
  s["was_clean"] = r.was_clean;
  s["changed"] = r.changed;
  s["dry_run"] = options.dry_run;
  s["backup"] = r.backup.empty() ? Json() : Json(r.backup);
  s["log"] = log->path().empty() ? Json() : Json(log->path());
  s["errors_before"] = r.errors_before;
  s["errors_after"] = r.errors_after;
  s["warnings"] = log->warnings();
  s["passes"] = r.passes;
  s["changes"] = changes;
  s["folders"] = r.rebuild.folders;
  s["messages"] = r.rebuild.messages;
  s["lost_and_found"] = r.rebuild.lost_and_found;
  s["nodes_lost"] = r.rebuild.nodes_lost;
  s["unrepaired"] = r.unrepaired;
  log->summary(s, text);
  if (Status ls = log->status(); !ls.is_ok()) print_failure({file}, ls);

  if (!options.quiet) {
    if (options.json) {
      std::cout << s.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    } else {
      for (const std::string& line : r.unrepaired) std::cout << "not repaired: " << line << "\n";
      std::cout << file << ": " << text << (log->path().empty() ? "" : " (log: " + log->path() + ")") << "\n";
    }
  }
  if (!clean_after) {
    std::cerr << "pstkit: " << file << ": " << plural(r.errors_after, "error") << " could not be repaired"
              << (log->path().empty() ? "" : " (listed in " + log->path() + ")") << "\n";
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace pstkit::cli
