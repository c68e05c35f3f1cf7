#!/usr/bin/python3
"""Kills `pstkit repair` with SIGKILL at many moments (docs/REPAIR.md, "The
commit point").

A generated store (make_large_pst) is damaged (bytes flipped in blocks and
pages), then, round after round, a fresh copy is repaired and the repair
killed at a random moment within its run time. After each kill:
  * FILE is byte-identical to the damaged original, or it is the repaired
    file (check exits 0);
  * FILE.bak, if made, is byte-identical to the damaged original;
  * `pstkit repair` run again exits 0, FILE checks clean, FILE.bak is the
    original (a backup link a killed run made is taken, not FILE.bak.1),
    and no temporary file is left.

Usage: test_repair_kill.py --pstkit BIN [--rounds N] [--messages N] [--seed S]
Rounds default to $PSTKIT_REPAIR_KILL_ROUNDS, else $PSTKIT_KILL_ROUNDS (CI's
sanitizer stage sets 8), else 8; messages to $PSTKIT_REPAIR_KILL_MESSAGES or
1000 (about 20 s in all). Closes with "N passed, M failed".
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def digest(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(cmd, timeout=300):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def damage(path: str, rng: random.Random) -> None:
    """Flips bytes at a few places between 10% and 90% of the file."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        for _ in range(6):
            at = rng.randrange(size // 10, size * 9 // 10)
            f.seek(at)
            chunk = bytearray(f.read(24))
            for i in range(len(chunk)):
                chunk[i] ^= 0xA5
            f.seek(at)
            f.write(chunk)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get(
        "PSTKIT_REPAIR_KILL_ROUNDS", os.environ.get("PSTKIT_KILL_ROUNDS", "8"))))
    ap.add_argument("--messages", type=int, default=int(os.environ.get("PSTKIT_REPAIR_KILL_MESSAGES", "1000")))
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    make_large = os.path.join(os.path.dirname(pstkit), "make_large_pst")
    rng = random.Random(args.seed)
    print("seed %d" % args.seed)
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-repair-kill-")
    try:
        damaged = os.path.join(work, "damaged.pst")
        # Messages without attachments: what this test is about is the
        # commit, so the damage must be one repair fixes completely (see
        # test_repair_cli.py and the damage sweep for what it cannot).
        r = run([make_large, damaged, str(args.messages), "1000000000", "1"])
        if r.returncode != 0:
            summary.error("make_large_pst", r.stderr.decode(errors="replace").strip())
            return summary.close()
        for _ in range(10):  # until a flip lands in a block or page, not in free space
            damage(damaged, rng)
            if run([pstkit, "check", damaged]).returncode == 1:
                break
        if run([pstkit, "check", damaged]).returncode != 1:
            summary.error("damage", "check finds no error in the damaged file")
            return summary.close()
        original = digest(damaged)
        # How long an uninterrupted repair takes, to spread the kills over it.
        full = os.path.join(work, "full.pst")
        shutil.copyfile(damaged, full)
        t0 = time.monotonic()
        r = run([pstkit, "repair", "--quiet", full])
        duration = time.monotonic() - t0
        if r.returncode != 0 or run([pstkit, "check", full]).returncode != 0:
            summary.error("uninterrupted repair", r.stderr.decode(errors="replace").strip()[:300])
            return summary.close()
        print("an uninterrupted repair takes %.2f s" % duration)

        for n in range(args.rounds):
            d = os.path.join(work, "round%d" % n)
            os.mkdir(d)
            f = os.path.join(d, "f.pst")
            shutil.copyfile(damaged, f)
            delay = rng.uniform(0, duration * 1.05)
            p = subprocess.Popen([pstkit, "repair", "--quiet", f], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            problems = []
            now = digest(f)
            state = "old"
            if now != original:
                state = "repaired"
                if run([pstkit, "check", f]).returncode != 0:
                    problems.append("FILE is neither the original nor a clean repaired file")
            backup = f + ".bak"
            if os.path.exists(backup) and digest(backup) != original:
                problems.append("FILE.bak is not the original")
            made_backup = os.path.exists(backup)
            again = run([pstkit, "repair", "--quiet", f])
            if again.returncode != 0:
                problems.append("repair again: exit %d: %s" % (again.returncode,
                                                              again.stderr.decode(errors="replace").strip()[:200]))
            elif run([pstkit, "check", f]).returncode != 0:
                problems.append("repair again: FILE does not check clean")
            if digest(backup) != original:
                problems.append("after repair again: FILE.bak is not the original")
            if os.path.exists(backup + ".1"):
                problems.append("after repair again: FILE.bak.1 made (the killed run's backup was not taken)")
            left = [x for x in os.listdir(d) if ".pstkit-" in x or x.endswith("-journal")]
            if left:
                problems.append("left behind: %s" % left)
            name = "round %d: killed at %.3f s (FILE %s%s)" % (n, delay, state, ", backup made" if made_backup else "")
            if problems:
                summary.diff(name, problems)
            else:
                summary.ok(name)
            shutil.rmtree(d, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
