#!/usr/bin/python3
"""Peak memory of a full read: `pstkit dump --json --full` must stay flat.

Usage: test_dump_memory.py --pstkit BIN [--corpus DIR]

Runs `pstkit dump --json --full FILE > /dev/null` on the largest corpus files
and measures the process' peak RSS (/usr/bin/time), minus the RSS of `pstkit
--version` (the program and its libraries). What the read adds must stay
under LIMIT_MB whatever the file's size: the block cache, the B-tree page
cache, the output buffer and the item being read. A 16 MiB block cache made
it grow with the file (16 MB over the start-up RSS on enron.pst, 14 MB).
Skipped for sanitizer builds, whose allocators keep freed memory on purpose.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

LIMIT_MB = 8.0
FILES = ["pst-extractor-npm/enron.pst", "pst-extractor-npm/pstextractortest@outlook.com.ost"]


def peak_rss_kb(cmd: list[str]) -> tuple[int, int]:
    """(exit status, peak RSS in KB) of cmd with stdout to /dev/null.

    Measured by /usr/bin/time rather than by this script's own wait4: Linux
    counts in a child's ru_maxrss the memory of the process it was forked
    from before exec (here, Python's).
    """
    with open(os.devnull, "wb") as null:
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "--"] + cmd, stdout=null,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300)
    last = r.stderr.decode(errors="replace").strip().splitlines()[-1:]
    return r.returncode, int(last[0]) if last and last[0].isdigit() else 0


def sanitized(binary: str) -> bool:
    markers = (b"__asan_init", b"__tsan_init", b"__msan_init")
    tail = b""
    with open(binary, "rb") as f:
        while chunk := f.read(1 << 20):
            window = tail + chunk
            if any(m in window for m in markers):
                return True
            tail = chunk[-16:]
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    if not os.access("/usr/bin/time", os.X_OK):
        print("test_dump_memory: /usr/bin/time not installed (Debian: time): skipped")
        return 0
    if sanitized(args.pstkit):
        print("test_dump_memory: sanitizer build: skipped")
        return 0
    corpus = common.find_corpus(args.corpus)
    if corpus is None:
        return common.skip_or_fail_missing_corpus(corpus, "test_dump_memory")

    rc, base = peak_rss_kb([args.pstkit, "--version"])
    if rc != 0:
        print(f"FAIL pstkit --version exited {rc}")
        return 1
    failed = 0
    checked = 0
    for rel in FILES:
        path = os.path.join(corpus, rel)
        if not os.path.exists(path):
            print(f"SKIP {rel}: not in the corpus")
            continue
        checked += 1
        rc, peak = peak_rss_kb([args.pstkit, "dump", "--json", "--full", path])
        added = (peak - base) / 1024
        size = os.path.getsize(path) / 1048576
        ok = rc == 0 and added <= LIMIT_MB
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {rel} ({size:.1f} MB): exit {rc}, peak RSS {peak / 1024:.1f} MB, "
              f"{added:.1f} MB over start-up ({base / 1024:.1f} MB; limit {LIMIT_MB:.0f} MB)")
    if checked == 0:
        return common.skip_or_fail_missing_corpus(None, "test_dump_memory: none of " + ", ".join(FILES))
    print(f"{checked - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
