// Fuzzes the compressed RTF decoder: any input must yield bytes or a
// Status, within the output limit. Decoded output is re-compressed to
// check the encoder against the decoder too.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pstkit/rtf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstkit;
  constexpr size_t kMaxOutput = 1 << 16;
  ByteView input(data, size);

  (void)rtf::inspect(input);
  rtf::DecompressOptions options;
  options.max_output = kMaxOutput;
  options.verify_crc = false;  // reach the token decoder with mutated bytes
  options.allow_partial = (size & 1) != 0;
  Result<Bytes> out = rtf::decompress(input, options);
  if (!out.is_ok()) return 0;
  if (out->size() > kMaxOutput) abort();

  Result<Bytes> again = rtf::decompress(rtf::compress(*out), kMaxOutput);
  if (!again.is_ok() || *again != *out) abort();
  return 0;
}
