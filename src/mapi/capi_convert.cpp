// Conversions between MAPI C structures and the table core (capi_convert.h).
#include "mapi/capi_convert.h"

#include <cstring>
#include <cwchar>

#include "pstkit/utf.h"

namespace pstkit::mapi::capi {
namespace {

Converted fail(SCODE scode, std::string detail) { return Converted{scode, std::move(detail)}; }
Converted invalid(std::string detail) { return fail(MAPI_E_INVALID_PARAMETER, std::move(detail)); }

uint16_t base_type(uint16_t type) { return uint16_t(type & ~kMvInstance & ~kMvFlag); }

// One element of a base (single-valued) type from a pointer to it.
Converted scalar_from(uint16_t type, PropTag tag, const _PV& v, PropValue& out) {
  switch (type) {
    case PT_UNSPECIFIED: case PT_NULL: case PT_OBJECT: out = PropValue::null(tag); return {};
    case PT_I2: out = PropValue::i2(tag, v.i); return {};
    case PT_LONG: out = PropValue::long_(tag, v.l); return {};
    case PT_R4: out = PropValue::r4(tag, v.flt); return {};
    case PT_DOUBLE: out = PropValue::double_(tag, v.dbl); return {};
    case PT_APPTIME: out = PropValue::apptime(tag, v.at); return {};
    case PT_CURRENCY: out = PropValue::currency(tag, v.cur.int64); return {};
    case PT_ERROR: out = PropValue::error(tag, v.err); return {};
    case PT_BOOLEAN: out = PropValue::boolean(tag, v.b != 0); return {};
    case PT_I8: out = PropValue::i8(tag, v.li.QuadPart); return {};
    case PT_SYSTIME:
      out = PropValue::systime(tag, (uint64_t(v.ft.dwHighDateTime) << 32) | v.ft.dwLowDateTime);
      return {};
    case PT_CLSID: {
      if (v.lpguid == nullptr) return invalid("PT_CLSID value with a null lpguid");
      Guid g{};
      static_assert(sizeof(Guid) == sizeof(GUID));
      std::memcpy(&g, v.lpguid, sizeof g);
      out = PropValue::clsid(tag, g);
      return {};
    }
    case PT_STRING8:
      if (v.lpszA == nullptr) return invalid("PT_STRING8 value with a null lpszA");
      out = PropValue::string8(tag, v.lpszA);
      return {};
    case PT_UNICODE:
      if (v.lpszW == nullptr) return invalid("PT_UNICODE value with a null lpszW");
      out = PropValue::unicode(tag, utf8_from_wide(v.lpszW));
      return {};
    case PT_BINARY: case PT_SVREID:
      if (v.bin.cb != 0 && v.bin.lpb == nullptr) return invalid("binary value with cb > 0 and a null lpb");
      out = PropValue::binary(tag, ByteView(v.bin.lpb, v.bin.cb));
      return {};
  }
  return fail(MAPI_E_INVALID_TYPE, "unknown property type " + std::to_string(type));
}

template <typename Array, typename Elem>
Converted multi_from(PropTag tag, const Array& a, Elem* Array::*member, void (*set)(_PV&, const Elem&),
                     PropValue& out) {
  if (a.cValues != 0 && a.*member == nullptr) return invalid("multi-valued property with a null array");
  std::vector<PropValue> elements;
  elements.reserve(a.cValues);
  uint16_t type = base_type(prop_type(tag));
  PropTag element_tag = change_prop_type(tag, type);
  for (ULONG i = 0; i < a.cValues; ++i) {
    _PV v{};
    set(v, (a.*member)[i]);
    PropValue e;
    Converted c = scalar_from(type, element_tag, v, e);
    if (!c.ok()) return c;
    elements.push_back(std::move(e));
  }
  out = PropValue::multi(tag, std::move(elements));
  return {};
}

}  // namespace

std::string utf8_from_wide(const wchar_t* s) {
  std::string out;
  for (; *s != 0; ++s) append_utf8(out, char32_t(uint32_t(*s)));
  return out;
}

std::wstring wide_from_utf8(std::string_view in) {
  std::string valid = sanitize_utf8(in);
  std::wstring out;
  out.reserve(valid.size());
  for (size_t i = 0; i < valid.size();) {
    unsigned char c = valid[i];
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < n && i + k < valid.size(); ++k) cp = (cp << 6) | (valid[i + k] & 0x3F);
    out.push_back(wchar_t(cp));
    i += n;
  }
  return out;
}

Converted from_status(const Status& status) {
  if (status.is_ok()) return {};
  return fail(mapi_scode(status), status.message());
}

Converted from_mapi(const SPropValue& in, PropValue& out) {
  const PropTag tag = in.ulPropTag;
  const uint16_t type = prop_type(tag);
  if ((type & kMvFlag) == 0) {
    if (type & kMvInstance) return fail(MAPI_E_INVALID_TYPE, "MV_INSTANCE without MV_FLAG");
    return scalar_from(type, tag, in.Value, out);
  }
  const _PV& v = in.Value;
  switch (base_type(type)) {
    case PT_I2: return multi_from<SShortArray, short>(tag, v.MVi, &SShortArray::lpi, [](_PV& p, const short& e) { p.i = e; }, out);
    case PT_LONG: return multi_from<SLongArray, LONG>(tag, v.MVl, &SLongArray::lpl, [](_PV& p, const LONG& e) { p.l = e; }, out);
    case PT_R4: return multi_from<SRealArray, float>(tag, v.MVflt, &SRealArray::lpflt, [](_PV& p, const float& e) { p.flt = e; }, out);
    case PT_DOUBLE: return multi_from<SDoubleArray, double>(tag, v.MVdbl, &SDoubleArray::lpdbl, [](_PV& p, const double& e) { p.dbl = e; }, out);
    case PT_APPTIME: return multi_from<SAppTimeArray, double>(tag, v.MVat, &SAppTimeArray::lpat, [](_PV& p, const double& e) { p.at = e; }, out);
    case PT_CURRENCY: return multi_from<SCurrencyArray, CURRENCY>(tag, v.MVcur, &SCurrencyArray::lpcur, [](_PV& p, const CURRENCY& e) { p.cur = e; }, out);
    case PT_SYSTIME: return multi_from<SDateTimeArray, FILETIME>(tag, v.MVft, &SDateTimeArray::lpft, [](_PV& p, const FILETIME& e) { p.ft = e; }, out);
    case PT_I8: return multi_from<SLargeIntegerArray, LARGE_INTEGER>(tag, v.MVli, &SLargeIntegerArray::lpli, [](_PV& p, const LARGE_INTEGER& e) { p.li = e; }, out);
    case PT_CLSID: return multi_from<SGuidArray, GUID>(tag, v.MVguid, &SGuidArray::lpguid, [](_PV& p, const GUID& e) { p.lpguid = const_cast<GUID*>(&e); }, out);
    case PT_STRING8: return multi_from<SLPSTRArray, LPSTR>(tag, v.MVszA, &SLPSTRArray::lppszA, [](_PV& p, const LPSTR& e) { p.lpszA = e; }, out);
    case PT_UNICODE: return multi_from<SWStringArray, LPWSTR>(tag, v.MVszW, &SWStringArray::lppszW, [](_PV& p, const LPWSTR& e) { p.lpszW = e; }, out);
    case PT_BINARY: return multi_from<SBinaryArray, SBinary>(tag, v.MVbin, &SBinaryArray::lpbin, [](_PV& p, const SBinary& e) { p.bin = e; }, out);
  }
  return fail(MAPI_E_INVALID_TYPE, "unknown multi-valued property type " + std::to_string(type));
}

namespace {

// Allocates `count` elements of T linked to `parent`.
template <typename T>
Converted more(void* parent, size_t count, T** out) {
  *out = nullptr;
  if (count == 0) return {};
  if (count > 0xFFFFFFFFu / sizeof(T)) return fail(MAPI_E_NOT_ENOUGH_MEMORY, "array too large");
  void* p = nullptr;
  SCODE sc = MAPIAllocateMore(ULONG(count * sizeof(T)), parent, &p);
  if (sc != S_OK) return fail(sc, "MAPIAllocateMore failed");
  *out = static_cast<T*>(p);
  return {};
}

Converted copy_string8(const std::string& s, void* parent, LPSTR* out) {
  char* p = nullptr;
  if (Converted c = more(parent, s.size() + 1, &p); !c.ok()) return c;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = 0;
  *out = p;
  return {};
}

Converted copy_unicode(const std::string& utf8, void* parent, LPWSTR* out) {
  std::wstring w = wide_from_utf8(utf8);
  wchar_t* p = nullptr;
  if (Converted c = more(parent, w.size() + 1, &p); !c.ok()) return c;
  std::wmemcpy(p, w.data(), w.size());
  p[w.size()] = 0;
  *out = p;
  return {};
}

Converted copy_binary(const std::string& bytes, void* parent, SBinary& out) {
  out.cb = ULONG(bytes.size());
  out.lpb = nullptr;
  if (bytes.size() > 0xFFFFFFFFu) return fail(MAPI_E_NOT_ENOUGH_MEMORY, "binary too large");
  BYTE* p = nullptr;
  if (Converted c = more(parent, bytes.size(), &p); !c.ok()) return c;
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  out.lpb = p;
  return {};
}

Converted scalar_to(uint16_t type, const PropValue& in, void* parent, _PV& v) {
  switch (type) {
    case PT_UNSPECIFIED: case PT_NULL: case PT_OBJECT: v.x = 0; return {};
    case PT_I2: v.i = short(in.integer); return {};
    case PT_LONG: v.l = LONG(in.integer); return {};
    case PT_R4: v.flt = float(in.real); return {};
    case PT_DOUBLE: v.dbl = in.real; return {};
    case PT_APPTIME: v.at = in.real; return {};
    case PT_CURRENCY: v.cur.int64 = in.integer; return {};
    case PT_ERROR: v.err = SCODE(in.integer); return {};
    case PT_BOOLEAN: v.b = in.integer != 0; return {};
    case PT_I8: v.li.QuadPart = in.integer; return {};
    case PT_SYSTIME:
      v.ft.dwLowDateTime = DWORD(uint64_t(in.integer));
      v.ft.dwHighDateTime = DWORD(uint64_t(in.integer) >> 32);
      return {};
    case PT_CLSID: {
      GUID* g = nullptr;
      if (Converted c = more(parent, 1, &g); !c.ok()) return c;
      std::memcpy(g, &in.guid, sizeof *g);
      v.lpguid = g;
      return {};
    }
    case PT_STRING8: return copy_string8(in.bytes, parent, &v.lpszA);
    case PT_UNICODE: return copy_unicode(in.bytes, parent, &v.lpszW);
    case PT_BINARY: case PT_SVREID: return copy_binary(in.bytes, parent, v.bin);
  }
  return fail(MAPI_E_INVALID_TYPE, "unknown property type " + std::to_string(type));
}

template <typename Array, typename Elem>
Converted multi_to(const PropValue& in, void* parent, Array& a, Elem* Array::*member,
                   Elem (*get)(const _PV&)) {
  a.cValues = ULONG(in.values.size());
  Elem* elements = nullptr;
  if (Converted c = more(parent, in.values.size(), &elements); !c.ok()) return c;
  a.*member = elements;
  uint16_t type = base_type(prop_type(in.tag));
  for (size_t i = 0; i < in.values.size(); ++i) {
    _PV v{};
    if (Converted c = scalar_to(type, in.values[i], parent, v); !c.ok()) return c;
    elements[i] = get(v);
  }
  return {};
}

}  // namespace

Converted to_mapi(const PropValue& in, void* parent, SPropValue& out) {
  out.ulPropTag = in.tag;
  out.dwAlignPad = 0;
  std::memset(&out.Value, 0, sizeof out.Value);
  const uint16_t type = in.type();
  if ((type & kMvFlag) == 0) return scalar_to(type, in, parent, out.Value);
  _PV& v = out.Value;
  switch (base_type(type)) {
    case PT_I2: return multi_to<SShortArray, short>(in, parent, v.MVi, &SShortArray::lpi, [](const _PV& p) { return p.i; });
    case PT_LONG: return multi_to<SLongArray, LONG>(in, parent, v.MVl, &SLongArray::lpl, [](const _PV& p) { return p.l; });
    case PT_R4: return multi_to<SRealArray, float>(in, parent, v.MVflt, &SRealArray::lpflt, [](const _PV& p) { return p.flt; });
    case PT_DOUBLE: return multi_to<SDoubleArray, double>(in, parent, v.MVdbl, &SDoubleArray::lpdbl, [](const _PV& p) { return p.dbl; });
    case PT_APPTIME: return multi_to<SAppTimeArray, double>(in, parent, v.MVat, &SAppTimeArray::lpat, [](const _PV& p) { return p.at; });
    case PT_CURRENCY: return multi_to<SCurrencyArray, CURRENCY>(in, parent, v.MVcur, &SCurrencyArray::lpcur, [](const _PV& p) { return p.cur; });
    case PT_SYSTIME: return multi_to<SDateTimeArray, FILETIME>(in, parent, v.MVft, &SDateTimeArray::lpft, [](const _PV& p) { return p.ft; });
    case PT_I8: return multi_to<SLargeIntegerArray, LARGE_INTEGER>(in, parent, v.MVli, &SLargeIntegerArray::lpli, [](const _PV& p) { return p.li; });
    case PT_CLSID: return multi_to<SGuidArray, GUID>(in, parent, v.MVguid, &SGuidArray::lpguid, [](const _PV& p) { return *p.lpguid; });
    case PT_STRING8: return multi_to<SLPSTRArray, LPSTR>(in, parent, v.MVszA, &SLPSTRArray::lppszA, [](const _PV& p) { return p.lpszA; });
    case PT_UNICODE: return multi_to<SWStringArray, LPWSTR>(in, parent, v.MVszW, &SWStringArray::lppszW, [](const _PV& p) { return p.lpszW; });
    case PT_BINARY: return multi_to<SBinaryArray, SBinary>(in, parent, v.MVbin, &SBinaryArray::lpbin, [](const _PV& p) { return p.bin; });
  }
  return fail(MAPI_E_INVALID_TYPE, "unknown multi-valued property type " + std::to_string(type));
}

Converted from_mapi(const SPropTagArray* in, std::vector<PropTag>& out) {
  if (in == nullptr) return invalid("null SPropTagArray");
  out.assign(in->aulPropTag, in->aulPropTag + in->cValues);
  return {};
}

Converted to_mapi(const std::vector<PropTag>& in, LPSPropTagArray* out) {
  *out = nullptr;
  if (in.size() > (0xFFFFFFFFu - 64) / sizeof(ULONG)) return fail(MAPI_E_NOT_ENOUGH_MEMORY, "tag array too large");
  void* p = nullptr;
  SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSPropTagArray(in.size())), &p);
  if (sc != S_OK) return fail(sc, "MAPIAllocateBuffer failed");
  auto* a = static_cast<LPSPropTagArray>(p);
  a->cValues = ULONG(in.size());
  for (size_t i = 0; i < in.size(); ++i) a->aulPropTag[i] = in[i];
  *out = a;
  return {};
}

namespace {

struct RestrictionReader {
  size_t nodes = 0;

  Converted value(const SPropValue* p, const char* what, PropValue& out) {
    if (p == nullptr) return invalid(std::string(what) + ": null lpProp");
    return from_mapi(*p, out);
  }

  Converted read(const SRestriction* in, int depth, Restriction& out) {
    if (in == nullptr) return invalid("null SRestriction");
    if (depth > kMaxRestrictionDepth) return fail(MAPI_E_TOO_COMPLEX, "restriction deeper than 64 levels");
    if (++nodes > kMaxRestrictionNodes) return fail(MAPI_E_TOO_COMPLEX, "restriction of more than 16384 nodes");
    out = Restriction{};
    out.type = RestrictionType(in->rt);
    const auto& r = in->res;
    switch (in->rt) {
      case RES_AND: case RES_OR: {
        const ULONG count = in->rt == RES_AND ? r.resAnd.cRes : r.resOr.cRes;
        const SRestriction* list = in->rt == RES_AND ? r.resAnd.lpRes : r.resOr.lpRes;
        if (count != 0 && list == nullptr) return invalid("RES_AND/RES_OR with cRes > 0 and a null lpRes");
        if (count > kMaxRestrictionNodes) return fail(MAPI_E_TOO_COMPLEX, "RES_AND/RES_OR with too many restrictions");
        out.children.resize(count);
        for (ULONG i = 0; i < count; ++i)
          if (Converted c = read(&list[i], depth + 1, out.children[i]); !c.ok()) return c;
        return {};
      }
      case RES_NOT:
        out.children.resize(1);
        return read(r.resNot.lpRes, depth + 1, out.children[0]);
      case RES_CONTENT:
        out.flags = r.resContent.ulFuzzyLevel;
        out.tag = r.resContent.ulPropTag;
        return value(r.resContent.lpProp, "RES_CONTENT", out.value);
      case RES_PROPERTY:
        out.flags = r.resProperty.relop;
        out.tag = r.resProperty.ulPropTag;
        return value(r.resProperty.lpProp, "RES_PROPERTY", out.value);
      case RES_COMPAREPROPS:
        out.flags = r.resCompareProps.relop;
        out.tag = r.resCompareProps.ulPropTag1;
        out.tag2 = r.resCompareProps.ulPropTag2;
        return {};
      case RES_BITMASK:
        out.flags = r.resBitMask.relBMR;
        out.tag = r.resBitMask.ulPropTag;
        out.number = r.resBitMask.ulMask;
        return {};
      case RES_SIZE:
        out.flags = r.resSize.relop;
        out.tag = r.resSize.ulPropTag;
        out.number = r.resSize.cb;
        return {};
      case RES_EXIST:
        out.tag = r.resExist.ulPropTag;
        return {};
      case RES_SUBRESTRICTION:
        out.tag = r.resSub.ulSubObject;
        out.children.resize(1);
        return read(r.resSub.lpRes, depth + 1, out.children[0]);
      case RES_COMMENT: {
        const SCommentRestriction& c = r.resComment;
        if (c.cValues != 0 && c.lpProp == nullptr) return invalid("RES_COMMENT with cValues > 0 and a null lpProp");
        if (c.cValues > kMaxRestrictionNodes) return fail(MAPI_E_TOO_COMPLEX, "RES_COMMENT with too many values");
        out.comment_values.resize(c.cValues);
        for (ULONG i = 0; i < c.cValues; ++i)
          if (Converted cv = from_mapi(c.lpProp[i], out.comment_values[i]); !cv.ok()) return cv;
        if (c.lpRes != nullptr) {
          out.children.resize(1);
          return read(c.lpRes, depth + 1, out.children[0]);
        }
        return {};
      }
      case RES_COUNT: case RES_ANNOTATION:
        // Refused by the core (MAPI_E_TOO_COMPLEX); nothing below is read.
        return {};
    }
    return invalid("unknown restriction type " + std::to_string(in->rt));
  }
};

}  // namespace

Converted from_mapi(const SRestriction* in, Restriction& out) {
  RestrictionReader reader;
  if (Converted c = reader.read(in, 1, out); !c.ok()) return c;
  return from_status(validate(out));
}

namespace {

Converted write_restriction(const Restriction& in, void* parent, SRestriction& out) {
  std::memset(&out, 0, sizeof out);
  out.rt = ULONG(in.type);
  auto& r = out.res;
  auto prop = [&](LPSPropValue* slot) -> Converted {
    SPropValue* v = nullptr;
    if (Converted c = more(parent, 1, &v); !c.ok()) return c;
    *slot = v;
    return to_mapi(in.value, parent, *v);
  };
  auto children = [&](ULONG& count, LPSRestriction& list) -> Converted {
    count = ULONG(in.children.size());
    if (Converted c = more(parent, in.children.size(), &list); !c.ok()) return c;
    for (size_t i = 0; i < in.children.size(); ++i)
      if (Converted c = write_restriction(in.children[i], parent, list[i]); !c.ok()) return c;
    return {};
  };
  auto one_child = [&](LPSRestriction& slot) -> Converted {
    ULONG count = 0;
    if (in.children.empty()) return {};
    return children(count, slot);  // the first child; a NOT/SUB has exactly one
  };
  switch (in.type) {
    case RestrictionType::kAnd: return children(r.resAnd.cRes, r.resAnd.lpRes);
    case RestrictionType::kOr: return children(r.resOr.cRes, r.resOr.lpRes);
    case RestrictionType::kNot: return one_child(r.resNot.lpRes);
    case RestrictionType::kContent:
      r.resContent.ulFuzzyLevel = in.flags;
      r.resContent.ulPropTag = in.tag;
      return prop(&r.resContent.lpProp);
    case RestrictionType::kProperty:
      r.resProperty.relop = in.flags;
      r.resProperty.ulPropTag = in.tag;
      return prop(&r.resProperty.lpProp);
    case RestrictionType::kCompareProps:
      r.resCompareProps = {in.flags, in.tag, in.tag2};
      return {};
    case RestrictionType::kBitmask: r.resBitMask = {in.flags, in.tag, in.number}; return {};
    case RestrictionType::kSize: r.resSize = {in.flags, in.tag, in.number}; return {};
    case RestrictionType::kExist: r.resExist = {0, in.tag, 0}; return {};
    case RestrictionType::kSubRestriction:
      r.resSub.ulSubObject = in.tag;
      return one_child(r.resSub.lpRes);
    case RestrictionType::kComment: {
      r.resComment.cValues = ULONG(in.comment_values.size());
      if (Converted c = more(parent, in.comment_values.size(), &r.resComment.lpProp); !c.ok()) return c;
      for (size_t i = 0; i < in.comment_values.size(); ++i)
        if (Converted c = to_mapi(in.comment_values[i], parent, r.resComment.lpProp[i]); !c.ok()) return c;
      return one_child(r.resComment.lpRes);
    }
    case RestrictionType::kCount: case RestrictionType::kAnnotation: return {};
  }
  return invalid("unknown restriction type");
}

}  // namespace

Converted to_mapi(const Restriction& in, LPSRestriction* out) {
  *out = nullptr;
  void* p = nullptr;
  SCODE sc = MAPIAllocateBuffer(sizeof(SRestriction), &p);
  if (sc != S_OK) return fail(sc, "MAPIAllocateBuffer failed");
  auto* root = static_cast<LPSRestriction>(p);
  if (Converted c = write_restriction(in, p, *root); !c.ok()) {
    MAPIFreeBuffer(p);
    return c;
  }
  *out = root;
  return {};
}

Converted from_mapi(const SSortOrderSet* in, SortOrderSet& out) {
  if (in == nullptr) return invalid("null SSortOrderSet");
  // ssortorderset.md: cCategories <= cSorts, cExpanded <= cCategories.
  if (in->cCategories > in->cSorts) return invalid("SSortOrderSet: cCategories > cSorts");
  if (in->cExpanded > in->cCategories) return invalid("SSortOrderSet: cExpanded > cCategories");
  out = SortOrderSet{};
  out.categories = in->cCategories;
  out.expanded = in->cExpanded;
  out.keys.reserve(in->cSorts);
  for (ULONG i = 0; i < in->cSorts; ++i) out.keys.push_back(SortKey{in->aSort[i].ulPropTag, in->aSort[i].ulOrder});
  return from_status(validate(out));
}

Converted to_mapi(const SortOrderSet& in, LPSSortOrderSet* out) {
  *out = nullptr;
  void* p = nullptr;
  SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSSortOrderSet(in.keys.size())), &p);
  if (sc != S_OK) return fail(sc, "MAPIAllocateBuffer failed");
  auto* s = static_cast<LPSSortOrderSet>(p);
  s->cSorts = ULONG(in.keys.size());
  s->cCategories = in.categories;
  s->cExpanded = in.expanded;
  for (size_t i = 0; i < in.keys.size(); ++i) s->aSort[i] = SSortOrder{in.keys[i].tag, in.keys[i].order};
  *out = s;
  return {};
}

Converted to_mapi(const std::vector<PropValue>& values, LPSPropValue* out) {
  *out = nullptr;
  if (values.size() > 0xFFFFFFFFu / sizeof(SPropValue)) return fail(MAPI_E_NOT_ENOUGH_MEMORY, "row too large");
  void* p = nullptr;
  SCODE sc = MAPIAllocateBuffer(ULONG(values.size() * sizeof(SPropValue)), &p);
  if (sc != S_OK) return fail(sc, "MAPIAllocateBuffer failed");
  auto* props = static_cast<LPSPropValue>(p);
  for (size_t i = 0; i < values.size(); ++i) {
    if (Converted c = to_mapi(values[i], p, props[i]); !c.ok()) {
      MAPIFreeBuffer(p);
      return c;
    }
  }
  *out = props;
  return {};
}

Converted to_mapi(const std::vector<std::vector<PropValue>>& rows, LPSRowSet* out) {
  *out = nullptr;
  if (rows.size() > (0xFFFFFFFFu - 64) / sizeof(SRow)) return fail(MAPI_E_TABLE_TOO_BIG, "too many rows");
  void* p = nullptr;
  SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSRowSet(rows.size())), &p);
  if (sc != S_OK) return fail(sc, "MAPIAllocateBuffer failed");
  auto* set = static_cast<LPSRowSet>(p);
  set->cRows = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    SRow& row = set->aRow[i];
    row.ulAdrEntryPad = 0;
    row.cValues = ULONG(rows[i].size());
    if (Converted c = to_mapi(rows[i], &row.lpProps); !c.ok()) {
      for (size_t k = 0; k < i; ++k) MAPIFreeBuffer(set->aRow[k].lpProps);
      MAPIFreeBuffer(p);
      return c;
    }
    set->cRows = ULONG(i + 1);
  }
  *out = set;
  return {};
}

SCODE copy_mapi_string(std::string_view utf8, bool wide, void* parent, LPTSTR* out) {
  if (wide) {
    LPWSTR w = nullptr;
    Converted c = copy_unicode(std::string(utf8), parent, &w);
    *out = reinterpret_cast<LPTSTR>(w);
    return c.scode;
  }
  LPSTR a = nullptr;
  Converted c = copy_string8(std::string(utf8), parent, &a);
  *out = reinterpret_cast<LPTSTR>(a);
  return c.scode;
}

}  // namespace pstkit::mapi::capi
