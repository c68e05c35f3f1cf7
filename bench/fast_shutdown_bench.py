#!/usr/bin/python3
"""Fast shutdown against the ordinary one (docs/MAPI.md "Fast shutdown").

Runs `mapi_shutdown_client fast|slow N` (from the build tree) on 5 new
stores, alternating the two modes, --runs times each. Both save the same N
messages per store and then shut down: `fast` by QueryFastShutdown,
NotifyProcessShutdown, DoFastShutdown and _exit(0); `slow` by releasing
every object, StoreLogoff, Logoff, MAPIUninitialize and exit. The time
measured is from the client's "shutdown_start" (CLOCK_MONOTONIC, printed
just before QueryFastShutdown or the first Release) to the moment wait4()
returns the client's exit status here (the same clock). Prints the median,
minimum and maximum of each mode in milliseconds, and checks with
`pstkit dump` after each fast run that every message is on disk.

  bench/fast_shutdown_bench.py [--build build] [--per-store 2000] [--runs 3]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

STORES = 5


def one_run(build, mode, n, work):
    pstkit = os.path.join(build, "pstkit")
    client = os.path.join(build, "mapi_shutdown_client")
    paths = [os.path.join(work, "s%d.pst" % s) for s in range(STORES)]
    for p in paths:
        if os.path.exists(p):
            os.remove(p)
        subprocess.run([pstkit, "create", p], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, PSTKIT_PROFILE_DIR=os.path.join(work, "profiles-" + mode),
               PSTKIT_POLICY_FILE=os.path.join(work, "no-policy.conf"))
    proc = subprocess.Popen([client, mode, str(n)] + paths, stdout=subprocess.PIPE, env=env)
    line = proc.stdout.readline().decode()
    _, status, _ = os.wait4(proc.pid, 0)
    end = time.monotonic_ns()
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0 or not line.startswith("shutdown_start "):
        sys.exit("%s run failed: status %d" % (mode, proc.returncode))
    elapsed_ms = (end - int(line.split()[1])) / 1e6
    if mode == "fast":
        for s, p in enumerate(paths):
            out = subprocess.run([pstkit, "dump", "--json", p], check=True, capture_output=True).stdout
            items = sum(1 for l in out.splitlines() if json.loads(l).get("type") == "item")
            if items != n:
                sys.exit("fast run: store %d has %d of %d messages" % (s, items, n))
    shutil.rmtree(env["PSTKIT_PROFILE_DIR"], ignore_errors=True)
    return elapsed_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--per-store", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    times = {"fast": [], "slow": []}
    with tempfile.TemporaryDirectory(prefix="pstkit-fastshut-bench-") as work:
        for r in range(args.runs):
            for mode in ("fast", "slow"):
                ms = one_run(build, mode, args.per_store, work)
                times[mode].append(ms)
                print("run %d %s: %.2f ms" % (r + 1, mode, ms), flush=True)
    print("%d stores x %d messages, %d runs each" % (STORES, args.per_store, args.runs))
    for mode, label in (("fast", "QueryFastShutdown .. exit"), ("slow", "Release/Logoff/MAPIUninitialize .. exit")):
        t = times[mode]
        print("%-42s median %8.2f ms  min %8.2f  max %8.2f" % (label, statistics.median(t), min(t), max(t)))


if __name__ == "__main__":
    main()
