// Stage 2 of a rebuild (pstkit/repair.h): makes the messaging layer of a
// store whose NDB layer is sound consistent again, as the Inbox Repair Tool
// does (../shared/reference/mapi-and-scanpst-notes.md, Microsoft KB 287497):
//
//   1. required nodes (MS-PST 2.7): recreated the way a new store has them
//   2. folder and message PCs that cannot be read: rebuilt from what can
//   3. the hierarchy: lost parent folders recreated, orphans moved to
//      "Lost and Found", cycles broken
//   4. messages (KB 287497) and folder counts
//   5. hierarchy, contents and FAI contents tables rewritten from the
//      objects present (MS-PST 2.4.4.4, 2.4.4.5)
//
// Everything is decided from the NBT's parent links (MS-PST 2.2.2.7.7.4.1),
// which survive stage 1 for every node it could read; the tables are derived
// data. Only what differs is written, so an intact store gets no change.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "messaging/node_writer.h"
#include "messaging/store_template.h"
#include "messaging/store_writer_impl.h"
#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/messaging.h"
#include "pstkit/repair.h"
#include "repair/fix_store_internal.h"
#include "repair/memory_env.h"

namespace pstkit::repair {

namespace {

using ndb::Nid;
using ndb::NodeEntry;

bool is_folder(Nid nid) {
  const uint8_t t = ndb::nid_type(nid);
  return t == ndb::kNidTypeNormalFolder || t == ndb::kNidTypeSearchFolder;
}
bool is_message(Nid nid) {
  const uint8_t t = ndb::nid_type(nid);
  return t == ndb::kNidTypeNormalMessage || t == ndb::kNidTypeAssocMessage;
}
Nid table_nid(Nid folder, uint8_t type) { return ndb::make_nid(type, ndb::nid_index(folder)); }

constexpr uint8_t kTableTypes[] = {ndb::kNidTypeHierarchyTable, ndb::kNidTypeContentsTable,
                                   ndb::kNidTypeAssocContentsTable};

const char* table_name(uint8_t type) {
  return type == ndb::kNidTypeHierarchyTable ? "hierarchy table"
         : type == ndb::kNidTypeContentsTable ? "contents table"
                                                : "associated contents table";
}

constexpr int32_t kMsgFlagRead = 0x01;  // MS-OXCMSG 2.2.1.6 mfRead

// MS-PST 2.3.3.3: values of these types are stored in dwValueHnid itself.
bool inline_type(uint16_t type) {
  switch (type) {
    case ltp::kPtypInteger16:
    case ltp::kPtypInteger32:
    case ltp::kPtypFloating32:
    case ltp::kPtypErrorCode:
    case ltp::kPtypBoolean:
      return true;
    default:
      return false;
  }
}


}  // namespace

// ---------------------------------------------------------------- helpers

void StoreFixer::note(const char* code, const std::string& structure, uint64_t id, const std::string& action) {
  ++staged_changes_;
  Change c;
  c.code = code;
  c.structure = structure;
  c.id = id;
  c.action = action;
  if (report_) ++report_->changes;
  if (options_.on_change) options_.on_change(c);
}

Result<ltp::PropertyContext> StoreFixer::open_pc(Nid nid) const {
  PSTKIT_ASSIGN_OR_RETURN(auto node, db_.open_node(nid));
  return ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(node)), ltp_options_);
}

std::vector<PropValue> StoreFixer::readable_props(Nid nid) const {
  auto pc = open_pc(nid);
  if (!pc) return {};
  return pc->all_readable();
}

// ---------------------------------------------------------------- ObjectIndex

void ObjectIndex::clear() {
  loaded_.clear();
  added_.clear();
}

void ObjectIndex::load(Nid nid, Nid parent) { loaded_.push_back({nid, parent, false}); }

// The NBT walk lists NIDs in order (MS-PST 2.2.2.7.7.4), so this is one
// pass that finds them sorted.
void ObjectIndex::finish_loading() {
  loaded_.stable_sort([](const Loaded& a, const Loaded& b) { return a.nid < b.nid; });
}

size_t ObjectIndex::find_loaded(Nid nid) const {
  const size_t i = loaded_.lower_bound(nid, [](const Loaded& e, Nid key) { return e.nid < key; });
  return i < loaded_.size() && loaded_.get(i).nid == nid ? i : SIZE_MAX;
}

std::optional<ndb::Nid> ObjectIndex::parent_of(Nid nid) const {
  if (const size_t i = find_loaded(nid); i != SIZE_MAX) {
    const Loaded e = loaded_.get(i);
    return e.erased ? std::nullopt : std::optional<Nid>(e.parent);
  }
  const auto it = added_.find(nid);
  return it == added_.end() ? std::nullopt : std::optional<Nid>(it->second);
}

void ObjectIndex::set(Nid nid, Nid parent) {
  if (const size_t i = find_loaded(nid); i != SIZE_MAX) {
    loaded_.set(i, {nid, parent, false});
  } else {
    added_[nid] = parent;
  }
}

void ObjectIndex::erase(Nid nid) {
  if (const size_t i = find_loaded(nid); i != SIZE_MAX) {
    loaded_.update(i, [](Loaded& e) { e.erased = true; });
  } else {
    added_.erase(nid);
  }
}

void ObjectIndex::Iter::advance(bool past_current) {
  const SpillArray<Loaded>& loaded = index_->loaded_;
  while (next_loaded_ < loaded.size() && loaded.get(next_loaded_).erased) ++next_loaded_;
  const auto added = past_current ? index_->added_.upper_bound(current_.first) : index_->added_.begin();
  const bool have_loaded = next_loaded_ < loaded.size();
  const bool have_added = added != index_->added_.end();
  done_ = !have_loaded && !have_added;
  if (done_) return;
  if (have_loaded && (!have_added || loaded.get(next_loaded_).nid < added->first)) {
    const Loaded e = loaded.get(next_loaded_++);
    current_ = {e.nid, e.parent};
  } else {
    current_ = *added;
  }
}

// ---------------------------------------------------------------- StoreFixer

bool StoreFixer::exists(Nid nid) const { return db_.find_node(nid).is_ok(); }

Status StoreFixer::rewrite_pc(Nid nid, const std::function<Status(ltp::PcBuilder&)>& edit) {
  PSTKIT_ASSIGN_OR_RETURN(NodeEntry entry, db_.find_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto node, db_.open_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto previous, node->subnodes());
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(node)),
                                                              ltp_options_));
  PSTKIT_ASSIGN_OR_RETURN(auto builder, ltp::PcBuilder::from_existing(pc));
  PSTKIT_RETURN_IF_ERROR(edit(builder));
  PSTKIT_ASSIGN_OR_RETURN(ltp::BuiltNode built, builder.build());
  // Subnodes the PC does not own (a message's tables and attachments) stay.
  std::vector<Nid> carried;
  for (const auto& e : previous) {
    if (built.subnodes.count(e.nid) || built.reused_subnodes.count(e.nid) || built.released_subnodes.count(e.nid)) {
      continue;
    }
    carried.push_back(e.nid);
  }
  return put_built_node(db_, nid, entry.parent_nid, built, previous, carried);
}

Status StoreFixer::set_parent(Nid nid, Nid parent) {
  PSTKIT_ASSIGN_OR_RETURN(NodeEntry e, db_.find_node(nid));
  e.parent_nid = parent;
  PSTKIT_RETURN_IF_ERROR(db_.put_node(e));
  objects_.set(nid, parent);
  return Status::ok();
}

Bytes StoreFixer::text(const std::string& utf8, uint16_t* type) const {
  *type = string_type(format_);
  return encode_text(utf8, format_);
}

Status StoreFixer::put_folder_pc(Nid nid, Nid parent, const std::string& name) {
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PcBuilder::create(format_));
  uint16_t st = 0;
  Bytes name_text = text(name, &st);
  // As StoreWriter::create_folder lays a new folder out.
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kDisplayName, st), name_text));
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContentCount, ltp::kPtypInteger32), le32(0)));
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContentUnread, ltp::kPtypInteger32), le32(0)));
  PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kSubfolders, ltp::kPtypBoolean), Bytes{0}));
  if (ndb::nid_type(nid) == ndb::kNidTypeNormalFolder) {
    Bytes cls = text("IPF.Note", &st);
    PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContainerClass, st), cls));
  }
  PSTKIT_RETURN_IF_ERROR(pc.set(0x66350003, le32(0)));  // PidTagPstHiddenCount
  PSTKIT_RETURN_IF_ERROR(pc.set(0x66360003, le32(0)));  // PidTagPstHiddenUnread
  PSTKIT_ASSIGN_OR_RETURN(auto built, pc.build());
  // The folder's own subnodes (none are expected) are dropped with its old PC.
  return put_built_node(db_, nid, parent, built);
}

Status StoreFixer::create_folder(Nid nid, Nid parent, const std::string& name) {
  db_.reserve_nid(nid);
  PSTKIT_RETURN_IF_ERROR(put_folder_pc(nid, parent, name));
  objects_.set(nid, parent);
  // Tables a lost folder left behind are kept: they are fixed with the others.
  if (ndb::nid_type(nid) == ndb::kNidTypeNormalFolder) {
    for (uint8_t t : kTableTypes) {
      const Nid tnid = table_nid(nid, t);
      db_.reserve_nid(tnid);
      if (exists(tnid)) continue;
      PSTKIT_ASSIGN_OR_RETURN(auto built, ltp::build_empty_table(format_, columns_for(t)));
      PSTKIT_RETURN_IF_ERROR(put_built_node(db_, tnid, 0, built));
    }
  }
  changed_objects_.insert(nid);
  return Status::ok();
}

// ---------------------------------------------------------------- required nodes

Result<const ndb::Database*> StoreFixer::template_store(const std::optional<Guid>& record_key) {
  if (template_db_) return static_cast<const ndb::Database*>(template_db_.get());
  template_env_ = std::make_unique<MemoryEnv>();
  ndb::CreateOptions co;
  co.format = format_;
  co.crypt = db_.header().crypt;
  ndb::WriterOptions wo;
  wo.env = template_env_.get();
  PSTKIT_ASSIGN_OR_RETURN(template_db_, ndb::WritableDatabase::create("template.pst", co, wo));
  StoreIdentity identity = StoreIdentity::fresh();
  if (record_key) identity.record_key = *record_key;
  NewStoreOptions so;
  so.format = format_;
  so.crypt = co.crypt;
  PSTKIT_RETURN_IF_ERROR(write_empty_store(*template_db_, so, identity));
  return static_cast<const ndb::Database*>(template_db_.get());
}

// Copies a node of another database (its data and subnode trees) block by block.
static Result<ndb::SubnodeEntry> copy_tree(const ndb::Database& from, ndb::WritableDatabase& to, Nid nid,
                                           ndb::Bid data, ndb::Bid subnodes, int depth) {
  if (depth > 32) return Status::corrupt("subnode tree", Status::kNoOffset, "nested deeper than 32");
  PSTKIT_ASSIGN_OR_RETURN(auto node, from.open_node(nid, data, subnodes));
  std::vector<Bytes> blocks;
  for (size_t i = 0; i < node->block_count(); ++i) {
    PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, node->block(i));
    blocks.push_back(*b);
  }
  ndb::SubnodeEntry out;
  out.nid = nid;
  PSTKIT_ASSIGN_OR_RETURN(out.data_bid, to.write_data_tree(blocks));
  PSTKIT_ASSIGN_OR_RETURN(auto subs, node->subnodes());
  std::vector<ndb::SubnodeEntry> copied;
  for (const auto& s : subs) {
    PSTKIT_ASSIGN_OR_RETURN(auto e, copy_tree(from, to, s.nid, s.data_bid, s.subnode_bid, depth + 1));
    copied.push_back(e);
  }
  PSTKIT_ASSIGN_OR_RETURN(out.subnode_bid, to.write_subnode_tree(std::move(copied)));
  return out;
}

Status StoreFixer::copy_from_template(const ndb::Database& tmpl, Nid nid) {
  PSTKIT_ASSIGN_OR_RETURN(NodeEntry e, tmpl.find_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto copied, copy_tree(tmpl, db_, nid, e.data_bid, e.subnode_bid, 0));
  db_.reserve_nid(nid);
  return db_.put_node({nid, copied.data_bid, copied.subnode_bid, e.parent_nid});
}

// Why a required node cannot be used as it is ("" when it can).
std::string StoreFixer::required_defect(Nid nid) const {
  auto entry = db_.find_node(nid);
  if (!entry) return "missing";
  if (nid == ndb::kNidMessageStore || nid == ndb::kNidNameToIdMap || nid == ndb::kNidRootFolder) {
    auto pc = open_pc(nid);
    if (!pc) return "unreadable (" + pc.status().message() + ")";
    return "";
  }
  const uint8_t t = ndb::nid_type(nid);
  if (t >= ndb::kNidTypeHierarchyTable && t <= ndb::kNidTypeRecipientTable) {
    auto node = db_.open_node(nid);
    if (!node) return "unreadable (" + node.status().message() + ")";
    auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)), ltp_options_);
    if (!tc) return "unreadable (" + tc.status().message() + ")";
    return "";
  }
  auto node = db_.open_node(nid);
  if (!node) return "unreadable (" + node.status().message() + ")";
  auto all = (*node)->read_all(uint64_t{64} << 20);
  if (!all) return "unreadable (" + all.status().message() + ")";
  return "";
}

std::optional<Nid> StoreFixer::store_entry_nid(uint16_t prop_id) const {
  auto pc = open_pc(ndb::kNidMessageStore);
  if (!pc) return std::nullopt;
  auto v = pc->get(prop_id);
  // MS-PST 2.4.3.2 ENTRYID: rgbFlags (4), uid (16), nid (4).
  if (!v || v->data.size() != 24) return std::nullopt;
  return Nid(load_le32(v->data.data() + 20));
}

Status StoreFixer::set_store_entry_id(uint16_t prop_id, Nid nid) {
  std::optional<Guid> key = record_key();
  if (!key) return Status::corrupt("message store", Status::kNoOffset, "no record key for an entry ID");
  const Bytes id = make_entry_id(*key, nid);
  return rewrite_pc(ndb::kNidMessageStore, [&](ltp::PcBuilder& pc) {
    return pc.set(ltp::make_tag(prop_id, ltp::kPtypBinary), id);
  });
}

std::optional<Guid> StoreFixer::record_key() const {
  auto pc = open_pc(ndb::kNidMessageStore);
  if (!pc) return std::nullopt;
  auto v = pc->get(prop::kRecordKey);
  if (!v || v->data.size() != 16) return std::nullopt;
  Guid g;
  std::copy(v->data.begin(), v->data.end(), g.bytes);
  return g;
}

Status StoreFixer::ensure_required() {
  // MS-PST 2.7.1 and what a new store has (store_template.cpp): the store,
  // the name map, the root folder and its tables, the table templates, the
  // search management queue and activity list.
  const Nid kRequired[] = {
      ndb::kNidMessageStore,
      ndb::kNidNameToIdMap,
      ndb::kNidRootFolder,
      ndb::make_nid(ndb::kNidTypeHierarchyTable, ndb::nid_index(ndb::kNidRootFolder)),
      ndb::make_nid(ndb::kNidTypeContentsTable, ndb::nid_index(ndb::kNidRootFolder)),
      ndb::make_nid(ndb::kNidTypeAssocContentsTable, ndb::nid_index(ndb::kNidRootFolder)),
      ndb::kNidHierarchyTableTemplate,
      ndb::kNidContentsTableTemplate,
      ndb::kNidAssocContentsTableTemplate,
      ndb::kNidSearchContentsTableTemplate,
      ndb::kNidAttachmentTableTemplate,
      ndb::kNidRecipientTableTemplate,
      ndb::kNidSearchManagementQueue,
      ndb::kNidSearchActivityList,
  };
  // Entry IDs are made of the record key: keep it when it can be read.
  const std::optional<Guid> key = record_key();
  for (Nid nid : kRequired) {
    const std::string defect = required_defect(nid);
    if (defect.empty()) continue;
    if (nid == ndb::kNidNameToIdMap) {
      // Item 6: rebuilt from what is readable of it (fix_name_map). Never
      // from the template: its names at 0x8000.. would give the objects'
      // named properties other meanings.
      continue;
    }
    PSTKIT_ASSIGN_OR_RETURN(const ndb::Database* tmpl, template_store(key));
    PSTKIT_RETURN_IF_ERROR(copy_from_template(*tmpl, nid));
    note("REQUIRED_CREATED", "node", nid, "node " + hex(nid) + " was " + defect + ": created as in a new store");
  }
  PSTKIT_RETURN_IF_ERROR(load_columns());
  // The store's own PC: BTH order and values (it opened, or was just made).
  {
    PSTKIT_ASSIGN_OR_RETURN(NodeEntry e, db_.find_node(ndb::kNidMessageStore));
    PSTKIT_ASSIGN_OR_RETURN(auto pc, open_pc(ndb::kNidMessageStore));
    PSTKIT_RETURN_IF_ERROR(mend_pc(ndb::kNidMessageStore, e.parent_nid, pc, "message store").status());
  }

  PSTKIT_RETURN_IF_ERROR(take_inventory());
  // The IPM subtree (MS-PST 2.4.3.1 PidTagIpmSubtreeEntryId).
  ipm_ = store_entry_nid(prop::kIpmSubtreeEntryId).value_or(0);
  if (ndb::nid_type(ipm_) != ndb::kNidTypeNormalFolder || ipm_ == ndb::kNidRootFolder) {
    // A store that names none (Exchange OSTs keep it elsewhere): the folder
    // that has the IPM subtree's name and the most subfolders, if any.
    if (std::optional<Nid> found = folder_named({"IPM_SUBTREE", "Top of Outlook data file", "Top of Personal Folders",
                                                 "Top of Information Store"},
                                                std::nullopt)) {
      PSTKIT_RETURN_IF_ERROR(set_store_entry_id(prop::kIpmSubtreeEntryId, *found));
      note("REQUIRED_CREATED", "message store", ndb::kNidMessageStore,
           "the store named no IPM subtree: PidTagIpmSubtreeEntryId set to folder " + hex(*found));
      ipm_ = *found;
    }
  }
  if (ndb::nid_type(ipm_) != ndb::kNidTypeNormalFolder || ipm_ == ndb::kNidRootFolder) {
    const Nid nid = exists(store_nids::kIpmSubtree) ? db_.allocate_nid(ndb::kNidTypeNormalFolder) : store_nids::kIpmSubtree;
    PSTKIT_RETURN_IF_ERROR(create_folder(nid, ndb::kNidRootFolder, NewStoreOptions().ipm_subtree_name));
    PSTKIT_RETURN_IF_ERROR(set_store_entry_id(prop::kIpmSubtreeEntryId, nid));
    note("REQUIRED_CREATED", "folder", nid, "the store named no IPM subtree: created " + hex(nid));
    ipm_ = nid;
  } else if (!exists(ipm_)) {
    PSTKIT_RETURN_IF_ERROR(create_folder(ipm_, ndb::kNidRootFolder, NewStoreOptions().ipm_subtree_name));
    note("REQUIRED_CREATED", "folder", ipm_, "the IPM subtree " + hex(ipm_) + " was missing: created");
  }
  // The wastebasket (PidTagIpmWastebasketEntryId), a child of the IPM subtree.
  Nid wastebasket = store_entry_nid(prop::kIpmWastebasketEntryId).value_or(0);
  if (ndb::nid_type(wastebasket) != ndb::kNidTypeNormalFolder) {
    if (std::optional<Nid> found = folder_named({NewStoreOptions().deleted_items_name}, ipm_)) {
      PSTKIT_RETURN_IF_ERROR(set_store_entry_id(prop::kIpmWastebasketEntryId, *found));
      note("REQUIRED_CREATED", "message store", ndb::kNidMessageStore,
           "the store named no Deleted Items folder: PidTagIpmWastebasketEntryId set to folder " + hex(*found));
      wastebasket = *found;
    }
  }
  if (ndb::nid_type(wastebasket) != ndb::kNidTypeNormalFolder || wastebasket == ipm_ ||
      wastebasket == ndb::kNidRootFolder) {
    const Nid nid = exists(store_nids::kDeletedItems) ? db_.allocate_nid(ndb::kNidTypeNormalFolder)
                                                      : store_nids::kDeletedItems;
    PSTKIT_RETURN_IF_ERROR(create_folder(nid, ipm_, NewStoreOptions().deleted_items_name));
    PSTKIT_RETURN_IF_ERROR(set_store_entry_id(prop::kIpmWastebasketEntryId, nid));
    note("REQUIRED_CREATED", "folder", nid, "the store named no Deleted Items folder: created " + hex(nid));
  } else if (!exists(wastebasket)) {
    PSTKIT_RETURN_IF_ERROR(create_folder(wastebasket, ipm_, NewStoreOptions().deleted_items_name));
    note("REQUIRED_CREATED", "folder", wastebasket, "Deleted Items " + hex(wastebasket) + " was missing: created");
  }
  return Status::ok();
}

std::optional<Nid> StoreFixer::folder_named(const std::vector<std::string>& names, std::optional<Nid> parent) const {
  std::map<Nid, size_t> subfolders;
  for (const auto& [nid, p] : objects_) {
    if (is_folder(nid)) ++subfolders[p];
  }
  std::optional<Nid> best;
  for (const auto& [nid, p] : objects_) {
    if (ndb::nid_type(nid) != ndb::kNidTypeNormalFolder || nid == ndb::kNidRootFolder) continue;
    if (parent && p != *parent) continue;
    PropertyBag bag(readable_props(nid), 1252);
    const std::string name = bag.get_string(prop::kDisplayName).value_or("");
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    if (!best || subfolders[nid] > subfolders[*best]) best = nid;
  }
  return best;
}

Status StoreFixer::load_columns() {
  auto load = [&](Nid nid, std::vector<ltp::PropTag>& out) -> Status {
    PSTKIT_ASSIGN_OR_RETURN(auto node, db_.open_node(nid));
    PSTKIT_ASSIGN_OR_RETURN(auto tc, ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(node)),
                                                             ltp_options_));
    out = ltp::template_columns(tc);
    return Status::ok();
  };
  PSTKIT_RETURN_IF_ERROR(load(ndb::kNidHierarchyTableTemplate, hierarchy_columns_));
  PSTKIT_RETURN_IF_ERROR(load(ndb::kNidContentsTableTemplate, contents_columns_));
  PSTKIT_RETURN_IF_ERROR(load(ndb::kNidAttachmentTableTemplate, attachment_columns_));
  PSTKIT_RETURN_IF_ERROR(load(ndb::kNidRecipientTableTemplate, recipient_columns_));
  return load(ndb::kNidAssocContentsTableTemplate, associated_columns_);
}

const std::vector<ltp::PropTag>& StoreFixer::columns_for(uint8_t table_type) const {
  return table_type == ndb::kNidTypeHierarchyTable ? hierarchy_columns_
         : table_type == ndb::kNidTypeContentsTable ? contents_columns_
                                                      : associated_columns_;
}

// ---------------------------------------------------------------- inventory

Status StoreFixer::take_inventory() {
  objects_.clear();
  PSTKIT_RETURN_IF_ERROR(db_.for_each_node([&](const NodeEntry& e) {
    if (is_folder(e.nid) || is_message(e.nid)) objects_.load(e.nid, e.parent_nid);
    return true;
  }));
  objects_.finish_loading();
  return objects_.status();
}

// ---------------------------------------------------------------- LTP

// A folder or message whose PC cannot be opened, or whose BTH or values are
// damaged, is rewritten from the properties still readable (MS-PST 2.3.3).
Status StoreFixer::fix_object_pcs() {
  std::vector<Nid> lost;
  for (const auto& [nid, parent] : objects_) {
    auto pc = open_pc(nid);
    if (!pc) {
      if (is_folder(nid)) {
        const std::string name = "Folder " + hex(nid);
        PSTKIT_RETURN_IF_ERROR(put_folder_pc(nid, parent, name));
        changed_objects_.insert(nid);
        note("HEAP_REBUILT", "folder", nid,
             "property context unreadable (" + pc.status().message() + "): rewritten as \"" + name + "\"");
      } else {
        lost.push_back(nid);
        note("NODE_LOST", "message", nid,
             "property context unreadable (" + pc.status().message() + "): message left out");
      }
      continue;
    }
    PSTKIT_ASSIGN_OR_RETURN(bool lost_values, mend_pc(nid, parent, *pc, is_folder(nid) ? "folder" : "message"));
    // Only lost values change the object's table row.
    if (lost_values) changed_objects_.insert(nid);
  }
  for (Nid nid : lost) {
    PSTKIT_RETURN_IF_ERROR(db_.delete_node(nid));
    objects_.erase(nid);
    if (report_) ++report_->nodes_lost;
  }
  return Status::ok();
}

Result<bool> StoreFixer::mend_pc(Nid nid, Nid parent, const ltp::PropertyContext& pc, const char* structure) {
  const auto damage = [](std::vector<Status>& errors) {
    errors.erase(std::remove_if(errors.begin(), errors.end(),
                                [](const Status& s) { return s.code() == Code::kUnsupported; }),
                 errors.end());
  };
  // Values in subnodes are only opened first (copy_nodes copied a
  // subnode's blocks whole or left it out); all are read only to rebuild.
  std::vector<Status> errors;
  pc.check_values_shallow(&errors);
  damage(errors);
  auto bth = ltp::Bth::open(pc.heap(), pc.heap().user_root());
  Status order = bth ? bth->validate() : bth.status();
  if (errors.empty() && order.is_ok()) return false;
  errors.clear();
  std::vector<PropValue> values = pc.all_readable(&errors);
  damage(errors);
  for (const Status& e : errors) {
    note("PROPERTY_DROPPED", structure, nid, "value unreadable (" + e.message() + "): left out");
  }
  PSTKIT_RETURN_IF_ERROR(rebuild_pc(nid, parent, pc, values));
  note("HEAP_REBUILT", structure, nid,
       "property context " + std::string(order.is_ok() ? "" : "BTH invalid (" + order.message() + ")") +
           (errors.empty() ? "" : std::to_string(errors.size()) + " value(s) unreadable, first: " +
                                      errors.front().message()) +
           ": rewritten with the " + std::to_string(values.size()) + " readable properties");
  return !errors.empty();
}

Status StoreFixer::rebuild_pc(Nid nid, Nid parent, const ltp::PropertyContext& pc,
                              const std::vector<PropValue>& values) {
  PSTKIT_ASSIGN_OR_RETURN(auto node, db_.open_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto previous, node->subnodes());
  PSTKIT_ASSIGN_OR_RETURN(auto allocate, ltp::nid_allocator_after(*node));
  // Subnodes that held the old PC's values go; the others (tables,
  // attachments) stay.
  std::set<Nid> value_subnodes;
  for (const auto& e : pc.entries()) {
    if (!inline_type(e.type) && e.value != 0 && !ltp::hnid_is_hid(e.value)) value_subnodes.insert(e.value);
  }
  PSTKIT_ASSIGN_OR_RETURN(auto builder, ltp::PcBuilder::create(format_, allocate));
  for (const auto& v : values) {
    Status s = builder.set(v);
    if (!s.is_ok()) note("PROPERTY_DROPPED", "property", nid, "property " + hex(v.tag) + ": " + s.message());
  }
  PSTKIT_ASSIGN_OR_RETURN(auto built, builder.build());
  std::vector<Nid> carried;
  for (const auto& e : previous) {
    if (value_subnodes.count(e.nid) || built.subnodes.count(e.nid)) continue;
    carried.push_back(e.nid);
  }
  return put_built_node(db_, nid, parent, built, previous, carried);
}

// ---------------------------------------------------------------- hierarchy

Result<Nid> StoreFixer::lost_and_found() {
  if (lost_and_found_) return lost_and_found_;
  // A Lost and Found an earlier repair made is used again.
  for (const auto& [nid, parent] : objects_) {
    if (parent != ipm_ || ndb::nid_type(nid) != ndb::kNidTypeNormalFolder) continue;
    PropertyBag bag(readable_props(nid), 1252);
    if (bag.get_string(prop::kDisplayName).value_or("") == kLostAndFoundName) return lost_and_found_ = nid;
  }
  const Nid nid = db_.allocate_nid(ndb::kNidTypeNormalFolder);
  PSTKIT_RETURN_IF_ERROR(create_folder(nid, ipm_, kLostAndFoundName));
  note("FOLDER_RECREATED", "folder", nid, std::string("created \"") + kLostAndFoundName + "\" under the IPM subtree");
  return lost_and_found_ = nid;
}

Status StoreFixer::move_to_lost_and_found(Nid nid, const std::string& why) {
  PSTKIT_ASSIGN_OR_RETURN(Nid lf, lost_and_found());
  PSTKIT_RETURN_IF_ERROR(set_parent(nid, lf));
  if (report_) ++report_->lost_and_found;
  note("ORPHAN_MOVED", is_folder(nid) ? "folder" : "message", nid, why + ": moved to Lost and Found");
  return Status::ok();
}

// Deleted items stage 1 brought back go to "Recovered Deleted Items" (a
// deleted folder keeps the deleted items it holds).
Status StoreFixer::recover_deleted() {
  if (!options_.include_deleted || report_ == nullptr || report_->deleted_items.empty()) return Status::ok();
  const std::set<Nid> deleted(report_->deleted_items.begin(), report_->deleted_items.end());
  Nid target = 0;
  for (Nid nid : deleted) {
    const std::optional<Nid> found_parent = objects_.parent_of(nid);
    if (!found_parent || nid == ndb::kNidRootFolder || nid == ipm_) continue;
    const Nid parent = *found_parent;
    if (deleted.count(parent) && objects_.count(parent) && ndb::nid_type(parent) == ndb::kNidTypeNormalFolder) {
      continue;
    }
    if (target == 0) {
      std::optional<Nid> found = folder_named({kRecoveredDeletedName}, ipm_);
      if (found) {
        target = *found;
      } else {
        target = db_.allocate_nid(ndb::kNidTypeNormalFolder);
        PSTKIT_RETURN_IF_ERROR(create_folder(target, ipm_, kRecoveredDeletedName));
        note("DELETED_RECOVERED", "folder", target,
             std::string("created \"") + kRecoveredDeletedName + "\" under the IPM subtree");
      }
    }
    PSTKIT_RETURN_IF_ERROR(set_parent(nid, target));
    note("DELETED_RECOVERED", is_folder(nid) ? "folder" : "message", nid,
         "deleted item (was in " + hex(parent) + ") put in " + kRecoveredDeletedName);
  }
  return Status::ok();
}

Status StoreFixer::fix_hierarchy() {
  // The root is its own parent (MS-PST 2.4.4.1.2); the IPM subtree is the root's child.
  if (objects_.count(ndb::kNidRootFolder) && objects_.parent_of(ndb::kNidRootFolder) != ndb::kNidRootFolder) {
    PSTKIT_RETURN_IF_ERROR(set_parent(ndb::kNidRootFolder, ndb::kNidRootFolder));
    note("ORPHAN_MOVED", "folder", ndb::kNidRootFolder, "the root folder is made its own parent again");
  }
  auto valid_parent = [&](Nid p) {
    return ndb::nid_type(p) == ndb::kNidTypeNormalFolder && objects_.count(p) > 0;
  };
  // The IPM subtree (a child of the root in a PST, MS-PST 2.4.3.1; deeper in
  // Exchange OSTs) must reach the root: Lost and Found goes below it.
  {
    std::set<Nid> path{ipm_};
    for (Nid cur = ipm_; cur != ndb::kNidRootFolder;) {
      const Nid parent = objects_.parent_of(cur).value_or(0);
      if (!valid_parent(parent) || path.count(parent)) {
        PSTKIT_RETURN_IF_ERROR(set_parent(ipm_, ndb::kNidRootFolder));
        note("ORPHAN_MOVED", "folder", ipm_,
             "the IPM subtree's parent chain " + std::string(path.count(parent) ? "forms a cycle" : "is broken") +
                 " at " + hex(parent) + ": moved under the root");
        break;
      }
      path.insert(parent);
      cur = parent;
    }
  }
  // Parents to recreate: lost normal folders that still have children.
  // (Over the objects as they were: folders created on the way are not visited.)
  SpillArray<ObjectIndex::Object> snapshot;
  for (const auto& [nid, parent] : objects_) snapshot.push_back({nid, parent});
  PSTKIT_RETURN_IF_ERROR(snapshot.status());
  for (const ObjectIndex::Object& object : snapshot) {
    const Nid nid = object.nid, parent = object.parent;
    if (nid == ndb::kNidRootFolder || valid_parent(parent)) continue;
    if (parent != 0 && ndb::nid_type(parent) == ndb::kNidTypeNormalFolder && !exists(parent)) {
      PSTKIT_ASSIGN_OR_RETURN(Nid lf, lost_and_found());
      // Its name, when a hierarchy table still lists it (the issue: "keeping
      // their original folder's name where it is known").
      const std::string name = listed_name(parent).value_or("Folder " + hex(parent));
      PSTKIT_RETURN_IF_ERROR(create_folder(parent, lf, name));
      if (report_) ++report_->folders_recreated;
      if (report_) ++report_->lost_and_found;
      note("FOLDER_RECREATED", "folder", parent,
           "folder lost but " + hex(nid) + " names it as parent: recreated as \"" + name + "\" in Lost and Found");
      continue;
    }
    PSTKIT_RETURN_IF_ERROR(move_to_lost_and_found(
        nid, "parent " + hex(parent) + (exists(parent) ? " is not a folder" : " is missing")));
  }
  // Cycles: every folder must reach the root.
  snapshot.clear();
  for (const auto& [nid, parent] : objects_) {
    if (is_folder(nid)) snapshot.push_back({nid, parent});
  }
  PSTKIT_RETURN_IF_ERROR(snapshot.status());
  for (const ObjectIndex::Object& object : snapshot) {
    const Nid start = object.nid;
    std::set<Nid> path{start};
    Nid cur = start;
    while (cur != ndb::kNidRootFolder) {
      const Nid parent = objects_.parent_of(cur).value_or(0);
      if (path.count(parent)) {
        PSTKIT_RETURN_IF_ERROR(move_to_lost_and_found(cur, "parent links form a cycle through " + hex(parent)));
        break;
      }
      path.insert(parent);
      cur = parent;
    }
  }
  return Status::ok();
}

std::optional<std::string> StoreFixer::listed_name(Nid folder) const {
  for (const auto& [nid, parent] : objects_) {
    if (ndb::nid_type(nid) != ndb::kNidTypeNormalFolder) continue;
    auto node = db_.open_node(table_nid(nid, ndb::kNidTypeHierarchyTable));
    if (!node) continue;
    auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)), ltp_options_);
    if (!tc) continue;
    auto row = tc->find_row(folder);
    if (!row) continue;
    auto cells = tc->row(*row);
    if (!cells) continue;
    PropertyBag bag(std::move(*cells), 1252);
    if (auto name = bag.get_string(prop::kDisplayName); name && !name->empty()) return name;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- counts

Status StoreFixer::fix_counts(Nid folder, const std::vector<Nid>& kids) {
  int32_t count = 0, unread = 0;
  bool subfolders = false;
  for (Nid k : kids) {
    if (is_folder(k)) subfolders = true;
    if (ndb::nid_type(k) != ndb::kNidTypeNormalMessage) continue;
    ++count;
    // Only the flags are read (not the whole message again).
    int32_t flags = 0;
    if (auto pc = open_pc(k)) {
      if (auto v = pc->get(prop::kMessageFlags); v.is_ok()) {
        if (auto f = v->as_i32(); f.is_ok()) flags = *f;
      }
    }
    if (!(flags & kMsgFlagRead)) ++unread;
  }
  PropertyBag bag(readable_props(folder), 1252);
  const auto have_count = bag.get_i32(prop::kContentCount);
  const auto have_unread = bag.get_i32(prop::kContentUnread);
  const auto have_sub = bag.get_bool(prop::kSubfolders);
  const bool fix_count = have_count.value_or(0) != count;
  const bool fix_unread = have_unread.value_or(0) != unread;
  const bool fix_sub = have_sub.value_or(false) != subfolders;
  if (!fix_count && !fix_unread && !fix_sub) return Status::ok();
  PSTKIT_RETURN_IF_ERROR(rewrite_pc(folder, [&](ltp::PcBuilder& pc) -> Status {
    if (fix_count) PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContentCount, ltp::kPtypInteger32), le32(count)));
    if (fix_unread) PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kContentUnread, ltp::kPtypInteger32), le32(unread)));
    if (fix_sub) PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kSubfolders, ltp::kPtypBoolean), Bytes{uint8_t(subfolders)}));
    return Status::ok();
  }));
  changed_objects_.insert(folder);
  std::string what;
  if (fix_count) what += " content count " + std::to_string(have_count.value_or(0)) + " -> " + std::to_string(count);
  if (fix_unread) what += " unread " + std::to_string(have_unread.value_or(0)) + " -> " + std::to_string(unread);
  if (fix_sub) what += std::string(" subfolders ") + (subfolders ? "true" : "false");
  note("COUNTS_FIXED", "folder", folder, "recomputed:" + what);
  return Status::ok();
}

// ---------------------------------------------------------------- tables

// Whether a table can be kept and edited: it opens, its row index BTH is
// valid (MS-PST 2.3.2), every index entry names the matrix row holding that
// row id (2.3.4.3) and every cell can be read (2.3.4.4).
static Status table_defect(const ltp::TableContext& tc) {
  const ltp::Heap& heap = tc.heap();
  auto info = heap.get(heap.user_root());
  if (!info) return info.status();
  // MS-PST 2.3.4.1 TCINFO: hidRowIndex at offset 10.
  if (info->size() >= 14 && info->u32(10) != 0) {
    PSTKIT_ASSIGN_OR_RETURN(auto bth, ltp::Bth::open(heap, info->u32(10)));
    PSTKIT_RETURN_IF_ERROR(bth.validate());
  }
  if (tc.row_count() != tc.matrix_row_count()) {
    return Status::corrupt("TC", Status::kNoOffset,
                           "row index has " + std::to_string(tc.row_count()) + " entries, the matrix " +
                               std::to_string(tc.matrix_row_count()) + " rows");
  }
  std::set<uint32_t> seen;
  for (const auto& e : tc.row_index()) {
    PSTKIT_ASSIGN_OR_RETURN(uint32_t id, tc.row_id(e.row_index));
    if (id != e.row_id || !seen.insert(id).second) {
      return Status::corrupt("TC", Status::kNoOffset, "row index entry " + hex(e.row_id) + " is wrong");
    }
  }
  for (size_t r = 0; r < tc.matrix_row_count(); ++r) {
    auto cells = tc.row(r);
    if (!cells && cells.status().code() != Code::kUnsupported) return cells.status();
  }
  return Status::ok();
}

Status StoreFixer::fix_table(Nid folder, uint8_t type, const std::vector<Nid>& expected) {
  const Nid tnid = table_nid(folder, type);
  std::optional<ltp::TableContext> tc;
  std::string defect;
  Nid table_parent = 0;
  std::vector<ndb::SubnodeEntry> previous;
  if (auto entry = db_.find_node(tnid); !entry) {
    defect = "missing";
  } else {
    table_parent = entry->parent_nid;
    auto node = db_.open_node(tnid);
    if (!node) {
      defect = node.status().message();
    } else {
      if (auto subs = (*node)->subnodes()) previous = *subs;
      auto opened = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)), ltp_options_);
      if (!opened) {
        defect = opened.status().message();
      } else {
        tc.emplace(std::move(*opened));
        if (Status s = table_defect(*tc); !s.is_ok()) defect = s.message();
      }
    }
  }
  // Sorted, each once: four bytes a row (a folder's table, not the file).
  std::vector<Nid> present;
  if (tc) {
    present.reserve(tc->row_index().size());
    for (const auto& e : tc->row_index()) present.push_back(e.row_id);
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
  }
  const auto has = [](const std::vector<Nid>& sorted, Nid r) {
    return std::binary_search(sorted.begin(), sorted.end(), r);
  };
  std::vector<Nid> extra, missing, stale;
  for (Nid r : present) {
    if (!has(expected, r)) extra.push_back(r);
  }
  for (Nid r : expected) {
    if (!has(present, r)) {
      missing.push_back(r);
    } else if (changed_objects_.count(r)) {
      stale.push_back(r);
    }
  }
  if (defect.empty() && extra.empty() && missing.empty() && stale.empty()) return Status::ok();

  auto cells_of = [&](Nid child, const std::vector<ltp::TableContext::Column>& columns) {
    return StoreWriter::Impl::row_cells(columns, readable_props(child));
  };
  std::optional<ltp::TcBuilder> builder;
  if (defect.empty()) {
    // Edit the table as it is: rows of objects present keep their cells.
    PSTKIT_ASSIGN_OR_RETURN(auto b, ltp::TcBuilder::from_existing(*tc));
    builder.emplace(std::move(b));
    for (Nid r : extra) builder->remove_row(r);
    for (Nid r : stale) PSTKIT_RETURN_IF_ERROR(builder->replace_row(r, cells_of(r, builder->columns())));
    for (Nid r : missing) PSTKIT_RETURN_IF_ERROR(builder->add_row(r, cells_of(r, builder->columns())));
  } else {
    // Lay it out again, with its own columns when it has any, and a row for
    // every object present.
    const std::vector<ltp::PropTag> columns = tc ? ltp::template_columns(*tc) : columns_for(type);
    PSTKIT_ASSIGN_OR_RETURN(auto b, ltp::TcBuilder::create(format_, columns));
    builder.emplace(std::move(b));
    for (Nid r : expected) PSTKIT_RETURN_IF_ERROR(builder->add_row(r, cells_of(r, builder->columns())));
    previous.clear();  // nothing of the old table is reused
  }
  PSTKIT_ASSIGN_OR_RETURN(auto built, builder->build());
  if (defect.empty()) {
    PSTKIT_RETURN_IF_ERROR(put_built_node(db_, tnid, table_parent, built, previous));
  } else {
    PSTKIT_RETURN_IF_ERROR(put_built_node(db_, tnid, table_parent, built));
  }
  std::string action;
  if (!defect.empty()) {
    action = std::string("was ") + (defect == "missing" ? "missing" : "damaged (" + defect + ")") +
             ": rebuilt with " + std::to_string(expected.size()) + " rows";
  } else {
    action = "rows: " + std::to_string(missing.size()) + " added, " + std::to_string(extra.size()) + " removed, " +
             std::to_string(stale.size()) + " updated";
  }
  note("TABLE_REBUILT", table_name(type), tnid, std::string(table_name(type)) + " of folder " + hex(folder) + " " + action);
  return Status::ok();
}

// ---------------------------------------------------------------- run

// Between folders: the writer keeps what it stages in memory until commit,
// so a store with many repairs is committed in steps (every step leaves a
// store that reads, with fewer repairs; the next pass finishes).
Status StoreFixer::commit_if_large() {
  if (staged_changes_ < kChangesPerCommit || !db_.has_changes()) return Status::ok();
  staged_changes_ = 0;
  return db_.commit();
}

Status StoreFixer::run() {
  format_ = db_.header().format;
  if (format_ == ndb::FileFormat::kUnicode4k) return Status::unsupported("fix_store on a 4 KiB-page OST");
  ltp_options_.format = format_;

  PSTKIT_RETURN_IF_ERROR(ensure_required());
  PSTKIT_RETURN_IF_ERROR(fix_name_map());
  PSTKIT_RETURN_IF_ERROR(fix_search_queue());
  PSTKIT_RETURN_IF_ERROR(take_inventory());
  PSTKIT_RETURN_IF_ERROR(fix_object_pcs());
  PSTKIT_RETURN_IF_ERROR(recover_deleted());
  PSTKIT_RETURN_IF_ERROR(fix_hierarchy());
  std::vector<Nid> search_folders;
  for (const auto& [nid, parent] : objects_) {
    if (ndb::nid_type(nid) == ndb::kNidTypeSearchFolder) search_folders.push_back(nid);
  }
  for (Nid nid : search_folders) PSTKIT_RETURN_IF_ERROR(fix_search_folder(nid));

  // Children by folder, from the parent links as now fixed: one entry an
  // object, so in a SpillArray, by parent and then NID.
  SpillArray<ObjectIndex::Object> children;
  std::vector<Nid> folders;
  for (const auto& [nid, parent] : objects_) {
    if (nid != ndb::kNidRootFolder) children.push_back({nid, parent});
    if (ndb::nid_type(nid) == ndb::kNidTypeNormalFolder) folders.push_back(nid);
  }
  children.stable_sort([](const ObjectIndex::Object& a, const ObjectIndex::Object& b) { return a.parent < b.parent; });
  PSTKIT_RETURN_IF_ERROR(children.status());
  auto children_of = [&children](Nid folder) {
    std::vector<Nid> kids;
    for (size_t k = children.lower_bound(folder, [](const ObjectIndex::Object& o, Nid p) { return o.parent < p; });
         k < children.size(); ++k) {
      const ObjectIndex::Object o = children.get(k);
      if (o.parent != folder) break;
      kids.push_back(o.nid);
    }
    return kids;
  };
  uint64_t done = 0;
  const uint64_t total = 2 * folders.size();
  for (Nid f : folders) {
    const std::vector<Nid> kids = children_of(f);
    PSTKIT_RETURN_IF_ERROR(children.status());
    PSTKIT_RETURN_IF_ERROR(fix_messages(kids));
    PSTKIT_RETURN_IF_ERROR(fix_counts(f, kids));
    PSTKIT_RETURN_IF_ERROR(commit_if_large());
    if (options_.progress) options_.progress(++done, total);
  }
  for (Nid f : folders) {
    // Ascending, as the children are.
    std::vector<Nid> rows[3];
    for (Nid k : children_of(f)) {
      if (is_folder(k)) {
        rows[0].push_back(k);
      } else if (ndb::nid_type(k) == ndb::kNidTypeNormalMessage) {
        rows[1].push_back(k);
      } else {
        rows[2].push_back(k);
      }
    }
    PSTKIT_RETURN_IF_ERROR(children.status());
    for (int i = 0; i < 3; ++i) PSTKIT_RETURN_IF_ERROR(fix_table(f, kTableTypes[i], rows[i]));
    PSTKIT_RETURN_IF_ERROR(commit_if_large());
    if (options_.progress) options_.progress(++done, total);
  }
  if (report_) {
    report_->folders = 0;
    report_->messages = 0;
    for (const auto& [nid, parent] : objects_) {
      (is_folder(nid) ? report_->folders : report_->messages)++;
    }
  }
  PSTKIT_RETURN_IF_ERROR(objects_.status());
  if (db_.has_changes()) PSTKIT_RETURN_IF_ERROR(db_.commit());
  return Status::ok();
}

StoreFixer::StoreFixer(ndb::WritableDatabase& db, const RebuildOptions& options, RebuildReport* report)
    : db_(db), options_(options), report_(report) {}
StoreFixer::~StoreFixer() = default;

Status fix_store(ndb::WritableDatabase& db, const RebuildOptions& options, RebuildReport* report) {
  StoreFixer fixer(db, options, report);
  Status s = fixer.run();
  if (!s.is_ok()) {
    (void)db.rollback();
    return s.with_context("fix_store");
  }
  return s;
}

}  // namespace pstkit::repair
