// MS-PST 2.2.2.6: the header's counters must stay ahead of the IDs in use,
// or the next allocation would reuse one.
#include <algorithm>

#include "check/context.h"

namespace pstkit::check {

void check_header_counters(Context& c) {
  const ndb::Header& h = c.header;
  // bidNextB: BIDs advance by 4; every block BID in use is below it.
  ndb::Bid max_block = 0;
  for (const BlockRecord& r : c.blocks) max_block = std::max(max_block, ndb::bid_key(r.entry.bid));
  if (!c.blocks.empty() && max_block >= h.bid_next_b) {
    c.add(Issue::kHeaderBidNext, "header", kNone, max_block,
          "bidNextB " + hex(h.bid_next_b) + " is not above block BID " + hex(max_block) + " in use");
  }
  // bidNextP: page BIDs come from their own counter.
  ndb::Bid max_page = 0;
  for (const PageRecord& p : c.pages) max_page = std::max(max_page, p.bid);
  if (!c.pages.empty() && max_page >= h.bid_next_p) {
    c.add(Issue::kHeaderBidNext, "header", kNone, max_page,
          "bidNextP " + hex(h.bid_next_p) + " is not above page BID " + hex(max_page) + " in use");
  }
  // rgnid[t]: the last nidIndex handed out for NID type t.
  uint32_t max_index[32] = {};
  ndb::Nid max_nid[32] = {};
  for (const NodeRecord& r : c.nodes) {
    const uint8_t t = ndb::nid_type(r.entry.nid);
    if (ndb::nid_index(r.entry.nid) > max_index[t]) {
      max_index[t] = ndb::nid_index(r.entry.nid);
      max_nid[t] = r.entry.nid;
    }
  }
  for (int t = 0; t < 32; ++t) {
    if (max_index[t] > h.nid_high_water[t]) {
      c.add(Issue::kHeaderNidNext, "header", kNone, max_nid[t],
            "rgnid[" + hex(t) + "] is " + hex(h.nid_high_water[t]) + " but NID " + hex(max_nid[t]) +
                " has index " + hex(max_index[t]));
    }
  }
}

}  // namespace pstkit::check
