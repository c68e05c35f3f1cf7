// A database that reads through what survives of the B-trees and fills the
// gaps from a scan of the whole file for intact blocks and NBT pages (see
// pstkit/ndb_salvage.h). Only what the B-trees cannot give is held in
// memory: entries under unreadable pages, intact copies of blocks whose
// BBT copy is damaged, and (on request) deleted nodes and their blocks.
#include "pstkit/ndb_salvage.h"

#include <algorithm>
#include <map>
#include <type_traits>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "ndb/block_database.h"
#include "ndb/btree_reader.h"
#include "ndb/byte_source.h"
#include "ndb/index_status.h"
#include "ndb/journal.h"
#include "ndb/page.h"
#include "util/spill_array.h"

namespace pstkit::ndb {
namespace {

constexpr size_t kScanChunk = size_t{4} << 20;

bool in_any(const std::vector<KeyRange>& ranges, uint64_t key) {
  return std::any_of(ranges.begin(), ranges.end(), [key](const KeyRange& r) { return r.contains(key); });
}

bool by_nid(const NodeEntry& a, const NodeEntry& b) { return a.nid < b.nid; }
bool by_bid(const BlockEntry& a, const BlockEntry& b) { return bid_key(a.bid) < bid_key(b.bid); }

// Calls visit on the entries of the tree's readable leaves and on extras,
// merged in key order (extras never repeat a key the tree has).
template <typename Entry, typename Key, typename Get>
void merge_visit(const BTreeReader& trees, uint8_t type, size_t extra_count, Get extra, Key key,
                 const std::function<bool(const Entry&)>& visit) {
  size_t x = 0;
  bool stop = false;
  auto emit = [&](const Entry& e) {
    if (!stop && !visit(e)) stop = true;
  };
  trees.walk_tolerant(
      type,
      [&](const BTreePage& page) {
        auto leaf = [&](const auto& entries) {
          for (const auto& e : entries) {
            while (x < extra_count && key(extra(x)) < key(e)) emit(extra(x++));
            emit(e);
          }
        };
        if constexpr (std::is_same_v<Entry, NodeEntry>) {
          leaf(page.nodes);
        } else {
          leaf(page.blocks);
        }
      },
      [](const KeyRange&, const Status&) {});
  while (x < extra_count) emit(extra(x++));
}

// One pass over [0, limit) of src as a file of h's format: on_block for
// every intact block (trailer signature and CRC hold; data is its stored
// bytes), on_page for every intact NBT page and, with bbt_pages, BBT page.
// A block or page whose CRC fails by a single flipped bit is passed on
// corrected, with fix saying what was undone (null when it was intact).
// on_crc_failed (optional) gets the NBT pages whose trailer (type,
// signature) holds but whose CRC fails beyond correction: their entries are
// worth checking one by one.
// Memory: one window of kScanChunk bytes.
using ScanBlock = std::function<void(const BlockEntry&, ByteView, const BitFix*)>;
using ScanPage = std::function<void(const BTreePage&, const BitFix*)>;
Status scan_file(const ByteSource& src, const Header& h, uint64_t limit, bool bbt_pages, const ScanBlock& on_block,
                 const ScanPage& on_page, const std::function<void(const BTreePage&)>& on_crc_failed = nullptr) {
  const uint64_t size = std::min(limit, src.size());
  const uint64_t overlap = std::max<uint64_t>(h.max_block_size, h.page_size);
  const uint32_t max_data = h.max_block_size - h.block_trailer_size;
  Bytes window, fixed;
  // Correcting costs 8 steps per byte tried. A real damaged block or page is
  // tried once, so the bytes tried stay below the file's size; a crafted
  // file of trailers that all fail could otherwise make the scan quadratic.
  uint64_t correction_budget = size + (uint64_t{1} << 20);
  auto may_correct = [&](uint64_t bytes) {
    if (bytes > correction_budget) return false;
    correction_budget -= bytes;
    return true;
  };
  for (uint64_t chunk = 0; chunk < size; chunk += kScanChunk) {
    const uint64_t begin = chunk > overlap ? chunk - overlap : 0;
    const uint64_t end = std::min<uint64_t>(size, chunk + kScanChunk);
    window.resize(end - begin);
    PSTKIT_RETURN_IF_ERROR(src.read(begin, window.size(), window.data()));
    const ByteView view(window);
    for (uint64_t e = (chunk / h.block_align + 1) * h.block_align; e <= end; e += h.block_align) {
      if (e - begin < h.block_trailer_size) continue;
      const BlockTrailer t = read_block_trailer(h, view.sub(e - h.block_trailer_size - begin, h.block_trailer_size));
      if (t.bid != 0 && t.cb <= max_data) {
        const uint64_t disk = block_disk_size(h, t.cb);
        if (disk <= e - begin && e - disk >= 512 && compute_signature(e - disk, t.bid) == t.signature) {
          BlockEntry b;
          b.bid = t.bid;
          b.offset = e - disk;
          b.stored_size = t.cb;
          b.inflated_size = h.format == FileFormat::kUnicode4k && t.inflated_size != 0 ? t.inflated_size : t.cb;
          b.ref_count = 1;
          const uint8_t* at = view.data() + (e - disk - begin);
          if (compute_crc(at, t.cb) == t.crc) {
            on_block(b, view.sub(e - disk - begin, t.cb), nullptr);
          } else if (may_correct(t.cb)) {
            fixed.assign(at, at + disk);
            const BitFix fix = correct_block_bits(h, b, fixed.data(), fixed.size());
            if (fix.corrected) on_block(b, ByteView(fixed.data(), t.cb), &fix);
          }
        }
      }
      if (e % h.page_size != 0 || e - begin < h.page_size) continue;
      const uint64_t p = e - h.page_size;
      const ByteView page = view.sub(p - begin, h.page_size);
      const PageTrailer pt = read_page_trailer(h, page);
      if (pt.ptype != pt.ptype_repeat || (pt.ptype != kPageNbt && (!bbt_pages || pt.ptype != kPageBbt))) continue;
      auto parsed = parse_btree_page(h, page, p, pt.ptype, pt.bid);
      if (parsed) {
        on_page(*parsed, nullptr);
        continue;
      }
      if (page_crc(h, page) == pt.crc) continue;
      if (pt.signature == compute_signature(p, pt.bid) && may_correct(h.page_size)) {
        // The BID is the trailer's own (no parent names it): only the CRC
        // can correct anything here.
        fixed.assign(page.data(), page.data() + h.page_size);
        const BitFix fix = correct_page_bits(h, fixed.data(), p, pt.ptype, 0);
        if (fix.corrected) {
          if (auto again = parse_btree_page(h, ByteView(fixed.data(), h.page_size), p, pt.ptype, pt.bid)) {
            on_page(*again, &fix);
            continue;
          }
        }
      }
      if (on_crc_failed && pt.ptype == kPageNbt) {
        auto tolerant = parse_btree_page(h, page, p, pt.ptype, pt.bid, PageCheck{false});
        if (tolerant) on_crc_failed(*tolerant);
      }
    }
  }
  return Status::ok();
}

// Salvage's last resort for a block no intact copy of which exists: the
// copy e names, with one flipped bit undone (correct_block_bits).
Result<Bytes> read_block_correcting(const Header& h, const ByteSource& src, const BlockEntry& e) {
  const uint32_t max_data = h.max_block_size - h.block_trailer_size;
  const uint64_t disk = block_disk_size(h, e.stored_size);
  if (e.stored_size > max_data || e.offset > src.size() || disk > src.size() - e.offset) {
    return Status::corrupt("block", e.offset, "block " + hex(e.bid) + " does not fit in the file");
  }
  Bytes raw(disk);
  PSTKIT_RETURN_IF_ERROR(src.read(e.offset, raw.size(), raw.data()));
  const BitFix fix = correct_block_bits(h, e, raw.data(), raw.size());
  if (!fix.corrected) {
    return Status::corrupt("block", e.offset, "block " + hex(e.bid) + " is damaged beyond a single flipped bit");
  }
  return decode_block(h, e, ByteView(raw), true);
}

class SalvagedDatabase final : public BlockDatabase, public SpilledIndex {
 public:
  // roots_inferred: the header was inferred, so its roots are a guess (the
  // newest pages no other page names) and may name an old or partial tree.
  SalvagedDatabase(std::unique_ptr<ByteSource> src, Header h, const Options& o, bool roots_inferred)
      : BlockDatabase(std::move(src), h, o), trees_(*src_, header_, /*correct_bit_errors=*/true),
        roots_inferred_(roots_inferred) {}

  Status build(const SalvageOptions& options, SalvageReport& report);

  Result<NodeEntry> find_node(Nid nid) const override {
    if (!in_any(lost_nodes_, nid)) {
      auto r = trees_.find_node(nid);
      if (r || extra_nodes_.empty()) return r;
    }
    std::lock_guard<std::mutex> lock(index_mu_);
    const size_t i = extra_nodes_.lower_bound(nid, [](const NodeEntry& e, Nid k) { return e.nid < k; });
    if (i == extra_nodes_.size()) return Status::not_found("node " + hex(nid) + " was not salvaged");
    const NodeEntry e = extra_nodes_.get(i);
    if (e.nid != nid) return Status::not_found("node " + hex(nid) + " was not salvaged");
    return e;
  }

  Result<BlockEntry> find_block(Bid bid) const override {
    if (!in_any(lost_blocks_, bid_key(bid))) {
      auto r = trees_.find_block(bid);
      if (r || (extra_blocks_.empty() && loose_blocks_.empty())) return r;
    }
    BlockEntry probe;
    probe.bid = bid;
    {
      std::lock_guard<std::mutex> lock(index_mu_);
      const size_t i =
          extra_blocks_.lower_bound(bid_key(bid), [](const BlockEntry& e, Bid k) { return bid_key(e.bid) < k; });
      if (i < extra_blocks_.size()) {
        const BlockEntry e = extra_blocks_.get(i);
        if (bid_key(e.bid) == bid_key(bid)) return e;
      }
    }
    // An intact block the BBT does not name, asked for by a node entry that
    // only a scanned page gave (the BBT page that named it is damaged or
    // newer than the guessed root).
    const auto it = std::lower_bound(loose_blocks_.begin(), loose_blocks_.end(), probe, by_bid);
    if (it != loose_blocks_.end() && bid_key(it->bid) == bid_key(bid)) return *it;
    return Status::not_found("block " + hex(bid) + " was not salvaged");
  }

  bool index_may_be_incomplete() const override { return guess_partial_ || !lost_nodes_.empty(); }

  Status index_status() const override {
    std::lock_guard<std::mutex> lock(index_mu_);
    if (!extra_nodes_.status().is_ok()) return extra_nodes_.status();
    return extra_blocks_.status();
  }

  // Unlike the B-tree database, these step over unreadable pages: what is
  // under them comes from the salvaged entries.
  Status for_each_node(const std::function<bool(const NodeEntry&)>& visit) const override {
    merge_visit<NodeEntry>(
        trees_, kPageNbt, extra_nodes_.size(),
        [this](size_t i) {
          std::lock_guard<std::mutex> lock(index_mu_);
          return extra_nodes_.get(i);
        },
        [](const NodeEntry& e) { return e.nid; }, visit);
    return Status::ok();
  }

  Status for_each_block(const std::function<bool(const BlockEntry&)>& visit) const override {
    merge_visit<BlockEntry>(
        trees_, kPageBbt, extra_blocks_.size(),
        [this](size_t i) {
          std::lock_guard<std::mutex> lock(index_mu_);
          return extra_blocks_.get(i);
        },
        [](const BlockEntry& e) { return bid_key(e.bid); }, visit);
    return Status::ok();
  }

 protected:
  // A block whose copy at the BBT's offset is damaged is read from another
  // intact copy with the same BID, if the scan found one.
  Result<Bytes> load_block(Bid bid) const override {
    auto r = BlockDatabase::load_block(bid);
    if (r) return r;
    BlockEntry probe;
    probe.bid = bid;
    for (auto it = std::lower_bound(alternates_.begin(), alternates_.end(), probe, by_bid);
         it != alternates_.end() && bid_key(it->bid) == bid_key(bid); ++it) {
      auto alt = read_block_from(header_, *src_, *it, options_.verify_block_crc);
      if (alt) return alt;
    }
    // No intact copy: one whose single flipped bit the CRC locates.
    if (auto own = find_block(bid)) {
      if (auto fixed = read_block_correcting(header_, *src_, *own)) return fixed;
    }
    for (auto it = std::lower_bound(alternates_.begin(), alternates_.end(), probe, by_bid);
         it != alternates_.end() && bid_key(it->bid) == bid_key(bid); ++it) {
      if (auto fixed = read_block_correcting(header_, *src_, *it)) return fixed;
    }
    return r;
  }

 private:
  // An NBT entry found by the scan, with the page that holds it.
  struct NodeCandidate {
    Bid page_bid = 0;
    bool page_intact = true;  // false: the page's CRC fails (entries checked one by one)
    NodeEntry entry;
  };
  // The key span of an intact scanned NBT leaf page: a NID inside it that it
  // does not list was deleted by the time the page was written.
  struct PageSpan {
    Bid bid = 0;
    uint64_t first = 0, last = 0;
  };
  Status scan(const SalvageOptions& options, SalvageReport& report, SpillArray<NodeCandidate>& candidates,
              std::vector<PageSpan>& spans);
  bool wanted_from_scan(const SalvageOptions& options, Nid nid) const;
  bool entry_is_sane(const NodeEntry& e) const;
  void choose_nodes(const SalvageOptions& options, SpillArray<NodeCandidate>& candidates,
                    std::vector<PageSpan>& spans);

  BTreeReader trees_;
  std::vector<KeyRange> lost_nodes_;      // NID ranges under unreadable NBT pages
  std::vector<KeyRange> lost_blocks_;     // BID ranges under unreadable BBT pages
  // One entry a node and a block when the trees are lost: kept within a
  // constant memory budget, the rest in a temporary file. Lookups may come
  // from several threads; the arrays' page caches are not thread-safe.
  mutable std::mutex index_mu_;
  SpillArray<NodeEntry> extra_nodes_;    // sorted by nid
  SpillArray<BlockEntry> extra_blocks_;  // sorted by bid_key
  std::vector<BlockEntry> alternates_;    // sorted by bid_key; other copies of BBT blocks
  // Sorted by bid_key: intact blocks no BBT entry names, kept only when the
  // trees are damaged or guessed (find_block's last resort, never listed).
  std::vector<BlockEntry> loose_blocks_;
  bool roots_inferred_ = false;
  bool guess_partial_ = false;  // roots_inferred_, and the guessed trees disagree
  std::map<uint64_t, SalvageReport::BitCorrection> corrections_;  // by offset, for the report
};

// Whether the scan's entries for nid are wanted: under an unreadable NBT
// page; or, when deleted nodes are asked for or the roots are a guess, any
// NID the tree does not have.
bool SalvagedDatabase::wanted_from_scan(const SalvageOptions& options, Nid nid) const {
  if (in_any(lost_nodes_, nid)) return true;
  return (options.include_deleted || guess_partial_) && !trees_.find_node(nid);
}

// An entry of a page whose CRC fails is used only if it reads as a real one
// (MS-PST 2.2.2.7.7.4 NBTENTRY): a NID of a node type (not a HID), a data
// block and (when nonzero) a subnode block that the BBT or the scan knows,
// and a parent that is none or a folder (MS-PST 2.4.1).
bool SalvagedDatabase::entry_is_sane(const NodeEntry& e) const {
  if (nid_type(e.nid) == kNidTypeHid || nid_index(e.nid) == 0) return false;
  if (e.parent_nid != 0 && nid_type(e.parent_nid) != kNidTypeNormalFolder &&
      nid_type(e.parent_nid) != kNidTypeSearchFolder) {
    return false;
  }
  if (e.data_bid == 0 || !find_block(e.data_bid)) return false;
  return e.subnode_bid == 0 || find_block(e.subnode_bid).is_ok();
}

// One pass over the file. A block is intact when its trailer's signature
// matches its offset and BID and its CRC matches its data (MS-PST 2.2.2.8.1,
// 5.3, 5.5); a B-tree page when its trailer does (2.2.2.7.1). Blocks and
// pages both end on a block_align boundary.
Status SalvagedDatabase::scan(const SalvageOptions& options, SalvageReport& report,
                              SpillArray<NodeCandidate>& candidates, std::vector<PageSpan>& spans) {
  const bool keep_loose = roots_inferred_ || !lost_nodes_.empty() || !lost_blocks_.empty();
  std::vector<BlockEntry> guessed_tree_lacks;
  // A corrected block or page is counted only when it is used.
  auto corrected = [&](const char* structure, Bid bid, uint64_t offset, const BitFix* fix) {
    if (fix) corrections_.try_emplace(offset, SalvageReport::BitCorrection{structure, bid, offset, fix->what});
  };
  auto on_block = [&](const BlockEntry& b, ByteView, const BitFix* fix) {
    const Bid key = bid_key(b.bid);
    if (in_any(lost_blocks_, key)) {
      extra_blocks_.push_back(b);
    } else if (auto known = trees_.find_block(key)) {
      if (known->offset == b.offset) {
        ++report.blocks_from_tree;
      } else {
        alternates_.push_back(b);
      }
    } else if (known.status().code() != Code::kNotFound || options.include_deleted) {
      extra_blocks_.push_back(b);
    } else if (guess_partial_) {
      guessed_tree_lacks.push_back(b);
    } else {
      ++report.unreferenced_blocks;
      if (keep_loose) loose_blocks_.push_back(b);
      return;
    }
    corrected("block", b.bid, b.offset, fix);
  };
  auto add_page = [&](const BTreePage& page, bool intact) {
    if (page.level != 0) return;
    const Bid page_bid = bid_key(page.trailer.bid);
    if (intact && !page.nodes.empty()) spans.push_back({page_bid, page.nodes.front().nid, page.nodes.back().nid});
    for (const auto& n : page.nodes) {
      if (wanted_from_scan(options, n.nid)) candidates.push_back({page_bid, intact, n});
    }
  };
  std::vector<PageSpan> bbt_spans;
  std::vector<std::pair<Bid, Bid>> bbt_listed;  // (block, BBT page listing it), guessed roots only
  auto on_page = [&](const BTreePage& page, const BitFix* fix) {
    if (page.level != 0) return;
    if (page.trailer.ptype == kPageBbt) {
      if (!page.blocks.empty()) {
        bbt_spans.push_back({bid_key(page.trailer.bid), bid_key(page.blocks.front().bid), bid_key(page.blocks.back().bid)});
        for (const BlockEntry& b : page.blocks) bbt_listed.emplace_back(bid_key(b.bid), bid_key(page.trailer.bid));
      }
      return;
    }
    ++report.nbt_pages_found;
    corrected("NBT page", page.trailer.bid, page.offset, fix);
    add_page(page, true);
  };
  auto on_crc_failed = [&](const BTreePage& page) {
    if (page.level != 0) return;
    ++report.nbt_pages_crc_failed;
    add_page(page, false);
  };
  PSTKIT_RETURN_IF_ERROR(scan_file(*src_, header_, src_->size(), guess_partial_, on_block, on_page, on_crc_failed));
  report.bytes_scanned = src_->size();
  // With guessed roots, an intact block the guessed BBT lacks is live unless
  // a BBT leaf spans its BID without listing it: BIDs only grow, so such a
  // page was written after the block, which had been freed by then.
  std::sort(bbt_listed.begin(), bbt_listed.end());
  for (const BlockEntry& b : guessed_tree_lacks) {
    const Bid key = bid_key(b.bid);
    Bid newest_listing = 0;
    for (auto it = std::lower_bound(bbt_listed.begin(), bbt_listed.end(), std::make_pair(key, Bid{0}));
         it != bbt_listed.end() && it->first == key; ++it) {
      newest_listing = std::max(newest_listing, it->second);
    }
    const bool freed = std::any_of(bbt_spans.begin(), bbt_spans.end(), [&](const PageSpan& p) {
      return p.bid > newest_listing && p.first <= key && key <= p.last;
    });
    if (!freed) {
      extra_blocks_.push_back(b);
    } else {
      ++report.unreferenced_blocks;
      loose_blocks_.push_back(b);
    }
  }
  return Status::ok();
}

// For each NID the newest entry (by page BID) whose blocks can be found;
// failing that, the newest from an intact page (reading it will name what
// is missing). Entries of pages whose CRC fails count only when sane. Unless
// deleted nodes are asked for, an entry is dropped when a newer intact page
// spans its NID without listing it: the node was deleted since.
void SalvagedDatabase::choose_nodes(const SalvageOptions& options, SpillArray<NodeCandidate>& candidates,
                                    std::vector<PageSpan>& spans) {
  // Stable: the key is total but for duplicates of one entry, which agree.
  candidates.stable_sort([](const NodeCandidate& a, const NodeCandidate& b) {
    if (a.entry.nid != b.entry.nid) return a.entry.nid < b.entry.nid;
    if (a.page_bid != b.page_bid) return a.page_bid > b.page_bid;
    return a.page_intact > b.page_intact;
  });
  std::sort(spans.begin(), spans.end(), [](const PageSpan& a, const PageSpan& b) { return a.bid > b.bid; });
  // One NID's candidates at a time (a few: one per scanned page listing it).
  std::vector<NodeCandidate> group;
  for (size_t i = 0; i < candidates.size();) {
    group.clear();
    const Nid nid = candidates.get(i).entry.nid;
    for (; i < candidates.size(); ++i) {
      const NodeCandidate c = candidates.get(i);
      if (c.entry.nid != nid) break;
      group.push_back(c);
    }
    const NodeCandidate* chosen = nullptr;
    for (size_t k = 0; k < group.size() && !chosen; ++k) {
      if (entry_is_sane(group[k].entry)) chosen = &group[k];
    }
    for (size_t k = 0; k < group.size() && !chosen; ++k) {
      if (group[k].page_intact) chosen = &group[k];
    }
    if (chosen && !options.include_deleted) {
      for (const PageSpan& span : spans) {
        if (span.bid <= chosen->page_bid) break;
        if (span.first > nid || span.last < nid) continue;
        const bool lists = std::any_of(group.begin(), group.end(),
                                       [&](const NodeCandidate& c) { return c.page_bid == span.bid; });
        if (!lists) {
          chosen = nullptr;
          break;
        }
      }
    }
    if (chosen) extra_nodes_.push_back(chosen->entry);
  }
}

Status SalvagedDatabase::build(const SalvageOptions& options, SalvageReport& report) {
  trees_.walk_tolerant(
      kPageNbt, [&](const BTreePage& p) { report.nodes_from_tree += p.nodes.size(); },
      [&](const KeyRange& r, const Status& why) {
        lost_nodes_.push_back(r);
        report.tree_errors.push_back(why.message());
      });
  size_t bbt_entries = 0;
  trees_.walk_tolerant(
      kPageBbt, [&](const BTreePage& p) { bbt_entries += p.blocks.size(); },
      [&](const KeyRange& r, const Status& why) {
        lost_blocks_.push_back(r);
        report.tree_errors.push_back(why.message());
      });

  // Guessed roots name the last commit's trees when the newest root pages
  // survived (a zeroed header): then the trees agree, and what they lack was
  // freed. They name an older or partial tree when the newest pages are gone
  // (a file cut short): then nodes name blocks the BBT does not have, or the
  // NBT lacks the message store or root folder every store has (MS-PST 2.4.1).
  if (roots_inferred_) {
    bool consistent = lost_nodes_.empty() && lost_blocks_.empty() && trees_.find_node(kNidMessageStore).is_ok() &&
                      trees_.find_node(kNidRootFolder).is_ok();
    if (consistent) {
      trees_.walk_tolerant(
          kPageNbt,
          [&](const BTreePage& p) {
            for (const NodeEntry& n : p.nodes) {
              if (consistent && n.data_bid != 0 && !trees_.find_block(n.data_bid)) consistent = false;
            }
          },
          [](const KeyRange&, const Status&) {});
    }
    guess_partial_ = !consistent;
  }

  SpillArray<NodeCandidate> candidates;
  std::vector<PageSpan> spans;
  PSTKIT_RETURN_IF_ERROR(scan(options, report, candidates, spans));
  PSTKIT_RETURN_IF_ERROR(candidates.status());

  // Blocks: one copy per BID (blocks are immutable, so copies agree). The
  // index is kept for the whole rebuild: the capacity the scan's growth
  // left over (up to as much again) is given back.
  auto one_per_bid = [](std::vector<BlockEntry>& v) {
    std::stable_sort(v.begin(), v.end(), by_bid);
    v.erase(std::unique(v.begin(), v.end(),
                        [](const BlockEntry& a, const BlockEntry& b) { return bid_key(a.bid) == bid_key(b.bid); }),
            v.end());
    v.shrink_to_fit();
  };
  {
    // Usually in order already: blocks are written in BID order.
    extra_blocks_.stable_sort(by_bid);
    size_t kept = 0;
    for (size_t i = 0; i < extra_blocks_.size(); ++i) {
      const BlockEntry e = extra_blocks_.get(i);
      if (kept > 0 && bid_key(extra_blocks_.get(kept - 1).bid) == bid_key(e.bid)) continue;
      if (kept != i) extra_blocks_.set(kept, e);
      ++kept;
    }
    extra_blocks_.truncate(kept);
  }
  one_per_bid(loose_blocks_);
  report.blocks_from_scan = extra_blocks_.size();

  // Nodes (after the blocks: an entry is judged by whether its blocks exist).
  choose_nodes(options, candidates, spans);
  candidates.clear();
  extra_nodes_.stable_sort(by_nid);
  report.nodes_from_scan = extra_nodes_.size();
  PSTKIT_RETURN_IF_ERROR(extra_blocks_.status());
  PSTKIT_RETURN_IF_ERROR(extra_nodes_.status());

  // Keep an alternate copy only where the BBT's own copy is damaged.
  std::stable_sort(alternates_.begin(), alternates_.end(), by_bid);
  std::vector<BlockEntry> needed;
  for (size_t i = 0; i < alternates_.size();) {
    size_t j = i;
    while (j < alternates_.size() && bid_key(alternates_[j].bid) == bid_key(alternates_[i].bid)) ++j;
    auto own = trees_.find_block(alternates_[i].bid);
    if (own && !read_block_from(header_, *src_, *own, true)) {
      needed.insert(needed.end(), alternates_.begin() + long(i), alternates_.begin() + long(j));
      ++report.blocks_relocated;
    }
    i = j;
  }
  alternates_ = std::move(needed);
  const size_t intact = report.blocks_from_tree + report.blocks_relocated;
  report.damaged_blocks = bbt_entries > intact ? bbt_entries - intact : 0;

  for (const auto& [offset, page] : trees_.corrected_pages()) {
    corrections_.try_emplace(offset, SalvageReport::BitCorrection{page.type == kPageNbt ? "NBT page" : "BBT page",
                                                                  page.bid, offset, page.what});
  }
  for (const auto& [offset, c] : corrections_) {
    ++(c.structure == "block" ? report.blocks_corrected : report.pages_corrected);
    report.corrections.push_back(c);
  }
  corrections_.clear();
  return Status::ok();
}

Result<std::unique_ptr<Database>> open_with_header(std::unique_ptr<ByteSource> src, const Header& h,
                                                   const Options& options, const SalvageOptions& salvage,
                                                   SalvageReport* report_out, bool roots_inferred = false) {
  auto db = std::make_unique<SalvagedDatabase>(std::move(src), h, options, roots_inferred);
  SalvageReport report;
  PSTKIT_RETURN_IF_ERROR(db->build(salvage, report));
  if (report_out) *report_out = std::move(report);
  return std::unique_ptr<Database>(std::move(db));
}

Result<std::unique_ptr<Database>> open_salvaged_source(std::unique_ptr<ByteSource> src, const Options& options,
                                                       const SalvageOptions& salvage, SalvageReport* report_out) {
  PSTKIT_ASSIGN_OR_RETURN(Header h, read_header(*src));
  return open_with_header(std::move(src), h, options, salvage, report_out);
}

// ---- a header inferred from the file

// The format is chosen on the first bytes of the file only: every intact
// structure agrees on it.
constexpr uint64_t kFormatProbeBytes = uint64_t{64} << 20;

// MS-PST 2.3.1.2: an HNHDR starts ibHnpm (2 bytes), bSig 0xEC, bClientSig.
bool looks_like_heap(const uint8_t* p) {
  return p[2] == 0xEC && (p[3] == 0x7C || p[3] == 0xB5 || p[3] == 0xBC);
}

Header header_of_format(FileFormat format) {
  Header h;
  h.format = format;
  set_format_sizes(h);
  h.ndb_version = format == FileFormat::kAnsi ? 14 : format == FileFormat::kUnicode ? 23 : 36;
  h.magic_client = format == FileFormat::kUnicode4k ? 0x4F53 : 0x4D53;
  h.crc_partial_ok = h.crc_full_ok = true;  // no stored CRC to disagree with
  return h;
}

// The newest page no other page names as a child: the root of the last
// committed tree (every commit writes a new root, MS-PST 2.6; Outlook gives
// it a lower BID than the pages under it, pstkit a higher one, but either
// way above every page of earlier commits). Page BIDs are compared whole:
// Outlook numbers pages consecutively, bit 0 included.
struct RootFinder {
  std::unordered_map<Bid, uint64_t> pages;  // BID -> offset
  std::unordered_set<Bid> children;
  void add(const BTreePage& p) {
    pages.emplace(p.trailer.bid, p.offset);
    for (const auto& b : p.branches) children.insert(b.child.bid);
  }
  Bref root() const {
    Bref best;
    for (const auto& [bid, offset] : pages) {
      if (!children.count(bid) && bid > best.bid) best = Bref{bid, offset};
    }
    return best;
  }
};

Result<Header> infer_header(const ByteSource& src, HeaderInference& inf) {
  // 1. The format under which the most intact blocks and pages are found.
  size_t best_score = 0;
  for (FileFormat f : {FileFormat::kUnicode, FileFormat::kAnsi, FileFormat::kUnicode4k}) {
    const Header h = header_of_format(f);
    size_t score = 0;
    PSTKIT_RETURN_IF_ERROR(scan_file(
        src, h, kFormatProbeBytes, true, [&](const BlockEntry&, ByteView, const BitFix*) { ++score; },
        [&](const BTreePage&, const BitFix*) { ++score; }));
    if (score > best_score) {
      best_score = score;
      inf.format = f;
    }
  }
  Header h = header_of_format(inf.format);
  if (best_score == 0) {
    // Nothing recognisable: an empty database (the roots name no page).
    h.file_eof = src.size();
    return h;
  }
  // 2. Over the whole file: the roots, and the encoding that turns the most
  // external blocks into heaps (MS-PST 5.1, 5.2; compressed OST blocks
  // are left out, their bytes are not the heap's).
  RootFinder nbt, bbt;
  size_t votes[3] = {0, 0, 0};
  Bid max_block_bid = 0, max_page_bid = 0;
  auto on_block = [&](const BlockEntry& b, ByteView data, const BitFix*) {
    ++inf.blocks_found;
    max_block_bid = std::max(max_block_bid, bid_key(b.bid));
    if (bid_is_internal(b.bid) || data.size() < 4 || b.inflated_size != b.stored_size) return;
    uint8_t head[4];
    std::copy(data.data(), data.data() + 4, head);
    if (looks_like_heap(head)) ++votes[0];
    uint8_t permuted[4];
    std::copy(head, head + 4, permuted);
    decode_permute(permuted, 4);
    if (looks_like_heap(permuted)) ++votes[1];
    uint8_t cyclic[4];
    std::copy(head, head + 4, cyclic);
    code_cyclic(cyclic, 4, uint32_t(b.bid));
    if (looks_like_heap(cyclic)) ++votes[2];
  };
  auto on_page = [&](const BTreePage& p, const BitFix*) {
    ++inf.pages_found;
    max_page_bid = std::max(max_page_bid, p.trailer.bid);
    (p.trailer.ptype == kPageNbt ? nbt : bbt).add(p);
    // MS-PST 2.2.2.6 rgnid: above every NID index in use, stale pages'
    // (deleted nodes) included.
    for (const NodeEntry& n : p.nodes) {
      uint32_t& hw = h.nid_high_water[nid_type(n.nid)];
      hw = std::max(hw, nid_index(n.nid));
    }
  };
  PSTKIT_RETURN_IF_ERROR(scan_file(src, h, src.size(), true, on_block, on_page));
  const size_t best = size_t(std::max_element(votes, votes + 3) - votes);
  h.crypt = CryptMethod(best);
  inf.crypt = h.crypt;
  inf.heap_blocks_decoded = votes[best];
  h.nbt_root = inf.nbt_root = nbt.root();
  h.bbt_root = inf.bbt_root = bbt.root();
  h.file_eof = src.size();
  h.bid_next_b = max_block_bid + 4;
  h.bid_next_p = max_page_bid + 1;
  return h;
}

Result<std::unique_ptr<Database>> open_inferring_source(std::unique_ptr<ByteSource> src, const Options& options,
                                                        const SalvageOptions& salvage, SalvageReport* report,
                                                        HeaderInference* inference_out) {
  HeaderInference inf;
  auto parsed = read_header(*src);
  Header h;
  if (parsed) {
    h = *parsed;
  } else {
    if (parsed.status().code() == Code::kIoError || parsed.status().code() == Code::kBusy) return parsed.status();
    inf.inferred = true;
    inf.header_error = parsed.status();
    PSTKIT_ASSIGN_OR_RETURN(h, infer_header(*src, inf));
  }
  if (inference_out) *inference_out = inf;
  return open_with_header(std::move(src), h, options, salvage, report, inf.inferred);
}

}  // namespace

Result<std::unique_ptr<Database>> open_salvaged(const std::string& path, const Options& options,
                                                const SalvageOptions& salvage, SalvageReport* report) {
  PSTKIT_ASSIGN_OR_RETURN(auto src, open_committed_file(path, options.lock_timeout));
  return open_salvaged_source(std::move(src), options, salvage, report);
}

Result<std::unique_ptr<Database>> open_salvaged_memory(Bytes image, const Options& options,
                                                       const SalvageOptions& salvage, SalvageReport* report) {
  return open_salvaged_source(make_memory_source(std::move(image)), options, salvage, report);
}

Result<std::unique_ptr<Database>> open_salvaged_inferring(const std::string& path, const Options& options,
                                                          const SalvageOptions& salvage, SalvageReport* report,
                                                          HeaderInference* inference) {
  PSTKIT_ASSIGN_OR_RETURN(auto src, open_committed_file(path, options.lock_timeout));
  return open_inferring_source(std::move(src), options, salvage, report, inference);
}

Result<std::unique_ptr<Database>> open_salvaged_inferring_memory(Bytes image, const Options& options,
                                                                 const SalvageOptions& salvage, SalvageReport* report,
                                                                 HeaderInference* inference) {
  return open_inferring_source(make_memory_source(std::move(image)), options, salvage, report, inference);
}

}  // namespace pstkit::ndb
