// Calendar items, tasks and journal entries as iCalendar (RFC 5545), and
// contacts and distribution lists as vCard (RFC 6350, or 2426 for 3.0),
// mapped as Outlook maps them ([MS-OXCICAL], [MS-OXOCAL], [MS-OXOTASK],
// [MS-OXOCNTC]).
//
// iCalendar: appointments and meeting objects (IPM.Appointment*,
// IPM.Schedule.Meeting.*: METHOD REQUEST, REPLY or CANCEL) as VEVENT with
// DTSTART/DTEND in the item's time zone and a VTIMEZONE built from its
// time-zone definition (the Windows name mapped to an IANA id with ICU);
// recurring ones with RRULE, EXDATE and one VEVENT per modified instance
// (RECURRENCE-ID) from the recurrence blob and the exception attachments;
// tasks (IPM.Task*) as VTODO; journal entries (IPM.Activity*) as VJOURNAL.
// Lines end in CRLF and are folded at 75 octets; the output depends only on
// the item (DTSTAMP is its last modification time), so two exports are
// byte-identical.
#pragma once

#include <string>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/messaging.h"
#include "pstkit/status.h"

namespace pstkit {

struct ItemExport {
  Bytes data;
  // What could not be converted and was left out ("recurrence blob:
  // ExceptionInfo.Subject at offset 120 runs past the end"); the rest is there.
  std::vector<std::string> notes;
};

// Whether an item of this message class has an iCalendar / vCard form.
bool has_icalendar_form(const std::string& message_class);
bool has_vcard_form(const std::string& message_class);

// Converts one item (names: the store's name-to-id map, for the named
// properties). kInvalidArgument when the class has no iCalendar form.
Result<ItemExport> message_to_icalendar(const Message& message, const NameMap& names);

struct VcardOptions {
  // 4.0 (RFC 6350) or 3.0 (RFC 2426).
  bool version3 = false;
};
Result<ItemExport> message_to_vcard(const Message& message, const NameMap& names, const VcardOptions& options = {});

}  // namespace pstkit
