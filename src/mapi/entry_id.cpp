// PST entry IDs (MS-PST 2.4.3.2) and their comparison.
#include "pstkit/mapi_entry_id.h"

#include <algorithm>
#include <string>

#include "pstkit/messaging.h"
#include "pstkit/ndb.h"

namespace pstkit::mapi {

Bytes encode_entry_id(const ProviderUid& provider, uint32_t nid) {
  Bytes out(kPstEntryIdSize, 0);  // rgbFlags 0: long-term
  std::copy(provider.begin(), provider.end(), out.begin() + 4);
  store_le32(out.data() + 20, nid);
  return out;
}

Result<PstEntryId> parse_entry_id(ByteView entry_id) {
  if (entry_id.size() != kPstEntryIdSize) {
    return Status::invalid_argument("entry ID: " + std::to_string(entry_id.size()) + " bytes, a PST entry ID is " +
                                    std::to_string(kPstEntryIdSize) + " (MS-PST 2.4.3.2)");
  }
  PstEntryId id;
  for (size_t i = 0; i < 4; ++i) id.flags[i] = entry_id.u8(i);
  if ((id.flags[0] & ~kShortTermFlagBits) != 0 || id.flags[1] != 0 || id.flags[2] != 0 || id.flags[3] != 0) {
    return Status::invalid_argument("entry ID: reserved flag bits set in rgbFlags " + hex(entry_id.u32(0)));
  }
  std::copy(entry_id.data() + 4, entry_id.data() + 20, id.provider.begin());
  id.nid = entry_id.u32(20);
  if (ndb::nid_type(id.nid) == 0) {  // NID_TYPE_HID: a heap id, never an object (MS-PST 2.2.2.1)
    return Status::invalid_argument("entry ID: NID " + hex(id.nid) + " is not an object's");
  }
  return id;
}

Result<uint32_t> decode_entry_id(ByteView entry_id, const ProviderUid& store) {
  PSTKIT_ASSIGN_OR_RETURN(PstEntryId id, parse_entry_id(entry_id));
  if (id.provider != store) return Status::not_found("entry ID of another store (provider UID differs)");
  return id.nid;
}

Result<bool> compare_entry_ids(ByteView a, ByteView b, const ProviderUid& store) {
  PSTKIT_ASSIGN_OR_RETURN(uint32_t nid_a, decode_entry_id(a, store));
  PSTKIT_ASSIGN_OR_RETURN(uint32_t nid_b, decode_entry_id(b, store));
  return nid_a == nid_b;
}

Result<ProviderUid> store_provider_uid(const Store& store) {
  const Bytes* key = store.properties().get_binary(prop::kRecordKey);
  if (key == nullptr) return Status::not_found("message store has no PR_RECORD_KEY");
  ProviderUid uid{};
  if (key->size() != uid.size()) {
    return Status::corrupt("message store (NID 0x21) PR_RECORD_KEY", Status::kNoOffset,
                           std::to_string(key->size()) + " bytes, a provider UID is 16");
  }
  std::copy(key->begin(), key->end(), uid.begin());
  return uid;
}

int32_t entry_id_scode(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument: return kMapiEInvalidEntryId;
    case Code::kNotFound: return kMapiEUnknownEntryId;
    case Code::kCorrupt:
    case Code::kTruncated: return int32_t(0x8004011B);  // MAPI_E_CORRUPT_DATA
    default: return int32_t(0x80004005);                // MAPI_E_CALL_FAILED
  }
}

}  // namespace pstkit::mapi
