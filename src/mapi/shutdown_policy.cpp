// The FastShutdownBehavior policy (fast-shutdown-user-options.md). Windows
// keeps it in the registry, under the Outlook policy key's Options\Shutdown
// (HKCU\Software\Policies\Microsoft\Office\<version>\Outlook); Linux
// software reads administrators' policy from a file under /etc, so pstkit
// reads /etc/pstkit/policy.conf, section [Shutdown].
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "mapi/ascii_text.h"
#include "mapi/shutdown_policy.h"

namespace pstkit::mapi::capi {
namespace {

constexpr size_t kMaxPolicyBytes = 64 * 1024;

// 0, 1 or 2 written in decimal or as 0x hexadecimal (leading zeros allowed).
std::optional<int> policy_value(std::string_view v) {
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v.remove_prefix(2);
  }
  if (v.empty() || v.size() > 10) return std::nullopt;
  unsigned long n = 0;
  for (char c : v) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) return std::nullopt;
    n = n * unsigned(base) + unsigned(d);
  }
  if (n > 2) return std::nullopt;
  return int(n);
}

}  // namespace

std::string shutdown_policy_path() {
  const char* env = std::getenv("PSTKIT_POLICY_FILE");
  if (env != nullptr && *env != '\0') return env;
  return "/etc/pstkit/policy.conf";
}

PolicyReading parse_shutdown_policy(std::string_view text, std::string path) {
  PolicyReading out;
  out.path = std::move(path);
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  bool in_shutdown = false;
  uint32_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line[0] == '[') {
      in_shutdown = line.back() == ']' && ascii_iequals(trim(line.substr(1, line.size() - 2)), "Shutdown");
      continue;
    }
    if (!in_shutdown) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || !ascii_iequals(trim(line.substr(0, eq)), "FastShutdownBehavior")) continue;
    std::string_view value = trim(line.substr(eq + 1));
    if (auto v = policy_value(value)) {
      out.policy = FastShutdownPolicy(*v);
      out.note.clear();
    } else {
      out.policy = FastShutdownPolicy::kOnUnlessOptOut;
      out.note = out.path + ":" + std::to_string(line_no) + ": FastShutdownBehavior=" +
                 std::string(value.substr(0, 40)) + " is not 0, 1 or 2; the default 0 applies";
    }
  }
  return out;
}

PolicyReading read_shutdown_policy() {
  const std::string path = shutdown_policy_path();
  PolicyReading fallback;
  fallback.path = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT) fallback.note = path + ": " + std::strerror(errno) + "; the default 0 applies";
    return fallback;
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fallback.note = path + ": " + std::strerror(errno) + "; the default 0 applies";
      ::close(fd);
      return fallback;
    }
    if (n == 0) break;
    text.append(buf, size_t(n));
    if (text.size() > kMaxPolicyBytes) {
      ::close(fd);
      fallback.note = path + ": larger than 64 KiB, not a policy file; the default 0 applies";
      return fallback;
    }
  }
  ::close(fd);
  return parse_shutdown_policy(text, path);
}

}  // namespace pstkit::mapi::capi
