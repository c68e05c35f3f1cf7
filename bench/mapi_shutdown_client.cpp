// A MAPI client that saves messages into several stores and then shuts down,
// for tests/scripts/test_fast_shutdown.py and bench/fast_shutdown_bench.py.
//
//   mapi_shutdown_client fast|slow N FILE.pst...
//
// Makes a profile with one "MSUPST MS" service per FILE (the files must
// exist, e.g. from `pstkit create`), logs on, opens every store for writing
// and saves N messages into the folder "Shutdown" of each store (created
// under the IPM subtree), store after store in turn, through CreateMessage,
// SetProps and SaveChanges. Message i of store s has the subject
// "Shutdown s<s> m<i>". Then it prints "shutdown_start <ns>" (CLOCK_MONOTONIC)
// and shuts down:
//   fast  QueryInterface(IID_IMAPIClientShutdown) on the session,
//         QueryFastShutdown, NotifyProcessShutdown, DoFastShutdown, then
//         _exit(0) without releasing anything (client-shutdown-in-mapi.md);
//   slow  releases the folders and stores (StoreLogoff), Logoff, Release,
//         MAPIUninitialize, exit(0) (ending-a-mapi-session.md).
// Exit status 0 on success, 1 when a MAPI call fails (it names the step),
// 3 when QueryFastShutdown refuses, 4 when DoFastShutdown fails.
// PSTKIT_PROFILE_DIR chooses where its profile lives (the caller removes it).
#include <mapix.h>
#include <mapiutil.h>
#include <mspst.h>

#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "mapi_sample_profile.h"

namespace {

using mapi_sample::CreatePstProfile;
using mapi_sample::OpenStores;

HRESULT OpenFolder(LPMDB lpMDB, LPMAPIFOLDER* lppFolder) { return mapi_sample::OpenIpmFolder(lpMDB, L"Shutdown", lppFolder); }

HRESULT SaveOne(LPMAPIFOLDER lpFolder, size_t store, unsigned long i) {
    LPMESSAGE lpMessage = NULL;
    HRESULT hRes = lpFolder->CreateMessage(NULL, 0, &lpMessage);
    if (FAILED(hRes)) return hRes;
    const std::wstring subject = L"Shutdown s" + std::to_wstring(store) + L" m" + std::to_wstring(i);
    const std::wstring body = L"Message " + std::to_wstring(i) + L" of store " + std::to_wstring(store) +
                              L", saved before the client shut down.\r\n";
    SPropValue props[3];
    props[0].ulPropTag = PR_MESSAGE_CLASS_W;
    props[0].Value.lpszW = const_cast<LPWSTR>(L"IPM.Note");
    props[1].ulPropTag = PR_SUBJECT_W;
    props[1].Value.lpszW = const_cast<LPWSTR>(subject.c_str());
    props[2].ulPropTag = PR_BODY_W;
    props[2].Value.lpszW = const_cast<LPWSTR>(body.c_str());
    hRes = lpMessage->SetProps(3, props, NULL);
    if (SUCCEEDED(hRes)) hRes = lpMessage->SaveChanges(0);
    lpMessage->Release();
    return hRes;
}

long long MonotonicNs() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

int Fail(const char* step, HRESULT hRes) {
    std::fprintf(stderr, "mapi_shutdown_client: %s failed: 0x%08X\n", step, static_cast<unsigned>(hRes));
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4 || (std::strcmp(argv[1], "fast") != 0 && std::strcmp(argv[1], "slow") != 0)) {
        std::fprintf(stderr, "usage: mapi_shutdown_client fast|slow N FILE.pst...\n");
        return 2;
    }
    const bool fast = std::strcmp(argv[1], "fast") == 0;
    const unsigned long n = std::strtoul(argv[2], NULL, 10);
    std::vector<std::string> paths;
    for (int a = 3; a < argc; a++) {
        char absolute[PATH_MAX];
        if (realpath(argv[a], absolute) == NULL) {
            std::fprintf(stderr, "mapi_shutdown_client: %s: no such file\n", argv[a]);
            return 2;
        }
        paths.push_back(absolute);
    }
    HRESULT hRes = MAPIInitialize(NULL);
    if (FAILED(hRes)) return Fail("MAPIInitialize", hRes);
    const std::wstring profile = L"mapi_shutdown_client " + std::to_wstring(getpid());
    hRes = CreatePstProfile(profile, paths);
    if (FAILED(hRes)) return Fail("profile", hRes);
    LPMAPISESSION lpSession = NULL;
    hRes = MAPILogonEx(0, (LPTSTR)profile.c_str(), NULL,
                       MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL | MAPI_UNICODE,
                       &lpSession);
    if (FAILED(hRes)) return Fail("logon", hRes);
    std::vector<LPMDB> stores;
    hRes = OpenStores(lpSession, &stores);
    if (FAILED(hRes)) return Fail("open stores", hRes);
    if (stores.size() != paths.size()) return Fail("open stores (count)", MAPI_E_NOT_FOUND);
    std::vector<LPMAPIFOLDER> folders(stores.size(), NULL);
    for (size_t s = 0; s < stores.size(); s++) {
        hRes = OpenFolder(stores[s], &folders[s]);
        if (FAILED(hRes)) return Fail("folder", hRes);
    }
    for (unsigned long i = 0; i < n; i++) {
        for (size_t s = 0; s < folders.size(); s++) {
            hRes = SaveOne(folders[s], s, i);
            if (FAILED(hRes)) return Fail("save message", hRes);
        }
    }
    std::printf("shutdown_start %lld\n", MonotonicNs());
    std::fflush(stdout);
    if (fast) {
        LPMAPICLIENTSHUTDOWN lpShutdown = NULL;
        hRes = lpSession->QueryInterface(IID_IMAPIClientShutdown, (void**)&lpShutdown);
        if (FAILED(hRes)) return Fail("QueryInterface(IID_IMAPIClientShutdown)", hRes);
        hRes = lpShutdown->QueryFastShutdown();
        if (hRes != S_OK) {
            Fail("QueryFastShutdown", hRes);
            return 3;
        }
        lpShutdown->NotifyProcessShutdown();
        hRes = lpShutdown->DoFastShutdown();
        if (hRes != S_OK) {
            Fail("DoFastShutdown", hRes);
            return 4;
        }
        _exit(0);  // no Release, no Logoff, no MAPIUninitialize
    }
    for (LPMAPIFOLDER f : folders) f->Release();
    for (LPMDB s : stores) {
        ULONG flags = LOGOFF_ORDERLY;
        s->StoreLogoff(&flags);
        s->Release();
    }
    lpSession->Logoff(0, 0, 0);
    lpSession->Release();
    MAPIUninitialize();
    return 0;
}
