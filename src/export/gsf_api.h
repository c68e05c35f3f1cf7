// libgsf (with GLib and GObject), opened on first use as GMime is
// (src/import/gmime_api.h): only the MSG export writes compound files, so
// no other command loads libgsf and its dependencies. Every libgsf and
// GObject function src/export calls goes through the table below; only
// compound_file.cpp includes this.
#pragma once

// The cast macros (GSF_OUTPUT(obj)...) become plain casts instead of calls
// to g_type_check_instance_cast, which is not in the table.
#ifndef G_DISABLE_CAST_CHECKS
#define G_DISABLE_CAST_CHECKS
#endif
#include <gsf/gsf.h>

#include "pstkit/status.h"

namespace pstkit::gsf {

// Each pointer has the prototype of the library's header (decltype).
#define PSTKIT_GSF_FUNCTIONS(X)      \
  X(gsf_init)                        \
  X(gsf_output_memory_new)           \
  X(gsf_output_memory_get_bytes)     \
  X(gsf_output_size)                 \
  X(gsf_output_write)                \
  X(gsf_output_close)                \
  X(gsf_output_error)                \
  X(gsf_outfile_new_child)           \
  X(gsf_outfile_msole_new)           \
  X(gsf_outfile_msole_set_class_id)  \
  X(g_object_unref)

struct GsfApi {
#define PSTKIT_GSF_POINTER(f) decltype(&::f) f = nullptr;
  PSTKIT_GSF_FUNCTIONS(PSTKIT_GSF_POINTER)
#undef PSTKIT_GSF_POINTER
};

// The soname of libgsf 1.14.
inline constexpr const char* kGsfLibrary = "libgsf-1.so.114";

// Opens libgsf and resolves the table, once per process (thread-safe). The
// error, when it cannot be loaded, is returned on every call: "MSG export
// needs libgsf (libgsf-1.so.114): <dlerror>".
Status load_gsf();

// The table; valid after load_gsf() returned ok.
const GsfApi& gsf();

}  // namespace pstkit::gsf
