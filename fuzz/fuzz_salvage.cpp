// Fuzzes salvage (pstkit/ndb_salvage.h) on a file image: the tolerant
// B-tree walk, the scan for intact blocks and NBT pages, the merged index,
// and the whole reading stack over it.
#include <cstddef>
#include <cstdint>

#include "pstkit/ndb_salvage.h"
#include "store_walk.h"

using namespace pstkit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ndb::Options options;
  options.cache_bytes = 1 << 20;
  ndb::SalvageOptions salvage;
  salvage.include_deleted = size % 2 == 1;  // both policies, chosen by the input
  ndb::SalvageReport report;
  auto db = ndb::open_salvaged_memory(Bytes(data, data + size), options, salvage, &report);
  if (!db) return 0;
  fuzz::walk_store(std::move(*db));
  return 0;
}
