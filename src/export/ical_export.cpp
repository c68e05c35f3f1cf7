// iCalendar (RFC 5545) from appointments, meeting objects, tasks and journal
// entries, following Outlook's own mapping ([MS-OXCICAL] 2.1.3.1).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "export/item_text.h"
#include "pstkit/calendar.h"
#include "pstkit/ical_export.h"
#include "pstkit/property_names.h"

namespace pstkit {
namespace {

using namespace item_text;
namespace ps = property_sets;

// [MS-OXPROPS] LIDs. PSETID_Appointment:
constexpr uint32_t kLidAppointmentSequence = 0x8201;
constexpr uint32_t kLidBusyStatus = 0x8205;
constexpr uint32_t kLidLocation = 0x8208;
constexpr uint32_t kLidAppointmentStartWhole = 0x820D;
constexpr uint32_t kLidAppointmentEndWhole = 0x820E;
constexpr uint32_t kLidAppointmentSubType = 0x8215;  // all-day
constexpr uint32_t kLidAppointmentRecur = 0x8216;
constexpr uint32_t kLidAppointmentStateFlags = 0x8217;
constexpr uint32_t kLidRecurring = 0x8223;
constexpr uint32_t kLidExceptionReplaceTime = 0x8228;
constexpr uint32_t kLidTimeZoneStruct = 0x8233;
constexpr uint32_t kLidTimeZoneDescription = 0x8234;
constexpr uint32_t kLidTzDefinitionRecur = 0x825E;
constexpr uint32_t kLidTzDefinitionStartDisplay = 0x825F;
constexpr uint32_t kLidTzDefinitionEndDisplay = 0x8260;
// PSETID_Meeting:
constexpr uint32_t kLidGlobalObjectId = 0x0003;
constexpr uint32_t kLidCleanGlobalObjectId = 0x0023;
// PSETID_Common:
constexpr uint32_t kLidReminderDelta = 0x8501;
constexpr uint32_t kLidReminderSet = 0x8503;
// PSETID_Task:
constexpr uint32_t kLidTaskStatus = 0x8101;
constexpr uint32_t kLidPercentComplete = 0x8102;
constexpr uint32_t kLidTaskStartDate = 0x8104;
constexpr uint32_t kLidTaskDueDate = 0x8105;
constexpr uint32_t kLidTaskDateCompleted = 0x810F;
constexpr uint32_t kLidTaskComplete = 0x811C;
// PSETID_Log:
constexpr uint32_t kLidLogType = 0x8700;
constexpr uint32_t kLidLogStart = 0x8706;
constexpr uint32_t kLidLogEnd = 0x8708;
// Tagged:
constexpr uint16_t kTagSensitivity = 0x0036;
constexpr uint16_t kTagResponseRequested = 0x0063;
constexpr uint16_t kTagLastModificationTime = 0x3008;
constexpr uint16_t kTagRecipientFlags = 0x5FFD;
constexpr uint16_t kTagRecipientTrackStatus = 0x5FFF;
constexpr uint16_t kTagAttachmentFlags = 0x7FFD;
constexpr int32_t kRecipOrganizer = 0x0002;  // MS-OXOCAL 2.2.4.10.1
constexpr int32_t kAfException = 0x0002;     // MS-OXCMSG 2.2.2.18

const char* const kWeekdays[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

bool starts_with(const std::string& s, const char* prefix) {
  const size_t n = std::char_traits<char>::length(prefix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return s.size() == n || s[n] == '.';
}

enum class Kind { kEvent, kTodo, kJournal, kNone };

Kind kind_of(const std::string& cls) {
  // Meeting requests, responses and cancellations (MS-OXOCAL 2.2.6-2.2.8)
  // are all IPM.Schedule.Meeting.*.
  if (starts_with(cls, "IPM.Appointment") || starts_with(cls, "IPM.Schedule.Meeting")) return Kind::kEvent;
  if (starts_with(cls, "IPM.Task")) return Kind::kTodo;
  if (starts_with(cls, "IPM.Activity")) return Kind::kJournal;
  return Kind::kNone;
}

// A parameter value: quoted when it holds ; : or , (RFC 5545 3.2); DQUOTE
// and control characters cannot appear in one and are dropped.
std::string param_value(const std::string& s) {
  std::string v;
  for (char c : s)
    if (c != '"' && static_cast<unsigned char>(c) >= 0x20) v += c;
  if (v.find_first_of(";:,") != std::string::npos) return "\"" + v + "\"";
  return v;
}

// The time zone an item's times are shown in.
struct Zone {
  std::string tzid;  // empty: UTC
  TzRule rule;
};

std::string offset_text(int32_t minutes) {
  const char sign = minutes < 0 ? '-' : '+';
  const int32_t m = std::abs(minutes);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%c%02d%02d", sign, int(m / 60 % 100), int(m % 60));
  return buf;
}

std::optional<Zone> zone_from(const Props& p, uint32_t definition_lid, int year) {
  std::optional<TimeZoneDefinition> def;
  if (const Bytes* b = p.binary(ps::kPsetidAppointment, definition_lid)) def = decode_tz_definition(*b);
  Zone z;
  if (def) {
    const TzRule* rule = tz_rule_for_year(*def, year);
    if (!rule) return std::nullopt;
    z.rule = *rule;
    if (auto iana = iana_zone_for_windows(def->key_name)) z.tzid = *iana;
    else z.tzid = def->key_name;
  } else {
    const Bytes* b = p.binary(ps::kPsetidAppointment, kLidTimeZoneStruct);
    std::optional<TzRule> rule = b ? decode_tz_struct(*b) : std::nullopt;
    if (!rule) return std::nullopt;
    z.rule = *rule;
    z.tzid = p.str(ps::kPsetidAppointment, kLidTimeZoneDescription).value_or("");
  }
  // TZID is a parameter value: keep it to printable characters.
  std::string clean;
  for (char c : z.tzid)
    if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != ';' && c != ':' && c != ',') clean += c;
  z.tzid = clean;
  if (z.tzid.empty()) z.tzid = "GMT" + offset_text(-(z.rule.bias + z.rule.standard_bias));
  return z;
}

int year_of_filetime(uint64_t ft) { return int(civil_from_seconds_since_1601(filetime_seconds(ft)).year); }

// RFC 5545 3.6.5 VTIMEZONE from one Windows rule: a STANDARD and, when the
// zone has daylight saving, a DAYLIGHT observance recurring yearly
// ([MS-OXCICAL] 2.1.3.1.1.19).
void write_vtimezone(Lines& out, const Zone& z) {
  const int32_t standard = -(z.rule.bias + z.rule.standard_bias);
  const int32_t daylight = -(z.rule.bias + z.rule.daylight_bias);
  out.add("BEGIN", "VTIMEZONE");
  out.add("TZID", z.tzid);
  const bool dst = z.rule.daylight_date.month != 0 && z.rule.standard_date.month != 0;
  auto observance = [&](const char* name, const TzTransition& t, int32_t from, int32_t to) {
    out.add("BEGIN", name);
    out.add("DTSTART", format_date_time(tz_transition_local(t, 1601) * 60));
    if (t.year == 0) {
      const std::string week = t.day >= 5 ? "-1" : std::to_string(t.day);
      out.add("RRULE", "FREQ=YEARLY;BYDAY=" + week + kWeekdays[t.day_of_week % 7] +
                           ";BYMONTH=" + std::to_string(t.month));
    } else {
      out.add("RRULE", "FREQ=YEARLY;BYMONTHDAY=" + std::to_string(t.day) + ";BYMONTH=" + std::to_string(t.month));
    }
    out.add("TZOFFSETFROM", offset_text(from));
    out.add("TZOFFSETTO", offset_text(to));
    out.add("END", name);
  };
  if (dst) {
    observance("STANDARD", z.rule.standard_date, daylight, standard);
    observance("DAYLIGHT", z.rule.daylight_date, standard, daylight);
  } else {
    out.add("BEGIN", "STANDARD");
    out.add("DTSTART", "16010101T000000");
    out.add("TZOFFSETFROM", offset_text(standard));
    out.add("TZOFFSETTO", offset_text(standard));
    out.add("END", "STANDARD");
  }
  out.add("END", "VTIMEZONE");
}

// A local time (minutes since 1601 in the zone) as a property.
void add_local(Lines& out, const char* name, const Zone* zone, int64_t local_minutes, bool all_day) {
  if (all_day) {
    out.add(std::string(name) + ";VALUE=DATE", format_date(local_minutes * 60));
  } else if (zone) {
    out.add(std::string(name) + ";TZID=" + param_value(zone->tzid), format_date_time(local_minutes * 60));
  } else {
    out.add(name, format_date_time(local_minutes * 60) + "Z");
  }
}

// [MS-OXCICAL] 2.1.3.1.1.20.26: the UID is the vCal-Uid a
// PidLidGlobalObjectId carries, else the id in hex (the clean one: the
// instance date zeroed).
std::string uid_of(const Message& m, const Props& p) {
  const Bytes* goid = p.binary(ps::kPsetidMeeting, kLidCleanGlobalObjectId);
  if (!goid || goid->size() < 40) goid = p.binary(ps::kPsetidMeeting, kLidGlobalObjectId);
  if (goid && goid->size() >= 40) {
    Bytes id = *goid;
    id[16] = id[17] = id[18] = id[19] = 0;
    static const char kVcal[] = "vCal-Uid\x01\x00\x00\x00";
    const size_t size = load_le32(&id[36]);
    if (size >= 12 && id.size() >= 40 + size && std::equal(kVcal, kVcal + 12, id.begin() + 40)) {
      std::string uid;
      for (size_t i = 52; i < 40 + size && id[i] != 0; ++i) uid += char(id[i]);
      if (!uid.empty()) return uid;
    }
    return hex_upper(id);
  }
  if (const Bytes* key = p.bag().get_binary(prop::kSearchKey); key && !key->empty()) return hex_upper(*key);
  return "pstkit-" + std::to_string(m.nid());
}

std::string address_of(const PropertyBag& r, uint16_t smtp, uint16_t email, uint16_t type) {
  std::string a = r.get_string(smtp).value_or("");
  if (a.empty()) {
    std::string addr_type = r.get_string(type).value_or("");
    std::string e = r.get_string(email).value_or("");
    if (e.find('@') != std::string::npos && (addr_type.empty() || addr_type == "SMTP")) a = e;
  }
  std::string clean;
  for (char c : a)
    if (static_cast<unsigned char>(c) > 0x20 && c != '"') clean += c;
  // [MS-OXCICAL] 2.1.3.1.1.20.2: a recipient without an SMTP address.
  return clean.empty() ? "invalid:nomail" : "mailto:" + clean;
}

const char* partstat_of(int32_t track_status) {
  switch (track_status) {  // MS-OXOCAL 2.2.4.10.2 PidTagRecipientTrackStatus
    case 2: return "TENTATIVE";
    case 3: return "ACCEPTED";
    case 4: return "DECLINED";
    default: return "NEEDS-ACTION";
  }
}

// Common properties of VEVENT, VTODO, VJOURNAL.
void write_common(Lines& out, const Message& m, const Props& p, const std::string& uid) {
  const PropertyBag& b = m.properties();
  out.add("UID", escape_text(uid));
  std::optional<uint64_t> modified = b.get_time(kTagLastModificationTime);
  std::optional<uint64_t> created = b.get_time(prop::kCreationTime);
  std::optional<std::string> stamp = modified ? format_utc(*modified) : std::nullopt;
  if (!stamp && created) stamp = format_utc(*created);
  out.add("DTSTAMP", stamp.value_or("16010101T000000Z"));
  if (created)
    if (auto t = format_utc(*created)) out.add("CREATED", *t);
  if (modified)
    if (auto t = format_utc(*modified)) out.add("LAST-MODIFIED", *t);
  out.add("SUMMARY", escape_text(m.subject()));
  if (auto body = m.body_text(); body && !body->empty()) out.add("DESCRIPTION", escape_text(*body));
  switch (b.get_i32(kTagSensitivity).value_or(0)) {  // [MS-OXCICAL] 2.1.3.1.1.20.5
    case 1: out.add("CLASS", "X-PERSONAL"); break;
    case 2: out.add("CLASS", "PRIVATE"); break;
    case 3: out.add("CLASS", "CONFIDENTIAL"); break;
    default: out.add("CLASS", "PUBLIC"); break;
  }
  switch (b.get_i32(prop::kImportance).value_or(1)) {
    case 0: out.add("PRIORITY", "9"); break;
    case 2: out.add("PRIORITY", "1"); break;
    default: out.add("PRIORITY", "5"); break;
  }
  std::string categories;
  for (const std::string& k : p.strings(ps::kPsPublicStrings, "Keywords")) {
    if (k.empty()) continue;
    categories += (categories.empty() ? "" : ",") + escape_text(k);
  }
  if (!categories.empty()) out.add("CATEGORIES", categories);
}

void write_alarm(Lines& out, const Props& p) {
  if (!p.boolean(ps::kPsetidCommon, kLidReminderSet).value_or(false)) return;
  int32_t delta = p.i32(ps::kPsetidCommon, kLidReminderDelta).value_or(15);
  if (delta < 0 || delta > 10 * 366 * 1440) delta = 15;  // MS-OXOCAL 2.2.1.30: 0x5AE980E1 means 15 too
  out.add("BEGIN", "VALARM");
  out.add("TRIGGER", "-PT" + std::to_string(delta) + "M");
  out.add("ACTION", "DISPLAY");
  out.add("DESCRIPTION", "Reminder");
  out.add("END", "VALARM");
}

void write_people(Lines& out, const Message& m, const std::string& method, std::vector<std::string>& notes) {
  const PropertyBag& b = m.properties();
  auto recipients = m.recipients();
  if (!recipients) {
    notes.push_back("recipients: " + recipients.status().message());
    recipients = std::vector<PropertyBag>{};
  }
  std::string organizer_name = b.get_string(prop::kSentRepresentingName).value_or("");
  std::string organizer = address_of(b, prop::kSentRepresentingSmtpAddress, prop::kSentRepresentingEmailAddress,
                                     prop::kSentRepresentingAddressType);
  const bool reply = method == "REPLY";
  const bool rsvp = b.get_bool(kTagResponseRequested).value_or(false);
  std::vector<std::string> attendees;
  for (const PropertyBag& r : *recipients) {
    const std::string name = r.get_string(prop::kDisplayName).value_or("");
    const std::string addr = address_of(r, prop::kSmtpAddress, prop::kEmailAddress, prop::kAddressType);
    if (!reply && (r.get_i32(kTagRecipientFlags).value_or(0) & kRecipOrganizer)) {
      organizer_name = name;
      organizer = addr;
      continue;
    }
    if (reply) {  // a reply goes to the organizer
      organizer_name = name;
      organizer = addr;
      break;
    }
    std::string params = "ATTENDEE";
    if (!name.empty()) params += ";CN=" + param_value(name);
    switch (r.get_i32(prop::kRecipientType).value_or(1)) {  // [MS-OXCICAL] 2.1.3.1.1.20.2
      case 2: params += ";ROLE=OPT-PARTICIPANT"; break;
      case 3: params += ";CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT"; break;
      default: params += ";ROLE=REQ-PARTICIPANT"; break;
    }
    params += std::string(";PARTSTAT=") + partstat_of(r.get_i32(kTagRecipientTrackStatus).value_or(0));
    if (rsvp) params += ";RSVP=TRUE";
    attendees.push_back(params + "\x1f" + addr);
  }
  if (organizer != "invalid:nomail" || !organizer_name.empty())
    out.add("ORGANIZER" + (organizer_name.empty() ? "" : ";CN=" + param_value(organizer_name)), organizer);
  if (reply) {
    // The replying attendee is the sender; the class says the answer.
    const std::string cls = m.message_class();
    const char* answer = starts_with(cls, "IPM.Schedule.Meeting.Resp.Pos")    ? "ACCEPTED"
                         : starts_with(cls, "IPM.Schedule.Meeting.Resp.Neg")  ? "DECLINED"
                         : starts_with(cls, "IPM.Schedule.Meeting.Resp.Tent") ? "TENTATIVE"
                                                                              : "NEEDS-ACTION";
    const std::string name = b.get_string(prop::kSenderName).value_or("");
    out.add("ATTENDEE" + (name.empty() ? "" : ";CN=" + param_value(name)) + ";PARTSTAT=" + answer,
            address_of(b, prop::kSenderSmtpAddress, prop::kSenderEmailAddress, prop::kSenderAddressType));
  }
  for (const std::string& a : attendees) {
    const size_t sep = a.find('\x1f');
    out.add(a.substr(0, sep), a.substr(sep + 1));
  }
}

std::string weekday_list(uint32_t mask) {
  std::string s;
  for (int d = 0; d < 7; ++d)
    if (mask & (1u << d)) s += (s.empty() ? "" : ",") + std::string(kWeekdays[d]);
  return s;
}

// BYMONTHDAY for Outlook's "day N of the month", which falls on the last
// day in shorter months ([MS-OXOCAL] 2.2.1.44.1): for N of 29 or more, the
// last of the days 28..N that the month has.
std::string month_day_rule(uint32_t day) {
  if (day >= 31) return "BYMONTHDAY=-1";
  if (day <= 28) return "BYMONTHDAY=" + std::to_string(day == 0 ? 1 : day);
  std::string days;
  for (uint32_t d = 28; d <= day; ++d) days += (days.empty() ? "" : ",") + std::to_string(d);
  return "BYMONTHDAY=" + days + ";BYSETPOS=-1";
}

// [MS-OXCICAL] 2.1.3.2.1 RRULE from the RecurrencePattern; empty when the
// pattern has no iCalendar form (Hijri calendars), with a note.
std::string rrule_of(const AppointmentRecurrence& r, const Zone* zone, bool all_day, std::vector<std::string>& notes) {
  std::string rule;
  const unsigned start_month = civil_from_seconds_since_1601(int64_t(r.start_date) * 60).month;
  const auto type = RecurPatternType(r.pattern_type);
  switch (RecurFrequency(r.frequency)) {
    case RecurFrequency::kDaily:
      if (type == RecurPatternType::kWeek) {  // every weekday
        rule = "FREQ=WEEKLY;BYDAY=" + weekday_list(r.day_mask ? r.day_mask : 0x3E);
      } else {
        rule = "FREQ=DAILY;INTERVAL=" + std::to_string(std::max<uint32_t>(1, r.period / 1440));
      }
      break;
    case RecurFrequency::kWeekly:
      rule = "FREQ=WEEKLY;INTERVAL=" + std::to_string(std::max<uint32_t>(1, r.period));
      if (r.day_mask & 0x7F) rule += ";BYDAY=" + weekday_list(r.day_mask);
      rule += std::string(";WKST=") + kWeekdays[r.first_dow % 7];
      break;
    case RecurFrequency::kMonthly:
    case RecurFrequency::kYearly: {
      const bool yearly = RecurFrequency(r.frequency) == RecurFrequency::kYearly;
      const uint32_t months = std::max<uint32_t>(1, r.period);
      rule = yearly ? "FREQ=YEARLY;INTERVAL=" + std::to_string(std::max<uint32_t>(1, months / 12))
                    : "FREQ=MONTHLY;INTERVAL=" + std::to_string(months);
      if (type == RecurPatternType::kMonth) rule += ";" + month_day_rule(r.day_of_month);
      else if (type == RecurPatternType::kMonthEnd) rule += ";BYMONTHDAY=-1";
      else if (type == RecurPatternType::kMonthNth)
        rule += ";BYDAY=" + weekday_list(r.day_mask ? r.day_mask : 0x7F) +
                ";BYSETPOS=" + (r.nth >= 5 ? std::string("-1") : std::to_string(std::max<uint32_t>(1, r.nth)));
      else {
        notes.push_back("recurrence: Hijri calendar patterns have no iCalendar form; the series is exported as its first instance");
        return {};
      }
      if (yearly) rule += ";BYMONTH=" + std::to_string(start_month);
      break;
    }
    default:
      notes.push_back("recurrence: RecurFrequency " + hex(r.frequency) + " is unknown; the series is exported as its first instance");
      return {};
  }
  if (r.end_type == kRecurEndAfterCount) {
    rule += ";COUNT=" + std::to_string(std::max<uint32_t>(1, r.occurrence_count));
  } else if (r.end_type == kRecurEndAfterDate) {
    // UNTIL is in UTC when DTSTART has a time zone (RFC 5545 3.3.10).
    if (all_day) {
      rule += ";UNTIL=" + format_date(int64_t(r.end_date) * 60);
    } else {
      int64_t local = int64_t(r.end_date) + r.start_time_offset;
      int64_t utc = zone ? local - tz_utc_offset_at(zone->rule, local) : local;
      rule += ";UNTIL=" + format_date_time(utc * 60) + "Z";
    }
  }
  return rule;
}

struct ExceptionDetail {
  std::optional<std::string> subject, location, body;
};

// The exception attachments (MS-OXOCAL 2.2.10.1.1): embedded messages of
// the series' modified instances, found by their original start.
std::map<int64_t, ExceptionDetail> exception_details(const Message& m, const NameMap& names, const Zone* zone,
                                                     std::vector<std::string>& notes) {
  std::map<int64_t, ExceptionDetail> out;
  auto nids = m.attachment_nids();
  if (!nids) return out;
  for (Nid nid : *nids) {
    auto a = m.open_attachment(nid);
    if (!a || !a->is_embedded_message()) continue;
    const bool flagged = (a->properties().get_i32(kTagAttachmentFlags).value_or(0) & kAfException) != 0;
    auto e = a->embedded_message();
    if (!e) {
      if (flagged) notes.push_back("exception attachment " + std::to_string(nid) + ": " + e.status().message());
      continue;
    }
    Props ep(e->properties(), names);
    auto replace = ep.time(ps::kPsetidAppointment, kLidExceptionReplaceTime);
    if (!replace || !plausible_filetime(*replace)) continue;
    int64_t minutes = filetime_minutes(*replace);
    if (zone) minutes += tz_utc_offset_at(zone->rule, minutes);
    ExceptionDetail d;
    if (auto s = e->properties().get_string(prop::kSubject)) d.subject = normalize_subject(*s);
    d.location = ep.str(ps::kPsetidAppointment, kLidLocation);
    if (auto body = e->body_text(); body && !body->empty()) d.body = body;
    out[minutes] = std::move(d);
  }
  return out;
}

void write_event_status(Lines& out, const Props& p, const std::string& method, std::optional<int32_t> busy) {
  const int32_t state = p.i32(ps::kPsetidAppointment, kLidAppointmentStateFlags).value_or(0);
  if (method == "CANCEL" || (state & 0x4)) out.add("STATUS", "CANCELLED");
  else if (state & 0x1) out.add("STATUS", "CONFIRMED");
  const int32_t b = busy.value_or(p.i32(ps::kPsetidAppointment, kLidBusyStatus).value_or(2));
  out.add("TRANSP", b == 0 ? "TRANSPARENT" : "OPAQUE");
  static const char* const kBusy[] = {"FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE"};
  if (b >= 0 && b <= 4) out.add("X-MICROSOFT-CDO-BUSYSTATUS", kBusy[b]);
}

std::string method_of(const std::string& cls) {
  if (starts_with(cls, "IPM.Schedule.Meeting.Request")) return "REQUEST";
  if (starts_with(cls, "IPM.Schedule.Meeting.Canceled")) return "CANCEL";
  if (starts_with(cls, "IPM.Schedule.Meeting.Resp")) return "REPLY";
  if (starts_with(cls, "IPM.Schedule.Meeting")) return "REQUEST";
  return "PUBLISH";
}

void write_event(Lines& body, std::vector<Zone>& zones, const Message& m, const Props& p, const NameMap& names,
                 const std::string& method, std::vector<std::string>& notes) {
  const std::string uid = uid_of(m, p);
  const bool all_day = p.boolean(ps::kPsetidAppointment, kLidAppointmentSubType).value_or(false);
  const auto start = p.time(ps::kPsetidAppointment, kLidAppointmentStartWhole);
  const auto end = p.time(ps::kPsetidAppointment, kLidAppointmentEndWhole);
  const int year = start && plausible_filetime(*start) ? year_of_filetime(*start) : 2000;

  std::optional<AppointmentRecurrence> rec;
  const Bytes* blob = p.binary(ps::kPsetidAppointment, kLidAppointmentRecur);
  if (blob && p.boolean(ps::kPsetidAppointment, kLidRecurring).value_or(true)) {
    rec = decode_appointment_recurrence(*blob);
    if (!rec->damage.empty()) notes.push_back("recurrence blob: " + rec->damage);
    if (!rec->has_appointment_part) rec.reset();  // too damaged to place the instances
  }

  std::optional<Zone> zone;
  if (rec) {
    zone = zone_from(p, kLidTzDefinitionRecur, int(civil_from_seconds_since_1601(int64_t(rec->start_date) * 60).year));
  } else {
    zone = zone_from(p, kLidTzDefinitionStartDisplay, year);
  }
  const Zone* z = zone ? &*zone : nullptr;
  std::optional<Zone> end_zone;
  if (!rec) end_zone = zone_from(p, kLidTzDefinitionEndDisplay, year);
  if (!end_zone) end_zone = zone;
  const Zone* ez = end_zone ? &*end_zone : nullptr;
  if (z) zones.push_back(*z);
  if (ez && (!z || ez->tzid != z->tzid)) zones.push_back(*ez);

  std::string rrule;
  if (rec) rrule = rrule_of(*rec, z, all_day, notes);

  body.add("BEGIN", "VEVENT");
  write_common(body, m, p, uid);
  if (auto loc = p.str(ps::kPsetidAppointment, kLidLocation)) body.add("LOCATION", escape_text(*loc));
  if (auto seq = p.i32(ps::kPsetidAppointment, kLidAppointmentSequence); seq && *seq >= 0)
    body.add("SEQUENCE", std::to_string(*seq));
  auto local_of = [](const Zone* zz, uint64_t ft) {
    int64_t minutes = filetime_minutes(ft);
    return zz ? minutes + tz_utc_offset_at(zz->rule, minutes) : minutes;
  };
  if (rec) {
    const int64_t day = rec->start_date;
    add_local(body, "DTSTART", z, day + rec->start_time_offset, all_day);
    add_local(body, "DTEND", z, day + std::max(rec->end_time_offset, rec->start_time_offset), all_day);
  } else if (start && plausible_filetime(*start)) {
    add_local(body, "DTSTART", z, local_of(z, *start), all_day);
    if (end && plausible_filetime(*end) && *end >= *start) add_local(body, "DTEND", ez, local_of(ez, *end), all_day);
  } else {
    notes.push_back("no start time (PidLidAppointmentStartWhole)");
  }
  std::set<int64_t> modified_originals;
  if (rec && !rrule.empty()) {
    body.add("RRULE", rrule);
    for (const auto& e : rec->exceptions) modified_originals.insert(int64_t(e.original_start) / 1440 * 1440);
    for (uint32_t d : rec->deleted_dates) {
      if (modified_originals.count(d)) continue;  // a modified instance: its own VEVENT
      add_local(body, "EXDATE", z, int64_t(d) + rec->start_time_offset, all_day);
    }
  }
  write_event_status(body, p, method, std::nullopt);
  write_people(body, m, method, notes);
  write_alarm(body, p);
  body.add("END", "VEVENT");

  if (!rec || rrule.empty()) return;
  // Modified instances: one VEVENT each, with the series' UID
  // ([MS-OXCICAL] 2.1.3.1.1.20.21 RECURRENCE-ID).
  const auto details = exception_details(m, names, z, notes);
  const std::string subject = m.subject();
  const auto location = p.str(ps::kPsetidAppointment, kLidLocation);
  std::set<uint32_t> seen;
  for (const RecurrenceException& e : rec->exceptions) {
    if (!seen.insert(e.original_start).second) continue;  // the same instance twice: damage
    const auto detail = details.find(int64_t(e.original_start));
    const ExceptionDetail* d = detail == details.end() ? nullptr : &detail->second;
    const bool e_all_day = e.sub_type ? *e.sub_type != 0 : all_day;
    body.add("BEGIN", "VEVENT");
    body.add("UID", escape_text(uid));
    std::optional<uint64_t> modified = m.properties().get_time(kTagLastModificationTime);
    body.add("DTSTAMP", (modified ? format_utc(*modified) : std::nullopt).value_or("16010101T000000Z"));
    add_local(body, "RECURRENCE-ID", z, e.original_start, all_day);
    add_local(body, "DTSTART", z, e.start, e_all_day);
    add_local(body, "DTEND", z, std::max(e.end, e.start), e_all_day);
    std::string s = e.subject ? *e.subject : (d && d->subject ? *d->subject : subject);
    body.add("SUMMARY", escape_text(s));
    std::optional<std::string> loc = e.location ? e.location : location;
    if (loc && !loc->empty()) body.add("LOCATION", escape_text(*loc));
    if (d && d->body) body.add("DESCRIPTION", escape_text(*d->body));
    write_event_status(body, p, method, e.busy_status);
    if (e.reminder_set.value_or(p.boolean(ps::kPsetidCommon, kLidReminderSet).value_or(false))) {
      int32_t delta = e.reminder_delta.value_or(p.i32(ps::kPsetidCommon, kLidReminderDelta).value_or(15));
      if (delta < 0 || delta > 10 * 366 * 1440) delta = 15;
      body.add("BEGIN", "VALARM");
      body.add("TRIGGER", "-PT" + std::to_string(delta) + "M");
      body.add("ACTION", "DISPLAY");
      body.add("DESCRIPTION", "Reminder");
      body.add("END", "VALARM");
    }
    body.add("END", "VEVENT");
  }
}

// A task's dates are stored as midnight UTC of the local date ([MS-OXOTASK]
// 2.2.2.2.4): DATE values.
void add_task_date(Lines& out, const char* name, std::optional<uint64_t> ft) {
  // Outlook's "no date" is 4501-01-01.
  if (ft && plausible_filetime(*ft) && year_of_filetime(*ft) < 4500) {
    out.add(std::string(name) + ";VALUE=DATE", format_date(filetime_seconds(*ft)));
  }
}

void write_todo(Lines& body, const Message& m, const Props& p) {
  body.add("BEGIN", "VTODO");
  write_common(body, m, p, uid_of(m, p));
  const auto start = p.time(ps::kPsetidTask, kLidTaskStartDate);
  const auto due = p.time(ps::kPsetidTask, kLidTaskDueDate);
  add_task_date(body, "DTSTART", start);
  // DUE must not be before DTSTART (RFC 5545 3.8.2.3).
  if (due && (!start || *due >= *start)) add_task_date(body, "DUE", due);
  const int32_t status = p.i32(ps::kPsetidTask, kLidTaskStatus).value_or(0);
  const bool complete = p.boolean(ps::kPsetidTask, kLidTaskComplete).value_or(false) || status == 2;
  static const char* const kStatus[] = {"NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "NEEDS-ACTION", "CANCELLED"};
  body.add("STATUS", complete ? "COMPLETED" : (status >= 0 && status <= 4 ? kStatus[status] : "NEEDS-ACTION"));
  if (auto pc = p.f64(ps::kPsetidTask, kLidPercentComplete); pc && std::isfinite(*pc)) {
    body.add("PERCENT-COMPLETE", std::to_string(std::clamp(int(std::lround(*pc * 100)), 0, 100)));
  }
  if (auto done = p.time(ps::kPsetidTask, kLidTaskDateCompleted); done && complete)
    if (auto t = format_utc(*done)) body.add("COMPLETED", *t);
  write_alarm(body, p);
  body.add("END", "VTODO");
}

void write_journal(Lines& body, const Message& m, const Props& p) {
  body.add("BEGIN", "VJOURNAL");
  write_common(body, m, p, uid_of(m, p));
  if (auto start = p.time(ps::kPsetidLog, kLidLogStart))
    if (auto t = format_utc(*start)) body.add("DTSTART", *t);
  if (auto type = p.str(ps::kPsetidLog, kLidLogType)) body.add("X-MS-JOURNAL-TYPE", escape_text(*type));
  if (auto end = p.time(ps::kPsetidLog, kLidLogEnd))
    if (auto t = format_utc(*end)) body.add("X-MS-JOURNAL-END", *t);
  body.add("END", "VJOURNAL");
}

}  // namespace

bool has_icalendar_form(const std::string& message_class) { return kind_of(message_class) != Kind::kNone; }

Result<ItemExport> message_to_icalendar(const Message& message, const NameMap& names) {
  const std::string cls = message.message_class();
  const Kind kind = kind_of(cls);
  if (kind == Kind::kNone) return Status::invalid_argument("class " + cls + " has no iCalendar form");
  const Props p(message.properties(), names);
  ItemExport out;
  Lines body;
  std::vector<Zone> zones;
  const std::string method = kind == Kind::kEvent ? method_of(cls) : "PUBLISH";
  if (kind == Kind::kEvent) write_event(body, zones, message, p, names, method, out.notes);
  else if (kind == Kind::kTodo) write_todo(body, message, p);
  else write_journal(body, message, p);

  Lines head;
  head.add("BEGIN", "VCALENDAR");
  head.add("PRODID", "-//pstkit//pstkit export//EN");
  head.add("VERSION", "2.0");
  head.add("METHOD", method);
  std::set<std::string> written;
  for (const Zone& z : zones)
    if (written.insert(z.tzid).second) write_vtimezone(head, z);
  std::string text = std::move(head.text()) + body.text();
  Lines tail;
  tail.add("END", "VCALENDAR");
  text += tail.text();
  out.data.assign(text.begin(), text.end());
  return out;
}

}  // namespace pstkit
