#!/usr/bin/python3
"""`pstkit readpst` writes readpst's layouts.

For the generated sample and every corpus file that readpst itself reads,
in each layout (default, -r, -u, -k, -S, -M, -e), readpst 0.6 (`-j 0`, its
one-process mode, whose output does not depend on timing) and
`pstkit readpst` write into two directories, which must have:
  * the same directories (folders, with readpst's names and numbering);
  * every file readpst wrote. pstkit may write more: items readpst counts
    but leaves empty or cannot parse (listed in the note, never a
    directory);
  * for Thunderbird (-u), the same .type contents, and in .size the same
    stored count and at least readpst's count of items written.
And for pstkit alone: the output of -e and -r is byte-identical from one
run to the next; every .eml of -e parses with Python's email package
without a defect; `pstkit-readpst` (the installed name) is the same
program. Files readpst fails on are left out of the comparison; the
stability checks still run on those pstkit reads. The first of the two runs
of -e and -r is the one compared with readpst (its digest and .eml checks
are taken before its scratch directory goes), so each file is read 9 times,
not 11.

Usage: test_readpst_compat.py --pstkit BUILD/pstkit [--corpus DIR]
Closes with "N passed, M failed".
"""

import argparse
import email
import email.policy
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

LAYOUTS = {"default": [], "r": ["-r"], "u": ["-u"], "k": ["-k"], "S": ["-S"], "M": ["-M"], "e": ["-e"]}


def tree(root: str) -> tuple[set[str], set[str]]:
    dirs, files = set(), set()
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            dirs.add(os.path.relpath(os.path.join(dirpath, d), root))
        for f in filenames:
            files.add(os.path.relpath(os.path.join(dirpath, f), root))
    return dirs, files


def digest(root: str) -> dict[str, str]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def run_pstkit(pstkit: str, options: list[str], out: str, path: str) -> common.RunResult:
    os.makedirs(out, exist_ok=True)
    return common.run([pstkit, "readpst", "-q", *options, "-o", out, path], timeout=300)


def parse_problems(root: str) -> tuple[int, list[str]]:
    """(.eml files under root, the defects Python's email package finds in them)."""
    emls, problems = 0, []
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            if not f.endswith(".eml"):
                continue
            emls += 1
            with open(os.path.join(dirpath, f), "rb") as fh:
                msg = email.message_from_binary_file(fh, policy=email.policy.default)
            defects = list(msg.defects)
            for part in msg.walk():
                defects += part.defects
            if defects:
                problems.append(f"{f}: {defects[:2]}")
    return emls, problems


# Layouts whose pstkit output must be the same from one run to the next.
STABLE_LAYOUTS = ("e", "r")


def first_run_facts(layout: str, out: str) -> dict:
    """What the stability check needs of a first run of `layout` into out."""
    facts = {"digest": digest(out)}
    if layout == "e":
        facts["emls"] = parse_problems(out)
    return facts


def compare_layout(pstkit: str, path: str, layout: str, work: str,
                   first_runs: dict) -> tuple[bool | None, str]:
    options = LAYOUTS[layout]
    theirs, ours = os.path.join(work, "readpst"), os.path.join(work, "pstkit")
    os.makedirs(theirs)
    r = common.run(["readpst", "-q", "-j", "0", *options, "-o", theirs, path], timeout=300)
    if r.returncode != 0:
        return None, f"readpst cannot read it ({r.describe()})"
    p = run_pstkit(pstkit, options, ours, path)
    if p.returncode != 0:
        return False, f"pstkit readpst: {p.describe()}: {common.one_line(p.stderr)}"
    if layout in STABLE_LAYOUTS:
        first_runs[layout] = first_run_facts(layout, ours)
    their_dirs, their_files = tree(theirs)
    our_dirs, our_files = tree(ours)
    problems = []
    if their_dirs != our_dirs:
        problems.append("directories only readpst wrote: %s" % sorted(their_dirs - our_dirs)[:5])
        problems.append("directories only pstkit wrote: %s" % sorted(our_dirs - their_dirs)[:5])
    missing = sorted(their_files - our_files)
    if missing:
        problems.append(f"{len(missing)} files readpst wrote are missing: {missing[:5]}")
    if layout == "u":
        for f in sorted(their_files & our_files):
            if os.path.basename(f) in (".type", ".size"):
                a = open(os.path.join(theirs, f)).read()
                b = open(os.path.join(ours, f)).read()
                if os.path.basename(f) == ".size":
                    # "written stored": pstkit may write items readpst
                    # cannot parse (more written), never fewer.
                    wa, sa = (a.split() + ["", ""])[:2]
                    wb, sb = (b.split() + ["", ""])[:2]
                    same = sa == sb and wa.isdigit() and wb.isdigit() and int(wb) >= int(wa)
                else:
                    same = a == b
                if not same:
                    problems.append(f"{f}: readpst {a.strip()!r}, pstkit {b.strip()!r}")
    if problems:
        return False, "; ".join(problems)
    extra = sorted(our_files - their_files)
    note = f"{len(our_dirs)} dirs, {len(our_files)} files"
    if extra:
        note += f"; {len(extra)} more than readpst (items it leaves empty or skips): {extra[:3]}"
    return True, note


def check_stable_and_parsable(pstkit: str, path: str, first_runs: dict, work: str) -> tuple[bool, str]:
    """Runs each stable layout again (twice when compare_layout left no first
    run, e.g. readpst cannot read the file) and compares the outputs."""
    problems = []
    runs = {}
    for layout in STABLE_LAYOUTS:
        facts = [first_runs[layout]] if layout in first_runs else []
        while len(facts) < 2:
            out = os.path.join(work, f"{layout}{len(facts) + 1}")
            p = run_pstkit(pstkit, LAYOUTS[layout], out, path)
            if p.returncode != 0:
                return False, f"-{layout}: {p.describe()}: {common.one_line(p.stderr)}"
            facts.append(first_run_facts(layout, out) if not facts else {"digest": digest(out)})
            shutil.rmtree(out, ignore_errors=True)
        if facts[0]["digest"] != facts[1]["digest"]:
            problems.append(f"-{layout}: two runs differ")
        runs[layout] = facts[0]
    emls, defects = runs["e"]["emls"]
    problems += defects
    if problems:
        return False, "; ".join(problems[:5])
    return True, f"stable, {emls} .eml files parse"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    summary = common.Summary()
    if not shutil.which("readpst"):
        if common.in_ci():
            summary.error("readpst", "not installed (Debian package pst-utils)")
        else:
            summary.skip("readpst", "not installed")
        return summary.close()
    work = tempfile.mkdtemp(prefix="pstkit-readpst-")
    try:
        # The installed name runs the same command line.
        link = os.path.join(os.path.dirname(pstkit), "pstkit-readpst")
        v = common.run([link, "-V"], timeout=30)
        summary.result("pstkit-readpst -V", v.returncode == 0 and b"pstkit-readpst" in v.stdout,
                       common.one_line(v.stdout + v.stderr))
        bad = common.run([pstkit, "readpst", "-t", "x", "f.pst"], timeout=30)
        summary.result("usage error exit 2", bad.returncode == 2, common.one_line(bad.stderr))

        make = os.path.join(os.path.dirname(pstkit), "make_sample_pst")
        sample = os.path.join(work, "sample.pst")
        subprocess.run([make, sample], check=True, capture_output=True)
        targets = [("sample.pst", sample)]
        corpus = common.find_corpus(args.corpus)
        if corpus:
            for row in common.corpus_files(corpus):
                if not row.is_fragment:
                    targets.append((row.file, row.path))
        elif common.in_ci():
            summary.error("corpus", "not found")
        for name, path in targets:
            readable = True
            first_runs = {}  # layout -> first_run_facts of its compared pstkit run
            for layout in LAYOUTS:
                ok, note = common.in_scratch("pstkit-readpst-",
                                             lambda w: compare_layout(pstkit, path, layout, w, first_runs))
                if ok is None:
                    readable = False
                    summary.skip(name, note)
                    break
                summary.result(f"{name} [{layout}]", ok, note)
            if readable or common.run([pstkit, "info", path], timeout=60).returncode == 0:
                ok, note = common.in_scratch("pstkit-readpst-",
                                             lambda w: check_stable_and_parsable(pstkit, path, first_runs, w))
                summary.result(f"{name} [stable]", ok, note)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
