// LTP layer tests: spec samples ([MS-PST] 3.8-3.11), synthetic heaps and
// tables built in memory, damaged structures, and real files from the corpus.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "pstkit/ltp.h"

namespace pstkit::ltp {
namespace {

// ---------------------------------------------------------------------------
// Helpers

const std::string kCorpus = PSTKIT_SOURCE_DIR "/../shared/corpus/";

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

// Corpus files are optional locally but required in CI.
#define LOAD_CORPUS_OR_SKIP(var, rel)                                  \
  Bytes var;                                                           \
  if (!load_file(kCorpus + (rel), &var)) {                             \
    if (in_ci()) FAIL() << "missing corpus file " << (rel);            \
    GTEST_SKIP() << "corpus file " << (rel) << " not present";         \
  }

Bytes le16(uint16_t v) { Bytes b(2); store_le16(b.data(), v); return b; }
Bytes le32(uint32_t v) { Bytes b(4); store_le32(b.data(), v); return b; }
Bytes le64(uint64_t v) { Bytes b(8); store_le64(b.data(), v); return b; }

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes utf16(const std::u16string& s) {
  Bytes out;
  for (char16_t c : s) {
    out.push_back(uint8_t(c));
    out.push_back(uint8_t(c >> 8));
  }
  return out;
}

std::shared_ptr<const ndb::Node> memory_node(ndb::Nid nid, std::vector<Bytes> blocks,
                                             std::map<ndb::Nid, std::vector<Bytes>> subnodes = {}) {
  return std::shared_ptr<const ndb::Node>(ndb::make_memory_node(nid, std::move(blocks), std::move(subnodes)));
}

// Builds the blocks of a Heap-on-Node (MS-PST 2.3.1) from allocations.
class HeapBuilder {
 public:
  explicit HeapBuilder(uint8_t client_sig, ndb::FileFormat format = ndb::FileFormat::kUnicode)
      : client_sig_(client_sig), format_(format) {}

  Hid add(Bytes data, uint32_t block = 0) {
    if (blocks_.size() <= block) blocks_.resize(block + 1);
    blocks_[block].push_back(std::move(data));
    return make_hid(block, uint32_t(blocks_[block].size()), format_);
  }
  void set_user_root(Hid hid) { user_root_ = hid; }
  void ensure_blocks(size_t n) {
    if (blocks_.size() < n) blocks_.resize(n);
  }

  std::vector<Bytes> build() const {
    std::vector<Bytes> out;
    for (size_t i = 0; i < std::max<size_t>(1, blocks_.size()); ++i) {
      out.push_back(build_block(i, i < blocks_.size() ? blocks_[i] : std::vector<Bytes>{}));
    }
    return out;
  }

 private:
  Bytes build_block(size_t index, const std::vector<Bytes>& allocs) const {
    const size_t hdr = index == 0 ? 12 : ((index >= 8 && (index - 8) % 128 == 0) ? 66 : 2);
    Bytes b(hdr, 0);
    if (index == 0) {
      b[2] = kHeapSignature;
      b[3] = client_sig_;
      store_le32(&b[4], user_root_);
    }
    std::vector<uint16_t> offsets;
    for (const Bytes& a : allocs) {
      offsets.push_back(uint16_t(b.size()));
      b.insert(b.end(), a.begin(), a.end());
    }
    offsets.push_back(uint16_t(b.size()));
    if (b.size() % 2 != 0) b.push_back(0);
    store_le16(&b[0], uint16_t(b.size()));
    Bytes map = cat({le16(uint16_t(allocs.size())), le16(0)});
    for (uint16_t o : offsets) map = cat({map, le16(o)});
    return cat({b, map});
  }

  uint8_t client_sig_;
  ndb::FileFormat format_;
  Hid user_root_ = 0;
  std::vector<std::vector<Bytes>> blocks_;
};

Bytes bth_header(uint8_t key_size, uint8_t data_size, uint8_t levels, Hid root) {
  return cat({Bytes{kClientBth, key_size, data_size, levels}, le32(root)});
}

struct PcRecord {
  uint16_t id;
  uint16_t type;
  uint32_t value;
};

// Adds the PC's BTH (records + header) to a heap and points hidUserRoot at it.
void add_pc_bth(HeapBuilder& hb, const std::vector<PcRecord>& records) {
  Bytes r;
  for (const PcRecord& rec : records) r = cat({r, le16(rec.id), le16(rec.type), le32(rec.value)});
  const Hid root = records.empty() ? 0 : hb.add(r);
  hb.set_user_root(hb.add(bth_header(2, 6, 0, root)));
}

std::string str(const Result<std::string>& r) { return r.is_ok() ? *r : "<" + r.status().message() + ">"; }

// ---------------------------------------------------------------------------
// Property types, values and UTF-16

TEST(LtpUtf16, ConvertsBmpAndSurrogatePairs) {
  EXPECT_EQ(utf16le_to_utf8(utf16(u"abc")), "abc");
  EXPECT_EQ(utf16le_to_utf8(utf16(u"\u00e9\u20ac")), "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(utf16le_to_utf8(utf16(u"\U0001F600")), "\xf0\x9f\x98\x80");
  EXPECT_EQ(utf16le_to_utf8(Bytes{}), "");
}

TEST(LtpUtf16, ReplacesLoneSurrogatesAndOddByte) {
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(utf16le_to_utf8(cat({le16(0xD83D), le16('a')})), fffd + "a");  // lone high
  EXPECT_EQ(utf16le_to_utf8(cat({le16('a'), le16(0xDE00)})), "a" + fffd);  // lone low
  EXPECT_EQ(utf16le_to_utf8(le16(0xD800)), fffd);                          // high at end
  EXPECT_EQ(utf16le_to_utf8(cat({le16(0xDC00), le16(0xD800)})), fffd + fffd);  // reversed pair
  EXPECT_EQ(utf16le_to_utf8(Bytes{'a', 0, 'b'}), "a" + fffd);
}

TEST(LtpPropType, NamesAndSizes) {
  EXPECT_EQ(prop_type_name(kPtypString), "PtypString");
  EXPECT_EQ(prop_type_name(kPtypBinary), "PtypBinary");
  EXPECT_EQ(prop_type_name(kPtypMultipleFlag | kPtypInteger32), "PtypMultipleInteger32");
  EXPECT_EQ(prop_type_name(0x1234), "0x1234");
  EXPECT_EQ(prop_type_name(kPtypMultipleFlag | kPtypBoolean), "0x100b");  // no MV form
  EXPECT_EQ(fixed_type_size(kPtypBoolean), 1u);
  EXPECT_EQ(fixed_type_size(kPtypInteger16), 2u);
  EXPECT_EQ(fixed_type_size(kPtypTime), 8u);
  EXPECT_EQ(fixed_type_size(kPtypGuid), 16u);
  EXPECT_EQ(fixed_type_size(kPtypMultipleFlag | kPtypInteger64), 8u);
  EXPECT_EQ(fixed_type_size(kPtypString), 0u);
  EXPECT_TRUE(is_variable_size_type(kPtypObject));
  EXPECT_TRUE(is_variable_size_type(kPtypMultipleFlag | kPtypBinary));
  EXPECT_FALSE(is_variable_size_type(kPtypGuid));
  EXPECT_FALSE(is_known_type(0x0099));
  EXPECT_EQ(make_tag(0x3001, kPtypString), 0x3001001Fu);
}

TEST(LtpPropValue, FixedDecodersCheckTypeAndSize) {
  PropValue i32{make_tag(0x0E07, kPtypInteger32), le32(0xFFFFFFFE)};
  ASSERT_TRUE(i32.as_i32().is_ok());
  EXPECT_EQ(*i32.as_i32(), -2);
  EXPECT_EQ(i32.as_i64().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(i32.as_string().status().code(), Code::kInvalidArgument);

  PropValue short_i32{make_tag(0x0E07, kPtypInteger32), Bytes{1, 2, 3}};
  EXPECT_EQ(short_i32.as_i32().status().code(), Code::kCorrupt);

  EXPECT_EQ(*PropValue({make_tag(1, kPtypInteger16), le16(0x8000)}).as_i16(), -32768);
  EXPECT_EQ(*PropValue({make_tag(1, kPtypInteger64), le64(0x123456789ULL)}).as_i64(), 0x123456789LL);
  EXPECT_TRUE(*PropValue({make_tag(1, kPtypBoolean), Bytes{1}}).as_bool());
  EXPECT_FALSE(*PropValue({make_tag(1, kPtypBoolean), Bytes{0}}).as_bool());
  EXPECT_EQ(*PropValue({make_tag(1, kPtypTime), le64(0x01D0000000000001ULL)}).as_time(),
            0x01D0000000000001ULL);
  EXPECT_EQ(*PropValue({make_tag(1, kPtypCurrency), le64(uint64_t(-50000))}).as_currency(), -50000);
  EXPECT_DOUBLE_EQ(*PropValue({make_tag(1, kPtypFloating64), le64(0x3FF8000000000000ULL)}).as_double(), 1.5);
  EXPECT_DOUBLE_EQ(*PropValue({make_tag(1, kPtypFloatingTime), le64(0x4000000000000000ULL)}).as_double(), 2.0);
  EXPECT_FLOAT_EQ(*PropValue({make_tag(1, kPtypFloating32), le32(0x3F800000)}).as_float(), 1.0f);
  EXPECT_EQ(*PropValue({make_tag(1, kPtypErrorCode), le32(0x8004010F)}).as_i32(), int32_t(0x8004010F));

  Bytes g(16);
  for (int i = 0; i < 16; ++i) g[i] = uint8_t(i);
  auto guid = PropValue{make_tag(1, kPtypGuid), g}.as_guid();
  ASSERT_TRUE(guid.is_ok());
  EXPECT_EQ((*guid)[15], 15);
  EXPECT_EQ(PropValue({make_tag(1, kPtypGuid), Bytes(15)}).as_guid().status().code(), Code::kCorrupt);
}

TEST(LtpPropValue, StringsAreDecodedOrRaw) {
  PropValue s{make_tag(0x3001, kPtypString), utf16(u"Inbox")};
  EXPECT_EQ(str(s.as_string()), "Inbox");
  PropValue s8{make_tag(0x3001, kPtypString8), Bytes{'H', 0xE9}};
  ASSERT_TRUE(s8.as_string8().is_ok());
  EXPECT_EQ(*s8.as_string8(), (Bytes{'H', 0xE9}));
  EXPECT_FALSE(s8.as_string().is_ok());
}

TEST(LtpPropValue, MultiValuedFixedAndVariable) {
  PropValue mv32{make_tag(1, kPtypMultipleFlag | kPtypInteger32), cat({le32(7), le32(9)})};
  auto e = mv32.mv_elements();
  ASSERT_TRUE(e.is_ok());
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[1], le32(9));
  PropValue bad32{make_tag(1, kPtypMultipleFlag | kPtypInteger32), Bytes(6)};
  EXPECT_EQ(bad32.mv_elements().status().code(), Code::kCorrupt);

  // MS-PST 2.3.3.4.2: ulCount, offsets, items.
  const Bytes a = utf16(u"a"), bc = utf16(u"bc");
  PropValue mvs{make_tag(1, kPtypMultipleFlag | kPtypString),
                cat({le32(3), le32(16), le32(16 + 2), le32(16 + 2), a, bc})};
  auto strings = mvs.mv_strings();
  ASSERT_TRUE(strings.is_ok()) << strings.status().message();
  EXPECT_EQ(*strings, (std::vector<std::string>{"a", "", "bc"}));

  PropValue empty{make_tag(1, kPtypMultipleFlag | kPtypBinary), {}};
  ASSERT_TRUE(empty.mv_elements().is_ok());
  EXPECT_TRUE(empty.mv_elements()->empty());

  // Damage: a count that cannot fit, offsets out of order or out of range.
  PropValue huge{make_tag(1, kPtypMultipleFlag | kPtypBinary), cat({le32(0x40000000), le32(8)})};
  EXPECT_EQ(huge.mv_elements().status().code(), Code::kCorrupt);
  PropValue backwards{make_tag(1, kPtypMultipleFlag | kPtypBinary), cat({le32(2), le32(14), le32(12), Bytes(4)})};
  EXPECT_EQ(backwards.mv_elements().status().code(), Code::kCorrupt);
  PropValue past{make_tag(1, kPtypMultipleFlag | kPtypBinary), cat({le32(1), le32(99)})};
  EXPECT_EQ(past.mv_elements().status().code(), Code::kCorrupt);
  PropValue into_header{make_tag(1, kPtypMultipleFlag | kPtypBinary), cat({le32(1), le32(2), Bytes(4)})};
  EXPECT_EQ(into_header.mv_elements().status().code(), Code::kCorrupt);
  EXPECT_EQ(PropValue({make_tag(1, kPtypBinary), Bytes(4)}).mv_elements().status().code(),
            Code::kInvalidArgument);
}

TEST(LtpPropValue, ObjectRef) {
  auto ref = parse_object_ref(cat({le32(0x8025), le32(1234)}));
  ASSERT_TRUE(ref.is_ok());
  EXPECT_EQ(ref->nid, 0x8025u);
  EXPECT_EQ(ref->size, 1234u);
  EXPECT_FALSE(parse_object_ref(Bytes(7)).is_ok());
}

TEST(LtpHid, StandardAnd4kLayouts) {
  const HidParts p = split_hid(0x00030060, ndb::FileFormat::kUnicode);
  EXPECT_EQ(p.index, 3u);
  EXPECT_EQ(p.block, 3u);
  EXPECT_EQ(make_hid(3, 3, ndb::FileFormat::kUnicode), 0x00030060u);
  // 4 KiB-page files: 14-bit index, 13-bit block index.
  const Hid h = make_hid(5, 0x2001, ndb::FileFormat::kUnicode4k);
  EXPECT_EQ(h, (5u << 19) | (0x2001u << 5));
  const HidParts q = split_hid(h, ndb::FileFormat::kUnicode4k);
  EXPECT_EQ(q.index, 0x2001u);
  EXPECT_EQ(q.block, 5u);
}

// ---------------------------------------------------------------------------
// MS-PST 3.8-3.10: the sample heap, its BTH and the message store PC.

const char* kSampleHeap = "pst-exp-spec-fragments/sample_heap_on_node.bin";
const char* kSampleTc = "pst-exp-spec-fragments/sample_tc.bin";

TEST(HeapSpecSample, HeaderAndPageMap) {
  LOAD_CORPUS_OR_SKIP(data, kSampleHeap);
  auto heap = Heap::open(memory_node(0x21, {data}));
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();
  EXPECT_EQ(heap->client_signature(), kClientPropertyContext);
  EXPECT_EQ(heap->user_root(), 0x20u);
  EXPECT_EQ(heap->fill_levels(), 0u);
  EXPECT_EQ(heap->block_count(), 1u);
  const auto blocks = heap->blocks();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_TRUE(blocks[0].status.is_ok());
  EXPECT_EQ(blocks[0].page_map_offset, 0xECu);
  // The spec: 8 allocations at 0x0C, 0x14, 0x6C, 0x7C, 0x8C, 0xA4, 0xBC, 0xD4; next at 0xEC.
  const uint32_t offsets[] = {0x0C, 0x14, 0x6C, 0x7C, 0x8C, 0xA4, 0xBC, 0xD4, 0xEC};
  ASSERT_EQ(blocks[0].allocations.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(blocks[0].allocations[i].hid, Hid(0x20 * (i + 1)));
    EXPECT_EQ(blocks[0].allocations[i].offset, offsets[i]);
    EXPECT_EQ(blocks[0].allocations[i].size, offsets[i + 1] - offsets[i]);
  }
  auto header = heap->get(0x20);
  ASSERT_TRUE(header.is_ok());
  EXPECT_EQ(header->to_bytes(), (Bytes{0xB5, 0x02, 0x06, 0x00, 0x40, 0x00, 0x00, 0x00}));
  auto name = heap->get(0x80);
  ASSERT_TRUE(name.is_ok());
  EXPECT_EQ(utf16le_to_utf8(*name), "UNICODE1");
  EXPECT_EQ(heap->get(0x120).status().code(), Code::kCorrupt);  // index 9 of 8
}

TEST(BthSpecSample, RecordsOfTheMessageStore) {
  LOAD_CORPUS_OR_SKIP(data, kSampleHeap);
  auto heap = Heap::open(memory_node(0x21, {data}));
  ASSERT_TRUE(heap.is_ok());
  auto bth = Bth::open(*heap, heap->user_root());
  ASSERT_TRUE(bth.is_ok()) << bth.status().message();
  EXPECT_EQ(bth->key_size(), 2);
  EXPECT_EQ(bth->data_size(), 6);
  EXPECT_EQ(bth->index_levels(), 0);
  EXPECT_EQ(bth->root(), 0x40u);
  std::vector<uint16_t> keys;
  ASSERT_TRUE(bth->for_each([&](ByteView k, ByteView) {
    keys.push_back(k.u16(0));
    return true;
  }).is_ok());
  EXPECT_EQ(keys, (std::vector<uint16_t>{0x0E34, 0x0E38, 0x0FF9, 0x3001, 0x35DF, 0x35E0, 0x35E3,
                                         0x35E7, 0x6633, 0x66FA, 0x67FF}));
  auto found = bth->find(le16(0x3001));
  ASSERT_TRUE(found.is_ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->u16(0), kPtypString);
  EXPECT_EQ((*found)->u32(2), 0x80u);
  auto missing = bth->find(le16(0x3002));
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(bth->find(le32(0x3001)).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(bth->validate().is_ok());
}

TEST(PropertyContextSpecSample, MessageStoreValues) {
  LOAD_CORPUS_OR_SKIP(data, kSampleHeap);
  auto pc = PropertyContext::open(memory_node(0x21, {data}));
  ASSERT_TRUE(pc.is_ok()) << pc.status().message();
  EXPECT_EQ(pc->nid(), 0x21u);
  EXPECT_EQ(pc->tags(), (std::vector<PropTag>{0x0E340102, 0x0E380003, 0x0FF90102, 0x3001001F, 0x35DF0003,
                                              0x35E00102, 0x35E30102, 0x35E70102, 0x6633000B,
                                              0x66FA0003, 0x67FF0003}));
  // Values as MS-PST 3.10 lists them.
  const Bytes record_key = {0x22, 0x9D, 0xB5, 0x0A, 0xDC, 0xD9, 0x94, 0x43,
                            0x85, 0xDE, 0x90, 0xAE, 0xB0, 0x7D, 0x12, 0x70};
  EXPECT_EQ(str(pc->get(0x3001)->as_string()), "UNICODE1");
  EXPECT_EQ(*pc->get(0x0E38)->as_i32(), 0);
  EXPECT_EQ(*pc->get(0x35DF)->as_i32(), 0x89);
  EXPECT_EQ(*pc->get(0x67FF)->as_i32(), 0);
  EXPECT_EQ(*pc->get(0x66FA)->as_i32(), 0x000E000D);
  EXPECT_TRUE(*pc->get(0x6633)->as_bool());
  EXPECT_EQ(pc->get(0x0FF9)->data, record_key);
  EXPECT_EQ(pc->get(0x0E34)->data,
            cat({le32(1), Bytes{0xF5, 0x5E, 0xF6, 0x66, 0x95, 0x69, 0xCC, 0x4C, 0x83, 0xD1, 0xD8, 0x73,
                                0x98, 0x99, 0x02, 0x85},
                 le32(1)}));
  EXPECT_EQ(pc->get(0x35E0)->data, cat({le32(0), record_key, le32(0x8022)}));
  EXPECT_EQ(pc->get(0x35E3)->data, cat({le32(0), record_key, le32(0x8062)}));
  EXPECT_EQ(pc->get(0x35E7)->data, cat({le32(0), record_key, le32(0x8042)}));
  EXPECT_EQ(pc->get(0x1234).status().code(), Code::kNotFound);
  EXPECT_TRUE(pc->has(0x3001));
  EXPECT_FALSE(pc->has(0x3002));
  auto all = pc->all();
  ASSERT_TRUE(all.is_ok()) << all.status().message();
  EXPECT_EQ(all->size(), 11u);
  // A heap-held value streams through an in-memory node.
  auto stream = pc->open_value_node(0x0FF9);
  ASSERT_TRUE(stream.is_ok()) << stream.status().message();
  EXPECT_EQ(*(*stream)->read_all(), record_key);
}

// MS-PST 3.11/3.12: the sample TC is the root folder's hierarchy table.
TEST(TableContextSpecSample, RootFolderHierarchyTable) {
  LOAD_CORPUS_OR_SKIP(data, kSampleTc);
  auto tc = TableContext::open(memory_node(0x12D, {data}));
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  struct Expected {
    PropTag tag;
    uint16_t offset;
    uint8_t size;
    uint8_t bit;
  };
  // The spec's listing names the first column 0x0E300003, but its bytes
  // (02 01 30 0E) say 0x0E300102; the bytes are what a reader sees.
  const Expected columns[] = {
      {0x0E300102, 20, 4, 6},  {0x0E330014, 24, 8, 7},  {0x0E340102, 32, 4, 8},
      {0x0E380003, 36, 4, 9},  {0x3001001F, 8, 4, 2},   {0x36020003, 12, 4, 3},
      {0x36030003, 16, 4, 4},  {0x360A000B, 52, 1, 5},  {0x3613001F, 40, 4, 10},
      {0x66350003, 44, 4, 11}, {0x66360003, 48, 4, 12}, {0x67F20003, 0, 4, 0},
      {0x67F30003, 4, 4, 1},
  };
  ASSERT_EQ(tc->columns().size(), std::size(columns));
  for (size_t i = 0; i < std::size(columns); ++i) {
    EXPECT_EQ(tc->columns()[i].tag, columns[i].tag) << i;
    EXPECT_EQ(tc->columns()[i].offset, columns[i].offset) << i;
    EXPECT_EQ(tc->columns()[i].size, columns[i].size) << i;
    EXPECT_EQ(tc->columns()[i].bit, columns[i].bit) << i;
  }
  EXPECT_EQ(tc->group_end(TableContext::kEnd4b), 0x34);
  EXPECT_EQ(tc->group_end(TableContext::kEnd2b), 0x34);
  EXPECT_EQ(tc->group_end(TableContext::kEnd1b), 0x35);
  EXPECT_EQ(tc->row_size(), 0x37u);
  EXPECT_EQ(tc->rows_hnid(), 0x80u);
  ASSERT_EQ(tc->row_count(), 3u);
  EXPECT_EQ(tc->matrix_row_count(), 3u);
  // RowIndex (0x2223, 2), (0x8022, 0), (0x8042, 1).
  ASSERT_EQ(tc->row_index().size(), 3u);
  EXPECT_EQ(tc->row_index()[0].row_id, 0x2223u);
  EXPECT_EQ(tc->row_index()[0].row_index, 2u);
  EXPECT_EQ(tc->row_index()[1].row_id, 0x8022u);
  EXPECT_EQ(tc->row_index()[1].row_index, 0u);
  EXPECT_EQ(tc->row_index()[2].row_id, 0x8042u);
  EXPECT_EQ(tc->row_index()[2].row_index, 1u);
  EXPECT_EQ(tc->find_row(0x2223), std::optional<size_t>(2));
  EXPECT_EQ(tc->find_row(0x9999), std::nullopt);

  const char* names[] = {"Top of Personal Folders", "Search Root", "SPAM Search Folder 2"};
  const uint32_t row_ids[] = {0x8022, 0x8042, 0x2223};
  const bool subfolders[] = {true, false, false};
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(*tc->row_id(r), row_ids[r]);
    auto name = tc->cell_by_tag(r, 0x3001001F);
    ASSERT_TRUE(name.is_ok()) << name.status().message();
    ASSERT_TRUE(name->has_value());
    EXPECT_EQ(str((*name)->as_string()), names[r]);
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x360A000B))->as_bool(), subfolders[r]);
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x36020003))->as_i32(), 0);
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x67F20003))->as_i32(), int32_t(row_ids[r]));
    // The CEB (FC 00) marks only iBits 0-5 present: PidTagReplChangenum
    // (iBit 7) is absent, although the spec's dump prints a zero for it.
    EXPECT_FALSE(tc->cell_by_tag(r, 0x0E330014)->has_value());
    EXPECT_FALSE(tc->cell_by_tag(r, 0x3613001F)->has_value());
    auto row = tc->row(r);
    ASSERT_TRUE(row.is_ok());
    EXPECT_EQ(row->size(), 6u);
  }
  EXPECT_EQ(*(*tc->cell_by_tag(0, 0x67F30003))->as_i32(), 0x0E);
  EXPECT_FALSE(tc->cell_by_tag(0, 0x12340003)->has_value());  // no such column
  EXPECT_EQ(tc->row(3).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(tc->cell(0, 13).status().code(), Code::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Heap-on-Node: synthetic and damaged

TEST(HeapSynthetic, MultiBlockWithBitmapHeader) {
  HeapBuilder hb(0x6C);
  std::vector<Hid> hids;
  for (uint32_t block = 0; block < 10; ++block) {
    for (uint32_t k = 0; k < 3; ++k) hids.push_back(hb.add(Bytes(k + 1, uint8_t(block * 16 + k)), block));
  }
  hb.set_user_root(hids[0]);
  auto heap = Heap::open(memory_node(0x100, hb.build()));
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();
  EXPECT_EQ(heap->block_count(), 10u);
  EXPECT_EQ(heap->client_signature(), 0x6C);
  for (size_t i = 0; i < hids.size(); ++i) {
    auto v = heap->get(hids[i]);
    ASSERT_TRUE(v.is_ok()) << i << ": " << v.status().message();
    EXPECT_EQ(v->size(), i % 3 + 1);
    EXPECT_EQ(v->u8(0), uint8_t((i / 3) * 16 + i % 3));
  }
  // Block 8 starts with a 66-byte HNBITMAPHDR.
  const auto blocks = heap->blocks();
  ASSERT_EQ(blocks.size(), 10u);
  EXPECT_EQ(blocks[8].allocations[0].offset, 66u);
  EXPECT_EQ(blocks[7].allocations[0].offset, 2u);
  EXPECT_EQ(blocks[0].allocations[0].offset, 12u);
  EXPECT_EQ(blocks[9].allocations[2].hid, make_hid(9, 3, ndb::FileFormat::kUnicode));
}

TEST(HeapSynthetic, FourKibPageHidLayout) {
  HeapBuilder hb(0xBC, ndb::FileFormat::kUnicode4k);
  hb.add(Bytes{1});
  const Hid in_block_1 = hb.add(Bytes{2, 3}, 1);
  EXPECT_EQ(in_block_1, (1u << 19) | (1u << 5));
  Options options;
  options.format = ndb::FileFormat::kUnicode4k;
  auto heap = Heap::open(memory_node(0x100, hb.build()), options);
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();
  auto v = heap->get(in_block_1);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(v->to_bytes(), (Bytes{2, 3}));
  // Read with the standard layout the same HID names block 8: not there.
  auto standard = Heap::open(memory_node(0x100, hb.build()));
  ASSERT_TRUE(standard.is_ok());
  EXPECT_EQ(standard->get(in_block_1).status().code(), Code::kCorrupt);
}

TEST(HeapDamage, BadSignatureAndTruncation) {
  HeapBuilder hb(0xBC);
  hb.set_user_root(hb.add(Bytes{1, 2}));
  Bytes block = hb.build()[0];
  Bytes bad_sig = block;
  bad_sig[2] = 0xED;
  auto r = Heap::open(memory_node(0x21, {bad_sig}));
  EXPECT_EQ(r.status().code(), Code::kCorrupt);
  EXPECT_EQ(r.status().structure(), "HN header");
  EXPECT_NE(r.status().detail().find("0x21"), std::string::npos);

  EXPECT_EQ(Heap::open(memory_node(0x21, {Bytes(block.begin(), block.begin() + 5)})).status().code(),
            Code::kTruncated);
  EXPECT_EQ(Heap::open(memory_node(0x21, {})).status().code(), Code::kCorrupt);
  EXPECT_EQ(Heap::open(memory_node(0x21, {Bytes{}})).status().code(), Code::kTruncated);
  EXPECT_EQ(Heap::open(nullptr).status().code(), Code::kInvalidArgument);
  // Cutting the page map off the end.
  auto cut = Heap::open(memory_node(0x21, {Bytes(block.begin(), block.end() - 3)}));
  EXPECT_EQ(cut.status().structure(), "HN page map");
}

TEST(HeapDamage, PageMapOffsetsOutOfRange) {
  HeapBuilder hb(0xBC);
  hb.add(Bytes(4, 1));
  hb.set_user_root(hb.add(Bytes(4, 2)));
  const Bytes good = hb.build()[0];
  const size_t map = load_le16(good.data());

  Bytes past_end = good;
  store_le16(past_end.data(), uint16_t(good.size() + 10));
  EXPECT_EQ(Heap::open(memory_node(1, {past_end})).status().structure(), "HN page map");

  Bytes into_header = good;
  store_le16(into_header.data(), 4);
  EXPECT_EQ(Heap::open(memory_node(1, {into_header})).status().structure(), "HN page map");

  Bytes not_monotonic = good;
  store_le16(&not_monotonic[map + 4 + 2], 0x20);  // rgibAlloc[1] past rgibAlloc[2]
  EXPECT_EQ(Heap::open(memory_node(1, {not_monotonic})).status().structure(), "HN page map");

  Bytes alloc_past_map = good;
  store_le16(&alloc_past_map[map + 4 + 4], uint16_t(map + 2));
  EXPECT_EQ(Heap::open(memory_node(1, {alloc_past_map})).status().structure(), "HN page map");

  Bytes first_in_header = good;
  store_le16(&first_in_header[map + 4], 2);
  EXPECT_EQ(Heap::open(memory_node(1, {first_in_header})).status().structure(), "HN page map");

  Bytes huge_count = good;
  store_le16(&huge_count[map], 0xFFFF);
  EXPECT_EQ(Heap::open(memory_node(1, {huge_count})).status().structure(), "HN page map");
}

TEST(HeapDamage, BadHids) {
  HeapBuilder hb(0xBC);
  const Hid a = hb.add(Bytes{1});
  hb.add(Bytes{}, 1);  // block 1, empty slot
  hb.set_user_root(a);
  auto heap = Heap::open(memory_node(7, hb.build()));
  ASSERT_TRUE(heap.is_ok());
  EXPECT_TRUE(heap->get(a).is_ok());
  auto empty = heap->get(make_hid(1, 1, ndb::FileFormat::kUnicode));
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(heap->get(0).status().structure(), "HID");                 // index 0
  EXPECT_EQ(heap->get(a | 0x01).status().structure(), "HID");          // NID type bits
  EXPECT_EQ(heap->get(make_hid(0, 2, ndb::FileFormat::kUnicode)).status().structure(), "HID");
  EXPECT_EQ(heap->get(make_hid(2, 1, ndb::FileFormat::kUnicode)).status().structure(), "HID");
  EXPECT_EQ(heap->get(make_hid(0xFFFF, 0x7FF, ndb::FileFormat::kUnicode)).status().code(), Code::kCorrupt);
}

TEST(HeapDamage, DamagedLaterBlockIsIsolated) {
  HeapBuilder hb(0xBC);
  const Hid a = hb.add(Bytes{1});
  const Hid b = hb.add(Bytes{2}, 1);
  const Hid c = hb.add(Bytes{3}, 2);
  hb.set_user_root(a);
  std::vector<Bytes> blocks = hb.build();
  store_le16(blocks[1].data(), 0x7FFF);  // block 1's ibHnpm past its end
  auto heap = Heap::open(memory_node(7, blocks));
  ASSERT_TRUE(heap.is_ok()) << heap.status().message();
  EXPECT_TRUE(heap->get(a).is_ok());
  EXPECT_TRUE(heap->get(c).is_ok());
  EXPECT_EQ(heap->get(b).status().structure(), "HN page map");
  const auto info = heap->blocks();
  EXPECT_TRUE(info[0].status.is_ok());
  EXPECT_FALSE(info[1].status.is_ok());
  EXPECT_TRUE(info[1].allocations.empty());
}

// ---------------------------------------------------------------------------
// BTree-on-Heap

// A two-level BTH with 4-byte keys: index -> three leaves.
struct TwoLevelBth {
  HeapBuilder hb{0xB5};
  Hid header = 0;
  std::vector<Hid> leaves;

  explicit TwoLevelBth(bool damage_first_key = false) {
    Bytes index;
    for (uint32_t leaf = 0; leaf < 3; ++leaf) {
      Bytes records;
      for (uint32_t k = 0; k < 4; ++k) {
        const uint32_t key = leaf * 100 + k * 10;
        records = cat({records, le32(key), le16(uint16_t(key + 1))});
      }
      const Hid h = hb.add(records);
      leaves.push_back(h);
      const uint32_t index_key = (damage_first_key && leaf == 1) ? 101 : leaf * 100;
      index = cat({index, le32(index_key), le32(h)});
    }
    header = hb.add(bth_header(4, 2, 1, hb.add(index)));
    hb.set_user_root(header);
  }
};

TEST(BthSynthetic, TwoLevelFindAndWalk) {
  TwoLevelBth t;
  auto heap = Heap::open(memory_node(1, t.hb.build()));
  ASSERT_TRUE(heap.is_ok());
  auto bth = Bth::open(*heap, t.header);
  ASSERT_TRUE(bth.is_ok()) << bth.status().message();
  EXPECT_EQ(bth->index_levels(), 1);
  std::vector<uint32_t> keys;
  ASSERT_TRUE(bth->for_each([&](ByteView k, ByteView d) {
    EXPECT_EQ(d.u16(0), k.u32(0) + 1);
    keys.push_back(k.u32(0));
    return true;
  }).is_ok());
  EXPECT_EQ(keys, (std::vector<uint32_t>{0, 10, 20, 30, 100, 110, 120, 130, 200, 210, 220, 230}));
  for (uint32_t key : keys) {
    auto f = bth->find(le32(key));
    ASSERT_TRUE(f.is_ok());
    ASSERT_TRUE(f->has_value()) << key;
    EXPECT_EQ((*f)->u16(0), key + 1);
  }
  for (uint32_t key : {5u, 99u, 231u, 0xFFFFFFFFu}) {
    auto f = bth->find(le32(key));
    ASSERT_TRUE(f.is_ok());
    EXPECT_FALSE(f->has_value()) << key;
  }
  EXPECT_TRUE(bth->validate().is_ok());
  // Early stop.
  int visited = 0;
  ASSERT_TRUE(bth->for_each([&](ByteView, ByteView) { return ++visited < 5; }).is_ok());
  EXPECT_EQ(visited, 5);
}

TEST(BthKeys, OrderFollowsKeySize) {
  // 2- and 4-byte keys are numbers; 8- and 16-byte keys compare bytewise,
  // as in the 0x8C/0x9C heaps of Outlook-written files.
  EXPECT_LT(compare_keys(le16(0x00FF), le16(0x0100)), 0);
  EXPECT_GT(compare_keys(Bytes{1, 0, 0, 2}, Bytes{2, 0, 0, 1}), 0);
  EXPECT_EQ(compare_keys(le32(7), le32(7)), 0);
  EXPECT_LT(compare_keys(Bytes{1, 0, 0, 0, 0, 0, 0, 2}, Bytes{2, 0, 0, 0, 0, 0, 0, 1}), 0);
  EXPECT_GT(compare_keys(Bytes(16, 0x80), Bytes(16, 0x7F)), 0);
}

TEST(BthSynthetic, EmptyTree) {
  HeapBuilder hb(0xB5);
  const Hid header = hb.add(bth_header(2, 6, 0, 0));
  hb.set_user_root(header);
  auto heap = Heap::open(memory_node(1, hb.build()));
  auto bth = Bth::open(*heap, header);
  ASSERT_TRUE(bth.is_ok());
  int n = 0;
  EXPECT_TRUE(bth->for_each([&](ByteView, ByteView) { return ++n > 0; }).is_ok());
  EXPECT_EQ(n, 0);
  EXPECT_FALSE(bth->find(le16(1))->has_value());
}

TEST(BthDamage, ValidateReportsOrderAndIndexKeys) {
  TwoLevelBth t(/*damage_first_key=*/true);
  auto heap = Heap::open(memory_node(1, t.hb.build()));
  auto bth = Bth::open(*heap, t.header);
  ASSERT_TRUE(bth.is_ok());
  EXPECT_TRUE(bth->for_each([](ByteView, ByteView) { return true; }).is_ok());
  auto s = bth->validate();
  EXPECT_EQ(s.structure(), "BTH");

  HeapBuilder hb(0xB5);
  const Hid root = hb.add(cat({le16(5), le16(1), le16(3), le16(2)}));
  const Hid header = hb.add(bth_header(2, 2, 0, root));
  auto heap2 = Heap::open(memory_node(1, hb.build()));
  auto unsorted = Bth::open(*heap2, header);
  ASSERT_TRUE(unsorted.is_ok());
  EXPECT_TRUE(unsorted->for_each([](ByteView, ByteView) { return true; }).is_ok());
  EXPECT_EQ(unsorted->validate().structure(), "BTH");
}

TEST(BthDamage, CyclesDepthAndSizes) {
  // An index array that points at itself, two levels deep.
  {
    HeapBuilder hb(0xB5);
    hb.add(Bytes{});  // slot 1 placeholder so the index is HID 0x40
    const Hid self = make_hid(0, 2, ndb::FileFormat::kUnicode);
    hb.add(cat({le16(0), le32(self), le16(9), le32(self)}));
    const Hid header = hb.add(bth_header(2, 6, 2, self));
    auto heap = Heap::open(memory_node(1, hb.build()));
    auto bth = Bth::open(*heap, header);
    ASSERT_TRUE(bth.is_ok());
    EXPECT_EQ(bth->for_each([](ByteView, ByteView) { return true; }).structure(), "BTH");
    EXPECT_EQ(bth->validate().structure(), "BTH");
    EXPECT_FALSE(bth->find(le16(9)).is_ok());  // terminates with an error
  }
  auto open_header = [](Bytes header_bytes) {
    HeapBuilder hb(0xB5);
    const Hid h = hb.add(std::move(header_bytes));
    auto heap = Heap::open(memory_node(1, hb.build()));
    return Bth::open(*heap, h).status();
  };
  EXPECT_EQ(open_header(bth_header(2, 6, 9, 0x20)).structure(), "BTH header");   // too deep
  EXPECT_EQ(open_header(bth_header(3, 6, 0, 0x20)).structure(), "BTH header");   // cbKey
  EXPECT_EQ(open_header(bth_header(2, 0, 0, 0x20)).structure(), "BTH header");   // cbEnt 0
  EXPECT_EQ(open_header(bth_header(2, 33, 0, 0x20)).structure(), "BTH header");  // cbEnt > 32
  Bytes wrong_type = bth_header(2, 6, 0, 0x20);
  wrong_type[0] = 0xB6;
  EXPECT_EQ(open_header(wrong_type).structure(), "BTH header");
  EXPECT_EQ(open_header(Bytes{0xB5, 2, 6}).structure(), "BTH header");  // short

  // Record array not a multiple of the record size; a root HID that is not there.
  HeapBuilder hb(0xB5);
  const Hid ragged = hb.add(Bytes(7));
  const Hid h1 = hb.add(bth_header(2, 6, 0, ragged));
  const Hid h2 = hb.add(bth_header(2, 6, 0, make_hid(0, 40, ndb::FileFormat::kUnicode)));
  auto heap = Heap::open(memory_node(1, hb.build()));
  auto b1 = Bth::open(*heap, h1);
  ASSERT_TRUE(b1.is_ok());
  EXPECT_EQ(b1->for_each([](ByteView, ByteView) { return true; }).structure(), "BTH");
  EXPECT_EQ(b1->find(le16(0)).status().structure(), "BTH");
  auto b2 = Bth::open(*heap, h2);
  ASSERT_TRUE(b2.is_ok());
  EXPECT_EQ(b2->for_each([](ByteView, ByteView) { return true; }).structure(), "HID");
}

// ---------------------------------------------------------------------------
// Property Context: synthetic

constexpr ndb::Nid kBigBinaryNid = 0x1234;  // type bits 0x14: a subnode, not a HID
constexpr ndb::Nid kObjectNid = 0x8025;

struct SamplePc {
  HeapBuilder hb{kClientPropertyContext};
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  Bytes big;
  Bytes mv_strings;

  SamplePc() {
    big.resize(9000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7);
    subnodes[kBigBinaryNid] = {Bytes(big.begin(), big.begin() + 8176), Bytes(big.begin() + 8176, big.end())};
    subnodes[kObjectNid] = {Bytes{'e', 'm', 'b'}};
    mv_strings = cat({le32(2), le32(12), le32(14), utf16(u"x"), utf16(u"yz")});
    Bytes guid(16, 0xAB);
    const std::vector<PcRecord> records = {
        {0x0017, kPtypInteger32, 2},
        {0x0037, kPtypString, hb.add(utf16(u"Hello \U0001F600"))},
        {0x0039, kPtypTime, hb.add(le64(0x01D5000000000000ULL))},
        {0x0057, kPtypBoolean, 1},
        {0x0E1B, kPtypBoolean, 0},
        {0x1000, kPtypString, 0},  // empty value
        {0x3701, kPtypBinary, kBigBinaryNid},
        {0x3702, kPtypObject, hb.add(cat({le32(kObjectNid), le32(3)}))},
        {0x4001, kPtypInteger16, 0xFFFF8001},
        {0x4002, kPtypFloating32, 0x40490FDB},
        {0x4003, kPtypFloating64, hb.add(le64(0x400921FB54442D18ULL))},
        {0x4004, kPtypCurrency, hb.add(le64(12345))},
        {0x4005, kPtypInteger64, hb.add(le64(0x7FFFFFFFFFFFFFFFULL))},
        {0x4006, kPtypGuid, hb.add(guid)},
        {0x4007, kPtypString8, hb.add(Bytes{'a', 'b', 0xE9})},
        {0x4008, kPtypMultipleFlag | kPtypInteger32, hb.add(cat({le32(1), le32(2), le32(3)}))},
        {0x4009, kPtypMultipleFlag | kPtypString, hb.add(mv_strings)},
        {0x400A, kPtypErrorCode, 0x80040102},
    };
    add_pc_bth(hb, records);
  }
  std::shared_ptr<const ndb::Node> node() const { return memory_node(0x200024, hb.build(), subnodes); }
};

TEST(PropertyContextSynthetic, EveryKindOfValue) {
  SamplePc s;
  auto pc = PropertyContext::open(s.node());
  ASSERT_TRUE(pc.is_ok()) << pc.status().message();
  EXPECT_EQ(pc->entries().size(), 18u);
  EXPECT_EQ(*pc->get(0x0017)->as_i32(), 2);
  EXPECT_EQ(str(pc->get(0x0037)->as_string()), "Hello \xf0\x9f\x98\x80");
  EXPECT_EQ(*pc->get(0x0039)->as_time(), 0x01D5000000000000ULL);
  EXPECT_TRUE(*pc->get(0x0057)->as_bool());
  EXPECT_FALSE(*pc->get(0x0E1B)->as_bool());
  EXPECT_EQ(str(pc->get(0x1000)->as_string()), "");
  EXPECT_EQ(pc->get(0x3701)->data, s.big);  // from a two-block subnode
  EXPECT_EQ(*pc->get(0x4001)->as_i16(), -32767);
  EXPECT_FLOAT_EQ(*pc->get(0x4002)->as_float(), 3.14159274f);
  EXPECT_DOUBLE_EQ(*pc->get(0x4003)->as_double(), 3.141592653589793);
  EXPECT_EQ(*pc->get(0x4004)->as_currency(), 12345);
  EXPECT_EQ(*pc->get(0x4005)->as_i64(), 0x7FFFFFFFFFFFFFFFLL);
  EXPECT_EQ(pc->get(0x4006)->as_guid()->at(0), 0xAB);
  EXPECT_EQ(*pc->get(0x4007)->as_string8(), (Bytes{'a', 'b', 0xE9}));
  auto mv = pc->get(0x4008)->mv_elements();
  ASSERT_TRUE(mv.is_ok());
  EXPECT_EQ(mv->size(), 3u);
  EXPECT_EQ(*pc->get(0x4009)->mv_strings(), (std::vector<std::string>{"x", "yz"}));
  EXPECT_EQ(*pc->get(0x400A)->as_i32(), int32_t(0x80040102));
  auto obj = pc->get(0x3702);
  ASSERT_TRUE(obj.is_ok());
  auto ref = parse_object_ref(obj->data);
  ASSERT_TRUE(ref.is_ok());
  EXPECT_EQ(ref->nid, kObjectNid);
  EXPECT_EQ(ref->size, 3u);
  EXPECT_EQ(pc->tag_of(0x3701), std::optional<PropTag>(0x37010102));
  auto all = pc->all();
  ASSERT_TRUE(all.is_ok()) << all.status().message();
  EXPECT_EQ(all->size(), 18u);
}

TEST(PropertyContextSynthetic, ValueNodesForStreaming) {
  SamplePc s;
  auto pc = PropertyContext::open(s.node());
  ASSERT_TRUE(pc.is_ok());
  auto big = pc->open_value_node(0x3701);
  ASSERT_TRUE(big.is_ok()) << big.status().message();
  EXPECT_EQ((*big)->id(), kBigBinaryNid);
  EXPECT_EQ((*big)->block_count(), 2u);
  EXPECT_EQ(*(*big)->read_all(), s.big);
  auto obj = pc->open_value_node(0x3702);
  ASSERT_TRUE(obj.is_ok()) << obj.status().message();
  EXPECT_EQ((*obj)->id(), kObjectNid);
  EXPECT_EQ(*(*obj)->read_all(), (Bytes{'e', 'm', 'b'}));
  auto small = pc->open_value_node(0x0037);
  ASSERT_TRUE(small.is_ok());
  EXPECT_EQ(utf16le_to_utf8(*(*small)->read_all()), "Hello \xf0\x9f\x98\x80");
  auto empty = pc->open_value_node(0x1000);
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ((*empty)->size(), 0u);
  EXPECT_EQ(pc->open_value_node(0x7777).status().code(), Code::kNotFound);
}

TEST(PropertyContextSynthetic, ValueSizeLimit) {
  SamplePc s;
  Options options;
  options.max_value_bytes = 4096;
  auto pc = PropertyContext::open(s.node(), options);
  ASSERT_TRUE(pc.is_ok());
  EXPECT_EQ(pc->get(0x3701).status().code(), Code::kUnsupported);
  EXPECT_TRUE(pc->open_value_node(0x3701).is_ok());  // streaming still works
  EXPECT_FALSE(pc->all().is_ok());
  std::vector<Status> errors;
  EXPECT_EQ(pc->all_readable(&errors).size(), 17u);
  ASSERT_EQ(errors.size(), 1u);
}

TEST(PropertyContextDamage, SharedItemCannotFanOut) {
  // Many records naming one heap item: each reads alone, together they are
  // held to max_value_bytes.
  HeapBuilder hb(kClientPropertyContext);
  const Hid item = hb.add(Bytes(40, 7));
  std::vector<PcRecord> records;
  for (uint16_t id = 1; id <= 5; ++id) records.push_back({id, kPtypBinary, item});
  add_pc_bth(hb, records);
  Options options;
  options.max_value_bytes = 100;
  auto pc = PropertyContext::open(memory_node(1, hb.build()), options);
  ASSERT_TRUE(pc.is_ok());
  for (uint16_t id = 1; id <= 5; ++id) EXPECT_TRUE(pc->get(id).is_ok());
  EXPECT_EQ(pc->all().status().code(), Code::kUnsupported);
  std::vector<Status> errors;
  EXPECT_EQ(pc->all_readable(&errors).size(), 2u);
  EXPECT_EQ(errors.size(), 3u);
}

TEST(PropertyContextDamage, WrongSignaturesAndShapes) {
  {
    HeapBuilder hb(kClientTableContext);  // a TC, not a PC
    add_pc_bth(hb, {{1, kPtypInteger32, 5}});
    EXPECT_EQ(PropertyContext::open(memory_node(1, hb.build())).status().structure(), "PC");
  }
  {
    HeapBuilder hb(kClientPropertyContext);
    const Hid root = hb.add(cat({le32(1), le32(2)}));
    hb.set_user_root(hb.add(bth_header(4, 4, 0, root)));  // cbKey 4: not a PC
    EXPECT_EQ(PropertyContext::open(memory_node(1, hb.build())).status().structure(), "PC");
  }
  {
    HeapBuilder hb(kClientPropertyContext);
    hb.set_user_root(make_hid(0, 5, ndb::FileFormat::kUnicode));  // no such allocation
    hb.add(Bytes(4));
    EXPECT_EQ(PropertyContext::open(memory_node(1, hb.build())).status().structure(), "HID");
  }
  {
    HeapBuilder hb(kClientPropertyContext);
    hb.set_user_root(0x21);  // a NID, not a HID
    hb.add(Bytes(4));
    EXPECT_FALSE(PropertyContext::open(memory_node(1, hb.build())).is_ok());
  }
}

TEST(PropertyContextDamage, BadValuesFailAlone) {
  HeapBuilder hb(kClientPropertyContext);
  const Hid four = hb.add(le32(7));
  add_pc_bth(hb, {
                     {0x0001, kPtypInteger32, 5},
                     {0x0002, kPtypInteger64, four},          // 8-byte type, 4-byte item
                     {0x0003, kPtypBinary, 0x4321},           // subnode absent
                     {0x0004, kPtypBinary, make_hid(0, 99, ndb::FileFormat::kUnicode)},
                     {0x0005, 0x0099, 5},                     // unknown type
                     {0x0006, kPtypObject, four},             // (nid, size) must be 8 bytes
                     {0x0007, kPtypTime, 0},                  // 8-byte type, no HID
                 });
  auto pc = PropertyContext::open(memory_node(1, hb.build()));
  ASSERT_TRUE(pc.is_ok()) << pc.status().message();
  EXPECT_TRUE(pc->get(0x0001).is_ok());
  EXPECT_EQ(pc->get(0x0002).status().structure(), "PC value");
  EXPECT_EQ(pc->get(0x0003).status().code(), Code::kNotFound);
  EXPECT_EQ(pc->get(0x0004).status().structure(), "HID");
  EXPECT_EQ(pc->get(0x0005).status().code(), Code::kUnsupported);
  EXPECT_TRUE(pc->get(0x0006).is_ok());  // raw bytes are returned...
  EXPECT_FALSE(pc->open_value_node(0x0006).is_ok());  // ...but are no object reference
  EXPECT_EQ(pc->get(0x0007).status().structure(), "PC value");
  std::vector<Status> errors;
  EXPECT_EQ(pc->all_readable(&errors).size(), 2u);
  EXPECT_EQ(errors.size(), 5u);
  EXPECT_FALSE(pc->all().is_ok());
}

TEST(PropertyContextDamage, DuplicateAndUnsortedRecords) {
  HeapBuilder hb(kClientPropertyContext);
  add_pc_bth(hb, {{0x0009, kPtypInteger32, 9}, {0x0002, kPtypInteger32, 2}, {0x0009, kPtypInteger32, 10}});
  auto pc = PropertyContext::open(memory_node(1, hb.build()));
  ASSERT_TRUE(pc.is_ok());
  EXPECT_EQ(pc->tags(), (std::vector<PropTag>{0x00020003, 0x00090003}));
  EXPECT_EQ(*pc->get(0x0009)->as_i32(), 9);
  EXPECT_EQ(*pc->get(0x0002)->as_i32(), 2);
}

// ---------------------------------------------------------------------------
// Table Context: synthetic

// A 9-column table (see the layout below) whose row matrix lives in a
// subnode of 3 blocks, 2 rows per block with dead space after them.
struct SampleTc {
  static constexpr uint16_t kRowSize = 37;
  static constexpr ndb::Nid kMatrixNid = 0x3F;      // a subnode NID (type 0x1F)
  static constexpr ndb::Nid kLongSubjectNid = 0x6A4;  // type 0x04

  HeapBuilder hb{kClientTableContext};
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  std::vector<uint32_t> row_ids = {0x300, 0x100, 0x500, 0x200, 0x400};
  std::u16string long_subject;

  // Columns sorted by tag (MS-PST 2.3.4.1): tag, ibData, cbData, iBit.
  // rgdwData 0..32, rgwData 32..34, rgbData 34..35, CEB 35..37.
  std::vector<TableContext::Column> columns = {
      {0x0037001F, 8, 4, 2},   // subject: HID or subnode
      {0x0057000B, 34, 1, 3},  // boolean
      {0x0E060040, 16, 8, 4},  // time, inline 8 bytes
      {0x0E070003, 12, 4, 5},  // int32
      {0x65E20102, 28, 4, 6},  // binary
      {0x66010002, 32, 2, 7},  // int16
      {0x67F20003, 0, 4, 0},   // PidTagLtpRowId
      {0x67F30003, 4, 4, 1},   // PidTagLtpRowVer
      {0x8020101F, 24, 4, 8},  // multiple string
  };

  explicit SampleTc(size_t block_data_size = 100, bool ansi_row_index = false) {
    long_subject.assign(2000, u'L');
    subnodes[kLongSubjectNid] = {utf16(long_subject)};
    Bytes matrix;
    for (uint32_t r = 0; r < row_ids.size(); ++r) matrix = cat({matrix, make_row(r)});
    // Split into blocks holding whole rows, padding with junk (dead space).
    const size_t per_block = block_data_size / kRowSize;
    std::vector<Bytes> blocks;
    for (size_t first = 0; first < row_ids.size(); first += per_block) {
      const size_t n = std::min(per_block, row_ids.size() - first);
      Bytes b(matrix.begin() + first * kRowSize, matrix.begin() + (first + n) * kRowSize);
      if (first + n < row_ids.size()) b.resize(block_data_size, 0xAA);
      blocks.push_back(b);
    }
    subnodes[kMatrixNid] = blocks;

    // Row index BTH: sorted by row id.
    std::vector<std::pair<uint32_t, uint32_t>> index;
    for (uint32_t r = 0; r < row_ids.size(); ++r) index.push_back({row_ids[r], r});
    std::sort(index.begin(), index.end());
    Bytes records;
    for (auto [id, r] : index) {
      records = cat({records, le32(id), ansi_row_index ? le16(uint16_t(r)) : le32(r)});
    }
    const Hid row_index = hb.add(bth_header(4, ansi_row_index ? 2 : 4, 0, hb.add(records)));
    hb.set_user_root(hb.add(tcinfo(row_index, kMatrixNid)));
  }

  Bytes tcinfo(Hid row_index, Hnid rows) const {
    Bytes t = cat({Bytes{kClientTableContext, uint8_t(columns.size())}, le16(32), le16(34), le16(35),
                   le16(kRowSize), le32(row_index), le32(rows), le32(0)});
    for (const auto& c : columns) t = cat({t, le32(c.tag), le16(c.offset), Bytes{c.size, c.bit}});
    return t;
  }

  Bytes make_row(uint32_t r) {
    Bytes row(kRowSize, 0xCC);  // junk in absent cells
    auto put = [&](size_t off, const Bytes& v) { std::memcpy(&row[off], v.data(), v.size()); };
    row[35] = row[36] = 0;
    auto set_bit = [&](int bit) { row[35 + bit / 8] |= uint8_t(0x80 >> (bit % 8)); };
    put(0, le32(row_ids[r]));
    set_bit(0);
    put(4, le32(r + 1));
    set_bit(1);
    if (r != 3) {  // row 3 has no subject
      if (r == 2) {
        put(8, le32(kLongSubjectNid));
      } else {
        std::u16string subject = u"Subject ";
        subject += char16_t(u'0' + r);
        put(8, le32(hb.add(utf16(subject))));
      }
      set_bit(2);
    }
    row[34] = uint8_t(r % 2);
    set_bit(3);
    put(16, le64(0x01D0000000000000ULL + r));
    set_bit(4);
    put(12, le32(r * 100));
    set_bit(5);
    put(28, le32(r == 0 ? 0 : hb.add(Bytes(r, uint8_t(r)))));  // row 0: empty binary
    set_bit(6);
    put(32, le16(uint16_t(r * 3)));
    set_bit(7);
    if (r == 1) {
      put(24, le32(hb.add(cat({le32(2), le32(12), le32(14), utf16(u"a"), utf16(u"bc")}))));
      set_bit(8);
    }
    return row;
  }

  std::shared_ptr<const ndb::Node> node() const { return memory_node(0x8022 + 0xC, hb.build(), subnodes); }
};

TEST(TableContextSynthetic, RowMatrixInSubnodeAcrossBlocks) {
  SampleTc s;
  auto tc = TableContext::open(s.node());
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_EQ(tc->columns().size(), 9u);
  EXPECT_EQ(tc->row_size(), SampleTc::kRowSize);
  EXPECT_EQ(tc->rows_per_block(), 2u);
  ASSERT_EQ(tc->row_count(), 5u);
  EXPECT_EQ(tc->matrix_row_count(), 5u);
  for (uint32_t r = 0; r < 5; ++r) {
    SCOPED_TRACE(r);
    EXPECT_EQ(*tc->row_id(r), s.row_ids[r]);
    EXPECT_EQ(tc->find_row(s.row_ids[r]), std::optional<size_t>(r));
    auto subject = tc->cell_by_tag(r, 0x0037001F);
    ASSERT_TRUE(subject.is_ok()) << subject.status().message();
    if (r == 3) {
      EXPECT_FALSE(subject->has_value());
    } else if (r == 2) {
      EXPECT_EQ(str((*subject)->as_string()), std::string(2000, 'L'));
    } else {
      EXPECT_EQ(str((*subject)->as_string()), "Subject " + std::to_string(r));
    }
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x0057000B))->as_bool(), r % 2 == 1);
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x0E060040))->as_time(), 0x01D0000000000000ULL + r);
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x0E070003))->as_i32(), int32_t(r * 100));
    EXPECT_EQ((*tc->cell_by_tag(r, 0x65E20102))->data, Bytes(r, uint8_t(r)));
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x66010002))->as_i16(), int16_t(r * 3));
    EXPECT_EQ(*(*tc->cell_by_tag(r, 0x67F30003))->as_i32(), int32_t(r + 1));
    auto mv = tc->cell_by_tag(r, 0x8020101F);
    ASSERT_TRUE(mv.is_ok());
    if (r == 1) {
      ASSERT_TRUE(mv->has_value());
      EXPECT_EQ(*(*mv)->mv_strings(), (std::vector<std::string>{"a", "bc"}));
    } else {
      EXPECT_FALSE(mv->has_value());
    }
    auto row = tc->row(r);
    ASSERT_TRUE(row.is_ok());
    EXPECT_EQ(row->size(), size_t(r == 1 ? 9 : (r == 3 ? 7 : 8)));
  }
  EXPECT_EQ(tc->find_row(0x999), std::nullopt);
  EXPECT_EQ(tc->row(5).status().code(), Code::kInvalidArgument);
}

TEST(TableContextSynthetic, RowsPerBlockFollowTheBlockSize) {
  // Larger blocks (as in 4 KiB-page OST files): 3 rows per block.
  SampleTc s(/*block_data_size=*/120);
  auto tc = TableContext::open(s.node());
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_EQ(tc->rows_per_block(), 3u);
  EXPECT_EQ(tc->matrix_row_count(), 5u);
  for (uint32_t r = 0; r < 5; ++r) EXPECT_EQ(*tc->row_id(r), s.row_ids[r]);
}

TEST(TableContextSynthetic, AnsiRowIndexAndHeapMatrix) {
  SampleTc s(100, /*ansi_row_index=*/true);
  // Move the matrix into the heap: one allocation, rows back to back.
  Bytes matrix;
  for (const Bytes& b : s.subnodes[SampleTc::kMatrixNid]) {
    matrix = cat({matrix, Bytes(b.begin(), b.begin() + (b.size() / SampleTc::kRowSize) * SampleTc::kRowSize)});
  }
  HeapBuilder& hb = s.hb;
  const Hid rows = hb.add(matrix);
  // Find the row index BTH header: the allocation before the TCINFO.
  auto probe = Heap::open(s.node());
  ASSERT_TRUE(probe.is_ok());
  const ByteView old_info = *probe->get(probe->user_root());
  hb.set_user_root(hb.add(s.tcinfo(old_info.u32(10), rows)));
  auto tc = TableContext::open(s.node());
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_EQ(tc->rows_hnid(), rows);
  EXPECT_EQ(tc->row_count(), 5u);
  EXPECT_EQ(tc->matrix_row_count(), 5u);
  EXPECT_EQ(tc->find_row(0x500), std::optional<size_t>(2));
  for (uint32_t r = 0; r < 5; ++r) EXPECT_EQ(*tc->row_id(r), s.row_ids[r]);
  EXPECT_EQ(str((*tc->cell_by_tag(4, 0x0037001F))->as_string()), "Subject 4");
}

TEST(TableContextSynthetic, EmptyTable) {
  HeapBuilder hb(kClientTableContext);
  const Hid row_index = hb.add(bth_header(4, 4, 0, 0));
  Bytes t = cat({Bytes{kClientTableContext, 2}, le16(8), le16(8), le16(8), le16(9), le32(row_index),
                 le32(0), le32(0), le32(0x67F20003), le16(0), Bytes{4, 0}, le32(0x67F30003), le16(4),
                 Bytes{4, 1}});
  hb.set_user_root(hb.add(t));
  auto tc = TableContext::open(memory_node(0x12E, hb.build()));
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_EQ(tc->row_count(), 0u);
  EXPECT_EQ(tc->matrix_row_count(), 0u);
  EXPECT_EQ(tc->row(0).status().code(), Code::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Table Context: damage

// Rewrites the TCINFO of a SampleTc through `edit` and opens it.
Status open_with_tcinfo(const std::function<void(Bytes&)>& edit) {
  SampleTc s;
  auto probe = Heap::open(s.node());
  Bytes info = probe->get(probe->user_root())->to_bytes();
  edit(info);
  s.hb.set_user_root(s.hb.add(info));
  return TableContext::open(s.node()).status();
}

TEST(TableContextDamage, BadTcInfo) {
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { t[0] = 0x7D; }).structure(), "TCINFO");
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { t[1] = 200; }).structure(), "TCINFO");  // cCols
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { t.resize(10); }).structure(), "TCINFO");
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { store_le16(&t[2], 40); }).structure(), "TCINFO");  // rgib order
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { store_le16(&t[8], 36); }).structure(), "TCINFO");  // CEB < cCols
  // A column past TCI_1b, and one whose iBit is outside the CEB.
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { store_le16(&t[22 + 4], 33); }).structure(), "TCOLDESC");
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { t[22 + 7] = 16; }).structure(), "TCOLDESC");
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { t[22 + 6] = 0; }).structure(), "TCOLDESC");
  // Row index: not a HID, and a BTH of the wrong shape.
  EXPECT_FALSE(open_with_tcinfo([](Bytes& t) { store_le32(&t[10], 0x61); }).is_ok());
  // Row matrix subnode missing.
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) { store_le32(&t[14], 0x7F); }).code(), Code::kNotFound);
  // Row size too small for dwRowID.
  EXPECT_EQ(open_with_tcinfo([](Bytes& t) {
              store_le16(&t[2], 0);
              store_le16(&t[4], 0);
              store_le16(&t[6], 0);
              store_le16(&t[8], 2);
              t[1] = 0;
            }).structure(),
            "TC row matrix");
}

TEST(TableContextDamage, WrongClientSignatureAndRowIndexShape) {
  HeapBuilder pc(kClientPropertyContext);
  add_pc_bth(pc, {{1, kPtypInteger32, 1}});
  EXPECT_EQ(TableContext::open(memory_node(1, pc.build())).status().structure(), "TC");

  SampleTc s;
  auto probe = Heap::open(s.node());
  Bytes info = probe->get(probe->user_root())->to_bytes();
  store_le32(&info[10], s.hb.add(bth_header(2, 6, 0, 0)));  // a PC-shaped BTH
  s.hb.set_user_root(s.hb.add(info));
  EXPECT_EQ(TableContext::open(s.node()).status().structure(), "TC row index");
}

TEST(TableContextDamage, MatrixShorterThanRowIndex) {
  SampleTc s;
  auto& blocks = s.subnodes[SampleTc::kMatrixNid];
  blocks.pop_back();                    // drop the last block (row 4)
  blocks.back().resize(50);             // and cut block 1 inside row 3
  auto tc = TableContext::open(s.node());
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_EQ(tc->row_count(), 5u);
  EXPECT_EQ(tc->matrix_row_count(), 3u);
  EXPECT_TRUE(tc->row(2).is_ok());
  EXPECT_EQ(tc->row(3).status().structure(), "TC row matrix");
  EXPECT_EQ(tc->row(4).status().structure(), "TC row matrix");
  EXPECT_EQ(tc->cell(4, 0).status().structure(), "TC row matrix");
}

TEST(TableContextDamage, TruncatedMiddleBlock) {
  SampleTc s;
  s.subnodes[SampleTc::kMatrixNid][1].resize(40);  // block 1 holds 1 row, not 2
  auto tc = TableContext::open(s.node());
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  EXPECT_TRUE(tc->row(2).is_ok());
  EXPECT_EQ(tc->row(3).status().structure(), "TC row matrix");
}

TEST(TableContextDamage, BlockSmallerThanARow) {
  SampleTc s;
  s.subnodes[SampleTc::kMatrixNid] = {Bytes(20), Bytes(20)};
  EXPECT_EQ(TableContext::open(s.node()).status().structure(), "TC row matrix");
}

TEST(TableContextDamage, BadCellsFailAlone) {
  SampleTc s;
  s.subnodes.erase(SampleTc::kLongSubjectNid);  // row 2's subject
  auto tc = TableContext::open(s.node());
  ASSERT_TRUE(tc.is_ok());
  EXPECT_EQ(tc->cell_by_tag(2, 0x0037001F).status().code(), Code::kNotFound);
  EXPECT_TRUE(tc->cell_by_tag(2, 0x0E070003).is_ok());
  EXPECT_FALSE(tc->row(2).is_ok());
  EXPECT_TRUE(tc->row(1).is_ok());
}

TEST(TableContextDamage, ColumnSizeMismatch) {
  // An 8-byte time column given 4 bytes, and a string column given 2.
  auto status_of_cell = [](uint16_t col_index, uint8_t new_size) {
    SampleTc s;
    auto probe = Heap::open(s.node());
    Bytes info = probe->get(probe->user_root())->to_bytes();
    info[22 + 8 * col_index + 6] = new_size;
    s.hb.set_user_root(s.hb.add(info));
    auto tc = TableContext::open(s.node());
    EXPECT_TRUE(tc.is_ok());
    return tc->cell(0, col_index).status();
  };
  EXPECT_EQ(status_of_cell(2, 4).structure(), "TC column");
  EXPECT_EQ(status_of_cell(0, 2).structure(), "TC column");
}

// ---------------------------------------------------------------------------
// Real files through the file-backed NDB

TEST(LtpCorpus, Sample1StoreAndRootHierarchy) {
  const std::string path = kCorpus + "pstsdk/sample1.pst";
  auto db = ndb::Database::open(path);
  if (!db.is_ok()) {
    if (in_ci()) FAIL() << db.status().message();
    GTEST_SKIP() << path << ": " << db.status().message();
  }
  Options options;
  options.format = (*db)->header().format;
  auto store = (*db)->open_node(ndb::kNidMessageStore);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  auto pc = PropertyContext::open(std::move(*store), options);
  ASSERT_TRUE(pc.is_ok()) << pc.status().message();
  auto name = pc->get(0x3001);
  ASSERT_TRUE(name.is_ok()) << name.status().message();
  EXPECT_EQ(name->type(), kPtypString);
  EXPECT_EQ(str(name->as_string()), "sample1");
  EXPECT_TRUE(pc->all().is_ok());

  // The root folder's hierarchy table (NID 0x12D).
  auto table_node = (*db)->open_node(ndb::make_nid(ndb::kNidTypeHierarchyTable, ndb::nid_index(ndb::kNidRootFolder)));
  ASSERT_TRUE(table_node.is_ok()) << table_node.status().message();
  EXPECT_EQ((*table_node)->id(), 0x12Du);
  auto tc = TableContext::open(std::move(*table_node), options);
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  ASSERT_GT(tc->row_count(), 0u);
  EXPECT_EQ(tc->row_count(), tc->matrix_row_count());
  for (size_t r = 0; r < tc->row_count(); ++r) {
    auto row = tc->row(r);
    ASSERT_TRUE(row.is_ok()) << row.status().message();
    auto name_cell = tc->cell_by_tag(r, 0x3001001F);
    ASSERT_TRUE(name_cell.is_ok());
    ASSERT_TRUE(name_cell->has_value());
    EXPECT_FALSE(str((*name_cell)->as_string()).empty());
    // The row id is the NID of a folder, and the row index agrees.
    auto id = tc->row_id(r);
    ASSERT_TRUE(id.is_ok());
    EXPECT_TRUE(ndb::nid_type(*id) == ndb::kNidTypeNormalFolder ||
                ndb::nid_type(*id) == ndb::kNidTypeSearchFolder);
    EXPECT_EQ(tc->find_row(*id), std::optional<size_t>(r));
  }
}

// Every PC and TC of a file opens and reads without error.
void sweep_file(const std::string& rel, size_t min_pcs, size_t min_tcs) {
  const std::string path = kCorpus + rel;
  auto db = ndb::Database::open(path);
  if (!db.is_ok()) {
    if (in_ci()) FAIL() << db.status().message();
    GTEST_SKIP() << path << ": " << db.status().message();
  }
  Options options;
  options.format = (*db)->header().format;
  size_t pcs = 0, tcs = 0;
  Status walk = (*db)->for_each_node([&](const ndb::NodeEntry& e) {
    auto n = (*db)->open_node(e.nid);
    if (!n.is_ok()) return true;  // NDB damage is not this layer's concern
    std::shared_ptr<const ndb::Node> node(std::move(*n));
    auto heap = Heap::open(node, options);
    if (!heap.is_ok()) return true;  // not every node is a heap
    if (heap->client_signature() == kClientPropertyContext) {
      auto bth = Bth::open(*heap, heap->user_root());
      EXPECT_TRUE(bth.is_ok() && bth->validate().is_ok()) << hex(e.nid);
      auto pc = PropertyContext::open(node, options);
      EXPECT_TRUE(pc.is_ok()) << hex(e.nid) << ": " << pc.status().message();
      if (!pc.is_ok()) return true;
      ++pcs;
      auto all = pc->all();
      EXPECT_TRUE(all.is_ok()) << hex(e.nid) << ": " << all.status().message();
    } else if (heap->client_signature() == kClientTableContext) {
      auto tc = TableContext::open(node, options);
      EXPECT_TRUE(tc.is_ok()) << hex(e.nid) << ": " << tc.status().message();
      if (!tc.is_ok()) return true;
      ++tcs;
      const Hid row_index_hid = heap->get(heap->user_root())->u32(10);
      if (row_index_hid != 0) {
        auto row_index = Bth::open(*heap, row_index_hid);
        EXPECT_TRUE(row_index.is_ok() && row_index->validate().is_ok()) << hex(e.nid);
      }
      EXPECT_EQ(tc->row_count(), tc->matrix_row_count()) << hex(e.nid);
      for (size_t r = 0; r < tc->row_count(); ++r) {
        auto row = tc->row(r);
        EXPECT_TRUE(row.is_ok()) << hex(e.nid) << " row " << r << ": " << row.status().message();
      }
      for (const auto& entry : tc->row_index()) {
        auto id = tc->row_id(entry.row_index);
        EXPECT_TRUE(id.is_ok() && *id == entry.row_id) << hex(e.nid);
      }
    }
    for (const auto& b : heap->blocks()) EXPECT_TRUE(b.status.is_ok()) << hex(e.nid) << ": " << b.status.message();
    return true;
  });
  ASSERT_TRUE(walk.is_ok()) << walk.message();
  EXPECT_GE(pcs, min_pcs);
  EXPECT_GE(tcs, min_tcs);
}

TEST(LtpCorpus, SweepUnicodePst) { sweep_file("pstsdk/sample1.pst", 10, 20); }
TEST(LtpCorpus, SweepAnsiPst) { sweep_file("pstsdk/sample2.pst", 10, 20); }
// Multi-block heaps (a 101-block contents table) and a 512-byte-page OST.
TEST(LtpCorpus, SweepOst) { sweep_file("aspose-net/SampleOstFile.ost", 100, 100); }
// 4 KiB-page OST (wVer 36): large heap blocks, 4K HID layout.
TEST(LtpCorpus, SweepOst4k) { sweep_file("pst-extractor-npm/pstextractortest@outlook.com.ost", 200, 150); }


// A node whose data blocks cannot be read, counting the attempts; its
// subnodes are a memory node's, except one that is such a node itself.
class UnreadableBlocksNode final : public ndb::Node {
 public:
  UnreadableBlocksNode(ndb::Nid nid, uint64_t size, int* reads) : nid_(nid), size_(size), reads_(reads) {}
  ndb::Nid id() const override { return nid_; }
  uint64_t size() const override { return size_; }
  size_t block_count() const override { return 1; }
  Result<SharedBytes> block(size_t) const override {
    ++*reads_;
    return Status::corrupt("block", 0x1000, "unreadable");
  }
  Result<std::unique_ptr<ndb::Node>> subnode(ndb::Nid nid) const override {
    return Status::not_found("subnode " + hex(nid));
  }
  Result<std::vector<ndb::SubnodeEntry>> subnodes() const override { return std::vector<ndb::SubnodeEntry>{}; }

 private:
  ndb::Nid nid_;
  uint64_t size_;
  int* reads_;
};

class WithUnreadableSubnode final : public ndb::Node {
 public:
  WithUnreadableSubnode(std::shared_ptr<const ndb::Node> base, ndb::Nid unreadable, uint64_t size, int* reads)
      : base_(std::move(base)), unreadable_(unreadable), size_(size), reads_(reads) {}
  ndb::Nid id() const override { return base_->id(); }
  uint64_t size() const override { return base_->size(); }
  size_t block_count() const override { return base_->block_count(); }
  Result<SharedBytes> block(size_t i) const override { return base_->block(i); }
  Result<std::unique_ptr<ndb::Node>> subnode(ndb::Nid nid) const override {
    if (nid == unreadable_) return std::unique_ptr<ndb::Node>(new UnreadableBlocksNode(nid, size_, reads_));
    return base_->subnode(nid);
  }
  Result<std::vector<ndb::SubnodeEntry>> subnodes() const override { return base_->subnodes(); }

 private:
  std::shared_ptr<const ndb::Node> base_;
  ndb::Nid unreadable_;
  uint64_t size_;
  int* reads_;
};

TEST(PropertyContextDamage, ShallowCheckOpensSubnodeValuesWithoutReadingThem) {
  HeapBuilder hb(kClientPropertyContext);
  const Hid four = hb.add(le32(7));
  add_pc_bth(hb, {
                     {0x0001, kPtypInteger32, 5},
                     {0x0002, kPtypInteger64, four},  // 8-byte type, 4-byte item
                     {0x0003, kPtypBinary, 0x41},     // blocks unreadable: not read
                     {0x0004, kPtypBinary, 0x4321},   // subnode absent
                     {0x0005, kPtypInteger64, 0x61},  // 8-byte type, 4-byte subnode
                     {0x0006, kPtypBinary, 0x81},     // over the value limit
                     {0x0007, kPtypString, 0xA1},     // fine
                 });
  int reads = 0;
  auto base = memory_node(1, hb.build(), {{0x61, {le32(1)}}, {0x81, {Bytes(5000, 1)}}, {0xA1, {utf16(u"hi")}}});
  auto node = std::make_shared<const WithUnreadableSubnode>(base, 0x41, 100, &reads);
  Options options;
  options.max_value_bytes = 4096;
  auto pc = PropertyContext::open(node, options);
  ASSERT_TRUE(pc.is_ok()) << pc.status().message();

  std::vector<Status> deep;
  pc->all_readable(&deep);
  EXPECT_EQ(deep.size(), 5u);  // 0x2, 0x3, 0x4, 0x5, 0x6
  EXPECT_EQ(reads, 1);

  std::vector<Status> shallow;
  pc->check_values_shallow(&shallow);
  EXPECT_EQ(reads, 1) << "a subnode's data blocks were read";
  ASSERT_EQ(shallow.size(), 4u);  // all but the unreadable blocks of 0x41
  EXPECT_EQ(shallow[0].structure(), "PC value");
  EXPECT_NE(shallow[1].message().find("0x4321"), std::string::npos) << shallow[1].message();
  EXPECT_EQ(shallow[2].structure(), "PC value");
  EXPECT_NE(shallow[2].message().find("4 bytes, expected 8"), std::string::npos) << shallow[2].message();
  EXPECT_EQ(shallow[3].code(), Code::kUnsupported);
}

}  // namespace
}  // namespace pstkit::ltp
