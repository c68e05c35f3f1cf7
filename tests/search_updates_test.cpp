// Search update descriptors (MS-PST 2.4.8): the SUD layout against the
// spec and a queue Outlook wrote, and the SUDs StoreWriter appends to the
// search management queue (node 0x1E1) for every folder and message
// operation, in order, read back from the committed file; queues spanning
// several blocks, a missing, drained or malformed queue, rollback; check.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "messaging/search_updates.h"
#include "pstkit/check.h"
#include "pstkit/store_writer.h"

namespace pstkit {
namespace {

const std::string kCorpus = PSTKIT_SOURCE_DIR "/../shared/corpus/";

PropValue text(uint16_t id, const std::string& s) { return ltp::string_value(id, s); }
PropValue i32(uint16_t id, int32_t v) { return ltp::int32_value(id, v); }

NewMessage note(const std::string& subject) {
  NewMessage m;
  m.properties = {text(prop::kMessageClass, "IPM.Note"), text(prop::kSubject, subject),
                  text(prop::kBody, "Body of " + subject), i32(prop::kMessageFlags, 1)};
  m.recipients.push_back({text(prop::kDisplayName, "Ann"), i32(prop::kRecipientType, 1),
                          text(prop::kEmailAddress, "ann@example.com"), text(prop::kAddressType, "SMTP")});
  return m;
}

NewAttachment attachment(const std::string& name) {
  NewAttachment a;
  a.properties = {text(prop::kAttachLongFilename, name)};
  a.data = Bytes(300, 0x5A);
  return a;
}

std::string describe(const Sud& s) {
  return "{flags " + hex(s.flags) + " type " + hex(uint16_t(s.type)) + " " + hex(s.data[0]) + " " + hex(s.data[1]) +
         " " + hex(s.data[2]) + " " + hex(s.data[3]) + "}";
}

std::string describe(const std::vector<Sud>& v) {
  std::string out;
  for (const Sud& s : v) out += describe(s) + "\n";
  return out;
}

Bytes hex_bytes(const char* h) {
  Bytes out;
  for (const char* p = h; *p;) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    out.push_back(uint8_t(std::strtoul(std::string(p, 2).c_str(), nullptr, 16)));
    p += 2;
  }
  return out;
}

// ---------------------------------------------------------------- layout

TEST(SudLayout, EncodingFollowsTheSpec) {
  Bytes b;
  // MS-PST 2.4.8.2.3 SUD_FLD_ADD, bytes as Outlook queued "Deleted Items"
  // (0x8062) under the IPM subtree (0x8022).
  append_sud(b, folder_sud(SudType::kFldAdd, 0x8022, 0x8062));
  EXPECT_EQ(b, hex_bytes("0000 0500 22800000 62800000 00000000 00000000"));
  b.clear();
  // MS-PST 2.4.8.2.4 SUD_FLD_MOD with SUDF_NAME_CHANGED.
  append_sud(b, object_sud(SudType::kFldMod, 0x8442, kSudfNameChanged));
  EXPECT_EQ(b, hex_bytes("0800 0600 42840000 00000000 00000000 00000000"));
  b.clear();
  // MS-PST 2.4.8.2.1 SUD_MSG_ADD: nidParent, nidMsg.
  append_sud(b, message_sud(SudType::kMsgAdd, 0x8082, 0x200024));
  EXPECT_EQ(b, hex_bytes("0000 0100 82800000 24002000 00000000 00000000"));
  b.clear();
  // MS-PST 2.4.8.2.2 SUD_MSG_MOV: nidParentNew, nidMsg, nidParentOld.
  append_sud(b, message_move_sud(0x80A2, 0x200044, 0x8082));
  EXPECT_EQ(b, hex_bytes("0000 0400 a2800000 44002000 82800000 00000000"));
  EXPECT_EQ(b.size(), kSudSize);
  EXPECT_EQ(decode_sud(b.data()), message_move_sud(0x80A2, 0x200044, 0x8082));
}

// A queue Outlook left in a file: the same layout, read from its head.
TEST(SudLayout, OutlookQueueDecodes) {
  const std::string path = kCorpus + "hughbe-pstreader_hughbe/backup_with_rules.pst";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus file not present";
  auto db = ndb::Database::open(path);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  auto q = read_sud_queue(**db);
  ASSERT_TRUE(q.is_ok()) << q.status().message();
  ASSERT_EQ(q->size(), 6u) << describe(*q);
  // A rename (SUDF_NAME_CHANGED), folders added to the IPM subtree, a message added.
  EXPECT_EQ((*q)[0].type, SudType::kFldMod);
  EXPECT_EQ((*q)[0].flags, kSudfNameChanged);
  EXPECT_EQ((*q)[0].data[0], 0x8442u);
  EXPECT_EQ((*q)[1], folder_sud(SudType::kFldAdd, 0x8022, 0x8462));
  EXPECT_EQ((*q)[5].type, SudType::kMsgAdd);
  EXPECT_EQ((*q)[5].data[0], 0x84A2u);
  EXPECT_EQ((*q)[5].data[1], 0x200164u);
}

// ---------------------------------------------------------------- writer

class SearchUpdatesTest : public ::testing::TestWithParam<ndb::FileFormat> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pstkit-sud-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "sud.pst").string();
    NewStoreOptions o;
    o.format = GetParam();
    auto w = StoreWriter::create(path_, o);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    writer_ = std::move(*w);
    top_ = writer_->ipm_subtree();
  }
  void TearDown() override {
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  void commit() {
    Status s = writer_->commit();
    ASSERT_TRUE(s.is_ok()) << s.message();
  }

  // The committed queue, through a fresh reader.
  std::vector<Sud> queue() {
    auto db = ndb::Database::open(path_);
    EXPECT_TRUE(db.is_ok()) << db.status().message();
    if (!db.is_ok()) return {};
    auto q = read_sud_queue(**db);
    EXPECT_TRUE(q.is_ok()) << q.status().message();
    return q.is_ok() ? *q : std::vector<Sud>{};
  }

  ndb::NodeEntry queue_entry() {
    auto e = writer_->db().find_node(ndb::kNidSearchManagementQueue);
    EXPECT_TRUE(e.is_ok()) << e.status().message();
    return e.is_ok() ? *e : ndb::NodeEntry{};
  }

  // Commits, then expects the queue to have grown by exactly `added`.
  void expect_appended(const std::vector<Sud>& added) {
    commit();
    std::vector<Sud> want = seen_;
    want.insert(want.end(), added.begin(), added.end());
    const std::vector<Sud> got = queue();
    EXPECT_EQ(got, want) << "got:\n" << describe(got) << "want:\n" << describe(want);
    seen_ = got;
  }

  void expect_clean() {
    auto report = check::check_file(path_);
    ASSERT_TRUE(report.is_ok()) << report.status().message();
    std::string findings;
    for (const auto& f : report->findings) findings += f.code + ": " + f.message + "\n";
    EXPECT_TRUE(report->clean()) << findings;
    EXPECT_EQ(report->warnings, 0u) << findings;
  }

  Nid folder(Nid parent, const std::string& name) {
    auto f = writer_->create_folder(parent, name);
    EXPECT_TRUE(f.is_ok()) << f.status().message();
    return f.is_ok() ? *f : 0;
  }
  Nid message(Nid in, const NewMessage& m) {
    auto n = writer_->create_message(in, m);
    EXPECT_TRUE(n.is_ok()) << n.status().message();
    return n.is_ok() ? *n : 0;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<StoreWriter> writer_;
  Nid top_ = 0;
  std::vector<Sud> seen_;
  static inline int counter_ = 0;
};

TEST_P(SearchUpdatesTest, NewStoreHasAnEmptyQueue) {
  EXPECT_TRUE(queue().empty());
  const ndb::NodeEntry e = queue_entry();
  EXPECT_EQ(e.data_bid, 0u);
  EXPECT_EQ(e.parent_nid, 0u);
}

TEST_P(SearchUpdatesTest, FolderOperations) {
  // MS-PST 2.6.3.2.1 / 2.6.3.2.3: SUDT_FLD_ADD {parent, folder}.
  const Nid a = folder(top_, "A");
  const Nid b = folder(a, "B");
  expect_appended({folder_sud(SudType::kFldAdd, top_, a), folder_sud(SudType::kFldAdd, a, b)});
  // MS-PST 2.6.3.2.2: SUDT_FLD_MOD {folder}, SUDF_NAME_CHANGED for a new name.
  ASSERT_TRUE(writer_->rename_folder(b, "B2").is_ok());
  expect_appended({object_sud(SudType::kFldMod, b, kSudfNameChanged)});
  // MS-PST 2.6.3.2.4: SUDT_FLD_MOV {new parent, folder}; a move to the
  // same parent changes nothing and queues nothing.
  ASSERT_TRUE(writer_->move_folder(b, top_).is_ok());
  ASSERT_TRUE(writer_->move_folder(b, top_).is_ok());
  expect_appended({folder_sud(SudType::kFldMov, top_, b)});
  // MS-PST 2.6.3.2.9: SUDT_FLD_DEL {folder}.
  ASSERT_TRUE(writer_->delete_folder(b).is_ok());
  expect_appended({object_sud(SudType::kFldDel, b)});
  expect_clean();
}

TEST_P(SearchUpdatesTest, MessageOperations) {
  const Nid f = folder(top_, "Inbox");
  const Nid g = folder(top_, "Other");
  const Nid m = message(f, note("one"));
  NewMessage fai = note("settings");
  fai.associated = true;
  const Nid assoc = message(f, fai);
  // MS-PST 2.6.3.2.6: SUDT_MSG_ADD {parent, message}, FAI messages too.
  expect_appended({folder_sud(SudType::kFldAdd, top_, f), folder_sud(SudType::kFldAdd, top_, g),
                   message_sud(SudType::kMsgAdd, f, m), message_sud(SudType::kMsgAdd, f, assoc)});

  // MS-PST 2.6.3.3.2: SUDT_MSG_MOD, and SUDT_MSG_ROW_MOD as the subject is
  // a contents table column.
  ASSERT_TRUE(writer_->set_message_properties(m, {text(prop::kSubject, "one, revised")}).is_ok());
  expect_appended({message_sud(SudType::kMsgMod, f, m), message_sud(SudType::kMsgRowMod, f, m)});
  // The body is not a column: SUDT_MSG_MOD alone.
  ASSERT_TRUE(writer_->remove_message_properties(m, {prop::kBody}).is_ok());
  expect_appended({message_sud(SudType::kMsgMod, f, m)});

  // MS-PST 2.6.3.3.5 / 2.6.3.3.8: attachments modify the message; its
  // flags (mfHasAttach, a column) change with the first and the last.
  auto att = writer_->add_attachment(m, attachment("a.bin"));
  ASSERT_TRUE(att.is_ok()) << att.status().message();
  expect_appended({message_sud(SudType::kMsgMod, f, m), message_sud(SudType::kMsgRowMod, f, m)});
  ASSERT_TRUE(writer_->delete_attachment(m, *att).is_ok());
  expect_appended({message_sud(SudType::kMsgMod, f, m), message_sud(SudType::kMsgRowMod, f, m)});

  // MS-PST 2.6.3.2.7: a copy is an added message.
  auto copy = writer_->copy_message(m, g);
  ASSERT_TRUE(copy.is_ok()) << copy.status().message();
  expect_appended({message_sud(SudType::kMsgAdd, g, *copy)});
  // MS-PST 2.6.3.2.8: SUDT_MSG_MOV {new parent, message, old parent}.
  ASSERT_TRUE(writer_->move_message(m, g).is_ok());
  ASSERT_TRUE(writer_->move_message(m, g).is_ok());  // already there: nothing
  expect_appended({message_move_sud(g, m, f)});
  // MS-PST 2.6.3.2.10: SUDT_MSG_DEL {parent, message}.
  ASSERT_TRUE(writer_->delete_message(*copy).is_ok());
  expect_appended({message_sud(SudType::kMsgDel, g, *copy)});
  expect_clean();
}

// MS-PST 2.6.3.2.9: a folder's contents and subfolders are deleted before
// it, each with its own SUD.
TEST_P(SearchUpdatesTest, DeletingAFolderDeletesItsContentsFirst) {
  const Nid f = folder(top_, "F");
  const Nid sub = folder(f, "Sub");
  const Nid m1 = message(f, note("m1"));
  const Nid m2 = message(sub, note("m2"));
  NewMessage fai = note("view");
  fai.associated = true;
  const Nid m3 = message(f, fai);
  commit();
  seen_ = queue();
  ASSERT_EQ(seen_.size(), 5u) << describe(seen_);
  ASSERT_TRUE(writer_->delete_folder(f).is_ok());
  expect_appended({message_sud(SudType::kMsgDel, sub, m2), object_sud(SudType::kFldDel, sub),
                   message_sud(SudType::kMsgDel, f, m1), message_sud(SudType::kMsgDel, f, m3),
                   object_sud(SudType::kFldDel, f)});
  expect_clean();
}

TEST_P(SearchUpdatesTest, RollbackDropsPendingUpdates) {
  const Nid f = folder(top_, "Kept");
  expect_appended({folder_sud(SudType::kFldAdd, top_, f)});
  const Nid g = folder(top_, "Dropped");
  ASSERT_NE(g, 0u);
  ASSERT_TRUE(writer_->rollback().is_ok());
  EXPECT_FALSE(writer_->has_changes());
  ASSERT_TRUE(writer_->rename_folder(f, "Kept too").is_ok());
  expect_appended({object_sud(SudType::kFldMod, f, kSudfNameChanged)});
}

// store() flushes staged changes mid-transaction; the SUDs flushed then and
// those queued after it land in order.
TEST_P(SearchUpdatesTest, FlushesWithinOneTransactionKeepTheOrder) {
  const Nid f = folder(top_, "F");
  (void)writer_->store();
  const Nid m = message(f, note("x"));
  (void)writer_->store();
  ASSERT_TRUE(writer_->delete_message(m).is_ok());
  expect_appended({folder_sud(SudType::kFldAdd, top_, f), message_sud(SudType::kMsgAdd, f, m),
                   message_sud(SudType::kMsgDel, f, m)});
  expect_clean();
}

// A queue longer than a data block, appended to over several commits
// (block sharing itself is tested with the NDB writer).
TEST_P(SearchUpdatesTest, LongQueuesSpanBlocks) {
  const Nid f = folder(top_, "F");
  commit();
  seen_ = queue();
  // Each round adds 100 messages and a modification of each (3 SUDs per
  // message); four rounds make the queue several blocks long.
  std::vector<Nid> all;
  for (int round = 0; round < 4; ++round) {
    std::vector<Sud> added;
    for (int i = 0; i < 100; ++i) {
      const Nid m = message(f, note("m" + std::to_string(round) + "-" + std::to_string(i)));
      all.push_back(m);
      added.push_back(message_sud(SudType::kMsgAdd, f, m));
    }
    for (size_t i = all.size() - 100; i < all.size(); ++i) {
      ASSERT_TRUE(writer_->set_message_properties(all[i], {i32(prop::kImportance, 2)}).is_ok());
      added.push_back(message_sud(SudType::kMsgMod, f, all[i]));
      added.push_back(message_sud(SudType::kMsgRowMod, f, all[i]));
    }
    expect_appended(added);
  }
  auto node = writer_->db().open_node(ndb::kNidSearchManagementQueue);
  ASSERT_TRUE(node.is_ok());
  EXPECT_GT((*node)->block_count(), 2u);
  EXPECT_EQ((*node)->size(), seen_.size() * kSudSize);
  expect_clean();
}

// MS-PST 2.4.8.4.1 / 2.7.1: every PST has an SMQ; a file without one gets
// it with the first SUD.
TEST_P(SearchUpdatesTest, MissingQueueIsCreated) {
  ASSERT_TRUE(writer_->db().delete_node(ndb::kNidSearchManagementQueue).is_ok());
  commit();
  ASSERT_FALSE(writer_->db().find_node(ndb::kNidSearchManagementQueue).is_ok());
  const Nid f = folder(top_, "F");
  expect_appended({folder_sud(SudType::kFldAdd, top_, f)});
  EXPECT_EQ(queue_entry().parent_nid, 0u);
  expect_clean();
}

// MS-PST 2.4.8.3: nidParent is the head; a reader that took items leaves it
// past them, and the next SUDs follow the unread ones. A queue read to the
// end starts over at 0.
TEST_P(SearchUpdatesTest, HeadIsKeptAndADrainedQueueRestarts) {
  const Nid a = folder(top_, "A");
  const Nid b = folder(top_, "B");
  commit();
  // Outlook took the first item.
  ndb::NodeEntry e = queue_entry();
  e.parent_nid = kSudSize;
  ASSERT_TRUE(writer_->db().put_node(e).is_ok());
  commit();
  seen_ = {folder_sud(SudType::kFldAdd, top_, b)};
  ASSERT_EQ(queue(), seen_);
  ASSERT_TRUE(writer_->rename_folder(a, "A2").is_ok());
  expect_appended({object_sud(SudType::kFldMod, a, kSudfNameChanged)});
  EXPECT_EQ(queue_entry().parent_nid, kSudSize);
  // Outlook took everything but did not reset the queue.
  auto node = writer_->db().open_node(ndb::kNidSearchManagementQueue);
  ASSERT_TRUE(node.is_ok());
  e = queue_entry();
  e.parent_nid = uint32_t((*node)->size());
  ASSERT_TRUE(writer_->db().put_node(e).is_ok());
  commit();
  seen_.clear();
  ASSERT_TRUE(queue().empty());
  ASSERT_TRUE(writer_->rename_folder(b, "B2").is_ok());
  expect_appended({object_sud(SudType::kFldMod, b, kSudfNameChanged)});
  e = queue_entry();
  EXPECT_EQ(e.parent_nid, 0u);
  node = writer_->db().open_node(ndb::kNidSearchManagementQueue);
  ASSERT_TRUE(node.is_ok());
  EXPECT_EQ((*node)->size(), kSudSize);
  expect_clean();
}

// MS-PST 2.4.8.3: a queue that is not a whole number of SUDs MUST NOT be
// processed; the writer refuses to append to it (the transaction fails and
// the file keeps its last commit) and check reports it.
TEST_P(SearchUpdatesTest, MalformedQueueIsRefusedAndReported) {
  auto bid = writer_->db().write_data_tree({Bytes(30, 0)});
  ASSERT_TRUE(bid.is_ok());
  ASSERT_TRUE(writer_->db().put_node({ndb::kNidSearchManagementQueue, *bid, 0, 0}).is_ok());
  commit();
  auto report = check::check_file(path_);
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report->count("SEARCH_QUEUE"), 1u);
  EXPECT_FALSE(report->clean());

  const auto before = std::filesystem::file_size(path_);
  folder(top_, "F");
  Status s = writer_->commit();
  EXPECT_EQ(s.code(), Code::kCorrupt) << s.message();
  EXPECT_EQ(std::filesystem::file_size(path_), before);
  auto store = Store::open(path_);
  ASSERT_TRUE(store.is_ok());
  auto top = (*store)->open_folder(top_);
  ASSERT_TRUE(top.is_ok());
  auto subs = top->subfolders();
  ASSERT_TRUE(subs.is_ok());
  for (const auto& row : *subs) EXPECT_NE(row.props.get_string(prop::kDisplayName).value_or(""), "F");
}

TEST_P(SearchUpdatesTest, CheckReportsAHeadOffTheItems) {
  const Nid f = folder(top_, "F");
  ASSERT_NE(f, 0u);
  commit();
  ndb::NodeEntry e = queue_entry();
  e.parent_nid = 7;
  ASSERT_TRUE(writer_->db().put_node(e).is_ok());
  commit();
  auto report = check::check_file(path_);
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report->count("SEARCH_QUEUE"), 1u);
  e.parent_nid = 2 * kSudSize;  // past the single item
  ASSERT_TRUE(writer_->db().put_node(e).is_ok());
  commit();
  report = check::check_file(path_);
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report->count("SEARCH_QUEUE"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Formats, SearchUpdatesTest,
                         ::testing::Values(ndb::FileFormat::kUnicode, ndb::FileFormat::kAnsi),
                         [](const auto& p) { return p.param == ndb::FileFormat::kAnsi ? "Ansi" : "Unicode"; });

}  // namespace
}  // namespace pstkit
