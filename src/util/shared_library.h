// Libraries that only some operations need, opened on first use instead of
// linked, so that the others do not pay for loading them at every start:
// ICU for code page detection (src/util/codepage.cpp), GMime and GLib for
// MIME parsing (src/import/gmime_api.h).
#pragma once

#include <string>

namespace pstkit {

// Opens a shared library (dlopen, RTLD_NOW | RTLD_LOCAL) for the rest of the
// process: it is never closed, since GLib cannot be unloaded and a library
// that was needed once is likely needed again. Null on failure, with
// *error set to dlerror()'s text.
void* open_shared_library(const char* name, std::string* error);

// The address of `symbol` in a library from open_shared_library; null on
// failure, with *error set to dlerror()'s text.
void* shared_library_symbol(void* library, const char* symbol, std::string* error);

// The name of a symbol as a string literal after macro expansion, for the
// symbols of libraries whose headers rename them (ICU: ucsdet_open becomes
// ucsdet_open_72).
#define PSTKIT_SYMBOL_NAME(symbol) PSTKIT_SYMBOL_NAME_LITERAL(symbol)
#define PSTKIT_SYMBOL_NAME_LITERAL(symbol) #symbol

}  // namespace pstkit
