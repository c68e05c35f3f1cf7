// StoreWriter's additions for the MAPI object model: folder properties set
// and removed, a message's recipients replaced. In both file formats, read
// back with the reader and checked clean.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "pstkit/check.h"
#include "pstkit/store_writer.h"

namespace pstkit {
namespace {

class StoreWriterObjectModel : public ::testing::TestWithParam<ndb::FileFormat> {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "writer_object_model_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter_++) + ".pst";
    std::filesystem::remove(path_);
    NewStoreOptions options;
    options.format = GetParam();
    auto w = StoreWriter::create(path_, options);
    ASSERT_TRUE(w) << w.status().message();
    writer_ = std::move(*w);
  }
  void TearDown() override {
    writer_.reset();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  void expect_clean() {
    auto report = check::check_file(path_);
    ASSERT_TRUE(report.is_ok()) << report.status().message();
    std::string findings;
    for (const auto& f : report->findings) {
      if (f.severity == check::Severity::kError) findings += f.code + ": " + f.message + "\n";
    }
    EXPECT_TRUE(report->clean()) << findings;
  }
  std::string path_;
  std::unique_ptr<StoreWriter> writer_;
  static inline int counter_ = 0;
};

TEST_P(StoreWriterObjectModel, FolderPropertiesAreSetRemovedAndFollowedByTheHierarchyRow) {
  auto folder = writer_->create_folder(writer_->ipm_subtree(), "Projects");
  ASSERT_TRUE(folder);
  ASSERT_TRUE(writer_->commit().is_ok());
  ASSERT_TRUE(writer_->set_folder_properties(*folder, {ltp::string_value(0x3004, "a comment"),
                                                       ltp::string_value(prop::kDisplayName, "Renamed")})
                  .is_ok());
  // The counts the writer keeps are refused.
  EXPECT_EQ(writer_->set_folder_properties(*folder, {ltp::int32_value(prop::kContentCount, 5)}).code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(writer_->commit().is_ok());
  {
    auto store = Store::open(path_);
    ASSERT_TRUE(store);
    auto f = (*store)->open_folder(*folder);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->name(), "Renamed");
    EXPECT_EQ(f->properties().get_string(0x3004).value_or(""), "a comment");
    auto parent = (*store)->open_folder(writer_->ipm_subtree());
    auto rows = parent->subfolders();
    ASSERT_TRUE(rows);
    bool row_renamed = false;
    for (const auto& r : *rows) {
      if (r.nid == *folder) row_renamed = r.props.get_string(prop::kDisplayName) == "Renamed";
    }
    EXPECT_TRUE(row_renamed);
  }
  ASSERT_TRUE(writer_->remove_folder_properties(*folder, {0x3004}).is_ok());
  EXPECT_EQ(writer_->remove_folder_properties(*folder, {prop::kDisplayName}).code(), Code::kInvalidArgument);
  ASSERT_TRUE(writer_->commit().is_ok());
  auto store = Store::open(path_);
  EXPECT_FALSE((*store)->open_folder(*folder)->properties().has(0x3004));
  writer_.reset();
  expect_clean();
}

TEST_P(StoreWriterObjectModel, RecipientsAreReplacedAndRenumbered) {
  auto folder = writer_->create_folder(writer_->ipm_subtree(), "Inbox");
  ASSERT_TRUE(folder);
  NewMessage m;
  m.properties.push_back(ltp::string_value(prop::kSubject, "s"));
  m.recipients.push_back({ltp::string_value(prop::kDisplayName, "Old One")});
  m.recipients.push_back({ltp::string_value(prop::kDisplayName, "Old Two")});
  auto nid = writer_->create_message(*folder, m);
  ASSERT_TRUE(nid);
  ASSERT_TRUE(writer_->commit().is_ok());
  ASSERT_TRUE(writer_
                  ->replace_recipients(*nid, {{ltp::string_value(prop::kDisplayName, "New"),
                                               ltp::string_value(prop::kEmailAddress, "new@example.com"),
                                               ltp::int32_value(prop::kRecipientType, 2)}})
                  .is_ok());
  ASSERT_TRUE(writer_->commit().is_ok());
  auto store = Store::open(path_);
  ASSERT_TRUE(store);
  auto message = (*store)->open_message(*nid);
  ASSERT_TRUE(message);
  auto recipients = message->recipients();
  ASSERT_TRUE(recipients);
  ASSERT_EQ(recipients->size(), 1u);
  EXPECT_EQ((*recipients)[0].get_string(prop::kDisplayName).value_or(""), "New");
  EXPECT_EQ((*recipients)[0].get_string(prop::kEmailAddress).value_or(""), "new@example.com");
  EXPECT_EQ((*recipients)[0].get_i32(prop::kRecipientType).value_or(0), 2);
  EXPECT_EQ(message->subject(), "s");
  // An empty list leaves an empty recipient table.
  ASSERT_TRUE(writer_->replace_recipients(*nid, {}).is_ok());
  ASSERT_TRUE(writer_->commit().is_ok());
  auto again = Store::open(path_);
  EXPECT_EQ((*again)->open_message(*nid)->recipients()->size(), 0u);
  writer_.reset();
  expect_clean();
}

INSTANTIATE_TEST_SUITE_P(Formats, StoreWriterObjectModel,
                         ::testing::Values(ndb::FileFormat::kUnicode, ndb::FileFormat::kAnsi),
                         [](const auto& param_info) { return param_info.param == ndb::FileFormat::kAnsi ? "Ansi" : "Unicode"; });

}  // namespace
}  // namespace pstkit
