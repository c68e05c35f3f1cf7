#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace pstkit::cli {
namespace {

std::string clock_text(double seconds) {
  const long s = long(seconds + 0.5);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

}  // namespace

ProgressBar::ProgressBar(bool wanted) : enabled_(wanted && ::isatty(STDERR_FILENO)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

std::string ProgressBar::render(size_t done, size_t total, double seconds, size_t width) {
  // The total comes from the folders' content counts, which a damaged file
  // may understate: never show more done than the total.
  if (total < done) total = done;
  const size_t filled = total == 0 ? width : done * width / total;
  std::string bar = "[";
  for (size_t i = 0; i < width; ++i) bar += i < filled ? '=' : (i == filled ? '>' : ' ');
  bar += "]";
  char text[160];
  const double rate = seconds > 0 ? double(done) / seconds : 0;
  std::snprintf(text, sizeof text, " %zu/%zu items  %.1f/s", done, total, rate);
  bar += text;
  if (rate > 0 && done < total) bar += "  ETA " + clock_text(double(total - done) / rate);
  return bar;
}

void ProgressBar::advance(size_t items) {
  if (!enabled_) return;
  done_ += items;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::draw() {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // \r back to the start of the line, \033[K clears what a longer line left.
  const std::string line = "\r" + render(done_, total_, seconds, 30) + "\033[K";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!enabled_) return;
  draw();
  std::fputc('\n', stderr);
  std::fflush(stderr);
  enabled_ = false;
}

}  // namespace pstkit::cli
