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
// The logon objects (IMSLogon, IABLogon, IXPLogon) and IMAPISupport are
// declared only by name: pstkit's runtime loads providers and asks them
// about fast shutdown (docs/MAPI.md "Fast shutdown") but does not log them
// on to stores, address books or transports.
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
