// The FastShutdownBehavior policy of fast shutdown (fast_shutdown.h,
// docs/MAPI.md "Fast shutdown"): where it is read from and how. Internal to
// src/mapi; free of the MAPI headers (mapinix.h's LOCK_WRITE would clash
// with <fcntl.h>).
#pragma once

#include <string>
#include <string_view>

namespace pstkit::mapi::capi {

// ---- FastShutdownBehavior (fast-shutdown-user-options.md) -------------------
enum class FastShutdownPolicy : int {
  kOnUnlessOptOut = 0,  // on unless a provider returns an error from QueryFastShutdown
  kOnlyIfAllOptIn = 1,  // on only if every provider implements the interface and says S_OK
  kOff = 2,             // off: MAPI_E_NO_SUPPORT, no provider is called
};

struct PolicyReading {
  FastShutdownPolicy policy = FastShutdownPolicy::kOnUnlessOptOut;
  std::string path;  // the file read (or looked for)
  std::string note;  // why the default was used, if a value was bad or the file unreadable
};

// The policy file: $PSTKIT_POLICY_FILE when set and not empty, else
// /etc/pstkit/policy.conf.
std::string shutdown_policy_path();
// Parses a policy file's text: an INI file whose section [Shutdown] (names
// of sections and keys compare without case) may hold FastShutdownBehavior
// = 0, 1 or 2 (decimal, or hexadecimal with 0x, as a REG_DWORD is written).
// Lines starting with ';' or '#' are comments; the last value wins. A value
// that is not 0, 1 or 2 is ignored as Windows ignores a policy value of the
// wrong type: the default, 0, with a note saying why.
PolicyReading parse_shutdown_policy(std::string_view text, std::string path);
// Reads the policy file: a missing file is the default (0); a file that
// cannot be read, or is larger than 64 KiB, is the default with a note.
PolicyReading read_shutdown_policy();

}  // namespace pstkit::mapi::capi
