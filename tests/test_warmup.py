"""`buddymatch warm-up`: what only large pools reach is compiled too, and a marker lets the
CLI say why a first run after a plain install is slow."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from buddymatch import cli, warmup
from buddymatch.solvers.pairing import blossom


def test_the_large_pool_kernels_are_compiled() -> None:
    warmup._large_pool_kernels()
    assert blossom._warm_start.signatures  # compiled (or loaded from the cache) for real use


def test_the_cli_notes_a_cold_cache_until_warm_up_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # numba read its cache folder at import: only the marker moves here, kernels still load
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert not warmup.warmed_up()
    cli._note_cold_start(quiet=False)
    assert "buddymatch warm-up" in capsys.readouterr().err
    cli._note_cold_start(quiet=True)
    assert capsys.readouterr().err == ""
    spent = warmup.warm_up()
    assert "large pools" in spent and warmup.warmed_up()
    assert (tmp_path / "numba").is_dir()
    cli._note_cold_start(quiet=False)
    assert capsys.readouterr().err == ""
