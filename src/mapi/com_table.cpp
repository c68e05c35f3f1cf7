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
// Advise keeps sinks that receive fnevTableModified notifications when the
// source's owner reports changed rows (TableUpdates, com_table.h). The tables are not categorized: ExpandRow,
// CollapseRow, GetCollapseState and SetCollapseState return
// MAPI_E_NO_SUPPORT after checking their arguments.
#include "mapi/com_table.h"

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <new>
#include <string>

#include "mapi/capi_convert.h"
#include "mapi/com_object.h"
#include "mapi/last_error.h"

namespace pstkit::mapi::capi {
namespace {

class ComTable;

// The TableUpdates handle: a link to the table that its destructor cuts.
class TableLink final : public TableUpdates {
 public:
  explicit TableLink(ComTable* table) : table_(table) {}
  void rows_changed(std::span<const RowId> rows) override;
  bool advised() const override;
  void cut() {
    std::lock_guard lock(mutex_);
    table_ = nullptr;
  }

 private:
  mutable std::recursive_mutex mutex_;
  ComTable* table_;
};

class ComTable final : public ComObject<ComTable, IMAPITable, IID_IMAPITable> {
 public:
  ComTable(std::shared_ptr<RowSource> source, TableOptions options)
      : source_(std::move(source)), cursor_(*source_), options_(options) {
    // Table notifications name rows by PR_INSTANCE_KEY, deleted ones too.
    cursor_.track_instance_keys();
  }

  // imapitable-getlasterror.md: MAPI_UNICODE only; no information about
  // hResult gives S_OK with a null *lppMAPIError.
  STDMETHODIMP GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) override {
    return last_.get(hResult, ulFlags, lppMAPIError);
  }


  // imapitable-advise.md: ulEventMask must be fnevTableModified.
  STDMETHODIMP Advise(ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink, ULONG_PTR* lpulConnection) override {
    if (lpAdviseSink == nullptr || lpulConnection == nullptr || ulEventMask != fnevTableModified)
      return MAPI_E_INVALID_PARAMETER;
    Locks lock(*this);
    try {
      // The view the notifications describe changes from: read it now.
      if (auto built = cursor_.row_count(); !built) return fail(from_status(built.status()));
      ULONG_PTR connection = next_connection_++;
      sinks_.emplace(connection, lpAdviseSink);
      sink_count_ = sinks_.size();
      lpAdviseSink->AddRef();
      *lpulConnection = connection;
    } catch (const std::bad_alloc&) {
      return MAPI_E_NOT_ENOUGH_MEMORY;
    }
    if (options_.on_advise != nullptr) options_.on_advise();
    return S_OK;
  }
  STDMETHODIMP Unadvise(ULONG_PTR ulConnection) override {
    LPMAPIADVISESINK sink = nullptr;
    {
      Locks lock(*this);
      auto it = sinks_.find(ulConnection);
      if (it == sinks_.end()) return MAPI_E_NOT_FOUND;
      sink = it->second;
      sinks_.erase(it);
      sink_count_ = sinks_.size();
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
    Locks lock(*this);
    if (!c.ok()) return fail(c);
    return result(from_status(cursor_.set_columns(std::move(columns))));
  }

  STDMETHODIMP QueryColumns(ULONG ulFlags, LPSPropTagArray* lpPropTagArray) override {
    if (ulFlags & ~TBL_ALL_COLUMNS) return MAPI_E_UNKNOWN_FLAGS;
    if (lpPropTagArray == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lpPropTagArray = nullptr;
    Locks lock(*this);
    return result(to_mapi(cursor_.query_columns(ulFlags & TBL_ALL_COLUMNS), lpPropTagArray));
  }

  // imapitable-getrowcount.md: ulFlags is reserved (zero).
  STDMETHODIMP GetRowCount(ULONG ulFlags, ULONG* lpulCount) override {
    if (ulFlags != 0) return MAPI_E_UNKNOWN_FLAGS;
    if (lpulCount == nullptr) return MAPI_E_INVALID_PARAMETER;
    Locks lock(*this);
    auto count = cursor_.row_count();
    if (!count) return fail(from_status(count.status()));
    *lpulCount = *count;
    return S_OK;
  }

  // imapitable-seekrow.md: lplRowsSought may be null.
  STDMETHODIMP SeekRow(BOOKMARK bkOrigin, LONG lRowCount, LONG* lplRowsSought) override {
    Locks lock(*this);
    auto r = cursor_.seek_row(Bookmark(bkOrigin), lRowCount);
    if (!r) return fail(from_status(r.status()));
    if (lplRowsSought != nullptr) *lplRowsSought = r->rows_sought;
    return r->position_changed ? MAPI_W_POSITION_CHANGED : S_OK;
  }

  STDMETHODIMP SeekRowApprox(ULONG ulNumerator, ULONG ulDenominator) override {
    Locks lock(*this);
    return result(from_status(cursor_.seek_row_approx(ulNumerator, ulDenominator)));
  }

  STDMETHODIMP QueryPosition(ULONG* lpulRow, ULONG* lpulNumerator, ULONG* lpulDenominator) override {
    if (lpulRow == nullptr || lpulNumerator == nullptr || lpulDenominator == nullptr)
      return MAPI_E_INVALID_PARAMETER;
    Locks lock(*this);
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
    Locks lock(*this);
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
    Locks lock(*this);
    if (!c.ok()) return fail(c);
    return result(from_status(cursor_.restrict(std::move(restriction))));
  }

  STDMETHODIMP CreateBookmark(BOOKMARK* lpbkPosition) override {
    if (lpbkPosition == nullptr) return MAPI_E_INVALID_PARAMETER;
    Locks lock(*this);
    auto b = cursor_.create_bookmark();
    if (!b) return fail(from_status(b.status()));
    *lpbkPosition = BOOKMARK(*b);
    return S_OK;
  }

  STDMETHODIMP FreeBookmark(BOOKMARK bkPosition) override {
    Locks lock(*this);
    return result(from_status(cursor_.free_bookmark(Bookmark(bkPosition))));
  }

  STDMETHODIMP SortTable(LPSSortOrderSet lpSortCriteria, ULONG ulFlags) override {
    if (ulFlags & ~(TBL_ASYNC | TBL_BATCH)) return MAPI_E_UNKNOWN_FLAGS;
    if (lpSortCriteria == nullptr) return MAPI_E_INVALID_PARAMETER;
    SortOrderSet sort;
    Converted c = from_mapi(lpSortCriteria, sort);
    Locks lock(*this);
    if (!c.ok()) return fail(c);
    return result(from_status(cursor_.sort_table(std::move(sort))));
  }

  STDMETHODIMP QuerySortOrder(LPSSortOrderSet* lppSortCriteria) override {
    if (lppSortCriteria == nullptr) return MAPI_E_INVALID_PARAMETER;
    *lppSortCriteria = nullptr;
    Locks lock(*this);
    return result(to_mapi(cursor_.query_sort_order(), lppSortCriteria));
  }

  // imapitable-queryrows.md: TBL_NOADVANCE; lRowCount 0 is invalid.
  STDMETHODIMP QueryRows(LONG lRowCount, ULONG ulFlags, LPSRowSet* lppRows) override {
    if (ulFlags & ~TBL_NOADVANCE) return MAPI_E_UNKNOWN_FLAGS;
    if (lppRows == nullptr || lRowCount == 0) return MAPI_E_INVALID_PARAMETER;
    *lppRows = nullptr;
    Locks lock(*this);
    auto rows = cursor_.query_rows(lRowCount, ulFlags & TBL_NOADVANCE ? kTblNoAdvance : 0);
    if (!rows) return fail(from_status(rows.status()));
    return result(to_mapi(*rows, lppRows));
  }

  STDMETHODIMP Abort() override { return MAPI_E_UNABLE_TO_ABORT; }

  // TableUpdates::rows_changed. Sinks are called after the table's lock is
  // released (a sink may call the table, or release it: nothing of the
  // table is touched after the first call).
  bool has_sinks() const { return sink_count_ != 0; }

  void rows_changed(std::span<const RowId> rows) {
    std::vector<LPMAPIADVISESINK> targets;
    std::vector<NOTIFICATION> notes;
    std::deque<Bytes> keys;              // propIndex/propPrior values
    std::vector<LPSPropValue> buffers;   // row values (MAPIFreeBuffer)
    {
      Locks lock(*this);
      if (sinks_.empty()) {
        cursor_.invalidate();
        return;
      }
      auto changes = cursor_.refresh(rows);
      auto key_value = [&](Bytes key) {
        const Bytes& k = keys.emplace_back(std::move(key));
        SPropValue v{};
        v.ulPropTag = PR_INSTANCE_KEY;
        v.Value.bin.cb = ULONG(k.size());
        v.Value.bin.lpb = const_cast<LPBYTE>(k.data());
        return v;
      };
      if (!changes) {
        NOTIFICATION n{};
        n.ulEventType = fnevTableModified;
        n.info.tab.ulTableEvent = TABLE_ERROR;
        n.info.tab.hResult = HRESULT(mapi_scode(changes.status()));
        n.info.tab.propIndex.ulPropTag = PR_NULL;
        n.info.tab.propPrior.ulPropTag = PR_NULL;
        notes.push_back(n);
      } else {
        for (auto& c : *changes) {
          NOTIFICATION n{};
          n.ulEventType = fnevTableModified;
          TABLE_NOTIFICATION& t = n.info.tab;
          t.ulTableEvent = c.kind == TableCursor::RowChange::kAdded     ? TABLE_ROW_ADDED
                           : c.kind == TableCursor::RowChange::kDeleted ? TABLE_ROW_DELETED
                                                                        : TABLE_ROW_MODIFIED;
          t.propIndex = key_value(std::move(c.key));
          // table_notification.md: PR_NULL before the first row, and for a
          // deleted row.
          if (c.prior_key && c.kind != TableCursor::RowChange::kDeleted) {
            t.propPrior = key_value(std::move(*c.prior_key));
          } else {
            t.propPrior.ulPropTag = PR_NULL;
          }
          if (c.kind != TableCursor::RowChange::kDeleted) {
            LPSPropValue values = nullptr;
            if (to_mapi(c.values, &values).ok()) {
              buffers.push_back(values);
              t.row.cValues = ULONG(c.values.size());
              t.row.lpProps = values;
            }
          }
          notes.push_back(n);
        }
      }
      for (auto& [connection, sink] : sinks_) {
        sink->AddRef();
        targets.push_back(sink);
      }
    }
    for (LPMAPIADVISESINK sink : targets) {
      if (!notes.empty()) sink->OnNotify(ULONG(notes.size()), notes.data());
      sink->Release();
    }
    for (LPSPropValue b : buffers) MAPIFreeBuffer(b);
  }

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
  friend HRESULT pstkit::mapi::capi::create_table(std::shared_ptr<RowSource>, LPMAPITABLE*, TableOptions,
                                                  std::shared_ptr<TableUpdates>*);
  ~ComTable() {
    if (link_) link_->cut();
    for (auto& [connection, sink] : sinks_) sink->Release();
  }

  // The store's lock (if any), then the table's.
  struct Locks {
    explicit Locks(ComTable& t)
        : outer(t.options_.outer_lock ? std::unique_lock(*t.options_.outer_lock)
                                      : std::unique_lock<TableOuterLock>()),
          own(t.mutex_) {}
    std::unique_lock<TableOuterLock> outer;
    std::unique_lock<std::mutex> own;
  };

  // Records an error for GetLastError (mutex_ held).
  HRESULT fail(const Converted& c) { return last_.set(c.scode, c.detail); }
  HRESULT result(const Converted& c) { return c.ok() ? S_OK : fail(c); }

  std::mutex mutex_;
  std::shared_ptr<RowSource> source_;
  TableCursor cursor_;
  TableOptions options_;
  LastError last_;
  std::map<ULONG_PTR, LPMAPIADVISESINK> sinks_;
  std::atomic<size_t> sink_count_{0};  // sinks_.size(), read without the table's lock (TableLink::advised)
  ULONG_PTR next_connection_ = 1;
  std::shared_ptr<TableLink> link_;
};

void TableLink::rows_changed(std::span<const RowId> rows) {
  std::lock_guard lock(mutex_);
  if (table_ != nullptr) table_->rows_changed(rows);
}

bool TableLink::advised() const {
  std::lock_guard lock(mutex_);
  return table_ != nullptr && table_->has_sinks();
}

}  // namespace

HRESULT create_table(std::shared_ptr<RowSource> source, LPMAPITABLE* out, TableOptions options,
                     std::shared_ptr<TableUpdates>* updates) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  if (source == nullptr) return MAPI_E_INVALID_PARAMETER;
  auto* table = new (std::nothrow) ComTable(std::move(source), options);
  if (table == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  if (updates != nullptr) {
    try {
      table->link_ = std::make_shared<TableLink>(table);
    } catch (const std::bad_alloc&) {
      table->Release();
      return MAPI_E_NOT_ENOUGH_MEMORY;
    }
    *updates = table->link_;
  }
  *out = table;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
