// The nodes of a new, empty store as Outlook creates them ([MS-PST] 2.7,
// 2.4), for write_empty_store (pstkit/store_writer.h) and for the store
// writer, which needs the same NIDs, EntryIDs and string types.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pstkit/messaging.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/store_writer.h"

namespace pstkit {

// The folders of a new store and their fixed NIDs. Outlook allocates the
// normal folders from rgnid (the first four NID_TYPE_NORMAL_FOLDER indexes
// past 0x400); the spam search folder has a fixed NID below the search folder
// range (MS-PST 2.2.2.6 rgnid starts NID_TYPE_SEARCH_FOLDER at 0x4000).
namespace store_nids {
inline constexpr Nid kIpmSubtree = 0x8022;       // "Top of Outlook data file"
inline constexpr Nid kSearchRoot = 0x8042;       // the finder (PidTagFinderEntryId)
inline constexpr Nid kDeletedItems = 0x8062;     // the wastebasket, child of the IPM subtree
inline constexpr Nid kCommonViews = 0x8082;      // IPM_COMMON_VIEWS
inline constexpr Nid kSpamSearchFolder = 0x2223; // "SPAM Search Folder 2"
}  // namespace store_nids

// Internal tables of every store beside the folder templates of ndb.h
// (NID types 0x0B, 0x0C and the replication tables 0x16-0x18, index 0x31+).
inline constexpr Nid kNidReceiveFolderTable = 0x62B;
inline constexpr Nid kNidOutgoingQueueTable = 0x64C;
inline constexpr Nid kNidChangeHistoryTable = 0x6B6;
inline constexpr Nid kNidTombstoneTable = 0x6D7;
inline constexpr Nid kNidTombstoneDateTable = 0x6F8;
// MS-PST 2.4.1: the search domain object (folders some search covers).
inline constexpr Nid kNidSearchDomainObject = 0x261;

// Values that differ from one new store to the next.
struct StoreIdentity {
  Guid record_key;         // PidTagRecordKey: the provider UID in every EntryID (MS-PST 2.4.3.2)
  Guid replica;            // the GUID in the store's PidTagReplVersionHistory
  Guid index_state[2];     // the two GUIDs of internal node 0xF01
  uint64_t created = 0;    // FILETIME of creation (node 0xF01)

  // Random (version 4) GUIDs and the current time.
  static StoreIdentity fresh();
};

// write_empty_store with given per-store values (tests pass fixed ones).
// The database must be new (no nodes, rgnid as created) and of
// options.format. The caller commits; after a failure it rolls back, as
// the database then holds part of a store.
Status write_empty_store(ndb::WritableDatabase& db, const NewStoreOptions& options, const StoreIdentity& identity);

// Parts of write_empty_store (store_template_internal.cpp): the search
// management nodes (MS-PST 2.4.8) and the internal nodes [MS-PST] does not
// document.
Status write_search_internal_nodes(ndb::WritableDatabase& db);
Status write_undocumented_internal_nodes(ndb::WritableDatabase& db, const StoreIdentity& identity);

// MS-PST 2.4.3.2 ENTRYID: 4 zero flag bytes, the store's provider UID, the NID.
Bytes make_entry_id(const Guid& record_key, Nid nid);

// The type of text properties in a file: PtypString (Unicode) or
// PtypString8 (ANSI, whose text columns and properties are all 8-bit).
uint16_t string_type(ndb::FileFormat format);
// A tag with Outlook's type for this file: PtypString and
// PtypMultipleString become PtypString8 and PtypMultipleString8 in ANSI.
ltp::PropTag tag_for_format(ltp::PropTag tag, ndb::FileFormat format);
// Text in the file's string type: UTF-16LE, or windows-1252 in ANSI files
// (characters it lacks become '?').
Bytes encode_text(std::string_view utf8, ndb::FileFormat format);

// The named properties Outlook registers in a new store, in map order
// (0x8000, 0x8001...): the IPM subtree's contents table has columns for
// some of them.
const std::vector<NamedProperty>& initial_named_properties();

}  // namespace pstkit
