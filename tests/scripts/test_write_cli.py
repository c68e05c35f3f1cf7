#!/usr/bin/python3
"""Exit codes, messages and effects of pstkit create, mkdir, rm and mv.

Usage: test_write_cli.py --pstkit BIN [--make-sample BIN]

Promises checked: exit 0 on success, 1 when the file is bad or the operation
fails, 2 on usage errors; a failed operation prints one line on stderr and
leaves the file byte for byte as it was; a read-only file is refused (exit
1, unchanged) even when running as root; every successful operation leaves a
file `pstkit check` finds clean. Closes with "N passed, M failed".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


class Cli(common.CliSession):
    # -- expectations -----------------------------------------------------

    def ok(self, name: str, args: list[str], check_file: str | None = None, stdout_has: str = "") -> bool:
        r = self.run(*args)
        problems = []
        if r.returncode != 0:
            problems.append(f"exit {r.describe()}, expected 0: {common.one_line(r.stderr)}")
        if stdout_has and stdout_has not in r.stdout.decode("utf-8", "replace"):
            problems.append(f"stdout lacks {stdout_has!r}: {common.one_line(r.stdout)}")
        if check_file and not problems:
            c = self.run("check", check_file)
            if c.returncode != 0:
                problems.append(f"check after it: {c.describe()}: {common.one_line(c.stdout)}")
        self.report(name, problems)
        return not problems

    def fails(self, name: str, args: list[str], code: int, message: str, file: str | None = None) -> None:
        """args must exit with code, print message on stderr and not touch file."""
        before = digest(file) if file else None
        r = self.run(*args)
        err = r.stderr.decode("utf-8", "replace")
        problems = []
        if r.returncode != code:
            problems.append(f"exit {r.describe()}, expected {code}: {common.one_line(err)}")
        if message.lower() not in err.lower():
            problems.append(f"stderr lacks {message!r}: {common.one_line(err)}")
        if code == 1 and len(err.strip().splitlines()) != 1:
            problems.append(f"expected one line on stderr, got: {err!r}")
        if file and digest(file) != before:
            problems.append("the file changed")
        self.report(name, problems)

    def report(self, name: str, problems: list[str]) -> None:
        if problems:
            self.summary.diff(name, problems)
        else:
            self.summary.ok(name)

    # -- state --------------------------------------------------------------

    def folders(self, file: str) -> dict[str, dict]:
        """'Inbox/Projects' -> ls --json folder line, for folders below the IPM subtree."""
        r = self.run("ls", "--json", file)
        objs, _ = common.parse_json_lines(r.stdout)
        return {"/".join(o["path"][1:]): o for o in objs
                if o.get("type") == "folder" and o["path"][:1] == ["Top of Outlook data file"]}

    def items(self, file: str) -> dict[str, dict]:
        """subject -> ls -r --json item line."""
        r = self.run("ls", "-r", "--json", file)
        objs, _ = common.parse_json_lines(r.stdout)
        return {o["subject"]: o for o in objs if o.get("type") == "item"}

    def expect(self, name: str, condition: bool, detail: str) -> None:
        self.report(name, [] if condition else [detail])


def digest(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


# --------------------------------------------------------------------------


def test_help_and_usage(c: Cli) -> None:
    for cmd in ("create", "mkdir", "rm", "mv"):
        r = c.run(cmd, "--help")
        c.expect(f"{cmd} --help exits 0", r.returncode == 0 and b"Usage" in r.stdout,
                 f"{r.describe()}: {common.one_line(r.stdout)}")
        r = c.run(cmd)
        c.expect(f"{cmd} without arguments exits 2", r.returncode == 2, r.describe())
    f = c.path("usage.pst")
    c.fails("create --encoding bogus", ["create", f, "--encoding", "bogus"], 2, "bogus")
    c.expect("create --encoding bogus makes no file", not os.path.exists(f), "a file was created")
    c.fails("create with an unknown flag", ["create", f, "--frobnicate"], 2, "frobnicate")
    c.fails("mv without DEST", ["mv", f, "Inbox"], 2, "DEST")
    c.fails("mkdir of the IPM subtree itself", ["mkdir", f, "/"], 2, "PATH")


def test_create(c: Cli) -> None:
    f = c.path("new.pst")
    c.ok("create", ["create", f], check_file=f, stdout_has="created")
    info = json.loads(c.run("info", "--json", f).stdout or b"{}")
    c.expect("create: Unicode, permute by default",
             (info.get("format"), info.get("encoding")) == ("Unicode", "permute"), str(info.get("format")))
    c.fails("create over an existing file", ["create", f], 1, "already exists", file=f)
    for enc in ("none", "permute", "cyclic"):
        g = c.path(f"ansi-{enc}.pst")
        c.ok(f"create --ansi --encoding {enc}", ["create", g, "--ansi", "--encoding", enc,
                                                  "--name", "Ärchive"], check_file=g)
        info = json.loads(c.run("info", "--json", g).stdout or b"{}")
        got = (info.get("format"), info.get("encoding"), info.get("store", {}).get("display_name"))
        c.expect(f"create --ansi --encoding {enc}: format, encoding, name", got == ("ANSI", enc, "Ärchive"), str(got))
    c.fails("create in a missing directory", ["create", c.path("no/such/dir/x.pst")], 1, "x.pst")
    c.expect("create leaves no temporary files", sorted(n for n in os.listdir(c.work) if "pstkit-new" in n) == [],
             str(os.listdir(c.work)))


def test_mkdir(c: Cli) -> None:
    f = c.path("mkdir.pst")
    c.run("create", f)
    c.ok("mkdir", ["mkdir", f, "Inbox"], check_file=f, stdout_has="Inbox")
    c.fails("mkdir of an existing folder", ["mkdir", f, "Inbox"], 1, "already exists", file=f)
    c.fails("mkdir below a missing parent", ["mkdir", f, "Work/2024/Q1"], 1, "-p", file=f)
    c.ok("mkdir -p", ["mkdir", "-p", f, "Work/2024/Q1"], check_file=f)
    c.ok("mkdir -p of an existing folder", ["mkdir", "--parents", f, "Work/2024"], check_file=f)
    c.ok("mkdir with a non-ASCII name", ["mkdir", f, "Inbox/Écoles 日本 🎉"], check_file=f)
    got = c.folders(f)
    c.expect("mkdir: the folders exist", {"Inbox", "Work", "Work/2024", "Work/2024/Q1", "Inbox/Écoles 日本 🎉"} <= set(got),
             str(sorted(got)))
    c.expect("mkdir: subfolder counts", got.get("Work", {}).get("subfolders") == 1 and
             got.get("Inbox", {}).get("subfolders") == 1, str({k: v.get("subfolders") for k, v in got.items()}))
    c.fails("mkdir in a missing file", ["mkdir", c.path("missing.pst"), "Inbox"], 1, "missing.pst")
    junk = c.path("junk.pst")
    with open(junk, "wb") as fh:
        fh.write(b"not a pst file at all" * 100)
    c.fails("mkdir in a file that is not a PST", ["mkdir", junk, "Inbox"], 1, "junk.pst", file=junk)


def test_rm(c: Cli) -> None:
    f = c.sample("rm.pst")
    c.fails("rm of a non-empty folder without -r", ["rm", f, "Inbox/Projects"], 1, "not empty", file=f)
    c.fails("rm of a missing folder", ["rm", f, "Inbox/Nope"], 1, "Inbox/Nope", file=f)
    c.fails("rm of a missing node id", ["rm", f, "0x7fffffe4"], 1, "0x7fffffe4", file=f)
    c.fails("rm of a special folder", ["rm", "-r", f, "Deleted Items"], 1, "special folder", file=f)
    c.fails("rm of the IPM subtree", ["rm", "-r", f, "/"], 1, "top of the store", file=f)
    before = c.folders(f)
    c.ok("rm -r of a folder tree", ["rm", "-r", f, "Inbox/Projects"], check_file=f, stdout_has="removed")
    after = c.folders(f)
    c.expect("rm -r: the tree is gone", not any(k.startswith("Inbox/Projects") for k in after), str(sorted(after)))
    c.expect("rm -r: parent's subfolder count", after["Inbox"]["subfolders"] == before["Inbox"]["subfolders"] - 1,
             f"{before['Inbox']} -> {after['Inbox']}")
    c.run("mkdir", f, "Empty")
    c.ok("rm of an empty folder without -r", ["rm", f, "Empty"], check_file=f)
    items = c.items(f)
    victim = items["Lunch on Friday?"]
    inbox = c.folders(f)["Inbox"]
    c.ok("rm of an item by node id", ["rm", f, str(victim["nid"])], check_file=f)
    c.ok("rm of an item by hex node id", ["rm", f, hex(items["Welcome to pstkit"]["nid"])], check_file=f)
    now = c.folders(f)["Inbox"]
    c.expect("rm of items: folder counts", (now["items"], now["unread"]) == (inbox["items"] - 2, inbox["unread"] - 1),
             f"{inbox} -> {now}")
    c.fails("rm of an item already removed", ["rm", f, str(victim["nid"])], 1, str(victim["nid"]), file=f)


def test_mv(c: Cli) -> None:
    f = c.sample("mv.pst")
    c.ok("mv of a folder into another", ["mv", f, "Inbox/Receipts", "Archive"], check_file=f, stdout_has="moved")
    c.ok("mv to rename a folder", ["mv", f, "Archive/2023", "Archive/Year 2023"], check_file=f)
    c.ok("mv to move and rename", ["mv", f, "Sent Items", "Archive/Sent 2024"], check_file=f)
    c.ok("mv of a folder to the top", ["mv", f, "Archive/Receipts", "/"], check_file=f)
    got = c.folders(f)
    want = {"Receipts", "Archive/Year 2023", "Archive/Sent 2024"}
    c.expect("mv: folders where they were moved", want <= set(got) and not {"Sent Items", "Inbox/Receipts"} & set(got),
             str(sorted(got)))
    c.expect("mv: items move with the folder", got.get("Receipts", {}).get("items") == 2, str(got.get("Receipts")))
    c.fails("mv of a folder below itself", ["mv", f, "Inbox", "Inbox/Projects"], 1, "below itself", file=f)
    c.run("mkdir", f, "Archive/Sent 2024/Receipts")
    c.fails("mv into a folder with that name", ["mv", f, "Receipts", "Archive/Sent 2024"], 1, "already exists",
            file=f)
    c.fails("mv to a missing parent", ["mv", f, "Receipts", "Nowhere/Receipts"], 1, "Nowhere", file=f)
    c.fails("mv of a missing folder", ["mv", f, "Nope", "Archive"], 1, "Nope", file=f)
    c.fails("mv of a special folder", ["mv", f, "Deleted Items", "Archive"], 1, "special folder", file=f)
    items = c.items(f)
    nid = items["Meeting notes"]["nid"]
    before = c.folders(f)
    c.ok("mv of an item to a folder", ["mv", f, str(nid), "Archive/Year 2023"], check_file=f)
    moved = c.items(f)["Meeting notes"]
    c.expect("mv of an item: in the new folder", moved["folder"][1:] == ["Archive", "Year 2023"], str(moved))
    after = c.folders(f)
    c.expect("mv of an item: counts", (after["Inbox"]["items"], after["Archive/Year 2023"]["items"]) ==
             (before["Inbox"]["items"] - 1, before["Archive/Year 2023"]["items"] + 1),
             f"{before['Inbox']} {after['Inbox']}")
    unread = items["Apollo build 43 failed"]
    c.ok("mv of an unread item", ["mv", f, str(unread["nid"]), "Inbox"], check_file=f)
    got = c.folders(f)
    c.expect("mv of an unread item: unread counts follow", (got["Inbox/Projects/Apollo"]["unread"], got["Inbox"]["unread"]) ==
             (before["Inbox/Projects/Apollo"]["unread"] - 1, before["Inbox"]["unread"] + 1), str(got["Inbox"]))
    c.fails("mv of an item to a missing folder", ["mv", f, str(nid), "Nowhere"], 1, "Nowhere", file=f)


def test_read_only(c: Cli) -> None:
    f = c.sample("readonly.pst")
    nid = str(c.items(f)["Meeting notes"]["nid"])
    os.chmod(f, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        for args in (["mkdir", f, "New"], ["rm", "-r", f, "Archive"], ["rm", f, nid], ["mv", f, "Archive", "Inbox"],
                     ["mv", f, nid, "Archive"]):
            c.fails(f"read-only file: {args[0]} {' '.join(a for a in args[1:] if a != f)}", args, 1, f, file=f)
        c.ok("read-only file: ls still works", ["ls", f])
    finally:
        os.chmod(f, stat.S_IRUSR | stat.S_IWUSR)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--make-sample", help="make_sample_pst (default: beside --pstkit)")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    make_sample = os.path.abspath(args.make_sample or os.path.join(os.path.dirname(pstkit), "make_sample_pst"))
    summary = common.Summary()
    if not os.path.exists(make_sample):
        summary.error("setup", f"{make_sample} not found")
        return summary.close()
    work = tempfile.mkdtemp(prefix="pstkit-write-cli-")
    try:
        c = Cli(pstkit, make_sample, work, summary)
        for test in (test_help_and_usage, test_create, test_mkdir, test_rm, test_mv, test_read_only):
            try:
                test(c)
            except Exception as e:  # a broken expectation must not hide the others
                summary.error(test.__name__, f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
