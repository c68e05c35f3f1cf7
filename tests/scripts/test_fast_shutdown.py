#!/usr/bin/python3
"""Fast shutdown keeps every saved message (issue 10 part 4; docs/MAPI.md "Fast shutdown").

`mapi_shutdown_client fast N` (next to --pstkit in the build tree) saves N
small messages into each of 5 new stores through CreateMessage, SetProps and
SaveChanges, then calls QueryFastShutdown, NotifyProcessShutdown and
DoFastShutdown on the session's IMAPIClientShutdown and `_exit(0)`s without
releasing anything. Afterwards every store passes `pstkit check`, and
`pstkit dump --json` finds in its folder "Shutdown" exactly the N subjects
"Shutdown s<store> m<i>".

N is --per-store (default $PSTKIT_FAST_SHUTDOWN_PER_STORE, else 2,000: the
issue's 10,000 messages, 5.4 s on a loaded 2-core machine with write-behind,
whose pending batches DoFastShutdown commits; CI's sanitizer stage sets 100).
Usage: test_fast_shutdown.py --pstkit BUILD/pstkit [--per-store N]
Closes with "N passed, M failed".
"""

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

STORES = 5


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--per-store", type=int, default=int(os.environ.get("PSTKIT_FAST_SHUTDOWN_PER_STORE", "2000")))
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    client = os.path.join(os.path.dirname(pstkit), "mapi_shutdown_client")
    summary = common.Summary()
    if not os.access(client, os.X_OK):
        summary.error("mapi_shutdown_client", "not built next to %s" % pstkit)
        return summary.close()
    n = args.per_store
    with tempfile.TemporaryDirectory(prefix="pstkit-fast-shutdown-") as work:
        paths = [os.path.join(work, "store%d.pst" % s) for s in range(STORES)]
        for p in paths:
            r = common.run([pstkit, "create", p], timeout=60)
            if r.returncode != 0:
                summary.error("create " + os.path.basename(p), r.describe())
                return summary.close()
        env = dict(os.environ, PSTKIT_PROFILE_DIR=os.path.join(work, "profiles"),
                   PSTKIT_POLICY_FILE=os.path.join(work, "no-policy.conf"))
        r = common.run([client, "fast", str(n)] + paths, timeout=1800, env=env)
        ok = r.returncode == 0 and b"shutdown_start" in r.stdout
        summary.result("client: %d messages x %d stores, DoFastShutdown, _exit(0)" % (n, STORES), ok,
                       r.describe() + " " + common.one_line(r.stderr, 300))
        if not ok:
            return summary.close()
        for s, p in enumerate(paths):
            name = os.path.basename(p)
            r = common.run([pstkit, "check", p], timeout=300)
            summary.result("check " + name, r.returncode == 0, common.one_line(r.stdout + r.stderr, 300))
            r = common.run([pstkit, "dump", "--json", p], timeout=300)
            objs, problems = common.parse_json_lines(r.stdout)
            subjects = sorted(o.get("subject", "") for o in objs
                              if o.get("type") == "item" and o.get("folder", [])[-1:] == ["Shutdown"])
            want = sorted("Shutdown s%d m%d" % (s, i) for i in range(n))
            missing = sorted(set(want) - set(subjects))
            summary.result("every message of %s is on disk" % name,
                           r.returncode == 0 and not problems and subjects == want,
                           "%d of %d; missing e.g. %s" % (len(subjects), n, missing[:3]))
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
