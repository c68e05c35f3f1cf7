// Profile and store set-up shared by the MAPI programs of bench/ and tests/
// (mapi_create_messages, mapi_shutdown_client, mapi_crash_client), written
// with MAPI only, like Microsoft's samples: a profile with one "MSUPST MS"
// service per PST, its stores opened for writing, a folder under the IPM
// subtree. Header-only; ASCII paths.
#pragma once

#include <mapix.h>
#include <mapiutil.h>
#include <mspst.h>

#include <cstring>
#include <string>
#include <vector>

namespace mapi_sample {

// The PR_SERVICE_UIDs of the profile's "MSUPST MS" services, in table order.
inline HRESULT PstServiceUids(LPSERVICEADMIN lpServiceAdmin, std::vector<MAPIUID>* uids) {
    enum { iSvcName, iSvcUID, cptaSvc };
    SizedSPropTagArray(cptaSvc, sptCols) = {cptaSvc, {PR_SERVICE_NAME_A, PR_SERVICE_UID}};
    LPMAPITABLE lpTable = NULL;
    LPSRowSet lpRows = NULL;
    HRESULT hRes = lpServiceAdmin->GetMsgServiceTable(0, &lpTable);
    if (FAILED(hRes)) return hRes;
    hRes = HrQueryAllRows(lpTable, (LPSPropTagArray)&sptCols, NULL, NULL, 0, &lpRows);
    if (SUCCEEDED(hRes)) {
        for (ULONG i = 0; i < lpRows->cRows; i++) {
            const SPropValue* p = lpRows->aRow[i].lpProps;
            if (PROP_TYPE(p[iSvcName].ulPropTag) == PT_STRING8 &&
                std::strcmp(p[iSvcName].Value.lpszA, "MSUPST MS") == 0 && p[iSvcUID].Value.bin.cb == sizeof(MAPIUID)) {
                MAPIUID uid;
                std::memcpy(&uid, p[iSvcUID].Value.bin.lpb, sizeof(MAPIUID));
                uids->push_back(uid);
            }
        }
    }
    FreeProws(lpRows);
    lpTable->Release();
    return hRes;
}

// Creates `profile` with one MSUPST MS service ("Store K") per path, each
// configured with its PR_PST_PATH (the file is created if missing).
inline HRESULT CreatePstProfile(const std::wstring& profile, const std::vector<std::string>& paths) {
    LPPROFADMIN lpProfAdmin = NULL;
    LPSERVICEADMIN lpServiceAdmin = NULL;
    HRESULT hRes = MAPIAdminProfiles(0, &lpProfAdmin);
    if (FAILED(hRes)) return hRes;
    hRes = lpProfAdmin->CreateProfile((LPTSTR)profile.c_str(), NULL, 0, MAPI_UNICODE);
    if (SUCCEEDED(hRes)) hRes = lpProfAdmin->AdminServices((LPTSTR)profile.c_str(), NULL, 0, MAPI_UNICODE, &lpServiceAdmin);
    for (size_t k = 0; SUCCEEDED(hRes) && k < paths.size(); k++) {
        std::vector<MAPIUID> before, after;
        hRes = PstServiceUids(lpServiceAdmin, &before);
        const std::wstring name = L"Store " + std::to_wstring(k);
        if (SUCCEEDED(hRes))
            hRes = lpServiceAdmin->CreateMsgService((LPTSTR)L"MSUPST MS", (LPTSTR)name.c_str(), 0, MAPI_UNICODE);
        if (SUCCEEDED(hRes)) hRes = PstServiceUids(lpServiceAdmin, &after);
        if (SUCCEEDED(hRes) && after.size() != before.size() + 1) hRes = MAPI_E_CALL_FAILED;
        if (SUCCEEDED(hRes)) {
            // The new service: the UID that was not there before.
            MAPIUID uid = after.back();
            for (const MAPIUID& a : after) {
                bool old = false;
                for (const MAPIUID& b : before) old = old || std::memcmp(&a, &b, sizeof a) == 0;
                if (!old) uid = a;
            }
            const std::wstring wpath(paths[k].begin(), paths[k].end());  // ASCII paths only here
            SPropValue val;
            val.ulPropTag = PR_PST_PATH_W;
            val.Value.lpszW = const_cast<LPWSTR>(wpath.c_str());
            hRes = lpServiceAdmin->ConfigureMsgService(&uid, 0, MAPI_UNICODE, 1, &val);
        }
    }
    if (lpServiceAdmin) lpServiceAdmin->Release();
    lpProfAdmin->Release();
    return hRes;
}

inline void DeleteProfile(const std::wstring& profile) {
    LPPROFADMIN lpProfAdmin = NULL;
    if (SUCCEEDED(MAPIAdminProfiles(0, &lpProfAdmin))) {
        lpProfAdmin->DeleteProfile((LPTSTR)profile.c_str(), MAPI_UNICODE);
        lpProfAdmin->Release();
    }
}

// Opens every store of the session's message stores table with MDB_WRITE,
// in table order (the caller releases them).
inline HRESULT OpenStores(LPMAPISESSION lpSession, std::vector<LPMDB>* stores) {
    enum { iEntryID, cptaStores };
    SizedSPropTagArray(cptaStores, sptStores) = {cptaStores, {PR_ENTRYID}};
    LPMAPITABLE lpTable = NULL;
    LPSRowSet lpRows = NULL;
    HRESULT hRes = lpSession->GetMsgStoresTable(0, &lpTable);
    if (FAILED(hRes)) return hRes;
    hRes = HrQueryAllRows(lpTable, (LPSPropTagArray)&sptStores, NULL, NULL, 0, &lpRows);
    for (ULONG i = 0; SUCCEEDED(hRes) && i < lpRows->cRows; i++) {
        const SBinary& eid = lpRows->aRow[i].lpProps[iEntryID].Value.bin;
        LPMDB lpMDB = NULL;
        hRes = lpSession->OpenMsgStore(0, eid.cb, (LPENTRYID)eid.lpb, NULL, MDB_WRITE | MDB_NO_DIALOG, &lpMDB);
        if (SUCCEEDED(hRes)) stores->push_back(lpMDB);
    }
    if (lpRows) FreeProws(lpRows);
    lpTable->Release();
    return hRes;
}

// Opens (creating it if missing) the folder `name` under the IPM subtree.
inline HRESULT OpenIpmFolder(LPMDB lpMDB, const wchar_t* name, LPMAPIFOLDER* lppFolder) {
    LPSPropValue lpSubtree = NULL;
    LPMAPIFOLDER lpIpm = NULL;
    ULONG ulObjType = 0;
    HRESULT hRes = HrGetOneProp(lpMDB, PR_IPM_SUBTREE_ENTRYID, &lpSubtree);
    if (SUCCEEDED(hRes))
        hRes = lpMDB->OpenEntry(lpSubtree->Value.bin.cb, (LPENTRYID)lpSubtree->Value.bin.lpb, &IID_IMAPIFolder,
                                MAPI_MODIFY, &ulObjType, (LPUNKNOWN*)&lpIpm);
    MAPIFreeBuffer(lpSubtree);
    if (SUCCEEDED(hRes))
        hRes = lpIpm->CreateFolder(FOLDER_GENERIC, (LPTSTR)name, NULL, NULL, OPEN_IF_EXISTS | MAPI_UNICODE, lppFolder);
    if (lpIpm) lpIpm->Release();
    return hRes;
}

}  // namespace mapi_sample
