// Streaming mbox reader.
#include "import/mbox_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pstkit::mime {

namespace {

constexpr size_t kBufferSize = size_t{1} << 20;

std::string_view without_eol(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool has_time_of_day(std::string_view s) {
  for (size_t i = 1; i + 2 < s.size(); ++i) {
    auto digit = [&](size_t k) { return s[k] >= '0' && s[k] <= '9'; };
    if (s[i] == ':' && digit(i - 1) && digit(i + 1) && digit(i + 2)) return true;
  }
  return false;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool one_of(std::string_view s, const char* const* names, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (s == names[i]) return true;
  }
  return false;
}

}  // namespace

bool is_from_line(std::string_view line, bool after_blank) {
  line = without_eol(line);
  if (line.substr(0, 5) != "From ") return false;
  const std::string_view rest = line.substr(5);
  if (!has_time_of_day(rest)) return false;
  if (after_blank) return true;
  // Without a blank line before it, only the full asctime form counts.
  static const char* const kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = tokens(rest);
  return t.size() >= 6 && one_of(t[1], kDays, 7) && one_of(t[2], kMonths, 12) && has_time_of_day(t[4]);
}

bool MboxReader::looks_like_mbox(std::string_view head) {
  const size_t eol = head.find('\n');
  return is_from_line(head.substr(0, eol), true);
}

Result<std::unique_ptr<MboxReader>> MboxReader::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(path + ": " + std::strerror(errno));
  return std::unique_ptr<MboxReader>(new MboxReader(fd, path));
}

MboxReader::MboxReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) { buffer_.resize(kBufferSize); }

MboxReader::~MboxReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> MboxReader::next_piece(std::string_view* piece, bool* at_line_start) {
  for (;;) {
    const char* data = buffer_.data();
    const void* nl = begin_ < end_ ? std::memchr(data + begin_, '\n', end_ - begin_) : nullptr;
    if (nl || eof_ || (begin_ == 0 && end_ == buffer_.size())) {
      if (begin_ == end_) return false;  // end of file
      const size_t stop = nl ? size_t(static_cast<const char*>(nl) - data) + 1 : end_;
      *piece = std::string_view(data + begin_, stop - begin_);
      *at_line_start = line_start_;
      line_start_ = nl != nullptr || eof_;
      begin_ = stop;
      consumed_ += piece->size();
      return true;
    }
    // Move the partial line to the front and read more.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), data + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(path_ + ": read failed at byte " + std::to_string(consumed_ + (end_ - begin_)) + ": " +
                              std::strerror(errno));
    }
    if (n == 0) eof_ = true;
    end_ += size_t(n);
  }
}

Result<bool> MboxReader::next(Message* out, uint64_t max_bytes) {
  out->bytes.clear();
  out->too_large = false;
  std::string_view piece;
  bool at_start = false;
  // The first call skips anything before the first From_ line.
  while (!have_separator_) {
    const uint64_t piece_offset = consumed_;
    PSTKIT_ASSIGN_OR_RETURN(bool got, next_piece(&piece, &at_start));
    if (!got) return false;
    const bool complete = !piece.empty() && piece.back() == '\n';
    if (at_start && complete && is_from_line(piece, true)) {
      have_separator_ = true;
      separator_offset_ = piece_offset;
    }
  }
  have_separator_ = false;
  out->offset = separator_offset_;
  bool previous_blank = false;
  for (;;) {
    const uint64_t piece_offset = consumed_;
    PSTKIT_ASSIGN_OR_RETURN(bool got, next_piece(&piece, &at_start));
    if (!got) break;
    if (at_start) {
      const bool complete = piece.back() == '\n';
      if (complete && is_from_line(piece, previous_blank)) {
        have_separator_ = true;
        separator_offset_ = piece_offset;
        break;
      }
      previous_blank = without_eol(piece).empty() && complete;
      // mboxrd: ">From ", ">>From "... lose one '>'.
      size_t quotes = 0;
      while (quotes < piece.size() && piece[quotes] == '>') ++quotes;
      if (quotes > 0 && piece.substr(quotes, 5) == "From ") piece.remove_prefix(1);
    } else {
      previous_blank = false;
    }
    if (out->too_large) continue;
    if (out->bytes.size() + piece.size() > max_bytes) {
      out->too_large = true;
      continue;
    }
    out->bytes.append(piece);
  }
  // The blank line before the next From_ line (or at the end) is framing.
  if (previous_blank && !out->too_large) {
    if (out->bytes.size() >= 2 && out->bytes.compare(out->bytes.size() - 2, 2, "\r\n") == 0) {
      out->bytes.resize(out->bytes.size() - 2);
    } else if (!out->bytes.empty() && out->bytes.back() == '\n') {
      out->bytes.pop_back();
    }
  }
  out->size = (have_separator_ ? separator_offset_ : consumed_) - out->offset;
  return true;
}

}  // namespace pstkit::mime
