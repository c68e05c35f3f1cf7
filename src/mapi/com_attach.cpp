// IAttach over the PST provider (iattachimapiprop.md). See com_message.h.
//
// PR_ATTACH_DATA_BIN is opened as an IStream (imapiprop-openproperty.md):
// a stored attachment's data is read from its node block by block (memory
// bounded whatever its size); a new or changed attachment's data is kept in
// memory until the message's SaveChanges writes it. PR_ATTACH_DATA_OBJ with
// IID_IMessage opens a stored embedded message read-only, with MAPI_MODIFY
// a writable copy of it, or with MAPI_CREATE a new one (its SaveChanges
// gives its content to the attachment, whose SaveChanges gives it to the
// message).
#include <new>

#include "mapi/com_message.h"

namespace pstkit::mapi::capi {
namespace {

constexpr uint16_t kPrAttachNum = 0x0E21;
constexpr uint16_t kPrAccessLevel = 0x0FF7;

}  // namespace

ComAttach::ComAttach(ComMessage* message, AttachmentSlot slot, bool modify)
    : message_(message), slot_(std::move(slot)) {
  message_->AddRef();
  state_ = message_->state();
  modify_ = modify;
  props_ = slot_.props;
  if (slot_.has_data) props_[prop::kAttachDataBin] = PropValue::binary(prop_tag(prop::kAttachDataBin, kPtBinary),
                                                                        ByteView(slot_.data));
}

ComAttach::~ComAttach() { message_->Release(); }

Status ComAttach::load() {
  const Message* stored = message_->stored();
  if (stored == nullptr) return Status::not_found("attachment of an unsaved message");
  PSTKIT_ASSIGN_OR_RETURN(Attachment a, stored->open_attachment(slot_.nid));
  props_.clear();
  for (auto& v : core_values(a.properties())) props_[prop_id(v.tag)] = std::move(v);
  stored_ = std::move(a);
  return Status::ok();
}

Status ComAttach::stage_all() {
  if (slot_.staged) return Status::ok();
  if (stored_ && stored_->is_embedded_message())
    return Status::unsupported("changing a stored embedded-message attachment");
  if (stored_ && stored_->has_data()) {
    PSTKIT_ASSIGN_OR_RETURN(slot_.data, stored_->read_data());
    slot_.has_data = true;
  }
  slot_.staged = true;
  return Status::ok();
}

std::vector<PropValue> ComAttach::computed() const {
  std::vector<PropValue> out;
  out.push_back(PropValue::long_(prop_tag(kPrAttachNum, kPtLong), int32_t(slot_.number)));
  out.push_back(PropValue::long_(kPrObjectType, MAPI_ATTACH));
  out.push_back(PropValue::long_(prop_tag(kPrAccessLevel, kPtLong), modify_ ? 1 : 0));
  if (slot_.staged) {
    out.push_back(PropValue::long_(prop_tag(prop::kAttachSize, kPtLong), int32_t(slot_.data.size())));
  }
  return out;
}

uint32_t ComAttach::codepage() const { return message_->codepage_public(); }

bool ComAttach::read_only_property(uint16_t id) const { return id == prop::kAttachSize; }

// SetProps and DeleteProps on a stored attachment make it staged (it is
// written again at the message's SaveChanges); PR_ATTACH_DATA_BIN set as a
// value becomes the attachment's data.
HRESULT ComAttach::write_through(const std::vector<PropValue>& set, const std::vector<uint16_t>&) {
  if (Status s = stage_all(); !s.is_ok()) return fail(scode_of(s), s.message());
  for (const auto& v : set) {
    if (v.tag == prop_tag(prop::kAttachDataBin, kPtBinary)) {
      slot_.data.assign(v.bytes.begin(), v.bytes.end());
      slot_.has_data = true;
    }
  }
  return S_OK;
}

STDMETHODIMP ComAttach::SaveChanges(ULONG flags) {
  std::lock_guard lock(state_->mutex);
  if (flags & ~(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS))
    return fail(MAPI_E_UNKNOWN_FLAGS, "SaveChanges: unknown flags");
  if ((flags & KEEP_OPEN_READONLY) && (flags & KEEP_OPEN_READWRITE))
    return fail(MAPI_E_INVALID_PARAMETER, "SaveChanges: KEEP_OPEN_READONLY with KEEP_OPEN_READWRITE");
  if (!modify_) return fail(MAPI_E_NO_ACCESS, "SaveChanges: the attachment is not open for writing");
  if (Status s = stage_all(); !s.is_ok()) return fail(scode_of(s), s.message());
  slot_.props = props_;
  slot_.props.erase(prop::kAttachDataBin);
  message_->stage_attachment(slot_);
  if (!(flags & KEEP_OPEN_READWRITE)) modify_ = false;
  return S_OK;
}

void ComAttach::stage_embedded(std::shared_ptr<NewMessage> message) {
  slot_.staged = true;
  slot_.embedded = std::move(message);
  slot_.has_data = false;
  slot_.data.clear();
  props_.erase(prop::kAttachDataBin);
  props_[prop::kAttachMethod] = PropValue::long_(prop_tag(prop::kAttachMethod, kPtLong), kAttachEmbeddedMessage);
}

HRESULT ComAttach::open_special(ULONG tag, LPCIID iid, ULONG, ULONG flags, LPUNKNOWN* out, bool* handled) {
  *handled = false;
  if (prop_id(tag) != prop::kAttachDataBin) return S_OK;
  const bool writing = (flags & (MAPI_CREATE | MAPI_MODIFY)) != 0;
  if (prop_type(tag) == kPtObject) {
    *handled = true;
    if (*iid != IID_IMessage) return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "OpenProperty: PR_ATTACH_DATA_OBJ");
    if (writing && !(flags & MAPI_CREATE) && !slot_.staged) {
      // MAPI_MODIFY on a stored embedded message: a writable copy whose
      // SaveChanges gives its content to this attachment (stage_embedded),
      // whose SaveChanges gives it to the message, which writes it.
      if (!stored_ || !stored_->is_embedded_message())
        return fail(MAPI_E_NOT_FOUND, "OpenProperty: the attachment holds no stored embedded message");
      auto embedded = stored_->embedded_message();
      if (!embedded) return fail(scode_of(embedded.status()), embedded.status().message());
      auto* m = new (std::nothrow) ComMessage(state_, 0, 0, true, false);
      if (m == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
      if (Status s = m->load(&*embedded); !s.is_ok()) {
        m->Release();
        return fail(scode_of(s), s.message());
      }
      m->embed_in(this);
      *out = static_cast<IMessage*>(m);
      return S_OK;
    }
    if (writing) {
      // A new embedded message (MAPI_CREATE replaces any content).
      if (Status s = stage_all(); !s.is_ok() && (flags & MAPI_CREATE) == 0) return fail(scode_of(s), s.message());
      slot_.staged = true;
      LPMESSAGE m = nullptr;
      if (HRESULT hr = create_message_object(state_, 0, false, &m); FAILED(hr)) return hr;
      static_cast<ComMessage*>(m)->embed_in(this);
      *out = m;
      return S_OK;
    }
    if (!stored_ || !stored_->is_embedded_message())
      return fail(MAPI_E_NOT_FOUND, "OpenProperty: the attachment holds no stored embedded message");
    auto embedded = stored_->embedded_message();
    if (!embedded) return fail(scode_of(embedded.status()), embedded.status().message());
    auto* m = new (std::nothrow) ComMessage(state_, 0, 0, false, false);
    if (m == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
    if (Status s = m->load(&*embedded); !s.is_ok()) {
      m->Release();
      return fail(scode_of(s), s.message());
    }
    *out = static_cast<IMessage*>(m);
    return S_OK;
  }
  if (prop_type(tag) != kPtBinary || *iid != IID_IStream) return S_OK;
  *handled = true;
  if (writing) {
    if (Status s = stage_all(); !s.is_ok()) return fail(scode_of(s), s.message());
    Bytes initial = (flags & MAPI_CREATE) ? Bytes{} : slot_.data;
    AddRef();
    std::shared_ptr<ComAttach> keep(this, [](ComAttach* a) { a->Release(); });
    auto on_commit = [keep](const Bytes& bytes) -> HRESULT {
      std::lock_guard lock(keep->state_->mutex);
      keep->slot_.data = bytes;
      keep->slot_.has_data = true;
      keep->slot_.embedded.reset();
      keep->props_[prop::kAttachDataBin] =
          PropValue::binary(prop_tag(prop::kAttachDataBin, kPtBinary), ByteView(bytes));
      return S_OK;
    };
    return create_memory_stream(std::move(initial), on_commit, reinterpret_cast<IStream**>(out));
  }
  if (slot_.staged) {
    if (!slot_.has_data) return fail(MAPI_E_NOT_FOUND, "OpenProperty: the attachment has no data");
    return create_memory_stream(slot_.data, nullptr, reinterpret_cast<IStream**>(out));
  }
  if (!stored_ || !stored_->has_data()) return fail(MAPI_E_NOT_FOUND, "OpenProperty: the attachment has no data");
  auto node = stored_->open_data();
  if (!node) return fail(scode_of(node.status()), node.status().message());
  std::shared_ptr<const ndb::Node> shared(std::move(*node));
  return create_node_stream(std::move(shared), state_, reinterpret_cast<IStream**>(out));
}

}  // namespace pstkit::mapi::capi
