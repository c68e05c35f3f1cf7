// `pstkit check FILE [--json]`: structural verification, one line per
// finding and a summary; exit 0 when no error was found.
#include <iostream>

#include "cli/cli.h"
#include "pstkit/check.h"

namespace pstkit::cli {

namespace {

nlohmann::json finding_json(const check::Finding& f) {
  nlohmann::json j{{"type", "finding"},
                   {"code", f.code},
                   {"severity", check::severity_name(f.severity)},
                   {"structure", f.structure}};
  j["offset"] = f.offset == check::kNone ? nlohmann::json() : nlohmann::json(f.offset);
  j["id"] = f.id == check::kNone ? nlohmann::json() : nlohmann::json(f.id);
  j["message"] = f.message;
  return j;
}

std::string finding_text(const check::Finding& f) {
  std::string line = f.code + " " + f.structure;
  if (f.offset != check::kNone) line += " offset=" + hex(f.offset);
  if (f.id != check::kNone) line += " id=" + hex(f.id);
  return line + ": " + f.message;
}

std::string plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

int cmd_check(const std::string& file, bool json) {
  auto report = check::check_file(file);
  if (!report.is_ok()) {
    print_error(file, report.status());
    return kExitBadInput;
  }
  const check::Report& r = *report;
  uint64_t suppressed = 0;
  for (const auto& [code, n] : r.suppressed) suppressed += n;
  if (json) {
    for (const check::Finding& f : r.findings) {
      std::cout << finding_json(f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    nlohmann::json s{{"type", "summary"},     {"file", file},
                     {"clean", r.clean()},    {"errors", r.errors},
                     {"warnings", r.warnings}, {"infos", r.infos},
                     {"pages", r.counters.pages}, {"blocks", r.counters.blocks},
                     {"nodes", r.counters.nodes}, {"bytes", r.counters.bytes},
                     {"suppressed", r.suppressed}};
    std::cout << s.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    for (const check::Finding& f : r.findings) std::cout << finding_text(f) << "\n";
    std::cout << plural(r.errors, "error") << ", " << plural(r.warnings, "warning") << " in "
              << plural(r.counters.pages, "page") << ", " << plural(r.counters.blocks, "block") << ", "
              << plural(r.counters.nodes, "node");
    if (suppressed > 0) std::cout << " (" << suppressed << " more findings not shown)";
    std::cout << "\n";
  }
  std::cout.flush();
  return r.clean() ? kExitOk : kExitBadInput;
}

}  // namespace pstkit::cli
