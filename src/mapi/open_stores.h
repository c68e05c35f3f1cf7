// Every PST store this process has open through MAPI, for the operations
// that reach all of them at once: fast shutdown (IMAPIProviderShutdown,
// issue 10 part 4), crash recovery (MAPICrashRecovery, part 3) and flushing
// write-behind at logoff. Internal to src/mapi.
#pragma once

#include <functional>
#include <memory>

namespace pstkit::mapi::capi {

struct StoreState;

// Remembers a store opened by open_pst_store (a weak reference: the store
// leaves the registry when its last object is released).
void register_open_store(const std::shared_ptr<StoreState>& state);

// Calls fn for every store still open, outside the registry's lock (fn may
// open or release stores). Stores are visited in the order they were opened.
void for_each_open_store(const std::function<void(const std::shared_ptr<StoreState>&)>& fn);

}  // namespace pstkit::mapi::capi
