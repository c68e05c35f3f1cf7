#include "ndb/inflate.h"

#include <zlib.h>

#include <memory>

#ifdef PSTKIT_HAVE_ISAL_HEADER
#include <isa-l/igzip_lib.h>
#endif

#include "util/shared_library.h"

namespace pstkit::ndb {
namespace {

// One z_stream per thread, reset for each block: zlib's uncompress()
// allocates and frees its state and 32 KiB window every call.
bool zlib_inflate(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size, std::string* why) {
  struct Stream {
    z_stream z{};
    bool ready = false;
    ~Stream() {
      if (ready) inflateEnd(&z);
    }
  };
  thread_local Stream stream;
  if (!stream.ready) {
    if (inflateInit(&stream.z) != Z_OK) {
      *why = "zlib: cannot initialise";
      return false;
    }
    stream.ready = true;
  } else if (inflateReset(&stream.z) != Z_OK) {
    *why = "zlib: cannot reset";
    return false;
  }
  z_stream& z = stream.z;
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = uInt(in_size);
  uint8_t none = 0;  // zlib refuses a null output, even of 0 bytes
  z.next_out = out_size != 0 ? out : &none;
  z.avail_out = uInt(out_size);
  const int rc = inflate(&z, Z_FINISH);
  if (rc != Z_STREAM_END || z.total_out != out_size) {
    *why = "zlib " + std::to_string(rc) + ", " + std::to_string(z.total_out) + " bytes";
    return false;
  }
  return true;
}

#ifdef PSTKIT_HAVE_ISAL_HEADER
// ISA-L's one-shot inflate: exporting the corpus OST (1,355 compressed
// blocks) took 58.3 ms of CPU with it against 64.5 ms with zlib
// (docs/BENCHMARKS.md, session 19). Its inflate state, 85 KiB, is kept per
// thread. Opened on first use like the CRC (crypt.cpp), so that the tool
// runs where libisal2 is not installed.
using IsalInit = void (*)(inflate_state*);
using IsalInflate = int (*)(inflate_state*);
IsalInit isal_init = nullptr;
IsalInflate isal_stateless = nullptr;

bool isal_inflate_block(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size, std::string* why) {
  thread_local std::unique_ptr<inflate_state> state;
  if (!state) state = std::make_unique<inflate_state>();
  isal_init(state.get());
  state->next_in = const_cast<uint8_t*>(in);
  state->avail_in = uint32_t(in_size);
  state->next_out = out;
  state->avail_out = uint32_t(out_size);
  state->crc_flag = ISAL_ZLIB;  // parse the zlib header, verify the Adler-32
  const int rc = isal_stateless(state.get());
  if (rc != ISAL_DECOMP_OK || state->total_out != out_size) {
    *why = "isa-l " + std::to_string(rc) + ", " + std::to_string(state->total_out) + " bytes";
    return false;
  }
  return true;
}
#endif

}  // namespace

const InflateEngine& zlib_inflate_engine() {
  static const InflateEngine engine{zlib_inflate, "zlib"};
  return engine;
}

const InflateEngine& inflate_engine() {
  static const InflateEngine chosen = [] {
#ifdef PSTKIT_HAVE_ISAL_HEADER
    std::string error;
    if (void* library = open_shared_library("libisal.so.2", &error)) {
      isal_init = reinterpret_cast<IsalInit>(shared_library_symbol(library, "isal_inflate_init", &error));
      isal_stateless = reinterpret_cast<IsalInflate>(shared_library_symbol(library, "isal_inflate_stateless", &error));
      if (isal_init && isal_stateless) return InflateEngine{isal_inflate_block, "isa-l"};
    }
#endif
    return zlib_inflate_engine();
  }();
  return chosen;
}

}  // namespace pstkit::ndb
