// Persistent MAPI profiles, message services and the service catalog
// (pstkit/mapi_profiles.h).
#include "pstkit/mapi_profiles.h"
#include "pstkit/store_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

// Tag values written as in the MAPI headers (mapi_profiles_tags_test.cpp
// checks the core's constants against those headers themselves).
#define PROP_TAG(type, id) ((static_cast<uint32_t>(id) << 16) | (type))
#define PT_LONG 0x0003
#define PT_DOUBLE 0x0005
#define PT_SYSTIME 0x0040
constexpr uint32_t PR_PST_PATH_W = 0x6700001F, PR_PST_PATH_A = 0x6700001E, PR_RESOURCE_FLAGS = 0x30090003,
                   PR_RESOURCE_TYPE = 0x3E030003, PR_PST_REMEMBER_PW = 0x6701000B, PR_DISPLAY_NAME_W = 0x3001001F,
                   PR_MDB_PROVIDER = 0x34140102, PR_SERVICE_SUPPORT_FILES = 0x3D0F101F,
                   PR_SERVICE_SUPPORT_FILES_W = 0x3D0F101F, PR_PROVIDER_UID = 0x300C0102;
constexpr int32_t SERVICE_NO_PRIMARY_IDENTITY = 0x20, STATUS_NO_DEFAULT_STORE = 0x40, MAPI_AB_PROVIDER = 35,
                  MAPI_STORE_PROVIDER = 33;

namespace pstkit::mapi {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "pstkit-profiles-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::set<std::string> names(const ProfileStore& store) {
  auto rows = store.list();
  EXPECT_TRUE(rows.is_ok()) << rows.status().message();
  std::set<std::string> out;
  if (rows.is_ok()) {
    for (const auto& r : *rows) out.insert(r.name);
  }
  return out;
}

ProfileStore open_store(const std::string& dir, std::chrono::milliseconds wait = std::chrono::milliseconds(10000)) {
  auto store = ProfileStore::open(dir, StoreOptions{wait});
  EXPECT_TRUE(store.is_ok()) << store.status().message();
  return std::move(store).value();
}

ErrorKind kind(const Status& s) { return error_kind(s); }
template <typename T>
ErrorKind kind(const Result<T>& r) {
  return error_kind(r.status());
}

// --- values ----------------------------------------------------------------

TEST(MapiProfilesTest, SectionPropsKeepOneValuePerIdAndCheckTypes) {
  PropBag bag;
  ASSERT_TRUE(bag.set(SectionProp::string_value(PR_PST_PATH_W, "/a.pst")).is_ok());
  ASSERT_TRUE(bag.set(SectionProp::string_value(PR_PST_PATH_A, "/b.pst")).is_ok());
  EXPECT_EQ(bag.size(), 1u);
  EXPECT_EQ(bag.get_string(0x6700).value(), "/b.pst");
  EXPECT_EQ(bag.find_tag(PR_PST_PATH_W), nullptr);
  EXPECT_NE(bag.find_tag(PR_PST_PATH_A), nullptr);
  // A value of another type than its tag says, or an unsupported type.
  EXPECT_EQ(kind(bag.set(SectionProp{PR_RESOURCE_FLAGS, std::string("x")})), ErrorKind::kInvalid);
  EXPECT_EQ(kind(bag.set(SectionProp{PROP_TAG(PT_DOUBLE, 0x6600), int32_t{1}})), ErrorKind::kInvalid);
}

TEST(MapiProfilesTest, ProfileFileRoundTripsEveryType) {
  ProfileFile file;
  Profile p;
  p.name = "Büro Ärger_2";
  p.id = uid_hex(new_uid());
  MessageService s;
  s.uid = new_uid();
  s.name = "MSUPST MS";
  ASSERT_TRUE(s.props.set(SectionProp::long_value(PR_RESOURCE_FLAGS, -5)).is_ok());
  ASSERT_TRUE(s.props.set(SectionProp::bool_value(PR_PST_REMEMBER_PW, true)).is_ok());
  ASSERT_TRUE(s.props.set(SectionProp::string_value(PR_PST_PATH_A, "/x/ä.pst")).is_ok());
  ASSERT_TRUE(s.props.set(SectionProp::string_value(PR_DISPLAY_NAME_W, "Ünïcode \"q\"")).is_ok());
  ASSERT_TRUE(s.props.set(SectionProp::systime_value(PROP_TAG(PT_SYSTIME, 0x6601), 0xFEDCBA9876543210ull)).is_ok());
  ASSERT_TRUE(s.props.set(SectionProp::binary_value(PR_MDB_PROVIDER, {0, 1, 0xFF})).is_ok());
  ASSERT_TRUE(s.props.set(SectionProp::multi_string_value(PR_SERVICE_SUPPORT_FILES_W, {"a", "b,c"})).is_ok());
  Provider q;
  q.uid = new_uid();
  q.section = "MSUPST MSP";
  ASSERT_TRUE(q.props.set(SectionProp::long_value(PR_RESOURCE_TYPE, 33)).is_ok());
  s.providers.push_back(q);
  p.services.push_back(s);
  file.profiles.push_back(p);
  file.default_profile = p.name;
  const std::string text = serialize_profile_file(file);
  auto back = parse_profile_file(text, "mem");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(back->profiles.size(), 1u);
  EXPECT_EQ(back->default_profile, p.name);
  const Profile& b = back->profiles[0];
  EXPECT_EQ(b.name, p.name);
  EXPECT_EQ(b.id, p.id);
  ASSERT_EQ(b.services.size(), 1u);
  EXPECT_EQ(b.services[0].uid, s.uid);
  EXPECT_EQ(b.services[0].props, s.props);
  ASSERT_EQ(b.services[0].providers.size(), 1u);
  EXPECT_EQ(b.services[0].providers[0].props, q.props);
  EXPECT_EQ(b.services[0].providers[0].section, "MSUPST MSP");
  EXPECT_EQ(serialize_profile_file(*back), text);
}

TEST(MapiProfilesTest, ProfileNameRules) {
  for (const char* ok : {"Outlook", "A b_c 9", "Émile Zoë", "日本語", "x"}) {
    EXPECT_TRUE(check_profile_name(ok).is_ok()) << ok;
  }
  const std::string sixty_four(64, 'a');
  EXPECT_TRUE(check_profile_name(sixty_four).is_ok());
  for (const std::string& bad : {std::string(), std::string(" lead"), std::string("trail "), sixty_four + "a",
                                 std::string("a/b"), std::string("a.b"), std::string("a\tb"), std::string("\xFF"),
                                 std::string("a\xE2\x80\x94" "b") /* em dash */, std::string("a\0b", 3)}) {
    EXPECT_EQ(kind(check_profile_name(bad)), ErrorKind::kInvalid) << bad;
  }
  EXPECT_TRUE(same_profile_name("Outlook", "OUTLOOK"));
  EXPECT_FALSE(same_profile_name("Outlook", "Outlook2"));
}

// --- the store -------------------------------------------------------------

TEST(MapiProfilesTest, PersistsAcrossReopen) {
  TempDir dir;
  {
    ProfileStore store = open_store(dir.path());
    ASSERT_TRUE(store.create_profile("Work").is_ok());
    ASSERT_TRUE(store.create_profile("Home").is_ok());
    ASSERT_TRUE(store.set_default_profile("home").is_ok());
    auto uid = store.create_service("Work", "MSUPST MS", "Mail", builtin_catalog());
    ASSERT_TRUE(uid.is_ok()) << uid.status().message();
    auto done = store.configure_service(
        "Work", *uid,
        {SectionProp::string_value(tags::kPstPath, dir.path() + "/work.pst"),
         SectionProp::long_value(tags::kPstConfigFlags, static_cast<int32_t>(kPstConfigCreateNowarn | kPstConfigUnicode))});
    ASSERT_TRUE(done.is_ok()) << done.status().message();
    EXPECT_TRUE(done->created_store);
  }
  ProfileStore store = open_store(dir.path());
  auto rows = store.list();
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name, "Work");
  EXPECT_FALSE((*rows)[0].is_default);
  EXPECT_EQ((*rows)[1].name, "Home");
  EXPECT_TRUE((*rows)[1].is_default);
  auto services = store.service_table("Work");
  ASSERT_TRUE(services.is_ok());
  ASSERT_EQ(services->size(), 1u);
  EXPECT_EQ((*services)[0].service_name, "MSUPST MS");
  EXPECT_EQ((*services)[0].display_name, "Mail");
  auto providers = store.provider_table("Work");
  ASSERT_TRUE(providers.is_ok());
  ASSERT_EQ(providers->size(), 1u);
  EXPECT_EQ((*providers)[0].resource_type, kMapiStoreProvider);
  EXPECT_EQ((*providers)[0].service_uid, (*services)[0].service_uid);
  EXPECT_EQ((*providers)[0].ordinal, 1);
  auto section = store.section("Work", (*providers)[0].provider_uid);
  ASSERT_TRUE(section.is_ok());
  EXPECT_EQ(section->get_string(prop_id(tags::kPstPath)).value(), dir.path() + "/work.pst");
  // CREATE_NOWARN was an instruction, not a setting; UNICODE stays.
  EXPECT_EQ(static_cast<uint32_t>(section->get_long(prop_id(tags::kPstConfigFlags)).value()), kPstConfigUnicode);
  const SectionProp* provider_uid = section->find_tag(PR_PROVIDER_UID);
  ASSERT_NE(provider_uid, nullptr);
  const auto& bytes = std::get<std::vector<uint8_t>>(provider_uid->value);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), (*providers)[0].provider_uid.begin()));
  // The created file is a Unicode PST.
  EXPECT_EQ(*store_service_for_file(dir.path() + "/work.pst"), "MSUPST MS");
}

TEST(MapiProfilesTest, UpdatesReplaceTheFileAtomically) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  ASSERT_TRUE(store.create_profile("One").is_ok());
  struct stat before {};
  ASSERT_EQ(::stat(store.file_path().c_str(), &before), 0);
  EXPECT_EQ(before.st_mode & 0777, 0600u);
  // A reader holding the old file keeps reading the old contents.
  std::ifstream old_reader(store.file_path(), std::ios::binary);
  ASSERT_TRUE(store.create_profile("Two").is_ok());
  struct stat after {};
  ASSERT_EQ(::stat(store.file_path().c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);  // a new file renamed over the old one
  std::stringstream old_text;
  old_text << old_reader.rdbuf();
  auto old_file = parse_profile_file(old_text.str(), "old");
  ASSERT_TRUE(old_file.is_ok());
  EXPECT_EQ(old_file->profiles.size(), 1u);
  // No temporary file is left behind.
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST(MapiProfilesTest, EveryErrorKind) {
  TempDir dir;
  ProfileStore store = open_store(dir.path(), std::chrono::milliseconds(50));
  ASSERT_TRUE(store.create_profile("P").is_ok());
  // kExists: same name in any ASCII case (CreateProfile: MAPI_E_NO_ACCESS).
  EXPECT_EQ(kind(store.create_profile("p")), ErrorKind::kExists);
  EXPECT_EQ(kind(store.copy_profile("P", "P")), ErrorKind::kExists);
  ASSERT_TRUE(store.create_profile("Q").is_ok());
  EXPECT_EQ(kind(store.rename_profile("P", "q")), ErrorKind::kExists);
  // kInvalid: names, passwords.
  EXPECT_EQ(kind(store.create_profile(" P")), ErrorKind::kInvalid);
  EXPECT_EQ(kind(store.create_profile("R", "secret")), ErrorKind::kInvalid);
  // kNotFound.
  EXPECT_EQ(kind(store.delete_profile("nope")), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.set_default_profile("nope")), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.rename_profile("nope", "x")), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.copy_profile("nope", "x")), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.get_profile("nope")), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.change_password("nope", "", "")), ErrorKind::kNotFound);
  EXPECT_TRUE(store.change_password("P", "", "x").is_ok());  // documented as doing nothing
  EXPECT_EQ(kind(store.create_service("P", "NO SUCH", "", builtin_catalog())), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.create_service("nope", "MSUPST MS", "", builtin_catalog())), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.delete_service("P", new_uid())), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.configure_service("P", new_uid(), {})), ErrorKind::kNotFound);
  EXPECT_EQ(kind(store.section("P", new_uid())), ErrorKind::kNotFound);
  // PST services: a path is required, absolute, existing (or created on
  // request) and of the service's kind.
  auto uid = store.create_service("P", "MSUPST MS", "", builtin_catalog());
  ASSERT_TRUE(uid.is_ok());
  EXPECT_EQ(kind(store.configure_service("P", *uid, {})), ErrorKind::kInvalid);
  EXPECT_EQ(kind(store.configure_service("P", *uid, {SectionProp::string_value(tags::kPstPath, "rel.pst")})),
            ErrorKind::kInvalid);
  EXPECT_EQ(kind(store.configure_service("P", *uid, {SectionProp::string_value(tags::kPstPath, dir.path() + "/no.pst")})),
            ErrorKind::kNotFound);
  EXPECT_FALSE(fs::exists(dir.path() + "/no.pst"));
  auto ansi = store.create_service("P", "MSPST MS", "", builtin_catalog());
  ASSERT_TRUE(ansi.is_ok());
  ASSERT_TRUE(store
                  .configure_service("P", *ansi,
                                     {SectionProp::string_value(tags::kPstPath, dir.path() + "/ansi.pst"),
                                      SectionProp::long_value(tags::kPstConfigFlags, kPstConfigCreateNowarn)})
                  .is_ok());
  EXPECT_EQ(*store_service_for_file(dir.path() + "/ansi.pst"), "MSPST MS");
  // The ANSI service cannot open a Unicode store (the Unicode one opens both:
  // UnicodeServiceOpensAnsiStoresAndOsts).
  ASSERT_TRUE(StoreWriter::create(dir.path() + "/unicode.pst", NewStoreOptions{}).is_ok());
  EXPECT_EQ(kind(store.configure_service("P", *ansi, {SectionProp::string_value(tags::kPstPath, dir.path() + "/unicode.pst")})),
            ErrorKind::kInvalid);
  spit(dir.path() + "/text.pst", "not a pst at all");
  EXPECT_EQ(kind(store.configure_service("P", *uid, {SectionProp::string_value(tags::kPstPath, dir.path() + "/text.pst")})),
            ErrorKind::kInvalid);
  EXPECT_EQ(kind(store.configure_service("P", *uid, {SectionProp::binary_value(tags::kServiceUid, {1})})),
            ErrorKind::kInvalid);
  // A failed configuration changed nothing.
  auto section = store.section("P", *uid);
  ASSERT_TRUE(section.is_ok());
  EXPECT_EQ(section->find(prop_id(tags::kPstPath)), nullptr);
  // An OST is never created, whatever the flags say.
  auto ost = store.create_service("P", "PSTKIT OST", "", builtin_catalog());
  ASSERT_TRUE(ost.is_ok());
  Status no_ost = store.configure_service("P", *ost,
                                          {SectionProp::string_value(tags::kPstPath, dir.path() + "/x.ost"),
                                           SectionProp::long_value(tags::kPstConfigFlags, kPstConfigCreateNowarn)})
                      .status();
  EXPECT_EQ(kind(no_ost), ErrorKind::kNotFound);
  EXPECT_NE(no_ost.message().find("never created"), std::string::npos) << no_ost.message();
  EXPECT_FALSE(fs::exists(dir.path() + "/x.ost"));
  // kExists: a second copy of a SERVICE_SINGLE_COPY service.
  std::vector<CatalogDiagnostic> diags;
  auto catalog = parse_mapisvc_inf(
      "[Services]\nONE=Only One\n[ONE]\nProviders=ONE P\nPR_RESOURCE_FLAGS=SERVICE_SINGLE_COPY\n"
      "PR_SERVICE_DLL_NAME=libone.so\n[ONE P]\nPR_RESOURCE_TYPE=MAPI_AB_PROVIDER\n",
      "one.inf", &diags);
  ASSERT_TRUE(catalog.is_ok());
  EXPECT_TRUE(diags.empty()) << diags[0].to_string();
  auto one = store.create_service("P", "ONE", "", *catalog);
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ(kind(store.create_service("P", "ONE", "", *catalog)), ErrorKind::kExists);
  EXPECT_EQ(kind(store.copy_service("P", *one, "P")), ErrorKind::kExists);
  EXPECT_TRUE(store.copy_service("P", *one, "Q").is_ok());
  // kBusy: another holder of the store lock.
  {
    int fd = ::open((dir.path() + "/profiles.lock").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    Status busy = store.create_profile("Busy");
    EXPECT_EQ(kind(busy), ErrorKind::kBusy) << busy.message();
    EXPECT_NE(busy.message().find("profiles.lock"), std::string::npos);
    ::close(fd);
  }
  EXPECT_TRUE(store.create_profile("Busy").is_ok());
  // kUnsupported: a newer file version.
  const std::string saved = slurp(store.file_path());
  spit(store.file_path(), R"({"format":"pstkit-mapi-profiles","version":2,"profiles":[]})");
  EXPECT_EQ(kind(store.list()), ErrorKind::kUnsupported);
  EXPECT_EQ(kind(store.create_profile("Z")), ErrorKind::kUnsupported);
  spit(store.file_path(), saved);
}

TEST(MapiProfilesTest, CorruptOrForeignFileIsReportedAndNeverOverwritten) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  const std::vector<std::string> bad_files = {
      "{\"format\":\"pstkit-mapi-profiles\",\"version\":1,\"profiles\":[",  // truncated
      "\x01\x02garbage",
      R"({"some":"other program's settings"})",
      R"({"format":"pstkit-mapi-profiles","version":1,"profiles":[{"name":"A","id":"00"}]})",
      R"({"format":"pstkit-mapi-profiles","version":1,"profiles":[{"name":"A","id":"000102030405060708090a0b0c0d0e0f"},)"
      R"({"name":"a","id":"000102030405060708090a0b0c0d0e1f"}]})",
      R"({"format":"pstkit-mapi-profiles","version":1,"default_profile":"X","profiles":[]})",
      R"({"format":"pstkit-mapi-profiles","version":1,"profiles":[{"name":"A","id":"000102030405060708090a0b0c0d0e0f",)"
      R"("services":[{"uid":"000102030405060708090a0b0c0d0e0f","name":"S","props":[{"tag":"0x30090003","value":"x"}]}]}]})",
      std::string(100000, '['),
  };
  for (const auto& bad : bad_files) {
    spit(store.file_path(), bad);
    auto rows = store.list();
    ASSERT_FALSE(rows.is_ok()) << bad.substr(0, 60);
    EXPECT_EQ(kind(rows), ErrorKind::kCorrupt) << rows.status().message();
    EXPECT_NE(rows.status().message().find(store.file_path()), std::string::npos) << rows.status().message();
    Status s = store.create_profile("New");
    EXPECT_EQ(kind(s), ErrorKind::kCorrupt);
    EXPECT_EQ(slurp(store.file_path()), bad) << "the file was overwritten";
  }
}

TEST(MapiProfilesTest, CopyRenameDefaultAndServices) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  ASSERT_TRUE(store.create_profile("A").is_ok());
  ASSERT_TRUE(store.set_default_profile("A").is_ok());
  auto uid = store.create_service("A", "MSUPST MS", "", builtin_catalog());
  ASSERT_TRUE(uid.is_ok());
  ASSERT_TRUE(store.copy_profile("A", "B").is_ok());
  ASSERT_TRUE(store.rename_profile("A", "C").is_ok());
  EXPECT_EQ(names(store), (std::set<std::string>{"B", "C"}));
  auto rows = store.list();
  ASSERT_TRUE(rows.is_ok());
  for (const auto& r : *rows) EXPECT_EQ(r.is_default, r.name == "C") << r.name;  // the default follows the rename
  // The copy keeps the services.
  auto b_services = store.service_table("B");
  ASSERT_TRUE(b_services.is_ok());
  ASSERT_EQ(b_services->size(), 1u);
  EXPECT_EQ((*b_services)[0].display_name, "Personal Folders");
  // copy_service makes new section UIDs; rename and delete.
  auto copy = store.copy_service("C", *uid, "C");
  ASSERT_TRUE(copy.is_ok());
  EXPECT_NE(*copy, *uid);
  ASSERT_TRUE(store.rename_service("C", *copy, "Archive").is_ok());
  auto c_services = store.service_table("C");
  ASSERT_TRUE(c_services.is_ok());
  ASSERT_EQ(c_services->size(), 2u);
  EXPECT_EQ((*c_services)[1].display_name, "Archive");
  auto providers = store.provider_table("C", &*copy);
  ASSERT_TRUE(providers.is_ok());
  ASSERT_EQ(providers->size(), 1u);
  EXPECT_EQ((*providers)[0].ordinal, 2);
  auto all_providers = store.provider_table("C");
  ASSERT_TRUE(all_providers.is_ok());
  EXPECT_NE((*all_providers)[0].provider_uid, (*all_providers)[1].provider_uid);
  ASSERT_TRUE(store.delete_service("C", *uid).is_ok());
  EXPECT_EQ(store.service_table("C")->size(), 1u);
  ASSERT_TRUE(store.set_section_props("C", *copy, {SectionProp::long_value(PROP_TAG(PT_LONG, 0x6605), 7)}).is_ok());
  EXPECT_EQ(store.section("C", *copy)->get_long(0x6605).value(), 7);
  // Clearing the default; deleting the default clears it.
  ASSERT_TRUE(store.set_default_profile("").is_ok());
  auto cleared = store.list();
  ASSERT_TRUE(cleared.is_ok());
  for (const auto& r : *cleared) EXPECT_FALSE(r.is_default);
  ASSERT_TRUE(store.set_default_profile("B").is_ok());
  ASSERT_TRUE(store.delete_profile("B").is_ok());
  EXPECT_TRUE(store.read()->default_profile.empty());
  // An app profile cannot be the default.
  ASSERT_TRUE(store.create_profile("App", "", true).is_ok());
  EXPECT_EQ(kind(store.set_default_profile("App")), ErrorKind::kInvalid);
}

TEST(MapiProfilesTest, DeleteAndRenameWhileInUseWaitForTheLastUser) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  ASSERT_TRUE(store.create_profile("Busy").is_ok());
  ASSERT_TRUE(store.create_profile("Renamed").is_ok());
  auto use1 = store.acquire_use("Busy");
  auto use2 = store.acquire_use("Busy");
  ASSERT_TRUE(use1.is_ok() && use2.is_ok());
  ASSERT_TRUE(store.delete_profile("Busy").is_ok());
  // Gone from the table at once, record kept while used.
  EXPECT_EQ(names(store), (std::set<std::string>{"Renamed"}));
  EXPECT_EQ(kind(store.acquire_use("Busy")), ErrorKind::kNotFound);
  EXPECT_EQ(store.read()->profiles.size(), 2u);
  EXPECT_EQ(kind(store.create_profile("Busy")), ErrorKind::kExists);
  ASSERT_TRUE((*use1)->release().is_ok());
  EXPECT_EQ(store.read()->profiles.size(), 2u);  // one user is left
  use2->reset();                                 // the last user ends
  EXPECT_EQ(store.read()->profiles.size(), 1u);
  EXPECT_TRUE(store.create_profile("Busy").is_ok());

  // Rename while used: applied when unused.
  auto use3 = store.acquire_use("Renamed");
  ASSERT_TRUE(use3.is_ok());
  ASSERT_TRUE(store.rename_profile("Renamed", "Later").is_ok());
  EXPECT_EQ(names(store), (std::set<std::string>{"Busy", "Renamed"}));
  EXPECT_EQ(kind(store.create_profile("Later")), ErrorKind::kExists);
  use3->reset();
  EXPECT_EQ(names(store), (std::set<std::string>{"Busy", "Later"}));
}

TEST(MapiProfilesTest, AProcessThatDiedHoldsNoProfile) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  ASSERT_TRUE(store.create_profile("Crashed").is_ok());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto use = store.acquire_use("Crashed");
    char c = use.is_ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();  // killed below, never released
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  // While the child lives, deletion waits.
  ASSERT_TRUE(store.delete_profile("Crashed").is_ok());
  EXPECT_EQ(store.read()->profiles.size(), 1u);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  // The kernel dropped its lock: the next update removes the record.
  ASSERT_TRUE(store.collect_pending().is_ok());
  EXPECT_TRUE(store.read()->profiles.empty());
}

// Runs body(i) in n child processes at once; true when all exited 0.
template <typename F>
bool in_processes(int n, F body) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) ::_exit(body(i));
    pids.push_back(pid);
  }
  bool ok = true;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok;
}

TEST(MapiProfilesTest, CrossProcessCreatesLoseNoUpdate) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  ASSERT_TRUE(in_processes(4, [&](int p) {
    ProfileStore mine = open_store(dir.path(), std::chrono::milliseconds(60000));
    for (int i = 0; i < 25; ++i) {
      if (!mine.create_profile("P" + std::to_string(p) + "_" + std::to_string(i)).is_ok()) return 1;
    }
    return 0;
  }));
  auto all = names(store);
  EXPECT_EQ(all.size(), 100u);
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 25; ++i) EXPECT_TRUE(all.count("P" + std::to_string(p) + "_" + std::to_string(i)));
  }
}

TEST(MapiProfilesTest, CrossProcessDeletesAndRenamesLoseNoUpdate) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  for (int i = 0; i < 80; ++i) ASSERT_TRUE(store.create_profile("N" + std::to_string(i)).is_ok());
  // Processes 0 and 1 delete N0..N39 (halves); 2 and 3 rename N40..N79.
  ASSERT_TRUE(in_processes(4, [&](int p) {
    ProfileStore mine = open_store(dir.path(), std::chrono::milliseconds(60000));
    for (int i = p * 20; i < p * 20 + 20; ++i) {
      Status s = p < 2 ? mine.delete_profile("N" + std::to_string(i))
                       : mine.rename_profile("N" + std::to_string(i), "R" + std::to_string(i));
      if (!s.is_ok()) return 1;
    }
    return 0;
  }));
  std::set<std::string> expected;
  for (int i = 40; i < 80; ++i) expected.insert("R" + std::to_string(i));
  EXPECT_EQ(names(store), expected);
}

// --- the catalog -----------------------------------------------------------

TEST(MapiProfilesTest, CatalogParsesTheDocumentedExample) {
  // From mapisvc-inf-*.md (the AB and MsgService examples).
  const char* text =
      "; comment\r\n"
      "[Services]\n"
      "AB=Default Address Book\n"
      "MsgService=My Own Service\n"
      "\n"
      "[Default Services]\n"
      "AB=Default Address Book\n"
      "[Help File Mappings]\n"
      "whatever=x.hlp\n"
      "[AB]\n"
      "PR_DISPLAY_NAME=Default Address Book\n"
      "Providers=AB Provider\n"
      "PR_SERVICE_DLL_NAME=AB.DLL\n"
      "PR_SERVICE_SUPPORT_FILES=AB.DLL\n"
      "PR_SERVICE_ENTRY_NAME=DABServiceEntry\n"
      "PR_RESOURCE_FLAGS=SERVICE_NO_PRIMARY_IDENTITY\n"
      "[MsgService]\n"
      "PR_DISPLAY_NAME=My Own Service\n"
      "Providers=MsgService Prov1, MsgService Prov2\n"
      "Sections=First_Special_Section\n"
      "PR_SERVICE_DLL_NAME=MYSERV.DLL\n"
      "PR_SERVICE_SUPPORT_FILES=MYSERV.DLL, MYXXX.DLL, MYZZZ.DLL\n"
      "PR_RESOURCE_FLAGS=SERVICE_SINGLE_COPY\n"
      "66040003=00000000\n"
      "[First_Special_Section]\n"
      "UID=13DB0C8AA05101A9BB000AA002FC45A\n"
      "66020003=01000000\n"
      "66000003=00040000\n"
      "[AB Provider]\n"
      "PR_DISPLAY_NAME=Default Address Book\n"
      "PR_PROVIDER_DISPLAY=Default Address Book\n"
      "PR_PROVIDER_DLL_NAME=AB.DLL\n"
      "PR_RESOURCE_TYPE=MAPI_AB_PROVIDER\n"
      "6600001e=C:\\WINNT35\\System32\\DEFAB.TXT\n"
      "[MsgService Prov1]\n"
      "PR_PROVIDER_DLL_NAME=MYXXX.DLL\n"
      "PR_RESOURCE_TYPE=MAPI_AB_PROVIDER\n"
      "[MsgService Prov2]\n"
      "PR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\n"
      "PR_RESOURCE_FLAGS=STATUS_NO_DEFAULT_STORE\n"
      "34140102=78b2fa70aff711cd9bc800aa002fc45a\n";
  std::vector<CatalogDiagnostic> diags;
  auto catalog = parse_mapisvc_inf(text, "mapisvc.inf", &diags);
  ASSERT_TRUE(catalog.is_ok());
  EXPECT_TRUE(diags.empty()) << diags[0].to_string();
  ASSERT_EQ(catalog->services.size(), 2u);
  const CatalogService* ab = catalog->find("AB");
  ASSERT_NE(ab, nullptr);
  EXPECT_EQ(ab->display_name, "Default Address Book");
  EXPECT_EQ(ab->dll_name(), "AB.DLL");
  EXPECT_EQ(ab->entry_name(), "DABServiceEntry");
  EXPECT_EQ(ab->props.get_long(prop_id(PR_RESOURCE_FLAGS)).value(), static_cast<int32_t>(SERVICE_NO_PRIMARY_IDENTITY));
  ASSERT_EQ(ab->providers.size(), 1u);
  EXPECT_EQ(ab->providers[0].props.get_long(prop_id(PR_RESOURCE_TYPE)).value(), static_cast<int32_t>(MAPI_AB_PROVIDER));
  EXPECT_EQ(ab->providers[0].props.find_tag(0x6600001E)->value,
            SectionProp::string_value(0x6600001E, "C:\\WINNT35\\System32\\DEFAB.TXT").value);
  const CatalogService* ms = catalog->find("MsgService");
  ASSERT_NE(ms, nullptr);
  EXPECT_EQ(ms->entry_name(), "MSGServiceEntry");  // the default entry point
  EXPECT_EQ(std::get<std::vector<std::string>>(ms->props.find(prop_id(PR_SERVICE_SUPPORT_FILES))->value),
            (std::vector<std::string>{"MYSERV.DLL", "MYXXX.DLL", "MYZZZ.DLL"}));
  EXPECT_EQ(ms->props.get_long(0x6604).value(), 0);
  ASSERT_EQ(ms->providers.size(), 2u);
  EXPECT_EQ(ms->providers[1].props.get_long(prop_id(PR_RESOURCE_FLAGS)).value(), static_cast<int32_t>(STATUS_NO_DEFAULT_STORE));
  EXPECT_EQ(std::get<std::vector<uint8_t>>(ms->providers[1].props.find(prop_id(PR_MDB_PROVIDER))->value).size(), 16u);
  // Hex-tagged PT_LONG values are the bytes in order: 01000000 is 1.
  ASSERT_EQ(catalog->extra_sections.count("First_Special_Section"), 1u);
  const PropBag& extra = catalog->extra_sections.at("First_Special_Section");
  EXPECT_EQ(extra.get_long(0x6602).value(), 1);
  EXPECT_EQ(extra.get_long(0x6600).value(), 0x400);
  EXPECT_EQ(catalog->default_services, (std::vector<std::string>{"AB"}));

  // create_service copies the sections into the profile.
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  ASSERT_TRUE(store.create_profile("P").is_ok());
  auto uid = store.create_service("P", "MsgService", "", *catalog);
  ASSERT_TRUE(uid.is_ok());
  auto rows = store.service_table("P");
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ((*rows)[0].dll_name, "MYSERV.DLL");
  EXPECT_EQ((*rows)[0].resource_flags, kServiceSingleCopy);
  EXPECT_EQ((*rows)[0].display_name, "My Own Service");
  auto providers = store.provider_table("P");
  ASSERT_TRUE(providers.is_ok());
  ASSERT_EQ(providers->size(), 2u);
  EXPECT_EQ((*providers)[0].dll_name, "MYXXX.DLL");
  EXPECT_EQ((*providers)[1].resource_type, kMapiStoreProvider);
  EXPECT_EQ((*providers)[1].resource_flags, static_cast<uint32_t>(STATUS_NO_DEFAULT_STORE));
}

TEST(MapiProfilesTest, CatalogReportsBadLinesWithFileAndLine) {
  const std::string text =
      "orphan=1\n"                                  // 1: before any section
      "[Services]\n"                                // 2
      "GOOD=Good\n"                                 // 3
      "MISSING=No section\n"                        // 4: no [MISSING]
      "[GOOD\n"                                     // 5: unterminated header
      "ignored=yes\n"                               // 6: belongs nowhere, silently
      "[GOOD]\n"                                    // 7
      "Providers=GOOD P, LOST P\n"                  // 8: LOST P missing
      "no equals sign\n"                            // 9
      "PR_NO_SUCH_TAG=1\n"                          // 10
      "PR_RESOURCE_FLAGS=SERVICE_BOGUS\n"           // 11
      "66000102=xyz\n"                              // 12: not hex
      "66000005=1\n"                                // 13: PT_DOUBLE unsupported
      "=value\n"                                    // 14
      + std::string(kMaxCatalogLine + 1, 'x') + "\n"  // 15: too long
      "[GOOD P]\n"                                  // 16
      "PR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\n"      // 17
      "[Default Services]\n"                        // 18
      "NOT LISTED=x\n";                             // 19
  std::vector<CatalogDiagnostic> diags;
  auto catalog = parse_mapisvc_inf(text, "/etc/pstkit/mapisvc.inf", &diags);
  ASSERT_TRUE(catalog.is_ok());
  std::vector<uint32_t> lines;
  for (const auto& d : diags) {
    lines.push_back(d.line);
    EXPECT_EQ(d.file, "/etc/pstkit/mapisvc.inf");
  }
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<uint32_t>{1, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 19}))
      << ::testing::PrintToString(lines);
  EXPECT_EQ(diags[0].to_string().rfind("/etc/pstkit/mapisvc.inf:", 0), 0u);
  // What could be read was kept.
  ASSERT_EQ(catalog->services.size(), 1u);
  EXPECT_EQ(catalog->services[0].providers.size(), 1u);
  EXPECT_EQ(catalog->services[0].providers[0].props.get_long(prop_id(PR_RESOURCE_TYPE)).value(), static_cast<int32_t>(MAPI_STORE_PROVIDER));
  // Too large a file is refused as a whole.
  EXPECT_EQ(kind(parse_mapisvc_inf(std::string(kMaxCatalogBytes + 1, '\n'), "big", &diags)), ErrorKind::kInvalid);
}

TEST(MapiProfilesTest, SystemCatalogMergesOverTheBuiltins) {
  Catalog builtins = builtin_catalog();
  ASSERT_NE(builtins.find("MSUPST MS"), nullptr);
  ASSERT_NE(builtins.find("MSPST MS"), nullptr);
  ASSERT_NE(builtins.find("PSTKIT OST"), nullptr);
  EXPECT_TRUE(builtins.find("MSUPST MS")->builtin);
  EXPECT_EQ(builtins.find("MSUPST MS")->providers.at(0).props.get_long(prop_id(PR_RESOURCE_TYPE)).value(),
            MAPI_STORE_PROVIDER);

  TempDir dir;
  const std::string inf = dir.path() + "/mapisvc.inf";
  spit(inf,
       "[Services]\nTHIRD=Third Party\nMSUPST MS=Renamed PST\n"
       "[THIRD]\nProviders=THIRD P\nPR_SERVICE_DLL_NAME=libthird.so\nPR_SERVICE_ENTRY_NAME=ThirdEntry\n"
       "[THIRD P]\nPR_PROVIDER_DLL_NAME=libthird.so\nPR_RESOURCE_TYPE=MAPI_TRANSPORT_PROVIDER\n"
       "[MSUPST MS]\nProviders=MSUPST MSP\n[MSUPST MSP]\nPR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\n");
  std::vector<CatalogDiagnostic> diags;
  auto merged = load_catalog_from(inf, &diags);
  ASSERT_TRUE(merged.is_ok());
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ(merged->services.size(), 4u);
  EXPECT_EQ(merged->find("THIRD")->dll_name(), "libthird.so");
  EXPECT_EQ(merged->find("THIRD")->entry_name(), "ThirdEntry");
  EXPECT_FALSE(merged->find("THIRD")->builtin);
  EXPECT_EQ(merged->find("MSUPST MS")->display_name, "Renamed PST");  // the system file wins
  // A missing system file leaves the built-ins.
  auto none = load_catalog_from(dir.path() + "/absent.inf", &diags);
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->services.size(), 3u);
  // The path comes from PSTKIT_MAPISVC_INF.
  ::setenv("PSTKIT_MAPISVC_INF", inf.c_str(), 1);
  EXPECT_EQ(system_catalog_path(), inf);
  ::unsetenv("PSTKIT_MAPISVC_INF");
  EXPECT_EQ(system_catalog_path(), "/etc/pstkit/mapisvc.inf");
}

TEST(MapiProfilesTest, ProfileDirectoryComesFromTheEnvironment) {
  const char* saved_home = std::getenv("HOME");
  const std::string home = saved_home ? saved_home : "";
  ::setenv("PSTKIT_PROFILE_DIR", "/tmp/explicit", 1);
  ::setenv("XDG_CONFIG_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(*default_profile_dir(), "/tmp/explicit");
  ::unsetenv("PSTKIT_PROFILE_DIR");
  EXPECT_EQ(*default_profile_dir(), "/tmp/xdg/pstkit");
  ::setenv("XDG_CONFIG_HOME", "relative", 1);  // invalid per the XDG spec: ignored
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(*default_profile_dir(), "/home/someone/.config/pstkit");
  ::unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(*default_profile_dir(), "/home/someone/.config/pstkit");
  if (saved_home) ::setenv("HOME", home.c_str(), 1);
}

// The issue's service list: "MSUPST MS" opens ANSI and Unicode files, and an
// OST read-only; Outlook's Unicode PST provider opens ANSI files too.
TEST(MapiProfilesTest, UnicodeServiceOpensAnsiStoresAndOsts) {
  TempDir dir;
  ProfileStore store = open_store(dir.path());
  ASSERT_TRUE(store.create_profile("P").is_ok());
  auto uid = store.create_service("P", "MSUPST MS", "", builtin_catalog());
  ASSERT_TRUE(uid.is_ok());
  NewStoreOptions ansi;
  ansi.format = ndb::FileFormat::kAnsi;
  ASSERT_TRUE(StoreWriter::create(dir.path() + "/old.pst", ansi).is_ok());
  ASSERT_TRUE(store.configure_service("P", *uid, {SectionProp::string_value(tags::kPstPath, dir.path() + "/old.pst")})
                  .is_ok());
  auto section = store.section("P", *uid);
  ASSERT_TRUE(section.is_ok());
  EXPECT_EQ(section->get_string(prop_id(tags::kPstPath)).value(), dir.path() + "/old.pst");
}

}  // namespace
}  // namespace pstkit::mapi
