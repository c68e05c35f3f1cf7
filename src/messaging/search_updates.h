// Search update descriptors ([MS-PST] 2.4.8.1): every change to a folder or
// message is described by a SUD queued to the search management queue (SMQ,
// node NID_SEARCH_MANAGEMENT_QUEUE 0x1E1, 2.4.8.4.1), from which Outlook
// updates search folders and the content index.
//
// Which SUD goes with which operation follows 2.6.3; the layouts follow
// 2.4.8.1.1 and 2.4.8.2, as the queues of files Outlook wrote hold them.
// SUDs go only to the SMQ: search folders' own queues (SUQ, 2.4.8.6.3) and
// the gatherer queue (SGQ, 2.4.8.5.1) are filled by Outlook from the SMQ and
// MUST NOT be written by others.
//
// Queuing policy. 2.4.8.1 queues folder and message SUDs when desktop
// search indexing is enabled, or when a parent folder involved is in the
// search domain object (SDO, 0x261). Whether indexing is enabled is
// recorded nowhere [MS-PST] documents, and queues Outlook left in files
// whose SDO is empty hold these SUDs (one per operation: SUDT_FLD_ADD with
// no SUDT_FLD_MOD for the parent's counts, SUDT_FLD_MOD with
// SUDF_NAME_CHANGED for a rename, SUDT_MSG_ADD, SUDT_MSG_MOD). So every SUD
// an operation calls for is queued, without SUDF_DOMAIN_CHECKED (Outlook
// checks the domain itself): a needless SUD costs 20 bytes, a missing one
// leaves search folders and the index out of step with the store. Outlook
// also queues a type 0x12 that [MS-PST] does not define; it is not written.
// SUDData bytes a structure does not use are zero (Outlook leaves stale
// memory there).
#pragma once

#include <cstdint>
#include <vector>

#include "pstkit/ndb_writer.h"

namespace pstkit {

using ndb::Nid;

// MS-PST 2.4.8.1.1 wSUDType.
enum class SudType : uint16_t {
  kNull = 0x00,
  kMsgAdd = 0x01,
  kMsgMod = 0x02,
  kMsgDel = 0x03,
  kMsgMov = 0x04,
  kFldAdd = 0x05,
  kFldMod = 0x06,
  kFldDel = 0x07,
  kFldMov = 0x08,
  kSrchAdd = 0x09,
  kSrchMod = 0x0A,
  kSrchDel = 0x0B,
  kMsgRowMod = 0x0C,
  kMsgSpam = 0x0D,
  kIdxMsgDel = 0x0E,
  kMsgIdx = 0x0F,
};

// MS-PST 2.4.8.1.1 wFlags used here.
inline constexpr uint16_t kSudfNameChanged = 0x0008;  // SUDT_FLD_MOD: display name changed

// MS-PST 2.4.8.1.1 SUD: wFlags, wSUDType, then 16 bytes of SUDData.
inline constexpr size_t kSudSize = 20;

// A SUD with its SUDData as four DWORDs. Each SUDData structure of 2.4.8.2
// is a sequence of DWORDs (NIDs or reserved zeros); what it does not use is
// zero.
struct Sud {
  uint16_t flags = 0;
  SudType type = SudType::kNull;
  uint32_t data[4] = {};

  friend bool operator==(const Sud&, const Sud&) = default;
};

// MS-PST 2.4.8.2.1 SUD_MSG_ADD / SUD_MSG_MOD / SUD_MSG_DEL (also for
// SUDT_MSG_ROW_MOD): nidParent, nidMsg.
Sud message_sud(SudType type, Nid parent, Nid message);
// MS-PST 2.4.8.2.2 SUD_MSG_MOV: nidParentNew, nidMsg, nidParentOld.
Sud message_move_sud(Nid new_parent, Nid message, Nid old_parent);
// MS-PST 2.4.8.2.3 SUD_FLD_ADD / SUD_FLD_MOV: nidParent, nidFld (the spec
// names it nidMsg), two reserved zeros.
Sud folder_sud(SudType type, Nid parent, Nid folder);
// MS-PST 2.4.8.2.4 SUD_FLD_MOD / SUD_FLD_DEL: nidFld, reserved zero.
// MS-PST 2.4.8.2.5/2.4.8.2.6 SUD_SRCH_ADD/DEL/MOD: nidSrch (then zero).
Sud object_sud(SudType type, Nid nid, uint16_t flags = 0);

void append_sud(Bytes& out, const Sud& sud);
// Decodes the kSudSize bytes at data.
Sud decode_sud(const uint8_t* data);

// The SUDs of a node holding a queue of them (MS-PST 2.4.8.3), from the
// head its NBT nidParent gives to the end. Fails if the data is not a whole
// number of SUDs or the head lies outside it; a missing node is empty.
Result<std::vector<Sud>> read_sud_queue(const ndb::Database& db, Nid nid = ndb::kNidSearchManagementQueue);

// The SUDs of one StoreWriter transaction, in the order of the changes
// (2.4.8.4.1: out-of-order SUDs desynchronise search folders), until
// flush() appends them to the SMQ.
class SearchUpdates {
 public:
  // MS-PST 2.6.3.2.1, 2.6.3.2.3: SUDT_FLD_ADD.
  void folder_added(Nid parent, Nid folder);
  // MS-PST 2.6.3.2.2: SUDT_FLD_MOD (SUDT_SRCH_MOD for a search folder).
  void folder_modified(Nid folder, uint16_t flags);
  // MS-PST 2.6.3.2.4: SUDT_FLD_MOV.
  void folder_moved(Nid new_parent, Nid folder);
  // MS-PST 2.6.3.2.9: SUDT_FLD_DEL (SUDT_SRCH_DEL for a search folder).
  void folder_deleted(Nid folder);
  // MS-PST 2.6.3.2.6, 2.6.3.2.7: SUDT_MSG_ADD (new and copied messages).
  void message_added(Nid parent, Nid message);
  // MS-PST 2.6.3.3.2, 2.6.3.3.5, 2.6.3.3.8: SUDT_MSG_MOD, then
  // SUDT_MSG_ROW_MOD when the change reached the message's row in its
  // folder's contents table.
  void message_modified(Nid parent, Nid message, bool row_changed);
  // MS-PST 2.6.3.2.8: SUDT_MSG_MOV.
  void message_moved(Nid old_parent, Nid new_parent, Nid message);
  // MS-PST 2.6.3.2.10: SUDT_MSG_DEL.
  void message_deleted(Nid parent, Nid message);

  bool empty() const { return pending_.empty(); }
  const std::vector<Sud>& pending() const { return pending_; }
  void clear() { pending_.clear(); }

  // Appends the pending SUDs to the SMQ in db and forgets them. Creates the
  // SMQ if the file lacks it (2.4.8.4.1: every PST has exactly one). Reads
  // and rewrites only the queue's last data block. Fails, leaving the
  // queue alone, if its data is not a whole number of SUDs (2.4.8.3: such a
  // queue MUST NOT be processed, so appending to it would be lost too).
  Status flush(ndb::WritableDatabase& db);

 private:
  std::vector<Sud> pending_;
};

}  // namespace pstkit
