// Every PST store this process has open through MAPI, for the operations
// that reach all of them at once: fast shutdown (IMAPIProviderShutdown,
// issue 10 part 4), crash recovery (MAPICrashRecovery, part 3) and flushing
// write-behind at logoff. Internal to src/mapi.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {

struct StoreState;

// Remembers a store opened by open_pst_store (a weak reference: the store
// leaves the registry when its last object is released).
void register_open_store(const std::shared_ptr<StoreState>& state);

// Calls fn for every store still open, outside the registry's lock (fn may
// open or release stores). Stores are visited in the order they were opened.
void for_each_open_store(const std::function<void(const std::shared_ptr<StoreState>&)>& fn);

// Commits what every open store holds between SaveChanges calls
// (StoreState::flush). The first failure, S_OK when there is none.
HRESULT flush_open_stores(std::string* detail);

// ---- the background flusher (write-behind, docs/MAPI.md)
//
// One thread per process commits each store's batch of saved messages at
// the deadline the store asks for (StoreState::flush_if_due). It starts with
// the first batch.
void schedule_background_flush(std::chrono::steady_clock::time_point deadline);
// Stops the flusher and waits for it to end: once this returns no
// background flush runs until allow_background_flush (MAPIInitialize), and
// pending batches stay pending (flush them with flush_open_stores). Called by
// MAPIUninitialize and fast shutdown. Never from the flusher itself (a
// store's flush or an advise sink).
void stop_background_flush();
void allow_background_flush();

}  // namespace pstkit::mapi::capi
