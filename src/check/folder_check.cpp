// MS-PST 2.4: the NBT's parent links (2.2.2.7.7.4.1) against the folder
// tables (2.4.4): every folder's hierarchy, contents and FAI contents
// tables list exactly the nodes whose nidParent is that folder.
#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "check/context.h"
#include "pstkit/ltp.h"

namespace pstkit::check {

namespace {

bool is_folder(ndb::Nid nid) {
  const uint8_t t = ndb::nid_type(nid);
  return t == ndb::kNidTypeNormalFolder || t == ndb::kNidTypeSearchFolder;
}

// MS-PST 2.7: nodes every PST has.
void check_required(Context& c) {
  const std::pair<ndb::Nid, const char*> required[] = {
      {ndb::kNidMessageStore, "message store"},
      {ndb::kNidNameToIdMap, "name-to-ID map"},
      {ndb::kNidRootFolder, "root folder"},
  };
  for (const auto& [nid, name] : required) {
    if (!c.find_node(nid)) {
      c.add(Issue::kNodeRequired, "NBT", kNone, nid, std::string("the ") + name + " node " + hex(nid) + " is missing");
    }
  }
}

// Folders and messages name their folder (MS-PST 2.2.2.7.7.4.1); other
// nodes' nidParent has no defined meaning and Outlook leaves odd values.
bool has_folder_parent(ndb::Nid nid) {
  const uint8_t t = ndb::nid_type(nid);
  return is_folder(nid) || t == ndb::kNidTypeNormalMessage || t == ndb::kNidTypeAssocMessage;
}

void check_parents(Context& c) {
  for (const NodeRecord& n : c.nodes) {
    const ndb::NodeEntry& e = n.entry;
    if (e.parent_nid == 0 || !has_folder_parent(e.nid)) continue;
    if (!c.find_node(e.parent_nid)) {
      c.add(Issue::kNbtParent, "NBT entry", n.page, e.nid,
            "node " + hex(e.nid) + " names parent " + hex(e.parent_nid) + ", which is not in the NBT");
    } else if (!is_folder(e.parent_nid)) {
      c.add(Issue::kNbtParent, "NBT entry", n.page, e.nid,
            "node " + hex(e.nid) + " names parent " + hex(e.parent_nid) + ", which is not a folder");
    }
  }
}

// One of a folder's tables: its row IDs (sorted, each once), or nothing
// when it cannot be read. Four bytes a row: a folder of a million
// messages costs 4 MB while it is checked, and only then.
struct FolderTable {
  bool present = false;
  bool readable = false;
  std::shared_ptr<const std::vector<uint32_t>> rows;

  bool lists(uint32_t id) const { return rows && std::binary_search(rows->begin(), rows->end(), id); }
};

class FolderChecker {
 public:
  explicit FolderChecker(Context& c) : c_(c) {
    for (const NodeRecord& n : c.nodes) {
      if (n.entry.parent_nid != 0 && n.entry.parent_nid != n.entry.nid) children_.push_back({n.entry.parent_nid, n.entry.nid});
    }
    // By parent; each parent's children stay in NID order.
    children_.stable_sort([](const Child& a, const Child& b) { return a.parent < b.parent; });
  }
  Status spill_status() const { return children_.status(); }

  void run() {
    for (const NodeRecord& n : c_.nodes) {
      if (ndb::nid_type(n.entry.nid) == ndb::kNidTypeNormalFolder) check_folder(n);
    }
  }

 private:
  void check_folder(const NodeRecord& folder);
  FolderTable read_table(ndb::Nid table_nid);
  void check_rows(ndb::Nid folder, ndb::Nid table_nid, const FolderTable& t, uint8_t child_type, Issue issue);

  Context& c_;
  // Every node that names a parent: one a node, so kept in a SpillArray.
  struct Child {
    ndb::Nid parent, nid;
  };
  SpillArray<Child> children_;
  // Row sets of tables whose blocks other nodes may name too (hostile
  // files): read once. A table whose data block has one reference is its
  // own, and is not kept once its folder is checked, so that memory does
  // not grow with the number of folders and rows (issue 8).
  std::map<std::pair<ndb::Bid, ndb::Bid>, std::shared_ptr<const std::vector<uint32_t>>> rows_;
};

// Whether another node may name the table's blocks: its data block (or,
// without one, its subnode block) has a reference count other than one in
// the reference pass's count (unknown blocks included).
bool may_be_shared(const Context& c, const ndb::NodeEntry& e) {
  const ndb::Bid key = e.data_bid != 0 ? e.data_bid : e.subnode_bid;
  const std::optional<BlockRecord> r = key != 0 ? c.find_block(key) : std::nullopt;
  return !r || r->references != 1 || !c.references_complete;
}

FolderTable FolderChecker::read_table(ndb::Nid table_nid) {
  FolderTable t;
  const std::optional<NodeRecord> r = c_.find_node(table_nid);
  if (!r) return t;
  t.present = true;
  // The LTP pass already reported tables it could not open.
  if (c_.ltp_failed.count(table_nid)) return t;
  // Tables naming the same blocks (hostile files) are read once.
  const auto key = std::make_pair(r->entry.data_bid, r->entry.subnode_bid);
  const bool shared = may_be_shared(c_, r->entry);
  if (shared) {
    if (auto it = rows_.find(key); it != rows_.end()) {
      t.readable = it->second != nullptr;
      t.rows = it->second;
      return t;
    }
    rows_[key] = nullptr;
  }
  auto node = open_checked_node(c_, table_nid, r->entry.data_bid, r->entry.subnode_bid);
  if (!node.is_ok()) return t;
  ltp::Options options;
  options.format = c_.header.format;
  auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(node).value()), options);
  if (!tc.is_ok()) {
    if (!c_.options.check_ltp && tc.status().structure() != kAlreadyReported) {
      c_.add(Issue::kFolderTable, "TC", kNone, table_nid, "table " + hex(table_nid) + ": " + tc.status().message());
    }
    return t;
  }
  t.readable = true;
  auto rows = std::make_shared<std::vector<uint32_t>>();
  rows->reserve(tc->row_index().size());
  for (const auto& e : tc->row_index()) rows->push_back(e.row_id);
  std::sort(rows->begin(), rows->end());
  rows->erase(std::unique(rows->begin(), rows->end()), rows->end());
  t.rows = std::move(rows);
  if (shared) rows_[key] = t.rows;
  return t;
}


void FolderChecker::check_folder(const NodeRecord& folder) {
  const ndb::Nid f = folder.entry.nid;
  const uint32_t index = ndb::nid_index(f);
  // MS-PST 2.4.4: a folder's tables share its nidIndex.
  const ndb::Nid hierarchy = ndb::make_nid(ndb::kNidTypeHierarchyTable, index);
  const ndb::Nid contents = ndb::make_nid(ndb::kNidTypeContentsTable, index);
  const ndb::Nid assoc = ndb::make_nid(ndb::kNidTypeAssocContentsTable, index);
  const std::pair<ndb::Nid, const char*> tables[] = {
      {hierarchy, "hierarchy"}, {contents, "contents"}, {assoc, "FAI contents"}};
  FolderTable read[3];
  for (int i = 0; i < 3; ++i) {
    read[i] = read_table(tables[i].first);
    if (!read[i].present) {
      c_.add(Issue::kFolderTable, "NBT", folder.page, f,
             "folder " + hex(f) + " has no " + tables[i].second + " table (node " + hex(tables[i].first) + ")");
    }
  }
  check_rows(f, hierarchy, read[0], 0, Issue::kFolderHierarchy);
  check_rows(f, contents, read[1], ndb::kNidTypeNormalMessage, Issue::kFolderContents);
  check_rows(f, assoc, read[2], ndb::kNidTypeAssocMessage, Issue::kFolderContents);

  // The other direction: every child the NBT gives this folder is listed.
  for (size_t k = children_.lower_bound(f, [](const Child& c, ndb::Nid p) { return c.parent < p; });
       k < children_.size(); ++k) {
    const Child kid = children_.get(k);
    if (kid.parent != f) break;
    const ndb::Nid child = kid.nid;
    const uint8_t t = ndb::nid_type(child);
    const FolderTable* table = is_folder(child)                       ? &read[0]
                               : t == ndb::kNidTypeNormalMessage ? &read[1]
                               : t == ndb::kNidTypeAssocMessage  ? &read[2]
                                                                  : nullptr;
    if (table == nullptr || !table->readable || table->lists(child)) continue;
    c_.add(Issue::kFolderUnlisted, "NBT entry", kNone, child,
           "node " + hex(child) + " has parent folder " + hex(f) + " but is not in its " +
               (table == &read[0] ? "hierarchy" : table == &read[1] ? "contents" : "FAI contents") + " table");
  }
}

// child_type 0: any folder (hierarchy table).
void FolderChecker::check_rows(ndb::Nid folder, ndb::Nid table_nid, const FolderTable& t, uint8_t child_type,
                               Issue issue) {
  if (!t.readable) return;
  for (uint32_t id : *t.rows) {
    const std::string at = "table " + hex(table_nid) + " of folder " + hex(folder) + ": row " + hex(id);
    const bool type_ok = child_type == 0 ? is_folder(id) : ndb::nid_type(id) == child_type;
    if (!type_ok) {
      c_.add(issue, "TC", kNone, table_nid, at + " has the wrong NID type for this table");
      continue;
    }
    const std::optional<NodeRecord> n = c_.find_node(id);
    if (!n) {
      c_.add(issue, "TC", kNone, table_nid, at + " names a node that is not in the NBT");
    } else if (n->entry.parent_nid != folder) {
      c_.add(issue, "TC", kNone, table_nid, at + " names a node whose parent is " + hex(n->entry.parent_nid));
    }
  }
}

}  // namespace

void check_folders(Context& c) {
  if (!c.nbt_complete) {
    c.add(Issue::kCheckLimit, "NBT", kNone, kNone,
          "part of the NBT is unreadable: required nodes, parents and folder tables are not checked");
    return;
  }
  check_required(c);
  check_parents(c);
  FolderChecker folders(c);
  folders.run();
  if (!folders.spill_status().is_ok()) c.spill_failed = folders.spill_status();
}

}  // namespace pstkit::check
