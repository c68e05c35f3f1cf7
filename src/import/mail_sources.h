// Recognising import sources by content and structure: .eml files, mbox
// files, Maildirs (cur/ new/ tmp/, Maildir++ ".Sub.Folder" subfolders) and
// plain directories; Maildir flags and folder names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "import/mapi_props.h"
#include "pstkit/status.h"

namespace pstkit::mime {

enum class SourceKind {
  kEml,        // one RFC 5322 message
  kMbox,       // From_-separated messages
  kMaildir,    // a directory with cur/ and new/
  kDirectory,  // any other directory: searched recursively
  kUnknown,    // a file that is not mail (or an empty file)
};

struct SourceInfo {
  SourceKind kind = SourceKind::kUnknown;
  uint64_t size = 0;  // file size; 0 for directories
};

// Looks at what is at path (reading at most the first 4 KiB of a file).
// Errors name the path: missing, unreadable, or neither file nor directory.
Result<SourceInfo> classify_source(const std::string& path);

// True when head starts with an RFC 5322 header field and has at least one
// of the fields every message carries (From, Date, Subject, To, Received,
// Message-ID, MIME-Version, Return-Path...).
bool looks_like_message(std::string_view head);

// Maildir file name flags (the ":2,FLAGS" suffix; '!' on file systems that
// forbid ':'). Messages in new/ have not been seen.
MailFlags maildir_flags(std::string_view filename, bool in_new);

// A Maildir++ folder directory name (".Lists.pstkit") as a folder path
// (["Lists", "pstkit"]), each part decoded from IMAP modified UTF-7
// (RFC 3501 5.1.3).
std::vector<std::string> maildir_folder_path(std::string_view dirname);

// Names in a directory, sorted bytewise; "." and ".." left out.
Result<std::vector<std::string>> sorted_entries(const std::string& dir);

// Total size of the regular files at or below path (for progress).
uint64_t total_file_bytes(const std::string& path);

}  // namespace pstkit::mime
