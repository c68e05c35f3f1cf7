// MAPILogonEx (mapilogonex.md) and IMAPISession (imapisessioniunknown.md,
// imapisession-*.md) over the session core (pstkit/mapi_session.h).
//
// Every method checks its flags (MAPI_E_UNKNOWN_FLAGS) and pointers
// (MAPI_E_INVALID_PARAMETER) and, once the session has logged off, returns
// MAPI_E_END_OF_SESSION (imapisession-logoff.md: after Logoff only Release
// may be called). Stores are opened through the installed StoreOpener
// (session.h); stores the session opened for OpenEntry and Advise are kept
// until Logoff.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <unistd.h>

#include "mapi/capi_convert.h"
#include "mapi/capi_runtime.h"
#include "mapi/com_admin.h"
#include "mapi/com_object.h"
#include "mapi/com_status.h"
#include "mapi/com_table.h"
#include "mapi/crash_recovery.h"
#include "mapi/fast_shutdown.h"
#include "mapi/last_error.h"
#include "mapi/open_stores.h"
#include "mapi/pst_store.h"
#include "mapi/session.h"
#include "mapi/store_provider_logon.h"
#include "pstkit/mapi/mspst.h"

namespace pstkit::mapi::capi {
namespace {

struct Hooks {
  std::mutex mutex;
  StoreOpener store_opener;
  AdminServicesHook admin_services;
  ProfileSectionHook profile_section;
};
// The runtime's own objects answer unless a test installs others: the
// profile administration objects of com_admin.h over the profiles the
// session was logged on from (default_profile_dir()).
HRESULT default_admin_services(const std::string& profile, const std::string&, ULONG logon_flags,
                               LPSERVICEADMIN* out) {
  auto store = ProfileStore::open_default();
  if (!store) return profile_error(store.status());
  return create_service_admin(*store, profile, 0, (logon_flags & MAPI_LOGON_UI) != 0, out);
}

HRESULT default_profile_section(const std::string& profile, const std::string&, const MAPIUID& uid,
                                LPCIID interface_id, ULONG flags, LPPROFSECT* out) {
  auto store = ProfileStore::open_default();
  if (!store) return profile_error(store.status());
  return open_profile_section(*store, profile, &uid, interface_id, flags, SectionScope{}, out);
}

// OpenMsgStore of a PST or OST service: the PST provider (pst_store.h) on
// the file the service names. A store provider loaded from its library
// (MSProviderInit) opens its store in IMSProvider::Logon
// (store_provider_logon.h).
HRESULT default_store_opener(const StoreOpenRequest& request, LPMDB* out) {
  if (request.provider.logon.store_path.empty()) {
    std::string error;
    HRESULT hr = logon_library_store(request, out, &error);
    if (FAILED(hr) && request.error_detail != nullptr) *request.error_detail = std::move(error);
    return hr;
  }
  return open_pst_store(request.provider.logon.store_path, request.flags, out);
}

Hooks& hooks() {
  static Hooks* h = [] {
    auto* made = new Hooks;  // never destroyed: usable from static destructors
    made->store_opener = default_store_opener;
    made->admin_services = default_admin_services;
    made->profile_section = default_profile_section;
    return made;
  }();
  return *h;
}

template <typename T>
T copy_hook(T Hooks::*member) {
  auto& h = hooks();
  std::lock_guard lock(h.mutex);
  return h.*member;
}

Bytes le32(uint32_t v) { return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)}; }

PropTag string_tag(PropTag unicode_tag, bool wide) {
  return wide ? unicode_tag : change_prop_type(unicode_tag, kPtString8);
}
PropValue string_value(PropTag unicode_tag, bool wide, const std::string& s) {
  return wide ? PropValue::unicode(unicode_tag, s) : PropValue::string8(string_tag(unicode_tag, false), s);
}
constexpr PropTag kPrEntryId = 0x0FFF0102;
constexpr PropTag kPrRecordKey = 0x0FF90102;
constexpr PropTag kPrInstanceKey = 0x0FF60102;
constexpr PropTag kPrObjectType = 0x0FFE0003;
constexpr PropTag kPrDisplayNameW = 0x3001001F;
constexpr PropTag kPrProviderDisplayW = 0x3006001F;
constexpr PropTag kPrProviderDllNameW = 0x300A001F;
constexpr PropTag kPrResourceFlags = 0x30090003;
constexpr PropTag kPrResourceType = 0x3E030003;
constexpr PropTag kPrResourceMethods = 0x3E020003;
constexpr PropTag kPrStatusCode = 0x3E040003;
constexpr PropTag kPrStatusStringW = 0x3E08001F;
constexpr PropTag kPrRowId = 0x30000003;
constexpr PropTag kPrDefaultStore = 0x3400000B;
constexpr PropTag kPrMdbProvider = 0x34140102;
constexpr PropTag kPrServiceUid = 0x3D0C0102;
constexpr PropTag kPrProviderUid = 0x300C0102;
constexpr uint8_t kMspstUid[16] = MSPST_UID_PROVIDER;

// The state a session object shares with its MAPIUninitialize hook.
struct SessionState {
  std::mutex mutex;
  std::unique_ptr<Session> session;  // null once logged off
  std::atomic<HookToken> hook{0};  // the MAPIUninitialize hook, 0 once run or removed
  uint64_t listener = 0;
  std::map<Bytes, LPMDB> stores;  // by store entry ID, one reference each
  struct Connection {
    LPMDB store = nullptr;          // null: a session-level sink
    ULONG_PTR store_connection = 0;
    LPMAPIADVISESINK sink = nullptr;  // session-level: one reference
  };
  std::map<ULONG_PTR, Connection> connections;
  ULONG_PTR next_connection = 1;
  // Rows the session's store provider logons gave (ModifyStatusRow).
  std::shared_ptr<ProviderStatusRows> status_rows = std::make_shared<ProviderStatusRows>();

  // Logs off (idempotent): the stores' registrations are cancelled and the
  // stores and sinks released, outside the lock.
  void logoff(bool end_shared) {
    std::unique_ptr<Session> ending;
    std::map<Bytes, LPMDB> held;
    std::map<ULONG_PTR, Connection> conns;
    uint64_t listener_id = 0;
    {
      std::lock_guard lock(mutex);
      ending = std::move(session);
      held.swap(stores);
      conns.swap(connections);
      listener_id = listener;
    }
    for (auto& [id, c] : conns) {
      if (c.store != nullptr) c.store->Unadvise(c.store_connection);
      if (c.sink != nullptr) c.sink->Release();
    }
    for (auto& [id, s] : held) s->Release();
    if (ending) {
      ending->remove_listener(listener_id);
      ending->logoff(end_shared);
    }
  }

  // A session-level critical error (fnevCriticalError) to every session sink.
  void critical_error(int32_t scode) {
    std::vector<LPMAPIADVISESINK> sinks;
    {
      std::lock_guard lock(mutex);
      for (auto& [id, c] : connections)
        if (c.store == nullptr && c.sink != nullptr) {
          c.sink->AddRef();
          sinks.push_back(c.sink);
        }
    }
    for (auto* sink : sinks) {
      NOTIFICATION n;
      std::memset(&n, 0, sizeof n);
      n.ulEventType = fnevCriticalError;
      n.info.err.scode = scode;
      sink->OnNotify(1, &n);
      sink->Release();
    }
  }
};

// ---- the status table's rows and their entry IDs

// status-tables.md: "MAPI assigns an entry identifier to the status row to
// enable clients to open the corresponding status object". pstkit's form:
// abFlags (4 bytes, 0), the MAPIUID below (pstkit's own, naming status
// objects of this runtime), the row's kind, its ordinal among the rows of
// the same kind and key, then the key: the provider's UID for a provider's
// row, the data file's path (UTF-8) for a data file check, nothing for the
// MAPI subsystem and spooler. It names the same row in every GetStatusTable
// of the session, whatever the rows before it.
constexpr uint8_t kStatusEntryUid[16] = {0x4a, 0x5e, 0xfb, 0xa7, 0x92, 0x21, 0x45, 0x87,
                                         0xaa, 0x7a, 0xc5, 0x36, 0x3d, 0xd5, 0xef, 0xe6};
constexpr size_t kStatusEntryHead = 4 + 16 + 2;
enum class StatusKind : uint8_t { kSubsystem = 1, kSpooler = 2, kProvider = 3, kDataFileCheck = 4 };

Bytes status_entry_id(StatusKind kind, uint8_t ordinal, ByteView key) {
  Bytes id(kStatusEntryHead, 0);
  std::copy(std::begin(kStatusEntryUid), std::end(kStatusEntryUid), id.begin() + 4);
  id[20] = uint8_t(kind);
  id[21] = ordinal;
  id.insert(id.end(), key.data(), key.data() + key.size());
  return id;
}

// abFlags[0] may carry the short-term bits a client sets (entryid.md); the
// other flag bytes are 0.
bool is_status_entry_id(ByteView id) {
  if (id.size() < kStatusEntryHead) return false;
  if (id.data()[1] != 0 || id.data()[2] != 0 || id.data()[3] != 0) return false;
  return std::equal(std::begin(kStatusEntryUid), std::end(kStatusEntryUid), id.data() + 4);
}

bool same_entry_id_but_flags(ByteView a, ByteView b) {
  return a.size() == b.size() && a.size() >= 4 && std::equal(a.data() + 1, a.data() + a.size(), b.data() + 1);
}

struct StatusRow {
  Bytes entry_id;
  StatusKind kind = StatusKind::kSubsystem;
  ProviderUid provider_uid{};  // kProvider
  std::vector<PropValue> values;
};

bool session_ended(SessionState& state) {
  if (fast_shutdown_done()) return true;  // after DoFastShutdown no MAPI call succeeds
  std::lock_guard lock(state.mutex);
  return !state.session || state.session->ended();
}

// imapisession-getstatustable.md: one row for the MAPI subsystem, one for
// the spooler (STATUS_FAILURE under MAPI_NO_MAIL, mapilogonex.md) and one
// per provider; a disabled provider has STATUS_FAILURE and why. Strings in
// the kind `wide` asks for. Empty once the session has ended.
std::vector<StatusRow> build_status_rows(SessionState& state, bool wide) {
  std::vector<SessionProvider> providers;
  std::optional<size_t> def;
  uint32_t flags_at_logon = 0;
  {
    std::lock_guard lock(state.mutex);
    if (!state.session) return {};
    providers = state.session->providers();
    def = state.session->default_store();
    flags_at_logon = state.session->logon_flags();
  }
  const bool no_mail = (flags_at_logon & logon_flag::kNoMail) != 0;
  std::vector<StatusRow> rows;
  const std::vector<ProviderStatusRows::Row> given = state.status_rows->rows();
  // `extra`: a provider logon's own values (ModifyStatusRow), each in
  // place of the runtime's of the same property ID. `methods`: the
  // IMAPIStatus methods the runtime's status object of the row supports
  // (imapistatusimapiprop.md: ValidateState in every one, FlushQueues in
  // the spooler's).
  auto add = [&](StatusKind kind, ByteView key, const ProviderUid& provider_uid, uint32_t type,
                 const std::string& display, const std::string& provider_display, const std::string& dll,
                 uint32_t flags, uint32_t methods, uint32_t code, const std::string& text,
                 const std::vector<PropValue>& extra = {}) {
    uint8_t ordinal = 0;
    for (const StatusRow& r : rows) {
      const bool same_key = r.entry_id.size() == kStatusEntryHead + key.size() &&
                            std::equal(key.data(), key.data() + key.size(), r.entry_id.data() + kStatusEntryHead);
      if (r.kind == kind && same_key) ++ordinal;
    }
    StatusRow row;
    row.kind = kind;
    row.provider_uid = provider_uid;
    row.entry_id = status_entry_id(kind, ordinal, key);
    const int32_t position = int32_t(rows.size() + 1);
    row.values = {PropValue::binary(kPrEntryId, row.entry_id),
                  PropValue::long_(kPrRowId, position),
                  PropValue::binary(kPrInstanceKey, le32(uint32_t(position))),
                  PropValue::long_(kPrObjectType, MAPI_STATUS),
                  PropValue::long_(kPrResourceType, int32_t(type)),
                  string_value(kPrDisplayNameW, wide, display),
                  string_value(kPrProviderDisplayW, wide, provider_display),
                  string_value(kPrProviderDllNameW, wide, dll),
                  PropValue::long_(kPrResourceFlags, int32_t(flags)),
                  PropValue::long_(kPrResourceMethods, int32_t(methods)),
                  PropValue::long_(kPrStatusCode, int32_t(code)),
                  string_value(kPrStatusStringW, wide, text)};
    for (const PropValue& v : extra) {
      std::erase_if(row.values, [&](const PropValue& mine) { return prop_id(mine.tag) == prop_id(v.tag); });
      row.values.push_back(in_string_kind(v, wide));
    }
    rows.push_back(std::move(row));
  };
  const ProviderUid none{};
  add(StatusKind::kSubsystem, {}, none, kMapiSubsystem, "MAPI Subsystem", "MAPI Subsystem", "", 0,
      STATUS_VALIDATE_STATE, kStatusAvailable, "Available");
  // Without the spooler (MAPI_NO_MAIL) there are no queues to flush.
  add(StatusKind::kSpooler, {}, none, kMapiSpooler, "MAPI Spooler", "MAPI Spooler", "", 0,
      no_mail ? STATUS_VALIDATE_STATE : STATUS_VALIDATE_STATE | STATUS_FLUSH_QUEUES,
      no_mail ? kStatusFailure : kStatusAvailable,
      no_mail ? "MAPI_NO_MAIL: the spooler is not told of this session" : "Available");
  for (size_t i = 0; i < providers.size(); ++i) {
    const auto& p = providers[i];
    uint32_t flags = p.resource_flags & ~kStatusDefaultStore;
    if (def && *def == i) flags |= kStatusDefaultStore;
    uint32_t code = p.disabled ? kStatusFailure : (p.logged_on ? kStatusAvailable : kStatusOffline);
    std::string text = p.disabled ? "Disabled: " + p.failure : (p.logged_on ? "Available" : "Not started");
    const ByteView key(p.provider_uid.data(), p.provider_uid.size());
    bool replaced = false;
    for (const auto& g : given) {
      if (g.provider_uid != p.provider_uid) continue;
      add(StatusKind::kProvider, key, p.provider_uid, p.resource_type, p.service_display, p.provider_display,
          p.dll_name, flags, STATUS_VALIDATE_STATE, code, text, g.values);
      replaced = true;
    }
    if (!replaced)
      add(StatusKind::kProvider, key, p.provider_uid, p.resource_type, p.service_display, p.provider_display,
          p.dll_name, flags, STATUS_VALIDATE_STATE, code, text);
  }
  // A data file this process found not closed properly: its check, running
  // or done (docs/MAPI.md "Did not close properly").
  for (const auto& r : data_file_reports()) {
    const ByteView key(reinterpret_cast<const uint8_t*>(r.path.data()), r.path.size());
    add(StatusKind::kDataFileCheck, key, none, kMapiStoreProvider, r.path, "Data file check", "", 0,
        STATUS_VALIDATE_STATE, r.status_code, r.text);
  }
  return rows;
}

class ComSession final : public ComObject<ComSession, IMAPISession, IID_IMAPISession> {
 public:
  explicit ComSession(std::shared_ptr<SessionState> state) : state_(std::move(state)) {}
  ~ComSession() {
    // Released without Logoff: end this member's hold all the same.
    if (HookToken h = state_->hook.exchange(0); h != 0) remove_uninitialize_hook(h);
    state_->logoff(false);
  }

  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv != nullptr && ended()) {
      *ppv = nullptr;
      return MAPI_E_END_OF_SESSION;
    }
    // imapiclientshutdowniunknown.md: "obtained by calling QueryInterface on
    // any IMAPISession" (docs/MAPI.md "Fast shutdown").
    if (ppv != nullptr && riid == IID_IMAPIClientShutdown)
      return create_client_shutdown(reinterpret_cast<LPMAPICLIENTSHUTDOWN*>(ppv));
    return ComObject::QueryInterface(riid, ppv);
  }

  // imapisession-getlasterror.md
  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    return last_.get(hResult, ulFlags, lppMAPIError);
  }


  // imapisession-getmsgstorestable.md
  STDMETHODIMP GetMsgStoresTable(ULONG ulFlags, LPMAPITABLE* lppTable) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetMsgStoresTable: unknown flags");
    if (lppTable == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetMsgStoresTable: lppTable is NULL");
    *lppTable = nullptr;
    const bool wide = (ulFlags & MAPI_UNICODE) != 0;
    auto [providers, def] = snapshot();
    std::vector<InMemoryRowSource::Row> rows;
    for (size_t i = 0; i < providers.size(); ++i) {
      const auto& p = providers[i];
      if (!p.logged_on || p.resource_type != MAPI_STORE_PROVIDER) continue;
      InMemoryRowSource::Row row;
      row.id = RowId(i + 1);
      const bool is_default = def && *def == i;
      Bytes mdb = p.logon.store_path.empty() ? Bytes(p.provider_uid.begin(), p.provider_uid.end())
                                             : Bytes(std::begin(kMspstUid), std::end(kMspstUid));
      row.values = {
          PropValue::binary(kPrEntryId, p.store_entry_id),
          string_value(kPrDisplayNameW, wide, p.logon.display_name),
          PropValue::boolean(kPrDefaultStore, is_default),
          string_value(kPrProviderDisplayW, wide, p.provider_display),
          PropValue::long_(kPrResourceFlags,
                           int32_t((p.resource_flags & ~kStatusDefaultStore) | (is_default ? kStatusDefaultStore : 0))),
          PropValue::binary(kPrMdbProvider, mdb),
          PropValue::binary(kPrRecordKey, Bytes(p.logon.record_key.begin(), p.logon.record_key.end())),
          PropValue::binary(kPrInstanceKey, le32(uint32_t(i + 1))),
          PropValue::long_(kPrObjectType, MAPI_STORE),
          PropValue::binary(kPrServiceUid, Bytes(p.service_uid.begin(), p.service_uid.end())),
          PropValue::binary(kPrProviderUid, Bytes(p.provider_uid.begin(), p.provider_uid.end())),
      };
      rows.push_back(std::move(row));
    }
    std::vector<PropTag> columns = {kPrEntryId,       string_tag(kPrDisplayNameW, wide), kPrDefaultStore,
                                    string_tag(kPrProviderDisplayW, wide), kPrResourceFlags, kPrMdbProvider,
                                    kPrRecordKey, kPrInstanceKey};
    return make_table(std::move(columns), std::move(rows), lppTable);
  }

  // imapisession-openmsgstore.md
  STDMETHODIMP OpenMsgStore(ULONG_PTR ulUIParam, ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface,
                            ULONG ulFlags, LPMDB* lppMDB) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    constexpr ULONG kKnown = MDB_NO_DIALOG | MDB_WRITE | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS | MDB_TEMPORARY |
                             MDB_NO_MAIL | MDB_ONLINE;
    if (ulFlags & ~kKnown) return fail(MAPI_E_UNKNOWN_FLAGS, "OpenMsgStore: unknown flags");
    if (lppMDB == nullptr || lpEntryID == nullptr || cbEntryID == 0)
      return fail(MAPI_E_INVALID_PARAMETER, "OpenMsgStore: a null entry ID or lppMDB");
    *lppMDB = nullptr;
    return open_store(ulUIParam, ByteView(reinterpret_cast<const uint8_t*>(lpEntryID), cbEntryID), lpInterface,
                      ulFlags, lppMDB);
  }

  // imapisession-openaddressbook.md: pstkit's runtime has no address book
  // providers, so there is no address book to open.
  STDMETHODIMP OpenAddressBook(ULONG_PTR, LPCIID, ULONG ulFlags, LPADRBOOK* lppAdrBook) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~(MAPI_NO_CACHE | 0x00000001u /* AB_NO_DIALOG */ | MAPI_UNICODE)) return fail(MAPI_E_UNKNOWN_FLAGS, "OpenAddressBook: unknown flags");
    if (lppAdrBook == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "OpenAddressBook: lppAdrBook is NULL");
    *lppAdrBook = nullptr;
    return fail(MAPI_E_NO_SUPPORT, "OpenAddressBook: this MAPI runtime has no address book providers");
  }

  // imapisession-openprofilesection.md
  STDMETHODIMP OpenProfileSection(LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags,
                                  LPPROFSECT* lppProfSect) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~(MAPI_MODIFY | MAPI_DEFERRED_ERRORS)) return fail(MAPI_E_UNKNOWN_FLAGS, "OpenProfileSection: unknown flags");
    if (lpUID == nullptr || lppProfSect == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "OpenProfileSection: lpUID or lppProfSect is NULL");
    *lppProfSect = nullptr;
    auto hook = copy_hook(&Hooks::profile_section);
    if (!hook) return fail(MAPI_E_NO_SUPPORT, "OpenProfileSection: no profile section objects in this build");
    auto [profile, id] = profile_names();
    return record(hook(profile, id, *lpUID, lpInterface, ulFlags, lppProfSect), "OpenProfileSection failed");
  }

  // imapisession-getstatustable.md (build_status_rows); each row's
  // PR_ENTRYID opens its status object through OpenEntry.
  STDMETHODIMP GetStatusTable(ULONG ulFlags, LPMAPITABLE* lppTable) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetStatusTable: unknown flags");
    if (lppTable == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetStatusTable: lppTable is NULL");
    *lppTable = nullptr;
    const bool wide = (ulFlags & MAPI_UNICODE) != 0;
    std::vector<InMemoryRowSource::Row> rows;
    for (StatusRow& r : build_status_rows(*state_, wide)) {
      InMemoryRowSource::Row row;
      row.id = RowId(rows.size() + 1);
      row.values = std::move(r.values);
      rows.push_back(std::move(row));
    }
    std::vector<PropTag> columns = {kPrEntryId,
                                    kPrRowId,
                                    kPrInstanceKey,
                                    kPrResourceType,
                                    string_tag(kPrDisplayNameW, wide),
                                    string_tag(kPrProviderDisplayW, wide),
                                    kPrResourceFlags,
                                    kPrStatusCode,
                                    string_tag(kPrStatusStringW, wide)};
    return make_table(std::move(columns), std::move(rows), lppTable);
  }

  // imapisession-openentry.md
  STDMETHODIMP OpenEntry(ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags,
                         ULONG* lpulObjType, LPUNKNOWN* lppUnk) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    constexpr ULONG kKnown = MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS | MAPI_NO_CACHE |
                             MAPI_CACHE_ONLY | SHOW_SOFT_DELETES;
    if (ulFlags & ~kKnown) return fail(MAPI_E_UNKNOWN_FLAGS, "OpenEntry: unknown flags");
    if (lpulObjType == nullptr || lppUnk == nullptr || (cbEntryID != 0 && lpEntryID == nullptr))
      return fail(MAPI_E_INVALID_PARAMETER, "OpenEntry: a null pointer");
    *lppUnk = nullptr;
    *lpulObjType = 0;
    ByteView id(reinterpret_cast<const uint8_t*>(lpEntryID), cbEntryID);
    if (cbEntryID == 0) {
      // No entry ID: the root folder of the default store.
      auto [providers, def] = snapshot();
      if (!def) return fail(MAPI_E_NOT_FOUND, "OpenEntry: the session has no default store");
      LPMDB store = nullptr;
      if (HRESULT hr = held_store(providers[*def].store_entry_id, &store); hr != S_OK) return hr;
      return record(store->OpenEntry(0, nullptr, lpInterface, ulFlags, lpulObjType, lppUnk), "OpenEntry failed");
    }
    if (is_status_entry_id(id)) return open_status(id, lpInterface, ulFlags, lpulObjType, lppUnk);
    if (is_store_entry_id(id)) {
      // A store's entry ID opens the store (OpenMsgStore; MAPI_MODIFY asks for write access).
      ULONG f = MDB_NO_DIALOG;
      if (ulFlags & MAPI_MODIFY) f |= MDB_WRITE;
      if (ulFlags & MAPI_BEST_ACCESS) f |= MDB_WRITE | MAPI_BEST_ACCESS;
      if (ulFlags & MAPI_DEFERRED_ERRORS) f |= MAPI_DEFERRED_ERRORS;
      LPMDB store = nullptr;
      HRESULT hr = open_store(0, id, lpInterface, f, &store);
      if (FAILED(hr)) return hr;
      *lpulObjType = MAPI_STORE;
      *lppUnk = store;
      return hr;
    }
    LPMDB store = nullptr;
    if (HRESULT hr = owning_store(id, &store); hr != S_OK) return hr;
    return record(store->OpenEntry(cbEntryID, lpEntryID, lpInterface, ulFlags, lpulObjType, lppUnk),
                  "OpenEntry failed in the store");
  }

  // imapisession-compareentryids.md
  STDMETHODIMP CompareEntryIDs(ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                               ULONG ulFlags, ULONG* lpulResult) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags != 0) return fail(MAPI_E_UNKNOWN_FLAGS, "CompareEntryIDs: ulFlags must be 0");
    if (lpulResult == nullptr || lpEntryID1 == nullptr || lpEntryID2 == nullptr || cbEntryID1 == 0 || cbEntryID2 == 0)
      return fail(MAPI_E_INVALID_PARAMETER, "CompareEntryIDs: a null entry ID or lpulResult");
    *lpulResult = FALSE;
    ByteView a(reinterpret_cast<const uint8_t*>(lpEntryID1), cbEntryID1);
    ByteView b(reinterpret_cast<const uint8_t*>(lpEntryID2), cbEntryID2);
    if (is_status_entry_id(a) || is_status_entry_id(b)) {
      // Status rows: the same row is the same bytes (abFlags[0] aside).
      *lpulResult = same_entry_id_but_flags(a, b) ? TRUE : FALSE;
      return S_OK;
    }
    auto known = [&](ByteView id) -> std::optional<SessionProvider> {
      if (is_store_entry_id(id)) return session_find_store(id);
      auto parsed = parse_entry_id(id);
      if (!parsed.is_ok()) return std::nullopt;
      return session_find_by_key(parsed->provider);
    };
    auto pa = known(a);
    auto pb = known(b);
    if (!pa || !pb) return fail(MAPI_E_UNKNOWN_ENTRYID, "CompareEntryIDs: an entry ID no store of the session knows");
    if (is_store_entry_id(a) != is_store_entry_id(b) || pa->provider_uid != pb->provider_uid) return S_OK;
    if (is_store_entry_id(a)) {
      *lpulResult = TRUE;  // same provider: the same store
      return S_OK;
    }
    auto same = compare_entry_ids(a, b, pa->logon.record_key);
    if (!same.is_ok()) return fail(entry_id_scode(same.status()), same.status().message());
    *lpulResult = *same ? TRUE : FALSE;
    return S_OK;
  }

  // imapisession-advise.md: a null entry ID registers for the session's
  // critical errors; a store's or an object's entry ID is passed to its store.
  STDMETHODIMP Advise(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink,
                      ULONG_PTR* lpulConnection) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (lpAdviseSink == nullptr || lpulConnection == nullptr || ulEventMask == 0 ||
        (cbEntryID != 0 && lpEntryID == nullptr))
      return fail(MAPI_E_INVALID_PARAMETER, "Advise: a null sink, connection or entry ID, or no event");
    *lpulConnection = 0;
    SessionState::Connection c;
    if (cbEntryID == 0) {
      lpAdviseSink->AddRef();
      c.sink = lpAdviseSink;
    } else {
      ByteView id(reinterpret_cast<const uint8_t*>(lpEntryID), cbEntryID);
      LPMDB store = nullptr;
      HRESULT hr = is_store_entry_id(id) ? held_store(Bytes(id.data(), id.data() + id.size()), &store)
                                         : owning_store(id, &store);
      if (hr != S_OK) return hr;
      // The store is advised for itself (null ID) or for the object.
      hr = is_store_entry_id(id) ? store->Advise(0, nullptr, ulEventMask, lpAdviseSink, &c.store_connection)
                                 : store->Advise(cbEntryID, lpEntryID, ulEventMask, lpAdviseSink, &c.store_connection);
      if (FAILED(hr)) return record(hr, "Advise: the store refused the registration");
      c.store = store;
    }
    std::lock_guard lock(state_->mutex);
    ULONG_PTR connection = state_->next_connection++;
    state_->connections.emplace(connection, c);
    *lpulConnection = connection;
    return S_OK;
  }

  // imapisession-unadvise.md
  STDMETHODIMP Unadvise(ULONG_PTR ulConnection) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulConnection == 0) return fail(MAPI_E_INVALID_PARAMETER, "Unadvise: connection 0");
    SessionState::Connection c;
    {
      std::lock_guard lock(state_->mutex);
      auto it = state_->connections.find(ulConnection);
      if (it == state_->connections.end()) return fail(MAPI_E_NOT_FOUND, "Unadvise: no such connection");
      c = it->second;
      state_->connections.erase(it);
    }
    if (c.store != nullptr) c.store->Unadvise(c.store_connection);
    if (c.sink != nullptr) c.sink->Release();
    return S_OK;
  }

  // imapisessioniunknown.md: MessageOptions, QueryDefaultMessageOpt and
  // EnumAdrTypes are "not supported or documented"; they concern transport
  // providers, which this runtime has none of.
  STDMETHODIMP MessageOptions(ULONG_PTR, ULONG ulFlags, LPTSTR lpszAdrType, LPMESSAGE lpMessage) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "MessageOptions: unknown flags");
    if (lpszAdrType == nullptr || lpMessage == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "MessageOptions: a null pointer");
    return fail(MAPI_E_NO_SUPPORT, "MessageOptions: no transport providers");
  }
  STDMETHODIMP QueryDefaultMessageOpt(LPTSTR lpszAdrType, ULONG ulFlags, ULONG* lpcValues,
                                      LPSPropValue* lppOptions) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "QueryDefaultMessageOpt: unknown flags");
    if (lpszAdrType == nullptr || lpcValues == nullptr || lppOptions == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "QueryDefaultMessageOpt: a null pointer");
    *lpcValues = 0;
    *lppOptions = nullptr;
    return fail(MAPI_E_NO_SUPPORT, "QueryDefaultMessageOpt: no transport providers");
  }
  STDMETHODIMP EnumAdrTypes(ULONG ulFlags, ULONG* lpcAdrTypes, LPTSTR** lpppszAdrTypes) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "EnumAdrTypes: unknown flags");
    if (lpcAdrTypes == nullptr || lpppszAdrTypes == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "EnumAdrTypes: a null pointer");
    *lpcAdrTypes = 0;
    *lpppszAdrTypes = nullptr;
    return fail(MAPI_E_NO_SUPPORT, "EnumAdrTypes: no transport providers");
  }

  // imapisession-queryidentity.md: no provider of this runtime supplies a
  // primary identity, so the call "succeeds with the warning
  // MAPI_W_NO_SERVICE" and a hard-coded entry identifier.
  STDMETHODIMP QueryIdentity(ULONG* lpcbEntryID, LPENTRYID* lppEntryID) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (lpcbEntryID == nullptr || lppEntryID == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "QueryIdentity: a null pointer");
    *lpcbEntryID = 0;
    *lppEntryID = nullptr;
    static constexpr uint8_t kNoIdentity[20] = {0, 0, 0, 0, 'p', 's', 't', 'k', 'i', 't', '-',
                                                'n', 'o', '-', 'i', 'd', 'e', 'n', 't', 0};
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateBuffer(sizeof kNoIdentity, &p); sc != S_OK) return sc;
    std::memcpy(p, kNoIdentity, sizeof kNoIdentity);
    *lpcbEntryID = sizeof kNoIdentity;
    *lppEntryID = static_cast<LPENTRYID>(p);
    return MAPI_W_NO_SERVICE;
  }

  // imapisession-logoff.md: MAPI_LOGOFF_SHARED ends a shared session for
  // every client (ignored for an individual one); MAPI_LOGOFF_UI allows a
  // dialog, which pstkit never needs. ulReserved must be zero.
  STDMETHODIMP Logoff(ULONG_PTR, ULONG ulFlags, ULONG ulReserved) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~(MAPI_LOGOFF_SHARED | MAPI_LOGOFF_UI)) return fail(MAPI_E_UNKNOWN_FLAGS, "Logoff: unknown flags");
    if (ulReserved != 0) return fail(MAPI_E_INVALID_PARAMETER, "Logoff: ulReserved must be 0");
    if (HookToken h = state_->hook.exchange(0); h != 0) remove_uninitialize_hook(h);
    // Write-behind: saved messages still batched in any open store are
    // committed at logoff; a failure is reported here (docs/MAPI.md).
    std::string flush_detail;
    const HRESULT flushed = flush_open_stores(&flush_detail);
    state_->logoff((ulFlags & MAPI_LOGOFF_SHARED) != 0);
    return FAILED(flushed) ? fail(flushed, "Logoff: " + flush_detail) : S_OK;
  }

  // imapisession-setdefaultstore.md. MAPI_DEFAULT_STORE makes the store the
  // session's default; the simple-MAPI and primary/secondary kinds concern
  // stores this runtime does not keep.
  STDMETHODIMP SetDefaultStore(ULONG ulFlags, ULONG cbEntryID, LPENTRYID lpEntryID) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags < MAPI_DEFAULT_STORE || ulFlags > MAPI_SECONDARY_STORE)
      return fail(MAPI_E_UNKNOWN_FLAGS, "SetDefaultStore: unknown flags");
    if (lpEntryID == nullptr || cbEntryID == 0) return fail(MAPI_E_INVALID_PARAMETER, "SetDefaultStore: no entry ID");
    ByteView id(reinterpret_cast<const uint8_t*>(lpEntryID), cbEntryID);
    if (!is_store_entry_id(id)) return fail(MAPI_E_INVALID_ENTRYID, "SetDefaultStore: not a store entry ID");
    if (ulFlags != MAPI_DEFAULT_STORE)
      return fail(MAPI_E_NO_SUPPORT, "SetDefaultStore: only MAPI_DEFAULT_STORE is supported");
    std::lock_guard lock(state_->mutex);
    if (!state_->session) return MAPI_E_END_OF_SESSION;
    SessionStatus s = state_->session->set_default_store(id);
    return s.ok() ? S_OK : fail_locked(s.scode, "SetDefaultStore: " + s.detail);
  }

  // imapisession-adminservices.md
  STDMETHODIMP AdminServices(ULONG ulFlags, LPSERVICEADMIN* lppServiceAdmin) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags != 0) return fail(MAPI_E_UNKNOWN_FLAGS, "AdminServices: ulFlags must be 0");
    if (lppServiceAdmin == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "AdminServices: lppServiceAdmin is NULL");
    *lppServiceAdmin = nullptr;
    auto hook = copy_hook(&Hooks::admin_services);
    if (!hook) return fail(MAPI_E_NO_SUPPORT, "AdminServices: no service administration objects in this build");
    auto [profile, id] = profile_names();
    return record(hook(profile, id, logon_flags(), lppServiceAdmin), "AdminServices failed");
  }

  // imapisession-showform.md, imapisession-prepareform.md: pstkit has no
  // forms manager.
  STDMETHODIMP ShowForm(ULONG_PTR, LPMDB lpMsgStore, LPMAPIFOLDER lpParentFolder, LPCIID, ULONG, LPMESSAGE,
                        ULONG ulFlags, ULONG, ULONG, ULONG, LPSTR lpszMessageClass) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (ulFlags & ~(MAPI_POST_MESSAGE | MAPI_NEW_MESSAGE | MAPI_UNICODE))
      return fail(MAPI_E_UNKNOWN_FLAGS, "ShowForm: unknown flags");
    if (lpMsgStore == nullptr || lpParentFolder == nullptr || lpszMessageClass == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "ShowForm: a null pointer");
    return fail(MAPI_E_NO_SUPPORT, "ShowForm: this MAPI runtime has no forms");
  }
  STDMETHODIMP PrepareForm(LPCIID, LPMESSAGE lpMessage, ULONG* lpulMessageToken) override {
    if (ended()) return MAPI_E_END_OF_SESSION;
    if (lpMessage == nullptr || lpulMessageToken == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "PrepareForm: a null pointer");
    *lpulMessageToken = 0;
    return fail(MAPI_E_NO_SUPPORT, "PrepareForm: this MAPI runtime has no forms");
  }

 private:
  // status-table-and-status-objects.md: OpenEntry of a status row's entry
  // ID opens its status object. A store provider's row opens through the
  // IMSLogon of a store the provider has open (imslogon-openstatusentry.md);
  // a provider without one, or whose OpenStatusEntry is MAPI_E_NO_SUPPORT,
  // and MAPI's own rows get the runtime's object (com_status.h).
  HRESULT open_status(ByteView id, LPCIID lpInterface, ULONG ulFlags, ULONG* lpulObjType, LPUNKNOWN* lppUnk) {
    if (lpInterface != nullptr && *lpInterface != IID_IMAPIStatus && *lpInterface != IID_IMAPIProp &&
        *lpInterface != IID_IUnknown)
      return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "OpenEntry: a status object is an IMAPIStatus");
    std::vector<StatusRow> rows = build_status_rows(*state_, true);
    auto row = std::find_if(rows.begin(), rows.end(),
                            [&](const StatusRow& r) { return same_entry_id_but_flags(r.entry_id, id); });
    if (row == rows.end()) return fail(MAPI_E_NOT_FOUND, "OpenEntry: no row of the status table has that entry ID");
    if (row->kind == StatusKind::kProvider) {
      if (LPMSLOGON logon = state_->status_rows->logon_of(row->provider_uid); logon != nullptr) {
        ULONG type = 0;
        LPVOID object = nullptr;
        HRESULT hr = logon->OpenStatusEntry(lpInterface, ulFlags & MAPI_MODIFY, &type, &object);
        logon->Release();
        if (SUCCEEDED(hr) && object != nullptr) {
          *lpulObjType = type;
          *lppUnk = static_cast<LPUNKNOWN>(object);
          return hr;
        }
        if (hr != MAPI_E_NO_SUPPORT) return fail(FAILED(hr) ? hr : MAPI_E_CALL_FAILED,
                                                 "OpenEntry: the provider's OpenStatusEntry failed");
      }
    }
    StatusObjectSource source;
    source.values = std::move(row->values);
    std::shared_ptr<SessionState> state = state_;
    source.reread = [state, entry_id = row->entry_id](std::vector<PropValue>* values) -> HRESULT {
      if (session_ended(*state)) return MAPI_E_END_OF_SESSION;
      for (StatusRow& r : build_status_rows(*state, true)) {
        if (r.entry_id != entry_id) continue;
        *values = std::move(r.values);
        return S_OK;
      }
      return MAPI_E_NOT_FOUND;
    };
    if (row->kind == StatusKind::kSpooler) {
      // pstkit starts no transport (docs/MAPI.md "MAPILogonEx"): both queues
      // are empty, so a flush of all is done at once, and no transport has
      // the entry ID of a targeted one.
      source.flush = [state](ByteView target, ULONG) -> HRESULT {
        if (session_ended(*state)) return MAPI_E_END_OF_SESSION;
        return target.empty() ? S_OK : MAPI_E_NOT_FOUND;
      };
    }
    LPMAPISTATUS status = nullptr;
    if (HRESULT hr = create_status_object(std::move(source), &status); FAILED(hr))
      return fail(hr, "OpenEntry: out of memory");
    *lpulObjType = MAPI_STATUS;
    *lppUnk = status;
    return S_OK;
  }

  bool ended() const { return session_ended(*state_); }
  uint32_t logon_flags() const {
    std::lock_guard lock(state_->mutex);
    return state_->session ? state_->session->logon_flags() : 0;
  }
  std::pair<std::vector<SessionProvider>, std::optional<size_t>> snapshot() const {
    std::lock_guard lock(state_->mutex);
    if (!state_->session) return {};
    return {state_->session->providers(), state_->session->default_store()};
  }
  std::pair<std::string, std::string> profile_names() const {
    std::lock_guard lock(state_->mutex);
    if (!state_->session) return {};
    return {state_->session->profile(), state_->session->profile_id()};
  }
  std::optional<SessionProvider> session_find_store(ByteView id) const {
    std::lock_guard lock(state_->mutex);
    return state_->session ? state_->session->find_store(id) : std::nullopt;
  }
  std::optional<SessionProvider> session_find_by_key(const ProviderUid& key) const {
    std::lock_guard lock(state_->mutex);
    return state_->session ? state_->session->find_store_by_record_key(key) : std::nullopt;
  }

  HRESULT make_table(std::vector<PropTag> columns, std::vector<InMemoryRowSource::Row> rows, LPMAPITABLE* out) {
    try {
      auto source = std::make_shared<InMemoryRowSource>(std::move(columns), std::move(rows));
      return record(create_table(std::move(source), out), "cannot make the table");
    } catch (const std::bad_alloc&) {
      return fail(MAPI_E_NOT_ENOUGH_MEMORY, "out of memory");
    }
  }

  // Opens a store of the session through the store opener.
  HRESULT open_store(ULONG_PTR ui, ByteView id, LPCIID iface, ULONG flags, LPMDB* out) {
    if (!is_store_entry_id(id)) return fail(MAPI_E_INVALID_ENTRYID, "not a message store entry ID");
    auto store = session_find_store(id);
    if (!store) return fail(MAPI_E_NOT_FOUND, "no store of the session has this entry ID");
    StoreOpenRequest req;
    req.ui_param = ui;
    req.flags = flags;
    req.interface_id = iface;
    req.entry_id = store->store_entry_id;
    req.provider = *store;
    req.profile = profile_names().first;
    req.session = this;
    req.status_rows = state_->status_rows;
    if (flags & MDB_WRITE) {
      // An OST is served read-only; MAPI_BEST_ACCESS falls back to reading.
      const bool read_only = store->service_name == "PSTKIT OST" ||
                             (!store->logon.store_path.empty() && ::access(store->logon.store_path.c_str(), W_OK) != 0);
      if (read_only && !(flags & MAPI_BEST_ACCESS))
        return fail(MAPI_E_NO_ACCESS, "the store " + store->logon.display_name + " is read-only");
      req.write = !read_only;
      if (read_only) req.flags &= ~ULONG(MDB_WRITE);
    }
    std::string provider_error;
    req.error_detail = &provider_error;
    auto opener = copy_hook(&Hooks::store_opener);
    if (!opener) return fail(MAPI_E_NO_SUPPORT, "no message store objects in this build");
    HRESULT hr = opener(req, out);
    if (FAILED(hr)) {
      *out = nullptr;
      return record(hr, "the store provider could not open " + store->logon.display_name +
                            (provider_error.empty() ? "" : ": " + provider_error));
    }
    if (*out == nullptr) return fail(MAPI_E_CALL_FAILED, "the store provider returned no store");
    return hr;
  }

  // A store the session keeps open (for OpenEntry and Advise).
  HRESULT held_store(const Bytes& id, LPMDB* out) {
    {
      std::lock_guard lock(state_->mutex);
      if (auto it = state_->stores.find(id); it != state_->stores.end()) {
        *out = it->second;
        return S_OK;
      }
    }
    LPMDB store = nullptr;
    HRESULT hr = open_store(0, id, nullptr, MDB_NO_DIALOG | MDB_WRITE | MAPI_BEST_ACCESS, &store);
    if (FAILED(hr)) return hr;
    std::lock_guard lock(state_->mutex);
    auto [it, inserted] = state_->stores.emplace(id, store);
    if (!inserted) store->Release();
    *out = it->second;
    return S_OK;
  }

  // The store an object's entry ID belongs to (PST entry IDs name their
  // store by its record key).
  HRESULT owning_store(ByteView id, LPMDB* out) {
    auto parsed = parse_entry_id(id);
    if (!parsed.is_ok()) {
      // Not a PST entry ID: no provider of this session handles it.
      return fail(MAPI_E_UNKNOWN_ENTRYID, "an entry ID no provider of the session handles");
    }
    auto store = session_find_by_key(parsed->provider);
    if (!store) return fail(MAPI_E_UNKNOWN_ENTRYID, "the entry ID's store is not open in this session");
    return held_store(store->store_entry_id, out);
  }

  HRESULT fail(HRESULT hr, std::string detail) { return last_.set(hr, std::move(detail)); }
  HRESULT fail_locked(HRESULT hr, std::string detail) {  // state_->mutex held; last_ has its own
    return fail(hr, std::move(detail));
  }
  HRESULT record(HRESULT hr, std::string detail) {
    if (FAILED(hr)) fail(hr, std::move(detail));
    return hr;
  }

  std::shared_ptr<SessionState> state_;
  LastError last_;
};

}  // namespace

StoreOpener set_store_opener(StoreOpener opener) {
  auto& h = hooks();
  std::lock_guard lock(h.mutex);
  std::swap(h.store_opener, opener);
  return opener;
}

AdminServicesHook set_admin_services_hook(AdminServicesHook hook) {
  auto& h = hooks();
  std::lock_guard lock(h.mutex);
  std::swap(h.admin_services, hook);
  return hook;
}

ProfileSectionHook set_profile_section_hook(ProfileSectionHook hook) {
  auto& h = hooks();
  std::lock_guard lock(h.mutex);
  std::swap(h.profile_section, hook);
  return hook;
}

void ProviderStatusRows::set(const void* logon, const ProviderUid& provider_uid, std::vector<PropValue> values,
                             bool update) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(rows_.begin(), rows_.end(), [&](const auto& r) { return r.first == logon; });
  if (it == rows_.end()) {
    rows_.push_back({logon, Row{provider_uid, {}}});
    it = rows_.end() - 1;
  }
  std::vector<PropValue>& row = it->second.values;
  if (!update) row.clear();
  for (PropValue& v : values) {
    std::erase_if(row, [&](const PropValue& old) { return prop_id(old.tag) == prop_id(v.tag); });
    row.push_back(std::move(v));
  }
}

void ProviderStatusRows::remove(const void* logon) {
  std::lock_guard lock(mutex_);
  std::erase_if(rows_, [&](const auto& r) { return r.first == logon; });
  std::erase_if(logons_, [&](const Logon& l) { return l.key == logon; });
}

void ProviderStatusRows::add_logon(const void* logon, const ProviderUid& provider_uid, LPMSLOGON ms_logon) {
  std::lock_guard lock(mutex_);
  logons_.push_back({logon, provider_uid, ms_logon});
}

LPMSLOGON ProviderStatusRows::logon_of(const ProviderUid& provider_uid) const {
  std::lock_guard lock(mutex_);
  for (const Logon& l : logons_) {
    if (l.provider_uid != provider_uid) continue;
    // Under the lock: the logon's owner removes it before its Release.
    l.ms_logon->AddRef();
    return l.ms_logon;
  }
  return nullptr;
}

std::vector<ProviderStatusRows::Row> ProviderStatusRows::rows() const {
  std::lock_guard lock(mutex_);
  std::vector<Row> out;
  out.reserve(rows_.size());
  for (const auto& r : rows_) out.push_back(r.second);
  return out;
}

}  // namespace pstkit::mapi::capi

using namespace pstkit::mapi;
using namespace pstkit::mapi::capi;

// mapilogonex.md
STDAPI MAPILogonEx(ULONG_PTR ulUIParam, LPTSTR lpszProfileName, LPTSTR lpszPassword, FLAGS flFlags,
                   LPMAPISESSION FAR* lppSession) {
  if (lppSession == nullptr) return MAPI_E_INVALID_PARAMETER;
  *lppSession = nullptr;
  if (!runtime_initialized()) return MAPI_E_NOT_INITIALIZED;
  LogonRequest req;
  req.flags = flFlags;
  req.ui_param = ulUIParam;
  // MAPI_UNICODE: the strings are wchar_t (UTF-32 on Linux); else 8-bit,
  // taken as UTF-8.
  auto text = [&](LPTSTR s) -> std::optional<std::string> {
    if (s == nullptr) return std::nullopt;
    if (flFlags & MAPI_UNICODE) return utf8_from_wide(reinterpret_cast<const wchar_t*>(s));
    return std::string(reinterpret_cast<const char*>(s));
  };
  req.profile = text(lpszProfileName);
  req.password = text(lpszPassword);
  install_provider_library_loader();  // providers of libraries: MSProviderInit & co.
  std::unique_ptr<Session> session;
  SessionStatus s = logon(req, &session);
  if (!s.ok()) return s.scode;
  auto state = std::make_shared<SessionState>();
  state->session = std::move(session);
  auto* com = new (std::nothrow) ComSession(state);
  if (com == nullptr) {
    state->logoff(false);
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  // Critical errors of the session (its end by another member's
  // MAPI_LOGOFF_SHARED, or by MAPIUninitialize) go to the session's sinks.
  std::weak_ptr<SessionState> weak = state;
  state->listener = state->session->add_listener([weak](int32_t scode, const std::string&) {
    if (auto st = weak.lock()) st->critical_error(scode);
  });
  // mapiuninitialize.md: sessions still open at the last MAPIUninitialize end.
  state->hook = add_uninitialize_hook([weak] {
    if (auto st = weak.lock()) {
      st->hook = 0;
      st->logoff(false);
    }
  });
  *lppSession = com;
  return S_OK;
}
