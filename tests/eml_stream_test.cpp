// message_to_eml with its attachments streamed (EmlOptions::
// stream_attachments_above), their blocks checked first or not, writes the
// same bytes as without; a write function that refuses a piece fails the
// conversion; an attachment with a damaged block is left out with a note
// when checked first, and fails the conversion when not.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "pstkit/eml_export.h"
#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"
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
        // Blocks checked before they are written, and not (read once).
        for (bool check : {true, false}) {
          options.check_streamed_attachments = check;
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
          ASSERT_EQ(whole.is_ok(), in_pieces.is_ok()) << rel << " " << nid << " check " << check;
          if (!whole.is_ok()) continue;
          if (streamed) {
            if (check) ++streamed_messages;
            EXPECT_TRUE(in_pieces->data.empty());
            EXPECT_GE(calls, 1u);
            ASSERT_EQ(pieces, whole->data) << rel << " " << nid << (crlf ? " crlf" : " lf") << " check " << check;
          } else {
            EXPECT_EQ(calls, 0u);
            ASSERT_EQ(in_pieces->data, whole->data) << rel << " " << nid;
          }
          EXPECT_EQ(in_pieces->notes, whole->notes) << rel << " " << nid;
        }
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

TEST(EmlStream, ADamagedStreamedAttachmentIsLeftOutWhenCheckedAndFailsTheConversionWhenNot) {
  // A store without block encoding, so that the attachment's bytes are in
  // the file as they are, with one byte of them flipped: its block's CRC fails.
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("pstkit-eml-stream-" + std::to_string(::getpid()) + ".pst");
  Bytes data(300 << 10);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (uint8_t& b : data) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    b = uint8_t(x >> 56);
  }
  Nid nid = 0;
  {
    NewStoreOptions o;
    o.crypt = ndb::CryptMethod::kNone;
    auto w = StoreWriter::create(path.string(), o);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    NewMessage m;
    m.properties = {ltp::string_value(prop::kMessageClass, "IPM.Note"), ltp::string_value(prop::kSubject, "damaged"),
                    ltp::string_value(prop::kBody, "The body stays.")};
    NewAttachment a;
    a.properties = {ltp::string_value(prop::kAttachLongFilename, "data.bin")};
    a.data = data;
    m.attachments.push_back(std::move(a));
    auto created = (*w)->create_message((*w)->ipm_subtree(), m);
    ASSERT_TRUE(created.is_ok()) << created.status().message();
    nid = *created;
    ASSERT_TRUE((*w)->commit().is_ok());
  }
  std::ifstream in(path, std::ios::binary);
  Bytes image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  std::filesystem::remove(path);
  const auto at = std::search(image.begin(), image.end(), data.begin() + 290000, data.begin() + 290032);
  ASSERT_NE(at, image.end()) << "the attachment's bytes are not in the file";
  at[3] ^= 0xFF;
  auto db = ndb::Database::open_memory(std::move(image));
  ASSERT_TRUE(db.is_ok());
  auto store = Store::open(std::move(*db));
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  auto message = (*store)->open_message(nid);
  ASSERT_TRUE(message.is_ok()) << message.status().message();

  auto whole = message_to_eml(*message);
  ASSERT_TRUE(whole.is_ok());
  ASSERT_EQ(whole->notes.size(), 1u);
  EXPECT_NE(whole->notes[0].find("cannot read its data"), std::string::npos) << whole->notes[0];
  const std::string text(whole->data.begin(), whole->data.end());
  EXPECT_NE(text.find("The body stays."), std::string::npos);
  EXPECT_EQ(text.find("data.bin"), std::string::npos);

  EmlOptions options;
  options.stream_attachments_above = 0;
  Bytes pieces;
  bool streamed = true;
  const auto collect = [&](ByteView piece) {
    pieces.insert(pieces.end(), piece.data(), piece.data() + piece.size());
    return true;
  };
  auto checked = message_to_eml(*message, options, collect, &streamed);
  ASSERT_TRUE(checked.is_ok());
  EXPECT_FALSE(streamed) << "the attachment left out, nothing is streamed";
  EXPECT_EQ(checked->data, whole->data);
  EXPECT_EQ(checked->notes, whole->notes);

  options.check_streamed_attachments = false;
  auto unchecked = message_to_eml(*message, options, collect, &streamed);
  EXPECT_TRUE(streamed);
  ASSERT_FALSE(unchecked.is_ok());
  EXPECT_NE(unchecked.status().message().find("CRC"), std::string::npos) << unchecked.status().message();
  EXPECT_FALSE(pieces.empty()) << "the part before the damaged block was written";
}

}  // namespace
}  // namespace pstkit
