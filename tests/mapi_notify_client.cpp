// A MAPI client for tests/scripts/test_shared_notify.py, written with MAPI
// only: two of them share one store, one listening, one writing
// (docs/MAPI.md "Notifications across processes").
//
//   mapi_notify_client listen FILE.pst FOLDER
//     Advises on the store, on FOLDER (under the IPM subtree, created if
//     missing) and on FOLDER's contents table, prints "ready", then one
//     line per notification, as it arrives, until standard input ends —
//     making no MAPI call meanwhile:
//       obj EVENT TYPE ID PARENT OLDID OLDPARENT   (entry IDs in hex, - if none;
//                                                    the store sink's; EVENT a name)
//       fobj EVENT ID                              (the folder sink's)
//       row EVENT SUBJECT                          (the table sink's; SUBJECT - for a deletion)
//   mapi_notify_client write FILE.pst FOLDER
//     Makes one change per line read on standard input and prints
//     "step N ID" after it committed: 1 creates message "one", 2 changes its
//     subject, 3 creates "two", 4 creates subfolder "Sub", 5 moves "two" into
//     it, 6 deletes "one".
#include <mapix.h>
#include <mapiutil.h>
#include <mspst.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "../bench/mapi_sample_profile.h"

using namespace mapi_sample;

namespace {

std::mutex out_mutex;

void Say(const std::string& line) {
    std::lock_guard<std::mutex> lock(out_mutex);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

int Fail(const char* what, HRESULT hRes) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "failed %s 0x%08lX", what, (unsigned long)hRes);
    Say(buf);
    return 1;
}

std::string Hex(const void* p, ULONG cb) {
    if (p == NULL || cb == 0) return "-";
    std::string out;
    char buf[3];
    for (ULONG i = 0; i < cb; i++) {
        std::snprintf(buf, sizeof buf, "%02X", static_cast<const unsigned char*>(p)[i]);
        out += buf;
    }
    return out;
}

const char* EventName(ULONG ev) {
    switch (ev) {
        case fnevObjectCreated: return "created";
        case fnevObjectModified: return "modified";
        case fnevObjectDeleted: return "deleted";
        case fnevObjectMoved: return "moved";
        case fnevObjectCopied: return "copied";
        case fnevNewMail: return "newmail";
        default: return "other";
    }
}

const char* TableEventName(ULONG ev) {
    switch (ev) {
        case TABLE_ROW_ADDED: return "added";
        case TABLE_ROW_MODIFIED: return "modified";
        case TABLE_ROW_DELETED: return "deleted";
        case TABLE_CHANGED: return "changed";
        case TABLE_RELOAD: return "reload";
        case TABLE_ERROR: return "error";
        default: return "other";
    }
}

LONG STDAPICALLTYPE OnStore(LPVOID, ULONG cNotif, LPNOTIFICATION lpNotif) {
    for (ULONG i = 0; i < cNotif; i++) {
        const OBJECT_NOTIFICATION& o = lpNotif[i].info.obj;
        Say(std::string("obj ") + EventName(lpNotif[i].ulEventType) + " " +
            (o.ulObjType == MAPI_FOLDER ? "folder" : o.ulObjType == MAPI_MESSAGE ? "message" : "other") + " " +
            Hex(o.lpEntryID, o.cbEntryID) + " " + Hex(o.lpParentID, o.cbParentID) + " " + Hex(o.lpOldID, o.cbOldID) +
            " " + Hex(o.lpOldParentID, o.cbOldParentID));
    }
    return 0;
}

LONG STDAPICALLTYPE OnFolder(LPVOID, ULONG cNotif, LPNOTIFICATION lpNotif) {
    for (ULONG i = 0; i < cNotif; i++) {
        const OBJECT_NOTIFICATION& o = lpNotif[i].info.obj;
        Say(std::string("fobj ") + EventName(lpNotif[i].ulEventType) + " " + Hex(o.lpEntryID, o.cbEntryID));
    }
    return 0;
}

LONG STDAPICALLTYPE OnTable(LPVOID, ULONG cNotif, LPNOTIFICATION lpNotif) {
    for (ULONG i = 0; i < cNotif; i++) {
        if (lpNotif[i].ulEventType != fnevTableModified) continue;
        const TABLE_NOTIFICATION& t = lpNotif[i].info.tab;
        std::string subject = "-";
        for (ULONG k = 0; k < t.row.cValues; k++)
            if (t.row.lpProps[k].ulPropTag == PR_SUBJECT_A) subject = t.row.lpProps[k].Value.lpszA;
        for (char& c : subject)
            if (c == ' ') c = '_';
        Say(std::string("row ") + TableEventName(t.ulTableEvent) + " " + subject);
    }
    return 0;
}

std::string EntryId(LPMAPIPROP lpProp) {
    LPSPropValue lpEid = NULL;
    if (FAILED(HrGetOneProp(lpProp, PR_ENTRYID, &lpEid))) return "-";
    const std::string out = Hex(lpEid->Value.bin.lpb, lpEid->Value.bin.cb);
    MAPIFreeBuffer(lpEid);
    return out;
}

HRESULT SetSubject(LPMESSAGE lpMessage, const char* subject) {
    SPropValue props[2];
    props[0].ulPropTag = PR_SUBJECT_A;
    props[0].Value.lpszA = (LPSTR)subject;
    props[1].ulPropTag = PR_MESSAGE_CLASS_A;
    props[1].Value.lpszA = (LPSTR) "IPM.Note";
    return lpMessage->SetProps(2, props, NULL);
}

HRESULT EntryIdOf(LPMAPIPROP lpProp, SBinary* out, LPSPropValue* lppHold) {
    HRESULT hRes = HrGetOneProp(lpProp, PR_ENTRYID, lppHold);
    if (SUCCEEDED(hRes)) *out = (*lppHold)->Value.bin;
    return hRes;
}

int Listen(LPMDB lpMDB, LPMAPIFOLDER lpFolder) {
    LPMAPIADVISESINK lpStoreSink = NULL, lpFolderSink = NULL, lpTableSink = NULL;
    ULONG_PTR ulStore = 0, ulFolder = 0, ulTable = 0;
    const ULONG ulEvents = fnevObjectCreated | fnevObjectModified | fnevObjectDeleted | fnevObjectMoved |
                           fnevObjectCopied;
    HRESULT hRes = HrAllocAdviseSink(OnStore, NULL, &lpStoreSink);
    if (SUCCEEDED(hRes)) hRes = HrAllocAdviseSink(OnFolder, NULL, &lpFolderSink);
    if (SUCCEEDED(hRes)) hRes = HrAllocAdviseSink(OnTable, NULL, &lpTableSink);
    if (FAILED(hRes)) return Fail("HrAllocAdviseSink", hRes);
    hRes = lpMDB->Advise(0, NULL, ulEvents, lpStoreSink, &ulStore);
    if (FAILED(hRes)) return Fail("store Advise", hRes);
    LPSPropValue lpEid = NULL;
    hRes = HrGetOneProp(lpFolder, PR_ENTRYID, &lpEid);
    if (FAILED(hRes)) return Fail("folder entry ID", hRes);
    hRes = lpMDB->Advise(lpEid->Value.bin.cb, (LPENTRYID)lpEid->Value.bin.lpb, ulEvents, lpFolderSink, &ulFolder);
    MAPIFreeBuffer(lpEid);
    if (FAILED(hRes)) return Fail("folder Advise", hRes);
    LPMAPITABLE lpTable = NULL;
    hRes = lpFolder->GetContentsTable(0, &lpTable);
    if (FAILED(hRes)) return Fail("GetContentsTable", hRes);
    SizedSPropTagArray(2, sptCols) = {2, {PR_INSTANCE_KEY, PR_SUBJECT_A}};
    hRes = lpTable->SetColumns((LPSPropTagArray)&sptCols, 0);
    if (SUCCEEDED(hRes)) hRes = lpTable->Advise(fnevTableModified, lpTableSink, &ulTable);
    if (FAILED(hRes)) return Fail("table Advise", hRes);
    Say("ready " + EntryId(lpFolder));
    char line[256];
    while (std::fgets(line, sizeof line, stdin) != NULL) {
    }
    lpTable->Unadvise(ulTable);
    lpTable->Release();
    lpMDB->Unadvise(ulFolder);
    lpMDB->Unadvise(ulStore);
    lpStoreSink->Release();
    lpFolderSink->Release();
    lpTableSink->Release();
    return 0;
}

int Write(LPMAPIFOLDER lpFolder) {
    LPMESSAGE lpOne = NULL, lpTwo = NULL;
    LPMAPIFOLDER lpSub = NULL;
    LPSPropValue lpOneEid = NULL, lpTwoEid = NULL;
    SBinary one = {0, NULL}, two = {0, NULL};
    char line[256];
    int rc = 0;
    for (int step = 1; rc == 0 && step <= 6 && std::fgets(line, sizeof line, stdin) != NULL; step++) {
        HRESULT hRes = S_OK;
        std::string id;
        switch (step) {
            case 1:
                hRes = lpFolder->CreateMessage(NULL, 0, &lpOne);
                if (SUCCEEDED(hRes)) hRes = SetSubject(lpOne, "one");
                if (SUCCEEDED(hRes)) hRes = lpOne->SaveChanges(KEEP_OPEN_READWRITE);
                if (SUCCEEDED(hRes)) hRes = EntryIdOf(lpOne, &one, &lpOneEid);
                break;
            case 2:
                hRes = SetSubject(lpOne, "one changed");
                if (SUCCEEDED(hRes)) hRes = lpOne->SaveChanges(0);
                break;
            case 3:
                hRes = lpFolder->CreateMessage(NULL, 0, &lpTwo);
                if (SUCCEEDED(hRes)) hRes = SetSubject(lpTwo, "two");
                if (SUCCEEDED(hRes)) hRes = lpTwo->SaveChanges(KEEP_OPEN_READWRITE);
                if (SUCCEEDED(hRes)) hRes = EntryIdOf(lpTwo, &two, &lpTwoEid);
                break;
            case 4:
                hRes = lpFolder->CreateFolder(FOLDER_GENERIC, (LPTSTR) "Sub", NULL, NULL, 0, &lpSub);
                if (SUCCEEDED(hRes)) id = EntryId(lpSub);
                break;
            case 5: {
                ENTRYLIST list = {1, &two};
                hRes = lpFolder->CopyMessages(&list, NULL, lpSub, 0, NULL, MESSAGE_MOVE);
                break;
            }
            case 6: {
                ENTRYLIST list = {1, &one};
                hRes = lpFolder->DeleteMessages(&list, 0, NULL, 0);
                break;
            }
        }
        if (hRes != S_OK) {
            rc = Fail("step", hRes);
            break;
        }
        if (id.empty()) id = Hex((step == 3 || step == 5) ? two.lpb : one.lpb, (step == 3 || step == 5) ? two.cb : one.cb);
        Say("step " + std::to_string(step) + " " + id);
    }
    if (lpOne) lpOne->Release();
    if (lpTwo) lpTwo->Release();
    if (lpSub) lpSub->Release();
    MAPIFreeBuffer(lpOneEid);
    MAPIFreeBuffer(lpTwoEid);
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 || (std::strcmp(argv[1], "listen") != 0 && std::strcmp(argv[1], "write") != 0)) {
        std::fprintf(stderr, "usage: mapi_notify_client listen|write FILE.pst FOLDER\n");
        return 2;
    }
    const bool listen = std::strcmp(argv[1], "listen") == 0;
    char resolved[4096];
    const std::string path = realpath(argv[2], resolved) != NULL ? resolved : argv[2];
    const std::wstring folder_name(argv[3], argv[3] + std::strlen(argv[3]));
    const std::wstring profile = L"mapi_notify_client " + std::to_wstring(getpid());
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
    if (FAILED(hRes) || stores.size() != 1) return Fail("open store", hRes);
    LPMAPIFOLDER lpFolder = NULL;
    hRes = OpenIpmFolder(stores[0], folder_name.c_str(), &lpFolder);
    if (FAILED(hRes)) return Fail("open folder", hRes);
    const int rc = listen ? Listen(stores[0], lpFolder) : Write(lpFolder);
    lpFolder->Release();
    stores[0]->Release();
    lpSession->Logoff(0, 0, 0);
    lpSession->Release();
    DeleteProfile(profile);
    MAPIUninitialize();
    return rc;
}
