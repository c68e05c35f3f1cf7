// The session core under MAPILogonEx and IMAPISession (pstkit/mapi_session.h):
// logon serialisation, the shared session, profile choice, service logon
// with one retry and then disabling (mapi-sessions.md), and the provider
// logon registry.
#include "pstkit/mapi_session.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <sys/stat.h>

#include "pstkit/mapi_profiles.h"
#include "pstkit/mapi_ui.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb.h"
#include "pstkit/utf.h"

namespace pstkit::mapi {

// The state members of one session share.
class SessionCore {
 public:
  std::string profile;
  std::string profile_id;
  std::unique_ptr<ProfileUse> use;
  bool shared = false;

  mutable std::mutex mutex;
  std::vector<SessionProvider> providers;
  std::optional<size_t> default_store;
  int members = 0;
  bool ended = false;
  std::map<uint64_t, Session::EventListener> listeners;
  uint64_t next_listener = 1;

  // Ends the session for every member: releases the profile (a pending
  // deletion goes through) and the providers' session counts, then tells
  // the listeners (outside the lock: they may call back).
  void end(int32_t scode, const std::string& message);
};

namespace {

constexpr const char* kPstServices[] = {"MSUPST MS", "MSPST MS", "PSTKIT OST"};

bool is_pst_service(const std::string& name) {
  return std::any_of(std::begin(kPstServices), std::end(kPstServices), [&](const char* s) { return name == s; });
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, ProviderLogonFn> functions;
  ProviderLibraryLoader library_loader;
  std::map<std::string, int> active;  // provider section -> sessions logged on
};
Registry& registry() {
  static Registry r;
  return r;
}

struct Sessions {
  std::mutex mutex;
  std::weak_ptr<SessionCore> shared;
};
Sessions& sessions() {
  static Sessions s;
  return s;
}

// mapilogonex.md: "MAPI serializes all logons through a mutex."
std::timed_mutex g_logon_mutex;
std::atomic<int64_t> g_short_timeout_ms{3000};

void change_active(const std::string& section, int delta) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  int& n = r.active[section];
  n = std::max(0, n + delta);
}

int active_count(const std::string& section) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.active.find(section);
  return it == r.active.end() ? 0 : it->second;
}

std::string status_text(const Status& s) { return s.message(); }

uint32_t resource_type_of(const Provider& p) {
  return uint32_t(p.props.get_long(prop_id(tags::kResourceType)).value_or(0));
}

// The order providers of one service log on in: address books before
// stores (mapi-and-scanpst-notes.md, "Logon sequence"), then the others.
int logon_rank(uint32_t resource_type) {
  if (resource_type == kMapiAbProvider) return 0;
  if (resource_type == kMapiStoreProvider) return 1;
  return 2;
}

std::optional<std::string> section_string(const ProviderLogonContext& c, uint32_t tag) {
  if (auto v = c.provider->props.get_string(prop_id(tag)); v && !v->empty()) return v;
  if (auto v = c.service->props.get_string(prop_id(tag)); v && !v->empty()) return v;
  return std::nullopt;
}

// Asks through the UI; nullopt with *status set when there is no answer.
std::optional<std::string> ask(UiRequest request, SessionStatus* status) {
  bool cancelled = false;
  auto answer = ask_ui(request, &cancelled);
  if (!answer) {
    *status = cancelled ? SessionStatus::error(session_scode::kUserCancel, "the user cancelled the logon")
                        : SessionStatus::error(session_scode::kLogonFailed, "no UI callback to ask: " + request.prompt);
  }
  return answer;
}

void append_le32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

constexpr uint8_t kMuidStoreWrap[16] = {0x38, 0xA1, 0xBB, 0x10, 0x05, 0xE5, 0x10, 0x1A,
                                        0xA1, 0xBB, 0x08, 0x00, 0x2B, 0x2A, 0x56, 0xC2};
constexpr uint8_t kMspstUid[16] = {0x4E, 0x49, 0x54, 0x41, 0xF9, 0xBF, 0xB8, 0x01,
                                   0x00, 0xAA, 0x00, 0x37, 0xD9, 0x6E, 0x00, 0x00};
constexpr char kMspstDll[] = "mspst.dll";

}  // namespace

// ---------------------------------------------------------------------------
// Entry IDs.

Bytes wrapped_store_entry_id(const std::string& dll_name, ByteView provider_data) {
  Bytes b;
  append_le32(b, 0);
  b.insert(b.end(), std::begin(kMuidStoreWrap), std::end(kMuidStoreWrap));
  b.push_back(0);  // version
  b.push_back(0);  // flag
  b.insert(b.end(), dll_name.begin(), dll_name.end());
  b.push_back(0);
  b.insert(b.end(), provider_data.data(), provider_data.data() + provider_data.size());
  return b;
}

Bytes store_entry_id(const std::string& path) {
  Bytes data(std::begin(kMspstUid), std::end(kMspstUid));
  data.push_back(0);  // reserved
  for (unsigned char c : path) data.push_back(c < 0x80 ? c : '?');
  data.push_back(0);
  Bytes wide = utf8_to_utf16le(path);
  data.insert(data.end(), wide.begin(), wide.end());
  data.push_back(0);
  data.push_back(0);
  return wrapped_store_entry_id(kMspstDll, data);
}

bool is_store_entry_id(ByteView id) {
  if (id.size() < 4 + 16 + 2 + 1) return false;
  if (id.data()[1] != 0 || id.data()[2] != 0 || id.data()[3] != 0) return false;
  return std::equal(std::begin(kMuidStoreWrap), std::end(kMuidStoreWrap), id.data() + 4);
}

// Compares two store entry IDs: byte for byte after abFlags[0], whose
// short-term bits a client may set (entryid.md).
static bool same_store_entry_id(ByteView a, ByteView b) {
  if (a.size() != b.size() || a.size() < 4) return false;
  return std::equal(a.data() + 1, a.data() + a.size(), b.data() + 1);
}

// ---------------------------------------------------------------------------
// Provider logon.

ProviderLibraryLoader set_provider_library_loader(ProviderLibraryLoader loader) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::swap(r.library_loader, loader);
  return loader;
}

int provider_sessions(const std::string& provider_section) { return active_count(provider_section); }

void register_provider_logon(const std::string& provider_section, ProviderLogonFn fn) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (fn)
    r.functions[provider_section] = std::move(fn);
  else
    r.functions.erase(provider_section);
}

SessionStatus pst_provider_logon(const ProviderLogonContext& c, ProviderLogonInfo* info) {
  using namespace session_scode;
  const bool retry = c.attempt > 1;
  std::string path = section_string(c, tags::kPstPath).value_or("");
  struct stat st {};
  const bool missing = path.empty() || ::stat(path.c_str(), &st) != 0;
  if (missing) {
    // mapi-sessions.md: missing information is asked for when UI is allowed.
    if (!(retry && c.may_prompt)) {
      return SessionStatus::error(path.empty() ? kUnconfigured : kNotFound,
                                  path.empty() ? "the service '" + c.service->display_name() + "' has no PR_PST_PATH"
                                               : "the store file " + path + " does not exist");
    }
    UiRequest q;
    q.kind = UiRequest::Kind::kServiceSetting;
    q.ui_param = c.ui_param;
    q.profile = c.profile;
    q.service = c.service->display_name();
    q.property = "PR_PST_PATH";
    q.prompt = "Path of the personal folders file for '" + q.service + "'";
    q.current = path;
    SessionStatus s;
    auto answer = ask(q, &s);
    if (!answer) return s;
    path = *answer;
  }
  auto store = Store::open(path);
  if (!store.is_ok()) return SessionStatus::error(kLogonFailed, "cannot open " + path + ": " + status_text(store.status()));
  if (auto crc = (*store)->password_crc(); crc && *crc != 0) {
    auto matches = [&](const std::string& pw) {
      return ndb::compute_crc(reinterpret_cast<const uint8_t*>(pw.data()), pw.size()) == *crc;
    };
    auto remembered = section_string(c, 0x6703001F);  // PR_PST_PW_SZ_OLD
    if (!remembered || !matches(*remembered)) {
      if (!(retry && c.may_prompt_password))
        return SessionStatus::error(kLogonFailed, "the store " + path + " is protected by a password");
      UiRequest q;
      q.kind = UiRequest::Kind::kServicePassword;
      q.ui_param = c.ui_param;
      q.profile = c.profile;
      q.service = c.service->display_name();
      q.prompt = "Password of '" + q.service + "' (" + path + ")";
      q.secret = true;
      SessionStatus s;
      auto answer = ask(q, &s);
      if (!answer) return s;
      if (!matches(*answer)) return SessionStatus::error(kLogonFailed, "wrong password for " + path);
    }
  }
  auto key = store_provider_uid(**store);
  if (!key.is_ok()) return SessionStatus::error(kCorruptData, path + ": " + status_text(key.status()));
  info->record_key = *key;
  info->store_path = path;
  info->unicode = (*store)->header().format != ndb::FileFormat::kAnsi;
  info->display_name = c.service->display_name();
  if (info->display_name.empty()) info->display_name = (*store)->display_name();
  return {};
}

// ---------------------------------------------------------------------------
// Session.

void SessionCore::end(int32_t scode, const std::string& message) {
  std::vector<Session::EventListener> to_tell;
  std::unique_ptr<ProfileUse> released;
  std::vector<std::string> sections;
  std::vector<std::shared_ptr<void>> provider_objects;  // shut down outside the lock
  {
    std::lock_guard lock(mutex);
    if (ended) return;
    ended = true;
    released = std::move(use);
    for (auto& p : providers) {
      if (p.logged_on) sections.push_back(p.provider_section);
      if (p.logon.provider_object) provider_objects.push_back(std::move(p.logon.provider_object));
    }
    for (auto& [id, l] : listeners) to_tell.push_back(l);
    listeners.clear();
  }
  for (auto& s : sections) change_active(s, -1);
  // imsprovider-shutdown.md: the provider is shut down and released once
  // the session no longer uses it (the last snapshot of its row gone).
  provider_objects.clear();
  if (released) (void)released->release();
  for (auto& l : to_tell) l(scode, message);
}

Session::Session(std::shared_ptr<SessionCore> core, uint32_t flags, bool joined)
    : core_(std::move(core)), flags_(flags), joined_(joined) {}

Session::~Session() { logoff(false); }

bool Session::shared() const { return core_->shared; }
const std::string& Session::profile() const { return core_->profile; }
const std::string& Session::profile_id() const { return core_->profile_id; }

bool Session::ended() const {
  if (logged_off_) return true;
  std::lock_guard lock(core_->mutex);
  return core_->ended;
}

std::vector<SessionProvider> Session::providers() const {
  std::lock_guard lock(core_->mutex);
  return core_->providers;
}

std::optional<size_t> Session::default_store() const {
  std::lock_guard lock(core_->mutex);
  return core_->default_store;
}

SessionStatus Session::set_default_store(ByteView entry_id) {
  std::lock_guard lock(core_->mutex);
  for (size_t i = 0; i < core_->providers.size(); ++i) {
    const auto& p = core_->providers[i];
    if (p.logged_on && !p.store_entry_id.empty() && same_store_entry_id(p.store_entry_id, entry_id)) {
      core_->default_store = i;
      return {};
    }
  }
  return SessionStatus::error(session_scode::kNotFound, "no open store of the session has this entry ID");
}

std::optional<SessionProvider> Session::find_store(ByteView id) const {
  std::lock_guard lock(core_->mutex);
  for (const auto& p : core_->providers)
    if (p.logged_on && !p.store_entry_id.empty() && same_store_entry_id(p.store_entry_id, id)) return p;
  return std::nullopt;
}

std::optional<SessionProvider> Session::find_store_by_record_key(const ProviderUid& key) const {
  std::lock_guard lock(core_->mutex);
  for (const auto& p : core_->providers)
    if (p.logged_on && p.resource_type == kMapiStoreProvider && p.logon.record_key == key) return p;
  return std::nullopt;
}

void Session::logoff(bool end_shared) {
  if (logged_off_) return;
  logged_off_ = true;
  bool last = false;
  {
    std::lock_guard lock(core_->mutex);
    last = --core_->members <= 0;
    if (core_->ended) return;
  }
  // imapisession-logoff.md: MAPI_LOGOFF_SHARED is ignored when the session
  // is not shared; when it is, every member's session ends.
  if (last || (end_shared && core_->shared)) {
    {
      auto& s = sessions();
      std::lock_guard lock(s.mutex);
      if (s.shared.lock() == core_) s.shared.reset();
    }
    core_->end(session_scode::kEndOfSession, "the session was logged off");
  }
}

uint64_t Session::add_listener(EventListener listener) {
  std::lock_guard lock(core_->mutex);
  uint64_t id = core_->next_listener++;
  core_->listeners.emplace(id, std::move(listener));
  return id;
}

void Session::remove_listener(uint64_t id) {
  std::lock_guard lock(core_->mutex);
  core_->listeners.erase(id);
}

struct SessionAccess {
  static std::unique_ptr<Session> make(std::shared_ptr<SessionCore> core, uint32_t flags, bool joined) {
    return std::unique_ptr<Session>(new Session(std::move(core), flags, joined));
  }
};

std::chrono::milliseconds set_short_logon_timeout(std::chrono::milliseconds timeout) {
  return std::chrono::milliseconds(g_short_timeout_ms.exchange(timeout.count()));
}

// ---------------------------------------------------------------------------
// Logon.

namespace {

// Which profile to log on to (mapilogonex.md, Remarks).
SessionStatus choose_profile(const LogonRequest& req, const ProfileFile& file, std::string* name) {
  using namespace session_scode;
  const uint32_t f = req.flags;
  std::string wanted = req.profile.value_or("");
  // MAPI_USE_DEFAULT substitutes the default profile for a NULL or empty name.
  if (wanted.empty() && (f & logon_flag::kUseDefault)) wanted = file.default_profile;
  const bool ui = (f & logon_flag::kLogonUi) != 0;
  if (!wanted.empty() && file.find(wanted) != nullptr) {
    *name = file.find(wanted)->name;
    return {};
  }
  if (!ui) {
    if (wanted.empty())
      return SessionStatus::error(kLogonFailed,
                                  (f & logon_flag::kUseDefault) ? "there is no default profile"
                                                                : "no profile name, and neither MAPI_USE_DEFAULT nor MAPI_LOGON_UI");
    return SessionStatus::error(kLogonFailed, "there is no profile named '" + wanted + "'");
  }
  // The logon dialog: the profiles to choose from; its field holds the name
  // given, else the default profile unless MAPI_EXPLICIT_PROFILE ("the
  // default profile should not be used").
  UiRequest q;
  q.kind = UiRequest::Kind::kChooseProfile;
  q.ui_param = req.ui_param;
  q.prompt = "Choose a profile";
  for (const auto& p : file.profiles) {
    if (p.delete_pending) continue;
    if (p.app_profile && !(f & logon_flag::kAppProfile)) continue;
    q.choices.push_back(p.name);
  }
  q.current = !wanted.empty() ? wanted : ((f & logon_flag::kExplicitProfile) ? "" : file.default_profile);
  SessionStatus s;
  auto answer = ask(q, &s);
  if (!answer) return s;
  if (const Profile* p = file.find(*answer)) {
    *name = p->name;
    return {};
  }
  return SessionStatus::error(kLogonFailed, "there is no profile named '" + *answer + "'");
}

// MAPI_SERVICE_UI_ALWAYS: each service's configuration is shown "after the
// profile has been chosen but before any message service is logged on".
SessionStatus show_service_configuration(const LogonRequest& req, ProfileStore& store, const Profile& profile) {
  for (const auto& svc : profile.services) {
    UiRequest q;
    q.kind = UiRequest::Kind::kServiceSetting;
    q.ui_param = req.ui_param;
    q.profile = profile.name;
    q.service = svc.display_name();
    if (is_pst_service(svc.name)) {
      q.property = "PR_PST_PATH";
      q.current = svc.props.get_string(prop_id(tags::kPstPath)).value_or("");
      q.prompt = "Path of the personal folders file for '" + q.service + "'";
    } else {
      q.prompt = "Configuration of '" + q.service + "' (empty to keep it)";
    }
    SessionStatus s;
    auto answer = ask(q, &s);
    if (!answer) return s;
    if (!q.property.empty() && !answer->empty() && *answer != q.current) {
      Status st = store.configure_service(profile.name, svc.uid,
                                          {SectionProp::string_value(tags::kPstPath, *answer)}).status();
      if (!st.is_ok()) return SessionStatus::error(session_scode::kLogonFailed, status_text(st));
    }
  }
  return {};
}

}  // namespace

SessionStatus logon(const LogonRequest& req, std::unique_ptr<Session>* out) {
  using namespace session_scode;
  if (out == nullptr) return SessionStatus::error(kInvalidParameter, "no place for the session");
  out->reset();
  const uint32_t f = req.flags;
  if (f & ~logon_flag::kAll) return SessionStatus::error(kUnknownFlags, "unknown MAPILogonEx flags");
  // mapilogonex.md: the password "must be NULL" (pstkit also takes ""); the
  // name is "limited to 64 characters". Invalid parameters: LOGON_FAILED.
  if (req.password && !req.password->empty())
    return SessionStatus::error(kLogonFailed, "lpszPassword must be NULL (MAPI profiles have no password)");
  auto characters = [](const std::string& u) {
    return size_t(std::count_if(u.begin(), u.end(), [](char c) { return (uint8_t(c) & 0xC0) != 0x80; }));
  };
  if (req.profile && characters(*req.profile) > kMaxProfileName)
    return SessionStatus::error(kLogonFailed, "the profile name is longer than 64 characters");
  if ((f & logon_flag::kLogonUi) && (f & logon_flag::kPasswordUi))
    return SessionStatus::error(kLogonFailed, "MAPI_LOGON_UI and MAPI_PASSWORD_UI exclude each other");

  std::unique_lock<std::timed_mutex> serial(g_logon_mutex, std::defer_lock);
  if (f & logon_flag::kTimeoutShort) {
    if (!serial.try_lock_for(std::chrono::milliseconds(g_short_timeout_ms.load())))
      return SessionStatus::error(kTimeout, "another logon holds the logon mutex (MAPI_TIMEOUT_SHORT)");
  } else {
    serial.lock();
  }

  // The shared session, unless MAPI_NEW_SESSION: the profile name is ignored.
  if (!(f & logon_flag::kNewSession)) {
    std::shared_ptr<SessionCore> shared;
    {
      auto& s = sessions();
      std::lock_guard lock(s.mutex);
      shared = s.shared.lock();
    }
    if (shared) {
      std::lock_guard lock(shared->mutex);
      if (!shared->ended) {
        ++shared->members;
        *out = SessionAccess::make(shared, f, true);
        return {};
      }
    }
  }

  auto store = req.profile_dir ? ProfileStore::open(*req.profile_dir) : ProfileStore::open_default();
  if (!store.is_ok()) return SessionStatus::error(kLogonFailed, status_text(store.status()));
  auto file = store->read();
  if (!file.is_ok()) return SessionStatus::error(kLogonFailed, status_text(file.status()));
  std::string name;
  if (auto s = choose_profile(req, *file, &name); !s.ok()) return s;

  auto core = std::make_shared<SessionCore>();
  auto use = store->acquire_use(name);
  if (!use.is_ok()) return SessionStatus::error(kLogonFailed, status_text(use.status()));
  core->use = std::move(*use);
  core->profile = name;
  core->profile_id = core->use->profile_id();

  if (f & logon_flag::kServiceUiAlways) {
    const Profile* p = file->find(name);
    if (p == nullptr) return SessionStatus::error(kLogonFailed, "the profile '" + name + "' went away");
    if (auto s = show_service_configuration(req, *store, *p); !s.ok()) return s;
  }
  // The profile as it is now that the session holds it.
  file = store->read();
  if (!file.is_ok()) return SessionStatus::error(kLogonFailed, status_text(file.status()));
  const Profile* profile = file->find(name);
  if (profile == nullptr) return SessionStatus::error(kLogonFailed, "the profile '" + name + "' went away");

  const bool no_mail = (f & logon_flag::kNoMail) != 0;
  std::vector<SessionProvider> rows;
  std::vector<std::string> logged_sections;  // for undoing the counts on failure
  auto undo = [&] {
    for (auto& s : logged_sections) change_active(s, -1);
  };

  for (const auto& svc : profile->services) {
    // This service's providers in logon order.
    std::vector<const Provider*> order;
    for (const auto& p : svc.providers) {
      // MAPI_NO_MAIL: "the status table does not contain entries for
      // transport providers".
      if (no_mail && resource_type_of(p) == kMapiTransportProvider) continue;
      order.push_back(&p);
    }
    std::stable_sort(order.begin(), order.end(), [](const Provider* a, const Provider* b) {
      return logon_rank(resource_type_of(*a)) < logon_rank(resource_type_of(*b));
    });
    const size_t first = rows.size();
    for (const Provider* p : order) {
      SessionProvider row;
      row.service_uid = svc.uid;
      row.provider_uid = p->uid;
      row.service_name = svc.name;
      row.service_display = svc.display_name();
      row.provider_section = p->section;
      row.provider_display = p->props.get_string(prop_id(tags::kProviderDisplay)).value_or("");
      row.dll_name = p->props.get_string(prop_id(tags::kProviderDllName)).value_or("");
      row.resource_type = resource_type_of(*p);
      row.resource_flags = uint32_t(p->props.get_long(prop_id(tags::kResourceFlags)).value_or(0));
      rows.push_back(std::move(row));
    }
    // Two tries (mapi-sessions.md): the second with UI if allowed.
    std::string failure;
    for (int attempt = 1; attempt <= 2; ++attempt) {
      failure.clear();
      for (size_t i = 0; i < order.size(); ++i) {
        SessionProvider& row = rows[first + i];
        if (row.logged_on) continue;
        ProviderLogonFn fn;
        ProviderLibraryLoader loader;
        {
          auto& r = registry();
          std::lock_guard lock(r.mutex);
          if (auto it = r.functions.find(row.provider_section); it != r.functions.end()) fn = it->second;
          loader = r.library_loader;
        }
        if (!fn && is_pst_service(svc.name)) fn = pst_provider_logon;
        // A provider of a library is loaded (its XPProviderInit,
        // ABProviderInit or MSProviderInit) so that the session holds its
        // provider object; other transports start when first needed, and
        // pstkit has none of its own to start. A transport that cannot be
        // loaded has not started: that fails no service.
        const bool may_not_start = row.resource_type == kMapiTransportProvider;
        if (!fn && !row.dll_name.empty() && loader) {
          fn = [loader, dll = row.dll_name, type = row.resource_type](const ProviderLogonContext& c,
                                                                       ProviderLogonInfo* logon_info) {
            return loader(c, dll, type, logon_info);
          };
        } else if (row.resource_type == kMapiTransportProvider) {
          continue;
        }
        SessionStatus s;
        ProviderLogonInfo info;
        if (!fn) {
          s = SessionStatus::error(kLogonFailed, "the provider '" + row.provider_section + "' (" +
                                                     (row.dll_name.empty() ? "no library" : row.dll_name) +
                                                     ") has no logon function in this runtime");
        } else {
          ProviderLogonContext ctx;
          ctx.profile = name;
          ctx.service = &svc;
          ctx.provider = order[i];
          ctx.logon_flags = f;
          ctx.ui_param = req.ui_param;
          ctx.attempt = attempt;
          ctx.may_prompt = (f & logon_flag::kLogonUi) != 0;
          ctx.may_prompt_password = (f & (logon_flag::kLogonUi | logon_flag::kPasswordUi)) != 0;
          ctx.active_sessions = active_count(row.provider_section);
          s = fn(ctx, &info);
        }
        if (s.scode == kSessionLimit || s.scode == kUserCancel) {
          undo();
          return s;
        }
        if (!s.ok() && may_not_start) {
          row.failure = s.detail;
          continue;
        }
        if (!s.ok()) {
          if (failure.empty()) failure = s.detail.empty() ? "provider logon failed" : s.detail;
          continue;
        }
        row.logged_on = true;
        row.logon = info;
        if (row.resource_type == kMapiStoreProvider) {
          // A PST names its file; another provider's store is named by its
          // library and its provider UID.
          row.store_entry_id = !info.store_path.empty()
                                   ? store_entry_id(info.store_path)
                                   : wrapped_store_entry_id(row.dll_name.empty() ? row.provider_section : row.dll_name,
                                                            ByteView(row.provider_uid.data(), row.provider_uid.size()));
        }
        change_active(row.provider_section, +1);
        logged_sections.push_back(row.provider_section);
      }
      if (failure.empty()) break;
    }
    if (!failure.empty()) {
      // "MAPI disables all service providers in the message service for the
      // duration of the session."
      for (size_t i = first; i < rows.size(); ++i) {
        SessionProvider& row = rows[i];
        if (row.logged_on) {
          change_active(row.provider_section, -1);
          logged_sections.erase(std::find(logged_sections.begin(), logged_sections.end(), row.provider_section));
        }
        row.logged_on = false;
        row.logon = {};  // releases a loaded provider object
        row.store_entry_id.clear();
        row.disabled = true;
        row.failure = failure;
      }
    }
  }

  // The default store: the store provider flagged STATUS_DEFAULT_STORE, or
  // of a service flagged SERVICE_DEFAULT_STORE, else the first store.
  std::optional<size_t> def;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].logged_on || rows[i].resource_type != kMapiStoreProvider) continue;
    if (!def) def = i;
    if (rows[i].resource_flags & kStatusDefaultStore) {
      def = i;
      break;
    }
  }
  core->providers = std::move(rows);
  core->default_store = def;
  core->members = 1;
  {
    auto& s = sessions();
    std::lock_guard lock(s.mutex);
    // MAPI_ALLOW_OTHERS: this session becomes the shared one, if there is none.
    if ((f & logon_flag::kAllowOthers) && !s.shared.lock()) {
      core->shared = true;
      s.shared = core;
    }
  }
  *out = SessionAccess::make(core, f, false);
  return {};
}

}  // namespace pstkit::mapi
