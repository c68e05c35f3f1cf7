// The process-wide UI callback (include/pstkit/mapi_ui.h).
#include "pstkit/mapi_ui.h"

#include <mutex>
#include <utility>

namespace pstkit::mapi {
namespace {

struct UiState {
  std::mutex mutex;        // guards `callback`
  std::mutex asking;       // one prompt at a time
  UiCallback callback;
};

UiState& state() {
  static UiState* s = new UiState;  // never destroyed: usable from static destructors
  return *s;
}

}  // namespace

UiCallback set_ui_callback(UiCallback callback) {
  UiState& s = state();
  std::lock_guard lock(s.mutex);
  std::swap(s.callback, callback);
  return callback;
}

bool has_ui() {
  UiState& s = state();
  std::lock_guard lock(s.mutex);
  return static_cast<bool>(s.callback);
}

std::optional<std::string> ask_ui(const UiRequest& request, bool* cancelled) {
  UiState& s = state();
  UiCallback callback;
  {
    std::lock_guard lock(s.mutex);
    callback = s.callback;
  }
  if (cancelled != nullptr) *cancelled = false;
  if (!callback) return std::nullopt;
  std::lock_guard asking(s.asking);
  std::optional<std::string> answer = callback(request);
  if (!answer && cancelled != nullptr) *cancelled = true;
  return answer;
}

}  // namespace pstkit::mapi
