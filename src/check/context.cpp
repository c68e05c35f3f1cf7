#include "check/context.h"

#include <algorithm>

namespace pstkit::check {

void FindingSink::add(Issue issue, std::string structure, uint64_t offset, uint64_t id, std::string message) {
  const CodeInfo& info = issue_info(issue);
  ++total_;
  switch (info.severity) {
    case Severity::kError: ++report_.errors; break;
    case Severity::kWarning: ++report_.warnings; break;
    case Severity::kInfo: ++report_.infos; break;
  }
  // The cap keeps output bounded on garbage; dropped findings still count.
  if (per_issue_[size_t(issue)]++ >= cap_) {
    ++report_.suppressed[info.code];
    return;
  }
  report_.findings.push_back({info.code, info.severity, std::move(structure), offset, id, std::move(message)});
}

const NodeRecord* Context::find_node(ndb::Nid nid) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), nid,
                             [](const NodeRecord& r, ndb::Nid k) { return r.entry.nid < k; });
  return it != nodes.end() && it->entry.nid == nid ? &*it : nullptr;
}

const BlockRecord* Context::find_block(ndb::Bid bid) const {
  const ndb::Bid key = ndb::bid_key(bid);
  auto it = std::lower_bound(blocks.begin(), blocks.end(), key, [](const BlockRecord& r, ndb::Bid k) {
    return ndb::bid_key(r.entry.bid) < k;
  });
  return it != blocks.end() && ndb::bid_key(it->entry.bid) == key ? &*it : nullptr;
}

BlockRecord* Context::find_block(ndb::Bid bid) {
  return const_cast<BlockRecord*>(static_cast<const Context*>(this)->find_block(bid));
}

Result<SharedBytes> Context::read_block(ndb::Bid bid) const {
  const BlockRecord* r = find_block(bid);
  if (r == nullptr) {
    return Status::corrupt(kAlreadyReported, Status::kNoOffset, "block " + hex(bid) + " is not in the BBT");
  }
  if (r->damaged) {
    return Status::corrupt(kAlreadyReported, r->entry.offset, "block " + hex(bid) + " is damaged");
  }
  auto data = read_verified_block(*this, r->entry, nullptr);
  if (!data.is_ok()) {
    return Status::corrupt(kAlreadyReported, r->entry.offset, data.status().message());
  }
  return SharedBytes(std::make_shared<const Bytes>(std::move(data).value()));
}

}  // namespace pstkit::check
