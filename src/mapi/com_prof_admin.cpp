// MAPIAdminProfiles (mapiadminprofiles.md) and IProfAdmin
// (iprofadminiunknown.md, iprofadmin-*.md) over ProfileStore, and the
// helpers every administration object shares (com_admin.h).
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "mapi/capi_runtime.h"
#include "mapi/com_admin.h"
#include "mapi/com_object.h"

namespace pstkit::mapi::capi {

// ---- shared helpers --------------------------------------------------------

std::string tstring_arg(const void* s, ULONG ulFlags, bool* was_null) {
  if (was_null != nullptr) *was_null = s == nullptr;
  if (s == nullptr) return {};
  if (ulFlags & MAPI_UNICODE) return utf8_from_wide(static_cast<const wchar_t*>(s));
  return std::string(static_cast<const char*>(s));
}

HRESULT profile_error(const Status& status, HRESULT exists) {
  switch (error_kind(status)) {
    case ErrorKind::kOk: return S_OK;
    case ErrorKind::kNotFound: return MAPI_E_NOT_FOUND;
    case ErrorKind::kExists: return exists;
    case ErrorKind::kInvalid: return MAPI_E_INVALID_PARAMETER;
    case ErrorKind::kCorrupt: return MAPI_E_CORRUPT_DATA;
    case ErrorKind::kBusy: return MAPI_E_BUSY;
    case ErrorKind::kIo: return MAPI_E_DISK_ERROR;
    case ErrorKind::kUnsupported: return MAPI_E_NO_SUPPORT;
  }
  return MAPI_E_CALL_FAILED;
}

MapiUid to_uid(const MAPIUID& uid) {
  MapiUid out{};
  std::memcpy(out.data(), uid.ab, out.size());
  return out;
}

// ---- IProfAdmin -------------------------------------------------------------

namespace {

constexpr uint16_t kIdDisplayName = 0x3001;     // PR_DISPLAY_NAME
constexpr ULONG kDefaultProfile = 0x3D04000B;  // PR_DEFAULT_PROFILE

// iprofadmin-copyprofile.md names MAPI_E_ACCESS_DENIED, which no MAPI
// header defines: the access-denied code is E_ACCESSDENIED, MAPI_E_NO_ACCESS.
constexpr HRESULT kAccessDenied = MAPI_E_NO_ACCESS;

class ComProfAdmin final : public ComObject<ComProfAdmin, IProfAdmin, IID_IProfAdmin> {
 public:
  explicit ComProfAdmin(ProfileStore store) : store_(std::move(store)) {}

  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    return last_.get(hResult, ulFlags, lppMAPIError);
  }

  // iprofadmin-getprofiletable.md: two columns; deleted and delete-pending
  // profiles are left out, "app" profiles unless MAPI_APP_PROFILE. Static.
  STDMETHODIMP GetProfileTable(ULONG ulFlags, LPMAPITABLE* lppTable) override {
    if (ulFlags & ~(MAPI_UNICODE | MAPI_APP_PROFILE)) return MAPI_E_UNKNOWN_FLAGS;
    if (lppTable == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppTable = nullptr;
    auto file = store_.read();
    if (!file.is_ok()) return fail(file.status());
    std::vector<std::vector<TableCell>> rows;
    for (const Profile& p : file.value().profiles) {
      if (p.delete_pending) continue;
      if (p.app_profile && !(ulFlags & MAPI_APP_PROFILE)) continue;
      rows.push_back({string_cell(kIdDisplayName, p.name, ulFlags),
                      bool_cell(kDefaultProfile, same_profile_name(p.name, file.value().default_profile))});
    }
    const ULONG name_tag = PROP_TAG(string_type(ulFlags), kIdDisplayName);
    return make_static_table({name_tag, kDefaultProfile}, std::move(rows), lppTable);
  }

  // iprofadmin-createprofile.md. MAPI_DEFAULT_SERVICES adds the catalog's
  // [Default Services] and runs their entry points with MSG_SERVICE_CREATE;
  // if one fails the profile is removed again and its error returned.
  STDMETHODIMP CreateProfile(LPTSTR lpszProfileName, LPTSTR lpszPassword, ULONG_PTR ulUIParam,
                             ULONG ulFlags) override {
    if (ulFlags & ~(MAPI_UNICODE | MAPI_DEFAULT_SERVICES | MAPI_DIALOG | MAPI_APP_PROFILE))
      return MAPI_E_UNKNOWN_FLAGS;
    if (lpszProfileName == nullptr) return last_.set(MAPI_E_INVALID_PARAMETER, "no profile name");
    const std::string name = tstring_arg(lpszProfileName, ulFlags);
    const std::string password = tstring_arg(lpszPassword, ulFlags);
    if (Status s = check_profile_name(name); !s.is_ok()) return fail(s);
    // "The lpszPassword parameter must be NULL or a pointer to a zero-length string."
    if (!password.empty()) return last_.set(MAPI_E_INVALID_PARAMETER, "profiles have no password");
    Catalog catalog;
    if (ulFlags & MAPI_DEFAULT_SERVICES) {
      auto loaded = load_catalog(nullptr);
      if (!loaded.is_ok()) return fail(loaded.status());
      catalog = std::move(loaded.value());
    }
    if (Status s = store_.create_profile(name, "", (ulFlags & MAPI_APP_PROFILE) != 0); !s.is_ok())
      return fail(s, MAPI_E_NO_ACCESS);
    if (!(ulFlags & MAPI_DEFAULT_SERVICES)) return S_OK;
    const bool ui = (ulFlags & MAPI_DIALOG) != 0;
    for (const std::string& service_name : catalog.default_services) {
      const CatalogService* service = catalog.find(service_name);
      if (service == nullptr) continue;  // the parser reported it
      auto uid = store_.create_service(name, service_name, service->display_name, catalog);
      HRESULT hr = uid.is_ok() ? S_OK : profile_error(uid.status());
      std::string detail = uid.is_ok() ? "" : uid.status().message();
      if (hr == S_OK) {
        hr = call_service_entry(store_, name, uid.value(), ulUIParam, ui ? SERVICE_UI_ALLOWED : 0,
                                kMsgServiceCreate, 0, nullptr, ui, &detail);
      }
      if (FAILED(hr)) {
        (void)store_.delete_profile(name);
        return last_.set(hr, "default service " + service_name + ": " + detail);
      }
    }
    return S_OK;
  }

  // iprofadmin-deleteprofile.md: deferred while in use (ProfileUse); each
  // service's entry point runs with MSG_SERVICE_DELETE first.
  STDMETHODIMP DeleteProfile(LPTSTR lpszProfileName, ULONG ulFlags) override {
    if (ulFlags & ~(MAPI_UNICODE | MAPI_APP_PROFILE)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpszProfileName == nullptr) return last_.set(MAPI_E_INVALID_PARAMETER, "no profile name");
    const std::string name = tstring_arg(lpszProfileName, ulFlags);
    auto profile = store_.get_profile(name);
    if (!profile.is_ok()) return fail(profile.status());
    if (profile.value().app_profile && !(ulFlags & MAPI_APP_PROFILE))
      return last_.set(MAPI_E_NO_ACCESS, "an app profile needs MAPI_APP_PROFILE");
    for (const MessageService& service : profile.value().services) {
      std::string detail;
      (void)call_service_entry(store_, name, service.uid, 0, 0, kMsgServiceDelete, 0, nullptr, false, &detail);
    }
    return fail(store_.delete_profile(name));
  }

  // iprofadmin-changeprofilepassword.md: "If this method is called, it will
  // return S_OK. However, no action will be taken."
  STDMETHODIMP ChangeProfilePassword(LPTSTR, LPTSTR, LPTSTR, ULONG ulFlags) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    return S_OK;
  }

  // iprofadmin-copyprofile.md: MAPI_E_ACCESS_DENIED when the new name is
  // taken; an app profile needs MAPI_APP_PROFILE. Profiles have no password,
  // so none is asked for.
  STDMETHODIMP CopyProfile(LPTSTR lpszOldProfileName, LPTSTR, LPTSTR lpszNewProfileName, ULONG_PTR,
                           ULONG ulFlags) override {
    if (ulFlags & ~(MAPI_UNICODE | MAPI_DIALOG | MAPI_APP_PROFILE)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpszOldProfileName == nullptr || lpszNewProfileName == nullptr)
      return last_.set(MAPI_E_INVALID_PARAMETER, "no profile name");
    const std::string from = tstring_arg(lpszOldProfileName, ulFlags);
    const std::string to = tstring_arg(lpszNewProfileName, ulFlags);
    if (HRESULT hr = check_app(from, ulFlags); hr != S_OK) return hr;
    if (Status s = check_profile_name(to); !s.is_ok()) return fail(s);
    return fail(store_.copy_profile(from, to), kAccessDenied);
  }

  // iprofadmin-renameprofile.md: deferred while in use. A taken new name is
  // MAPI_E_ACCESS_DENIED, as for CopyProfile (the page names no code).
  STDMETHODIMP RenameProfile(LPTSTR lpszOldProfileName, LPTSTR, LPTSTR lpszNewProfileName, ULONG_PTR,
                             ULONG ulFlags) override {
    if (ulFlags & ~(MAPI_UNICODE | MAPI_DIALOG | MAPI_APP_PROFILE)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpszOldProfileName == nullptr || lpszNewProfileName == nullptr)
      return last_.set(MAPI_E_INVALID_PARAMETER, "no profile name");
    const std::string from = tstring_arg(lpszOldProfileName, ulFlags);
    const std::string to = tstring_arg(lpszNewProfileName, ulFlags);
    if (HRESULT hr = check_app(from, ulFlags); hr != S_OK) return hr;
    if (Status s = check_profile_name(to); !s.is_ok()) return fail(s);
    return fail(store_.rename_profile(from, to), kAccessDenied);
  }

  // iprofadmin-setdefaultprofile.md: NULL clears; an app profile cannot be
  // the default (E_FAIL).
  STDMETHODIMP SetDefaultProfile(LPTSTR lpszProfileName, ULONG ulFlags) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    const std::string name = tstring_arg(lpszProfileName, ulFlags);
    if (lpszProfileName != nullptr) {
      auto profile = store_.get_profile(name);
      if (!profile.is_ok()) return fail(profile.status());
      if (profile.value().app_profile) return last_.set(E_FAIL, "an app profile cannot be the default");
    }
    return fail(store_.set_default_profile(lpszProfileName == nullptr ? std::string() : name));
  }

  // iprofadmin-adminservices.md: MAPI_E_LOGON_FAILED for a profile that does
  // not exist.
  STDMETHODIMP AdminServices(LPTSTR lpszProfileName, LPTSTR lpszPassword, ULONG_PTR ulUIParam, ULONG ulFlags,
                             LPSERVICEADMIN* lppServiceAdmin) override {
    if (ulFlags & ~(MAPI_UNICODE | MAPI_DIALOG)) return MAPI_E_UNKNOWN_FLAGS;
    if (lppServiceAdmin == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppServiceAdmin = nullptr;
    if (lpszProfileName == nullptr) return last_.set(MAPI_E_INVALID_PARAMETER, "no profile name");
    if (!tstring_arg(lpszPassword, ulFlags).empty())
      return last_.set(MAPI_E_LOGON_FAILED, "profiles have no password");
    const std::string name = tstring_arg(lpszProfileName, ulFlags);
    HRESULT hr = create_service_admin(store_, name, ulUIParam, (ulFlags & MAPI_DIALOG) != 0, lppServiceAdmin);
    if (FAILED(hr)) return last_.set(hr, "cannot administer profile \"" + name + "\"");
    return hr;
  }

 private:
  HRESULT check_app(const std::string& name, ULONG ulFlags) {
    auto profile = store_.get_profile(name);
    if (!profile.is_ok()) return fail(profile.status());
    if (profile.value().app_profile && !(ulFlags & MAPI_APP_PROFILE))
      return last_.set(MAPI_E_NO_ACCESS, "an app profile needs MAPI_APP_PROFILE");
    return S_OK;
  }
  HRESULT fail(const Status& s, HRESULT exists = MAPI_E_NO_ACCESS) {
    if (s.is_ok()) return S_OK;
    return last_.set(profile_error(s, exists), s.message());
  }

  ProfileStore store_;
  LastError last_;
};

}  // namespace

}  // namespace pstkit::mapi::capi

using namespace pstkit::mapi;

// mapiadminprofiles.md. The page documents no flag; any is
// MAPI_E_UNKNOWN_FLAGS. The store is $PSTKIT_PROFILE_DIR or the XDG
// default (mapi_profiles.h).
STDAPI MAPIAdminProfiles(ULONG ulFlags, LPPROFADMIN* lppProfAdmin) {
  if (!capi::runtime_initialized()) return MAPI_E_NOT_INITIALIZED;
  if (lppProfAdmin == nullptr) return MAPI_E_INVALID_PARAMETER;
  *lppProfAdmin = nullptr;
  if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
  auto store = ProfileStore::open_default();
  if (!store.is_ok()) return capi::profile_error(store.status());
  auto* admin = new (std::nothrow) capi::ComProfAdmin(std::move(store.value()));
  if (admin == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  *lppProfAdmin = admin;
  return S_OK;
}
