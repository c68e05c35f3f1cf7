// `pstkit check FILE [--json]`: structural verification, one line per
// finding and a summary; exit 0 when no error was found.
#include <iostream>

#include "cli/cli.h"
#include "pstkit/check.h"

namespace pstkit::cli {

namespace {

// Keys in a fixed order ("type" first) so that lines read well.
using Json = nlohmann::ordered_json;

Json finding_json(const check::Finding& f) {
  Json j;
  j["type"] = "finding";
  j["code"] = f.code;
  j["severity"] = check::severity_name(f.severity);
  j["structure"] = f.structure;
  j["offset"] = f.offset == check::kNone ? Json() : Json(f.offset);
  j["id"] = f.id == check::kNone ? Json() : Json(f.id);
  j["message"] = f.message;
  return j;
}

std::string finding_text(const check::Finding& f) {
  std::string line = f.code + " " + f.structure;
  if (f.offset != check::kNone) line += " offset=" + hex(f.offset);
  if (f.id != check::kNone) line += " id=" + hex(f.id);
  return line + ": " + f.message;
}

// check_file refuses a file that opens but is no PST or OST (or is in a
// version pstkit does not read): reported as one FILE_UNREADABLE finding, so
// that it is printed with its summary (also as JSON) like any damaged file.
check::Report refused_report(const Status& s) {
  check::Finding f;
  f.code = "FILE_UNREADABLE";
  f.severity = check::Severity::kError;
  f.structure = s.structure().empty() ? "file" : s.structure();
  f.offset = s.has_offset() ? s.offset() : check::kNone;
  f.message = s.detail().empty() ? s.message() : s.detail();
  check::Report r;
  r.findings.push_back(std::move(f));
  r.errors = 1;
  return r;
}

std::string plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

int cmd_check(const std::string& file, bool json) {
  // Like every reading command, check reads the committed state and never
  // writes: with an interrupted commit, the state its journal says readers
  // see (docs/COMMIT_PROTOCOL.md).
  report_pending_journal(file);
  auto checked = check::check_file(file);
  if (!checked.is_ok()) {
    // One line on stderr says why; a file that opened (not a PST, an
    // unsupported version) also gets its finding and summary on stdout.
    print_error(file, checked.status());
    if (checked.status().code() == Code::kIoError || checked.status().code() == Code::kBusy) return kExitBadInput;
  }
  const check::Report r = checked.is_ok() ? std::move(*checked) : refused_report(checked.status());
  uint64_t suppressed = 0;
  for (const auto& [code, n] : r.suppressed) suppressed += n;
  if (json) {
    for (const check::Finding& f : r.findings) {
      std::cout << finding_json(f).dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    }
    Json s;
    s["type"] = "summary";
    s["file"] = file;
    s["clean"] = r.clean();
    s["errors"] = r.errors;
    s["warnings"] = r.warnings;
    s["infos"] = r.infos;
    s["pages"] = r.counters.pages;
    s["blocks"] = r.counters.blocks;
    s["nodes"] = r.counters.nodes;
    s["heaps"] = r.counters.heaps;
    s["bytes"] = r.counters.bytes;
    s["suppressed"] = Json::object();
    for (const auto& [code, n] : r.suppressed) s["suppressed"][code] = n;
    std::cout << s.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
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
