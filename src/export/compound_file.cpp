#include "export/compound_file.h"

#include "export/gsf_api.h"

namespace pstkit::cfb {
namespace {

using gsf::gsf;

// Unreferences a GObject when it goes out of scope.
struct Unref {
  void* object;
  ~Unref() {
    if (object) gsf().g_object_unref(object);
  }
};

// Writes `storage`'s streams and storages into `out` (a storage already
// created) and closes it. libgsf sorts the directory entries itself; the
// maps give a fixed order of the data.
bool write_storage(GsfOutfile* out, const Storage& storage) {
  bool ok = true;
  bool any_clsid = false;
  for (uint8_t b : storage.clsid) any_clsid |= b != 0;
  if (any_clsid) ok &= gsf().gsf_outfile_msole_set_class_id(GSF_OUTFILE_MSOLE(out), storage.clsid.data()) != 0;
  for (const auto& [name, data] : storage.streams) {
    GsfOutput* child = gsf().gsf_outfile_new_child(out, name.c_str(), FALSE);
    if (!child) return false;
    Unref release{child};
    if (!data.empty()) ok &= gsf().gsf_output_write(child, data.size(), data.data()) != 0;
    ok &= gsf().gsf_output_close(child) != 0;
  }
  for (const auto& [name, sub] : storage.storages) {
    GsfOutput* child = gsf().gsf_outfile_new_child(out, name.c_str(), TRUE);
    if (!child) return false;
    Unref release{child};
    ok &= write_storage(GSF_OUTFILE(child), sub);
  }
  ok &= gsf().gsf_output_close(GSF_OUTPUT(out)) != 0;
  return ok;
}

}  // namespace

Result<Bytes> write_compound_file(const Storage& root) {
  PSTKIT_RETURN_IF_ERROR(gsf::load_gsf());
  GsfOutput* memory = gsf().gsf_output_memory_new();
  if (!memory) return Status::io_error("compound file: cannot create a memory output");
  Unref release_memory{memory};
  // The defaults are what .msg files use: version 3, 512-byte sectors,
  // 64-byte mini sectors.
  GsfOutfile* ole = gsf().gsf_outfile_msole_new(memory);
  if (!ole) return Status::io_error("compound file: libgsf refused the output");
  Unref release_ole{ole};
  // Closing the root storage writes the header, FAT, directory and mini
  // stream, and closes the memory output.
  if (!write_storage(ole, root)) {
    const GError* error = gsf().gsf_output_error(GSF_OUTPUT(ole));
    return Status::io_error(std::string("compound file: writing failed") + (error ? std::string(": ") + error->message : ""));
  }
  const guint8* bytes = gsf().gsf_output_memory_get_bytes(GSF_OUTPUT_MEMORY(memory));
  const gsf_off_t size = gsf().gsf_output_size(memory);
  if (!bytes || size <= 0) return Status::io_error("compound file: libgsf wrote nothing");
  return Bytes(bytes, bytes + size);
}

}  // namespace pstkit::cfb
