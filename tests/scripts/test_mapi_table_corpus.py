#!/usr/bin/python3
"""Restrictions and sorts of the MAPI table engine against the same query computed from `pstkit dump`.

For every folder with two or more items of every whole corpus file,
bench's `mapi_table_query` (next to --pstkit) opens the folder's contents
table (PstTableSource), restricts it to PR_SUBJECT containing a letter
(RES_CONTENT, FL_SUBSTRING | FL_IGNORECASE) and PR_MESSAGE_DELIVERY_TIME at
or after the folder's median (RES_PROPERTY, RELOP_GE), sorts by delivery
time descending then subject ascending, and prints the rows. The same query
is computed here from `pstkit dump --json` of the file:
  * the rows are exactly the items whose subject contains the letter in
    either case and whose delivery time is at or after the median;
  * they come in the sort's order (by the table's own values: delivery time
    descending, then subject case-folded ascending) and, among rows equal in
    both keys, in the contents table's order (a stable sort: sorttable.md).

Usage: test_mapi_table_corpus.py --pstkit BUILD/pstkit [--corpus DIR]
Closes with "N passed, M failed".
"""

import argparse
import datetime
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def filetime(iso):
    """FILETIME of dump's "2010-03-15T17:12:07.951Z" (millisecond precision)."""
    when = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    delta = when - EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**7 + delta.microseconds * 10


def check_folder(query, path, nid, items):
    """Returns a list of differences (empty when the table is right)."""
    dated = [it for it in items if isinstance(it.get("delivered"), str)]
    if len(dated) < 2:
        return None
    letters = Counter(c for it in items for c in (it.get("subject") or "").lower() if "a" <= c <= "z")
    if not letters:
        return None
    letter = letters.most_common(1)[0][0]
    times = sorted(filetime(it["delivered"]) for it in dated)
    floor = times[len(times) // 2] // 10000 * 10000  # dump's times are to the millisecond
    want = {it["nid"] for it in dated
            if letter in (it.get("subject") or "").lower() and filetime(it["delivered"]) >= floor}
    r = common.run([query, path, str(nid), letter, str(floor)], timeout=120)
    if r.returncode != 0:
        return ["mapi_table_query %s: %s" % (r.describe(), common.one_line(r.stderr, 200))]
    rows = []
    for line in r.stdout.decode("utf-8", errors="replace").splitlines():
        eid, when, subject = line.split("\t", 2)
        rows.append((int.from_bytes(bytes.fromhex(eid)[-4:], "little"), int(when), subject))
    diffs = []
    got = {n for n, _, _ in rows}
    if got != want or len(rows) != len(got):
        diffs.append("letter %r, time >= %d: table rows %s, dump says %s" % (
            letter, floor, sorted(got - want)[:5], sorted(want - got)[:5]))
    order = {it["nid"]: i for i, it in enumerate(items)}  # the contents table's order
    for (n1, t1, s1), (n2, t2, s2) in zip(rows, rows[1:]):
        k1, k2 = (-t1, s1.casefold()), (-t2, s2.casefold())
        if k1 > k2 or (k1 == k2 and order.get(n1, 0) > order.get(n2, 0)):
            diffs.append("rows 0x%x then 0x%x are out of order (%s / %s)" % (n1, n2, (t1, s1), (t2, s2)))
            break
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    query = os.path.join(os.path.dirname(pstkit), "mapi_table_query")
    summary = common.Summary()
    corpus = common.find_corpus(args.corpus)
    if not corpus or not os.path.isdir(corpus):
        return common.skip_or_fail_missing_corpus(corpus, "test_mapi_table_corpus")
    if not os.access(query, os.X_OK):
        summary.error("mapi_table_query", "not built next to %s" % pstkit)
        return summary.close()
    for row in common.corpus_files(corpus):
        if row.is_fragment:
            continue
        r = common.run([pstkit, "dump", "--json", row.path], timeout=120)
        if r.returncode != 0:
            continue  # files dump refuses are test_corpus_libpff's business
        objs, _ = common.parse_json_lines(r.stdout)
        folders = {tuple(o["path"]): o["nid"] for o in objs if o.get("type") == "folder"}
        items = {}
        for o in objs:
            if o.get("type") == "item" and "nid" in o:
                items.setdefault(tuple(o["folder"]), []).append(o)
        checked, diffs = 0, []
        for path, nid in folders.items():
            result = check_folder(query, row.path, nid, items.get(path, []))
            if result is None:
                continue
            checked += 1
            diffs += ["folder %s: %s" % ("/".join(path), d) for d in result]
        if checked == 0:
            continue
        if diffs:
            summary.diff(row.file, diffs)
        else:
            summary.ok(row.file, "%d folders queried" % checked)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
