// pstkit readpst (also installed as pstkit-readpst): readpst's command line
// and output layout over pstkit's reader, so that scripts and Apache Tika's
// readpst parser switch by changing one path. The layout rules (which
// folders become files or directories, how files are numbered and named,
// what happens to an existing name) are readpst 0.6's, taken from its
// manual and from running it on the corpus; the contents are pstkit's
// conversions (pstkit/eml_export.h, pstkit/ical_export.h). docs/READPST.md
// lists the options and where pstkit differs.
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli.h"
#include "cli/export_writers.h"
#include "cli/ordered_workers.h"
#include "pstkit/codepage.h"
#include "pstkit/eml_export.h"
#include "export/item_text.h"
#include "pstkit/ical_export.h"
#include "pstkit/msg_export.h"
#include "pstkit/property_names.h"

namespace pstkit::cli {
namespace {

namespace fs = std::filesystem;

enum class Mode { kNormal, kKMail, kRecurse, kSeparate };

// readpst's item kinds and the -t letters that select them.
enum class Kind { kEmail, kAppointment, kContact, kJournal, kOther };
constexpr unsigned kSelectEmail = 1, kSelectAppointment = 2, kSelectJournal = 4, kSelectContact = 8;

struct ReadpstOptions {
  Mode mode = Mode::kNormal;
  bool mh = false;            // -M/-e/-m: attachments inside the message file
  bool extensions = false;    // -e/-m: .eml/.ics/.vcf names
  bool msg_too = false;       // -m: a .msg beside each .eml
  bool thunderbird = false;   // -u: .type and .size in every folder
  bool quiet = false;
  bool contact_list = false;  // -cl: "name <address>" lines instead of vCards
  bool include_deleted = false;
  unsigned types = 0xff;
  bool overwrite = false;
  bool save_rtf = true;
  unsigned jobs = 1;  // -j: worker threads converting items (readpst's 0: no parallel jobs, one)
  std::vector<std::string> attachment_extensions;
  std::string output_dir = ".";
  std::string file;
  ReadOptions read;
};

const char* kProgram = "pstkit readpst";
constexpr Nid kOstIpmSubtree = 0x2142;
constexpr uint32_t kLidEmail1Address = 0x8083;  // PidLidEmail1EmailAddress, MS-OXOCNTC 2.2.1.2.3

void usage(std::ostream& out) {
  out << "Usage: " << kProgram << " [OPTIONS] PSTFILE\n"
         "readpst's command line over pstkit: the same output layout, from every PST and OST\n"
         "(also 4K-page OSTs), with stable output; a file whose B-trees are damaged is read\n"
         "through pstkit's recovery.\n\n"
         "Options:\n"
         "  -V           Show the version and exit\n"
         "  -C CHARSET   Character set of 8-bit text of items that name none\n"
         "  -D           Include the Deleted Items folder\n"
         "  -M           One file per item (MH/RFC 822), attachments inside, numbered from 1\n"
         "  -S           One file per item, attachments beside it as N-NAME\n"
         "  -a EXTS      Keep only attachments with these extensions (\".pdf,.doc\")\n"
         "  -b           Do not attach the RTF body (rtf-body.rtf)\n"
         "  -c v|l       Contacts as vCards (v, the default) or \"name <address>\" lines (l)\n"
         "  -d FILE      Accepted for readpst's scripts; pstkit writes no debug log\n"
         "  -e           As -M, with the extensions .eml, .ics and .vcf\n"
         "  -h, --help   Show this help and exit\n"
         "  -j JOBS      Threads converting items (0: one); the output is the same for any number\n"
         "  -k           KMail layout: .FOLDER.directory/FOLDER.mbox\n"
         "  -m           As -e, and a .msg file beside each .eml\n"
         "  -o DIR       Output directory (must exist)\n"
         "  -q           Quiet: print only errors\n"
         "  -r           Recursive: a directory per folder with mbox, calendar, contacts, journal\n"
         "  -t TYPES     Item types to write: e (email), a (appointment), j (journal), c (contact)\n"
         "  -u           Thunderbird: as -r, with .type and .size in each directory\n"
         "  -w           Overwrite existing output files (with -S, empties the folders first)\n"
         "  -8           Accepted: pstkit always writes UTF-8\n\n"
         "Exit status: 0 success, 1 the file could not be read or the output not written, 2 usage error.\n";
}

// readpst's check_filename: '/', '\\' and ':' become '_'.
std::string safe_name(std::string name) {
  for (char& c : name)
    if (c == '/' || c == '\\' || c == ':') c = '_';
  if (name.empty() || name == "." || name == "..") name = "_" + name;
  return name;
}

// libpst's class test (pst_strincmp): the first min(|prefix|, |class|)
// characters agree without regard to case, so a class that stops short
// ("IPM.N") matches too.
bool libpst_class_match(std::string_view prefix, const std::string& message_class) {
  const size_t n = std::min(prefix.size(), message_class.size());
  for (size_t i = 0; i < n; ++i)
    if (std::toupper(static_cast<unsigned char>(prefix[i])) !=
        std::toupper(static_cast<unsigned char>(message_class[i])))
      return false;
  return true;
}

// libpst's item types from the message class, tested in its order; tasks,
// sticky notes and other classes are not written by readpst, nor is an
// item with no class.
Kind kind_of(const Message& message) {
  if (!message.properties().has(prop::kMessageClass)) return Kind::kOther;
  const std::string cls = message.message_class();
  if (libpst_class_match("IPM.Note", cls) || strcasecmp(cls.c_str(), "IPM") == 0) return Kind::kEmail;
  if (libpst_class_match("IPM.Contact", cls)) return Kind::kContact;
  if (libpst_class_match("REPORT.IPM.Note", cls)) return Kind::kEmail;
  if (libpst_class_match("IPM.Activity", cls)) return Kind::kJournal;
  if (libpst_class_match("IPM.Appointment", cls)) return Kind::kAppointment;
  if (libpst_class_match("IPM.Schedule.Meeting", cls)) return Kind::kEmail;
  return Kind::kOther;
}

unsigned selector_of(Kind kind) {
  switch (kind) {
    case Kind::kEmail: return kSelectEmail;
    case Kind::kAppointment: return kSelectAppointment;
    case Kind::kContact: return kSelectContact;
    case Kind::kJournal: return kSelectJournal;
    case Kind::kOther: break;
  }
  return 0;
}

// The per-folder file of each kind in the mailbox layouts.
constexpr Kind kFileKinds[] = {Kind::kEmail, Kind::kAppointment, Kind::kContact, Kind::kJournal};
const char* kind_file_name(Kind kind) {
  switch (kind) {
    case Kind::kAppointment: return "calendar";
    case Kind::kContact: return "contacts";
    case Kind::kJournal: return "journal";
    default: return "mbox";
  }
}
size_t kind_index(Kind kind) {
  switch (kind) {
    case Kind::kAppointment: return 1;
    case Kind::kContact: return 2;
    case Kind::kJournal: return 3;
    default: return 0;
  }
}

// libpst's folder type from PR_CONTAINER_CLASS, written to Thunderbird's
// .type: 0 none, 1 mail (IPF.Note, IPF.Imap), 8 calendar, 9 contacts, 10
// journal, 11 notes, 12 tasks, 13 other (checked against readpst -u on
// the corpus).
int folder_type(const Folder& folder) {
  if (!folder.properties().has(prop::kContainerClass)) return 0;
  const std::string cls = folder.container_class();
  if (cls.empty()) return 0;
  if (libpst_class_match("IPF.Note", cls) || libpst_class_match("IPF.Imap", cls)) return 1;
  if (libpst_class_match("IPF.Contact", cls)) return 9;
  if (libpst_class_match("IPF.Journal", cls)) return 10;
  if (libpst_class_match("IPF.Appointment", cls)) return 8;
  if (libpst_class_match("IPF.StickyNote", cls)) return 11;
  if (libpst_class_match("IPF.Task", cls)) return 12;
  return 13;
}

bool path_exists(const fs::path& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// A child of a folder as readpst sees it: every node whose parent is the
// folder (subfolders, messages, folder-associated items), in node id order.
struct Child {
  Nid nid = 0;
  bool folder = false;
};

// One item as a worker converted it, for the writer (Readpst::render).
struct RenderedItem {
  bool skip = false;  // unreadable, or a kind readpst does not write or -t left out
  Nid nid = 0;
  Kind kind = Kind::kOther;
  std::string error;  // the conversion failed: the export stops at this item
  std::string text;   // what goes into the item's file, or is appended to its kind's file
  std::vector<std::pair<std::string, Bytes>> attachments;  // -S: saved beside the item
  Bytes msg;                                               // -m: the .msg beside the .eml
  std::string msg_error;
};

class Readpst {
 public:
  Readpst(const ReadpstOptions& options, const Store& store, OrderedWorkers<RenderedItem>& workers)
      : options_(options), store_(store), workers_(workers) {
    eml_options_.crlf = false;  // readpst writes LF line ends in every layout
    eml_options_.omit_file_attachments = options.mode == Mode::kSeparate && !options.mh;
    eml_options_.attachment_extensions = options.attachment_extensions;
    eml_options_.rtf_body_attachment = options.save_rtf;
  }

  // Writes everything below the IPM subtree into `root`, under `root_name`.
  bool run(const fs::path& root, const std::string& root_name, Nid ipm_subtree) {
    auto top = store_.open_folder(ipm_subtree);
    if (!top) {
      error_ = "top of folders: " + top.status().message();
      return false;
    }
    FolderInfo info;
    info.name = root_name;
    info.type = 0;
    info.stored_count = 0;  // readpst's root is the message store, which counts no items
    return process(root, info, *top);
  }

  const std::string& error() const { return error_; }
  size_t written() const { return written_; }

 private:
  struct FolderInfo {
    std::string name;
    int type = 0;
    int32_t stored_count = 0;
  };

  // An output file of a mailbox layout, opened when its folder is entered
  // and removed at the end when nothing was written to it (as readpst does).
  struct OpenFile {
    fs::path path;
    FILE* stream = nullptr;
  };

  const ReadpstOptions& options_;
  const Store& store_;
  OrderedWorkers<RenderedItem>& workers_;
  EmlOptions eml_options_;
  std::string error_;
  size_t written_ = 0;

  bool fail(const std::string& what) {
    error_ = what;
    return false;
  }
  bool io_fail(const fs::path& path) { return fail(path.string() + ": " + std::strerror(errno ? errno : EIO)); }

  static bool write_all(FILE* f, std::string_view data) {
    return data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size();
  }

  bool make_directory(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) return true;
    return io_fail(dir);
  }

  // readpst's mk_separate_dir: NAME, else NAME1, NAME2... unless -w, which
  // reuses NAME and removes the regular files in it.
  std::optional<fs::path> separate_directory(const fs::path& parent, const std::string& name) {
    for (unsigned n = 0;; ++n) {
      fs::path dir = parent / (n == 0 ? name : name + std::to_string(n));
      if (::mkdir(dir.c_str(), 0777) == 0) return dir;
      if (errno != EEXIST) {
        io_fail(dir);
        return std::nullopt;
      }
      if (options_.overwrite) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec))
          if (entry.is_regular_file(ec) && !entry.is_symlink(ec)) fs::remove(entry.path(), ec);
        return dir;
      }
      if (n > 99999999) {
        fail(dir.string() + ": no free directory name");
        return std::nullopt;
      }
    }
  }

  // Opens the file of each kind for a mailbox layout folder; an existing
  // name gets 8 digits appended (readpst's create_enter_dir) unless -w.
  bool open_mailbox_files(const fs::path& dir, const std::string& name, std::vector<OpenFile>* files) {
    for (Kind kind : kFileKinds) {
      std::string file = kind_file_name(kind);
      if (options_.mode == Mode::kNormal || options_.mode == Mode::kKMail) file = safe_name(name + "." + file);
      fs::path path = dir / file;
      if (!options_.overwrite) {
        for (unsigned n = 1; path_exists(path); ++n) {
          char suffix[16];
          std::snprintf(suffix, sizeof suffix, "%08u", n);
          path = dir / (file + suffix);
          if (n >= 99999999) return fail(path.string() + ": no free file name");
        }
      }
      OpenFile f{path, std::fopen(path.c_str(), "w")};
      if (!f.stream) return io_fail(path);
      files->push_back(f);
    }
    return true;
  }

  bool close_mailbox_files(std::vector<OpenFile>* files) {
    bool ok = true;
    for (OpenFile& f : *files) {
      if (!f.stream) continue;
      const bool flushed = std::fflush(f.stream) == 0 && !std::ferror(f.stream);
      const long size = std::ftell(f.stream);
      if (std::fclose(f.stream) != 0 || !flushed) ok = ok && io_fail(f.path);
      f.stream = nullptr;
      if (size == 0) ::unlink(f.path.c_str());
    }
    return ok;
  }

  bool write_small_file(const fs::path& path, std::string_view data) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) return io_fail(path);
    const bool ok = write_all(f, data);
    if (std::fclose(f) != 0 || !ok) return io_fail(path);
    return true;
  }

  std::vector<Child> children_of(const Folder& folder) {
    std::vector<Child> out;
    if (auto rows = folder.subfolders())
      for (const TableRow& r : *rows) out.push_back({r.nid, true});
    if (auto nids = folder.content_nids())
      for (Nid n : *nids) out.push_back({n, false});
    if (auto rows = folder.associated_contents())
      for (const TableRow& r : *rows) out.push_back({r.nid, false});
    std::sort(out.begin(), out.end(), [](const Child& a, const Child& b) { return a.nid < b.nid; });
    out.erase(std::unique(out.begin(), out.end(), [](const Child& a, const Child& b) { return a.nid == b.nid; }),
              out.end());
    return out;
  }

  static bool has_children(const Folder& folder) {
    auto sub = folder.subfolders();
    if (sub && !sub->empty()) return true;
    auto nids = folder.content_nids();
    if (nids && !nids->empty()) return true;
    auto assoc = folder.associated_contents();
    return assoc && !assoc->empty();
  }

  // One folder: readpst's process(). `dir` is where the folder's own file
  // or directory goes.
  bool process(const fs::path& parent, const FolderInfo& info, const Folder& folder) {
    fs::path dir = parent;
    std::vector<OpenFile> files;
    switch (options_.mode) {
      case Mode::kNormal:
        if (!open_mailbox_files(dir, info.name, &files)) return false;
        break;
      case Mode::kKMail:
        dir = parent / safe_name("." + info.name + ".directory");
        if (!make_directory(dir)) return false;
        // KMail rebuilds its index when the folder changed.
        ::unlink((parent / ("." + info.name + ".index")).c_str());
        if (!open_mailbox_files(dir, info.name, &files)) return false;
        break;
      case Mode::kRecurse:
        dir = parent / safe_name(info.name);
        if (!make_directory(dir)) return false;
        if (options_.thunderbird && !write_small_file(dir / ".type", std::to_string(info.type) + "\n")) return false;
        if (!open_mailbox_files(dir, info.name, &files)) return false;
        break;
      case Mode::kSeparate: {
        auto made = separate_directory(parent, safe_name(info.name));
        if (!made) return false;
        dir = *made;
        break;
      }
    }
    if (!options_.quiet) {
      std::printf("Processing Folder \"%s\"\n", info.name.c_str());
      std::fflush(stdout);
    }

    int32_t item_count = 0, skip_count = 0;
    bool ok = true;
    const std::vector<Child> children = children_of(folder);
    for (size_t i = 0; ok && i < children.size();) {
      const Child& child = children[i];
      if (child.folder) {
        ++i;
        auto sub = store_.open_folder(child.nid);
        if (!sub) {
          ++skip_count;
          continue;
        }
        const std::string name = sub->name();
        ++item_count;  // readpst numbers subfolders too
        if (!has_children(*sub)) continue;
        if (!options_.include_deleted && strcasecmp(name.c_str(), "Deleted Items") == 0) continue;
        FolderInfo sub_info{name, folder_type(*sub), sub->content_count()};
        if (!process(dir, sub_info, *sub)) ok = false;
        continue;
      }
      // The items up to the next subfolder: converted on the worker
      // threads, written here in order.
      size_t end = i;
      while (end < children.size() && !children[end].folder) ++end;
      ok = workers_.run(
          end - i, [&](size_t k) { return render(children[i + k].nid); },
          [&](size_t, RenderedItem&& item) {
            if (item.skip) {
              ++skip_count;
              return true;
            }
            ++item_count;
            if (!write_item(dir, item, item_count, files)) return false;
            ++written_;
            return true;
          });
      i = end;
    }
    if (!close_mailbox_files(&files)) ok = false;
    if (!options_.quiet) {
      std::printf("\t\"%s\" - %d items done, %d items skipped.\n", info.name.c_str(), item_count, skip_count);
      std::fflush(stdout);
    }
    if (ok && options_.mode == Mode::kRecurse && options_.thunderbird)
      ok = write_small_file(dir / ".size", std::to_string(item_count) + " " + std::to_string(info.stored_count) + "\n");
    return ok;
  }

  // The text of an item of a non-mail kind, as it goes into its file:
  // pstkit's iCalendar and vCard (3.0, as readpst writes), or readpst -cl's
  // "name <address>" line.
  Result<std::string> item_text(const Message& message, Kind kind) const {
    if (kind == Kind::kContact && options_.contact_list) {
      const item_text::Props p(message.properties(), store_.names());
      const std::string name = p.str(prop::kDisplayName).value_or("");
      const std::string address = p.str(property_sets::kPsetidAddress, kLidEmail1Address).value_or("");
      return name + " <" + address + ">\n";
    }
    Result<ItemExport> item = kind == Kind::kContact
                                  ? message_to_vcard(message, store_.names(), VcardOptions{.version3 = true})
                                  : message_to_icalendar(message, store_.names());
    if (!item) return item.status();
    std::string text(item->data.begin(), item->data.end());
    // readpst's files use LF line ends; an item ends with an empty line.
    std::string lf;
    lf.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i)
      if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) lf += text[i];
    return lf + "\n";
  }

  // Everything a worker does for one item: open, classify, convert. A
  // conversion that fails is kept as `error` and stops the export when the
  // item's turn to be written comes, as readpst stops.
  RenderedItem render(Nid nid) const {
    RenderedItem r;
    auto message = store_.open_message(nid);
    if (!message) {
      r.skip = true;
      return r;
    }
    r.nid = nid;
    r.kind = kind_of(*message);
    if (r.kind == Kind::kOther || !(options_.types & selector_of(r.kind))) {
      r.skip = true;
      return r;
    }
    if (r.kind != Kind::kEmail) {
      auto text = item_text(*message, r.kind);
      if (!text) r.error = "item " + std::to_string(nid) + ": " + text.status().message();
      else r.text = std::move(*text);
      return r;
    }
    auto eml = message_to_eml(*message, eml_options_);
    if (!eml) {
      r.error = "item " + std::to_string(nid) + ": " + eml.status().message();
      return r;
    }
    const std::string_view data(reinterpret_cast<const char*>(eml->data.data()), eml->data.size());
    if (options_.mode != Mode::kSeparate) {
      r.text = mbox_from_line(*message);
      append_mboxrd(&r.text, data);
      return r;
    }
    r.text.assign(data);
    if (!options_.mh) separate_attachments(*message, &r.attachments);
    if (options_.msg_too) {
      auto msg = message_to_msg(store_, *message);
      if (!msg) r.msg_error = "item " + std::to_string(nid) + ": .msg: " + msg.status().message();
      else r.msg = std::move(msg->data);
    }
    return r;
  }

  bool write_item(const fs::path& dir, const RenderedItem& item, int32_t number, const std::vector<OpenFile>& files) {
    if (!item.error.empty()) return fail(item.error);
    if (options_.mode != Mode::kSeparate) {
      const OpenFile& f = files[kind_index(item.kind)];
      return write_all(f.stream, item.text) || io_fail(f.path);
    }
    const std::string base = std::to_string(number);
    if (item.kind != Kind::kEmail) {
      const char* ext = item.kind == Kind::kContact ? ".vcf" : ".ics";
      return write_small_file(dir / (base + (options_.extensions ? ext : "")), item.text);
    }
    if (!write_small_file(dir / (base + (options_.extensions ? ".eml" : "")), item.text)) return false;
    if (!options_.mh && !write_separate_attachments(dir, base, item.attachments)) return false;
    if (options_.msg_too) {
      if (!item.msg_error.empty()) return fail(item.msg_error);
      const std::string_view bytes(reinterpret_cast<const char*>(item.msg.data()), item.msg.size());
      if (!write_small_file(dir / (base + ".msg"), bytes)) return false;
    }
    return true;
  }

  // readpst -S: the files saved beside an item (name, empty for none; data):
  // the RTF body first, as rtf-body.rtf, then each attachment with data.
  void separate_attachments(const Message& message, std::vector<std::pair<std::string, Bytes>>* out) const {
    if (options_.save_rtf && attachment_extension_accepted("rtf-body.rtf", options_.attachment_extensions)) {
      if (auto rtf = message.body_rtf(); rtf && *rtf) out->emplace_back("rtf-body.rtf", Bytes((*rtf)->begin(), (*rtf)->end()));
    }
    auto nids = message.attachment_nids();
    if (!nids) return;  // the message file says what it has; nothing to save
    for (Nid nid : *nids) {
      auto attachment = message.open_attachment(nid);
      if (!attachment || attachment->is_embedded_message() || !attachment->has_data()) continue;
      const std::string name = attachment->filename();
      if (!attachment_extension_accepted(name, options_.attachment_extensions)) continue;
      auto data = attachment->read_data();
      if (!data) continue;
      out->emplace_back(name, std::move(*data));
    }
  }

  // Saves them as N-NAME (N-NAME-1... when taken), or N-attachK without a name.
  bool write_separate_attachments(const fs::path& dir, const std::string& base,
                                  const std::vector<std::pair<std::string, Bytes>>& attachments) {
    int counter = 0;
    for (const auto& [original, data] : attachments) {
      ++counter;
      fs::path path;
      if (original.empty()) {
        path = dir / (base + "-attach" + std::to_string(counter));
      } else {
        const std::string name = safe_name(original);
        path = dir / (base + "-" + name);
        for (int n = 1; path_exists(path); ++n) path = dir / (base + "-" + name + "-" + std::to_string(n));
      }
      if (!write_small_file(path, std::string_view(reinterpret_cast<const char*>(data.data()), data.size())))
        return false;
    }
    return true;
  }
};

// Parses readpst's command line (getopt, as readpst does). Returns an exit
// code when the command is done (help, version, usage error).
std::optional<int> parse(std::vector<std::string> args, ReadpstOptions* o) {
  std::vector<char*> argv;
  std::string program = kProgram;
  argv.push_back(program.data());
  for (std::string& a : args) {
    if (a == "--help") a = "-h";
    if (a == "--version") a = "-V";
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  optind = 0;  // glibc: 0 re-initialises getopt's state
  opterr = 0;
  int c;
  while ((c = ::getopt(int(argv.size() - 1), argv.data(), "+a:bC:c:Dd:emhj:kMo:qrSt:uVwL:8")) != -1) {
    switch (c) {
      case 'a': {
        std::string list = optarg;
        size_t start = 0;
        while (start <= list.size()) {
          size_t comma = list.find(',', start);
          std::string ext = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (!ext.empty()) o->attachment_extensions.push_back(ext);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        break;
      }
      case 'b': o->save_rtf = false; break;
      case 'C': {
        auto cp = codepage_from_charset(optarg);
        if (!cp || !is_known_codepage(*cp)) {
          std::cerr << kProgram << ": unknown character set " << optarg << "\n";
          return kExitUsage;
        }
        o->read.default_codepage = *cp;
        break;
      }
      case 'c':
        if (optarg[0] == 'v') {
          o->contact_list = false;
        } else if (optarg[0] == 'l') {
          o->contact_list = true;
        } else {
          usage(std::cerr);
          return kExitUsage;
        }
        break;
      case 'D': o->include_deleted = true; break;
      case 'd': break;  // readpst's debug log: nothing to write
      case 'L': break;  // readpst's debug level
      case 'e': o->mode = Mode::kSeparate, o->mh = true, o->extensions = true, o->msg_too = false; break;
      case 'm': o->mode = Mode::kSeparate, o->mh = true, o->extensions = true, o->msg_too = true; break;
      case 'M': o->mode = Mode::kSeparate, o->mh = true, o->extensions = false, o->msg_too = false; break;
      case 'S': o->mode = Mode::kSeparate, o->mh = false, o->extensions = false, o->msg_too = false; break;
      case 'h': usage(std::cout); return kExitOk;
      case 'j': {
        char* end = nullptr;
        errno = 0;
        long jobs = std::strtol(optarg, &end, 10);
        if (errno || end == optarg || *end || jobs < 0 || jobs > 1024) {
          std::cerr << kProgram << ": -j needs a number of jobs (0 to 1024), not " << optarg << "\n";
          return kExitUsage;
        }
        o->jobs = jobs == 0 ? 1 : unsigned(jobs);
        break;
      }
      case 'k': o->mode = Mode::kKMail; break;
      case 'o': o->output_dir = optarg; break;
      case 'q': o->quiet = true; break;
      case 'r': o->mode = Mode::kRecurse, o->thunderbird = false; break;
      case 'u': o->mode = Mode::kRecurse, o->thunderbird = true; break;
      case 't': {
        o->types = 0;
        for (const char* t = optarg; *t; ++t) {
          switch (*t) {
            case 'e': o->types |= kSelectEmail; break;
            case 'a': o->types |= kSelectAppointment; break;
            case 'j': o->types |= kSelectJournal; break;
            case 'c': o->types |= kSelectContact; break;
            default:
              std::cerr << kProgram << ": -t takes the letters e, a, j and c, not '" << *t << "'\n";
              return kExitUsage;
          }
        }
        break;
      }
      case 'V':
        std::cout << "pstkit-readpst " PSTKIT_VERSION " (readpst 0.6.76's command line over pstkit)\n";
        return kExitOk;
      case 'w': o->overwrite = true; break;
      case '8': break;  // pstkit's output is UTF-8 already
      default: {
        const char opt = char(optopt);
        if (opt && std::strchr("aCcdjotL", opt))
          std::cerr << kProgram << ": option -" << opt << " needs an argument\n";
        else
          std::cerr << kProgram << ": unknown option " << (opt ? std::string("-") + opt : argv[optind - 1]) << "\n";
        usage(std::cerr);
        return kExitUsage;
      }
    }
  }
  const int rest = int(argv.size() - 1) - optind;
  if (rest != 1) {
    std::cerr << kProgram << ": " << (rest == 0 ? "no PST file given" : "one PST file at a time") << "\n";
    usage(std::cerr);
    return kExitUsage;
  }
  o->file = argv[optind];
  return std::nullopt;
}

}  // namespace

int cmd_readpst(const std::vector<std::string>& args) {
  ReadpstOptions options;
  if (auto done = parse(args, &options)) return *done;

  struct stat st;
  if (::stat(options.output_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::cerr << kProgram << ": cannot change to output dir " << options.output_dir << ": "
              << (errno ? std::strerror(errno) : "not a directory") << "\n";
    return kExitBadInput;
  }
  if (!options.quiet) std::printf("Opening PST file and indexes...\n"), std::fflush(stdout);
  auto store = open_store_or_report(options.file, options.read);
  if (!store) {
    // What readpst cannot open at all, pstkit still reads through its
    // recovery (pstkit/ndb_salvage.h).
    ReadOptions recover = options.read;
    recover.recover = true;
    std::cerr << kProgram << ": " << options.file << ": reading it with pstkit's recovery\n";
    store = open_store_or_report(options.file, recover);
    if (!store) return kExitBadInput;
  }
  // The top of the folders: the IPM subtree the store names; an OST's
  // store names none, and its IPM subtree is folder 0x2142 (where readpst
  // looks too).
  std::optional<Nid> ipm = store->ipm_subtree_nid();
  if (!ipm && store->open_folder(kOstIpmSubtree)) ipm = kOstIpmSubtree;
  if (!ipm) {
    std::cerr << kProgram << ": " << options.file << ": top of folders record not found\n";
    return kExitBadInput;
  }
  // readpst names the top directory after the store (PR_DISPLAY_NAME of
  // the message store), else after the file.
  std::string root_name = store->display_name();
  if (root_name.empty()) root_name = fs::path(options.file).filename().string();

  OrderedWorkers<RenderedItem> workers(options.jobs);
  Readpst readpst(options, *store, workers);
  if (!readpst.run(options.output_dir, root_name, *ipm)) {
    std::cerr << kProgram << ": " << readpst.error() << "\n";
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace pstkit::cli
