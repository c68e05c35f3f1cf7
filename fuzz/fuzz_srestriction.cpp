// Fuzzes the MAPI C surface the way a buggy client would call it: graphs of
// SRestriction and SPropValue structures built from the input (shared
// sub-trees, cycles, null pointers, absurd counts behind null pointers,
// unknown types, relops and fuzzy levels), converted to the table core,
// converted back, evaluated through IMAPITable (Restrict, FindRow,
// QueryRows, HrQueryAllRows) and the mapiutil comparisons. Every call must
// return an error code or succeed, never crash, hang or leak (the buffers go
// back through MAPIFreeBuffer / FreeProws; LeakSanitizer checks).
//
// Counts a client passes with a real pointer must describe real memory (no
// library can check that), so a count here is either within the pool it
// points into or paired with a null pointer.
//
// Input layout: a byte stream read front to back; each choice takes one
// byte (zero once the input ends).
#include <mapix.h>
#include <mapiutil.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mapi/capi_convert.h"
#include "mapi/com_table.h"
#include "pstkit/mapi_table.h"

namespace {

using namespace pstkit::mapi;

constexpr size_t kNodes = 48;
constexpr size_t kValues = 24;
constexpr size_t kText = 12;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A few tags of the table below, and the odd one from the input.
ULONG pick_tag(Input& in) {
  static const ULONG kTags[] = {PR_SUBJECT_W, PR_SUBJECT_A, PR_MESSAGE_SIZE, PR_IMPORTANCE,
                                PR_ENTRYID, PR_MESSAGE_RECIPIENTS, PROP_TAG(PT_MV_UNICODE, 0x8012),
                                PROP_TAG(PT_MV_LONG, 0x8013), PR_MESSAGE_DELIVERY_TIME, PR_HASATTACH};
  uint8_t b = in.byte();
  if (b < 240) return kTags[b % std::size(kTags)];
  return in.u32();
}

struct Graph {
  SRestriction nodes[kNodes]{};
  SPropValue values[kValues]{};
  std::string narrow[kValues];
  std::wstring wide[kValues];
  std::vector<uint8_t> bytes[kValues];
  LONG longs[kValues][4]{};
  LPSTR narrow_ptrs[kValues][2]{};
  LPWSTR wide_ptrs[kValues][2]{};
  GUID guid{};

  void build_value(Input& in, size_t i) {
    SPropValue& v = values[i];
    v.ulPropTag = pick_tag(in);
    for (size_t k = in.byte() % (kText + 1); k > 0; --k) {
      uint8_t c = in.byte();
      narrow[i].push_back(char(c == 0 ? 'a' : c));
      wide[i].push_back(wchar_t(c < 0x80 ? c : 0x100 + c * 37));  // some non-ASCII
      bytes[i].push_back(c);
    }
    narrow_ptrs[i][0] = narrow_ptrs[i][1] = narrow[i].data();
    wide_ptrs[i][0] = wide_ptrs[i][1] = wide[i].data();
    for (LONG& l : longs[i]) l = LONG(in.u32() % 1000);
    const bool null_pointer = in.byte() % 8 == 0;
    switch (PROP_TYPE(v.ulPropTag)) {
      case PT_STRING8: v.Value.lpszA = null_pointer ? nullptr : narrow[i].data(); break;
      case PT_UNICODE: v.Value.lpszW = null_pointer ? nullptr : wide[i].data(); break;
      case PT_BINARY: case PT_SVREID:
        v.Value.bin = {ULONG(bytes[i].size()), null_pointer ? nullptr : bytes[i].data()};
        if (null_pointer && in.byte() % 2) v.Value.bin.cb = 0xFFFFFFFFu;
        break;
      case PT_CLSID: v.Value.lpguid = null_pointer ? nullptr : &guid; break;
      case PT_MV_LONG:
        v.Value.MVl = {null_pointer ? in.u32() : in.byte() % 5u, null_pointer ? nullptr : longs[i]};
        break;
      case PT_MV_UNICODE:
        v.Value.MVszW = {null_pointer ? in.u32() : in.byte() % 3u, null_pointer ? nullptr : wide_ptrs[i]};
        break;
      case PT_MV_STRING8:
        v.Value.MVszA = {null_pointer ? in.u32() : in.byte() % 3u, null_pointer ? nullptr : narrow_ptrs[i]};
        break;
      default: v.Value.li.QuadPart = int64_t(in.u32()) - 500; break;
    }
  }

  // A pointer to a value (or null, 1 in 16).
  LPSPropValue value(Input& in) {
    uint8_t b = in.byte();
    return b % 16 == 0 ? nullptr : &values[b % kValues];
  }
  // `count` restrictions from the pool starting anywhere they fit, or null
  // (with whatever count the client got wrong).
  LPSRestriction list(Input& in, ULONG& count) {
    uint8_t b = in.byte();
    if (b % 16 == 0) {
      count = b % 32 == 0 ? in.u32() : 0;
      return nullptr;
    }
    size_t start = in.byte() % kNodes;
    count = ULONG(in.byte() % (kNodes - start + 1));
    return &nodes[start];
  }

  void build_node(Input& in, size_t i) {
    SRestriction& r = nodes[i];
    uint8_t t = in.byte();
    r.rt = t < 250 ? t % 13 : in.u32();
    auto relop = [&] { uint8_t b = in.byte(); return ULONG(b < 240 ? b % 7 : b); };
    switch (r.rt) {
      case RES_AND: r.res.resAnd.lpRes = list(in, r.res.resAnd.cRes); break;
      case RES_OR: r.res.resOr.lpRes = list(in, r.res.resOr.cRes); break;
      case RES_NOT: {
        ULONG unused = 0;
        r.res.resNot.lpRes = list(in, unused);
        break;
      }
      case RES_CONTENT: {
        uint8_t b = in.byte();
        r.res.resContent = {b < 240 ? ULONG(b % 3) | (ULONG(in.byte() % 8) << 16) : in.u32(), pick_tag(in), value(in)};
        break;
      }
      case RES_PROPERTY: r.res.resProperty = {relop(), pick_tag(in), value(in)}; break;
      case RES_COMPAREPROPS: r.res.resCompareProps = {relop(), pick_tag(in), pick_tag(in)}; break;
      case RES_BITMASK: r.res.resBitMask = {ULONG(in.byte() % 3), pick_tag(in), in.u32()}; break;
      case RES_SIZE: r.res.resSize = {relop(), pick_tag(in), in.u32() % 64}; break;
      case RES_EXIST: r.res.resExist = {0, pick_tag(in), 0}; break;
      case RES_SUBRESTRICTION: {
        ULONG unused = 0;
        r.res.resSub = {in.byte() % 2 ? ULONG(PR_MESSAGE_RECIPIENTS) : pick_tag(in), list(in, unused)};
        break;
      }
      case RES_COMMENT: {
        ULONG unused = 0;
        uint8_t b = in.byte();
        size_t start = b % kValues;
        r.res.resComment.cValues = b % 16 == 0 ? in.u32() : ULONG(in.byte() % (kValues - start + 1));
        r.res.resComment.lpProp = b % 16 == 0 ? nullptr : &values[start];
        r.res.resComment.lpRes = in.byte() % 2 ? list(in, unused) : nullptr;
        break;
      }
      default: r.res.resCount = {in.u32(), nullptr}; break;
    }
  }
};

std::shared_ptr<InMemoryRowSource> sample_source() {
  std::vector<InMemoryRowSource::Row> rows(4);
  const char* subjects[] = {"Hello", "caf\xC3\xA9", "Budget", ""};
  for (int i = 0; i < 4; ++i) {
    rows[i].id = RowId(i + 1);
    rows[i].values = {PropValue::unicode(PR_SUBJECT_W, subjects[i]), PropValue::string8(PR_SUBJECT_A, subjects[i]),
                      PropValue::long_(PR_MESSAGE_SIZE, 100 * i), PropValue::boolean(PR_HASATTACH, i % 2)};
    if (i != 2) rows[i].values.push_back(PropValue::long_(PR_IMPORTANCE, i));
    rows[i].recipients = {{PropValue::unicode(PR_SUBJECT_W, "bob")}};
  }
  return std::make_shared<InMemoryRowSource>(std::vector<PropTag>{PR_SUBJECT_W, PR_MESSAGE_SIZE}, std::move(rows));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  auto graph = std::make_unique<Graph>();
  for (size_t i = 0; i < kValues; ++i) graph->build_value(in, i);
  for (size_t i = 0; i < kNodes; ++i) graph->build_node(in, i);
  LPSRestriction root = in.byte() % 32 == 0 ? nullptr : &graph->nodes[in.byte() % kNodes];

  // Conversion to the core and back.
  Restriction core;
  if (pstkit::mapi::capi::from_mapi(root, core).ok()) {
    LPSRestriction back = nullptr;
    if (pstkit::mapi::capi::to_mapi(core, &back).ok()) {
      Restriction again;
      if (!pstkit::mapi::capi::from_mapi(back, again).ok()) std::abort();  // our own output must convert
      MAPIFreeBuffer(back);
    }
  }

  // Through IMAPITable, as a client calls it.
  LPMAPITABLE table = nullptr;
  if (pstkit::mapi::capi::create_table(sample_source(), &table) != S_OK) std::abort();
  HRESULT hr = table->Restrict(root, in.byte() % 2 ? TBL_BATCH : 0);
  LPMAPIERROR err = nullptr;
  if (FAILED(hr) && table->GetLastError(hr, in.byte() % 2 ? MAPI_UNICODE : 0, &err) == S_OK) MAPIFreeBuffer(err);
  LPSRowSet rows = nullptr;
  if (table->QueryRows(LONG(in.byte() % 8) - 3, 0, &rows) == S_OK) FreeProws(rows);
  if (root != nullptr) table->FindRow(root, BOOKMARK_BEGINNING, in.byte() % 2 ? DIR_BACKWARD : 0);
  rows = nullptr;
  if (HrQueryAllRows(table, nullptr, root, nullptr, in.byte() % 6, &rows) == S_OK) FreeProws(rows);
  table->Release();

  // The value helpers on pairs of values.
  LPVOID parent = nullptr;
  if (MAPIAllocateBuffer(sizeof(SPropValue), &parent) != S_OK) return 0;
  for (int k = 0; k < 4; ++k) {
    LPSPropValue a = &graph->values[in.byte() % kValues], b = &graph->values[in.byte() % kValues];
    (void)LPropCompareProp(a, b);
    (void)FPropCompareProp(a, in.byte() % 8, b);
    (void)FPropContainsProp(a, b, in.u32());
    (void)UlPropSize(a);
    PropCopyMore(static_cast<LPSPropValue>(parent), a, MAPIAllocateMore, parent);
  }
  MAPIFreeBuffer(parent);
  return 0;
}
