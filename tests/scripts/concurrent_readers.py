"""Readers run in loops while writers change a store: the concurrency tests
(test_concurrent.py, test_shared_store.py) share them."""

import json
import subprocess
import threading
import time

# Space a commit frees stays unused this long (WriterOptions::freed_space_quiet_time).
QUIET_SECONDS = 10.0


def run(cmd, timeout=600, env=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, text=True, env=env)


class ReaderLoop(threading.Thread):
    """Runs a reading command over and over until stopped; counts failures.

    lockless: a reader that takes no lock (libpff) is safe only while a run
    finishes within QUIET_SECONDS (docs/COMMIT_PROTOCOL.md); a failure of a
    longer run is listed in beyond_quiet, not failures."""

    def __init__(self, name, cmd, judge, lockless=False):
        super().__init__(daemon=True)
        self.name, self.cmd, self.judge, self.lockless = name, cmd, judge, lockless
        self.longest = 0.0
        self.beyond_quiet = []
        self.stop = threading.Event()
        self.runs = 0
        self.failures = []

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            r = run(self.cmd)
            took = time.monotonic() - t0
            self.runs += 1
            self.longest = max(self.longest, took)
            problem = self.judge(r)
            if problem and self.lockless and took > QUIET_SECONDS:
                self.beyond_quiet.append("%.1f s run: %s" % (took, problem))
            elif problem:
                self.failures.append(problem)


def judge_dump(r):
    if r.returncode != 0:
        return "dump exit %d: %s" % (r.returncode, r.stderr.strip()[-300:])
    try:
        for line in r.stdout.splitlines():
            json.loads(line)
    except ValueError as e:
        return "dump printed bad JSON: %s" % e
    return None


def judge_libpff(r):
    if r.returncode != 0:
        return "libpff exit %d: %s" % (r.returncode, r.stderr.strip()[-300:])
    for line in r.stdout.splitlines():
        o = json.loads(line)
        if o.get("type") == "error":
            return "libpff: %s" % line[:300]
    return None


def folder_subjects(lines, folder):
    """Subjects of the items in the folder named `folder`, from dump/libpff JSON lines."""
    subjects = []
    for line in lines:
        o = json.loads(line)
        if o.get("type") == "item" and o.get("folder", o.get("path", []))[-1:] == [folder]:
            subjects.append(o.get("subject", ""))
    return subjects
