// GetLastError for every object of the MAPI runtime (imapiprop-getlasterror.md,
// imapisession-getlasterror.md, imapitable-getlasterror.md, ...): the last
// failure an object recorded and the MAPIERROR that describes it. Internal
// to src/mapi.
#pragma once

#include <mutex>
#include <string>

#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {

class LastError {
 public:
  // `component` is what MAPIERROR's lpszComponent names.
  explicit LastError(const char* component = "pstkit") : component_(component) {}

  // Records `hr` with its explanation and returns hr.
  HRESULT set(HRESULT hr, std::string detail);
  // GetLastError: MAPI_UNICODE is the only flag; no information about
  // hResult (not the last error recorded) is S_OK with a null *lppMAPIError.
  HRESULT get(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) const;

 private:
  const char* component_;
  mutable std::mutex mutex_;
  HRESULT code_ = S_OK;
  std::string detail_;
};

// A MAPIERROR (one MAPIAllocateBuffer block) carrying `detail`, its strings
// wide under MAPI_UNICODE.
HRESULT make_mapi_error(const std::string& detail, const char* component, ULONG ulFlags, LPMAPIERROR* out);

}  // namespace pstkit::mapi::capi
