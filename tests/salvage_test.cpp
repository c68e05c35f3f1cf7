// Salvage (pstkit/ndb_salvage.h): a store written by StoreWriter, damaged in
// its B-tree pages or blocks, read back through a salvaged index. What the
// damage did not touch must come back exactly; what it did must be named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "ndb/index_status.h"
#include "ndb/page.h"
#include "pstkit/check.h"
#include "pstkit/ndb_salvage.h"
#include "pstkit/repair.h"
#include "pstkit/store_writer.h"
#include "test_bytes.h"
#include "util/spill_array.h"

namespace pstkit {
namespace {

namespace fs = std::filesystem;

using ltp::string_value;
using test::pattern;

constexpr int kMessages = 300;  // enough for a three-level NBT in Unicode
constexpr size_t kAttachmentBytes = 40000;  // a data tree of several blocks

class SalvageTest : public ::testing::TestWithParam<ndb::FileFormat> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pstkit-salvage-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "store.pst").string();
    NewStoreOptions options;
    options.format = GetParam();
    auto w = StoreWriter::create(path_, options);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    auto folder = (*w)->create_folder((*w)->ipm_subtree(), "Inbox");
    ASSERT_TRUE(folder.is_ok());
    for (int i = 0; i < kMessages; ++i) {
      NewMessage m;
      m.properties = {string_value(prop::kMessageClass, "IPM.Note"), string_value(prop::kSubject, "message " + std::to_string(i))};
      if (i % 50 == 0) {
        NewAttachment a;
        a.properties = {string_value(prop::kAttachLongFilename, "data.bin")};
        a.data = pattern(kAttachmentBytes, uint32_t(i));
        m.attachments.push_back(std::move(a));
      }
      auto nid = (*w)->create_message(*folder, m);
      ASSERT_TRUE(nid.is_ok()) << nid.status().message();
      if (i % 100 == 99) {
        ASSERT_TRUE((*w)->commit().is_ok());
      }
    }
    ASSERT_TRUE((*w)->commit().is_ok());
    auto db = ndb::Database::open(path_);
    ASSERT_TRUE(db.is_ok());
    header_ = (*db)->header();
    ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
                  nodes_[e.nid] = e;
                  return true;
                }).is_ok());
    ASSERT_TRUE((*db)->for_each_block([&](const ndb::BlockEntry& e) {
                  blocks_[ndb::bid_key(e.bid)] = e;
                  return true;
                }).is_ok());
    subjects_ = read_subjects(std::move(*db));
    ASSERT_EQ(subjects_.size(), size_t(kMessages));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // nid -> subject + attachment digest, for every message of every folder.
  static std::map<Nid, std::string> read_subjects(std::unique_ptr<ndb::Database> db,
                                                  const StoreOptions& options = {}) {
    std::map<Nid, std::string> out;
    auto store = Store::open(std::move(db), options);
    if (!store) return out;
    std::vector<Nid> pending{ndb::kNidRootFolder};
    while (!pending.empty()) {
      auto f = (*store)->open_folder(pending.back());
      pending.pop_back();
      if (!f) continue;
      if (auto subs = f->subfolders()) {
        for (const auto& r : *subs) pending.push_back(r.nid);
      }
      auto nids = f->content_nids();
      if (!nids) continue;
      for (Nid n : *nids) {
        auto m = (*store)->open_message(n);
        if (!m) {
          out[n] = "<unreadable: " + m.status().message() + ">";
          continue;
        }
        std::string v = m->subject();
        if (auto atts = m->attachment_nids(); atts && !atts->empty()) {
          auto a = m->open_attachment(atts->front());
          auto data = a ? a->read_data() : Result<Bytes>(a.status());
          v += data ? " +" + std::to_string(data->size()) + "@" + std::to_string(data->empty() ? 0 : (*data)[17])
                    : " <attachment unreadable>";
        }
        out[n] = v;
      }
    }
    return out;
  }

  // The first full external block (only attachment data trees have them
  // here); bid 0 when there is none.
  ndb::BlockEntry full_data_block() const {
    for (const auto& [key, e] : blocks_) {
      if (!ndb::bid_is_internal(e.bid) && e.stored_size == header_.max_block_size - header_.block_trailer_size) return e;
    }
    return {};
  }
  void overwrite(uint64_t offset, size_t len, uint8_t byte) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(offset));
    const std::string junk(len, char(byte));
    f.write(junk.data(), std::streamsize(junk.size()));
  }

  void flip_bit(uint64_t offset, int bit) {
    Bytes b = read_bytes(offset, 1);
    b[0] ^= uint8_t(1u << bit);
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(offset));
    f.write(reinterpret_cast<const char*>(b.data()), 1);
  }

  Result<ndb::BTreePage> read_page(const ndb::Bref& ref, uint8_t type) {
    auto db = ndb::Database::open(path_);
    if (!db) return db.status();
    Bytes raw(header_.page_size);
    PSTKIT_RETURN_IF_ERROR((*db)->read_raw(ref.ib, raw.size(), raw.data()));
    return ndb::parse_btree_page(header_, raw, ref.ib, type, ref.bid);
  }

  // The NBT's last leaf page and where it is: messages only, as their NIDs
  // sort after the folders'.
  void last_nbt_leaf(ndb::Bref* ref, ndb::BTreePage* page) {
    *ref = header_.nbt_root;
    for (;;) {
      auto p = read_page(*ref, ndb::kPageNbt);
      ASSERT_TRUE(p.is_ok()) << p.status().message();
      *page = *p;
      if (page->level == 0) return;
      *ref = page->branches.back().child;
    }
  }

  Bytes read_bytes(uint64_t offset, size_t len) {
    Bytes out(len);
    std::ifstream f(path_, std::ios::binary);
    f.seekg(std::streamoff(offset));
    f.read(reinterpret_cast<char*>(out.data()), std::streamsize(len));
    return out;
  }

  // Appends bytes (a block or page) at the end of the file, with the
  // trailer's signature at sig_at recomputed for the new offset and bid
  // (MS-PST 5.5; the CRC does not cover it). Returns the offset.
  uint64_t append_resigned(Bytes bytes, size_t sig_at, ndb::Bid bid) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0, std::ios::end);
    const uint64_t at = uint64_t(f.tellp());
    const uint16_t sig = ndb::compute_signature(at, bid);
    bytes[sig_at] = uint8_t(sig & 0xFF);
    bytes[sig_at + 1] = uint8_t(sig >> 8);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return at;
  }

  std::unique_ptr<ndb::Database> salvage(ndb::SalvageReport* report, bool include_deleted = false) {
    ndb::SalvageOptions options;
    options.include_deleted = include_deleted;
    auto db = ndb::open_salvaged(path_, {}, options, report);
    EXPECT_TRUE(db.is_ok()) << db.status().message();
    return db ? std::move(*db) : nullptr;
  }

  fs::path dir_;
  std::string path_;
  ndb::Header header_;
  std::map<Nid, ndb::NodeEntry> nodes_;
  std::map<ndb::Bid, ndb::BlockEntry> blocks_;
  std::map<Nid, std::string> subjects_;
};

TEST_P(SalvageTest, HealthyFileGivesTheTreesIndex) {
  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  EXPECT_TRUE(report.tree_intact());
  EXPECT_EQ(report.nodes_from_tree, nodes_.size());
  EXPECT_EQ(report.nodes_from_scan, 0u);
  EXPECT_EQ(report.blocks_from_tree, blocks_.size());
  EXPECT_EQ(report.damaged_blocks, 0u);
  EXPECT_GT(report.nbt_pages_found, 0u);
  EXPECT_EQ(report.bytes_scanned, fs::file_size(path_));
  size_t n = 0;
  ASSERT_TRUE(db->for_each_node([&](const ndb::NodeEntry& e) {
                auto it = nodes_.find(e.nid);
                EXPECT_TRUE(it != nodes_.end() && it->second.data_bid == e.data_bid &&
                            it->second.subnode_bid == e.subnode_bid && it->second.parent_nid == e.parent_nid)
                    << pstkit::hex(e.nid);
                ++n;
                return true;
              }).is_ok());
  EXPECT_EQ(n, nodes_.size());
  for (const auto& [key, e] : blocks_) {
    auto got = db->find_block(e.bid);
    ASSERT_TRUE(got.is_ok()) << pstkit::hex(e.bid);
    EXPECT_EQ(got->offset, e.offset);
    EXPECT_EQ(got->stored_size, e.stored_size);
    EXPECT_EQ(got->ref_count, e.ref_count);
  }
  EXPECT_EQ(read_subjects(std::move(db)), subjects_);
}

TEST_P(SalvageTest, BothRootPagesDestroyed) {
  overwrite(header_.nbt_root.ib, header_.page_size, 0xAA);
  overwrite(header_.bbt_root.ib, header_.page_size, 0x00);
  ASSERT_FALSE(Store::open(path_).is_ok());  // the ordinary reader cannot go on
  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  ASSERT_EQ(report.tree_errors.size(), 2u);
  EXPECT_NE(report.tree_errors[0].find("NBT page at offset " + pstkit::hex(header_.nbt_root.ib)), std::string::npos)
      << report.tree_errors[0];
  EXPECT_NE(report.tree_errors[1].find("BBT page at offset " + pstkit::hex(header_.bbt_root.ib)), std::string::npos)
      << report.tree_errors[1];
  EXPECT_EQ(report.nodes_from_tree, 0u);
  EXPECT_EQ(report.nodes_from_scan, nodes_.size());
  // The scan also finds the old versions of the tables the last commit
  // replaced: a writer leaves what its last commit freed unwiped, for
  // readers that take no lock (docs/COMMIT_PROTOCOL.md). The newest
  // version of each node still wins.
  EXPECT_GE(report.blocks_from_scan, blocks_.size());
  EXPECT_EQ(read_subjects(std::move(db)), subjects_);
}

TEST_P(SalvageTest, DestroyedLeafLosesOnlyItsOwnNodes) {
  ndb::Bref ref;
  ndb::BTreePage page;
  ASSERT_NO_FATAL_FAILURE(last_nbt_leaf(&ref, &page));
  ASSERT_NE(ref.ib, header_.nbt_root.ib) << "the NBT should have more than one level";
  for (const auto& n : page.nodes) ASSERT_EQ(ndb::nid_type(n.nid), ndb::kNidTypeNormalMessage);
  ASSERT_FALSE(page.nodes.empty());
  overwrite(ref.ib, header_.page_size, 0);  // the whole page: nothing of it can be read
  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  ASSERT_EQ(report.tree_errors.size(), 1u);
  EXPECT_NE(report.tree_errors[0].find("NBT page at offset " + pstkit::hex(ref.ib)), std::string::npos);
  // StoreWriter wipes freed space, so no stale copy of the page survives:
  // exactly that leaf's nodes are missing, every other node is there.
  EXPECT_EQ(report.nodes_from_scan, 0u);
  std::set<Nid> lost;
  for (const auto& n : page.nodes) lost.insert(n.nid);
  for (const auto& [nid, e] : nodes_) {
    EXPECT_EQ(db->find_node(nid).is_ok(), lost.count(nid) == 0) << pstkit::hex(nid);
  }
  auto got = read_subjects(std::move(db));
  size_t lost_messages = 0;
  for (const auto& [nid, subject] : subjects_) {
    if (lost.count(nid)) {
      ++lost_messages;
      ASSERT_TRUE(got.count(nid));
      EXPECT_NE(got[nid].find("unreadable"), std::string::npos) << got[nid];
    } else {
      EXPECT_EQ(got[nid], subject);
    }
  }
  EXPECT_GT(lost_messages, 0u);
}

// A leaf whose CRC fails because a few bytes flipped is still the newest
// copy of its entries: those that read as real entries (blocks known,
// parent a folder) are used; the damaged one is left out.
TEST_P(SalvageTest, LeafWithBadCrcKeepsItsSaneEntries) {
  ndb::Bref ref;
  ndb::BTreePage page;
  ASSERT_NO_FATAL_FAILURE(last_nbt_leaf(&ref, &page));
  ASSERT_GE(page.nodes.size(), 3u);
  // The first entry's bidData (MS-PST 2.2.2.7.7.4: after the NID, 4 bytes in
  // ANSI, 8 in Unicode) becomes a BID no block has.
  const bool ansi = GetParam() == ndb::FileFormat::kAnsi;
  overwrite(ref.ib + (ansi ? 4 : 8), 4, 0x5A);
  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  ASSERT_EQ(report.tree_errors.size(), 1u);
  EXPECT_NE(report.tree_errors[0].find("CRC"), std::string::npos) << report.tree_errors[0];
  EXPECT_EQ(report.nbt_pages_crc_failed, 1u);
  EXPECT_EQ(report.nodes_from_scan, page.nodes.size() - 1);
  const Nid damaged = page.nodes.front().nid;
  for (const auto& [nid, e] : nodes_) {
    auto got = db->find_node(nid);
    ASSERT_EQ(got.is_ok(), nid != damaged) << pstkit::hex(nid);
    if (got) {
      EXPECT_EQ(got->data_bid, e.data_bid);
      EXPECT_EQ(got->subnode_bid, e.subnode_bid);
      EXPECT_EQ(got->parent_nid, e.parent_nid);
    }
  }
  auto got = read_subjects(std::move(db));
  for (const auto& [nid, subject] : subjects_) {
    if (nid == damaged) {
      EXPECT_NE(got[nid].find("unreadable"), std::string::npos) << got[nid];
    } else {
      EXPECT_EQ(got[nid], subject) << pstkit::hex(nid);
    }
  }
}

// A file cut short loses its header's roots; the roots inferred from the
// file are the newest pages no other page names, which may be a partial tree
// (here: a lone copy of one leaf, newer than every other page, as when the
// branch pages that named the newest leaves lay past the cut). The nodes of
// the other intact leaves must still come from the scan.
TEST_P(SalvageTest, InferredRootNamingAPartialTreeLosesNothing) {
  ndb::Bref ref;
  ndb::BTreePage page;
  ASSERT_NO_FATAL_FAILURE(last_nbt_leaf(&ref, &page));
  Bytes leaf = read_bytes(ref.ib, header_.page_size);
  const size_t trailer = header_.page_size - header_.page_trailer_size;
  const ndb::Bid newest = header_.bid_next_p + 16;
  if (GetParam() == ndb::FileFormat::kAnsi) {
    for (int i = 0; i < 4; ++i) leaf[trailer + 4 + i] = uint8_t(newest >> (8 * i));
  } else {
    for (int i = 0; i < 8; ++i) leaf[trailer + 8 + i] = uint8_t(newest >> (8 * i));
  }
  const uint64_t at = append_resigned(leaf, trailer + 2, newest);
  ASSERT_EQ(at % header_.page_size, 0u);
  overwrite(0, 512, 0);  // the header is gone: the roots are inferred
  ndb::SalvageReport report;
  ndb::HeaderInference inference;
  auto db = ndb::open_salvaged_inferring(path_, {}, {}, &report, &inference);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  ASSERT_TRUE(inference.inferred);
  ASSERT_EQ(inference.nbt_root.ib, at) << "the appended leaf should be taken as the NBT root";
  for (const auto& [nid, e] : nodes_) {
    auto got = (*db)->find_node(nid);
    ASSERT_TRUE(got.is_ok()) << pstkit::hex(nid) << ": " << got.status().message();
    EXPECT_EQ(got->data_bid, e.data_bid) << pstkit::hex(nid);
  }
  size_t listed = 0;
  ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry&) { return ++listed, true; }).is_ok());
  EXPECT_EQ(listed, nodes_.size());
  EXPECT_EQ(read_subjects(std::move(*db)), subjects_);
}

TEST_P(SalvageTest, DamagedBlockIsNamedAndTheRestReads) {
  // A full external block: only attachment data trees have them here.
  const ndb::Bid victim_bid = full_data_block().bid;
  ASSERT_NE(victim_bid, 0u);
  const ndb::BlockEntry block = blocks_.at(ndb::bid_key(victim_bid));
  overwrite(block.offset + 100, 16, 0xEE);
  ndb::SalvageReport report;
  auto salvaged = salvage(&report);
  ASSERT_TRUE(salvaged);
  EXPECT_TRUE(report.tree_intact());
  EXPECT_EQ(report.damaged_blocks, 1u);
  auto r = salvaged->read_block(victim_bid);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("block " + pstkit::hex(victim_bid)), std::string::npos) << r.status().message();
  auto got = read_subjects(std::move(salvaged));
  size_t differing = 0;
  for (const auto& [nid, subject] : subjects_) {
    if (got[nid] != subject) {
      ++differing;
      EXPECT_NE(got[nid].find("attachment unreadable"), std::string::npos) << got[nid];
    }
  }
  EXPECT_EQ(differing, 1u);
}

TEST_P(SalvageTest, DamagedBlockIsReadFromAnotherIntactCopy) {
  const ndb::BlockEntry victim = full_data_block();
  ASSERT_NE(victim.bid, 0u);
  const size_t disk = header_.max_block_size;  // a full block fills its 8 KiB
  append_resigned(read_bytes(victim.offset, disk), disk - header_.block_trailer_size + 2, victim.bid);
  overwrite(victim.offset + 100, 16, 0xEE);
  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  EXPECT_EQ(report.blocks_relocated, 1u);
  EXPECT_EQ(report.damaged_blocks, 0u);
  EXPECT_EQ(db->find_block(victim.bid)->offset, victim.offset);  // the BBT's entry stays
  EXPECT_TRUE(db->read_block(victim.bid).is_ok());                 // read from the copy
  EXPECT_EQ(read_subjects(std::move(db)), subjects_);
}

// A flipped bit (bit rot) in a data block and one in an NBT leaf page: the
// CRC locates each and salvage undoes it, so the salvaged database (what
// dump --recover reads) and recover's new file give the original content,
// not a lost leaf and an unreadable attachment.
TEST_P(SalvageTest, SingleBitFlipsAreCorrectedWithTheCrc) {
  const ndb::BlockEntry victim = full_data_block();
  ASSERT_NE(victim.bid, 0u);
  Bytes original_block;
  {
    auto db = ndb::Database::open(path_);
    ASSERT_TRUE(db.is_ok());
    auto b = (*db)->read_block(victim.bid);
    ASSERT_TRUE(b.is_ok());
    original_block = **b;
  }
  ndb::Bref leaf_ref;
  ndb::BTreePage leaf;
  last_nbt_leaf(&leaf_ref, &leaf);
  flip_bit(victim.offset + 1234, 5);
  flip_bit(leaf_ref.ib + 9, 2);  // the first entry's data BID
  ASSERT_FALSE(read_page(leaf_ref, ndb::kPageNbt).is_ok());

  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  EXPECT_TRUE(report.tree_intact()) << report.tree_errors.front();
  EXPECT_EQ(report.blocks_corrected, 1u);
  EXPECT_EQ(report.pages_corrected, 1u);
  EXPECT_EQ(report.damaged_blocks, 0u);
  ASSERT_EQ(report.corrections.size(), 2u);
  EXPECT_EQ(report.corrections[0].offset, std::min(victim.offset, leaf_ref.ib));
  auto block = db->read_block(victim.bid);
  ASSERT_TRUE(block.is_ok()) << block.status().message();
  EXPECT_EQ(**block, original_block);
  EXPECT_EQ(read_subjects(std::move(db)), subjects_);

  const std::string out = (dir_ / "recovered.pst").string();
  repair::FileRepairOptions options;
  auto recovered = repair::recover_file(path_, out, options);
  ASSERT_TRUE(recovered.is_ok()) << recovered.status().message();
  auto copy = ndb::Database::open(out);
  ASSERT_TRUE(copy.is_ok());
  EXPECT_EQ(read_subjects(std::move(*copy)), subjects_);

  // check still reports the damage (the file is damaged until repaired);
  // repair logs each correction and leaves a file that checks clean with
  // the same content.
  auto before = check::check_file(path_);
  ASSERT_TRUE(before.is_ok());
  EXPECT_GT(before->errors, 0u);
  std::vector<repair::Change> notes;
  ASSERT_TRUE(repair::open_for_rebuild(path_, false, &notes).is_ok());
  size_t bit_notes = 0;
  for (const auto& n : notes) bit_notes += n.code == "BIT_CORRECTED";
  EXPECT_EQ(bit_notes, 2u);
  repair::FileRepairOptions in_place;
  in_place.no_backup = true;
  std::vector<std::string> logged;
  in_place.on_change = [&](const repair::Change& c) { logged.push_back(c.code); };
  auto repaired = repair::repair_file(path_, in_place);
  ASSERT_TRUE(repaired.is_ok()) << repaired.status().message();
  EXPECT_EQ(std::count(logged.begin(), logged.end(), "BIT_CORRECTED"), 2);
  auto after = check::check_file(path_);
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(after->errors, 0u);
  auto fixed = ndb::Database::open(path_);
  ASSERT_TRUE(fixed.is_ok());
  EXPECT_EQ(read_subjects(std::move(*fixed)), subjects_);
}

// Flips in trailers: a block's stored CRC and its BID (the BBT and the
// signature say which BID is right), an NBT page's type byte and its CRC.
TEST_P(SalvageTest, SingleBitFlipsInTrailersAreCorrected) {
  std::vector<ndb::BlockEntry> victims;
  for (const auto& [key, e] : blocks_) {
    if (!ndb::bid_is_internal(e.bid) && e.stored_size > 100) victims.push_back(e);
    if (victims.size() == 2) break;
  }
  ASSERT_EQ(victims.size(), 2u);
  const bool ansi = header_.format == ndb::FileFormat::kAnsi;
  auto trailer_at = [&](const ndb::BlockEntry& e) {
    return e.offset + ndb::block_disk_size(header_, e.stored_size) - header_.block_trailer_size;
  };
  flip_bit(trailer_at(victims[0]) + (ansi ? 8 : 4) + 1, 3);  // dwCRC
  flip_bit(trailer_at(victims[1]) + (ansi ? 4 : 8) + 1, 6);  // bid
  ndb::Bref leaf_ref;
  ndb::BTreePage leaf;
  last_nbt_leaf(&leaf_ref, &leaf);
  const uint64_t page_trailer = leaf_ref.ib + header_.page_size - header_.page_trailer_size;
  flip_bit(page_trailer, 0);                      // ptype
  flip_bit(page_trailer + (ansi ? 8 : 4), 7);     // dwCRC

  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  EXPECT_TRUE(report.tree_intact());
  EXPECT_EQ(report.pages_corrected, 1u);
  EXPECT_EQ(report.blocks_corrected, 1u);  // the CRC flip; the BID flip is found through the BBT when read
  for (const auto& e : victims) EXPECT_TRUE(db->read_block(e.bid).is_ok()) << pstkit::hex(e.bid);
  EXPECT_EQ(read_subjects(std::move(db)), subjects_);
}

// Two flipped bits in one block are beyond the CRC: the block stays
// damaged and is never "corrected" into something else.
TEST_P(SalvageTest, TwoFlipsInABlockAreNotCorrected) {
  const ndb::BlockEntry victim = full_data_block();
  ASSERT_NE(victim.bid, 0u);
  flip_bit(victim.offset + 10, 0);
  flip_bit(victim.offset + 3000, 4);
  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  EXPECT_EQ(report.blocks_corrected, 0u);
  EXPECT_EQ(report.damaged_blocks, 1u);
  EXPECT_FALSE(db->read_block(victim.bid).is_ok());
}

// The message store node's block damaged beyond correction: a tolerant
// store (dump --recover) still reads every folder and item, and says why
// the store's own properties are missing; a strict one fails as before.
TEST_P(SalvageTest, UnreadableMessageStoreNodeStillGivesTheItems) {
  const ndb::BlockEntry block = blocks_.at(ndb::bid_key(nodes_.at(ndb::kNidMessageStore).data_bid));
  overwrite(block.offset + 20, 8, 0xEE);
  EXPECT_FALSE(Store::open(salvage(nullptr)).is_ok());
  StoreOptions tolerant;
  tolerant.tolerate_unreadable_store = true;
  auto store = Store::open(salvage(nullptr), tolerant);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  EXPECT_NE((*store)->store_damage().message().find("message store (node 0x21)"), std::string::npos)
      << (*store)->store_damage().message();
  EXPECT_EQ(read_subjects(salvage(nullptr), tolerant), subjects_);
}

TEST_P(SalvageTest, DeletedNodesComeBackOnlyOnRequest) {
  // An NBT leaf as it was before a message was deleted, kept at the end of
  // the file the way Outlook leaves freed pages in place.
  ndb::Bref ref;
  ndb::BTreePage page;
  ASSERT_NO_FATAL_FAILURE(last_nbt_leaf(&ref, &page));
  const Nid gone = page.nodes.back().nid;
  const Bytes old_page = read_bytes(ref.ib, header_.page_size);
  {
    auto w = StoreWriter::open(path_);
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE((*w)->delete_message(gone).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  const uint64_t at =
      append_resigned(old_page, header_.page_size - header_.page_trailer_size + 2, ref.bid);
  ASSERT_EQ(at % header_.page_size, 0u);
  ndb::SalvageReport plain_report;
  auto plain = salvage(&plain_report);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain_report.tree_intact());
  EXPECT_EQ(plain_report.nodes_from_scan, 0u);
  EXPECT_FALSE(plain->find_node(gone).is_ok());
  ndb::SalvageReport deleted_report;
  auto with_deleted = salvage(&deleted_report, /*include_deleted=*/true);
  ASSERT_TRUE(with_deleted);
  EXPECT_EQ(deleted_report.nodes_from_scan, 1u);
  auto back = with_deleted->find_node(gone);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->nid, gone);
  size_t visited = 0;
  bool saw_gone = false;
  Nid last = 0;
  ASSERT_TRUE(with_deleted->for_each_node([&](const ndb::NodeEntry& e) {
                EXPECT_LT(last, e.nid);  // merged in key order
                last = e.nid;
                saw_gone |= e.nid == gone;
                ++visited;
                return true;
              }).is_ok());
  EXPECT_TRUE(saw_gone);
  EXPECT_EQ(visited, nodes_.size());  // the deleted one replaces itself: same count as before
}

// Findings of check_file as lines, for comparing two runs.
std::vector<std::string> check_lines(const std::string& path) {
  auto r = check::check_file(path);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  std::vector<std::string> out;
  if (!r.is_ok()) return out;
  for (const check::Finding& f : r->findings) {
    out.push_back(f.code + " " + f.structure + " " + pstkit::hex(f.offset) + " " + pstkit::hex(f.id) + " " + f.message);
  }
  out.push_back("errors " + std::to_string(r->errors) + " warnings " + std::to_string(r->warnings) + " blocks " +
                std::to_string(r->counters.blocks) + " nodes " + std::to_string(r->counters.nodes));
  return out;
}

// A spill budget for one scope (util/spill_array.h).
struct ScopedSpillBudget {
  explicit ScopedSpillBudget(size_t bytes) { set_spill_budget_bytes(bytes); }
  ~ScopedSpillBudget() { set_spill_budget_bytes(0); }
};

// Issue 8: with a budget of 256 bytes the checker's records and the
// salvaged index go to temporary files; what they find must not change.
TEST_P(SalvageTest, SpilledIndexAndCheckEqualTheInMemoryOnes) {
  auto index_of = [](ndb::Database& db) {
    std::vector<std::string> out;
    EXPECT_TRUE(db.for_each_node([&](const ndb::NodeEntry& e) {
                    out.push_back("node " + pstkit::hex(e.nid) + " " + pstkit::hex(e.data_bid) + " " +
                                  pstkit::hex(e.subnode_bid) + " " + pstkit::hex(e.parent_nid));
                    return true;
                  }).is_ok());
    EXPECT_TRUE(db.for_each_block([&](const ndb::BlockEntry& e) {
                    out.push_back("block " + pstkit::hex(e.bid) + " " + pstkit::hex(e.offset) + " " +
                                  std::to_string(e.stored_size) + " " + std::to_string(e.ref_count));
                    return true;
                  }).is_ok());
    return out;
  };
  // A healthy file's check: every block and node has its record.
  const std::string intact = (dir_ / "intact.pst").string();
  fs::copy_file(path_, intact);
  const std::vector<std::string> healthy = check_lines(intact);
  // A damaged one: both roots gone, a leaked block (its BBT entry's cRef off).
  overwrite(header_.nbt_root.ib, header_.page_size, 0xAA);
  overwrite(header_.bbt_root.ib, header_.page_size, 0x00);
  const std::vector<std::string> damaged = check_lines(path_);
  ndb::SalvageReport report;
  auto db = salvage(&report);
  ASSERT_TRUE(db);
  const std::vector<std::string> index = index_of(*db);
  EXPECT_EQ(read_subjects(std::move(db)), subjects_);
  const std::string recovered = (dir_ / "recovered.pst").string();
  auto rec = repair::recover_file(path_, recovered, {});
  ASSERT_TRUE(rec.is_ok()) << rec.status().message();
  EXPECT_EQ(rec->errors_after, 0u);
  const std::vector<std::string> recovered_check = check_lines(recovered);
  auto recovered_db = ndb::Database::open(recovered);
  ASSERT_TRUE(recovered_db.is_ok());
  const std::vector<std::string> recovered_index = index_of(**recovered_db);
  recovered_db->reset();
  fs::remove(recovered);

  ScopedSpillBudget tiny(256);
  const uint64_t files = spill_files_created();
  ndb::SalvageReport spilled_report;
  auto spilled = salvage(&spilled_report);
  ASSERT_TRUE(spilled);
  EXPECT_GT(spill_files_created(), files);  // the spilling path was taken
  EXPECT_EQ(spilled_report.nodes_from_scan, report.nodes_from_scan);
  EXPECT_EQ(spilled_report.blocks_from_scan, report.blocks_from_scan);
  EXPECT_EQ(index_of(*spilled), index);
  EXPECT_TRUE(ndb::index_status(*spilled).is_ok());
  EXPECT_EQ(read_subjects(std::move(spilled)), subjects_);
  EXPECT_EQ(check_lines(path_), damaged);
  auto rec2 = repair::recover_file(path_, recovered, {});
  ASSERT_TRUE(rec2.is_ok()) << rec2.status().message();
  EXPECT_EQ(rec2->errors_after, 0u);
  // The same file: same blocks, nodes and findings (only times and the
  // random search keys of recreated items could differ, and none are).
  EXPECT_EQ(check_lines(recovered), recovered_check);
  auto recovered_db2 = ndb::Database::open(recovered);
  ASSERT_TRUE(recovered_db2.is_ok());
  EXPECT_EQ(index_of(**recovered_db2), recovered_index);
  EXPECT_EQ(check_lines(intact), healthy);
}

// A temporary file that cannot be made (a full disk, a missing $TMPDIR) is
// an error from repair and recover, with FILE unchanged and no OUT written.
TEST_P(SalvageTest, SpillFailureIsAnErrorAndChangesNothing) {
  overwrite(header_.nbt_root.ib, header_.page_size, 0xAA);
  overwrite(header_.bbt_root.ib, header_.page_size, 0x00);
  const Bytes before = read_bytes(0, size_t(fs::file_size(path_)));
  const char* old_tmp = std::getenv("TMPDIR");
  const std::string saved = old_tmp ? old_tmp : "";
  ::setenv("TMPDIR", "/nonexistent-pstkit-spill-dir", 1);
  ScopedSpillBudget tiny(256);
  const std::string out = (dir_ / "out.pst").string();
  auto rec = repair::recover_file(path_, out, {});
  repair::FileRepairOptions options;
  options.no_backup = true;
  auto rep = repair::repair_file(path_, options);
  if (old_tmp) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_FALSE(rec.is_ok());
  EXPECT_EQ(rec.status().code(), Code::kIoError);
  EXPECT_NE(rec.status().message().find("temporary file in /nonexistent-pstkit-spill-dir"), std::string::npos)
      << rec.status().message();
  EXPECT_FALSE(fs::exists(out));
  ASSERT_FALSE(rep.is_ok());
  EXPECT_EQ(rep.status().code(), Code::kIoError);
  EXPECT_EQ(read_bytes(0, before.size()), before);
}

TEST_P(SalvageTest, GarbageAndTruncationNeverCrash) {
  const auto size = fs::file_size(path_);
  for (uint64_t cut : {uint64_t(600), uint64_t(0x4400), size / 3, size / 2, size - 100}) {
    fs::resize_file(path_, cut);
    ndb::SalvageReport report;
    auto db = ndb::open_salvaged(path_, {}, {}, &report);
    if (db) (void)read_subjects(std::move(*db));
    EXPECT_EQ(report.bytes_scanned, db ? cut : report.bytes_scanned);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, SalvageTest, ::testing::Values(ndb::FileFormat::kUnicode, ndb::FileFormat::kAnsi),
                         [](const auto& param_info) { return std::string(ndb::format_name(param_info.param)); });

}  // namespace
}  // namespace pstkit
