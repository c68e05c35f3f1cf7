// fix_store, messages: what the Inbox Repair Tool checks of each item
// (Microsoft KB 287497; ../shared/reference/mapi-and-scanpst-notes.md):
// message class, search key, times, size, has-attachments, the attachment
// and recipient tables (MS-PST 2.4.5, 2.4.6) and the display-to/cc/bcc
// strings made from the recipients. A message is written only when
// something differs.
#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include "messaging/node_writer.h"
#include "messaging/store_template.h"
#include "messaging/store_writer_impl.h"
#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/messaging.h"
#include "repair/fix_store_internal.h"

namespace pstkit::repair {

namespace {

using ndb::Nid;

constexpr int32_t kMsgFlagHasAttach = 0x10;  // MS-OXCMSG 2.2.1.6 mfHasAttach
constexpr uint16_t kLastModificationTime = 0x3008;
constexpr uint16_t kDisplayBcc = 0x0E02;
constexpr uint16_t kDisplayCc = 0x0E03;
constexpr uint16_t kDisplayTo = 0x0E04;
// MS-PST 2.4.5, 2.4.6: the subnodes of a message holding its tables.
constexpr Nid kRecipientTable = ndb::kNidRecipientTableTemplate;
constexpr Nid kAttachmentTable = ndb::kNidAttachmentTableTemplate;



// MS-OXCMSG 2.2.1.3: a message class is ASCII, 1-255 characters, without
// a leading or trailing period.
bool valid_message_class(const std::optional<std::string>& s) {
  if (!s || s->empty() || s->size() > 255 || s->front() == '.' || s->back() == '.') return false;
  return std::all_of(s->begin(), s->end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// A subnode's table, if it opens and every row reads.
struct TableState {
  bool present = false;
  std::optional<ltp::TableContext> tc;
  std::string defect;  // why it cannot be kept ("" when it can)
};

TableState open_subnode_table(const ndb::Node& message, Nid subnode, const ltp::Options& options) {
  TableState st;
  auto node = message.subnode(subnode);
  if (!node) {
    if (node.status().code() != Code::kNotFound) {
      st.present = true;
      st.defect = node.status().message();
    }
    return st;
  }
  st.present = true;
  auto tc = ltp::TableContext::open(std::shared_ptr<const ndb::Node>(std::move(*node)), options);
  if (!tc) {
    st.defect = tc.status().message();
    return st;
  }
  // MS-PST 2.3.4.1 TCINFO: hidRowIndex at offset 10; its BTH must be valid.
  if (auto info = tc->heap().get(tc->heap().user_root()); info && info->size() >= 14 && info->u32(10) != 0) {
    auto bth = ltp::Bth::open(tc->heap(), info->u32(10));
    Status s = bth ? bth->validate() : bth.status();
    if (!s.is_ok()) st.defect = s.message();
  }
  if (st.defect.empty() && tc->row_count() != tc->matrix_row_count()) st.defect = "row index and row matrix disagree";
  for (const auto& e : tc->row_index()) {
    if (!st.defect.empty()) break;
    auto id = tc->row_id(e.row_index);
    if (!id || *id != e.row_id) st.defect = "row index entry " + hex(e.row_id) + " is wrong";
  }
  for (size_t r = 0; r < tc->matrix_row_count() && st.defect.empty(); ++r) {
    auto cells = tc->row(r);
    if (!cells && cells.status().code() != Code::kUnsupported) st.defect = cells.status().message();
  }
  st.tc.emplace(std::move(*tc));
  return st;
}

// Why an attachment's embedded message (MS-PST 2.4.6.2: PidTagAttachDataObject,
// a PtypObject naming a subnode) cannot be read ("" when it can): its PC and
// values, its tables and its own attachments, nested up to 8 deep.
std::string embedded_defect(const ltp::PropertyContext& attachment, const ltp::Options& options, int depth) {
  const auto tag = attachment.tag_of(prop::kAttachDataBin);
  if (!tag || ltp::tag_type(*tag) != ltp::kPtypObject) return "";
  auto node = attachment.open_value_node(prop::kAttachDataBin);
  // MS-OXCMSG 2.2.2.9: only afEmbeddedMessage names a message; an OLE
  // attachment's PtypObject holds the bytes of a storage, which need only
  // open (like other values in subnodes: copy_nodes copied its blocks whole
  // or left it out).
  auto method = attachment.get(prop::kAttachMethod);
  auto method_value = method ? method->as_i32() : Result<int32_t>(method.status());
  if (!method_value || *method_value != kAttachEmbeddedMessage) {
    return node ? "" : "attachment object: " + node.status().message();
  }
  if (depth > 8) return "embedded messages nested deeper than 8";
  if (!node) return "embedded message: " + node.status().message();
  std::shared_ptr<const ndb::Node> shared(std::move(*node));
  auto pc = ltp::PropertyContext::open(shared, options);
  if (!pc) return "embedded message: " + pc.status().message();
  std::vector<Status> errors;
  pc->check_values_shallow(&errors);
  for (const Status& e : errors) {
    if (e.code() != Code::kUnsupported) return "embedded message value: " + e.message();
  }
  auto bth = ltp::Bth::open(pc->heap(), pc->heap().user_root());
  if (Status s = bth ? bth->validate() : bth.status(); !s.is_ok()) return "embedded message: " + s.message();
  for (Nid table : {kRecipientTable, kAttachmentTable}) {
    TableState st = open_subnode_table(*shared, table, options);
    if (!st.defect.empty()) return "embedded message table " + hex(table) + ": " + st.defect;
  }
  auto subs = shared->subnodes();
  if (!subs) return "embedded message: " + subs.status().message();
  for (const auto& e : *subs) {
    if (ndb::nid_type(e.nid) != ndb::kNidTypeAttachment) continue;
    auto sub = shared->subnode(e.nid);
    if (!sub) return "embedded attachment: " + sub.status().message();
    auto apc = ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(*sub)), options);
    if (!apc) return "embedded attachment: " + apc.status().message();
    std::vector<Status> aerrors;
    apc->check_values_shallow(&aerrors);
    for (const Status& err : aerrors) {
      if (err.code() != Code::kUnsupported) return "embedded attachment value: " + err.message();
    }
    if (std::string d = embedded_defect(*apc, options, depth + 1); !d.empty()) return d;
  }
  return "";
}

}  // namespace

Status StoreFixer::fix_messages(const std::vector<Nid>& kids) {
  for (Nid nid : kids) {
    const uint8_t t = ndb::nid_type(nid);
    if (t != ndb::kNidTypeNormalMessage && t != ndb::kNidTypeAssocMessage) continue;
    PSTKIT_RETURN_IF_ERROR(fix_message(nid));
  }
  return Status::ok();
}

Status StoreFixer::fix_message(Nid nid) {
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry entry, db_.find_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto node_owned, db_.open_node(nid));
  std::shared_ptr<const ndb::Node> node(std::move(node_owned));
  PSTKIT_ASSIGN_OR_RETURN(auto previous, node->subnodes());
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PropertyContext::open(node, ltp_options_));
  const std::vector<PropValue> props = pc.all_readable();
  PropertyBag bag(props, 1252);

  std::map<Nid, ltp::BuiltNode> replace;
  std::set<Nid> drop;
  std::vector<PropValue> set;  // properties to set on the message

  // ---- attachments (MS-PST 2.4.6): the attachment subnodes that can be
  // read, and a table with a row for each of them and no other.
  // Their PCs are opened; their properties (data included) are read only
  // when the table is rebuilt or the message size computed.
  std::map<Nid, ltp::PropertyContext> attachments;
  for (const auto& e : previous) {
    if (ndb::nid_type(e.nid) != ndb::kNidTypeAttachment) continue;
    auto sub = node->subnode(e.nid);
    std::optional<ltp::PropertyContext> apc;
    if (sub) {
      auto opened = ltp::PropertyContext::open(std::shared_ptr<const ndb::Node>(std::move(*sub)), ltp_options_);
      if (opened) apc.emplace(std::move(*opened));
    }
    std::string why = apc ? "" : "cannot be opened";
    if (apc) {
      // Its data and other values must read (an unreadable attachment is
      // dropped, never the message: issue 8). Values in subnodes are only
      // opened: copy_nodes copied a subnode's blocks whole or left it out.
      std::vector<Status> errors;
      apc->check_values_shallow(&errors);
      for (const Status& err : errors) {
        if (err.code() != Code::kUnsupported) {
          why = "a value cannot be read (" + err.message() + ")";
          break;
        }
      }
      if (why.empty()) why = embedded_defect(*apc, ltp_options_, 0);
    }
    if (!why.empty()) {
      drop.insert(e.nid);
      note("SUBNODE_LOST", "attachment", e.nid,
           "attachment " + hex(e.nid) + " of message " + hex(nid) + ": " + why + ": left out");
      continue;
    }
    attachments.emplace(e.nid, std::move(*apc));
  }
  TableState atable = open_subnode_table(*node, kAttachmentTable, ltp_options_);
  {
    std::set<Nid> rows;
    if (atable.tc) {
      for (const auto& e : atable.tc->row_index()) rows.insert(e.row_id);
    }
    std::set<Nid> present;
    for (const auto& [a, unused] : attachments) present.insert(a);
    const bool table_needed = !present.empty();
    const bool table_ok = atable.defect.empty() && rows == present && (atable.present || !table_needed);
    if (!table_ok) {
      if (!table_needed) {
        drop.insert(kAttachmentTable);
      } else {
        std::vector<ltp::PropTag> columns = atable.tc ? ltp::template_columns(*atable.tc) : attachment_columns_;
        PSTKIT_ASSIGN_OR_RETURN(auto tc, ltp::TcBuilder::create(format_, columns));
        for (const auto& [a, apc] : attachments) {
          PSTKIT_RETURN_IF_ERROR(tc.add_row(a, StoreWriter::Impl::row_cells(tc.columns(), apc.all_readable())));
        }
        PSTKIT_ASSIGN_OR_RETURN(auto built, tc.build());
        replace.emplace(kAttachmentTable, std::move(built));
      }
      note("ATTACHMENTS_REBUILT", "attachment table", nid,
           "attachment table of message " + hex(nid) +
               (atable.defect.empty() ? std::string(atable.present ? "" : " (missing)")
                                      : " (damaged: " + atable.defect + ")") +
               " rewritten with " + std::to_string(present.size()) + " rows for the attachments present");
    }
  }
  const bool has_attachments = !attachments.empty();

  // ---- recipients (MS-PST 2.4.5): the rows that can be read.
  TableState rtable = open_subnode_table(*node, kRecipientTable, ltp_options_);
  std::vector<std::vector<PropValue>> recipients;
  if (rtable.tc) {
    for (size_t r = 0; r < rtable.tc->matrix_row_count(); ++r) {
      auto cells = rtable.tc->row(r);
      if (cells) recipients.push_back(std::move(*cells));
    }
  }
  if (rtable.present && !rtable.defect.empty()) {
    std::vector<ltp::PropTag> columns = rtable.tc ? ltp::template_columns(*rtable.tc) : recipient_columns_;
    PSTKIT_ASSIGN_OR_RETURN(auto tc, ltp::TcBuilder::create(format_, columns));
    uint32_t next_id = 0;
    for (const auto& cells : recipients) {
      std::vector<PropValue> row;
      uint32_t id = next_id;
      for (const auto& c : cells) {
        if (c.tag == ltp::TcBuilder::kRowIdTag) {
          if (auto v = c.as_i32()) id = uint32_t(*v);
          continue;
        }
        if (c.tag == ltp::TcBuilder::kRowVerTag) continue;
        if (!tc.find_column(c.tag)) PSTKIT_RETURN_IF_ERROR(tc.add_column(c.tag));
        row.push_back(c);
      }
      if (tc.has_row(id)) continue;
      PSTKIT_RETURN_IF_ERROR(tc.add_row(id, row));
      next_id = std::max(next_id, id + 1);
    }
    PSTKIT_ASSIGN_OR_RETURN(auto built, tc.build());
    replace.emplace(kRecipientTable, std::move(built));
    note("RECIPIENTS_REBUILT", "recipient table", nid,
         "recipient table of message " + hex(nid) + " damaged (" + rtable.defect + "): rewritten with the " +
             std::to_string(recipients.size()) + " readable rows");
  }

  // ---- the message's own properties (KB 287497). Properties that are
  // missing are filled in only on a message that was damaged (values lost,
  // a table rebuilt): other writers leave out properties Outlook computes
  // (search key, times, size), and an intact store must not change.
  const bool damaged = changed_objects_.count(nid) > 0 || !replace.empty() || !drop.empty();
  std::vector<std::string> fixed;
  uint16_t st = 0;
  if (!valid_message_class(bag.get_string(prop::kMessageClass))) {
    set.push_back(PropValue{ltp::make_tag(prop::kMessageClass, string_type(format_)), encode_text("IPM.Note", format_)});
    fixed.push_back("message class");
  }
  (void)st;
  if (damaged && !bag.has(prop::kSearchKey)) {
    std::random_device random;
    Bytes key(16);
    for (auto& b : key) b = uint8_t(random());
    set.push_back(PropValue{ltp::make_tag(prop::kSearchKey, ltp::kPtypBinary), key});
    fixed.push_back("search key");
  }
  const uint64_t now = filetime_now();
  if (damaged && !bag.has(prop::kCreationTime)) {
    set.push_back(PropValue{ltp::make_tag(prop::kCreationTime, ltp::kPtypTime), le64(now)});
    fixed.push_back("creation time");
  }
  if (damaged && !bag.has(kLastModificationTime)) {
    set.push_back(PropValue{ltp::make_tag(kLastModificationTime, ltp::kPtypTime), le64(now)});
    fixed.push_back("last modification time");
  }
  // PidTagHasAttachments and mfHasAttach follow the attachments present
  // (Outlook often stores only mfHasAttach and computes the other).
  const auto has_attach_prop = bag.get_bool(prop::kHasAttachments);
  if (has_attach_prop ? *has_attach_prop != has_attachments : damaged) {
    set.push_back(PropValue{ltp::make_tag(prop::kHasAttachments, ltp::kPtypBoolean), Bytes{uint8_t(has_attachments)}});
    fixed.push_back("has-attachments");
  }
  if (const auto flags = bag.get_i32(prop::kMessageFlags)) {
    const int32_t want = has_attachments ? (*flags | kMsgFlagHasAttach) : (*flags & ~kMsgFlagHasAttach);
    if (want != *flags) {
      set.push_back(PropValue{ltp::make_tag(prop::kMessageFlags, ltp::kPtypInteger32), le32(uint32_t(want))});
      fixed.push_back("mfHasAttach");
    }
  } else if (has_attachments && damaged) {
    set.push_back(PropValue{ltp::make_tag(prop::kMessageFlags, ltp::kPtypInteger32), le32(kMsgFlagHasAttach)});
    fixed.push_back("mfHasAttach");
  }
  // MS-OXCMSG 2.2.1.7-9: display names of the To, Cc and Bcc recipients,
  // separated by "; ". Set when missing; when present they are Outlook's
  // (which may format names its own way) and left alone unless the
  // recipient table was rebuilt.
  const bool recipients_rebuilt = replace.count(kRecipientTable) > 0;
  if (rtable.tc || recipients_rebuilt) {
    std::string names[3];
    for (const auto& cells : recipients) {
      PropertyBag rb(cells, bag.codepage());
      const int32_t type = rb.get_i32(prop::kRecipientType).value_or(0) & 0x0F;
      if (type < 1 || type > 3) continue;
      const std::string name = rb.get_string(prop::kDisplayName).value_or("");
      if (!names[type - 1].empty()) names[type - 1] += "; ";
      names[type - 1] += name;
    }
    const uint16_t ids[3] = {kDisplayTo, kDisplayCc, kDisplayBcc};
    const char* labels[3] = {"display to", "display cc", "display bcc"};
    for (int i = 0; i < 3; ++i) {
      const auto have = bag.get_string(ids[i]);
      if (have ? (recipients_rebuilt && *have != names[i]) : (damaged && !names[i].empty())) {
        set.push_back(PropValue{ltp::make_tag(ids[i], string_type(format_)), encode_text(names[i], format_)});
        fixed.push_back(labels[i]);
      }
    }
  }
  // PidTagMessageSize: set when missing (Outlook's own figure is kept).
  if (damaged && !bag.has(prop::kMessageSize)) {
    uint64_t size = 0;
    for (const auto& p : props) size += p.data.size();
    for (const auto& s : set) size += s.data.size();
    for (const auto& [a, apc] : attachments) {
      for (const auto& p : apc.all_readable()) size += p.data.size();
    }
    set.push_back(PropValue{ltp::make_tag(prop::kMessageSize, ltp::kPtypInteger32),
                            le32(uint32_t(std::min<uint64_t>(size, 0x7FFFFFFF)))});
    fixed.push_back("message size");
  }

  if (set.empty() && replace.empty() && drop.empty()) return Status::ok();
  PSTKIT_ASSIGN_OR_RETURN(auto builder, ltp::PcBuilder::from_existing(pc));
  for (const auto& v : set) {
    if (auto old = builder.tag_of(v.id()); old && *old != v.tag) builder.remove(v.id());
    PSTKIT_RETURN_IF_ERROR(builder.set(v));
  }
  PSTKIT_ASSIGN_OR_RETURN(ltp::BuiltNode built, builder.build());
  std::vector<Nid> carried;
  for (const auto& e : previous) {
    if (built.subnodes.count(e.nid) || built.reused_subnodes.count(e.nid) || built.released_subnodes.count(e.nid)) {
      continue;
    }
    if (replace.count(e.nid) || drop.count(e.nid)) continue;
    carried.push_back(e.nid);
  }
  for (auto& [snid, sub] : replace) built.subnodes[snid] = std::move(sub);
  PSTKIT_RETURN_IF_ERROR(put_built_node(db_, nid, entry.parent_nid, built, previous, carried));
  if (!set.empty()) {
    std::string what;
    for (const auto& f : fixed) what += (what.empty() ? "" : ", ") + f;
    note("MESSAGE_FIXED", "message", nid, "set " + what);
  }
  changed_objects_.insert(nid);
  return Status::ok();
}

}  // namespace pstkit::repair
