// MIME text written directly (RFC 5322, RFC 2045-2047, RFC 2231): header
// folding, encoded words, parameters, and the three transfer encodings a
// 7-bit message needs. Export builds every .eml with these instead of a
// GMime object tree, which cost more CPU than reading the store (objects,
// filters and charset guessing for every part of every message).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "pstkit/bytes.h"

namespace pstkit::mime_text {

// A message being written: bytes and the line end (CRLF or LF) used for
// every line, headers and text bodies alike.
class Output {
 public:
  using Sink = std::function<bool(ByteView)>;
  Output(Bytes& out, bool crlf) : out_(out), newline_(crlf ? "\r\n" : "\n") {}
  // With a sink, flush() hands it what was written since the last flush
  // and empties the buffer: a message written in pieces.
  Output(Bytes& out, bool crlf, const Sink* sink) : out_(out), newline_(crlf ? "\r\n" : "\n"), sink_(sink) {}
  // Flushes once the buffer holds at least `at_least` bytes (always with 0).
  // False once the sink has refused a piece (nothing more is handed to it).
  bool flush(size_t at_least = 0) {
    if (!sink_ || failed_ || out_.size() < at_least || out_.empty()) return !failed_;
    last_was_newline_ = out_.back() == '\n';
    failed_ = !(*sink_)(ByteView(out_.data(), out_.size()));
    out_.clear();
    return !failed_;
  }
  bool failed() const { return failed_; }

  // As bytes: inserting chars into a vector of uint8_t copies one by one.
  void put(std::string_view s) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
  }
  void put(char c) { out_.push_back(static_cast<uint8_t>(c)); }
  void newline() { put(newline_); }
  std::string_view newline_text() const { return newline_; }
  bool ends_with_newline() const { return out_.empty() ? last_was_newline_ : out_.back() == '\n'; }
  Bytes& bytes() { return out_; }

  // "Name: value", folded at its white space into lines of at most 78
  // characters where it has white space to fold at (RFC 5322 2.2.3). The
  // value must be 7-bit with no line ends (see header_text()).
  void header(std::string_view name, std::string_view value);

 private:
  Bytes& out_;
  std::string_view newline_;
  const Sink* sink_ = nullptr;
  bool failed_ = false;
  bool last_was_newline_ = false;  // of what was flushed
};

bool is_ascii(std::string_view s);

// A header value as one line: control characters (line ends among them,
// tab excepted) as spaces.
std::string one_line(std::string_view s);

// A header value from text that may hold anything: ASCII text as it is
// (control characters but tab as spaces), other text as RFC 2047 encoded
// words (UTF-8, B encoding), as is text that would read as encoded words.
// For unstructured headers (Subject) and phrases.
std::string header_text(std::string_view utf8);

// A display name for a mailbox (RFC 5322 3.2.5 phrase): atoms as they are,
// ASCII with specials as a quoted string, other text as encoded words.
std::string phrase(std::string_view utf8);

// "; name=value" for a Content-Type or Content-Disposition parameter:
// a token or a quoted string when short ASCII, else RFC 2231 (UTF-8,
// percent-encoded, split into numbered sections when long).
std::string parameter(std::string_view name, std::string_view value);

// RFC 5322 3.3 date-time in UTC: "Mon, 07 Dec 2026 01:40:00 +0000".
std::string rfc5322_date(int64_t unix_seconds);

enum class TransferEncoding { k7Bit, kQuotedPrintable, kBase64 };

// The encoding for text content under a 7-bit constraint (RFC 2045 6): as it
// is when it is 7-bit lines of at most 998 octets with no NUL or lone CR;
// quoted-printable when at most a sixth of it needs escaping; else base64.
TransferEncoding text_encoding(std::string_view content);

const char* encoding_name(TransferEncoding encoding);

// Writes content in an encoding. Text (7bit, quoted-printable) has its line
// ends (CRLF or LF) written as the output's and nothing added after its
// last character; base64 keeps the bytes exact, in lines of 76 characters,
// each ended.
void write_encoded(Output& out, std::string_view content, TransferEncoding encoding);

}  // namespace pstkit::mime_text
