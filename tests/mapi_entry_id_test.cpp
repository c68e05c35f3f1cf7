// PST entry IDs (pstkit/mapi_entry_id.h): the MS-PST 2.4.3.2 layout, the
// decoder's refusals with their MAPI codes, CompareEntryIDs, and every
// entry ID in the message store of every corpus store naming a folder (or,
// for other properties than the store's folder IDs, a message) that exists.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_corpus.h"
#include "pstkit/mapi_entry_id.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb.h"

namespace {

using namespace pstkit;
using namespace pstkit::mapi;

const std::string& kCorpus = test::kCorpusDir;
using test::in_ci;

constexpr ProviderUid kUid = {0x9d, 0x2b, 0x1c, 0x5e, 0x01, 0x02, 0x03, 0x04,
                              0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};

TEST(EntryId, EncodesFlagsProviderUidThenLittleEndianNid) {
  const Bytes id = encode_entry_id(kUid, 0x8022);
  ASSERT_EQ(id.size(), 24u);
  EXPECT_EQ(Bytes(id.begin(), id.begin() + 4), Bytes(4, 0));
  EXPECT_EQ(Bytes(id.begin() + 4, id.begin() + 20), Bytes(kUid.begin(), kUid.end()));
  EXPECT_EQ(Bytes(id.begin() + 20, id.end()), (Bytes{0x22, 0x80, 0x00, 0x00}));
  auto nid = decode_entry_id(id, kUid);
  ASSERT_TRUE(nid.is_ok()) << nid.status().message();
  EXPECT_EQ(*nid, 0x8022u);
  auto parsed = parse_entry_id(id);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_FALSE(parsed->short_term());
}

TEST(EntryId, WrongLengthIsInvalidEntryId) {
  Bytes id = encode_entry_id(kUid, 0x122);
  for (size_t size : {size_t{0}, size_t{4}, size_t{23}}) {
    auto nid = decode_entry_id(ByteView(id.data(), size), kUid);
    ASSERT_FALSE(nid.is_ok()) << size;
    EXPECT_EQ(entry_id_scode(nid.status()), kMapiEInvalidEntryId) << size;
  }
  id.push_back(0);
  auto nid = decode_entry_id(id, kUid);
  ASSERT_FALSE(nid.is_ok());
  EXPECT_EQ(entry_id_scode(nid.status()), kMapiEInvalidEntryId);
}

TEST(EntryId, ReservedFlagBitsAreInvalidShortTermBitsAccepted) {
  for (size_t byte = 0; byte < 4; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes id = encode_entry_id(kUid, 0x122);
      id[byte] = uint8_t(1u << bit);
      const bool short_term_bit = byte == 0 && (id[0] & kShortTermFlagBits) != 0;
      auto nid = decode_entry_id(id, kUid);
      EXPECT_EQ(nid.is_ok(), short_term_bit) << "byte " << byte << " bit " << bit;
      if (!nid.is_ok()) {
        EXPECT_EQ(entry_id_scode(nid.status()), kMapiEInvalidEntryId);
      }
    }
  }
  Bytes short_term = encode_entry_id(kUid, 0x122);
  short_term[0] = kMapiShortTerm;
  auto parsed = parse_entry_id(short_term);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_TRUE(parsed->short_term());
}

TEST(EntryId, HeapNidIsInvalidEntryId) {
  auto nid = decode_entry_id(encode_entry_id(kUid, 0x20), kUid);  // NID_TYPE_HID
  ASSERT_FALSE(nid.is_ok());
  EXPECT_EQ(entry_id_scode(nid.status()), kMapiEInvalidEntryId);
}

TEST(EntryId, AnotherStoresUidIsUnknownEntryId) {
  ProviderUid other = kUid;
  other[15] ^= 1;
  auto nid = decode_entry_id(encode_entry_id(other, 0x122), kUid);
  ASSERT_FALSE(nid.is_ok());
  EXPECT_EQ(entry_id_scode(nid.status()), kMapiEUnknownEntryId);
}

TEST(EntryId, CompareEqualForSameNidWhateverTheFlags) {
  const Bytes a = encode_entry_id(kUid, 0x8022);
  Bytes a_short = a;
  a_short[0] = kMapiShortTerm;
  const Bytes b = encode_entry_id(kUid, 0x8042);
  auto same = compare_entry_ids(a, a_short, kUid);
  ASSERT_TRUE(same.is_ok());
  EXPECT_TRUE(*same);
  auto differ = compare_entry_ids(a, b, kUid);
  ASSERT_TRUE(differ.is_ok());
  EXPECT_FALSE(*differ);
  ProviderUid other = kUid;
  other[0] ^= 0xFF;
  auto foreign = compare_entry_ids(a, encode_entry_id(other, 0x8022), kUid);
  ASSERT_FALSE(foreign.is_ok());
  EXPECT_EQ(entry_id_scode(foreign.status()), kMapiEUnknownEntryId);
  auto malformed = compare_entry_ids(Bytes(3, 0), a, kUid);
  ASSERT_FALSE(malformed.is_ok());
  EXPECT_EQ(entry_id_scode(malformed.status()), kMapiEInvalidEntryId);
}

// The message store's entry ID properties (MS-PST 2.4.3.1, [MS-OXPROPS]):
// IPM subtree, outbox, deleted items, sent items, views, common views,
// search root.
constexpr uint16_t kStoreEntryIdProps[] = {0x35E0, 0x35E2, 0x35E3, 0x35E4, 0x35E5, 0x35E6, 0x35E7};

TEST(EntryIdCorpus, MessageStoreEntryIdsNameExistingFolders) {
  if (!std::filesystem::exists(kCorpus + "MANIFEST.tsv")) {
    if (in_ci()) FAIL() << "missing corpus " << kCorpus;
    GTEST_SKIP() << "corpus not present";
  }
  size_t stores = 0, decoded = 0;
  for (const std::string& rel : test::whole_corpus_stores()) {
    if (!std::filesystem::exists(kCorpus + rel)) continue;
    auto store = Store::open(kCorpus + rel);
    if (!store.is_ok()) continue;  // damaged files are check_test's business
    auto uid = store_provider_uid(**store);
    ASSERT_TRUE(uid.is_ok()) << rel << ": " << uid.status().message();
    ++stores;
    for (const ltp::PropValue& v : (*store)->properties().values()) {
      if (v.type() != ltp::kPtypBinary) continue;
      const bool named = std::find(std::begin(kStoreEntryIdProps), std::end(kStoreEntryIdProps), v.id()) !=
                         std::end(kStoreEntryIdProps);
      // Any other 24-byte value carrying this store's UID is an entry ID too.
      const bool looks_like_one = v.data.size() == kPstEntryIdSize &&
                                  std::equal(uid->begin(), uid->end(), v.data.begin() + 4);
      if (!named && !looks_like_one) continue;
      auto nid = decode_entry_id(v.data, *uid);
      ASSERT_TRUE(nid.is_ok()) << rel << " property " << hex(v.id()) << ": " << nid.status().message();
      if (named) {
        auto folder = (*store)->open_folder(*nid);
        EXPECT_TRUE(folder.is_ok()) << rel << " property " << hex(v.id()) << " names " << hex(*nid) << ": "
                                    << folder.status().message();
      } else {
        // Other entry IDs (e.g. named properties Outlook keeps in the
        // store) may name messages too: the node must exist and be a
        // folder or a message.
        const uint8_t type = ndb::nid_type(*nid);
        EXPECT_TRUE(type == ndb::kNidTypeNormalFolder || type == ndb::kNidTypeSearchFolder ||
                    type == ndb::kNidTypeNormalMessage || type == ndb::kNidTypeAssocMessage)
            << rel << " property " << hex(v.id()) << " names " << hex(*nid);
        auto node = (*store)->db().open_node(*nid);
        EXPECT_TRUE(node.is_ok()) << rel << " property " << hex(v.id()) << " names " << hex(*nid) << ": "
                                  << node.status().message();
      }
      ++decoded;
    }
  }
  EXPECT_GT(stores, 50u);
  EXPECT_GT(decoded, stores);  // at least the IPM subtree and one more per store, on average
}

}  // namespace
