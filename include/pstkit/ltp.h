// LTP layer: lists, tables and properties of [MS-PST] 2.3.
//
// Built on an ndb::Node, in four steps:
//   Heap              2.3.1  Heap-on-Node: numbered allocations in the node's blocks
//   Bth               2.3.2  BTree-on-Heap: sorted (key, data) records in a heap
//   PropertyContext   2.3.3  a BTH of (property id -> type, value)
//   TableContext      2.3.4  columns, a row index BTH and a row matrix
//
// Ownership: every object here holds a std::shared_ptr<const ndb::Node> and
// its decoded blocks, so it stays valid on its own (copies are cheap and
// share the data). ByteViews returned by Heap::get and Bth stay valid while
// any copy of the Heap they came from is alive.
//
// Errors name the structure ("HN page map", "BTH", "TC row matrix", ...) and
// the node id; nothing here throws or trusts a count before checking it
// against the bytes that hold it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/ndb.h"
#include "pstkit/property.h"
#include "pstkit/status.h"

namespace pstkit::ltp {

// MS-PST 2.3.1.1 HID and 2.3.3.2 HNID.
using Hid = uint32_t;
using Hnid = uint32_t;
inline bool hnid_is_hid(Hnid hnid) { return (hnid & 0x1F) == ndb::kNidTypeHid; }

struct Options {
  // Selects the HID bit layout: 4 KiB-page OST files (wVer 36) use a 14-bit
  // hidIndex and 13-bit hidBlockIndex instead of 11 and 16.
  ndb::FileFormat format = ndb::FileFormat::kUnicode;
  // Largest property value read into memory from a subnode; larger ones are
  // still reachable as nodes (PropertyContext::open_value_node).
  uint64_t max_value_bytes = uint64_t{256} << 20;
};

// MS-PST 2.3.1.1: a HID split into its parts (index is 1-based).
struct HidParts {
  uint32_t index = 0;
  uint32_t block = 0;
};
HidParts split_hid(Hid hid, ndb::FileFormat format);
Hid make_hid(uint32_t block, uint32_t index, ndb::FileFormat format);

// MS-PST 2.3.1.2 bClientSig values.
inline constexpr uint8_t kHeapSignature = 0xEC;
inline constexpr uint8_t kClientTableContext = 0x7C;
inline constexpr uint8_t kClientBth = 0xB5;
inline constexpr uint8_t kClientPropertyContext = 0xBC;

// One allocation of a heap block (for the checker).
struct HeapAllocation {
  Hid hid = 0;
  uint32_t offset = 0;  // from the start of the block
  uint32_t size = 0;    // 0 for freed slots
};
struct HeapBlockInfo {
  size_t block = 0;
  Status status;        // why the block's page map is unusable, else OK
  uint32_t page_map_offset = 0;  // ibHnpm
  uint16_t free_count = 0;       // cFree
  std::vector<HeapAllocation> allocations;
};

// MS-PST 2.3.1 Heap-on-Node.
class Heap {
 public:
  // Fails when block 0 cannot be read or has no valid HNHDR/page map. A
  // damaged later block does not fail open: get() on HIDs in it does, and
  // blocks() reports it.
  static Result<Heap> open(std::shared_ptr<const ndb::Node> node, const Options& options = {});

  ndb::Nid nid() const;
  uint8_t client_signature() const;  // bClientSig
  Hid user_root() const;             // hidUserRoot
  uint32_t fill_levels() const;      // rgbFillLevel of the HNHDR, raw
  size_t block_count() const;
  const Options& options() const;
  const ndb::Node& node() const;
  const std::shared_ptr<const ndb::Node>& node_ptr() const;

  // The bytes of allocation hid (empty for a freed slot).
  Result<ByteView> get(Hid hid) const;
  // Per-block page maps, damaged blocks included with their status.
  std::vector<HeapBlockInfo> blocks() const;

  struct Impl;

 private:
  explicit Heap(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Reads an HNID-addressed value (MS-PST 2.3.3.2): 0 is empty, a HID is a heap
// allocation, anything else a subnode of the heap's node (at most max_bytes).
Result<Bytes> read_hnid(const Heap& heap, Hnid hnid, uint64_t max_bytes);

// MS-PST 2.3.2 BTree-on-Heap.
class Bth {
 public:
  static constexpr int kMaxDepth = 8;

  // Parses the BTHHEADER at header_hid.
  static Result<Bth> open(const Heap& heap, Hid header_hid);

  uint8_t key_size() const { return key_size_; }      // cbKey: 2, 4, 8 or 16
  uint8_t data_size() const { return data_size_; }    // cbEnt: 1..32
  uint8_t index_levels() const { return levels_; }    // bIdxLevels
  Hid root() const { return root_; }                  // hidRoot, 0 when empty
  const Heap& heap() const { return heap_; }

  // Visits leaf records in stored order; visit returns false to stop.
  // Fails on a damaged record array, a HID seen twice (cycle) or depth > 8.
  Status for_each(const std::function<bool(ByteView key, ByteView data)>& visit) const;
  // The data of the record with this key (key.size() must be key_size()).
  Result<std::optional<ByteView>> find(ByteView key) const;
  // Structural check for the checker: for_each's checks plus keys strictly
  // ascending and index keys equal to the first key of their child.
  Status validate() const;

 private:
  Bth(Heap heap, uint8_t key_size, uint8_t data_size, uint8_t levels, Hid root)
      : heap_(std::move(heap)), key_size_(key_size), data_size_(data_size), levels_(levels),
        root_(root) {}
  Status walk(Hid hid, int level, std::set<Hid>& seen, const uint8_t* expect_first,
              bool check_order, Bytes& last_key, bool& have_last,
              const std::function<bool(ByteView, ByteView)>& visit, bool& stopped) const;

  Heap heap_;
  uint8_t key_size_ = 0;
  uint8_t data_size_ = 0;
  uint8_t levels_ = 0;
  Hid root_ = 0;
};

// BTH key order: -1, 0 or 1. Keys of up to 4 bytes compare as little-endian
// numbers, longer ones byte by byte (as Outlook sorts them).
int compare_keys(ByteView a, ByteView b);

// MS-PST 2.3.3 Property Context.
class PropertyContext {
 public:
  // One PC BTH record (MS-PST 2.3.3.3), as stored.
  struct Entry {
    uint16_t id = 0;
    uint16_t type = 0;
    uint32_t value = 0;  // dwValueHnid: inline data or HNID
  };

  // The node must hold an HN with bClientSig 0xBC.
  static Result<PropertyContext> open(std::shared_ptr<const ndb::Node> node,
                                      const Options& options = {});

  ndb::Nid nid() const { return heap_.nid(); }
  const Heap& heap() const { return heap_; }
  // Records sorted by property id.
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<PropTag> tags() const;
  bool has(uint16_t prop_id) const;
  std::optional<PropTag> tag_of(uint16_t prop_id) const;

  // The value of a property; not_found when absent.
  Result<PropValue> get(uint16_t prop_id) const;
  // Every value; fails on the first one that cannot be read. Values read
  // together are limited to Options::max_value_bytes in total.
  Result<std::vector<PropValue>> all() const;
  // Every readable value (same total limit); problems are appended to
  // errors when given.
  std::vector<PropValue> all_readable(std::vector<Status>* errors = nullptr) const;
  // The problems all_readable would find, except that a value held in a
  // subnode (MS-PST 2.3.3.3) is only opened: its subnode and data tree must
  // load and its size fit the limits and its type, but its data blocks are
  // not read. For callers that know those blocks are sound: check verifies
  // every block's CRC on its own; a rebuild wrote them from blocks it read.
  void check_values_shallow(std::vector<Status>* errors) const;

  // The value as a node, for streaming large values (attachment data):
  // a subnode-held value is that subnode, a PtypObject value the subnode it
  // names (MS-PST 2.3.3.5), and a heap-held value an in-memory node.
  Result<std::unique_ptr<ndb::Node>> open_value_node(uint16_t prop_id) const;

 private:
  PropertyContext(Heap heap, std::vector<Entry> entries)
      : heap_(std::move(heap)), entries_(std::move(entries)) {}
  const Entry* find_entry(uint16_t prop_id) const;
  Status charge(const PropValue& v, uint64_t& total) const { return charge(v.data.size(), total); }
  Status charge(uint64_t bytes, uint64_t& total) const;
  Result<PropValue> read(const Entry& e) const;

  Heap heap_;
  std::vector<Entry> entries_;
};

// What TableContext::open keeps of the row index (MS-PST 2.3.4.3).
enum class RowIndex {
  kKeep,   // every entry, in row_index() (8 bytes a row)
  kCount,  // only their number: for walks by row number, whose memory must
           // not grow with the table (a folder of 100,000 items)
};

// MS-PST 2.3.4 Table Context.
class TableContext {
 public:
  // MS-PST 2.3.4.2 TCOLDESC.
  struct Column {
    PropTag tag = 0;
    uint16_t offset = 0;  // ibData
    uint8_t size = 0;     // cbData
    uint8_t bit = 0;      // iBit
  };
  // MS-PST 2.3.4.3.1 TCROWID.
  struct RowIndexEntry {
    uint32_t row_id = 0;
    uint32_t row_index = 0;
  };
  // MS-PST 2.3.4.1 TCINFO rgib.
  enum GroupEnd { kEnd4b = 0, kEnd2b = 1, kEnd1b = 2, kEndBitmap = 3 };

  // The node must hold an HN with bClientSig 0x7C.
  static Result<TableContext> open(std::shared_ptr<const ndb::Node> node,
                                   const Options& options = {}, RowIndex row_index = RowIndex::kKeep);

  ndb::Nid nid() const { return heap_.nid(); }
  const Heap& heap() const { return heap_; }
  const std::vector<Column>& columns() const { return columns_; }
  std::optional<size_t> find_column(PropTag tag) const;
  // rgib[]; rgib[kEndBitmap] is the row size.
  uint16_t group_end(GroupEnd g) const { return group_ends_[g]; }
  uint32_t row_size() const { return group_ends_[kEndBitmap]; }
  Hnid rows_hnid() const { return rows_hnid_; }

  // Number of rows: the entries of the row index (MS-PST 2.3.4.3).
  size_t row_count() const { return row_count_; }
  // Rows physically present in the row matrix (may differ when damaged).
  size_t matrix_row_count() const { return matrix_rows_; }
  // Rows that fit in each row-matrix block (0 when there is no matrix).
  size_t rows_per_block() const { return rows_per_block_; }
  // Row index entries in key order, for consistency checks (empty when
  // opened with RowIndex::kCount).
  const std::vector<RowIndexEntry>& row_index() const { return row_index_; }

  // dwRowID stored in row `row` of the matrix.
  Result<uint32_t> row_id(size_t row) const;
  // The raw row bytes (row_size() long).
  Result<Bytes> row_bytes(size_t row) const;
  // Matrix row holding row id, via the row index; nullopt when absent.
  std::optional<size_t> find_row(uint32_t row_id) const;
  // A cell; nullopt when the CEB marks it absent (MS-PST 2.3.4.4.3).
  Result<std::optional<PropValue>> cell(size_t row, size_t column) const;
  Result<std::optional<PropValue>> cell_by_tag(size_t row, PropTag tag) const;
  // The cells present in a row, in column order.
  Result<std::vector<PropValue>> row(size_t row) const;

 private:
  explicit TableContext(Heap heap) : heap_(std::move(heap)) {}
  // A row of the matrix in place: `block` keeps the block it lies in alive
  // (null for a matrix in the heap, which heap_ keeps).
  struct RowView {
    SharedBytes block;
    ByteView bytes;
  };
  Result<RowView> row_view(size_t row) const;
  Result<SharedBytes> matrix_block(size_t index) const;
  Result<PropValue> decode_cell(const Column& col, ByteView slot) const;

  Heap heap_;
  std::vector<Column> columns_;
  uint16_t group_ends_[4] = {};
  Hnid rows_hnid_ = 0;
  Hid row_index_hid_ = 0;
  size_t row_count_ = 0;        // entries of the row index
  bool row_index_kept_ = true;  // RowIndex::kKeep: row_index_ holds them
  std::vector<RowIndexEntry> row_index_;
  // Row matrix: a heap allocation or a subnode's blocks.
  std::shared_ptr<const ndb::Node> matrix_node_;
  ByteView matrix_in_heap_;
  size_t rows_per_block_ = 0;
  size_t matrix_rows_ = 0;
};

}  // namespace pstkit::ltp
