// Issue 9's object model gaps: table notifications (imapitable-advise.md,
// table_notification.md), CONVENIENT_DEPTH hierarchy tables
// (imapicontainer-gethierarchytable.md), receive folders kept in the file
// (imsgstore-setreceivefolder.md) and CopyTo of messages
// (imapiprop-copyto.md). Each test is named after the documented behaviour.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sys/wait.h>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "mapi/capi_convert.h"
#include "mapi/pst_store.h"
#include "mapi_test_ptr.h"
#include "pstkit/mapi/mapiguid.h"
#include "pstkit/mapi/mapitags.h"
#include "pstkit/mapi/mapiutil.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"

using pstkit::mapi::capi::open_pst_store;

namespace {

namespace fs = std::filesystem;

using mapi_test::Ptr;

using Bytes = std::vector<uint8_t>;

// `pstkit check FILE`: its exit status and output.
std::pair<int, std::string> check_file(const std::string& path) {
  std::string out;
  FILE* f = ::popen((std::string(PSTKIT_CLI_PATH) + " check '" + path + "' 2>&1").c_str(), "r");
  if (f == nullptr) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int status = ::pclose(f);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

Bytes bin_of(const SPropValue& v) { return Bytes(v.Value.bin.lpb, v.Value.bin.lpb + v.Value.bin.cb); }

Bytes prop_bytes(LPMAPIPROP obj, ULONG tag) {
  LPSPropValue v = nullptr;
  if (FAILED(HrGetOneProp(obj, tag, &v))) return {};
  Bytes out = bin_of(*v);
  MAPIFreeBuffer(v);
  return out;
}

// A store with "Inbox" under the IPM subtree holding one message "Hello".
std::string make_store() {
  static int counter = 0;
  std::string path = ::testing::TempDir() + "mapi_object_model_" + std::to_string(::getpid()) + "_" +
                     std::to_string(counter++) + ".pst";
  auto w = pstkit::StoreWriter::create(path, pstkit::NewStoreOptions{});
  EXPECT_TRUE(w) << w.status().message();
  auto inbox = (*w)->create_folder((*w)->ipm_subtree(), "Inbox");
  EXPECT_TRUE(inbox);
  pstkit::NewMessage m;
  m.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kSubject, "Hello"));
  m.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kMessageClass, "IPM.Note"));
  m.recipients.push_back({pstkit::ltp::string_value(pstkit::prop::kDisplayName, "Ann"),
                          pstkit::ltp::string_value(pstkit::prop::kEmailAddress, "ann@example.com"),
                          pstkit::ltp::string_value(pstkit::prop::kAddressType, "SMTP"),
                          pstkit::ltp::int32_value(pstkit::prop::kRecipientType, 1)});
  pstkit::NewAttachment a;
  a.properties.push_back(pstkit::ltp::int32_value(pstkit::prop::kAttachMethod, 1));
  a.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kAttachLongFilename, "data.bin"));
  a.data.assign(300, 0x5A);
  m.attachments.push_back(std::move(a));
  EXPECT_TRUE((*w)->create_message(*inbox, m));
  EXPECT_TRUE((*w)->commit().is_ok());
  return path;
}

class MapiGaps : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
    path_ = make_store();
    ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store_.out()), S_OK);
    LPSPropValue v = nullptr;
    ASSERT_EQ(HrGetOneProp(store_.p, PR_IPM_SUBTREE_ENTRYID, &v), S_OK);
    ULONG type = 0;
    ASSERT_EQ(store_->OpenEntry(v->Value.bin.cb, reinterpret_cast<LPENTRYID>(v->Value.bin.lpb), nullptr,
                                MAPI_MODIFY, &type, subtree_.unknown()),
              S_OK);
    MAPIFreeBuffer(v);
    ASSERT_EQ(subtree_->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Inbox", nullptr, nullptr, OPEN_IF_EXISTS,
                                     inbox_.out()),
              S_OK);
  }
  void TearDown() override {
    inbox_.reset();
    subtree_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove(path_, ec);
    fs::remove(path_ + "-journal", ec);
    MAPIUninitialize();
  }
  // A new message in `folder` with the subject, saved; its entry ID.
  Bytes create_message(LPMAPIFOLDER folder, const char* subject) {
    Ptr<IMessage> m;
    EXPECT_EQ(folder->CreateMessage(nullptr, 0, m.out()), S_OK);
    SPropValue v{};
    v.ulPropTag = PR_SUBJECT_A;
    v.Value.lpszA = const_cast<char*>(subject);
    EXPECT_EQ(m->SetProps(1, &v, nullptr), S_OK);
    EXPECT_EQ(m->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
    return prop_bytes(m.p, PR_ENTRYID);
  }
  HRESULT open(const Bytes& id, ULONG flags, LPUNKNOWN* out) {
    ULONG type = 0;
    return store_->OpenEntry(ULONG(id.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(id.data())),
                             nullptr, flags, &type, out);
  }
  std::string path_;
  Ptr<IMsgStore> store_;
  Ptr<IMAPIFolder> subtree_, inbox_;
};

// Records the table notifications a sink receives.
struct TableRecorder {
  struct Event {
    ULONG type = 0;
    Bytes index;
    ULONG prior_tag = 0;
    Bytes prior;
    std::vector<ULONG> row;  // the tags; the values copied below (the row is the provider's)
    std::vector<Bytes> binaries;
    std::vector<std::string> strings;
    std::vector<LONG> longs;
  };
  std::vector<Event> events;
  static LONG STDAPICALLTYPE callback(LPVOID context, ULONG count, LPNOTIFICATION notifications) {
    auto* self = static_cast<TableRecorder*>(context);
    for (ULONG i = 0; i < count; ++i) {
      if (notifications[i].ulEventType != fnevTableModified) continue;
      const TABLE_NOTIFICATION& t = notifications[i].info.tab;
      Event e;
      e.type = t.ulTableEvent;
      if (t.propIndex.ulPropTag == PR_INSTANCE_KEY) e.index = bin_of(t.propIndex);
      e.prior_tag = t.propPrior.ulPropTag;
      if (t.propPrior.ulPropTag == PR_INSTANCE_KEY) e.prior = bin_of(t.propPrior);
      for (ULONG k = 0; k < t.row.cValues; ++k) {
        const SPropValue& v = t.row.lpProps[k];
        e.row.push_back(v.ulPropTag);
        e.binaries.push_back(PROP_TYPE(v.ulPropTag) == PT_BINARY ? bin_of(v) : Bytes{});
        e.strings.push_back(PROP_TYPE(v.ulPropTag) == PT_STRING8 ? v.Value.lpszA : "");
        e.longs.push_back(PROP_TYPE(v.ulPropTag) == PT_LONG ? v.Value.l : -1);
      }
      self->events.push_back(std::move(e));
    }
    return 0;
  }
};

struct Advised {
  TableRecorder recorder;
  Ptr<IMAPIAdviseSink> sink;
  ULONG_PTR connection = 0;
  LPMAPITABLE table = nullptr;
  explicit Advised(LPMAPITABLE t) : table(t) {
    EXPECT_EQ(HrAllocAdviseSink(&TableRecorder::callback, &recorder, sink.out()), S_OK);
    EXPECT_EQ(table->Advise(fnevTableModified, sink.p, &connection), S_OK);
  }
  ~Advised() { table->Unadvise(connection); }
};

void set_columns(LPMAPITABLE table, std::vector<ULONG> tags) {
  std::vector<ULONG> buf(tags.size() + 1);
  buf[0] = ULONG(tags.size());
  std::copy(tags.begin(), tags.end(), buf.begin() + 1);
  ASSERT_EQ(table->SetColumns(reinterpret_cast<LPSPropTagArray>(buf.data()), 0), S_OK);
}

void sort_by(LPMAPITABLE table, ULONG tag, ULONG order = TABLE_SORT_ASCEND) {
  SizedSSortOrderSet(1, sort) = {1, 0, 0, {{tag, order}}};
  ASSERT_EQ(table->SortTable(reinterpret_cast<LPSSortOrderSet>(&sort), 0), S_OK);
}

// The rows of a table: column 0 as a string (PT_STRING8) or number.
std::vector<std::string> strings(LPMAPITABLE table, size_t column = 0) {
  LPSRowSet rows = nullptr;
  EXPECT_EQ(table->SeekRow(BOOKMARK_BEGINNING, 0, nullptr), S_OK);
  EXPECT_EQ(table->QueryRows(1000, 0, &rows), S_OK);
  std::vector<std::string> out;
  for (ULONG i = 0; rows && i < rows->cRows; ++i) {
    const SPropValue& v = rows->aRow[i].lpProps[column];
    if (PROP_TYPE(v.ulPropTag) == PT_STRING8) out.emplace_back(v.Value.lpszA);
    else if (PROP_TYPE(v.ulPropTag) == PT_LONG) out.push_back(std::to_string(v.Value.l));
    else out.emplace_back("<error>");
  }
  FreeProws(rows);
  return out;
}

// The instance key of the row whose column 1 is `text`.
Bytes key_of(LPMAPITABLE table, const std::string& text) {
  LPSRowSet rows = nullptr;
  EXPECT_EQ(table->SeekRow(BOOKMARK_BEGINNING, 0, nullptr), S_OK);
  EXPECT_EQ(table->QueryRows(1000, 0, &rows), S_OK);
  Bytes out;
  for (ULONG i = 0; rows && i < rows->cRows; ++i) {
    const SPropValue* p = rows->aRow[i].lpProps;
    if (PROP_TYPE(p[1].ulPropTag) == PT_STRING8 && text == p[1].Value.lpszA) out = bin_of(p[0]);
  }
  FreeProws(rows);
  return out;
}

// ---- Table notifications ----------------------------------------------------

TEST_F(MapiGaps, ContentsTableSinksGetRowAddedModifiedAndDeletedWithTheirColumnsAndPriorRow) {
  Ptr<IMAPITable> contents;
  ASSERT_EQ(inbox_->GetContentsTable(0, contents.out()), S_OK);
  ULONG status = 0, type = 0;
  ASSERT_EQ(contents->GetStatus(&status, &type), S_OK);
  EXPECT_EQ(type, ULONG(TBLTYPE_DYNAMIC));
  set_columns(contents.p, {PR_INSTANCE_KEY, PR_SUBJECT_A});
  sort_by(contents.p, PR_SUBJECT_A);
  const Bytes hello = key_of(contents.p, "Hello");
  ASSERT_FALSE(hello.empty());
  Advised advised(contents.p);
  auto& ev = advised.recorder.events;

  // A new first row: propPrior is PR_NULL (table_notification.md).
  const Bytes apple_id = create_message(inbox_.p, "Apple");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, ULONG(TABLE_ROW_ADDED));
  EXPECT_EQ(ev[0].prior_tag, ULONG(PR_NULL));
  ASSERT_EQ(ev[0].row.size(), 2u);  // the table's columns
  EXPECT_EQ(ev[0].row[0], ULONG(PR_INSTANCE_KEY));
  EXPECT_EQ(ev[0].strings[1], "Apple");
  EXPECT_EQ(ev[0].binaries[0], ev[0].index);
  const Bytes apple = ev[0].index;
  // The table is dynamic: it shows the new row.
  EXPECT_EQ(strings(contents.p, 1), (std::vector<std::string>{"Apple", "Hello"}));

  // A row after "Hello": propPrior is Hello's instance key.
  create_message(inbox_.p, "Zed");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].type, ULONG(TABLE_ROW_ADDED));
  EXPECT_EQ(ev[1].prior_tag, ULONG(PR_INSTANCE_KEY));
  EXPECT_EQ(ev[1].prior, hello);

  // Modified and re-sorted: TABLE_ROW_MODIFIED with the new values and the
  // row now before it.
  {
    Ptr<IMessage> m;
    ASSERT_EQ(open(apple_id, MAPI_MODIFY, m.unknown()), S_OK);
    SPropValue v{};
    v.ulPropTag = PR_SUBJECT_A;
    v.Value.lpszA = const_cast<char*>("Mango");
    ASSERT_EQ(m->SetProps(1, &v, nullptr), S_OK);
    ASSERT_EQ(m->SaveChanges(0), S_OK);
  }
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2].type, ULONG(TABLE_ROW_MODIFIED));
  EXPECT_EQ(ev[2].index, apple);
  EXPECT_EQ(ev[2].strings[1], "Mango");
  EXPECT_EQ(ev[2].prior, hello);

  // Deleted: TABLE_ROW_DELETED names the row; propPrior is PR_NULL.
  SBinary bin{ULONG(apple_id.size()), const_cast<uint8_t*>(apple_id.data())};
  ENTRYLIST list{1, &bin};
  ASSERT_EQ(inbox_->DeleteMessages(&list, 0, nullptr, 0), S_OK);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[3].type, ULONG(TABLE_ROW_DELETED));
  EXPECT_EQ(ev[3].index, apple);
  EXPECT_EQ(ev[3].prior_tag, ULONG(PR_NULL));
  EXPECT_EQ(ev[3].row.size(), 0u);
  EXPECT_EQ(strings(contents.p, 1), (std::vector<std::string>{"Hello", "Zed"}));

  // Read flags change PR_MESSAGE_FLAGS, a column of the row.
  ASSERT_EQ(inbox_->SetReadFlags(nullptr, 0, nullptr, CLEAR_READ_FLAG), S_OK);
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[4].type, ULONG(TABLE_ROW_MODIFIED));
  EXPECT_EQ(ev[5].type, ULONG(TABLE_ROW_MODIFIED));

  // After Unadvise nothing more arrives.
  ASSERT_EQ(contents->Unadvise(advised.connection), S_OK);
  advised.connection = 0;
  create_message(inbox_.p, "Quiet");
  EXPECT_EQ(ev.size(), 6u);
}

TEST_F(MapiGaps, RestrictedTableNotifiesOnlyRowsThatMatchAndMovesReachBothFolders) {
  Ptr<IMAPIFolder> other;
  ASSERT_EQ(subtree_->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Other", nullptr, nullptr, 0, other.out()), S_OK);
  Ptr<IMAPITable> in_inbox, in_other;
  ASSERT_EQ(inbox_->GetContentsTable(0, in_inbox.out()), S_OK);
  ASSERT_EQ(other->GetContentsTable(0, in_other.out()), S_OK);
  set_columns(in_inbox.p, {PR_INSTANCE_KEY, PR_SUBJECT_A});
  set_columns(in_other.p, {PR_INSTANCE_KEY, PR_SUBJECT_A});
  SPropValue keep{};
  keep.ulPropTag = PR_SUBJECT_A;
  keep.Value.lpszA = const_cast<char*>("Keep");
  SRestriction res{};
  res.rt = RES_PROPERTY;
  res.res.resProperty.relop = RELOP_EQ;
  res.res.resProperty.ulPropTag = PR_SUBJECT_A;
  res.res.resProperty.lpProp = &keep;
  ASSERT_EQ(in_inbox->Restrict(&res, 0), S_OK);
  Advised a(in_inbox.p), b(in_other.p);

  create_message(inbox_.p, "Skip");
  EXPECT_EQ(a.recorder.events.size(), 0u);  // hidden by the restriction
  const Bytes kept = create_message(inbox_.p, "Keep");
  ASSERT_EQ(a.recorder.events.size(), 1u);
  EXPECT_EQ(a.recorder.events[0].type, ULONG(TABLE_ROW_ADDED));
  EXPECT_EQ(b.recorder.events.size(), 0u);  // another folder's table

  // A copy adds a row to the destination only; a move also deletes the row
  // from the source folder's table.
  SBinary bin{ULONG(kept.size()), const_cast<uint8_t*>(kept.data())};
  ENTRYLIST list{1, &bin};
  ASSERT_EQ(inbox_->CopyMessages(&list, nullptr, other.p, 0, nullptr, 0), S_OK);
  EXPECT_EQ(a.recorder.events.size(), 1u);
  ASSERT_EQ(b.recorder.events.size(), 1u);
  EXPECT_EQ(b.recorder.events[0].type, ULONG(TABLE_ROW_ADDED));
  ASSERT_EQ(inbox_->CopyMessages(&list, nullptr, other.p, 0, nullptr, MESSAGE_MOVE), S_OK);
  ASSERT_EQ(a.recorder.events.size(), 2u);
  EXPECT_EQ(a.recorder.events[1].type, ULONG(TABLE_ROW_DELETED));
  ASSERT_EQ(b.recorder.events.size(), 2u);
  EXPECT_EQ(b.recorder.events[1].type, ULONG(TABLE_ROW_ADDED));
  EXPECT_EQ(strings(in_other.p, 1), (std::vector<std::string>{"Keep", "Keep"}));
}

TEST_F(MapiGaps, HierarchyTableSinksSeeFoldersAddedDeletedAndTheirCountsModified) {
  Ptr<IMAPITable> hierarchy;
  ASSERT_EQ(subtree_->GetHierarchyTable(0, hierarchy.out()), S_OK);
  set_columns(hierarchy.p, {PR_INSTANCE_KEY, PR_DISPLAY_NAME_A, PR_CONTENT_COUNT});
  const Bytes inbox_key = key_of(hierarchy.p, "Inbox");
  Advised advised(hierarchy.p);
  auto& ev = advised.recorder.events;
  Ptr<IMAPIFolder> made;
  ASSERT_EQ(subtree_->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Made", nullptr, nullptr, 0, made.out()), S_OK);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, ULONG(TABLE_ROW_ADDED));
  EXPECT_EQ(ev[0].strings[1], "Made");
  // A message saved in Inbox changes Inbox's PR_CONTENT_COUNT.
  create_message(inbox_.p, "Counted");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].type, ULONG(TABLE_ROW_MODIFIED));
  EXPECT_EQ(ev[1].index, inbox_key);
  EXPECT_EQ(ev[1].longs[2], 2);
  const Bytes made_id = prop_bytes(made.p, PR_ENTRYID);
  made.reset();
  ASSERT_EQ(subtree_->DeleteFolder(ULONG(made_id.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(made_id.data())),
                                   0, nullptr, 0),
            S_OK);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2].type, ULONG(TABLE_ROW_DELETED));
  EXPECT_EQ(ev[2].index, ev[0].index);
}

// ---- CONVENIENT_DEPTH -------------------------------------------------------

TEST_F(MapiGaps, ConvenientDepthListsTheWholeSubtreeDepthFirstWithPrDepth) {
  Ptr<IMAPIFolder> a, a1, a2, b;
  ASSERT_EQ(inbox_->CreateFolder(FOLDER_GENERIC, (LPTSTR) "A", nullptr, nullptr, 0, a.out()), S_OK);
  ASSERT_EQ(a->CreateFolder(FOLDER_GENERIC, (LPTSTR) "A1", nullptr, nullptr, 0, a1.out()), S_OK);
  ASSERT_EQ(a1->CreateFolder(FOLDER_GENERIC, (LPTSTR) "A2", nullptr, nullptr, 0, a2.out()), S_OK);
  ASSERT_EQ(subtree_->CreateFolder(FOLDER_GENERIC, (LPTSTR) "B", nullptr, nullptr, 0, b.out()), S_OK);

  // Without the flag: the immediate children only.
  Ptr<IMAPITable> flat;
  ASSERT_EQ(subtree_->GetHierarchyTable(0, flat.out()), S_OK);
  set_columns(flat.p, {PR_DISPLAY_NAME_A});
  const auto top = strings(flat.p);  // Inbox, B and Deleted Items
  ASSERT_EQ(top.size(), 3u);

  Ptr<IMAPITable> deep;
  ASSERT_EQ(subtree_->GetHierarchyTable(CONVENIENT_DEPTH, deep.out()), S_OK);
  set_columns(deep.p, {PR_DISPLAY_NAME_A, PR_DEPTH});
  ULONG count = 0;
  ASSERT_EQ(deep->GetRowCount(0, &count), S_OK);
  EXPECT_EQ(count, 6u);
  // Each folder followed by its subfolders (depth first), PR_DEPTH relative
  // to the container (pidtagdepth-canonical-property.md).
  std::vector<std::string> expected;
  for (const auto& name : top) {
    if (name == "Inbox") {
      for (auto s : {"Inbox:0", "A:1", "A1:2", "A2:3"}) expected.push_back(s);
    } else {
      expected.push_back(name + ":0");
    }
  }
  const auto names = strings(deep.p, 0), depths = strings(deep.p, 1);
  std::vector<std::string> got;
  for (size_t i = 0; i < names.size(); ++i) got.push_back(names[i] + ":" + depths[i]);
  EXPECT_EQ(got, expected);

  // Opened from Inbox, depths are relative to Inbox.
  Ptr<IMAPITable> below_inbox;
  ASSERT_EQ(inbox_->GetHierarchyTable(CONVENIENT_DEPTH, below_inbox.out()), S_OK);
  set_columns(below_inbox.p, {PR_DISPLAY_NAME_A, PR_DEPTH});
  EXPECT_EQ(strings(below_inbox.p, 1), (std::vector<std::string>{"0", "1", "2"}));

  // A folder created deep inside is a new row of the subtree's table, right
  // after its parent.
  set_columns(deep.p, {PR_INSTANCE_KEY, PR_DISPLAY_NAME_A, PR_DEPTH});
  const Bytes a2_key = key_of(deep.p, "A2");
  Advised advised(deep.p);
  Ptr<IMAPIFolder> a3;
  ASSERT_EQ(a2->CreateFolder(FOLDER_GENERIC, (LPTSTR) "A3", nullptr, nullptr, 0, a3.out()), S_OK);
  auto& ev = advised.recorder.events;
  auto added = std::find_if(ev.begin(), ev.end(), [](const auto& e) { return e.type == ULONG(TABLE_ROW_ADDED); });
  ASSERT_NE(added, ev.end());
  EXPECT_EQ(added->strings[1], "A3");
  EXPECT_EQ(added->longs[2], 4);
  EXPECT_EQ(added->prior, a2_key);
}

// ---- Receive folders in the file ---------------------------------------------

std::string class_of(LPTSTR cls) { return cls ? reinterpret_cast<char*>(cls) : "<null>"; }

TEST_F(MapiGaps, SetReceiveFolderIsKeptInTheStoreAndReadAfterReopening) {
  const Bytes waste = prop_bytes(store_.p, PR_IPM_WASTEBASKET_ENTRYID);
  const Bytes inbox = prop_bytes(inbox_.p, PR_ENTRYID);
  ASSERT_FALSE(waste.empty());
  ASSERT_EQ(store_->SetReceiveFolder((LPTSTR) "IPM.Special", 0, ULONG(waste.size()),
                                     reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(waste.data()))),
            S_OK);
  inbox_.reset();
  subtree_.reset();
  store_.reset();

  // Closed and opened again (read-only): the setting is still there.
  ASSERT_EQ(open_pst_store(path_, 0, store_.out()), S_OK);
  ULONG cb = 0;
  LPENTRYID id = nullptr;
  LPTSTR cls = nullptr;
  ASSERT_EQ(store_->GetReceiveFolder((LPTSTR) "ipm.special.sub", 0, &cb, &id, &cls), S_OK);
  EXPECT_EQ(Bytes(reinterpret_cast<uint8_t*>(id), reinterpret_cast<uint8_t*>(id) + cb), waste);
  EXPECT_EQ(class_of(cls), "IPM.Special");  // as it was set
  MAPIFreeBuffer(id);
  MAPIFreeBuffer(cls);
  // Other classes: the default receive folder (the Inbox), no explicit class.
  ASSERT_EQ(store_->GetReceiveFolder((LPTSTR) "IPM.Note", 0, &cb, &id, &cls), S_OK);
  EXPECT_EQ(Bytes(reinterpret_cast<uint8_t*>(id), reinterpret_cast<uint8_t*>(id) + cb), inbox);
  EXPECT_EQ(class_of(cls), "");
  MAPIFreeBuffer(id);
  MAPIFreeBuffer(cls);
  Ptr<IMAPITable> table;
  ASSERT_EQ(store_->GetReceiveFolderTable(0, table.out()), S_OK);
  set_columns(table.p, {PR_MESSAGE_CLASS_A, PR_ENTRYID});
  EXPECT_EQ(strings(table.p), (std::vector<std::string>{"", "IPM.Special"}));
  // A read-only store keeps its settings.
  EXPECT_EQ(store_->SetReceiveFolder((LPTSTR) "IPM.Other", 0, ULONG(waste.size()),
                                     reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(waste.data()))),
            MAPI_E_NO_ACCESS);
  store_.reset();

  // Removed with a null entry ID, also across reopening.
  ASSERT_EQ(open_pst_store(path_, MDB_WRITE, store_.out()), S_OK);
  ASSERT_EQ(store_->SetReceiveFolder((LPTSTR) "IPM.SPECIAL", 0, 0, nullptr), S_OK);
  store_.reset();
  ASSERT_EQ(open_pst_store(path_, 0, store_.out()), S_OK);
  ASSERT_EQ(store_->GetReceiveFolder((LPTSTR) "IPM.Special", 0, &cb, &id, &cls), S_OK);
  EXPECT_EQ(Bytes(reinterpret_cast<uint8_t*>(id), reinterpret_cast<uint8_t*>(id) + cb), inbox);
  EXPECT_EQ(class_of(cls), "");
  MAPIFreeBuffer(id);
  MAPIFreeBuffer(cls);
  // The rewritten table is a valid TC.
  auto [status, out] = check_file(path_);
  EXPECT_EQ(status, 0) << out;
}

// ---- CopyTo / CopyProps of messages -------------------------------------------

// The first message of Inbox ("Hello": one recipient, one 300-byte attachment).
Bytes hello_id(LPMAPIFOLDER inbox) {
  Ptr<IMAPITable> contents;
  EXPECT_EQ(inbox->GetContentsTable(0, contents.out()), S_OK);
  set_columns(contents.p, {PR_ENTRYID});
  LPSRowSet rows = nullptr;
  EXPECT_EQ(contents->QueryRows(1, 0, &rows), S_OK);
  Bytes id = bin_of(rows->aRow[0].lpProps[0]);
  FreeProws(rows);
  return id;
}

ULONG rows_in(LPMAPITABLE table) {
  ULONG n = 0;
  EXPECT_EQ(table->GetRowCount(0, &n), S_OK);
  return n;
}

Bytes attachment_data(LPMESSAGE message, ULONG number) {
  Ptr<IAttach> attach;
  if (message->OpenAttach(number, nullptr, 0, attach.out()) != S_OK) return {};
  Ptr<IStream> stream;
  if (attach->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, 0, 0, stream.unknown()) != S_OK) return {};
  Bytes out;
  uint8_t buf[4096];
  ULONG got = 0;
  while (stream->Read(buf, sizeof buf, &got) == S_OK && got > 0) out.insert(out.end(), buf, buf + got);
  return out;
}

std::string subject_of(LPMAPIPROP obj) {
  LPSPropValue v = nullptr;
  if (HrGetOneProp(obj, PR_SUBJECT_A, &v) != S_OK) return "<none>";
  std::string s = v->Value.lpszA;
  MAPIFreeBuffer(v);
  return s;
}

TEST_F(MapiGaps, MessageCopyToCopiesRecipientsAndAttachmentsUnlessExcluded) {
  Ptr<IMessage> source;
  ASSERT_EQ(open(hello_id(inbox_.p), 0, source.unknown()), S_OK);

  // imapiprop-copyto.md: everything, sub-objects included.
  Bytes copy_id;
  {
    Ptr<IMessage> copy;
    ASSERT_EQ(inbox_->CreateMessage(nullptr, 0, copy.out()), S_OK);
    ASSERT_EQ(source->CopyTo(0, nullptr, nullptr, 0, nullptr, &IID_IMessage, copy.p, 0, nullptr), S_OK);
    ASSERT_EQ(copy->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
    copy_id = prop_bytes(copy.p, PR_ENTRYID);
  }
  {
    Ptr<IMessage> copy;
    ASSERT_EQ(open(copy_id, 0, copy.unknown()), S_OK);  // as stored
    EXPECT_EQ(subject_of(copy.p), "Hello");
    Ptr<IMAPITable> recipients, attachments;
    ASSERT_EQ(copy->GetRecipientTable(0, recipients.out()), S_OK);
    set_columns(recipients.p, {PR_DISPLAY_NAME_A});
    EXPECT_EQ(strings(recipients.p), std::vector<std::string>{"Ann"});
    ASSERT_EQ(copy->GetAttachmentTable(0, attachments.out()), S_OK);
    EXPECT_EQ(rows_in(attachments.p), 1u);
    EXPECT_EQ(attachment_data(copy.p, 0), Bytes(300, 0x5A));
  }

  // Excluded with PR_MESSAGE_RECIPIENTS and PR_MESSAGE_ATTACHMENTS.
  {
    Ptr<IMessage> copy;
    ASSERT_EQ(inbox_->CreateMessage(nullptr, 0, copy.out()), S_OK);
    SizedSPropTagArray(2, exclude) = {2, {PR_MESSAGE_RECIPIENTS, PR_MESSAGE_ATTACHMENTS}};
    ASSERT_EQ(source->CopyTo(0, nullptr, reinterpret_cast<LPSPropTagArray>(&exclude), 0, nullptr, &IID_IMessage,
                             copy.p, 0, nullptr),
              S_OK);
    Ptr<IMAPITable> recipients, attachments;
    ASSERT_EQ(copy->GetRecipientTable(0, recipients.out()), S_OK);
    EXPECT_EQ(rows_in(recipients.p), 0u);
    ASSERT_EQ(copy->GetAttachmentTable(0, attachments.out()), S_OK);
    EXPECT_EQ(rows_in(attachments.p), 0u);
    EXPECT_EQ(subject_of(copy.p), "Hello");
  }

  // CopyProps: only what the list names; PR_MESSAGE_ATTACHMENTS copies the
  // attachments.
  {
    Ptr<IMessage> copy;
    ASSERT_EQ(inbox_->CreateMessage(nullptr, 0, copy.out()), S_OK);
    SizedSPropTagArray(1, include) = {1, {PR_MESSAGE_ATTACHMENTS}};
    ASSERT_EQ(source->CopyProps(reinterpret_cast<LPSPropTagArray>(&include), 0, nullptr, &IID_IMessage, copy.p, 0,
                                nullptr),
              S_OK);
    Ptr<IMAPITable> recipients, attachments;
    ASSERT_EQ(copy->GetRecipientTable(0, recipients.out()), S_OK);
    EXPECT_EQ(rows_in(recipients.p), 0u);
    ASSERT_EQ(copy->GetAttachmentTable(0, attachments.out()), S_OK);
    EXPECT_EQ(rows_in(attachments.p), 1u);
    EXPECT_EQ(attachment_data(copy.p, 0), Bytes(300, 0x5A));
    EXPECT_EQ(subject_of(copy.p), "<none>");
  }
}

TEST_F(MapiGaps, StoredEmbeddedMessageOpenedWithMapiModifyIsSavedThroughItsAttachmentAndParent) {
  // A message with an embedded message, made through the interfaces.
  Bytes outer_id;
  {
    Ptr<IMessage> outer;
    ASSERT_EQ(inbox_->CreateMessage(nullptr, 0, outer.out()), S_OK);
    SPropValue v{};
    v.ulPropTag = PR_SUBJECT_A;
    v.Value.lpszA = const_cast<char*>("Outer");
    ASSERT_EQ(outer->SetProps(1, &v, nullptr), S_OK);
    Ptr<IAttach> attach;
    ULONG number = 0;
    ASSERT_EQ(outer->CreateAttach(nullptr, 0, &number, attach.out()), S_OK);
    Ptr<IMessage> inner;
    ASSERT_EQ(attach->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, MAPI_CREATE | MAPI_MODIFY, inner.unknown()),
              S_OK);
    SPropValue iv[2]{};
    iv[0].ulPropTag = PR_SUBJECT_A;
    iv[0].Value.lpszA = const_cast<char*>("Inner");
    iv[1].ulPropTag = PR_MESSAGE_CLASS_A;
    iv[1].Value.lpszA = const_cast<char*>("IPM.Note.Inner");
    ASSERT_EQ(inner->SetProps(2, iv, nullptr), S_OK);
    ASSERT_EQ(inner->SaveChanges(0), S_OK);
    ASSERT_EQ(attach->SaveChanges(0), S_OK);
    ASSERT_EQ(outer->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
    outer_id = prop_bytes(outer.p, PR_ENTRYID);
  }
  // Opened again from the store, changed through PR_ATTACH_DATA_OBJ with
  // MAPI_MODIFY, saved: embedded message, attachment, parent.
  {
    Ptr<IMessage> outer;
    ASSERT_EQ(open(outer_id, MAPI_MODIFY, outer.unknown()), S_OK);
    Ptr<IAttach> attach;
    ASSERT_EQ(outer->OpenAttach(0, nullptr, MAPI_MODIFY, attach.out()), S_OK);
    Ptr<IMessage> inner;
    ASSERT_EQ(attach->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, MAPI_MODIFY, inner.unknown()), S_OK);
    EXPECT_EQ(subject_of(inner.p), "Inner");
    SPropValue v{};
    v.ulPropTag = PR_SUBJECT_A;
    v.Value.lpszA = const_cast<char*>("Changed");
    ASSERT_EQ(inner->SetProps(1, &v, nullptr), S_OK);
    ASSERT_EQ(inner->SaveChanges(0), S_OK);
    ASSERT_EQ(attach->SaveChanges(0), S_OK);
    ASSERT_EQ(outer->SaveChanges(0), S_OK);
  }
  Bytes copy_id;
  {
    Ptr<IMessage> outer;
    ASSERT_EQ(open(outer_id, 0, outer.unknown()), S_OK);
    Ptr<IMAPITable> attachments;
    ASSERT_EQ(outer->GetAttachmentTable(0, attachments.out()), S_OK);
    EXPECT_EQ(rows_in(attachments.p), 1u);
    Ptr<IAttach> attach;
    ASSERT_EQ(outer->OpenAttach(0, nullptr, 0, attach.out()), S_OK);
    Ptr<IMessage> inner;
    ASSERT_EQ(attach->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, 0, inner.unknown()), S_OK);
    EXPECT_EQ(subject_of(inner.p), "Changed");
    LPSPropValue cls = nullptr;
    ASSERT_EQ(HrGetOneProp(inner.p, PR_MESSAGE_CLASS_A, &cls), S_OK);
    EXPECT_STREQ(cls->Value.lpszA, "IPM.Note.Inner");  // the rest is kept
    MAPIFreeBuffer(cls);

    // CopyTo of the parent copies the embedded message too.
    Ptr<IMessage> copy;
    ASSERT_EQ(inbox_->CreateMessage(nullptr, 0, copy.out()), S_OK);
    ASSERT_EQ(outer->CopyTo(0, nullptr, nullptr, 0, nullptr, &IID_IMessage, copy.p, 0, nullptr), S_OK);
    ASSERT_EQ(copy->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
    copy_id = prop_bytes(copy.p, PR_ENTRYID);
  }
  Ptr<IMessage> copy;
  ASSERT_EQ(open(copy_id, 0, copy.unknown()), S_OK);
  Ptr<IAttach> attach;
  ASSERT_EQ(copy->OpenAttach(0, nullptr, 0, attach.out()), S_OK);
  Ptr<IMessage> inner;
  ASSERT_EQ(attach->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, 0, inner.unknown()), S_OK);
  EXPECT_EQ(subject_of(inner.p), "Changed");
  auto [status, out] = check_file(path_);
  EXPECT_EQ(status, 0) << out;
}

}  // namespace
