// Entry IDs of a personal folders store, in the form Outlook's PST provider
// writes them (PR_ENTRYID, PR_IPM_SUBTREE_ENTRYID, PR_PARENT_ENTRYID ...):
// MS-PST 2.4.3.2 EntryID, the MS-OXCDATA 2.2.4 ENTRYID with the PST
// provider's own ProviderData:
//   rgbFlags (4 bytes)  ENTRYID.abFlags; Outlook writes 0 (long-term)
//   uid (16 bytes)      the store's provider UID: its PR_RECORD_KEY
//   nid (4 bytes)       the object's NID, little-endian
//
// Short-term and long-term IDs (MAPI reference, "ENTRYID", abFlags[0]:
// MAPI_SHORTTERM 0x80, MAPI_NOTRECIP 0x40, MAPI_THISSESSION 0x20, MAPI_NOW
// 0x10, MAPI_NOTRESERVED 0x08): a NID never changes while the object lives,
// so the PST provider's IDs are always long-term and it makes them with all
// flags 0. A client may hand back an ID with those short-term bits of
// abFlags[0] set; the decoder accepts them and CompareEntryIDs ignores them.
// abFlags[1..3] are reserved and must be 0.
//
// Errors (Status -> entry_id_scode):
//   kInvalidArgument -> MAPI_E_INVALID_ENTRYID (wrong length, reserved flag
//                       bits set, a NID of no object type)
//   kNotFound        -> MAPI_E_UNKNOWN_ENTRYID (another store's provider UID)
#pragma once

#include <array>
#include <cstdint>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit {
class Store;
}

namespace pstkit::mapi {

inline constexpr size_t kPstEntryIdSize = 24;  // MS-PST 2.4.3.2
using ProviderUid = std::array<uint8_t, 16>;

// ENTRYID abFlags[0] bits (mapidefs.h); only these may be set in an ID the
// decoder accepts.
inline constexpr uint8_t kMapiShortTerm = 0x80;
inline constexpr uint8_t kMapiNotRecip = 0x40;
inline constexpr uint8_t kMapiThisSession = 0x20;
inline constexpr uint8_t kMapiNow = 0x10;
inline constexpr uint8_t kMapiNotReserved = 0x08;
inline constexpr uint8_t kShortTermFlagBits =
    kMapiShortTerm | kMapiNotRecip | kMapiThisSession | kMapiNow | kMapiNotReserved;

inline constexpr int32_t kMapiEInvalidEntryId = int32_t(0x80040107);
inline constexpr int32_t kMapiEUnknownEntryId = int32_t(0x80040201);

struct PstEntryId {
  uint8_t flags[4] = {0, 0, 0, 0};
  ProviderUid provider{};
  uint32_t nid = 0;

  bool short_term() const { return (flags[0] & kMapiShortTerm) != 0; }
};

// The 24 bytes of a long-term entry ID (flags 0) for `nid` in the store
// whose provider UID is `provider`.
Bytes encode_entry_id(const ProviderUid& provider, uint32_t nid);

// Splits an entry ID, checking only its own structure: length 24, reserved
// flags 0, a NID whose type names an object (not NID_TYPE_NONE, 0).
Result<PstEntryId> parse_entry_id(ByteView entry_id);

// The NID an entry ID names in the store with provider UID `store`:
// parse_entry_id, then the UID must be the store's (else kNotFound,
// MAPI_E_UNKNOWN_ENTRYID). Whether the NID exists is the caller's question.
Result<uint32_t> decode_entry_id(ByteView entry_id, const ProviderUid& store);

// IMAPISupport::CompareEntryIDs / IMsgStore::CompareEntryIDs for this
// store: true when both IDs name the same object (same NID; the flag bytes
// are ignored: a short-term and a long-term ID of one object are equal).
// Either ID malformed or of another store: its decode error.
Result<bool> compare_entry_ids(ByteView a, ByteView b, const ProviderUid& store);

// The store's provider UID: the message store's PR_RECORD_KEY (MS-PST
// 2.4.3.1), which must be 16 bytes (kCorrupt otherwise, kNotFound absent).
Result<ProviderUid> store_provider_uid(const Store& store);

// The MAPI code of an error from this header (0 for OK).
int32_t entry_id_scode(const Status& status);

}  // namespace pstkit::mapi
