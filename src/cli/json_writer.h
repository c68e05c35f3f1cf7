// A streaming JSON writer for dump: values go straight to a buffered
// stream, so a message's output is never held whole in memory. Measured at
// several times the throughput of building nlohmann::json trees and dumping
// them (docs/BENCHMARKS.md); the small outputs of other commands still use
// nlohmann::json.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "pstkit/bytes.h"

namespace pstkit::cli {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out);
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);

  // Strings are written as valid JSON text: invalid UTF-8 becomes U+FFFD.
  void string(std::string_view s);
  void base64_string(ByteView data);
  void number(int64_t v);
  void number(uint64_t v);
  void number(int32_t v) { number(int64_t(v)); }
  void number(uint32_t v) { number(uint64_t(v)); }
  void number(double v);
  void boolean(bool v);
  void null();

  // Ends the current top-level line.
  void end_line();
  void flush();
  // False once a write to the stream failed (the stream keeps the reason).
  bool ok() const { return out_.good(); }

 private:
  void separator();
  void put(char c) {
    if (buf_.size() == buf_.capacity()) flush();
    buf_.push_back(c);
  }
  void put(std::string_view s);

  std::ostream& out_;
  std::string buf_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace pstkit::cli
