// IMsgServiceAdmin (imsgserviceadminiunknown.md, imsgserviceadmin-*.md) over
// ProfileStore, and the message service entry points of third-party
// services (msgserviceentry.md) loaded with dlopen.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "mapi/com_admin.h"
#include "mapi/com_object.h"
#include "pstkit/mapi_ui.h"
#include "util/shared_library.h"

namespace pstkit::mapi::capi {

namespace {
// How many entry points this thread is inside (see in_service_entry).
thread_local int entry_depth = 0;
struct EntryCall {
  EntryCall() { ++entry_depth; }
  ~EntryCall() { --entry_depth; }
  EntryCall(const EntryCall&) = delete;
  EntryCall& operator=(const EntryCall&) = delete;
};
}  // namespace

bool in_service_entry() { return entry_depth > 0; }

HRESULT call_service_entry(const ProfileStore& store, const std::string& profile, const MapiUid& service,
                           ULONG_PTR ui_param, ULONG ulFlags, ULONG ulContext, ULONG cValues,
                           LPSPropValue lpProps, bool allow_ui, std::string* detail) {
  auto rows = store.service_table(profile);
  if (!rows.is_ok()) {
    *detail = rows.status().message();
    return profile_error(rows.status());
  }
  const ServiceRow* row = nullptr;
  for (const ServiceRow& r : rows.value()) {
    if (r.service_uid == service) row = &r;
  }
  if (row == nullptr) return MAPI_E_NOT_FOUND;
  if (row->dll_name.empty()) return S_OK;  // one of pstkit's own services
  std::string error;
  void* library = open_shared_library(row->dll_name.c_str(), &error);
  void* symbol = nullptr;
  const std::string entry = row->entry_name.empty() ? "MSGServiceEntry" : row->entry_name;
  if (library != nullptr) symbol = shared_library_symbol(library, entry.c_str(), &error);
  if (symbol == nullptr) {
    *detail = "service " + row->service_name + ": " + error;
    return MAPI_E_NOT_INITIALIZED;
  }
  LPPROVIDERADMIN provider_admin = nullptr;
  if (HRESULT hr = create_provider_admin(store, profile, service, ui_param, allow_ui, &provider_admin); FAILED(hr))
    return hr;
  auto entry_point = reinterpret_cast<MsgServiceEntry>(symbol);
  LPMAPIERROR error_info = nullptr;
  EntryCall inside;
  HRESULT hr = entry_point(static_cast<HINSTANCE>(library), MAPIGetDefaultMalloc(), nullptr, ui_param, ulFlags,
                           ulContext, cValues, lpProps, provider_admin, &error_info);
  provider_admin->Release();
  if (error_info != nullptr) {
    if (error_info->lpszError != nullptr) {
      *detail = (ulFlags & MAPI_UNICODE) ? utf8_from_wide(reinterpret_cast<const wchar_t*>(error_info->lpszError))
                                         : std::string(reinterpret_cast<const char*>(error_info->lpszError));
    }
    MAPIFreeBuffer(error_info);
  }
  if (FAILED(hr) && detail->empty()) *detail = "the entry point of service " + row->service_name + " failed";
  return hr;
}

namespace {

constexpr ULONG kInstanceKey = 0x0FF60102;      // PR_INSTANCE_KEY
constexpr ULONG kResourceFlags = 0x30090003;    // PR_RESOURCE_FLAGS
constexpr ULONG kServiceUid = 0x3D0C0102;       // PR_SERVICE_UID
constexpr ULONG kServiceEntryName = 0x3D0B001E; // PR_SERVICE_ENTRY_NAME (8-bit only)
constexpr ULONG kProviderUid = 0x300C0102;      // PR_PROVIDER_UID
constexpr ULONG kProviderOrdinal = 0x300D0003;  // PR_PROVIDER_ORDINAL
constexpr ULONG kResourceType = 0x3E030003;     // PR_RESOURCE_TYPE
constexpr uint16_t kIdDisplayName = 0x3001;
constexpr uint16_t kIdServiceName = 0x3D09;
constexpr uint16_t kIdServiceDllName = 0x3D0A;
constexpr uint16_t kIdServiceSupportFiles = 0x3D0F;
constexpr uint16_t kIdProviderDisplay = 0x3006;
constexpr uint16_t kIdProviderDllName = 0x300A;

TableCell uid_value(ULONG tag, const MapiUid& uid) { return binary_cell(tag, uid.data(), uid.size()); }

ULONG string_tag(uint16_t id, ULONG ulFlags, bool multi = false) {
  return PROP_TAG(string_type(ulFlags) | (multi ? MV_FLAG : 0), id);
}

bool is_pst_service(const std::string& name) { return name == "MSUPST MS" || name == "MSPST MS"; }

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

// The provider table rows (provider-tables.md), for IMsgServiceAdmin and
// IProviderAdmin.
HRESULT provider_table(const ProfileStore& store, const std::string& profile, const MapiUid* service,
                       ULONG ulFlags, LPMAPITABLE* out, LastError& last) {
  auto rows = store.provider_table(profile, service);
  if (!rows.is_ok()) return last.set(profile_error(rows.status()), rows.status().message());
  std::vector<std::vector<TableCell>> table;
  for (const ProviderRow& r : rows.value()) {
    table.push_back({uid_value(kInstanceKey, r.provider_uid), string_cell(kIdDisplayName, r.display_name, ulFlags),
                     string_cell(kIdProviderDisplay, r.provider_display, ulFlags),
                     string_cell(kIdProviderDllName, r.dll_name, ulFlags), long_cell(kProviderOrdinal, r.ordinal),
                     uid_value(kProviderUid, r.provider_uid), long_cell(kResourceFlags, int32_t(r.resource_flags)),
                     long_cell(kResourceType, int32_t(r.resource_type)),
                     string_cell(kIdServiceName, r.service_name, ulFlags), uid_value(kServiceUid, r.service_uid)});
  }
  return make_static_table({kInstanceKey, string_tag(kIdDisplayName, ulFlags), string_tag(kIdProviderDisplay, ulFlags),
                            string_tag(kIdProviderDllName, ulFlags), kProviderOrdinal, kProviderUid, kResourceFlags,
                            kResourceType, string_tag(kIdServiceName, ulFlags), kServiceUid},
                           std::move(table), out);
}

namespace {

class ComServiceAdmin final : public ComObject<ComServiceAdmin, IMsgServiceAdmin, IID_IMsgServiceAdmin> {
 public:
  ComServiceAdmin(ProfileStore store, std::string profile, ULONG_PTR ui_param, bool allow_ui)
      : store_(std::move(store)), profile_(std::move(profile)), ui_param_(ui_param), allow_ui_(allow_ui) {}

  const ProfileStore& store() const { return store_; }
  const std::string& profile() const { return profile_; }

  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    return last_.get(hResult, ulFlags, lppMAPIError);
  }

  // message-service-tables.md: the required columns; static.
  STDMETHODIMP GetMsgServiceTable(ULONG ulFlags, LPMAPITABLE* lppTable) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    if (lppTable == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppTable = nullptr;
    auto profile = store_.get_profile(profile_);
    if (!profile.is_ok()) return fail(profile.status());
    auto rows = store_.service_table(profile_);
    if (!rows.is_ok()) return fail(rows.status());
    std::vector<std::vector<TableCell>> table;
    for (const ServiceRow& r : rows.value()) {
      std::vector<TableCell> row{string_cell(kIdDisplayName, r.display_name, ulFlags),
                                 uid_value(kInstanceKey, r.service_uid),
                                 long_cell(kResourceFlags, int32_t(r.resource_flags)),
                                 string_cell(kIdServiceDllName, r.dll_name, ulFlags),
                                 string_cell(PROP_ID(kServiceEntryName), r.entry_name, 0),
                                 string_cell(kIdServiceName, r.service_name, ulFlags),
                                 uid_value(kServiceUid, r.service_uid)};
      const MessageService* service = profile.value().find_service(r.service_uid);
      const SectionProp* files = service ? service->props.find(kIdServiceSupportFiles) : nullptr;
      if (files != nullptr && std::holds_alternative<std::vector<std::string>>(files->value)) {
        TableCell names;
        names.tag = string_tag(kIdServiceSupportFiles, ulFlags, true);
        names.texts = std::get<std::vector<std::string>>(files->value);
        row.push_back(std::move(names));
      }
      table.push_back(std::move(row));
    }
    return make_static_table({string_tag(kIdDisplayName, ulFlags), kInstanceKey, kResourceFlags,
                              string_tag(kIdServiceDllName, ulFlags), kServiceEntryName,
                              string_tag(kIdServiceName, ulFlags), string_tag(kIdServiceSupportFiles, ulFlags, true),
                              kServiceUid},
                             std::move(table), lppTable);
  }

  // imsgserviceadmin-createmsgservice.md: the catalog's sections are copied
  // into the profile, then the entry point runs with MSG_SERVICE_CREATE. For
  // pstkit's PST services, SERVICE_UI_ALWAYS / SERVICE_UI_ALLOWED ask for
  // PR_PST_PATH through the UI callback (mapi_ui.h); a cancel removes the
  // service again (MAPI_E_USER_CANCEL). Without an answer the service stays
  // in the profile unconfigured, as Outlook leaves one created without UI.
  // Its display name is then set with ConfigureMsgService(PR_DISPLAY_NAME).
  STDMETHODIMP CreateMsgService(LPTSTR lpszService, LPTSTR lpszDisplayName, ULONG_PTR ulUIParam,
                                ULONG ulFlags) override {
    if (ulFlags & ~(MAPI_UNICODE | SERVICE_UI_ALWAYS | SERVICE_UI_ALLOWED | SERVICE_NO_RESTART_WARNING))
      return MAPI_E_UNKNOWN_FLAGS;
    if (lpszService == nullptr) return last_.set(MAPI_E_INVALID_PARAMETER, "no service name");
    const std::string name = tstring_arg(lpszService, ulFlags);
    std::string display = tstring_arg(lpszDisplayName, ulFlags);
    auto catalog = load_catalog(nullptr);
    if (!catalog.is_ok()) return fail(catalog.status());
    // "The lpszDisplayName parameter is ignored if the message service has
    // set the PR_DISPLAY_NAME property in the MapiSvc.inf file."
    if (const CatalogService* entry = catalog.value().find(name); entry != nullptr) {
      if (auto own = entry->props.get_string(prop_id(tags::kDisplayName)); own.has_value()) display = *own;
    }
    auto uid = store_.create_service(profile_, name, display, catalog.value());
    if (!uid.is_ok()) return fail(uid.status());
    const bool ui = (ulFlags & (SERVICE_UI_ALWAYS | SERVICE_UI_ALLOWED)) != 0;
    HRESULT hr = S_OK;
    std::string detail;
    if (ui && is_pst_service(name)) {
      hr = ask_pst_path(uid.value(), name, ulUIParam, "", &detail);
      if (hr == MAPI_E_UNCONFIGURED) hr = S_OK;  // no UI: left unconfigured
    } else {
      hr = call_service_entry(store_, profile_, uid.value(), ulUIParam, ulFlags & ~SERVICE_NO_RESTART_WARNING,
                              kMsgServiceCreate, 0, nullptr, ui, &detail);
    }
    if (FAILED(hr)) {
      (void)store_.delete_service(profile_, uid.value());
      return last_.set(hr, detail);
    }
    return S_OK;
  }

  // imsgserviceadmin-deletemsgservice.md: the entry point runs with
  // MSG_SERVICE_DELETE, then the service and its sections go.
  STDMETHODIMP DeleteMsgService(LPMAPIUID lpuid) override {
    if (lpuid == nullptr) return MAPI_E_INVALID_PARAMETER;
    const MapiUid uid = to_uid(*lpuid);
    std::string detail;
    HRESULT hr = call_service_entry(store_, profile_, uid, 0, 0, kMsgServiceDelete, 0, nullptr, false, &detail);
    if (hr == MAPI_E_NOT_FOUND) return last_.set(hr, "no such message service");
    return fail(store_.delete_service(profile_, uid));
  }

  // imsgserviceadmin-copymsgservice.md: into this profile or the one of the
  // destination (an IMsgServiceAdmin of pstkit, or an IMAPISession whose
  // AdminServices gives one); no entry point runs.
  STDMETHODIMP CopyMsgService(LPMAPIUID lpUID, LPTSTR, LPCIID lpInterfaceToCopy, LPCIID lpInterfaceDst,
                              LPVOID lpObjectDst, ULONG_PTR, ULONG ulFlags) override {
    if (ulFlags & ~SERVICE_UI_ALWAYS) return MAPI_E_UNKNOWN_FLAGS;
    if (lpUID == nullptr) return MAPI_E_INVALID_PARAMETER;
    if (lpInterfaceToCopy != nullptr && *lpInterfaceToCopy != IID_IProfSect) return MAPI_E_INTERFACE_NOT_SUPPORTED;
    std::string to_profile = profile_;
    if (lpObjectDst != nullptr) {
      HRESULT hr = destination_profile(lpInterfaceDst, lpObjectDst, &to_profile);
      if (hr != S_OK) return last_.set(hr, "the destination is not a pstkit session or service administration");
    }
    auto uid = store_.copy_service(profile_, to_uid(*lpUID), to_profile);
    return uid.is_ok() ? S_OK : fail(uid.status());
  }

  // imsgserviceadmin-renamemsgservice.md: "RenameMsgService always returns
  // this value."
  STDMETHODIMP RenameMsgService(LPMAPIUID, ULONG, LPTSTR) override { return MAPI_E_NO_SUPPORT; }

  // imsgserviceadmin-configuremsgservice.md. pstkit's PST services: the
  // values are checked and written by the core; PR_PST_PATH is required (UI
  // asks for it when allowed, else MAPI_E_UNCONFIGURED); a PST path that does
  // not exist yet becomes a new empty store of the service's format.
  // Third-party services: their entry point with MSG_SERVICE_CONFIGURE.
  STDMETHODIMP ConfigureMsgService(LPMAPIUID lpUID, ULONG_PTR ulUIParam, ULONG ulFlags, ULONG cValues,
                                   LPSPropValue lpProps) override {
    if (ulFlags & ~(MAPI_UNICODE | MSG_SERVICE_UI_READ_ONLY | SERVICE_UI_ALLOWED | SERVICE_UI_ALWAYS |
                    SERVICE_LOGON_FAILED))
      return MAPI_E_UNKNOWN_FLAGS;
    if (lpUID == nullptr || (cValues != 0 && lpProps == nullptr)) return MAPI_E_INVALID_PARAMETER;
    const MapiUid uid = to_uid(*lpUID);
    auto profile = store_.get_profile(profile_);
    if (!profile.is_ok()) return fail(profile.status());
    const MessageService* service = profile.value().find_service(uid);
    if (service == nullptr) return last_.set(MAPI_E_NOT_FOUND, "no such message service");
    std::vector<SectionProp> props;
    for (ULONG i = 0; i < cValues; ++i) {
      SectionProp value;
      if (HRESULT hr = section_prop_from_mapi(lpProps[i], &value); hr != S_OK)
        return last_.set(hr, "property " + tag_display_name(lpProps[i].ulPropTag) + " cannot be kept in a profile");
      props.push_back(std::move(value));
    }
    const bool ui_always = (ulFlags & SERVICE_UI_ALWAYS) != 0;
    const bool ui_allowed = ui_always || (ulFlags & (SERVICE_UI_ALLOWED | SERVICE_LOGON_FAILED)) != 0;
    if (!is_pst_service(service->name) && service->name != "PSTKIT OST") {
      std::string detail;
      HRESULT hr = call_service_entry(store_, profile_, uid, ulUIParam, ulFlags, kMsgServiceConfigure, cValues,
                                      lpProps, ui_allowed, &detail);
      return FAILED(hr) ? last_.set(hr, detail) : hr;
    }
    std::string path;
    for (const SectionProp& v : props) {
      if (prop_id(v.tag) == prop_id(tags::kPstPath) && std::holds_alternative<std::string>(v.value))
        path = std::get<std::string>(v.value);
    }
    if (path.empty()) path = service->props.get_string(prop_id(tags::kPstPath)).value_or("");
    if (!(ulFlags & MSG_SERVICE_UI_READ_ONLY) && (path.empty() ? ui_allowed : ui_always)) {
      bool cancelled = false;
      UiRequest request;
      request.kind = UiRequest::Kind::kServiceSetting;
      request.ui_param = ulUIParam;
      request.profile = profile_;
      request.service = service->display_name();
      request.property = "PR_PST_PATH";
      request.prompt = "Path of the Outlook data file for " + service->display_name();
      request.current = path;
      std::optional<std::string> answer = ask_ui(request, &cancelled);
      if (cancelled) return last_.set(MAPI_E_USER_CANCEL, "the user cancelled");
      if (answer.has_value() && !answer->empty()) {
        path = *answer;
        props.push_back(SectionProp::string_value(tags::kPstPath, path));
      }
    }
    if (path.empty()) return last_.set(MAPI_E_UNCONFIGURED, "PR_PST_PATH is required and no UI could ask for it");
    return configure_pst(uid, service->name, path, std::move(props));
  }

  // imsgserviceadmin-openprofilesection.md: a provider's section needs
  // MAPI_FORCE_ACCESS.
  STDMETHODIMP OpenProfileSection(LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags,
                                  LPPROFSECT* lppProfSect) override {
    SectionScope scope;
    scope.provider_sections_need_force = true;
    HRESULT hr = open_profile_section(store_, profile_, lpUID, lpInterface, ulFlags, scope, lppProfSect);
    return FAILED(hr) ? last_.set(hr, "cannot open the profile section") : hr;
  }

  // imsgserviceadmin-msgservicetransportorder.md: cUID must equal the
  // number of transport providers (MAPI_E_BUSY), each a transport of the
  // profile (MAPI_E_NOT_FOUND). pstkit's services have no transport, so a
  // profile of them has none: any non-empty list is MAPI_E_BUSY.
  STDMETHODIMP MsgServiceTransportOrder(ULONG cUID, LPMAPIUID lpUIDList, ULONG ulFlags) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (cUID != 0 && lpUIDList == nullptr) return MAPI_E_INVALID_PARAMETER;
    auto rows = store_.provider_table(profile_);
    if (!rows.is_ok()) return fail(rows.status());
    std::vector<MapiUid> transports;
    for (const ProviderRow& r : rows.value()) {
      if (r.resource_type == kMapiTransportProvider) transports.push_back(r.provider_uid);
    }
    if (cUID != transports.size())
      return last_.set(MAPI_E_BUSY, "the profile has " + std::to_string(transports.size()) + " transport providers");
    for (ULONG i = 0; i < cUID; ++i) {
      if (std::find(transports.begin(), transports.end(), to_uid(lpUIDList[i])) == transports.end())
        return last_.set(MAPI_E_NOT_FOUND, "not a transport provider of the profile");
    }
    // Record the order as each transport's PR_PROVIDER_ORDINAL.
    for (ULONG i = 0; i < cUID; ++i) {
      Status s = store_.set_section_props(profile_, to_uid(lpUIDList[i]),
                                          {SectionProp::long_value(tags::kProviderOrdinal, int32_t(i))});
      if (!s.is_ok()) return fail(s);
    }
    return S_OK;
  }

  STDMETHODIMP AdminProviders(LPMAPIUID lpUID, ULONG ulFlags, LPPROVIDERADMIN* lppProviderAdmin) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    if (lpUID == nullptr || lppProviderAdmin == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppProviderAdmin = nullptr;
    auto profile = store_.get_profile(profile_);
    if (!profile.is_ok()) return fail(profile.status());
    if (profile.value().find_service(to_uid(*lpUID)) == nullptr)
      return last_.set(MAPI_E_NOT_FOUND, "no such message service");
    return create_provider_admin(store_, profile_, to_uid(*lpUID), ui_param_, allow_ui_, lppProviderAdmin);
  }

  // imsgserviceadmin-setprimaryidentity.md: SERVICE_PRIMARY_IDENTITY on the
  // service, STATUS_PRIMARY_IDENTITY on its providers, cleared elsewhere;
  // NULL clears. MAPI_E_NO_ACCESS for a SERVICE_NO_PRIMARY_IDENTITY service.
  STDMETHODIMP SetPrimaryIdentity(LPMAPIUID lpUID, ULONG ulFlags) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    auto profile = store_.get_profile(profile_);
    if (!profile.is_ok()) return fail(profile.status());
    const MapiUid* chosen = nullptr;
    MapiUid uid{};
    if (lpUID != nullptr) {
      uid = to_uid(*lpUID);
      const MessageService* service = profile.value().find_service(uid);
      if (service == nullptr) return last_.set(MAPI_E_NOT_FOUND, "no such message service");
      if (service->resource_flags() & SERVICE_NO_PRIMARY_IDENTITY)
        return last_.set(MAPI_E_NO_ACCESS, "the service cannot supply the primary identity");
      chosen = &uid;
    }
    for (const MessageService& s : profile.value().services) {
      const bool primary = chosen != nullptr && s.uid == *chosen;
      uint32_t flags = s.resource_flags();
      flags = primary ? (flags | SERVICE_PRIMARY_IDENTITY) : (flags & ~uint32_t(SERVICE_PRIMARY_IDENTITY));
      if (flags != s.resource_flags()) {
        if (Status st = store_.set_section_props(profile_, s.uid, {SectionProp::long_value(tags::kResourceFlags, int32_t(flags))});
            !st.is_ok())
          return fail(st);
      }
      for (const Provider& p : s.providers) {
        const uint32_t old = uint32_t(p.props.get_long(prop_id(tags::kResourceFlags)).value_or(0));
        const uint32_t now = primary ? (old | STATUS_PRIMARY_IDENTITY) : (old & ~uint32_t(STATUS_PRIMARY_IDENTITY));
        if (now == old) continue;
        if (Status st = store_.set_section_props(profile_, p.uid, {SectionProp::long_value(tags::kResourceFlags, int32_t(now))});
            !st.is_ok())
          return fail(st);
      }
    }
    return S_OK;
  }

  STDMETHODIMP GetProviderTable(ULONG ulFlags, LPMAPITABLE* lppTable) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    if (lppTable == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppTable = nullptr;
    return provider_table(store_, profile_, nullptr, ulFlags, lppTable, last_);
  }

 private:
  HRESULT fail(const Status& s, HRESULT exists = MAPI_E_NO_ACCESS) {
    if (s.is_ok()) return S_OK;
    return last_.set(profile_error(s, exists), s.message());
  }

  // Asks for PR_PST_PATH and configures the service with it.
  HRESULT ask_pst_path(const MapiUid& uid, const std::string& service_name, ULONG_PTR ui_param,
                       const std::string& current, std::string* detail) {
    bool cancelled = false;
    UiRequest request;
    request.kind = UiRequest::Kind::kServiceSetting;
    request.ui_param = ui_param;
    request.profile = profile_;
    request.service = service_name;
    request.property = "PR_PST_PATH";
    request.prompt = "Path of the Outlook data file for " + service_name;
    request.current = current;
    std::optional<std::string> answer = ask_ui(request, &cancelled);
    if (cancelled) {
      *detail = "the user cancelled";
      return MAPI_E_USER_CANCEL;
    }
    if (!answer.has_value() || answer->empty()) {
      *detail = "no UI";
      return MAPI_E_UNCONFIGURED;
    }
    HRESULT hr = configure_pst(uid, service_name, *answer, {SectionProp::string_value(tags::kPstPath, *answer)});
    if (FAILED(hr)) *detail = "cannot use " + *answer;
    return hr;
  }

  // A PST path that does not exist yet is a new store, created as Outlook
  // creates one (PST_CONFIG_CREATE_NOWARN asks the core to create it:
  // Unicode for MSUPST MS, ANSI for MSPST MS).
  HRESULT configure_pst(const MapiUid& uid, const std::string& service_name, const std::string& path,
                        std::vector<SectionProp> props) {
    if (is_pst_service(service_name) && !path.empty() && !file_exists(path)) {
      bool found = false;
      for (SectionProp& v : props) {
        if (v.tag == tags::kPstConfigFlags) {
          v.value = int32_t(uint32_t(std::get<int32_t>(v.value)) | kPstConfigCreateNowarn);
          found = true;
        }
      }
      if (!found) props.push_back(SectionProp::long_value(tags::kPstConfigFlags, int32_t(kPstConfigCreateNowarn)));
    }
    auto result = store_.configure_service(profile_, uid, props);
    return result.is_ok() ? S_OK : fail(result.status());
  }

  // The profile behind a CopyMsgService destination.
  HRESULT destination_profile(LPCIID lpInterfaceDst, LPVOID lpObjectDst, std::string* profile) {
    LPSERVICEADMIN admin = nullptr;
    if (lpInterfaceDst != nullptr && *lpInterfaceDst == IID_IMsgServiceAdmin) {
      admin = static_cast<LPSERVICEADMIN>(lpObjectDst);
      admin->AddRef();
    } else if (lpInterfaceDst == nullptr || *lpInterfaceDst == IID_IMAPISession) {
      HRESULT hr = static_cast<LPMAPISESSION>(lpObjectDst)->AdminServices(0, &admin);
      if (FAILED(hr)) return hr;
    } else {
      return MAPI_E_INTERFACE_NOT_SUPPORTED;
    }
    auto* ours = dynamic_cast<ComServiceAdmin*>(admin);
    HRESULT hr = MAPI_E_INVALID_PARAMETER;
    if (ours != nullptr && ours->store().dir() == store_.dir()) {
      *profile = ours->profile();
      hr = S_OK;
    }
    admin->Release();
    return hr;
  }

  ProfileStore store_;
  std::string profile_;
  ULONG_PTR ui_param_;
  bool allow_ui_;
  LastError last_;
};

}  // namespace

HRESULT create_service_admin(const ProfileStore& store, const std::string& profile, ULONG_PTR ui_param,
                             bool allow_ui, LPSERVICEADMIN* out) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  auto p = store.get_profile(profile);
  if (!p.is_ok()) {
    return error_kind(p.status()) == ErrorKind::kNotFound ? MAPI_E_LOGON_FAILED : profile_error(p.status());
  }
  // The profile's own spelling of its name (names compare case-insensitively).
  auto* admin = new (std::nothrow) ComServiceAdmin(store, p.value().name, ui_param, allow_ui);
  if (admin == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  *out = admin;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
