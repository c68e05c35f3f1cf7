#!/usr/bin/python3
"""Reading commands load no MIME, compound file, ICU or crypto library; import loads GMime.

Usage: test_lazy_libraries.py --pstkit BIN [--corpus DIR]

Start-up time of pstkit on small files was mostly the dynamic loader binding
GMime, GLib, ICU and libcrypto (issue 7, item 11). GMime and ICU are now
opened on first use (dlopen) and SHA-256 comes from static nettle, so:
  * `--version`, `info`, `ls`, `check` and `dump --json --full` on corpus
    files load none of them (seen through LD_DEBUG=files);
  * `import` loads GMime and imports;
  * `export --format eml` writes its MIME text itself: a store whose messages
    keep no Internet headers exports without loading GMime;
  * with an unusable libgmime-3.0.so.0 first on LD_LIBRARY_PATH (a copy of
    zlib under that name), `import` fails cleanly, naming the library, and
    leaves no PST behind, while reading commands still work, and EML export
    copies 7-bit stored address headers as they are (enron.pst, exit 0).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# Libraries no reading command may load (prefixes of sonames).
NOT_FOR_READING = ("libgmime-", "libgsf-", "libglib-", "libgobject-", "libgio-", "libicu", "libcrypto.", "libssl.")
FILES = ["hughbe-pstreader_simiden-pst2john/2003_compressable-encryption_quickbrownfox.pst",
         "pst-extractor-npm/enron.pst"]
ZLIB = "/lib/x86_64-linux-gnu/libz.so.1"
EML = b"From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: lazy\r\n\r\nHello.\r\n"


def loaded_libraries(cmd: list[str], scratch: str, env: dict | None = None) -> tuple[int, set[str], str]:
    """(exit status, sonames the dynamic loader opened, stderr) of cmd."""
    for f in glob.glob(os.path.join(scratch, "ld.*")):
        os.remove(f)
    e = dict(os.environ)
    e.update(env or {})
    e["LD_DEBUG"] = "files"
    e["LD_DEBUG_OUTPUT"] = os.path.join(scratch, "ld")
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       env=e, timeout=300)
    names = set()
    for f in glob.glob(os.path.join(scratch, "ld.*")):
        with open(f, errors="replace") as log:
            for line in log:
                # "     12345:	file=libgmime-3.0.so.0 [0];  dynamically loaded by ..."
                at = line.find("file=")
                if at >= 0:
                    names.add(os.path.basename(line[at + 5:].split()[0]))
    return r.returncode, names, r.stderr.decode(errors="replace")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    corpus = common.find_corpus(args.corpus)
    if corpus is None:
        return common.skip_or_fail_missing_corpus(corpus, "test_lazy_libraries")

    passed = failed = 0

    def report(ok: bool, what: str) -> None:
        nonlocal passed, failed
        passed += ok
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {what}")

    scratch = tempfile.mkdtemp(prefix="pstkit-lazy-")
    try:
        reading = [["--version"]]
        for rel in FILES:
            path = os.path.join(corpus, rel)
            if not os.path.exists(path):
                print(f"SKIP {rel}: not in the corpus")
                continue
            reading += [["info", path], ["ls", "-r", path], ["check", path], ["dump", "--json", "--full", path]]
        for argv in reading:
            rc, names, err = loaded_libraries([pstkit] + argv, scratch)
            bad = sorted(n for n in names if n.startswith(NOT_FOR_READING))
            report(rc == 0 and bool(names) and not bad,
                   f"pstkit {' '.join(os.path.relpath(a, corpus) if a.startswith(corpus) else a for a in argv)}: exit {rc}, {len(names)} libraries"
                   + (f", loads {', '.join(bad)}" if bad else "") + (f" ({err.strip()[:200]})" if rc else ""))

        quick = os.path.join(corpus, FILES[0])
        if os.path.exists(quick):
            out = os.path.join(scratch, "eml-out")
            rc, names, err = loaded_libraries([pstkit, "export", "-q", "-o", out, quick], scratch)
            emls = sum(n.endswith(".eml") for _, _, ns in os.walk(out) for n in ns)
            glib = sorted(n for n in names if n.startswith(("libgmime-", "libglib-", "libgobject-")))
            report(rc == 0 and emls > 0 and not glib,
                   f"export --format eml of {FILES[0]}: exit {rc}, {emls} .eml files"
                   + (f", loads {', '.join(glib)}" if glib else ", no GMime") + (f" ({err.strip()[:200]})" if rc else ""))

        eml = os.path.join(scratch, "m.eml")
        with open(eml, "wb") as f:
            f.write(EML)
        pst = os.path.join(scratch, "out.pst")
        rc, names, err = loaded_libraries([pstkit, "import", "--create", pst, eml], scratch)
        gmime = any(n.startswith("libgmime-3.0.so") for n in names)
        report(rc == 0 and gmime and os.path.exists(pst),
               f"import: exit {rc}, GMime {'loaded' if gmime else 'NOT loaded'} ({err.strip()[:200]})")

        # An unusable GMime: a clear error, no crash, no PST created.
        fake = os.path.join(scratch, "libs")
        os.mkdir(fake)
        if not os.path.exists(ZLIB):
            print(f"SKIP unusable GMime: no {ZLIB} to stand in for it")
        else:
            shutil.copy(ZLIB, os.path.join(fake, "libgmime-3.0.so.0"))
            env = {"LD_LIBRARY_PATH": fake}
            pst2 = os.path.join(scratch, "never.pst")
            rc, _, err = loaded_libraries([pstkit, "import", "--create", pst2, eml], scratch, env)
            named = "MIME import and export need GMime 3 (libgmime-3.0.so.0)" in err
            report(rc == 1 and named and not os.path.exists(pst2),
                   f"import with an unusable libgmime-3.0.so.0: exit {rc}, "
                   f"{'PST not created' if not os.path.exists(pst2) else 'PST CREATED'}: {err.strip()[:300]}")
            rc, _, err = loaded_libraries([pstkit, "dump", "--json", "--full", pst], scratch, env)
            report(rc == 0, f"dump with an unusable libgmime-3.0.so.0: exit {rc} {err.strip()[:200]}")
            enron = os.path.join(corpus, FILES[1])
            if os.path.exists(enron):
                out = os.path.join(scratch, "enron-eml")
                rc, _, err = loaded_libraries([pstkit, "export", "-q", "-o", out, enron], scratch, env)
                emls = sum(n.endswith(".eml") for _, _, ns in os.walk(out) for n in ns)
                report(rc == 0 and emls > 0,
                       f"export --format eml of enron.pst with an unusable libgmime-3.0.so.0: exit {rc}, "
                       f"{emls} .eml files {err.strip()[:200]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
