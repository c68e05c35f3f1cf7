// Conformance tests of MAPILogonEx and IMAPISession against the rules of
// mapilogonex.md, mapi-sessions.md and the imapisession-*.md pages, over
// temporary profile directories and PSTs pstkit writes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "mapi/session.h"
#include "pstkit/mapi/mapiutil.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi/mspst.h"
#include "pstkit/mapi_profiles.h"
#include "pstkit/mapi_session.h"
#include "pstkit/mapi_ui.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb.h"
#include "pstkit/store_writer.h"
#include "messaging/node_writer.h"
#include "test_corpus.h"

namespace pstkit::mapi {
namespace {

namespace fs = std::filesystem;
using capi::StoreOpenRequest;

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "pstkit-session-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, ec);
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- a fake IMsgStore for the store opener -------------------------------

class FakeStore final : public IMsgStore {
 public:
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    if (riid == IID_IUnknown || riid == IID_IMsgStore || riid == IID_IMAPIProp) {
      AddRef();
      *ppv = this;
      return S_OK;
    }
    *ppv = nullptr;
    return E_NOINTERFACE;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs; }
  STDMETHODIMP_(ULONG) Release() override {
    ULONG left = --refs;
    if (left == 0) delete this;
    return left;
  }
  STDMETHODIMP GetLastError(HRESULT, ULONG, LPMAPIERROR*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SaveChanges(ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetProps(LPSPropTagArray, ULONG, ULONG*, LPSPropValue*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetPropList(ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP OpenProperty(ULONG, LPCIID, ULONG, ULONG, LPUNKNOWN*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetProps(ULONG, LPSPropValue, LPSPropProblemArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP DeleteProps(LPSPropTagArray, LPSPropProblemArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP CopyTo(ULONG, LPCIID, LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                      LPSPropProblemArray*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP CopyProps(LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                         LPSPropProblemArray*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetNamesFromIDs(LPSPropTagArray*, LPGUID, ULONG, ULONG*, LPMAPINAMEID**) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetIDsFromNames(ULONG, LPMAPINAMEID*, ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP Advise(ULONG cb, LPENTRYID, ULONG mask, LPMAPIADVISESINK sink, ULONG_PTR* conn) override {
    sink->AddRef();
    sinks.emplace(next, sink);
    advised_entry_size = cb;
    advised_mask = mask;
    *conn = next++;
    return S_OK;
  }
  STDMETHODIMP Unadvise(ULONG_PTR conn) override {
    auto it = sinks.find(conn);
    if (it == sinks.end()) return MAPI_E_NOT_FOUND;
    it->second->Release();
    sinks.erase(it);
    ++unadvised;
    return S_OK;
  }
  STDMETHODIMP CompareEntryIDs(ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP OpenEntry(ULONG cb, LPENTRYID id, LPCIID, ULONG, ULONG* type, LPUNKNOWN* unk) override {
    opened_entry.assign(reinterpret_cast<uint8_t*>(id), reinterpret_cast<uint8_t*>(id) + cb);
    ++open_entry_calls;
    *type = MAPI_FOLDER;
    AddRef();
    *unk = this;  // any object will do: the test checks the forwarding
    return S_OK;
  }
  STDMETHODIMP SetReceiveFolder(LPTSTR, ULONG, ULONG, LPENTRYID) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetReceiveFolder(LPTSTR, ULONG, ULONG*, LPENTRYID*, LPTSTR*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetReceiveFolderTable(ULONG, LPMAPITABLE*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP StoreLogoff(ULONG*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP AbortSubmit(ULONG, LPENTRYID, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetOutgoingQueue(ULONG, LPMAPITABLE*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetLockState(LPMESSAGE, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP FinishedMsg(ULONG, ULONG, LPENTRYID) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP NotifyNewMail(LPNOTIFICATION) override { return MAPI_E_NO_SUPPORT; }

  // Tells every registered sink that an object was created.
  void notify_created() {
    for (auto& [c, sink] : sinks) {
      NOTIFICATION n;
      std::memset(&n, 0, sizeof n);
      n.ulEventType = fnevObjectCreated;
      n.info.obj.ulObjType = MAPI_MESSAGE;
      sink->OnNotify(1, &n);
    }
  }

  std::atomic<ULONG> refs{1};
  std::map<ULONG_PTR, LPMAPIADVISESINK> sinks;
  ULONG_PTR next = 100;
  ULONG advised_entry_size = 0;
  ULONG advised_mask = 0;
  int unadvised = 0;
  Bytes opened_entry;
  int open_entry_calls = 0;

 private:
  ~FakeStore() = default;
};

// ---- fixture --------------------------------------------------------------

constexpr ULONG kExt = MAPI_EXTENDED;

class MapiSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("PSTKIT_PROFILE_DIR", dir_.path().c_str(), 1);
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
    set_ui_callback({});
    // The runtime's own opener, put back for the tests that run after.
    saved_opener_ = capi::set_store_opener({});
    capi::set_store_opener(saved_opener_);
  }
  void TearDown() override {
    set_ui_callback({});
    capi::set_store_opener(saved_opener_);
    MAPIUninitialize();
    ::unsetenv("PSTKIT_PROFILE_DIR");
  }

  capi::StoreOpener saved_opener_;

  ProfileStore store() {
    auto s = ProfileStore::open(dir_.path());
    EXPECT_TRUE(s.is_ok());
    return std::move(*s);
  }

  // A profile with one "MSUPST MS" service whose new PST is at DIR/FILE.
  MapiUid add_pst(const std::string& profile, const std::string& file, const std::string& display) {
    ProfileStore ps = store();
    auto uid = ps.create_service(profile, "MSUPST MS", display, builtin_catalog());
    EXPECT_TRUE(uid.is_ok()) << uid.status().message();
    auto done = ps.configure_service(
        profile, *uid,
        {SectionProp::string_value(tags::kPstPath, path(file)),
         SectionProp::string_value(tags::kDisplayName, display),
         SectionProp::long_value(tags::kPstConfigFlags, int32_t(kPstConfigCreateNowarn))});
    EXPECT_TRUE(done.is_ok()) << done.status().message();
    return *uid;
  }
  void make_profile(const std::string& name, const std::string& file) {
    ASSERT_TRUE(store().create_profile(name).is_ok());
    add_pst(name, file, name + " mail");
  }
  std::string path(const std::string& file) const { return dir_.path() + "/" + file; }

  // A third-party service from a catalog: "THIRD" with a store provider
  // "THIRD P" and a transport "THIRD X".
  MapiUid add_third_party(const std::string& profile) {
    std::vector<CatalogDiagnostic> diags;
    auto cat = parse_mapisvc_inf(
        "[Services]\nTHIRD=Third Party\n"
        "[THIRD]\nProviders=THIRD P,THIRD X\nPR_SERVICE_DLL_NAME=libthird.so\n"
        "[THIRD P]\nPR_PROVIDER_DLL_NAME=libthird.so\nPR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\nPR_PROVIDER_DISPLAY=Third store\n"
        "[THIRD X]\nPR_PROVIDER_DLL_NAME=libthird.so\nPR_RESOURCE_TYPE=MAPI_TRANSPORT_PROVIDER\nPR_PROVIDER_DISPLAY=Third transport\n",
        "test.inf", &diags);
    EXPECT_TRUE(cat.is_ok());
    EXPECT_TRUE(diags.empty());
    auto uid = store().create_service(profile, "THIRD", "Third Party", *cat);
    EXPECT_TRUE(uid.is_ok()) << uid.status().message();
    return *uid;
  }

  TempDir dir_;
};

HRESULT logon(const char* profile, ULONG flags, LPMAPISESSION* s) {
  return MAPILogonEx(0, const_cast<LPTSTR>(profile), nullptr, flags, s);
}

// All rows of a table (HrQueryAllRows), freed by the caller with FreeProws.
LPSRowSet all_rows(LPMAPITABLE table) {
  LPSRowSet rows = nullptr;
  EXPECT_EQ(HrQueryAllRows(table, nullptr, nullptr, nullptr, 0, &rows), S_OK);
  return rows;
}

struct StoreRow {
  Bytes entry_id;
  std::string display;
  bool is_default = false;
  Bytes record_key;
  Bytes mdb_provider;
  ULONG resource_flags = 0;
};

std::vector<StoreRow> stores_of(LPMAPISESSION s) {
  std::vector<StoreRow> out;
  LPMAPITABLE table = nullptr;
  EXPECT_EQ(s->GetMsgStoresTable(0, &table), S_OK);
  if (table == nullptr) return out;
  LPSRowSet rows = all_rows(table);
  for (ULONG i = 0; rows != nullptr && i < rows->cRows; ++i) {
    const SRow& r = rows->aRow[i];
    StoreRow row;
    auto bin = [&](ULONG tag) {
      auto* p = PpropFindProp(r.lpProps, r.cValues, tag);
      return p ? Bytes(p->Value.bin.lpb, p->Value.bin.lpb + p->Value.bin.cb) : Bytes{};
    };
    row.entry_id = bin(PR_ENTRYID);
    row.record_key = bin(PR_RECORD_KEY);
    row.mdb_provider = bin(PR_MDB_PROVIDER);
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_DISPLAY_NAME_A)) row.display = p->Value.lpszA;
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_DEFAULT_STORE)) row.is_default = p->Value.b != 0;
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_RESOURCE_FLAGS)) row.resource_flags = p->Value.l;
    out.push_back(row);
  }
  FreeProws(rows);
  table->Release();
  return out;
}

struct StatusRow {
  ULONG type = 0;
  std::string display;
  std::string provider_display;
  ULONG code = 0;
  std::string text;
};

std::vector<StatusRow> status_of(LPMAPISESSION s) {
  std::vector<StatusRow> out;
  LPMAPITABLE table = nullptr;
  EXPECT_EQ(s->GetStatusTable(0, &table), S_OK);
  if (table == nullptr) return out;
  LPSRowSet rows = all_rows(table);
  for (ULONG i = 0; rows != nullptr && i < rows->cRows; ++i) {
    const SRow& r = rows->aRow[i];
    StatusRow row;
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_RESOURCE_TYPE)) row.type = p->Value.l;
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_DISPLAY_NAME_A)) row.display = p->Value.lpszA;
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_PROVIDER_DISPLAY_A)) row.provider_display = p->Value.lpszA;
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_STATUS_CODE)) row.code = p->Value.l;
    if (auto* p = PpropFindProp(r.lpProps, r.cValues, PR_STATUS_STRING_A)) row.text = p->Value.lpszA;
    out.push_back(row);
  }
  FreeProws(rows);
  table->Release();
  return out;
}

ProviderUid record_key_of(const std::string& pst) {
  auto st = Store::open(pst);
  EXPECT_TRUE(st.is_ok());
  auto key = store_provider_uid(**st);
  EXPECT_TRUE(key.is_ok());
  return *key;
}


// Protects a PST with a password: PidTagPstPassword on the message store
// node is the MS-PST 5.3 CRC of the password (MS-PST 2.4.3.1).
void set_pst_password(const std::string& file, const std::string& password) {
  auto w = StoreWriter::open(file);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  ndb::WritableDatabase& db = (*w)->db();
  auto entry = db.find_node(ndb::kNidMessageStore);
  ASSERT_TRUE(entry.is_ok());
  auto node = db.open_node(ndb::kNidMessageStore);
  ASSERT_TRUE(node.is_ok());
  auto previous = (*node)->subnodes();
  ASSERT_TRUE(previous.is_ok());
  auto pc = (*w)->store().open_pc(std::shared_ptr<const ndb::Node>(std::move(*node)));
  ASSERT_TRUE(pc.is_ok());
  auto builder = ltp::PcBuilder::from_existing(**pc);
  ASSERT_TRUE(builder.is_ok());
  const uint32_t crc = ndb::compute_crc(reinterpret_cast<const uint8_t*>(password.data()), password.size());
  const Bytes value = {uint8_t(crc), uint8_t(crc >> 8), uint8_t(crc >> 16), uint8_t(crc >> 24)};
  ASSERT_TRUE(builder->set(ltp::make_tag(0x67FF, ltp::kPtypInteger32), value).is_ok());
  auto built = builder->build();
  ASSERT_TRUE(built.is_ok());
  std::vector<ndb::Nid> carried;
  for (const auto& e : *previous)
    if (!built->subnodes.count(e.nid) && !built->reused_subnodes.count(e.nid) && !built->released_subnodes.count(e.nid))
      carried.push_back(e.nid);
  ASSERT_TRUE(put_built_node(db, ndb::kNidMessageStore, entry->parent_nid, *built, *previous, carried).is_ok());
  ASSERT_TRUE((*w)->commit().is_ok());
}

// ---- the flag values --------------------------------------------------------

TEST(MapiSessionFlagsTest, CoreFlagValuesAreTheHeaderValues) {
  EXPECT_EQ(logon_flag::kLogonUi, MAPI_LOGON_UI);
  EXPECT_EQ(logon_flag::kNewSession, MAPI_NEW_SESSION);
  EXPECT_EQ(logon_flag::kAppProfile, MAPI_APP_PROFILE);
  EXPECT_EQ(logon_flag::kAllowOthers, MAPI_ALLOW_OTHERS);
  EXPECT_EQ(logon_flag::kExplicitProfile, MAPI_EXPLICIT_PROFILE);
  EXPECT_EQ(logon_flag::kExtended, MAPI_EXTENDED);
  EXPECT_EQ(logon_flag::kUseDefault, MAPI_USE_DEFAULT);
  EXPECT_EQ(logon_flag::kForceDownload, MAPI_FORCE_DOWNLOAD);
  EXPECT_EQ(logon_flag::kServiceUiAlways, MAPI_SERVICE_UI_ALWAYS);
  EXPECT_EQ(logon_flag::kNoMail, MAPI_NO_MAIL);
  EXPECT_EQ(logon_flag::kNtService, MAPI_NT_SERVICE);
  EXPECT_EQ(logon_flag::kPasswordUi, MAPI_PASSWORD_UI);
  EXPECT_EQ(logon_flag::kTimeoutShort, MAPI_TIMEOUT_SHORT);
  EXPECT_EQ(logon_flag::kBgSession, MAPI_BG_SESSION);
  EXPECT_EQ(logon_flag::kUnicode, MAPI_UNICODE);
  EXPECT_EQ(session_scode::kLogonFailed, MAPI_E_LOGON_FAILED);
  EXPECT_EQ(session_scode::kSessionLimit, MAPI_E_SESSION_LIMIT);
  EXPECT_EQ(session_scode::kTimeout, MAPI_E_TIMEOUT);
  EXPECT_EQ(session_scode::kUserCancel, MAPI_E_USER_CANCEL);
  EXPECT_EQ(session_scode::kEndOfSession, MAPI_E_END_OF_SESSION);
  EXPECT_EQ(session_scode::kUnknownFlags, MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(session_scode::kUnconfigured, MAPI_E_UNCONFIGURED);
  EXPECT_EQ(kMapiSpooler, MAPI_SPOOLER);
  EXPECT_EQ(kMapiSubsystem, MAPI_SUBSYSTEM);
}

TEST(MapiSessionInitTest, LogonBeforeMapiInitializeIsNotInitialized) {
  LPMAPISESSION s = reinterpret_cast<LPMAPISESSION>(0x1);
  EXPECT_EQ(MAPILogonEx(0, nullptr, nullptr, kExt | MAPI_USE_DEFAULT, &s), MAPI_E_NOT_INITIALIZED);
  EXPECT_EQ(s, nullptr);
}

// ---- profile choice ---------------------------------------------------------

TEST_F(MapiSessionTest, ANamedProfileWithNewSessionLogsOnAndListsItsStore) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_NO_MAIL, &s), S_OK);
  auto stores = stores_of(s);
  ASSERT_EQ(stores.size(), 1u);
  EXPECT_EQ(stores[0].display, "Work mail");
  EXPECT_TRUE(stores[0].is_default);
  EXPECT_TRUE(stores[0].resource_flags & STATUS_DEFAULT_STORE);
  const uint8_t mspst[] = MSPST_UID_PROVIDER;
  EXPECT_EQ(stores[0].mdb_provider, Bytes(std::begin(mspst), std::end(mspst)));
  ProviderUid key = record_key_of(path("work.pst"));
  EXPECT_EQ(stores[0].record_key, Bytes(key.begin(), key.end()));
  // The entry ID is MAPI's wrapped store entry ID naming the file.
  EXPECT_EQ(stores[0].entry_id, store_entry_id(path("work.pst")));
  EXPECT_TRUE(is_store_entry_id(stores[0].entry_id));
  EXPECT_EQ(s->Logoff(0, 0, 0), S_OK);
  s->Release();
}

TEST_F(MapiSessionTest, NoProfileNameWithoutUiOrUseDefaultFails) {
  make_profile("Work", "work.pst");
  ASSERT_TRUE(store().set_default_profile("Work").is_ok());
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION, &s), MAPI_E_LOGON_FAILED);
  EXPECT_EQ(logon("", kExt | MAPI_NEW_SESSION, &s), MAPI_E_LOGON_FAILED);
  EXPECT_EQ(s, nullptr);
}

TEST_F(MapiSessionTest, UseDefaultSubstitutesTheDefaultProfile) {
  make_profile("Work", "work.pst");
  make_profile("Home", "home.pst");
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_USE_DEFAULT, &s), MAPI_E_LOGON_FAILED);  // no default yet
  ASSERT_TRUE(store().set_default_profile("Home").is_ok());
  ASSERT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_USE_DEFAULT, &s), S_OK);
  EXPECT_EQ(stores_of(s).at(0).display, "Home mail");
  s->Release();
  // A name given wins over MAPI_USE_DEFAULT.
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_USE_DEFAULT, &s), S_OK);
  EXPECT_EQ(stores_of(s).at(0).display, "Work mail");
  s->Release();
}

TEST_F(MapiSessionTest, UnknownProfileWithoutUiFails) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(logon("Nope", kExt | MAPI_NEW_SESSION, &s), MAPI_E_LOGON_FAILED);
}

TEST_F(MapiSessionTest, LogonUiAsksForTheProfileWithTheDefaultUnlessExplicitProfile) {
  make_profile("Work", "work.pst");
  make_profile("Home", "home.pst");
  ASSERT_TRUE(store().set_default_profile("Home").is_ok());
  std::vector<UiRequest> asked;
  set_ui_callback([&](const UiRequest& r) -> std::optional<std::string> {
    asked.push_back(r);
    return std::string("Work");
  });
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(MAPILogonEx(77, nullptr, nullptr, kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &s), S_OK);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].kind, UiRequest::Kind::kChooseProfile);
  EXPECT_EQ(asked[0].ui_param, 77u);
  EXPECT_EQ(asked[0].current, "Home");
  EXPECT_EQ(asked[0].choices, (std::vector<std::string>{"Work", "Home"}));
  EXPECT_EQ(stores_of(s).at(0).display, "Work mail");
  s->Release();
  // MAPI_EXPLICIT_PROFILE: the default is not offered.
  ASSERT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI | MAPI_EXPLICIT_PROFILE, &s), S_OK);
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1].current, "");
  s->Release();
  // A profile that does not exist is asked for again through the dialog.
  ASSERT_EQ(logon("Gone", kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &s), S_OK);
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[2].current, "Gone");
  s->Release();
}

TEST_F(MapiSessionTest, AppProfilesAreOfferedOnlyWithMapiAppProfile) {
  make_profile("Work", "work.pst");
  ASSERT_TRUE(store().create_profile("Tool", "", true).is_ok());
  std::vector<std::string> choices;
  set_ui_callback([&](const UiRequest& r) -> std::optional<std::string> {
    choices = r.choices;
    return std::string("Work");
  });
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &s), S_OK);
  EXPECT_EQ(choices, std::vector<std::string>{"Work"});
  s->Release();
  ASSERT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI | MAPI_APP_PROFILE, &s), S_OK);
  EXPECT_EQ(choices, (std::vector<std::string>{"Work", "Tool"}));
  s->Release();
}

TEST_F(MapiSessionTest, CancellingTheLogonDialogIsUserCancel) {
  make_profile("Work", "work.pst");
  set_ui_callback([](const UiRequest&) -> std::optional<std::string> { return std::nullopt; });
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &s), MAPI_E_USER_CANCEL);
  EXPECT_EQ(s, nullptr);
}

TEST_F(MapiSessionTest, LogonUiWithoutAUiCallbackFails) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &s), MAPI_E_LOGON_FAILED);
}

TEST_F(MapiSessionTest, InvalidArgumentsAreRefused) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(MAPILogonEx(0, const_cast<LPTSTR>("Work"), nullptr, kExt | MAPI_NEW_SESSION, nullptr),
            MAPI_E_INVALID_PARAMETER);
  // "The lpszPassword parameter must be NULL."
  EXPECT_EQ(MAPILogonEx(0, const_cast<LPTSTR>("Work"), const_cast<LPTSTR>("secret"), kExt | MAPI_NEW_SESSION, &s),
            MAPI_E_LOGON_FAILED);
  // "This string is limited to 64 characters."
  std::string long_name(65, 'a');
  EXPECT_EQ(logon(long_name.c_str(), kExt | MAPI_NEW_SESSION, &s), MAPI_E_LOGON_FAILED);
  EXPECT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | 0x00000400, &s), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI | MAPI_PASSWORD_UI, &s), MAPI_E_LOGON_FAILED);
  EXPECT_EQ(s, nullptr);
}

TEST_F(MapiSessionTest, MapiUnicodeStringsAreWideCharacters) {
  make_profile("Wörk", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(MAPILogonEx(0, reinterpret_cast<LPTSTR>(const_cast<wchar_t*>(L"Wörk")), nullptr,
                        kExt | MAPI_NEW_SESSION | MAPI_UNICODE, &s),
            S_OK);
  EXPECT_EQ(stores_of(s).at(0).display, "Wörk mail");
  s->Release();
  // The same name in 8 bits is UTF-8.
  ASSERT_EQ(logon("Wörk", kExt | MAPI_NEW_SESSION, &s), S_OK);
  s->Release();
  // 64 wide characters are allowed, 65 are not.
  std::wstring w65(65, L'ö');
  EXPECT_EQ(MAPILogonEx(0, reinterpret_cast<LPTSTR>(w65.data()), nullptr, kExt | MAPI_NEW_SESSION | MAPI_UNICODE, &s),
            MAPI_E_LOGON_FAILED);
}

TEST_F(MapiSessionTest, BackgroundNtServiceAndForceDownloadFlagsAreAccepted) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_BG_SESSION | MAPI_NT_SERVICE | MAPI_FORCE_DOWNLOAD, &s),
            S_OK);
  EXPECT_EQ(stores_of(s).size(), 1u);
  s->Release();
  // MAPI_EXTENDED "should always be set"; MAPILogonEx is Extended MAPI's
  // logon either way.
  ASSERT_EQ(logon("Work", MAPI_NEW_SESSION, &s), S_OK);
  s->Release();
}

// ---- shared and individual sessions -----------------------------------------

TEST_F(MapiSessionTest, AllowOthersMakesTheSharedSessionAndJoiningIgnoresTheProfileName) {
  make_profile("Work", "work.pst");
  make_profile("Home", "home.pst");
  LPMAPISESSION a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  // Without a shared session, a logon without MAPI_NEW_SESSION makes a new one.
  ASSERT_EQ(logon("Home", kExt, &d), S_OK);
  EXPECT_EQ(stores_of(d).at(0).display, "Home mail");
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_ALLOW_OTHERS, &a), S_OK);
  // "MAPILogonEx uses an existing shared session even if the lpszProfileName
  // parameter is not NULL."
  ASSERT_EQ(logon("Home", kExt, &b), S_OK);
  EXPECT_EQ(stores_of(b).at(0).display, "Work mail");
  // NULL profile and password, neither NEW_SESSION nor ALLOW_OTHERS: joins too.
  LPMAPISESSION e = nullptr;
  ASSERT_EQ(logon(nullptr, kExt, &e), S_OK);
  EXPECT_EQ(stores_of(e).at(0).display, "Work mail");
  // MAPI_NEW_SESSION gets the profile asked for.
  ASSERT_EQ(logon("Home", kExt | MAPI_NEW_SESSION, &c), S_OK);
  EXPECT_EQ(stores_of(c).at(0).display, "Home mail");
  for (auto* s : {a, b, c, d, e}) s->Release();
}

TEST_F(MapiSessionTest, MembersOfASharedSessionKeepTheirOwnFlags) {
  make_profile("Work", "work.pst");
  LPMAPISESSION mail = nullptr, agent = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_ALLOW_OTHERS, &mail), S_OK);
  ASSERT_EQ(logon(nullptr, kExt | MAPI_NO_MAIL, &agent), S_OK);
  auto spooler = [](LPMAPISESSION s) {
    for (auto& r : status_of(s))
      if (r.type == MAPI_SPOOLER) return r.code;
    return ULONG(0xFFFF);
  };
  EXPECT_EQ(spooler(mail), kStatusAvailable);
  // mapilogonex.md, MAPI_NO_MAIL: "The message spooler row in the status
  // table contains the STATUS_FAILURE value."
  EXPECT_EQ(spooler(agent), kStatusFailure);
  mail->Release();
  agent->Release();
}

TEST_F(MapiSessionTest, LogoffOfOneMemberLeavesTheSharedSessionToTheOthers) {
  make_profile("Work", "work.pst");
  LPMAPISESSION a = nullptr, b = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_ALLOW_OTHERS, &a), S_OK);
  ASSERT_EQ(logon(nullptr, kExt, &b), S_OK);
  EXPECT_EQ(a->Logoff(0, 0, 0), S_OK);
  EXPECT_EQ(stores_of(b).size(), 1u);
  // A third client still joins it.
  LPMAPISESSION c = nullptr;
  ASSERT_EQ(logon("Other", kExt, &c), S_OK);
  EXPECT_EQ(stores_of(c).at(0).display, "Work mail");
  for (auto* s : {a, b, c}) s->Release();
}

LONG STDAPICALLTYPE count_critical(LPVOID ctx, ULONG n, LPNOTIFICATION notes) {
  auto* seen = static_cast<std::vector<std::pair<ULONG, SCODE>>*>(ctx);
  for (ULONG i = 0; i < n; ++i)
    seen->emplace_back(notes[i].ulEventType, notes[i].ulEventType == fnevCriticalError ? notes[i].info.err.scode : 0);
  return 0;
}

TEST_F(MapiSessionTest, LogoffSharedEndsTheSessionForEveryMemberWithACriticalError) {
  make_profile("Work", "work.pst");
  LPMAPISESSION a = nullptr, b = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_ALLOW_OTHERS, &a), S_OK);
  ASSERT_EQ(logon(nullptr, kExt, &b), S_OK);
  std::vector<std::pair<ULONG, SCODE>> seen;
  LPMAPIADVISESINK sink = nullptr;
  ASSERT_EQ(HrAllocAdviseSink(count_critical, &seen, &sink), S_OK);
  ULONG_PTR conn = 0;
  // A null entry ID registers for the session's critical errors.
  ASSERT_EQ(b->Advise(0, nullptr, fnevCriticalError, sink, &conn), S_OK);
  EXPECT_NE(conn, 0u);
  EXPECT_EQ(a->Logoff(0, MAPI_LOGOFF_SHARED, 0), S_OK);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, fnevCriticalError);
  EXPECT_EQ(seen[0].second, MAPI_E_END_OF_SESSION);
  LPMAPITABLE t = nullptr;
  EXPECT_EQ(b->GetMsgStoresTable(0, &t), MAPI_E_END_OF_SESSION);
  // The next logon without MAPI_NEW_SESSION makes a new session.
  LPMAPISESSION c = nullptr;
  ASSERT_EQ(logon("Work", kExt, &c), S_OK);
  EXPECT_EQ(stores_of(c).size(), 1u);
  for (auto* s : {a, b, c}) s->Release();
  sink->Release();
}

TEST_F(MapiSessionTest, LogoffSharedOnAnIndividualSessionIsIgnoredForOthers) {
  make_profile("Work", "work.pst");
  LPMAPISESSION a = nullptr, b = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &a), S_OK);
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &b), S_OK);
  EXPECT_EQ(a->Logoff(0, MAPI_LOGOFF_SHARED, 0), S_OK);
  EXPECT_EQ(stores_of(b).size(), 1u);
  a->Release();
  b->Release();
}

TEST_F(MapiSessionTest, AfterLogoffEveryCallReturnsEndOfSession) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  EXPECT_EQ(s->Logoff(0, 0x100, 0), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(s->Logoff(0, 0, 1), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(s->Logoff(0, MAPI_LOGOFF_UI, 0), S_OK);
  LPMAPITABLE t = nullptr;
  LPMDB mdb = nullptr;
  ULONG type = 0, result = 0, cb = 0;
  LPUNKNOWN unk = nullptr;
  LPENTRYID id = nullptr;
  LPMAPIERROR err = nullptr;
  Bytes eid = store_entry_id(path("work.pst"));
  auto* e = reinterpret_cast<LPENTRYID>(eid.data());
  EXPECT_EQ(s->GetMsgStoresTable(0, &t), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->GetStatusTable(0, &t), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->OpenMsgStore(0, ULONG(eid.size()), e, nullptr, 0, &mdb), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->OpenEntry(ULONG(eid.size()), e, nullptr, 0, &type, &unk), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->CompareEntryIDs(ULONG(eid.size()), e, ULONG(eid.size()), e, 0, &result), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->QueryIdentity(&cb, &id), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->GetLastError(MAPI_E_END_OF_SESSION, 0, &err), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->Logoff(0, 0, 0), MAPI_E_END_OF_SESSION);
  void* other = nullptr;
  EXPECT_EQ(s->QueryInterface(IID_IMAPISession, &other), MAPI_E_END_OF_SESSION);
  EXPECT_EQ(s->Release(), 0u);
}

TEST_F(MapiSessionTest, MapiUninitializeLogsOffOpenSessionsAndReleasesTheProfile) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  // iprofadmin-deleteprofile.md: a profile in use stays until its session ends.
  ASSERT_TRUE(store().delete_profile("Work").is_ok());
  EXPECT_TRUE(store().read()->find("Work") == nullptr);
  EXPECT_EQ(stores_of(s).size(), 1u);
  EXPECT_EQ(store().read()->profiles.size(), 1u);  // still recorded, delete-pending
  MAPIUninitialize();
  EXPECT_TRUE(store().read()->profiles.empty());
  ASSERT_EQ(MAPIInitialize(nullptr), S_OK);  // for TearDown and the calls below
  LPMAPITABLE t = nullptr;
  EXPECT_EQ(s->GetMsgStoresTable(0, &t), MAPI_E_END_OF_SESSION);
  s->Release();
}

// ---- MAPI_TIMEOUT_SHORT ------------------------------------------------------

TEST_F(MapiSessionTest, TimeoutShortFailsWhileAnotherLogonHoldsTheMutex) {
  make_profile("Work", "work.pst");
  auto old = set_short_logon_timeout(std::chrono::milliseconds(200));
  std::mutex m;
  std::condition_variable cv;
  bool asking = false, release = false;
  set_ui_callback([&](const UiRequest&) -> std::optional<std::string> {
    std::unique_lock lock(m);
    asking = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return std::string("Work");
  });
  LPMAPISESSION first = nullptr;
  HRESULT first_hr = E_FAIL;
  std::thread t([&] { first_hr = logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &first); });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return asking; });
  }
  LPMAPISESSION second = nullptr;
  EXPECT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_TIMEOUT_SHORT, &second), MAPI_E_TIMEOUT);
  EXPECT_EQ(second, nullptr);
  // Without the flag, a logon waits for the mutex.
  HRESULT waiting_hr = E_FAIL;
  std::thread w([&] { waiting_hr = logon("Work", kExt | MAPI_NEW_SESSION, &second); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(waiting_hr, E_FAIL);  // still blocked
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  t.join();
  w.join();
  EXPECT_EQ(first_hr, S_OK);
  EXPECT_EQ(waiting_hr, S_OK);
  first->Release();
  second->Release();
  set_short_logon_timeout(old);
}

// ---- service logon: retry, disable, session limit --------------------------

TEST_F(MapiSessionTest, AFailingServiceIsRetriedOnceThenAllItsProvidersAreDisabled) {
  make_profile("Work", "work.pst");
  add_third_party("Work");
  std::vector<int> attempts;
  std::vector<bool> prompts;
  register_provider_logon("THIRD P", [&](const ProviderLogonContext& c, ProviderLogonInfo*) {
    attempts.push_back(c.attempt);
    prompts.push_back(c.may_prompt);
    return SessionStatus::error(MAPI_E_NETWORK_ERROR, "the server cannot be reached");
  });
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);  // the session goes on with the others
  EXPECT_EQ(attempts, (std::vector<int>{1, 2}));
  EXPECT_EQ(prompts, (std::vector<bool>{false, false}));
  EXPECT_EQ(stores_of(s).size(), 1u);  // only the PST
  int disabled = 0;
  for (const auto& r : status_of(s)) {
    if (r.display != "Third Party") continue;
    // Every provider of the service, the transport too, is disabled.
    EXPECT_EQ(r.code, kStatusFailure) << r.provider_display;
    EXPECT_NE(r.text.find("cannot be reached"), std::string::npos);
    ++disabled;
  }
  EXPECT_EQ(disabled, 2);
  s->Release();
  // With MAPI_LOGON_UI the retry may ask.
  attempts.clear();
  prompts.clear();
  set_ui_callback([](const UiRequest&) -> std::optional<std::string> { return std::string("x"); });
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &s), S_OK);
  EXPECT_EQ(prompts, (std::vector<bool>{true, true}));
  s->Release();
  register_provider_logon("THIRD P", {});
}

TEST_F(MapiSessionTest, ASecondTryThatSucceedsKeepsTheService) {
  make_profile("Work", "work.pst");
  add_third_party("Work");
  int calls = 0;
  register_provider_logon("THIRD P", [&](const ProviderLogonContext&, ProviderLogonInfo* info) {
    if (++calls == 1) return SessionStatus::error(MAPI_E_NETWORK_ERROR, "transient");
    info->display_name = "Third store";
    info->record_key = ProviderUid{1, 2, 3};
    return SessionStatus{};
  });
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_NO_MAIL, &s), S_OK);
  EXPECT_EQ(calls, 2);
  auto stores = stores_of(s);
  ASSERT_EQ(stores.size(), 2u);
  EXPECT_EQ(stores[1].display, "Third store");
  EXPECT_TRUE(is_store_entry_id(stores[1].entry_id));
  // MAPI_NO_MAIL: no transport rows in the status table.
  for (const auto& r : status_of(s)) EXPECT_NE(r.type, ULONG(MAPI_TRANSPORT_PROVIDER));
  s->Release();
  register_provider_logon("THIRD P", {});
}

TEST_F(MapiSessionTest, AThirdPartyProviderWithoutALogonFunctionIsDisabled) {
  make_profile("Work", "work.pst");
  add_third_party("Work");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  bool seen = false;
  for (const auto& r : status_of(s))
    if (r.provider_display == "Third store") {
      seen = true;
      EXPECT_EQ(r.code, kStatusFailure);
      EXPECT_NE(r.text.find("libthird.so"), std::string::npos);
    }
  EXPECT_TRUE(seen);
  s->Release();
}

TEST_F(MapiSessionTest, AMissingPstIsDisabledWithoutUiAndAskedForWithUi) {
  make_profile("Work", "work.pst");
  add_pst("Work", "second.pst", "Second");
  ASSERT_TRUE(fs::remove(path("second.pst")));
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  EXPECT_EQ(stores_of(s).size(), 1u);
  bool failed = false;
  for (const auto& r : status_of(s))
    if (r.display == "Second") failed = r.code == kStatusFailure && r.text.find("second.pst") != std::string::npos;
  EXPECT_TRUE(failed);
  s->Release();
  // With UI, the retry asks for the file's path.
  fs::copy_file(path("work.pst"), path("moved.pst"));
  std::vector<UiRequest> asked;
  set_ui_callback([&](const UiRequest& r) -> std::optional<std::string> {
    asked.push_back(r);
    return path("moved.pst");
  });
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_LOGON_UI, &s), S_OK);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].kind, UiRequest::Kind::kServiceSetting);
  EXPECT_EQ(asked[0].property, "PR_PST_PATH");
  EXPECT_EQ(asked[0].current, path("second.pst"));
  EXPECT_EQ(stores_of(s).size(), 2u);
  s->Release();
}

TEST_F(MapiSessionTest, AProviderMayEnforceASessionLimit) {
  make_profile("Work", "work.pst");
  add_third_party("Work");
  register_provider_logon("THIRD P", [](const ProviderLogonContext& c, ProviderLogonInfo* info) {
    if (c.active_sessions >= 1) return SessionStatus::error(MAPI_E_SESSION_LIMIT, "one session at a time");
    info->display_name = "Third store";
    return SessionStatus{};
  });
  LPMAPISESSION a = nullptr, b = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &a), S_OK);
  EXPECT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &b), MAPI_E_SESSION_LIMIT);
  EXPECT_EQ(b, nullptr);
  ASSERT_EQ(a->Logoff(0, 0, 0), S_OK);
  a->Release();
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &b), S_OK);
  b->Release();
  register_provider_logon("THIRD P", {});
}

TEST_F(MapiSessionTest, ServiceUiAlwaysShowsEachServiceBeforeLogon) {
  make_profile("Work", "work.pst");
  add_pst("Work", "second.pst", "Second");
  std::vector<std::string> shown;
  set_ui_callback([&](const UiRequest& r) -> std::optional<std::string> {
    EXPECT_EQ(r.kind, UiRequest::Kind::kServiceSetting);
    shown.push_back(r.service);
    return std::string();  // keep the configuration
  });
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_SERVICE_UI_ALWAYS, &s), S_OK);
  EXPECT_EQ(shown, (std::vector<std::string>{"Work mail", "Second"}));
  EXPECT_EQ(stores_of(s).size(), 2u);
  s->Release();
  // A new path given in the dialog is saved in the profile.
  fs::copy_file(path("second.pst"), path("third.pst"));
  set_ui_callback([&](const UiRequest& r) -> std::optional<std::string> {
    return r.service == "Second" ? path("third.pst") : std::string();
  });
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_SERVICE_UI_ALWAYS, &s), S_OK);
  auto stores = stores_of(s);
  ASSERT_EQ(stores.size(), 2u);
  EXPECT_EQ(stores[1].entry_id, store_entry_id(path("third.pst")));
  s->Release();
  // Cancelled: the logon is cancelled.
  set_ui_callback([](const UiRequest&) -> std::optional<std::string> { return std::nullopt; });
  EXPECT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_SERVICE_UI_ALWAYS, &s), MAPI_E_USER_CANCEL);
}

TEST_F(MapiSessionTest, ACorruptPstIsDisabledAndTheSessionGoesOn) {
  make_profile("Work", "work.pst");
  add_pst("Work", "bad.pst", "Bad");
  {
    std::ofstream out(path("bad.pst"), std::ios::binary | std::ios::trunc);
    out << "not a PST at all";
  }
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  EXPECT_EQ(stores_of(s).size(), 1u);
  s->Release();
}


TEST_F(MapiSessionTest, APasswordProtectedPstNeedsItsPassword) {
  make_profile("Work", "work.pst");
  add_pst("Work", "locked.pst", "Locked");
  set_pst_password(path("locked.pst"), "s3cret");
  {
    auto st = Store::open(path("locked.pst"));
    ASSERT_TRUE(st.is_ok());
    ASSERT_TRUE((*st)->password_crc().has_value());
  }
  auto locked_row = [](LPMAPISESSION s) {
    for (const auto& r : status_of(s))
      if (r.display == "Locked") return r;
    return StatusRow{};
  };
  // Without UI the password cannot be asked for: the service is disabled.
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  EXPECT_EQ(stores_of(s).size(), 1u);
  EXPECT_EQ(locked_row(s).code, kStatusFailure);
  s->Release();
  // MAPI_PASSWORD_UI: the retry asks for the password, and only that.
  std::vector<UiRequest> asked;
  std::string answer = "wrong";
  set_ui_callback([&](const UiRequest& r) -> std::optional<std::string> {
    asked.push_back(r);
    return answer;
  });
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_PASSWORD_UI, &s), S_OK);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].kind, UiRequest::Kind::kServicePassword);
  EXPECT_TRUE(asked[0].secret);
  EXPECT_EQ(locked_row(s).code, kStatusFailure);  // a wrong password: disabled
  s->Release();
  answer = "s3cret";
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_PASSWORD_UI, &s), S_OK);
  EXPECT_EQ(locked_row(s).code, kStatusAvailable);
  EXPECT_EQ(stores_of(s).size(), 2u);
  s->Release();
  // A password kept in the profile (PR_PST_PW_SZ_OLD) needs no prompt.
  asked.clear();
  auto svc = store().read()->find("Work")->services.at(1).uid;
  ASSERT_TRUE(store().set_section_props("Work", svc, {SectionProp::string_value(0x6703001F, "s3cret")}).is_ok());
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(stores_of(s).size(), 2u);
  s->Release();
}

// Stores Outlook protected with a password (the pst2john samples of the
// corpus, whose passwords are known: their PidTagPstPassword is the MS-PST
// 5.3 CRC of these): the right password opens each, a wrong one disables
// the service, as for a store pstkit protected.
TEST_F(MapiSessionTest, AnOutlookPasswordProtectedPstOpensWithItsPasswordOnly) {
  const std::vector<std::pair<std::string, std::string>> stores = {
      {"hughbe-pstreader_simiden-pst2john/Outlook_enc.pst", "123456"},
      {"hughbe-pstreader_simiden-pst2john/password.pst", "password"},
      {"hughbe-pstreader_simiden-pst2john/2003_no-encryption_quickquick12.pst", "quickquick12"},
      {"hughbe-pstreader_simiden-pst2john/2003_high-encryption_quickquick.pst", "quickquick"},
      {"hughbe-pstreader_simiden-pst2john/2007_default_a1sellers.pst", "a1sellers"},
  };
  if (!std::filesystem::exists(pstkit::test::kCorpusDir + stores[0].first)) {
    if (pstkit::test::in_ci()) FAIL() << "corpus missing: " << pstkit::test::kCorpusDir;
    GTEST_SKIP() << "no corpus at " << pstkit::test::kCorpusDir;
  }
  make_profile("Work", "work.pst");
  std::string answer;
  set_ui_callback([&](const UiRequest& r) -> std::optional<std::string> {
    EXPECT_EQ(r.kind, UiRequest::Kind::kServicePassword);
    return answer;
  });
  for (size_t i = 0; i < stores.size(); ++i) {
    const auto& [file, password] = stores[i];
    SCOPED_TRACE(file);
    // A copy: logging on may write the store (Outlook's own files stay as they are).
    const std::string copy = "outlook" + std::to_string(i) + ".pst";
    std::filesystem::copy_file(pstkit::test::kCorpusDir + file, path(copy));
    {
      auto st = Store::open(path(copy));
      ASSERT_TRUE(st.is_ok()) << st.status().message();
      ASSERT_TRUE((*st)->password_crc().has_value());
    }
    const std::string display = "Outlook " + std::to_string(i);
    add_pst("Work", copy, display);
    auto row_code = [&](LPMAPISESSION s) {
      for (const auto& r : status_of(s))
        if (r.display == display) return r.code;
      return ULONG(~0u);
    };
    LPMAPISESSION s = nullptr;
    answer = password + "x";
    ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_PASSWORD_UI, &s), S_OK);
    EXPECT_EQ(row_code(s), kStatusFailure);
    EXPECT_EQ(stores_of(s).size(), i + 1);  // work.pst and the stores opened before
    s->Release();
    answer = password;
    ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_PASSWORD_UI, &s), S_OK);
    EXPECT_EQ(row_code(s), kStatusAvailable);
    EXPECT_EQ(stores_of(s).size(), i + 2);
    s->Release();
    // Kept in the profile for the next logons, as Outlook keeps it.
    auto svc = store().read()->find("Work")->services.back().uid;
    ASSERT_TRUE(store().set_section_props("Work", svc, {SectionProp::string_value(0x6703001F, password)}).is_ok());
  }
}

// ---- the status table --------------------------------------------------------

TEST_F(MapiSessionTest, TheStatusTableHasTheSubsystemAndOneRowPerProvider) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = status_of(s);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].type, ULONG(MAPI_SUBSYSTEM));
  EXPECT_EQ(rows[1].type, ULONG(MAPI_SPOOLER));
  EXPECT_EQ(rows[2].type, ULONG(MAPI_STORE_PROVIDER));
  EXPECT_EQ(rows[2].code, kStatusAvailable);
  LPMAPITABLE t = nullptr;
  EXPECT_EQ(s->GetStatusTable(0x1, &t), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(s->GetStatusTable(0, nullptr), MAPI_E_INVALID_PARAMETER);
  // MAPI_UNICODE: the string columns are PT_UNICODE.
  ASSERT_EQ(s->GetStatusTable(MAPI_UNICODE, &t), S_OK);
  LPSRowSet set = all_rows(t);
  ASSERT_EQ(set->cRows, 3u);
  auto* name = PpropFindProp(set->aRow[2].lpProps, set->aRow[2].cValues, PR_DISPLAY_NAME_W);
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(std::wstring(name->Value.lpszW), L"Work mail");
  FreeProws(set);
  t->Release();
  s->Release();
}

// ---- status objects (status-tables.md, status-table-and-status-objects.md,
// imapistatusimapiprop.md) ----------------------------------------------------

// Each status row's PR_ENTRYID, PR_RESOURCE_TYPE and PR_DISPLAY_NAME, the
// columns status-table-and-status-objects.md has a client ask for.
struct StatusEntry {
  Bytes entry_id;
  ULONG type = 0;
  std::string display;
};
std::vector<StatusEntry> status_entries(LPMAPISESSION s) {
  std::vector<StatusEntry> out;
  LPMAPITABLE table = nullptr;
  EXPECT_EQ(s->GetStatusTable(0, &table), S_OK);
  if (table == nullptr) return out;
  SizedSPropTagArray(3, cols) = {3, {PR_ENTRYID, PR_RESOURCE_TYPE, PR_DISPLAY_NAME_A}};
  LPSRowSet rows = nullptr;
  EXPECT_EQ(HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &rows), S_OK);
  table->Release();
  for (ULONG i = 0; rows != nullptr && i < rows->cRows; ++i) {
    const SPropValue* p = rows->aRow[i].lpProps;
    StatusEntry e;
    EXPECT_EQ(p[0].ulPropTag, ULONG(PR_ENTRYID)) << "row " << i << " has no PR_ENTRYID";
    if (p[0].ulPropTag == PR_ENTRYID) e.entry_id.assign(p[0].Value.bin.lpb, p[0].Value.bin.lpb + p[0].Value.bin.cb);
    if (p[1].ulPropTag == PR_RESOURCE_TYPE) e.type = ULONG(p[1].Value.l);
    if (p[2].ulPropTag == PR_DISPLAY_NAME_A) e.display = p[2].Value.lpszA;
    out.push_back(e);
  }
  FreeProws(rows);
  return out;
}

// IMAPISession::OpenEntry of a status row's entry ID, as an IMAPIStatus.
LPMAPISTATUS open_status(LPMAPISESSION s, Bytes id, ULONG flags = 0) {
  ULONG type = 0;
  LPUNKNOWN unk = nullptr;
  EXPECT_EQ(s->OpenEntry(ULONG(id.size()), reinterpret_cast<LPENTRYID>(id.data()), nullptr, flags, &type, &unk), S_OK);
  if (unk == nullptr) return nullptr;
  EXPECT_EQ(type, ULONG(MAPI_STATUS));
  LPMAPISTATUS status = nullptr;
  EXPECT_EQ(unk->QueryInterface(IID_IMAPIStatus, reinterpret_cast<void**>(&status)), S_OK);
  unk->Release();
  return status;
}

LONG long_prop(LPMAPIPROP obj, ULONG tag) {
  LPSPropValue v = nullptr;
  if (HrGetOneProp(obj, tag, &v) != S_OK) return -1;
  const LONG out = v->Value.l;
  MAPIFreeBuffer(v);
  return out;
}

std::string string_prop(LPMAPIPROP obj, ULONG tag) {
  LPSPropValue v = nullptr;
  if (HrGetOneProp(obj, tag, &v) != S_OK) return "(none)";
  std::string out = v->Value.lpszA;
  MAPIFreeBuffer(v);
  return out;
}

TEST_F(MapiSessionTest, EveryStatusRowHasAnEntryIdThatOpenEntryOpensAsItsStatusObject) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = status_entries(s);
  ASSERT_EQ(rows.size(), 3u);
  // The entry ID names its row from one GetStatusTable to the next.
  auto again = status_entries(s);
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(rows[i].display);
    EXPECT_EQ(rows[i].entry_id, again[i].entry_id);
    for (size_t j = 0; j < i; ++j) EXPECT_NE(rows[i].entry_id, rows[j].entry_id);
    LPMAPISTATUS status = open_status(s, rows[i].entry_id);
    ASSERT_NE(status, nullptr);
    // The row's properties, PR_OBJECT_TYPE MAPI_STATUS among them.
    EXPECT_EQ(string_prop(status, PR_DISPLAY_NAME_A), rows[i].display);
    EXPECT_EQ(ULONG(long_prop(status, PR_RESOURCE_TYPE)), rows[i].type);
    EXPECT_EQ(long_prop(status, PR_OBJECT_TYPE), LONG(MAPI_STATUS));
    LPSPropValue id = nullptr;
    ASSERT_EQ(HrGetOneProp(status, PR_ENTRYID, &id), S_OK);
    EXPECT_EQ(Bytes(id->Value.bin.lpb, id->Value.bin.lpb + id->Value.bin.cb), rows[i].entry_id);
    MAPIFreeBuffer(id);
    // imapistatusimapiprop.md: every status object has the required properties.
    SizedSPropTagArray(7, required) = {7,
                                       {PR_DISPLAY_NAME_W, PR_PROVIDER_DISPLAY_W, PR_PROVIDER_DLL_NAME_W,
                                        PR_RESOURCE_FLAGS, PR_RESOURCE_METHODS, PR_RESOURCE_TYPE, PR_STATUS_CODE}};
    ULONG n = 0;
    LPSPropValue values = nullptr;
    ASSERT_EQ(status->GetProps(reinterpret_cast<LPSPropTagArray>(&required), MAPI_UNICODE, &n, &values), S_OK);
    ASSERT_EQ(n, 7u);
    for (ULONG k = 0; k < n; ++k) EXPECT_EQ(values[k].ulPropTag, required.aulPropTag[k]);
    MAPIFreeBuffer(values);
    // A property the row lacks is MAPI_W_ERRORS_RETURNED with PT_ERROR.
    SizedSPropTagArray(1, missing) = {1, {PR_SUBJECT_A}};
    ASSERT_EQ(status->GetProps(reinterpret_cast<LPSPropTagArray>(&missing), 0, &n, &values), MAPI_W_ERRORS_RETURNED);
    EXPECT_EQ(PROP_TYPE(values[0].ulPropTag), ULONG(PT_ERROR));
    MAPIFreeBuffer(values);
    status->Release();
  }
  EXPECT_EQ(rows[0].type, ULONG(MAPI_SUBSYSTEM));
  EXPECT_EQ(rows[1].type, ULONG(MAPI_SPOOLER));
  s->Release();
}

TEST_F(MapiSessionTest, TheSubsystemStatusObjectSupportsValidateStateOnly) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = status_entries(s);
  ASSERT_GE(rows.size(), 1u);
  ASSERT_EQ(rows[0].type, ULONG(MAPI_SUBSYSTEM));
  LPMAPISTATUS status = open_status(s, rows[0].entry_id);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(long_prop(status, PR_RESOURCE_METHODS), LONG(STATUS_VALIDATE_STATE));
  EXPECT_EQ(status->ValidateState(0, SUPPRESS_UI), S_OK);
  EXPECT_EQ(status->ValidateState(0, CONFIG_CHANGED | SUPPRESS_UI), S_OK);
  EXPECT_EQ(status->ValidateState(0, 0x2), MAPI_E_UNKNOWN_FLAGS);
  // status-table-and-status-objects.md: no SettingsDialog or ChangePassword
  // on MAPI's status objects; FlushQueues is the spooler's.
  EXPECT_EQ(status->SettingsDialog(0, 0), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(status->ChangePassword(const_cast<LPSTR>("old"), const_cast<LPSTR>("new"), 0), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(status->FlushQueues(0, 0, nullptr, FLUSH_UPLOAD), MAPI_E_NO_SUPPORT);
  LPMAPIERROR error = nullptr;
  ASSERT_EQ(status->GetLastError(MAPI_E_NO_SUPPORT, 0, &error), S_OK);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(reinterpret_cast<const char*>(error->lpszError)).find("FlushQueues"), std::string::npos);
  MAPIFreeBuffer(error);
  status->Release();
  s->Release();
}

TEST_F(MapiSessionTest, TheSpoolerStatusObjectFlushesQueuesAndValidatesState) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = status_entries(s);
  ASSERT_GE(rows.size(), 2u);
  ASSERT_EQ(rows[1].type, ULONG(MAPI_SPOOLER));
  LPMAPISTATUS spooler = open_status(s, rows[1].entry_id);
  ASSERT_NE(spooler, nullptr);
  EXPECT_EQ(long_prop(spooler, PR_RESOURCE_METHODS), LONG(STATUS_VALIDATE_STATE | STATUS_FLUSH_QUEUES));
  EXPECT_EQ(spooler->ValidateState(0, 0), S_OK);
  // No transport is started, so both queues are empty: flushed at once.
  EXPECT_EQ(spooler->FlushQueues(0, 0, nullptr, FLUSH_UPLOAD | FLUSH_DOWNLOAD | FLUSH_FORCE), S_OK);
  EXPECT_EQ(spooler->FlushQueues(0, 0, nullptr, 0x1), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(spooler->FlushQueues(0, 4, nullptr, FLUSH_UPLOAD), MAPI_E_INVALID_PARAMETER);
  BYTE transport[] = {0, 0, 0, 0, 1, 2, 3, 4};
  EXPECT_EQ(spooler->FlushQueues(0, sizeof transport, reinterpret_cast<LPENTRYID>(transport), FLUSH_UPLOAD),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(spooler->SettingsDialog(0, UI_READONLY), MAPI_E_NO_SUPPORT);
  spooler->Release();
  s->Release();

  // MAPI_NO_MAIL: the spooler is not told of the session; no queues.
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION | MAPI_NO_MAIL, &s), S_OK);
  rows = status_entries(s);
  ASSERT_GE(rows.size(), 2u);
  spooler = open_status(s, rows[1].entry_id);
  ASSERT_NE(spooler, nullptr);
  EXPECT_EQ(long_prop(spooler, PR_STATUS_CODE), LONG(kStatusFailure));
  EXPECT_EQ(long_prop(spooler, PR_RESOURCE_METHODS), LONG(STATUS_VALIDATE_STATE));
  EXPECT_EQ(spooler->FlushQueues(0, 0, nullptr, FLUSH_UPLOAD), MAPI_E_NO_SUPPORT);
  spooler->Release();
  s->Release();
}

TEST_F(MapiSessionTest, StatusObjectsOfMapiAreReadOnly) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = status_entries(s);
  ASSERT_EQ(rows.size(), 3u);
  // MAPI_MODIFY does not make it writable (imapisession-openentry.md: the
  // flag "does not guarantee a particular type of access").
  LPMAPISTATUS status = open_status(s, rows[2].entry_id, MAPI_MODIFY);
  ASSERT_NE(status, nullptr);
  SPropValue v;
  v.ulPropTag = PR_DISPLAY_NAME_A;
  v.Value.lpszA = const_cast<LPSTR>("Renamed");
  EXPECT_EQ(status->SetProps(1, &v, nullptr), MAPI_E_NO_ACCESS);
  SizedSPropTagArray(1, tags) = {1, {PR_DISPLAY_NAME_A}};
  EXPECT_EQ(status->DeleteProps(reinterpret_cast<LPSPropTagArray>(&tags), nullptr), MAPI_E_NO_ACCESS);
  EXPECT_EQ(string_prop(status, PR_DISPLAY_NAME_A), "Work mail");
  EXPECT_EQ(status->SaveChanges(0), S_OK);  // nontransacted: nothing to save
  // Another interface than IMAPIStatus's is refused.
  ULONG type = 0;
  LPUNKNOWN unk = nullptr;
  EXPECT_EQ(s->OpenEntry(ULONG(rows[2].entry_id.size()), reinterpret_cast<LPENTRYID>(rows[2].entry_id.data()),
                         &IID_IMAPIFolder, 0, &type, &unk),
            MAPI_E_INTERFACE_NOT_SUPPORTED);
  EXPECT_EQ(unk, nullptr);
  status->Release();
  s->Release();
}

TEST_F(MapiSessionTest, AStatusEntryIdOfNoRowIsNotFoundAndComparesByRow) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = status_entries(s);
  ASSERT_EQ(rows.size(), 3u);
  // The provider's row with another provider UID: no such row.
  Bytes other = rows[2].entry_id;
  other.back() ^= 0xFF;
  ULONG type = 0;
  LPUNKNOWN unk = nullptr;
  EXPECT_EQ(s->OpenEntry(ULONG(other.size()), reinterpret_cast<LPENTRYID>(other.data()), nullptr, 0, &type, &unk),
            MAPI_E_NOT_FOUND);
  // CompareEntryIDs: the same row (short-term flag bits aside) or not.
  Bytes short_term = rows[2].entry_id;
  short_term[0] = 0x80;
  ULONG same = FALSE;
  EXPECT_EQ(s->CompareEntryIDs(ULONG(rows[2].entry_id.size()), reinterpret_cast<LPENTRYID>(rows[2].entry_id.data()),
                               ULONG(short_term.size()), reinterpret_cast<LPENTRYID>(short_term.data()), 0, &same),
            S_OK);
  EXPECT_EQ(same, ULONG(TRUE));
  EXPECT_EQ(s->CompareEntryIDs(ULONG(rows[0].entry_id.size()), reinterpret_cast<LPENTRYID>(rows[0].entry_id.data()),
                               ULONG(rows[1].entry_id.size()), reinterpret_cast<LPENTRYID>(rows[1].entry_id.data()), 0,
                               &same),
            S_OK);
  EXPECT_EQ(same, ULONG(FALSE));
  s->Release();
}

TEST_F(MapiSessionTest, AStatusObjectValidatesNoMoreOnceItsSessionHasEnded) {
  make_profile("Work", "work.pst");
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = status_entries(s);
  ASSERT_GE(rows.size(), 1u);
  LPMAPISTATUS status = open_status(s, rows[0].entry_id);
  ASSERT_NE(status, nullptr);
  ASSERT_EQ(s->Logoff(0, 0, 0), S_OK);
  EXPECT_EQ(status->ValidateState(0, 0), MAPI_E_END_OF_SESSION);
  // Its properties stay readable: the object outlives the session.
  EXPECT_EQ(string_prop(status, PR_DISPLAY_NAME_A), "MAPI Subsystem");
  s->Release();
  status->Release();
}

// ---- stores: OpenMsgStore, OpenEntry, CompareEntryIDs, Advise --------------

class MapiSessionStoreTest : public MapiSessionTest {
 protected:
  void SetUp() override {
    MapiSessionTest::SetUp();
    make_profile("Work", "work.pst");
    add_pst("Work", "second.pst", "Second");
    capi::set_store_opener([this](const StoreOpenRequest& r, LPMDB* out) -> HRESULT {
      requests.push_back(r);
      auto* st = new FakeStore;
      last = st;
      *out = st;
      return S_OK;
    });
    ASSERT_EQ(logon("Work", kExt | MAPI_NEW_SESSION, &s), S_OK);
    auto rows = stores_of(s);
    ASSERT_EQ(rows.size(), 2u);
    work_id = rows[0].entry_id;
    second_id = rows[1].entry_id;
    work_key = record_key_of(path("work.pst"));
  }
  void TearDown() override {
    if (s != nullptr) s->Release();
    MapiSessionTest::TearDown();
  }
  LPENTRYID eid(Bytes& b) { return reinterpret_cast<LPENTRYID>(b.data()); }

  LPMAPISESSION s = nullptr;
  std::vector<StoreOpenRequest> requests;
  FakeStore* last = nullptr;
  Bytes work_id, second_id;
  ProviderUid work_key{};
};

TEST_F(MapiSessionStoreTest, OpenMsgStoreOpensTheStoreThroughTheProvider) {
  LPMDB mdb = nullptr;
  ASSERT_EQ(s->OpenMsgStore(5, ULONG(second_id.size()), eid(second_id), nullptr, MDB_WRITE | MDB_NO_DIALOG, &mdb), S_OK);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].provider.logon.store_path, path("second.pst"));
  EXPECT_EQ(requests[0].ui_param, 5u);
  EXPECT_TRUE(requests[0].write);
  EXPECT_EQ(requests[0].flags, ULONG(MDB_WRITE | MDB_NO_DIALOG));
  EXPECT_EQ(requests[0].profile, "Work");
  EXPECT_EQ(mdb, static_cast<LPMDB>(last));
  mdb->Release();
  // Flags and arguments.
  EXPECT_EQ(s->OpenMsgStore(0, ULONG(second_id.size()), eid(second_id), nullptr, 0x2, &mdb), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(s->OpenMsgStore(0, 0, nullptr, nullptr, 0, &mdb), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(s->OpenMsgStore(0, ULONG(second_id.size()), eid(second_id), nullptr, 0, nullptr), MAPI_E_INVALID_PARAMETER);
  // A store the session does not have: MAPI_E_NOT_FOUND.
  Bytes other = store_entry_id(path("elsewhere.pst"));
  EXPECT_EQ(s->OpenMsgStore(0, ULONG(other.size()), eid(other), nullptr, 0, &mdb), MAPI_E_NOT_FOUND);
  LPMAPIERROR err = nullptr;
  ASSERT_EQ(s->GetLastError(MAPI_E_NOT_FOUND, 0, &err), S_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err->lpszError).find("entry ID"), std::string::npos);
  MAPIFreeBuffer(err);
  // MDB_TEMPORARY and MDB_NO_MAIL reach the provider.
  ASSERT_EQ(s->OpenMsgStore(0, ULONG(work_id.size()), eid(work_id), nullptr, MDB_TEMPORARY | MDB_NO_MAIL, &mdb), S_OK);
  EXPECT_EQ(requests.back().flags, ULONG(MDB_TEMPORARY | MDB_NO_MAIL));
  EXPECT_FALSE(requests.back().write);
  mdb->Release();
}

TEST_F(MapiSessionStoreTest, MdbWriteOnAReadOnlyStoreIsNoAccessUnlessBestAccess) {
  ASSERT_EQ(::chmod(path("second.pst").c_str(), 0444), 0);
  if (::access(path("second.pst").c_str(), W_OK) == 0) GTEST_SKIP() << "running as root: the file stays writable";
  LPMDB mdb = nullptr;
  EXPECT_EQ(s->OpenMsgStore(0, ULONG(second_id.size()), eid(second_id), nullptr, MDB_WRITE, &mdb), MAPI_E_NO_ACCESS);
  ASSERT_EQ(s->OpenMsgStore(0, ULONG(second_id.size()), eid(second_id), nullptr, MDB_WRITE | MAPI_BEST_ACCESS, &mdb),
            S_OK);
  EXPECT_FALSE(requests.back().write);
  EXPECT_FALSE(requests.back().flags & MDB_WRITE);
  mdb->Release();
}

TEST_F(MapiSessionTest, MdbWriteOnAnOfflineStoreIsNoAccessUnlessBestAccess) {
  ASSERT_TRUE(store().create_profile("Offline").is_ok());
  // A "PSTKIT OST" service, pointed at a store file directly (the reader
  // opens either kind; the service decides that it is served read-only).
  auto uid = store().create_service("Offline", "PSTKIT OST", "Offline", builtin_catalog());
  ASSERT_TRUE(uid.is_ok());
  add_pst("Offline", "file.pst", "Other");  // makes file.pst
  ASSERT_TRUE(store().set_section_props("Offline", *uid, {SectionProp::string_value(tags::kPstPath, path("file.pst"))})
                  .is_ok());
  std::vector<StoreOpenRequest> requests;
  capi::set_store_opener([&](const StoreOpenRequest& r, LPMDB* out) -> HRESULT {
    requests.push_back(r);
    *out = new FakeStore;
    return S_OK;
  });
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon("Offline", kExt | MAPI_NEW_SESSION, &s), S_OK);
  auto rows = stores_of(s);
  ASSERT_EQ(rows.size(), 2u);
  Bytes id = rows[0].entry_id;
  auto* e = reinterpret_cast<LPENTRYID>(id.data());
  LPMDB mdb = nullptr;
  EXPECT_EQ(s->OpenMsgStore(0, ULONG(id.size()), e, nullptr, MDB_WRITE, &mdb), MAPI_E_NO_ACCESS);
  EXPECT_TRUE(requests.empty());
  ASSERT_EQ(s->OpenMsgStore(0, ULONG(id.size()), e, nullptr, MDB_WRITE | MAPI_BEST_ACCESS, &mdb), S_OK);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].write);
  EXPECT_EQ(requests[0].provider.service_name, "PSTKIT OST");
  mdb->Release();
  s->Release();
}

TEST_F(MapiSessionStoreTest, WithoutAStoreProviderOpenMsgStoreIsNoSupport) {
  capi::set_store_opener({});
  LPMDB mdb = nullptr;
  EXPECT_EQ(s->OpenMsgStore(0, ULONG(work_id.size()), eid(work_id), nullptr, 0, &mdb), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(mdb, nullptr);
}

TEST_F(MapiSessionStoreTest, OpenEntryOpensStoresAndPassesOtherEntryIdsToTheirStore) {
  ULONG type = 0;
  LPUNKNOWN unk = nullptr;
  ASSERT_EQ(s->OpenEntry(ULONG(work_id.size()), eid(work_id), nullptr, MAPI_BEST_ACCESS, &type, &unk), S_OK);
  EXPECT_EQ(type, ULONG(MAPI_STORE));
  unk->Release();
  // A folder's PST entry ID goes to the store whose record key it carries.
  Bytes folder = encode_entry_id(work_key, 0x122);
  ASSERT_EQ(s->OpenEntry(ULONG(folder.size()), eid(folder), nullptr, 0, &type, &unk), S_OK);
  EXPECT_EQ(type, ULONG(MAPI_FOLDER));
  EXPECT_EQ(last->opened_entry, folder);
  unk->Release();
  // No entry ID: the default store's root folder.
  ASSERT_EQ(s->OpenEntry(0, nullptr, nullptr, 0, &type, &unk), S_OK);
  EXPECT_TRUE(last->opened_entry.empty());
  unk->Release();
  // A store the session does not have, and no provider's format at all.
  Bytes foreign = encode_entry_id(ProviderUid{9, 9, 9}, 0x122);
  EXPECT_EQ(s->OpenEntry(ULONG(foreign.size()), eid(foreign), nullptr, 0, &type, &unk), MAPI_E_UNKNOWN_ENTRYID);
  Bytes junk = {1, 2, 3};
  EXPECT_EQ(s->OpenEntry(ULONG(junk.size()), eid(junk), nullptr, 0, &type, &unk), MAPI_E_UNKNOWN_ENTRYID);
  EXPECT_EQ(s->OpenEntry(ULONG(folder.size()), eid(folder), nullptr, 0x80000000, &type, &unk), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(s->OpenEntry(ULONG(folder.size()), eid(folder), nullptr, 0, nullptr, &unk), MAPI_E_INVALID_PARAMETER);
}

TEST_F(MapiSessionStoreTest, CompareEntryIdsComparesObjectsOfTheSessionsStores) {
  Bytes a = encode_entry_id(work_key, 0x122);
  Bytes b = a;
  b[0] = kMapiShortTerm;  // a short-term ID of the same object
  Bytes c = encode_entry_id(work_key, 0x8042);
  ULONG same = 7;
  ASSERT_EQ(s->CompareEntryIDs(ULONG(a.size()), eid(a), ULONG(b.size()), eid(b), 0, &same), S_OK);
  EXPECT_EQ(same, ULONG(TRUE));
  ASSERT_EQ(s->CompareEntryIDs(ULONG(a.size()), eid(a), ULONG(c.size()), eid(c), 0, &same), S_OK);
  EXPECT_EQ(same, ULONG(FALSE));
  ASSERT_EQ(s->CompareEntryIDs(ULONG(work_id.size()), eid(work_id), ULONG(work_id.size()), eid(work_id), 0, &same), S_OK);
  EXPECT_EQ(same, ULONG(TRUE));
  ASSERT_EQ(s->CompareEntryIDs(ULONG(work_id.size()), eid(work_id), ULONG(second_id.size()), eid(second_id), 0, &same),
            S_OK);
  EXPECT_EQ(same, ULONG(FALSE));
  Bytes foreign = encode_entry_id(ProviderUid{9}, 0x122);
  EXPECT_EQ(s->CompareEntryIDs(ULONG(a.size()), eid(a), ULONG(foreign.size()), eid(foreign), 0, &same),
            MAPI_E_UNKNOWN_ENTRYID);
  EXPECT_EQ(s->CompareEntryIDs(ULONG(a.size()), eid(a), ULONG(b.size()), eid(b), 1, &same), MAPI_E_UNKNOWN_FLAGS);
}

LONG STDAPICALLTYPE record_events(LPVOID ctx, ULONG n, LPNOTIFICATION notes) {
  auto* seen = static_cast<std::vector<ULONG>*>(ctx);
  for (ULONG i = 0; i < n; ++i) seen->push_back(notes[i].ulEventType);
  return 0;
}

TEST_F(MapiSessionStoreTest, AdviseOnAStoreForwardsItsEventsAndUnadviseCancels) {
  std::vector<ULONG> seen;
  LPMAPIADVISESINK sink = nullptr;
  ASSERT_EQ(HrAllocAdviseSink(record_events, &seen, &sink), S_OK);
  ULONG_PTR conn = 0;
  ASSERT_EQ(s->Advise(ULONG(work_id.size()), eid(work_id), fnevObjectCreated | fnevObjectDeleted, sink, &conn), S_OK);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->advised_mask, ULONG(fnevObjectCreated | fnevObjectDeleted));
  EXPECT_EQ(last->advised_entry_size, 0u);  // the whole store
  last->notify_created();
  EXPECT_EQ(seen, std::vector<ULONG>{fnevObjectCreated});
  // An object's entry ID is passed to its store.
  Bytes folder = encode_entry_id(work_key, 0x122);
  ULONG_PTR conn2 = 0;
  ASSERT_EQ(s->Advise(ULONG(folder.size()), eid(folder), fnevObjectModified, sink, &conn2), S_OK);
  EXPECT_EQ(last->advised_entry_size, ULONG(folder.size()));
  EXPECT_EQ(s->Unadvise(conn), S_OK);
  EXPECT_EQ(last->unadvised, 1);
  EXPECT_EQ(s->Unadvise(conn), MAPI_E_NOT_FOUND);
  EXPECT_EQ(s->Unadvise(0), MAPI_E_INVALID_PARAMETER);
  Bytes foreign = encode_entry_id(ProviderUid{9}, 0x122);
  EXPECT_EQ(s->Advise(ULONG(foreign.size()), eid(foreign), fnevObjectCreated, sink, &conn), MAPI_E_UNKNOWN_ENTRYID);
  EXPECT_EQ(s->Advise(0, nullptr, fnevCriticalError, nullptr, &conn), MAPI_E_INVALID_PARAMETER);
  // Logoff cancels the remaining registration.
  EXPECT_EQ(s->Logoff(0, 0, 0), S_OK);
  EXPECT_EQ(requests.size(), 1u);  // one store opened and kept for both registrations
  sink->Release();
}

TEST_F(MapiSessionStoreTest, SetDefaultStoreMovesTheDefault) {
  EXPECT_TRUE(stores_of(s)[0].is_default);
  ASSERT_EQ(s->SetDefaultStore(MAPI_DEFAULT_STORE, ULONG(second_id.size()), eid(second_id)), S_OK);
  auto rows = stores_of(s);
  EXPECT_FALSE(rows[0].is_default);
  EXPECT_TRUE(rows[1].is_default);
  EXPECT_TRUE(rows[1].resource_flags & STATUS_DEFAULT_STORE);
  EXPECT_FALSE(rows[0].resource_flags & STATUS_DEFAULT_STORE);
  EXPECT_EQ(s->SetDefaultStore(0, ULONG(second_id.size()), eid(second_id)), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(s->SetDefaultStore(MAPI_DEFAULT_STORE, 0, nullptr), MAPI_E_INVALID_PARAMETER);
  Bytes other = store_entry_id(path("elsewhere.pst"));
  EXPECT_EQ(s->SetDefaultStore(MAPI_DEFAULT_STORE, ULONG(other.size()), eid(other)), MAPI_E_NOT_FOUND);
}

TEST_F(MapiSessionStoreTest, QueryIdentityWithoutAnIdentityProviderWarnsNoService) {
  ULONG cb = 0;
  LPENTRYID id = nullptr;
  EXPECT_EQ(s->QueryIdentity(&cb, &id), MAPI_W_NO_SERVICE);
  EXPECT_FALSE(HR_FAILED(MAPI_W_NO_SERVICE));
  EXPECT_GT(cb, 0u);
  ASSERT_NE(id, nullptr);
  MAPIFreeBuffer(id);
  EXPECT_EQ(s->QueryIdentity(nullptr, &id), MAPI_E_INVALID_PARAMETER);
}

TEST_F(MapiSessionStoreTest, AdministrationThroughTheSessionFormsAndAddressingAreNotInThisRuntime) {
  LPSERVICEADMIN admin = nullptr;
  EXPECT_EQ(s->AdminServices(1, &admin), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(s->AdminServices(0, nullptr), MAPI_E_INVALID_PARAMETER);
  // imapisession-adminservices.md: the runtime's IMsgServiceAdmin over the
  // session's profile, which lists the profile's two PST services.
  ASSERT_EQ(s->AdminServices(0, &admin), S_OK);
  LPMAPITABLE services = nullptr;
  ASSERT_EQ(admin->GetMsgServiceTable(0, &services), S_OK);
  ULONG service_count = 0;
  EXPECT_EQ(services->GetRowCount(0, &service_count), S_OK);
  EXPECT_EQ(service_count, 2u);
  services->Release();
  admin->Release();
  MAPIUID uid{};
  LPPROFSECT sect = nullptr;
  EXPECT_EQ(s->OpenProfileSection(nullptr, nullptr, 0, &sect), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(s->OpenProfileSection(&uid, nullptr, 0x100, &sect), MAPI_E_UNKNOWN_FLAGS);
  // imapisession-openprofilesection.md: a UID that names no section.
  EXPECT_EQ(s->OpenProfileSection(&uid, nullptr, MAPI_MODIFY, &sect), MAPI_E_NOT_FOUND);
  // The hooks receive the session's profile.
  std::string seen_profile;
  auto old = capi::set_admin_services_hook(
      [&](const std::string& profile, const std::string&, ULONG, LPSERVICEADMIN*) -> HRESULT {
        seen_profile = profile;
        return MAPI_E_CALL_FAILED;
      });
  EXPECT_EQ(s->AdminServices(0, &admin), MAPI_E_CALL_FAILED);
  EXPECT_EQ(seen_profile, "Work");
  capi::set_admin_services_hook(old);
  LPADRBOOK ab = nullptr;
  EXPECT_EQ(s->OpenAddressBook(0, nullptr, 0, &ab), MAPI_E_NO_SUPPORT);
  ULONG n = 0;
  LPTSTR* types = nullptr;
  EXPECT_EQ(s->EnumAdrTypes(0, &n, &types), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(s->EnumAdrTypes(0, nullptr, &types), MAPI_E_INVALID_PARAMETER);
  LPSPropValue opts = nullptr;
  EXPECT_EQ(s->QueryDefaultMessageOpt(const_cast<LPTSTR>("SMTP"), 0, &n, &opts), MAPI_E_NO_SUPPORT);
  ULONG token = 0;
  EXPECT_EQ(s->PrepareForm(nullptr, nullptr, &token), MAPI_E_INVALID_PARAMETER);
  void* p = nullptr;
  ASSERT_EQ(s->QueryInterface(IID_IMAPISession, &p), S_OK);
  static_cast<LPMAPISESSION>(p)->Release();
  EXPECT_EQ(s->QueryInterface(IID_IMAPITable, &p), E_NOINTERFACE);
}

// ---- across processes --------------------------------------------------------

TEST_F(MapiSessionTest, AProfileCreatedInAnotherProcessLogsOn) {
  const std::string dir = dir_.path();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto ps = ProfileStore::open(dir);
    bool ok = ps.is_ok() && ps->create_profile("FromChild").is_ok();
    if (ok) {
      auto uid = ps->create_service("FromChild", "MSUPST MS", "Child mail", builtin_catalog());
      ok = uid.is_ok() && ps->configure_service("FromChild", *uid,
                                                {SectionProp::string_value(tags::kPstPath, dir + "/child.pst"),
                                                 SectionProp::long_value(tags::kPstConfigFlags,
                                                                         int32_t(kPstConfigCreateNowarn))})
                              .is_ok();
      ok = ok && ps->set_default_profile("FromChild").is_ok();
    }
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  LPMAPISESSION s = nullptr;
  ASSERT_EQ(logon(nullptr, kExt | MAPI_NEW_SESSION | MAPI_USE_DEFAULT, &s), S_OK);
  auto stores = stores_of(s);
  ASSERT_EQ(stores.size(), 1u);
  EXPECT_EQ(stores[0].entry_id, store_entry_id(dir + "/child.pst"));
  s->Release();
}

// ---- the C++ core without COM --------------------------------------------------

TEST_F(MapiSessionTest, TheCoreLogonHoldsTheProfileUntilTheSessionEnds) {
  make_profile("Work", "work.pst");
  LogonRequest req;
  req.profile = "Work";
  req.flags = logon_flag::kExtended | logon_flag::kNewSession;
  req.profile_dir = dir_.path();
  std::unique_ptr<Session> session;
  ASSERT_TRUE(logon(req, &session).ok());
  EXPECT_EQ(session->profile(), "Work");
  EXPECT_FALSE(session->profile_id().empty());
  ASSERT_TRUE(session->default_store().has_value());
  ASSERT_TRUE(store().delete_profile("Work").is_ok());
  EXPECT_EQ(store().read()->profiles.size(), 1u);
  session.reset();  // the last member's end releases the profile
  EXPECT_TRUE(store().read()->profiles.empty());
}

}  // namespace
}  // namespace pstkit::mapi
