#include "import/gmime_api.h"

#include <mutex>
#include <string>

#include "pstkit/mime_import.h"
#include "util/shared_library.h"

namespace pstkit::mime {
namespace {

GMimeApi api;

Status open_gmime() {
  std::string error;
  void* library = open_shared_library(kGMimeLibrary, &error);
  GMimeApi loaded;
  // A missing function (another major version, a broken install) refuses
  // the whole library: a half-filled table would crash later.
#define PSTKIT_GMIME_RESOLVE(f)                                                                 \
  if (library && !loaded.f) {                                                                   \
    loaded.f = reinterpret_cast<decltype(&::f)>(shared_library_symbol(library, #f, &error));    \
    if (!loaded.f) library = nullptr;                                                           \
  }
  PSTKIT_GMIME_FUNCTIONS(PSTKIT_GMIME_RESOLVE)
#undef PSTKIT_GMIME_RESOLVE
  if (!library) return Status::unsupported(std::string("MIME import and export need GMime 3 (") + kGMimeLibrary + "): " + error);
  api = loaded;
  api.g_mime_init();
  return Status::ok();
}

bool is_a(const void* object, GType (*get_type)()) {
  return object != nullptr &&
         api.g_type_check_instance_is_a(static_cast<GTypeInstance*>(const_cast<void*>(object)), get_type());
}

}  // namespace

Status load_gmime() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = open_gmime(); });
  return status;
}

Status load_mime_parser() { return load_gmime(); }

const GMimeApi& gmime() { return api; }

bool is_part(const void* object) { return is_a(object, api.g_mime_part_get_type); }
bool is_multipart(const void* object) { return is_a(object, api.g_mime_multipart_get_type); }
bool is_message_part(const void* object) { return is_a(object, api.g_mime_message_part_get_type); }
bool is_address_mailbox(const void* object) { return is_a(object, api.internet_address_mailbox_get_type); }
bool is_address_group(const void* object) { return is_a(object, api.internet_address_group_get_type); }

}  // namespace pstkit::mime
