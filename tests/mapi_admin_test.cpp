// Conformance tests of profile administration through MAPI: MAPIAdminProfiles,
// IProfAdmin, IMsgServiceAdmin, IProviderAdmin and IProfSect
// (src/mapi/com_*admin*.cpp, com_prof_sect.cpp), named after the behaviour
// the reference pages document (iprofadmin-*.md, imsgserviceadmin-*.md,
// iprovideradmin-*.md, iprofsectimapiprop.md, msgserviceentry.md).
//
// Every test runs on its own profile directory ($PSTKIT_PROFILE_DIR) and
// service catalog ($PSTKIT_MAPISVC_INF) in a temporary directory.
#include <mapix.h>
#include <mapiutil.h>
#include <mspst.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mapi/capi_runtime.h"
#include "pstkit/mapi_profiles.h"
#include "pstkit/mapi_ui.h"

namespace {

namespace fs = std::filesystem;
using pstkit::mapi::ProfileStore;

constexpr ULONG PR_TEST_SERVER = PROP_TAG(PT_STRING8, 0x6601);
// MAPI_FORCE_ACCESS (imsgserviceadmin-openprofilesection.md; the page gives
// no value, this is the one of Microsoft's MAPIDefS.h).
constexpr ULONG kMapiForceAccess = 0x00080000;

LPTSTR T(const char* s) { return reinterpret_cast<LPTSTR>(const_cast<char*>(s)); }
LPTSTR W(const wchar_t* s) { return reinterpret_cast<LPTSTR>(const_cast<wchar_t*>(s)); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// All rows of a table (HrQueryAllRows), freed by the destructor.
struct Rows {
  LPSRowSet set = nullptr;
  ~Rows() {
    if (set != nullptr) FreeProws(set);
  }
  ULONG count() const { return set ? set->cRows : 0; }
  const SPropValue* find(ULONG row, ULONG tag) const {
    return PpropFindProp(set->aRow[row].lpProps, set->aRow[row].cValues, tag);
  }
  std::string text(ULONG row, ULONG tag) const {
    const SPropValue* v = find(row, tag);
    if (v == nullptr) return "<missing>";
    if (PROP_TYPE(tag) == PT_UNICODE) {
      std::string out;
      for (const wchar_t* p = v->Value.lpszW; *p; ++p) out += char(*p);
      return out;
    }
    return v->Value.lpszA;
  }
};

Rows all_rows(LPMAPITABLE table) {
  Rows rows;
  EXPECT_EQ(HrQueryAllRows(table, nullptr, nullptr, nullptr, 0, &rows.set), S_OK);
  table->Release();
  return rows;
}

class MapiAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "pstkit-admin-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    profiles_ = dir_ + "/profiles";
    inf_ = dir_ + "/mapisvc.inf";
    log_ = dir_ + "/service.log";
    write_catalog("");
    ::setenv("PSTKIT_PROFILE_DIR", profiles_.c_str(), 1);
    ::setenv("PSTKIT_MAPISVC_INF", inf_.c_str(), 1);
    ::setenv("PSTKIT_TEST_SERVICE_LOG", log_.c_str(), 1);
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
    ASSERT_EQ(MAPIAdminProfiles(0, &admin_), S_OK);
  }
  void TearDown() override {
    pstkit::mapi::set_ui_callback({});
    if (admin_ != nullptr) admin_->Release();
    MAPIUninitialize();
    ::unsetenv("PSTKIT_PROFILE_DIR");
    ::unsetenv("PSTKIT_MAPISVC_INF");
    ::unsetenv("PSTKIT_TEST_SERVICE_LOG");
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The test catalog: the test service library's services, and
  // `default_services` as [Default Services].
  void write_catalog(const std::string& default_services) {
    std::ofstream out(inf_);
    out << "[Services]\nTESTSVC=Test Service\nFAILSVC=Failing Service\nNOLIB=No Library\n"
        << "SINGLE=Single Copy\nEXTRA=Extra Providers\n";
    if (!default_services.empty()) out << "[Default Services]\n" << default_services;
    out << "[TESTSVC]\nPR_DISPLAY_NAME=Test Service\nProviders=TESTSVC STORE\n"
        << "PR_SERVICE_DLL_NAME=" << PSTKIT_TEST_SERVICE_PATH << "\nPR_SERVICE_ENTRY_NAME=TestServiceEntry\n"
        << "PR_SERVICE_SUPPORT_FILES=a.dll, b.dll\n"
        << "[TESTSVC STORE]\nPR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\nPR_PROVIDER_DISPLAY=Test Store\n"
        << "[EXTRA]\nProviders=TESTSVC EXTRA\n"  // a provider section CreateProvider can name
        << "[TESTSVC EXTRA]\nPR_RESOURCE_TYPE=MAPI_AB_PROVIDER\nPR_PROVIDER_DISPLAY=Test Extra\n"
        << "[FAILSVC]\nProviders=FAILSVC P\nPR_SERVICE_DLL_NAME=" << PSTKIT_TEST_SERVICE_PATH
        << "\nPR_SERVICE_ENTRY_NAME=FailingServiceEntry\nPR_RESOURCE_FLAGS=SERVICE_NO_PRIMARY_IDENTITY\n"
        << "[FAILSVC P]\nPR_RESOURCE_TYPE=MAPI_AB_PROVIDER\n"
        << "[NOLIB]\nProviders=NOLIB P\nPR_SERVICE_DLL_NAME=" << dir_ << "/no-such-library.so\n"
        << "[NOLIB P]\nPR_RESOURCE_TYPE=MAPI_AB_PROVIDER\n"
        << "[SINGLE]\nProviders=SINGLE P\nPR_RESOURCE_FLAGS=SERVICE_SINGLE_COPY\n"
        << "[SINGLE P]\nPR_RESOURCE_TYPE=MAPI_AB_PROVIDER\n";
  }

  LPSERVICEADMIN services(const char* profile) {
    LPSERVICEADMIN sa = nullptr;
    EXPECT_EQ(admin_->AdminServices(T(profile), nullptr, 0, 0, &sa), S_OK);
    return sa;
  }

  // The UID of the service named `name` (the procedure of
  // imsgserviceadmin-createmsgservice.md: the service table's PR_SERVICE_UID).
  MAPIUID service_uid(LPSERVICEADMIN sa, const char* name) {
    LPMAPITABLE table = nullptr;
    EXPECT_EQ(sa->GetMsgServiceTable(0, &table), S_OK);
    Rows rows = all_rows(table);
    MAPIUID uid{};
    for (ULONG i = 0; i < rows.count(); ++i) {
      if (rows.text(i, PR_SERVICE_NAME_A) == name) {
        std::memcpy(&uid, rows.find(i, PR_SERVICE_UID)->Value.bin.lpb, sizeof uid);
      }
    }
    return uid;
  }

  std::vector<MAPIUID> provider_uids(LPSERVICEADMIN sa) {
    LPMAPITABLE table = nullptr;
    EXPECT_EQ(sa->GetProviderTable(0, &table), S_OK);
    Rows rows = all_rows(table);
    std::vector<MAPIUID> out;
    for (ULONG i = 0; i < rows.count(); ++i) {
      MAPIUID uid{};
      std::memcpy(&uid, rows.find(i, PR_PROVIDER_UID)->Value.bin.lpb, sizeof uid);
      out.push_back(uid);
    }
    return out;
  }

  std::vector<std::string> profile_names(ULONG flags = 0) {
    LPMAPITABLE table = nullptr;
    EXPECT_EQ(admin_->GetProfileTable(flags, &table), S_OK);
    Rows rows = all_rows(table);
    std::vector<std::string> out;
    for (ULONG i = 0; i < rows.count(); ++i) out.push_back(rows.text(i, PR_DISPLAY_NAME_A));
    return out;
  }

  std::string dir_, profiles_, inf_, log_;
  LPPROFADMIN admin_ = nullptr;
};

// ---- MAPIAdminProfiles (mapiadminprofiles.md) --------------------------------

TEST(MapiAdminProfilesTest, BeforeMAPIInitializeReturnsNotInitialized) {
  if (pstkit::mapi::capi::runtime_initialized()) GTEST_SKIP() << "another test left MAPI initialised";
  LPPROFADMIN admin = nullptr;
  EXPECT_EQ(MAPIAdminProfiles(0, &admin), MAPI_E_NOT_INITIALIZED);
  EXPECT_EQ(admin, nullptr);
}

TEST_F(MapiAdminTest, MAPIAdminProfilesRefusesNullOutAndUnknownFlags) {
  EXPECT_EQ(MAPIAdminProfiles(0, nullptr), MAPI_E_INVALID_PARAMETER);
  LPPROFADMIN other = nullptr;
  EXPECT_EQ(MAPIAdminProfiles(0x40000000, &other), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(other, nullptr);
  LPUNKNOWN unknown = nullptr;
  ASSERT_EQ(admin_->QueryInterface(IID_IProfAdmin, reinterpret_cast<void**>(&unknown)), S_OK);
  unknown->Release();
  EXPECT_EQ(admin_->QueryInterface(IID_IMAPITable, reinterpret_cast<void**>(&unknown)), E_NOINTERFACE);
}

// ---- IProfAdmin ---------------------------------------------------------------

TEST_F(MapiAdminTest, CreateProfileAddsARowToTheProfileTableWithPrDefaultProfile) {
  EXPECT_EQ(profile_names().size(), 0u);  // "If no profiles exist ... zero rows"
  ASSERT_EQ(admin_->CreateProfile(T("Work"), nullptr, 0, 0), S_OK);
  ASSERT_EQ(admin_->CreateProfile(W(L"Privé"), W(L""), 0, MAPI_UNICODE), S_OK);
  ASSERT_EQ(admin_->SetDefaultProfile(T("Work"), 0), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(admin_->GetProfileTable(MAPI_UNICODE, &table), S_OK);
  Rows rows = all_rows(table);
  ASSERT_EQ(rows.count(), 2u);
  EXPECT_EQ(rows.text(0, PR_DISPLAY_NAME_W), "Work");
  EXPECT_EQ(rows.find(0, PR_DEFAULT_PROFILE)->Value.b, 1);
  ASSERT_NE(rows.find(1, PR_DISPLAY_NAME_W), nullptr);
  EXPECT_EQ(std::wstring(rows.find(1, PR_DISPLAY_NAME_W)->Value.lpszW), L"Privé");
  EXPECT_EQ(rows.find(1, PR_DEFAULT_PROFILE)->Value.b, 0);
}

TEST_F(MapiAdminTest, CreateProfileOfAnExistingNameIsNoAccess) {
  ASSERT_EQ(admin_->CreateProfile(T("Work"), nullptr, 0, 0), S_OK);
  EXPECT_EQ(admin_->CreateProfile(T("Work"), nullptr, 0, 0), MAPI_E_NO_ACCESS);
  EXPECT_EQ(admin_->CreateProfile(T("WORK"), nullptr, 0, 0), MAPI_E_NO_ACCESS);  // registry keys ignore case
  LPMAPIERROR error = nullptr;
  ASSERT_EQ(admin_->GetLastError(MAPI_E_NO_ACCESS, 0, &error), S_OK);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(reinterpret_cast<char*>(error->lpszError)).size(), 0u);
  MAPIFreeBuffer(error);
  ASSERT_EQ(admin_->GetLastError(MAPI_E_NO_ACCESS, MAPI_UNICODE, &error), S_OK);
  ASSERT_NE(error, nullptr);
  EXPECT_GT(std::wcslen(reinterpret_cast<wchar_t*>(error->lpszError)), 0u);
  MAPIFreeBuffer(error);
  // No information about another code: S_OK and no structure.
  ASSERT_EQ(admin_->GetLastError(MAPI_E_NOT_FOUND, 0, &error), S_OK);
  EXPECT_EQ(error, nullptr);
  EXPECT_EQ(admin_->GetLastError(MAPI_E_NO_ACCESS, 0x1, &error), MAPI_E_UNKNOWN_FLAGS);
}

TEST_F(MapiAdminTest, CreateProfileValidatesNamePasswordAndFlags) {
  EXPECT_EQ(admin_->CreateProfile(nullptr, nullptr, 0, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->CreateProfile(T(" Lead"), nullptr, 0, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->CreateProfile(T("a/b"), nullptr, 0, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->CreateProfile(T(std::string(65, 'x').c_str()), nullptr, 0, 0), MAPI_E_INVALID_PARAMETER);
  // "The lpszPassword parameter must be NULL or a pointer to a zero-length string."
  EXPECT_EQ(admin_->CreateProfile(T("P"), T("secret"), 0, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->CreateProfile(T("P"), nullptr, 0, 0x100), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(profile_names().size(), 0u);
  EXPECT_EQ(admin_->CreateProfile(T("P"), T(""), 0, MAPI_DIALOG), S_OK);
}

TEST_F(MapiAdminTest, CreateProfileWithDefaultServicesAddsTheCatalogsDefaultServicesAndRunsTheirEntryPoints) {
  write_catalog("SINGLE=Single Copy\nTESTSVC=Test Service\n");
  ASSERT_EQ(admin_->CreateProfile(T("Full"), nullptr, 0, MAPI_DEFAULT_SERVICES), S_OK);
  LPSERVICEADMIN sa = services("Full");
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa->GetMsgServiceTable(0, &table), S_OK);
  Rows rows = all_rows(table);
  ASSERT_EQ(rows.count(), 2u);
  EXPECT_EQ(rows.text(0, PR_SERVICE_NAME_A), "SINGLE");
  EXPECT_EQ(rows.text(1, PR_SERVICE_NAME_A), "TESTSVC");
  // MSG_SERVICE_CREATE (2) reached the test service, which added a provider.
  EXPECT_EQ(slurp(log_), "2 0 -\n");
  EXPECT_EQ(provider_uids(sa).size(), 3u);
  sa->Release();
  // Without the flag, the profile is empty.
  ASSERT_EQ(admin_->CreateProfile(T("Bare"), nullptr, 0, 0), S_OK);
  sa = services("Bare");
  ASSERT_EQ(sa->GetMsgServiceTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).count(), 0u);
  sa->Release();
}

TEST_F(MapiAdminTest, CreateProfileWhoseDefaultServiceEntryFailsLeavesNoProfile) {
  write_catalog("FAILSVC=Failing Service\n");
  EXPECT_EQ(admin_->CreateProfile(T("Broken"), nullptr, 0, MAPI_DEFAULT_SERVICES), MAPI_E_CALL_FAILED);
  EXPECT_EQ(profile_names().size(), 0u);
}

TEST_F(MapiAdminTest, DeleteProfileRemovesItAndAnUnknownOneIsNotFound) {
  ASSERT_EQ(admin_->CreateProfile(T("Gone"), nullptr, 0, 0), S_OK);
  ASSERT_EQ(admin_->SetDefaultProfile(T("Gone"), 0), S_OK);
  EXPECT_EQ(admin_->DeleteProfile(T("Gone"), 0), S_OK);
  EXPECT_EQ(profile_names().size(), 0u);
  EXPECT_EQ(admin_->DeleteProfile(T("Gone"), 0), MAPI_E_NOT_FOUND);
  EXPECT_EQ(admin_->DeleteProfile(nullptr, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->DeleteProfile(T("Gone"), 0x100), MAPI_E_UNKNOWN_FLAGS);
  ASSERT_EQ(admin_->CreateProfile(T("Gone"), nullptr, 0, 0), S_OK);  // the name is free again
}

TEST_F(MapiAdminTest, DeleteProfileRunsEachServicesEntryPointWithMsgServiceDelete) {
  ASSERT_EQ(admin_->CreateProfile(T("P"), nullptr, 0, 0), S_OK);
  LPSERVICEADMIN sa = services("P");
  ASSERT_EQ(sa->CreateMsgService(T("TESTSVC"), nullptr, 0, 0), S_OK);
  sa->Release();
  ASSERT_EQ(admin_->DeleteProfile(T("P"), 0), S_OK);
  EXPECT_EQ(slurp(log_), "2 0 -\n4 0 -\n");
}

TEST_F(MapiAdminTest, DeleteProfileInUseStaysUsableUntilItsSessionsEnd) {
  ASSERT_EQ(admin_->CreateProfile(T("Busy"), nullptr, 0, 0), S_OK);
  auto store = ProfileStore::open(profiles_);
  ASSERT_TRUE(store.is_ok());
  auto use = store->acquire_use("Busy");  // what a session holds (ProfileUse)
  ASSERT_TRUE(use.is_ok());
  EXPECT_EQ(admin_->DeleteProfile(T("Busy"), 0), S_OK);
  // Left the table at once; its record stays while it is used...
  EXPECT_EQ(profile_names().size(), 0u);
  EXPECT_NE(slurp(profiles_ + "/profiles.json").find("\"Busy\""), std::string::npos);
  EXPECT_EQ(admin_->CreateProfile(T("Busy"), nullptr, 0, 0), MAPI_E_NO_ACCESS);  // name still taken
  // ... and goes when the last use ends.
  ASSERT_TRUE((*use)->release().is_ok());
  EXPECT_EQ(slurp(profiles_ + "/profiles.json").find("\"Busy\""), std::string::npos);
  EXPECT_EQ(admin_->CreateProfile(T("Busy"), nullptr, 0, 0), S_OK);
}

TEST_F(MapiAdminTest, AppProfilesAreHiddenAndNeedMapiAppProfile) {
  ASSERT_EQ(admin_->CreateProfile(T("App"), nullptr, 0, MAPI_APP_PROFILE), S_OK);
  EXPECT_EQ(profile_names().size(), 0u);
  EXPECT_EQ(profile_names(MAPI_APP_PROFILE), std::vector<std::string>{"App"});
  EXPECT_EQ(admin_->SetDefaultProfile(T("App"), 0), E_FAIL);  // "An app profile cannot be set as the default"
  EXPECT_EQ(admin_->CopyProfile(T("App"), nullptr, T("Copy"), 0, 0), MAPI_E_NO_ACCESS);
  EXPECT_EQ(admin_->RenameProfile(T("App"), nullptr, T("New"), 0, 0), MAPI_E_NO_ACCESS);
  EXPECT_EQ(admin_->DeleteProfile(T("App"), 0), MAPI_E_NO_ACCESS);
  EXPECT_EQ(admin_->CopyProfile(T("App"), nullptr, T("Copy"), 0, MAPI_APP_PROFILE), S_OK);
  EXPECT_EQ(profile_names(MAPI_APP_PROFILE), (std::vector<std::string>{"App", "Copy"}));  // the copy is an app profile too
  EXPECT_EQ(admin_->DeleteProfile(T("App"), MAPI_APP_PROFILE), S_OK);
}

TEST_F(MapiAdminTest, ChangeProfilePasswordReturnsSOkAndDoesNothing) {
  ASSERT_EQ(admin_->CreateProfile(T("P"), nullptr, 0, 0), S_OK);
  const std::string before = slurp(profiles_ + "/profiles.json");
  EXPECT_EQ(admin_->ChangeProfilePassword(T("P"), T(""), T("new"), 0), S_OK);
  EXPECT_EQ(admin_->ChangeProfilePassword(T("Nobody"), nullptr, nullptr, 0), S_OK);
  EXPECT_EQ(admin_->ChangeProfilePassword(T("P"), nullptr, nullptr, 0x1), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(slurp(profiles_ + "/profiles.json"), before);
}

TEST_F(MapiAdminTest, CopyProfileCopiesServicesAndATakenNameIsAccessDenied) {
  ASSERT_EQ(admin_->CreateProfile(T("Src"), nullptr, 0, 0), S_OK);
  LPSERVICEADMIN sa = services("Src");
  ASSERT_EQ(sa->CreateMsgService(T("SINGLE"), T("Mine"), 0, 0), S_OK);
  sa->Release();
  ASSERT_EQ(admin_->CopyProfile(T("Src"), nullptr, T("Dst"), 0, 0), S_OK);
  sa = services("Dst");
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa->GetMsgServiceTable(0, &table), S_OK);
  Rows rows = all_rows(table);
  ASSERT_EQ(rows.count(), 1u);
  EXPECT_EQ(rows.text(0, PR_DISPLAY_NAME_A), "Mine");
  sa->Release();
  // MAPI_E_ACCESS_DENIED on the page: E_ACCESSDENIED, i.e. MAPI_E_NO_ACCESS.
  EXPECT_EQ(admin_->CopyProfile(T("Src"), nullptr, T("Dst"), 0, 0), MAPI_E_NO_ACCESS);
  EXPECT_EQ(admin_->CopyProfile(T("None"), nullptr, T("X"), 0, 0), MAPI_E_NOT_FOUND);
  EXPECT_EQ(admin_->CopyProfile(T("Src"), nullptr, nullptr, 0, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->CopyProfile(T("Src"), nullptr, T("Bad/Name"), 0, 0), MAPI_E_INVALID_PARAMETER);
}

TEST_F(MapiAdminTest, RenameProfileKeepsServicesAndIsDeferredWhileInUse) {
  ASSERT_EQ(admin_->CreateProfile(T("Old"), nullptr, 0, 0), S_OK);
  LPSERVICEADMIN sa = services("Old");
  ASSERT_EQ(sa->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  sa->Release();
  ASSERT_EQ(admin_->RenameProfile(T("Old"), nullptr, T("New"), 0, 0), S_OK);
  EXPECT_EQ(profile_names(), std::vector<std::string>{"New"});
  sa = services("New");
  EXPECT_EQ(provider_uids(sa).size(), 1u);
  sa->Release();
  EXPECT_EQ(admin_->RenameProfile(T("Gone"), nullptr, T("X"), 0, 0), MAPI_E_NOT_FOUND);
  // In use: "marks the profile and returns S_OK", renamed when unused.
  auto store = ProfileStore::open(profiles_);
  ASSERT_TRUE(store.is_ok());
  auto use = store->acquire_use("New");
  ASSERT_TRUE(use.is_ok());
  EXPECT_EQ(admin_->RenameProfile(T("New"), nullptr, T("Newer"), 0, 0), S_OK);
  EXPECT_EQ(profile_names(), std::vector<std::string>{"New"});
  ASSERT_TRUE((*use)->release().is_ok());
  EXPECT_EQ(profile_names(), std::vector<std::string>{"Newer"});
}

TEST_F(MapiAdminTest, SetDefaultProfileWithNullClearsTheDefault) {
  ASSERT_EQ(admin_->CreateProfile(T("A"), nullptr, 0, 0), S_OK);
  ASSERT_EQ(admin_->SetDefaultProfile(W(L"A"), MAPI_UNICODE), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(admin_->GetProfileTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).find(0, PR_DEFAULT_PROFILE)->Value.b, 1);
  ASSERT_EQ(admin_->SetDefaultProfile(nullptr, 0), S_OK);
  ASSERT_EQ(admin_->GetProfileTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).find(0, PR_DEFAULT_PROFILE)->Value.b, 0);
  EXPECT_EQ(admin_->SetDefaultProfile(T("Missing"), 0), MAPI_E_NOT_FOUND);
  EXPECT_EQ(admin_->SetDefaultProfile(T("A"), 0x1), MAPI_E_UNKNOWN_FLAGS);
}

TEST_F(MapiAdminTest, AdminServicesOfAMissingProfileIsLogonFailed) {
  LPSERVICEADMIN sa = nullptr;
  EXPECT_EQ(admin_->AdminServices(T("Nobody"), nullptr, 0, 0, &sa), MAPI_E_LOGON_FAILED);
  EXPECT_EQ(sa, nullptr);
  EXPECT_EQ(admin_->AdminServices(nullptr, nullptr, 0, 0, &sa), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->AdminServices(T("Nobody"), nullptr, 0, 0, nullptr), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(admin_->AdminServices(T("Nobody"), nullptr, 0, 0x4, &sa), MAPI_E_UNKNOWN_FLAGS);
  ASSERT_EQ(admin_->CreateProfile(T("Here"), nullptr, 0, 0), S_OK);
  ASSERT_EQ(admin_->AdminServices(W(L"here"), nullptr, 0, MAPI_UNICODE | MAPI_DIALOG, &sa), S_OK);
  sa->Release();
}

// ---- persistence, concurrency, damage -----------------------------------------

TEST_F(MapiAdminTest, ProfilesPersistAcrossProcessesAndStoreInstances) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A separate process: its own MAPI initialisation on the same directory.
    LPPROFADMIN admin = nullptr;
    int rc = 1;
    if (MAPIInitialize(nullptr) == S_OK && MAPIAdminProfiles(0, &admin) == S_OK &&
        admin->CreateProfile(T("FromChild"), nullptr, 0, 0) == S_OK) {
      LPSERVICEADMIN sa = nullptr;
      if (admin->AdminServices(T("FromChild"), nullptr, 0, 0, &sa) == S_OK &&
          sa->CreateMsgService(T("SINGLE"), T("Child Service"), 0, 0) == S_OK) {
        rc = 0;
      }
    }
    ::_exit(rc);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(profile_names(), std::vector<std::string>{"FromChild"});
  // A second store instance on the same directory sees the service.
  auto store = ProfileStore::open(profiles_);
  ASSERT_TRUE(store.is_ok());
  auto rows = store->service_table("FromChild");
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].display_name, "Child Service");
}

TEST_F(MapiAdminTest, ConcurrentAdministrationFromThreadsAndProcessesLosesNoChange) {
  constexpr int kThreads = 4, kEach = 8, kProcesses = 2;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      LPPROFADMIN admin = nullptr;
      int rc = 0;
      if (MAPIInitialize(nullptr) != S_OK || MAPIAdminProfiles(0, &admin) != S_OK) ::_exit(1);
      for (int i = 0; i < kEach; ++i) {
        const std::string name = "Proc" + std::to_string(p) + "_" + std::to_string(i);
        if (admin->CreateProfile(T(name.c_str()), nullptr, 0, 0) != S_OK) rc = 1;
      }
      ::_exit(rc);
    }
    children.push_back(child);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      LPPROFADMIN admin = nullptr;
      if (MAPIAdminProfiles(0, &admin) != S_OK) {
        ++failures;
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        const std::string name = "Thread" + std::to_string(t) + "_" + std::to_string(i);
        if (admin->CreateProfile(T(name.c_str()), nullptr, 0, 0) != S_OK) ++failures;
        LPSERVICEADMIN sa = nullptr;
        if (admin->AdminServices(T(name.c_str()), nullptr, 0, 0, &sa) != S_OK ||
            sa->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0) != S_OK)
          ++failures;
        if (sa != nullptr) sa->Release();
      }
      admin->Release();
    });
  }
  for (auto& t : threads) t.join();
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(profile_names().size(), size_t(kThreads * kEach + kProcesses * kEach));
}

TEST_F(MapiAdminTest, ACorruptProfileFileIsCorruptDataAndIsNeverOverwritten) {
  ASSERT_EQ(admin_->CreateProfile(T("P"), nullptr, 0, 0), S_OK);
  const std::string garbage = "{\"format\": \"pstkit-mapi-profiles\", \"version\": 1, \"profiles\": [{\"name\": 7}";
  {
    std::ofstream out(profiles_ + "/profiles.json", std::ios::trunc);
    out << garbage;
  }
  LPMAPITABLE table = nullptr;
  EXPECT_EQ(admin_->GetProfileTable(0, &table), MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(table, nullptr);
  EXPECT_EQ(admin_->CreateProfile(T("Q"), nullptr, 0, 0), MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(admin_->DeleteProfile(T("P"), 0), MAPI_E_CORRUPT_DATA);
  LPSERVICEADMIN sa = nullptr;
  EXPECT_EQ(admin_->AdminServices(T("P"), nullptr, 0, 0, &sa), MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(slurp(profiles_ + "/profiles.json"), garbage);
}

// ---- IMsgServiceAdmin -----------------------------------------------------------

class ServiceAdminTest : public MapiAdminTest {
 protected:
  void SetUp() override {
    MapiAdminTest::SetUp();
    ASSERT_EQ(admin_->CreateProfile(T("P"), nullptr, 0, 0), S_OK);
    sa_ = services("P");
    ASSERT_NE(sa_, nullptr);
  }
  void TearDown() override {
    if (sa_ != nullptr) sa_->Release();
    MapiAdminTest::TearDown();
  }
  LPSERVICEADMIN sa_ = nullptr;
};

TEST_F(ServiceAdminTest, GetMsgServiceTableHasTheDocumentedColumns) {
  ASSERT_EQ(sa_->CreateMsgService(T("TESTSVC"), nullptr, 0, 0), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetMsgServiceTable(MAPI_UNICODE, &table), S_OK);
  LPSPropTagArray columns = nullptr;
  ASSERT_EQ(table->QueryColumns(0, &columns), S_OK);
  // message-service-tables.md: the required column set.
  for (ULONG tag : {PR_DISPLAY_NAME_W, PR_INSTANCE_KEY, PR_RESOURCE_FLAGS, PR_SERVICE_DLL_NAME_W,
                    PR_SERVICE_ENTRY_NAME, PR_SERVICE_NAME_W, PR_SERVICE_SUPPORT_FILES_W, PR_SERVICE_UID}) {
    EXPECT_NE(std::find(columns->aulPropTag, columns->aulPropTag + columns->cValues, tag),
              columns->aulPropTag + columns->cValues)
        << std::hex << tag;
  }
  MAPIFreeBuffer(columns);
  Rows rows = all_rows(table);
  ASSERT_EQ(rows.count(), 1u);
  EXPECT_EQ(rows.text(0, PR_SERVICE_NAME_W), "TESTSVC");
  EXPECT_EQ(rows.text(0, PR_DISPLAY_NAME_W), "Test Service");
  EXPECT_EQ(rows.text(0, PR_SERVICE_ENTRY_NAME), "TestServiceEntry");
  EXPECT_EQ(rows.find(0, PR_SERVICE_SUPPORT_FILES_W)->Value.MVszW.cValues, 2u);
  EXPECT_EQ(std::memcmp(rows.find(0, PR_INSTANCE_KEY)->Value.bin.lpb, rows.find(0, PR_SERVICE_UID)->Value.bin.lpb, 16),
            0);
  EXPECT_EQ(sa_->GetMsgServiceTable(0x1, &table), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(sa_->GetMsgServiceTable(0, nullptr), MAPI_E_INVALID_PARAMETER);
}

TEST_F(ServiceAdminTest, CreateMsgServiceOfAServiceNotInTheCatalogIsNotFound) {
  EXPECT_EQ(sa_->CreateMsgService(T("NOSUCH MS"), nullptr, 0, 0), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sa_->CreateMsgService(nullptr, nullptr, 0, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0x1), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(sa_->CreateMsgService(W(L"SINGLE"), W(L"Wide"), 0, MAPI_UNICODE), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetMsgServiceTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).text(0, PR_DISPLAY_NAME_A), "Wide");
}

TEST_F(ServiceAdminTest, CreateMsgServiceIgnoresTheDisplayNameWhenTheCatalogSetsPrDisplayName) {
  ASSERT_EQ(sa_->CreateMsgService(T("TESTSVC"), T("Ignored"), 0, 0), S_OK);
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), T("Ignored too"), 0, 0), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetMsgServiceTable(0, &table), S_OK);
  Rows rows = all_rows(table);
  ASSERT_EQ(rows.count(), 2u);
  EXPECT_EQ(rows.text(0, PR_DISPLAY_NAME_A), "Test Service");
  EXPECT_EQ(rows.text(1, PR_DISPLAY_NAME_A), "Personal Folders");
}

TEST_F(ServiceAdminTest, CreateMsgServiceOfASecondSingleCopyServiceIsNoAccess) {
  ASSERT_EQ(sa_->CreateMsgService(T("SINGLE"), nullptr, 0, 0), S_OK);
  EXPECT_EQ(sa_->CreateMsgService(T("SINGLE"), nullptr, 0, 0), MAPI_E_NO_ACCESS);
  MAPIUID uid = service_uid(sa_, "SINGLE");
  EXPECT_EQ(sa_->CopyMsgService(&uid, nullptr, nullptr, nullptr, nullptr, 0, 0), MAPI_E_NO_ACCESS);
}

TEST_F(ServiceAdminTest, CreateMsgServiceCallsTheEntryPointWithMsgServiceCreate) {
  ASSERT_EQ(sa_->CreateMsgService(T("TESTSVC"), nullptr, 0, SERVICE_UI_ALLOWED), S_OK);
  EXPECT_EQ(slurp(log_), "2 10 -\n");  // MSG_SERVICE_CREATE with SERVICE_UI_ALLOWED
  // The entry point added a provider through the IProviderAdmin it was given.
  EXPECT_EQ(provider_uids(sa_).size(), 2u);
}

TEST_F(ServiceAdminTest, CreateMsgServiceWhoseEntryPointFailsAddsNothing) {
  EXPECT_EQ(sa_->CreateMsgService(T("FAILSVC"), nullptr, 0, 0), MAPI_E_CALL_FAILED);
  LPMAPIERROR error = nullptr;
  ASSERT_EQ(sa_->GetLastError(MAPI_E_CALL_FAILED, 0, &error), S_OK);
  ASSERT_NE(error, nullptr);
  MAPIFreeBuffer(error);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetMsgServiceTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).count(), 0u);
  // A service whose library cannot be loaded has no entry point.
  EXPECT_EQ(sa_->CreateMsgService(T("NOLIB"), nullptr, 0, 0), MAPI_E_NOT_INITIALIZED);
}

TEST_F(ServiceAdminTest, ConfigureMsgServiceOfAThirdPartyServicePassesThePropertiesToItsEntryPoint) {
  ASSERT_EQ(sa_->CreateMsgService(T("TESTSVC"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "TESTSVC");
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 0, nullptr), MAPI_E_UNCONFIGURED);
  SPropValue prop{};
  prop.ulPropTag = PR_TEST_SERVER;
  prop.Value.lpszA = const_cast<char*>("mail.example");
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 1, &prop), S_OK);
  EXPECT_EQ(sa_->DeleteMsgService(&uid), S_OK);
  EXPECT_EQ(slurp(log_), "2 0 -\n3 0 -\n3 0 mail.example\n4 0 -\n");
}

TEST_F(ServiceAdminTest, ConfigureMsgServiceWithoutPstPathAndWithoutUiIsUnconfigured) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "MSUPST MS");
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 0, nullptr), MAPI_E_UNCONFIGURED);
  // UI allowed but no UI callback installed: still unconfigured.
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, SERVICE_UI_ALLOWED, 0, nullptr), MAPI_E_UNCONFIGURED);
}

TEST_F(ServiceAdminTest, ConfigureMsgServiceCreatesAMissingPstInTheServicesFormat) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  ASSERT_EQ(sa_->CreateMsgService(T("MSPST MS"), nullptr, 0, 0), S_OK);
  const std::string unicode_path = dir_ + "/new-unicode.pst", ansi_path = dir_ + "/new-ansi.pst";
  SPropValue prop{};
  prop.ulPropTag = PR_PST_PATH_A;
  prop.Value.lpszA = const_cast<char*>(unicode_path.c_str());
  MAPIUID uid = service_uid(sa_, "MSUPST MS");
  ASSERT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 1, &prop), S_OK);
  auto kind = pstkit::mapi::store_service_for_file(unicode_path);
  ASSERT_TRUE(kind.is_ok()) << kind.status().message();
  EXPECT_EQ(*kind, "MSUPST MS");
  uid = service_uid(sa_, "MSPST MS");
  prop.Value.lpszA = const_cast<char*>(ansi_path.c_str());
  ASSERT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 1, &prop), S_OK);
  kind = pstkit::mapi::store_service_for_file(ansi_path);
  ASSERT_TRUE(kind.is_ok()) << kind.status().message();
  EXPECT_EQ(*kind, "MSPST MS");
  // An existing file of the other format is refused.
  prop.Value.lpszA = const_cast<char*>(unicode_path.c_str());
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 1, &prop), MAPI_E_INVALID_PARAMETER);
  // PR_PST_PATH is kept in the service's section (read through IProfSect).
  LPPROFSECT section = nullptr;
  ASSERT_EQ(sa_->OpenProfileSection(&uid, nullptr, 0, &section), S_OK);
  LPSPropValue value = nullptr;
  ASSERT_EQ(HrGetOneProp(section, PR_PST_PATH_A, &value), S_OK);
  EXPECT_EQ(std::string(value->Value.lpszA), ansi_path);
  MAPIFreeBuffer(value);
  section->Release();
}

TEST_F(ServiceAdminTest, ConfigureMsgServiceAsksForThePathThroughTheUiCallback) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "MSUPST MS");
  const std::string path = dir_ + "/asked.pst";
  std::vector<pstkit::mapi::UiRequest> asked;
  bool cancel = true;
  pstkit::mapi::set_ui_callback([&](const pstkit::mapi::UiRequest& r) -> std::optional<std::string> {
    asked.push_back(r);
    if (cancel) return std::nullopt;
    return path;
  });
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 77, SERVICE_UI_ALWAYS, 0, nullptr), MAPI_E_USER_CANCEL);
  cancel = false;
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 77, SERVICE_UI_ALLOWED, 0, nullptr), S_OK);
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1].kind, pstkit::mapi::UiRequest::Kind::kServiceSetting);
  EXPECT_EQ(asked[1].property, "PR_PST_PATH");
  EXPECT_EQ(asked[1].ui_param, 77u);
  EXPECT_TRUE(fs::exists(path));
  // Configured now: SERVICE_UI_ALLOWED does not ask again, SERVICE_UI_ALWAYS does.
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, SERVICE_UI_ALLOWED, 0, nullptr), S_OK);
  EXPECT_EQ(asked.size(), 2u);
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, SERVICE_UI_ALWAYS, 0, nullptr), S_OK);
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[2].current, path);
}

TEST_F(ServiceAdminTest, CreateMsgServiceWithServiceUiAlwaysAsksForThePstPath) {
  const std::string path = dir_ + "/created.pst";
  pstkit::mapi::set_ui_callback([&](const pstkit::mapi::UiRequest&) -> std::optional<std::string> { return path; });
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, SERVICE_UI_ALWAYS), S_OK);
  EXPECT_TRUE(fs::exists(path));
  pstkit::mapi::set_ui_callback([](const pstkit::mapi::UiRequest&) -> std::optional<std::string> { return std::nullopt; });
  EXPECT_EQ(sa_->CreateMsgService(T("MSPST MS"), nullptr, 0, SERVICE_UI_ALWAYS), MAPI_E_USER_CANCEL);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetMsgServiceTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).count(), 1u);  // the cancelled one was removed
}

TEST_F(ServiceAdminTest, ConfigureMsgServiceValidatesItsArguments) {
  MAPIUID nobody{};
  EXPECT_EQ(sa_->ConfigureMsgService(&nobody, 0, 0, 0, nullptr), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sa_->ConfigureMsgService(nullptr, 0, 0, 0, nullptr), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(sa_->ConfigureMsgService(&nobody, 0, 0, 1, nullptr), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(sa_->ConfigureMsgService(&nobody, 0, 0x4, 0, nullptr), MAPI_E_UNKNOWN_FLAGS);
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "MSUPST MS");
  SPropValue prop{};
  prop.ulPropTag = PROP_TAG(PT_DOUBLE, 0x6605);  // a type profiles do not keep
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 1, &prop), MAPI_E_INVALID_TYPE);
  prop.ulPropTag = PR_PST_PATH_A;
  prop.Value.lpszA = const_cast<char*>("relative.pst");
  EXPECT_EQ(sa_->ConfigureMsgService(&uid, 0, 0, 1, &prop), MAPI_E_INVALID_PARAMETER);
}

TEST_F(ServiceAdminTest, DeleteMsgServiceRemovesItsSectionsAndAnUnknownUidIsNotFound) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "MSUPST MS");
  ASSERT_EQ(sa_->DeleteMsgService(&uid), S_OK);
  LPPROFSECT section = nullptr;
  EXPECT_EQ(sa_->OpenProfileSection(&uid, nullptr, 0, &section), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sa_->DeleteMsgService(&uid), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sa_->DeleteMsgService(nullptr), MAPI_E_INVALID_PARAMETER);
  EXPECT_TRUE(provider_uids(sa_).empty());
}

TEST_F(ServiceAdminTest, CopyMsgServiceCopiesIntoThisOrAnotherProfileWithoutRunningTheEntryPoint) {
  ASSERT_EQ(sa_->CreateMsgService(T("TESTSVC"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "TESTSVC");
  ASSERT_EQ(sa_->CopyMsgService(&uid, nullptr, nullptr, nullptr, nullptr, 0, 0), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetMsgServiceTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).count(), 2u);
  ASSERT_EQ(admin_->CreateProfile(T("Other"), nullptr, 0, 0), S_OK);
  LPSERVICEADMIN other = services("Other");
  ASSERT_EQ(sa_->CopyMsgService(&uid, nullptr, &IID_IProfSect, &IID_IMsgServiceAdmin, other, 0, 0), S_OK);
  ASSERT_EQ(other->GetMsgServiceTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).count(), 1u);
  other->Release();
  EXPECT_EQ(slurp(log_), "2 0 -\n");  // only the create ran the entry point
  MAPIUID nobody{};
  EXPECT_EQ(sa_->CopyMsgService(&nobody, nullptr, nullptr, nullptr, nullptr, 0, 0), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sa_->CopyMsgService(&uid, nullptr, &IID_IMAPITable, nullptr, nullptr, 0, 0),
            MAPI_E_INTERFACE_NOT_SUPPORTED);
}

TEST_F(ServiceAdminTest, RenameMsgServiceAlwaysReturnsNoSupport) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "MSUPST MS");
  EXPECT_EQ(sa_->RenameMsgService(&uid, 0, T("New")), MAPI_E_NO_SUPPORT);
}

TEST_F(ServiceAdminTest, OpenProfileSectionIsReadOnlyWithoutMapiModifyAndProviderSectionsNeedForceAccess) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "MSUPST MS");
  LPPROFSECT section = nullptr;
  ASSERT_EQ(sa_->OpenProfileSection(&uid, nullptr, 0, &section), S_OK);
  SPropValue prop{};
  prop.ulPropTag = PROP_TAG(PT_LONG, 0x6610);
  prop.Value.l = 42;
  EXPECT_EQ(section->SetProps(1, &prop, nullptr), MAPI_E_NO_ACCESS);
  section->Release();
  ASSERT_EQ(sa_->OpenProfileSection(&uid, &IID_IProfSect, MAPI_MODIFY, &section), S_OK);
  EXPECT_EQ(section->SetProps(1, &prop, nullptr), S_OK);
  section->Release();
  // Nontransacted: the value is in the profile for any other reader.
  auto store = ProfileStore::open(profiles_);
  ASSERT_TRUE(store.is_ok());
  pstkit::mapi::MapiUid core_uid{};
  std::memcpy(core_uid.data(), uid.ab, 16);
  auto bag = store->section("P", core_uid);
  ASSERT_TRUE(bag.is_ok());
  EXPECT_EQ(bag->get_long(0x6610), 42);
  // A provider's section.
  std::vector<MAPIUID> providers = provider_uids(sa_);
  ASSERT_EQ(providers.size(), 1u);
  EXPECT_EQ(sa_->OpenProfileSection(&providers[0], nullptr, 0, &section), MAPI_E_NO_ACCESS);
  ASSERT_EQ(sa_->OpenProfileSection(&providers[0], nullptr, kMapiForceAccess, &section), S_OK);
  section->Release();
  MAPIUID nobody{};
  EXPECT_EQ(sa_->OpenProfileSection(&nobody, nullptr, 0, &section), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sa_->OpenProfileSection(&uid, &IID_IMAPITable, 0, &section), MAPI_E_INTERFACE_NOT_SUPPORTED);
  EXPECT_EQ(sa_->OpenProfileSection(&uid, nullptr, 0x2, &section), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(sa_->OpenProfileSection(nullptr, nullptr, 0, &section), MAPI_E_INVALID_PARAMETER);
}

TEST_F(ServiceAdminTest, MsgServiceTransportOrderWithoutTransportsIsBusy) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  std::vector<MAPIUID> providers = provider_uids(sa_);
  // "The value in the cUID parameter differs from the number of transport
  // providers actually in the profile" (none: a store provider is no transport).
  EXPECT_EQ(sa_->MsgServiceTransportOrder(1, providers.data(), 0), MAPI_E_BUSY);
  EXPECT_EQ(sa_->MsgServiceTransportOrder(0, nullptr, 0), S_OK);
  EXPECT_EQ(sa_->MsgServiceTransportOrder(1, nullptr, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(sa_->MsgServiceTransportOrder(0, nullptr, 1), MAPI_E_UNKNOWN_FLAGS);
}

TEST_F(ServiceAdminTest, SetPrimaryIdentityMarksTheServiceAndItsProvidersAndNullClears) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  ASSERT_EQ(sa_->CreateMsgService(T("SINGLE"), nullptr, 0, 0), S_OK);
  MAPIUID pst = service_uid(sa_, "MSUPST MS");
  auto flags_of = [&](const char* name) {
    LPMAPITABLE table = nullptr;
    EXPECT_EQ(sa_->GetMsgServiceTable(0, &table), S_OK);
    Rows rows = all_rows(table);
    for (ULONG i = 0; i < rows.count(); ++i) {
      if (rows.text(i, PR_SERVICE_NAME_A) == name) return ULONG(rows.find(i, PR_RESOURCE_FLAGS)->Value.l);
    }
    return ULONG(0xFFFFFFFF);
  };
  ASSERT_EQ(sa_->SetPrimaryIdentity(&pst, 0), S_OK);
  EXPECT_TRUE(flags_of("MSUPST MS") & SERVICE_PRIMARY_IDENTITY);
  EXPECT_FALSE(flags_of("SINGLE") & SERVICE_PRIMARY_IDENTITY);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetProviderTable(0, &table), S_OK);
  Rows providers = all_rows(table);
  for (ULONG i = 0; i < providers.count(); ++i) {
    const bool of_pst = std::memcmp(providers.find(i, PR_SERVICE_UID)->Value.bin.lpb, pst.ab, 16) == 0;
    EXPECT_EQ((providers.find(i, PR_RESOURCE_FLAGS)->Value.l & STATUS_PRIMARY_IDENTITY) != 0, of_pst);
  }
  ASSERT_EQ(sa_->SetPrimaryIdentity(nullptr, 0), S_OK);
  EXPECT_FALSE(flags_of("MSUPST MS") & SERVICE_PRIMARY_IDENTITY);
  EXPECT_EQ(sa_->SetPrimaryIdentity(&pst, 1), MAPI_E_UNKNOWN_FLAGS);
  MAPIUID nobody{};
  EXPECT_EQ(sa_->SetPrimaryIdentity(&nobody, 0), MAPI_E_NOT_FOUND);
}

TEST_F(ServiceAdminTest, SetPrimaryIdentityOfANoPrimaryIdentityServiceIsNoAccess) {
  // FAILSVC has SERVICE_NO_PRIMARY_IDENTITY; put it in through the core
  // (its entry point would refuse the create).
  auto store = ProfileStore::open(profiles_);
  ASSERT_TRUE(store.is_ok());
  auto catalog = pstkit::mapi::load_catalog(nullptr);
  ASSERT_TRUE(catalog.is_ok());
  auto uid = store->create_service("P", "FAILSVC", "", *catalog);
  ASSERT_TRUE(uid.is_ok());
  MAPIUID mapi_uid{};
  std::memcpy(mapi_uid.ab, uid->data(), 16);
  EXPECT_EQ(sa_->SetPrimaryIdentity(&mapi_uid, 0), MAPI_E_NO_ACCESS);
}

TEST_F(ServiceAdminTest, GetProviderTableHasTheDocumentedColumns) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(sa_->GetProviderTable(MAPI_UNICODE, &table), S_OK);
  LPSPropTagArray columns = nullptr;
  ASSERT_EQ(table->QueryColumns(0, &columns), S_OK);
  for (ULONG tag : {PR_INSTANCE_KEY, PR_DISPLAY_NAME_W, PR_PROVIDER_DISPLAY_W, PR_PROVIDER_DLL_NAME_W,
                    PR_PROVIDER_ORDINAL, PR_PROVIDER_UID, PR_RESOURCE_FLAGS, PR_RESOURCE_TYPE, PR_SERVICE_NAME_W,
                    PR_SERVICE_UID}) {
    EXPECT_NE(std::find(columns->aulPropTag, columns->aulPropTag + columns->cValues, tag),
              columns->aulPropTag + columns->cValues)
        << std::hex << tag;
  }
  MAPIFreeBuffer(columns);
  Rows rows = all_rows(table);
  ASSERT_EQ(rows.count(), 1u);
  EXPECT_EQ(rows.find(0, PR_RESOURCE_TYPE)->Value.l, LONG(MAPI_STORE_PROVIDER));
  EXPECT_EQ(rows.text(0, PR_SERVICE_NAME_W), "MSUPST MS");
  EXPECT_EQ(sa_->GetProviderTable(0x1, &table), MAPI_E_UNKNOWN_FLAGS);
}

// ---- IProviderAdmin -------------------------------------------------------------

TEST_F(ServiceAdminTest, AdminProvidersCreatesDeletesAndOpensTheServicesProviders) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), nullptr, 0, 0), S_OK);
  ASSERT_EQ(sa_->CreateMsgService(T("SINGLE"), nullptr, 0, 0), S_OK);
  MAPIUID pst = service_uid(sa_, "MSUPST MS"), single = service_uid(sa_, "SINGLE");
  LPPROVIDERADMIN pa = nullptr;
  MAPIUID nobody{};
  EXPECT_EQ(sa_->AdminProviders(&nobody, 0, &pa), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sa_->AdminProviders(&pst, 0, nullptr), MAPI_E_INVALID_PARAMETER);
  ASSERT_EQ(sa_->AdminProviders(&pst, 0, &pa), S_OK);
  LPMAPITABLE table = nullptr;
  ASSERT_EQ(pa->GetProviderTable(0, &table), S_OK);
  EXPECT_EQ(all_rows(table).count(), 1u);  // only this service's providers
  // CreateProvider takes a provider section of the catalog.
  SPropValue prop{};
  prop.ulPropTag = PR_DISPLAY_NAME_A;
  prop.Value.lpszA = const_cast<char*>("Extra");
  MAPIUID added{};
  ASSERT_EQ(pa->CreateProvider(T("TESTSVC EXTRA"), 1, &prop, 0, 0, &added), S_OK);
  EXPECT_EQ(pa->CreateProvider(T("NO SUCH SECTION"), 0, nullptr, 0, 0, &added), MAPI_E_NOT_FOUND);
  EXPECT_EQ(pa->CreateProvider(T("TESTSVC EXTRA"), 1, nullptr, 0, 0, &added), MAPI_E_INVALID_PARAMETER);
  ASSERT_EQ(pa->GetProviderTable(MAPI_UNICODE, &table), S_OK);
  Rows rows = all_rows(table);
  ASSERT_EQ(rows.count(), 2u);
  EXPECT_EQ(rows.text(1, PR_DISPLAY_NAME_W), "Extra");
  EXPECT_EQ(rows.find(1, PR_RESOURCE_TYPE)->Value.l, LONG(MAPI_AB_PROVIDER));
  // Its section opens (IProviderAdmin needs no MAPI_FORCE_ACCESS) and is
  // writable with MAPI_MODIFY.
  LPPROFSECT section = nullptr;
  ASSERT_EQ(pa->OpenProfileSection(&added, nullptr, MAPI_MODIFY, &section), S_OK);
  section->Release();
  // Sections of other services are not this service's.
  EXPECT_EQ(pa->OpenProfileSection(&single, nullptr, 0, &section), MAPI_E_NOT_FOUND);
  std::vector<MAPIUID> all = provider_uids(sa_);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(pa->DeleteProvider(&all[2]), MAPI_E_NOT_FOUND);  // SINGLE's provider
  EXPECT_EQ(pa->DeleteProvider(&added), S_OK);
  EXPECT_EQ(pa->DeleteProvider(&added), MAPI_E_NOT_FOUND);
  EXPECT_EQ(pa->DeleteProvider(nullptr), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(provider_uids(sa_).size(), 2u);
  pa->Release();
}

TEST_F(ServiceAdminTest, ProviderChangesAreAnnouncedToTheServicesEntryPointWhichMayRefuse) {
  ASSERT_EQ(sa_->CreateMsgService(T("TESTSVC"), nullptr, 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "TESTSVC");
  LPPROVIDERADMIN pa = nullptr;
  ASSERT_EQ(sa_->AdminProviders(&uid, 0, &pa), S_OK);
  MAPIUID added{};
  ASSERT_EQ(pa->CreateProvider(T("TESTSVC EXTRA"), 0, nullptr, 0, 0, &added), S_OK);
  ASSERT_EQ(pa->DeleteProvider(&added), S_OK);
  // MSG_SERVICE_CREATE (whose own CreateProvider is not announced again),
  // then MSG_SERVICE_PROVIDER_CREATE (6) and MSG_SERVICE_PROVIDER_DELETE (7).
  EXPECT_EQ(slurp(log_), "2 0 -\n6 0 -\n7 0 -\n");
  pa->Release();
  // A service whose entry point fails refuses the change: nothing is added.
  auto store = ProfileStore::open(profiles_);
  ASSERT_TRUE(store.is_ok());
  auto catalog = pstkit::mapi::load_catalog(nullptr);
  ASSERT_TRUE(catalog.is_ok());
  auto failing = store->create_service("P", "FAILSVC", "", *catalog);
  ASSERT_TRUE(failing.is_ok());
  std::memcpy(uid.ab, failing->data(), 16);
  ASSERT_EQ(sa_->AdminProviders(&uid, 0, &pa), S_OK);
  const size_t before = provider_uids(sa_).size();
  EXPECT_EQ(pa->CreateProvider(T("TESTSVC EXTRA"), 0, nullptr, 0, 0, &added), MAPI_E_CALL_FAILED);
  EXPECT_EQ(provider_uids(sa_).size(), before);
  pa->Release();
}

// ---- IProfSect (iprofsectimapiprop.md) ------------------------------------------

TEST_F(ServiceAdminTest, ProfileSectionsAreNontransactedAndHaveNoNamedProperties) {
  ASSERT_EQ(sa_->CreateMsgService(T("SINGLE"), T("Mine"), 0, 0), S_OK);
  MAPIUID uid = service_uid(sa_, "SINGLE");
  LPPROFSECT section = nullptr;
  ASSERT_EQ(sa_->OpenProfileSection(&uid, nullptr, MAPI_MODIFY, &section), S_OK);
  // Required properties: PR_OBJECT_TYPE and PR_PROFILE_NAME, read-only.
  LPSPropValue value = nullptr;
  ASSERT_EQ(HrGetOneProp(section, PR_OBJECT_TYPE, &value), S_OK);
  EXPECT_EQ(value->Value.l, LONG(MAPI_PROFSECT));
  MAPIFreeBuffer(value);
  ASSERT_EQ(HrGetOneProp(section, PR_PROFILE_NAME_A, &value), S_OK);
  EXPECT_EQ(std::string(value->Value.lpszA), "P");
  MAPIFreeBuffer(value);
  ASSERT_EQ(HrGetOneProp(section, PR_DISPLAY_NAME_W, &value), S_OK);
  EXPECT_EQ(std::wstring(value->Value.lpszW), L"Mine");
  MAPIFreeBuffer(value);
  // SetProps: named ids and computed properties are problems, the rest is
  // written at once; SaveChanges succeeds and saves nothing more.
  SPropValue props[4]{};
  props[0].ulPropTag = PROP_TAG(PT_LONG, 0x8001);
  props[1].ulPropTag = PR_OBJECT_TYPE;
  props[2].ulPropTag = PROP_TAG(PT_UNICODE, 0x6611);
  props[2].Value.lpszW = const_cast<wchar_t*>(L"kept");
  props[3].ulPropTag = PROP_TAG(PT_BINARY, 0x67F1);  // the secure range
  BYTE secret[3] = {1, 2, 3};
  props[3].Value.bin = {3, secret};
  LPSPropProblemArray problems = nullptr;
  ASSERT_EQ(section->SetProps(4, props, &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  ASSERT_EQ(problems->cProblem, 2u);
  EXPECT_EQ(problems->aProblem[0].ulIndex, 0u);
  EXPECT_EQ(problems->aProblem[1].scode, MAPI_E_COMPUTED);
  MAPIFreeBuffer(problems);
  ASSERT_EQ(HrGetOneProp(section, PROP_TAG(PT_STRING8, 0x6611), &value), S_OK);  // read as 8-bit too
  EXPECT_EQ(std::string(value->Value.lpszA), "kept");
  MAPIFreeBuffer(value);
  EXPECT_EQ(section->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
  // Secure properties: readable by tag, left out of GetProps(NULL) and GetPropList.
  ASSERT_EQ(HrGetOneProp(section, PROP_TAG(PT_BINARY, 0x67F1), &value), S_OK);
  EXPECT_EQ(value->Value.bin.cb, 3u);
  MAPIFreeBuffer(value);
  LPSPropTagArray list = nullptr;
  ASSERT_EQ(section->GetPropList(0, &list), S_OK);
  bool secure_listed = false, object_type_listed = false;
  for (ULONG i = 0; i < list->cValues; ++i) {
    secure_listed = secure_listed || PROP_ID(list->aulPropTag[i]) == 0x67F1;
    object_type_listed = object_type_listed || list->aulPropTag[i] == PR_OBJECT_TYPE;
  }
  EXPECT_FALSE(secure_listed);
  EXPECT_TRUE(object_type_listed);
  MAPIFreeBuffer(list);
  // A missing property: PT_ERROR and MAPI_W_ERRORS_RETURNED.
  SizedSPropTagArray(2, wanted) = {2, {PR_DISPLAY_NAME_A, PROP_TAG(PT_LONG, 0x6699)}};
  ULONG count = 0;
  LPSPropValue values = nullptr;
  ASSERT_EQ(section->GetProps(reinterpret_cast<LPSPropTagArray>(&wanted), 0, &count, &values), MAPI_W_ERRORS_RETURNED);
  ASSERT_EQ(count, 2u);
  EXPECT_EQ(std::string(values[0].Value.lpszA), "Mine");
  EXPECT_EQ(values[1].ulPropTag, PROP_TAG(PT_ERROR, 0x6699));
  EXPECT_EQ(values[1].Value.err, MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(values);
  // DeleteProps.
  SizedSPropTagArray(2, gone) = {2, {PROP_TAG(PT_UNICODE, 0x6611), PR_PROFILE_NAME_A}};
  ASSERT_EQ(section->DeleteProps(reinterpret_cast<LPSPropTagArray>(&gone), &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  EXPECT_EQ(problems->cProblem, 1u);
  MAPIFreeBuffer(problems);
  EXPECT_EQ(HrGetOneProp(section, PROP_TAG(PT_UNICODE, 0x6611), &value), MAPI_E_NOT_FOUND);
  // No named properties.
  LPSPropTagArray ids = nullptr;
  EXPECT_EQ(section->GetIDsFromNames(0, nullptr, 0, &ids), MAPI_E_NO_SUPPORT);
  section->Release();
}

TEST_F(ServiceAdminTest, CopyPropsCopiesBetweenProfileSections) {
  ASSERT_EQ(sa_->CreateMsgService(T("MSUPST MS"), T("From"), 0, 0), S_OK);
  ASSERT_EQ(sa_->CreateMsgService(T("MSPST MS"), T("To"), 0, 0), S_OK);
  MAPIUID from_uid = service_uid(sa_, "MSUPST MS"), to_uid = service_uid(sa_, "MSPST MS");
  LPPROFSECT from = nullptr, to = nullptr;
  ASSERT_EQ(sa_->OpenProfileSection(&from_uid, nullptr, MAPI_MODIFY, &from), S_OK);
  ASSERT_EQ(sa_->OpenProfileSection(&to_uid, nullptr, MAPI_MODIFY, &to), S_OK);
  SPropValue prop{};
  prop.ulPropTag = PROP_TAG(PT_LONG, 0x6620);
  prop.Value.l = 7;
  ASSERT_EQ(from->SetProps(1, &prop, nullptr), S_OK);
  SizedSPropTagArray(1, which) = {1, {PROP_TAG(PT_LONG, 0x6620)}};
  ASSERT_EQ(from->CopyProps(reinterpret_cast<LPSPropTagArray>(&which), 0, nullptr, &IID_IProfSect, to, MAPI_MOVE,
                            nullptr),
            S_OK);
  LPSPropValue value = nullptr;
  ASSERT_EQ(HrGetOneProp(to, PROP_TAG(PT_LONG, 0x6620), &value), S_OK);
  EXPECT_EQ(value->Value.l, 7);
  MAPIFreeBuffer(value);
  EXPECT_EQ(HrGetOneProp(from, PROP_TAG(PT_LONG, 0x6620), &value), MAPI_E_NOT_FOUND);  // moved
  from->Release();
  to->Release();
}

}  // namespace
