// IMsgStore over a PST (imsgstore*.md) and open_pst_store (pst_store.h).
//
// The store object is not transacted: SaveChanges does nothing, and its own
// properties (the message store node, MS-PST 2.4.3) are read-only here
// (SetProps: MAPI_E_NO_ACCESS problems). The PST has no transport, so
// PR_STORE_SUPPORT_MASK lacks STORE_SUBMIT_OK; AbortSubmit answers
// MAPI_E_NOT_IN_QUEUE (nothing is ever queued) and the spooler's methods
// (GetOutgoingQueue, SetLockState, FinishedMsg) MAPI_E_NO_SUPPORT.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <sys/stat.h>

#include "mapi/capi_runtime.h"
#include "mapi/com_prop.h"
#include "mapi/fast_shutdown.h"
#include "mapi/open_stores.h"
#include "mapi/pst_store.h"
#include "mapi/receive_folders.h"
#include "pstkit/codepage.h"
#include "pstkit/mapi/mspst.h"

namespace pstkit::mapi::capi {
namespace {

constexpr uint16_t kPrStoreSupportMask = 0x340D;
constexpr uint16_t kPrValidFolderMask = 0x35DF;
constexpr uint16_t kPrMdbProvider = 0x3414;
constexpr uint16_t kPrAccessLevel = 0x0FF7;
constexpr uint16_t kPrMessageClassId = 0x001A;
constexpr uint8_t kMsPstUidProvider[16] = MSPST_UID_PROVIDER;

class ComStore final : public IMsgStore, public PropObjectBase {
  PSTKIT_IUNKNOWN_METHODS(ComStore)

 public:
  explicit ComStore(std::shared_ptr<StoreState> state) {
    state_ = std::move(state);
    modify_ = state_->writable;
    for (auto& v : core_values(state_->store().properties())) props_[prop_id(v.tag)] = std::move(v);
  }
  bool answers(REFIID riid) const { return riid == IID_IUnknown || riid == IID_IMAPIProp || riid == IID_IMsgStore; }

  PSTKIT_IMAPIPROP_METHODS

  STDMETHODIMP SaveChanges(ULONG flags) override {
    if (flags & ~(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS))
      return MAPI_E_UNKNOWN_FLAGS;
    return S_OK;
  }

  // imsgstore-advise.md: a null entry ID advises on the whole store, else on
  // the folder or message it names (and, for a folder, the objects in it).
  STDMETHODIMP Advise(ULONG cb, LPENTRYID id, ULONG mask, LPMAPIADVISESINK sink, ULONG_PTR* connection) override {
    std::lock_guard lock(state_->mutex);
    if (sink == nullptr || connection == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "Advise: null pointer");
    constexpr ULONG kEvents = fnevCriticalError | fnevNewMail | fnevObjectCreated | fnevObjectDeleted |
                              fnevObjectModified | fnevObjectMoved | fnevObjectCopied | fnevSearchComplete;
    if (mask == 0 || (mask & ~(kEvents | fnevExtended)) != 0)
      return fail(MAPI_E_INVALID_PARAMETER, "Advise: event mask");
    Nid nid = 0;
    if (id != nullptr && cb != 0) {
      auto decoded = decode_entry_id(ByteView(reinterpret_cast<const uint8_t*>(id), cb), state_->uid);
      if (!decoded) return fail(entry_id_scode(decoded.status()), decoded.status().message());
      nid = *decoded;
    }
    sink->AddRef();
    const ULONG_PTR c = state_->next_connection++;
    state_->sinks[c] = {nid, mask, sink};
    *connection = c;
    // Other processes' changes reach the sink too (docs/MAPI.md
    // "Notifications across processes").
    watch_for_changes();
    return S_OK;
  }

  STDMETHODIMP Unadvise(ULONG_PTR connection) override {
    std::lock_guard lock(state_->mutex);
    auto it = state_->sinks.find(connection);
    if (it == state_->sinks.end()) return fail(MAPI_E_NOT_FOUND, "Unadvise: no such connection");
    it->second.sink->Release();
    state_->sinks.erase(it);
    return S_OK;
  }

  // imsgstore-compareentryids.md.
  STDMETHODIMP CompareEntryIDs(ULONG cb1, LPENTRYID id1, ULONG cb2, LPENTRYID id2, ULONG flags,
                               ULONG* result) override {
    std::lock_guard lock(state_->mutex);
    if (flags != 0) return fail(MAPI_E_UNKNOWN_FLAGS, "CompareEntryIDs: unknown flags");
    if (id1 == nullptr || id2 == nullptr || result == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "CompareEntryIDs: null pointer");
    auto same = compare_entry_ids(ByteView(reinterpret_cast<const uint8_t*>(id1), cb1),
                                  ByteView(reinterpret_cast<const uint8_t*>(id2), cb2), state_->uid);
    if (!same) return fail(entry_id_scode(same.status()), same.status().message());
    *result = *same ? TRUE : FALSE;
    return S_OK;
  }

  STDMETHODIMP OpenEntry(ULONG cb, LPENTRYID id, LPCIID iid, ULONG flags, ULONG* type, LPUNKNOWN* out) override {
    std::lock_guard lock(state_->mutex);
    std::string detail;
    HRESULT hr = open_entry(state_, cb, id, iid, flags, type, out, &detail);
    return FAILED(hr) ? fail(hr, detail) : hr;
  }

  // imsgstore-setreceivefolder.md. The setting is written to the store's
  // receive folder table (receive_folders.h) and committed; a null entry ID
  // removes the class's setting. A read-only store: MAPI_E_NO_ACCESS.
  STDMETHODIMP SetReceiveFolder(LPTSTR message_class, ULONG flags, ULONG cb, LPENTRYID id) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "SetReceiveFolder: unknown flags");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "SetReceiveFolder: the store is read-only");
    const std::string cls = class_argument(message_class, flags);
    Nid folder = 0;
    if (id != nullptr && cb != 0) {
      auto nid = decode_entry_id(ByteView(reinterpret_cast<const uint8_t*>(id), cb), state_->uid);
      if (!nid) return fail(entry_id_scode(nid.status()), nid.status().message());
      if (!state_->store().open_folder(*nid)) return fail(MAPI_E_NOT_FOUND, "SetReceiveFolder: no such folder");
      folder = *nid;
    }
    if (Status s = write_receive_folder(*state_->writer, cls, folder); !s.is_ok()) {
      (void)state_->writer->rollback();
      return fail(scode_of(s), s.message());
    }
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    return S_OK;
  }

  // imsgstore-getreceivefolder.md: the folder set for the longest prefix of
  // the class (at dot boundaries), else the default: the IPM subtree's
  // "Inbox" when it has one, else the IPM subtree.
  STDMETHODIMP GetReceiveFolder(LPTSTR message_class, ULONG flags, ULONG* cb, LPENTRYID* id,
                                LPTSTR* explicit_class) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetReceiveFolder: unknown flags");
    if (cb == nullptr || id == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetReceiveFolder: null pointer");
    *cb = 0;
    *id = nullptr;
    if (explicit_class) *explicit_class = nullptr;
    auto found = find_receive_folder(state_->store(), class_argument(message_class, flags));
    if (!found) {
      if (found.status().code() == Code::kNotFound)
        return fail(MAPI_E_NOT_FOUND, "GetReceiveFolder: the store has no IPM subtree");
      return fail(scode_of(found.status()), found.status().message());
    }
    const std::string& matched = found->message_class;
    const Bytes eid = state_->entry_id(found->folder);
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateBuffer(ULONG(eid.size()), &p); sc != S_OK) return sc;
    std::memcpy(p, eid.data(), eid.size());
    if (explicit_class) {
      void* s = nullptr;
      const size_t bytes = (flags & MAPI_UNICODE) ? (matched.size() + 1) * sizeof(wchar_t) : matched.size() + 1;
      if (SCODE sc = MAPIAllocateBuffer(ULONG(bytes), &s); sc != S_OK) {
        MAPIFreeBuffer(p);
        return sc;
      }
      if (flags & MAPI_UNICODE) {
        std::wstring w = wide_from_utf8(matched);
        std::memcpy(s, w.c_str(), bytes);
      } else {
        std::memcpy(s, matched.c_str(), bytes);
      }
      *explicit_class = static_cast<LPTSTR>(s);
    }
    *cb = ULONG(eid.size());
    *id = static_cast<LPENTRYID>(p);
    return S_OK;
  }

  // imsgstore-getreceivefoldertable.md: PR_ENTRYID, PR_MESSAGE_CLASS and
  // PR_INSTANCE_KEY of each class set (the default class "" first).
  STDMETHODIMP GetReceiveFolderTable(ULONG flags, LPMAPITABLE* out) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~(MAPI_UNICODE | MAPI_DEFERRED_ERRORS)) return fail(MAPI_E_UNKNOWN_FLAGS, "GetReceiveFolderTable");
    if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetReceiveFolderTable: null pointer");
    auto settings = receive_folder_settings(state_->store());
    if (!settings) return fail(scode_of(settings.status()), settings.status().message());
    std::map<std::string, Nid> all;
    for (const auto& [key, r] : *settings) all[r.message_class] = r.folder;
    if (!settings->count("")) {
      if (auto d = default_receive_folder(state_->store())) all[""] = *d;
    }
    std::vector<InMemoryRowSource::Row> rows;
    RowId n = 0;
    for (const auto& [cls, nid] : all) {
      InMemoryRowSource::Row row;
      row.id = n;
      const Bytes eid = state_->entry_id(nid);
      const Bytes key{uint8_t(n), uint8_t(n >> 8), uint8_t(n >> 16), uint8_t(n >> 24)};
      row.values = {PropValue::binary(kPrEntryId, ByteView(eid)),
                    PropValue::unicode(prop_tag(kPrMessageClassId, kPtUnicode), cls),
                    PropValue::binary(kPrInstanceKey, ByteView(key))};
      rows.push_back(std::move(row));
      ++n;
    }
    return create_memory_table({kPrEntryId, prop_tag(kPrMessageClassId, kPtUnicode), kPrInstanceKey},
                               std::move(rows), out);
  }

  // imsgstore-storelogoff.md: one input flag at most; no transport, so no
  // activity to report on output (0).
  STDMETHODIMP StoreLogoff(ULONG* flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "StoreLogoff: null pointer");
    constexpr ULONG kInput = LOGOFF_NO_WAIT | LOGOFF_ORDERLY | LOGOFF_PURGE | LOGOFF_ABORT | LOGOFF_QUIET;
    const ULONG in = *flags;
    if (in & ~kInput) return fail(MAPI_E_UNKNOWN_FLAGS, "StoreLogoff: unknown flags");
    if ((in & (in - 1)) != 0) return fail(MAPI_E_INVALID_PARAMETER, "StoreLogoff: flags are mutually exclusive");
    // Saved messages still in a write-behind batch are committed now; a
    // failure (or an earlier deferred one) is this call's.
    std::string detail;
    if (HRESULT hr = state_->flush(&detail); FAILED(hr)) return fail(hr, detail);
    state_->logged_off = true;
    *flags = 0;
    return S_OK;
  }

  STDMETHODIMP AbortSubmit(ULONG cb, LPENTRYID id, ULONG flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags != 0) return fail(MAPI_E_UNKNOWN_FLAGS, "AbortSubmit: unknown flags");
    if (id == nullptr || cb == 0) return fail(MAPI_E_INVALID_PARAMETER, "AbortSubmit: null entry ID");
    auto nid = decode_entry_id(ByteView(reinterpret_cast<const uint8_t*>(id), cb), state_->uid);
    if (!nid) return fail(entry_id_scode(nid.status()), nid.status().message());
    return fail(MAPI_E_NOT_IN_QUEUE, "AbortSubmit: the store has no outgoing queue");
  }
  STDMETHODIMP GetOutgoingQueue(ULONG, LPMAPITABLE* out) override {
    if (out) *out = nullptr;
    return fail(MAPI_E_NO_SUPPORT, "GetOutgoingQueue: the store has no transport");
  }
  STDMETHODIMP SetLockState(LPMESSAGE, ULONG) override {
    return fail(MAPI_E_NO_SUPPORT, "SetLockState: the store has no transport");
  }
  STDMETHODIMP FinishedMsg(ULONG, ULONG, LPENTRYID) override {
    return fail(MAPI_E_NO_SUPPORT, "FinishedMsg: the store has no transport");
  }

  // imsgstore-notifynewmail.md: delivers the fnevNewMail notification to the
  // sinks advised for it (on the store, the message or its folder).
  STDMETHODIMP NotifyNewMail(LPNOTIFICATION notification) override {
    std::lock_guard lock(state_->mutex);
    if (notification == nullptr || notification->ulEventType != fnevNewMail)
      return fail(MAPI_E_INVALID_PARAMETER, "NotifyNewMail: not a new mail notification");
    const auto& mail = notification->info.newmail;
    auto nid_of = [&](ULONG cb, LPENTRYID id) -> Nid {
      if (id == nullptr) return 0;
      auto n = decode_entry_id(ByteView(reinterpret_cast<const uint8_t*>(id), cb), state_->uid);
      return n ? *n : 0;
    };
    const Nid message = nid_of(mail.cbEntryID, mail.lpEntryID);
    if (message == 0) return fail(MAPI_E_INVALID_ENTRYID, "NotifyNewMail: the message's entry ID");
    state_->notify(*notification, message, nid_of(mail.cbParentID, mail.lpParentID));
    return S_OK;
  }

 protected:
  std::vector<PropValue> computed() const override {
    std::vector<PropValue> out;
    ULONG mask = STORE_ENTRYID_UNIQUE | STORE_SEARCH_OK | STORE_MODIFY_OK | STORE_CREATE_OK | STORE_ATTACH_OK |
                 STORE_OLE_OK | STORE_NOTIFY_OK | STORE_MV_PROPS_OK | STORE_RTF_OK | STORE_RESTRICTION_OK |
                 STORE_SORT_OK | STORE_HTML_OK | STORE_LOCALSTORE;
    if (state_->store().header().format == ndb::FileFormat::kAnsi) {
      mask |= STORE_ANSI_OK;
    } else {
      mask |= STORE_UNICODE_OK | STORE_ANSI_OK;
    }
    if (!state_->writable) mask = (mask & ~(STORE_MODIFY_OK | STORE_CREATE_OK)) | STORE_READONLY;
    out.push_back(PropValue::long_(prop_tag(kPrStoreSupportMask, kPtLong), int32_t(mask)));
    ULONG valid = 0;
    const Store& s = state_->store();
    if (s.ipm_subtree_nid()) valid |= FOLDER_IPM_SUBTREE_VALID;
    if (s.deleted_items_nid()) valid |= FOLDER_IPM_WASTEBASKET_VALID;
    if (s.search_root_nid()) valid |= FOLDER_FINDER_VALID;
    if (ipm_inbox(state_->store())) valid |= FOLDER_IPM_INBOX_VALID;
    out.push_back(PropValue::long_(prop_tag(kPrValidFolderMask, kPtLong), int32_t(valid)));
    out.push_back(PropValue::binary(kPrStoreRecordKey, ByteView(state_->uid.data(), state_->uid.size())));
    out.push_back(PropValue::binary(prop_tag(kPrMdbProvider, kPtBinary), ByteView(kMsPstUidProvider, 16)));
    out.push_back(PropValue::long_(kPrObjectType, MAPI_STORE));
    out.push_back(PropValue::long_(prop_tag(kPrAccessLevel, kPtLong), state_->writable ? 1 : 0));
    return out;
  }
  uint32_t codepage() const override { return state_->store().codepage(); }
  HRESULT write_through(const std::vector<PropValue>&, const std::vector<uint16_t>&) override {
    return fail(MAPI_E_NO_ACCESS, "the message store's own properties are read-only");
  }

 private:
  ~ComStore() override = default;

  std::string class_argument(LPTSTR text, ULONG flags) const {
    if (text == nullptr) return {};
    if (flags & MAPI_UNICODE) return utf8_from_wide(reinterpret_cast<const wchar_t*>(text));
    return decode_codepage(std::string_view(reinterpret_cast<const char*>(text)), state_->store().codepage());
  }
};

}  // namespace

HRESULT open_pst_store(const std::string& path, ULONG flags, LPMDB* out) {
  if (!runtime_initialized()) return MAPI_E_NOT_INITIALIZED;
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  if (flags & ~(MDB_NO_DIALOG | MDB_WRITE | MDB_TEMPORARY | MDB_NO_MAIL | MDB_ONLINE | MAPI_BEST_ACCESS |
                MAPI_DEFERRED_ERRORS))
    return MAPI_E_UNKNOWN_FLAGS;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return MAPI_E_NOT_FOUND;
  if (!S_ISREG(st.st_mode)) return MAPI_E_INVALID_PARAMETER;
  try {
    auto state = std::make_shared<StoreState>();
    state->path = path;
    state->file_dev = st.st_dev;
    state->file_ino = st.st_ino;
    Status error;
    if (flags & (MDB_WRITE | MAPI_BEST_ACCESS)) {
      // Through store_env(): after DoFastShutdown nothing more is written.
      ndb::WriterOptions options;
      options.env = store_env();
      auto writer = StoreWriter::open(path, options);
      if (writer) {
        state->writer = std::move(*writer);
        state->writable = true;
        state->write_behind = WriteBehindSettings::from_environment();
        // Other processes may write the store while this one has nothing
        // staged (docs/MAPI.md "Shared stores").
        if (Status s = state->writer->set_release_when_idle(true); !s.is_ok()) return scode_of(s);
      } else {
        error = writer.status();
        if (!(flags & MAPI_BEST_ACCESS)) {
          if (error.code() == Code::kUnsupported) return MAPI_E_NO_ACCESS;
          return scode_of(error);
        }
      }
    }
    if (!state->writer) {
      // Read-only: without the readers lock between calls, so that other
      // processes' commits do not wait for this store, which follows them
      // (docs/MAPI.md "Shared stores").
      auto db = ndb::open_following(path);
      ndb::FollowingDatabase* following = db ? db->get() : nullptr;
      auto reader = db ? Store::open(std::unique_ptr<ndb::Database>(std::move(*db)))
                       : Result<std::unique_ptr<Store>>(db.status());
      if (!reader) {
        const Code code = reader.status().code();
        if (code == Code::kBusy) return MAPI_E_BUSY;  // crash-locked (MAPICrashRecovery), or a commit past the wait
        return code == Code::kNotFound ? MAPI_E_NOT_FOUND : MAPI_E_CORRUPT_DATA;
      }
      state->reader = std::move(*reader);
      state->following = following;
    }
    // The crash lock, the open-by-MAPI record and the improper-close check.
    if (HRESULT hr = prepare_store_recovery(state, nullptr); FAILED(hr)) return hr;
    if (auto uid = store_provider_uid(state->store())) state->uid = *uid;
    register_open_store(state);
    auto* store = new ComStore(std::move(state));
    *out = store;
    return S_OK;
  } catch (const std::bad_alloc&) {
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
}

HRESULT pst_store_record_key(LPMDB store, std::array<uint8_t, 16>* out) {
  if (store == nullptr || out == nullptr) return MAPI_E_INVALID_PARAMETER;
  auto* ours = dynamic_cast<ComStore*>(store);
  if (ours == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = ours->state()->uid;
  return S_OK;
}

}  // namespace pstkit::mapi::capi
