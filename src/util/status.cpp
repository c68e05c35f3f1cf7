#include "pstkit/status.h"

#include "pstkit/bytes.h"

namespace pstkit {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kCorrupt: return "corrupt";
    case Code::kUnsupported: return "unsupported";
    case Code::kNotFound: return "not found";
    case Code::kIoError: return "I/O error";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kTruncated: return "truncated";
    case Code::kAlreadyExists: return "already exists";
    case Code::kBusy: return "busy";
  }
  return "unknown";
}

std::string Status::message() const {
  if (is_ok()) return "ok";
  std::string m = code_name(code_);
  m += ": ";
  if (!structure_.empty()) {
    m += structure_;
    if (has_offset()) m += " at offset " + hex(offset_);
    if (!detail_.empty()) m += ": ";
  }
  m += detail_;
  return m;
}

Status Status::with_context(const std::string& context) const {
  if (is_ok()) return *this;
  Status s = *this;
  s.detail_ = context + ": " + detail_;
  return s;
}

std::string hex(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  char buf[19];
  int i = 18;
  buf[i] = 0;
  do {
    buf[--i] = digits[v & 15];
    v >>= 4;
  } while (v);
  buf[--i] = 'x';
  buf[--i] = '0';
  return std::string(buf + i);
}

}  // namespace pstkit
