// repair::copy_nodes (stage 1 of a rebuild) and repair::open_for_rebuild.
//
// Intact corpus files of every kind (ANSI, Unicode with each encoding, OSTs
// with 512-byte and 4 KiB pages) copied into a new Unicode PST read back
// with the same content (`pstkit dump --json --full`, compared as text) and
// check without errors; damaged ones lose exactly what cannot be read, and
// say so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "pstkit/check.h"
#include "pstkit/ndb_salvage.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/repair.h"
#include "test_bytes.h"

namespace pstkit {
namespace {

namespace fs = std::filesystem;

const std::string kCorpus = PSTKIT_SOURCE_DIR "/../shared/corpus/";

bool in_ci() { return std::getenv("CI") != nullptr; }

#define REQUIRE_CORPUS(rel)                                           \
  do {                                                                \
    if (!fs::exists(kCorpus + (rel))) {                               \
      if (in_ci()) FAIL() << "missing corpus file " << (rel);         \
      GTEST_SKIP() << "corpus file " << (rel) << " not present";      \
    }                                                                 \
  } while (0)

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

// stdout of a command, and its exit status.
std::pair<std::string, int> run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return {"", -1};
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string dump(const std::string& path) {
  auto [out, status] = run(std::string(PSTKIT_CLI_PATH) + " dump --json --full " + quote(path) + " 2>/dev/null");
  EXPECT_EQ(status, 0) << "dump of " << path;
  return out;
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const Bytes& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

class RepairCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pstkit-repair-copy-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Copies every node of source (salvaged) into a new Unicode PST at out.
  repair::RebuildReport copy(const std::string& source, const std::string& out,
                             std::vector<repair::Change>* changes = nullptr) {
    repair::RebuildReport report;
    auto src = ndb::open_salvaged(source);
    EXPECT_TRUE(src.is_ok()) << src.status().message();
    if (!src) return report;
    auto dest = ndb::WritableDatabase::create(out, ndb::CreateOptions{});
    EXPECT_TRUE(dest.is_ok()) << dest.status().message();
    if (!dest) return report;
    repair::RebuildOptions options;
    uint64_t last_done = 0, last_total = 0;
    options.on_change = [&](const repair::Change& c) {
      if (changes) changes->push_back(c);
    };
    options.progress = [&](uint64_t done, uint64_t total) {
      EXPECT_GE(done, last_done);
      last_done = done;
      last_total = total;
    };
    Status s = repair::copy_nodes(**src, **dest, options, &report);
    EXPECT_TRUE(s.is_ok()) << s.message();
    EXPECT_FALSE((*dest)->has_changes()) << "copy_nodes commits what it wrote";
    EXPECT_EQ(last_done, last_total);
    EXPECT_EQ(last_total, report.nodes_in_source);
    return report;
  }

  fs::path dir_;
};

// The copy holds every node with the same NID, parent and content, and
// checks clean.
void expect_same_store(const std::string& source, const std::string& copy_path) {
  const std::string before = dump(source);
  const std::string after = dump(copy_path);
  EXPECT_FALSE(before.empty());
  EXPECT_TRUE(before == after) << "dump --json --full differs between " << source << " and its copy";
  auto report = check::check_file(copy_path);
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  for (const auto& f : report->findings) {
    EXPECT_NE(f.severity, check::Severity::kError) << f.code << " " << f.structure << " " << hex(f.id) << ": " << f.message;
  }
  // Same NBT: NIDs and parents.
  auto a = ndb::Database::open(source);
  auto b = ndb::Database::open(copy_path);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  std::vector<std::pair<ndb::Nid, ndb::Nid>> na, nb;
  ASSERT_TRUE((*a)->for_each_node([&](const ndb::NodeEntry& e) {
                    na.emplace_back(e.nid, e.parent_nid);
                    return true;
                  }).is_ok());
  ASSERT_TRUE((*b)->for_each_node([&](const ndb::NodeEntry& e) {
                    nb.emplace_back(e.nid, e.parent_nid);
                    return true;
                  }).is_ok());
  EXPECT_EQ(na, nb);
  // The copy's NID counters cover the source's.
  for (int t = 0; t < 32; ++t) {
    EXPECT_GE((*b)->header().nid_high_water[t], (*a)->header().nid_high_water[t]) << "rgnid[" << t << "]";
  }
}

struct CorpusCase {
  const char* file;
  const char* kind;
};

class RepairCopyCorpusTest : public RepairCopyTest, public ::testing::WithParamInterface<CorpusCase> {};

TEST_P(RepairCopyCorpusTest, CopyReadsBackTheSame) {
  const std::string rel = GetParam().file;
  REQUIRE_CORPUS(rel);
  std::vector<repair::Change> changes;
  const std::string out = path("copy.pst");
  repair::RebuildReport r = copy(kCorpus + rel, out, &changes);
  EXPECT_GT(r.nodes_in_source, 0u);
  EXPECT_EQ(r.nodes_copied, r.nodes_in_source);
  EXPECT_EQ(r.nodes_lost, 0u);
  for (const auto& c : changes) {
    EXPECT_TRUE(c.code == "HEAP_REBUILT") << c.code << " " << hex(c.id) << ": " << c.action;
  }
  EXPECT_EQ(r.changes, changes.size());
  expect_same_store(kCorpus + rel, out);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, RepairCopyCorpusTest,
    ::testing::Values(CorpusCase{"pstsdk/sample2.pst", "ansi"}, CorpusCase{"go-pst/32-bit.pst", "ansi_small"},
                      CorpusCase{"hughbe-pstreader_hughbe/Personal Folders.pst", "ansi_folders"},
                      CorpusCase{"aspose-net/Outlook.pst", "unicode_permute"},
                      CorpusCase{"ruby-msg/msgInMsg.pst", "unicode_embedded"},
                      CorpusCase{"hughbe-pstreader_simiden-pst2john/2003_high-encryption_quickquick.pst", "unicode_cyclic"},
                      CorpusCase{"hughbe-pstreader_simiden-pst2john/2003_no-encryption_quickquick.pst", "unicode_plain"},
                      CorpusCase{"aspose-net/SampleOstFile.ost", "ost512"},
                      CorpusCase{"pst-extractor-npm/pstextractortest@outlook.com.ost", "ost4k"}),
    [](const ::testing::TestParamInfo<CorpusCase>& p) { return std::string(p.param.kind); });

// ANSI and 4 KiB OST heaps whose blocks do not fit the Unicode block size
// are laid out again, and say so; Unicode ones are copied block for block.
TEST_F(RepairCopyTest, HeapsAreLaidOutAgainOnlyWhenTheyDoNotFit) {
  const std::string unicode = "aspose-net/Outlook.pst";
  const std::string ansi = "hughbe-pstreader_hughbe/Personal Folders.pst";
  const std::string ost4k = "pst-extractor-npm/pstextractortest@outlook.com.ost";
  REQUIRE_CORPUS(unicode);
  REQUIRE_CORPUS(ansi);
  REQUIRE_CORPUS(ost4k);
  std::vector<repair::Change> changes;
  copy(kCorpus + unicode, path("u.pst"), &changes);
  EXPECT_TRUE(changes.empty());
  for (const std::string& rel : {ansi, ost4k}) {
    changes.clear();
    copy(kCorpus + rel, path(fs::path(rel).filename().string() + ".pst"), &changes);
    EXPECT_FALSE(changes.empty()) << rel;
    for (const auto& c : changes) {
      EXPECT_EQ(c.code, "HEAP_REBUILT") << rel;
      EXPECT_NE(c.action.find("8176-byte blocks"), std::string::npos) << c.action;
    }
  }
}

// A node whose data block is damaged (and has no other copy) is left out
// with NODE_LOST naming the block's offset; every other node is copied.
TEST_F(RepairCopyTest, UnreadableNodeIsLeftOutAndNamed) {
  const std::string rel = "aspose-net/Outlook.pst";
  REQUIRE_CORPUS(rel);
  Bytes image = read_file(kCorpus + rel);
  ndb::Nid victim = 0;
  uint64_t victim_offset = 0;
  size_t node_count = 0;
  {
    auto db = ndb::Database::open(kCorpus + rel);
    ASSERT_TRUE(db.is_ok());
    // A normal message whose data is one block.
    ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
                      ++node_count;
                      if (victim == 0 && ndb::nid_type(e.nid) == ndb::kNidTypeNormalMessage && e.data_bid != 0 &&
                          !ndb::bid_is_internal(e.data_bid)) {
                        auto b = (*db)->find_block(e.data_bid);
                        if (b && b->ref_count <= 2) {
                          victim = e.nid;
                          victim_offset = b->offset;
                        }
                      }
                      return true;
                    }).is_ok());
  }
  ASSERT_NE(victim, 0u);
  image[victim_offset + 10] ^= 0x5A;  // the block's CRC no longer holds
  const std::string damaged = path("damaged.pst");
  write_file(damaged, image);
  std::vector<repair::Change> changes;
  repair::RebuildReport r = copy(damaged, path("copy.pst"), &changes);
  EXPECT_EQ(r.nodes_in_source, node_count);
  EXPECT_EQ(r.nodes_lost, 1u);
  EXPECT_EQ(r.nodes_copied, node_count - 1);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].code, "NODE_LOST");
  EXPECT_EQ(changes[0].id, victim);
  EXPECT_EQ(changes[0].offset, victim_offset);
  auto copy_db = ndb::Database::open(path("copy.pst"));
  ASSERT_TRUE(copy_db.is_ok());
  EXPECT_FALSE((*copy_db)->find_node(victim).is_ok());
}

// A subnode whose block is damaged is left out (SUBNODE_LOST); its node,
// and the node's other subnodes, are kept.
TEST_F(RepairCopyTest, UnreadableSubnodeIsLeftOutAndTheNodeKept) {
  const std::string rel = "aspose-net/Outlook.pst";
  REQUIRE_CORPUS(rel);
  Bytes image = read_file(kCorpus + rel);
  ndb::Nid owner = 0, lost = 0;
  uint64_t lost_offset = 0;
  size_t owner_subnodes = 0;
  {
    auto db = ndb::Database::open(kCorpus + rel);
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
                      if (owner != 0 || ndb::nid_type(e.nid) != ndb::kNidTypeNormalMessage || e.subnode_bid == 0) {
                        return true;
                      }
                      auto node = (*db)->open_node(e.nid);
                      if (!node) return true;
                      auto subs = (*node)->subnodes();
                      if (!subs || subs->size() < 2) return true;
                      for (const auto& s : *subs) {
                        if (s.data_bid == 0 || ndb::bid_is_internal(s.data_bid) || s.subnode_bid != 0) continue;
                        auto b = (*db)->find_block(s.data_bid);
                        if (!b || b->ref_count > 2) continue;
                        owner = e.nid;
                        lost = s.nid;
                        lost_offset = b->offset;
                        owner_subnodes = subs->size();
                        break;
                      }
                      return true;
                    }).is_ok());
  }
  ASSERT_NE(owner, 0u);
  image[lost_offset + 3] ^= 0xFF;
  const std::string damaged = path("damaged.pst");
  write_file(damaged, image);
  std::vector<repair::Change> changes;
  repair::RebuildReport r = copy(damaged, path("copy.pst"), &changes);
  EXPECT_EQ(r.nodes_lost, 0u);
  EXPECT_EQ(r.nodes_copied, r.nodes_in_source);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].code, "SUBNODE_LOST");
  EXPECT_EQ(changes[0].id, lost);
  EXPECT_EQ(changes[0].offset, lost_offset);
  auto copy_db = ndb::Database::open(path("copy.pst"));
  ASSERT_TRUE(copy_db.is_ok());
  auto node = (*copy_db)->open_node(owner);
  ASSERT_TRUE(node.is_ok());
  auto subs = (*node)->subnodes();
  ASSERT_TRUE(subs.is_ok());
  EXPECT_EQ(subs->size(), owner_subnodes - 1);
  for (const auto& s : *subs) EXPECT_NE(s.nid, lost);
}

}  // namespace
}  // namespace pstkit
