// What `pstkit repair` and `pstkit recover` show and record: the log file
// (every finding of check and every change, then a summary; text or JSON
// lines) and the progress bar on a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pstkit/check.h"
#include "pstkit/repair.h"

namespace pstkit::cli {

class RepairLog {
 public:
  // Opens path for appending (a log holds every run); fails with one line
  // when it cannot be written.
  static Result<std::unique_ptr<RepairLog>> open(const std::string& path, bool json, const std::string& command);
  // A log that records nothing (a dry run without --log).
  static std::unique_ptr<RepairLog> none(bool json);

  void finding(const std::string& when, const check::Finding& f);
  void change(const repair::Change& c);
  void note(const std::string& text);
  // The closing summary (JSON: one object with "type": "summary").
  void summary(const nlohmann::ordered_json& fields, const std::string& text);
  // False once a write failed (a full disk): said once at the end.
  Status status() const;
  const std::string& path() const { return path_; }
  uint64_t warnings() const { return warnings_; }

 private:
  RepairLog(std::string path, bool json) : path_(std::move(path)), json_(json) {}
  void line(const std::string& text);
  std::string path_;
  bool json_;
  std::ofstream out_;
  uint64_t warnings_ = 0;
};

// "pstkit: MESSAGE" on stderr, with "FILE: " before it unless the message
// already starts with one of the paths.
void print_failure(const std::vector<std::string>& paths, const Status& s);

// "CODE structure offset=0x.. id=0x..: message"
std::string finding_text(const check::Finding& f);
// {"type": "change", "code": ..., "structure", "id", "offset", "action"}
nlohmann::ordered_json change_json(const repair::Change& c);
// "CODE structure id=0x.. offset=0x..: action"
std::string change_text(const repair::Change& c);

// One line on stderr, redrawn at most ten times a second, only on a
// terminal: the stage (check, scan, copy, fix, verify) and how far it is.
class StageProgress {
 public:
  explicit StageProgress(bool enabled) : enabled_(enabled) {}
  ~StageProgress() { clear(); }
  void update(const std::string& stage, uint64_t done, uint64_t total);
  void clear();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::string stage_;
  std::chrono::steady_clock::time_point last_{};
  unsigned spin_ = 0;
};

}  // namespace pstkit::cli
