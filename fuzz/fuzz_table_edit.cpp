// Fuzzes the in-place table editor (TableEditor, BthEditor, HeapBuilder
// opened in place), which a writer runs on tables read from the user's file:
// the input becomes an in-memory node as in fuzz_ltp.cpp (same layout, so
// its seeds apply), opened for editing; rows are looked up, added, replaced
// and removed, and the edit is built. Any input must yield Statuses, never a
// crash, a hang or an unbounded allocation.
//
// Input layout (as fuzz_ltp.cpp):
//   byte 0        bits 0-1: data blocks - 1 (0..2, 3 means 1)
//                 bits 2-3: subnodes (0..2, 3 means 0)
//                 bit 4:    ANSI file (2-byte row indexes, PtypString8)
//   per subnode   4-byte NID
//   per chunk     2-byte little-endian length, then that many bytes

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

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
  ByteView in(data, size);
  const uint8_t control = in.u8(0);
  size_t pos = 1;
  size_t block_count = 1 + (control & 3);
  if (block_count > 3) block_count = 1;
  size_t subnode_count = (control >> 2) & 3;
  if (subnode_count > 2) subnode_count = 0;
  const auto format = (control & 0x10) ? ndb::FileFormat::kAnsi : ndb::FileFormat::kUnicode;

  std::vector<ndb::Nid> subnode_nids;
  for (size_t i = 0; i < subnode_count; ++i) {
    subnode_nids.push_back(in.has(pos, 4) ? in.u32(pos) : 0);
    pos += 4;
  }
  std::vector<Bytes> chunks;
  for (size_t i = 0; i < block_count + subnode_count; ++i) {
    size_t len = in.has(pos, 2) ? in.u16(pos) : 0;
    pos += 2;
    const ByteView rest = in.sub(pos);
    if (len > rest.size() || i + 1 == block_count + subnode_count) len = rest.size();
    chunks.push_back(rest.sub(0, len).to_bytes());
    pos += len;
  }
  std::vector<Bytes> blocks(chunks.begin(), chunks.begin() + long(block_count));
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  for (size_t i = 0; i < subnode_count; ++i) {
    const Bytes& c = chunks[block_count + i];
    const size_t half = c.size() / 2;
    subnodes[subnode_nids[i]] = {Bytes(c.begin(), c.begin() + long(half)), Bytes(c.begin() + long(half), c.end())};
  }
  std::shared_ptr<const ndb::Node> node(ndb::make_memory_node(0x21, std::move(blocks), std::move(subnodes)));

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
