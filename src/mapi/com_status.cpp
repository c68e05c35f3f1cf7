// IMAPIStatus for the rows of the session's status table that the runtime
// itself answers for (com_status.h).
#include "mapi/com_status.h"

#include <algorithm>
#include <mutex>
#include <new>
#include <string>

#include "mapi/capi_convert.h"
#include "mapi/com_object.h"
#include "mapi/com_prop.h"
#include "mapi/last_error.h"
#include "pstkit/mapi/mapiutil.h"

namespace pstkit::mapi::capi {

PropValue in_string_kind(const PropValue& v, bool wide) {
  const uint16_t base = v.type() & ~kMvFlag;
  if (base != kPtString8 && base != kPtUnicode) return v;
  const uint16_t want = wide ? kPtUnicode : kPtString8;
  PropValue out = v;
  out.tag = change_prop_type(v.tag, uint16_t((v.type() & kMvFlag) | want));
  for (PropValue& e : out.values) e.tag = change_prop_type(e.tag, want);
  return out;
}

namespace {

constexpr PropTag kPrResourceMethods = 0x3E020003;
constexpr ULONG kValidateStateFlags = SUPPRESS_UI | REFRESH_XP_HEADER_CACHE | PROCESS_XP_HEADER_CACHE |
                                      FORCE_XP_CONNECT | FORCE_XP_DISCONNECT | CONFIG_CHANGED |
                                      ABORT_XP_HEADER_OPERATION | SHOW_XP_SESSION_UI;
constexpr ULONG kFlushQueuesFlags = FLUSH_UPLOAD | FLUSH_DOWNLOAD | FLUSH_FORCE | FLUSH_NO_UI | FLUSH_ASYNC_OK;
constexpr ULONG kCopyFlags = MAPI_MOVE | MAPI_NOREPLACE | MAPI_DIALOG | MAPI_DECLINE_OK;

class ComStatus final : public ComObject<ComStatus, IMAPIStatus, IID_IMAPIStatus> {
 public:
  explicit ComStatus(StatusObjectSource source) : source_(std::move(source)) {}

  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv != nullptr && riid == IID_IMAPIProp) {
      AddRef();
      *ppv = static_cast<IMAPIProp*>(this);
      return S_OK;
    }
    return ComObject::QueryInterface(riid, ppv);
  }

  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    return last_.get(hResult, ulFlags, lppMAPIError);
  }

  // Nontransacted (imapistatusimapiprop.md): nothing waits to be saved.
  STDMETHODIMP SaveChanges(ULONG ulFlags) override {
    if (ulFlags & ~(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS))
      return fail(MAPI_E_UNKNOWN_FLAGS, "SaveChanges: unknown flags");
    return S_OK;
  }

  // imapiprop-getprops.md: a property the row lacks, or asked for in a type
  // it does not have, is PT_ERROR with MAPI_E_NOT_FOUND and the call
  // returns MAPI_W_ERRORS_RETURNED. PT_UNSPECIFIED gives the stored type;
  // strings come in the kind MAPI_UNICODE asks for.
  STDMETHODIMP GetProps(LPSPropTagArray lpPropTagArray, ULONG ulFlags, ULONG* lpcValues,
                        LPSPropValue* lppPropArray) override {
    if (ulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetProps: unknown flags");
    if (lpcValues == nullptr || lppPropArray == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "GetProps: lpcValues or lppPropArray is NULL");
    *lpcValues = 0;
    *lppPropArray = nullptr;
    if (lpPropTagArray != nullptr && lpPropTagArray->cValues == 0)
      return fail(MAPI_E_INVALID_PARAMETER, "GetProps: an empty tag array");
    std::vector<PropValue> out;
    bool errors = false;
    try {
      // The runtime keeps both kinds of string as UTF-8: a kind is a tag.
      out = select_props(current(), lpPropTagArray, (ulFlags & MAPI_UNICODE) ? kPtUnicode : kPtString8,
                         [](const PropValue& v, uint16_t kind) { return in_string_kind(v, kind == kPtUnicode); },
                         &errors);
    } catch (const std::bad_alloc&) {
      return fail(MAPI_E_NOT_ENOUGH_MEMORY, "GetProps: out of memory");
    }
    LPSPropValue array = nullptr;
    if (Converted c = to_mapi(out, &array); !c.ok()) return fail(c.scode, "GetProps: " + c.detail);
    *lpcValues = ULONG(out.size());
    *lppPropArray = array;
    return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
  }

  STDMETHODIMP GetPropList(ULONG ulFlags, LPSPropTagArray* lppPropTagArray) override {
    if (ulFlags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetPropList: unknown flags");
    if (lppPropTagArray == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetPropList: lppPropTagArray is NULL");
    *lppPropTagArray = nullptr;
    std::vector<PropTag> tags;
    try {
      for (const PropValue& v : current()) tags.push_back(in_string_kind(v, (ulFlags & MAPI_UNICODE) != 0).tag);
    } catch (const std::bad_alloc&) {
      return fail(MAPI_E_NOT_ENOUGH_MEMORY, "GetPropList: out of memory");
    }
    if (Converted c = to_mapi(tags, lppPropTagArray); !c.ok()) return fail(c.scode, "GetPropList: " + c.detail);
    return S_OK;
  }

  // No property of a status object is an object or a stream.
  STDMETHODIMP OpenProperty(ULONG, LPCIID lpiid, ULONG, ULONG, LPUNKNOWN* lppUnk) override {
    if (lpiid == nullptr || lppUnk == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "OpenProperty: a null pointer");
    *lppUnk = nullptr;
    return fail(MAPI_E_NO_SUPPORT, "OpenProperty: a status object has no object properties");
  }

  // Read-only (imapistatusimapiprop.md: MAPI's status objects have "a
  // read-only version of the methods of the IMAPIProp interface").
  STDMETHODIMP SetProps(ULONG cValues, LPSPropValue lpPropArray, LPSPropProblemArray* lppProblems) override {
    if (lppProblems != nullptr) *lppProblems = nullptr;
    if (lpPropArray == nullptr || cValues == 0) return fail(MAPI_E_INVALID_PARAMETER, "SetProps: no values");
    return fail(MAPI_E_NO_ACCESS, "SetProps: the status objects of the MAPI runtime are read-only");
  }
  STDMETHODIMP DeleteProps(LPSPropTagArray lpPropTagArray, LPSPropProblemArray* lppProblems) override {
    if (lppProblems != nullptr) *lppProblems = nullptr;
    if (lpPropTagArray == nullptr || lpPropTagArray->cValues == 0)
      return fail(MAPI_E_INVALID_PARAMETER, "DeleteProps: no tags");
    return fail(MAPI_E_NO_ACCESS, "DeleteProps: the status objects of the MAPI runtime are read-only");
  }

  // imapiprop-copyto.md: every property but the excluded ones, through the
  // destination's SetProps. MAPI_MOVE would delete here: MAPI_E_NO_ACCESS.
  STDMETHODIMP CopyTo(ULONG ciidExclude, LPCIID rgiidExclude, LPSPropTagArray lpExcludeProps, ULONG_PTR,
                      LPMAPIPROGRESS, LPCIID lpInterface, LPVOID lpDestObj, ULONG ulFlags,
                      LPSPropProblemArray* lppProblems) override {
    if (ulFlags & ~kCopyFlags) return fail(MAPI_E_UNKNOWN_FLAGS, "CopyTo: unknown flags");
    if (ciidExclude != 0 && rgiidExclude == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "CopyTo: rgiidExclude is NULL");
    std::vector<PropTag> include;
    for (const PropValue& v : current()) {
      bool excluded = false;
      for (ULONG j = 0; lpExcludeProps != nullptr && j < lpExcludeProps->cValues; ++j)
        excluded = excluded || PROP_ID(lpExcludeProps->aulPropTag[j]) == prop_id(v.tag);
      if (!excluded) include.push_back(change_prop_type(v.tag, kPtUnspecified));
    }
    return copy(include, lpInterface, lpDestObj, ulFlags, lppProblems);
  }
  STDMETHODIMP CopyProps(LPSPropTagArray lpIncludeProps, ULONG_PTR, LPMAPIPROGRESS, LPCIID lpInterface,
                         LPVOID lpDestObj, ULONG ulFlags, LPSPropProblemArray* lppProblems) override {
    if (ulFlags & ~kCopyFlags) return fail(MAPI_E_UNKNOWN_FLAGS, "CopyProps: unknown flags");
    if (lpIncludeProps == nullptr || lpIncludeProps->cValues == 0)
      return fail(MAPI_E_INVALID_PARAMETER, "CopyProps: no tags");
    std::vector<PropTag> include(lpIncludeProps->aulPropTag, lpIncludeProps->aulPropTag + lpIncludeProps->cValues);
    return copy(include, lpInterface, lpDestObj, ulFlags, lppProblems);
  }

  // Status objects have no named properties.
  STDMETHODIMP GetNamesFromIDs(LPSPropTagArray*, LPGUID, ULONG, ULONG*, LPMAPINAMEID**) override {
    return fail(MAPI_E_NO_SUPPORT, "GetNamesFromIDs: a status object has no named properties");
  }
  STDMETHODIMP GetIDsFromNames(ULONG, LPMAPINAMEID*, ULONG, LPSPropTagArray*) override {
    return fail(MAPI_E_NO_SUPPORT, "GetIDsFromNames: a status object has no named properties");
  }

  // imapistatus-validatestate.md: supported where PR_RESOURCE_METHODS has
  // STATUS_VALIDATE_STATE. pstkit starts no transport and has no address
  // book, so there is no connection or header cache to act on: validating
  // reads the row's state again from the session (a provider's logon may
  // have changed it since), which GetProps then returns.
  STDMETHODIMP ValidateState(ULONG_PTR, ULONG ulFlags) override {
    if ((methods() & STATUS_VALIDATE_STATE) == 0 || !source_.reread)
      return fail(MAPI_E_NO_SUPPORT, "ValidateState: PR_RESOURCE_METHODS lacks STATUS_VALIDATE_STATE");
    if (ulFlags & ~kValidateStateFlags) return fail(MAPI_E_UNKNOWN_FLAGS, "ValidateState: unknown flags");
    std::vector<PropValue> fresh;
    if (HRESULT hr = source_.reread(&fresh); hr != S_OK)
      return fail(hr, hr == MAPI_E_NOT_FOUND ? "ValidateState: the row is no longer in the status table"
                                             : "ValidateState: the session has ended");
    std::lock_guard lock(mutex_);
    source_.values = std::move(fresh);
    return S_OK;
  }

  // imapistatus-settingsdialog.md: "not supported in status objects that
  // MAPI implements".
  STDMETHODIMP SettingsDialog(ULONG_PTR, ULONG) override {
    return fail(MAPI_E_NO_SUPPORT, "SettingsDialog: not supported by the status objects of the MAPI runtime");
  }
  // imapistatus-changepassword.md: "None of the status objects that MAPI
  // implements support the password change operation."
  STDMETHODIMP ChangePassword(LPSTR, LPSTR, ULONG) override {
    return fail(MAPI_E_NO_SUPPORT, "ChangePassword: not supported by the status objects of the MAPI runtime");
  }

  // imapistatus-flushqueues.md: the MAPI spooler's (STATUS_FLUSH_QUEUES).
  STDMETHODIMP FlushQueues(ULONG_PTR, ULONG cbTargetTransport, LPENTRYID lpTargetTransport, ULONG ulFlags) override {
    if ((methods() & STATUS_FLUSH_QUEUES) == 0 || !source_.flush)
      return fail(MAPI_E_NO_SUPPORT, "FlushQueues: PR_RESOURCE_METHODS lacks STATUS_FLUSH_QUEUES");
    if (ulFlags & ~kFlushQueuesFlags) return fail(MAPI_E_UNKNOWN_FLAGS, "FlushQueues: unknown flags");
    if (cbTargetTransport != 0 && lpTargetTransport == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "FlushQueues: cbTargetTransport without lpTargetTransport");
    const ByteView target(reinterpret_cast<const uint8_t*>(lpTargetTransport), cbTargetTransport);
    HRESULT hr = source_.flush(target, ulFlags);
    if (FAILED(hr)) return fail(hr, "FlushQueues: no transport of the session has that entry ID");
    return hr;
  }

 private:
  friend class ComObject<ComStatus, IMAPIStatus, IID_IMAPIStatus>;
  ~ComStatus() = default;

  HRESULT fail(HRESULT hr, std::string detail) { return last_.set(hr, std::move(detail)); }

  std::vector<PropValue> current() const {
    std::lock_guard lock(mutex_);
    return source_.values;
  }
  ULONG methods() const {
    std::lock_guard lock(mutex_);
    for (const PropValue& v : source_.values)
      if (v.tag == kPrResourceMethods) return ULONG(v.integer);
    return 0;
  }

  HRESULT copy(const std::vector<PropTag>& include, LPCIID lpInterface, LPVOID lpDestObj, ULONG ulFlags,
               LPSPropProblemArray* lppProblems) {
    if (lppProblems != nullptr) *lppProblems = nullptr;
    if (lpDestObj == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "copy: lpDestObj is NULL");
    if (lpInterface != nullptr && *lpInterface != IID_IMAPIProp && *lpInterface != IID_IMAPIStatus)
      return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "copy: the destination must be an IMAPIProp");
    if (ulFlags & MAPI_MOVE) return fail(MAPI_E_NO_ACCESS, "copy: MAPI_MOVE deletes from a read-only object");
    if (include.empty()) return S_OK;
    auto* dest = static_cast<IMAPIProp*>(lpDestObj);
    LPSPropTagArray tags = nullptr;
    if (Converted c = to_mapi(include, &tags); !c.ok()) return fail(c.scode, "copy: " + c.detail);
    ULONG count = 0;
    LPSPropValue values = nullptr;
    HRESULT hr = GetProps(tags, MAPI_UNICODE, &count, &values);
    MAPIFreeBuffer(tags);
    if (FAILED(hr)) return hr;
    // The values the source has, less (MAPI_NOREPLACE) those the
    // destination has already.
    std::vector<SPropValue> copied;
    for (ULONG i = 0; i < count; ++i) {
      if (PROP_TYPE(values[i].ulPropTag) == PT_ERROR) continue;
      if (ulFlags & MAPI_NOREPLACE) {
        SPropValue* existing = nullptr;
        if (HrGetOneProp(dest, CHANGE_PROP_TYPE(values[i].ulPropTag, PT_UNSPECIFIED), &existing) == S_OK) {
          MAPIFreeBuffer(existing);
          continue;
        }
      }
      copied.push_back(values[i]);
    }
    hr = copied.empty() ? S_OK : dest->SetProps(ULONG(copied.size()), copied.data(), lppProblems);
    MAPIFreeBuffer(values);
    return hr;
  }

  mutable std::mutex mutex_;  // guards source_.values (ValidateState replaces them)
  StatusObjectSource source_;
  LastError last_{"pstkit MAPI status object"};
};

}  // namespace

HRESULT create_status_object(StatusObjectSource source, LPMAPISTATUS* out) {
  *out = nullptr;
  auto* status = new (std::nothrow) ComStatus(std::move(source));
  if (status == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  *out = status;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
