// The object model over the PST provider (issue 9 part 4): IMsgStore,
// IMAPIFolder, IMessage, IAttach, IMAPIProp and IStream, each test named
// after the behaviour the MAPI reference documents. Stores are made with
// StoreWriter or taken from the corpus; what the COM interfaces write is
// read back with pstkit's reader, `pstkit check` and libpff.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

#include "mapi/capi_convert.h"
#include "mapi/open_stores.h"
#include "mapi/pst_store.h"
#include "mapi_test_ptr.h"
#include "pstkit/mapi/mapiguid.h"
#include "pstkit/mapi/mapitags.h"
#include "pstkit/mapi/mapiutil.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi/mspst.h"
#include "pstkit/mapi_entry_id.h"
#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"
#include "test_corpus.h"

using pstkit::mapi::capi::open_pst_store;
using pstkit::mapi::capi::pst_store_record_key;

namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  static int counter = 0;
  return ::testing::TempDir() + "mapi_store_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         name;
}

// A store made with StoreWriter: one folder "Inbox" under the IPM subtree
// holding one message with a recipient and an attachment of `attachment_size`
// bytes.
void make_store(const std::string& path, size_t attachment_size = 1000) {
  auto w = pstkit::StoreWriter::create(path, pstkit::NewStoreOptions{});
  ASSERT_TRUE(w) << w.status().message();
  auto inbox = (*w)->create_folder((*w)->ipm_subtree(), "Inbox");
  ASSERT_TRUE(inbox);
  pstkit::NewMessage m;
  m.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kSubject, "Hello"));
  m.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kMessageClass, "IPM.Note"));
  m.properties.push_back(pstkit::ltp::int32_value(pstkit::prop::kMessageFlags, 0));  // unread
  m.recipients.push_back({pstkit::ltp::string_value(pstkit::prop::kDisplayName, "Ann"),
                          pstkit::ltp::string_value(pstkit::prop::kEmailAddress, "ann@example.com"),
                          pstkit::ltp::string_value(pstkit::prop::kAddressType, "SMTP"),
                          pstkit::ltp::int32_value(pstkit::prop::kRecipientType, 1)});
  pstkit::NewAttachment a;
  a.properties.push_back(pstkit::ltp::int32_value(pstkit::prop::kAttachMethod, 1));
  a.properties.push_back(pstkit::ltp::string_value(pstkit::prop::kAttachLongFilename, "data.bin"));
  a.data.resize(attachment_size);
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = uint8_t((i * 7919) >> 3);
  m.attachments.push_back(std::move(a));
  ASSERT_TRUE((*w)->create_message(*inbox, m));
  ASSERT_TRUE((*w)->commit().is_ok());
}

class MapiStore : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(MAPIInitialize(nullptr), S_OK); }
  void TearDown() override {
    for (const auto& p : files_) {
      std::error_code ec;
      fs::remove(p, ec);
      fs::remove(p + "-journal", ec);
    }
    MAPIUninitialize();
  }
  std::string new_store(size_t attachment_size = 1000) {
    std::string p = temp_path("store.pst");
    files_.push_back(p);
    make_store(p, attachment_size);
    return p;
  }
  std::string track(std::string p) {
    files_.push_back(p);
    return p;
  }
  std::vector<std::string> files_;
};

using mapi_test::Ptr;

// One property of an object (MAPIFreeBuffer'd by the caller through the guard).
struct Prop {
  LPSPropValue v = nullptr;
  HRESULT hr = S_OK;
  ~Prop() { MAPIFreeBuffer(v); }
};
void get_prop(LPMAPIPROP obj, ULONG tag, Prop& out) { out.hr = HrGetOneProp(obj, tag, &out.v); }

std::vector<uint8_t> entry_id_of(LPMAPIPROP obj) {
  Prop p;
  get_prop(obj, PR_ENTRYID, p);
  if (FAILED(p.hr)) return {};
  return std::vector<uint8_t>(p.v->Value.bin.lpb, p.v->Value.bin.lpb + p.v->Value.bin.cb);
}

HRESULT open_by_id(LPMDB store, const std::vector<uint8_t>& id, ULONG flags, ULONG* type, LPUNKNOWN* out) {
  return store->OpenEntry(ULONG(id.size()), reinterpret_cast<LPENTRYID>(const_cast<uint8_t*>(id.data())), nullptr,
                          flags, type, out);
}

// The IPM subtree of a store.
HRESULT open_ipm_subtree(LPMDB store, LPMAPIFOLDER* out, ULONG flags = MAPI_MODIFY) {
  Prop p;
  get_prop(store, PR_IPM_SUBTREE_ENTRYID, p);
  if (FAILED(p.hr)) return p.hr;
  ULONG type = 0;
  return store->OpenEntry(p.v->Value.bin.cb, reinterpret_cast<LPENTRYID>(p.v->Value.bin.lpb), &IID_IMAPIFolder, flags,
                          &type, reinterpret_cast<LPUNKNOWN*>(out));
}

std::vector<std::string> column_strings(LPMAPITABLE table, ULONG tag) {
  SizedSPropTagArray(1, cols) = {1, {tag}};
  EXPECT_EQ(table->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
  LPSRowSet rows = nullptr;
  EXPECT_EQ(HrQueryAllRows(table, nullptr, nullptr, nullptr, 0, &rows), S_OK);
  std::vector<std::string> out;
  for (ULONG i = 0; rows && i < rows->cRows; ++i) {
    const SPropValue& v = rows->aRow[i].lpProps[0];
    if (PROP_TYPE(v.ulPropTag) == PT_STRING8) out.emplace_back(v.Value.lpszA);
    else if (PROP_TYPE(v.ulPropTag) == PT_UNICODE) out.push_back(pstkit::mapi::capi::utf8_from_wide(v.Value.lpszW));
    else out.emplace_back("<error>");
  }
  FreeProws(rows);
  return out;
}

ULONG row_count(LPMAPITABLE table) {
  ULONG n = 0;
  EXPECT_EQ(table->GetRowCount(0, &n), S_OK);
  return n;
}

// Runs a command, returning its exit status and standard output.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* f = ::popen(command.c_str(), "r");
  if (f == nullptr) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int status = ::pclose(f);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A sink that records the events it is given.
struct Recorder {
  std::vector<ULONG> events;
  std::vector<std::vector<uint8_t>> ids;
  static LONG STDAPICALLTYPE callback(LPVOID context, ULONG count, LPNOTIFICATION notifications) {
    auto* self = static_cast<Recorder*>(context);
    for (ULONG i = 0; i < count; ++i) {
      self->events.push_back(notifications[i].ulEventType);
      const auto& obj = notifications[i].info.obj;
      if (notifications[i].ulEventType != fnevNewMail && obj.lpEntryID) {
        auto* b = reinterpret_cast<uint8_t*>(obj.lpEntryID);
        self->ids.emplace_back(b, b + obj.cbEntryID);
      }
    }
    return 0;
  }
};

// ---- open_pst_store --------------------------------------------------------

TEST(MapiStoreOpen, RefusesBeforeMapiInitialize) {
  LPMDB store = nullptr;
  EXPECT_EQ(open_pst_store("/nonexistent.pst", 0, &store), MAPI_E_NOT_INITIALIZED);
  EXPECT_EQ(store, nullptr);
}

TEST_F(MapiStore, OpenChecksItsArguments) {
  const std::string path = new_store();
  LPMDB store = nullptr;
  EXPECT_EQ(open_pst_store(path, 0, nullptr), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(open_pst_store(path, 0x40000000, &store), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(open_pst_store(path + ".missing", 0, &store), MAPI_E_NOT_FOUND);
  const std::string junk = track(temp_path("junk.pst"));
  { std::FILE* f = std::fopen(junk.c_str(), "wb"); std::fputs("not a pst at all", f); std::fclose(f); }
  EXPECT_EQ(open_pst_store(junk, 0, &store), MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(store, nullptr);
}

// ---- IMsgStore ---------------------------------------------------------------

TEST_F(MapiStore, OpenEntryWithNoEntryIdOpensTheRootFolder) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
  ULONG type = 0;
  Ptr<IMAPIFolder> root;
  ASSERT_EQ(store->OpenEntry(0, nullptr, nullptr, 0, &type, root.unknown()), S_OK);
  EXPECT_EQ(type, ULONG(MAPI_FOLDER));
  Prop folder_type;
  get_prop(root.p, PR_FOLDER_TYPE, folder_type);
  ASSERT_EQ(folder_type.hr, S_OK);
  EXPECT_EQ(folder_type.v->Value.l, LONG(FOLDER_ROOT));
  std::array<uint8_t, 16> uid{};
  ASSERT_EQ(pst_store_record_key(store.p, &uid), S_OK);
  auto nid = pstkit::mapi::decode_entry_id(pstkit::ByteView(entry_id_of(root.p)), uid);
  ASSERT_TRUE(nid);
  EXPECT_EQ(*nid, pstkit::ndb::kNidRootFolder);
}

TEST_F(MapiStore, StorePropertiesDescribeAPersonalFoldersStoreWithoutTransport) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Prop mask, provider, record, store_record, valid, name;
  get_prop(store.p, PR_STORE_SUPPORT_MASK, mask);
  get_prop(store.p, PR_MDB_PROVIDER, provider);
  get_prop(store.p, PR_RECORD_KEY, record);
  get_prop(store.p, PR_STORE_RECORD_KEY, store_record);
  get_prop(store.p, PR_VALID_FOLDER_MASK, valid);
  get_prop(store.p, PR_DISPLAY_NAME_A, name);
  ASSERT_EQ(mask.hr, S_OK);
  EXPECT_EQ(mask.v->Value.l & STORE_SUBMIT_OK, 0);
  EXPECT_NE(mask.v->Value.l & STORE_UNICODE_OK, 0);
  EXPECT_NE(mask.v->Value.l & STORE_MODIFY_OK, 0);
  EXPECT_EQ(mask.v->Value.l & STORE_READONLY, 0);
  ASSERT_EQ(provider.hr, S_OK);
  const uint8_t pst_provider[16] = MSPST_UID_PROVIDER;
  ASSERT_EQ(provider.v->Value.bin.cb, 16u);
  EXPECT_EQ(std::memcmp(provider.v->Value.bin.lpb, pst_provider, 16), 0);
  ASSERT_EQ(record.hr, S_OK);
  ASSERT_EQ(store_record.hr, S_OK);
  ASSERT_EQ(record.v->Value.bin.cb, store_record.v->Value.bin.cb);
  EXPECT_EQ(std::memcmp(record.v->Value.bin.lpb, store_record.v->Value.bin.lpb, record.v->Value.bin.cb), 0);
  ASSERT_EQ(valid.hr, S_OK);
  EXPECT_NE(valid.v->Value.l & FOLDER_IPM_SUBTREE_VALID, 0);
  EXPECT_NE(valid.v->Value.l & FOLDER_IPM_WASTEBASKET_VALID, 0);
  EXPECT_NE(valid.v->Value.l & FOLDER_IPM_INBOX_VALID, 0);
  ASSERT_EQ(name.hr, S_OK);
  EXPECT_STREQ(name.v->Value.lpszA, "Personal Folders");
  // The special folders' entry IDs open them.
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  Prop subtree_name;
  get_prop(subtree.p, PR_DISPLAY_NAME_A, subtree_name);
  ASSERT_EQ(subtree_name.hr, S_OK);
  EXPECT_STREQ(subtree_name.v->Value.lpszA, "Top of Outlook data file");
  Prop waste;
  get_prop(store.p, PR_IPM_WASTEBASKET_ENTRYID, waste);
  ASSERT_EQ(waste.hr, S_OK);
  ULONG type = 0;
  Ptr<IMAPIFolder> deleted;
  ASSERT_EQ(store->OpenEntry(waste.v->Value.bin.cb, reinterpret_cast<LPENTRYID>(waste.v->Value.bin.lpb), nullptr, 0,
                             &type, deleted.unknown()),
            S_OK);
  EXPECT_EQ(type, ULONG(MAPI_FOLDER));
}

TEST_F(MapiStore, ReadOnlyStoreRefusesWrites) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
  Prop mask;
  get_prop(store.p, PR_STORE_SUPPORT_MASK, mask);
  EXPECT_NE(mask.v->Value.l & STORE_READONLY, 0);
  ULONG type = 0;
  Ptr<IMAPIFolder> root;
  EXPECT_EQ(store->OpenEntry(0, nullptr, nullptr, MAPI_MODIFY, &type, root.unknown()), MAPI_E_NO_ACCESS);
  ASSERT_EQ(open_ipm_subtree(store.p, root.out(), MAPI_BEST_ACCESS), S_OK);
  Ptr<IMessage> msg;
  EXPECT_EQ(root->CreateMessage(nullptr, 0, msg.out()), MAPI_E_NO_ACCESS);
  Ptr<IMAPIFolder> sub;
  EXPECT_EQ(root->CreateFolder(FOLDER_GENERIC, (LPTSTR) "X", nullptr, nullptr, 0, sub.out()), MAPI_E_NO_ACCESS);
  SPropValue v{};
  v.ulPropTag = PR_COMMENT_A;
  v.Value.lpszA = const_cast<char*>("c");
  EXPECT_EQ(root->SetProps(1, &v, nullptr), MAPI_E_NO_ACCESS);
}

TEST_F(MapiStore, CompareEntryIdsIsTrueForTheSameObjectOnly) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
  Prop subtree, waste;
  get_prop(store.p, PR_IPM_SUBTREE_ENTRYID, subtree);
  get_prop(store.p, PR_IPM_WASTEBASKET_ENTRYID, waste);
  ULONG result = 99;
  auto* a = reinterpret_cast<LPENTRYID>(subtree.v->Value.bin.lpb);
  auto* b = reinterpret_cast<LPENTRYID>(waste.v->Value.bin.lpb);
  ASSERT_EQ(store->CompareEntryIDs(24, a, 24, a, 0, &result), S_OK);
  EXPECT_EQ(result, ULONG(TRUE));
  ASSERT_EQ(store->CompareEntryIDs(24, a, 24, b, 0, &result), S_OK);
  EXPECT_EQ(result, ULONG(FALSE));
  // A short-term copy (MAPI_SHORTTERM in abFlags[0]) names the same object.
  std::vector<uint8_t> short_term(subtree.v->Value.bin.lpb, subtree.v->Value.bin.lpb + 24);
  short_term[0] = 0x80;
  ASSERT_EQ(store->CompareEntryIDs(24, a, 24, reinterpret_cast<LPENTRYID>(short_term.data()), 0, &result), S_OK);
  EXPECT_EQ(result, ULONG(TRUE));
  EXPECT_EQ(store->CompareEntryIDs(23, a, 24, b, 0, &result), MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(store->CompareEntryIDs(24, a, 24, b, 1, &result), MAPI_E_UNKNOWN_FLAGS);
  std::vector<uint8_t> other(short_term);
  other[0] = 0;
  other[4] ^= 0xFF;  // another store's UID
  EXPECT_EQ(store->CompareEntryIDs(24, a, 24, reinterpret_cast<LPENTRYID>(other.data()), 0, &result),
            MAPI_E_UNKNOWN_ENTRYID);
  ULONG type = 0;
  Ptr<IUnknown> obj;
  EXPECT_EQ(open_by_id(store.p, other, 0, &type, obj.unknown()), MAPI_E_UNKNOWN_ENTRYID);
}

TEST_F(MapiStore, StoreWithoutTransportRefusesSubmissionAsDocumented) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Prop subtree;
  get_prop(store.p, PR_IPM_SUBTREE_ENTRYID, subtree);
  EXPECT_EQ(store->AbortSubmit(24, reinterpret_cast<LPENTRYID>(subtree.v->Value.bin.lpb), 0), MAPI_E_NOT_IN_QUEUE);
  Ptr<IMAPITable> queue;
  EXPECT_EQ(store->GetOutgoingQueue(0, queue.out()), MAPI_E_NO_SUPPORT);
  ULONG flags = LOGOFF_ABORT | LOGOFF_QUIET;
  EXPECT_EQ(store->StoreLogoff(&flags), MAPI_E_INVALID_PARAMETER);
  flags = LOGOFF_NO_WAIT;
  EXPECT_EQ(store->StoreLogoff(&flags), S_OK);
  EXPECT_EQ(flags, 0u);
}

TEST_F(MapiStore, ReceiveFolderDefaultsToTheInboxAndFollowsSetReceiveFolder) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  ULONG cb = 0;
  LPENTRYID id = nullptr;
  LPTSTR cls = nullptr;
  ASSERT_EQ(store->GetReceiveFolder((LPTSTR) "IPM.Note", 0, &cb, &id, &cls), S_OK);
  ULONG type = 0;
  Ptr<IMAPIFolder> inbox;
  ASSERT_EQ(store->OpenEntry(cb, id, nullptr, 0, &type, inbox.unknown()), S_OK);
  Prop name;
  get_prop(inbox.p, PR_DISPLAY_NAME_A, name);
  EXPECT_STREQ(name.v->Value.lpszA, "Inbox");
  EXPECT_STREQ(reinterpret_cast<char*>(cls), "");
  MAPIFreeBuffer(id);
  MAPIFreeBuffer(cls);
  Prop waste;
  get_prop(store.p, PR_IPM_WASTEBASKET_ENTRYID, waste);
  ASSERT_EQ(store->SetReceiveFolder((LPTSTR) "IPM.Special", 0, waste.v->Value.bin.cb,
                                    reinterpret_cast<LPENTRYID>(waste.v->Value.bin.lpb)),
            S_OK);
  ASSERT_EQ(store->GetReceiveFolder((LPTSTR) "IPM.Special.Sub", 0, &cb, &id, &cls), S_OK);
  EXPECT_STREQ(reinterpret_cast<char*>(cls), "IPM.Special");  // as it was set
  ULONG same = 0;
  ASSERT_EQ(store->CompareEntryIDs(cb, id, waste.v->Value.bin.cb, reinterpret_cast<LPENTRYID>(waste.v->Value.bin.lpb),
                                   0, &same),
            S_OK);
  EXPECT_TRUE(same);
  MAPIFreeBuffer(id);
  MAPIFreeBuffer(cls);
}

// ---- IMAPIProp ---------------------------------------------------------------

TEST_F(MapiStore, GetPropsReportsMissingPropertiesAsPtErrorWithErrorsReturned) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out(), 0), S_OK);
  SizedSPropTagArray(3, tags) = {3, {PR_DISPLAY_NAME_W, PROP_TAG(PT_LONG, 0x6001), PROP_TAG(PT_UNSPECIFIED, 0x3602)}};
  ULONG count = 0;
  LPSPropValue values = nullptr;
  ASSERT_EQ(subtree->GetProps(reinterpret_cast<LPSPropTagArray>(&tags), MAPI_UNICODE, &count, &values),
            MAPI_W_ERRORS_RETURNED);
  ASSERT_EQ(count, 3u);
  EXPECT_EQ(values[0].ulPropTag, ULONG(PR_DISPLAY_NAME_W));
  EXPECT_EQ(pstkit::mapi::capi::utf8_from_wide(values[0].Value.lpszW), "Top of Outlook data file");
  EXPECT_EQ(values[1].ulPropTag, ULONG(PROP_TAG(PT_ERROR, 0x6001)));
  EXPECT_EQ(values[1].Value.err, MAPI_E_NOT_FOUND);
  EXPECT_EQ(values[2].ulPropTag, ULONG(PR_CONTENT_COUNT));  // PT_UNSPECIFIED: the stored type
  MAPIFreeBuffer(values);
  SPropTagArray empty{0, {0}};
  EXPECT_EQ(subtree->GetProps(&empty, 0, &count, &values), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(subtree->GetProps(nullptr, 0x1, &count, &values), MAPI_E_UNKNOWN_FLAGS);
  // A null tag array returns every property, strings 8-bit without MAPI_UNICODE.
  ASSERT_EQ(subtree->GetProps(nullptr, 0, &count, &values), S_OK);
  bool saw_name = false;
  for (ULONG i = 0; i < count; ++i) {
    EXPECT_NE(PROP_TYPE(values[i].ulPropTag), ULONG(PT_UNICODE));
    saw_name |= values[i].ulPropTag == PR_DISPLAY_NAME_A;
  }
  EXPECT_TRUE(saw_name);
  MAPIFreeBuffer(values);
  LPSPropTagArray list = nullptr;
  ASSERT_EQ(subtree->GetPropList(MAPI_UNICODE, &list), S_OK);
  bool listed = false;
  for (ULONG i = 0; i < list->cValues; ++i) listed |= list->aulPropTag[i] == PR_DISPLAY_NAME_W;
  EXPECT_TRUE(listed);
  MAPIFreeBuffer(list);
}

TEST_F(MapiStore, SetPropsReportsComputedPropertiesInTheProblemArray) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  Ptr<IMessage> msg;
  ASSERT_EQ(subtree->CreateMessage(nullptr, 0, msg.out()), S_OK);
  SPropValue v[3]{};
  v[0].ulPropTag = PR_SUBJECT_A;
  v[0].Value.lpszA = const_cast<char*>("subject");
  v[1].ulPropTag = PR_OBJECT_TYPE;
  v[1].Value.l = 1;
  v[2].ulPropTag = PROP_TAG(PT_LONG, 0x8123);  // a named id the store does not map
  v[2].Value.l = 1;
  LPSPropProblemArray problems = nullptr;
  ASSERT_EQ(msg->SetProps(3, v, &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  ASSERT_EQ(problems->cProblem, 2u);
  EXPECT_EQ(problems->aProblem[0].ulIndex, 1u);
  EXPECT_EQ(problems->aProblem[0].scode, MAPI_E_COMPUTED);
  EXPECT_EQ(problems->aProblem[1].ulIndex, 2u);
  MAPIFreeBuffer(problems);
  Prop subject;
  get_prop(msg.p, PR_SUBJECT_W, subject);
  ASSERT_EQ(subject.hr, S_OK);
  EXPECT_EQ(pstkit::mapi::capi::utf8_from_wide(subject.v->Value.lpszW), "subject");
  SizedSPropTagArray(2, del) = {2, {PR_SUBJECT_A, PR_BODY_A}};
  ASSERT_EQ(msg->DeleteProps(reinterpret_cast<LPSPropTagArray>(&del), &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  EXPECT_EQ(problems->cProblem, 1u);
  EXPECT_EQ(problems->aProblem[0].scode, MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(problems);
  get_prop(msg.p, PR_SUBJECT_A, subject);
  EXPECT_EQ(subject.hr, MAPI_E_NOT_FOUND);
}

TEST_F(MapiStore, GetIDsFromNamesWithMapiCreatePersistsTheNameInTheStoreMap) {
  const std::string path = new_store();
  const GUID set = {0x12345678, 0x1234, 0x5678, {1, 2, 3, 4, 5, 6, 7, 8}};
  std::wstring name_text = L"pstkit-test-name";
  ULONG created = 0;
  {
    Ptr<IMsgStore> store;
    ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
    MAPINAMEID by_name{const_cast<LPGUID>(&set), MNID_STRING, {}};
    by_name.Kind.lpwstrName = name_text.data();
    LPMAPINAMEID names[1] = {&by_name};
    LPSPropTagArray tags = nullptr;
    ASSERT_EQ(store->GetIDsFromNames(1, names, 0, &tags), MAPI_W_ERRORS_RETURNED);
    EXPECT_EQ(tags->aulPropTag[0], ULONG(PROP_TAG(PT_ERROR, 0)));
    MAPIFreeBuffer(tags);
    ASSERT_EQ(store->GetIDsFromNames(1, names, MAPI_CREATE, &tags), S_OK);
    created = tags->aulPropTag[0];
    EXPECT_GE(PROP_ID(created), 0x8000u);
    MAPIFreeBuffer(tags);
    EXPECT_EQ(store->GetIDsFromNames(1, names, 0x100, &tags), MAPI_E_UNKNOWN_FLAGS);
  }
  // A new open reads it from the file: the same id, and the name back.
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
  SizedSPropTagArray(1, ids) = {1, {created}};
  LPSPropTagArray in = reinterpret_cast<LPSPropTagArray>(&ids);
  ULONG count = 0;
  LPMAPINAMEID* names = nullptr;
  ASSERT_EQ(store->GetNamesFromIDs(&in, nullptr, 0, &count, &names), S_OK);
  ASSERT_EQ(count, 1u);
  ASSERT_NE(names[0], nullptr);
  EXPECT_EQ(names[0]->ulKind, ULONG(MNID_STRING));
  EXPECT_EQ(std::wstring(names[0]->Kind.lpwstrName), name_text);
  EXPECT_EQ(std::memcmp(names[0]->lpguid, &set, sizeof set), 0);
  MAPIFreeBuffer(names);
  auto reader = pstkit::Store::open(path);
  ASSERT_TRUE(reader);
  const pstkit::NamedProperty* n = (*reader)->names().find(uint16_t(PROP_ID(created)));
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->name, "pstkit-test-name");
}

// ---- IMAPIFolder -------------------------------------------------------------

TEST_F(MapiStore, HierarchyAndContentsTablesListWhatTheReaderSees) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out(), 0), S_OK);
  Ptr<IMAPITable> hierarchy;
  ASSERT_EQ(subtree->GetHierarchyTable(0, hierarchy.out()), S_OK);
  auto names = column_strings(hierarchy.p, PR_DISPLAY_NAME_A);
  ASSERT_NE(std::find(names.begin(), names.end(), "Inbox"), names.end());
  EXPECT_EQ(subtree->GetHierarchyTable(0x1000, hierarchy.out()), MAPI_E_UNKNOWN_FLAGS);
  // Open Inbox through its row's PR_ENTRYID and list its contents.
  ASSERT_EQ(subtree->GetHierarchyTable(0, hierarchy.out()), S_OK);
  SizedSPropTagArray(2, cols) = {2, {PR_ENTRYID, PR_DISPLAY_NAME_A}};
  ASSERT_EQ(hierarchy->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
  LPSRowSet rows = nullptr;
  ASSERT_EQ(hierarchy->QueryRows(10, 0, &rows), S_OK);
  Ptr<IMAPIFolder> inbox;
  for (ULONG i = 0; i < rows->cRows; ++i) {
    if (std::string(rows->aRow[i].lpProps[1].Value.lpszA) != "Inbox") continue;
    ULONG type = 0;
    const SBinary& b = rows->aRow[i].lpProps[0].Value.bin;
    ASSERT_EQ(store->OpenEntry(b.cb, reinterpret_cast<LPENTRYID>(b.lpb), nullptr, 0, &type, inbox.unknown()), S_OK);
  }
  FreeProws(rows);
  ASSERT_TRUE(inbox);
  Ptr<IMAPITable> contents;
  ASSERT_EQ(inbox->GetContentsTable(0, contents.out()), S_OK);
  EXPECT_EQ(column_strings(contents.p, PR_SUBJECT_A), std::vector<std::string>{"Hello"});
  Ptr<IMAPITable> associated;
  ASSERT_EQ(inbox->GetContentsTable(MAPI_ASSOCIATED, associated.out()), S_OK);
  EXPECT_EQ(row_count(associated.p), 0u);
}

TEST_F(MapiStore, CreateFolderRefusesADuplicateNameUnlessOpenIfExists) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree, a, b;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR)L"Projects", (LPTSTR)L"my comment", nullptr, MAPI_UNICODE,
                                  a.out()),
            S_OK);
  EXPECT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "projects", nullptr, nullptr, 0, b.out()),
            MAPI_E_COLLISION);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Projects", nullptr, nullptr, OPEN_IF_EXISTS, b.out()),
            S_OK);
  EXPECT_EQ(entry_id_of(a.p), entry_id_of(b.p));
  EXPECT_EQ(subtree->CreateFolder(FOLDER_SEARCH, (LPTSTR) "S", nullptr, nullptr, 0, b.out()), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(subtree->CreateFolder(FOLDER_GENERIC, nullptr, nullptr, nullptr, 0, b.out()), MAPI_E_INVALID_PARAMETER);
  Prop comment;
  get_prop(a.p, PR_COMMENT_A, comment);
  ASSERT_EQ(comment.hr, S_OK);
  EXPECT_STREQ(comment.v->Value.lpszA, "my comment");
  // Folders are not transacted: a rename through SetProps is in the file at once.
  SPropValue rename{};
  rename.ulPropTag = PR_DISPLAY_NAME_A;
  rename.Value.lpszA = const_cast<char*>("Renamed");
  ASSERT_EQ(a->SetProps(1, &rename, nullptr), S_OK);
  a.reset();
  b.reset();
  subtree.reset();
  store.reset();
  auto reader = pstkit::Store::open(path);
  ASSERT_TRUE(reader);
  auto subtree_folder = (*reader)->open_folder(*(*reader)->ipm_subtree_nid());
  auto subs = subtree_folder->subfolders();
  std::vector<std::string> found;
  for (const auto& r : *subs) found.push_back(r.props.get_string(pstkit::prop::kDisplayName).value_or(""));
  EXPECT_NE(std::find(found.begin(), found.end(), "Renamed"), found.end());
  EXPECT_EQ(std::find(found.begin(), found.end(), "Projects"), found.end());
}

// The documentation-style client: create a folder and a message with
// recipients and an attachment streamed in pieces, SaveChanges; the file
// then reads back in pstkit's reader, checks clean and reads in libpff.
TEST_F(MapiStore, MessageCreatedThroughTheInterfacesReadsBackEverywhere) {
  const std::string path = new_store();
  std::vector<uint8_t> payload(300 * 1024 + 17);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i * 31 + (i >> 11));
  {
    Ptr<IMsgStore> store;
    ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
    Recorder recorder;
    Ptr<IMAPIAdviseSink> sink;
    ASSERT_EQ(HrAllocAdviseSink(&Recorder::callback, &recorder, sink.out()), S_OK);
    ULONG_PTR connection = 0;
    ASSERT_EQ(store->Advise(0, nullptr, fnevObjectCreated | fnevObjectModified, sink.p, &connection), S_OK);
    Ptr<IMAPIFolder> subtree, folder;
    ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
    ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "From MAPI", nullptr, nullptr, 0, folder.out()), S_OK);
    Ptr<IMessage> msg;
    ASSERT_EQ(folder->CreateMessage(nullptr, 0, msg.out()), S_OK);
    SPropValue props[3]{};
    props[0].ulPropTag = PR_SUBJECT_W;
    props[0].Value.lpszW = const_cast<wchar_t*>(L"Créé par MAPI");
    props[1].ulPropTag = PR_BODY_A;
    props[1].Value.lpszA = const_cast<char*>("Body text");
    props[2].ulPropTag = PR_MESSAGE_CLASS_A;
    props[2].Value.lpszA = const_cast<char*>("IPM.Note");
    ASSERT_EQ(msg->SetProps(3, props, nullptr), S_OK);
    // Two recipients through ModifyRecipients (CbNewADRLIST/MAPIAllocateBuffer as the samples do).
    LPADRLIST list = nullptr;
    ASSERT_EQ(MAPIAllocateBuffer(CbNewADRLIST(2), reinterpret_cast<LPVOID*>(&list)), S_OK);
    list->cEntries = 2;
    const char* names[2] = {"Bob", "Carol"};
    const char* addrs[2] = {"bob@example.com", "carol@example.com"};
    for (int i = 0; i < 2; ++i) {
      ASSERT_EQ(MAPIAllocateBuffer(4 * sizeof(SPropValue), reinterpret_cast<LPVOID*>(&list->aEntries[i].rgPropVals)),
                S_OK);
      list->aEntries[i].cValues = 4;
      SPropValue* r = list->aEntries[i].rgPropVals;
      r[0].ulPropTag = PR_DISPLAY_NAME_A;
      r[0].Value.lpszA = const_cast<char*>(names[i]);
      r[1].ulPropTag = PR_EMAIL_ADDRESS_A;
      r[1].Value.lpszA = const_cast<char*>(addrs[i]);
      r[2].ulPropTag = PR_ADDRTYPE_A;
      r[2].Value.lpszA = const_cast<char*>("SMTP");
      r[3].ulPropTag = PR_RECIPIENT_TYPE;
      r[3].Value.l = i == 0 ? MAPI_TO : MAPI_CC;
    }
    ASSERT_EQ(msg->ModifyRecipients(MODRECIP_ADD, list), S_OK);
    FreePadrlist(list);
    Ptr<IAttach> att;
    ULONG num = 99;
    ASSERT_EQ(msg->CreateAttach(nullptr, 0, &num, att.out()), S_OK);
    SPropValue aprops[2]{};
    aprops[0].ulPropTag = PR_ATTACH_METHOD;
    aprops[0].Value.l = ATTACH_BY_VALUE;
    aprops[1].ulPropTag = PR_ATTACH_LONG_FILENAME_A;
    aprops[1].Value.lpszA = const_cast<char*>("payload.bin");
    ASSERT_EQ(att->SetProps(2, aprops, nullptr), S_OK);
    Ptr<IStream> stream;
    ASSERT_EQ(att->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY,
                                stream.unknown()),
              S_OK);
    for (size_t off = 0; off < payload.size(); off += 65536) {
      ULONG written = 0;
      const ULONG n = ULONG(std::min<size_t>(65536, payload.size() - off));
      ASSERT_EQ(stream->Write(payload.data() + off, n, &written), S_OK);
      ASSERT_EQ(written, n);
    }
    ASSERT_EQ(stream->Commit(STGC_DEFAULT), S_OK);
    stream.reset();
    ASSERT_EQ(att->SaveChanges(0), S_OK);
    att.reset();
    Ptr<IMAPITable> atable;
    ASSERT_EQ(msg->GetAttachmentTable(0, atable.out()), S_OK);
    EXPECT_EQ(row_count(atable.p), 1u);
    EXPECT_EQ(msg->SaveChanges(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE), MAPI_E_INVALID_PARAMETER);
    ASSERT_EQ(msg->SaveChanges(KEEP_OPEN_READONLY), S_OK);
    auto id = entry_id_of(msg.p);
    EXPECT_EQ(id.size(), 24u);
    SPropValue late{};
    late.ulPropTag = PR_SUBJECT_A;
    late.Value.lpszA = const_cast<char*>("late");
    EXPECT_EQ(msg->SetProps(1, &late, nullptr), MAPI_E_NO_ACCESS);  // KEEP_OPEN_READONLY
    // The store told the sink: the folder and the message were created.
    EXPECT_GE(std::count(recorder.events.begin(), recorder.events.end(), fnevObjectCreated), 2);
    EXPECT_NE(std::find(recorder.ids.begin(), recorder.ids.end(), id), recorder.ids.end());
    ASSERT_EQ(store->Unadvise(connection), S_OK);
    EXPECT_EQ(store->Unadvise(connection), MAPI_E_NOT_FOUND);
    // Open it again by entry ID and stream the attachment back.
    ULONG type = 0;
    Ptr<IMessage> again;
    ASSERT_EQ(open_by_id(store.p, id, 0, &type, again.unknown()), S_OK);
    EXPECT_EQ(type, ULONG(MAPI_MESSAGE));
    Ptr<IMAPITable> rtable;
    ASSERT_EQ(again->GetRecipientTable(0, rtable.out()), S_OK);
    EXPECT_EQ(column_strings(rtable.p, PR_DISPLAY_NAME_A), (std::vector<std::string>{"Bob", "Carol"}));
    Ptr<IAttach> back;
    ASSERT_EQ(again->OpenAttach(0, nullptr, 0, back.out()), S_OK);
    ASSERT_EQ(back->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, 0, 0, stream.unknown()), S_OK);
    std::vector<uint8_t> read(payload.size() + 10);
    ULONG got = 0, total = 0;
    do {
      ASSERT_EQ(stream->Read(read.data() + total, 10000, &got), S_OK);
      total += got;
    } while (got > 0 && total < read.size() - 10000);
    ASSERT_EQ(stream->Read(read.data() + total, ULONG(read.size() - total), &got), S_OK);
    total += got;
    ASSERT_EQ(total, payload.size());
    read.resize(total);
    EXPECT_EQ(read, payload);
    EXPECT_EQ(stream->Write(read.data(), 1, &got), STG_E_ACCESSDENIED);  // opened read-only
  }
  // pstkit's reader.
  auto reader = pstkit::Store::open(path);
  ASSERT_TRUE(reader);
  auto subtree = (*reader)->open_folder(*(*reader)->ipm_subtree_nid());
  std::optional<pstkit::Nid> folder_nid;
  auto subtree_rows = subtree->subfolders();
  ASSERT_TRUE(subtree_rows);
  for (const auto& r : *subtree_rows) {
    if (r.props.get_string(pstkit::prop::kDisplayName) == "From MAPI") folder_nid = r.nid;
  }
  ASSERT_TRUE(folder_nid);
  auto folder = (*reader)->open_folder(*folder_nid);
  auto nids = folder->content_nids();
  ASSERT_EQ(nids->size(), 1u);
  auto message = (*reader)->open_message((*nids)[0]);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->subject(), "Créé par MAPI");
  EXPECT_EQ(message->body_text().value_or(""), "Body text");
  auto recipients = message->recipients();
  ASSERT_EQ(recipients->size(), 2u);
  EXPECT_EQ((*recipients)[1].get_string(pstkit::prop::kEmailAddress).value_or(""), "carol@example.com");
  auto attachments = message->attachment_nids();
  ASSERT_EQ(attachments->size(), 1u);
  auto attachment = message->open_attachment((*attachments)[0]);
  EXPECT_EQ(attachment->filename(), "payload.bin");
  auto data = attachment->read_data();
  ASSERT_TRUE(data);
  EXPECT_TRUE(std::equal(data->begin(), data->end(), payload.begin(), payload.end()));
  EXPECT_EQ(folder->content_count(), 1);
  // pstkit check.
  auto [check_status, check_out] = run(std::string(PSTKIT_CLI_PATH) + " check '" + path + "' 2>&1");
  EXPECT_EQ(check_status, 0) << check_out;
  // libpff (pffexport) and readpst read it: the folder, the message and the
  // attachment with all its bytes.
  const std::string export_dir = track(temp_path("pffexport"));
  auto [pff_status, pff_out] = run("pffexport -q -t '" + export_dir + "' '" + path + "' 2>&1");
  ASSERT_EQ(pff_status, 0) << pff_out;
  bool found_attachment = false, found_recipients = false;
  std::string listing;
  for (const auto& e : fs::recursive_directory_iterator(export_dir + ".export")) {
    listing += e.path().string() + "\n";
    if (e.path().string().find("From MAPI") == std::string::npos) continue;
    if (e.path().filename() == "1_payload.bin") {
      found_attachment = true;
      EXPECT_EQ(fs::file_size(e.path()), payload.size());
    }
    if (e.path().filename() == "Recipients.txt") {
      std::ifstream in(e.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_NE(text.find("carol@example.com"), std::string::npos) << text;
      found_recipients = true;
    }
  }
  EXPECT_TRUE(found_recipients);
  EXPECT_TRUE(found_attachment) << "pffexport did not export From MAPI/.../payload.bin:\n" << listing;
  const std::string readpst_dir = track(temp_path("readpst"));
  fs::create_directories(readpst_dir);
  auto [rp_status, rp_out] = run("readpst -q -D -S -o '" + readpst_dir + "' '" + path + "' 2>&1");
  ASSERT_EQ(rp_status, 0) << rp_out;
  bool found_folder = false;
  for (const auto& e : fs::recursive_directory_iterator(readpst_dir)) {
    found_folder |= e.path().filename() == "From MAPI";
  }
  EXPECT_TRUE(found_folder) << "readpst did not write the From MAPI folder";
  std::error_code ec;
  fs::remove_all(export_dir + ".export", ec);
  fs::remove_all(readpst_dir, ec);
}

TEST_F(MapiStore, AssociatedMessagesGoToTheAssociatedContentsTable) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  Ptr<IMessage> fai;
  ASSERT_EQ(subtree->CreateMessage(nullptr, MAPI_ASSOCIATED, fai.out()), S_OK);
  SPropValue cls{};
  cls.ulPropTag = PR_MESSAGE_CLASS_A;
  cls.Value.lpszA = const_cast<char*>("IPM.Configuration.Test");
  ASSERT_EQ(fai->SetProps(1, &cls, nullptr), S_OK);
  Prop flags;
  get_prop(fai.p, PR_MESSAGE_FLAGS, flags);
  EXPECT_NE(flags.v->Value.l & MSGFLAG_ASSOCIATED, 0);
  ASSERT_EQ(fai->SaveChanges(0), S_OK);
  Ptr<IMAPITable> associated, contents;
  ASSERT_EQ(subtree->GetContentsTable(MAPI_ASSOCIATED, associated.out()), S_OK);
  EXPECT_EQ(column_strings(associated.p, PR_MESSAGE_CLASS_A), std::vector<std::string>{"IPM.Configuration.Test"});
  ASSERT_EQ(subtree->GetContentsTable(0, contents.out()), S_OK);
  EXPECT_EQ(row_count(contents.p), 0u);
}

TEST_F(MapiStore, ModifyRecipientsAddsModifiesAndRemovesByRowId) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  Ptr<IMessage> msg;
  ASSERT_EQ(subtree->CreateMessage(nullptr, 0, msg.out()), S_OK);
  auto one = [](const char* name, LONG row_id) {
    LPADRLIST list = nullptr;
    EXPECT_EQ(MAPIAllocateBuffer(CbNewADRLIST(1), reinterpret_cast<LPVOID*>(&list)), S_OK);
    list->cEntries = 1;
    EXPECT_EQ(MAPIAllocateBuffer(2 * sizeof(SPropValue), reinterpret_cast<LPVOID*>(&list->aEntries[0].rgPropVals)),
              S_OK);
    list->aEntries[0].cValues = row_id >= 0 ? 2 : 1;
    list->aEntries[0].rgPropVals[0].ulPropTag = PR_DISPLAY_NAME_A;
    list->aEntries[0].rgPropVals[0].Value.lpszA = const_cast<char*>(name);
    list->aEntries[0].rgPropVals[1].ulPropTag = PR_ROWID;
    list->aEntries[0].rgPropVals[1].Value.l = row_id;
    return list;
  };
  LPADRLIST l = one("A", -1);
  ASSERT_EQ(msg->ModifyRecipients(MODRECIP_ADD, l), S_OK);
  FreePadrlist(l);
  l = one("B", -1);
  ASSERT_EQ(msg->ModifyRecipients(MODRECIP_ADD, l), S_OK);
  FreePadrlist(l);
  l = one("B2", 1);
  ASSERT_EQ(msg->ModifyRecipients(MODRECIP_MODIFY, l), S_OK);
  FreePadrlist(l);
  l = one("x", 7);
  EXPECT_EQ(msg->ModifyRecipients(MODRECIP_REMOVE, l), MAPI_E_NOT_FOUND);
  EXPECT_EQ(msg->ModifyRecipients(MODRECIP_ADD | MODRECIP_REMOVE, l), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(msg->ModifyRecipients(0x100, l), MAPI_E_UNKNOWN_FLAGS);
  FreePadrlist(l);
  l = one("x", -1);
  EXPECT_EQ(msg->ModifyRecipients(MODRECIP_MODIFY, l), MAPI_E_INVALID_PARAMETER);  // no PR_ROWID
  FreePadrlist(l);
  EXPECT_EQ(msg->ModifyRecipients(0, nullptr), MAPI_E_INVALID_PARAMETER);
  Ptr<IMAPITable> table;
  ASSERT_EQ(msg->GetRecipientTable(0, table.out()), S_OK);
  EXPECT_EQ(column_strings(table.p, PR_DISPLAY_NAME_A), (std::vector<std::string>{"A", "B2"}));
  EXPECT_EQ(msg->SubmitMessage(0), MAPI_E_NO_SUPPORT);  // recipients, but no transport
  ASSERT_EQ(msg->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
  // On the stored message: remove row 0, then replace all with no flag.
  l = one("A", 0);
  ASSERT_EQ(msg->ModifyRecipients(MODRECIP_REMOVE, l), S_OK);
  FreePadrlist(l);
  HRESULT saved = msg->SaveChanges(KEEP_OPEN_READWRITE);
  LPMAPIERROR err = nullptr;
  msg->GetLastError(saved, 0, &err);
  ASSERT_EQ(saved, S_OK) << (err && err->lpszError ? reinterpret_cast<const char*>(err->lpszError) : "");
  MAPIFreeBuffer(err);
  // Saved messages reach the file in write-behind batches (docs/MAPI.md).
  ASSERT_EQ(pstkit::mapi::capi::flush_open_stores(nullptr), S_OK);
  auto reader = pstkit::Store::open(path);
  auto id = entry_id_of(msg.p);
  std::array<uint8_t, 16> uid{};
  ASSERT_EQ(pst_store_record_key(store.p, &uid), S_OK);
  auto nid = pstkit::mapi::decode_entry_id(pstkit::ByteView(id), uid);
  auto m = (*reader)->open_message(*nid);
  auto recipients = m->recipients();
  ASSERT_EQ(recipients->size(), 1u);
  EXPECT_EQ((*recipients)[0].get_string(pstkit::prop::kDisplayName).value_or(""), "B2");
  l = one("Z", -1);
  ASSERT_EQ(msg->ModifyRecipients(0, l), S_OK);
  FreePadrlist(l);
  ASSERT_EQ(msg->GetRecipientTable(0, table.out()), S_OK);
  EXPECT_EQ(column_strings(table.p, PR_DISPLAY_NAME_A), std::vector<std::string>{"Z"});
}

TEST_F(MapiStore, SaveChangesDetectsAConflictUnlessForceSave) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  Ptr<IMessage> created;
  ASSERT_EQ(subtree->CreateMessage(nullptr, 0, created.out()), S_OK);
  ASSERT_EQ(created->SaveChanges(0), S_OK);
  auto id = entry_id_of(created.p);
  ULONG type = 0;
  Ptr<IMessage> first, second;
  ASSERT_EQ(open_by_id(store.p, id, MAPI_MODIFY, &type, first.unknown()), S_OK);
  ASSERT_EQ(open_by_id(store.p, id, MAPI_MODIFY, &type, second.unknown()), S_OK);
  SPropValue v{};
  v.ulPropTag = PR_SUBJECT_A;
  v.Value.lpszA = const_cast<char*>("first");
  ASSERT_EQ(first->SetProps(1, &v, nullptr), S_OK);
  ASSERT_EQ(first->SaveChanges(0), S_OK);
  // Wait for the clock to move (FILETIME has 100 ns resolution; be safe).
  v.Value.lpszA = const_cast<char*>("second");
  ASSERT_EQ(second->SetProps(1, &v, nullptr), S_OK);
  EXPECT_EQ(second->SaveChanges(KEEP_OPEN_READWRITE), MAPI_E_OBJECT_CHANGED);
  ASSERT_EQ(second->SaveChanges(FORCE_SAVE), S_OK);
  Prop subject;
  Ptr<IMessage> third;
  ASSERT_EQ(open_by_id(store.p, id, 0, &type, third.unknown()), S_OK);
  get_prop(third.p, PR_SUBJECT_A, subject);
  EXPECT_STREQ(subject.v->Value.lpszA, "second");
  // Deleted under it: MAPI_E_OBJECT_DELETED.
  Ptr<IMessage> fourth;
  ASSERT_EQ(open_by_id(store.p, id, MAPI_MODIFY, &type, fourth.unknown()), S_OK);
  SBinary bin{ULONG(id.size()), id.data()};
  ENTRYLIST list{1, &bin};
  ASSERT_EQ(subtree->DeleteMessages(&list, 0, nullptr, 0), S_OK);
  ASSERT_EQ(fourth->SetProps(1, &v, nullptr), S_OK);
  EXPECT_EQ(fourth->SaveChanges(0), MAPI_E_OBJECT_DELETED);
  EXPECT_EQ(open_by_id(store.p, id, 0, &type, third.unknown()), MAPI_E_NOT_FOUND);
}

TEST_F(MapiStore, CopyMessagesCopiesAndMessageMoveMoves) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree, inbox, other;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Inbox", nullptr, nullptr, OPEN_IF_EXISTS, inbox.out()),
            S_OK);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Other", nullptr, nullptr, 0, other.out()), S_OK);
  Ptr<IMAPITable> contents;
  ASSERT_EQ(inbox->GetContentsTable(0, contents.out()), S_OK);
  SizedSPropTagArray(1, cols) = {1, {PR_ENTRYID}};
  ASSERT_EQ(contents->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
  LPSRowSet rows = nullptr;
  ASSERT_EQ(contents->QueryRows(1, 0, &rows), S_OK);
  ASSERT_EQ(rows->cRows, 1u);
  std::vector<uint8_t> id(rows->aRow[0].lpProps[0].Value.bin.lpb,
                          rows->aRow[0].lpProps[0].Value.bin.lpb + rows->aRow[0].lpProps[0].Value.bin.cb);
  FreeProws(rows);
  SBinary bin{ULONG(id.size()), id.data()};
  ENTRYLIST list{1, &bin};
  ASSERT_EQ(inbox->CopyMessages(&list, nullptr, other.p, 0, nullptr, 0), S_OK);
  Ptr<IMAPITable> in_other;
  ASSERT_EQ(other->GetContentsTable(0, in_other.out()), S_OK);
  EXPECT_EQ(row_count(in_other.p), 1u);
  ASSERT_EQ(inbox->CopyMessages(&list, nullptr, other.p, 0, nullptr, MESSAGE_MOVE), S_OK);
  ASSERT_EQ(other->GetContentsTable(0, in_other.out()), S_OK);
  EXPECT_EQ(row_count(in_other.p), 2u);
  ASSERT_EQ(inbox->GetContentsTable(0, contents.out()), S_OK);
  EXPECT_EQ(row_count(contents.p), 0u);
  // The moved message is no longer in Inbox: a second move is partial.
  EXPECT_EQ(inbox->CopyMessages(&list, nullptr, other.p, 0, nullptr, MESSAGE_MOVE), MAPI_W_PARTIAL_COMPLETION);
  EXPECT_EQ(inbox->CopyMessages(&list, nullptr, other.p, 0, nullptr, 0x100), MAPI_E_UNKNOWN_FLAGS);
  Prop count;
  get_prop(other.p, PR_CONTENT_COUNT, count);
  EXPECT_EQ(count.v->Value.l, 2);
}

TEST_F(MapiStore, DeleteFolderNeedsDelFoldersAndDelMessagesForWhatItHolds) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree, inbox, child;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Inbox", nullptr, nullptr, OPEN_IF_EXISTS, inbox.out()),
            S_OK);
  ASSERT_EQ(inbox->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Child", nullptr, nullptr, 0, child.out()), S_OK);
  auto id = entry_id_of(inbox.p);
  auto* eid = reinterpret_cast<LPENTRYID>(id.data());
  EXPECT_EQ(subtree->DeleteFolder(24, eid, 0, nullptr, 0), MAPI_E_HAS_FOLDERS);
  EXPECT_EQ(subtree->DeleteFolder(24, eid, 0, nullptr, DEL_FOLDERS), MAPI_E_HAS_MESSAGES);
  EXPECT_EQ(child->DeleteFolder(24, eid, 0, nullptr, DEL_FOLDERS | DEL_MESSAGES), MAPI_E_NOT_FOUND);
  ASSERT_EQ(subtree->DeleteFolder(24, eid, 0, nullptr, DEL_FOLDERS | DEL_MESSAGES), S_OK);
  ULONG type = 0;
  Ptr<IUnknown> gone;
  EXPECT_EQ(open_by_id(store.p, id, 0, &type, gone.unknown()), MAPI_E_NOT_FOUND);
  child.reset();
  inbox.reset();
  subtree.reset();
  store.reset();
  auto [status, out] = run(std::string(PSTKIT_CLI_PATH) + " check '" + path + "' 2>&1");
  EXPECT_EQ(status, 0) << out;
}

TEST_F(MapiStore, CopyFolderCopiesWithSubfoldersAndFolderMoveMoves) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree, inbox, child, dest;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Inbox", nullptr, nullptr, OPEN_IF_EXISTS, inbox.out()),
            S_OK);
  ASSERT_EQ(inbox->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Child", nullptr, nullptr, 0, child.out()), S_OK);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Dest", nullptr, nullptr, 0, dest.out()), S_OK);
  auto id = entry_id_of(inbox.p);
  auto* eid = reinterpret_cast<LPENTRYID>(id.data());
  ASSERT_EQ(subtree->CopyFolder(24, eid, nullptr, dest.p, (LPTSTR) "Inbox copy", 0, nullptr, COPY_SUBFOLDERS), S_OK);
  EXPECT_EQ(subtree->CopyFolder(24, eid, nullptr, dest.p, (LPTSTR) "Inbox copy", 0, nullptr, 0), MAPI_E_COLLISION);
  EXPECT_EQ(subtree->CopyFolder(24, eid, nullptr, child.p, nullptr, 0, nullptr, FOLDER_MOVE), MAPI_E_FOLDER_CYCLE);
  Ptr<IMAPIFolder> copy;
  ASSERT_EQ(dest->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Inbox copy", nullptr, nullptr, OPEN_IF_EXISTS, copy.out()),
            S_OK);
  Ptr<IMAPITable> t;
  ASSERT_EQ(copy->GetContentsTable(0, t.out()), S_OK);
  EXPECT_EQ(column_strings(t.p, PR_SUBJECT_A), std::vector<std::string>{"Hello"});
  ASSERT_EQ(copy->GetHierarchyTable(0, t.out()), S_OK);
  EXPECT_EQ(column_strings(t.p, PR_DISPLAY_NAME_A), std::vector<std::string>{"Child"});
  ASSERT_EQ(subtree->CopyFolder(24, eid, nullptr, dest.p, nullptr, 0, nullptr, FOLDER_MOVE), S_OK);
  ASSERT_EQ(dest->GetHierarchyTable(0, t.out()), S_OK);
  auto names = column_strings(t.p, PR_DISPLAY_NAME_A);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"Inbox", "Inbox copy"}));
  Prop parent;
  get_prop(inbox.p, PR_PARENT_ENTRYID, parent);
  EXPECT_EQ(std::vector<uint8_t>(parent.v->Value.bin.lpb, parent.v->Value.bin.lpb + 24), entry_id_of(dest.p));
  inbox.reset();
  child.reset();
  dest.reset();
  copy.reset();
  t.reset();
  subtree.reset();
  store.reset();
  auto [status, out] = run(std::string(PSTKIT_CLI_PATH) + " check '" + path + "' 2>&1");
  EXPECT_EQ(status, 0) << out;
}

TEST_F(MapiStore, ReadFlagsAndMessageStatusChangeTheStoredMessage) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree, inbox;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  ASSERT_EQ(subtree->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Inbox", nullptr, nullptr, OPEN_IF_EXISTS, inbox.out()),
            S_OK);
  Prop unread;
  get_prop(inbox.p, PR_CONTENT_UNREAD, unread);
  EXPECT_EQ(unread.v->Value.l, 1);
  ASSERT_EQ(inbox->SetReadFlags(nullptr, 0, nullptr, 0), S_OK);
  get_prop(inbox.p, PR_CONTENT_UNREAD, unread);
  EXPECT_EQ(unread.v->Value.l, 0);
  EXPECT_EQ(inbox->SetReadFlags(nullptr, 0, nullptr, CLEAR_READ_FLAG | SUPPRESS_RECEIPT), MAPI_E_INVALID_PARAMETER);
  Ptr<IMAPITable> contents;
  ASSERT_EQ(inbox->GetContentsTable(0, contents.out()), S_OK);
  SizedSPropTagArray(1, cols) = {1, {PR_ENTRYID}};
  ASSERT_EQ(contents->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
  LPSRowSet rows = nullptr;
  ASSERT_EQ(contents->QueryRows(1, 0, &rows), S_OK);
  std::vector<uint8_t> id(rows->aRow[0].lpProps[0].Value.bin.lpb, rows->aRow[0].lpProps[0].Value.bin.lpb + 24);
  FreeProws(rows);
  ULONG type = 0;
  Ptr<IMessage> msg;
  ASSERT_EQ(open_by_id(store.p, id, 0, &type, msg.unknown()), S_OK);
  ASSERT_EQ(msg->SetReadFlag(CLEAR_READ_FLAG), S_OK);  // needs no MAPI_MODIFY, no SaveChanges
  get_prop(inbox.p, PR_CONTENT_UNREAD, unread);
  EXPECT_EQ(unread.v->Value.l, 1);
  auto* eid = reinterpret_cast<LPENTRYID>(id.data());
  ULONG status = 99, old = 99;
  ASSERT_EQ(inbox->GetMessageStatus(24, eid, 0, &status), S_OK);
  EXPECT_EQ(status, 0u);
  ASSERT_EQ(inbox->SetMessageStatus(24, eid, MSGSTATUS_TAGGED | MSGSTATUS_HIDDEN, MSGSTATUS_TAGGED, &old), S_OK);
  EXPECT_EQ(old, 0u);
  ASSERT_EQ(inbox->GetMessageStatus(24, eid, 0, &status), S_OK);
  EXPECT_EQ(status, ULONG(MSGSTATUS_TAGGED));
  EXPECT_EQ(inbox->GetMessageStatus(24, eid, 1, &status), MAPI_E_UNKNOWN_FLAGS);
  ASSERT_EQ(inbox->EmptyFolder(0, nullptr, 0), S_OK);
  ASSERT_EQ(inbox->GetContentsTable(0, contents.out()), S_OK);
  EXPECT_EQ(row_count(contents.p), 0u);
}

TEST_F(MapiStore, EmbeddedMessagesAreCreatedAndReadThroughAttachDataObj) {
  const std::string path = new_store();
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, MDB_WRITE, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out()), S_OK);
  Ptr<IMessage> outer;
  ASSERT_EQ(subtree->CreateMessage(nullptr, 0, outer.out()), S_OK);
  Ptr<IAttach> att;
  ULONG num = 0;
  ASSERT_EQ(outer->CreateAttach(nullptr, 0, &num, att.out()), S_OK);
  Ptr<IMessage> inner;
  ASSERT_EQ(att->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, MAPI_CREATE | MAPI_MODIFY, inner.unknown()), S_OK);
  SPropValue subject{};
  subject.ulPropTag = PR_SUBJECT_A;
  subject.Value.lpszA = const_cast<char*>("inner message");
  ASSERT_EQ(inner->SetProps(1, &subject, nullptr), S_OK);
  ASSERT_EQ(inner->SaveChanges(0), S_OK);
  inner.reset();
  ASSERT_EQ(att->SaveChanges(0), S_OK);
  att.reset();
  ASSERT_EQ(outer->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
  Ptr<IAttach> back;
  ASSERT_EQ(outer->OpenAttach(0, nullptr, 0, back.out()), S_OK);
  Prop method;
  get_prop(back.p, PR_ATTACH_METHOD, method);
  EXPECT_EQ(method.v->Value.l, LONG(ATTACH_EMBEDDED_MSG));
  ASSERT_EQ(back->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, 0, inner.unknown()), S_OK);
  Prop inner_subject;
  get_prop(inner.p, PR_SUBJECT_A, inner_subject);
  ASSERT_EQ(inner_subject.hr, S_OK);
  EXPECT_STREQ(inner_subject.v->Value.lpszA, "inner message");
  EXPECT_EQ(back->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, MAPI_MODIFY, inner.unknown()),
            MAPI_E_NO_ACCESS);  // opened read-only
  // Deleting the attachment is staged until SaveChanges.
  ASSERT_EQ(outer->DeleteAttach(0, 0, nullptr, 0), S_OK);
  EXPECT_EQ(outer->OpenAttach(0, nullptr, 0, back.out()), MAPI_E_NOT_FOUND);
  ASSERT_EQ(outer->SaveChanges(0), S_OK);
  Prop has;
  get_prop(outer.p, PR_HASATTACH, has);
  EXPECT_FALSE(has.v->Value.b);
}

// A stored attachment far larger than one read: read in pieces, in order.
TEST_F(MapiStore, AttachmentDataStreamsInPiecesOfAnySize) {
  const size_t size = 3 * 1024 * 1024 + 123;
  const std::string path = new_store(size);
  Ptr<IMsgStore> store;
  ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
  Ptr<IMAPIFolder> subtree, inbox;
  ASSERT_EQ(open_ipm_subtree(store.p, subtree.out(), 0), S_OK);
  Ptr<IMAPITable> hierarchy;
  ASSERT_EQ(subtree->GetHierarchyTable(0, hierarchy.out()), S_OK);
  SizedSPropTagArray(1, cols) = {1, {PR_ENTRYID}};
  // Inbox, found by name (the IPM subtree also holds Deleted Items).
  SPropValue inbox_name{};
  inbox_name.ulPropTag = PR_DISPLAY_NAME_A;
  inbox_name.Value.lpszA = const_cast<char*>("Inbox");
  SRestriction by_name{};
  by_name.rt = RES_PROPERTY;
  by_name.res.resProperty.relop = RELOP_EQ;
  by_name.res.resProperty.ulPropTag = PR_DISPLAY_NAME_A;
  by_name.res.resProperty.lpProp = &inbox_name;
  LPSRowSet rows = nullptr;
  ASSERT_EQ(HrQueryAllRows(hierarchy.p, reinterpret_cast<LPSPropTagArray>(&cols), &by_name, nullptr, 0, &rows), S_OK);
  ASSERT_EQ(rows->cRows, 1u);
  ULONG type = 0;
  const SBinary& b = rows->aRow[0].lpProps[0].Value.bin;
  ASSERT_EQ(store->OpenEntry(b.cb, reinterpret_cast<LPENTRYID>(b.lpb), nullptr, 0, &type, inbox.unknown()), S_OK);
  FreeProws(rows);
  Ptr<IMAPITable> contents;
  ASSERT_EQ(inbox->GetContentsTable(0, contents.out()), S_OK);
  ASSERT_EQ(contents->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
  ASSERT_EQ(contents->QueryRows(1, 0, &rows), S_OK);
  Ptr<IMessage> msg;
  const SBinary& m = rows->aRow[0].lpProps[0].Value.bin;
  ASSERT_EQ(store->OpenEntry(m.cb, reinterpret_cast<LPENTRYID>(m.lpb), nullptr, 0, &type, msg.unknown()), S_OK);
  FreeProws(rows);
  Ptr<IMAPITable> atable;
  ASSERT_EQ(msg->GetAttachmentTable(0, atable.out()), S_OK);
  SizedSPropTagArray(2, acols) = {2, {PR_ATTACH_NUM, PR_ATTACH_LONG_FILENAME_A}};
  ASSERT_EQ(atable->SetColumns(reinterpret_cast<LPSPropTagArray>(&acols), 0), S_OK);
  ASSERT_EQ(atable->QueryRows(10, 0, &rows), S_OK);
  ASSERT_EQ(rows->cRows, 1u);
  const ULONG num = ULONG(rows->aRow[0].lpProps[0].Value.l);
  ASSERT_EQ(rows->aRow[0].lpProps[1].ulPropTag, ULONG(PR_ATTACH_LONG_FILENAME_A));
  EXPECT_STREQ(rows->aRow[0].lpProps[1].Value.lpszA, "data.bin");
  FreeProws(rows);
  Ptr<IAttach> att;
  ASSERT_EQ(msg->OpenAttach(num, nullptr, 0, att.out()), S_OK);
  EXPECT_EQ(msg->OpenAttach(num, nullptr, MAPI_MODIFY, att.out()), MAPI_E_NO_ACCESS);
  ASSERT_EQ(msg->OpenAttach(num, nullptr, 0, att.out()), S_OK);
  Ptr<IStream> stream;
  ASSERT_EQ(att->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, 0, 0, stream.unknown()), S_OK);
  STATSTG stat{};
  ASSERT_EQ(stream->Stat(&stat, STATFLAG_NONAME), S_OK);
  EXPECT_EQ(stat.cbSize.QuadPart, size);
  std::vector<uint8_t> chunk(8191);
  size_t offset = 0;
  bool same = true;
  for (;;) {
    ULONG got = 0;
    ASSERT_EQ(stream->Read(chunk.data(), ULONG(chunk.size()), &got), S_OK);
    if (got == 0) break;
    for (ULONG i = 0; i < got; ++i) same &= chunk[i] == uint8_t(((offset + i) * 7919) >> 3);
    offset += got;
  }
  EXPECT_EQ(offset, size);
  EXPECT_TRUE(same);
  LARGE_INTEGER back{};
  back.QuadPart = -10;
  ULARGE_INTEGER pos{};
  ASSERT_EQ(stream->Seek(back, STREAM_SEEK_END, &pos), S_OK);
  EXPECT_EQ(pos.QuadPart, size - 10);
}

// ---- Outlook-made corpus stores ---------------------------------------------

// Every whole corpus store opens; the IPM subtree's hierarchy table lists
// the folders the reader sees, and every folder's PR_ENTRYID from the table
// opens that folder, whose own PR_ENTRYID compares equal.
TEST_F(MapiStore, CorpusStoresOpenAndTheirEntryIdsRoundTrip) {
  const auto stores = pstkit::test::whole_corpus_stores();
  if (stores.empty()) {
    if (pstkit::test::in_ci()) FAIL() << "corpus missing";
    GTEST_SKIP() << "no corpus";
  }
  int opened = 0;
  for (const auto& rel : stores) {
    const std::string path = pstkit::test::kCorpusDir + rel;
    auto reader = pstkit::Store::open(path);
    if (!reader || !(*reader)->ipm_subtree_nid()) continue;  // the reader's own tests cover these
    SCOPED_TRACE(rel);
    Ptr<IMsgStore> store;
    ASSERT_EQ(open_pst_store(path, 0, store.out()), S_OK);
    Ptr<IMAPIFolder> subtree;
    ASSERT_EQ(open_ipm_subtree(store.p, subtree.out(), 0), S_OK);
    auto folder = (*reader)->open_folder(*(*reader)->ipm_subtree_nid());
    ASSERT_TRUE(folder);
    auto subfolders = folder->subfolders();
    ASSERT_TRUE(subfolders);
    Ptr<IMAPITable> hierarchy;
    ASSERT_EQ(subtree->GetHierarchyTable(0, hierarchy.out()), S_OK);
    SizedSPropTagArray(2, cols) = {2, {PR_ENTRYID, PR_CONTENT_COUNT}};
    ASSERT_EQ(hierarchy->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
    LPSRowSet rows = nullptr;
    ASSERT_EQ(HrQueryAllRows(hierarchy.p, nullptr, nullptr, nullptr, 0, &rows), S_OK);
    EXPECT_EQ(rows->cRows, subfolders->size());
    for (ULONG i = 0; i < rows->cRows; ++i) {
      const SBinary& b = rows->aRow[i].lpProps[0].Value.bin;
      ULONG type = 0;
      Ptr<IMAPIFolder> child;
      ASSERT_EQ(store->OpenEntry(b.cb, reinterpret_cast<LPENTRYID>(b.lpb), nullptr, 0, &type, child.unknown()), S_OK);
      EXPECT_EQ(type, ULONG(MAPI_FOLDER));
      auto own = entry_id_of(child.p);
      ULONG equal = 0;
      ASSERT_EQ(store->CompareEntryIDs(b.cb, reinterpret_cast<LPENTRYID>(b.lpb), ULONG(own.size()),
                                       reinterpret_cast<LPENTRYID>(own.data()), 0, &equal),
                S_OK);
      EXPECT_TRUE(equal);
      // Its contents table has the rows the reader reads.
      std::array<uint8_t, 16> uid{};
      ASSERT_EQ(pst_store_record_key(store.p, &uid), S_OK);
      auto nid = pstkit::mapi::decode_entry_id(pstkit::ByteView(b.lpb, b.cb), uid);
      ASSERT_TRUE(nid);
      auto read = (*reader)->open_folder(*nid);
      auto messages = read ? read->content_nids() : pstkit::Result<std::vector<pstkit::Nid>>(pstkit::Status::not_found(""));
      if (messages) {
        Ptr<IMAPITable> contents;
        ASSERT_EQ(child->GetContentsTable(0, contents.out()), S_OK);
        EXPECT_EQ(row_count(contents.p), ULONG(messages->size()));
      }
    }
    FreeProws(rows);
    ++opened;
  }
  EXPECT_GT(opened, 0);
}

}  // namespace
