// Fast shutdown (issue 10 part 4; fast-shutdown-overview.md,
// fast-shutdown-user-options.md, best-practices-for-fast-shutdown.md):
// IMAPIClientShutdown, which a client gets by QueryInterface on any
// IMAPISession; the providers the runtime asks (third-party providers
// loaded from their libraries at logon, and the built-in PST store
// provider); the FastShutdownBehavior policy; and the refusal of every
// write once DoFastShutdown has made the data safe. docs/MAPI.md "Fast
// shutdown". Internal to src/mapi.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "mapi/shutdown_policy.h"
#include "pstkit/env.h"
#include "pstkit/mapi/mapispi.h"
#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {

// ---- The client's object -----------------------------------------------------
// A new IMAPIClientShutdown (reference count 1), for IMAPISession's
// QueryInterface.
HRESULT create_client_shutdown(LPMAPICLIENTSHUTDOWN* out);

// ---- Providers ---------------------------------------------------------------
// Makes the session core load providers that name a library
// (PR_PROVIDER_DLL_NAME) through their MSProviderInit, ABProviderInit or
// XPProviderInit. Idempotent; MAPILogonEx calls it.
void install_provider_library_loader();

// The IMSProvider a store provider's library returned at logon, held by
// `provider_object` (ProviderLogonInfo::provider_object); null when that
// is not a store provider loaded from a library. No reference is added:
// the object lives as long as `provider_object`.
LPMSPROVIDER library_store_provider(const std::shared_ptr<void>& provider_object);
// Runs `end` when the session drops the provider, just before its
// Shutdown (shutting-down-a-message-store-provider.md: the store logons
// are logged off first). `calls_allowed` is false after a fast shutdown,
// when no provider method may be called, only references released.
void at_provider_end(const std::shared_ptr<void>& provider_object, std::function<void(bool calls_allowed)> end);

// Work a store provider does in the background (a write-behind flush
// thread, compaction, indexing): NotifyProcessShutdown of the PST provider
// calls `stop` of every registration (best-practices-for-fast-shutdown.md:
// "no compaction or indexing"), which must return once the work has
// stopped. The token unregisters it.
uint64_t register_background_work(std::function<void()> stop);
void unregister_background_work(uint64_t token);

// ---- After DoFastShutdown ------------------------------------------------------
// The file system PST stores are written through (open_pst_store): the
// POSIX one, except that once DoFastShutdown has made every store durable
// every write, sync, truncation, creation, rename and removal fails, so
// nothing more reaches any store whatever a thread still does.
Env* store_env();

}  // namespace pstkit::mapi::capi
