// Persistent MAPI profiles, message services and the service catalog
// (mapisvc.inf): the core that IProfAdmin, IMsgServiceAdmin and
// IProviderAdmin sit on (docs/MAPI.md "Profiles and message services").
//
// A profile store is one JSON file per user ($PSTKIT_PROFILE_DIR, else
// $XDG_CONFIG_HOME/pstkit, else ~/.config/pstkit). Every update reads,
// changes and atomically replaces the file under an exclusive lock, so any
// number of processes may administer profiles at once. Nothing here throws:
// errors are Status values whose code says which MAPI error they become
// (error_kind() below).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pstkit/mapi_prop_tag.h"
#include "pstkit/status.h"

namespace pstkit::mapi {

// ---------------------------------------------------------------------------
// Errors. Every failing call returns a Status; error_kind() classifies it
// for the COM layer, which picks the MAPI code the method's page documents:
//   kNotFound -> MAPI_E_NOT_FOUND
//   kExists   -> MAPI_E_NO_ACCESS (CreateProfile; CreateMsgService/CopyMsgService
//                of a SERVICE_SINGLE_COPY service), MAPI_E_ACCESS_DENIED (CopyProfile)
//   kInvalid  -> MAPI_E_INVALID_PARAMETER
//   kCorrupt  -> MAPI_E_CORRUPT_DATA (the profile file is damaged or not ours)
//   kBusy     -> MAPI_E_BUSY (the lock was not had within the wait)
//   kIo       -> MAPI_E_DISK_ERROR
//   kUnsupported -> MAPI_E_NO_SUPPORT (a newer profile file version)
enum class ErrorKind { kOk, kNotFound, kExists, kInvalid, kCorrupt, kBusy, kIo, kUnsupported };
ErrorKind error_kind(const Status& status);
const char* error_kind_name(ErrorKind kind);

// ---------------------------------------------------------------------------
// Property values of profile sections (a subset of MAPI's property types).
// Strings of both types are held as UTF-8; the COM layer converts.
// Types: the PT_* codes of pstkit/mapi_prop_tag.h (kPtLong, kPtBoolean,
// kPtString8, kPtUnicode, kPtSysTime, kPtBinary, kPtMvString8, kPtMvUnicode).
bool is_supported_type(uint16_t type);

// Tags this module reads or writes itself (values as in mapitags.h/mspst.h;
// the tests compare them with those headers).
namespace tags {
inline constexpr uint32_t kDisplayName = 0x3001001F;          // PR_DISPLAY_NAME_W
inline constexpr uint32_t kProviderDisplay = 0x3006001F;      // PR_PROVIDER_DISPLAY_W
inline constexpr uint32_t kResourceFlags = 0x30090003;        // PR_RESOURCE_FLAGS
inline constexpr uint32_t kProviderDllName = 0x300A001F;      // PR_PROVIDER_DLL_NAME_W
inline constexpr uint32_t kProviderUid = 0x300C0102;          // PR_PROVIDER_UID
inline constexpr uint32_t kProviderOrdinal = 0x300D0003;      // PR_PROVIDER_ORDINAL
inline constexpr uint32_t kMdbProvider = 0x34140102;          // PR_MDB_PROVIDER
inline constexpr uint32_t kServiceName = 0x3D09001F;          // PR_SERVICE_NAME_W
inline constexpr uint32_t kServiceDllName = 0x3D0A001F;       // PR_SERVICE_DLL_NAME_W
inline constexpr uint32_t kServiceEntryName = 0x3D0B001E;     // PR_SERVICE_ENTRY_NAME (8-bit only)
inline constexpr uint32_t kServiceUid = 0x3D0C0102;           // PR_SERVICE_UID
inline constexpr uint32_t kServiceSupportFiles = 0x3D0F101F;  // PR_SERVICE_SUPPORT_FILES_W
inline constexpr uint32_t kServiceDeleteFiles = 0x3D10101F;   // PR_SERVICE_DELETE_FILES_W
inline constexpr uint32_t kResourceType = 0x3E030003;         // PR_RESOURCE_TYPE
inline constexpr uint32_t kPstPath = 0x6700001F;              // PR_PST_PATH_W (mspst.h)
inline constexpr uint32_t kPstRememberPw = 0x6701000B;        // PR_PST_REMEMBER_PW
inline constexpr uint32_t kPstEncryption = 0x67020003;        // PR_PST_ENCRYPTION
inline constexpr uint32_t kPstConfigFlags = 0x67700003;       // PR_PST_CONFIG_FLAGS
}  // namespace tags

// Flag and type values the catalog may name symbolically (mapix.h, mspst.h).
inline constexpr uint32_t kServiceDefaultStore = 0x00000001;  // SERVICE_DEFAULT_STORE
inline constexpr uint32_t kServiceSingleCopy = 0x00000002;    // SERVICE_SINGLE_COPY
inline constexpr uint32_t kMapiStoreProvider = 33;            // MAPI_STORE_PROVIDER
inline constexpr uint32_t kMapiAbProvider = 35;               // MAPI_AB_PROVIDER
inline constexpr uint32_t kMapiTransportProvider = 36;        // MAPI_TRANSPORT_PROVIDER
inline constexpr uint32_t kPstConfigUnicode = 0x80000000;     // PST_CONFIG_UNICODE
inline constexpr uint32_t kPstConfigCreateNowarn = 0x00000001;  // PST_CONFIG_CREATE_NOWARN

struct SectionProp {
  uint32_t tag = 0;
  // PT_LONG int32_t; PT_BOOLEAN bool; PT_STRING8/PT_UNICODE std::string (UTF-8);
  // PT_SYSTIME uint64_t (FILETIME); PT_BINARY bytes; PT_MV_* strings.
  std::variant<int32_t, bool, std::string, uint64_t, std::vector<uint8_t>, std::vector<std::string>> value;

  static SectionProp long_value(uint32_t tag, int32_t v) { return {tag, v}; }
  static SectionProp bool_value(uint32_t tag, bool v) { return {tag, v}; }
  static SectionProp string_value(uint32_t tag, std::string v) { return {tag, std::move(v)}; }
  static SectionProp systime_value(uint32_t tag, uint64_t filetime) { return {tag, filetime}; }
  static SectionProp binary_value(uint32_t tag, std::vector<uint8_t> v) { return {tag, std::move(v)}; }
  static SectionProp multi_string_value(uint32_t tag, std::vector<std::string> v) { return {tag, std::move(v)}; }

  // OK when the held alternative is the one the tag's type needs.
  Status check() const;
  bool operator==(const SectionProp&) const = default;
};

// The properties of one profile section, one value per property id (as in
// a MAPI property object: setting PR_X_A replaces PR_X_W).
class PropBag {
 public:
  // Replaces any value with the same property id. kInvalid when the value
  // does not match its tag's type or the type is not supported.
  Status set(SectionProp value);
  const SectionProp* find(uint16_t id) const;
  // By full tag: nullptr unless the id is present with that exact type.
  const SectionProp* find_tag(uint32_t tag) const;
  bool erase(uint16_t id);
  std::optional<int32_t> get_long(uint16_t id) const;
  std::optional<std::string> get_string(uint16_t id) const;  // PT_STRING8 or PT_UNICODE
  const std::map<uint16_t, SectionProp>& values() const { return values_; }
  size_t size() const { return values_.size(); }
  bool operator==(const PropBag&) const = default;

 private:
  std::map<uint16_t, SectionProp> values_;
};

// A MAPIUID: 16 bytes naming a profile section (a service's or a provider's).
using MapiUid = std::array<uint8_t, 16>;
MapiUid new_uid();  // random (getrandom)
std::string uid_hex(const MapiUid& uid);  // 32 lowercase hex digits, byte order
bool parse_uid_hex(std::string_view text, MapiUid* out);

// ---------------------------------------------------------------------------
// The service catalog: MAPI's mapisvc.inf.

struct CatalogProvider {
  std::string section;  // the provider's section name
  PropBag props;        // PR_DISPLAY_NAME, PR_PROVIDER_DISPLAY, PR_PROVIDER_DLL_NAME, PR_RESOURCE_TYPE...
};

struct CatalogService {
  std::string name;          // the section name: what CreateMsgService takes ("MSUPST MS")
  std::string display_name;  // the [Services] value, or PR_DISPLAY_NAME of the section
  PropBag props;             // the section's property lines
  std::vector<CatalogProvider> providers;  // in the order of its Providers= list
  std::vector<std::string> extra_sections;  // its Sections= list
  bool builtin = false;  // served by pstkit itself (no shared library to load)
  // PR_SERVICE_DLL_NAME and PR_SERVICE_ENTRY_NAME (MSGServiceEntry when
  // absent) for services a shared library implements; loaded later.
  std::string dll_name() const;
  std::string entry_name() const;
};

struct Catalog {
  std::vector<CatalogService> services;
  std::vector<std::string> default_services;  // [Default Services], by section name
  std::map<std::string, PropBag> extra_sections;  // sections named by Sections= lists

  const CatalogService* find(std::string_view name) const;
  // Adds or replaces (by name) every service of `over`; [Default Services]
  // of `over`, when it has one, replaces this one's.
  void merge_over(const Catalog& over);
};

// One line of a catalog that was skipped.
struct CatalogDiagnostic {
  std::string file;
  uint32_t line = 0;  // 1-based; 0 for the file as a whole
  std::string message;
  std::string to_string() const;  // "FILE:LINE: message"
};

// Limits that keep a hostile file bounded.
inline constexpr size_t kMaxCatalogBytes = 1 << 20;
inline constexpr size_t kMaxCatalogLine = 4096;

// Parses mapisvc.inf text. Line-based and tolerant: a line that cannot be
// understood is reported in *diagnostics (with file and line) and skipped.
// Fails (kInvalid) only when the text exceeds kMaxCatalogBytes.
Result<Catalog> parse_mapisvc_inf(std::string_view text, const std::string& file_name,
                                  std::vector<CatalogDiagnostic>* diagnostics);

// The services pstkit provides itself: "MSUPST MS" (Unicode PST), "MSPST MS"
// (ANSI PST) and "PSTKIT OST" (an existing OST, read only).
Catalog builtin_catalog();

// The system catalog's path: $PSTKIT_MAPISVC_INF, else /etc/pstkit/mapisvc.inf.
std::string system_catalog_path();

// The built-ins with the system catalog merged over them. A missing system
// file is no error; an unreadable one is (kIo).
Result<Catalog> load_catalog(std::vector<CatalogDiagnostic>* diagnostics);
Result<Catalog> load_catalog_from(const std::string& path, std::vector<CatalogDiagnostic>* diagnostics);

// Parses one property line's tag ("PR_RESOURCE_FLAGS", "PR_PST_PATH_A",
// "6600001E") and value. For the catalog parser and the CLI.
Result<uint32_t> parse_tag_name(std::string_view name);
Result<SectionProp> parse_property_text(uint32_t tag, std::string_view text, bool numeric_tag);
std::string tag_display_name(uint32_t tag);  // "PR_PST_PATH_W" or "0x6700001F"

// ---------------------------------------------------------------------------
// Profiles.

struct Provider {
  MapiUid uid{};         // PR_PROVIDER_UID: its profile section
  std::string section;   // the catalog section it came from
  PropBag props;
};

struct MessageService {
  MapiUid uid{};        // PR_SERVICE_UID: its profile section
  std::string name;     // PR_SERVICE_NAME: the catalog name ("MSUPST MS")
  PropBag props;        // PR_DISPLAY_NAME, PR_RESOURCE_FLAGS, configuration
  std::vector<Provider> providers;
  std::string display_name() const;
  uint32_t resource_flags() const;
};

struct Profile {
  std::string name;
  std::string id;  // 32 hex digits; names the in-use lock file, survives renames
  bool app_profile = false;
  bool delete_pending = false;     // DeleteProfile while in use: hidden, removed when unused
  std::string rename_pending;      // RenameProfile while in use: applied when unused
  std::vector<MessageService> services;

  const MessageService* find_service(const MapiUid& uid) const;
  MessageService* find_service(const MapiUid& uid);
};

// The profile table (IProfAdmin::GetProfileTable): PR_DISPLAY_NAME and
// PR_DEFAULT_PROFILE. Profiles marked for deletion are not listed.
struct ProfileRow {
  std::string name;
  bool is_default = false;
};

// The message service table (IMsgServiceAdmin::GetMsgServiceTable).
struct ServiceRow {
  MapiUid service_uid{};     // PR_SERVICE_UID (also PR_INSTANCE_KEY)
  std::string service_name;  // PR_SERVICE_NAME
  std::string display_name;  // PR_DISPLAY_NAME
  uint32_t resource_flags = 0;  // PR_RESOURCE_FLAGS
  std::string dll_name;      // PR_SERVICE_DLL_NAME ("" for pstkit's own)
  std::string entry_name;    // PR_SERVICE_ENTRY_NAME
};

// The provider table (IMsgServiceAdmin::GetProviderTable,
// IProviderAdmin::GetProviderTable).
struct ProviderRow {
  MapiUid provider_uid{};   // PR_PROVIDER_UID (also PR_INSTANCE_KEY)
  MapiUid service_uid{};    // PR_SERVICE_UID
  std::string service_name;
  std::string display_name;      // PR_DISPLAY_NAME
  std::string provider_display;  // PR_PROVIDER_DISPLAY
  std::string dll_name;          // PR_PROVIDER_DLL_NAME
  uint32_t resource_type = 0;    // PR_RESOURCE_TYPE
  uint32_t resource_flags = 0;   // PR_RESOURCE_FLAGS
  int32_t ordinal = 0;           // PR_PROVIDER_ORDINAL: position within the profile
};

// The whole file, in memory.
struct ProfileFile {
  std::vector<Profile> profiles;
  std::string default_profile;  // "" when none

  Profile* find(std::string_view name);  // listed profiles only (not delete-pending)
  const Profile* find(std::string_view name) const;
  // True when `name` is taken by a profile or by a pending rename.
  bool name_taken(std::string_view name) const;
};

inline constexpr size_t kMaxProfileFileBytes = 16 << 20;
inline constexpr size_t kMaxProfileName = 64;

// The profile file's JSON (docs/MAPI.md). parse_profile_file fails with
// kCorrupt naming `file_name` for anything that is not a profile file of
// this or an older version, kUnsupported for a newer version.
Result<ProfileFile> parse_profile_file(std::string_view text, const std::string& file_name);
std::string serialize_profile_file(const ProfileFile& file);

// Name rules (iprofadmin-createprofile.md): 1 to 64 characters; letters
// (any script, accented ones included), digits, underscore and embedded
// spaces; no leading or trailing space. Names compare case-insensitively
// for ASCII letters, as Windows registry keys do.
Status check_profile_name(std::string_view name);
bool same_profile_name(std::string_view a, std::string_view b);

// ---------------------------------------------------------------------------

// The profile directory: $PSTKIT_PROFILE_DIR, else $XDG_CONFIG_HOME/pstkit,
// else $HOME/.config/pstkit.
Result<std::string> default_profile_dir();

struct StoreOptions {
  // How long an update waits for another process's lock before kBusy.
  std::chrono::milliseconds lock_wait{10000};
};

// The built-in service that serves an existing store file: "MSUPST MS"
// (Unicode PST), "MSPST MS" (ANSI PST) or "PSTKIT OST" (an OST), from its
// header (MS-PST 2.2.2.6 wVer, wMagicClient). kInvalid for other files.
Result<std::string> store_service_for_file(const std::string& path);

// What configure_service did besides setting properties.
struct ConfigureResult {
  bool created_store = false;  // a new PST was created at PR_PST_PATH
};

class ProfileUse;

// The persistent profile store. Cheap to open; holds no lock between calls.
class ProfileStore {
 public:
  // Opens (creating the directory, mode 0700, when missing) the store in `dir`.
  static Result<ProfileStore> open(const std::string& dir, StoreOptions options = {});
  static Result<ProfileStore> open_default(StoreOptions options = {});

  const std::string& dir() const { return dir_; }
  std::string file_path() const;  // DIR/profiles.json

  // A snapshot of the file (no lock: the file is only ever replaced whole).
  Result<ProfileFile> read() const;

  // IProfAdmin.
  Result<std::vector<ProfileRow>> list() const;
  // Password: MAPI supports no profile passwords; it must be empty (kInvalid
  // otherwise). kExists when the name is taken.
  Status create_profile(const std::string& name, const std::string& password = "", bool app_profile = false);
  // Removes the profile, or, while a session uses it (ProfileUse), marks it
  // for deletion: it leaves the table at once and its record goes when the
  // last user ends. The default is cleared either way.
  Status delete_profile(const std::string& name);
  // new_name must be free (kExists). Services keep their UIDs.
  Status copy_profile(const std::string& name, const std::string& new_name);
  // While in use: recorded and applied when the last user ends.
  Status rename_profile(const std::string& name, const std::string& new_name);
  // "" clears the default.
  Status set_default_profile(const std::string& name);
  // iprofadmin-changeprofilepassword.md: "MAPI does not support passwords
  // for profiles" and the method does nothing; kNotFound for an unknown profile.
  Status change_password(const std::string& name, const std::string& old_password,
                         const std::string& new_password);
  Result<Profile> get_profile(const std::string& name) const;

  // IMsgServiceAdmin. create_service copies the catalog's service section
  // and provider sections into new profile sections; kNotFound when the
  // catalog has no such service; kExists for a second SERVICE_SINGLE_COPY one.
  Result<MapiUid> create_service(const std::string& profile, const std::string& service_name,
                                 const std::string& display_name, const Catalog& catalog);
  // Sets properties on the service's section and each provider's section.
  // PST services (MSUPST MS, MSPST MS): PR_PST_PATH must then be an absolute
  // path; a missing file is an error (kNotFound) unless PR_PST_CONFIG_FLAGS
  // in `props` has PST_CONFIG_CREATE_NOWARN, which creates a new empty store
  // (Unicode for MSUPST MS, ANSI for MSPST MS) and is not kept. OST service:
  // the file must exist. An existing file must be of the service's kind
  // (store_service_for_file); kInvalid otherwise.
  Result<ConfigureResult> configure_service(const std::string& profile, const MapiUid& service,
                                            const std::vector<SectionProp>& props);
  Status delete_service(const std::string& profile, const MapiUid& service);
  Status rename_service(const std::string& profile, const MapiUid& service, const std::string& display_name);
  // Into `to_profile` (may be the same one), with new UIDs; no entry point runs.
  Result<MapiUid> copy_service(const std::string& from_profile, const MapiUid& service,
                               const std::string& to_profile);
  Result<std::vector<ServiceRow>> service_table(const std::string& profile) const;
  // Every provider of the profile, or of one service.
  Result<std::vector<ProviderRow>> provider_table(const std::string& profile,
                                                  const MapiUid* service = nullptr) const;
  // A profile section (a service's or a provider's) by UID.
  Result<PropBag> section(const std::string& profile, const MapiUid& uid) const;
  Status set_section_props(const std::string& profile, const MapiUid& uid, const std::vector<SectionProp>& props);
  // IProviderAdmin: adds a provider to `service` from the catalog's provider
  // section `section` (kNotFound when no service of the catalog lists it)
  // with `props` set over the catalog's, and returns its UID.
  Result<MapiUid> create_provider(const std::string& profile, const MapiUid& service, const std::string& section,
                                  const Catalog& catalog, const std::vector<SectionProp>& props);
  Status delete_provider(const std::string& profile, const MapiUid& provider);
  // Removes the properties with the ids of `prop_tags` (absent ones are no
  // error); the section's UID properties cannot be removed (kInvalid).
  Status delete_section_props(const std::string& profile, const MapiUid& uid, const std::vector<uint32_t>& prop_tags);

  // For the session layer: marks `profile` in use by this process until the
  // ProfileUse ends (an OFD read lock on DIR/sessions/ID.use, which the
  // kernel drops when the process dies). kNotFound for unknown or
  // delete-pending profiles.
  Result<std::unique_ptr<ProfileUse>> acquire_use(const std::string& profile);
  // Removes delete-pending profiles and applies pending renames of profiles
  // nobody uses. Every update does this too; ProfileUse's end calls it.
  Status collect_pending();

 private:
  ProfileStore(std::string dir, StoreOptions options) : dir_(std::move(dir)), options_(options) {}
  // Runs change(file) under the lock on the current contents and, when it
  // returns OK, writes the result atomically.
  template <typename F>
  Status update(F&& change);
  friend class ProfileUse;

  std::string dir_;
  StoreOptions options_;
};

// A session's hold on a profile; see ProfileStore::acquire_use.
class ProfileUse {
 public:
  ~ProfileUse();
  ProfileUse(const ProfileUse&) = delete;
  ProfileUse& operator=(const ProfileUse&) = delete;
  const std::string& profile_id() const { return id_; }
  // Ends the use now and removes what it held back (a pending deletion).
  Status release();

 private:
  friend class ProfileStore;
  ProfileUse(std::string dir, StoreOptions options, std::string id, int fd)
      : dir_(std::move(dir)), options_(options), id_(std::move(id)), fd_(fd) {}
  std::string dir_;
  StoreOptions options_;
  std::string id_;
  int fd_ = -1;
};

}  // namespace pstkit::mapi
