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
// rgnid: the copy's counters cover the source header's, or (a source whose
// header was lost) every NID index in use.
void expect_same_store(const std::string& source, const std::string& copy_path, bool source_rgnid = true) {
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
    if (source_rgnid) {
      EXPECT_GE((*b)->header().nid_high_water[t], (*a)->header().nid_high_water[t]) << "rgnid[" << t << "]";
    }
  }
  for (const auto& [nid, parent] : na) {
    EXPECT_GE((*b)->header().nid_high_water[ndb::nid_type(nid)], ndb::nid_index(nid)) << hex(nid);
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

// ---- open_for_rebuild

std::vector<ndb::NodeEntry> nodes_of(const ndb::Database& db) {
  std::vector<ndb::NodeEntry> out;
  EXPECT_TRUE(db.for_each_node([&](const ndb::NodeEntry& e) {
                  out.push_back(e);
                  return true;
                }).is_ok());
  return out;
}

bool same_entries(const std::vector<ndb::NodeEntry>& a, const std::vector<ndb::NodeEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].nid != b[i].nid || a[i].parent_nid != b[i].parent_nid || a[i].data_bid != b[i].data_bid ||
        a[i].subnode_bid != b[i].subnode_bid) {
      return false;
    }
  }
  return true;
}

class OpenForRebuildTest : public RepairCopyTest, public ::testing::WithParamInterface<CorpusCase> {};

// A file whose first 4 KiB (the header and more) are zeroed opens with the
// format, encoding and B-tree roots found in the file: the same nodes as the
// intact file, and a copy with the same content.
TEST_P(OpenForRebuildTest, ZeroedHeaderIsInferredFromTheFile) {
  const std::string rel = GetParam().file;
  REQUIRE_CORPUS(rel);
  Bytes image = read_file(kCorpus + rel);
  ASSERT_GT(image.size(), 4096u);
  std::fill(image.begin(), image.begin() + 4096, 0);
  const std::string damaged = path("zeroed.pst");
  write_file(damaged, image);

  auto intact = ndb::Database::open(kCorpus + rel);
  ASSERT_TRUE(intact.is_ok());
  std::vector<repair::Change> notes;
  auto db = repair::open_for_rebuild(damaged, false, &notes);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  EXPECT_EQ((*db)->header().format, (*intact)->header().format);
  EXPECT_EQ((*db)->header().crypt, (*intact)->header().crypt);
  EXPECT_EQ((*db)->header().nbt_root.bid, (*intact)->header().nbt_root.bid);
  EXPECT_EQ((*db)->header().bbt_root.bid, (*intact)->header().bbt_root.bid);
  EXPECT_TRUE(same_entries(nodes_of(**db), nodes_of(**intact)));
  ASSERT_FALSE(notes.empty());
  EXPECT_EQ(notes[0].code, "STORE_REBUILT");
  EXPECT_EQ(notes[0].structure, "header");
  EXPECT_NE(notes[0].action.find(std::string("format ") + ndb::format_name((*intact)->header().format)),
            std::string::npos)
      << notes[0].action;

  // The whole store comes back through a copy.
  const std::string out = path("copy.pst");
  {
    auto dest = ndb::WritableDatabase::create(out, ndb::CreateOptions{});
    ASSERT_TRUE(dest.is_ok());
    repair::RebuildReport r;
    ASSERT_TRUE(repair::copy_nodes(**db, **dest, {}, &r).is_ok());
    EXPECT_EQ(r.nodes_lost, 0u);
  }
  expect_same_store(kCorpus + rel, out, false);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, OpenForRebuildTest,
    ::testing::Values(CorpusCase{"pstsdk/sample2.pst", "ansi"}, CorpusCase{"aspose-net/Outlook.pst", "unicode_permute"},
                      CorpusCase{"hughbe-pstreader_simiden-pst2john/2003_high-encryption_quickquick.pst", "unicode_cyclic"},
                      CorpusCase{"hughbe-pstreader_simiden-pst2john/2003_no-encryption_quickquick.pst", "unicode_plain"},
                      CorpusCase{"aspose-net/SampleOstFile.ost", "ost512"},
                      CorpusCase{"pst-extractor-npm/pstextractortest@outlook.com.ost", "ost4k"}),
    [](const ::testing::TestParamInfo<CorpusCase>& p) { return std::string(p.param.kind); });

// Files with nothing (or nothing whole) to find open as empty or partial
// databases, without error, and copy into a valid empty file.
TEST_F(RepairCopyTest, AnythingOpensForRebuild) {
  std::vector<std::pair<std::string, Bytes>> files;
  files.emplace_back("empty", Bytes());
  files.emplace_back("random", test::pattern(3 << 20, 7));
  files.emplace_back("tiny", test::pattern(100, 8));
  files.emplace_back("ls", read_file("/bin/ls"));
  ASSERT_GT(files.back().second.size(), 0u);
  const std::string rel = "aspose-net/Outlook.pst";
  REQUIRE_CORPUS(rel);
  Bytes pst = read_file(kCorpus + rel);
  files.emplace_back("cut_1k", Bytes(pst.begin(), pst.begin() + 1024));
  files.emplace_back("cut_300", Bytes(pst.begin(), pst.begin() + 300));
  Bytes half(pst.begin(), pst.begin() + long(pst.size() / 2));
  std::fill(half.begin(), half.begin() + 600, 0);
  files.emplace_back("half_no_header", half);
  for (const auto& [name, data] : files) {
    SCOPED_TRACE(name);
    const std::string in = path(name + ".bin");
    write_file(in, data);
    std::vector<repair::Change> notes;
    auto db = repair::open_for_rebuild(in, false, &notes);
    ASSERT_TRUE(db.is_ok()) << db.status().message();
    const size_t count = nodes_of(**db).size();
    if (name != "half_no_header") {
      EXPECT_EQ(count, 0u);
    } else {
      EXPECT_GT(count, 0u);
    }
    if (name != "cut_1k") {
      ASSERT_FALSE(notes.empty());
      EXPECT_EQ(notes[0].structure, "header");
      const bool says_nothing = notes[0].action.find("nothing recognisable") != std::string::npos;
      EXPECT_EQ(says_nothing, name != "half_no_header") << notes[0].action;
    }
    const std::string out = path(name + ".pst");
    auto dest = ndb::WritableDatabase::create(out, ndb::CreateOptions{});
    ASSERT_TRUE(dest.is_ok());
    repair::RebuildReport r;
    ASSERT_TRUE(repair::copy_nodes(**db, **dest, {}, &r).is_ok());
    EXPECT_EQ(r.nodes_in_source, count);
    EXPECT_EQ(r.nodes_copied + r.nodes_lost, count);
  }
  // A file that cannot be read at all is the one failure.
  EXPECT_FALSE(repair::open_for_rebuild(path("missing.pst"), false, nullptr).is_ok());
  EXPECT_FALSE(repair::open_for_rebuild(dir_.string(), false, nullptr).is_ok());
}

}  // namespace
}  // namespace pstkit
