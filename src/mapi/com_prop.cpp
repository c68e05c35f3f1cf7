// IMAPIProp for the PST provider's objects (imapiprop-*.md) and the state a
// store shares with its objects. See com_prop.h.
#include "mapi/com_prop.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <utility>

#include "mapi/com_table.h"
#include "mapi/open_stores.h"
#include "mapi/receive_folders.h"
#include "pstkit/codepage.h"
#include "pstkit/utf.h"

namespace pstkit::mapi::capi {
namespace {

bool is_string_type(uint16_t type) {
  const uint16_t base = uint16_t(type & ~kMvFlag);
  return base == kPtString8 || base == kPtUnicode;
}

// The string width a flags argument asks for: MAPI_UNICODE → PT_UNICODE.
uint16_t wanted_string_type(ULONG flags) { return (flags & MAPI_UNICODE) ? kPtUnicode : kPtString8; }

HRESULT problems_out(const std::vector<SPropProblem>& problems, LPSPropProblemArray* out) {
  if (out == nullptr) return S_OK;
  *out = nullptr;
  if (problems.empty()) return S_OK;
  void* p = nullptr;
  if (SCODE sc = MAPIAllocateBuffer(ULONG(CbNewSPropProblemArray(problems.size())), &p); sc != S_OK) return sc;
  auto* array = static_cast<LPSPropProblemArray>(p);
  array->cProblem = ULONG(problems.size());
  for (size_t i = 0; i < problems.size(); ++i) array->aProblem[i] = problems[i];
  *out = array;
  return S_OK;
}

Bytes le_bytes(uint64_t v, size_t n) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = uint8_t(v >> (8 * i));
  return out;
}

// One element (or single value) in the file's encoding.
Result<Bytes> element_bytes(const PropValue& v, uint32_t codepage) {
  switch (uint16_t(v.type() & ~kMvFlag)) {
    case kPtI2: return le_bytes(uint64_t(v.integer), 2);
    case kPtLong:
    case kPtError: return le_bytes(uint64_t(v.integer), 4);
    case kPtBoolean: return le_bytes(v.integer != 0 ? 1 : 0, 1);
    case kPtI8:
    case kPtCurrency:
    case kPtSysTime: return le_bytes(uint64_t(v.integer), 8);
    case kPtR4: {
      float f = float(v.real);
      uint32_t bits = 0;
      std::memcpy(&bits, &f, 4);
      return le_bytes(bits, 4);
    }
    case kPtDouble:
    case kPtAppTime: {
      uint64_t bits = 0;
      std::memcpy(&bits, &v.real, 8);
      return le_bytes(bits, 8);
    }
    case kPtClsid: return Bytes(v.guid.begin(), v.guid.end());
    case kPtUnicode: return utf8_to_utf16le(v.bytes);
    case kPtString8: return utf8_to_utf16le(decode_codepage(std::string_view(v.bytes), codepage));
    case kPtBinary:
    case kPtSvrEid: return Bytes(v.bytes.begin(), v.bytes.end());
    default: return Status::invalid_argument("a property type the store does not keep");
  }
}

}  // namespace

// ---- StoreState -------------------------------------------------------------

Nid StoreState::parent_of(Nid nid) const {
  auto entry = store().db().find_node(nid);
  return entry ? entry->parent_nid : 0;
}

HRESULT StoreState::commit(std::string* detail) {
  if (!writer) return MAPI_E_NO_ACCESS;
  if (HRESULT refused = refuse_if_crash_locked(*this, detail); FAILED(refused)) return refused;
  crash_fault_point();
  const size_t saved = batch_messages;
  batch_messages = 0;
  batch_deadline.reset();
  Status s = writer->commit();
  // Committed or rolled back: nothing pending any more; a process waiting
  // for the batch goes on.
  set_batch_pending(false);
  if (!s.is_ok()) {
    // The writer rolled everything back, the batch's saved messages too.
    if (detail) {
      *detail = s.message();
      if (saved > 0) *detail += " (" + std::to_string(saved) + " saved messages not written)";
    }
    ++generation;
    return scode_of(s);
  }
  ++generation;
  // Derived at the end of the call, after the call reported its own
  // changes; other store objects on the file look at once.
  needs_sync = true;
  wake_change_watch();
  return S_OK;
}

HRESULT StoreState::flush(std::string* detail) {
  std::lock_guard lock(mutex);
  if (HRESULT hr = take_deferred_error(detail); FAILED(hr)) return hr;
  if (!writer || !writer->has_changes()) return S_OK;
  return commit(detail);
}

HRESULT StoreState::save_deferred(std::string* detail) {
  if (!writer) return MAPI_E_NO_ACCESS;
  ++batch_messages;
  ++generation;
  if (batch_messages >= write_behind.batch_limit) return commit(detail);
  if (!batch_deadline) {
    batch_deadline = std::chrono::steady_clock::now() + write_behind.flush_delay;
    // Before SaveChanges returns: a call another process begins after it
    // finds the batch and asks for it.
    set_batch_pending(true);
    schedule_background_flush(*batch_deadline);
  }
  return S_OK;
}

void StoreState::set_batch_pending(bool pending) {
  std::unique_ptr<filelock::PendingBatch> hold;
  if (pending) {
    batch_due_ns.store(int64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   batch_deadline.value_or(std::chrono::steady_clock::now()).time_since_epoch())
                                   .count()));
    // Without the lock (an error opening the file, or requests turned off)
    // the batch still commits at its deadline; other processes then see it
    // only then.
    if (write_behind.flush_requests) {
      if (auto h = filelock::PendingBatch::hold(path)) hold = std::move(*h);
    }
  }
  std::unique_ptr<filelock::PendingBatch> old;
  std::optional<int> old_watch;
  {
    std::lock_guard lock(pending_mutex);
    old = std::move(pending_batch);
    old_watch = std::exchange(pending_watch, std::nullopt);
    if (pending) pending_watch = watch_pending_file(hold ? hold->descriptor() : -1);
    pending_batch = std::move(hold);
  }
  batch_pending.store(pending);
  if (old_watch) unwatch_pending_file(*old_watch);
  // `old` is released here, after the commit: a waiting process then reads it.
}

bool StoreState::batch_requested() {
  std::lock_guard lock(pending_mutex);
  return pending_batch && pending_batch->flush_requested();
}

HRESULT StoreState::take_deferred_error(std::string* detail) {
  const HRESULT hr = deferred_error;
  if (FAILED(hr) && detail) *detail = "an earlier deferred commit failed: " + deferred_detail;
  deferred_error = S_OK;
  deferred_detail.clear();
  return hr;
}

void StoreState::abandon_staged(const std::string& why) {
  if (!writer) return;
  if (batch_messages > 0 && !FAILED(deferred_error)) {
    deferred_error = MAPI_E_CALL_FAILED;
    deferred_detail = std::to_string(batch_messages) + " saved messages were not written: a later change failed (" +
                      why + ")";
  }
  batch_messages = 0;
  batch_deadline.reset();
  (void)writer->rollback();
  set_batch_pending(false);
  ++generation;
}

std::optional<std::chrono::steady_clock::time_point> StoreState::flush_if_due(
    std::chrono::steady_clock::time_point now) {
  // Without the store's mutex until there is something to do: the flusher
  // looks every kFlushRequestPoll while a batch is pending.
  if (!batch_pending.load()) return std::nullopt;
  const std::chrono::steady_clock::time_point due{std::chrono::nanoseconds(batch_due_ns.load())};
  const bool requested = batch_requested();
  if (now < due && !requested) return due;
  std::lock_guard lock(mutex);
  if (!batch_deadline) return std::nullopt;
  if (now < *batch_deadline && !requested) return batch_deadline;
  commit_batch_now();
  return std::nullopt;
}

void StoreState::commit_batch_now() {
  if (!batch_deadline) return;
  std::string detail;
  if (HRESULT hr = commit(&detail); FAILED(hr) && !FAILED(deferred_error)) {
    deferred_error = hr;
    deferred_detail = detail;
  }
}

HRESULT StoreState::commit_batches_of_same_file(std::string* detail) {
  if (!batches_pending_here()) return S_OK;  // the common case: one atomic load
  std::vector<std::shared_ptr<StoreState>> holders;
  for_each_open_store([&](const std::shared_ptr<StoreState>& other) {
    if (other.get() != this && other->batch_pending.load() && other->file_dev == file_dev &&
        other->file_ino == file_ino)
      holders.push_back(other);
  });
  const auto deadline = std::chrono::steady_clock::now() + filelock::default_timeout();
  for (const auto& other : holders) {
    // Its mutex without waiting: a call on it in another thread may wait
    // for this store's (a sink calling across); that call then commits or
    // ends soon, or this gives up at the lock timeout — never a deadlock.
    while (other->batch_pending.load()) {
      if (other->mutex.try_lock()) {
        other->commit_batch_now();
        other->mutex.unlock();
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        if (detail) {
          *detail = path + ": timed out waiting for another store object of this process to commit its saved "
                           "messages (a call on it held its mutex)";
        }
        return MAPI_E_BUSY;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return S_OK;
}

HRESULT StoreState::catch_up(std::string* detail) {
  // Holding the writer lock, nobody else — no other process, no other store
  // object of this one — can hold a batch pending.
  if (!on_background_thread() && !(writer && writer->holds_writer_lock())) {
    // Another store object of this process on the file: the wait below
    // leaves this process's batches alone (a thread it would stall may be
    // the one to commit them), so this store commits that batch itself
    // (docs/MAPI.md "Write-behind").
    if (HRESULT hr = commit_batches_of_same_file(detail); FAILED(hr)) return hr;
    LockWait wait;
    wait.timeout = filelock::default_timeout();
    if (Status s = filelock::wait_for_pending_batch(path, wait); !s.is_ok()) {
      if (detail) *detail = s.message();
      return MAPI_E_BUSY;
    }
  }
  if (writer) {
    // A failed check leaves the state read before; a change then takes the
    // lock again and reloads (or reports the error).
    auto reloaded = writer->catch_up();
    if (reloaded && *reloaded) {
      ++generation;
      needs_sync = true;
    }
  } else if (following != nullptr && reader) {
    // A read-only store follows the file the same way (a failure keeps the
    // state it has; a crash lock is reported by refused()).
    auto followed = following->follow_commits(false);  // asked above
    if (followed && *followed) {
      (void)reader->reload();
      ++generation;
      needs_sync = true;
    }
  }
  return S_OK;
}

HRESULT StoreState::refused(std::string* detail) const {
  if (detail != nullptr && FAILED(crash_refusal)) *detail = crash_refusal_detail;
  return crash_refusal;
}

WriteBehindSettings WriteBehindSettings::from_environment() {
  WriteBehindSettings out;
  auto number = [](const char* name) -> std::optional<long long> {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == 0) return std::nullopt;
    char* end = nullptr;
    const long long v = std::strtoll(text, &end, 10);
    if (*end != 0) return std::nullopt;
    return v;
  };
  if (auto n = number("PSTKIT_MAPI_BATCH"); n && *n >= 1) out.batch_limit = size_t(std::min<long long>(*n, 100000));
  if (auto ms = number("PSTKIT_MAPI_FLUSH_MS"); ms) {
    out.flush_delay = std::chrono::milliseconds(std::clamp<long long>(*ms, 1, 10000));
  }
  if (auto on = number("PSTKIT_MAPI_FLUSH_REQUESTS"); on && *on == 0) out.flush_requests = false;
  return out;
}

// ---- StoreMutex ---------------------------------------------------------------

void StoreMutex::lock() {
  mutex_.lock();
  if (depth_++ == 0) begin_call();
}

bool StoreMutex::try_lock() {
  if (!mutex_.try_lock()) return false;
  if (depth_++ == 0) begin_call();
  return true;
}

void StoreMutex::begin_call() {
  // A store that crash recovery locked, here or in another process, since
  // this process opened it: every call fails (MAPI_E_BUSY) while the lock
  // lasts, as an open would (docs/MAPI.md "Crash recovery").
  state_.crash_refusal_detail.clear();
  state_.crash_refusal = refuse_if_crash_locked(state_, &state_.crash_refusal_detail);
  if (FAILED(state_.crash_refusal)) return;
  state_.crash_refusal = state_.catch_up(&state_.crash_refusal_detail);
  if (FAILED(state_.crash_refusal)) return;
  // What another process committed is delivered before the call goes on.
  if (state_.needs_sync) state_.sync_changes();
}

void StoreMutex::unlock() {
  // This call's commits: what they brought in from other writers (a commit
  // reloads when another committed first) is derived now, depth still 1 so
  // that a sink calling the store does not begin a call of its own.
  // A listener that just came (an Advise) gets its baseline here.
  if (depth_ == 1 && (state_.needs_sync || (!state_.baseline && state_.listening()))) state_.sync_changes();
  if (--depth_ == 0 && state_.writer && !state_.batch_deadline) (void)state_.writer->release_lock_if_idle();
  mutex_.unlock();
}

void StoreState::notify(const NOTIFICATION& notification, Nid nid, Nid parent, Nid old_parent) {
  // Copy the sinks first: a sink may Unadvise from OnNotify.
  std::vector<LPMAPIADVISESINK> targets;
  for (auto& [connection, s] : sinks) {
    if ((s.mask & notification.ulEventType) == 0) continue;
    if (s.nid != 0 && s.nid != nid && s.nid != parent && (old_parent == 0 || s.nid != old_parent)) continue;
    s.sink->AddRef();
    targets.push_back(s.sink);
  }
  for (LPMAPIADVISESINK sink : targets) {
    NOTIFICATION copy = notification;
    sink->OnNotify(1, &copy);
    sink->Release();
  }
}

void StoreState::notify_object(ULONG event, ULONG object_type, Nid nid, Nid parent, Nid old_nid, Nid old_parent) {
  if (baseline) {
    // Reported here: the next derivation of changes must not report it again.
    reported_here.insert(nid);
    if (old_nid != 0) reported_here.insert(old_nid);
  }
  deliver_object(ObjectChange{event, object_type, nid, parent, old_nid, old_parent}, true);
}

void StoreState::deliver_object(const ObjectChange& c, bool tell_tables) {
  Bytes id = entry_id(c.nid), parent_id = entry_id(c.parent), old_id, old_parent_id;
  NOTIFICATION n{};
  n.ulEventType = c.event;
  n.info.obj.cbEntryID = ULONG(id.size());
  n.info.obj.lpEntryID = reinterpret_cast<LPENTRYID>(id.data());
  n.info.obj.ulObjType = c.object_type;
  if (c.parent != 0) {
    n.info.obj.cbParentID = ULONG(parent_id.size());
    n.info.obj.lpParentID = reinterpret_cast<LPENTRYID>(parent_id.data());
  }
  if (c.old_nid != 0) {
    old_id = entry_id(c.old_nid);
    n.info.obj.cbOldID = ULONG(old_id.size());
    n.info.obj.lpOldID = reinterpret_cast<LPENTRYID>(old_id.data());
  }
  if (c.old_parent != 0) {
    old_parent_id = entry_id(c.old_parent);
    n.info.obj.cbOldParentID = ULONG(old_parent_id.size());
    n.info.obj.lpOldParentID = reinterpret_cast<LPENTRYID>(old_parent_id.data());
  }
  // One call: a sink advised on the store, the object, its folder or (a
  // move) its old folder gets the notification once.
  notify(n, c.nid, c.parent, c.old_parent);
  if (!tell_tables) return;
  for (auto& w : live_table_watchers()) w->on_change(c);
}

std::vector<std::shared_ptr<StoreState::TableWatcher>> StoreState::live_table_watchers() {
  std::vector<std::shared_ptr<TableWatcher>> watchers;
  std::erase_if(table_watchers, [&](const std::weak_ptr<TableWatcher>& w) {
    auto live = w.lock();
    if (!live) return true;
    watchers.push_back(std::move(live));
    return false;
  });
  return watchers;
}

bool StoreState::listening() {
  constexpr ULONG kObjectEvents =
      fnevObjectCreated | fnevObjectDeleted | fnevObjectModified | fnevObjectMoved | fnevObjectCopied;
  for (const auto& [connection, s] : sinks)
    if (s.mask & (kObjectEvents | fnevNewMail)) return true;
  for (const auto& w : live_table_watchers())
    if (w->advised()) return true;
  return false;
}

void StoreState::sync_changes() {
  if (syncing) return;  // a sink's call that commits: the outer derivation goes on
  needs_sync = false;
  if (!listening()) {
    baseline.reset();
    reported_here.clear();
    return;
  }
  auto now = take_snapshot(store(), baseline ? &*baseline : nullptr);
  if (!now) {
    // Unreadable now (a damaged page): derive from the old baseline later.
    needs_sync = true;
    return;
  }
  if (!baseline) {
    baseline = std::move(*now);
    reported_here.clear();
    return;
  }
  std::vector<DerivedChange> derived = diff_snapshots(*baseline, *now);
  baseline = std::move(*now);
  std::set<Nid> skip;
  skip.swap(reported_here);
  std::vector<ObjectChange> changes;
  for (const DerivedChange& d : derived) {
    if (skip.count(d.nid) != 0 || (d.old_nid != 0 && skip.count(d.old_nid) != 0)) continue;
    changes.push_back(ObjectChange{d.event, d.object_type, d.nid, d.parent, d.old_nid, d.old_parent});
  }
  if (changes.empty()) return;
  syncing = true;
  for (const ObjectChange& c : changes) deliver_object(c, false);
  // The tables re-read their view once for the whole commit.
  for (auto& w : live_table_watchers()) w->on_changes(changes);
  notify_new_mail(changes);
  syncing = false;
}

void StoreState::notify_new_mail(std::span<const ObjectChange> changes) {
  bool wanted = false;
  for (const auto& [connection, s] : sinks) wanted = wanted || (s.mask & fnevNewMail) != 0;
  if (!wanted) return;
  // The receive folder of each class seen, read once per derivation.
  std::map<std::string, Nid> receive_folder_of;
  for (const ObjectChange& c : changes) {
    if (c.event != fnevObjectCreated || c.object_type != MAPI_MESSAGE) continue;
    if (ndb::nid_type(c.nid) != ndb::kNidTypeNormalMessage) continue;  // not FAI
    auto message = store().open_message(c.nid);
    if (!message) continue;  // gone again, or unreadable: no new mail
    // Delivered mail is unread and was never a draft (a client's
    // CreateMessage gives MSGFLAG_UNSENT | MSGFLAG_READ).
    const ULONG flags = ULONG(message->properties().get_i32(prop::kMessageFlags).value_or(0));
    if (flags & (MSGFLAG_READ | MSGFLAG_UNSENT)) continue;
    const std::string cls = message->message_class();
    auto known = receive_folder_of.find(cls);
    if (known == receive_folder_of.end()) {
      auto found = find_receive_folder(store(), cls);
      known = receive_folder_of.emplace(cls, found ? found->folder : Nid{0}).first;
    }
    if (known->second == 0 || known->second != c.parent) continue;
    // newmail_notification.md: the message, its receive folder, the class
    // (8-bit: ulFlags without MAPI_UNICODE) and PR_MESSAGE_FLAGS.
    Bytes id = entry_id(c.nid), parent_id = entry_id(c.parent);
    Bytes class_text = encode_codepage(cls, store().codepage());
    class_text.push_back(0);
    NOTIFICATION n{};
    n.ulEventType = fnevNewMail;
    n.info.newmail.cbEntryID = ULONG(id.size());
    n.info.newmail.lpEntryID = reinterpret_cast<LPENTRYID>(id.data());
    n.info.newmail.cbParentID = ULONG(parent_id.size());
    n.info.newmail.lpParentID = reinterpret_cast<LPENTRYID>(parent_id.data());
    n.info.newmail.ulFlags = 0;
    n.info.newmail.lpszMessageClass = reinterpret_cast<LPTSTR>(class_text.data());
    n.info.newmail.ulMessageFlags = flags;
    notify(n, c.nid, c.parent);
  }
}

bool StoreState::poll_changes() {
  if (!mutex.try_lock()) return true;
  const bool listens = listening();
  if (!listens) {
    baseline.reset();
    reported_here.clear();
  }
  mutex.unlock();
  return listens;
}

StoreState::~StoreState() {
  for (auto& [connection, s] : sinks) s.sink->Release();
  // The store's last Release: saved messages still in a batch are committed
  // (write-behind); anything else staged was never saved.
  if (writer && writer->has_changes()) {
    if (batch_messages > 0) {
      std::string detail;
      if (FAILED(commit(&detail))) std::fprintf(stderr, "pstkit: %s: saving at the store's release failed: %s\n",
                                                path.c_str(), detail.c_str());
    } else {
      (void)writer->rollback();
    }
  }
}

HRESULT scode_of(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return S_OK;
    case Code::kNotFound: return MAPI_E_NOT_FOUND;
    case Code::kCorrupt:
    case Code::kTruncated: return MAPI_E_CORRUPT_DATA;
    case Code::kInvalidArgument: return MAPI_E_INVALID_PARAMETER;
    case Code::kUnsupported: return MAPI_E_NO_SUPPORT;
    case Code::kAlreadyExists: return MAPI_E_COLLISION;
    // A bounded wait for another process's lock that ran out, a crash lock.
    case Code::kBusy: return MAPI_E_BUSY;
    case Code::kIoError: return MAPI_E_DISK_ERROR;
    default: return MAPI_E_CALL_FAILED;
  }
}

Result<ltp::PropValue> to_stored(const PropValue& value, uint32_t codepage) {
  ltp::PropValue out;
  const uint16_t type = value.type();
  // 8-bit strings are stored as Unicode; the writer converts to the file's type.
  const uint16_t base = uint16_t(type & ~kMvFlag);
  const uint16_t stored_base = base == kPtString8 ? uint16_t(kPtUnicode) : base;
  out.tag = change_prop_type(value.tag, uint16_t((type & kMvFlag) | stored_base));
  if ((type & kMvFlag) == 0) {
    PSTKIT_ASSIGN_OR_RETURN(out.data, element_bytes(value, codepage));
    return out;
  }
  // MS-PST 2.3.3.4: fixed-size elements back to back; variable-size ones
  // after a count and an offset per element.
  std::vector<Bytes> elements;
  for (const auto& e : value.values) {
    PSTKIT_ASSIGN_OR_RETURN(Bytes b, element_bytes(e, codepage));
    elements.push_back(std::move(b));
  }
  if (ltp::fixed_type_size(stored_base) != 0) {
    for (const auto& e : elements) out.data.insert(out.data.end(), e.begin(), e.end());
    return out;
  }
  Bytes header = le_bytes(elements.size(), 4);
  uint64_t offset = 4 + 4 * elements.size();
  for (const auto& e : elements) {
    Bytes o = le_bytes(offset, 4);
    header.insert(header.end(), o.begin(), o.end());
    offset += e.size();
  }
  out.data = std::move(header);
  for (const auto& e : elements) out.data.insert(out.data.end(), e.begin(), e.end());
  return out;
}

std::vector<PropValue> core_values(const PropertyBag& bag) {
  std::vector<PropValue> out;
  for (const auto& stored : bag.values()) {
    auto v = from_stored(stored);
    if (!v) continue;
    PropValue value = std::move(*v);
    if (prop_type(value.tag) == kPtString8) value = convert_string(value, kPtUnicode, bag.codepage());
    out.push_back(std::move(value));
  }
  return out;
}

PropValue convert_string(const PropValue& value, uint16_t to_type, uint32_t codepage) {
  const uint16_t type = value.type();
  const uint16_t base = uint16_t(type & ~kMvFlag);
  if (!is_string_type(type) || base == to_type) return value;
  auto one = [&](const PropValue& v) {
    PropValue out = v;
    out.tag = change_prop_type(v.tag, uint16_t((v.type() & kMvFlag) | to_type));
    if (to_type == kPtUnicode) {
      out.bytes = decode_codepage(std::string_view(v.bytes), codepage);
    } else {
      Bytes b = encode_codepage(v.bytes, codepage);
      out.bytes.assign(b.begin(), b.end());
    }
    return out;
  };
  PropValue out = one(value);
  for (auto& e : out.values) e = one(e);
  return out;
}

std::vector<PropValue> select_props(const std::vector<PropValue>& all, const SPropTagArray* tags, uint16_t width,
                                    const std::function<PropValue(const PropValue&, uint16_t)>& as_kind,
                                    bool* errors) {
  std::vector<PropValue> out;
  if (tags == nullptr) {
    for (const auto& v : all) out.push_back(as_kind(v, width));
    return out;
  }
  std::map<uint16_t, const PropValue*> by_id;
  for (const auto& v : all) by_id[prop_id(v.tag)] = &v;
  for (ULONG i = 0; i < tags->cValues; ++i) {
    const PropTag tag = tags->aulPropTag[i];
    const uint16_t type = prop_type(tag);
    auto it = by_id.find(prop_id(tag));
    const PropValue* v = it == by_id.end() ? nullptr : it->second;
    if (v && type == PT_UNSPECIFIED) {
      out.push_back(as_kind(*v, width));
    } else if (v && type == v->type()) {
      out.push_back(*v);
    } else if (v && is_string_type(type) && is_string_type(v->type()) && ((type ^ v->type()) & kMvFlag) == 0) {
      out.push_back(as_kind(*v, uint16_t(type & ~kMvFlag)));
    } else {
      out.push_back(PropValue::error(change_prop_type(tag, kPtError), MAPI_E_NOT_FOUND));
      *errors = true;
    }
  }
  return out;
}

// ---- IMAPIProp --------------------------------------------------------------

std::vector<PropValue> PropObjectBase::all_values() const {
  std::map<uint16_t, PropValue> merged = props_;
  for (auto& v : computed()) merged[prop_id(v.tag)] = std::move(v);
  std::vector<PropValue> out;
  out.reserve(merged.size());
  for (auto& [id, v] : merged) out.push_back(std::move(v));
  return out;
}

// imapiprop-getlasterror.md.
HRESULT PropObjectBase::prop_GetLastError(HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) {
  return last_.get(hResult, ulFlags, lppMAPIError);
}

// imapiprop-getprops.md. A property the object lacks, or has in a type that
// is neither the one asked for nor convertible to it (8-bit <-> Unicode
// strings), is PT_ERROR with MAPI_E_NOT_FOUND and the call returns
// MAPI_W_ERRORS_RETURNED. PT_ERROR keeps the property's identifier (the
// reference's "identifier of zero" is not what MAPI providers return, nor
// what clients test with PROP_ID).
HRESULT PropObjectBase::prop_GetProps(LPSPropTagArray tags, ULONG flags, ULONG* count, LPSPropValue* values) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  if (flags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetProps: unknown flags");
  if (count == nullptr || values == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetProps: null out pointer");
  *count = 0;
  *values = nullptr;
  if (tags != nullptr && tags->cValues == 0) return fail(MAPI_E_INVALID_PARAMETER, "GetProps: empty tag array");
  refresh();
  const uint32_t cp = codepage();
  bool errors = false;
  const std::vector<PropValue> out = select_props(
      all_values(), tags, wanted_string_type(flags),
      [cp](const PropValue& v, uint16_t kind) { return convert_string(v, kind, cp); }, &errors);
  if (out.empty()) return S_OK;
  Converted c = to_mapi(out, values);
  if (!c.ok()) return fail(c.scode, c.detail);
  *count = ULONG(out.size());
  return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
}

// imapiprop-getproplist.md.
HRESULT PropObjectBase::prop_GetPropList(ULONG flags, LPSPropTagArray* out) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  if (flags & ~MAPI_UNICODE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetPropList: unknown flags");
  if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetPropList: null out pointer");
  *out = nullptr;
  refresh();
  std::vector<PropTag> tags;
  const uint16_t width = wanted_string_type(flags);
  for (const auto& v : all_values()) {
    PropTag tag = v.tag;
    if (is_string_type(v.type())) tag = change_prop_type(tag, uint16_t((v.type() & kMvFlag) | width));
    tags.push_back(tag);
  }
  Converted c = to_mapi(tags, out);
  return c.ok() ? S_OK : fail(c.scode, c.detail);
}

// imapiprop-setprops.md: values the object refuses are reported in the
// problem array, the others are set.
HRESULT PropObjectBase::prop_SetProps(ULONG count, LPSPropValue values, LPSPropProblemArray* problems) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  if (problems) *problems = nullptr;
  if (values == nullptr && count > 0) return fail(MAPI_E_INVALID_PARAMETER, "SetProps: null value array");
  if (!modify_) return fail(MAPI_E_NO_ACCESS, "SetProps: the object is read-only");
  std::vector<PropValue> core;
  std::vector<SPropProblem> found;
  for (ULONG i = 0; i < count; ++i) {
    PropValue v;
    Converted c = from_mapi(values[i], v);
    if (!c.ok()) {
      found.push_back({i, values[i].ulPropTag, c.scode});
      continue;
    }
    v.tag = values[i].ulPropTag;
    core.push_back(std::move(v));
  }
  HRESULT hr = set_values(core, &found);
  if (FAILED(hr)) return hr;
  // set_values numbers problems by position in `core`: map back.
  return problems_out(found, problems);
}

HRESULT PropObjectBase::set_values(const std::vector<PropValue>& values, std::vector<SPropProblem>* problems) {
  std::set<uint16_t> computed_ids;
  for (const auto& v : computed()) computed_ids.insert(prop_id(v.tag));
  std::vector<PropValue> accepted;
  for (size_t i = 0; i < values.size(); ++i) {
    const PropValue& v = values[i];
    const uint16_t id = prop_id(v.tag);
    const uint16_t type = uint16_t(v.type() & ~kMvFlag);
    if (id == 0) continue;  // PR_NULL: a placeholder (spropvalue.md)
    SCODE sc = S_OK;
    if (type == kPtError || type == kPtNull || type == kPtUnspecified || type == kPtObject) {
      sc = MAPI_E_INVALID_TYPE;
    } else if (computed_ids.count(id) || read_only_property(id)) {
      sc = MAPI_E_COMPUTED;
    } else if (id >= 0x8000 && id != 0xFFFF && state_->store().names().find(id) == nullptr) {
      sc = MAPI_E_UNEXPECTED_ID;  // a named id the store's map does not hold
    }
    if (sc != S_OK) {
      problems->push_back({ULONG(i), v.tag, sc});
      continue;
    }
    accepted.push_back(v);
  }
  if (accepted.empty()) return S_OK;
  if (HRESULT hr = write_through(accepted, {}); FAILED(hr)) return hr;
  for (auto& v : accepted) {
    const uint16_t id = prop_id(v.tag);
    deleted_.erase(id);
    changed_.insert(id);
    props_[id] = v;
  }
  return S_OK;
}

// imapiprop-deleteprops.md.
HRESULT PropObjectBase::prop_DeleteProps(LPSPropTagArray tags, LPSPropProblemArray* problems) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  if (problems) *problems = nullptr;
  if (tags == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "DeleteProps: null tag array");
  if (!modify_) return fail(MAPI_E_NO_ACCESS, "DeleteProps: the object is read-only");
  std::set<uint16_t> computed_ids;
  for (const auto& v : computed()) computed_ids.insert(prop_id(v.tag));
  std::vector<SPropProblem> found;
  std::vector<uint16_t> removed;
  for (ULONG i = 0; i < tags->cValues; ++i) {
    const uint16_t id = prop_id(tags->aulPropTag[i]);
    if (computed_ids.count(id) || read_only_property(id)) {
      found.push_back({i, tags->aulPropTag[i], MAPI_E_COMPUTED});
    } else if (!props_.count(id)) {
      found.push_back({i, tags->aulPropTag[i], MAPI_E_NOT_FOUND});
    } else {
      removed.push_back(id);
    }
  }
  if (!removed.empty()) {
    if (HRESULT hr = write_through({}, removed); FAILED(hr)) return hr;
    for (uint16_t id : removed) {
      props_.erase(id);
      changed_.erase(id);
      deleted_.insert(id);
    }
  }
  return problems_out(found, problems);
}

// imapiprop-openproperty.md: IID_IStream over a binary or string property
// (PT_UNICODE as UTF-16LE, the bytes Windows clients expect of a stream);
// the derived objects add attachment data, embedded messages and tables.
HRESULT PropObjectBase::prop_OpenProperty(ULONG tag, LPCIID iid, ULONG options, ULONG flags, LPUNKNOWN* out) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  if (out == nullptr || iid == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "OpenProperty: null pointer");
  *out = nullptr;
  if (flags & ~(MAPI_CREATE | MAPI_MODIFY | MAPI_DEFERRED_ERRORS | STREAM_APPEND))
    return fail(MAPI_E_UNKNOWN_FLAGS, "OpenProperty: unknown flags");
  if ((flags & (MAPI_CREATE | MAPI_MODIFY)) && !modify_)
    return fail(MAPI_E_NO_ACCESS, "OpenProperty: the object is read-only");
  bool handled = false;
  HRESULT hr = open_special(tag, iid, options, flags, out, &handled);
  if (handled) return hr;
  if (*iid != IID_IStream) return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "OpenProperty: interface not supported");
  const uint16_t type = prop_type(tag);
  if (type != kPtBinary && type != kPtString8 && type != kPtUnicode)
    return fail(MAPI_E_NO_SUPPORT, "OpenProperty: streams open on binary and string properties");
  Bytes data;
  if ((flags & MAPI_CREATE) == 0) {
    const PropValue* v = find(prop_id(tag));
    if (v == nullptr) return fail(MAPI_E_NOT_FOUND, "OpenProperty: no such property");
    PropValue value = convert_string(*v, type == kPtBinary ? v->type() : type, codepage());
    if (type == kPtUnicode) {
      data = utf8_to_utf16le(value.bytes);
    } else {
      data.assign(value.bytes.begin(), value.bytes.end());
    }
  }
  std::function<HRESULT(const Bytes&)> on_commit;
  if (flags & (MAPI_CREATE | MAPI_MODIFY)) {
    IMAPIProp* self = as_prop();
    self->AddRef();
    std::shared_ptr<IMAPIProp> keep(self, [](IMAPIProp* p) { p->Release(); });
    on_commit = [this, keep, tag, type](const Bytes& bytes) -> HRESULT {
      std::lock_guard lock(state_->mutex);
      PropValue v;
      if (type == kPtUnicode) {
        v = PropValue::unicode(tag, utf16le_to_utf8(ByteView(bytes)));
      } else if (type == kPtString8) {
        v = PropValue::string8(tag, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      } else {
        v = PropValue::binary(tag, ByteView(bytes));
      }
      std::vector<SPropProblem> problems;
      HRESULT set_hr = set_values({v}, &problems);
      if (FAILED(set_hr)) return set_hr;
      return problems.empty() ? S_OK : problems[0].scode;
    };
  }
  return create_memory_stream(std::move(data), std::move(on_commit), reinterpret_cast<IStream**>(out));
}

namespace {

// The destination of CopyTo/CopyProps as an IMAPIProp (imapiprop-copyto.md).
HRESULT destination(LPCIID iid, LPVOID dest, LPMAPIPROP* out) {
  if (dest == nullptr) return MAPI_E_INVALID_PARAMETER;
  auto* unknown = static_cast<LPUNKNOWN>(dest);
  if (iid != nullptr && *iid != IID_IMAPIProp && *iid != IID_IMessage && *iid != IID_IMAPIFolder &&
      *iid != IID_IAttachment && *iid != IID_IMAPIContainer && *iid != IID_IMsgStore && *iid != IID_IUnknown)
    return MAPI_E_INTERFACE_NOT_SUPPORTED;
  return unknown->QueryInterface(IID_IMAPIProp, reinterpret_cast<void**>(out));
}

HRESULT copy_values(PropObjectBase& from, const std::vector<PropValue>& values, LPMAPIPROP dest, ULONG flags,
                    LPSPropProblemArray* problems) {
  std::vector<PropValue> to_copy = values;
  if (flags & MAPI_NOREPLACE) {
    // Leave the destination's existing values.
    LPSPropTagArray list = nullptr;
    if (SUCCEEDED(dest->GetPropList(MAPI_UNICODE, &list)) && list) {
      std::set<uint16_t> present;
      for (ULONG i = 0; i < list->cValues; ++i) present.insert(prop_id(list->aulPropTag[i]));
      MAPIFreeBuffer(list);
      std::erase_if(to_copy, [&](const PropValue& v) { return present.count(prop_id(v.tag)) != 0; });
    }
  }
  if (to_copy.empty()) {
    if (problems) *problems = nullptr;
    return S_OK;
  }
  LPSPropValue array = nullptr;
  Converted c = to_mapi(to_copy, &array);
  if (!c.ok()) return c.scode;
  HRESULT hr = dest->SetProps(ULONG(to_copy.size()), array, problems);
  MAPIFreeBuffer(array);
  if (FAILED(hr)) return hr;
  if (flags & MAPI_MOVE) {
    std::vector<PropTag> tags;
    for (const auto& v : to_copy) tags.push_back(v.tag);
    LPSPropTagArray t = nullptr;
    if (to_mapi(tags, &t).ok()) {
      LPSPropProblemArray ignored = nullptr;
      (void)from.as_prop_public()->DeleteProps(t, &ignored);
      MAPIFreeBuffer(ignored);
      MAPIFreeBuffer(t);
    }
  }
  return hr;
}

}  // namespace

// imapiprop-copyto.md: every stored property except the excluded ones (the
// computed ones identify the source and are never copied).
HRESULT PropObjectBase::prop_CopyTo(ULONG ciidExclude, LPCIID rgiidExclude, LPSPropTagArray exclude,
                                    LPMAPIPROGRESS progress, LPCIID iid, LPVOID dest, ULONG flags,
                                    LPSPropProblemArray* problems) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  (void)progress;
  if (problems) *problems = nullptr;
  if (flags & ~(MAPI_MOVE | MAPI_NOREPLACE | MAPI_DIALOG | MAPI_DECLINE_OK))
    return fail(MAPI_E_UNKNOWN_FLAGS, "CopyTo: unknown flags");
  if (ciidExclude > 0 && rgiidExclude == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "CopyTo: null exclude list");
  if (dest == as_prop()) return fail(MAPI_E_NO_ACCESS, "CopyTo: source and destination are the same object");
  LPMAPIPROP target = nullptr;
  if (HRESULT hr = destination(iid, dest, &target); FAILED(hr)) return fail(hr, "CopyTo: bad destination");
  std::set<uint16_t> skip;
  if (exclude) {
    for (ULONG i = 0; i < exclude->cValues; ++i) skip.insert(prop_id(exclude->aulPropTag[i]));
  }
  std::vector<PropValue> values;
  for (const auto& [id, v] : props_) {
    // PT_OBJECT values are sub-objects (copy_sub_objects), not values.
    if (!skip.count(id) && v.type() != kPtObject) values.push_back(v);
  }
  HRESULT hr = copy_values(*this, values, target, flags, problems);
  if (SUCCEEDED(hr)) {
    // imapiprop-copyto.md: everything, sub-objects included, unless excluded.
    HRESULT sub = copy_sub_objects(target, [&](uint16_t id) { return skip.count(id) == 0; }, flags);
    if (FAILED(sub)) hr = fail(sub, "CopyTo: copying recipients, attachments or attachment data");
  }
  target->Release();
  return hr;
}

// imapiprop-copyprops.md.
HRESULT PropObjectBase::prop_CopyProps(LPSPropTagArray include, LPMAPIPROGRESS progress, LPCIID iid, LPVOID dest,
                                       ULONG flags, LPSPropProblemArray* problems) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  (void)progress;
  if (problems) *problems = nullptr;
  if (flags & ~(MAPI_MOVE | MAPI_NOREPLACE | MAPI_DIALOG | MAPI_DECLINE_OK))
    return fail(MAPI_E_UNKNOWN_FLAGS, "CopyProps: unknown flags");
  if (include == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "CopyProps: null tag array");
  LPMAPIPROP target = nullptr;
  if (HRESULT hr = destination(iid, dest, &target); FAILED(hr)) return fail(hr, "CopyProps: bad destination");
  std::vector<PropValue> values;
  std::set<uint16_t> included;
  for (ULONG i = 0; i < include->cValues; ++i) {
    included.insert(prop_id(include->aulPropTag[i]));
    const PropValue* v = find(prop_id(include->aulPropTag[i]));
    if (v != nullptr && v->type() != kPtObject) values.push_back(*v);
  }
  HRESULT hr = copy_values(*this, values, target, flags, problems);
  if (SUCCEEDED(hr)) {
    // imapiprop-copyprops.md: PR_MESSAGE_RECIPIENTS / PR_MESSAGE_ATTACHMENTS
    // in the list copy the recipients / attachments.
    HRESULT sub = copy_sub_objects(target, [&](uint16_t id) { return included.count(id) != 0; }, flags);
    if (FAILED(sub)) hr = fail(sub, "CopyProps: copying recipients, attachments or attachment data");
  }
  target->Release();
  return hr;
}

// imapiprop-getnamesfromids.md.
HRESULT PropObjectBase::prop_GetNamesFromIDs(LPSPropTagArray* tags, LPGUID guid, ULONG flags, ULONG* count,
                                             LPMAPINAMEID** names) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  if (flags & ~(MAPI_NO_STRINGS | MAPI_NO_IDS)) return fail(MAPI_E_UNKNOWN_FLAGS, "GetNamesFromIDs: unknown flags");
  if (tags == nullptr || count == nullptr || names == nullptr)
    return fail(MAPI_E_INVALID_PARAMETER, "GetNamesFromIDs: null pointer");
  *count = 0;
  *names = nullptr;
  const NameMap& map = state_->store().names();
  std::vector<PropTag> wanted;
  const bool all = *tags == nullptr;
  if (all) {
    // Every named property of the store (of the set `guid`, if given).
    for (const auto& [id, name] : map.entries()) {
      if (guid && std::memcmp(name.guid.bytes, guid, 16) != 0) continue;
      if ((flags & MAPI_NO_STRINGS) && name.is_string) continue;
      if ((flags & MAPI_NO_IDS) && !name.is_string) continue;
      wanted.push_back(prop_tag(id, PT_NULL));
    }
  } else {
    for (ULONG i = 0; i < (*tags)->cValues; ++i) wanted.push_back((*tags)->aulPropTag[i]);
  }
  void* block = nullptr;
  if (SCODE sc = MAPIAllocateBuffer(ULONG(sizeof(LPMAPINAMEID) * std::max<size_t>(wanted.size(), 1)), &block); sc != S_OK)
    return sc;
  auto* array = static_cast<LPMAPINAMEID*>(block);
  bool errors = false;
  for (size_t i = 0; i < wanted.size(); ++i) {
    array[i] = nullptr;
    const NamedProperty* name = prop_id(wanted[i]) >= 0x8000 ? map.find(prop_id(wanted[i])) : nullptr;
    if (name == nullptr || (guid && std::memcmp(name->guid.bytes, guid, 16) != 0)) {
      errors = true;
      continue;
    }
    void* p = nullptr;
    SCODE sc = MAPIAllocateMore(sizeof(MAPINAMEID) + sizeof(GUID), block, &p);
    if (sc != S_OK) {
      MAPIFreeBuffer(block);
      return sc;
    }
    auto* id = static_cast<LPMAPINAMEID>(p);
    id->lpguid = reinterpret_cast<LPGUID>(static_cast<uint8_t*>(p) + sizeof(MAPINAMEID));
    std::memcpy(id->lpguid, name->guid.bytes, 16);
    if (name->is_string) {
      id->ulKind = MNID_STRING;
      if (copy_mapi_string(name->name, true, block, reinterpret_cast<LPTSTR*>(&id->Kind.lpwstrName)) != S_OK) {
        MAPIFreeBuffer(block);
        return MAPI_E_NOT_ENOUGH_MEMORY;
      }
    } else {
      id->ulKind = MNID_ID;
      id->Kind.lID = LONG(name->lid);
    }
    array[i] = id;
  }
  if (all) {
    LPSPropTagArray t = nullptr;
    Converted c = to_mapi(wanted, &t);
    if (!c.ok()) {
      MAPIFreeBuffer(block);
      return c.scode;
    }
    *tags = t;
  }
  *count = ULONG(wanted.size());
  *names = array;
  return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
}

// imapiprop-getidsfromnames.md. MAPI_CREATE registers a new name in the
// store's name-to-ID map (MS-PST 2.4.7) and commits it at once, so the id
// stays valid for every object of the store.
HRESULT PropObjectBase::prop_GetIDsFromNames(ULONG count, LPMAPINAMEID* names, ULONG flags, LPSPropTagArray* out) {
  if (std::string why; state_ && FAILED(state_->refused(&why))) return fail(state_->refused(nullptr), why);
  if (flags & ~MAPI_CREATE) return fail(MAPI_E_UNKNOWN_FLAGS, "GetIDsFromNames: unknown flags");
  if (out == nullptr || (count > 0 && names == nullptr))
    return fail(MAPI_E_INVALID_PARAMETER, "GetIDsFromNames: null pointer");
  *out = nullptr;
  if ((flags & MAPI_CREATE) && !state_->writable)
    return fail(MAPI_E_NO_ACCESS, "GetIDsFromNames: MAPI_CREATE on a read-only store");
  std::vector<PropTag> tags;
  bool errors = false;
  bool created = false;
  if (count == 0) {
    for (const auto& [id, name] : state_->store().names().entries()) tags.push_back(prop_tag(id, PT_UNSPECIFIED));
  }
  for (ULONG i = 0; i < count; ++i) {
    const MAPINAMEID* n = names[i];
    if (n == nullptr || n->lpguid == nullptr || (n->ulKind != MNID_ID && n->ulKind != MNID_STRING) ||
        (n->ulKind == MNID_STRING && n->Kind.lpwstrName == nullptr))
      return fail(MAPI_E_INVALID_PARAMETER, "GetIDsFromNames: malformed MAPINAMEID");
    NamedProperty wanted;
    std::memcpy(wanted.guid.bytes, n->lpguid, 16);
    wanted.is_string = n->ulKind == MNID_STRING;
    if (wanted.is_string) {
      wanted.name = utf8_from_wide(n->Kind.lpwstrName);
    } else {
      wanted.lid = uint32_t(n->Kind.lID);
    }
    const NameMap& map = state_->store().names();
    std::optional<uint16_t> found =
        wanted.is_string ? map.id_of(wanted.guid, wanted.name) : map.id_of(wanted.guid, wanted.lid);
    if (!found && (flags & MAPI_CREATE)) {
      auto id = state_->writer->named_property_id(wanted);
      if (!id) return fail(scode_of(id.status()), id.status().message());
      found = *id;
      created = true;
    }
    if (found) {
      tags.push_back(prop_tag(*found, PT_UNSPECIFIED));
    } else {
      tags.push_back(prop_tag(0, PT_ERROR));
      errors = true;
    }
  }
  if (created) {
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
  }
  Converted c = to_mapi(tags, out);
  if (!c.ok()) return fail(c.scode, c.detail);
  return errors ? MAPI_W_ERRORS_RETURNED : S_OK;
}

namespace {

// Rows held in memory with their strings as PT_UNICODE, answering a column
// asked as PT_STRING8 (or PT_UNSPECIFIED) from the Unicode value, as the
// store's tables do (the client picks the width with its column tags).
class MemoryTableSource final : public RowSource {
 public:
  MemoryTableSource(std::vector<PropTag> default_columns, std::vector<InMemoryRowSource::Row> rows, uint32_t codepage)
      : codepage_(codepage) {
    for (auto& row : rows) {
      for (auto& v : row.values) v = convert_string(v, kPtUnicode, codepage_);
    }
    for (auto& tag : default_columns) {
      if (is_string_type(prop_type(tag))) tag = change_prop_type(tag, uint16_t((prop_type(tag) & kMvFlag) | kPtUnicode));
    }
    inner_ = std::make_unique<InMemoryRowSource>(std::move(default_columns), std::move(rows));
  }
  uint64_t row_count_hint() const override { return inner_->row_count_hint(); }
  std::vector<PropTag> default_columns() const override { return inner_->default_columns(); }
  std::vector<PropTag> available_columns() const override { return inner_->available_columns(); }
  Status scan(std::span<const PropTag> columns,
              const std::function<Status(RowId, std::span<const PropValue>)>& visit) override {
    const std::vector<PropTag> asked = inner_columns(columns);
    std::vector<PropValue> converted;
    return inner_->scan(asked, [&](RowId id, std::span<const PropValue> values) {
      converted.assign(values.begin(), values.end());
      adapt(columns, converted);
      return visit(id, converted);
    });
  }
  Result<std::vector<std::vector<PropValue>>> read_rows(std::span<const RowId> rows,
                                                        std::span<const PropTag> columns) override {
    PSTKIT_ASSIGN_OR_RETURN(auto out, inner_->read_rows(rows, inner_columns(columns)));
    for (auto& row : out) adapt(columns, row);
    return out;
  }
  Status for_each_sub_row(RowId row, PropTag subobject, std::span<const PropTag> columns,
                          const SubRowVisitor& visit) override {
    return inner_->for_each_sub_row(row, subobject, columns, visit);
  }

 private:
  static std::vector<PropTag> inner_columns(std::span<const PropTag> columns) {
    std::vector<PropTag> out(columns.begin(), columns.end());
    for (auto& tag : out) {
      if (is_string_type(prop_type(tag))) tag = change_prop_type(tag, uint16_t((prop_type(tag) & kMvFlag) | kPtUnicode));
    }
    return out;
  }
  void adapt(std::span<const PropTag> columns, std::vector<PropValue>& values) const {
    for (size_t i = 0; i < columns.size() && i < values.size(); ++i) {
      if (values[i].is_error()) {
        values[i].tag = change_prop_type(columns[i], kPtError);
      } else if (is_string_type(prop_type(columns[i]))) {
        values[i] = convert_string(values[i], uint16_t(prop_type(columns[i]) & ~kMvFlag), codepage_);
      }
    }
  }
  uint32_t codepage_;
  std::unique_ptr<InMemoryRowSource> inner_;
};

}  // namespace

HRESULT create_memory_table(std::vector<PropTag> default_columns, std::vector<InMemoryRowSource::Row> rows,
                            LPMAPITABLE* out, uint32_t codepage) {
  try {
    auto source = std::make_shared<MemoryTableSource>(std::move(default_columns), std::move(rows), codepage);
    return create_table(std::move(source), out);
  } catch (const std::bad_alloc&) {
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
}

}  // namespace pstkit::mapi::capi
