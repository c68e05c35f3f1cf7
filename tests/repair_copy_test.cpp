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
#include "pstkit/ltp.h"
#include "pstkit/ndb_salvage.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/repair.h"
#include "pstkit/store_writer.h"
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

// A PC or TC whose first heap block reads but a later one does not is
// rebuilt from the entries still readable (HEAP_REBUILT, PROPERTY_DROPPED
// for each entry lost) instead of being lost whole.
void damage_last_heap_block(const std::string& source, uint8_t client_signature, const std::string& damaged,
                            ndb::Nid* victim) {
  Bytes image = read_file(source);
  auto db = ndb::Database::open(source);
  ASSERT_TRUE(db.is_ok());
  // Candidates: top-level heaps of that signature over several blocks, with
  // the file offset of their last block.
  std::vector<std::pair<ndb::Nid, uint64_t>> candidates;
  ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
                    if (!ndb::bid_is_internal(e.data_bid)) return true;
                    auto node = (*db)->open_node(e.nid);
                    if (!node || (*node)->block_count() < 2) return true;
                    auto b0 = (*node)->block(0);
                    if (!b0 || (*b0)->size() < 4 || (**b0)[2] != ltp::kHeapSignature || (**b0)[3] != client_signature) {
                      return true;
                    }
                    // MS-PST 2.2.2.8.3.2 XBLOCK: btype, cLevel, cEnt, lcbTotal, rgbid.
                    auto x = (*db)->read_block(e.data_bid);
                    if (!x || (*x)->size() < 24 || (**x)[1] != 1) return true;
                    const size_t last = load_le16((*x)->data() + 2) - 1;
                    if (last < 1 || (*x)->size() < 16 + 8 * last) return true;
                    auto leaf = (*db)->find_block(load_le64((*x)->data() + 8 + 8 * last));
                    if (!leaf || leaf->ref_count > 2) return true;
                    candidates.emplace_back(e.nid, leaf->offset);
                    return true;
                  }).is_ok());
  // The first whose context still opens once that block is damaged (a
  // table whose row index lay in it cannot be read at all).
  for (const auto& [nid, offset] : candidates) {
    Bytes copy = image;
    copy[offset + 20] ^= 0x77;
    auto salvaged = ndb::open_salvaged_memory(copy);
    if (!salvaged) continue;
    auto node = (*salvaged)->open_node(nid);
    if (!node) continue;
    std::shared_ptr<const ndb::Node> shared(std::move(*node));
    const bool opens = client_signature == ltp::kClientTableContext ? ltp::TableContext::open(shared).is_ok()
                                                                   : ltp::PropertyContext::open(shared).is_ok();
    if (!opens) continue;
    *victim = nid;
    write_file(damaged, copy);
    return;
  }
  FAIL() << "no multi-block heap of signature " << hex(client_signature) << " in " << source
         << " opens with its last block damaged (" << candidates.size() << " candidates)";
}

TEST_F(RepairCopyTest, HeapWithAnUnreadableBlockKeepsWhatIsReadable) {
  // A message whose PC spans several heap blocks (seven 3000-byte values),
  // and a contents table of several.
  const std::string written = path("written.pst");
  {
    auto w = StoreWriter::create(written, NewStoreOptions{});
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    NewMessage m;
    for (uint16_t id : {0x0037, 0x0E1D, 0x0070, 0x0042, 0x0C1A, 0x3001, 0x0E04}) {
      m.properties.push_back(ltp::string_value(id, std::string(1500, char('a' + id % 26))));
    }
    m.properties.push_back(ltp::string_value(0x001A, "IPM.Note"));
    ASSERT_TRUE((*w)->create_message((*w)->ipm_subtree(), m).is_ok());
    // A folder whose contents table's heap holds 200 long subjects.
    auto folder = (*w)->create_folder((*w)->ipm_subtree(), "Many");
    ASSERT_TRUE(folder.is_ok());
    for (int i = 0; i < 200; ++i) {
      NewMessage small;
      small.properties = {ltp::string_value(0x001A, "IPM.Note"),
                          ltp::string_value(0x0037, "subject " + std::to_string(i) + std::string(120, 'x'))};
      ASSERT_TRUE((*w)->create_message(*folder, small).is_ok());
    }
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  for (uint8_t sig : {ltp::kClientPropertyContext, ltp::kClientTableContext}) {
    SCOPED_TRACE(hex(sig));
    ndb::Nid victim = 0;
    const std::string damaged = path("damaged-" + hex(sig) + ".pst");
    damage_last_heap_block(written, sig, damaged, &victim);
    if (victim == 0) continue;
    std::vector<repair::Change> changes;
    const std::string out = path("copy-" + hex(sig) + ".pst");
    repair::RebuildReport r = copy(damaged, out, &changes);
    EXPECT_EQ(r.nodes_lost, 0u);
    EXPECT_EQ(r.nodes_copied, r.nodes_in_source);
    size_t rebuilt = 0;
    for (const auto& c : changes) {
      EXPECT_EQ(c.id, victim) << c.code << ": " << c.action;
      if (c.code == "HEAP_REBUILT") ++rebuilt;
      else EXPECT_EQ(c.code, "PROPERTY_DROPPED") << c.action;
    }
    EXPECT_EQ(rebuilt, 1u);
    // What the damaged source still gives is what the copy holds.
    auto src = ndb::open_salvaged(damaged);
    auto dst = ndb::Database::open(out);
    ASSERT_TRUE(src.is_ok() && dst.is_ok());
    auto sn_r = (*src)->open_node(victim);
    ASSERT_TRUE(sn_r.is_ok());
    std::shared_ptr<const ndb::Node> sn(std::move(*sn_r));
    auto dn_r = (*dst)->open_node(victim);
    ASSERT_TRUE(dn_r.is_ok());
    std::shared_ptr<const ndb::Node> dn(std::move(*dn_r));
    if (sig == ltp::kClientPropertyContext) {
      auto spc = ltp::PropertyContext::open(sn);
      auto dpc = ltp::PropertyContext::open(dn);
      ASSERT_TRUE(spc.is_ok() && dpc.is_ok());
      std::vector<Status> errors;
      std::vector<ltp::PropValue> want = spc->all_readable(&errors);
      EXPECT_FALSE(errors.empty()) << "the damage hit no property";
      auto got = dpc->all();
      ASSERT_TRUE(got.is_ok()) << got.status().message();
      ASSERT_EQ(got->size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ((*got)[i].tag, want[i].tag);
        EXPECT_TRUE((*got)[i].data == want[i].data) << hex(want[i].tag);
      }
    } else {
      auto stc = ltp::TableContext::open(sn);
      auto dtc = ltp::TableContext::open(dn);
      ASSERT_TRUE(stc.is_ok() && dtc.is_ok());
      size_t readable = 0;
      for (const auto& e : stc->row_index()) {
        auto want = stc->row(e.row_index);
        if (!want) continue;
        ++readable;
        auto at = dtc->find_row(e.row_id);
        ASSERT_TRUE(at.has_value());
        auto got = dtc->row(*at);
        ASSERT_TRUE(got.is_ok());
        ASSERT_EQ(got->size(), want->size());
        for (size_t i = 0; i < want->size(); ++i) EXPECT_TRUE((*got)[i].data == (*want)[i].data);
      }
      EXPECT_LT(readable, stc->row_count()) << "the damage hit no row";
      EXPECT_EQ(dtc->row_count(), readable);
    }
  }
}

// A subnode tree that a node reaches twice (shared or looping, as only a
// damaged file has) is copied once; the second reference is SUBNODE_LOST.
TEST_F(RepairCopyTest, SubnodeTreeReachedTwiceIsCopiedOnce) {
  const std::string src_path = path("shared.pst");
  const ndb::Nid top = ndb::make_nid(ndb::kNidTypeNormalMessage, 0x400);
  {
    auto w = ndb::WritableDatabase::create(src_path, ndb::CreateOptions{});
    ASSERT_TRUE(w.is_ok());
    auto data = (*w)->write_block(test::pattern(100, 1), false);
    ASSERT_TRUE(data.is_ok());
    auto inner = (*w)->write_subnode_tree({{ndb::make_nid(ndb::kNidTypeLtp, 1), *data, 0}});
    ASSERT_TRUE(inner.is_ok());
    ASSERT_TRUE((*w)->add_ref(*data).is_ok());
    ASSERT_TRUE((*w)->add_ref(*data).is_ok());
    ASSERT_TRUE((*w)->add_ref(*inner).is_ok());
    auto outer = (*w)->write_subnode_tree({{ndb::make_nid(ndb::kNidTypeLtp, 2), *data, *inner},
                                           {ndb::make_nid(ndb::kNidTypeLtp, 3), *data, *inner}});
    ASSERT_TRUE(outer.is_ok());
    ASSERT_TRUE((*w)->put_node({top, 0, *outer, 0}).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  std::vector<repair::Change> changes;
  repair::RebuildReport r = copy(src_path, path("copy.pst"), &changes);
  EXPECT_EQ(r.nodes_copied, 1u);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].code, "SUBNODE_LOST");
  EXPECT_EQ(changes[0].id, ndb::make_nid(ndb::kNidTypeLtp, 3));
  auto db = ndb::Database::open(path("copy.pst"));
  ASSERT_TRUE(db.is_ok());
  auto node = (*db)->open_node(top);
  ASSERT_TRUE(node.is_ok());
  auto subs = (*node)->subnodes();
  ASSERT_TRUE(subs.is_ok());
  ASSERT_EQ(subs->size(), 1u);
  auto kept = (*node)->subnode(ndb::make_nid(ndb::kNidTypeLtp, 2));
  ASSERT_TRUE(kept.is_ok());
  auto nested = (*kept)->subnodes();
  ASSERT_TRUE(nested.is_ok());
  EXPECT_EQ(nested->size(), 1u);
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
