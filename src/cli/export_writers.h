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

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/mboxrd.h"
#include "pstkit/bytes.h"
#include "pstkit/messaging.h"
#include "util/repeated_keys.h"

namespace pstkit::cli {

// A file an export wrote, relative to the output directory, with its
// SHA-256 (computed from the bytes as they were written, not read back).
struct ExportedFile {
  std::string path;
  std::string sha256;
};

// The "files" member of manifest.json: every file an export wrote, relative
// to the output directory, with its SHA-256. The entries go to an unnamed
// temporary file as they come, so an export's memory does not grow with the
// number of items; write() splices them into the manifest. A path added
// twice (a contents table that lists an item twice writes its file twice)
// keeps its first place, as a JSON object's key would: a 64-bit hash of
// each path goes to a RepeatedKeys (memory bounded whatever the count; a
// set of them in memory took 16-32 bytes a file), which write() asks for
// the entries to leave out.
class ManifestFiles {
 public:
  ManifestFiles() = default;
  ManifestFiles(const ManifestFiles&) = delete;
  ManifestFiles& operator=(const ManifestFiles&) = delete;
  ~ManifestFiles();
  // False, with *error, when the temporary file could not be made.
  bool open(std::string* error);
  // False, with *error, when the entry could not be written.
  bool add(const std::string& path, const std::string& sha256, std::string* error);
  // Writes `manifest` as dump(2) would with its (empty) "files" object
  // holding the entries added, to `file`. False, with *error, when that failed.
  bool write(const nlohmann::ordered_json& manifest, const std::filesystem::path& file, std::string* error);

 private:
  // Pages of path hashes kept in memory: 256 KiB (16,384 files); beyond
  // that they spill to a temporary file, and write() merges sorted runs.
  static constexpr size_t kHashBudget = size_t{256} << 10;
  std::FILE* entries_ = nullptr;
  size_t count_ = 0;                         // lines in entries_
  RepeatedKeys path_hashes_{kHashBudget};    // FNV-1a of each line's path
};

// Whether a format writes a file per item named by the item alone (eml,
// msg, ics, vcf) in a directory per folder; the others keep a folder in a
// mailbox file or a Maildir.
bool has_file_per_item(const std::string& format);
// Whether a format's sinks write the items on any thread
// (FolderSink::writes_items_anywhere): those with a file per item, and
// Maildir, whose file names come from their items too; mailbox files are
// appended to in order.
bool workers_write_items(const std::string& format);

// A folder (or source file) name as a directory name: no "/" or NUL, not
// "." or "..", at most 200 bytes (cut on a UTF-8 boundary).
std::string directory_name(const std::string& name);

// The "From sender Www Mmm dd hh:mm:ss yyyy" line that starts a message in
// an mbox file (the sender's SMTP address, else MAILER-DAEMON; the
// delivery time in UTC).
std::string mbox_from_line(const Message& message);

// One file of an item written in pieces (a message whose large attachments
// are streamed), with its SHA-256 computed as it is written.
class ItemFile {
 public:
  virtual ~ItemFile() = default;
  // False, with error(), when writing failed.
  virtual bool write(ByteView piece) = 0;
  // Closes the file (and puts it in its place); says what was written in
  // *file. False, with *error, when that failed.
  virtual bool finish(ExportedFile* file, std::string* error) = 0;
  // Removes what was written (the conversion failed part way).
  virtual void abandon() = 0;
  const std::string& error() const { return error_; }

 protected:
  std::string error_;
};

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
  // Mailbox formats (mbox, Thunderbird) whose add() first turns the item
  // into mailbox text: prepare() does that on a worker thread (it is const
  // and may run concurrently with anything but the sink's destruction),
  // and add_prepared() appends the text in item order, so that only the
  // write and the file's running SHA-256 are left to the one thread that
  // must do them in order.
  virtual bool prepares_items() const { return false; }
  virtual void prepare(const Message& message, const Bytes& eml, std::string* text) const {
    (void)message, (void)eml, (void)text;
  }
  virtual bool add_prepared(std::string_view text, std::string* error) {
    (void)text;
    *error = "this format adds items whole";
    return false;
  }
  // Whether write_item() may write the items on worker threads: formats
  // with a file per item named by the item alone (eml, msg, ics, vcf). The
  // files are then written in parallel and handed back in item order with
  // adopt(), so what the manifest and journal say does not depend on jobs.
  virtual bool writes_items_anywhere() const { return false; }
  // Writes one file of an item, its own (empty `extension`) or one beside
  // it, and says what was written in *file (with `sha256`, the data's
  // digest in hex, computed here when empty); callable from any thread,
  // concurrently with itself. False, with *error, when writing failed.
  virtual bool write_item(const Message& message, const std::string& extension, ByteView data,
                          std::string sha256, ExportedFile* file, std::string* error) {
    (void)message, (void)extension, (void)data, (void)sha256, (void)file;
    *error = "this format writes its items in order";
    return false;
  }
  // An item's file to write in pieces, for the sinks that write items on
  // any thread (the same name and place as write_item's); callable
  // concurrently. Null, with *error, when it cannot be created.
  virtual std::unique_ptr<ItemFile> open_item_file(const Message& message, const std::string& extension,
                                                   std::string* error) {
    (void)message, (void)extension;
    *error = "this format writes its items in order";
    return nullptr;
  }
  // Takes files write_item() wrote, as if add() had written them now.
  void adopt(std::vector<ExportedFile>&& files) {
    for (ExportedFile& f : files) files_.push_back(std::move(f));
  }
  // Closes what the folder wrote. False, with *error, when that failed.
  virtual bool finish(std::string* error) = 0;
  // The files written since the last call (by add() and add_beside() for
  // the formats with a file per item, by finish() for a mailbox file), in
  // the order written, with their SHA-256; the sink keeps none of them, so
  // the caller takes them after each item (the export journal records an
  // item's files) and its memory does not grow with the folder's items.
  std::vector<ExportedFile> take_files() { return std::exchange(files_, {}); }
  // The folder's mailbox (mbox file, Maildir directory) or directory of
  // .eml files, relative to the output directory.
  const std::string& location() const { return location_; }

 protected:
  // add() for the sinks that write items anywhere: write_item() now, its
  // file kept for take_files().
  bool add_written(const Message& message, const std::string& extension, ByteView data, std::string* error) {
    ExportedFile file;
    if (!write_item(message, extension, data, "", &file, error)) return false;
    files_.push_back(std::move(file));
    return true;
  }
  // A file in the folder's location: its path relative to the output
  // directory (fs::relative once per folder, when location_ is set, not per
  // file: it resolves every component).
  std::string in_location(const std::string& name) const {
    return location_ == "." ? name : location_ + "/" + name;
  }
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
  // (paths in the manifest and in FolderSink::take_files() are relative to it).
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
