#!/usr/bin/python3
"""src/messaging/property_names.inc is what tools/gen_property_names.py makes of
tools/property_names.tsv, so that the facts and the compiled table never drift.

Usage: test_property_names_table.py [--pstkit BIN]   (BIN is accepted and unused)
Closes with "N passed, M failed".
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", help="unused; every script test is given it")
    ap.parse_args()
    root = common.repo_root()
    summary = common.Summary()
    r = common.run([sys.executable, os.path.join(root, "tools", "gen_property_names.py"),
                    os.path.join(root, "tools", "property_names.tsv")], timeout=120)
    if r.returncode != 0:
        summary.error("gen_property_names.py", f"{r.describe()}: {common.one_line(r.stderr)}")
        return summary.close()
    with open(os.path.join(root, "src", "messaging", "property_names.inc"), "rb") as fh:
        table = fh.read()
    if r.stdout == table:
        summary.ok("property_names.inc is generated from property_names.tsv")
    else:
        got, want = r.stdout.decode().splitlines(), table.decode().splitlines()
        diff = [f"line {i + 1}: generated {a!r}, checked in {b!r}" for i, (a, b) in enumerate(zip(got, want)) if a != b]
        if len(got) != len(want):
            diff.append(f"generated {len(got)} lines, checked in {len(want)}")
        summary.diff("property_names.inc is generated from property_names.tsv (regenerate it)", diff)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
