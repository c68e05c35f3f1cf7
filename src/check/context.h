// State shared by the checker's passes: where findings go, and what the
// B-tree walk found (pages, node and block entries) for the later passes.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "check/issues.h"
#include "ndb/lru_cache.h"
#include "pstkit/check.h"
#include "pstkit/ndb.h"
#include "util/spill_array.h"

namespace pstkit::check {

// Collects findings into a Report, keeping at most `cap` per code.
class FindingSink {
 public:
  FindingSink(Report& report, size_t cap) : report_(report), cap_(cap) {}

  void add(Issue issue, std::string structure, uint64_t offset, uint64_t id, std::string message);
  Report& report() { return report_; }

 private:
  Report& report_;
  size_t cap_;
  std::array<uint64_t, size_t(Issue::kCount)> per_issue_{};
};

// Structure name of a Status whose cause was already reported as a
// finding; passes that meet it again stay silent.
inline constexpr const char* kAlreadyReported = "already reported";

// An NBT or BBT page the walk read.
struct PageRecord {
  uint64_t offset = 0;
  uint8_t type = 0;  // ndb::PageType
  ndb::Bid bid = 0;
};

// An NBT leaf entry and the leaf page holding it.
struct NodeRecord {
  ndb::NodeEntry entry;
  uint64_t page = 0;
};

// A BBT leaf entry as the checker keeps it: ndb::BlockEntry's fields
// without its padding (26 bytes, not 32), as there is one a block.
struct __attribute__((packed, aligned(2))) PackedBlockEntry {
  PackedBlockEntry() = default;
  PackedBlockEntry(const ndb::BlockEntry& e)  // NOLINT: implicit, both ways
      : bid(e.bid), offset(e.offset), stored_size(e.stored_size), inflated_size(e.inflated_size),
        ref_count(e.ref_count) {}
  operator ndb::BlockEntry() const {  // NOLINT
    ndb::BlockEntry e;
    e.bid = bid;
    e.offset = offset;
    e.stored_size = stored_size;
    e.inflated_size = inflated_size;
    e.ref_count = ref_count;
    return e;
  }

  ndb::Bid bid = 0;
  uint64_t offset = 0;
  uint32_t stored_size = 0;
  uint32_t inflated_size = 0;
  uint16_t ref_count = 0;
};
static_assert(sizeof(PackedBlockEntry) == 26);

// A BBT leaf entry and what later passes learn. There is one a block, so
// every byte counts: 32 bytes.
struct BlockRecord {
  // Internal blocks the reference pass has expanded, and as what.
  enum Expanded : uint8_t { kNotExpanded, kExpandedData, kExpandedSubnode };

  PackedBlockEntry entry;
  bool damaged = false;  // unreadable: trailer, CRC, bounds or tree structure
  Expanded expanded = kNotExpanded;
  // References found, saturating: past cRef's 16 bits the count only needs
  // to stay above it.
  uint32_t references = 0;
};
static_assert(sizeof(BlockRecord) == 32);

// A block in the order of the file: its offset and size (what the offset
// passes need, without looking up its record) and its index in
// Context::blocks.
struct OffsetRecord {
  uint64_t offset = 0;
  uint32_t stored_size = 0;
  uint32_t index = 0;
};
static_assert(sizeof(OffsetRecord) == 16);

// Bytes of the file some structure occupies: what it is comes from the
// record it points at. Pages and map pages are kept as extents; a block's
// is made when needed from its record (see ExtentCursor).
struct Extent {
  enum Kind : uint8_t { kReserved, kPage, kMapPage, kBlock };
  static constexpr uint32_t kMaxSize = (uint32_t{1} << 30) - 1;

  Extent() = default;
  // size at most kMaxSize (blocks and pages are far smaller); ref: index
  // into Context::pages (kPage) or Context::blocks (kBlock), the page type
  // of a kMapPage.
  Extent(uint64_t b, uint64_t e, Kind k, uint32_t r)
      : begin(b), size_kind(uint32_t(std::min<uint64_t>(e - b, kMaxSize)) | (uint32_t(k) << 30)), ref(r) {}

  uint64_t begin = 0;
  uint32_t size_kind = 0;  // bits 0-29: size; 30-31: Kind
  uint32_t ref = 0;

  uint64_t end() const { return begin + (size_kind & kMaxSize); }
  Kind kind() const { return Kind(size_kind >> 30); }
};
static_assert(sizeof(Extent) == 16);
struct Context;
std::string describe(const Context& c, const Extent& e);
// Every structure's bytes in order of begin, then end (pages before blocks
// where both are equal): Context::extents merged with the blocks in
// blocks_by_offset whose extent check_overlaps takes (size and offset in
// range), starting at the first whose begin is at least `from`.
class ExtentCursor {
 public:
  ExtentCursor(const Context& c, uint64_t from);
  bool done() const { return !have_page_ && !have_block_; }
  const Extent& operator*() const { return current_; }
  const Extent* operator->() const { return &current_; }
  void next();

 private:
  void find_block();
  void pick();

  const Context& c_;
  size_t page_ = 0;   // into c.extents
  size_t block_ = 0;  // into c.blocks_by_offset
  bool have_page_ = false, have_block_ = false;
  Extent block_extent_;
  Extent current_;
  bool current_is_block_ = false;
};
// BID of the page or block an extent holds (a map page's offset).
uint64_t extent_id(const Context& c, const Extent& e);

struct Context {
  Context(const ndb::Database& database, const CheckOptions& opts, FindingSink& findings)
      : db(database), header(database.header()), file_size(database.file_size()), options(opts),
        sink(findings), block_cache(opts.cache_bytes) {}

  const ndb::Database& db;
  const ndb::Header& header;
  uint64_t file_size;
  const CheckOptions& options;
  FindingSink& sink;

  void add(Issue issue, std::string structure, uint64_t offset, uint64_t id, std::string message) {
    sink.add(issue, std::move(structure), offset, id, std::move(message));
  }

  // Filled by check_btrees. One record a page, a node and a block: kept
  // within a constant budget of memory, the rest in a temporary file
  // (SpillArray). Arrays that are read in order (pages, extents, the
  // offset order) get a quarter of the budget: they are alive while the
  // reference pass fills the block cache, so what they hold adds to the
  // peak, and in order a few pages in memory are as fast as all.
  static size_t in_order_budget() { return std::max<size_t>(spill_budget_bytes() / 4, 1); }
  SpillArray<PageRecord> pages{in_order_budget()};  // NBT and BBT pages reached
  SpillArray<NodeRecord> nodes;     // sorted by NID afterwards
  SpillArray<BlockRecord> blocks;   // sorted by BID afterwards
  bool nbt_complete = true;         // every NBT page was readable
  bool bbt_complete = true;
  // Set by check_blocks: the blocks by offset, then size, then index.
  SpillArray<OffsetRecord> blocks_by_offset{in_order_budget()};
  // Set by check_overlaps: the bytes of every structure but blocks (the
  // header, B-tree and map pages), sorted by begin, then end. One a page,
  // so a SpillArray too.
  SpillArray<Extent> extents{in_order_budget()};
  // Set by check_references: every data and subnode tree was walked whole.
  bool references_complete = true;
  // A pass's own SpillArray that failed (spill_status reports it).
  Status spill_failed;
  // Nodes whose heap or table problems the LTP pass already reported.
  std::unordered_set<ndb::Nid> ltp_failed;

  // The first error of the temporary file the records spilled to (a full
  // disk), or ok: with one, the report means nothing.
  Status spill_status() const;

  std::optional<NodeRecord> find_node(ndb::Nid nid) const;
  // Index of bid's record in blocks, or kNoBlock.
  static constexpr size_t kNoBlock = SIZE_MAX;
  size_t find_block_index(ndb::Bid bid) const;
  std::optional<BlockRecord> find_block(ndb::Bid bid) const;

  // A block's decoded contents for data and subnode trees and the LTP
  // pass. Damaged or missing blocks fail with structure kAlreadyReported.
  Result<SharedBytes> read_block(ndb::Bid bid) const;
  // Bytes read_block has decoded so far: the LTP pass stops at a budget
  // proportional to the file size, so that trees which name the same
  // blocks over and over cannot make the check run for hours.
  uint64_t decoded_bytes() const { return decoded_bytes_; }

  // Empties the block cache, between passes. A full cache that the next
  // pass turns over fragments the heap: the reference pass fills it with
  // small internal blocks, which the LTP pass evicts one by one for larger
  // data blocks that the small holes between longer-lived allocations
  // cannot hold (at 1.24 GB, 12 MB of the heap stayed free but unusable,
  // by glibc's mallinfo2); the folder pass's table row indexes likewise
  // grew the heap by 1 MB a large folder. Emptied first, the cache's
  // memory is free in large runs again.
  void clear_block_cache() { block_cache = ndb::LruCache<Bytes>(options.cache_bytes); }

  // Subnode trees already loaded, by BID: nodes that share a tree (copies,
  // or hostile files) load it once.
  using SubnodeList = std::shared_ptr<const std::vector<ndb::SubnodeEntry>>;
  Result<SubnodeList> subnode_tree(ndb::Bid bid) const;

 private:
  mutable ndb::LruCache<Bytes> block_cache;
  mutable uint64_t decoded_bytes_ = 0;
  static constexpr size_t kSubnodeTreesCached = 4096;
  mutable std::unordered_map<ndb::Bid, SubnodeList> subnode_trees_;
};

// Reads the block a BBT entry describes and verifies it (bounds, trailer,
// signature, CRC, inflation); decrypts and inflates it. Each problem is
// added to sink when one is given; any problem makes the result an error.
// With decode false the bytes are only verified: what is returned is the
// stored data, still encoded (unless it had to be inflated). read, when
// given, reads the block's bytes instead of the database's read_raw.
using RawRead = std::function<Status(uint64_t offset, size_t len, uint8_t* out)>;
Result<Bytes> read_verified_block(const Context& c, const ndb::BlockEntry& e, FindingSink* sink,
                                  bool decode = true, const RawRead* read = nullptr);

// A node whose blocks come from Context::read_block, so the LTP pass does
// not depend on the database's own B-tree lookups.
Result<std::unique_ptr<ndb::Node>> open_checked_node(const Context& c, ndb::Nid nid, ndb::Bid data_bid,
                                                     ndb::Bid subnode_bid);

// check_database, failing when the temporary file that bounds the records'
// memory fails (a full disk): check_file returns that error.
Result<Report> run_check(const ndb::Database& db, const CheckOptions& options);

// The passes, in the order check_database runs them.
void check_header(ByteView head, uint64_t file_size, FindingSink& sink);
void check_btrees(Context& c);
void check_header_counters(Context& c);
void check_blocks(Context& c);
void check_overlaps(Context& c);
void check_references(Context& c);
void check_maps(Context& c);
void check_ltp(Context& c);
void check_folders(Context& c);
void check_search_queue(Context& c);

}  // namespace pstkit::check
