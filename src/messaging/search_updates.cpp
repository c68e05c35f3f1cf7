// Search update descriptors and the search management queue (MS-PST 2.4.8).
#include "messaging/search_updates.h"

namespace pstkit {
namespace {

bool is_search_folder(Nid nid) { return ndb::nid_type(nid) == ndb::kNidTypeSearchFolder; }

// MS-PST 2.4.8.3: the queue's data and the head offset its NBT entry keeps
// in nidParent must both be whole numbers of items, the head within the data.
Status validate_queue(Nid nid, uint64_t size, uint32_t head) {
  if (size % kSudSize != 0) {
    return Status::corrupt("search queue", Status::kNoOffset,
                           "node " + hex(nid) + " holds " + std::to_string(size) + " bytes, not a whole number of " +
                               std::to_string(kSudSize) + "-byte SUDs");
  }
  if (head > size || head % kSudSize != 0) {
    return Status::corrupt("search queue", Status::kNoOffset,
                           "node " + hex(nid) + " has its head at byte " + std::to_string(head) + " of " +
                               std::to_string(size));
  }
  return Status::ok();
}

}  // namespace

Sud message_sud(SudType type, Nid parent, Nid message) {
  Sud s;
  s.type = type;
  s.data[0] = parent;
  s.data[1] = message;
  return s;
}

Sud message_move_sud(Nid new_parent, Nid message, Nid old_parent) {
  Sud s;
  s.type = SudType::kMsgMov;
  s.data[0] = new_parent;
  s.data[1] = message;
  s.data[2] = old_parent;
  return s;
}

Sud folder_sud(SudType type, Nid parent, Nid folder) {
  Sud s;
  s.type = type;
  s.data[0] = parent;
  s.data[1] = folder;
  return s;
}

Sud object_sud(SudType type, Nid nid, uint16_t flags) {
  Sud s;
  s.flags = flags;
  s.type = type;
  s.data[0] = nid;
  return s;
}

void append_sud(Bytes& out, const Sud& sud) {
  uint8_t b[kSudSize];
  store_le16(b, sud.flags);
  store_le16(b + 2, uint16_t(sud.type));
  for (int i = 0; i < 4; ++i) store_le32(b + 4 + 4 * i, sud.data[i]);
  out.insert(out.end(), b, b + kSudSize);
}

Sud decode_sud(const uint8_t* data) {
  Sud s;
  s.flags = load_le16(data);
  s.type = SudType(load_le16(data + 2));
  for (int i = 0; i < 4; ++i) s.data[i] = load_le32(data + 4 + 4 * i);
  return s;
}

Result<std::vector<Sud>> read_sud_queue(const ndb::Database& db, Nid nid) {
  auto entry = db.find_node(nid);
  if (!entry) {
    if (entry.status().code() == Code::kNotFound) return std::vector<Sud>{};
    return entry.status();
  }
  PSTKIT_ASSIGN_OR_RETURN(auto node, db.open_node(nid));
  PSTKIT_RETURN_IF_ERROR(validate_queue(nid, node->size(), entry->parent_nid));
  PSTKIT_ASSIGN_OR_RETURN(Bytes data, node->read_all());
  std::vector<Sud> out;
  for (size_t at = entry->parent_nid; at + kSudSize <= data.size(); at += kSudSize) {
    out.push_back(decode_sud(data.data() + at));
  }
  return out;
}

void SearchUpdates::folder_added(Nid parent, Nid folder) {
  pending_.push_back(folder_sud(SudType::kFldAdd, parent, folder));
}

void SearchUpdates::folder_modified(Nid folder, uint16_t flags) {
  // MS-PST 2.4.8.1.1: SUDF_NAME_CHANGED and the like apply to SUDT_FLD_MOD only.
  if (is_search_folder(folder)) {
    pending_.push_back(object_sud(SudType::kSrchMod, folder));
  } else {
    pending_.push_back(object_sud(SudType::kFldMod, folder, flags));
  }
}

void SearchUpdates::folder_moved(Nid new_parent, Nid folder) {
  pending_.push_back(folder_sud(SudType::kFldMov, new_parent, folder));
}

void SearchUpdates::folder_deleted(Nid folder) {
  pending_.push_back(object_sud(is_search_folder(folder) ? SudType::kSrchDel : SudType::kFldDel, folder));
}

void SearchUpdates::message_added(Nid parent, Nid message) {
  pending_.push_back(message_sud(SudType::kMsgAdd, parent, message));
}

void SearchUpdates::message_modified(Nid parent, Nid message, bool row_changed) {
  pending_.push_back(message_sud(SudType::kMsgMod, parent, message));
  if (row_changed) pending_.push_back(message_sud(SudType::kMsgRowMod, parent, message));
}

void SearchUpdates::message_moved(Nid old_parent, Nid new_parent, Nid message) {
  pending_.push_back(message_move_sud(new_parent, message, old_parent));
}

void SearchUpdates::message_deleted(Nid parent, Nid message) {
  pending_.push_back(message_sud(SudType::kMsgDel, parent, message));
}

Status SearchUpdates::flush(ndb::WritableDatabase& db) {
  if (pending_.empty()) return Status::ok();
  Bytes more;
  more.reserve(pending_.size() * kSudSize);
  for (const Sud& s : pending_) append_sud(more, s);
  const Nid nid = ndb::kNidSearchManagementQueue;
  ndb::NodeEntry entry{nid, 0, 0, 0};
  auto found = db.find_node(nid);
  if (found) {
    entry = *found;
    PSTKIT_ASSIGN_OR_RETURN(auto node, db.open_node(nid));
    const uint64_t size = node->size();
    PSTKIT_RETURN_IF_ERROR(validate_queue(nid, size, entry.parent_nid));
    if (entry.parent_nid == size) {
      // MS-PST 2.4.8.3: a queue whose every item was removed is emptied,
      // its head back at 0 (the reader that drained it may not have).
      entry.data_bid = 0;
      entry.parent_nid = 0;
    }
  } else if (found.status().code() != Code::kNotFound) {
    return found.status();
  }
  // Without the SMQ (MS-PST 2.7.1 lists it as mandatory) the node is made
  // here: an empty queue plus these SUDs.
  PSTKIT_ASSIGN_OR_RETURN(ndb::Bid bid, db.append_data_tree(entry.data_bid, more));
  entry.data_bid = bid;
  PSTKIT_RETURN_IF_ERROR(db.put_node(entry));
  pending_.clear();
  return Status::ok();
}

}  // namespace pstkit
