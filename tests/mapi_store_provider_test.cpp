// Third-party store providers opened through IMSProvider::Logon (issue 9;
// imsprovider-logon.md, imapisupportiunknown.md,
// shutting-down-a-message-store-provider.md). The providers are the
// libraries of tests/mapi_test_store_provider.cpp, named by the test
// catalog's PR_PROVIDER_DLL_NAME, loaded at logon through MSProviderInit;
// they log every call, and the tests compare the log.
#include <gtest/gtest.h>
#include <mapispi.h>
#include <mapiutil.h>
#include <mapix.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

LPTSTR T(const char* s) { return reinterpret_cast<LPTSTR>(const_cast<char*>(s)); }

std::vector<BYTE> bytes(const SBinary& b) { return std::vector<BYTE>(b.lpb, b.lpb + b.cb); }

// A status row of a data file this process found not closed properly
// (docs/MAPI.md "Did not close properly"): every session lists those rows,
// with PR_RESOURCE_TYPE MAPI_STORE_PROVIDER, so a crash recovery test run
// earlier in the same process leaves one in these tests' tables.
bool is_data_file_check(const SPropValue& provider_display) {
  return provider_display.ulPropTag == PR_PROVIDER_DISPLAY_A &&
         std::string(provider_display.Value.lpszA) == "Data file check";
}

class StoreProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "pstkit-msprov-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    log_ = dir_ + "/calls.log";
    std::ofstream out(dir_ + "/mapisvc.inf");
    out << "[Services]\nSTORE_ok=Test store\nSTORE_faillogon=Failing store\n";
    for (const char* mode : {"ok", "faillogon"}) {
      out << "[STORE_" << mode << "]\nPR_DISPLAY_NAME=STORE_" << mode << "\nProviders=STORE_" << mode << " P\n"
          << "[STORE_" << mode << " P]\nPR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\nPR_PROVIDER_DISPLAY=Test store "
          << mode << "\nPR_PROVIDER_DLL_NAME=" << PSTKIT_TEST_PROVIDER_DIR << "/libmapi_test_store_provider_"
          << mode << ".so\n";
    }
    out.close();
    ::setenv("PSTKIT_PROFILE_DIR", (dir_ + "/profiles").c_str(), 1);
    ::setenv("PSTKIT_MAPISVC_INF", (dir_ + "/mapisvc.inf").c_str(), 1);
    ::setenv("PSTKIT_TEST_PROVIDER_LOG", log_.c_str(), 1);
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
  }
  void TearDown() override {
    if (session_ != nullptr) {
      session_->Logoff(0, 0, 0);
      session_->Release();
    }
    MAPIUninitialize();
    for (const char* v : {"PSTKIT_PROFILE_DIR", "PSTKIT_MAPISVC_INF", "PSTKIT_TEST_PROVIDER_LOG",
                          "PSTKIT_TEST_PROVIDER_STATUS_OBJECT"})
      ::unsetenv(v);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A profile "P" with the catalog service `service`, and a session on it.
  void log_on(const char* service) {
    LPPROFADMIN admin = nullptr;
    ASSERT_EQ(MAPIAdminProfiles(0, &admin), S_OK);
    ASSERT_EQ(admin->CreateProfile(T("P"), nullptr, 0, 0), S_OK);
    LPSERVICEADMIN sa = nullptr;
    ASSERT_EQ(admin->AdminServices(T("P"), nullptr, 0, 0, &sa), S_OK);
    ASSERT_EQ(sa->CreateMsgService(T(service), T(service), 0, 0), S_OK);
    sa->Release();
    admin->Release();
    ASSERT_EQ(MAPILogonEx(0, T("P"), nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE, &session_),
              S_OK);
  }

  struct StoreRow {
    std::vector<BYTE> entry_id;
    std::vector<BYTE> record_key;
    std::string display;
  };
  // The message stores table's one row.
  StoreRow store_row() {
    StoreRow row;
    LPMAPITABLE table = nullptr;
    EXPECT_EQ(session_->GetMsgStoresTable(0, &table), S_OK);
    if (table == nullptr) return row;
    SizedSPropTagArray(3, cols) = {3, {PR_ENTRYID, PR_RECORD_KEY, PR_DISPLAY_NAME_A}};
    LPSRowSet rows = nullptr;
    EXPECT_EQ(HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &rows), S_OK);
    table->Release();
    if (rows == nullptr) return row;
    EXPECT_EQ(rows->cRows, 1u);
    if (rows->cRows == 1) {
      const SPropValue* p = rows->aRow[0].lpProps;
      EXPECT_EQ(p[0].ulPropTag, ULONG(PR_ENTRYID));
      EXPECT_EQ(p[1].ulPropTag, ULONG(PR_RECORD_KEY));
      row.entry_id = bytes(p[0].Value.bin);
      row.record_key = bytes(p[1].Value.bin);
      if (p[2].ulPropTag == PR_DISPLAY_NAME_A) row.display = p[2].Value.lpszA;
    }
    FreeProws(rows);
    return row;
  }

  // The provider's store, opened through the stores table's entry ID.
  LPMDB open_store() {
    const StoreRow row = store_row();
    LPMDB store = nullptr;
    EXPECT_EQ(session_->OpenMsgStore(0, ULONG(row.entry_id.size()),
                                     reinterpret_cast<LPENTRYID>(const_cast<BYTE*>(row.entry_id.data())), nullptr,
                                     MDB_NO_DIALOG, &store),
              S_OK);
    return store;
  }

  struct StatusRow {
    std::string display, text, dll;
    LONG code = -1, methods = -1, object_type = -1;
    std::vector<BYTE> store_record_key;  // empty: not in the row
  };
  // The status table's store provider rows (PR_RESOURCE_TYPE
  // MAPI_STORE_PROVIDER), with the provider's own column too.
  std::vector<StatusRow> store_status_rows() {
    std::vector<StatusRow> out;
    LPMAPITABLE table = nullptr;
    EXPECT_EQ(session_->GetStatusTable(0, &table), S_OK);
    if (table == nullptr) return out;
    SizedSPropTagArray(9, cols) = {9,
                                   {PR_RESOURCE_TYPE, PR_DISPLAY_NAME_A, PR_STATUS_CODE, PR_STATUS_STRING_A,
                                    PR_RESOURCE_METHODS, PR_STORE_RECORD_KEY, PR_PROVIDER_DLL_NAME_A, PR_OBJECT_TYPE,
                                    PR_PROVIDER_DISPLAY_A}};
    LPSRowSet rows = nullptr;
    EXPECT_EQ(HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &rows), S_OK);
    table->Release();
    if (rows == nullptr) return out;
    for (ULONG i = 0; i < rows->cRows; ++i) {
      const SPropValue* p = rows->aRow[i].lpProps;
      if (p[0].ulPropTag != PR_RESOURCE_TYPE || ULONG(p[0].Value.l) != MAPI_STORE_PROVIDER) continue;
      if (is_data_file_check(p[8])) continue;
      StatusRow r;
      if (p[1].ulPropTag == PR_DISPLAY_NAME_A) r.display = p[1].Value.lpszA;
      if (p[2].ulPropTag == PR_STATUS_CODE) r.code = p[2].Value.l;
      if (p[3].ulPropTag == PR_STATUS_STRING_A) r.text = p[3].Value.lpszA;
      if (p[4].ulPropTag == PR_RESOURCE_METHODS) r.methods = p[4].Value.l;
      if (p[5].ulPropTag == PR_STORE_RECORD_KEY) r.store_record_key = bytes(p[5].Value.bin);
      if (p[6].ulPropTag == PR_PROVIDER_DLL_NAME_A) r.dll = p[6].Value.lpszA;
      if (p[7].ulPropTag == PR_OBJECT_TYPE) r.object_type = p[7].Value.l;
      out.push_back(r);
    }
    FreeProws(rows);
    return out;
  }

  std::vector<std::string> log_lines() const {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  std::string dir_;
  std::string log_;
  LPMAPISESSION session_ = nullptr;
};

const std::vector<std::string> kLogonCalls = {
    "ok MSProviderInit",
    "ok IMSProvider::Logon profile=P entryid=16",
    "ok support NewUID distinct",
    "ok support CompareEntryIDs 1 0",
    "ok support OpenProfileSection own section",
    "ok support Subscribe without a key refused, explained",
    "ok support Unsubscribe of no registration: not found",
    "ok support ModifyStatusRow bad flags",
    "ok support ModifyStatusRow",
};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(StoreProviderTest, OpenMsgStoreLogsOnThroughIMSProviderAndTheClientReadsTheProvidersStore) {
  log_on("STORE_ok");
  const StoreRow row = store_row();
  ASSERT_FALSE(row.entry_id.empty());
  ASSERT_EQ(row.record_key.size(), 16u);
  LPMDB store = nullptr;
  ASSERT_EQ(session_->OpenMsgStore(0, ULONG(row.entry_id.size()), reinterpret_cast<LPENTRYID>(
                                                                       const_cast<BYTE*>(row.entry_id.data())),
                                   nullptr, MDB_NO_DIALOG, &store),
            S_OK);
  ASSERT_NE(store, nullptr);
  SizedSPropTagArray(5, tags) = {5, {PR_DISPLAY_NAME_A, PR_RECORD_KEY, PR_ENTRYID, PR_STORE_SUPPORT_MASK, PR_SUBJECT_A}};
  ULONG n = 0;
  LPSPropValue v = nullptr;
  EXPECT_EQ(store->GetProps(reinterpret_cast<LPSPropTagArray>(&tags), 0, &n, &v), MAPI_W_ERRORS_RETURNED);
  ASSERT_EQ(n, 5u);
  EXPECT_STREQ(v[0].Value.lpszA, "Test store (ok)");
  // The provider's record key and wrapped entry ID are the table's.
  EXPECT_EQ(bytes(v[1].Value.bin), row.record_key);
  EXPECT_EQ(bytes(v[2].Value.bin), row.entry_id);
  EXPECT_EQ(v[3].Value.l, LONG(STORE_ENTRYID_UNIQUE | STORE_READONLY));
  EXPECT_EQ(v[4].ulPropTag, ULONG(PROP_TAG(PT_ERROR, PROP_ID(PR_SUBJECT_A))));
  MAPIFreeBuffer(v);
  // The rest of the provider's store answers MAPI_E_NO_SUPPORT.
  LPMAPITABLE queue = nullptr;
  EXPECT_EQ(store->GetOutgoingQueue(0, &queue), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(log_lines(), kLogonCalls);

  // StoreLogoff, then the last Release: the provider releases the support
  // object, and MAPI logs the store off and releases its logon object
  // (shutting-down-a-message-store-provider.md).
  ULONG flags = LOGOFF_ORDERLY;
  EXPECT_EQ(store->StoreLogoff(&flags), S_OK);
  store->Release();
  EXPECT_EQ(log_lines(), concat(kLogonCalls, {"ok IMsgStore::StoreLogoff", "ok support ModifyStatusRow update",
                                              "ok IMsgStore::Release", "ok IMSLogon::Logoff", "ok IMSLogon::Release"}));
  // Session Logoff: the provider is shut down, then released.
  EXPECT_EQ(session_->Logoff(0, 0, 0), S_OK);
  session_->Release();
  session_ = nullptr;
  EXPECT_EQ(log_lines(),
            concat(kLogonCalls, {"ok IMsgStore::StoreLogoff", "ok support ModifyStatusRow update",
                                 "ok IMsgStore::Release", "ok IMSLogon::Logoff", "ok IMSLogon::Release",
                                 "ok IMSProvider::Shutdown", "ok IMSProvider::Release"}));
}

TEST_F(StoreProviderTest, AStoreStillOpenAtSessionLogoffIsLoggedOffBeforeTheProviderShutsDown) {
  log_on("STORE_ok");
  const StoreRow row = store_row();
  LPMDB store = nullptr;
  ASSERT_EQ(session_->OpenMsgStore(0, ULONG(row.entry_id.size()), reinterpret_cast<LPENTRYID>(
                                                                       const_cast<BYTE*>(row.entry_id.data())),
                                   &IID_IMsgStore, MDB_NO_DIALOG, &store),
            S_OK);
  EXPECT_EQ(session_->Logoff(0, 0, 0), S_OK);
  session_->Release();
  session_ = nullptr;
  EXPECT_EQ(log_lines(), concat(kLogonCalls, {"ok IMSLogon::Logoff", "ok IMSLogon::Release",
                                              "ok IMSProvider::Shutdown", "ok IMSProvider::Release"}));
  // The client's late Release frees the store and the support object
  // (LeakSanitizer checks the latter).
  store->Release();
  EXPECT_EQ(log_lines().back(), "ok IMsgStore::Release");
}

TEST_F(StoreProviderTest, TwoOpensAreTwoLogonsEachLoggedOffAtItsStoresRelease) {
  log_on("STORE_ok");
  const StoreRow row = store_row();
  auto* id = reinterpret_cast<LPENTRYID>(const_cast<BYTE*>(row.entry_id.data()));
  LPMDB first = nullptr;
  LPMDB second = nullptr;
  ASSERT_EQ(session_->OpenMsgStore(0, ULONG(row.entry_id.size()), id, nullptr, MDB_NO_DIALOG, &first), S_OK);
  ASSERT_EQ(session_->OpenMsgStore(0, ULONG(row.entry_id.size()), id, nullptr, MDB_NO_DIALOG, &second), S_OK);
  EXPECT_NE(first, second);
  first->Release();  // no StoreLogoff: the provider aborts the transports' logoff itself
  auto lines = log_lines();
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(lines.end() - 3, lines.end()),
            (std::vector<std::string>{"ok IMsgStore::Release", "ok IMSLogon::Logoff", "ok IMSLogon::Release"}));
  second->Release();
  lines = log_lines();
  EXPECT_EQ(std::vector<std::string>(lines.end() - 3, lines.end()),
            (std::vector<std::string>{"ok IMsgStore::Release", "ok IMSLogon::Logoff", "ok IMSLogon::Release"}));
}

TEST_F(StoreProviderTest, SessionOpenEntryOfTheStoreEntryIdLogsOnToo) {
  log_on("STORE_ok");
  const StoreRow row = store_row();
  ULONG type = 0;
  LPUNKNOWN unknown = nullptr;
  ASSERT_EQ(session_->OpenEntry(ULONG(row.entry_id.size()),
                                reinterpret_cast<LPENTRYID>(const_cast<BYTE*>(row.entry_id.data())), nullptr, 0,
                                &type, &unknown),
            S_OK);
  EXPECT_EQ(type, ULONG(MAPI_STORE));
  auto* store = static_cast<LPMDB>(unknown);
  SizedSPropTagArray(1, tags) = {1, {PR_DISPLAY_NAME_A}};
  ULONG n = 0;
  LPSPropValue v = nullptr;
  ASSERT_EQ(store->GetProps(reinterpret_cast<LPSPropTagArray>(&tags), 0, &n, &v), S_OK);
  EXPECT_STREQ(v[0].Value.lpszA, "Test store (ok)");
  MAPIFreeBuffer(v);
  store->Release();
  EXPECT_EQ(log_lines(), concat(kLogonCalls, {"ok IMsgStore::Release", "ok IMSLogon::Logoff", "ok IMSLogon::Release"}));
}

// A client's advise sink: records what OnNotify brings (copied out), and
// counts its references without freeing itself (it lives on the stack).
class RecordingSink final : public IMAPIAdviseSink {
 public:
  struct Got {
    ULONG event = 0;
    std::vector<BYTE> entry_id, parent_id;
    std::string message_class;
    ULONG message_flags = 0;
    const void* entry_id_at = nullptr;  // where the notification's copy was
    std::thread::id thread;
  };
  explicit RecordingSink(ULONG answer = 0) : answer_(answer) {}
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    *ppv = nullptr;
    if (riid != IID_IUnknown && riid != IID_IMAPIAdviseSink) return E_NOINTERFACE;
    AddRef();
    *ppv = static_cast<IMAPIAdviseSink*>(this);
    return S_OK;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override { return --refs_; }
  STDMETHODIMP_(ULONG) OnNotify(ULONG count, LPNOTIFICATION notifications) override {
    std::lock_guard lock(mutex_);
    for (ULONG i = 0; i < count; ++i) {
      const NOTIFICATION& n = notifications[i];
      Got g;
      g.event = n.ulEventType;
      g.thread = std::this_thread::get_id();
      if (n.ulEventType == fnevNewMail) {
        const auto& m = n.info.newmail;
        g.entry_id.assign(reinterpret_cast<LPBYTE>(m.lpEntryID), reinterpret_cast<LPBYTE>(m.lpEntryID) + m.cbEntryID);
        g.parent_id.assign(reinterpret_cast<LPBYTE>(m.lpParentID),
                           reinterpret_cast<LPBYTE>(m.lpParentID) + m.cbParentID);
        if (m.lpszMessageClass != nullptr) g.message_class = reinterpret_cast<const char*>(m.lpszMessageClass);
        g.message_flags = m.ulMessageFlags;
        g.entry_id_at = m.lpEntryID;
      }
      got_.push_back(g);
    }
    cv_.notify_all();
    return answer_;
  }
  ULONG refs() const { return refs_; }
  std::vector<Got> got() {
    std::lock_guard lock(mutex_);
    return got_;
  }
  bool wait_for(size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return got_.size() >= n; });
  }

 private:
  std::atomic<ULONG> refs_{1};
  const ULONG answer_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Got> got_;
};

BYTE kMessageId[] = {0, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0x01};
BYTE kFolderId[] = {0, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0x02};

NOTIFICATION new_mail() {
  NOTIFICATION n;
  std::memset(&n, 0, sizeof n);
  n.ulEventType = fnevNewMail;
  n.info.newmail.cbEntryID = sizeof kMessageId;
  n.info.newmail.lpEntryID = reinterpret_cast<LPENTRYID>(kMessageId);
  n.info.newmail.cbParentID = sizeof kFolderId;
  n.info.newmail.lpParentID = reinterpret_cast<LPENTRYID>(kFolderId);
  n.info.newmail.lpszMessageClass = T("IPM.Note");
  n.info.newmail.ulMessageFlags = MSGFLAG_UNMODIFIED;
  return n;
}

TEST_F(StoreProviderTest, AProviderSubscribesTheClientsSinkAndItsNotifyReachesItBeforeReturning) {
  log_on("STORE_ok");
  LPMDB store = open_store();
  ASSERT_NE(store, nullptr);
  RecordingSink mail;
  RecordingSink critical;
  ULONG_PTR mail_connection = 0;
  ULONG_PTR critical_connection = 0;
  // Store-wide: the provider subscribes with NOTIFY_SYNC under its record key.
  ASSERT_EQ(store->Advise(0, nullptr, fnevNewMail, &mail, &mail_connection), S_OK);
  ASSERT_EQ(store->Advise(0, nullptr, fnevCriticalError, &critical, &critical_connection), S_OK);
  EXPECT_NE(mail_connection, 0u);
  EXPECT_NE(mail_connection, critical_connection);
  EXPECT_EQ(mail.refs(), 2u);  // MAPI holds the sink while subscribed

  NOTIFICATION n = new_mail();
  ASSERT_EQ(store->NotifyNewMail(&n), S_OK);
  // Delivered before Notify returned, on this thread, as MAPI's copy.
  auto got = mail.got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, ULONG(fnevNewMail));
  EXPECT_EQ(got[0].entry_id, std::vector<BYTE>(std::begin(kMessageId), std::end(kMessageId)));
  EXPECT_EQ(got[0].parent_id, std::vector<BYTE>(std::begin(kFolderId), std::end(kFolderId)));
  EXPECT_EQ(got[0].message_class, "IPM.Note");
  EXPECT_EQ(got[0].message_flags, ULONG(MSGFLAG_UNMODIFIED));
  EXPECT_NE(got[0].entry_id_at, static_cast<const void*>(kMessageId));
  EXPECT_EQ(got[0].thread, std::this_thread::get_id());
  // The other sink asked for critical errors only.
  EXPECT_TRUE(critical.got().empty());

  // Unadvise: the provider unsubscribes and MAPI releases the sink.
  EXPECT_EQ(store->Unadvise(mail_connection), S_OK);
  EXPECT_EQ(mail.refs(), 1u);
  EXPECT_EQ(store->Unadvise(mail_connection), MAPI_E_NOT_FOUND);
  ASSERT_EQ(store->NotifyNewMail(&n), S_OK);
  EXPECT_EQ(mail.got().size(), 1u);

  // The end of the logon ends the registrations left.
  EXPECT_EQ(critical.refs(), 2u);
  store->Release();
  EXPECT_EQ(critical.refs(), 1u);
  EXPECT_TRUE(critical.got().empty());
}

TEST_F(StoreProviderTest, WithoutNotifySyncTheNotificationIsQueuedAndDeliveredOnAnotherThread) {
  log_on("STORE_ok");
  LPMDB store = open_store();
  ASSERT_NE(store, nullptr);
  // An object's entry ID: the provider subscribes without NOTIFY_SYNC.
  RecordingSink folder;
  ULONG_PTR connection = 0;
  ASSERT_EQ(store->Advise(sizeof kFolderId, reinterpret_cast<LPENTRYID>(kFolderId), fnevNewMail | fnevObjectCreated,
                          &folder, &connection),
            S_OK);
  NOTIFICATION n = new_mail();
  ASSERT_EQ(store->NotifyNewMail(&n), S_OK);
  ASSERT_TRUE(folder.wait_for(1));
  auto got = folder.got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, ULONG(fnevNewMail));
  EXPECT_EQ(got[0].entry_id, std::vector<BYTE>(std::begin(kMessageId), std::end(kMessageId)));
  EXPECT_NE(got[0].thread, std::this_thread::get_id());
  // The store's end waits for the queue and releases the registration.
  store->Release();
  EXPECT_EQ(folder.refs(), 1u);
  EXPECT_EQ(folder.got().size(), 1u);
}

TEST_F(StoreProviderTest, ACallbackThatDiscontinuesStopsTheNotificationAndNotifyReportsItCanceled) {
  log_on("STORE_ok");
  LPMDB store = open_store();
  ASSERT_NE(store, nullptr);
  RecordingSink first(CALLBACK_DISCONTINUE);
  RecordingSink second;
  ULONG_PTR c1 = 0;
  ULONG_PTR c2 = 0;
  ASSERT_EQ(store->Advise(0, nullptr, fnevNewMail, &first, &c1), S_OK);
  ASSERT_EQ(store->Advise(0, nullptr, fnevNewMail, &second, &c2), S_OK);
  NOTIFICATION n = new_mail();
  ASSERT_EQ(store->NotifyNewMail(&n), S_OK);
  EXPECT_EQ(first.got().size(), 1u);
  EXPECT_TRUE(second.got().empty());
  auto lines = log_lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "ok support Notify canceled"), lines.end());
  // A notification of no event type is refused before any sink sees it.
  n.ulEventType = 0x00004000;
  EXPECT_EQ(store->NotifyNewMail(&n), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(first.got().size(), 1u);
  store->Release();
  EXPECT_EQ(first.refs(), 1u);
  EXPECT_EQ(second.refs(), 1u);
}

TEST_F(StoreProviderTest, TheProvidersStatusRowIsInTheStatusTableWhileItsLogonLasts) {
  log_on("STORE_ok");
  const std::string dll = std::string(PSTKIT_TEST_PROVIDER_DIR) + "/libmapi_test_store_provider_ok.so";
  // Before a logon: the runtime's row of the provider.
  auto rows = store_status_rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text, "Available");
  EXPECT_TRUE(rows[0].store_record_key.empty());
  const std::string runtime_display = rows[0].display;

  LPMDB store = open_store();
  ASSERT_NE(store, nullptr);
  rows = store_status_rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].display, "Test store status");
  EXPECT_EQ(rows[0].code, LONG(STATUS_AVAILABLE));
  EXPECT_EQ(rows[0].text, "Connected to the test server");
  EXPECT_EQ(rows[0].methods, LONG(STATUS_VALIDATE_STATE));
  EXPECT_EQ(rows[0].store_record_key, store_row().record_key);
  // The columns MAPI computes are MAPI's.
  EXPECT_EQ(rows[0].dll, dll);
  EXPECT_EQ(rows[0].object_type, LONG(MAPI_STATUS));
  {
    // The same row in a Unicode table.
    LPMAPITABLE table = nullptr;
    ASSERT_EQ(session_->GetStatusTable(MAPI_UNICODE, &table), S_OK);
    SizedSPropTagArray(2, cols) = {2, {PR_RESOURCE_TYPE, PR_STATUS_STRING_W}};
    LPSRowSet set = nullptr;
    ASSERT_EQ(HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &set), S_OK);
    table->Release();
    int found = 0;
    for (ULONG i = 0; i < set->cRows; ++i) {
      const SPropValue* p = set->aRow[i].lpProps;
      if (ULONG(p[0].Value.l) != MAPI_STORE_PROVIDER) continue;
      ASSERT_EQ(p[1].ulPropTag, ULONG(PR_STATUS_STRING_W));
      EXPECT_EQ(std::wstring(p[1].Value.lpszW), L"Connected to the test server");
      ++found;
    }
    FreeProws(set);
    EXPECT_EQ(found, 1);
  }

  // StoreLogoff: the provider updates two columns (STATUSROW_UPDATE).
  ULONG flags = LOGOFF_ORDERLY;
  EXPECT_EQ(store->StoreLogoff(&flags), S_OK);
  rows = store_status_rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].display, "Test store status");
  EXPECT_EQ(rows[0].code, LONG(STATUS_OFFLINE));
  EXPECT_EQ(rows[0].text, "Logged off");
  EXPECT_EQ(rows[0].methods, LONG(STATUS_VALIDATE_STATE));

  // The logon ends with the store's last Release: its row goes.
  store->Release();
  rows = store_status_rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].display, runtime_display);
  EXPECT_EQ(rows[0].text, "Available");
  EXPECT_TRUE(rows[0].store_record_key.empty());
}

// The status table's row of the provider's store (PR_RESOURCE_TYPE
// MAPI_STORE_PROVIDER): its PR_ENTRYID.
std::vector<BYTE> store_status_entry_id(LPMAPISESSION session) {
  std::vector<BYTE> out;
  LPMAPITABLE table = nullptr;
  EXPECT_EQ(session->GetStatusTable(0, &table), S_OK);
  if (table == nullptr) return out;
  SizedSPropTagArray(3, cols) = {3, {PR_ENTRYID, PR_RESOURCE_TYPE, PR_PROVIDER_DISPLAY_A}};
  LPSRowSet rows = nullptr;
  EXPECT_EQ(HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &rows), S_OK);
  table->Release();
  for (ULONG i = 0; rows != nullptr && i < rows->cRows; ++i) {
    const SPropValue* p = rows->aRow[i].lpProps;
    if (p[0].ulPropTag == PR_ENTRYID && p[1].ulPropTag == PR_RESOURCE_TYPE &&
        ULONG(p[1].Value.l) == MAPI_STORE_PROVIDER && !is_data_file_check(p[2]))
      out = bytes(p[0].Value.bin);
  }
  FreeProws(rows);
  return out;
}

std::string status_string(LPMAPISTATUS status) {
  SizedSPropTagArray(1, tags) = {1, {PR_STATUS_STRING_A}};
  ULONG n = 0;
  LPSPropValue v = nullptr;
  std::string out = "(none)";
  if (SUCCEEDED(status->GetProps(reinterpret_cast<LPSPropTagArray>(&tags), 0, &n, &v)) && n == 1 &&
      v[0].ulPropTag == PR_STATUS_STRING_A)
    out = v[0].Value.lpszA;
  if (v != nullptr) MAPIFreeBuffer(v);
  return out;
}

TEST_F(StoreProviderTest, AProvidersStatusRowOpensThroughItsLogonsOpenStatusEntry) {
  ::setenv("PSTKIT_TEST_PROVIDER_STATUS_OBJECT", "1", 1);
  log_on("STORE_ok");
  LPMDB store = open_store();
  ASSERT_NE(store, nullptr);
  std::vector<BYTE> id = store_status_entry_id(session_);
  ASSERT_FALSE(id.empty());
  ULONG type = 0;
  LPUNKNOWN unk = nullptr;
  ASSERT_EQ(session_->OpenEntry(ULONG(id.size()), reinterpret_cast<LPENTRYID>(id.data()), &IID_IMAPIStatus, 0, &type,
                                &unk),
            S_OK);
  ::unsetenv("PSTKIT_TEST_PROVIDER_STATUS_OBJECT");
  ASSERT_NE(unk, nullptr);
  EXPECT_EQ(type, ULONG(MAPI_STATUS));
  auto* status = static_cast<LPMAPISTATUS>(static_cast<IUnknown*>(unk));
  // The provider's own object, not the runtime's.
  EXPECT_EQ(status_string(status), "Status object of the test provider");
  EXPECT_EQ(status->ValidateState(0, SUPPRESS_UI), S_OK);
  status->Release();
  const auto lines = log_lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "ok IMSLogon::OpenStatusEntry flags=0"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "ok IMAPIStatus::ValidateState flags=1"), lines.end());
  store->Release();
}

TEST_F(StoreProviderTest, WithoutOpenStatusEntryTheRowOpensAsMapisStatusObjectAndValidateStateRereadsIt) {
  log_on("STORE_ok");
  LPMDB store = open_store();
  ASSERT_NE(store, nullptr);
  std::vector<BYTE> id = store_status_entry_id(session_);
  ASSERT_FALSE(id.empty());
  ULONG type = 0;
  LPUNKNOWN unk = nullptr;
  ASSERT_EQ(session_->OpenEntry(ULONG(id.size()), reinterpret_cast<LPENTRYID>(id.data()), nullptr, 0, &type, &unk),
            S_OK);
  ASSERT_NE(unk, nullptr);
  EXPECT_EQ(type, ULONG(MAPI_STATUS));
  auto* status = static_cast<LPMAPISTATUS>(static_cast<IUnknown*>(unk));
  // The row the provider gave (ModifyStatusRow), with its methods.
  EXPECT_EQ(status_string(status), "Connected to the test server");
  // StoreLogoff updates the row; the object shows it after ValidateState.
  ULONG flags = LOGOFF_ORDERLY;
  EXPECT_EQ(store->StoreLogoff(&flags), S_OK);
  EXPECT_EQ(status_string(status), "Connected to the test server");
  EXPECT_EQ(status->ValidateState(0, 0), S_OK);
  EXPECT_EQ(status_string(status), "Logged off");
  EXPECT_EQ(status->FlushQueues(0, 0, nullptr, FLUSH_UPLOAD), MAPI_E_NO_SUPPORT);
  status->Release();
  store->Release();
}

TEST_F(StoreProviderTest, ALogonFailureReachesTheClientWithTheProvidersMapiError) {
  log_on("STORE_faillogon");
  const StoreRow row = store_row();
  ASSERT_FALSE(row.entry_id.empty());
  LPMDB store = reinterpret_cast<LPMDB>(0x1);
  EXPECT_EQ(session_->OpenMsgStore(0, ULONG(row.entry_id.size()), reinterpret_cast<LPENTRYID>(
                                                                       const_cast<BYTE*>(row.entry_id.data())),
                                   nullptr, MDB_NO_DIALOG, &store),
            MAPI_E_NETWORK_ERROR);
  EXPECT_EQ(store, nullptr);
  LPMAPIERROR error = nullptr;
  ASSERT_EQ(session_->GetLastError(MAPI_E_NETWORK_ERROR, 0, &error), S_OK);
  ASSERT_NE(error, nullptr);
  const std::string text = reinterpret_cast<const char*>(error->lpszError);
  EXPECT_NE(text.find("teststore: the test store's server is unreachable"), std::string::npos) << text;
  MAPIFreeBuffer(error);
  EXPECT_EQ(session_->Logoff(0, 0, 0), S_OK);
  session_->Release();
  session_ = nullptr;
  EXPECT_EQ(log_lines(), (std::vector<std::string>{"faillogon MSProviderInit",
                                                   "faillogon IMSProvider::Logon profile=P entryid=16",
                                                   "faillogon IMSProvider::Shutdown", "faillogon IMSProvider::Release"}));
}

}  // namespace
