// IProfSect (iprofsectimapiprop.md): an IMAPIProp over one profile section,
// read from and written to the profile store at every call.
//
// As the page documents: no transaction model (SetProps and DeleteProps
// take effect at once; SaveChanges succeeds and saves nothing), no named
// properties (GetIDsFromNames/GetNamesFromIDs: MAPI_E_NO_SUPPORT; SetProps
// of an id at or above 0x8000 is a problem), and the secure range
// 0x67F0-0x67FF is left out of GetProps(NULL) and GetPropList. PR_OBJECT_TYPE
// (MAPI_PROFSECT) and PR_PROFILE_NAME are computed and read-only.
#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "mapi/com_admin.h"
#include "mapi/com_object.h"

namespace pstkit::mapi::capi {

namespace {

constexpr ULONG kObjectType = 0x0FFE0003;    // PR_OBJECT_TYPE
constexpr uint16_t kIdProfileName = 0x3D12;  // PR_PROFILE_NAME
constexpr uint16_t kSecureMin = 0x67F0;      // PROP_ID_SECURE_MIN
constexpr uint16_t kSecureMax = 0x67FF;      // PROP_ID_SECURE_MAX
constexpr uint16_t kNamedMin = 0x8000;

bool computed(uint16_t id) {
  return id == PROP_ID(kObjectType) || id == kIdProfileName || id == prop_id(tags::kServiceUid) ||
         id == prop_id(tags::kProviderUid);
}

template <typename T>
HRESULT more(void* parent, size_t count, T** out) {
  void* p = nullptr;
  if (SCODE sc = MAPIAllocateMore(ULONG(std::max<size_t>(1, count) * sizeof(T)), parent, &p); sc != S_OK) return sc;
  *out = static_cast<T*>(p);
  return S_OK;
}

}  // namespace

HRESULT section_prop_from_mapi(const SPropValue& in, SectionProp* out) {
  const uint32_t tag = in.ulPropTag;
  const _PV& v = in.Value;
  switch (PROP_TYPE(tag)) {
    case PT_LONG: *out = SectionProp::long_value(tag, v.l); return S_OK;
    case PT_BOOLEAN: *out = SectionProp::bool_value(tag, v.b != 0); return S_OK;
    case PT_STRING8:
      if (v.lpszA == nullptr) return MAPI_E_INVALID_PARAMETER;
      *out = SectionProp::string_value(tag, v.lpszA);
      return S_OK;
    case PT_UNICODE:
      if (v.lpszW == nullptr) return MAPI_E_INVALID_PARAMETER;
      *out = SectionProp::string_value(tag, utf8_from_wide(v.lpszW));
      return S_OK;
    case PT_SYSTIME:
      *out = SectionProp::systime_value(tag, (uint64_t{v.ft.dwHighDateTime} << 32) | v.ft.dwLowDateTime);
      return S_OK;
    case PT_BINARY:
      if (v.bin.lpb == nullptr && v.bin.cb != 0) return MAPI_E_INVALID_PARAMETER;
      *out = SectionProp::binary_value(tag, std::vector<uint8_t>(v.bin.lpb, v.bin.lpb + v.bin.cb));
      return S_OK;
    case PT_MV_STRING8: {
      if (v.MVszA.lppszA == nullptr && v.MVszA.cValues != 0) return MAPI_E_INVALID_PARAMETER;
      std::vector<std::string> values;
      for (ULONG i = 0; i < v.MVszA.cValues; ++i) {
        if (v.MVszA.lppszA[i] == nullptr) return MAPI_E_INVALID_PARAMETER;
        values.emplace_back(v.MVszA.lppszA[i]);
      }
      *out = SectionProp::multi_string_value(tag, std::move(values));
      return S_OK;
    }
    case PT_MV_UNICODE: {
      if (v.MVszW.lppszW == nullptr && v.MVszW.cValues != 0) return MAPI_E_INVALID_PARAMETER;
      std::vector<std::string> values;
      for (ULONG i = 0; i < v.MVszW.cValues; ++i) {
        if (v.MVszW.lppszW[i] == nullptr) return MAPI_E_INVALID_PARAMETER;
        values.push_back(utf8_from_wide(v.MVszW.lppszW[i]));
      }
      *out = SectionProp::multi_string_value(tag, std::move(values));
      return S_OK;
    }
    default: return MAPI_E_INVALID_TYPE;
  }
}

HRESULT section_prop_to_mapi(const SectionProp& in, uint16_t as_type, void* parent, SPropValue* out) {
  std::memset(out, 0, sizeof *out);
  uint16_t type = prop_type(in.tag);
  const bool is_string = type == PT_STRING8 || type == PT_UNICODE;
  const bool is_mv_string = type == PT_MV_STRING8 || type == PT_MV_UNICODE;
  if (as_type != 0 && is_string) type = as_type;
  if (as_type != 0 && is_mv_string) type = uint16_t(as_type | MV_FLAG);
  out->ulPropTag = PROP_TAG(type, prop_id(in.tag));
  _PV& v = out->Value;
  switch (type) {
    case PT_LONG: v.l = std::get<int32_t>(in.value); return S_OK;
    case PT_BOOLEAN: v.b = std::get<bool>(in.value) ? 1 : 0; return S_OK;
    case PT_STRING8: return copy_mapi_string(std::get<std::string>(in.value), false, parent, reinterpret_cast<LPTSTR*>(&v.lpszA));
    case PT_UNICODE: return copy_mapi_string(std::get<std::string>(in.value), true, parent, reinterpret_cast<LPTSTR*>(&v.lpszW));
    case PT_SYSTIME: {
      const uint64_t ft = std::get<uint64_t>(in.value);
      v.ft.dwLowDateTime = DWORD(ft & 0xFFFFFFFFu);
      v.ft.dwHighDateTime = DWORD(ft >> 32);
      return S_OK;
    }
    case PT_BINARY: {
      const auto& bytes = std::get<std::vector<uint8_t>>(in.value);
      BYTE* p = nullptr;
      if (HRESULT hr = more(parent, bytes.size(), &p); hr != S_OK) return hr;
      if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
      v.bin.cb = ULONG(bytes.size());
      v.bin.lpb = p;
      return S_OK;
    }
    case PT_MV_STRING8:
    case PT_MV_UNICODE: {
      const auto& values = std::get<std::vector<std::string>>(in.value);
      if (type == PT_MV_STRING8) {
        LPSTR* array = nullptr;
        if (HRESULT hr = more(parent, values.size(), &array); hr != S_OK) return hr;
        for (size_t i = 0; i < values.size(); ++i) {
          if (HRESULT hr = copy_mapi_string(values[i], false, parent, reinterpret_cast<LPTSTR*>(&array[i])); hr != S_OK) return hr;
        }
        v.MVszA.cValues = ULONG(values.size());
        v.MVszA.lppszA = array;
      } else {
        LPWSTR* array = nullptr;
        if (HRESULT hr = more(parent, values.size(), &array); hr != S_OK) return hr;
        for (size_t i = 0; i < values.size(); ++i) {
          if (HRESULT hr = copy_mapi_string(values[i], true, parent, reinterpret_cast<LPTSTR*>(&array[i])); hr != S_OK) return hr;
        }
        v.MVszW.cValues = ULONG(values.size());
        v.MVszW.lppszW = array;
      }
      return S_OK;
    }
    default: return MAPI_E_INVALID_TYPE;
  }
}

namespace {

class ComProfSect final : public ComObject<ComProfSect, IProfSect, IID_IProfSect> {
 public:
  ComProfSect(ProfileStore store, std::string profile, MapiUid uid, bool writable)
      : store_(std::move(store)), profile_(std::move(profile)), uid_(uid), writable_(writable) {}

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

  // Nontransacted: "Calls to SaveChanges succeed but do not actually save
  // any changes."
  STDMETHODIMP SaveChanges(ULONG ulFlags) override {
    if (ulFlags & ~(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS))
      return MAPI_E_UNKNOWN_FLAGS;
    return S_OK;
  }

  // imapiprop-getprops.md: missing properties come back as PT_ERROR with
  // MAPI_E_NOT_FOUND and the call returns MAPI_W_ERRORS_RETURNED.
  STDMETHODIMP GetProps(LPSPropTagArray lpPropTagArray, ULONG ulFlags, ULONG* lpcValues,
                        LPSPropValue* lppPropArray) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    if (lpcValues == nullptr || lppPropArray == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lpcValues = 0;
    *lppPropArray = nullptr;
    if (lpPropTagArray != nullptr && lpPropTagArray->cValues == 0) return MAPI_E_INVALID_PARAMETER;
    auto bag = store_.section(profile_, uid_);
    if (!bag.is_ok()) return fail(bag.status());
    const uint16_t string_type = (ulFlags & MAPI_UNICODE) ? PT_UNICODE : PT_STRING8;
    std::vector<ULONG> wanted;
    if (lpPropTagArray == nullptr) {
      wanted.push_back(kObjectType);
      wanted.push_back(PROP_TAG(string_type, kIdProfileName));
      for (const auto& [id, value] : bag.value().values()) {
        if (id >= kSecureMin && id <= kSecureMax) continue;
        if (id == PROP_ID(kObjectType) || id == kIdProfileName) continue;
        const uint16_t t = prop_type(value.tag);
        wanted.push_back((t == PT_STRING8 || t == PT_UNICODE) ? PROP_TAG(string_type, id)
                         : (t == PT_MV_STRING8 || t == PT_MV_UNICODE) ? PROP_TAG(string_type | MV_FLAG, id)
                                                                      : value.tag);
      }
    } else {
      wanted.assign(lpPropTagArray->aulPropTag, lpPropTagArray->aulPropTag + lpPropTagArray->cValues);
    }
    SPropValue* values = nullptr;
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateBuffer(ULONG(wanted.size() * sizeof(SPropValue)), &p); sc != S_OK) return sc;
    values = static_cast<SPropValue*>(p);
    bool errors = false;
    for (size_t i = 0; i < wanted.size(); ++i) {
      HRESULT hr = value_of(bag.value(), wanted[i], string_type, p, &values[i]);
      if (hr == MAPI_E_NOT_FOUND || hr == MAPI_E_INVALID_TYPE) {
        values[i].ulPropTag = PROP_TAG(PT_ERROR, PROP_ID(wanted[i]));
        values[i].Value.err = MAPI_E_NOT_FOUND;
        errors = true;
      } else if (hr != S_OK) {
        MAPIFreeBuffer(p);
        return hr;
      }
    }
    *lpcValues = ULONG(wanted.size());
    *lppPropArray = values;
    return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
  }

  STDMETHODIMP GetPropList(ULONG ulFlags, LPSPropTagArray* lppPropTagArray) override {
    if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    if (lppPropTagArray == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppPropTagArray = nullptr;
    ULONG count = 0;
    LPSPropValue values = nullptr;
    HRESULT hr = GetProps(nullptr, ulFlags, &count, &values);
    if (FAILED(hr)) return hr;
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSPropTagArray(count)), &p); sc != S_OK) {
      MAPIFreeBuffer(values);
      return sc;
    }
    auto* tags = static_cast<LPSPropTagArray>(p);
    tags->cValues = count;
    for (ULONG i = 0; i < count; ++i) tags->aulPropTag[i] = values[i].ulPropTag;
    MAPIFreeBuffer(values);
    *lppPropTagArray = tags;
    return S_OK;
  }

  // No property of a profile section is an object or a stream.
  STDMETHODIMP OpenProperty(ULONG, LPCIID lpiid, ULONG, ULONG, LPUNKNOWN* lppUnk) override {
    if (lpiid == nullptr || lppUnk == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppUnk = nullptr;
    return MAPI_E_NO_SUPPORT;
  }

  // imapiprop-setprops.md: a value that cannot be set is reported in the
  // problem array; the others are written (at once: nontransacted).
  STDMETHODIMP SetProps(ULONG cValues, LPSPropValue lpPropArray, LPSPropProblemArray* lppProblems) override {
    if (lppProblems != nullptr) *lppProblems = nullptr;
    if (lpPropArray == nullptr || cValues == 0) return MAPI_E_INVALID_PARAMETER;
    if (!writable_) return last_.set(MAPI_E_NO_ACCESS, "the section was opened without MAPI_MODIFY");
    std::vector<SectionProp> props;
    std::vector<SPropProblem> problems;
    for (ULONG i = 0; i < cValues; ++i) {
      const ULONG tag = lpPropArray[i].ulPropTag;
      const uint16_t id = uint16_t(PROP_ID(tag));
      SCODE sc = S_OK;
      SectionProp value;
      if (id >= kNamedMin || id == 0) {
        sc = MAPI_E_INVALID_PARAMETER;  // no named properties in profile sections
      } else if (computed(id)) {
        sc = MAPI_E_COMPUTED;
      } else {
        sc = section_prop_from_mapi(lpPropArray[i], &value);
        if (sc == MAPI_E_INVALID_PARAMETER) return last_.set(sc, "a value's pointer is null");
      }
      if (sc == S_OK) {
        props.push_back(std::move(value));
      } else {
        problems.push_back({i, tag, sc});
      }
    }
    if (!props.empty()) {
      if (Status s = store_.set_section_props(profile_, uid_, props); !s.is_ok()) return fail(s);
    }
    return problem_array(problems, lppProblems);
  }

  STDMETHODIMP DeleteProps(LPSPropTagArray lpPropTagArray, LPSPropProblemArray* lppProblems) override {
    if (lppProblems != nullptr) *lppProblems = nullptr;
    if (lpPropTagArray == nullptr || lpPropTagArray->cValues == 0) return MAPI_E_INVALID_PARAMETER;
    if (!writable_) return last_.set(MAPI_E_NO_ACCESS, "the section was opened without MAPI_MODIFY");
    std::vector<uint32_t> tags;
    std::vector<SPropProblem> problems;
    for (ULONG i = 0; i < lpPropTagArray->cValues; ++i) {
      const ULONG tag = lpPropTagArray->aulPropTag[i];
      if (computed(uint16_t(PROP_ID(tag)))) {
        problems.push_back({i, tag, MAPI_E_COMPUTED});
      } else {
        tags.push_back(tag);
      }
    }
    if (!tags.empty()) {
      if (Status s = store_.delete_section_props(profile_, uid_, tags); !s.is_ok()) return fail(s);
    }
    return problem_array(problems, lppProblems);
  }

  // imapiprop-copyto.md: every property but the excluded ones, to another
  // IMAPIProp (through its SetProps). Nontransacted, so MAPI_MOVE deletes
  // here at once.
  STDMETHODIMP CopyTo(ULONG ciidExclude, LPCIID rgiidExclude, LPSPropTagArray lpExcludeProps, ULONG_PTR,
                      LPMAPIPROGRESS, LPCIID lpInterface, LPVOID lpDestObj, ULONG ulFlags,
                      LPSPropProblemArray* lppProblems) override {
    if (ulFlags & ~(MAPI_MOVE | MAPI_NOREPLACE | MAPI_DIALOG | MAPI_DECLINE_OK)) return MAPI_E_UNKNOWN_FLAGS;
    if (ciidExclude != 0 && rgiidExclude == nullptr) return MAPI_E_INVALID_PARAMETER;
    ULONG count = 0;
    LPSPropValue values = nullptr;
    HRESULT hr = GetProps(nullptr, MAPI_UNICODE, &count, &values);
    if (FAILED(hr)) return hr;
    std::vector<ULONG> include;
    for (ULONG i = 0; i < count; ++i) {
      const ULONG tag = values[i].ulPropTag;
      if (computed(uint16_t(PROP_ID(tag)))) continue;
      bool excluded = false;
      if (lpExcludeProps != nullptr) {
        for (ULONG j = 0; j < lpExcludeProps->cValues; ++j)
          excluded = excluded || PROP_ID(lpExcludeProps->aulPropTag[j]) == PROP_ID(tag);
      }
      if (!excluded) include.push_back(tag);
    }
    MAPIFreeBuffer(values);
    return copy(include, lpInterface, lpDestObj, ulFlags, lppProblems);
  }

  STDMETHODIMP CopyProps(LPSPropTagArray lpIncludeProps, ULONG_PTR, LPMAPIPROGRESS, LPCIID lpInterface,
                         LPVOID lpDestObj, ULONG ulFlags, LPSPropProblemArray* lppProblems) override {
    if (ulFlags & ~(MAPI_MOVE | MAPI_NOREPLACE | MAPI_DIALOG | MAPI_DECLINE_OK)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpIncludeProps == nullptr || lpIncludeProps->cValues == 0) return MAPI_E_INVALID_PARAMETER;
    std::vector<ULONG> include(lpIncludeProps->aulPropTag, lpIncludeProps->aulPropTag + lpIncludeProps->cValues);
    return copy(include, lpInterface, lpDestObj, ulFlags, lppProblems);
  }

  // "Profile sections, unlike other objects, do not support named properties."
  STDMETHODIMP GetNamesFromIDs(LPSPropTagArray*, LPGUID, ULONG, ULONG*, LPMAPINAMEID**) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetIDsFromNames(ULONG, LPMAPINAMEID*, ULONG, LPSPropTagArray*) override {
    return MAPI_E_NO_SUPPORT;
  }

 private:
  HRESULT value_of(const PropBag& bag, ULONG tag, uint16_t string_type, void* parent, SPropValue* out) {
    std::memset(out, 0, sizeof *out);
    const uint16_t id = uint16_t(PROP_ID(tag));
    uint16_t type = uint16_t(PROP_TYPE(tag));
    if (id == PROP_ID(kObjectType)) {
      if (type != PT_LONG && type != PT_UNSPECIFIED) return MAPI_E_NOT_FOUND;
      out->ulPropTag = kObjectType;
      out->Value.l = LONG(MAPI_PROFSECT);
      return S_OK;
    }
    if (id == kIdProfileName) {
      if (type == PT_UNSPECIFIED) type = string_type;
      if (type != PT_STRING8 && type != PT_UNICODE) return MAPI_E_NOT_FOUND;
      return section_prop_to_mapi(SectionProp::string_value(prop_tag(id, type), profile_), type, parent, out);
    }
    const SectionProp* value = bag.find(id);
    if (value == nullptr) return MAPI_E_NOT_FOUND;
    const uint16_t stored = prop_type(value->tag);
    if (type == PT_UNSPECIFIED) type = (stored == PT_STRING8 || stored == PT_UNICODE) ? string_type : stored;
    const bool strings = (type == PT_STRING8 || type == PT_UNICODE) && (stored == PT_STRING8 || stored == PT_UNICODE);
    const bool mv_strings = (type == PT_MV_STRING8 || type == PT_MV_UNICODE) &&
                            (stored == PT_MV_STRING8 || stored == PT_MV_UNICODE);
    if (type != stored && !strings && !mv_strings) return MAPI_E_NOT_FOUND;
    return section_prop_to_mapi(*value, uint16_t(type & ~MV_FLAG), parent, out);
  }

  HRESULT copy(const std::vector<ULONG>& include, LPCIID lpInterface, LPVOID lpDestObj, ULONG ulFlags,
               LPSPropProblemArray* lppProblems) {
    if (lppProblems != nullptr) *lppProblems = nullptr;
    if (lpDestObj == nullptr) return MAPI_E_INVALID_PARAMETER;
    if (lpInterface != nullptr && *lpInterface != IID_IMAPIProp && *lpInterface != IID_IProfSect)
      return MAPI_E_INTERFACE_NOT_SUPPORTED;
    if ((ulFlags & MAPI_MOVE) && !writable_) return last_.set(MAPI_E_NO_ACCESS, "read-only section");
    auto* dest = static_cast<IMAPIProp*>(lpDestObj);
    if (include.empty()) return S_OK;
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSPropTagArray(include.size())), &p); sc != S_OK) return sc;
    auto* tags = static_cast<LPSPropTagArray>(p);
    tags->cValues = ULONG(include.size());
    std::copy(include.begin(), include.end(), tags->aulPropTag);
    ULONG count = 0;
    LPSPropValue values = nullptr;
    HRESULT hr = GetProps(tags, MAPI_UNICODE, &count, &values);
    MAPIFreeBuffer(p);
    if (FAILED(hr)) return hr;
    // Only the values that exist; with MAPI_NOREPLACE, only those the
    // destination lacks.
    std::vector<SPropValue> present;
    for (ULONG i = 0; i < count; ++i) {
      if (PROP_TYPE(values[i].ulPropTag) == PT_ERROR) continue;
      if (ulFlags & MAPI_NOREPLACE) {
        SPropTagArray one{1, {values[i].ulPropTag}};
        ULONG n = 0;
        LPSPropValue existing = nullptr;
        HRESULT got = dest->GetProps(&one, MAPI_UNICODE, &n, &existing);
        const bool has = got == S_OK && n == 1 && PROP_TYPE(existing[0].ulPropTag) != PT_ERROR;
        MAPIFreeBuffer(existing);
        if (has) continue;
      }
      present.push_back(values[i]);
    }
    hr = S_OK;
    if (!present.empty()) hr = dest->SetProps(ULONG(present.size()), present.data(), lppProblems);
    if (SUCCEEDED(hr) && (ulFlags & MAPI_MOVE)) {
      std::vector<uint32_t> moved;
      for (const SPropValue& v : present) moved.push_back(v.ulPropTag);
      if (!moved.empty()) {
        if (Status s = store_.delete_section_props(profile_, uid_, moved); !s.is_ok()) hr = fail(s);
      }
    }
    MAPIFreeBuffer(values);
    return hr;
  }

  static HRESULT problem_array(const std::vector<SPropProblem>& problems, LPSPropProblemArray* out) {
    if (problems.empty() || out == nullptr) return S_OK;
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSPropProblemArray(problems.size())), &p); sc != S_OK) return sc;
    auto* array = static_cast<LPSPropProblemArray>(p);
    array->cProblem = ULONG(problems.size());
    std::copy(problems.begin(), problems.end(), array->aProblem);
    *out = array;
    return S_OK;
  }

  HRESULT fail(const Status& s) { return last_.set(profile_error(s), s.message()); }

  ProfileStore store_;
  std::string profile_;
  MapiUid uid_;
  bool writable_;
  LastError last_;
};

bool section_in(const Profile& profile, const MapiUid& uid, const SectionScope& scope, bool* is_provider) {
  for (const MessageService& s : profile.services) {
    if (scope.service != nullptr && s.uid != *scope.service) continue;
    if (s.uid == uid) {
      *is_provider = false;
      return true;
    }
    for (const Provider& p : s.providers) {
      if (p.uid == uid) {
        *is_provider = true;
        return true;
      }
    }
  }
  return false;
}

}  // namespace

HRESULT open_profile_section(const ProfileStore& store, const std::string& profile, const MAPIUID* lpUID,
                             LPCIID lpInterface, ULONG ulFlags, SectionScope scope, LPPROFSECT* out) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  if (ulFlags & ~(MAPI_DEFERRED_ERRORS | MAPI_MODIFY | MAPI_FORCE_ACCESS)) return MAPI_E_UNKNOWN_FLAGS;
  if (lpUID == nullptr) return MAPI_E_INVALID_PARAMETER;
  if (lpInterface != nullptr && *lpInterface != IID_IProfSect && *lpInterface != IID_IMAPIProp &&
      *lpInterface != IID_IUnknown)
    return MAPI_E_INTERFACE_NOT_SUPPORTED;
  auto p = store.get_profile(profile);
  if (!p.is_ok()) return profile_error(p.status());
  const MapiUid uid = to_uid(*lpUID);
  bool is_provider = false;
  if (!section_in(p.value(), uid, scope, &is_provider)) return MAPI_E_NOT_FOUND;
  if (is_provider && scope.provider_sections_need_force && !(ulFlags & MAPI_FORCE_ACCESS)) return MAPI_E_NO_ACCESS;
  auto* section = new (std::nothrow) ComProfSect(store, profile, uid, (ulFlags & MAPI_MODIFY) != 0);
  if (section == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  *out = section;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
