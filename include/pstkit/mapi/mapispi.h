// mapispi.h: the service provider interface, as far as the runtime loads
// providers: the provider objects a provider library's entry point returns
// (IMSProvider, IABProvider, IXPProvider) and the entry points themselves
// (MSProviderInit, ABProviderInit, XPProviderInit).
//
// Written for pstkit from Microsoft's Outlook MAPI reference
// (msproviderinit.md, abproviderinit.md, xpproviderinit.md,
// imsprovideriunknown.md, iabprovideriunknown.md, ixpprovideriunknown.md and
// their method pages). iabprovideriunknown.md lists Logon before Shutdown
// under "Vtable order"; every other provider interface, and the binaries
// providers are built to, have Shutdown first, so this header does too.
//
// IMAPISupport (imapisupportiunknown.md) and IMSLogon (imslogoniunknown.md)
// are declared in their documented vtable order, so a store provider
// written against Microsoft's headers compiles unchanged: pstkit logs store
// providers on through IMSProvider::Logon (docs/MAPI.md "Store providers
// from libraries"). IABLogon and IXPLogon are declared only by name:
// address book and transport providers are loaded but not logged on.
#ifndef PSTKIT_MAPI_MAPISPI_H
#define PSTKIT_MAPI_MAPISPI_H

#include "mapidefs.h"
#include "mapicode.h"
#include "mapiguid.h"

// implementing-a-service-provider-entry-point-function.md: the SPI version
// MAPI passes as ulMAPIVer and a provider returns in *lpulProviderVer.
#define CURRENT_SPI_VERSION ((ULONG)0x00010010)

struct IMAPISupport;
struct IMSLogon;
struct IABLogon;
struct IXPLogon;
typedef IMAPISupport FAR* LPMAPISUP;
typedef IMSLogon FAR* LPMSLOGON;
typedef IABLogon FAR* LPABLOGON;
typedef IXPLogon FAR* LPXPLOGON;

// The types IMAPISupport's methods name that the other headers do not
// define. ADRPARM (the common address dialog) is only named: pstkit has no
// address book UI, and its support object answers Address with
// MAPI_E_NO_SUPPORT.
struct IStorage;
typedef IStorage FAR* LPSTORAGE;
struct _ADRPARM;
typedef struct _ADRPARM FAR* LPADRPARM;
typedef void(STDAPICALLTYPE DISMISSMODELESS)(ULONG_PTR ulUIParam, LPVOID lpvContext);
typedef DISMISSMODELESS FAR* LPFNDISMISS;
typedef SCODE(STDMETHODCALLTYPE FAR* LPFNBUTTON)(ULONG_PTR ulUIParam, LPVOID lpvContext, ULONG cbEntryID,
                                                 LPENTRYID lpSelection, ULONG ulFlags);

// notifkey.md: the key of an advise source for IMAPISupport::Subscribe.
typedef struct {
    ULONG cb;
    BYTE ab[MAPI_DIM];
} NOTIFKEY, FAR* LPNOTIFKEY;
#define CbNewNOTIFKEY(_cb) (offsetof(NOTIFKEY, ab) + (_cb))

// imapisupport-notify.md: *lpulFlags on return.
#define NOTIFY_CANCELED ((ULONG)0x80000000)
// imapisupport-subscribe.md
#define NOTIFY_SYNC ((ULONG)0x40000000)
// notifcallback.md: what a provider's synchronous callback returns to stop
// the notification (Notify then reports NOTIFY_CANCELED).
#define CALLBACK_DISCONTINUE ((ULONG)0x80000000)
// imapisupport-modifystatusrow.md
#define STATUSROW_UPDATE ((ULONG)0x10000000)

// ---- IMAPISupport (imapisupportiunknown.md) ----------------------------------
struct IMAPISupport : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPISupport)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(GetMemAllocRoutines)(LPALLOCATEBUFFER FAR* lppAllocateBuffer, LPALLOCATEMORE FAR* lppAllocateMore,
                                    LPFREEBUFFER FAR* lppFreeBuffer) PURE;
    MAPIMETHOD(Subscribe)(LPNOTIFKEY lpKey, ULONG ulEventMask, ULONG ulFlags, LPMAPIADVISESINK lpAdviseSink,
                          ULONG_PTR FAR* lpulConnection) PURE;
    MAPIMETHOD(Unsubscribe)(ULONG_PTR ulConnection) PURE;
    MAPIMETHOD(Notify)(LPNOTIFKEY lpKey, ULONG cNotification, LPNOTIFICATION lpNotifications,
                       ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(ModifyStatusRow)(ULONG cValues, LPSPropValue lpColumnVals, ULONG ulFlags) PURE;
    MAPIMETHOD(OpenProfileSection)(LPMAPIUID lpUid, ULONG ulFlags, LPPROFSECT FAR* lppProfileObj) PURE;
    MAPIMETHOD(RegisterPreprocessor)(LPMAPIUID lpMuid, LPSTR lpszAdrType, LPSTR lpszDLLName, LPSTR lpszPreprocess,
                                     LPSTR lpszRemovePreprocessInfo, ULONG ulFlags) PURE;
    MAPIMETHOD(NewUID)(LPMAPIUID lpMuid) PURE;
    MAPIMETHOD(MakeInvalid)(ULONG ulFlags, LPVOID lpObject, ULONG ulRefCount, ULONG cMethods) PURE;
    MAPIMETHOD(SpoolerYield)(ULONG ulFlags) PURE;
    MAPIMETHOD(SpoolerNotify)(ULONG ulFlags, LPVOID lpvData) PURE;
    MAPIMETHOD(CreateOneOff)(LPSTR lpszName, LPSTR lpszAdrType, LPSTR lpszAddress, ULONG ulFlags,
                             ULONG FAR* lpcbEntryID, LPENTRYID FAR* lppEntryID) PURE;
    MAPIMETHOD(SetProviderUID)(LPMAPIUID lpProviderID, ULONG ulFlags) PURE;
    MAPIMETHOD(CompareEntryIDs)(ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                                ULONG ulFlags, ULONG FAR* lpulResult) PURE;
    MAPIMETHOD(OpenTemplateID)(ULONG cbTemplateID, LPENTRYID lpTemplateID, ULONG ulTemplateFlags,
                               LPMAPIPROP lpMAPIPropData, LPCIID lpInterface, LPMAPIPROP FAR* lppMAPIPropNew,
                               LPMAPIPROP lpMAPIPropSibling) PURE;
    MAPIMETHOD(OpenEntry)(ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulOpenFlags,
                          ULONG FAR* lpulObjType, LPUNKNOWN FAR* lppUnk) PURE;
    MAPIMETHOD(GetOneOffTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(Address)(ULONG_PTR FAR* lpulUIParam, LPADRPARM lpAdrParms, LPADRLIST FAR* lppAdrList) PURE;
    MAPIMETHOD(Details)(ULONG_PTR FAR* lpulUIParam, LPFNDISMISS lpfnDismiss, LPVOID lpvDismissContext,
                        ULONG cbEntryID, LPENTRYID lpEntryID, LPFNBUTTON lpfButtonCallback, LPVOID lpvButtonContext,
                        LPSTR lpszButtonText, ULONG ulFlags) PURE;
    MAPIMETHOD(NewEntry)(ULONG_PTR ulUIParam, ULONG ulFlags, ULONG cbEIDContainer, LPENTRYID lpEIDContainer,
                         ULONG cbEIDNewEntryTpl, LPENTRYID lpEIDNewEntryTpl, ULONG FAR* lpcbEIDNewEntry,
                         LPENTRYID FAR* lppEIDNewEntry) PURE;
    MAPIMETHOD(DoConfigPropsheet)(ULONG_PTR ulUIParam, ULONG ulFlags, LPSTR lpszTitle, LPMAPITABLE lpDisplayTable,
                                  LPMAPIPROP lpConfigData, ULONG ulTopPage) PURE;
    MAPIMETHOD(CopyMessages)(LPCIID lpSrcInterface, LPVOID lpSrcFolder, LPENTRYLIST lpMsgList,
                             LPCIID lpDestInterface, LPVOID lpDestFolder, ULONG_PTR ulUIParam,
                             LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
    MAPIMETHOD(CopyFolder)(LPCIID lpSrcInterface, LPVOID lpSrcFolder, ULONG cbEntryID, LPENTRYID lpEntryID,
                           LPCIID lpInterface, LPVOID lpDestFolder, LPSTR lpszNewFolderName, ULONG_PTR ulUIParam,
                           LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
    MAPIMETHOD(DoCopyTo)(LPCIID lpSrcInterface, LPVOID lpSrcObj, ULONG ciidExclude, LPCIID rgiidExclude,
                         LPSPropTagArray lpExcludeProps, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress,
                         LPCIID lpDestInterface, LPVOID lpDestObj, ULONG ulFlags,
                         LPSPropProblemArray FAR* lppProblems) PURE;
    MAPIMETHOD(DoCopyProps)(LPCIID lpSrcInterface, LPVOID lpSrcObj, LPSPropTagArray lpIncludeProps,
                            ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, LPCIID lpDestInterface, LPVOID lpDestObj,
                            ULONG ulFlags, LPSPropProblemArray FAR* lppProblems) PURE;
    MAPIMETHOD(DoProgressDialog)(ULONG_PTR ulUIParam, ULONG ulFlags, LPMAPIPROGRESS FAR* lppProgress) PURE;
    MAPIMETHOD(ReadReceipt)(ULONG ulFlags, LPMESSAGE lpReadMessage, LPMESSAGE FAR* lppEmptyMessage) PURE;
    MAPIMETHOD(PrepareSubmit)(LPMESSAGE lpMessage, ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(ExpandRecips)(LPMESSAGE lpMessage, ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(DoSentMail)(ULONG ulFlags, LPMESSAGE lpMessage) PURE;
    MAPIMETHOD(OpenAddressBook)(LPCIID lpInterface, ULONG ulFlags, LPADRBOOK FAR* lppAdrBook) PURE;
    MAPIMETHOD(CompleteMsg)(ULONG ulFlags, ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
    MAPIMETHOD(StoreLogoffTransports)(ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(StatusRecips)(LPMESSAGE lpMessage, LPADRLIST lpRecipList) PURE;
    MAPIMETHOD(WrapStoreEntryID)(ULONG cbOrigEntry, LPENTRYID lpOrigEntry, ULONG FAR* lpcbWrappedEntry,
                                 LPENTRYID FAR* lppWrappedEntry) PURE;
    MAPIMETHOD(ModifyProfile)(ULONG ulFlags) PURE;
    MAPIMETHOD(IStorageFromStream)(LPUNKNOWN lpUnkIn, LPCIID lpInterface, ULONG ulFlags,
                                   LPSTORAGE FAR* lppStorageOut) PURE;
    MAPIMETHOD(GetSvcConfigSupportObj)(ULONG ulFlags, LPMAPISUP FAR* lppSvcSupport) PURE;
};

// ---- IMSLogon (imslogoniunknown.md) -------------------------------------------
struct IMSLogon : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMSLogon)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(Logoff)(ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(OpenEntry)(ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulOpenFlags,
                          ULONG FAR* lpulObjType, LPUNKNOWN FAR* lppUnk) PURE;
    MAPIMETHOD(CompareEntryIDs)(ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                                ULONG ulFlags, ULONG FAR* lpulResult) PURE;
    MAPIMETHOD(Advise)(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink,
                       ULONG_PTR FAR* lpulConnection) PURE;
    MAPIMETHOD(Unadvise)(ULONG_PTR ulConnection) PURE;
    MAPIMETHOD(OpenStatusEntry)(LPCIID lpInterface, ULONG ulFlags, ULONG FAR* lpulObjType, LPVOID FAR* lppEntry) PURE;
};

// ---- IMSProvider (imsprovideriunknown.md) -----------------------------------
struct IMSProvider : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMSProvider)
    MAPIMETHOD(Shutdown)(ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(Logon)(LPMAPISUP lpMAPISup, ULONG_PTR ulUIParam, LPSTR lpszProfileName, ULONG cbEntryID,
                      LPENTRYID lpEntryID, ULONG ulFlags, LPCIID lpInterface, ULONG FAR* lpcbSpoolSecurity,
                      LPBYTE FAR* lppbSpoolSecurity, LPMAPIERROR FAR* lppMAPIError, LPMSLOGON FAR* lppMSLogon,
                      LPMDB FAR* lppMDB) PURE;
    MAPIMETHOD(SpoolerLogon)(LPMAPISUP lpMAPISup, ULONG_PTR ulUIParam, LPSTR lpszProfileName, ULONG cbEntryID,
                             LPENTRYID lpEntryID, ULONG ulFlags, LPCIID lpInterface, ULONG cbSpoolSecurity,
                             LPBYTE lpbSpoolSecurity, LPMAPIERROR FAR* lppMAPIError, LPMSLOGON FAR* lppMSLogon,
                             LPMDB FAR* lppMDB) PURE;
    MAPIMETHOD(CompareStoreIDs)(ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                                ULONG ulFlags, ULONG FAR* lpulResult) PURE;
};
typedef IMSProvider FAR* LPMSPROVIDER;

// ---- IABProvider (iabprovideriunknown.md) -----------------------------------
struct IABProvider : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IABProvider)
    MAPIMETHOD(Shutdown)(ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(Logon)(LPMAPISUP lpMAPISup, ULONG_PTR ulUIParam, LPSTR lpszProfileName, ULONG ulFlags,
                      ULONG FAR* lpulcbSecurity, LPBYTE FAR* lppbSecurity, LPMAPIERROR FAR* lppMAPIError,
                      LPABLOGON FAR* lppABLogon) PURE;
};
typedef IABProvider FAR* LPABPROVIDER;

// ---- IXPProvider (ixpprovideriunknown.md) -----------------------------------
struct IXPProvider : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IXPProvider)
    MAPIMETHOD(Shutdown)(ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(TransportLogon)(LPMAPISUP lpMAPISup, ULONG_PTR ulUIParam, LPSTR lpszProfileName,
                               ULONG FAR* lpulFlags, LPMAPIERROR FAR* lppMAPIError, LPXPLOGON FAR* lppXPLogon) PURE;
};
typedef IXPProvider FAR* LPXPPROVIDER;

// ---- Entry points (msproviderinit.md, abproviderinit.md, xpproviderinit.md)
// A provider library exports the one of its kind under this name, with C
// linkage; MAPI calls it once per session that logs the provider on.
typedef HRESULT(STDAPICALLTYPE MSPROVIDERINIT)(HINSTANCE hInstance, LPMALLOC lpMalloc,
                                               LPALLOCATEBUFFER lpAllocateBuffer, LPALLOCATEMORE lpAllocateMore,
                                               LPFREEBUFFER lpFreeBuffer, ULONG ulFlags, ULONG ulMAPIVer,
                                               ULONG FAR* lpulProviderVer, LPMSPROVIDER FAR* lppMSProvider);
typedef HRESULT(STDAPICALLTYPE ABPROVIDERINIT)(HINSTANCE hInstance, LPMALLOC lpMalloc,
                                               LPALLOCATEBUFFER lpAllocateBuffer, LPALLOCATEMORE lpAllocateMore,
                                               LPFREEBUFFER lpFreeBuffer, ULONG ulFlags, ULONG ulMAPIVer,
                                               ULONG FAR* lpulProviderVer, LPABPROVIDER FAR* lppABProvider);
typedef HRESULT(STDAPICALLTYPE XPPROVIDERINIT)(HINSTANCE hInstance, LPMALLOC lpMalloc,
                                               LPALLOCATEBUFFER lpAllocateBuffer, LPALLOCATEMORE lpAllocateMore,
                                               LPFREEBUFFER lpFreeBuffer, ULONG ulFlags, ULONG ulMAPIVer,
                                               ULONG FAR* lpulProviderVer, LPXPPROVIDER FAR* lppXPProvider);

#endif  // PSTKIT_MAPI_MAPISPI_H
