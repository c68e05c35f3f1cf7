// CopyTo / CopyProps of what a message or an attachment holds besides its
// property values (imapiprop-copyto.md, imapiprop-copyprops.md): a
// message's recipients (PR_MESSAGE_RECIPIENTS) and attachments
// (PR_MESSAGE_ATTACHMENTS), an attachment's data (PR_ATTACH_DATA_BIN) or
// embedded message (PR_ATTACH_DATA_OBJ). Everything goes through the
// destination's own interfaces (ModifyRecipients, CreateAttach,
// OpenProperty, SaveChanges of the attachments), so any IMessage is a
// destination; the caller saves the destination message.
#include "mapi/com_message.h"
#include "pstkit/mapi/mapiutil.h"

namespace pstkit::mapi::capi {
namespace {

constexpr uint16_t kRecipientsId = 0x0E12;   // PR_MESSAGE_RECIPIENTS
constexpr uint16_t kAttachmentsId = 0x0E13;  // PR_MESSAGE_ATTACHMENTS
constexpr uint16_t kRowIdId = 0x3000;        // PR_ROWID: the destination numbers its rows
constexpr ULONG kCopyChunk = 64 * 1024;

template <typename T>
struct Held {
  T* p = nullptr;
  ~Held() {
    if (p) p->Release();
  }
};

// The rows of a recipient table as an ADRLIST (FreePadrlist frees it).
HRESULT adrlist_of(const std::vector<std::vector<PropValue>>& rows, LPADRLIST* out) {
  *out = nullptr;
  void* p = nullptr;
  if (SCODE sc = MAPIAllocateBuffer(ULONG(CbNewADRLIST(rows.size())), &p); sc != S_OK) return sc;
  auto* list = static_cast<LPADRLIST>(p);
  list->cEntries = 0;
  for (const auto& row : rows) {
    std::vector<PropValue> values;
    for (const auto& v : row) {
      if (prop_id(v.tag) != kRowIdId) values.push_back(v);
    }
    LPSPropValue array = nullptr;
    Converted c = to_mapi(values, &array);
    if (!c.ok()) {
      FreePadrlist(list);
      return c.scode;
    }
    ADRENTRY& e = list->aEntries[list->cEntries++];
    e.ulReserved1 = 0;
    e.cValues = ULONG(values.size());
    e.rgPropVals = array;
  }
  *out = list;
  return S_OK;
}

}  // namespace

HRESULT ComMessage::copy_sub_objects(LPMAPIPROP dest, const std::function<bool(uint16_t)>& wanted, ULONG flags) {
  Held<IMessage> target;
  if (FAILED(dest->QueryInterface(IID_IMessage, reinterpret_cast<void**>(&target.p))) || target.p == nullptr)
    return S_OK;  // not a message: its property values only
  if (wanted(kRecipientsId) && !recipients_.empty()) {
    bool keep = false;
    if (flags & MAPI_NOREPLACE) {
      // The destination's recipients stay when it has some.
      Held<IMAPITable> table;
      ULONG count = 0;
      keep = SUCCEEDED(target.p->GetRecipientTable(0, &table.p)) && SUCCEEDED(table.p->GetRowCount(0, &count)) &&
             count > 0;
    }
    if (!keep) {
      LPADRLIST list = nullptr;
      if (HRESULT hr = adrlist_of(recipients_, &list); FAILED(hr)) return hr;
      HRESULT hr = target.p->ModifyRecipients(0, list);
      FreePadrlist(list);
      if (FAILED(hr)) return hr;
    }
  }
  if (wanted(kAttachmentsId)) {
    std::vector<ULONG> numbers;
    for (const auto& slot : attachments_) numbers.push_back(slot.number);
    for (ULONG number : numbers) {
      Held<IAttach> from, to;
      if (HRESULT hr = OpenAttach(number, nullptr, 0, &from.p); FAILED(hr)) return hr;
      ULONG new_number = 0;
      if (HRESULT hr = target.p->CreateAttach(nullptr, 0, &new_number, &to.p); FAILED(hr)) return hr;
      if (HRESULT hr = from.p->CopyTo(0, nullptr, nullptr, 0, nullptr, &IID_IAttachment, to.p, 0, nullptr);
          FAILED(hr))
        return hr;
      if (HRESULT hr = to.p->SaveChanges(0); FAILED(hr)) return hr;
    }
  }
  return S_OK;
}

HRESULT ComAttach::copy_sub_objects(LPMAPIPROP dest, const std::function<bool(uint16_t)>& wanted, ULONG) {
  if (!wanted(prop::kAttachDataBin)) return S_OK;
  Held<IAttach> target;
  if (FAILED(dest->QueryInterface(IID_IAttachment, reinterpret_cast<void**>(&target.p))) || target.p == nullptr)
    return S_OK;
  const bool embedded = slot_.staged ? slot_.embedded != nullptr : (stored_ && stored_->is_embedded_message());
  if (embedded) {
    if (slot_.staged) {
      // Unsaved content given by an embedded message's SaveChanges: copy it as
      // this attachment's message would be written.
      return fail(MAPI_E_NO_SUPPORT, "CopyTo: an embedded message not yet saved in its message");
    }
    Held<IMessage> from, to;
    if (HRESULT hr = OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, 0, reinterpret_cast<LPUNKNOWN*>(&from.p));
        FAILED(hr))
      return hr;
    if (HRESULT hr = target.p->OpenProperty(PR_ATTACH_DATA_OBJ, &IID_IMessage, 0, MAPI_CREATE | MAPI_MODIFY,
                                            reinterpret_cast<LPUNKNOWN*>(&to.p));
        FAILED(hr))
      return hr;
    if (HRESULT hr = from.p->CopyTo(0, nullptr, nullptr, 0, nullptr, &IID_IMessage, to.p, 0, nullptr); FAILED(hr))
      return hr;
    return to.p->SaveChanges(0);
  }
  const bool has_data = slot_.staged ? slot_.has_data : (stored_ && stored_->has_data());
  if (!has_data) return S_OK;
  Held<IStream> in, out;
  if (HRESULT hr = OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, 0, 0, reinterpret_cast<LPUNKNOWN*>(&in.p));
      FAILED(hr))
    return hr;
  if (HRESULT hr = target.p->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY,
                                          reinterpret_cast<LPUNKNOWN*>(&out.p));
      FAILED(hr))
    return hr;
  std::vector<uint8_t> buffer(kCopyChunk);
  for (;;) {
    ULONG got = 0;
    if (HRESULT hr = in.p->Read(buffer.data(), kCopyChunk, &got); FAILED(hr)) return hr;
    if (got == 0) break;
    ULONG written = 0;
    if (HRESULT hr = out.p->Write(buffer.data(), got, &written); FAILED(hr)) return hr;
    if (written != got) return MAPI_E_DISK_ERROR;
  }
  return out.p->Commit(0);
}

}  // namespace pstkit::mapi::capi
