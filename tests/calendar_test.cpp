// Calendar structures (pstkit/calendar.h): the recurrence blob of MS-OXOCAL
// 2.2.1.44, whole and cut at every length; time-zone rules and their
// offsets; Windows zone names through ICU.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "pstkit/calendar.h"
#include "pstkit/ical_export.h"
#include "pstkit/property_names.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

void put16(Bytes& b, uint16_t v) { b.push_back(uint8_t(v)), b.push_back(uint8_t(v >> 8)); }
void put32(Bytes& b, uint32_t v) { put16(b, uint16_t(v)), put16(b, uint16_t(v >> 16)); }

// Minutes since 1601 of a date (days_from_civil + the 1601..1970 offset).
uint32_t minutes(int y, unsigned m, unsigned d, unsigned hh = 0, unsigned mm = 0) {
  y -= m <= 2;
  const int era = y / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t(era) * 146097 + doe - 719468 + 134774;
  return uint32_t(days * 1440 + hh * 60 + mm);
}

// Weekly on Monday and Wednesday, 6 instances, one deleted, one modified
// (subject and location), as Outlook writes it (WriterVersion2 0x3009).
Bytes weekly_blob() {
  Bytes b;
  put16(b, 0x3004), put16(b, 0x3004), put16(b, 0x200B), put16(b, 0x0001), put16(b, 0);
  put32(b, 0), put32(b, 1), put32(b, 0);
  put32(b, 0x0A);  // Monday | Wednesday
  put32(b, kRecurEndAfterCount), put32(b, 6), put32(b, 1);
  put32(b, 2), put32(b, minutes(2024, 3, 6)), put32(b, minutes(2024, 3, 11));  // deleted: 6th, 11th (modified)
  put32(b, 1), put32(b, minutes(2024, 3, 12));                                 // modified: now on the 12th
  put32(b, minutes(2024, 3, 4)), put32(b, minutes(2024, 3, 18));
  put32(b, 0x3006), put32(b, 0x3009), put32(b, 600), put32(b, 660);
  put16(b, 1);
  put32(b, minutes(2024, 3, 12, 14)), put32(b, minutes(2024, 3, 12, 15)), put32(b, minutes(2024, 3, 11, 10));
  put16(b, kAroSubject | kAroLocation | kAroBusyStatus);
  put16(b, 4), put16(b, 3), b.insert(b.end(), {'n', 'e', 'w'});
  put16(b, 3), put16(b, 2), b.insert(b.end(), {'R', '2'});
  put32(b, 1);  // busy status: tentative
  put32(b, 0);  // ReservedBlock1
  put32(b, 4), put32(b, 0), put32(b, 0);  // ChangeHighlight, ReservedBlockEE1
  put32(b, minutes(2024, 3, 12, 14)), put32(b, minutes(2024, 3, 12, 15)), put32(b, minutes(2024, 3, 11, 10));
  put16(b, 4), put16(b, 'n'), put16(b, 0xE9), put16(b, 'w'), put16(b, '!');  // "néw!"
  put16(b, 3), put16(b, 'R'), put16(b, '-'), put16(b, '2');
  put32(b, 0), put32(b, 0);  // ReservedBlockEE2, ReservedBlock2
  return b;
}

TEST(Recurrence, DecodesAWeeklyPatternWithExceptions) {
  const Bytes blob = weekly_blob();
  const AppointmentRecurrence r = decode_appointment_recurrence(blob);
  EXPECT_EQ(r.damage, "");
  EXPECT_EQ(r.frequency, 0x200B);
  EXPECT_EQ(r.pattern_type, 1);
  EXPECT_EQ(r.day_mask, 0x0Au);
  EXPECT_EQ(r.end_type, kRecurEndAfterCount);
  EXPECT_EQ(r.occurrence_count, 6u);
  EXPECT_EQ(r.first_dow, 1u);
  ASSERT_EQ(r.deleted_dates.size(), 2u);
  EXPECT_EQ(r.deleted_dates[1], minutes(2024, 3, 11));
  ASSERT_EQ(r.modified_dates.size(), 1u);
  EXPECT_EQ(r.start_date, minutes(2024, 3, 4));
  EXPECT_TRUE(r.has_appointment_part);
  EXPECT_EQ(r.start_time_offset, 600u);
  EXPECT_EQ(r.end_time_offset, 660u);
  ASSERT_EQ(r.exceptions.size(), 1u);
  const RecurrenceException& e = r.exceptions[0];
  EXPECT_EQ(e.original_start, minutes(2024, 3, 11, 10));
  EXPECT_EQ(e.start, minutes(2024, 3, 12, 14));
  EXPECT_EQ(e.subject.value_or(""), "n\xC3\xA9w!");  // the wide subject replaces the 8-bit one
  EXPECT_EQ(e.location.value_or(""), "R-2");
  EXPECT_EQ(e.busy_status.value_or(-1), 1);
}

TEST(Recurrence, EveryCutOfTheBlobDecodesWhatPrecedesTheCut) {
  const Bytes blob = weekly_blob();
  for (size_t n = 0; n < blob.size(); ++n) {
    const AppointmentRecurrence r = decode_appointment_recurrence(ByteView(blob.data(), n));
    // The pattern alone (a task's blob) ends after EndDate, at 66 bytes here.
    if (n == 66) {
      EXPECT_EQ(r.damage, "") << n;
      EXPECT_FALSE(r.has_appointment_part);
      continue;
    }
    EXPECT_NE(r.damage, "") << "a blob cut at " << n << " bytes read as whole";
    EXPECT_NE(r.damage.find("offset"), std::string::npos) << r.damage;
    if (n >= 66) {
      EXPECT_EQ(r.start_date, minutes(2024, 3, 4)) << n;
    }
    EXPECT_LE(r.exceptions.size(), 1u);
  }
}

TEST(Recurrence, HugeCountsAreDamageNotAllocations) {
  Bytes b;
  put16(b, 0x3004), put16(b, 0x3004), put16(b, 0x200A), put16(b, 0), put16(b, 0);
  put32(b, 0), put32(b, 1440), put32(b, 0);
  put32(b, kRecurEndNever), put32(b, 10), put32(b, 0);
  put32(b, 0xFFFFFFFF);  // DeletedInstanceCount
  const AppointmentRecurrence r = decode_appointment_recurrence(b);
  EXPECT_NE(r.damage.find("DeletedInstanceCount"), std::string::npos) << r.damage;
  EXPECT_TRUE(r.deleted_dates.empty());

  Bytes bad_version = weekly_blob();
  bad_version[0] = 0x05;
  EXPECT_NE(decode_appointment_recurrence(bad_version).damage.find("0x3004"), std::string::npos);
}

// "W. Europe Standard Time": UTC+1, daylight saving from the last Sunday of
// March 02:00 to the last Sunday of October 03:00.
Bytes w_europe_definition() {
  Bytes b = {0x02, 0x01};
  const std::string name = "W. Europe Standard Time";
  put16(b, uint16_t(6 + 2 * name.size()));
  put16(b, 0x0002), put16(b, uint16_t(name.size()));
  for (char c : name) put16(b, uint16_t(c));
  put16(b, 1);
  b.insert(b.end(), {0x02, 0x01});
  put16(b, 0x3E), put16(b, 0x0002), put16(b, 0);
  b.insert(b.end(), 14, 0);
  put32(b, uint32_t(-60)), put32(b, 0), put32(b, uint32_t(-60));
  for (uint16_t v : {0, 10, 0, 5, 3, 0, 0, 0}) put16(b, v);
  for (uint16_t v : {0, 3, 0, 5, 2, 0, 0, 0}) put16(b, v);
  return b;
}

TEST(TimeZone, DefinitionGivesOffsetsAroundTheTransitions) {
  const Bytes def = w_europe_definition();
  auto tz = decode_tz_definition(def);
  ASSERT_TRUE(tz.has_value());
  EXPECT_EQ(tz->key_name, "W. Europe Standard Time");
  ASSERT_EQ(tz->rules.size(), 1u);
  const TzRule& rule = *tz_rule_for_year(*tz, 2024);
  EXPECT_TRUE(rule.effective);
  // 2024: daylight saving from 31 March 01:00 UTC to 27 October 01:00 UTC.
  EXPECT_EQ(tz_utc_offset_at(rule, minutes(2024, 1, 15, 12)), 60);
  EXPECT_EQ(tz_utc_offset_at(rule, minutes(2024, 3, 31, 0, 59)), 60);
  EXPECT_EQ(tz_utc_offset_at(rule, minutes(2024, 3, 31, 1)), 120);
  EXPECT_EQ(tz_utc_offset_at(rule, minutes(2024, 10, 27, 0, 59)), 120);
  EXPECT_EQ(tz_utc_offset_at(rule, minutes(2024, 10, 27, 1)), 60);
  EXPECT_EQ(tz_transition_local(rule.daylight_date, 2024), int64_t(minutes(2024, 3, 31, 2)));
  EXPECT_EQ(tz_transition_local(rule.standard_date, 2023), int64_t(minutes(2023, 10, 29, 3)));

  // Every cut of the definition: no rule read past the end.
  for (size_t n = 0; n < def.size(); ++n) EXPECT_FALSE(decode_tz_definition(ByteView(def.data(), n)).has_value()) << n;
}

TEST(TimeZone, StructAndSouthernHemisphere) {
  // PidLidTimeZoneStruct of "AUS Eastern Standard Time": UTC+10, daylight
  // saving from the first Sunday of October to the first Sunday of April.
  Bytes b;
  put32(b, uint32_t(-600)), put32(b, 0), put32(b, uint32_t(-60));
  put16(b, 0);
  for (uint16_t v : {0, 4, 0, 1, 3, 0, 0, 0}) put16(b, v);
  put16(b, 0);
  for (uint16_t v : {0, 10, 0, 1, 2, 0, 0, 0}) put16(b, v);
  auto rule = decode_tz_struct(b);
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(tz_utc_offset_at(*rule, minutes(2024, 1, 10)), 660);
  EXPECT_EQ(tz_utc_offset_at(*rule, minutes(2024, 7, 10)), 600);
  EXPECT_FALSE(decode_tz_struct(ByteView(b.data(), 47)).has_value());
}

TEST(TimeZone, WindowsNamesMapToIanaIds) {
  EXPECT_EQ(iana_zone_for_windows("W. Europe Standard Time").value_or(""), "Europe/Berlin");
  EXPECT_EQ(iana_zone_for_windows("Pacific Standard Time").value_or(""), "America/Los_Angeles");
  EXPECT_FALSE(iana_zone_for_windows("No Such Zone").has_value());
  EXPECT_FALSE(iana_zone_for_windows("").has_value());
}

// ---- iCalendar of a stored series ----------------------------------------

NamedValue named(const Guid& set, uint32_t lid, uint16_t type, Bytes data) {
  NamedValue v;
  v.name.guid = set;
  v.name.lid = lid;
  v.type = type;
  v.data = std::move(data);
  return v;
}
Bytes le64(uint64_t v) {
  Bytes b;
  put32(b, uint32_t(v)), put32(b, uint32_t(v >> 32));
  return b;
}
Bytes filetime(uint32_t minutes_since_1601) { return le64(uint64_t(minutes_since_1601) * 600000000ULL); }

class IcalendarOfSeries : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pstkit-ical-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes an appointment with this recurrence blob and, when wanted, the
  // exception attachment of its modified instance (MS-OXOCAL 2.2.10.1.1);
  // returns its iCalendar text and notes.
  std::pair<std::string, std::vector<std::string>> export_series(const Bytes& blob, bool with_attachment) {
    namespace ps = property_sets;
    path_ = (dir_ / ("cal" + std::to_string(files_++) + ".pst")).string();  // a new store each call
    auto w = StoreWriter::create(path_, NewStoreOptions{});
    if (!w.is_ok()) {
      ADD_FAILURE() << w.status().message();
      return {};
    }
    NewMessage m;
    m.properties = {ltp::string_value(prop::kMessageClass, "IPM.Appointment"),
                    ltp::string_value(prop::kSubject, "Series")};
    m.named = {named(ps::kPsetidAppointment, 0x8216, ltp::kPtypBinary, blob),
               named(ps::kPsetidAppointment, 0x820D, ltp::kPtypTime, filetime(minutes(2024, 3, 4, 10))),
               named(ps::kPsetidAppointment, 0x820E, ltp::kPtypTime, filetime(minutes(2024, 3, 4, 11)))};
    if (with_attachment) {
      auto exception = std::make_shared<NewMessage>();
      exception->properties = {ltp::string_value(prop::kMessageClass, "IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}"),
                               ltp::string_value(prop::kSubject, "new"),
                               ltp::string_value(prop::kBody, "Only this week: bring the report")};
      exception->named = {named(ps::kPsetidAppointment, 0x8228, ltp::kPtypTime, filetime(minutes(2024, 3, 11, 10)))};
      NewAttachment a;
      a.properties = {ltp::int32_value(prop::kAttachMethod, kAttachEmbeddedMessage), ltp::int32_value(0x7FFD, 0x2)};
      a.embedded = exception;
      m.attachments.push_back(std::move(a));
    }
    auto nid = (*w)->create_message((*w)->ipm_subtree(), m);
    if (!nid.is_ok() || !(*w)->commit().is_ok()) {
      ADD_FAILURE() << "writing the appointment failed";
      return {};
    }
    w->reset();
    auto store = Store::open(path_);
    auto message = store.is_ok() ? (*store)->open_message(*nid) : Result<Message>(store.status());
    if (!message.is_ok()) {
      ADD_FAILURE() << message.status().message();
      return {};
    }
    auto ics = message_to_icalendar(*message, (*store)->names());
    if (!ics.is_ok()) {
      ADD_FAILURE() << ics.status().message();
      return {};
    }
    return {std::string(ics->data.begin(), ics->data.end()), ics->notes};
  }

  std::filesystem::path dir_;
  std::string path_;
  int files_ = 0;
};

TEST_F(IcalendarOfSeries, RruleExdateAndTheOverrideWithItsAttachmentBody) {
  auto [text, notes] = export_series(weekly_blob(), true);
  EXPECT_TRUE(notes.empty());
  EXPECT_NE(text.find("\r\nDTSTART:20240304T100000Z\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nRRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE;WKST=MO;COUNT=6\r\n"), std::string::npos) << text;
  // The deleted instance is an EXDATE; the modified one is not, it has its own VEVENT.
  EXPECT_NE(text.find("\r\nEXDATE:20240306T100000Z\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("EXDATE:20240311"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nRECURRENCE-ID:20240311T100000Z\r\nDTSTART:20240312T140000Z\r\nDTEND:20240312T150000Z\r\n"
                      "SUMMARY:n\xC3\xA9w!\r\nLOCATION:R-2\r\nDESCRIPTION:Only this week: bring the report\r\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"), std::string::npos);
  // CRLF everywhere, no line over 75 octets.
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "a line without CRLF at " << start;
    EXPECT_LE(end - start, 75u);
    EXPECT_EQ(text.substr(start, end - start).find('\n'), std::string::npos);
    start = end + 2;
  }
}

TEST_F(IcalendarOfSeries, DamagedBlobExportsWhatReadsAndSaysWhy) {
  const Bytes blob = weekly_blob();
  // Cut inside the ExtendedException: the pattern and the ExceptionInfo read.
  auto [text, notes] = export_series(Bytes(blob.begin(), blob.end() - 12), false);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("recurrence blob: ExtendedException"), std::string::npos) << notes[0];
  EXPECT_NE(text.find("RRULE:FREQ=WEEKLY"), std::string::npos);
  EXPECT_NE(text.find("RECURRENCE-ID:20240311T100000Z"), std::string::npos);
  // Cut inside the pattern: a single event at PidLidAppointmentStartWhole.
  auto [single, notes2] = export_series(Bytes(blob.begin(), blob.begin() + 30), false);
  ASSERT_EQ(notes2.size(), 1u);
  EXPECT_EQ(single.find("RRULE"), std::string::npos);
  EXPECT_NE(single.find("DTSTART:20240304T100000Z"), std::string::npos) << single;
}

}  // namespace
}  // namespace pstkit
