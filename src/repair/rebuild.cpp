// rebuild(): a new file at dest_path from whatever source still holds
// (include/pstkit/repair.h): copy_nodes, then fix_store, then the final
// commit. A rebuild that fails leaves no file behind.
#include "pstkit/ndb_writer.h"
#include "pstkit/repair.h"

namespace pstkit::repair {

Result<RebuildReport> rebuild(const ndb::Database& source, const std::string& dest_path,
                              const RebuildOptions& options) {
  if (options.format == ndb::FileFormat::kUnicode4k) {
    return Status::unsupported("rebuilding into a 4K-page OST (pstkit writes ANSI and Unicode PSTs)");
  }
  Env* env = options.env ? options.env : Env::posix();
  if (env->exists(dest_path)) return Status::io_error(dest_path + ": exists; a rebuild writes a new file");
  ndb::CreateOptions create;
  create.format = options.format;
  create.crypt = options.crypt;
  ndb::WriterOptions writer;
  writer.env = env;
  RebuildReport report;
  Status s;
  {
    PSTKIT_ASSIGN_OR_RETURN(auto dest, ndb::WritableDatabase::create(dest_path, create, writer));
    if (options.on_stage) options.on_stage("copy");
    s = copy_nodes(source, *dest, options, &report);
    if (s.is_ok()) {
      if (options.on_stage) options.on_stage("fix");
      s = fix_store(*dest, options, &report);
    }
    if (s.is_ok()) s = dest->commit();
    // The writer closes (and releases its lock) before the file is removed
    // or handed back.
  }
  if (!s.is_ok()) {
    (void)env->remove(dest_path + "-journal.tmp");
    (void)env->remove(dest_path + "-journal");
    (void)env->remove(dest_path);
    return s;
  }
  // What every NDB-level finding of the source (pages, blocks, maps,
  // reference counts, header totals) came to: a new file laid out afresh.
  Change rebuilt;
  rebuilt.code = "STORE_REBUILT";
  rebuilt.structure = "file";
  rebuilt.action = "written anew: B-trees, allocation maps, reference counts and header of " +
                   std::to_string(report.nodes_copied) + " nodes copied (" + std::to_string(report.nodes_lost) +
                   " unreadable) and the store fixed";
  ++report.changes;
  if (options.on_change) options.on_change(rebuilt);
  return report;
}

}  // namespace pstkit::repair
