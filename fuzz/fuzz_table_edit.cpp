// Fuzzes the in-place table editor (TableEditor, BthEditor, HeapBuilder
// opened in place), which a writer runs on tables read from the user's file:
// the input becomes an in-memory node as in fuzz_ltp.cpp (same layout, so
// its seeds apply), opened for editing; rows are looked up, added, replaced
// and removed, and the edit is built. Any input must yield Statuses, never a
// crash, a hang or an unbounded allocation.
//
// Input layout: memory_node_input.h (bit 4: an ANSI file, 2-byte row
// indexes).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "memory_node_input.h"
#include "pstkit/ltp_editor.h"

namespace {

using namespace pstkit;

constexpr size_t kMaxRowIds = 64;

// A value of the column's type (sizes from the type, contents arbitrary).
ltp::PropValue value_for(ltp::PropTag tag, uint8_t seed) {
  const uint16_t type = ltp::tag_type(tag);
  size_t size = ltp::fixed_type_size(type);
  if (ltp::is_multi_valued(type)) size = size ? 2 * size : 0;
  if (size == 0) size = type == ltp::kPtypObject ? 8 : 6 + seed % 5;
  Bytes b(size, seed);
  if (ltp::is_multi_valued(type) && ltp::fixed_type_size(type) == 0) {
    b = ltp::encode_mv_variable({Bytes(2, seed), Bytes(4, seed)});
  }
  return ltp::PropValue{tag, b};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const fuzz::MemoryNodeInput input = fuzz::parse_memory_node_input(ByteView(data, size));
  const std::shared_ptr<const ndb::Node>& node = input.node;
  const auto format = input.format_bit ? ndb::FileFormat::kAnsi : ndb::FileFormat::kUnicode;

  auto editor = ltp::TableEditor::open(node, format);
  if (!editor.is_ok()) return 0;
  std::vector<uint32_t> ids;
  if (editor->row_count() <= kMaxRowIds) {
    auto listed = editor->row_ids();
    if (listed.is_ok()) ids = *listed;
  }
  std::vector<ltp::PropValue> cells;
  for (size_t i = 0; i < editor->columns().size() && i < 8; ++i) {
    const auto& c = editor->columns()[i];
    if (c.tag != 0x67F20003) cells.push_back(value_for(c.tag, uint8_t(i)));
  }
  for (uint32_t id : ids) (void)editor->has_row(id);
  if (!ids.empty()) {
    (void)editor->put_row(ids.front(), cells);
    (void)editor->remove_row(ids.back());
  }
  for (uint32_t id = 0x10000; id < 0x10000 + 40; id += 4) {
    if (!editor->add_row(id, cells).is_ok()) break;
  }
  (void)editor->remove_row(0x10004);
  (void)editor->build();
  return 0;
}
