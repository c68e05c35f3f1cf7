// Orphan messages (src/repair/adopt_orphans.cpp): messages whose NBT entries
// are lost but whose blocks survive come back whole through a rebuild -- with
// their original id and folder when a contents-table row still names them,
// else in Lost and Found.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "ndb/page.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb_salvage.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/repair.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"
#include "test_bytes.h"

namespace pstkit {
namespace {

namespace fs = std::filesystem;
using ltp::string_value;

constexpr int kMessages = 60;

// What a message is, without its id: folder name, subject, body, recipients,
// attachment sizes and a byte of each.
using Contents = std::multiset<std::string>;

class RepairAdoptTest : public ::testing::TestWithParam<ndb::FileFormat> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pstkit-adopt-" + std::to_string(getpid()) + "-" +
                                        std::to_string(int(GetParam())) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "store.pst").string();
    NewStoreOptions options;
    options.format = GetParam();
    auto w = StoreWriter::create(path_, options);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    auto inbox = (*w)->create_folder((*w)->ipm_subtree(), "Inbox");
    ASSERT_TRUE(inbox.is_ok());
    for (int i = 0; i < kMessages; ++i) {
      NewMessage m;
      m.properties = {string_value(prop::kMessageClass, "IPM.Note"),
                      string_value(prop::kSubject, "message " + std::to_string(i)),
                      string_value(prop::kBody, "body of message " + std::to_string(i)),
                      // PidTagDisplayTo, as Outlook sets it: what pairs a
                      // message with its recipient table when both are orphans.
                      string_value(0x0E04, "Recipient " + std::to_string(i))};
      m.recipients.push_back({string_value(prop::kDisplayName, "Recipient " + std::to_string(i)),
                              ltp::int32_value(prop::kRecipientType, 1)});
      if (i % 3 == 0) {
        NewAttachment a;
        a.properties = {string_value(prop::kAttachLongFilename, "a.bin"), ltp::int32_value(prop::kAttachMethod, 1)};
        a.data = test::pattern(size_t(100 + 900 * i), uint32_t(i));
        m.attachments.push_back(std::move(a));
      }
      auto nid = (*w)->create_message(*inbox, m);
      ASSERT_TRUE(nid.is_ok()) << nid.status().message();
    }
    ASSERT_TRUE((*w)->commit().is_ok());
    inbox_ = *inbox;
    ids_ = read_messages(path_, &contents_);
    ASSERT_EQ(ids_.size(), size_t(kMessages));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Every message of every folder: nid -> folder + content; contents (if
  // given) gets the content alone.
  static std::map<Nid, std::pair<Nid, std::string>> read_messages(const std::string& path, Contents* contents) {
    std::map<Nid, std::pair<Nid, std::string>> out;
    auto store = Store::open(path);
    if (!store) return out;
    std::vector<Nid> pending{ndb::kNidRootFolder};
    while (!pending.empty()) {
      const Nid folder = pending.back();
      pending.pop_back();
      auto f = (*store)->open_folder(folder);
      if (!f) continue;
      if (auto subs = f->subfolders()) {
        for (const auto& r : *subs) pending.push_back(r.nid);
      }
      auto nids = f->content_nids();
      if (!nids) continue;
      for (Nid n : *nids) {
        auto m = (*store)->open_message(n);
        if (!m) continue;
        std::string v = m->subject() + "|" + m->body_text().value_or("<no body>");
        if (auto recipients = m->recipients()) {
          for (const auto& r : *recipients) v += "|to " + r.get_string(prop::kDisplayName).value_or("?");
        }
        if (auto atts = m->attachment_nids()) {
          for (Nid a : *atts) {
            auto att = m->open_attachment(a);
            auto data = att ? att->read_data() : Result<Bytes>(att.status());
            v += data ? "|+" + std::to_string(data->size()) + "@" + std::to_string(data->empty() ? 0 : data->back())
                      : "|<attachment unreadable>";
          }
        }
        out[n] = {folder, v};
        if (contents) contents->insert(v);
      }
    }
    return out;
  }

  Bytes image() const {
    std::ifstream in(path_, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // Offsets of the NBT leaf pages holding message entries only.
  std::vector<uint64_t> message_leaves(const Bytes& file) const {
    auto db = ndb::Database::open(path_);
    EXPECT_TRUE(db.is_ok());
    const ndb::Header& h = (*db)->header();
    std::vector<uint64_t> out;
    std::vector<ndb::Bref> pending{h.nbt_root};
    while (!pending.empty()) {
      const ndb::Bref ref = pending.back();
      pending.pop_back();
      auto p = ndb::parse_btree_page(h, ByteView(file.data() + ref.ib, h.page_size), ref.ib, ndb::kPageNbt, ref.bid);
      EXPECT_TRUE(p.is_ok()) << p.status().message();
      if (!p) continue;
      for (const auto& b : p->branches) pending.push_back(b.child);
      if (!p->nodes.empty() &&
          std::all_of(p->nodes.begin(), p->nodes.end(),
                      [](const ndb::NodeEntry& e) { return ndb::nid_type(e.nid) == ndb::kNidTypeNormalMessage; })) {
        out.push_back(ref.ib);
      }
    }
    return out;
  }

  // Rebuilds the damaged image into out.pst; the changes made.
  std::vector<repair::Change> rebuild(const Bytes& damaged) {
    const std::string in = (dir_ / "damaged.pst").string();
    {
      std::ofstream f(in, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char*>(damaged.data()), std::streamsize(damaged.size()));
    }
    std::vector<repair::Change> changes;
    auto src = repair::open_for_rebuild(in, false, &changes);
    EXPECT_TRUE(src.is_ok()) << src.status().message();
    if (!src) return changes;
    repair::RebuildOptions options;
    options.on_change = [&](const repair::Change& c) { changes.push_back(c); };
    out_ = (dir_ / "out.pst").string();
    auto r = repair::rebuild(**src, out_, options);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return changes;
  }

  static size_t count(const std::vector<repair::Change>& changes, const std::string& code) {
    return size_t(std::count_if(changes.begin(), changes.end(), [&](const repair::Change& c) { return c.code == code; }));
  }

  fs::path dir_;
  std::string path_, out_;
  Nid inbox_ = 0;
  std::map<Nid, std::pair<Nid, std::string>> ids_;
  Contents contents_;
};

// The NBT leaves holding only messages zeroed; the contents table survives:
// every message comes back with its id, folder and content.
TEST_P(RepairAdoptTest, MessagesWhoseNbtLeavesAreZeroedComeBackInTheirFolder) {
  Bytes file = image();
  const auto leaves = message_leaves(file);
  ASSERT_FALSE(leaves.empty());
  const uint32_t page_size = 512;  // ANSI and Unicode pages (MS-PST 2.2.2.7)
  size_t lost = 0;
  {
    auto db = ndb::Database::open(path_);
    ASSERT_TRUE(db.is_ok());
    for (uint64_t at : leaves) {
      auto p = ndb::parse_btree_page((*db)->header(), ByteView(file.data() + at, page_size), at, ndb::kPageNbt,
                                     ndb::read_page_trailer((*db)->header(), ByteView(file.data() + at, page_size)).bid);
      ASSERT_TRUE(p.is_ok());
      lost += p->nodes.size();
    }
  }
  for (uint64_t at : leaves) std::fill(file.begin() + long(at), file.begin() + long(at + page_size), 0);
  const auto changes = rebuild(file);
  EXPECT_EQ(count(changes, "ORPHAN_ADOPTED"), lost);
  for (const auto& c : changes) {
    if (c.code == "ORPHAN_ADOPTED" && c.action.find("original id") == std::string::npos) ADD_FAILURE() << c.action;
  }
  EXPECT_EQ(count(changes, "ORPHAN_MOVED"), 0u);
  EXPECT_EQ(read_messages(out_, nullptr), ids_);
}

// The file cut just before the B-tree pages that list the messages: their
// NBT entries are gone with the header's roots, their blocks and the
// contents table are not: every message comes back with its content.
TEST_P(RepairAdoptTest, MessagesOfAFileCutBeforeTheirNbtLeavesComeBack) {
  Bytes file = image();
  uint64_t cut = file.size();
  for (uint64_t at : message_leaves(file)) cut = std::min(cut, at);
  uint64_t last_message_block = 0;
  {
    auto db = ndb::Database::open(path_);
    ASSERT_TRUE(db.is_ok());
    cut = std::min(cut, (*db)->header().nbt_root.ib);
    ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
                  if (ndb::nid_type(e.nid) != ndb::kNidTypeNormalMessage) return true;
                  for (ndb::Bid b : {e.data_bid, e.subnode_bid}) {
                    if (auto be = (*db)->find_block(b)) last_message_block = std::max(last_message_block, be->offset);
                  }
                  return true;
                }).is_ok());
  }
  if (last_message_block >= cut) GTEST_SKIP() << "the writer put B-tree pages among the message blocks";
  file.resize(cut);
  const auto changes = rebuild(file);
  EXPECT_GT(count(changes, "ORPHAN_ADOPTED"), 0u);
  Contents got;
  read_messages(out_, &got);
  EXPECT_EQ(got, contents_);
}

// The messages' NBT leaves and their folder's contents table zeroed: no row
// names them, so they come back, whole, in Lost and Found with new ids.
TEST_P(RepairAdoptTest, MessagesNoRowNamesGoToLostAndFound) {
  Bytes file = image();
  const uint32_t page_size = 512;
  for (uint64_t at : message_leaves(file)) std::fill(file.begin() + long(at), file.begin() + long(at + page_size), 0);
  {
    auto db = ndb::Database::open(path_);
    ASSERT_TRUE(db.is_ok());
    auto table = (*db)->find_node(ndb::make_nid(ndb::kNidTypeContentsTable, ndb::nid_index(inbox_)));
    ASSERT_TRUE(table.is_ok());
    for (ndb::Bid b : {table->data_bid, table->subnode_bid}) {
      if (b == 0) continue;
      auto be = (*db)->find_block(b);
      ASSERT_TRUE(be.is_ok());
      std::fill(file.begin() + long(be->offset), file.begin() + long(be->offset + be->stored_size), 0);
    }
  }
  const auto changes = rebuild(file);
  const size_t adopted = count(changes, "ORPHAN_ADOPTED");
  EXPECT_GT(adopted, 0u);
  Contents got;
  const auto messages = read_messages(out_, &got);
  EXPECT_EQ(got, contents_);
  size_t elsewhere = 0;
  for (const auto& [nid, where] : messages) elsewhere += where.first != inbox_;
  EXPECT_EQ(elsewhere, adopted);
}

// Copies of a message share its blocks (MS-PST 2.2.2.7.7.3.1: only the top
// BIDs gain a reference), and a message whose PC was rewritten after it was
// copied keeps sharing its subnode tree with the copies under a new data
// block (as in quickquick.pst, where Outlook did so). The NBT
// leaves listing the copies zeroed, the original still listed: every copy
// comes back whole with its id -- not only the first (the others' blocks
// are the same), and with the subnode tree the listed original also uses
// (recipients and attachments), not without one.
TEST_P(RepairAdoptTest, CopiesSharingBlocksWithEachOtherAndAListedMessageComeBackWhole) {
  const Nid original = ids_.begin()->first;  // message 0: has an attachment
  std::vector<Nid> copies;
  {
    auto w = StoreWriter::open(path_);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    // A delivered message: its contents-table rows carry the delivery time
    // that, with subject and size, tells a copy's row.
    ASSERT_TRUE((*w)->set_message_properties(
                         original, {ltp::time_value(prop::kMessageDeliveryTime, 0x01D9'0000'0000'0000ull)})
                    .is_ok());
    for (int i = 0; i < 3; ++i) {
      auto c = (*w)->copy_message(original, inbox_);
      ASSERT_TRUE(c.is_ok()) << c.status().message();
      copies.push_back(*c);
    }
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  {
    // The original rewritten as a change rewrites a PC whose subnodes stay
    // (a new data block, the same subnode tree).
    auto db = ndb::WritableDatabase::open(path_);
    ASSERT_TRUE(db.is_ok()) << db.status().message();
    auto e = (*db)->find_node(original);
    ASSERT_TRUE(e.is_ok());
    auto block = (*db)->read_block(e->data_bid);
    ASSERT_TRUE(block.is_ok()) << block.status().message();
    auto rewritten = (*db)->write_block(ByteView((*block)->data(), (*block)->size()), false);
    ASSERT_TRUE(rewritten.is_ok());
    ASSERT_TRUE((*db)->put_node({original, *rewritten, e->subnode_bid, e->parent_nid}).is_ok());
    ASSERT_TRUE((*db)->commit().is_ok());
  }
  const auto expected = read_messages(path_, nullptr);
  ASSERT_EQ(expected.size(), size_t(kMessages) + copies.size());
  Bytes file = image();
  const uint32_t page_size = 512;  // ANSI and Unicode pages (MS-PST 2.2.2.7)
  {
    auto db = ndb::Database::open(path_);
    ASSERT_TRUE(db.is_ok());
    auto o = (*db)->find_node(original);
    ASSERT_TRUE(o.is_ok());
    for (Nid c : copies) {
      auto e = (*db)->find_node(c);
      ASSERT_TRUE(e.is_ok());
      ASSERT_NE(e->data_bid, o->data_bid) << "the original's change kept its data block";
      ASSERT_EQ(e->subnode_bid, o->subnode_bid) << "the original's change rewrote its subnode tree";
    }
    const ndb::Header& h = (*db)->header();
    std::vector<ndb::Bref> pending{h.nbt_root};
    size_t zeroed = 0;
    while (!pending.empty()) {
      const ndb::Bref ref = pending.back();
      pending.pop_back();
      const ByteView page(file.data() + ref.ib, page_size);
      auto p = ndb::parse_btree_page(h, page, ref.ib, ndb::kPageNbt, ref.bid);
      ASSERT_TRUE(p.is_ok()) << p.status().message();
      for (const auto& b : p->branches) pending.push_back(b.child);
      auto lists = [&](Nid n) {
        return std::any_of(p->nodes.begin(), p->nodes.end(), [&](const ndb::NodeEntry& e) { return e.nid == n; });
      };
      if (std::none_of(copies.begin(), copies.end(), lists)) continue;
      ASSERT_FALSE(lists(original)) << "the original shares an NBT leaf with its copies";
      std::fill(file.begin() + long(ref.ib), file.begin() + long(ref.ib + page_size), 0);
      ++zeroed;
    }
    ASSERT_GT(zeroed, 0u);
  }
  const auto changes = rebuild(file);
  EXPECT_GE(count(changes, "ORPHAN_ADOPTED"), copies.size());
  const auto got = read_messages(out_, nullptr);
  EXPECT_EQ(got.size(), expected.size());
  for (const auto& [nid, want] : expected) {
    auto it = got.find(nid);
    if (it == got.end()) {
      ADD_FAILURE() << "message " << nid << " (" << want.second << ") was not recovered";
    } else {
      EXPECT_EQ(it->second, want) << "message " << nid;
    }
  }
}

// The NBT leaf listing the name-to-ID map (0x61) zeroed: the map is found
// by its blocks and adopted, so the messages' named properties keep their
// names (before, a lost map became placeholders and every name was lost).
TEST_P(RepairAdoptTest, NameMapWhoseLeafIsZeroedIsFoundByItsBlocks) {
  NamedProperty custom;
  custom.guid = Guid::from_fields(0x12345678, 0x9ABC, 0xDEF0, 0x0123456789ABCDEF);
  custom.is_string = true;
  custom.name = "x-adopt-test";
  const Nid message = ids_.begin()->first;
  {
    auto w = StoreWriter::open(path_);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    NamedValue v{custom, ltp::kPtypString, utf8_to_utf16le("named value")};
    ASSERT_TRUE((*w)->set_message_properties(message, {}, {v}).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  Bytes file = image();
  const uint32_t page_size = 512;  // ANSI and Unicode pages (MS-PST 2.2.2.7)
  {
    // Every NBT leaf, current or stale, that lists 0x61: the file keeps the
    // map's blocks but no entry names them.
    auto db = ndb::Database::open(path_);
    ASSERT_TRUE(db.is_ok());
    const ndb::Header& h = (*db)->header();
    size_t zeroed = 0;
    for (uint64_t at = page_size; at + page_size <= file.size(); at += page_size) {
      const ByteView page(file.data() + at, page_size);
      const auto t = ndb::read_page_trailer(h, page);
      if (t.ptype != ndb::kPageNbt || t.ptype_repeat != ndb::kPageNbt) continue;
      auto p = ndb::parse_btree_page(h, page, at, ndb::kPageNbt, t.bid);
      if (!p || p->level != 0) continue;
      if (std::none_of(p->nodes.begin(), p->nodes.end(),
                       [](const ndb::NodeEntry& e) { return e.nid == ndb::kNidNameToIdMap; })) {
        continue;
      }
      std::fill(file.begin() + long(at), file.begin() + long(at + page_size), 0);
      ++zeroed;
    }
    ASSERT_GT(zeroed, 0u);
  }
  const auto changes = rebuild(file);
  bool adopted = false;
  for (const auto& c : changes) adopted |= c.code == "ORPHAN_ADOPTED" && c.id == ndb::kNidNameToIdMap;
  EXPECT_TRUE(adopted);
  auto store = Store::open(out_);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  uint16_t id = 0;
  for (const auto& [i, name] : (*store)->names().entries()) {
    if (name.is_string && name.name == custom.name && name.guid == custom.guid) id = i;
  }
  ASSERT_NE(id, 0) << "the custom name was lost";
  auto m = (*store)->open_message(message);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->properties().get_string(id), "named value");
}

INSTANTIATE_TEST_SUITE_P(Formats, RepairAdoptTest,
                         ::testing::Values(ndb::FileFormat::kUnicode, ndb::FileFormat::kAnsi),
                         [](const ::testing::TestParamInfo<ndb::FileFormat>& p) {
                           return p.param == ndb::FileFormat::kAnsi ? std::string("ANSI") : std::string("Unicode");
                         });

}  // namespace
}  // namespace pstkit
