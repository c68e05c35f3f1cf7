// message_to_eml with its attachments streamed (EmlOptions::
// stream_attachments_above) writes the same bytes as without, and a write
// function that refuses a piece fails the conversion.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pstkit/eml_export.h"
#include "pstkit/messaging.h"
#include "test_corpus.h"

namespace pstkit {
namespace {

// Every message of a store (folders walked from the root), at most `limit`.
void messages_of(const Store& store, Nid folder_nid, std::vector<Nid>* out, size_t limit, int depth = 0) {
  if (depth > 32 || out->size() >= limit) return;
  auto folder = store.open_folder(folder_nid);
  if (!folder) return;
  if (auto nids = folder->content_nids()) {
    for (Nid n : *nids) {
      if (out->size() >= limit) return;
      out->push_back(n);
    }
  }
  if (auto subfolders = folder->subfolders()) {
    for (const TableRow& row : *subfolders) messages_of(store, row.nid, out, limit, depth + 1);
  }
}

TEST(EmlStream, StreamedAttachmentsWriteTheSameBytesOnEveryCorpusStore) {
  size_t stores = 0, streamed_messages = 0;
  for (const std::string& rel : test::whole_corpus_stores()) {
    if (!std::filesystem::exists(test::kCorpusDir + rel)) continue;
    auto store = Store::open(test::kCorpusDir + rel);
    if (!store.is_ok()) continue;
    ++stores;
    std::vector<Nid> nids;
    messages_of(**store, ndb::kNidRootFolder, &nids, 400);
    for (Nid nid : nids) {
      auto message = (*store)->open_message(nid);
      if (!message) continue;
      for (bool crlf : {true, false}) {
        EmlOptions options;
        options.crlf = crlf;
        auto whole = message_to_eml(*message, options);
        options.stream_attachments_above = 0;  // every attachment with data
        Bytes pieces;
        size_t calls = 0;
        bool streamed = false;
        auto in_pieces = message_to_eml(
            *message, options,
            [&](ByteView piece) {
              ++calls;
              pieces.insert(pieces.end(), piece.data(), piece.data() + piece.size());
              return true;
            },
            &streamed);
        ASSERT_EQ(whole.is_ok(), in_pieces.is_ok()) << rel << " " << nid;
        if (!whole.is_ok()) continue;
        if (streamed) {
          ++streamed_messages;
          EXPECT_TRUE(in_pieces->data.empty());
          EXPECT_GE(calls, 1u);
          ASSERT_EQ(pieces, whole->data) << rel << " " << nid << (crlf ? " crlf" : " lf");
        } else {
          EXPECT_EQ(calls, 0u);
          ASSERT_EQ(in_pieces->data, whole->data) << rel << " " << nid;
        }
        EXPECT_EQ(in_pieces->notes, whole->notes) << rel << " " << nid;
      }
    }
  }
  if (stores == 0) {
    if (test::in_ci()) FAIL() << "no corpus at " << test::kCorpusDir;
    GTEST_SKIP() << "no corpus at " << test::kCorpusDir;
  }
  EXPECT_GT(streamed_messages, 50u);
}

TEST(EmlStream, AWriteThatFailsFailsTheConversion) {
  const std::string rel = "pst-extractor-npm/enron.pst";
  if (!std::filesystem::exists(test::kCorpusDir + rel)) {
    if (test::in_ci()) FAIL() << "missing " << rel;
    GTEST_SKIP() << "missing " << rel;
  }
  auto store = Store::open(test::kCorpusDir + rel);
  ASSERT_TRUE(store.is_ok());
  std::vector<Nid> nids;
  messages_of(**store, ndb::kNidRootFolder, &nids, 1000);
  size_t failed = 0;
  for (Nid nid : nids) {
    auto message = (*store)->open_message(nid);
    if (!message) continue;
    EmlOptions options;
    options.stream_attachments_above = 0;
    bool streamed = false;
    size_t calls = 0;
    auto r = message_to_eml(*message, options, [&](ByteView) { return ++calls > 1; }, &streamed);
    if (!streamed) continue;
    ASSERT_FALSE(r.is_ok()) << nid;
    EXPECT_EQ(r.status().code(), Code::kIoError);
    EXPECT_EQ(calls, 1u) << "nothing is handed over after a refused piece";
    ++failed;
  }
  EXPECT_GT(failed, 0u);
}

}  // namespace
}  // namespace pstkit
