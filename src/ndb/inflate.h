// Inflating the zlib streams of compressed 4K-page OST blocks (libpff's PFF
// format): ISA-L's igzip where the library is installed, else zlib. Both
// check the zlib header and the Adler-32 of the output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pstkit::ndb {

struct InflateEngine {
  // Inflates the whole stream in[0..in_size) into out[0..out_size), which
  // must be what it inflates to. True when the stream is complete, its
  // Adler-32 matches and it filled out exactly; else false with *why set.
  using Inflate = bool (*)(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size, std::string* why);
  Inflate inflate;
  const char* name;  // "isa-l" or "zlib"
};

// Chosen once per process, on first use (thread-safe).
const InflateEngine& inflate_engine();
// zlib's, whatever inflate_engine() chose (for tests that compare them).
const InflateEngine& zlib_inflate_engine();

// inflate_engine().inflate, for blocks (both engines count in 32 bits).
inline bool inflate_stream(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size, std::string* why) {
  if (in_size > UINT32_MAX || out_size > UINT32_MAX) {
    *why = "larger than 4 GiB";
    return false;
  }
  return inflate_engine().inflate(in, in_size, out, out_size, why);
}

}  // namespace pstkit::ndb
