// `pstkit recover IN OUT.pst`: everything that can be found in any file,
// into a new Unicode PST; IN is only read (include/pstkit/repair.h).
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

int cmd_recover(const RecoverCommandOptions& options) {
  const std::string& in = options.in;
  const std::string& out = options.out;
  {
    auto probe = open_regular_file(in, O_RDONLY);
    if (!probe) {
      print_failure({in, out}, probe.status());
      return kExitBadInput;
    }
    ::close(*probe);
  }
  if (::access(out.c_str(), F_OK) == 0) {
    std::cerr << "pstkit: " << out << ": exists; recover writes a new file and never replaces one\n";
    return kExitBadInput;
  }
  auto opened = RepairLog::open(options.log.empty() ? out + ".log" : options.log, options.json,
                                "pstkit recover " + in + " " + out);
  if (!opened) {
    print_failure({out, in}, opened.status());
    return kExitBadInput;
  }
  std::unique_ptr<RepairLog> log = std::move(*opened);

  StageProgress progress(!options.quiet && ::isatty(STDERR_FILENO) == 1);
  repair::FileRepairOptions o;
  o.include_deleted = options.include_deleted;
  uint64_t changes = 0;
  o.on_finding = [&](const std::string& when, const check::Finding& f) { log->finding(when, f); };
  o.on_change = [&](const repair::Change& c) {
    ++changes;
    log->change(c);
  };
  o.progress = [&](const std::string& stage, uint64_t done, uint64_t total) { progress.update(stage, done, total); };
  auto result = repair::recover_file(in, out, o);
  progress.clear();
  if (!result) {
    Json s;
    s["type"] = "summary";
    s["in"] = in;
    s["out"] = out;
    s["ok"] = false;
    s["error"] = result.status().message();
    log->summary(s, "failed; no " + out + " was written: " + result.status().message());
    print_failure({in, out}, result.status());
    if (options.json && !options.quiet) std::cout << s.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    return kExitBadInput;
  }
  const repair::FileRepairResult& r = *result;
  const bool nothing = r.rebuild.nodes_copied == 0;
  if (nothing) log->note("nothing recognisable was found in " + in + ": " + out + " is an empty store");
  std::string text = nothing ? "nothing recognisable was found in " + in + ": " + out + " is an empty store"
                             : "recovered " + plural(r.rebuild.folders, "folder") + " and " +
                                   plural(r.rebuild.messages, "message") + " from " + in + " into " + out;
  if (!nothing) {
    text += " (" + plural(r.rebuild.nodes_copied, "node") + " copied, " + plural(r.rebuild.nodes_lost, "node") +
            " unreadable, " + std::to_string(r.rebuild.lost_and_found) + " in Lost and Found, " +
            plural(changes, "change") + ")";
  }
  if (r.errors_after > 0) text += "; " + out + " still has " + plural(r.errors_after, "error");
  Json s;
  s["type"] = "summary";
  s["in"] = in;
  s["out"] = out;
  s["ok"] = r.errors_after == 0;
  s["log"] = log->path();
  s["errors_after"] = r.errors_after;
  s["changes"] = changes;
  s["nodes_in_source"] = r.rebuild.nodes_in_source;
  s["nodes_copied"] = r.rebuild.nodes_copied;
  s["nodes_lost"] = r.rebuild.nodes_lost;
  s["folders"] = r.rebuild.folders;
  s["messages"] = r.rebuild.messages;
  s["lost_and_found"] = r.rebuild.lost_and_found;
  s["folders_recreated"] = r.rebuild.folders_recreated;
  s["unrepaired"] = r.unrepaired;
  log->summary(s, text);
  if (Status ls = log->status(); !ls.is_ok()) print_failure({out, in}, ls);
  if (!options.quiet) {
    if (options.json) {
      std::cout << s.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    } else {
      for (const std::string& line : r.unrepaired) std::cout << "not repaired: " << line << "\n";
      std::cout << text << " (log: " << log->path() << ")\n";
    }
  }
  if (r.errors_after > 0) {
    std::cerr << "pstkit: " << out << ": " << plural(r.errors_after, "error") << " left (listed in " << log->path()
              << ")\n";
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace pstkit::cli
