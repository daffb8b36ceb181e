"""The files a run read, as ``summary.json`` records them: names, relative paths, hashes.

Why: an absolute path (``/home/jsmith/…``) in ``summary.json`` leaks a user name
and makes the same inputs in another folder give different bytes.  Each input
is recorded as its file ``name``, its ``path`` relative to the results folder
(POSIX separators) and the SHA-256 of its bytes, so that

* the same inputs laid out the same way give byte-identical summaries wherever
  they live;
* ``buddymatch explain RESULTS`` finds the inputs again relative to the results
  folder (moving the results together with their inputs keeps this working),
  and refuses files whose content changed since the run;
* an auditor can check which exact files a result came from.

Callers may rely on :func:`describe_inputs` producing plain JSON data and on
:func:`recorded_inputs` returning paths only for files that still hold the
recorded bytes (else one :class:`~buddymatch.errors.InputError` with the fix).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InputError, Issue
from ..files import file_sha256
from ..model import Scheme

_PASS_THEM = "pass the profile files with --profiles and the scheme with -c"


def side_file_path(base_dir: Path | None, file: str) -> Path:
    """A file a scheme names (forbid, lock, history, priority...), from the scheme's folder."""
    path = Path(file)
    return path if path.is_absolute() or base_dir is None else base_dir / path


def side_files(scheme: Scheme, base_dir: Path | None) -> list[Path]:
    """Every data file the scheme names, in scheme order (a ``priority:`` file last)."""
    names = [getattr(item, "file", None) for item in (*scheme.rules, *scheme.criteria)]
    names += [spec.file for spec in (scheme.history, scheme.feedback) if spec is not None]
    names += [scheme.priority.file] if scheme.priority is not None else []
    return [side_file_path(base_dir, name) for name in names if name]


def run_inputs(
    profiles: Sequence[Path], scheme_path: Path, scheme: Scheme
) -> dict[str, list[Path]]:
    """The run's input files by kind: profiles, the scheme file, the files it names.

    (``rematch`` adds ``previous``, the results folder it repairs.)
    """
    return {
        "profiles": list(profiles),
        "scheme": [scheme_path],
        "files": side_files(scheme, scheme_path.parent),
    }


def describe_inputs(out_dir: Path, inputs: Mapping[str, Sequence[Path]]) -> dict[str, Any]:
    """JSON-ready ``inputs`` for summary.json: name, path relative to ``out_dir``, sha256."""
    described = {kind: [_entry(out_dir, path) for path in paths] for kind, paths in inputs.items()}
    return {**described, "scheme": described["scheme"][0]} if "scheme" in described else described


def _entry(out_dir: Path, path: Path) -> dict[str, str]:
    digest = _folder_sha256(path) if path.is_dir() else file_sha256(path)
    return {"name": path.name, "path": _relative(out_dir, path), "sha256": digest}


def _folder_sha256(folder: Path) -> str:
    """SHA-256 over a results folder's visible files (names and contents), in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        digest.update(path.name.encode() + b"\0" + file_sha256(path).encode())
    return digest.hexdigest()


def _relative(out_dir: Path, path: Path) -> str:
    """``path`` from inside ``out_dir``; just the name where no relative path exists."""
    try:
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))
    except ValueError:  # another drive (Windows)
        return path.name
    return str(PurePosixPath(*Path(relative).parts))


def recorded_inputs(out_dir: Path, summary: Mapping[str, Any], kind: str) -> list[Path]:
    """The ``profiles`` or ``scheme`` a results folder was made from, checked by hash."""
    inputs = summary.get("inputs")
    entries = inputs.get(kind) if isinstance(inputs, Mapping) else None
    if not entries:
        raise InputError(issues=[Issue(f'"{out_dir}" does not record its inputs', fix=_PASS_THEM)])
    listed = entries if isinstance(entries, list) else [entries]
    return [_recorded(out_dir, entry) for entry in listed]


def _recorded(out_dir: Path, entry: Any) -> Path:
    if isinstance(entry, str):  # written before names and hashes were recorded
        return Path(entry)
    if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
        raise InputError(issues=[Issue("summary.json: inputs are not readable", fix=_PASS_THEM)])
    path = out_dir / Path(entry["path"])
    name = str(entry.get("name", path.name))
    if not path.is_file():
        raise InputError(
            issues=[
                Issue(
                    f'"{name}" is not at {entry["path"]} (relative to the results folder), '
                    "where the run found it",
                    fix=_PASS_THEM,
                )
            ]
        )
    if entry.get("sha256") and file_sha256(path) != entry["sha256"]:
        raise InputError(
            issues=[
                Issue(
                    f'"{name}" has changed since this run (its SHA-256 differs)',
                    fix="explain against the files the run used, or run match again",
                )
            ]
        )
    return path


__all__ = [
    "describe_inputs",
    "recorded_inputs",
    "run_inputs",
    "side_file_path",
    "side_files",
]
