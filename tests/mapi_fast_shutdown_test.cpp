// Fast shutdown (issue 10 part 4): IMAPIClientShutdown from
// IMAPISession::QueryInterface, the providers it asks in the documented order
// (transport, address book, store: fast-shutdown-overview.md), the
// FastShutdownBehavior policy (fast-shutdown-user-options.md) and what is left
// of MAPI after DoFastShutdown. Third-party providers are the libraries of
// tests/mapi_test_provider.cpp, named by the test catalog's
// PR_PROVIDER_DLL_NAME and loaded at logon through their MSProviderInit,
// ABProviderInit or XPProviderInit; they log every call.
//
// A successful DoFastShutdown ends MAPI for the whole process, so every
// scenario runs in a forked child that logs the HRESULTs it gets beside the
// providers' calls; the test compares the log.
#include <gtest/gtest.h>
#include <mapispi.h>
#include <mapiutil.h>
#include <mapix.h>
#include <mspst.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "mapi/com_prop.h"
#include "mapi/fast_shutdown.h"
#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"

namespace {

namespace fs = std::filesystem;
using pstkit::mapi::capi::FastShutdownPolicy;
using pstkit::mapi::capi::parse_shutdown_policy;

LPTSTR T(const char* s) { return reinterpret_cast<LPTSTR>(const_cast<char*>(s)); }

std::string hr_text(HRESULT hr) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", unsigned(hr));
  return buf;
}

class FastShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "pstkit-fastshut-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    log_ = dir_ + "/calls.log";
    policy_ = dir_ + "/policy.conf";
    std::ofstream out(dir_ + "/mapisvc.inf");
    out << "[Services]\n";
    const char* kinds[][2] = {{"STORE", "MAPI_STORE_PROVIDER"}, {"AB", "MAPI_AB_PROVIDER"},
                              {"XP", "MAPI_TRANSPORT_PROVIDER"}};
    const char* modes[] = {"optin", "optout", "none", "failinit"};
    std::ostringstream sections;
    for (auto& kind : kinds) {
      for (const char* mode : modes) {
        const std::string name = std::string(kind[0]) + "_" + mode;
        out << name << "=" << name << "\n";
        sections << "[" << name << "]\nPR_DISPLAY_NAME=" << name << "\nProviders=" << name << " P\n"
                 << "[" << name << " P]\nPR_RESOURCE_TYPE=" << kind[1] << "\nPR_PROVIDER_DISPLAY=" << name
                 << "\nPR_PROVIDER_DLL_NAME=" << PSTKIT_TEST_PROVIDER_DIR << "/libmapi_test_provider_" << mode
                 << ".so\n";
      }
    }
    out << sections.str();
    out.close();
    ::setenv("PSTKIT_PROFILE_DIR", (dir_ + "/profiles").c_str(), 1);
    ::setenv("PSTKIT_MAPISVC_INF", (dir_ + "/mapisvc.inf").c_str(), 1);
    ::setenv("PSTKIT_TEST_PROVIDER_LOG", log_.c_str(), 1);
    ::setenv("PSTKIT_POLICY_FILE", policy_.c_str(), 1);
  }
  void TearDown() override {
    for (const char* v : {"PSTKIT_PROFILE_DIR", "PSTKIT_MAPISVC_INF", "PSTKIT_TEST_PROVIDER_LOG", "PSTKIT_POLICY_FILE"})
      ::unsetenv(v);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void write_policy(const std::string& text) { std::ofstream(policy_) << text; }

  // Appends a line to the log (the client's side of the calls).
  void note(const std::string& line) const {
    if (FILE* f = std::fopen(log_.c_str(), "a")) {
      std::fprintf(f, "%s\n", line.c_str());
      std::fclose(f);
    }
  }

  std::vector<std::string> log_lines() const {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  // Runs `body` in a child process with MAPI initialised and a session of
  // a new profile with `services` (catalog names, in this order); the child
  // exits with body's status (0: fine). Returns the log.
  std::vector<std::string> in_child(const std::vector<std::string>& services,
                                    const std::function<int(LPMAPISESSION)>& body,
                                    ULONG logon_flags = MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE,
                                    const std::vector<std::pair<std::string, std::string>>& pst_services = {}) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) _exit(child(services, pst_services, body, logon_flags));
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    return log_lines();
  }

  int child(const std::vector<std::string>& services, const std::vector<std::pair<std::string, std::string>>& psts,
            const std::function<int(LPMAPISESSION)>& body, ULONG logon_flags) {
    if (MAPIInitialize(nullptr) != S_OK) return 10;
    LPPROFADMIN admin = nullptr;
    if (MAPIAdminProfiles(0, &admin) != S_OK) return 11;
    if (admin->CreateProfile(T("P"), nullptr, 0, 0) != S_OK) return 12;
    LPSERVICEADMIN sa = nullptr;
    if (admin->AdminServices(T("P"), nullptr, 0, 0, &sa) != S_OK) return 13;
    for (const auto& s : services)
      if (sa->CreateMsgService(T(s.c_str()), T(s.c_str()), 0, 0) != S_OK) return 14;
    for (const auto& [display, path] : psts) {  // one PST service at most
      if (sa->CreateMsgService(T("MSUPST MS"), T(display.c_str()), 0, 0) != S_OK) return 15;
      MAPIUID uid{};
      LPMAPITABLE table = nullptr;
      LPSRowSet rows = nullptr;
      SizedSPropTagArray(2, cols) = {2, {PR_SERVICE_NAME_A, PR_SERVICE_UID}};
      if (sa->GetMsgServiceTable(0, &table) != S_OK) return 18;
      if (HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &rows) != S_OK) return 19;
      for (ULONG i = 0; i < rows->cRows; ++i) {
        const SPropValue* p = rows->aRow[i].lpProps;
        if (PROP_TYPE(p[0].ulPropTag) == PT_STRING8 && std::string(p[0].Value.lpszA) == "MSUPST MS")
          std::memcpy(&uid, p[1].Value.bin.lpb, sizeof uid);
      }
      FreeProws(rows);
      table->Release();
      SPropValue v;
      v.ulPropTag = PR_PST_PATH_A;
      v.Value.lpszA = const_cast<char*>(path.c_str());
      if (sa->ConfigureMsgService(&uid, 0, 0, 1, &v) != S_OK) return 16;
    }
    sa->Release();
    admin->Release();
    LPMAPISESSION session = nullptr;
    if (HRESULT hr = MAPILogonEx(0, T("P"), nullptr, logon_flags, &session); hr != S_OK) {
      note("logon " + hr_text(hr));
      return 17;
    }
    return body(session);
  }

  // The client's sequence: QueryFastShutdown, NotifyProcessShutdown and
  // DoFastShutdown on the session's IMAPIClientShutdown, each logged.
  // When DoFastShutdown succeeds the child _exit(0)s at once (logging what
  // MAPI answers afterwards), as a client does; otherwise it logs off.
  int client_sequence(LPMAPISESSION session) {
    LPMAPICLIENTSHUTDOWN shutdown = nullptr;
    HRESULT hr = session->QueryInterface(IID_IMAPIClientShutdown, reinterpret_cast<void**>(&shutdown));
    if (hr != S_OK || shutdown == nullptr) {
      note("client QueryInterface " + hr_text(hr));
      return 20;
    }
    note("client QueryFastShutdown " + hr_text(shutdown->QueryFastShutdown()));
    note("client NotifyProcessShutdown " + hr_text(shutdown->NotifyProcessShutdown()));
    hr = shutdown->DoFastShutdown();
    note("client DoFastShutdown " + hr_text(hr));
    if (hr == S_OK) {
      after_fast_shutdown(session);
      _exit(0);
    }
    shutdown->Release();
    note("client Logoff " + hr_text(session->Logoff(0, 0, 0)));
    session->Release();
    MAPIUninitialize();
    return 0;
  }

  void after_fast_shutdown(LPMAPISESSION session) {
    LPMAPISESSION other = nullptr;
    note("after MAPILogonEx " + hr_text(MAPILogonEx(0, T("P"), nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &other)));
    LPMAPITABLE table = nullptr;
    note("after GetMsgStoresTable " + hr_text(session->GetMsgStoresTable(0, &table)));
    LPPROFADMIN admin = nullptr;
    note("after MAPIAdminProfiles " + hr_text(MAPIAdminProfiles(0, &admin)));
    note("after MAPIInitialize " + hr_text(MAPIInitialize(nullptr)));
    MAPIUninitialize();  // must do nothing: no provider is shut down or released
    note("after Logoff " + hr_text(session->Logoff(0, 0, 0)));
  }

  std::string dir_, log_, policy_;
};

using Lines = std::vector<std::string>;

// ---- The policy file ---------------------------------------------------------

TEST(FastShutdownPolicyTest, ReadsFastShutdownBehaviorFromTheShutdownSection) {
  EXPECT_EQ(parse_shutdown_policy("[Shutdown]\nFastShutdownBehavior=1\n", "f").policy,
            FastShutdownPolicy::kOnlyIfAllOptIn);
  EXPECT_EQ(parse_shutdown_policy("; comment\n[shutdown]\n  fastshutdownbehavior = 2 \n", "f").policy,
            FastShutdownPolicy::kOff);
  EXPECT_EQ(parse_shutdown_policy("[Shutdown]\nFastShutdownBehavior=0x00000002\n", "f").policy,
            FastShutdownPolicy::kOff);
  // Another section's key, and a missing key, leave the default.
  EXPECT_EQ(parse_shutdown_policy("[Other]\nFastShutdownBehavior=2\n[Shutdown]\nX=1\n", "f").policy,
            FastShutdownPolicy::kOnUnlessOptOut);
  // The last value wins.
  EXPECT_EQ(parse_shutdown_policy("[Shutdown]\nFastShutdownBehavior=2\nFastShutdownBehavior=1\n", "f").policy,
            FastShutdownPolicy::kOnlyIfAllOptIn);
}

TEST(FastShutdownPolicyTest, ABadValueIsTheDefaultZeroWithANote) {
  for (const char* bad : {"3", "-1", "off", "", "1x", "0x", "99999999999", "2 # two"}) {
    auto r = parse_shutdown_policy(std::string("[Shutdown]\nFastShutdownBehavior=") + bad + "\n", "/p");
    EXPECT_EQ(r.policy, FastShutdownPolicy::kOnUnlessOptOut) << bad;
    EXPECT_NE(r.note.find("/p:2: FastShutdownBehavior="), std::string::npos) << bad << ": " << r.note;
  }
  // Binary garbage never crashes and means the default.
  std::string junk(4096, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = char(i * 131 + 7);
  EXPECT_EQ(parse_shutdown_policy(junk, "f").policy, FastShutdownPolicy::kOnUnlessOptOut);
}

TEST_F(FastShutdownTest, PolicyFileComesFromPstkitPolicyFileAndAMissingFileIsZero) {
  EXPECT_EQ(pstkit::mapi::capi::shutdown_policy_path(), policy_);
  EXPECT_EQ(pstkit::mapi::capi::read_shutdown_policy().policy, FastShutdownPolicy::kOnUnlessOptOut);
  EXPECT_EQ(pstkit::mapi::capi::read_shutdown_policy().note, "");
  write_policy("[Shutdown]\nFastShutdownBehavior=2\n");
  EXPECT_EQ(pstkit::mapi::capi::read_shutdown_policy().policy, FastShutdownPolicy::kOff);
  write_policy(std::string(70 * 1024, '#'));  // not a policy file
  auto r = pstkit::mapi::capi::read_shutdown_policy();
  EXPECT_EQ(r.policy, FastShutdownPolicy::kOnUnlessOptOut);
  EXPECT_NE(r.note.find("64 KiB"), std::string::npos);
  ::unsetenv("PSTKIT_POLICY_FILE");
  EXPECT_EQ(pstkit::mapi::capi::shutdown_policy_path(), "/etc/pstkit/policy.conf");
}

// ---- Policy 0 ------------------------------------------------------------------

TEST_F(FastShutdownTest, Policy0CallsTransportThenAddressBookThenStoreAndProvidersWithoutTheInterfaceDoNotBlock) {
  // The profile lists the store first and the transport last; the calls go
  // transport, address book, store. The AB provider implements nothing.
  auto log = in_child({"STORE_optin", "AB_none", "XP_optin"}, [this](LPMAPISESSION s) { return client_sequence(s); });
  EXPECT_EQ(log, (Lines{"store-optin Init", "ab-none Init", "transport-optin Init",
                        "transport-optin QueryFastShutdown", "store-optin QueryFastShutdown",
                        "client QueryFastShutdown 0x00000000",
                        "transport-optin NotifyProcessShutdown", "store-optin NotifyProcessShutdown",
                        "client NotifyProcessShutdown 0x00000000",
                        "transport-optin DoFastShutdown", "store-optin DoFastShutdown",
                        "client DoFastShutdown 0x00000000",
                        // Every MAPI call fails afterwards, and nothing is
                        // shut down, released or written.
                        "after MAPILogonEx 0x80040605", "after GetMsgStoresTable 0x80040200",
                        "after MAPIAdminProfiles 0x80040605", "after MAPIInitialize 0x80004005",
                        "after Logoff 0x80040200"}));
}

TEST_F(FastShutdownTest, Policy0AProviderThatOptsOutMakesQueryFastShutdownNoSupportAndNobodyIsToldOrShutDownFast) {
  auto log = in_child({"AB_optout", "STORE_optin"}, [this](LPMAPISESSION s) { return client_sequence(s); });
  EXPECT_EQ(log, (Lines{"ab-optout Init", "store-optin Init",
                        // Every provider is asked, the one that opts out too.
                        "ab-optout QueryFastShutdown", "store-optin QueryFastShutdown",
                        "client QueryFastShutdown 0x80040102",
                        // Not supported: providers are never told, DoFastShutdown refuses.
                        "client NotifyProcessShutdown 0x00000000", "client DoFastShutdown 0x80040102",
                        // The runtime still works: Logoff shuts every provider
                        // down before releasing it (imsprovider-shutdown.md).
                        "ab-optout Shutdown", "ab-optout Release", "store-optin Shutdown", "store-optin Release",
                        "client Logoff 0x00000000"}));
}

// ---- Policy 1 ------------------------------------------------------------------

TEST_F(FastShutdownTest, Policy1NeedsEveryProviderToOptInAndAProviderWithoutTheInterfaceRefuses) {
  write_policy("[Shutdown]\nFastShutdownBehavior=1\n");
  auto log = in_child({"STORE_optin", "AB_none"}, [this](LPMAPISESSION s) { return client_sequence(s); });
  EXPECT_EQ(log, (Lines{"store-optin Init", "ab-none Init", "store-optin QueryFastShutdown",
                        "client QueryFastShutdown 0x80040102", "client NotifyProcessShutdown 0x00000000",
                        "client DoFastShutdown 0x80040102", "store-optin Shutdown", "store-optin Release",
                        "ab-none Shutdown", "ab-none Release", "client Logoff 0x00000000"}));
}

TEST_F(FastShutdownTest, Policy1WithEveryProviderOptingInShutsDownFast) {
  write_policy("[Shutdown]\nFastShutdownBehavior=1\n");
  auto log = in_child({"STORE_optin", "XP_optin", "AB_optin"}, [this](LPMAPISESSION s) { return client_sequence(s); });
  ASSERT_GE(log.size(), 12u);
  EXPECT_EQ(Lines(log.begin() + 3, log.begin() + 12),
            (Lines{"transport-optin QueryFastShutdown", "ab-optin QueryFastShutdown", "store-optin QueryFastShutdown",
                   "client QueryFastShutdown 0x00000000", "transport-optin NotifyProcessShutdown",
                   "ab-optin NotifyProcessShutdown", "store-optin NotifyProcessShutdown",
                   "client NotifyProcessShutdown 0x00000000", "transport-optin DoFastShutdown"}));
  EXPECT_EQ(log[14], "client DoFastShutdown 0x00000000");
}

TEST_F(FastShutdownTest, Policy1AProviderThatOptsOutRefuses) {
  write_policy("[Shutdown]\nFastShutdownBehavior=1\n");
  auto log = in_child({"XP_optout"}, [this](LPMAPISESSION s) { return client_sequence(s); });
  EXPECT_EQ(Lines(log.begin(), log.begin() + 3),
            (Lines{"transport-optout Init", "transport-optout QueryFastShutdown", "client QueryFastShutdown 0x80040102"}));
}

// ---- Policy 2 ------------------------------------------------------------------

TEST_F(FastShutdownTest, Policy2IsNoSupportAndNoProviderIsCalled) {
  write_policy("[Shutdown]\nFastShutdownBehavior=2\n");
  auto log = in_child({"STORE_optin", "AB_optin", "XP_optin"}, [this](LPMAPISESSION s) { return client_sequence(s); });
  EXPECT_EQ(log, (Lines{"store-optin Init", "ab-optin Init", "transport-optin Init",
                        "client QueryFastShutdown 0x80040102", "client NotifyProcessShutdown 0x00000000",
                        "client DoFastShutdown 0x80040102", "store-optin Shutdown", "store-optin Release",
                        "ab-optin Shutdown", "ab-optin Release", "transport-optin Shutdown",
                        "transport-optin Release", "client Logoff 0x00000000"}));
}

// ---- Providers at logon -----------------------------------------------------------

TEST_F(FastShutdownTest, AProviderWhoseInitFailsIsRetriedOnceThenItsServiceIsDisabled) {
  auto log = in_child({"STORE_failinit", "STORE_optin"}, [this](LPMAPISESSION s) {
    LPMAPITABLE table = nullptr;
    if (s->GetStatusTable(0, &table) != S_OK) return 30;
    LPSRowSet rows = nullptr;
    SizedSPropTagArray(2, cols) = {2, {PR_PROVIDER_DISPLAY_A, PR_STATUS_CODE}};
    if (HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &rows) != S_OK) return 31;
    for (ULONG i = 0; i < rows->cRows; ++i) {
      const SPropValue* p = rows->aRow[i].lpProps;
      if (PROP_TYPE(p[0].ulPropTag) == PT_STRING8 && std::string(p[0].Value.lpszA).find("STORE_") == 0)
        note(std::string(p[0].Value.lpszA) + " status " + std::to_string(p[1].Value.l));
    }
    FreeProws(rows);
    table->Release();
    return client_sequence(s);
  });
  ASSERT_GE(log.size(), 6u);
  EXPECT_EQ(Lines(log.begin(), log.begin() + 6),
            (Lines{"store-failinit Init", "store-failinit Init", "store-optin Init", "STORE_failinit status 4",
                   "STORE_optin status 1", "store-optin QueryFastShutdown"}));
}

TEST_F(FastShutdownTest, ATransportWhoseInitFailsHasNotStartedAndFailsNoService) {
  auto log = in_child({"XP_failinit", "STORE_optin"}, [this](LPMAPISESSION s) { return client_sequence(s); });
  ASSERT_GE(log.size(), 4u);
  EXPECT_EQ(Lines(log.begin(), log.begin() + 4),
            (Lines{"transport-failinit Init", "store-optin Init", "store-optin QueryFastShutdown",
                   "client QueryFastShutdown 0x00000000"}));
}

TEST_F(FastShutdownTest, TransportsOfLibrariesAreNotLoadedUnderMapiNoMail) {
  auto log = in_child({"XP_optin", "STORE_optin"}, [this](LPMAPISESSION s) { return client_sequence(s); },
                      MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL);
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(Lines(log.begin(), log.begin() + 3),
            (Lines{"store-optin Init", "store-optin QueryFastShutdown", "client QueryFastShutdown 0x00000000"}));
}

// ---- The PST store provider ----------------------------------------------------------

// What the writer holds between commits (write-behind's unsaved work) is on
// disk after DoFastShutdown and _exit; background work is stopped on notify;
// after DoFastShutdown a write through an object still open fails and the
// file does not change.
TEST_F(FastShutdownTest, ThePstProviderStopsBackgroundWorkOnNotifyAndMakesUnsavedWorkDurableOnDoFastShutdown) {
  const std::string pst = dir_ + "/store.pst";
  {
    auto w = pstkit::StoreWriter::create(pst, {});
    ASSERT_TRUE(w.is_ok()) << w.status().message();
  }
  auto log = in_child(
      {"STORE_optin"},
      [&](LPMAPISESSION s) {
        LPMAPITABLE table = nullptr;
        LPSRowSet rows = nullptr;
        SizedSPropTagArray(1, cols) = {1, {PR_ENTRYID}};
        if (s->GetMsgStoresTable(0, &table) != S_OK) return 40;
        if (HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&cols), nullptr, nullptr, 0, &rows) != S_OK) return 41;
        LPMDB store = nullptr;
        for (ULONG i = 0; i < rows->cRows && store == nullptr; ++i) {
          const SBinary& id = rows->aRow[i].lpProps[0].Value.bin;
          (void)s->OpenMsgStore(0, id.cb, reinterpret_cast<LPENTRYID>(id.lpb), nullptr, MDB_WRITE, &store);
        }
        if (store == nullptr) return 42;
        auto* object = dynamic_cast<pstkit::mapi::capi::PropObjectBase*>(store);
        if (object == nullptr) return 43;
        auto state = object->state();
        auto subtree = state->store().ipm_subtree_nid();
        if (!subtree) return 44;
        // Staged, not committed: what a write-behind SaveChanges leaves.
        if (!state->writer->create_folder(*subtree, "Unsaved work", "IPF.Note").is_ok()) return 45;
        (void)pstkit::mapi::capi::register_background_work([this] { note("background work stopped"); });
        LPMAPICLIENTSHUTDOWN shutdown = nullptr;
        if (s->QueryInterface(IID_IMAPIClientShutdown, reinterpret_cast<void**>(&shutdown)) != S_OK) return 46;
        note("client QueryFastShutdown " + hr_text(shutdown->QueryFastShutdown()));
        note("client NotifyProcessShutdown " + hr_text(shutdown->NotifyProcessShutdown()));
        // More unsaved work after the notification: DoFastShutdown saves it.
        if (!state->writer->create_folder(*subtree, "Later work", "IPF.Note").is_ok()) return 47;
        note("client DoFastShutdown " + hr_text(shutdown->DoFastShutdown()));
        const auto size = fs::file_size(pst);
        const auto time = fs::last_write_time(pst);
        LPMAPIFOLDER root = nullptr;
        ULONG type = 0;
        HRESULT hr = store->OpenEntry(0, nullptr, &IID_IMAPIFolder, MAPI_MODIFY, &type, reinterpret_cast<LPUNKNOWN*>(&root));
        if (hr == S_OK) {
          LPMAPIFOLDER made = nullptr;
          HRESULT made_hr = root->CreateFolder(FOLDER_GENERIC, T("Too late"), nullptr, nullptr, 0, &made);
          note("after CreateFolder failed " + std::to_string(FAILED(made_hr)) + " " + hr_text(made_hr));
        }
        note("after file unchanged " + std::to_string(fs::file_size(pst) == size && fs::last_write_time(pst) == time));
        _exit(0);
      },
      MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE, {{"Personal", pst}});
  EXPECT_EQ(log, (Lines{"store-optin Init", "store-optin QueryFastShutdown", "client QueryFastShutdown 0x00000000",
                        "store-optin NotifyProcessShutdown", "background work stopped",
                        "client NotifyProcessShutdown 0x00000000", "store-optin DoFastShutdown",
                        "client DoFastShutdown 0x00000000", "after CreateFolder failed 1 0x80040116", "after file unchanged 1"}));
  auto store = pstkit::Store::open(pst);
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  auto subtree = (*store)->open_folder(*(*store)->ipm_subtree_nid());
  ASSERT_TRUE(subtree.is_ok());
  auto folders = subtree->subfolders();
  ASSERT_TRUE(folders.is_ok());
  std::vector<std::string> names;
  for (const auto& row : *folders) names.push_back(row.props.get_string(pstkit::prop::kDisplayName).value_or(""));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (Lines{"Deleted Items", "Later work", "Unsaved work"}));
}

}  // namespace
