"""Compiled kernels are cached in one stable, writable place for any kind of install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from buddymatch.solvers import numba_cache_dir

KERNEL = (
    "import numpy as np\n"
    "from buddymatch.solvers.assignment.flow import _spfa\n"
    "e = np.empty(0, np.int64)\n"
    "_spfa(np.zeros(2, np.int64), np.arange(2), np.zeros(3, np.int64), e, e, 10)\n"
)


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("BUDDYMATCH_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert numba_cache_dir() == tmp_path / "xdg" / "buddymatch" / "numba"
    monkeypatch.setenv("BUDDYMATCH_CACHE_DIR", str(tmp_path / "bm"))
    assert numba_cache_dir() == tmp_path / "bm" / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "nb"))
    assert numba_cache_dir() == tmp_path / "nb"


def test_a_kernel_compiles_into_the_cache_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["BUDDYMATCH_CACHE_DIR"] = str(tmp_path)
    run = [sys.executable, "-c", KERNEL]
    subprocess.run(run, env=env, check=True, timeout=300)
    index = sorted((tmp_path / "numba").rglob("*_spfa*.nbi"))
    assert index, "the kernel was not cached under BUDDYMATCH_CACHE_DIR"
    stamps = [p.stat().st_mtime_ns for p in index]
    subprocess.run(run, env=env, check=True, timeout=300)
    assert [p.stat().st_mtime_ns for p in index] == stamps  # loaded, not compiled again
