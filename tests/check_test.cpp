// pstkit::check: healthy corpus files report no errors, and damage made on
// purpose (in memory, or in temporary copies) is reported under the right
// code, structure and offset, without crashing on anything.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include <unistd.h>

#include "test_corpus.h"
#include "ndb/page.h"
#include "pstkit/check.h"
#include "pstkit/ndb.h"
#include "pstkit/ndb_writer.h"
#include "util/spill_array.h"

namespace pstkit::check {
namespace {

const std::string& kCorpus = test::kCorpusDir;
using test::in_ci;

// Corpus files are optional locally but required in CI.
#define REQUIRE_CORPUS_FILE(rel)                                      \
  do {                                                                \
    if (!std::filesystem::exists(kCorpus + (rel))) {                  \
      if (in_ci()) FAIL() << "missing corpus file " << (rel);         \
      GTEST_SKIP() << "corpus file " << (rel) << " not present";      \
    }                                                                 \
  } while (0)

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string describe(const Report& r) {
  std::ostringstream out;
  for (const Finding& f : r.findings) {
    out << "  " << f.code << " " << f.structure << " offset=" << hex(f.offset) << " id=" << hex(f.id) << ": "
        << f.message << "\n";
  }
  return out.str();
}

const Finding* find(const Report& r, const std::string& code) {
  for (const Finding& f : r.findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

std::set<std::string> error_codes(const Report& r) {
  std::set<std::string> out;
  for (const Finding& f : r.findings) {
    if (f.severity == Severity::kError) out.insert(f.code);
  }
  return out;
}

// --- An in-memory image and the places in it a test damages. ---

class Image {
 public:
  explicit Image(const std::string& rel) : bytes_(read_file(kCorpus + rel)) {
    auto db = ndb::Database::open_memory(bytes_);
    if (db.is_ok()) header_ = (*db)->header();
    ok_ = db.is_ok();
  }

  bool ok() const { return ok_; }
  Bytes& bytes() { return bytes_; }
  const ndb::Header& header() const { return header_; }

  Report check(const CheckOptions& options = {}) const {
    auto db = ndb::Database::open_memory(bytes_);
    EXPECT_TRUE(db.is_ok()) << db.status().message();
    if (!db.is_ok()) return {};
    return check_database(**db, options);
  }

  // Recomputes the CRC of the page at `offset` (MS-PST 2.2.2.7.1).
  void fix_page_crc(uint64_t offset) {
    const ByteView page(bytes_.data() + offset, header_.page_size);
    const uint32_t crc = ndb::page_crc(header_, page);
    const size_t at = header_.page_size - header_.page_trailer_size + (ansi() ? 8 : 4);
    store_le32(bytes_.data() + offset + at, crc);
  }

  // Recomputes the CRC in the trailer of a block (MS-PST 2.2.2.8.1).
  void fix_block_crc(const ndb::BlockEntry& e) {
    const uint64_t disk = ndb::block_disk_size(header_, e.stored_size);
    const size_t trailer = size_t(e.offset + disk - header_.block_trailer_size);
    store_le32(bytes_.data() + trailer + (ansi() ? 8 : 4), ndb::compute_crc(bytes_.data() + e.offset, e.stored_size));
  }

  // A leaf entry of the NBT or BBT: the page holding it and the entry's byte offset.
  struct LeafEntry {
    uint64_t page = 0;
    uint64_t at = 0;
    ndb::BTreePage parsed;
    size_t index = 0;
  };
  // The first leaf entry (in key order) for which `want` returns true.
  std::optional<LeafEntry> find_leaf_entry(uint8_t type, const std::function<bool(const ndb::BTreePage&, size_t)>& want) {
    return search(type, type == ndb::kPageNbt ? header_.nbt_root : header_.bbt_root, want, 0);
  }

  ndb::BTreePage page(uint8_t type, uint64_t offset, ndb::Bid bid) const {
    auto p = ndb::parse_btree_page(header_, ByteView(bytes_.data() + offset, header_.page_size), offset, type, bid);
    EXPECT_TRUE(p.is_ok()) << p.status().message();
    return p.is_ok() ? *p : ndb::BTreePage{};
  }

  bool ansi() const { return header_.format == ndb::FileFormat::kAnsi; }

 private:
  std::optional<LeafEntry> search(uint8_t type, const ndb::Bref& ref,
                                  const std::function<bool(const ndb::BTreePage&, size_t)>& want, int depth) {
    if (depth > 8) return std::nullopt;
    const ndb::BTreePage p = page(type, ref.ib, ref.bid);
    if (p.level > 0) {
      for (const auto& b : p.branches) {
        if (auto found = search(type, b.child, want, depth + 1)) return found;
      }
      return std::nullopt;
    }
    const size_t n = type == ndb::kPageNbt ? p.nodes.size() : p.blocks.size();
    for (size_t i = 0; i < n; ++i) {
      if (want(p, i)) return LeafEntry{ref.ib, ref.ib + i * p.entry_size, p, i};
    }
    return std::nullopt;
  }

  Bytes bytes_;
  ndb::Header header_;
  bool ok_ = false;
};

#define REQUIRE_IMAGE(img)                                 \
  do {                                                     \
    ASSERT_TRUE((img).ok()) << "image does not open";      \
  } while (0)

// --- The whole corpus. ---

// Writers other than Outlook that the corpus shows breaking the format,
// with the error codes they earn. Everything else must check clean.
const std::map<std::string, std::set<std::string>> kKnownDeviations = {
    // Aspose "Chunks" output: seven message PCs end their BTH with a zero
    // key after 0x80ad (out of order).
    {"aspose-net/Test_part1.pst", {"BTH"}},
};

TEST(CheckCorpus, HealthyFilesReportNoErrors) {
  REQUIRE_CORPUS_FILE("MANIFEST.tsv");
  const auto files = test::whole_corpus_stores();
  ASSERT_GT(files.size(), 50u);
  size_t checked = 0;
  for (const std::string& rel : files) {
    if (!std::filesystem::exists(kCorpus + rel)) {
      if (in_ci()) ADD_FAILURE() << "missing corpus file " << rel;
      continue;
    }
    auto report = check_file(kCorpus + rel);
    ASSERT_TRUE(report.is_ok()) << rel << ": " << report.status().message();
    ++checked;
    std::set<std::string> allowed;
    if (auto it = kKnownDeviations.find(rel); it != kKnownDeviations.end()) allowed = it->second;
    std::set<std::string> unexpected;
    for (const std::string& code : error_codes(*report)) {
      if (!allowed.count(code)) unexpected.insert(code);
    }
    EXPECT_TRUE(unexpected.empty()) << rel << " has errors:\n" << describe(*report);
    if (!allowed.empty()) {
      EXPECT_FALSE(report->clean()) << rel << " no longer shows its known deviation: update kKnownDeviations";
    }
    EXPECT_GT(report->counters.pages, 0u) << rel;
    EXPECT_GT(report->counters.blocks, 0u) << rel;
    EXPECT_GT(report->counters.nodes, 0u) << rel;
  }
  EXPECT_GT(checked, 0u);
}

TEST(CheckCorpus, NotPstFilesFailToOpen) {
  for (const char* rel : {"aspose-cpp/SMTP_Outlook.pst", "hughbe-pstreader_jashmenn-pst.rb/albert_meyers_000.pst"}) {
    REQUIRE_CORPUS_FILE(rel);
    auto report = check_file(kCorpus + rel);
    ASSERT_FALSE(report.is_ok()) << rel;
    EXPECT_NE(report.status().message().find("not a PST"), std::string::npos) << report.status().message();
  }
}

TEST(CheckCorpus, TruncatedHeaderIsAFinding) {
  REQUIRE_CORPUS_FILE("pstreader/truncated-in-header.bin");
  auto report = check_file(kCorpus + "pstreader/truncated-in-header.bin");
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  EXPECT_FALSE(report->clean());
  EXPECT_NE(find(*report, "HEADER_TRUNCATED"), nullptr) << describe(*report);
}

TEST(CheckCorpus, MissingFileFails) {
  auto report = check_file("/nonexistent/pstkit-check-test.pst");
  ASSERT_FALSE(report.is_ok());
  EXPECT_EQ(report.status().code(), Code::kIoError);
}

TEST(CheckCodes, TableIsUniqueAndUpperSnake) {
  std::set<std::string> seen;
  for (const CodeInfo& c : finding_codes()) {
    const std::string code = c.code;
    EXPECT_TRUE(seen.insert(code).second) << code;
    EXPECT_TRUE(std::all_of(code.begin(), code.end(), [](char ch) { return (ch >= 'A' && ch <= 'Z') || ch == '_'; }))
        << code;
    EXPECT_NE(std::string(c.meaning), "");
  }
  EXPECT_GT(seen.size(), 40u);
}

// --- Damage on purpose (sample1: Unicode; sample2: ANSI). ---

TEST(CheckDamage, HealthyImagesAreClean) {
  for (const char* rel : {"pstsdk/sample1.pst", "pstsdk/sample2.pst"}) {
    REQUIRE_CORPUS_FILE(rel);
    Image img(rel);
    REQUIRE_IMAGE(img);
    const Report r = img.check();
    EXPECT_TRUE(r.clean()) << rel << "\n" << describe(r);
  }
}

TEST(CheckDamage, NbtPageByteFlipIsPageCrc) {
  for (const char* rel : {"pstsdk/sample1.pst", "pstsdk/sample2.pst"}) {
    REQUIRE_CORPUS_FILE(rel);
    Image img(rel);
    REQUIRE_IMAGE(img);
    const uint64_t root = img.header().nbt_root.ib;
    const ndb::BTreePage p = img.page(ndb::kPageNbt, root, img.header().nbt_root.bid);
    // The first byte past the entries: only the CRC notices.
    const size_t unused = size_t(p.entry_count) * p.entry_size;
    ASSERT_LT(unused, img.ansi() ? 496u : 488u) << "page is full";
    img.bytes()[root + unused] ^= 0x5A;
    const Report r = img.check();
    const Finding* f = find(r, "PAGE_CRC");
    ASSERT_NE(f, nullptr) << describe(r);
    EXPECT_EQ(f->structure, "NBT page");
    EXPECT_EQ(f->offset, root);
    EXPECT_EQ(f->severity, Severity::kError);
    EXPECT_FALSE(r.clean());
    // The page's entries are still used: nothing else goes missing.
    EXPECT_EQ(error_codes(r), std::set<std::string>{"PAGE_CRC"}) << describe(r);
  }
}

TEST(CheckDamage, BbtEntrySizeMismatchIsBlockTrailer) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  auto leaf = img.find_leaf_entry(ndb::kPageBbt, [](const ndb::BTreePage& p, size_t i) {
    return !ndb::bid_is_internal(p.blocks[i].bid) && p.blocks[i].stored_size > 100;
  });
  ASSERT_TRUE(leaf);
  const ndb::BlockEntry e = leaf->parsed.blocks[leaf->index];
  // BBTENTRY.cb (Unicode: offset 16); the page CRC is fixed so that the
  // structural check is what fires.
  store_le16(img.bytes().data() + leaf->at + 16, uint16_t(e.stored_size - 1));
  img.fix_page_crc(leaf->page);
  const Report r = img.check();
  EXPECT_EQ(find(r, "PAGE_CRC"), nullptr) << describe(r);
  const Finding* f = find(r, "BLOCK_TRAILER");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->id, e.bid);
  EXPECT_EQ(f->structure, "block");
}

TEST(CheckDamage, BbtEntriesOutOfOrderIsBtreeOrder) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  auto leaf = img.find_leaf_entry(ndb::kPageBbt,
                                  [](const ndb::BTreePage& p, size_t i) { return i == 0 && p.blocks.size() >= 3; });
  ASSERT_TRUE(leaf);
  // Swap entries 1 and 2 of the leaf.
  const size_t size = leaf->parsed.entry_size;
  uint8_t* a = img.bytes().data() + leaf->page + size;
  std::swap_ranges(a, a + size, a + size);
  img.fix_page_crc(leaf->page);
  const Report r = img.check();
  const Finding* f = find(r, "BTREE_ORDER");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->structure, "BBT page");
  EXPECT_EQ(f->offset, leaf->page);
}

TEST(CheckDamage, DataBlockByteFlipIsBlockCrc) {
  for (const char* rel : {"pstsdk/sample1.pst", "pstsdk/sample2.pst"}) {
    REQUIRE_CORPUS_FILE(rel);
    Image img(rel);
    REQUIRE_IMAGE(img);
    auto leaf = img.find_leaf_entry(ndb::kPageBbt, [](const ndb::BTreePage& p, size_t i) {
      return !ndb::bid_is_internal(p.blocks[i].bid) && p.blocks[i].stored_size > 16;
    });
    ASSERT_TRUE(leaf);
    const ndb::BlockEntry e = leaf->parsed.blocks[leaf->index];
    img.bytes()[e.offset + 5] ^= 0x01;
    const Report r = img.check();
    const Finding* f = find(r, "BLOCK_CRC");
    ASSERT_NE(f, nullptr) << describe(r);
    EXPECT_EQ(f->offset, e.offset);
    EXPECT_EQ(f->id, e.bid);
    EXPECT_EQ(f->structure, "block");
  }
}

TEST(CheckDamage, AmapByteFlipIsPageCrc) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  img.bytes()[0x4400 + 100] ^= 0x10;
  const Report r = img.check();
  const Finding* f = find(r, "PAGE_CRC");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->structure, "AMap page");
  EXPECT_EQ(f->offset, 0x4400u);
}

TEST(CheckDamage, UsedSpaceMarkedFreeIsAmapMismatch) {
  for (const char* rel : {"pstsdk/sample1.pst", "pstsdk/sample2.pst"}) {
    REQUIRE_CORPUS_FILE(rel);
    Image img(rel);
    REQUIRE_IMAGE(img);
    auto leaf = img.find_leaf_entry(ndb::kPageBbt, [](const ndb::BTreePage& p, size_t i) {
      return p.blocks[i].offset >= 0x4400 + 4096;
    });
    ASSERT_TRUE(leaf);
    const ndb::BlockEntry e = leaf->parsed.blocks[leaf->index];
    // MS-PST 2.2.2.7.2: one bit per 64 bytes, the first slot in the most
    // significant bit; the ANSI AMap has 4 bytes of padding first.
    const uint64_t slot = (e.offset - 0x4400) / 64;
    const uint64_t bits = 0x4400 + (img.ansi() ? 4 : 0);
    img.bytes()[bits + slot / 8] &= uint8_t(~(0x80 >> (slot % 8)));
    img.fix_page_crc(0x4400);
    const Report r = img.check();
    const Finding* f = find(r, "AMAP_MISMATCH");
    ASSERT_NE(f, nullptr) << rel << "\n" << describe(r);
    EXPECT_EQ(f->id, e.bid);
    EXPECT_NE(find(r, "AMAP_FREE_TOTAL"), nullptr) << describe(r);
  }
}

// The overlap sweep names both structures: the extents are compact (16
// bytes each, one per block) and find what they are through the B-tree
// records they point at.
TEST(CheckDamage, BlockMovedOntoTheNbtRootIsBlockOverlap) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  auto leaf = img.find_leaf_entry(ndb::kPageBbt, [](const ndb::BTreePage& p, size_t i) {
    return !ndb::bid_is_internal(p.blocks[i].bid) && p.blocks[i].stored_size > 100;
  });
  ASSERT_TRUE(leaf);
  const ndb::BlockEntry e = leaf->parsed.blocks[leaf->index];
  const ndb::Bref nbt_root = img.header().nbt_root;
  // BBTENTRY.BREF.ib (Unicode: offset 8).
  ASSERT_FALSE(img.ansi());
  store_le64(img.bytes().data() + leaf->at + 8, nbt_root.ib);
  img.fix_page_crc(leaf->page);
  const Report r = img.check();
  const Finding* f = find(r, "BLOCK_OVERLAP");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->offset, nbt_root.ib);
  EXPECT_TRUE(f->id == e.bid || f->id == nbt_root.bid) << describe(r);
  EXPECT_NE(f->message.find("block " + hex(e.bid)), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("NBT page " + hex(nbt_root.bid)), std::string::npos) << f->message;
}

// The checker's records (pages, nodes, blocks, the offset order, the
// extents, the bitmap of pages reached) spill to a temporary file past
// their budget (util/spill_array.h). With a budget of a few hundred bytes
// every one of them spills, and the report, whose findings name pages and
// blocks through those records, must be the same word for word.
TEST(CheckDamage, SpilledRecordsGiveTheSameReport) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  // A block moved onto the NBT root (BLOCK_OVERLAP naming both) and its
  // old place marked free (AMAP findings naming the extents).
  auto leaf = img.find_leaf_entry(ndb::kPageBbt, [](const ndb::BTreePage& p, size_t i) {
    return !ndb::bid_is_internal(p.blocks[i].bid) && p.blocks[i].stored_size > 100;
  });
  ASSERT_TRUE(leaf);
  ASSERT_FALSE(img.ansi());
  store_le64(img.bytes().data() + leaf->at + 8, img.header().nbt_root.ib);
  img.fix_page_crc(leaf->page);
  const Report in_memory = img.check();
  ASSERT_NE(find(in_memory, "BLOCK_OVERLAP"), nullptr) << describe(in_memory);
  const uint64_t files = spill_files_created();
  set_spill_budget_bytes(256);
  const Report spilled = img.check();
  set_spill_budget_bytes(0);
  EXPECT_GT(spill_files_created(), files);  // the spilling path was taken
  EXPECT_EQ(describe(spilled), describe(in_memory));
  EXPECT_EQ(spilled.errors, in_memory.errors);
  EXPECT_EQ(spilled.warnings, in_memory.warnings);
  EXPECT_EQ(spilled.counters.pages, in_memory.counters.pages);
  EXPECT_EQ(spilled.counters.blocks, in_memory.counters.blocks);
}

TEST(CheckDamage, HeaderCrcsZeroed) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  store_le32(img.bytes().data() + 4, 0);    // dwCRCPartial
  store_le32(img.bytes().data() + 524, 0);  // dwCRCFull
  const Report r = img.check();
  ASSERT_NE(find(r, "HEADER_CRC_PARTIAL"), nullptr) << describe(r);
  EXPECT_NE(find(r, "HEADER_CRC_FULL"), nullptr) << describe(r);
  EXPECT_EQ(find(r, "HEADER_CRC_PARTIAL")->offset, 4u);
  EXPECT_EQ(error_codes(r), (std::set<std::string>{"HEADER_CRC_PARTIAL", "HEADER_CRC_FULL"})) << describe(r);
}

TEST(CheckDamage, TruncatedFileIsReported) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Bytes bytes = read_file(kCorpus + "pstsdk/sample1.pst");
  const auto dir = std::filesystem::temp_directory_path() / ("pstkit_check_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (size_t keep : {bytes.size() - 4096, bytes.size() / 2, size_t(0x4400 + 700), size_t(1000)}) {
    const auto path = dir / ("cut_" + std::to_string(keep) + ".pst");
    {
      std::ofstream out(path, std::ios::binary);
      out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(keep));
    }
    auto report = check_file(path.string());
    ASSERT_TRUE(report.is_ok()) << keep << ": " << report.status().message();
    EXPECT_FALSE(report->clean()) << keep;
    EXPECT_NE(find(*report, "HEADER_FILE_EOF"), nullptr) << keep << "\n" << describe(*report);
  }
  std::filesystem::remove_all(dir);
}

// MS-PST 2.4.8.3: the search management queue (0x1E1) holds whole 20-byte
// SUDs and its head (nidParent) is on one of them, within the data.
TEST(CheckDamage, SearchQueueOffTheSudsIsSearchQueue) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  const auto dir = std::filesystem::temp_directory_path() / ("pstkit_check_smq_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "smq.pst").string();
  std::filesystem::copy_file(kCorpus + "pstsdk/sample1.pst", path, std::filesystem::copy_options::overwrite_existing);
  // Queue data size, head, and whether check should accept them.
  const std::tuple<size_t, uint32_t, bool> cases[] = {
      {40, 0, true}, {40, 20, true}, {40, 40, true}, {30, 0, false}, {40, 7, false}, {40, 60, false}};
  for (const auto& [size, head, fine] : cases) {
    {
      auto w = ndb::WritableDatabase::open(path);
      ASSERT_TRUE(w.is_ok()) << w.status().message();
      auto bid = (*w)->write_data_tree({Bytes(size, 0)});
      ASSERT_TRUE(bid.is_ok());
      ASSERT_TRUE((*w)->put_node({ndb::kNidSearchManagementQueue, *bid, 0, head}).is_ok());
      ASSERT_TRUE((*w)->commit().is_ok());
    }
    auto report = check_file(path);
    ASSERT_TRUE(report.is_ok()) << report.status().message();
    const std::string what = std::to_string(size) + " bytes, head " + std::to_string(head);
    if (fine) {
      EXPECT_TRUE(report->clean()) << what << "\n" << describe(*report);
    } else {
      EXPECT_EQ(error_codes(*report), std::set<std::string>{"SEARCH_QUEUE"}) << what << "\n" << describe(*report);
      const Finding* f = find(*report, "SEARCH_QUEUE");
      ASSERT_NE(f, nullptr);
      EXPECT_EQ(f->id, ndb::kNidSearchManagementQueue);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(CheckDamage, TruncatedImageReportsBlocksPastTheEnd) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  // Keep the B-tree roots (so the reader opens the image) and cut a block.
  const uint64_t roots_end =
      std::max(img.header().nbt_root.ib, img.header().bbt_root.ib) + img.header().page_size;
  uint64_t cut = 0;
  auto leaf = img.find_leaf_entry(ndb::kPageBbt, [&](const ndb::BTreePage& p, size_t i) {
    return p.blocks[i].offset > roots_end;
  });
  ASSERT_TRUE(leaf) << "no block after the roots";
  cut = leaf->parsed.blocks[leaf->index].offset + 8;
  img.bytes().resize(cut);
  const Report r = img.check();
  EXPECT_NE(find(r, "HEADER_FILE_EOF"), nullptr) << describe(r);
  const Finding* f = find(r, "BLOCK_OUT_OF_FILE");
  ASSERT_NE(f, nullptr) << describe(r);
}

TEST(CheckDamage, RefcountTooLowAndTooHigh) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  for (int delta : {-1, +1}) {
    Image img("pstsdk/sample1.pst");
    REQUIRE_IMAGE(img);
    auto leaf = img.find_leaf_entry(ndb::kPageBbt,
                                    [](const ndb::BTreePage& p, size_t i) { return p.blocks[i].ref_count == 2; });
    ASSERT_TRUE(leaf);
    const ndb::BlockEntry e = leaf->parsed.blocks[leaf->index];
    store_le16(img.bytes().data() + leaf->at + 18, uint16_t(e.ref_count + delta));  // BBTENTRY.cRef
    img.fix_page_crc(leaf->page);
    const Report r = img.check();
    const Finding* f = find(r, delta < 0 ? "REFCOUNT_LOW" : "REFCOUNT_HIGH");
    ASSERT_NE(f, nullptr) << describe(r);
    EXPECT_EQ(f->id, e.bid);
    EXPECT_EQ(r.clean(), delta > 0) << describe(r);  // a surplus is a leak: a warning
  }
}

TEST(CheckDamage, NbtEntryNamingAbsentBlockIsBidMissing) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  auto leaf = img.find_leaf_entry(ndb::kPageNbt, [](const ndb::BTreePage& p, size_t i) {
    return p.nodes[i].nid == ndb::kNidMessageStore;
  });
  ASSERT_TRUE(leaf);
  store_le64(img.bytes().data() + leaf->at + 8, 0x7FFFFFF0);  // NBTENTRY.bidData
  img.fix_page_crc(leaf->page);
  const Report r = img.check();
  const Finding* f = find(r, "BID_MISSING");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->id, 0x7FFFFFF0u);
  EXPECT_EQ(f->structure, "NBT entry");
  EXPECT_EQ(f->offset, leaf->page);
}

TEST(CheckDamage, MessageWithAnotherParentBreaksFolderTables) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  auto leaf = img.find_leaf_entry(ndb::kPageNbt, [](const ndb::BTreePage& p, size_t i) {
    return ndb::nid_type(p.nodes[i].nid) == ndb::kNidTypeNormalMessage && p.nodes[i].parent_nid != 0;
  });
  ASSERT_TRUE(leaf);
  // Reparent the message to the root folder, whose contents table lacks it.
  store_le32(img.bytes().data() + leaf->at + 24, ndb::kNidRootFolder);
  img.fix_page_crc(leaf->page);
  const Report r = img.check();
  EXPECT_NE(find(r, "FOLDER_CONTENTS"), nullptr) << describe(r);
  EXPECT_NE(find(r, "FOLDER_UNLISTED"), nullptr) << describe(r);
}

TEST(CheckDamage, DamagedHeapIsHn) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  auto node = img.find_leaf_entry(ndb::kPageNbt, [](const ndb::BTreePage& p, size_t i) {
    return p.nodes[i].nid == ndb::kNidMessageStore;
  });
  ASSERT_TRUE(node);
  const ndb::Bid data = node->parsed.nodes[node->index].data_bid;
  ASSERT_FALSE(ndb::bid_is_internal(data));
  auto block = img.find_leaf_entry(ndb::kPageBbt, [&](const ndb::BTreePage& p, size_t i) {
    return ndb::bid_key(p.blocks[i].bid) == ndb::bid_key(data);
  });
  ASSERT_TRUE(block);
  const ndb::BlockEntry e = block->parsed.blocks[block->index];
  // Point ibHnpm (MS-PST 2.3.1.2) past the block; the data is permuted
  // (bCryptMethod 1), so decode, edit, encode, and fix the CRC.
  ASSERT_EQ(img.header().crypt, ndb::CryptMethod::kPermute);
  uint8_t* p = img.bytes().data() + e.offset;
  ndb::decode_permute(p, e.stored_size);
  store_le16(p, 0xFFF0);
  ndb::encode_permute(p, e.stored_size);
  img.fix_block_crc(e);
  const Report r = img.check();
  EXPECT_EQ(find(r, "BLOCK_CRC"), nullptr) << describe(r);
  const Finding* f = find(r, "HN");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->id, ndb::kNidMessageStore);
}

TEST(CheckDamage, BranchPointingTwiceAtOnePageIsCycle) {
  REQUIRE_CORPUS_FILE("pst-extractor-npm/enron.pst");
  Image img("pst-extractor-npm/enron.pst");
  REQUIRE_IMAGE(img);
  const ndb::Bref root = img.header().bbt_root;
  const ndb::BTreePage p = img.page(ndb::kPageBbt, root.ib, root.bid);
  ASSERT_GT(p.level, 0);
  ASSERT_GE(p.branches.size(), 2u);
  // Entry 1's BREF := entry 0's BREF (Unicode BTENTRY: key, bid, ib).
  uint8_t* e = img.bytes().data() + root.ib;
  std::copy(e + 8, e + 24, e + p.entry_size + 8);
  img.fix_page_crc(root.ib);
  const Report r = img.check();
  EXPECT_NE(find(r, "BTREE_CYCLE"), nullptr) << describe(r);
  // The blocks of the lost subtree are counted, not listed one by one.
  EXPECT_EQ(find(r, "BID_MISSING"), nullptr) << describe(r);
  EXPECT_LT(r.findings.size(), 20u) << describe(r);
}

TEST(CheckDamage, BranchKeyDifferentFromChildIsBranchKey) {
  REQUIRE_CORPUS_FILE("pst-extractor-npm/enron.pst");
  Image img("pst-extractor-npm/enron.pst");
  REQUIRE_IMAGE(img);
  const ndb::Bref root = img.header().nbt_root;
  const ndb::BTreePage p = img.page(ndb::kPageNbt, root.ib, root.bid);
  ASSERT_GT(p.level, 0);
  ASSERT_GE(p.branches.size(), 2u);
  // Raise entry 1's key by one: still above entry 0, below the child's first key.
  store_le64(img.bytes().data() + root.ib + p.entry_size, p.branches[1].key + 1);
  img.fix_page_crc(root.ib);
  const Report r = img.check();
  const Finding* f = find(r, "BTREE_BRANCH_KEY");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->structure, "NBT page");
  EXPECT_EQ(f->offset, p.branches[1].child.ib);
}

TEST(CheckDamage, CompressedOstBlockThatDoesNotInflate) {
  const char* rel = "pst-extractor-npm/pstextractortest@outlook.com.ost";
  REQUIRE_CORPUS_FILE(rel);
  Image img(rel);
  REQUIRE_IMAGE(img);
  ASSERT_EQ(img.header().format, ndb::FileFormat::kUnicode4k);
  auto db = ndb::Database::open_memory(img.bytes());
  ASSERT_TRUE(db.is_ok());
  std::optional<ndb::BlockEntry> compressed;
  ASSERT_TRUE((*db)->for_each_block([&](const ndb::BlockEntry& e) {
                     if (e.inflated_size != e.stored_size && e.stored_size > 32) {
                       compressed = e;
                       return false;
                     }
                     return true;
                   })
                  .is_ok());
  ASSERT_TRUE(compressed);
  img.bytes()[compressed->offset + compressed->stored_size / 2] ^= 0xFF;
  img.fix_block_crc(*compressed);
  const Report r = img.check();
  EXPECT_EQ(find(r, "BLOCK_CRC"), nullptr) << describe(r);
  const Finding* f = find(r, "BLOCK_INFLATE");
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->offset, compressed->offset);
}

TEST(CheckDamage, FindingsAreCappedPerCode) {
  REQUIRE_CORPUS_FILE("pstsdk/sample1.pst");
  Image img("pstsdk/sample1.pst");
  REQUIRE_IMAGE(img);
  // Damage every data block's first byte.
  auto db = ndb::Database::open_memory(img.bytes());
  ASSERT_TRUE(db.is_ok());
  size_t damaged = 0;
  ASSERT_TRUE((*db)->for_each_block([&](const ndb::BlockEntry& e) {
                     img.bytes()[e.offset] ^= 0xFF;
                     ++damaged;
                     return true;
                   })
                  .is_ok());
  CheckOptions options;
  options.max_findings_per_code = 3;
  const Report r = img.check(options);
  EXPECT_EQ(r.count("BLOCK_CRC"), 3u);
  EXPECT_EQ(r.suppressed.at("BLOCK_CRC"), damaged - 3);
  EXPECT_GE(r.errors, damaged);
}

// Random damage anywhere: the checker reports and never crashes or hangs.
TEST(CheckDamage, RandomByteDamageNeverCrashes) {
  for (const char* rel : {"pstsdk/sample1.pst", "pstsdk/sample2.pst"}) {
    REQUIRE_CORPUS_FILE(rel);
    const Bytes pristine = read_file(kCorpus + rel);
    std::mt19937 rng(12345);
    for (int round = 0; round < 60; ++round) {
      Bytes bytes = pristine;
      const int flips = 1 + int(rng() % 64);
      for (int i = 0; i < flips; ++i) {
        // Mostly inside the B-tree and block area, sometimes the header.
        const size_t at = (rng() % 8 == 0) ? rng() % 564 : 0x4400 + rng() % (bytes.size() - 0x4400);
        bytes[at] = uint8_t(rng());
      }
      auto db = ndb::Database::open_memory(bytes);
      if (!db.is_ok()) continue;  // header refused: check_file's path
      const Report r = check_database(**db);
      EXPECT_LE(r.findings.size(), finding_codes().size() * CheckOptions{}.max_findings_per_code);
    }
  }
}

}  // namespace
}  // namespace pstkit::check
