#include "export/gsf_api.h"

#include <mutex>
#include <string>

#include "util/shared_library.h"

namespace pstkit::gsf {
namespace {

GsfApi api;

Status open_gsf() {
  std::string error;
  void* library = open_shared_library(kGsfLibrary, &error);
  GsfApi loaded;
  // A missing function refuses the whole library: a half-filled table
  // would crash later. g_object_unref is GObject's, found through libgsf's
  // dependencies.
#define PSTKIT_GSF_RESOLVE(f)                                                                \
  if (library && !loaded.f) {                                                                \
    loaded.f = reinterpret_cast<decltype(&::f)>(shared_library_symbol(library, #f, &error)); \
    if (!loaded.f) library = nullptr;                                                        \
  }
  PSTKIT_GSF_FUNCTIONS(PSTKIT_GSF_RESOLVE)
#undef PSTKIT_GSF_RESOLVE
  if (!library) return Status::unsupported(std::string("MSG export needs libgsf (") + kGsfLibrary + "): " + error);
  api = loaded;
  api.gsf_init();
  return Status::ok();
}

}  // namespace

Status load_gsf() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = open_gsf(); });
  return status;
}

const GsfApi& gsf() { return api; }

}  // namespace pstkit::gsf
