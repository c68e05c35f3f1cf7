// The logon and configuration UI of pstkit's MAPI runtime.
//
// On Windows, MAPI shows dialogs parented to the window handle a client
// passes as ulUIParam (MAPI_LOGON_UI, MAPI_PASSWORD_UI, SERVICE_UI_ALWAYS,
// MAPI_DIALOG). pstkit has no windows: an application installs a UI
// callback instead, and every prompt MAPI would show goes through it. The
// `pstkit` CLI installs a terminal prompt. Without a callback, a call that
// would need to ask fails as MAPI documents for a call made without its UI
// flag (e.g. MAPILogonEx: MAPI_E_LOGON_FAILED; a service configuration that
// lacks a required property: MAPI_E_UNCONFIGURED).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pstkit/mapi/mapinix.h"

namespace pstkit::mapi {

struct UiRequest {
  enum class Kind {
    kChooseProfile,    // MAPILogonEx without a profile name: choose one of `choices`
    kProfilePassword,  // the password of `profile`
    kServiceSetting,   // a value a service needs (`property` names it, e.g. "PR_PST_PATH")
    kServicePassword,  // a store's password (e.g. a password-protected PST)
  };
  Kind kind = Kind::kChooseProfile;
  ULONG_PTR ui_param = 0;        // the ulUIParam the client passed, unchanged
  std::string profile;           // the profile concerned, if any
  std::string service;           // the service's display name, if any
  std::string property;          // kServiceSetting: the property asked for
  std::string prompt;            // one line a person can answer
  std::vector<std::string> choices;  // kChooseProfile: the profiles; else empty
  std::string current;           // the current or default value, if any
  bool secret = false;           // a password: do not echo
};

// Returns the answer, or nullopt when the user cancels (MAPI_E_USER_CANCEL).
using UiCallback = std::function<std::optional<std::string>(const UiRequest&)>;

// Installs the process-wide UI callback (an empty function removes it) and
// returns the previous one. Thread-safe; the callback may be called from
// any thread that makes a MAPI call with a UI flag, one call at a time.
UiCallback set_ui_callback(UiCallback callback);

// True when a UI callback is installed.
bool has_ui();

// Asks through the installed callback: nullopt when there is none or the
// user cancelled (`cancelled` tells which, when not null).
std::optional<std::string> ask_ui(const UiRequest& request, bool* cancelled = nullptr);

}  // namespace pstkit::mapi
