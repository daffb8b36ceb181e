"""From manifest entries to concrete runs: names, input files and a hash per run.

Generated inputs live in ``OUT/_inputs/<run>/``: the scheme with its overrides
and sweep settings applied (``scheme.yaml``, file references made absolute so
it still finds ``conflicts.csv``), and for ``split_by`` the intake's rows of
one value, written as the intake's own file names.  Each run's folder then
records real files in ``summary.json`` (``explain`` works on it), and
``buddymatch match`` on those files gives the same bytes.

The split reuses the library's reading and value normalisation:
:func:`buddymatch.load_problem` encodes the attribute (aliases, case,
scales), and each person's row goes to the part of their encoded value.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import buddymatch
from buddymatch.config import apply_overrides, read_scheme_file
from buddymatch.errors import BuddymatchError, ConfigError
from buddymatch.io.readers import Table, read_tables
from buddymatch.io.writers import os_errors, write_atomic

from .manifest import Entry, Manifest

INPUTS = "_inputs"
BLANK = "(blank)"


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run (plain data: it travels to the worker)."""

    name: str
    entry: str
    profiles: tuple[str, ...]
    scheme: str
    out_dir: str
    options: dict[str, Any] = field(default_factory=dict)
    fmt: str = "csv"
    organisation: str = "organisation"
    split: str | None = None
    settings: tuple[tuple[str, Any], ...] = ()
    key: str = ""

    @property
    def settings_text(self) -> str:
        return "; ".join(f"{k}={_value_text(v)}" for k, v in self.settings)


@dataclass(frozen=True)
class PlanFailure:
    """An entry that could not be planned (its intake cannot be split): one failed row."""

    name: str
    entry: str
    error: str


@dataclass(frozen=True)
class Plan:
    runs: tuple[RunSpec, ...]
    failures: tuple[PlanFailure, ...] = ()
    order: tuple[str, ...] = ()  # every run and failure name, in manifest order


def plan_runs(manifest: Manifest, out: Path) -> Plan:
    """Every run of the manifest, in manifest order; writes generated inputs under OUT."""
    runs: list[RunSpec] = []
    failures: list[PlanFailure] = []
    order: list[str] = []
    for entry in manifest.entries:
        try:
            made = list(_entry_runs(entry, out))
        except BuddymatchError as exc:
            failures.append(PlanFailure(entry.name, entry.name, " | ".join(exc.lines)))
            order.append(entry.name)
            continue
        runs.extend(made)
        order.extend(r.name for r in made)
    _check_unique(order)
    return Plan(tuple(runs), tuple(failures), tuple(order))


def _entry_runs(entry: Entry, out: Path) -> Iterator[RunSpec]:
    settings = entry.settings()
    parts = _parts(entry, out) if entry.split_by else [(None, None, entry.profiles)]
    for split_label, split_slug, profiles in parts:
        for setting in settings:
            name = _run_name(entry.name, split_slug, setting, entry.sweep)
            scheme = _scheme_file(entry, setting, out / INPUTS / name)
            spec = RunSpec(
                name=name,
                entry=entry.name,
                profiles=tuple(str(p) for p in profiles),
                scheme=str(scheme),
                out_dir=str((out / name).resolve()),
                options=dict(entry.options),
                fmt=entry.fmt,
                organisation=entry.organisation,
                split=split_label,
                settings=setting,
            )
            yield _with_key(spec)


# --- schemes ------------------------------------------------------------------------


def _scheme_file(entry: Entry, setting: tuple[tuple[str, Any], ...], folder: Path) -> Path:
    """The scheme as given when nothing changes it, else OUT/_inputs/<run>/scheme.yaml."""
    if not entry.overrides and not setting:
        return entry.scheme
    data = apply_overrides(entry.scheme_data, dict(setting))
    data = _absolute_files(data, entry.scheme.parent)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    header = f"# {entry.scheme.name} with " + "; ".join(
        f"{k}={_value_text(v)}" for k, v in {**entry.overrides, **dict(setting)}.items()
    )
    target = folder / "scheme.yaml"
    _write(target, (header.replace("\n", " ") + "\n" + text).encode("utf-8"))
    return target


def _absolute_files(node: Any, base: Path) -> Any:
    """``file:`` references resolved against the original scheme's folder."""
    if isinstance(node, dict):
        return {
            k: str((base / v).resolve())
            if k == "file" and isinstance(v, str)
            else _absolute_files(v, base)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_files(v, base) for v in node]
    return node


# --- split_by -----------------------------------------------------------------------


def _parts(entry: Entry, out: Path) -> list[tuple[str, str, list[Path]]]:
    """(value label, name slug, part files) per value of the split attribute."""
    assert entry.split_by is not None
    scheme = _absolute_files(entry.scheme_data, entry.scheme.parent)
    problem = buddymatch.load_problem(list(entry.profiles), scheme)
    attribute = problem.attributes[entry.split_by]
    tables = read_tables(list(entry.profiles))
    codes = np.asarray(attribute.values)
    values = sorted(set(codes.tolist()), key=lambda c: (c < 0, c))
    labels = [BLANK if c < 0 else attribute.labels[c] for c in values]
    slugs = _unique_slugs(
        ["blank" if c < 0 else _slug(lab) for c, lab in zip(values, labels, strict=True)]
    )
    position = _row_positions(tables)
    parts = []
    for code, label, slug in zip(values, labels, slugs, strict=True):
        mine = np.flatnonzero(codes == code)
        folder = out / INPUTS / f"{entry.name}-{slug}"
        files = _write_part(tables, problem.file_index[mine], problem.rows[mine], position, folder)
        parts.append((label, slug, files))
    return parts


def _row_positions(tables: Sequence[Table]) -> list[dict[int, int]]:
    return [{int(r): k for k, r in enumerate(t.rows)} for t in tables]


def _write_part(
    tables: Sequence[Table],
    file_index: np.ndarray,
    rows: np.ndarray,
    position: list[dict[int, int]],
    folder: Path,
) -> list[Path]:
    """The selected rows of each file, as CSV under the file's own name; empty files left out."""
    written = []
    for f, table in enumerate(tables):
        picked = [position[f][int(r)] for r in rows[file_index == f]]
        if not picked:
            continue
        target = folder / (Path(table.file).stem + ".csv")
        _write(target, _csv(table, picked))
        written.append(target.resolve())
    return written


def _csv(table: Table, picked: list[int]) -> bytes:
    """The cells exactly as read (no formula neutralising: this is an input, not an export)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([str(c) for c in table.frame.columns])
    writer.writerows(table.frame.iloc[picked].itertuples(index=False, name=None))
    return buffer.getvalue().encode("utf-8")


# --- names and hashes ---------------------------------------------------------------


def _run_name(
    entry: str,
    split: str | None,
    setting: tuple[tuple[str, Any], ...],
    sweep: tuple[tuple[str, tuple[Any, ...]], ...],
) -> str:
    parts = [entry] + ([split] if split else [])
    labels = _setting_labels([k for k, _ in sweep])
    for (_key, value), label in zip(setting, labels, strict=True):
        text = _slug(_value_text(value))
        parts.append(f"{label}{text}" if text[:1].isdigit() else f"{label}-{text}")
    return "-".join(parts)


def _setting_labels(keys: list[str]) -> list[str]:
    """The last key of each path (``max`` for rules[1].gap.max); the whole path when ambiguous."""
    last = [_slug(k.split(".")[-1].split("[")[0]) for k in keys]
    if len(set(last)) == len(last):
        return last
    return [_slug(k) for k in keys]


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return slug[:40] or "value"


def _unique_slugs(slugs: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for s in slugs:
        seen[s] = seen.get(s, 0) + 1
        out.append(s if seen[s] == 1 else f"{s}-{seen[s]}")
    return out


def _value_text(value: Any) -> str:
    return (
        json.dumps(value, sort_keys=True, ensure_ascii=False)
        if not isinstance(value, str)
        else value
    )


def _check_unique(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(
                f'two runs are both named "{name}" — rename one of the manifest\'s runs'
            )
        seen.add(name)


def _with_key(spec: RunSpec) -> RunSpec:
    """The run's identity for --resume: every input byte, the options and the version."""
    h = hashlib.sha256(buddymatch.__version__.encode())
    files = [Path(p) for p in spec.profiles] + [Path(spec.scheme)]
    for path in files + _referenced_files(Path(spec.scheme)):
        h.update(path.name.encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"(missing)")
    options = {"options": spec.options, "fmt": spec.fmt, "organisation": spec.organisation}
    h.update(json.dumps(options, sort_keys=True).encode())
    return dataclasses.replace(spec, key=h.hexdigest()[:16])


def _referenced_files(scheme: Path) -> list[Path]:
    """Files a scheme names (forbid, lock, history, pairwise), resolved like the library does."""
    try:
        data = read_scheme_file(scheme)
    except BuddymatchError:
        return []
    found: list[Path] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "file" and isinstance(v, str):
                    found.append(scheme.parent / v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    return found


def _write(target: Path, data: bytes) -> None:
    """Write atomically; a file that already holds these bytes is left alone (--resume)."""
    if target.is_file() and target.read_bytes() == data:
        return
    with os_errors(f'Cannot write "{target}"'):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
