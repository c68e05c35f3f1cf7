// NameMap's reverse lookup (set and LID, or set and name, to id) against a
// scan of its entries, on every store of the corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "pstkit/messaging.h"
#include "test_corpus.h"

namespace pstkit {
namespace {

// The lowest id an entry of the map gives the name, by a scan.
std::optional<uint16_t> scan(const NameMap& map, const NamedProperty& wanted) {
  for (const auto& [id, np] : map.entries()) {
    if (np.guid == wanted.guid && np.is_string == wanted.is_string &&
        (np.is_string ? np.name == wanted.name : np.lid == wanted.lid))
      return id;
  }
  return std::nullopt;
}

std::optional<uint16_t> lookup(const NameMap& map, const NamedProperty& np) {
  return np.is_string ? map.id_of(np.guid, np.name) : map.id_of(np.guid, np.lid);
}

TEST(NameMap, ReverseLookupMatchesAScanOnEveryCorpusStore) {
  size_t stores = 0, names = 0, strings = 0;
  for (const std::string& rel : test::whole_corpus_stores()) {
    if (!std::filesystem::exists(test::kCorpusDir + rel)) continue;
    auto store = Store::open(test::kCorpusDir + rel);
    if (!store.is_ok()) continue;  // damaged files are check_test's business
    const NameMap& map = (*store)->names();
    ++stores;
    for (const auto& [id, np] : map.entries()) {
      ++names;
      strings += np.is_string;
      ASSERT_EQ(lookup(map, np), scan(map, np)) << rel << " id " << id;
      // Neighbours of each name, which the store may or may not map.
      NamedProperty other = np;
      if (other.is_string) {
        other.name += "x";
      } else {
        other.lid += 1;
      }
      ASSERT_EQ(lookup(map, other), scan(map, other)) << rel << " next to id " << id;
      other = np;
      other.guid.bytes[15] ^= 1;
      ASSERT_EQ(lookup(map, other), scan(map, other)) << rel << " other set, id " << id;
      // A string name never answers a LID lookup, and the other way round.
      other = np;
      other.is_string = !np.is_string;
      ASSERT_EQ(lookup(map, other), scan(map, other)) << rel << " other kind, id " << id;
    }
  }
  if (stores == 0) {
    if (test::in_ci()) FAIL() << "no corpus at " << test::kCorpusDir;
    GTEST_SKIP() << "no corpus at " << test::kCorpusDir;
  }
  EXPECT_GT(names, 1000u);
  EXPECT_GT(strings, 10u);
}

TEST(NameMap, AnEmptyMapFindsNothing) {
  const NameMap empty;
  EXPECT_EQ(empty.id_of(Guid{}, 0), std::nullopt);
  EXPECT_EQ(empty.id_of(Guid{}, ""), std::nullopt);
}

}  // namespace
}  // namespace pstkit
