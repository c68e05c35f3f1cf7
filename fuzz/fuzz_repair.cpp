// Fuzzes the rebuild engine (pstkit/repair.h), what `pstkit repair` and
// `pstkit recover` run: a mutated store image is opened as open_for_rebuild
// opens a file (the salvaged index, over a header inferred from the image
// when its own does not parse), rebuilt into an in-memory file (through the Env seam), and the
// result must check clean; a rebuild may fail only with a Status. Any input
// must never crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "../tests/fault_env.h"
#include "pstkit/check.h"
#include "pstkit/ndb_salvage.h"
#include "pstkit/repair.h"

using namespace pstkit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t{8} << 20)) return 0;
  ndb::Options options;
  options.cache_bytes = 1 << 20;
  ndb::SalvageOptions salvage;
  salvage.include_deleted = size % 2 == 1;  // both policies, chosen by the input
  auto db = ndb::open_salvaged_inferring_memory(Bytes(data, data + size), options, salvage);
  if (!db) return 0;

  testing::FaultEnv env;  // never armed: an in-memory file system
  repair::RebuildOptions rebuild;
  rebuild.env = &env;
  rebuild.include_deleted = salvage.include_deleted;
  // As repair_file does: ANSI stays ANSI; a 4K-page OST becomes Unicode.
  const ndb::Header& h = (*db)->header();
  rebuild.format = h.format == ndb::FileFormat::kAnsi ? ndb::FileFormat::kAnsi : ndb::FileFormat::kUnicode;
  rebuild.crypt = h.crypt;
  auto report = repair::rebuild(**db, "rebuilt.pst", rebuild);
  if (!report) {
    // A reported failure leaves no file behind.
    if (env.exists("rebuilt.pst")) {
      std::fprintf(stderr, "failed rebuild left its file: %s\n", report.status().message().c_str());
      std::abort();
    }
    return 0;
  }
  auto rebuilt = ndb::Database::open_memory(env.files()["rebuilt.pst"].current);
  if (!rebuilt) {
    std::fprintf(stderr, "rebuilt file does not open: %s\n", rebuilt.status().message().c_str());
    std::abort();
  }
  const check::Report checked = check::check_database(**rebuilt);
  if (checked.errors > 0) {
    for (const check::Finding& f : checked.findings) {
      if (f.severity == check::Severity::kError) {
        std::fprintf(stderr, "rebuilt file: %s %s: %s\n", f.code.c_str(), f.structure.c_str(), f.message.c_str());
      }
    }
    std::abort();
  }
  return 0;
}
