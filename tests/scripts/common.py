"""Shared helpers for pstkit's script tests (tests/scripts/test_*.py).

Kept dependency-free (standard library only) so that every script test can
`import common` after putting its own directory on sys.path:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import common

What is here:
  * repo_root(), find_corpus()   - where the repository and the sample corpus are
  * read_manifest(), corpus_files() - the corpus' MANIFEST.tsv, row by row
  * run()                         - run a command with a timeout, never raising
  * parse_json_lines()            - parse `pstkit dump --json` style output
  * skip_or_fail_missing_corpus() - the agreed behaviour when the corpus is absent
  * Summary                       - per-file OK/DIFF/ERROR/SKIP lines and the closing
                                    "N passed, M failed[, K skipped]" line
  * in_scratch()                  - run one per-file check in a scratch directory
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Iterable, Iterator

HERE = os.path.dirname(os.path.abspath(__file__))

# The Debian interpreter that has python3-pypff (a pyenv/venv python on PATH
# usually lacks it).
SYSTEM_PYTHON = "/usr/bin/python3"


def repo_root() -> str:
    """The repository root (this file lives in <root>/tests/scripts)."""
    return os.path.dirname(os.path.dirname(HERE))


def default_corpus_dir() -> str:
    """<repo>/../shared/corpus: CI clones the repository beside shared/."""
    return os.path.normpath(os.path.join(repo_root(), "..", "shared", "corpus"))


def find_corpus(explicit: str | None = None) -> str | None:
    """The corpus directory to use, or None if there is none.

    Order: an explicit path (returned even if missing so the caller can
    complain about it), $PSTKIT_CORPUS, <repo>/../shared/corpus,
    /work/shared/corpus.
    """
    if explicit:
        return os.path.abspath(explicit)
    candidates = []
    env = os.environ.get("PSTKIT_CORPUS")
    if env:
        candidates.append(env)
    candidates.append(default_corpus_dir())
    candidates.append("/work/shared/corpus")
    for c in candidates:
        if os.path.isdir(c):
            return os.path.abspath(c)
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def skip_or_fail_missing_corpus(corpus: str | None, what: str) -> int:
    """Exit code to use when the corpus is absent: skip (0) locally, fail (1) in CI."""
    where = corpus or default_corpus_dir()
    if in_ci():
        print(f"{what}: corpus directory not found ({where}) and CI=true: failing")
        print("0 passed, 1 failed")
        return 1
    print(f"{what}: corpus directory not found ({where}): skipped")
    return 0


@dataclass
class ManifestRow:
    file: str            # path relative to the corpus directory
    path: str            # absolute path
    size: int
    format: str
    notes: str
    row: dict = field(repr=False, default_factory=dict)

    @property
    def is_fragment(self) -> bool:
        return self.format.startswith("fragment")


def read_manifest(corpus: str) -> list[ManifestRow]:
    """Rows of <corpus>/MANIFEST.tsv (tab separated, header line first).

    Files present on disk but missing from the manifest are appended with
    format "unknown", so that nothing in the corpus is silently left out.
    """
    rows: list[ManifestRow] = []
    seen: set[str] = set()
    manifest = os.path.join(corpus, "MANIFEST.tsv")
    if os.path.isfile(manifest):
        with open(manifest, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                rel = r.get("file") or ""
                if not rel:
                    continue
                p = os.path.join(corpus, rel)
                try:
                    size = int(r.get("bytes") or os.path.getsize(p))
                except (ValueError, OSError):
                    size = -1
                rows.append(ManifestRow(rel, p, size, r.get("format") or "",
                                        r.get("notes") or "", dict(r)))
                seen.add(rel)
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames.sort()
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, corpus)
            if rel == "MANIFEST.tsv" or rel in seen or name.startswith("."):
                continue
            rows.append(ManifestRow(rel, p, os.path.getsize(p), "unknown", ""))
    return rows


def corpus_stride() -> int:
    """$PSTKIT_CORPUS_STRIDE (default 1): run the corpus-wide tests on every
    Nth file only. CI's sanitizer stage samples the corpus this way; the test
    stage runs every file."""
    try:
        return max(1, int(os.environ.get("PSTKIT_CORPUS_STRIDE", "1")))
    except ValueError:
        return 1


def sampled(items: list, stride: int | None = None) -> list:
    """Every stride-th item of items, in order (all of them for stride 1)."""
    return items[::stride or corpus_stride()]


def corpus_files(corpus: str, only: Iterable[str] | None = None) -> Iterator[ManifestRow]:
    """Manifest rows, restricted to `only` (relative paths or basenames) if
    given, else sampled by $PSTKIT_CORPUS_STRIDE."""
    wanted = set(only or [])
    rows = read_manifest(corpus)
    if not wanted:
        rows = sampled(rows)
    for row in rows:
        if wanted and row.file not in wanted and os.path.basename(row.file) not in wanted \
                and row.path not in {os.path.abspath(w) for w in wanted}:
            continue
        yield row


@dataclass
class RunResult:
    cmd: list[str]
    returncode: int | None     # None on timeout; negative = killed by a signal
    stdout: bytes
    stderr: bytes
    timed_out: bool
    seconds: float

    @property
    def crashed(self) -> bool:
        return self.returncode is not None and self.returncode < 0

    def describe(self) -> str:
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        if self.crashed:
            try:
                name = signal.Signals(-self.returncode).name
            except ValueError:
                name = f"signal {-self.returncode}"
            return f"killed by {name}"
        return f"exit {self.returncode}"


def run(cmd: list[str], timeout: float = 60.0, cwd: str | None = None,
        env: dict | None = None) -> RunResult:
    """Run `cmd`, capturing output; kill the whole process group on timeout."""
    import time
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True)
    except OSError as e:
        return RunResult(cmd, 127, b"", str(e).encode(), False, 0.0)
    try:
        out, err = proc.communicate(timeout=timeout)
        return RunResult(cmd, proc.returncode, out, err, False, time.monotonic() - start)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        out, err = proc.communicate()
        return RunResult(cmd, None, out, err, True, time.monotonic() - start)


def parse_json_lines(data: bytes | str) -> tuple[list[dict], list[str]]:
    """Parse JSON-lines output. Returns (objects, problems).

    Blank lines are ignored; a line that is not a JSON object is reported
    in `problems` (with its line number) rather than raising.
    """
    if isinstance(data, bytes):
        text = data.decode("utf-8", errors="replace")
    else:
        text = data
    objs: list[dict] = []
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {n}: not JSON ({e.msg}): {line[:80]!r}")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {n}: not a JSON object: {line[:80]!r}")
            continue
        objs.append(obj)
    return objs, problems


def libpff_dump_cmd(path: str) -> list[str]:
    """Command line that dumps `path` with libpff in the pstkit dump schema."""
    return [SYSTEM_PYTHON, os.path.join(repo_root(), "tools", "libpff_dump.py"), path]


def pypff_available() -> bool:
    r = run([SYSTEM_PYTHON, "-c", "import pypff"], timeout=30)
    return r.returncode == 0


def one_line(s: str | bytes, limit: int = 160) -> str:
    if isinstance(s, bytes):
        s = s.decode("utf-8", errors="replace")
    s = " / ".join(x.strip() for x in s.strip().splitlines() if x.strip())
    return s if len(s) <= limit else s[: limit - 3] + "..."


class Summary:
    """Collects per-file results and prints the closing line.

    Each result line is "OK  <file>", "DIFF <file>: ...", "ERROR <file>: ..."
    or "SKIP  <file> (why)"; the last line is exactly "N passed, M failed"
    (the plain form CI reads), with ", K skipped" when anything was skipped.
    """

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def skip(self, name: str, why: str) -> None:
        self.skipped += 1
        print(f"SKIP  {name}  ({why})", flush=True)

    def result(self, name: str, ok: bool | None, note: str) -> None:
        """ok: True passed, False failed (note says why), None skipped."""
        if ok is None:
            self.skip(name, note)
        elif ok:
            self.ok(name, note)
        else:
            self.error(name, note)

    def ok(self, name: str, note: str = "") -> None:
        self.passed += 1
        print(f"OK    {name}" + (f"  ({note})" if note else ""), flush=True)

    def diff(self, name: str, lines: list[str], limit: int = 20) -> None:
        self.failed += 1
        print(f"DIFF  {name}", flush=True)
        for l in lines[:limit]:
            print(f"        {l}")
        if len(lines) > limit:
            print(f"        ... and {len(lines) - limit} more")
        sys.stdout.flush()

    def error(self, name: str, msg: str) -> None:
        self.failed += 1
        print(f"ERROR {name}: {msg}", flush=True)

    def close(self) -> int:
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        print(f"{self.passed} passed, {self.failed} failed{skipped}", flush=True)
        return 0 if self.failed == 0 else 1


def in_scratch(prefix: str, check, *args):
    """Calls check(*args, work) with a fresh scratch directory `work`, removed
    afterwards, and returns its (ok, note). A timeout or an exception in the
    check is a failure, not a crash of the whole run."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        return check(*args, work)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    except Exception as e:  # noqa: BLE001
        return False, f"{type(e).__name__}: {e}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


class CliSession:
    """A pstkit binary, make_sample_pst, a scratch directory and a Summary,
    shared by the CLI script tests."""

    timeout = 120.0

    def __init__(self, pstkit: str, make_sample: str, work: str, summary: "Summary"):
        self.pstkit, self.make_sample, self.work, self.summary = pstkit, make_sample, work, summary

    def run(self, *args) -> RunResult:
        return run([self.pstkit, *args], timeout=self.timeout)

    def path(self, name: str) -> str:
        return os.path.join(self.work, name)

    def sample(self, name: str) -> str:
        p = self.path(name)
        r = run([self.make_sample, p], timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"make_sample_pst: {r.describe()} {one_line(r.stderr)}")
        return p


def sample_and_corpus_targets(build: str, work: str, corpus_arg: str | None,
                              summary: "Summary") -> list[tuple[str, str]]:
    """(name, path) of the generated samples (Unicode and ANSI, made in
    `work` by BUILD/make_sample_pst) and of every corpus file (sampled by
    $PSTKIT_CORPUS_STRIDE); a missing corpus is a failure in CI."""
    sample = os.path.join(work, "sample.pst")
    sample_ansi = os.path.join(work, "sample-ansi.pst")
    make = os.path.join(build, "make_sample_pst")
    subprocess.run([make, sample], check=True, capture_output=True)
    subprocess.run([make, sample_ansi, "--ansi"], check=True, capture_output=True)
    targets = [("sample.pst", sample), ("sample-ansi.pst", sample_ansi)]
    corpus = find_corpus(corpus_arg)
    if corpus:
        targets += [(row.file, row.path) for row in corpus_files(corpus)]
    elif in_ci():
        summary.error("corpus", "not found")
    return targets

