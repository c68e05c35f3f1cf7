// Row sources over a PST's tables (pstkit/mapi_folder_table.h), against the
// messaging layer that `pstkit ls` and `pstkit dump` print from: for every
// folder of every corpus store, the hierarchy table's rows are the
// subfolders with their names, the contents table's rows the messages with
// their subjects, in table order; read_rows agrees with scan; the computed
// columns decode; recipient and attachment tables match the messages'; and
// a RES_SUBRESTRICTION on recipients selects the messages that have one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_corpus.h"
#include "pstkit/mapi_entry_id.h"
#include "pstkit/mapi_folder_table.h"
#include "pstkit/mapi_table.h"
#include "pstkit/messaging.h"

namespace {

using namespace pstkit;
using namespace pstkit::mapi;
using mapi::PropTag;
using mapi::PropValue;

const std::string& kCorpus = test::kCorpusDir;
using test::in_ci;
constexpr PropTag kDisplayNameW = prop_tag(0x3001, kPtUnicode);
constexpr PropTag kSubjectW = prop_tag(0x0037, kPtUnicode);
constexpr PropTag kAttachMethod = prop_tag(0x3705, kPtLong);

ByteView view(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

struct ScannedRow {
  RowId id = 0;
  std::vector<PropValue> values;
};

std::vector<ScannedRow> scan_all(RowSource& source, const std::vector<PropTag>& columns, Status& status) {
  std::vector<ScannedRow> rows;
  status = source.scan(columns, [&](RowId id, std::span<const PropValue> values) {
    rows.push_back({id, std::vector<PropValue>(values.begin(), values.end())});
    return Status::ok();
  });
  return rows;
}

struct Totals {
  size_t folders = 0, messages = 0, recipients = 0, attachments = 0;
};

void check_folder(const Store& store, const ProviderUid& uid, const Folder& folder, const std::string& rel,
                  Totals& totals, int depth) {
  SCOPED_TRACE(rel + " folder " + hex(folder.nid()));
  if (depth > 32) return;
  ++totals.folders;

  // Hierarchy: one row per subfolder, named as `pstkit ls` names it.
  auto hierarchy = PstTableSource::open(store, folder.nid(), PstTableKind::kHierarchy);
  ASSERT_TRUE(hierarchy.is_ok()) << hierarchy.status().message();
  auto subfolders = folder.subfolders();
  ASSERT_TRUE(subfolders.is_ok());
  Status status;
  const auto rows = scan_all(**hierarchy, {kDisplayNameW, kPrEntryId, kPrParentEntryId, kPrObjectType, kPrDepth},
                             status);
  ASSERT_TRUE(status.is_ok()) << status.message();
  ASSERT_EQ(rows.size(), subfolders->size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].id, (*subfolders)[i].nid);
    EXPECT_EQ(rows[i].values[0].bytes, (*subfolders)[i].props.get_string(prop::kDisplayName).value_or(""));
    auto nid = decode_entry_id(view(rows[i].values[1].bytes), uid);
    ASSERT_TRUE(nid.is_ok()) << nid.status().message();
    EXPECT_EQ(*nid, rows[i].id);
    auto parent = decode_entry_id(view(rows[i].values[2].bytes), uid);
    ASSERT_TRUE(parent.is_ok());
    EXPECT_EQ(*parent, folder.nid());
    EXPECT_EQ(rows[i].values[3].integer, kMapiFolder);
    EXPECT_EQ(rows[i].values[4].integer, 0);
  }

  // Contents: one row per message, with the subject `pstkit dump` prints.
  auto contents = PstTableSource::open(store, folder.nid(), PstTableKind::kContents);
  ASSERT_TRUE(contents.is_ok()) << contents.status().message();
  auto nids = folder.content_nids();
  ASSERT_TRUE(nids.is_ok());
  // content_rows(), which export walks, reads the same ids a row at a time.
  auto content_rows = folder.content_rows();
  ASSERT_TRUE(content_rows.is_ok()) << content_rows.status().message();
  ASSERT_EQ(content_rows->size(), nids->size());
  for (size_t i = 0; i < nids->size(); ++i) EXPECT_EQ(*content_rows->nid(i), (*nids)[i]);
  const std::vector<PropTag> columns{kSubjectW, kPrEntryId, kPrObjectType, kPrInstanceKey};
  const auto messages = scan_all(**contents, columns, status);
  ASSERT_TRUE(status.is_ok()) << status.message();
  ASSERT_EQ(messages.size(), nids->size());
  EXPECT_EQ((*contents)->row_count_hint(), nids->size());
  std::vector<RowId> ids;
  size_t with_recipient = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ScannedRow& row = messages[i];
    ids.push_back(row.id);
    EXPECT_EQ(row.id, (*nids)[i]);
    EXPECT_EQ(row.values[2].integer, kMapiMessage);
    auto nid = decode_entry_id(view(row.values[1].bytes), uid);
    ASSERT_TRUE(nid.is_ok());
    EXPECT_EQ(*nid, row.id);
    auto message = store.open_message(Nid(row.id));
    if (!message.is_ok()) continue;  // a row without a readable message: dump skips it too
    ++totals.messages;
    // Rows lacking the subject column carry PT_ERROR, like a message without one.
    const std::string subject = row.values[0].is_error() ? "" : row.values[0].bytes;
    if (!row.values[0].is_error() || !message->properties().has(prop::kSubject)) {
      EXPECT_EQ(subject, message->subject()) << "message " << hex(row.id);
    }

    // Recipient and attachment tables.
    auto recipients = PstTableSource::open(store, Nid(row.id), PstTableKind::kRecipients);
    ASSERT_TRUE(recipients.is_ok()) << recipients.status().message();
    auto expected_recipients = message->recipients();
    if (expected_recipients.is_ok()) {
      const auto rrows = scan_all(**recipients, {kDisplayNameW, kPrObjectType}, status);
      ASSERT_TRUE(status.is_ok()) << status.message();
      ASSERT_EQ(rrows.size(), expected_recipients->size());
      bool named = false;
      for (size_t r = 0; r < rrows.size(); ++r) {
        const auto name = (*expected_recipients)[r].get_string(prop::kDisplayName);
        if (name) {
          EXPECT_EQ(rrows[r].values[0].bytes, *name);
          named = true;
        }
      }
      with_recipient += named;
      totals.recipients += rrows.size();
    }
    auto attachments = PstTableSource::open(store, Nid(row.id), PstTableKind::kAttachments);
    ASSERT_TRUE(attachments.is_ok()) << attachments.status().message();
    auto expected_attachments = message->attachment_nids();
    if (expected_attachments.is_ok()) {
      const auto arows = scan_all(**attachments, {kAttachMethod, kPrObjectType}, status);
      ASSERT_TRUE(status.is_ok()) << status.message();
      ASSERT_EQ(arows.size(), expected_attachments->size());
      for (size_t a = 0; a < arows.size(); ++a) EXPECT_EQ(arows[a].id, (*expected_attachments)[a]);
      totals.attachments += arows.size();
    }
  }

  // read_rows by row id returns what scan did, in the order asked.
  std::vector<RowId> reversed(ids.rbegin(), ids.rend());
  auto read = (*contents)->read_rows(reversed, columns);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  ASSERT_EQ(read->size(), reversed.size());
  for (size_t i = 0; i < reversed.size(); ++i) {
    const ScannedRow& scanned = messages[messages.size() - 1 - i];
    EXPECT_EQ((*read)[i][0].bytes, scanned.values[0].bytes);
    EXPECT_EQ((*read)[i][1].bytes, scanned.values[1].bytes);
  }

  // RES_SUBRESTRICTION through the recipient tables.
  if (!messages.empty()) {
    TableCursor cursor(**contents);
    ASSERT_TRUE(cursor.restrict(Restriction::sub(kPrMessageRecipients, Restriction::exist(kDisplayNameW))).is_ok());
    auto count = cursor.row_count();
    ASSERT_TRUE(count.is_ok()) << count.status().message();
    EXPECT_EQ(*count, with_recipient);
  }

  for (const TableRow& sub : *subfolders) {
    auto child = store.open_folder(sub.nid);
    if (child.is_ok()) check_folder(store, uid, *child, rel, totals, depth + 1);
  }
}

TEST(PstTableSourceCorpus, RowsEqualTheMessagingLayers) {
  if (!std::filesystem::exists(kCorpus + "MANIFEST.tsv")) {
    if (in_ci()) FAIL() << "missing corpus " << kCorpus;
    GTEST_SKIP() << "corpus not present";
  }
  Totals totals;
  for (const std::string& rel : test::whole_corpus_stores()) {
    if (!std::filesystem::exists(kCorpus + rel)) continue;
    auto store = Store::open(kCorpus + rel);
    if (!store.is_ok()) continue;
    auto uid = store_provider_uid(**store);
    ASSERT_TRUE(uid.is_ok()) << rel;
    auto root = (*store)->root_folder();
    if (!root.is_ok()) continue;
    check_folder(**store, *uid, *root, rel, totals, 0);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(totals.folders, 500u);
  EXPECT_GT(totals.messages, 500u);
  EXPECT_GT(totals.recipients, 0u);
  EXPECT_GT(totals.attachments, 0u);
}

// Stored strings keep their terminating NUL (ANSI stores do); MAPI's value
// is the text without it, as `pstkit dump` prints it.
TEST(FromStored, DropsTheStoredTerminatingNul) {
  ltp::PropValue string8;
  string8.tag = prop_tag(0x0037, kPtString8);
  string8.data = {'N', 'e', 'w', 0};
  auto v8 = from_stored(string8);
  ASSERT_TRUE(v8.is_ok());
  EXPECT_EQ(v8->bytes, "New");
  ltp::PropValue unicode;
  unicode.tag = prop_tag(0x0037, kPtUnicode);
  unicode.data = {'N', 0, 'e', 0, 'w', 0, 0, 0};
  auto vw = from_stored(unicode);
  ASSERT_TRUE(vw.is_ok());
  EXPECT_EQ(vw->bytes, "New");
}

TEST(PstTableSource, RefusesANonFolderOwnerAndAMissingRow) {
  if (!std::filesystem::exists(kCorpus + "MANIFEST.tsv")) GTEST_SKIP() << "corpus not present";
  const std::string rel = "aspose-cpp/Outlook.pst";
  if (!std::filesystem::exists(kCorpus + rel)) GTEST_SKIP() << rel << " not present";
  auto store = Store::open(kCorpus + rel);
  ASSERT_TRUE(store.is_ok());
  EXPECT_FALSE(PstTableSource::open(**store, 0x21, PstTableKind::kContents).is_ok());
  auto root = PstTableSource::open(**store, ndb::kNidRootFolder, PstTableKind::kHierarchy);
  ASSERT_TRUE(root.is_ok());
  const RowId missing[] = {0x7FFFFFE2};
  auto read = (*root)->read_rows(missing, std::vector<PropTag>{kPrEntryId});
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(mapi_scode(read.status()), kMapiENotFound);
  // Sub-rows exist only for message rows.
  const auto visit = [](std::span<const PropValue>) { return true; };
  EXPECT_EQ((*root)->for_each_sub_row(0x8022, kPrMessageRecipients, {}, visit).code(), Code::kUnsupported);
}

}  // namespace
