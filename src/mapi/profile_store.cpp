// The persistent profile store: DIR/profiles.json, updated read-modify-write
// under an exclusive flock on DIR/profiles.lock and replaced atomically
// (temporary file, fsync, rename, fsync of the directory). Sessions mark a
// profile in use with an OFD read lock on DIR/sessions/ID.use, which the
// kernel drops when the process ends, so a dead process never keeps a
// profile from being deleted (iprofadmin-deleteprofile.md).
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "pstkit/mapi_profiles.h"
#include "pstkit/ndb.h"
#include "pstkit/store_writer.h"

namespace pstkit::mapi {

namespace {

constexpr const char* kFileName = "profiles.json";
constexpr const char* kLockName = "profiles.lock";
constexpr const char* kSessionsDir = "sessions";

Status errno_status(const std::string& what) { return Status::io_error(what + ": " + std::strerror(errno)); }

// mkdir -p with mode 0700 for what it creates.
Status make_dirs(const std::string& dir) {
  std::string path;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    path = dir.substr(0, pos);
    if (path.empty()) continue;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return errno_status("creating " + path);
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return errno_status(dir);
  if (!S_ISDIR(st.st_mode)) return Status::invalid_argument(dir + ": not a directory");
  return Status::ok();
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

// Takes the store's exclusive lock, polling until `wait` has passed.
Result<std::unique_ptr<Fd>> lock_store(const std::string& dir, std::chrono::milliseconds wait) {
  const std::string path = dir + "/" + kLockName;
  auto fd = std::make_unique<Fd>(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd->get() < 0) return errno_status("opening " + path);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = std::chrono::microseconds(200);
  while (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return errno_status("locking " + path);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::busy(path + ": another process holds the profile lock (waited " +
                          std::to_string(wait.count()) + " ms)");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  return fd;
}

Result<ProfileFile> read_profile_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return ProfileFile{};
    return errno_status("opening " + path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status(path);
  if (!S_ISREG(st.st_mode)) {
    return Status::corrupt("profile file " + path, Status::kNoOffset, "not a regular file");
  }
  std::string text;
  char buf[65536];
  while (text.size() <= kMaxProfileFileBytes) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("reading " + path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return parse_profile_file(text, path);
}

Status write_all(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("writing " + path);
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

// Replaces `path` by `data`: a reader sees the old or the new file, never
// a mix, and after a crash the one or the other is on disk.
Status replace_file(const std::string& dir, const std::string& path, const std::string& data) {
  const std::string tmp = dir + "/.profiles.json." + std::to_string(::getpid()) + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return errno_status("creating " + tmp);
  Status s = write_all(fd.get(), data, tmp);
  if (s.is_ok() && ::fsync(fd.get()) != 0) s = errno_status("fsync " + tmp);
  if (s.is_ok() && ::close(fd.release()) != 0) s = errno_status("closing " + tmp);
  if (s.is_ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = errno_status("renaming " + tmp + " to " + path);
  if (!s.is_ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0 || ::fsync(dfd.get()) != 0) return errno_status("fsync " + dir);
  return Status::ok();
}

std::string use_path(const std::string& dir, const std::string& id) {
  return dir + "/" + kSessionsDir + "/" + id + ".use";
}

// OFD lock on byte 0 of `fd`; false when another open file description
// holds a conflicting one.
bool ofd_lock(int fd, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  while (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

// True when some session holds profile `id` (its OFD read lock). When it
// is free and `remove` is set, the use file is removed.
Result<bool> profile_in_use(const std::string& dir, const std::string& id, bool remove) {
  const std::string path = use_path(dir, id);
  Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return false;  // never used
    return errno_status("opening " + path);
  }
  if (!ofd_lock(fd.get(), F_WRLCK)) {
    if (errno == EAGAIN || errno == EACCES) return true;
    return errno_status("locking " + path);
  }
  if (remove) ::unlink(path.c_str());
  return false;
}

bool is_pst_service(const std::string& name) { return name == "MSUPST MS" || name == "MSPST MS"; }
bool is_ost_service(const std::string& name) { return name == "PSTKIT OST"; }

// Applies what waited for the profile's last user: deletion, renaming.
Result<bool> collect(const std::string& dir, ProfileFile& file) {
  bool changed = false;
  for (size_t i = 0; i < file.profiles.size();) {
    Profile& p = file.profiles[i];
    if (!p.delete_pending && p.rename_pending.empty()) {
      ++i;
      continue;
    }
    PSTKIT_ASSIGN_OR_RETURN(bool busy, profile_in_use(dir, p.id, p.delete_pending));
    if (busy) {
      ++i;
      continue;
    }
    changed = true;
    if (p.delete_pending) {
      file.profiles.erase(file.profiles.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (same_profile_name(file.default_profile, p.name)) file.default_profile = p.rename_pending;
    p.name = p.rename_pending;
    p.rename_pending.clear();
    ++i;
  }
  return changed;
}

Status not_found_profile(const std::string& name) { return Status::not_found("no profile '" + name + "'"); }

Result<Profile*> find_profile(ProfileFile& file, const std::string& name) {
  Profile* p = file.find(name);
  if (!p) return not_found_profile(name);
  return p;
}

Status not_found_service(const std::string& profile, const MapiUid& uid) {
  return Status::not_found("profile '" + profile + "' has no message service " + uid_hex(uid));
}

// Gives a copied service and its providers new section UIDs.
void renew_uids(MessageService& s) {
  s.uid = new_uid();
  const std::vector<uint8_t> sbytes(s.uid.begin(), s.uid.end());
  (void)s.props.set(SectionProp::binary_value(tags::kServiceUid, sbytes));
  for (auto& q : s.providers) {
    q.uid = new_uid();
    (void)q.props.set(SectionProp::binary_value(tags::kServiceUid, sbytes));
    (void)q.props.set(SectionProp::binary_value(tags::kProviderUid, std::vector<uint8_t>(q.uid.begin(), q.uid.end())));
  }
}

bool is_single_copy(const MessageService& s) { return (s.resource_flags() & kServiceSingleCopy) != 0; }

bool has_service_named(const Profile& p, const std::string& name) {
  for (const auto& s : p.services) {
    if (s.name == name) return true;
  }
  return false;
}

// The store file a PST/OST service points to, after configuration.
Result<bool> check_store_path(const MessageService& s, bool create_missing) {
  auto path = s.props.get_string(prop_id(tags::kPstPath));
  if (!path || path->empty()) {
    return Status::invalid_argument("service " + s.name + " needs PR_PST_PATH (the store file)");
  }
  if ((*path)[0] != '/') return Status::invalid_argument("PR_PST_PATH '" + *path + "' is not an absolute path");
  struct stat st;
  if (::stat(path->c_str(), &st) == 0) {
    PSTKIT_ASSIGN_OR_RETURN(std::string kind, store_service_for_file(*path));
    // The Unicode PST service also opens ANSI files (as Outlook's does) and,
    // read-only, OSTs; the ANSI service opens only ANSI files.
    const bool opens = kind == s.name || (s.name == "MSUPST MS" && (kind == "MSPST MS" || kind == "PSTKIT OST"));
    if (!opens) {
      return Status::invalid_argument(*path + ": a store for service " + kind + ", not " + s.name);
    }
    return false;
  }
  if (errno != ENOENT) return errno_status(*path);
  if (is_ost_service(s.name)) return Status::not_found(*path + ": no such file (an OST is never created)");
  if (!create_missing) {
    return Status::not_found(*path + ": no such file (PST_CONFIG_CREATE_NOWARN in PR_PST_CONFIG_FLAGS creates it)");
  }
  NewStoreOptions options;
  options.format = s.name == "MSPST MS" ? ndb::FileFormat::kAnsi : ndb::FileFormat::kUnicode;
  if (auto name = s.props.get_string(prop_id(tags::kDisplayName)); name && !name->empty()) options.display_name = *name;
  PSTKIT_ASSIGN_OR_RETURN(auto writer, StoreWriter::create(*path, options));
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------

Result<std::string> store_service_for_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status(path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status(path);
  if (!S_ISREG(st.st_mode)) return Status::invalid_argument(path + ": not a regular file");
  uint8_t head[1024];
  size_t got = 0;
  while (got < sizeof head) {
    ssize_t n = ::read(fd.get(), head + got, sizeof head - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("reading " + path);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  auto header = ndb::parse_header(ByteView(head, got), static_cast<uint64_t>(st.st_size));
  if (!header.is_ok()) return Status::invalid_argument(path + ": not a PST or OST file (" + header.status().message() + ")");
  if (header->magic_client == 0x4F53) return std::string("PSTKIT OST");  // "SO"
  if (header->magic_client != 0x4D53) return Status::invalid_argument(path + ": neither a PST nor an OST file");
  return std::string(header->format == ndb::FileFormat::kAnsi ? "MSPST MS" : "MSUPST MS");
}

Result<std::string> default_profile_dir() {
  if (const char* env = std::getenv("PSTKIT_PROFILE_DIR"); env && *env) return std::string(env);
  // XDG Base Directory: a relative $XDG_CONFIG_HOME is invalid and ignored.
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && xdg[0] == '/') return std::string(xdg) + "/pstkit";
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    struct passwd* pw = ::getpwuid(::getuid());
    home = pw ? pw->pw_dir : nullptr;
  }
  if (!home || !*home) {
    return Status::not_found("no profile directory: set PSTKIT_PROFILE_DIR, XDG_CONFIG_HOME or HOME");
  }
  return std::string(home) + "/.config/pstkit";
}

Result<ProfileStore> ProfileStore::open(const std::string& dir, StoreOptions options) {
  if (dir.empty()) return Status::invalid_argument("empty profile directory");
  PSTKIT_RETURN_IF_ERROR(make_dirs(dir));
  PSTKIT_RETURN_IF_ERROR(make_dirs(dir + "/" + kSessionsDir));
  return ProfileStore(dir, options);
}

Result<ProfileStore> ProfileStore::open_default(StoreOptions options) {
  PSTKIT_ASSIGN_OR_RETURN(std::string dir, default_profile_dir());
  return open(dir, options);
}

std::string ProfileStore::file_path() const { return dir_ + "/" + kFileName; }

Result<ProfileFile> ProfileStore::read() const { return read_profile_file(file_path()); }

template <typename F>
Status ProfileStore::update(F&& change) {
  PSTKIT_ASSIGN_OR_RETURN(auto lock, lock_store(dir_, options_.lock_wait));
  // A file that does not parse is left alone: the error names it.
  PSTKIT_ASSIGN_OR_RETURN(ProfileFile file, read_profile_file(file_path()));
  PSTKIT_ASSIGN_OR_RETURN(bool collected, collect(dir_, file));
  Status s = change(file);
  if (!s.is_ok() && !collected) return s;
  if (!s.is_ok()) {
    // The change failed; what was collected is still written.
    PSTKIT_ASSIGN_OR_RETURN(ProfileFile fresh, read_profile_file(file_path()));
    PSTKIT_ASSIGN_OR_RETURN(bool again, collect(dir_, fresh));
    if (again) PSTKIT_RETURN_IF_ERROR(replace_file(dir_, file_path(), serialize_profile_file(fresh)));
    return s;
  }
  return replace_file(dir_, file_path(), serialize_profile_file(file));
}

Result<std::vector<ProfileRow>> ProfileStore::list() const {
  PSTKIT_ASSIGN_OR_RETURN(ProfileFile file, read());
  std::vector<ProfileRow> rows;
  for (const auto& p : file.profiles) {
    if (p.delete_pending) continue;
    rows.push_back({p.name, same_profile_name(p.name, file.default_profile)});
  }
  return rows;
}

Status ProfileStore::create_profile(const std::string& name, const std::string& password, bool app_profile) {
  PSTKIT_RETURN_IF_ERROR(check_profile_name(name));
  if (!password.empty()) {
    return Status::invalid_argument("profile passwords are not supported (the password must be empty)");
  }
  return update([&](ProfileFile& file) {
    if (file.name_taken(name)) return Status::already_exists("profile '" + name + "' exists");
    Profile p;
    p.name = name;
    p.id = uid_hex(new_uid());
    p.app_profile = app_profile;
    file.profiles.push_back(std::move(p));
    return Status::ok();
  });
}

Status ProfileStore::delete_profile(const std::string& name) {
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, name));
    if (same_profile_name(file.default_profile, p->name)) file.default_profile.clear();
    PSTKIT_ASSIGN_OR_RETURN(bool busy, profile_in_use(dir_, p->id, true));
    if (busy) {
      p->delete_pending = true;
      p->rename_pending.clear();
      return Status::ok();
    }
    file.profiles.erase(file.profiles.begin() + (p - file.profiles.data()));
    return Status::ok();
  });
}

Status ProfileStore::copy_profile(const std::string& name, const std::string& new_name) {
  PSTKIT_RETURN_IF_ERROR(check_profile_name(new_name));
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, name));
    if (file.name_taken(new_name)) return Status::already_exists("profile '" + new_name + "' exists");
    Profile copy = *p;
    copy.name = new_name;
    copy.id = uid_hex(new_uid());
    copy.rename_pending.clear();
    file.profiles.push_back(std::move(copy));
    return Status::ok();
  });
}

Status ProfileStore::rename_profile(const std::string& name, const std::string& new_name) {
  PSTKIT_RETURN_IF_ERROR(check_profile_name(new_name));
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, name));
    const bool case_only = same_profile_name(p->name, new_name);
    if (!case_only && file.name_taken(new_name)) return Status::already_exists("profile '" + new_name + "' exists");
    PSTKIT_ASSIGN_OR_RETURN(bool busy, profile_in_use(dir_, p->id, false));
    if (busy) {
      p->rename_pending = new_name;
      return Status::ok();
    }
    if (same_profile_name(file.default_profile, p->name)) file.default_profile = new_name;
    p->name = new_name;
    p->rename_pending.clear();
    return Status::ok();
  });
}

Status ProfileStore::set_default_profile(const std::string& name) {
  return update([&](ProfileFile& file) {
    if (name.empty()) {
      file.default_profile.clear();
      return Status::ok();
    }
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, name));
    if (p->app_profile) return Status::invalid_argument("an app profile cannot be the default");
    file.default_profile = p->name;
    return Status::ok();
  });
}

Status ProfileStore::change_password(const std::string& name, const std::string&, const std::string&) {
  PSTKIT_ASSIGN_OR_RETURN(ProfileFile file, read());
  if (!file.find(name)) return not_found_profile(name);
  return Status::ok();
}

Result<Profile> ProfileStore::get_profile(const std::string& name) const {
  PSTKIT_ASSIGN_OR_RETURN(ProfileFile file, read());
  const Profile* p = file.find(name);
  if (!p) return not_found_profile(name);
  return *p;
}

Result<MapiUid> ProfileStore::create_service(const std::string& profile, const std::string& service_name,
                                             const std::string& display_name, const Catalog& catalog) {
  const CatalogService* entry = catalog.find(service_name);
  if (!entry) return Status::not_found("no message service '" + service_name + "' in the catalog");
  MapiUid created{};
  PSTKIT_RETURN_IF_ERROR(update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    MessageService s;
    s.name = entry->name;
    s.props = entry->props;
    s.uid = new_uid();
    (void)s.props.set(SectionProp::string_value(tags::kServiceName, entry->name));
    (void)s.props.set(SectionProp::string_value(tags::kDisplayName,
                                              display_name.empty() ? entry->display_name : display_name));
    if (!s.props.find(prop_id(tags::kResourceFlags))) (void)s.props.set(SectionProp::long_value(tags::kResourceFlags, 0));
    if (is_single_copy(s) && has_service_named(*p, s.name)) {
      return Status::already_exists("service '" + s.name + "' allows one copy per profile and '" + p->name +
                                    "' has it");
    }
    for (const auto& cp : entry->providers) {
      Provider q;
      q.section = cp.section;
      q.props = cp.props;
      (void)q.props.set(SectionProp::string_value(tags::kServiceName, entry->name));
      s.providers.push_back(std::move(q));
    }
    renew_uids(s);
    created = s.uid;
    p->services.push_back(std::move(s));
    return Status::ok();
  }));
  return created;
}

Result<ConfigureResult> ProfileStore::configure_service(const std::string& profile, const MapiUid& service,
                                                        const std::vector<SectionProp>& props) {
  ConfigureResult result;
  for (const auto& v : props) {
    PSTKIT_RETURN_IF_ERROR(v.check());
    if (prop_id(v.tag) == prop_id(tags::kServiceUid) || prop_id(v.tag) == prop_id(tags::kProviderUid) ||
        prop_id(v.tag) == prop_id(tags::kServiceName)) {
      return Status::invalid_argument(tag_display_name(v.tag) + " names the section and cannot be set");
    }
  }
  PSTKIT_RETURN_IF_ERROR(update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    MessageService* s = p->find_service(service);
    if (!s) return not_found_service(profile, service);
    uint32_t config_flags = 0;
    for (const auto& v : props) {
      if (prop_id(v.tag) == prop_id(tags::kPstConfigFlags) && v.value.index() == 0)
        config_flags = static_cast<uint32_t>(std::get<int32_t>(v.value));
    }
    const bool store_service = is_pst_service(s->name) || is_ost_service(s->name);
    for (SectionProp v : props) {
      if (store_service && prop_id(v.tag) == prop_id(tags::kDisplayName) && (config_flags & 0x2) != 0)
        continue;  // PST_CONFIG_PRESERVE_DISPLAY_NAME
      if (store_service && prop_id(v.tag) == prop_id(tags::kPstConfigFlags)) {
        // CREATE_NOWARN is an instruction for this call, not a setting.
        v.value = static_cast<int32_t>(config_flags & ~kPstConfigCreateNowarn);
      }
      PSTKIT_RETURN_IF_ERROR(s->props.set(v));
      for (auto& q : s->providers) PSTKIT_RETURN_IF_ERROR(q.props.set(v));
    }
    if (store_service) {
      PSTKIT_ASSIGN_OR_RETURN(result.created_store, check_store_path(*s, (config_flags & kPstConfigCreateNowarn) != 0));
    }
    return Status::ok();
  }));
  return result;
}

Status ProfileStore::delete_service(const std::string& profile, const MapiUid& service) {
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    MessageService* s = p->find_service(service);
    if (!s) return not_found_service(profile, service);
    p->services.erase(p->services.begin() + (s - p->services.data()));
    return Status::ok();
  });
}

Status ProfileStore::rename_service(const std::string& profile, const MapiUid& service,
                                    const std::string& display_name) {
  if (display_name.empty()) return Status::invalid_argument("empty display name");
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    MessageService* s = p->find_service(service);
    if (!s) return not_found_service(profile, service);
    return s->props.set(SectionProp::string_value(tags::kDisplayName, display_name));
  });
}

Result<MapiUid> ProfileStore::copy_service(const std::string& from_profile, const MapiUid& service,
                                           const std::string& to_profile) {
  MapiUid created{};
  PSTKIT_RETURN_IF_ERROR(update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * from, find_profile(file, from_profile));
    const MessageService* s = from->find_service(service);
    if (!s) return not_found_service(from_profile, service);
    MessageService copy = *s;
    PSTKIT_ASSIGN_OR_RETURN(Profile * to, find_profile(file, to_profile));
    if (is_single_copy(copy) && has_service_named(*to, copy.name)) {
      return Status::already_exists("service '" + copy.name + "' allows one copy per profile and '" + to->name +
                                    "' has it");
    }
    renew_uids(copy);
    created = copy.uid;
    to->services.push_back(std::move(copy));
    return Status::ok();
  }));
  return created;
}

Result<std::vector<ServiceRow>> ProfileStore::service_table(const std::string& profile) const {
  PSTKIT_ASSIGN_OR_RETURN(Profile p, get_profile(profile));
  std::vector<ServiceRow> rows;
  for (const auto& s : p.services) {
    ServiceRow r;
    r.service_uid = s.uid;
    r.service_name = s.name;
    r.display_name = s.display_name();
    r.resource_flags = s.resource_flags();
    r.dll_name = s.props.get_string(prop_id(tags::kServiceDllName)).value_or("");
    r.entry_name = s.props.get_string(prop_id(tags::kServiceEntryName)).value_or("");
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<ProviderRow>> ProfileStore::provider_table(const std::string& profile,
                                                              const MapiUid* service) const {
  PSTKIT_ASSIGN_OR_RETURN(Profile p, get_profile(profile));
  if (service && !p.find_service(*service)) return not_found_service(profile, *service);
  std::vector<ProviderRow> rows;
  int32_t ordinal = 0;
  for (const auto& s : p.services) {
    for (const auto& q : s.providers) {
      ++ordinal;
      if (service && s.uid != *service) continue;
      ProviderRow r;
      r.provider_uid = q.uid;
      r.service_uid = s.uid;
      r.service_name = s.name;
      r.display_name = q.props.get_string(prop_id(tags::kDisplayName)).value_or("");
      r.provider_display = q.props.get_string(prop_id(tags::kProviderDisplay)).value_or("");
      r.dll_name = q.props.get_string(prop_id(tags::kProviderDllName)).value_or("");
      r.resource_type = static_cast<uint32_t>(q.props.get_long(prop_id(tags::kResourceType)).value_or(0));
      r.resource_flags = static_cast<uint32_t>(q.props.get_long(prop_id(tags::kResourceFlags)).value_or(0));
      r.ordinal = ordinal;
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

Result<PropBag> ProfileStore::section(const std::string& profile, const MapiUid& uid) const {
  PSTKIT_ASSIGN_OR_RETURN(Profile p, get_profile(profile));
  for (const auto& s : p.services) {
    if (s.uid == uid) return s.props;
    for (const auto& q : s.providers) {
      if (q.uid == uid) return q.props;
    }
  }
  return Status::not_found("profile '" + profile + "' has no section " + uid_hex(uid));
}

Status ProfileStore::set_section_props(const std::string& profile, const MapiUid& uid,
                                       const std::vector<SectionProp>& props) {
  for (const auto& v : props) {
    PSTKIT_RETURN_IF_ERROR(v.check());
    if (prop_id(v.tag) == prop_id(tags::kServiceUid) || prop_id(v.tag) == prop_id(tags::kProviderUid)) {
      return Status::invalid_argument(tag_display_name(v.tag) + " names the section and cannot be set");
    }
  }
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    PropBag* bag = nullptr;
    for (auto& s : p->services) {
      if (s.uid == uid) bag = &s.props;
      for (auto& q : s.providers) {
        if (q.uid == uid) bag = &q.props;
      }
    }
    if (!bag) return Status::not_found("profile '" + profile + "' has no section " + uid_hex(uid));
    for (const auto& v : props) PSTKIT_RETURN_IF_ERROR(bag->set(v));
    return Status::ok();
  });
}

Result<MapiUid> ProfileStore::create_provider(const std::string& profile, const MapiUid& service,
                                              const std::string& section, const Catalog& catalog,
                                              const std::vector<SectionProp>& props) {
  const CatalogProvider* entry = nullptr;
  for (const auto& cs : catalog.services) {
    for (const auto& cp : cs.providers) {
      if (cp.section == section && entry == nullptr) entry = &cp;
    }
  }
  if (!entry) return Status::not_found("no provider section '" + section + "' in the catalog");
  for (const auto& v : props) {
    PSTKIT_RETURN_IF_ERROR(v.check());
    if (prop_id(v.tag) == prop_id(tags::kServiceUid) || prop_id(v.tag) == prop_id(tags::kProviderUid)) {
      return Status::invalid_argument(tag_display_name(v.tag) + " names the section and cannot be set");
    }
  }
  MapiUid created{};
  PSTKIT_RETURN_IF_ERROR(update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    MessageService* s = p->find_service(service);
    if (!s) return Status::not_found("profile '" + profile + "' has no service " + uid_hex(service));
    Provider q;
    q.section = entry->section;
    q.props = entry->props;
    q.uid = new_uid();
    (void)q.props.set(SectionProp::string_value(tags::kServiceName, s->name));
    (void)q.props.set(SectionProp::binary_value(tags::kServiceUid, std::vector<uint8_t>(service.begin(), service.end())));
    (void)q.props.set(SectionProp::binary_value(tags::kProviderUid, std::vector<uint8_t>(q.uid.begin(), q.uid.end())));
    for (const auto& v : props) PSTKIT_RETURN_IF_ERROR(q.props.set(v));
    created = q.uid;
    s->providers.push_back(std::move(q));
    return Status::ok();
  }));
  return created;
}

Status ProfileStore::delete_provider(const std::string& profile, const MapiUid& provider) {
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    for (auto& s : p->services) {
      for (auto it = s.providers.begin(); it != s.providers.end(); ++it) {
        if (it->uid == provider) {
          s.providers.erase(it);
          return Status::ok();
        }
      }
    }
    return Status::not_found("profile '" + profile + "' has no provider " + uid_hex(provider));
  });
}

Status ProfileStore::delete_section_props(const std::string& profile, const MapiUid& uid,
                                          const std::vector<uint32_t>& prop_tags) {
  for (uint32_t t : prop_tags) {
    if (prop_id(t) == prop_id(tags::kServiceUid) || prop_id(t) == prop_id(tags::kProviderUid)) {
      return Status::invalid_argument(tag_display_name(t) + " names the section and cannot be deleted");
    }
  }
  return update([&](ProfileFile& file) {
    PSTKIT_ASSIGN_OR_RETURN(Profile * p, find_profile(file, profile));
    PropBag* bag = nullptr;
    for (auto& s : p->services) {
      if (s.uid == uid) bag = &s.props;
      for (auto& q : s.providers) {
        if (q.uid == uid) bag = &q.props;
      }
    }
    if (!bag) return Status::not_found("profile '" + profile + "' has no section " + uid_hex(uid));
    for (uint32_t t : prop_tags) bag->erase(prop_id(t));
    return Status::ok();
  });
}

Result<std::unique_ptr<ProfileUse>> ProfileStore::acquire_use(const std::string& profile) {
  // Under the store lock, so that no deletion decides "unused" in between.
  PSTKIT_ASSIGN_OR_RETURN(auto lock, lock_store(dir_, options_.lock_wait));
  PSTKIT_ASSIGN_OR_RETURN(ProfileFile file, read_profile_file(file_path()));
  const Profile* p = file.find(profile);
  if (!p) return not_found_profile(profile);
  const std::string path = use_path(dir_, p->id);
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return errno_status("opening " + path);
  if (!ofd_lock(fd.get(), F_RDLCK)) return errno_status("locking " + path);
  return std::unique_ptr<ProfileUse>(new ProfileUse(dir_, options_, p->id, fd.release()));
}

Status ProfileStore::collect_pending() {
  PSTKIT_ASSIGN_OR_RETURN(auto lock, lock_store(dir_, options_.lock_wait));
  PSTKIT_ASSIGN_OR_RETURN(ProfileFile file, read_profile_file(file_path()));
  PSTKIT_ASSIGN_OR_RETURN(bool collected, collect(dir_, file));
  if (!collected) return Status::ok();
  return replace_file(dir_, file_path(), serialize_profile_file(file));
}

ProfileUse::~ProfileUse() { (void)release(); }

Status ProfileUse::release() {
  if (fd_ < 0) return Status::ok();
  ::close(fd_);  // drops the OFD lock
  fd_ = -1;
  ProfileStore store(dir_, options_);
  return store.collect_pending();
}

}  // namespace pstkit::mapi
