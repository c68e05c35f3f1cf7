// Text in the file's native string encoding.
#include "messaging/store_writer_impl.h"
#include "pstkit/codepage.h"
#include "pstkit/utf.h"

namespace pstkit {

Bytes encode_text(ndb::FileFormat format, const std::string& utf8, uint16_t* type) {
  if (format == ndb::FileFormat::kAnsi) {
    // ANSI files store 8-bit strings without a terminator (as Outlook writes
    // them); Windows-1252 is what Outlook uses when nothing else is set.
    *type = ltp::kPtypString8;
    return encode_codepage(utf8, 1252);
  }
  *type = ltp::kPtypString;
  return utf8_to_utf16le(utf8);
}

}  // namespace pstkit
