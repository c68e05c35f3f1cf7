#!/usr/bin/env python3
"""`pstkit import` end to end: generated mbox, Maildir and .eml-directory
sources go into a PST that pstkit, libpff and readpst all read with the same
subjects; malformed MIME is imported best effort; unreadable sources and an
unwritable PST give exit status 1 and leave the file as it was.

Usage: python3 tests/scripts/test_import_cli.py --pstkit build/pstkit

Everything happens in a temporary directory. Cases that need a file the
process cannot read are run as user "nobody" (setpriv) when the test runs
as root, since root reads anything. The last line is "N passed, M failed".
"""

from __future__ import annotations

import argparse
import base64
import collections
import email.parser
import email.policy
import hashlib
import mailbox
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

NOBODY = 65534


# ---------------------------------------------------------------- sources

def message(subject_header: str, body: str, *, sender: str = "Ann Example <ann@example.com>",
            extra_headers: str = "", content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = (f"From: {sender}\nTo: Bob <bob@example.org>\nSubject: {subject_header}\n"
            f"Date: Tue, 16 Jan 2018 17:17:45 +0000\nMessage-ID: <{abs(hash(subject_header))}@example.com>\n"
            f"MIME-Version: 1.0\n{extra_headers}Content-Type: {content_type}\n\n")
    return head.encode("utf-8") + (body.encode("utf-8") if isinstance(body, str) else body)


def with_attachment(subject: str, size: int, seed: int) -> bytes:
    data = bytes((i * 31 + seed) & 0xFF for i in range(size))
    b64 = base64.encodebytes(data).decode("ascii")
    body = ("--mix\nContent-Type: text/plain; charset=us-ascii\n\nSee the attachment.\n"
            f"--mix\nContent-Type: application/octet-stream; name=\"data{seed}.bin\"\n"
            f"Content-Disposition: attachment; filename=\"data{seed}.bin\"\nContent-Transfer-Encoding: base64\n\n"
            f"{b64}--mix--\n")
    return message(subject, body, content_type="multipart/mixed; boundary=mix")


# (raw message, expected decoded subject) pairs for the mbox.
def mbox_messages() -> list[tuple[bytes, str]]:
    out = [
        (message("Plain hello", "Hello\n>From the quoted line\nbye\n"), "Plain hello"),
        (message("=?iso-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=", "Gr\xfc\xdfe".encode("latin-1"),
                 content_type="text/plain; charset=iso-8859-1"), "Grüße aus Köln"),
        (message("=?koi8-r?B?8NLJ18XU?=", "Привет".encode("koi8-r"), content_type="text/plain; charset=koi8-r"),
         "Привет"),
        (message("=?shift_jis?B?k/qWe4zq?=", "日本語".encode("shift_jis"), content_type="text/plain; charset=shift_jis"),
         "日本語"),
        (message("RE: alternative", "--alt\nContent-Type: text/plain\n\nplain\n--alt\nContent-Type: text/html\n\n"
                 "<p>html</p>\n--alt--\n", content_type="multipart/alternative; boundary=alt"), "RE: alternative"),
        (message("Forwarded inside", "--f\nContent-Type: text/plain\n\nsee below\n--f\nContent-Type: message/rfc822\n\n"
                 "From: inner@example.com\nSubject: the inner one\n\ninner body\n--f--\n",
                 content_type="multipart/mixed; boundary=f"), "Forwarded inside"),
        # Damaged: truncated multipart, missing boundary, bad base64, no headers
        # GMime recognises, an unknown charset.
        (message("Truncated multipart", "--t\nContent-Type: text/plain\n\nfirst\n--t\nContent-Type: image/png\n"
                 "Content-Transfer-Encoding: base64\n\niVBORw0K", content_type="multipart/mixed; boundary=t"),
         "Truncated multipart"),
        (message("No boundary", "--g\nContent-Type: text/plain\n\nguess me\n--g--\n", content_type="multipart/mixed"),
         "No boundary"),
        (message("Bad base64", "--b\nContent-Type: application/pdf; name=x.pdf\nContent-Transfer-Encoding: base64\n\n"
                 "JVBE!!Ri0x\x01\n--b--\n", content_type="multipart/mixed; boundary=b"), "Bad base64"),
        (message("Unknown charset", b"caf\xe9 \x80", content_type="text/plain; charset=x-martian"), "Unknown charset"),
        (message("Unread one", "not read yet\n", extra_headers="Status: O\n"), "Unread one"),
    ]
    for i in range(6):
        out.append((with_attachment(f"Attachment {i}", 1000 + 5000 * i, i), f"Attachment {i}"))
    return out


def write_mbox(path: str, messages: list[tuple[bytes, str]]) -> None:
    with open(path, "wb") as f:
        for raw, _ in messages:
            lines = raw.split(b"\n")
            quoted = [b">" + l if l.lstrip(b">").startswith(b"From ") else l for l in lines]
            f.write(b"From ann@example.com Tue Jan 16 17:17:45 2018\n" + b"\n".join(quoted).rstrip(b"\n") + b"\n\n")


def write_maildir(root: str) -> list[str]:
    subjects = []
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i in range(4):
        name = f"15161122{i:02d}.M{i}P1.host" + (":2,S" if i % 2 == 0 else "")
        where = "cur" if i % 2 == 0 else "new"
        with open(os.path.join(root, where, name), "wb") as f:
            f.write(message(f"Maildir {i}", f"maildir body {i}\n"))
        subjects.append(f"Maildir {i}")
    with open(os.path.join(root, ".Sent", "cur", "1516112299.M9P1.host:2,S"), "wb") as f:
        f.write(message("Sent item", "sent\n"))
    subjects.append("Sent item")
    return subjects


def write_eml_dir(root: str) -> list[str]:
    os.makedirs(os.path.join(root, "nested"), exist_ok=True)
    files = {"a.eml": "Eml A", "b.eml": "Eml B", os.path.join("nested", "c.msgfile"): "Eml C (by content)"}
    for name, subject in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(message(subject, f"{subject} body\n"))
    with open(os.path.join(root, "readme.txt"), "w") as f:
        f.write("not a message\n")
    return list(files.values())


# ---------------------------------------------------------------- readers

def pstkit_items(pstkit: str, pst: str) -> list[dict] | None:
    r = common.run([pstkit, "dump", "--json", pst], timeout=120)
    if r.returncode != 0:
        return None
    objs, problems = common.parse_json_lines(r.stdout)
    return None if problems else [o for o in objs if o.get("type") == "item"]


def libpff_items(pst: str) -> list[dict] | None:
    r = common.run(common.libpff_dump_cmd(pst), timeout=120)
    if r.returncode != 0:
        return None
    objs, problems = common.parse_json_lines(r.stdout)
    return None if problems else [o for o in objs if o.get("type") == "item"]


def readpst_subjects(pst: str, out_dir: str) -> collections.Counter | None:
    os.makedirs(out_dir, exist_ok=True)
    r = common.run(["readpst", "-j", "0", "-D", "-o", out_dir, pst], timeout=120)
    if r.returncode != 0:
        return None
    subjects: collections.Counter = collections.Counter()
    parser = email.parser.BytesParser(policy=email.policy.default)
    for dirpath, _, names in os.walk(out_dir):
        for name in names:
            box = mailbox.mbox(os.path.join(dirpath, name), create=False)
            for key in box.keys():
                msg = parser.parsebytes(box.get_bytes(key), headersonly=True)
                subjects[str(msg["subject"] or "")] += 1
    return subjects


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------- cases

def mail_tree_cases(pstkit: str, tmp: str, summary: common.Summary) -> None:
    """A mail tree as Thunderbird keeps it (mbox files, X.sbd directories of
    subfolders) with a Maildir and .eml directories in it: folders follow the
    tree; --flat puts it all in one folder."""
    tree = os.path.join(tmp, "Local Folders")
    os.makedirs(os.path.join(tree, "Inbox.sbd", "Work.sbd"))
    write_mbox(os.path.join(tree, "Inbox"), [(message("Inbox 1", "x\n"), ""), (message("Inbox 2", "x\n"), "")])
    write_mbox(os.path.join(tree, "Inbox.sbd", "Work"), [(message("Work 1", "x\n"), "")])
    write_mbox(os.path.join(tree, "Inbox.sbd", "Work.sbd", "Project.mbox"), [(message("Project 1", "x\n"), "")])
    write_mbox(os.path.join(tree, "Empty.mbox"), [])
    write_maildir(os.path.join(tree, "Lists"))  # 4 messages, and 1 in .Sent
    os.makedirs(os.path.join(tree, "Archive", "2024"))
    with open(os.path.join(tree, "Archive", "2024", "old.eml"), "wb") as f:
        f.write(message("Archived", "x\n"))
    with open(os.path.join(tree, "loose.eml"), "wb") as f:
        f.write(message("Loose", "x\n"))
    want = collections.Counter({("Mail",): 1, ("Mail", "Inbox"): 2, ("Mail", "Inbox", "Work"): 1,
                                ("Mail", "Inbox", "Work", "Project"): 1, ("Mail", "Lists"): 4,
                                ("Mail", "Lists", "Sent"): 1, ("Mail", "Archive", "2024"): 1})
    for flat in (False, True):
        pst = os.path.join(tmp, "tree-flat.pst" if flat else "tree.pst")
        r = common.run([pstkit, "import", "--create", pst, tree, "--folder", "Mail"] + (["--flat"] if flat else []),
                       timeout=120)
        items = pstkit_items(pstkit, pst) if r.returncode == 0 else None
        folders = collections.Counter(tuple(i["folder"][1:]) for i in items or [])
        # Flat: Maildir++ subfolders (.Sent) stay subfolders of where the Maildir goes.
        expected = collections.Counter({("Mail",): sum(want.values()) - 1, ("Mail", "Sent"): 1}) if flat else want
        name = "mail tree " + ("--flat: one folder" if flat else "-> folder tree (Thunderbird .sbd, mbox, Maildir)")
        if items is not None and folders == expected:
            summary.ok(name, ", ".join("/".join(k) + f" {v}" for k, v in sorted(folders.items())))
        else:
            summary.diff(name, [f"{r.describe()}", f"folders {dict(folders)}", f"want {dict(expected)}"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pstkit", required=True)
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    summary = common.Summary()
    tmp = tempfile.mkdtemp(prefix="pstkit-import-")
    os.chmod(tmp, 0o777)
    try:
        run_cases(pstkit, tmp, summary)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary.close()


def run_cases(pstkit: str, tmp: str, summary: common.Summary) -> None:
    mbox_path = os.path.join(tmp, "archive.mbox")
    mbox_list = mbox_messages()
    write_mbox(mbox_path, mbox_list)
    maildir = os.path.join(tmp, "Maildir")
    maildir_subjects = write_maildir(maildir)
    emldir = os.path.join(tmp, "emls")
    eml_subjects = write_eml_dir(emldir)
    expected = collections.Counter([s for _, s in mbox_list] + maildir_subjects + eml_subjects)

    pst = os.path.join(tmp, "out.pst")
    r = common.run([pstkit, "import", pst, mbox_path, maildir, emldir, "--create", "--batch", "4"], timeout=300)
    out = r.stdout.decode("utf-8", "replace")
    n = sum(expected.values())
    if r.returncode == 0 and f"imported {n} messages" in out and b"\r[" not in r.stderr:
        summary.ok("import mbox + Maildir + eml directory", common.one_line(out))
    else:
        summary.error("import mbox + Maildir + eml directory",
                      f"{r.describe()}: {common.one_line(out)} / {common.one_line(r.stderr)}")
        return

    items = pstkit_items(pstkit, pst)
    got = collections.Counter(i.get("subject", "") for i in items or [])
    folders = collections.Counter(tuple(i["folder"][1:]) for i in items or [])
    # emls/nested/c.msgfile: a subdirectory is a subfolder.
    want_folders = collections.Counter({("archive",): len(mbox_list), ("Maildir",): 4, ("Maildir", "Sent"): 1,
                                        ("emls",): len(eml_subjects) - 1, ("emls", "nested"): 1})
    if items is not None and got == expected and folders == want_folders:
        summary.ok("pstkit dump: subjects and folders")
    else:
        summary.diff("pstkit dump: subjects and folders",
                     [f"missing {k!r} x{v}" for k, v in (expected - got).items()] +
                     [f"extra {k!r} x{v}" for k, v in (got - expected).items()] +
                     [f"folders {dict(folders)} want {dict(want_folders)}"])

    mail_tree_cases(pstkit, tmp, summary)

    unread = [i for i in items or [] if i.get("subject") in ("Unread one", "Maildir 1", "Maildir 3")]
    r = common.run([pstkit, "dump", "--json", pst], timeout=60)
    objs, _ = common.parse_json_lines(r.stdout)
    unread_counts = {tuple(o["path"][1:]): o.get("unread") for o in objs if o.get("type") == "folder"}
    if len(unread) == 3 and unread_counts.get(("archive",)) == 1 and unread_counts.get(("Maildir",)) == 2:
        summary.ok("read state from Status: and Maildir flags")
    else:
        summary.diff("read state from Status: and Maildir flags", [f"unread counts {unread_counts}"])

    r = common.run([pstkit, "check", pst], timeout=120)
    if r.returncode == 0:
        summary.ok("pstkit check on the imported file")
    else:
        summary.error("pstkit check on the imported file", common.one_line(r.stdout + r.stderr))

    if common.pypff_available():
        lib = libpff_items(pst)
        lib_got = collections.Counter(i.get("subject", "") for i in lib or [])
        if lib is not None and lib_got == expected:
            summary.ok("libpff reads the same subjects")
        else:
            summary.diff("libpff reads the same subjects",
                         [f"missing {k!r}" for k in expected - lib_got] + [f"extra {k!r}" for k in lib_got - expected])
    else:
        print("SKIP  libpff (python3-pypff missing)")

    if shutil.which("readpst"):
        rp = readpst_subjects(pst, os.path.join(tmp, "readpst"))
        if rp is not None and rp == expected:
            summary.ok("readpst reads the same subjects")
        else:
            summary.diff("readpst reads the same subjects",
                         ["readpst failed"] if rp is None else
                         [f"missing {k!r}" for k in expected - rp] + [f"extra {k!r}" for k in rp - expected])
    else:
        print("SKIP  readpst (pst-utils missing)")

    # --folder: a nested path created on the way; a second import adds.
    r = common.run([pstkit, "import", pst, os.path.join(emldir, "a.eml"), "--folder", "Projects/2018"], timeout=60)
    items = pstkit_items(pstkit, pst) or []
    in_projects = [i for i in items if i["folder"][1:] == ["Projects", "2018"]]
    if r.returncode == 0 and len(in_projects) == 1 and in_projects[0]["subject"] == "Eml A":
        summary.ok("--folder creates a nested path")
    else:
        summary.error("--folder creates a nested path", f"{r.describe()} {common.one_line(r.stderr)}")

    # A missing source: exit 1 naming it, the file as it was (no folder for it).
    before = sha256(pst)
    missing = os.path.join(tmp, "no-such.mbox")
    r = common.run([pstkit, "import", pst, missing], timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode == 1 and "no-such.mbox" in err and pstkit_items(pstkit, pst) == items and \
            "no-such" not in common.run([pstkit, "ls", pst]).stdout.decode():
        summary.ok("missing source: exit 1, named, nothing added", common.one_line(err))
    else:
        summary.error("missing source: exit 1, named, nothing added", f"{r.describe()} {common.one_line(err)}")

    # A missing source next to a good one: the good one is imported.
    good = os.path.join(tmp, "good.eml")
    with open(good, "wb") as f:
        f.write(message("Good one", "fine\n"))
    r = common.run([pstkit, "import", pst, missing, good, "--folder", "Mixed"], timeout=60)
    mixed = [i for i in pstkit_items(pstkit, pst) or [] if i["folder"][1:] == ["Mixed"]]
    if r.returncode == 1 and len(mixed) == 1:
        summary.ok("bad and good sources: exit 1, good one imported")
    else:
        summary.error("bad and good sources: exit 1, good one imported", f"{r.describe()} {len(mixed)} items")

    # Not mail at all, and an empty file.
    notmail = os.path.join(tmp, "picture.png")
    with open(notmail, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(100))
    empty = os.path.join(tmp, "empty.eml")
    open(empty, "wb").close()
    r = common.run([pstkit, "import", pst, notmail, empty, "--folder", "Mixed"], timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode == 1 and "picture.png" in err and "empty.eml" in err:
        summary.ok("not mail and empty file: exit 1, both named")
    else:
        summary.error("not mail and empty file: exit 1, both named", f"{r.describe()} {common.one_line(err)}")

    # Usage errors and a PST that does not exist.
    r1 = common.run([pstkit, "import", pst], timeout=30)
    r2 = common.run([pstkit, "import", pst, good, "--batch", "0"], timeout=30)
    absent = os.path.join(tmp, "absent.pst")
    r3 = common.run([pstkit, "import", absent, good], timeout=30)
    if r1.returncode == 2 and r2.returncode == 2 and r3.returncode == 1 and not os.path.exists(absent):
        summary.ok("usage errors exit 2; a missing PST without --create exits 1")
    else:
        summary.error("usage errors exit 2; a missing PST without --create exits 1",
                      f"{r1.describe()} {r2.describe()} {r3.describe()} exists={os.path.exists(absent)}")

    permission_cases(pstkit, tmp, pst, good, summary)


def permission_cases(pstkit: str, tmp: str, pst: str, good: str, summary: common.Summary) -> None:
    """Unreadable source and read-only PST: need a user the modes apply to."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            print("SKIP  permission cases (root without setpriv)")
            return
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        # nobody must reach the binary: copy it next to the files.
        copy = os.path.join(tmp, "pstkit-bin")
        shutil.copy2(pstkit, copy)
        os.chmod(copy, 0o755)
        pstkit = copy
    for p in (pst, good):
        os.chmod(p, 0o666)

    secret = os.path.join(tmp, "secret.eml")
    with open(secret, "wb") as f:
        f.write(message("Secret", "hidden\n"))
    os.chmod(secret, 0)
    r = common.run(prefix + [pstkit, "import", pst, secret, good, "--folder", "Perm"], timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    perm = [i for i in pstkit_items(pstkit, pst) or [] if i["folder"][1:] == ["Perm"]]
    if r.returncode == 1 and "secret.eml" in err and [i["subject"] for i in perm] == ["Good one"]:
        summary.ok("unreadable source: exit 1, named, others imported", common.one_line(err))
    else:
        summary.error("unreadable source: exit 1, named, others imported",
                      f"{r.describe()} {common.one_line(err)} items={[i['subject'] for i in perm]}")

    os.chmod(pst, 0o444)
    before = sha256(pst)
    r = common.run(prefix + [pstkit, "import", pst, good], timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode == 1 and sha256(pst) == before and not os.path.exists(pst + "-journal"):
        summary.ok("read-only PST: exit 1, file unchanged byte for byte", common.one_line(err))
    else:
        summary.error("read-only PST: exit 1, file unchanged byte for byte", f"{r.describe()} {common.one_line(err)}")
    os.chmod(pst, 0o644)


if __name__ == "__main__":
    sys.exit(main())
