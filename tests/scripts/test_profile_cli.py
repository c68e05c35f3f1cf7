#!/usr/bin/python3
"""pstkit profile: MAPI profiles from the command line (docs/MAPI.md,
README "Profiles").

Every run uses a fresh temporary PSTKIT_PROFILE_DIR (and a PSTKIT_MAPISVC_INF
that does not exist), so the user's own profiles are never touched. Checks
list/create/delete/add-pst/set-default/show, their exit codes (0, 1 with one
"pstkit: ..." line on stderr, 2 for usage), that a corrupt profile file is
reported by name and left as it was, that a bad system catalog line is a
warning naming file and line, and that eight concurrent `profile create`
processes lose no profile.

Usage: test_profile_cli.py --pstkit BIN
Closes with "N passed, M failed".
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-profile-cli-")
    env = dict(os.environ)
    env["PSTKIT_PROFILE_DIR"] = os.path.join(work, "profiles")
    env["PSTKIT_MAPISVC_INF"] = os.path.join(work, "no-such-mapisvc.inf")

    def run(*argv, extra_env=None):
        e = dict(env)
        if extra_env:
            e.update(extra_env)
        return subprocess.run([pstkit, "profile", *argv], capture_output=True, env=e, timeout=60, cwd=work)

    def check(name, ok, note=""):
        if ok:
            summary.ok(name, note)
        else:
            summary.error(name, note)

    def expect(name, result, code, out_has=None, err_has=None):
        out, err = result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
        problems = []
        if result.returncode != code:
            problems.append(f"exit {result.returncode}, expected {code}")
        if out_has is not None and out_has not in out:
            problems.append(f"stdout lacks {out_has!r}")
        if err_has is not None and err_has not in err:
            problems.append(f"stderr lacks {err_has!r}")
        if code == 1 and not err.startswith("pstkit: "):
            problems.append("no 'pstkit: ' error line")
        check(name, not problems, "; ".join(problems) + (f" (stdout {common.one_line(out)!r}, stderr "
                                                          f"{common.one_line(err)!r})" if problems else ""))
        return out

    try:
        out = expect("empty list", run("list"), 0)
        check("empty list prints nothing", out == "", repr(out))
        check("no file before the first change", not os.path.exists(os.path.join(env["PSTKIT_PROFILE_DIR"],
                                                                                   "profiles.json")))
        expect("create", run("create", "Work"), 0, out_has="created profile Work")
        expect("create second", run("create", "Home Mail"), 0)
        expect("create existing (any case)", run("create", "work"), 1, err_has="already exists")
        expect("create bad name", run("create", " lead"), 1, err_has="leading or trailing space")
        expect("create too long", run("create", "x" * 65), 1, err_has="64")
        expect("usage: create without name", run("create"), 2)
        expect("usage: unknown action", run("frobnicate"), 2)
        expect("set-default", run("set-default", "Home Mail"), 0)
        expect("set-default unknown", run("set-default", "Nope"), 1, err_has="no profile 'Nope'")
        out = expect("list", run("list"), 0)
        check("list rows", out == "Work\nHome Mail  (default)\n", repr(out))
        out = expect("list --json", run("list", "--json"), 0)
        try:
            rows = json.loads(out)["profiles"]
            check("list --json rows", rows == [{"name": "Work", "default": False},
                                               {"name": "Home Mail", "default": True}], repr(rows))
        except (ValueError, KeyError) as e:
            check("list --json rows", False, str(e))

        # add-pst: an existing file, a new one (--create), a missing one.
        existing = os.path.join(work, "existing.pst")
        r = subprocess.run([pstkit, "create", existing], capture_output=True, timeout=60)
        check("pstkit create for add-pst", r.returncode == 0, r.stderr.decode(errors="replace"))
        expect("add-pst existing", run("add-pst", "Work", existing, "--display", "Archive"), 0,
               out_has="MSUPST MS")
        expect("add-pst missing", run("add-pst", "Work", os.path.join(work, "missing.pst")), 1,
               err_has="no such file")
        check("add-pst missing created nothing", not os.path.exists(os.path.join(work, "missing.pst")))
        expect("add-pst --create --ansi (relative path)", run("add-pst", "Work", "new-ansi.pst", "--create", "--ansi"),
               0, out_has="(created)")
        r = subprocess.run([pstkit, "info", "--json", os.path.join(work, "new-ansi.pst")], capture_output=True,
                           timeout=60)
        try:
            fmt = json.loads(r.stdout).get("format") if r.returncode == 0 else None
        except ValueError:
            fmt = None
        check("created file is an ANSI PST", fmt == "ANSI", common.one_line(r.stdout + r.stderr))
        notpst = os.path.join(work, "notes.txt")
        open(notpst, "w").write("hello\n")
        expect("add-pst not a PST", run("add-pst", "Work", notpst), 1, err_has="not a PST")
        expect("add-pst unknown profile", run("add-pst", "Nope", existing), 1, err_has="no profile")
        expect("usage: --ansi without --create", run("add-pst", "Work", existing, "--ansi"), 2)

        out = expect("show", run("show", "Work"), 0, out_has="MSUPST MS")
        check("show names the path", existing in out and "PR_PST_PATH_W" in out, common.one_line(out))
        out = expect("show --json", run("show", "work", "--json"), 0)
        try:
            doc = json.loads(out)
            services = doc["services"]
            check("show --json services", [s["service_name"] for s in services] == ["MSUPST MS", "MSPST MS"]
                  and services[0]["display_name"] == "Archive"
                  and services[0]["providers"][0]["props"]["PR_PST_PATH_W"] == existing
                  and services[1]["providers"][0]["props"]["PR_PST_PATH_W"] == os.path.join(work, "new-ansi.pst")
                  and doc["default"] is False, common.one_line(out, 400))
        except (ValueError, KeyError, IndexError) as e:
            check("show --json services", False, f"{type(e).__name__}: {e}")
        expect("show unknown", run("show", "Nope"), 1, err_has="no profile")

        # A bad system catalog line is a warning with file and line.
        inf = os.path.join(work, "mapisvc.inf")
        open(inf, "w").write("[Services]\nline without equals\n")
        expect("catalog warning", run("add-pst", "Home Mail", existing, extra_env={"PSTKIT_MAPISVC_INF": inf}), 0,
               err_has=f"pstkit: warning: {inf}:2:")

        expect("delete", run("delete", "Home Mail"), 0, out_has="deleted profile Home Mail")
        expect("delete unknown", run("delete", "Home Mail"), 1, err_has="no profile")
        out = expect("list after delete", run("list"), 0)
        check("deleted profile gone, default cleared", out == "Work\n", repr(out))

        # A corrupt profile file is named and left as it was.
        path = os.path.join(env["PSTKIT_PROFILE_DIR"], "profiles.json")
        good = open(path, "rb").read()
        open(path, "wb").write(b'{"format": "something else"}')
        expect("corrupt file: list", run("list"), 1, err_has=path)
        expect("corrupt file: create", run("create", "Other"), 1, err_has=path)
        check("corrupt file untouched", open(path, "rb").read() == b'{"format": "something else"}')
        open(path, "wb").write(good)

        # Concurrent processes lose no update.
        procs = [subprocess.Popen([pstkit, "profile", "create", f"Concurrent {i}"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(8)]
        codes = [p.wait(timeout=60) for p in procs]
        out = expect("list after concurrent creates", run("list"), 0)
        made = {l for l in out.splitlines() if l.startswith("Concurrent ")}
        check("8 concurrent creates", codes == [0] * 8 and len(made) == 8, f"exit codes {codes}, listed {len(made)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
