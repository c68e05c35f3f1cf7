// IMessage over the PST provider (imessage*.md). See com_message.h.
#include "mapi/com_message.h"

#include <algorithm>
#include <new>

#include "mapi/com_table.h"

namespace pstkit::mapi::capi {
namespace {

constexpr uint16_t kPrRowIdId = 0x3000;
constexpr uint16_t kPrAttachNum = 0x0E21;
constexpr uint16_t kPrAccessLevel = 0x0FF7;
constexpr uint16_t kPrLastModificationTime = 0x3008;
constexpr uint16_t kPrHasAttach = 0x0E1B;
constexpr uint16_t kPrMessageSize = 0x0E08;
constexpr PropTag kPrMessageFlagsTag = prop_tag(0x0E07, kPtLong);
constexpr PropTag kPrMessageRecipientsTag = prop_tag(0x0E12, kPtObject);
constexpr PropTag kPrMessageAttachmentsTag = prop_tag(0x0E13, kPtObject);

uint64_t modification_time(const std::map<uint16_t, PropValue>& props) {
  auto it = props.find(kPrLastModificationTime);
  return it == props.end() ? 0 : uint64_t(it->second.integer);
}

Bytes instance_key(ULONG n) { return Bytes{uint8_t(n), uint8_t(n >> 8), uint8_t(n >> 16), uint8_t(n >> 24)}; }

// Values of the writer's encoding, skipping what does not convert.
std::vector<ltp::PropValue> stored_values(const std::vector<PropValue>& values, uint32_t codepage,
                                          const std::set<uint16_t>& skip) {
  std::vector<ltp::PropValue> out;
  for (const auto& v : values) {
    if (skip.count(prop_id(v.tag))) continue;
    auto s = to_stored(v, codepage);
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

// The content of a stored attachment as the writer takes it.
Result<NewAttachment> attachment_from_store(const Attachment& a, uint32_t codepage) {
  if (a.is_embedded_message()) return Status::unsupported("copying a stored embedded message");
  NewAttachment out;
  out.properties = stored_values(core_values(a.properties()), codepage, {kPrAttachNum});
  if (a.has_data()) {
    PSTKIT_ASSIGN_OR_RETURN(out.data, a.read_data());
  }
  return out;
}

}  // namespace

static NewAttachment attachment_from_slot(const AttachmentSlot& slot, uint32_t codepage) {
  NewAttachment out;
  std::vector<PropValue> values;
  for (const auto& [id, v] : slot.props) values.push_back(v);
  out.properties = stored_values(values, codepage, {kPrAttachNum, prop::kAttachDataBin, prop::kAttachSize});
  if (!ltp::find_property(out.properties, prop::kAttachMethod)) {
    out.properties.push_back(ltp::int32_value(prop::kAttachMethod, slot.embedded ? kAttachEmbeddedMessage
                                                                                 : kAttachByValue));
  }
  out.data = slot.data;
  out.embedded = slot.embedded;
  return out;
}

ComMessage::ComMessage(std::shared_ptr<StoreState> state, Nid folder, Nid nid, bool modify, bool associated)
    : folder_(folder), nid_(nid), associated_(associated) {
  state_ = std::move(state);
  modify_ = modify;
  codepage_ = state_->items().codepage();
  if (nid_ == 0) {
    // A new message: unsent, read (it is the user's own), associated when
    // created with MAPI_ASSOCIATED (pidtagmessageflags-canonical-property.md).
    int32_t flags = int32_t(MSGFLAG_UNSENT | MSGFLAG_READ);
    if (associated) flags |= int32_t(MSGFLAG_ASSOCIATED);
    put(PropValue::long_(kPrMessageFlagsTag, flags));
    changed_.insert(prop_id(kPrMessageFlagsTag));
  }
}

ComMessage::~ComMessage() {
  if (embedded_in_) embedded_in_->Release();
}

void ComMessage::embed_in(ComAttach* parent) {
  parent->AddRef();
  embedded_in_ = parent;
}

Status ComMessage::load(const Message* embedded) {
  Message m;
  if (embedded) {
    m = *embedded;
  } else {
    PSTKIT_ASSIGN_OR_RETURN(m, state_->items().open_message(nid_));
  }
  codepage_ = m.codepage();
  props_.clear();
  for (auto& v : core_values(m.properties())) props_[prop_id(v.tag)] = std::move(v);
  loaded_modification_time_ = modification_time(props_);
  recipients_.clear();
  PSTKIT_ASSIGN_OR_RETURN(auto recipients, m.recipients());
  for (size_t i = 0; i < recipients.size(); ++i) {
    std::vector<PropValue> row;
    for (auto& v : core_values(recipients[i])) {
      // PidTagLtpRowId/-RowVer are the table's own; the writer numbers rows again.
      const uint16_t id = prop_id(v.tag);
      if (id != kPrRowIdId && id != 0x67F2 && id != 0x67F3) row.push_back(std::move(v));
    }
    row.push_back(PropValue::long_(kPrRowId, int32_t(i)));
    recipients_.push_back(std::move(row));
  }
  next_row_id_ = ULONG(recipients.size());
  attachments_.clear();
  PSTKIT_ASSIGN_OR_RETURN(auto nids, m.attachment_nids());
  for (size_t i = 0; i < nids.size(); ++i) {
    AttachmentSlot slot;
    slot.number = ULONG(i);
    slot.nid = nids[i];
    attachments_.push_back(std::move(slot));
  }
  next_attach_number_ = ULONG(nids.size());
  deleted_attachments_.clear();
  recipients_changed_ = false;
  changed_.clear();
  deleted_.clear();
  stored_ = std::move(m);
  return Status::ok();
}

std::vector<PropValue> ComMessage::computed() const {
  std::vector<PropValue> out;
  if (nid_ != 0) {
    const Bytes id = state_->entry_id(nid_);
    out.push_back(PropValue::binary(kPrEntryId, ByteView(id)));
  }
  if (folder_ != 0) {
    const Bytes parent = state_->entry_id(folder_);
    out.push_back(PropValue::binary(kPrParentEntryId, ByteView(parent)));
  }
  out.push_back(PropValue::binary(kPrStoreRecordKey, ByteView(state_->uid.data(), state_->uid.size())));
  out.push_back(PropValue::long_(kPrObjectType, MAPI_MESSAGE));
  out.push_back(PropValue::long_(prop_tag(kPrAccessLevel, kPtLong), modify_ ? 1 : 0));
  out.push_back(PropValue::boolean(prop_tag(kPrHasAttach, kPtBoolean), !attachments_.empty()));
  return out;
}

uint32_t ComMessage::codepage() const { return codepage_; }

bool ComMessage::read_only_property(uint16_t id) const { return id == kPrMessageSize; }

HRESULT ComMessage::open_special(ULONG tag, LPCIID iid, ULONG, ULONG, LPUNKNOWN* out, bool* handled) {
  *handled = false;
  if (tag != kPrMessageRecipientsTag && tag != kPrMessageAttachmentsTag) return S_OK;
  *handled = true;
  if (*iid != IID_IMAPITable) return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "OpenProperty: tables only");
  auto* table = reinterpret_cast<LPMAPITABLE*>(out);
  return tag == kPrMessageRecipientsTag ? GetRecipientTable(0, table) : GetAttachmentTable(0, table);
}

Result<NewMessage> ComMessage::to_new_message() const {
  NewMessage out;
  out.associated = associated_;
  std::vector<PropValue> values;
  for (const auto& [id, v] : props_) values.push_back(v);
  out.properties = stored_values(values, codepage_, {kPrMessageSize, kPrHasAttach});
  for (const auto& row : recipients_) {
    out.recipients.push_back(stored_values(row, codepage_, {kPrRowIdId}));
  }
  for (const auto& slot : attachments_) {
    if (slot.staged) {
      out.attachments.push_back(attachment_from_slot(slot, codepage_));
      continue;
    }
    if (!stored_) return Status::not_found("attachment");
    PSTKIT_ASSIGN_OR_RETURN(Attachment a, stored_->open_attachment(slot.nid));
    PSTKIT_ASSIGN_OR_RETURN(auto copy, attachment_from_store(a, codepage_));
    out.attachments.push_back(std::move(copy));
  }
  return out;
}

// imapiprop-savechanges.md.
STDMETHODIMP ComMessage::SaveChanges(ULONG flags) {
  std::lock_guard lock(state_->mutex);
  if (flags & ~(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS | SPAMFILTER_ONSAVE |
                ITEMPROC_FORCE | NON_EMS_XP_SAVE))
    return fail(MAPI_E_UNKNOWN_FLAGS, "SaveChanges: unknown flags");
  if ((flags & KEEP_OPEN_READONLY) && (flags & KEEP_OPEN_READWRITE))
    return fail(MAPI_E_INVALID_PARAMETER, "SaveChanges: KEEP_OPEN_READONLY with KEEP_OPEN_READWRITE");
  if (!modify_) return fail(MAPI_E_NO_ACCESS, "SaveChanges: the message is not open for writing");
  // A deferred commit of earlier saves failed: reported here, once, and
  // this save not attempted (docs/MAPI.md "Write-behind").
  if (std::string detail; HRESULT earlier = state_->take_deferred_error(&detail)) return fail(earlier, detail);
  HRESULT hr = S_OK;
  if (embedded_in_ != nullptr) {
    auto content = to_new_message();
    if (!content) return fail(scode_of(content.status()), content.status().message());
    embedded_in_->stage_embedded(std::make_shared<NewMessage>(std::move(*content)));
  } else {
    hr = nid_ == 0 ? save_new() : save_stored(flags);
  }
  if (FAILED(hr)) return hr;
  // Without KEEP_OPEN_READWRITE the object stays readable only
  // (KEEP_OPEN_READONLY; with neither flag the caller is to release it).
  if (!(flags & KEEP_OPEN_READWRITE)) modify_ = false;
  return S_OK;
}

HRESULT ComMessage::save_new() {
  auto content = to_new_message();
  if (!content) return fail(scode_of(content.status()), content.status().message());
  auto nid = state_->writer->create_message(folder_, *content);
  if (!nid) {
    state_->abandon_staged(nid.status().message());
    return fail(scode_of(nid.status()), nid.status().message());
  }
  std::string detail;
  if (HRESULT hr = state_->save_deferred(&detail); FAILED(hr)) return fail(hr, detail);
  nid_ = *nid;
  state_->notify_object(fnevObjectCreated, MAPI_MESSAGE, nid_, folder_);
  Status s = load();
  return s.is_ok() ? S_OK : fail(scode_of(s), s.message());
}

// A stored message: MAPI_E_OBJECT_DELETED when it is gone,
// MAPI_E_OBJECT_CHANGED when it was saved by another object since this one
// loaded it (PR_LAST_MODIFICATION_TIME moved), unless FORCE_SAVE.
HRESULT ComMessage::save_stored(ULONG flags) {
  auto current = state_->items().open_message(nid_);
  if (!current) return fail(MAPI_E_OBJECT_DELETED, "SaveChanges: the message was deleted");
  const uint64_t now = uint64_t(current->properties().get_time(kPrLastModificationTime).value_or(0));
  if (now != loaded_modification_time_ && !(flags & FORCE_SAVE))
    return fail(MAPI_E_OBJECT_CHANGED, "SaveChanges: the message changed since it was opened");
  Status s;
  std::vector<PropValue> set;
  for (uint16_t id : changed_) {
    if (auto it = props_.find(id); it != props_.end()) set.push_back(it->second);
  }
  auto stored = stored_values(set, codepage_, {kPrMessageSize, kPrHasAttach});
  if (!stored.empty()) s = state_->writer->set_message_properties(nid_, stored);
  if (s.is_ok() && !deleted_.empty()) {
    s = state_->writer->remove_message_properties(nid_, std::vector<uint16_t>(deleted_.begin(), deleted_.end()));
  }
  if (s.is_ok() && recipients_changed_) {
    std::vector<std::vector<ltp::PropValue>> rows;
    for (const auto& row : recipients_) rows.push_back(stored_values(row, codepage_, {kPrRowIdId}));
    s = state_->writer->replace_recipients(nid_, rows);
  }
  for (size_t i = 0; s.is_ok() && i < deleted_attachments_.size(); ++i) {
    s = state_->writer->delete_attachment(nid_, deleted_attachments_[i]);
  }
  for (const auto& slot : attachments_) {
    if (!s.is_ok()) break;
    if (!slot.staged) continue;
    if (slot.nid != 0) s = state_->writer->delete_attachment(nid_, slot.nid);
    if (s.is_ok()) s = state_->writer->add_attachment(nid_, attachment_from_slot(slot, codepage_)).status();
  }
  if (!s.is_ok()) {
    state_->abandon_staged(s.message());
    return fail(scode_of(s), s.message());
  }
  std::string detail;
  if (HRESULT hr = state_->save_deferred(&detail); FAILED(hr)) return fail(hr, detail);
  state_->notify_object(fnevObjectModified, MAPI_MESSAGE, nid_, folder_);
  s = load();
  return s.is_ok() ? S_OK : fail(scode_of(s), s.message());
}

// imessage-getattachmenttable.md: one row per attachment of the object as
// it is now (staged ones included), PR_ATTACH_NUM naming it for OpenAttach.
STDMETHODIMP ComMessage::GetAttachmentTable(ULONG flags, LPMAPITABLE* out) {
  std::lock_guard lock(state_->mutex);
  if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetAttachmentTable: null out pointer");
  *out = nullptr;
  if (flags & ~(MAPI_UNICODE | MAPI_DEFERRED_ERRORS)) return fail(MAPI_E_UNKNOWN_FLAGS, "GetAttachmentTable");
  std::vector<InMemoryRowSource::Row> rows;
  for (const auto& slot : attachments_) {
    InMemoryRowSource::Row row;
    row.id = slot.number;
    std::map<uint16_t, PropValue> values;
    if (slot.staged) {
      values = slot.props;
      values.erase(prop::kAttachDataBin);
      values[prop::kAttachSize] = PropValue::long_(prop_tag(prop::kAttachSize, kPtLong), int32_t(slot.data.size()));
    } else if (stored_) {
      // The attachment's own properties: the PST's attachment table keeps
      // only a few columns (MS-PST 2.4.6.1), clients expect the names too.
      if (auto a = stored_->open_attachment(slot.nid)) {
        for (auto& v : core_values(a->properties())) values[prop_id(v.tag)] = std::move(v);
        if (!values.count(prop::kAttachSize) && a->has_data()) {
          values[prop::kAttachSize] =
              PropValue::long_(prop_tag(prop::kAttachSize, kPtLong), int32_t(std::min<uint64_t>(a->data_size(), 0x7FFFFFFF)));
        }
      }
    }
    values[kPrAttachNum] = PropValue::long_(prop_tag(kPrAttachNum, kPtLong), int32_t(slot.number));
    const Bytes key = instance_key(slot.number);
    values[prop_id(kPrInstanceKey)] = PropValue::binary(kPrInstanceKey, ByteView(key));
    values[prop_id(kPrObjectType)] = PropValue::long_(kPrObjectType, MAPI_ATTACH);
    for (auto& [id, v] : values) row.values.push_back(std::move(v));
    rows.push_back(std::move(row));
  }
  const std::vector<PropTag> columns = {prop_tag(kPrAttachNum, kPtLong), kPrInstanceKey,
                                        prop_tag(prop::kAttachMethod, kPtLong),
                                        prop_tag(prop::kAttachLongFilename, kPtUnicode),
                                        prop_tag(prop::kAttachFilename, kPtUnicode),
                                        prop_tag(prop::kAttachSize, kPtLong), prop_tag(0x370B, kPtLong)};
  HRESULT hr = create_memory_table(columns, std::move(rows), out, codepage_);
  return FAILED(hr) ? fail(hr, "GetAttachmentTable") : hr;
}

// imessage-openattach.md.
STDMETHODIMP ComMessage::OpenAttach(ULONG number, LPCIID iid, ULONG flags, LPATTACH* out) {
  std::lock_guard lock(state_->mutex);
  if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "OpenAttach: null out pointer");
  *out = nullptr;
  if (flags & ~(MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS)) return fail(MAPI_E_UNKNOWN_FLAGS, "OpenAttach");
  if (iid != nullptr && *iid != IID_IAttachment && *iid != IID_IMAPIProp)
    return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "OpenAttach: interface");
  if ((flags & MAPI_MODIFY) && !modify_) return fail(MAPI_E_NO_ACCESS, "OpenAttach: the message is read-only");
  auto it = std::find_if(attachments_.begin(), attachments_.end(),
                         [&](const AttachmentSlot& s) { return s.number == number; });
  if (it == attachments_.end()) return fail(MAPI_E_NOT_FOUND, "OpenAttach: no such attachment");
  const bool modify = modify_ && (flags & (MAPI_MODIFY | MAPI_BEST_ACCESS)) != 0;
  auto* attach = new (std::nothrow) ComAttach(this, *it, modify);
  if (attach == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  if (!it->staged) {
    Status s = attach->load();
    if (!s.is_ok()) {
      attach->Release();
      return fail(scode_of(s), s.message());
    }
  }
  *out = attach;
  return S_OK;
}

// imessage-createattach.md: the attachment exists in the message once its
// own SaveChanges has run, and in the store after the message's.
STDMETHODIMP ComMessage::CreateAttach(LPCIID iid, ULONG flags, ULONG* number, LPATTACH* out) {
  std::lock_guard lock(state_->mutex);
  if (out == nullptr || number == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "CreateAttach: null pointer");
  *out = nullptr;
  if (flags & ~MAPI_DEFERRED_ERRORS) return fail(MAPI_E_UNKNOWN_FLAGS, "CreateAttach: unknown flags");
  if (iid != nullptr && *iid != IID_IAttachment && *iid != IID_IMAPIProp)
    return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "CreateAttach: interface");
  if (!modify_) return fail(MAPI_E_NO_ACCESS, "CreateAttach: the message is read-only");
  AttachmentSlot slot;
  slot.number = next_attach_number_++;
  slot.staged = true;
  auto* attach = new (std::nothrow) ComAttach(this, std::move(slot), true);
  if (attach == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  *number = next_attach_number_ - 1;
  *out = attach;
  return S_OK;
}

// imessage-deleteattach.md: staged until SaveChanges.
STDMETHODIMP ComMessage::DeleteAttach(ULONG number, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) {
  std::lock_guard lock(state_->mutex);
  if (flags & ~ATTACH_DIALOG) return fail(MAPI_E_UNKNOWN_FLAGS, "DeleteAttach: unknown flags");
  if (!modify_) return fail(MAPI_E_NO_ACCESS, "DeleteAttach: the message is read-only");
  auto it = std::find_if(attachments_.begin(), attachments_.end(),
                         [&](const AttachmentSlot& s) { return s.number == number; });
  if (it == attachments_.end()) return fail(MAPI_E_NOT_FOUND, "DeleteAttach: no such attachment");
  if (it->nid != 0) deleted_attachments_.push_back(it->nid);
  attachments_.erase(it);
  return S_OK;
}

void ComMessage::stage_attachment(const AttachmentSlot& slot) {
  auto it = std::find_if(attachments_.begin(), attachments_.end(),
                         [&](const AttachmentSlot& s) { return s.number == slot.number; });
  if (it == attachments_.end()) {
    attachments_.push_back(slot);
  } else {
    *it = slot;
  }
}

// imessage-getrecipienttable.md.
STDMETHODIMP ComMessage::GetRecipientTable(ULONG flags, LPMAPITABLE* out) {
  std::lock_guard lock(state_->mutex);
  if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetRecipientTable: null out pointer");
  *out = nullptr;
  if (flags & ~(MAPI_UNICODE | MAPI_DEFERRED_ERRORS)) return fail(MAPI_E_UNKNOWN_FLAGS, "GetRecipientTable");
  std::vector<InMemoryRowSource::Row> rows;
  for (const auto& recipient : recipients_) {
    InMemoryRowSource::Row row;
    std::map<uint16_t, PropValue> values;
    for (const auto& v : recipient) values[prop_id(v.tag)] = v;
    row.id = RowId(values[kPrRowIdId].integer);
    const Bytes key = instance_key(ULONG(row.id));
    values[prop_id(kPrInstanceKey)] = PropValue::binary(kPrInstanceKey, ByteView(key));
    if (!values.count(prop_id(kPrObjectType))) values[prop_id(kPrObjectType)] = PropValue::long_(kPrObjectType, MAPI_MAILUSER);
    for (auto& [id, v] : values) row.values.push_back(std::move(v));
    rows.push_back(std::move(row));
  }
  const std::vector<PropTag> columns = {kPrRowId, prop_tag(prop::kDisplayName, kPtUnicode),
                                        prop_tag(prop::kEmailAddress, kPtUnicode),
                                        prop_tag(prop::kAddressType, kPtUnicode),
                                        prop_tag(prop::kRecipientType, kPtLong), kPrInstanceKey};
  HRESULT hr = create_memory_table(columns, std::move(rows), out, codepage_);
  return FAILED(hr) ? fail(hr, "GetRecipientTable") : hr;
}

// imessage-modifyrecipients.md: no flag replaces every recipient;
// MODRECIP_ADD appends (new PR_ROWIDs); MODRECIP_MODIFY replaces the rows
// the entries' PR_ROWID name; MODRECIP_REMOVE removes them.
STDMETHODIMP ComMessage::ModifyRecipients(ULONG flags, LPADRLIST mods) {
  std::lock_guard lock(state_->mutex);
  if (flags & ~(MODRECIP_ADD | MODRECIP_MODIFY | MODRECIP_REMOVE))
    return fail(MAPI_E_UNKNOWN_FLAGS, "ModifyRecipients: unknown flags");
  const ULONG op = flags & (MODRECIP_ADD | MODRECIP_MODIFY | MODRECIP_REMOVE);
  if (op != 0 && (op & (op - 1)) != 0)
    return fail(MAPI_E_INVALID_PARAMETER, "ModifyRecipients: more than one MODRECIP flag");
  if (mods == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "ModifyRecipients: null ADRLIST");
  if (!modify_) return fail(MAPI_E_NO_ACCESS, "ModifyRecipients: the message is read-only");
  std::vector<std::vector<PropValue>> entries;
  std::vector<std::optional<int32_t>> row_ids;
  for (ULONG i = 0; i < mods->cEntries; ++i) {
    const ADRENTRY& e = mods->aEntries[i];
    if (e.cValues > 0 && e.rgPropVals == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "ModifyRecipients: null property array");
    std::vector<PropValue> row;
    std::optional<int32_t> row_id;
    for (ULONG j = 0; j < e.cValues; ++j) {
      const SPropValue& sv = e.rgPropVals[j];
      if (PROP_ID(sv.ulPropTag) == 0 || PROP_TYPE(sv.ulPropTag) == PT_ERROR) continue;
      PropValue v;
      Converted c = from_mapi(sv, v);
      if (!c.ok()) return fail(c.scode, c.detail);
      v.tag = sv.ulPropTag;
      if (prop_id(v.tag) == kPrRowIdId) {
        row_id = int32_t(v.integer);
        continue;
      }
      row.push_back(convert_string(v, kPtUnicode, codepage_));
    }
    entries.push_back(std::move(row));
    row_ids.push_back(row_id);
  }
  auto find_row = [&](int32_t id) {
    return std::find_if(recipients_.begin(), recipients_.end(), [&](const std::vector<PropValue>& r) {
      return std::any_of(r.begin(), r.end(),
                         [&](const PropValue& v) { return prop_id(v.tag) == kPrRowIdId && v.integer == id; });
    });
  };
  if (op == MODRECIP_MODIFY || op == MODRECIP_REMOVE) {
    for (const auto& id : row_ids) {
      if (!id) return fail(MAPI_E_INVALID_PARAMETER, "ModifyRecipients: an entry without PR_ROWID");
      if (find_row(*id) == recipients_.end()) return fail(MAPI_E_NOT_FOUND, "ModifyRecipients: no such PR_ROWID");
    }
  }
  if (op == 0) {
    recipients_.clear();
    next_row_id_ = 0;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (op == 0 || op == MODRECIP_ADD) {
      entries[i].push_back(PropValue::long_(kPrRowId, int32_t(next_row_id_++)));
      recipients_.push_back(std::move(entries[i]));
    } else if (op == MODRECIP_MODIFY) {
      auto it = find_row(*row_ids[i]);
      entries[i].push_back(PropValue::long_(kPrRowId, *row_ids[i]));
      *it = std::move(entries[i]);
    } else {
      recipients_.erase(find_row(*row_ids[i]));
    }
  }
  recipients_changed_ = true;
  return S_OK;
}

// imessage-submitmessage.md: with no recipient MAPI_E_NO_RECIPIENTS; a PST
// opened by itself has no transport (PR_STORE_SUPPORT_MASK lacks
// STORE_SUBMIT_OK), so anything else is MAPI_E_NO_SUPPORT.
STDMETHODIMP ComMessage::SubmitMessage(ULONG flags) {
  std::lock_guard lock(state_->mutex);
  if (flags & ~FORCE_SUBMIT) return fail(MAPI_E_UNKNOWN_FLAGS, "SubmitMessage: unknown flags");
  if (recipients_.empty()) return fail(MAPI_E_NO_RECIPIENTS, "SubmitMessage: the message has no recipients");
  return fail(MAPI_E_NO_SUPPORT, "SubmitMessage: the store has no transport");
}

// imessage-setreadflag.md: a stored message's flag is written at once (it
// needs no MAPI_MODIFY and no SaveChanges); a new message's is staged.
STDMETHODIMP ComMessage::SetReadFlag(ULONG flags) {
  std::lock_guard lock(state_->mutex);
  if (flags & ~(SUPPRESS_RECEIPT | CLEAR_READ_FLAG | MAPI_DEFERRED_ERRORS | GENERATE_RECEIPT_ONLY |
                CLEAR_RN_PENDING | CLEAR_NRN_PENDING))
    return fail(MAPI_E_UNKNOWN_FLAGS, "SetReadFlag: unknown flags");
  if ((flags & CLEAR_READ_FLAG) && (flags & (SUPPRESS_RECEIPT | GENERATE_RECEIPT_ONLY)))
    return fail(MAPI_E_INVALID_PARAMETER, "SetReadFlag: CLEAR_READ_FLAG with a receipt flag");
  if (flags & GENERATE_RECEIPT_ONLY) return S_OK;  // no transport: no receipt to send
  int32_t current = 0;
  if (const PropValue* v = find(prop_id(kPrMessageFlagsTag))) current = int32_t(v->integer);
  int32_t next = current;
  if (flags & CLEAR_READ_FLAG) {
    next &= ~int32_t(MSGFLAG_READ);
  } else if (!(flags & (CLEAR_RN_PENDING | CLEAR_NRN_PENDING)) || (flags & SUPPRESS_RECEIPT)) {
    next |= int32_t(MSGFLAG_READ);
  }
  if (flags & (CLEAR_RN_PENDING | SUPPRESS_RECEIPT)) next &= ~int32_t(MSGFLAG_RN_PENDING);
  if (flags & (CLEAR_NRN_PENDING | SUPPRESS_RECEIPT)) next &= ~int32_t(MSGFLAG_NRN_PENDING);
  if (nid_ != 0 && embedded_in_ == nullptr) {
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "SetReadFlag: the store is read-only");
    Status s = set_read_flag(*state_, nid_, flags);
    if (!s.is_ok()) {
      state_->abandon_staged("rolled back");
      return fail(scode_of(s), s.message());
    }
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    // This object's own write is not a conflict for its next SaveChanges.
    if (auto m = state_->items().open_message(nid_)) {
      loaded_modification_time_ = m->properties().get_time(kPrLastModificationTime).value_or(0);
    }
    state_->notify_object(fnevObjectModified, MAPI_MESSAGE, nid_, folder_);
  } else {
    changed_.insert(prop_id(kPrMessageFlagsTag));
  }
  put(PropValue::long_(kPrMessageFlagsTag, next));
  return S_OK;
}

HRESULT open_message_object(std::shared_ptr<StoreState> state, Nid nid, bool modify, LPMESSAGE* out,
                            std::string* detail) {
  *out = nullptr;
  const Nid folder = state->parent_of(nid);
  auto* message = new (std::nothrow)
      ComMessage(std::move(state), folder, nid, modify, ndb::nid_type(nid) == ndb::kNidTypeAssocMessage);
  if (message == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  Status s = message->load();
  if (!s.is_ok()) {
    message->Release();
    if (detail) *detail = s.message();
    return scode_of(s);
  }
  *out = message;
  return S_OK;
}

HRESULT create_message_object(std::shared_ptr<StoreState> state, Nid folder, bool associated, LPMESSAGE* out) {
  *out = new (std::nothrow) ComMessage(std::move(state), folder, 0, true, associated);
  return *out ? S_OK : MAPI_E_NOT_ENOUGH_MEMORY;
}

}  // namespace pstkit::mapi::capi
