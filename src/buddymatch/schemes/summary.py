"""What summary.json says about a run, and what ``validate`` says about a population.

Both are assembled here from a scheme's tables and round outcomes, the same
for every scheme; a scheme adds its own entries through
:meth:`SchemeKind.population` and :attr:`SchemeRun.extra`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..model import FEEDBACK_OUTCOMES, Problem
from . import get_scheme
from .base import RoundOutcome, SchemeRun

ID_COLUMNS = ("mentor_id", "mentee_id", "member_a", "member_b", "member_c", "participant_id")


def run_summary(problem: Problem, run: SchemeRun) -> dict[str, Any]:
    """summary.json of a run (without ``runtime_s`` and ``inputs``, added by callers)."""
    tables, outcomes = run.tables, run.rounds
    value = float(sum(o.objective_value for o in outcomes))
    bound = _total_bound(outcomes)
    gap = None
    if bound is not None:
        gap = 0.0 if bound == 0 else max(0.0, (bound - value) / abs(bound))
    unmatched = tables["unmatched"]
    scores = _unit_scores(tables)
    summary = {
        "scheme": problem.scheme.scheme,
        "status": "optimal" if all(o.status == "optimal" for o in outcomes) else "feasible",
        "objective": problem.scheme.objective_name,
        "objective_value": round(value, 6),
        "bound": None if bound is None else round(bound, 6),
        "gap": None if gap is None else round(gap, 8),
        "participants": problem.n,
        "matched": len(_matched_ids(tables)),
        "unmatched": int(unmatched["participant_id"].nunique()) if len(unmatched) else 0,
        "units": int(sum(o.units for o in outcomes)),
        "total_score": round(value if "group_summary" in tables else float(scores.sum()), 4),
        "mean_score": None if scores.empty else round(float(scores.mean()), 4),
        "lowest_score": None if scores.empty else round(float(scores.min()), 4),
        "rounds": [_round_entry(i, o) for i, o in enumerate(outcomes)],
        "solver": sorted({o.solver for o in outcomes})[0] if outcomes else "",
        "seed": problem.scheme.solver.seed,
        "time_limit": problem.scheme.solver.time_limit,
        "iterations": problem.scheme.solver.iterations,
        "version": __version__,
        "input_hash": problem.input_hash,
        "config_hash": problem.config_hash,
    }
    if any(o.levels for o in outcomes):
        summary["priorities"] = _levels_total(outcomes)
    summary.update(run.extra)
    return summary


def _levels_total(outcomes: Sequence[RoundOutcome]) -> list[dict[str, Any]]:
    """Each priority level's value and bound, summed over rounds (bound None if any is)."""
    out = []
    for k, first in enumerate(outcomes[0].levels):
        values = [o.levels[k].value for o in outcomes]
        bounds = [o.levels[k].bound for o in outcomes]
        bound = None if any(b is None for b in bounds) else sum(b for b in bounds if b is not None)
        out.append(_level_entry(first.name, sum(values), bound))
    return out


def _level_entry(name: str, value: float, bound: float | None) -> dict[str, Any]:
    return {
        "name": name,
        "value": round(value, 6),
        "bound": None if bound is None else round(bound, 6),
    }


def _total_bound(outcomes: Sequence[RoundOutcome]) -> float | None:
    bounds = [o.bound for o in outcomes]
    if any(b is None for b in bounds):
        return None
    return float(sum(b for b in bounds if b is not None))


def _matched_ids(tables: Mapping[str, pd.DataFrame]) -> set[str]:
    main = tables.get("matches", tables.get("groups"))
    matched: set[str] = set()
    if main is None:
        return matched
    for c in ID_COLUMNS:
        if c in main.columns:
            matched.update(v for v in main[c].tolist() if isinstance(v, str) and v)
    return matched


def _unit_scores(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """One score per pair/trio, or one mean pair score per group."""
    if "group_summary" in tables and len(tables["group_summary"]):
        return tables["group_summary"]["score"].astype(float)
    main = tables.get("matches", tables.get("groups"))
    if main is not None and "score" in main.columns:
        return main["score"].astype(float)
    return pd.Series([], dtype=float)


def _round_entry(i: int, o: RoundOutcome) -> dict[str, Any]:
    return {
        "round": i + 1,
        "status": o.status,
        "objective_value": round(o.objective_value, 6),
        "bound": None if o.bound is None else round(o.bound, 6),
        "gap": None if o.gap is None else round(o.gap, 8),
        "units": o.units,
        "repeats": o.repeats,
        **(
            {"priorities": [_level_entry(lv.name, lv.value, lv.bound) for lv in o.levels]}
            if o.levels
            else {}
        ),
    }


def population_summary(problem: Problem) -> dict[str, Any]:
    """Counts ``validate`` reports: participants, roles and capacity, attribute values."""
    out: dict[str, Any] = {"participants": problem.n, "excluded": int(problem.excluded.sum())}
    out.update(get_scheme(problem.scheme.scheme).population(problem))
    split = problem.scheme.split_by
    if split is not None:
        values = problem.attributes[split].values
        out["split_by"] = {"attribute": split, "parts": len(np.unique(values[values >= 0]))}
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
    if problem.scheme.feedback is not None:
        out["feedback"] = feedback_counts(problem.feedback.outcome)
    return out


def feedback_counts(outcomes: Sequence[str]) -> dict[str, int]:
    """Pairs with feedback that apply to today's people, and how many of each outcome."""
    counts = {o: sum(1 for x in outcomes if x == o) for o in FEEDBACK_OUTCOMES}
    return {"pairs": len(outcomes), **counts}


def population_text(summary: Mapping[str, Any]) -> str:
    """The population summary as ``validate`` prints it."""
    lines = [f"{summary['participants']} participants ({summary['excluded']} excluded by rules)"]
    if "roles" in summary:
        r = summary["roles"]
        lines.append(f"roles: {r['mentor']} mentors, {r['mentee']} mentees, {r['both']} both")
        lines.append(
            f"mentor capacity {summary['mentor_capacity']} for {summary['mentors_wanted']} "
            "mentor places wanted"
        )
    if "split_by" in summary:
        split = summary["split_by"]
        lines.append(
            f"split by {split['attribute']}: {split['parts']} parts, each matched on its own"
        )
    for name, counts in summary.get("attributes", {}).items():
        shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        text = ", ".join(f"{k} {v}" for k, v in shown[:12])
        more = f", … ({len(shown) - 12} more)" if len(shown) > 12 else ""
        lines.append(f"{name}: {text}{more}")
    if "feedback" in summary:
        f = summary["feedback"]
        told = ", ".join(f"{f[o]} {o}" for o in FEEDBACK_OUTCOMES)
        lines.append(f"feedback: {f['pairs']} pairs ({told})")
    return "\n".join(lines)
