// IMessage and IAttach over the PST provider (imessage*.md, iattach*.md).
// Internal to src/mapi.
//
// A message is transacted: properties, recipients and attachments are
// staged in the object; SaveChanges writes them with StoreWriter (a new
// message with create_message, a stored one with set/remove properties,
// replace_recipients, add/delete_attachment) and commits once. An
// attachment is transacted within its message: IAttach::SaveChanges hands
// its staged content to the message, which writes it at its own SaveChanges.
// An embedded message (PR_ATTACH_DATA_OBJ) hands its content to its
// attachment the same way.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "mapi/com_prop.h"

namespace pstkit::mapi::capi {

class ComAttach;

// One attachment of a message object: stored (nid != 0, not yet changed) or
// staged in memory (new, or changed: written again at SaveChanges).
struct AttachmentSlot {
  ULONG number = 0;  // PR_ATTACH_NUM: unique within the message object
  Nid nid = 0;       // the stored attachment's subnode, 0 when new
  bool staged = false;
  std::map<uint16_t, PropValue> props;  // when staged, without the data
  Bytes data;                           // PR_ATTACH_DATA_BIN when staged
  bool has_data = false;
  std::shared_ptr<NewMessage> embedded;  // a staged embedded message
};

class ComMessage final : public IMessage, public PropObjectBase {
  PSTKIT_IUNKNOWN_METHODS(ComMessage)

 public:
  // A stored message, or (nid 0) a new one of `folder`.
  ComMessage(std::shared_ptr<StoreState> state, Nid folder, Nid nid, bool modify, bool associated);
  // Loads a stored message (or an embedded one, `embedded` set).
  Status load(const Message* embedded = nullptr);
  // A new embedded message whose SaveChanges gives its content to `parent`.
  void embed_in(ComAttach* parent);

  bool answers(REFIID riid) const {
    return riid == IID_IUnknown || riid == IID_IMAPIProp || riid == IID_IMessage;
  }

  PSTKIT_IMAPIPROP_METHODS

  STDMETHODIMP SaveChanges(ULONG flags) override;
  STDMETHODIMP GetAttachmentTable(ULONG flags, LPMAPITABLE* out) override;
  STDMETHODIMP OpenAttach(ULONG number, LPCIID iid, ULONG flags, LPATTACH* out) override;
  STDMETHODIMP CreateAttach(LPCIID iid, ULONG flags, ULONG* number, LPATTACH* out) override;
  STDMETHODIMP DeleteAttach(ULONG number, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override;
  STDMETHODIMP GetRecipientTable(ULONG flags, LPMAPITABLE* out) override;
  STDMETHODIMP ModifyRecipients(ULONG flags, LPADRLIST mods) override;
  STDMETHODIMP SubmitMessage(ULONG flags) override;
  STDMETHODIMP SetReadFlag(ULONG flags) override;

  // Called by an attachment's SaveChanges.
  void stage_attachment(const AttachmentSlot& slot);
  // The stored Message (for reading attachments), if any.
  const Message* stored() const { return stored_ ? &*stored_ : nullptr; }
  bool writable() const { return modify_; }
  uint32_t codepage_public() const { return codepage_; }
  // The content as the writer takes it.
  Result<NewMessage> to_new_message() const;

 protected:
  std::vector<PropValue> computed() const override;
  uint32_t codepage() const override;
  bool read_only_property(uint16_t id) const override;
  HRESULT open_special(ULONG tag, LPCIID iid, ULONG options, ULONG flags, LPUNKNOWN* out, bool* handled) override;
  // Recipients and attachments (com_copy.cpp).
  HRESULT copy_sub_objects(LPMAPIPROP dest, const std::function<bool(uint16_t)>& wanted, ULONG flags) override;

 private:
  ~ComMessage() override;
  HRESULT save_stored(ULONG flags);
  HRESULT save_new();

  Nid folder_;
  Nid nid_;
  bool associated_;
  ComAttach* embedded_in_ = nullptr;  // held (AddRef) while the message lives
  std::optional<Message> stored_;
  uint64_t loaded_modification_time_ = 0;
  uint32_t codepage_ = 1252;
  // Recipients, each with its PR_ROWID.
  std::vector<std::vector<PropValue>> recipients_;
  bool recipients_changed_ = false;
  ULONG next_row_id_ = 0;
  std::vector<AttachmentSlot> attachments_;
  std::vector<Nid> deleted_attachments_;
  ULONG next_attach_number_ = 0;
};

class ComAttach final : public IAttach, public PropObjectBase {
  PSTKIT_IUNKNOWN_METHODS(ComAttach)

 public:
  ComAttach(ComMessage* message, AttachmentSlot slot, bool modify);
  // A stored attachment: its properties (data read on demand).
  Status load();

  bool answers(REFIID riid) const {
    return riid == IID_IUnknown || riid == IID_IMAPIProp || riid == IID_IAttachment;
  }

  PSTKIT_IMAPIPROP_METHODS

  STDMETHODIMP SaveChanges(ULONG flags) override;
  // An embedded message's SaveChanges.
  void stage_embedded(std::shared_ptr<NewMessage> message);

 protected:
  std::vector<PropValue> computed() const override;
  uint32_t codepage() const override;
  bool read_only_property(uint16_t id) const override;
  HRESULT open_special(ULONG tag, LPCIID iid, ULONG options, ULONG flags, LPUNKNOWN* out, bool* handled) override;
  HRESULT write_through(const std::vector<PropValue>& set, const std::vector<uint16_t>& removed) override;
  // The data or the embedded message (com_copy.cpp).
  HRESULT copy_sub_objects(LPMAPIPROP dest, const std::function<bool(uint16_t)>& wanted, ULONG flags) override;

 private:
  ~ComAttach() override;
  // Makes a stored attachment staged: its data read into memory.
  Status stage_all();

  ComMessage* message_;  // held (AddRef)
  AttachmentSlot slot_;
  std::optional<Attachment> stored_;
};

}  // namespace pstkit::mapi::capi
