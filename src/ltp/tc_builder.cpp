// MS-PST 2.3.4 Table Context, written: an HN (bClientSig 0x7C) whose user
// root is TCINFO (with the TCOLDESCs), a row index BTH (dwRowID ->
// dwRowIndex) and a row matrix of fixed-size rows.
//
// Allocation order follows Outlook's: the row index BTHHEADER, TCINFO, the
// row index records, the row matrix (when in the heap), then the cell values
// row by row in column (iBit) order.
#include <algorithm>

#include "ltp/value_builder.h"
#include "pstkit/ltp_builder.h"

namespace pstkit::ltp {

using namespace detail;  // cell layout helpers shared by the table writers

namespace {

constexpr uint8_t kRowIdKeySize = 4;   // MS-PST 2.3.4.3.1 TCROWID dwRowID
constexpr size_t kMaxColumns = 255;    // cCols is one byte
}  // namespace

struct TcBuilder::Cell {
  Bytes data;                   // the value, unless it stays in source_subnode
  ndb::Nid source_subnode = 0;  // value held in this subnode of the source node
};

TcBuilder::TcBuilder(ndb::FileFormat format, size_t max_block, NidAllocator allocate_nid)
    : format_(format), max_block_(max_block), allocate_nid_(std::move(allocate_nid)) {}

Status TcBuilder::lay_out() {
  if (order_.size() > kMaxColumns) {
    return Status::invalid_argument("a TC has at most 255 columns, not " + std::to_string(order_.size()));
  }
  // MS-PST 2.3.4.4.1: dwRowID at 0 (iBit 0), dwRowVer at 4 (iBit 1); then the
  // 8- and 4-byte cells, the 2-byte and the 1-byte ones, each group in
  // column order; then the CEB.
  std::vector<Column> columns(order_.size());
  size_t offset = 0;
  const size_t group_widths[3][2] = {{4, 8}, {2, 2}, {1, 1}};
  for (int group = 0; group < 3; ++group) {
    for (size_t pos = 0; pos < order_.size(); ++pos) {
      const size_t width = cell_width(tag_type(order_[pos]));
      if (width != group_widths[group][0] && width != group_widths[group][1]) continue;
      columns[pos] = Column{order_[pos], uint16_t(offset), uint8_t(width), uint8_t(pos)};
      offset += width;
    }
    group_ends_[group] = uint16_t(offset);
  }
  const size_t row_size = offset + (order_.size() + 7) / 8;
  if (row_size > max_block_) {
    return Status::invalid_argument("TC row of " + std::to_string(row_size) + " bytes exceeds a block");
  }
  group_ends_[3] = uint16_t(row_size);
  column_position_.resize(order_.size());
  for (size_t pos = 0; pos < order_.size(); ++pos) column_position_[pos] = pos;
  // MS-PST 2.3.4.1: rgTCOLDESC sorted by tag.
  std::sort(column_position_.begin(), column_position_.end(),
            [&](size_t a, size_t b) { return order_[a] < order_[b]; });
  columns_.clear();
  for (size_t pos : column_position_) columns_.push_back(columns[pos]);
  return Status::ok();
}

Result<TcBuilder> TcBuilder::create(ndb::FileFormat format, const std::vector<PropTag>& columns,
                                    NidAllocator allocate_nid) {
  PSTKIT_ASSIGN_OR_RETURN(size_t max_block, max_block_data_size(format));
  if (!allocate_nid) allocate_nid = sequential_nid_allocator();
  TcBuilder b(format, max_block, std::move(allocate_nid));
  b.order_ = {kRowIdTag, kRowVerTag};
  for (PropTag tag : columns) {
    if (tag == kRowIdTag || tag == kRowVerTag) continue;
    if (cell_width(tag_type(tag)) == 0) {
      return Status::invalid_argument("column " + hex(tag) + ": " + prop_type_name(tag_type(tag)) +
                                      " cannot be a TC column");
    }
    if (std::find(b.order_.begin(), b.order_.end(), tag) != b.order_.end()) {
      return Status::invalid_argument("column " + hex(tag) + " given twice");
    }
    b.order_.push_back(tag);
  }
  PSTKIT_RETURN_IF_ERROR(b.lay_out());
  return b;
}

Result<TcBuilder> TcBuilder::from_existing(const TableContext& tc, NidAllocator allocate_nid,
                                           std::optional<ndb::FileFormat> format) {
  const Heap& heap = tc.heap();
  if (!allocate_nid) {
    PSTKIT_ASSIGN_OR_RETURN(allocate_nid, nid_allocator_after(heap.node()));
  }
  const ndb::FileFormat out_format = format.value_or(heap.options().format);
  PSTKIT_ASSIGN_OR_RETURN(size_t max_block, max_block_data_size(out_format));
  TcBuilder b(out_format, max_block, std::move(allocate_nid));

  for (const Column& c : tc.columns()) {
    if (cell_width(tag_type(c.tag)) == 0) {
      return Status::unsupported("node " + hex(tc.nid()) + " column " + hex(c.tag) + ": " +
                                 prop_type_name(tag_type(c.tag)) + " cells cannot be rewritten");
    }
  }
  // The columns in iBit order, the order Outlook added them.
  std::vector<Column> by_bit = tc.columns();
  std::stable_sort(by_bit.begin(), by_bit.end(), [](const Column& x, const Column& y) { return x.bit < y.bit; });
  for (const Column& c : by_bit) b.order_.push_back(c.tag);
  // The layout is kept when it is one this builder can fill: dwRowID at 0,
  // every slot as wide as its type needs, rows that fit a block.
  auto row_id_column = tc.find_column(kRowIdTag);
  bool keep_layout = row_id_column && tc.columns()[*row_id_column].offset == 0 && tc.row_size() <= max_block;
  for (const Column& c : tc.columns()) keep_layout = keep_layout && c.size == cell_width(tag_type(c.tag));
  if (keep_layout) {
    b.columns_ = tc.columns();
    std::stable_sort(b.columns_.begin(), b.columns_.end(), [](const Column& x, const Column& y) { return x.tag < y.tag; });
    for (const Column& c : b.columns_) {
      b.column_position_.push_back(size_t(std::find(b.order_.begin(), b.order_.end(), c.tag) - b.order_.begin()));
    }
    for (int g = 0; g < 4; ++g) b.group_ends_[g] = tc.group_end(TableContext::GroupEnd(g));
  } else {
    // Lay the table out afresh, row id first.
    b.order_.erase(std::remove_if(b.order_.begin(), b.order_.end(),
                                  [](PropTag t) { return t == kRowIdTag || t == kRowVerTag; }),
                   b.order_.end());
    b.order_.insert(b.order_.begin(), {kRowIdTag, kRowVerTag});
    PSTKIT_RETURN_IF_ERROR(b.lay_out());
  }

  if (tc.rows_hnid() != 0 && !hnid_is_hid(tc.rows_hnid())) b.source_matrix_nid_ = tc.rows_hnid();
  // Rows in matrix order; a matrix row the row index does not name is dead.
  std::map<uint32_t, uint32_t> id_of_row;  // matrix row -> dwRowID
  for (const TableContext::RowIndexEntry& e : tc.row_index()) id_of_row[e.row_index] = e.row_id;
  const uint16_t ceb_offset = tc.group_end(TableContext::kEnd1b);
  for (const auto& [matrix_row, row_id] : id_of_row) {
    PSTKIT_ASSIGN_OR_RETURN(Bytes bytes, tc.row_bytes(matrix_row));
    if (load_le32(bytes.data()) != row_id) {
      return Status::corrupt("TC row index", Status::kNoOffset,
                             "node " + hex(tc.nid()) + ": row index names row " + std::to_string(matrix_row) +
                                 " for id " + hex(row_id) + ", the row holds " + hex(load_le32(bytes.data())));
    }
    Row row;
    row.id = row_id;
    row.cells.resize(b.order_.size());
    for (const Column& c : tc.columns()) {
      if (!cell_exists(bytes.data() + ceb_offset, c.bit)) continue;
      auto cell = std::make_shared<Cell>();
      const uint16_t type = tag_type(c.tag);
      const ByteView slot = ByteView(bytes).sub(c.offset, c.size);
      if (stored_inline(type)) {
        cell->data = slot.sub(0, fixed_type_size(type)).to_bytes();
      } else if (slot.size() == kHnidSize) {
        const Hnid hnid = slot.u32(0);
        if (hnid != 0 && hnid_is_hid(hnid)) {
          PSTKIT_ASSIGN_OR_RETURN(ByteView v, heap.get(hnid));
          cell->data = v.to_bytes();
        } else if (hnid != 0) {
          cell->source_subnode = hnid;
          b.source_subnodes_.insert(hnid);
        }
      } else {
        return Status::corrupt("TC column", Status::kNoOffset,
                               "node " + hex(tc.nid()) + " column " + hex(c.tag) + ": cbData " +
                                   std::to_string(c.size) + ", expected a 4-byte HNID");
      }
      auto pos = b.position_of(c.tag);
      if (pos) row.cells[*pos] = std::move(cell);
    }
    b.row_positions_[row.id] = b.rows_.size();
    b.rows_.push_back(std::move(row));
  }
  return b;
}

std::optional<size_t> TcBuilder::position_of(PropTag tag) const {
  auto it = std::find(order_.begin(), order_.end(), tag);
  if (it == order_.end()) return std::nullopt;
  return size_t(it - order_.begin());
}

std::optional<size_t> TcBuilder::find_column(PropTag tag) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].tag == tag) return i;
  }
  return std::nullopt;
}

Status TcBuilder::add_column(PropTag tag) {
  if (cell_width(tag_type(tag)) == 0) {
    return Status::invalid_argument("column " + hex(tag) + ": " + prop_type_name(tag_type(tag)) +
                                    " cannot be a TC column");
  }
  if (position_of(tag)) return Status::invalid_argument("column " + hex(tag) + " already present");
  order_.push_back(tag);
  Status s = lay_out();
  if (!s.is_ok()) {
    order_.pop_back();
    PSTKIT_RETURN_IF_ERROR(lay_out());
    return s;
  }
  for (Row& r : rows_) r.cells.resize(order_.size());
  return Status::ok();
}

Result<std::shared_ptr<const TcBuilder::Cell>> TcBuilder::make_cell(PropTag tag, ByteView value) const {
  PSTKIT_RETURN_IF_ERROR(detail::check_value(tag, value));
  auto cell = std::make_shared<Cell>();
  cell->data = value.to_bytes();
  return std::shared_ptr<const Cell>(std::move(cell));
}

Result<std::vector<std::shared_ptr<const TcBuilder::Cell>>> TcBuilder::make_cells(
    uint32_t row_id, const std::vector<PropValue>& cells) const {
  std::vector<std::shared_ptr<const Cell>> out(order_.size());
  for (const PropValue& v : cells) {
    auto pos = position_of(v.tag);
    if (!pos) return Status::invalid_argument("row " + hex(row_id) + ": the table has no column " + hex(v.tag));
    if (out[*pos]) return Status::invalid_argument("row " + hex(row_id) + ": column " + hex(v.tag) + " given twice");
    if (v.tag == kRowIdTag && (v.data.size() != 4 || load_le32(v.data.data()) != row_id)) {
      return Status::invalid_argument("row " + hex(row_id) + ": PidTagLtpRowId cell differs from the row id");
    }
    PSTKIT_ASSIGN_OR_RETURN(out[*pos], make_cell(v.tag, ByteView(v.data)));
  }
  // MS-PST 2.3.4.4.1: dwRowID is the row's PidTagLtpRowId.
  Bytes id(4);
  store_le32(id.data(), row_id);
  PSTKIT_ASSIGN_OR_RETURN(out[*position_of(kRowIdTag)], make_cell(kRowIdTag, ByteView(id)));
  return out;
}

Status TcBuilder::add_row(uint32_t row_id, const std::vector<PropValue>& cells) {
  if (has_row(row_id)) return Status::invalid_argument("the table already has row " + hex(row_id));
  if (!position_of(kRowIdTag)) return Status::invalid_argument("the table has no PidTagLtpRowId column");
  PSTKIT_ASSIGN_OR_RETURN(auto made, make_cells(row_id, cells));
  row_positions_[row_id] = rows_.size();
  rows_.push_back(Row{row_id, std::move(made)});
  return Status::ok();
}

Status TcBuilder::replace_row(uint32_t row_id, const std::vector<PropValue>& cells) {
  auto it = row_positions_.find(row_id);
  if (it == row_positions_.end()) return Status::not_found("the table has no row " + hex(row_id));
  PSTKIT_ASSIGN_OR_RETURN(rows_[it->second].cells, make_cells(row_id, cells));
  return Status::ok();
}

Status TcBuilder::set_cell(uint32_t row_id, PropTag tag, std::optional<ByteView> value) {
  auto it = row_positions_.find(row_id);
  if (it == row_positions_.end()) return Status::not_found("the table has no row " + hex(row_id));
  auto pos = position_of(tag);
  if (!pos) return Status::invalid_argument("the table has no column " + hex(tag));
  if (tag == kRowIdTag) return Status::invalid_argument("PidTagLtpRowId is the row id; remove and add the row");
  std::shared_ptr<const Cell> cell;
  if (value) {
    PSTKIT_ASSIGN_OR_RETURN(cell, make_cell(tag, *value));
  }
  rows_[it->second].cells[*pos] = std::move(cell);
  return Status::ok();
}

bool TcBuilder::remove_row(uint32_t row_id) {
  auto it = row_positions_.find(row_id);
  if (it == row_positions_.end()) return false;
  rows_.erase(rows_.begin() + long(it->second));
  row_positions_.clear();
  for (size_t i = 0; i < rows_.size(); ++i) row_positions_[rows_[i].id] = i;
  return true;
}

bool TcBuilder::has_row(uint32_t row_id) const { return row_positions_.count(row_id) != 0; }

std::vector<uint32_t> TcBuilder::row_ids() const {
  std::vector<uint32_t> ids;
  ids.reserve(rows_.size());
  for (const Row& r : rows_) ids.push_back(r.id);
  return ids;
}

Result<BuiltNode> TcBuilder::build() const {
  BuiltNode out;
  const bool ansi = format_ == ndb::FileFormat::kAnsi;
  // MS-PST 2.3.4.3.1: dwRowIndex is 2 bytes in ANSI files, 4 in Unicode.
  const uint8_t row_index_size = ansi ? 2 : 4;
  if (ansi && rows_.size() > 0x10000) {
    return Status::invalid_argument("an ANSI TC holds at most 65536 rows, not " + std::to_string(rows_.size()));
  }
  PSTKIT_ASSIGN_OR_RETURN(HeapBuilder heap, HeapBuilder::create(format_, kClientTableContext));
  PSTKIT_ASSIGN_OR_RETURN(BthBuilder row_index, BthBuilder::create(kRowIdKeySize, row_index_size));
  PSTKIT_ASSIGN_OR_RETURN(Hid row_index_header, BthBuilder::reserve_header(heap));
  const size_t info_size = kTcInfoSize + kTcColDescSize * columns_.size();
  PSTKIT_ASSIGN_OR_RETURN(Hid info_hid, heap.allocate(ByteView(Bytes(info_size, 0))));
  heap.set_user_root(info_hid);

  for (size_t i = 0; i < rows_.size(); ++i) {
    uint8_t key[4];
    uint8_t index[4];
    store_le32(key, rows_[i].id);
    store_le32(index, uint32_t(i));
    PSTKIT_RETURN_IF_ERROR(row_index.set(ByteView(key, 4), ByteView(index, row_index_size)));
  }
  PSTKIT_RETURN_IF_ERROR(row_index.build(heap, row_index_header).status());

  // The row matrix: reserved before the values, filled after.
  const size_t row_size = this->row_size();
  const size_t matrix_size = rows_.size() * row_size;
  Hnid rows_hnid = 0;
  if (matrix_size != 0 && matrix_size <= kMaxHeapAllocation) {
    PSTKIT_ASSIGN_OR_RETURN(rows_hnid, heap.allocate(ByteView(Bytes(matrix_size, 0))));
  } else if (matrix_size != 0) {
    rows_hnid = source_matrix_nid_ != 0 ? source_matrix_nid_ : allocate_nid_();
    if (ndb::nid_type(rows_hnid) == ndb::kNidTypeHid) {
      return Status::invalid_argument("NID allocator returned " + hex(rows_hnid) + ", a HID");
    }
    out.subnodes[rows_hnid];  // taken before any value subnode
  }

  // MS-PST 2.3.4.4.1 rows: cells, then the CEB.
  std::vector<const Column*> by_position(order_.size());
  for (size_t i = 0; i < columns_.size(); ++i) by_position[column_position_[i]] = &columns_[i];
  Bytes matrix(matrix_size, 0);
  for (size_t r = 0; r < rows_.size(); ++r) {
    uint8_t* row = matrix.data() + r * row_size;
    uint8_t* ceb = row + group_ends_[TableContext::kEnd1b];
    const Row& src = rows_[r];
    for (size_t pos = 0; pos < order_.size(); ++pos) {
      const Cell* cell = pos < src.cells.size() ? src.cells[pos].get() : nullptr;
      if (cell == nullptr) continue;  // absent: zero slot, CEB bit clear
      const Column& col = *by_position[pos];
      if (stored_inline(tag_type(col.tag))) {
        std::copy(cell->data.begin(), cell->data.end(), row + col.offset);
      } else {
        Hnid hnid = cell->source_subnode;
        if (hnid != 0) {
          out.reused_subnodes.insert(hnid);
        } else {
          PSTKIT_ASSIGN_OR_RETURN(hnid, detail::store_value(heap, ByteView(cell->data), allocate_nid_,
                                                             max_block_, out.subnodes));
        }
        store_le32(row + col.offset, hnid);
      }
      set_cell_exists(ceb, col.bit);
    }
  }
  if (rows_hnid != 0 && hnid_is_hid(rows_hnid)) {
    PSTKIT_RETURN_IF_ERROR(heap.replace(rows_hnid, ByteView(matrix)));
  } else if (rows_hnid != 0) {
    // MS-PST 2.3.4.4: whole rows per block; every block but the last is full
    // size, its tail dead space.
    const size_t per_block = max_block_ / row_size;
    BuiltNode& node = out.subnodes[rows_hnid];
    for (size_t first = 0; first < rows_.size(); first += per_block) {
      const size_t count = std::min(per_block, rows_.size() - first);
      const bool last = first + count == rows_.size();
      Bytes block(last ? count * row_size : max_block_, 0);
      std::copy(matrix.begin() + long(first * row_size), matrix.begin() + long((first + count) * row_size),
                block.begin());
      node.blocks.push_back(std::move(block));
    }
  }

  // MS-PST 2.3.4.1 TCINFO and 2.3.4.2 TCOLDESCs.
  Bytes info(info_size, 0);
  info[0] = kClientTableContext;
  info[1] = uint8_t(columns_.size());
  for (int g = 0; g < 4; ++g) store_le16(info.data() + 2 + 2 * g, group_ends_[g]);
  store_le32(info.data() + 10, row_index_header);  // hidRowIndex
  store_le32(info.data() + 14, rows_hnid);         // hnidRows
  store_le32(info.data() + 18, 0);                 // hidIndex: deprecated, 0
  for (size_t i = 0; i < columns_.size(); ++i) {
    uint8_t* d = info.data() + kTcInfoSize + kTcColDescSize * i;
    store_le32(d, columns_[i].tag);
    store_le16(d + 4, columns_[i].offset);
    d[6] = columns_[i].size;
    d[7] = columns_[i].bit;
  }
  PSTKIT_RETURN_IF_ERROR(heap.replace(info_hid, ByteView(info)));

  for (ndb::Nid nid : source_subnodes_) {
    if (out.reused_subnodes.count(nid) == 0) out.released_subnodes.insert(nid);
  }
  if (source_matrix_nid_ != 0) out.released_subnodes.insert(source_matrix_nid_);
  out.blocks = heap.build();
  return out;
}

std::vector<PropTag> template_columns(const TableContext& tc) {
  std::vector<TableContext::Column> by_bit = tc.columns();
  std::stable_sort(by_bit.begin(), by_bit.end(),
                   [](const TableContext::Column& a, const TableContext::Column& b) { return a.bit < b.bit; });
  std::vector<PropTag> tags;
  tags.reserve(by_bit.size());
  for (const auto& c : by_bit) tags.push_back(c.tag);
  return tags;
}

Result<BuiltNode> build_empty_table(ndb::FileFormat format, const std::vector<PropTag>& columns) {
  PSTKIT_ASSIGN_OR_RETURN(TcBuilder b, TcBuilder::create(format, columns));
  return b.build();
}

}  // namespace pstkit::ltp
