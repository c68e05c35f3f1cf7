#!/usr/bin/python3
"""`pstkit export --format ics|vcf`, and the .ics/.vcf beside .eml files.

For a generated store (written through the Python binding: appointments
with recurrence blobs of every pattern -- daily, weekly with several days,
every weekday, monthly on a day and on the nth weekday, month end, yearly;
ended by date, by count and never; deleted and modified instances -- a
meeting request, a damaged blob, tasks, a journal entry, a contact with
every field and a photo, a distribution list) and for every readable corpus
file:
  * every .ics parses with python3-icalendar and every .vcf with
    python3-vobject; the manifest counts items of other types as skipped
    and lists every file with its SHA-256;
  * every recurring appointment expands to the same occurrences as its
    MS-OXOCAL recurrence: the blob (PidLidAppointmentRecur, from `pstkit
    dump --json --full`) is decoded here, independently of pstkit, its
    occurrences computed as Outlook places them (deleted instances removed,
    modified ones moved), and compared with the .ics expanded by
    dateutil.rrule (RRULE, EXDATE, RECURRENCE-ID overrides), in local time;
  * the generated items carry what they were given (attendees with roles and
    replies, alarm, categories, class, VTODO and VJOURNAL fields, every
    vCard name, address, phone, e-mail and the photo; group members);
  * a damaged recurrence blob is exported as far as it reads and listed in
    the manifest as incomplete (exit 3);
  * two exports are byte-identical.

Usage: test_export_ical.py --pstkit BUILD/pstkit [--corpus DIR]
Under CI=true a missing Python module is a failure, not a skip.
Closes with "N passed, M failed".
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

MISSING = []
try:
    import icalendar
except ImportError:
    MISSING.append("python3-icalendar")
try:
    import vobject
except ImportError:
    MISSING.append("python3-vobject")
try:
    from dateutil import rrule as du_rrule
except ImportError:
    MISSING.append("python3-dateutil")

EPOCH_1601 = dt.datetime(1601, 1, 1)
HORIZON = 60  # pattern instances compared for a series that never ends


def minutes_to_dt(m):
    return EPOCH_1601 + dt.timedelta(minutes=m)


def dt_to_minutes(d):
    return int((d - EPOCH_1601).total_seconds() // 60)


# ---- an independent MS-OXOCAL 2.2.1.44 decoder --------------------------------

class Blob:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        n = struct.calcsize(fmt)
        if self.p + n > len(self.d):
            raise ValueError("truncated")
        v = struct.unpack_from("<" + fmt, self.d, self.p)
        self.p += n
        return v if len(v) > 1 else v[0]


def decode_recurrence(data):
    """The fields of an AppointmentRecurrencePattern, as a dict."""
    b = Blob(data)
    r = {}
    rv, wv = b.take("HH")
    assert rv == 0x3004 and wv == 0x3004, "versions"
    r["freq"], r["ptype"], r["cal"] = b.take("HHH")
    r["first"], r["period"], r["sliding"] = b.take("III")
    r["mask"] = r["dom"] = r["nth"] = 0
    if r["ptype"] == 1:
        r["mask"] = b.take("I")
    elif r["ptype"] in (2, 4, 0xA, 0xC):
        r["dom"] = b.take("I")
    elif r["ptype"] in (3, 0xB):
        r["mask"], r["nth"] = b.take("II")
    r["end_type"], r["count"], r["first_dow"] = b.take("III")
    r["deleted"] = [b.take("I") for _ in range(b.take("I"))]
    r["modified"] = [b.take("I") for _ in range(b.take("I"))]
    r["start_date"], r["end_date"] = b.take("II")
    _, r["wv2"], r["start_off"], r["end_off"] = b.take("IIII")
    r["exceptions"] = []
    for _ in range(b.take("H")):
        e = {}
        e["start"], e["end"], e["orig"], flags = b.take("IIIH")
        e["flags"] = flags
        if flags & 0x1:
            b.take("H")
            e["subject"] = b.d[b.p:b.p + b.take("H")].decode("cp1252", "replace")
            b.p += len(e["subject"].encode("cp1252", "replace"))
        for bit in (0x2, 0x4, 0x8):
            if flags & bit:
                b.take("I")
        if flags & 0x10:
            b.take("H")
            n = b.take("H")
            b.p += n
        for bit in (0x20, 0x40, 0x80, 0x100):
            if flags & bit:
                b.take("I")
        r["exceptions"].append(e)
    return r


def month_add(y, m, k):
    m0 = m - 1 + k
    return y + m0 // 12, m0 % 12 + 1


def days_in_month(y, m):
    ny, nm = month_add(y, m, 1)
    return (dt.date(ny, nm, 1) - dt.date(y, m, 1)).days


def outlook_dates(r, limit):
    """Instance dates of the pattern (MS-OXOCAL 2.2.1.44.1), before deletions."""
    start = minutes_to_dt(r["start_date"]).date()
    end = minutes_to_dt(r["end_date"]).date() if r["end_type"] == 0x2021 else None
    count = r["count"] if r["end_type"] == 0x2022 else None
    out = []

    def want(d):
        return d >= start and (end is None or d <= end)

    def gen():
        if r["freq"] == 0x200A and r["ptype"] == 0:  # every N days
            step = max(1, r["period"] // 1440)
            d = start
            while True:
                yield d
                d += dt.timedelta(days=step)
        elif r["ptype"] == 1:  # weekly (or every weekday)
            mask = r["mask"]
            period = 1 if r["freq"] == 0x200A else max(1, r["period"])
            # weeks begin on FirstDOW; the first is the one holding the start
            wd = (start.weekday() + 1) % 7  # 0 = Sunday
            week0 = start - dt.timedelta(days=(wd - r["first_dow"]) % 7)
            w = 0
            while True:
                for i in range(7):
                    d = week0 + dt.timedelta(days=7 * w + i)
                    if mask & (1 << ((d.weekday() + 1) % 7)):
                        yield d
                w += period
        else:  # monthly / yearly
            period = max(1, r["period"])
            y, m = start.year, start.month
            while True:
                n = days_in_month(y, m)
                if r["ptype"] == 2:
                    cands = [dt.date(y, m, min(r["dom"], n))]
                elif r["ptype"] == 4:
                    cands = [dt.date(y, m, n)]
                else:
                    days = [dt.date(y, m, i) for i in range(1, n + 1)
                            if r["mask"] & (1 << ((dt.date(y, m, i).weekday() + 1) % 7))]
                    cands = [days[-1] if r["nth"] >= 5 else days[r["nth"] - 1]]
                for c in cands:
                    yield c
                y, m = month_add(y, m, period)

    for d in gen():
        if end is not None and d > end:
            break
        if not want(d):
            continue
        out.append(d)
        if (count is not None and len(out) >= count) or len(out) >= limit:
            break
    return out


def outlook_occurrences(r):
    """{local start: local end} of every instance, and the window they cover."""
    dates = outlook_dates(r, HORIZON)
    deleted = {minutes_to_dt(m).date() for m in r["deleted"]}
    occ = {}
    for d in dates:
        if d in deleted:
            continue
        s = dt.datetime.combine(d, dt.time()) + dt.timedelta(minutes=r["start_off"])
        occ[s] = dt.datetime.combine(d, dt.time()) + dt.timedelta(minutes=r["end_off"])
    horizon = (dt.datetime.combine(dates[-1], dt.time()) + dt.timedelta(minutes=r["start_off"])) if dates else None
    for e in r["exceptions"]:
        orig = minutes_to_dt(e["orig"])
        if horizon is not None and orig > horizon:
            continue
        occ[minutes_to_dt(e["start"])] = minutes_to_dt(e["end"])
    return occ, horizon


def naive(v):
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return dt.datetime.combine(v, dt.time())


def ics_occurrences(cal, horizon, all_day):
    """{local start: local end} of the .ics series, up to horizon (by original start)."""
    events = [c for c in cal.walk("VEVENT")]
    master = [e for e in events if e.get("RECURRENCE-ID") is None]
    assert len(master) == 1, f"{len(master)} master VEVENTs"
    m = master[0]
    start = m.decoded("DTSTART")
    end = m.decoded("DTEND")
    duration = naive(end) - naive(start)
    rule = m.get("RRULE")
    assert rule is not None, "no RRULE"
    text = rule.to_ical().decode()
    if isinstance(start, dt.datetime) and start.tzinfo is not None:
        rr = du_rrule.rrulestr(text, dtstart=start)
    else:
        rr = du_rrule.rrulestr(text, dtstart=naive(start))
    exdates = set()
    ex = m.get("EXDATE")
    for group in (ex if isinstance(ex, list) else [ex] if ex is not None else []):
        for d in group.dts:
            exdates.add(naive(d.dt))
    overrides = {}
    for e in events:
        if e.get("RECURRENCE-ID") is not None:
            overrides[naive(e.decoded("RECURRENCE-ID"))] = (naive(e.decoded("DTSTART")), naive(e.decoded("DTEND")))
    occ = {}
    for o in rr:
        s = naive(o)
        if horizon is not None and s > horizon:
            break
        if s in exdates or s in overrides:
            continue
        occ[s] = s + duration
    for orig, (s, e) in overrides.items():
        if horizon is None or orig <= horizon:
            occ[s] = e
    return occ


# ---- export helpers -----------------------------------------------------------

def export(pstkit, src, out, fmt, *extra):
    return common.run([pstkit, "export", "--format", fmt, "-o", out, *extra, src], timeout=600)


def manifest_files(out):
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def check_manifest(out, ext):
    """Problems: files the manifest lists that are missing or differ."""
    m = manifest_files(out)
    bad = []
    for rel, sha in m["files"].items():
        p = os.path.join(out, rel)
        if not os.path.exists(p):
            bad.append(f"{rel}: listed but missing")
            continue
        with open(p, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != sha:
                bad.append(f"{rel}: SHA-256 differs")
    on_disk = set()
    for root, _, files in os.walk(out):
        for n in files:
            if n.endswith("." + ext):
                on_disk.add(os.path.relpath(os.path.join(root, n), out))
    for rel in on_disk - set(m["files"]):
        bad.append(f"{rel}: not in the manifest")
    return m, bad


def files_by_nid(out, ext):
    found = {}
    for root, _, files in os.walk(out):
        for n in files:
            if n.endswith("." + ext):
                found[int(n.split(".")[0])] = os.path.join(root, n)
    return found


def parse_ics(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"\n" in data.replace(b"\r\n", b""):
        raise ValueError("a bare LF")
    for line in data.split(b"\r\n"):
        if len(line) > 75:
            raise ValueError(f"a line of {len(line)} octets")
    return icalendar.Calendar.from_ical(data)


def parse_vcf(path):
    with open(path, "rb") as f:
        data = f.read()
    for line in data.split(b"\r\n"):
        if len(line) > 75:
            raise ValueError(f"a line of {len(line)} octets")
    cards = list(vobject.readComponents(data.decode("utf-8")))
    if len(cards) != 1:
        raise ValueError(f"{len(cards)} cards")
    return cards[0]


def recurring_items(pstkit, pst):
    """{nid: (subject, blob bytes)} of items with PidLidAppointmentRecur."""
    r = common.run([pstkit, "dump", "--json", "--full", pst], timeout=600)
    objs, _ = common.parse_json_lines(r.stdout)
    out = {}
    for o in objs:
        p = o.get("properties", {})
        blob = p.get("PidLidAppointmentRecur")
        if o.get("type") == "item" and isinstance(blob, dict) and "base64" in blob:
            out[o["nid"]] = (o.get("subject", ""), base64.b64decode(blob["base64"]))
    return out


def compare_recurrences(pstkit, pst, out):
    """Problems comparing every recurring item's .ics with its blob, and the count compared."""
    problems, compared = [], 0
    icss = files_by_nid(out, "ics")
    for nid, (subject, blob) in sorted(recurring_items(pstkit, pst).items()):
        try:
            r = decode_recurrence(blob)
        except (ValueError, AssertionError, struct.error) as e:
            problems.append(f"{nid}: the test's decoder cannot read the blob ({e}): pstkit must note it")
            continue
        if r["cal"] not in (0, 1) or r["ptype"] >= 0xA:
            continue  # Hijri/other calendars: no iCalendar form
        if nid not in icss:
            problems.append(f"{nid} {subject!r}: no .ics")
            continue
        want, horizon = outlook_occurrences(r)
        try:
            got = ics_occurrences(parse_ics(icss[nid]), horizon, False)
        except Exception as e:  # noqa: BLE001
            problems.append(f"{nid} {subject!r}: {type(e).__name__}: {e}")
            continue
        if want != got:
            missing = sorted(set(want) - set(got))[:3]
            extra = sorted(set(got) - set(want))[:3]
            moved = [k for k in want if k in got and want[k] != got[k]][:3]
            problems.append(f"{nid} {subject!r}: {len(want)} instances expected, {len(got)} in the .ics; "
                            f"missing {missing}, extra {extra}, other ends {moved}")
        compared += 1
    return problems, compared


# ---- the generated store ---------------------------------------------------------

def tz_definition(name, bias, std, dst):
    """MS-OXOCAL 2.2.1.41.1 TZDEFINITION with one TZRULE (effective)."""
    key = name.encode("utf-16-le")
    header = struct.pack("<HH", 2, len(name)) + key + struct.pack("<H", 1)
    rule = struct.pack("<BBHHH14siii", 2, 1, 0x3E, 0x2, 0, b"\0" * 14, bias, 0, -60)
    rule += struct.pack("<8H", *std) + struct.pack("<8H", *dst)
    return struct.pack("<BBH", 2, 1, len(header) - 0) + header + rule


W_EUROPE = tz_definition("W. Europe Standard Time", -60, (0, 10, 0, 5, 3, 0, 0, 0), (0, 3, 0, 5, 2, 0, 0, 0))


def tz_struct(bias, std, dst):
    return struct.pack("<iiiH8HH8H", bias, 0, -60, 0, *std, 0, *dst)


W_EUROPE_STRUCT = tz_struct(-60, (0, 10, 0, 5, 3, 0, 0, 0), (0, 3, 0, 5, 2, 0, 0, 0))


def encode_recurrence(freq, ptype, period, specific, end_type, count, first_dow, start, end, start_off, end_off,
                      deleted=(), exceptions=()):
    """An AppointmentRecurrencePattern (MS-OXOCAL 2.2.1.44.5); exceptions are
    (original start, new start, new end, subject or None, location or None), local datetimes."""
    mods = sorted(dt_to_minutes(dt.datetime.combine(e[1].date(), dt.time())) for e in exceptions)
    dels = sorted(set(dt_to_minutes(d) for d in deleted) |
                  {dt_to_minutes(dt.datetime.combine(e[0].date(), dt.time())) for e in exceptions})
    b = struct.pack("<HHHHHIII", 0x3004, 0x3004, freq, ptype, 0, 0, period, 0)
    b += b"".join(struct.pack("<I", v) for v in specific)
    b += struct.pack("<III", end_type, count, first_dow)
    b += struct.pack("<I", len(dels)) + b"".join(struct.pack("<I", d) for d in dels)
    b += struct.pack("<I", len(mods)) + b"".join(struct.pack("<I", d) for d in mods)
    b += struct.pack("<II", dt_to_minutes(start), dt_to_minutes(end))
    b += struct.pack("<IIIIH", 0x3006, 0x3009, start_off, end_off, len(exceptions))
    for orig, s, e, subj, loc in exceptions:
        flags = (0x1 if subj is not None else 0) | (0x10 if loc is not None else 0)
        b += struct.pack("<IIIH", dt_to_minutes(s), dt_to_minutes(e), dt_to_minutes(orig), flags)
        for text in (subj, loc):
            if text is not None:
                raw = text.encode("cp1252", "replace")
                b += struct.pack("<HH", len(raw) + 1, len(raw)) + raw
    b += struct.pack("<I", 0)  # ReservedBlock1
    for orig, s, e, subj, loc in exceptions:
        b += struct.pack("<II", 4, 0)  # ChangeHighlight
        b += struct.pack("<I", 0)      # ReservedBlockEE1
        if subj is not None or loc is not None:
            b += struct.pack("<III", dt_to_minutes(s), dt_to_minutes(e), dt_to_minutes(orig))
            for text in (subj, loc):
                if text is not None:
                    b += struct.pack("<H", len(text)) + text.encode("utf-16-le")
            b += struct.pack("<I", 0)  # ReservedBlockEE2
    b += struct.pack("<I", 0)  # ReservedBlock2
    return b


def local_to_utc(d):
    """W. Europe local to UTC (the EU rule: last Sunday of March / October)."""
    def last_sunday(y, m):
        ld = dt.date(y, m, days_in_month(y, m))
        return ld - dt.timedelta(days=(ld.weekday() + 1) % 7)
    y = d.year
    dst = dt.datetime.combine(last_sunday(y, 3), dt.time(2)) <= d < dt.datetime.combine(last_sunday(y, 10), dt.time(3))
    return (d - dt.timedelta(hours=2 if dst else 1)).replace(tzinfo=dt.timezone.utc)


D = dt.datetime
SERIES = [
    # subject, freq, ptype, period, specific, end type, count, first dow, start, end (last date), start/end offsets,
    # deleted dates, exceptions
    ("daily every 2 days, 10 times, 1 deleted, 1 moved", 0x200A, 0, 2 * 1440, [], 0x2022, 10, 0,
     D(2024, 3, 20), D(2024, 4, 7), 9 * 60, 10 * 60, [D(2024, 3, 24)],
     [(D(2024, 3, 28, 9), D(2024, 3, 28, 15), D(2024, 3, 28, 16, 30), "moved", "Room B")]),
    ("weekly Mon Wed Fri until a date", 0x200B, 1, 1, [0b0101010], 0x2021, 0, 1,
     D(2024, 10, 21), D(2024, 11, 29), 14 * 60, 15 * 60 + 30, [D(2024, 10, 30)], []),
    ("every 2 weeks Tue Thu, never ends, week starts Sunday", 0x200B, 1, 2, [0b0010100], 0x2023, 10, 0,
     D(2024, 1, 2), D(4500, 8, 31), 8 * 60, 8 * 60 + 45, [],
     [(D(2024, 1, 18, 8), D(2024, 1, 19, 12), D(2024, 1, 19, 13), None, "Café")]),
    ("every weekday, 15 times", 0x200A, 1, 1, [0b0111110], 0x2022, 15, 0,
     D(2024, 5, 1), D(2024, 5, 21), 7 * 60, 7 * 60 + 15, [D(2024, 5, 6)], []),
    ("monthly on the 31st, 8 times", 0x200C, 2, 1, [31], 0x2022, 8, 0,
     D(2024, 1, 31), D(2024, 8, 31), 12 * 60, 13 * 60, [], []),
    ("every 2 months on the 30th until a date", 0x200C, 2, 2, [30], 0x2021, 0, 0,
     D(2023, 12, 30), D(2025, 2, 28), 18 * 60, 19 * 60, [], []),
    ("monthly 2nd Tuesday, never", 0x200C, 3, 1, [0b0000100, 2], 0x2023, 10, 0,
     D(2024, 2, 13), D(4500, 8, 31), 10 * 60, 11 * 60, [D(2024, 4, 9)],
     [(D(2024, 6, 11, 10), D(2024, 6, 12, 10), D(2024, 6, 12, 11), "Wednesday this time", None)]),
    ("monthly last weekday, 6 times", 0x200C, 3, 1, [0b0111110, 5], 0x2022, 6, 0,
     D(2024, 1, 31), D(2024, 6, 28), 16 * 60, 17 * 60, [], []),
    ("month end every 3 months, 5 times", 0x200C, 4, 3, [31], 0x2022, 5, 0,
     D(2024, 1, 31), D(2025, 1, 31), 9 * 60, 9 * 60 + 30, [], []),
    ("yearly on 29 February, 5 times", 0x200D, 2, 12, [29], 0x2022, 5, 0,
     D(2024, 2, 29), D(2028, 2, 29), 20 * 60, 21 * 60, [], []),
    ("yearly last Friday of November until a date", 0x200D, 3, 12, [0b0100000, 5], 0x2021, 0, 0,
     D(2024, 11, 29), D(2030, 11, 29), 11 * 60, 12 * 60, [D(2026, 11, 27)], []),
]


def make_store(pstkit_module, path, photo):
    w = pstkit_module.create(path)
    cal = w.create_folder("Calendar", container_class="IPF.Appointment")
    inbox = w.create_folder("Inbox")
    tasks = w.create_folder("Tasks", container_class="IPF.Task")
    journal = w.create_folder("Journal", container_class="IPF.Journal")
    contacts = w.create_folder("Contacts", container_class="IPF.Contact")
    expected = {}

    def appt(folder, subject, start_local, end_local, cls="IPM.Appointment", recipients=None, extra=None,
             blob=None, **kw):
        props = {
            "PidLidAppointmentStartWhole": local_to_utc(start_local),
            "PidLidAppointmentEndWhole": local_to_utc(end_local),
            "PidLidAppointmentTimeZoneDefinitionStartDisplay": W_EUROPE,
            "PidLidAppointmentTimeZoneDefinitionEndDisplay": W_EUROPE,
            "PidLidAppointmentTimeZoneDefinitionRecur": W_EUROPE,
            "PidLidTimeZoneStruct": W_EUROPE_STRUCT,
            "PidLidTimeZoneDescription": "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            "PidLidBusyStatus": 2,
        }
        if blob is not None:
            props["PidLidAppointmentRecur"] = blob
            props["PidLidRecurring"] = True
        props.update(extra or {})
        return w.add_message(folder, subject=subject, message_class=cls, properties=props,
                             recipients=recipients, **kw)

    # A single meeting with everything the .ics should carry.
    # A PidLidGlobalObjectId carrying a vCal-Uid ([MS-OXCICAL] 2.1.3.1.1.20.26).
    vcal = b"vCal-Uid\x01\x00\x00\x000123456789ABCDEF\x00"
    goid = bytes.fromhex("040000008200E00074C5B7101A82E008") + b"\0\0\0\0" + b"\x11" * 8 + b"\0" * 8 + \
        struct.pack("<I", len(vcal)) + vcal
    nid = appt(cal, "Planning; review, Q3", D(2024, 7, 1, 9, 30), D(2024, 7, 1, 11),
               sender=("Olga Organizer", "olga@example.com"),
               recipients=[{"name": "Rita Required", "email": "rita@example.com", "type": "to"},
                           {"name": "Otto Optional", "email": "otto@example.com", "type": "cc"}],
               body="Agenda:\n1. budget\n2. plan",
               extra={"PidLidLocation": "Room 1, 2nd floor", "PidLidReminderSet": True, "PidLidReminderDelta": 30,
                      "PidNameKeywords": ["Work", "Budget"], "PidTagSensitivity": 2,
                      "PidLidGlobalObjectId": goid, "PidTagResponseRequested": True})
    expected[nid] = "single"
    nid = appt(cal, "Holiday", D(2024, 12, 24), D(2024, 12, 26),
               extra={"PidLidAppointmentSubType": True, "PidLidBusyStatus": 0})
    expected[nid] = "allday"
    for s in SERIES:
        subject, freq, ptype, period, spec, et, count, fdow, start, end, so, eo, dels, excs = s
        blob = encode_recurrence(freq, ptype, period, spec, et, count, fdow, start, end, so, eo, dels, excs)
        first = start + dt.timedelta(minutes=so)
        nid = appt(cal, subject, first, start + dt.timedelta(minutes=eo), blob=blob)
        expected[nid] = "series"
    good = encode_recurrence(0x200B, 1, 1, [0b10], 0x2022, 5, 0, D(2024, 9, 2), D(2024, 9, 30), 600, 660,
                             [], [(D(2024, 9, 9, 10), D(2024, 9, 9, 12), D(2024, 9, 9, 13), "x", "y")])
    nid = appt(cal, "damaged blob", D(2024, 9, 2, 10), D(2024, 9, 2, 11), blob=good[:len(good) - 30])
    expected[nid] = "damaged"
    nid = appt(inbox, "Invitation: kickoff", D(2024, 8, 5, 13), D(2024, 8, 5, 14),
               cls="IPM.Schedule.Meeting.Request", sender=("Olga Organizer", "olga@example.com"),
               recipients=[("Rita Required", "rita@example.com")])
    expected[nid] = "request"
    w.add_message(inbox, subject="plain mail", body="not a calendar item")
    nid = w.add_message(tasks, subject="Write report", message_class="IPM.Task", body="two pages",
                        properties={"PidLidTaskStartDate": dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc),
                                    "PidLidTaskDueDate": dt.datetime(2024, 5, 10, tzinfo=dt.timezone.utc),
                                    "PidLidTaskStatus": 2, "PidLidPercentComplete": 1.0, "PidLidTaskComplete": True,
                                    "PidLidTaskDateCompleted": dt.datetime(2024, 5, 9, 12, tzinfo=dt.timezone.utc)})
    expected[nid] = "task"
    nid = w.add_message(tasks, subject="Half done", message_class="IPM.Task",
                        properties={"PidLidTaskStatus": 1, "PidLidPercentComplete": 0.5})
    expected[nid] = "task2"
    nid = w.add_message(journal, subject="Phone call with Rita", message_class="IPM.Activity", body="talked",
                        properties={"PidLidLogStart": dt.datetime(2024, 6, 3, 8, tzinfo=dt.timezone.utc),
                                    "PidLidLogEnd": dt.datetime(2024, 6, 3, 8, 20, tzinfo=dt.timezone.utc),
                                    "PidLidLogType": "Phone call"})
    expected[nid] = "journal"
    contact = {
        "PidTagDisplayName": "Dr. Anna Maria Müller-Smith Jr.", "PidTagGivenName": "Anna",
        "PidTagSurname": "Müller-Smith", "PidTagMiddleName": "Maria", "PidTagDisplayNamePrefix": "Dr.",
        "PidTagGeneration": "Jr.", "PidTagNickname": "Annie", "PidTagCompanyName": "Example, Inc.",
        "PidTagDepartmentName": "R&D", "PidTagTitle": "Chief Tester", "PidTagProfession": "Engineer",
        "PidTagHomeAddressStreet": "1 Home Road", "PidTagHomeAddressCity": "Hometown",
        "PidTagHomeAddressStateOrProvince": "HS", "PidTagHomeAddressPostalCode": "11111",
        "PidTagHomeAddressCountry": "Homeland",
        "PidLidWorkAddressStreet": "2 Work Street", "PidLidWorkAddressCity": "Worktown",
        "PidLidWorkAddressState": "WS", "PidLidWorkAddressPostalCode": "22222", "PidLidWorkAddressCountry": "Workland",
        "PidTagOtherAddressStreet": "3 Other Lane", "PidTagOtherAddressCity": "Otherville",
        "PidTagOtherAddressPostalCode": "33333",
        "PidTagBusinessTelephoneNumber": "+1 555 0101", "PidTagHomeTelephoneNumber": "+1 555 0102",
        "PidTagMobileTelephoneNumber": "+1 555 0103", "PidTagBusinessFaxNumber": "+1 555 0104",
        "PidTagHomeFaxNumber": "+1 555 0105", "PidTagPagerTelephoneNumber": "+1 555 0106",
        "PidTagCarTelephoneNumber": "+1 555 0107", "PidTagBusiness2TelephoneNumber": "+1 555 0108",
        "PidTagOtherTelephoneNumber": "+1 555 0109", "PidTagPrimaryTelephoneNumber": "+1 555 0110",
        "PidLidEmail1EmailAddress": "anna@example.com", "PidLidEmail1AddressType": "SMTP",
        "PidLidEmail2EmailAddress": "anna.m@example.org", "PidLidEmail2AddressType": "SMTP",
        "PidLidEmail3EmailAddress": "annie@example.net", "PidLidEmail3AddressType": "SMTP",
        "PidTagBirthday": dt.datetime(1980, 4, 1, 22, tzinfo=dt.timezone.utc),
        "PidTagWeddingAnniversary": dt.datetime(2010, 6, 12, tzinfo=dt.timezone.utc),
        "PidTagBusinessHomePage": "https://example.com/anna", "PidTagPersonalHomePage": "https://anna.example",
        "PidNameKeywords": ["Friends"],
    }
    nid = w.add_message(contacts, subject="Anna Müller-Smith", message_class="IPM.Contact", body="met at a conference",
                        properties=contact,
                        attachments=[{"name": "ContactPicture.jpg", "data": photo, "mime_type": "image/jpeg",
                                      "properties": {"PidTagAttachmentContactPhoto": True}}])
    expected[nid] = "contact"

    def one_off(name, addr):
        return (struct.pack("<I", 0) + bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402") + struct.pack("<HH", 0, 0x8000 | 0x0180)
                + (name + "\0").encode("utf-16-le") + "SMTP\0".encode("utf-16-le") + (addr + "\0").encode("utf-16-le"))
    nid = w.add_message(contacts, subject="Team", message_class="IPM.DistList",
                        properties={"PidTagDisplayName": "Team", "PidLidDistributionListName": "Team",
                                    "PidLidDistributionListOneOffMembers": [one_off("Rita", "rita@example.com"),
                                                                            one_off("Otto", "otto@example.com")]})
    expected[nid] = "group"
    w.commit()
    w.close()
    return expected


def check_generated(pstkit, summary, work):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(pstkit)), "python"))
    try:
        import pstkit as binding
    except ImportError as e:
        # Sanitizer builds have no binding (a python3 process does not load
        # their runtime, CMakeLists.txt): the test stage's build covers it.
        cache = os.path.join(os.path.dirname(os.path.abspath(pstkit)), "CMakeCache.txt")
        sanitized = os.path.isfile(cache) and "PSTKIT_SANITIZE:BOOL=ON" in open(cache).read()
        if sanitized:
            summary.skip("generated store", "a sanitizer build has no Python binding")
        else:
            summary.error("generated store", f"the Python binding is not built ({e})")
        return
    pst = os.path.join(work, "calendar.pst")
    photo = bytes.fromhex("FFD8FFE000104A464946") + bytes(range(256)) * 4 + b"\xFF\xD9"
    kinds = make_store(binding, pst, photo)
    by_kind = {v: k for k, v in kinds.items()}

    out = os.path.join(work, "ics")
    r = export(pstkit, pst, out, "ics")
    m, bad = check_manifest(out, "ics")
    folders = {f["path"]: f for s in m["sources"] for f in s["folders"]}
    inbox = [f for p, f in folders.items() if p.endswith("Inbox")][0]
    incomplete = {i["nid"]: i["left_out"] for f in folders.values() for i in f.get("incomplete", [])}
    tasks_dir = [f for p, f in folders.items() if p.endswith("Tasks")][0].get("output", "")
    no_dirs = all("output" not in f or os.path.isdir(os.path.join(out, f["output"])) for f in folders.values())
    ok = (r.returncode == 3 and not bad and inbox.get("skipped") == 1 and inbox.get("exported") == 1
          and no_dirs and os.path.isdir(os.path.join(out, tasks_dir))
          and list(incomplete) == [by_kind["damaged"]] and "recurrence blob" in incomplete[by_kind["damaged"]][0])
    summary.result("generated: ics export, manifest (skipped, damaged blob noted, exit 3)", ok,
                   f"exit {r.returncode}, {bad[:3]}, inbox {inbox}, incomplete {incomplete}")

    icss = files_by_nid(out, "ics")
    parsed = {}
    problems = []
    for nid, path in icss.items():
        try:
            parsed[nid] = parse_ics(path)
        except Exception as e:  # noqa: BLE001
            problems.append(f"{nid}: {e}")
    summary.result("generated: every .ics parses (icalendar, CRLF, 75 octets)", not problems and len(icss) == 18,
                   f"{len(icss)} files; {problems[:3]}")

    problems, compared = compare_recurrences(pstkit, pst, out)
    series = sum(1 for v in kinds.values() if v == "series") + 1  # + the damaged one: its pattern reads
    summary.result("generated: recurring appointments expand to their MS-OXOCAL occurrences",
                   not problems and compared == series, f"{compared}/{series} compared; {problems[:4]}")

    # The single meeting.
    ev = parsed[by_kind["single"]].walk("VEVENT")[0]
    attendees = {str(a): a.params for a in (ev.get("ATTENDEE") or [])}
    tz = parsed[by_kind["single"]].walk("VTIMEZONE")
    checks = [
        (str(ev.get("SUMMARY")) == "Planning; review, Q3", "SUMMARY"),
        (str(ev.get("LOCATION")) == "Room 1, 2nd floor", "LOCATION"),
        (ev.decoded("DTSTART").replace(tzinfo=None) == D(2024, 7, 1, 9, 30), "DTSTART local"),
        (ev["DTSTART"].params.get("TZID") == "Europe/Berlin", f"TZID {ev['DTSTART'].params.get('TZID')}"),
        (len(tz) == 1 and str(tz[0]["TZID"]) == "Europe/Berlin", "VTIMEZONE"),
        (ev.decoded("DTEND").replace(tzinfo=None) == D(2024, 7, 1, 11), "DTEND"),
        (str(ev.get("DESCRIPTION")) == "Agenda:\n1. budget\n2. plan", "DESCRIPTION"),
        (str(ev.get("CLASS")) == "PRIVATE", "CLASS"),
        (ev.get("CATEGORIES") is not None and list(ev.get("CATEGORIES").cats) == ["Work", "Budget"], "CATEGORIES"),
        (str(ev.get("UID")) == "0123456789ABCDEF", f"UID {ev.get('UID')}"),
        (str(ev.get("ORGANIZER")) == "mailto:olga@example.com", "ORGANIZER"),
        (attendees.get("mailto:rita@example.com", {}).get("ROLE") == "REQ-PARTICIPANT", "ATTENDEE required"),
        (attendees.get("mailto:otto@example.com", {}).get("ROLE") == "OPT-PARTICIPANT", "ATTENDEE optional"),
        (attendees.get("mailto:rita@example.com", {}).get("RSVP") == "TRUE", "RSVP"),
        (attendees.get("mailto:rita@example.com", {}).get("PARTSTAT") == "NEEDS-ACTION", "PARTSTAT"),
        (len(ev.walk("VALARM")) == 1 and ev.walk("VALARM")[0].decoded("TRIGGER") == -dt.timedelta(minutes=30), "VALARM"),
        (str(ev.get("TRANSP")) == "OPAQUE", "TRANSP"),
    ]
    allday = parsed[by_kind["allday"]].walk("VEVENT")[0]
    checks += [(allday.decoded("DTSTART") == dt.date(2024, 12, 24) and allday.decoded("DTEND") == dt.date(2024, 12, 26),
                "all-day DATE values"), (str(allday.get("TRANSP")) == "TRANSPARENT", "free = TRANSPARENT")]
    req = parsed[by_kind["request"]]
    checks.append((str(req.get("METHOD")) == "REQUEST", "METHOD:REQUEST"))
    todo = parsed[by_kind["task"]].walk("VTODO")
    checks += [(len(todo) == 1, "VTODO"),
               (todo and todo[0].decoded("DUE") == dt.date(2024, 5, 10), "DUE"),
               (todo and todo[0].decoded("DTSTART") == dt.date(2024, 5, 1), "DTSTART of the task"),
               (todo and str(todo[0].get("STATUS")) == "COMPLETED", "STATUS"),
               (todo and int(todo[0].get("PERCENT-COMPLETE")) == 100, "PERCENT-COMPLETE"),
               (todo and todo[0].decoded("COMPLETED") == dt.datetime(2024, 5, 9, 12, tzinfo=dt.timezone.utc), "COMPLETED")]
    todo2 = parsed[by_kind["task2"]].walk("VTODO")[0]
    checks += [(str(todo2.get("STATUS")) == "IN-PROCESS" and int(todo2.get("PERCENT-COMPLETE")) == 50, "task in progress")]
    jour = parsed[by_kind["journal"]].walk("VJOURNAL")
    checks += [(len(jour) == 1 and str(jour[0].get("SUMMARY")) == "Phone call with Rita"
                and jour[0].decoded("DTSTART") == dt.datetime(2024, 6, 3, 8, tzinfo=dt.timezone.utc), "VJOURNAL")]
    # The moved instance of the first series keeps its new subject and location.
    first = parsed[by_kind["series"] if False else sorted(k for k, v in kinds.items() if v == "series")[0]]
    over = [e for e in first.walk("VEVENT") if e.get("RECURRENCE-ID") is not None]
    checks += [(len(over) == 1 and str(over[0].get("SUMMARY")) == "moved" and str(over[0].get("LOCATION")) == "Room B"
                and str(over[0].get("UID")) == str(first.walk("VEVENT")[0].get("UID")), "override VEVENT")]
    failed = [what for good, what in checks if not good]
    summary.result("generated: the .ics carry the items' fields", not failed, f"wrong: {failed}")

    # Determinism.
    out2 = os.path.join(work, "ics2")
    export(pstkit, pst, out2, "ics")
    same = manifest_files(out)["files"] == manifest_files(out2)["files"]
    summary.result("generated: two ics exports are byte-identical", same, "")

    # vCard 4.0 and 3.0.
    for version in ("4.0", "3.0"):
        vout = os.path.join(work, "vcf" + version)
        r = export(pstkit, pst, vout, "vcf", "--vcard", version)
        m, bad = check_manifest(vout, "vcf")
        vcfs = files_by_nid(vout, "vcf")
        problems = list(bad)
        try:
            card = parse_vcf(vcfs[by_kind["contact"]])
            group = parse_vcf(vcfs[by_kind["group"]])
        except Exception as e:  # noqa: BLE001
            summary.error(f"generated: vCard {version}", f"{type(e).__name__}: {e}")
            continue
        c = card.contents
        n = card.n.value
        tels = sorted(t.value for t in c.get("tel", []))
        emails = [e.value for e in c.get("email", [])]
        adrs = {(a.params.get("TYPE") or [""])[0].lower(): a.value for a in c.get("adr", [])}
        photo_value = c["photo"][0].value if "photo" in c else None
        if version == "4.0":
            # vobject reads vCard 3.0: it cuts a 4.0 data: URI at its comma, so
            # the value is taken from the unfolded line.
            with open(vcfs[by_kind["contact"]], encoding="utf-8", newline="") as f:
                unfolded = f.read().replace("\r\n ", "")
            line = [ln for ln in unfolded.split("\r\n") if ln.startswith("PHOTO:data:image/jpeg;base64,")]
            photo_value = base64.b64decode(line[0].split(",", 1)[1]) if line else None
        expect = [
            (r.returncode == 0, f"exit {r.returncode}"),
            (card.version.value == version, "VERSION"),
            (card.fn.value == "Dr. Anna Maria Müller-Smith Jr.", "FN"),
            ((n.family, n.given, n.additional, n.prefix, n.suffix) == ("Müller-Smith", "Anna", "Maria", "Dr.", "Jr."), "N"),
            (c["nickname"][0].value == "Annie" if "nickname" in c else False, "NICKNAME"),
            ("org" in c and c["org"][0].value == ["Example, Inc.", "R&D"], "ORG"),
            ("title" in c and c["title"][0].value == "Chief Tester", "TITLE"),
            ("role" in c and c["role"][0].value == "Engineer", "ROLE"),
            (tels == sorted(f"+1 555 01{i:02d}" for i in range(1, 11)), f"TEL {tels}"),
            (emails == ["anna@example.com", "anna.m@example.org", "annie@example.net"], "EMAIL"),
            ("home" in adrs and adrs["home"].street == "1 Home Road" and adrs["home"].city == "Hometown", "ADR home"),
            ("work" in adrs and adrs["work"].street == "2 Work Street" and adrs["work"].country == "Workland", "ADR work"),
            ("" in adrs and adrs[""].street == "3 Other Lane", "ADR other"),
            ("bday" in c and c["bday"][0].value.replace("-", "") == "19800402", "BDAY"),
            (len(c.get("url", [])) == 2, "URL"),
            ("note" in c and c["note"][0].value == "met at a conference", "NOTE"),
            (photo_value == photo, "PHOTO"),
            (group.fn.value == "Team", "group FN"),
        ]
        if version == "4.0":
            expect += [("anniversary" in c and c["anniversary"][0].value == "20100612", "ANNIVERSARY"),
                       (group.contents["kind"][0].value == "group", "KIND:group"),
                       (sorted(x.value for x in group.contents.get("member", [])) ==
                        ["mailto:otto@example.com", "mailto:rita@example.com"], "MEMBER")]
        else:
            expect += [(group.contents["x-addressbookserver-kind"][0].value == "group", "X-ADDRESSBOOKSERVER-KIND"),
                       (sorted(x.value for x in group.contents.get("x-addressbookserver-member", [])) ==
                        ["mailto:otto@example.com", "mailto:rita@example.com"], "X-ADDRESSBOOKSERVER-MEMBER")]
        problems += [what for good, what in expect if not good]
        summary.result(f"generated: vCard {version} (vobject) with every field", not problems and len(vcfs) == 2,
                       f"{len(vcfs)} files; wrong: {problems}")

    # .eml exports carry the .ics / .vcf beside the items.
    eout = os.path.join(work, "eml")
    r = export(pstkit, pst, eout, "eml")
    m, bad = check_manifest(eout, "eml")
    side = set(files_by_nid(eout, "ics")) | set(files_by_nid(eout, "vcf"))
    want = set(kinds)
    listed = {os.path.basename(p) for p in m["files"]}
    ok = side == want and all(f"{n}.{e}" in listed for n in side for e in ("eml",)) and \
        all((f"{n}.ics" in listed) or (f"{n}.vcf" in listed) for n in side)
    summary.result("generated: eml export puts .ics/.vcf beside the items", ok and not bad,
                   f"exit {r.returncode}; beside {sorted(side)} want {sorted(want)}; {bad[:3]}")


def check_corpus(pstkit, summary, corpus):
    files = [row for row in common.corpus_files(corpus) if not row.is_fragment]
    for row in files:
        if not row.path.lower().endswith((".pst", ".ost")):
            continue
        name = row.file

        def one(work, row=row):
            problems = []
            counts = {}
            for fmt in ("ics", "vcf"):
                out = os.path.join(work, fmt)
                r = export(pstkit, row.path, out, fmt)
                if r.crashed or r.timed_out:
                    return False, f"{fmt}: crashed: {r.describe()}"
                if not os.path.exists(os.path.join(out, "manifest.json")):
                    if r.returncode == 1:
                        return None, "not readable"
                    return False, f"{fmt}: no manifest (exit {r.returncode})"
                m, bad = check_manifest(out, fmt)
                problems += bad
                want_exit = 0 if m["complete"] else (1 if not m["sources"] or "error" in m["sources"][0] else 3)
                if r.returncode != want_exit:
                    problems.append(f"{fmt}: exit {r.returncode}, manifest complete={m['complete']}")
                paths = files_by_nid(out, fmt)
                counts[fmt] = len(paths)
                for nid, path in paths.items():
                    try:
                        parse_ics(path) if fmt == "ics" else parse_vcf(path)
                    except Exception as e:  # noqa: BLE001
                        problems.append(f"{fmt} {nid}: {type(e).__name__}: {e}")
                if fmt == "ics" and paths:
                    rec_problems, compared = compare_recurrences(pstkit, row.path, out)
                    problems += rec_problems
                    counts["recurring"] = compared
                    out2 = os.path.join(work, "ics2")
                    export(pstkit, row.path, out2, fmt)
                    if manifest_files(out2)["files"] != m["files"]:
                        problems.append("two ics exports differ")
            return (not problems), (f"{counts}" if not problems else "; ".join(problems[:5]))

        ok, note = common.in_scratch("pstkit-ical-", one)
        summary.result(name, ok, note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    if MISSING:
        if common.in_ci():
            print(f"missing Python modules: {', '.join(MISSING)} (CI=true: failing)")
            print("0 passed, 1 failed")
            return 1
        print(f"missing Python modules: {', '.join(MISSING)}: skipped")
        return 0
    pstkit = os.path.abspath(args.pstkit)
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-ical-")
    try:
        check_generated(pstkit, summary, work)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        summary.error("generated store", f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    corpus = common.find_corpus(args.corpus)
    if corpus is None or not os.path.isdir(corpus):
        rc = common.skip_or_fail_missing_corpus(corpus, "test_export_ical")
        if rc:
            return rc
    else:
        check_corpus(pstkit, summary, corpus)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
