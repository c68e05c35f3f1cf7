// IMAPISupport's notification utility (support_notify.h).
//
// Asynchronous delivery (a registration without NOTIFY_SYNC): "callbacks
// are queued to the processes that have subscribed and started when those
// processes gain control of the CPU" (imapisupport-subscribe.md). There is
// one subscribing process here, so the queue is served by one delivery
// thread, in order. The thread runs only while the queue has work and ends
// when it is empty (a thread left idle would make every later fork of the
// process hazardous under ASan); support_unsubscribe_all waits for it.
#include "mapi/support_notify.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <cwchar>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "pstkit/mapi/mapispi.h"
#include "pstkit/mapi/mapiutil.h"
#include "pstkit/mapi/mapix.h"

namespace pstkit::mapi::capi {
namespace {

struct Subscription {
  const void* owner = nullptr;
  Bytes key;
  ULONG mask = 0;
  bool sync = false;
  LPMAPIADVISESINK sink = nullptr;  // one reference
};

struct Delivery {
  LPMAPIADVISESINK sink = nullptr;  // one reference
  ULONG count = 0;
  LPNOTIFICATION notifications = nullptr;  // one MAPIAllocateBuffer block
};

struct Registry {
  std::mutex mutex;
  // By connection. Notify looks keys up by a scan: a process has a few
  // registrations per open store, not thousands.
  std::map<ULONG_PTR, Subscription> subscriptions;
  ULONG_PTR next_connection = 1;

  std::condition_variable idle;
  std::deque<Delivery> queue;
  bool running = false;  // the delivery thread is serving the queue
  std::thread worker;    // joinable until joined by the next start or a wait
  std::thread::id worker_id;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: usable from static destructors
  return *r;
}

// ---- Copies of notifications (imapisupport-notify.md: "Notify copies the
// structures ... MAPI performs all necessary memory allocation") ----------

class Copier {
 public:
  explicit Copier(void* parent) : parent_(parent) {}

  SCODE bytes(ULONG cb, const void* src, void** out) {
    *out = nullptr;
    if (cb == 0 || src == nullptr) return S_OK;
    if (SCODE sc = MAPIAllocateMore(cb, parent_, out); sc != S_OK) return sc;
    std::memcpy(*out, src, cb);
    return S_OK;
  }
  SCODE entry_id(ULONG cb, LPENTRYID src, ULONG* cb_out, LPENTRYID* out) {
    void* p = nullptr;
    if (cb != 0 && src == nullptr) return MAPI_E_INVALID_PARAMETER;
    if (SCODE sc = bytes(cb, src, &p); sc != S_OK) return sc;
    *cb_out = p == nullptr ? 0 : cb;
    *out = static_cast<LPENTRYID>(p);
    return S_OK;
  }
  // A string of either width (LPTSTR), with its terminator.
  SCODE string(LPTSTR src, bool wide, LPTSTR* out) {
    *out = nullptr;
    if (src == nullptr) return S_OK;
    const size_t size = wide ? (std::wcslen(reinterpret_cast<const wchar_t*>(src)) + 1) * sizeof(wchar_t)
                             : std::strlen(reinterpret_cast<const char*>(src)) + 1;
    if (size > 0xFFFFFFFFu) return MAPI_E_NOT_ENOUGH_MEMORY;
    void* p = nullptr;
    if (SCODE sc = bytes(ULONG(size), src, &p); sc != S_OK) return sc;
    *out = static_cast<LPTSTR>(p);
    return S_OK;
  }
  SCODE prop(const SPropValue& src, SPropValue* out) {
    return PropCopyMore(out, const_cast<LPSPropValue>(&src), MAPIAllocateMore, parent_);
  }
  SCODE props(ULONG count, const SPropValue* src, LPSPropValue* out) {
    *out = nullptr;
    if (count == 0) return S_OK;
    if (src == nullptr || count > 0xFFFFFFFFu / sizeof(SPropValue)) return MAPI_E_INVALID_PARAMETER;
    void* p = nullptr;
    if (SCODE sc = MAPIAllocateMore(ULONG(count * sizeof(SPropValue)), parent_, &p); sc != S_OK) return sc;
    auto* values = static_cast<LPSPropValue>(p);
    for (ULONG i = 0; i < count; ++i)
      if (SCODE sc = prop(src[i], &values[i]); sc != S_OK) return sc;
    *out = values;
    return S_OK;
  }
  SCODE tags(const SPropTagArray* src, LPSPropTagArray* out) {
    *out = nullptr;
    if (src == nullptr) return S_OK;
    if (src->cValues > (0xFFFFFFFFu - sizeof(SPropTagArray)) / sizeof(ULONG)) return MAPI_E_INVALID_PARAMETER;
    void* p = nullptr;
    if (SCODE sc = bytes(ULONG(CbNewSPropTagArray(src->cValues)), src, &p); sc != S_OK) return sc;
    *out = static_cast<LPSPropTagArray>(p);
    return S_OK;
  }

  SCODE notification(const NOTIFICATION& in, bool unicode, NOTIFICATION* out) {
    std::memset(out, 0, sizeof *out);
    out->ulEventType = in.ulEventType;
    switch (in.ulEventType) {
      case fnevCriticalError: {
        const ERROR_NOTIFICATION& e = in.info.err;
        ERROR_NOTIFICATION& o = out->info.err;
        o.scode = e.scode;
        o.ulFlags = e.ulFlags;
        if (SCODE sc = entry_id(e.cbEntryID, e.lpEntryID, &o.cbEntryID, &o.lpEntryID); sc != S_OK) return sc;
        if (e.lpMAPIError == nullptr) return S_OK;
        void* p = nullptr;
        if (SCODE sc = bytes(sizeof(MAPIERROR), e.lpMAPIError, &p); sc != S_OK) return sc;
        o.lpMAPIError = static_cast<LPMAPIERROR>(p);
        const bool wide = unicode || (e.ulFlags & MAPI_UNICODE) != 0;
        if (SCODE sc = string(e.lpMAPIError->lpszError, wide, &o.lpMAPIError->lpszError); sc != S_OK) return sc;
        return string(e.lpMAPIError->lpszComponent, wide, &o.lpMAPIError->lpszComponent);
      }
      case fnevNewMail: {
        const NEWMAIL_NOTIFICATION& n = in.info.newmail;
        NEWMAIL_NOTIFICATION& o = out->info.newmail;
        o.ulFlags = n.ulFlags;
        o.ulMessageFlags = n.ulMessageFlags;
        if (SCODE sc = entry_id(n.cbEntryID, n.lpEntryID, &o.cbEntryID, &o.lpEntryID); sc != S_OK) return sc;
        if (SCODE sc = entry_id(n.cbParentID, n.lpParentID, &o.cbParentID, &o.lpParentID); sc != S_OK) return sc;
        return string(n.lpszMessageClass, unicode || (n.ulFlags & MAPI_UNICODE) != 0, &o.lpszMessageClass);
      }
      case fnevObjectCreated:
      case fnevObjectDeleted:
      case fnevObjectModified:
      case fnevObjectMoved:
      case fnevObjectCopied:
      case fnevSearchComplete: {
        const OBJECT_NOTIFICATION& n = in.info.obj;
        OBJECT_NOTIFICATION& o = out->info.obj;
        o.ulObjType = n.ulObjType;
        if (SCODE sc = entry_id(n.cbEntryID, n.lpEntryID, &o.cbEntryID, &o.lpEntryID); sc != S_OK) return sc;
        if (SCODE sc = entry_id(n.cbParentID, n.lpParentID, &o.cbParentID, &o.lpParentID); sc != S_OK) return sc;
        if (SCODE sc = entry_id(n.cbOldID, n.lpOldID, &o.cbOldID, &o.lpOldID); sc != S_OK) return sc;
        if (SCODE sc = entry_id(n.cbOldParentID, n.lpOldParentID, &o.cbOldParentID, &o.lpOldParentID); sc != S_OK)
          return sc;
        return tags(n.lpPropTagArray, &o.lpPropTagArray);
      }
      case fnevTableModified: {
        const TABLE_NOTIFICATION& t = in.info.tab;
        TABLE_NOTIFICATION& o = out->info.tab;
        o.ulTableEvent = t.ulTableEvent;
        o.hResult = t.hResult;
        if (SCODE sc = prop(t.propIndex, &o.propIndex); sc != S_OK) return sc;
        if (SCODE sc = prop(t.propPrior, &o.propPrior); sc != S_OK) return sc;
        o.row.ulAdrEntryPad = t.row.ulAdrEntryPad;
        o.row.cValues = t.row.cValues;
        return props(t.row.cValues, t.row.lpProps, &o.row.lpProps);
      }
      case fnevStatusObjectModified: {
        const STATUS_OBJECT_NOTIFICATION& s = in.info.statobj;
        STATUS_OBJECT_NOTIFICATION& o = out->info.statobj;
        if (SCODE sc = entry_id(s.cbEntryID, s.lpEntryID, &o.cbEntryID, &o.lpEntryID); sc != S_OK) return sc;
        o.cValues = s.cValues;
        return props(s.cValues, s.lpPropVals, &o.lpPropVals);
      }
      case fnevExtended: {
        const EXTENDED_NOTIFICATION& x = in.info.ext;
        EXTENDED_NOTIFICATION& o = out->info.ext;
        o.ulEvent = x.ulEvent;
        if (x.cb != 0 && x.pbEventParameters == nullptr) return MAPI_E_INVALID_PARAMETER;
        void* p = nullptr;
        if (SCODE sc = bytes(x.cb, x.pbEventParameters, &p); sc != S_OK) return sc;
        o.cb = p == nullptr ? 0 : x.cb;
        o.pbEventParameters = static_cast<LPBYTE>(p);
        return S_OK;
      }
      default:
        return MAPI_E_INVALID_PARAMETER;  // not one event type of notification.md
    }
  }

 private:
  void* parent_;
};

// The notifications of `in` whose event type `mask` has, copied into one
// MAPI block; *out stays null when there are none.
SCODE copy_matching(ULONG mask, ULONG count, const NOTIFICATION* in, bool unicode, ULONG* matched,
                    LPNOTIFICATION* out) {
  *out = nullptr;
  *matched = 0;
  ULONG n = 0;
  for (ULONG i = 0; i < count; ++i)
    if (in[i].ulEventType & mask) ++n;
  if (n == 0) return S_OK;
  void* block = nullptr;
  if (SCODE sc = MAPIAllocateBuffer(ULONG(n * sizeof(NOTIFICATION)), &block); sc != S_OK) return sc;
  auto* copies = static_cast<LPNOTIFICATION>(block);
  Copier copier(block);
  ULONG k = 0;
  for (ULONG i = 0; i < count; ++i) {
    if ((in[i].ulEventType & mask) == 0) continue;
    if (SCODE sc = copier.notification(in[i], unicode, &copies[k++]); sc != S_OK) {
      MAPIFreeBuffer(block);
      return sc;
    }
  }
  *matched = n;
  *out = copies;
  return S_OK;
}

// ---- Asynchronous delivery ---------------------------------------------------

void deliver(Delivery& d) {
  d.sink->OnNotify(d.count, d.notifications);
  MAPIFreeBuffer(d.notifications);
  d.sink->Release();
}

void worker_main() {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  while (!r.queue.empty()) {
    Delivery d = r.queue.front();
    r.queue.pop_front();
    lock.unlock();
    deliver(d);
    lock.lock();
  }
  r.running = false;
  r.worker_id = std::thread::id();
  r.idle.notify_all();
}

// r.mutex held.
void enqueue(Registry& r, std::unique_lock<std::mutex>& lock, Delivery d) {
  r.queue.push_back(d);
  if (r.running) return;
  // The previous thread has finished its loop; collect it before the next.
  std::thread done = std::move(r.worker);
  r.running = true;
  try {
    r.worker = std::thread(worker_main);
    r.worker_id = r.worker.get_id();
  } catch (const std::system_error&) {
    // No thread to be had: deliver on this one, as NOTIFY_SYNC would.
    r.running = false;
    std::deque<Delivery> pending;
    pending.swap(r.queue);
    lock.unlock();
    for (Delivery& p : pending) deliver(p);
    lock.lock();
  }
  if (done.joinable()) {
    lock.unlock();
    done.join();
    lock.lock();
  }
}

void wait_for_deliveries() {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  // From a sink's OnNotify on the delivery thread (it released its store):
  // the thread cannot wait for itself; it ends when the queue is empty.
  if (std::this_thread::get_id() == r.worker_id) return;
  r.idle.wait(lock, [&] { return !r.running; });
  std::thread done = std::move(r.worker);
  lock.unlock();
  if (done.joinable()) done.join();
}

}  // namespace

HRESULT support_subscribe(const void* owner, ByteView key, ULONG event_mask, bool sync, LPMAPIADVISESINK sink,
                          ULONG_PTR* connection) {
  Registry& r = registry();
  Subscription s;
  s.owner = owner;
  s.key.assign(key.data(), key.data() + key.size());
  s.mask = event_mask;
  s.sync = sync;
  s.sink = sink;
  sink->AddRef();
  std::lock_guard lock(r.mutex);
  const ULONG_PTR id = r.next_connection++;
  r.subscriptions.emplace(id, std::move(s));
  *connection = id;
  return S_OK;
}

HRESULT support_unsubscribe(const void* owner, ULONG_PTR connection) {
  Registry& r = registry();
  LPMAPIADVISESINK sink = nullptr;
  {
    std::lock_guard lock(r.mutex);
    auto it = r.subscriptions.find(connection);
    if (it == r.subscriptions.end() || it->second.owner != owner) return MAPI_E_NOT_FOUND;
    sink = it->second.sink;
    r.subscriptions.erase(it);
  }
  sink->Release();  // outside the lock: a sink's destructor may call MAPI
  return S_OK;
}

void support_unsubscribe_all(const void* owner) {
  Registry& r = registry();
  std::vector<LPMAPIADVISESINK> sinks;
  {
    std::lock_guard lock(r.mutex);
    for (auto it = r.subscriptions.begin(); it != r.subscriptions.end();) {
      if (it->second.owner == owner) {
        sinks.push_back(it->second.sink);
        it = r.subscriptions.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (LPMAPIADVISESINK sink : sinks) sink->Release();
  wait_for_deliveries();
}

HRESULT support_notify(ByteView key, ULONG count, const NOTIFICATION* notifications, bool unicode, bool* canceled) {
  *canceled = false;
  // Every notification has one event type of notification.md, whichever
  // sinks it would reach.
  constexpr ULONG kEvents = fnevCriticalError | fnevNewMail | fnevObjectCreated | fnevObjectDeleted |
                            fnevObjectModified | fnevObjectMoved | fnevObjectCopied | fnevSearchComplete |
                            fnevTableModified | fnevStatusObjectModified | fnevExtended;
  for (ULONG i = 0; i < count; ++i) {
    const ULONG type = notifications[i].ulEventType;
    if (type == 0 || (type & (type - 1)) != 0 || (type & kEvents) == 0) return MAPI_E_INVALID_PARAMETER;
  }
  Registry& r = registry();
  struct Target {
    LPMAPIADVISESINK sink;
    ULONG mask;
    bool sync;
  };
  // The registrations for the key, each sink held: a sink may Unsubscribe
  // (or be unsubscribed by another thread) while it is being called.
  std::vector<Target> targets;
  {
    std::lock_guard lock(r.mutex);
    for (auto& [id, s] : r.subscriptions) {
      if (s.key.size() != key.size() || !std::equal(s.key.begin(), s.key.end(), key.data())) continue;
      s.sink->AddRef();
      targets.push_back({s.sink, s.mask, s.sync});
    }
  }
  HRESULT result = S_OK;
  size_t next = 0;
  for (; next < targets.size(); ++next) {
    const Target& t = targets[next];
    ULONG matched = 0;
    LPNOTIFICATION copies = nullptr;
    if (SCODE sc = copy_matching(t.mask, count, notifications, unicode, &matched, &copies); sc != S_OK) {
      result = sc;
      break;
    }
    if (copies == nullptr) {
      t.sink->Release();
      continue;
    }
    if (t.sync) {
      const ULONG answer = t.sink->OnNotify(matched, copies);
      MAPIFreeBuffer(copies);
      t.sink->Release();
      if (answer == CALLBACK_DISCONTINUE) {
        *canceled = true;
        ++next;
        break;
      }
    } else {
      std::unique_lock lock(r.mutex);
      enqueue(r, lock, Delivery{t.sink, matched, copies});  // the queue takes the reference
    }
  }
  for (; next < targets.size(); ++next) targets[next].sink->Release();
  return result;
}

}  // namespace pstkit::mapi::capi
