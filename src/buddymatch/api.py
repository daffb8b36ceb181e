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

from . import __version__
from .candidates import weight_matrix
from .config import load_scheme
from .errors import ConfigError, Issue
from .io.profiles import build_problem
from .io.readers import ReadLimits, Table, read_tables
from .model import BOTH, MENTEE, MENTOR, Problem, Scheme, criterion_name
from .result import MatchResult
from .schemes.common import RoundOutcome
from .scoring import pair_layers
from .solvers import NOT_ALLOWED

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
        spec = _override(spec, overrides)
    tables = _tables(profiles, limits)
    return build_problem(tables, spec, base_dir=base)


def _override(spec: Scheme, overrides: Mapping[str, Any]) -> Scheme:
    data = spec.model_dump()
    for key, value in overrides.items():
        if value is None:
            continue
        if key in ("seed", "time_limit", "iterations"):
            data["solver"][key] = value
        else:
            data[key] = value
    from .config import validate_scheme

    # Re-validate so an override gets the same checks as the file.
    data["rules"] = [_as_item(r) for r in data["rules"]]
    data["criteria"] = [_as_item(c) for c in data["criteria"]]
    return validate_scheme(data, label="options")


def _as_item(d: dict[str, Any]) -> dict[str, Any]:
    kind = d.pop("kind")
    return {kind: {k: v for k, v in d.items() if v is not None}}


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


def population_summary(problem: Problem) -> dict[str, Any]:
    out: dict[str, Any] = {"participants": problem.n, "excluded": int(problem.excluded.sum())}
    if problem.scheme.scheme == "mentoring":
        role = problem.role
        out["roles"] = {
            "mentor": int((role == MENTOR).sum()),
            "mentee": int((role == MENTEE).sum()),
            "both": int((role == BOTH).sum()),
        }
        mentors, mentees = problem.mentors(), problem.mentees()
        out["mentor_capacity"] = int(problem.capacity[mentors].sum())
        out["mentors_wanted"] = int(problem.wants[mentees].sum())
    for name, att in problem.attributes.items():
        if att.kind in ("categorical", "ordinal"):
            counts = np.bincount(att.values[att.values >= 0], minlength=len(att.labels))
            out.setdefault("attributes", {})[name] = {
                **{lab: int(c) for lab, c in zip(att.labels, counts, strict=True)},
                **({"(blank)": int((att.values < 0).sum())} if (att.values < 0).any() else {}),
            }
        elif att.kind == "multi":
            out.setdefault("attributes", {})[name] = {
                "distinct values": len(att.labels),
                "(blank)": int((~att.values.any(axis=1)).sum()),
            }
    return out


def population_text(summary: Mapping[str, Any]) -> str:
    lines = [f"{summary['participants']} participants ({summary['excluded']} excluded by rules)"]
    if "roles" in summary:
        r = summary["roles"]
        lines.append(f"roles: {r['mentor']} mentors, {r['mentee']} mentees, {r['both']} both")
        lines.append(
            f"mentor capacity {summary['mentor_capacity']} for {summary['mentors_wanted']} "
            "mentor places wanted"
        )
    for name, counts in summary.get("attributes", {}).items():
        shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        text = ", ".join(f"{k} {v}" for k, v in shown[:12])
        more = f", … ({len(shown) - 12} more)" if len(shown) > 12 else ""
        lines.append(f"{name}: {text}{more}")
    return "\n".join(lines)


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
    kind = problem.scheme.scheme
    limit = problem.scheme.solver.time_limit
    extra: dict[str, Any] = {}
    if kind == "mentoring":
        from .schemes import mentoring

        run = mentoring.run(problem, time_limit=limit)
        tables, outcomes, explainer = run.tables, run.rounds, run.explain
    elif kind == "peer" and (problem.scheme.group_size or 2) > 2:
        from .schemes import roulette

        grun = roulette.run(problem, progress=progress)
        tables, outcomes, explainer = grun.tables, grun.rounds, None
    elif kind == "peer":
        from .schemes import peer

        prun = peer.run(problem, time_limit=limit)
        tables, outcomes, explainer = prun.tables, prun.rounds, prun.explain
        extra = {"fairness": prun.fairness}
    else:
        from .schemes import cohorts

        crun = cohorts.run(problem, progress=progress)
        tables, outcomes, explainer = crun.tables, crun.rounds, None
    summary = _summary(problem, tables, outcomes)
    summary.update(extra)
    if record_time:
        summary["runtime_s"] = round(time.perf_counter() - started, 3)
    return MatchResult(problem, tables, summary, explainer)


def _summary(
    problem: Problem, tables: Mapping[str, pd.DataFrame], outcomes: Sequence[RoundOutcome]
) -> dict[str, Any]:
    statuses = [o.status for o in outcomes]
    status = "optimal" if all(s == "optimal" for s in statuses) else "feasible"
    value = float(sum(o.objective_value for o in outcomes))
    bounds = [o.bound for o in outcomes]
    bound = (
        None if any(b is None for b in bounds) else float(sum(b for b in bounds if b is not None))
    )
    gap = None
    if bound is not None:
        gap = 0.0 if bound == 0 else max(0.0, (bound - value) / abs(bound))
    main = tables.get("matches", tables.get("groups"))
    id_cols = [
        c
        for c in ("mentor_id", "mentee_id", "member_a", "member_b", "member_c", "participant_id")
        if main is not None and c in main.columns
    ]
    matched: set[str] = set()
    if main is not None:
        for c in id_cols:
            matched.update(v for v in main[c].tolist() if isinstance(v, str) and v)
    unmatched = tables["unmatched"]
    scores: pd.Series = pd.Series([], dtype=float)
    if "group_summary" in tables and len(tables["group_summary"]):
        scores = tables["group_summary"]["score"].astype(float)  # one mean pair score per group
    elif main is not None and "score" in main.columns:
        scores = main["score"].astype(float)
    return {
        "scheme": problem.scheme.scheme,
        "status": status,
        "objective": problem.scheme.objective,
        "objective_value": round(value, 6),
        "bound": None if bound is None else round(bound, 6),
        "gap": None if gap is None else round(gap, 8),
        "participants": problem.n,
        "matched": len(matched),
        "unmatched": int(unmatched["participant_id"].nunique()) if len(unmatched) else 0,
        "units": int(sum(o.units for o in outcomes)),
        "total_score": round(value if "group_summary" in tables else float(scores.sum()), 4),
        "mean_score": None if scores.empty else round(float(scores.mean()), 4),
        "lowest_score": None if scores.empty else round(float(scores.min()), 4),
        "rounds": [
            {
                "round": i + 1,
                "status": o.status,
                "objective_value": round(o.objective_value, 6),
                "bound": None if o.bound is None else round(o.bound, 6),
                "gap": None if o.gap is None else round(o.gap, 8),
                "units": o.units,
                "repeats": o.repeats,
            }
            for i, o in enumerate(outcomes)
        ],
        "solver": sorted({o.solver for o in outcomes})[0] if outcomes else "",
        "seed": problem.scheme.solver.seed,
        "time_limit": problem.scheme.solver.time_limit,
        "iterations": problem.scheme.solver.iterations,
        "version": __version__,
        "input_hash": problem.input_hash,
        "config_hash": problem.config_hash,
    }


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
    if problem.scheme.scheme == "mentoring":
        rows, cols = problem.mentees(), problem.mentors()
    else:
        rows = cols = problem.pool()
    weights = weight_matrix(problem, rows, cols)
    allowed = weights != NOT_ALLOWED
    if top is not None:  # rank by weight: the score in thousandths, less history penalties
        allowed &= _top_mask(np.where(allowed, weights.astype(np.float64), -np.inf), top)
    if problem.scheme.scheme != "mentoring":
        allowed &= np.triu(np.ones_like(allowed), k=1)
    r, c = np.nonzero(allowed)
    first, second = rows[r], cols[c]
    layers = pair_layers(problem, first, second)
    if problem.scheme.scheme == "mentoring":
        data: dict[str, Any] = {
            "mentor_id": [problem.ids[i] for i in second],
            "mentee_id": [problem.ids[i] for i in first],
        }
    else:
        data = {
            "member_a": [problem.ids[i] for i in first],
            "member_b": [problem.ids[i] for i in second],
        }
    from .scoring import pair_scores

    data["score"] = np.round(pair_scores(problem, first, second), 2)
    for crit in problem.scheme.criteria:
        name = criterion_name(crit)
        data[name] = np.round(layers[name].astype(np.float64), 3)
    frame = pd.DataFrame(data)
    keys = list(frame.columns[:2])
    return frame.sort_values(
        ["score", *keys], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def _top_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """Keep each row's and each column's k best entries (ties by index)."""
    keep = np.zeros(scores.shape, dtype=bool)
    for axis in (0, 1):
        m = scores if axis == 1 else scores.T
        kk = min(k, m.shape[1])
        if kk == 0:
            continue
        idx = np.argsort(-m, axis=1, kind="stable")[:, :kk]
        sel = np.zeros(m.shape, dtype=bool)
        np.put_along_axis(sel, idx, True, axis=1)
        keep |= sel if axis == 1 else sel.T
    return keep & np.isfinite(scores)


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
    from .errors import InputError
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
    kind = problem.scheme.scheme
    if kind == "mentoring":
        from .schemes import mentoring

        return mentoring.explain_pair(problem, mentoring.made_from_table(problem, tables), a, b)
    if kind == "peer" and "groups" not in tables:  # pairs, not group_size groups
        from .schemes import peer

        return peer.explain_pair(problem, peer.made_from_table(problem, tables), a, b)
    from .schemes import cohorts

    return cohorts.explain_pair(problem, tables, a, b)
