#!/usr/bin/python3
"""`pstkit export --jobs`, `--resume`, `--type`, the progress bar, `readpst -j`.

  * --jobs 3 writes the same tree as --jobs 1 (file names, bytes, Maildir
    file times, manifest.json) for eml, mbox and maildir on the generated
    sample and on a corpus OST, and for msg and thunderbird on the sample;
  * `pstkit readpst -j 3` writes the same tree and prints the same lines as
    `-j 0`, in the -e (one file per item) and -r (mbox) layouts;
  * an export killed with SIGKILL half way (the test-only fault injection
    PSTKIT_TEST_EXPORT_KILL_AFTER) leaves its journal and no manifest; a
    plain rerun is refused (exit 2, naming --resume), as are --resume with
    --overwrite and --resume with other options; --resume then finishes it
    into the same tree and manifest as an export never interrupted, for eml
    (killed with 3 jobs, resumed with 1, a file damaged in between, which is
    written again; and killed, resumed, killed again and resumed), mbox and
    maildir; --resume of a finished export changes
    nothing, --resume where there was no export is a usage error, and a
    damaged journal is an error that says so;
  * --type appointment exports just the appointments and meeting items
    dump lists (as .msg, on the corpus OST), counts the rest per folder as
    skipped_by_filter (found = exported + skipped_by_filter + failed) and
    exits 0; an unknown type is a usage error;
  * under a pseudo-terminal the progress bar is drawn on stderr (items done
    of the total); with stderr a pipe, or with -q, nothing is.

Usage: test_export_jobs.py --pstkit BUILD/pstkit [--corpus DIR]
Closes with "N passed, M failed".
"""

import argparse
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

JOURNAL = ".pstkit-export-journal"
CORPUS_OST = "aspose-net/SampleOstFile.ost"  # folders of mail, appointments, meetings, contacts


def tree(root):
    """{relative path: (bytes, mtime for Maildir files)} of every file below root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            with open(p, "rb") as fh:
                data = fh.read()
            mtime = int(os.stat(p).st_mtime) if "/cur/" in "/" + rel else None
            out[rel] = (data, mtime)
    return out


def tree_diff(a, b):
    lines = [f"only in the first: {k}" for k in sorted(a.keys() - b.keys())]
    lines += [f"only in the second: {k}" for k in sorted(b.keys() - a.keys())]
    lines += [f"differs: {k}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return lines


def export(pstkit, pst, out, *extra, env=None):
    return common.run([pstkit, "export", "-q", "-o", out, *extra, pst], timeout=120, env=env)


def manifest_of(out):
    p = os.path.join(out, "manifest.json")
    return json.load(open(p)) if os.path.isfile(p) else None


def check_jobs(pstkit, pst, name, fmt, work, summary):
    one, three = os.path.join(work, "j1"), os.path.join(work, "j3")
    r1 = export(pstkit, pst, one, "--format", fmt, "--jobs", "1")
    r3 = export(pstkit, pst, three, "--format", fmt, "--jobs", "3")
    label = f"{name} {fmt} --jobs 3"
    if r1.returncode not in (0, 3) or r3.returncode != r1.returncode:
        summary.error(label, f"exit {r1.returncode} and {r3.returncode}: {common.one_line(r3.stderr)}")
    else:
        a, b = tree(one), tree(three)
        diff = tree_diff(a, b)
        if diff:
            summary.diff(label, diff)
        else:
            summary.ok(label, f"{len(a)} files identical to --jobs 1")
    shutil.rmtree(one, ignore_errors=True)
    shutil.rmtree(three, ignore_errors=True)


def check_readpst_jobs(pstkit, pst, name, layout, work, summary):
    outs = []
    for jobs in ("0", "3"):
        out = os.path.join(work, "readpst" + jobs)
        os.makedirs(out)
        r = common.run([pstkit, "readpst", layout, "-j", jobs, "-o", out, pst], timeout=120)
        outs.append((r, tree(out)))
        shutil.rmtree(out, ignore_errors=True)
    (r0, t0), (r3, t3) = outs
    label = f"{name} readpst {layout} -j 3"
    if r0.returncode != 0 or r3.returncode != 0:
        summary.error(label, f"exit {r0.returncode} and {r3.returncode}: {common.one_line(r3.stderr)}")
    elif tree_diff(t0, t3) or r0.stdout != r3.stdout:
        summary.diff(label, tree_diff(t0, t3) + (["stdout differs"] if r0.stdout != r3.stdout else []))
    else:
        summary.ok(label, f"{len(t0)} files and stdout identical to -j 0")


def check_resume(pstkit, pst, name, fmt, work, summary, kill_jobs, resume_jobs, damage=False, refusals=False,
                 twice=False):
    label = f"{name} {fmt} --resume"
    clean, broken = os.path.join(work, "clean"), os.path.join(work, "broken")
    try:
        rc = export(pstkit, pst, clean, "--format", fmt)
        found = sum(f.get("found", 0) for s in manifest_of(clean)["sources"] for f in s["folders"])
        env = dict(os.environ, PSTKIT_TEST_EXPORT_KILL_AFTER=str(max(1, found // 2)))
        rk = export(pstkit, pst, broken, "--format", fmt, "--jobs", kill_jobs, env=env)
        if rk.returncode != -9 or manifest_of(broken) is not None or \
                not os.path.isfile(os.path.join(broken, JOURNAL)):
            summary.error(label, f"the killed export: exit {rk.returncode}, manifest "
                          f"{manifest_of(broken) is not None}, journal {os.path.isfile(os.path.join(broken, JOURNAL))}")
            return
        r = export(pstkit, pst, broken, "--format", fmt) if refusals else None
        if r and (r.returncode != 2 or b"--resume" not in r.stderr):
            summary.error(label, f"a rerun without --resume: exit {r.returncode} {common.one_line(r.stderr)}")
            return
        r = export(pstkit, pst, broken, "--format", fmt, "--resume", "--overwrite") if refusals else None
        if r and r.returncode != 2:
            summary.error(label, f"--resume --overwrite: exit {r.returncode}")
            return
        other = "mbox" if fmt != "mbox" else "eml"
        r = export(pstkit, pst, broken, "--format", other, "--resume") if refusals else None
        if r and (r.returncode != 2 or b"other options" not in r.stderr):
            summary.error(label, f"--resume with another --format: exit {r.returncode} {common.one_line(r.stderr)}")
            return
        damaged = None
        if damage:
            # A file the journal names, changed since: --resume writes it again.
            journal = [json.loads(line) for line in open(os.path.join(broken, JOURNAL)) if line.endswith("\n")]
            named = [rec["files"][0][0] for rec in journal[1:] if rec.get("files")]
            damaged = named[0]
            with open(os.path.join(broken, damaged), "r+b") as f:
                f.write(b"XXXX")
        interrupted_twice = False
        if twice:
            # Resumed and killed again further on: the folder it was in has
            # its records in two parts of the journal, which the last
            # --resume reads as one.
            env = dict(os.environ, PSTKIT_TEST_EXPORT_KILL_AFTER=str(max(2, found * 3 // 4)))
            rk = export(pstkit, pst, broken, "--format", fmt, "--resume", "--jobs", kill_jobs, env=env)
            if rk.returncode != -9 or manifest_of(broken) is not None:
                summary.error(label, f"the resumed export killed again: exit {rk.returncode}")
                return
            interrupted_twice = True
        r = export(pstkit, pst, broken, "--format", fmt, "--resume", "--jobs", resume_jobs)
        diff = tree_diff(tree(clean), tree(broken))
        if r.returncode != rc.returncode or diff:
            summary.diff(label, [f"exit {r.returncode}, uninterrupted {rc.returncode}"] + diff)
            return
        # A finished export: nothing to resume, nothing changed.
        before = tree(broken)
        r2 = export(pstkit, pst, broken, "--format", fmt, "--resume")
        if r2.returncode != rc.returncode or tree_diff(before, tree(broken)):
            summary.error(label, f"--resume of a finished export: exit {r2.returncode}")
            return
        again = f", resumed and killed again after {found * 3 // 4}" if interrupted_twice else ""
        summary.ok(label, f"killed after {found // 2} of {found} items (jobs {kill_jobs}){again}, resumed (jobs "
                   f"{resume_jobs}{', one file damaged' if damaged else ''}): tree and manifest identical")
    finally:
        shutil.rmtree(clean, ignore_errors=True)
        shutil.rmtree(broken, ignore_errors=True)


def check_type_filter(pstkit, pst, name, work, summary):
    out = os.path.join(work, "appointments")
    r = export(pstkit, pst, out, "--type", "appointment", "--format", "msg")
    m = manifest_of(out)
    label = f"{name} --type appointment"
    if r.returncode != 0 or not m:
        summary.error(label, f"exit {r.returncode}: {common.one_line(r.stderr)}")
        return
    # The classes of the exported items, from dump.
    d = common.run([pstkit, "dump", "--json", pst], timeout=120)
    objs, _ = common.parse_json_lines(d.stdout)
    classes = {o["nid"]: o.get("class", "") for o in objs if o.get("type") == "item"}
    problems, exported, filtered = [], 0, 0
    for f in m["sources"][0]["folders"]:
        if "found" not in f:
            continue
        if f["found"] != f["exported"] + f.get("skipped_by_filter", -1) + len(f.get("failed", [])):
            problems.append(f"{f['path']}: found {f['found']} is not exported + skipped_by_filter + failed")
        exported += f["exported"]
        filtered += f.get("skipped_by_filter", 0)
    def appointment(cls):
        cls = cls.lower()
        return any(cls == c or cls.startswith(c + ".") for c in ("ipm.appointment", "ipm.schedule.meeting"))
    for p in m["files"]:
        nid = int(os.path.basename(p).split(".")[0])
        if not appointment(classes.get(nid, "")):
            problems.append(f"{p}: class {classes.get(nid)!r} is not an appointment")
    wanted = sum(1 for c in classes.values() if appointment(c))
    if exported == 0 or filtered == 0:
        problems.append(f"{exported} exported, {filtered} skipped by filter: the file needs both")
    if exported != wanted:
        problems.append(f"{exported} exported, but dump lists {wanted} appointments and meetings")
    if problems:
        summary.diff(label, problems)
    else:
        summary.ok(label, f"{exported} appointments and meetings exported (dump lists {wanted}), "
                   f"{filtered} items skipped by filter")
    shutil.rmtree(out, ignore_errors=True)
    r = export(pstkit, pst, out, "--type", "mail,letter")
    summary.result(f"{name} --type letter", r.returncode == 2, f"exit {r.returncode}")
    shutil.rmtree(out, ignore_errors=True)


def run_under_pty(cmd):
    """(exit status, what the command wrote to its terminal) with stderr a pty."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    return proc.wait(timeout=120), data


def check_progress(pstkit, pst, work, summary):
    out = os.path.join(work, "progress")
    rc, data = run_under_pty([pstkit, "export", "-o", out, "--jobs", "2", pst])
    total = sum(f.get("found", 0) for s in (manifest_of(out) or {"sources": []})["sources"] for f in s["folders"])
    shutil.rmtree(out, ignore_errors=True)
    text = data.decode("utf-8", "replace")
    summary.result("progress bar on a terminal", rc == 0 and f"{total}/{total} items" in text and "\r" in text,
                   f"exit {rc}, {total} items; {text[-120:]!r}")
    rc, data = run_under_pty([pstkit, "export", "-q", "-o", out, pst])
    shutil.rmtree(out, ignore_errors=True)
    summary.result("no progress bar with -q", rc == 0 and data == b"", f"exit {rc}: {data[:80]!r}")
    r = common.run([pstkit, "export", "-o", out, pst], timeout=120)
    shutil.rmtree(out, ignore_errors=True)
    summary.result("no progress bar when stderr is not a terminal",
                   r.returncode == 0 and b"\r" not in r.stderr and b"items  " not in r.stderr,
                   f"exit {r.returncode}: {r.stderr[:80]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    build = os.path.dirname(pstkit)
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-export-jobs-")
    try:
        sample = os.path.join(work, "sample.pst")
        subprocess.run([os.path.join(build, "make_sample_pst"), sample], check=True, capture_output=True)
        targets = [("sample.pst", sample)]
        corpus = common.find_corpus(args.corpus)
        if corpus and os.path.isfile(os.path.join(corpus, CORPUS_OST)):
            targets.append((CORPUS_OST, os.path.join(corpus, CORPUS_OST)))
        elif common.in_ci():
            summary.error("corpus", f"{CORPUS_OST} not found")
        for name, pst in targets:
            for fmt in ("eml", "mbox", "maildir"):
                check_jobs(pstkit, pst, name, fmt, work, summary)
        for fmt in ("msg", "thunderbird"):
            check_jobs(pstkit, sample, "sample.pst", fmt, work, summary)
        name, pst = targets[-1]
        for layout in ("-e", "-r"):
            check_readpst_jobs(pstkit, pst, name, layout, work, summary)
        check_resume(pstkit, pst, name, "eml", work, summary, kill_jobs="3", resume_jobs="1", damage=True,
                     refusals=True)
        check_resume(pstkit, pst, name, "mbox", work, summary, kill_jobs="1", resume_jobs="2")
        check_resume(pstkit, pst, name, "maildir", work, summary, kill_jobs="2", resume_jobs="2")
        check_resume(pstkit, pst, name, "eml", work, summary, kill_jobs="2", resume_jobs="2", twice=True)
        r = export(pstkit, sample, os.path.join(work, "nothing"), "--resume")
        summary.result("--resume without an export", r.returncode == 2 and b"no interrupted export" in r.stderr,
                       f"exit {r.returncode}: {common.one_line(r.stderr)}")
        for label, journal, want in (
                ("a journal of junk", b"junk\n", b"not a journal line"),
                ("another program's journal", b'{"pstkit_export_journal":"x"}\n', b"not a pstkit export journal"),
                ("a journal with a damaged record", json.dumps({"pstkit_export_journal": 1, "options": {
                    "files": [sample], "format": "eml", "vcard": "4.0", "folder": "", "types": [],
                    "recover": False, "deleted": False, "codepage": 0, "default_codepage": 0}}).encode() +
                 b'\n{"s":0,"f":1,"done":{"found":"many"}}\n', b"not a journal line")):
            out = os.path.join(work, "damaged-journal")
            os.makedirs(out)
            with open(os.path.join(out, JOURNAL), "wb") as f:
                f.write(journal)
            r = export(pstkit, sample, out, "--resume")
            summary.result(f"--resume with {label}", r.returncode in (1, 2) and want in r.stderr,
                           f"exit {r.returncode}: {common.one_line(r.stderr)}")
            shutil.rmtree(out, ignore_errors=True)
        check_type_filter(pstkit, pst, name, work, summary)
        check_progress(pstkit, sample, work, summary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
