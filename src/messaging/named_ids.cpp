// StoreWriter: named property ids (MS-PST 2.4.7).
#include "messaging/store_writer_impl.h"

namespace pstkit {
namespace {

bool same_name(const NamedProperty& a, const NamedProperty& b) {
  if (a.guid != b.guid || a.is_string != b.is_string) return false;
  return a.is_string ? a.name == b.name : a.lid == b.lid;
}

}  // namespace

Result<uint16_t> StoreWriter::Impl::named_id(const NamedProperty& name) {
  for (const auto& [id, np] : view->names().entries()) {
    if (same_name(np, name)) return id;
  }
  for (const auto& [id, np] : pending_names) {
    if (same_name(np, name)) return id;
  }
  return Status::unsupported("registering new named properties");
}

Status StoreWriter::Impl::flush_names() {
  if (pending_names.empty()) return Status::ok();
  return Status::unsupported("registering new named properties");
}

}  // namespace pstkit
