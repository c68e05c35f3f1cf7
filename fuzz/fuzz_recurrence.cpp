// Fuzzes the calendar decoders: the recurrence blob (PidLidAppointmentRecur,
// MS-OXOCAL 2.2.1.44) and the time-zone structures (2.2.1.39, 2.2.1.41)
// must decode any input, or the part of it that reads, within the input's
// size, and the time-zone arithmetic must stay in range.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pstkit/calendar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstkit;
  ByteView input(data, size);
  AppointmentRecurrence rec = decode_appointment_recurrence(input);
  // Every list entry came from the input: 4 bytes a date, 14 an exception.
  if ((rec.deleted_dates.size() + rec.modified_dates.size()) * 4 + rec.exceptions.size() * 14 > size) abort();
  if (rec.damage.empty() && size < 50) abort();  // the shortest whole pattern is 50 bytes

  if (auto tz = decode_tz_definition(input)) {
    if (tz.value().rules.size() * 66 > size) abort();
    for (const TzRule& rule : tz->rules) {
      const int32_t offset = tz_utc_offset_at(rule, int64_t(rec.end_date));
      if (offset <= -2 * 1440 || offset >= 2 * 1440) abort();
    }
  }
  if (auto rule = decode_tz_struct(input)) {
    const int32_t offset = tz_utc_offset_at(*rule, int64_t(rec.start_date));
    if (offset <= -2 * 1440 || offset >= 2 * 1440) abort();
  }
  return 0;
}
