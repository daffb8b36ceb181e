"""The public entry points: what the CLI and embedding applications call.

``match(profiles, scheme)`` runs the whole chain (load, validate, score,
rules, solve, independent check, explain) and returns a :class:`MatchResult`;
``validate`` stops after loading; ``score`` exports the allowed pairs.
Profiles may be a DataFrame, a path, or several paths; a scheme may be a path
or an already-parsed dict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .candidates import top_mask, weight_matrix
from .config import load_scheme, with_overrides
from .errors import ConfigError, InputError, Issue
from .io.profiles import build_problem
from .io.readers import ReadLimits, Table, read_tables
from .model import Pairs, Problem, Scheme, criterion_name
from .result import MatchResult
from .schemes import get_scheme
from .schemes.summary import population_summary, population_text, run_summary
from .scoring import pair_layers, pair_scores
from .weights import NOT_ALLOWED

Profiles = pd.DataFrame | str | Path | Sequence[str | Path]
SchemeSource = str | Path | Mapping[str, Any]
Progress = Callable[[dict[str, Any]], None]


def _tables(profiles: Profiles, limits: ReadLimits | None) -> list[Table]:
    if isinstance(profiles, pd.DataFrame):
        frame = profiles.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
        rows = np.arange(2, len(frame) + 2, dtype=np.int64)
        return [Table(frame.reset_index(drop=True), "<DataFrame>", rows)]
    paths = [profiles] if isinstance(profiles, str | Path) else list(profiles)
    if not paths:
        raise ConfigError(issues=[Issue("no profile files given")])
    return read_tables(paths, limits=limits or ReadLimits())


def load_problem(
    profiles: Profiles,
    scheme: SchemeSource | Scheme,
    *,
    overrides: Mapping[str, Any] | None = None,
    limits: ReadLimits | None = None,
) -> Problem:
    """Read and validate everything; raise one error listing every problem."""
    if isinstance(scheme, Scheme):
        spec, base = scheme, None
    else:
        spec, base = load_scheme(scheme)
    if overrides:
        spec = with_overrides(spec, overrides, label="options")
    tables = _tables(profiles, limits)
    return build_problem(tables, spec, base_dir=base)


@dataclass(frozen=True)
class Validation:
    """A valid problem and its population summary (``buddymatch validate``)."""

    problem: Problem
    summary: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return population_text(self.summary)


def validate(
    profiles: Profiles, scheme: SchemeSource | Scheme, *, limits: ReadLimits | None = None
) -> Validation:
    """Load and check everything; return the population summary."""
    problem = load_problem(profiles, scheme, limits=limits)
    return Validation(problem, population_summary(problem))


def match(
    profiles: Profiles,
    scheme: SchemeSource | Scheme,
    *,
    seed: int | None = None,
    time_limit: float | None = None,
    iterations: int | None = None,
    objective: str | None = None,
    rounds: int | None = None,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
    record_time: bool = False,
) -> MatchResult:
    """Run the whole chain and return the result.

    Options given here override the scheme file's.  Every result passes the
    independent check (:mod:`buddymatch.check`) before it is returned.
    """
    started = time.perf_counter()
    overrides = {
        "seed": seed,
        "time_limit": time_limit,
        "iterations": iterations,
        "objective": objective,
        "rounds": rounds,
    }
    problem = load_problem(profiles, scheme, overrides=overrides, limits=limits)
    return solve(problem, progress=progress, started=started, record_time=record_time)


def solve(
    problem: Problem,
    *,
    progress: Progress | None = None,
    started: float | None = None,
    record_time: bool = False,
) -> MatchResult:
    """Solve an already-loaded problem (see :func:`load_problem`)."""
    started = time.perf_counter() if started is None else started
    kind = get_scheme(problem.scheme.scheme)
    kind.ensure_valid(problem.scheme)
    run = kind.run(problem, progress=progress)
    summary = run_summary(problem, run)
    if record_time:
        summary["runtime_s"] = round(time.perf_counter() - started, 3)
    return MatchResult(problem, run.tables, summary, run.explain)


def score(
    profiles: Profiles,
    scheme: SchemeSource | Scheme,
    *,
    top: int | None = None,
    limits: ReadLimits | None = None,
) -> pd.DataFrame:
    """Every allowed pair with its score and criterion breakdown, best first.

    ``top`` keeps each person's K best pairs (large inputs).  Mentoring pairs
    are (mentor_id, mentee_id); other schemes (member_a, member_b).
    """
    problem = load_problem(profiles, scheme, limits=limits)
    kind = get_scheme(problem.scheme.scheme)
    rows, cols = kind.pair_space(problem)
    weights = weight_matrix(problem, rows, cols)
    allowed = weights != NOT_ALLOWED
    if top is not None:  # rank by weight: the score in thousandths, less history penalties
        allowed &= top_mask(np.where(allowed, weights.astype(np.float64), -np.inf), top)
    if not kind.directed:
        allowed &= np.triu(np.ones_like(allowed), k=1)
    r, c = np.nonzero(allowed)
    if kind.directed:
        pairs = Pairs.from_matrix(rows, cols, r, c)
        data: dict[str, Any] = {
            "mentor_id": [problem.ids[i] for i in pairs.mentor],
            "mentee_id": [problem.ids[i] for i in pairs.mentee],
        }
    else:
        pairs = Pairs(rows[r], cols[c])
        data = {
            "member_a": [problem.ids[i] for i in pairs.a],
            "member_b": [problem.ids[i] for i in pairs.b],
        }
    data["score"] = np.round(pair_scores(problem, pairs), 2)
    layers = pair_layers(problem, pairs)
    for crit in problem.scheme.criteria:
        name = criterion_name(crit)
        data[name] = np.round(layers[name].astype(np.float64), 3)
    frame = pd.DataFrame(data)
    keys = list(frame.columns[:2])
    return frame.sort_values(
        ["score", *keys], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def explain_result(
    output: str | Path,
    a: str,
    b: str,
    *,
    profiles: Profiles | None = None,
    scheme: SchemeSource | None = None,
) -> str:
    """Explain a pair against a results folder written by ``match``.

    The profiles and scheme default to those recorded in ``summary.json``; the
    profiles must be unchanged since the run (their hash is compared).
    """
    from .io.writers import read_results

    tables, summary = read_results(output)
    inputs = summary.get("inputs") or {}
    profiles = profiles or inputs.get("profiles")
    scheme = scheme or inputs.get("scheme")
    if not profiles or not scheme:
        raise InputError(
            issues=[
                Issue(
                    f'"{output}" does not record its inputs',
                    fix="pass the profile files with --profiles and the scheme with -c",
                )
            ]
        )
    problem = load_problem(profiles, scheme)
    if summary.get("input_hash") and summary["input_hash"] != problem.input_hash:
        raise InputError(
            issues=[
                Issue(
                    "the profiles have changed since this run (input hash differs)",
                    fix="explain against the files the run used, or run match again",
                )
            ]
        )
    return get_scheme(problem.scheme.scheme).explain(problem, tables, a, b)
