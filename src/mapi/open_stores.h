// Every PST store this process has open through MAPI, for the operations
// that reach all of them at once: fast shutdown (IMAPIProviderShutdown,
// issue 10 part 4), crash recovery (MAPICrashRecovery, part 3) and flushing
// write-behind at logoff. Internal to src/mapi.
#pragma once

#include <chrono>
#include <cstdint>
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
// While a store of this process holds a batch pending (and with it the
// file's pending-batch lock, docs/COMMIT_PROTOCOL.md "Saved changes
// pending"), the thread also commits it at once when another process asks
// for it: it sleeps in inotify for opens of the file (the requester's
// doorbell, filelock::request_flush) and then checks the request byte with
// one fcntl per pending store (StoreState::flush_if_due). A file whose
// opens inotify cannot see (network file systems) is polled every
// kFlushRequestPoll instead.
inline constexpr std::chrono::milliseconds kFlushRequestPoll{1};
void schedule_background_flush(std::chrono::steady_clock::time_point deadline);
// A batch became pending on the file whose pending-batch lock fd holds
// (filelock::PendingBatch::descriptor): the flusher watches the file from
// its next wake (schedule_background_flush). Returns the watch to give back
// to unwatch_pending_file when the batch ends (-1: polled; kNoRequests: fd
// was -1, no lock was taken, so there is nothing to look for).
inline constexpr int kNoRequests = -2;
int watch_pending_file(int fd);
void unwatch_pending_file(int watch);
// Whether any store of this process holds a batch pending (one atomic
// load): a call's catch-up then looks for another store object's batch on
// its file (StoreState::catch_up).
bool batches_pending_here();
// How many times the flusher has looked at the open stores (woken by a
// deadline, a new batch, an open of a watched file, or a poll): for tests
// and diagnostics — a lone writer's flusher looks about once per batch.
uint64_t background_flush_looks();
// Whether the calling thread is the flusher or the change watch: their
// calls on stores never ask other processes for their pending batches (the
// watch would turn every writer's batches into ones of its period; two
// flushers waiting for each other would wait out the timeout).
bool on_background_thread();
// Stops the flusher and waits for it to end: once this returns no
// background flush runs until allow_background_flush (MAPIInitialize), and
// pending batches stay pending (flush them with flush_open_stores). Called by
// MAPIUninitialize and fast shutdown. Never from the flusher itself (a
// store's flush or an advise sink).
// Both also stop and allow the change watch (below).
void stop_background_flush();
void allow_background_flush();

// ---- the watch for changes made elsewhere (docs/MAPI.md "Notifications
// across processes")
//
// A thread of its own that, while some store has a listener (a sink advised
// on it or on one of its tables), looks at every open store each
// $PSTKIT_MAPI_WATCH_MS (50 ms, bounded to 5 ms–1 s) with
// StoreState::poll_changes: one read of the file's header when nothing
// changed. It ends when no store has a listener. Started by Advise.
void watch_for_changes();
// Looks at once: a store object of this process committed, so the others
// on the same file need not wait for the period.
void wake_change_watch();
void stop_change_watch();
void allow_change_watch();

}  // namespace pstkit::mapi::capi
