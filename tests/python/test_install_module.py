"""`cmake --install` puts the module where python3 finds it under the
prefix: PREFIX/lib/python3/dist-packages (Debian's layout: on python3's
path for the prefix /usr)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest


def test_install_puts_the_module_on_python3s_path(tmp_path):
    build = os.environ.get("PSTKIT_BUILD_DIR")
    if not build:
        pytest.fail("$PSTKIT_BUILD_DIR (the build directory) is not set")
    prefix = str(tmp_path / "prefix")
    r = subprocess.run(["cmake", "--install", build, "--prefix", prefix], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    modules = glob.glob(os.path.join(prefix, "lib", "python3", "dist-packages", "pstkit*.so"))
    assert len(modules) == 1, os.listdir(prefix)
    # The installed copy imports and works, from a directory without the build's.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.path.dirname(modules[0])
    r = subprocess.run([sys.executable, "-c", "import pstkit; print(pstkit.__file__); print(pstkit.Error.__name__)"],
                       capture_output=True, env=env, cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == [modules[0], "Error"]
    # With the prefix /usr, python3 needs no PYTHONPATH.
    r = subprocess.run([sys.executable, "-c", "import site; print('\\n'.join(site.getsitepackages()))"],
                       capture_output=True, timeout=60)
    paths = r.stdout.decode().splitlines()
    assert "/usr/lib/python3/dist-packages" in paths, paths
