#include "ndb/btree_reader.h"

#include <algorithm>
#include <atomic>
#include <unordered_set>

namespace pstkit::ndb {
namespace {

constexpr size_t kPageCacheBytes = size_t{2} << 20;
constexpr int kMaxDepth = 16;

const char* page_name(uint8_t type) { return type == kPageNbt ? "NBT page" : "BBT page"; }
const char* tree_name(uint8_t type) { return type == kPageNbt ? "NBT" : "BBT"; }

Status level_mismatch(uint8_t type, uint64_t ib, int level, int expected) {
  return Status::corrupt(page_name(type), ib,
                         "level " + std::to_string(level) + ", expected " + std::to_string(expected));
}

uint64_t next_reader_id() {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

// The last leaf each tree's descent reached on this thread, with the keys
// that descent routes to it: [lo, hi) narrowed at every level by the
// branch taken and the next one. A key in that range takes the same
// branches through the same (immutable) pages, so the leaf is the answer
// without the descent, in a damaged tree as in a sound one. Lookups come in
// runs (a node's blocks, a folder's messages): most land in the last leaf,
// and skip a lock and a cache lookup per level.
struct LastLeaf {
  uint64_t reader = 0;  // BTreeReader::id_; 0: none
  Bref root;
  KeyRange range;
  std::shared_ptr<const BTreePage> page;
};
thread_local LastLeaf last_leaf[2];  // [0] NBT, [1] BBT

}  // namespace

BTreeReader::BTreeReader(const ByteSource& src, const Header& h, bool correct_bit_errors)
    : src_(src), header_(h), pages_(kPageCacheBytes), correct_bit_errors_(correct_bit_errors), id_(next_reader_id()) {}

std::map<uint64_t, BTreeReader::CorrectedPage> BTreeReader::corrected_pages() const {
  std::lock_guard lock(mu_);
  return corrected_pages_;
}

Result<BTreeReader::PagePtr> BTreeReader::read_page(uint8_t type, const Bref& ref) const {
  {
    std::lock_guard lock(mu_);
    if (auto hit = pages_.get(ref.ib)) {
      if (hit->trailer.ptype == type && bid_key(hit->trailer.bid) == bid_key(ref.bid)) return hit;
    }
  }
  if (ref.ib % 512 != 0 || ref.ib > src_.size() || header_.page_size > src_.size() - ref.ib) {
    return Status::corrupt(page_name(type), ref.ib, "page offset is outside the file or misaligned");
  }
  // Pages are parsed, not kept: read into a per-thread buffer reused from
  // page to page (no allocation or zero fill per page).
  thread_local Bytes raw;
  if (raw.size() < header_.page_size) raw.resize(header_.page_size);
  PSTKIT_RETURN_IF_ERROR(src_.read(ref.ib, header_.page_size, raw.data()));
  auto parsed = parse_btree_page(header_, ByteView(raw.data(), header_.page_size), ref.ib, type, ref.bid);
  BitFix fix;
  if (!parsed && correct_bit_errors_) {
    fix = correct_page_bits(header_, raw.data(), ref.ib, type, ref.bid);
    if (fix.corrected) {
      auto again = parse_btree_page(header_, ByteView(raw.data(), header_.page_size), ref.ib, type, ref.bid);
      if (again) parsed = std::move(again);
    }
  }
  if (!parsed) return parsed.status();
  auto shared = std::make_shared<const BTreePage>(std::move(*parsed));
  std::lock_guard lock(mu_);
  if (fix.corrected) corrected_pages_.emplace(ref.ib, CorrectedPage{type, ref.bid, fix.what});
  pages_.put(ref.ib, shared, shared_page_bytes(*shared));
  return PagePtr(shared);
}

// Descends to the leaf that would hold key (MS-PST 2.2.2.7.7: a branch
// entry's key is the smallest key of its subtree).
Result<const BTreePage*> BTreeReader::find_leaf(uint8_t type, Bref ref, uint64_t key) const {
  LastLeaf& last = last_leaf[type == kPageNbt ? 0 : 1];
  if (last.reader == id_ && last.root.ib == ref.ib && last.root.bid == ref.bid && last.range.contains(key)) {
    return last.page.get();
  }
  const Bref root = ref;
  KeyRange range;
  int expected_level = -1;
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    PSTKIT_ASSIGN_OR_RETURN(PagePtr p, read_page(type, ref));
    if (expected_level >= 0 && p->level != expected_level) {
      return level_mismatch(type, ref.ib, p->level, expected_level);
    }
    if (p->level == 0) {
      last = LastLeaf{id_, root, range, std::move(p)};
      return last.page.get();
    }
    const auto& b = p->branches;
    auto it = std::upper_bound(b.begin(), b.end(), key,
                               [](uint64_t k, const BTreeBranchEntry& e) { return k < e.key; });
    if (it == b.begin()) {
      return Status::not_found(std::string(type == kPageNbt ? "node " : "block ") + hex(key) + " is not in the " +
                               tree_name(type));
    }
    // Keys from this branch's key up to the next branch's come this way.
    range.lo = std::max(range.lo, std::prev(it)->key);
    if (it != b.end()) range.hi = std::min(range.hi, it->key);
    ref = std::prev(it)->child;
    expected_level = p->level - 1;
  }
  return Status::corrupt(tree_name(type), ref.ib, "tree is deeper than 16 levels");
}

Result<NodeEntry> BTreeReader::find_node(Nid nid) const {
  PSTKIT_ASSIGN_OR_RETURN(auto leaf, find_leaf(kPageNbt, header_.nbt_root, nid));
  const auto& v = leaf->nodes;
  auto it = std::lower_bound(v.begin(), v.end(), nid, [](const NodeEntry& e, Nid k) { return e.nid < k; });
  if (it == v.end() || it->nid != nid) return Status::not_found("node " + hex(nid) + " is not in the NBT");
  return *it;
}

Result<BlockEntry> BTreeReader::find_block(Bid bid) const {
  const Bid key = bid_key(bid);
  PSTKIT_ASSIGN_OR_RETURN(auto leaf, find_leaf(kPageBbt, header_.bbt_root, key));
  const auto& v = leaf->blocks;
  auto it = std::lower_bound(v.begin(), v.end(), key, [](const BlockEntry& e, Bid k) { return bid_key(e.bid) < k; });
  if (it == v.end() || bid_key(it->bid) != key) return Status::not_found("block " + hex(bid) + " is not in the BBT");
  return *it;
}

Status BTreeReader::walk(uint8_t type, const std::function<bool(const BTreePage&)>& on_leaf) const {
  std::unordered_set<uint64_t> seen;
  bool stop = false;
  std::function<Status(const Bref&, int)> visit = [&](const Bref& ref, int expected_level) -> Status {
    if (!seen.insert(ref.ib).second) return Status::corrupt(page_name(type), ref.ib, "page is reachable twice (cycle)");
    PSTKIT_ASSIGN_OR_RETURN(PagePtr p, read_page(type, ref));
    if (expected_level >= 0 && p->level != expected_level) return level_mismatch(type, ref.ib, p->level, expected_level);
    if (p->level == 0) {
      if (!on_leaf(*p)) stop = true;
      return Status::ok();
    }
    for (const auto& b : p->branches) {
      PSTKIT_RETURN_IF_ERROR(visit(b.child, p->level - 1));
      if (stop) break;
    }
    return Status::ok();
  };
  const Bref& root = type == kPageNbt ? header_.nbt_root : header_.bbt_root;
  return visit(root, -1);
}

void BTreeReader::walk_tolerant(uint8_t type, const std::function<void(const BTreePage&)>& on_leaf,
                                const std::function<void(const KeyRange&, const Status&)>& on_lost) const {
  std::unordered_set<uint64_t> seen;
  std::function<void(const Bref&, int, const KeyRange&, int)> visit = [&](const Bref& ref, int expected_level,
                                                                          const KeyRange& range, int depth) {
    if (depth > kMaxDepth) return on_lost(range, Status::corrupt(tree_name(type), ref.ib, "tree is deeper than 16 levels"));
    if (!seen.insert(ref.ib).second) {
      return on_lost(range, Status::corrupt(page_name(type), ref.ib, "page is reachable twice (cycle)"));
    }
    auto p = read_page(type, ref);
    if (!p) return on_lost(range, p.status());
    if (expected_level >= 0 && (*p)->level != expected_level) {
      return on_lost(range, level_mismatch(type, ref.ib, (*p)->level, expected_level));
    }
    if ((*p)->level == 0) return on_leaf(**p);
    const auto& b = (*p)->branches;
    for (size_t i = 0; i < b.size(); ++i) {
      visit(b[i].child, (*p)->level - 1, KeyRange{b[i].key, i + 1 < b.size() ? b[i + 1].key : range.hi}, depth + 1);
    }
  };
  visit(type == kPageNbt ? header_.nbt_root : header_.bbt_root, -1, KeyRange{}, 0);
}

}  // namespace pstkit::ndb
