#!/usr/bin/python3
"""Compare `pstkit dump --json` with libpff on every file of the sample corpus.

Usage: test_corpus_libpff.py --pstkit BIN [--corpus DIR] [--only FILE]...
                             [--timeout S] [--expectations JSON] [-j N]
                             [--reader PROGRAM ARG...]

For each corpus file (MANIFEST.tsv order) this runs tools/libpff_dump.py
(with /usr/bin/python3, which has pypff) and `BIN dump --json FILE`, then:

* libpff reads the file: pstkit must exit 0 and print the same
    - multiset of folders (path -> items, subfolders),
    - items per folder, paired by nid, with equal subject, attachments and
      (when both give one) class; without nids, the multiset of
      (subject, attachments),
  after applying the file's allowances from corpus_expectations.json (see
  its "_format"). Items libpff fails on (its "error" lines) may appear in
  pstkit's output as extra items of that folder, up to that number.
* libpff cannot read the file: pstkit must either exit 1 with a one-line
  message on stderr, or exit 0 with well-formed output (a root folder line).
* Always: no signal, no timeout (default 60 s).

--reader replaces `BIN dump --json` by another program printing the same
lines (the file is its last argument), e.g. the MAPI client
examples/mapi_client.cpp (`--reader build/mapi_client list`, run by
test_mapi_client.py): what libpff sees must be what a MAPI client sees.

Prints one line per file (OK / DIFF + compact diff / ERROR) and closes with
"N passed, M failed". Exit 0 only if everything passed. Without a corpus it
skips (exit 0) unless CI=true.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

NAME = "test_corpus_libpff"
ENTRY_KEYS = {"reason", "folder_names", "subjects", "classes", "folders", "items",
              "pstkit_errors", "pstkit_rejects"}
ITEM_FIELDS = ("subject", "attachments", "class")


def show(path) -> str:
    return json.dumps(list(path), ensure_ascii=False)


def short(v) -> str:
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 70 else s[:67] + "..."


# --------------------------------------------------------------------------
# Dumps


class Dump:
    """The parts of a dump that are compared."""

    def __init__(self) -> None:
        self.folders: list[tuple[tuple, int, int]] = []
        self.items: dict[tuple, list[dict]] = defaultdict(list)
        self.errors: list[dict] = []
        self.unreadable: Counter = Counter()  # folder path -> items that failed
        self.problems: list[str] = []          # schema violations

    @classmethod
    def parse(cls, objs: list[dict], who: str) -> "Dump":
        d = cls()
        for n, o in enumerate(objs, 1):
            t = o.get("type")
            if t == "folder":
                path, items, subs = o.get("path"), o.get("items"), o.get("subfolders")
                if not (_is_path(path) and _is_count(items) and _is_count(subs)):
                    d.problems.append(f"{who} object {n}: bad folder line {short(o)}")
                    continue
                d.folders.append((tuple(path), items, subs))
            elif t == "item":
                folder = o.get("folder")
                if not _is_path(folder):
                    d.problems.append(f"{who} object {n}: bad item line {short(o)}")
                    continue
                it = {}
                if "nid" in o:
                    if not _is_count(o["nid"]):
                        d.problems.append(f"{who} object {n}: bad nid {short(o)}")
                        continue
                    it["nid"] = o["nid"]
                subject = o.get("subject")
                if subject is None and "subject" not in o and who == "libpff":
                    pass  # libpff could not read it: not compared
                elif subject is None or isinstance(subject, str):
                    it["subject"] = subject or ""
                else:
                    d.problems.append(f"{who} object {n}: bad subject {short(o)}")
                    continue
                if "attachments" in o:
                    if not _is_count(o["attachments"]):
                        d.problems.append(f"{who} object {n}: bad attachments {short(o)}")
                        continue
                    it["attachments"] = o["attachments"]
                elif who != "libpff":
                    d.problems.append(f"{who} object {n}: item without attachments {short(o)}")
                    continue
                if isinstance(o.get("class"), str):
                    it["class"] = o["class"]
                d.items[tuple(folder)].append(it)
            elif t == "error":
                d.errors.append(o)
                if who == "libpff" and o.get("what") == "item" and _is_path(o.get("folder")):
                    d.unreadable[tuple(o["folder"])] += 1
            # other types: ignored (forward compatible)
        if not any(p == () for p, _, _ in d.folders):
            d.problems.append(f"{who}: no root folder line (path [])")
        return d


def _is_path(p) -> bool:
    return isinstance(p, list) and all(isinstance(x, str) for x in p)


def _is_count(n) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0


# --------------------------------------------------------------------------
# Expectations


def load_expectations(path: str, corpus_files: set[str]) -> tuple[dict, list[str]]:
    problems: list[str] = []
    if not os.path.exists(path):
        return {}, problems
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        return {}, [f"{path}: {e}"]
    if not isinstance(data, dict):
        return {}, [f"{path}: top level must be an object"]
    out = {}
    for name, entry in data.items():
        if name.startswith("_"):
            continue
        where = f"{os.path.basename(path)}[{name!r}]"
        if name not in corpus_files:
            problems.append(f"{where}: no such corpus file")
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be an object")
            continue
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            problems.append(f"{where}: needs a non-empty 'reason'")
        for k in ("folder_names", "subjects", "classes"):
            m = entry.get(k, {})
            if not (isinstance(m, dict) and all(isinstance(v, str) for v in m.values())):
                problems.append(f"{where}.{k}: must map strings to strings")
        for k in ("folders", "items"):
            lst = entry.get(k, [])
            if not isinstance(lst, list) or not all(isinstance(x, dict) for x in lst):
                problems.append(f"{where}.{k}: must be a list of objects")
                continue
            for x in lst:
                key = "path" if k == "folders" else "folder"
                if not _is_path(x.get(key)) or "libpff" not in x or "pstkit" not in x \
                        or (x["libpff"] is None and x["pstkit"] is None) \
                        or not all(v is None or isinstance(v, dict) for v in (x["libpff"], x["pstkit"])):
                    problems.append(f"{where}.{k}: bad entry {short(x)} (needs {key}, libpff, pstkit)")
        if "pstkit_errors" in entry and not _is_count(entry["pstkit_errors"]):
            problems.append(f"{where}.pstkit_errors: must be a count")
        if "pstkit_rejects" in entry and entry["pstkit_rejects"] is not True:
            problems.append(f"{where}.pstkit_rejects: must be true if present")
        out[name] = entry
    return out, problems


def apply_expectation(lib: Dump, exp: dict) -> list[str]:
    """Turn libpff's dump into what pstkit must print. Returns stale allowances."""
    stale: list[str] = []
    if not exp:
        return stale

    names = exp.get("folder_names", {})
    if names:
        used = set()

        def ren(path):
            out = []
            for c in path:
                if c in names:
                    used.add(c)
                    out.append(names[c])
                else:
                    out.append(c)
            return tuple(out)

        lib.folders = [(ren(p), i, s) for p, i, s in lib.folders]
        lib.items = defaultdict(list, {ren(p): v for p, v in lib.items.items()})
        lib.unreadable = Counter({ren(p): n for p, n in lib.unreadable.items()})
        stale += [f"folder_names {k!r} unused" for k in names if k not in used]

    for key, field in (("subjects", "subject"), ("classes", "class")):
        m = exp.get(key, {})
        used = set()
        for items in lib.items.values():
            for it in items:
                if it.get(field) in m:
                    used.add(it[field])
                    it[field] = m[it[field]]
        stale += [f"{key} {k!r} unused" for k in m if k not in used]

    for f in exp.get("folders", []):
        path, before, after = tuple(f["path"]), f["libpff"], f["pstkit"]
        if before is None:
            lib.folders.append((path, after.get("items", 0), after.get("subfolders", 0)))
            continue
        hit = next((k for k, (p, i, s) in enumerate(lib.folders)
                    if p == path and i == before.get("items", i) and s == before.get("subfolders", s)), None)
        if hit is None:
            stale.append(f"folders {show(path)} {short(before)} not in libpff's dump")
            continue
        if after is None:
            del lib.folders[hit]
        else:
            p, i, s = lib.folders[hit]
            lib.folders[hit] = (p, after.get("items", i), after.get("subfolders", s))

    for x in exp.get("items", []):
        folder, before, after = tuple(x["folder"]), x["libpff"], x["pstkit"]
        nid = x.get("nid")
        if before is None:
            it = dict(after)
            if nid is not None:
                it["nid"] = nid
            lib.items[folder].append(it)
            continue
        items = lib.items.get(folder, [])
        hit = next((k for k, it in enumerate(items)
                    if (nid is None or it.get("nid") == nid)
                    and all(it.get(f) == v for f, v in before.items())), None)
        if hit is None:
            stale.append(f"items {show(folder)} nid={nid} {short(before)} not in libpff's dump")
            continue
        if after is None:
            del items[hit]
        else:
            items[hit].update(after)
    return stale


# --------------------------------------------------------------------------
# Comparison


def compare(lib: Dump, pst: Dump) -> tuple[list[str], list[str]]:
    """Returns (differences, notes)."""
    diffs: list[str] = []
    notes: list[str] = []

    lf, pf = Counter(lib.folders), Counter(pst.folders)
    if lf != pf:
        only_l, only_p = lf - pf, pf - lf
        paths = sorted({p for p, _, _ in only_l} | {p for p, _, _ in only_p})
        for path in paths:
            a = [(i, s) for (p, i, s), n in only_l.items() if p == path for _ in range(n)]
            b = [(i, s) for (p, i, s), n in only_p.items() if p == path for _ in range(n)]
            fa = ", ".join(f"items={i} subfolders={s}" for i, s in a) or "absent"
            fb = ", ".join(f"items={i} subfolders={s}" for i, s in b) or "absent"
            diffs.append(f"folder {show(path)}: libpff {fa}; pstkit {fb}")

    extra_read = 0
    for path in sorted(set(lib.items) | set(pst.items) | set(lib.unreadable)):
        L, P = lib.items.get(path, []), pst.items.get(path, [])
        k = lib.unreadable.get(path, 0)
        if all("nid" in it for it in L + P):
            lby, pby = defaultdict(list), defaultdict(list)
            for it in L:
                lby[it["nid"]].append(it)
            for it in P:
                pby[it["nid"]].append(it)
            for nid in sorted(set(lby) | set(pby)):
                a, b = lby.get(nid, []), pby.get(nid, [])
                for x, y in zip(a, b):
                    for f in ITEM_FIELDS:
                        if f in x and f in y and x[f] != y[f]:
                            diffs.append(f"item {show(path)} nid={nid}: {f} libpff {short(x[f])}, pstkit {short(y[f])}")
                        elif f in x and f not in y and f != "class":
                            diffs.append(f"item {show(path)} nid={nid}: pstkit has no {f}")
                for x in a[len(b):]:
                    diffs.append(f"item {show(path)} nid={nid} {short(x.get('subject'))}: missing in pstkit")
                extra = b[len(a):]
                if extra and k >= len(extra):
                    k -= len(extra)
                    extra_read += len(extra)
                    continue
                for y in extra:
                    diffs.append(f"item {show(path)} nid={nid} {short(y.get('subject'))}: only in pstkit")
        else:
            def key(it):
                return (it.get("subject"), it.get("attachments"))
            lc, pc = Counter(map(key, L)), Counter(map(key, P))
            for (s, n), c in sorted((lc - pc).items(), key=str):
                diffs.append(f"item {show(path)} subject={short(s)} attachments={n}: missing in pstkit (x{c})")
            only_p = pc - lc
            if only_p and k >= sum(only_p.values()):
                extra_read += sum(only_p.values())
            else:
                for (s, n), c in sorted(only_p.items(), key=str):
                    diffs.append(f"item {show(path)} subject={short(s)} attachments={n}: only in pstkit (x{c})")

    # pstkit must list as many items as its folder lines announce.
    if not pst.errors:
        announced = Counter()
        for p, i, _ in pst.folders:
            announced[p] += i
        for p in sorted(set(announced) | set(pst.items)):
            if announced[p] != len(pst.items.get(p, [])):
                diffs.append(f"pstkit folder {show(p)}: items={announced[p]} but {len(pst.items.get(p, []))} item lines")

    unreadable = sum(lib.unreadable.values())
    if unreadable:
        notes.append(f"libpff could not read {unreadable} items, pstkit listed {extra_read} of them")
    return diffs, notes


# --------------------------------------------------------------------------
# One file


def check_file(row: common.ManifestRow, args, exp: dict | None) -> tuple[str, str, list[str]]:
    """Returns (status, note, diff lines); status in OK, DIFF, ERROR."""
    lib_run = common.run(common.libpff_dump_cmd(row.path), timeout=max(120.0, args.timeout))
    if lib_run.timed_out or lib_run.returncode not in (0, 1):
        return "ERROR", f"libpff_dump: {lib_run.describe()}: {common.one_line(lib_run.stderr)}", []
    pst_run = common.run(args.reader + [row.path], timeout=args.timeout)
    if pst_run.timed_out or pst_run.crashed:
        return "ERROR", f"pstkit {pst_run.describe()}: {common.one_line(pst_run.stderr)}", []
    stderr = pst_run.stderr.decode("utf-8", errors="replace").strip()
    stderr_ok = bool(stderr) and len(stderr.splitlines()) == 1

    if lib_run.returncode == 1:
        lib_why = common.one_line(lib_run.stderr, 80)
        if exp and set(exp) - {"reason"}:
            return "DIFF", "", [f"expectation has allowances, but libpff cannot read the file ({lib_why})"]
        if pst_run.returncode == 1:
            if stderr_ok:
                return "OK", f"libpff cannot read it; pstkit: {common.one_line(stderr, 100)}", []
            return "DIFF", "", [f"pstkit exit 1 needs exactly one line on stderr, got {len(stderr.splitlines())}: "
                                + common.one_line(stderr)]
        if pst_run.returncode == 0:
            objs, problems = common.parse_json_lines(pst_run.stdout)
            pst = Dump.parse(objs, "pstkit")
            if problems or pst.problems:
                return "DIFF", "", ["libpff cannot read it; pstkit exit 0 with bad output:"] + problems + pst.problems
            n_items = sum(len(v) for v in pst.items.values())
            return "OK", f"libpff cannot read it; pstkit read {len(pst.folders)} folders, {n_items} items", []
        return "DIFF", "", [f"libpff cannot read it; pstkit must exit 0 or 1, got {pst_run.describe()}: "
                            + common.one_line(stderr)]

    # libpff reads it.
    if exp and exp.get("pstkit_rejects"):
        if pst_run.returncode == 1 and stderr_ok:
            return "OK", f"pstkit rejects it as expected: {common.one_line(stderr, 80)}", []
        return "DIFF", "", [f"expected pstkit to reject it (exit 1, one-line stderr), got {pst_run.describe()}"]
    if pst_run.returncode != 0:
        return "DIFF", "", [f"libpff reads it but pstkit {pst_run.describe()}: {common.one_line(stderr)}"]

    lib_objs, lib_problems = common.parse_json_lines(lib_run.stdout)
    lib = Dump.parse(lib_objs, "libpff")
    if lib_problems or lib.problems:
        return "ERROR", "libpff_dump printed bad output: " + "; ".join(lib_problems + lib.problems)[:200], []
    objs, problems = common.parse_json_lines(pst_run.stdout)
    pst = Dump.parse(objs, "pstkit")
    if problems or pst.problems:
        return "DIFF", "", problems + pst.problems

    stale = apply_expectation(lib, exp or {})
    diffs, notes = compare(lib, pst)
    allowed_errors = (exp or {}).get("pstkit_errors", 0)
    if len(pst.errors) != allowed_errors:
        diffs.append(f"pstkit printed {len(pst.errors)} error lines (allowed: {allowed_errors})"
                     + (f", first: {short(pst.errors[0])}" if pst.errors else ""))
    diffs += [f"stale expectation: {s}" for s in stale]
    if exp:
        notes.append("expectation: " + exp.get("reason", "")[:60])
    if diffs:
        return "DIFF", "", diffs
    n_items = sum(len(v) for v in pst.items.values())
    notes.insert(0, f"{len(pst.folders)} folders, {n_items} items")
    return "OK", "; ".join(notes), []


# --------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pstkit", required=True, help="path of the pstkit binary")
    ap.add_argument("--corpus", help="corpus directory (default: <repo>/../shared/corpus)")
    ap.add_argument("--only", action="append", default=[],
                    help="only this file (relative to the corpus, or its basename); repeatable")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per pstkit run (default 60)")
    ap.add_argument("--expectations", default=os.path.join(common.HERE, "corpus_expectations.json"))
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("PSTKIT_TEST_JOBS", "1")))
    ap.add_argument("--reader", nargs=argparse.REMAINDER,
                    help="program and arguments printing dump --json lines for the file appended to them "
                         "(default: BIN dump --json); must come last")
    args = ap.parse_args(argv[1:])

    corpus = common.find_corpus(args.corpus)
    if not corpus or not os.path.isdir(corpus):
        return common.skip_or_fail_missing_corpus(corpus, NAME)
    if not common.pypff_available():
        msg = f"{NAME}: {common.SYSTEM_PYTHON} cannot import pypff (apt-get install python3-pypff)"
        if common.in_ci():
            print(msg + ": failing in CI")
            print("0 passed, 1 failed")
            return 1
        print(msg + ": skipped")
        return 0
    args.pstkit = os.path.abspath(args.pstkit)
    args.reader = args.reader or [args.pstkit, "dump", "--json"]
    for binary in (args.pstkit, args.reader[0]):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            print(f"{NAME}: binary not found or not executable: {binary}")
            print("0 passed, 1 failed")
            return 1

    rows = list(common.corpus_files(corpus, args.only))
    summary = common.Summary()
    if args.only and not rows:
        summary.error(", ".join(args.only), "no such file in the corpus")
        return summary.close()
    all_files = {r.file for r in common.read_manifest(corpus)}
    expectations, exp_problems = load_expectations(args.expectations, all_files)
    for p in exp_problems:
        summary.error(os.path.basename(args.expectations), p)

    print(f"{NAME}: {len(rows)} files from {corpus}; reader = {' '.join(args.reader)}", flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(check_file, r, args, expectations.get(r.file)) for r in rows]
        for row, fut in zip(rows, futures):
            try:
                status, note, diffs = fut.result()
            except Exception as e:  # a bug here must not hide the other files
                status, note, diffs = "ERROR", f"test script: {type(e).__name__}: {e}", []
            if status == "OK":
                summary.ok(row.file, note)
            elif status == "DIFF":
                summary.diff(row.file, diffs)
            else:
                summary.error(row.file, note)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
