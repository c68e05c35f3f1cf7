#!/usr/bin/python3
"""`pstkit plan` and `export --unit` / `dump --unit` (docs/SCALE.md).

On a generated store (make_large_pst: three folders, attachments), the
make_sample_pst store and a few corpus files, with a target that cuts
folders into several units:
  * the units cover every item of every folder exactly once, in row order
    (ranges 0..n-1 of each folder, n as `dump` counts the folder's items);
  * a unit's bytes stay within the target unless it is one item;
  * two plans are byte-identical;
  * the units exported one process each (two at a time, by xargs -P2) into
    one directory give the same files with the same bytes as one export of
    the whole file (eml; also msg and maildir for the sample), and their
    manifests together list the same files and SHA-256 as its manifest;
  * the units' dumps together are the lines of the full dump;
  * several files: units name the directories `export A B` gives them;
  * a damaged copy (BBT root page overwritten) planned and exported with
    --recover gives what `export --recover` of the whole copy gives;
  * usage errors exit 2 with a message: a missing file, --target-bytes 0, a
    malformed unit, --unit with mbox; a unit of a changed file is refused.

Usage: test_plan.py --pstkit BUILD/pstkit [--corpus DIR]
Closes with "N passed, M failed".
"""

import argparse
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

# Small corpus files with several folders, items of many kinds, an OST and
# an ANSI file.
CORPUS_FILES = ["aspose-net/Test_part1.pst", "aspose-net/SampleOstFile.ost",
                "hughbe-pstreader_simiden-pst2john/2003_no-encryption_quickquick.pst"]


def run(cmd, timeout=120, stdin=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, input=stdin)


def tree(root):
    """{relative path: SHA-256} of the files below root, manifests left out."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel == "manifest.json" or (rel.startswith("manifest-") and "/" not in rel):
                continue
            with open(os.path.join(d, f), "rb") as fh:
                out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out


def plan(pstkit, files, target, extra=()):
    r = run([pstkit, "plan", "--target-bytes", str(target), *extra, *files])
    units = [json.loads(line) for line in r.stdout.splitlines()]
    return r, units


def check_cover(pstkit, path, units, target, extra=()):
    """Problems with how the units cover the file's folders."""
    problems = []
    r = run([pstkit, "dump", "--json", *extra, path])
    folders = {}
    for line in r.stdout.splitlines():
        o = json.loads(line)
        if o.get("type") == "folder":
            folders[o["nid"]] = ("/".join(o["path"]), o["items"])
    ranges = collections.defaultdict(list)
    for u in units:
        ranges[u["folder_nid"]].append((u["first"], u["count"], u["bytes"], u["folder"]))
        if u["bytes"] > target and u["count"] > 1:
            problems.append(f"unit {u['unit']}: {u['bytes']} bytes in {u['count']} items > target {target}")
    if set(ranges) != set(folders):
        problems.append(f"folders planned {sorted(ranges)} != dumped {sorted(folders)}")
    for nid, rs in ranges.items():
        rs.sort()
        at = 0
        for first, count, _, name in rs:
            if first != at:
                problems.append(f"folder {nid}: unit starts at {first}, expected {at}")
            at = first + count
            if nid in folders and name != folders[nid][0]:
                problems.append(f"folder {nid}: named {name!r}, dump says {folders[nid][0]!r}")
        if nid in folders and at != folders[nid][1]:
            problems.append(f"folder {nid}: units cover {at} items of {folders[nid][1]}")
    if len({u["unit"] for u in units}) != len(units):
        problems.append("unit ids repeat")
    return problems


def export_units(pstkit, units, out, extra=()):
    """Each unit by its own `export --unit -`, two at a time through xargs
    (the JSON line as one argument)."""
    text = "".join(json.dumps(u) + "\n" for u in units).encode()
    return run(["xargs", "-d", "\n", "-n1", "-P2", pstkit, "export", "-q", "-o", out, *extra, "--unit"],
               timeout=300, stdin=text)


def compare_exports(pstkit, path, units, work, fmt, extra=()):
    full = os.path.join(work, "full-" + fmt)
    parts = os.path.join(work, "units-" + fmt)
    r_full = run([pstkit, "export", "-q", "--format", fmt, "-o", full, *extra, path], timeout=300)
    r_parts = export_units(pstkit, units, parts, ["--format", fmt])
    problems = []
    if r_full.returncode not in (0, 3):
        return [f"full export: exit {r_full.returncode} {r_full.stderr[-200:]!r}"], 0
    if r_parts.returncode != (0 if r_full.returncode == 0 else 123):
        problems.append(f"unit exports: xargs exit {r_parts.returncode} (full export {r_full.returncode}): "
                        f"{r_parts.stderr[-300:]!r}")
    a, b = tree(full), tree(parts)
    if a != b:
        problems += [f"only in the full export: {k}" for k in sorted(set(a) - set(b))][:5]
        problems += [f"only in the units: {k}" for k in sorted(set(b) - set(a))][:5]
        problems += [f"bytes differ: {k}" for k in sorted(set(a) & set(b)) if a[k] != b[k]][:5]
    manifest = json.load(open(os.path.join(full, "manifest.json")))
    listed = {}
    for u in units:
        m = json.load(open(os.path.join(parts, f"manifest-{u['unit']}.json")))
        if m.get("unit", {}).get("unit") != u["unit"]:
            problems.append(f"manifest-{u['unit']}.json names unit {m.get('unit')}")
        for k, v in m["files"].items():
            if k in listed:
                problems.append(f"{k} listed by two units")
            listed[k] = v
    if listed != manifest["files"]:
        problems.append(f"unit manifests list {len(listed)} files, the full manifest {len(manifest['files'])}")
    return problems, len(a)


def compare_dumps(pstkit, path, units, extra=()):
    full = run([pstkit, "dump", "--json", *extra, path]).stdout.splitlines()
    got = []
    for u in units:
        r = run([pstkit, "dump", "--unit", json.dumps(u)])
        got += r.stdout.splitlines()
    if collections.Counter(got) != collections.Counter(full):
        return [f"unit dumps give {len(got)} lines, the full dump {len(full)}"]
    return []


def check_file(pstkit, name, path, work, summary, formats=("eml",), dumps=True):
    r, whole = plan(pstkit, [path], 1 << 40)
    if r.returncode != 0:
        summary.error(name, f"plan exit {r.returncode}: {r.stderr[-200:]!r}")
        return
    total = sum(u["bytes"] for u in whole)
    target = max(1, total // 6)
    r, units = plan(pstkit, [path], target)
    r2, _ = plan(pstkit, [path], target)
    problems = check_cover(pstkit, path, units, target)
    if r.stdout != r2.stdout:
        problems.append("two plans differ")
    split = sum(1 for u in units if u["first"] > 0)
    exported = 0
    for fmt in formats:
        p, exported_fmt = compare_exports(pstkit, path, units, work, fmt)
        problems += [f"{fmt}: {x}" for x in p]
        exported = max(exported, exported_fmt)
    if dumps:
        problems += compare_dumps(pstkit, path, units)
    if problems:
        summary.diff(name, problems)
    else:
        summary.ok(name, f"{len(units)} units of <= {target} bytes ({split} starting inside a folder), "
                         f"{exported} files as {'/'.join(formats)}" + (", dumps agree" if dumps else ""))


def damage_bbt_root(pstkit, path, copy):
    info = json.loads(run([pstkit, "info", "--json", path]).stdout)
    page = 4096 if "4K" in info["format"] else 512
    shutil.copyfile(path, copy)
    with open(copy, "r+b") as f:
        f.seek(info["header"]["bbt_root"]["offset"])
        f.write(b"\xA5" * page)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    build = os.path.dirname(pstkit)
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-plan-")
    try:
        generated = os.path.join(work, "generated.pst")
        subprocess.run([os.path.join(build, "make_large_pst"), generated, "300", "7", "24", "3"], check=True,
                       capture_output=True)
        sample = os.path.join(work, "sample.pst")
        subprocess.run([os.path.join(build, "make_sample_pst"), sample], check=True, capture_output=True)
        targets = [("generated.pst", generated, ("eml", "maildir")), ("sample.pst", sample, ("eml", "msg"))]
        corpus = common.find_corpus(args.corpus)
        if corpus:
            targets += [(f, os.path.join(corpus, f), ("eml",)) for f in CORPUS_FILES
                        if os.path.isfile(os.path.join(corpus, f))]
        elif common.in_ci():
            summary.error("corpus", "not found")
        for i, (name, path, formats) in enumerate(targets):
            scratch = os.path.join(work, f"t{i}")
            os.makedirs(scratch)
            # The units' dumps on the first three (one process per unit: time).
            check_file(pstkit, name, path, scratch, summary, formats, dumps=i < 3)
            shutil.rmtree(scratch, ignore_errors=True)

        # Several files: each unit names the directory export gives its file.
        other = os.path.join(work, "sub", "generated.pst")  # the same stem: export makes it generated_
        os.makedirs(os.path.dirname(other))
        shutil.copyfile(sample, other)
        r, units = plan(pstkit, [generated, other], 200000)
        dirs = sorted({u.get("directory") for u in units})
        full = os.path.join(work, "two-full")
        run([pstkit, "export", "-q", "-o", full, generated, other], timeout=300)
        parts = os.path.join(work, "two-units")
        x = export_units(pstkit, units, parts)
        summary.result("two files", r.returncode == 0 and x.returncode == 0 and dirs == ["generated", "generated_"]
                       and tree(full) == tree(parts) and len(tree(full)) > 0,
                       f"directories {dirs}, {len(tree(parts))} files as `export A B` writes them")

        # A damaged copy, read with --recover: the units carry it.
        damaged = os.path.join(work, "damaged.pst")
        damage_bbt_root(pstkit, generated, damaged)
        plain = run([pstkit, "plan", "--target-bytes", "300000", damaged])
        r, units = plan(pstkit, [damaged], 300000, ["--recover"])
        problems = [] if plain.returncode == 1 else [f"plan without --recover: exit {plain.returncode}"]
        problems += [] if r.returncode == 0 and units and all(u.get("recover") for u in units) else [
            f"plan --recover: exit {r.returncode}, {len(units)} units"]
        problems += check_cover(pstkit, damaged, units, 300000, ["--recover"])
        scratch = os.path.join(work, "damaged-out")
        os.makedirs(scratch)
        p, n = compare_exports(pstkit, damaged, units, scratch, "eml", ["--recover"])
        problems += p
        if problems:
            summary.diff("damaged copy --recover", problems)
        else:
            summary.ok("damaged copy --recover", f"{len(units)} units, {n} files as export --recover writes them")

        # Usage errors and stale units.
        unit = units[0] if units else {}
        r = run([pstkit, "plan", "--target-bytes", "1000", os.path.join(work, "missing.pst")])
        summary.result("missing file", r.returncode == 2 and b"no such file" in r.stderr, f"exit {r.returncode}")
        r = run([pstkit, "plan", "--target-bytes", "0", sample])
        summary.result("--target-bytes 0", r.returncode == 2 and b"--target-bytes" in r.stderr, f"exit {r.returncode}")
        _, units = plan(pstkit, [sample], 1 << 30)
        good = next(u for u in units if u["count"] > 0)
        bad_units = {
            "not JSON": "{\"file\":",
            "no folder_nid": json.dumps({k: v for k, v in good.items() if k != "folder_nid"}),
            "negative first": json.dumps(dict(good, first=-1)),
            "id with a slash": json.dumps(dict(good, unit="../x")),
            "directory ..": json.dumps(dict(good, directory="..")),
        }
        for what, text in bad_units.items():
            r = run([pstkit, "export", "-o", os.path.join(work, "bad"), "--unit", text])
            r2 = run([pstkit, "dump", "--unit", "-"], stdin=text.encode())
            summary.result(f"malformed unit: {what}", r.returncode == 2 and r2.returncode == 2 and
                           b"unit" in r.stderr and not os.path.exists(os.path.join(work, "bad")),
                           f"export exit {r.returncode}, dump exit {r2.returncode}: {common.one_line(r.stderr)}")
        r = run([pstkit, "export", "--format", "mbox", "-o", os.path.join(work, "mbox"), "--unit", json.dumps(good)])
        summary.result("--unit with mbox", r.returncode == 2 and b"mbox" in r.stderr, f"exit {r.returncode}")
        stale = dict(good, count=good["count"] + 1)
        unit_file = os.path.join(work, "stale.json")
        with open(unit_file, "w") as f:
            json.dump(stale, f)
        r = run([pstkit, "export", "-q", "-o", os.path.join(work, "stale"), "--unit", "@" + unit_file])
        m = json.load(open(os.path.join(work, "stale", f"manifest-{stale['unit']}.json")))
        errors = [fo.get("error", "") for s in m["sources"] for fo in s["folders"]]
        r2 = run([pstkit, "dump", "--unit", "@" + unit_file])
        summary.result("unit of a changed file", r.returncode == 3 and any("changed" in e for e in errors)
                       and r2.returncode == 1, f"export exit {r.returncode} {errors}, dump exit {r2.returncode}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
