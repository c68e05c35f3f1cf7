#!/usr/bin/python3
"""A FILE-journal that is not pstkit's is reported, never deleted.

Reading commands (info, ls, dump, check) exit 0, warn on stderr and read the
file as it is; writing commands (mkdir, import) refuse the file with a
one-line error naming the journal. Neither the PST nor the journal changes.

Usage: test_foreign_journal.py --pstkit BIN
Closes with "N passed, M failed".
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, text=True)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    work = tempfile.mkdtemp(prefix="pstkit-foreign-")
    passed = failed = 0
    try:
        pst = os.path.join(work, "t.pst")
        journal = pst + "-journal"
        mail = os.path.join(work, "m.eml")
        with open(mail, "w") as f:
            f.write("From: a@example.com\nSubject: hello\n\nbody\n")
        if run([pstkit, "create", pst]).returncode != 0:
            print("FAIL  create")
            print("0 passed, 1 failed")
            return 1
        for content in (b"another program's journal\n", b""):
            with open(journal, "wb") as f:
                f.write(content)
            before = (digest(pst), digest(journal))
            cases = [(["info", pst], 0), (["ls", pst], 0), (["dump", "--json", pst], 0), (["check", pst], 0),
                     (["mkdir", pst, "X"], 1), (["import", pst, mail], 1)]
            for cmd, want in cases:
                r = run([pstkit] + cmd)
                problems = []
                if r.returncode != want:
                    problems.append("exit %d, expected %d" % (r.returncode, want))
                if "not a pstkit journal" not in r.stderr:
                    problems.append("stderr does not name the journal: %r" % r.stderr.strip()[-200:])
                if want == 1 and len([l for l in r.stderr.splitlines() if l.startswith("pstkit:")]) != 1:
                    problems.append("not one line: %r" % r.stderr)
                if not os.path.exists(journal):
                    problems.append("the journal was deleted")
                    with open(journal, "wb") as f:
                        f.write(content)
                elif (digest(pst), digest(journal)) != before:
                    problems.append("the file or the journal changed")
                what = "%s (%d-byte journal)" % (cmd[0], len(content))
                if problems:
                    failed += 1
                    print("FAIL  %s: %s" % (what, "; ".join(problems)))
                else:
                    passed += 1
                    print("OK    %s" % what)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
