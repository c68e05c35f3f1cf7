// The PST message store provider's entry point for sessions: opens a .pst
// (or, read-only, an .ost) as an IMsgStore (imsgstoreimapiprop.md). The
// session's OpenMsgStore (imapisession-openmsgstore.md) calls it with the
// path of the service's PR_PST_PATH. Internal to src/mapi.
#pragma once

#include <array>
#include <string>

#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {

// Opens the store at `path` (reference count 1 in *out).
// flags (imapisession-openmsgstore.md): MDB_WRITE opens for writing (the
// object then holds the file's writer lock until its last Release; another
// pstkit writer waits up to $PSTKIT_LOCK_TIMEOUT seconds, then this returns
// MAPI_E_BUSY); MAPI_BEST_ACCESS opens for writing when possible, else
// read-only; MDB_NO_DIALOG, MDB_TEMPORARY, MDB_NO_MAIL, MDB_ONLINE and
// MAPI_DEFERRED_ERRORS are accepted (no UI, nothing to register).
// Errors: MAPI_E_NOT_INITIALIZED before MAPIInitialize; MAPI_E_INVALID_PARAMETER
// (null out); MAPI_E_UNKNOWN_FLAGS; MAPI_E_NOT_FOUND (no such file);
// MAPI_E_NO_ACCESS (MDB_WRITE on a file pstkit does not write, e.g. an OST);
// MAPI_E_CORRUPT_DATA (not a PST, or damaged past reading its store object).
HRESULT open_pst_store(const std::string& path, ULONG flags, LPMDB* out);

// The store's provider UID (16 bytes): its PR_RECORD_KEY, which is also
// PR_STORE_RECORD_KEY of every object and the middle of every entry ID
// (MS-PST 2.4.3.2). For a store opened by open_pst_store; MAPI_E_INVALID_PARAMETER
// for another object.
HRESULT pst_store_record_key(LPMDB store, std::array<uint8_t, 16>* out);

}  // namespace pstkit::mapi::capi
