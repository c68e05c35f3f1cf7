// MS-PST 2.2.2.7.7: the NBT and BBT, walked page by page. Each page's
// trailer is checked field by field and its entries are still used when
// only the trailer is damaged, so one flipped bit does not hide a subtree.
#include <algorithm>

#include "check/context.h"
#include "ndb/page.h"

namespace pstkit::check {

namespace {

class TreeWalker {
 public:
  TreeWalker(Context& c, uint8_t type)
      : c_(c), type_(type), name_(type == ndb::kPageNbt ? "NBT page" : "BBT page"),
        align_(c.header.format == ndb::FileFormat::kUnicode4k ? c.header.page_size : 512) {
    seen_.resize(size_t(c.file_size / align_ / 64 + 1));
  }

  // Returns false when part of the tree could not be read.
  bool walk(const ndb::Bref& root) {
    visit(root, -1, nullptr);
    if (!seen_.status().is_ok() && c_.spill_failed.is_ok()) c_.spill_failed = seen_.status();
    return complete_;
  }

 private:
  void visit(const ndb::Bref& ref, int expected_level, const uint64_t* branch_key);
  uint64_t first_key(const ndb::BTreePage& p) const;
  void check_leaf_order(const ndb::BTreePage& p);

  // Marks the page at aligned offset ib as reached; false if it was.
  bool mark_seen(uint64_t ib) {
    const uint64_t slot = ib / align_;
    const uint64_t bit = uint64_t{1} << (slot % 64);
    bool fresh = false;
    seen_.update(size_t(slot / 64), [&](uint64_t& word) {
      fresh = (word & bit) == 0;
      word |= bit;
    });
    return fresh;
  }

  Context& c_;
  uint8_t type_;
  const char* name_;
  const uint64_t align_;  // pages lie on multiples of it
  // The pages reached, a bit per place a page can start: 1/4096 of the
  // file size, in pages that exist only where a page was reached, and
  // bounded like the records (a hash set cost about 40 bytes a page).
  SpillArray<uint64_t> seen_;
  bool complete_ = true;
  bool have_last_ = false;
  uint64_t last_key_ = 0;
};

uint64_t TreeWalker::first_key(const ndb::BTreePage& p) const {
  if (p.level > 0) return p.branches.front().key;
  return type_ == ndb::kPageNbt ? uint64_t(p.nodes.front().nid) : p.blocks.front().bid;
}

// Leaf keys must ascend strictly across the whole tree (MS-PST 2.2.2.7.7.1);
// checking the in-order sequence covers both within and across pages.
void TreeWalker::check_leaf_order(const ndb::BTreePage& p) {
  const size_t n = type_ == ndb::kPageNbt ? p.nodes.size() : p.blocks.size();
  bool reported = false;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t key = type_ == ndb::kPageNbt ? uint64_t(p.nodes[i].nid) : ndb::bid_key(p.blocks[i].bid);
    if (have_last_ && key <= last_key_ && !reported) {
      c_.add(Issue::kBtreeOrder, name_, p.offset, key,
             std::string(type_ == ndb::kPageNbt ? "NID " : "BID ") + hex(key) + " (entry " + std::to_string(i) +
                 ") does not follow " + hex(last_key_));
      reported = true;  // one finding per page
    }
    if (!have_last_ || key > last_key_) last_key_ = key;
    have_last_ = true;
  }
}

void TreeWalker::visit(const ndb::Bref& ref, int expected_level, const uint64_t* branch_key) {
  const ndb::Header& h = c_.header;
  if (ref.ib % align_ != 0 || ref.ib > c_.file_size || h.page_size > c_.file_size - ref.ib) {
    c_.add(Issue::kPageOutOfFile, name_, ref.ib, ref.bid,
           "page at " + hex(ref.ib) + " is outside the file (" + std::to_string(c_.file_size) +
               " bytes) or not " + std::to_string(align_) + "-byte aligned");
    complete_ = false;
    return;
  }
  if (!mark_seen(ref.ib)) {
    c_.add(Issue::kBtreeCycle, name_, ref.ib, ref.bid, "page is reached twice");
    complete_ = false;
    return;
  }
  Bytes raw(h.page_size);
  if (Status s = c_.db.read_raw(ref.ib, raw.size(), raw.data()); !s.is_ok()) {
    c_.add(Issue::kPageOutOfFile, name_, ref.ib, ref.bid, s.message());
    complete_ = false;
    return;
  }
  ++c_.sink.report().counters.pages;
  c_.sink.report().counters.bytes += raw.size();

  // MS-PST 2.2.2.7.1 PAGETRAILER, field by field.
  const ndb::PageTrailer t = ndb::read_page_trailer(h, raw);
  c_.pages.push_back({ref.ib, type_, t.bid});
  if (t.ptype != type_ || t.ptype_repeat != type_) {
    // Not a page of this tree at all: its entries would be noise.
    c_.add(Issue::kPageType, name_, ref.ib, ref.bid,
           "ptype " + hex(t.ptype) + "/" + hex(t.ptype_repeat) + ", expected " + hex(type_));
    complete_ = false;
    return;
  }
  const uint32_t crc = ndb::page_crc(h, raw);
  if (crc != t.crc) {
    c_.add(Issue::kPageCrc, name_, ref.ib, ref.bid,
           "CRC " + hex(crc) + " does not match the trailer's " + hex(t.crc));
  }
  if (t.bid != ref.bid) {
    c_.add(Issue::kPageBid, name_, ref.ib, ref.bid,
           "trailer BID " + hex(t.bid) + " differs from the parent's BREF " + hex(ref.bid));
  }
  const uint16_t sig = ndb::compute_signature(ref.ib, t.bid);
  if (t.signature != sig) {
    c_.add(Issue::kPageSignature, name_, ref.ib, ref.bid,
           "wSig " + hex(t.signature) + ", expected " + hex(sig));
  }

  // Parse the entries from a copy whose signature is made consistent: the
  // trailer was judged above, the body is judged on its own.
  Bytes body = raw;
  const size_t sig_at = h.page_size - h.page_trailer_size + 2;
  store_le16(body.data() + sig_at, sig);
  ndb::PageCheck lenient;
  lenient.verify_crc = false;
  auto parsed = ndb::parse_btree_page(h, body, ref.ib, type_, t.bid, lenient);
  if (!parsed.is_ok()) {
    c_.add(Issue::kBtreeFormat, name_, ref.ib, ref.bid, parsed.status().detail());
    complete_ = false;
    return;
  }
  const ndb::BTreePage& p = *parsed;
  if (expected_level >= 0 && p.level != expected_level) {
    c_.add(Issue::kBtreeLevel, name_, ref.ib, ref.bid,
           "cLevel " + std::to_string(p.level) + ", expected " + std::to_string(expected_level));
    complete_ = false;
    return;
  }
  // rgentries: 496 bytes ANSI, 488 Unicode, 4056 in 4K pages (libpff).
  const size_t capacity = h.format == ndb::FileFormat::kAnsi      ? 496
                          : h.format == ndb::FileFormat::kUnicode ? 488
                                                                  : 4056;
  if (p.entry_count > p.entry_max || size_t(p.entry_max) * p.entry_size > capacity) {
    c_.add(Issue::kBtreeFormat, name_, ref.ib, ref.bid,
           "cEnt " + std::to_string(p.entry_count) + ", cEntMax " + std::to_string(p.entry_max) + ", cbEnt " +
               std::to_string(p.entry_size) + " do not fit the page");
  }
  if (p.entry_count == 0) {
    if (branch_key != nullptr || p.level > 0) {
      c_.add(Issue::kBtreeFormat, name_, ref.ib, ref.bid,
             p.level > 0 ? "intermediate page has no entries" : "leaf page below the root has no entries");
    }
    return;
  }
  if (branch_key != nullptr && first_key(p) != *branch_key) {
    c_.add(Issue::kBtreeBranchKey, name_, ref.ib, ref.bid,
           "first key " + hex(first_key(p)) + " differs from the parent's branch key " + hex(*branch_key));
  }

  if (p.level == 0) {
    check_leaf_order(p);
    for (const auto& e : p.nodes) c_.nodes.push_back({e, ref.ib});
    for (const auto& e : p.blocks) c_.blocks.push_back({e, false, BlockRecord::kNotExpanded, 0});
    return;
  }
  for (size_t i = 1; i < p.branches.size(); ++i) {
    if (p.branches[i].key <= p.branches[i - 1].key) {
      c_.add(Issue::kBtreeOrder, name_, ref.ib, p.branches[i].key,
             "branch key " + hex(p.branches[i].key) + " (entry " + std::to_string(i) + ") does not follow " +
                 hex(p.branches[i - 1].key));
      break;
    }
  }
  for (const auto& b : p.branches) visit(b.child, p.level - 1, &b.key);
}

}  // namespace

void check_btrees(Context& c) {
  c.nbt_complete = TreeWalker(c, ndb::kPageNbt).walk(c.header.nbt_root);
  c.bbt_complete = TreeWalker(c, ndb::kPageBbt).walk(c.header.bbt_root);
  // Sorted copies for lookups; order problems were reported above.
  c.nodes.stable_sort([](const NodeRecord& a, const NodeRecord& b) { return a.entry.nid < b.entry.nid; });
  c.blocks.stable_sort([](const BlockRecord& a, const BlockRecord& b) {
    return ndb::bid_key(a.entry.bid) < ndb::bid_key(b.entry.bid);
  });
  c.sink.report().counters.nodes = c.nodes.size();
}

}  // namespace pstkit::check
