// A MAPI client that crashes, for tests/scripts/test_crash_recovery.py
// (issue 10 parts 2 and 3). Uses only MAPI and PstkitInstallCrashHandlers.
//
//   mapi_crash_client run MODE N A.pst B.pst C.pst
//       One profile with an MSUPST MS service per file (created if missing),
//       all three opened with MDB_WRITE; a folder "Crash" in each; then N
//       messages, message i into store i % 3, each saved with SaveChanges
//       and announced on stdout as "saved K SUBJECT" once it returned S_OK.
//       Then, by MODE:
//         segv      handlers installed (PSTKIT_CRASH_HANDLERS_STOP): a write
//                   to an unmapped address; the handler recovers and stops
//         continue  an own SIGSEGV handler: MAPICrashRecovery(RECOVER),
//                   SIGSTOP, then after SIGCONT MAPICrashRecovery(CONTINUE),
//                   "continued" on stdout, SIGSTOP again
//         wait      no handler: "waiting" on stdout, then sleeps (to be
//                   killed with SIGKILL)
//       With PSTKIT_FAULT_SIGSEGV_IN_COMMIT=K (and MODE segv) the K-th commit
//       (3 folder creations come first) crashes in the middle of its update.
//   mapi_crash_client open FILE.pst
//       Opens FILE with MDB_WRITE through a session, waits (up to 60 s) for
//       the check of a file that did not close properly, prints each status
//       table row about it as "report TEXT", then "opened". Exit status 0;
//       3 when the store is crash-locked (MAPI_E_BUSY, or its service
//       disabled saying so); 1 on another error (printed).
#include <mapix.h>
#include <mapiutil.h>
#include <mspst.h>

#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../bench/mapi_sample_profile.h"

namespace {

void Say(const std::string& line) {
    std::string s = line + "\n";
    size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = write(STDOUT_FILENO, s.data() + done, s.size() - done);
        if (n <= 0) return;
        done += size_t(n);
    }
}

std::string Absolute(const char* file) {
    std::string path = file;
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd))) path = std::string(cwd) + "/" + path;
    }
    return path;
}

using mapi_sample::CreatePstProfile;
using mapi_sample::DeleteProfile;
using mapi_sample::OpenStores;

HRESULT OpenCrashFolder(LPMDB lpMDB, LPMAPIFOLDER* lppFolder) { return mapi_sample::OpenIpmFolder(lpMDB, L"Crash", lppFolder); }

HRESULT SaveOne(LPMAPIFOLDER lpFolder, const std::string& subject) {
    LPMESSAGE lpMessage = NULL;
    HRESULT hRes = lpFolder->CreateMessage(NULL, 0, &lpMessage);
    if (FAILED(hRes)) return hRes;
    const std::string body = "Body of " + subject + "\r\n";
    SPropValue props[3];
    props[0].ulPropTag = PR_MESSAGE_CLASS_A;
    props[0].Value.lpszA = const_cast<char*>("IPM.Note");
    props[1].ulPropTag = PR_SUBJECT_A;
    props[1].Value.lpszA = const_cast<char*>(subject.c_str());
    props[2].ulPropTag = PR_BODY_A;
    props[2].Value.lpszA = const_cast<char*>(body.c_str());
    hRes = lpMessage->SetProps(3, props, NULL);
    if (SUCCEEDED(hRes)) hRes = lpMessage->SaveChanges(0);
    lpMessage->Release();
    return hRes;
}

// The "continue" variant's own handler: recover, stop, lift, stop again.
void ContinueHandler(int) {
    MAPICrashRecovery(MAPICRASH_RECOVER);
    raise(SIGSTOP);
    MAPICrashRecovery(MAPICRASH_CONTINUE);
    const char line[] = "continued\n";
    (void)!write(STDOUT_FILENO, line, sizeof line - 1);
    raise(SIGSTOP);
    _exit(0);
}

int Fail(const char* step, HRESULT hRes) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "failed %s 0x%08X", step, static_cast<unsigned>(hRes));
    Say(buf);
    return hRes == MAPI_E_BUSY ? 3 : 1;
}

int Run(const std::string& mode, unsigned long n, const std::vector<std::string>& paths) {
    const std::wstring profile = L"mapi_crash_client " + std::to_wstring(getpid());
    HRESULT hRes = MAPIInitialize(NULL);
    if (FAILED(hRes)) return Fail("MAPIInitialize", hRes);
    hRes = CreatePstProfile(profile, paths);
    if (FAILED(hRes)) return Fail("profile", hRes);
    LPMAPISESSION lpSession = NULL;
    hRes = MAPILogonEx(0, (LPTSTR)profile.c_str(), NULL,
                       MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL | MAPI_UNICODE,
                       &lpSession);
    if (FAILED(hRes)) return Fail("logon", hRes);  // the profile stays: PSTKIT_PROFILE_DIR is the test's
    std::vector<LPMDB> stores;
    hRes = OpenStores(lpSession, &stores);
    if (FAILED(hRes)) return Fail("open stores", hRes);
    if (stores.size() != paths.size()) return Fail("open stores (count)", MAPI_E_NOT_FOUND);
    std::vector<LPMAPIFOLDER> folders(stores.size(), nullptr);
    for (size_t k = 0; k < stores.size(); k++) {
        hRes = OpenCrashFolder(stores[k], &folders[k]);
        if (FAILED(hRes)) return Fail("create folder", hRes);
    }
    if (mode == "segv") {
        hRes = PstkitInstallCrashHandlers(PSTKIT_CRASH_HANDLERS_STOP);
        if (FAILED(hRes)) return Fail("install handlers", hRes);
    } else if (mode == "term") {
        // SIGTERM (system shutdown) gets MAPICRASH_RECOVER | MAPICRASH_SYSTEM_SHUTDOWN.
        hRes = PstkitInstallCrashHandlers(0);
        if (FAILED(hRes)) return Fail("install handlers", hRes);
    } else if (mode == "continue") {
        struct sigaction sa {};
        sa.sa_handler = ContinueHandler;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, nullptr);
    }
    const std::string tag = std::to_string(getpid());
    for (unsigned long i = 0; i < n; i++) {
        const size_t k = i % stores.size();
        const std::string subject = "Crash test " + tag + " message " + std::to_string(i);
        hRes = SaveOne(folders[k], subject);
        if (FAILED(hRes)) return Fail("save", hRes);
        Say("saved " + std::to_string(k) + " " + subject);
    }
    if (mode == "wait" || mode == "term") {
        Say("waiting");
        for (;;) pause();
    }
    Say("crashing");
    static volatile uintptr_t unmapped = 8;  // read at run time: a real fault, no warning
    *reinterpret_cast<volatile int*>(unmapped) = 1;  // SIGSEGV
    return 1;
}

int Open(const std::string& path) {
    const std::wstring profile = L"mapi_crash_client open " + std::to_wstring(getpid());
    HRESULT hRes = MAPIInitialize(NULL);
    if (FAILED(hRes)) return Fail("MAPIInitialize", hRes);
    hRes = CreatePstProfile(profile, {path});
    if (FAILED(hRes)) return Fail("profile", hRes);
    LPMAPISESSION lpSession = NULL;
    hRes = MAPILogonEx(0, (LPTSTR)profile.c_str(), NULL,
                       MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL | MAPI_UNICODE,
                       &lpSession);
    if (FAILED(hRes)) return Fail("logon", hRes);
    std::vector<LPMDB> stores;
    hRes = OpenStores(lpSession, &stores);
    if (FAILED(hRes)) return Fail("open store", hRes);
    if (stores.empty()) {
        // The store provider failed its logon: the status table says why.
        LPMAPITABLE lpTable = NULL;
        LPSRowSet lpRows = NULL;
        SizedSPropTagArray(1, sptStatus) = {1, {PR_STATUS_STRING_A}};
        std::string why;
        if (SUCCEEDED(lpSession->GetStatusTable(0, &lpTable))) {
            if (SUCCEEDED(HrQueryAllRows(lpTable, (LPSPropTagArray)&sptStatus, NULL, NULL, 0, &lpRows))) {
                for (ULONG i = 0; i < lpRows->cRows; i++) {
                    const SPropValue& p = lpRows->aRow[i].lpProps[0];
                    if (PROP_TYPE(p.ulPropTag) == PT_STRING8 && std::strncmp(p.Value.lpszA, "Disabled", 8) == 0)
                        why += std::string(p.Value.lpszA) + "; ";
                }
                FreeProws(lpRows);
            }
            lpTable->Release();
        }
        Say("failed open store: " + why);
        // Ends the session like any client (a leak checker would otherwise
        // fail the run at exit).
        lpSession->Logoff(0, 0, 0);
        lpSession->Release();
        DeleteProfile(profile);
        MAPIUninitialize();
        return why.find("locked by crash recovery") != std::string::npos ? 3 : 1;
    }
    // The data file check's rows of the status table, once it has finished.
    enum { iDisplay, iProvider, iStatus, cptaCols };
    SizedSPropTagArray(cptaCols, sptCols) = {cptaCols, {PR_DISPLAY_NAME_A, PR_PROVIDER_DISPLAY_A, PR_STATUS_STRING_A}};
    std::vector<std::string> reports;
    for (int tries = 0; tries < 600; tries++) {
        reports.clear();
        LPMAPITABLE lpTable = NULL;
        LPSRowSet lpRows = NULL;
        hRes = lpSession->GetStatusTable(0, &lpTable);
        if (FAILED(hRes)) return Fail("status table", hRes);
        hRes = HrQueryAllRows(lpTable, (LPSPropTagArray)&sptCols, NULL, NULL, 0, &lpRows);
        lpTable->Release();
        if (FAILED(hRes)) return Fail("status rows", hRes);
        bool checking = false;
        for (ULONG i = 0; i < lpRows->cRows; i++) {
            const SPropValue* p = lpRows->aRow[i].lpProps;
            if (PROP_TYPE(p[iProvider].ulPropTag) != PT_STRING8 ||
                std::strcmp(p[iProvider].Value.lpszA, "Data file check") != 0)
                continue;
            const std::string text = PROP_TYPE(p[iStatus].ulPropTag) == PT_STRING8 ? p[iStatus].Value.lpszA : "";
            if (text.find("is being checked") != std::string::npos) checking = true;
            reports.push_back(text);
        }
        FreeProws(lpRows);
        if (!checking) break;
        usleep(100000);
    }
    for (const auto& r : reports) Say("report " + r);
    Say("opened");
    for (LPMDB s : stores) s->Release();
    lpSession->Logoff(0, 0, 0);
    lpSession->Release();
    DeleteProfile(profile);
    MAPIUninitialize();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 7 && std::strcmp(argv[1], "run") == 0) {
        return Run(argv[2], std::strtoul(argv[3], NULL, 10), {Absolute(argv[4]), Absolute(argv[5]), Absolute(argv[6])});
    }
    if (argc == 3 && std::strcmp(argv[1], "open") == 0) return Open(Absolute(argv[2]));
    std::fprintf(stderr, "usage: mapi_crash_client run segv|continue|wait|term N A.pst B.pst C.pst | open FILE.pst\n");
    return 2;
}
