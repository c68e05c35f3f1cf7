// Text in the file's native string encoding, with its property type.
#include "messaging/store_template.h"
#include "messaging/store_writer_impl.h"

namespace pstkit {

Bytes encode_text(ndb::FileFormat format, const std::string& utf8, uint16_t* type) {
  *type = format == ndb::FileFormat::kAnsi ? ltp::kPtypString8 : ltp::kPtypString;
  return encode_text(std::string_view(utf8), format);
}

}  // namespace pstkit
