#!/usr/bin/python3
"""Four writers of one PST at once, two through MAPI and two `pstkit import`,
while `pstkit dump` and libpff read it in loops (issue 10 part 1).

The MAPI writers (bench/mapi_create_messages: CreateMessage, SetProps,
ModifyRecipients and SaveChanges per message, through a profile and a
MAPILogonEx session) hold the writer lock only while a write-behind batch
is pending; the imports take turns with them at batch boundaries
(docs/MAPI.md "Shared stores", docs/COMMIT_PROTOCOL.md).

Afterwards: every writer exited 0, every message arrived exactly once
(count and subjects, through pstkit and libpff), `pstkit check` is clean,
and no reader failed: no `pstkit dump` (which takes the readers lock), and
no libpff run (which takes no lock) that finished within the 10 s quiet
time that protects lock-less readers (docs/COMMIT_PROTOCOL.md); a libpff
run that took longer (a loaded machine) and failed is printed as a NOTE.

First, a few seconds: saved changes pending (docs/COMMIT_PROTOCOL.md
"Saved changes pending"). A MAPI client (mapi_notify_client write) with
write-behind holding batches 10 s saves a message; `pstkit ls` and `pstkit
dump` run right after see it at once (the client commits at their request),
then a change of it; a third save is followed by SIGKILL of the client:
`pstkit ls` goes on at once, without the lost message, and `check` is clean.

Usage: test_shared_store.py --pstkit BIN [--messages N]   (N per writer, default 2500;
0 runs only the first part)
Closes with "N passed, M failed".
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import shutil
import time
from concurrent_readers import QUIET_SECONDS, ReaderLoop, folder_subjects, judge_dump, judge_libpff  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FOLDER = "Bench"  # the folder mapi_create_messages writes to
KINDS = ["mapi", "import", "mapi", "import"]
def run(cmd, timeout=600, env=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, text=True, env=env)


def pending_batches(pstkit, work):
    """The first part: problems found (empty when it passed) and a summary."""
    client = os.path.join(os.path.dirname(pstkit), "mapi_notify_client")
    if not os.access(client, os.X_OK):
        return ["%s not built" % client], ""
    pst = os.path.join(work, "pending.pst")
    for cmd in ([pstkit, "create", pst], [pstkit, "mkdir", pst, "Pending"]):
        r = run(cmd)
        if r.returncode != 0:
            return ["%s: %s" % (" ".join(cmd[:2]), r.stderr.strip())], ""
    env = dict(os.environ, PSTKIT_MAPI_FLUSH_MS="10000", PSTKIT_MAPI_BATCH="1000", PSTKIT_LOCK_TIMEOUT="20",
               PSTKIT_PROFILE_DIR=os.path.join(work, "pending-profiles"))
    proc = subprocess.Popen([client, "write", pst, "Pending"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    problems, took = [], []

    def step():
        proc.stdin.write("\n")
        proc.stdin.flush()
        line = proc.stdout.readline().strip()
        if not line.startswith("step "):
            problems.append("the client said %r: %s" % (line, proc.stderr.read()[-300:] if proc.poll() is not None else ""))
            return False
        return True

    def subjects_now(cmd_name):
        t0 = time.monotonic()
        if cmd_name == "ls":
            r = run([pstkit, "ls", pst], timeout=60)
        else:
            r = run([pstkit, "dump", "--json", pst], timeout=60)
        took.append(time.monotonic() - t0)
        if r.returncode != 0:
            problems.append("%s exit %d: %s" % (cmd_name, r.returncode, r.stderr.strip()[-300:]))
            return None
        return r.stdout

    try:
        # 1. "one" saved, pending: ls counts it, at once.
        if step():
            out = subjects_now("ls")
            line = next((l for l in (out or "").splitlines() if "Pending" in l), "")
            if out is not None and not re.search(r"\]\s+1 item\b", line):
                problems.append("ls after the first save: %r" % line)
        # 2. "one" changed, pending: dump shows the new subject.
        if not problems and step():
            out = subjects_now("dump")
            if out is not None and folder_subjects(out.splitlines(), "Pending") != ["one changed"]:
                problems.append("dump after the change: %s" % folder_subjects(out.splitlines(), "Pending"))
        # 3. "two" saved, then the client killed: the batch is lost, nobody waits.
        if not problems and step():
            proc.kill()
            proc.wait(timeout=30)
            out = subjects_now("dump")
            if out is not None and folder_subjects(out.splitlines(), "Pending") != ["one changed"]:
                problems.append("dump after the kill: %s" % folder_subjects(out.splitlines(), "Pending"))
            check = run([pstkit, "check", pst])
            if check.returncode != 0:
                problems.append("check exit %d: %s" % (check.returncode, (check.stdout + check.stderr).strip()[-300:]))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    # The client's delay is 10 s: a reader that waited for it took that long.
    if any(t >= 5.0 for t in took):
        problems.append("a reader took %s s (the batch's delay is 10 s)" % ", ".join("%.2f" % t for t in took))
    return problems, ("ls, dump, dump after saves pending 10 s, and after a SIGKILL: %s s"
                      % ", ".join("%.2f" % t for t in took))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--messages", type=int, default=int(os.environ.get("PSTKIT_SHARED_MESSAGES", "2500")),
                    help="messages per writer (default 2,500, or $PSTKIT_SHARED_MESSAGES: CI's sanitizer stage samples)")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    creator = os.path.join(os.path.dirname(pstkit), "mapi_create_messages")
    if not os.access(creator, os.X_OK):
        print("FAIL  %s not built" % creator)
        print("0 passed, 1 failed")
        return 1
    work = tempfile.mkdtemp(prefix="pstkit-shared-")
    problems = []
    passed = 0
    try:
        pending_problems, summary = pending_batches(pstkit, work)
        if pending_problems:
            print("FAIL  saved changes pending: %s" % summary)
            for p in pending_problems:
                print("      %s" % p)
        else:
            passed += 1
            print("OK    saved changes pending: %s" % summary)
        if args.messages == 0:
            print("%d passed, %d failed" % (passed, 1 - passed))
            return 0 if passed else 1

        pst = os.path.join(work, "shared.pst")
        for cmd in ([pstkit, "create", pst], [pstkit, "mkdir", pst, FOLDER]):
            r = run(cmd)
            if r.returncode != 0:
                print("FAIL  %s: %s" % (" ".join(cmd[:2]), r.stderr.strip()))
                print("0 passed, 1 failed")
                return 1
        n = args.messages
        env = dict(os.environ, PSTKIT_LOCK_TIMEOUT="120", PSTKIT_PROFILE_DIR=os.path.join(work, "profiles"))
        cmds = []
        for w, kind in enumerate(KINDS):
            if kind == "mapi":
                cmds.append([creator, "mapi", pst, str(n), str(w * n)])
            else:
                mbox = os.path.join(work, "w%d.mbox" % w)
                r = run([creator, "mbox", mbox, str(n), str(w * n)])
                if r.returncode != 0:
                    problems.append("mbox %d: %s" % (w, r.stderr.strip()))
                cmds.append([pstkit, "import", pst, mbox, "--folder", FOLDER])
        readers = [
            ReaderLoop("pstkit dump", [pstkit, "dump", "--json", pst], judge_dump),
            ReaderLoop("libpff", ["/usr/bin/python3", os.path.join(REPO, "tools", "libpff_dump.py"), pst],
                       judge_libpff, lockless=True),
        ]
        for t in readers:
            t.start()
        t0 = time.monotonic()
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for c in cmds]
        outs = [p.communicate(timeout=1200) for p in procs]
        seconds = time.monotonic() - t0
        for t in readers:
            t.stop.set()
        for t in readers:
            t.join(timeout=300)
        for w, (p, (out, err)) in enumerate(zip(procs, outs)):
            if p.returncode != 0:
                problems.append("%s writer %d exit %d: %s" % (KINDS[w], w, p.returncode, err.strip()[-300:]))
        expected = sorted("Bench message %d" % i for i in range(len(KINDS) * n))
        dump = run([pstkit, "dump", "--json", pst])
        if dump.returncode != 0:
            problems.append("final dump exit %d: %s" % (dump.returncode, dump.stderr.strip()[-300:]))
        else:
            got = sorted(folder_subjects(dump.stdout.splitlines(), FOLDER))
            if got != expected:
                missing = sorted(set(expected) - set(got))
                problems.append("pstkit sees %d messages, expected %d (missing %s, %d duplicates)"
                                % (len(got), len(expected), missing[:5], len(got) - len(set(got))))
        check = run([pstkit, "check", pst])
        if check.returncode != 0:
            problems.append("check exit %d: %s" % (check.returncode, (check.stdout + check.stderr).strip()[-300:]))
        lib = run(["/usr/bin/python3", os.path.join(REPO, "tools", "libpff_dump.py"), pst])
        if judge_libpff(lib):
            problems.append("final " + judge_libpff(lib))
        elif sorted(folder_subjects(lib.stdout.splitlines(), FOLDER)) != expected:
            problems.append("libpff sees %d messages, expected %d"
                            % (len(folder_subjects(lib.stdout.splitlines(), FOLDER)), len(expected)))
        for t in readers:
            for f in t.failures[:3]:
                problems.append("%s failed during the writes: %s" % (t.name, f))
            if len(t.failures) > 3:
                problems.append("%s failed %d times in all" % (t.name, len(t.failures)))
        summary = ("%d writers (%s) of %d messages each in %.1f s; reads meanwhile: %s"
                   % (len(KINDS), ", ".join(KINDS), n, seconds,
                      ", ".join("%s %d (%d failed, longest %.1f s)" % (t.name, t.runs, len(t.failures), t.longest)
                                for t in readers)))
        for t in readers:
            for f in t.beyond_quiet[:3]:
                print("NOTE  %s read for longer than the %.0f s quiet time and failed (not guaranteed): %s"
                      % (t.name, QUIET_SECONDS, f[:300]))
        if problems:
            print("FAIL  %s" % summary)
            for p in problems:
                print("      %s" % p)
        else:
            print("OK    %s" % summary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = (1 if problems else 0) + (1 - passed)
    print("%d passed, %d failed" % (passed + (0 if problems else 1), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
