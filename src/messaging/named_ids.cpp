// StoreWriter: named property ids (MS-PST 2.4.7). New names are added to a
// NameMapBuilder loaded on first use and written with the other staged
// changes; MS-PST 2.6.3.4.3: names are never removed from the map.
#include "messaging/name_map_builder.h"
#include "messaging/node_writer.h"
#include "messaging/store_writer_impl.h"

namespace pstkit {

Result<uint16_t> StoreWriter::Impl::named_id(const NamedProperty& name) {
  if (!names) {
    auto node = db->open_node(ndb::kNidNameToIdMap);
    if (node) {
      PSTKIT_ASSIGN_OR_RETURN(auto pc, view->open_pc(std::shared_ptr<const ndb::Node>(std::move(*node))));
      PSTKIT_ASSIGN_OR_RETURN(auto b, NameMapBuilder::from_existing(*pc));
      names = std::make_unique<NameMapBuilder>(std::move(b));
    } else if (node.status().code() == Code::kNotFound) {
      PSTKIT_ASSIGN_OR_RETURN(auto b, NameMapBuilder::create(format));
      names = std::make_unique<NameMapBuilder>(std::move(b));
    } else {
      return node.status();
    }
  }
  if (auto id = names->find(name)) return *id;
  names_dirty = true;
  return names->add(name);
}

Status StoreWriter::Impl::flush_names() {
  if (!names || !names_dirty) return Status::ok();
  PSTKIT_ASSIGN_OR_RETURN(auto built, names->build());
  PSTKIT_ASSIGN_OR_RETURN(auto previous, subnodes_of(ndb::kNidNameToIdMap));
  PSTKIT_RETURN_IF_ERROR(put_built_node(*db, ndb::kNidNameToIdMap, 0, built, previous));
  names_dirty = false;
  // The builder's view of subnodes now describes the written node: reload
  // it from the file when next needed.
  names.reset();
  return Status::ok();
}

}  // namespace pstkit
