// IMAPITable over a TableCursor and a RowSource: the COM object every MAPI
// table of pstkit (contents, hierarchy, profile, store tables) is made of.
// Internal to src/mapi.
#pragma once

#include <memory>
#include <mutex>
#include <span>

#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi::capi {

// A lock a table takes around every call, before its own: a store's mutex
// (StoreMutex), under which the store reports changes to its tables.
class TableOuterLock {
 public:
  virtual void lock() = 0;
  virtual void unlock() = 0;

 protected:
  ~TableOuterLock() = default;
};

struct TableOptions {
  // What GetStatus reports as the table type (imapitable-getstatus.md).
  ULONG table_type = TBLTYPE_SNAPSHOT;
  // Taken before the table's own lock by every method: the store's mutex
  // for a store's tables, under which the store reports changes
  // (TableUpdates), so both paths take the two locks in the same order.
  TableOuterLock* outer_lock = nullptr;
  // Called after each successful Advise (outside the table's lock): a
  // store's tables start the watch for other processes' changes with it.
  void (*on_advise)() = nullptr;
};

// How the owner of a row source tells the table over it that rows changed
// (imapitable-advise.md, table_notification.md). The table re-reads its
// view: at once when a client advised it, sending each sink one
// fnevTableModified notification per row that entered, left or changed in
// the view (TABLE_ROW_ADDED / DELETED / MODIFIED, or TABLE_ERROR if the
// re-read failed); else at its next use. Does nothing once the table is
// released.
class TableUpdates {
 public:
  virtual ~TableUpdates() = default;
  virtual void rows_changed(std::span<const RowId> rows) = 0;
  // Whether the table has sinks (then the owner derives changes it did not
  // make itself, docs/MAPI.md "Notifications across processes").
  virtual bool advised() const = 0;
};

// A new IMAPITable (reference count 1) reading `source`, which it keeps
// alive. *out is null on failure (MAPI_E_INVALID_PARAMETER for a null source
// or out pointer, MAPI_E_NOT_ENOUGH_MEMORY).
// With `updates`, also the handle its source's owner reports changes through.
HRESULT create_table(std::shared_ptr<RowSource> source, LPMAPITABLE* out, TableOptions options = {},
                     std::shared_ptr<TableUpdates>* updates = nullptr);

}  // namespace pstkit::mapi::capi
