// A database indexed from what survives of the B-trees plus a scan of the
// whole file for intact blocks and NBT pages (see pstkit/ndb_salvage.h).
#include "pstkit/ndb_salvage.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "ndb/block_database.h"
#include "ndb/byte_source.h"
#include "ndb/page.h"

namespace pstkit::ndb {
namespace {

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();
constexpr size_t kScanChunk = size_t{4} << 20;
constexpr int kMaxTreeDepth = 16;

// [lo, hi) of NIDs under a B-tree page the walk could not read.
struct KeyRange {
  uint64_t lo = 0;
  uint64_t hi = kNoLimit;
  bool contains(uint64_t k) const { return k >= lo && k < hi; }
};

class SalvagedDatabase final : public BlockDatabase {
 public:
  SalvagedDatabase(std::unique_ptr<ByteSource> src, Header h, const Options& o, std::vector<NodeEntry> nodes,
                    std::vector<BlockEntry> blocks)
      : BlockDatabase(std::move(src), h, o), nodes_(std::move(nodes)), blocks_(std::move(blocks)) {}

  Result<NodeEntry> find_node(Nid nid) const override {
    auto it = std::lower_bound(nodes_.begin(), nodes_.end(), nid,
                               [](const NodeEntry& e, Nid k) { return e.nid < k; });
    if (it == nodes_.end() || it->nid != nid) return Status::not_found("node " + hex(nid) + " was not salvaged");
    return *it;
  }

  Result<BlockEntry> find_block(Bid bid) const override {
    const Bid key = bid_key(bid);
    auto it = std::lower_bound(blocks_.begin(), blocks_.end(), key,
                               [](const BlockEntry& e, Bid k) { return bid_key(e.bid) < k; });
    if (it == blocks_.end() || bid_key(it->bid) != key) {
      return Status::not_found("block " + hex(bid) + " was not salvaged");
    }
    return *it;
  }

  Status for_each_node(const std::function<bool(const NodeEntry&)>& visit) const override {
    for (const auto& e : nodes_) {
      if (!visit(e)) break;
    }
    return Status::ok();
  }

  Status for_each_block(const std::function<bool(const BlockEntry&)>& visit) const override {
    for (const auto& e : blocks_) {
      if (!visit(e)) break;
    }
    return Status::ok();
  }

 private:
  std::vector<NodeEntry> nodes_;    // sorted by nid
  std::vector<BlockEntry> blocks_;  // sorted by bid_key
};

// Walks one B-tree, keeping every entry of every readable leaf and the key
// range of every subtree it could not read.
class TolerantWalk {
 public:
  TolerantWalk(const Header& h, const ByteSource& src, uint8_t type, SalvageReport& report)
      : h_(h), src_(src), type_(type), report_(report) {}

  void run(const Bref& root) { walk(root, -1, KeyRange{}, 0); }

  std::vector<NodeEntry> nodes;
  std::vector<BlockEntry> blocks;
  std::vector<KeyRange> lost;

 private:
  void fail(const KeyRange& range, const std::string& why) {
    lost.push_back(range);
    report_.tree_errors.push_back(why);
  }

  void walk(const Bref& ref, int expected_level, const KeyRange& range, int depth) {
    const char* name = type_ == kPageNbt ? "NBT page" : "BBT page";
    if (depth > kMaxTreeDepth) return fail(range, std::string(name) + ": tree deeper than 16 levels");
    if (!seen_.insert(ref.ib).second) {
      return fail(range, Status::corrupt(name, ref.ib, "page is reachable twice (cycle)").message());
    }
    if (ref.ib % 512 != 0 || ref.ib > src_.size() || h_.page_size > src_.size() - ref.ib) {
      return fail(range, Status::corrupt(name, ref.ib, "page offset is outside the file or misaligned").message());
    }
    Bytes raw(h_.page_size);
    if (Status s = src_.read(ref.ib, raw.size(), raw.data()); !s.is_ok()) return fail(range, s.message());
    auto page = parse_btree_page(h_, raw, ref.ib, type_, ref.bid);
    if (!page) return fail(range, page.status().message());
    if (expected_level >= 0 && page->level != expected_level) {
      return fail(range, Status::corrupt(name, ref.ib,
                                         "level " + std::to_string(page->level) + ", expected " +
                                             std::to_string(expected_level))
                             .message());
    }
    if (page->level == 0) {
      nodes.insert(nodes.end(), page->nodes.begin(), page->nodes.end());
      blocks.insert(blocks.end(), page->blocks.begin(), page->blocks.end());
      return;
    }
    const auto& b = page->branches;
    for (size_t i = 0; i < b.size(); ++i) {
      const KeyRange child{b[i].key, i + 1 < b.size() ? b[i + 1].key : range.hi};
      walk(b[i].child, page->level - 1, child, depth + 1);
    }
  }

  const Header& h_;
  const ByteSource& src_;
  uint8_t type_;
  SalvageReport& report_;
  std::unordered_set<uint64_t> seen_;
};

// What the linear scan finds.
struct ScanFindings {
  // Intact blocks by bid_key: the first copy found, replaced by the copy at
  // the BBT's offset when there is one (see merge_blocks).
  std::unordered_map<Bid, std::vector<BlockEntry>> blocks;
  // Newest NBT leaf entry per NID, with the BID of the page it came from.
  std::unordered_map<Nid, std::pair<Bid, NodeEntry>> nodes;
  // Newest BBT leaf reference count per block.
  std::unordered_map<Bid, std::pair<Bid, uint16_t>> ref_counts;
};

// Scans the file for intact blocks (MS-PST 2.2.2.8.1: a trailer whose
// signature matches its offset and BID, and whose CRC matches the data) and
// intact B-tree leaf pages (2.2.2.7.1). Reads the file once, in chunks.
Status scan_file(const Header& h, const ByteSource& src, ScanFindings& out, SalvageReport& report) {
  const uint64_t size = src.size();
  const uint64_t overlap = std::max<uint64_t>(h.max_block_size, h.page_size);
  const uint32_t max_data = h.max_block_size - h.block_trailer_size;
  Bytes window;
  for (uint64_t chunk = 0; chunk < size; chunk += kScanChunk) {
    const uint64_t begin = chunk > overlap ? chunk - overlap : 0;
    const uint64_t end = std::min<uint64_t>(size, chunk + kScanChunk);
    window.resize(end - begin);
    PSTKIT_RETURN_IF_ERROR(src.read(begin, window.size(), window.data()));
    const ByteView view(window);
    // Every block and page ends on a block_align boundary.
    uint64_t first_end = (chunk / h.block_align + 1) * h.block_align;
    for (uint64_t e = first_end; e <= end; e += h.block_align) {
      const ByteView trailer = view.sub(e - h.block_trailer_size - begin, h.block_trailer_size);
      const BlockTrailer t = read_block_trailer(h, trailer);
      if (t.bid != 0 && t.cb <= max_data) {
        const uint64_t disk = block_disk_size(h, t.cb);
        if (disk <= e - begin && e - disk >= 512 && compute_signature(e - disk, t.bid) == t.signature &&
            compute_crc(view.data() + (e - disk - begin), t.cb) == t.crc) {
          BlockEntry b;
          b.bid = t.bid;
          b.offset = e - disk;
          b.stored_size = t.cb;
          b.inflated_size = h.format == FileFormat::kUnicode4k && t.inflated_size != 0 ? t.inflated_size : t.cb;
          b.ref_count = 1;
          out.blocks[bid_key(t.bid)].push_back(b);
        }
      }
      if (e % h.page_size != 0 || e - begin < h.page_size) continue;
      const uint64_t p = e - h.page_size;
      const ByteView page = view.sub(p - begin, h.page_size);
      const PageTrailer pt = read_page_trailer(h, page);
      if (pt.ptype != pt.ptype_repeat || (pt.ptype != kPageNbt && pt.ptype != kPageBbt)) continue;
      auto parsed = parse_btree_page(h, page, p, pt.ptype, pt.bid);
      if (!parsed || parsed->level != 0) continue;
      const Bid page_bid = bid_key(pt.bid);
      if (pt.ptype == kPageNbt) {
        ++report.nbt_pages_found;
        for (const auto& n : parsed->nodes) {
          auto [it, fresh] = out.nodes.try_emplace(n.nid, page_bid, n);
          if (!fresh && it->second.first < page_bid) it->second = {page_bid, n};
        }
      } else {
        for (const auto& b : parsed->blocks) {
          auto [it, fresh] = out.ref_counts.try_emplace(bid_key(b.bid), page_bid, b.ref_count);
          if (!fresh && it->second.first < page_bid) it->second = {page_bid, b.ref_count};
        }
      }
    }
  }
  report.bytes_scanned = size;
  return Status::ok();
}

// The block index: each BBT entry whose block is intact where it says, else
// an intact copy found elsewhere, else the entry as it is (reading it then
// fails with the block's own error); plus every intact block the BBT lacks.
std::vector<BlockEntry> merge_blocks(const std::vector<BlockEntry>& tree, ScanFindings& scan,
                                     SalvageReport& report) {
  std::vector<BlockEntry> out;
  out.reserve(std::max(tree.size(), scan.blocks.size()));
  std::unordered_set<Bid> done;
  for (const BlockEntry& e : tree) {
    const Bid key = bid_key(e.bid);
    if (!done.insert(key).second) continue;
    auto it = scan.blocks.find(key);
    if (it == scan.blocks.end()) {
      ++report.damaged_blocks;
      out.push_back(e);
      continue;
    }
    const auto& copies = it->second;
    auto same = std::find_if(copies.begin(), copies.end(), [&](const BlockEntry& c) { return c.offset == e.offset; });
    BlockEntry chosen = same != copies.end() ? *same : copies.front();
    chosen.ref_count = e.ref_count;
    if (same != copies.end()) {
      ++report.blocks_from_tree;
    } else {
      ++report.blocks_from_scan;
    }
    out.push_back(chosen);
  }
  for (auto& [key, copies] : scan.blocks) {
    if (done.count(key)) continue;
    BlockEntry chosen = copies.front();
    if (auto rc = scan.ref_counts.find(key); rc != scan.ref_counts.end()) chosen.ref_count = rc->second.second;
    ++report.blocks_from_scan;
    out.push_back(chosen);
  }
  std::sort(out.begin(), out.end(), [](const BlockEntry& a, const BlockEntry& b) { return bid_key(a.bid) < bid_key(b.bid); });
  return out;
}

std::vector<NodeEntry> merge_nodes(const TolerantWalk& tree, const ScanFindings& scan, const SalvageOptions& options,
                                   SalvageReport& report) {
  std::vector<NodeEntry> out;
  std::unordered_set<Nid> have;
  for (const NodeEntry& n : tree.nodes) {
    if (have.insert(n.nid).second) out.push_back(n);
  }
  report.nodes_from_tree = out.size();
  for (const auto& [nid, entry] : scan.nodes) {
    if (have.count(nid)) continue;
    const bool lost = std::any_of(tree.lost.begin(), tree.lost.end(), [&](const KeyRange& r) { return r.contains(nid); });
    if (!lost && !options.include_deleted) continue;
    out.push_back(entry.second);
    ++report.nodes_from_scan;
  }
  std::sort(out.begin(), out.end(), [](const NodeEntry& a, const NodeEntry& b) { return a.nid < b.nid; });
  return out;
}

Result<std::unique_ptr<Database>> open_salvaged_source(std::unique_ptr<ByteSource> src, const Options& options,
                                                        const SalvageOptions& recovery, SalvageReport* report_out) {
  const uint64_t size = src->size();
  Bytes head(std::min<uint64_t>(size, 4096));
  PSTKIT_RETURN_IF_ERROR(src->read(0, head.size(), head.data()));
  PSTKIT_ASSIGN_OR_RETURN(Header h, parse_header(head, size));
  SalvageReport report;
  TolerantWalk nbt(h, *src, kPageNbt, report);
  nbt.run(h.nbt_root);
  TolerantWalk bbt(h, *src, kPageBbt, report);
  bbt.run(h.bbt_root);
  ScanFindings scan;
  PSTKIT_RETURN_IF_ERROR(scan_file(h, *src, scan, report));
  std::vector<BlockEntry> blocks = merge_blocks(bbt.blocks, scan, report);
  std::vector<NodeEntry> nodes = merge_nodes(nbt, scan, recovery, report);
  if (report_out) *report_out = std::move(report);
  return std::unique_ptr<Database>(
      std::make_unique<SalvagedDatabase>(std::move(src), h, options, std::move(nodes), std::move(blocks)));
}

}  // namespace

Result<std::unique_ptr<Database>> open_salvaged(const std::string& path, const Options& options,
                                                 const SalvageOptions& recovery, SalvageReport* report) {
  PSTKIT_ASSIGN_OR_RETURN(auto src, open_file_source(path));
  return open_salvaged_source(std::move(src), options, recovery, report);
}

Result<std::unique_ptr<Database>> open_salvaged_memory(Bytes image, const Options& options,
                                                        const SalvageOptions& recovery, SalvageReport* report) {
  return open_salvaged_source(make_memory_source(std::move(image)), options, recovery, report);
}

}  // namespace pstkit::ndb
