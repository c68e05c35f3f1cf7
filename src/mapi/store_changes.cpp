// Changes between two snapshots of a store. See store_changes.h.
#include "mapi/store_changes.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {
namespace {

bool is_folder(Nid nid) {
  const uint8_t type = ndb::nid_type(nid);
  return type == ndb::kNidTypeNormalFolder || type == ndb::kNidTypeSearchFolder;
}
bool is_message(Nid nid) {
  const uint8_t type = ndb::nid_type(nid);
  return type == ndb::kNidTypeNormalMessage || type == ndb::kNidTypeAssocMessage;
}

// Folder properties a message's change rewrites (StoreWriter adjusts them):
// PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS, PR_ASSOC_CONTENT_COUNT,
// PR_LAST_MODIFICATION_TIME.
bool count_property(uint16_t id) {
  return id == 0x3602 || id == 0x3603 || id == 0x360A || id == 0x3617 || id == 0x3008;
}

// FNV-1a over the folder's properties but the counts.
uint64_t folder_digest(const Folder& folder) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 0x100000001b3ULL;
  };
  for (const ltp::PropValue& v : folder.properties().values()) {
    if (count_property(v.id())) continue;
    for (int i = 0; i < 4; ++i) mix(uint8_t(v.tag >> (8 * i)));
    const uint64_t size = v.data.size();
    for (int i = 0; i < 8; ++i) mix(uint8_t(size >> (8 * i)));
    for (uint8_t b : v.data) mix(b);
  }
  return h;
}

const ndb::NodeEntry* find_entry(const std::vector<ndb::NodeEntry>& sorted, Nid nid) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), nid,
                             [](const ndb::NodeEntry& e, Nid n) { return e.nid < n; });
  return it != sorted.end() && it->nid == nid ? &*it : nullptr;
}

}  // namespace

Result<StoreSnapshot> take_snapshot(const Store& store, const StoreSnapshot* previous) {
  StoreSnapshot out;
  PSTKIT_RETURN_IF_ERROR(store.db().for_each_node([&](const ndb::NodeEntry& e) {
    if (is_folder(e.nid) || is_message(e.nid)) out.objects.push_back(e);
    return true;
  }));
  // The NBT is visited in key order, i.e. by NID.
  for (const ndb::NodeEntry& e : out.objects) {
    if (!is_folder(e.nid)) continue;
    if (previous != nullptr) {
      const ndb::NodeEntry* before = find_entry(previous->objects, e.nid);
      auto digest = previous->folder_digest.find(e.nid);
      if (before != nullptr && digest != previous->folder_digest.end() && before->data_bid == e.data_bid &&
          before->subnode_bid == e.subnode_bid) {
        out.folder_digest[e.nid] = digest->second;
        continue;
      }
    }
    // A folder that does not read (damaged) gets no digest: its changes are
    // then reported from its BIDs alone.
    auto folder = store.open_folder(e.nid);
    if (folder) out.folder_digest[e.nid] = folder_digest(*folder);
  }
  return out;
}

std::vector<DerivedChange> diff_snapshots(const StoreSnapshot& before, const StoreSnapshot& after) {
  auto type_of = [](Nid nid) -> uint32_t { return is_folder(nid) ? MAPI_FOLDER : MAPI_MESSAGE; };
  std::vector<DerivedChange> created_folders, created_messages, moved, modified, deleted_messages, deleted_folders;
  std::set<Nid> deleted;
  // Messages of `before` by data block, for telling copies (which share
  // their source's block) from new messages; built on the first need.
  std::unordered_map<ndb::Bid, const ndb::NodeEntry*> by_data;
  bool indexed = false;

  auto a = before.objects.begin();
  auto b = after.objects.begin();
  while (a != before.objects.end() || b != after.objects.end()) {
    if (b == after.objects.end() || (a != before.objects.end() && a->nid < b->nid)) {
      deleted.insert(a->nid);
      ++a;
      continue;
    }
    if (a == before.objects.end() || b->nid < a->nid) {
      const ndb::NodeEntry& e = *b++;
      if (is_folder(e.nid)) {
        created_folders.push_back({fnevObjectCreated, MAPI_FOLDER, e.nid, e.parent_nid});
        continue;
      }
      if (!indexed) {
        for (const ndb::NodeEntry& old : before.objects)
          if (is_message(old.nid) && old.data_bid != 0) by_data.emplace(old.data_bid, &old);
        indexed = true;
      }
      auto source = e.data_bid != 0 ? by_data.find(e.data_bid) : by_data.end();
      if (source != by_data.end() && find_entry(after.objects, source->second->nid) != nullptr) {
        created_messages.push_back({fnevObjectCopied, MAPI_MESSAGE, e.nid, e.parent_nid, source->second->nid,
                                    source->second->parent_nid});
      } else {
        created_messages.push_back({fnevObjectCreated, MAPI_MESSAGE, e.nid, e.parent_nid});
      }
      continue;
    }
    const ndb::NodeEntry& old = *a++;
    const ndb::NodeEntry& now = *b++;
    if (old.parent_nid != now.parent_nid) {
      moved.push_back({fnevObjectMoved, type_of(now.nid), now.nid, now.parent_nid, old.nid, old.parent_nid});
      continue;
    }
    if (old.data_bid == now.data_bid && old.subnode_bid == now.subnode_bid) continue;
    if (is_folder(now.nid)) {
      auto d0 = before.folder_digest.find(now.nid);
      auto d1 = after.folder_digest.find(now.nid);
      if (d0 != before.folder_digest.end() && d1 != after.folder_digest.end() && d0->second == d1->second) continue;
    }
    modified.push_back({fnevObjectModified, type_of(now.nid), now.nid, now.parent_nid});
  }
  for (Nid nid : deleted) {
    const ndb::NodeEntry* e = find_entry(before.objects, nid);
    // Deleted with its folder: the folder's deletion says it.
    if (e == nullptr || deleted.count(e->parent_nid) != 0) continue;
    (is_folder(nid) ? deleted_folders : deleted_messages)
        .push_back({fnevObjectDeleted, type_of(nid), nid, e->parent_nid});
  }
  std::vector<DerivedChange> out;
  for (auto* part : {&created_folders, &created_messages, &moved, &modified, &deleted_messages, &deleted_folders})
    out.insert(out.end(), part->begin(), part->end());
  return out;
}

}  // namespace pstkit::mapi::capi
