// repair::fix_store (stage 2 of a rebuild): stores built with StoreWriter
// and damaged with the writer's low-level calls come out checking clean,
// with every surviving item reachable from the root (IPM subtree or Lost and
// Found) and untouched messages unchanged; intact stores get no change.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "messaging/node_writer.h"
#include "pstkit/check.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/messaging.h"
#include "pstkit/repair.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"
#include "test_bytes.h"

namespace pstkit::repair {
namespace {

namespace fs = std::filesystem;
using ltp::make_tag;
using ndb::Nid;

const std::string kCorpus = PSTKIT_SOURCE_DIR "/../shared/corpus/";

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

PropValue prop(uint16_t id, uint16_t type, Bytes data) { return PropValue{make_tag(id, type), std::move(data)}; }
PropValue text(uint16_t id, const std::string& s) { return prop(id, ltp::kPtypString, utf8_to_utf16le(s)); }
PropValue i32(uint16_t id, int32_t v) {
  Bytes b(4);
  store_le32(b.data(), uint32_t(v));
  return prop(id, ltp::kPtypInteger32, b);
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("pstkit_fix_store_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// What a fixture store holds.
struct Sample {
  Nid ipm = 0;
  Nid inbox = 0, sub = 0, other = 0;
  std::vector<Nid> inbox_messages;  // the second one has an attachment
  Nid sub_message = 0, other_message = 0, fai = 0;
};

NewMessage message(const std::string& subject, bool read, bool attachment) {
  NewMessage m;
  // Complete as Outlook writes a message (KB 287497's checks find nothing):
  // a search key and the display-to string of its recipients.
  m.properties = {text(prop::kMessageClass, "IPM.Note"), text(0x0037, subject),
                  i32(prop::kMessageFlags, read ? 1 : 0), text(0x1000, "Body of " + subject),
                  prop(0x300B, ltp::kPtypBinary, test::pattern(16, uint32_t(subject.size()))),
                  text(0x0E04, "Ann")};
  m.recipients = {{text(prop::kDisplayName, "Ann"), i32(prop::kRecipientType, 1),
                   text(0x3003, "ann@example.com")}};
  if (attachment) {
    NewAttachment a;
    a.properties = {text(0x3707, "a.bin")};
    a.data = test::pattern(5000, 7);
    m.attachments.push_back(std::move(a));
  }
  return m;
}

Sample make_sample(const std::string& path, ndb::FileFormat format = ndb::FileFormat::kUnicode) {
  Sample s;
  NewStoreOptions options;
  options.format = format;
  auto w = StoreWriter::create(path, options);
  EXPECT_TRUE(w.is_ok()) << w.status().message();
  StoreWriter& sw = **w;
  s.ipm = sw.ipm_subtree();
  s.inbox = *sw.create_folder(s.ipm, "Inbox");
  s.sub = *sw.create_folder(s.inbox, "Sub");
  s.other = *sw.create_folder(s.ipm, "Other");
  for (int i = 0; i < 3; ++i) s.inbox_messages.push_back(*sw.create_message(s.inbox, message("m" + std::to_string(i), i == 0, i == 1)));
  s.sub_message = *sw.create_message(s.sub, message("in sub", false, false));
  s.other_message = *sw.create_message(s.other, message("in other", true, true));
  NewMessage fai = message("fai", true, false);
  fai.associated = true;
  s.fai = *sw.create_message(s.inbox, fai);
  EXPECT_TRUE(sw.commit().is_ok());
  return s;
}

std::string describe(const check::Report& r) {
  std::ostringstream out;
  for (const auto& f : r.findings) {
    if (f.severity == check::Severity::kError) out << "  " << f.code << " id=" << hex(f.id) << ": " << f.message << "\n";
  }
  return out.str();
}

struct FixResult {
  Status status;
  std::vector<Change> changes;
  RebuildReport report;
  bool changes_after = false;  // has_changes() once fix_store returned
  size_t count(const std::string& code) const {
    return size_t(std::count_if(changes.begin(), changes.end(), [&](const Change& c) { return c.code == code; }));
  }
  std::string list() const {
    std::string out;
    for (const auto& c : changes) out += "  " + c.code + " " + c.structure + " " + hex(c.id) + ": " + c.action + "\n";
    return out;
  }
};

FixResult fix(const std::string& path) {
  FixResult r;
  auto db = ndb::WritableDatabase::open(path);
  if (!db) {
    r.status = db.status();
    return r;
  }
  RebuildOptions options;
  options.on_change = [&](const Change& c) { r.changes.push_back(c); };
  r.status = fix_store(**db, options, &r.report);
  r.changes_after = (*db)->has_changes();
  return r;
}

// Damage made through the NDB writer, committed.
void damage(const std::string& path, const std::function<void(ndb::WritableDatabase&)>& f) {
  auto db = ndb::WritableDatabase::open(path);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  f(**db);
  ASSERT_TRUE((*db)->commit().is_ok());
}

void expect_clean(const std::string& path) {
  auto r = check::check_file(path);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->errors, 0u) << describe(*r);
}

// Folders and messages reachable from the root through hierarchy, contents
// and FAI tables, with the folder each is listed in.
std::map<Nid, Nid> reachable(const Store& store) {
  std::map<Nid, Nid> seen;
  std::vector<Nid> todo{ndb::kNidRootFolder};
  seen[ndb::kNidRootFolder] = ndb::kNidRootFolder;
  while (!todo.empty()) {
    const Nid f = todo.back();
    todo.pop_back();
    auto folder = store.open_folder(f);
    if (!folder) continue;
    for (int t = 0; t < 3; ++t) {
      auto rows = t == 0 ? folder->subfolders() : t == 1 ? folder->contents() : folder->associated_contents();
      if (!rows) continue;
      for (const auto& row : *rows) {
        if (seen.count(row.nid)) continue;
        seen[row.nid] = f;
        if (t == 0) todo.push_back(row.nid);
      }
    }
  }
  return seen;
}

// Every folder and message node is reachable from the root.
void expect_all_reachable(const std::string& path) {
  auto store = Store::open(path);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  const auto seen = reachable(**store);
  ASSERT_TRUE((*store)->db().for_each_node([&](const ndb::NodeEntry& e) {
    const uint8_t t = ndb::nid_type(e.nid);
    if (t == ndb::kNidTypeNormalFolder || t == ndb::kNidTypeNormalMessage || t == ndb::kNidTypeAssocMessage) {
      EXPECT_TRUE(seen.count(e.nid)) << hex(e.nid) << " is not reachable from the root";
    }
    return true;
  }).is_ok());
}

// A message's content as a comparable string: properties, recipients,
// attachment rows and data.
std::string content(const Store& store, Nid nid) {
  auto m = store.open_message(nid);
  if (!m) return "unreadable: " + m.status().message();
  std::ostringstream out;
  for (const auto& p : m->properties().values()) out << hex(p.tag) << "=" << hex(p.data.size()) << ":" << std::string(p.data.begin(), p.data.end()) << ";";
  auto recipients = m->recipients();
  if (recipients) {
    for (const auto& r : *recipients) out << "R:" << r.get_string(prop::kDisplayName).value_or("") << ";";
  }
  auto atts = m->attachment_nids();
  if (atts) {
    for (Nid a : *atts) {
      auto att = m->open_attachment(a);
      if (!att) continue;
      auto data = att->read_data();
      out << "A:" << att->filename() << ":" << (data ? data->size() : 0) << ";";
      if (data) out << std::string(data->begin(), data->end());
    }
  }
  return out.str();
}

std::map<Nid, std::string> contents(const std::string& path, const std::vector<Nid>& nids) {
  auto store = Store::open(path);
  EXPECT_TRUE(store.is_ok());
  std::map<Nid, std::string> out;
  if (!store) return out;
  for (Nid n : nids) out[n] = content(**store, n);
  return out;
}

std::vector<Nid> all_messages(const Sample& s) {
  std::vector<Nid> out = s.inbox_messages;
  out.push_back(s.sub_message);
  out.push_back(s.other_message);
  out.push_back(s.fai);
  return out;
}

Nid table_of(Nid folder, uint8_t type) { return ndb::make_nid(type, ndb::nid_index(folder)); }

std::string folder_name(const std::string& path, Nid nid) {
  auto store = Store::open(path);
  if (!store) return "";
  auto f = (*store)->open_folder(nid);
  return f ? f->name() : "";
}

// ---------------------------------------------------------------- intact stores

TEST(FixStore, IntactWrittenStoreGetsNoChange) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  make_sample(path);
  const Bytes before = [&] {
    std::ifstream in(path, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_TRUE(r.changes.empty()) << r.list();
  EXPECT_FALSE(r.changes_after);
  EXPECT_EQ(r.report.changes, 0u);
  std::ifstream in(path, std::ios::binary);
  EXPECT_EQ(before, Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

class IntactCorpus : public ::testing::TestWithParam<const char*> {};

TEST_P(IntactCorpus, GetsNoChange) {
  const std::string src = kCorpus + GetParam();
  if (!fs::exists(src)) {
    if (in_ci()) FAIL() << "missing corpus file " << GetParam();
    GTEST_SKIP() << "corpus file not present";
  }
  TempDir dir;
  const std::string path = dir.file("c.pst");
  fs::copy_file(src, path);
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_TRUE(r.changes.empty()) << r.list();
  EXPECT_FALSE(r.changes_after);
  EXPECT_EQ(r.report.changes, 0u);
  // The store was looked at: its folders (and messages, where it has any) counted.
  EXPECT_GE(r.report.folders, 4u);
  std::printf("%s: %llu folders, %llu messages\n", GetParam(), (unsigned long long)r.report.folders,
              (unsigned long long)r.report.messages);
}

INSTANTIATE_TEST_SUITE_P(Corpus, IntactCorpus,
                         ::testing::Values("aspose-net/Outlook.pst", "aspose-java/MapiContactToPST1.pst",
                                           "pstsdk/sample1.pst", "pstsdk/sample2.pst",
                                           "hughbe-pstreader_hughbe/backup_with_rules.pst",
                                           "hughbe-pstreader_aranetic-process-pst/four_nesting_levels.pst",
                                           "java-libpst/dist-list.pst", "outlook-pst-rs/Empty.pst",
                                           "go-pst/32-bit.pst"));

// ---------------------------------------------------------------- damage

TEST(FixStore, LostFolderIsRecreatedInLostAndFound) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const auto before = contents(path, all_messages(s));
  damage(path, [&](ndb::WritableDatabase& db) { ASSERT_TRUE(db.delete_node(s.inbox).is_ok()); });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("FOLDER_RECREATED"), 2u) << r.list();  // Lost and Found, then the Inbox
  EXPECT_EQ(r.report.folders_recreated, 1u);
  expect_clean(path);
  expect_all_reachable(path);
  // Its name comes from the IPM subtree's hierarchy table, which still lists it.
  EXPECT_EQ(folder_name(path, s.inbox), "Inbox");
  auto store = Store::open(path);
  ASSERT_TRUE(store.is_ok());
  const auto seen = reachable(**store);
  const Nid lf = seen.at(s.inbox);
  EXPECT_EQ(folder_name(path, lf), "Lost and Found");
  EXPECT_EQ(seen.at(lf), s.ipm);
  EXPECT_EQ(seen.at(s.sub), s.inbox);
  for (Nid m : s.inbox_messages) EXPECT_EQ(seen.at(m), s.inbox);
  EXPECT_EQ(before, contents(path, all_messages(s)));
  auto f = (*store)->open_folder(s.inbox);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->content_count(), 3);
  EXPECT_EQ(f->unread_count(), 2);
  EXPECT_TRUE(f->has_subfolders());
  // A second pass finds nothing to do.
  FixResult again = fix(path);
  ASSERT_TRUE(again.status.is_ok());
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

TEST(FixStore, ContentsTableRowsComeBack) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const auto before = contents(path, all_messages(s));
  // The Inbox's contents table loses its rows; the hierarchy table of the
  // IPM subtree gains a row for a folder that does not exist.
  damage(path, [&](ndb::WritableDatabase& db) {
    auto tmpl = db.open_node(ndb::kNidContentsTableTemplate);
    ASSERT_TRUE(tmpl.is_ok());
    auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(*tmpl)));
    ASSERT_TRUE(tc.is_ok());
    auto empty = ltp::build_empty_table(db.header().format, ltp::template_columns(*tc));
    ASSERT_TRUE(empty.is_ok());
    ASSERT_TRUE(put_built_node(db, table_of(s.inbox, ndb::kNidTypeContentsTable), 0, *empty).is_ok());
  });
  {
    auto r = check::check_file(path);
    ASSERT_TRUE(r.is_ok());
    EXPECT_GT(r->warnings + r->errors, 0u);  // FOLDER_UNLISTED
  }
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("TABLE_REBUILT"), 1u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  EXPECT_EQ(before, contents(path, all_messages(s)));
  auto store = Store::open(path);
  auto f = (*store)->open_folder(s.inbox);
  auto rows = f->contents();
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 3u);
  // Rows carry the messages' properties as the writer lays them out.
  EXPECT_TRUE((*rows)[0].props.get_string(0x0037).has_value());
}

TEST(FixStore, RowsForMissingObjectsGo) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  damage(path, [&](ndb::WritableDatabase& db) {
    // A message and a folder vanish from the NBT; their rows stay.
    ASSERT_TRUE(db.delete_node(s.inbox_messages[2]).is_ok());
    for (uint8_t t : {ndb::kNidTypeHierarchyTable, ndb::kNidTypeContentsTable, ndb::kNidTypeAssocContentsTable}) {
      ASSERT_TRUE(db.delete_node(table_of(s.other, t)).is_ok());
    }
    ASSERT_TRUE(db.delete_node(s.other_message).is_ok());
    ASSERT_TRUE(db.delete_node(s.other).is_ok());
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("TABLE_REBUILT"), 2u) << r.list();
  EXPECT_EQ(r.count("COUNTS_FIXED"), 1u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  auto store = Store::open(path);
  auto inbox = (*store)->open_folder(s.inbox);
  EXPECT_EQ(inbox->content_count(), 2);
  EXPECT_EQ(inbox->unread_count(), 1);
  auto subs = (*store)->open_folder(s.ipm)->subfolders();
  ASSERT_TRUE(subs.is_ok());
  for (const auto& row : *subs) EXPECT_NE(row.nid, s.other);
}

TEST(FixStore, LostIpmSubtreeIsRecreated) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const auto before = contents(path, all_messages(s));
  damage(path, [&](ndb::WritableDatabase& db) { ASSERT_TRUE(db.delete_node(s.ipm).is_ok()); });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("REQUIRED_CREATED"), 1u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  auto store = Store::open(path);
  ASSERT_TRUE(store.is_ok());
  EXPECT_EQ((*store)->ipm_subtree_nid(), s.ipm);
  const auto seen = reachable(**store);
  EXPECT_EQ(seen.at(s.inbox), s.ipm);
  EXPECT_EQ(seen.at(s.other), s.ipm);
  EXPECT_EQ(before, contents(path, all_messages(s)));
}

TEST(FixStore, MissingRequiredNodesAreCreatedKeepingTheRecordKey) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  Bytes record_key;
  {
    auto store = Store::open(path);
    record_key = *(*store)->properties().get_binary(prop::kRecordKey);
  }
  damage(path, [&](ndb::WritableDatabase& db) {
    for (Nid n : {ndb::kNidRootFolder, table_of(ndb::kNidRootFolder, ndb::kNidTypeHierarchyTable),
                  ndb::kNidRecipientTableTemplate, ndb::kNidSearchManagementQueue}) {
      ASSERT_TRUE(db.delete_node(n).is_ok()) << hex(n);
    }
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("REQUIRED_CREATED"), 4u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  auto store = Store::open(path);
  ASSERT_TRUE(store.is_ok());
  EXPECT_EQ(*(*store)->properties().get_binary(prop::kRecordKey), record_key);
  EXPECT_EQ((*store)->ipm_subtree_nid(), s.ipm);
}

TEST(FixStore, UnreadableMessageIsLeftOutAndFolderFixed) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  std::vector<Nid> kept = all_messages(s);
  kept.erase(kept.begin());
  const auto before = contents(path, kept);
  damage(path, [&](ndb::WritableDatabase& db) {
    auto e = db.find_node(s.inbox_messages[0]);
    ASSERT_TRUE(e.is_ok());
    auto bid = db.write_block(test::pattern(300, 3), false);
    ASSERT_TRUE(bid.is_ok());
    e->data_bid = *bid;
    ASSERT_TRUE(db.put_node(*e).is_ok());
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("NODE_LOST"), 1u) << r.list();
  EXPECT_EQ(r.count("COUNTS_FIXED"), 1u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  EXPECT_EQ(before, contents(path, kept));
  auto store = Store::open(path);
  auto inbox = (*store)->open_folder(s.inbox);
  EXPECT_EQ(inbox->content_count(), 2);
  EXPECT_EQ(inbox->unread_count(), 2);
}

TEST(FixStore, UnreadableFolderPcIsRewritten) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  damage(path, [&](ndb::WritableDatabase& db) {
    auto e = db.find_node(s.other);
    ASSERT_TRUE(e.is_ok());
    auto bid = db.write_block(test::pattern(200, 9), false);
    ASSERT_TRUE(bid.is_ok());
    e->data_bid = *bid;
    ASSERT_TRUE(db.put_node(*e).is_ok());
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("HEAP_REBUILT"), 1u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  auto store = Store::open(path);
  auto f = (*store)->open_folder(s.other);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->name(), "Folder " + hex(s.other));
  EXPECT_EQ(f->content_count(), 1);
}

TEST(FixStore, OrphansAndCyclesGoToLostAndFound) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const auto before = contents(path, all_messages(s));
  damage(path, [&](ndb::WritableDatabase& db) {
    // A message whose parent is a message; Inbox and Sub parents of each other.
    auto m = db.find_node(s.other_message);
    m->parent_nid = s.inbox_messages[0];
    ASSERT_TRUE(db.put_node(*m).is_ok());
    auto inbox = db.find_node(s.inbox);
    inbox->parent_nid = s.sub;
    ASSERT_TRUE(db.put_node(*inbox).is_ok());
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("ORPHAN_MOVED"), 2u) << r.list();
  EXPECT_EQ(r.report.lost_and_found, 2u);
  expect_clean(path);
  expect_all_reachable(path);
  EXPECT_EQ(before, contents(path, all_messages(s)));
  auto store = Store::open(path);
  const auto seen = reachable(**store);
  const Nid lf = seen.at(s.other_message);
  EXPECT_EQ(folder_name(path, lf), "Lost and Found");
  EXPECT_EQ(seen.at(s.sub), lf);  // the folder that closed the cycle
  EXPECT_EQ(seen.at(s.inbox), s.sub);
}

TEST(FixStore, WrongCountsAreRecomputed) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  {
    auto w = StoreWriter::open(path);
    ASSERT_TRUE(w.is_ok());
    // Raw PC edits through the NDB layer: counts the writer would not write.
    auto& db = (*w)->db();
    auto node = db.open_node(s.inbox);
    auto pc = ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)));
    auto b = ltp::PcBuilder::from_existing(*pc);
    ASSERT_TRUE(b->set(i32(prop::kContentCount, 7)).is_ok());
    ASSERT_TRUE(b->set(i32(prop::kContentUnread, 5)).is_ok());
    auto built = b->build();
    ASSERT_TRUE(put_built_node(db, s.inbox, s.ipm, *built).is_ok());
    ASSERT_TRUE(db.commit().is_ok());
  }
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("COUNTS_FIXED"), 1u) << r.list();
  // The Inbox's row in the IPM subtree's hierarchy table follows.
  EXPECT_EQ(r.count("TABLE_REBUILT"), 1u) << r.list();
  expect_clean(path);
  auto store = Store::open(path);
  EXPECT_EQ((*store)->open_folder(s.inbox)->content_count(), 3);
  EXPECT_EQ((*store)->open_folder(s.inbox)->unread_count(), 2);
  auto rows = (*store)->open_folder(s.ipm)->subfolders();
  for (const auto& row : *rows) {
    if (row.nid == s.inbox) {
      EXPECT_EQ(row.props.get_i32(prop::kContentCount), 3);
    }
  }
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

// Message PCs whose BTH keys are out of order (a third-party writer's):
// rebuilt sorted, with the same properties.
TEST(FixStore, UnsortedPcBthIsRebuiltWithTheSameContent) {
  const std::string src = kCorpus + "aspose-net/Test_part1.pst";
  if (!fs::exists(src)) {
    if (in_ci()) FAIL() << "missing corpus file";
    GTEST_SKIP() << "corpus file not present";
  }
  TempDir dir;
  const std::string path = dir.file("t.pst");
  fs::copy_file(src, path);
  std::vector<Nid> messages;
  {
    auto db = ndb::Database::open(path);
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
      if (ndb::nid_type(e.nid) == ndb::kNidTypeNormalMessage) messages.push_back(e.nid);
      return true;
    }).is_ok());
  }
  const auto before = contents(path, messages);
  {
    auto r = check::check_file(path);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->count("BTH"), 12u);
  }
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("HEAP_REBUILT"), 12u) << r.list();
  // The file's Deleted Items has a subfolder but PidTagSubfolders false;
  // its row in the IPM subtree's hierarchy table follows. Contents table
  // rows stay: the messages' properties did not change.
  EXPECT_EQ(r.count("COUNTS_FIXED"), 1u) << r.list();
  EXPECT_EQ(r.count("TABLE_REBUILT"), 1u) << r.list();
  EXPECT_EQ(r.changes.size(), 14u) << r.list();
  expect_clean(path);
  EXPECT_EQ(before, contents(path, messages));
  FixResult again = fix(path);
  ASSERT_TRUE(again.status.is_ok());
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

// Replaces a message's subnode list (kept entries gain the reference the
// new subnode tree takes over).
void edit_subnodes(ndb::WritableDatabase& db, Nid nid, const std::function<void(std::vector<ndb::SubnodeEntry>&)>& f) {
  auto e = db.find_node(nid);
  ASSERT_TRUE(e.is_ok());
  auto node = db.open_node(nid);
  ASSERT_TRUE(node.is_ok());
  auto subs = (*node)->subnodes();
  ASSERT_TRUE(subs.is_ok());
  std::vector<ndb::SubnodeEntry> list = *subs;
  f(list);
  for (const auto& s : list) {
    if (s.data_bid) {
      ASSERT_TRUE(db.add_ref(s.data_bid).is_ok());
    }
    if (s.subnode_bid) {
      ASSERT_TRUE(db.add_ref(s.subnode_bid).is_ok());
    }
  }
  auto bid = db.write_subnode_tree(list);
  ASSERT_TRUE(bid.is_ok());
  e->subnode_bid = *bid;
  ASSERT_TRUE(db.put_node(*e).is_ok());
}

TEST(FixStore, DroppedAttachmentSubnodeFixesTableAndFlags) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const Nid m = s.inbox_messages[1];
  std::vector<Nid> others = all_messages(s);
  others.erase(std::find(others.begin(), others.end(), m));
  const auto before = contents(path, others);
  damage(path, [&](ndb::WritableDatabase& db) {
    edit_subnodes(db, m, [](std::vector<ndb::SubnodeEntry>& list) {
      list.erase(std::remove_if(list.begin(), list.end(),
                                [](const ndb::SubnodeEntry& e) { return ndb::nid_type(e.nid) == ndb::kNidTypeAttachment; }),
                 list.end());
    });
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("ATTACHMENTS_REBUILT"), 1u) << r.list();
  EXPECT_EQ(r.count("MESSAGE_FIXED"), 1u) << r.list();
  EXPECT_EQ(r.count("TABLE_REBUILT"), 1u) << r.list();  // the message's row in the Inbox contents table
  expect_clean(path);
  EXPECT_EQ(before, contents(path, others));
  auto store = Store::open(path);
  auto msg = (*store)->open_message(m);
  ASSERT_TRUE(msg.is_ok());
  EXPECT_TRUE(msg->attachment_nids()->empty());
  EXPECT_EQ(msg->properties().get_bool(prop::kHasAttachments), false);
  EXPECT_EQ(msg->properties().get_i32(prop::kMessageFlags).value_or(0) & 0x10, 0);
  EXPECT_EQ(msg->subject(), "m1");
  auto rows = (*store)->open_folder(s.inbox)->contents();
  for (const auto& row : *rows) {
    if (row.nid == m) {
      EXPECT_EQ(row.props.get_i32(prop::kMessageFlags).value_or(0) & 0x10, 0);
    }
  }
  FixResult again = fix(path);
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

TEST(FixStore, MissingMessageClassBecomesIpmNote) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  {
    auto w = StoreWriter::open(path);
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE((*w)->remove_message_properties(s.sub_message, {prop::kMessageClass}).is_ok());
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("MESSAGE_FIXED"), 1u) << r.list();
  expect_clean(path);
  auto store = Store::open(path);
  EXPECT_EQ((*store)->open_message(s.sub_message)->message_class(), "IPM.Note");
  auto rows = (*store)->open_folder(s.sub)->contents();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].props.get_string(prop::kMessageClass), "IPM.Note");
}

TEST(FixStore, DamagedRecipientTableIsRebuiltAndDisplayToFollows) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const Nid m = s.inbox_messages[0];
  damage(path, [&](ndb::WritableDatabase& db) {
    auto garbage = db.write_block(test::pattern(100, 11), false);
    ASSERT_TRUE(garbage.is_ok());
    edit_subnodes(db, m, [&](std::vector<ndb::SubnodeEntry>& list) {
      for (auto& e : list) {
        if (e.nid == ndb::kNidRecipientTableTemplate) {
          // Its old blocks stay referenced by the old tree only.
          e.data_bid = *garbage;
          e.subnode_bid = 0;
        }
      }
    });
    ASSERT_TRUE(db.release(*garbage).is_ok());  // the tree took its own reference
  });
  {
    auto r = check::check_file(path);
    ASSERT_TRUE(r.is_ok());
    EXPECT_GT(r->errors, 0u);
  }
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("RECIPIENTS_REBUILT"), 1u) << r.list();
  EXPECT_EQ(r.count("MESSAGE_FIXED"), 1u) << r.list();
  expect_clean(path);
  auto store = Store::open(path);
  auto msg = (*store)->open_message(m);
  ASSERT_TRUE(msg.is_ok());
  EXPECT_TRUE(msg->recipients()->empty());
  EXPECT_EQ(msg->properties().get_string(0x0E04), "");
  EXPECT_EQ(msg->subject(), "m0");
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

TEST(FixStore, DamagedNameMapKeepsEveryReadableNameAtItsId) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  make_sample(path);
  std::map<uint16_t, NamedProperty> before;
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.is_ok());
    before = (*store)->names().entries();
  }
  ASSERT_GT(before.size(), 8u);
  constexpr size_t kBroken = 5;
  damage(path, [&](ndb::WritableDatabase& db) {
    auto node = db.open_node(ndb::kNidNameToIdMap);
    ASSERT_TRUE(node.is_ok());
    auto pc = ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)));
    ASSERT_TRUE(pc.is_ok());
    auto entries = pc->get(0x0003);  // PidTagNameidStreamEntry
    ASSERT_TRUE(entries.is_ok());
    Bytes e = entries->data;
    // MS-PST 2.4.7.1: wGuid of record kBroken names a GUID past the stream.
    e[kBroken * 8 + 4] = 0xFE;
    e[kBroken * 8 + 5] = 0x7F;
    auto b = ltp::PcBuilder::from_existing(*pc);
    ASSERT_TRUE(b->set(PropValue{make_tag(0x0003, ltp::kPtypBinary), e}).is_ok());
    auto built = b->build();
    auto prev = db.open_node(ndb::kNidNameToIdMap);
    auto subs = (*prev)->subnodes();
    ASSERT_TRUE(put_built_node(db, ndb::kNidNameToIdMap, 0, *built, *subs).is_ok());
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("NAME_MAP_REBUILT"), 1u) << r.list();
  expect_clean(path);
  auto store = Store::open(path);
  ASSERT_TRUE(store.is_ok());
  const auto& after = (*store)->names().entries();
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [id, name] : before) {
    const NamedProperty& now = after.at(id);
    if (id == 0x8000 + kBroken) {
      EXPECT_EQ(now.name, "pstkit-lost-name-" + hex(id));
      continue;
    }
    EXPECT_EQ(now.guid, name.guid) << hex(id);
    EXPECT_EQ(now.is_string, name.is_string) << hex(id);
    EXPECT_EQ(now.lid, name.lid) << hex(id);
    EXPECT_EQ(now.name, name.name) << hex(id);
  }
  FixResult again = fix(path);
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

// A lost map cannot give its names back, but the ids the objects use must
// not take the names a new store's map has at those ids (a new-store map
// once did: a message's X-header value read as PidLidReminderTime).
TEST(FixStore, LostNameMapKeepsEveryUsedIdTakenByAPlaceholder) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  NamedProperty custom;
  custom.guid = Guid::from_fields(0x12345678, 0x9ABC, 0xDEF0, 0x0123456789ABCDEF);
  custom.is_string = true;
  custom.name = "x-test-header";
  uint16_t id = 0;
  {
    auto w = StoreWriter::open(path);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    NamedValue v{custom, ltp::kPtypString, utf8_to_utf16le("kept value")};
    ASSERT_TRUE((*w)->set_message_properties(s.inbox_messages[0], {}, {v}).is_ok());
    id = *(*w)->named_property_id(custom);
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  ASSERT_GE(id, 0x8000);
  damage(path, [&](ndb::WritableDatabase& db) { ASSERT_TRUE(db.delete_node(ndb::kNidNameToIdMap).is_ok()); });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("NAME_MAP_REBUILT"), 1u) << r.list();
  EXPECT_EQ(r.count("REQUIRED_CREATED"), 0u) << r.list();
  expect_clean(path);
  auto store = Store::open(path);
  ASSERT_TRUE(store.is_ok());
  const auto& names = (*store)->names().entries();
  ASSERT_EQ(names.size(), size_t(id - 0x8000 + 1));
  for (const auto& [i, name] : names) EXPECT_EQ(name.name, "pstkit-lost-name-" + hex(i)) << hex(i);
  auto m = (*store)->open_message(s.inbox_messages[0]);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->properties().get_string(id), "kept value");
  FixResult again = fix(path);
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

TEST(FixStore, UnusableSearchQueueAndSearchFolderAreReset) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  make_sample(path);
  constexpr Nid kSpamFolder = 0x2223;  // a new store's search folder
  const Nid table = ndb::make_nid(ndb::kNidTypeSearchContentsTable, ndb::nid_index(kSpamFolder));
  damage(path, [&](ndb::WritableDatabase& db) {
    // The queue gains 7 bytes: no longer a whole number of SUDs.
    auto q = db.find_node(ndb::kNidSearchManagementQueue);
    ASSERT_TRUE(q.is_ok());
    auto bid = db.append_data_tree(q->data_bid, Bytes(7, 0xAB));
    ASSERT_TRUE(bid.is_ok());
    q->data_bid = *bid;
    ASSERT_TRUE(db.put_node(*q).is_ok());
    // The search folder's contents table becomes garbage.
    auto t = db.find_node(table);
    ASSERT_TRUE(t.is_ok());
    auto garbage = db.write_block(test::pattern(150, 5), false);
    ASSERT_TRUE(garbage.is_ok());
    t->data_bid = *garbage;
    ASSERT_TRUE(db.put_node(*t).is_ok());
  });
  {
    auto r = check::check_file(path);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->count("SEARCH_QUEUE"), 1u);
    EXPECT_GT(r->errors, 1u);
  }
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("SEARCH_RESET"), 2u) << r.list();
  expect_clean(path);
  FixResult again = fix(path);
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

TEST(FixStore, DeletedItemsGoToRecoveredDeletedItems) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const auto before = contents(path, all_messages(s));
  auto db = ndb::WritableDatabase::open(path);
  ASSERT_TRUE(db.is_ok());
  RebuildOptions options;
  options.include_deleted = true;
  std::vector<Change> changes;
  options.on_change = [&](const Change& c) { changes.push_back(c); };
  RebuildReport report;
  // As stage 1 marks them: a message, and a folder with the message in it.
  report.deleted_items = {s.inbox_messages[2], s.other, s.other_message};
  ASSERT_TRUE(fix_store(**db, options, &report).is_ok());
  db->reset();
  EXPECT_EQ(std::count_if(changes.begin(), changes.end(), [](const Change& c) { return c.code == "DELETED_RECOVERED"; }),
            3);  // the folder created, the message and the folder moved
  expect_clean(path);
  expect_all_reachable(path);
  EXPECT_EQ(before, contents(path, all_messages(s)));
  auto store = Store::open(path);
  const auto seen = reachable(**store);
  const Nid rdi = seen.at(s.inbox_messages[2]);
  EXPECT_EQ(folder_name(path, rdi), "Recovered Deleted Items");
  EXPECT_EQ(seen.at(rdi), s.ipm);
  EXPECT_EQ(seen.at(s.other), rdi);
  EXPECT_EQ(seen.at(s.other_message), s.other);
  EXPECT_EQ((*store)->open_folder(s.inbox)->content_count(), 2);
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

// ANSI too; the lost folder is listed nowhere, so it is named after its id.
TEST(FixStore, UnlistedLostFolderIsNamedAfterItsIdInAnsiStores) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path, ndb::FileFormat::kAnsi);
  const auto before = contents(path, all_messages(s));
  damage(path, [&](ndb::WritableDatabase& db) {
    ASSERT_TRUE(db.delete_node(s.inbox).is_ok());
    auto tmpl = db.open_node(ndb::kNidHierarchyTableTemplate);
    ASSERT_TRUE(tmpl.is_ok());
    auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(*tmpl)),
                                      ltp::Options{ndb::FileFormat::kAnsi});
    ASSERT_TRUE(tc.is_ok());
    auto empty = ltp::build_empty_table(ndb::FileFormat::kAnsi, ltp::template_columns(*tc));
    ASSERT_TRUE(empty.is_ok());
    ASSERT_TRUE(put_built_node(db, table_of(s.ipm, ndb::kNidTypeHierarchyTable), 0, *empty).is_ok());
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("FOLDER_RECREATED"), 2u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  EXPECT_EQ(folder_name(path, s.inbox), "Folder " + hex(s.inbox));
  EXPECT_EQ(folder_name(path, s.other), "Other");
  EXPECT_EQ(before, contents(path, all_messages(s)));
  FixResult again = fix(path);
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

// An attachment whose data cannot be read is dropped; the message stays.
TEST(FixStore, AttachmentWithUnreadableDataIsDropped) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  const Nid m = s.inbox_messages[1];
  damage(path, [&](ndb::WritableDatabase& db) {
    auto node = db.open_node(m);
    ASSERT_TRUE(node.is_ok());
    auto subs = (*node)->subnodes();
    ASSERT_TRUE(subs.is_ok());
    Nid att = 0;
    for (const auto& e : *subs) {
      if (ndb::nid_type(e.nid) == ndb::kNidTypeAttachment) att = e.nid;
    }
    ASSERT_NE(att, 0u);
    auto anode = (*node)->subnode(att);
    ASSERT_TRUE(anode.is_ok());
    auto inner = (*anode)->subnodes();
    ASSERT_TRUE(inner.is_ok());
    ASSERT_FALSE(inner->empty());  // the 5000-byte data lives in a subnode
    // The data's subnode goes (as stage 1 leaves a subnode it could not
    // read): the value names a subnode that is not there.
    std::vector<ndb::SubnodeEntry> list(inner->begin() + 1, inner->end());
    for (const auto& e : list) {
      if (e.data_bid) {
        ASSERT_TRUE(db.add_ref(e.data_bid).is_ok());
      }
    }
    auto tree = db.write_subnode_tree(list);
    ASSERT_TRUE(tree.is_ok());
    edit_subnodes(db, m, [&](std::vector<ndb::SubnodeEntry>& l) {
      for (auto& e : l) {
        if (e.nid == att) e.subnode_bid = *tree;
      }
    });
    ASSERT_TRUE(db.release(*tree).is_ok());  // edit_subnodes took its own reference
  });
  {
    auto r = check::check_file(path);
    ASSERT_TRUE(r.is_ok());
    EXPECT_GT(r->errors, 0u);
  }
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("SUBNODE_LOST"), 1u) << r.list();
  EXPECT_EQ(r.count("ATTACHMENTS_REBUILT"), 1u) << r.list();
  expect_clean(path);
  expect_all_reachable(path);
  auto store = Store::open(path);
  auto msg = (*store)->open_message(m);
  ASSERT_TRUE(msg.is_ok());
  EXPECT_EQ(msg->subject(), "m1");
  EXPECT_TRUE(msg->attachment_nids()->empty());
  EXPECT_EQ(msg->properties().get_bool(prop::kHasAttachments), false);
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

// Random damage of the kinds stage 1 leaves (nodes gone, node data garbage,
// parent links wrong), many seeds: fix_store succeeds, the store checks
// clean, every item is reachable and a second pass changes nothing.
TEST(FixStore, RandomDamageAlwaysEndsClean) {
  TempDir dir;
  const std::string base = dir.file("base.pst");
  make_sample(base);
  std::vector<ndb::NodeEntry> nodes;
  {
    auto db = ndb::Database::open(base);
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE((*db)->for_each_node([&](const ndb::NodeEntry& e) {
      nodes.push_back(e);
      return true;
    }).is_ok());
  }
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string path = dir.file("d" + std::to_string(seed) + ".pst");
    fs::copy_file(base, path);
    uint32_t x = seed * 2654435761u;
    auto next = [&]() {
      x = x * 1664525u + 1013904223u;
      return x >> 8;
    };
    damage(path, [&](ndb::WritableDatabase& db) {
      const int hits = 1 + int(next() % 4);
      for (int h = 0; h < hits; ++h) {
        const ndb::NodeEntry& victim = nodes[next() % nodes.size()];
        auto e = db.find_node(victim.nid);
        if (!e) continue;
        switch (next() % 3) {
          case 0:
            ASSERT_TRUE(db.delete_node(victim.nid).is_ok());
            break;
          case 1: {
            auto bid = db.write_block(test::pattern(40 + next() % 300, seed), false);
            ASSERT_TRUE(bid.is_ok());
            e->data_bid = *bid;
            ASSERT_TRUE(db.put_node(*e).is_ok());
            break;
          }
          default:
            e->parent_nid = nodes[next() % nodes.size()].nid;
            ASSERT_TRUE(db.put_node(*e).is_ok());
            break;
        }
      }
    });
    FixResult r = fix(path);
    ASSERT_TRUE(r.status.is_ok()) << r.status.message();
    expect_clean(path);
    expect_all_reachable(path);
    FixResult again = fix(path);
    ASSERT_TRUE(again.status.is_ok()) << again.status.message();
    EXPECT_TRUE(again.changes.empty()) << "first pass:\n" << r.list() << "second pass:\n" << again.list();
  }
}

}  // namespace
}  // namespace pstkit::repair

namespace pstkit::repair {
namespace {

// An embedded message that cannot be read takes its attachment with it; the
// outer message and an intact embedded message stay.
TEST(FixStore, UnreadableEmbeddedMessageDropsItsAttachment) {
  TempDir dir;
  const std::string path = dir.file("a.pst");
  Sample s = make_sample(path);
  Nid outer = 0;
  {
    auto w = StoreWriter::open(path);
    ASSERT_TRUE(w.is_ok());
    NewMessage m = message("outer", true, false);
    for (int i = 0; i < 2; ++i) {
      NewAttachment a;
      a.properties = {text(0x3707, "inner" + std::to_string(i))};
      a.embedded = std::make_shared<NewMessage>(message("inner " + std::to_string(i), true, true));
      m.attachments.push_back(std::move(a));
    }
    outer = *(*w)->create_message(s.other, m);
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  // The first attachment loses its embedded message's node.
  damage(path, [&](ndb::WritableDatabase& db) {
    auto node = db.open_node(outer);
    ASSERT_TRUE(node.is_ok());
    auto subs = (*node)->subnodes();
    ASSERT_TRUE(subs.is_ok());
    Nid att = 0;
    for (const auto& e : *subs) {
      if (ndb::nid_type(e.nid) == ndb::kNidTypeAttachment && att == 0) att = e.nid;
    }
    ASSERT_NE(att, 0u);
    auto anode = (*node)->subnode(att);
    ASSERT_TRUE(anode.is_ok());
    auto inner = (*anode)->subnodes();
    ASSERT_TRUE(inner.is_ok());
    ASSERT_FALSE(inner->empty());
    std::vector<ndb::SubnodeEntry> list;  // the object subnode goes
    for (const auto& e : *inner) {
      if (ndb::nid_type(e.nid) == ndb::kNidTypeLtp) continue;
      list.push_back(e);
      if (e.data_bid) {
        ASSERT_TRUE(db.add_ref(e.data_bid).is_ok());
      }
      if (e.subnode_bid) {
        ASSERT_TRUE(db.add_ref(e.subnode_bid).is_ok());
      }
    }
    ASSERT_LT(list.size(), inner->size());
    auto tree = db.write_subnode_tree(list);
    ASSERT_TRUE(tree.is_ok());
    edit_subnodes(db, outer, [&](std::vector<ndb::SubnodeEntry>& l) {
      for (auto& e : l) {
        if (e.nid == att) e.subnode_bid = *tree;
      }
    });
    if (*tree) {
      ASSERT_TRUE(db.release(*tree).is_ok());
    }
  });
  FixResult r = fix(path);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.count("SUBNODE_LOST"), 1u) << r.list();
  EXPECT_EQ(r.count("ATTACHMENTS_REBUILT"), 1u) << r.list();
  expect_clean(path);
  auto store = Store::open(path);
  auto msg = (*store)->open_message(outer);
  ASSERT_TRUE(msg.is_ok());
  auto atts = msg->attachment_nids();
  ASSERT_TRUE(atts.is_ok());
  ASSERT_EQ(atts->size(), 1u);
  auto att = msg->open_attachment((*atts)[0]);
  ASSERT_TRUE(att.is_ok());
  auto embedded = att->embedded_message();
  ASSERT_TRUE(embedded.is_ok());
  EXPECT_EQ(embedded->subject(), "inner 1");
  FixResult again = fix(path);
  EXPECT_TRUE(again.changes.empty()) << again.list();
}

}  // namespace
}  // namespace pstkit::repair
