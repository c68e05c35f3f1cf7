// Fuzzes the compressed RTF decoder: any input must yield bytes or a
// Status, within the output limit. Decoded output is re-compressed to
// check the encoder against the decoder too, and both the input and the
// decoded RTF go through the RTF → HTML conversion (pstkit/rtf_html.h).

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pstkit/rtf.h"
#include "pstkit/rtf_html.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstkit;
  constexpr size_t kMaxOutput = 1 << 16;
  ByteView input(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)rtf::rtf_to_html(text);

  (void)rtf::inspect(input);
  rtf::DecompressOptions options;
  options.max_output = kMaxOutput;
  options.verify_crc = false;  // reach the token decoder with mutated bytes
  options.allow_partial = (size & 1) != 0;
  Result<Bytes> out = rtf::decompress(input, options);
  if (!out.is_ok()) return 0;
  if (out->size() > kMaxOutput) abort();
  (void)rtf::rtf_to_html(std::string_view(reinterpret_cast<const char*>(out->data()), out->size()));

  Result<Bytes> again = rtf::decompress(rtf::compress(*out), kMaxOutput);
  if (!again.is_ok() || *again != *out) abort();
  return 0;
}
