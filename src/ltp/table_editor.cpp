// MS-PST 2.3.4 Table Context, edited in place.
//
// A table opened here keeps its layout (TCINFO, TCOLDESCs); only the row
// matrix, the row index and the cell values change. Rows are appended to the
// matrix's last block, or to a new block once it is full (the block before it
// then padded to the full size, MS-PST 2.3.4.4); a removed row's slot takes
// the last row, so the matrix stays dense and no other row moves.
#include <algorithm>

#include "ltp/value_builder.h"
#include "pstkit/ltp_editor.h"

namespace pstkit::ltp {

using namespace detail;  // cell layout helpers shared by the table writers

namespace {

constexpr PropTag kRowIdTag = 0x67F20003;

Status unsupported(ndb::Nid nid, const std::string& why) {
  return Status::unsupported("TC " + hex(nid) + " cannot be edited in place: " + why);
}

}  // namespace

Result<TableEditor> TableEditor::open(std::shared_ptr<const ndb::Node> node, ndb::FileFormat format) {
  if (!node) return Status::invalid_argument("TableEditor::open: null node");
  const ndb::Nid nid = node->id();
  TableEditor e;
  e.node_ = node;
  e.format_ = format;
  PSTKIT_ASSIGN_OR_RETURN(e.max_block_, max_block_data_size(format));
  const ndb::Node* raw = node.get();
  PSTKIT_ASSIGN_OR_RETURN(HeapBuilder heap, HeapBuilder::open_in_place(format, node->block_count(),
                                                                       [raw](size_t i) { return raw->block(i); }));
  e.heap_ = std::make_unique<HeapBuilder>(std::move(heap));
  if (e.heap_->client_signature() != kClientTableContext) {
    return Status::corrupt("TC", Status::kNoOffset, "node " + hex(nid) + " is not a table context");
  }
  // MS-PST 2.3.4.1 TCINFO.
  e.info_hid_ = e.heap_->user_root();
  PSTKIT_ASSIGN_OR_RETURN(ByteView info, e.heap_->get(e.info_hid_));
  if (info.size() < kTcInfoSize || info.u8(0) != kClientTableContext ||
      info.size() != kTcInfoSize + kTcColDescSize * info.u8(1)) {
    return Status::corrupt("TCINFO", Status::kNoOffset, "node " + hex(nid) + ": malformed TCINFO");
  }
  for (int g = 0; g < 4; ++g) e.group_ends_[g] = info.u16(2 + 2 * g);
  e.row_size_ = e.group_ends_[3];
  const Hid row_index_hid = info.u32(10);
  e.rows_hnid_ = info.u32(14);
  for (size_t i = 0; i < info.u8(1); ++i) {
    const ByteView d = info.sub(kTcInfoSize + kTcColDescSize * i, kTcColDescSize);
    e.columns_.push_back(Column{d.u32(0), d.u16(4), d.u8(6), d.u8(7)});
  }
  // The layouts this editor writes (the ones TcBuilder and Outlook make).
  const auto row_id = std::find_if(e.columns_.begin(), e.columns_.end(), [](const Column& c) { return c.tag == kRowIdTag; });
  if (row_id == e.columns_.end() || row_id->offset != 0) return unsupported(nid, "dwRowID is not at offset 0");
  if (e.row_size_ == 0 || e.row_size_ > e.max_block_) return unsupported(nid, "row size " + std::to_string(e.row_size_));
  for (const Column& c : e.columns_) {
    // cell_width 0: a type that cannot be a column (its slot is of no known size).
    const size_t width = cell_width(tag_type(c.tag));
    if (width == 0 || c.size != width || size_t(c.offset) + c.size > e.group_ends_[2] ||
        size_t(e.group_ends_[2]) + c.bit / 8 >= e.row_size_) {
      return unsupported(nid, "column " + hex(c.tag) + " has an unusual slot");
    }
  }
  // MS-PST 2.3.4.3 row index: dwRowID -> dwRowIndex (2 bytes in ANSI files).
  PSTKIT_ASSIGN_OR_RETURN(BthEditor index, BthEditor::open(*e.heap_, row_index_hid));
  if (index.key_size() != 4 || index.data_size() != (format == ndb::FileFormat::kAnsi ? 2 : 4)) {
    return unsupported(nid, "row index records of " + std::to_string(index.key_size()) + "+" +
                                std::to_string(index.data_size()) + " bytes");
  }
  e.row_index_.emplace(index);

  // The row matrix (MS-PST 2.3.4.4).
  if (e.rows_hnid_ != 0 && hnid_is_hid(e.rows_hnid_)) {
    PSTKIT_ASSIGN_OR_RETURN(ByteView m, e.heap_->get(e.rows_hnid_));
    if (m.size() % e.row_size_ != 0) return unsupported(nid, "row matrix not a whole number of rows");
    e.heap_matrix_ = m.to_bytes();
    e.matrix_rows_ = uint32_t(m.size() / e.row_size_);
  } else if (e.rows_hnid_ != 0) {
    PSTKIT_ASSIGN_OR_RETURN(auto sub, node->subnode(e.rows_hnid_));
    e.matrix_node_ = std::move(sub);
    e.matrix_blocks_ = e.matrix_node_->block_count();
    if (e.matrix_blocks_ > 0) {
      PSTKIT_ASSIGN_OR_RETURN(SharedBytes last, e.matrix_node_->block(e.matrix_blocks_ - 1));
      const size_t before_last = e.matrix_node_->size() - last->size();
      if (before_last != (e.matrix_blocks_ - 1) * e.max_block_ || last->size() % e.row_size_ != 0) {
        return unsupported(nid, "row matrix blocks are not whole rows in full-size blocks");
      }
      const size_t per_block = e.max_block_ / e.row_size_;
      e.matrix_rows_ = uint32_t((e.matrix_blocks_ - 1) * per_block + last->size() / e.row_size_);
    }
  }
  PSTKIT_ASSIGN_OR_RETURN(e.allocate_nid_, nid_allocator_after(*node));
  return e;
}

Result<std::optional<uint32_t>> TableEditor::index_of(uint32_t row_id) const {
  uint8_t key[4];
  store_le32(key, row_id);
  PSTKIT_ASSIGN_OR_RETURN(auto data, row_index_->find(ByteView(key, 4)));
  if (!data) return std::optional<uint32_t>{};
  const uint32_t index = data->size() == 2 ? load_le16(data->data()) : load_le32(data->data());
  if (index >= matrix_rows_) {
    return Status::corrupt("TC row index", Status::kNoOffset,
                           "node " + hex(node_->id()) + ": row " + hex(row_id) + " at index " +
                               std::to_string(index) + " of " + std::to_string(matrix_rows_) + " rows");
  }
  return std::optional<uint32_t>(index);
}

Result<bool> TableEditor::has_row(uint32_t row_id) const {
  PSTKIT_ASSIGN_OR_RETURN(auto index, index_of(row_id));
  return index.has_value();
}

Result<std::vector<uint32_t>> TableEditor::row_ids() const {
  std::vector<uint32_t> ids;
  ids.reserve(matrix_rows_);
  for (uint32_t i = 0; i < matrix_rows_; ++i) {
    PSTKIT_ASSIGN_OR_RETURN(Bytes row, read_row(i));
    ids.push_back(load_le32(row.data()));
  }
  return ids;
}

Status TableEditor::set_index(uint32_t row_id, uint32_t index) {
  uint8_t key[4], data[4];
  store_le32(key, row_id);
  store_le32(data, index);
  return row_index_->set(ByteView(key, 4), ByteView(data, row_index_->data_size()));
}

Result<Bytes*> TableEditor::matrix_block(size_t block) {
  auto it = matrix_changed_.find(block);
  if (it != matrix_changed_.end()) return &it->second;
  Bytes data;
  if (matrix_node_ && block < matrix_node_->block_count()) {
    PSTKIT_ASSIGN_OR_RETURN(SharedBytes b, matrix_node_->block(block));
    data = *b;
  }
  return &matrix_changed_.emplace(block, std::move(data)).first->second;
}

Result<Bytes> TableEditor::read_row(uint32_t index) const {
  if (hnid_is_hid(rows_hnid_)) return ByteView(heap_matrix_).sub(size_t(index) * row_size_, row_size_).to_bytes();
  const size_t per_block = max_block_ / row_size_;
  const size_t block = index / per_block, offset = index % per_block * row_size_;
  ByteView data;
  SharedBytes held;
  auto it = matrix_changed_.find(block);
  if (it != matrix_changed_.end()) {
    data = ByteView(it->second);
  } else {
    if (!matrix_node_) return Status::corrupt("TC row matrix", Status::kNoOffset, "block " + std::to_string(block) + " missing");
    PSTKIT_ASSIGN_OR_RETURN(held, matrix_node_->block(block));
    data = ByteView(*held);
  }
  if (!data.has(offset, row_size_)) {
    return Status::corrupt("TC row matrix", Status::kNoOffset,
                           "node " + hex(node_->id()) + ": row " + std::to_string(index) + " past its block");
  }
  return data.sub(offset, row_size_).to_bytes();
}

Status TableEditor::write_row(uint32_t index, ByteView row) {
  changed_ = true;
  if (hnid_is_hid(rows_hnid_)) {
    std::copy(row.begin(), row.end(), heap_matrix_.begin() + long(size_t(index) * row_size_));
    return heap_->replace(rows_hnid_, ByteView(heap_matrix_));
  }
  const size_t per_block = max_block_ / row_size_;
  PSTKIT_ASSIGN_OR_RETURN(Bytes * block, matrix_block(index / per_block));
  const size_t offset = index % per_block * row_size_;
  if (block->size() < offset + row_size_) block->resize(offset + row_size_, 0);
  std::copy(row.begin(), row.end(), block->begin() + long(offset));
  return Status::ok();
}

Status TableEditor::move_matrix_to_subnode() {
  // MS-PST 2.3.4.4: a matrix past kMaxHeapAllocation lives in a subnode.
  const ndb::Nid nid = allocate_nid_();
  const size_t per_block = max_block_ / row_size_;
  const size_t rows = heap_matrix_.size() / row_size_;
  for (size_t first = 0, b = 0; first < rows; first += per_block, ++b) {
    const size_t count = std::min(per_block, rows - first);
    Bytes block(heap_matrix_.begin() + long(first * row_size_), heap_matrix_.begin() + long((first + count) * row_size_));
    if (first + count < rows) block.resize(max_block_, 0);
    matrix_changed_[b] = std::move(block);
  }
  matrix_blocks_ = (rows + per_block - 1) / per_block;
  PSTKIT_RETURN_IF_ERROR(heap_->free(rows_hnid_));
  heap_matrix_.clear();
  rows_hnid_ = nid;
  return write_info();
}

Status TableEditor::append_matrix_row(ByteView row) {
  changed_ = true;
  const size_t new_size = (size_t(matrix_rows_) + 1) * row_size_;
  if (rows_hnid_ == 0 || hnid_is_hid(rows_hnid_)) {
    if (new_size <= kMaxHeapAllocation) {
      heap_matrix_.insert(heap_matrix_.end(), row.begin(), row.end());
      if (rows_hnid_ == 0) {
        PSTKIT_ASSIGN_OR_RETURN(rows_hnid_, heap_->allocate(ByteView(heap_matrix_)));
        ++matrix_rows_;
        return write_info();
      }
      PSTKIT_ASSIGN_OR_RETURN(Hid hid, heap_->reallocate(rows_hnid_, ByteView(heap_matrix_)));
      ++matrix_rows_;
      if (hid != rows_hnid_) {
        rows_hnid_ = hid;
        return write_info();
      }
      return Status::ok();
    }
    PSTKIT_RETURN_IF_ERROR(move_matrix_to_subnode());
  }
  const size_t per_block = max_block_ / row_size_;
  const size_t block = matrix_rows_ / per_block;
  if (block >= matrix_blocks_) {
    // Every block but the last is written at the full size.
    if (block > 0) {
      PSTKIT_ASSIGN_OR_RETURN(Bytes * previous, matrix_block(block - 1));
      previous->resize(max_block_, 0);
    }
    matrix_blocks_ = block + 1;
  }
  PSTKIT_ASSIGN_OR_RETURN(Bytes * last, matrix_block(block));
  last->resize(matrix_rows_ % per_block * row_size_);
  last->insert(last->end(), row.begin(), row.end());
  ++matrix_rows_;
  return Status::ok();
}

Status TableEditor::drop_last_matrix_row() {
  changed_ = true;
  --matrix_rows_;
  if (hnid_is_hid(rows_hnid_)) {
    heap_matrix_.resize(size_t(matrix_rows_) * row_size_);
    if (matrix_rows_ == 0) {
      PSTKIT_RETURN_IF_ERROR(heap_->free(rows_hnid_));
      rows_hnid_ = 0;
      return write_info();
    }
    return heap_->replace(rows_hnid_, ByteView(heap_matrix_));
  }
  if (matrix_rows_ == 0) {
    // No rows: no matrix (MS-PST 2.3.4.1 hnidRows 0).
    subnode_changes_.released_subnodes.insert(rows_hnid_);
    subnode_changes_.edited_subnodes.erase(rows_hnid_);
    matrix_changed_.clear();
    matrix_node_.reset();
    matrix_blocks_ = 0;
    rows_hnid_ = 0;
    return write_info();
  }
  const size_t per_block = max_block_ / row_size_;
  matrix_blocks_ = (matrix_rows_ + per_block - 1) / per_block;
  for (auto it = matrix_changed_.lower_bound(matrix_blocks_); it != matrix_changed_.end();) {
    it = matrix_changed_.erase(it);
  }
  // The last block holds its rows and nothing after them.
  PSTKIT_ASSIGN_OR_RETURN(Bytes * last, matrix_block(matrix_blocks_ - 1));
  last->resize((matrix_rows_ - (matrix_blocks_ - 1) * per_block) * row_size_);
  return Status::ok();
}

Status TableEditor::write_info() {
  PSTKIT_ASSIGN_OR_RETURN(ByteView info, heap_->get(info_hid_));
  Bytes copy = info.to_bytes();
  store_le32(copy.data() + 14, rows_hnid_);  // hnidRows
  changed_ = true;
  return heap_->replace(info_hid_, ByteView(copy));
}

Result<Bytes> TableEditor::encode_row(uint32_t row_id, const std::vector<PropValue>& cells) {
  Bytes row(row_size_, 0);
  uint8_t* ceb = row.data() + group_ends_[TableContext::kEnd1b];
  std::vector<bool> given(columns_.size(), false);
  auto put = [&](size_t i, ByteView value) -> Status {
    const Column& c = columns_[i];
    PSTKIT_RETURN_IF_ERROR(detail::check_value(c.tag, value));
    if (stored_inline(tag_type(c.tag))) {
      std::copy(value.begin(), value.end(), row.begin() + c.offset);
    } else {
      PSTKIT_ASSIGN_OR_RETURN(Hnid hnid, detail::store_value(*heap_, value, allocate_nid_, max_block_,
                                                             subnode_changes_.new_subnodes));
      store_le32(row.data() + c.offset, hnid);
    }
    set_cell_exists(ceb, c.bit);
    given[i] = true;
    return Status::ok();
  };
  for (const PropValue& v : cells) {
    auto it = std::find_if(columns_.begin(), columns_.end(), [&](const Column& c) { return c.tag == v.tag; });
    if (it == columns_.end()) return Status::invalid_argument("row " + hex(row_id) + ": the table has no column " + hex(v.tag));
    const size_t i = size_t(it - columns_.begin());
    if (given[i]) return Status::invalid_argument("row " + hex(row_id) + ": column " + hex(v.tag) + " given twice");
    if (v.tag == kRowIdTag && (v.data.size() != 4 || load_le32(v.data.data()) != row_id)) {
      return Status::invalid_argument("row " + hex(row_id) + ": PidTagLtpRowId cell differs from the row id");
    }
    PSTKIT_RETURN_IF_ERROR(put(i, ByteView(v.data)));
  }
  // MS-PST 2.3.4.4.1: dwRowID is the row's PidTagLtpRowId.
  const size_t id_column = size_t(std::find_if(columns_.begin(), columns_.end(),
                                               [](const Column& c) { return c.tag == kRowIdTag; }) - columns_.begin());
  if (!given[id_column]) {
    uint8_t id[4];
    store_le32(id, row_id);
    PSTKIT_RETURN_IF_ERROR(put(id_column, ByteView(id, 4)));
  }
  return row;
}

Status TableEditor::release_cells(ByteView row) {
  const uint8_t* ceb = row.data() + group_ends_[TableContext::kEnd1b];
  for (const Column& c : columns_) {
    if (stored_inline(tag_type(c.tag)) || !cell_exists(ceb, c.bit)) continue;
    const Hnid hnid = row.u32(c.offset);
    if (hnid == 0) continue;
    if (hnid_is_hid(hnid)) {
      PSTKIT_RETURN_IF_ERROR(heap_->free(hnid));
    } else if (subnode_changes_.new_subnodes.erase(hnid) == 0) {
      subnode_changes_.released_subnodes.insert(hnid);
    }
  }
  return Status::ok();
}

Status TableEditor::add_row(uint32_t row_id, const std::vector<PropValue>& cells) {
  PSTKIT_ASSIGN_OR_RETURN(auto existing, index_of(row_id));
  if (existing) return Status::invalid_argument("the table already has row " + hex(row_id));
  if (format_ == ndb::FileFormat::kAnsi && matrix_rows_ >= 0xFFFF) {
    return Status::invalid_argument("an ANSI TC holds at most 65535 rows");
  }
  PSTKIT_ASSIGN_OR_RETURN(Bytes row, encode_row(row_id, cells));
  const uint32_t index = matrix_rows_;
  PSTKIT_RETURN_IF_ERROR(append_matrix_row(ByteView(row)));
  return set_index(row_id, index);
}

Status TableEditor::replace_row(uint32_t row_id, const std::vector<PropValue>& cells) {
  PSTKIT_ASSIGN_OR_RETURN(auto index, index_of(row_id));
  if (!index) return Status::not_found("the table has no row " + hex(row_id));
  PSTKIT_ASSIGN_OR_RETURN(Bytes old, read_row(*index));
  PSTKIT_RETURN_IF_ERROR(release_cells(ByteView(old)));
  PSTKIT_ASSIGN_OR_RETURN(Bytes row, encode_row(row_id, cells));
  return write_row(*index, ByteView(row));
}

Status TableEditor::put_row(uint32_t row_id, const std::vector<PropValue>& cells) {
  PSTKIT_ASSIGN_OR_RETURN(auto index, index_of(row_id));
  return index ? replace_row(row_id, cells) : add_row(row_id, cells);
}

Result<bool> TableEditor::remove_row(uint32_t row_id) {
  PSTKIT_ASSIGN_OR_RETURN(auto index, index_of(row_id));
  if (!index) return false;
  PSTKIT_ASSIGN_OR_RETURN(Bytes old, read_row(*index));
  PSTKIT_RETURN_IF_ERROR(release_cells(ByteView(old)));
  uint8_t key[4];
  store_le32(key, row_id);
  PSTKIT_RETURN_IF_ERROR(row_index_->erase(ByteView(key, 4)).status());
  const uint32_t last = matrix_rows_ - 1;
  if (*index != last) {
    // The last row fills the gap.
    PSTKIT_ASSIGN_OR_RETURN(Bytes moved, read_row(last));
    PSTKIT_RETURN_IF_ERROR(write_row(*index, ByteView(moved)));
    PSTKIT_RETURN_IF_ERROR(set_index(load_le32(moved.data()), *index));
  }
  PSTKIT_RETURN_IF_ERROR(drop_last_matrix_row());
  return true;
}

Result<NodeEdit> TableEditor::build() const {
  NodeEdit out = subnode_changes_;
  PSTKIT_ASSIGN_OR_RETURN(out.data.changed, heap_->build_changed());
  out.data.block_count = heap_->block_count();
  if (rows_hnid_ != 0 && !hnid_is_hid(rows_hnid_)) {
    out.edited_subnodes[rows_hnid_] = StreamEdit{matrix_blocks_, matrix_changed_};
  }
  if (matrix_node_ && matrix_node_->id() != rows_hnid_) out.released_subnodes.insert(matrix_node_->id());
  return out;
}

}  // namespace pstkit::ltp
