// A progress bar on stderr for long commands (export, readpst): items done
// of the total, rate and time left, redrawn in place at most ten times a
// second. Shown only when stderr is a terminal and the command is not
// quiet, so logs and pipes get nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace pstkit::cli {

class ProgressBar {
 public:
  // Enabled when `wanted` and stderr is a terminal.
  explicit ProgressBar(bool wanted);
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const { return enabled_; }
  void add_total(size_t items) { total_ += items; }
  // One more item done (exported, skipped or failed alike).
  void advance(size_t items = 1);
  // Draws the last state and ends the line; nothing more is drawn.
  void finish();

  // The bar's text for these figures (without the leading carriage return):
  // "[=====>    ]  120/400 items  35.2/s  ETA 0:08".
  static std::string render(size_t done, size_t total, double seconds, size_t width);

 private:
  void draw();

  bool enabled_ = false;
  bool drawn_ = false;
  size_t done_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace pstkit::cli
