"""Fixtures of the Python binding's tests (tests/python/test_*.py).

CTest runs each file with pytest, PYTHONPATH naming the build's python/
directory (where the module is) and $PSTKIT_CLI / $PSTKIT_MAKE_SAMPLE the
pstkit and make_sample_pst programs of the same build. By hand:

    PYTHONPATH=build/python PSTKIT_CLI=build/pstkit PSTKIT_MAKE_SAMPLE=build/make_sample_pst \
        /usr/bin/python3 -m pytest tests/python
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "scripts"))

import common  # noqa: E402  (tests/scripts/common.py: corpus and manifest helpers)


def _program(env: str, name: str) -> str:
    path = os.environ.get(env) or os.path.join(REPO, "build", name)
    if not os.path.exists(path):
        pytest.fail(f"{name} not found ({path}): set ${env}")
    return path


@pytest.fixture(scope="session")
def cli() -> str:
    return _program("PSTKIT_CLI", "pstkit")


@pytest.fixture(scope="session")
def make_sample() -> str:
    return _program("PSTKIT_MAKE_SAMPLE", "make_sample_pst")


def run_cli(cli: str, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run([cli, *args], capture_output=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"pstkit {' '.join(args)}: exit {r.returncode}: {r.stderr.decode(errors='replace')}")
    return r


def dump_json(cli: str, path: str, *options: str) -> tuple[int, list[dict]]:
    """(exit status, records) of `pstkit dump --json [options] path`."""
    r = run_cli(cli, "dump", "--json", *options, path, check=False)
    records, problems = common.parse_json_lines(r.stdout)
    assert not problems, problems
    return r.returncode, records


@pytest.fixture(scope="session")
def sample_pst(make_sample, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("sample") / "sample.pst")
    subprocess.run([make_sample, path], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def sample_ansi_pst(make_sample, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("sample") / "sample-ansi.pst")
    subprocess.run([make_sample, path, "--ansi"], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def corpus() -> str | None:
    """The corpus directory; missing: skip locally, fail in CI."""
    c = common.find_corpus()
    if c is None or not os.path.isdir(c):
        if common.in_ci():
            pytest.fail("corpus directory not found and CI=true")
        pytest.skip("corpus directory not found")
    return c


def whole_files(corpus: str) -> list[common.ManifestRow]:
    """Manifest rows of whole files (fragments are pieces of pages and blocks)."""
    return [row for row in common.corpus_files(corpus) if not row.is_fragment]
