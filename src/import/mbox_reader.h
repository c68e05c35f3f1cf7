// Streaming reader of mbox files: one message at a time, so memory does not
// grow with the file.
//
// Messages start at "From " lines (the From_ line of mboxo/mboxrd,
// RFC 4155). A From_ line must follow a blank line (or start the file) and
// carry a time of day, or else have the full "From addr Www Mmm dd hh:mm:ss
// yyyy" form; this keeps unquoted "From " lines in bodies (mboxo writers that
// never quote) from splitting messages. Lines of the form ">From ",
// ">>From "... are unquoted by one '>' (mboxrd; in mboxo files this also
// unquotes ">From " lines the sender wrote, the format's known ambiguity).
// The blank line that ends each message in the file is framing, not
// content, and is dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pstkit/status.h"

namespace pstkit::mime {

class MboxReader {
 public:
  static Result<std::unique_ptr<MboxReader>> open(const std::string& path);
  ~MboxReader();
  MboxReader(const MboxReader&) = delete;
  MboxReader& operator=(const MboxReader&) = delete;

  struct Message {
    std::string bytes;       // the message without its From_ line
    uint64_t offset = 0;     // file offset of the From_ line
    uint64_t size = 0;       // bytes of the file it spans
    bool too_large = false;  // more than max_bytes: bytes holds a prefix only
  };
  // Reads the next message into *out; false at the end of the file. Messages
  // over max_bytes are skipped to their end and flagged too_large.
  Result<bool> next(Message* out, uint64_t max_bytes);

  // Bytes consumed so far, for progress.
  uint64_t position() const { return consumed_; }

  // True when data starts like an mbox file (a From_ line).
  static bool looks_like_mbox(std::string_view head);

 private:
  MboxReader(int fd, std::string path);
  // The next piece of a line: a whole line with its '\n', or a fragment of a
  // line longer than the buffer. *at_line_start tells which piece of a line
  // it is. False at end of file.
  Result<bool> next_piece(std::string_view* piece, bool* at_line_start);

  int fd_ = -1;
  std::string path_;
  std::string buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool line_start_ = true;
  uint64_t consumed_ = 0;
  // A From_ line read ahead while finishing the previous message.
  bool have_separator_ = false;
  uint64_t separator_offset_ = 0;
};

// True when line (without its line end) is a From_ line; after_blank says
// whether the previous line was empty or this is the first line.
bool is_from_line(std::string_view line, bool after_blank);

}  // namespace pstkit::mime
