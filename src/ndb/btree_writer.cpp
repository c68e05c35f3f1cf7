#include "ndb/btree_writer.h"

#include <algorithm>

namespace pstkit::ndb {

struct BTreeWriter::MemPage {
  uint8_t level = 0;
  Bref disk;           // where the page was read from (ib 0: never written)
  size_t disk_entries = 0;  // entries it had there (a page whose count changed did change)
  bool dirty = false;
  std::vector<BTreeBranchEntry> branches;
  std::vector<std::unique_ptr<MemPage>> children;  // parallel to branches, loaded lazily
  std::vector<NodeEntry> nodes;
  std::vector<BlockEntry> blocks;

  size_t size() const { return level > 0 ? branches.size() : (nodes.empty() ? blocks.size() : nodes.size()); }
  uint64_t first_key() const {
    if (level > 0) return branches.empty() ? 0 : branches[0].key;
    if (!nodes.empty()) return nodes[0].nid;
    return blocks.empty() ? 0 : bid_key(blocks[0].bid);
  }
};

size_t btree_capacity(const Header& h, uint8_t type, uint8_t level) {
  const bool ansi = h.format == FileFormat::kAnsi;
  const size_t body = ansi ? 496 : 488;
  size_t entry;
  if (level > 0) {
    entry = ansi ? 12 : 24;
  } else if (type == kPageNbt) {
    entry = ansi ? 16 : 32;
  } else {
    entry = ansi ? 12 : 24;
  }
  return body / entry;
}

void seal_page(const Header& h, uint8_t type, Bytes& page, const Bref& ref, bool with_signature) {
  const size_t at = h.page_size - h.page_trailer_size;
  page[at] = type;
  page[at + 1] = type;
  store_le16(page.data() + at + 2, with_signature ? compute_signature(ref.ib, ref.bid) : 0);
  const uint32_t crc = compute_crc(page.data(), at);
  if (h.format == FileFormat::kAnsi) {
    store_le32(page.data() + at + 4, uint32_t(ref.bid));
    store_le32(page.data() + at + 8, crc);
  } else {
    store_le32(page.data() + at + 4, crc);
    store_le64(page.data() + at + 8, ref.bid);
  }
}

Bytes serialise_btree_page(const Header& h, uint8_t type, uint8_t level, const std::vector<BTreeBranchEntry>& branches,
                           const std::vector<NodeEntry>& nodes, const std::vector<BlockEntry>& blocks,
                           const Bref& ref) {
  const bool ansi = h.format == FileFormat::kAnsi;
  Bytes p(h.page_size, 0);
  size_t entry_size, count;
  uint8_t* d = p.data();
  if (level > 0) {
    entry_size = ansi ? 12 : 24;
    count = branches.size();
    for (size_t i = 0; i < count; ++i) {
      uint8_t* e = d + i * entry_size;
      const auto& b = branches[i];
      if (ansi) {
        store_le32(e, uint32_t(b.key));
        store_le32(e + 4, uint32_t(b.child.bid));
        store_le32(e + 8, uint32_t(b.child.ib));
      } else {
        store_le64(e, b.key);
        store_le64(e + 8, b.child.bid);
        store_le64(e + 16, b.child.ib);
      }
    }
  } else if (type == kPageNbt) {
    entry_size = ansi ? 16 : 32;
    count = nodes.size();
    for (size_t i = 0; i < count; ++i) {
      uint8_t* e = d + i * entry_size;
      const auto& n = nodes[i];
      if (ansi) {
        store_le32(e, n.nid);
        store_le32(e + 4, uint32_t(n.data_bid));
        store_le32(e + 8, uint32_t(n.subnode_bid));
        store_le32(e + 12, n.parent_nid);
      } else {
        store_le64(e, n.nid);
        store_le64(e + 8, n.data_bid);
        store_le64(e + 16, n.subnode_bid);
        store_le32(e + 24, n.parent_nid);
      }
    }
  } else {
    entry_size = ansi ? 12 : 24;
    count = blocks.size();
    for (size_t i = 0; i < count; ++i) {
      uint8_t* e = d + i * entry_size;
      const auto& b = blocks[i];
      if (ansi) {
        store_le32(e, uint32_t(b.bid));
        store_le32(e + 4, uint32_t(b.offset));
        store_le16(e + 8, uint16_t(b.stored_size));
        store_le16(e + 10, b.ref_count);
      } else {
        store_le64(e, b.bid);
        store_le64(e + 8, b.offset);
        store_le16(e + 16, uint16_t(b.stored_size));
        store_le16(e + 18, b.ref_count);
      }
    }
  }
  const size_t footer = ansi ? 496 : 488;
  p[footer] = uint8_t(count);
  p[footer + 1] = uint8_t(btree_capacity(h, type, level));
  p[footer + 2] = uint8_t(entry_size);
  p[footer + 3] = level;
  if (ref.ib != 0) seal_page(h, type, p, ref, true);
  return p;
}

BTreeWriter::BTreeWriter(const Header& h, uint8_t type, Bref root, PageLoader loader, size_t max_clean_pages)
    : h_(h), type_(type), root_ref_(root), loader_(std::move(loader)), max_clean_pages_(max_clean_pages) {}
BTreeWriter::~BTreeWriter() = default;
BTreeWriter::BTreeWriter(BTreeWriter&&) noexcept = default;
BTreeWriter& BTreeWriter::operator=(BTreeWriter&&) noexcept = default;

bool BTreeWriter::dirty() const { return root_ && root_->dirty; }

namespace {

std::unique_ptr<BTreeWriter::MemPage> from_disk(BTreePage&& p, const Bref& ref) {
  auto m = std::make_unique<BTreeWriter::MemPage>();
  m->level = p.level;
  m->disk = ref;
  m->branches = std::move(p.branches);
  m->children.resize(m->branches.size());
  m->nodes = std::move(p.nodes);
  m->blocks = std::move(p.blocks);
  m->disk_entries = m->size();
  return m;
}

size_t count_pages(const BTreeWriter::MemPage* p) {
  size_t n = 1;
  for (const auto& c : p->children) {
    if (c) n += count_pages(c.get());
  }
  return n;
}

}  // namespace

std::unique_ptr<BTreeWriter::MemPage> BTreeWriter::load(const Bref& ref, BTreePage&& page) {
  ++loaded_pages_;
  return from_disk(std::move(page), ref);
}

size_t BTreeWriter::drop_clean_children(MemPage* p) {
  size_t dropped = 0;
  for (auto& c : p->children) {
    if (!c) continue;
    if (c->dirty) {
      dropped += drop_clean_children(c.get());
    } else {
      // A clean page and everything under it read the same from disk
      // (p->branches still names where).
      dropped += count_pages(c.get());
      c.reset();
    }
  }
  return dropped;
}

void BTreeWriter::trim_clean_pages() {
  // Measured from what was left by the last trim: changed pages, however
  // many, do not make every lookup walk them.
  if (!root_ || walks_ > 0 || loaded_pages_ <= pages_after_trim_ + max_clean_pages_) return;
  drop_clean_children(root_.get());
  loaded_pages_ = pages_after_trim_ = count_pages(root_.get());
}

Result<BTreeWriter::MemPage*> BTreeWriter::root_page() {
  if (!root_) {
    PSTKIT_ASSIGN_OR_RETURN(BTreePage p, loader_(type_, root_ref_));
    root_ = load(root_ref_, std::move(p));
  }
  return root_.get();
}

Result<BTreeWriter::MemPage*> BTreeWriter::child(MemPage* p, size_t i) {
  if (!p->children[i]) {
    PSTKIT_ASSIGN_OR_RETURN(BTreePage c, loader_(type_, p->branches[i].child));
    if (c.level + 1 != p->level) {
      return Status::corrupt(type_ == kPageNbt ? "NBT page" : "BBT page", p->branches[i].child.ib,
                             "level " + std::to_string(c.level) + " under level " + std::to_string(p->level));
    }
    p->children[i] = load(p->branches[i].child, std::move(c));
  }
  return p->children[i].get();
}

Result<BTreeWriter::MemPage*> BTreeWriter::leaf_for(uint64_t key, std::vector<std::pair<MemPage*, size_t>>* path) {
  PSTKIT_ASSIGN_OR_RETURN(MemPage * p, root_page());
  while (p->level > 0) {
    if (p->branches.empty()) return Status::corrupt("B-tree", p->disk.ib, "empty intermediate page");
    auto it = std::upper_bound(p->branches.begin(), p->branches.end(), key,
                               [](uint64_t k, const BTreeBranchEntry& e) { return k < e.key; });
    const size_t i = it == p->branches.begin() ? 0 : size_t(std::prev(it) - p->branches.begin());
    if (path) path->emplace_back(p, i);
    PSTKIT_ASSIGN_OR_RETURN(p, child(p, i));
  }
  return p;
}

Result<std::optional<NodeEntry>> BTreeWriter::find_node(Nid nid) {
  trim_clean_pages();
  PSTKIT_ASSIGN_OR_RETURN(MemPage * leaf, leaf_for(nid, nullptr));
  auto it = std::lower_bound(leaf->nodes.begin(), leaf->nodes.end(), nid,
                             [](const NodeEntry& e, uint64_t k) { return e.nid < k; });
  if (it == leaf->nodes.end() || it->nid != nid) return std::optional<NodeEntry>();
  return std::optional<NodeEntry>(*it);
}

Result<std::optional<BlockEntry>> BTreeWriter::find_block(Bid bid) {
  const uint64_t key = bid_key(bid);
  trim_clean_pages();
  PSTKIT_ASSIGN_OR_RETURN(MemPage * leaf, leaf_for(key, nullptr));
  auto it = std::lower_bound(leaf->blocks.begin(), leaf->blocks.end(), key,
                             [](const BlockEntry& e, uint64_t k) { return bid_key(e.bid) < k; });
  if (it == leaf->blocks.end() || bid_key(it->bid) != key) return std::optional<BlockEntry>();
  return std::optional<BlockEntry>(*it);
}

Status BTreeWriter::visit_all(MemPage* p, const std::function<bool(MemPage*)>& on_leaf, bool& stop) {
  if (stop) return Status::ok();
  if (p->level == 0) {
    if (!on_leaf(p)) stop = true;
    return Status::ok();
  }
  for (size_t i = 0; i < p->branches.size() && !stop; ++i) {
    PSTKIT_ASSIGN_OR_RETURN(MemPage * c, child(p, i));
    PSTKIT_RETURN_IF_ERROR(visit_all(c, on_leaf, stop));
    // A walk of the whole tree holds no more than its path and what
    // changed (visit may change nothing of this tree).
    // Only the outermost walk drops: an inner one (from a visitor) could
    // drop the page the outer one is on.
    if (walks_ == 1 && !c->dirty && loaded_pages_ > pages_after_trim_ + max_clean_pages_) {
      loaded_pages_ -= count_pages(c);
      p->children[i].reset();
    }
  }
  return Status::ok();
}

Status BTreeWriter::for_each_node(const std::function<bool(const NodeEntry&)>& visit) {
  PSTKIT_ASSIGN_OR_RETURN(MemPage * r, root_page());
  bool stop = false;
  ++walks_;
  struct EndWalk {
    int& walks;
    ~EndWalk() { --walks; }
  } end_walk{walks_};
  return visit_all(r, [&](MemPage* leaf) {
    for (const auto& e : leaf->nodes) {
      if (!visit(e)) return false;
    }
    return true;
  }, stop);
}

Status BTreeWriter::for_each_block(const std::function<bool(const BlockEntry&)>& visit) {
  PSTKIT_ASSIGN_OR_RETURN(MemPage * r, root_page());
  bool stop = false;
  ++walks_;
  struct EndWalk {
    int& walks;
    ~EndWalk() { --walks; }
  } end_walk{walks_};
  return visit_all(r, [&](MemPage* leaf) {
    for (const auto& e : leaf->blocks) {
      if (!visit(e)) return false;
    }
    return true;
  }, stop);
}

void BTreeWriter::split_upwards(std::vector<std::pair<MemPage*, size_t>>& path, MemPage* page) {
  // Split every page on the path that is over capacity, bottom up. Pages are
  // split in half; Outlook keeps pages below 90% full (MS-PST 2.6.1.2.1).
  while (page->size() > btree_capacity(h_, type_, page->level)) {
    auto right = std::make_unique<MemPage>();
    ++loaded_pages_;
    right->level = page->level;
    right->dirty = true;
    const size_t half = page->size() / 2;
    if (page->level > 0) {
      right->branches.assign(page->branches.begin() + long(half), page->branches.end());
      page->branches.resize(half);
      for (size_t i = half; i < page->children.size(); ++i) right->children.push_back(std::move(page->children[i]));
      page->children.resize(half);
    } else if (type_ == kPageNbt) {
      right->nodes.assign(page->nodes.begin() + long(half), page->nodes.end());
      page->nodes.resize(half);
    } else {
      right->blocks.assign(page->blocks.begin() + long(half), page->blocks.end());
      page->blocks.resize(half);
    }
    const uint64_t right_key = right->first_key();
    if (path.empty()) {
      // The root split: the tree grows a level.
      auto new_root = std::make_unique<MemPage>();
      ++loaded_pages_;
      new_root->level = uint8_t(page->level + 1);
      new_root->dirty = true;
      new_root->branches.push_back({page->first_key(), page->disk});
      new_root->branches.push_back({right_key, Bref{}});
      new_root->children.push_back(std::move(root_));
      new_root->children.push_back(std::move(right));
      root_ = std::move(new_root);
      return;
    }
    auto [parent, index] = path.back();
    path.pop_back();
    parent->branches.insert(parent->branches.begin() + long(index) + 1, {right_key, Bref{}});
    parent->children.insert(parent->children.begin() + long(index) + 1, std::move(right));
    page = parent;
  }
}

Status BTreeWriter::insert_entry(uint64_t key, const std::function<void(MemPage*, size_t, bool)>& store) {
  trim_clean_pages();
  std::vector<std::pair<MemPage*, size_t>> path;
  PSTKIT_ASSIGN_OR_RETURN(MemPage * leaf, leaf_for(key, &path));
  for (auto& [p, i] : path) p->dirty = true;
  leaf->dirty = true;
  size_t pos;
  bool exists;
  if (type_ == kPageNbt) {
    auto it = std::lower_bound(leaf->nodes.begin(), leaf->nodes.end(), key,
                               [](const NodeEntry& e, uint64_t k) { return e.nid < k; });
    pos = size_t(it - leaf->nodes.begin());
    exists = it != leaf->nodes.end() && it->nid == key;
  } else {
    auto it = std::lower_bound(leaf->blocks.begin(), leaf->blocks.end(), key,
                               [](const BlockEntry& e, uint64_t k) { return bid_key(e.bid) < k; });
    pos = size_t(it - leaf->blocks.begin());
    exists = it != leaf->blocks.end() && bid_key(it->bid) == key;
  }
  store(leaf, pos, exists);
  // A new smallest key lowers the branch keys on the path.
  for (auto& [p, i] : path) {
    if (key < p->branches[i].key) p->branches[i].key = key;
  }
  split_upwards(path, leaf);
  return Status::ok();
}

Status BTreeWriter::put_node(const NodeEntry& e) {
  return insert_entry(e.nid, [&](MemPage* leaf, size_t pos, bool exists) {
    if (exists) {
      leaf->nodes[pos] = e;
    } else {
      leaf->nodes.insert(leaf->nodes.begin() + long(pos), e);
    }
  });
}

Status BTreeWriter::put_block(const BlockEntry& e) {
  return insert_entry(bid_key(e.bid), [&](MemPage* leaf, size_t pos, bool exists) {
    if (exists) {
      leaf->blocks[pos] = e;
    } else {
      leaf->blocks.insert(leaf->blocks.begin() + long(pos), e);
    }
  });
}

Status BTreeWriter::erase(uint64_t key) {
  trim_clean_pages();
  std::vector<std::pair<MemPage*, size_t>> path;
  PSTKIT_ASSIGN_OR_RETURN(MemPage * leaf, leaf_for(key, &path));
  bool found = false;
  if (type_ == kPageNbt) {
    auto it = std::lower_bound(leaf->nodes.begin(), leaf->nodes.end(), key,
                               [](const NodeEntry& e, uint64_t k) { return e.nid < k; });
    if (it != leaf->nodes.end() && it->nid == key) {
      leaf->nodes.erase(it);
      found = true;
    }
  } else {
    auto it = std::lower_bound(leaf->blocks.begin(), leaf->blocks.end(), key,
                               [](const BlockEntry& e, uint64_t k) { return bid_key(e.bid) < k; });
    if (it != leaf->blocks.end() && bid_key(it->bid) == key) {
      leaf->blocks.erase(it);
      found = true;
    }
  }
  if (!found) return Status::not_found("key " + hex(key) + " is not in the B-tree");
  leaf->dirty = true;
  for (auto& [p, i] : path) p->dirty = true;
  // Remove emptied pages from their parents, then refresh the branch keys
  // so that each equals the first key of its child.
  MemPage* page = leaf;
  while (!path.empty()) {
    auto [parent, index] = path.back();
    path.pop_back();
    if (page->size() == 0) {
      if (page->disk.ib != 0) dropped_.push_back(page->disk);
      parent->branches.erase(parent->branches.begin() + long(index));
      parent->children.erase(parent->children.begin() + long(index));
    } else {
      parent->branches[index].key = page->first_key();
    }
    page = parent;
  }
  // A root with a single child is replaced by it; an empty tree keeps an
  // empty leaf root.
  while (root_->level > 0 && root_->branches.size() == 1) {
    PSTKIT_ASSIGN_OR_RETURN(MemPage * only, child(root_.get(), 0));
    (void)only;
    std::unique_ptr<MemPage> c = std::move(root_->children[0]);
    if (root_->disk.ib != 0) dropped_.push_back(root_->disk);
    c->dirty = true;
    root_ = std::move(c);
  }
  if (root_->level > 0 && root_->branches.empty()) {
    if (root_->disk.ib != 0) dropped_.push_back(root_->disk);
    root_ = std::make_unique<MemPage>();
    root_->dirty = true;
  }
  return Status::ok();
}

Result<Bref> BTreeWriter::write_page(MemPage* p, const PageWriter& write, const PageReleaser& release,
                                     const PageKeeper& keep) {
  if (!p->dirty) return p->disk;
  for (size_t i = 0; i < p->children.size(); ++i) {
    if (p->children[i] && p->children[i]->dirty) {
      PSTKIT_ASSIGN_OR_RETURN(p->branches[i].child, write_page(p->children[i].get(), write, release, keep));
    }
  }
  Bytes body = serialise_btree_page(h_, type_, p->level, p->branches, p->nodes, p->blocks, Bref{});
  // Only a page with as many entries as on disk can be unchanged: the
  // others are written without reading their old copy back.
  if (keep && p->disk.ib != 0 && p->size() == p->disk_entries && keep(type_, body, p->disk)) {
    p->dirty = false;
    return p->disk;
  }
  PSTKIT_ASSIGN_OR_RETURN(Bref ref, write(type_, std::move(body)));
  if (p->disk.ib != 0) release(p->disk);
  p->disk = ref;
  p->disk_entries = p->size();
  p->dirty = false;
  return ref;
}

Result<Bref> BTreeWriter::commit(const PageWriter& write, const PageReleaser& release, const PageKeeper& keep) {
  if (!root_ || !root_->dirty) {
    root_.reset();
    loaded_pages_ = pages_after_trim_ = 0;
    return root_ref_;
  }
  PSTKIT_ASSIGN_OR_RETURN(root_ref_, write_page(root_.get(), write, release, keep));
  for (const Bref& d : dropped_) release(d);
  dropped_.clear();
  root_.reset();  // reload lazily: memory stays flat across commits
  loaded_pages_ = pages_after_trim_ = 0;
  return root_ref_;
}

void BTreeWriter::rollback(Bref committed_root) {
  root_.reset();
  loaded_pages_ = pages_after_trim_ = 0;
  dropped_.clear();
  root_ref_ = committed_root;
}

}  // namespace pstkit::ndb
