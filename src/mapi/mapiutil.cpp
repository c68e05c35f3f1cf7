// The utility functions of mapiutil.h that need no message store, one
// reference page each (docs/outlook/mapi/<function>.md).
#include "pstkit/mapi/mapiutil.h"

#include <cstring>
#include <cwchar>
#include <new>
#include <vector>

#include "mapi/capi_convert.h"
#include "mapi/com_object.h"

using namespace pstkit::mapi;
using pstkit::mapi::capi::Converted;

namespace {

constexpr size_t kCopyAlignment = 8;  // of every piece ScCopyProps lays out
size_t aligned(size_t n) { return (n + kCopyAlignment - 1) / kCopyAlignment * kCopyAlignment; }

bool known_base_type(ULONG type) {
  switch (type) {
    case PT_UNSPECIFIED: case PT_NULL: case PT_I2: case PT_LONG: case PT_R4: case PT_DOUBLE:
    case PT_CURRENCY: case PT_APPTIME: case PT_ERROR: case PT_BOOLEAN: case PT_OBJECT: case PT_I8:
    case PT_STRING8: case PT_UNICODE: case PT_SYSTIME: case PT_CLSID: case PT_SVREID: case PT_BINARY:
      return true;
  }
  return false;
}

// Deep copy of one SPropValue: `alloc(size)` gives memory for each piece the
// value points to (null: out of memory). Without `write`, nothing is copied
// and `alloc` only counts (ScCountProps).
template <typename Alloc>
SCODE deep_copy(const SPropValue& src, SPropValue& dst, Alloc&& alloc, bool write) {
  if (write) dst = src;
  const ULONG type = PROP_TYPE(src.ulPropTag);
  const ULONG base = type & ~ULONG(MVI_FLAG);
  if (!known_base_type(base) || ((type & MV_INSTANCE) && !(type & MV_FLAG))) return MAPI_E_NO_SUPPORT;
  auto piece = [&](const void* from, size_t size, void** to) -> SCODE {
    void* p = alloc(size);
    if (p == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
    if (write) {
      if (size != 0 && from != nullptr) std::memcpy(p, from, size);
      *to = p;
    }
    return S_OK;
  };
  auto string8 = [&](LPSTR s, LPSTR* to) -> SCODE {
    if (s == nullptr) return MAPI_E_INVALID_PARAMETER;
    return piece(s, std::strlen(s) + 1, reinterpret_cast<void**>(to));
  };
  auto unicode = [&](LPWSTR s, LPWSTR* to) -> SCODE {
    if (s == nullptr) return MAPI_E_INVALID_PARAMETER;
    return piece(s, (std::wcslen(s) + 1) * sizeof(wchar_t), reinterpret_cast<void**>(to));
  };
  auto binary = [&](const SBinary& b, SBinary* to) -> SCODE {
    if (b.cb != 0 && b.lpb == nullptr) return MAPI_E_INVALID_PARAMETER;
    return piece(b.lpb, b.cb, reinterpret_cast<void**>(&to->lpb));
  };
  const _PV& v = src.Value;
  _PV& d = dst.Value;
  if (!(type & MV_FLAG)) {
    switch (base) {
      case PT_STRING8: return string8(v.lpszA, &d.lpszA);
      case PT_UNICODE: return unicode(v.lpszW, &d.lpszW);
      case PT_BINARY: case PT_SVREID: return binary(v.bin, &d.bin);
      case PT_CLSID:
        if (v.lpguid == nullptr) return MAPI_E_INVALID_PARAMETER;
        return piece(v.lpguid, sizeof(GUID), reinterpret_cast<void**>(&d.lpguid));
      default: return S_OK;  // the value is inside the SPropValue
    }
  }
  // Multi-valued: every array has cValues then a pointer, at the same place.
  const ULONG count = v.MVl.cValues;
  const void* array = v.MVl.lpl;
  if (count != 0 && array == nullptr) return MAPI_E_INVALID_PARAMETER;
  size_t element = 0;
  switch (base) {
    case PT_I2: element = sizeof(short); break;
    case PT_LONG: element = sizeof(LONG); break;
    case PT_R4: element = sizeof(float); break;
    case PT_DOUBLE: case PT_APPTIME: element = sizeof(double); break;
    case PT_CURRENCY: element = sizeof(CURRENCY); break;
    case PT_SYSTIME: element = sizeof(FILETIME); break;
    case PT_I8: element = sizeof(LARGE_INTEGER); break;
    case PT_CLSID: element = sizeof(GUID); break;
    case PT_STRING8: case PT_UNICODE: element = sizeof(void*); break;
    case PT_BINARY: element = sizeof(SBinary); break;
    default: return MAPI_E_NO_SUPPORT;
  }
  void* copied = nullptr;
  if (SCODE sc = piece(array, size_t(count) * element, &copied); sc != S_OK) return sc;
  if (write) d.MVl.lpl = static_cast<LONG*>(copied);
  for (ULONG i = 0; i < count; ++i) {
    SCODE sc = S_OK;
    if (base == PT_STRING8)
      sc = string8(v.MVszA.lppszA[i], write ? &d.MVszA.lppszA[i] : nullptr);
    else if (base == PT_UNICODE)
      sc = unicode(v.MVszW.lppszW[i], write ? &d.MVszW.lppszW[i] : nullptr);
    else if (base == PT_BINARY)
      sc = binary(v.MVbin.lpbin[i], write ? &d.MVbin.lpbin[i] : nullptr);
    if (sc != S_OK) return sc;
  }
  return S_OK;
}

}  // namespace

STDAPI_(SCODE) ScInitMapiUtil(ULONG ulFlags) { return ulFlags == 0 ? S_OK : MAPI_E_UNKNOWN_FLAGS; }
STDAPI_(void) DeinitMapiUtil(void) {}

// ---- Finding and copying values --------------------------------------------

STDAPI_(LPSPropValue) PpropFindProp(LPSPropValue rgprop, ULONG cprop, ULONG ulPropTag) {
  if (rgprop == nullptr) return nullptr;
  const bool any_type = PROP_TYPE(ulPropTag) == PT_UNSPECIFIED;
  for (ULONG i = 0; i < cprop; ++i) {
    ULONG tag = rgprop[i].ulPropTag;
    if (any_type ? PROP_ID(tag) == PROP_ID(ulPropTag) : tag == ulPropTag) return &rgprop[i];
  }
  return nullptr;
}

// lpvalfindprop.md: "identical to PpropFindProp".
STDAPI_(LPSPropValue) LpValFindProp(ULONG ulPropTag, ULONG cValues, LPSPropValue lpPropArray) {
  return PpropFindProp(lpPropArray, cValues, ulPropTag);
}

STDAPI_(SCODE) PropCopyMore(LPSPropValue lpSPropValueDest, LPSPropValue lpSPropValueSrc,
                            ALLOCATEMORE* lpfAllocMore, LPVOID lpvObject) {
  if (lpSPropValueDest == nullptr || lpSPropValueSrc == nullptr || lpfAllocMore == nullptr)
    return MAPI_E_INVALID_PARAMETER;
  auto alloc = [&](size_t size) -> void* {
    if (size > 0xFFFFFFFFu) return nullptr;
    void* p = nullptr;
    return lpfAllocMore(ULONG(size), lpvObject, &p) == S_OK ? p : nullptr;
  };
  SPropValue copy;
  SCODE sc = deep_copy(*lpSPropValueSrc, copy, alloc, true);
  if (sc == S_OK) *lpSPropValueDest = copy;
  return sc;
}

STDAPI_(SCODE) ScCountProps(int cprop, LPSPropValue rgprop, ULONG FAR* pcb) {
  if (cprop < 0 || (cprop > 0 && rgprop == nullptr)) return MAPI_E_INVALID_PARAMETER;
  size_t total = aligned(size_t(cprop) * sizeof(SPropValue));
  auto count = [&](size_t size) -> void* {
    total += aligned(size);
    return reinterpret_cast<void*>(kCopyAlignment);  // not written to
  };
  SPropValue unused;
  for (int i = 0; i < cprop; ++i)
    if (SCODE sc = deep_copy(rgprop[i], unused, count, false); sc != S_OK) return sc;
  if (total > 0xFFFFFFFFu) return MAPI_E_NOT_ENOUGH_MEMORY;
  if (pcb != nullptr) *pcb = ULONG(total);
  return S_OK;
}

// sccopyprops.md: the values and everything they point to, laid out in pvDst
// (which must hold ScCountProps bytes).
STDAPI_(SCODE) ScCopyProps(int cprop, LPSPropValue rgprop, LPVOID pvDst, ULONG FAR* pcb) {
  if (cprop < 0 || (cprop > 0 && rgprop == nullptr) || pvDst == nullptr) return MAPI_E_INVALID_PARAMETER;
  auto* out = static_cast<LPSPropValue>(pvDst);
  char* next = static_cast<char*>(pvDst) + aligned(size_t(cprop) * sizeof(SPropValue));
  auto bump = [&](size_t size) -> void* {
    void* p = next;
    next += aligned(size);
    return p;
  };
  for (int i = 0; i < cprop; ++i)
    if (SCODE sc = deep_copy(rgprop[i], out[i], bump, true); sc != S_OK) return sc;
  if (pcb != nullptr) *pcb = ULONG(next - static_cast<char*>(pvDst));
  return S_OK;
}

// screlocprops.md: rgprop was moved from pvBaseOld to pvBaseNew; its
// pointers are adjusted (arrays of pointers are read at their new place).
STDAPI_(SCODE) ScRelocProps(int cprop, LPSPropValue rgprop, LPVOID pvBaseOld, LPVOID pvBaseNew, ULONG FAR* pcb) {
  if (cprop < 0 || (cprop > 0 && rgprop == nullptr) || pvBaseOld == nullptr || pvBaseNew == nullptr)
    return MAPI_E_INVALID_PARAMETER;
  const intptr_t delta = static_cast<char*>(pvBaseNew) - static_cast<char*>(pvBaseOld);
  auto move = [&](auto*& p) {
    if (p != nullptr) p = reinterpret_cast<std::remove_reference_t<decltype(p)>>(reinterpret_cast<char*>(p) + delta);
  };
  size_t total = aligned(size_t(cprop) * sizeof(SPropValue));
  for (int i = 0; i < cprop; ++i) {
    SPropValue& v = rgprop[i];
    const ULONG type = PROP_TYPE(v.ulPropTag);
    const ULONG base = type & ~ULONG(MVI_FLAG);
    if (!known_base_type(base)) return MAPI_E_NO_SUPPORT;
    if (!(type & MV_FLAG)) {
      switch (base) {
        case PT_STRING8: move(v.Value.lpszA); break;
        case PT_UNICODE: move(v.Value.lpszW); break;
        case PT_BINARY: case PT_SVREID: move(v.Value.bin.lpb); break;
        case PT_CLSID: move(v.Value.lpguid); break;
        default: break;
      }
    } else {
      move(v.Value.MVl.lpl);
      for (ULONG k = 0; k < v.Value.MVl.cValues; ++k) {
        if (base == PT_STRING8) move(v.Value.MVszA.lppszA[k]);
        if (base == PT_UNICODE) move(v.Value.MVszW.lppszW[k]);
        if (base == PT_BINARY) move(v.Value.MVbin.lpbin[k].lpb);
      }
    }
    SPropValue unused;
    auto count = [&](size_t size) -> void* {
      total += aligned(size);
      return reinterpret_cast<void*>(kCopyAlignment);
    };
    if (SCODE sc = deep_copy(v, unused, count, false); sc != S_OK) return sc;
  }
  if (pcb != nullptr) *pcb = ULONG(total);
  return S_OK;
}

STDAPI_(SCODE) ScDupPropset(int cprop, LPSPropValue rgprop, LPALLOCATEBUFFER lpAllocateBuffer,
                            LPSPropValue FAR* prgprop) {
  if (prgprop == nullptr || lpAllocateBuffer == nullptr) return MAPI_E_INVALID_PARAMETER;
  *prgprop = nullptr;
  ULONG cb = 0;
  if (SCODE sc = ScCountProps(cprop, rgprop, &cb); sc != S_OK) return sc;
  void* p = nullptr;
  if (SCODE sc = lpAllocateBuffer(cb, &p); sc != S_OK) return sc;
  // Cannot fail: ScCountProps accepted the same values.
  if (SCODE sc = ScCopyProps(cprop, rgprop, p, nullptr); sc != S_OK) return sc;
  *prgprop = static_cast<LPSPropValue>(p);
  return S_OK;
}

// ulpropsize.md: the bytes of the value, not of the SPropValue; 0 on error.
STDAPI_(ULONG) UlPropSize(LPSPropValue lpSPropValue) {
  if (lpSPropValue == nullptr) return 0;
  const ULONG type = PROP_TYPE(lpSPropValue->ulPropTag);
  const ULONG base = type & ~ULONG(MVI_FLAG);
  const _PV& v = lpSPropValue->Value;
  auto one = [&](const _PV& e) -> size_t {
    switch (base) {
      case PT_I2: return sizeof(short);
      case PT_LONG: case PT_ERROR: return sizeof(LONG);
      case PT_R4: return sizeof(float);
      case PT_DOUBLE: case PT_APPTIME: return sizeof(double);
      case PT_BOOLEAN: return sizeof(unsigned short);
      case PT_CURRENCY: case PT_I8: case PT_SYSTIME: return 8;
      case PT_CLSID: return sizeof(GUID);
      case PT_STRING8: return e.lpszA ? std::strlen(e.lpszA) + 1 : 0;
      case PT_UNICODE: return e.lpszW ? (std::wcslen(e.lpszW) + 1) * sizeof(wchar_t) : 0;
      case PT_BINARY: case PT_SVREID: return e.bin.cb;
    }
    return 0;
  };
  if (!(type & MV_FLAG)) return ULONG(one(v));
  size_t total = 0;
  for (ULONG i = 0; i < v.MVl.cValues && v.MVl.lpl != nullptr; ++i) {
    _PV e{};
    switch (base) {
      case PT_STRING8: e.lpszA = v.MVszA.lppszA[i]; break;
      case PT_UNICODE: e.lpszW = v.MVszW.lppszW[i]; break;
      case PT_BINARY: e.bin = v.MVbin.lpbin[i]; break;
      default: break;
    }
    total += one(e);
  }
  return ULONG(total);
}

// ---- Comparing ---------------------------------------------------------------

STDAPI_(BOOL) FEqualNames(LPMAPINAMEID lpName1, LPMAPINAMEID lpName2) {
  if (lpName1 == nullptr || lpName2 == nullptr || lpName1->lpguid == nullptr || lpName2->lpguid == nullptr)
    return FALSE;
  if (!IsEqualGUID(*lpName1->lpguid, *lpName2->lpguid) || lpName1->ulKind != lpName2->ulKind) return FALSE;
  if (lpName1->ulKind == MNID_ID) return lpName1->Kind.lID == lpName2->Kind.lID;
  if (lpName1->ulKind != MNID_STRING || lpName1->Kind.lpwstrName == nullptr || lpName2->Kind.lpwstrName == nullptr)
    return FALSE;
  return std::wcscmp(lpName1->Kind.lpwstrName, lpName2->Kind.lpwstrName) == 0;  // case-sensitive
}

// lpropcompareprop.md: the table engine's ordering (compare_values), the
// one sorts and restrictions use. Unconvertible values compare by tag.
STDAPI_(LONG) LPropCompareProp(LPSPropValue lpSPropValueA, LPSPropValue lpSPropValueB) {
  if (lpSPropValueA == nullptr || lpSPropValueB == nullptr) return lpSPropValueA == lpSPropValueB ? 0 : lpSPropValueA ? 1 : -1;
  PropValue a, b;
  if (!capi::from_mapi(*lpSPropValueA, a).ok() || !capi::from_mapi(*lpSPropValueB, b).ok())
    return lpSPropValueA->ulPropTag < lpSPropValueB->ulPropTag ? -1 : lpSPropValueA->ulPropTag > lpSPropValueB->ulPropTag ? 1 : 0;
  int c = compare_values(a, b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// fpropcompareprop.md: FALSE when the types differ; RELOP_RE is not
// supported (FALSE), as in restrictions.
STDAPI_(BOOL) FPropCompareProp(LPSPropValue lpSPropValue1, ULONG ulRelOp, LPSPropValue lpSPropValue2) {
  if (lpSPropValue1 == nullptr || lpSPropValue2 == nullptr) return FALSE;
  if (PROP_TYPE(lpSPropValue1->ulPropTag) != PROP_TYPE(lpSPropValue2->ulPropTag)) return FALSE;
  PropValue a, b;
  if (!capi::from_mapi(*lpSPropValue1, a).ok() || !capi::from_mapi(*lpSPropValue2, b).ok()) return FALSE;
  int c = compare_values(a, b);
  switch (ulRelOp) {
    case RELOP_LT: return c < 0;
    case RELOP_LE: return c <= 0;
    case RELOP_GT: return c > 0;
    case RELOP_GE: return c >= 0;
    case RELOP_EQ: return c == 0;
    case RELOP_NE: return c != 0;
  }
  return FALSE;
}

// fpropcontainsprop.md: PT_STRING8 and PT_BINARY (and PT_UNICODE, which
// RES_CONTENT also takes), same types; a missing or invalid match kind is
// FL_FULLSTRING. The RES_CONTENT evaluation of the table engine decides.
STDAPI_(BOOL) FPropContainsProp(LPSPropValue lpSPropValueDst, LPSPropValue lpSPropValueSrc, ULONG ulFuzzyLevel) {
  if (lpSPropValueDst == nullptr || lpSPropValueSrc == nullptr) return FALSE;
  const ULONG type = PROP_TYPE(lpSPropValueDst->ulPropTag);
  if (type != PROP_TYPE(lpSPropValueSrc->ulPropTag)) return FALSE;
  if (type != PT_STRING8 && type != PT_BINARY && type != PT_UNICODE) return FALSE;
  ULONG kind = ulFuzzyLevel & 0xFFFF;
  if (kind != FL_SUBSTRING && kind != FL_PREFIX) kind = FL_FULLSTRING;
  ULONG options = ulFuzzyLevel & (FL_IGNORECASE | FL_IGNORENONSPACE | FL_LOOSE);
  PropValue dst, src;
  if (!capi::from_mapi(*lpSPropValueDst, dst).ok() || !capi::from_mapi(*lpSPropValueSrc, src).ok()) return FALSE;
  Restriction r = Restriction::content(kind | options, dst.tag, src);
  auto m = matches(std::span<const PropValue>(&dst, 1), r);
  return m.is_ok() && *m;
}

// ---- Rows and address lists --------------------------------------------------

STDAPI_(void) FreeProws(LPSRowSet prows) {
  if (prows == nullptr) return;
  for (ULONG i = 0; i < prows->cRows; ++i) MAPIFreeBuffer(prows->aRow[i].lpProps);
  MAPIFreeBuffer(prows);
}

STDAPI_(void) FreePadrlist(LPADRLIST padrlist) {
  if (padrlist == nullptr) return;
  for (ULONG i = 0; i < padrlist->cEntries; ++i) MAPIFreeBuffer(padrlist->aEntries[i].rgPropVals);
  MAPIFreeBuffer(padrlist);
}

// hrqueryallrows.md: columns, restriction and sort applied when given, then
// every row from the beginning; more than crowsMax (non-zero) rows is
// MAPI_E_TABLE_TOO_BIG.
STDAPI HrQueryAllRows(LPMAPITABLE ptable, LPSPropTagArray ptaga, LPSRestriction pres, LPSSortOrderSet psos,
                      LONG crowsMax, LPSRowSet FAR* pprows) {
  if (ptable == nullptr || pprows == nullptr || crowsMax < 0) return MAPI_E_INVALID_PARAMETER;
  *pprows = nullptr;
  HRESULT hr = S_OK;
  if (ptaga != nullptr && FAILED(hr = ptable->SetColumns(ptaga, TBL_BATCH))) return hr;
  if (pres != nullptr && FAILED(hr = ptable->Restrict(pres, TBL_BATCH))) return hr;
  if (psos != nullptr && FAILED(hr = ptable->SortTable(psos, TBL_BATCH))) return hr;
  if (FAILED(hr = ptable->SeekRow(BOOKMARK_BEGINNING, 0, nullptr))) return hr;
  ULONG count = 0;
  if (FAILED(hr = ptable->GetRowCount(0, &count))) return hr;
  if (crowsMax != 0 && count > ULONG(crowsMax)) return MAPI_E_TABLE_TOO_BIG;
  // Read in batches; the row count was a hint, so stop at an empty batch.
  std::vector<SRow> rows;
  std::vector<LPSRowSet> batches;
  auto release = [&] {
    for (LPSRowSet b : batches) FreeProws(b);
  };
  constexpr LONG kBatch = 256;
  for (;;) {
    LPSRowSet batch = nullptr;
    if (FAILED(hr = ptable->QueryRows(kBatch, 0, &batch))) {
      release();
      return hr;
    }
    if (batch == nullptr || batch->cRows == 0) {
      MAPIFreeBuffer(batch);
      break;
    }
    batches.push_back(batch);
    for (ULONG i = 0; i < batch->cRows; ++i) rows.push_back(batch->aRow[i]);
    if (crowsMax != 0 && rows.size() > size_t(crowsMax)) {
      release();
      return MAPI_E_TABLE_TOO_BIG;
    }
  }
  void* p = nullptr;
  if (SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSRowSet(rows.size())), &p); sc != S_OK) {
    release();
    return sc;
  }
  auto* set = static_cast<LPSRowSet>(p);
  set->cRows = ULONG(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) set->aRow[i] = rows[i];
  // The rows' lpProps now belong to `set`; free only the batches' outer blocks.
  for (LPSRowSet b : batches) MAPIFreeBuffer(b);
  *pprows = set;
  return S_OK;
}

// ---- Objects -------------------------------------------------------------------

STDAPI_(ULONG) UlAddRef(LPVOID punk) {
  return punk == nullptr ? 0 : static_cast<LPUNKNOWN>(punk)->AddRef();
}
STDAPI_(ULONG) UlRelease(LPVOID punk) {
  return punk == nullptr ? 0 : static_cast<LPUNKNOWN>(punk)->Release();
}

// ---- One property ----------------------------------------------------------

// hrgetoneprop.md: never a warning; a PT_ERROR value is its error.
STDAPI HrGetOneProp(LPMAPIPROP pmp, ULONG ulPropTag, LPSPropValue FAR* ppprop) {
  if (pmp == nullptr || ppprop == nullptr) return MAPI_E_INVALID_PARAMETER;
  *ppprop = nullptr;
  SizedSPropTagArray(1, tags) = {1, {ulPropTag}};
  ULONG count = 0;
  LPSPropValue values = nullptr;
  HRESULT hr = pmp->GetProps(reinterpret_cast<LPSPropTagArray>(&tags),
                             PROP_TYPE(ulPropTag) == PT_UNICODE ? MAPI_UNICODE : 0, &count, &values);
  if (FAILED(hr)) {
    MAPIFreeBuffer(values);
    return hr;
  }
  if (values == nullptr || count != 1) {
    MAPIFreeBuffer(values);
    return MAPI_E_NOT_FOUND;
  }
  if (PROP_TYPE(values->ulPropTag) == PT_ERROR) {
    hr = FAILED(values->Value.err) ? values->Value.err : MAPI_E_NOT_FOUND;
    MAPIFreeBuffer(values);
    return hr;
  }
  *ppprop = values;
  return S_OK;
}

// hrsetoneprop.md: a problem reported for the property is the error.
STDAPI HrSetOneProp(LPMAPIPROP pmp, LPSPropValue pprop) {
  if (pmp == nullptr || pprop == nullptr) return MAPI_E_INVALID_PARAMETER;
  LPSPropProblemArray problems = nullptr;
  HRESULT hr = pmp->SetProps(1, pprop, &problems);
  if (SUCCEEDED(hr) && problems != nullptr && problems->cProblem > 0) hr = problems->aProblem[0].scode;
  MAPIFreeBuffer(problems);
  return FAILED(hr) ? hr : S_OK;
}

// fpropexists.md
STDAPI_(BOOL) FPropExists(LPMAPIPROP pobj, ULONG ulPropTag) {
  LPSPropValue value = nullptr;
  HRESULT hr = HrGetOneProp(pobj, ulPropTag, &value);
  MAPIFreeBuffer(value);
  return hr == S_OK;
}

// ---- Hexadecimal ---------------------------------------------------------------

STDAPI_(void) HexFromBin(LPBYTE pb, int cb, LPSTR sz) {
  if (sz == nullptr) return;
  static const char kDigits[] = "0123456789ABCDEF";
  int i = 0;
  for (; pb != nullptr && i < cb; ++i) {
    sz[2 * i] = kDigits[pb[i] >> 4];
    sz[2 * i + 1] = kDigits[pb[i] & 0xF];
  }
  sz[2 * i] = 0;
}

STDAPI_(BOOL) FBinFromHex(LPSTR sz, LPBYTE pb) {
  if (sz == nullptr || pb == nullptr) return FALSE;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; sz[i] != 0; i += 2) {
    int hi = digit(sz[i]);
    int lo = sz[i + 1] == 0 ? -1 : digit(sz[i + 1]);
    if (hi < 0 || lo < 0) return FALSE;
    pb[i / 2] = BYTE(hi << 4 | lo);
  }
  return TRUE;
}

// ---- Advise sinks ------------------------------------------------------------

namespace {

// hrallocadvisesink.md: an advise sink whose OnNotify calls lpfnCallback.
class CallbackAdviseSink final
    : public pstkit::mapi::capi::ComObject<CallbackAdviseSink, IMAPIAdviseSink, IID_IMAPIAdviseSink> {
 public:
  CallbackAdviseSink(LPNOTIFCALLBACK callback, LPVOID context) : callback_(callback), context_(context) {}
  STDMETHODIMP_(ULONG) OnNotify(ULONG cNotif, LPNOTIFICATION lpNotifications) override {
    return ULONG(callback_(context_, cNotif, lpNotifications));
  }

 private:
  friend class pstkit::mapi::capi::ComObject<CallbackAdviseSink, IMAPIAdviseSink, IID_IMAPIAdviseSink>;
  ~CallbackAdviseSink() = default;
  LPNOTIFCALLBACK callback_;
  LPVOID context_;
};

}  // namespace

STDAPI HrAllocAdviseSink(LPNOTIFCALLBACK lpfnCallback, LPVOID lpvContext, LPMAPIADVISESINK FAR* lppAdviseSink) {
  if (lpfnCallback == nullptr || lppAdviseSink == nullptr) return MAPI_E_INVALID_PARAMETER;
  *lppAdviseSink = new (std::nothrow) CallbackAdviseSink(lpfnCallback, lpvContext);
  return *lppAdviseSink != nullptr ? S_OK : MAPI_E_NOT_ENOUGH_MEMORY;
}
