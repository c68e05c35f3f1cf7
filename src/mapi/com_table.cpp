// IMAPITable (imapitableiunknown.md, imapitable-*.md) over TableCursor.
//
// Every method validates its flags (MAPI_E_UNKNOWN_FLAGS) and pointers
// (MAPI_E_INVALID_PARAMETER) before it touches the cursor, converts the
// MAPI structures with capi_convert.h and the core's Status with mapi_scode,
// and keeps the last error for GetLastError. One mutex per table makes the
// object safe to call from several threads. Operations complete before they
// return: TBL_ASYNC and TBL_BATCH are accepted and change nothing, GetStatus
// and WaitForCompletion report TBLSTAT_COMPLETE, and Abort returns
// MAPI_E_UNABLE_TO_ABORT (imapitable-abort.md: the operation "has already
// completed").
// Advise keeps its sinks but no event is generated yet (the row sources do
// not report changes). The tables are not categorized: ExpandRow,
// CollapseRow, GetCollapseState and SetCollapseState return
// MAPI_E_NO_SUPPORT after checking their arguments.
#include "mapi/com_table.h"

#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>

#include "mapi/capi_convert.h"
#include "mapi/com_object.h"
#include "mapi/last_error.h"

namespace pstkit::mapi::capi {
namespace {

class ComTable final : public ComObject<ComTable, IMAPITable, IID_IMAPITable> {
 public:
  ComTable(std::shared_ptr<RowSource> source, TableOptions options)
      : source_(std::move(source)), cursor_(*source_), options_(options) {}

  // imapitable-getlasterror.md: MAPI_UNICODE only; no information about
  // hResult gives S_OK with a null *lppMAPIError.
  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    return last_.get(hResult, ulFlags, lppMAPIError);
  }


  // imapitable-advise.md: ulEventMask must be fnevTableModified.
  STDMETHODIMP Advise(ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink, ULONG_PTR* lpulConnection) override {
    if (lpAdviseSink == nullptr || lpulConnection == nullptr || ulEventMask != fnevTableModified)
      return MAPI_E_INVALID_PARAMETER;
    std::lock_guard lock(mutex_);
    try {
      ULONG_PTR connection = next_connection_++;
      sinks_.emplace(connection, lpAdviseSink);
      lpAdviseSink->AddRef();
      *lpulConnection = connection;
    } catch (const std::bad_alloc&) {
      return MAPI_E_NOT_ENOUGH_MEMORY;
    }
    return S_OK;
  }
  STDMETHODIMP Unadvise(ULONG_PTR ulConnection) override {
    LPMAPIADVISESINK sink = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto it = sinks_.find(ulConnection);
      if (it == sinks_.end()) return MAPI_E_NOT_FOUND;
      sink = it->second;
      sinks_.erase(it);
    }
    sink->Release();
    return S_OK;
  }

  STDMETHODIMP GetStatus(ULONG* lpulTableStatus, ULONG* lpulTableType) override {
    if (lpulTableStatus == nullptr || lpulTableType == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lpulTableStatus = TBLSTAT_COMPLETE;
    *lpulTableType = options_.table_type;
    return S_OK;
  }

  // imapitable-setcolumns.md: TBL_ASYNC, TBL_BATCH; an empty set is invalid.
  STDMETHODIMP SetColumns(LPSPropTagArray lpPropTagArray, ULONG ulFlags) override {
    if (ulFlags & ~(TBL_ASYNC | TBL_BATCH)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpPropTagArray == nullptr || lpPropTagArray->cValues == 0) return MAPI_E_INVALID_PARAMETER;
    std::vector<PropTag> columns;
    Converted c = from_mapi(lpPropTagArray, columns);
    std::lock_guard lock(mutex_);
    if (!c.ok()) return fail(c);
    return result(from_status(cursor_.set_columns(std::move(columns))));
  }

  STDMETHODIMP QueryColumns(ULONG ulFlags, LPSPropTagArray* lpPropTagArray) override {
    if (ulFlags & ~TBL_ALL_COLUMNS) return MAPI_E_UNKNOWN_FLAGS;
    if (lpPropTagArray == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lpPropTagArray = nullptr;
    std::lock_guard lock(mutex_);
    return result(to_mapi(cursor_.query_columns(ulFlags & TBL_ALL_COLUMNS), lpPropTagArray));
  }

  // imapitable-getrowcount.md: ulFlags is reserved (zero).
  STDMETHODIMP GetRowCount(ULONG ulFlags, ULONG* lpulCount) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (lpulCount == nullptr) return MAPI_E_INVALID_PARAMETER;
    std::lock_guard lock(mutex_);
    auto count = cursor_.row_count();
    if (!count) return fail(from_status(count.status()));
    *lpulCount = *count;
    return S_OK;
  }

  // imapitable-seekrow.md: lplRowsSought may be null.
  STDMETHODIMP SeekRow(BOOKMARK bkOrigin, LONG lRowCount, LONG* lplRowsSought) override {
    std::lock_guard lock(mutex_);
    auto r = cursor_.seek_row(Bookmark(bkOrigin), lRowCount);
    if (!r) return fail(from_status(r.status()));
    if (lplRowsSought != nullptr) *lplRowsSought = r->rows_sought;
    return r->position_changed ? MAPI_W_POSITION_CHANGED : S_OK;
  }

  STDMETHODIMP SeekRowApprox(ULONG ulNumerator, ULONG ulDenominator) override {
    std::lock_guard lock(mutex_);
    return result(from_status(cursor_.seek_row_approx(ulNumerator, ulDenominator)));
  }

  STDMETHODIMP QueryPosition(ULONG* lpulRow, ULONG* lpulNumerator, ULONG* lpulDenominator) override {
    if (lpulRow == nullptr || lpulNumerator == nullptr || lpulDenominator == nullptr)
      return MAPI_E_INVALID_PARAMETER;
    std::lock_guard lock(mutex_);
    auto p = cursor_.query_position();
    if (!p) return fail(from_status(p.status()));
    *lpulRow = p->row;
    *lpulNumerator = p->numerator;
    *lpulDenominator = p->denominator;
    return S_OK;
  }

  // imapitable-findrow.md: DIR_BACKWARD; a restriction is required.
  STDMETHODIMP FindRow(LPSRestriction lpRestriction, BOOKMARK BkOrigin, ULONG ulFlags) override {
    if (ulFlags & ~DIR_BACKWARD) return MAPI_E_UNKNOWN_FLAGS;
    if (lpRestriction == nullptr) return MAPI_E_INVALID_PARAMETER;
    Restriction restriction;
    Converted c = from_mapi(lpRestriction, restriction);
    std::lock_guard lock(mutex_);
    if (!c.ok()) return fail(c);
    auto r = cursor_.find_row(restriction, Bookmark(BkOrigin), ulFlags & DIR_BACKWARD ? kDirBackward : 0);
    if (!r) return fail(from_status(r.status()));
    return r->position_changed ? MAPI_W_POSITION_CHANGED : S_OK;
  }

  // imapitable-restrict.md: null removes the restriction.
  STDMETHODIMP Restrict(LPSRestriction lpRestriction, ULONG ulFlags) override {
    if (ulFlags & ~(TBL_ASYNC | TBL_BATCH)) return MAPI_E_UNKNOWN_FLAGS;
    std::optional<Restriction> restriction;
    Converted c;
    if (lpRestriction != nullptr) c = from_mapi(lpRestriction, restriction.emplace());
    std::lock_guard lock(mutex_);
    if (!c.ok()) return fail(c);
    return result(from_status(cursor_.restrict(std::move(restriction))));
  }

  STDMETHODIMP CreateBookmark(BOOKMARK* lpbkPosition) override {
    if (lpbkPosition == nullptr) return MAPI_E_INVALID_PARAMETER;
    std::lock_guard lock(mutex_);
    auto b = cursor_.create_bookmark();
    if (!b) return fail(from_status(b.status()));
    *lpbkPosition = BOOKMARK(*b);
    return S_OK;
  }

  STDMETHODIMP FreeBookmark(BOOKMARK bkPosition) override {
    std::lock_guard lock(mutex_);
    return result(from_status(cursor_.free_bookmark(Bookmark(bkPosition))));
  }

  STDMETHODIMP SortTable(LPSSortOrderSet lpSortCriteria, ULONG ulFlags) override {
    if (ulFlags & ~(TBL_ASYNC | TBL_BATCH)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpSortCriteria == nullptr) return MAPI_E_INVALID_PARAMETER;
    SortOrderSet sort;
    Converted c = from_mapi(lpSortCriteria, sort);
    std::lock_guard lock(mutex_);
    if (!c.ok()) return fail(c);
    return result(from_status(cursor_.sort_table(std::move(sort))));
  }

  STDMETHODIMP QuerySortOrder(LPSSortOrderSet* lppSortCriteria) override {
    if (lppSortCriteria == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppSortCriteria = nullptr;
    std::lock_guard lock(mutex_);
    return result(to_mapi(cursor_.query_sort_order(), lppSortCriteria));
  }

  // imapitable-queryrows.md: TBL_NOADVANCE; lRowCount 0 is invalid.
  STDMETHODIMP QueryRows(LONG lRowCount, ULONG ulFlags, LPSRowSet* lppRows) override {
    if (ulFlags & ~TBL_NOADVANCE) return MAPI_E_UNKNOWN_FLAGS;
    if (lppRows == nullptr || lRowCount == 0) return MAPI_E_INVALID_PARAMETER;
    *lppRows = nullptr;
    std::lock_guard lock(mutex_);
    auto rows = cursor_.query_rows(lRowCount, ulFlags & TBL_NOADVANCE ? kTblNoAdvance : 0);
    if (!rows) return fail(from_status(rows.status()));
    return result(to_mapi(*rows, lppRows));
  }

  STDMETHODIMP Abort() override { return MAPI_E_UNABLE_TO_ABORT; }

  // Not categorized: no row can be expanded or collapsed.
  STDMETHODIMP ExpandRow(ULONG cbInstanceKey, LPBYTE pbInstanceKey, ULONG, ULONG ulFlags, LPSRowSet* lppRows,
                         ULONG* lpulMoreRows) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (lppRows != nullptr) *lppRows = nullptr;
    if (lpulMoreRows != nullptr) *lpulMoreRows = 0;
    if (cbInstanceKey == 0 || pbInstanceKey == nullptr) return MAPI_E_INVALID_PARAMETER;
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP CollapseRow(ULONG cbInstanceKey, LPBYTE pbInstanceKey, ULONG ulFlags, ULONG* lpulRowCount) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (cbInstanceKey == 0 || pbInstanceKey == nullptr || lpulRowCount == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lpulRowCount = 0;
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP WaitForCompletion(ULONG ulFlags, ULONG, ULONG* lpulTableStatus) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (lpulTableStatus != nullptr) *lpulTableStatus = TBLSTAT_COMPLETE;
    return S_OK;
  }
  STDMETHODIMP GetCollapseState(ULONG ulFlags, ULONG cbInstanceKey, LPBYTE lpbInstanceKey,
                                ULONG* lpcbCollapseState, LPBYTE* lppbCollapseState) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (cbInstanceKey == 0 || lpbInstanceKey == nullptr || lpcbCollapseState == nullptr ||
        lppbCollapseState == nullptr)
      return MAPI_E_INVALID_PARAMETER;
    *lpcbCollapseState = 0;
    *lppbCollapseState = nullptr;
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP SetCollapseState(ULONG ulFlags, ULONG cbCollapseState, LPBYTE pbCollapseState,
                                BOOKMARK* lpbkLocation) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (cbCollapseState == 0 || pbCollapseState == nullptr || lpbkLocation == nullptr)
      return MAPI_E_INVALID_PARAMETER;
    return MAPI_E_NO_SUPPORT;
  }

 private:
  friend class ComObject<ComTable, IMAPITable, IID_IMAPITable>;  // deletes it
  ~ComTable() {
    for (auto& [connection, sink] : sinks_) sink->Release();
  }

  // Records an error for GetLastError (mutex_ held).
  HRESULT fail(const Converted& c) { return last_.set(c.scode, c.detail); }
  HRESULT result(const Converted& c) { return c.ok() ? S_OK : fail(c); }

  std::mutex mutex_;
  std::shared_ptr<RowSource> source_;
  TableCursor cursor_;
  TableOptions options_;
  LastError last_;
  std::map<ULONG_PTR, LPMAPIADVISESINK> sinks_;
  ULONG_PTR next_connection_ = 1;
};

}  // namespace

HRESULT create_table(std::shared_ptr<RowSource> source, LPMAPITABLE* out, TableOptions options) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  if (source == nullptr) return MAPI_E_INVALID_PARAMETER;
  auto* table = new (std::nothrow) ComTable(std::move(source), options);
  if (table == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  *out = table;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
