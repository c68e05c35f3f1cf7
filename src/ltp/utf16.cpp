// UTF-16LE to UTF-8 for property values, tolerant of damage: PtypString
// values in damaged files can hold unpaired surrogates or an odd byte count;
// both become U+FFFD so callers always receive valid UTF-8.
#include "pstkit/property.h"
#include "pstkit/utf.h"

namespace pstkit::ltp {

std::string utf16le_to_utf8(ByteView in) {
  std::string out = pstkit::utf16le_to_utf8(in);  // unpaired surrogates -> U+FFFD
  if (in.size() % 2 != 0) out += "\xEF\xBF\xBD";
  return out;
}

}  // namespace pstkit::ltp
