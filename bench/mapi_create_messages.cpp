// Creates small messages through MAPI, for bench/mapi_create_bench.sh.
//
//   mapi_create_messages mapi FILE.pst N [FIRST]
//                                          N messages into the folder
//                                          "Bench" of FILE (created if
//                                          missing) through CreateMessage,
//                                          SetProps, ModifyRecipients and
//                                          SaveChanges, one message at a time
//   mapi_create_messages mbox OUT.mbox N [FIRST]
//                                          the same N messages as an mbox,
//                                          for `pstkit import` to compare
//
// Messages are numbered from FIRST (default 0), so that several writers of
// one store (tests/scripts/test_shared_store.py) write different ones.
// Message i: class IPM.Note, subject "Bench message i", a plain body of
// about 300 bytes, the sender "Alice Martin <alice@example.com>", one To
// recipient "Bob Chen <bob@example.com>", delivered at 2026-01-01 00:00 UTC
// plus i minutes. Uses only MAPI (like examples/mapi_client.cpp) in mapi
// mode; PSTKIT_PROFILE_DIR chooses where its temporary profile lives.
#include <mapix.h>
#include <mapiutil.h>
#include <mspst.h>

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "mapi_sample_profile.h"

namespace {

constexpr uint64_t kFileTime2026 = 134116992000000000ULL;  // 2026-01-01T00:00:00Z as FILETIME
constexpr uint64_t kMinute = 600000000ULL;                 // in 100 ns units
constexpr time_t kUnix2026 = 1767225600;

std::wstring Subject(unsigned long i) { return L"Bench message " + std::to_wstring(i); }

std::wstring Body(unsigned long i) {
    std::wstring body = L"Hello Bob,\r\n\r\nThis is message " + std::to_wstring(i) +
                        L" of the MAPI creation benchmark. The budget review moves to Thursday; "
                        L"the draft forecast and the meeting minutes follow in the next message. "
                        L"Please send the updated schedule before the release.\r\n\r\nAlice\r\n";
    return body;
}

std::string Narrow(const std::wstring& w) {
    std::string s;
    for (wchar_t c : w) s.push_back(static_cast<char>(c));  // ASCII text only
    return s;
}

int WriteMbox(const char* path, unsigned long first, unsigned long n) {
    std::FILE* f = std::fopen(path, "w");
    if (!f) return 1;
    for (unsigned long i = first; i < first + n; i++) {
        const time_t when = kUnix2026 + static_cast<time_t>(i) * 60;
        char date[64];
        std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", std::gmtime(&when));
        std::string body = Narrow(Body(i));
        std::string lf;
        for (char c : body)
            if (c != '\r') lf.push_back(c);
        std::fprintf(f,
                     "From alice@example.com Thu Jan  1 00:00:00 2026\n"
                     "From: Alice Martin <alice@example.com>\nTo: Bob Chen <bob@example.com>\n"
                     "Subject: %s\nDate: %s\nMessage-ID: <bench-%lu@example.com>\n"
                     "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n%s\n",
                     Narrow(Subject(i)).c_str(), date, i, lf.c_str());
    }
    return std::fclose(f) == 0 ? 0 : 1;
}

using mapi_sample::CreatePstProfile;
using mapi_sample::DeleteProfile;

HRESULT CreateOne(LPMAPIFOLDER lpFolder, unsigned long i) {
    LPMESSAGE lpMessage = NULL;
    HRESULT hRes = lpFolder->CreateMessage(NULL, 0, &lpMessage);
    if (FAILED(hRes)) return hRes;
    const std::wstring subject = Subject(i), body = Body(i);
    const uint64_t when = kFileTime2026 + i * kMinute;
    SPropValue props[7];
    props[0].ulPropTag = PR_MESSAGE_CLASS_W;
    props[0].Value.lpszW = const_cast<LPWSTR>(L"IPM.Note");
    props[1].ulPropTag = PR_SUBJECT_W;
    props[1].Value.lpszW = const_cast<LPWSTR>(subject.c_str());
    props[2].ulPropTag = PR_BODY_W;
    props[2].Value.lpszW = const_cast<LPWSTR>(body.c_str());
    props[3].ulPropTag = PR_SENDER_NAME_W;
    props[3].Value.lpszW = const_cast<LPWSTR>(L"Alice Martin");
    props[4].ulPropTag = PR_SENDER_EMAIL_ADDRESS_W;
    props[4].Value.lpszW = const_cast<LPWSTR>(L"alice@example.com");
    props[5].ulPropTag = PR_MESSAGE_DELIVERY_TIME;
    props[5].Value.ft.dwLowDateTime = static_cast<DWORD>(when);
    props[5].Value.ft.dwHighDateTime = static_cast<DWORD>(when >> 32);
    props[6].ulPropTag = PR_CLIENT_SUBMIT_TIME;
    props[6].Value.ft = props[5].Value.ft;
    hRes = lpMessage->SetProps(7, props, NULL);

    LPADRLIST lpAdrList = NULL;
    if (SUCCEEDED(hRes)) hRes = MAPIAllocateBuffer(CbNewADRLIST(1), (LPVOID*)&lpAdrList);
    if (SUCCEEDED(hRes)) {
        lpAdrList->cEntries = 1;
        lpAdrList->aEntries[0].ulReserved1 = 0;
        lpAdrList->aEntries[0].cValues = 4;
        hRes = MAPIAllocateMore(4 * sizeof(SPropValue), lpAdrList, (LPVOID*)&lpAdrList->aEntries[0].rgPropVals);
    }
    if (SUCCEEDED(hRes)) {
        LPSPropValue pv = lpAdrList->aEntries[0].rgPropVals;
        pv[0].ulPropTag = PR_DISPLAY_NAME_W;
        pv[0].Value.lpszW = const_cast<LPWSTR>(L"Bob Chen");
        pv[1].ulPropTag = PR_EMAIL_ADDRESS_W;
        pv[1].Value.lpszW = const_cast<LPWSTR>(L"bob@example.com");
        pv[2].ulPropTag = PR_ADDRTYPE_W;
        pv[2].Value.lpszW = const_cast<LPWSTR>(L"SMTP");
        pv[3].ulPropTag = PR_RECIPIENT_TYPE;
        pv[3].Value.l = MAPI_TO;
        hRes = lpMessage->ModifyRecipients(MODRECIP_ADD, lpAdrList);
    }
    FreePadrlist(lpAdrList);
    if (SUCCEEDED(hRes)) hRes = lpMessage->SaveChanges(0);
    lpMessage->Release();
    return hRes;
}

int CreateThroughMapi(const char* file, unsigned long first, unsigned long n) {
    char absolute[PATH_MAX];
    std::string path = realpath(file, absolute) ? absolute : file;
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd))) path = std::string(cwd) + "/" + path;
    }
    const std::wstring profile = L"mapi_create_messages " + std::to_wstring(getpid());
    HRESULT hRes = MAPIInitialize(NULL);
    if (FAILED(hRes)) return 1;
    LPMAPISESSION lpSession = NULL;
    LPMDB lpMDB = NULL;
    LPMAPIFOLDER lpFolder = NULL;
    const char* step = "profile";
    hRes = CreatePstProfile(profile, {path});
    const bool created = SUCCEEDED(hRes);
    if (SUCCEEDED(hRes)) {
        step = "logon";
        hRes = MAPILogonEx(0, (LPTSTR)profile.c_str(), NULL,
                           MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL | MAPI_UNICODE,
                           &lpSession);
    }
    if (SUCCEEDED(hRes)) {
        step = "open store";
        std::vector<LPMDB> stores;
        hRes = mapi_sample::OpenStores(lpSession, &stores);
        if (SUCCEEDED(hRes) && stores.size() != 1) hRes = MAPI_E_NOT_FOUND;
        if (!stores.empty()) lpMDB = stores[0];
        for (size_t k = 1; k < stores.size(); k++) stores[k]->Release();
    }
    if (SUCCEEDED(hRes)) hRes = mapi_sample::OpenIpmFolder(lpMDB, L"Bench", &lpFolder);
    for (unsigned long i = first; SUCCEEDED(hRes) && i < first + n; i++) {
        step = "create message";
        hRes = CreateOne(lpFolder, i);
    }
    if (lpFolder) lpFolder->Release();
    // StoreLogoff commits what write-behind still holds: its failure is the
    // failure of the last saves.
    if (lpMDB) {
        ULONG flags = LOGOFF_ORDERLY;
        HRESULT hLogoff = lpMDB->StoreLogoff(&flags);
        if (SUCCEEDED(hRes) && FAILED(hLogoff)) {
            step = "store logoff";
            hRes = hLogoff;
        }
        lpMDB->Release();
    }
    if (lpSession) {
        lpSession->Logoff(0, 0, 0);
        lpSession->Release();
    }
    if (created) DeleteProfile(profile);
    MAPIUninitialize();
    if (FAILED(hRes)) {
        std::fprintf(stderr, "mapi_create_messages: %s failed: 0x%08X\n", step, static_cast<unsigned>(hRes));
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: mapi_create_messages mapi FILE.pst N [FIRST] | mbox OUT.mbox N [FIRST]\n");
        return 2;
    }
    const unsigned long n = std::strtoul(argv[3], NULL, 10);
    const unsigned long first = argc == 5 ? std::strtoul(argv[4], NULL, 10) : 0;
    if (std::strcmp(argv[1], "mbox") == 0) return WriteMbox(argv[2], first, n);
    if (std::strcmp(argv[1], "mapi") == 0) return CreateThroughMapi(argv[2], first, n);
    std::fprintf(stderr, "usage: mapi_create_messages mapi FILE.pst N [FIRST] | mbox OUT.mbox N [FIRST]\n");
    return 2;
}
