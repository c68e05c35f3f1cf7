// The object model over the PST provider (issue 9 part 4): the state one
// opened store shares with every object opened from it, and the IMAPIProp
// machinery IMsgStore, IMAPIFolder, IMessage and IAttach share (imapiprop*.md).
// Internal to src/mapi.
//
// Every object keeps its properties as core PropValues (pstkit/mapi_table.h):
// what was read from the file, changed in memory by SetProps/DeleteProps,
// plus computed ones (PR_ENTRYID, PR_OBJECT_TYPE ...) that SetProps refuses
// with MAPI_E_COMPUTED. Messages and attachments are transacted: changes stay
// in the object until SaveChanges writes them through StoreWriter and commits
// (imapiprop-savechanges.md). Folders and the store are not: SetProps on a
// folder is written and committed at once, and SaveChanges does nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "mapi/capi_convert.h"
#include "mapi/com_table.h"
#include "mapi/crash_recovery.h"
#include "mapi/last_error.h"
#include "mapi/store_changes.h"
#include "ndb/following_database.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_entry_id.h"
#include "pstkit/mapi_folder_table.h"
#include "pstkit/mapi_table.h"
#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"
#include "util/file_lock.h"

namespace pstkit::mapi::capi {

struct StoreState;

// A store's mutex (recursive), held by every MAPI call for its whole update.
// Its outermost lock, the start of a call, first catches up with what other
// processes committed (StoreState::catch_up); its outermost unlock gives the
// writer lock up when nothing is staged (docs/MAPI.md "Shared stores").
class StoreMutex final : public TableOuterLock {
 public:
  explicit StoreMutex(StoreState& state) : state_(state) {}
  void lock() override;
  bool try_lock();
  void unlock() override;

 private:
  void begin_call();
  std::recursive_mutex mutex_;
  unsigned depth_ = 0;
  StoreState& state_;
};

// Write-behind settings, read from the environment when a store opens
// (docs/MAPI.md "Write-behind"): a batch of saved messages commits when it
// holds batch_limit of them or flush_delay after its first.
struct WriteBehindSettings {
  size_t batch_limit = 500;                          // $PSTKIT_MAPI_BATCH; 1: a commit per SaveChanges
  std::chrono::milliseconds flush_delay{200};        // $PSTKIT_MAPI_FLUSH_MS, 1 ms to 10 s
  // $PSTKIT_MAPI_FLUSH_REQUESTS=0: a pending batch takes no batch-pending
  // lock, so other processes cannot ask for it and see it only at its
  // commit (for measuring what the requests cost a lone writer, or a store
  // nobody else reads).
  bool flush_requests = true;
  static WriteBehindSettings from_environment();
};

// One opened PST: a StoreWriter when opened with MDB_WRITE, else a reader.
// The writer holds the file's writer lock only while it has staged changes,
// so that other processes can write the store too.
struct StoreState {
  StoreMutex mutex{*this};
  std::string path;
  // The file's identity (stat at open): store objects of this process on the
  // same file find each other's pending batches by it (catch_up).
  dev_t file_dev = 0;
  ino_t file_ino = 0;
  // Crash recovery and the open-by-MAPI record (crash_recovery.h); declared
  // before the writer so that it outlives it (the record is marked closed
  // after the writer's last commit).
  std::unique_ptr<StoreRecovery> recovery;
  bool writable = false;
  bool logged_off = false;
  // Counts changes seen (this store's commits and saves, other processes'
  // commits): objects and tables re-read what they show when it moved.
  uint64_t generation = 0;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<Store> reader;
  // The reader's database, which follows other processes' commits (a
  // read-only store holds no lock between calls; ndb/following_database.h).
  ndb::FollowingDatabase* following = nullptr;
  // Set at the start of each call: MAPI_E_BUSY while the file is
  // crash-locked, or when another process's pending batch could not be had
  // within $PSTKIT_LOCK_TIMEOUT (catch_up).
  HRESULT crash_refusal = S_OK;
  std::string crash_refusal_detail;
  // S_OK, or the refusal every call returns (its text in *detail).
  HRESULT refused(std::string* detail) const;
  ProviderUid uid{};

  // ---- write-behind (writers)
  WriteBehindSettings write_behind;
  // Messages saved since the last commit, and when the batch must commit.
  size_t batch_messages = 0;
  std::optional<std::chrono::steady_clock::time_point> batch_deadline;
  // While a batch is pending: the file's pending-batch lock, through which
  // other processes ask for it (docs/COMMIT_PROTOCOL.md "Saved changes
  // pending"), and the batch's deadline for the flusher, which reads both
  // without the store's mutex (a call in progress must not hold up a
  // request). Set and cleared under the mutex, by set_batch_pending.
  std::mutex pending_mutex;
  std::unique_ptr<filelock::PendingBatch> pending_batch;  // guarded by pending_mutex
  // The flusher's watch on the file while a batch is pending
  // (watch_pending_file), guarded by pending_mutex.
  std::optional<int> pending_watch;
  std::atomic<bool> batch_pending{false};
  std::atomic<int64_t> batch_due_ns{0};  // steady_clock
  void set_batch_pending(bool pending);
  // Whether another process asks for the pending batch (one fcntl).
  bool batch_requested();
  // A deferred commit that failed, reported by the next SaveChanges, flush
  // or logoff (then cleared).
  HRESULT deferred_error = S_OK;
  std::string deferred_detail;

  // After a message's SaveChanges staged it in the writer: commits the batch
  // when it is full, else leaves it for the background flusher.
  HRESULT save_deferred(std::string* detail);
  // The failure of a deferred commit not reported yet (S_OK: none), cleared.
  HRESULT take_deferred_error(std::string* detail);
  // Drops what the writer staged after a change failed half-way; saved
  // messages of the pending batch go with it, which becomes a deferred error.
  void abandon_staged(const std::string& why);
  // Commits the batch if its deadline has passed or another process asks
  // for it; returns the deadline of a batch still pending. Takes the store's
  // mutex only to commit.
  std::optional<std::chrono::steady_clock::time_point> flush_if_due(std::chrono::steady_clock::time_point now);
  // Commits the pending batch now, if there is one; a failure becomes the
  // deferred error (its client hears of it at its next call). The mutex is
  // held.
  void commit_batch_now();
  // Another process committed since this store was read: reload (writers
  // without staged changes; readers through `following`). First, a batch of
  // saved messages another process holds pending is asked for and waited
  // for, and one another store object of this process holds on the same
  // file is committed (not from the flusher or the watch:
  // on_background_thread), so that the call sees it: MAPI_E_BUSY (*detail
  // says why) when that wait fails.
  HRESULT catch_up(std::string* detail);
  // The second half of that: commits the batch another StoreState of this
  // process holds pending on this file, waiting (bounded by the lock
  // timeout) while a call on it in another thread holds its mutex.
  HRESULT commit_batches_of_same_file(std::string* detail);

  const Store& store() const { return writer ? writer->store() : *reader; }
  // For reading messages and the code page: without store()'s writing of
  // every staged folder table (StoreWriter::item_store), so that the saves
  // of a write-behind batch write each table once, at the commit.
  const Store& items() const { return writer ? writer->item_store() : *reader; }
  Bytes entry_id(Nid nid) const { return encode_entry_id(uid, nid); }
  // The parent folder of a folder or message (its NBT entry), 0 if unknown.
  Nid parent_of(Nid nid) const;

  // Commits the writer's staged changes (rolling back on failure). The MAPI
  // code of the failure, S_OK on success.
  HRESULT commit(std::string* detail);
  // Makes every saved change durable: commits what the writer still holds
  // between SaveChanges calls (write-behind). S_OK when nothing is pending or
  // the store is read-only. Takes the store's mutex.
  HRESULT flush(std::string* detail);

  // IMsgStore::Advise sinks (imsgstore-advise.md). nid 0: the whole store.
  struct Sink {
    Nid nid = 0;
    ULONG mask = 0;
    LPMAPIADVISESINK sink = nullptr;
  };
  std::map<ULONG_PTR, Sink> sinks;
  ULONG_PTR next_connection = 1;
  // Delivers an object notification (fnevObjectCreated ... fnevObjectCopied)
  // to the sinks advised on the store, the object or its parent folder.
  void notify_object(ULONG event, ULONG object_type, Nid nid, Nid parent, Nid old_nid = 0, Nid old_parent = 0);
  // To the sinks advised on the whole store, on nid, parent or old_parent
  // (a move's old folder), each once.
  void notify(const NOTIFICATION& notification, Nid nid, Nid parent, Nid old_parent = 0);

  // The folder tables open on this store (com_folder.cpp) follow its
  // changes: notify_object also tells each of them, which turns the change
  // into its rows' table notifications (imapitable-advise.md).
  struct ObjectChange {
    ULONG event = 0;
    ULONG object_type = 0;
    Nid nid = 0, parent = 0, old_nid = 0, old_parent = 0;
  };
  class TableWatcher {
   public:
    virtual ~TableWatcher() = default;
    virtual void on_change(const ObjectChange& change) = 0;
    virtual void on_changes(std::span<const ObjectChange> changes) = 0;
    // Whether a client advised the table (imapitable-advise.md).
    virtual bool advised() const = 0;
  };
  std::vector<std::weak_ptr<TableWatcher>> table_watchers;
  // The watchers still alive (the dead ones are dropped): a copy, since a
  // watcher told of a change may open or close tables.
  std::vector<std::shared_ptr<TableWatcher>> live_table_watchers();
  // notify_object without recording the object as reported here.
  void deliver_object(const ObjectChange& change, bool tell_tables);

  // ---- changes made elsewhere (docs/MAPI.md "Notifications across
  // processes"): another process, or another store object of this one,
  // committed. They are derived from the file (store_changes.h) when this
  // store has a listener: a sink advised on it or on one of its tables.
  //
  // The state notifications were last derived from (none while nobody
  // listens), and the objects this store object reported itself since: its
  // own changes, which the next derivation must not report again.
  std::optional<StoreSnapshot> baseline;
  std::set<Nid> reported_here;
  // Set by a commit or a reload: derive at the start or end of the call.
  bool needs_sync = false;
  bool syncing = false;
  // Whether anyone listens: a store sink or an advised table.
  bool listening();
  // Derives what changed since the baseline and delivers it to the sinks and
  // tables, skipping what this store reported itself. The mutex is held.
  void sync_changes();
  // fnevNewMail for the messages among `changes` (made elsewhere) that
  // arrived as delivered mail does: created in the receive folder of their
  // class, unread and not a draft (docs/MAPI.md "New mail across processes").
  void notify_new_mail(std::span<const ObjectChange> changes);
  // For the background watch: without waiting, takes the mutex (which
  // catches up and derives, StoreMutex::lock) and says whether the store
  // still has listeners. A store whose mutex is busy counts as listening.
  bool poll_changes();
  ~StoreState();
};

// The MAPI code of a messaging-layer Status: kNotFound → MAPI_E_NOT_FOUND,
// kCorrupt → MAPI_E_CORRUPT_DATA, kInvalidArgument → MAPI_E_INVALID_PARAMETER,
// kUnsupported → MAPI_E_NO_SUPPORT, anything else MAPI_E_CALL_FAILED.
HRESULT scode_of(const Status& status);

// A core value in the file's encoding (ltp::PropValue): the reverse of
// from_stored. PT_UNICODE becomes UTF-16LE; the writer converts to the file's
// string type.
Result<ltp::PropValue> to_stored(const PropValue& value, uint32_t codepage = 1252);

// Core values of a property bag, without the values that do not decode.
std::vector<PropValue> core_values(const PropertyBag& bag);

// A copy of a PT_STRING8 value as PT_UNICODE (decoded with `codepage`) or
// the reverse; other values unchanged.
PropValue convert_string(const PropValue& value, uint16_t to_type, uint32_t codepage);

// What IMAPIProp::GetProps returns from an object's values
// (imapiprop-getprops.md): every value (tags null) with strings of kind
// `width`, else the values asked for, PT_UNSPECIFIED giving the stored type
// and a string asked for in the other kind coming in that kind. as_kind(v,
// PT_STRING8 or PT_UNICODE) gives a string in a kind. A property missing,
// or asked for in a type it does not have, is PT_ERROR / MAPI_E_NOT_FOUND
// and sets *errors.
std::vector<PropValue> select_props(const std::vector<PropValue>& all, const SPropTagArray* tags, uint16_t width,
                                    const std::function<PropValue(const PropValue&, uint16_t)>& as_kind,
                                    bool* errors);

// The IMAPIProp half of every object. Interface is IMsgStore, IMAPIFolder,
// IMessage or IAttach; the derived class supplies the hooks.
class PropObjectBase {
 public:
  virtual ~PropObjectBase() = default;

 protected:
  // Stored (and staged) properties, by property id.
  std::map<uint16_t, PropValue> props_;
  // Staged changes of a transacted object since it was loaded or saved.
  std::set<uint16_t> changed_, deleted_;
  bool modify_ = false;  // opened for writing (MAPI_MODIFY, a new object)
  std::shared_ptr<StoreState> state_;
  LastError last_{"pstkit PST provider"};

  HRESULT fail(HRESULT hr, std::string detail) { return last_.set(hr, std::move(detail)); }

  // Hooks.
  virtual std::vector<PropValue> computed() const = 0;  // read-only, computed values
  virtual uint32_t codepage() const { return 1252; }
  // Re-reads what the object shows from the store when another object
  // committed since (folders: counts; nothing for transacted objects).
  virtual void refresh() {}
  // A property SetProps/DeleteProps refuse (MAPI_E_COMPUTED) besides the computed ones.
  virtual bool read_only_property(uint16_t /*id*/) const { return false; }
  // Non-transacted objects (folders) write at once; transacted ones stage.
  virtual HRESULT write_through(const std::vector<PropValue>& /*set*/, const std::vector<uint16_t>& /*removed*/) {
    return S_OK;
  }
  virtual IMAPIProp* as_prop() = 0;
  // The bytes of a property for OpenProperty(IID_IStream) on a large value
  // the object streams itself (attachment data); nullopt: use props_.
  virtual HRESULT open_special(ULONG /*tag*/, LPCIID /*iid*/, ULONG /*options*/, ULONG /*flags*/,
                               LPUNKNOWN* /*out*/, bool* handled) {
    *handled = false;
    return S_OK;
  }
  // CopyTo/CopyProps of what is not a property value: a message's
  // recipients and attachments, an attachment's data and embedded message
  // (imapiprop-copyto.md). `wanted(id)` says whether property `id`
  // (PR_MESSAGE_RECIPIENTS, PR_MESSAGE_ATTACHMENTS, PR_ATTACH_DATA_BIN...)
  // is to be copied. Called after the values were set on `dest`.
  virtual HRESULT copy_sub_objects(LPMAPIPROP /*dest*/, const std::function<bool(uint16_t)>& /*wanted*/,
                                   ULONG /*flags*/) {
    return S_OK;
  }

 public:
  // IMAPIProp implementations (imapiprop-*.md).
  HRESULT prop_GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError);
  HRESULT prop_GetProps(LPSPropTagArray tags, ULONG flags, ULONG* count, LPSPropValue* values);
  HRESULT prop_GetPropList(ULONG flags, LPSPropTagArray* out);
  HRESULT prop_OpenProperty(ULONG tag, LPCIID iid, ULONG options, ULONG flags, LPUNKNOWN* out);
  HRESULT prop_SetProps(ULONG count, LPSPropValue values, LPSPropProblemArray* problems);
  HRESULT prop_DeleteProps(LPSPropTagArray tags, LPSPropProblemArray* problems);
  HRESULT prop_CopyTo(ULONG ciidExclude, LPCIID rgiidExclude, LPSPropTagArray exclude, LPMAPIPROGRESS progress,
                      LPCIID iid, LPVOID dest, ULONG flags, LPSPropProblemArray* problems);
  HRESULT prop_CopyProps(LPSPropTagArray include, LPMAPIPROGRESS progress, LPCIID iid, LPVOID dest, ULONG flags,
                         LPSPropProblemArray* problems);
  HRESULT prop_GetNamesFromIDs(LPSPropTagArray* tags, LPGUID guid, ULONG flags, ULONG* count, LPMAPINAMEID** names);
  HRESULT prop_GetIDsFromNames(ULONG count, LPMAPINAMEID* names, ULONG flags, LPSPropTagArray* out);

  // All values (stored then computed; a computed value wins).
  std::vector<PropValue> all_values() const;
  // Sets a value in memory (no checks): for the derived classes.
  void put(PropValue v) { props_[prop_id(v.tag)] = std::move(v); }
  const PropValue* find(uint16_t id) const {
    auto it = props_.find(id);
    return it == props_.end() ? nullptr : &it->second;
  }
  // Sets values from another object (CopyTo/CopyProps destination).
  HRESULT set_values(const std::vector<PropValue>& values, std::vector<SPropProblem>* problems);
  std::shared_ptr<StoreState> state() const { return state_; }
  IMAPIProp* as_prop_public() { return as_prop(); }
};

// IMAPIProp forwarding for a class deriving from Interface and PropObjectBase.
#define PSTKIT_IMAPIPROP_METHODS                                                                                   \
  STDMETHODIMP GetLastError(HRESULT h, ULONG f, LPMAPIERROR* e) override { return prop_GetLastError(h, f, e); }   \
  STDMETHODIMP GetProps(LPSPropTagArray t, ULONG f, ULONG* c, LPSPropValue* v) override {                       \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_GetProps(t, f, c, v);                                                                            \
  }                                                                                                              \
  STDMETHODIMP GetPropList(ULONG f, LPSPropTagArray* t) override {                                               \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_GetPropList(f, t);                                                                               \
  }                                                                                                              \
  STDMETHODIMP OpenProperty(ULONG t, LPCIID i, ULONG o, ULONG f, LPUNKNOWN* u) override {                        \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_OpenProperty(t, i, o, f, u);                                                                     \
  }                                                                                                              \
  STDMETHODIMP SetProps(ULONG c, LPSPropValue v, LPSPropProblemArray* p) override {                              \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_SetProps(c, v, p);                                                                               \
  }                                                                                                              \
  STDMETHODIMP DeleteProps(LPSPropTagArray t, LPSPropProblemArray* p) override {                                 \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_DeleteProps(t, p);                                                                               \
  }                                                                                                              \
  STDMETHODIMP CopyTo(ULONG ci, LPCIID ri, LPSPropTagArray ex, ULONG_PTR, LPMAPIPROGRESS pr, LPCIID i, LPVOID d, \
                      ULONG f, LPSPropProblemArray* p) override {                                                \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_CopyTo(ci, ri, ex, pr, i, d, f, p);                                                              \
  }                                                                                                              \
  STDMETHODIMP CopyProps(LPSPropTagArray in, ULONG_PTR, LPMAPIPROGRESS pr, LPCIID i, LPVOID d, ULONG f,          \
                         LPSPropProblemArray* p) override {                                                      \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_CopyProps(in, pr, i, d, f, p);                                                                   \
  }                                                                                                              \
  STDMETHODIMP GetNamesFromIDs(LPSPropTagArray* t, LPGUID g, ULONG f, ULONG* c, LPMAPINAMEID** n) override {     \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_GetNamesFromIDs(t, g, f, c, n);                                                                  \
  }                                                                                                              \
  STDMETHODIMP GetIDsFromNames(ULONG c, LPMAPINAMEID* n, ULONG f, LPSPropTagArray* t) override {                 \
    std::lock_guard lock(state_->mutex);                                                                         \
    return prop_GetIDsFromNames(c, n, f, t);                                                                     \
  }                                                                                                              \
  IMAPIProp* as_prop() override { return this; }

// A reference count and QueryInterface over a list of interface ids.
#define PSTKIT_IUNKNOWN_METHODS(Class)                                                     \
 private:                                                                                  \
  std::atomic<ULONG> refs_{1};                                                             \
                                                                                           \
 public:                                                                                   \
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }                               \
  STDMETHODIMP_(ULONG) Release() override {                                                \
    const ULONG left = --refs_;                                                            \
    if (left == 0) delete this;                                                            \
    return left;                                                                           \
  }                                                                                        \
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {                          \
    if (ppv == nullptr) return E_INVALIDARG;                                               \
    if (answers(riid)) {                                                                   \
      AddRef();                                                                            \
      *ppv = this;                                                                         \
      return S_OK;                                                                         \
    }                                                                                      \
    *ppv = nullptr;                                                                        \
    return E_NOINTERFACE;                                                                  \
  }

// ---- Factories (com_store/folder/message/attach/stream.cpp) ----------------

// An IMAPIFolder over folder `nid`.
HRESULT open_folder_object(std::shared_ptr<StoreState> state, Nid nid, bool modify, LPMAPIFOLDER* out,
                           std::string* detail);
// An IMessage over message `nid`.
HRESULT open_message_object(std::shared_ptr<StoreState> state, Nid nid, bool modify, LPMESSAGE* out,
                            std::string* detail);
// A new (unsaved) message of folder `folder`.
HRESULT create_message_object(std::shared_ptr<StoreState> state, Nid folder, bool associated, LPMESSAGE* out);
// Sets or clears MSGFLAG_READ of a stored message as SetReadFlag(s) asks
// (imessage-setreadflag.md); the caller commits.
Status set_read_flag(StoreState& state, Nid message, ULONG flags);
// The folder NID behind an IMAPIFolder of this runtime (0 if it is not one).
Nid folder_nid_of(LPUNKNOWN object, const StoreState* state);
// OpenEntry shared by the store and its folders (imsgstore-openentry.md).
HRESULT open_entry(const std::shared_ptr<StoreState>& state, ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID iid,
                   ULONG flags, ULONG* type, LPUNKNOWN* out, std::string* detail);

// An IStream over bytes in memory. `on_commit` (may be empty: read-only)
// receives the whole content at Commit and at the last Release after a
// Write that was not committed.
HRESULT create_memory_stream(Bytes data, std::function<HRESULT(const Bytes&)> on_commit, IStream** out);
// A read-only IStream over a node's data stream (attachment data of any
// size, read block by block), keeping `keep_alive` alive.
HRESULT create_node_stream(std::shared_ptr<const ndb::Node> node, std::shared_ptr<void> keep_alive, IStream** out);

// A table over rows held in memory (recipients, attachments of a message).
// Strings are held as PT_UNICODE and given in the width a column asks for
// (8-bit in `codepage`).
HRESULT create_memory_table(std::vector<PropTag> default_columns, std::vector<InMemoryRowSource::Row> rows,
                            LPMAPITABLE* out, uint32_t codepage = 1252);

}  // namespace pstkit::mapi::capi
