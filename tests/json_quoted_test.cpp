// json_quoted (src/cli/export_journal.cpp): the export's journal records and
// manifest entries quote paths and digests without building a json value,
// and must give exactly what nlohmann::json(s).dump() gives, which wrote
// them before (manifest.json is compared byte for byte across versions).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/export_journal.h"

namespace pstkit::cli {
namespace {

TEST(JsonQuoted, WritesWhatNlohmannDumpWrites) {
  const std::vector<std::string> cases = {
      "",
      "Top of Outlook data file/Inbox/2097188.eml",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "a \"quoted\" name",
      "back\\slash",
      "tab\there, line\nend, return\r, bell\a, nul" + std::string(1, '\0') + "!",
      std::string(1, '\x1f') + "\x7f" + "del",
      "Posteingang/Entwürfe/Ünïcödé ✓ 日本語 😀.eml",
      "~!@#$%^&*()_+`-={}|[]:;'<>?,./ ",
  };
  for (const std::string& s : cases) EXPECT_EQ(json_quoted(s), nlohmann::ordered_json(s).dump()) << s;
  // Every single byte below 0x80, and printable ASCII runs.
  for (int c = 0; c < 0x80; ++c) {
    const std::string s = "x" + std::string(1, char(c)) + "y";
    EXPECT_EQ(json_quoted(s), nlohmann::ordered_json(s).dump()) << c;
  }
}

TEST(JsonQuoted, InvalidUtf8FailsAsNlohmannDoes) {
  const std::string bad = "caf\xe9.eml";  // Latin-1, not UTF-8
  EXPECT_THROW((void)nlohmann::ordered_json(bad).dump(), nlohmann::ordered_json::type_error);
  EXPECT_THROW((void)json_quoted(bad), nlohmann::ordered_json::type_error);
}

}  // namespace
}  // namespace pstkit::cli
