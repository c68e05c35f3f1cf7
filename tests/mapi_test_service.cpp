// A third-party message service for tests/mapi_admin_test.cpp: a shared
// library with MSGSERVICEENTRY entry points (msgserviceentry.md) that the
// runtime loads with dlopen from the catalog's PR_SERVICE_DLL_NAME. It only
// makes vtable calls (no pstkit symbol), and appends what it was asked to
// the file named by $PSTKIT_TEST_SERVICE_LOG, one line per call:
// "CONTEXT FLAGS VALUE" (VALUE: the PR_TEST_SERVER string it was given).
#include <mapix.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr ULONG kCreate = 2, kConfigure = 3;  // MSG_SERVICE_CREATE, MSG_SERVICE_CONFIGURE
constexpr ULONG PR_TEST_SERVER = PROP_TAG(PT_STRING8, 0x6601);

void log_call(ULONG context, ULONG flags, const char* value) {
  const char* path = std::getenv("PSTKIT_TEST_SERVICE_LOG");
  if (path == nullptr) return;
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%lu %lx %s\n", static_cast<unsigned long>(context), static_cast<unsigned long>(flags),
                 value != nullptr ? value : "-");
    std::fclose(f);
  }
}

}  // namespace

// Create: adds a second provider (IProviderAdmin::CreateProvider from the
// catalog's "TESTSVC EXTRA" section). Configure: PR_TEST_SERVER is
// required; without it (and without UI) the service is unconfigured.
extern "C" HRESULT STDAPICALLTYPE TestServiceEntry(HINSTANCE, LPMALLOC, void*, ULONG_PTR, ULONG ulFlags,
                                                   ULONG ulContext, ULONG cValues, LPSPropValue lpProps,
                                                   LPPROVIDERADMIN lpProviderAdmin, LPMAPIERROR* lppMapiError) {
  if (lppMapiError != nullptr) *lppMapiError = nullptr;
  const char* server = nullptr;
  for (ULONG i = 0; i < cValues && lpProps != nullptr; ++i) {
    if (lpProps[i].ulPropTag == PR_TEST_SERVER) server = lpProps[i].Value.lpszA;
  }
  log_call(ulContext, ulFlags, server);
  if (ulContext == kCreate) {
    if (lpProviderAdmin == nullptr) return MAPI_E_INVALID_PARAMETER;
    MAPIUID uid{};
    char name[] = "TESTSVC EXTRA";
    return lpProviderAdmin->CreateProvider(reinterpret_cast<LPTSTR>(name), 0, nullptr, 0, 0, &uid);
  }
  if (ulContext == kConfigure && server == nullptr) return MAPI_E_UNCONFIGURED;
  return S_OK;
}

// A service whose entry point always fails.
extern "C" HRESULT STDAPICALLTYPE FailingServiceEntry(HINSTANCE, LPMALLOC, void*, ULONG_PTR, ULONG ulFlags,
                                                      ULONG ulContext, ULONG, LPSPropValue, LPPROVIDERADMIN,
                                                      LPMAPIERROR* lppMapiError) {
  if (lppMapiError != nullptr) *lppMapiError = nullptr;
  log_call(ulContext, ulFlags, "fail");
  return MAPI_E_CALL_FAILED;
}
