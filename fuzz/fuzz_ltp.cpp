// Fuzzes the LTP layer: the input becomes an in-memory node (1-3 data blocks
// and up to 2 subnodes), opened as a heap, BTH, PC and TC; every value and
// cell is read and decoded. Any input must yield values or Statuses.
//
// Input layout: memory_node_input.h (bit 4: 4 KiB-page OST HID layout).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "memory_node_input.h"
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
  const fuzz::MemoryNodeInput input = fuzz::parse_memory_node_input(ByteView(data, size));
  const std::shared_ptr<const ndb::Node>& node = input.node;
  ltp::Options options;
  options.format = input.format_bit ? ndb::FileFormat::kUnicode4k : ndb::FileFormat::kUnicode;
  options.max_value_bytes = 1 << 20;

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
