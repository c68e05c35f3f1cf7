#include "util/shared_library.h"

#include <dlfcn.h>

namespace pstkit {

namespace {
std::string last_dl_error() {
  const char* e = dlerror();
  return e ? e : "unknown dlopen error";
}
}  // namespace

void* open_shared_library(const char* name, std::string* error) {
  void* library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!library && error) *error = last_dl_error();
  return library;
}

void* shared_library_symbol(void* library, const char* symbol, std::string* error) {
  dlerror();  // clear a stale error: a symbol's value may legitimately be null
  void* address = dlsym(library, symbol);
  if (!address && error) *error = last_dl_error();
  return address;
}

}  // namespace pstkit
