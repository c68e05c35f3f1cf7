// Fuzzes the whole reading stack on a file image: header, both B-trees,
// blocks, heaps, property and table contexts, folders, messages,
// recipients, attachments (data hashed block by block) and bodies.
#include <cstddef>
#include <cstdint>

#include "store_walk.h"

using namespace pstkit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ndb::Options options;
  options.cache_bytes = 1 << 20;
  auto db = ndb::Database::open_memory(Bytes(data, data + size), options);
  if (!db) return 0;
  fuzz::walk_store(std::move(*db));
  return 0;
}
