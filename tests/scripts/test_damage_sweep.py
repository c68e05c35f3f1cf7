#!/usr/bin/python3
"""Damages corpus files at many random offsets and runs every read command.

For each of several files (ANSI, Unicode with permute and cyclic encoding,
512-byte-page OST, 4K-page OST with compressed blocks), COPIES copies get
random bytes overwritten (B-tree pages, blocks, header) or their tail cut
off; `pstkit info`, `ls -r`, `dump --json --full`, `check` and
`dump --json --recover --deleted` (salvage) must each
exit 0 or 1 within the timeout, never by a signal or a sanitizer report, and
print well-formed JSON lines where they print JSON.

Usage: test_damage_sweep.py --pstkit BIN [--copies N] [--seed S]
Closes with "N passed, M failed".
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

FILES = [
    "pstsdk/sample2.pst",                                                        # ANSI
    "pstsdk/submessage.pst",                                                     # Unicode, embedded message
    "hughbe-pstreader_simiden-pst2john/2003_high-encryption_quickquick.pst",     # cyclic
    "aspose-net/SampleOstFile.ost",                                              # OST, 512-byte pages
    "pst-extractor-npm/pstextractortest@outlook.com.ost",                        # 4K pages, zlib blocks
]
SANITIZER_EXIT = 86  # set below for ASan/UBSan builds, to tell their reports from exit 1


def damage(data, rng):
    data = bytearray(data)
    kind = rng.random()
    if kind < 0.15:
        return bytes(data[:rng.randrange(0, len(data))])  # truncated tail
    for _ in range(rng.randint(1, 64)):
        if rng.random() < 0.05:
            at = rng.randrange(0, min(len(data), 600))  # the header
        else:
            at = rng.randrange(0, len(data))
        if rng.random() < 0.3:  # a run of zeros or 0xFF
            n = rng.randint(2, 64)
            data[at:at + n] = bytes([rng.choice((0, 255))]) * len(data[at:at + n])
        else:
            data[at] = rng.randrange(256)
    return bytes(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("--copies", type=int, default=int(os.environ.get("PSTKIT_DAMAGE_COPIES", "24")))
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    corpus = common.find_corpus(args.corpus)
    if corpus is None:
        return common.skip_or_fail_missing_corpus(corpus, "damage sweep")
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":exitcode=%d" % SANITIZER_EXIT).lstrip(":")
    env["UBSAN_OPTIONS"] = (env.get("UBSAN_OPTIONS", "") + ":halt_on_error=1:exitcode=%d" % SANITIZER_EXIT).lstrip(":")
    rng = random.Random(args.seed)
    print("seed %d" % args.seed)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="pstkit-damage-") as tmp:
        for rel in FILES:
            src = os.path.join(corpus, rel)
            if not os.path.isfile(src):
                print("MISSING %s" % rel)
                failed += 1
                continue
            original = open(src, "rb").read()
            bad = []
            for i in range(args.copies):
                path = os.path.join(tmp, "damaged-%d.pst" % i)
                with open(path, "wb") as f:
                    f.write(damage(original, rng))
                for cmd in (["info", path], ["ls", "-r", path], ["dump", "--json", "--full", path],
                            ["check", "--json", path], ["dump", "--json", "--recover", "--deleted", path]):
                    try:
                        r = subprocess.run([args.pstkit, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           timeout=args.timeout, env=env)
                    except subprocess.TimeoutExpired:
                        bad.append("copy %d: %s: timeout" % (i, cmd[0]))
                        continue
                    if r.returncode not in (0, 1):
                        tail = r.stderr.decode(errors="replace").strip().splitlines()[-3:]
                        bad.append("copy %d: %s: exit %d %s" % (i, cmd[0], r.returncode, tail))
                        continue
                    if cmd[0] in ("dump", "check"):
                        for line in r.stdout.splitlines():
                            try:
                                json.loads(line)
                            except ValueError:
                                bad.append("copy %d: %s: bad JSON line" % (i, cmd[0]))
                                break
                    if r.returncode == 1 and not r.stderr and cmd[0] == "info":
                        bad.append("copy %d: info exit 1 without a message" % i)
            if bad:
                failed += 1
                print("FAIL  %s: %s" % (rel, "; ".join(bad[:5])))
            else:
                passed += 1
                print("OK    %s (%d damaged copies x 5 commands)" % (rel, args.copies))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
