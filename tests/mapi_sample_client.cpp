// A MAPI client written the way Microsoft's MAPI documentation samples are
// written (L"..." literals with MAPI_UNICODE, SizedSPropTagArray with an
// enum of column indexes, PROP_TAG/CHANGE_PROP_TYPE, restrictions built on
// the stack, LPMAPISESSION & co., HrQueryAllRows/FreeProws, ADRLIST built
// with CbNewADRLIST/MAPIAllocateBuffer). It exercises the whole declaration
// surface of pstkit's MAPI headers: create a profile with a PST service, log
// on, walk folders and contents, create a message with a recipient and an
// attachment, log off.
//
// CMake compiles it twice (without and with UNICODE) as object libraries
// that are never linked: the MAPI functions are declared, not yet
// implemented (issue 9). Warnings are errors-worthy here like everywhere.
#include <mapix.h>
#include <mapiutil.h>
#include <mapiguid.h>
#include <mspst.h>

#include <cstdio>
#include <cwchar>

#ifdef UNICODE
static_assert(PR_DISPLAY_NAME == PR_DISPLAY_NAME_W, "PR_* TCHAR names are wide under UNICODE");
static_assert(PT_TSTRING == PT_UNICODE);
#else
static_assert(PR_DISPLAY_NAME == PR_DISPLAY_NAME_A, "PR_* TCHAR names are 8-bit without UNICODE");
#endif

namespace sample {

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
    } else if (SUCCEEDED(hRes)) {
        hRes = MAPI_E_NOT_FOUND;
    }
    FreeProws(lpSvcRows);
    lpMsgSvcTable->Release();
    return hRes;
}

// Create a profile holding one Unicode PST service (MFCMAPI does the same:
// PR_PST_PATH_W, PR_PST_CONFIG_FLAGS = PST_CONFIG_UNICODE).
HRESULT CreateProfileWithPst(LPCWSTR lpwszPath) {
    LPPROFADMIN lpProfAdmin = NULL;
    LPSERVICEADMIN lpServiceAdmin = NULL;
    HRESULT hRes = MAPIAdminProfiles(0, &lpProfAdmin);
    if (FAILED(hRes)) return hRes;

    hRes = lpProfAdmin->CreateProfile((LPTSTR)L"pstkit sample", NULL, 0, MAPI_UNICODE);
    if (SUCCEEDED(hRes))
        hRes = lpProfAdmin->AdminServices((LPTSTR)L"pstkit sample", NULL, 0, MAPI_UNICODE, &lpServiceAdmin);
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
    if (FAILED(hRes)) lpProfAdmin->DeleteProfile((LPTSTR)L"pstkit sample", MAPI_UNICODE);
    lpProfAdmin->Release();
    return hRes;
}

// Open the default store from the message store table.
HRESULT OpenDefaultStore(LPMAPISESSION lpSession, LPMDB* lppMDB) {
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
        hRes = lpSession->OpenMsgStore(0, eid.cb, (LPENTRYID)eid.lpb, NULL, MDB_WRITE | MAPI_BEST_ACCESS,
                                       lppMDB);
    } else if (SUCCEEDED(hRes)) {
        hRes = MAPI_E_NOT_FOUND;
    }
    FreeProws(pRows);
    lpStoresTbl->Release();
    return hRes;
}

// Walk one folder: its subfolders (depth first) and its contents, with a
// restriction and a two-key sort.
HRESULT WalkFolder(LPMAPIFOLDER lpFolder, int depth) {
    LPMAPITABLE lpHierarchy = NULL;
    HRESULT hRes = lpFolder->GetHierarchyTable(CONVENIENT_DEPTH | MAPI_UNICODE, &lpHierarchy);
    if (FAILED(hRes)) return hRes;
    enum { iEid, iName, iCount, iSub, cptaFolder };
    SizedSPropTagArray(cptaFolder, sptFolder) = {
        cptaFolder, {PR_ENTRYID, PR_DISPLAY_NAME_W, PR_CONTENT_COUNT, PR_SUBFOLDERS}};
    hRes = lpHierarchy->SetColumns((LPSPropTagArray)&sptFolder, TBL_BATCH);
    for (;;) {
        LPSRowSet pRows = NULL;
        if (FAILED(hRes = lpHierarchy->QueryRows(50, 0, &pRows)) || pRows->cRows == 0) {
            FreeProws(pRows);
            break;
        }
        for (ULONG i = 0; i < pRows->cRows; i++) {
            LPSPropValue lpProps = pRows->aRow[i].lpProps;
            if (PROP_TYPE(lpProps[iName].ulPropTag) == PT_UNICODE)
                std::wprintf(L"%*ls%ls (%ld)\n", depth * 2, L"", lpProps[iName].Value.lpszW,
                             static_cast<long>(lpProps[iCount].Value.l));
            ULONG ulObjType = 0;
            LPMAPIFOLDER lpSub = NULL;
            if (lpProps[iSub].Value.b &&
                SUCCEEDED(lpFolder->OpenEntry(lpProps[iEid].Value.bin.cb, (LPENTRYID)lpProps[iEid].Value.bin.lpb,
                                              &IID_IMAPIFolder, MAPI_BEST_ACCESS, &ulObjType,
                                              (LPUNKNOWN*)&lpSub)) &&
                ulObjType == MAPI_FOLDER) {
                WalkFolder(lpSub, depth + 1);
            }
            if (lpSub) lpSub->Release();
        }
        FreeProws(pRows);
    }
    lpHierarchy->Release();

    // Contents: messages with an attachment, newest first, then by subject.
    LPMAPITABLE lpContents = NULL;
    if (FAILED(hRes = lpFolder->GetContentsTable(MAPI_UNICODE, &lpContents))) return hRes;
    enum { iSubject, iDelivery, iFlags, cptaMsg };
    SizedSPropTagArray(cptaMsg, sptMsg) = {cptaMsg, {PR_SUBJECT_W, PR_MESSAGE_DELIVERY_TIME, PR_MESSAGE_FLAGS}};
    SizedSSortOrderSet(2, sortOrder) = {
        2, 0, 0, {{PR_MESSAGE_DELIVERY_TIME, TABLE_SORT_DESCEND}, {PR_SUBJECT_W, TABLE_SORT_ASCEND}}};
    SRestriction sresAnd, rgsres[2];
    SPropValue spvClass;
    spvClass.ulPropTag = PR_MESSAGE_CLASS_W;
    spvClass.Value.lpszW = const_cast<LPWSTR>(L"IPM.Note");
    rgsres[0].rt = RES_BITMASK;
    rgsres[0].res.resBitMask.relBMR = BMR_NEZ;
    rgsres[0].res.resBitMask.ulPropTag = PR_MESSAGE_FLAGS;
    rgsres[0].res.resBitMask.ulMask = MSGFLAG_HASATTACH;
    rgsres[1].rt = RES_CONTENT;
    rgsres[1].res.resContent.ulFuzzyLevel = FL_PREFIX | FL_IGNORECASE;
    rgsres[1].res.resContent.ulPropTag = PR_MESSAGE_CLASS_W;
    rgsres[1].res.resContent.lpProp = &spvClass;
    sresAnd.rt = RES_AND;
    sresAnd.res.resAnd.cRes = 2;
    sresAnd.res.resAnd.lpRes = rgsres;

    LPSRowSet pMsgRows = NULL;
    hRes = HrQueryAllRows(lpContents, (LPSPropTagArray)&sptMsg, &sresAnd, (LPSSortOrderSet)&sortOrder, 0,
                          &pMsgRows);
    if (SUCCEEDED(hRes)) {
        for (ULONG i = 0; i < pMsgRows->cRows; i++) {
            const SPropValue& subject = pMsgRows->aRow[i].lpProps[iSubject];
            if (subject.ulPropTag == PR_SUBJECT_W) std::wprintf(L"  %ls\n", subject.Value.lpszW);
            if (pMsgRows->aRow[i].lpProps[iFlags].Value.l & MSGFLAG_READ) continue;
            (void)pMsgRows->aRow[i].lpProps[iDelivery].Value.ft.dwHighDateTime;
        }
    }
    FreeProws(pMsgRows);
    // Other table calls a sample might use.
    ULONG ulCount = 0;
    BOOKMARK bk = BOOKMARK_BEGINNING;
    LONG lRowsSought = 0;
    lpContents->GetRowCount(0, &ulCount);
    lpContents->SortTable((LPSSortOrderSet)&sortOrder, TBL_BATCH);
    lpContents->Restrict(&sresAnd, TBL_BATCH);
    if (SUCCEEDED(lpContents->CreateBookmark(&bk))) lpContents->FreeBookmark(bk);
    lpContents->SeekRow(BOOKMARK_BEGINNING, 0, &lRowsSought);
    lpContents->FindRow(&rgsres[1], BOOKMARK_BEGINNING, 0);
    lpContents->FindRow(&rgsres[1], BOOKMARK_END, DIR_BACKWARD);
    lpContents->Release();
    return hRes;
}

// Create a message with one recipient and one attachment in lpFolder.
HRESULT CreateMailItem(LPMAPIFOLDER lpFolder) {
    LPMESSAGE lpMessage = NULL;
    HRESULT hRes = lpFolder->CreateMessage(NULL, MAPI_DEFERRED_ERRORS, &lpMessage);
    if (FAILED(hRes)) return hRes;

    SPropValue rgProps[3];
    rgProps[0].ulPropTag = PR_MESSAGE_CLASS_W;
    rgProps[0].Value.lpszW = const_cast<LPWSTR>(L"IPM.Note");
    rgProps[1].ulPropTag = PR_SUBJECT_W;
    rgProps[1].Value.lpszW = const_cast<LPWSTR>(L"Hello from pstkit");
    rgProps[2].ulPropTag = PR_BODY_W;
    rgProps[2].Value.lpszW = const_cast<LPWSTR>(L"Body text.");
    LPSPropProblemArray lpProblems = NULL;
    hRes = lpMessage->SetProps(3, rgProps, &lpProblems);
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
            static const char data[] = "hello";
            ULONG cbWritten = 0;
            hRes = lpStream->Write(data, sizeof(data) - 1, &cbWritten);
            if (SUCCEEDED(hRes)) hRes = lpStream->Commit(STGC_DEFAULT);
            lpStream->Release();
        }
        if (SUCCEEDED(hRes)) hRes = lpAttach->SaveChanges(KEEP_OPEN_READWRITE);
        lpAttach->Release();
    }
    if (SUCCEEDED(hRes)) hRes = lpMessage->SaveChanges(KEEP_OPEN_READONLY);
    if (SUCCEEDED(hRes)) {
        LPSPropValue lpEid = NULL;
        if (SUCCEEDED(HrGetOneProp(lpMessage, PR_ENTRYID, &lpEid))) MAPIFreeBuffer(lpEid);
        SPropValue spvRead;
        spvRead.ulPropTag = CHANGE_PROP_TYPE(PR_IMPORTANCE, PT_LONG);
        spvRead.Value.l = IMPORTANCE_HIGH;
        HrSetOneProp(lpMessage, &spvRead);
    }
    lpMessage->Release();
    return hRes;
}

// An advise sink, as a client implements one.
class CAdviseSink : public IMAPIAdviseSink {
  public:
    STDMETHODIMP QueryInterface(REFIID riid, LPVOID* ppvObj) override {
        if (riid == IID_IUnknown || riid == IID_IMAPIAdviseSink) {
            *ppvObj = this;
            AddRef();
            return S_OK;
        }
        *ppvObj = NULL;
        return E_NOINTERFACE;
    }
    STDMETHODIMP_(ULONG) AddRef() override { return ++m_cRef; }
    STDMETHODIMP_(ULONG) Release() override {
        ULONG cRef = --m_cRef;
        if (cRef == 0) delete this;
        return cRef;
    }
    STDMETHODIMP_(ULONG) OnNotify(ULONG cNotif, LPNOTIFICATION lpNotifications) override {
        for (ULONG i = 0; i < cNotif; i++) {
            if (lpNotifications[i].ulEventType == fnevNewMail) ++m_cNewMail;
            if (lpNotifications[i].ulEventType == fnevTableModified &&
                lpNotifications[i].info.tab.ulTableEvent == TABLE_ROW_ADDED)
                ++m_cRowsAdded;
        }
        return 0;
    }
    virtual ~CAdviseSink() = default;

  private:
    ULONG m_cRef = 1;
    ULONG m_cNewMail = 0;
    ULONG m_cRowsAdded = 0;
};

// The whole sample: initialise, profile, logon, walk, create, log off.
int RunSample() {
    MAPIINIT_0 MAPIINIT = {MAPI_INIT_VERSION, MAPI_MULTITHREAD_NOTIFICATIONS};
    HRESULT hRes = MAPIInitialize(&MAPIINIT);
    if (FAILED(hRes)) return 1;

    LPMAPISESSION lpSession = NULL;
    LPMDB lpMDB = NULL;
    LPMAPIFOLDER lpRoot = NULL;
    hRes = CreateProfileWithPst(L"/tmp/sample.pst");
    if (SUCCEEDED(hRes))
        hRes = MAPILogonEx(0, (LPTSTR)L"pstkit sample", NULL,
                           MAPI_EXTENDED | MAPI_NEW_SESSION | MAPI_EXPLICIT_PROFILE | MAPI_NO_MAIL | MAPI_UNICODE,
                           &lpSession);
    if (SUCCEEDED(hRes)) hRes = OpenDefaultStore(lpSession, &lpMDB);

    ULONG_PTR ulConnection = 0;
    CAdviseSink* lpSink = new CAdviseSink();
    if (SUCCEEDED(hRes))
        lpMDB->Advise(0, NULL, fnevNewMail | fnevObjectCreated | fnevObjectModified, lpSink, &ulConnection);

    ULONG ulObjType = 0;
    LPSPropValue lpSubtree = NULL;
    if (SUCCEEDED(hRes)) hRes = HrGetOneProp(lpMDB, PR_IPM_SUBTREE_ENTRYID, &lpSubtree);
    if (SUCCEEDED(hRes))
        hRes = lpMDB->OpenEntry(lpSubtree->Value.bin.cb, (LPENTRYID)lpSubtree->Value.bin.lpb, NULL,
                                MAPI_BEST_ACCESS, &ulObjType, (LPUNKNOWN*)&lpRoot);
    MAPIFreeBuffer(lpSubtree);
    if (SUCCEEDED(hRes)) hRes = WalkFolder(lpRoot, 0);

    LPMAPIFOLDER lpNew = NULL;
    if (SUCCEEDED(hRes))
        hRes = lpRoot->CreateFolder(FOLDER_GENERIC, (LPTSTR)L"Sample", (LPTSTR)L"Created by the sample", NULL,
                                    OPEN_IF_EXISTS | MAPI_UNICODE, &lpNew);
    if (SUCCEEDED(hRes)) hRes = CreateMailItem(lpNew);
    if (lpNew) lpNew->Release();

    // The message received in the Inbox.
    ULONG cbInbox = 0;
    LPENTRYID lpInboxEid = NULL;
    LPTSTR lpszExplicitClass = NULL;
    if (SUCCEEDED(hRes) &&
        SUCCEEDED(lpMDB->GetReceiveFolder((LPTSTR)L"IPM.Note", MAPI_UNICODE, &cbInbox, &lpInboxEid,
                                          &lpszExplicitClass))) {
        MAPIFreeBuffer(lpInboxEid);
        MAPIFreeBuffer(lpszExplicitClass);
    }

    if (lpRoot) lpRoot->Release();
    if (lpMDB) {
        if (ulConnection) lpMDB->Unadvise(ulConnection);
        ULONG ulLogoffFlags = LOGOFF_ORDERLY;
        lpMDB->StoreLogoff(&ulLogoffFlags);
        lpMDB->Release();
    }
    lpSink->Release();

    // Fast shutdown, as MFCMAPI does it (mapi-and-scanpst-notes.md §B).
    if (lpSession) {
        LPMAPICLIENTSHUTDOWN lpShutdown = NULL;
        if (SUCCEEDED(lpSession->QueryInterface(IID_IMAPIClientShutdown, (LPVOID*)&lpShutdown))) {
            if (SUCCEEDED(lpShutdown->QueryFastShutdown())) {
                lpShutdown->NotifyProcessShutdown();
                lpShutdown->DoFastShutdown();
            }
            lpShutdown->Release();
        }
        lpSession->Logoff(0, MAPI_LOGOFF_UI, 0);
        lpSession->Release();
    }

    LPPROFADMIN lpProfAdmin = NULL;
    if (SUCCEEDED(MAPIAdminProfiles(0, &lpProfAdmin))) {
        lpProfAdmin->DeleteProfile((LPTSTR)L"pstkit sample", MAPI_UNICODE);
        lpProfAdmin->Release();
    }
    MAPIUninitialize();
    return SUCCEEDED(hRes) ? 0 : 1;
}

}  // namespace sample
