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

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

LPTSTR T(const char* s) { return reinterpret_cast<LPTSTR>(const_cast<char*>(s)); }

std::vector<BYTE> bytes(const SBinary& b) { return std::vector<BYTE>(b.lpb, b.lpb + b.cb); }

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
    for (const char* v : {"PSTKIT_PROFILE_DIR", "PSTKIT_MAPISVC_INF", "PSTKIT_TEST_PROVIDER_LOG"}) ::unsetenv(v);
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
    "ok support Subscribe no support, explained",
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
  EXPECT_EQ(log_lines(), concat(kLogonCalls, {"ok IMsgStore::StoreLogoff", "ok IMsgStore::Release",
                                              "ok IMSLogon::Logoff", "ok IMSLogon::Release"}));
  // Session Logoff: the provider is shut down, then released.
  EXPECT_EQ(session_->Logoff(0, 0, 0), S_OK);
  session_->Release();
  session_ = nullptr;
  EXPECT_EQ(log_lines(),
            concat(kLogonCalls, {"ok IMsgStore::StoreLogoff", "ok IMsgStore::Release", "ok IMSLogon::Logoff",
                                 "ok IMSLogon::Release", "ok IMSProvider::Shutdown", "ok IMSProvider::Release"}));
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
