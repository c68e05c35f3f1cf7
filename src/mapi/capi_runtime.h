// The MAPI subsystem's process-wide state: the MAPIInitialize reference
// count (mapiinitialize.md, mapiuninitialize.md) and what must happen when
// it falls to zero. Internal to src/mapi.
//
// Every MAPI entry point except the memory functions checks
// runtime_initialized() first and returns MAPI_E_NOT_INITIALIZED without it,
// as mapiinitialize.md documents.
#pragma once

#include <cstdint>
#include <functional>

#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {

// True between a successful MAPIInitialize and the MAPIUninitialize that
// balances the last one.
bool runtime_initialized();

// The MAPIINIT_0 flags of the first MAPIInitialize of the current
// initialisation (MAPI_MULTITHREAD_NOTIFICATIONS, MAPI_NO_COINIT,
// MAPI_NT_SERVICE); 0 when not initialised.
ULONG runtime_init_flags();

// Runs `hook` once when the reference count next falls to zero, before
// MAPIUninitialize returns (sessions log off, stores flush, notification
// threads stop: mapiuninitialize.md). Hooks run in reverse order of
// registration, outside the runtime's lock, so a hook may call back into
// MAPI. The returned token cancels the hook (remove_uninitialize_hook),
// e.g. when the session it would end has already logged off.
using HookToken = uint64_t;

// After a successful IMAPIClientShutdown::DoFastShutdown the process is
// about to exit: best-practices-for-fast-shutdown.md forbids any further
// MAPI call, MAPIUninitialize included. From then on runtime_initialized()
// is false (every entry point answers MAPI_E_NOT_INITIALIZED, as before
// MAPIInitialize), MAPIInitialize fails with MAPI_E_CALL_FAILED and
// MAPIUninitialize does nothing: no hook runs, nothing is written.
void mark_fast_shutdown_done();
bool fast_shutdown_done();
HookToken add_uninitialize_hook(std::function<void()> hook);
void remove_uninitialize_hook(HookToken token);

}  // namespace pstkit::mapi::capi
