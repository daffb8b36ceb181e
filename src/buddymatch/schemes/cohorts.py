"""The cohorts scheme: groups of bounded size with composition rules, in rounds.

The pair scores of the shared scoring module become the benefit matrix of the
grouping solver (a group's score is the sum over its pairs), composition rules
become count rules, and later rounds penalise pairs who already shared a group
so that, as far as the rules allow, nobody meets the same person twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..candidates import feedback_positions
from ..check import check_groups
from ..errors import InfeasibleError, InputError, Issue
from ..model import AttributeData, Pairs, Problem, Scheme, criterion_name, text_key
from ..scoring import pair_layers, pair_scores, score_matrix
from .base import Progress, RoundOutcome, SchemeKind, SchemeRun, round_numbers
from .common import UNMATCHED_COLUMNS, excluded_rows, id_lookup, lookup_id

if TYPE_CHECKING:  # the solver package loads numba: imported when solving
    from ..solvers.groups import CountRule

REPEAT_PENALTY = 1000.0
"""Score points a pair loses for sharing a group again (pair scores are at most 100)."""

_key = text_key


class Cohorts(SchemeKind):
    name = "cohorts"
    objectives = ("max-matched", "max-score", "fair")
    rule_kinds = (
        "at_least",
        "at_most",
        "exactly",
        "keep_together",
        "keep_apart",
        "place",
        "exclude",
    )
    criterion_kinds = (
        "diversity",
        "similarity",
        "balance",
        "same",
        "overlap",
        "closeness",
        "availability",
        "pairwise",
    )
    main_table = "groups"

    def validate(self, scheme: Scheme) -> Iterator[tuple[str, str]]:
        for path, message in super().validate(scheme):
            if path != "groups":
                yield path, message
        if scheme.groups is None:
            yield "groups", "cohorts need groups: {size: {min: 6, max: 8}} or {count: N}"

    def sample_settings(self, columns: Mapping[str, str]) -> dict[str, Any]:
        return {
            "participants": {"id": columns["id"]},
            "groups": {"size": {"min": 6, "max": 8}},
            "rules": [
                {"at_least": {"attribute": "profession", "value": "GP", "count": 1}},
                {"at_most": {"attribute": "organisation", "count": 2}},
                {"exactly": {"attribute": "facilitator", "value": "Yes", "count": 1}},
            ],
            "criteria": [
                {"diversity": {"attributes": ["profession", "org_type", "band"], "weight": 3}},
                {"similarity": {"attribute": "availability", "weight": 1}},
            ],
        }

    def run(self, problem: Problem, *, progress: Progress | None = None) -> SchemeRun:
        return run(problem, progress=progress)

    def explain(self, problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str) -> str:
        return explain_pair(problem, tables, a, b)


def count_rules(problem: Problem, pool: np.ndarray) -> list[CountRule]:
    """The scheme's at_least / at_most / exactly rules over the pool."""
    from ..solvers.groups import CountRule

    rules = []
    for rule in problem.scheme.rules:
        if rule.kind not in ("at_least", "at_most", "exactly"):
            continue
        att = problem.attributes[rule.attribute]
        labels, value, names = _labels(att, rule.value, pool)
        lo = rule.count if rule.kind in ("at_least", "exactly") else 0
        hi = rule.count if rule.kind in ("at_most", "exactly") else None
        shown = f"{rule.attribute}={rule.value}" if rule.value is not None else rule.attribute
        rules.append(CountRule(labels, value, lo, hi, shown, names))
    return rules


def _labels(
    att: AttributeData, value: str | None, pool: np.ndarray
) -> tuple[np.ndarray, int | None, tuple[str, ...]]:
    if att.kind == "multi":
        if value is None:
            raise InputError(
                issues=[
                    Issue(f'a count rule on the multi-valued attribute "{att.name}" needs a value')
                ]
            )
        cols = [k for k, lab in enumerate(att.labels) if _key(lab) == _key(value)]
        has = att.values[pool][:, cols].any(axis=1) if cols else np.zeros(len(pool), bool)
        return np.where(has, 1, -1).astype(np.int64), 1, ()
    if att.kind == "numeric":
        raise InputError(
            issues=[Issue(f'count rules need a categorical attribute; "{att.name}" is numeric')]
        )
    labels = att.values[pool].astype(np.int64)
    if value is None:
        return labels, None, tuple(att.labels)
    code = next((k for k, lab in enumerate(att.labels) if _key(lab) == _key(value)), -2)
    return labels, int(code), tuple(att.labels)


def choose_groups(
    problem: Problem,
    n: int,
    rules: list[CountRule],
    locked: np.ndarray | None,
    together: list[np.ndarray],
    apart: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Group size bounds; with ``size: {min, max}`` the fewest groups the rules allow.

    The fewest groups that fit everyone is tried first; if a counting argument
    rules it out (say 19 groups but 22 facilitators who must each lead one),
    one more group is tried, and so on up to the most groups the sizes allow.
    """
    from ..solvers.groups import check_composition, group_bounds

    groups = problem.scheme.groups
    assert groups is not None  # config guarantees it for cohorts
    if groups.bounds is not None:
        lower = np.array([b.min for b in groups.bounds], dtype=np.int64)
        upper = np.array([b.max for b in groups.bounds], dtype=np.int64)
        if not lower.sum() <= n <= upper.sum():
            raise InfeasibleError(
                f"groups: the bounds hold {lower.sum()}–{upper.sum()} people; the pool has {n}"
            )
        return lower, upper
    size = groups.size
    try:
        lower, upper = group_bounds(
            n,
            count=groups.count,
            min_size=None if size is None else size.min,
            max_size=None if size is None else size.max,
        )
    except ValueError as exc:
        raise InfeasibleError(f"groups: {exc}") from None
    if groups.count is not None or size is None:
        return lower, upper
    for g in range(len(lower), n // size.min + 1):
        lo, hi = np.full(g, size.min, np.int64), np.full(g, size.max, np.int64)
        if not check_composition(lo, hi, rules, locked, together, apart, n):
            return lo, hi
    return lower, upper  # the solver reports why the fewest groups cannot work


@dataclass(frozen=True)
class _Setup:
    """A cohorts problem as the grouping solver takes it (positions within the pool)."""

    pool: np.ndarray
    rules: list[CountRule]
    locked: np.ndarray | None
    together: list[np.ndarray]
    apart: list[np.ndarray]
    lower: np.ndarray
    upper: np.ndarray
    benefit: np.ndarray


def _setup(problem: Problem) -> _Setup:
    pool = problem.pool()
    rules = count_rules(problem, pool)
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[pool] = np.arange(len(pool))
    locked = None if problem.placed is None else problem.placed[pool].copy()
    together = [pos[s][pos[s] >= 0] for s in problem.together]
    # forbidden pairs (feedback's did-not-work, a peer scheme's forbid) never share a group
    sets = [*problem.apart, *(np.asarray(p) for p in problem.forbidden.tolist())]
    apart = [pos[s][pos[s] >= 0] for s in sets]
    lower, upper = choose_groups(problem, len(pool), rules, locked, together, apart)
    if locked is not None and (locked >= len(lower)).any():
        raise InputError(
            issues=[
                Issue(
                    f"rule place: group {int(locked.max()) + 1} does not exist; "
                    f"there are {len(lower)} groups"
                )
            ]
        )
    benefit = score_matrix(problem, pool, pool).astype(np.float64)
    np.fill_diagonal(benefit, 0.0)
    benefit -= _history_penalty(problem, pool)
    r, c, points = feedback_positions(problem, pool, pool)
    benefit[r, c] += points  # continuity bonus and rating points (both orders are listed)
    return _Setup(pool, rules, locked, together, apart, lower, upper, benefit)


def run(problem: Problem, *, progress: Progress | None) -> SchemeRun:
    """Form the groups of every round, check them, build the tables."""
    setup = _setup(problem)
    n_pool = len(setup.pool)
    assignments: list[np.ndarray] = []
    outcomes: list[RoundOutcome] = []
    shared = np.zeros((n_pool, n_pool), dtype=bool)
    for r in range(problem.scheme.rounds):
        local, outcome = _solve_round(problem, setup, r, shared, progress)
        same = local[:, None] == local[None, :]
        np.fill_diagonal(same, False)
        outcomes.append(replace(outcome, repeats=int((same & shared).sum() // 2)))
        shared |= same
        full = np.full(problem.n, -1, dtype=np.int64)
        full[setup.pool] = local
        assignments.append(full)
    spec = [
        (rule.kind, rule.attribute, rule.value, rule.count)
        for rule in problem.scheme.rules
        if rule.kind in ("at_least", "at_most", "exactly")
    ]
    check_groups(problem, assignments, setup.lower, setup.upper, spec)
    tables = {
        "groups": _groups_table(problem, assignments),
        "group_summary": _summary_table(problem, assignments, outcomes),
        "unmatched": pd.DataFrame(excluded_rows(problem, "member"), columns=UNMATCHED_COLUMNS),
    }
    return SchemeRun(tables, outcomes)


def _solve_round(
    problem: Problem, setup: _Setup, r: int, shared: np.ndarray, progress: Progress | None
) -> tuple[np.ndarray, RoundOutcome]:
    """One round's grouping (pool positions); pairs who already shared a group pay."""
    from ..solvers import Status
    from ..solvers.groups import solve_groups

    solver = problem.scheme.solver
    out = solve_groups(
        setup.benefit - REPEAT_PENALTY * shared,
        setup.lower,
        setup.upper,
        rules=setup.rules,
        locked=setup.locked if r == 0 else None,
        together=setup.together,
        apart=setup.apart,
        time_limit=solver.time_limit,
        iterations=solver.iterations,
        seed=solver.seed + r,
        callback=progress,
    )
    if out.status == Status.INFEASIBLE:
        raise InfeasibleError("\n".join(out.reasons) or "the composition rules cannot all hold")
    if out.status == Status.UNKNOWN:
        raise InfeasibleError(
            "no grouping meeting every rule was found in the time or iterations given; "
            "allow more (--time-limit / --iterations) or relax a rule"
        )
    outcome = RoundOutcome(
        status=out.status.value,
        objective_value=float(out.objective),
        bound=None if out.bound is None else float(out.bound),
        units=len(setup.lower),
        solver=str(out.stats.get("method", "memetic tabu search")),
    )
    return out.assignment, outcome


def _history_penalty(problem: Problem, pool: np.ndarray) -> np.ndarray:
    penalty = np.zeros((len(pool), len(pool)))
    spec = problem.scheme.history_rules
    if spec is None or not len(problem.history.pairs):
        return penalty
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[pool] = np.arange(len(pool))
    for (a, b), ago in zip(
        problem.history.pairs.tolist(), problem.history.rounds_ago.tolist(), strict=True
    ):
        i, j = pos[a], pos[b]
        if i >= 0 and j >= 0:
            p = REPEAT_PENALTY if ago <= spec.cooldown else spec.penalty
            penalty[i, j] = penalty[j, i] = max(penalty[i, j], p)
    return penalty


def _used_attributes(problem: Problem) -> list[str]:
    names: list[str] = []
    for rule in problem.scheme.rules:
        attr = getattr(rule, "attribute", None)
        if attr and attr not in names:
            names.append(attr)
    for crit in problem.scheme.criteria:
        for attr in getattr(crit, "attributes", None) or [getattr(crit, "attribute", None)]:
            if attr and attr not in names:
                names.append(attr)
    return names


def _groups_table(problem: Problem, assignments: list[np.ndarray]) -> pd.DataFrame:
    numbers = round_numbers(problem)
    attrs = _used_attributes(problem)
    records = []
    for r, assignment in enumerate(assignments):
        order = sorted(np.flatnonzero(assignment >= 0).tolist(), key=lambda i: (assignment[i], i))
        for i in order:
            rec: dict[str, Any] = {
                "round": numbers[r],
                "group": int(assignment[i]) + 1,
                "participant_id": problem.ids[i],
            }
            for name in attrs:
                rec[name] = problem.attributes[name].display(i)
            if problem.carry is not None:
                for c in problem.carry.columns:
                    rec[c] = problem.carry[c].iat[i]
            records.append(rec)
    columns = ["round", "group", "participant_id", *attrs]
    return pd.DataFrame(records, columns=None if records else columns)


def _summary_table(
    problem: Problem, assignments: list[np.ndarray], outcomes: list[RoundOutcome]
) -> pd.DataFrame:
    numbers = round_numbers(problem)
    names = [criterion_name(c) for c in problem.scheme.criteria]
    records = []
    for r, assignment in enumerate(assignments):
        for g in range(int(assignment.max()) + 1):
            members = np.flatnonzero(assignment == g)
            rec: dict[str, Any] = {"round": numbers[r], "group": g + 1, "size": len(members)}
            a, b = np.triu_indices(len(members), k=1)
            pairs = Pairs(members[a], members[b])
            scores = pair_scores(problem, pairs)
            rec["score"] = round(float(scores.mean()), 2) if len(scores) else 0.0
            layers = pair_layers(problem, pairs)
            for name in names:
                values = layers[name].astype(np.float64)
                rec[name] = round(float(values.mean()), 3) if len(values) else 0.0
            for rule in problem.scheme.rules:
                if rule.kind not in ("at_least", "at_most", "exactly"):
                    continue
                att = problem.attributes[rule.attribute]
                shown = [att.display(m) for m in members.tolist()]
                if rule.value is not None:
                    hits = sum(
                        _key(rule.value) in {_key(v) for v in s.split(";")} for s in shown if s
                    )
                    rec[f"{rule.attribute}={rule.value}"] = hits
                else:
                    counts = Counter(_key(s) for s in shown if s)
                    rec[f"max per {rule.attribute}"] = max(counts.values(), default=0)
            rec["rules_met"] = "all"
            records.append(rec)
    return pd.DataFrame(records)


def explain_pair(problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str) -> str:
    """Whether two people share a group, and what their pair contributes."""
    ia, ib = lookup_id(problem, a), lookup_id(problem, b)
    score = float(pair_scores(problem, Pairs(np.array([ia]), np.array([ib])))[0])
    lines = [f"Members {problem.ids[ia]} and {problem.ids[ib]}: pair score {score:.2f} of 100"]
    groups = tables.get("groups", pd.DataFrame())
    lookup = id_lookup(problem)
    where: dict[tuple[int, int], int] = {}
    for rec in groups.to_dict(orient="records"):
        where[(int(rec["round"]), lookup_id(problem, str(rec["participant_id"]), lookup))] = int(
            rec["group"]
        )
    for r in round_numbers(problem):
        ga, gb = where.get((r, ia)), where.get((r, ib))
        if ga is not None and ga == gb:
            lines.append(f"Round {r}: together in group {ga}.")
        else:
            lines.append(f"Round {r}: groups {ga or '-'} and {gb or '-'}.")
    return "\n".join(lines)


SCHEME = Cohorts()
