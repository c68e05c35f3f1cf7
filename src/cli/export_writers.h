// Where `pstkit export` puts the items of a folder, one class per format:
//   eml          DIR/<folder path>/<node id>.eml, one RFC 5322 file per item
//   mbox         DIR/<folder path>/mbox, one mboxrd file per folder
//   maildir      Maildir++: DIR is the top folder, DIR/.Inbox.Projects/ a
//                subfolder, each with cur/ new/ tmp/; flags in the file names
//   thunderbird  a Local Folders tree: DIR/Inbox (mbox) + DIR/Inbox.sbd/
//   ics, vcf     DIR/<folder path>/<node id>.ics or .vcf, one per item
//   msg          DIR/<folder path>/<node id>.msg, one Outlook .msg file per item
// Flags (read, answered, forwarded, flagged, draft) come from the message's
// properties; mbox-style files carry them as Status/X-Status (and
// X-Mozilla-Status for Thunderbird), Maildir in its info suffix.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/messaging.h"

namespace pstkit::cli {

// A file an export wrote, relative to the output directory, with its
// SHA-256 when the sink knows it (else the exporter hashes it at the end).
struct ExportedFile {
  std::string path;
  std::string sha256;
};

// A folder (or source file) name as a directory name: no "/" or NUL, not
// "." or "..", at most 200 bytes (cut on a UTF-8 boundary).
std::string directory_name(const std::string& name);

// The "From sender Www Mmm dd hh:mm:ss yyyy" line that starts a message in
// an mbox file (the sender's SMTP address, else MAILER-DAEMON; the
// delivery time in UTC).
std::string mbox_from_line(const Message& message);
// Appends a message to mbox text with mboxrd quoting (a line that reads
// ">*From " gains one more ">") and the blank line that ends it.
void append_mboxrd(std::string* text, std::string_view message);

class FolderSink {
 public:
  virtual ~FolderSink() = default;
  // Adds one item (its RFC 5322 bytes, or .msg file for msg). False, with *error, when writing
  // failed: the export stops there.
  virtual bool add(const Message& message, const Bytes& eml, std::string* error) = 0;
  // Adds a file beside the item's own one (<node id>.<extension>: the .ics
  // or .vcf of an .eml); formats that keep items in mailboxes have no place
  // for one and ignore it.
  virtual bool add_beside(const Message& message, const std::string& extension, const Bytes& data,
                          std::string* error) {
    (void)message, (void)extension, (void)data, (void)error;
    return true;
  }
  // Closes what the folder wrote. False, with *error, when that failed.
  virtual bool finish(std::string* error) = 0;
  // Files written so far.
  const std::vector<ExportedFile>& files() const { return files_; }
  // The folder's mailbox (mbox file, Maildir directory) or directory of
  // .eml files, relative to the output directory.
  const std::string& location() const { return location_; }

 protected:
  std::vector<ExportedFile> files_;
  std::string location_;
};

// A folder's place: its directory names (deduplicated among siblings) below
// the root folder, whether the first of them is the IPM subtree ("Top of
// Outlook data file"), which the mail formats leave out, and its name.
struct FolderPlace {
  std::vector<std::string> names;
  bool below_ipm_subtree = false;  // the IPM subtree or a folder below it
  bool is_ipm_subtree = false;
  std::string display_name;
};

class ExportLayout {
 public:
  virtual ~ExportLayout() = default;
  // One of "eml", "mbox", "maildir", "thunderbird", "msg", "ics", "vcf" (nullptr otherwise);
  // `base` is the output directory of one source file, `out` the export's
  // (paths in files() are relative to it).
  static std::unique_ptr<ExportLayout> make(const std::string& format, const std::filesystem::path& base,
                                            const std::filesystem::path& out);
  // Line ends of the items: CRLF in .eml files, LF in mailboxes.
  virtual bool crlf() const = 0;
  // Whether a folder without items still gets its file or directory: the
  // mail clients' formats show every folder below the IPM subtree; .eml
  // directories exist only where there are items.
  virtual bool keeps_empty(const FolderPlace& place) const = 0;
  // A sink for one folder's items, or nullptr with *error.
  virtual std::unique_ptr<FolderSink> open(const FolderPlace& place, std::string* error) = 0;
};

}  // namespace pstkit::cli
