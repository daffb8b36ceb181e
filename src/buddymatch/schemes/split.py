"""``split_by: A``: one run that forms pairs or groups within each value ("part") of A.

Why a wrapper around the scheme's own :meth:`~.base.SchemeKind.run` rather than a
rule inside the solvers: each part is solved exactly as if it were a run of its own,
so each part gets its own optimum under every objective and every setting:

- ``fair`` raises the lowest score within *each* part (a whole-pool mask ``same: A``
  would only raise the part holding the overall minimum, then maximise the total);
- peer pools get one trio per odd part (the pool solver forms at most one trio);
- cohorts get the fewest groups each part's people and rules allow (``size``), or
  ``count: N`` groups in each part, and group sizes within each part;
- rounds, history and locks apply within each part.

No pair or group may cross parts, so the parts share no decision and solving them
one by one loses nothing.  Every part is re-checked by the scheme's own independent
check; the merged result is checked again for units that cross parts
(:func:`buddymatch.check.check_parts`).

People with no value of A belong to no part and are listed in ``unmatched.csv``
with the reason.  Output tables gain a ``part`` column (the value of A); group
numbers continue across parts (part by part, in the order of A's values), so a
group number names one group of the run; ``place`` numbers count within a part.
summary.json adds ``split_by`` and one entry per part under ``parts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..check import check_parts
from ..errors import BuddymatchError, InputError, Issue, SolverError
from ..model import Problem
from .base import Progress, RoundOutcome, SchemeKind, SchemeRun, round_numbers
from .common import UNMATCHED_COLUMNS, excluded_reason, id_lookup, lookup_id, role_word

PART_KEYS = (
    "participants",
    "matched",
    "unmatched",
    "units",
    "status",
    "objective_value",
    "bound",
    "gap",
    "mean_score",
    "lowest_score",
)
"""The summary.json entries repeated for each part (plus the part's scheme extras)."""


@dataclass(frozen=True)
class _Part:
    label: str
    members: np.ndarray  # participant indices of the whole problem
    problem: Problem
    run: SchemeRun


def run_scheme(kind: SchemeKind, problem: Problem, progress: Progress | None = None) -> SchemeRun:
    """What callers use to solve a problem: ``kind.run``, or with ``split_by`` ``kind.run``
    on each part and the results merged."""
    if problem.scheme.split_by is None:
        return kind.run(problem, progress=progress)
    return run_parts(kind, problem, progress)


def run_parts(kind: SchemeKind, problem: Problem, progress: Progress | None) -> SchemeRun:
    """Run ``kind`` on every part of ``problem``, check, and merge the results."""
    split = str(problem.scheme.split_by)
    att = problem.attributes[split]
    _check_links(problem, att.values)
    parts, failed = [], []
    for code, label in enumerate(att.labels):
        members = np.flatnonzero(att.values == code)
        if not members.size:
            continue
        sub = problem.subset(members)
        try:
            parts.append(_Part(label, members, sub, kind.run(sub, progress=progress)))
        except BuddymatchError as exc:  # every part's problems at once, each named
            failed.append((exc, [Issue(f"{split} {label}: {line}") for line in exc.lines]))
    if failed:  # the first failure's kind (and exit code) for all
        raise type(failed[0][0])(issues=[i for _, issues in failed for i in issues])
    units = [
        [tuple(int(p.members[m]) for m in unit) for p in parts for unit in _units(p, r)]
        for r in range(problem.scheme.rounds)
    ]
    check_parts(problem, units)
    return SchemeRun(
        _merged_tables(problem, parts, split),
        _merged_outcomes(parts, problem.scheme.rounds),
        _explainer(problem, parts, split),
        {"split_by": split, "parts": [_part_summary(p) for p in parts]},
        units=units,
    )


def _check_links(problem: Problem, values: np.ndarray) -> None:
    """Locks and keep-together sets must lie within one part (they could never hold)."""
    issues = []
    for a, b in problem.locked.tolist():
        if values[a] != values[b] or values[a] < 0:
            where = f"({problem.where(a)}, {problem.where(b)})"
            issues.append(Issue(f"locked pair {where} crosses split_by {problem.scheme.split_by}"))
    for k, group in enumerate(problem.together):
        if len({int(values[m]) for m in group}) > 1 or (values[group] < 0).any():
            issues.append(
                Issue(f"keep_together set {k + 1} crosses split_by {problem.scheme.split_by}")
            )
    if issues:
        raise InputError(issues=issues)


def _units(part: _Part, r: int) -> list[tuple[int, ...]]:
    if part.run.units:
        return part.run.units[r] if r < len(part.run.units) else []
    main = part.run.tables.get("matches", part.run.tables.get("groups"))
    if main is not None and len(main):
        raise SolverError("this scheme does not report its units, so split_by cannot be checked")
    return []


# --- merging ---------------------------------------------------------------------------


def _merged_tables(problem: Problem, parts: list[_Part], split: str) -> dict[str, pd.DataFrame]:
    """Each table of every part, with a ``part`` column; groups numbered across parts."""
    names = list(dict.fromkeys(name for p in parts for name in p.run.tables))
    out: dict[str, pd.DataFrame] = {}
    offsets = _group_offsets(parts)
    for name in names:
        frames = []
        for part, offset in zip(parts, offsets, strict=True):
            table = part.run.tables.get(name)
            if table is None or not len(table):
                continue
            table = table.copy()
            if "group" in table.columns:
                table["group"] = table["group"].astype(int) + offset
            if name != "history":
                table.insert(min(1, len(table.columns)), "part", part.label)
            frames.append(table)
        out[name] = _concat(frames, name, parts)
    out["unmatched"] = _with_blank_part(problem, out.get("unmatched"), split)
    if "history" in out:
        out["history"] = _history(problem, out["history"])
    return out


def _group_offsets(parts: list[_Part]) -> list[int]:
    """How much each part's group numbers are shifted (the groups of the parts before)."""
    offsets, total = [], 0
    for p in parts:
        offsets.append(total)
        main = p.run.tables.get("groups")
        if main is not None and len(main):
            total += int(main["group"].astype(int).max())
    return offsets


def _concat(frames: list[pd.DataFrame], name: str, parts: list[_Part]) -> pd.DataFrame:
    if frames:
        merged = pd.concat(frames, ignore_index=True)
        if "round" in merged.columns:  # rounds first, then parts (stable)
            order = np.argsort(merged["round"].astype(int).to_numpy(), kind="stable")
            merged = merged.iloc[order].reset_index(drop=True)
        return merged
    empty = next(p.run.tables[name] for p in parts if name in p.run.tables)
    columns = list(empty.columns)
    return pd.DataFrame(
        columns=columns if name == "history" else [*columns[:1], "part", *columns[1:]]
    )


def _with_blank_part(problem: Problem, unmatched: pd.DataFrame | None, split: str) -> pd.DataFrame:
    """unmatched.csv plus everyone with no value of the split attribute (in no part)."""
    blank = np.flatnonzero(problem.attributes[split].values < 0).tolist()
    first = round_numbers(problem)[0]
    rows = [
        (
            first,
            "",
            problem.ids[i],
            role_word(problem, i),
            excluded_reason(problem, i)
            if problem.excluded[i]
            else f"no {split} given: split_by forms pairs and groups within each {split}",
        )
        for i in blank
    ]
    extra = pd.DataFrame(rows, columns=["round", "part", *UNMATCHED_COLUMNS[1:]])
    frames = [f for f in (unmatched, extra) if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=extra.columns)
    return pd.concat(frames, ignore_index=True)


def _history(problem: Problem, new: pd.DataFrame) -> pd.DataFrame:
    """The old history rows once (each part dropped them), then this run's."""
    old = problem.history.table
    if old is None or not len(old):
        return new
    merged = pd.concat([old, new], ignore_index=True).reindex(columns=new.columns)
    return merged.astype(object).where(merged.notna(), "").astype(str)


def _merged_outcomes(parts: list[_Part], rounds: int) -> list[RoundOutcome]:
    """Per round: values, bounds, units and repeats summed over parts; optimal only if
    every part is."""
    out = []
    for r in range(rounds):
        each = [p.run.rounds[r] for p in parts if r < len(p.run.rounds)]
        bounds = [o.bound for o in each if o.bound is not None]
        out.append(
            RoundOutcome(
                status="optimal" if all(o.status == "optimal" for o in each) else "feasible",
                objective_value=float(sum(o.objective_value for o in each)),
                bound=float(sum(bounds)) if len(bounds) == len(each) else None,
                units=int(sum(o.units for o in each)),
                solver=sorted({o.solver for o in each})[0] if each else "",
                repeats=int(sum(o.repeats for o in each)),
            )
        )
    return out


def _part_summary(part: _Part) -> dict[str, Any]:
    from .summary import run_summary

    summary = run_summary(part.problem, part.run)
    entry: dict[str, Any] = {"part": part.label}
    entry.update({k: summary[k] for k in PART_KEYS if k in summary})
    entry.update(part.run.extra)
    return entry


def _explainer(problem: Problem, parts: list[_Part], split: str):  # type: ignore[no-untyped-def]
    """Explain a pair: within its part by the part's own explanation, else why not
    (None, like the scheme's own run, when the parts cannot explain)."""
    if any(p.run.explain is None for p in parts):
        return None
    part_of = {int(i): p for p in parts for i in p.members.tolist()}
    lookup = id_lookup(problem)

    def explain(a: str, b: str) -> str:
        ia, ib = lookup_id(problem, a, lookup), lookup_id(problem, b, lookup)
        pa, pb = part_of.get(ia), part_of.get(ib)
        if pa is not None and pa is pb and pa.run.explain is not None:  # always set here
            return pa.run.explain(a, b)
        return f"Members {problem.ids[ia]} and {problem.ids[ib]}\n{apart_sentence(problem, ia, ib)}"

    return explain


def apart_sentence(problem: Problem, a: int, b: int) -> str | None:
    """Why ``split_by`` keeps two people apart (different or missing parts), or None."""
    split = problem.scheme.split_by
    if split is None:
        return None
    att = problem.attributes[split]
    if att.values[a] == att.values[b] and att.values[a] >= 0:
        return None
    shown = [att.display(i) or "(none)" for i in (a, b)]
    return (
        f"Different parts ({split} {shown[0]} / {shown[1]}): split_by never puts people "
        "of different parts together."
    )
