// MS-PST 2.3: every node and subnode holding a Heap-on-Node is opened
// through the LTP layer and checked: the heap's page maps (2.3.1), its
// BTHs (2.3.2), a PC's values (2.3.3) or a TC's row index, row matrix and
// cells (2.3.4).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "check/context.h"
#include "pstkit/ltp.h"

namespace pstkit::check {

namespace {

// Subnodes nested deeper than this are not followed (embedded messages
// nest a few levels; cycles are caught separately).
constexpr int kMaxSubnodeDepth = 32;
// Cells read per table.
constexpr size_t kMaxRowsPerTable = 100000;
// Largest property value read while checking.
constexpr uint64_t kMaxValueBytes = uint64_t{16} << 20;
// The LTP pass decodes at most kBudgetFactor * file size + kBudgetBase bytes.
constexpr uint64_t kBudgetFactor = 16;
constexpr uint64_t kBudgetBase = uint64_t{256} << 20;

enum class Expect { kUnknown, kPc, kTc };

// What a node's NID type says its data is (MS-PST 2.2.2.1, 2.4).
Expect expected_content(ndb::Nid nid, bool top_level) {
  switch (ndb::nid_type(nid)) {
    case ndb::kNidTypeNormalFolder:
    case ndb::kNidTypeSearchFolder:
    case ndb::kNidTypeNormalMessage:
    case ndb::kNidTypeAssocMessage:
    case ndb::kNidTypeAttachment:
      return Expect::kPc;
    case ndb::kNidTypeHierarchyTable:
    case ndb::kNidTypeContentsTable:
    case ndb::kNidTypeAssocContentsTable:
    case ndb::kNidTypeSearchContentsTable:
    case ndb::kNidTypeAttachmentTable:
    case ndb::kNidTypeRecipientTable:
      return Expect::kTc;
    default:
      break;
  }
  if (top_level && (nid == ndb::kNidMessageStore || nid == ndb::kNidNameToIdMap)) return Expect::kPc;
  return Expect::kUnknown;
}

bool already_reported(const Status& s) { return s.structure() == kAlreadyReported; }

// What a node's check depends on: its blocks and what its NID type expects.
using Blocks = std::tuple<ndb::Bid, ndb::Bid, Expect>;

class LtpChecker {
 public:
  explicit LtpChecker(Context& c) : c_(c) {
    options_.format = c.header.format;
    options_.max_value_bytes = kMaxValueBytes;
    budget_ = c.decoded_bytes() + kBudgetFactor * c.file_size + kBudgetBase;
  }

  void run() {
    // Nodes naming the same blocks (copies) are checked once. Only nodes
    // that may share their blocks are remembered: a data (or, without
    // data, subnode) block that one reference alone names cannot be
    // another node's, since the reference pass counted every NBT entry's.
    std::map<Blocks, bool> checked;  // -> failed
    for (const NodeRecord& n : c_.nodes) {
      if (over_budget()) break;
      const ndb::NodeEntry& e = n.entry;
      std::map<Blocks, bool>::iterator it = checked.end();
      if (may_be_shared(e)) {
        bool fresh = false;
        std::tie(it, fresh) =
            checked.emplace(Blocks{e.data_bid, e.subnode_bid, expected_content(e.nid, true)}, false);
        if (!fresh) {
          if (it->second) c_.ltp_failed.insert(e.nid);
          continue;
        }
      }
      std::vector<ndb::Bid> path;
      // Subnodes shared within a node are checked once; across nodes the
      // set would grow with the file, and the decoding budget bounds the
      // work anyway.
      checked_subnodes_.clear();
      check_node(e.nid, e.nid, e.data_bid, e.subnode_bid, 0, path);
      if (it != checked.end()) it->second = c_.ltp_failed.count(e.nid) > 0;
    }
  }

 private:
  void check_node(ndb::Nid top, ndb::Nid nid, ndb::Bid data, ndb::Bid sub, int depth, std::vector<ndb::Bid>& path);
  void check_heap(ndb::Nid top, const std::shared_ptr<const ndb::Node>& node, const std::string& where,
                  uint64_t offset);
  void check_pc(const ltp::Heap& heap, const std::shared_ptr<const ndb::Node>& node, const std::string& where,
                uint64_t offset, bool& failed);
  void check_tc(const ltp::Heap& heap, const std::shared_ptr<const ndb::Node>& node, const std::string& where,
                uint64_t offset, bool& failed);
  void check_bth(const ltp::Heap& heap, ltp::Hid hid, const std::string& what, const std::string& where,
                 uint64_t offset);
  void add(Issue issue, const char* structure, uint64_t offset, ndb::Nid nid, const std::string& where,
           const Status& s) {
    if (already_reported(s)) return;
    c_.add(issue, structure, offset, nid, where + ": " + s.message());
  }

  bool may_be_shared(const ndb::NodeEntry& e) const {
    const ndb::Bid key = e.data_bid != 0 ? e.data_bid : e.subnode_bid;
    const std::optional<BlockRecord> r = key != 0 ? c_.find_block(key) : std::nullopt;
    return !r || r->references != 1;
  }

  // Reports once when the decoding budget is spent.
  bool over_budget() {
    if (c_.decoded_bytes() <= budget_) return false;
    if (!budget_reported_) {
      c_.add(Issue::kCheckLimit, "node", kNone, kNone,
             "heap and table checks stopped after decoding " + std::to_string(c_.decoded_bytes()) +
                 " bytes: the file's trees name the same blocks over and over");
      budget_reported_ = true;
    }
    return true;
  }

  Context& c_;
  ltp::Options options_;
  uint64_t budget_ = 0;
  bool budget_reported_ = false;
  // Subnodes of the current node already checked: same blocks and
  // expectation, same result.
  std::set<Blocks> checked_subnodes_;
};

namespace {

// True when node parses as a heap whose client structure (PC, TC or BTH)
// opens: what a subnode of unknown type must do to be checked as one.
bool plausible_heap(const std::shared_ptr<const ndb::Node>& node, const ltp::Options& options) {
  auto heap = ltp::Heap::open(node, options);
  if (!heap.is_ok()) return false;
  for (const ltp::HeapBlockInfo& b : heap->blocks()) {
    if (!b.status.is_ok()) return false;
  }
  switch (heap->client_signature()) {
    case ltp::kClientPropertyContext: return ltp::PropertyContext::open(node, options).is_ok();
    case ltp::kClientTableContext: return ltp::TableContext::open(node, options).is_ok();
    case ltp::kClientBth: return ltp::Bth::open(*heap, heap->user_root()).is_ok();
    default: return true;
  }
}

}  // namespace

void LtpChecker::check_node(ndb::Nid top, ndb::Nid nid, ndb::Bid data, ndb::Bid sub, int depth,
                            std::vector<ndb::Bid>& path) {
  const bool top_level = depth == 0;
  const std::string where = top_level ? "node " + hex(nid) : "node " + hex(top) + " subnode " + hex(nid);
  const std::optional<BlockRecord> first = data != 0 ? c_.find_block(data) : std::nullopt;
  const uint64_t offset = first ? uint64_t(first->entry.offset) : kNone;
  auto opened = open_checked_node(c_, nid, data, sub);
  if (!opened.is_ok()) {
    add(Issue::kNodeData, "node", offset, nid, where, opened.status());
    return;
  }
  std::shared_ptr<const ndb::Node> node(std::move(opened).value());

  // MS-PST 2.3.1.2: a heap's first block starts with ibHnpm, bSig 0xEC, bClientSig.
  const Expect expect = expected_content(nid, top_level);
  if (node->block_count() > 0) {
    auto b0 = node->block(0);
    if (!b0.is_ok()) {
      add(Issue::kNodeData, "node", offset, nid, where, b0.status());
    } else {
      const ByteView v(**b0);
      const bool heap_sig = v.size() >= 4 && v.u8(2) == ltp::kHeapSignature;
      const uint8_t client = v.size() >= 4 ? v.u8(3) : 0;
      const bool known_client = client == ltp::kClientPropertyContext || client == ltp::kClientTableContext ||
                                client == ltp::kClientBth || client == 0xAC;
      // Subnodes of unknown type hold property values: only a plausible
      // heap header makes them heaps.
      if (heap_sig && expect == Expect::kUnknown && known_client && !plausible_heap(node, options_)) {
        // A value blob (attachment data...) that merely starts like a heap
        // header: subnodes of unknown type are only checked as heaps when
        // they parse as one.
      } else if (heap_sig && (expect != Expect::kUnknown || known_client)) {
        check_heap(top, node, where, offset);
      } else if (expect != Expect::kUnknown) {
        c_.add(Issue::kHn, "HN", offset, nid,
               where + ": data is not a heap (bSig " + (v.size() >= 4 ? hex(v.u8(2)) : std::string("missing")) +
                   ") but its NID type requires a " + (expect == Expect::kPc ? "PC" : "TC"));
        if (top_level) c_.ltp_failed.insert(nid);
      }
    }
  } else if (expect != Expect::kUnknown && top_level) {
    c_.add(Issue::kHn, "HN", offset, nid, where + ": has no data but its NID type requires a heap");
    c_.ltp_failed.insert(nid);
  }

  if (sub == 0) return;
  if (depth >= kMaxSubnodeDepth) {
    c_.add(Issue::kCheckLimit, "node", offset, nid, where + ": subnodes nested deeper than " +
                                                       std::to_string(kMaxSubnodeDepth) + " levels not checked");
    return;
  }
  if (std::find(path.begin(), path.end(), ndb::bid_key(sub)) != path.end()) {
    c_.add(Issue::kSubnodeTree, "SLBLOCK", offset, nid, where + ": subnode tree " + hex(sub) + " contains itself");
    return;
  }
  auto entries = node->subnodes();
  if (!entries.is_ok()) {
    add(Issue::kNodeData, "node", offset, nid, where, entries.status());
    return;
  }
  path.push_back(ndb::bid_key(sub));
  for (const ndb::SubnodeEntry& e : *entries) {
    if (over_budget()) break;
    if (!checked_subnodes_.insert(Blocks{e.data_bid, e.subnode_bid, expected_content(e.nid, false)}).second) continue;
    check_node(top, e.nid, e.data_bid, e.subnode_bid, depth + 1, path);
  }
  path.pop_back();
}

void LtpChecker::check_heap(ndb::Nid top, const std::shared_ptr<const ndb::Node>& node, const std::string& where,
                            uint64_t offset) {
  const ndb::Nid nid = node->id();
  const bool top_level = nid == top;
  ++c_.sink.report().counters.heaps;
  auto heap = ltp::Heap::open(node, options_);
  if (!heap.is_ok()) {
    add(Issue::kHn, "HN", offset, nid, where, heap.status());
    if (top_level) c_.ltp_failed.insert(nid);
    return;
  }
  for (const ltp::HeapBlockInfo& b : heap->blocks()) {
    if (!b.status.is_ok()) add(Issue::kHn, "HN", offset, nid, where + " heap block " + std::to_string(b.block), b.status);
  }
  bool failed = false;
  switch (heap->client_signature()) {
    case ltp::kClientPropertyContext: check_pc(*heap, node, where, offset, failed); break;
    case ltp::kClientTableContext: check_tc(*heap, node, where, offset, failed); break;
    case ltp::kClientBth: check_bth(*heap, heap->user_root(), "BTH", where, offset); break;
    // MS-PST 2.3.1.2 reserves these; Outlook writes 0xAC tables (libpff
    // "ac table") for search contents templates. Only the heap is checked.
    case 0x6C:
    case 0x8C:
    case 0x9C:
    case 0xA5:
    case 0xAC:
    case 0xCC:
      break;
    default:
      c_.add(Issue::kHn, "HN", offset, nid, where + ": unknown bClientSig " + hex(heap->client_signature()));
      failed = true;
      break;
  }
  if (failed && top_level) c_.ltp_failed.insert(nid);
}

void LtpChecker::check_bth(const ltp::Heap& heap, ltp::Hid hid, const std::string& what, const std::string& where,
                           uint64_t offset) {
  auto bth = ltp::Bth::open(heap, hid);
  Status s = bth.is_ok() ? bth->validate() : bth.status();
  if (!s.is_ok()) add(Issue::kBth, "BTH", offset, heap.nid(), where + " " + what, s);
}

void LtpChecker::check_pc(const ltp::Heap& heap, const std::shared_ptr<const ndb::Node>& node,
                          const std::string& where, uint64_t offset, bool& failed) {
  const ndb::Nid nid = heap.nid();
  auto pc = ltp::PropertyContext::open(node, options_);
  if (!pc.is_ok()) {
    add(Issue::kPc, "PC", offset, nid, where, pc.status());
    failed = true;
    return;
  }
  check_bth(heap, heap.user_root(), "PC BTH", where, offset);
  // Values in subnodes are opened, not read: check_blocks verified every
  // data block already (and a damaged one is reported there).
  std::vector<Status> errors;
  pc->check_values_shallow(&errors);
  for (const Status& e : errors) {
    // Values over the read limit are not damage.
    if (e.code() == Code::kUnsupported) continue;
    add(Issue::kPcValue, "PC", offset, nid, where, e);
  }
}

void LtpChecker::check_tc(const ltp::Heap& heap, const std::shared_ptr<const ndb::Node>& node,
                          const std::string& where, uint64_t offset, bool& failed) {
  const ndb::Nid nid = heap.nid();
  auto tc = ltp::TableContext::open(node, options_);
  if (!tc.is_ok()) {
    add(Issue::kTc, "TC", offset, nid, where, tc.status());
    failed = true;
    return;
  }
  // MS-PST 2.3.4.1 TCINFO: hidRowIndex at offset 10.
  auto info = heap.get(heap.user_root());
  if (info.is_ok() && info->size() >= 14 && info->u32(10) != 0) {
    check_bth(heap, info->u32(10), "TC row index", where, offset);
  }
  // MS-PST 2.3.4.3: each row index entry names the matrix row holding that row ID.
  const size_t rows = tc->matrix_row_count();
  for (const auto& e : tc->row_index()) {
    if (e.row_index >= rows) {
      c_.add(Issue::kTcRows, "TC", offset, nid,
             where + ": row ID " + hex(e.row_id) + " points to row " + std::to_string(e.row_index) +
                 " but the matrix holds " + std::to_string(rows));
      break;
    }
    auto id = tc->row_id(e.row_index);
    if (!id.is_ok()) {
      add(Issue::kTcCell, "TC", offset, nid, where, id.status());
      break;
    }
    if (*id != e.row_id) {
      c_.add(Issue::kTcRows, "TC", offset, nid,
             where + ": row index maps row ID " + hex(e.row_id) + " to row " + std::to_string(e.row_index) +
                 ", which holds row ID " + hex(*id));
      break;
    }
  }
  if (tc->row_count() > rows) {
    c_.add(Issue::kTcRows, "TC", offset, nid,
           where + ": row index has " + std::to_string(tc->row_count()) + " entries, the matrix " +
               std::to_string(rows) + " rows");
  }
  const size_t limit = std::min(rows, kMaxRowsPerTable);
  size_t bad = 0;
  for (size_t r = 0; r < limit && !over_budget(); ++r) {
    auto cells = tc->row(r);
    if (cells.is_ok() || already_reported(cells.status()) || cells.status().code() == Code::kUnsupported) continue;
    if (bad++ == 0) add(Issue::kTcCell, "TC", offset, nid, where + " row " + std::to_string(r), cells.status());
  }
  if (bad > 1) {
    c_.add(Issue::kTcCell, "TC", offset, nid, where + ": " + std::to_string(bad) + " rows have unreadable cells");
  }
  if (rows > limit) {
    c_.add(Issue::kCheckLimit, "TC", offset, nid,
           where + ": only the first " + std::to_string(limit) + " of " + std::to_string(rows) + " rows were read");
  }
}

}  // namespace

void check_ltp(Context& c) { LtpChecker(c).run(); }

}  // namespace pstkit::check
