// Lookups in the NBT and BBT (src/ndb/btree_reader.cpp): every lookup,
// whatever the order, must answer as a descent from the root does, also
// when the per-thread memo of the last leaf found is in play: across
// leaves, across several open files, after a file is closed and another
// opened, and from several threads at once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "pstkit/ndb.h"
#include "pstkit/ndb_writer.h"

namespace pstkit::ndb {
namespace {

namespace fs = std::filesystem;

// A store of `nodes` nodes of one small block each: a three-level NBT and
// BBT at this size. The seed varies the blocks' contents and sizes.
void write_store(const std::string& path, FileFormat format, size_t nodes, uint32_t seed) {
  CreateOptions o;
  o.format = format;
  auto w = WritableDatabase::create(path, o);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  std::mt19937 rng(seed);
  for (size_t i = 0; i < nodes; ++i) {
    Bytes data(16 + rng() % 48, uint8_t(rng()));
    auto bid = (*w)->write_data_tree({data});
    ASSERT_TRUE(bid.is_ok()) << bid.status().message();
    ASSERT_TRUE((*w)->put_node({(*w)->allocate_nid(kNidTypeNormalMessage), *bid, 0, 0}).is_ok());
  }
  ASSERT_TRUE((*w)->commit().is_ok());
}

struct Trees {
  std::map<Nid, NodeEntry> nodes;
  std::map<Bid, BlockEntry> blocks;  // by bid_key: lookups ignore the reserved bit (MS-PST 2.2.2.2)
};

// What the walks see: the reference the lookups are checked against.
Trees walk(const Database& db) {
  Trees t;
  EXPECT_TRUE(db.for_each_node([&](const NodeEntry& e) { return t.nodes.emplace(e.nid, e), true; }).is_ok());
  EXPECT_TRUE(db.for_each_block([&](const BlockEntry& e) { return t.blocks.emplace(bid_key(e.bid), e), true; }).is_ok());
  return t;
}

// Looks up every node and block in `order` and a key between each pair of
// neighbours (absent), and checks each answer against the walk.
void expect_lookups_match(const Database& db, const Trees& t, std::vector<uint64_t> node_keys,
                          std::vector<uint64_t> block_keys) {
  for (Nid nid : node_keys) {
    auto e = db.find_node(nid);
    auto want = t.nodes.find(nid);
    if (want == t.nodes.end()) {
      EXPECT_FALSE(e.is_ok()) << "node " << nid << " is not in the walk";
      continue;
    }
    ASSERT_TRUE(e.is_ok()) << "node " << nid << ": " << e.status().message();
    EXPECT_EQ(e->data_bid, want->second.data_bid);
  }
  for (Bid bid : block_keys) {
    auto e = db.find_block(bid);
    auto want = t.blocks.find(bid_key(bid));
    if (want == t.blocks.end()) {
      EXPECT_FALSE(e.is_ok()) << "block " << bid << " is not in the walk";
      continue;
    }
    ASSERT_TRUE(e.is_ok()) << "block " << bid << ": " << e.status().message();
    EXPECT_EQ(e->offset, want->second.offset);
    EXPECT_EQ(e->stored_size, want->second.stored_size);
  }
}

// Every key, a key just past each, and keys below and above all.
template <typename Map>
std::vector<uint64_t> keys_and_gaps(const Map& m) {
  std::vector<uint64_t> keys{0, 1, ~uint64_t{0}};
  for (const auto& [k, _] : m) {
    keys.push_back(k);
    keys.push_back(k + 1);
    keys.push_back(k - 1);
  }
  return keys;
}

class BTreeLookups : public ::testing::TestWithParam<FileFormat> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pstkit_btree_reader_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_P(BTreeLookups, EveryOrderAnswersAsTheWalk) {
  write_store(path("a.pst"), GetParam(), 1500, 1);
  auto db = Database::open(path("a.pst"));
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  const Trees t = walk(**db);
  ASSERT_GE(t.nodes.size(), 1500u);
  ASSERT_GE(t.blocks.size(), 1500u);
  std::vector<uint64_t> nodes = keys_and_gaps(t.nodes), blocks = keys_and_gaps(t.blocks);
  std::sort(nodes.begin(), nodes.end());
  std::sort(blocks.begin(), blocks.end());
  expect_lookups_match(**db, t, nodes, blocks);  // ascending: runs in one leaf
  std::reverse(nodes.begin(), nodes.end());
  std::reverse(blocks.begin(), blocks.end());
  expect_lookups_match(**db, t, nodes, blocks);  // descending
  std::mt19937 rng(5);
  std::shuffle(nodes.begin(), nodes.end(), rng);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  expect_lookups_match(**db, t, nodes, blocks);  // a different leaf almost every time
}

TEST_P(BTreeLookups, TwoFilesOnOneThreadKeepTheirOwnAnswers) {
  // Different contents under the same keys: b's blocks lie elsewhere.
  write_store(path("a.pst"), GetParam(), 600, 2);
  write_store(path("b.pst"), GetParam(), 900, 3);
  auto a = Database::open(path("a.pst"));
  auto b = Database::open(path("b.pst"));
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  const Trees ta = walk(**a), tb = walk(**b);
  std::vector<uint64_t> nodes = keys_and_gaps(tb.nodes), blocks = keys_and_gaps(tb.blocks);
  std::sort(nodes.begin(), nodes.end());
  std::sort(blocks.begin(), blocks.end());
  for (size_t i = 0; i < nodes.size(); ++i) {
    expect_lookups_match(**a, ta, {nodes[i]}, {});
    expect_lookups_match(**b, tb, {nodes[i]}, {});
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    expect_lookups_match(**a, ta, {}, {blocks[i]});
    expect_lookups_match(**b, tb, {}, {blocks[i]});
  }
  // A file closed and another opened (perhaps at the same address): the
  // new one's answers, never the old one's.
  for (int round = 0; round < 3; ++round) {
    a->reset();
    a = Database::open(path(round % 2 ? "a.pst" : "b.pst"));
    ASSERT_TRUE(a.is_ok());
    const Trees& want = round % 2 ? ta : tb;
    expect_lookups_match(**a, want, nodes, blocks);
  }
}

TEST_P(BTreeLookups, ThreadsLookingUpAtOnceEachGetTheWalksAnswer) {
  write_store(path("a.pst"), GetParam(), 1200, 4);
  auto db = Database::open(path("a.pst"));
  ASSERT_TRUE(db.is_ok());
  const Trees t = walk(**db);
  std::vector<uint64_t> nodes = keys_and_gaps(t.nodes), blocks = keys_and_gaps(t.blocks);
  std::vector<std::thread> threads;
  for (uint32_t seed = 0; seed < 4; ++seed) {
    threads.emplace_back([&, seed] {
      std::vector<uint64_t> n = nodes, b = blocks;
      std::mt19937 rng(seed);
      if (seed % 2) {
        std::shuffle(n.begin(), n.end(), rng);
        std::shuffle(b.begin(), b.end(), rng);
      } else {
        std::sort(n.begin(), n.end());
        std::sort(b.begin(), b.end());
      }
      expect_lookups_match(**db, t, n, b);
    });
  }
  for (auto& th : threads) th.join();
}

INSTANTIATE_TEST_SUITE_P(Formats, BTreeLookups, ::testing::Values(FileFormat::kAnsi, FileFormat::kUnicode));

}  // namespace
}  // namespace pstkit::ndb
