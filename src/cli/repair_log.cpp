#include "cli/repair_log.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace pstkit::cli {
namespace {

using Json = nlohmann::ordered_json;

Json id_or_null(uint64_t v, uint64_t none) { return v == none ? Json() : Json(v); }

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void print_failure(const std::vector<std::string>& paths, const Status& s) {
  // File-level errors (no structure) name their file first: said as they are.
  for (const std::string& p : paths) {
    if (s.structure().empty() && s.detail().rfind(p + ":", 0) == 0) {
      std::fprintf(stderr, "pstkit: %s\n", s.detail().c_str());
      return;
    }
  }
  std::fprintf(stderr, "pstkit: %s: %s\n", paths.front().c_str(), s.message().c_str());
}

std::string finding_text(const check::Finding& f) {
  std::string line = f.code + " " + f.structure;
  if (f.offset != check::kNone) line += " offset=" + hex(f.offset);
  if (f.id != check::kNone) line += " id=" + hex(f.id);
  return line + ": " + f.message;
}

std::string change_text(const repair::Change& c) {
  std::string line = c.code + " " + c.structure;
  if (c.id != repair::kNone) line += " id=" + hex(c.id);
  if (c.offset != repair::kNone) line += " offset=" + hex(c.offset);
  return line + ": " + c.action;
}

Result<std::unique_ptr<RepairLog>> RepairLog::open(const std::string& path, bool json, const std::string& command) {
  std::unique_ptr<RepairLog> log(new RepairLog(path, json));
  log->out_.open(path, std::ios::binary | std::ios::app);
  if (!log->out_) return Status::io_error(path + ": cannot write the log: " + std::strerror(errno));
  if (json) {
    Json j;
    j["type"] = "start";
    j["command"] = command;
    j["time"] = utc_now();
    log->line(j.dump(-1, ' ', false, Json::error_handler_t::replace));
  } else {
    log->line("# " + command + " (" + utc_now() + ")");
  }
  return log;
}

std::unique_ptr<RepairLog> RepairLog::none(bool json) { return std::unique_ptr<RepairLog>(new RepairLog("", json)); }

void RepairLog::line(const std::string& text) {
  if (!out_.is_open()) return;
  out_ << text << '\n';
}

void RepairLog::finding(const std::string& when, const check::Finding& f) {
  if (f.severity == check::Severity::kWarning && when == "before") ++warnings_;
  if (json_) {
    Json j;
    j["type"] = "finding";
    j["when"] = when;
    j["code"] = f.code;
    j["severity"] = check::severity_name(f.severity);
    j["structure"] = f.structure;
    j["offset"] = id_or_null(f.offset, check::kNone);
    j["id"] = id_or_null(f.id, check::kNone);
    j["message"] = f.message;
    line(j.dump(-1, ' ', false, Json::error_handler_t::replace));
  } else {
    line(std::string(when == "before" ? "found " : "left ") + check::severity_name(f.severity) + " " +
         finding_text(f));
  }
}

Json change_json(const repair::Change& c) {
  Json j;
  j["type"] = "change";
  j["code"] = c.code;
  j["structure"] = c.structure;
  j["id"] = id_or_null(c.id, repair::kNone);
  j["offset"] = id_or_null(c.offset, repair::kNone);
  j["action"] = c.action;
  return j;
}

void RepairLog::change(const repair::Change& c) {
  if (json_) {
    line(change_json(c).dump(-1, ' ', false, Json::error_handler_t::replace));
  } else {
    line("change " + change_text(c));
  }
}

void RepairLog::note(const std::string& text) {
  if (json_) {
    Json j;
    j["type"] = "note";
    j["message"] = text;
    line(j.dump(-1, ' ', false, Json::error_handler_t::replace));
  } else {
    line("note " + text);
  }
}

void RepairLog::summary(const Json& fields, const std::string& text) {
  if (json_) {
    line(fields.dump(-1, ' ', false, Json::error_handler_t::replace));
  } else {
    line("summary " + text);
  }
  if (out_.is_open()) out_.flush();
}

Status RepairLog::status() const {
  if (out_.is_open() && !out_.good()) return Status::io_error(path_ + ": writing the log failed");
  return Status::ok();
}

void StageProgress::update(const std::string& stage, uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // A new stage is drawn at once; within one, ten times a second at most.
  if (stage == stage_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  stage_ = stage;
  constexpr int kWidth = 30;
  std::string bar;
  if (total > 0) {
    const double fraction = std::min(1.0, double(done) / double(total));
    const int filled = int(fraction * kWidth);
    bar = std::string(size_t(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(size_t(kWidth - filled - 1), ' ');
    std::fprintf(stderr, "\r%-7s [%s] %3d%%  %llu/%llu   ", stage.c_str(), bar.c_str(), int(fraction * 100),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  } else {
    static const char kSpin[] = "|/-\\";
    std::fprintf(stderr, "\r%-7s %c %llu%*s", stage.c_str(), kSpin[spin_++ % 4], static_cast<unsigned long long>(done),
                 40, "");
  }
  drawn_ = true;
}

void StageProgress::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r%*s\r", 79, "");
  drawn_ = false;
}

}  // namespace pstkit::cli
