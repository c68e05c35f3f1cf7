// Writing: pstkit.create(), pstkit.open_writer() and the Writer class over
// StoreWriter, and pstkit.import_files() over the MIME import
// (docs/PYTHON.md).
#include <pybind11/stl.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "binding.h"
#include "pstkit/bytes.h"
#include "pstkit/mime_import.h"
#include "pstkit/store_writer.h"

namespace pstkit::python {
namespace {

using ltp::int32_value;
using ltp::set_property;
using ltp::string_value;
using ltp::time_value;

// Property ids used here beyond those in pstkit/messaging.h ([MS-OXPROPS]).
constexpr uint16_t kConversationTopic = 0x0070;
constexpr uint16_t kDisplayBcc = 0x0E02;
constexpr uint16_t kDisplayCc = 0x0E03;
constexpr uint16_t kDisplayTo = 0x0E04;
constexpr uint16_t kObjectType = 0x0FFE;
constexpr uint16_t kLastModificationTime = 0x3008;
constexpr uint16_t kDisplayType = 0x3900;
constexpr int32_t kMsgFlagRead = 0x0001;      // [MS-OXCMSG] 2.2.1.6 mfRead
constexpr int32_t kObjectTypeMailUser = 6;    // [MS-OXCPRPT] MAPI_MAILUSER
constexpr int32_t kDisplayTypeMailUser = 0;   // [MS-OXOABK] DT_MAILUSER

uint64_t now_filetime() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count()) * 10 +
         116444736000000000ull;
}

struct Address {
  std::string name, email;
};

// "Name <addr>", "addr", (name, addr) or {"name": ..., "email": ...}.
Address address_argument(py::handle value) {
  Address a;
  if (py::isinstance<py::str>(value)) {
    const std::string text = value.cast<std::string>();
    const size_t open = text.rfind('<');
    const size_t close = text.rfind('>');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      a.email = text.substr(open + 1, close - open - 1);
      std::string name = text.substr(0, open);
      while (!name.empty() && (name.back() == ' ' || name.back() == '"')) name.pop_back();
      size_t start = 0;
      while (start < name.size() && (name[start] == ' ' || name[start] == '"')) ++start;
      a.name = name.substr(start);
    } else {
      a.email = text;
    }
  } else if (py::isinstance<py::dict>(value)) {
    auto d = py::reinterpret_borrow<py::dict>(value);
    if (d.contains("name") && !d["name"].is_none()) a.name = d["name"].cast<std::string>();
    if (d.contains("email") && !d["email"].is_none()) a.email = d["email"].cast<std::string>();
  } else {
    auto seq = value.cast<py::sequence>();
    if (seq.size() < 2) throw py::value_error("an address tuple is (name, email[, type])");
    a.name = seq[0].cast<std::string>();
    a.email = seq[1].cast<std::string>();
  }
  if (a.name.empty()) a.name = a.email;
  return a;
}

// [MS-OXOMSG] 2.2.3.1 PidTagRecipientType: 1 To, 2 Cc, 3 Bcc.
int32_t recipient_type_argument(py::handle value) {
  if (value.is_none()) return 1;
  if (py::isinstance<py::int_>(value)) {
    const int t = value.cast<int>();
    if (t < 1 || t > 3) throw py::value_error("a recipient type is 1 (To), 2 (Cc) or 3 (Bcc)");
    return t;
  }
  const std::string s = value.cast<std::string>();
  if (s == "To" || s == "to" || s == "TO") return 1;
  if (s == "Cc" || s == "cc" || s == "CC") return 2;
  if (s == "Bcc" || s == "bcc" || s == "BCC") return 3;
  throw py::value_error("a recipient type is \"To\", \"Cc\" or \"Bcc\", not " + s);
}

void add_properties(py::handle properties, std::vector<PropValue>& tagged, std::vector<NamedValue>& named) {
  if (properties.is_none()) return;
  for (auto [key, value] : properties.cast<py::dict>()) {
    PropertyToWrite p = property_to_write(key, value);
    if (p.named) {
      named.push_back(std::move(p.named_value));
    } else {
      set_property(tagged, std::move(p.tagged));
    }
  }
}

NewAttachment attachment_argument(py::handle value, uint64_t now) {
  std::string name;
  py::object data, mime_type = py::none(), content_id = py::none(), properties = py::none();
  if (py::isinstance<py::dict>(value)) {
    auto d = py::reinterpret_borrow<py::dict>(value);
    name = d["name"].cast<std::string>();
    data = d["data"];
    if (d.contains("mime_type")) mime_type = d["mime_type"];
    if (d.contains("content_id")) content_id = d["content_id"];
    if (d.contains("properties")) properties = d["properties"];
  } else {
    auto seq = value.cast<py::sequence>();
    if (seq.size() < 2 || seq.size() > 3) throw py::value_error("an attachment is (name, data[, mime_type]) or a dict");
    name = seq[0].cast<std::string>();
    data = seq[1];
    if (seq.size() == 3) mime_type = seq[2];
  }
  if (!py::isinstance<py::bytes>(data) && !py::isinstance<py::bytearray>(data)) {
    throw py::type_error("attachment data must be bytes");
  }
  if (mime_type.is_none()) {
    mime_type = py::module_::import("mimetypes").attr("guess_type")(name)[py::int_(0)];
    if (mime_type.is_none()) mime_type = py::str("application/octet-stream");
  }
  NewAttachment a;
  a.properties = {int32_value(prop::kAttachMethod, kAttachByValue),
                  string_value(prop::kAttachLongFilename, name),
                  string_value(prop::kAttachFilename, name),
                  string_value(prop::kDisplayName, name),
                  string_value(prop::kAttachMimeTag, mime_type.cast<std::string>()),
                  time_value(prop::kCreationTime, now),
                  time_value(kLastModificationTime, now)};
  if (const size_t dot = name.rfind('.'); dot != std::string::npos) {
    a.properties.push_back(string_value(prop::kAttachExtension, name.substr(dot)));
  }
  if (!content_id.is_none()) a.properties.push_back(string_value(prop::kAttachContentId, content_id.cast<std::string>()));
  add_properties(properties, a.properties, a.named);
  const std::string bytes = py::isinstance<py::bytearray>(data) ? std::string(py::bytearray(data))
                                                                : std::string(py::bytes(data));
  a.data.assign(bytes.begin(), bytes.end());
  return a;
}

class PyWriter {
 public:
  PyWriter(std::unique_ptr<StoreWriter> writer, std::string path) : writer_(std::move(writer)), path_(std::move(path)) {}

  StoreWriter& writer() {
    if (!writer_) throw Error(path_ + ": the writer is closed");
    return *writer_;
  }

  // The folder at path below the IPM subtree, created where missing.
  Nid create_folder(py::handle path, const std::string& container_class) {
    StoreWriter& w = writer();
    Nid cur = w.ipm_subtree();
    for (const auto& name : path_argument(path)) {
      std::optional<Nid> next;
      for (const auto& row : take(take(w.store().open_folder(cur)).subfolders())) {
        if (row.props.get_string(prop::kDisplayName).value_or("") == name) next = row.nid;
      }
      cur = next ? *next : take(w.create_folder(cur, name, container_class));
    }
    return cur;
  }

  Nid folder_nid(py::handle folder) {
    if (py::isinstance<py::int_>(folder)) return folder.cast<Nid>();
    return take(writer().find_folder(path_argument(folder)));
  }

  Nid add_message(py::handle folder, const std::string& subject, py::handle body, py::handle html, py::handle sender,
                  py::handle recipients, py::handle attachments, py::handle properties,
                  const std::string& message_class, py::handle delivered, bool read, bool associated) {
    const uint64_t now = now_filetime();
    const uint64_t when = delivered.is_none() ? now : filetime_from_python(delivered);
    NewMessage m;
    m.associated = associated;
    m.properties = {string_value(prop::kMessageClass, message_class),
                    string_value(prop::kSubject, subject),
                    string_value(kConversationTopic, subject),
                    time_value(prop::kClientSubmitTime, when),
                    time_value(prop::kMessageDeliveryTime, when),
                    time_value(prop::kCreationTime, now),
                    time_value(kLastModificationTime, now),
                    int32_value(prop::kMessageFlags, read ? kMsgFlagRead : 0)};
    if (!body.is_none()) m.properties.push_back(string_value(prop::kBody, body.cast<std::string>()));
    if (!html.is_none()) {
      if (py::isinstance<py::str>(html)) {
        // Text: stored as UTF-8, which PidTagInternetCodepage says.
        const std::string text = html.cast<std::string>();
        m.properties.push_back(ltp::binary_value(prop::kHtml, Bytes(text.begin(), text.end())));
        m.properties.push_back(int32_value(prop::kInternetCodepage, 65001));
      } else {
        const std::string bytes = std::string(py::bytes(py::reinterpret_borrow<py::object>(html)));
        m.properties.push_back(ltp::binary_value(prop::kHtml, Bytes(bytes.begin(), bytes.end())));
      }
    }
    if (!sender.is_none()) {
      const Address from = address_argument(sender);
      for (PropValue v : {string_value(prop::kSenderName, from.name),
                          string_value(prop::kSenderEmailAddress, from.email), string_value(prop::kSenderAddressType, "SMTP"),
                          string_value(prop::kSentRepresentingName, from.name),
                          string_value(prop::kSentRepresentingEmailAddress, from.email),
                          string_value(prop::kSentRepresentingAddressType, "SMTP")}) {
        m.properties.push_back(std::move(v));
      }
    }
    std::string display[4];  // by recipient type: PidTagDisplayTo/Cc/Bcc
    if (!recipients.is_none()) {
      for (py::handle r : recipients.cast<py::sequence>()) {
        int32_t type = 1;
        if (py::isinstance<py::dict>(r)) {
          auto d = py::reinterpret_borrow<py::dict>(r);
          if (d.contains("type")) type = recipient_type_argument(d["type"]);
        } else if (!py::isinstance<py::str>(r) && py::len(r) == 3) {
          type = recipient_type_argument(r.cast<py::sequence>()[2]);
        }
        const Address to = address_argument(r);
        m.recipients.push_back({int32_value(prop::kRecipientType, type), string_value(prop::kDisplayName, to.name),
                                string_value(prop::kEmailAddress, to.email), string_value(prop::kAddressType, "SMTP"),
                                string_value(prop::kSmtpAddress, to.email),
                                int32_value(kObjectType, kObjectTypeMailUser),
                                int32_value(kDisplayType, kDisplayTypeMailUser)});
        std::string& list = display[type];
        list += (list.empty() ? "" : "; ") + to.name;
      }
    }
    m.properties.push_back(string_value(kDisplayTo, display[1]));
    m.properties.push_back(string_value(kDisplayCc, display[2]));
    m.properties.push_back(string_value(kDisplayBcc, display[3]));
    if (!attachments.is_none()) {
      for (py::handle a : attachments.cast<py::sequence>()) m.attachments.push_back(attachment_argument(a, now));
    }
    // Last: what the caller names replaces what was derived above.
    add_properties(properties, m.properties, m.named);
    const Nid target = folder_nid(folder);
    return take(writer().create_message(target, m));
  }

  void commit() { check(writer().commit()); }
  void rollback() { check(writer().rollback()); }
  // Drops uncommitted changes and releases the file.
  void close() {
    if (!writer_) return;
    if (writer_->has_changes()) (void)writer_->rollback();
    writer_.reset();
  }
  bool has_changes() { return writer().has_changes(); }
  Nid ipm_subtree() { return writer().ipm_subtree(); }

 private:
  std::unique_ptr<StoreWriter> writer_;
  std::string path_;
};

PyWriter create_store(const std::string& path, bool ansi, const std::string& display_name) {
  NewStoreOptions options;
  if (ansi) options.format = ndb::FileFormat::kAnsi;
  if (!display_name.empty()) options.display_name = display_name;
  return PyWriter(take(StoreWriter::create(path, options)), path);
}

PyWriter open_writer(const std::string& path) { return PyWriter(take(StoreWriter::open(path)), path); }

// Collects what pstkit import prints on stderr.
class CollectingProgress : public mime::ImportProgress {
 public:
  void problem(const std::string& where, const Status& status) override {
    problems.emplace_back(where, status.message());
  }
  void warning(const std::string& where, const std::string& text) override { warnings.emplace_back(where, text); }
  std::vector<std::pair<std::string, std::string>> problems, warnings;
};

// As pstkit import: its base name without the extension ("inbox.mbox" ->
// "inbox"), or "Imported".
std::string folder_name_for(std::string source) {
  while (source.size() > 1 && source.back() == '/') source.pop_back();
  const size_t slash = source.rfind('/');
  std::string base = slash == std::string::npos ? source : source.substr(slash + 1);
  const size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  if (base.empty() || base == "." || base == ".." || base == "/") return "Imported";
  return base;
}

py::dict import_files(const std::string& pst_path, const std::vector<std::string>& sources, py::handle folder,
                      bool create, uint32_t batch, bool flat) {
  if (batch == 0) throw py::value_error("batch must be at least 1");
  check(mime::load_mime_parser());
  struct stat st;
  std::unique_ptr<StoreWriter> writer;
  if (::stat(pst_path.c_str(), &st) != 0) {
    if (!create) raise(Status::not_found(pst_path + ": no such file"));
    writer = take(StoreWriter::create(pst_path, NewStoreOptions{}));
  } else {
    writer = take(StoreWriter::open(pst_path));
  }
  PyWriter target(std::move(writer), pst_path);
  mime::ImportOptions options;
  options.batch_size = batch;
  options.directory_folders = !flat;
  CollectingProgress progress;
  // One import per target folder, as pstkit import: `folder` takes every
  // source, otherwise each source gets a folder named after it.
  std::vector<std::pair<py::object, std::vector<std::string>>> jobs;
  if (!folder.is_none()) {
    jobs.emplace_back(py::reinterpret_borrow<py::object>(folder), sources);
  } else {
    for (const auto& s : sources) jobs.emplace_back(py::str(folder_name_for(s)), std::vector<std::string>{s});
  }
  for (const auto& [path, job_sources] : jobs) {
    Nid folder_nid;
    bool created;
    try {
      created = !target.writer().find_folder(path_argument(path)).is_ok();
      folder_nid = target.create_folder(path, "IPF.Note");
    } catch (...) {
      target.close();
      throw;
    }
    const uint64_t before = progress.counters().messages;
    Status s;
    {
      py::gil_scoped_release release;
      s = mime::import_sources(target.writer(), folder_nid, job_sources, options, &progress);
    }
    if (s.is_ok()) continue;
    if (progress.counters().store_failed) {
      target.close();  // the PST failed: it stays at its last commit
      raise(s);
    }
    // As pstkit import: a source that gave nothing leaves no empty folder.
    if (created && progress.counters().messages == before) {
      Status undo = target.writer().delete_folder(folder_nid);
      if (undo.is_ok()) undo = target.writer().commit();
      if (!undo.is_ok()) {
        target.close();
        raise(undo);
      }
    }
  }
  if (target.has_changes()) target.commit();  // folders of sources that gave nothing
  target.close();
  const auto& c = progress.counters();
  py::dict out;
  out["messages"] = c.messages;
  out["message_bytes"] = c.message_bytes;
  out["failed_messages"] = c.failed_messages;
  out["failed_sources"] = c.failed_sources;
  out["skipped_files"] = c.skipped_files;
  out["folders_created"] = c.folders_created;
  out["commits"] = c.commits;
  out["problems"] = progress.problems;
  out["warnings"] = progress.warnings;
  return out;
}

}  // namespace

void bind_writing(py::module_& m) {
  py::class_<PyWriter>(m, "Writer",
                       "Changes to a PST, made durable together by commit(). Folder paths are below the IPM "
                       "subtree (\"Inbox/Projects\"), as for pstkit mkdir.")
      .def("create_folder", &PyWriter::create_folder, py::arg("path"), py::arg("container_class") = "IPF.Note",
           "Creates the folder (and any missing parents) below the IPM subtree; returns its NID (also when it "
           "existed)")
      .def("folder", &PyWriter::folder_nid, py::arg("path"), "The NID of an existing folder below the IPM subtree")
      .def("add_message", &PyWriter::add_message, py::arg("folder"), py::kw_only(), py::arg("subject") = "",
           py::arg("body") = py::none(), py::arg("html") = py::none(), py::arg("sender") = py::none(),
           py::arg("recipients") = py::none(), py::arg("attachments") = py::none(),
           py::arg("properties") = py::none(), py::arg("message_class") = "IPM.Note",
           py::arg("delivered") = py::none(), py::arg("read") = true, py::arg("associated") = false,
           "Adds a message to a folder (a NID, or a path below the IPM subtree); returns its NID")
      .def_property_readonly("ipm_subtree", &PyWriter::ipm_subtree)
      .def_property_readonly("has_changes", &PyWriter::has_changes)
      .def("commit", &PyWriter::commit, "Makes every change so far durable, atomically")
      .def("rollback", &PyWriter::rollback, "Drops every change since the last commit")
      .def("close", &PyWriter::close, "Drops uncommitted changes and releases the file")
      .def("__enter__", [](PyWriter& w) -> PyWriter& { return w; }, py::return_value_policy::reference)
      .def("__exit__", [](PyWriter& w, py::handle type, py::handle, py::handle) {
        // Commits when the block ended normally; an exception drops the changes.
        if (type.is_none() && w.has_changes()) w.commit();
        w.close();
        return false;
      });

  m.def("create", &create_store, py::arg("path"), py::arg("ansi") = false, py::arg("display_name") = "",
        "Creates a new PST (Unicode, or ANSI) holding an empty store, and returns a Writer on it");
  m.def("open_writer", &open_writer, py::arg("path"), "Opens an existing PST for writing");
  m.def("import_files", &import_files, py::arg("pst_path"), py::arg("sources"), py::arg("folder") = py::none(),
        py::arg("create") = true, py::arg("batch") = 500, py::arg("flat") = false,
        "Imports .eml files, directories, mbox files and Maildirs into a PST as `pstkit import` does; returns "
        "the counts and the problems met");
}

}  // namespace pstkit::python
