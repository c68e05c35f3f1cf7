"""Properties, bodies, recipients and attachments through the binding match
`pstkit dump --json --full`, value by value.

dump --full prints every property by canonical name (named properties by
their PidLid/PidName name through the file's name map), bodies decoded, and
each attachment's size and SHA-256, with embedded messages in full. The
binding must give the same names, the same values as Python types
(datetime, uuid.UUID, bytes, bool, int, float, Decimal, lists), the same
attachment bytes (by SHA-256) and the same embedded messages, on the
generated samples and on every readable corpus file.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import uuid

import pytest

import pstkit
from conftest import dump_json, whole_files


def iso(dt: datetime.datetime) -> str:
    """dump's rendering of a time: UTC, milliseconds, a Z."""
    assert dt.tzinfo is not None and dt.utcoffset() == datetime.timedelta(0), "times are aware and in UTC"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def same_value(expected, got, where: str, bodies: dict) -> None:
    """expected: the dump's JSON value; got: the binding's Python value."""
    if isinstance(expected, dict) and "see" in expected:
        # dump prints bodies once, decoded; the property holds the raw value.
        # (dump's body is body_text(), which item.body is compared with.)
        assert isinstance(got, (str, bytes)), where
        return
    if isinstance(expected, dict) and "base64" in expected:
        assert got == base64.b64decode(expected["base64"]), where
        return
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (e, g) in enumerate(zip(expected, got)):
            same_value(e, g, f"{where}[{i}]", bodies)
        return
    if isinstance(expected, bool):
        assert got is expected, where
    elif isinstance(expected, str):
        if isinstance(got, datetime.datetime):
            assert iso(got) == expected, where
        elif isinstance(got, uuid.UUID):
            assert "{" + str(got).upper() + "}" == expected, where
        elif isinstance(got, int):
            # A PtypErrorCode (dump: hex) or a FILETIME past datetime's range.
            assert expected in (f"0x{got:X}", f"0x{got:08X}", str(got)) or expected.lower() == hex(got), where
        else:
            assert got == expected, where
    elif isinstance(expected, int) and isinstance(got, int):
        assert not isinstance(got, bool) and got == expected, where
    elif isinstance(expected, (int, float)):  # JSON writes a whole float without ".0"
        assert isinstance(got, (float, decimal.Decimal)), where
        assert float(got) == pytest.approx(expected, rel=1e-6), where
    else:
        raise AssertionError(f"{where}: unexpected JSON value {expected!r}")


def same_properties(expected: dict, got: dict, where: str, bodies: dict) -> None:
    assert sorted(got) == sorted(expected), f"{where}: names differ: {set(got) ^ set(expected)}"
    for name, value in expected.items():
        same_value(value, got[name], f"{where}.{name}", bodies)


def same_message(expected: dict, item: pstkit.Item, where: str) -> None:
    assert item.message_class == expected["class"], where
    assert item.subject == expected["subject"], where
    assert item.attachment_count == expected["attachments"], where
    bodies = {"body": expected.get("body")}
    assert item.body == expected.get("body"), f"{where}: body"
    if "rtf" in expected:
        assert item.rtf == base64.b64decode(expected["rtf"]["base64"]), f"{where}: rtf"
    else:
        assert item.rtf is None, f"{where}: rtf"
    assert (item.html is None) == ("html" not in expected), f"{where}: html"
    if item.html is not None and item.property("PidTagInternetCodepage") == 65001:
        assert item.html.decode("utf-8", errors="replace") == expected["html"], f"{where}: html"
    same_properties(expected["properties"], item.properties(), where, bodies)
    recipients = item.recipients()
    assert len(recipients) == len(expected["recipients"]), f"{where}: recipients"
    for i, (e, r) in enumerate(zip(expected["recipients"], recipients)):
        same_properties(e, r.properties(), f"{where}.recipient[{i}]", bodies)
        assert r.name == (e["PidTagDisplayName"].rstrip("\x00") if "PidTagDisplayName" in e else None)
    attachments = item.attachments()
    assert len(attachments) == len(expected["attachment_list"]), f"{where}: attachments"
    for e, a in zip(expected["attachment_list"], attachments):
        at = f"{where}.attachment[{a.nid}]"
        assert a.nid == e["nid"] and a.method == e["method"] and a.name == e["filename"], at
        same_properties(e["properties"], a.properties(), at, bodies)
        data = a.data()
        if "sha256" in e:
            assert data is not None and len(data) == e["size"] == a.size, at
            assert hashlib.sha256(data).hexdigest() == e["sha256"], at
        if "message" in e:
            assert a.is_embedded and data is None, at
            same_message(e["message"], a.embedded(), at + ".message")
        else:
            assert a.embedded() is None, at


def compare_full(cli: str, path: str) -> int:
    rc, records = dump_json(cli, path, "--full")
    assert rc == 0, f"dump --full exit {rc}"
    store = pstkit.open(path)
    items = 0
    for r in records:
        if r["type"] == "folder":
            folder = store.folder(r["nid"])
            assert folder.path == r["path"]
            same_properties(r["properties"], folder.properties(), f"folder {r['path']}", {})
        elif r["type"] == "item":
            same_message(r, store.message(r["nid"]), f"item {r['nid']}")
            items += 1
    return items


@pytest.mark.parametrize("which", ["sample_pst", "sample_ansi_pst"])
def test_samples_match_dump_full(cli, request, which):
    assert compare_full(cli, request.getfixturevalue(which)) > 5


def test_corpus_matches_dump_full(cli, corpus):
    failures = []
    readable = 0
    for row in whole_files(corpus):
        rc, records = dump_json(cli, row.path)
        if rc != 0:
            continue  # refused or damaged: test_corpus_walk.py covers those
        readable += 1
        try:
            n = compare_full(cli, row.path)
            print(f"OK    {row.file} ({n} items)")
        except AssertionError as e:
            failures.append(f"{row.file}: {e}")
            print(f"DIFF  {row.file}: {e}")
    assert readable > 0
    assert not failures, f"{len(failures)} files differ:\n" + "\n".join(failures[:20])


def test_value_types(sample_pst):
    store = pstkit.open(sample_pst)
    item = next(store.folder("Top of Outlook data file/Inbox").items())
    props = item.properties()
    assert isinstance(props["PidTagSubject"], str) and props["PidTagSubject"] == item.subject
    delivered = props["PidTagMessageDeliveryTime"]
    assert isinstance(delivered, datetime.datetime) and delivered.tzinfo is not None
    assert delivered.year == 2024
    assert isinstance(props["PidTagImportance"], int)
    assert isinstance(props["PidTagMessageFlags"], int)
    # The same property by name in any case, by "0xNNNN" id, by tag.
    assert item.property("pidtagsubject") == item.subject
    assert item.property("0x0037") == item.subject
    assert item.property(0x0037001F) == item.subject
    assert item.property(0x0037) == item.subject
    assert item.property("PidTagNoSuchThing") is None
    assert item.property(0x7FFE) is None
    # Store and folder properties too.
    assert store.properties()["PidTagDisplayName"] == store.display_name
    root_props = store.ipm_subtree().properties()
    assert root_props["PidTagDisplayName"] == "Top of Outlook data file"
    assert isinstance(root_props["PidTagSubfolders"], bool)


def test_named_properties_by_name(tmp_path, cli):
    """Named properties written by name read back by name and as dump names
    them (PidLid*/PidName*), with GUID, time, boolean, float and multi-valued
    values."""
    path = str(tmp_path / "named.pst")
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.timezone.utc)
    guid = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
    with pstkit.create(path) as w:
        inbox = w.create_folder(["Inbox"])
        w.add_message(inbox, subject="named", properties={
            "PidLidReminderSet": True,                   # PSETID_Common, boolean
            "PidLidReminderTime": when,                  # time
            "PidNameKeywords": ["alpha", "béta"],        # PS_PUBLIC_STRINGS, multi-valued string
            "PidLidPercentComplete": 0.5,                # PSETID_Task, float
            "PS_PUBLIC_STRINGS:X-Custom-Thing": "custom",  # no canonical name
            "PidTagSearchKey": b"\x00\x01\x02",
            "0x4FF0": guid,                              # no name: type from the value
        })
    store = pstkit.open(path)
    item = next(store.folder("Top of Outlook data file/Inbox").items())
    props = item.properties()
    assert props["PidLidReminderSet"] is True
    assert props["PidLidReminderTime"] == when
    assert props["PidNameKeywords"] == ["alpha", "béta"]
    assert props["PidLidPercentComplete"] == 0.5
    assert props["PS_PUBLIC_STRINGS:X-Custom-Thing"] == "custom"
    assert props["PidTagSearchKey"] == b"\x00\x01\x02"
    assert props["0x4FF0"] == guid
    assert item.property("PidLidReminderTime") == when
    # dump names and renders them alike.
    rc, records = dump_json(cli, path, "--full")
    assert rc == 0
    dumped = next(r for r in records if r["type"] == "item")["properties"]
    assert dumped["PidNameKeywords"] == ["alpha", "béta"]
    assert dumped["PidLidReminderTime"] == "2024-05-06T07:08:09.123Z"
    assert dumped["0x4FF0"] == "{12345678-9ABC-DEF0-1234-56789ABCDEF0}"
