// MS-PST 2.3.4 Table Context: TCINFO + TCOLDESCs, a row index BTH and a row
// matrix of fixed-size rows kept in a heap allocation or in a subnode.
#include <algorithm>
#include <set>

#include "pstkit/ltp.h"

namespace pstkit::ltp {

namespace {

constexpr size_t kTcInfoSize = 22;   // MS-PST 2.3.4.1 TCINFO before rgTCOLDESC
constexpr size_t kTcColDescSize = 8; // MS-PST 2.3.4.2 TCOLDESC
constexpr uint8_t kRowIdKeySize = 4; // MS-PST 2.3.4.3.1 TCROWID dwRowID

bool cell_exists(ByteView row, size_t ceb_offset, uint8_t bit) {
  // MS-PST 2.3.4.4.1: iBit 0 is the most significant bit of rgCEB[0].
  return (row.u8(ceb_offset + bit / 8) & (1u << (7 - bit % 8))) != 0;
}

// The leaf records of a BTH (MS-PST 2.3.2), counted with each record array
// read through a heap of its own, dropped once the array is read: a Heap
// keeps every block it loads, and the row index of a table of 100,000 rows
// lies in blocks that also hold its cells (megabytes a walk by row number
// never reads). Fails where Bth::for_each does: a HID reached twice, an
// array that is not whole records, more levels than bIdxLevels.
Result<size_t> count_bth_records(const std::shared_ptr<const ndb::Node>& node, const Options& options,
                                 const Bth& bth) {
  struct Pending {
    Hid hid;
    int level;
  };
  std::vector<Pending> pending;
  if (bth.root() != 0) pending.push_back({bth.root(), bth.index_levels()});
  std::set<Hid> seen;
  size_t count = 0;
  while (!pending.empty()) {
    const Pending p = pending.back();
    pending.pop_back();
    const auto at = [&] { return "node " + hex(node->id()) + " BTH records " + hex(p.hid); };
    if (!seen.insert(p.hid).second) return Status::corrupt("BTH", Status::kNoOffset, at() + ": reached twice (cycle)");
    PSTKIT_ASSIGN_OR_RETURN(Heap heap, Heap::open(node, options));
    auto records = heap.get(p.hid);
    if (!records.is_ok()) return records.status().with_context("BTH records");
    const ByteView r = *records;
    const size_t record_size = bth.key_size() + (p.level > 0 ? 4 : bth.data_size());
    if (r.size() % record_size != 0) {
      return Status::corrupt("BTH", Status::kNoOffset,
                             at() + ": " + std::to_string(r.size()) + " bytes is not a multiple of " +
                                 std::to_string(record_size));
    }
    if (p.level == 0) {
      count += r.size() / record_size;
      continue;
    }
    // Children in reverse, so that they are read in stored order.
    for (size_t off = r.size(); off >= record_size; off -= record_size) {
      pending.push_back({r.u32(off - record_size + bth.key_size()), p.level - 1});
    }
  }
  return count;
}

}  // namespace

Result<TableContext> TableContext::open(std::shared_ptr<const ndb::Node> node, const Options& options,
                                       RowIndex row_index) {
  PSTKIT_ASSIGN_OR_RETURN(Heap heap, Heap::open(std::move(node), options));
  const auto at = [&] { return "node " + hex(heap.nid()); };
  if (heap.client_signature() != kClientTableContext) {
    return Status::corrupt("TC", Status::kNoOffset,
                           at() + ": bClientSig " + hex(heap.client_signature()) + ", expected 0x7c");
  }
  TableContext tc(heap);

  // TCINFO at hidUserRoot.
  auto info_view = heap.get(heap.user_root());
  if (!info_view.is_ok()) return info_view.status().with_context("TCINFO");
  const ByteView info = *info_view;
  if (info.size() < kTcInfoSize || info.u8(0) != kClientTableContext) {
    return Status::corrupt("TCINFO", Status::kNoOffset,
                           at() + ": " + std::to_string(info.size()) + " bytes" +
                               (info.empty() ? std::string() : ", bType " + hex(info.u8(0))));
  }
  const size_t column_count = info.u8(1);
  if (!info.has(kTcInfoSize, column_count * kTcColDescSize)) {
    return Status::corrupt("TCINFO", Status::kNoOffset,
                           at() + ": cCols " + std::to_string(column_count) + " needs more than " +
                               std::to_string(info.size()) + " bytes");
  }
  for (int i = 0; i < 4; ++i) tc.group_ends_[i] = info.u16(2 + 2 * i);
  const Hid row_index_hid = info.u32(10);
  tc.row_index_hid_ = row_index_hid;
  tc.row_index_kept_ = row_index == RowIndex::kKeep;
  tc.rows_hnid_ = info.u32(14);
  const uint16_t* g = tc.group_ends_;
  if (!(g[kEnd4b] <= g[kEnd2b] && g[kEnd2b] <= g[kEnd1b] && g[kEnd1b] <= g[kEndBitmap])) {
    return Status::corrupt("TCINFO", Status::kNoOffset,
                           at() + ": rgib " + std::to_string(g[0]) + "," + std::to_string(g[1]) + "," +
                               std::to_string(g[2]) + "," + std::to_string(g[3]) + " not ascending");
  }
  const size_t ceb_bytes = g[kEndBitmap] - g[kEnd1b];
  if (ceb_bytes * 8 < column_count) {
    return Status::corrupt("TCINFO", Status::kNoOffset,
                           at() + ": cell existence block of " + std::to_string(ceb_bytes) +
                               " bytes for " + std::to_string(column_count) + " columns");
  }

  // rgTCOLDESC: each column's slot must lie in the data part of the row and
  // its bit in the CEB.
  tc.columns_.reserve(column_count);
  for (size_t i = 0; i < column_count; ++i) {
    const size_t off = kTcInfoSize + i * kTcColDescSize;
    Column c{info.u32(off), info.u16(off + 4), info.u8(off + 6), info.u8(off + 7)};
    if (c.size == 0 || size_t(c.offset) + c.size > g[kEnd1b] || size_t(c.bit) >= ceb_bytes * 8) {
      return Status::corrupt("TCOLDESC", Status::kNoOffset,
                             at() + ": column " + hex(c.tag) + " ibData " + std::to_string(c.offset) +
                                 " cbData " + std::to_string(c.size) + " iBit " +
                                 std::to_string(c.bit) + " outside the row layout");
    }
    tc.columns_.push_back(c);
  }

  // Row index BTH: dwRowID -> dwRowIndex (4 bytes Unicode, 2 bytes ANSI).
  if (row_index_hid != 0) {
    auto bth = Bth::open(heap, row_index_hid);
    if (!bth.is_ok()) return bth.status().with_context("TC row index");
    if (bth->key_size() != kRowIdKeySize || (bth->data_size() != 2 && bth->data_size() != 4)) {
      return Status::corrupt("TC row index", Status::kNoOffset,
                             at() + ": BTH cbKey " + std::to_string(bth->key_size()) + " cbEnt " +
                                 std::to_string(bth->data_size()));
    }
    const bool wide = bth->data_size() == 4;
    if (row_index == RowIndex::kKeep) {
      Status s = bth->for_each([&](ByteView key, ByteView data) {
        tc.row_index_.push_back({key.u32(0), wide ? data.u32(0) : data.u16(0)});
        return true;
      });
      if (!s.is_ok()) return s.with_context("TC row index");
      std::stable_sort(tc.row_index_.begin(), tc.row_index_.end(),
                       [](const RowIndexEntry& a, const RowIndexEntry& b) { return a.row_id < b.row_id; });
      tc.row_count_ = tc.row_index_.size();
    } else {
      auto count = count_bth_records(heap.node_ptr(), heap.options(), *bth);
      if (!count.is_ok()) return count.status().with_context("TC row index");
      tc.row_count_ = *count;
    }
  }

  // Row matrix (MS-PST 2.3.4.4).
  const size_t row_size = tc.row_size();
  if (tc.rows_hnid_ != 0) {
    if (row_size < 4) {
      return Status::corrupt("TC row matrix", Status::kNoOffset,
                             at() + ": row size " + std::to_string(row_size) + " cannot hold dwRowID");
    }
    if (hnid_is_hid(tc.rows_hnid_)) {
      auto rows = heap.get(tc.rows_hnid_);
      if (!rows.is_ok()) return rows.status().with_context("TC row matrix");
      tc.matrix_in_heap_ = *rows;
      tc.matrix_rows_ = rows->size() / row_size;
      tc.rows_per_block_ = tc.matrix_rows_;
    } else {
      auto sub = heap.node().subnode(tc.rows_hnid_);
      if (!sub.is_ok()) return sub.status().with_context("TC row matrix " + at());
      tc.matrix_node_ = std::shared_ptr<const ndb::Node>(std::move(*sub));
      if (!tc.matrix_node_) {
        return Status::corrupt("TC row matrix", Status::kNoOffset, at() + ": subnode missing");
      }
      const size_t blocks = tc.matrix_node_->block_count();
      if (blocks > 0) {
        // Rows never straddle blocks; every block but the last is full, so
        // the first block's size gives the rows per block whatever the
        // format's block size is.
        auto first = tc.matrix_node_->block(0);
        if (!first.is_ok()) return first.status().with_context("TC row matrix " + at());
        const size_t block_size = *first ? (*first)->size() : 0;
        tc.rows_per_block_ = block_size / row_size;
        if (tc.rows_per_block_ == 0) {
          return Status::corrupt("TC row matrix", Status::kNoOffset,
                                 at() + ": block of " + std::to_string(block_size) +
                                     " bytes holds no row of " + std::to_string(row_size));
        }
        const uint64_t total = tc.matrix_node_->size();
        const uint64_t full = uint64_t(blocks - 1) * block_size;
        const uint64_t last = total > full ? total - full : 0;
        tc.matrix_rows_ = (blocks - 1) * tc.rows_per_block_ + size_t(std::min<uint64_t>(last, block_size) / row_size);
      }
    }
  }
  return tc;
}

std::optional<size_t> TableContext::find_column(PropTag tag) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].tag == tag) return i;
  }
  return std::nullopt;
}

std::optional<size_t> TableContext::find_row(uint32_t row_id) const {
  if (!row_index_kept_) {
    // RowIndex::kCount: a search of the BTH (its path's blocks stay in the heap).
    if (row_index_hid_ == 0) return std::nullopt;
    auto bth = Bth::open(heap_, row_index_hid_);
    if (!bth.is_ok()) return std::nullopt;
    uint8_t key[kRowIdKeySize];
    for (size_t i = 0; i < kRowIdKeySize; ++i) key[i] = uint8_t(row_id >> (8 * i));
    auto data = bth->find(ByteView(key, kRowIdKeySize));
    if (!data.is_ok() || !*data) return std::nullopt;
    const ByteView d = **data;
    return d.size() >= 4 ? d.u32(0) : d.u16(0);
  }
  auto it = std::lower_bound(row_index_.begin(), row_index_.end(), row_id,
                             [](const RowIndexEntry& e, uint32_t id) { return e.row_id < id; });
  if (it == row_index_.end() || it->row_id != row_id) return std::nullopt;
  return it->row_index;
}

Result<SharedBytes> TableContext::matrix_block(size_t index) const {
  auto b = matrix_node_->block(index);
  if (!b.is_ok()) return b.status().with_context("TC row matrix node " + hex(nid()));
  if (!*b) return Status::corrupt("TC row matrix", Status::kNoOffset, "node " + hex(nid()) + ": block missing");
  return b;
}

// Rows are read in place (no copy per row): a folder's contents table is
// walked row by row, and recipient and attachment tables for every message.
Result<TableContext::RowView> TableContext::row_view(size_t row) const {
  const size_t row_size = this->row_size();
  if (row >= matrix_rows_) {
    if (row < row_count()) {
      return Status::corrupt("TC row matrix", Status::kNoOffset,
                             "node " + hex(nid()) + ": row " + std::to_string(row) + " of " +
                                 std::to_string(row_count()) + " missing, matrix holds " +
                                 std::to_string(matrix_rows_));
    }
    return Status::invalid_argument("node " + hex(nid()) + ": no row " + std::to_string(row));
  }
  if (!matrix_node_) return RowView{nullptr, matrix_in_heap_.sub(row * row_size, row_size)};
  const size_t block = row / rows_per_block_;
  const size_t offset = (row % rows_per_block_) * row_size;
  PSTKIT_ASSIGN_OR_RETURN(SharedBytes data, matrix_block(block));
  const ByteView v(*data);
  if (!v.has(offset, row_size)) {
    return Status::corrupt("TC row matrix", Status::kNoOffset,
                           "node " + hex(nid()) + ": row " + std::to_string(row) + " past the end of block " +
                               std::to_string(block) + " (" + std::to_string(v.size()) + " bytes)");
  }
  return RowView{std::move(data), v.sub(offset, row_size)};
}

Result<Bytes> TableContext::row_bytes(size_t row) const {
  PSTKIT_ASSIGN_OR_RETURN(RowView r, row_view(row));
  return r.bytes.to_bytes();
}

Result<uint32_t> TableContext::row_id(size_t row) const {
  PSTKIT_ASSIGN_OR_RETURN(RowView r, row_view(row));
  return r.bytes.u32(0);  // row_size() >= 4, checked at open
}

Result<PropValue> TableContext::decode_cell(const Column& col, ByteView slot) const {
  PropValue v;
  v.tag = col.tag;
  const uint16_t type = tag_type(col.tag);
  // Named only when something is wrong: every cell of every row comes here.
  const auto at = [&] { return "node " + hex(nid()) + " column " + hex(col.tag); };
  if (!is_known_type(type)) return Status::unsupported(at() + ": unknown property type");
  if (type == kPtypNull || type == kPtypUnspecified) return v;
  const size_t fixed = is_multi_valued(type) ? 0 : fixed_type_size(type);
  // MS-PST 2.3.4.4.2: fixed-size values up to 8 bytes are inline; larger
  // fixed (GUID), variable-size and multi-valued values are HNIDs.
  if (fixed != 0 && fixed <= 8) {
    if (slot.size() < fixed) {
      return Status::corrupt("TC column", Status::kNoOffset,
                             at() + ": cbData " + std::to_string(slot.size()) + " for a " +
                                 std::to_string(fixed) + "-byte type");
    }
    v.data = slot.sub(0, fixed).to_bytes();
    return v;
  }
  if (slot.size() != 4) {
    return Status::corrupt("TC column", Status::kNoOffset,
                           at() + ": cbData " + std::to_string(slot.size()) + ", expected a 4-byte HNID");
  }
  auto bytes = read_hnid(heap_, slot.u32(0), heap_.options().max_value_bytes);
  if (!bytes.is_ok()) return bytes.status().with_context(at());
  v.data = std::move(*bytes);
  if (fixed != 0 && v.data.size() != fixed) {
    return Status::corrupt("TC value", Status::kNoOffset,
                           at() + ": " + std::to_string(v.data.size()) + " bytes, expected " +
                               std::to_string(fixed));
  }
  return v;
}

Result<std::optional<PropValue>> TableContext::cell(size_t row, size_t column) const {
  if (column >= columns_.size()) {
    return Status::invalid_argument("node " + hex(nid()) + ": no column " + std::to_string(column));
  }
  PSTKIT_ASSIGN_OR_RETURN(RowView view, row_view(row));
  const ByteView r = view.bytes;
  const Column& c = columns_[column];
  if (!cell_exists(r, group_ends_[kEnd1b], c.bit)) return std::optional<PropValue>();
  PSTKIT_ASSIGN_OR_RETURN(PropValue v, decode_cell(c, r.sub(c.offset, c.size)));
  return std::optional<PropValue>(std::move(v));
}

Result<std::optional<PropValue>> TableContext::cell_by_tag(size_t row, PropTag tag) const {
  auto column = find_column(tag);
  if (!column) return std::optional<PropValue>();
  return cell(row, *column);
}

Result<std::vector<PropValue>> TableContext::row(size_t row) const {
  PSTKIT_ASSIGN_OR_RETURN(RowView view, row_view(row));
  const ByteView r = view.bytes;
  std::vector<PropValue> out;
  out.reserve(columns_.size());
  for (const Column& c : columns_) {
    if (!cell_exists(r, group_ends_[kEnd1b], c.bit)) continue;
    PSTKIT_ASSIGN_OR_RETURN(PropValue v, decode_cell(c, r.sub(c.offset, c.size)));
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace pstkit::ltp
