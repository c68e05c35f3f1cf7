// Standard output with its write errors kept. The README promises that a
// failed write (a full disk, a closed pipe when SIGPIPE is ignored) is exit 1
// with one line on stderr; iostreams and stdio would drop the error, so every
// command writes through std::cout, whose buffer CheckedStdout replaces with
// one that remembers the first failed write(2) and drops what follows.
#pragma once

#include <streambuf>
#include <string>

namespace pstkit::cli {

class StdoutBuffer;

class CheckedStdout {
 public:
  // Installs the checked buffer on std::cout (and keeps the old one).
  CheckedStdout();
  // Flushes what is left and puts the old buffer back.
  ~CheckedStdout();
  CheckedStdout(const CheckedStdout&) = delete;
  CheckedStdout& operator=(const CheckedStdout&) = delete;

  // Flushes; when any write failed, prints "pstkit: writing standard output:
  // REASON" on stderr and returns exit code 1, else exit_code.
  int finish(int exit_code);

 private:
  StdoutBuffer* buffer_;
  std::streambuf* previous_;
};

// False once a write to standard output has failed: long outputs stop early.
bool stdout_ok();

}  // namespace pstkit::cli
