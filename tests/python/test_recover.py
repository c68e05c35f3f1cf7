"""Damaged files: recover mode reads what `pstkit dump --recover` reads, and
nothing crashes.

Copies of a generated store and of corpus files get runs of zeroed bytes
(at several places, one copy each). Each copy is walked completely in a
child process (a crash there is a signal, reported as such), normally and
with recover=True: every failure must be a pstkit.Error. In recover mode the
folders and items listed must be those dump --recover lists (its orphans
aside: the binding walks folders).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import dump_json

# Walks a file through the binding in a child process; prints one JSON
# line: the records (as dump --json lists them) or the error met.
WALKER = r"""
import json, sys
import pstkit
path, recover = sys.argv[1], sys.argv[2] == "1"
records = []
def walk(folder):
    try:
        nids = folder.item_nids()
    except pstkit.Error as e:
        nids = []
        records.append(["error", folder.path, folder.nid, str(e)])
    try:
        subs = folder.subfolder_nids()
    except pstkit.Error as e:
        subs = []
        records.append(["error", folder.path, folder.nid, str(e)])
    records.append(["folder", folder.path, folder.nid, len(nids), len(subs)])
    for nid in nids:
        try:
            item = folder_store.message(nid)
            records.append(["item", folder.path, item.nid, item.subject, item.message_class, item.attachment_count])
            for a in item.attachments():
                a.data(); a.embedded(); a.properties()
            item.properties(); item.recipients(); item.body; item.html; item.rtf
        except pstkit.Error as e:
            records.append(["error", folder.path, nid, str(e)])
    for nid in subs:
        try:
            sub = folder.subfolder(nid)
        except pstkit.Error as e:
            records.append(["error", folder.path, nid, str(e)])
            continue
        walk(sub)
try:
    folder_store = pstkit.open(path, recover=recover)
    walk(folder_store.root())
    print(json.dumps({"records": records}))
except pstkit.Error as e:
    print(json.dumps({"records": records, "error": str(e)}))
"""


def walk_in_child(path: str, recover: bool) -> dict:
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-c", WALKER, path, "1" if recover else "0"], capture_output=True,
                       timeout=300, env=env)
    assert r.returncode == 0, f"{path} (recover={recover}): exit {r.returncode}: {r.stderr.decode(errors='replace')[-2000:]}"
    return json.loads(r.stdout)


def damaged_copies(source: str, work: str, runs: int = 4) -> list[str]:
    """Copies of source, each with 4 KiB zeroed at one of `runs` places
    spread over the file past the header."""
    size = os.path.getsize(source)
    out = []
    for i in range(runs):
        offset = 4096 + (size - 8192) * (i + 1) // (runs + 1)
        offset -= offset % 512
        dest = os.path.join(work, f"{os.path.basename(source)}.zero{i}")
        shutil.copyfile(source, dest)
        with open(dest, "r+b") as f:
            f.seek(offset)
            f.write(bytes(4096))
        out.append(dest)
    return out


def check_copy(cli: str, path: str) -> None:
    for recover in (False, True):
        walk_in_child(path, recover)  # completes without a crash
    result = walk_in_child(path, True)
    rc, records = dump_json(cli, path, "--recover")
    if "error" in result:
        # The binding could not open it even salvaged: neither could dump.
        assert not records, f"{path}: binding: {result['error']}; dump --recover listed {len(records)} records"
        return
    expected = []
    for r in records:
        if r["type"] == "folder":
            expected.append(("folder", r["path"], r["nid"]))
        elif r["type"] == "item" and not r.get("orphan"):
            expected.append(("item", r["folder"], r["nid"]))
    got = [(r[0], r[1], r[2]) for r in result["records"] if r[0] in ("folder", "item")]
    assert got == expected, f"{path}: binding lists {len(got)}, dump --recover {len(expected)}"


def test_zeroed_sample_copies(cli, sample_pst, tmp_path):
    for path in damaged_copies(sample_pst, str(tmp_path), runs=6):
        check_copy(cli, path)


CORPUS_FILES = [
    "pstsdk/sample1.pst",
    "hughbe-pstreader_simiden-pst2john/2003_high-encryption_quickquick.pst",
    "aspose-cpp/Outlook.pst",
]


def test_zeroed_corpus_copies(cli, corpus, tmp_path):
    tried = 0
    for rel in CORPUS_FILES:
        source = os.path.join(corpus, rel)
        if not os.path.exists(source):
            continue
        for path in damaged_copies(source, str(tmp_path)):
            check_copy(cli, path)
            os.unlink(path)
        tried += 1
    assert tried > 0, "none of the corpus files of this test is present"


def test_recover_reports_salvage(sample_pst, tmp_path):
    import pstkit
    path = damaged_copies(sample_pst, str(tmp_path), runs=1)[0]
    store = pstkit.open(path, recover=True)
    assert isinstance(store.recovery, dict) and "nodes_from_scan" in store.recovery
    assert pstkit.open(sample_pst).recovery is None


def test_destroyed_header_is_an_error(sample_pst, tmp_path):
    import pstkit
    path = str(tmp_path / "no-header.pst")
    shutil.copyfile(sample_pst, path)
    with open(path, "r+b") as f:
        f.write(bytes(512))
    for recover in (False, True):
        with pytest.raises(pstkit.Error) as e:
            pstkit.open(path, recover=recover)
        assert "header" in str(e.value).lower()
