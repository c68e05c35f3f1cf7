// The MAPI C surface, used the way a MAPI client uses it: MAPIAllocateBuffer
// and its chains, IMAPITable through LPMAPITABLE with SizedSPropTagArray,
// SRestriction and SSortOrderSet on the stack, HrQueryAllRows and FreeProws,
// and the mapiutil.h helpers. Test names say the documented behaviour;
// comments name the reference page (docs/outlook/mapi/).
#include <mapix.h>
#include <mapiutil.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <cwchar>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mapi/capi_convert.h"
#include "mapi/capi_runtime.h"
#include "mapi/com_table.h"
#include "pstkit/mapi_table.h"
#include "pstkit/mapi_ui.h"

namespace {

using pstkit::mapi::InMemoryRowSource;
using pstkit::mapi::PropValue;

// The counted arrays end in a one-element array (MAPI_DIM); index them
// through a pointer, as C clients do.
SRow& row(LPSRowSet rows, ULONG i) { return *(static_cast<LPSRow>(rows->aRow) + i); }
SSortOrder& sort_key(LPSSortOrderSet set, ULONG i) { return *(static_cast<LPSSortOrder>(set->aSort) + i); }
ULONG tag(LPSPropTagArray tags, ULONG i) { return *(static_cast<ULONG*>(tags->aulPropTag) + i); }

// ---- Memory (mapiallocatebuffer.md, mapiallocatemore.md, mapifreebuffer.md)

TEST(MapiAllocate, BufferIsAlignedForAnyMapiStructure) {
  for (ULONG size : {1u, 3u, 17u, 1000u}) {
    LPVOID p = nullptr;
    ASSERT_EQ(MAPIAllocateBuffer(size, &p), S_OK);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t), 0u);
    LPVOID more = nullptr;
    ASSERT_EQ(MAPIAllocateMore(size, p, &more), S_OK);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(more) % alignof(std::max_align_t), 0u);
    MAPIFreeBuffer(p);
  }
}

// Run under ASan (.ci/run): a chain that were not freed with its parent leaks.
TEST(MapiAllocate, MoreChainIsFreedWithItsParent) {
  LPVOID parent = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), &parent), S_OK);
  LPVOID child = nullptr;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(MAPIAllocateMore(64, parent, &child), S_OK);
    std::memset(child, 0xAB, 64);
  }
  // A child as lpObject links to the same parent.
  LPVOID grandchild = nullptr;
  ASSERT_EQ(MAPIAllocateMore(32, child, &grandchild), S_OK);
  // Freeing a child alone does nothing: only its parent frees it.
  EXPECT_EQ(MAPIFreeBuffer(child), ULONG(S_OK));
  std::memset(child, 0xCD, 64);  // still allocated (ASan would report a use after free)
  EXPECT_EQ(MAPIFreeBuffer(parent), ULONG(S_OK));
}

TEST(MapiAllocate, FreeBufferAcceptsNullFreedAndForeignPointers) {
  EXPECT_EQ(MAPIFreeBuffer(nullptr), ULONG(S_OK));
  LPVOID p = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(8, &p), S_OK);
  EXPECT_EQ(MAPIFreeBuffer(p), ULONG(S_OK));
  EXPECT_EQ(MAPIFreeBuffer(p), ULONG(S_OK));  // already freed: nothing happens
  int on_stack = 0;
  EXPECT_EQ(MAPIFreeBuffer(&on_stack), ULONG(S_OK));
  auto heap = std::make_unique<char[]>(4);
  EXPECT_EQ(MAPIFreeBuffer(heap.get()), ULONG(S_OK));  // not ours: not freed (no ASan report)
}

TEST(MapiAllocate, MoreRefusesAParentMapiDidNotAllocate) {
  int on_stack = 0;
  LPVOID p = reinterpret_cast<LPVOID>(1);
  EXPECT_EQ(MAPIAllocateMore(8, &on_stack, &p), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(MAPIAllocateMore(8, nullptr, &p), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(MAPIAllocateBuffer(8, nullptr), MAPI_E_INVALID_PARAMETER);
}

TEST(MapiAllocate, DefaultMallocIsAnIMallocOverTheCHeap) {
  LPMALLOC m = MAPIGetDefaultMalloc();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m, MAPIGetDefaultMalloc());
  LPMALLOC again = nullptr;
  ASSERT_EQ(m->QueryInterface(IID_IMalloc, reinterpret_cast<void**>(&again)), S_OK);
  EXPECT_EQ(again, m);
  again->Release();
  void* p = m->Alloc(10);
  ASSERT_NE(p, nullptr);
  EXPECT_GE(m->GetSize(p), 10u);
  p = m->Realloc(p, 100);
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, 100);
  EXPECT_EQ(m->Realloc(p, 0), nullptr);  // frees
  m->Free(nullptr);
  m->HeapMinimize();
}

TEST(MapiAllocate, IsThreadSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([] {
      for (int i = 0; i < 2000; ++i) {
        LPVOID parent = nullptr, child = nullptr;
        ASSERT_EQ(MAPIAllocateBuffer(16, &parent), S_OK);
        ASSERT_EQ(MAPIAllocateMore(16, parent, &child), S_OK);
        MAPIFreeBuffer(parent);
      }
    });
  for (auto& t : threads) t.join();
}

// ---- Conversions ------------------------------------------------------------

const ULONG kSubjectW = PR_SUBJECT_W;

TEST(MapiConvert, UnicodeValuesAreUtf32InMemoryAndUtf8InTheCore) {
  SPropValue v{};
  v.ulPropTag = kSubjectW;
  wchar_t text[] = L"Gr\u00fc\u00dfe \U0001F600";
  v.Value.lpszW = text;
  PropValue core;
  ASSERT_TRUE(pstkit::mapi::capi::from_mapi(v, core).ok());
  EXPECT_EQ(core.bytes, "Gr\xC3\xBC\xC3\x9F" "e \xF0\x9F\x98\x80");
  LPVOID parent = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), &parent), S_OK);
  auto* back = static_cast<LPSPropValue>(parent);
  ASSERT_TRUE(pstkit::mapi::capi::to_mapi(core, parent, *back).ok());
  EXPECT_EQ(back->ulPropTag, kSubjectW);
  EXPECT_STREQ(back->Value.lpszW, text);
  MAPIFreeBuffer(parent);
}

TEST(MapiConvert, EveryPropertyTypeRoundTrips) {
  GUID guid = {0x12345678, 0x9ABC, 0xDEF0, {1, 2, 3, 4, 5, 6, 7, 8}};
  BYTE bytes[] = {0, 1, 2, 0xFF};
  char s8a[] = "alpha", s8b[] = "beta";
  wchar_t wa[] = L"\u00e9t\u00e9", wb[] = L"x";
  LPSTR mvs8[] = {s8a, s8b};
  LPWSTR mvw[] = {wa, wb};
  short mvi[] = {-1, 7};
  LONG mvl[] = {5, -6, 7};
  double mvd[] = {1.5, -2};
  SBinary mvbin[] = {{4, bytes}, {0, nullptr}};
  LARGE_INTEGER mvli[1];
  mvli[0].QuadPart = -5;
  FILETIME mvft[] = {{1, 2}};
  GUID mvguid[] = {guid, guid};
  std::vector<SPropValue> in(22);
  int n = 0;
  auto add = [&](ULONG tag) -> _PV& { in[n].ulPropTag = tag; return in[n++].Value; };
  add(PROP_TAG(PT_I2, 0x6001)).i = -3;
  add(PROP_TAG(PT_LONG, 0x6002)).l = -123456;
  add(PROP_TAG(PT_R4, 0x6003)).flt = 1.25f;
  add(PROP_TAG(PT_DOUBLE, 0x6004)).dbl = -2.5;
  add(PROP_TAG(PT_CURRENCY, 0x6005)).cur.int64 = 123456789;
  add(PROP_TAG(PT_APPTIME, 0x6006)).at = 45000.5;
  add(PROP_TAG(PT_ERROR, 0x6007)).err = MAPI_E_NOT_FOUND;
  add(PROP_TAG(PT_BOOLEAN, 0x6008)).b = 1;
  add(PROP_TAG(PT_I8, 0x6009)).li.QuadPart = -(int64_t(1) << 40);
  add(PROP_TAG(PT_STRING8, 0x600A)).lpszA = s8a;
  add(PROP_TAG(PT_UNICODE, 0x600B)).lpszW = wa;
  add(PROP_TAG(PT_SYSTIME, 0x600C)).ft = {0x89ABCDEF, 0x01D00000};
  add(PROP_TAG(PT_CLSID, 0x600D)).lpguid = &guid;
  add(PROP_TAG(PT_BINARY, 0x600E)).bin = {4, bytes};
  add(PROP_TAG(PT_MV_I2, 0x600F)).MVi = {2, mvi};
  add(PROP_TAG(PT_MV_LONG, 0x6010)).MVl = {3, mvl};
  add(PROP_TAG(PT_MV_DOUBLE, 0x6011)).MVdbl = {2, mvd};
  add(PROP_TAG(PT_MV_STRING8, 0x6012)).MVszA = {2, mvs8};
  add(PROP_TAG(PT_MV_UNICODE, 0x6013)).MVszW = {2, mvw};
  add(PROP_TAG(PT_MV_BINARY, 0x6014)).MVbin = {2, mvbin};
  add(PROP_TAG(PT_MV_I8, 0x6015)).MVli = {1, mvli};
  add(PROP_TAG(PT_MV_CLSID, 0x6016)).MVguid = {2, mvguid};
  ASSERT_EQ(n, 22);
  (void)mvft;
  std::vector<PropValue> core(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    ASSERT_TRUE(pstkit::mapi::capi::from_mapi(in[i], core[i]).ok()) << std::hex << in[i].ulPropTag;
  LPSPropValue out = nullptr;
  ASSERT_TRUE(pstkit::mapi::capi::to_mapi(core, &out).ok());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].ulPropTag, in[i].ulPropTag);
    EXPECT_EQ(LPropCompareProp(&in[i], &out[i]), 0) << std::hex << in[i].ulPropTag;
    EXPECT_TRUE(FPropCompareProp(&in[i], RELOP_EQ, &out[i])) << std::hex << in[i].ulPropTag;
  }
  EXPECT_STREQ(out[9].Value.lpszA, "alpha");
  EXPECT_EQ(out[12].Value.lpguid->Data1, guid.Data1);
  EXPECT_STREQ(out[18].Value.MVszW.lppszW[0], wa);
  EXPECT_EQ(out[19].Value.MVbin.lpbin[0].cb, 4u);
  MAPIFreeBuffer(out);
}

TEST(MapiConvert, NullPointersWithCountsAreInvalidParameters) {
  SPropValue v{};
  v.ulPropTag = PR_SUBJECT_A;
  v.Value.lpszA = nullptr;
  PropValue core;
  EXPECT_EQ(pstkit::mapi::capi::from_mapi(v, core).scode, MAPI_E_INVALID_PARAMETER);
  v.ulPropTag = PROP_TAG(PT_MV_LONG, 0x6000);
  v.Value.MVl = {0xFFFFFFFFu, nullptr};
  EXPECT_EQ(pstkit::mapi::capi::from_mapi(v, core).scode, MAPI_E_INVALID_PARAMETER);
  v.ulPropTag = PROP_TAG(PT_BINARY, 0x6000);
  v.Value.bin = {10, nullptr};
  EXPECT_EQ(pstkit::mapi::capi::from_mapi(v, core).scode, MAPI_E_INVALID_PARAMETER);
  v.ulPropTag = PROP_TAG(0x0099, 0x6000);
  EXPECT_EQ(pstkit::mapi::capi::from_mapi(v, core).scode, MAPI_E_INVALID_TYPE);
}

// ---- A table of five messages -------------------------------------------------

std::shared_ptr<InMemoryRowSource> five_messages() {
  using namespace pstkit::mapi;
  std::vector<InMemoryRowSource::Row> rows;
  const char* subjects[] = {"Hello World", "hello there", "Budget", "Re: Budget", "Zebra"};
  const int sizes[] = {100, 300, 200, 50, 400};
  const char* senders[] = {"Alice", "Bob", "Carol", "alice", "Dave"};
  for (int i = 0; i < 5; ++i) {
    InMemoryRowSource::Row r;
    r.id = RowId(i + 1);
    r.values = {PropValue::unicode(PR_SUBJECT_W, subjects[i]), PropValue::long_(PR_MESSAGE_SIZE, sizes[i]),
                PropValue::string8(PR_SENDER_NAME_A, senders[i])};
    if (i != 2) r.values.push_back(PropValue::long_(PR_IMPORTANCE, i % 3));
    rows.push_back(std::move(r));
  }
  return std::make_shared<InMemoryRowSource>(
      std::vector<PropTag>{PR_SUBJECT_W, PR_MESSAGE_SIZE, PR_IMPORTANCE}, std::move(rows));
}

struct TableTest : ::testing::Test {
  void SetUp() override { ASSERT_EQ(pstkit::mapi::capi::create_table(five_messages(), &table), S_OK); }
  void TearDown() override {
    if (table != nullptr) {
      EXPECT_EQ(table->Release(), 0u);
    }
  }
  LPMAPITABLE table = nullptr;
};

TEST_F(TableTest, QueryInterfaceGivesIUnknownAndIMAPITableOnly) {
  LPUNKNOWN unknown = nullptr;
  ASSERT_EQ(table->QueryInterface(IID_IUnknown, reinterpret_cast<void**>(&unknown)), S_OK);
  EXPECT_EQ(unknown->Release(), 1u);
  LPMAPITABLE again = nullptr;
  ASSERT_EQ(table->QueryInterface(IID_IMAPITable, reinterpret_cast<void**>(&again)), S_OK);
  again->Release();
  void* other = reinterpret_cast<void*>(1);
  EXPECT_EQ(table->QueryInterface(IID_IMAPIProp, &other), E_NOINTERFACE);
  EXPECT_EQ(other, nullptr);
}

TEST_F(TableTest, QueryRowsReturnsTheDefaultColumnsAndMissingOnesAsErrors) {
  LPSRowSet rows = nullptr;
  ASSERT_EQ(table->QueryRows(10, 0, &rows), S_OK);
  ASSERT_EQ(rows->cRows, 5u);
  ASSERT_EQ(row(rows, 0).cValues, 3u);
  EXPECT_EQ(row(rows, 0).lpProps[0].ulPropTag, ULONG(PR_SUBJECT_W));
  EXPECT_STREQ(row(rows, 0).lpProps[0].Value.lpszW, L"Hello World");
  EXPECT_EQ(row(rows, 0).lpProps[1].Value.l, 100);
  // queryrows.md: a property the row lacks is PT_ERROR with MAPI_E_NOT_FOUND.
  EXPECT_EQ(row(rows, 2).lpProps[2].ulPropTag, ULONG(CHANGE_PROP_TYPE(PR_IMPORTANCE, PT_ERROR)));
  EXPECT_EQ(row(rows, 2).lpProps[2].Value.err, MAPI_E_NOT_FOUND);
  FreeProws(rows);
  // The cursor is at the end: zero rows, S_OK.
  ASSERT_EQ(table->QueryRows(10, 0, &rows), S_OK);
  EXPECT_EQ(rows->cRows, 0u);
  FreeProws(rows);
}

TEST_F(TableTest, QueryRowsWithZeroCountOrUnknownFlagsIsRefused) {
  LPSRowSet rows = nullptr;
  EXPECT_EQ(table->QueryRows(0, 0, &rows), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(table->QueryRows(1, 0x80, &rows), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(table->QueryRows(1, 0, nullptr), MAPI_E_INVALID_PARAMETER);
}

TEST_F(TableTest, HrQueryAllRowsAppliesColumnsRestrictionAndSort) {
  SizedSPropTagArray(2, columns) = {2, {PR_SUBJECT_W, PR_MESSAGE_SIZE}};
  SPropValue limit{};
  limit.ulPropTag = PR_MESSAGE_SIZE;
  limit.Value.l = 100;
  SRestriction res{};
  res.rt = RES_PROPERTY;
  res.res.resProperty.relop = RELOP_GE;
  res.res.resProperty.ulPropTag = PR_MESSAGE_SIZE;
  res.res.resProperty.lpProp = &limit;
  SizedSSortOrderSet(1, sort) = {1, 0, 0, {{PR_MESSAGE_SIZE, TABLE_SORT_DESCEND}}};
  LPSRowSet rows = nullptr;
  ASSERT_EQ(HrQueryAllRows(table, reinterpret_cast<LPSPropTagArray>(&columns), &res,
                           reinterpret_cast<LPSSortOrderSet>(&sort), 0, &rows),
            S_OK);
  ASSERT_EQ(rows->cRows, 4u);
  const LONG expected[] = {400, 300, 200, 100};
  for (ULONG i = 0; i < rows->cRows; ++i) {
    ASSERT_EQ(row(rows, i).cValues, 2u);
    EXPECT_EQ(row(rows, i).lpProps[1].Value.l, expected[i]);
  }
  FreeProws(rows);
}

TEST_F(TableTest, HrQueryAllRowsFailsWithTableTooBigPastCrowsMax) {
  LPSRowSet rows = reinterpret_cast<LPSRowSet>(1);
  EXPECT_EQ(HrQueryAllRows(table, nullptr, nullptr, nullptr, 4, &rows), MAPI_E_TABLE_TOO_BIG);
  EXPECT_EQ(rows, nullptr);
  ASSERT_EQ(HrQueryAllRows(table, nullptr, nullptr, nullptr, 5, &rows), S_OK);
  EXPECT_EQ(rows->cRows, 5u);
  FreeProws(rows);
}

TEST_F(TableTest, RestrictionOnTheStackWithContentAndNot) {
  wchar_t hello[] = L"HELLO";
  SPropValue needle{};
  needle.ulPropTag = PR_SUBJECT_W;
  needle.Value.lpszW = hello;
  SRestriction leaves[2]{};
  leaves[0].rt = RES_CONTENT;
  leaves[0].res.resContent = {FL_PREFIX | FL_IGNORECASE, PR_SUBJECT_W, &needle};
  SRestriction exist{};
  exist.rt = RES_EXIST;
  exist.res.resExist.ulPropTag = PR_IMPORTANCE;
  leaves[1].rt = RES_NOT;
  leaves[1].res.resNot.lpRes = &exist;
  SRestriction any{};
  any.rt = RES_OR;
  any.res.resOr = {2, leaves};
  ASSERT_EQ(table->Restrict(&any, 0), S_OK);
  ULONG count = 0;
  ASSERT_EQ(table->GetRowCount(0, &count), S_OK);
  EXPECT_EQ(count, 3u);  // two "hello" subjects and "Budget" without PR_IMPORTANCE
  ASSERT_EQ(table->Restrict(nullptr, 0), S_OK);
  ASSERT_EQ(table->GetRowCount(0, &count), S_OK);
  EXPECT_EQ(count, 5u);
}

TEST_F(TableTest, MalformedRestrictionsAreRefusedWithTheDocumentedCodes) {
  SRestriction r{};
  r.rt = 99;
  EXPECT_EQ(table->Restrict(&r, 0), MAPI_E_INVALID_PARAMETER);
  r.rt = RES_AND;
  r.res.resAnd = {3, nullptr};
  EXPECT_EQ(table->Restrict(&r, 0), MAPI_E_INVALID_PARAMETER);
  r.rt = RES_PROPERTY;
  r.res.resProperty = {RELOP_EQ, PR_MESSAGE_SIZE, nullptr};
  EXPECT_EQ(table->Restrict(&r, 0), MAPI_E_INVALID_PARAMETER);
  SPropValue v{};
  v.ulPropTag = PR_MESSAGE_SIZE;
  r.res.resProperty = {77, PR_MESSAGE_SIZE, &v};
  EXPECT_EQ(table->Restrict(&r, 0), MAPI_E_INVALID_PARAMETER);
  r.res.resProperty = {RELOP_RE, PR_MESSAGE_SIZE, &v};
  EXPECT_EQ(table->Restrict(&r, 0), MAPI_E_TOO_COMPLEX);
  r.rt = RES_NOT;
  r.res.resNot.lpRes = nullptr;
  EXPECT_EQ(table->Restrict(&r, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(table->Restrict(nullptr, 0x100), MAPI_E_UNKNOWN_FLAGS);
  // The table is unchanged by refused restrictions.
  ULONG count = 0;
  ASSERT_EQ(table->GetRowCount(0, &count), S_OK);
  EXPECT_EQ(count, 5u);
}

TEST_F(TableTest, DeepOrSharedRestrictionGraphsAreTooComplexNotAHang) {
  std::vector<SRestriction> chain(200);
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    chain[i].rt = RES_NOT;
    chain[i].res.resNot.lpRes = &chain[i + 1];
  }
  chain.back().rt = RES_EXIST;
  chain.back().res.resExist.ulPropTag = PR_SUBJECT_W;
  EXPECT_EQ(table->Restrict(&chain[0], 0), MAPI_E_TOO_COMPLEX);
  // 40 levels of AND, each naming the level below 10 times: 10^40 paths.
  std::vector<SRestriction> levels(41);
  std::vector<std::vector<SRestriction>> lists(40);
  levels[40].rt = RES_EXIST;
  levels[40].res.resExist.ulPropTag = PR_SUBJECT_W;
  for (int i = 39; i >= 0; --i) {
    lists[i].assign(10, levels[i + 1]);
    levels[i].rt = RES_AND;
    levels[i].res.resAnd = {10, lists[i].data()};
  }
  EXPECT_EQ(table->Restrict(&levels[0], 0), MAPI_E_TOO_COMPLEX);
}

TEST_F(TableTest, GetLastErrorDescribesTheFailureInNarrowOrWideText) {
  SRestriction r{};
  r.rt = RES_AND;
  r.res.resAnd = {3, nullptr};
  HRESULT hr = table->Restrict(&r, 0);
  ASSERT_EQ(hr, MAPI_E_INVALID_PARAMETER);
  LPMAPIERROR err = nullptr;
  ASSERT_EQ(table->GetLastError(hr, 0, &err), S_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->ulVersion, ULONG(MAPI_ERROR_VERSION));
  EXPECT_NE(std::strstr(reinterpret_cast<char*>(err->lpszError), "lpRes"), nullptr);
  MAPIFreeBuffer(err);
  ASSERT_EQ(table->GetLastError(hr, MAPI_UNICODE, &err), S_OK);
  EXPECT_NE(std::wcsstr(reinterpret_cast<wchar_t*>(err->lpszError), L"lpRes"), nullptr);
  EXPECT_STREQ(reinterpret_cast<wchar_t*>(err->lpszComponent), L"pstkit");
  MAPIFreeBuffer(err);
  // Nothing known about another code: S_OK and no structure.
  ASSERT_EQ(table->GetLastError(MAPI_E_NO_ACCESS, 0, &err), S_OK);
  EXPECT_EQ(err, nullptr);
  EXPECT_EQ(table->GetLastError(hr, 0x1, &err), MAPI_E_UNKNOWN_FLAGS);
}

TEST_F(TableTest, SortTableAndQuerySortOrderRoundTrip) {
  SizedSSortOrderSet(2, sort) = {2, 0, 0, {{PR_SENDER_NAME_A, TABLE_SORT_ASCEND}, {PR_MESSAGE_SIZE, TABLE_SORT_DESCEND}}};
  ASSERT_EQ(table->SortTable(reinterpret_cast<LPSSortOrderSet>(&sort), TBL_BATCH), S_OK);
  LPSSortOrderSet back = nullptr;
  ASSERT_EQ(table->QuerySortOrder(&back), S_OK);
  ASSERT_EQ(back->cSorts, 2u);
  EXPECT_EQ(sort_key(back, 1).ulPropTag, ULONG(PR_MESSAGE_SIZE));
  EXPECT_EQ(sort_key(back, 1).ulOrder, TABLE_SORT_DESCEND);
  MAPIFreeBuffer(back);
  LPSRowSet rows = nullptr;
  ASSERT_EQ(table->QueryRows(2, 0, &rows), S_OK);
  // "Alice" and "alice" sort together; the larger message first.
  EXPECT_EQ(row(rows, 0).lpProps[1].Value.l, 100);
  EXPECT_EQ(row(rows, 1).lpProps[1].Value.l, 50);
  FreeProws(rows);
}

TEST_F(TableTest, CategorizedOrInconsistentSortsAreRefused) {
  SizedSSortOrderSet(1, sort) = {1, 2, 0, {{PR_SUBJECT_W, TABLE_SORT_ASCEND}}};  // cCategories > cSorts
  EXPECT_EQ(table->SortTable(reinterpret_cast<LPSSortOrderSet>(&sort), 0), MAPI_E_INVALID_PARAMETER);
  sort.cCategories = 1;
  EXPECT_EQ(table->SortTable(reinterpret_cast<LPSSortOrderSet>(&sort), 0), MAPI_E_TOO_COMPLEX);
  sort.cCategories = 0;
  sort.aSort[0].ulOrder = 0x40;
  EXPECT_EQ(table->SortTable(reinterpret_cast<LPSSortOrderSet>(&sort), 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(table->SortTable(nullptr, 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(table->SortTable(reinterpret_cast<LPSSortOrderSet>(&sort), 0x4), MAPI_E_UNKNOWN_FLAGS);
}

TEST_F(TableTest, SeekFindBookmarksAndPosition) {
  BOOKMARK mark = 0;
  LONG sought = 0;
  ASSERT_EQ(table->SeekRow(BOOKMARK_BEGINNING, 2, &sought), S_OK);
  EXPECT_EQ(sought, 2);
  ASSERT_EQ(table->CreateBookmark(&mark), S_OK);
  ULONG row = 0, num = 0, den = 0;
  ASSERT_EQ(table->QueryPosition(&row, &num, &den), S_OK);
  EXPECT_EQ(row, 2u);
  EXPECT_EQ(den, 5u);
  ASSERT_EQ(table->SeekRow(BOOKMARK_END, -10, &sought), S_OK);
  EXPECT_EQ(sought, -5);
  char zebra[] = "Dave";
  SPropValue v{};
  v.ulPropTag = PR_SENDER_NAME_A;
  v.Value.lpszA = zebra;
  SRestriction r{};
  r.rt = RES_PROPERTY;
  r.res.resProperty = {RELOP_EQ, PR_SENDER_NAME_A, &v};
  ASSERT_EQ(table->FindRow(&r, mark, 0), S_OK);
  ASSERT_EQ(table->QueryPosition(&row, &num, &den), S_OK);
  EXPECT_EQ(row, 4u);
  EXPECT_EQ(table->FindRow(&r, mark, DIR_BACKWARD), MAPI_E_NOT_FOUND);
  EXPECT_EQ(table->FindRow(&r, mark, 0x10), MAPI_E_UNKNOWN_FLAGS);
  ASSERT_EQ(table->SeekRow(mark, 0, nullptr), S_OK);
  ASSERT_EQ(table->QueryPosition(&row, &num, &den), S_OK);
  EXPECT_EQ(row, 2u);
  ASSERT_EQ(table->FreeBookmark(mark), S_OK);
  EXPECT_EQ(table->SeekRow(mark, 0, nullptr), MAPI_E_INVALID_BOOKMARK);
  EXPECT_EQ(table->SeekRowApprox(1, 0), MAPI_E_INVALID_PARAMETER);
  ASSERT_EQ(table->SeekRowApprox(1, 1), S_OK);
  ASSERT_EQ(table->QueryPosition(&row, &num, &den), S_OK);
  EXPECT_EQ(row, 5u);
}

TEST_F(TableTest, SetColumnsAndQueryColumns) {
  SizedSPropTagArray(2, cols) = {2, {PR_NULL, PR_SENDER_NAME_A}};
  ASSERT_EQ(table->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
  LPSPropTagArray back = nullptr;
  ASSERT_EQ(table->QueryColumns(0, &back), S_OK);
  ASSERT_EQ(back->cValues, 2u);
  EXPECT_EQ(tag(back, 1), ULONG(PR_SENDER_NAME_A));
  MAPIFreeBuffer(back);
  ASSERT_EQ(table->QueryColumns(TBL_ALL_COLUMNS, &back), S_OK);
  EXPECT_EQ(back->cValues, 4u);
  MAPIFreeBuffer(back);
  EXPECT_EQ(table->QueryColumns(0x2, &back), MAPI_E_UNKNOWN_FLAGS);
  SizedSPropTagArray(1, none) = {0, {0}};
  EXPECT_EQ(table->SetColumns(reinterpret_cast<LPSPropTagArray>(&none), 0), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(table->SetColumns(nullptr, 0), MAPI_E_INVALID_PARAMETER);
  LPSRowSet rows = nullptr;
  ASSERT_EQ(table->QueryRows(1, TBL_NOADVANCE, &rows), S_OK);
  EXPECT_EQ(row(rows, 0).lpProps[0].ulPropTag, ULONG(PR_NULL));
  EXPECT_STREQ(row(rows, 0).lpProps[1].Value.lpszA, "Alice");
  FreeProws(rows);
}

LONG STDAPICALLTYPE count_notifications(LPVOID context, ULONG count, LPNOTIFICATION) {
  *static_cast<ULONG*>(context) += count;
  return 0;
}

TEST_F(TableTest, AdviseKeepsTheSinkUntilUnadvise) {
  ULONG notified = 0;
  LPMAPIADVISESINK sink = nullptr;
  ASSERT_EQ(HrAllocAdviseSink(count_notifications, &notified, &sink), S_OK);
  ULONG_PTR connection = 0;
  EXPECT_EQ(table->Advise(fnevObjectCreated, sink, &connection), MAPI_E_INVALID_PARAMETER);
  ASSERT_EQ(table->Advise(fnevTableModified, sink, &connection), S_OK);
  EXPECT_EQ(sink->AddRef(), 3u);  // ours, the table's, this one
  sink->Release();
  NOTIFICATION n{};
  n.ulEventType = fnevTableModified;
  sink->OnNotify(1, &n);
  EXPECT_EQ(notified, 1u);
  ASSERT_EQ(table->Unadvise(connection), S_OK);
  EXPECT_EQ(table->Unadvise(connection), MAPI_E_NOT_FOUND);
  EXPECT_EQ(sink->Release(), 0u);
}

TEST_F(TableTest, StatusAndCategoryMethodsOfAnUncategorizedTable) {
  ULONG status = 99, type = 99;
  ASSERT_EQ(table->GetStatus(&status, &type), S_OK);
  EXPECT_EQ(status, TBLSTAT_COMPLETE);
  EXPECT_EQ(type, TBLTYPE_SNAPSHOT);
  ASSERT_EQ(table->WaitForCompletion(0, 1000, &status), S_OK);
  EXPECT_EQ(table->WaitForCompletion(1, 1000, &status), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(table->Abort(), MAPI_E_UNABLE_TO_ABORT);
  BYTE key[4] = {1, 2, 3, 4};
  LPSRowSet rows = nullptr;
  ULONG more = 0;
  EXPECT_EQ(table->ExpandRow(4, key, 10, 0, &rows, &more), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(rows, nullptr);
  EXPECT_EQ(table->CollapseRow(4, key, 0, &more), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(table->ExpandRow(4, key, 10, 0x8, &rows, &more), MAPI_E_UNKNOWN_FLAGS);
}

// ---- mapiutil.h ------------------------------------------------------------------

TEST(MapiUtil, PpropFindPropMatchesTheWholeTagOrTheIdForPtUnspecified) {
  SPropValue props[2]{};
  props[0].ulPropTag = PR_SUBJECT_A;
  props[1].ulPropTag = PR_MESSAGE_SIZE;
  EXPECT_EQ(PpropFindProp(props, 2, PR_MESSAGE_SIZE), &props[1]);
  EXPECT_EQ(PpropFindProp(props, 2, PR_SUBJECT_W), nullptr);
  EXPECT_EQ(PpropFindProp(props, 2, CHANGE_PROP_TYPE(PR_SUBJECT_W, PT_UNSPECIFIED)), &props[0]);
  EXPECT_EQ(LpValFindProp(PR_MESSAGE_SIZE, 2, props), &props[1]);
  EXPECT_EQ(PpropFindProp(nullptr, 2, PR_MESSAGE_SIZE), nullptr);
}

TEST(MapiUtil, PropCopyMoreCopiesWhatTheValuePointsTo) {
  char a[] = "one", b[] = "two";
  LPSTR strings[] = {a, b};
  SPropValue src{};
  src.ulPropTag = PROP_TAG(PT_MV_STRING8, 0x6000);
  src.Value.MVszA = {2, strings};
  LPVOID parent = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), &parent), S_OK);
  auto* dst = static_cast<LPSPropValue>(parent);
  ASSERT_EQ(PropCopyMore(dst, &src, MAPIAllocateMore, parent), S_OK);
  a[0] = 'X';
  EXPECT_NE(dst->Value.MVszA.lppszA, strings);
  EXPECT_STREQ(dst->Value.MVszA.lppszA[0], "one");
  EXPECT_STREQ(dst->Value.MVszA.lppszA[1], "two");
  src.ulPropTag = PROP_TAG(0x0055, 0x6000);
  EXPECT_EQ(PropCopyMore(dst, &src, MAPIAllocateMore, parent), MAPI_E_NO_SUPPORT);
  MAPIFreeBuffer(parent);
}

TEST(MapiUtil, ScDupPropsetAndRelocMakeOneRelocatableBlock) {
  wchar_t w[] = L"wide";
  BYTE bytes[] = {9, 8, 7};
  SPropValue props[3]{};
  props[0].ulPropTag = PR_SUBJECT_W;
  props[0].Value.lpszW = w;
  props[1].ulPropTag = PR_ENTRYID;
  props[1].Value.bin = {3, bytes};
  props[2].ulPropTag = PR_MESSAGE_SIZE;
  props[2].Value.l = 42;
  ULONG cb = 0;
  ASSERT_EQ(ScCountProps(3, props, &cb), S_OK);
  LPSPropValue dup = nullptr;
  ASSERT_EQ(ScDupPropset(3, props, MAPIAllocateBuffer, &dup), S_OK);
  EXPECT_STREQ(dup[0].Value.lpszW, L"wide");
  EXPECT_EQ(dup[1].Value.bin.lpb[2], 7);
  // Move the block and relocate its pointers.
  std::vector<std::max_align_t> moved(cb / sizeof(std::max_align_t) + 1);
  std::memcpy(moved.data(), dup, cb);
  ULONG cb2 = 0;
  auto* reloc = reinterpret_cast<LPSPropValue>(moved.data());
  ASSERT_EQ(ScRelocProps(3, reloc, dup, moved.data(), &cb2), S_OK);
  EXPECT_EQ(cb2, cb);
  MAPIFreeBuffer(dup);
  EXPECT_STREQ(reloc[0].Value.lpszW, L"wide");
  EXPECT_EQ(reloc[1].Value.bin.lpb[0], 9);
  EXPECT_EQ(UlPropSize(&reloc[0]), 5 * sizeof(wchar_t));
  EXPECT_EQ(UlPropSize(&reloc[1]), 3u);
  EXPECT_EQ(UlPropSize(&reloc[2]), 4u);
}

TEST(MapiUtil, ComparisonsFollowTheTableOrdering) {
  SPropValue a{}, b{};
  a.ulPropTag = b.ulPropTag = PR_SUBJECT_A;
  char x[] = "apple", y[] = "BANANA";
  a.Value.lpszA = x;
  b.Value.lpszA = y;
  EXPECT_LT(LPropCompareProp(&a, &b), 0);
  EXPECT_TRUE(FPropCompareProp(&a, RELOP_LT, &b));
  EXPECT_FALSE(FPropCompareProp(&a, RELOP_GE, &b));
  EXPECT_FALSE(FPropCompareProp(&a, RELOP_RE, &b));
  SPropValue n{};
  n.ulPropTag = PR_MESSAGE_SIZE;
  EXPECT_FALSE(FPropCompareProp(&a, RELOP_NE, &n));  // types differ
  // fpropcontainsprop.md
  char hay[] = "Quarterly Budget", needle[] = "budget", pre[] = "quart";
  a.Value.lpszA = hay;
  b.Value.lpszA = needle;
  EXPECT_TRUE(FPropContainsProp(&a, &b, FL_SUBSTRING | FL_IGNORECASE));
  EXPECT_FALSE(FPropContainsProp(&a, &b, FL_SUBSTRING));
  b.Value.lpszA = pre;
  EXPECT_TRUE(FPropContainsProp(&a, &b, FL_PREFIX | FL_LOOSE));
  EXPECT_FALSE(FPropContainsProp(&a, &b, 0x7 | FL_IGNORECASE));  // invalid kind: full string
  EXPECT_FALSE(FPropContainsProp(&a, &n, FL_SUBSTRING));
}

TEST(MapiUtil, HexRoundTripAndInvalidDigits) {
  BYTE in[] = {0x00, 0xAB, 0x7F};
  char hex[7];
  HexFromBin(in, 3, hex);
  EXPECT_STREQ(hex, "00AB7F");
  BYTE out[3] = {};
  char lower[] = "00ab7f";
  ASSERT_TRUE(FBinFromHex(lower, out));
  EXPECT_EQ(std::memcmp(in, out, 3), 0);
  char bad[] = "0G";
  EXPECT_FALSE(FBinFromHex(bad, out));
  char odd[] = "ABC";
  EXPECT_FALSE(FBinFromHex(odd, out));
}

TEST(MapiUtil, FEqualNamesComparesGuidKindAndCaseSensitiveName) {
  GUID g = PS_PUBLIC_STRINGS;
  wchar_t n1[] = L"Keywords", n2[] = L"keywords";
  MAPINAMEID a{&g, MNID_STRING, {}}, b{&g, MNID_STRING, {}};
  a.Kind.lpwstrName = n1;
  b.Kind.lpwstrName = n1;
  EXPECT_TRUE(FEqualNames(&a, &b));
  b.Kind.lpwstrName = n2;
  EXPECT_FALSE(FEqualNames(&a, &b));
  MAPINAMEID c{&g, MNID_ID, {}}, d{&g, MNID_ID, {}};
  c.Kind.lID = d.Kind.lID = 0x8501;
  EXPECT_TRUE(FEqualNames(&c, &d));
}

// A property object holding one value, as HrGetOneProp/HrSetOneProp see it.
class OneValueProp final : public IMAPIProp {
 public:
  STDMETHODIMP QueryInterface(REFIID, void**) override { return E_NOINTERFACE; }
  STDMETHODIMP_(ULONG) AddRef() override { return 1; }
  STDMETHODIMP_(ULONG) Release() override { return 1; }
  STDMETHODIMP GetLastError(HRESULT, ULONG, LPMAPIERROR*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SaveChanges(ULONG) override { return S_OK; }
  STDMETHODIMP GetProps(LPSPropTagArray tags, ULONG, ULONG* count, LPSPropValue* out) override {
    LPVOID p = nullptr;
    MAPIAllocateBuffer(sizeof(SPropValue) * tags->cValues, &p);
    auto* values = static_cast<LPSPropValue>(p);
    bool errors = false;
    for (ULONG i = 0; i < tags->cValues; ++i) {
      if (tags->aulPropTag[i] == PR_MESSAGE_SIZE && has_) {
        values[i].ulPropTag = PR_MESSAGE_SIZE;
        values[i].Value.l = size_;
      } else {
        values[i].ulPropTag = CHANGE_PROP_TYPE(tags->aulPropTag[i], PT_ERROR);
        values[i].Value.err = MAPI_E_NOT_FOUND;
        errors = true;
      }
    }
    *count = tags->cValues;
    *out = values;
    return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
  }
  STDMETHODIMP GetPropList(ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP OpenProperty(ULONG, LPCIID, ULONG, ULONG, LPUNKNOWN*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetProps(ULONG n, LPSPropValue values, LPSPropProblemArray* problems) override {
    for (ULONG i = 0; i < n; ++i) {
      if (values[i].ulPropTag == PR_MESSAGE_SIZE) {
        size_ = values[i].Value.l;
        has_ = true;
      } else if (problems != nullptr) {
        LPVOID p = nullptr;
        MAPIAllocateBuffer(CbNewSPropProblemArray(1), &p);
        *problems = static_cast<LPSPropProblemArray>(p);
        (*problems)->cProblem = 1;
        (*problems)->aProblem[0] = {i, values[i].ulPropTag, MAPI_E_COMPUTED};
      }
    }
    return S_OK;
  }
  STDMETHODIMP DeleteProps(LPSPropTagArray, LPSPropProblemArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP CopyTo(ULONG, LPCIID, LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                      LPSPropProblemArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP CopyProps(LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                         LPSPropProblemArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetNamesFromIDs(LPSPropTagArray*, LPGUID, ULONG, ULONG*, LPMAPINAMEID**) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP GetIDsFromNames(ULONG, LPMAPINAMEID*, ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }

 private:
  bool has_ = false;
  LONG size_ = 0;
};

TEST(MapiUtil, HrGetOnePropAndHrSetOnePropNeverReturnWarnings) {
  OneValueProp object;
  LPSPropValue value = reinterpret_cast<LPSPropValue>(1);
  EXPECT_EQ(HrGetOneProp(&object, PR_MESSAGE_SIZE, &value), MAPI_E_NOT_FOUND);
  EXPECT_EQ(value, nullptr);
  EXPECT_FALSE(FPropExists(&object, PR_MESSAGE_SIZE));
  SPropValue v{};
  v.ulPropTag = PR_MESSAGE_SIZE;
  v.Value.l = 1234;
  ASSERT_EQ(HrSetOneProp(&object, &v), S_OK);
  ASSERT_EQ(HrGetOneProp(&object, PR_MESSAGE_SIZE, &value), S_OK);
  EXPECT_EQ(value->Value.l, 1234);
  MAPIFreeBuffer(value);
  EXPECT_TRUE(FPropExists(&object, PR_MESSAGE_SIZE));
  v.ulPropTag = PR_SUBJECT_A;
  EXPECT_EQ(HrSetOneProp(&object, &v), MAPI_E_COMPUTED);
}

}  // namespace

// ---- MAPIInitialize / MAPIUninitialize (mapiinitialize.md) ---------------

TEST(MapiInitialize, IsReferenceCountedAndRunsTeardownHooksAtZero) {
  namespace capi = pstkit::mapi::capi;
  ASSERT_FALSE(capi::runtime_initialized());
  MAPIINIT_0 init = {MAPI_INIT_VERSION, MAPI_MULTITHREAD_NOTIFICATIONS};
  ASSERT_EQ(MAPIInitialize(&init), S_OK);
  ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
  EXPECT_TRUE(capi::runtime_initialized());
  EXPECT_EQ(capi::runtime_init_flags(), ULONG(MAPI_MULTITHREAD_NOTIFICATIONS));
  std::vector<int> order;
  capi::add_uninitialize_hook([&] { order.push_back(1); });
  const auto cancelled = capi::add_uninitialize_hook([&] { order.push_back(99); });
  capi::add_uninitialize_hook([&] { order.push_back(2); });
  capi::remove_uninitialize_hook(cancelled);
  MAPIUninitialize();  // 2 -> 1: nothing torn down
  EXPECT_TRUE(capi::runtime_initialized());
  EXPECT_TRUE(order.empty());
  MAPIUninitialize();  // 1 -> 0
  EXPECT_FALSE(capi::runtime_initialized());
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
  MAPIUninitialize();  // unbalanced: ignored
  EXPECT_FALSE(capi::runtime_initialized());
}

TEST(MapiInitialize, ChecksVersionAndFlagsFirst) {
  MAPIINIT_0 bad_version = {1, 0};
  EXPECT_EQ(MAPIInitialize(&bad_version), MAPI_E_VERSION);
  MAPIINIT_0 bad_flags = {MAPI_INIT_VERSION, 0x80000000};
  EXPECT_EQ(MAPIInitialize(&bad_flags), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_FALSE(pstkit::mapi::capi::runtime_initialized());
}

// ---- The UI callback that stands in for MAPI's dialogs (mapi_ui.h) -------

TEST(MapiUi, PromptsGoThroughTheInstalledCallbackOrFailWithout) {
  using pstkit::mapi::UiRequest;
  UiRequest request;
  request.kind = UiRequest::Kind::kProfilePassword;
  request.profile = "Outlook";
  bool cancelled = true;
  EXPECT_FALSE(pstkit::mapi::has_ui());
  EXPECT_EQ(pstkit::mapi::ask_ui(request, &cancelled), std::nullopt);
  EXPECT_FALSE(cancelled);  // no UI is not a cancel
  auto previous = pstkit::mapi::set_ui_callback([](const UiRequest& r) -> std::optional<std::string> {
    if (r.profile == "Outlook") return std::string("secret");
    return std::nullopt;
  });
  EXPECT_FALSE(previous);
  EXPECT_TRUE(pstkit::mapi::has_ui());
  EXPECT_EQ(pstkit::mapi::ask_ui(request, &cancelled), std::optional<std::string>("secret"));
  request.profile = "Other";
  EXPECT_EQ(pstkit::mapi::ask_ui(request, &cancelled), std::nullopt);
  EXPECT_TRUE(cancelled);
  pstkit::mapi::set_ui_callback({});
  EXPECT_FALSE(pstkit::mapi::has_ui());
}
