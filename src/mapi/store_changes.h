// What changed in a store between two moments, derived from the file alone,
// so that the changes of another process (a MAPI client, `pstkit import`)
// or of another store object in this one become object and table
// notifications (docs/MAPI.md "Notifications across processes").
// Internal to src/mapi.
//
// A snapshot lists the NBT entries of folders and messages (MS-PST
// 2.2.2.7.7.4: NID, data and subnode BIDs, parent NID). Writes are
// copy-on-write (MS-PST 2.6), so a changed object has new BIDs; a message
// that is moved keeps its NID and gets a new parent; a copy shares its
// source's data block (StoreWriter::copy_message). A folder's node changes
// with its counts as well as with its own properties, so a folder also
// keeps a digest of its properties without the counts.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "pstkit/messaging.h"
#include "pstkit/ndb.h"
#include "pstkit/status.h"

namespace pstkit::mapi::capi {

struct StoreSnapshot {
  std::vector<ndb::NodeEntry> objects;   // folders and messages, by NID
  std::map<Nid, uint64_t> folder_digest; // folder NID → digest of its properties but the counts
};

// Reads the snapshot of `store` (one walk of the NBT, plus the property
// context of each folder whose node `previous` does not already hold with
// the same BIDs).
Result<StoreSnapshot> take_snapshot(const Store& store, const StoreSnapshot* previous = nullptr);

// One derived object notification (imsgstore-advise.md, OBJECT_NOTIFICATION).
struct DerivedChange {
  uint32_t event = 0;        // fnevObjectCreated ... fnevObjectCopied
  uint32_t object_type = 0;  // MAPI_FOLDER or MAPI_MESSAGE
  Nid nid = 0, parent = 0, old_nid = 0, old_parent = 0;
};

// The changes from `before` to `after`, in the order they are delivered:
// folders created, messages created or copied, objects moved, objects
// modified, then messages and folders deleted. An object deleted with its
// folder is not reported on its own (DeleteFolder reports the folder only);
// a folder whose only change is its counts is not reported (its messages'
// notifications are).
std::vector<DerivedChange> diff_snapshots(const StoreSnapshot& before, const StoreSnapshot& after);

}  // namespace pstkit::mapi::capi
