// The MAPI table engine (pstkit/mapi_table.h): values and their ordering,
// every restriction type and fuzzy level, every relop, multi-valued
// columns, sorts, and the cursor's documented behaviour at the edges. Test
// names say the documented behaviour; comments name the reference page
// (MicrosoftDocs/office-developer-client-docs, docs/outlook/mapi/).
#include <mapidefs.h>
#include <mapicode.h>
#include <mapitags.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pstkit/mapi_table.h"

namespace {

using namespace pstkit;
using namespace pstkit::mapi;

constexpr PropTag kSubject = prop_tag(0x0037, kPtUnicode);
constexpr PropTag kImportance = prop_tag(0x0017, kPtLong);
constexpr PropTag kSize = prop_tag(0x0E08, kPtLong);
constexpr PropTag kFlags = prop_tag(0x0E07, kPtLong);
constexpr PropTag kDelivery = prop_tag(0x0E06, kPtSysTime);
constexpr PropTag kSender8 = prop_tag(0x0C1A, kPtString8);
constexpr PropTag kCategories = prop_tag(0x8012, kMvFlag | kPtUnicode);
constexpr PropTag kEntryId = prop_tag(0x0FFF, kPtBinary);
constexpr PropTag kHasAttach = prop_tag(0x0E1B, kPtBoolean);
constexpr PropTag kLimit = prop_tag(0x8013, kPtLong);
constexpr PropTag kRecipientType = prop_tag(0x0C15, kPtLong);
constexpr PropTag kEmail = prop_tag(0x3003, kPtUnicode);
constexpr PropTag kAttachName = prop_tag(0x3704, kPtUnicode);
constexpr PropTag kPrNull = prop_tag(0, kPtNull);

PropValue cats(std::vector<std::string> names) {
  std::vector<PropValue> v;
  for (auto& n : names) v.push_back(PropValue::unicode(prop_tag(0x8012, kPtUnicode), n));
  return PropValue::multi(kCategories, std::move(v));
}
PropValue bin(std::vector<uint8_t> b) { return PropValue::binary(kEntryId, ByteView(b.data(), b.size())); }

// Five messages; row ids 1..5 in source order.
std::vector<InMemoryRowSource::Row> sample_rows() {
  std::vector<InMemoryRowSource::Row> rows(5);
  rows[0].id = 1;
  rows[0].values = {PropValue::unicode(kSubject, "Hello World"), PropValue::long_(kImportance, 1),
                    PropValue::long_(kSize, 100), PropValue::long_(kFlags, 0x1),
                    PropValue::systime(kDelivery, 1000), PropValue::string8(kSender8, "Alice"),
                    cats({"Red", "Blue"}), bin({1, 2}), PropValue::boolean(kHasAttach, true),
                    PropValue::long_(kLimit, 100)};
  rows[0].recipients = {{PropValue::long_(kRecipientType, 1), PropValue::unicode(kEmail, "bob@example.com")}};
  rows[0].attachments = {{PropValue::unicode(kAttachName, "a.pdf")}};
  rows[1].id = 2;
  rows[1].values = {PropValue::unicode(kSubject, "hello there"), PropValue::long_(kImportance, 2),
                    PropValue::long_(kSize, 300), PropValue::long_(kFlags, 0x0),
                    PropValue::systime(kDelivery, 3000), PropValue::string8(kSender8, "bob"),
                    cats({"Green"}), bin({1, 2, 3}), PropValue::boolean(kHasAttach, false),
                    PropValue::long_(kLimit, 200)};
  rows[2].id = 3;
  rows[2].values = {PropValue::unicode(kSubject, "Caf\u00e9 r\u00e9sum\u00e9"), PropValue::long_(kImportance, 1),
                    PropValue::long_(kSize, 200), PropValue::long_(kFlags, 0x5),
                    PropValue::systime(kDelivery, 2000), bin({0x80})};
  rows[2].recipients = {{PropValue::long_(kRecipientType, 2), PropValue::unicode(kEmail, "carol@example.org")}};
  rows[3].id = 4;
  rows[3].values = {PropValue::long_(kImportance, 0), PropValue::long_(kSize, 50), PropValue::long_(kFlags, 0x4),
                    PropValue::systime(kDelivery, 500), PropValue::string8(kSender8, "ALICE"), cats({"red"}),
                    PropValue::long_(kLimit, 10)};
  rows[4].id = 5;
  rows[4].values = {PropValue::unicode(kSubject, "Zebra"), PropValue::long_(kImportance, 2),
                    PropValue::long_(kSize, 100), PropValue::systime(kDelivery, 4000),
                    PropValue::string8(kSender8, "Carl")};
  return rows;
}

// The ids of the rows of the sample that match.
std::vector<RowId> matching(const Restriction& r) {
  std::vector<RowId> out;
  for (const auto& row : sample_rows()) {
    InMemoryRowSource one({kSubject}, {row});
    struct Subs final : SubObjects {
      InMemoryRowSource* s;
      RowId id;
      Status for_each_sub_row(PropTag o, std::span<const PropTag> c, const SubRowVisitor& v) override {
        return s->for_each_sub_row(id, o, c, v);
      }
    } subs;
    subs.s = &one;
    subs.id = row.id;
    Result<bool> m = matches(row.values, r, &subs);
    EXPECT_TRUE(m.is_ok()) << m.status().message();
    if (m.is_ok() && *m) out.push_back(row.id);
  }
  return out;
}

using Ids = std::vector<RowId>;

// The ids of the next `count` rows QueryRows returns (read through their
// delivery times, unique per sample row), advancing the cursor.
Ids ids_of(TableCursor& cursor, InMemoryRowSource& /*source*/, int32_t count = 100) {
  Ids out;
  EXPECT_TRUE(cursor.set_columns({kDelivery}).is_ok());
  auto rows = cursor.query_rows(count);
  EXPECT_TRUE(rows.is_ok()) << rows.status().message();
  if (!rows.is_ok()) return out;
  // Delivery times are unique per row: 1000,3000,2000,500,4000 -> ids 1..5.
  for (auto& row : *rows) {
    switch (row[0].integer) {
      case 1000: out.push_back(1); break;
      case 3000: out.push_back(2); break;
      case 2000: out.push_back(3); break;
      case 500: out.push_back(4); break;
      case 4000: out.push_back(5); break;
      default: out.push_back(0);
    }
  }
  return out;
}

// ---- values ----

TEST(MapiTableValues, ConstantsMatchMapidefsAndMapicode) {
  EXPECT_EQ(uint32_t(RestrictionType::kSubRestriction), RES_SUBRESTRICTION);
  EXPECT_EQ(uint32_t(RestrictionType::kAnnotation), RES_ANNOTATION);
  EXPECT_EQ(uint32_t(kRelopRe), RELOP_RE);
  EXPECT_EQ(uint32_t(kBmrNez), BMR_NEZ);
  EXPECT_EQ(kFlPrefix, FL_PREFIX);
  EXPECT_EQ(kFlLoose, FL_LOOSE);
  EXPECT_EQ(uint32_t(kSortCategMin), TABLE_SORT_CATEG_MIN);
  EXPECT_EQ(kBookmarkEnd, BOOKMARK_END);
  EXPECT_EQ(kDirBackward, DIR_BACKWARD);
  EXPECT_EQ(kTblNoAdvance, TBL_NOADVANCE);
  EXPECT_EQ(kMvInstance | kMvFlag, MVI_FLAG);
  EXPECT_EQ(kPrMessageRecipients, PR_MESSAGE_RECIPIENTS);
  EXPECT_EQ(kPrMessageAttachments, PR_MESSAGE_ATTACHMENTS);
  EXPECT_EQ(kMapiENotFound, MAPI_E_NOT_FOUND);
  EXPECT_EQ(mapi_scode(Status::invalid_argument("x")), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(mapi_scode(Status::unsupported("x")), MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(mapi_scode(Status::not_found("x")), MAPI_E_NOT_FOUND);
  EXPECT_EQ(mapi_scode(invalid_bookmark("x")), MAPI_E_INVALID_BOOKMARK);
  EXPECT_EQ(mapi_scode(Status::ok()), S_OK);
}

TEST(MapiTableValues, NumbersBooleansTimesAndCurrencyOrderByValue) {
  EXPECT_LT(compare_values(PropValue::long_(kSize, -5), PropValue::long_(kSize, 3)), 0);
  EXPECT_GT(compare_values(PropValue::i8(kSize, int64_t(1) << 40), PropValue::i8(kSize, 7)), 0);
  EXPECT_EQ(compare_values(PropValue::i2(kSize, 9), PropValue::i2(kSize, 9)), 0);
  EXPECT_LT(compare_values(PropValue::boolean(kHasAttach, false), PropValue::boolean(kHasAttach, true)), 0);
  EXPECT_LT(compare_values(PropValue::currency(kSize, -10000), PropValue::currency(kSize, 1)), 0);
  // FILETIMEs are unsigned: a time past 2^63 is later, not negative.
  EXPECT_GT(compare_values(PropValue::systime(kDelivery, 0x8000000000000000ull), PropValue::systime(kDelivery, 1)), 0);
  EXPECT_LT(compare_values(PropValue::double_(kSize, -0.5), PropValue::double_(kSize, 0.25)), 0);
  EXPECT_LT(compare_values(PropValue::r4(kSize, 1.5f), PropValue::r4(kSize, 2.5f)), 0);
  EXPECT_LT(compare_values(PropValue::double_(kSize, std::nan("")), PropValue::double_(kSize, -1e300)), 0);
}

TEST(MapiTableValues, UnicodeStringsCompareCaseInsensitivelyByCodePoint) {
  EXPECT_EQ(compare_values(PropValue::unicode(kSubject, "HELLO"), PropValue::unicode(kSubject, "hello")), 0);
  EXPECT_EQ(compare_values(PropValue::unicode(kSubject, "\u00c9T\u00c9"), PropValue::unicode(kSubject, "\u00e9t\u00e9")), 0);
  EXPECT_LT(compare_values(PropValue::unicode(kSubject, "apple"), PropValue::unicode(kSubject, "Banana")), 0);
  EXPECT_LT(compare_values(PropValue::unicode(kSubject, "abc"), PropValue::unicode(kSubject, "ABCD")), 0);
  EXPECT_EQ(compare_values(PropValue::string8(kSender8, "Alice"), PropValue::string8(kSender8, "ALICE")), 0);
}

TEST(MapiTableValues, BinaryAndClsidCompareAsUnsignedByteStringsShorterPrefixFirst) {
  EXPECT_LT(compare_values(bin({0x7F}), bin({0x80})), 0);
  EXPECT_LT(compare_values(bin({1, 2}), bin({1, 2, 0})), 0);
  EXPECT_GT(compare_values(bin({2}), bin({1, 9, 9})), 0);
  Guid a{}, b{};
  b[15] = 1;
  EXPECT_LT(compare_values(PropValue::clsid(0, a), PropValue::clsid(0, b)), 0);
}

TEST(MapiTableValues, MultiValuedColumnsCompareAsTuplesFirstInequalityDecides) {
  EXPECT_EQ(compare_values(cats({"a", "B"}), cats({"A", "b"})), 0);
  EXPECT_LT(compare_values(cats({"a", "b"}), cats({"a", "c"})), 0);
  EXPECT_LT(compare_values(cats({"a"}), cats({"a", "b"})), 0);
  EXPECT_GT(compare_values(cats({"b"}), cats({"a", "z"})), 0);
}

TEST(MapiTableValues, ErrorCellForMissingColumnIsPtErrorNotFound) {
  PropValue cell = PropValue::error(kSubject);
  EXPECT_EQ(cell.tag, prop_tag(0x0037, kPtError));
  EXPECT_EQ(cell.integer, MAPI_E_NOT_FOUND);
}

TEST(MapiTableValues, FromStoredConvertsPstValues) {
  auto s = from_stored(ltp::string_value(0x0037, "Gr\u00fc\u00dfe"));
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->tag, kSubject);
  EXPECT_EQ(s->bytes, "Gr\u00fc\u00dfe");
  auto l = from_stored(ltp::int32_value(0x0017, -7));
  ASSERT_TRUE(l.is_ok());
  EXPECT_EQ(l->integer, -7);
  auto t = from_stored(ltp::time_value(0x0E06, 0x01D0000000000000ull));
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(uint64_t(t->integer), 0x01D0000000000000ull);
  auto b = from_stored(ltp::bool_value(0x0E1B, true));
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->integer, 1);
  ltp::PropValue mv;  // PtypMultipleInteger32 {5, -1}
  mv.tag = prop_tag(0x8014, kMvFlag | kPtLong);
  mv.data = {5, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
  auto m = from_stored(mv);
  ASSERT_TRUE(m.is_ok());
  ASSERT_EQ(m->values.size(), 2u);
  EXPECT_EQ(m->values[1].integer, -1);
  EXPECT_EQ(m->values[1].tag, prop_tag(0x8014, kPtLong));
  ltp::PropValue bad;  // a 3-byte PtypInteger32 is refused, not read
  bad.tag = kImportance;
  bad.data = {1, 2, 3};
  EXPECT_FALSE(from_stored(bad).is_ok());
}

// ---- content restrictions (scontentrestriction.md) ----

TEST(MapiRestriction, ContentRestrictionFullStringIsExactWithoutIgnoreCase) {
  EXPECT_EQ(matching(Restriction::content(kFlFullString, kSubject, PropValue::unicode(kSubject, "Zebra"))), Ids({5}));
  EXPECT_EQ(matching(Restriction::content(kFlFullString, kSubject, PropValue::unicode(kSubject, "zebra"))), Ids({}));
  EXPECT_EQ(matching(Restriction::content(kFlFullString, kSubject, PropValue::unicode(kSubject, "Zebr"))), Ids({}));
}

TEST(MapiRestriction, ContentRestrictionSubstringIgnoreCaseMatchesAnyCase) {
  auto r = Restriction::content(kFlSubstring | kFlIgnoreCase, kSubject, PropValue::unicode(kSubject, "HELLO"));
  EXPECT_EQ(matching(r), Ids({1, 2}));
  EXPECT_EQ(matching(Restriction::content(kFlSubstring, kSubject, PropValue::unicode(kSubject, "HELLO"))), Ids({}));
  EXPECT_EQ(matching(Restriction::content(kFlSubstring, kSubject, PropValue::unicode(kSubject, "lo W"))), Ids({1}));
}

TEST(MapiRestriction, ContentRestrictionPrefixMatchesOnlyAtTheStart) {
  EXPECT_EQ(matching(Restriction::content(kFlPrefix, kSubject, PropValue::unicode(kSubject, "hello"))), Ids({2}));
  EXPECT_EQ(matching(Restriction::content(kFlPrefix | kFlIgnoreCase, kSubject, PropValue::unicode(kSubject, "hello"))),
            Ids({1, 2}));
  EXPECT_EQ(matching(Restriction::content(kFlPrefix, kSubject, PropValue::unicode(kSubject, "World"))), Ids({}));
}

TEST(MapiRestriction, ContentRestrictionIgnoreNonSpaceIgnoresDiacritics) {
  auto plain = PropValue::unicode(kSubject, "resume");
  EXPECT_EQ(matching(Restriction::content(kFlSubstring, kSubject, plain)), Ids({}));
  EXPECT_EQ(matching(Restriction::content(kFlSubstring | kFlIgnoreNonSpace, kSubject, plain)), Ids({3}));
  // A decomposed search string (e + U+0301) matches the precomposed é.
  EXPECT_EQ(matching(Restriction::content(kFlSubstring | kFlIgnoreNonSpace, kSubject,
                                          PropValue::unicode(kSubject, "Cafe\u0301"))),
            Ids({3}));
  // Without FL_IGNORECASE, case still counts.
  EXPECT_EQ(matching(Restriction::content(kFlPrefix | kFlIgnoreNonSpace, kSubject, PropValue::unicode(kSubject, "CAFE"))),
            Ids({}));
}

TEST(MapiRestriction, ContentRestrictionLooseIgnoresCaseAndDiacritics) {
  EXPECT_EQ(matching(Restriction::content(kFlFullString | kFlLoose, kSubject,
                                          PropValue::unicode(kSubject, "CAFE RESUME"))),
            Ids({3}));
}

TEST(MapiRestriction, ContentRestrictionOnString8IgnoreCase) {
  auto r = Restriction::content(kFlFullString | kFlIgnoreCase, kSender8, PropValue::string8(kSender8, "alice"));
  EXPECT_EQ(matching(r), Ids({1, 4}));
  EXPECT_EQ(matching(Restriction::content(kFlFullString, kSender8, PropValue::string8(kSender8, "alice"))), Ids({}));
}

TEST(MapiRestriction, ContentRestrictionOnBinaryMatchesBytesAndIgnoresCaseFlags) {
  EXPECT_EQ(matching(Restriction::content(kFlPrefix, kEntryId, bin({1, 2}))), Ids({1, 2}));
  EXPECT_EQ(matching(Restriction::content(kFlSubstring, kEntryId, bin({2, 3}))), Ids({2}));
  EXPECT_EQ(matching(Restriction::content(kFlFullString | kFlIgnoreCase, kEntryId, bin({1, 2}))), Ids({1}));
}

TEST(MapiRestriction, ContentRestrictionOnMultiValuedColumnMatchesAnyValue) {
  auto r = Restriction::content(kFlFullString | kFlIgnoreCase, kCategories,
                                PropValue::unicode(prop_tag(0x8012, kPtUnicode), "RED"));
  EXPECT_EQ(matching(r), Ids({1, 4}));
}

TEST(MapiRestriction, ContentRestrictionTypeMismatchOrUnknownFuzzyLevelIsTooComplex) {
  auto mismatch = Restriction::content(kFlSubstring, kSubject, PropValue::string8(kSender8, "x"));
  EXPECT_EQ(mapi_scode(validate(mismatch)), MAPI_E_TOO_COMPLEX);
  auto level = Restriction::content(3, kSubject, PropValue::unicode(kSubject, "x"));
  EXPECT_EQ(mapi_scode(validate(level)), MAPI_E_TOO_COMPLEX);
  auto on_long = Restriction::content(kFlSubstring, kSize, PropValue::long_(kSize, 1));
  EXPECT_EQ(mapi_scode(validate(on_long)), MAPI_E_TOO_COMPLEX);
}

// ---- property restrictions (spropertyrestriction.md) ----

TEST(MapiRestriction, PropertyRestrictionEveryRelopComparesPropertyToConstant) {
  auto importance = [](Relop op) { return Restriction::property(op, kImportance, PropValue::long_(kImportance, 1)); };
  EXPECT_EQ(matching(importance(kRelopLt)), Ids({4}));
  EXPECT_EQ(matching(importance(kRelopLe)), Ids({1, 3, 4}));
  EXPECT_EQ(matching(importance(kRelopGt)), Ids({2, 5}));
  EXPECT_EQ(matching(importance(kRelopGe)), Ids({1, 2, 3, 5}));
  EXPECT_EQ(matching(importance(kRelopEq)), Ids({1, 3}));
  EXPECT_EQ(matching(importance(kRelopNe)), Ids({2, 4, 5}));
}

TEST(MapiRestriction, PropertyRestrictionOnStringsUsesTheSortComparison) {
  // findrow.md: RELOP_GE uses the table's sort comparison (case-insensitive).
  EXPECT_EQ(matching(Restriction::property(kRelopEq, kSubject, PropValue::unicode(kSubject, "ZEBRA"))), Ids({5}));
  EXPECT_EQ(matching(Restriction::property(kRelopGe, kSubject, PropValue::unicode(kSubject, "HELLO T"))), Ids({1, 2, 5}));
  EXPECT_EQ(matching(Restriction::property(kRelopGt, kDelivery, PropValue::systime(kDelivery, 2000))), Ids({2, 5}));
  EXPECT_EQ(matching(Restriction::property(kRelopEq, kHasAttach, PropValue::boolean(kHasAttach, false))), Ids({2}));
}

TEST(MapiRestriction, MissingPropertyNeverMatchesExceptUnderNot) {
  auto has_sender = Restriction::property(kRelopNe, kSender8, PropValue::string8(kSender8, "nobody"));
  EXPECT_EQ(matching(has_sender), Ids({1, 2, 4, 5}));  // row 3 has no sender: even NE fails
  EXPECT_EQ(matching(Restriction::negate(has_sender)), Ids({3}));
  auto subject_lt = Restriction::property(kRelopLt, kSubject, PropValue::unicode(kSubject, "zzz"));
  EXPECT_EQ(matching(subject_lt), Ids({1, 2, 3, 5}));
}

TEST(MapiRestriction, PropertyRestrictionOnMultiValuedColumnMatchesAnyValue) {
  const auto element = prop_tag(0x8012, kPtUnicode);
  auto mv = Restriction::property(kRelopEq, kCategories, PropValue::unicode(element, "blue"));
  EXPECT_EQ(matching(mv), Ids({1}));
  // With MVI_FLAG as in MVI_PROP(tag).
  auto mvi = Restriction::property(kRelopEq, kCategories | kMvInstance, PropValue::unicode(element, "green"));
  EXPECT_EQ(mapi_scode(validate(mvi)), S_OK);
  EXPECT_EQ(matching(mvi), Ids({2}));
  auto ne = Restriction::property(kRelopNe, kCategories, PropValue::unicode(element, "red"));
  EXPECT_EQ(matching(ne), Ids({1, 2}));  // row 1 has "Blue", which differs
}

TEST(MapiRestriction, PropertyRestrictionWithMultiValuedConstantComparesTuples) {
  auto tuple = Restriction::property(kRelopEq, kCategories, cats({"RED", "blue"}));
  EXPECT_EQ(matching(tuple), Ids({1}));
  EXPECT_EQ(matching(Restriction::property(kRelopLt, kCategories, cats({"red"}))), Ids({2}));  // {Red,Blue} is longer: greater
}

TEST(MapiRestriction, PropertyRestrictionRelopReIsTooComplexAndUnknownRelopInvalid) {
  auto re = Restriction::property(kRelopRe, kSubject, PropValue::unicode(kSubject, "a.*"));
  EXPECT_EQ(mapi_scode(validate(re)), MAPI_E_TOO_COMPLEX);
  auto unknown = Restriction::property(Relop(7), kSubject, PropValue::unicode(kSubject, "a"));
  EXPECT_EQ(mapi_scode(validate(unknown)), MAPI_E_INVALID_PARAMETER);
  auto mismatch = Restriction::property(kRelopEq, kSubject, PropValue::long_(kImportance, 1));
  EXPECT_EQ(mapi_scode(validate(mismatch)), MAPI_E_TOO_COMPLEX);
}

// ---- compare-props, bitmask, size, exist (their s*restriction.md pages) ----

TEST(MapiRestriction, ComparePropsRestrictionComparesTwoPropertiesOfTheRow) {
  auto cmp = [](Relop op) { return Restriction::compare_props(op, kSize, kLimit); };
  EXPECT_EQ(matching(cmp(kRelopEq)), Ids({1}));
  EXPECT_EQ(matching(cmp(kRelopNe)), Ids({2, 4}));
  EXPECT_EQ(matching(cmp(kRelopGt)), Ids({2, 4}));
  EXPECT_EQ(matching(cmp(kRelopGe)), Ids({1, 2, 4}));
  EXPECT_EQ(matching(cmp(kRelopLt)), Ids({}));
  EXPECT_EQ(matching(cmp(kRelopLe)), Ids({1}));
  EXPECT_EQ(mapi_scode(validate(Restriction::compare_props(kRelopEq, kSize, kSubject))), MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(mapi_scode(validate(Restriction::compare_props(kRelopRe, kSize, kLimit))), MAPI_E_TOO_COMPLEX);
}

TEST(MapiRestriction, BitmaskRestrictionEqzAndNezTestTheAndOfTheMask) {
  EXPECT_EQ(matching(Restriction::bitmask(kBmrNez, kFlags, 0x1)), Ids({1, 3}));
  EXPECT_EQ(matching(Restriction::bitmask(kBmrEqz, kFlags, 0x1)), Ids({2, 4}));  // row 5 lacks flags
  EXPECT_EQ(matching(Restriction::bitmask(kBmrNez, kFlags, 0x6)), Ids({3, 4}));
  EXPECT_EQ(mapi_scode(validate(Restriction::bitmask(BitmaskRelop(2), kFlags, 1))), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(mapi_scode(validate(Restriction::bitmask(kBmrNez, kSubject, 1))), MAPI_E_TOO_COMPLEX);
}

TEST(MapiRestriction, SizeRestrictionComparesTheValuesByteCount) {
  // "Zebra" as UTF-16 with its terminator: 12 bytes; "hello there" 24.
  EXPECT_EQ(matching(Restriction::size(kRelopEq, kSubject, 12)), Ids({5}));
  EXPECT_EQ(matching(Restriction::size(kRelopGt, kSubject, 20)), Ids({1, 2, 3}));
  EXPECT_EQ(matching(Restriction::size(kRelopLe, kEntryId, 2)), Ids({1, 3}));
  EXPECT_EQ(matching(Restriction::size(kRelopEq, kSize, 4)), Ids({1, 2, 3, 4, 5}));
  EXPECT_EQ(matching(Restriction::size(kRelopNe, kSender8, 6)), Ids({2, 5}));  // "Alice"+NUL = 6
  EXPECT_EQ(matching(Restriction::size(kRelopLt, kEntryId, 3)), Ids({1, 3}));
  EXPECT_EQ(matching(Restriction::size(kRelopGe, kEntryId, 3)), Ids({2}));
  EXPECT_EQ(mapi_scode(validate(Restriction::size(kRelopRe, kSubject, 1))), MAPI_E_TOO_COMPLEX);
}

TEST(MapiRestriction, ExistRestrictionMatchesRowsHavingTheProperty) {
  EXPECT_EQ(matching(Restriction::exist(kSubject)), Ids({1, 2, 3, 5}));
  EXPECT_EQ(matching(Restriction::exist(kCategories)), Ids({1, 2, 4}));
  EXPECT_EQ(matching(Restriction::negate(Restriction::exist(kSender8))), Ids({3}));
  EXPECT_EQ(mapi_scode(validate(Restriction::exist(kPrMessageRecipients))), MAPI_E_TOO_COMPLEX);
}

// ---- and, or, not, comment, sub (their pages) ----

TEST(MapiRestriction, AndOrNotCombineTheirRestrictions) {
  auto important = Restriction::property(kRelopEq, kImportance, PropValue::long_(kImportance, 2));
  auto big = Restriction::property(kRelopGe, kSize, PropValue::long_(kSize, 200));
  EXPECT_EQ(matching(Restriction::all_of({important, big})), Ids({2}));
  EXPECT_EQ(matching(Restriction::any_of({important, big})), Ids({2, 3, 5}));
  EXPECT_EQ(matching(Restriction::negate(Restriction::any_of({important, big}))), Ids({1, 4}));
  EXPECT_EQ(matching(Restriction::all_of({})), Ids({1, 2, 3, 4, 5}));
  EXPECT_EQ(matching(Restriction::any_of({})), Ids({}));
  Restriction not_without_child;
  not_without_child.type = RestrictionType::kNot;
  EXPECT_EQ(mapi_scode(validate(not_without_child)), MAPI_E_INVALID_PARAMETER);
}

TEST(MapiRestriction, CommentRestrictionEvaluatesItsRestrictionOrMatchesWithoutOne) {
  std::vector<PropValue> notes = {PropValue::unicode(prop_tag(0x8000, kPtUnicode), "named property x")};
  EXPECT_EQ(matching(Restriction::comment(notes, std::nullopt)), Ids({1, 2, 3, 4, 5}));
  EXPECT_EQ(matching(Restriction::comment(notes, Restriction::exist(kCategories))), Ids({1, 2, 4}));
}

TEST(MapiRestriction, SubRestrictionMatchesMessagesWithAMatchingRecipientOrAttachment) {
  auto cc = Restriction::sub(kPrMessageRecipients,
                             Restriction::property(kRelopEq, kRecipientType, PropValue::long_(kRecipientType, 2)));
  EXPECT_EQ(matching(cc), Ids({3}));
  auto bob = Restriction::sub(kPrMessageRecipients, Restriction::content(kFlPrefix | kFlIgnoreCase, kEmail,
                                                                         PropValue::unicode(kEmail, "BOB@")));
  EXPECT_EQ(matching(bob), Ids({1}));
  auto pdf = Restriction::sub(kPrMessageAttachments, Restriction::content(kFlSubstring, kAttachName,
                                                                          PropValue::unicode(kAttachName, ".pdf")));
  EXPECT_EQ(matching(pdf), Ids({1}));
  EXPECT_EQ(matching(Restriction::negate(pdf)), Ids({2, 3, 4, 5}));
  // Without a sub-object callback, a sub-restriction never matches.
  auto row = sample_rows()[0];
  auto m = matches(row.values, pdf, nullptr);
  ASSERT_TRUE(m.is_ok());
  EXPECT_FALSE(*m);
  EXPECT_EQ(mapi_scode(validate(Restriction::sub(kSubject, Restriction::exist(kEmail)))), MAPI_E_TOO_COMPLEX);
}

TEST(MapiRestriction, CountAnnotationAndUnknownTypes) {
  Restriction count;
  count.type = RestrictionType::kCount;
  EXPECT_EQ(mapi_scode(validate(count)), MAPI_E_TOO_COMPLEX);
  Restriction annotation;
  annotation.type = RestrictionType::kAnnotation;
  EXPECT_EQ(mapi_scode(validate(annotation)), MAPI_E_TOO_COMPLEX);
  Restriction unknown;
  unknown.type = RestrictionType(13);
  EXPECT_EQ(mapi_scode(validate(unknown)), MAPI_E_INVALID_PARAMETER);
  EXPECT_FALSE(matches({}, unknown).is_ok());
}

TEST(MapiRestriction, DeepTreeIsTooComplexNotAStackOverflow) {
  Restriction r = Restriction::exist(kSubject);
  for (int i = 0; i < 2000; ++i) r = Restriction::negate(std::move(r));
  EXPECT_EQ(mapi_scode(validate(r)), MAPI_E_TOO_COMPLEX);
  auto m = matches(sample_rows()[0].values, r);
  EXPECT_EQ(mapi_scode(m.status()), MAPI_E_TOO_COMPLEX);
  Restriction ok = Restriction::exist(kSubject);
  for (int i = 1; i < kMaxRestrictionDepth; ++i) ok = Restriction::negate(std::move(ok));
  EXPECT_TRUE(validate(ok).is_ok());
  // Unwind without deep recursion in the destructor of the test's tree.
  while (!r.children.empty()) {
    Restriction child = std::move(r.children[0]);
    r = std::move(child);
  }
}

TEST(MapiRestriction, RestrictionColumnsListsEachTagOnceWithoutMvInstance) {
  auto r = Restriction::all_of({Restriction::exist(kSubject), Restriction::compare_props(kRelopEq, kSize, kLimit),
                                Restriction::property(kRelopEq, kCategories | kMvInstance,
                                                      PropValue::unicode(prop_tag(0x8012, kPtUnicode), "x")),
                                Restriction::negate(Restriction::exist(kSubject)),
                                Restriction::sub(kPrMessageRecipients, Restriction::exist(kEmail))});
  EXPECT_EQ(restriction_columns(r), std::vector<PropTag>({kSubject, kSize, kLimit, kCategories}));
}

// ---- sorts (ssortorder.md, ssortorderset.md, imapitable-sorttable.md) ----

struct Table {
  InMemoryRowSource source{{kSubject, kImportance}, sample_rows()};
  TableCursor cursor{source};
};

TEST(MapiSort, SortOnTwoKeysAscendThenDescend) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kImportance, kSortAscend}, {kDelivery, kSortDescend}}}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({4, 3, 1, 5, 2}));
  ASSERT_TRUE(t.cursor.sort_table({{{kImportance, kSortDescend}, {kDelivery, kSortAscend}}}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({2, 5, 1, 3, 4}));
}

TEST(MapiSort, SortOnStringsIsCaseInsensitive) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kSender8, kSortAscend}}}).is_ok());
  // alice, ALICE (stable: source order), bob, Carl; row 3 lacks the sender.
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({1, 4, 2, 5, 3}));
}

TEST(MapiSort, SortOnUnicodeOrdersByCaseFoldedCodePoint) {
  std::vector<InMemoryRowSource::Row> rows;
  const char* subjects[] = {"b", "\u00c9t\u00e9", "A", "\xff", "e", "a"};  // "\xff": invalid UTF-8, read as U+FFFD
  for (size_t i = 0; i < std::size(subjects); ++i) {
    rows.push_back({RowId(i + 1), {PropValue::unicode(kSubject, subjects[i])}, {}, {}});
  }
  InMemoryRowSource source({kSubject}, rows);
  TableCursor cursor(source);
  ASSERT_TRUE(cursor.sort_table({{{kSubject, kSortAscend}}}).is_ok());
  auto sorted = cursor.query_rows(10);
  ASSERT_TRUE(sorted.is_ok());
  std::vector<std::string> got;
  for (const auto& row : *sorted) got.push_back(row[0].bytes);
  // "A" and "a" are equal and keep source order; U+00E9 sorts after ASCII.
  EXPECT_EQ(got, std::vector<std::string>({"A", "a", "b", "e", "\u00c9t\u00e9", "\xff"}));
}

TEST(MapiSort, RowsLackingTheSortPropertyComeLastInBothDirections) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kSubject, kSortAscend}}}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({3, 2, 1, 5, 4}));
  ASSERT_TRUE(t.cursor.sort_table({{{kSubject, kSortDescend}}}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({5, 1, 2, 3, 4}));
}

TEST(MapiSort, SortIsStableForEqualKeys) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kSize, kSortDescend}}}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({2, 3, 1, 5, 4}));  // 1 and 5 (100) keep source order
}

TEST(MapiSort, SortOnMultiValuedColumnComparesTuples) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kCategories, kSortAscend}}}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({2, 4, 1, 3, 5}));  // {Green} < {red} < {Red,Blue}
}

TEST(MapiSort, EmptySortOrderSetRestoresSourceOrder) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kDelivery, kSortAscend}}}).is_ok());
  ASSERT_TRUE(t.cursor.sort_table({}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({1, 2, 3, 4, 5}));
}

TEST(MapiSort, CategoriesAndMviKeysAreTooComplexUnknownOrderInvalid) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kDelivery, kSortAscend}}}).is_ok());
  EXPECT_EQ(mapi_scode(t.cursor.sort_table({{{kImportance, kSortAscend}}, 1, 1})), MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(mapi_scode(t.cursor.sort_table({{{kImportance, kSortCategMax}}})), MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(mapi_scode(t.cursor.sort_table({{{kCategories | kMvInstance, kSortAscend}}})), MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(mapi_scode(t.cursor.sort_table({{{kImportance, 3}}})), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(mapi_scode(t.cursor.sort_table({{{kImportance, kSortAscend}}, 2, 0})), MAPI_E_INVALID_PARAMETER);
  // sorttable.md: after a failure the previous sort stays in effect.
  EXPECT_EQ(t.cursor.query_sort_order().keys.at(0).tag, kDelivery);
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({4, 1, 3, 2, 5}));
}

// ---- the cursor (imapitable-*.md) ----

TEST(MapiTableCursor, SetColumnsOrdersColumnsKeepsPrNullAndMissingIsErrorNotFound) {
  Table t;
  EXPECT_EQ(t.cursor.query_columns(false), std::vector<PropTag>({kSubject, kImportance}));
  ASSERT_TRUE(t.cursor.set_columns({kImportance, kPrNull, kSender8}).is_ok());
  EXPECT_EQ(t.cursor.query_columns(false), std::vector<PropTag>({kImportance, kPrNull, kSender8}));
  auto rows = t.cursor.query_rows(3);
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 3u);
  const auto& row3 = (*rows)[2];
  ASSERT_EQ(row3.size(), 3u);
  EXPECT_EQ(row3[0].tag, kImportance);
  EXPECT_EQ(row3[1].tag, kPrNull);
  EXPECT_EQ(row3[2].tag, prop_tag(0x0C1A, kPtError));  // queryrows.md: PT_ERROR, MAPI_E_NOT_FOUND
  EXPECT_EQ(row3[2].integer, MAPI_E_NOT_FOUND);
  auto all = t.cursor.query_columns(true);
  EXPECT_NE(std::find(all.begin(), all.end(), kCategories), all.end());
  EXPECT_EQ(mapi_scode(t.cursor.set_columns({kCategories | kMvInstance})), MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(mapi_scode(t.cursor.set_columns({})), MAPI_E_INVALID_PARAMETER);
}

TEST(MapiTableCursor, QueryRowsReadsForwardAdvancesAndReturnsNoRowsAtTheEnd) {
  Table t;
  EXPECT_EQ(ids_of(t.cursor, t.source, 2), Ids({1, 2}));
  EXPECT_EQ(ids_of(t.cursor, t.source, 2), Ids({3, 4}));
  EXPECT_EQ(ids_of(t.cursor, t.source, 2), Ids({5}));
  EXPECT_EQ(ids_of(t.cursor, t.source, 2), Ids({}));
  EXPECT_EQ(t.cursor.query_position()->row, 5u);
}

TEST(MapiTableCursor, QueryRowsNegativeMovesBackThenReadsForward) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkEnd, 0).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source, -2), Ids({4, 5}));
  EXPECT_EQ(t.cursor.query_position()->row, 3u);  // the cursor stays where reading began
  EXPECT_EQ(ids_of(t.cursor, t.source, -10), Ids({1, 2, 3}));
  EXPECT_EQ(ids_of(t.cursor, t.source, -1), Ids({}));  // already at the beginning
}

TEST(MapiTableCursor, QueryRowsNoAdvanceLeavesTheCursor) {
  Table t;
  ASSERT_TRUE(t.cursor.set_columns({kDelivery}).is_ok());
  auto rows = t.cursor.query_rows(2, kTblNoAdvance);
  ASSERT_TRUE(rows.is_ok());
  EXPECT_EQ(rows->size(), 2u);
  EXPECT_EQ(t.cursor.query_position()->row, 0u);
  EXPECT_EQ(mapi_scode(t.cursor.query_rows(1, 0x8).status()), MAPI_E_INVALID_PARAMETER);
}

TEST(MapiTableCursor, QueryRowsReadsColumnsOnlyForReturnedRows) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kDelivery, kSortAscend}}}).is_ok());
  EXPECT_EQ(t.source.scans, 1u);
  EXPECT_EQ(t.source.rows_read, 0u);
  ASSERT_TRUE(t.cursor.query_rows(2).is_ok());
  EXPECT_EQ(t.source.rows_read, 2u);
  EXPECT_EQ(t.source.scans, 1u);
}

TEST(MapiTableCursor, GetRowCountCountsRowsPassingTheRestriction) {
  Table t;
  EXPECT_EQ(*t.cursor.row_count(), 5u);
  ASSERT_TRUE(t.cursor.restrict(Restriction::exist(kCategories)).is_ok());
  EXPECT_EQ(*t.cursor.row_count(), 3u);
  ASSERT_TRUE(t.cursor.restrict(std::nullopt).is_ok());  // restrict.md: NULL removes the filter
  EXPECT_EQ(*t.cursor.row_count(), 5u);
}

TEST(MapiTableCursor, RestrictFiltersRowsAndMovesTheCursorToTheBeginning) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 3).is_ok());
  ASSERT_TRUE(t.cursor.restrict(Restriction::property(kRelopGe, kImportance, PropValue::long_(kImportance, 1))).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 0u);
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({1, 2, 3, 5}));
  // A restriction on a sub-object, evaluated through the source.
  ASSERT_TRUE(t.cursor.restrict(Restriction::sub(kPrMessageRecipients, Restriction::exist(kEmail))).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({1, 3}));
  // An invalid restriction fails and leaves the previous one in effect.
  EXPECT_EQ(mapi_scode(t.cursor.restrict(Restriction::property(kRelopRe, kSubject, PropValue::unicode(kSubject, "x")))),
            MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(*t.cursor.row_count(), 2u);
}

TEST(MapiTableCursor, RestrictAndSortTogether) {
  Table t;
  ASSERT_TRUE(t.cursor.restrict(Restriction::exist(kSender8)).is_ok());
  ASSERT_TRUE(t.cursor.sort_table({{{kDelivery, kSortDescend}}}).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source), Ids({5, 2, 1, 4}));
}

TEST(MapiTableCursor, SeekRowBeyondEndReturnsRowsSoughtAndStopsAfterLastRow) {
  Table t;
  auto r = t.cursor.seek_row(kBookmarkBeginning, 2);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->rows_sought, 2);
  r = t.cursor.seek_row(kBookmarkCurrent, 50);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->rows_sought, 3);
  EXPECT_EQ(t.cursor.query_position()->row, 5u);
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({}));
}

TEST(MapiTableCursor, SeekRowBeforeBeginningReturnsNegativeRowsSoughtAndStopsAtFirstRow) {
  Table t;
  auto r = t.cursor.seek_row(kBookmarkEnd, -2);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->rows_sought, -2);
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({4}));
  r = t.cursor.seek_row(kBookmarkCurrent, -50);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->rows_sought, -4);
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({1}));
  r = t.cursor.seek_row(kBookmarkBeginning, -1);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->rows_sought, 0);
}

TEST(MapiTableCursor, SeekRowApproxPositionsByFraction) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row_approx(1, 2).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 2u);
  ASSERT_TRUE(t.cursor.seek_row_approx(7, 7).is_ok());  // equal: after the last row
  EXPECT_EQ(t.cursor.query_position()->row, 5u);
  ASSERT_TRUE(t.cursor.seek_row_approx(0, 9).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 0u);
  EXPECT_EQ(mapi_scode(t.cursor.seek_row_approx(1, 0)), MAPI_E_INVALID_PARAMETER);
}

TEST(MapiTableCursor, QueryPositionGivesCurrentRowAndFraction) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 3).is_ok());
  auto p = t.cursor.query_position();
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->row, 3u);
  EXPECT_EQ(p->numerator, 3u);
  EXPECT_EQ(p->denominator, 5u);
  ASSERT_TRUE(t.cursor.restrict(Restriction::any_of({})).is_ok());  // empty table
  p = t.cursor.query_position();
  EXPECT_EQ(p->row, 0u);
  EXPECT_NE(p->denominator, 0u);
}

TEST(MapiTableCursor, FindRowForwardMovesToTheFirstMatchFromTheBookmark) {
  Table t;
  auto big = Restriction::property(kRelopGe, kSize, PropValue::long_(kSize, 200));
  ASSERT_TRUE(t.cursor.find_row(big, kBookmarkBeginning).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 1u);
  // From the current row (the match itself): found again, not skipped.
  ASSERT_TRUE(t.cursor.find_row(big, kBookmarkCurrent).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 1u);
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkCurrent, 1).is_ok());
  ASSERT_TRUE(t.cursor.find_row(big, kBookmarkCurrent).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 2u);
}

TEST(MapiTableCursor, FindRowBackwardSearchesFromTheRowBeforeTheBookmark) {
  Table t;
  auto small = Restriction::property(kRelopLe, kSize, PropValue::long_(kSize, 100));
  ASSERT_TRUE(t.cursor.find_row(small, kBookmarkEnd, kDirBackward).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 4u);  // row 5
  ASSERT_TRUE(t.cursor.find_row(small, kBookmarkCurrent, kDirBackward).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 3u);  // row 4, before the current one
  ASSERT_TRUE(t.cursor.find_row(small, kBookmarkCurrent, kDirBackward).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 0u);
  EXPECT_EQ(mapi_scode(t.cursor.find_row(small, kBookmarkCurrent, kDirBackward).status()), MAPI_E_NOT_FOUND);
  EXPECT_EQ(t.cursor.query_position()->row, 0u);
}

TEST(MapiTableCursor, FindRowWithoutMatchIsNotFoundAndTheCursorStays) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 2).is_ok());
  auto none = Restriction::content(kFlFullString, kSubject, PropValue::unicode(kSubject, "nothing"));
  EXPECT_EQ(mapi_scode(t.cursor.find_row(none, kBookmarkBeginning).status()), MAPI_E_NOT_FOUND);
  EXPECT_EQ(t.cursor.query_position()->row, 2u);
  EXPECT_EQ(mapi_scode(t.cursor.find_row(none, kBookmarkBeginning, 0x2).status()), MAPI_E_INVALID_PARAMETER);
  auto re = Restriction::property(kRelopRe, kSubject, PropValue::unicode(kSubject, "x"));
  EXPECT_EQ(mapi_scode(t.cursor.find_row(re, kBookmarkBeginning).status()), MAPI_E_TOO_COMPLEX);
}

TEST(MapiTableCursor, FindRowSearchesOnlyTheRestrictedSortedView) {
  Table t;
  ASSERT_TRUE(t.cursor.restrict(Restriction::exist(kSender8)).is_ok());
  ASSERT_TRUE(t.cursor.sort_table({{{kDelivery, kSortAscend}}}).is_ok());  // 4, 1, 2, 5
  auto r = Restriction::property(kRelopGe, kSize, PropValue::long_(kSize, 200));  // rows 2, 3
  ASSERT_TRUE(t.cursor.find_row(r, kBookmarkBeginning).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({2}));
}

TEST(MapiTableCursor, BookmarkReturnsToItsRow) {
  Table t;
  ASSERT_TRUE(t.cursor.sort_table({{{kDelivery, kSortAscend}}}).is_ok());  // 4, 1, 3, 2, 5
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 2).is_ok());
  auto bm = t.cursor.create_bookmark();
  ASSERT_TRUE(bm.is_ok());
  EXPECT_GT(*bm, kBookmarkEnd);
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkEnd, 0).is_ok());
  auto r = t.cursor.seek_row(*bm, 1);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->position_changed);
  EXPECT_EQ(r->rows_sought, 1);
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({2}));
  // FindRow from a bookmark.
  ASSERT_TRUE(t.cursor.find_row(Restriction::exist(kSubject), *bm).is_ok());
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({3}));
}

TEST(MapiTableCursor, BookmarkOnRestrictedAwayRowMovesToNextVisibleRowWithPositionChanged) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 2).is_ok());  // row 3
  auto bm = t.cursor.create_bookmark();
  ASSERT_TRUE(bm.is_ok());
  ASSERT_TRUE(t.cursor.restrict(Restriction::exist(kCategories)).is_ok());  // rows 1, 2, 4
  auto r = t.cursor.seek_row(*bm, 0);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->position_changed);  // MAPI_W_POSITION_CHANGED
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({4}));
  // The bookmark moved with it: the next use is an ordinary one.
  r = t.cursor.seek_row(*bm, 0);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->position_changed);
  EXPECT_EQ(t.cursor.query_position()->row, 2u);
  // Clearing the restriction: the bookmark is on row 4 now.
  ASSERT_TRUE(t.cursor.restrict(std::nullopt).is_ok());
  r = t.cursor.seek_row(*bm, 0);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->position_changed);
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({4}));
}

TEST(MapiTableCursor, BookmarkOnLastRestrictedAwayRowMovesAfterTheLastRow) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 4).is_ok());  // row 5
  auto bm = t.cursor.create_bookmark();
  ASSERT_TRUE(bm.is_ok());
  ASSERT_TRUE(t.cursor.restrict(Restriction::exist(kCategories)).is_ok());
  auto r = t.cursor.find_row(Restriction::exist(kSubject), *bm, kDirBackward);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->position_changed);
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({2}));
}

TEST(MapiTableCursor, FreedOrUnknownBookmarkIsInvalid) {
  Table t;
  auto bm = t.cursor.create_bookmark();
  ASSERT_TRUE(bm.is_ok());
  ASSERT_TRUE(t.cursor.free_bookmark(*bm).is_ok());
  EXPECT_EQ(mapi_scode(t.cursor.seek_row(*bm, 0).status()), MAPI_E_INVALID_BOOKMARK);
  EXPECT_EQ(mapi_scode(t.cursor.find_row(Restriction::exist(kSubject), *bm).status()), MAPI_E_INVALID_BOOKMARK);
  EXPECT_EQ(mapi_scode(t.cursor.seek_row(12345, 0).status()), MAPI_E_INVALID_BOOKMARK);
  // freebookmark.md: predefined bookmarks are ignored.
  EXPECT_TRUE(t.cursor.free_bookmark(kBookmarkCurrent).is_ok());
}

TEST(MapiTableCursor, SortTableInvalidatesBookmarksAndMovesToTheBeginning) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 1).is_ok());
  auto bm = t.cursor.create_bookmark();
  ASSERT_TRUE(bm.is_ok());
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkCurrent, 2).is_ok());
  ASSERT_TRUE(t.cursor.sort_table({{{kDelivery, kSortAscend}}}).is_ok());
  EXPECT_EQ(t.cursor.query_position()->row, 0u);
  EXPECT_EQ(mapi_scode(t.cursor.seek_row(*bm, 0).status()), MAPI_E_INVALID_BOOKMARK);
}

TEST(MapiTableCursor, BookmarkAfterTheLastRowStaysThere) {
  Table t;
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkEnd, 0).is_ok());
  auto bm = t.cursor.create_bookmark();
  ASSERT_TRUE(bm.is_ok());
  ASSERT_TRUE(t.cursor.seek_row(kBookmarkBeginning, 0).is_ok());
  auto r = t.cursor.seek_row(*bm, -1);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->rows_sought, -1);
  EXPECT_EQ(ids_of(t.cursor, t.source, 1), Ids({5}));
}

TEST(MapiTableCursor, TooManyBookmarksIsUnableToComplete) {
  Table t;
  for (size_t i = 0; i < kMaxBookmarks; ++i) ASSERT_TRUE(t.cursor.create_bookmark().is_ok());
  EXPECT_EQ(mapi_scode(t.cursor.create_bookmark().status()), MAPI_E_UNABLE_TO_COMPLETE);
}

TEST(MapiTableCursor, EmptySourceHasNoRowsAndEveryMoveStaysPut) {
  InMemoryRowSource source({kSubject}, {});
  TableCursor cursor(source);
  EXPECT_EQ(*cursor.row_count(), 0u);
  EXPECT_EQ(cursor.seek_row(kBookmarkBeginning, 5)->rows_sought, 0);
  EXPECT_EQ(cursor.seek_row(kBookmarkEnd, -5)->rows_sought, 0);
  EXPECT_TRUE(cursor.query_rows(10)->empty());
  EXPECT_TRUE(cursor.query_rows(-10)->empty());
  EXPECT_EQ(mapi_scode(cursor.find_row(Restriction::all_of({}), kBookmarkBeginning).status()), MAPI_E_NOT_FOUND);
}

}  // namespace
