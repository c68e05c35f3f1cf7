#!/usr/bin/python3
"""Notifications across processes (issues 9 and 10, docs/MAPI.md
"Notifications across processes").

Two MAPI processes share one store (tests/mapi_notify_client.cpp, next to
--pstkit). B listens: advised on the store, on folder "Watched" and on its
contents table, it makes no call. A writes, one step at a time: creates a
message, changes it, creates a second, creates a subfolder, moves the second
into it, deletes the first. After each step B receives exactly that step's
notifications (kind, object type, entry ID, parent ID, old IDs for the move;
the table's row event), each within a bounded time. Then `pstkit import`
of an mbox of N messages into the folder: B receives one TABLE_ROW_ADDED per
new row and one fnevObjectCreated per message.

Usage: test_shared_notify.py --pstkit BIN [--messages N]
Closes with "N passed, M failed".
"""

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

FOLDER = "Watched"
LIMIT = 5.0  # seconds a notification may take (the watch looks every 50 ms)


class Listener:
    def __init__(self, client, pst, env):
        self.proc = subprocess.Popen([client, "listen", pst, FOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put((time.monotonic(), None))

    def next(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return (time.monotonic(), "<nothing>")

    def drain(self, quiet):
        """Every line that arrives until none came for `quiet` seconds."""
        out = []
        while True:
            t, line = self.next(quiet)
            if line == "<nothing>" or line is None:
                return out
            out.append(line)

    def close(self):
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--messages", type=int, default=20)
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    client = os.path.join(os.path.dirname(pstkit), "mapi_notify_client")
    passed, failed = 0, 0

    def result(name, problems, note=""):
        nonlocal passed, failed
        if problems:
            failed += 1
            print("FAIL  %s" % name)
            for p in problems[:20]:
                print("      %s" % p)
        else:
            passed += 1
            print("ok    %s%s" % (name, ("  (" + note + ")") if note else ""))

    if not os.path.exists(client):
        print("FAIL  mapi_notify_client not built next to %s" % pstkit)
        print("0 passed, 1 failed")
        return 1
    work = tempfile.mkdtemp(prefix="pstkit-notify-")
    try:
        pst = os.path.join(work, "shared.pst")
        for cmd in ([pstkit, "create", pst], [pstkit, "mkdir", pst, FOLDER]):
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print("FAIL  %s: %s" % (" ".join(cmd[:2]), r.stderr.strip()))
                print("0 passed, 1 failed")
                return 1
        env = dict(os.environ, PSTKIT_PROFILE_DIR=os.path.join(work, "profiles"), PSTKIT_MAPI_BATCH="1",
                   PSTKIT_LOCK_TIMEOUT="20")

        # ---- a MAPI writer, step by step
        listener = Listener(client, pst, env)
        t, ready = listener.next(30)
        problems = []
        if not (ready or "").startswith("ready "):
            result("listener starts", ["got %r" % ready])
            listener.close()
            print("%d passed, %d failed" % (passed, failed + 1))
            return 1
        folder = ready.split()[1]
        writer = subprocess.Popen([client, "write", pst, FOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env, text=True)
        sub = None
        slowest = 0.0
        # step → (store sink line, folder sink line, table line or None), with
        # {id}, {folder}, {sub} filled in.
        expected = {
            1: ("obj created message {id} {folder} - -", "fobj created {id}", "row added one"),
            2: ("obj modified message {id} {folder} - -", "fobj modified {id}", "row modified one_changed"),
            3: ("obj created message {id} {folder} - -", "fobj created {id}", "row added two"),
            4: ("obj created folder {id} {folder} - -", "fobj created {id}", None),
            5: ("obj moved message {id} {sub} {id} {folder}", "fobj moved {id}", "row deleted -"),
            6: ("obj deleted message {id} {folder} - -", "fobj deleted {id}", "row deleted -"),
        }
        for step in range(1, 7):
            writer.stdin.write("go\n")
            writer.stdin.flush()
            said = writer.stdout.readline().strip()
            sent = time.monotonic()
            parts = said.split()
            if len(parts) != 3 or parts[:2] != ["step", str(step)]:
                problems.append("step %d: writer said %r" % (step, said))
                break
            oid = parts[2]
            if step == 4:
                sub = oid
            want = [w.format(id=oid, folder=folder, sub=sub) for w in expected[step] if w is not None]
            got = []
            first = None
            while len(got) < len(want):
                t, line = listener.next(LIMIT)
                if line is None or line == "<nothing>":
                    break
                first = first or t
                got.append(line)
            got += listener.drain(0.3)  # nothing more for the step
            if first is not None:
                slowest = max(slowest, first - sent)
            if sorted(got) != sorted(want):
                problems.append("step %d: expected %s, got %s" % (step, want, got))
        writer.stdin.close()
        if writer.wait(timeout=60) != 0:
            problems.append("writer exited %s" % writer.returncode)
        rc = listener.close()
        if rc != 0:
            problems.append("listener exited %s" % rc)
        result("MAPI writer: create, modify, create, mkdir, move, delete reach the listener", problems,
               "slowest %.0f ms after the writer's step returned" % (slowest * 1000))

        # ---- `pstkit import` as the writer
        listener = Listener(client, pst, env)
        t, ready = listener.next(30)
        problems = []
        n = args.messages
        mbox = os.path.join(work, "in.mbox")
        with open(mbox, "w") as f:
            for i in range(n):
                f.write("From sender@example.com Mon Jan  1 00:00:00 2024\n"
                        "From: sender@example.com\nTo: you@example.com\nSubject: imported %d\n"
                        "Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody %d\n\n" % (i, i))
        if not (ready or "").startswith("ready "):
            problems.append("listener: %r" % ready)
        else:
            started = time.monotonic()
            r = subprocess.run([pstkit, "import", pst, mbox, "--folder", FOLDER], capture_output=True, text=True,
                               env=env)
            if r.returncode != 0:
                problems.append("import: %s" % r.stderr.strip())
            lines = []
            deadline = time.monotonic() + LIMIT
            while sum(1 for x in lines if x.startswith("row ")) < n and time.monotonic() < deadline:
                t, line = listener.next(max(0.01, deadline - time.monotonic()))
                if line is None or line == "<nothing>":
                    break
                lines.append(line)
            lines += listener.drain(0.3)
            rows = [x for x in lines if x.startswith("row ")]
            objs = [x for x in lines if x.startswith("obj ")]
            want_rows = sorted("row added imported_%d" % i for i in range(n))
            if sorted(rows) != want_rows:
                problems.append("rows: expected %d added, got %s" % (n, rows[:10]))
            created = [x for x in objs if x.split()[1:3] == ["created", "message"] and x.split()[4] == ready.split()[1]]
            if len(created) != n or len(objs) != n:
                problems.append("objects: expected %d created messages in the folder, got %s" % (n, objs[:10]))
            note = "%d messages, all notified %.0f ms after the import started" % (n, (time.monotonic() - started) * 1000)
        rc = listener.close()
        if rc != 0:
            problems.append("listener exited %s" % rc)
        result("pstkit import: one TABLE_ROW_ADDED and one fnevObjectCreated per message", problems,
               note if not problems else "")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
