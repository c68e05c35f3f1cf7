#!/usr/bin/python3
"""Recovery measured side by side: damage corpus files many ways and count
what each tool gets back (issue 8, "What it must show").

For each original file (ANSI, Unicode permute and cyclic, 512-byte-page OST,
4K-page OST), for each damage kind and seed, a damaged copy is made and every
tool reads it:

  pstkit repair     `pstkit repair --no-backup --log L COPY` on a further copy;
                    then `pstkit check` must exit 0 and libpff (pypff open and
                    walk) and readpst must open the result (recorded per copy); not
                    run on 4K-page OSTs, which repair refuses by design (n/a)
  pstkit recover    `pstkit recover COPY OUT.pst`; OUT checked and opened likewise
  pstkit dump --recover   `pstkit dump --json --full --recover COPY` (read only)
  libpff            python3 pypff: open, walk the folders, read every message
  pffexport -m all  `pffexport -q -m all -f text -t DIR COPY` (allocated,
                    orphan and recovered items)
  readpst           `readpst -q -D -e -j 0 -o DIR COPY` (one file per item,
                    deleted items included)

Items.  The original items of a file are the messages `pstkit dump --json
--full` lists in the folders of the intact file (normal contents; associated
contents are not listed by dump nor by the peers, so none of the tools is
counted on them).  An item is identified by content, never by node id:

  match key    the subject, whitespace-normalised.  Every tool exposes it
               (pstkit/libpff: PidTagSubject without its prefix marker;
               pffexport: the "Subject:" line of the item's header file;
               readpst: the decoded Subject: header of the .eml, SUMMARY of
               an .ics, FN of a .vcf), so recovered counts use the same key
               for everyone.  Matching is one to one: an original item is
               counted at most once however many copies a tool outputs.
  content key  pstkit columns: the whole `dump --json --full` item (every
               property, body, recipients, attachment sizes and SHA-256)
               except node ids, the folder path and the properties repair
               documents that it sets (IGNORED_PROPERTIES below).
               libpff: subject + plain-text body + attachment SHA-256s, the
               original's computed the same way from its dump.
               pffexport, readpst: not computed (no dump of the item as a
               whole); their content-equal column says n/a.
  A tool output item first pairs with an unmatched original of the same
  content key (content equal), then with one of the same match key.

Items with intact blocks: those none of whose blocks (the message node's
data tree and subnode tree, found through the intact file's B-trees, and for
an item with named properties the name-to-ID map's, which alone holds their
names) the damage changed; on truncation these are the items whose data lie before the
cut, the issue's target there.  On the other kinds they tell a loss the damage
caused (the item's own bytes are gone) from one the tool caused.

A tool run that crashes or exceeds --timeout counts 0 items and is recorded.

Damage kinds (each deterministic per seed; see DAMAGE_KINDS):
  btree_flip   1-4 B-tree pages (NBT/BBT, reached from the header roots),
               1-8 bytes each XORed with a random non-zero byte
  block_flip   1-4 data blocks (BBT leaf entries that are not internal),
               1-8 bytes of their data each XORed
  zero_run     one run of 4 KiB .. 64 KiB zeroed at a random offset past the header
  truncate     file cut at 25/50/75/90/99 % (rng chooses); the target counts only
               the items whose node data (data block, subnode tree and every
               block under them) lie wholly before the cut
  header       the first 512 bytes or the first 4 KiB zeroed
  btree_zero   the NBT root, the BBT root, or 1-3 random B-tree pages zeroed
  page_copy    a random valid page copied over a different B-tree page
  bit_rot      random single-bit flips across the whole file, one per
               1/--rot-rate bits (default 1e-6: 32 flips in 4 MiB)
  lost_table   the blocks of one folder's contents table node (NID type 0x0E
               of a folder that has items) zeroed: data block, and subnode
               block if any

Locating structures: the file is parsed here, from the header roots
(`pstkit info --json` of the intact file gives the NBT and BBT root offsets)
down the B-trees (MS-PST 2.2.2.7.7: BTPAGE entries, cLevel in the footer;
page trailers carry ptype 0x80 BBT / 0x81 NBT, MS-PST 2.2.2.7.1), giving every
node (NBT leaf: nid, bidData, bidSub) and block (BBT leaf: bid, ib, cb).
Subnode trees (SLBLOCK/SIBLOCK, MS-PST 2.2.2.8.3.3) and XBLOCKs (2.2.2.8.3.2)
are followed to find every block of an item for the truncation target.

Usage:
  bench/recovery_bench.py [--pstkit build/pstkit] [--seeds 5] [--kinds K,...]
                          [--files REL ...] [--tools T,...] [--jobs 2]
                          [--json results.json] [--write-docs]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import email
import email.header
import email.policy
import hashlib
import json
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import unicodedata
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "scripts"))
import common  # noqa: E402

# ANSI, Unicode permute ("compressible"), Unicode cyclic ("high"), OST with
# 512-byte pages, OST with 4K pages and compressed blocks; libpff opens all.
DEFAULT_FILES = [
    "pstsdk/sample2.pst",
    "aspose-net/Outlook_1.pst",
    "hughbe-pstreader_simiden-pst2john/2003_high-encryption_quickquick.pst",
    "aspose-net/SampleOstFile.ost",
    "pst-extractor-npm/pstextractortest@outlook.com.ost",
]

ALL_TOOLS = ["repair", "recover", "dump_recover", "libpff", "pffexport", "readpst"]
TOOL_TITLES = {
    "repair": "pstkit repair",
    "recover": "pstkit recover",
    "dump_recover": "pstkit dump --recover",
    "libpff": "libpff (pypff open)",
    "pffexport": "pffexport -m all",
    "readpst": "readpst -D -e",
}

# Properties repair documents that it may set or recompute (issue 8, KB
# 287497): left out of the content comparison.
IGNORED_PROPERTIES = {
    "PidTagMessageClass", "PidTagSearchKey", "PidTagMessageSize", "PidTagHasAttachments",
    "PidTagMessageFlags", "PidTagDisplayTo", "PidTagDisplayCc", "PidTagDisplayBcc",
    "PidTagCreationTime", "PidTagLastModificationTime", "PidTagMessageDeliveryTime",
    "PidTagClientSubmitTime", "PidTagLtpRowId", "PidTagLtpRowVer",
}
TARGET_PCT = 95.0
IGNORED_ITEM_KEYS = {"nid", "folder", "orphan", "parent_nid", "size", "class", "delivered", "submitted"}


# ----------------------------------------------------------------------------
# File layout (MS-PST 2.2.2)

def mspst_crc(data: bytes) -> int:
    """MS-PST 5.3 CRC: CRC-32 table, initial value 0, no final XOR."""
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


class Layout:
    """Where the B-tree pages, nodes and blocks of an intact file are."""

    def __init__(self, data: bytes, info: dict):
        self.size = len(data)
        fmt = info["format"]
        self.fmt = fmt
        self.ansi = fmt == "ANSI"
        self.k4 = "4K" in fmt or "4k" in fmt
        self.page_size = 4096 if self.k4 else 512
        self.page_trailer = 12 if self.ansi else (24 if self.k4 else 16)
        self.block_trailer = self.page_trailer
        self.block_align = 512 if self.k4 else 64
        self.entries_bytes = 496 if self.ansi else (4056 if self.k4 else 488)
        self.header_bytes = 512 if self.ansi else 564
        hdr = info["header"]
        self.nbt_root = hdr["nbt_root"]["offset"]
        self.bbt_root = hdr["bbt_root"]["offset"]
        self.btree_pages: list[tuple[int, int, int]] = []  # (offset, ptype, level)
        self.nodes: dict[int, tuple[int, int, int]] = {}   # nid -> (bidData, bidSub, parent)
        self.blocks: dict[int, tuple[int, int, int]] = {}  # bid key -> (ib, cb stored, cb inflated)
        self._walk(data, self.nbt_root, 0x81, 0)
        self._walk(data, self.bbt_root, 0x80, 0)
        self.all_pages = self._scan_pages(data)

    def _walk(self, data, offset, ptype, depth):
        ps = self.page_size
        if depth > 8 or offset + ps > len(data):
            return
        page = data[offset:offset + ps]
        if page[ps - self.page_trailer] != ptype:
            return
        f = self.entries_bytes
        if self.k4:
            n, size, level = struct.unpack_from("<H", page, f)[0], page[f + 4], page[f + 5]
        else:
            n, size, level = page[f], page[f + 2], page[f + 3]
        self.btree_pages.append((offset, ptype, level))
        for i in range(n):
            e = page[i * size:(i + 1) * size]
            if len(e) < size or size == 0:
                break
            if level > 0:
                child = struct.unpack_from("<I", e, 8)[0] if self.ansi else struct.unpack_from("<Q", e, 16)[0]
                self._walk(data, child, ptype, depth + 1)
            elif ptype == 0x81:
                if self.ansi:
                    nid, bd, bs, parent = struct.unpack_from("<IIII", e)
                else:
                    nid, bd, bs, parent = struct.unpack_from("<QQQI", e)
                self.nodes[nid & 0xFFFFFFFF] = (bd, bs, parent)
            else:
                if self.ansi:
                    bid, ib, cb = struct.unpack_from("<IIH", e)
                    inflated = cb
                else:
                    bid, ib, cb, inflated = struct.unpack_from("<QQHH", e)
                    if not self.k4:
                        inflated = cb
                self.blocks[bid & ~1] = (ib, cb, inflated)

    def _scan_pages(self, data):
        """Every page whose trailer says it is one (ptype twice, 0x80..0x86) and
        whose CRC matches: pages are page-size aligned in the allocation space."""
        out = []
        ps, tr = self.page_size, self.page_trailer
        for off in range(self.page_size, len(data) - ps + 1, 512):
            t = off + ps - tr
            pt = data[t]
            if pt < 0x80 or pt > 0x86 or data[t + 1] != pt:
                continue
            crc = struct.unpack_from("<I", data, t + (8 if self.ansi else 4))[0]
            if mspst_crc(data[off:off + ps - tr]) == crc:
                out.append((off, pt))
        return out

    # -- blocks
    def block_extent(self, bid):
        """(offset, bytes on disk) of a block, or None when the BBT lacks it."""
        b = self.blocks.get(bid & ~1)
        if b is None:
            return None
        ib, cb, _ = b
        disk = (cb + self.block_trailer + self.block_align - 1) // self.block_align * self.block_align
        return ib, disk

    def block_data(self, data, bid):
        b = self.blocks.get(bid & ~1)
        if b is None:
            return None
        ib, cb, inflated = b
        raw = data[ib:ib + cb]
        if inflated != cb:
            try:
                raw = zlib.decompress(raw)
            except zlib.error:
                return None
        return raw

    def data_blocks(self):
        return [bid for bid in self.blocks if not bid & 2]

    def node_blocks(self, data, bid_data, bid_sub, depth=0):
        """Every block the node's data and subnode trees consist of."""
        out = []
        if depth > 6:
            return out
        bw = 4 if self.ansi else 8
        fmt = "<I" if self.ansi else "<Q"
        todo = [bid for bid in (bid_data, bid_sub) if bid]
        while todo:
            bid = todo.pop()
            if bid & ~1 not in self.blocks:
                continue
            out.append(bid & ~1)
            if not bid & 2:
                continue
            raw = self.block_data(data, bid)
            if not raw or len(raw) < 8:
                continue
            btype, level, count = raw[0], raw[1], struct.unpack_from("<H", raw, 2)[0]
            if btype == 1:  # XBLOCK / XXBLOCK: lcbTotal then BIDs
                for i in range(count):
                    at = 8 + i * bw
                    if at + bw <= len(raw):
                        todo.append(struct.unpack_from(fmt, raw, at)[0])
            elif btype == 2:  # SLBLOCK (level 0) / SIBLOCK
                first = 4 if self.ansi else 8
                esize = (3 if level == 0 else 2) * bw
                for i in range(count):
                    at = first + i * esize
                    if at + esize > len(raw):
                        break
                    if level == 0:
                        todo.append(struct.unpack_from(fmt, raw, at + bw)[0])
                        todo.append(struct.unpack_from(fmt, raw, at + 2 * bw)[0])
                    else:
                        todo.append(struct.unpack_from(fmt, raw, at + bw)[0])
        return out


# ----------------------------------------------------------------------------
# Damage kinds: (data, rng, ctx) -> (damaged bytes, note, cut or None)

class Context:
    def __init__(self, layout: Layout, folders_with_items: list[int], rot_rate: float):
        self.layout = layout
        self.folders_with_items = folders_with_items
        self.rot_rate = rot_rate


def _xor_bytes(d, start, length, rng, count):
    for _ in range(count):
        at = start + rng.randrange(length)
        d[at] ^= rng.randrange(1, 256)


def damage_btree_flip(data, rng, ctx):
    d = bytearray(data)
    L = ctx.layout
    pages = rng.sample(L.btree_pages, min(len(L.btree_pages), rng.randint(1, 4)))
    for off, _, _ in pages:
        _xor_bytes(d, off, L.page_size, rng, rng.randint(1, 8))
    return bytes(d), "%d B-tree pages flipped" % len(pages), None


def damage_block_flip(data, rng, ctx):
    d = bytearray(data)
    L = ctx.layout
    bids = sorted(L.data_blocks())
    chosen = rng.sample(bids, min(len(bids), rng.randint(1, 4)))
    for bid in chosen:
        ib, cb, _ = L.blocks[bid]
        if cb:
            _xor_bytes(d, ib, cb, rng, rng.randint(1, 8))
    return bytes(d), "%d data blocks flipped" % len(chosen), None


def damage_zero_run(data, rng, ctx):
    d = bytearray(data)
    n = rng.randint(4096, 65536)
    start = rng.randrange(ctx.layout.header_bytes, max(ctx.layout.header_bytes + 1, len(d) - n))
    d[start:start + n] = bytes(len(d[start:start + n]))
    return bytes(d), "%d bytes zeroed at %d" % (n, start), None


TRUNCATE_FRACTIONS = (0.25, 0.5, 0.75, 0.9, 0.99)


def damage_truncate(data, rng, ctx):
    frac = rng.choice(TRUNCATE_FRACTIONS)
    cut = int(len(data) * frac)
    return data[:cut], "cut at %d%% (%d bytes)" % (round(frac * 100), cut), cut


def damage_header(data, rng, ctx):
    n = rng.choice((512, 4096))
    return bytes(n) + data[n:], "first %d bytes zeroed" % n, None


def damage_btree_zero(data, rng, ctx):
    d = bytearray(data)
    L = ctx.layout
    what = rng.choice(("nbt_root", "bbt_root", "random"))
    if what == "nbt_root":
        offs = [L.nbt_root]
    elif what == "bbt_root":
        offs = [L.bbt_root]
    else:
        offs = [p[0] for p in rng.sample(L.btree_pages, min(len(L.btree_pages), rng.randint(1, 3)))]
    for off in offs:
        d[off:off + L.page_size] = bytes(L.page_size)
    return bytes(d), "%s zeroed (%d pages)" % (what.replace("_", " "), len(offs)), None


def damage_page_copy(data, rng, ctx):
    d = bytearray(data)
    L = ctx.layout
    target = rng.choice(L.btree_pages)[0]
    sources = [p[0] for p in L.all_pages if p[0] != target] or [p[0] for p in L.btree_pages if p[0] != target]
    if not sources:
        return bytes(d), "no second page to copy", None
    src = rng.choice(sources)
    d[target:target + L.page_size] = data[src:src + L.page_size]
    return bytes(d), "page at %d copied over B-tree page at %d" % (src, target), None


def damage_bit_rot(data, rng, ctx):
    d = bytearray(data)
    flips = max(1, round(len(d) * 8 * ctx.rot_rate))
    for _ in range(flips):
        bit = rng.randrange(len(d) * 8)
        d[bit >> 3] ^= 1 << (bit & 7)
    return bytes(d), "%d bits flipped" % flips, None


def damage_lost_table(data, rng, ctx):
    d = bytearray(data)
    L = ctx.layout
    candidates = [f for f in ctx.folders_with_items if ((f & ~0x1F) | 0x0E) in L.nodes]
    if not candidates:
        return bytes(d), "no folder with a contents table", None
    folder = rng.choice(candidates)
    table = (folder & ~0x1F) | 0x0E
    bd, bs, _ = L.nodes[table]
    zeroed = 0
    for bid in (bd, bs):
        ext = L.block_extent(bid) if bid else None
        if ext:
            d[ext[0]:ext[0] + ext[1]] = bytes(ext[1])
            zeroed += 1
    return bytes(d), "contents table 0x%x of folder 0x%x: %d blocks zeroed" % (table, folder, zeroed), None


DAMAGE_KINDS = {
    "btree_flip": damage_btree_flip,
    "block_flip": damage_block_flip,
    "zero_run": damage_zero_run,
    "truncate": damage_truncate,
    "header": damage_header,
    "btree_zero": damage_btree_zero,
    "page_copy": damage_page_copy,
    "bit_rot": damage_bit_rot,
    "lost_table": damage_lost_table,
}
KIND_TITLES = {
    "btree_flip": "Flipped bytes in B-tree pages",
    "block_flip": "Flipped bytes in data blocks",
    "zero_run": "Zeroed runs (4-64 KiB)",
    "truncate": "Truncation (25/50/75/90/99 %)",
    "header": "Destroyed header (first 512 B or 4 KiB zeroed)",
    "btree_zero": "Destroyed B-tree pages (NBT root, BBT root or 1-3 random pages zeroed)",
    "page_copy": "Pages copied over B-tree pages",
    "bit_rot": "Bit rot (random single-bit flips)",
    "lost_table": "Lost contents table (a folder's table node blocks zeroed)",
}


def make_damaged(kind: str, data: bytes, seed: int, file_key: str, ctx: Context):
    """Deterministic per (kind, file, seed)."""
    rng = random.Random("%s|%s|%d" % (kind, file_key, seed))
    return DAMAGE_KINDS[kind](data, rng, ctx)


# ----------------------------------------------------------------------------
# Item keys

def norm_subject(s) -> str:
    if s is None:
        return ""
    if isinstance(s, bytes):
        s = s.decode("utf-8", errors="replace")
    s = s.lstrip("\x01")
    return unicodedata.normalize("NFC", " ".join(s.split()))


def _sha(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def full_content_key(item: dict) -> str:
    """Content of a `dump --json --full` item without ids, folder and the
    properties repair may set (see IGNORED_PROPERTIES)."""
    def strip_props(p):
        return {k: v for k, v in (p or {}).items() if k not in IGNORED_PROPERTIES}
    obj = {k: v for k, v in item.items() if k not in IGNORED_ITEM_KEYS}
    obj["properties"] = strip_props(item.get("properties"))
    obj["recipients"] = [strip_props(r) for r in item.get("recipients") or []]
    obj["attachment_list"] = [
        {k: (strip_props(v) if k == "properties" else v) for k, v in a.items() if k != "nid"}
        for a in item.get("attachment_list") or []]
    return _sha(obj)


def basic_content_key(subject, body, attachment_hashes) -> str:
    """Subject, plain-text body and the contents of the attachments by value
    (PidTagAttachMethod 1): what libpff exposes."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    body = (body or "").rstrip("\x00")
    return _sha([norm_subject(subject), body, sorted(attachment_hashes)])


class Item:
    __slots__ = ("subject", "full", "basic", "nid", "named")

    def __init__(self, subject, full=None, basic=None, nid=None, named=False):
        self.subject, self.full, self.basic, self.nid = subject, full, basic, nid
        self.named = named  # has named properties: their names are in the name-to-ID map


def uses_named_properties(o) -> bool:
    """Whether a dumped item (or its recipients, attachments) has a named
    property (PidLid*, PidName*, SET:name): dumped by the name the store's
    name-to-ID map gives its id."""
    def named(props):
        return any(k.startswith(("PidLid", "PidName")) or ":" in k for k in (props or {}))
    if named(o.get("properties")):
        return True
    return any(named(x.get("properties")) for k in ("recipients", "attachment_list") for x in o.get(k) or [])


def items_from_dump(stdout: bytes) -> list[Item]:
    items = []
    for line in stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") != "item":
            continue
        hashes = [a.get("sha256") for a in o.get("attachment_list") or []
                  if a.get("method") == 1 and a.get("sha256")]
        items.append(Item(norm_subject(o.get("subject")), full_content_key(o),
                          basic_content_key(o.get("subject"), o.get("body"), hashes), o.get("nid"),
                          uses_named_properties(o)))
    return items


def match(originals: list[Item], got: list[Item], content: str | None, prefer: set[int] | None = None):
    """One-to-one matching; returns (matched original indices, content-equal indices).
    Among originals of equal content (copies of a message, which no output
    tells apart) an item takes those in `prefer` (the items with intact
    blocks) first: a tool that gets N of N+1 identical items, one of which
    the damage destroyed, got every one it could. An item matched by subject
    alone (its content differs from every free original's: damaged, or a
    tool without a content key) takes the others first, so that the count
    of items with intact blocks recovered is never overstated."""
    free_by_content: dict[str, list[int]] = {}
    free_by_subject: dict[str, list[int]] = {}
    prefer = prefer or set()
    for i in sorted(range(len(originals)), key=lambda i: (i not in prefer, i)):
        if content:
            free_by_content.setdefault(getattr(originals[i], content), []).append(i)
    for i in sorted(range(len(originals)), key=lambda i: (i in prefer, i)):
        free_by_subject.setdefault(originals[i].subject, []).append(i)
    used: set[int] = set()
    equal: set[int] = set()
    rest = []
    for g in got:
        key = getattr(g, content) if content else None
        cands = [i for i in free_by_content.get(key, []) if i not in used] if key else []
        if cands:
            used.add(cands[0])
            equal.add(cands[0])
        else:
            rest.append(g)
    for g in rest:
        cands = [i for i in free_by_subject.get(g.subject, []) if i not in used]
        if cands:
            used.add(cands[0])
    return used, equal


# ----------------------------------------------------------------------------
# Tools

PYPFF_WALK = r"""
import hashlib, json, sys
import pypff
f = pypff.file()
f.open(sys.argv[1])
def emit(o):
    sys.stdout.write(json.dumps(o) + "\n")
def text(x):
    if x is None: return ""
    if isinstance(x, bytes): return x.decode("utf-8", "replace")
    return x
def walk(folder, depth):
    if depth > 64: return
    try: n = folder.number_of_sub_messages
    except Exception: n = 0
    for i in range(n):
        try: m = folder.get_sub_message(i)
        except Exception: continue
        try: subject = text(m.subject)
        except Exception: subject = ""
        try: body = text(m.plain_text_body)
        except Exception: body = ""
        hashes = []
        try:
            for j in range(m.number_of_attachments):
                a = m.get_attachment(j)
                try:
                    method = [e.get_data_as_integer() for e in a.get_record_set(0).entries
                              if e.entry_type == 0x3705]
                    if method == [1]:  # ATTACH_BY_VALUE: the bytes pstkit hashes too
                        hashes.append(hashlib.sha256(a.read_buffer(a.size)).hexdigest())
                except Exception: pass
        except Exception: pass
        emit({"subject": subject, "body": body, "attachments": hashes})
    try: m = folder.number_of_sub_folders
    except Exception: m = 0
    for i in range(m):
        try: walk(folder.get_sub_folder(i), depth + 1)
        except Exception: pass
walk(f.root_folder, 0)
"""


def tool_status(r) -> str:
    if r.timed_out:
        return "timeout"
    if r.crashed:
        return r.describe()
    return "exit %d" % r.returncode


def libpff_items(path, timeout):
    r = common.run([common.SYSTEM_PYTHON, "-c", PYPFF_WALK, path], timeout=timeout)
    items = []
    if not r.timed_out and not r.crashed:
        for line in r.stdout.splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                continue
            items.append(Item(norm_subject(o["subject"]),
                              basic=basic_content_key(o["subject"], o["body"], o["attachments"])))
    if r.timed_out or r.crashed:
        items = []
    return items, tool_status(r), r.returncode == 0


ITEM_DIR = re.compile(r"^[A-Z][A-Za-z ]*\d{5}$")


def pffexport_items(path, work, timeout):
    target = os.path.join(work, "pff")
    r = common.run(["pffexport", "-q", "-m", "all", "-f", "text", "-t", target, path], timeout=timeout)
    items = []
    if not r.timed_out and not r.crashed:
        for root, dirs, files in os.walk(target + ".export"):
            name = os.path.basename(root)
            parent = os.path.basename(os.path.dirname(root))
            if not ITEM_DIR.match(name) or name.startswith("Attachment") or parent.startswith("Attachment"):
                continue
            subject = ""
            for f in sorted(files):
                if f in ("Message.txt", "Recipients.txt", "ConversationIndex.txt", "InternetHeaders.txt") \
                        or not f.endswith(".txt"):
                    continue
                try:
                    with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                        for line in fh:
                            if line.startswith("Subject:"):
                                subject = line[len("Subject:"):]
                                break
                except OSError:
                    pass
                if subject:
                    break
            items.append(Item(norm_subject(subject)))
    shutil.rmtree(target + ".export", ignore_errors=True)
    return items, tool_status(r), r.returncode == 0


def _decode_header(v):
    try:
        return str(email.header.make_header(email.header.decode_header(v)))
    except Exception:  # noqa: BLE001
        return v


def _ical_unescape(v):
    return v.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n").replace("\\\\", "\\")


def readpst_items(path, work, timeout):
    target = os.path.join(work, "rp")
    os.makedirs(target, exist_ok=True)
    r = common.run(["readpst", "-q", "-D", "-e", "-j", "0", "-o", target, path], timeout=timeout)
    items = []
    if not r.timed_out and not r.crashed:
        for root, _, files in os.walk(target):
            for f in files:
                p = os.path.join(root, f)
                subject = ""
                try:
                    raw = open(p, "rb").read()
                except OSError:
                    continue
                if f.endswith(".eml"):
                    msg = email.message_from_bytes(raw.split(b"\n\n", 1)[0] + b"\n\n")
                    subject = _decode_header(msg.get("Subject", "") or "")
                else:
                    # .ics SUMMARY / .vcf FN, with folded lines joined.
                    text = raw.decode("utf-8", errors="replace").replace("\r\n ", "").replace("\n ", "")
                    want = "SUMMARY" if f.endswith(".ics") else "FN"
                    for line in text.splitlines():
                        if line.split(";", 1)[0].split(":", 1)[0] == want and ":" in line:
                            subject = _ical_unescape(line.split(":", 1)[1])
                            break
                items.append(Item(norm_subject(subject)))
    shutil.rmtree(target, ignore_errors=True)
    return items, tool_status(r), r.returncode == 0


def opens_in_peers(path, work, timeout):
    """(libpff opens and walks it, readpst reads it) for a repaired/recovered file."""
    lp = common.run([common.SYSTEM_PYTHON, "-c", PYPFF_WALK, path], timeout=timeout)
    target = os.path.join(work, "open-rp")
    os.makedirs(target, exist_ok=True)
    rp = common.run(["readpst", "-q", "-D", "-e", "-j", "0", "-o", target, path], timeout=timeout)
    shutil.rmtree(target, ignore_errors=True)
    return lp.returncode == 0, rp.returncode == 0


def pstkit_output_items(pstkit, path, timeout):
    r = common.run([pstkit, "dump", "--json", "--full", path], timeout=timeout)
    if r.timed_out or r.crashed:
        return [], tool_status(r)
    return items_from_dump(r.stdout), tool_status(r)


def run_tool(tool, pstkit, damaged, work, timeout):
    """Returns a dict: items (list of Item), status, and for repair/recover
    check_ok, libpff_opens, readpst_opens."""
    res = {"status": "", "items": []}
    if tool == "dump_recover":
        r = common.run([pstkit, "dump", "--json", "--full", "--recover", damaged], timeout=timeout)
        res["status"] = tool_status(r)
        if not r.timed_out and not r.crashed:
            res["items"] = items_from_dump(r.stdout)
    elif tool in ("repair", "recover"):
        if tool == "repair":
            out = os.path.join(work, "repaired" + os.path.splitext(damaged)[1])
            shutil.copyfile(damaged, out)
            r = common.run([pstkit, "repair", "--no-backup", "--log", os.path.join(work, "repair.log"), out],
                           timeout=timeout)
        else:
            out = os.path.join(work, "recovered.pst")
            r = common.run([pstkit, "recover", damaged, out], timeout=timeout)
        res["status"] = tool_status(r)
        if r.timed_out or r.crashed or not os.path.isfile(out):
            res.update(check_ok=False, libpff_opens=False, readpst_opens=False)
            return res
        chk = common.run([pstkit, "check", out], timeout=timeout)
        res["check_ok"] = chk.returncode == 0
        if not res["check_ok"]:
            res["check_error"] = common.one_line(chk.stdout + chk.stderr, 300)
        res["items"], dump_status = pstkit_output_items(pstkit, out, timeout)
        res["libpff_opens"], res["readpst_opens"] = opens_in_peers(out, work, timeout)
        if dump_status != "exit 0":
            res["status"] += "; dump " + dump_status
    elif tool == "libpff":
        res["items"], res["status"], _ = libpff_items(damaged, timeout)
    elif tool == "pffexport":
        res["items"], res["status"], _ = pffexport_items(damaged, work, timeout)
    elif tool == "readpst":
        res["items"], res["status"], _ = readpst_items(damaged, work, timeout)
    return res


CONTENT_KEY = {"repair": "full", "recover": "full", "dump_recover": "full", "libpff": "basic",
               "pffexport": None, "readpst": None}


# ----------------------------------------------------------------------------
# One original, one damaged copy

class Original:
    def __init__(self, pstkit, corpus, rel, timeout, rot_rate):
        self.rel = rel
        self.path = os.path.join(corpus, rel)
        self.data = open(self.path, "rb").read()
        info = common.run([pstkit, "info", "--json", self.path], timeout=timeout)
        if info.returncode != 0:
            raise RuntimeError("pstkit info: %s" % common.one_line(info.stderr))
        self.info = json.loads(info.stdout)
        dump = common.run([pstkit, "dump", "--json", "--full", self.path], timeout=timeout)
        if dump.returncode != 0:
            raise RuntimeError("pstkit dump of the intact file: %s" % dump.describe())
        self.items = items_from_dump(dump.stdout)
        folders = []
        for line in dump.stdout.splitlines():
            o = json.loads(line)
            if o.get("type") == "folder" and o.get("items"):
                folders.append(o["nid"])
        self.layout = Layout(self.data, self.info)
        self.ctx = Context(self.layout, folders, rot_rate)
        self._ends = {}
        self.baseline = {}  # tool -> items it gets from the intact file

    def measure_intact(self, pstkit, tools, timeout):
        """What each tool gets from the undamaged file: the reference the
        damaged copies are read against (e.g. readpst names contacts by FN)."""
        work = tempfile.mkdtemp(prefix="pstkit-recbench-")
        try:
            intact = os.path.join(work, "intact" + os.path.splitext(self.rel)[1])
            shutil.copyfile(self.path, intact)
            for tool in tools:
                tool_work = os.path.join(work, tool)
                os.makedirs(tool_work)
                res = run_tool(tool, pstkit, intact, tool_work, timeout)
                self.baseline[tool] = len(match(self.items, res["items"], None)[0])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def item_blocks(self, item: Item):
        if item.nid not in self._ends:
            n = self.layout.nodes.get(item.nid)
            exts = []
            if n is not None:
                exts = [self.layout.block_extent(b) for b in self.layout.node_blocks(self.data, n[0], n[1])]
                # Named properties read as they were only with the name-to-ID
                # map (NID 0x61) intact: its names are nowhere else.
                m = self.layout.nodes.get(0x61)
                if item.named and m is not None:
                    exts += [self.layout.block_extent(b) for b in self.layout.node_blocks(self.data, m[0], m[1])]
            self._ends[item.nid] = [e for e in exts if e]
        return self._ends[item.nid]

    def eligible(self, damaged: bytes):
        """Indices of the items whose every block (the message node's data
        tree and subnode tree) is byte-identical in the damaged copy: on
        truncation, exactly the items whose data lie before the cut (the
        issue's target); on other kinds, what a tool can recover whole, which
        tells a loss the damage caused from one the tool caused."""
        out = set()
        for i, it in enumerate(self.items):
            exts = self.item_blocks(it)
            if exts and all(off + n <= len(damaged) and damaged[off:off + n] == self.data[off:off + n]
                            for off, n in exts):
                out.add(i)
        return out


def measure_copy(pstkit, orig: Original, kind, seed, tools, timeout):
    damaged_bytes, note, cut = make_damaged(kind, orig.data, seed, orig.rel, orig.ctx)
    work = tempfile.mkdtemp(prefix="pstkit-recbench-")
    try:
        damaged = os.path.join(work, "damaged" + os.path.splitext(orig.rel)[1])
        with open(damaged, "wb") as f:
            f.write(damaged_bytes)
        eligible = orig.eligible(damaged_bytes)
        row = {"file": orig.rel, "kind": kind, "seed": seed, "damage": note, "cut": cut,
               "items": len(orig.items), "eligible": len(eligible), "tools": {},
               "intact": dict(orig.baseline)}
        for tool in tools:
            if tool == "repair" and orig.layout.k4:
                # repair refuses 4K-page OSTs by design (pstkit writes no such
                # file; it points the user to recover): not a repair result,
                # shown as n/a in the tables.
                row.setdefault("not_applicable", {})[tool] = "4K-page OST: repair refuses it, recover converts it"
                continue
            tool_work = os.path.join(work, tool)
            os.makedirs(tool_work)
            res = run_tool(tool, pstkit, damaged, tool_work, timeout)
            matched, equal = match(orig.items, res.pop("items"), CONTENT_KEY[tool], eligible)
            res["recovered"] = len(matched)
            res["recovered_eligible"] = len(matched & eligible)
            res["content_equal"] = len(equal) if CONTENT_KEY[tool] else None
            row["tools"][tool] = res
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------------
# Tables

def pct(a, b):
    return 100.0 * a / b if b else 100.0


def summarise(rows, tools):
    """Per kind, per tool: copies, mean/min % of items, mean/min % of the
    target items (the eligible ones), content-equal %, check/open counts, and
    copies where the tool got fewer items than libpff or pffexport."""
    out = {}
    for kind in DAMAGE_KINDS:
        kr = [r for r in rows if r["kind"] == kind]
        if not kr:
            continue
        out[kind] = {}
        for tool in tools:
            ts = [(r, r["tools"][tool]) for r in kr if tool in r["tools"]]
            if not ts:
                continue
            shares = [pct(t["recovered"], r["items"]) for r, t in ts]
            target = [pct(t["recovered_eligible"], r["eligible"]) for r, t in ts]
            base = [pct(r["intact"][tool], r["items"]) for r, _ in ts if tool in r.get("intact", {})]
            s = {
                "copies": len(ts),
                "not_applicable": sum(1 for r in kr if tool in r.get("not_applicable", {})),
                "intact_pct": sum(base) / len(base) if base else None,
                "mean_pct": sum(shares) / len(shares),
                "min_pct": min(shares),
                "mean_target_pct": sum(target) / len(target),
                "min_target_pct": min(target),
                "failed_runs": sum(1 for _, t in ts if t["status"].startswith(("timeout", "killed"))),
                # issue 8's target: >= 95 % of the items; on truncation all those before the cut
                "at_target": sum(1 for sh, tg in zip(shares, target)
                                 if (tg >= 100.0 if kind == "truncate" else sh >= TARGET_PCT)),
            }
            if CONTENT_KEY[tool]:
                rec = sum(t["recovered"] for _, t in ts)
                s["content_equal_pct"] = pct(sum(t["content_equal"] for _, t in ts), rec) if rec else None
            if tool in ("repair", "recover"):
                s["check_ok"] = sum(1 for _, t in ts if t.get("check_ok"))
                s["libpff_opens"] = sum(1 for _, t in ts if t.get("libpff_opens"))
                s["readpst_opens"] = sum(1 for _, t in ts if t.get("readpst_opens"))
            if tool in ("repair", "recover", "dump_recover"):
                s["fewer_than_peer"] = sum(
                    1 for r, t in ts
                    if any(p in r["tools"] and t["recovered"] < r["tools"][p]["recovered"]
                           for p in ("libpff", "pffexport")))
            out[kind][tool] = s
    return out


def fmt_pct(v):
    return "n/a" if v is None else "%.1f" % v


def markdown(summary):
    lines = []
    for kind, tools in summary.items():
        trunc = kind == "truncate"
        lines.append("#### %s" % KIND_TITLES[kind])
        lines.append("")
        head = ["tool", "copies", "intact file %", "mean % items", "min % items"]
        if trunc:
            head += ["mean % items before the cut", "min % items before the cut"]
        else:
            head += ["mean % items with intact blocks", "min % items with intact blocks"]
        head += ["copies at target", "content equal %", "check exits 0", "opens in libpff / readpst", "copies < libpff or pffexport",
                 "crashes/timeouts"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---|" + "---:|" * (len(head) - 1))
        for tool, s in tools.items():
            n = s["copies"]
            na = s.get("not_applicable", 0)
            cells = [TOOL_TITLES[tool], "%d" % n + (" (+%d n/a)" % na if na else ""), fmt_pct(s.get("intact_pct")),
                     "%.1f" % s["mean_pct"], "%.1f" % s["min_pct"]]
            cells += ["%.1f" % s["mean_target_pct"], "%.1f" % s["min_target_pct"]]
            cells += ["%d/%d" % (s["at_target"], n), fmt_pct(s.get("content_equal_pct")),
                      "%d/%d" % (s["check_ok"], n) if "check_ok" in s else "-",
                      "%d/%d / %d/%d" % (s["libpff_opens"], n, s["readpst_opens"], n) if "libpff_opens" in s else "-",
                      "%d" % s["fewer_than_peer"] if "fewer_than_peer" in s else "-",
                      "%d" % s["failed_runs"]]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


DOC_HEADING = "## Recovery by damage kind"


def write_docs(path, commands, table, files, when):
    intro = (
        "%s\n\n"
        "Measured by `bench/recovery_bench.py` (method, damage kinds and item matching in its docstring), "
        "%s UTC, on a 2-core machine shared with other jobs:\n\n%s\n\n"
        "Originals: %s. Items are the messages `pstkit dump --json --full` lists in the intact file, "
        "matched one to one by subject for every tool (the key each tool exposes); content equal compares "
        "the whole dumped item (pstkit; except the properties repair sets) or subject + body + attachment "
        "SHA-256 (libpff). Among originals of equal content (copies of a message) an item counts for one with "
        "intact blocks first; one matched by subject alone, for one without first. Items with intact blocks: the items none of whose blocks (message node data and subnode trees, found through the intact file's B-trees, and the name-to-ID map's for an item with named properties) the damage changed -- on truncation, those before the cut -- so a loss there is the tool's, not the damage's. Copies at target: copies where the tool got >= 95 %% of the items, or on truncation "
        "every item whose blocks all lie before the cut (the issue's targets). \"< libpff or pffexport\" counts copies where the pstkit tool got fewer items than "
        "either peer from the same copy. A crash or timeout (60 s) counts 0 items. `repair` is not run on 4K-page OSTs, which it refuses by design (it points to `recover`, which converts them): its rows count those copies as n/a (\"12 (+3 n/a)\"), not among its copies or figures.\n\n" % (
            DOC_HEADING, when, "\n".join("    " + c for c in commands), ", ".join("`%s`" % f for f in files)))
    section = intro + table.rstrip() + "\n"
    text = open(path, encoding="utf-8").read() if os.path.isfile(path) else "# Repair and recovery\n"
    at = text.find(DOC_HEADING + "\n")
    if at >= 0:
        nxt = text.find("\n## ", at + len(DOC_HEADING))
        text = text[:at] + section + (text[nxt + 1:] if nxt >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ----------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pstkit", default=os.path.join(common.repo_root(), "build", "pstkit"))
    ap.add_argument("--corpus")
    ap.add_argument("--files", nargs="+", default=DEFAULT_FILES)
    ap.add_argument("--kinds", default=",".join(DAMAGE_KINDS))
    ap.add_argument("--tools", default=",".join(ALL_TOOLS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--rot-rate", type=float, default=1e-6, help="bit flips per bit for bit_rot")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", help="write every copy's results and the summary here")
    ap.add_argument("--write-docs", action="store_true", help="replace the section in docs/REPAIR.md")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--combine", nargs="+", metavar="JSON",
                    help="measure nothing: merge the rows of earlier --json files (the same copies, "
                         "measured with different --tools) and print/write their table")
    args = ap.parse_args(argv)
    if args.combine:
        return combine(args, argv)
    corpus = common.find_corpus(args.corpus)
    if corpus is None:
        print("recovery bench: no corpus", file=sys.stderr)
        return 2
    pstkit = os.path.abspath(args.pstkit)
    kinds = [k for k in args.kinds.split(",") if k]
    tools = [t for t in args.tools.split(",") if t]
    for k in kinds:
        if k not in DAMAGE_KINDS:
            ap.error("unknown damage kind %r (have %s)" % (k, ", ".join(DAMAGE_KINDS)))
    for t in tools:
        if t not in ALL_TOOLS:
            ap.error("unknown tool %r (have %s)" % (t, ", ".join(ALL_TOOLS)))
    originals = [Original(pstkit, corpus, rel, args.timeout * 5, args.rot_rate) for rel in args.files]
    for o in originals:
        o.measure_intact(pstkit, tools, args.timeout)
    jobs = [(o, k, s) for o in originals for k in kinds
            for s in range(args.first_seed, args.first_seed + args.seeds)]
    rows = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = [pool.submit(measure_copy, pstkit, o, k, s, tools, args.timeout) for o, k, s in jobs]
        for fut in futs:
            row = fut.result()
            rows.append(row)
            if not args.quiet:
                print("%-12s %-60s seed %-3d %-50s %s" % (
                    row["kind"], row["file"][-60:], row["seed"], row["damage"][:50],
                    " ".join("%s=%d/%d%s" % (t, v["recovered"], row["items"],
                                            "" if v["status"] in ("exit 0", "exit 1") else "(%s)" % v["status"])
                             for t, v in row["tools"].items())), file=sys.stderr, flush=True)
    return report(args, argv, rows, tools, args.files, [])


def report(args, argv, rows, tools, files, commands):
    """commands: the command lines of the runs combined (empty for a run)."""
    summary = summarise(rows, tools)
    table = markdown(summary)
    print(table)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    this = "bench/recovery_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    commands = (commands or []) + [this]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "summary": summary, "files": files, "tools": tools,
                       "commands": commands, "when": when}, f, indent=1)
    if args.write_docs:
        write_docs(os.path.join(common.repo_root(), "docs", "REPAIR.md"), commands, table, files, when)
    return 0


def combine(args, argv):
    """Rows of several runs over the same copies (damage is deterministic per
    file, kind and seed), each with its own tools, merged into one."""
    merged: dict = {}
    tools: list = []
    files: list = []
    commands: list = []
    for path in args.combine:
        with open(path) as f:
            run = json.load(f)
        commands += run.get("commands") or []
        for t in run.get("tools") or sorted({t for r in run["rows"] for t in r["tools"]}):
            if t not in tools:
                tools.append(t)
        files += [x for x in run["files"] if x not in files]
        for r in run["rows"]:
            key = (r["file"], r["kind"], r["seed"])
            if key in merged:
                m = merged[key]
                if (m["damage"], m["items"], m["eligible"]) != (r["damage"], r["items"], r["eligible"]):
                    raise SystemExit("%s: copies differ between runs (%r vs %r)" % (key, m["damage"], r["damage"]))
                m["tools"].update(r["tools"])
                m["intact"].update(r.get("intact", {}))
                m.setdefault("not_applicable", {}).update(r.get("not_applicable", {}))
            else:
                merged[key] = r
    tools = [t for t in ALL_TOOLS if t in tools]
    return report(args, argv, list(merged.values()), tools, files, commands)


if __name__ == "__main__":
    sys.exit(main())
