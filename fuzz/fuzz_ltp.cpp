// Fuzzes the LTP layer: the input becomes an in-memory node (1-3 data blocks
// and up to 2 subnodes), opened as a heap, BTH, PC and TC; every value and
// cell is read and decoded. Any input must yield values or Statuses.
//
// Input layout:
//   byte 0        bits 0-1: data blocks - 1 (0..2, 3 means 1)
//                 bits 2-3: subnodes (0..2, 3 means 0)
//                 bit 4:    4 KiB-page OST HID layout
//   per subnode   4-byte NID
//   per chunk     2-byte little-endian length, then that many bytes
//                 (data blocks first, then subnodes; the last chunk takes
//                 whatever is left when the input runs short)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "pstkit/ltp.h"

namespace {

using namespace pstkit;

// Caps that keep one input fast: every cell may name the largest heap item.
constexpr size_t kMaxRows = 32;
constexpr size_t kMaxCellRows = 4;
constexpr size_t kMaxProperties = 128;

void decode_value(const ltp::PropValue& v) {
  (void)v.as_i16();
  (void)v.as_i32();
  (void)v.as_i64();
  (void)v.as_bool();
  (void)v.as_float();
  (void)v.as_double();
  (void)v.as_currency();
  (void)v.as_time();
  (void)v.as_guid();
  (void)v.as_string();
  (void)v.as_string8();
  (void)v.mv_elements();
  (void)v.mv_strings();
  (void)ltp::parse_object_ref(v.data);
}

void exercise_pc(const std::shared_ptr<const ndb::Node>& node, const ltp::Options& options) {
  auto pc = ltp::PropertyContext::open(node, options);
  if (!pc.is_ok()) return;
  if (pc->entries().size() <= kMaxProperties) {
    std::vector<Status> errors;
    for (const ltp::PropValue& v : pc->all_readable(&errors)) decode_value(v);
  }
  size_t n = 0;
  for (const auto& e : pc->entries()) {
    if (++n > kMaxProperties) break;
    auto v = pc->get(e.id);
    if (v.is_ok()) decode_value(*v);
    auto stream = pc->open_value_node(e.id);
    if (stream.is_ok() && *stream) (void)(*stream)->read_all(1 << 20);
  }
  (void)pc->tags();
  (void)pc->get(0x3001);
}

void exercise_tc(const std::shared_ptr<const ndb::Node>& node, const ltp::Options& options) {
  auto tc = ltp::TableContext::open(node, options);
  if (!tc.is_ok()) return;
  const size_t rows = std::max(tc->row_count(), tc->matrix_row_count());
  for (size_t r = 0; r < rows && r < kMaxRows; ++r) {
    (void)tc->row_id(r);
    auto row = tc->row(r);
    if (row.is_ok()) {
      for (const ltp::PropValue& v : *row) decode_value(v);
    }
    if (r < kMaxCellRows) {
      for (size_t c = 0; c < tc->columns().size(); ++c) (void)tc->cell(r, c);
    }
  }
  for (const auto& e : tc->row_index()) (void)tc->find_row(e.row_id);
  (void)tc->cell_by_tag(0, 0x3001001F);
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
  ltp::Options options;
  options.format = (control & 0x10) ? ndb::FileFormat::kUnicode4k : ndb::FileFormat::kUnicode;
  options.max_value_bytes = 1 << 20;

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
  std::vector<Bytes> blocks(chunks.begin(), chunks.begin() + block_count);
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  for (size_t i = 0; i < subnode_count; ++i) {
    // A subnode of two halves exercises multi-block values and row matrices.
    const Bytes& c = chunks[block_count + i];
    const size_t half = c.size() / 2;
    subnodes[subnode_nids[i]] = {Bytes(c.begin(), c.begin() + half), Bytes(c.begin() + half, c.end())};
  }
  std::shared_ptr<const ndb::Node> node(ndb::make_memory_node(0x21, std::move(blocks), std::move(subnodes)));

  auto heap = ltp::Heap::open(node, options);
  if (!heap.is_ok()) return 0;
  for (const auto& b : heap->blocks()) {
    for (const auto& a : b.allocations) (void)heap->get(a.hid);
  }
  auto bth = ltp::Bth::open(*heap, heap->user_root());
  if (bth.is_ok()) {
    size_t n = 0;
    (void)bth->for_each([&](ByteView key, ByteView) {
      (void)bth->find(key);
      return ++n < 256;
    });
    (void)bth->validate();
  }
  exercise_pc(node, options);
  exercise_tc(node, options);
  return 0;
}
