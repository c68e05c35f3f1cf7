// MAPI sessions: the logon rules of MAPILogonEx and the state of a session,
// as a C++ API that IMAPISession (src/mapi/session_com.cpp) adapts and that
// tests drive without COM (docs/MAPI.md "Sessions").
//
// The rules come from mapilogonex.md and mapi-sessions.md:
//  - logons are serialised by one process-wide mutex; MAPI_TIMEOUT_SHORT
//    makes a blocked logon fail with MAPI_E_TIMEOUT instead of waiting;
//  - a session made with MAPI_ALLOW_OTHERS is the shared session; a logon
//    without MAPI_NEW_SESSION joins it and ignores the profile name; each
//    member keeps its own flags;
//  - without MAPI_LOGON_UI, missing information (no profile name and no
//    MAPI_USE_DEFAULT, an unknown profile, a store password) is an error;
//  - every message service of the profile is logged on; a service whose
//    logon fails is tried once more (with UI when allowed) and then all its
//    providers are disabled for the session, which goes on with the others;
//  - a provider may refuse a further session with MAPI_E_SESSION_LIMIT.
// Errors are MAPI SCODEs (the values of mapicode.h) with a message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <array>
#include <string>
#include <vector>

#include "pstkit/mapi_entry_id.h"

namespace pstkit::mapi {

// From pstkit/mapi_profiles.h (not included: its tag helpers clash with
// pstkit/mapi_table.h, which the COM layer uses beside this header).
struct MessageService;
struct Provider;

// MAPILogonEx flags (mapix.h, mapidefs.h; the tests compare the values).
namespace logon_flag {
inline constexpr uint32_t kLogonUi = 0x00000001;          // MAPI_LOGON_UI
inline constexpr uint32_t kNewSession = 0x00000002;       // MAPI_NEW_SESSION
inline constexpr uint32_t kAppProfile = 0x00000004;       // MAPI_APP_PROFILE
inline constexpr uint32_t kAllowOthers = 0x00000008;      // MAPI_ALLOW_OTHERS
inline constexpr uint32_t kExplicitProfile = 0x00000010;  // MAPI_EXPLICIT_PROFILE
inline constexpr uint32_t kExtended = 0x00000020;         // MAPI_EXTENDED
inline constexpr uint32_t kUseDefault = 0x00000040;       // MAPI_USE_DEFAULT
inline constexpr uint32_t kForceDownload = 0x00001000;    // MAPI_FORCE_DOWNLOAD
inline constexpr uint32_t kServiceUiAlways = 0x00002000;  // MAPI_SERVICE_UI_ALWAYS
inline constexpr uint32_t kNoMail = 0x00008000;           // MAPI_NO_MAIL
inline constexpr uint32_t kNtService = 0x00010000;        // MAPI_NT_SERVICE
inline constexpr uint32_t kPasswordUi = 0x00020000;       // MAPI_PASSWORD_UI
inline constexpr uint32_t kTimeoutShort = 0x00100000;     // MAPI_TIMEOUT_SHORT
inline constexpr uint32_t kBgSession = 0x00200000;        // MAPI_BG_SESSION
inline constexpr uint32_t kUnicode = 0x80000000;          // MAPI_UNICODE
inline constexpr uint32_t kAll = kLogonUi | kNewSession | kAppProfile | kAllowOthers | kExplicitProfile |
                                 kExtended | kUseDefault | kForceDownload | kServiceUiAlways | kNoMail |
                                 kNtService | kPasswordUi | kTimeoutShort | kBgSession | kUnicode;
}  // namespace logon_flag

// The SCODEs the session core returns (mapicode.h values).
namespace session_scode {
inline constexpr int32_t kOk = 0;
inline constexpr int32_t kCallFailed = int32_t(0x80004005);        // MAPI_E_CALL_FAILED
inline constexpr int32_t kInvalidParameter = int32_t(0x80070057);  // MAPI_E_INVALID_PARAMETER
inline constexpr int32_t kNoAccess = int32_t(0x80070005);          // MAPI_E_NO_ACCESS
inline constexpr int32_t kNotFound = int32_t(0x8004010F);          // MAPI_E_NOT_FOUND
inline constexpr int32_t kLogonFailed = int32_t(0x80040111);       // MAPI_E_LOGON_FAILED
inline constexpr int32_t kSessionLimit = int32_t(0x80040112);      // MAPI_E_SESSION_LIMIT
inline constexpr int32_t kUserCancel = int32_t(0x80040113);        // MAPI_E_USER_CANCEL
inline constexpr int32_t kEndOfSession = int32_t(0x80040200);      // MAPI_E_END_OF_SESSION
inline constexpr int32_t kTimeout = int32_t(0x80040401);           // MAPI_E_TIMEOUT
inline constexpr int32_t kUnknownFlags = int32_t(0x80040106);      // MAPI_E_UNKNOWN_FLAGS
inline constexpr int32_t kUnconfigured = int32_t(0x8004011C);      // MAPI_E_UNCONFIGURED
inline constexpr int32_t kCorruptData = int32_t(0x8004011B);       // MAPI_E_CORRUPT_DATA
}  // namespace session_scode

// PR_STATUS_CODE bits of the status table (pidtagstatuscode-canonical-property.md).
inline constexpr uint32_t kStatusAvailable = 0x00000001;  // STATUS_AVAILABLE
inline constexpr uint32_t kStatusOffline = 0x00000002;    // STATUS_OFFLINE
inline constexpr uint32_t kStatusFailure = 0x00000004;    // STATUS_FAILURE
// PR_RESOURCE_TYPE of the status table's MAPI rows (mapix.h).
inline constexpr uint32_t kMapiSpooler = 37;    // MAPI_SPOOLER
inline constexpr uint32_t kMapiSubsystem = 39;  // MAPI_SUBSYSTEM
// PR_RESOURCE_FLAGS of a store provider (pidtagresourceflags-canonical-property.md).
inline constexpr uint32_t kStatusDefaultStore = 0x00000002;  // STATUS_DEFAULT_STORE

struct SessionStatus {
  int32_t scode = session_scode::kOk;
  std::string detail;
  bool ok() const { return scode == session_scode::kOk; }
  static SessionStatus error(int32_t scode, std::string detail) { return {scode, std::move(detail)}; }
};

// ---------------------------------------------------------------------------
// Provider logon: how a message service's provider logs on to a session.
// pstkit's PST services ("MSUPST MS", "MSPST MS", "PSTKIT OST") are served
// by a built-in function that opens the file at PR_PST_PATH with pstkit's
// reader and checks the store password; other providers are looked up by
// their catalog section name in a registry (register_provider_logon).

struct ProviderLogonContext {
  std::string profile;      // the profile's name
  // The service and provider as configured in the profile (valid for the call).
  const MessageService* service = nullptr;
  const Provider* provider = nullptr;
  uint32_t logon_flags = 0;  // MAPILogonEx's flags
  uintptr_t ui_param = 0;
  int attempt = 1;           // 1, or 2 for the retry (mapi-sessions.md)
  bool may_prompt = false;   // MAPI_LOGON_UI: any question may be asked
  bool may_prompt_password = false;  // MAPI_LOGON_UI or MAPI_PASSWORD_UI
  // Sessions in this process in which this provider (by catalog section) is
  // logged on now, for providers that enforce a session limit.
  int active_sessions = 0;
};

// What a store provider reports once logged on.
struct ProviderLogonInfo {
  std::string display_name;  // the store's PR_DISPLAY_NAME
  ProviderUid record_key{};  // the store's PR_RECORD_KEY (its entry IDs' provider UID)
  std::string store_path;    // the file, for PST stores ("" otherwise)
  bool unicode = true;       // PST: a Unicode store
  // A provider object loaded from the provider's library (its
  // MSProviderInit, ABProviderInit or XPProviderInit), held by the session
  // until it ends; dropping the last reference shuts the provider down.
  std::shared_ptr<void> provider_object;
};

using ProviderLogonFn = std::function<SessionStatus(const ProviderLogonContext&, ProviderLogonInfo*)>;

// Registers (or, with an empty function, removes) the logon function of the
// providers whose catalog section is `provider_section` ("MSUPST MSP" for
// the built-in Unicode PST provider). A registered function replaces the
// built-in one. Thread-safe.
void register_provider_logon(const std::string& provider_section, ProviderLogonFn fn);

// The built-in PST provider logon: PR_PST_PATH must name a file that opens as
// a store; a store with a password (PidTagPstPassword, the MS-PST 5.3 CRC of
// the password) needs it: PR_PST_PW_SZ_OLD of the section, else a password
// given through the UI (MAPI_LOGON_UI or MAPI_PASSWORD_UI) on the retry.
SessionStatus pst_provider_logon(const ProviderLogonContext& context, ProviderLogonInfo* info);

// Logs on a provider that names its own library (PR_PROVIDER_DLL_NAME) and
// has no registered logon function: loads the library and calls its entry
// point for `resource_type`, leaving the provider object in
// info->provider_object. Installed by the MAPI runtime (src/mapi); without
// one such providers fail to log on. Returns the previous loader.
using ProviderLibraryLoader = std::function<SessionStatus(const ProviderLogonContext&, const std::string& dll_name,
                                                          uint32_t resource_type, ProviderLogonInfo*)>;
ProviderLibraryLoader set_provider_library_loader(ProviderLibraryLoader loader);

// Sessions of this process in which the provider of catalog section
// `provider_section` is logged on now.
int provider_sessions(const std::string& provider_section);

// ---------------------------------------------------------------------------
// A session.

// One row of the status table: a provider of the profile.
struct SessionProvider {
  ProviderUid service_uid{};   // PR_SERVICE_UID (a MAPIUID, as MapiUid)
  ProviderUid provider_uid{};  // PR_PROVIDER_UID
  std::string service_name;     // "MSUPST MS"
  std::string service_display;  // the service's PR_DISPLAY_NAME
  std::string provider_section;  // "MSUPST MSP"
  std::string provider_display;  // PR_PROVIDER_DISPLAY
  std::string dll_name;          // PR_PROVIDER_DLL_NAME
  uint32_t resource_type = 0;    // PR_RESOURCE_TYPE
  uint32_t resource_flags = 0;   // PR_RESOURCE_FLAGS
  bool logged_on = false;
  bool disabled = false;         // its service failed twice: disabled for the session
  std::string failure;           // why, when disabled
  ProviderLogonInfo logon;       // when logged on
  Bytes store_entry_id;          // a logged-on store's PR_ENTRYID (store_entry_id())
};

// MAPI's wrapped store entry ID of a PST store (wrapstoreentryid.md, the
// MS-OXCDATA 2.2.4.3 store object EntryID with the PST provider's data):
// flags (4, zero), MUIDSTOREWRAP, version 0, flag 0, "mspst.dll\0", then
// the PST provider's UID, a reserved zero byte, the path in 8 bits (bytes
// outside ASCII as '?') with its NUL, and the path in UTF-16LE with its NUL.
Bytes store_entry_id(const std::string& path);
// The same wrapping for any store provider: flags, MUIDSTOREWRAP, version,
// flag, `dll_name` with its NUL, then the provider's own data (for a
// third-party store pstkit uses its PR_PROVIDER_UID).
Bytes wrapped_store_entry_id(const std::string& dll_name, ByteView provider_data);
// True when `entry_id` has the wrapped store entry ID form (any provider).
bool is_store_entry_id(ByteView entry_id);

class SessionCore;

// One client's hold on a session (a MAPILogonEx result): its own flags,
// the shared core. After logoff every call fails with MAPI_E_END_OF_SESSION.
class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint32_t logon_flags() const { return flags_; }
  bool shared() const;             // the shared session (MAPI_ALLOW_OTHERS)
  bool joined_shared() const { return joined_; }  // this logon joined an existing shared session
  const std::string& profile() const;
  const std::string& profile_id() const;  // the profile's id: stable across renames
  bool ended() const;              // logged off (by this member, or the shared session ended)

  // Snapshot of the providers (the status table's provider rows).
  std::vector<SessionProvider> providers() const;
  // Index into providers() of the default store, if a store is logged on.
  std::optional<size_t> default_store() const;
  // SetDefaultStore for the session (MAPI_DEFAULT_STORE): the store whose
  // entry ID this is. kNotFound when no logged-on store has it.
  SessionStatus set_default_store(ByteView entry_id);
  // The logged-on store provider with this store entry ID, or with this
  // record key (the provider UID of the PST entry IDs of its objects).
  std::optional<SessionProvider> find_store(ByteView store_entry_id) const;
  std::optional<SessionProvider> find_store_by_record_key(const ProviderUid& record_key) const;

  // Ends this member's hold (IMAPISession::Logoff). With `end_shared`
  // (MAPI_LOGOFF_SHARED) a shared session ends for every member; otherwise
  // the core ends when its last member logs off. Idempotent.
  void logoff(bool end_shared);

  // Session-level listeners for the end of the session and for critical
  // errors (fnevCriticalError): called with the SCODE and a message.
  using EventListener = std::function<void(int32_t scode, const std::string& message)>;
  uint64_t add_listener(EventListener listener);
  void remove_listener(uint64_t id);

 private:
  friend struct SessionAccess;
  Session(std::shared_ptr<SessionCore> core, uint32_t flags, bool joined);
  std::shared_ptr<SessionCore> core_;
  uint32_t flags_ = 0;
  bool joined_ = false;
  bool logged_off_ = false;
};

struct LogonRequest {
  std::optional<std::string> profile;  // nullopt: NULL; "" is treated as NULL
  std::optional<std::string> password;  // mapilogonex.md: must be NULL ("" tolerated)
  uint32_t flags = logon_flag::kExtended;
  uintptr_t ui_param = 0;
  // Where the profiles are (tests); nullopt: default_profile_dir().
  std::optional<std::string> profile_dir;
};

// MAPILogonEx without COM. On success *out holds a new member of a new or
// the shared session. Errors: MAPI_E_UNKNOWN_FLAGS, MAPI_E_LOGON_FAILED (bad
// parameters, no or unknown profile without UI, no service logged on),
// MAPI_E_USER_CANCEL, MAPI_E_TIMEOUT, MAPI_E_SESSION_LIMIT.
SessionStatus logon(const LogonRequest& request, std::unique_ptr<Session>* out);

// How long MAPI_TIMEOUT_SHORT waits for another logon ("a few seconds",
// mapilogonex.md): 3 s unless changed (tests shorten it). Returns the old value.
std::chrono::milliseconds set_short_logon_timeout(std::chrono::milliseconds timeout);

}  // namespace pstkit::mapi
