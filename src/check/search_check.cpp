// MS-PST 2.4.8.3, 2.4.8.4.1: the search management queue (node 0x1E1) is a
// queue node of 20-byte SUDs (2.4.8.1.1): its data is a whole number of
// them, and its NBT nidParent, the byte offset of the queue's head, lies on
// one of them within the data. A queue that breaks either MUST NOT be
// processed, so the search updates in it are lost.
//
// SUD types are not checked: Outlook queues types [MS-PST] does not list.
#include "check/context.h"

namespace pstkit::check {

namespace {

constexpr uint64_t kSudSize = 20;

}  // namespace

void check_search_queue(Context& c) {
  const std::optional<NodeRecord> n = c.find_node(ndb::kNidSearchManagementQueue);
  if (!n) return;
  const ndb::NodeEntry& e = n->entry;
  // Unreadable data was reported by the reference pass.
  auto node = open_checked_node(c, e.nid, e.data_bid, e.subnode_bid);
  if (!node.is_ok()) return;
  const uint64_t size = (*node)->size();
  const uint64_t head = e.parent_nid;
  if (size % kSudSize != 0) {
    c.add(Issue::kSearchQueue, "search queue", n->page, e.nid,
          "node " + hex(e.nid) + " holds " + std::to_string(size) + " bytes, not a whole number of " +
              std::to_string(kSudSize) + "-byte SUDs");
  } else if (head > size || head % kSudSize != 0) {
    c.add(Issue::kSearchQueue, "search queue", n->page, e.nid,
          "node " + hex(e.nid) + " has its head (nidParent) at byte " + std::to_string(head) + " of " +
              std::to_string(size));
  }
}

}  // namespace pstkit::check
