#!/usr/bin/python3
"""Large attachments are streamed into the exported file: memory stays bounded.

Usage: test_export_stream.py --pstkit BIN [--corpus DIR]

  * A store holding a message with a 48 MiB attachment (imported from an
    .eml this script writes): `export --format eml` and `--format maildir`
    write it with a peak RSS under LIMIT_MB over `pstkit --version`'s (read
    whole, the attachment and its base64 alone are 113 MiB); Python's email
    parser reads the file with no defect, and the attachment decodes to the
    bytes imported; manifest.json has the file's SHA-256.
  * The same exports with streaming off (PSTKIT_TEST_STREAM_ABOVE, a
    test-only threshold) are byte-identical, manifest included.
  * Corpus files exported with every attachment streamed
    (PSTKIT_TEST_STREAM_ABOVE=0), eml and maildir, 2 jobs: identical to the
    default export, manifest included.
  * A streamed attachment with a damaged block (a store without block
    encoding, one byte of the attachment's data flipped, so that the
    block's CRC fails): the export reads it block by block without checking
    first, fails on the damaged one and converts the message again. The
    message is exported without the attachment, with a note naming it, and
    the export (manifest included) is identical to one that reads the
    attachment whole (streaming off).
  * A write that fails, as on a full disk (RLIMIT_FSIZE: no file may grow
    past 200 kB; enron.pst, eml and maildir, its large messages written
    whole and streamed):
    exit 1, manifest.json says where the export stopped, naming the file
    by its whole path; `--resume` without the limit then finishes it
    (exit 0), identical to an uninterrupted export, manifest included.
The memory check is skipped in sanitizer builds (their allocators keep
freed memory on purpose); the rest runs there too.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import filecmp
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from test_dump_memory import peak_rss_kb, sanitized  # noqa: E402

LIMIT_MB = 40.0
ATTACHMENT_MB = 48
CORPUS_FILES = ["pst-extractor-npm/enron.pst", "pst-extractor-npm/pstextractortest@outlook.com.ost",
                "aspose-net/SampleOstFile.ost"]


def attachment_bytes(size: int = ATTACHMENT_MB << 20) -> bytes:
    """Deterministic bytes that do not compress: SHA-256 in counter mode."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(8, "little")).digest() * 64  # 2 KiB per digest
        counter += 1
    return bytes(out[:size])


def write_eml(path: str, data: bytes) -> None:
    msg = email.message.EmailMessage()
    msg["From"] = "Sender <sender@example.com>"
    msg["To"] = "Receiver <receiver@example.com>"
    msg["Subject"] = "a large attachment"
    msg["Date"] = "Mon, 07 Dec 2026 10:00:00 +0000"
    msg["Message-ID"] = "<large@example.com>"
    msg.set_content("The attachment is large.\n")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename="large.bin")
    with open(path, "wb") as f:
        f.write(msg.as_bytes(policy=email.policy.SMTP))


def trees_identical(a: str, b: str) -> list[str]:
    """Files that differ or exist on one side only (the journal left out)."""
    out = []
    for root, _, files in os.walk(a):
        for name in files:
            if name.startswith(".pstkit-export-journal"):
                continue
            pa = os.path.join(root, name)
            pb = os.path.join(b, os.path.relpath(pa, a))
            if not os.path.exists(pb) or not filecmp.cmp(pa, pb, shallow=False):
                out.append(os.path.relpath(pa, a))
    for root, _, files in os.walk(b):
        for name in files:
            pb = os.path.join(root, name)
            if not name.startswith(".pstkit-export-journal") and not os.path.exists(os.path.join(a, os.path.relpath(pb, b))):
                out.append(os.path.relpath(pb, b) + " (only in the second)")
    return out


def stream_env(stream_above: str | None) -> dict:
    """The environment with PSTKIT_TEST_STREAM_ABOVE set to stream_above (None: unset)."""
    env = dict(os.environ)
    env.pop("PSTKIT_TEST_STREAM_ABOVE", None)
    if stream_above is not None:
        env["PSTKIT_TEST_STREAM_ABOVE"] = stream_above
    return env


def export(pstkit: str, fmt: str, src: str, out: str, stream_above: str | None = None, jobs: str = "2") -> common.RunResult:
    return common.run([pstkit, "export", "-q", "--jobs", jobs, "--format", fmt, "-o", out, src], timeout=600,
                      env=stream_env(stream_above))


def make_store(pstkit: str, summary: common.Summary, work: str, name: str, data: bytes,
               create_options: tuple[str, ...] = ()) -> str | None:
    """WORK/NAME.pst holding one message with `data` as its attachment large.bin (imported from an .eml)."""
    eml, pst = os.path.join(work, name + ".eml"), os.path.join(work, name + ".pst")
    write_eml(eml, data)
    for cmd in ([pstkit, "create", *create_options, pst], [pstkit, "import", pst, eml]):
        r = common.run(cmd, timeout=600)
        if r.returncode != 0:
            summary.error(name + " store", f"{cmd[1]} exited {r.returncode}: {common.one_line(r.stderr)}")
            return None
    os.remove(eml)
    return pst


def report(summary: common.Summary, name: str, problems: list[str], note: str) -> None:
    if problems:
        summary.diff(name, problems)
    else:
        summary.ok(name, note)


def check_large(pstkit: str, summary: common.Summary, work: str) -> None:
    data = attachment_bytes()
    digest = hashlib.sha256(data).hexdigest()
    pst = make_store(pstkit, summary, work, "large", data)
    if pst is None:
        return
    check_memory = os.access("/usr/bin/time", os.X_OK) and not sanitized(pstkit)
    _, base = peak_rss_kb([pstkit, "--version"]) if check_memory else (0, 0)
    for fmt in ("eml", "maildir"):
        out = os.path.join(work, "out-" + fmt)
        name = f"48 MiB attachment, --format {fmt}"
        if check_memory:
            rc, peak = peak_rss_kb([pstkit, "export", "-q", "--format", fmt, "-o", out, pst])
            added = (peak - base) / 1024
            if rc != 0 or added > LIMIT_MB:
                summary.error(name, f"exit {rc}, peak RSS {peak / 1024:.1f} MB, {added:.1f} MB over start-up "
                                    f"(limit {LIMIT_MB:.0f} MB)")
                continue
            note = f"peak RSS {added:.1f} MB over start-up"
        else:
            r = export(pstkit, fmt, pst, out, jobs="0")
            if r.returncode != 0:
                summary.error(name, f"exit {r.returncode}: {common.one_line(r.stderr)}")
                continue
            note = "memory not measured (sanitizer build or no /usr/bin/time)"
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
            files = json.load(f)["files"]
        messages = [p for p in files if p.endswith(".eml") or "/cur/" in p]
        if len(messages) != 1:
            summary.error(name, f"{len(messages)} message files in the manifest: {sorted(files)}")
            continue
        path = os.path.join(out, messages[0])
        with open(path, "rb") as f:
            raw = f.read()
        problems = []
        if hashlib.sha256(raw).hexdigest() != files[messages[0]]:
            problems.append("the manifest's SHA-256 is not the file's")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        if parsed.defects:
            problems.append(f"defects {parsed.defects}")
        parts = [p for p in parsed.iter_attachments() if p.get_filename() == "large.bin"]
        if len(parts) != 1:
            problems.append(f"{len(parts)} attachments named large.bin")
        elif hashlib.sha256(parts[0].get_content()).hexdigest() != digest:
            problems.append("the attachment does not decode to the bytes imported")
        # Streaming off: the same bytes.
        whole = os.path.join(work, "whole-" + fmt)
        r = export(pstkit, fmt, pst, whole, stream_above=str(1 << 62))
        if r.returncode != 0:
            problems.append(f"export without streaming exited {r.returncode}")
        else:
            problems += [f"differs without streaming: {d}" for d in trees_identical(out, whole)]
        report(summary, name, problems, note)


def check_damaged(pstkit: str, summary: common.Summary, work: str) -> None:
    # Unique bytes: SHA-256 of a counter, not repeated as attachment_bytes() does.
    data = b"".join(hashlib.sha256(b"damaged %d" % i).digest() for i in range((2 << 20) // 32))
    pst = make_store(pstkit, summary, work, "damaged", data, ("--encoding", "none"))
    if pst is None:
        return
    with open(pst, "r+b") as f:
        raw = bytearray(f.read())
        marker = data[1 << 20 : (1 << 20) + 32]  # stored as is: no block encoding
        at = raw.find(marker)
        if at < 0 or raw.find(marker, at + 1) >= 0:
            summary.error("damaged store", f"the attachment's bytes found {0 if at < 0 else 'twice'} in the file")
            return
        raw[at + 5] ^= 0xFF
        f.seek(0)
        f.write(raw)
    for fmt in ("eml", "maildir"):
        name = f"damaged streamed attachment, --format {fmt}"
        out, whole = os.path.join(work, "damaged-" + fmt), os.path.join(work, "damaged-whole-" + fmt)
        r = export(pstkit, fmt, pst, out)
        rw = export(pstkit, fmt, pst, whole, stream_above=str(1 << 62))
        problems = []
        if r.returncode != rw.returncode:
            problems.append(f"exit {r.returncode} streamed, {rw.returncode} read whole")
        else:
            problems += [f"differs from the export that reads it whole: {d}" for d in trees_identical(out, whole)]
        manifest_path = os.path.join(out, "manifest.json")
        text = open(manifest_path, encoding="utf-8").read() if os.path.exists(manifest_path) else ""
        if "cannot read its data" not in text:
            problems.append("the manifest does not note the attachment left out")
        files = json.loads(text)["files"] if text else {}
        messages = [p for p in files if p.endswith(".eml") or "/cur/" in p]
        if len(messages) != 1:
            problems.append(f"{len(messages)} message files in the manifest")
        else:
            with open(os.path.join(out, messages[0]), "rb") as f:
                parsed = email.message_from_bytes(f.read(), policy=email.policy.default)
            if parsed.defects:
                problems.append(f"defects {parsed.defects}")
            if any(p.get_filename() == "large.bin" for p in parsed.iter_attachments()):
                problems.append("the damaged attachment is in the message")
            if "attachment is large" not in parsed.get_body(("plain",)).get_content():
                problems.append("the body is missing")
        report(summary, name, problems, f"exit {r.returncode}, attachment left out with a note")


def check_write_failure(pstkit: str, corpus: str, summary: common.Summary, work: str) -> None:
    src = os.path.join(corpus, "pst-extractor-npm/enron.pst")
    if not os.path.exists(src):
        summary.skip("failed write", "enron.pst not in the corpus")
        return

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    # The file that fails is written whole by default, streamed with every
    # attachment streamed (PSTKIT_TEST_STREAM_ABOVE=0).
    for fmt, stream_above in (("eml", None), ("eml", "0"), ("maildir", None)):
        name = f"failed write, --format {fmt}{', every attachment streamed' if stream_above else ''}, then --resume"
        out, whole = os.path.join(work, "stopped-" + fmt), os.path.join(work, "uninterrupted-" + fmt)
        r = subprocess.run([pstkit, "export", "-q", "--format", fmt, "-o", out, src], preexec_fn=small_files,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600,
                           env=stream_env(stream_above))
        problems = []
        manifest_path = os.path.join(out, "manifest.json")
        stopped = ""
        if os.path.exists(manifest_path):
            with open(manifest_path, encoding="utf-8") as f:
                stopped = json.load(f).get("stopped", "")
        if r.returncode != 1:
            problems.append(f"exit {r.returncode} with the limit, not 1: {common.one_line(r.stderr)}")
        if not stopped.startswith(out + "/") or "too large" not in stopped:
            problems.append(f"manifest's \"stopped\" is {stopped!r}, not the file's whole path and the error")
        rr = common.run([pstkit, "export", "-q", "--resume", "--format", fmt, "-o", out, src], timeout=600)
        rw = export(pstkit, fmt, src, whole, jobs="0")
        if rr.returncode != 0 or rw.returncode != 0:
            problems.append(f"--resume exited {rr.returncode}, the uninterrupted export {rw.returncode}")
        else:
            problems += [f"resumed export differs: {d}" for d in trees_identical(out, whole)]
        report(summary, name, problems, f"stopped at {os.path.relpath(stopped.split(': ')[0], out)}")
        for d in (out, whole):
            subprocess.run(["rm", "-rf", d], check=False)


def check_corpus(pstkit: str, corpus: str, summary: common.Summary, work: str) -> None:
    for rel in CORPUS_FILES:
        path = os.path.join(corpus, rel)
        if not os.path.exists(path):
            summary.skip(rel, "not in the corpus")
            continue
        for fmt in ("eml", "maildir"):
            name = f"{rel} --format {fmt}, every attachment streamed"
            a, b = os.path.join(work, "a"), os.path.join(work, "b")
            ra = export(pstkit, fmt, path, a)
            rb = export(pstkit, fmt, path, b, stream_above="0")
            if ra.returncode != rb.returncode:
                summary.error(name, f"exit {ra.returncode} without, {rb.returncode} with streaming")
            else:
                diffs = trees_identical(a, b)
                if diffs:
                    summary.diff(name, diffs)
                else:
                    summary.ok(name, f"exit {ra.returncode}, {sum(len(f) for _, _, f in os.walk(a))} files identical")
            for d in (a, b):
                subprocess.run(["rm", "-rf", d], check=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    summary = common.Summary()
    with tempfile.TemporaryDirectory(prefix="pstkit-export-stream-") as work:
        check_large(args.pstkit, summary, work)
    with tempfile.TemporaryDirectory(prefix="pstkit-export-stream-") as work:
        check_damaged(args.pstkit, summary, work)
    corpus = common.find_corpus(args.corpus)
    if corpus is None:
        if common.in_ci():
            summary.error("corpus", "missing")
        else:
            summary.skip("corpus", "not present")
    else:
        with tempfile.TemporaryDirectory(prefix="pstkit-export-stream-") as work:
            check_corpus(args.pstkit, corpus, summary, work)
        with tempfile.TemporaryDirectory(prefix="pstkit-export-stream-") as work:
            check_write_failure(args.pstkit, corpus, summary, work)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
