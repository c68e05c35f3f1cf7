// MAPIInitialize and MAPIUninitialize (mapiinitialize.md, mapiuninitialize.md,
// mapiinit_0.md): a process-wide reference count. The documented steps that
// concern Windows (registry keys, OLE, the notification window) have no
// counterpart here; what remains is validating the arguments, counting, and
// tearing the subsystem down when the count falls to zero.
#include "mapi/capi_runtime.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <utility>
#include <vector>

#include "mapi/open_stores.h"

namespace pstkit::mapi::capi {
namespace {

struct Runtime {
  std::mutex mutex;
  ULONG references = 0;
  ULONG init_flags = 0;
  HookToken next_token = 1;
  std::vector<std::pair<HookToken, std::function<void()>>> hooks;
};

Runtime& runtime() {
  static Runtime* r = new Runtime;  // never destroyed: usable from static destructors
  return *r;
}

std::atomic<bool> g_fast_shutdown_done{false};

constexpr ULONG kKnownInitFlags = MAPI_MULTITHREAD_NOTIFICATIONS | MAPI_NO_COINIT | MAPI_NT_SERVICE;

}  // namespace

void mark_fast_shutdown_done() { g_fast_shutdown_done = true; }
bool fast_shutdown_done() { return g_fast_shutdown_done; }

bool runtime_initialized() {
  if (fast_shutdown_done()) return false;
  Runtime& r = runtime();
  std::lock_guard lock(r.mutex);
  return r.references > 0;
}

ULONG runtime_init_flags() {
  Runtime& r = runtime();
  std::lock_guard lock(r.mutex);
  return r.references > 0 ? r.init_flags : 0;
}

HookToken add_uninitialize_hook(std::function<void()> hook) {
  Runtime& r = runtime();
  std::lock_guard lock(r.mutex);
  const HookToken token = r.next_token++;
  r.hooks.emplace_back(token, std::move(hook));
  return token;
}

void remove_uninitialize_hook(HookToken token) {
  Runtime& r = runtime();
  std::lock_guard lock(r.mutex);
  std::erase_if(r.hooks, [token](const auto& h) { return h.first == token; });
}

}  // namespace pstkit::mapi::capi

using namespace pstkit::mapi::capi;

STDAPI MAPIInitialize(LPVOID lpMapiInit) {
  if (fast_shutdown_done()) return MAPI_E_CALL_FAILED;
  ULONG flags = 0;
  if (lpMapiInit != nullptr) {
    // Step 1 of mapiinitialize.md: parameters and flags.
    const auto* init = static_cast<const MAPIINIT_0*>(lpMapiInit);
    if (init->ulVersion != MAPI_INIT_VERSION) return MAPI_E_VERSION;
    if ((init->ulFlags & ~kKnownInitFlags) != 0) return MAPI_E_UNKNOWN_FLAGS;
    flags = init->ulFlags;
  }
  Runtime& r = runtime();
  std::lock_guard lock(r.mutex);
  if (r.references == ULONG(-1)) return MAPI_E_SESSION_LIMIT;
  if (r.references++ == 0) {
    r.init_flags = flags;
    allow_background_flush();
  }
  return S_OK;
}

STDAPI_(void) MAPIUninitialize(void) {
  std::vector<std::pair<HookToken, std::function<void()>>> hooks;
  {
    Runtime& r = runtime();
    std::lock_guard lock(r.mutex);
    if (fast_shutdown_done()) return;  // the process is exiting: nothing more runs
    if (r.references == 0) return;  // unbalanced: nothing to undo
    if (--r.references > 0) return;
    hooks.swap(r.hooks);
    r.init_flags = 0;
  }
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) it->second();
  // Write-behind ends with the subsystem: no background flush runs after
  // this, and what stores still batch is committed now (docs/MAPI.md).
  stop_background_flush();
  std::string detail;
  if (FAILED(flush_open_stores(&detail))) std::fprintf(stderr, "pstkit: MAPIUninitialize: %s\n", detail.c_str());
}
