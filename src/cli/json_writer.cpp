#include "cli/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "export/item_text.h"

namespace pstkit::cli {
namespace {

// Output is written in chunks of this size: large enough that writes are
// few (one per 256 KiB of JSON), small enough to add little to peak RSS.
constexpr size_t kBufferSize = size_t{256} << 10;

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return uint8_t(s[k]); };
  const uint8_t c = b(i);
  const size_t left = s.size() - i;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && (b(i + 1) & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || (b(i + 1) & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || (b(i + 1) & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80 || (b(i + 3) & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

JsonWriter::JsonWriter(std::ostream& out) : out_(out) { buf_.reserve(kBufferSize); }

JsonWriter::~JsonWriter() { flush(); }

void JsonWriter::flush() {
  if (!buf_.empty()) {
    out_.write(buf_.data(), std::streamsize(buf_.size()));
    buf_.clear();
  }
  out_.flush();
}

void JsonWriter::put(std::string_view s) {
  if (buf_.size() + s.size() > buf_.capacity()) flush();
  if (s.size() > buf_.capacity()) {
    out_.write(s.data(), std::streamsize(s.size()));
    return;
  }
  buf_.append(s);
}

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) put(',');
    first_.back() = false;
  }
}

void JsonWriter::begin_object() {
  separator();
  put('{');
  first_.push_back(true);
}
void JsonWriter::end_object() {
  put('}');
  first_.pop_back();
}
void JsonWriter::begin_array() {
  separator();
  put('[');
  first_.push_back(true);
}
void JsonWriter::end_array() {
  put(']');
  first_.pop_back();
}

void JsonWriter::key(std::string_view k) {
  string(k);
  put(':');
  after_key_ = true;
}

void JsonWriter::string(std::string_view s) {
  separator();
  static const char* hex = "0123456789abcdef";
  put('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  size_t i = 0;
  auto flush_run = [&](size_t end) {
    if (end > run) put(s.substr(run, end - run));
  };
  while (i < s.size()) {
    const uint8_t c = uint8_t(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = utf8_sequence(s, i);
      if (n) {
        i += n;
        continue;
      }
      flush_run(i);
      put("\xEF\xBF\xBD");  // U+FFFD
      run = ++i;
      continue;
    }
    flush_run(i);
    switch (c) {
      case '"': put("\\\""); break;
      case '\\': put("\\\\"); break;
      case '\n': put("\\n"); break;
      case '\r': put("\\r"); break;
      case '\t': put("\\t"); break;
      case '\b': put("\\b"); break;
      case '\f': put("\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        put(std::string_view(esc, 6));
      }
    }
    run = ++i;
  }
  flush_run(s.size());
  put('"');
}

void JsonWriter::base64_string(ByteView d) {
  separator();
  put('"');
  // Through a stack chunk: a multiple of 3 bytes, so that only the last
  // chunk is padded.
  char chunk[4096];
  constexpr size_t kChunkBytes = sizeof chunk / 4 * 3;
  for (size_t i = 0; i < d.size(); i += kChunkBytes) {
    const size_t n = std::min(kChunkBytes, d.size() - i);
    item_text::base64_encode(chunk, d.data() + i, n);
    put(std::string_view(chunk, item_text::base64_length(n)));
  }
  put('"');
}

void JsonWriter::number(int64_t v) {
  separator();
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, v);
  put(std::string_view(b, size_t(r.ptr - b)));
}

void JsonWriter::number(uint64_t v) {
  separator();
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, v);
  put(std::string_view(b, size_t(r.ptr - b)));
}

void JsonWriter::number(double v) {
  separator();
  if (!std::isfinite(v)) {
    put("null");  // JSON has no NaN or infinity
    return;
  }
  char b[32];
  auto r = std::to_chars(b, b + sizeof b, v);
  put(std::string_view(b, size_t(r.ptr - b)));
}

void JsonWriter::boolean(bool v) {
  separator();
  put(v ? "true" : "false");
}

void JsonWriter::null() {
  separator();
  put("null");
}

void JsonWriter::end_line() { put('\n'); }

}  // namespace pstkit::cli
