// LTP builder tests: everything built is read back with the LTP readers
// (Heap, Bth, PropertyContext, TableContext over in-memory nodes), compared
// with the MS-PST section 3 samples and Outlook's own templates byte for
// byte, and real corpus contexts are rebuilt and read back unchanged.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"

namespace pstkit::ltp {
namespace {

// ---------------------------------------------------------------------------
// Helpers

const std::string kCorpus = PSTKIT_SOURCE_DIR "/../shared/corpus/";
constexpr auto kUnicode = ndb::FileFormat::kUnicode;
constexpr auto kAnsi = ndb::FileFormat::kAnsi;

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

bool load_file(const std::string& path, Bytes* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool corpus_has(const std::string& rel) {
  std::ifstream in(kCorpus + rel, std::ios::binary);
  return bool(in);
}

// Corpus files are optional locally but required in CI.
#define REQUIRE_CORPUS(rel)                                    \
  if (!corpus_has(rel)) {                                      \
    if (in_ci()) FAIL() << "missing corpus file " << (rel);    \
    GTEST_SKIP() << "corpus file " << (rel) << " not present"; \
  }

Bytes le16(uint16_t v) { Bytes b(2); store_le16(b.data(), v); return b; }
Bytes le32(uint32_t v) { Bytes b(4); store_le32(b.data(), v); return b; }
Bytes le64(uint64_t v) { Bytes b(8); store_le64(b.data(), v); return b; }

Bytes utf16(const std::string& ascii) {
  Bytes out;
  for (char c : ascii) {
    out.push_back(uint8_t(c));
    out.push_back(0);
  }
  return out;
}

Bytes random_bytes(size_t n, std::mt19937& rng) {
  Bytes b(n);
  for (auto& x : b) x = uint8_t(rng());
  return b;
}

std::vector<Bytes> blocks_of(const ndb::Node& node) {
  std::vector<Bytes> out;
  for (size_t i = 0; i < node.block_count(); ++i) {
    auto b = node.block(i);
    EXPECT_TRUE(b.is_ok());
    out.push_back(b.is_ok() && *b ? **b : Bytes{});
  }
  return out;
}

// The built node as the reader sees it. Subnodes reused from a source node
// are copied from it.
std::shared_ptr<const ndb::Node> to_node(const BuiltNode& built, ndb::Nid nid,
                                         const ndb::Node* source = nullptr) {
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  for (const auto& [sub, node] : built.subnodes) subnodes[sub] = node.blocks;
  if (source != nullptr) {
    for (ndb::Nid sub : built.reused_subnodes) {
      auto s = source->subnode(sub);
      EXPECT_TRUE(s.is_ok()) << s.status().message();
      if (s.is_ok()) subnodes[sub] = blocks_of(**s);
    }
  }
  return std::shared_ptr<const ndb::Node>(ndb::make_memory_node(nid, built.blocks, std::move(subnodes)));
}

std::shared_ptr<const ndb::Node> memory_node(ndb::Nid nid, std::vector<Bytes> blocks) {
  return std::shared_ptr<const ndb::Node>(ndb::make_memory_node(nid, std::move(blocks)));
}

Options options_for(ndb::FileFormat format) {
  Options o;
  o.format = format;
  return o;
}

// Cells of every row of a table, by row id, with the row's matrix position.
struct TableDump {
  std::vector<uint32_t> row_ids;  // matrix order
  std::map<uint32_t, std::vector<PropValue>> rows;
};

TableDump dump_table(const TableContext& tc) {
  TableDump d;
  for (size_t r = 0; r < tc.matrix_row_count(); ++r) {
    auto id = tc.row_id(r);
    EXPECT_TRUE(id.is_ok());
    if (!id.is_ok() || tc.find_row(*id) != std::optional<size_t>(r)) continue;  // dead row
    auto cells = tc.row(r);
    EXPECT_TRUE(cells.is_ok()) << cells.status().message();
    d.row_ids.push_back(*id);
    if (cells.is_ok()) d.rows[*id] = *cells;
  }
  return d;
}

void expect_same_values(const std::vector<PropValue>& a, const std::vector<PropValue>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tag, b[i].tag) << what << " value " << i;
    EXPECT_EQ(a[i].data, b[i].data) << what << " value " << hex(a[i].tag);
  }
}

// ---------------------------------------------------------------------------
// Common pieces

TEST(LtpBuilderCommon, BlockLimitsAndSplitting) {
  EXPECT_EQ(*max_block_data_size(kUnicode), 8176u);
  EXPECT_EQ(*max_block_data_size(kAnsi), 8180u);
  EXPECT_EQ(max_block_data_size(ndb::FileFormat::kUnicode4k).status().code(), Code::kUnsupported);
  EXPECT_EQ(HeapBuilder::create(ndb::FileFormat::kUnicode4k, 0xBC).status().code(), Code::kUnsupported);
  EXPECT_EQ(PcBuilder::create(ndb::FileFormat::kUnicode4k).status().code(), Code::kUnsupported);
  EXPECT_EQ(TcBuilder::create(ndb::FileFormat::kUnicode4k, {}).status().code(), Code::kUnsupported);

  std::mt19937 rng(1);
  const Bytes data = random_bytes(20000, rng);
  auto blocks = split_into_blocks(ByteView(data), 8176);
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].size(), 8176u);
  EXPECT_EQ(blocks[1].size(), 8176u);
  EXPECT_EQ(blocks[2].size(), 20000u - 2 * 8176);
  BuiltNode n;
  n.blocks = blocks;
  EXPECT_EQ(n.size(), 20000u);
  EXPECT_EQ(n.data(), data);
  EXPECT_TRUE(split_into_blocks(ByteView(), 8176).empty());

  auto next = sequential_nid_allocator();
  EXPECT_EQ(next(), 0x3Fu);  // NID_TYPE_LTP, index 1
  EXPECT_EQ(next(), 0x5Fu);
  auto copy = next;
  EXPECT_EQ(copy(), 0x7Fu);  // copies share the counter
  EXPECT_EQ(next(), 0x9Fu);
}

TEST(LtpBuilderCommon, MultiValuedEncodings) {
  const Bytes mv = encode_mv_variable({utf16("ab"), {}, utf16("xyz")});
  PropValue v{make_tag(0x8001, kPtypMultipleFlag | kPtypString), mv};
  auto strings = v.mv_strings();
  ASSERT_TRUE(strings.is_ok()) << strings.status().message();
  EXPECT_EQ(*strings, (std::vector<std::string>{"ab", "", "xyz"}));
  EXPECT_EQ(load_le32(mv.data()), 3u);
  EXPECT_EQ(load_le32(mv.data() + 4), 16u);  // after ulCount and 3 offsets
  EXPECT_EQ(encode_mv_variable({}), le32(0));
  EXPECT_EQ(encode_mv_fixed({le32(1), le32(2)}), (Bytes{1, 0, 0, 0, 2, 0, 0, 0}));
}

// ---------------------------------------------------------------------------
// Heap-on-Node

TEST(LtpBuilderHeap, EmptyHeap) {
  auto hb = HeapBuilder::create(kUnicode, kClientPropertyContext);
  ASSERT_TRUE(hb.is_ok());
  const auto blocks = hb->build();
  ASSERT_EQ(blocks.size(), 1u);
  // HNHDR (12) + page map: cAlloc 0, cFree 0, rgibAlloc[0] = 12.
  EXPECT_EQ(blocks[0], (Bytes{12, 0, 0xEC, 0xBC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0}));
  auto heap = Heap::open(memory_node(0x21, blocks));
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();
  EXPECT_EQ(heap->client_signature(), kClientPropertyContext);
  EXPECT_EQ(heap->user_root(), 0u);
}

TEST(LtpBuilderHeap, AllocationsAcrossManyBlocksReadBack) {
  std::mt19937 rng(7);
  auto hb = HeapBuilder::create(kUnicode, 0x7C);
  ASSERT_TRUE(hb.is_ok());
  std::vector<std::pair<Hid, Bytes>> items;
  // Enough to pass block 136 (the second HNBITMAPHDR): ~3 KB per block.
  for (int i = 0; i < 1300; ++i) {
    const size_t size = i % 50 == 0 ? kMaxHeapAllocation : (i % 7 == 0 ? 0 : rng() % 4000 % 2600);
    Bytes data = random_bytes(size, rng);
    auto hid = hb->allocate(ByteView(data));
    ASSERT_TRUE(hid.is_ok()) << hid.status().message();
    items.emplace_back(*hid, std::move(data));
  }
  hb->set_user_root(items[3].first);
  EXPECT_EQ(hb->allocation_count(), items.size());
  const auto blocks = hb->build();
  ASSERT_GT(blocks.size(), 137u);
  for (size_t i = 0; i + 1 < blocks.size(); ++i) EXPECT_EQ(blocks[i].size(), 8176u) << i;
  EXPECT_LE(blocks.back().size(), 8176u);

  auto heap = Heap::open(memory_node(0x8E, blocks));
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();
  EXPECT_EQ(heap->block_count(), blocks.size());
  EXPECT_EQ(heap->user_root(), items[3].first);
  for (const auto& [hid, data] : items) {
    auto v = heap->get(hid);
    ASSERT_TRUE(v.is_ok()) << hex(hid) << ": " << v.status().message();
    EXPECT_EQ(v->to_bytes(), data) << hex(hid);
  }

  // Headers: HNHDR in block 0, HNBITMAPHDR in 8 and 136, HNPAGEHDR elsewhere;
  // page maps 2-byte aligned; fill levels match each block's free space.
  auto expected_level = [](size_t free_bytes) {
    const size_t at_least[] = {3584, 2560, 2048, 1792, 1536, 1280, 1024, 768, 512, 256, 128, 64, 32, 16, 8};
    for (uint8_t l = 0; l < 15; ++l) {
      if (free_bytes >= at_least[l]) return l;
    }
    return uint8_t(15);
  };
  const auto infos = heap->blocks();
  std::vector<uint8_t> levels;
  for (const HeapBlockInfo& info : infos) {
    ASSERT_TRUE(info.status.is_ok());
    EXPECT_EQ(info.page_map_offset % 2, 0u);
    const size_t hdr = info.block == 0 ? 12 : (info.block == 8 || info.block == 136 ? 66 : 2);
    if (!info.allocations.empty()) {
      EXPECT_EQ(info.allocations[0].offset, hdr) << info.block;
    }
    const size_t used = info.page_map_offset + 4 + 2 * (info.allocations.size() + 1);
    levels.push_back(expected_level(8176 - used));
  }
  auto nibble = [](const Bytes& b, size_t at, size_t i) { return uint8_t((b[at + i / 2] >> (4 * (i % 2))) & 0xF); };
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(nibble(blocks[0], 8, i), levels[i]) << "block " << i;
  for (size_t i = 0; i < 128; ++i) EXPECT_EQ(nibble(blocks[8], 2, i), levels[8 + i]) << "block " << 8 + i;
  for (size_t i = 0; i + 136 < blocks.size(); ++i) EXPECT_EQ(nibble(blocks[136], 2, i), levels[136 + i]);
  for (size_t i = blocks.size() - 136; i < 128; ++i) EXPECT_EQ(nibble(blocks[136], 2, i), 0) << "past the end";
  bool some_full = false;
  for (uint8_t l : levels) some_full = some_full || l >= 10;
  EXPECT_TRUE(some_full);
}

TEST(LtpBuilderHeap, FreeReplaceReallocate) {
  auto hb = HeapBuilder::create(kUnicode, kClientPropertyContext);
  ASSERT_TRUE(hb.is_ok());
  const Hid a = *hb->allocate(ByteView(Bytes(100, 0xAA)));
  const Hid b = *hb->allocate(ByteView(Bytes(200, 0xBB)));
  const Hid c = *hb->allocate(ByteView(Bytes(300, 0xCC)));
  EXPECT_EQ(a, 0x20u);
  EXPECT_EQ(b, 0x40u);
  EXPECT_EQ(c, 0x60u);

  // A freed slot stays in the page map (cFree 1) and is taken again.
  ASSERT_TRUE(hb->free(b).is_ok());
  EXPECT_FALSE(hb->contains(b));
  EXPECT_EQ(hb->get(b).status().code(), Code::kNotFound);
  EXPECT_EQ(hb->free(b).code(), Code::kNotFound);
  {
    auto heap = Heap::open(memory_node(0x21, hb->build()));
    ASSERT_TRUE(heap.is_ok());
    const auto info = heap->blocks()[0];
    EXPECT_EQ(info.free_count, 1u);
    ASSERT_EQ(info.allocations.size(), 3u);
    EXPECT_EQ(info.allocations[1].size, 0u);
    EXPECT_EQ(heap->get(c)->to_bytes(), Bytes(300, 0xCC));  // compacted, same HID
  }
  const Hid d = *hb->allocate(ByteView(Bytes(10, 0xDD)));
  EXPECT_EQ(d, b);

  // Replace keeps the HID; growing past the block's room fails, reallocate moves.
  ASSERT_TRUE(hb->replace(a, ByteView(Bytes(3000, 0x11))).is_ok());
  ASSERT_TRUE(hb->replace(c, ByteView(Bytes(3500, 0x22))).is_ok());
  EXPECT_EQ(hb->replace(d, ByteView(Bytes(3580, 0x33))).code(), Code::kInvalidArgument);
  auto moved = hb->reallocate(d, ByteView(Bytes(3580, 0x33)));
  ASSERT_TRUE(moved.is_ok());
  EXPECT_EQ(split_hid(*moved, kUnicode).block, 1u);
  EXPECT_EQ(hb->replace(a, ByteView(Bytes(3581, 0))).code(), Code::kInvalidArgument);
  EXPECT_EQ(hb->allocate(ByteView(Bytes(3581, 0))).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(hb->get(0x21).status().code(), Code::kInvalidArgument);  // not a HID

  auto heap = Heap::open(memory_node(0x21, hb->build()));
  ASSERT_TRUE(heap.is_ok());
  EXPECT_EQ(heap->get(a)->to_bytes(), Bytes(3000, 0x11));
  EXPECT_EQ(heap->get(c)->to_bytes(), Bytes(3500, 0x22));
  EXPECT_EQ(heap->get(*moved)->to_bytes(), Bytes(3580, 0x33));
  // d's slot was the last one freed in block 0: trimmed from the page map.
  EXPECT_EQ(heap->blocks()[0].allocations.size(), 3u);
  EXPECT_EQ(heap->blocks()[0].free_count, 1u);
}

TEST(LtpBuilderHeap, FromHeapEditsInPlace) {
  std::mt19937 rng(3);
  auto hb = HeapBuilder::create(kAnsi, 0x7C);
  ASSERT_TRUE(hb.is_ok());
  std::vector<Hid> hids;
  for (int i = 0; i < 40; ++i) hids.push_back(*hb->allocate(ByteView(random_bytes(rng() % 900, rng))));
  ASSERT_TRUE(hb->free(hids[5]).is_ok());
  hb->set_user_root(hids[1]);
  const auto blocks = hb->build();
  auto heap = Heap::open(memory_node(0x2D, blocks), options_for(kAnsi));
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();

  // Loading and writing again changes nothing.
  auto loaded = HeapBuilder::from_heap(*heap);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->format(), kAnsi);
  EXPECT_EQ(loaded->max_block_size(), 8180u);
  EXPECT_EQ(loaded->build(), blocks);

  // Edits keep every other HID.
  const Bytes fresh(77, 0x5A);
  ASSERT_TRUE(loaded->replace(hids[7], ByteView(fresh)).is_ok());
  ASSERT_TRUE(loaded->free(hids[9]).is_ok());
  const Hid added = *loaded->allocate(ByteView(Bytes(5, 1)));
  EXPECT_EQ(added, hids[5]);  // the freed slot
  auto edited = Heap::open(memory_node(0x2D, loaded->build()), options_for(kAnsi));
  ASSERT_TRUE(edited.is_ok());
  for (size_t i = 0; i < hids.size(); ++i) {
    if (i == 5 || i == 7 || i == 9) continue;
    EXPECT_EQ(edited->get(hids[i])->to_bytes(), heap->get(hids[i])->to_bytes()) << i;
  }
  EXPECT_EQ(edited->get(hids[7])->to_bytes(), fresh);
  EXPECT_EQ(edited->get(hids[9])->size(), 0u);
  EXPECT_EQ(edited->get(added)->to_bytes(), Bytes(5, 1));
}

// MS-PST 3.8: the sample HN is written back byte for byte.
TEST(LtpBuilderHeap, SpecSampleRoundTripsExactly) {
  REQUIRE_CORPUS("pst-exp-spec-fragments/sample_heap_on_node.bin");
  Bytes data;
  ASSERT_TRUE(load_file(kCorpus + "pst-exp-spec-fragments/sample_heap_on_node.bin", &data));
  auto heap = Heap::open(memory_node(0x21, {data}));
  ASSERT_TRUE(heap.is_ok());
  auto hb = HeapBuilder::from_heap(*heap);
  ASSERT_TRUE(hb.is_ok());
  EXPECT_EQ(hb->build(), std::vector<Bytes>{data});
}

// ---------------------------------------------------------------------------
// BTree-on-Heap

struct BthCase {
  uint8_t key_size;
  uint8_t data_size;
  size_t records;
  size_t max_array_bytes;  // 0: the default
  uint8_t expected_levels;
};

void check_bth_round_trip(const BthCase& c) {
  SCOPED_TRACE("key " + std::to_string(c.key_size) + " data " + std::to_string(c.data_size) + " records " +
               std::to_string(c.records));
  std::mt19937 rng(uint32_t(c.records));
  auto bb = BthBuilder::create(c.key_size, c.data_size);
  ASSERT_TRUE(bb.is_ok());
  if (c.max_array_bytes != 0) {
    ASSERT_TRUE(bb->set_max_array_bytes(c.max_array_bytes).is_ok());
  }
  // Expected records in the readers' key order (compare_keys).
  struct KeyOrder {
    bool operator()(const Bytes& a, const Bytes& b) const { return compare_keys(ByteView(a), ByteView(b)) < 0; }
  };
  std::map<Bytes, Bytes, KeyOrder> expected;
  while (expected.size() < c.records) {
    Bytes key = random_bytes(c.key_size, rng);
    if (c.key_size == 2) key[1] &= 0x7F;  // keep clear of 0xFFFF and friends
    const Bytes data = random_bytes(c.data_size, rng);
    ASSERT_TRUE(bb->set(ByteView(key), ByteView(data)).is_ok());
    expected[key] = data;
  }
  ASSERT_EQ(bb->size(), c.records);
  auto hb = HeapBuilder::create(kUnicode, kClientBth);
  ASSERT_TRUE(hb.is_ok());
  auto placement = bb->build(*hb);
  ASSERT_TRUE(placement.is_ok()) << placement.status().message();
  hb->set_user_root(placement->header);
  EXPECT_EQ(placement->header, 0x20u);  // the header comes first

  auto heap = Heap::open(memory_node(0x100, hb->build()));
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();
  auto bth = Bth::open(*heap, heap->user_root());
  ASSERT_TRUE(bth.is_ok()) << bth.status().message();
  EXPECT_EQ(bth->key_size(), c.key_size);
  EXPECT_EQ(bth->data_size(), c.data_size);
  EXPECT_EQ(bth->index_levels(), c.expected_levels);
  EXPECT_TRUE(bth->validate().is_ok()) << bth->validate().message();
  auto it = expected.begin();
  size_t visited = 0;
  ASSERT_TRUE(bth->for_each([&](ByteView key, ByteView data) {
    EXPECT_EQ(key.to_bytes(), it->first);
    EXPECT_EQ(data.to_bytes(), it->second);
    ++it;
    ++visited;
    return true;
  }).is_ok());
  EXPECT_EQ(visited, c.records);
  for (const auto& [key, data] : expected) {
    auto found = bth->find(ByteView(key));
    ASSERT_TRUE(found.is_ok());
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->to_bytes(), data);
  }
  // Every array fits one allocation.
  for (const HeapBlockInfo& info : heap->blocks()) {
    for (const HeapAllocation& a : info.allocations) EXPECT_LE(a.size, kMaxHeapAllocation);
  }
}

TEST(LtpBuilderBth, OneLevel) {
  check_bth_round_trip({2, 6, 1, 0, 0});
  check_bth_round_trip({4, 4, 447, 0, 0});  // exactly one full leaf (3576 bytes)
}

TEST(LtpBuilderBth, TwoLevels) {
  check_bth_round_trip({4, 4, 448, 0, 1});
  check_bth_round_trip({16, 32, 500, 0, 1});
  check_bth_round_trip({8, 1, 3000, 0, 1});
}

TEST(LtpBuilderBth, ThreeLevelsAndMore) {
  // 12-byte leaf records, 4 per leaf; 8-byte index records, 6 per array.
  check_bth_round_trip({4, 8, 100, 48, 2});  // 25 leaves, 5 index arrays, the root
  check_bth_round_trip({4, 8, 200, 48, 3});  // 50, 9, 2, 1
  check_bth_round_trip({4, 4, 60, 16, 5});   // 2 per array: 30, 15, 8, 4, 2, 1
  check_bth_round_trip({2, 6, 5000, 0, 1});
  // Deeper than bIdxLevels allows readers to follow (MS-PST 2.3.2.1).
  auto bb = BthBuilder::create(4, 4);
  ASSERT_TRUE(bb->set_max_array_bytes(16).is_ok());
  for (uint32_t i = 0; i < 2000; ++i) ASSERT_TRUE(bb->set(ByteView(le32(i)), ByteView(le32(i))).is_ok());
  auto hb = HeapBuilder::create(kUnicode, kClientBth);
  EXPECT_EQ(bb->build(*hb).status().code(), Code::kInvalidArgument);
}

TEST(LtpBuilderBth, EmptyTreeAndRewrite) {
  auto bb = BthBuilder::create(4, 4);
  ASSERT_TRUE(bb.is_ok());
  auto hb = HeapBuilder::create(kUnicode, kClientBth);
  auto placement = bb->build(*hb);
  ASSERT_TRUE(placement.is_ok());
  EXPECT_TRUE(placement->arrays.empty());
  EXPECT_EQ(hb->get(placement->header)->to_bytes(), (Bytes{0xB5, 4, 4, 0, 0, 0, 0, 0}));

  // Same keys, new data: rewritten in the same allocations.
  for (uint32_t i = 0; i < 1000; ++i) ASSERT_TRUE(bb->set(ByteView(le32(i * 3)), ByteView(le32(i))).is_ok());
  auto hb2 = HeapBuilder::create(kUnicode, kClientBth);
  auto tree = bb->build(*hb2);
  ASSERT_TRUE(tree.is_ok());
  EXPECT_EQ(tree->arrays.size(), 4u);  // 3 leaves + 1 index array
  for (uint32_t i = 0; i < 1000; ++i) ASSERT_TRUE(bb->set(ByteView(le32(i * 3)), ByteView(le32(~i))).is_ok());
  const size_t allocations = hb2->allocation_count();
  ASSERT_TRUE(bb->rewrite(*hb2, *tree).is_ok());
  EXPECT_EQ(hb2->allocation_count(), allocations);
  hb2->set_user_root(tree->header);
  auto heap = Heap::open(memory_node(0x100, hb2->build()));
  auto bth = Bth::open(*heap, heap->user_root());
  ASSERT_TRUE(bth.is_ok());
  EXPECT_EQ((*bth->find(ByteView(le32(300))))->u32(0), ~uint32_t(100));
  // A different shape does not fit the old placement.
  ASSERT_TRUE(bb->set(ByteView(le32(5000)), ByteView(le32(1))).is_ok());
  ASSERT_TRUE(bb->erase(ByteView(le32(0))));
  EXPECT_TRUE(bb->rewrite(*hb2, *tree).is_ok());  // still 1000 records
  for (uint32_t i = 1; i < 600; ++i) ASSERT_TRUE(bb->erase(ByteView(le32(i * 3))));
  EXPECT_EQ(bb->rewrite(*hb2, *tree).code(), Code::kInvalidArgument);
}

TEST(LtpBuilderBth, RejectsBadShapes) {
  EXPECT_EQ(BthBuilder::create(3, 4).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(BthBuilder::create(4, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(BthBuilder::create(4, 33).status().code(), Code::kInvalidArgument);
  auto bb = BthBuilder::create(2, 6);
  EXPECT_EQ(bb->set(ByteView(le32(1)), ByteView(Bytes(6, 0))).code(), Code::kInvalidArgument);
  EXPECT_EQ(bb->set(ByteView(le16(1)), ByteView(Bytes(4, 0))).code(), Code::kInvalidArgument);
  EXPECT_EQ(bb->set_max_array_bytes(10).code(), Code::kInvalidArgument);
  EXPECT_EQ(bb->set_max_array_bytes(4000).code(), Code::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Property Context

struct PcValue {
  PropTag tag;
  Bytes data;
};

std::vector<PcValue> every_kind_of_value(std::mt19937& rng) {
  const Bytes guid = random_bytes(16, rng);
  return {
      {make_tag(0x0001, kPtypInteger16), le16(0xBEEF)},
      {make_tag(0x0002, kPtypInteger32), le32(0x12345678)},
      {make_tag(0x0003, kPtypFloating32), le32(0x3F800000)},
      {make_tag(0x0004, kPtypFloating64), le64(0x3FF0000000000000)},
      {make_tag(0x0005, kPtypCurrency), le64(123456789)},
      {make_tag(0x0006, kPtypFloatingTime), le64(0x40E5F54000000000)},
      {make_tag(0x0007, kPtypErrorCode), le32(0x8004010F)},
      {make_tag(0x0008, kPtypBoolean), Bytes{1}},
      {make_tag(0x0009, kPtypInteger64), le64(0x0123456789ABCDEF)},
      {make_tag(0x000A, kPtypString8), Bytes{'h', 'e', 'l', 'l', 'o'}},
      {make_tag(0x000B, kPtypString), utf16("Unicode subject")},
      {make_tag(0x000C, kPtypTime), le64(0x01D0000000000000)},
      {make_tag(0x000D, kPtypGuid), guid},
      {make_tag(0x000E, kPtypBinary), random_bytes(300, rng)},
      {make_tag(0x000F, kPtypServerId), random_bytes(21, rng)},
      {make_tag(0x0010, kPtypString), {}},  // empty: HNID 0
      {make_tag(0x0011, kPtypBinary), random_bytes(10000, rng)},  // > 3580: a subnode of 2 blocks
      {make_tag(0x0012, kPtypString), utf16(std::string(3580 / 2, 'x'))},  // exactly the heap limit
      {make_tag(0x0013, kPtypMultipleFlag | kPtypInteger16), encode_mv_fixed({le16(1), le16(2), le16(3)})},
      {make_tag(0x0014, kPtypMultipleFlag | kPtypInteger32), encode_mv_fixed({le32(7), le32(8)})},
      {make_tag(0x0015, kPtypMultipleFlag | kPtypFloating32), encode_mv_fixed({le32(0x40000000)})},
      {make_tag(0x0016, kPtypMultipleFlag | kPtypFloating64), encode_mv_fixed({le64(1), le64(2)})},
      {make_tag(0x0017, kPtypMultipleFlag | kPtypCurrency), encode_mv_fixed({le64(5)})},
      {make_tag(0x0018, kPtypMultipleFlag | kPtypFloatingTime), encode_mv_fixed({le64(6)})},
      {make_tag(0x0019, kPtypMultipleFlag | kPtypInteger64), encode_mv_fixed({le64(9), le64(10), le64(11)})},
      {make_tag(0x001A, kPtypMultipleFlag | kPtypTime), encode_mv_fixed({le64(12)})},
      {make_tag(0x001B, kPtypMultipleFlag | kPtypGuid), encode_mv_fixed({guid, guid})},
      {make_tag(0x001C, kPtypMultipleFlag | kPtypString8), encode_mv_variable({{'a'}, {'b', 'c'}})},
      {make_tag(0x001D, kPtypMultipleFlag | kPtypString), encode_mv_variable({utf16("one"), utf16("two")})},
      {make_tag(0x001E, kPtypMultipleFlag | kPtypBinary),
       encode_mv_variable({random_bytes(2000, rng), random_bytes(3000, rng)})},  // MV in a subnode
      {make_tag(0x001F, kPtypMultipleFlag | kPtypInteger32), {}},  // no elements
      {make_tag(0x0020, kPtypMultipleFlag | kPtypString), encode_mv_variable({})},
      {make_tag(0x0021, kPtypBoolean), Bytes{0}},
      {make_tag(0x0022, kPtypNull), {}},
  };
}

TEST(LtpBuilderPc, EveryTypeReadsBack) {
  for (auto format : {kUnicode, kAnsi}) {
    SCOPED_TRACE(ndb::format_name(format));
    std::mt19937 rng(11);
    const auto values = every_kind_of_value(rng);
    auto pb = PcBuilder::create(format);
    ASSERT_TRUE(pb.is_ok());
    for (const PcValue& v : values) ASSERT_TRUE(pb->set(v.tag, ByteView(v.data)).is_ok()) << hex(v.tag);
    // A nested object in a new subnode (MS-PST 2.3.3.5).
    auto inner = PcBuilder::create(format);
    ASSERT_TRUE(inner->set(make_tag(0x0037, kPtypString), ByteView(utf16("embedded"))).is_ok());
    auto inner_node = inner->build();
    ASSERT_TRUE(inner_node.is_ok());
    auto object_nid = pb->set_object(make_tag(0x3701, kPtypObject), *inner_node, 1234);
    ASSERT_TRUE(object_nid.is_ok()) << object_nid.status().message();
    EXPECT_EQ(pb->size(), values.size() + 1);

    auto built = pb->build();
    ASSERT_TRUE(built.is_ok()) << built.status().message();
    EXPECT_TRUE(built->reused_subnodes.empty());
    EXPECT_TRUE(built->released_subnodes.empty());
    // Subnodes: the 10000-byte binary, the big MV binary, the object.
    ASSERT_EQ(built->subnodes.size(), 3u);
    ASSERT_TRUE(built->subnodes.count(*object_nid));
    EXPECT_EQ(built->subnodes.at(*object_nid).blocks, inner_node->blocks);

    auto pc = PropertyContext::open(to_node(*built, 0x200024), options_for(format));
    ASSERT_TRUE(pc.is_ok()) << pc.status().message();
    EXPECT_EQ(pc->heap().client_signature(), kClientPropertyContext);
    EXPECT_EQ(pc->heap().user_root(), 0x20u);
    ASSERT_EQ(pc->entries().size(), values.size() + 1);
    for (const PcValue& v : values) {
      auto got = pc->get(tag_id(v.tag));
      ASSERT_TRUE(got.is_ok()) << hex(v.tag) << ": " << got.status().message();
      EXPECT_EQ(got->tag, v.tag);
      EXPECT_EQ(got->data, v.data) << hex(v.tag);
    }
    // Where values went (MS-PST 2.3.3.3).
    std::map<uint16_t, uint32_t> raw;
    for (const auto& e : pc->entries()) raw[e.id] = e.value;
    EXPECT_EQ(raw[0x0001], 0xBEEFu);                       // inline
    EXPECT_EQ(raw[0x0002], 0x12345678u);                   // inline
    EXPECT_EQ(raw[0x0008], 1u);                            // inline
    EXPECT_TRUE(hnid_is_hid(raw[0x0009]) && raw[0x0009]);  // 8 bytes: heap
    EXPECT_TRUE(hnid_is_hid(raw[0x000D]) && raw[0x000D]);  // GUID: heap
    EXPECT_EQ(raw[0x0010], 0u);                            // empty
    EXPECT_EQ(raw[0x001F], 0u);
    EXPECT_FALSE(hnid_is_hid(raw[0x0011]));                // subnode
    EXPECT_EQ(ndb::nid_type(raw[0x0011]), ndb::kNidTypeLtp);
    EXPECT_TRUE(hnid_is_hid(raw[0x0012]));                 // 3580 bytes: heap
    EXPECT_FALSE(hnid_is_hid(raw[0x001E]));
    const auto& big = built->subnodes.at(raw[0x0011]);
    ASSERT_EQ(big.blocks.size(), 2u);
    EXPECT_EQ(big.blocks[0].size(), *max_block_data_size(format));
    auto object = pc->get(0x3701);
    ASSERT_TRUE(object.is_ok());
    auto ref = parse_object_ref(ByteView(object->data));
    ASSERT_TRUE(ref.is_ok());
    EXPECT_EQ(ref->nid, *object_nid);
    EXPECT_EQ(ref->size, 1234u);
    auto strings = pc->get(0x001D)->mv_strings();
    ASSERT_TRUE(strings.is_ok());
    EXPECT_EQ(*strings, (std::vector<std::string>{"one", "two"}));
    auto bth = Bth::open(pc->heap(), pc->heap().user_root());
    EXPECT_TRUE(bth->validate().is_ok());
  }
}

TEST(LtpBuilderPc, RejectsBadValues) {
  auto pb = PcBuilder::create(kUnicode);
  ASSERT_TRUE(pb.is_ok());
  EXPECT_EQ(pb->set(make_tag(1, kPtypInteger32), ByteView(le16(1))).code(), Code::kInvalidArgument);
  EXPECT_EQ(pb->set(make_tag(1, kPtypBoolean), ByteView(le16(1))).code(), Code::kInvalidArgument);
  EXPECT_EQ(pb->set(make_tag(1, kPtypGuid), ByteView(le64(1))).code(), Code::kInvalidArgument);
  EXPECT_EQ(pb->set(make_tag(1, 0x0999), ByteView(le32(1))).code(), Code::kInvalidArgument);
  EXPECT_EQ(pb->set(make_tag(1, kPtypMultipleFlag | kPtypInteger32), ByteView(Bytes(6, 0))).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(pb->set(make_tag(1, kPtypMultipleFlag | kPtypString), ByteView(le32(5))).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(pb->set(make_tag(1, kPtypObject), ByteView(le32(5))).code(), Code::kInvalidArgument);
  EXPECT_EQ(pb->set_object(make_tag(1, kPtypBinary), BuiltNode{}, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(pb->size(), 0u);
}

TEST(LtpBuilderPc, ManyPropertiesNeedAnIndexLevel) {
  auto pb = PcBuilder::create(kUnicode);
  ASSERT_TRUE(pb.is_ok());
  for (uint16_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(pb->set(make_tag(uint16_t(0x8000 + i), kPtypInteger64), ByteView(le64(i * 1000003ull))).is_ok());
  }
  ASSERT_TRUE(pb->set(make_tag(0x3001, kPtypString), ByteView(utf16("name"))).is_ok());
  ASSERT_TRUE(pb->remove(0x8005));
  EXPECT_FALSE(pb->remove(0x8005));
  EXPECT_FALSE(pb->has(0x8005));
  EXPECT_EQ(pb->tag_of(0x3001), std::optional<PropTag>(make_tag(0x3001, kPtypString)));
  auto built = pb->build();
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  EXPECT_GT(built->blocks.size(), 1u);
  auto pc = PropertyContext::open(to_node(*built, 0x21));
  ASSERT_TRUE(pc.is_ok()) << pc.status().message();
  auto bth = Bth::open(pc->heap(), pc->heap().user_root());
  ASSERT_TRUE(bth.is_ok());
  EXPECT_EQ(bth->index_levels(), 1);
  EXPECT_TRUE(bth->validate().is_ok());
  EXPECT_EQ(pc->entries().size(), 1000u);
  for (uint16_t i = 0; i < 1000; ++i) {
    if (i == 5) continue;
    EXPECT_EQ(*pc->get(uint16_t(0x8000 + i))->as_i64(), int64_t(i * 1000003ull));
  }
  EXPECT_EQ(*pc->get(0x3001)->as_string(), "name");
}

TEST(LtpBuilderPc, FromExistingKeepsSubnodeValuesAndEdits) {
  std::mt19937 rng(5);
  const Bytes big = random_bytes(9000, rng);
  const Bytes big2 = random_bytes(12000, rng);
  auto pb = PcBuilder::create(kUnicode);
  ASSERT_TRUE(pb->set(make_tag(0x1000, kPtypBinary), ByteView(big)).is_ok());
  ASSERT_TRUE(pb->set(make_tag(0x1001, kPtypBinary), ByteView(big2)).is_ok());
  ASSERT_TRUE(pb->set(make_tag(0x0E07, kPtypInteger32), ByteView(le32(1))).is_ok());
  ASSERT_TRUE(pb->set(make_tag(0x0037, kPtypString), ByteView(utf16("subject"))).is_ok());
  auto object = pb->set_object(make_tag(0x3701, kPtypObject), BuiltNode{{Bytes{1, 2, 3}}, {}, {}, {}}, 3);
  ASSERT_TRUE(object.is_ok());
  auto original = pb->build();
  ASSERT_TRUE(original.is_ok());
  auto source = to_node(*original, 0x200024);
  auto pc = PropertyContext::open(source);
  ASSERT_TRUE(pc.is_ok());
  std::map<uint16_t, uint32_t> raw;
  for (const auto& e : pc->entries()) raw[e.id] = e.value;
  const ndb::Nid big_nid = raw[0x1000];
  const ndb::Nid big2_nid = raw[0x1001];

  // Unchanged: every value the same, big ones left in their subnodes.
  auto same = PcBuilder::from_existing(*pc);
  ASSERT_TRUE(same.is_ok()) << same.status().message();
  auto rebuilt = same->build();
  ASSERT_TRUE(rebuilt.is_ok()) << rebuilt.status().message();
  EXPECT_EQ(rebuilt->blocks, original->blocks);  // same layout, byte for byte
  EXPECT_TRUE(rebuilt->subnodes.empty());
  EXPECT_EQ(rebuilt->reused_subnodes, (std::set<ndb::Nid>{big_nid, big2_nid, *object}));
  EXPECT_TRUE(rebuilt->released_subnodes.empty());

  // Edited: one big value replaced, one property removed, one added.
  auto edit = PcBuilder::from_existing(*pc);
  ASSERT_TRUE(edit.is_ok());
  const Bytes big3 = random_bytes(5000, rng);
  ASSERT_TRUE(edit->set(make_tag(0x1001, kPtypBinary), ByteView(big3)).is_ok());
  ASSERT_TRUE(edit->remove(0x3701));
  ASSERT_TRUE(edit->set(make_tag(0x0E08, kPtypInteger32), ByteView(le32(42))).is_ok());
  auto edited = edit->build();
  ASSERT_TRUE(edited.is_ok());
  EXPECT_EQ(edited->reused_subnodes, (std::set<ndb::Nid>{big_nid}));
  EXPECT_EQ(edited->released_subnodes, (std::set<ndb::Nid>{big2_nid, *object}));
  ASSERT_EQ(edited->subnodes.size(), 1u);
  // The new subnode does not collide with the source's.
  const ndb::Nid new_nid = edited->subnodes.begin()->first;
  EXPECT_NE(new_nid, big_nid);
  EXPECT_NE(new_nid, big2_nid);
  EXPECT_NE(new_nid, *object);
  auto pc2 = PropertyContext::open(to_node(*edited, 0x200024, source.get()));
  ASSERT_TRUE(pc2.is_ok()) << pc2.status().message();
  EXPECT_EQ(pc2->get(0x1000)->data, big);
  EXPECT_EQ(pc2->get(0x1001)->data, big3);
  EXPECT_EQ(*pc2->get(0x0E08)->as_i32(), 42);
  EXPECT_EQ(*pc2->get(0x0037)->as_string(), "subject");
  EXPECT_FALSE(pc2->has(0x3701));
}

// MS-PST 3.9/3.10: the sample PC is rebuilt byte for byte.
TEST(LtpBuilderPc, SpecSampleRebuildsExactly) {
  REQUIRE_CORPUS("pst-exp-spec-fragments/sample_heap_on_node.bin");
  Bytes data;
  ASSERT_TRUE(load_file(kCorpus + "pst-exp-spec-fragments/sample_heap_on_node.bin", &data));
  auto pc = PropertyContext::open(memory_node(0x21, {data}));
  ASSERT_TRUE(pc.is_ok());
  auto pb = PcBuilder::from_existing(*pc);
  ASSERT_TRUE(pb.is_ok()) << pb.status().message();
  auto built = pb->build();
  ASSERT_TRUE(built.is_ok());
  EXPECT_EQ(built->blocks, std::vector<Bytes>{data});
}

// ---------------------------------------------------------------------------
// Table Context

const std::vector<PropTag> kHierarchyColumns = {
    0x3001001F, 0x36020003, 0x36030003, 0x360A000B, 0x0E300003, 0x0E330014,
    0x0E340102, 0x0E380003, 0x3613001F, 0x66350003, 0x66360003};

TEST(LtpBuilderTc, OutlookColumnLayout) {
  auto tb = TcBuilder::create(kUnicode, kHierarchyColumns);
  ASSERT_TRUE(tb.is_ok()) << tb.status().message();
  // MS-PST 3.12: the root folder's hierarchy table.
  struct Expected {
    PropTag tag;
    uint16_t offset;
    uint8_t size;
    uint8_t bit;
  };
  const Expected columns[] = {
      {0x0E300003, 20, 4, 6},  {0x0E330014, 24, 8, 7},  {0x0E340102, 32, 4, 8},
      {0x0E380003, 36, 4, 9},  {0x3001001F, 8, 4, 2},   {0x36020003, 12, 4, 3},
      {0x36030003, 16, 4, 4},  {0x360A000B, 52, 1, 5},  {0x3613001F, 40, 4, 10},
      {0x66350003, 44, 4, 11}, {0x66360003, 48, 4, 12}, {0x67F20003, 0, 4, 0},
      {0x67F30003, 4, 4, 1},
  };
  ASSERT_EQ(tb->columns().size(), std::size(columns));
  for (size_t i = 0; i < std::size(columns); ++i) {
    EXPECT_EQ(tb->columns()[i].tag, columns[i].tag) << i;
    EXPECT_EQ(tb->columns()[i].offset, columns[i].offset) << i;
    EXPECT_EQ(tb->columns()[i].size, columns[i].size) << i;
    EXPECT_EQ(tb->columns()[i].bit, columns[i].bit) << i;
  }
  EXPECT_EQ(tb->row_size(), 0x37);
  // 2-byte cells after the 4/8-byte ones, then 1-byte ones.
  auto two = TcBuilder::create(kUnicode, {0x0001000B, 0x00020002, 0x00030014, 0x00040003});
  ASSERT_TRUE(two.is_ok());
  std::map<PropTag, std::pair<uint16_t, uint8_t>> at;
  for (const auto& c : two->columns()) at[c.tag] = {c.offset, c.bit};
  EXPECT_EQ(at[0x00030014], std::make_pair(uint16_t(8), uint8_t(4)));
  EXPECT_EQ(at[0x00040003], std::make_pair(uint16_t(16), uint8_t(5)));
  EXPECT_EQ(at[0x00020002], std::make_pair(uint16_t(20), uint8_t(3)));
  EXPECT_EQ(at[0x0001000B], std::make_pair(uint16_t(22), uint8_t(2)));
  EXPECT_EQ(two->row_size(), 24);  // 23 + one CEB byte for 6 columns

  EXPECT_EQ(TcBuilder::create(kUnicode, {0x00010001}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(TcBuilder::create(kUnicode, {0x00010003, 0x00010003}).status().code(), Code::kInvalidArgument);
  std::vector<PropTag> too_many;
  for (uint16_t i = 0; i < 254; ++i) too_many.push_back(make_tag(uint16_t(0x8000 + i), kPtypInteger32));
  EXPECT_EQ(TcBuilder::create(kUnicode, too_many).status().code(), Code::kInvalidArgument);
  too_many.pop_back();
  EXPECT_TRUE(TcBuilder::create(kUnicode, too_many).is_ok());
}

TEST(LtpBuilderTc, EmptyTable) {
  for (auto format : {kUnicode, kAnsi}) {
    auto built = build_empty_table(format, kHierarchyColumns);
    ASSERT_TRUE(built.is_ok());
    EXPECT_TRUE(built->subnodes.empty());
    auto tc = TableContext::open(to_node(*built, 0x60D), options_for(format));
    ASSERT_TRUE(tc.is_ok()) << tc.status().message();
    EXPECT_EQ(tc->row_count(), 0u);
    auto counted = TableContext::open(to_node(*built, 0x60D), options_for(format), RowIndex::kCount);
    ASSERT_TRUE(counted.is_ok()) << counted.status().message();
    EXPECT_EQ(counted->row_count(), 0u);
    EXPECT_EQ(counted->find_row(1), std::nullopt);
    EXPECT_EQ(tc->rows_hnid(), 0u);
    EXPECT_EQ(tc->columns().size(), 13u);
    EXPECT_EQ(tc->heap().user_root(), 0x40u);
    auto index = Bth::open(tc->heap(), 0x20);
    ASSERT_TRUE(index.is_ok());
    EXPECT_EQ(index->data_size(), format == kAnsi ? 2 : 4);
    EXPECT_EQ(index->root(), 0u);
  }
}

std::vector<PropValue> folder_row(uint32_t id, const std::string& name, int32_t count, bool subfolders) {
  std::vector<PropValue> cells = {
      {0x3001001F, utf16(name)},
      {0x36020003, le32(uint32_t(count))},
      {0x360A000B, Bytes{uint8_t(subfolders)}},
      {0x67F30003, le32(id & 0xFF)},
  };
  if (id % 3 == 0) cells.push_back({0x0E330014, le64(uint64_t(id) << 20)});
  if (id % 4 == 0) cells.push_back({0x0E340102, Bytes(id % 50, uint8_t(id))});
  return cells;
}

void check_rows(const TableContext& tc, const std::vector<uint32_t>& ids, const std::string& prefix) {
  ASSERT_EQ(tc.row_count(), ids.size());
  for (size_t r = 0; r < ids.size(); ++r) {
    const uint32_t id = ids[r];
    EXPECT_EQ(tc.find_row(id), std::optional<size_t>(r));
    EXPECT_EQ(*tc.row_id(r), id);
    auto name = tc.cell_by_tag(r, 0x3001001F);
    ASSERT_TRUE(name.is_ok()) << name.status().message();
    ASSERT_TRUE(name->has_value());
    EXPECT_EQ(*(*name)->as_string(), prefix + std::to_string(id));
    EXPECT_EQ(*(*tc.cell_by_tag(r, 0x36020003))->as_i32(), int32_t(id * 2));
    EXPECT_EQ(*(*tc.cell_by_tag(r, 0x360A000B))->as_bool(), id % 2 == 1);
    EXPECT_EQ(*(*tc.cell_by_tag(r, 0x67F20003))->as_i32(), int32_t(id));
    EXPECT_EQ(tc.cell_by_tag(r, 0x0E330014)->has_value(), id % 3 == 0);
    if (id % 3 == 0) {
      EXPECT_EQ(*(*tc.cell_by_tag(r, 0x0E330014))->as_i64(), int64_t(uint64_t(id) << 20));
    }
    auto bin = tc.cell_by_tag(r, 0x0E340102);
    ASSERT_TRUE(bin.is_ok());
    EXPECT_EQ(bin->has_value(), id % 4 == 0);
    if (id % 4 == 0) {
      EXPECT_EQ((*bin)->data, Bytes(id % 50, uint8_t(id)));
    }
    EXPECT_FALSE(tc.cell_by_tag(r, 0x3613001F)->has_value());  // never set
  }
}

TEST(LtpBuilderTc, OneRowInTheHeap) {
  auto tb = TcBuilder::create(kUnicode, kHierarchyColumns);
  ASSERT_TRUE(tb.is_ok());
  ASSERT_TRUE(tb->add_row(8, folder_row(8, "Inbox8", 16, false)).is_ok());
  auto built = tb->build();
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  EXPECT_TRUE(built->subnodes.empty());
  auto tc = TableContext::open(to_node(*built, 0x12D));
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_TRUE(hnid_is_hid(tc->rows_hnid()));
  EXPECT_EQ(tc->rows_hnid(), 0x80u);  // header, TCINFO, row index, matrix
  check_rows(*tc, {8}, "Inbox");
  auto counted = TableContext::open(to_node(*built, 0x12D), {}, RowIndex::kCount);
  ASSERT_TRUE(counted.is_ok()) << counted.status().message();
  check_rows(*counted, {8}, "Inbox");
  // CEB: row id, row version, name, count (iBits 0-3), subfolders (5),
  // entry id (8, as 8 % 4 == 0).
  auto bytes = tc->row_bytes(0);
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ((*bytes)[0x35], 0xF4);
  EXPECT_EQ((*bytes)[0x36], 0x80);
}

TEST(LtpBuilderTc, ManyRowsInASubnodeMatrix) {
  for (auto format : {kUnicode, kAnsi}) {
    SCOPED_TRACE(ndb::format_name(format));
    auto tb = TcBuilder::create(format, kHierarchyColumns);
    ASSERT_TRUE(tb.is_ok());
    std::vector<uint32_t> ids;
    for (uint32_t i = 0; i < 400; ++i) {
      const uint32_t id = (i * 7919) % 100000 + 1;  // not in key order
      ids.push_back(id);
      ASSERT_TRUE(tb->add_row(id, folder_row(id, "Folder " + std::to_string(id), int32_t(id * 2), id % 2 == 1)).is_ok());
    }
    EXPECT_EQ(tb->add_row(ids[0], {}).code(), Code::kInvalidArgument);
    EXPECT_EQ(tb->row_count(), 400u);
    auto built = tb->build();
    ASSERT_TRUE(built.is_ok()) << built.status().message();
    ASSERT_EQ(built->subnodes.size(), 1u);
    const auto& [matrix_nid, matrix] = *built->subnodes.begin();
    EXPECT_EQ(matrix_nid, 0x3Fu);  // as Outlook names it
    const size_t block = *max_block_data_size(format);
    const size_t per_block = block / 55;
    ASSERT_EQ(matrix.blocks.size(), (400 + per_block - 1) / per_block);
    ASSERT_GE(matrix.blocks.size(), 2u);
    for (size_t i = 0; i + 1 < matrix.blocks.size(); ++i) EXPECT_EQ(matrix.blocks[i].size(), block);
    EXPECT_EQ(matrix.blocks.back().size(), (400 % per_block) * 55);

    auto tc = TableContext::open(to_node(*built, 0x12D), options_for(format));
    ASSERT_TRUE(tc.is_ok()) << tc.status().message();
    EXPECT_EQ(tc->rows_per_block(), per_block);
    check_rows(*tc, ids, "Folder ");
    EXPECT_EQ(tc->row_index().size(), 400u);
    // RowIndex::kCount (a walk of a folder's items): the same rows, cells
    // and lookups through the BTH, without the index's entries in memory.
    auto counted = TableContext::open(to_node(*built, 0x12D), options_for(format), RowIndex::kCount);
    ASSERT_TRUE(counted.is_ok()) << counted.status().message();
    EXPECT_TRUE(counted->row_index().empty());
    check_rows(*counted, ids, "Folder ");
    EXPECT_EQ(counted->find_row(100001), std::nullopt);  // ids are at most 100,000
    auto index = Bth::open(tc->heap(), 0x20);
    ASSERT_TRUE(index.is_ok());
    EXPECT_TRUE(index->validate().is_ok());
    EXPECT_EQ(index->data_size(), format == kAnsi ? 2 : 4);
  }
}

TEST(LtpBuilderTc, LargeCellsAndEdits) {
  std::mt19937 rng(9);
  auto tb = TcBuilder::create(kUnicode, {0x0037001F, 0x10130102, 0x0E080003});
  ASSERT_TRUE(tb.is_ok());
  const Bytes body = random_bytes(9000, rng);
  ASSERT_TRUE(tb->add_row(0x200024, {{0x0037001F, utf16("hello")}, {0x10130102, body}}).is_ok());
  ASSERT_TRUE(tb->add_row(0x200044, {{0x0037001F, {}}, {0x0E080003, le32(10)}}).is_ok());
  ASSERT_TRUE(tb->add_row(0x200064, {{0x0E080003, le32(11)}}).is_ok());
  EXPECT_EQ(tb->add_row(0x200084, {{0x12340003, le32(1)}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(tb->add_row(0x200084, {{0x67F20003, le32(5)}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(tb->add_row(0x200084, {{0x0E080003, le16(5)}}).code(), Code::kInvalidArgument);
  ASSERT_TRUE(tb->set_cell(0x200064, 0x0037001F, ByteView(utf16("third"))).is_ok());
  ASSERT_TRUE(tb->set_cell(0x200064, 0x0E080003, std::nullopt).is_ok());
  EXPECT_EQ(tb->set_cell(0x999, 0x0E080003, std::nullopt).code(), Code::kNotFound);
  ASSERT_TRUE(tb->add_column(0x0E170003).is_ok());
  ASSERT_TRUE(tb->set_cell(0x200044, 0x0E170003, ByteView(le32(77))).is_ok());
  EXPECT_EQ(tb->add_column(0x0E170003).code(), Code::kInvalidArgument);
  EXPECT_EQ(tb->row_ids(), (std::vector<uint32_t>{0x200024, 0x200044, 0x200064}));

  auto built = tb->build();
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  ASSERT_EQ(built->subnodes.size(), 1u);  // the 9000-byte cell; rows fit the heap
  auto tc = TableContext::open(to_node(*built, 0x8E));
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_TRUE(hnid_is_hid(tc->rows_hnid()));
  EXPECT_EQ((*tc->cell_by_tag(0, 0x10130102))->data, body);
  EXPECT_EQ(*(*tc->cell_by_tag(0, 0x0037001F))->as_string(), "hello");
  EXPECT_FALSE(tc->cell_by_tag(0, 0x0E170003)->has_value());
  EXPECT_EQ((*tc->cell_by_tag(1, 0x0037001F))->data, Bytes{});  // present, empty
  EXPECT_EQ(*(*tc->cell_by_tag(1, 0x0E170003))->as_i32(), 77);
  EXPECT_EQ(*(*tc->cell_by_tag(2, 0x0037001F))->as_string(), "third");
  EXPECT_FALSE(tc->cell_by_tag(2, 0x0E080003)->has_value());
  EXPECT_FALSE(tc->cell_by_tag(2, 0x10130102)->has_value());

  // Rebuilt from what was written: the big cell stays in its subnode.
  auto again = TcBuilder::from_existing(*tc);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  ASSERT_TRUE(again->remove_row(0x200044));
  EXPECT_FALSE(again->remove_row(0x200044));
  ASSERT_TRUE(again->replace_row(0x200064, {{0x0E080003, le32(12)}}).is_ok());
  ASSERT_TRUE(again->add_row(0x2000A4, {{0x0037001F, utf16("fourth")}}).is_ok());
  auto rebuilt = again->build();
  ASSERT_TRUE(rebuilt.is_ok());
  EXPECT_EQ(rebuilt->reused_subnodes, (std::set<ndb::Nid>{built->subnodes.begin()->first}));
  auto source = to_node(*built, 0x8E);
  auto tc2 = TableContext::open(to_node(*rebuilt, 0x8E, source.get()));
  ASSERT_TRUE(tc2.is_ok()) << tc2.status().message();
  ASSERT_EQ(tc2->row_count(), 3u);
  EXPECT_EQ((*tc2->cell_by_tag(0, 0x10130102))->data, body);
  EXPECT_EQ(*tc2->row_id(1), 0x200064u);
  EXPECT_EQ(*(*tc2->cell_by_tag(1, 0x0E080003))->as_i32(), 12);
  EXPECT_FALSE(tc2->cell_by_tag(1, 0x0037001F)->has_value());
  EXPECT_EQ(*(*tc2->cell_by_tag(2, 0x0037001F))->as_string(), "fourth");
}

TEST(LtpBuilderTc, FromExistingGrowsIntoASubnodeAndBack) {
  auto tb = TcBuilder::create(kUnicode, kHierarchyColumns);
  ASSERT_TRUE(tb.is_ok());
  std::vector<uint32_t> ids;
  for (uint32_t id = 1; id <= 300; ++id) {
    ids.push_back(id);
    ASSERT_TRUE(tb->add_row(id, folder_row(id, "F" + std::to_string(id), int32_t(id * 2), id % 2 == 1)).is_ok());
  }
  auto big = tb->build();
  ASSERT_TRUE(big.is_ok());
  const ndb::Nid matrix_nid = big->subnodes.begin()->first;
  auto source = to_node(*big, 0x12D);
  auto tc = TableContext::open(source);
  ASSERT_TRUE(tc.is_ok());

  // Adding a row keeps the matrix subnode's NID.
  auto grow = TcBuilder::from_existing(*tc);
  ASSERT_TRUE(grow.is_ok()) << grow.status().message();
  ASSERT_TRUE(grow->add_row(301, folder_row(301, "F301", 602, true)).is_ok());
  ids.push_back(301);
  auto grown = grow->build();
  ASSERT_TRUE(grown.is_ok());
  EXPECT_TRUE(grown->subnodes.count(matrix_nid));
  EXPECT_EQ(grown->released_subnodes, (std::set<ndb::Nid>{matrix_nid}));  // replaced by the new one
  auto tc2 = TableContext::open(to_node(*grown, 0x12D));
  ASSERT_TRUE(tc2.is_ok()) << tc2.status().message();
  check_rows(*tc2, ids, "F");

  // Down to a few rows: the matrix moves into the heap, the subnode is released.
  auto shrink = TcBuilder::from_existing(*tc2);
  ASSERT_TRUE(shrink.is_ok());
  for (uint32_t id = 5; id <= 301; ++id) ASSERT_TRUE(shrink->remove_row(id));
  auto small = shrink->build();
  ASSERT_TRUE(small.is_ok());
  EXPECT_TRUE(small->subnodes.empty());
  EXPECT_EQ(small->released_subnodes, (std::set<ndb::Nid>{matrix_nid}));
  auto tc3 = TableContext::open(to_node(*small, 0x12D));
  ASSERT_TRUE(tc3.is_ok());
  check_rows(*tc3, {1, 2, 3, 4}, "F");
}

// MS-PST 3.11/3.12: the sample TC is rebuilt byte for byte.
TEST(LtpBuilderTc, SpecSampleRebuildsExactly) {
  REQUIRE_CORPUS("pst-exp-spec-fragments/sample_tc.bin");
  Bytes data;
  ASSERT_TRUE(load_file(kCorpus + "pst-exp-spec-fragments/sample_tc.bin", &data));
  auto tc = TableContext::open(memory_node(0x12D, {data}));
  ASSERT_TRUE(tc.is_ok());
  auto tb = TcBuilder::from_existing(*tc);
  ASSERT_TRUE(tb.is_ok()) << tb.status().message();
  auto built = tb->build();
  ASSERT_TRUE(built.is_ok());
  auto back = TableContext::open(to_node(*built, 0x12D));
  ASSERT_TRUE(back.is_ok());
  const TableDump a = dump_table(*tc);
  const TableDump b = dump_table(*back);
  EXPECT_EQ(a.row_ids, b.row_ids);
  for (const auto& [id, cells] : a.rows) expect_same_values(cells, b.rows.at(id), "row " + hex(id));
  EXPECT_EQ(built->blocks, std::vector<Bytes>{data});
}

// Outlook's empty table templates (MS-PST 2.4.4.2...) come out byte for byte
// from their column lists.
TEST(LtpBuilderTc, OutlookTemplatesFromTheirColumns) {
  REQUIRE_CORPUS("outlook-pst-rs/Empty.pst");
  auto db = ndb::Database::open(kCorpus + "outlook-pst-rs/Empty.pst");
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  for (ndb::Nid nid : {ndb::kNidHierarchyTableTemplate, ndb::kNidContentsTableTemplate,
                       ndb::kNidAssocContentsTableTemplate, ndb::kNidAttachmentTableTemplate,
                       ndb::kNidRecipientTableTemplate}) {
    SCOPED_TRACE(hex(nid));
    auto node = (*db)->open_node(nid);
    ASSERT_TRUE(node.is_ok());
    std::shared_ptr<const ndb::Node> shared(std::move(*node));
    auto tc = TableContext::open(shared);
    ASSERT_TRUE(tc.is_ok());
    auto built = build_empty_table(ndb::FileFormat::kUnicode, template_columns(*tc));
    ASSERT_TRUE(built.is_ok()) << built.status().message();
    EXPECT_EQ(built->blocks, blocks_of(*shared));
  }
}

// Rebuilds every PC and TC of a corpus file and reads back the same values.
void rebuild_every_context(const std::string& rel, size_t* pcs, size_t* tcs) {
  auto db = ndb::Database::open(kCorpus + rel);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  const auto format = (*db)->header().format;
  std::vector<ndb::Nid> nids;
  ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
    nids.push_back(e.nid);
    return true;
  }).is_ok());
  for (ndb::Nid nid : nids) {
    auto node = (*db)->open_node(nid);
    if (!node.is_ok()) continue;
    std::shared_ptr<const ndb::Node> source(std::move(*node));
    auto heap = Heap::open(source, options_for(format));
    if (!heap.is_ok()) continue;
    SCOPED_TRACE(rel + " node " + hex(nid));
    if (heap->client_signature() == kClientPropertyContext) {
      auto pc = PropertyContext::open(source, options_for(format));
      if (!pc.is_ok() || !pc->all().is_ok()) continue;
      auto pb = PcBuilder::from_existing(*pc);
      ASSERT_TRUE(pb.is_ok()) << pb.status().message();
      auto built = pb->build();
      ASSERT_TRUE(built.is_ok()) << built.status().message();
      auto back = PropertyContext::open(to_node(*built, nid, source.get()), options_for(format));
      ASSERT_TRUE(back.is_ok()) << back.status().message();
      expect_same_values(*pc->all(), *back->all(), "PC");
      ++*pcs;
    } else if (heap->client_signature() == kClientTableContext) {
      auto tc = TableContext::open(source, options_for(format));
      if (!tc.is_ok()) continue;
      auto tb = TcBuilder::from_existing(*tc);
      ASSERT_TRUE(tb.is_ok()) << tb.status().message();
      auto built = tb->build();
      ASSERT_TRUE(built.is_ok()) << built.status().message();
      auto back = TableContext::open(to_node(*built, nid, source.get()), options_for(format));
      ASSERT_TRUE(back.is_ok()) << back.status().message();
      EXPECT_EQ(back->columns().size(), tc->columns().size());
      const TableDump a = dump_table(*tc);
      const TableDump b = dump_table(*back);
      EXPECT_EQ(a.row_ids, b.row_ids);
      for (const auto& [id, cells] : a.rows) expect_same_values(cells, b.rows.at(id), "row " + hex(id));
      ++*tcs;
    }
  }
}

// Every heap of a file loaded and written again: Outlook's layout (block
// sizes, headers, fill levels, allocations, page maps) comes back exactly;
// only the dead bytes Outlook leaves unzeroed (the alignment byte before a
// page map, the room after it) may differ.
void expect_heaps_rewrite_exactly(const std::string& rel, size_t* multi_block) {
  auto db = ndb::Database::open(kCorpus + rel);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  const auto format = (*db)->header().format;
  std::vector<ndb::Nid> nids;
  ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
    nids.push_back(e.nid);
    return true;
  }).is_ok());
  for (ndb::Nid nid : nids) {
    auto node = (*db)->open_node(nid);
    if (!node.is_ok()) continue;
    std::shared_ptr<const ndb::Node> source(std::move(*node));
    auto heap = Heap::open(source, options_for(format));
    if (!heap.is_ok()) continue;
    SCOPED_TRACE(rel + " node " + hex(nid));
    auto hb = HeapBuilder::from_heap(*heap);
    ASSERT_TRUE(hb.is_ok()) << hb.status().message();
    const auto built = hb->build();
    const auto original = blocks_of(*source);
    ASSERT_EQ(built.size(), original.size());
    if (built.size() > 1) ++*multi_block;
    const auto infos = heap->blocks();
    for (size_t i = 0; i < built.size(); ++i) {
      ASSERT_EQ(built[i].size(), original[i].size()) << "block " << i;
      const size_t map = infos[i].page_map_offset;
      const size_t data_end = infos[i].allocations.empty() ? map : infos[i].allocations.back().offset +
                                                                       infos[i].allocations.back().size;
      const size_t map_end = map + 4 + 2 * (infos[i].allocations.size() + 1);
      EXPECT_TRUE(std::equal(built[i].begin(), built[i].begin() + long(data_end), original[i].begin()))
          << "block " << i;
      EXPECT_TRUE(std::equal(built[i].begin() + long(map), built[i].begin() + long(map_end),
                             original[i].begin() + long(map)))
          << "block " << i;
    }
  }
}

TEST(LtpBuilderCorpus, HeapsRewriteInOutlooksLayout) {
  const std::string files[] = {
      "pstsdk/sample1.pst", "pstsdk/sample2.pst",
      "hughbe-pstreader_simiden-pst2john/2003_compressable-encryption_quickbrownfox.pst",
      "hughbe-pstreader_hughbe/backup_with_rules.pst"};
  size_t multi_block = 0;
  for (const std::string& rel : files) {
    REQUIRE_CORPUS(rel);
    expect_heaps_rewrite_exactly(rel, &multi_block);
  }
  EXPECT_GE(multi_block, 4u);
}

TEST(LtpBuilderCorpus, Sample1HierarchyTableRebuildsIdentically) {
  REQUIRE_CORPUS("pstsdk/sample1.pst");
  auto db = ndb::Database::open(kCorpus + "pstsdk/sample1.pst");
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  auto node = (*db)->open_node(0x12D);
  ASSERT_TRUE(node.is_ok());
  std::shared_ptr<const ndb::Node> source(std::move(*node));
  auto tc = TableContext::open(source);
  ASSERT_TRUE(tc.is_ok());
  ASSERT_EQ(tc->row_count(), 4u);
  auto tb = TcBuilder::from_existing(*tc);
  ASSERT_TRUE(tb.is_ok()) << tb.status().message();
  auto built = tb->build();
  ASSERT_TRUE(built.is_ok());
  auto back = TableContext::open(to_node(*built, 0x12D, source.get()));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  const TableDump a = dump_table(*tc);
  const TableDump b = dump_table(*back);
  EXPECT_EQ(a.row_ids, b.row_ids);
  ASSERT_EQ(b.rows.size(), 4u);
  for (const auto& [id, cells] : a.rows) expect_same_values(cells, b.rows.at(id), "row " + hex(id));
  for (size_t i = 0; i < tc->columns().size(); ++i) {
    EXPECT_EQ(back->columns()[i].tag, tc->columns()[i].tag);
    EXPECT_EQ(back->columns()[i].offset, tc->columns()[i].offset);
    EXPECT_EQ(back->columns()[i].bit, tc->columns()[i].bit);
  }
  // Outlook's own allocation order: the same bytes.
  EXPECT_EQ(built->blocks, blocks_of(*source));
}

TEST(LtpBuilderCorpus, RebuildEveryContextUnicode) {
  REQUIRE_CORPUS("pstsdk/sample1.pst");
  size_t pcs = 0, tcs = 0;
  rebuild_every_context("pstsdk/sample1.pst", &pcs, &tcs);
  EXPECT_GT(pcs, 10u);
  EXPECT_GT(tcs, 10u);
}

TEST(LtpBuilderCorpus, RebuildEveryContextAnsi) {
  REQUIRE_CORPUS("pstsdk/sample2.pst");
  size_t pcs = 0, tcs = 0;
  rebuild_every_context("pstsdk/sample2.pst", &pcs, &tcs);
  EXPECT_GT(pcs, 10u);
  EXPECT_GT(tcs, 10u);
}

TEST(LtpBuilderCorpus, RebuildEveryContextMultiBlock) {
  // Multi-block heaps and row matrices over several blocks.
  REQUIRE_CORPUS("hughbe-pstreader_simiden-pst2john/2003_compressable-encryption_quickbrownfox.pst");
  size_t pcs = 0, tcs = 0;
  rebuild_every_context("hughbe-pstreader_simiden-pst2john/2003_compressable-encryption_quickbrownfox.pst", &pcs,
                        &tcs);
  EXPECT_GT(pcs, 10u);
  EXPECT_GT(tcs, 10u);
}

}  // namespace
}  // namespace pstkit::ltp
