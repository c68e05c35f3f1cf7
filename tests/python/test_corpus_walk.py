"""Every corpus file through the binding matches `pstkit dump --json`.

For each whole file of the corpus (MANIFEST.tsv; every format pstkit reads,
and the files it refuses), the binding walks the folder tree from the root
folder and lists what dump lists: each folder (path, nid, item count,
subfolder count, counts and container class) and each item (folder, nid,
subject, message class, attachment count), in the same order. A file dump
cannot open must raise pstkit.Error. Also walks the generated samples.
"""

from __future__ import annotations

import os

import pytest

import pstkit
from conftest import dump_json, whole_files


def binding_records(store: pstkit.Store) -> list[dict]:
    """What dump --json prints, from the binding: folders depth first, each
    followed by its items."""
    out: list[dict] = []

    def walk(folder: pstkit.Folder) -> None:
        nids = folder.item_nids()
        subfolders = folder.folders()
        record = {"type": "folder", "path": folder.path, "nid": folder.nid, "items": len(nids),
                  "subfolders": len(subfolders), "content_count": folder.content_count,
                  "unread": folder.unread_count,
                  "associated_items": sum(1 for _ in folder.associated_items())}
        if folder.container_class:
            record["container_class"] = folder.container_class
        out.append(record)
        count = 0
        for item in folder.items():
            count += 1
            out.append({"type": "item", "folder": folder.path, "nid": item.nid, "class": item.message_class,
                        "subject": item.subject, "attachments": item.attachment_count})
        assert count == len(nids)
        for sub in subfolders:
            walk(sub)

    walk(store.root())
    return out


FOLDER_KEYS = ("path", "nid", "items", "subfolders", "content_count", "unread", "container_class",
               "associated_items")
ITEM_KEYS = ("folder", "nid", "class", "subject", "attachments")


def dump_records(records: list[dict]) -> list[dict]:
    keys = {"folder": FOLDER_KEYS, "item": ITEM_KEYS}
    return [{"type": r["type"], **{k: r[k] for k in keys[r["type"]] if k in r}} for r in records]


def compare(cli: str, path: str) -> str:
    """Checks one file; returns a note for the report."""
    rc, records = dump_json(cli, path)
    assert all(r["type"] in ("folder", "item", "error") for r in records)
    if rc != 0 and not records:
        # dump could not open it: neither may the binding, and it says why.
        with pytest.raises(pstkit.Error) as e:
            binding_records(pstkit.open(path))
        assert str(e.value), "pstkit.Error without a message"
        return "refused by both"
    if any(r["type"] == "error" for r in records):
        # Damage dump reports: the binding raises pstkit.Error there.
        with pytest.raises(pstkit.Error):
            binding_records(pstkit.open(path))
        return "damaged: pstkit.Error"
    assert rc == 0
    expected = dump_records(records)
    got = binding_records(pstkit.open(path))
    assert len(got) == len(expected), f"{len(got)} records, dump has {len(expected)}"
    for g, e in zip(got, expected):
        assert g == e
    return f"{sum(r['type'] == 'folder' for r in got)} folders, {sum(r['type'] == 'item' for r in got)} items"


def test_corpus_matches_dump(cli, corpus):
    rows = whole_files(corpus)
    assert rows, "no whole files in the corpus manifest"
    failures = []
    compared = 0
    for row in rows:
        try:
            note = compare(cli, row.path)
            compared += 1
            print(f"OK    {row.file} ({note})")
        except AssertionError as e:  # collect every file's difference, then fail once
            failures.append(f"{row.file}: {e}")
            print(f"DIFF  {row.file}: {e}")
    assert not failures, f"{len(failures)} of {len(rows)} files differ:\n" + "\n".join(failures[:20])
    assert compared == len(rows)


@pytest.mark.parametrize("which", ["sample_pst", "sample_ansi_pst"])
def test_samples_match_dump(cli, request, which):
    path = request.getfixturevalue(which)
    note = compare(cli, path)
    assert "items" in note and not note.startswith("0 folders")


def test_items_iterator_opens_one_item_at_a_time(sample_pst):
    store = pstkit.open(sample_pst)
    inbox = store.folder("Top of Outlook data file/Inbox")
    items = inbox.items()
    assert items.__length_hint__() == len(inbox.item_nids()) > 1
    first = next(items)
    assert items.__length_hint__() == len(inbox.item_nids()) - 1
    assert first.nid == inbox.item_nids()[0]


MEMORY_WALKER = r"""
import sys
import pstkit
def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
folder = pstkit.open(sys.argv[1]).folder("Top of Outlook data file/Big")
seen, at_tenth = 0, None
for item in folder.items():
    assert len(item.body) > 10000
    seen += 1
    if seen == 150:
        at_tenth = rss_kib()
print(seen, rss_kib() - at_tenth)
"""


def test_items_memory_does_not_grow_with_the_folder(tmp_path):
    """1500 messages of 16 KB bodies (24 MB in all): walking them all takes
    no more memory than walking the first tenth."""
    import subprocess
    import sys
    path = str(tmp_path / "big.pst")
    body = "x" * 16000
    with pstkit.create(path) as w:
        big = w.create_folder("Big")
        for i in range(1500):
            w.add_message(big, subject=f"message {i}", body=body)
            if i % 500 == 499:
                w.commit()
    r = subprocess.run([sys.executable, "-c", MEMORY_WALKER, path], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    seen, growth_kib = map(int, r.stdout.split())
    assert seen == 1500
    assert growth_kib < 6 * 1024, f"RSS grew by {growth_kib} KiB over the last 1350 items"
