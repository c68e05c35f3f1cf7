// mapix.h: Extended MAPI: initialisation, logon, memory, sessions and
// profile administration (IMAPISession, IProfAdmin, IMsgServiceAdmin,
// IProviderAdmin).
//
// Written for pstkit from Microsoft's Outlook MAPI reference
// (docs/outlook/mapi/<page>.md, named beside each group); see mapidefs.h.
//
// libpstkit defines MAPIInitialize, MAPIUninitialize, MAPIAllocateBuffer,
// MAPIAllocateMore, MAPIFreeBuffer, MAPIGetDefaultMalloc,
// MAPIAdminProfiles, MAPILogonEx and the objects they return. Declared but
// not defined yet: MAPICrashRecovery (issue 10; docs/MAPI.md).
#ifndef PSTKIT_MAPI_MAPIX_H
#define PSTKIT_MAPI_MAPIX_H

#include "mapidefs.h"
#include "mapicode.h"
#include "mapiguid.h"
#include "mapitags.h"

// ---- MAPIInitialize (mapiinitialize.md, mapiinit_0.md) -------------------
typedef struct {
    ULONG ulVersion;
    ULONG ulFlags;
} MAPIINIT_0, FAR* LPMAPIINIT_0;
typedef MAPIINIT_0 MAPIINIT;
typedef MAPIINIT FAR* LPMAPIINIT;
#define MAPI_INIT_VERSION 0
#define MAPI_MULTITHREAD_NOTIFICATIONS ((ULONG)0x00000001)
#define MAPI_NO_COINIT ((ULONG)0x00000008)
// MAPI_NT_SERVICE (0x00010000) is in mapidefs.h.

// ---- MAPILogonEx flags (mapilogonex.md; mapi-constants.md for BG_SESSION) -
#define MAPI_LOGON_UI ((ULONG)0x00000001)
#define MAPI_NEW_SESSION ((ULONG)0x00000002)
#define MAPI_APP_PROFILE ((ULONG)0x00000004)
#define MAPI_ALLOW_OTHERS ((ULONG)0x00000008)
#define MAPI_EXPLICIT_PROFILE ((ULONG)0x00000010)
#define MAPI_EXTENDED ((ULONG)0x00000020)
#define MAPI_FORCE_DOWNLOAD ((ULONG)0x00001000)
#define MAPI_SERVICE_UI_ALWAYS ((ULONG)0x00002000)
#define MAPI_NO_MAIL ((ULONG)0x00008000)
#define MAPI_PASSWORD_UI ((ULONG)0x00020000)
#define MAPI_TIMEOUT_SHORT ((ULONG)0x00100000)
#define MAPI_BG_SESSION ((ULONG)0x00200000)
// MAPI_USE_DEFAULT, MAPI_NT_SERVICE, MAPI_UNICODE are in mapidefs.h.
#define MAPI_SIMPLE_DEFAULT (MAPI_LOGON_UI | MAPI_FORCE_DOWNLOAD | MAPI_ALLOW_OTHERS)
#define MAPI_SIMPLE_EXPLICIT (MAPI_NEW_SESSION | MAPI_FORCE_DOWNLOAD | MAPI_EXPLICIT_PROFILE)

// ---- IMAPISession (imapisessioniunknown.md) -------------------------------
// Logoff (imapisession-logoff.md).
#define MAPI_LOGOFF_SHARED ((ULONG)0x00000001)
#define MAPI_LOGOFF_UI ((ULONG)0x00000002)
// SetDefaultStore (imapisession-setdefaultstore.md).
#define MAPI_DEFAULT_STORE ((ULONG)0x00000001)
#define MAPI_SIMPLE_STORE_TEMPORARY ((ULONG)0x00000002)
#define MAPI_SIMPLE_STORE_PERMANENT ((ULONG)0x00000003)
#define MAPI_PRIMARY_STORE ((ULONG)0x00000004)
#define MAPI_SECONDARY_STORE ((ULONG)0x00000005)
// ShowForm.
#define MAPI_POST_MESSAGE ((ULONG)0x00000001)
#define MAPI_NEW_MESSAGE ((ULONG)0x00000002)

struct IMAPISession;
struct IProfAdmin;
struct IMsgServiceAdmin;
struct IProviderAdmin;
typedef IMAPISession FAR* LPMAPISESSION;
typedef IProfAdmin FAR* LPPROFADMIN;
typedef IMsgServiceAdmin FAR* LPSERVICEADMIN;
typedef IProviderAdmin FAR* LPPROVIDERADMIN;

struct IMAPISession : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPISession)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(GetMsgStoresTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(OpenMsgStore)(ULONG_PTR ulUIParam, ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface,
                             ULONG ulFlags, LPMDB FAR* lppMDB) PURE;
    MAPIMETHOD(OpenAddressBook)(ULONG_PTR ulUIParam, LPCIID lpInterface, ULONG ulFlags,
                                LPADRBOOK FAR* lppAdrBook) PURE;
    MAPIMETHOD(OpenProfileSection)(LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags,
                                   LPPROFSECT FAR* lppProfSect) PURE;
    MAPIMETHOD(GetStatusTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(OpenEntry)(ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags,
                          ULONG FAR* lpulObjType, LPUNKNOWN FAR* lppUnk) PURE;
    MAPIMETHOD(CompareEntryIDs)(ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2,
                                LPENTRYID lpEntryID2, ULONG ulFlags, ULONG FAR* lpulResult) PURE;
    // imapisession-advise.md prints lpulConnection as ULONG_PTR; it is the
    // [out] pointer its text describes.
    MAPIMETHOD(Advise)(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask,
                       LPMAPIADVISESINK lpAdviseSink, ULONG_PTR FAR* lpulConnection) PURE;
    MAPIMETHOD(Unadvise)(ULONG_PTR ulConnection) PURE;
    // "Not supported or documented" (imapisessioniunknown.md); the slots
    // stay so that the methods after them keep their vtable positions.
    MAPIMETHOD(MessageOptions)(ULONG_PTR ulUIParam, ULONG ulFlags, LPTSTR lpszAdrType,
                               LPMESSAGE lpMessage) PURE;
    MAPIMETHOD(QueryDefaultMessageOpt)(LPTSTR lpszAdrType, ULONG ulFlags, ULONG FAR* lpcValues,
                                       LPSPropValue FAR* lppOptions) PURE;
    MAPIMETHOD(EnumAdrTypes)(ULONG ulFlags, ULONG FAR* lpcAdrTypes, LPTSTR FAR* FAR* lpppszAdrTypes) PURE;
    MAPIMETHOD(QueryIdentity)(ULONG FAR* lpcbEntryID, LPENTRYID FAR* lppEntryID) PURE;
    MAPIMETHOD(Logoff)(ULONG_PTR ulUIParam, ULONG ulFlags, ULONG ulReserved) PURE;
    MAPIMETHOD(SetDefaultStore)(ULONG ulFlags, ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
    MAPIMETHOD(AdminServices)(ULONG ulFlags, LPSERVICEADMIN FAR* lppServiceAdmin) PURE;
    MAPIMETHOD(ShowForm)(ULONG_PTR ulUIParam, LPMDB lpMsgStore, LPMAPIFOLDER lpParentFolder,
                         LPCIID lpInterface, ULONG ulMessageToken, LPMESSAGE lpMessageSent, ULONG ulFlags,
                         ULONG ulMessageStatus, ULONG ulMessageFlags, ULONG ulAccess,
                         LPSTR lpszMessageClass) PURE;
    MAPIMETHOD(PrepareForm)(LPCIID lpInterface, LPMESSAGE lpMessage, ULONG FAR* lpulMessageToken) PURE;
};

// ---- IProfAdmin (iprofadminiunknown.md) -----------------------------------
// CreateProfile (iprofadmin-createprofile.md); MAPI_DIALOG is in mapidefs.h.
#define MAPI_DEFAULT_SERVICES ((ULONG)0x00000001)

struct IProfAdmin : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IProfAdmin)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(GetProfileTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(CreateProfile)(LPTSTR lpszProfileName, LPTSTR lpszPassword, ULONG_PTR ulUIParam,
                              ULONG ulFlags) PURE;
    MAPIMETHOD(DeleteProfile)(LPTSTR lpszProfileName, ULONG ulFlags) PURE;
    MAPIMETHOD(ChangeProfilePassword)(LPTSTR lpszProfileName, LPTSTR lpszOldPassword,
                                      LPTSTR lpszNewPassword, ULONG ulFlags) PURE;
    MAPIMETHOD(CopyProfile)(LPTSTR lpszOldProfileName, LPTSTR lpszOldPassword, LPTSTR lpszNewProfileName,
                            ULONG_PTR ulUIParam, ULONG ulFlags) PURE;
    MAPIMETHOD(RenameProfile)(LPTSTR lpszOldProfileName, LPTSTR lpszOldPassword,
                              LPTSTR lpszNewProfileName, ULONG_PTR ulUIParam, ULONG ulFlags) PURE;
    MAPIMETHOD(SetDefaultProfile)(LPTSTR lpszProfileName, ULONG ulFlags) PURE;
    MAPIMETHOD(AdminServices)(LPTSTR lpszProfileName, LPTSTR lpszPassword, ULONG_PTR ulUIParam, ULONG ulFlags,
                              LPSERVICEADMIN FAR* lppServiceAdmin) PURE;
};

// ---- IMsgServiceAdmin (imsgserviceadminiunknown.md) -----------------------
// ConfigureMsgService (imsgserviceadmin-configuremsgservice.md).
#define SERVICE_UI_ALWAYS ((ULONG)0x00000002)
#define MSG_SERVICE_UI_READ_ONLY ((ULONG)0x00000008)
#define SERVICE_UI_ALLOWED ((ULONG)0x00000010)
#define SERVICE_LOGON_FAILED ((ULONG)0x00000020)
// IMsgServiceAdmin2::CreateMsgServiceEx (imsgserviceadmin2-createmsgserviceex.md).
#define SERVICE_NO_RESTART_WARNING ((ULONG)0x00000080)
// PR_RESOURCE_FLAGS of the message service table
// (pidtagresourceflags-canonical-property.md).
#define SERVICE_DEFAULT_STORE ((ULONG)0x00000001)
#define SERVICE_SINGLE_COPY ((ULONG)0x00000002)
#define SERVICE_CREATE_WITH_STORE ((ULONG)0x00000004)
#define SERVICE_PRIMARY_IDENTITY ((ULONG)0x00000008)
#define SERVICE_NO_PRIMARY_IDENTITY ((ULONG)0x00000020)
// PR_RESOURCE_FLAGS of the provider and status tables (same page).
#define STATUS_DEFAULT_OUTBOUND ((ULONG)0x00000001)
#define STATUS_DEFAULT_STORE ((ULONG)0x00000002)
#define STATUS_PRIMARY_IDENTITY ((ULONG)0x00000004)
#define STATUS_SIMPLE_STORE ((ULONG)0x00000008)
#define STATUS_XP_PREFER_LAST ((ULONG)0x00000010)
#define STATUS_NO_PRIMARY_IDENTITY ((ULONG)0x00000020)
#define STATUS_NO_DEFAULT_STORE ((ULONG)0x00000040)
#define STATUS_TEMP_SECTION ((ULONG)0x00000080)
#define STATUS_OWN_STORE ((ULONG)0x00000100)
#define HOOK_INBOUND ((ULONG)0x00000200)
#define HOOK_OUTBOUND ((ULONG)0x00000400)
#define STATUS_NEED_IPM_TREE ((ULONG)0x00000800)
#define STATUS_PRIMARY_STORE ((ULONG)0x00001000)
#define STATUS_SECONDARY_STORE ((ULONG)0x00002000)
// PR_RESOURCE_TYPE (pidtagresourcetype-canonical-property.md).
#define MAPI_STORE_PROVIDER ((ULONG)33)
#define MAPI_AB ((ULONG)34)
#define MAPI_AB_PROVIDER ((ULONG)35)
#define MAPI_TRANSPORT_PROVIDER ((ULONG)36)
#define MAPI_SPOOLER ((ULONG)37)
#define MAPI_PROFILE_PROVIDER ((ULONG)38)
#define MAPI_SUBSYSTEM ((ULONG)39)
#define MAPI_HOOK_PROVIDER ((ULONG)40)

struct IMsgServiceAdmin : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMsgServiceAdmin)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(GetMsgServiceTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(CreateMsgService)(LPTSTR lpszService, LPTSTR lpszDisplayName, ULONG_PTR ulUIParam,
                                 ULONG ulFlags) PURE;
    MAPIMETHOD(DeleteMsgService)(LPMAPIUID lpuid) PURE;
    MAPIMETHOD(CopyMsgService)(LPMAPIUID lpUID, LPTSTR lpszDisplayName, LPCIID lpInterfaceToCopy,
                               LPCIID lpInterfaceDst, LPVOID lpObjectDst, ULONG_PTR ulUIParam,
                               ULONG ulFlags) PURE;
    MAPIMETHOD(RenameMsgService)(LPMAPIUID lpUID, ULONG ulFlags, LPTSTR lpszDisplayName) PURE;
    MAPIMETHOD(ConfigureMsgService)(LPMAPIUID lpUID, ULONG_PTR ulUIParam, ULONG ulFlags, ULONG cValues,
                                    LPSPropValue lpProps) PURE;
    MAPIMETHOD(OpenProfileSection)(LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags,
                                   LPPROFSECT FAR* lppProfSect) PURE;
    MAPIMETHOD(MsgServiceTransportOrder)(ULONG cUID, LPMAPIUID lpUIDList, ULONG ulFlags) PURE;
    MAPIMETHOD(AdminProviders)(LPMAPIUID lpUID, ULONG ulFlags, LPPROVIDERADMIN FAR* lppProviderAdmin) PURE;
    MAPIMETHOD(SetPrimaryIdentity)(LPMAPIUID lpUID, ULONG ulFlags) PURE;
    MAPIMETHOD(GetProviderTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
};

// ---- IProviderAdmin (iprovideradminiunknown.md) ---------------------------
struct IProviderAdmin : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IProviderAdmin)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(GetProviderTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(CreateProvider)(LPTSTR lpszProvider, ULONG cValues, LPSPropValue lpProps, ULONG_PTR ulUIParam,
                               ULONG ulFlags, MAPIUID FAR* lpUID) PURE;
    MAPIMETHOD(DeleteProvider)(LPMAPIUID lpUID) PURE;
    MAPIMETHOD(OpenProfileSection)(LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags,
                                   LPPROFSECT FAR* lppProfSect) PURE;
};

// ---- Functions (declarations only; see the note at the top) ---------------
// mapiinitialize.md, mapiuninitialize.md
STDAPI MAPIInitialize(LPVOID lpMapiInit);
STDAPI_(void) MAPIUninitialize(void);
// mapilogonex.md: lpszProfileName/lpszPassword are LPTSTR (Unicode with MAPI_UNICODE).
STDAPI MAPILogonEx(ULONG_PTR ulUIParam, LPTSTR lpszProfileName, LPTSTR lpszPassword, FLAGS flFlags,
                   LPMAPISESSION FAR* lppSession);
// mapiadminprofiles.md
STDAPI MAPIAdminProfiles(ULONG ulFlags, LPPROFADMIN FAR* lppProfAdmin);
// mapiallocatebuffer.md, mapiallocatemore.md, mapifreebuffer.md
STDAPI_(SCODE) MAPIAllocateBuffer(ULONG cbSize, LPVOID FAR* lppBuffer);
STDAPI_(SCODE) MAPIAllocateMore(ULONG cbSize, LPVOID lpObject, LPVOID FAR* lppBuffer);
STDAPI_(ULONG) MAPIFreeBuffer(LPVOID lpBuffer);
// mapicrashrecovery.md: returns nothing. The MAPICRASH_* values are not
// published by Microsoft (mapi-and-scanpst-notes.md §A); pstkit defines them
// below the provider-reserved byte 0xFF000000. These are pstkit's values.
#define MAPICRASH_RECOVER ((ULONG)0x00000001)
#define MAPICRASH_CONTINUE ((ULONG)0x00000002)
#define MAPICRASH_SYSTEM_SHUTDOWN ((ULONG)0x00000004)
// Called from a signal handler it is async-signal-safe (docs/MAPI.md "Crash
// recovery"); its work is bounded by $PSTKIT_CRASH_RECOVERY_TIMEOUT seconds.
STDAPI_(void) MAPICrashRecovery(ULONG ulFlags);
// pstkit's own (Windows clients use an UnhandledExceptionFilter and
// WM_ENDSESSION): installs handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and
// SIGABRT that call MAPICrashRecovery(MAPICRASH_RECOVER), then (with
// PSTKIT_CRASH_HANDLERS_STOP) stop the process with SIGSTOP, then take the
// signal's default action; and for SIGTERM (system shutdown) one that calls
// MAPICrashRecovery(MAPICRASH_RECOVER | MAPICRASH_SYSTEM_SHUTDOWN) and ends
// the process. S_OK, MAPI_E_UNKNOWN_FLAGS or MAPI_E_CALL_FAILED.
#define PSTKIT_CRASH_HANDLERS_STOP ((ULONG)0x00000001)
STDAPI PstkitInstallCrashHandlers(ULONG ulFlags);
// mapigetdefaultmalloc.md
STDAPI_(LPMALLOC) MAPIGetDefaultMalloc(void);

#endif  // PSTKIT_MAPI_MAPIX_H
