// A message as an Internet message (RFC 5322 with MIME), converted the way
// Outlook converts MAPI messages to MIME ([MS-OXCMAIL] 2.1, MAPI to MIME).
//
// The headers are the stored Internet headers (PidTagTransportMessageHeaders)
// where the message has them, else built from its properties: From/Sender,
// To/Cc/Bcc from the recipient table, Subject, Date, Message-ID,
// In-Reply-To, References, Importance. Bodies: plain text and HTML (both as
// multipart/alternative); attachments with their names (RFC 2231 when not
// ASCII), MIME types and content ids (inline parts an HTML body refers to by
// cid: in multipart/related); embedded messages as message/rfc822, to any
// depth (up to max_depth). MIME boundaries are derived from the message, so
// that converting the same message twice gives the same bytes.
//
// The MIME text is written directly; GMime 3 (libgmime-3.0.so.0, opened on
// first use like MIME import) is needed only for addresses with 8-bit text
// (display names in stored address headers, internationalized addresses).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/messaging.h"
#include "pstkit/status.h"

namespace pstkit {

struct EmlOptions {
  // Embedded messages deeper than this are left out (and listed in notes).
  int max_depth = 32;
  // Line ends: CRLF as RFC 5322 writes them, or LF (mbox, Maildir).
  bool crlf = true;
  // Leave out attachments that are files (embedded messages stay): for
  // layouts that write them beside the message (readpst -S).
  bool omit_file_attachments = false;
  // Keep only file attachments whose name ends in one of these extensions
  // (".pdf", compared without regard to case); attachments without a name
  // or an extension are kept. Empty keeps all (readpst -a).
  std::vector<std::string> attachment_extensions;
  // Also attach the RTF body, decompressed, as "rtf-body.rtf"
  // (application/rtf), as readpst does unless -b.
  bool rtf_body_attachment = false;
  // Attachment data larger than this many bytes, or that would bring the
  // attachments read whole past four times as much, is not read whole: it
  // is read block by block as the message is written, when the message
  // goes to a `write` function (message_to_eml's second form), so that
  // memory stays bounded whatever the attachments' sizes. Its blocks are
  // read once first, to check them: an attachment that cannot be read is
  // left out (and named in notes) as when it is read whole.
  uint64_t stream_attachments_above = UINT64_MAX;
  // False: a streamed attachment's blocks are not read first, only as they
  // are written. One that cannot be read then fails the conversion after
  // part of the message went to `write`; the caller discards that and
  // converts the message again with this true, which leaves the attachment
  // out as above. Damage is rare, so this reads each block once instead of
  // twice.
  bool check_streamed_attachments = true;
};

// Whether a file attachment named `filename` passes `extensions` (see
// EmlOptions::attachment_extensions).
bool attachment_extension_accepted(const std::string& filename, const std::vector<std::string>& extensions);

struct EmlResult {
  Bytes data;
  // What could not be converted and was left out ("attachment 3: cannot read
  // its data: ..."); the rest of the message is there.
  std::vector<std::string> notes;
};

// Converts one message. Fails only when nothing sensible can be written
// (GMime missing for an 8-bit address); unreadable parts are left out and
// named in notes.
Result<EmlResult> message_to_eml(const Message& message, const EmlOptions& options = {});

// The same message. When an attachment is larger than
// options.stream_attachments_above, the message is handed to `write` in
// pieces as it is written, EmlResult::data is empty and *streamed is set;
// otherwise `write` is not called and the message is in EmlResult::data.
// A `write` that returns false stops the conversion, which then fails.
using EmlWrite = std::function<bool(ByteView)>;
Result<EmlResult> message_to_eml(const Message& message, const EmlOptions& options, const EmlWrite& write,
                                 bool* streamed);

}  // namespace pstkit
