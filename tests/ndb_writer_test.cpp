// The NDB writer: created files read back through the reader, B-tree splits
// and merges, reference counting and space reuse, rollback.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "ndb/data_tree.h"
#include "ndb/page.h"
#include "ndb/recent_frees.h"
#include "pstkit/ndb.h"
#include "pstkit/check.h"
#include "pstkit/ndb_writer.h"

namespace pstkit::ndb {
namespace {

class NdbWriterTest : public ::testing::TestWithParam<FileFormat> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pstkit-ndbw-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.pst").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<WritableDatabase> create(const WriterOptions& writer = {}) {
    CreateOptions o;
    o.format = GetParam();
    auto w = WritableDatabase::create(path_, o, writer);
    EXPECT_TRUE(w.is_ok()) << w.status().message();
    return std::move(*w);
  }

  static Bytes pattern(size_t n, uint32_t seed) {
    Bytes b(n);
    std::mt19937 rng(seed);
    for (auto& x : b) x = uint8_t(rng());
    return b;
  }

  // Splits data into full data blocks, as a data tree needs.
  static std::vector<Bytes> split(const Bytes& data, size_t block) {
    std::vector<Bytes> out;
    for (size_t i = 0; i < data.size(); i += block) {
      out.emplace_back(data.begin() + long(i), data.begin() + long(std::min(data.size(), i + block)));
    }
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
  static inline int counter_ = 0;
};

TEST_P(NdbWriterTest, EmptyFileOpensWithReader) {
  auto w = create();
  w.reset();
  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  EXPECT_TRUE((*db)->header().crc_partial_ok);
  EXPECT_TRUE((*db)->header().crc_full_ok);
  EXPECT_EQ((*db)->file_size(), 271360u);  // one AMap region, like Outlook's new files
  size_t n = 0;
  EXPECT_TRUE((*db)->for_each_node([&](const NodeEntry&) { return ++n, true; }).is_ok());
  EXPECT_EQ(n, 0u);
}

TEST_P(NdbWriterTest, NodesRoundTripThroughReader) {
  auto w = create();
  const uint32_t max = w->max_data_block();
  const Bytes small = pattern(100, 1);
  const Bytes multi = pattern(max * 5 + 17, 2);        // XBLOCK
  const Bytes big = pattern(size_t(max) * 1100 + 3, 3);  // XXBLOCK for Unicode (1021 per XBLOCK)
  const Nid a = w->allocate_nid(kNidTypeNormalMessage);
  const Nid b = w->allocate_nid(kNidTypeNormalMessage);
  const Nid c = w->allocate_nid(kNidTypeNormalMessage);
  auto bid_a = w->write_data_tree({small});
  auto bid_b = w->write_data_tree(split(multi, max));
  auto bid_c = w->write_data_tree(split(big, max));
  ASSERT_TRUE(bid_a.is_ok() && bid_b.is_ok() && bid_c.is_ok());
  // A subnode tree big enough to need an SIBLOCK.
  std::vector<SubnodeEntry> subs;
  for (uint32_t i = 0; i < 700; ++i) {
    auto d = w->write_data_tree({pattern(10 + i % 50, 100 + i)});
    ASSERT_TRUE(d.is_ok());
    subs.push_back({make_nid(kNidTypeLtp, i + 1), *d, 0});
  }
  auto sub = w->write_subnode_tree(subs);
  ASSERT_TRUE(sub.is_ok()) << sub.status().message();
  ASSERT_TRUE(w->put_node({a, *bid_a, *sub, 0}).is_ok());
  ASSERT_TRUE(w->put_node({b, *bid_b, 0, 0}).is_ok());
  ASSERT_TRUE(w->put_node({c, *bid_c, 0, 0}).is_ok());
  // Reads see the change before commit.
  auto before = w->open_node(b);
  ASSERT_TRUE(before.is_ok());
  EXPECT_EQ(*(*before)->read_all(), multi);
  ASSERT_TRUE(w->commit().is_ok());
  w.reset();

  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  auto na = (*db)->open_node(a);
  ASSERT_TRUE(na.is_ok());
  EXPECT_EQ(*(*na)->read_all(), small);
  auto children = (*na)->subnodes();
  ASSERT_TRUE(children.is_ok());
  ASSERT_EQ(children->size(), 700u);
  auto s5 = (*na)->subnode(make_nid(kNidTypeLtp, 6));
  ASSERT_TRUE(s5.is_ok());
  EXPECT_EQ(*(*s5)->read_all(), pattern(10 + 5 % 50, 105));
  EXPECT_EQ(*(*(*db)->open_node(b))->read_all(), multi);
  EXPECT_EQ(*(*(*db)->open_node(c))->read_all(), big);
  // Every block's trailer and CRC verify.
  size_t blocks = 0;
  ASSERT_TRUE((*db)->for_each_block([&](const BlockEntry& e) {
    EXPECT_TRUE((*db)->read_block(e.bid).is_ok());
    EXPECT_EQ(e.ref_count, 2);
    return ++blocks, true;
  }).is_ok());
  EXPECT_GT(blocks, 1800u);
}

TEST_P(NdbWriterTest, ManyNodesSplitAndMergeBTree) {
  auto w = create();
  std::vector<Nid> nids;
  for (int i = 0; i < 2000; ++i) {
    const Nid nid = w->allocate_nid(kNidTypeNormalMessage);
    auto d = w->write_data_tree({pattern(20, uint32_t(i))});
    ASSERT_TRUE(d.is_ok());
    ASSERT_TRUE(w->put_node({nid, *d, 0, 0x8022}).is_ok());
    nids.push_back(nid);
    if (i % 500 == 499) {
      ASSERT_TRUE(w->commit().is_ok());
    }
  }
  ASSERT_TRUE(w->commit().is_ok());
  // Delete every other node, in two transactions.
  for (size_t i = 0; i < nids.size(); i += 2) {
    ASSERT_TRUE(w->delete_node(nids[i]).is_ok());
    if (i == 1000) {
      ASSERT_TRUE(w->commit().is_ok());
    }
  }
  ASSERT_TRUE(w->commit().is_ok());
  w.reset();

  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  std::vector<Nid> seen;
  ASSERT_TRUE((*db)->for_each_node([&](const NodeEntry& e) { return seen.push_back(e.nid), true; }).is_ok());
  ASSERT_EQ(seen.size(), 1000u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], nids[2 * i + 1]);
  for (size_t i = 1; i < nids.size(); i += 98) {
    auto n = (*db)->open_node(nids[i]);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(*(*n)->read_all(), pattern(20, uint32_t(i)));
  }
  size_t blocks = 0;
  ASSERT_TRUE((*db)->for_each_block([&](const BlockEntry&) { return ++blocks, true; }).is_ok());
  EXPECT_EQ(blocks, 1000u);  // deleted nodes' blocks left the BBT
}

// With no quiet time, what a commit freed is reused by the next ones.
TEST_P(NdbWriterTest, FreedSpaceIsReused) {
  WriterOptions no_quiet;
  no_quiet.freed_space_quiet_time = std::chrono::milliseconds(0);
  auto w = create(no_quiet);
  const uint32_t max = w->max_data_block();
  const Nid nid = w->allocate_nid(kNidTypeNormalMessage);
  for (int round = 0; round < 30; ++round) {
    auto d = w->write_data_tree(split(pattern(size_t(max) * 20, uint32_t(round)), max));
    ASSERT_TRUE(d.is_ok());
    ASSERT_TRUE(w->put_node({nid, *d, 0, 0}).is_ok());  // replaces and releases the previous data
    ASSERT_TRUE(w->commit().is_ok());
  }
  w.reset();
  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok());
  // 30 rounds of 160 KiB would need ~5 MiB without reuse.
  EXPECT_LT((*db)->file_size(), uint64_t{1} << 20);
  EXPECT_EQ(*(*(*db)->open_node(nid))->read_all(), pattern(size_t(max) * 20, 29));
}

// A node written again and again within one transaction (a table a client
// reads between the saves of a write-behind batch) reuses the space of its
// earlier uncommitted versions at once: no committed state, hence no reader,
// uses them. The default quiet time is kept: it is for space commits free.
TEST_P(NdbWriterTest, SpaceWrittenAndFreedWithinATransactionIsReusedAtOnce) {
  auto w = create();
  const uint32_t max = w->max_data_block();
  const Nid nid = w->allocate_nid(kNidTypeNormalMessage);
  ASSERT_TRUE(w->put_node({nid, *w->write_data_tree(split(pattern(size_t(max) * 20, 100), max)), 0, 0}).is_ok());
  ASSERT_TRUE(w->commit().is_ok());
  for (int round = 0; round < 30; ++round) {
    auto d = w->write_data_tree(split(pattern(size_t(max) * 20, uint32_t(round)), max));
    ASSERT_TRUE(d.is_ok());
    ASSERT_TRUE(w->put_node({nid, *d, 0, 0}).is_ok());  // releases the previous version
  }
  ASSERT_TRUE(w->commit().is_ok());
  w.reset();
  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok());
  // 30 uncommitted versions of 160 KiB would need ~5 MiB without reuse;
  // with it, the committed version, the one the commit freed and the last.
  EXPECT_LT((*db)->file_size(), uint64_t{1} << 20);
  EXPECT_EQ(*(*(*db)->open_node(nid))->read_all(), pattern(size_t(max) * 20, 29));
  // The NDB structures (AMaps against the BBT, reference counts) check
  // clean; the node holds raw test bytes, not a PC.
  check::CheckOptions co;
  co.check_ltp = false;
  co.check_folders = false;
  auto report = check::check_file(path_, co);
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  for (const auto& f : report->findings) {
    if (f.severity == check::Severity::kError) ADD_FAILURE() << f.code << " " << f.structure << ": " << f.message;
  }
}

// Space a commit freed stays unused for the quiet time, by the same writer
// and by a writer of another session (through the record in
// $PSTKIT_SHM_DIR), so that a reader that takes no lock and read the state
// before the commit still finds its blocks where its B-tree says.
TEST_P(NdbWriterTest, FreedSpaceStaysQuietForLaterWriters) {
  const auto shm = dir_ / "shm";
  std::filesystem::create_directories(shm);
  ::setenv("PSTKIT_SHM_DIR", shm.c_str(), 1);
  // Where a node's data blocks are: offset, end.
  auto extents = [](WritableDatabase& w, Nid nid) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    auto tree = load_data_tree(w.header(), (*w.find_node(nid)).data_bid, [&](Bid b) { return w.read_block(b); });
    EXPECT_TRUE(tree.is_ok());
    for (Bid bid : tree->leaves) {
      const BlockEntry e = *w.find_block(bid);
      out.emplace_back(e.offset, e.offset + block_disk_size(w.header(), e.stored_size));
    }
    return out;
  };
  std::vector<std::pair<uint64_t, uint64_t>> freed;
  auto remember = [&](WritableDatabase& w, Nid nid) { freed = extents(w, nid); };
  auto overlaps_freed = [&](WritableDatabase& w, Nid nid) {
    for (const auto& [begin, end] : extents(w, nid)) {
      for (const auto& [fbegin, fend] : freed) {
        if (begin < fend && fbegin < end) return true;
      }
    }
    return false;
  };
  uint32_t max = 0;
  Nid nid = 0;
  {
    auto w = create();
    max = w->max_data_block();
    nid = w->allocate_nid(kNidTypeNormalMessage);
    ASSERT_TRUE(w->put_node({nid, *w->write_data_tree(split(pattern(size_t(max) * 20, 1), max)), 0, 0}).is_ok());
    ASSERT_TRUE(w->commit().is_ok());
    remember(*w, nid);
    // Replaced: its blocks are freed by this commit.
    ASSERT_TRUE(w->put_node({nid, *w->write_data_tree(split(pattern(size_t(max) * 20, 2), max)), 0, 0}).is_ok());
    ASSERT_TRUE(w->commit().is_ok());
    // The same writer's next commit does not reuse them.
    const Nid other = w->allocate_nid(kNidTypeNormalMessage);
    ASSERT_TRUE(w->put_node({other, *w->write_data_tree(split(pattern(size_t(max) * 20, 3), max)), 0, 0}).is_ok());
    ASSERT_TRUE(w->commit().is_ok());
    EXPECT_FALSE(overlaps_freed(*w, other));
  }
  {
    // Neither does the next writer (another process, as far as it knows).
    auto w = WritableDatabase::open(path_);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    const Nid other = (*w)->allocate_nid(kNidTypeNormalMessage);
    ASSERT_TRUE((*w)->put_node({other, *(*w)->write_data_tree(split(pattern(size_t(max) * 20, 4), max)), 0, 0})
                    .is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
    EXPECT_FALSE(overlaps_freed(**w, other));
  }
  // A damaged record is ignored, never an error.
  for (const auto& e : std::filesystem::directory_iterator(shm)) {
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << "PSTKFREE garbage";
  }
  {
    auto w = WritableDatabase::open(path_);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    const Nid other = (*w)->allocate_nid(kNidTypeNormalMessage);
    ASSERT_TRUE((*w)->put_node({other, *(*w)->write_data_tree({pattern(100, 9)}), 0, 0}).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  ::unsetenv("PSTKIT_SHM_DIR");
  // The NDB structures check clean (the nodes hold raw test bytes, not PCs).
  check::CheckOptions co;
  co.check_ltp = false;
  co.check_folders = false;
  auto report = check::check_file(path_, co);
  ASSERT_TRUE(report.is_ok());
  EXPECT_TRUE(report->clean());
  for (const auto& f : report->findings) {
    if (f.severity == check::Severity::kError) ADD_FAILURE() << f.code << " " << f.structure << ": " << f.message;
  }
}

// A new file inherits nothing: inode numbers are reused at once, and a
// record left by a deleted file under the same device and inode would keep
// the new file's space quiet (its blocks then not back to back).
TEST_P(NdbWriterTest, CreatedFileForgetsAnEarlierFilesFreedSpace) {
  const auto shm = dir_ / "shm";
  std::filesystem::create_directories(shm);
  ::setenv("PSTKIT_SHM_DIR", shm.c_str(), 1);
  { std::ofstream(path_) << "x"; }
  RecentFrees earlier(path_, std::chrono::seconds(10));
  (void)earlier.load();
  (void)earlier.add({{0x4400 + 4096, 8192}});
  EXPECT_EQ(RecentFrees(path_, std::chrono::seconds(10)).load().size(), 1u);
  RecentFrees created(path_, std::chrono::seconds(10));
  created.forget();
  EXPECT_TRUE(created.load().empty());
  EXPECT_TRUE(RecentFrees(path_, std::chrono::seconds(10)).load().empty());
  ::unsetenv("PSTKIT_SHM_DIR");
}

TEST_P(NdbWriterTest, RollbackForgetsChanges) {
  auto w = create();
  const Nid keep = w->allocate_nid(kNidTypeNormalMessage);
  ASSERT_TRUE(w->put_node({keep, *w->write_data_tree({pattern(5, 1)}), 0, 0}).is_ok());
  ASSERT_TRUE(w->commit().is_ok());
  const Nid drop = w->allocate_nid(kNidTypeNormalMessage);
  ASSERT_TRUE(w->put_node({drop, *w->write_data_tree({pattern(5, 2)}), 0, 0}).is_ok());
  ASSERT_TRUE(w->delete_node(keep).is_ok());
  ASSERT_TRUE(w->rollback().is_ok());
  EXPECT_TRUE(w->find_node(keep).is_ok());
  EXPECT_FALSE(w->find_node(drop).is_ok());
  w.reset();
  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok());
  EXPECT_TRUE((*db)->find_node(keep).is_ok());
  EXPECT_FALSE((*db)->find_node(drop).is_ok());
}

TEST_P(NdbWriterTest, ReopenForWritingContinues) {
  {
    auto w = create();
    ASSERT_TRUE(w->put_node({0x21, *w->write_data_tree({pattern(7, 7)}), 0, 0}).is_ok());
    ASSERT_TRUE(w->commit().is_ok());
  }
  auto w = WritableDatabase::open(path_);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  ASSERT_TRUE((*w)->put_node({0x61, *(*w)->write_data_tree({pattern(9, 9)}), 0, 0}).is_ok());
  ASSERT_TRUE((*w)->commit().is_ok());
  w->reset();
  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok());
  EXPECT_EQ(*(*(*db)->open_node(0x21))->read_all(), pattern(7, 7));
  EXPECT_EQ(*(*(*db)->open_node(0x61))->read_all(), pattern(9, 9));
}

// append_data_tree grows a stream: the old tree's full data blocks become
// the new tree's (one more reference each), only a partial last block is
// rewritten; from nothing, one block, an XBLOCK and an XXBLOCK. Once the
// node's entry is replaced, reference counts are those of a tree written in
// one go.
TEST_P(NdbWriterTest, AppendDataTreeSharesFullBlocks) {
  auto w = create();
  const uint32_t max = w->max_data_block();
  const Nid nid = w->allocate_nid(kNidTypeInternal);
  auto leaves_of = [&](Bid bid) {
    auto t = load_data_tree(w->header(), bid, [&](Bid b) { return w->read_block(b); });
    EXPECT_TRUE(t.is_ok());
    return t.is_ok() ? t->leaves : std::vector<Bid>{};
  };
  auto ref_count = [&](Bid bid) {
    auto e = w->find_block(bid);
    EXPECT_TRUE(e.is_ok());
    return e.is_ok() ? e->ref_count : 0;
  };
  Bytes want;
  Bid top = 0;
  uint32_t seed = 1;
  // Appends n bytes, replaces the node, checks the stream; returns the leaves.
  auto append = [&](size_t n) {
    const Bytes more = pattern(n, seed++);
    auto bid = w->append_data_tree(top, more);
    EXPECT_TRUE(bid.is_ok()) << bid.status().message();
    want.insert(want.end(), more.begin(), more.end());
    EXPECT_TRUE(w->put_node({nid, *bid, 0, 0}).is_ok());
    top = *bid;
    auto node = w->open_node(nid);
    EXPECT_TRUE(node.is_ok());
    EXPECT_EQ((*node)->size(), want.size());
    EXPECT_TRUE(*(*node)->read_all(uint64_t{1} << 30) == want);
    return leaves_of(top);
  };

  EXPECT_EQ(w->append_data_tree(0, ByteView()).status().code(), Code::kInvalidArgument);
  auto leaves = append(100);  // one partial block
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_FALSE(bid_is_internal(top));
  const Bid partial = leaves[0];
  leaves = append(max - 100 + 50);  // the partial block is rewritten; an XBLOCK
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_TRUE(bid_is_internal(top));
  EXPECT_NE(leaves[0], partial);
  EXPECT_FALSE(w->find_block(partial).is_ok());  // freed with the old tree
  const Bid full = leaves[0];
  EXPECT_EQ(ref_count(full), 2);
  // Appending shares the full block: a reference for each tree until the
  // old tree goes.
  auto bid = w->append_data_tree(top, pattern(10, 99));
  ASSERT_TRUE(bid.is_ok());
  EXPECT_EQ(ref_count(full), 3);
  ASSERT_TRUE(w->release(*bid).is_ok());
  EXPECT_EQ(ref_count(full), 2);
  const auto before = leaves;
  leaves = append(10);
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_EQ(leaves[0], before[0]);
  EXPECT_NE(leaves[1], before[1]);
  EXPECT_EQ(ref_count(full), 2);
  // Past one XBLOCK's worth of leaves: an XXBLOCK whose full leaves are
  // the earlier ones.
  const size_t per_x = (max - 8) / w->header().bid_size;
  leaves = append(size_t(max) * per_x);
  ASSERT_EQ(leaves.size(), per_x + 2);
  EXPECT_EQ(leaves[0], full);
  const auto xx = leaves;
  leaves = append(max);
  ASSERT_EQ(leaves.size(), per_x + 3);
  EXPECT_TRUE(std::equal(xx.begin(), xx.end() - 1, leaves.begin()));
  ASSERT_TRUE(w->commit().is_ok());
  w.reset();

  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok());
  EXPECT_TRUE(*(*(*db)->open_node(nid))->read_all(uint64_t{1} << 30) == want);
  auto report = check::check_file(path_);
  ASSERT_TRUE(report.is_ok());
  for (const char* code : {"REFCOUNT_LOW", "REFCOUNT_HIGH", "BLOCK_ORPHAN", "DATA_TREE", "AMAP_MISMATCH", "AMAP_LEAK"}) {
    EXPECT_EQ(report->count(code), 0u) << code;
  }
}

// rewrite_data_tree keeps the blocks not given (a contents table's row
// matrix keeps all but its last from one commit to the next): their BIDs
// and reference counts stay, the new XBLOCKs' lcbTotal comes from the old
// ones, and a reference the new tree takes on a kept block cancels against
// the old tree's release.
TEST_P(NdbWriterTest, RewrittenDataTreeKeepsItsUnchangedBlocksAndTheirSizes) {
  auto w = create();
  const size_t per_x = (w->max_data_block() - 8) / w->header().bid_size;
  const Nid nid = w->allocate_nid(kNidTypeInternal);
  std::vector<Bytes> blocks;
  for (size_t i = 0; i < per_x + 3; ++i) blocks.push_back(pattern(60 + i % 50, uint32_t(i)));
  auto leaves_of = [&](Bid bid) {
    auto t = load_data_tree(w->header(), bid, [&](Bid b) { return w->read_block(b); });
    EXPECT_TRUE(t.is_ok());
    return t.is_ok() ? t->leaves : std::vector<Bid>{};
  };
  auto ref_count = [&](Bid bid) {
    auto e = w->find_block(bid);
    return e.is_ok() ? int(e->ref_count) : -1;
  };
  // The node holds `blocks` (an XXBLOCK: more than one XBLOCK's worth).
  auto expect_stream = [&](Nid n) {
    Bytes want;
    for (const Bytes& b : blocks) want.insert(want.end(), b.begin(), b.end());
    auto node = w->open_node(n);
    ASSERT_TRUE(node.is_ok());
    EXPECT_EQ((*node)->size(), want.size());  // the XXBLOCK's lcbTotal
    EXPECT_TRUE(*(*node)->read_all(uint64_t{1} << 30) == want);
  };
  std::map<size_t, Bytes> all;
  for (size_t i = 0; i < blocks.size(); ++i) all[i] = blocks[i];
  auto first = w->rewrite_data_tree(0, blocks.size(), all);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  ASSERT_TRUE(w->put_node({nid, *first, 0, 0}).is_ok());
  ASSERT_TRUE(w->commit().is_ok());
  const std::vector<Bid> old_leaves = leaves_of(*first);
  ASSERT_EQ(old_leaves.size(), per_x + 3);

  // One block changed, the last changed, one appended.
  std::map<size_t, Bytes> changed = {{1, pattern(70, 1000)}, {per_x + 2, pattern(30, 1001)}, {per_x + 3, pattern(90, 1002)}};
  for (const auto& [i, b] : changed) {
    if (i < blocks.size()) blocks[i] = b;
    else blocks.push_back(b);
  }
  auto second = w->rewrite_data_tree(*first, blocks.size(), changed);
  ASSERT_TRUE(second.is_ok()) << second.status().message();
  ASSERT_TRUE(w->put_node({nid, *second, 0, 0}).is_ok());  // releases the old tree
  expect_stream(nid);
  std::vector<Bid> leaves = leaves_of(*second);
  ASSERT_EQ(leaves.size(), per_x + 4);
  for (size_t i : {size_t{0}, size_t{2}, per_x, per_x + 1}) {
    EXPECT_EQ(leaves[i], old_leaves[i]) << i;
    EXPECT_EQ(ref_count(leaves[i]), 2) << i;
  }
  EXPECT_EQ(ref_count(old_leaves[1]), -1);  // replaced: freed with the old tree

  // A second node keeps the tree while the first drops its last blocks
  // (down to one XBLOCK): the kept blocks are then shared by two trees.
  const Nid keeper = w->allocate_nid(kNidTypeInternal);
  ASSERT_TRUE(w->put_node({keeper, *second, 0, 0}).is_ok());
  ASSERT_TRUE(w->add_ref(*second).is_ok());
  const std::vector<Bytes> full = blocks;
  blocks.resize(per_x - 1);
  auto third = w->rewrite_data_tree(*second, blocks.size(), {});
  ASSERT_TRUE(third.is_ok()) << third.status().message();
  ASSERT_TRUE(w->put_node({nid, *third, 0, 0}).is_ok());
  expect_stream(nid);
  EXPECT_EQ(ref_count(leaves[0]), 3);
  EXPECT_EQ(ref_count(leaves[per_x]), 2);  // only in the keeper's tree
  ASSERT_TRUE(w->commit().is_ok());
  EXPECT_EQ(ref_count(leaves[0]), 3);
  w.reset();

  auto db = Database::open(path_);
  ASSERT_TRUE(db.is_ok());
  Bytes want;
  for (const Bytes& b : full) want.insert(want.end(), b.begin(), b.end());
  EXPECT_TRUE(*(*(*db)->open_node(keeper))->read_all(uint64_t{1} << 30) == want);
  auto report = check::check_file(path_);
  ASSERT_TRUE(report.is_ok());
  for (const char* code : {"REFCOUNT_LOW", "REFCOUNT_HIGH", "BLOCK_ORPHAN", "DATA_TREE", "AMAP_MISMATCH", "AMAP_LEAK"}) {
    EXPECT_EQ(report->count(code), 0u) << code;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, NdbWriterTest, ::testing::Values(FileFormat::kUnicode, FileFormat::kAnsi),
                         [](const auto& p) { return p.param == FileFormat::kAnsi ? "Ansi" : "Unicode"; });

}  // namespace
}  // namespace pstkit::ndb

namespace pstkit::ndb {
namespace {

// MS-PST 2.6.1.3.7: a file whose fAMapValid is INVALID_AMAP gets its AMaps
// rebuilt from the B-trees when opened for writing.
TEST(NdbWriterRecovery, InvalidAMapsAreRebuilt) {
  const auto dir = std::filesystem::temp_directory_path() / ("pstkit-amap-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.pst").string();
  {
    CreateOptions o;
    auto w = WritableDatabase::create(path, o);
    ASSERT_TRUE(w.is_ok());
    for (int i = 0; i < 50; ++i) {
      const Nid nid = (*w)->allocate_nid(kNidTypeNormalMessage);
      ASSERT_TRUE((*w)->put_node({nid, *(*w)->write_data_tree({Bytes(300 + i, uint8_t(i))}), 0, 0}).is_ok());
    }
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  // Mark the maps invalid and scribble over the AMap, as a crashed client
  // could leave them (header CRCs kept valid).
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db.is_ok());
    Header h = (*db)->header();
    db->reset();
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    Bytes raw(564);
    f.read(reinterpret_cast<char*>(raw.data()), 564);
    h.amap_valid = 0;
    encode_header(h, raw);
    f.seekp(0);
    f.write(reinterpret_cast<const char*>(raw.data()), 564);
    const Bytes zeros(496, 0);
    f.seekp(0x4400);
    f.write(reinterpret_cast<const char*>(zeros.data()), std::streamsize(zeros.size()));
  }
  auto w = WritableDatabase::open(path);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  EXPECT_TRUE((*w)->recovery().rebuilt_amap);
  // The rebuilt maps protect the existing blocks: new writes land elsewhere.
  const Nid nid = (*w)->allocate_nid(kNidTypeNormalMessage);
  ASSERT_TRUE((*w)->put_node({nid, *(*w)->write_data_tree({Bytes(5000, 7)}), 0, 0}).is_ok());
  ASSERT_TRUE((*w)->commit().is_ok());
  w->reset();
  auto db = Database::open(path);
  ASSERT_TRUE(db.is_ok());
  EXPECT_EQ((*db)->header().amap_valid, 2);
  size_t nodes = 0;
  ASSERT_TRUE((*db)->for_each_node([&](const NodeEntry& e) {
    auto n = (*db)->open_node(e.nid);
    EXPECT_TRUE(n.is_ok() && (*n)->read_all().is_ok());
    return ++nodes, true;
  }).is_ok());
  EXPECT_EQ(nodes, 51u);
  // The NDB structures check clean (the nodes hold raw test bytes, not PCs).
  check::CheckOptions co;
  co.check_ltp = false;
  co.check_folders = false;
  auto report = check::check_file(path, co);
  ASSERT_TRUE(report.is_ok());
  EXPECT_TRUE(report->clean());
  for (const auto& f : report->findings) {
    if (f.severity == check::Severity::kError) ADD_FAILURE() << f.code << " " << f.structure << ": " << f.message;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pstkit::ndb
