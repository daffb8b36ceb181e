"""Batch manifests (YAML): which runs to make, validated like scheme files.

A manifest lists runs; each is explicit (profiles + scheme + overrides + seed)
or generates several: ``split_by`` (one run per value of an attribute of one
intake) and ``sweep`` (a grid over scheme key paths).  :func:`load_manifest`
reports every problem at once, each with its key path (``runs[2].sweep``) and,
for a misspelt key, the closest valid one; the schemes of every run, with their
overrides and every sweep setting applied, go through
:func:`buddymatch.config.validate_scheme`, so their errors read exactly like a
scheme file's.  Paths are relative to the manifest's folder.  YAML is loaded
with ``safe_load`` only.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buddymatch.config import (
    apply_overrides,
    parse_key_path,
    read_scheme_file,
    suggest,
    validate_scheme,
)
from buddymatch.errors import ConfigError, Issue

TOP_KEYS = ("version", "defaults", "runs")
OPTION_KEYS = ("seed", "iterations", "time_limit", "objective", "rounds")
RUN_KEYS = (
    "name",
    "profiles",
    "scheme",
    "overrides",
    *OPTION_KEYS,
    "format",
    "organisation",
    "split_by",
    "sweep",
)
OBJECTIVES = ("max-matched", "max-score", "fair")
FORMATS = ("csv", "xlsx")
MAX_RUNS = 10_000
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SPLIT_KINDS = ("categorical", "ordinal")


@dataclass(frozen=True)
class Entry:
    """One item of ``runs:`` with the defaults applied; paths are absolute.

    ``scheme_data`` is the parsed scheme file with ``overrides`` applied (the
    sweep settings are applied per generated run); ``sweep`` is the grid in
    manifest order.
    """

    index: int
    name: str
    profiles: tuple[Path, ...]
    scheme: Path
    scheme_data: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    fmt: str = "csv"
    organisation: str = "organisation"
    split_by: str | None = None
    sweep: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def settings(self) -> list[tuple[tuple[str, Any], ...]]:
        """Every combination of the sweep, in manifest order (one empty one without)."""
        keys = [k for k, _ in self.sweep]
        grid = itertools.product(*(values for _, values in self.sweep))
        return [tuple(zip(keys, combo, strict=True)) for combo in grid]


@dataclass(frozen=True)
class Manifest:
    path: Path
    entries: tuple[Entry, ...]


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest; raise one :class:`ConfigError` listing every problem."""
    path = Path(path)
    label = str(path)
    data = _read(path)
    issues: list[Issue] = []
    _check_keys(data, TOP_KEYS, "", label, issues)
    if data.get("version") != 1:
        issues.append(_issue(label, "version", "must be 1", "add `version: 1` at the top"))
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        issues.append(_issue(label, "defaults", "must be a mapping of run keys"))
        defaults = {}
    _check_keys(defaults, RUN_KEYS, "defaults", label, issues, exclude=("name",))
    _check_values(defaults, "defaults", path.parent, label, issues)
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        fix = "list runs like `- {name: north, profiles: ..., scheme: ...}`"
        issues.append(_issue(label, "runs", "must be a non-empty list of runs", fix))
        runs = []
    entries = [_entry(i, run, defaults, path, issues) for i, run in enumerate(runs)]
    found = [e for e in entries if e is not None]
    _check_names(runs, label, issues)
    if issues:
        raise ConfigError(issues=_unique(issues))
    return Manifest(path, tuple(found))


def _read(path: Path) -> dict[str, Any]:
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(
            issues=[Issue("a batch manifest is a .yaml file", file=str(path), fix="see examples/")]
        )
    return read_scheme_file(path)  # same size limit, UTF-8, safe YAML, mapping checks


def _entry(
    i: int, run: Any, defaults: dict[str, Any], manifest: Path, issues: list[Issue]
) -> Entry | None:
    label, where = str(manifest), f"runs[{i}]"
    if not isinstance(run, dict):
        issues.append(_issue(label, where, "must be a mapping (name, profiles, scheme, ...)"))
        return None
    before = len(issues)
    _check_keys(run, RUN_KEYS, where, label, issues)
    _check_values(run, where, manifest.parent, label, issues)
    merged = {
        **defaults,
        **run,
        "overrides": {**_dict(defaults, "overrides"), **_dict(run, "overrides")},
    }
    for key in ("name", "profiles", "scheme"):
        if merged.get(key) is None:
            issues.append(_issue(label, f"{where}.{key}", "required key is missing"))
    if len(issues) > before:
        return None
    return _build(i, merged, manifest, issues)


def _build(i: int, merged: dict[str, Any], manifest: Path, issues: list[Issue]) -> Entry | None:
    base = manifest.parent
    scheme = _resolve(base, merged["scheme"])
    label = f"{manifest} runs[{i}] ({scheme.name})"
    try:
        raw = read_scheme_file(scheme)
        data = apply_overrides(raw, merged["overrides"], label=label)
        spec = validate_scheme(data, label=label)
    except ConfigError as exc:
        issues.extend(exc.issues)
        return None
    sweep = tuple((str(k), tuple(v)) for k, v in (merged.get("sweep") or {}).items())
    _check_split(merged.get("split_by"), spec, f"runs[{i}].split_by", str(manifest), issues)
    _check_sweep(data, sweep, label, issues)
    profiles = merged["profiles"]
    return Entry(
        index=i,
        name=str(merged["name"]),
        profiles=tuple(
            _resolve(base, p) for p in ([profiles] if isinstance(profiles, str) else profiles)
        ),
        scheme=scheme,
        scheme_data=data,
        overrides=dict(merged["overrides"]),
        options={k: merged[k] for k in OPTION_KEYS if merged.get(k) is not None},
        fmt=str(merged.get("format") or "csv"),
        organisation=str(merged.get("organisation") or "organisation"),
        split_by=merged.get("split_by"),
        sweep=sweep,
    )


def _check_split(attr: Any, spec: Any, where: str, label: str, issues: list[Issue]) -> None:
    if attr is None:
        return
    attributes = spec.participants.attributes
    if attr not in attributes:
        names = sorted(attributes)
        message = f'unknown attribute "{attr}"; the scheme defines {", ".join(names)}'
        issues.append(_issue(label, where, message, suggest(str(attr), names)))
    elif attributes[attr].kind not in SPLIT_KINDS:
        message = f'attribute "{attr}" is {attributes[attr].kind}; split_by needs one value each'
        issues.append(_issue(label, where, message, "split by a plain or scale attribute"))


def _check_sweep(
    data: dict[str, Any],
    sweep: tuple[tuple[str, tuple[Any, ...]], ...],
    label: str,
    issues: list[Issue],
) -> None:
    """Validate the scheme at every sweep setting: each distinct problem once."""
    if not sweep:
        return
    count = 1
    for _, values in sweep:
        count *= len(values)
    if count > MAX_RUNS:
        issues.append(Issue(f"the sweep makes {count:,} runs; at most {MAX_RUNS:,}", file=label))
        return
    for combo in itertools.product(*(values for _, values in sweep)):
        try:
            validate_scheme(
                apply_overrides(
                    data, dict(zip((k for k, _ in sweep), combo, strict=True)), label=label
                ),
                label=label,
            )
        except ConfigError as exc:
            issues.extend(exc.issues)


# --- key and value checks ---------------------------------------------------------


def _check_keys(
    data: Any,
    allowed: tuple[str, ...],
    where: str,
    label: str,
    issues: list[Issue],
    exclude: tuple[str, ...] = (),
) -> None:
    if not isinstance(data, dict):
        return
    options = [k for k in allowed if k not in exclude]
    for key in data:
        if key not in options:
            path = f"{where}.{key}" if where else str(key)
            issues.append(_issue(label, path, "unknown key", suggest(str(key), options)))


def _check_values(
    run: dict[str, Any], where: str, base: Path, label: str, issues: list[Issue]
) -> None:
    for key, check in _VALUE_CHECKS.items():
        if key in run and run[key] is not None:
            problem = check(run[key], base)
            if problem:
                issues.append(_issue(label, f"{where}.{key}", *problem))


Problem = tuple[str, str | None] | None


def _name(value: Any, _: Path) -> Problem:
    if isinstance(value, str) and NAME.fullmatch(value):
        return None
    return (
        f"{_short(value)} is not a run name",
        "use letters, digits, '.', '-' or '_' (a folder of OUT), starting with a letter or digit",
    )


def _paths(value: Any, base: Path) -> Problem:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(p, str) for p in items):
        return ("must be a file path or a list of file paths", None)
    missing = [p for p in items if not _resolve(base, p).is_file()]
    if missing:
        return (
            f"file not found: {', '.join(missing)}",
            "paths are relative to the manifest's folder",
        )
    return None


def _scheme(value: Any, base: Path) -> Problem:
    if not isinstance(value, str):
        return ("must be the path of a scheme file", None)
    return _paths(value, base)


def _mapping_of_paths(value: Any, _: Path, *, lists: bool) -> Problem:
    if not isinstance(value, dict) or not value:
        return ("must be a mapping of scheme key paths (rules[1].gap.max: ...)", None)
    for key, item in value.items():
        try:
            parse_key_path(str(key))
        except ConfigError as exc:
            return (exc.issues[0].message, exc.issues[0].fix)
        if lists and (not isinstance(item, list) or not item):
            return (f'"{key}" needs a non-empty list of values, e.g. [2, 3, 4]', None)
    return None


def _positive_int(value: Any, _: Path) -> Problem:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return None if ok else (f"{_short(value)} is not a whole number of at least 1", None)


def _seed(value: Any, _: Path) -> Problem:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return None if ok else (f"{_short(value)} is not a whole number", None)


def _time_limit(value: Any, _: Path) -> Problem:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return None if ok else (f"{_short(value)} is not a number of seconds above 0", None)


def _choice(options: tuple[str, ...]) -> Callable[[Any, Path], Problem]:
    def check(value: Any, _: Path) -> Problem:
        if value in options:
            return None
        return (
            f"{_short(value)} is not allowed; expected {', '.join(options)}",
            suggest(str(value), options),
        )

    return check


def _attribute(value: Any, _: Path) -> Problem:
    return None if isinstance(value, str) and value else ("must be an attribute name", None)


_VALUE_CHECKS: dict[str, Callable[[Any, Path], Problem]] = {
    "name": _name,
    "profiles": _paths,
    "scheme": _scheme,
    "overrides": lambda v, b: _mapping_of_paths(v, b, lists=False),
    "sweep": lambda v, b: _mapping_of_paths(v, b, lists=True),
    "seed": _seed,
    "iterations": _positive_int,
    "rounds": _positive_int,
    "time_limit": _time_limit,
    "objective": _choice(OBJECTIVES),
    "format": _choice(FORMATS),
    "organisation": _attribute,
    "split_by": _attribute,
}


def _check_names(runs: list[Any], label: str, issues: list[Issue]) -> None:
    """Each run name once (checked on every run, valid or not, so all are reported)."""
    seen: dict[str, int] = {}
    for i, run in enumerate(runs):
        name = run.get("name") if isinstance(run, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            message = f'run name "{name}" is also used by runs[{seen[name]}]'
            fix = "give each run its own name"
            issues.append(_issue(label, f"runs[{i}].name", message, fix))
        seen.setdefault(name, i)


# --- helpers ------------------------------------------------------------------------


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return (p if p.is_absolute() else base / p).resolve()


def _dict(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return dict(value) if isinstance(value, dict) else {}


def _issue(label: str, path: str, message: str, fix: str | None = None) -> Issue:
    return Issue(f'key "{path}": {message}', file=label, fix=fix)


def _short(value: Any) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _unique(issues: list[Issue]) -> list[Issue]:
    seen: set[str] = set()
    out = []
    for issue in issues:
        if str(issue) not in seen:
            seen.add(str(issue))
            out.append(issue)
    return out
