#!/usr/bin/python3
"""`pstkit repair` and `pstkit recover` from the command line (docs/REPAIR.md).

Usage: test_repair_cli.py --pstkit BIN [--corpus DIR]

Promises checked:
  * healthy corpus files: exit 0, "nothing to repair", byte-identical, no backup;
  * aspose-net/Test_part1.pst (real findings): exit 0, check clean afterwards,
    the same `dump --json --full` content except what repair documents it sets,
    the original kept as FILE.bak, every finding and change in FILE.log (text
    and --json);
  * idempotent: a second repair changes nothing;
  * backups: FILE.bak, then FILE.bak.1..., --backup PATH, --no-backup;
  * --dry-run: prints the plan, changes nothing, writes nothing;
  * bad input: missing, a directory, read-only file or directory, locked, a
    disk that fills up, a 4K-page OST, usage errors: one line on stderr,
    exit 1 (2 for usage), the file as it was;
  * recover: an executable, an empty file, random bytes, a PST cut to 1 KiB,
    a PST with its header zeroed, an OST: OUT checks clean; IN never changes;
    OUT must not exist.
Closes with "N passed, M failed".
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# Properties repair sets or recomputes (docs/REPAIR.md: COUNTS_FIXED,
# MESSAGE_FIXED, TABLE_REBUILT): left out of the content comparison.
SET_BY_REPAIR = {
    "PidTagContentCount", "PidTagContentUnreadCount", "PidTagSubfolders", "PidTagMessageSize",
    "PidTagHasAttachments", "PidTagDisplayTo", "PidTagDisplayCc", "PidTagDisplayBcc", "PidTagSearchKey",
    "PidTagLtpRowId", "PidTagLtpRowVer", "PidTagPstHiddenCount", "PidTagPstHiddenUnread",
}
FOLDER_COUNTS = {"items", "subfolders", "content_count", "unread", "associated_items"}


def digest(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def strip(obj):
    """obj without what repair documents it sets."""
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in SET_BY_REPAIR}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    return obj


class Cli(common.CliSession):
    def report(self, name: str, problems: list[str]) -> None:
        if problems:
            self.summary.diff(name, problems)
        else:
            self.summary.ok(name)

    def expect(self, name: str, ok: bool, detail: str = "") -> bool:
        self.report(name, [] if ok else [detail or "not as expected"])
        return ok

    def dump(self, path: str) -> dict[int, dict] | None:
        r = self.run("dump", "--json", "--full", path)
        if r.returncode != 0:
            return None
        objs, _ = common.parse_json_lines(r.stdout)
        out = {}
        for o in objs:
            key = o.get("nid")
            if o.get("type") == "folder":
                o = {k: v for k, v in o.items() if k not in FOLDER_COUNTS}
            out[key] = strip(o)
        return out

    def fails(self, name: str, args: list[str], code: int, message: str, files: list[str] = (),
              env: dict | None = None, preexec=None) -> None:
        before = {f: digest(f) for f in files}
        r = common_run([self.pstkit, *args], env=env, preexec=preexec)
        err = r.stderr.decode("utf-8", "replace")
        problems = []
        if r.returncode != code:
            problems.append(f"exit {r.returncode}, expected {code}: {common.one_line(r.stderr)}")
        if message.lower() not in err.lower():
            problems.append(f"stderr lacks {message!r}: {common.one_line(r.stderr)}")
        if code == 1 and len(err.strip().splitlines()) != 1:
            problems.append(f"expected one line on stderr, got: {err!r}")
        for f, d in before.items():
            if digest(f) != d:
                problems.append(f"{os.path.basename(f)} changed")
        self.report(name, problems)


def common_run(cmd, env=None, preexec=None, timeout=120):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env,
                       preexec_fn=preexec)
    return p


def copy(src: str, dst: str) -> str:
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)
    return dst


def temporary_files(directory: str) -> list[str]:
    return [n for n in os.listdir(directory) if ".pstkit-" in n]


def test_healthy_files(c: Cli, corpus: str) -> None:
    tried = 0
    for row in common.corpus_files(corpus):
        if row.is_fragment or row.size <= 0 or row.size > 2_000_000 or not row.file.endswith(".pst"):
            continue
        if c.run("check", row.path).returncode != 0:
            continue
        f = copy(row.path, c.path("healthy-%d.pst" % tried))
        before = digest(f)
        r = c.run("repair", f)
        out = r.stdout.decode("utf-8", "replace")
        c.expect(f"healthy {row.file}: exit 0, nothing to repair", r.returncode == 0 and "nothing to repair" in out,
                 f"exit {r.returncode}: {common.one_line(r.stdout)} {common.one_line(r.stderr)}")
        c.expect(f"healthy {row.file}: byte-identical, no backup", digest(f) == before and
                 not os.path.exists(f + ".bak") and not temporary_files(c.work))
        tried += 1
        if tried == 5:
            break
    c.expect("healthy corpus files found", tried >= 3, f"only {tried}")


def test_real_findings(c: Cli, corpus: str) -> None:
    src = os.path.join(corpus, "aspose-net", "Test_part1.pst")
    if not os.path.exists(src):
        c.expect("aspose-net/Test_part1.pst present", False, src)
        return
    f = copy(src, c.path("Test_part1.pst"))
    original = digest(f)
    c.expect("Test_part1: check finds errors before", c.run("check", f).returncode == 1)
    before = c.dump(f)
    r = c.run("repair", f)
    c.expect("Test_part1: repair exit 0", r.returncode == 0,
             f"{r.returncode}: {common.one_line(r.stdout)} {common.one_line(r.stderr)}")
    chk = c.run("check", f)
    c.expect("Test_part1: check clean after", chk.returncode == 0, common.one_line(chk.stdout[-400:]))
    c.expect("Test_part1: original kept as FILE.bak", digest(f + ".bak") == original)
    after = c.dump(f)
    if before is None or after is None:
        c.expect("Test_part1: dump before and after", False)
    else:
        missing = [k for k in before if k not in after]
        differ = [k for k in before if k in after and before[k] != after[k]]
        extra = [k for k in after if k not in before and "Lost and Found" not in str(after[k].get("path"))]
        detail = ""
        if differ:
            k = differ[0]
            a, b = before[k], after[k]
            detail = "first: nid %s: %s" % (k, json.dumps({x: (a.get(x), b.get(x)) for x in set(a) | set(b)
                                                              if a.get(x) != b.get(x)})[:600])
        c.expect("Test_part1: same content (dump --json --full)", not missing and not differ and not extra,
                 f"{len(missing)} missing, {len(differ)} differ, {len(extra)} extra; {detail}")
    with open(f + ".log", encoding="utf-8") as lf:
        log = lf.read()
    c.expect("Test_part1: the log lists findings and changes", "found error BTH" in log and "\nchange " in log
             and "summary repaired" in log, log[:300])
    # Idempotent.
    repaired = digest(f)
    r2 = c.run("repair", f)
    c.expect("Test_part1: a second repair changes nothing",
             r2.returncode == 0 and digest(f) == repaired and "nothing to repair" in r2.stdout.decode()
             and not os.path.exists(f + ".bak.1"), common.one_line(r2.stdout))
    # The log as JSON lines.
    g = copy(src, c.path("Test_part1-json.pst"))
    r = c.run("repair", "--json", "--log", c.path("json.log"), g)
    objs, problems = common.parse_json_lines(open(c.path("json.log"), "rb").read())
    kinds = {o.get("type") for o in objs}
    summary = [o for o in objs if o.get("type") == "summary"]
    finding = next((o for o in objs if o.get("type") == "finding"), {})
    out, _ = common.parse_json_lines(r.stdout)
    c.expect("--json: log lines are JSON with findings, changes and a summary",
             not problems and {"finding", "change", "summary"} <= kinds and len(summary) == 1
             and summary[0]["ok"] and summary[0]["errors_before"] > 0 and summary[0]["backup"] == g + ".bak"
             and {"code", "severity", "structure", "offset", "id", "message"} <= set(finding)
             and len(out) == 1 and out[0]["type"] == "summary",
             f"{problems[:2]} {kinds} {summary}")
    c.expect("--log PATH: no FILE.log", not os.path.exists(g + ".log"))


def damaged_sample(c: Cli, name: str) -> str:
    """A generated store with bytes flipped in a block or page (check finds errors)."""
    f = c.sample(name)
    with open(f, "rb") as fh:
        data = bytearray(fh.read())
    end = len(data.rstrip(b"\0"))
    # Flip bytes at the middle of the used part, then further on, until
    # check finds an error (a gap between blocks holds nothing to find).
    for step in range(1, 20):
        at = end * step // 20
        for i in range(16):
            data[at + i * 5] ^= 0x55
        with open(f, "wb") as fh:
            fh.write(data)
        if c.run("check", f).returncode == 1:
            break
    return f


def test_backups_and_dry_run(c: Cli) -> None:
    f = damaged_sample(c, "backups.pst")
    if c.run("check", f).returncode != 1:
        c.expect("damaged sample has errors", False)
        return
    original = digest(f)
    # Dry run: the plan on stdout, nothing written (no log without --log).
    r = c.run("repair", "--dry-run", f)
    out = r.stdout.decode("utf-8", "replace")
    c.expect("--dry-run: exit 0, the plan printed, nothing changed",
             r.returncode == 0 and "would: " in out and "nothing was changed" in out and digest(f) == original
             and not os.path.exists(f + ".bak") and not os.path.exists(f + ".log") and not temporary_files(c.work),
             common.one_line(r.stdout) + common.one_line(r.stderr))
    # An existing backup is never overwritten.
    with open(f + ".bak", "w") as b:
        b.write("an older backup")
    r = c.run("repair", f)
    c.expect("existing FILE.bak: FILE.bak.1 taken and named", r.returncode == 0 and
             open(f + ".bak").read() == "an older backup" and digest(f + ".bak.1") == original and
             f + ".bak.1" in r.stdout.decode(), common.one_line(r.stdout) + common.one_line(r.stderr))
    c.expect("repaired file checks clean", c.run("check", f).returncode == 0)
    # --backup PATH and --no-backup.
    g = damaged_sample(c, "backup-path.pst")
    gd = digest(g)
    r = c.run("repair", "--backup", c.path("kept.pst"), g)
    c.expect("--backup PATH", r.returncode == 0 and digest(c.path("kept.pst")) == gd and not os.path.exists(g + ".bak"))
    h = damaged_sample(c, "no-backup.pst")
    r = c.run("repair", "--no-backup", "--quiet", h)
    c.expect("--no-backup --quiet", r.returncode == 0 and r.stdout == b"" and not os.path.exists(h + ".bak") and
             c.run("check", h).returncode == 0)
    c.fails("--backup with --no-backup: usage", ["repair", "--no-backup", "--backup", "x", h], 2, "", [h])


def hold_writer_lock(path: str) -> int:
    """Takes pstkit's writer lock on path (an OFD lock on byte 2^62) and returns the fd holding it."""
    fd = os.open(path, os.O_RDWR)
    lock = struct.pack("hh4xqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 1 << 62, 1, 0)
    fcntl.fcntl(fd, 37, lock)  # F_OFD_SETLK
    return fd


def test_bad_input(c: Cli, corpus: str) -> None:
    f = damaged_sample(c, "bad.pst")
    c.fails("missing file", ["repair", c.path("missing.pst")], 1, "missing.pst")
    c.expect("missing file: no log left", not os.path.exists(c.path("missing.pst.log")))
    os.mkdir(c.path("adir"))
    c.fails("a directory", ["repair", c.path("adir")], 1, "directory")
    c.fails("usage: no FILE", ["repair"], 2, "")
    c.fails("usage: unknown option", ["repair", "--frobnicate", f], 2, "", [f])
    c.fails("recover usage: no OUT", ["recover", f], 2, "", [f])
    # Read-only file, read-only directory (refused even as root).
    os.chmod(f, 0o444)
    c.fails("read-only file", ["repair", f], 1, "read-only", [f])
    os.chmod(f, 0o644)
    rodir = c.path("rodir")
    os.mkdir(rodir)
    g = copy(f, os.path.join(rodir, "g.pst"))
    os.chmod(rodir, 0o555)
    c.fails("read-only directory", ["repair", g], 1, "read-only", [g])
    os.chmod(rodir, 0o755)
    # Locked: a bounded wait, then one line.
    fd = hold_writer_lock(f)
    try:
        env = dict(os.environ, PSTKIT_LOCK_TIMEOUT="0.5")
        c.fails("locked by another writer", ["repair", f], 1, "timed out", [f], env=env)
    finally:
        os.close(fd)
    # A disk that fills up: writes past 64 KiB fail (RLIMIT_FSIZE, SIGXFSZ
    # ignored, so write(2) fails as on a full disk).
    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
    c.fails("full disk while writing the repaired file", ["repair", f], 1, f, [f], preexec=small_disk)
    c.expect("full disk: no temporary file, no backup", not temporary_files(c.work) and
             not os.path.exists(f + ".bak"), str(temporary_files(c.work)))
    # A 4K-page OST cannot be written: recover is suggested.
    ost = os.path.join(corpus, "pst-extractor-npm", "pstextractortest@outlook.com.ost")
    for d, _, names in os.walk(corpus):
        for n in names:
            if n.endswith(".ost") and "info" not in n:
                p = os.path.join(d, n)
                if c.run("info", "--json", p).stdout.find(b"4k") >= 0 or c.run("info", "--json", p).stdout.find(b"4K") >= 0:
                    ost = p
    if os.path.exists(ost):
        o = copy(ost, c.path("x.ost"))
        c.fails("4K-page OST: refused, recover suggested", ["repair", o], 1, "pstkit recover", [o])


def test_recover(c: Cli, corpus: str) -> None:
    rng = random.Random(8)
    sample = c.sample("recover-src.pst")
    inputs = {}
    inputs["an executable"] = copy("/bin/true", c.path("true.bin"))
    inputs["an empty file"] = c.path("empty.bin")
    open(inputs["an empty file"], "wb").close()
    inputs["random bytes"] = c.path("random.bin")
    with open(inputs["random bytes"], "wb") as f:
        f.write(bytes(rng.randrange(256) for _ in range(300_000)))
    inputs["a PST cut to 1 KiB"] = c.path("cut.pst")
    with open(sample, "rb") as s, open(inputs["a PST cut to 1 KiB"], "wb") as f:
        f.write(s.read(1024))
    inputs["a PST with its header zeroed"] = c.path("zeroed.pst")
    with open(sample, "rb") as s, open(inputs["a PST with its header zeroed"], "wb") as f:
        data = bytearray(s.read())
        data[0:564] = bytes(564)
        f.write(data)
    inputs["a damaged PST"] = damaged_sample(c, "recover-damaged.pst")
    for d, _, names in os.walk(corpus):
        for n in sorted(names):
            if n.endswith(".ost") and os.path.getsize(os.path.join(d, n)) < 5_000_000:
                inputs["OST " + n] = os.path.join(d, n)
    for what, src in inputs.items():
        before = digest(src)
        out = c.path("out-%d.pst" % len(os.listdir(c.work)))
        r = c.run("recover", src, out)
        problems = []
        if r.returncode != 0:
            problems.append(f"exit {r.returncode}: {common.one_line(r.stderr)}")
        elif c.run("check", out).returncode != 0:
            problems.append("OUT does not check clean")
        if digest(src) != before:
            problems.append("IN changed")
        if temporary_files(c.work):
            problems.append(f"left {temporary_files(c.work)}")
        if what in ("an executable", "an empty file", "random bytes") and r.returncode == 0:
            log = open(out + ".log", encoding="utf-8").read()
            if "nothing recognisable was found" not in log:
                problems.append("the log does not say nothing was found")
        c.report(f"recover {what}", problems)
        if what.startswith("OST") and r.returncode == 0:
            a = c.run("ls", "-r", "--json", src)
            b = c.run("ls", "-r", "--json", out)
            na = sum(1 for o in common.parse_json_lines(a.stdout)[0] if o.get("type") != "folder")
            nb = sum(1 for o in common.parse_json_lines(b.stdout)[0] if o.get("type") != "folder")
            c.expect(f"recover {what}: every item comes over", na == nb, f"{na} in the OST, {nb} in OUT")
            # The same content, item by item (NIDs are kept): OLE attachments
            # (PtypObject data that is not a message) once were dropped here.
            da, db = c.dump(src), c.dump(out)
            if da is None or db is None:
                c.expect(f"recover {what}: dump before and after", False)
            else:
                ia = {k: v for k, v in da.items() if v.get("type") == "item"}
                differ = [k for k in ia if db.get(k) != ia[k]]
                c.expect(f"recover {what}: every item's content equal", not differ,
                         "%d of %d differ, first nid %s" % (len(differ), len(ia), differ[0] if differ else ""))
    existing = c.path("exists.pst")
    open(existing, "w").write("keep me")
    c.fails("recover: OUT exists", ["recover", sample, existing], 1, "exists", [existing, sample])
    c.fails("recover: IN missing", ["recover", c.path("nope.pst"), c.path("never.pst")], 1, "nope.pst")
    c.expect("recover: IN missing leaves no OUT", not os.path.exists(c.path("never.pst")))


def write_locked(inode: int) -> bool:
    """Whether some process holds an OFD write lock on this inode."""
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            for line in fh:
                fields = line.split()
                if "OFDLCK" in fields and "WRITE" in fields and any(
                        x.count(":") == 2 and x.rsplit(":", 1)[1] == str(inode) for x in fields):
                    return True
    except OSError:
        pass
    return False


def test_waiting_writer(c: Cli) -> None:
    """A pstkit writer that waits for FILE's lock while repair replaces FILE
    writes into the repaired file, not into the old inode (the backup)."""
    make_large = os.path.join(os.path.dirname(c.pstkit), "make_large_pst")
    f = c.path("waiting.pst")
    if common.run([make_large, f, "1000", "1000000000", "1"], timeout=120).returncode != 0:
        c.expect("make_large_pst", False)
        return
    with open(f, "r+b") as fh:  # a block's bytes flipped: something to repair
        size = os.path.getsize(f)
        for at in range(size // 4, size * 3 // 4, size // 8):
            fh.seek(at)
            chunk = bytearray(fh.read(32))
            fh.seek(at)
            fh.write(bytes(b ^ 0xA5 for b in chunk))
    import time
    inode = os.stat(f).st_ino
    repair = subprocess.Popen([c.pstkit, "repair", "--quiet", f], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Start mkdir only once repair holds FILE's writer lock (an OFD write lock
    # on its inode in /proc/locks): a fixed sleep raced a fast repair on an
    # idle machine, and then mkdir had nothing to wait for.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and repair.poll() is None and not write_locked(inode):
        time.sleep(0.002)
    mkdir = common.run([c.pstkit, "mkdir", f, "AfterRepair"], timeout=120)
    repair.communicate(timeout=120)
    listing = c.run("ls", f).stdout.decode("utf-8", "replace")
    backup = c.run("ls", f + ".bak").stdout.decode("utf-8", "replace") if os.path.exists(f + ".bak") else ""
    c.expect("a writer waiting during repair writes the repaired file",
             repair.returncode == 0 and mkdir.returncode == 0 and b"waiting" in mkdir.stderr and
             "AfterRepair" in listing and
             "AfterRepair" not in backup and os.path.exists(f + ".bak") and c.run("check", f).returncode == 0,
             f"repair {repair.returncode}, mkdir {mkdir.returncode} {common.one_line(mkdir.stderr)}; "
             f"in FILE: {'AfterRepair' in listing}, in the backup: {'AfterRepair' in backup}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--make-sample", help="make_sample_pst (default: beside --pstkit)")
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    make_sample = args.make_sample or os.path.join(os.path.dirname(pstkit), "make_sample_pst")
    corpus = common.find_corpus(args.corpus)
    if corpus is None or not os.path.isdir(corpus):
        return common.skip_or_fail_missing_corpus(corpus, "test_repair_cli")
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-repair-cli-")
    try:
        c = Cli(pstkit, make_sample, work, summary)
        test_healthy_files(c, corpus)
        test_real_findings(c, corpus)
        test_backups_and_dry_run(c)
        test_bad_input(c, corpus)
        test_recover(c, corpus)
        test_waiting_writer(c)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
