// GMime (with GLib and GObject), opened on first use. Only MIME import
// (parsing) and export (writing) use MIME, but linking GMime made every
// command load it and its eight dependencies at start; libgmime-3.0.so.0 is
// now dlopen'ed the first time a message is parsed or written, and every
// GMime and GLib function of src/import and src/export is called through the
// table below. Only files of those two include this, and they include GMime
// only through it.
#pragma once

// The cast macros (GMIME_PART(obj)...) become plain casts instead of calls to
// g_type_check_instance_cast; type tests go through the is_* helpers below.
#ifndef G_DISABLE_CAST_CHECKS
#define G_DISABLE_CAST_CHECKS
#endif
#include <gmime/gmime.h>

#include "pstkit/status.h"

namespace pstkit::mime {

// Every GMime, GObject and GLib function src/import and src/export call. Each pointer has
// the prototype of the library's header (decltype), so calls are checked
// as if the functions were linked.
#define PSTKIT_GMIME_FUNCTIONS(X)                    \
  X(g_mime_init)                                     \
  X(g_mime_content_type_get_media_subtype)           \
  X(g_mime_content_type_get_mime_type)               \
  X(g_mime_data_wrapper_write_to_stream)             \
  X(g_mime_header_get_name)                          \
  X(g_mime_header_get_raw_value)                     \
  X(g_mime_header_get_value)                         \
  X(g_mime_header_list_get_count)                    \
  X(g_mime_header_list_get_header)                   \
  X(g_mime_header_list_get_header_at)                \
  X(g_mime_header_set_raw_value)                     \
  X(g_mime_message_get_addresses)                    \
  X(g_mime_message_get_date)                         \
  X(g_mime_message_get_from)                         \
  X(g_mime_message_get_mime_part)                    \
  X(g_mime_message_get_reply_to)                     \
  X(g_mime_message_get_sender)                       \
  X(g_mime_message_get_subject)                      \
  X(g_mime_message_part_get_message)                 \
  X(g_mime_message_part_get_type)                    \
  X(g_mime_multipart_get_count)                      \
  X(g_mime_multipart_get_part)                       \
  X(g_mime_multipart_get_prologue)                   \
  X(g_mime_multipart_get_type)                       \
  X(g_mime_object_get_content_disposition_parameter) \
  X(g_mime_object_get_content_id)                    \
  X(g_mime_object_get_content_type)                  \
  X(g_mime_object_get_content_type_parameter)        \
  X(g_mime_object_get_disposition)                   \
  X(g_mime_object_get_header)                        \
  X(g_mime_object_get_header_list)                   \
  X(g_mime_object_get_headers)                       \
  X(g_mime_object_write_content_to_stream)           \
  X(g_mime_object_write_to_stream)                   \
  X(g_mime_parser_construct_message)                 \
  X(g_mime_parser_construct_part)                    \
  X(g_mime_parser_new_with_stream)                   \
  X(g_mime_parser_options_free)                      \
  X(g_mime_parser_options_new)                       \
  X(g_mime_parser_options_set_fallback_charsets)     \
  X(g_mime_parser_options_set_warning_callback)      \
  X(g_mime_parser_set_format)                        \
  X(g_mime_part_get_content)                         \
  X(g_mime_part_get_content_description)             \
  X(g_mime_part_get_content_location)                \
  X(g_mime_part_get_filename)                        \
  X(g_mime_part_get_type)                            \
  X(g_mime_stream_mem_get_byte_array)                \
  X(g_mime_stream_mem_new)                           \
  X(g_mime_stream_mem_new_with_buffer)               \
  X(g_mime_stream_mem_new_with_byte_array)           \
  X(g_mime_stream_mem_set_owner)                     \
  X(g_mime_utils_header_decode_date)                 \
  X(internet_address_get_name)                       \
  X(internet_address_group_get_members)              \
  X(internet_address_group_get_type)                 \
  X(internet_address_list_get_address)               \
  X(internet_address_list_length)                    \
  X(internet_address_mailbox_get_addr)               \
  X(internet_address_mailbox_get_type)               \
  X(internet_address_list_parse)                     \
  X(internet_address_list_to_string)                 \
  X(internet_address_mailbox_new)                    \
  X(internet_address_to_string)                      \
  X(g_object_unref)                                  \
  X(g_type_check_instance_is_a)                      \
  X(g_base64_decode)                                 \
  X(g_base64_encode)                                 \
  X(g_byte_array_free)                               \
  X(g_byte_array_new_take)                           \
  X(g_convert)                                       \
  X(g_date_time_to_unix)                             \
  X(g_date_time_unref)                               \
  X(g_error_free)                                    \
  X(g_free)

struct GMimeApi {
#define PSTKIT_GMIME_POINTER(f) decltype(&::f) f = nullptr;
  PSTKIT_GMIME_FUNCTIONS(PSTKIT_GMIME_POINTER)
#undef PSTKIT_GMIME_POINTER
};

// The name import loads GMime by (the soname of GMime 3).
inline constexpr const char* kGMimeLibrary = "libgmime-3.0.so.0";

// Opens GMime, resolves the table and runs g_mime_init, once per process
// (thread-safe). The error, when GMime cannot be loaded, is returned on
// every call: "MIME import and export need GMime 3 (libgmime-3.0.so.0): <dlerror>".
Status load_gmime();

// The table. Only valid after load_gmime() returned ok: every path into
// GMime starts at message_from_mime, which checks.
const GMimeApi& gmime();

// Type tests (the GMIME_IS_* / INTERNET_ADDRESS_IS_* macros call the
// *_get_type functions directly). False for null.
bool is_part(const void* object);
bool is_multipart(const void* object);
bool is_message_part(const void* object);
bool is_address_mailbox(const void* object);
bool is_address_group(const void* object);

}  // namespace pstkit::mime
