#include "pstkit/calendar.h"

#include <unicode/ucal.h>

#include <algorithm>
#include <mutex>

#include "pstkit/codepage.h"
#include "pstkit/utf.h"
#include "util/shared_library.h"

namespace pstkit {
namespace {

// A cursor over a blob: every read checks that it fits and, when not,
// records which field ran past the end and at which offset.
class Reader {
 public:
  Reader(ByteView data, std::string* damage) : data_(data), damage_(damage) {}
  bool ok() const { return ok_; }
  size_t offset() const { return pos_; }

  bool u16(uint16_t& v, const char* field) {
    if (!need(2, field)) return false;
    v = data_.u16(pos_);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& v, const char* field) {
    if (!need(4, field)) return false;
    v = data_.u32(pos_);
    pos_ += 4;
    return true;
  }
  bool bytes(size_t n, ByteView& v, const char* field) {
    if (!need(n, field)) return false;
    v = data_.sub(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n, const char* field) {
    ByteView unused;
    return bytes(n, unused, field);
  }
  void fail(const std::string& why) {
    if (ok_ && damage_) *damage_ = why;
    ok_ = false;
  }

 private:
  bool need(size_t n, const char* field) {
    if (!ok_) return false;
    if (!data_.has(pos_, n)) {
      fail(std::string(field) + " at offset " + std::to_string(pos_) + " runs past the end (" +
           std::to_string(data_.size()) + " bytes)");
      return false;
    }
    return true;
  }
  ByteView data_;
  std::string* damage_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// A count read from the blob bounds the entries that follow: each takes at
// least `min_size` bytes, so a count larger than what remains is damage, not
// an allocation request.
bool plausible_count(uint32_t count, size_t min_size, size_t remaining) {
  return min_size == 0 || count <= remaining / min_size;
}

bool read_date_list(Reader& r, ByteView blob, std::vector<uint32_t>& out, const char* field) {
  uint32_t count = 0;
  if (!r.u32(count, field)) return false;
  if (!plausible_count(count, 4, blob.size() - r.offset())) {
    r.fail(std::string(field) + " " + std::to_string(count) + " at offset " + std::to_string(r.offset() - 4) +
           " exceeds the blob");
    return false;
  }
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t d = 0;
    if (!r.u32(d, field)) return false;
    out.push_back(d);
  }
  return true;
}

// MS-OXOCAL 2.2.1.44.1 RecurrencePattern.
bool read_pattern(Reader& r, ByteView blob, AppointmentRecurrence& rec) {
  uint16_t reader_version = 0, writer_version = 0;
  if (!r.u16(reader_version, "ReaderVersion") || !r.u16(writer_version, "WriterVersion")) return false;
  if (reader_version != 0x3004 || writer_version != 0x3004) {
    r.fail("RecurrencePattern versions " + hex(reader_version) + "/" + hex(writer_version) + " are not 0x3004");
    return false;
  }
  if (!r.u16(rec.frequency, "RecurFrequency") || !r.u16(rec.pattern_type, "PatternType") ||
      !r.u16(rec.calendar_type, "CalendarType") || !r.u32(rec.first_date_time, "FirstDateTime") ||
      !r.u32(rec.period, "Period") || !r.u32(rec.sliding_flag, "SlidingFlag"))
    return false;
  switch (RecurPatternType(rec.pattern_type)) {
    case RecurPatternType::kDay: break;
    case RecurPatternType::kWeek:
      if (!r.u32(rec.day_mask, "PatternTypeSpecific.Week")) return false;
      break;
    case RecurPatternType::kMonth:
    case RecurPatternType::kMonthEnd:
    case RecurPatternType::kHjMonth:
    case RecurPatternType::kHjMonthEnd:
      if (!r.u32(rec.day_of_month, "PatternTypeSpecific.Month")) return false;
      break;
    case RecurPatternType::kMonthNth:
    case RecurPatternType::kHjMonthNth:
      if (!r.u32(rec.day_mask, "PatternTypeSpecific.MonthNth") || !r.u32(rec.nth, "PatternTypeSpecific.N"))
        return false;
      break;
    default:
      r.fail("PatternType " + hex(rec.pattern_type) + " is unknown");
      return false;
  }
  return r.u32(rec.end_type, "EndType") && r.u32(rec.occurrence_count, "OccurrenceCount") &&
         r.u32(rec.first_dow, "FirstDOW") && read_date_list(r, blob, rec.deleted_dates, "DeletedInstanceCount") &&
         read_date_list(r, blob, rec.modified_dates, "ModifiedInstanceCount") &&
         r.u32(rec.start_date, "StartDate") && r.u32(rec.end_date, "EndDate");
}

// An 8-bit string of ExceptionInfo: its length twice (MS-OXOCAL 2.2.1.44.2
// SubjectLength, SubjectLength2), then the characters.
bool read_ansi_string(Reader& r, std::optional<std::string>& out, const char* field) {
  uint16_t length = 0, length2 = 0;
  ByteView text;
  if (!r.u16(length, field) || !r.u16(length2, field) || !r.bytes(length2, text, field)) return false;
  out = decode_codepage(text, 1252);
  return true;
}

bool read_wide_string(Reader& r, std::optional<std::string>& out, const char* field) {
  uint16_t chars = 0;
  ByteView text;
  if (!r.u16(chars, field) || !r.bytes(size_t(chars) * 2, text, field)) return false;
  out = utf16le_to_utf8(text);
  return true;
}

bool read_reserved_block(Reader& r, const char* field) {
  uint32_t size = 0;
  return r.u32(size, field) && r.skip(size, field);
}

bool read_optional_i32(Reader& r, std::optional<int32_t>& out, const char* field) {
  uint32_t v = 0;
  if (!r.u32(v, field)) return false;
  out = int32_t(v);
  return true;
}

// MS-OXOCAL 2.2.1.44.2 ExceptionInfo.
bool read_exception_info(Reader& r, RecurrenceException& e) {
  if (!r.u32(e.start, "ExceptionInfo.StartDateTime") || !r.u32(e.end, "ExceptionInfo.EndDateTime") ||
      !r.u32(e.original_start, "ExceptionInfo.OriginalStartDate") || !r.u16(e.override_flags, "ExceptionInfo.OverrideFlags"))
    return false;
  const uint16_t f = e.override_flags;
  if ((f & kAroSubject) && !read_ansi_string(r, e.subject, "ExceptionInfo.Subject")) return false;
  if ((f & kAroMeetingType) && !read_optional_i32(r, e.meeting_type, "ExceptionInfo.MeetingType")) return false;
  if ((f & kAroReminderDelta) && !read_optional_i32(r, e.reminder_delta, "ExceptionInfo.ReminderDelta")) return false;
  if (f & kAroReminder) {
    std::optional<int32_t> set;
    if (!read_optional_i32(r, set, "ExceptionInfo.ReminderSet")) return false;
    e.reminder_set = *set != 0;
  }
  if ((f & kAroLocation) && !read_ansi_string(r, e.location, "ExceptionInfo.Location")) return false;
  if ((f & kAroBusyStatus) && !read_optional_i32(r, e.busy_status, "ExceptionInfo.BusyStatus")) return false;
  if ((f & kAroAttachment) && !read_optional_i32(r, e.attachment, "ExceptionInfo.Attachment")) return false;
  if ((f & kAroSubType) && !read_optional_i32(r, e.sub_type, "ExceptionInfo.SubType")) return false;
  if ((f & kAroAppointmentColor) && !read_optional_i32(r, e.color, "ExceptionInfo.AppointmentColor")) return false;
  return true;
}

// MS-OXOCAL 2.2.1.44.3 ExtendedException: the subject and location in
// Unicode, which replace the 8-bit ones.
bool read_extended_exception(Reader& r, uint32_t writer_version2, RecurrenceException& e) {
  if (writer_version2 >= 0x3009) {
    uint32_t size = 0;
    if (!r.u32(size, "ExtendedException.ChangeHighlightSize") || !r.skip(size, "ExtendedException.ChangeHighlight"))
      return false;
  }
  if (!read_reserved_block(r, "ExtendedException.ReservedBlockEE1")) return false;
  if (e.override_flags & (kAroSubject | kAroLocation)) {
    uint32_t start = 0, end = 0, original = 0;
    if (!r.u32(start, "ExtendedException.StartDateTime") || !r.u32(end, "ExtendedException.EndDateTime") ||
        !r.u32(original, "ExtendedException.OriginalStartDate"))
      return false;
    if ((e.override_flags & kAroSubject) && !read_wide_string(r, e.subject, "ExtendedException.WideCharSubject"))
      return false;
    if ((e.override_flags & kAroLocation) && !read_wide_string(r, e.location, "ExtendedException.WideCharLocation"))
      return false;
    if (!read_reserved_block(r, "ExtendedException.ReservedBlockEE2")) return false;
  }
  return true;
}

}  // namespace

AppointmentRecurrence decode_appointment_recurrence(ByteView blob) {
  AppointmentRecurrence rec;
  Reader r(blob, &rec.damage);
  if (!read_pattern(r, blob, rec)) return rec;
  if (r.offset() == blob.size()) return rec;  // a task's pattern: nothing more
  // MS-OXOCAL 2.2.1.44.5 AppointmentRecurrencePattern.
  uint32_t reader_version2 = 0;
  if (!r.u32(reader_version2, "ReaderVersion2") || !r.u32(rec.writer_version2, "WriterVersion2") ||
      !r.u32(rec.start_time_offset, "StartTimeOffset") || !r.u32(rec.end_time_offset, "EndTimeOffset"))
    return rec;
  rec.has_appointment_part = true;
  uint16_t count = 0;
  if (!r.u16(count, "ExceptionCount")) return rec;
  // An ExceptionInfo takes at least 14 bytes.
  if (!plausible_count(count, 14, blob.size() - r.offset())) {
    r.fail("ExceptionCount " + std::to_string(count) + " at offset " + std::to_string(r.offset() - 2) +
           " exceeds the blob");
    return rec;
  }
  rec.exceptions.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    RecurrenceException e;
    if (!read_exception_info(r, e)) return rec;
    rec.exceptions.push_back(std::move(e));
  }
  if (!read_reserved_block(r, "ReservedBlock1")) return rec;
  for (auto& e : rec.exceptions) {
    // Extended exceptions only refine subject and location: the instances
    // read so far stay valid when one is damaged.
    if (!read_extended_exception(r, rec.writer_version2, e)) return rec;
  }
  read_reserved_block(r, "ReservedBlock2");
  return rec;
}

namespace {

TzTransition read_systemtime(ByteView b, size_t o) {
  TzTransition t;
  t.year = b.u16(o);
  t.month = b.u16(o + 2);
  t.day_of_week = b.u16(o + 4);
  t.day = b.u16(o + 6);
  t.hour = b.u16(o + 8);
  t.minute = b.u16(o + 10);
  t.second = b.u16(o + 12);
  return t;
}

// A transition is usable when its fields are in range; a rule whose
// transitions are not is read as having no daylight saving.
bool valid_transition(const TzTransition& t) {
  return t.month >= 1 && t.month <= 12 && t.day_of_week <= 6 && t.day >= 1 && t.day <= 5 && t.hour < 24 &&
         t.minute < 60;
}

void sanitize_rule(TzRule& rule) {
  // Biases beyond a day are damage; keep the zone at UTC then.
  auto sane = [](int32_t b) { return b > -1440 && b < 1440; };
  if (!sane(rule.bias)) rule.bias = 0;
  if (!sane(rule.standard_bias)) rule.standard_bias = 0;
  if (!sane(rule.daylight_bias)) rule.daylight_bias = 0;
  if (!valid_transition(rule.standard_date) || !valid_transition(rule.daylight_date)) {
    rule.standard_date = {};
    rule.daylight_date = {};
  }
}

}  // namespace

std::optional<TimeZoneDefinition> decode_tz_definition(ByteView b) {
  // MS-OXOCAL 2.2.1.41.1: bMajorVersion 2, bMinorVersion 1, cbHeader,
  // wReserved, cchKeyName, KeyName, cRules, then 66-byte TZRULEs.
  if (!b.has(0, 6) || b.u8(0) != 0x02) return std::nullopt;
  const size_t header = b.u16(2);
  if (!b.has(6, 2)) return std::nullopt;
  const size_t chars = b.u16(6);
  if (!b.has(8, chars * 2 + 2)) return std::nullopt;
  TimeZoneDefinition tz;
  tz.key_name = utf16le_to_utf8(trim_utf16_nul(b.sub(8, chars * 2)));
  // The rules follow the header, whose size says where (4 bytes precede it).
  size_t pos = 4 + header;
  if (pos != 8 + chars * 2 + 2) pos = 8 + chars * 2 + 2;
  const size_t rules = b.u16(8 + chars * 2);
  for (size_t i = 0; i < rules && b.has(pos, 66); ++i, pos += 66) {
    // TZRULE 2.2.1.41.2: major, minor, reserved, flags, year, 14 bytes X, then
    // lBias, lStandardBias, lDaylightBias, stStandardDate, stDaylightDate.
    TzRule rule;
    rule.effective = (b.u16(4 + pos) & 0x0002) != 0;
    rule.year = b.u16(pos + 6);
    rule.bias = int32_t(b.u32(pos + 22));
    rule.standard_bias = int32_t(b.u32(pos + 26));
    rule.daylight_bias = int32_t(b.u32(pos + 30));
    rule.standard_date = read_systemtime(b, pos + 34);
    rule.daylight_date = read_systemtime(b, pos + 50);
    sanitize_rule(rule);
    tz.rules.push_back(rule);
  }
  if (tz.rules.empty()) return std::nullopt;
  std::stable_sort(tz.rules.begin(), tz.rules.end(), [](const TzRule& a, const TzRule& c) { return a.year < c.year; });
  return tz;
}

std::optional<TzRule> decode_tz_struct(ByteView b) {
  // lBias, lStandardBias, lDaylightBias, wStandardYear, stStandardDate,
  // wDaylightYear, stDaylightDate: 48 bytes.
  if (!b.has(0, 48)) return std::nullopt;
  TzRule rule;
  rule.bias = int32_t(b.u32(0));
  rule.standard_bias = int32_t(b.u32(4));
  rule.daylight_bias = int32_t(b.u32(8));
  rule.standard_date = read_systemtime(b, 14);
  rule.daylight_date = read_systemtime(b, 32);
  rule.effective = true;
  sanitize_rule(rule);
  return rule;
}

const TzRule* tz_rule_for_year(const TimeZoneDefinition& tz, int year) {
  if (tz.rules.empty()) return nullptr;
  const TzRule* best = &tz.rules.front();
  for (const TzRule& r : tz.rules)
    if (r.year <= year) best = &r;
  return best;
}

namespace {

constexpr int64_t kDaysFrom1601To1970 = 134774;

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

int year_of_minutes(int64_t minutes_since_1601) {
  int64_t days = minutes_since_1601 / 1440 - kDaysFrom1601To1970;
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return int(int64_t(yoe) + era * 400 + (m <= 2));
}

}  // namespace

int64_t tz_transition_local(const TzTransition& t, int year) {
  int64_t day;
  if (t.year != 0) {
    day = days_from_civil(year, t.month, t.day);
  } else {
    const int64_t first = days_from_civil(year, t.month, 1);
    const int first_dow = int(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    int64_t d = first + ((t.day_of_week - first_dow + 7) % 7) + 7 * (t.day - 1);
    const int64_t next_month = t.month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, t.month + 1u, 1);
    while (d >= next_month) d -= 7;  // week 5: the last one
    day = d;
  }
  return (day + kDaysFrom1601To1970) * 1440 + t.hour * 60 + t.minute;
}

int32_t tz_utc_offset_at(const TzRule& rule, int64_t utc_minutes) {
  const int32_t standard = -(rule.bias + rule.standard_bias);
  if (rule.daylight_date.month == 0 || rule.standard_date.month == 0) return standard;
  const int32_t daylight = -(rule.bias + rule.daylight_bias);
  const int year = year_of_minutes(utc_minutes + standard);
  // Transitions are given in the local time in force before them.
  const int64_t to_daylight = tz_transition_local(rule.daylight_date, year) - standard;
  const int64_t to_standard = tz_transition_local(rule.standard_date, year) - daylight;
  const bool in_daylight = to_daylight < to_standard ? (utc_minutes >= to_daylight && utc_minutes < to_standard)
                                                     : (utc_minutes >= to_daylight || utc_minutes < to_standard);
  return in_daylight ? daylight : standard;
}

namespace {

// ucal_getTimeZoneIDForWindowsID from libicui18n, opened on first use as
// the charset detector is (src/util/codepage.cpp): most exports need no ICU.
using WindowsZoneFn = decltype(&ucal_getTimeZoneIDForWindowsID);
constexpr const char* kIcuI18nLibrary = "libicui18n.so." PSTKIT_SYMBOL_NAME(U_ICU_VERSION_MAJOR_NUM);

WindowsZoneFn windows_zone_function() {
  static WindowsZoneFn fn = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = open_shared_library(kIcuI18nLibrary, nullptr);
    if (!library) return;
    fn = reinterpret_cast<WindowsZoneFn>(
        shared_library_symbol(library, PSTKIT_SYMBOL_NAME(ucal_getTimeZoneIDForWindowsID), nullptr));
  });
  return fn;
}

}  // namespace

std::optional<std::string> iana_zone_for_windows(const std::string& windows_name) {
  if (windows_name.empty() || windows_name.size() > 256) return std::nullopt;
  WindowsZoneFn fn = windows_zone_function();
  if (!fn) return std::nullopt;
  Bytes utf16 = utf8_to_utf16le(windows_name);
  std::vector<UChar> win(utf16.size() / 2);
  for (size_t i = 0; i < win.size(); ++i) win[i] = UChar(load_le16(&utf16[2 * i]));
  UChar id[128];
  UErrorCode status = U_ZERO_ERROR;
  const int32_t len = fn(win.data(), int32_t(win.size()), nullptr, id, 128, &status);
  if (U_FAILURE(status) || len <= 0 || len >= 128) return std::nullopt;
  std::string out;
  for (int32_t i = 0; i < len; ++i) append_utf8(out, char32_t(id[i]));
  return out;
}

}  // namespace pstkit
