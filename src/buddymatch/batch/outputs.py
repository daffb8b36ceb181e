"""The batch's own files: OUT/batch.csv, the resume records, and the OUT guard.

``OUT/_state/<run>.json`` records each finished run's row and its hash (every
input byte, the options and the version, see :mod:`.plan`).  ``--resume``
reuses a run whose record has the same hash, a status other than failed, and
whose folder still has its ``summary.json``; everything else runs again.
batch.csv lists the runs in manifest order whatever order they finished in,
and leaves ``runtime_s`` empty unless timings were asked for, so the same
manifest gives the same bytes with any number of workers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from buddymatch.errors import InputError
from buddymatch.io.writers import SUMMARY_JSON, os_errors, write_csv, write_json

from .plan import INPUTS, RunSpec
from .worker import COLUMNS, FAILED

STATE = "_state"
BATCH_CSV = "batch.csv"


def guard(out: Path, *, resume: bool, force: bool) -> None:
    """Refuse a non-empty OUT unless --resume or --force (before anything runs)."""
    if out.exists() and not out.is_dir():
        raise InputError(f'Output folder "{out}" is a file — choose a folder path')
    if out.is_dir() and any(out.iterdir()) and not (resume or force):
        raise InputError(
            f'Output folder "{out}" already exists and is not empty — pass --resume to '
            "finish an earlier batch there, --force to run every run again, or choose another"
        )
    with os_errors(f'Cannot create output folder "{out}"'):
        out.mkdir(parents=True, exist_ok=True)


def reusable(out: Path, spec: RunSpec) -> dict[str, Any] | None:
    """The recorded row of a complete run with the same hash, else None."""
    record = _read_json(out / STATE / f"{spec.name}.json")
    if record is None or record.get("key") != spec.key:
        return None
    row = record.get("row")
    if not isinstance(row, dict) or row.get("status") in (None, FAILED):
        return None
    return row if (Path(spec.out_dir) / SUMMARY_JSON).is_file() else None


def record(out: Path, spec: RunSpec, row: Mapping[str, Any]) -> None:
    """Remember a finished run for --resume (written after its folder)."""
    with os_errors(f'Cannot write "{out / STATE}"'):
        (out / STATE).mkdir(exist_ok=True)
    write_json(out / STATE / f"{spec.name}.json", {"key": spec.key, "row": dict(row)})


def timed(row: Mapping[str, Any], timings: bool) -> dict[str, Any]:
    """The row as written: ``runtime_s`` only when timings were asked for."""
    return {**row, "runtime_s": row.get("runtime_s") if timings else None}


def write_batch_csv(out: Path, rows: Iterable[Mapping[str, Any]], *, timings: bool) -> Path:
    frame = pd.DataFrame([timed(r, timings) for r in rows], columns=list(COLUMNS))
    frame = frame.astype(object).where(frame.notna(), None)
    target = out / BATCH_CSV
    write_csv(target, frame)
    return target


def clean_staging(out: Path, names: Iterable[str]) -> None:
    """Remove hidden staging folders a lost worker may have left next to a run's folder."""
    prefixes = tuple(f".{n}." for n in names)
    for path in out.iterdir():
        if path.name.startswith(prefixes) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


__all__ = [
    "BATCH_CSV",
    "INPUTS",
    "STATE",
    "clean_staging",
    "guard",
    "record",
    "reusable",
    "write_batch_csv",
]
