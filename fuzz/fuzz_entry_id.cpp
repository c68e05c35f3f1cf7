// Fuzzes the PST entry ID decoder (pstkit/mapi_entry_id.h). The first 16
// bytes are the store's provider UID, the rest is split in two entry IDs at
// a byte the input picks. Any input must yield a Status, never a crash; a
// decoded ID must re-encode to the same NID and compare equal to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pstkit/mapi_entry_id.h"

using namespace pstkit;
using namespace pstkit::mapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 17) return 0;
  ProviderUid store{};
  for (size_t i = 0; i < store.size(); ++i) store[i] = data[i];
  const size_t split = data[16];
  const ByteView rest(data + 17, size - 17);
  const ByteView a = rest.sub(0, split);
  const ByteView b = rest.sub(split);

  auto nid = decode_entry_id(a, store);
  (void)entry_id_scode(nid.status());
  if (nid.is_ok()) {
    auto again = decode_entry_id(encode_entry_id(store, *nid), store);
    if (!again.is_ok() || *again != *nid) std::abort();
    auto same = compare_entry_ids(a, a, store);
    if (!same.is_ok() || !*same) std::abort();
  }
  auto equal = compare_entry_ids(a, b, store);
  (void)entry_id_scode(equal.status());
  return 0;
}
