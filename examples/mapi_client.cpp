// A MAPI client written the way Microsoft's MAPI documentation samples are
// written, using nothing but MAPI: MAPIInitialize, MAPIAdminProfiles,
// CreateProfile, AdminServices, CreateMsgService("MSUPST MS"),
// GetMsgServiceTable, ConfigureMsgService(PR_PST_PATH), MAPILogonEx,
// GetMsgStoresTable, OpenMsgStore, OpenEntry, hierarchy and contents tables
// (SetColumns, QueryRows, HrQueryAllRows), attachment tables, CreateFolder,
// CreateMessage, SetProps, ModifyRecipients, CreateAttach, SaveChanges,
// Logoff, DeleteProfile, MAPIUninitialize.
//
//   mapi_client list FILE.pst     one JSON line per folder and per message,
//                                 in the shape of `pstkit dump --json`
//                                 (tests/scripts/test_corpus_libpff.py
//                                 compares it with libpff)
//   mapi_client create FILE.pst   adds the folder "MAPI sample" under the
//                                 IPM subtree with one mail item (a
//                                 recipient, an attachment); creates FILE
//                                 first if it does not exist
//
// Build against an installed pstkit:
//   g++ -std=c++20 mapi_client.cpp $(pkg-config --cflags --libs pstkit-mapi)
// The profile is a temporary one ("mapi_client <pid>"), deleted at the end;
// PSTKIT_PROFILE_DIR chooses where profiles live.
#include <mapix.h>
#include <mapiutil.h>
#include <mapiguid.h>
#include <mspst.h>

#include <unistd.h>

#include <clocale>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <string>
#include <vector>

namespace {

// ---- Output -------------------------------------------------------------

// A wide MAPI string as UTF-8 (wchar_t is UTF-32 on Linux).
std::string Utf8(LPCWSTR lpwsz) {
    std::string out;
    std::mbstate_t state{};
    char buf[MB_LEN_MAX];
    for (; lpwsz && *lpwsz; ++lpwsz) {
        size_t n = std::wcrtomb(buf, *lpwsz, &state);
        if (n == static_cast<size_t>(-1)) {
            out += "\xEF\xBF\xBD";  // U+FFFD for what cannot be encoded
            state = std::mbstate_t{};
        } else {
            out.append(buf, n);
        }
    }
    return out;
}

std::string JsonString(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof(esc), "\\u%04x", c);
            out += esc;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string JsonPath(const std::vector<std::string>& path) {
    std::string out = "[";
    for (size_t i = 0; i < path.size(); i++) out += (i ? "," : "") + JsonString(path[i]);
    return out + "]";
}

void PrintError(const std::vector<std::string>& folder, const char* what, HRESULT hRes) {
    std::printf("{\"type\":\"error\",\"folder\":%s,\"what\":\"%s\",\"error\":\"0x%08X\"}\n", JsonPath(folder).c_str(),
                what, static_cast<unsigned>(hRes));
}

// ---- Profile ------------------------------------------------------------

// Find the UID of the service CreateMsgService just added: it is not
// returned, so restrict the message service table on PR_SERVICE_NAME
// (imsgserviceadmin-createmsgservice.md).
HRESULT FindServiceUid(LPSERVICEADMIN lpServiceAdmin, MAPIUID* lpUid) {
    enum { iSvcName, iSvcUID, cptaSvc };
    SizedSPropTagArray(cptaSvc, sptCols) = {cptaSvc, {PR_SERVICE_NAME_A, PR_SERVICE_UID}};
    LPMAPITABLE lpMsgSvcTable = NULL;
    LPSRowSet lpSvcRows = NULL;

    HRESULT hRes = lpServiceAdmin->GetMsgServiceTable(0, &lpMsgSvcTable);
    if (FAILED(hRes)) return hRes;

    SRestriction sres;
    SPropValue SvcProps;
    sres.rt = RES_CONTENT;
    sres.res.resContent.ulFuzzyLevel = FL_FULLSTRING;
    sres.res.resContent.ulPropTag = PR_SERVICE_NAME_A;
    sres.res.resContent.lpProp = &SvcProps;
    SvcProps.ulPropTag = PR_SERVICE_NAME_A;
    SvcProps.Value.lpszA = const_cast<LPSTR>("MSUPST MS");

    hRes = HrQueryAllRows(lpMsgSvcTable, (LPSPropTagArray)&sptCols, &sres, NULL, 0, &lpSvcRows);
    if (SUCCEEDED(hRes) && lpSvcRows->cRows > 0) {
        const SBinary& uid = lpSvcRows->aRow[0].lpProps[iSvcUID].Value.bin;
        if (uid.cb == sizeof(MAPIUID)) std::memcpy(lpUid, uid.lpb, sizeof(MAPIUID));
        else hRes = MAPI_E_CORRUPT_DATA;
    } else if (SUCCEEDED(hRes)) {
        hRes = MAPI_E_NOT_FOUND;
    }
    FreeProws(lpSvcRows);
    lpMsgSvcTable->Release();
    return hRes;
}

// Create a profile holding one Unicode PST service (PR_PST_PATH_W,
// PR_PST_CONFIG_FLAGS = PST_CONFIG_UNICODE, as MFCMAPI does).
HRESULT CreateProfileWithPst(LPCWSTR lpwszProfile, LPCWSTR lpwszPath) {
    LPPROFADMIN lpProfAdmin = NULL;
    LPSERVICEADMIN lpServiceAdmin = NULL;
    HRESULT hRes = MAPIAdminProfiles(0, &lpProfAdmin);
    if (FAILED(hRes)) return hRes;

    hRes = lpProfAdmin->CreateProfile((LPTSTR)lpwszProfile, NULL, 0, MAPI_UNICODE);
    if (SUCCEEDED(hRes))
        hRes = lpProfAdmin->AdminServices((LPTSTR)lpwszProfile, NULL, 0, MAPI_UNICODE, &lpServiceAdmin);
    if (SUCCEEDED(hRes))
        hRes = lpServiceAdmin->CreateMsgService((LPTSTR)L"MSUPST MS", (LPTSTR)L"Personal Folders", 0,
                                                MAPI_UNICODE);
    MAPIUID uidService = {};
    if (SUCCEEDED(hRes)) hRes = FindServiceUid(lpServiceAdmin, &uidService);
    if (SUCCEEDED(hRes)) {
        SPropValue rgval[2];
        ZeroMemory(rgval, sizeof(rgval));
        rgval[0].ulPropTag = PR_PST_PATH_W;
        rgval[0].Value.lpszW = const_cast<LPWSTR>(lpwszPath);
        rgval[1].ulPropTag = PR_PST_CONFIG_FLAGS;
        rgval[1].Value.l = static_cast<LONG>(PST_CONFIG_UNICODE);
        hRes = lpServiceAdmin->ConfigureMsgService(&uidService, 0, MAPI_UNICODE, 2, rgval);
    }
    if (lpServiceAdmin) lpServiceAdmin->Release();
    if (FAILED(hRes)) lpProfAdmin->DeleteProfile((LPTSTR)lpwszProfile, MAPI_UNICODE);
    lpProfAdmin->Release();
    return hRes;
}

void DeleteProfile(LPCWSTR lpwszProfile) {
    LPPROFADMIN lpProfAdmin = NULL;
    if (SUCCEEDED(MAPIAdminProfiles(0, &lpProfAdmin))) {
        lpProfAdmin->DeleteProfile((LPTSTR)lpwszProfile, MAPI_UNICODE);
        lpProfAdmin->Release();
    }
}

// Open the default store from the message store table.
HRESULT OpenDefaultStore(LPMAPISESSION lpSession, ULONG ulFlags, LPMDB* lppMDB) {
    enum { iEntryID, iDefault, cptaStores };
    SizedSPropTagArray(cptaStores, sptStores) = {cptaStores, {PR_ENTRYID, PR_DEFAULT_STORE}};
    LPMAPITABLE lpStoresTbl = NULL;
    LPSRowSet pRows = NULL;
    HRESULT hRes = lpSession->GetMsgStoresTable(0, &lpStoresTbl);
    if (FAILED(hRes)) return hRes;

    SRestriction sres;
    SPropValue spv;
    sres.rt = RES_PROPERTY;
    sres.res.resProperty.relop = RELOP_EQ;
    sres.res.resProperty.ulPropTag = PR_DEFAULT_STORE;
    sres.res.resProperty.lpProp = &spv;
    spv.ulPropTag = PR_DEFAULT_STORE;
    spv.Value.b = TRUE;

    hRes = HrQueryAllRows(lpStoresTbl, (LPSPropTagArray)&sptStores, &sres, NULL, 0, &pRows);
    if (SUCCEEDED(hRes) && pRows && pRows->cRows) {
        const SBinary& eid = pRows->aRow[0].lpProps[iEntryID].Value.bin;
        hRes = lpSession->OpenMsgStore(0, eid.cb, (LPENTRYID)eid.lpb, NULL, ulFlags | MDB_NO_DIALOG, lppMDB);
    } else if (SUCCEEDED(hRes)) {
        hRes = MAPI_E_NOT_FOUND;
    }
    FreeProws(pRows);
    lpStoresTbl->Release();
    return hRes;
}

// ---- list ---------------------------------------------------------------

// The number of rows of an object's table (attachments, subfolders).
ULONG CountRows(LPMAPITABLE lpTable) {
    ULONG ulCount = 0;
    if (lpTable && FAILED(lpTable->GetRowCount(0, &ulCount))) ulCount = 0;
    return ulCount;
}

// The folder's contents table: entry ID, subject and class of each message.
HRESULT ListContents(LPMAPIFOLDER lpFolder, LPSRowSet* lppRows) {
    LPMAPITABLE lpContents = NULL;
    HRESULT hRes = lpFolder->GetContentsTable(MAPI_UNICODE, &lpContents);
    if (FAILED(hRes)) return hRes;
    enum { iEid, iSubject, iClass, cptaMsg };
    SizedSPropTagArray(cptaMsg, sptMsg) = {cptaMsg, {PR_ENTRYID, PR_SUBJECT_W, PR_MESSAGE_CLASS_W}};
    hRes = HrQueryAllRows(lpContents, (LPSPropTagArray)&sptMsg, NULL, NULL, 0, lppRows);
    lpContents->Release();
    return hRes;
}

// One line per message: its subject and class from the contents table, its
// attachment count from the message's attachment table.
void PrintItems(LPMAPIFOLDER lpFolder, const std::vector<std::string>& path, LPSRowSet pRows) {
    enum { iEid, iSubject, iClass };
    for (ULONG i = 0; i < pRows->cRows; i++) {
        LPSPropValue lpProps = pRows->aRow[i].lpProps;
        LPMESSAGE lpMessage = NULL;
        ULONG ulObjType = 0;
        HRESULT hRes = MAPI_E_NOT_FOUND;
        if (PROP_TYPE(lpProps[iEid].ulPropTag) == PT_BINARY)
            hRes = lpFolder->OpenEntry(lpProps[iEid].Value.bin.cb, (LPENTRYID)lpProps[iEid].Value.bin.lpb,
                                       &IID_IMessage, MAPI_BEST_ACCESS, &ulObjType, (LPUNKNOWN*)&lpMessage);
        LPMAPITABLE lpAttachments = NULL;
        if (SUCCEEDED(hRes)) hRes = lpMessage->GetAttachmentTable(MAPI_UNICODE, &lpAttachments);
        if (FAILED(hRes)) {
            PrintError(path, "item", hRes);
        } else {
            std::string line = "{\"type\":\"item\",\"folder\":" + JsonPath(path);
            if (PROP_TYPE(lpProps[iClass].ulPropTag) == PT_UNICODE)
                line += ",\"class\":" + JsonString(Utf8(lpProps[iClass].Value.lpszW));
            line += ",\"subject\":";
            line += PROP_TYPE(lpProps[iSubject].ulPropTag) == PT_UNICODE
                        ? JsonString(Utf8(lpProps[iSubject].Value.lpszW))
                        : std::string("\"\"");
            line += ",\"attachments\":" + std::to_string(CountRows(lpAttachments)) + "}";
            std::puts(line.c_str());
        }
        if (lpAttachments) lpAttachments->Release();
        if (lpMessage) lpMessage->Release();
    }
}

// A folder line, its items, then its subfolders depth first.
HRESULT ListFolder(LPMAPIFOLDER lpFolder, const std::vector<std::string>& path) {
    LPMAPITABLE lpHierarchy = NULL;
    HRESULT hRes = lpFolder->GetHierarchyTable(MAPI_UNICODE, &lpHierarchy);
    if (FAILED(hRes)) {
        PrintError(path, "folder", hRes);
        return hRes;
    }
    enum { iEid, iName, cptaFolder };
    SizedSPropTagArray(cptaFolder, sptFolder) = {cptaFolder, {PR_ENTRYID, PR_DISPLAY_NAME_W}};
    LPSRowSet pFolders = NULL;
    hRes = HrQueryAllRows(lpHierarchy, (LPSPropTagArray)&sptFolder, NULL, NULL, 0, &pFolders);
    lpHierarchy->Release();
    if (FAILED(hRes)) {
        PrintError(path, "folder", hRes);
        return hRes;
    }

    LPSRowSet pItems = NULL;
    HRESULT hResContents = ListContents(lpFolder, &pItems);
    std::printf("{\"type\":\"folder\",\"path\":%s,\"items\":%lu,\"subfolders\":%lu}\n", JsonPath(path).c_str(),
                static_cast<unsigned long>(SUCCEEDED(hResContents) ? pItems->cRows : 0),
                static_cast<unsigned long>(pFolders->cRows));
    if (SUCCEEDED(hResContents)) PrintItems(lpFolder, path, pItems);
    else PrintError(path, "contents", hResContents);
    FreeProws(pItems);

    for (ULONG i = 0; i < pFolders->cRows; i++) {
        LPSPropValue lpProps = pFolders->aRow[i].lpProps;
        std::vector<std::string> child = path;
        child.push_back(PROP_TYPE(lpProps[iName].ulPropTag) == PT_UNICODE ? Utf8(lpProps[iName].Value.lpszW)
                                                                         : std::string());
        ULONG ulObjType = 0;
        LPMAPIFOLDER lpSub = NULL;
        HRESULT hResSub = MAPI_E_NOT_FOUND;
        if (PROP_TYPE(lpProps[iEid].ulPropTag) == PT_BINARY)
            hResSub = lpFolder->OpenEntry(lpProps[iEid].Value.bin.cb, (LPENTRYID)lpProps[iEid].Value.bin.lpb,
                                          &IID_IMAPIFolder, MAPI_BEST_ACCESS, &ulObjType, (LPUNKNOWN*)&lpSub);
        if (SUCCEEDED(hResSub) && ulObjType == MAPI_FOLDER) ListFolder(lpSub, child);
        else PrintError(child, "folder", FAILED(hResSub) ? hResSub : MAPI_E_INVALID_OBJECT);
        if (lpSub) lpSub->Release();
    }
    FreeProws(pFolders);
    return S_OK;
}

// The whole store from its root folder (OpenEntry with no entry ID).
HRESULT ListStore(LPMDB lpMDB) {
    ULONG ulObjType = 0;
    LPMAPIFOLDER lpRoot = NULL;
    HRESULT hRes = lpMDB->OpenEntry(0, NULL, &IID_IMAPIFolder, MAPI_BEST_ACCESS, &ulObjType, (LPUNKNOWN*)&lpRoot);
    if (FAILED(hRes)) return hRes;
    hRes = ListFolder(lpRoot, {});
    lpRoot->Release();
    return hRes;
}

// ---- create -------------------------------------------------------------

// Create a message with one recipient and one attachment in lpFolder.
HRESULT CreateMailItem(LPMAPIFOLDER lpFolder) {
    LPMESSAGE lpMessage = NULL;
    HRESULT hRes = lpFolder->CreateMessage(NULL, MAPI_DEFERRED_ERRORS, &lpMessage);
    if (FAILED(hRes)) return hRes;

    SPropValue rgProps[4];
    rgProps[0].ulPropTag = PR_MESSAGE_CLASS_W;
    rgProps[0].Value.lpszW = const_cast<LPWSTR>(L"IPM.Note");
    rgProps[1].ulPropTag = PR_SUBJECT_W;
    rgProps[1].Value.lpszW = const_cast<LPWSTR>(L"Hello from a MAPI client");
    rgProps[2].ulPropTag = PR_BODY_W;
    rgProps[2].Value.lpszW = const_cast<LPWSTR>(L"Written through MAPI on Linux.");
    rgProps[3].ulPropTag = PR_MESSAGE_FLAGS;
    rgProps[3].Value.l = MSGFLAG_READ;
    LPSPropProblemArray lpProblems = NULL;
    hRes = lpMessage->SetProps(4, rgProps, &lpProblems);
    if (lpProblems) MAPIFreeBuffer(lpProblems);

    // One recipient, allocated as ModifyRecipients expects.
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
        pv[0].Value.lpszW = const_cast<LPWSTR>(L"Someone");
        pv[1].ulPropTag = PR_EMAIL_ADDRESS_W;
        pv[1].Value.lpszW = const_cast<LPWSTR>(L"someone@example.com");
        pv[2].ulPropTag = PR_ADDRTYPE_W;
        pv[2].Value.lpszW = const_cast<LPWSTR>(L"SMTP");
        pv[3].ulPropTag = PR_RECIPIENT_TYPE;
        pv[3].Value.l = MAPI_TO;
        hRes = lpMessage->ModifyRecipients(MODRECIP_ADD, lpAdrList);
    }
    FreePadrlist(lpAdrList);

    // One attachment by value, its data written through a stream.
    LPATTACH lpAttach = NULL;
    ULONG ulAttachNum = 0;
    if (SUCCEEDED(hRes)) hRes = lpMessage->CreateAttach(NULL, 0, &ulAttachNum, &lpAttach);
    if (SUCCEEDED(hRes)) {
        SPropValue rgAttProps[2];
        rgAttProps[0].ulPropTag = PR_ATTACH_METHOD;
        rgAttProps[0].Value.l = ATTACH_BY_VALUE;
        rgAttProps[1].ulPropTag = PR_ATTACH_LONG_FILENAME_W;
        rgAttProps[1].Value.lpszW = const_cast<LPWSTR>(L"hello.txt");
        hRes = lpAttach->SetProps(2, rgAttProps, NULL);
        LPSTREAM lpStream = NULL;
        if (SUCCEEDED(hRes))
            hRes = lpAttach->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY,
                                          (LPUNKNOWN*)&lpStream);
        if (SUCCEEDED(hRes)) {
            static const char data[] = "hello from MAPI\n";
            ULONG cbWritten = 0;
            hRes = lpStream->Write(data, sizeof(data) - 1, &cbWritten);
            if (SUCCEEDED(hRes)) hRes = lpStream->Commit(STGC_DEFAULT);
            lpStream->Release();
        }
        if (SUCCEEDED(hRes)) hRes = lpAttach->SaveChanges(KEEP_OPEN_READWRITE);
        lpAttach->Release();
    }
    if (SUCCEEDED(hRes)) hRes = lpMessage->SaveChanges(KEEP_OPEN_READONLY);
    lpMessage->Release();
    return hRes;
}

HRESULT CreateSample(LPMDB lpMDB) {
    ULONG ulObjType = 0;
    LPSPropValue lpSubtree = NULL;
    LPMAPIFOLDER lpIpm = NULL;
    HRESULT hRes = HrGetOneProp(lpMDB, PR_IPM_SUBTREE_ENTRYID, &lpSubtree);
    if (SUCCEEDED(hRes))
        hRes = lpMDB->OpenEntry(lpSubtree->Value.bin.cb, (LPENTRYID)lpSubtree->Value.bin.lpb, &IID_IMAPIFolder,
                                MAPI_MODIFY, &ulObjType, (LPUNKNOWN*)&lpIpm);
    MAPIFreeBuffer(lpSubtree);
    LPMAPIFOLDER lpNew = NULL;
    if (SUCCEEDED(hRes))
        hRes = lpIpm->CreateFolder(FOLDER_GENERIC, (LPTSTR)L"MAPI sample", (LPTSTR)L"Created by mapi_client", NULL,
                                   OPEN_IF_EXISTS | MAPI_UNICODE, &lpNew);
    if (SUCCEEDED(hRes)) hRes = CreateMailItem(lpNew);
    if (lpNew) lpNew->Release();
    if (lpIpm) lpIpm->Release();
    return hRes;
}

// ---- main ---------------------------------------------------------------

std::wstring Widen(const char* s) {
    std::wstring out(std::mbstowcs(nullptr, s, 0) == static_cast<size_t>(-1) ? 0 : std::strlen(s) + 1, L'\0');
    if (!out.empty()) out.resize(std::mbstowcs(out.data(), s, out.size()));
    return out;
}

int Usage() {
    std::fprintf(stderr, "usage: mapi_client list|create FILE.pst\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::setlocale(LC_ALL, "C.UTF-8");
    if (argc != 3) return Usage();
    const std::string mode = argv[1];
    if (mode != "list" && mode != "create") return Usage();
    char absolute[PATH_MAX];
    const bool exists = realpath(argv[2], absolute) != nullptr;
    if (!exists && mode == "list") {
        std::fprintf(stderr, "mapi_client: %s: no such file\n", argv[2]);
        return 1;
    }
    const std::wstring wszPath = Widen(exists ? absolute : argv[2]);
    const std::wstring wszProfile = L"mapi_client " + std::to_wstring(getpid());

    MAPIINIT_0 MapiInit = {MAPI_INIT_VERSION, MAPI_MULTITHREAD_NOTIFICATIONS};
    HRESULT hRes = MAPIInitialize(&MapiInit);
    if (FAILED(hRes)) {
        std::fprintf(stderr, "mapi_client: MAPIInitialize failed: 0x%08X\n", static_cast<unsigned>(hRes));
        return 1;
    }
    const char* step = "CreateProfile";
    LPMAPISESSION lpSession = NULL;
    LPMDB lpMDB = NULL;
    hRes = CreateProfileWithPst(wszProfile.c_str(), wszPath.c_str());
    const bool profileCreated = SUCCEEDED(hRes);
    if (SUCCEEDED(hRes)) {
        step = "MAPILogonEx";
        hRes = MAPILogonEx(0, (LPTSTR)wszProfile.c_str(), NULL,
                           MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL | MAPI_UNICODE,
                           &lpSession);
    }
    if (SUCCEEDED(hRes)) {
        step = "OpenMsgStore";
        hRes = OpenDefaultStore(lpSession, mode == "create" ? MDB_WRITE : 0, &lpMDB);
    }
    if (SUCCEEDED(hRes)) {
        step = mode == "list" ? "list" : "create";
        hRes = mode == "list" ? ListStore(lpMDB) : CreateSample(lpMDB);
    }
    if (lpMDB) {
        ULONG ulLogoffFlags = LOGOFF_ORDERLY;
        lpMDB->StoreLogoff(&ulLogoffFlags);
        lpMDB->Release();
    }
    if (lpSession) {
        lpSession->Logoff(0, 0, 0);
        lpSession->Release();
    }
    if (profileCreated) DeleteProfile(wszProfile.c_str());
    MAPIUninitialize();
    if (FAILED(hRes)) {
        std::fprintf(stderr, "mapi_client: %s failed: 0x%08X\n", step, static_cast<unsigned>(hRes));
        return 1;
    }
    return 0;
}
