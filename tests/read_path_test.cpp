// The full read's memory traffic: blocks are kept at their data size (no
// trailer, padding or zero-filled buffer kept with them) and table rows are
// read in place rather than copied, one allocation per row.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>

#include "ndb/page.h"
#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/ndb.h"
#include "pstkit/ndb_writer.h"

// Counts operator new calls made by this thread, for the allocation tests
// below. The replacement is global to the test binary; it only counts.
namespace {
thread_local size_t g_allocations = 0;

void* counted_alloc(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them):
// every form that can allocate must pair with the deletes above, or a
// sanitizer sees the library's new freed by this file's delete.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(n ? n : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace pstkit {
namespace {

Bytes pattern(size_t n, uint32_t seed) {
  Bytes b(n);
  std::mt19937 rng(seed);
  for (auto& x : b) x = uint8_t(rng());
  return b;
}

class ReadPathBlocks : public ::testing::TestWithParam<ndb::FileFormat> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pstkit-readpath-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.pst").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string path_;
};

// A cached block is resident memory charged at its size: before, it kept the
// capacity of the buffer the whole on-disk block (trailer, padding) had been
// read into, zero-filled first.
TEST_P(ReadPathBlocks, BlocksKeepOnlyTheirDecodedData) {
  ndb::CreateOptions o;
  o.format = GetParam();
  o.crypt = ndb::CryptMethod::kPermute;
  const Bytes small = pattern(100, 1);
  Bytes multi;
  ndb::Nid a = 0, b = 0;
  {
    auto w = ndb::WritableDatabase::create(path_, o);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    const uint32_t max = (*w)->max_data_block();
    multi = pattern(size_t(max) * 3 + 17, 2);
    std::vector<Bytes> parts;
    for (size_t i = 0; i < multi.size(); i += max) {
      parts.emplace_back(multi.begin() + long(i), multi.begin() + long(std::min(multi.size(), i + max)));
    }
    a = (*w)->allocate_nid(ndb::kNidTypeNormalMessage);
    b = (*w)->allocate_nid(ndb::kNidTypeNormalMessage);
    auto bid_a = (*w)->write_data_tree({small});
    auto bid_b = (*w)->write_data_tree(parts);
    ASSERT_TRUE(bid_a.is_ok() && bid_b.is_ok());
    ASSERT_TRUE((*w)->put_node({a, *bid_a, 0, 0}).is_ok());
    ASSERT_TRUE((*w)->put_node({b, *bid_b, 0, 0}).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  auto db = ndb::Database::open(path_);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  for (ndb::Nid nid : {a, b}) {
    auto node = (*db)->open_node(nid);
    ASSERT_TRUE(node.is_ok()) << node.status().message();
    Bytes all;
    for (size_t i = 0; i < (*node)->block_count(); ++i) {
      auto block = (*node)->block(i);
      ASSERT_TRUE(block.is_ok()) << block.status().message();
      EXPECT_EQ((*block)->capacity(), (*block)->size()) << "node " << nid << " block " << i;
      all.insert(all.end(), (*block)->begin(), (*block)->end());
    }
    EXPECT_EQ(all, nid == a ? small : multi);
  }
}

// read(2)-family calls (pread included) this process has made so far:
// /proc/self/io syscr. Reading it takes some itself; the test measures how many.
long read_calls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  long value = -1;
  while (io >> key >> value) {
    if (key == "syscr:") return value;
  }
  return -1;
}

// A node's blocks written back to back are read with one read of the file,
// not one per block (dump reads every block of every message this way).
TEST_P(ReadPathBlocks, AdjacentBlocksOfANodeAreReadTogether) {
  if (read_calls() < 0) GTEST_SKIP() << "no /proc/self/io";
  ndb::CreateOptions o;
  o.format = GetParam();
  Bytes data;
  ndb::Nid nid = 0;
  constexpr size_t kBlocks = 7;  // 7 full blocks: 56 KiB on disk, under the 64 KiB extent
  {
    auto w = ndb::WritableDatabase::create(path_, o);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    const uint32_t max = (*w)->max_data_block();
    data = pattern(size_t(max) * kBlocks, 3);
    std::vector<Bytes> parts;
    for (size_t i = 0; i < data.size(); i += max) {
      parts.emplace_back(data.begin() + long(i), data.begin() + long(i + max));
    }
    nid = (*w)->allocate_nid(ndb::kNidTypeNormalMessage);
    auto bid = (*w)->write_data_tree(parts);
    ASSERT_TRUE(bid.is_ok()) << bid.status().message();
    ASSERT_TRUE((*w)->put_node({nid, *bid, 0, 0}).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  auto db = ndb::Database::open(path_);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  auto node = (*db)->open_node(nid);
  ASSERT_TRUE(node.is_ok()) << node.status().message();
  ASSERT_EQ((*node)->block_count(), kBlocks);
  // The test needs the blocks back to back: find them through the XBLOCK
  // (MS-PST 2.2.2.8.3.2.1: 8-byte header, then the BIDs).
  auto entry = (*db)->find_node(nid);
  ASSERT_TRUE(entry.is_ok());
  auto xblock = (*db)->read_block(entry->data_bid);
  ASSERT_TRUE(xblock.is_ok());
  const ByteView x(**xblock);
  const size_t bid_size = GetParam() == ndb::FileFormat::kAnsi ? 4 : 8;
  ASSERT_TRUE(x.has(8, kBlocks * bid_size));
  uint64_t next = 0;
  for (size_t i = 0; i < kBlocks; ++i) {
    const ndb::Bid bid = bid_size == 4 ? x.u32(8 + 4 * i) : x.u64(8 + 8 * i);
    auto e = (*db)->find_block(bid);
    ASSERT_TRUE(e.is_ok());
    if (i > 0 && e->offset != next) GTEST_SKIP() << "the writer did not lay the blocks out back to back";
    next = e->offset + ndb::block_disk_size((*db)->header(), e->stored_size);
  }
  const long first = read_calls();
  const long overhead = read_calls() - first;
  const long before = read_calls();
  Bytes all;
  for (size_t i = 0; i < kBlocks; ++i) {
    auto block = (*node)->block(i);
    ASSERT_TRUE(block.is_ok()) << block.status().message();
    all.insert(all.end(), (*block)->begin(), (*block)->end());
  }
  const long calls = read_calls() - before - overhead;
  EXPECT_EQ(all, data);
  EXPECT_LE(calls, 2) << "reads of the file for " << kBlocks << " adjacent blocks";
}

INSTANTIATE_TEST_SUITE_P(Formats, ReadPathBlocks,
                         ::testing::Values(ndb::FileFormat::kAnsi, ndb::FileFormat::kUnicode));

// dump walks a folder's contents table by row id and reads every message's
// recipient and attachment tables: a row is read where it lies, not copied
// into a fresh buffer (one allocation per row before).
TEST(ReadPathTables, RowIdsAreReadInPlace) {
  constexpr ltp::PropTag kValue = 0x0E080003;  // PidTagMessageSize, PtypInteger32
  auto tb = ltp::TcBuilder::create(ndb::FileFormat::kUnicode, {kValue}, ltp::sequential_nid_allocator());
  ASSERT_TRUE(tb.is_ok()) << tb.status().message();
  constexpr uint32_t kRows = 2000;
  for (uint32_t i = 0; i < kRows; ++i) {
    Bytes v(4);
    store_le32(v.data(), i);
    ASSERT_TRUE(tb->add_row(ndb::make_nid(ndb::kNidTypeNormalMessage, i + 1), {{kValue, v}}).is_ok());
  }
  auto built = tb->build();
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  std::map<ndb::Nid, std::vector<Bytes>> subnodes;
  for (const auto& [sub, node] : built->subnodes) subnodes[sub] = node.blocks;
  std::shared_ptr<const ndb::Node> node(ndb::make_memory_node(0x8E, built->blocks, std::move(subnodes)));
  auto tc = ltp::TableContext::open(node);
  ASSERT_TRUE(tc.is_ok()) << tc.status().message();
  ASSERT_EQ(tc->row_count(), kRows);
  ASSERT_FALSE(ltp::hnid_is_hid(tc->rows_hnid())) << "the matrix should be in a subnode (several blocks)";
  ASSERT_GT(tc->row_count(), tc->rows_per_block());

  const size_t before = g_allocations;
  uint64_t sum = 0;
  for (size_t i = 0; i < tc->row_count(); ++i) {
    auto id = tc->row_id(i);
    ASSERT_TRUE(id.is_ok()) << id.status().message();
    sum += ndb::nid_index(*id);
  }
  EXPECT_EQ(g_allocations - before, 0u);
  EXPECT_EQ(sum, uint64_t(kRows) * (kRows + 1) / 2);

  // Cells are decoded from the row in place too: one allocation per value
  // (its bytes), none for the row.
  const size_t column = *tc->find_column(kValue);
  const size_t before_cells = g_allocations;
  for (size_t i = 0; i < tc->row_count(); ++i) {
    auto cell = tc->cell(i, column);
    ASSERT_TRUE(cell.is_ok() && cell->has_value());
    EXPECT_EQ(load_le32((*cell)->data.data()), ndb::nid_index(*tc->row_id(i)) - 1);
  }
  EXPECT_LE(g_allocations - before_cells, size_t(kRows));
}

}  // namespace
}  // namespace pstkit
