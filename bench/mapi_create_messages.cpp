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

HRESULT FindServiceUid(LPSERVICEADMIN lpServiceAdmin, MAPIUID* lpUid) {
    enum { iSvcName, iSvcUID, cptaSvc };
    SizedSPropTagArray(cptaSvc, sptCols) = {cptaSvc, {PR_SERVICE_NAME_A, PR_SERVICE_UID}};
    LPMAPITABLE lpTable = NULL;
    LPSRowSet lpRows = NULL;
    HRESULT hRes = lpServiceAdmin->GetMsgServiceTable(0, &lpTable);
    if (FAILED(hRes)) return hRes;
    hRes = HrQueryAllRows(lpTable, (LPSPropTagArray)&sptCols, NULL, NULL, 0, &lpRows);
    if (SUCCEEDED(hRes)) {
        hRes = MAPI_E_NOT_FOUND;
        for (ULONG i = 0; i < lpRows->cRows; i++) {
            const SPropValue* p = lpRows->aRow[i].lpProps;
            if (PROP_TYPE(p[iSvcName].ulPropTag) == PT_STRING8 && std::strcmp(p[iSvcName].Value.lpszA, "MSUPST MS") == 0 &&
                p[iSvcUID].Value.bin.cb == sizeof(MAPIUID)) {
                std::memcpy(lpUid, p[iSvcUID].Value.bin.lpb, sizeof(MAPIUID));
                hRes = S_OK;
            }
        }
    }
    FreeProws(lpRows);
    lpTable->Release();
    return hRes;
}

HRESULT CreateProfile(const std::wstring& profile, const std::wstring& path) {
    LPPROFADMIN lpProfAdmin = NULL;
    LPSERVICEADMIN lpServiceAdmin = NULL;
    HRESULT hRes = MAPIAdminProfiles(0, &lpProfAdmin);
    if (FAILED(hRes)) return hRes;
    hRes = lpProfAdmin->CreateProfile((LPTSTR)profile.c_str(), NULL, 0, MAPI_UNICODE);
    if (SUCCEEDED(hRes)) hRes = lpProfAdmin->AdminServices((LPTSTR)profile.c_str(), NULL, 0, MAPI_UNICODE, &lpServiceAdmin);
    if (SUCCEEDED(hRes)) hRes = lpServiceAdmin->CreateMsgService((LPTSTR)L"MSUPST MS", (LPTSTR)L"Bench", 0, MAPI_UNICODE);
    MAPIUID uid = {};
    if (SUCCEEDED(hRes)) hRes = FindServiceUid(lpServiceAdmin, &uid);
    if (SUCCEEDED(hRes)) {
        SPropValue val;
        val.ulPropTag = PR_PST_PATH_W;
        val.Value.lpszW = const_cast<LPWSTR>(path.c_str());
        hRes = lpServiceAdmin->ConfigureMsgService(&uid, 0, MAPI_UNICODE, 1, &val);
    }
    if (lpServiceAdmin) lpServiceAdmin->Release();
    lpProfAdmin->Release();
    return hRes;
}

void DeleteProfile(const std::wstring& profile) {
    LPPROFADMIN lpProfAdmin = NULL;
    if (SUCCEEDED(MAPIAdminProfiles(0, &lpProfAdmin))) {
        lpProfAdmin->DeleteProfile((LPTSTR)profile.c_str(), MAPI_UNICODE);
        lpProfAdmin->Release();
    }
}

HRESULT OpenStore(LPMAPISESSION lpSession, LPMDB* lppMDB) {
    enum { iEntryID, cptaStores };
    SizedSPropTagArray(cptaStores, sptStores) = {cptaStores, {PR_ENTRYID}};
    LPMAPITABLE lpTable = NULL;
    LPSRowSet lpRows = NULL;
    HRESULT hRes = lpSession->GetMsgStoresTable(0, &lpTable);
    if (FAILED(hRes)) return hRes;
    hRes = HrQueryAllRows(lpTable, (LPSPropTagArray)&sptStores, NULL, NULL, 0, &lpRows);
    if (SUCCEEDED(hRes) && lpRows->cRows == 0) hRes = MAPI_E_NOT_FOUND;
    if (SUCCEEDED(hRes)) {
        const SBinary& eid = lpRows->aRow[0].lpProps[iEntryID].Value.bin;
        hRes = lpSession->OpenMsgStore(0, eid.cb, (LPENTRYID)eid.lpb, NULL, MDB_WRITE | MDB_NO_DIALOG, lppMDB);
    }
    FreeProws(lpRows);
    lpTable->Release();
    return hRes;
}

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
    const std::wstring wpath(path.begin(), path.end());  // ASCII paths only here
    const std::wstring profile = L"mapi_create_messages " + std::to_wstring(getpid());
    HRESULT hRes = MAPIInitialize(NULL);
    if (FAILED(hRes)) return 1;
    LPMAPISESSION lpSession = NULL;
    LPMDB lpMDB = NULL;
    LPMAPIFOLDER lpIpm = NULL, lpFolder = NULL;
    const char* step = "profile";
    hRes = CreateProfile(profile, wpath);
    const bool created = SUCCEEDED(hRes);
    if (SUCCEEDED(hRes)) {
        step = "logon";
        hRes = MAPILogonEx(0, (LPTSTR)profile.c_str(), NULL,
                           MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL | MAPI_UNICODE,
                           &lpSession);
    }
    if (SUCCEEDED(hRes)) {
        step = "open store";
        hRes = OpenStore(lpSession, &lpMDB);
    }
    LPSPropValue lpSubtree = NULL;
    ULONG ulObjType = 0;
    if (SUCCEEDED(hRes)) hRes = HrGetOneProp(lpMDB, PR_IPM_SUBTREE_ENTRYID, &lpSubtree);
    if (SUCCEEDED(hRes))
        hRes = lpMDB->OpenEntry(lpSubtree->Value.bin.cb, (LPENTRYID)lpSubtree->Value.bin.lpb, &IID_IMAPIFolder,
                                MAPI_MODIFY, &ulObjType, (LPUNKNOWN*)&lpIpm);
    MAPIFreeBuffer(lpSubtree);
    if (SUCCEEDED(hRes))
        hRes = lpIpm->CreateFolder(FOLDER_GENERIC, (LPTSTR)L"Bench", NULL, NULL, OPEN_IF_EXISTS | MAPI_UNICODE,
                                   &lpFolder);
    for (unsigned long i = first; SUCCEEDED(hRes) && i < first + n; i++) {
        step = "create message";
        hRes = CreateOne(lpFolder, i);
    }
    if (lpFolder) lpFolder->Release();
    if (lpIpm) lpIpm->Release();
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
