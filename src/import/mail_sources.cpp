// Recognising import sources.
#include "import/mail_sources.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "import/mbox_reader.h"
#include "import/mime_text.h"
#include "pstkit/utf.h"

namespace pstkit::mime {

namespace {

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// RFC 5322 field name: printable ASCII except ':'.
bool is_header_line(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 76) return false;
  for (size_t i = 0; i < colon; ++i) {
    const char c = line[i];
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

}  // namespace

bool looks_like_message(std::string_view head) {
  static const char* const kFields[] = {"from:",       "date:",         "subject:",    "to:",
                                        "received:",   "message-id:",   "mime-version:", "return-path:",
                                        "delivered-to:", "sender:",     "content-type:", "x-mailer:"};
  size_t pos = 0;
  bool first = true, known = false;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    const bool complete = eol != std::string_view::npos;
    if (!complete) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    const bool continuation = line[0] == ' ' || line[0] == '\t';
    if (!continuation) {
      if (!is_header_line(line)) {
        if (first || complete) return false;  // a cut-off last line is fine
        break;
      }
      for (const char* f : kFields) {
        if (istarts_with(line, f)) known = true;
      }
    } else if (first) {
      return false;
    }
    first = false;
    pos = eol + 1;
  }
  return known;
}

Result<SourceInfo> classify_source(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::io_error(path + ": " + std::strerror(errno));
  SourceInfo info;
  if (S_ISDIR(st.st_mode)) {
    if (::access(path.c_str(), R_OK | X_OK) != 0) return Status::io_error(path + ": " + std::strerror(errno));
    info.kind = is_dir(path + "/cur") && is_dir(path + "/new") ? SourceKind::kMaildir : SourceKind::kDirectory;
    return info;
  }
  if (!S_ISREG(st.st_mode)) return Status::invalid_argument(path + ": neither a file nor a directory");
  info.size = uint64_t(st.st_size);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(path + ": " + std::strerror(errno));
  std::string head(4096, '\0');
  ssize_t n;
  do {
    n = ::read(fd, head.data(), head.size());
  } while (n < 0 && errno == EINTR);
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) return Status::io_error(path + ": " + std::strerror(read_errno));
  head.resize(size_t(n));
  if (MboxReader::looks_like_mbox(head)) {
    info.kind = SourceKind::kMbox;
  } else if (looks_like_message(head)) {
    info.kind = SourceKind::kEml;
  }
  return info;
}

MailFlags maildir_flags(std::string_view filename, bool in_new) {
  MailFlags flags;
  flags.read = false;
  size_t info = filename.rfind(":2,");
  if (info == std::string_view::npos) info = filename.rfind("!2,");
  if (info == std::string_view::npos || in_new) return flags;
  const std::string_view letters = filename.substr(info + 3);
  flags.read = letters.find('S') != std::string_view::npos;
  flags.answered = letters.find('R') != std::string_view::npos;
  flags.flagged = letters.find('F') != std::string_view::npos;
  flags.draft = letters.find('D') != std::string_view::npos;
  return flags;
}

namespace {

// IMAP modified UTF-7: "&" base64 (with ',' for '/') of UTF-16BE "-";
// "&-" is '&'. Anything malformed is kept as written.
std::string decode_modified_utf7(std::string_view s) {
  static const std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '&') {
      out.push_back(s[i++]);
      continue;
    }
    const size_t end = s.find('-', i + 1);
    if (end == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    if (end == i + 1) {
      out.push_back('&');
      i = end + 1;
      continue;
    }
    Bytes utf16be;
    uint32_t bits = 0;
    int nbits = 0;
    bool ok = true;
    for (size_t k = i + 1; k < end; ++k) {
      const size_t v = kAlphabet.find(s[k]);
      if (v == std::string_view::npos) {
        ok = false;
        break;
      }
      bits = (bits << 6) | uint32_t(v);
      nbits += 6;
      if (nbits >= 8) {
        nbits -= 8;
        utf16be.push_back(uint8_t(bits >> nbits));
      }
    }
    if (ok) {
      out += utf16be_to_utf8(utf16be);
    } else {
      out.append(s.substr(i, end + 1 - i));
    }
    i = end + 1;
  }
  return sanitize_utf8(out);
}

}  // namespace

std::vector<std::string> maildir_folder_path(std::string_view dirname) {
  std::vector<std::string> path;
  if (!dirname.empty() && dirname[0] == '.') dirname.remove_prefix(1);
  size_t pos = 0;
  while (pos <= dirname.size()) {
    size_t dot = dirname.find('.', pos);
    if (dot == std::string_view::npos) dot = dirname.size();
    const std::string part = decode_modified_utf7(dirname.substr(pos, dot - pos));
    if (!part.empty()) path.push_back(part);
    pos = dot + 1;
  }
  return path;
}

Result<std::vector<std::string>> sorted_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Status::io_error(dir + ": " + std::strerror(errno));
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  const int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) return Status::io_error(dir + ": " + std::strerror(read_errno));
  std::sort(names.begin(), names.end());
  return names;
}

uint64_t total_file_bytes(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return 0;
  if (std::filesystem::is_regular_file(status)) {
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? 0 : uint64_t(size);
  }
  if (!std::filesystem::is_directory(status)) return 0;
  uint64_t total = 0;
  std::filesystem::recursive_directory_iterator it(path, std::filesystem::directory_options::skip_permission_denied, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) {
      const auto size = it->file_size(fec);
      if (!fec) total += uint64_t(size);
    }
  }
  return total;
}

}  // namespace pstkit::mime
