#!/usr/bin/python3
"""Bit rot: a single flipped bit in a block or a B-tree page is corrected
with the CRC (MS-PST 5.3) by every salvaging reader.

A store from make_sample_pst gets one bit flipped at a time: in the NBT and
BBT root pages (read from `pstkit info --json`) and at offsets spread over
the whole file. Wherever `pstkit check` then reports BLOCK_CRC for a block
or PAGE_CRC for an NBT or BBT page (the file is damaged until repaired), `pstkit dump --json --full --recover`
must print exactly what `dump --json --full` printed for the intact file,
and say on stderr that it corrected a bit. Flips that check does not see as
a CRC failure (free space, padding) are not counted. Then `repair` of one
damaged copy must leave a file that checks clean with the same content.

Usage: test_bit_rot.py --pstkit BIN
Closes with "N passed, M failed".
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# check's findings on a block or a B-tree page (an AMap or PMap page is
# rebuilt by repair, never read by dump, and not corrected).
FINDING = re.compile(rb"^(BLOCK_CRC) block |^(PAGE_CRC) (?:NBT|BBT) page ", re.M)
CORRECTED = re.compile(rb"; (\d+) blocks and (\d+) B-tree pages had a flipped bit corrected")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    args = ap.parse_args()
    make_sample = os.path.join(os.path.dirname(os.path.abspath(args.pstkit)), "make_sample_pst")
    summary = common.Summary()
    work = tempfile.mkdtemp(prefix="pstkit-bitrot-")
    try:
        s = common.CliSession(args.pstkit, make_sample, work, summary)
        sample = s.sample("sample.pst")
        intact = s.run("dump", "--json", "--full", sample)
        info = json.loads(s.run("info", "--json", sample).stdout)
        data = open(sample, "rb").read()
        roots = [info["header"]["nbt_root"]["offset"], info["header"]["bbt_root"]["offset"]]
        # Bytes 16.. of a root page are entries; spread offsets step an odd
        # stride so they fall at every position within blocks.
        offsets = [r + 40 for r in roots] + list(range(0x4600, len(data), 4099))
        seen = {"BLOCK_CRC": 0, "PAGE_CRC": 0}
        repaired_one = False
        for n, off in enumerate(offsets):
            copy = s.path("damaged.pst")
            d = bytearray(data)
            d[off] ^= 1 << (n % 8)
            open(copy, "wb").write(d)
            check = s.run("check", copy)
            codes = sorted({(m.group(1) or m.group(2)).decode() for m in FINDING.finditer(check.stdout)})
            if not codes:
                continue
            for c in codes:
                seen[c] += 1
            name = "bit %d at %#x (%s)" % (n % 8, off, ",".join(codes))
            got = s.run("dump", "--json", "--full", "--recover", copy)
            m = CORRECTED.search(got.stderr)
            if got.returncode != 0 or got.stdout != intact.stdout:
                summary.error(name, "dump --recover differs from the intact file's dump (%s): %s"
                              % (got.describe(), common.one_line(got.stderr)))
            elif not m or int(m.group(1)) + int(m.group(2)) < 1:
                summary.error(name, "no correction reported: " + common.one_line(got.stderr))
            else:
                summary.ok(name)
            if not repaired_one and "BLOCK_CRC" in codes:
                repaired_one = True
                r = s.run("repair", "--no-backup", "--log", s.path("repair.log"), copy)
                log = open(s.path("repair.log")).read() if os.path.exists(s.path("repair.log")) else ""
                after = s.run("check", copy)
                content = s.run("dump", "--json", "--full", copy)
                ok = (r.returncode == 0 and after.returncode == 0 and "BIT_CORRECTED" in log)
                # repair sets some properties of what it rebuilt; the items
                # themselves must be there with the same subjects.
                subjects = lambda out: sorted(o.get("subject", "") for o in map(json.loads, out.splitlines())
                                              if o.get("type") == "item")
                ok = ok and subjects(content.stdout) == subjects(intact.stdout)
                summary.result("repair " + name, ok,
                               "repair %s, check %s, BIT_CORRECTED logged: %s"
                               % (r.describe(), after.describe(), "BIT_CORRECTED" in log))
        for code, count in seen.items():
            summary.result("flips seen as " + code, count > 0, "%d" % count)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
