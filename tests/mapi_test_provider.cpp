// Third-party service providers for tests/mapi_fast_shutdown_test.cpp: a
// shared library with the three provider entry points (MSProviderInit,
// ABProviderInit, XPProviderInit; msproviderinit.md & co.) that the runtime
// loads with dlopen from a provider's PR_PROVIDER_DLL_NAME. CMake builds it
// once per behaviour (TEST_PROVIDER_MODE), so that the catalog chooses the
// behaviour of each provider by the library it names:
//   optin     implements IMAPIProviderShutdown; QueryFastShutdown S_OK
//   optout    implements it; QueryFastShutdown MAPI_E_NO_SUPPORT
//   none      does not implement it (QueryInterface: E_NOINTERFACE)
//   failinit  its entry points fail (MAPI_E_CALL_FAILED)
// It only makes vtable calls (no pstkit symbol) and appends one line per
// call to $PSTKIT_TEST_PROVIDER_LOG: "KIND-MODE METHOD", KIND being store,
// ab or transport.
#include <mapix.h>
#include <mapispi.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#ifndef TEST_PROVIDER_MODE
#error "TEST_PROVIDER_MODE must name the behaviour"
#endif

namespace {

const std::string kMode = TEST_PROVIDER_MODE;

void log_call(const char* kind, const char* method) {
  const char* path = std::getenv("PSTKIT_TEST_PROVIDER_LOG");
  if (path == nullptr) return;
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s-%s %s\n", kind, kMode.c_str(), method);
    std::fclose(f);
  }
}

// IUnknown and IMAPIProviderShutdown for a provider object of interface
// Provider (its own methods are added by the derived class).
template <typename Provider>
class TestProvider : public Provider, public IMAPIProviderShutdown {
 public:
  explicit TestProvider(const char* kind) : kind_(kind) {}

  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    *ppv = nullptr;
    if (riid == IID_IUnknown) {
      *ppv = static_cast<Provider*>(this);
    } else if (riid == IID_IMAPIProviderShutdown) {
      if (kMode == "none") return E_NOINTERFACE;
      *ppv = static_cast<IMAPIProviderShutdown*>(this);
    } else {
      return E_NOINTERFACE;
    }
    AddRef();
    return S_OK;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override {
    const ULONG left = --refs_;
    if (left == 0) {
      log_call(kind_, "Release");
      delete this;
    }
    return left;
  }

  // imapiprovidershutdown-*.md
  STDMETHODIMP QueryFastShutdown() override {
    log_call(kind_, "QueryFastShutdown");
    return kMode == "optout" ? MAPI_E_NO_SUPPORT : S_OK;
  }
  STDMETHODIMP NotifyProcessShutdown() override {
    log_call(kind_, "NotifyProcessShutdown");
    return S_OK;
  }
  STDMETHODIMP DoFastShutdown() override {
    log_call(kind_, "DoFastShutdown");
    return S_OK;
  }

  // IMSProvider/IABProvider/IXPProvider::Shutdown.
  STDMETHODIMP Shutdown(ULONG* lpulFlags) override {
    log_call(kind_, lpulFlags != nullptr && *lpulFlags == 0 ? "Shutdown" : "Shutdown(bad flags)");
    return S_OK;
  }

 protected:
  virtual ~TestProvider() = default;
  const char* kind_;

 private:
  std::atomic<ULONG> refs_{1};
};

class StoreProvider final : public TestProvider<IMSProvider> {
 public:
  StoreProvider() : TestProvider("store") {}
  STDMETHODIMP Logon(LPMAPISUP, ULONG_PTR, LPSTR, ULONG, LPENTRYID, ULONG, LPCIID, ULONG*, LPBYTE*, LPMAPIERROR*,
                     LPMSLOGON*, LPMDB*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP SpoolerLogon(LPMAPISUP, ULONG_PTR, LPSTR, ULONG, LPENTRYID, ULONG, LPCIID, ULONG, LPBYTE,
                            LPMAPIERROR*, LPMSLOGON*, LPMDB*) override {
    return MAPI_E_NO_SUPPORT;
  }
  STDMETHODIMP CompareStoreIDs(ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG, ULONG*) override {
    return MAPI_E_NO_SUPPORT;
  }
};

class AbProvider final : public TestProvider<IABProvider> {
 public:
  AbProvider() : TestProvider("ab") {}
  STDMETHODIMP Logon(LPMAPISUP, ULONG_PTR, LPSTR, ULONG, ULONG*, LPBYTE*, LPMAPIERROR*, LPABLOGON*) override {
    return MAPI_E_NO_SUPPORT;
  }
};

class TransportProvider final : public TestProvider<IXPProvider> {
 public:
  TransportProvider() : TestProvider("transport") {}
  STDMETHODIMP TransportLogon(LPMAPISUP, ULONG_PTR, LPSTR, ULONG*, LPMAPIERROR*, LPXPLOGON*) override {
    return MAPI_E_NO_SUPPORT;
  }
};

template <typename Object, typename Out>
HRESULT init(const char* kind, ULONG ulMAPIVer, ULONG* lpulProviderVer, Out** out) {
  log_call(kind, "Init");
  if (lpulProviderVer == nullptr || out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  *lpulProviderVer = CURRENT_SPI_VERSION;
  if (ulMAPIVer < CURRENT_SPI_VERSION) return MAPI_E_VERSION;
  if (kMode == "failinit") return MAPI_E_CALL_FAILED;
  *out = new Object;
  return S_OK;
}

}  // namespace

extern "C" HRESULT STDAPICALLTYPE MSProviderInit(HINSTANCE, LPMALLOC, LPALLOCATEBUFFER, LPALLOCATEMORE, LPFREEBUFFER,
                                                 ULONG, ULONG ulMAPIVer, ULONG* lpulProviderVer,
                                                 LPMSPROVIDER* lppMSProvider) {
  return init<StoreProvider>("store", ulMAPIVer, lpulProviderVer, lppMSProvider);
}

extern "C" HRESULT STDAPICALLTYPE ABProviderInit(HINSTANCE, LPMALLOC, LPALLOCATEBUFFER, LPALLOCATEMORE, LPFREEBUFFER,
                                                 ULONG, ULONG ulMAPIVer, ULONG* lpulProviderVer,
                                                 LPABPROVIDER* lppABProvider) {
  return init<AbProvider>("ab", ulMAPIVer, lpulProviderVer, lppABProvider);
}

extern "C" HRESULT STDAPICALLTYPE XPProviderInit(HINSTANCE, LPMALLOC, LPALLOCATEBUFFER, LPALLOCATEMORE, LPFREEBUFFER,
                                                 ULONG, ULONG ulMAPIVer, ULONG* lpulProviderVer,
                                                 LPXPPROVIDER* lppXPProvider) {
  return init<TransportProvider>("transport", ulMAPIVer, lpulProviderVer, lppXPProvider);
}
