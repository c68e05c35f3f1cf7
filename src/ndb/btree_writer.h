// A B-tree (NBT or BBT) loaded page by page into memory, modified there and
// written back copy-on-write (MS-PST 2.6: pages are never changed in place).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "ndb/page.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {

// Reads and parses one page of the tree (through the database's cache).
using PageLoader = std::function<Result<BTreePage>(uint8_t type, const Bref& ref)>;
// Places a serialised page: allocates its location and BID, writes it, and
// returns the new reference.
using PageWriter = std::function<Result<Bref>(uint8_t type, Bytes page)>;
// Called for every page location that the new tree no longer uses.
using PageReleaser = std::function<void(const Bref& old)>;
// Whether the page at `old` already holds exactly `page` (serialised, not yet
// sealed): then the changed page keeps its place instead of being written
// again (optional).
using PageKeeper = std::function<bool(uint8_t type, const Bytes& page, const Bref& old)>;

class BTreeWriter {
 public:
  // Lookups load pages into memory; pages nothing changed are dropped
  // again whenever more than max_clean_pages are loaded, so that a long
  // transaction of lookups (the rebuild's fix stage looks up every node and
  // block) does not hold the whole tree. Changed pages stay until commit.
  static constexpr size_t kDefaultMaxCleanPages = 2048;
  BTreeWriter(const Header& h, uint8_t type, Bref root, PageLoader loader,
              size_t max_clean_pages = kDefaultMaxCleanPages);
  ~BTreeWriter();
  BTreeWriter(BTreeWriter&&) noexcept;
  BTreeWriter& operator=(BTreeWriter&&) noexcept;

  uint8_t type() const { return type_; }
  Bref root() const { return root_ref_; }
  bool dirty() const;
  // Pages held in memory now (changed ones and those lookups loaded).
  size_t loaded_pages() const { return loaded_pages_; }

  // Lookups see uncommitted changes.
  Result<std::optional<NodeEntry>> find_node(Nid nid);
  Result<std::optional<BlockEntry>> find_block(Bid bid);
  Status for_each_node(const std::function<bool(const NodeEntry&)>& visit);
  Status for_each_block(const std::function<bool(const BlockEntry&)>& visit);

  // Insert or replace by key.
  Status put_node(const NodeEntry& e);
  Status put_block(const BlockEntry& e);
  // Removes the entry; not_found when absent.
  Status erase(uint64_t key);

  // Writes every changed page (children before parents), releases the pages
  // they replace, and returns the new root. Afterwards the tree is clean and
  // drops its loaded pages so that memory stays flat. A page that changes
  // came back to what is on disk (a reference count raised and lowered
  // again in one transaction, as a data tree rewritten around shared blocks
  // does) keeps its place when `keep` says the disk holds it already: without
  // that, every commit rewrote a page per shared block, and a folder's
  // contents table made each commit cost more as the folder grew.
  Result<Bref> commit(const PageWriter& write, const PageReleaser& release, const PageKeeper& keep = {});
  // Forgets uncommitted changes.
  void rollback(Bref committed_root);

  struct MemPage;

 private:
  Result<MemPage*> root_page();
  Result<MemPage*> child(MemPage* p, size_t i);
  Result<MemPage*> leaf_for(uint64_t key, std::vector<std::pair<MemPage*, size_t>>* path);
  Status insert_entry(uint64_t key, const std::function<void(MemPage*, size_t, bool)>& store);
  void split_upwards(std::vector<std::pair<MemPage*, size_t>>& path, MemPage* leaf);
  Status visit_all(MemPage* p, const std::function<bool(MemPage*)>& on_leaf, bool& stop);
  Result<Bref> write_page(MemPage* p, const PageWriter& write, const PageReleaser& release, const PageKeeper& keep);
  Bytes serialise(const MemPage* p, Bref placeholder) const;
  std::unique_ptr<MemPage> load(const Bref& ref, BTreePage&& page);
  // Drops loaded pages that hold no change (with everything under them:
  // changes mark every page on their path) once over max_clean_pages_.
  void trim_clean_pages();
  size_t drop_clean_children(MemPage* p);

  Header h_;
  uint8_t type_;
  Bref root_ref_;
  PageLoader loader_;
  std::unique_ptr<MemPage> root_;
  size_t max_clean_pages_;
  size_t loaded_pages_ = 0;  // pages under root_, root_ included (recounted at each trim)
  size_t pages_after_trim_ = 0;
  // for_each_* calls in progress: their visitors may look up (the same
  // tree), which must not drop the page being walked.
  int walks_ = 0;
  // Pages that left the tree (emptied or collapsed): freed at commit.
  std::vector<Bref> dropped_;
};

// Serialises a BTPAGE with the trailer for location ref (MS-PST 2.2.2.7.7.1).
Bytes serialise_btree_page(const Header& h, uint8_t type, uint8_t level, const std::vector<BTreeBranchEntry>& branches,
                           const std::vector<NodeEntry>& nodes, const std::vector<BlockEntry>& blocks,
                           const Bref& ref);
// Fills in a page trailer (type, signature, CRC, BID) for a page at ref.
void seal_page(const Header& h, uint8_t type, Bytes& page, const Bref& ref, bool with_signature);
// Maximum entries per page for a tree level (cEntMax).
size_t btree_capacity(const Header& h, uint8_t type, uint8_t level);

}  // namespace pstkit::ndb
