#!/usr/bin/python3
"""Salvage on real files: for every corpus PST/OST that pstkit reads whole,
a copy gets the root pages of both B-trees (NBT and BBT) overwritten (the
BBT root only where the NBT is a single page, which holds every node). The
ordinary reader must then refuse the copy (exit 1, naming the page), and
`pstkit dump --json --recover` must print exactly what `pstkit dump --json`
printed for the intact file (plus, where stale NBT pages hold deleted
messages, those as "orphan" items): every folder and item rebuilt from the NBT
leaf pages and blocks that a scan of the file finds. `--recover --deleted`
must read the copy too, with at least as many items.

First, on a file the test generates, the contents table of a folder is
destroyed: `dump --recover` must list its messages as orphans under that
folder.

For the record, with --others the line per file also says whether pffexport (libpff) and
readpst still read anything from the damaged copy.

Usage: test_salvage_corpus.py --pstkit BIN [--corpus DIR] [--only FILE]...
Closes with "N passed, M failed, K skipped".
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def run(cmd, timeout=300):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def items_in(dump: bytes) -> int:
    return sum(1 for line in dump.splitlines() if json.loads(line).get("type") == "item")


def other_readers(path, work):
    """How many messages pffexport and readpst still get out of path."""
    out = {}
    if shutil.which("pffexport"):
        target = os.path.join(work, "pff")
        try:
            run(["pffexport", "-q", "-m", "all", "-t", target, path], timeout=120)  # items and recovered items
        except subprocess.TimeoutExpired:
            pass
        n = 0
        for root, _, files in os.walk(target + ".export"):
            n += sum(1 for f in files if f == "OutlookHeaders.txt")
        out["pffexport"] = n
    if shutil.which("readpst"):
        target = os.path.join(work, "rp")
        os.makedirs(target)
        try:
            run(["readpst", "-j", "0", "-q", "-D", "-e", "-o", target, path], timeout=120)
        except subprocess.TimeoutExpired:
            pass
        out["readpst"] = sum(len(files) for _, _, files in os.walk(target))
    return out


def check_file(pstkit, path, work):
    intact = run([pstkit, "dump", "--json", path])
    if intact.returncode != 0:
        return None, "pstkit does not read the intact file whole"
    info = run([pstkit, "info", "--json", path])
    header = json.loads(info.stdout)["header"]
    fmt = json.loads(info.stdout)["format"]
    page = 4096 if "4K" in fmt else 512
    # MS-PST 2.2.2.7.7.1 BTPAGE: cLevel follows cEnt, cEntMax and cbEnt
    # (4K pages: two 16-bit counts, libpff).
    level_at = {"ANSI": 499, "Unicode": 491}.get(fmt, 4061)
    with open(path, "rb") as f:
        f.seek(header["nbt_root"]["offset"] + level_at)
        nbt_level = f.read(1)[0]
    # A one-page NBT holds every node entry: destroying it loses them all
    # (only stale copies of the page can give some back), so such files
    # lose only their BBT root.
    roots = ("nbt_root", "bbt_root") if nbt_level > 0 else ("bbt_root",)
    copy = os.path.join(work, "damaged" + os.path.splitext(path)[1])
    shutil.copyfile(path, copy)
    with open(copy, "r+b") as f:
        for root in roots:
            f.seek(header[root]["offset"])
            f.write(b"\xA5" * page)
    plain = run([pstkit, "dump", "--json", copy])
    if plain.returncode != 1 or b"page at offset" not in plain.stderr:
        return False, "the damaged copy was not refused by the ordinary reader (exit %d, %r)" % (
            plain.returncode, plain.stderr[-200:])
    salvaged = run([pstkit, "dump", "--json", "--recover", copy])
    if salvaged.returncode != 0:
        return False, "dump --recover: exit %d: %s" % (salvaged.returncode, salvaged.stderr.decode()[-300:])
    # Orphans are messages no contents table lists: with the NBT root gone,
    # stale NBT pages give back deleted messages too. Everything else must
    # be exactly what the intact file gave.
    lines = salvaged.stdout.splitlines()
    orphans = [line for line in lines if json.loads(line).get("orphan")]
    kept = b"".join(line + b"\n" for line in lines if not json.loads(line).get("orphan"))
    if kept != intact.stdout:
        want = intact.stdout.splitlines()
        got = kept.splitlines()
        diff = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
        return False, "dump --recover differs from the intact dump at line %d (%d vs %d lines)" % (
            diff + 1, len(got), len(want))
    deleted = run([pstkit, "dump", "--json", "--recover", "--deleted", copy])
    if deleted.returncode != 0 or items_in(deleted.stdout) < items_in(intact.stdout):
        return False, "dump --recover --deleted: exit %d, %d items" % (deleted.returncode, items_in(deleted.stdout))
    others = other_readers(copy, work)
    note = ", ".join("%s %d" % kv for kv in sorted(others.items()))
    what = "both roots" if len(roots) == 2 else "BBT root"
    extra = ", %d orphans (from stale NBT pages)" % len(orphans) if orphans else ""
    return True, "%s destroyed, %d items salvaged%s%s" % (what, items_in(intact.stdout), extra,
                                                           "; from the damaged copy " + note if note else "")


def block_extent(data, start):
    """Length of the Unicode block starting at start (MS-PST 2.2.2.8: data,
    padding to 64 bytes, 16-byte trailer whose cb gives the data size)."""
    for end in range(start + 64, min(len(data), start + 8192) + 1, 64):
        cb, _sig, _crc, bid = struct.unpack_from("<HHIQ", data, end - 16)
        if bid and (cb + 16 + 63) // 64 * 64 == end - start:
            return end - start
    return 0


def check_orphans(pstkit, work):
    """A folder whose contents table is destroyed: dump --recover must still
    list its messages, as orphans under the folder the NBT names as parent."""
    src = os.path.join(work, "eml")
    os.makedirs(src)
    subjects = ["orphan %d" % i for i in range(1, 6)]
    for i, subject in enumerate(subjects):
        with open(os.path.join(src, "m%d.eml" % i), "w") as f:
            f.write("From: a@example.com\nTo: b@example.com\nSubject: %s\n"
                    "Date: Mon, 1 Jan 2024 10:00:0%d +0000\n\nbody %d\n" % (subject, i, i))
    pst = os.path.join(work, "orphans.pst")
    for cmd in (["create", pst, "--encoding", "none"], ["import", pst, src, "--folder", "Inbox"]):
        r = run([pstkit, *cmd])
        if r.returncode != 0:
            return False, "%s: %s" % (cmd[0], r.stderr.decode())
    items = [json.loads(line) for line in run([pstkit, "dump", "--json", pst]).stdout.splitlines()]
    nids = [o["nid"] for o in items if o["type"] == "item"]
    data = bytearray(open(pst, "rb").read())
    # The contents table: the heap-on-node block of a TC (bSig 0xEC,
    # bClientSig 0x7C, MS-PST 2.3.1.2) that holds every message's row id.
    tables = [b for b in range(0x4400, len(data) - 64, 64)
              if data[b + 2:b + 4] == b"\xec\x7c" and block_extent(data, b)
              and all(struct.pack("<I", n) in data[b:b + block_extent(data, b)] for n in nids)]
    if len(tables) != 1:
        return False, "expected one contents table block holding the %d rows, found %d" % (len(nids), len(tables))
    data[tables[0] + 40] ^= 0xFF  # its CRC no longer matches
    open(pst, "wb").write(bytes(data))
    plain = run([pstkit, "dump", "--json", pst])
    if any(json.loads(line)["type"] == "item" for line in plain.stdout.splitlines()):
        return False, "the damaged table still gave items to the ordinary reader"
    salvaged = run([pstkit, "dump", "--json", "--recover", pst])
    got = [json.loads(line) for line in salvaged.stdout.splitlines()]
    orphans = [o for o in got if o["type"] == "item" and o.get("orphan")]
    if sorted(o["subject"] for o in orphans) != subjects:
        return False, "orphans %r, expected %r" % ([o.get("subject") for o in orphans], subjects)
    if any(o["folder"] != ["Top of Outlook data file", "Inbox"] for o in orphans):
        return False, "orphans not placed under their parent folder: %r" % orphans[0]["folder"]
    if salvaged.returncode != 1:
        return False, "dump --recover should still report the damaged table (exit 1), got %d" % salvaged.returncode
    return True, "contents table destroyed, %d messages listed as orphans under Inbox" % len(orphans)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("--only", action="append")
    ap.add_argument("--others", action="store_true", help="also run pffexport and readpst on each damaged copy")
    args = ap.parse_args()
    corpus = common.find_corpus(args.corpus)
    if corpus is None:
        return common.skip_or_fail_missing_corpus(corpus, "salvage corpus test")
    if not args.others:
        global other_readers
        other_readers = lambda path, work: {}  # noqa: E731
    pstkit = os.path.abspath(args.pstkit)
    summary = common.Summary()
    summary.result("generated orphans.pst", *common.in_scratch("pstkit-salvage-", check_orphans, pstkit))
    for row in common.corpus_files(corpus, args.only):
        if row.is_fragment or not row.file.lower().endswith((".pst", ".ost")):
            continue
        summary.result(row.file, *common.in_scratch("pstkit-salvage-", check_file, pstkit, row.path))
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
