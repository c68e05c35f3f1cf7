#!/usr/bin/python3
"""MAPICrashRecovery and "did not close properly" with real crashes (issue 10
parts 2 and 3, docs/MAPI.md "Crash recovery").

The client is tests/mapi_crash_client.cpp (`mapi_crash_client` next to
--pstkit): it opens 3 stores through MAPI, saves N messages (printing each
once SaveChanges returned), then, by variant:

  * segv: crashes with SIGSEGV; the handlers of PstkitInstallCrashHandlers
    run MAPICrashRecovery(MAPICRASH_RECOVER) and stop it (SIGSTOP). While it
    lives, `pstkit dump`, `pstkit check` and another MAPI process are refused
    every store, naming the crash recovery; after SIGKILL every saved
    message is in the files, they check clean, and the next MAPI open
    reports no improper close;
  * continue: its own handler recovers, stops, then (after SIGCONT) calls
    MAPICRASH_CONTINUE and stops again: the stores read again; killed
    after that, the next open reports the improper close;
  * kill: no handler, SIGKILL: the files hold every saved message (each
    SaveChanges committed), check clean, and the next MAPI open reports
    "did not close properly" and the check's result;
  * midupdate: PSTKIT_FAULT_SIGSEGV_IN_COMMIT crashes message N's save in
    the middle of its update: that store is not flushed nor locked (its
    message is absent, the file checks clean, the next open reports the
    improper close); the other two are locked, then clean.

Then --rounds rounds (20) of a random variant after a random number of
messages: never a damaged file, never a saved message lost.

Usage: test_crash_recovery.py --pstkit BIN [--rounds N] [--seed S]
Closes with "N passed, M failed".
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

FOLDER_COMMITS = 3  # the client's three CreateFolder calls commit before any message


class Client:
    def __init__(self, client, work, mode, n, stores, extra_env=None):
        self.out_path = os.path.join(work, "client-%d.out" % time.monotonic_ns())
        self.out = open(self.out_path, "wb")
        env = dict(os.environ, PSTKIT_PROFILE_DIR=os.path.join(work, "profiles"), PSTKIT_LOCK_TIMEOUT="5")
        env.update(extra_env or {})
        self.proc = subprocess.Popen([client, "run", mode, str(n)] + stores, stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)

    def text(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def saved(self):
        """{store index: [subjects]} of the messages whose save returned."""
        out = {}
        for line in self.text().splitlines():
            if line.startswith("saved "):
                _, k, subject = line.split(" ", 2)
                out.setdefault(int(k), []).append(subject)
        return out

    def state(self):
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return None

    def wait_for(self, what, timeout=60):
        """what: "stopped" or a line of output. False if it ended or timed out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if what == "stopped" and self.state() == "T":
                return True
            if what != "stopped" and ("\n" + what + "\n") in ("\n" + self.text()):
                return True
            time.sleep(0.02)
        return False

    def kill(self):
        try:
            self.proc.send_signal(signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(timeout=30)
        self.out.close()


def subjects_committed(store):
    """Subjects as libpff reads them: the committed state, without asking a
    process for its pending write-behind batch as `pstkit dump` does
    (docs/COMMIT_PROTOCOL.md "Saved changes pending"); None if it fails."""
    tool = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "tools", "libpff_dump.py")
    r = common.run(["/usr/bin/python3", tool, store], timeout=120)
    objs, problems = common.parse_json_lines(r.stdout)
    if r.returncode != 0 or problems:
        return None
    return {o.get("subject") for o in objs if o.get("type") == "item"}


def subjects_in(pstkit, store):
    r = common.run([pstkit, "dump", store], timeout=120)
    objs, problems = common.parse_json_lines(r.stdout)
    return r, {o.get("subject") for o in objs if o.get("type") == "item"} if not problems else None


def open_through_mapi(client, work, store):
    env = dict(os.environ, PSTKIT_PROFILE_DIR=os.path.join(work, "profiles"), PSTKIT_LOCK_TIMEOUT="5")
    r = common.run([client, "open", store], timeout=120, env=env)
    text = r.stdout.decode("utf-8", "replace")
    reports = [l[len("report "):] for l in text.splitlines() if l.startswith("report ")]
    return r, reports


def refused(r):
    return r.returncode == 1 and b"locked by crash recovery of pid" in r.stderr and b"MAPICrashRecovery" in r.stderr


def check_round(summary, name, pstkit, client, work, mode, n, full):
    stores = [os.path.join(work, x + ".pst") for x in ("a", "b", "c")]
    extra = {}
    if mode in ("kill", "midupdate"):
        # Without RECOVER a process leaves its last commit. With write-behind
        # that is not every save that returned (saves wait up to
        # $PSTKIT_MAPI_FLUSH_MS); one commit per SaveChanges makes "every
        # saved message survives" checkable, and the fault point's commit
        # count a count of saves. The RECOVER variants keep write-behind: they
        # show it flushes what is pending.
        extra["PSTKIT_MAPI_BATCH"] = "1"
    crashed_store = None
    if mode == "midupdate":
        extra["PSTKIT_FAULT_SIGSEGV_IN_COMMIT"] = str(FOLDER_COMMITS + n + 1)
        crashed_store = n % 3
    # midupdate: message n's save crashes, so n + 1 are attempted.
    c = Client(client, work, "continue" if mode == "continue" else ("wait" if mode == "kill" else "segv"),
               n + 1 if mode == "midupdate" else n, stores, extra)
    problems = []
    try:
        if not c.wait_for("waiting" if mode == "kill" else "stopped"):
            summary.error(name, "the client did not reach its crash: " + common.one_line(c.text(), 400))
            return
        saved = c.saved()
        if sum(len(v) for v in saved.values()) != n:
            problems.append("saved %d messages, not %d" % (sum(len(v) for v in saved.values()), n))
        locked = [] if mode == "kill" else [k for k in range(3) if k != crashed_store]
        # While it lives: the locked stores are refused to every pstkit command
        # and to other MAPI processes, at once and naming the crash recovery.
        for k in (locked if full else locked[:1]):
            for cmd in (["dump"], ["check"]) if full else (["dump"],):
                r = common.run([pstkit] + cmd + [stores[k]], timeout=60)
                if not refused(r):
                    problems.append("%s of store %d while crash-locked: %s %s" % (
                        cmd[0], k, r.describe(), common.one_line(r.stderr, 200)))
            r, _ = open_through_mapi(client, work, stores[k])
            if r.returncode != 3:
                problems.append("another MAPI process opened store %d while crash-locked: %s %s" % (
                    k, r.describe(), common.one_line(r.stdout + r.stderr, 200)))
        if crashed_store is not None:
            # Not flushed, not locked: readable as the last commit left it.
            r, subjects = subjects_in(pstkit, stores[crashed_store])
            if r.returncode != 0 or subjects is None:
                problems.append("the store crashed mid-update is not readable: " + common.one_line(r.stderr, 200))
        if mode == "continue":
            c.proc.send_signal(signal.SIGCONT)
            if not c.wait_for("continued") or not c.wait_for("stopped"):
                problems.append("no CONTINUE: " + common.one_line(c.text(), 300))
            for k in range(3):
                r, subjects = subjects_in(pstkit, stores[k])
                if r.returncode != 0:
                    problems.append("store %d still refused after MAPICRASH_CONTINUE: %s" % (
                        k, common.one_line(r.stderr, 200)))
    finally:
        c.kill()
    # After the process ended: every saved message is there, every file checks clean.
    for k in range(3):
        r, subjects = subjects_in(pstkit, stores[k])
        if r.returncode != 0 or subjects is None:
            problems.append("dump of store %d after the kill: %s %s" % (k, r.describe(), common.one_line(r.stderr, 200)))
            continue
        missing = [s for s in saved.get(k, []) if s not in subjects]
        if missing:
            problems.append("store %d lost saved messages: %s" % (k, missing[:3]))
        if k == crashed_store:
            half = [s for s in subjects if s and s.endswith(" message %d" % n)]
            if half:
                problems.append("store %d holds the message whose save crashed mid-update" % k)
        r = common.run([pstkit, "check", stores[k]], timeout=120)
        if r.returncode != 0:
            problems.append("check of store %d: %s" % (k, common.one_line(r.stdout + r.stderr, 300)))
    # The next open reports an improper close exactly where nothing closed the store.
    for k in (range(3) if full else [random.randrange(3)]):
        improper_expected = mode in ("kill", "continue") or k == crashed_store
        r, reports = open_through_mapi(client, work, stores[k])
        if r.returncode != 0:
            problems.append("MAPI open of store %d after the kill: %s %s" % (
                k, r.describe(), common.one_line(r.stdout + r.stderr, 200)))
            continue
        if improper_expected:
            if not any(x.startswith("Did not close properly; checked: no errors") for x in reports):
                problems.append("store %d: no improper-close report with a clean check: %s" % (k, reports))
        elif reports:
            problems.append("store %d: an improper-close report after a clean crash recovery: %s" % (k, reports))
        # That open closed it cleanly: the one after reports nothing.
        if improper_expected and full:
            r, reports = open_through_mapi(client, work, stores[k])
            if reports:
                problems.append("store %d: reported again after a clean close: %s" % (k, reports))
    if problems:
        summary.diff(name, problems)
    else:
        summary.ok(name, "%d messages" % n)


def check_sigterm(summary, name, pstkit, client, work, n):
    """A client with PstkitInstallCrashHandlers and saved messages still in
    its write-behind batches gets a real SIGTERM: they are flushed (and the
    stores locked until it ends), it dies of the signal, and afterwards the
    files hold every saved message, check clean and open with no
    "did not close properly" report."""
    stores = [os.path.join(work, x + ".pst") for x in ("a", "b", "c")]
    # Batches that would stay pending for 10 s: only the handler's flush
    # writes them before the process ends.
    extra = {"PSTKIT_MAPI_BATCH": "100000", "PSTKIT_MAPI_FLUSH_MS": "10000"}
    c = Client(client, work, "term", n, stores, extra)
    problems = []
    try:
        if not c.wait_for("waiting"):
            summary.error(name, "the client did not save its messages: " + common.one_line(c.text(), 400))
            return
        saved = c.saved()
        before = {k: subjects_committed(stores[k]) or set() for k in range(3)}
        pending = sum(1 for k in range(3) for s in saved.get(k, []) if s not in before[k])
        if pending == 0:
            problems.append("no saved message was pending before SIGTERM: the test shows nothing")
        c.proc.send_signal(signal.SIGTERM)
        try:
            rc = c.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        if rc != -signal.SIGTERM:
            problems.append("the client ended with %r, not by SIGTERM" % rc)
    finally:
        c.kill()
    for k in range(3):
        r, subjects = subjects_in(pstkit, stores[k])
        if r.returncode != 0 or subjects is None:
            problems.append("dump of store %d: %s %s" % (k, r.describe(), common.one_line(r.stderr, 200)))
            continue
        missing = [s for s in saved.get(k, []) if s not in subjects]
        if missing:
            problems.append("store %d lost saved messages: %s" % (k, missing[:3]))
        r = common.run([pstkit, "check", stores[k]], timeout=120)
        if r.returncode != 0:
            problems.append("check of store %d: %s" % (k, common.one_line(r.stdout + r.stderr, 300)))
        r, reports = open_through_mapi(client, work, stores[k])
        if r.returncode != 0:
            problems.append("MAPI open of store %d: %s %s" % (k, r.describe(), common.one_line(r.stdout + r.stderr, 200)))
        elif reports:
            problems.append("store %d: an improper-close report after SIGTERM's recovery: %s" % (k, reports))
    if problems:
        summary.diff(name, problems)
    else:
        summary.ok(name, "%d messages, %d of them pending at SIGTERM" % (n, pending))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("PSTKIT_CRASH_ROUNDS", "20")),
                    help="random rounds (default 20, or $PSTKIT_CRASH_ROUNDS: CI's sanitizer stage samples)")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    client = os.path.join(os.path.dirname(pstkit), "mapi_crash_client")
    summary = common.Summary()
    if not os.path.exists(client):
        summary.error("mapi_crash_client", "not built next to " + pstkit)
        return summary.close()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print("seed %d" % seed, flush=True)
    rng = random.Random(seed)
    random.seed(seed)

    def scratch(name, mode, n, full):
        work = tempfile.mkdtemp(prefix="pstkit-crashrec-")
        try:
            check_round(summary, name, pstkit, client, work, mode, n, full)
        except Exception as e:  # a failure of this round, not of the run
            summary.error(name, "%s: %s" % (type(e).__name__, e))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    for mode in ("segv", "continue", "kill", "midupdate"):
        scratch(mode, mode, 6, True)
    work = tempfile.mkdtemp(prefix="pstkit-crashrec-")
    try:
        check_sigterm(summary, "sigterm: write-behind flushed, no improper close", pstkit, client, work, 9)
    except Exception as e:
        summary.error("sigterm", "%s: %s" % (type(e).__name__, e))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for i in range(args.rounds):
        mode = rng.choice(["segv", "kill", "midupdate", "segv"])
        n = rng.randrange(0 if mode != "midupdate" else 0, 12)
        scratch("round %d: %s after %d" % (i + 1, mode, n), mode, n, False)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
