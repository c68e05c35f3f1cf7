// LTP structures edited in place: a BTH or a table context changes by the
// blocks an edit touches, not by rebuilding the node.
//
// The builders in ltp_builder.h lay a whole node out afresh, which costs
// memory and time in its size: right for new nodes, wrong for a contents
// table that gains a row per imported message. The editors here open an
// existing node, read only the blocks an edit needs (HeapBuilder opened in
// place), and hand back a NodeEdit: the changed data blocks by index, the
// changed blocks of edited subnodes (the row matrix), new and released
// subnodes. The NDB writer shares every other block with the old node
// (WritableDatabase::rewrite_data_tree).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"

namespace pstkit::ltp {

// A data stream changed in place: block_count blocks, those in changed with
// new contents, the others as they were.
struct StreamEdit {
  size_t block_count = 0;
  std::map<size_t, Bytes> changed;
};

// A node changed in place.
struct NodeEdit {
  StreamEdit data;
  // Subnodes whose data changed block by block (a subnode NID not in the
  // node yet is a new subnode with these blocks).
  std::map<ndb::Nid, StreamEdit> edited_subnodes;
  // New subnodes written whole (large cell values).
  std::map<ndb::Nid, BuiltNode> new_subnodes;
  // Subnodes the node no longer refers to.
  std::set<ndb::Nid> released_subnodes;
};

// MS-PST 2.3.2 BTree-on-Heap edited in place in a heap: a change rewrites
// the arrays on the path from the root to its record, splitting an array that
// outgrows kMaxHeapAllocation and dropping one that empties, so its cost
// follows the tree's depth. Keys compare as the readers compare them
// (compare_keys); an index record's key stays its child's first key.
class BthEditor {
 public:
  // header: the BTHHEADER's HID in heap (which must outlive the editor).
  static Result<BthEditor> open(HeapBuilder& heap, Hid header);

  uint8_t key_size() const { return key_size_; }
  uint8_t data_size() const { return data_size_; }
  uint8_t index_levels() const { return levels_; }
  Hid root() const { return root_; }

  Result<std::optional<Bytes>> find(ByteView key) const;
  // Adds or replaces the record for key.
  Status set(ByteView key, ByteView data);
  // Removes the record for key; false when there was none.
  Result<bool> erase(ByteView key);

 private:
  struct Change;
  // An array read for an edit, with where key goes in it.
  struct Array {
    Bytes records;
    size_t record_size = 0;
    size_t count = 0;
    size_t pos = 0;      // first record whose key is >= key
    bool exact = false;  // that record's key is key
  };
  BthEditor(HeapBuilder* heap, Hid header) : heap_(heap), header_(header) {}
  Result<Array> load_array(Hid hid, uint8_t level, ByteView key) const;
  Result<Change> insert(Hid array, uint8_t level, ByteView key, ByteView data);
  Result<Change> remove(Hid array, uint8_t level, ByteView key);
  Status write_header();

  HeapBuilder* heap_;
  Hid header_;
  uint8_t key_size_ = 0;
  uint8_t data_size_ = 0;
  uint8_t levels_ = 0;
  Hid root_ = 0;
};

// MS-PST 2.3.4 Table Context edited in place: rows are added at the end of
// the row matrix (its last block, or a new one), replaced where they are, and
// removed by moving the last row into the gap; the row index BTH and cell
// values change through BthEditor and the heap. Tables are opened as they are
// when their layout is one this editor writes (row id at offset 0, every cell
// as wide as its type needs, whole rows per full-size matrix block);
// otherwise open() fails with kUnsupported and the caller rebuilds the table
// once with TcBuilder.
class TableEditor {
 public:
  using Column = TableContext::Column;

  static Result<TableEditor> open(std::shared_ptr<const ndb::Node> node, ndb::FileFormat format);

  const std::vector<Column>& columns() const { return columns_; }
  size_t row_count() const { return matrix_rows_; }

  Result<bool> has_row(uint32_t row_id) const;
  // Row ids in matrix order (reads the whole matrix).
  Result<std::vector<uint32_t>> row_ids() const;
  // cells as for TcBuilder::add_row (row id and version columns optional).
  Status add_row(uint32_t row_id, const std::vector<PropValue>& cells);
  Status replace_row(uint32_t row_id, const std::vector<PropValue>& cells);
  // replace_row when the row exists, else add_row.
  Status put_row(uint32_t row_id, const std::vector<PropValue>& cells);
  Result<bool> remove_row(uint32_t row_id);

  bool changed() const { return changed_; }
  // The changes so far, for the NDB writer.
  Result<NodeEdit> build() const;

 private:
  TableEditor() = default;
  Result<std::optional<uint32_t>> index_of(uint32_t row_id) const;
  Result<Bytes> read_row(uint32_t index) const;
  Status write_row(uint32_t index, ByteView row);
  Result<Bytes> encode_row(uint32_t row_id, const std::vector<PropValue>& cells);
  Status release_cells(ByteView row);
  Status append_matrix_row(ByteView row);
  Status drop_last_matrix_row();
  Status move_matrix_to_subnode();
  Status write_info();
  Result<Bytes*> matrix_block(size_t block);
  Status set_index(uint32_t row_id, uint32_t index);

  std::shared_ptr<const ndb::Node> node_;
  ndb::FileFormat format_ = ndb::FileFormat::kUnicode;
  size_t max_block_ = 0;
  std::unique_ptr<HeapBuilder> heap_;  // stable address: row_index_ points to it
  std::optional<BthEditor> row_index_;
  NidAllocator allocate_nid_;
  Hid info_hid_ = 0;
  std::vector<Column> columns_;  // as in TCINFO (sorted by tag)
  uint16_t group_ends_[4] = {};
  uint16_t row_size_ = 0;
  Hnid rows_hnid_ = 0;           // MS-PST 2.3.4.1 hnidRows
  // The row matrix: in the heap (rows_hnid_ a HID) ...
  Bytes heap_matrix_;
  // ... or in a subnode, edited block by block.
  std::shared_ptr<const ndb::Node> matrix_node_;  // as stored; null when new
  size_t matrix_blocks_ = 0;
  std::map<size_t, Bytes> matrix_changed_;
  uint32_t matrix_rows_ = 0;
  NodeEdit subnode_changes_;  // new and released value subnodes
  bool changed_ = false;
};

}  // namespace pstkit::ltp
