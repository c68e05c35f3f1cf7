// Node::read_all (and append_blocks, a range of blocks) on file nodes decodes the data blocks straight from the
// file into one buffer, a run of adjacent blocks per read, bypassing the
// block cache (BlockDatabase::read_node_stream). It must give what reading
// the node block by block gives: the same bytes, and the same error for a
// damaged block. Checked on generated stores (blocks of every size, runs
// broken by damage) and on every node and subnode of the corpus files
// (ANSI, Unicode, 512-byte and 4K-page OST with compressed blocks; no,
// permutative and cyclic encoding).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "pstkit/ndb.h"
#include "pstkit/ndb_writer.h"
#include "test_corpus.h"

namespace pstkit::ndb {
namespace {

namespace fs = std::filesystem;

// The node's data block by block: what read_all must equal.
Result<Bytes> block_by_block(const Node& node) {
  Bytes out;
  for (size_t i = 0; i < node.block_count(); ++i) {
    auto b = node.block(i);
    if (!b.is_ok()) return b.status();
    out.insert(out.end(), (*b)->begin(), (*b)->end());
  }
  return out;
}

// Compares read_all with block_by_block for the node and, recursively, its
// subnodes; returns the number of nodes compared.
size_t expect_same_stream(const Database& db, const Node& node, const std::string& where, int depth = 0) {
  auto whole = node.read_all();
  auto blocks = block_by_block(node);
  EXPECT_EQ(whole.is_ok(), blocks.is_ok()) << where << " node " << hex(node.id()) << ": "
                                          << (whole.is_ok() ? blocks.status() : whole.status()).message();
  if (whole.is_ok() && blocks.is_ok()) {
    EXPECT_TRUE(*whole == *blocks) << where << " node " << hex(node.id());
  }
  // append_blocks, three blocks at a time, after what the buffer held.
  if (blocks.is_ok()) {
    Bytes pieces = {0xAB};
    Status appended;
    for (size_t i = 0; appended.is_ok() && i < node.block_count(); i += 3)
      appended = node.append_blocks(i, std::min<size_t>(3, node.block_count() - i), &pieces);
    EXPECT_TRUE(appended.is_ok()) << where << " node " << hex(node.id()) << ": " << appended.message();
    EXPECT_TRUE(Bytes(pieces.begin() + 1, pieces.end()) == *blocks) << where << " node " << hex(node.id());
  }
  Bytes past;
  EXPECT_FALSE(node.append_blocks(node.block_count(), 1, &past).is_ok()) << where << " node " << hex(node.id());
  size_t compared = 1;
  if (depth > 4) return compared;
  auto subs = node.subnodes();
  if (!subs.is_ok()) return compared;
  for (const SubnodeEntry& s : *subs) {
    auto sub = node.subnode(s.nid);
    if (sub.is_ok() && *sub) compared += expect_same_stream(db, **sub, where, depth + 1);
  }
  return compared;
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("pstkit_node_stream_" + std::to_string(::getpid()) + "_" + name)).string();
}

// A store with nodes of many blocks, of every size up to the maximum.
std::vector<Nid> write_store(const std::string& path, FileFormat format, uint32_t seed) {
  CreateOptions o;
  o.format = format;
  auto w = WritableDatabase::create(path, o);
  EXPECT_TRUE(w.is_ok()) << w.status().message();
  if (!w.is_ok()) return {};
  std::mt19937 rng(seed);
  const size_t max_data = format == FileFormat::kAnsi ? 8180 : 8176;
  std::vector<Nid> nids;
  for (size_t blocks : {1, 2, 3, 9, 20, 40}) {
    std::vector<Bytes> data;
    for (size_t b = 0; b < blocks; ++b) {
      Bytes block(b + 1 == blocks ? 1 + rng() % max_data : max_data);
      for (auto& x : block) x = uint8_t(rng());
      data.push_back(std::move(block));
    }
    auto bid = (*w)->write_data_tree(data);
    EXPECT_TRUE(bid.is_ok()) << bid.status().message();
    const Nid nid = (*w)->allocate_nid(kNidTypeNormalMessage);
    EXPECT_TRUE((*w)->put_node({nid, *bid, 0, 0}).is_ok());
    nids.push_back(nid);
  }
  EXPECT_TRUE((*w)->commit().is_ok());
  return nids;
}

TEST(NodeStream, ReadAllMatchesBlockByBlockOnGeneratedStores) {
  for (FileFormat format : {FileFormat::kAnsi, FileFormat::kUnicode}) {
    const std::string path = temp_path("gen.pst");
    const std::vector<Nid> nids = write_store(path, format, 11);
    auto db = Database::open(path);
    ASSERT_TRUE(db.is_ok()) << db.status().message();
    for (Nid nid : nids) {
      auto node = (*db)->open_node(nid);
      ASSERT_TRUE(node.is_ok()) << node.status().message();
      auto whole = (*node)->read_all();
      ASSERT_TRUE(whole.is_ok()) << whole.status().message();
      EXPECT_EQ(whole->size(), (*node)->size());
      expect_same_stream(**db, **node, "generated");
      // The limit holds as before.
      if ((*node)->size() > 1) {
        EXPECT_FALSE((*node)->read_all((*node)->size() - 1).is_ok());
      }
    }
    fs::remove(path);
  }
}

// A damaged block in the middle of a node: read_all fails as block(i) does,
// naming the node and the block; the blocks before it read as before.
TEST(NodeStream, ADamagedBlockFailsAsReadingItAloneDoes) {
  for (FileFormat format : {FileFormat::kAnsi, FileFormat::kUnicode}) {
    const std::string path = temp_path("damaged.pst");
    const std::vector<Nid> nids = write_store(path, format, 12);
    const Nid nid = nids.back();  // 40 blocks
    Bid victim = 0;
    uint64_t offset = 0;
    {
      auto db = Database::open(path);
      ASSERT_TRUE(db.is_ok());
      auto node = (*db)->open_node(nid);
      ASSERT_TRUE(node.is_ok());
      ASSERT_GE((*node)->block_count(), 20u);
      // The 18th leaf (block 17): the data block whose contents it has.
      std::vector<BlockEntry> leaves;
      ASSERT_TRUE((*db)->for_each_block([&](const BlockEntry& e) {
                         if (!bid_is_internal(e.bid)) leaves.push_back(e);
                         return true;
                       }).is_ok());
      auto first = (*node)->block(17);
      ASSERT_TRUE(first.is_ok());
      for (const BlockEntry& e : leaves) {
        auto decoded = (*db)->read_block(e.bid);
        if (decoded.is_ok() && **decoded == **first) victim = e.bid, offset = e.offset;
      }
    }
    ASSERT_NE(victim, 0u);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(std::streamoff(offset + 100));
      f.put('\x5a' ^ char(0xff));
    }
    auto db = Database::open(path);
    ASSERT_TRUE(db.is_ok());
    auto node = (*db)->open_node(nid);
    ASSERT_TRUE(node.is_ok());
    auto whole = (*node)->read_all();
    auto alone = (*node)->block(17);
    ASSERT_FALSE(whole.is_ok());
    ASSERT_FALSE(alone.is_ok());
    EXPECT_EQ(whole.status().message(), alone.status().message());
    EXPECT_NE(whole.status().message().find(hex(victim)), std::string::npos) << whole.status().message();
    EXPECT_NE(whole.status().message().find("node " + hex(nid)), std::string::npos) << whole.status().message();
    // Another node's stream is unaffected.
    auto other = (*db)->open_node(nids[3]);
    ASSERT_TRUE(other.is_ok());
    expect_same_stream(**db, **other, "undamaged");
    fs::remove(path);
  }
}

TEST(NodeStream, ReadAllMatchesBlockByBlockOnEveryCorpusNode) {
  const std::vector<std::string> stores = test::whole_corpus_stores();
  if (stores.empty()) {
    if (test::in_ci()) FAIL() << "no corpus at " << test::kCorpusDir;
    GTEST_SKIP() << "no corpus at " << test::kCorpusDir;
  }
  size_t files = 0, nodes = 0;
  for (const std::string& rel : stores) {
    auto db = Database::open(test::kCorpusDir + rel);
    if (!db.is_ok()) continue;  // damaged beyond opening: other tests cover those
    ++files;
    std::vector<Nid> all;
    (void)(*db)->for_each_node([&](const NodeEntry& e) { return all.push_back(e.nid), true; });
    for (Nid nid : all) {
      auto node = (*db)->open_node(nid);
      if (node.is_ok()) nodes += expect_same_stream(**db, **node, rel);
    }
  }
  std::printf("%zu files, %zu nodes and subnodes compared\n", files, nodes);
  EXPECT_GT(files, 50u);
}

}  // namespace
}  // namespace pstkit::ndb
