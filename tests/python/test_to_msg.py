"""item.to_msg() gives the bytes `pstkit export --format msg` writes for the item.

On the generated sample and on a corpus file with many named properties: for
every item, to_msg() equals the exported file byte for byte and is the same
twice; python3-olefile opens it with the subject of the item; and every named
property of the file (ids 0x8000+, resolved through the file's own map in
__nameid_version1.0) is, by the store's name map (`pstkit show --json FILE
0x61`), a named property of the item with the same value.
"""

from __future__ import annotations

import json
import os
import struct

import pytest

import common
import pstkit
from conftest import run_cli

olefile = pytest.importorskip("olefile") if not common.in_ci() else __import__("olefile")

PS_MAPI = "{00020328-0000-0000-C000-000000000046}"
PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"


def walk(folder):
    yield folder
    for sub in folder.folders():
        yield from walk(sub)


def guid_text(raw: bytes) -> str:
    d1, d2, d3 = struct.unpack_from("<IHH", raw)
    rest = raw[8:].hex().upper()
    return "{%08X-%04X-%04X-%s-%s}" % (d1, d2, d3, rest[:4], rest[4:])


def name_map(ole) -> dict[int, tuple[str, str]]:
    """{property id: (GUID, "0xLID" or the name)} from __nameid_version1.0 (MS-OXMSG 2.2.3)."""
    guids = ole.openstream("__nameid_version1.0/__substg1.0_00020102").read()
    entries = ole.openstream("__nameid_version1.0/__substg1.0_00030102").read()
    strings = ole.openstream("__nameid_version1.0/__substg1.0_00040102").read()
    out = {}
    for off in range(0, len(entries), 8):
        key, field = struct.unpack_from("<II", entries, off)
        index, guid_index, is_string = field >> 16, (field >> 1) & 0x7FFF, field & 1
        if guid_index == 1:
            guid = PS_MAPI
        elif guid_index == 2:
            guid = PS_PUBLIC_STRINGS
        else:
            guid = guid_text(guids[(guid_index - 3) * 16:(guid_index - 2) * 16])
        if is_string:
            (length,) = struct.unpack_from("<I", strings, key)
            name = strings[key + 4:key + 4 + length].decode("utf-16-le")
        else:
            name = f"0x{key:x}"
        out[0x8000 + index] = (guid, name)
    return out


def store_name_map(cli, pst) -> dict[tuple[str, str], int]:
    """{(GUID, "0xLID" or name): the store's id} from `pstkit show --json FILE 0x61`."""
    entries = json.loads(run_cli(cli, "show", "--json", pst, "0x61").stdout)["entries"]
    return {(e["set"].upper(), e["lid"] if "lid" in e else e["string"]): int(e["id"], 16) for e in entries}


def named_values(ole) -> dict[int, object]:
    """{id: value} of the top-level named properties of types Integer32, Boolean and String."""
    data = ole.openstream("__properties_version1.0").read()
    out = {}
    for off in range(32, len(data), 16):
        tag, _flags = struct.unpack_from("<II", data, off)
        pid, ptype = tag >> 16, tag & 0xFFFF
        if pid < 0x8000:
            continue
        if ptype == 0x0003:
            out[pid] = struct.unpack_from("<i", data, off + 8)[0]
        elif ptype == 0x000B:
            out[pid] = struct.unpack_from("<H", data, off + 8)[0] != 0
        elif ptype == 0x001F:
            out[pid] = ole.openstream(f"__substg1.0_{tag:08X}").read().decode("utf-16-le")
    return out


def exported_files(cli, pst, out):
    run_cli(cli, "export", "-q", "--format", "msg", "-o", str(out), pst, check=False)
    files = {}
    for root, _, names in os.walk(out):
        for n in names:
            if n.endswith(".msg"):
                files[int(n[:-4])] = open(os.path.join(root, n), "rb").read()
    return files


def check_store(cli, pst, out):
    exported = exported_files(cli, pst, out)
    store_ids = store_name_map(cli, pst)
    store = pstkit.open(pst)
    seen = named_checked = 0
    for folder in walk(store.root()):
        for item in folder.items():
            data = item.to_msg()
            assert data == exported[item.nid], f"item {item.nid}"
            assert item.to_msg() == data, f"item {item.nid}: a second conversion differs"
            path = out / f"{item.nid}.check.msg"
            path.write_bytes(data)
            with olefile.OleFileIO(str(path)) as ole:
                subject = ole.openstream("__substg1.0_0037001F").read().decode("utf-16-le") \
                    if ole.exists("__substg1.0_0037001F") else ""
                assert subject == item.subject, f"item {item.nid}"
                names = name_map(ole)
                for pid, value in named_values(ole).items():
                    assert pid in names, f"item {item.nid}: id {pid:#x} not in the file's name map"
                    assert names[pid] in store_ids, f"item {item.nid}: {names[pid]} not in the store's name map"
                    # The store's value of the property of that name, by the store's id.
                    want = item.property(store_ids[names[pid]])
                    if isinstance(want, str):
                        want = want.split("\x00")[0]
                    assert want == value, f"item {item.nid}: {names[pid]} is {want!r} in the store, {value!r} in the file"
                    named_checked += 1
            path.unlink()
            seen += 1
    return seen, named_checked


def test_to_msg_is_what_export_writes(cli, sample_pst, tmp_path):
    seen, _ = check_store(cli, sample_pst, tmp_path / "out")
    assert seen > 0


def test_named_properties_keep_their_names(cli, tmp_path):
    corpus = common.find_corpus(None)
    path = os.path.join(corpus, "tika", "testPST.pst") if corpus else None
    if not path or not os.path.exists(path):
        if common.in_ci():
            pytest.fail("corpus file tika/testPST.pst not found")
        pytest.skip("corpus not found")
    seen, named_checked = check_store(cli, path, tmp_path / "out")
    assert seen > 0 and named_checked > 0
