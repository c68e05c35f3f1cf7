#!/usr/bin/python3
"""Four `pstkit import` runs into one PST at once, with readers in loops.

Writers exclude each other with pstkit's writer lock and take turns at
batch boundaries; pstkit readers hold the readers lock, so a commit never
happens under them; libpff (which takes no lock) relies on the allocation
policy: space a commit frees is reused last and wiped late.

Meanwhile `pstkit dump --json` and libpff (tools/libpff_dump.py) read the
file in loops. Afterwards: every import exited 0, every message arrived
exactly once (count and subjects), `pstkit check` is clean, libpff sees every
message, and no reader ever failed.

Usage: test_concurrent.py --pstkit BIN [--messages N]
Closes with "N passed, M failed".
"""

import argparse
import os
import subprocess
import sys
import tempfile
import shutil
import time
from concurrent_readers import ReaderLoop, folder_subjects, judge_dump, judge_libpff  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WRITERS = 4
FOLDER = "Concurrent"


def write_mbox(path, writer, count):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for i in range(count):
            attachment = ""
            if i % 4 == 0:
                data = ("w%d-%05d " % (writer, i)) * (300 + 50 * i)
                attachment = ("--b\nContent-Type: text/plain; name=\"a%d.txt\"\n"
                              "Content-Disposition: attachment; filename=\"a%d.txt\"\n\n%s\n" % (i, i, data))
            out.write("From w%d@example.com Mon Jan  1 00:00:00 2024\n"
                      "From: Writer %d <w%d@example.com>\nTo: Receiver <r@example.com>\n"
                      "Subject: writer %d message %d\nDate: Mon, 1 Jan 2024 10:%02d:00 +0000\n"
                      "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                      "--b\nContent-Type: text/plain\n\nBody %d of writer %d\n%s--b--\n\n"
                      % (writer, writer, writer, writer, i, i % 60, i, writer, attachment))


def run(cmd, timeout=300):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--messages", type=int, default=150, help="messages per writer")
    ap.add_argument("--batch", type=int, default=10)
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    work = tempfile.mkdtemp(prefix="pstkit-concurrent-")
    problems = []
    try:
        pst = os.path.join(work, "shared.pst")
        r = run([pstkit, "create", pst])
        if r.returncode != 0:
            print("FAIL  create: %s" % r.stderr.strip())
            print("0 passed, 1 failed")
            return 1
        mboxes = []
        for w in range(WRITERS):
            path = os.path.join(work, "w%d.mbox" % w)
            write_mbox(path, w, args.messages)
            mboxes.append(path)
        readers = [
            ReaderLoop("pstkit dump", [pstkit, "dump", "--json", pst], judge_dump),
            ReaderLoop("libpff", ["/usr/bin/python3", os.path.join(REPO, "tools", "libpff_dump.py"), pst],
                       judge_libpff),
        ]
        for t in readers:
            t.start()
        env = dict(os.environ, PSTKIT_LOCK_TIMEOUT="120")
        t0 = time.monotonic()
        procs = [subprocess.Popen([pstkit, "import", pst, m, "--folder", FOLDER, "--batch", str(args.batch)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for m in mboxes]
        outs = [p.communicate(timeout=300) for p in procs]
        seconds = time.monotonic() - t0
        for t in readers:
            t.stop.set()
        for t in readers:
            t.join(timeout=120)
        for w, (p, (out, err)) in enumerate(zip(procs, outs)):
            if p.returncode != 0:
                problems.append("import %d exit %d: %s" % (w, p.returncode, err.strip()[-300:]))
        expected = sorted("writer %d message %d" % (w, i) for w in range(WRITERS) for i in range(args.messages))
        dump = run([pstkit, "dump", "--json", pst])
        if dump.returncode != 0:
            problems.append("final dump exit %d: %s" % (dump.returncode, dump.stderr.strip()[-300:]))
        else:
            got = sorted(folder_subjects(dump.stdout.splitlines(), FOLDER))
            if got != expected:
                missing = sorted(set(expected) - set(got))
                extra = len(got) - len(set(got))
                problems.append("pstkit sees %d messages, expected %d (missing %s, %d duplicates)"
                                % (len(got), len(expected), missing[:5], extra))
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
                problems.append("%s failed during the imports: %s" % (t.name, f))
            if len(t.failures) > 3:
                problems.append("%s failed %d times in all" % (t.name, len(t.failures)))
        summary = ("%d imports of %d messages (batches of %d) in %.1f s; reads meanwhile: %s"
                   % (WRITERS, args.messages, args.batch, seconds,
                      ", ".join("%s %d (%d failed)" % (t.name, t.runs, len(t.failures)) for t in readers)))
        if problems:
            print("FAIL  %s" % summary)
            for p in problems:
                print("      %s" % p)
        else:
            print("OK    %s" % summary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (0 if problems else 1, 1 if problems else 0))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
