// A third-party store provider for tests/mapi_store_provider_test.cpp: a
// shared library whose MSProviderInit returns an IMSProvider, written only
// against the MAPI headers (no pstkit symbol), as a provider built for
// Microsoft's would be. CMake builds it once per behaviour
// (TEST_STORE_PROVIDER_MODE):
//   ok         IMSProvider::Logon opens a trivial in-memory IMsgStore
//   faillogon  Logon fails with MAPI_E_NETWORK_ERROR and a MAPIERROR
// Its IMsgStore answers GetProps of PR_DISPLAY_NAME, PR_RECORD_KEY,
// PR_ENTRYID and PR_STORE_SUPPORT_MASK, StoreLogoff and the IUnknown
// methods, and leaves notifications to MAPI (supporting-event-
// notification.md): Advise subscribes the client's sink through
// IMAPISupport::Subscribe under the key of the advise source (the store's
// record key for the whole store, NOTIFY_SYNC; an object's entry ID,
// asynchronous), Unadvise unsubscribes it, and NotifyNewMail sends the
// notification through IMAPISupport::Notify to the store's key and to its
// parent folder's. At logon it puts its row in the status table
// (ModifyStatusRow); StoreLogoff updates it (STATUSROW_UPDATE) to
// STATUS_OFFLINE. With $PSTKIT_TEST_PROVIDER_STATUS_OBJECT set,
// IMSLogon::OpenStatusEntry gives a status object of its own (ProviderStatus).
// Everything else is MAPI_E_NO_SUPPORT. The store and its
// IMSLogon are created and freed together (imsprovider-logon.md); the
// store's last Release releases the support object
// (shutting-down-a-message-store-provider.md). Every call of interest is
// appended to $PSTKIT_TEST_PROVIDER_LOG as "MODE METHOD".
#include <mapix.h>
#include <mapispi.h>
#include <mapitags.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifndef TEST_STORE_PROVIDER_MODE
#error "TEST_STORE_PROVIDER_MODE must name the behaviour"
#endif

namespace {

const std::string kMode = TEST_STORE_PROVIDER_MODE;
LPALLOCATEBUFFER g_allocate = nullptr;
LPALLOCATEMORE g_allocate_more = nullptr;
LPFREEBUFFER g_free = nullptr;

void log_call(const std::string& what) {
  const char* path = std::getenv("PSTKIT_TEST_PROVIDER_LOG");
  if (path == nullptr) return;
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s %s\n", kMode.c_str(), what.c_str());
    std::fclose(f);
  }
}

constexpr ULONG kSupportMask = STORE_ENTRYID_UNIQUE | STORE_READONLY;

// The store and its logon object: two interfaces of one logical object,
// each with its own reference count; freed when both have reached 0.
struct StorePair;

class Store final : public IMsgStore {
 public:
  explicit Store(StorePair* pair) : pair_(pair) {}
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override;
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override;
  STDMETHODIMP GetLastError(HRESULT, ULONG, LPMAPIERROR* e) override {
    if (e) *e = nullptr;
    return S_OK;
  }
  STDMETHODIMP SaveChanges(ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetProps(LPSPropTagArray tags, ULONG flags, ULONG* count, LPSPropValue* props) override;
  STDMETHODIMP GetPropList(ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP OpenProperty(ULONG, LPCIID, ULONG, ULONG, LPUNKNOWN*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetProps(ULONG, LPSPropValue, LPSPropProblemArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP DeleteProps(LPSPropTagArray, LPSPropProblemArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP CopyTo(ULONG, LPCIID, LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                      LPSPropProblemArray*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP CopyProps(LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                         LPSPropProblemArray*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetNamesFromIDs(LPSPropTagArray*, LPGUID, ULONG, ULONG*, LPMAPINAMEID**) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetIDsFromNames(ULONG, LPMAPINAMEID*, ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP Advise(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink,
                      ULONG_PTR* lpulConnection) override;
  STDMETHODIMP Unadvise(ULONG_PTR ulConnection) override;
  STDMETHODIMP CompareEntryIDs(ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG, ULONG*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP OpenEntry(ULONG, LPENTRYID, LPCIID, ULONG, ULONG*, LPUNKNOWN*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetReceiveFolder(LPTSTR, ULONG, ULONG, LPENTRYID) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetReceiveFolder(LPTSTR, ULONG, ULONG*, LPENTRYID*, LPTSTR*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetReceiveFolderTable(ULONG, LPMAPITABLE*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP StoreLogoff(ULONG* lpulFlags) override;
  STDMETHODIMP AbortSubmit(ULONG, LPENTRYID, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetOutgoingQueue(ULONG, LPMAPITABLE*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetLockState(LPMESSAGE, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP FinishedMsg(ULONG, ULONG, LPENTRYID) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP NotifyNewMail(LPNOTIFICATION lpNotification) override;

 private:
  StorePair* pair_;
  std::atomic<ULONG> refs_{1};
};

// The provider's own status object (imslogon-openstatusentry.md), when
// $PSTKIT_TEST_PROVIDER_STATUS_OBJECT is set: PR_OBJECT_TYPE,
// PR_RESOURCE_METHODS (STATUS_VALIDATE_STATE) and PR_STATUS_STRING; its
// ValidateState is logged.
class ProviderStatus final : public IMAPIStatus {
 public:
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    *ppv = nullptr;
    if (riid != IID_IUnknown && riid != IID_IMAPIProp && riid != IID_IMAPIStatus) return E_NOINTERFACE;
    AddRef();
    *ppv = static_cast<IMAPIStatus*>(this);
    return S_OK;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override {
    const ULONG left = --refs_;
    if (left == 0) delete this;
    return left;
  }
  STDMETHODIMP GetLastError(HRESULT, ULONG, LPMAPIERROR* e) override {
    if (e) *e = nullptr;
    return S_OK;
  }
  STDMETHODIMP SaveChanges(ULONG) override { return S_OK; }
  STDMETHODIMP GetProps(LPSPropTagArray tags, ULONG, ULONG* count, LPSPropValue* props) override {
    if (count == nullptr || props == nullptr || tags == nullptr) return MAPI_E_INVALID_PARAMETER;
    LPVOID block = nullptr;
    if (HRESULT hr = g_allocate(ULONG(sizeof(SPropValue) * tags->cValues), &block); hr != S_OK) return hr;
    auto* values = static_cast<LPSPropValue>(block);
    static const char kText[] = "Status object of the test provider";
    bool errors = false;
    for (ULONG i = 0; i < tags->cValues; ++i) {
      SPropValue& v = values[i];
      std::memset(&v, 0, sizeof v);
      v.ulPropTag = tags->aulPropTag[i];
      if (v.ulPropTag == PR_OBJECT_TYPE) {
        v.Value.l = LONG(MAPI_STATUS);
      } else if (v.ulPropTag == PR_RESOURCE_METHODS) {
        v.Value.l = LONG(STATUS_VALIDATE_STATE);
      } else if (v.ulPropTag == PR_STATUS_STRING_A) {
        v.Value.lpszA = const_cast<LPSTR>(kText);  // static: the caller frees only the block
      } else {
        v.ulPropTag = PROP_TAG(PT_ERROR, PROP_ID(tags->aulPropTag[i]));
        v.Value.err = MAPI_E_NOT_FOUND;
        errors = true;
      }
    }
    *count = tags->cValues;
    *props = values;
    return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
  }
  STDMETHODIMP GetPropList(ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP OpenProperty(ULONG, LPCIID, ULONG, ULONG, LPUNKNOWN*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetProps(ULONG, LPSPropValue, LPSPropProblemArray*) override { return MAPI_E_NO_ACCESS; }
  STDMETHODIMP DeleteProps(LPSPropTagArray, LPSPropProblemArray*) override { return MAPI_E_NO_ACCESS; }
  STDMETHODIMP CopyTo(ULONG, LPCIID, LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                      LPSPropProblemArray*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP CopyProps(LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                         LPSPropProblemArray*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetNamesFromIDs(LPSPropTagArray*, LPGUID, ULONG, ULONG*, LPMAPINAMEID**) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetIDsFromNames(ULONG, LPMAPINAMEID*, ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP ValidateState(ULONG_PTR, ULONG ulFlags) override {
    log_call("IMAPIStatus::ValidateState flags=" + std::to_string(ulFlags));
    return S_OK;
  }
  STDMETHODIMP SettingsDialog(ULONG_PTR, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP ChangePassword(LPSTR, LPSTR, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP FlushQueues(ULONG_PTR, ULONG, LPENTRYID, ULONG) override { return MAPI_E_NO_SUPPORT; }

 private:
  std::atomic<ULONG> refs_{1};
};

class Logon final : public IMSLogon {
 public:
  explicit Logon(StorePair* pair) : pair_(pair) {}
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    *ppv = nullptr;
    if (riid != IID_IUnknown && riid != IID_IMSLogon) return E_NOINTERFACE;
    AddRef();
    *ppv = static_cast<IMSLogon*>(this);
    return S_OK;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override;
  STDMETHODIMP GetLastError(HRESULT, ULONG, LPMAPIERROR* e) override {
    if (e) *e = nullptr;
    return S_OK;
  }
  STDMETHODIMP Logoff(ULONG* lpulFlags) override {
    log_call(lpulFlags != nullptr && *lpulFlags == 0 ? "IMSLogon::Logoff" : "IMSLogon::Logoff(bad flags)");
    return S_OK;
  }
  STDMETHODIMP OpenEntry(ULONG, LPENTRYID, LPCIID, ULONG, ULONG*, LPUNKNOWN*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP CompareEntryIDs(ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG, ULONG*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP Advise(ULONG, LPENTRYID, ULONG, LPMAPIADVISESINK, ULONG_PTR*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP Unadvise(ULONG_PTR) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP OpenStatusEntry(LPCIID lpInterface, ULONG ulFlags, ULONG* lpulObjType, LPVOID* lppEntry) override {
    if (std::getenv("PSTKIT_TEST_PROVIDER_STATUS_OBJECT") == nullptr) return MAPI_E_NO_SUPPORT;
    if (lpulObjType == nullptr || lppEntry == nullptr) return MAPI_E_INVALID_PARAMETER;
    if (lpInterface != nullptr && *lpInterface != IID_IMAPIStatus) return MAPI_E_INTERFACE_NOT_SUPPORTED;
    log_call("IMSLogon::OpenStatusEntry flags=" + std::to_string(ulFlags));
    *lpulObjType = MAPI_STATUS;
    *lppEntry = static_cast<IMAPIStatus*>(new ProviderStatus);
    return S_OK;
  }

 private:
  StorePair* pair_;
  std::atomic<ULONG> refs_{1};
};

struct StorePair {
  StorePair(LPMAPISUP s, std::vector<BYTE> rk, std::vector<BYTE> eid)
      : support(s), record_key(std::move(rk)), entry_id(std::move(eid)), store(this), logon(this) {}
  LPMAPISUP support;  // one reference, released by the store's last Release
  std::vector<BYTE> record_key;
  std::vector<BYTE> entry_id;  // wrapped (IMAPISupport::WrapStoreEntryID)
  bool logged_off = false;     // StoreLogoffTransports called
  std::atomic<int> alive{2};   // store and logon
  Store store;
  Logon logon;
  void one_gone() {
    if (--alive == 0) delete this;
  }
};

STDMETHODIMP Store::QueryInterface(REFIID riid, void** ppv) {
  if (ppv == nullptr) return E_INVALIDARG;
  *ppv = nullptr;
  if (riid != IID_IUnknown && riid != IID_IMsgStore && riid != IID_IMAPIProp) return E_NOINTERFACE;
  AddRef();
  *ppv = static_cast<IMsgStore*>(this);
  return S_OK;
}

STDMETHODIMP_(ULONG) Store::Release() {
  const ULONG left = --refs_;
  if (left != 0) return left;
  log_call("IMsgStore::Release");
  StorePair* pair = pair_;
  // shutting-down-a-message-store-provider.md: without StoreLogoff,
  // StoreLogoffTransports with LOGOFF_ABORT; then the support object's
  // Release, which makes MAPI log the store off.
  if (!pair->logged_off) {
    ULONG flags = LOGOFF_ABORT;
    pair->support->StoreLogoffTransports(&flags);
    pair->logged_off = true;
  }
  LPMAPISUP support = pair->support;
  pair->support = nullptr;
  support->Release();
  pair->one_gone();
  return 0;
}

STDMETHODIMP_(ULONG) Logon::Release() {
  const ULONG left = --refs_;
  if (left != 0) return left;
  log_call("IMSLogon::Release");
  pair_->one_gone();
  return 0;
}

STDMETHODIMP Store::StoreLogoff(ULONG* lpulFlags) {
  log_call("IMsgStore::StoreLogoff");
  if (lpulFlags == nullptr) return MAPI_E_INVALID_PARAMETER;
  if (!pair_->logged_off && pair_->support != nullptr) {
    pair_->support->StoreLogoffTransports(lpulFlags);
    pair_->logged_off = true;
    // The status row says so; the other columns stay as they were.
    SPropValue update[2];
    update[0].ulPropTag = PR_STATUS_CODE;
    update[0].Value.l = LONG(STATUS_OFFLINE);
    update[1].ulPropTag = PR_STATUS_STRING_A;
    update[1].Value.lpszA = const_cast<LPSTR>("Logged off");
    if (pair_->support->ModifyStatusRow(2, update, STATUSROW_UPDATE) == S_OK) log_call("support ModifyStatusRow update");
  }
  return S_OK;
}

// The notification key of an advise source (notifkey.md): the store's
// record key, or the object's entry ID.
std::vector<BYTE> notif_key(const std::vector<BYTE>& bytes) {
  std::vector<BYTE> key(CbNewNOTIFKEY(bytes.size()));
  auto* k = reinterpret_cast<LPNOTIFKEY>(key.data());
  k->cb = ULONG(bytes.size());
  std::memcpy(k->ab, bytes.data(), bytes.size());
  return key;
}

STDMETHODIMP Store::Advise(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink,
                           ULONG_PTR* lpulConnection) {
  if (pair_->support == nullptr) return MAPI_E_CALL_FAILED;
  const bool store_wide = cbEntryID == 0 || lpEntryID == nullptr;
  std::vector<BYTE> key = notif_key(
      store_wide ? pair_->record_key
                 : std::vector<BYTE>(reinterpret_cast<LPBYTE>(lpEntryID), reinterpret_cast<LPBYTE>(lpEntryID) + cbEntryID));
  return pair_->support->Subscribe(reinterpret_cast<LPNOTIFKEY>(key.data()), ulEventMask,
                                   store_wide ? NOTIFY_SYNC : 0, lpAdviseSink, lpulConnection);
}

STDMETHODIMP Store::Unadvise(ULONG_PTR ulConnection) {
  if (pair_->support == nullptr) return MAPI_E_CALL_FAILED;
  return pair_->support->Unsubscribe(ulConnection);
}

STDMETHODIMP Store::NotifyNewMail(LPNOTIFICATION lpNotification) {
  if (lpNotification == nullptr) return MAPI_E_INVALID_PARAMETER;
  if (pair_->support == nullptr) return MAPI_E_CALL_FAILED;
  std::vector<std::vector<BYTE>> keys = {notif_key(pair_->record_key)};
  if (lpNotification->ulEventType == fnevNewMail && lpNotification->info.newmail.lpParentID != nullptr) {
    auto* parent = reinterpret_cast<LPBYTE>(lpNotification->info.newmail.lpParentID);
    keys.push_back(notif_key(std::vector<BYTE>(parent, parent + lpNotification->info.newmail.cbParentID)));
  }
  for (auto& key : keys) {
    ULONG flags = 0;
    HRESULT hr = pair_->support->Notify(reinterpret_cast<LPNOTIFKEY>(key.data()), 1, lpNotification, &flags);
    if (hr != S_OK) return hr;
    if (flags & NOTIFY_CANCELED) log_call("support Notify canceled");
  }
  return S_OK;
}

HRESULT copy_binary(const std::vector<BYTE>& bytes, LPVOID parent, SBinary* out) {
  LPVOID p = nullptr;
  if (HRESULT hr = g_allocate_more(ULONG(bytes.size()), parent, &p); hr != S_OK) return hr;
  std::memcpy(p, bytes.data(), bytes.size());
  out->cb = ULONG(bytes.size());
  out->lpb = static_cast<LPBYTE>(p);
  return S_OK;
}

STDMETHODIMP Store::GetProps(LPSPropTagArray tags, ULONG flags, ULONG* count, LPSPropValue* props) {
  if (count == nullptr || props == nullptr) return MAPI_E_INVALID_PARAMETER;
  static const ULONG kAll[] = {PR_DISPLAY_NAME_A, PR_RECORD_KEY, PR_ENTRYID, PR_STORE_SUPPORT_MASK};
  std::vector<ULONG> want;
  if (tags == nullptr) want.assign(std::begin(kAll), std::end(kAll));
  else want.assign(tags->aulPropTag, tags->aulPropTag + tags->cValues);
  LPVOID block = nullptr;
  if (HRESULT hr = g_allocate(ULONG(sizeof(SPropValue) * (want.size() ? want.size() : 1)), &block); hr != S_OK)
    return hr;
  auto* values = static_cast<LPSPropValue>(block);
  bool errors = false;
  for (size_t i = 0; i < want.size(); ++i) {
    SPropValue& v = values[i];
    std::memset(&v, 0, sizeof v);
    v.ulPropTag = want[i];
    HRESULT hr = S_OK;
    const std::string name = "Test store (" + kMode + ")";
    if (want[i] == PR_DISPLAY_NAME_A || (want[i] == PR_DISPLAY_NAME && !(flags & MAPI_UNICODE))) {
      v.ulPropTag = PR_DISPLAY_NAME_A;
      LPVOID p = nullptr;
      hr = g_allocate_more(ULONG(name.size() + 1), block, &p);
      if (hr == S_OK) {
        std::memcpy(p, name.c_str(), name.size() + 1);
        v.Value.lpszA = static_cast<LPSTR>(p);
      }
    } else if (want[i] == PR_RECORD_KEY) {
      hr = copy_binary(pair_->record_key, block, &v.Value.bin);
    } else if (want[i] == PR_ENTRYID) {
      hr = copy_binary(pair_->entry_id, block, &v.Value.bin);
    } else if (want[i] == PR_STORE_SUPPORT_MASK) {
      v.Value.l = LONG(kSupportMask);
    } else {
      v.ulPropTag = PROP_TAG(PT_ERROR, PROP_ID(want[i]));
      v.Value.err = MAPI_E_NOT_FOUND;
      errors = true;
    }
    if (hr != S_OK) {
      g_free(block);
      return hr;
    }
  }
  *count = ULONG(want.size());
  *props = values;
  return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
}

// Exercises the support object's other implemented methods and logs what
// they answered, for the test to compare.
void check_support(LPMAPISUP sup, const std::vector<BYTE>& record_key) {
  MAPIUID a{};
  MAPIUID b{};
  const MAPIUID zero{};
  if (sup->NewUID(&a) == S_OK && sup->NewUID(&b) == S_OK && std::memcmp(&a, &b, sizeof a) != 0 &&
      std::memcmp(&a, &zero, sizeof a) != 0)
    log_call("support NewUID distinct");
  BYTE one[] = {0, 0, 0, 0, 1, 2, 3};
  BYTE same[] = {0, 0, 0, 0, 1, 2, 3};
  BYTE other[] = {0, 0, 0, 0, 1, 2, 4};
  ULONG r1 = 2;
  ULONG r2 = 2;
  if (sup->CompareEntryIDs(sizeof one, reinterpret_cast<LPENTRYID>(one), sizeof same, reinterpret_cast<LPENTRYID>(same),
                           0, &r1) == S_OK &&
      sup->CompareEntryIDs(sizeof one, reinterpret_cast<LPENTRYID>(one), sizeof other,
                           reinterpret_cast<LPENTRYID>(other), 0, &r2) == S_OK)
    log_call("support CompareEntryIDs " + std::to_string(r1) + " " + std::to_string(r2));
  // imapisupport-openprofilesection.md: NULL is the provider's own section.
  LPPROFSECT section = nullptr;
  if (sup->OpenProfileSection(nullptr, 0, &section) == S_OK) {
    SizedSPropTagArray(1, tags) = {1, {PROP_TAG(PT_BINARY, 0x300C) /* PR_PROVIDER_UID */}};
    ULONG n = 0;
    LPSPropValue v = nullptr;
    if (section->GetProps(reinterpret_cast<LPSPropTagArray>(&tags), 0, &n, &v) == S_OK && n == 1 &&
        v[0].Value.bin.cb == record_key.size() &&
        std::memcmp(v[0].Value.bin.lpb, record_key.data(), record_key.size()) == 0)
      log_call("support OpenProfileSection own section");
    if (v != nullptr) g_free(v);
    section->Release();
  }
  // Subscribe needs a key and a sink; Unsubscribe a connection this logon
  // made; ModifyStatusRow knows one flag.
  ULONG_PTR connection = 0;
  if (sup->Subscribe(nullptr, fnevNewMail, 0, nullptr, &connection) == MAPI_E_INVALID_PARAMETER) {
    LPMAPIERROR e = nullptr;
    if (sup->GetLastError(MAPI_E_INVALID_PARAMETER, 0, &e) == S_OK && e != nullptr && e->lpszError != nullptr)
      log_call("support Subscribe without a key refused, explained");
    if (e != nullptr) g_free(e);
  }
  if (sup->Unsubscribe(12345) == MAPI_E_NOT_FOUND) log_call("support Unsubscribe of no registration: not found");
  if (sup->ModifyStatusRow(0, nullptr, 0x1) == MAPI_E_UNKNOWN_FLAGS) log_call("support ModifyStatusRow bad flags");
  // status-tables.md: the columns a status object provides, and one of
  // this provider's own.
  SPropValue row[6];
  row[0].ulPropTag = PR_DISPLAY_NAME_A;
  row[0].Value.lpszA = const_cast<LPSTR>("Test store status");
  row[1].ulPropTag = PR_STATUS_CODE;
  row[1].Value.l = LONG(STATUS_AVAILABLE);
  row[2].ulPropTag = PR_RESOURCE_METHODS;
  row[2].Value.l = LONG(STATUS_VALIDATE_STATE);
  row[3].ulPropTag = PR_STATUS_STRING_A;
  row[3].Value.lpszA = const_cast<LPSTR>("Connected to the test server");
  row[4].ulPropTag = PR_STORE_RECORD_KEY;
  row[4].Value.bin.cb = ULONG(record_key.size());
  row[4].Value.bin.lpb = const_cast<LPBYTE>(record_key.data());
  row[5].ulPropTag = PR_RESOURCE_TYPE;  // MAPI's to compute: ignored
  row[5].Value.l = 0;
  if (sup->ModifyStatusRow(6, row, 0) == S_OK) log_call("support ModifyStatusRow");
}

class StoreProvider final : public IMSProvider {
 public:
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    *ppv = nullptr;
    if (riid != IID_IUnknown && riid != IID_IMSProvider) return E_NOINTERFACE;
    AddRef();
    *ppv = static_cast<IMSProvider*>(this);
    return S_OK;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override {
    const ULONG left = --refs_;
    if (left == 0) {
      log_call("IMSProvider::Release");
      delete this;
    }
    return left;
  }
  STDMETHODIMP Shutdown(ULONG* lpulFlags) override {
    log_call(lpulFlags != nullptr && *lpulFlags == 0 ? "IMSProvider::Shutdown" : "IMSProvider::Shutdown(bad flags)");
    return S_OK;
  }

  // imsprovider-logon.md
  STDMETHODIMP Logon(LPMAPISUP lpMAPISup, ULONG_PTR, LPSTR lpszProfileName, ULONG cbEntryID, LPENTRYID lpEntryID,
                     ULONG, LPCIID lpInterface, ULONG* lpcbSpoolSecurity, LPBYTE* lppbSpoolSecurity,
                     LPMAPIERROR* lppMAPIError, LPMSLOGON* lppMSLogon, LPMDB* lppMDB) override {
    log_call(std::string("IMSProvider::Logon profile=") + (lpszProfileName ? lpszProfileName : "(null)") +
             " entryid=" + std::to_string(cbEntryID));
    if (lpMAPISup == nullptr || lppMSLogon == nullptr || lppMDB == nullptr || lppMAPIError == nullptr ||
        lpcbSpoolSecurity == nullptr || lppbSpoolSecurity == nullptr)
      return MAPI_E_INVALID_PARAMETER;
    *lppMSLogon = nullptr;
    *lppMDB = nullptr;
    *lppMAPIError = nullptr;
    if (lpInterface != nullptr && *lpInterface != IID_IMsgStore && *lpInterface != IID_IUnknown)
      return MAPI_E_INTERFACE_NOT_SUPPORTED;
    if (kMode == "faillogon") {
      // A MAPIERROR the caller frees with MAPIFreeBuffer (8-bit strings:
      // no MAPI_UNICODE).
      LPVOID p = nullptr;
      if (g_allocate(sizeof(MAPIERROR), &p) == S_OK) {
        auto* e = static_cast<LPMAPIERROR>(p);
        std::memset(e, 0, sizeof *e);
        static const char kError[] = "the test store's server is unreachable";
        static const char kComponent[] = "teststore";
        LPVOID s1 = nullptr;
        LPVOID s2 = nullptr;
        g_allocate_more(sizeof kError, p, &s1);
        g_allocate_more(sizeof kComponent, p, &s2);
        std::memcpy(s1, kError, sizeof kError);
        std::memcpy(s2, kComponent, sizeof kComponent);
        e->lpszError = static_cast<LPTSTR>(s1);
        e->lpszComponent = static_cast<LPTSTR>(s2);
        *lppMAPIError = e;
      }
      return MAPI_E_NETWORK_ERROR;
    }
    // The support object's memory routines are MSProviderInit's.
    LPALLOCATEBUFFER a = nullptr;
    LPALLOCATEMORE m = nullptr;
    LPFREEBUFFER f = nullptr;
    if (lpMAPISup->GetMemAllocRoutines(&a, &m, &f) != S_OK || a != g_allocate || m != g_allocate_more || f != g_free)
      return MAPI_E_CALL_FAILED;
    // The store's record key: the unwrapped entry ID MAPI gave (this
    // provider's store entry IDs are its 16-byte UID), registered as ours.
    if (lpEntryID == nullptr || cbEntryID != sizeof(MAPIUID)) return MAPI_E_INVALID_ENTRYID;
    std::vector<BYTE> record_key(reinterpret_cast<LPBYTE>(lpEntryID), reinterpret_cast<LPBYTE>(lpEntryID) + cbEntryID);
    MAPIUID uid;
    std::memcpy(uid.ab, record_key.data(), sizeof uid.ab);
    if (HRESULT hr = lpMAPISup->SetProviderUID(&uid, 0); hr != S_OK) return hr;
    ULONG cb_wrapped = 0;
    LPENTRYID wrapped = nullptr;
    if (HRESULT hr = lpMAPISup->WrapStoreEntryID(cbEntryID, lpEntryID, &cb_wrapped, &wrapped); hr != S_OK)
      return hr;
    std::vector<BYTE> entry_id(reinterpret_cast<LPBYTE>(wrapped), reinterpret_cast<LPBYTE>(wrapped) + cb_wrapped);
    g_free(wrapped);
    check_support(lpMAPISup, record_key);
    // The spooler's credentials: a copy of the entry ID.
    LPVOID spool = nullptr;
    if (g_allocate(cbEntryID, &spool) != S_OK) return MAPI_E_NOT_ENOUGH_MEMORY;
    std::memcpy(spool, lpEntryID, cbEntryID);
    lpMAPISup->AddRef();  // imsprovider-logon.md: the store keeps the support object
    auto* pair = new StorePair(lpMAPISup, std::move(record_key), std::move(entry_id));
    *lpcbSpoolSecurity = cbEntryID;
    *lppbSpoolSecurity = static_cast<LPBYTE>(spool);
    *lppMSLogon = &pair->logon;
    *lppMDB = &pair->store;
    return S_OK;
  }
  STDMETHODIMP SpoolerLogon(LPMAPISUP, ULONG_PTR, LPSTR, ULONG, LPENTRYID, ULONG, LPCIID, ULONG, LPBYTE,
                            LPMAPIERROR*, LPMSLOGON*, LPMDB*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP CompareStoreIDs(ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG, ULONG*) override {
    return MAPI_E_NO_SUPPORT;
  }

 private:
  ~StoreProvider() = default;
  std::atomic<ULONG> refs_{1};
};

}  // namespace

extern "C" HRESULT STDAPICALLTYPE MSProviderInit(HINSTANCE, LPMALLOC, LPALLOCATEBUFFER lpAllocateBuffer,
                                                 LPALLOCATEMORE lpAllocateMore, LPFREEBUFFER lpFreeBuffer, ULONG,
                                                 ULONG ulMAPIVer, ULONG* lpulProviderVer,
                                                 LPMSPROVIDER* lppMSProvider) {
  log_call("MSProviderInit");
  if (lpulProviderVer == nullptr || lppMSProvider == nullptr) return MAPI_E_INVALID_PARAMETER;
  *lppMSProvider = nullptr;
  *lpulProviderVer = CURRENT_SPI_VERSION;
  if (ulMAPIVer < CURRENT_SPI_VERSION) return MAPI_E_VERSION;
  g_allocate = lpAllocateBuffer;
  g_allocate_more = lpAllocateMore;
  g_free = lpFreeBuffer;
  *lppMSProvider = new StoreProvider;
  return S_OK;
}
