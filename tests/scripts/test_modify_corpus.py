#!/usr/bin/python3
"""Writes into copies of real files: every whole PST/OST of the corpus
that pstkit checks clean gets two messages imported into its fullest folder
and one of that folder's own messages deleted, through the CLI.

Usage: test_modify_corpus.py --pstkit BIN [--corpus DIR] [--only NAME...]

This is where the in-place table editor meets tables Outlook (and other
tools) wrote rather than pstkit's own. After the edits, per file:
  * `pstkit check` still finds nothing wrong;
  * libpff sees the folder with the item count it had + 2 - 1, the two new
    subjects in it and the deleted one gone;
  * every other folder keeps its item count.
A file without mail gets the two messages in its top folder (nothing to
delete). Files that do not check clean and files whose IPM subtree is not
0x8022 are skipped with the reason.
Closes with "N passed, M failed" (", K skipped" when any were).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

IPM_SUBTREE = 0x8022


def eml(subject: str) -> bytes:
    return (f"From: Ann <ann@example.com>\nTo: Bob <bob@example.org>\nSubject: {subject}\n"
            "Date: Tue, 16 Jan 2018 17:17:45 +0000\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n\nbody\n").encode()


def dump(pstkit: str, path: str) -> tuple[list[dict], list[dict]] | None:
    r = common.run([pstkit, "dump", "--json", path], timeout=300)
    if r.returncode != 0:
        return None
    objs, problems = common.parse_json_lines(r.stdout)
    if problems:
        return None
    return [o for o in objs if o.get("type") == "folder"], [o for o in objs if o.get("type") == "item"]


def libpff_counts(path: str) -> Counter | None:
    r = common.run(common.libpff_dump_cmd(path), timeout=600)
    if r.returncode != 0:
        return None
    objs, _ = common.parse_json_lines(r.stdout)
    return Counter(tuple(o["folder"]) for o in objs if o.get("type") == "item")


def libpff_subjects(path: str, folder: tuple) -> Counter:
    r = common.run(common.libpff_dump_cmd(path), timeout=600)
    objs, _ = common.parse_json_lines(r.stdout)
    return Counter(o.get("subject", "") for o in objs if o.get("type") == "item" and tuple(o["folder"]) == folder)


def modify_one(pstkit: str, src: str, work: str) -> tuple[bool | None, str]:
    r = common.run([pstkit, "check", src], timeout=300)
    if r.returncode != 0:
        return None, "not clean before the edit"
    listing = dump(pstkit, src)
    if listing is None:
        return None, "pstkit dump fails"
    folders, items = listing
    top = [f for f in folders if f.get("nid") == IPM_SUBTREE]
    if not top:
        return None, "no IPM subtree 0x8022"
    top_path = top[0]["path"]
    below = [f for f in folders
             if len(f["path"]) >= len(top_path) and f["path"][:len(top_path)] == top_path and f.get("items", 0) > 0]
    # The fullest folder; in a file without mail, the top folder (its
    # hierarchy and contents tables are still Outlook's).
    target = max(below, key=lambda f: f["items"]) if below else top[0]
    path = tuple(target["path"])
    victims = [i for i in items if tuple(i["folder"]) == path]
    if below and not victims:
        return None, "pstkit lists no item in the fullest folder"
    before = libpff_counts(src)
    if before is None:
        return None, "libpff cannot read it"

    copy = os.path.join(work, "copy.pst")
    shutil.copyfile(src, copy)
    emls = []
    for n in (1, 2):
        p = os.path.join(work, f"new{n}.eml")
        with open(p, "wb") as f:
            f.write(eml(f"pstkit added {n}"))
        emls.append(p)
    folder_arg = "/".join(path[len(top_path):]) or "/"  # "/": the top folder itself
    r = common.run([pstkit, "import", copy, *emls, "--folder", folder_arg], timeout=300)
    if r.returncode != 0:
        return False, f"import: {r.describe()} {common.one_line(r.stderr)}"
    victim = victims[len(victims) // 2] if victims else None
    if victim:
        r = common.run([pstkit, "rm", copy, str(victim["nid"])], timeout=300)
        if r.returncode != 0:
            return False, f"rm {victim['nid']}: {r.describe()} {common.one_line(r.stderr)}"
    r = common.run([pstkit, "check", copy], timeout=300)
    if r.returncode != 0:
        return False, f"check after the edit: {common.one_line(r.stdout)}"

    after = libpff_counts(copy)
    if after is None:
        return False, "libpff cannot read the edited file"
    want = Counter(before)
    want[path] += 1 if victim else 2
    problems = [f"{'/'.join(k) or '(root)'}: libpff sees {after.get(k, 0)}, expected {v}"
                for k, v in want.items() if after.get(k, 0) != v]
    problems += [f"{'/'.join(k)}: unexpected folder with {v} items" for k, v in after.items() if k not in want]
    subjects = libpff_subjects(copy, path)
    for n in (1, 2):
        if subjects.get(f"pstkit added {n}", 0) != 1:
            problems.append(f"'pstkit added {n}' not found once in {'/'.join(path)}")
    if victim:
        old_subjects = Counter(i.get("subject", "") for i in victims)
        gone = victim.get("subject", "")
        if subjects.get(gone, 0) != old_subjects[gone] - 1:
            problems.append(f"deleted item {victim['nid']} ({gone!r}) still listed")
    if problems:
        return False, "; ".join(problems[:4])
    return True, f"{folder_arg}: {target['items']} + 2{' - 1' if victim else ''} items"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    corpus = common.find_corpus(args.corpus)
    if corpus is None or not os.path.isdir(corpus):
        return common.skip_or_fail_missing_corpus(corpus, "test_modify_corpus")
    if not common.pypff_available():
        print("python3-pypff is missing")
        print("0 passed, 1 failed")
        return 1
    pstkit = os.path.abspath(args.pstkit)
    summary = common.Summary()
    for row in common.corpus_files(corpus, args.only):
        if row.is_fragment or row.format not in ("Unicode", "ANSI"):
            continue
        summary.result(row.file, *common.in_scratch("pstkit-modify-", modify_one, pstkit, row.path))
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
