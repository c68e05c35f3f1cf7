// IMAPITable over a TableCursor and a RowSource: the COM object every MAPI
// table of pstkit (contents, hierarchy, profile, store tables) is made of.
// Internal to src/mapi.
#pragma once

#include <memory>

#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi::capi {

struct TableOptions {
  // What GetStatus reports as the table type (imapitable-getstatus.md).
  ULONG table_type = TBLTYPE_SNAPSHOT;
};

// A new IMAPITable (reference count 1) reading `source`, which it keeps
// alive. *out is null on failure (MAPI_E_INVALID_PARAMETER for a null source
// or out pointer, MAPI_E_NOT_ENOUGH_MEMORY).
HRESULT create_table(std::shared_ptr<RowSource> source, LPMAPITABLE* out, TableOptions options = {});

}  // namespace pstkit::mapi::capi
