// mboxrd quoting: in an mbox file a line starting "From " begins a
// message, so such lines of a message's text, quoted or not, gain a ">".
#include "cli/mboxrd.h"

#include <cstring>

namespace pstkit::cli {

void append_mboxrd(std::string* text, std::string_view body) {
  // Copied in spans between the lines that need quoting (most messages
  // have none), not line by line.
  text->reserve(text->size() + body.size() + 2);
  size_t span = 0, pos = 0;
  while (pos < body.size()) {
    size_t q = pos;
    while (q < body.size() && body[q] == '>') ++q;
    if (body.compare(q, 5, "From ") == 0) {
      text->append(body.substr(span, pos - span));
      *text += '>';
      span = pos;
    }
    const void* newline = std::memchr(body.data() + pos, '\n', body.size() - pos);
    if (!newline) break;
    pos = size_t(static_cast<const char*>(newline) - body.data()) + 1;
  }
  text->append(body.substr(span));
  if (!body.empty() && body.back() != '\n') *text += '\n';
  *text += '\n';  // the blank line that ends a message
}

}  // namespace pstkit::cli
