#!/usr/bin/python3
"""The man pages: pstkit(1) and one pstkit-COMMAND(1) per command.

For the build directory of --pstkit (cmake/man_pages.cmake makes them with
help2man into BUILD/man):
  * every command `pstkit --help` lists has its page, and no page names a
    command that is gone;
  * each page renders with groff without a warning (-ww) and man reads it;
  * its NAME line is "pstkit-COMMAND - ..." and it has the sections a user
    looks for (SYNOPSIS, DESCRIPTION, OPTIONS, EXAMPLES, SEE ALSO);
  * every option the command's --help lists is in its page, and every
    command its SEE ALSO names has a page.
Skipped when the build has no man pages (help2man missing) outside CI; in
CI (help2man is among .ci/run's packages) that is a failure.

Usage: test_man_pages.py --pstkit BUILD/pstkit
Closes with "N passed, M failed".
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402


def commands(pstkit: str) -> list[str]:
    out = common.run([pstkit, "--help"], timeout=30).stdout
    out = out.decode() if isinstance(out, bytes) else out
    names, in_list = [], False
    for line in out.splitlines():
        if line.startswith("Subcommands:"):
            in_list = True
        elif in_list and re.match(r"^  (\S+)", line):
            names.append(line.split()[0])
    return names


def long_options(pstkit: str, command: str) -> list[str]:
    out = common.run([pstkit, command, "--help"], timeout=30).stdout
    out = out.decode() if isinstance(out, bytes) else out
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out)))


def render(page: str) -> tuple[str, str]:
    """The page as text, and groff's warnings."""
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-P-c", "-P-b", "-P-u", page],
                       capture_output=True, text=True, timeout=30)
    # groff may render hyphens as U+2010; compare with ASCII ones.
    return r.stdout.replace("\u2010", "-").replace("\u2212", "-"), r.stderr.strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    args = ap.parse_args()
    summary = common.Summary()
    man_dir = os.path.join(os.path.dirname(os.path.abspath(args.pstkit)), "man")
    if not os.path.isfile(os.path.join(man_dir, "pstkit.1")):
        if common.in_ci():
            summary.error("man pages", f"none in {man_dir} (is help2man installed?)")
        else:
            summary.skip("man pages", "not built: help2man missing")
        return summary.close()

    cmds = commands(args.pstkit)
    if not cmds:
        summary.error("pstkit --help", "lists no commands")
        return summary.close()
    pages = {"pstkit": os.path.join(man_dir, "pstkit.1")}
    pages.update({c: os.path.join(man_dir, f"pstkit-{c}.1") for c in cmds})
    for name, page in pages.items():
        if not os.path.isfile(page):
            summary.error(name, f"no page {os.path.basename(page)}")
    extra = sorted(f for f in os.listdir(man_dir)
                   if f.endswith(".1") and f[:-2].removeprefix("pstkit-") not in pages)
    if extra:
        summary.error("stale pages", ", ".join(extra))

    for name, page in pages.items():
        if not os.path.isfile(page):
            continue
        text, warnings = render(page)
        problems = []
        if warnings:
            problems.append("groff: " + common.one_line(warnings, 300))
        title = "pstkit" if name == "pstkit" else f"pstkit-{name}"
        if not re.search(rf"^NAME\n\s+{re.escape(title)}\s+-\s+\S", text, re.M):
            problems.append(f"NAME is not '{title} - ...'")
        for section in ("SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES", "SEE ALSO"):
            if not re.search(rf"^{section}$", text, re.M):
                problems.append(f"no {section} section")
        if name != "pstkit":
            flat = re.sub(r"\s+", " ", text)
            missing = [o for o in long_options(args.pstkit, name) if o not in flat]
            if missing:
                problems.append("options missing: " + " ".join(missing))
        see_also = text.split("SEE ALSO", 1)[-1]
        for ref in re.findall(r"pstkit-([a-z-]+)\(1\)", see_also):
            if ref not in pages:
                problems.append(f"SEE ALSO names pstkit-{ref}(1), which has no page")
        man = subprocess.run(["man", "-l", "-P", "cat", page], capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, MANWIDTH="80"))
        if man.returncode != 0 or title not in man.stdout.replace("\u2010", "-"):
            problems.append("man -l: " + common.one_line(man.stderr or man.stdout, 200))
        if problems:
            summary.diff(os.path.basename(page), problems)
        else:
            summary.ok(os.path.basename(page))
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
