// MS-PST 2.3.3.2 HNID: a value stored in the heap (HID) or in a subnode (NID).
#include "pstkit/ltp.h"

namespace pstkit::ltp {

Result<Bytes> read_hnid(const Heap& heap, Hnid hnid, uint64_t max_bytes) {
  if (hnid == 0) return Bytes{};
  if (hnid_is_hid(hnid)) {
    PSTKIT_ASSIGN_OR_RETURN(ByteView v, heap.get(hnid));
    if (v.size() > max_bytes) {
      return Status::unsupported("heap value " + hex(hnid) + " exceeds the value size limit");
    }
    return v.to_bytes();
  }
  auto sub = heap.node().subnode(hnid);
  if (!sub.is_ok()) {
    return sub.status().with_context("node " + hex(heap.nid()) + " value subnode " + hex(hnid));
  }
  if (!*sub) {
    return Status::corrupt("subnode", Status::kNoOffset,
                           "node " + hex(heap.nid()) + ": subnode " + hex(hnid) + " missing");
  }
  auto bytes = (*sub)->read_all(max_bytes);
  if (!bytes.is_ok()) {
    return bytes.status().with_context("node " + hex(heap.nid()) + " value subnode " + hex(hnid));
  }
  return std::move(bytes).value();
}

}  // namespace pstkit::ltp
