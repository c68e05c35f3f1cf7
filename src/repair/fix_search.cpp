// fix_store, search state (MS-PST 2.4.8): Outlook rebuilds search folders
// and its index from the search management queue, so damaged search state
// is reset rather than mended: a queue that MUST NOT be processed (2.4.8.3:
// not a whole number of SUDs, or its head off a SUD) is emptied, and a
// search folder whose contents table cannot be read or lists messages that
// are gone gets an empty table and an empty update queue, which Outlook
// fills again from the folder's criteria.
#include <optional>

#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "repair/fix_store_internal.h"

namespace pstkit::repair {

namespace {

constexpr uint64_t kSudSize = 20;  // MS-PST 2.4.8.1.1

}  // namespace

Status StoreFixer::fix_search_queue() {
  const Nid nid = ndb::kNidSearchManagementQueue;
  auto entry = db_.find_node(nid);
  if (!entry) return Status::ok();  // ensure_required made it when missing
  auto node = db_.open_node(nid);
  std::string defect;
  if (!node) {
    defect = node.status().message();
  } else {
    const uint64_t size = (*node)->size();
    const uint64_t head = entry->parent_nid;
    if (size % kSudSize != 0) {
      defect = std::to_string(size) + " bytes, not a whole number of SUDs";
    } else if (head > size || head % kSudSize != 0) {
      defect = "head at byte " + std::to_string(head) + " of " + std::to_string(size);
    }
  }
  if (defect.empty()) return Status::ok();
  // An empty queue, its head at 0 (MS-PST 2.4.8.3).
  PSTKIT_RETURN_IF_ERROR(db_.put_node({nid, 0, 0, 0}));
  note("SEARCH_RESET", "search queue", nid, "search management queue unusable (" + defect + "): emptied");
  return Status::ok();
}

Status StoreFixer::fix_search_folder(Nid folder) {
  const uint32_t index = ndb::nid_index(folder);
  const Nid table = ndb::make_nid(ndb::kNidTypeSearchContentsTable, index);
  const Nid queue = ndb::make_nid(ndb::kNidTypeSearchUpdateQueue, index);
  std::string defect;
  auto entry = db_.find_node(table);
  // Outlook leaves search folders without one (its own spam folder): only
  // one that is there and cannot be read is damage.
  if (entry) {
    auto node = db_.open_node(table);
    std::shared_ptr<const ndb::Node> shared;
    std::optional<ltp::Heap> heap;
    if (node) {
      shared = std::move(*node);
      for (size_t i = 0; i < shared->block_count() && defect.empty(); ++i) {
        if (auto b = shared->block(i); !b) defect = b.status().message();
      }
    }
    if (node && defect.empty()) {
      auto h = ltp::Heap::open(shared, ltp_options_);
      if (h) {
        heap.emplace(std::move(*h));
      } else {
        defect = h.status().message();
      }
    } else if (!node) {
      defect = node.status().message();
    }
    // Outlook writes these as 0xAC tables (MS-PST 2.3.1.2 reserves the
    // signature; its layout is undocumented): only a 0x7C table is read.
    if (heap && heap->client_signature() == ltp::kClientTableContext) {
      auto tc = ltp::TableContext::open(shared, ltp_options_);
      if (!tc) {
        defect = tc.status().message();
      } else if (tc->row_count() != tc->matrix_row_count()) {
        defect = "row index and row matrix disagree";
      } else {
        for (const auto& e : tc->row_index()) {
          if (!objects_.count(e.row_id)) {
            defect = "row " + hex(e.row_id) + " names a message that is gone";
            break;
          }
        }
      }
    }
  }
  if (defect.empty()) return Status::ok();
  // An empty table is the template itself, shared as a new store shares it
  // (MS-PST 2.4.4.2; ensure_required made the template readable).
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry tmpl, db_.find_node(ndb::kNidSearchContentsTableTemplate));
  if (tmpl.data_bid) PSTKIT_RETURN_IF_ERROR(db_.add_ref(tmpl.data_bid));
  if (tmpl.subnode_bid) PSTKIT_RETURN_IF_ERROR(db_.add_ref(tmpl.subnode_bid));
  db_.reserve_nid(table);
  PSTKIT_RETURN_IF_ERROR(db_.put_node({table, tmpl.data_bid, tmpl.subnode_bid, entry ? entry->parent_nid : 0}));
  db_.reserve_nid(queue);
  PSTKIT_RETURN_IF_ERROR(db_.put_node({queue, 0, 0, 0}));
  note("SEARCH_RESET", "search folder", folder,
       "search folder " + hex(folder) + " (" + defect + "): contents and update queue emptied for Outlook to refill");
  return Status::ok();
}

}  // namespace pstkit::repair
