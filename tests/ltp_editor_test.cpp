// In-place LTP editors: random edits of BTHs and tables, applied round after
// round to in-memory nodes the way the NDB writer applies them (changed
// blocks replaced, the rest kept), read back with the readers and compared
// with a model after every round.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/ltp_editor.h"

namespace pstkit::ltp {
namespace {

constexpr auto kUnicode = ndb::FileFormat::kUnicode;
constexpr auto kAnsi = ndb::FileFormat::kAnsi;
constexpr ndb::Nid kTableNid = 0x8E;

Bytes le32(uint32_t v) {
  Bytes b(4);
  store_le32(b.data(), v);
  return b;
}

Options options_for(ndb::FileFormat f) {
  Options o;
  o.format = f;
  return o;
}

// A node as blocks plus subnodes, rewritten by NodeEdits as the NDB writer
// would (unchanged blocks kept as they are).
struct MemoryNode {
  std::vector<Bytes> blocks;
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  size_t blocks_rewritten = 0;  // over all edits

  std::shared_ptr<const ndb::Node> node() const {
    return std::shared_ptr<const ndb::Node>(ndb::make_memory_node(kTableNid, blocks, subnodes));
  }

  static void apply_stream(std::vector<Bytes>& stream, const StreamEdit& e, size_t* rewritten) {
    stream.resize(e.block_count);
    for (const auto& [i, b] : e.changed) {
      ASSERT_LT(i, e.block_count);
      stream[i] = b;
      ++*rewritten;
    }
    for (size_t i = 0; i < stream.size(); ++i) {
      EXPECT_LE(stream[i].size(), 8180u) << "block " << i;
    }
  }

  void apply(const NodeEdit& e) {
    apply_stream(blocks, e.data, &blocks_rewritten);
    for (ndb::Nid n : e.released_subnodes) subnodes.erase(n);
    for (const auto& [n, s] : e.edited_subnodes) apply_stream(subnodes[n], s, &blocks_rewritten);
    for (const auto& [n, b] : e.new_subnodes) {
      EXPECT_EQ(subnodes.count(n), 0u) << "new subnode " << hex(n) << " already present";
      subnodes[n] = b.blocks;
    }
  }
};

// ---------------------------------------------------------------- BTH

TEST(LtpEditorBth, RandomEditsMatchAMapAcrossLevels) {
  for (auto format : {kUnicode, kAnsi}) {
    std::mt19937 rng(7);
    // An empty BTH (4-byte keys, 4-byte data) in a heap of its own.
    auto hb = HeapBuilder::create(format, kClientBth);
    ASSERT_TRUE(hb.is_ok());
    auto header = BthBuilder::reserve_header(*hb);
    ASSERT_TRUE(header.is_ok());
    ASSERT_TRUE(BthBuilder::create(4, 4)->build(*hb, *header).is_ok());
    hb->set_user_root(*header);
    MemoryNode mem;
    mem.blocks = hb->build();

    std::map<uint32_t, uint32_t> model;
    for (int round = 0; round < 12; ++round) {
      auto node = mem.node();
      const ndb::Node* raw = node.get();
      auto heap = HeapBuilder::open_in_place(format, raw->block_count(), [raw](size_t i) { return raw->block(i); });
      ASSERT_TRUE(heap.is_ok()) << heap.status().message();
      auto bth = BthEditor::open(*heap, heap->user_root());
      ASSERT_TRUE(bth.is_ok()) << bth.status().message();
      // Ascending appends (an import), random inserts, replacements, erases.
      const uint32_t base = uint32_t(round) * 1000;
      for (uint32_t i = 0; i < 900; ++i) {
        ASSERT_TRUE(bth->set(ByteView(le32(base + i)), ByteView(le32(i))).is_ok());
        model[base + i] = i;
      }
      for (int i = 0; i < 300; ++i) {
        const uint32_t k = rng() % 20000, v = rng();
        ASSERT_TRUE(bth->set(ByteView(le32(k)), ByteView(le32(v))).is_ok());
        model[k] = v;
      }
      for (int i = 0; i < (round % 3 == 2 ? 4000 : 400); ++i) {
        const uint32_t k = rng() % 20000;
        auto erased = bth->erase(ByteView(le32(k)));
        ASSERT_TRUE(erased.is_ok()) << erased.status().message();
        EXPECT_EQ(*erased, model.erase(k) == 1) << "key " << k;
      }
      for (int i = 0; i < 50; ++i) {
        const uint32_t k = rng() % 20000;
        auto found = bth->find(ByteView(le32(k)));
        ASSERT_TRUE(found.is_ok());
        EXPECT_EQ(found->has_value(), model.count(k) == 1);
      }
      auto changed = heap->build_changed();
      ASSERT_TRUE(changed.is_ok()) << changed.status().message();
      NodeEdit e;
      e.data.block_count = heap->block_count();
      e.data.changed = std::move(*changed);
      mem.apply(e);

      // Read back: every record, in order, tree shape checked by the reader.
      auto reread = Heap::open(mem.node(), options_for(format));
      ASSERT_TRUE(reread.is_ok()) << reread.status().message();
      auto tree = Bth::open(*reread, reread->user_root());
      ASSERT_TRUE(tree.is_ok()) << tree.status().message();
      Status valid = tree->validate();
      ASSERT_TRUE(valid.is_ok()) << "round " << round << ": " << valid.message();
      std::map<uint32_t, uint32_t> seen;
      ASSERT_TRUE(tree->for_each([&](ByteView k, ByteView d) {
                        seen[k.u32(0)] = d.u32(0);
                        return true;
                      }).is_ok());
      ASSERT_EQ(seen, model) << "round " << round;
      if (round == 8) { EXPECT_GE(tree->index_levels(), 1) << "a two-level tree was exercised"; }
    }
  }
}

TEST(LtpEditorBth, EmptiesAndRefills) {
  auto hb = HeapBuilder::create(kUnicode, kClientBth);
  auto header = BthBuilder::reserve_header(*hb);
  ASSERT_TRUE(BthBuilder::create(2, 6)->build(*hb, *header).is_ok());
  auto bth = BthEditor::open(*hb, *header);
  ASSERT_TRUE(bth.is_ok());
  const Bytes data(6, 0xAB);
  for (uint16_t k = 0; k < 2000; ++k) {
    Bytes key(2);
    store_le16(key.data(), k);
    ASSERT_TRUE(bth->set(ByteView(key), ByteView(data)).is_ok());
  }
  EXPECT_EQ(bth->index_levels(), 1);
  for (uint16_t k = 0; k < 2000; ++k) {
    Bytes key(2);
    store_le16(key.data(), k);
    ASSERT_TRUE(*bth->erase(ByteView(key)));
  }
  EXPECT_EQ(bth->root(), 0u);
  EXPECT_EQ(bth->index_levels(), 0);
  EXPECT_EQ(hb->allocation_count(), 1u);  // the header alone
  EXPECT_EQ(bth->set(ByteView(le32(1)), ByteView(data)).code(), Code::kInvalidArgument);
}

// ---------------------------------------------------------------- tables

const std::vector<PropTag> kColumns = {
    make_tag(0x0E07, kPtypInteger32), make_tag(0x0037, kPtypString), make_tag(0x0E06, kPtypTime),
    make_tag(0x0057, kPtypBoolean),   make_tag(0x3013, kPtypBinary), make_tag(0x0017, kPtypInteger32)};

std::vector<PropValue> random_cells(uint32_t id, std::mt19937& rng, ndb::FileFormat format) {
  std::vector<PropValue> cells;
  cells.push_back(PropValue{kColumns[0], le32(id * 7)});
  const std::string subject = "subject " + std::to_string(id) + std::string(rng() % 40, 'x');
  Bytes text;
  for (char c : subject) {
    text.push_back(uint8_t(c));
    if (format == kUnicode) text.push_back(0);
  }
  cells.push_back(PropValue{format == kUnicode ? kColumns[1] : make_tag(0x0037, kPtypString8), text});
  if (rng() % 2) {
    Bytes t(8);
    store_le64(t.data(), 0x01D0000000000000ull + id);
    cells.push_back(PropValue{kColumns[2], t});
  }
  cells.push_back(PropValue{kColumns[3], Bytes{uint8_t(id & 1)}});
  // Mostly small binaries; now and then one past kMaxHeapAllocation (a subnode).
  const size_t n = rng() % 25 == 0 ? 4000 + rng() % 6000 : rng() % 60;
  if (n) {
    Bytes b(n);
    for (auto& x : b) x = uint8_t(rng());
    cells.push_back(PropValue{kColumns[4], b});
  }
  return cells;
}

// The row's cells other than the row id, by tag.
std::map<PropTag, Bytes> cells_by_tag(const std::vector<PropValue>& cells) {
  std::map<PropTag, Bytes> out;
  for (const auto& v : cells) {
    if (v.tag != TcBuilder::kRowIdTag) out[v.tag] = v.data;
  }
  return out;
}

void check_table(const MemoryNode& mem, ndb::FileFormat format, const std::map<uint32_t, std::vector<PropValue>>& model,
                 const std::string& what) {
  auto tc = TableContext::open(mem.node(), options_for(format));
  ASSERT_TRUE(tc.is_ok()) << what << ": " << tc.status().message();
  ASSERT_EQ(tc->row_index().size(), model.size()) << what;
  ASSERT_EQ(tc->matrix_row_count(), model.size()) << what << ": the matrix stays dense";
  auto heap = Heap::open(mem.node(), options_for(format));
  ASSERT_TRUE(heap.is_ok());
  for (const HeapBlockInfo& b : heap->blocks()) ASSERT_TRUE(b.status.is_ok()) << what << ": " << b.status.message();
  auto index = Bth::open(*heap, load_le32(heap->get(heap->user_root())->data() + 10));
  ASSERT_TRUE(index.is_ok());
  Status valid = index->validate();
  ASSERT_TRUE(valid.is_ok()) << what << ": " << valid.message();
  for (size_t r = 0; r < tc->matrix_row_count(); ++r) {
    auto id = tc->row_id(r);
    ASSERT_TRUE(id.is_ok());
    ASSERT_EQ(tc->find_row(*id), std::optional<size_t>(r)) << what << " row " << r;
    auto it = model.find(*id);
    ASSERT_NE(it, model.end()) << what << ": unexpected row " << hex(*id);
    auto cells = tc->row(r);
    ASSERT_TRUE(cells.is_ok()) << what << ": " << cells.status().message();
    EXPECT_EQ(cells_by_tag(*cells), cells_by_tag(it->second)) << what << " row " << hex(*id);
  }
}

void run_table_rounds(ndb::FileFormat format, bool start_with_matrix_in_subnode) {
  std::mt19937 rng(format == kUnicode ? 11 : 12);
  std::vector<PropTag> cols = kColumns;
  if (format == kAnsi) cols[1] = make_tag(0x0037, kPtypString8);
  auto builder = TcBuilder::create(format, cols);
  ASSERT_TRUE(builder.is_ok());
  std::map<uint32_t, std::vector<PropValue>> model;
  uint32_t next_id = 0x200024;
  if (start_with_matrix_in_subnode) {
    for (int i = 0; i < 300; ++i, next_id += 32) {
      auto cells = random_cells(next_id, rng, format);
      ASSERT_TRUE(builder->add_row(next_id, cells).is_ok());
      model[next_id] = cells;
    }
  }
  auto built = builder->build();
  ASSERT_TRUE(built.is_ok());
  MemoryNode mem;
  mem.blocks = built->blocks;
  for (const auto& [n, b] : built->subnodes) mem.subnodes[n] = b.blocks;
  check_table(mem, format, model, "built");

  for (int round = 0; round < 10; ++round) {
    const std::string what = std::string(format == kUnicode ? "Unicode" : "ANSI") + " round " + std::to_string(round);
    auto editor = TableEditor::open(mem.node(), format);
    ASSERT_TRUE(editor.is_ok()) << what << ": " << editor.status().message();
    ASSERT_EQ(editor->row_count(), model.size());
    // Appends (an import batch), replacements, removals.
    for (int i = 0; i < 150; ++i, next_id += 32) {
      auto cells = random_cells(next_id, rng, format);
      ASSERT_TRUE(editor->add_row(next_id, cells).is_ok()) << what;
      model[next_id] = cells;
    }
    EXPECT_EQ(editor->add_row(model.begin()->first, {}).code(), Code::kInvalidArgument);
    for (int i = 0; i < 30 && !model.empty(); ++i) {
      auto it = model.begin();
      std::advance(it, long(rng() % model.size()));
      auto cells = random_cells(it->first, rng, format);
      ASSERT_TRUE(editor->put_row(it->first, cells).is_ok()) << what;
      it->second = cells;
    }
    const int removals = round == 6 ? int(model.size()) : 40;  // round 6 empties the table
    for (int i = 0; i < removals && !model.empty(); ++i) {
      auto it = model.begin();
      std::advance(it, long(rng() % model.size()));
      auto removed = editor->remove_row(it->first);
      ASSERT_TRUE(removed.is_ok()) << what << ": " << removed.status().message();
      EXPECT_TRUE(*removed);
      model.erase(it);
    }
    auto gone = editor->remove_row(1);
    ASSERT_TRUE(gone.is_ok());
    EXPECT_FALSE(*gone);
    auto ids = editor->row_ids();
    ASSERT_TRUE(ids.is_ok());
    EXPECT_EQ(std::set<uint32_t>(ids->begin(), ids->end()).size(), model.size());
    auto edit = editor->build();
    ASSERT_TRUE(edit.is_ok()) << what << ": " << edit.status().message();
    mem.apply(*edit);
    check_table(mem, format, model, what);
  }
}

TEST(LtpEditorTable, RandomEditsUnicodeFromEmpty) { run_table_rounds(kUnicode, false); }
TEST(LtpEditorTable, RandomEditsUnicodeFromSubnodeMatrix) { run_table_rounds(kUnicode, true); }
TEST(LtpEditorTable, RandomEditsAnsi) { run_table_rounds(kAnsi, true); }

// Appending to a large table rewrites a handful of blocks, not the table.
TEST(LtpEditorTable, AppendTouchesFewBlocks) {
  std::mt19937 rng(3);
  auto builder = TcBuilder::create(kUnicode, kColumns);
  std::map<uint32_t, std::vector<PropValue>> model;
  for (uint32_t id = 1; id <= 5000; ++id) {
    auto cells = random_cells(id * 4, rng, kUnicode);
    cells.erase(std::remove_if(cells.begin(), cells.end(), [](const PropValue& v) { return v.data.size() > 3580; }),
                cells.end());
    ASSERT_TRUE(builder->add_row(id * 4, cells).is_ok());
    model[id * 4] = cells;
  }
  auto built = builder->build();
  ASSERT_TRUE(built.is_ok());
  MemoryNode mem;
  mem.blocks = built->blocks;
  for (const auto& [n, b] : built->subnodes) mem.subnodes[n] = b.blocks;
  const size_t heap_blocks = mem.blocks.size();
  ASSERT_GT(heap_blocks, 20u);

  auto editor = TableEditor::open(mem.node(), kUnicode);
  ASSERT_TRUE(editor.is_ok());
  for (uint32_t id = 5001; id <= 5010; ++id) {
    std::vector<PropValue> cells = {PropValue{kColumns[0], le32(id)}};
    ASSERT_TRUE(editor->add_row(id * 4, cells).is_ok());
    model[id * 4] = cells;
  }
  auto edit = editor->build();
  ASSERT_TRUE(edit.is_ok());
  // Heap: the last block(s), the bitmap header over them, block 0 at most.
  EXPECT_LE(edit->data.changed.size(), 5u);
  ASSERT_EQ(edit->edited_subnodes.size(), 1u);
  EXPECT_LE(edit->edited_subnodes.begin()->second.changed.size(), 2u);
  mem.apply(*edit);
  check_table(mem, kUnicode, model, "after appending");
}

// An empty one-column table whose TCOLDESCs edit_column rewrote (8 bytes
// each: tag, ibData, cbData, iBit), as the editor sees it.
Result<TableEditor> open_with_edited_columns(const std::function<void(uint8_t* coldesc)>& edit_column) {
  auto built = build_empty_table(kUnicode, {make_tag(0x0E07, kPtypInteger32)});
  if (!built.is_ok()) return built.status();
  MemoryNode mem;
  mem.blocks = built->blocks;
  auto heap = Heap::open(mem.node(), options_for(kUnicode));
  if (!heap.is_ok()) return heap.status();
  auto hb = HeapBuilder::from_heap(*heap);
  if (!hb.is_ok()) return hb.status();
  Bytes info = hb->get(hb->user_root())->to_bytes();
  for (size_t i = 0; i < info[1]; ++i) edit_column(info.data() + 22 + 8 * i);
  Status s = hb->replace(hb->user_root(), ByteView(info));
  if (!s.is_ok()) return s;
  mem.blocks = hb->build();
  return TableEditor::open(mem.node(), kUnicode);
}

TEST(LtpEditorTable, RefusesLayoutsItDoesNotWrite) {
  // Unchanged: opens.
  EXPECT_TRUE(open_with_edited_columns([](uint8_t*) {}).is_ok());
  // The row id not at offset 0: the reader copes, the editor asks for a
  // rebuild.
  auto moved_row_id = open_with_edited_columns([](uint8_t* d) {
    if (load_le32(d) == TcBuilder::kRowIdTag) store_le16(d + 4, 4);
  });
  EXPECT_EQ(moved_row_id.status().code(), Code::kUnsupported);
  // A column of a type no cell can hold (unknown type 0x0077, cbData 0):
  // found by fuzz_table_edit, whose editor read a 4-byte HNID from its slot.
  auto unknown_type = open_with_edited_columns([](uint8_t* d) {
    if (load_le32(d) != make_tag(0x0E07, kPtypInteger32)) return;
    store_le32(d, make_tag(0x0E07, 0x0077));
    d[6] = 0;  // cbData
  });
  EXPECT_EQ(unknown_type.status().code(), Code::kUnsupported);
}

}  // namespace
}  // namespace pstkit::ltp
