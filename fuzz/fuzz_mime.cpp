// Fuzzes the MIME import (message_from_mime: GMime parsing, then headers,
// addresses, bodies, charsets, attachments and embedded messages mapped to
// MAPI properties): mail from the Internet is the least trusted input pstkit
// takes. Any input must yield a message or a Status; every property made
// must be one a PC accepts, so the message is also laid out as a PC.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pstkit/ltp_builder.h"
#include "pstkit/mime_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstkit;
  mime::ImportOptions options;
  options.max_embedded_depth = 4;
  std::vector<std::string> warnings;
  auto message = mime::message_from_mime(ByteView(data, size), options, &warnings);
  if (!message.is_ok()) return 0;
  auto pc = ltp::PcBuilder::create(ndb::FileFormat::kUnicode);
  if (!pc.is_ok()) return 0;
  // A value a PC refuses would fail the message at write time: a bug.
  for (const auto& v : message->properties) {
    if (!pc->set(v).is_ok()) __builtin_trap();
  }
  (void)pc->build();
  return 0;
}
