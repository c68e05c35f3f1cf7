// StoreWriter: creation, folders, staging and commit.
#include <algorithm>
#include <chrono>

#include "messaging/node_writer.h"
#include "messaging/store_writer_impl.h"
#include "pstkit/codepage.h"

namespace pstkit {
namespace {

// MS-PST 2.4.4.1: a folder's tables share its NID index.
Nid table_nid(Nid folder, uint8_t type) { return ndb::make_nid(type, ndb::nid_index(folder)); }

Bytes i32_bytes(int32_t v) {
  Bytes b(4);
  store_le32(b.data(), uint32_t(v));
  return b;
}

PropValue make_prop(ltp::PropTag tag, Bytes data) {
  PropValue v;
  v.tag = tag;
  v.data = std::move(data);
  return v;
}

// Fallback column sets (Outlook's templates) for files without templates.
const std::vector<ltp::PropTag> kHierarchyColumns = {0x0E300102, 0x0E330014, 0x0E340102, 0x0E380003, 0x3001001F,
                                                     0x36020003, 0x36030003, 0x360A000B, 0x3613001F, 0x66350003,
                                                     0x66360003, 0x67F20003, 0x67F30003};
const std::vector<ltp::PropTag> kContentsColumns = {
    0x00170003, 0x001A001F, 0x00360003, 0x0037001F, 0x00390040, 0x0042001F, 0x0057000B, 0x0058000B,
    0x0070001F, 0x00710102, 0x0E03001F, 0x0E04001F, 0x0E060040, 0x0E070003, 0x0E080003, 0x0E170003,
    0x0E300102, 0x0E330014, 0x0E340102, 0x0E380003, 0x0E3C0102, 0x0E3D0102, 0x10970003, 0x30080040,
    0x30130102, 0x65C60003, 0x67F20003, 0x67F30003};
const std::vector<ltp::PropTag> kAssociatedColumns = {0x001A001F, 0x0E070003, 0x0E170003, 0x3001001F, 0x67F20003,
                                                      0x67F30003, 0x7003000B, 0x70040102, 0x70050102, 0x7006001F,
                                                      0x70070003};
const std::vector<ltp::PropTag> kAttachmentColumns = {0x0E200003, 0x3704001F, 0x37050003, 0x370B0003, 0x67F20003,
                                                      0x67F30003};
const std::vector<ltp::PropTag> kRecipientColumns = {0x0C150003, 0x0E0F000B, 0x0FF90102, 0x0FFE0003, 0x0FFF0102,
                                                     0x3001001F, 0x3002001F, 0x3003001F, 0x300B0102, 0x39000003,
                                                     0x39FF001F, 0x3A40000B, 0x67F20003, 0x67F30003};

// Adapts a template's column types to the file: ANSI files use PtypString8.
std::vector<ltp::PropTag> native_columns(std::vector<ltp::PropTag> cols, ndb::FileFormat format) {
  if (format == ndb::FileFormat::kAnsi) {
    for (auto& t : cols) {
      if (ltp::tag_type(t) == ltp::kPtypString) t = ltp::make_tag(ltp::tag_id(t), ltp::kPtypString8);
    }
  }
  return cols;
}

}  // namespace

// ---------------------------------------------------------------- set-up

Status StoreWriter::Impl::init() {
  format = db->header().format;
  // The view is reloaded after every change: it is given the store's code
  // page, found once here, rather than sampling the items each time.
  StoreOptions options;
  options.infer_codepage = false;
  if (format == ndb::FileFormat::kAnsi) {
    PSTKIT_ASSIGN_OR_RETURN(auto probe, Store::open_view(*db));
    store_codepage = probe->codepage();
    options.codepage_override = store_codepage;
  }
  PSTKIT_ASSIGN_OR_RETURN(view, Store::open_view(*db, options));
  return load_templates();
}

Bytes StoreWriter::Impl::encode_folder_text(const std::string& utf8, uint16_t* type) const {
  if (format != ndb::FileFormat::kAnsi) return encode_text(format, utf8, type);
  *type = ltp::kPtypString8;
  return encode_codepage(utf8, store_codepage);
}

Status StoreWriter::Impl::load_templates() {
  auto load = [&](Nid nid, const std::vector<ltp::PropTag>& fallback) -> std::vector<ltp::PropTag> {
    auto node = db->open_node(nid);
    if (node) {
      auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)), view->ltp_options());
      if (tc) return ltp::template_columns(*tc);
    }
    return native_columns(fallback, format);
  };
  hierarchy_columns = load(ndb::kNidHierarchyTableTemplate, kHierarchyColumns);
  contents_columns = load(ndb::kNidContentsTableTemplate, kContentsColumns);
  associated_columns = load(ndb::kNidAssocContentsTableTemplate, kAssociatedColumns);
  attachment_columns = load(ndb::kNidAttachmentTableTemplate, kAttachmentColumns);
  recipient_columns = load(ndb::kNidRecipientTableTemplate, kRecipientColumns);
  return Status::ok();
}

StoreWriter::StoreWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreWriter::~StoreWriter() = default;

Result<std::unique_ptr<StoreWriter>> StoreWriter::create(const std::string& path, const NewStoreOptions& options,
                                                         const ndb::WriterOptions& writer) {
  Env* env = writer.env ? writer.env : Env::posix();
  if (env->exists(path)) return Status::invalid_argument(path + " already exists");
  // The new store is built under a temporary name and renamed into place
  // once committed, so a crash during creation leaves no half-made file.
  const std::string temp = path + ".pstkit-new";
  (void)env->remove(temp);
  (void)env->remove(temp + "-journal");
  {
    ndb::CreateOptions co;
    co.format = options.format;
    co.crypt = options.crypt;
    PSTKIT_ASSIGN_OR_RETURN(auto db, ndb::WritableDatabase::create(temp, co, writer));
    Status s = write_empty_store(*db, options);
    if (s.is_ok()) s = db->commit();
    db.reset();
    if (s.is_ok()) s = env->rename(temp, path);
    if (s.is_ok()) s = env->sync_dir_of(path);
    if (!s.is_ok()) {
      (void)env->remove(temp);
      return s;
    }
  }
  return open(path, writer);
}

Result<std::unique_ptr<StoreWriter>> StoreWriter::open(const std::string& path, const ndb::WriterOptions& writer) {
  PSTKIT_ASSIGN_OR_RETURN(auto db, ndb::WritableDatabase::open(path, writer));
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(db);
  PSTKIT_RETURN_IF_ERROR(impl->init());
  return std::unique_ptr<StoreWriter>(new StoreWriter(std::move(impl)));
}

const Store& StoreWriter::store() const {
  Status s = impl_->flush();
  (void)s;  // a failed flush leaves the staged state; commit() reports it
  (void)impl_->view->reload();
  return *impl_->view;
}

const Store& StoreWriter::item_store() const { return *impl_->view; }

ndb::WritableDatabase& StoreWriter::db() { return *impl_->db; }

Nid StoreWriter::ipm_subtree() const { return impl_->view->ipm_subtree_nid().value_or(0x8022); }

bool StoreWriter::has_changes() const {
  return impl_->db->has_changes() || !impl_->folders.empty() || !impl_->search.empty();
}

Status StoreWriter::commit() {
  Status s = impl_->flush();
  if (s.is_ok()) s = impl_->db->commit();
  if (!s.is_ok()) {
    (void)rollback();
    return s;
  }
  PSTKIT_RETURN_IF_ERROR(impl_->view->reload());
  return release_lock_if_idle();
}

Status StoreWriter::let_other_writers_commit() {
  if (has_changes()) return Status::invalid_argument("let_other_writers_commit: uncommitted changes");
  PSTKIT_ASSIGN_OR_RETURN(bool reloaded, impl_->db->yield_to_other_writers());
  if (!reloaded) return Status::ok();
  return impl_->forget_stale_state();
}

Status StoreWriter::Impl::forget_stale_state() {
  names.reset();
  names_dirty = false;
  return view->reload();
}

Status StoreWriter::Impl::begin_change() {
  if (db->holds_writer_lock()) return Status::ok();
  PSTKIT_ASSIGN_OR_RETURN(bool reloaded, db->reacquire_writer_lock());
  return reloaded ? forget_stale_state() : Status::ok();
}

Status StoreWriter::set_release_when_idle(bool on) {
  impl_->release_when_idle = on;
  if (on) return release_lock_if_idle();
  return impl_->begin_change();
}

Status StoreWriter::begin_raw_change() { return impl_->begin_change(); }

Status StoreWriter::release_lock_if_idle() {
  if (!impl_->release_when_idle || has_changes() || !impl_->db->holds_writer_lock()) return Status::ok();
  return impl_->db->release_writer_lock();
}

bool StoreWriter::holds_writer_lock() const { return impl_->db->holds_writer_lock(); }

Result<bool> StoreWriter::catch_up() {
  if (impl_->db->holds_writer_lock()) return false;
  PSTKIT_ASSIGN_OR_RETURN(bool changed, impl_->db->changed_by_other_writer());
  if (!changed) return false;
  // The state is reloaded under the lock, so that no commit is half-way
  // through its in-place writes; the lock is given up again at once.
  PSTKIT_ASSIGN_OR_RETURN(bool reloaded, impl_->db->reacquire_writer_lock());
  Status s = reloaded ? impl_->forget_stale_state() : Status::ok();
  Status released = impl_->db->release_writer_lock();
  PSTKIT_RETURN_IF_ERROR(s);
  PSTKIT_RETURN_IF_ERROR(released);
  return reloaded;
}

Status StoreWriter::rollback() {
  impl_->folders.clear();
  impl_->search.clear();
  impl_->names.reset();
  impl_->names_dirty = false;
  PSTKIT_RETURN_IF_ERROR(impl_->db->rollback());
  PSTKIT_RETURN_IF_ERROR(impl_->view->reload());
  return release_lock_if_idle();
}

// ---------------------------------------------------------------- staging

Result<std::vector<ndb::SubnodeEntry>> StoreWriter::Impl::subnodes_of(Nid nid) {
  auto node = db->open_node(nid);
  if (!node) {
    if (node.status().code() == Code::kNotFound) return std::vector<ndb::SubnodeEntry>{};
    return node.status();
  }
  return (*node)->subnodes();
}

Result<FolderEdit*> StoreWriter::Impl::edit(Nid folder) {
  auto it = folders.find(folder);
  if (it != folders.end()) return &it->second;
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, db->find_node(folder));
  const uint8_t t = ndb::nid_type(folder);
  if (t != ndb::kNidTypeNormalFolder && t != ndb::kNidTypeSearchFolder) {
    return Status::invalid_argument(hex(folder) + " is not a folder");
  }
  FolderEdit fe;
  fe.parent = e.parent_nid;
  return &folders.emplace(folder, std::move(fe)).first->second;
}

Result<ltp::PcBuilder*> StoreWriter::Impl::folder_pc(Nid folder) {
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * fe, edit(folder));
  if (!fe->pc) {
    PSTKIT_ASSIGN_OR_RETURN(auto node, db->open_node(folder));
    PSTKIT_ASSIGN_OR_RETURN(auto pc, view->open_pc(std::shared_ptr<const ndb::Node>(std::move(node))));
    PSTKIT_ASSIGN_OR_RETURN(auto b, ltp::PcBuilder::from_existing(*pc));
    fe->pc.emplace(std::move(b));
  }
  return &*fe->pc;
}

Status StoreWriter::Impl::put_empty_table(Nid folder, uint8_t type) {
  const auto& cols = type == ndb::kNidTypeHierarchyTable ? hierarchy_columns
                     : type == ndb::kNidTypeContentsTable ? contents_columns
                                                            : associated_columns;
  PSTKIT_ASSIGN_OR_RETURN(auto built, ltp::build_empty_table(format, cols));
  return put_built_node(*db, table_nid(folder, type), 0, built);
}

Result<ltp::TableEditor*> StoreWriter::Impl::folder_table(Nid folder, uint8_t type) {
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * fe, edit(folder));
  std::optional<ltp::TableEditor>& slot = type == ndb::kNidTypeHierarchyTable ? fe->hierarchy
                                          : type == ndb::kNidTypeContentsTable ? fe->contents
                                                                                 : fe->associated;
  if (slot) return &*slot;
  const Nid tnid = table_nid(folder, type);
  auto node = db->open_node(tnid);
  if (!node && node.status().code() == Code::kNotFound) {
    // A folder without this table (search folders): start an empty one.
    PSTKIT_RETURN_IF_ERROR(put_empty_table(folder, type));
    node = db->open_node(tnid);
  }
  if (!node) return node.status();
  std::shared_ptr<const ndb::Node> shared(std::move(*node));
  auto editor = ltp::TableEditor::open(shared, format);
  if (!editor && editor.status().code() == Code::kUnsupported) {
    // A layout the editor does not write (other tools' tables): lay the
    // table out once as Outlook does, then edit that in place.
    PSTKIT_ASSIGN_OR_RETURN(auto tc, view->open_table(shared));
    PSTKIT_ASSIGN_OR_RETURN(auto b, ltp::TcBuilder::from_existing(tc));
    PSTKIT_ASSIGN_OR_RETURN(auto built, b.build());
    PSTKIT_ASSIGN_OR_RETURN(auto previous, shared->subnodes());
    PSTKIT_RETURN_IF_ERROR(put_built_node(*db, tnid, 0, built, previous));
    PSTKIT_ASSIGN_OR_RETURN(auto rebuilt, db->open_node(tnid));
    editor = ltp::TableEditor::open(std::shared_ptr<const ndb::Node>(std::move(rebuilt)), format);
  }
  if (!editor) return editor.status().with_context("table " + hex(tnid));
  slot.emplace(std::move(*editor));
  return &*slot;
}

Status StoreWriter::Impl::flush() {
  PSTKIT_RETURN_IF_ERROR(flush_names());
  for (auto& [nid, fe] : folders) {
    if (fe.pc) {
      PSTKIT_ASSIGN_OR_RETURN(auto built, fe.pc->build());
      PSTKIT_ASSIGN_OR_RETURN(auto previous, subnodes_of(nid));
      PSTKIT_RETURN_IF_ERROR(put_built_node(*db, nid, fe.parent, built, previous));
    }
    const std::pair<std::optional<ltp::TableEditor>*, uint8_t> tables[] = {
        {&fe.hierarchy, ndb::kNidTypeHierarchyTable},
        {&fe.contents, ndb::kNidTypeContentsTable},
        {&fe.associated, ndb::kNidTypeAssocContentsTable}};
    for (const auto& [tc, type] : tables) {
      if (!*tc || !(*tc)->changed()) continue;
      PSTKIT_ASSIGN_OR_RETURN(auto changes, (*tc)->build());
      PSTKIT_RETURN_IF_ERROR(put_edited_node(*db, table_nid(nid, type), changes));
    }
  }
  folders.clear();
  return search.flush(*db);
}

std::vector<PropValue> StoreWriter::Impl::row_cells(const std::vector<ltp::TableContext::Column>& columns,
                                                    const std::vector<PropValue>& props) {
  std::vector<PropValue> cells;
  for (const auto& c : columns) {
    const uint16_t id = ltp::tag_id(c.tag), type = ltp::tag_type(c.tag);
    if (id == 0x67F2 || id == 0x67F3) continue;  // row id and version: set by the table
    for (const auto& p : props) {
      if (p.id() != id) continue;
      const bool strings = (type == ltp::kPtypString || type == ltp::kPtypString8) &&
                           (p.type() == ltp::kPtypString || p.type() == ltp::kPtypString8);
      if (p.type() == type) {
        cells.push_back(p);
      } else if (strings && p.type() == ltp::kPtypString8) {
        // Same text, the column's encoding (Unicode columns in Unicode files).
        PropertyBag one({p}, 1252);
        uint16_t t = 0;
        cells.push_back(make_prop(ltp::make_tag(id, type),
                                  encode_text(type == ltp::kPtypString ? ndb::FileFormat::kUnicode
                                                                       : ndb::FileFormat::kAnsi,
                                              one.decode_string(p), &t)));
      } else if (strings) {
        PropertyBag one({p}, 1252);
        uint16_t t = 0;
        cells.push_back(make_prop(ltp::make_tag(id, type), encode_text(ndb::FileFormat::kAnsi, one.decode_string(p), &t)));
      }
      break;
    }
  }
  return cells;
}

// The staged PC's properties, read back through a PC reader.
Result<std::vector<PropValue>> StoreWriter::Impl::staged_folder_props(Nid folder) {
  PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder * pc, folder_pc(folder));
  PSTKIT_ASSIGN_OR_RETURN(auto built, pc->build());
  auto node = ndb::make_memory_node(folder, built.blocks);
  PSTKIT_ASSIGN_OR_RETURN(auto reread, ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(node)),
                                                                  view->ltp_options()));
  return reread.all_readable();
}

// Keeps the folder's row in its parent's hierarchy table in step with its PC.
Status StoreWriter::Impl::sync_hierarchy_row(Nid folder) {
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * fe, edit(folder));
  const Nid parent = fe->parent;
  if (parent == folder || parent == 0) return Status::ok();  // the root has no row
  PSTKIT_ASSIGN_OR_RETURN(auto props, staged_folder_props(folder));
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * table, folder_table(parent, ndb::kNidTypeHierarchyTable));
  return table->put_row(folder, row_cells(table->columns(), props));
}

Status StoreWriter::Impl::adjust_counts(Nid folder, int32_t count_delta, int32_t unread_delta) {
  PSTKIT_ASSIGN_OR_RETURN(auto props, staged_folder_props(folder));
  PropertyBag bag(std::move(props), 1252);
  const int32_t count = std::max(0, bag.get_i32(prop::kContentCount).value_or(0) + count_delta);
  const int32_t unread = std::max(0, bag.get_i32(prop::kContentUnread).value_or(0) + unread_delta);
  PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder * pc, folder_pc(folder));
  PSTKIT_RETURN_IF_ERROR(pc->set(ltp::make_tag(prop::kContentCount, ltp::kPtypInteger32), i32_bytes(count)));
  PSTKIT_RETURN_IF_ERROR(pc->set(ltp::make_tag(prop::kContentUnread, ltp::kPtypInteger32), i32_bytes(unread)));
  return sync_hierarchy_row(folder);
}

// ---------------------------------------------------------------- folders

Result<Nid> StoreWriter::find_folder(const std::vector<std::string>& path) const {
  const Store& s = store();
  Nid cur = ipm_subtree();
  for (const auto& name : path) {
    PSTKIT_ASSIGN_OR_RETURN(Folder f, s.open_folder(cur));
    PSTKIT_ASSIGN_OR_RETURN(auto subs, f.subfolders());
    std::optional<Nid> next;
    for (const auto& row : subs) {
      if (row.props.get_string(prop::kDisplayName).value_or("") == name) {
        next = row.nid;
        break;
      }
    }
    if (!next) return Status::not_found("folder '" + name + "'");
    cur = *next;
  }
  return cur;
}

Result<Nid> StoreWriter::create_folder(Nid parent, const std::string& name, const std::string& container_class) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * pe, m.edit(parent));
  (void)pe;
  const Nid nid = m.db->allocate_nid(ndb::kNidTypeNormalFolder);
  for (uint8_t t : {ndb::kNidTypeHierarchyTable, ndb::kNidTypeContentsTable, ndb::kNidTypeAssocContentsTable}) {
    m.db->reserve_nid(table_nid(nid, t));
  }
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PcBuilder::create(m.format));
  uint16_t st = 0;
  Bytes text = m.encode_folder_text(name, &st);
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kDisplayName, st), text));
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContentCount, ltp::kPtypInteger32), i32_bytes(0)));
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContentUnread, ltp::kPtypInteger32), i32_bytes(0)));
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kSubfolders, ltp::kPtypBoolean), Bytes{0}));
  if (!container_class.empty()) {
    Bytes cls = encode_text(m.format, container_class, &st);
    PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContainerClass, st), cls));
  }
  // PidTagPstHiddenCount / PidTagPstHiddenUnread, as Outlook sets on new folders.
  PSTKIT_RETURN_IF_ERROR(pc.set(0x66350003, i32_bytes(0)));
  PSTKIT_RETURN_IF_ERROR(pc.set(0x66360003, i32_bytes(0)));
  FolderEdit fe;
  fe.parent = parent;
  fe.pc.emplace(std::move(pc));
  m.folders.emplace(nid, std::move(fe));
  // Tables start empty, with the templates' columns (MS-PST 2.4.4.4.1).
  for (uint8_t t : {ndb::kNidTypeHierarchyTable, ndb::kNidTypeContentsTable, ndb::kNidTypeAssocContentsTable}) {
    PSTKIT_RETURN_IF_ERROR(m.put_empty_table(nid, t));
  }
  // The NBT entry exists from now on so that lookups of the new folder work;
  // flush() gives it its data.
  PSTKIT_RETURN_IF_ERROR(m.db->put_node({nid, 0, 0, parent}));
  PSTKIT_RETURN_IF_ERROR(m.sync_hierarchy_row(nid));
  PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder * ppc, m.folder_pc(parent));
  PSTKIT_RETURN_IF_ERROR(ppc->set(ltp::make_tag(prop::kSubfolders, ltp::kPtypBoolean), Bytes{1}));
  PSTKIT_RETURN_IF_ERROR(m.sync_hierarchy_row(parent));
  m.search.folder_added(parent, nid);
  return nid;
}

Status StoreWriter::rename_folder(Nid folder, const std::string& name) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder * pc, m.folder_pc(folder));
  uint16_t st = 0;
  Bytes text = m.encode_folder_text(name, &st);
  pc->remove(prop::kDisplayName);
  PSTKIT_RETURN_IF_ERROR(pc->set(ltp::make_tag(prop::kDisplayName, st), text));
  PSTKIT_RETURN_IF_ERROR(m.sync_hierarchy_row(folder));
  m.search.folder_modified(folder, kSudfNameChanged);
  return Status::ok();
}

Status StoreWriter::set_folder_properties(Nid folder, const std::vector<PropValue>& properties) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  for (const auto& p : properties) {
    const uint16_t id = p.id();
    if (id == prop::kContentCount || id == prop::kContentUnread || id == prop::kSubfolders) {
      return Status::invalid_argument("set_folder_properties: the writer maintains this property");
    }
  }
  PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder * pc, m.folder_pc(folder));
  bool renamed = false;
  for (const auto& p : properties) {
    PropValue v = p;
    const uint16_t type = ltp::base_type(p.type());
    if (!ltp::is_multi_valued(p.type()) && (type == ltp::kPtypString || type == ltp::kPtypString8)) {
      // Folder text is kept in the file's string type (its code page in ANSI files).
      std::string utf8 = type == ltp::kPtypString ? ltp::utf16le_to_utf8(p.data)
                                                  : decode_codepage(ByteView(p.data), m.store_codepage);
      uint16_t st = 0;
      v.data = m.encode_folder_text(utf8, &st);
      v.tag = ltp::make_tag(p.id(), st);
    }
    if (auto old = pc->tag_of(v.id()); old && *old != v.tag) pc->remove(v.id());
    PSTKIT_RETURN_IF_ERROR(pc->set(v));
    renamed = renamed || v.id() == prop::kDisplayName;
  }
  PSTKIT_RETURN_IF_ERROR(m.sync_hierarchy_row(folder));
  m.search.folder_modified(folder, renamed ? kSudfNameChanged : 0);
  return Status::ok();
}

Status StoreWriter::remove_folder_properties(Nid folder, const std::vector<uint16_t>& prop_ids) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  for (uint16_t id : prop_ids) {
    if (id == prop::kContentCount || id == prop::kContentUnread || id == prop::kSubfolders ||
        id == prop::kDisplayName) {
      return Status::invalid_argument("remove_folder_properties: a folder keeps this property");
    }
  }
  PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder * pc, m.folder_pc(folder));
  for (uint16_t id : prop_ids) pc->remove(id);
  PSTKIT_RETURN_IF_ERROR(m.sync_hierarchy_row(folder));
  m.search.folder_modified(folder, 0);
  return Status::ok();
}

namespace {

Status refresh_subfolders_flag(StoreWriter::Impl& m, Nid folder) {
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * h, m.folder_table(folder, ndb::kNidTypeHierarchyTable));
  PSTKIT_ASSIGN_OR_RETURN(ltp::PcBuilder * pc, m.folder_pc(folder));
  PSTKIT_RETURN_IF_ERROR(pc->set(ltp::make_tag(prop::kSubfolders, ltp::kPtypBoolean),
                                 Bytes{uint8_t(h->row_count() > 0 ? 1 : 0)}));
  return m.sync_hierarchy_row(folder);
}

bool is_special_folder(const Store& s, Nid folder) {
  return folder == ndb::kNidRootFolder || folder == s.ipm_subtree_nid() || folder == s.deleted_items_nid() ||
         folder == s.search_root_nid();
}

}  // namespace

Status StoreWriter::move_folder(Nid folder, Nid new_parent) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  if (is_special_folder(*m.view, folder)) return Status::invalid_argument("cannot move a special folder");
  // A folder cannot move below itself.
  for (Nid p = new_parent; p != 0;) {
    if (p == folder) return Status::invalid_argument("cannot move a folder below itself");
    PSTKIT_ASSIGN_OR_RETURN(FolderEdit * e, m.edit(p));
    if (e->parent == p) break;
    p = e->parent;
  }
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * fe, m.edit(folder));
  const Nid old_parent = fe->parent;
  if (old_parent == new_parent) return Status::ok();
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * old_h, m.folder_table(old_parent, ndb::kNidTypeHierarchyTable));
  PSTKIT_RETURN_IF_ERROR(old_h->remove_row(folder).status());
  fe->parent = new_parent;
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, m.db->find_node(folder));
  e.parent_nid = new_parent;
  PSTKIT_RETURN_IF_ERROR(m.db->put_node(e));
  PSTKIT_RETURN_IF_ERROR(m.sync_hierarchy_row(folder));
  PSTKIT_RETURN_IF_ERROR(refresh_subfolders_flag(m, old_parent));
  PSTKIT_RETURN_IF_ERROR(refresh_subfolders_flag(m, new_parent));
  m.search.folder_moved(new_parent, folder);
  return Status::ok();
}

Status StoreWriter::delete_folder(Nid folder) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  if (is_special_folder(*m.view, folder)) return Status::invalid_argument("cannot delete a special folder");
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * fe, m.edit(folder));
  const Nid parent = fe->parent;
  // Children first: subfolders, then messages.
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * h, m.folder_table(folder, ndb::kNidTypeHierarchyTable));
  PSTKIT_ASSIGN_OR_RETURN(std::vector<uint32_t> children, h->row_ids());
  for (Nid child : children) PSTKIT_RETURN_IF_ERROR(delete_folder(child));
  for (uint8_t t : {ndb::kNidTypeContentsTable, ndb::kNidTypeAssocContentsTable}) {
    PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * c, m.folder_table(folder, t));
    PSTKIT_ASSIGN_OR_RETURN(std::vector<uint32_t> messages, c->row_ids());
    for (Nid msg : messages) {
      Status s = m.db->delete_node(msg);
      if (!s.is_ok() && s.code() != Code::kNotFound) return s;
      if (s.is_ok()) m.search.message_deleted(folder, msg);  // MS-PST 2.6.3.2.9: contents go first
    }
  }
  m.folders.erase(folder);
  for (uint8_t t : {ndb::kNidTypeHierarchyTable, ndb::kNidTypeContentsTable, ndb::kNidTypeAssocContentsTable}) {
    Status s = m.db->delete_node(table_nid(folder, t));
    if (!s.is_ok() && s.code() != Code::kNotFound) return s;
  }
  PSTKIT_RETURN_IF_ERROR(m.db->delete_node(folder));
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * ph, m.folder_table(parent, ndb::kNidTypeHierarchyTable));
  PSTKIT_RETURN_IF_ERROR(ph->remove_row(folder).status());
  PSTKIT_RETURN_IF_ERROR(refresh_subfolders_flag(m, parent));
  m.search.folder_deleted(folder);
  return Status::ok();
}

}  // namespace pstkit
