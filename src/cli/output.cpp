#include "cli/output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/cli.h"

namespace pstkit::cli {

// A streambuf over descriptor 1. After the first failed write it keeps that
// errno and refuses everything, so std::cout turns bad and output stops.
class StdoutBuffer final : public std::streambuf {
 public:
  StdoutBuffer() { setp(buf_, buf_ + sizeof buf_); }

  int error() const { return error_; }

  bool flush_all() { return drain(); }

 protected:
  int overflow(int c) override {
    if (!drain()) return traits_type::eof();
    if (c != traits_type::eof()) {
      *pptr() = char(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }

  int sync() override { return drain() ? 0 : -1; }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (error_ != 0) return 0;
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), s, size_t(n));
      pbump(int(n));
      return n;
    }
    // Larger than the room left: send the buffer, then the data itself
    // (dump hands over megabytes at a time).
    if (!drain()) return 0;
    if (n < std::streamsize(sizeof buf_)) {
      std::memcpy(pptr(), s, size_t(n));
      pbump(int(n));
      return n;
    }
    return write_all(s, size_t(n)) ? n : 0;
  }

 private:
  bool drain() {
    const size_t n = size_t(pptr() - pbase());
    setp(buf_, buf_ + sizeof buf_);
    return n == 0 ? error_ == 0 : write_all(buf_, n);
  }

  bool write_all(const char* p, size_t n) {
    if (error_ != 0) return false;
    while (n > 0) {
      const ssize_t w = ::write(STDOUT_FILENO, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += w;
      n -= size_t(w);
    }
    return true;
  }

  char buf_[64 * 1024];
  int error_ = 0;
};

namespace {
StdoutBuffer* g_checked = nullptr;
}  // namespace

CheckedStdout::CheckedStdout() : buffer_(new StdoutBuffer()) {
  std::cout.flush();
  previous_ = std::cout.rdbuf(buffer_);
  g_checked = buffer_;
}

CheckedStdout::~CheckedStdout() {
  buffer_->flush_all();
  std::cout.rdbuf(previous_);
  g_checked = nullptr;
  delete buffer_;
}

int CheckedStdout::finish(int exit_code) {
  std::cout.flush();
  if (buffer_->flush_all() && std::cout.good()) return exit_code;
  const int e = buffer_->error();
  std::cerr << "pstkit: writing standard output: " << (e != 0 ? std::strerror(e) : "write failed") << "\n";
  return kExitBadInput;
}

bool stdout_ok() { return !g_checked || (g_checked->error() == 0 && std::cout.good()); }

}  // namespace pstkit::cli
