#!/usr/bin/python3
"""`pstkit export --format eml`: every item as an RFC 5322 file, with a manifest.

For generated stores (make_sample_pst, Unicode and ANSI) and every corpus file
(sampled by $PSTKIT_CORPUS_STRIDE):
  * the exit status is 0 when the manifest says complete, 3 when it lists
    failed or incomplete items, and the manifest agrees with the files: one
    .eml per exported item, each with the SHA-256 the manifest gives;
  * every folder's "found" is the item count `pstkit dump` gives it, and
    every item dump lists is exported or listed as failed (no silent gap);
  * Python's email parser (policy.default) reads every file with no defect
    in any part, and its Subject and attachment count are the item's;
  * two exports are byte-identical (the same manifest, file names and
    SHA-256s).
Then: the sample's export imported into a new PST with `pstkit import` gives
the same items (subjects, attachment counts, attachment SHA-256s); --folder
exports only that folder; a non-empty output directory needs --overwrite
(exit 2); a file that is not a PST exports nothing (exit 1).

Usage: test_export_eml.py --pstkit BUILD/pstkit [--corpus DIR]
Closes with "N passed, M failed".
"""

import argparse
import collections
import email
import email.policy
import hashlib
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402


def run(cmd, timeout=600):
    return common.run(cmd, timeout=timeout)


def dump_items(pstkit, pst):
    """{folder nid: [item dicts]} and {item nid: item} from `pstkit dump --json`."""
    r = run([pstkit, "dump", "--json", pst])
    objs, _ = common.parse_json_lines(r.stdout)
    folders, items = {}, {}
    path_to_nid = {}
    for o in objs:
        if o.get("type") == "folder":
            folders[o["nid"]] = []
            path_to_nid[tuple(o["path"])] = o["nid"]
    for o in objs:
        if o.get("type") == "item":
            items[o["nid"]] = o
            fnid = path_to_nid.get(tuple(o.get("folder", [])))
            if fnid is not None:
                folders[fnid].append(o)
    return folders, items


def normalize(s):
    return " ".join((s or "").split())


def attachment_parts(msg):
    """Top-level attachments of a parsed message: the parts a MAPI attachment became."""
    out = []
    if not msg.is_multipart():
        return out
    ctype = msg.get_content_type()
    parts = msg.get_payload()
    if ctype == "multipart/mixed":
        for p in parts[1:]:
            out.append(p)
        out += [p for p in attachment_parts(parts[0]) if parts[0].get_content_type() == "multipart/related"]
    elif ctype == "multipart/related":
        out += parts[1:]
    return out


def defects(msg):
    found = []
    for part in msg.walk():
        for d in part.defects:
            found.append(f"{part.get_content_type()}: {type(d).__name__}")
        if part.get_content_type() == "message/rfc822":
            for inner in part.get_payload():
                found += defects(inner)
    return found


def export(pstkit, pst, out, extra=()):
    return run([pstkit, "export", "-q", "-o", out, *extra, pst])


def check_export(pstkit, pst, out, summary, name):
    """The checks of one export; returns the manifest (or None)."""
    r = export(pstkit, pst, out)
    mpath = os.path.join(out, "manifest.json")
    if r.crashed or r.timed_out or not os.path.isfile(mpath):
        summary.error(name, f"exit {r.returncode}: {common.one_line(r.stderr)}")
        return None
    manifest = json.load(open(mpath))
    problems = []
    opened = any("folders" in s for s in manifest.get("sources", []))
    want_rc = 0 if manifest.get("complete") else 3 if opened else 1
    if r.returncode != want_rc:
        problems.append(f"exit {r.returncode}, manifest complete={manifest.get('complete')}")
    # The .eml files; calendar items and contacts also have their .ics/.vcf
    # beside them (test_export_ical.py checks those).
    files = {k: v for k, v in manifest.get("files", {}).items() if k.endswith(".eml")}
    on_disk = []
    for root, _, names in os.walk(out):
        on_disk += [os.path.relpath(os.path.join(root, n), out) for n in names if n.endswith(".eml")]
    if sorted(on_disk) != sorted(files):
        problems.append(f"{len(on_disk)} .eml files, manifest lists {len(files)}")
    if manifest.get("exported") != len(files):
        problems.append(f"manifest exported={manifest.get('exported')} but {len(files)} files")

    folders, items = dump_items(pstkit, pst)
    seen = set()
    for source in manifest.get("sources", []):
        for f in source.get("folders", []):
            listed = folders.get(f["nid"])
            if listed is None or "error" in f:
                continue
            if f.get("found") != len(listed):
                problems.append(f"folder {f['path']!r}: found {f.get('found')}, dump lists {len(listed)}")
            failed = {x["nid"] for x in f.get("failed", [])}
            for item in listed:
                rel = None
                seen.add(item["nid"])
                if item["nid"] in failed:
                    continue
                # The file of this item: <folder dir>/<nid>.eml
                for path in files:
                    if os.path.basename(path) == f"{item['nid']}.eml":
                        rel = path
                        break
                if rel is None:
                    problems.append(f"item {item['nid']} neither exported nor failed")
                    continue
                data = open(os.path.join(out, rel), "rb").read()
                if hashlib.sha256(data).hexdigest() != files[rel]:
                    problems.append(f"{rel}: SHA-256 differs from the manifest")
                msg = email.message_from_bytes(data, policy=email.policy.default)
                d = defects(msg)
                if d:
                    problems.append(f"{rel}: defects {d[:3]}")
                subject = normalize(str(msg.get("Subject", "")))
                if subject != normalize(item.get("subject", "")):
                    problems.append(f"{rel}: Subject {subject[:60]!r}, item {item.get('subject', '')[:60]!r}")
                atts = attachment_parts(msg)
                if len(atts) != item.get("attachments", 0) and not any(
                        x["nid"] == item["nid"] for x in f.get("incomplete", [])):
                    problems.append(f"{rel}: {len(atts)} attachments, item has {item.get('attachments', 0)}")
    if problems:
        summary.diff(name, problems)
    elif not opened:
        summary.ok(name, "not a store pstkit opens: exit 1, nothing exported")
    else:
        summary.ok(name, f"{len(files)} items" + ("" if manifest.get("complete") else ", partial (exit 3)"))
    return manifest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    build = os.path.dirname(pstkit)
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-export-")
    try:
        targets = common.sample_and_corpus_targets(build, work, args.corpus, summary)
        sample = targets[0][1]

        for i, (name, path) in enumerate(targets):
            out = os.path.join(work, f"out{i}")
            manifest = check_export(pstkit, path, out, summary, name)
            # Byte-identical twice: the samples and every 8th corpus file.
            if manifest is not None and (i < 2 or i % 8 == 0):
                again = os.path.join(work, f"again{i}")
                export(pstkit, path, again)
                other = json.load(open(os.path.join(again, "manifest.json")))
                if other != manifest:
                    summary.error(name + " (twice)", "a second export differs")
                else:
                    summary.ok(name + " (twice)", "byte-identical")
                shutil.rmtree(again, ignore_errors=True)
            if i >= 2:
                shutil.rmtree(out, ignore_errors=True)

        # Round trip: the sample's export imported into a new PST.
        out = os.path.join(work, "out0")
        back = os.path.join(work, "back.pst")
        r = run([pstkit, "import", "--create", "--folder", "/", back, out])
        if r.returncode not in (0,):
            summary.error("round trip", f"import exit {r.returncode}: {common.one_line(r.stderr)}")
        else:
            def items_of(pst):
                r = run([pstkit, "dump", "--json", "--full", pst])
                objs, _ = common.parse_json_lines(r.stdout)
                c = collections.Counter()
                for o in objs:
                    if o.get("type") == "item":
                        shas = sorted(a.get("sha256", "") for a in o.get("attachment_list", []))
                        c[(normalize(o.get("subject")), o.get("attachments", 0), tuple(shas))] += 1
                return c
            a, b = items_of(sample), items_of(back)
            if a != b:
                summary.diff("round trip", [f"only in source: {k}" for k in (a - b)] +
                             [f"only after import: {k}" for k in (b - a)])
            else:
                summary.ok("round trip", f"{sum(a.values())} items: subjects, attachments and their SHA-256")

        # --folder: only that subtree.
        sub = os.path.join(work, "inbox")
        r = export(pstkit, sample, sub, ["--folder", "Inbox/Projects"])
        m = json.load(open(os.path.join(sub, "manifest.json"))) if os.path.isfile(
            os.path.join(sub, "manifest.json")) else {}
        paths = [f["path"] for s in m.get("sources", []) for f in s.get("folders", [])]
        if r.returncode == 0 and paths and all("/Inbox/Projects" in p for p in paths):
            summary.ok("--folder", f"{len(paths)} folders, all under Inbox/Projects")
        else:
            summary.error("--folder", f"exit {r.returncode}, folders {paths}")

        # Usage and input errors.
        r = export(pstkit, sample, sub)
        summary.result("non-empty directory", r.returncode == 2 and b"--overwrite" in r.stderr,
                       f"exit {r.returncode}")
        r = export(pstkit, sample, sub, ["--overwrite"])
        summary.result("--overwrite", r.returncode == 0, f"exit {r.returncode}")
        junk = os.path.join(work, "junk.pst")
        with open(junk, "wb") as f:
            f.write(b"not a pst" * 100)
        r = export(pstkit, junk, os.path.join(work, "junk-out"))
        summary.result("not a PST", r.returncode == 1, f"exit {r.returncode}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
