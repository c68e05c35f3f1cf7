// IMSProvider::Logon for stores of providers loaded from libraries, and the
// support object (imapisupportiunknown.md) each such store is given.
//
// The support object's lifetime carries the store's: the provider AddRefs
// it when Logon succeeds and releases it when its store object is released
// for the last time (shutting-down-a-message-store-provider.md: "Implement
// this Release method by calling the support object's IUnknown::Release
// method"). MAPI's implementation of that Release then calls
// IMSLogon::Logoff and releases the logon object; so does this one, when
// only the runtime's own reference is left. A store still open when the
// session drops its provider is logged off the same way, just before
// IMSProvider::Shutdown (at_provider_end).
#include "mapi/store_provider_logon.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "mapi/capi_runtime.h"
#include "mapi/com_admin.h"
#include "mapi/com_object.h"
#include "mapi/fast_shutdown.h"
#include "mapi/last_error.h"
#include "mapi/support_notify.h"
#include "pstkit/mapi/mapispi.h"
#include "pstkit/mapi/mapiutil.h"
#include "pstkit/mapi_profiles.h"

namespace pstkit::mapi::capi {
namespace {

class StoreSupport final : public ComObject<StoreSupport, IMAPISupport, IID_IMAPISup> {
 public:
  StoreSupport(std::string profile, std::string dll_name, const MapiUid& provider_uid,
               const ProviderUid& session_provider, std::shared_ptr<ProviderStatusRows> status_rows)
      : profile_(std::move(profile)),
        dll_name_(std::move(dll_name)),
        provider_uid_(provider_uid),
        session_provider_(session_provider),
        status_rows_(std::move(status_rows)) {}

  // Only the runtime's reference left: the provider released its store
  // (shutting-down-a-message-store-provider.md, MAPI's Release steps).
  // After a fast shutdown no provider method is called.
  void on_release(ULONG left) {
    if (left == 1) end_logon(!fast_shutdown_done());
  }

  // After a successful Logon: the logon object, one reference.
  void set_logon(LPMSLOGON logon) {
    logon_.store(logon);
    if (status_rows_) status_rows_->add_logon(this, session_provider_, logon);
  }

  // IMSLogon::Logoff, then Release of the logon object; once. The logon's
  // status row and notification registrations end with it (also when
  // Logon failed: what the provider set up during the call goes too).
  void end_logon(bool calls_allowed) {
    if (!ended_.exchange(true)) {
      if (status_rows_) status_rows_->remove(this);
      support_unsubscribe_all(this);
    }
    LPMSLOGON logon = logon_.exchange(nullptr);
    if (logon == nullptr) return;
    uids_.clear();
    if (calls_allowed) {
      ULONG flags = 0;  // imslogon-logoff.md: reserved, 0
      (void)logon->Logoff(&flags);
    }
    logon->Release();
  }

  // imapisupport-getlasterror.md
  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    return last_.get(hResult, ulFlags, lppMAPIError);
  }
  // imapisupport-getmemallocroutines.md
  STDMETHODIMP GetMemAllocRoutines(LPALLOCATEBUFFER* lppAllocateBuffer, LPALLOCATEMORE* lppAllocateMore,
                                   LPFREEBUFFER* lppFreeBuffer) override {
    if (lppAllocateBuffer == nullptr || lppAllocateMore == nullptr || lppFreeBuffer == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "GetMemAllocRoutines: a null pointer");
    *lppAllocateBuffer = MAPIAllocateBuffer;
    *lppAllocateMore = MAPIAllocateMore;
    *lppFreeBuffer = MAPIFreeBuffer;
    return S_OK;
  }
  // imapisupport-subscribe.md: a registration of lpAdviseSink for the
  // events of ulEventMask on the advise source lpKey names (support_notify.h).
  STDMETHODIMP Subscribe(LPNOTIFKEY lpKey, ULONG ulEventMask, ULONG ulFlags, LPMAPIADVISESINK lpAdviseSink,
                         ULONG_PTR* lpulConnection) override {
    if (ulFlags & ~NOTIFY_SYNC) return fail(MAPI_E_UNKNOWN_FLAGS, "Subscribe: unknown flags");
    if (lpKey == nullptr || lpKey->cb == 0 || lpAdviseSink == nullptr || lpulConnection == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "Subscribe: a null or empty key, or a null sink or lpulConnection");
    *lpulConnection = 0;
    if (ulEventMask == 0) return fail(MAPI_E_INVALID_PARAMETER, "Subscribe: ulEventMask names no event");
    if (ended_) return fail(MAPI_E_END_OF_SESSION, "Subscribe: the store's logon has ended");
    return support_subscribe(this, ByteView(lpKey->ab, lpKey->cb), ulEventMask, (ulFlags & NOTIFY_SYNC) != 0,
                             lpAdviseSink, lpulConnection);
  }
  // imapisupport-unsubscribe.md: a registration made through this object.
  STDMETHODIMP Unsubscribe(ULONG_PTR ulConnection) override {
    if (ulConnection == 0) return fail(MAPI_E_INVALID_PARAMETER, "Unsubscribe: connection 0");
    HRESULT hr = support_unsubscribe(this, ulConnection);
    if (FAILED(hr)) return fail(hr, "Unsubscribe: no registration " + std::to_string(ulConnection) + " of this logon");
    return hr;
  }
  // imapisupport-notify.md: to every sink subscribed for lpKey, synchronously
  // or queued as it subscribed; NOTIFY_CANCELED out when a synchronous
  // callback returned CALLBACK_DISCONTINUE.
  STDMETHODIMP Notify(LPNOTIFKEY lpKey, ULONG cNotification, LPNOTIFICATION lpNotifications,
                      ULONG* lpulFlags) override {
    if (lpKey == nullptr || lpKey->cb == 0 || lpulFlags == nullptr || (cNotification != 0 && lpNotifications == nullptr))
      return fail(MAPI_E_INVALID_PARAMETER, "Notify: a null or empty key, lpulFlags or lpNotifications");
    if (*lpulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "Notify: unknown flags");
    bool canceled = false;
    HRESULT hr = support_notify(ByteView(lpKey->ab, lpKey->cb), cNotification, lpNotifications,
                                (*lpulFlags & MAPI_UNICODE) != 0, &canceled);
    if (FAILED(hr)) return fail(hr, "Notify: a notification of an unknown event type, or out of memory");
    *lpulFlags = canceled ? NOTIFY_CANCELED : 0;
    return hr;
  }
  // imapisupport-modifystatusrow.md, status-tables.md: the logon's row of
  // the session's status table, new or (STATUSROW_UPDATE) merged. The
  // columns MAPI computes (PR_ENTRYID, PR_INSTANCE_KEY, PR_OBJECT_TYPE,
  // PR_ROWID, PR_PROVIDER_DLL_NAME, PR_RESOURCE_FLAGS, PR_RESOURCE_TYPE)
  // stay the runtime's; PT_ERROR, PT_NULL and PT_OBJECT values carry none.
  STDMETHODIMP ModifyStatusRow(ULONG cValues, LPSPropValue lpColumnVals, ULONG ulFlags) override {
    if (ulFlags & ~STATUSROW_UPDATE) return fail(MAPI_E_UNKNOWN_FLAGS, "ModifyStatusRow: unknown flags");
    if (cValues != 0 && lpColumnVals == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "ModifyStatusRow: lpColumnVals is NULL");
    if (ended_) return fail(MAPI_E_END_OF_SESSION, "ModifyStatusRow: the store's logon has ended");
    if (!status_rows_) return no_support("ModifyStatusRow");
    constexpr uint16_t kComputed[] = {0x0FFF, 0x0FF6, 0x0FFE, 0x3000, 0x300A, 0x3009, 0x3E03};
    std::vector<PropValue> values;
    try {
      for (ULONG i = 0; i < cValues; ++i) {
        const SPropValue& v = lpColumnVals[i];
        const uint16_t type = PROP_TYPE(v.ulPropTag);
        if (type == PT_ERROR || type == PT_NULL || type == PT_OBJECT) continue;
        if (std::find(std::begin(kComputed), std::end(kComputed), PROP_ID(v.ulPropTag)) != std::end(kComputed))
          continue;
        PropValue converted;
        if (Converted c = from_mapi(v, converted); !c.ok())
          return fail(c.scode, "ModifyStatusRow: value " + std::to_string(i) + ": " + c.detail);
        values.push_back(std::move(converted));
      }
      status_rows_->set(this, session_provider_, std::move(values), (ulFlags & STATUSROW_UPDATE) != 0);
    } catch (const std::bad_alloc&) {
      return fail(MAPI_E_NOT_ENOUGH_MEMORY, "ModifyStatusRow: out of memory");
    }
    return S_OK;
  }
  // imapisupport-openprofilesection.md: a null lpUid is the provider's own
  // section.
  STDMETHODIMP OpenProfileSection(LPMAPIUID lpUid, ULONG ulFlags, LPPROFSECT* lppProfileObj) override {
    if (lppProfileObj == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "OpenProfileSection: lppProfileObj is NULL");
    *lppProfileObj = nullptr;
    MAPIUID uid;
    if (lpUid != nullptr) uid = *lpUid;
    else std::memcpy(uid.ab, provider_uid_.data(), sizeof uid.ab);
    auto store = ProfileStore::open_default();
    if (!store) return fail(profile_error(store.status()), "OpenProfileSection: cannot open the profiles");
    HRESULT hr = open_profile_section(*store, profile_, &uid, nullptr, ulFlags, SectionScope{}, lppProfileObj);
    if (FAILED(hr)) return fail(hr, "OpenProfileSection: cannot open the section");
    return hr;
  }
  STDMETHODIMP RegisterPreprocessor(LPMAPIUID, LPSTR, LPSTR, LPSTR, LPSTR, ULONG) override {
    return no_support("RegisterPreprocessor");
  }
  // imapisupport-newuid.md
  STDMETHODIMP NewUID(LPMAPIUID lpMuid) override {
    if (lpMuid == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "NewUID: lpMuid is NULL");
    const MapiUid uid = new_uid();
    std::memcpy(lpMuid->ab, uid.data(), sizeof lpMuid->ab);
    return S_OK;
  }
  STDMETHODIMP MakeInvalid(ULONG, LPVOID, ULONG, ULONG) override { return no_support("MakeInvalid"); }
  STDMETHODIMP SpoolerYield(ULONG) override { return no_support("SpoolerYield"); }
  STDMETHODIMP SpoolerNotify(ULONG, LPVOID) override { return no_support("SpoolerNotify"); }
  STDMETHODIMP CreateOneOff(LPSTR, LPSTR, LPSTR, ULONG, ULONG*, LPENTRYID*) override {
    return no_support("CreateOneOff");
  }
  // imapisupport-setprovideruid.md: the UIDs are remembered for the
  // store's logon and dropped when it ends (pstkit routes entry IDs to
  // stores by their wrapped store entry ID, so no lookup uses them yet).
  STDMETHODIMP SetProviderUID(LPMAPIUID lpProviderID, ULONG ulFlags) override {
    if (lpProviderID == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "SetProviderUID: lpProviderID is NULL");
    if (ulFlags != 0) return fail(MAPI_E_UNKNOWN_FLAGS, "SetProviderUID: ulFlags is reserved");
    MapiUid uid;
    std::memcpy(uid.data(), lpProviderID->ab, uid.size());
    uids_.add(uid);
    return S_OK;
  }
  // imapisupport-compareentryids.md: the same bytes are the same object.
  STDMETHODIMP CompareEntryIDs(ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                               ULONG ulFlags, ULONG* lpulResult) override {
    if (ulFlags != 0) return fail(MAPI_E_UNKNOWN_FLAGS, "CompareEntryIDs: ulFlags is reserved");
    if (lpulResult == nullptr || lpEntryID1 == nullptr || lpEntryID2 == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "CompareEntryIDs: a null pointer");
    *lpulResult = (cbEntryID1 == cbEntryID2 && std::memcmp(lpEntryID1, lpEntryID2, cbEntryID1) == 0) ? TRUE : FALSE;
    return S_OK;
  }
  STDMETHODIMP OpenTemplateID(ULONG, LPENTRYID, ULONG, LPMAPIPROP, LPCIID, LPMAPIPROP*, LPMAPIPROP) override {
    return no_support("OpenTemplateID");
  }
  STDMETHODIMP OpenEntry(ULONG, LPENTRYID, LPCIID, ULONG, ULONG*, LPUNKNOWN*) override {
    return no_support("OpenEntry");
  }
  STDMETHODIMP GetOneOffTable(ULONG, LPMAPITABLE*) override { return no_support("GetOneOffTable"); }
  STDMETHODIMP Address(ULONG_PTR*, LPADRPARM, LPADRLIST*) override { return no_support("Address"); }
  STDMETHODIMP Details(ULONG_PTR*, LPFNDISMISS, LPVOID, ULONG, LPENTRYID, LPFNBUTTON, LPVOID, LPSTR,
                       ULONG) override {
    return no_support("Details");
  }
  STDMETHODIMP NewEntry(ULONG_PTR, ULONG, ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG*, LPENTRYID*) override {
    return no_support("NewEntry");
  }
  STDMETHODIMP DoConfigPropsheet(ULONG_PTR, ULONG, LPSTR, LPMAPITABLE, LPMAPIPROP, ULONG) override {
    return no_support("DoConfigPropsheet");
  }
  STDMETHODIMP CopyMessages(LPCIID, LPVOID, LPENTRYLIST, LPCIID, LPVOID, ULONG_PTR, LPMAPIPROGRESS, ULONG) override {
    return no_support("CopyMessages");
  }
  STDMETHODIMP CopyFolder(LPCIID, LPVOID, ULONG, LPENTRYID, LPCIID, LPVOID, LPSTR, ULONG_PTR, LPMAPIPROGRESS,
                          ULONG) override {
    return no_support("CopyFolder");
  }
  STDMETHODIMP DoCopyTo(LPCIID, LPVOID, ULONG, LPCIID, LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID,
                        ULONG, LPSPropProblemArray*) override {
    return no_support("DoCopyTo");
  }
  STDMETHODIMP DoCopyProps(LPCIID, LPVOID, LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                           LPSPropProblemArray*) override {
    return no_support("DoCopyProps");
  }
  STDMETHODIMP DoProgressDialog(ULONG_PTR, ULONG, LPMAPIPROGRESS*) override { return no_support("DoProgressDialog"); }
  STDMETHODIMP ReadReceipt(ULONG, LPMESSAGE, LPMESSAGE*) override { return no_support("ReadReceipt"); }
  STDMETHODIMP PrepareSubmit(LPMESSAGE, ULONG*) override { return no_support("PrepareSubmit"); }
  STDMETHODIMP ExpandRecips(LPMESSAGE, ULONG*) override { return no_support("ExpandRecips"); }
  STDMETHODIMP DoSentMail(ULONG, LPMESSAGE) override { return no_support("DoSentMail"); }
  STDMETHODIMP OpenAddressBook(LPCIID, ULONG, LPADRBOOK*) override { return no_support("OpenAddressBook"); }
  STDMETHODIMP CompleteMsg(ULONG, ULONG, LPENTRYID) override { return no_support("CompleteMsg"); }
  // imapisupport-storelogofftransports.md: the transports the store's
  // messages go through are logged off first; pstkit starts no transport,
  // so there is none to wait for and the store may go.
  STDMETHODIMP StoreLogoffTransports(ULONG* lpulFlags) override {
    if (lpulFlags == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "StoreLogoffTransports: lpulFlags is NULL");
    return S_OK;
  }
  STDMETHODIMP StatusRecips(LPMESSAGE, LPADRLIST) override { return no_support("StatusRecips"); }
  // imapisupport-wrapstoreentryid.md: the provider's own store entry ID in
  // MAPI's wrapped form, the one the message stores table shows.
  STDMETHODIMP WrapStoreEntryID(ULONG cbOrigEntry, LPENTRYID lpOrigEntry, ULONG* lpcbWrappedEntry,
                                LPENTRYID* lppWrappedEntry) override {
    if (lpOrigEntry == nullptr || lpcbWrappedEntry == nullptr || lppWrappedEntry == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "WrapStoreEntryID: a null pointer");
    const Bytes wrapped =
        wrapped_store_entry_id(dll_name_, ByteView(reinterpret_cast<const uint8_t*>(lpOrigEntry), cbOrigEntry));
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateBuffer(ULONG(wrapped.size()), &p); sc != S_OK) return fail(sc, "out of memory");
    std::memcpy(p, wrapped.data(), wrapped.size());
    *lpcbWrappedEntry = ULONG(wrapped.size());
    *lppWrappedEntry = static_cast<LPENTRYID>(p);
    return S_OK;
  }
  STDMETHODIMP ModifyProfile(ULONG) override { return no_support("ModifyProfile"); }
  STDMETHODIMP IStorageFromStream(LPUNKNOWN, LPCIID, ULONG, LPSTORAGE*) override {
    return no_support("IStorageFromStream");
  }
  STDMETHODIMP GetSvcConfigSupportObj(ULONG, LPMAPISUP*) override { return no_support("GetSvcConfigSupportObj"); }

 private:
  friend class ComObject<StoreSupport, IMAPISupport, IID_IMAPISup>;
  ~StoreSupport() { end_logon(false); }

  HRESULT fail(HRESULT hr, std::string detail) { return last_.set(hr, std::move(detail)); }
  HRESULT no_support(const char* method) {
    return fail(MAPI_E_NO_SUPPORT, std::string(method) + ": not supported by a store provider's support object");
  }

  struct Uids {
    std::mutex mutex;
    std::vector<MapiUid> list;
    void add(const MapiUid& uid) {
      std::lock_guard lock(mutex);
      list.push_back(uid);
    }
    void clear() {
      std::lock_guard lock(mutex);
      list.clear();
    }
  };

  std::atomic<LPMSLOGON> logon_{nullptr};
  std::atomic<bool> ended_{false};
  const std::string profile_;
  const std::string dll_name_;
  const MapiUid provider_uid_;
  const ProviderUid session_provider_;  // the session's row of the provider
  const std::shared_ptr<ProviderStatusRows> status_rows_;
  Uids uids_;
  LastError last_{"pstkit MAPI support"};
};

// The provider's own part of a wrapped store entry ID (after the library
// name's NUL; wrapped_store_entry_id), which Logon is given.
Bytes unwrapped_store_entry_id(const Bytes& wrapped) {
  constexpr size_t kNameAt = 4 + 16 + 1 + 1;  // flags, MUIDSTOREWRAP, version, flag
  for (size_t i = kNameAt; i < wrapped.size(); ++i)
    if (wrapped[i] == 0) return Bytes(wrapped.begin() + long(i) + 1, wrapped.end());
  return {};
}

std::string mapi_error_text(LPMAPIERROR error) {
  if (error == nullptr) return {};
  std::string text;
  // Logon was not given MAPI_UNICODE: the strings are 8-bit.
  if (error->lpszComponent != nullptr) text = std::string(reinterpret_cast<const char*>(error->lpszComponent)) + ": ";
  if (error->lpszError != nullptr) text += reinterpret_cast<const char*>(error->lpszError);
  return text;
}

}  // namespace

HRESULT logon_library_store(const StoreOpenRequest& request, LPMDB* out, std::string* error) {
  *out = nullptr;
  error->clear();
  const auto& provider = request.provider;
  LPMSPROVIDER ms = library_store_provider(provider.logon.provider_object);
  if (ms == nullptr) return MAPI_E_NO_SUPPORT;
  MapiUid provider_uid;
  std::copy(provider.provider_uid.begin(), provider.provider_uid.end(), provider_uid.begin());
  auto* support = new (std::nothrow)
      StoreSupport(request.profile, provider.dll_name, provider_uid, provider.provider_uid, request.status_rows);
  if (support == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  Bytes entry_id = unwrapped_store_entry_id(request.entry_id);
  // imsprovider-logon.md: MDB_NO_DIALOG, MDB_WRITE, MDB_TEMPORARY,
  // MDB_NO_MAIL and MAPI_DEFERRED_ERRORS are Logon's flags too.
  const ULONG flags = request.flags & (MDB_NO_DIALOG | MDB_WRITE | MDB_TEMPORARY | MDB_NO_MAIL | MAPI_DEFERRED_ERRORS);
  std::string profile = request.profile;
  ULONG cb_spool_security = 0;
  LPBYTE spool_security = nullptr;
  LPMAPIERROR mapi_error = nullptr;
  LPMSLOGON logon = nullptr;
  LPMDB store = nullptr;
  HRESULT hr = ms->Logon(support, request.ui_param, profile.data(), ULONG(entry_id.size()),
                         entry_id.empty() ? nullptr : reinterpret_cast<LPENTRYID>(entry_id.data()), flags,
                         request.interface_id, &cb_spool_security, &spool_security, &mapi_error, &logon, &store);
  // The spooler's credentials: pstkit has no spooler to give them to.
  if (spool_security != nullptr) MAPIFreeBuffer(spool_security);
  if (FAILED(hr) || logon == nullptr || store == nullptr) {
    *error = mapi_error_text(mapi_error);
    if (mapi_error != nullptr) MAPIFreeBuffer(mapi_error);
    if (logon != nullptr) logon->Release();
    if (store != nullptr) store->Release();
    support->Release();
    return FAILED(hr) ? hr : MAPI_E_CALL_FAILED;
  }
  if (mapi_error != nullptr) MAPIFreeBuffer(mapi_error);
  support->set_logon(logon);
  // The runtime's reference: kept until the session drops the provider,
  // which logs the store off then if the client has not released it.
  at_provider_end(provider.logon.provider_object, [support](bool calls_allowed) {
    support->end_logon(calls_allowed);
    support->Release();
  });
  *out = store;
  return hr;
}

}  // namespace pstkit::mapi::capi
