// A message as an Outlook .msg file ([MS-OXMSG]): a compound file
// ([MS-CFB], version 3) holding the message's properties, its recipients,
// its attachments and embedded messages (to any depth, up to max_depth),
// with every string as PtypString (Unicode) and the named properties
// remapped to ids 0x8000+ of the file's own name map (__nameid_version1.0),
// which embedded messages share (MS-OXMSG 2.2.3). Bodies go as stored:
// plain text, HTML and compressed RTF. Converting the same message twice
// gives the same bytes.
//
// Needs libgsf (libgsf-1.so.114), opened on first use.
#pragma once

#include <string>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/messaging.h"
#include "pstkit/status.h"

namespace pstkit {

struct MsgOptions {
  // Embedded messages deeper than this are left out (and listed in notes).
  int max_depth = 32;
};

struct MsgResult {
  Bytes data;
  // What could not be converted and was left out ("attachment 3: cannot
  // read its data: ..."); the rest of the message is there.
  std::vector<std::string> notes;
};

// Converts one message of `store` (whose name-to-ID map names its named
// properties). Fails only when no file can be written (libgsf missing);
// unreadable parts are left out and named in notes.
Result<MsgResult> message_to_msg(const Store& store, const Message& message, const MsgOptions& options = {});

}  // namespace pstkit
