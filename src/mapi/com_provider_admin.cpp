// IProviderAdmin (iprovideradminiunknown.md, iprovideradmin-*.md): the
// providers of one message service, over ProfileStore. What AdminProviders
// returns and what a service entry point receives (msgserviceentry.md).
#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include "mapi/com_admin.h"
#include "mapi/com_object.h"

namespace pstkit::mapi::capi {

namespace {

class ComProviderAdmin final : public ComObject<ComProviderAdmin, IProviderAdmin, IID_IProviderAdmin> {
 public:
  ComProviderAdmin(ProfileStore store, std::string profile, MapiUid service, ULONG_PTR ui_param, bool allow_ui)
      : store_(std::move(store)), profile_(std::move(profile)), service_(service), ui_param_(ui_param),
        allow_ui_(allow_ui) {}

  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    return last_.get(hResult, ulFlags, lppMAPIError);
  }

  // iprovideradmin-getprovidertable.md: the service's providers.
  STDMETHODIMP GetProviderTable(ULONG ulFlags, LPMAPITABLE* lppTable) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    if (lppTable == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppTable = nullptr;
    return provider_table(store_, profile_, &service_, ulFlags, lppTable, last_);
  }

  // iprovideradmin-createprovider.md: lpszProvider names a provider section
  // of the catalog (mapisvc.inf); lpProps are set over its properties.
  STDMETHODIMP CreateProvider(LPTSTR lpszProvider, ULONG cValues, LPSPropValue lpProps, ULONG_PTR,
                              ULONG ulFlags, MAPIUID* lpUID) override {
    if (ulFlags & ~(MAPI_UNICODE | MAPI_DIALOG)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpszProvider == nullptr || lpUID == nullptr || (cValues != 0 && lpProps == nullptr))
      return MAPI_E_INVALID_PARAMETER;
    std::vector<SectionProp> props;
    for (ULONG i = 0; i < cValues; ++i) {
      SectionProp value;
      if (HRESULT hr = section_prop_from_mapi(lpProps[i], &value); hr != S_OK)
        return last_.set(hr, "property " + tag_display_name(lpProps[i].ulPropTag) + " cannot be kept in a profile");
      props.push_back(std::move(value));
    }
    auto catalog = load_catalog(nullptr);
    if (!catalog.is_ok()) return fail(catalog.status());
    auto uid = store_.create_provider(profile_, service_, tstring_arg(lpszProvider, ulFlags), catalog.value(), props);
    if (!uid.is_ok()) return fail(uid.status());
    // msgserviceentry.md, MSG_SERVICE_PROVIDER_CREATE: a third-party service
    // is told (with the new PR_PROVIDER_UID first, then the caller's values)
    // and may refuse (MAPI_E_NO_SUPPORT...): the provider is removed again.
    // Not while its own entry point is the caller.
    if (!in_service_entry()) {
      std::vector<SPropValue> values(lpProps, lpProps + cValues);
      SPropValue uid_prop{};
      uid_prop.ulPropTag = tags::kProviderUid;
      uid_prop.Value.bin.cb = ULONG(uid.value().size());
      uid_prop.Value.bin.lpb = uid.value().data();
      values.insert(values.begin(), uid_prop);
      std::string detail;
      HRESULT hr = call_service_entry(store_, profile_, service_, ui_param_, ulFlags & MAPI_UNICODE,
                                      kMsgServiceProviderCreate, ULONG(values.size()), values.data(), allow_ui_,
                                      &detail);
      if (FAILED(hr)) {
        (void)store_.delete_provider(profile_, uid.value());
        return last_.set(hr, detail);
      }
    }
    std::copy(uid.value().begin(), uid.value().end(), lpUID->ab);
    return S_OK;
  }

  // iprovideradmin-deleteprovider.md: only a provider of this service.
  STDMETHODIMP DeleteProvider(LPMAPIUID lpUID) override {
    if (lpUID == nullptr) return MAPI_E_INVALID_PARAMETER;
    auto profile = store_.get_profile(profile_);
    if (!profile.is_ok()) return fail(profile.status());
    const MessageService* service = profile.value().find_service(service_);
    const MapiUid uid = to_uid(*lpUID);
    bool ours = false;
    if (service != nullptr) {
      for (const Provider& p : service->providers) ours = ours || p.uid == uid;
    }
    if (!ours) return last_.set(MAPI_E_NOT_FOUND, "no such provider in the service");
    // MSG_SERVICE_PROVIDER_DELETE: the service is told first (lpProps:
    // PR_PROVIDER_UID) and may refuse; not while its own entry point calls.
    if (!in_service_entry()) {
      SPropValue uid_prop{};
      uid_prop.ulPropTag = tags::kProviderUid;
      uid_prop.Value.bin.cb = ULONG(sizeof lpUID->ab);
      uid_prop.Value.bin.lpb = lpUID->ab;
      std::string detail;
      HRESULT hr = call_service_entry(store_, profile_, service_, ui_param_, 0, kMsgServiceProviderDelete, 1,
                                      &uid_prop, allow_ui_, &detail);
      if (FAILED(hr)) return last_.set(hr, detail);
    }
    return fail(store_.delete_provider(profile_, uid));
  }

  // iprovideradmin-openprofilesection.md: the service's section and its
  // providers' sections.
  STDMETHODIMP OpenProfileSection(LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags,
                                  LPPROFSECT* lppProfSect) override {
    SectionScope scope;
    scope.service = &service_;
    HRESULT hr = open_profile_section(store_, profile_, lpUID, lpInterface, ulFlags, scope, lppProfSect);
    return FAILED(hr) ? last_.set(hr, "cannot open the profile section") : hr;
  }

 private:
  HRESULT fail(const Status& s) {
    if (s.is_ok()) return S_OK;
    return last_.set(profile_error(s), s.message());
  }

  ProfileStore store_;
  std::string profile_;
  MapiUid service_;
  ULONG_PTR ui_param_;
  bool allow_ui_;
  LastError last_;
};

}  // namespace

HRESULT create_provider_admin(const ProfileStore& store, const std::string& profile, const MapiUid& service,
                              ULONG_PTR ui_param, bool allow_ui, LPPROVIDERADMIN* out) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  auto* admin = new (std::nothrow) ComProviderAdmin(store, profile, service, ui_param, allow_ui);
  if (admin == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  *out = admin;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
