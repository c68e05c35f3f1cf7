#!/usr/bin/python3
"""Kills a real `pstkit import` with SIGKILL at random moments, many times.

After each kill (docs/COMMIT_PROTOCOL.md):
  * libpff reads the file; what it sees (the import folder's item count) is
    recorded;
  * the reading commands (info, ls, dump, check) exit 0 and leave the
    file's bytes (and its journal's) unchanged; check finds no error; dump
    sees what libpff sees;
  * the import folder holds a whole number of committed batches: the state
    after some commit, never a partial one;
  * a writing command then runs (completing or undoing the interrupted
    commit), and libpff still sees what it saw: a state it saw is never
    undone.

Usage: test_kill.py --pstkit BIN [--rounds N] [--seed S]
Prints one line per round and closes with "N passed, M failed".
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

MESSAGES = 240
BATCH = 20


def write_mbox(path):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for i in range(MESSAGES):
            attachment = ""
            if i % 3 == 0:
                data = ("%06d" % i) * (1500 + 40 * i)
                attachment = ("--b\nContent-Type: text/plain; name=\"a%d.txt\"\n"
                              "Content-Disposition: attachment; filename=\"a%d.txt\"\n\n%s\n" % (i, i, data))
            out.write("From kill@example.com Mon Jan  1 00:00:00 2024\n"
                      "From: Sender <s@example.com>\nTo: Receiver <r@example.com>\n"
                      "Subject: Kill test %d\nDate: Mon, 1 Jan 2024 10:%02d:00 +0000\n"
                      "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                      "--b\nContent-Type: text/plain\n\nBody %d\n%s--b--\n\n" % (i, i % 60, i, attachment))


def run(cmd, timeout=120):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, text=True)


def folder_items(pstkit, pst, name):
    r = run([pstkit, "dump", "--json", pst])
    if r.returncode != 0:
        return None, "dump exit %d: %s" % (r.returncode, r.stderr.strip())
    for line in r.stdout.splitlines():
        o = json.loads(line)
        if o.get("type") == "folder" and o.get("path", [])[-1:] == [name]:
            return o["items"], ""
    return 0, ""  # the folder itself was not committed yet


def libpff_items(pst, name):
    """Items libpff counts in the folder called name (0 if absent), or None and why."""
    r = run(["/usr/bin/python3", os.path.join(REPO, "tools", "libpff_dump.py"), pst])
    if r.returncode != 0:
        return None, "libpff exit %d: %s" % (r.returncode, r.stderr.strip()[-200:])
    items = 0
    for line in r.stdout.splitlines():
        o = json.loads(line)
        if o.get("type") == "error":
            return None, "libpff: %s" % line[:200]
        if o.get("type") == "folder" and o.get("path", [])[-1:] == [name]:
            items = o["items"]
    return items, ""


def file_hashes(pst):
    """SHA-256 of the file, its journal and a temporary journal, where they exist."""
    out = {}
    for p in (pst, pst + "-journal", pst + "-journal.tmp"):
        if os.path.exists(p):
            with open(p, "rb") as f:
                out[os.path.basename(p)] = hashlib.sha256(f.read()).hexdigest()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("PSTKIT_KILL_ROUNDS", "30")))
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    rng = random.Random(args.seed)
    print("seed %d" % args.seed)
    work = tempfile.mkdtemp(prefix="pstkit-kill-")
    passed = failed = 0
    try:
        mbox = os.path.join(work, "mail.mbox")
        write_mbox(mbox)
        base = os.path.join(work, "base.pst")
        r = run([pstkit, "create", base])
        if r.returncode != 0:
            print("FAIL  create: %s" % r.stderr.strip())
            print("0 passed, 1 failed")
            return 1
        # How long a whole import takes, to spread the kills over it.
        full = os.path.join(work, "full.pst")
        shutil.copy(base, full)
        t0 = time.monotonic()
        r = run([pstkit, "import", full, mbox, "--folder", "Killed", "--batch", str(BATCH)])
        duration = time.monotonic() - t0
        if r.returncode != 0:
            print("FAIL  reference import: %s" % r.stderr.strip())
            print("0 passed, 1 failed")
            return 1
        for rnd in range(args.rounds):
            pst = os.path.join(work, "round.pst")
            for p in (pst, pst + "-journal", pst + "-journal.tmp"):
                if os.path.exists(p):
                    os.remove(p)
            shutil.copy(base, pst)
            delay = rng.uniform(0, duration * 1.1)
            proc = subprocess.Popen([pstkit, "import", pst, mbox, "--folder", "Killed", "--batch", str(BATCH)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            journal = os.path.exists(pst + "-journal")
            problems = []
            seen, err = libpff_items(pst, "Killed")
            if err:
                problems.append("before any pstkit command: " + err)
            before = file_hashes(pst)
            for cmd in (["info"], ["ls"], ["dump", "--json"], ["check"]):
                r = run([pstkit] + cmd + [pst])
                if r.returncode != 0:
                    problems.append("%s exit %d: %s" % (cmd[0], r.returncode, (r.stdout + r.stderr).strip()[-300:]))
            if file_hashes(pst) != before:
                problems.append("reading commands changed the file or its journal")
            items, err = folder_items(pstkit, pst, "Killed")
            if err:
                problems.append(err)
            elif items % BATCH != 0 and items != MESSAGES:
                problems.append("%d items: not a whole number of %d-message commits" % (items, BATCH))
            elif seen is not None and items != seen:
                problems.append("pstkit reads %d items, libpff %d" % (items, seen))
            # A writer recovers; what libpff saw stays.
            w = run([pstkit, "mkdir", pst, "After kill"])
            if w.returncode != 0:
                problems.append("mkdir after the kill: exit %d: %s" % (w.returncode, w.stderr.strip()[-300:]))
            after, err = libpff_items(pst, "Killed")
            if err:
                problems.append("after a writer: " + err)
            elif seen is not None and after != seen:
                problems.append("libpff saw %d items, and %d after a writer recovered: undone" % (seen, after))
            check = run([pstkit, "check", pst])
            if check.returncode != 0:
                problems.append("check after recovery exit %d: %s"
                                % (check.returncode, (check.stdout + check.stderr).strip()[-300:]))
            state = "killed after %.2fs%s, %s items" % (delay, " (journal left)" if journal else "", items)
            if problems:
                failed += 1
                print("FAIL  round %d: %s: %s" % (rnd, state, "; ".join(problems)))
            else:
                passed += 1
                print("OK    round %d: %s" % (rnd, state))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
