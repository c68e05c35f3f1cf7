"""The writer through Python: create a store, add folders and messages with
bodies, recipients, attachments and properties, commit, read back through
the binding and through `pstkit dump`, and `pstkit check` finds nothing
wrong; uncommitted and failed changes are not kept."""

from __future__ import annotations

import datetime
import hashlib

import pytest

import pstkit
from conftest import dump_json, run_cli

PHOTO = bytes(range(256)) * 700  # 179 KB: more than one data block


def check_clean(cli: str, path: str) -> None:
    r = run_cli(cli, "check", path, check=False)
    out = r.stdout.decode()
    assert r.returncode == 0 and out.startswith("0 errors"), out + r.stderr.decode()


@pytest.mark.parametrize("ansi", [False, True])
def test_round_trip(cli, tmp_path, ansi):
    path = str(tmp_path / "new.pst")
    when = datetime.datetime(2023, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    w = pstkit.create(path, ansi=ansi, display_name="Python store")
    projects = w.create_folder(["Inbox", "Projects"])
    assert w.create_folder("Inbox/Projects") == projects  # existing folders are found, not made twice
    first = w.add_message(projects, subject="Plan — étape 1", body="Hello\r\nWorld",
                          html="<html><body><p>Hello <b>World</b></p></body></html>",
                          sender="Ann Archer <ann@example.com>",
                          recipients=["Bob Brown <bob@example.org>", ("Chloé Dubois", "chloe@example.fr", "Cc"),
                                      {"name": "Dai", "email": "dai@example.jp", "type": "Bcc"}],
                          attachments=[("photo.jpg", PHOTO),
                                       {"name": "notes.txt", "data": b"some notes\n", "content_id": "notes@x"}],
                          delivered=when, read=False,
                          properties={"PidTagImportance": 2})
    second = w.add_message(["Inbox"], subject="second", body="two")
    assert w.has_changes
    w.commit()
    assert not w.has_changes
    w.close()
    check_clean(cli, path)

    store = pstkit.open(path)
    assert store.display_name == "Python store"
    assert store.format == ("ANSI" if ansi else "Unicode")
    folder = store.folder(["Top of Outlook data file", "Inbox", "Projects"])
    assert folder.nid == projects and folder.content_count == 1 and folder.unread_count == 1
    item = next(folder.items())
    assert item.nid == first
    assert item.subject == "Plan — étape 1"
    assert item.message_class == "IPM.Note"
    assert item.body == "Hello\r\nWorld"
    assert item.html == b"<html><body><p>Hello <b>World</b></p></body></html>"
    props = item.properties()
    assert props["PidTagImportance"] == 2
    assert props["PidTagSenderName"] == "Ann Archer"
    assert props["PidTagSenderEmailAddress"] == "ann@example.com"
    assert props["PidTagMessageDeliveryTime"] == when
    assert props["PidTagInternetCodepage"] == 65001
    recipients = item.recipients()
    assert [(r.type, r.name, r.email) for r in recipients] == [
        ("To", "Bob Brown", "bob@example.org"), ("Cc", "Chloé Dubois", "chloe@example.fr"),
        ("Bcc", "Dai", "dai@example.jp")]
    assert props["PidTagDisplayTo"] == "Bob Brown"
    attachments = item.attachments()
    assert [a.name for a in attachments] == ["photo.jpg", "notes.txt"]
    photo, notes = attachments
    assert photo.data() == PHOTO and photo.size == len(PHOTO) and photo.mime_type == "image/jpeg"
    assert notes.data() == b"some notes\n" and notes.content_id == "notes@x" and notes.mime_type == "text/plain"
    assert photo.method == 1 and not photo.is_embedded and photo.embedded() is None
    assert store.message(second).subject == "second"

    # dump reads the same, attachment bytes included.
    rc, records = dump_json(cli, path, "--full")
    assert rc == 0
    dumped = next(r for r in records if r["type"] == "item" and r["nid"] == first)
    assert dumped["subject"] == "Plan — étape 1"
    assert [a["sha256"] for a in dumped["attachment_list"]] == [hashlib.sha256(PHOTO).hexdigest(),
                                                                hashlib.sha256(b"some notes\n").hexdigest()]


def test_reopen_and_add(cli, sample_pst, tmp_path):
    import shutil
    path = str(tmp_path / "sample.pst")
    shutil.copyfile(sample_pst, path)
    before = len(pstkit.open(path).folder("Top of Outlook data file/Inbox").item_nids())
    with pstkit.open_writer(path) as w:
        nid = w.add_message("Inbox", subject="added from Python", body="x")
    inbox = pstkit.open(path).folder("Top of Outlook data file/Inbox")
    assert len(inbox.item_nids()) == before + 1 and nid in inbox.item_nids()
    check_clean(cli, path)


def test_uncommitted_changes_are_dropped(tmp_path):
    path = str(tmp_path / "drop.pst")
    with pstkit.create(path) as w:
        w.create_folder("Kept")
    # An exception in the block: nothing of it is committed.
    with pytest.raises(RuntimeError):
        with pstkit.open_writer(path) as w:
            w.create_folder("Dropped")
            raise RuntimeError("stop")
    # close() without commit() drops the changes too.
    w = pstkit.open_writer(path)
    w.add_message("Kept", subject="never committed")
    w.close()
    with pytest.raises(pstkit.Error):
        w.commit()  # closed
    top = pstkit.open(path).ipm_subtree()
    names = [f.name for f in top.folders()]
    assert "Kept" in names and "Dropped" not in names
    assert len(pstkit.open(path).folder("Top of Outlook data file/Kept").item_nids()) == 0


def test_bad_arguments(tmp_path):
    path = str(tmp_path / "args.pst")
    with pstkit.create(path) as w:
        inbox = w.create_folder("Inbox")
        with pytest.raises(KeyError):
            w.add_message(inbox, properties={"PidTagNoSuchProperty": 1})
        with pytest.raises(TypeError):
            w.add_message(inbox, properties={"PidTagSubject": 5})
        with pytest.raises(TypeError):
            w.add_message(inbox, attachments=[("a.bin", "not bytes")])
        with pytest.raises(ValueError):
            w.add_message(inbox, recipients=[("A", "a@example.com", "Sometimes")])
        with pytest.raises(ValueError):
            w.add_message(inbox, delivered=datetime.datetime(2024, 1, 1))  # naive: which zone?
        with pytest.raises(pstkit.Error):
            w.add_message("No/Such/Folder", subject="x")
        w.add_message(inbox, subject="fine")
    assert [i.subject for i in pstkit.open(path).folder("Top of Outlook data file/Inbox").items()] == ["fine"]
