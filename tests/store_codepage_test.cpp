// Code pages of ANSI stores (issue 7 item 3) and the RTF of dump --full
// (item 4): generated ANSI stores whose 8-bit strings are in 932, 936, 949,
// 1251 and 1253, with the code page on the items (PidTagMessageCodepage, or
// only an Internet code page) or nowhere; the library and every reading
// command of the CLI must decode each string the same, correct, way.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <unicode/uvernum.h>

#include "pstkit/codepage.h"
#include "pstkit/rtf.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

#define PSTKIT_TEST_STRINGIFY(x) PSTKIT_TEST_STRINGIFY_LITERAL(x)
#define PSTKIT_TEST_STRINGIFY_LITERAL(x) #x

namespace fs = std::filesystem;
using nlohmann::json;

struct Language {
  uint32_t codepage;
  uint32_t internet_codepage;  // a MIME charset of the same script
  std::string folder;
  std::vector<std::string> subjects;
  std::string body;
};

const std::vector<Language>& languages() {
  static const std::vector<Language> all = {
      {932, 50220, "日本", {"会議の予定について", "見積書の送付", "お問い合わせありがとうございます"},
       "いつもお世話になっております。来週の会議の日程についてご連絡いたします。よろしくお願いいたします。"},
      {936, 52936, "中文", {"关于下周会议的安排", "报价单已发送", "感谢您的咨询"},
       "您好，关于下周的会议安排，请查收附件中的日程表。如有问题请随时联系我们。谢谢。"},
      {949, 51949, "한국", {"다음 주 회의 일정", "견적서 송부", "문의해 주셔서 감사합니다"},
       "안녕하세요. 다음 주 회의 일정에 대해 알려 드립니다. 궁금한 점이 있으시면 언제든지 연락 주십시오. 감사합니다."},
      {1251, 20866, "Письма", {"Встреча на следующей неделе", "Счёт на оплату", "Спасибо за ваш запрос"},
       "Здравствуйте! Сообщаем вам о расписании встречи на следующей неделе. Если у вас есть вопросы, "
       "пожалуйста, свяжитесь с нами. Спасибо."},
      {1253, 28597, "Φάκελος", {"Συνάντηση την επόμενη εβδομάδα", "Αποστολή προσφοράς", "Ευχαριστούμε για το ερώτημά σας"},
       "Καλημέρα σας. Σας ενημερώνουμε για το πρόγραμμα της συνάντησης την επόμενη εβδομάδα. Για οποιαδήποτε "
       "απορία επικοινωνήστε μαζί μας. Ευχαριστούμε."},
  };
  return all;
}

// Where the items keep their code page.
enum class Marking { kMessageCodepage, kInternetCodepageOnly, kNone, kSevenBitMessageCodepage };
const char* marking_name(Marking m) {
  return m == Marking::kMessageCodepage            ? "PidTagMessageCodepage"
         : m == Marking::kSevenBitMessageCodepage ? "a 7-bit PidTagMessageCodepage"
         : m == Marking::kInternetCodepageOnly ? "PidTagInternetCodepage only"
                                               : "no code page";
}

PropValue string8(uint16_t id, const std::string& utf8, uint32_t codepage) {
  return PropValue{ltp::make_tag(id, ltp::kPtypString8), encode_codepage(utf8, codepage)};
}
PropValue i32(uint16_t id, int32_t v) {
  PropValue p{ltp::make_tag(id, ltp::kPtypInteger32), Bytes(4)};
  store_le32(p.data.data(), uint32_t(v));
  return p;
}

// The RTF of the message "rtf": \bin data with every byte value, DBCS text
// and NULs, none of which may be lost.
Bytes test_rtf() {
  std::string head = "{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0 MS Gothic;}}\\f0 ";
  Bytes rtf(head.begin(), head.end());
  Bytes jp = encode_codepage("日本語のテキスト", 932);
  rtf.insert(rtf.end(), jp.begin(), jp.end());
  std::string pict = "\\par{\\pict\\wmetafile8\\bin512 ";
  rtf.insert(rtf.end(), pict.begin(), pict.end());
  for (int i = 0; i < 512; ++i) rtf.push_back(uint8_t((i * 7) & 0xFF));
  std::string tail = "}\\par}";
  rtf.insert(rtf.end(), tail.begin(), tail.end());
  return rtf;
}

// Writes an ANSI store holding lang's folder (below the IPM subtree) with a
// message per subject, marked as `marking` says, and one message with an
// RTF body and PidTagInternetCodepage 20127 (us-ascii).
void write_store(const std::string& path, const Language& lang, Marking marking) {
  NewStoreOptions o;
  o.format = ndb::FileFormat::kAnsi;
  auto w = StoreWriter::create(path, o);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  // The writer encodes folder names in 1252; the name whose 1252 encoding
  // is the name's bytes in lang's code page gives the folder those bytes.
  const Bytes name_bytes = encode_codepage(lang.folder, lang.codepage);
  const std::string as_1252 = decode_codepage(ByteView(name_bytes), 1252);
  ASSERT_EQ(encode_codepage(as_1252, 1252), name_bytes) << "pick a folder name that survives 1252";
  auto folder = (*w)->create_folder((*w)->ipm_subtree(), as_1252);
  ASSERT_TRUE(folder.is_ok()) << folder.status().message();
  for (const std::string& subject : lang.subjects) {
    NewMessage m;
    m.properties.push_back(string8(prop::kSubject, subject, lang.codepage));
    m.properties.push_back(string8(prop::kBody, lang.body, lang.codepage));
    if (marking == Marking::kMessageCodepage) m.properties.push_back(i32(prop::kMessageCodepage, int32_t(lang.codepage)));
    if (marking == Marking::kSevenBitMessageCodepage)
      m.properties.push_back(i32(prop::kMessageCodepage, int32_t(lang.internet_codepage)));
    if (marking == Marking::kInternetCodepageOnly)
      m.properties.push_back(i32(prop::kInternetCodepage, int32_t(lang.internet_codepage)));
    auto nid = (*w)->create_message(*folder, m);
    ASSERT_TRUE(nid.is_ok()) << nid.status().message();
    // The writer marks every message of an ANSI store with the code page it
    // encoded in; these items must not have one.
    if (marking != Marking::kMessageCodepage && marking != Marking::kSevenBitMessageCodepage) {
      ASSERT_TRUE((*w)->remove_message_properties(*nid, {prop::kMessageCodepage}).is_ok());
    }
  }
  NewMessage rtf;
  rtf.properties.push_back(string8(prop::kSubject, "rtf", 1252));
  rtf.properties.push_back(i32(prop::kInternetCodepage, 20127));
  rtf.properties.push_back(PropValue{ltp::make_tag(prop::kRtfCompressed, ltp::kPtypBinary), rtf::compress(test_rtf())});
  auto nid = (*w)->create_message(*folder, rtf);
  ASSERT_TRUE(nid.is_ok()) << nid.status().message();
  ASSERT_TRUE((*w)->remove_message_properties(*nid, {prop::kMessageCodepage}).is_ok());
  ASSERT_TRUE((*w)->commit().is_ok());
}

class ScratchDir {
 public:
  ScratchDir() {
    path_ = fs::temp_directory_path() / ("pstkit_codepage_" + std::to_string(getpid()));
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Runs the pstkit CLI (this build's, or $PSTKIT_CLI to try another);
// stdout, and the exit status in *status.
std::string pstkit_cli(const std::string& args, int* status = nullptr) {
  const char* other = std::getenv("PSTKIT_CLI");
  const std::string cmd = std::string(other ? other : PSTKIT_CLI_PATH) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

Bytes base64_decode(const std::string& text) {
  Bytes out;
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : text) {
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* at = c ? std::strchr(alphabet, c) : nullptr;
    if (!at) continue;  // padding
    bits = (bits << 6) | uint32_t(at - alphabet);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(uint8_t(bits >> nbits));
    }
  }
  return out;
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

TEST(Codepage, InternetCodepagesMapToTheirAnsiPage) {
  EXPECT_EQ(ansi_codepage_for(50220), 932u);
  EXPECT_EQ(ansi_codepage_for(50221), 932u);
  EXPECT_EQ(ansi_codepage_for(50222), 932u);
  EXPECT_EQ(ansi_codepage_for(51932), 932u);
  EXPECT_EQ(ansi_codepage_for(52936), 936u);
  EXPECT_EQ(ansi_codepage_for(51949), 949u);
  EXPECT_EQ(ansi_codepage_for(28595), 1251u);
  EXPECT_EQ(ansi_codepage_for(20866), 1251u);
  EXPECT_EQ(ansi_codepage_for(28597), 1253u);
  EXPECT_EQ(ansi_codepage_for(28591), 1252u);
  EXPECT_EQ(ansi_codepage_for(932), 932u);
  EXPECT_EQ(ansi_codepage_for(1250), 1250u);
  EXPECT_FALSE(ansi_codepage_for(65001));
  EXPECT_FALSE(ansi_codepage_for(1200));
  EXPECT_FALSE(ansi_codepage_for(20127));
  EXPECT_FALSE(ansi_codepage_for(4242));
}

TEST(Codepage, DetectsTheCodepageOfASample) {
  for (const Language& lang : languages()) {
    Bytes sample;
    for (const std::string& s : lang.subjects) {
      Bytes b = encode_codepage(s + "\n", lang.codepage);
      sample.insert(sample.end(), b.begin(), b.end());
    }
    Bytes b = encode_codepage(lang.body, lang.codepage);
    sample.insert(sample.end(), b.begin(), b.end());
    EXPECT_EQ(detect_codepage(ByteView(sample)), lang.codepage) << lang.codepage;
  }
  EXPECT_FALSE(detect_codepage(ByteView(encode_codepage("plain ASCII", 1252))));
  // Short Western strings give ICU little to go on; whatever is guessed
  // must read them as 1252 does (ICU ranks Shift-JIS first for "Grüße").
  for (const char* western : {"café", "Grüße", "Zürich", "naïve résumé", "Año nuevo, señor", "Åsa Öberg"}) {
    const Bytes b = encode_codepage(western, 1252);
    const auto cp = detect_codepage(ByteView(b));
    if (cp) {
      EXPECT_EQ(decode_codepage(ByteView(b), *cp), western) << western << " read as " << *cp;
    }
  }
  const std::string utf8 = "Grüße aus Köln, schöne Grüße und bis bald, Ärger über Öl";
  EXPECT_EQ(detect_codepage(ByteView(reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size())), 65001u);
}

// ICU is not linked: libicui18n is opened by the first detection that needs
// it (a sample with 8-bit bytes), and the guesses come from it. Checked in a
// fresh process (this binary, running only the test below), since other
// tests here may have detected a code page already.
bool icu_i18n_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find("/libicui18n.so.") != std::string::npos) return true;
  return false;
}

constexpr const char* kFreshProcessVariable = "PSTKIT_TEST_FRESH_PROCESS";

TEST(CodepageFreshProcess, DetectionOpensIcuOnFirstUse) {
  if (!std::getenv(kFreshProcessVariable)) GTEST_SKIP() << "run by Codepage.DetectionOpensIcuOnFirstUse";
  EXPECT_FALSE(icu_i18n_mapped()) << "libicui18n is mapped before any detection";
  EXPECT_FALSE(detect_codepage(ByteView(encode_codepage("plain ASCII", 1252))));
  EXPECT_FALSE(icu_i18n_mapped()) << "ASCII needs no detection";
  const Language& cyrillic = languages()[3];
  ASSERT_EQ(cyrillic.codepage, 1251u);
  const Bytes sample = encode_codepage(cyrillic.body, cyrillic.codepage);
  EXPECT_EQ(detect_codepage(ByteView(sample)), 1251u);
  EXPECT_TRUE(icu_i18n_mapped());
}

TEST(Codepage, DetectionOpensIcuOnFirstUse) {
  const std::string cmd = std::string(kFreshProcessVariable) +
                          "=1 /proc/" + std::to_string(getpid()) +
                          "/exe --gtest_filter=CodepageFreshProcess.DetectionOpensIcuOnFirstUse 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) output.append(buf, n);
  const int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_NE(output.find("[  PASSED  ] 1 test"), std::string::npos) << output;
}

// A PidTagMessageCodepage that names a 7-bit encoding (ISO-2022-JP, HZ)
// cannot be the encoding of 8-bit strings: they are read in the ANSI page of
// its script, not turned into U+FFFD.
TEST(StoreCodepage, SevenBitMessageCodepageReadsAsItsAnsiPage) {
  ScratchDir dir;
  for (const Language& lang : languages()) {
    if (!is_seven_bit_codepage(lang.internet_codepage)) continue;
    SCOPED_TRACE(std::to_string(lang.internet_codepage));
    const std::string path = dir.file("s7.pst");
    fs::remove(path);
    write_store(path, lang, Marking::kSevenBitMessageCodepage);
    auto store = Store::open(path);
    ASSERT_TRUE(store.is_ok()) << store.status().message();
    auto ipm = (*store)->open_folder(*(*store)->ipm_subtree_nid());
    ASSERT_TRUE(ipm.is_ok());
    auto rows = ipm->subfolders();
    ASSERT_TRUE(rows.is_ok());
    ASSERT_FALSE(rows->empty());
    for (const auto& row : *rows) {
      auto folder = (*store)->open_folder(row.nid);
      ASSERT_TRUE(folder.is_ok());
      auto contents = folder->contents();
      ASSERT_TRUE(contents.is_ok());
      for (size_t i = 0; i < contents->size() && i < lang.subjects.size(); ++i) {
        auto m = (*store)->open_message((*contents)[i].nid);
        ASSERT_TRUE(m.is_ok());
        EXPECT_EQ(m->subject(), lang.subjects[i]);
        EXPECT_EQ((*contents)[i].props.get_string(prop::kSubject), lang.subjects[i]);
      }
    }
  }
  EXPECT_TRUE(is_seven_bit_codepage(50220));
  EXPECT_FALSE(is_seven_bit_codepage(20866));
}

// The library: the store's code page, folder names, contents rows and
// messages.
TEST(StoreCodepage, AnsiStoresDecodeEveryStringAlike) {
  ScratchDir dir;
  for (const Language& lang : languages()) {
    for (Marking marking : {Marking::kMessageCodepage, Marking::kInternetCodepageOnly, Marking::kNone}) {
      SCOPED_TRACE(std::to_string(lang.codepage) + ", " + marking_name(marking));
      const std::string path = dir.file("s.pst");
      fs::remove(path);
      write_store(path, lang, marking);
      auto store = Store::open(path);
      ASSERT_TRUE(store.is_ok()) << store.status().message();
      EXPECT_EQ((*store)->codepage(), lang.codepage);
      EXPECT_EQ((*store)->codepage_source(),
                marking == Marking::kNone ? CodepageSource::kBytes : CodepageSource::kItems);
      auto ipm = (*store)->open_folder(*(*store)->ipm_subtree_nid());
      ASSERT_TRUE(ipm.is_ok());
      auto rows = ipm->subfolders();
      ASSERT_TRUE(rows.is_ok());
      Nid folder_nid = 0;
      for (const auto& r : *rows)
        if (r.props.get_string(prop::kDisplayName) == lang.folder) folder_nid = r.nid;
      ASSERT_NE(folder_nid, 0u) << "no hierarchy row names the folder " << lang.folder;
      auto folder = (*store)->open_folder(folder_nid);
      ASSERT_TRUE(folder.is_ok());
      EXPECT_EQ(folder->name(), lang.folder);
      auto contents = folder->contents();
      ASSERT_TRUE(contents.is_ok());
      ASSERT_EQ(contents->size(), lang.subjects.size() + 1);
      for (size_t i = 0; i < lang.subjects.size(); ++i) {
        EXPECT_EQ((*contents)[i].props.get_string(prop::kSubject), lang.subjects[i]);
        auto m = (*store)->open_message((*contents)[i].nid);
        ASSERT_TRUE(m.is_ok());
        EXPECT_EQ(m->subject(), lang.subjects[i]);
        EXPECT_EQ(m->body_text(), lang.body);
        EXPECT_EQ(m->codepage(), lang.codepage);
      }
      // A code page given by the user replaces the store's, not the items'.
      StoreOptions forced;
      forced.codepage_override = 1252;
      auto as_1252 = Store::open(path, forced);
      ASSERT_TRUE(as_1252.is_ok());
      EXPECT_EQ((*as_1252)->codepage(), 1252u);
      EXPECT_EQ((*as_1252)->codepage_source(), CodepageSource::kOption);
      auto f = (*as_1252)->open_folder(folder_nid);
      ASSERT_TRUE(f.is_ok());
      EXPECT_EQ(f->name(), decode_codepage(ByteView(encode_codepage(lang.folder, lang.codepage)), 1252));
    }
  }
}

// Writing into such a store: folder names and messages that name no code
// page are encoded in the store's code page, so they read back as written.
TEST(StoreCodepage, WritesInTheStoresCodepage) {
  ScratchDir dir;
  for (const Language& lang : languages()) {
    SCOPED_TRACE(lang.codepage);
    const std::string path = dir.file("w.pst");
    fs::remove(path);
    write_store(path, lang, Marking::kNone);
    {
      auto w = StoreWriter::open(path);
      ASSERT_TRUE(w.is_ok()) << w.status().message();
      auto folder = (*w)->create_folder((*w)->ipm_subtree(), lang.subjects[1]);
      ASSERT_TRUE(folder.is_ok());
      NewMessage m;
      m.properties.push_back(PropValue{ltp::make_tag(prop::kSubject, ltp::kPtypString), utf8_to_utf16le(lang.subjects[2])});
      ASSERT_TRUE((*w)->create_message(*folder, m).is_ok());
      ASSERT_TRUE((*w)->commit().is_ok());
    }
    auto store = Store::open(path);
    ASSERT_TRUE(store.is_ok());
    auto ipm = (*store)->open_folder(*(*store)->ipm_subtree_nid());
    ASSERT_TRUE(ipm.is_ok());
    auto subfolders = ipm->subfolders();
    ASSERT_TRUE(subfolders.is_ok());
    bool found = false;
    for (const auto& r : *subfolders) {
      if (r.props.get_string(prop::kDisplayName) != lang.subjects[1]) continue;
      found = true;
      auto f = (*store)->open_folder(r.nid);
      ASSERT_TRUE(f.is_ok());
      EXPECT_EQ(f->name(), lang.subjects[1]);
      auto rows = f->contents();
      ASSERT_TRUE(rows.is_ok());
      ASSERT_EQ(rows->size(), 1u);
      EXPECT_EQ((*rows)[0].props.get_string(prop::kSubject), lang.subjects[2]);
      auto msg = (*store)->open_message((*rows)[0].nid);
      ASSERT_TRUE(msg.is_ok());
      EXPECT_EQ(msg->subject(), lang.subjects[2]);
      EXPECT_EQ(msg->codepage(), lang.codepage);
    }
    EXPECT_TRUE(found) << "no folder named " << lang.subjects[1];
  }
}

// The CLI: info names the code page and its source; ls -r, show and dump
// print the same, correct, text; --codepage overrides the store's.
// ICU is opened on first use: a libicui18n that cannot be used (here a copy
// of zlib under its name, found first through LD_LIBRARY_PATH) leaves the
// code page unguessed, and the store is read in the default page. With ICU
// linked the program did not start.
TEST(StoreCodepage, UnusableIcuGuessesNothingAndFailsNothing) {
  ScratchDir dir;
  const Language& cyrillic = languages()[3];
  const std::string path = dir.file("c.pst");
  write_store(path, cyrillic, Marking::kNone);
  const std::string libs = dir.file("libs");
  fs::create_directories(libs);
  const std::string icu = "libicui18n.so." PSTKIT_TEST_STRINGIFY(U_ICU_VERSION_MAJOR_NUM);
  std::error_code ec;
  fs::copy_file("/lib/x86_64-linux-gnu/libz.so.1", libs + "/" + icu, ec);
  if (ec) GTEST_SKIP() << "no /lib/x86_64-linux-gnu/libz.so.1 to stand in for " << icu;
  const std::string cmd = "LD_LIBRARY_PATH=" + libs + " " + PSTKIT_CLI_PATH + " info --json " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int rc = pclose(p);
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << out;
  const json info = json::parse(out);
  EXPECT_EQ(info["store"]["codepage"], 1252) << out;
  EXPECT_EQ(info["store"]["codepage_source"], "default") << out;
  // The same store with the real ICU: guessed from its bytes.
  int status = -1;
  const json guessed = json::parse(pstkit_cli("info --json " + path, &status));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(guessed["store"]["codepage"], 1251);
  EXPECT_EQ(guessed["store"]["codepage_source"], "inferred from bytes");
}

TEST(StoreCodepage, EveryReadingCommandDecodesAlike) {
  ScratchDir dir;
  for (const Language& lang : languages()) {
    for (Marking marking : {Marking::kInternetCodepageOnly, Marking::kNone}) {
      SCOPED_TRACE(std::to_string(lang.codepage) + ", " + marking_name(marking));
      const std::string path = dir.file("c.pst");
      fs::remove(path);
      write_store(path, lang, marking);
      int status = -1;
      json info = json::parse(pstkit_cli("info --json " + path, &status));
      EXPECT_EQ(status, 0);
      EXPECT_EQ(info["store"]["codepage"], lang.codepage);
      EXPECT_EQ(info["store"]["codepage_source"],
                marking == Marking::kNone ? "inferred from bytes" : "inferred from items");

      std::vector<std::string> ls_subjects, ls_folders;
      for (const json& j : json_lines(pstkit_cli("ls -r --json " + path, &status))) {
        if (j["type"] == "item" && j["subject"] != "rtf") ls_subjects.push_back(j["subject"].get<std::string>());
        if (j["type"] == "item") ls_folders.push_back(j["folder"].back().get<std::string>());
      }
      EXPECT_EQ(status, 0);
      EXPECT_EQ(ls_subjects, lang.subjects);
      ASSERT_FALSE(ls_folders.empty());
      EXPECT_EQ(ls_folders.front(), lang.folder);

      std::vector<std::string> dump_subjects;
      std::vector<Nid> nids;
      for (const json& j : json_lines(pstkit_cli("dump --json --full " + path, &status))) {
        if (j["type"] != "item") continue;
        EXPECT_EQ(j["folder"].back(), lang.folder);
        if (j["subject"] == "rtf") {
          // Item 4: the decompressed RTF, byte for byte.
          ASSERT_TRUE(j["rtf"].is_object());
          EXPECT_EQ(base64_decode(j["rtf"]["base64"].get<std::string>()), test_rtf());
          continue;
        }
        dump_subjects.push_back(j["subject"].get<std::string>());
        EXPECT_EQ(j["body"], lang.body);
        nids.push_back(j["nid"].get<Nid>());
      }
      EXPECT_EQ(status, 0);
      EXPECT_EQ(dump_subjects, lang.subjects);
      ASSERT_FALSE(nids.empty());
      json show = json::parse(pstkit_cli("show --json " + path + " " + std::to_string(nids.front()), &status));
      EXPECT_EQ(status, 0);
      EXPECT_NE(show.dump().find(lang.subjects.front()), std::string::npos) << show.dump();

      // --codepage replaces the store's code page on every reading command.
      info = json::parse(pstkit_cli("info --json --codepage 1252 " + path, &status));
      EXPECT_EQ(info["store"]["codepage"], 1252);
      EXPECT_EQ(info["store"]["codepage_source"], "--codepage");
      const std::string mojibake = decode_codepage(ByteView(encode_codepage(lang.folder, lang.codepage)), 1252);
      for (const char* cmd : {"ls -r --json", "dump --json"}) {
        bool seen = false;
        for (const json& j : json_lines(pstkit_cli(std::string(cmd) + " --codepage 1252 " + path, &status))) {
          if (j["type"] == "item" && j["folder"].back() == mojibake) seen = true;
        }
        EXPECT_TRUE(seen) << cmd;
      }
    }
  }
  int status = -1;
  pstkit_cli("info --codepage 4242 /nonexistent.pst", &status);
  EXPECT_EQ(status, 2);
}

}  // namespace
}  // namespace pstkit
