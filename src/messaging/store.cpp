// MS-PST 2.4: the message store, folders, messages and attachments.
#include <algorithm>
#include <tuple>

#include "pstkit/codepage.h"
#include "pstkit/messaging.h"
#include "pstkit/rtf.h"

namespace pstkit {
namespace {

constexpr Nid kRecipientTableNid = ndb::kNidRecipientTableTemplate;   // 0x692 (MS-PST 2.4.5.2)
constexpr Nid kAttachmentTableNid = ndb::kNidAttachmentTableTemplate;  // 0x671 (MS-PST 2.4.6.1)

}  // namespace

const char* codepage_source_name(CodepageSource source) {
  switch (source) {
    case CodepageSource::kDefault: return "default";
    case CodepageSource::kRecorded: return "recorded";
    case CodepageSource::kItems: return "inferred from items";
    case CodepageSource::kBytes: return "inferred from bytes";
    case CodepageSource::kOption: return "option";
  }
  return "default";
}

// ---------------------------------------------------------------- Store

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const StoreOptions& options) {
  PSTKIT_ASSIGN_OR_RETURN(auto db, ndb::Database::open(path, options.ndb));
  return open(std::move(db), options);
}

Result<std::unique_ptr<Store>> Store::open(std::unique_ptr<ndb::Database> db, const StoreOptions& options) {
  auto store = std::unique_ptr<Store>(new Store());
  store->owned_db_ = std::move(db);
  store->db_ = store->owned_db_.get();
  store->options_ = options;
  PSTKIT_RETURN_IF_ERROR(store->reload());
  return store;
}

Result<std::unique_ptr<Store>> Store::open_view(const ndb::Database& db, const StoreOptions& options) {
  auto store = std::unique_ptr<Store>(new Store());
  store->db_ = &db;
  store->options_ = options;
  PSTKIT_RETURN_IF_ERROR(store->reload());
  return store;
}

Status Store::reload() {
  codepage_ = options_.default_codepage;
  codepage_source_ = CodepageSource::kDefault;
  // MS-PST 2.4.3: the message store PC is node 0x21.
  store_damage_ = Status::ok();
  std::vector<PropValue> values;
  auto node = db_->open_node(ndb::kNidMessageStore);
  auto pc = node ? open_pc(std::shared_ptr<const ndb::Node>(std::move(*node)))
                 : Result<std::shared_ptr<const ltp::PropertyContext>>(node.status());
  if (pc) {
    values = (*pc)->all_readable();
  } else if (options_.tolerate_unreadable_store) {
    // Folders and items do not need the store's properties to be read:
    // the root folder's NID is fixed (MS-PST 2.4.1).
    store_damage_ = pc.status().with_context("message store (node 0x21)");
  } else {
    return pc.status().with_context("message store (node 0x21)");
  }
  // The store's own code page, when it names one, is the default for objects
  // that do not. ANSI stores often name none: then it is inferred from the
  // items (Unicode stores hold few 8-bit strings, so the default serves).
  if (options_.codepage_override != 0) {
    codepage_ = options_.codepage_override;
    codepage_source_ = CodepageSource::kOption;
  } else if (auto cp = own_codepage(values)) {
    codepage_ = *cp;
    codepage_source_ = CodepageSource::kRecorded;
  } else if (options_.infer_codepage && db_->header().format == ndb::FileFormat::kAnsi) {
    std::tie(codepage_, codepage_source_) = infer_codepage();
  }
  props_ = PropertyBag(std::move(values), codepage_);
  auto names = NameMap::load(*db_);
  names_ = names ? std::move(*names) : NameMap();  // a damaged map only loses names
  return Status::ok();
}

ltp::Options Store::ltp_options() const {
  ltp::Options o;
  o.format = db_->header().format;
  return o;
}

Result<std::shared_ptr<const ltp::PropertyContext>> Store::open_pc(std::shared_ptr<const ndb::Node> node) const {
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PropertyContext::open(std::move(node), ltp_options()));
  return std::make_shared<const ltp::PropertyContext>(std::move(pc));
}

Result<ltp::TableContext> Store::open_table(std::shared_ptr<const ndb::Node> node, ltp::RowIndex row_index) const {
  return ltp::TableContext::open(std::move(node), ltp_options(), row_index);
}

std::optional<uint32_t> Store::own_codepage(const std::vector<PropValue>& values) {
  // Only the two code page properties are copied into the probe: the
  // values are a whole message's, bodies included.
  std::vector<PropValue> wanted;
  for (const PropValue& v : values) {
    if (v.id() == prop::kMessageCodepage || v.id() == prop::kInternetCodepage) wanted.push_back(v);
  }
  const PropertyBag probe(std::move(wanted), kCodepageWindows1252);
  // PidTagMessageCodepage names the encoding of the 8-bit strings (pstkit's
  // import writes KOI8-R text under 20866); PidTagInternetCodepage only that
  // of the MIME form, whose script tells the ANSI page the strings are in
  // (MS-OXCMSG 2.2.1.10, 2.2.1.11).
  if (auto cp = probe.get_i32(prop::kMessageCodepage);
      cp && *cp > 0 && *cp != int32_t(kCodepageUtf16Le) && *cp != 1201 && is_known_codepage(uint32_t(*cp))) {
    // A 7-bit encoding (ISO-2022-*, HZ, UTF-7, us-ascii) cannot be what 8-bit
    // strings are in: bytes >= 0x80 would all be lost. Such a page names the
    // script, so the strings are read in its ANSI page (or by what follows).
    if (!is_seven_bit_codepage(uint32_t(*cp))) return uint32_t(*cp);
    if (auto ansi = ansi_codepage_for(uint32_t(*cp))) return *ansi;
  }
  if (auto cp = probe.get_i32(prop::kInternetCodepage); cp && *cp > 0) {
    if (auto ansi = ansi_codepage_for(uint32_t(*cp))) return *ansi;
  }
  return std::nullopt;
}

uint32_t Store::codepage_of(const std::vector<PropValue>& values) const {
  return own_codepage(values).value_or(codepage_);
}

uint32_t Store::message_codepage(Nid nid) const {
  auto node = db_->open_node(nid);
  if (!node) return codepage_;
  auto pc = ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)), ltp_options());
  if (!pc) return codepage_;
  std::vector<PropValue> values;
  for (uint16_t id : {prop::kMessageCodepage, prop::kInternetCodepage}) {
    if (auto v = pc->get(id)) values.push_back(std::move(*v));
  }
  return codepage_of(values);
}

std::string Store::display_name() const { return props_.get_string(prop::kDisplayName).value_or(""); }

std::optional<uint32_t> Store::password_crc() const {
  auto v = props_.get_i32(prop::kPstPassword);
  if (!v || *v == 0) return std::nullopt;
  return uint32_t(*v);
}

std::optional<Nid> Store::nid_from_entry_id(uint16_t id) const {
  // MS-PST 2.4.3.2 EntryID: rgbFlags (4), uid (16), nid (4).
  const Bytes* b = props_.get_binary(id);
  if (!b || b->size() < 24) return std::nullopt;
  return load_le32(b->data() + 20);
}

std::optional<Nid> Store::ipm_subtree_nid() const { return nid_from_entry_id(prop::kIpmSubtreeEntryId); }
std::optional<Nid> Store::deleted_items_nid() const { return nid_from_entry_id(prop::kIpmWastebasketEntryId); }
std::optional<Nid> Store::search_root_nid() const { return nid_from_entry_id(prop::kFinderEntryId); }

Result<Folder> Store::open_folder(Nid nid) const {
  const uint8_t t = ndb::nid_type(nid);
  if (t != ndb::kNidTypeNormalFolder && t != ndb::kNidTypeSearchFolder) {
    return Status::invalid_argument(hex(nid) + " is not a folder NID");
  }
  PSTKIT_ASSIGN_OR_RETURN(auto node, db_->open_node(nid));
  auto pc = open_pc(std::shared_ptr<const ndb::Node>(std::move(node)));
  if (!pc) return pc.status().with_context("folder " + hex(nid));
  Folder f;
  f.store_ = this;
  f.nid_ = nid;
  std::vector<PropValue> values = (*pc)->all_readable();
  f.props_ = PropertyBag(std::move(values), codepage_);
  return f;
}

Result<Message> Store::make_message(Nid nid, std::shared_ptr<const ndb::Node> node) const {
  auto pc = open_pc(node);
  if (!pc) return pc.status().with_context("message " + hex(nid));
  std::vector<PropValue> values = (*pc)->all_readable();
  Message m;
  m.store_ = this;
  m.nid_ = nid;
  m.node_ = std::move(node);
  const uint32_t cp = codepage_of(values);
  m.props_ = PropertyBag(std::move(values), cp);
  return m;
}

Result<Message> Store::open_message(Nid nid) const {
  PSTKIT_ASSIGN_OR_RETURN(auto node, db_->open_node(nid));
  return make_message(nid, std::shared_ptr<const ndb::Node>(std::move(node)));
}

// ---------------------------------------------------------------- Folder

namespace {

bool has_8bit_string(const std::vector<PropValue>& cells) {
  for (const PropValue& v : cells) {
    if (ltp::base_type(v.type()) != ltp::kPtypString8) continue;
    for (uint8_t b : v.data)
      if (b & 0x80) return true;
  }
  return false;
}

}  // namespace

std::string Folder::name() const { return props_.get_string(prop::kDisplayName).value_or(""); }
int32_t Folder::content_count() const { return props_.get_i32(prop::kContentCount).value_or(0); }
int32_t Folder::unread_count() const { return props_.get_i32(prop::kContentUnread).value_or(0); }
bool Folder::has_subfolders() const { return props_.get_bool(prop::kSubfolders).value_or(false); }
std::string Folder::container_class() const { return props_.get_string(prop::kContainerClass).value_or(""); }

Result<std::vector<TableRow>> Folder::read_table(uint8_t type) const {
  // MS-PST 2.4.4.1: a folder's tables share its NID index with another type.
  const Nid table_nid = ndb::make_nid(type, ndb::nid_index(nid_));
  std::vector<TableRow> rows;
  auto node = store_->db().open_node(table_nid);
  if (!node) {
    if (node.status().code() == Code::kNotFound) return rows;
    return node.status().with_context("folder " + hex(nid_) + " table " + hex(table_nid));
  }
  auto tc = store_->open_table(std::shared_ptr<const ndb::Node>(std::move(*node)));
  if (!tc) return tc.status().with_context("folder " + hex(nid_) + " table " + hex(table_nid));
  rows.reserve(tc->row_count());
  for (size_t i = 0; i < tc->row_count(); ++i) {
    PSTKIT_ASSIGN_OR_RETURN(uint32_t row_id, tc->row_id(i));
    PSTKIT_ASSIGN_OR_RETURN(auto cells, tc->row(i));
    TableRow r;
    r.nid = row_id;
    uint32_t cp = store_->codepage_of(cells);
    // A contents row usually lacks the code page columns: its 8-bit strings
    // are the message's, so they are decoded as the message decodes them.
    if (type != ndb::kNidTypeHierarchyTable && !Store::own_codepage(cells) && has_8bit_string(cells)) {
      cp = store_->message_codepage(row_id);
    }
    r.props = PropertyBag(std::move(cells), cp);
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<Nid>> Folder::content_nids() const {
  const Nid table_nid = ndb::make_nid(ndb::kNidTypeContentsTable, ndb::nid_index(nid_));
  std::vector<Nid> nids;
  auto node = store_->db().open_node(table_nid);
  if (!node) {
    if (node.status().code() == Code::kNotFound) return nids;
    return node.status().with_context("folder " + hex(nid_) + " table " + hex(table_nid));
  }
  auto tc = store_->open_table(std::shared_ptr<const ndb::Node>(std::move(*node)));
  if (!tc) return tc.status().with_context("folder " + hex(nid_) + " table " + hex(table_nid));
  nids.reserve(tc->row_count());
  for (size_t i = 0; i < tc->row_count(); ++i) {
    PSTKIT_ASSIGN_OR_RETURN(uint32_t row_id, tc->row_id(i));
    nids.push_back(row_id);
  }
  return nids;
}

Result<ContentRows> Folder::content_rows() const {
  const Nid table_nid = ndb::make_nid(ndb::kNidTypeContentsTable, ndb::nid_index(nid_));
  ContentRows rows;
  auto node = store_->db().open_node(table_nid);
  if (!node) {
    if (node.status().code() == Code::kNotFound) return rows;
    return node.status().with_context("folder " + hex(nid_) + " table " + hex(table_nid));
  }
  auto tc = store_->open_table(std::shared_ptr<const ndb::Node>(std::move(*node)), ltp::RowIndex::kCount);
  if (!tc) return tc.status().with_context("folder " + hex(nid_) + " table " + hex(table_nid));
  for (size_t i = 0; i < tc->row_count(); ++i) PSTKIT_RETURN_IF_ERROR(tc->row_id(i).status());
  rows.table_.emplace(std::move(*tc));
  return rows;
}

Result<Nid> ContentRows::nid(size_t row) const {
  if (!table_) return Status::invalid_argument("no row " + std::to_string(row) + " in an empty contents table");
  return table_->row_id(row);
}

Result<std::vector<TableRow>> Folder::subfolders() const { return read_table(ndb::kNidTypeHierarchyTable); }
Result<std::vector<TableRow>> Folder::contents() const { return read_table(ndb::kNidTypeContentsTable); }
Result<std::vector<TableRow>> Folder::associated_contents() const {
  return read_table(ndb::kNidTypeAssocContentsTable);
}

// ---------------------------------------------------------------- Message

std::string Message::subject() const {
  return normalize_subject(props_.get_string(prop::kSubject).value_or(""));
}

std::string Message::message_class() const { return props_.get_string(prop::kMessageClass).value_or(""); }

namespace {

// Reads every row of a message's subnode table; a missing table is empty.
Result<std::vector<PropertyBag>> read_subnode_table(const Store& store, const ndb::Node& node, Nid table_nid,
                                                    uint32_t codepage, std::vector<Nid>* row_ids) {
  std::vector<PropertyBag> out;
  auto sub = node.subnode(table_nid);
  if (!sub) {
    if (sub.status().code() == Code::kNotFound) return out;
    return sub.status();
  }
  PSTKIT_ASSIGN_OR_RETURN(auto tc, store.open_table(std::shared_ptr<const ndb::Node>(std::move(*sub))));
  for (size_t i = 0; i < tc.row_count(); ++i) {
    if (row_ids) {
      PSTKIT_ASSIGN_OR_RETURN(uint32_t id, tc.row_id(i));
      row_ids->push_back(id);
    }
    PSTKIT_ASSIGN_OR_RETURN(auto cells, tc.row(i));
    out.emplace_back(std::move(cells), codepage);
  }
  return out;
}

}  // namespace

Result<std::vector<PropertyBag>> Message::recipients() const {
  return read_subnode_table(*store_, *node_, kRecipientTableNid, props_.codepage(), nullptr);
}

Result<std::vector<PropertyBag>> Message::attachment_rows() const {
  return read_subnode_table(*store_, *node_, kAttachmentTableNid, props_.codepage(), nullptr);
}

Result<std::vector<Nid>> Message::attachment_nids() const {
  std::vector<Nid> ids;
  PSTKIT_ASSIGN_OR_RETURN(auto rows, read_subnode_table(*store_, *node_, kAttachmentTableNid, props_.codepage(), &ids));
  (void)rows;
  return ids;
}

Result<Attachment> Message::open_attachment(Nid attachment_nid) const {
  PSTKIT_ASSIGN_OR_RETURN(auto sub, node_->subnode(attachment_nid));
  std::shared_ptr<const ndb::Node> node(std::move(sub));
  auto pc = store_->open_pc(node);
  if (!pc) return pc.status().with_context("attachment " + hex(attachment_nid) + " of message " + hex(nid_));
  Attachment a;
  a.store_ = store_;
  a.nid_ = attachment_nid;
  a.node_ = node;
  a.pc_ = *pc;
  // The attachment's data is streamed through open_data(), never loaded
  // into the property bag: it can be gigabytes.
  std::vector<PropValue> values;
  for (const auto& e : (*pc)->entries()) {
    if (e.id == prop::kAttachDataBin) continue;
    if (auto v = (*pc)->get(e.id)) values.push_back(std::move(*v));
  }
  a.props_ = PropertyBag(std::move(values), props_.codepage());
  return a;
}

std::optional<std::string> Message::body_text() const { return props_.get_string(prop::kBody); }

std::optional<Bytes> Message::body_html() const {
  const PropValue* v = props_.find(prop::kHtml);
  if (!v) return std::nullopt;
  if (v->type() == ltp::kPtypString) {
    auto s = v->as_string();
    if (!s) return std::nullopt;
    return Bytes(s->begin(), s->end());
  }
  return v->data;
}

Result<std::optional<Bytes>> Message::body_rtf() const {
  const PropValue* v = props_.find(prop::kRtfCompressed);
  if (!v) return std::optional<Bytes>();
  // Some writers store streams (notably uncompressed "MELA" ones) whose
  // contents stop short of RAWSIZE; with the CRC intact that is a writer
  // quirk, not damage, so what is there is the body.
  rtf::DecompressOptions options;
  options.allow_partial = true;
  PSTKIT_ASSIGN_OR_RETURN(Bytes rtf, rtf::decompress(v->data, options));
  return std::optional<Bytes>(std::move(rtf));
}

// ---------------------------------------------------------------- Attachment

int32_t Attachment::method() const { return props_.get_i32(prop::kAttachMethod).value_or(kAttachNone); }

std::string Attachment::filename() const {
  if (auto s = props_.get_string(prop::kAttachLongFilename); s && !s->empty()) return *s;
  return props_.get_string(prop::kAttachFilename).value_or("");
}

bool Attachment::is_embedded_message() const {
  auto tag = pc_->tag_of(prop::kAttachDataBin);
  return tag && ltp::tag_type(*tag) == ltp::kPtypObject && method() == kAttachEmbeddedMessage;
}

Result<std::unique_ptr<ndb::Node>> Attachment::open_data() const {
  return pc_->open_value_node(prop::kAttachDataBin);
}

bool Attachment::has_data() const {
  auto tag = pc_->tag_of(prop::kAttachDataBin);
  if (!tag) return false;
  // By value: PtypBinary. OLE (MS-OXCMSG 2.2.2.9, method 6): PtypObject
  // naming a subnode that holds the object's storage; streamed the same way.
  return ltp::tag_type(*tag) == ltp::kPtypBinary ||
         (ltp::tag_type(*tag) == ltp::kPtypObject && method() != kAttachEmbeddedMessage);
}

uint64_t Attachment::data_size() const {
  if (!has_data()) return 0;
  auto n = open_data();
  return n ? (*n)->size() : 0;
}

Result<Bytes> Attachment::read_data(uint64_t max_bytes) const {
  PSTKIT_ASSIGN_OR_RETURN(auto node, open_data());
  return node->read_all(max_bytes);
}

Result<Message> Attachment::embedded_message() const {
  if (!is_embedded_message()) return Status::invalid_argument("attachment " + hex(nid_) + " is not a message");
  // MS-PST 2.4.6.3.2: the PtypObject value names a subnode of the attachment
  // that holds the embedded message's PC (with its own subnodes).
  PSTKIT_ASSIGN_OR_RETURN(PropValue v, pc_->get(prop::kAttachDataBin));
  PSTKIT_ASSIGN_OR_RETURN(ltp::ObjectRef ref, ltp::parse_object_ref(v.data));
  PSTKIT_ASSIGN_OR_RETURN(auto sub, node_->subnode(ref.nid));
  return store_->make_message(ref.nid, std::shared_ptr<const ndb::Node>(std::move(sub)));
}

}  // namespace pstkit
