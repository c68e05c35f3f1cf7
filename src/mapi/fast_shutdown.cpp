// IMAPIClientShutdown and the providers it asks (fast_shutdown.h).
//
// The documented sequence (fast-shutdown-overview.md): the client calls
// QueryFastShutdown, then NotifyProcessShutdown, then DoFastShutdown, and
// for each MAPI calls the same method of IMAPIProviderShutdown on every
// provider with an active session in the process: transport providers,
// then address book providers, then store providers.
#include "mapi/fast_shutdown.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "mapi/capi_runtime.h"
#include "mapi/com_object.h"
#include "mapi/com_prop.h"
#include "mapi/crash_recovery.h"
#include "mapi/open_stores.h"
#include "pstkit/mapi/mapispi.h"
#include "pstkit/mapi_profiles.h"
#include "pstkit/mapi_session.h"
#include "util/shared_library.h"

namespace pstkit::mapi::capi {
namespace {

// Set once DoFastShutdown has made every store durable.
std::atomic<bool> g_writes_refused{false};

Status refused(const std::string& what) {
  return Status::io_error(what + ": the MAPI runtime did a fast shutdown (DoFastShutdown); nothing more is written");
}

// ---- The store file system -------------------------------------------------

class RefusingFile final : public WritableFile {
 public:
  RefusingFile(std::unique_ptr<WritableFile> file, std::string path) : file_(std::move(file)), path_(std::move(path)) {}
  uint64_t size() const override { return file_->size(); }
  Status read(uint64_t offset, size_t len, uint8_t* out) const override { return file_->read(offset, len, out); }
  Status write(uint64_t offset, ByteView data) override {
    if (g_writes_refused) return refused(path_);
    return file_->write(offset, data);
  }
  Status sync() override {
    if (g_writes_refused) return refused(path_);
    return file_->sync();
  }
  Status truncate(uint64_t size) override {
    if (g_writes_refused) return refused(path_);
    return file_->truncate(size);
  }
  Status lock(FileLock which, LockMode mode, const LockWait& wait) override { return file_->lock(which, mode, wait); }
  Result<bool> replaced_at_path() const override { return file_->replaced_at_path(); }

 private:
  std::unique_ptr<WritableFile> file_;
  std::string path_;
};

class RefusingEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> open(const std::string& path, OpenMode mode) override {
    if (g_writes_refused && mode != OpenMode::kExisting) return refused(path);
    PSTKIT_ASSIGN_OR_RETURN(auto file, Env::posix()->open(path, mode));
    return std::unique_ptr<WritableFile>(new RefusingFile(std::move(file), path));
  }
  bool exists(const std::string& path) override { return Env::posix()->exists(path); }
  Status remove(const std::string& path) override {
    if (g_writes_refused) return refused(path);
    return Env::posix()->remove(path);
  }
  Status rename(const std::string& from, const std::string& to) override {
    if (g_writes_refused) return refused(to);
    return Env::posix()->rename(from, to);
  }
  Status sync_dir_of(const std::string& path) override {
    if (g_writes_refused) return refused(path);
    return Env::posix()->sync_dir_of(path);
  }
};

// ---- Background work ---------------------------------------------------------

struct BackgroundWork {
  std::mutex mutex;
  uint64_t next = 1;
  std::map<uint64_t, std::function<void()>> stops;
};
BackgroundWork& background_work() {
  static BackgroundWork* w = new BackgroundWork;  // never destroyed
  return *w;
}

// ---- Providers loaded from libraries -----------------------------------------

// One provider object a library's entry point returned for one session.
struct LoadedProvider {
  uint32_t resource_type = 0;
  LPUNKNOWN object = nullptr;  // IMSProvider, IABProvider or IXPProvider: one reference
  std::string name;            // the library, for messages
  uint64_t sequence = 0;       // logon order
  std::mutex ends_mutex;
  std::vector<std::function<void(bool)>> ends;  // at_provider_end

  ~LoadedProvider() {
    // shutting-down-a-message-store-provider.md: the store logons end
    // (IMSLogon::Logoff, Release) before the provider is shut down.
    const bool calls_allowed = !fast_shutdown_done();
    for (auto& end : ends) end(calls_allowed);
    ends.clear();
    // imsprovider-shutdown.md (and the AB and transport pages): Shutdown
    // just before the provider object is released. Not after a fast
    // shutdown: the process is exiting and providers are ready for it.
    if (calls_allowed) {
      ULONG flags = 0;
      if (resource_type == MAPI_STORE_PROVIDER) static_cast<LPMSPROVIDER>(object)->Shutdown(&flags);
      else if (resource_type == MAPI_AB_PROVIDER) static_cast<LPABPROVIDER>(object)->Shutdown(&flags);
      else if (resource_type == MAPI_TRANSPORT_PROVIDER) static_cast<LPXPPROVIDER>(object)->Shutdown(&flags);
    }
    object->Release();
  }
};

struct LoadedProviders {
  std::mutex mutex;
  uint64_t next = 1;
  std::vector<std::weak_ptr<LoadedProvider>> providers;
};
LoadedProviders& loaded_providers() {
  static LoadedProviders* p = new LoadedProviders;  // never destroyed
  return *p;
}

std::string hex(HRESULT hr) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", unsigned(hr));
  return buf;
}

SessionStatus load_provider_library(const ProviderLogonContext& context, const std::string& dll_name,
                                    uint32_t resource_type, ProviderLogonInfo* info) {
  const char* entry = resource_type == MAPI_STORE_PROVIDER       ? "MSProviderInit"
                      : resource_type == MAPI_AB_PROVIDER        ? "ABProviderInit"
                      : resource_type == MAPI_TRANSPORT_PROVIDER ? "XPProviderInit"
                                                                 : nullptr;
  if (entry == nullptr)
    return SessionStatus::error(session_scode::kLogonFailed,
                                dll_name + ": PR_RESOURCE_TYPE " + std::to_string(resource_type) +
                                    " is not a store, address book or transport provider");
  std::string error;
  void* library = open_shared_library(dll_name.c_str(), &error);
  void* symbol = library != nullptr ? shared_library_symbol(library, entry, &error) : nullptr;
  if (symbol == nullptr) return SessionStatus::error(session_scode::kLogonFailed, dll_name + ": " + error);
  // The three entry points differ only in the type of the object returned.
  auto init = reinterpret_cast<MSPROVIDERINIT*>(symbol);
  ULONG provider_version = 0;
  LPMSPROVIDER object = nullptr;
  const ULONG flags = (context.logon_flags & MAPI_NT_SERVICE) ? MAPI_NT_SERVICE : 0;
  HRESULT hr = init(static_cast<HINSTANCE>(library), MAPIGetDefaultMalloc(), MAPIAllocateBuffer, MAPIAllocateMore,
                    MAPIFreeBuffer, flags, CURRENT_SPI_VERSION, &provider_version, &object);
  if (FAILED(hr) || object == nullptr) {
    if (object != nullptr) object->Release();
    return SessionStatus::error(session_scode::kLogonFailed,
                                dll_name + ": " + entry + " failed (" + hex(FAILED(hr) ? hr : MAPI_E_CALL_FAILED) + ")");
  }
  auto loaded = std::make_shared<LoadedProvider>();
  loaded->resource_type = resource_type;
  loaded->object = object;
  loaded->name = dll_name;
  auto& all = loaded_providers();
  {
    std::lock_guard lock(all.mutex);
    loaded->sequence = all.next++;
    std::erase_if(all.providers, [](const std::weak_ptr<LoadedProvider>& p) { return p.expired(); });
    all.providers.push_back(loaded);
  }
  if (info->display_name.empty() && context.service != nullptr) info->display_name = dll_name;
  // The store's record key in the message stores table, until the store is
  // open: the provider's PR_PROVIDER_UID, which is also the unwrapped store
  // entry ID IMSProvider::Logon is given (store_provider_logon.cpp).
  if (resource_type == MAPI_STORE_PROVIDER && context.provider != nullptr)
    std::copy(context.provider->uid.begin(), context.provider->uid.end(), info->record_key.begin());
  info->provider_object = std::move(loaded);
  return {};
}

// ---- The built-in PST store provider ------------------------------------------

// The PST provider has no provider object of its own (stores are opened by
// path, open_pst_store); this one object answers for it in the process,
// acting on every store open through MAPI (open_stores.h).
class PstProviderShutdown final : public IMAPIProviderShutdown {
 public:
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    if (riid == IID_IUnknown || riid == IID_IMAPIProviderShutdown) {
      *ppv = static_cast<IMAPIProviderShutdown*>(this);
      return S_OK;
    }
    *ppv = nullptr;
    return E_NOINTERFACE;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return 1; }  // static: never freed
  STDMETHODIMP_(ULONG) Release() override { return 1; }

  // The PST provider opts in: whatever it holds can be made durable.
  STDMETHODIMP QueryFastShutdown() override { return S_OK; }

  // Stops background work, then commits what the stores hold, so that
  // DoFastShutdown has as little as possible left to do.
  STDMETHODIMP NotifyProcessShutdown() override {
    std::vector<std::function<void()>> stops;
    {
      auto& w = background_work();
      std::lock_guard lock(w.mutex);
      for (auto& [token, stop] : w.stops) stops.push_back(stop);
    }
    for (auto& stop : stops) stop();
    stop_background_flush();  // write-behind's timed commits: DoFastShutdown commits what is left
    for_each_open_store([](const std::shared_ptr<StoreState>& s) { (void)s->flush(nullptr); });
    return S_OK;
  }

  // Every open store's mutex is taken (no MAPI call is inside an update
  // then), every store is flushed, and only when all are durable are
  // writes refused; an error leaves the runtime as it was.
  STDMETHODIMP DoFastShutdown() override {
    std::vector<std::shared_ptr<StoreState>> stores;
    for_each_open_store([&](const std::shared_ptr<StoreState>& s) { stores.push_back(s); });
    std::vector<std::unique_lock<StoreMutex>> locks;
    for (auto& s : stores) locks.emplace_back(s->mutex);
    for (auto& s : stores) {
      if (FAILED(s->flush(nullptr))) return MAPI_E_CALL_FAILED;
    }
    // A fast shutdown is a clean end: the next open must not report an
    // improper close.
    close_open_records();
    g_writes_refused = true;
    return S_OK;
  }
};

PstProviderShutdown g_pst_provider;

// The PST provider has an active session when a PST service is logged on
// in some session, or a store it opened is still open.
bool pst_provider_active() {
  for (const char* section : {"MSUPST MSP", "MSPST MSP", "PSTKIT OSTP"})
    if (provider_sessions(section) > 0) return true;
  bool any = false;
  for_each_open_store([&](const std::shared_ptr<StoreState>&) { any = true; });
  return any;
}

// One provider the client's calls go to: its object (a reference held) and
// its kind. `shutdown` is null when it does not implement
// IMAPIProviderShutdown.
struct Participant {
  uint32_t resource_type = 0;
  std::shared_ptr<LoadedProvider> loaded;  // keeps a library's provider alive
  LPMAPIPROVIDERSHUTDOWN shutdown = nullptr;
};

int call_rank(uint32_t type) {
  if (type == MAPI_TRANSPORT_PROVIDER) return 0;
  if (type == MAPI_AB_PROVIDER) return 1;
  return 2;
}

// The providers with an active session, in the documented order:
// transports, address books, stores (each kind in logon order; the PST
// provider after the stores of libraries).
class Participants {
 public:
  Participants() {
    auto& all = loaded_providers();
    {
      std::lock_guard lock(all.mutex);
      for (auto& weak : all.providers)
        if (auto p = weak.lock()) list_.push_back({p->resource_type, std::move(p), nullptr});
    }
    std::stable_sort(list_.begin(), list_.end(), [](const Participant& a, const Participant& b) {
      if (call_rank(a.resource_type) != call_rank(b.resource_type))
        return call_rank(a.resource_type) < call_rank(b.resource_type);
      return a.loaded->sequence < b.loaded->sequence;
    });
    for (auto& p : list_) {
      void* iface = nullptr;
      if (p.loaded->object->QueryInterface(IID_IMAPIProviderShutdown, &iface) == S_OK && iface != nullptr)
        p.shutdown = static_cast<LPMAPIPROVIDERSHUTDOWN>(iface);
    }
    if (pst_provider_active()) list_.push_back({MAPI_STORE_PROVIDER, nullptr, &g_pst_provider});
  }
  ~Participants() {
    for (auto& p : list_)
      if (p.shutdown != nullptr) p.shutdown->Release();
  }
  Participants(const Participants&) = delete;
  Participants& operator=(const Participants&) = delete;
  std::vector<Participant>& list() { return list_; }

 private:
  std::vector<Participant> list_;
};

// The process's fast shutdown: one per process, whichever session's
// IMAPIClientShutdown the client calls.
struct ShutdownState {
  std::mutex mutex;
  bool query_ok = false;  // the last QueryFastShutdown returned S_OK
};
ShutdownState& shutdown_state() {
  static ShutdownState* s = new ShutdownState;  // never destroyed
  return *s;
}

class ClientShutdown final : public ComObject<ClientShutdown, IMAPIClientShutdown, IID_IMAPIClientShutdown> {
 public:
  // imapiclientshutdown-queryfastshutdown.md, fast-shutdown-user-options.md.
  STDMETHODIMP QueryFastShutdown() override {
    auto& st = shutdown_state();
    std::lock_guard lock(st.mutex);
    if (!runtime_initialized()) return MAPI_E_NOT_INITIALIZED;
    st.query_ok = false;
    const PolicyReading policy = read_shutdown_policy();
    // 2: "MAPI never calls any provider's QueryFastShutdown".
    if (policy.policy == FastShutdownPolicy::kOff) return MAPI_E_NO_SUPPORT;
    Participants participants;
    bool supported = true;
    for (auto& p : participants.list()) {
      if (p.shutdown == nullptr) {
        // A provider that does not implement the interface does not block
        // fast shutdown under 0; under 1 every provider must opt in.
        if (policy.policy == FastShutdownPolicy::kOnlyIfAllOptIn) supported = false;
        continue;
      }
      // Every provider is asked, even after one opted out: each learns
      // that the client considers a fast shutdown.
      if (p.shutdown->QueryFastShutdown() != S_OK) supported = false;
    }
    st.query_ok = supported;
    return supported ? S_OK : MAPI_E_NO_SUPPORT;
  }

  // imapiclientshutdown-notifyprocessshutdown.md: S_OK, "MAPI has attempted
  // to notify loaded providers". Providers are told only after a
  // QueryFastShutdown that returned S_OK (best-practices-for-fast-shutdown.md:
  // when it did not, "providers were never told").
  STDMETHODIMP NotifyProcessShutdown() override {
    auto& st = shutdown_state();
    std::lock_guard lock(st.mutex);
    if (!runtime_initialized()) return MAPI_E_NOT_INITIALIZED;
    if (!st.query_ok) return S_OK;
    Participants participants;
    for (auto& p : participants.list())
      if (p.shutdown != nullptr) (void)p.shutdown->NotifyProcessShutdown();
    return S_OK;
  }

  // imapiclientshutdown-dofastshutdown.md: S_OK once every provider is
  // ready for the process to exit; MAPI_E_NO_SUPPORT when fast shutdown is
  // not supported (no successful QueryFastShutdown, the policy now says
  // 2, or a provider could not make its data safe — then nothing is
  // refused and the client can still shut down the slow way).
  STDMETHODIMP DoFastShutdown() override {
    auto& st = shutdown_state();
    std::lock_guard lock(st.mutex);
    if (!runtime_initialized()) return MAPI_E_NOT_INITIALIZED;
    if (!st.query_ok || read_shutdown_policy().policy == FastShutdownPolicy::kOff) return MAPI_E_NO_SUPPORT;
    Participants participants;
    bool ready = true;
    for (auto& p : participants.list())
      if (p.shutdown != nullptr && p.shutdown->DoFastShutdown() != S_OK) ready = false;
    if (!ready) return MAPI_E_NO_SUPPORT;
    mark_fast_shutdown_done();
    return S_OK;
  }

 private:
  friend class ComObject<ClientShutdown, IMAPIClientShutdown, IID_IMAPIClientShutdown>;
  ~ClientShutdown() = default;
};

}  // namespace

HRESULT create_client_shutdown(LPMAPICLIENTSHUTDOWN* out) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = new (std::nothrow) ClientShutdown;
  return *out == nullptr ? MAPI_E_NOT_ENOUGH_MEMORY : S_OK;
}

LPMSPROVIDER library_store_provider(const std::shared_ptr<void>& provider_object) {
  // Every provider_object is a LoadedProvider: load_provider_library is the
  // only code that sets one.
  auto* loaded = static_cast<LoadedProvider*>(provider_object.get());
  if (loaded == nullptr || loaded->resource_type != MAPI_STORE_PROVIDER) return nullptr;
  return static_cast<LPMSPROVIDER>(loaded->object);
}

void at_provider_end(const std::shared_ptr<void>& provider_object, std::function<void(bool)> end) {
  auto* loaded = static_cast<LoadedProvider*>(provider_object.get());
  if (loaded == nullptr) return;
  std::lock_guard lock(loaded->ends_mutex);
  loaded->ends.push_back(std::move(end));
}

void install_provider_library_loader() {
  static std::once_flag once;
  std::call_once(once, [] { (void)set_provider_library_loader(load_provider_library); });
}

uint64_t register_background_work(std::function<void()> stop) {
  auto& w = background_work();
  std::lock_guard lock(w.mutex);
  const uint64_t token = w.next++;
  w.stops.emplace(token, std::move(stop));
  return token;
}

void unregister_background_work(uint64_t token) {
  auto& w = background_work();
  std::lock_guard lock(w.mutex);
  w.stops.erase(token);
}

Env* store_env() {
  static RefusingEnv* env = new RefusingEnv;  // never destroyed: stores may outlive statics
  return env;
}

}  // namespace pstkit::mapi::capi
