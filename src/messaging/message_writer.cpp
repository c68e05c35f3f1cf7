// StoreWriter: messages, recipients and attachments (MS-PST 2.4.5, 2.4.6).
#include <algorithm>
#include <chrono>
#include <set>

#include "messaging/node_writer.h"
#include "messaging/store_writer_impl.h"
#include "pstkit/codepage.h"

namespace pstkit {
namespace {

constexpr int32_t kMsgFlagRead = 0x01;       // MS-OXCMSG 2.2.1.6 mfRead
constexpr int32_t kMsgFlagHasAttach = 0x10;  // mfHasAttach
constexpr ltp::PropTag kAttachDataObject = 0x3701000D;
constexpr ltp::PropTag kAttachDataBinary = 0x37010102;
constexpr ltp::PropTag kRenderingPosition = 0x370B0003;
constexpr ltp::PropTag kAttachNumber = 0x0E210003;
constexpr ltp::PropTag kCreationTime = 0x30070040;
constexpr ltp::PropTag kLastModificationTime = 0x30080040;
constexpr ltp::PropTag kRowId = 0x30000003;  // PidTagRowid of recipient rows
constexpr Nid kRecipientTable = ndb::kNidRecipientTableTemplate;
constexpr Nid kAttachmentTable = ndb::kNidAttachmentTableTemplate;

Bytes le32(uint32_t v) {
  Bytes b(4);
  store_le32(b.data(), v);
  return b;
}
Bytes le64(uint64_t v) {
  Bytes b(8);
  store_le64(b.data(), v);
  return b;
}

uint64_t filetime_now() {
  using namespace std::chrono;
  const auto since_unix = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count() / 100;
  return uint64_t(since_unix) + 116444736000000000ull;
}

PropValue make_prop(ltp::PropTag tag, Bytes data) {
  PropValue v;
  v.tag = tag;
  v.data = std::move(data);
  return v;
}

// Strings in the file's native type (ANSI files hold PtypString8, encoded
// in the message's code page, which the reader decodes them with).
PropValue native(ndb::FileFormat format, const PropValue& v, uint32_t codepage = 1252) {
  const uint16_t t = v.type();
  if (format == ndb::FileFormat::kAnsi && t == ltp::kPtypString) {
    auto s = v.as_string();
    return make_prop(ltp::make_tag(v.id(), ltp::kPtypString8), encode_codepage(s ? *s : "", codepage));
  }
  if (format == ndb::FileFormat::kUnicode && t == ltp::kPtypString8) {
    PropertyBag one({v}, 1252);
    uint16_t type = 0;
    return make_prop(ltp::make_tag(v.id(), ltp::kPtypString), encode_text(format, one.decode_string(v), &type));
  }
  return v;
}

int32_t flags_of(const std::vector<PropValue>& props) {
  const PropValue* f = ltp::find_property(props, prop::kMessageFlags);
  if (!f) return 0;
  auto v = f->as_i32();
  return v ? *v : 0;
}

}  // namespace

// Builds a message's node: its PC, recipient table, attachment table and
// attachment objects (recursively for embedded messages). props receives
// the message's final properties (for its contents table row).
static Result<ltp::BuiltNode> build_message_node(StoreWriter::Impl& m, const NewMessage& msg,
                                                 std::vector<PropValue>* props_out, uint64_t* size_out,
                                                 int depth) {
  if (depth > 32) return Status::invalid_argument("embedded messages nested deeper than 32");
  // MS-OXCMSG 2.2.1.x: 8-bit strings are in PidTagMessageCodepage; ANSI
  // files always get one, so that readers do not fall back to the Internet
  // code page (often UTF-8) for text encoded here: the given one, else the
  // store's.
  uint32_t cp = m.store_codepage;
  if (const PropValue* c = ltp::find_property(msg.properties, prop::kMessageCodepage)) {
    if (auto given = Store::own_codepage({*c})) cp = *given;
  }
  const uint32_t saved_cp = m.text_codepage;
  m.text_codepage = cp;
  struct Restore {
    StoreWriter::Impl& impl;
    uint32_t cp;
    ~Restore() { impl.text_codepage = cp; }
  } restore{m, saved_cp};
  std::vector<PropValue> props;
  for (const auto& p : msg.properties) ltp::set_property(props, native(m.format, p, cp));
  for (const auto& nv : msg.named) {
    PSTKIT_ASSIGN_OR_RETURN(uint16_t id, m.named_id(nv.name));
    ltp::set_property(props, native(m.format, make_prop(ltp::make_tag(id, nv.type), nv.data), cp));
  }
  if (m.format == ndb::FileFormat::kAnsi) {
    ltp::set_property(props, make_prop(ltp::make_tag(prop::kMessageCodepage, ltp::kPtypInteger32), le32(cp)));
  }
  uint16_t st = 0;
  if (!ltp::find_property(props, prop::kMessageClass)) {
    props.push_back(make_prop(ltp::make_tag(prop::kMessageClass, 0), encode_text(m.format, "IPM.Note", &st)));
    props.back().tag = ltp::make_tag(prop::kMessageClass, st);
  }
  const uint64_t now = filetime_now();
  if (!ltp::find_property(props, ltp::tag_id(kCreationTime))) props.push_back(make_prop(kCreationTime, le64(now)));
  if (!ltp::find_property(props, ltp::tag_id(kLastModificationTime))) props.push_back(make_prop(kLastModificationTime, le64(now)));
  int32_t flags = ltp::find_property(props, prop::kMessageFlags) ? flags_of(props) : kMsgFlagRead;
  if (msg.attachments.empty()) {
    flags &= ~kMsgFlagHasAttach;
  } else {
    flags |= kMsgFlagHasAttach;
  }
  ltp::set_property(props, make_prop(ltp::make_tag(prop::kMessageFlags, ltp::kPtypInteger32), le32(uint32_t(flags))));
  ltp::set_property(props, make_prop(ltp::make_tag(prop::kHasAttachments, ltp::kPtypBoolean), Bytes{uint8_t(!msg.attachments.empty())}));

  ltp::BuiltNode node;
  uint64_t size = 0;

  // MS-PST 2.4.5.2 recipient table: every recipient property is a column.
  PSTKIT_ASSIGN_OR_RETURN(auto recipients, ltp::TcBuilder::create(m.format, m.recipient_columns));
  for (size_t i = 0; i < msg.recipients.size(); ++i) {
    std::vector<PropValue> cells;
    for (const auto& p : msg.recipients[i]) ltp::set_property(cells, native(m.format, p, cp));
    ltp::set_property(cells, make_prop(kRowId, le32(uint32_t(i))));
    for (const auto& c : cells) {
      if (!recipients.find_column(c.tag)) PSTKIT_RETURN_IF_ERROR(recipients.add_column(c.tag));
      size += c.data.size();
    }
    PSTKIT_RETURN_IF_ERROR(recipients.add_row(uint32_t(i), cells));
  }
  PSTKIT_ASSIGN_OR_RETURN(auto recipient_node, recipients.build());
  node.subnodes.emplace(kRecipientTable, std::move(recipient_node));

  // MS-PST 2.4.6 attachments: a table of summaries and one PC per attachment.
  if (!msg.attachments.empty()) {
    PSTKIT_ASSIGN_OR_RETURN(auto table, ltp::TcBuilder::create(m.format, m.attachment_columns));
    for (size_t i = 0; i < msg.attachments.size(); ++i) {
      const NewAttachment& a = msg.attachments[i];
      const Nid anid = ndb::make_nid(ndb::kNidTypeAttachment, uint32_t(0x400 + i));
      std::vector<PropValue> aprops;
      PSTKIT_ASSIGN_OR_RETURN(ltp::BuiltNode anode, m.build_attachment(a, uint32_t(i), &aprops, depth));
      for (const auto& p : aprops) size += p.data.size();
      PSTKIT_RETURN_IF_ERROR(table.add_row(anid, StoreWriter::Impl::row_cells(table.columns(), aprops)));
      node.subnodes.emplace(anid, std::move(anode));
    }
    PSTKIT_ASSIGN_OR_RETURN(auto table_node, table.build());
    node.subnodes.emplace(kAttachmentTable, std::move(table_node));
  }

  for (const auto& p : props) size += p.data.size();
  ltp::set_property(props, make_prop(ltp::make_tag(prop::kMessageSize, ltp::kPtypInteger32), le32(uint32_t(std::min<uint64_t>(size, 0x7FFFFFFF)))));
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PcBuilder::create(m.format));
  for (const auto& p : props) PSTKIT_RETURN_IF_ERROR(pc.set(p));
  PSTKIT_ASSIGN_OR_RETURN(auto pc_node, pc.build());
  node.blocks = std::move(pc_node.blocks);
  for (auto& [snid, sub] : pc_node.subnodes) node.subnodes.emplace(snid, std::move(sub));
  if (props_out) *props_out = std::move(props);
  if (size_out) *size_out = size;
  return node;
}

Result<ltp::BuiltNode> StoreWriter::Impl::build_attachment(const NewAttachment& a, uint32_t index,
                                                           std::vector<PropValue>* props_out, int depth) {
  std::vector<PropValue> props;
  for (const auto& p : a.properties) ltp::set_property(props, native(format, p, text_codepage));
  for (const auto& nv : a.named) {
    PSTKIT_ASSIGN_OR_RETURN(uint16_t id, named_id(nv.name));
    ltp::set_property(props, native(format, make_prop(ltp::make_tag(id, nv.type), nv.data), text_codepage));
  }
  ltp::set_property(props, make_prop(kAttachNumber, le32(index)));
  if (!ltp::find_property(props, ltp::tag_id(kRenderingPosition))) props.push_back(make_prop(kRenderingPosition, le32(0xFFFFFFFF)));
  const uint64_t now = filetime_now();
  if (!ltp::find_property(props, ltp::tag_id(kCreationTime))) props.push_back(make_prop(kCreationTime, le64(now)));
  if (!ltp::find_property(props, ltp::tag_id(kLastModificationTime))) props.push_back(make_prop(kLastModificationTime, le64(now)));
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PcBuilder::create(format));
  uint64_t size = 0;
  if (a.embedded) {
    std::vector<PropValue> inner_props;
    uint64_t inner_size = 0;
    PSTKIT_ASSIGN_OR_RETURN(ltp::BuiltNode inner, build_message_node(*this, *a.embedded, &inner_props, &inner_size, depth + 1));
    ltp::set_property(props, make_prop(ltp::make_tag(prop::kAttachMethod, ltp::kPtypInteger32), le32(kAttachEmbeddedMessage)));
    PSTKIT_RETURN_IF_ERROR(pc.set_object(kAttachDataObject, std::move(inner), uint32_t(std::min<uint64_t>(inner_size, 0xFFFFFFFF))).status());
    size = inner_size;
  } else {
    if (!ltp::find_property(props, prop::kAttachMethod)) {
      props.push_back(make_prop(ltp::make_tag(prop::kAttachMethod, ltp::kPtypInteger32), le32(kAttachByValue)));
    }
    PSTKIT_RETURN_IF_ERROR(pc.set(kAttachDataBinary, a.data));
    size = a.data.size();
  }
  for (const auto& p : props) size += p.data.size();
  ltp::set_property(props, make_prop(ltp::make_tag(prop::kAttachSize, ltp::kPtypInteger32), le32(uint32_t(std::min<uint64_t>(size, 0x7FFFFFFF)))));
  for (const auto& p : props) PSTKIT_RETURN_IF_ERROR(pc.set(p));
  PSTKIT_ASSIGN_OR_RETURN(auto built, pc.build());
  if (props_out) *props_out = std::move(props);
  return built;
}

Result<std::vector<PropValue>> StoreWriter::Impl::message_props(Nid message) {
  PSTKIT_ASSIGN_OR_RETURN(Message msg, view->open_message(message));
  return msg.properties().values();
}

Status StoreWriter::Impl::add_contents_row(Nid folder, Nid message, bool associated,
                                           const std::vector<PropValue>& props) {
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * table,
                          folder_table(folder, associated ? ndb::kNidTypeAssocContentsTable : ndb::kNidTypeContentsTable));
  return table->put_row(message, row_cells(table->columns(), props));
}

namespace {

bool is_associated(Nid message) { return ndb::nid_type(message) == ndb::kNidTypeAssocMessage; }

int32_t unread_of(const std::vector<PropValue>& props) { return (flags_of(props) & kMsgFlagRead) ? 0 : 1; }

}  // namespace

Result<Nid> StoreWriter::create_message(Nid folder, const NewMessage& message) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * fe, m.edit(folder));
  (void)fe;
  const Nid nid = m.db->allocate_nid(message.associated ? ndb::kNidTypeAssocMessage : ndb::kNidTypeNormalMessage);
  std::vector<PropValue> props;
  PSTKIT_ASSIGN_OR_RETURN(ltp::BuiltNode node, build_message_node(m, message, &props, nullptr, 0));
  PSTKIT_RETURN_IF_ERROR(put_built_node(*m.db, nid, folder, node));
  PSTKIT_RETURN_IF_ERROR(m.add_contents_row(folder, nid, message.associated, props));
  if (!message.associated) PSTKIT_RETURN_IF_ERROR(m.adjust_counts(folder, 1, unread_of(props)));
  m.search.message_added(folder, nid);
  return nid;
}

// Rebuilds a message's PC with edit applied, keeping its other subnodes
// (tables, attachments) unless replaced in `replace` or dropped in `drop`.
static Status rewrite_message(StoreWriter::Impl& m, Nid nid, const std::function<Status(ltp::PcBuilder&)>& edit,
                              std::map<Nid, ltp::BuiltNode> replace = {}, std::set<Nid> drop = {}) {
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry entry, m.db->find_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto node, m.db->open_node(nid));
  PSTKIT_ASSIGN_OR_RETURN(auto previous, node->subnodes());
  PSTKIT_ASSIGN_OR_RETURN(auto pc, m.view->open_pc(std::shared_ptr<const ndb::Node>(std::move(node))));
  PSTKIT_ASSIGN_OR_RETURN(auto builder, ltp::PcBuilder::from_existing(*pc));
  PSTKIT_RETURN_IF_ERROR(edit(builder));
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
  return put_built_node(*m.db, nid, entry.parent_nid, built, previous, carried);
}

// Queues the SUDs of a message change (MS-PST 2.6.3.3.2): SUDT_MSG_MOD,
// and SUDT_MSG_ROW_MOD when the message's row in its folder's (FAI)
// contents table differs between the two versions of its properties.
static Status queue_modified(StoreWriter::Impl& m, Nid folder, Nid message, const std::vector<PropValue>& before,
                             const std::vector<PropValue>& after) {
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * table,
                          m.folder_table(folder, is_associated(message) ? ndb::kNidTypeAssocContentsTable
                                                                        : ndb::kNidTypeContentsTable));
  const auto old_cells = StoreWriter::Impl::row_cells(table->columns(), before);
  const auto new_cells = StoreWriter::Impl::row_cells(table->columns(), after);
  const bool changed = !std::equal(old_cells.begin(), old_cells.end(), new_cells.begin(), new_cells.end(),
                                   [](const PropValue& a, const PropValue& b) { return a.tag == b.tag && a.data == b.data; });
  m.search.message_modified(folder, message, changed);
  return Status::ok();
}

// After a message changed: its contents table row, the folder's unread
// count when the read flag moved, and the SUDs.
static Status refresh_message_row(StoreWriter::Impl& m, Nid message, const std::vector<PropValue>& before) {
  PSTKIT_ASSIGN_OR_RETURN(auto after, m.message_props(message));
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, m.db->find_node(message));
  PSTKIT_RETURN_IF_ERROR(m.add_contents_row(e.parent_nid, message, is_associated(message), after));
  if (!is_associated(message)) {
    PSTKIT_RETURN_IF_ERROR(m.adjust_counts(e.parent_nid, 0, unread_of(after) - unread_of(before)));
  }
  return queue_modified(m, e.parent_nid, message, before, after);
}

Status StoreWriter::set_message_properties(Nid message, const std::vector<PropValue>& properties,
                                           const std::vector<NamedValue>& named) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(auto before, m.message_props(message));
  // New text in the code page the message's strings are read with.
  const uint32_t cp = m.view->codepage_of(before);
  std::vector<PropValue> changes;
  for (const auto& p : properties) changes.push_back(native(m.format, p, cp));
  for (const auto& nv : named) {
    PSTKIT_ASSIGN_OR_RETURN(uint16_t id, m.named_id(nv.name));
    changes.push_back(native(m.format, make_prop(ltp::make_tag(id, nv.type), nv.data), cp));
  }
  // mfHasAttach follows the attachments, whatever flags the caller passes
  // (MS-OXCMSG 2.2.1.6).
  for (auto& c : changes) {
    if (c.id() != prop::kMessageFlags) continue;
    PSTKIT_ASSIGN_OR_RETURN(Message msg, m.view->open_message(message));
    PSTKIT_ASSIGN_OR_RETURN(auto atts, msg.attachment_nids());
    auto v = c.as_i32();
    const int32_t flags = v ? *v : 0;
    c.data = le32(uint32_t(atts.empty() ? (flags & ~kMsgFlagHasAttach) : (flags | kMsgFlagHasAttach)));
  }
  ltp::set_property(changes, make_prop(kLastModificationTime, le64(filetime_now())));
  PSTKIT_RETURN_IF_ERROR(rewrite_message(m, message, [&](ltp::PcBuilder& pc) -> Status {
    for (const auto& c : changes) {
      if (auto old = pc.tag_of(c.id()); old && *old != c.tag) pc.remove(c.id());
      PSTKIT_RETURN_IF_ERROR(pc.set(c));
    }
    return Status::ok();
  }));
  return refresh_message_row(m, message, before);
}

Status StoreWriter::remove_message_properties(Nid message, const std::vector<uint16_t>& ids) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(auto before, m.message_props(message));
  PSTKIT_RETURN_IF_ERROR(rewrite_message(m, message, [&](ltp::PcBuilder& pc) -> Status {
    for (uint16_t id : ids) pc.remove(id);
    return Status::ok();
  }));
  return refresh_message_row(m, message, before);
}

Status StoreWriter::replace_recipients(Nid message, const std::vector<std::vector<PropValue>>& recipients) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(auto before, m.message_props(message));
  const uint32_t cp = m.view->codepage_of(before);
  // MS-PST 2.4.5.2: a new recipient table, every recipient property a column.
  PSTKIT_ASSIGN_OR_RETURN(auto table, ltp::TcBuilder::create(m.format, m.recipient_columns));
  for (size_t i = 0; i < recipients.size(); ++i) {
    std::vector<PropValue> cells;
    for (const auto& p : recipients[i]) ltp::set_property(cells, native(m.format, p, cp));
    ltp::set_property(cells, make_prop(kRowId, le32(uint32_t(i))));
    for (const auto& c : cells) {
      if (!table.find_column(c.tag)) PSTKIT_RETURN_IF_ERROR(table.add_column(c.tag));
    }
    PSTKIT_RETURN_IF_ERROR(table.add_row(uint32_t(i), cells));
  }
  PSTKIT_ASSIGN_OR_RETURN(auto table_node, table.build());
  std::map<Nid, ltp::BuiltNode> replace;
  replace.emplace(kRecipientTable, std::move(table_node));
  PSTKIT_RETURN_IF_ERROR(rewrite_message(m, message, [&](ltp::PcBuilder& pc) -> Status {
    return pc.set(make_prop(kLastModificationTime, le64(filetime_now())));
  }, std::move(replace)));
  return refresh_message_row(m, message, before);
}

Result<Nid> StoreWriter::add_attachment(Nid message, const NewAttachment& attachment) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(Message msg, m.view->open_message(message));
  PSTKIT_ASSIGN_OR_RETURN(auto existing, msg.attachment_nids());
  uint32_t next = 0x400;
  for (Nid a : existing) next = std::max(next, ndb::nid_index(a) + 1);
  const Nid anid = ndb::make_nid(ndb::kNidTypeAttachment, next);
  std::vector<PropValue> aprops;
  PSTKIT_ASSIGN_OR_RETURN(ltp::BuiltNode anode, m.build_attachment(attachment, uint32_t(existing.size()), &aprops, 0));
  // The attachment table, with a row for the new attachment.
  std::optional<ltp::TcBuilder> table;
  PSTKIT_ASSIGN_OR_RETURN(auto node, m.db->open_node(message));
  auto tnode = node->subnode(kAttachmentTable);
  if (tnode) {
    PSTKIT_ASSIGN_OR_RETURN(auto tc, m.view->open_table(std::shared_ptr<const ndb::Node>(std::move(*tnode))));
    PSTKIT_ASSIGN_OR_RETURN(auto b, ltp::TcBuilder::from_existing(tc));
    table.emplace(std::move(b));
  } else {
    PSTKIT_ASSIGN_OR_RETURN(auto b, ltp::TcBuilder::create(m.format, m.attachment_columns));
    table.emplace(std::move(b));
  }
  PSTKIT_RETURN_IF_ERROR(table->add_row(anid, Impl::row_cells(table->columns(), aprops)));
  PSTKIT_ASSIGN_OR_RETURN(auto table_node, table->build());
  if (!table_node.reused_subnodes.empty()) {
    return Status::unsupported("attachment tables with subnode-held cells");
  }
  std::map<Nid, ltp::BuiltNode> replace;
  replace.emplace(kAttachmentTable, std::move(table_node));
  replace.emplace(anid, std::move(anode));
  PSTKIT_ASSIGN_OR_RETURN(auto before, m.message_props(message));
  PSTKIT_RETURN_IF_ERROR(rewrite_message(m, message, [&](ltp::PcBuilder& pc) -> Status {
    const int32_t flags = flags_of(before) | kMsgFlagHasAttach;
    PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kMessageFlags, ltp::kPtypInteger32), le32(uint32_t(flags))));
    return pc.set(ltp::make_tag(prop::kHasAttachments, ltp::kPtypBoolean), Bytes{1});
  }, std::move(replace)));
  PSTKIT_ASSIGN_OR_RETURN(auto after, m.message_props(message));
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, m.db->find_node(message));
  PSTKIT_RETURN_IF_ERROR(m.add_contents_row(e.parent_nid, message, is_associated(message), after));
  PSTKIT_RETURN_IF_ERROR(queue_modified(m, e.parent_nid, message, before, after));  // MS-PST 2.6.3.3.5
  return anid;
}

Status StoreWriter::delete_attachment(Nid message, Nid attachment) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(auto node, m.db->open_node(message));
  PSTKIT_ASSIGN_OR_RETURN(auto tnode, node->subnode(kAttachmentTable));
  PSTKIT_ASSIGN_OR_RETURN(auto tc, m.view->open_table(std::shared_ptr<const ndb::Node>(std::move(tnode))));
  PSTKIT_ASSIGN_OR_RETURN(auto table, ltp::TcBuilder::from_existing(tc));
  if (!table.remove_row(attachment)) return Status::not_found("attachment " + hex(attachment));
  const bool any_left = table.row_count() > 0;
  PSTKIT_ASSIGN_OR_RETURN(auto table_node, table.build());
  std::map<Nid, ltp::BuiltNode> replace;
  std::set<Nid> drop{attachment};
  if (any_left) {
    replace.emplace(kAttachmentTable, std::move(table_node));
  } else {
    drop.insert(kAttachmentTable);
  }
  PSTKIT_ASSIGN_OR_RETURN(auto before, m.message_props(message));
  PSTKIT_RETURN_IF_ERROR(rewrite_message(m, message, [&](ltp::PcBuilder& pc) -> Status {
    const int32_t flags = any_left ? flags_of(before) : (flags_of(before) & ~kMsgFlagHasAttach);
    PSTKIT_RETURN_IF_ERROR(pc.set(ltp::make_tag(prop::kMessageFlags, ltp::kPtypInteger32), le32(uint32_t(flags))));
    return pc.set(ltp::make_tag(prop::kHasAttachments, ltp::kPtypBoolean), Bytes{uint8_t(any_left)});
  }, std::move(replace), std::move(drop)));
  PSTKIT_ASSIGN_OR_RETURN(auto after, m.message_props(message));
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, m.db->find_node(message));
  PSTKIT_RETURN_IF_ERROR(m.add_contents_row(e.parent_nid, message, is_associated(message), after));
  return queue_modified(m, e.parent_nid, message, before, after);  // MS-PST 2.6.3.3.8
}

Status StoreWriter::delete_message(Nid message) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, m.db->find_node(message));
  PSTKIT_ASSIGN_OR_RETURN(auto props, m.message_props(message));
  PSTKIT_RETURN_IF_ERROR(m.db->delete_node(message));
  const bool assoc = is_associated(message);
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * table, m.folder_table(e.parent_nid, assoc ? ndb::kNidTypeAssocContentsTable
                                                                                        : ndb::kNidTypeContentsTable));
  PSTKIT_RETURN_IF_ERROR(table->remove_row(message).status());
  if (!assoc) PSTKIT_RETURN_IF_ERROR(m.adjust_counts(e.parent_nid, -1, -unread_of(props)));
  m.search.message_deleted(e.parent_nid, message);
  return Status::ok();
}

Status StoreWriter::move_message(Nid message, Nid to_folder) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, m.db->find_node(message));
  if (e.parent_nid == to_folder) return Status::ok();
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * target, m.edit(to_folder));
  (void)target;
  PSTKIT_ASSIGN_OR_RETURN(auto props, m.message_props(message));
  const bool assoc = is_associated(message);
  const uint8_t type = assoc ? ndb::kNidTypeAssocContentsTable : ndb::kNidTypeContentsTable;
  PSTKIT_ASSIGN_OR_RETURN(ltp::TableEditor * from, m.folder_table(e.parent_nid, type));
  PSTKIT_RETURN_IF_ERROR(from->remove_row(message).status());
  const Nid old_parent = e.parent_nid;
  e.parent_nid = to_folder;
  PSTKIT_RETURN_IF_ERROR(m.db->put_node(e));
  PSTKIT_RETURN_IF_ERROR(m.add_contents_row(to_folder, message, assoc, props));
  if (!assoc) {
    PSTKIT_RETURN_IF_ERROR(m.adjust_counts(old_parent, -1, -unread_of(props)));
    PSTKIT_RETURN_IF_ERROR(m.adjust_counts(to_folder, 1, unread_of(props)));
  }
  m.search.message_moved(old_parent, to_folder, message);
  return Status::ok();
}

Result<Nid> StoreWriter::copy_message(Nid message, Nid to_folder) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  Impl& m = *impl_;
  PSTKIT_ASSIGN_OR_RETURN(ndb::NodeEntry e, m.db->find_node(message));
  PSTKIT_ASSIGN_OR_RETURN(FolderEdit * target, m.edit(to_folder));
  (void)target;
  PSTKIT_ASSIGN_OR_RETURN(auto props, m.message_props(message));
  const bool assoc = is_associated(message);
  const Nid copy = m.db->allocate_nid(ndb::nid_type(message));
  // MS-PST 2.2.2.7.7.3.1: a copied node shares its blocks; only the top data
  // and subnode BIDs gain a reference.
  if (e.data_bid) PSTKIT_RETURN_IF_ERROR(m.db->add_ref(e.data_bid));
  if (e.subnode_bid) PSTKIT_RETURN_IF_ERROR(m.db->add_ref(e.subnode_bid));
  PSTKIT_RETURN_IF_ERROR(m.db->put_node({copy, e.data_bid, e.subnode_bid, to_folder}));
  PSTKIT_RETURN_IF_ERROR(m.add_contents_row(to_folder, copy, assoc, props));
  if (!assoc) PSTKIT_RETURN_IF_ERROR(m.adjust_counts(to_folder, 1, unread_of(props)));
  m.search.message_added(to_folder, copy);  // MS-PST 2.6.3.2.7
  return copy;
}

Result<uint16_t> StoreWriter::named_property_id(const NamedProperty& name) {
  PSTKIT_RETURN_IF_ERROR(impl_->begin_change());
  return impl_->named_id(name);
}

}  // namespace pstkit
