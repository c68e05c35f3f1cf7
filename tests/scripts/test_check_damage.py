#!/usr/bin/env python3
"""`pstkit check` end to end: healthy files pass, damaged copies fail naming
the damaged structure, and nothing crashes or hangs.

Usage: python3 tests/scripts/test_check_damage.py --pstkit build/pstkit [--corpus DIR]

Damage is made on copies in a temporary directory; the corpus is only read.
Exit status is 0 when every case passes; the last line is "N passed, M failed".
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SAMPLE_UNICODE = "pstsdk/sample1.pst"
SAMPLE_ANSI = "pstsdk/sample2.pst"
SAMPLE_OST4K = "pst-extractor-npm/pstextractortest@outlook.com.ost"
NOT_PST = ["aspose-cpp/SMTP_Outlook.pst", "hughbe-pstreader_jashmenn-pst.rb/albert_meyers_000.pst"]
TRUNCATED_HEADER = "pstreader/truncated-in-header.bin"


def pst_crc(data: bytes) -> int:
    """MS-PST 5.3 CRC: the reflected CRC-32 table with seed 0, no final xor."""
    import zlib
    return (~zlib.crc32(data, 0xFFFFFFFF)) & 0xFFFFFFFF


class Layout:
    """The few header fields and sizes the damage cases need (MS-PST 2.2.2.6)."""

    def __init__(self, data: bytes) -> None:
        self.ansi = struct.unpack_from("<H", data, 10)[0] in (14, 15)
        if self.ansi:
            self.nbt_bid, self.nbt_ib, self.bbt_bid, self.bbt_ib = struct.unpack_from("<IIII", data, 184)
            self.trailer, self.entries = 12, 496
        else:
            self.nbt_bid, self.nbt_ib, self.bbt_bid, self.bbt_ib = struct.unpack_from("<QQQQ", data, 216)
            self.trailer, self.entries = 16, 488

    def fix_page_crc(self, data: bytearray, ib: int) -> None:
        crc = pst_crc(bytes(data[ib:ib + 512 - self.trailer]))
        at = ib + 512 - self.trailer + (8 if self.ansi else 4)
        struct.pack_into("<I", data, at, crc)

    def bbt_leaf_entries(self, data: bytes):
        """(bid, ib, cb) of every BBT leaf entry, walking from the root."""
        out = []
        stack = [self.bbt_ib]
        seen = set()
        while stack:
            ib = stack.pop()
            if ib in seen or ib + 512 > len(data):
                continue
            seen.add(ib)
            cent, _, cbent, level = data[ib + self.entries], data[ib + self.entries + 1], \
                data[ib + self.entries + 2], data[ib + self.entries + 3]
            for i in range(cent):
                e = ib + i * cbent
                if self.ansi:
                    if level:
                        stack.append(struct.unpack_from("<I", data, e + 8)[0])
                    else:
                        bid, bib, cb = struct.unpack_from("<IIH", data, e)
                        out.append((bid, bib, cb))
                else:
                    if level:
                        stack.append(struct.unpack_from("<Q", data, e + 16)[0])
                    else:
                        bid, bib, cb = struct.unpack_from("<QQH", data, e)
                        out.append((bid, bib, cb))
        return out


class Checker:
    def __init__(self, pstkit: str, tmp: str, summary: common.Summary) -> None:
        self.pstkit = pstkit
        self.tmp = tmp
        self.summary = summary

    def run(self, path: str, json: bool = False) -> common.RunResult:
        cmd = [self.pstkit, "check", path] + (["--json"] if json else [])
        return common.run(cmd, timeout=120)

    def copy(self, src: str, name: str) -> str:
        dst = os.path.join(self.tmp, name)
        shutil.copyfile(src, dst)
        return dst

    def expect(self, name: str, path: str, exit_code: int, stdout_has=(), stderr_has=(),
               json: bool = False) -> common.RunResult | None:
        r = self.run(path, json=json)
        problems = []
        if r.timed_out or r.crashed:
            problems.append(r.describe())
        elif r.returncode != exit_code:
            problems.append(f"exit {r.returncode}, expected {exit_code}")
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        for s in stdout_has:
            if s not in out:
                problems.append(f"stdout lacks {s!r}")
        for s in stderr_has:
            if s not in err:
                problems.append(f"stderr lacks {s!r}")
        if problems:
            self.summary.diff(name, problems + ["stdout: " + common.one_line(out, 400),
                                                "stderr: " + common.one_line(err, 400)])
            return None
        self.summary.ok(name)
        return r


def damage(src: str, edit) -> bytes:
    data = bytearray(open(src, "rb").read())
    edit(data)
    return bytes(data)


def write(path: str, data: bytes) -> str:
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pstkit", required=True, help="path of the pstkit binary")
    ap.add_argument("--corpus", help="corpus directory (default: ../shared/corpus)")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args()

    corpus = common.find_corpus(args.corpus)
    if corpus is None or not os.path.isfile(os.path.join(corpus, SAMPLE_UNICODE)):
        return common.skip_or_fail_missing_corpus(corpus, "test_check_damage")

    def cp(rel: str) -> str:
        return os.path.join(corpus, rel)

    summary = common.Summary()
    with tempfile.TemporaryDirectory(prefix="pstkit_check_") as tmp:
        c = Checker(os.path.abspath(args.pstkit), tmp, summary)

        # Healthy files: exit 0 and a clean summary.
        for rel in (SAMPLE_UNICODE, SAMPLE_ANSI, SAMPLE_OST4K):
            if os.path.isfile(cp(rel)):
                c.expect(f"healthy {rel}", cp(rel), 0, stdout_has=["0 errors"])
        r = c.expect(f"healthy {SAMPLE_UNICODE} --json", cp(SAMPLE_UNICODE), 0, json=True)
        if r is not None:
            objs, problems = common.parse_json_lines(r.stdout)
            if problems or not objs or objs[-1].get("type") != "summary" or objs[-1].get("clean") is not True:
                summary.diff("json summary", problems or [common.one_line(r.stdout)])
            else:
                summary.ok("json summary")

        for rel in (SAMPLE_UNICODE, SAMPLE_ANSI):
            src = cp(rel)
            base = os.path.basename(rel)
            lay = Layout(open(src, "rb").read())

            # A byte past the NBT root's entries: PAGE_CRC on that page.
            def nbt_flip(d, lay=lay):
                cent, cbent = d[lay.nbt_ib + lay.entries], d[lay.nbt_ib + lay.entries + 2]
                d[lay.nbt_ib + min(cent * cbent, lay.entries - 1)] ^= 0x5A
            p = write(os.path.join(tmp, "nbt_" + base), damage(src, nbt_flip))
            c.expect(f"NBT page byte ({base})", p, 1, stdout_has=[f"PAGE_CRC NBT page offset={lay.nbt_ib:#x}"])

            # A byte inside a data block: BLOCK_CRC at the block's offset.
            blocks = [b for b in lay.bbt_leaf_entries(open(src, "rb").read()) if not b[0] & 2 and b[2] > 16]
            bid, bib, cb = blocks[len(blocks) // 2]
            p = write(os.path.join(tmp, "block_" + base), damage(src, lambda d: d.__setitem__(bib + 3, d[bib + 3] ^ 1)))
            c.expect(f"data block byte ({base})", p, 1, stdout_has=[f"BLOCK_CRC block offset={bib:#x} id={bid:#x}"])

            # An AMap byte: PAGE_CRC on the AMap page.
            p = write(os.path.join(tmp, "amap_" + base), damage(src, lambda d: d.__setitem__(0x4400 + 77, d[0x4400 + 77] ^ 4)))
            c.expect(f"AMap byte ({base})", p, 1, stdout_has=["PAGE_CRC AMap page offset=0x4400"])

            # Zeroed header CRC.
            p = write(os.path.join(tmp, "hdr_" + base), damage(src, lambda d: d.__setitem__(slice(4, 8), b"\0\0\0\0")))
            c.expect(f"zeroed header CRC ({base})", p, 1, stdout_has=["HEADER_CRC_PARTIAL header offset=0x4"])

            # A BBT entry with another cb, page CRC fixed: the block check fires.
            def bbt_cb(d, lay=lay):
                ib = lay.bbt_ib
                while d[ib + lay.entries + 3] > 0:  # descend to the first leaf (BTENTRY's BREF.ib)
                    ib = struct.unpack_from("<I", d, ib + 8)[0] if lay.ansi else struct.unpack_from("<Q", d, ib + 16)[0]
                cb_at = ib + (8 if lay.ansi else 16)
                struct.pack_into("<H", d, cb_at, struct.unpack_from("<H", d, cb_at)[0] + 1)
                lay.fix_page_crc(d, ib)
            p = write(os.path.join(tmp, "bbtcb_" + base), damage(src, bbt_cb))
            c.expect(f"BBT entry cb ({base})", p, 1, stdout_has=["BLOCK_TRAILER block"])

            # Truncated tail.
            data = open(src, "rb").read()
            p = write(os.path.join(tmp, "cut_" + base), data[: len(data) * 3 // 5])
            c.expect(f"truncated to 60% ({base})", p, 1, stdout_has=["HEADER_FILE_EOF"])

        # Not PST files and a truncated header: exit 1 with a clear message.
        for rel in NOT_PST:
            if os.path.isfile(cp(rel)):
                c.expect(f"not a PST: {rel}", cp(rel), 1, stderr_has=["not a PST"])
        if os.path.isfile(cp(TRUNCATED_HEADER)):
            c.expect(f"truncated header: {TRUNCATED_HEADER}", cp(TRUNCATED_HEADER), 1,
                     stdout_has=["HEADER_TRUNCATED"])
        c.expect("missing file", os.path.join(tmp, "does-not-exist.pst"), 1, stderr_has=["pstkit:"])
        empty = write(os.path.join(tmp, "empty.pst"), b"")
        c.expect("empty file", empty, 1, stderr_has=["not a PST"])

        # Random damage: any exit 0 or 1, never a crash or a hang, and the
        # JSON stays well formed.
        rng = random.Random(args.seed)
        sources = [cp(r) for r in (SAMPLE_UNICODE, SAMPLE_ANSI) if os.path.isfile(cp(r))]
        bad = []
        for i in range(40):
            src = sources[i % len(sources)]
            data = bytearray(open(src, "rb").read())
            for _ in range(rng.randint(1, 200)):
                at = rng.randrange(0, 600) if rng.random() < 0.1 else rng.randrange(0x4200, len(data))
                data[at] = rng.randrange(256)
            p = write(os.path.join(tmp, f"random_{i}.pst"), bytes(data))
            r = c.run(p, json=True)
            if r.timed_out or r.crashed or r.returncode not in (0, 1):
                bad.append(f"random_{i}: {r.describe()}")
                continue
            if r.returncode == 0 or r.stdout:
                objs, problems = common.parse_json_lines(r.stdout)
                if problems or not objs or objs[-1].get("type") != "summary":
                    bad.append(f"random_{i}: bad JSON: {problems[:2]}")
        if bad:
            summary.diff("random damage (40 copies)", bad)
        else:
            summary.ok("random damage (40 copies)")

    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
