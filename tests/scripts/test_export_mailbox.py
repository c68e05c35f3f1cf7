#!/usr/bin/python3
"""`pstkit export --format mbox|maildir|thunderbird` reads back with Python's mailbox.

For the generated samples (Unicode and ANSI) and every corpus file that
pstkit opens (sampled by $PSTKIT_CORPUS_STRIDE), each format:
  * every folder the manifest lists with items has its mailbox ("output"):
    an mbox file (mbox, thunderbird) or a Maildir++ folder (maildir), which
    Python's mailbox module opens and in which it finds exactly the exported
    items, with the items' subjects;
  * flags come from the items: read (mbox Status R, Thunderbird
    X-Mozilla-Status 0x1, Maildir S), flagged and answered where set;
  * Maildir files carry the delivery time as their modification time;
  * the manifest's SHA-256 of every file is right and a second export is
    identical.

Usage: test_export_mailbox.py --pstkit BUILD/pstkit [--corpus DIR]
Closes with "N passed, M failed".
"""

import argparse
import collections
import datetime
import email.policy
import hashlib
import json
import mailbox
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

FORMATS = ("mbox", "maildir", "thunderbird")


def normalize(s):
    return " ".join((s or "").split())


def items_by_folder(pstkit, pst):
    """{folder nid: {item nid: (subject, read, flagged, delivered unix time or None)}}."""
    r = common.run([pstkit, "dump", "--json", "--full", pst], timeout=900)
    objs, _ = common.parse_json_lines(r.stdout)
    path_to_nid, out = {}, collections.defaultdict(dict)
    for o in objs:
        if o.get("type") == "folder":
            path_to_nid[tuple(o["path"])] = o["nid"]
    for o in objs:
        if o.get("type") != "item":
            continue
        props = o.get("properties", {})
        flags = props.get("PidTagMessageFlags", 0)
        flags = flags if isinstance(flags, int) else 0
        delivered = o.get("delivered")
        when = None
        if delivered:
            when = int(datetime.datetime.strptime(delivered, "%Y-%m-%dT%H:%M:%S.%fZ")
                       .replace(tzinfo=datetime.timezone.utc).timestamp())
        out[path_to_nid.get(tuple(o.get("folder", [])))][o["nid"]] = (
            normalize(o.get("subject")), bool(flags & 1), props.get("PidTagFlagStatus") == 2, when)
    return out


def open_mailbox(fmt, out, location):
    if fmt == "maildir":
        root = mailbox.Maildir(out, factory=None, create=False)
        return root if location in ("", ".") else root.get_folder(location.lstrip("."))
    return mailbox.mbox(os.path.join(out, location), create=False)


def flags_of(fmt, msg):
    """(read, flagged) as the format records them."""
    if fmt == "maildir":
        f = msg.get_flags()
        return "S" in f, "F" in f
    if fmt == "thunderbird":
        status = int(msg.get("X-Mozilla-Status", "0"), 16)
        return bool(status & 1), bool(status & 4)
    return "R" in msg.get_flags(), "F" in msg.get_flags()


def check(pstkit, pst, fmt, work, expected, summary, name):
    out = os.path.join(work, fmt)
    r = common.run([pstkit, "export", "-q", "--format", fmt, "-o", out, pst], timeout=900)
    mpath = os.path.join(out, "manifest.json")
    if not os.path.isfile(mpath):
        summary.error(name, f"exit {r.returncode}, no manifest: {common.one_line(r.stderr)}")
        return
    manifest = json.load(open(mpath))
    problems = []
    if r.returncode != (0 if manifest.get("complete") else 3):
        problems.append(f"exit {r.returncode}, complete={manifest.get('complete')}")
    for rel, sha in manifest.get("files", {}).items():
        if hashlib.sha256(open(os.path.join(out, rel), "rb").read()).hexdigest() != sha:
            problems.append(f"{rel}: SHA-256 differs from the manifest")
    total = 0
    for source in manifest.get("sources", []):
        for folder in source.get("folders", []):
            if not folder.get("exported"):
                continue
            want = expected.get(folder["nid"], {})
            try:
                box = open_mailbox(fmt, out, folder["output"])
                messages = list(box)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{folder['path']}: mailbox {folder.get('output')!r}: {e}")
                continue
            failed = {x["nid"] for x in folder.get("failed", [])}
            expected_here = {n: v for n, v in want.items() if n not in failed}
            if len(messages) != folder["exported"] or len(messages) != len(expected_here):
                problems.append(f"{folder['path']}: {len(messages)} messages, exported {folder['exported']}, "
                                f"dump {len(expected_here)}")
            got = collections.Counter()
            for m in messages:
                parsed = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
                got[(normalize(str(parsed.get("Subject", ""))),) + flags_of(fmt, m)] += 1
            want_count = collections.Counter((s, read, flagged) for s, read, flagged, _ in expected_here.values())
            if got != want_count:
                problems.append(f"{folder['path']}: (subject, read, flagged) differ: "
                                f"only exported {list((got - want_count).items())[:2]}, "
                                f"only in dump {list((want_count - got).items())[:2]}")
            if fmt == "maildir":
                cur = os.path.join(out, folder["output"], "cur")
                for fname in os.listdir(cur):
                    nid = int(fname.split(".N", 1)[1].split(".", 1)[0])
                    when = want.get(nid, (None, None, None, None))[3]
                    if when is not None and int(os.stat(os.path.join(cur, fname)).st_mtime) != when:
                        problems.append(f"{folder['output']}/cur/{fname}: mtime is not the delivery time")
            total += len(messages)
    again = os.path.join(work, fmt + "-again")
    common.run([pstkit, "export", "-q", "--format", fmt, "-o", again, pst], timeout=900)
    if json.load(open(os.path.join(again, "manifest.json"))) != manifest:
        problems.append("a second export differs")
    shutil.rmtree(again, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    if problems:
        summary.diff(name, problems)
    else:
        summary.ok(name, f"{total} messages")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-mailbox-")
    try:
        make = os.path.join(os.path.dirname(pstkit), "make_sample_pst")
        sample, ansi = os.path.join(work, "sample.pst"), os.path.join(work, "ansi.pst")
        subprocess.run([make, sample], check=True, capture_output=True)
        subprocess.run([make, ansi, "--ansi"], check=True, capture_output=True)
        targets = [("sample.pst", sample), ("ansi.pst", ansi)]
        corpus = common.find_corpus(args.corpus)
        if corpus:
            for row in common.corpus_files(corpus):
                if common.run([pstkit, "info", row.path], timeout=120).returncode == 0:
                    targets.append((row.file, row.path))
        elif common.in_ci():
            summary.error("corpus", "not found")
        for name, path in targets:
            expected = items_by_folder(pstkit, path)
            for fmt in FORMATS:
                check(pstkit, path, fmt, work, expected, summary, f"{name} [{fmt}]")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
