// The internal nodes of a new store beside its folders and tables.
//
// Search management (MS-PST 2.4.1, 2.4.8) is documented. The nodes with
// indexes 0x60 and 0x70-0x79 are not: Outlook writes them into every new
// store and keeps them up to date, and readers ignore them. They are
// reproduced field by field as Outlook's empty store holds them (field
// meanings are unknown unless a comment says otherwise), with fresh GUIDs
// and the creation time where Outlook has its own.
#include <initializer_list>

#include "messaging/node_writer.h"
#include "messaging/store_template.h"

namespace pstkit {
namespace {

// Internal NIDs (NID_TYPE_INTERNAL, MS-PST 2.2.2.1) of the undocumented nodes.
constexpr Nid kNidHstHmp = 0xC01;        // index 0x60: a heap (bClientSig 0x9C) over a 16-byte-key BTH
constexpr Nid kNidInternalE01 = 0xE01;   // index 0x70: a heap (bClientSig 0xCC) over a 4-byte-key BTH
constexpr Nid kNidInternalE41 = 0xE41;   // index 0x72: empty
constexpr Nid kNidInternalEC1 = 0xEC1;   // index 0x76: empty
constexpr Nid kNidFolderList = 0xEE1;    // index 0x77: a record per store and normal folder
constexpr Nid kNidInternalF01 = 0xF01;   // index 0x78: a fixed-size state record
constexpr Nid kNidInternalF21 = 0xF21;   // index 0x79: empty

// MS-PST 2.3.1.2 bClientSig values Outlook uses for these heaps; the spec
// lists them as reserved (bTypeReserved3, bTypeReserved6).
constexpr uint8_t kClientHstHmp = 0x9C;
constexpr uint8_t kClientInternalE01 = 0xCC;

void put32(Bytes& out, uint32_t v) {
  uint8_t b[4];
  store_le32(b, v);
  out.insert(out.end(), b, b + 4);
}

void put_guid(Bytes& out, const Guid& g) { out.insert(out.end(), g.bytes, g.bytes + sizeof g.bytes); }

Status put_data_node(ndb::WritableDatabase& db, Nid nid, ByteView data) {
  ndb::Bid bid = 0;
  if (!data.empty()) {
    PSTKIT_ASSIGN_OR_RETURN(bid, db.write_data_tree({data.to_bytes()}));
  }
  return db.put_node({nid, bid, 0, 0});
}

// A heap whose user root is a small fixed record that starts with the HID
// of an empty BTH (MS-PST 2.3.2) allocated after it. The record's other
// DWORDs are given.
Status put_heap_with_bth(ndb::WritableDatabase& db, Nid nid, uint8_t client_signature, uint8_t key_size,
                         uint8_t data_size, std::initializer_list<uint32_t> more_fields) {
  const ndb::FileFormat format = db.header().format;
  PSTKIT_ASSIGN_OR_RETURN(auto heap, ltp::HeapBuilder::create(format, client_signature));
  Bytes record(4 * (1 + more_fields.size()), 0);
  PSTKIT_ASSIGN_OR_RETURN(ltp::Hid root, heap.allocate(record));
  PSTKIT_ASSIGN_OR_RETURN(auto bth, ltp::BthBuilder::create(key_size, data_size));
  PSTKIT_ASSIGN_OR_RETURN(auto placement, bth.build(heap));
  record.clear();
  put32(record, placement.header);
  for (uint32_t v : more_fields) put32(record, v);
  PSTKIT_RETURN_IF_ERROR(heap.replace(root, record));
  heap.set_user_root(root);
  ltp::BuiltNode built;
  built.blocks = heap.build();
  return put_built_node(db, nid, 0, built);
}

}  // namespace

Status write_search_internal_nodes(ndb::WritableDatabase& db) {
  // MS-PST 2.4.8.4.1 search management queue: no search updates (SUDs) pending.
  PSTKIT_RETURN_IF_ERROR(put_data_node(db, ndb::kNidSearchManagementQueue, {}));
  // MS-PST 2.4.8.4.2 search activity list: the NIDs of search folders with
  // active searches, the spam search folder's.
  Bytes active;
  put32(active, store_nids::kSpamSearchFolder);
  PSTKIT_RETURN_IF_ERROR(put_data_node(db, ndb::kNidSearchActivityList, active));
  // MS-PST 2.4.8.4.3 search domain object: no folder is the scope of a search yet.
  return put_data_node(db, kNidSearchDomainObject, {});
}

Status write_undocumented_internal_nodes(ndb::WritableDatabase& db, const StoreIdentity& identity) {
  PSTKIT_RETURN_IF_ERROR(put_heap_with_bth(db, kNidHstHmp, kClientHstHmp, 16, 4, {}));
  // Field 2 is the first normal message NID of MS-PST 2.2.2.6 rgnid
  // (0x200004, index 0x10000): in used stores it is a message NID.
  PSTKIT_RETURN_IF_ERROR(put_heap_with_bth(
      db, kNidInternalE01, kClientInternalE01, 4, 4,
      {1, ndb::make_nid(ndb::kNidTypeNormalMessage, 0x10000), 0, 3, 0, 0x10, 0, 0x48B3, 0, 0, 0, 0, 0x1E2}));
  for (Nid nid : {kNidInternalE41, kNidInternalEC1, kNidInternalF21}) {
    PSTKIT_RETURN_IF_ERROR(put_data_node(db, nid, {}));
  }
  // 28-byte records: NID, three zero DWORDs, 0x40000, flags, zero. Outlook
  // lists the store and the four normal folders it creates.
  Bytes folders;
  for (Nid nid : {ndb::kNidMessageStore, store_nids::kIpmSubtree, store_nids::kSearchRoot, store_nids::kDeletedItems,
                  store_nids::kCommonViews}) {
    put32(folders, nid);
    for (int i = 0; i < 3; ++i) put32(folders, 0);
    put32(folders, 0x40000);
    put32(folders, nid == store_nids::kCommonViews ? 0x200 : 0x100);
    put32(folders, 0);
  }
  PSTKIT_RETURN_IF_ERROR(put_data_node(db, kNidFolderList, folders));
  // A 104-byte record holding two GUIDs and a FILETIME.
  Bytes state;
  put32(state, 8);
  for (int i = 0; i < 6; ++i) put32(state, 0);
  put32(state, 0x00010100);
  for (int i = 0; i < 2; ++i) put32(state, 0);
  put_guid(state, identity.index_state[0]);
  put_guid(state, identity.index_state[1]);
  put32(state, 0x6A);
  put32(state, 2);
  put32(state, uint32_t(identity.created));
  put32(state, uint32_t(identity.created >> 32));
  for (uint32_t v : {0u, 5u, 5u, 0u}) put32(state, v);
  return put_data_node(db, kNidInternalF01, state);
}

}  // namespace pstkit
