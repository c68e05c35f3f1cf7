// Orphan messages: a message whose NBT entry is lost (the NBT lay past the
// cut of a truncated file, its leaf page was zeroed) still has its blocks in
// the file -- the PC's data block (or XBLOCK) and its subnode tree (SLBLOCK
// or SIBLOCK, MS-PST 2.2.2.8.3.3) -- which no surviving node references.
// scanpst finds such items by their headers and puts them in Lost and Found
// (../shared/reference/mapi-and-scanpst-notes.md); so does this.
//
//  1. Every block the listed nodes reference (data trees, subnode trees and
//     everything under them) is marked; what the source lists beyond that
//     is unreferenced.
//  2. Unreferenced SLBLOCK/SIBLOCK roots are the orphans' subnode trees;
//     everything under them belongs to them (attachments, embedded messages
//     and tables are never messages of their own).
//  3. The remaining unreferenced data roots whose heap is a PC (MS-PST
//     2.3.1.2 bClientSig 0xBC) with PidTagMessageClass are messages.
//  4. Pairing: a tree fits a message when it holds every subnode the PC's
//     HNIDs name (MS-PST 2.3.3.2: an HNID whose hidType is not 0 is a NID),
//     only attachments, the attachment table (0x671) and the recipient table
//     (0x692) besides, an attachment table if the message says it has
//     attachments, and every PC value then reads. Among fitting trees the
//     nearest by BID wins (Outlook allocates a message's blocks together),
//     nearest pairs first, each tree used once; only the 16 trees nearest
//     on either side are tried. Outlook shares blocks between copies of a
//     message (cRef, MS-PST 2.2.2.7.7.3): a message no loose tree fits
//     then tries, the same way, the subnode trees of listed messages,
//     which several messages may share. A message no tree fits is
//     adopted without subnodes (fix_store then gives it empty tables).
//  5. Placement: a contents-table row of a listed folder whose row ID
//     (the message NID, MS-PST 2.4.4.5) names no listed node and whose
//     subject, delivery time and size equal the message's gives back the
//     original NID and folder; otherwise a new NID in Lost and Found.
//     A copy of a message that shares all its blocks is found once; each
//     further unplaced row whose subject, delivery time and size all equal
//     a placed message's is that message again (its copy, whose blocks are
//     the same) and is adopted with the same blocks under the row's NID.
//     Associated (FAI) messages are adopted only when an associated
//     contents table row places them.
//
// Memory: the BIDs of the source's referenced blocks (8 bytes each), the
// listed messages' subnode-tree BIDs and the orphans found; done only when
// the source's node index is incomplete.
#include "repair/adopt_orphans.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "messaging/name_map_format.h"
#include "ndb/data_tree.h"
#include "pstkit/ltp.h"
#include "pstkit/messaging.h"

namespace pstkit::repair {
namespace {

constexpr int kMaxDepth = 32;
// Subnode trees tried per orphan message on each side of it, by BID.
constexpr size_t kPairWindow = 16;
constexpr uint32_t kMsgFlagAssociated = 0x40;  // MS-OXCMSG 2.2.1.6 mfFAI
constexpr uint32_t kMsgFlagHasAttach = 0x10;   // mfHasAttach
constexpr uint16_t kDisplayTo = 0x0E04;         // PidTagDisplayTo

// A PtypString as UTF-8 or a PtypString8 as stored (compared only with
// strings of the same store).
std::optional<std::string> text_of(const PropValue& v) {
  if (auto s = v.as_string()) return *s;
  if (auto s8 = v.as_string8()) return std::string(s8->begin(), s8->end());
  return std::nullopt;
}

// Blocks reached from nodes, by BID key.
class BlockMarks {
 public:
  BlockMarks(const ndb::Database& src) : src_(src) {}
  bool has(ndb::Bid bid) const {
    const uint64_t i = ndb::bid_key(bid) >> 1;
    auto it = marked_.find(i >> 6);
    return it != marked_.end() && (it->second >> (i & 63) & 1) != 0;
  }
  void mark(ndb::Bid bid) {
    const uint64_t i = ndb::bid_key(bid) >> 1;
    marked_[i >> 6] |= uint64_t{1} << (i & 63);
  }

  // Marks a data tree and a subnode tree with everything under them. Blocks
  // that cannot be read are marked as far as they are reached.
  void mark_node(ndb::Bid data_bid, ndb::Bid subnode_bid, int depth = 0) {
    if (depth > kMaxDepth) return;
    if (data_bid != 0 && !has(data_bid)) {
      mark(data_bid);
      if (ndb::bid_is_internal(data_bid)) {
        if (auto tree = ndb::load_data_tree(src_.header(), data_bid, recording_reader())) {
          for (ndb::Bid b : tree->leaves) mark(b);
        }
      }
    }
    if (subnode_bid != 0 && !has(subnode_bid)) {
      mark(subnode_bid);
      if (auto entries = ndb::load_subnode_tree(src_.header(), subnode_bid, recording_reader())) {
        for (const ndb::SubnodeEntry& e : *entries) mark_node(e.data_bid, e.subnode_bid, depth + 1);
      }
    }
  }

 private:
  // Every internal block read (XBLOCK, XXBLOCK, SIBLOCK children) is marked.
  ndb::BlockReader recording_reader() {
    return [this](ndb::Bid bid) {
      mark(bid);
      return src_.read_block(bid);
    };
  }
  const ndb::Database& src_;
  // Marked BID keys as 64-bit words of a bitmap, by key / 128 (bit 0 of a
  // BID is not part of its key): BIDs are handed out in sequence, so one
  // word holds many marks (a set of keys took about 40 bytes a block).
  std::unordered_map<uint64_t, uint64_t> marked_;
};

struct Candidate {
  ndb::Bid data_bid = 0;
  Bytes subject, delivery, size;  // raw values, empty when absent
  bool associated = false;
  bool has_attachments = false;
  std::set<ndb::Nid> needs;  // subnodes the PC's HNIDs name
};

struct Tree {
  ndb::Bid bid = 0;
  std::set<ndb::Nid> nids;
};

struct Row {
  ndb::Nid nid = 0;
  ndb::Nid folder = 0;
  Bytes subject, delivery, size;
  bool used = false;
};

Bytes raw_or_empty(const Result<PropValue>& v) { return v ? v->data : Bytes{}; }

Bytes cell_or_empty(const ltp::TableContext& tc, size_t row, uint16_t id, uint16_t type) {
  auto c = tc.cell_by_tag(row, ltp::make_tag(id, type));
  return c && *c ? (*c)->data : Bytes{};
}

ndb::Bid distance(ndb::Bid a, ndb::Bid b) {
  a = ndb::bid_key(a);
  b = ndb::bid_key(b);
  return a > b ? a - b : b - a;
}

bool fits(const ndb::Database& src, const Candidate& m, const Tree& t) {
  for (ndb::Nid n : m.needs) {
    if (!t.nids.count(n)) return false;
  }
  bool attachments = false, attachment_table = false;
  for (ndb::Nid n : t.nids) {
    if (ndb::nid_type(n) == ndb::kNidTypeAttachment) {
      attachments = true;
    } else if (n == ndb::kNidAttachmentTableTemplate) {
      attachment_table = true;
    } else if (n != ndb::kNidRecipientTableTemplate && !m.needs.count(n)) {
      return false;
    }
  }
  // An emptied attachment table may stay; attachments need the flag.
  if (attachments && !m.has_attachments) return false;
  if (m.has_attachments && !attachment_table) return false;
  auto node = src.open_node(ndb::make_nid(ndb::kNidTypeNormalMessage, 1), m.data_bid, t.bid);
  if (!node) return false;
  std::shared_ptr<const ndb::Node> shared(std::move(node).value());
  auto pc = ltp::PropertyContext::open(shared);
  if (!pc || !pc->all().is_ok()) return false;
  // PidTagDisplayTo is the To recipients' display names joined by "; "
  // (MS-OXCMSG 2.2.1.7): when the message has one, the recipient table
  // must give the same.
  auto display_to = pc->get(kDisplayTo);
  if (!display_to || !t.nids.count(ndb::kNidRecipientTableTemplate)) return true;
  const auto want = text_of(*display_to);
  auto table_node = shared->subnode(ndb::kNidRecipientTableTemplate);
  if (!want || !table_node) return false;
  auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(table_node).value()));
  if (!tc) return false;
  std::string to;
  for (size_t r = 0; r < tc->row_count(); ++r) {
    auto type = tc->cell_by_tag(r, ltp::make_tag(prop::kRecipientType, 0x0003));
    if (!type || !*type || !(*type)->as_i32() || *(*type)->as_i32() != 1) continue;  // MAPI_TO
    std::optional<PropValue> name;
    for (uint16_t string_type : {uint16_t(0x001F), uint16_t(0x001E)}) {
      auto c = tc->cell_by_tag(r, ltp::make_tag(prop::kDisplayName, string_type));
      if (c && *c) name = **c;
    }
    const auto text = name ? text_of(*name) : std::nullopt;
    if (!text) return false;
    to += (to.empty() ? "" : "; ") + *text;
  }
  return to == *want;
}

}  // namespace

Result<std::vector<OrphanMessage>> find_orphan_messages(const ndb::Database& src) {
  std::vector<OrphanMessage> out;
  if (!src.index_may_be_incomplete()) return out;

  // 1. What the listed nodes reference; their contents tables' rows.
  BlockMarks marks(src);
  std::vector<ndb::NodeEntry> tables;
  std::vector<ndb::Bid> listed_trees;  // listed messages' subnode trees
  PSTKIT_RETURN_IF_ERROR(src.for_each_node([&](const ndb::NodeEntry& e) {
    marks.mark_node(e.data_bid, e.subnode_bid);
    const uint8_t type = ndb::nid_type(e.nid);
    if (type == ndb::kNidTypeContentsTable || type == ndb::kNidTypeAssocContentsTable) tables.push_back(e);
    if ((type == ndb::kNidTypeNormalMessage || type == ndb::kNidTypeAssocMessage) && e.subnode_bid != 0) {
      listed_trees.push_back(e.subnode_bid);
    }
    return true;
  }));
  std::vector<ndb::BlockEntry> loose;
  PSTKIT_RETURN_IF_ERROR(src.for_each_block([&](const ndb::BlockEntry& b) {
    if (!marks.has(b.bid)) loose.push_back(b);
    return true;
  }));
  if (loose.empty()) return out;

  // 2. Subnode trees: SLBLOCK/SIBLOCK (btype 0x02, MS-PST 2.2.2.8.3.3) roots.
  // SIBLOCKs first, so that the SLBLOCKs under them are not taken as roots.
  std::vector<Tree> trees;
  for (int level : {1, 0}) {
    for (const ndb::BlockEntry& b : loose) {
      if (!ndb::bid_is_internal(b.bid) || marks.has(b.bid)) continue;
      auto data = src.read_block(b.bid);
      if (!data || (*data)->size() < 8 || (**data)[0] != 0x02 || (**data)[1] != level) continue;
      auto entries = ndb::load_subnode_tree(src.header(), b.bid, [&](ndb::Bid bid) {
        if (bid != b.bid) marks.mark(bid);
        return src.read_block(bid);
      });
      if (!entries) continue;
      Tree t;
      t.bid = b.bid;
      for (const ndb::SubnodeEntry& e : *entries) {
        t.nids.insert(e.nid);
        marks.mark_node(e.data_bid, e.subnode_bid);
      }
      trees.push_back(std::move(t));
    }
  }
  for (const Tree& t : trees) marks.mark(t.bid);

  // 3. Message PCs among the remaining data roots. XBLOCK roots first, so
  // that their leaves are not taken as roots of their own.
  std::vector<Candidate> messages;
  // MS-PST 2.4.7: the map's PC holds PidTagNameidBucketCount (0x0001) and
  // the GUID, entry and string streams (0x0002-0x0004).
  std::vector<ndb::Bid> name_map_candidates;
  bool want_name_map = false;
  {
    auto own = src.open_node(ndb::kNidNameToIdMap);
    want_name_map = !own || !ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(own).value()));
  }
  auto consider_name_map = [&](ndb::Bid data_bid, const ltp::PropertyContext& pc) {
    if (want_name_map && pc.has(name_map_format::kBucketCountId) && pc.has(name_map_format::kStreamEntryId)) {
      name_map_candidates.push_back(data_bid);
    }
  };
  auto consider = [&](ndb::Bid data_bid) {
    auto node = src.open_node(ndb::make_nid(ndb::kNidTypeNormalMessage, 1), data_bid, 0);
    if (!node) return;
    auto first = (*node)->block_count() > 0 ? (*node)->block(0) : Result<SharedBytes>(Status::not_found("empty"));
    // MS-PST 2.3.1.2 HNHDR: bSig 0xEC, bClientSig 0xBC (a PC).
    if (!first || (*first)->size() < 4 || (**first)[2] != 0xEC || (**first)[3] != 0xBC) return;
    auto pc = ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(node).value()));
    if (!pc) return;
    if (!pc->has(prop::kMessageClass)) {
      consider_name_map(data_bid, *pc);
      return;
    }
    Candidate m;
    m.data_bid = data_bid;
    m.subject = raw_or_empty(pc->get(prop::kSubject));
    m.delivery = raw_or_empty(pc->get(prop::kMessageDeliveryTime));
    m.size = raw_or_empty(pc->get(prop::kMessageSize));
    const auto flags = pc->get(prop::kMessageFlags);
    const uint32_t f = flags && flags->as_i32() ? uint32_t(*flags->as_i32()) : 0;
    m.associated = (f & kMsgFlagAssociated) != 0;
    const auto has = pc->get(prop::kHasAttachments);
    m.has_attachments = (has && has->as_bool() && *has->as_bool()) || (f & kMsgFlagHasAttach) != 0;
    for (const auto& e : pc->entries()) {
      if (ltp::is_variable_size_type(e.type) && (e.value & 0x1F) != 0) m.needs.insert(e.value);
    }
    messages.push_back(std::move(m));
  };
  for (bool internal : {true, false}) {
    for (const ndb::BlockEntry& b : loose) {
      if (ndb::bid_is_internal(b.bid) != internal || marks.has(b.bid)) continue;
      if (internal) {
        auto data = src.read_block(b.bid);
        if (!data || (*data)->size() < 8 || (**data)[0] != 0x01) continue;  // XBLOCK/XXBLOCK
        marks.mark_node(b.bid, 0);
      }
      consider(b.bid);
    }
  }
  std::sort(trees.begin(), trees.end(),
            [](const Tree& a, const Tree& b) { return ndb::bid_key(a.bid) < ndb::bid_key(b.bid); });
  // The kPairWindow entries of `pool` (sorted by BID) nearest a data block
  // by BID, on either side.
  auto window_in = [](const auto& pool, ndb::Bid data_bid, auto bid_of) {
    const ndb::Bid key = ndb::bid_key(data_bid);
    const size_t at = size_t(std::lower_bound(pool.begin(), pool.end(), key, [&](const auto& t, ndb::Bid k) {
                               return ndb::bid_key(bid_of(t)) < k;
                             }) - pool.begin());
    return std::make_pair(at > kPairWindow ? at - kPairWindow : 0, std::min(pool.size(), at + kPairWindow));
  };
  auto window_of = [&](ndb::Bid data_bid) { return window_in(trees, data_bid, [](const Tree& t) { return t.bid; }); };

  // The name map: of the copies (the lost current one, or earlier ones in
  // freed space) whose values all read (with no
  // subnode tree, or with a nearby one: large streams live in subnodes),
  // the one with the longest entry stream, then the highest BID.
  ndb::Bid map_bid = 0, map_tree = 0;
  size_t map_entries = 0;
  for (ndb::Bid data_bid : name_map_candidates) {
    auto [from, to] = window_of(data_bid);
    // No tree; the one the map's own (stale) entry names, if listed; nearby
    // loose ones.
    std::vector<ndb::Bid> options{0};
    if (auto own = src.find_node(ndb::kNidNameToIdMap); own && own->subnode_bid != 0) {
      options.push_back(own->subnode_bid);
    }
    for (size_t t = from; t < to; ++t) options.push_back(trees[t].bid);
    for (ndb::Bid sub : options) {
      auto node = src.open_node(ndb::kNidNameToIdMap, data_bid, sub);
      if (!node) continue;
      auto pc = ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(node).value()));
      if (!pc || !pc->all().is_ok()) continue;
      auto entries = pc->get(name_map_format::kStreamEntryId);
      const size_t n = entries ? entries->data.size() : 0;
      if (n > map_entries || (n == map_entries && ndb::bid_key(data_bid) > ndb::bid_key(map_bid))) {
        map_bid = data_bid;
        map_tree = sub;
        map_entries = n;
      }
      break;
    }
  }
  if (map_bid != 0) {
    OrphanMessage map;
    map.entry.nid = ndb::kNidNameToIdMap;
    map.entry.data_bid = map_bid;
    map.entry.subnode_bid = map_tree;
    map.how = "the name-to-ID map cannot be read: a copy of it found by its blocks (data " + hex(map_bid) +
              (map_tree ? ", subnode tree " + hex(map_tree) : std::string()) + ", " +
              std::to_string(map_entries / name_map_format::kNameIdSize) + " names) adopted";
    out.push_back(std::move(map));
  }
  if (messages.empty()) return out;

  // 4. Pairing, nearest fitting pairs first. Only the kPairWindow trees
  // nearest by BID on either side are tried for a message, so a file with
  // many orphans costs O(messages) fits, not O(messages x trees).
  std::vector<std::tuple<ndb::Bid, size_t, size_t>> pairs;  // distance, message, tree
  for (size_t m = 0; m < messages.size(); ++m) {
    auto [from, to] = window_of(messages[m].data_bid);
    for (size_t t = from; t < to; ++t) {
      if (fits(src, messages[m], trees[t])) pairs.emplace_back(distance(messages[m].data_bid, trees[t].bid), m, t);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<ndb::Bid> subtree(messages.size(), 0);
  std::vector<bool> tree_used(trees.size(), false);
  for (const auto& [d, m, t] : pairs) {
    (void)d;
    if (subtree[m] != 0 || tree_used[t]) continue;
    subtree[m] = trees[t].bid;
    tree_used[t] = true;
  }
  // Messages no loose tree fits: the nearest fitting tree a listed message
  // shares (blocks shared between copies of a message, cRef > 1).
  auto by_key = [](ndb::Bid a, ndb::Bid b) { return ndb::bid_key(a) < ndb::bid_key(b); };
  std::sort(listed_trees.begin(), listed_trees.end(), by_key);
  listed_trees.erase(std::unique(listed_trees.begin(), listed_trees.end()), listed_trees.end());
  std::map<ndb::Bid, Tree> listed_loaded;  // only the trees tried
  for (size_t m = 0; m < messages.size(); ++m) {
    if (subtree[m] != 0) continue;
    auto [from, to] = window_in(listed_trees, messages[m].data_bid, [](ndb::Bid b) { return b; });
    ndb::Bid best = 0, best_distance = 0;
    for (size_t t = from; t < to; ++t) {
      auto [it, added] = listed_loaded.try_emplace(listed_trees[t]);
      Tree& tree = it->second;
      if (added) {
        tree.bid = listed_trees[t];
        auto entries = ndb::load_subnode_tree(src.header(), tree.bid, [&](ndb::Bid bid) { return src.read_block(bid); });
        if (entries) {
          for (const ndb::SubnodeEntry& e : *entries) tree.nids.insert(e.nid);
        }
      }
      if (tree.nids.empty() || !fits(src, messages[m], tree)) continue;
      const ndb::Bid d = distance(messages[m].data_bid, tree.bid);
      if (best == 0 || d < best_distance) {
        best = tree.bid;
        best_distance = d;
      }
    }
    subtree[m] = best;
  }

  // 5. Rows of listed folders' contents tables that name no listed node.
  std::vector<Row> rows;
  for (const ndb::NodeEntry& e : tables) {
    auto node = src.open_node(e.nid);
    if (!node) continue;
    auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(node).value()));
    if (!tc) continue;
    const uint8_t folder_type = ndb::kNidTypeNormalFolder;
    for (size_t r = 0; r < tc->row_count(); ++r) {
      auto id = tc->row_id(r);
      if (!id || src.find_node(*id).is_ok()) continue;
      Row row;
      row.nid = *id;
      row.folder = ndb::make_nid(folder_type, ndb::nid_index(e.nid));
      auto column_type = [&](uint16_t pid) -> uint16_t {
        for (const auto& c : tc->columns()) {
          if (ltp::tag_id(c.tag) == pid) return ltp::tag_type(c.tag);
        }
        return 0;
      };
      row.subject = cell_or_empty(*tc, r, prop::kSubject, column_type(prop::kSubject));
      row.delivery = cell_or_empty(*tc, r, prop::kMessageDeliveryTime, column_type(prop::kMessageDeliveryTime));
      row.size = cell_or_empty(*tc, r, prop::kMessageSize, column_type(prop::kMessageSize));
      rows.push_back(std::move(row));
    }
  }
  auto same = [](const Bytes& a, const Bytes& b) { return a.empty() || b.empty() || a == b; };
  std::vector<Row*> placed_row(messages.size(), nullptr);
  // Rows by (NID type, subject), in table order.
  std::map<std::pair<uint8_t, Bytes>, std::vector<size_t>> rows_by_subject;
  for (size_t i = 0; i < rows.size(); ++i) rows_by_subject[{ndb::nid_type(rows[i].nid), rows[i].subject}].push_back(i);
  for (size_t m = 0; m < messages.size(); ++m) {
    const Candidate& c = messages[m];
    const uint8_t want_type = c.associated ? ndb::kNidTypeAssocMessage : ndb::kNidTypeNormalMessage;
    Row* place = nullptr;
    if (auto it = rows_by_subject.find({want_type, c.subject}); it != rows_by_subject.end()) {
      for (size_t i : it->second) {
        Row& r = rows[i];
        if (!r.used && same(r.delivery, c.delivery) && same(r.size, c.size)) {
          place = &r;
          break;
        }
      }
    }
    if (!place && c.associated) continue;
    OrphanMessage o;
    o.entry.data_bid = c.data_bid;
    o.entry.subnode_bid = subtree[m];
    std::string found = "message found by its blocks (data " + hex(c.data_bid) +
                        (subtree[m] ? ", subnode tree " + hex(subtree[m]) : std::string(", no subnode tree")) +
                        "), no NBT entry";
    if (place) {
      place->used = true;
      placed_row[m] = place;
      o.entry.nid = place->nid;
      o.entry.parent_nid = place->folder;
      o.how = found + ": adopted with its original id, in folder " + hex(place->folder) +
              " (its contents table row matches)";
    } else {
      o.how = found + ": adopted";
    }
    out.push_back(std::move(o));
  }
  // Copies sharing a placed message's blocks: rows left whose subject,
  // delivery time and size are all present and equal to that message's.
  for (size_t m = 0; m < messages.size(); ++m) {
    const Row* first = placed_row[m];
    if (!first || first->subject.empty() || first->delivery.empty() || first->size.empty()) continue;
    const Candidate& c = messages[m];
    if (c.subject != first->subject || c.delivery != first->delivery || c.size != first->size) continue;
    auto it = rows_by_subject.find({ndb::nid_type(first->nid), c.subject});
    for (size_t i : it->second) {
      Row& r = rows[i];
      if (r.used || r.delivery != c.delivery || r.size != c.size) continue;
      r.used = true;
      OrphanMessage o;
      o.entry.nid = r.nid;
      o.entry.parent_nid = r.folder;
      o.entry.data_bid = c.data_bid;
      o.entry.subnode_bid = subtree[m];
      o.how = "copy of message " + hex(first->nid) + " sharing its blocks (data " + hex(c.data_bid) +
              (subtree[m] ? ", subnode tree " + hex(subtree[m]) : std::string(", no subnode tree")) +
              "), no NBT entry: adopted with its original id, in folder " + hex(r.folder) +
              " (its contents table row matches)";
      out.push_back(std::move(o));
    }
  }
  return out;
}

}  // namespace pstkit::repair
