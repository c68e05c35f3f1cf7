// The profile administration objects of pstkit's MAPI runtime: IProfAdmin
// (MAPIAdminProfiles), IMsgServiceAdmin, IProviderAdmin and IProfSect, COM
// objects over the profile core (pstkit/mapi_profiles.h). Internal to
// src/mapi; docs/MAPI.md "Profile administration: the COM objects".
//
// Every object holds a copy of the ProfileStore (a directory name; no lock
// is held between calls) and the profile's name, and reads the profile file
// afresh at every call, so several objects, threads and processes may
// administer the same profiles at once (the core serialises the updates).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "mapi/capi_convert.h"
#include "mapi/com_admin_table.h"
#include "mapi/last_error.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_profiles.h"

// OpenProfileSection (imsgserviceadmin-openprofilesection.md); the page
// gives no value, this is the one of Microsoft's published MAPIDefS.h.
#ifndef MAPI_FORCE_ACCESS
#define MAPI_FORCE_ACCESS ((ULONG)0x00080000)
#endif

namespace pstkit::mapi::capi {

// ---------------------------------------------------------------------------
// For IMAPISession (src/mapi/session*.cpp).

// IMAPISession::AdminServices (imapisession-adminservices.md): a new
// IMsgServiceAdmin (reference count 1) over `profile` in `store`.
// `ui_param` is passed to the UI callback (mapi_ui.h) and to service entry
// points; `allow_ui` says whether the caller's flags allowed UI (the session
// passes true when it was logged on with MAPI_LOGON_UI). *out is null on
// failure: MAPI_E_INVALID_PARAMETER (null out), MAPI_E_LOGON_FAILED (no such
// profile), MAPI_E_NOT_ENOUGH_MEMORY, or the store's error.
HRESULT create_service_admin(const ProfileStore& store, const std::string& profile, ULONG_PTR ui_param,
                             bool allow_ui, LPSERVICEADMIN* out);

// Which sections an OpenProfileSection may open.
struct SectionScope {
  // Not null (IProviderAdmin): only this service's section and its
  // providers' sections (others are MAPI_E_NOT_FOUND).
  const MapiUid* service = nullptr;
  // True (IMsgServiceAdmin): a provider's section needs MAPI_FORCE_ACCESS,
  // else MAPI_E_NO_ACCESS (imsgserviceadmin-openprofilesection.md).
  bool provider_sections_need_force = false;
};

// IMAPISession::OpenProfileSection, IMsgServiceAdmin::OpenProfileSection and
// IProviderAdmin::OpenProfileSection (imapisession-openprofilesection.md):
// the section `uid` of `profile` as an IProfSect (reference count 1).
//   lpUID null, out null: MAPI_E_INVALID_PARAMETER.
//   lpInterface: null, IID_IProfSect, IID_IMAPIProp or IID_IUnknown, else
//     MAPI_E_INTERFACE_NOT_SUPPORTED.
//   ulFlags: MAPI_DEFERRED_ERRORS, MAPI_MODIFY, MAPI_FORCE_ACCESS, else
//     MAPI_E_UNKNOWN_FLAGS. Without MAPI_MODIFY the section is read-only
//     (SetProps, DeleteProps: MAPI_E_NO_ACCESS).
// MAPI_E_NOT_FOUND for a UID that names no section of the profile (pstkit
// keeps only service and provider sections: a new section cannot be made by
// opening an unknown UID with MAPI_MODIFY; docs/MAPI.md). The session passes
// SectionScope{} (every section of its profile).
HRESULT open_profile_section(const ProfileStore& store, const std::string& profile, const MAPIUID* lpUID,
                             LPCIID lpInterface, ULONG ulFlags, SectionScope scope, LPPROFSECT* out);

// ---------------------------------------------------------------------------
// Shared by the administration objects.

// IProviderAdmin over the providers of one service (AdminProviders, and what
// a service entry point receives).
HRESULT create_provider_admin(const ProfileStore& store, const std::string& profile, const MapiUid& service,
                              ULONG_PTR ui_param, bool allow_ui, LPPROVIDERADMIN* out);

// The provider table (provider-tables.md: the required columns) of the
// profile, or of one service when `service` is not null; a failure is
// recorded in `last`.
HRESULT provider_table(const ProfileStore& store, const std::string& profile, const MapiUid* service,
                       ULONG ulFlags, LPMAPITABLE* out, LastError& last);


// An LPTSTR argument as UTF-8: wchar_t* when ulFlags has MAPI_UNICODE, else
// char*. A null pointer is "" (and *was_null true when asked).
std::string tstring_arg(const void* s, ULONG ulFlags, bool* was_null = nullptr);

// The MAPI code of a core profile Status (mapi_profiles.h error_kind), with
// `exists` for kExists (the method pages differ).
HRESULT profile_error(const Status& status, HRESULT exists = MAPI_E_NO_ACCESS);

// A MAPIUID <-> the core's MapiUid.
MapiUid to_uid(const MAPIUID& uid);
// A profile-section value from MAPI (the types mapi_profiles.h keeps:
// PT_LONG, PT_BOOLEAN, PT_STRING8, PT_UNICODE, PT_SYSTIME, PT_BINARY,
// PT_MV_STRING8, PT_MV_UNICODE). MAPI_E_INVALID_TYPE for another type,
// MAPI_E_INVALID_PARAMETER for a null pointer with a non-zero count.
HRESULT section_prop_from_mapi(const SPropValue& in, SectionProp* out);
// A value into `out`, its memory from MAPIAllocateMore(parent). `as_type`
// is the string type wanted for PT_STRING8/PT_UNICODE values (and their
// multi-valued forms); 0 keeps the stored type.
HRESULT section_prop_to_mapi(const SectionProp& in, uint16_t as_type, void* parent, SPropValue* out);

// Message service entry points (msgserviceentry.md) of services that name a
// shared library in the catalog (PR_SERVICE_DLL_NAME). Values of ulContext:
// Microsoft's published MAPISPI.h (mapi-and-scanpst-notes.md).
inline constexpr ULONG kMsgServiceInstall = 1;          // MSG_SERVICE_INSTALL
inline constexpr ULONG kMsgServiceCreate = 2;           // MSG_SERVICE_CREATE
inline constexpr ULONG kMsgServiceConfigure = 3;        // MSG_SERVICE_CONFIGURE
inline constexpr ULONG kMsgServiceDelete = 4;           // MSG_SERVICE_DELETE
inline constexpr ULONG kMsgServiceUninstall = 5;        // MSG_SERVICE_UNINSTALL
inline constexpr ULONG kMsgServiceProviderCreate = 6;   // MSG_SERVICE_PROVIDER_CREATE
inline constexpr ULONG kMsgServiceProviderDelete = 7;   // MSG_SERVICE_PROVIDER_DELETE

// The MSGSERVICEENTRY prototype. pstkit has no IMAPISupport yet: lpMAPISup
// is passed as null (docs/MAPI.md).
using MsgServiceEntry = HRESULT(STDAPICALLTYPE*)(HINSTANCE hInstance, LPMALLOC lpMalloc, void* lpMAPISup,
                                                 ULONG_PTR ulUIParam, ULONG ulFlags, ULONG ulContext,
                                                 ULONG cValues, LPSPropValue lpProps,
                                                 LPPROVIDERADMIN lpProviderAdmin, LPMAPIERROR* lppMapiError);

// Calls the entry point of service `service` of `profile` if its catalog
// entry names a shared library (dlopen'ed once, never closed), with
// `ulContext`, flags and properties; S_OK at once for pstkit's own services.
// A library or symbol that cannot be loaded is MAPI_E_NOT_INITIALIZED
// (imsgserviceadmin-configuremsgservice.md: "the message service does not
// have an entry point function"). A MAPIERROR the entry point returns is
// copied into *detail and freed.
// True while this thread runs a service entry point (call_service_entry):
// IProviderAdmin calls an entry point makes do not call it again.
bool in_service_entry();

HRESULT call_service_entry(const ProfileStore& store, const std::string& profile, const MapiUid& service,
                           ULONG_PTR ui_param, ULONG ulFlags, ULONG ulContext, ULONG cValues,
                           LPSPropValue lpProps, bool allow_ui, std::string* detail);

}  // namespace pstkit::mapi::capi
