// mboxrd quoting of a message appended to an mbox file.
#pragma once

#include <string>
#include <string_view>

namespace pstkit::cli {

// Appends a message to mbox text with mboxrd quoting (a line that reads
// ">*From " gains one more ">"), a line end after its last line if it has
// none, and the blank line that ends it.
void append_mboxrd(std::string* text, std::string_view message);

}  // namespace pstkit::cli
