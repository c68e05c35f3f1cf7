// LTP writers: the bytes of heaps, BTHs, property and table contexts.
//
// The write side of [MS-PST] 2.3, independent of where the bytes go: every
// builder produces a BuiltNode (a node's data blocks and its subnodes) that
// the NDB writer stores. Everything here reads back with the LTP readers in
// pstkit/ltp.h, and imitates what Outlook writes where the format leaves a
// choice (allocation order, column layout, block padding).
//
//   HeapBuilder   2.3.1  allocations in blocks with HNHDR/HNPAGEHDR/HNBITMAPHDR
//   BthBuilder    2.3.2  sorted records as leaf and index arrays in a heap
//   PcBuilder     2.3.3  property id -> value, values inline, in the heap or in subnodes
//   TcBuilder     2.3.4  columns, rows, row index, row matrix in the heap or a subnode
//
// Only ANSI and Unicode files are written; 4 KiB-page OST (kUnicode4k) is
// refused with kUnsupported.
//
// Rebuilding from an existing node: PcBuilder::from_existing and
// TcBuilder::from_existing copy a context and lay it out again from scratch
// (a new heap); HeapBuilder::from_heap loads a heap as it is for in-place
// edits (allocate/free/replace keep every other HID). A rebuilt node may keep
// referring to subnodes of the node it came from: BuiltNode lists those it
// still uses (reused_subnodes) and those it no longer uses
// (released_subnodes). Subnodes the LTP structure never referred to (a
// message's attachment and recipient tables...) are in neither list and are
// the caller's business.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/ltp.h"
#include "pstkit/ndb.h"
#include "pstkit/property.h"
#include "pstkit/status.h"

namespace pstkit::ltp {

// A node's contents as built here, ready for the NDB writer.
struct BuiltNode {
  // The data stream split into data blocks, each at most
  // max_block_data_size() bytes. The NDB writer builds the data tree (XBLOCK,
  // XXBLOCK) over them; block boundaries matter (heap blocks, row matrix rows).
  std::vector<Bytes> blocks;
  // New subnodes: large values, row matrices, nested objects.
  std::map<ndb::Nid, BuiltNode> subnodes;
  // Subnodes of the source node (from_existing) still referenced unchanged.
  std::set<ndb::Nid> reused_subnodes;
  // Subnodes of the source node the old structure referenced and this one no
  // longer does; a NID listed here may be reused by a new entry in subnodes.
  std::set<ndb::Nid> released_subnodes;

  uint64_t size() const;  // bytes in blocks
  Bytes data() const;     // blocks concatenated
};

// MS-PST 2.3.1.5 and 2.3.3.3: the largest heap allocation. Larger values go
// to a subnode.
inline constexpr size_t kMaxHeapAllocation = 3580;

// MS-PST 2.2.2.8: a data block holds at most 8192 bytes including its
// trailer (2.2.2.8.1: 16 bytes Unicode, 12 ANSI): 8176 and 8180 data bytes.
// kUnsupported for 4 KiB-page OST.
Result<size_t> max_block_data_size(ndb::FileFormat format);

// Splits data into blocks of at most max_block bytes (none when empty).
std::vector<Bytes> split_into_blocks(ByteView data, size_t max_block);

// Hands out subnode NIDs. Builders call it once per new subnode.
using NidAllocator = std::function<ndb::Nid()>;
// NID_TYPE_LTP (0x1F) NIDs with index first_index, first_index + 1, ...
// Copies share the counter.
NidAllocator sequential_nid_allocator(uint32_t first_index = 1);
// An allocator past every subnode NID of node (for rebuilding it).
Result<NidAllocator> nid_allocator_after(const ndb::Node& node);

// MS-PST 2.3.1 Heap-on-Node.
//
// Allocations keep their HID for life: freeing one leaves an empty slot in
// its block's page map (counted in cFree) that a later allocation in that
// block may take, and blocks are compacted when written. A new allocation
// goes to the first block with room, else to a new block. Every block but the
// last is written at the full block size, as Outlook does; the fill levels
// count that room as free.
class HeapBuilder {
 public:
  static Result<HeapBuilder> create(ndb::FileFormat format, uint8_t client_signature);
  // Loads every allocation of an existing heap (format from heap.options()).
  // Zero-size slots count as freed when they match cFree exactly; otherwise
  // they are kept as live empty allocations.
  static Result<HeapBuilder> from_heap(const Heap& heap);
  // Opens the heap of a node for in-place edits without reading it whole:
  // a block is read (through source) when an edit or get() first needs it,
  // new allocations go to blocks already read, then the last block, then a
  // new one, and build_changed() returns only the blocks that differ. Memory
  // follows the blocks touched, not the heap's size.
  using BlockSource = std::function<Result<SharedBytes>(size_t block)>;
  static Result<HeapBuilder> open_in_place(ndb::FileFormat format, size_t block_count, BlockSource source);

  ndb::FileFormat format() const { return format_; }
  size_t max_block_size() const { return max_block_; }
  uint8_t client_signature() const { return client_signature_; }
  void set_client_signature(uint8_t sig) {
    client_signature_ = sig;
    header_dirty_ = true;
  }
  Hid user_root() const { return user_root_; }
  void set_user_root(Hid hid) {
    user_root_ = hid;
    header_dirty_ = true;
  }

  // A new allocation holding data (at most kMaxHeapAllocation bytes).
  Result<Hid> allocate(ByteView data);
  // Frees an allocation; its HID may be handed out again.
  Status free(Hid hid);
  // New contents under the same HID; kInvalidArgument when its block has no
  // room for the larger size (use reallocate).
  Status replace(Hid hid, ByteView data);
  // New contents, under the same HID when its block has room, else moved.
  Result<Hid> reallocate(Hid hid, ByteView data);
  // The bytes of a live allocation; valid until the next change.
  Result<ByteView> get(Hid hid) const;
  bool contains(Hid hid) const;

  size_t block_count() const { return pages_.size(); }
  size_t allocation_count() const;  // live allocations

  // The data blocks: HNHDR/HNPAGEHDR/HNBITMAPHDR, allocations, page map.
  // Not for heaps opened in place (see build_changed).
  std::vector<Bytes> build() const;
  // The blocks that changed or were added, by index: the edited blocks, the
  // block before a new one (padded to full size), and the HNHDR/HNBITMAPHDR
  // blocks whose fill levels or header fields changed. For a heap not
  // opened in place, every block.
  Result<std::map<size_t, Bytes>> build_changed() const;

 private:
  struct Slot {
    Bytes data;
    bool freed = false;
  };
  struct Page {
    std::vector<Slot> slots;  // slot i is hidIndex i + 1
    size_t data_bytes = 0;    // sum of the slots' sizes
    uint16_t opaque_free = 0; // cFree of a loaded block whose freed slots are unknown
    bool loaded = true;       // false: not read yet (heaps opened in place)
    bool dirty = true;        // differs from the block in the file
    Bytes fill_levels;        // HNHDR/HNBITMAPHDR rgbFillLevel as read
  };

  HeapBuilder(ndb::FileFormat format, size_t max_block, uint8_t sig);
  // Reads block index of a heap opened in place (no-op once read).
  Status load(size_t index) const;
  Status parse_page(size_t index, ByteView block) const;
  void touch(size_t index) { pages_[index].dirty = true; }
  uint8_t level_of(size_t index) const;
  size_t used_bytes(size_t page, size_t data_bytes, size_t slots) const;
  bool fits(size_t page, size_t extra_bytes, bool new_slot) const;
  Result<const Page*> page_of(Hid hid, uint32_t* slot) const;
  Result<Page*> page_of(Hid hid, uint32_t* slot);
  Bytes build_block(size_t index) const;

  ndb::FileFormat format_;
  size_t max_block_;
  uint8_t client_signature_;
  Hid user_root_ = 0;
  // Mutable: a heap opened in place reads its blocks on first use.
  mutable std::vector<Page> pages_;
  BlockSource source_;        // set for heaps opened in place
  mutable std::set<size_t> loaded_pages_;  // in place: the blocks read or added
  bool header_dirty_ = true;  // HNHDR fields changed
};

// MS-PST 2.3.2 BTree-on-Heap: a builder for a whole tree.
//
// Leaf arrays are filled in key order up to kMaxHeapAllocation bytes each
// (the last may be shorter), then index levels over them the same way, until
// one array is left: its HID is hidRoot and the number of index levels is
// bIdxLevels.
class BthBuilder {
 public:
  // Where a built tree lives, so it can be rewritten in place.
  struct Placement {
    Hid header = 0;
    std::vector<Hid> arrays;  // leaf arrays first, then each index level
  };

  // key_size: 2, 4, 8 or 16; data_size: 1..32 (MS-PST 2.3.2.1).
  static Result<BthBuilder> create(uint8_t key_size, uint8_t data_size);

  uint8_t key_size() const { return key_size_; }
  uint8_t data_size() const { return data_size_; }
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }

  // Adds or replaces the record for key (little-endian, key_size bytes).
  Status set(ByteView key, ByteView data);
  bool erase(ByteView key);
  std::optional<ByteView> find(ByteView key) const;
  // Records in key order.
  void for_each(const std::function<void(ByteView key, ByteView data)>& visit) const;

  // Caps an array below kMaxHeapAllocation (tests use it to build deep trees
  // from few records); at least two records must fit.
  Status set_max_array_bytes(size_t bytes);

  // Allocates an empty BTHHEADER, to be filled by build(heap, header): lets a
  // caller place the header before other allocations as Outlook does.
  static Result<Hid> reserve_header(HeapBuilder& heap);
  // Writes the arrays and the header (into header when given, else a new
  // allocation); returns where they are.
  Result<Placement> build(HeapBuilder& heap, Hid header = 0) const;
  // Rewrites a tree built by build() with the same keys (data may differ)
  // into the same allocations, so no HID changes.
  Status rewrite(HeapBuilder& heap, const Placement& placement) const;

 private:
  BthBuilder(uint8_t key_size, uint8_t data_size) : key_size_(key_size), data_size_(data_size) {}

  // Records in the order the readers expect (compare_keys).
  struct KeyLess {
    bool operator()(const Bytes& a, const Bytes& b) const;
  };

  uint8_t key_size_;
  uint8_t data_size_;
  size_t max_array_bytes_ = kMaxHeapAllocation;
  std::map<Bytes, Bytes, KeyLess> records_;
};

// MS-PST 2.3.3 Property Context builder.
//
// Values are given in the encoding of PropValue (property.h) and stored by
// MS-PST 2.3.3.3: fixed-size values of up to 4 bytes inline, other fixed-size
// values in the heap, variable-size and multi-valued values in the heap up to
// kMaxHeapAllocation bytes and in a subnode beyond, empty ones as HNID 0.
// Heap values are allocated in the order their properties were first set.
class PcBuilder {
 public:
  static Result<PcBuilder> create(ndb::FileFormat format, NidAllocator allocate_nid = {});
  // Copies every property of pc. Values held in subnodes are not read: they
  // stay in their subnode (reused_subnodes) until replaced or removed.
  // The default allocator starts past the node's subnodes. format: of the
  // file the result is written to, when it is not the source's (a PC copied
  // from an ANSI or 4 KiB-page OST file into a Unicode one).
  static Result<PcBuilder> from_existing(const PropertyContext& pc, NidAllocator allocate_nid = {},
                                         std::optional<ndb::FileFormat> format = std::nullopt);

  // Sets a property (replacing any with the same id); checks the value's size
  // against its type, and multi-valued layouts (MS-PST 2.3.3.4).
  Status set(PropTag tag, ByteView value);
  Status set(const PropValue& value) { return set(value.tag, ByteView(value.data)); }
  // A PtypObject property whose object is a new subnode (MS-PST 2.3.3.5);
  // size is ulSize, the object's size as the messaging layer counts it.
  Result<ndb::Nid> set_object(PropTag tag, BuiltNode object, uint32_t size);
  bool remove(uint16_t prop_id);
  bool has(uint16_t prop_id) const;
  std::optional<PropTag> tag_of(uint16_t prop_id) const;
  size_t size() const { return props_.size(); }

  // The PC's node: an HN with bClientSig 0xBC whose user root is the BTH.
  Result<BuiltNode> build() const;

 private:
  struct Prop;

  PcBuilder(ndb::FileFormat format, size_t max_block, NidAllocator allocate_nid);

  ndb::FileFormat format_;
  size_t max_block_;
  NidAllocator allocate_nid_;
  std::map<uint16_t, std::shared_ptr<const Prop>> props_;
  uint64_t next_order_ = 0;
  std::set<ndb::Nid> source_subnodes_;  // value subnodes of the source node
};

// MS-PST 2.3.4 Table Context builder.
//
// Column layout (MS-PST 2.3.4.1, 2.3.4.4.1), as Outlook lays it out: the
// columns in their given order get iBit 0, 1, 2...; dwRowID (PidTagLtpRowId)
// and dwRowVer (PidTagLtpRowVer) come first at offsets 0 and 4; then the 8-
// and 4-byte cells (variable-size, GUID and multi-valued ones as 4-byte
// HNIDs) in column order, then the 2-byte and the 1-byte cells, then the CEB;
// TCOLDESCs are sorted by tag. Rows are kept in the order added; the row
// matrix is a heap allocation when it fits kMaxHeapAllocation, else a subnode
// of whole rows per block with every block but the last at the full block
// size (MS-PST 2.3.4.4). Cell values follow MS-PST 2.3.4.4.2: up to 8 bytes
// inline, others as in a PC.
class TcBuilder {
 public:
  using Column = TableContext::Column;

  static constexpr PropTag kRowIdTag = 0x67F20003;   // PidTagLtpRowId
  static constexpr PropTag kRowVerTag = 0x67F30003;  // PidTagLtpRowVer

  // columns in Outlook's order (a template's: see template_columns); the
  // row id and row version columns are added when missing.
  static Result<TcBuilder> create(ndb::FileFormat format, const std::vector<PropTag>& columns,
                                  NidAllocator allocate_nid = {});
  // Copies the columns (layout unchanged) and rows of tc, in matrix order.
  // Cells held in subnodes stay there (reused_subnodes) unless changed.
  // format: of the file the result is written to, as for PcBuilder.
  static Result<TcBuilder> from_existing(const TableContext& tc, NidAllocator allocate_nid = {},
                                         std::optional<ndb::FileFormat> format = std::nullopt);

  const std::vector<Column>& columns() const { return columns_; }  // sorted by tag
  uint16_t row_size() const { return group_ends_[3]; }
  std::optional<size_t> find_column(PropTag tag) const;
  // Appends a column (next iBit) and lays the row out again.
  Status add_column(PropTag tag);

  // Appends a row. cells may include the row id (it must equal row_id) and
  // any columns; absent columns are marked so in the CEB.
  Status add_row(uint32_t row_id, const std::vector<PropValue>& cells);
  // Replaces the cells of an existing row, keeping its position.
  Status replace_row(uint32_t row_id, const std::vector<PropValue>& cells);
  // Sets (or with nullopt, clears) one cell of an existing row.
  Status set_cell(uint32_t row_id, PropTag tag, std::optional<ByteView> value);
  bool remove_row(uint32_t row_id);
  bool has_row(uint32_t row_id) const;
  size_t row_count() const { return rows_.size(); }
  // Row ids in matrix order.
  std::vector<uint32_t> row_ids() const;

  // The TC's node: an HN with bClientSig 0x7C whose user root is TCINFO.
  Result<BuiltNode> build() const;

 private:
  struct Cell;
  // Cells by column position in order_; null when absent.
  struct Row {
    uint32_t id = 0;
    std::vector<std::shared_ptr<const Cell>> cells;
  };

  TcBuilder(ndb::FileFormat format, size_t max_block, NidAllocator allocate_nid);
  // Outlook's layout of order_ (see the class comment).
  Status lay_out();
  std::optional<size_t> position_of(PropTag tag) const;
  Result<std::shared_ptr<const Cell>> make_cell(PropTag tag, ByteView value) const;
  Result<std::vector<std::shared_ptr<const Cell>>> make_cells(uint32_t row_id,
                                                              const std::vector<PropValue>& cells) const;

  ndb::FileFormat format_;
  size_t max_block_;
  NidAllocator allocate_nid_;
  std::vector<PropTag> order_;       // columns in iBit (insertion) order
  std::vector<Column> columns_;      // sorted by tag
  std::vector<size_t> column_position_;  // columns_[i] is order_[column_position_[i]]
  uint16_t group_ends_[4] = {};      // rgib
  std::vector<Row> rows_;
  std::map<uint32_t, size_t> row_positions_;
  ndb::Nid source_matrix_nid_ = 0;   // row matrix subnode of the source node
  std::set<ndb::Nid> source_subnodes_;
};

// The columns of a table in iBit order, which is the order Outlook added
// them; TcBuilder::create with them reproduces the table's layout byte for
// byte. Real tables take their columns from Outlook's templates: the
// hierarchy, contents, associated contents, attachment and recipient table
// templates (kNidHierarchyTableTemplate 0x60D, kNidContentsTableTemplate
// 0x60E, kNidAssocContentsTableTemplate 0x60F, kNidAttachmentTableTemplate
// 0x671, kNidRecipientTableTemplate 0x692). For a new folder's contents table:
//
//   auto node = db->open_node(ndb::kNidContentsTableTemplate);
//   auto tmpl = TableContext::open(std::move(*node), options);
//   auto tc = TcBuilder::create(format, template_columns(*tmpl));
//   // or: auto built = build_empty_table(format, template_columns(*tmpl));
std::vector<PropTag> template_columns(const TableContext& tc);

// An empty table with these columns (as TcBuilder::create lays them out).
Result<BuiltNode> build_empty_table(ndb::FileFormat format, const std::vector<PropTag>& columns);

// MS-PST 2.3.3.4.2: a multi-valued variable-size value from its elements.
Bytes encode_mv_variable(const std::vector<Bytes>& elements);
// MS-PST 2.3.3.4.1: a multi-valued fixed-size value (elements concatenated).
Bytes encode_mv_fixed(const std::vector<Bytes>& elements);

}  // namespace pstkit::ltp
