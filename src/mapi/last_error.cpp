// GetLastError's record and MAPIERROR (last_error.h).
#include "mapi/last_error.h"

#include <cstring>

#include "mapi/capi_convert.h"

namespace pstkit::mapi::capi {

HRESULT LastError::set(HRESULT hr, std::string detail) {
  std::lock_guard lock(mutex_);
  code_ = hr;
  detail_ = std::move(detail);
  return hr;
}

HRESULT LastError::get(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) const {
  if (ulFlags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
  if (lppMAPIError == nullptr) return MAPI_E_INVALID_PARAMETER;
  *lppMAPIError = nullptr;
  std::string detail;
  {
    std::lock_guard lock(mutex_);
    if (hResult != code_ || detail_.empty()) return S_OK;
    detail = detail_;
  }
  return make_mapi_error(detail, component_, ulFlags, lppMAPIError);
}

HRESULT make_mapi_error(const std::string& detail, const char* component, ULONG ulFlags, LPMAPIERROR* out) {
  void* p = nullptr;
  if (SCODE sc = MAPIAllocateBuffer(sizeof(MAPIERROR), &p); sc != S_OK) return sc;
  auto* err = static_cast<LPMAPIERROR>(p);
  std::memset(err, 0, sizeof *err);
  err->ulVersion = MAPI_ERROR_VERSION;
  const bool wide = (ulFlags & MAPI_UNICODE) != 0;
  SCODE sc = copy_mapi_string(detail, wide, p, &err->lpszError);
  if (sc == S_OK) sc = copy_mapi_string(component, wide, p, &err->lpszComponent);
  if (sc != S_OK) {
    MAPIFreeBuffer(p);
    return sc;
  }
  *out = err;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
