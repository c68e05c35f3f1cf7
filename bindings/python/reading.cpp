// Reading: pstkit.open() and the Store, Folder, Item, Recipient and
// Attachment classes (docs/PYTHON.md).
//
// Every object holds a shared reference to its Store, so a folder or item
// stays usable after the Store object itself is dropped in Python.
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "binding.h"
#include "pstkit/eml_export.h"
#include "pstkit/msg_export.h"
#include "pstkit/codepage.h"
#include "pstkit/ndb_salvage.h"

namespace pstkit::python {
namespace {

using StoreRef = std::shared_ptr<const Store>;

// Deeper than this, a folder tree or a chain of embedded messages is taken
// for a cycle in a damaged file (dump stops at the same depths).
constexpr size_t kMaxFolderDepth = 256;
constexpr int kMaxEmbeddingDepth = 32;

// The reading commands' block cache (src/cli/format.cpp): each object is
// visited once, so a large cache spares almost no reads.
constexpr size_t kBlockCacheBytes = size_t{256} << 10;

py::bytes to_bytes(const Bytes& data) { return py::bytes(reinterpret_cast<const char*>(data.data()), data.size()); }

py::object optional_str(const std::optional<std::string>& s) { return s ? py::object(py::str(*s)) : py::none(); }

class PyItem;

class PyFolder {
 public:
  PyFolder(StoreRef store, Folder folder, std::vector<std::string> path, std::vector<Nid> ancestors)
      : store_(std::move(store)), folder_(std::move(folder)), path_(std::move(path)), ancestors_(std::move(ancestors)) {}

  Nid nid() const { return folder_.nid(); }
  std::string name() const { return folder_.name(); }
  std::string container_class() const { return folder_.container_class(); }
  int32_t content_count() const { return folder_.content_count(); }
  int32_t unread_count() const { return folder_.unread_count(); }
  const std::vector<std::string>& path() const { return path_; }
  py::dict properties() const { return properties_dict(*store_, folder_.properties()); }
  py::object property(py::handle key) const { return lookup_property(*store_, folder_.properties(), key); }

  std::vector<PyFolder> folders() const {
    std::vector<PyFolder> out;
    for (Nid nid : subfolder_nids()) out.push_back(subfolder(nid));
    return out;
  }
  std::vector<Nid> subfolder_nids() const {
    std::vector<Nid> out;
    for (const auto& row : take(folder_.subfolders())) out.push_back(row.nid);
    return out;
  }
  // One child, by the NID its hierarchy table row names.
  PyFolder subfolder(Nid nid) const {
    std::vector<Nid> ancestors = ancestors_;
    ancestors.push_back(folder_.nid());
    if (std::find(ancestors.begin(), ancestors.end(), nid) != ancestors.end() || ancestors.size() > kMaxFolderDepth) {
      raise(Status::corrupt("hierarchy table", Status::kNoOffset,
                            "folder " + hex(nid) + " is its own ancestor (a cycle)"));
    }
    Folder child = take(store_->open_folder(nid));
    std::vector<std::string> path = path_;
    path.push_back(child.name());  // the folder's own PC names it; the row is only a copy
    return PyFolder(store_, std::move(child), std::move(path), std::move(ancestors));
  }

  std::vector<Nid> item_nids() const { return take(folder_.content_nids()); }
  std::vector<Nid> associated_nids() const {
    std::vector<Nid> out;
    for (const auto& row : take(folder_.associated_contents())) out.push_back(row.nid);
    return out;
  }

  const StoreRef& store() const { return store_; }

 private:
  StoreRef store_;
  Folder folder_;
  std::vector<std::string> path_;  // names below the root folder, as dump prints them
  std::vector<Nid> ancestors_;
};

class PyAttachment;

class PyItem {
 public:
  PyItem(StoreRef store, Message message, int depth) : store_(std::move(store)), message_(std::move(message)), depth_(depth) {}

  Nid nid() const { return message_.nid(); }
  std::string subject() const { return message_.subject(); }
  std::string message_class() const { return message_.message_class(); }
  uint32_t codepage() const { return message_.codepage(); }
  py::object body() const { return optional_str(message_.body_text()); }
  py::object html() const {
    auto html = message_.body_html();
    return html ? py::object(to_bytes(*html)) : py::none();
  }
  // The item as an RFC 5322 message (pstkit/eml_export.h), the bytes
  // `pstkit export --format eml` writes for it.
  py::bytes to_eml() const {
    auto eml = message_to_eml(message_);
    if (!eml) raise(eml.status());
    return to_bytes(eml->data);
  }
  py::bytes to_msg() const {
    auto msg = message_to_msg(*store_, message_);
    if (!msg) raise(msg.status());
    return to_bytes(msg->data);
  }
  py::object rtf() const {
    auto rtf = take(message_.body_rtf());
    return rtf ? py::object(to_bytes(*rtf)) : py::none();
  }
  py::dict properties() const { return properties_dict(*store_, message_.properties()); }
  py::object property(py::handle key) const { return lookup_property(*store_, message_.properties(), key); }
  size_t attachment_count() const { return take(message_.attachment_nids()).size(); }
  std::vector<PyAttachment> attachments() const;
  py::list recipients() const;
  int depth() const { return depth_; }

 private:
  StoreRef store_;
  Message message_;
  int depth_;  // 0 for a folder's item, n for an item embedded n levels deep
};

// [MS-OXOMSG] 2.2.3.1 PidTagRecipientType values.
py::object recipient_type_name(std::optional<int32_t> type) {
  if (!type) return py::none();
  switch (*type & 0xF) {  // the high bits are flags (resend, ...)
    case 0:
      return py::str("Originator");
    case 1:
      return py::str("To");
    case 2:
      return py::str("Cc");
    case 3:
      return py::str("Bcc");
    default:
      return py::int_(*type);
  }
}

class PyRecipient {
 public:
  PyRecipient(StoreRef store, PropertyBag props) : store_(std::move(store)), props_(std::move(props)) {}
  py::object name() const { return optional_str(props_.get_string(prop::kDisplayName)); }
  // The SMTP address when the row has one, else PidTagEmailAddress (which is
  // an X.500 DN for Exchange recipients).
  py::object email() const {
    if (auto smtp = props_.get_string(prop::kSmtpAddress); smtp && !smtp->empty()) return py::str(*smtp);
    return optional_str(props_.get_string(prop::kEmailAddress));
  }
  py::object address_type() const { return optional_str(props_.get_string(prop::kAddressType)); }
  py::object type() const { return recipient_type_name(props_.get_i32(prop::kRecipientType)); }
  py::dict properties() const { return properties_dict(*store_, props_); }
  py::object property(py::handle key) const { return lookup_property(*store_, props_, key); }

 private:
  StoreRef store_;
  PropertyBag props_;
};

class PyAttachment {
 public:
  PyAttachment(StoreRef store, Attachment attachment, int depth)
      : store_(std::move(store)), attachment_(std::move(attachment)), depth_(depth) {}

  Nid nid() const { return attachment_.nid(); }
  std::string name() const { return attachment_.filename(); }
  int32_t method() const { return attachment_.method(); }
  // The data's size; for an embedded message or OLE object, what
  // PidTagAttachSize says (the whole attachment object).
  uint64_t size() const {
    if (attachment_.has_data()) return attachment_.data_size();
    return uint64_t(std::max(0, attachment_.properties().get_i32(prop::kAttachSize).value_or(0)));
  }
  py::object mime_type() const { return optional_str(attachment_.properties().get_string(prop::kAttachMimeTag)); }
  py::object content_id() const { return optional_str(attachment_.properties().get_string(prop::kAttachContentId)); }
  bool is_embedded() const { return attachment_.is_embedded_message(); }
  py::object data() const {
    if (!attachment_.has_data()) return py::none();
    return to_bytes(take(attachment_.read_data()));
  }
  py::object embedded() const {
    if (!attachment_.is_embedded_message()) return py::none();
    if (depth_ + 1 > kMaxEmbeddingDepth) {
      raise(Status::corrupt("attachment", Status::kNoOffset,
                            "embedded messages nested deeper than " + std::to_string(kMaxEmbeddingDepth)));
    }
    return py::cast(PyItem(store_, take(attachment_.embedded_message()), depth_ + 1));
  }
  py::dict properties() const { return properties_dict(*store_, attachment_.properties()); }
  py::object property(py::handle key) const { return lookup_property(*store_, attachment_.properties(), key); }

 private:
  StoreRef store_;
  Attachment attachment_;
  int depth_;  // of the message holding it
};

std::vector<PyAttachment> PyItem::attachments() const {
  std::vector<PyAttachment> out;
  for (Nid nid : take(message_.attachment_nids())) {
    out.emplace_back(store_, take(message_.open_attachment(nid)), depth_);
  }
  return out;
}

py::list PyItem::recipients() const {
  py::list out;
  for (auto& row : take(message_.recipients())) out.append(PyRecipient(store_, std::move(row)));
  return out;
}

// Opens one message per step: memory does not grow with the folder (the
// contents table's NIDs are 4 bytes a row).
class ItemIterator {
 public:
  ItemIterator(StoreRef store, std::vector<Nid> nids) : store_(std::move(store)), nids_(std::move(nids)) {}
  PyItem next() {
    if (next_ >= nids_.size()) throw py::stop_iteration();
    const Nid nid = nids_[next_++];
    return PyItem(store_, take(store_->open_message(nid)), 0);
  }
  size_t length_hint() const { return nids_.size() - next_; }

 private:
  StoreRef store_;
  std::vector<Nid> nids_;
  size_t next_ = 0;
};

class PyStore {
 public:
  PyStore(std::shared_ptr<Store> store, py::object recovery) : store_(std::move(store)), recovery_(std::move(recovery)) {}

  std::string display_name() const { return store_->display_name(); }
  py::dict properties() const { return properties_dict(*store_, store_->properties()); }
  py::object property(py::handle key) const { return lookup_property(*store_, store_->properties(), key); }
  std::string format() const { return ndb::format_name(store_->header().format); }
  uint32_t codepage() const { return store_->codepage(); }
  py::object damage() const {
    return store_->store_damage().is_ok() ? py::none() : py::object(py::str(store_->store_damage().message()));
  }
  py::object recovery() const { return recovery_; }

  PyFolder root() const { return PyFolder(store_, take(store_->root_folder()), {}, {}); }
  PyFolder ipm_subtree() const {
    auto nid = store_->ipm_subtree_nid();
    if (!nid) raise(Status::not_found("the message store names no IPM subtree"));
    return folder_by_nid(*nid);
  }
  // Any folder by NID, its path found through the NBT's parent links.
  PyFolder folder_by_nid(Nid nid) const {
    Folder folder = take(store_->open_folder(nid));
    std::vector<std::string> path;
    std::vector<Nid> ancestors;
    Nid cur = nid;
    while (cur != ndb::kNidRootFolder) {
      if (ancestors.size() > kMaxFolderDepth) {
        raise(Status::corrupt("NBT", Status::kNoOffset, "folder " + hex(nid) + " has no root folder above it"));
      }
      auto entry = take(store_->db().find_node(cur));
      if (cur != nid) ancestors.push_back(cur);
      path.push_back(cur == nid ? folder.name() : take(store_->open_folder(cur)).name());
      cur = entry.parent_nid;
    }
    if (nid != ndb::kNidRootFolder) ancestors.push_back(ndb::kNidRootFolder);
    std::reverse(path.begin(), path.end());
    std::reverse(ancestors.begin(), ancestors.end());
    return PyFolder(store_, std::move(folder), std::move(path), std::move(ancestors));
  }
  // A folder by path of names below the root folder.
  PyFolder folder_by_path(const std::vector<std::string>& path) const {
    PyFolder cur = root();
    for (const auto& name : path) {
      std::optional<PyFolder> next;
      for (auto& f : cur.folders()) {
        if (f.name() == name) {
          next.emplace(std::move(f));
          break;
        }
      }
      if (!next) raise(Status::not_found("no folder " + name + " in " + (cur.path().empty() ? "the root folder" : cur.name())));
      cur = std::move(*next);
    }
    return cur;
  }
  PyItem message(Nid nid) const { return PyItem(store_, take(store_->open_message(nid)), 0); }

 private:
  std::shared_ptr<Store> store_;
  py::object recovery_;
};

PyStore open_store(const std::string& path, bool recover, bool include_deleted, uint32_t codepage) {
  StoreOptions options;
  options.ndb.cache_bytes = kBlockCacheBytes;
  options.codepage_override = codepage;
  if (!recover) return PyStore(take(Store::open(path, options)), py::none());
  // As dump --recover: what the B-trees still give plus a scan of the file
  // (pstkit/ndb_salvage.h); a message store node that does not read leaves
  // the folders readable.
  ndb::SalvageOptions salvage;
  salvage.include_deleted = include_deleted;
  ndb::SalvageReport report;
  auto db = take(ndb::open_salvaged(path, {}, salvage, &report));
  options.tolerate_unreadable_store = true;
  py::dict recovery;
  recovery["skipped"] = report.tree_errors;
  recovery["nodes_from_tree"] = report.nodes_from_tree;
  recovery["nodes_from_scan"] = report.nodes_from_scan;
  recovery["nbt_pages_found"] = report.nbt_pages_found;
  recovery["blocks_from_tree"] = report.blocks_from_tree;
  recovery["blocks_relocated"] = report.blocks_relocated;
  recovery["blocks_from_scan"] = report.blocks_from_scan;
  recovery["damaged_blocks"] = report.damaged_blocks;
  recovery["blocks_corrected"] = report.blocks_corrected;
  recovery["pages_corrected"] = report.pages_corrected;
  return PyStore(take(Store::open(std::move(db), options)), recovery);
}

}  // namespace

void bind_reading(py::module_& m) {
  py::class_<PyRecipient>(m, "Recipient", "A row of a message's recipient table.")
      .def_property_readonly("name", &PyRecipient::name, "PidTagDisplayName, or None")
      .def_property_readonly("email", &PyRecipient::email, "PidTagSmtpAddress, else PidTagEmailAddress, or None")
      .def_property_readonly("address_type", &PyRecipient::address_type, "PidTagAddressType (\"SMTP\", \"EX\"), or None")
      .def_property_readonly("type", &PyRecipient::type, "\"To\", \"Cc\", \"Bcc\" (PidTagRecipientType), or None")
      .def("properties", &PyRecipient::properties, "Every property of the row, by canonical name")
      .def("property", &PyRecipient::property, py::arg("name_or_tag"), "One property, or None")
      .def("__repr__", [](const PyRecipient& r) {
        return "<pstkit.Recipient " + std::string(py::repr(r.type())) + " " + std::string(py::repr(r.name())) + " " +
               std::string(py::repr(r.email())) + ">";
      });

  py::class_<PyAttachment>(m, "Attachment", "An attachment of a message.")
      .def_property_readonly("nid", &PyAttachment::nid)
      .def_property_readonly("name", &PyAttachment::name, "PidTagAttachLongFilename, else PidTagAttachFilename")
      .def_property_readonly("size", &PyAttachment::size)
      .def_property_readonly("method", &PyAttachment::method, "PidTagAttachMethod (1 by value, 5 embedded message...)")
      .def_property_readonly("mime_type", &PyAttachment::mime_type, "PidTagAttachMimeTag, or None")
      .def_property_readonly("content_id", &PyAttachment::content_id, "PidTagAttachContentId, or None")
      .def_property_readonly("is_embedded", &PyAttachment::is_embedded)
      .def("data", &PyAttachment::data, "The attachment's bytes (PidTagAttachDataBinary), or None")
      .def("embedded", &PyAttachment::embedded, "The embedded message as an Item, or None")
      .def("properties", &PyAttachment::properties)
      .def("property", &PyAttachment::property, py::arg("name_or_tag"))
      .def("__repr__", [](const PyAttachment& a) {
        return "<pstkit.Attachment " + hex(a.nid()) + " " + std::string(py::repr(py::str(a.name()))) + ">";
      });

  py::class_<PyItem>(m, "Item", "A message, or any other item (contact, appointment...), or an embedded message.")
      .def_property_readonly("nid", &PyItem::nid)
      .def_property_readonly("subject", &PyItem::subject)
      .def_property_readonly("message_class", &PyItem::message_class)
      .def_property_readonly("codepage", &PyItem::codepage, "The code page of the item's 8-bit strings")
      .def_property_readonly("body", &PyItem::body, "The plain-text body as str, or None")
      .def_property_readonly("html", &PyItem::html, "The HTML body as stored (bytes), or None")
      .def_property_readonly("rtf", &PyItem::rtf, "The RTF body, decompressed (bytes), or None")
      .def_property_readonly("attachment_count", &PyItem::attachment_count)
      .def("to_eml", &PyItem::to_eml,
           "The item as an RFC 5322 message (bytes), converted as `pstkit export --format eml` converts it")
      .def("to_msg", &PyItem::to_msg,
           "The item as an Outlook .msg file (bytes), converted as `pstkit export --format msg` converts it")
      .def("properties", &PyItem::properties)
      .def("property", &PyItem::property, py::arg("name_or_tag"))
      .def("recipients", &PyItem::recipients)
      .def("attachments", &PyItem::attachments)
      .def("__repr__", [](const PyItem& i) {
        return "<pstkit.Item " + std::to_string(i.nid()) + " " + i.message_class() + " " +
               std::string(py::repr(py::str(i.subject()))) + ">";
      });

  py::class_<ItemIterator>(m, "ItemIterator")
      .def("__iter__", [](ItemIterator& it) -> ItemIterator& { return it; }, py::return_value_policy::reference_internal)
      .def("__next__", &ItemIterator::next)
      .def("__length_hint__", &ItemIterator::length_hint);

  py::class_<PyFolder>(m, "Folder", "A folder of the store.")
      .def_property_readonly("nid", &PyFolder::nid)
      .def_property_readonly("name", &PyFolder::name)
      .def_property_readonly("path", &PyFolder::path, "Names of the folders from below the root folder down to this one")
      .def_property_readonly("container_class", &PyFolder::container_class)
      .def_property_readonly("content_count", &PyFolder::content_count, "PidTagContentCount")
      .def_property_readonly("unread_count", &PyFolder::unread_count, "PidTagContentUnreadCount")
      .def("folders", &PyFolder::folders, "The subfolders, in hierarchy table order")
      .def("subfolder_nids", &PyFolder::subfolder_nids, "NIDs of the hierarchy table's rows, in table order")
      .def("subfolder", &PyFolder::subfolder, py::arg("nid"),
           "One subfolder by NID: with subfolder_nids(), a walk that goes on past a folder that does not read")
      .def("item_nids", &PyFolder::item_nids, "NIDs of the contents table's rows, in table order")
      .def("items", [](const PyFolder& f) { return ItemIterator(f.store(), f.item_nids()); },
           "An iterator over the items, opening one at a time")
      .def("associated_items",
           [](const PyFolder& f) { return ItemIterator(f.store(), f.associated_nids()); },
           "An iterator over the associated (hidden) items")
      .def("properties", &PyFolder::properties)
      .def("property", &PyFolder::property, py::arg("name_or_tag"))
      .def("__repr__", [](const PyFolder& f) {
        return "<pstkit.Folder " + std::to_string(f.nid()) + " " + std::string(py::repr(py::str(f.name()))) + ">";
      });

  py::class_<PyStore>(m, "Store", "An open .pst or .ost file.")
      .def_property_readonly("display_name", &PyStore::display_name)
      .def_property_readonly("format", &PyStore::format, "\"ANSI\", \"Unicode\" or \"Unicode (4K pages)\"")
      .def_property_readonly("codepage", &PyStore::codepage, "The store's code page for 8-bit strings")
      .def_property_readonly("damage", &PyStore::damage,
                             "Why the message store's own properties could not be read (recover mode), or None")
      .def_property_readonly("recovery", &PyStore::recovery,
                             "What recover mode's salvage found and skipped (a dict), None otherwise")
      .def("properties", &PyStore::properties, "The message store's properties")
      .def("property", &PyStore::property, py::arg("name_or_tag"))
      .def("root", &PyStore::root, "The root folder (its path is [])")
      .def("ipm_subtree", &PyStore::ipm_subtree, "The top of the personal folders (\"Top of Outlook data file\")")
      .def("folder", [](const PyStore& s, py::handle where) {
        if (py::isinstance<py::int_>(where)) return s.folder_by_nid(where.cast<Nid>());
        return s.folder_by_path(path_argument(where));
      }, py::arg("nid_or_path"), "A folder by NID, or by path below the root folder (a list or \"A/B\")")
      .def("message", &PyStore::message, py::arg("nid"), "An item by NID");

  m.def("open", &open_store, py::arg("path"), py::arg("recover") = false, py::arg("include_deleted") = false,
        py::arg("codepage") = 0,
        "Opens a .pst or .ost file for reading. recover=True reads a file whose B-trees are damaged as "
        "`pstkit dump --recover` does; include_deleted=True (with recover) also brings back nodes only stale "
        "B-tree pages name; codepage sets the store's code page for 8-bit strings (0: recorded or inferred).");
}

}  // namespace pstkit::python
