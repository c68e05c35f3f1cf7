// The runtime's status objects (imapistatusimapiprop.md,
// status-table-and-status-objects.md): what IMAPISession::OpenEntry returns
// for the entry ID of a status table row that no provider object answers
// for. Internal to src/mapi.
#pragma once

#include <functional>
#include <vector>

#include "pstkit/mapi/mapidefs.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi::capi {

// What a status object is made of.
struct StatusObjectSource {
  // The row's values; strings are kept as PT_UNICODE (UTF-8) and given in
  // the kind GetProps asks for.
  std::vector<PropValue> values;
  // ValidateState (when PR_RESOURCE_METHODS has STATUS_VALIDATE_STATE):
  // reads the row again into *values; MAPI_E_END_OF_SESSION once the
  // session has ended, MAPI_E_NOT_FOUND when the row has gone.
  std::function<HRESULT(std::vector<PropValue>* values)> reread;
  // FlushQueues (when PR_RESOURCE_METHODS has STATUS_FLUSH_QUEUES): the
  // MAPI spooler's; target is the transport's entry ID, or empty for all.
  std::function<HRESULT(ByteView target, ULONG flags)> flush;
};

// A new IMAPIStatus over `source`, one reference. Read-only, as the status
// objects MAPI implements are ("a read-only version of the methods of the
// IMAPIProp interface"); SettingsDialog and ChangePassword are
// MAPI_E_NO_SUPPORT ("not supported in status objects that MAPI
// implements").
HRESULT create_status_object(StatusObjectSource source, LPMAPISTATUS* out);

// `v` with its string type (PT_STRING8 / PT_UNICODE, single or multiple)
// set to the kind a caller asked for (MAPI_UNICODE or not); the runtime
// keeps both kinds as UTF-8.
PropValue in_string_kind(const PropValue& v, bool wide);

}  // namespace pstkit::mapi::capi
