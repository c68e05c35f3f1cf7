"""pstkit.import_files() imports as `pstkit import` does: the same folders
and items from the same .eml files, mbox and Maildir, and reports the
sources it could not read."""

from __future__ import annotations

import os

import pytest

import pstkit
from conftest import dump_json, run_cli


def eml(subject: str, body: str, attachment: bytes | None = None) -> bytes:
    head = (f"From: Ann Archer <ann@example.com>\r\nTo: Bob Brown <bob@example.org>\r\n"
            f"Subject: {subject}\r\nDate: Mon, 4 Mar 2024 10:00:00 +0000\r\n"
            f"Message-ID: <{abs(hash(subject))}@example.com>\r\nMIME-Version: 1.0\r\n")
    if attachment is None:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
    import base64
    return (head + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n--b1\r\n"
            'Content-Type: application/octet-stream; name="data.bin"\r\n'
            'Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + base64.encodebytes(attachment).decode().replace("\n", "\r\n") + "--b1--\r\n").encode()


@pytest.fixture
def sources(tmp_path):
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "one.eml").write_bytes(eml("First imported", "one"))
    (mail / "two.eml").write_bytes(eml("Second imported", "two", attachment=bytes(range(200))))
    mbox = tmp_path / "archive.mbox"
    mbox.write_bytes(b"".join(b"From ann@example.com Mon Mar  4 10:00:00 2024\n" + eml(f"mbox {i}", f"m{i}")
                              .replace(b"\r\n", b"\n") + b"\n" for i in range(3)))
    return [str(mail), str(mbox)]


def listing(cli: str, path: str) -> list[tuple]:
    rc, records = dump_json(cli, path)
    assert rc == 0
    return [(r["type"], tuple(r["path"] if r["type"] == "folder" else r["folder"]), r.get("subject"), r.get("attachments"))
            for r in records]


def test_import_matches_cli(cli, sources, tmp_path):
    by_python = str(tmp_path / "python.pst")
    by_cli = str(tmp_path / "cli.pst")
    result = pstkit.import_files(by_python, sources)
    assert result["messages"] == 5 and result["failed_sources"] == 0 and result["problems"] == []
    run_cli(cli, "import", "--create", by_cli, *sources)
    assert listing(cli, by_python) == listing(cli, by_cli)
    store = pstkit.open(by_python)
    mail = store.folder("Top of Outlook data file/mail")
    subjects = sorted(i.subject for i in mail.items())
    assert subjects == ["First imported", "Second imported"]
    second = next(i for i in mail.items() if i.subject == "Second imported")
    assert [a.data() for a in second.attachments()] == [bytes(range(200))]
    assert [r.email for r in second.recipients()] == ["bob@example.org"]
    assert len(store.folder("Top of Outlook data file/archive").item_nids()) == 3
    r = run_cli(cli, "check", by_python, check=False)
    assert r.returncode == 0, r.stdout.decode()


def test_import_into_one_folder_of_an_existing_store(cli, sources, sample_pst, tmp_path):
    import shutil
    path = str(tmp_path / "sample.pst")
    shutil.copyfile(sample_pst, path)
    result = pstkit.import_files(path, sources, folder="Inbox/Imported", create=False)
    assert result["messages"] == 5
    folder = pstkit.open(path).folder(["Top of Outlook data file", "Inbox", "Imported"])
    assert len(folder.item_nids()) == 5


def test_import_reports_unreadable_sources(sources, tmp_path):
    missing = str(tmp_path / "no-such.mbox")
    result = pstkit.import_files(str(tmp_path / "x.pst"), [sources[1], missing])
    assert result["messages"] == 3
    assert result["failed_sources"] == 1
    assert any("no-such.mbox" in where + text for where, text in result["problems"])


def test_import_needs_an_existing_file_without_create(sources, tmp_path):
    with pytest.raises(pstkit.Error):
        pstkit.import_files(str(tmp_path / "absent.pst"), sources, create=False)
    assert not os.path.exists(tmp_path / "absent.pst")


def test_import_leaves_no_empty_folder_for_a_source_that_gave_nothing(sources, tmp_path):
    path = str(tmp_path / "y.pst")
    result = pstkit.import_files(path, [sources[1], str(tmp_path / "nothing.mbox")])
    assert result["failed_sources"] == 1
    names = [f.name for f in pstkit.open(path).ipm_subtree().folders()]
    assert "archive" in names and "nothing" not in names
