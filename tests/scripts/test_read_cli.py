#!/usr/bin/python3
"""Command-line behaviour of the reading commands (info, ls, show, dump, check).

Usage: test_read_cli.py --pstkit BIN [--make-sample BIN] [--corpus DIR]

Promises checked:
  * a failed write to standard output (/dev/full) is exit 1 with one line on
    stderr, for every reading command;
  * a FIFO, a socket, a directory or a device given as FILE is refused at once
    (exit 1, one line on stderr) by every command, reading or writing;
  * show presents every kind of node for what it is (message store, name-to-ID
    map, folder, table, message) and says plainly when it does not display one;
  * property names follow id and type ([MS-OXPROPS]);
  * an unknown command is named as such, node ids are decimal (leading zeros
    allowed) or 0x hex and nothing else, check --json prints JSON for a file
    that is not a PST.
Uses generated files (make_sample_pst) and, when present, the corpus file
aspose-net/Outlook.pst. Closes with "N passed, M failed".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TIMEOUT = 20  # seconds; a command blocked on a FIFO fails the test instead of hanging it


class Cli(common.CliSession):
    timeout = TIMEOUT

    def expect(self, name: str, condition: bool, detail: str) -> None:
        if condition:
            self.summary.ok(name)
        else:
            self.summary.diff(name, [detail])

    def fails(self, name: str, args: list[str], code: int, message: str) -> common.RunResult:
        """args must exit with code and say message in one line on stderr."""
        r = self.run(*args)
        err = r.stderr.decode("utf-8", "replace")
        problems = []
        if r.returncode != code:
            problems.append(f"{r.describe()}, expected exit {code}: {common.one_line(err)}")
        if message.lower() not in err.lower():
            problems.append(f"stderr lacks {message!r}: {common.one_line(err)}")
        if len(err.strip().splitlines()) != 1:
            problems.append(f"expected one line on stderr, got {err!r}")
        if problems:
            self.summary.diff(name, problems)
        else:
            self.summary.ok(name)
        return r

    def show_json(self, file: str, nid: str) -> tuple[common.RunResult, dict]:
        r = self.run("show", "--json", file, nid)
        try:
            return r, json.loads(r.stdout or b"{}")
        except json.JSONDecodeError:
            return r, {}


def items(c: Cli, file: str) -> dict[str, dict]:
    """subject -> ls -r --json item line."""
    objs, _ = common.parse_json_lines(c.run("ls", "-r", "--json", file).stdout)
    return {o["subject"]: o for o in objs if o.get("type") == "item"}


# --------------------------------------------------------------------------


def test_write_errors(c: Cli) -> None:
    """Item 6: stdout on a full device."""
    if not os.path.exists("/dev/full"):
        c.summary.skip("write errors", "no /dev/full")
        return
    f = c.sample("full.pst")
    nid = str(items(c, f)["Meeting notes"]["nid"])
    commands = [["info", f], ["info", "--json", f], ["ls", f], ["ls", "-r", f], ["ls", "-r", "--json", f],
                ["show", f, nid], ["show", "--json", f, nid], ["show", f, "0x12D"], ["dump", f],
                ["dump", "--json", "--full", f], ["check", f], ["check", "--json", f], ["--help"]]
    for args in commands:
        name = "stdout on /dev/full: " + " ".join("FILE" if a == f else a for a in args)
        with open("/dev/full", "wb") as full:
            try:
                p = subprocess.run([c.pstkit, *args], stdout=full, stderr=subprocess.PIPE, timeout=TIMEOUT,
                                   stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                c.summary.error(name, "timed out")
                continue
        err = p.stderr.decode("utf-8", "replace")
        c.expect(name, p.returncode == 1 and err.count("\n") == 1 and "writing standard output" in err
                 and "No space left on device" in err, f"exit {p.returncode}, stderr {err!r}")


def test_non_regular_files(c: Cli) -> None:
    """Item 7: FIFOs, sockets, directories and devices are refused at once."""
    fifo = c.path("fifo.pst")
    os.mkfifo(fifo)
    sock_path = c.path("socket.pst")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(sock_path)
    directory = c.path("dir.pst")
    os.mkdir(directory)
    mbox = c.path("one.mbox")
    with open(mbox, "wb") as fh:
        fh.write(b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n")
    try:
        for kind, path, what in (("FIFO", fifo, "a FIFO"), ("socket", sock_path, "a socket"),
                                 ("directory", directory, "a directory"), ("/dev/null", "/dev/null", "a character device")):
            for args in (["info", path], ["ls", "-r", path], ["show", path, "0x21"], ["dump", "--full", path],
                         ["check", path], ["check", "--json", path], ["mkdir", path, "X"], ["rm", path, "X"],
                         ["mv", path, "X", "Y"], ["import", path, mbox]):
                c.fails(f"{kind}: {args[0]}{' ' + args[1] if args[1].startswith('-') else ''}", args, 1,
                        "not a regular file but " + what)
            r = c.run("create", path)
            c.expect(f"{kind}: create refuses it", r.returncode == 1 and not r.timed_out, r.describe())
    finally:
        sock.close()


def test_show_kinds(c: Cli) -> None:
    """Item 8: every kind of node shown for what it is."""
    f = c.sample("kinds.pst")
    r, j = c.show_json(f, "0x21")
    c.expect("show 0x21: the message store", r.returncode == 0 and j.get("type") == "store"
             and j.get("kind") == "message store" and j.get("display_name") and j.get("properties"),
             f"{r.describe()} {common.one_line(r.stdout)} {common.one_line(r.stderr)}")
    r = c.run("show", f, "0x21")
    c.expect("show 0x21 (text): the message store", r.returncode == 0 and r.stdout.startswith(b"Message store 33")
             and b"PidTagDisplayName" in r.stdout, common.one_line(r.stdout + r.stderr))

    r, j = c.show_json(f, "0x61")
    names = {e.get("name") for e in j.get("entries", [])}
    c.expect("show 0x61: the name-to-ID map with its entries", r.returncode == 0 and j.get("type") == "name_map"
             and len(j.get("entries", [])) > 0 and all(e["id"].startswith("0x8") for e in j["entries"]),
             f"{r.describe()} {common.one_line(r.stdout + r.stderr)}")
    c.expect("show 0x61: entries are named", any(n and n.startswith("PidLid") for n in names), str(sorted(names))[:200])

    r, j = c.show_json(f, "0x122")
    c.expect("show 0x122: the root folder", r.returncode == 0 and j.get("type") == "folder"
             and j.get("subfolders", 0) > 0, f"{r.describe()} {common.one_line(r.stderr)}")

    r, j = c.show_json(f, "0x12D")
    rows = j.get("rows", [])
    c.expect("show 0x12D: the root's hierarchy table, columns and rows",
             r.returncode == 0 and j.get("type") == "table" and j.get("kind") == "hierarchy table"
             and len(j.get("columns", [])) > 0 and len(rows) == j_subfolders(c, f)
             and all("row_id" in row for row in rows),
             f"{r.describe()} {common.one_line(r.stdout)} {common.one_line(r.stderr)}")
    r = c.run("show", f, "0x12D")
    c.expect("show 0x12D (text): a table", r.returncode == 0 and r.stdout.startswith(b"Hierarchy table 301")
             and b"Columns:" in r.stdout and b"Row 0" in r.stdout, common.one_line(r.stdout + r.stderr))

    inbox = [o for o in common.parse_json_lines(c.run("ls", "--json", f).stdout)[0] if o.get("path", [])[-1:] == ["Inbox"]]
    contents = hex((inbox[0]["nid"] & ~0x1F) | 0x0E) if inbox else "0x0"
    r, j = c.show_json(f, contents)
    c.expect("show of a contents table: one row per item", r.returncode == 0 and j.get("kind") == "contents table"
             and inbox and len(j.get("rows", [])) == inbox[0]["items"],
             f"{r.describe()} {common.one_line(r.stderr)} rows {len(j.get('rows', []))}")

    r, j = c.show_json(f, "0x60D")
    c.expect("show 0x60D: the hierarchy table template", r.returncode == 0 and j.get("type") == "table"
             and j.get("kind") == "hierarchy table template" and j.get("rows") == [],
             f"{r.describe()} {common.one_line(r.stdout + r.stderr)}")

    nid = items(c, f)["Meeting notes"]["nid"]
    r, j = c.show_json(f, str(nid))
    c.expect("show of a message", r.returncode == 0 and j.get("type") == "item" and j.get("kind") == "message",
             f"{r.describe()} {common.one_line(r.stderr)}")

    c.fails("show 0x1E1: a kind show does not display", ["show", f, "0x1E1"], 1,
            "node 0x1e1 is a search management queue; show does not display it")
    c.fails("show of a node that does not exist", ["show", f, "0x7FFFFFE2"], 1, "0x7fffffe2")


def j_subfolders(c: Cli, f: str) -> int:
    r = c.run("show", "--json", f, "0x122")
    return json.loads(r.stdout or b"{}").get("subfolders", -1)


def test_show_corpus(c: Cli, corpus: str | None) -> None:
    """Item 8 on the file the issue names (skipped without the corpus)."""
    f = os.path.join(corpus or "", "aspose-net", "Outlook.pst")
    if not corpus or not os.path.isfile(f):
        c.summary.skip("show on aspose-net/Outlook.pst", "corpus absent")
        return
    r, j = c.show_json(f, "0x12d")
    c.expect("corpus: show 0x12d is the root's hierarchy table", r.returncode == 0 and j.get("type") == "table"
             and j.get("kind") == "hierarchy table" and len(j.get("rows", [])) > 0,
             f"{r.describe()} {common.one_line(r.stderr)}")
    r, j = c.show_json(f, "0x21")
    c.expect("corpus: show 0x21 is the message store", r.returncode == 0 and j.get("type") == "store",
             f"{r.describe()} {common.one_line(r.stdout + r.stderr)}")
    # Item 9 on real data: 0x6619001F is PidTagPstBodyPrefix, 0x10130102 PidTagHtml.
    seen: dict[str, set[str]] = {}
    for item in items(c, f).values():
        r, j = c.show_json(f, str(item["nid"]))
        for p in j.get("properties", []):
            seen.setdefault(p["tag"], set()).add(p["name"])
    for tag, want in (("0x6619001f", "PidTagPstBodyPrefix"), ("0x10130102", "PidTagHtml")):  # as hex() prints
        if tag not in seen:
            c.summary.skip(f"corpus: name of {tag}", "no such property in the file")
            continue
        c.expect(f"corpus: {tag} is {want}", seen[tag] == {want}, str(seen[tag]))


def test_property_names(c: Cli) -> None:
    """Item 9: names by id and type (the name-to-ID map's own properties)."""
    f = c.sample("names.pst")
    r, j = c.show_json(f, "0x61")
    names = {int(p["tag"], 16): p["name"] for p in j.get("properties", [])}
    for tag, want in ((0x00020102, "PidTagNameidStreamGuid"), (0x00030102, "PidTagNameidStreamEntry"),
                      (0x00040102, "PidTagNameidStreamString"), (0x00010003, "PidTagNameidBucketCount")):
        c.expect(f"name of 0x{tag:08X} in the name-to-ID map", names.get(tag) == want,
                 f"{names.get(tag)!r}, want {want}")
    buckets = {t: n for t, n in names.items() if 0x1000 < (t >> 16) < 0x1100}
    c.expect("the name-to-ID map's hash buckets are named as such (MS-PST 2.4.7.5)", buckets and all(
        n == f"PidTagNameidBucketBase+{(t >> 16) - 0x1000}" for t, n in buckets.items()), str(buckets)[:300])
    objs, _ = common.parse_json_lines(c.run("dump", "--json", "--full", f).stdout)
    keys = set()
    for o in objs:
        keys.update(o.get("properties", {}).keys())
    c.expect("dump --full: an HTML body is PidTagHtml", "PidTagHtml" in keys and "PidTagBodyHtml" not in keys,
             str(sorted(k for k in keys if "Html" in k)))


def test_small_things(c: Cli) -> None:
    """Item 10."""
    r = c.fails("unknown command", ["bogus", "x.pst"], 2, "unknown command 'bogus'")
    err = r.stderr.decode("utf-8", "replace")
    c.expect("unknown command: the commands are listed", all(w in err for w in ("info", "show", "check", "import")),
             err)
    r = c.run()
    c.expect("no command: exit 2", r.returncode == 2, r.describe())

    f = c.sample("nids.pst")
    nid = items(c, f)["Meeting notes"]["nid"]
    plain = c.run("show", f, str(nid))
    for text in ("0" + str(nid), "000" + str(nid), hex(nid), hex(nid).upper().replace("0X", "0x")):
        r = c.run("show", f, text)
        c.expect(f"node id {text} is accepted", r.returncode == 0 and r.stdout == plain.stdout,
                 f"{r.describe()} {common.one_line(r.stderr)}")
    for text in ("+" + str(nid), "-" + str(nid), " " + str(nid), str(nid) + " ", "0x", "0x+1", "0o17", "1e3",
                 "0b101", "x12", "4294967296", ""):
        c.fails(f"node id {text!r} is refused", ["show", f, text], 2, "node id")

    junk = c.path("junk.pst")
    with open(junk, "wb") as fh:
        fh.write(b"not a pst file at all" * 100)
    r = c.run("check", "--json", junk)
    objs, problems = common.parse_json_lines(r.stdout)
    kinds = [o.get("type") for o in objs]
    c.expect("check --json on a file that is not a PST: a finding and the summary",
             r.returncode == 1 and not problems and kinds == ["finding", "summary"] and objs[1]["clean"] is False
             and objs[1]["errors"] == 1 and "!BDN" in objs[0].get("message", "")
             and r.stderr.decode("utf-8", "replace").count("\n") == 1,
             f"{r.describe()} {common.one_line(r.stdout)} {common.one_line(r.stderr)}")
    r = c.run("check", junk)
    out = r.stdout.decode("utf-8", "replace")
    c.expect("check on a file that is not a PST: the finding and the summary",
             r.returncode == 1 and "!BDN" in out and "1 error, 0 warnings" in out,
             f"{r.describe()} {common.one_line(out)} {common.one_line(r.stderr)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--make-sample", help="make_sample_pst (default: beside --pstkit)")
    ap.add_argument("--corpus", help="corpus directory (default: ../shared/corpus)")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    make_sample = os.path.abspath(args.make_sample or os.path.join(os.path.dirname(pstkit), "make_sample_pst"))
    summary = common.Summary()
    if not os.path.exists(make_sample):
        summary.error("setup", f"{make_sample} not found")
        return summary.close()
    corpus = common.find_corpus(args.corpus)
    work = tempfile.mkdtemp(prefix="pstkit-read-cli-")
    try:
        c = Cli(pstkit, make_sample, work, summary)
        tests = [test_write_errors, test_non_regular_files, test_show_kinds, test_property_names, test_small_things,
                 lambda cli: test_show_corpus(cli, corpus)]
        for test in tests:
            try:
                test(c)
            except Exception as e:  # a broken expectation must not hide the others
                summary.error(getattr(test, "__name__", "test"), f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
