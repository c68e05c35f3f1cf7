// Calendar structures of appointments ([MS-OXOCAL]): the recurrence blob
// (PidLidAppointmentRecur, 2.2.1.44) and the time-zone definitions
// (PidLidTimeZoneStruct 2.2.1.39, PidLidAppointmentTimeZoneDefinition*
// 2.2.1.41-43), decoded with every read bounds-checked.
//
// Times in the recurrence blob are local times of the recurrence's time
// zone, in minutes since 1601-01-01 00:00.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pstkit/bytes.h"

namespace pstkit {

// MS-OXOCAL 2.2.1.44.1 RecurFrequency.
enum class RecurFrequency : uint16_t { kDaily = 0x200A, kWeekly = 0x200B, kMonthly = 0x200C, kYearly = 0x200D };
// PatternType.
enum class RecurPatternType : uint16_t {
  kDay = 0x0000,
  kWeek = 0x0001,
  kMonth = 0x0002,
  kMonthNth = 0x0003,
  kMonthEnd = 0x0004,
  kHjMonth = 0x000A,
  kHjMonthNth = 0x000B,
  kHjMonthEnd = 0x000C,
};
// EndType.
inline constexpr uint32_t kRecurEndAfterDate = 0x2021;
inline constexpr uint32_t kRecurEndAfterCount = 0x2022;
inline constexpr uint32_t kRecurEndNever = 0x2023;
inline constexpr uint32_t kRecurEndNeverOld = 0xFFFFFFFF;

// MS-OXOCAL 2.2.1.44.2 ExceptionInfo OverrideFlags.
inline constexpr uint16_t kAroSubject = 0x0001;
inline constexpr uint16_t kAroMeetingType = 0x0002;
inline constexpr uint16_t kAroReminderDelta = 0x0004;
inline constexpr uint16_t kAroReminder = 0x0008;
inline constexpr uint16_t kAroLocation = 0x0010;
inline constexpr uint16_t kAroBusyStatus = 0x0020;
inline constexpr uint16_t kAroAttachment = 0x0040;
inline constexpr uint16_t kAroSubType = 0x0080;
inline constexpr uint16_t kAroAppointmentColor = 0x0100;
inline constexpr uint16_t kAroExceptionalBody = 0x0200;

// One modified instance: ExceptionInfo with its ExtendedException.
struct RecurrenceException {
  uint32_t start = 0, end = 0;   // the instance's new local start and end
  uint32_t original_start = 0;   // its start as the pattern places it
  uint16_t override_flags = 0;
  std::optional<std::string> subject;   // UTF-8 (the wide one when present)
  std::optional<std::string> location;
  std::optional<int32_t> meeting_type, reminder_delta, busy_status, attachment, sub_type, color;
  std::optional<bool> reminder_set;
};

// MS-OXOCAL 2.2.1.44.1 RecurrencePattern and 2.2.1.44.5
// AppointmentRecurrencePattern.
struct AppointmentRecurrence {
  uint16_t frequency = 0;
  uint16_t pattern_type = 0;
  uint16_t calendar_type = 0;
  uint32_t first_date_time = 0;
  uint32_t period = 0;  // days (daily, in minutes / 1440), weeks or months
  uint32_t sliding_flag = 0;
  uint32_t day_mask = 0;      // Week, MonthNth: bit 0 Sunday ... bit 6 Saturday
  uint32_t day_of_month = 0;  // Month, MonthEnd
  uint32_t nth = 0;           // MonthNth: 1..4, 5 = last
  uint32_t end_type = 0;
  uint32_t occurrence_count = 0;
  uint32_t first_dow = 0;
  std::vector<uint32_t> deleted_dates;   // midnight of each deleted or modified instance's original date
  std::vector<uint32_t> modified_dates;  // midnight of each modified instance's new date
  uint32_t start_date = 0, end_date = 0;  // midnight of the first and last instance
  // AppointmentRecurrencePattern (absent when the blob holds only the pattern).
  bool has_appointment_part = false;
  uint32_t writer_version2 = 0;
  uint32_t start_time_offset = 0, end_time_offset = 0;  // minutes after midnight
  std::vector<RecurrenceException> exceptions;
  // Empty when the whole blob was read; else what stopped the decoder (the
  // fields before it are filled in).
  std::string damage;
};

// Decodes PidLidAppointmentRecur (or PidLidTaskRecurrence, which holds only
// the RecurrencePattern). Never fails: what cannot be read is left at its
// default and named in `damage`.
AppointmentRecurrence decode_appointment_recurrence(ByteView blob);

// A Windows SYSTEMTIME as time-zone rules use it (MS-OXOCAL 2.2.1.39): with
// year 0, `day` is the week of the month (5 = last) of `day_of_week`.
struct TzTransition {
  uint16_t year = 0, month = 0, day_of_week = 0, day = 0, hour = 0, minute = 0, second = 0;
};

// One rule of a time zone: UTC = local + bias + (standard or daylight bias),
// in minutes. No daylight saving when daylight.month is 0.
struct TzRule {
  uint16_t year = 0;      // first year the rule applies to (TZRULE wYear)
  bool effective = false;  // TZRULE_FLAG_EFFECTIVE_TZREG
  int32_t bias = 0, standard_bias = 0, daylight_bias = 0;
  TzTransition standard_date, daylight_date;
};

struct TimeZoneDefinition {
  std::string key_name;  // the Windows zone name ("W. Europe Standard Time"), UTF-8; may be empty
  std::vector<TzRule> rules;  // ordered by year
};

// MS-OXOCAL 2.2.1.41.1 TZDEFINITION (PidLidAppointmentTimeZoneDefinition*).
std::optional<TimeZoneDefinition> decode_tz_definition(ByteView blob);
// MS-OXOCAL 2.2.1.39 PidLidTimeZoneStruct (one rule, no name).
std::optional<TzRule> decode_tz_struct(ByteView blob);

// The rule in force in `year`: the last whose year is not after it (else
// the first).
const TzRule* tz_rule_for_year(const TimeZoneDefinition& tz, int year);
// Local minutes since 1601 at which a rule's transition happens in `year`
// (the transition's time is local time in force before it).
int64_t tz_transition_local(const TzTransition& transition, int year);
// Offset in minutes to add to UTC to get local time at a UTC instant given in
// minutes since 1601.
int32_t tz_utc_offset_at(const TzRule& rule, int64_t utc_minutes);

// The IANA id of a Windows time-zone name ("W. Europe Standard Time" ->
// "Europe/Berlin"), through ICU's CLDR table (libicui18n, opened on first
// use); nullopt when ICU or the name is unknown.
std::optional<std::string> iana_zone_for_windows(const std::string& windows_name);

}  // namespace pstkit
