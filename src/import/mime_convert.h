// The MIME-to-message conversion steps shared by the files of src/import:
// envelope headers (mime_headers.cpp), addresses (mime_addresses.cpp) and
// the body/attachment walk (mime_content.cpp), driven by message_from_mime
// (mime_message.cpp). Internal: includes GMime.
#pragma once

#include <string>
#include <vector>

#include "import/gmime_handles.h"
#include "pstkit/mime_import.h"

namespace pstkit::mime {

struct ConvertContext {
  const ImportOptions* options = nullptr;
  std::vector<std::string>* warnings = nullptr;  // may be null
  GMimeParserOptions* parser_options = nullptr;  // for re-parsing damaged parts
  int depth = 0;                                 // 0 for the top-level message

  void warn(std::string text) const {
    if (warnings) warnings->push_back(depth ? "embedded message: " + text : std::move(text));
  }
};

// Converts a parsed message, recursively for its embedded messages.
NewMessage convert_message(GMimeMessage* message, const ConvertContext& context);

// Message class, subject, times, ids, importance, read state, transport
// headers ([MS-OXCMAIL] 2.2.3.2).
// received_headers: the header block as received (PidTagTransportMessageHeaders).
void map_envelope(GMimeMessage* message, const ConvertContext& context, const std::string& received_headers,
                  NewMessage& out);
// From, Sender and Reply-To and the To/Cc/Bcc recipient rows with
// PidTagDisplayTo/Cc/Bcc ([MS-OXCMAIL] 2.2.3.1).
void map_addresses(GMimeMessage* message, const ConvertContext& context, NewMessage& out);
// Bodies and attachments ([MS-OXCMAIL] 2.2.3.3, 2.2.3.4; [MS-OXOSMIME]
// 2.1.3 for signed and encrypted messages).
void map_content(GMimeMessage* message, const ConvertContext& context, NewMessage& out);

// A header's value with folding removed, "" when absent.
std::string header_value(GMimeObject* object, const char* name);
// A part's decoded content (transfer encoding undone).
Bytes part_content(GMimePart* part);
// The MIME type, lower case ("text/plain"); "application/octet-stream" when
// the object has none.
std::string mime_type_of(GMimeObject* object);

}  // namespace pstkit::mime
