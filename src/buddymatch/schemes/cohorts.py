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
from ..errors import ConfigError, InfeasibleError, InputError, Issue
from ..model import (
    AttributeData,
    CountRuleSpec,
    NotAloneRule,
    Pairs,
    Problem,
    Scheme,
    criterion_name,
    text_key,
)
from ..scoring import pair_layers, pair_scores, score_matrix
from .base import Progress, RoundOutcome, SchemeKind, SchemeRun, round_numbers
from .common import UNMATCHED_COLUMNS, excluded_reason, excluded_rows, id_lookup, lookup_id
from .rematch import Previous, change_rows, dropped_out, index_of, joined, rematch_summary
from .split import apart_sentence

if TYPE_CHECKING:  # the solver package loads numba: imported when solving
    from ..solvers.groups import CommonRule, CountRule

COUNT_KINDS = ("at_least", "at_most", "exactly", "not_alone")
"""Rules that count members with a value in every group (``not_alone``: 0 or >= min)."""

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
        "not_alone",
        "common",
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
        "preference",
    )
    main_table = "groups"

    def validate(self, scheme: Scheme) -> Iterator[tuple[str, str]]:
        for path, message in super().validate(scheme):
            if path != "groups":
                yield path, message
        if scheme.groups is None:
            yield "groups", "cohorts need groups: {size: {min: 6, max: 8}} or {count: N}"
        yield from _count_rule_kinds(scheme)

    def sample_settings(self, columns: Mapping[str, str]) -> dict[str, Any]:
        return {
            "participants": {"id": columns["id"]},
            "groups": {"size": {"min": 6, "max": 8}},
            # Rules every sample can keep, whatever its size and seed (the organisations
            # are as uneven as real ones: one trust may hold a third of a small pool).
            "rules": [
                {"not_alone": {"attribute": "profession", "value": "GP"}},
                {"at_most": {"attribute": "facilitator", "value": "Yes", "count": 2}},
            ],
            "criteria": [
                {
                    "diversity": {
                        "attributes": ["organisation", "profession", "org_type", "band"],
                        "weight": 3,
                    }
                },
                {"similarity": {"attribute": "availability", "weight": 1}},
            ],
        }

    def run(self, problem: Problem, *, progress: Progress | None = None) -> SchemeRun:
        return run(problem, progress=progress)

    def explain(self, problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str) -> str:
        return explain_pair(problem, tables, a, b)

    def rematch(
        self,
        problem: Problem,
        previous: Previous,
        *,
        max_changes: int = 0,
        progress: Progress | None = None,
    ) -> SchemeRun:
        return rematch(problem, previous, max_changes=max_changes, progress=progress)


def count_rules(problem: Problem, pool: np.ndarray) -> list[CountRule]:
    """The scheme's at_least / at_most / exactly / not_alone rules over the pool."""
    from ..solvers.groups import CountRule

    rules = []
    counted: list[Any] = [r for r in problem.scheme.rules if r.kind in COUNT_KINDS]
    for rule in counted:
        att = problem.attributes[rule.attribute]
        labels, value, names = _labels(att, rule.value, pool)
        shown = f"{rule.attribute}={rule.value}" if rule.value is not None else rule.attribute
        if rule.kind == "not_alone":
            rules.append(
                CountRule(labels, value, name=shown, value_names=names, min_if_any=rule.min)
            )
            continue
        lo = rule.count if rule.kind in ("at_least", "exactly") else 0
        hi = rule.count if rule.kind in ("at_most", "exactly") else None
        rules.append(CountRule(labels, value, lo, hi, shown, names))
    return rules


def common_rules(problem: Problem, pool: np.ndarray) -> list[CommonRule]:
    """The scheme's common rules: values every member of a group shares."""
    from ..solvers.groups import CommonRule

    return [
        CommonRule(problem.attributes[r.attribute].values[pool], r.count, r.attribute)
        for r in problem.scheme.rules
        if r.kind == "common"
    ]


def _count_rule_kinds(scheme: Scheme) -> Iterator[tuple[str, str]]:
    """Count rules without a value on a multi-valued attribute: refused at validation.

    A multi-valued attribute counts the members holding one value (``value:``
    needed: "at most 2 per value" would count a person once per value they
    hold).  Numeric attributes are refused by the rule's ``attribute_fields``.
    """
    attrs = scheme.participants.attributes
    for i, rule in enumerate(scheme.rules):
        if not isinstance(rule, CountRuleSpec | NotAloneRule) or rule.attribute not in attrs:
            continue
        if attrs[rule.attribute].kind == "multi" and rule.value is None:
            yield (
                f"rules[{i}].{rule.kind}.value",
                f'"{rule.attribute}" is multi-valued: give value: (the value to count; '
                "each member holding it counts once)",
            )


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
    common: list[CommonRule] | None = None,
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
        if not check_composition(lo, hi, rules, locked, together, apart, n, common or ()):
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
    common: list[CommonRule]


def _setup(problem: Problem) -> _Setup:
    pool = problem.pool()
    rules = count_rules(problem, pool)
    common = common_rules(problem, pool)
    locked = None if problem.placed is None else problem.placed[pool].copy()
    together, apart = _positions(problem, pool)
    lower, upper = choose_groups(problem, len(pool), rules, locked, together, apart, common)
    if locked is not None and (locked >= len(lower)).any():
        raise InputError(
            issues=[
                Issue(
                    f"rule place: group {int(locked.max()) + 1} does not exist; "
                    f"there are {len(lower)} groups"
                )
            ]
        )
    benefit = _benefit(problem, pool)
    return _Setup(pool, rules, locked, together, apart, lower, upper, benefit, common)


def _benefit(problem: Problem, pool: np.ndarray) -> np.ndarray:
    """Pair scores within the pool, less history penalties, plus feedback points."""
    benefit = score_matrix(problem, pool, pool).astype(np.float64)
    np.fill_diagonal(benefit, 0.0)
    benefit -= _history_penalty(problem, pool)
    r, c, points = feedback_positions(problem, pool, pool)
    benefit[r, c] += points  # continuity bonus and rating points (both orders are listed)
    return benefit


def _positions(problem: Problem, pool: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """keep_together and keep_apart sets (forbidden pairs included) as pool positions."""
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[pool] = np.arange(len(pool))
    together = [pos[s][pos[s] >= 0] for s in problem.together]
    # forbidden pairs (feedback's did-not-work, a peer scheme's forbid) and pairs that
    # met within the history's cooldown never share a group
    pairs = [tuple(p) for p in problem.forbidden.tolist()]
    spec = problem.scheme.history_rules
    if spec is not None and len(problem.history.pairs):
        recent = problem.history.pairs[problem.history.rounds_ago <= spec.cooldown]
        known = {frozenset(p) for p in pairs}
        fresh = {(min(a, b), max(a, b)) for a, b in recent.tolist()}
        pairs += sorted(p for p in fresh if frozenset(p) not in known)
    sets = [*problem.apart, *(np.asarray(p) for p in pairs)]
    return together, [pos[s][pos[s] >= 0] for s in sets]


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
    check_groups(problem, assignments, setup.lower, setup.upper, group_rule_spec(problem))
    tables = {
        "groups": _groups_table(problem, assignments),
        "group_summary": _summary_table(problem, assignments, outcomes),
        "unmatched": pd.DataFrame(excluded_rows(problem, "member"), columns=UNMATCHED_COLUMNS),
    }
    units = [_groups_of(a) for a in assignments]
    return SchemeRun(tables, outcomes, units=units)


def _groups_of(assignment: np.ndarray) -> list[tuple[int, ...]]:
    """The groups of one round as tuples of participant indices, in group order."""
    placed = np.flatnonzero(assignment >= 0)
    order = placed[np.argsort(assignment[placed], kind="stable")]
    cuts = np.flatnonzero(np.diff(assignment[order])) + 1
    return [tuple(g.tolist()) for g in np.split(order, cuts)] if order.size else []


def group_rule_spec(problem: Problem) -> list[tuple[str, str, str | None, int]]:
    """The composition rules as the independent checker takes them: (kind, attribute,
    value or None for every value, count; for not_alone its min)."""
    spec: list[tuple[str, str, str | None, int]] = []
    for rule in problem.scheme.rules:
        if rule.kind in ("at_least", "at_most", "exactly", "common"):
            spec.append((rule.kind, rule.attribute, getattr(rule, "value", None), rule.count))
        elif rule.kind == "not_alone":
            spec.append((rule.kind, rule.attribute, rule.value, rule.min))
    return spec


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
        common=setup.common,
        time_limit=solver.time_limit,
        iterations=solver.iterations,
        seed=solver.seed + r,
        callback=progress,
    )
    if out.status == Status.INFEASIBLE:
        reasons = "\n".join(out.reasons) or "the composition rules cannot all hold"
        raise InfeasibleError(reasons + _cooldown_hint(problem))
    if out.status == Status.UNKNOWN:
        raise InfeasibleError(
            "no grouping meeting every rule was found in the time or iterations given; "
            "allow more (--time-limit / --iterations) or relax a rule" + _cooldown_hint(problem)
        )
    outcome = RoundOutcome(
        status=out.status.value,
        objective_value=float(out.objective),
        bound=None if out.bound is None else float(out.bound),
        units=len(setup.lower),
        solver=str(out.stats.get("method", "memetic tabu search")),
    )
    return out.assignment, outcome


def _cooldown_hint(problem: Problem) -> str:
    """What the history's cooldown adds to an impossible grouping, if it adds anything."""
    spec = problem.scheme.history_rules
    if spec is None or not len(problem.history.pairs):
        return ""
    recent = int((problem.history.rounds_ago <= spec.cooldown).sum())
    if not recent:
        return ""
    rounds = f"{spec.cooldown} round{'s' if spec.cooldown != 1 else ''}"
    return (
        f"\nthe history keeps apart {recent:,} pairs who met within the last {rounds}; "
        "a shorter history cooldown (history: {cooldown: ...}) allows them to meet again"
    )


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
        if i >= 0 and j >= 0 and ago > spec.cooldown:  # within it: kept apart (_positions)
            penalty[i, j] = penalty[j, i] = max(penalty[i, j], spec.penalty)
    return penalty


def _used_attributes(problem: Problem) -> list[str]:
    """Attributes shown in groups.csv: those rules and criteria use, except requests by
    name (who someone asked to work with, or not, is not for a shared table)."""
    requests = {n for n, a in problem.scheme.participants.attributes.items() if a.names}
    names: list[str] = [*requests]
    for rule in problem.scheme.rules:
        attr = getattr(rule, "attribute", None)
        if attr and attr not in names:
            names.append(attr)
    for crit in problem.scheme.criteria:
        for attr in getattr(crit, "attributes", None) or [getattr(crit, "attribute", None)]:
            if attr and attr not in names:
                names.append(attr)
    return [n for n in names if n not in requests]


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
            rec.update(_rule_columns(problem, members))
            rec["rules_met"] = "all"
            records.append(rec)
    return pd.DataFrame(records)


# --- re-matching: keep everyone where they were, move people only to repair -----------


def rematch(
    problem: Problem, previous: Previous, *, max_changes: int, progress: Progress | None
) -> SchemeRun:
    """Repair the latest round's groups (see docs/programme.md).

    Everyone still in stays in their group; joiners fill the free places
    (in the order of the profiles when there are more joiners than places);
    the groups are then solved with every kept member locked.  Only when that
    cannot meet the rules (a group below its minimum, a rule's last
    facilitator gone) and ``max_changes`` K > 0 are kept members allowed to
    move: each stays in their group at a bonus larger than any score gain, so
    the search moves as few as it can; more than K moves is an error.
    """
    if problem.scheme.split_by is not None:
        raise ConfigError(
            issues=[
                Issue(
                    "re-matching cohorts with split_by is not supported yet",
                    fix="run buddymatch match again, or re-match each part's profiles alone",
                )
            ]
        )
    before = _groups_before(problem, previous)
    count = int(pd.to_numeric(previous.latest()["group"]).max())
    free = [i for i in problem.pool().tolist() if i not in before]
    room = _room(problem, count, len(before))
    placed, waiting = free[:room], free[room:]
    pool = np.array(sorted([*before, *placed]), dtype=np.int64)
    lower, upper = _rematch_bounds(problem, count, len(pool))
    local, outcome, moves = _repair(problem, pool, before, lower, upper, max_changes, progress)
    full = np.full(problem.n, -1, dtype=np.int64)
    full[pool] = local
    check_groups(problem, [full], lower, upper, group_rule_spec(problem))
    return _rematch_tables(problem, previous, before, full, waiting, outcome, moves, max_changes)


def _groups_before(problem: Problem, previous: Previous) -> dict[int, int]:
    """Participant index -> previous group (0-based) of everyone still in the pool."""
    lookup = index_of(problem)
    out: dict[int, int] = {}
    for rec in previous.latest().to_dict(orient="records"):
        i = lookup.get(text_key(str(rec["participant_id"])))
        if i is not None and not problem.excluded[i]:
            out[i] = int(rec["group"]) - 1
    return out


def _room(problem: Problem, count: int, kept: int) -> int:
    """Places left for people who were not in a group (joiners first come, first served)."""
    groups = problem.scheme.groups
    assert groups is not None
    if groups.bounds is not None:
        top = sum(b.max for b in groups.bounds)
    elif groups.size is not None:
        top = count * groups.size.max
    else:
        return len(problem.pool()) - kept  # equal sizes: everyone fits
    return max(0, top - kept)


def _rematch_bounds(problem: Problem, count: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Size bounds of the ``count`` existing groups for ``n`` people."""
    groups = problem.scheme.groups
    assert groups is not None
    if groups.bounds is not None:
        if len(groups.bounds) != count:
            raise ConfigError(
                issues=[
                    Issue(
                        f"groups.bounds lists {len(groups.bounds)} groups; the previous result "
                        f"has {count}",
                        fix="re-match with the scheme the previous result used",
                    )
                ]
            )
        return (
            np.array([b.min for b in groups.bounds], dtype=np.int64),
            np.array([b.max for b in groups.bounds], dtype=np.int64),
        )
    if groups.size is not None:
        return np.full(count, groups.size.min, np.int64), np.full(count, groups.size.max, np.int64)
    return np.full(count, n // count, np.int64), np.full(count, -(-n // count), np.int64)


def _repair(
    problem: Problem,
    pool: np.ndarray,
    before: dict[int, int],
    lower: np.ndarray,
    upper: np.ndarray,
    max_changes: int,
    progress: Progress | None,
) -> tuple[np.ndarray, RoundOutcome, int]:
    """Groups (pool positions) with kept members locked; moves only when that fails."""
    from ..solvers import Status

    rules = count_rules(problem, pool)
    common = common_rules(problem, pool)
    together, apart = _positions(problem, pool)
    benefit = _benefit(problem, pool)
    locked = np.array([before.get(int(i), -1) for i in pool], dtype=np.int64)
    if problem.placed is not None:  # a place rule wins over the previous group
        placed = problem.placed[pool]
        locked = np.where(placed >= 0, placed, locked)
    out = _groups_solve(
        problem, benefit, lower, upper, (rules, common), locked, together, apart, progress
    )
    if out.status in (Status.OPTIMAL, Status.FEASIBLE):
        outcome = _group_outcome(out, len(lower))
        return out.assignment, outcome, _moves(pool, before, out.assignment)
    from ..solvers.groups import check_composition

    anyhow = check_composition(lower, upper, rules, None, together, apart, len(pool), common)
    if anyhow:
        raise InfeasibleError(
            "\n".join(anyhow) + f"\nthis holds however the {len(lower)} groups are filled: "
            "regroup everyone with `buddymatch match`, or relax the rule"
        )
    reasons = "\n".join(out.reasons) or "the rules cannot hold with everyone kept in their group"
    if max_changes == 0:
        raise InfeasibleError(
            f"{reasons}\nno repair keeps everyone in their group; allow moves with --max-changes"
        )
    return _repair_with_moves(
        problem, pool, before, lower, upper, max_changes,
        (benefit, rules, together, apart, common), progress,
    )  # fmt: skip


def _groups_solve(  # type: ignore[no-untyped-def]
    problem: Problem, benefit, lower, upper, rules, locked, together, apart, progress
):
    """``rules``: the count rules and the common rules."""
    from ..solvers.groups import solve_groups

    solver = problem.scheme.solver
    counted, common = rules
    return solve_groups(
        benefit, lower, upper, rules=counted, locked=locked, together=together, apart=apart,
        common=common, time_limit=solver.time_limit, iterations=solver.iterations,
        seed=solver.seed, callback=progress,
    )  # fmt: skip


def _group_outcome(out: Any, groups: int, bound: bool = True) -> RoundOutcome:
    return RoundOutcome(
        status=out.status.value if bound else "feasible",
        objective_value=float(out.objective),
        bound=None if out.bound is None or not bound else float(out.bound),
        units=groups,
        solver=str(out.stats.get("method", "memetic tabu search")),
    )


def _moves(pool: np.ndarray, before: dict[int, int], local: np.ndarray) -> int:
    return sum(1 for k, i in enumerate(pool.tolist()) if i in before and before[i] != int(local[k]))


def _repair_with_moves(
    problem: Problem,
    pool: np.ndarray,
    before: dict[int, int],
    lower: np.ndarray,
    upper: np.ndarray,
    max_changes: int,
    parts: tuple[Any, ...],
    progress: Progress | None,
) -> tuple[np.ndarray, RoundOutcome, int]:
    """One anchor per group, locked there; staying with it is worth more than any gain."""
    from ..solvers import Status
    from ..solvers.groups import CommonRule, CountRule

    benefit, rules, together, apart, common = parts
    n, count = len(pool), len(lower)
    stay = 1.0 + 2.0 * float(np.abs(benefit).sum(axis=1).max(initial=0.0))
    ext = np.zeros((n + count, n + count))
    ext[:n, :n] = benefit
    for k, i in enumerate(pool.tolist()):
        if i in before:
            ext[k, n + before[i]] = ext[n + before[i], k] = stay
    pad = np.full(count, -1, dtype=np.int64)
    ext_rules = [
        CountRule(
            np.concatenate([r.labels, pad]), r.value, r.min, r.max, r.name, r.value_names,
            r.min_if_any,
        )
        for r in rules
    ]  # fmt: skip
    # anchors have every value, so they never take a shared value from their group
    ext_common = [
        CommonRule(
            np.vstack([c.values, np.ones((count, c.values.shape[1]), bool)]), c.count, c.name
        )
        for c in common
    ]
    locked = np.concatenate([np.full(n, -1, np.int64), np.arange(count, dtype=np.int64)])
    if problem.placed is not None:
        locked[:n] = problem.placed[pool]
    out = _groups_solve(
        problem,
        ext,
        lower + 1,
        upper + 1,
        (ext_rules, ext_common),
        locked,
        together,
        apart,
        progress,
    )
    if out.status not in (Status.OPTIMAL, Status.FEASIBLE):
        raise InfeasibleError(
            "\n".join(out.reasons) or "the rules cannot hold even with people moved"
        )
    local = out.assignment[:n]
    moves = _moves(pool, before, local)
    if moves > max_changes:
        raise InfeasibleError(
            f"repairing the groups needs {moves} moves; --max-changes allows {max_changes}"
        )
    same = local[:, None] == local[None, :]
    value = float((benefit * np.triu(same, k=1)).sum())
    outcome = RoundOutcome("feasible", value, None, count, str(out.stats.get("method", "")))
    return local, outcome, moves


def _rematch_tables(
    problem: Problem,
    previous: Previous,
    before: dict[int, int],
    full: np.ndarray,
    waiting: list[int],
    outcome: RoundOutcome,
    moves: int,
    max_changes: int,
) -> SchemeRun:
    groups = _groups_table(problem, [full])
    lookup = index_of(problem)
    kept_flags = [
        before.get(lookup[text_key(str(v))]) == int(g) - 1
        for v, g in zip(groups["participant_id"], groups["group"], strict=True)
    ]
    groups.insert(3, "kept", kept_flags)
    number = round_numbers(problem)[0]
    full_why = "every group is full; joined after the groups were formed"
    unmatched = pd.DataFrame(
        [*excluded_rows(problem, "member"), *((number, problem.ids[i], "member", full_why)
                                                for i in waiting)],
        columns=UNMATCHED_COLUMNS,
    )  # fmt: skip
    tables = {
        "groups": groups,
        "group_summary": _summary_table(problem, [full], [outcome]),
        "unmatched": unmatched,
        "changes": _group_changes(problem, previous, full, unmatched),
    }
    left = dropped_out(problem, previous)
    excluded = sum(1 for k in previous.known if k in lookup and problem.excluded[lookup[k]])
    extra = rematch_summary(
        previous,
        kept=int(sum(kept_flags)),
        ended={"dropped out": len(left), "excluded": excluded, "moved": moves},
        new=int(len(kept_flags) - sum(kept_flags) - moves),
        left=len(left),
        joined_count=len(joined(problem, previous)),
        max_changes=max_changes,
        changes_used=moves,
        unit="memberships",
    )
    return SchemeRun(tables, [outcome], None, extra)


def _group_changes(
    problem: Problem, previous: Previous, full: np.ndarray, unmatched: pd.DataFrame
) -> pd.DataFrame:
    now = {text_key(v): v for v in problem.ids}
    before = {
        now.get(text_key(str(r["participant_id"])), str(r["participant_id"])): f"group {r['group']}"
        for r in previous.latest().to_dict(orient="records")
    }
    after = {problem.ids[i]: f"group {g + 1}" for i, g in enumerate(full.tolist()) if g >= 0}
    moved = {p: "moved to repair the groups (--max-changes)" for p in after if p in before}
    excluded = {
        problem.ids[i]: excluded_reason(problem, i)
        for i in np.flatnonzero(problem.excluded).tolist()
    }
    last = unmatched.drop_duplicates("participant_id", keep="last")
    return change_rows(
        before,
        after,
        ended={**moved, **excluded},
        left=dropped_out(problem, previous),
        new=[problem.ids[i] for i in joined(problem, previous)],
        unplaced=dict(zip(last["participant_id"], last["reason"], strict=True)),
    )


def _rule_columns(problem: Problem, members: np.ndarray) -> dict[str, int]:
    """What each composition rule counts in one group, for group_summary.csv."""
    out: dict[str, int] = {}
    shown: list[Any] = [r for r in problem.scheme.rules if r.kind in (*COUNT_KINDS, "common")]
    for rule in shown:
        att = problem.attributes[rule.attribute]
        values = [_member_values(att, m) for m in members.tolist()]
        if rule.kind == "common":
            shared = set.intersection(*values) if values else set()
            out[f"common {rule.attribute}"] = len(shared)
        elif rule.value is not None:
            out[f"{rule.attribute}={rule.value}"] = sum(_key(rule.value) in v for v in values)
        else:
            counts = Counter(v for vs in values for v in vs)
            if rule.kind == "not_alone":
                out[f"fewest per {rule.attribute}"] = min(counts.values(), default=0)
            else:
                out[f"max per {rule.attribute}"] = max(counts.values(), default=0)
    return out


def _member_values(att: AttributeData, i: int) -> set[str]:
    """Normalised values of participant i (one for categorical and ordinal, a set for multi)."""
    if att.kind == "multi":
        return {_key(att.labels[k]) for k in np.flatnonzero(att.values[i])}
    shown = att.display(i)
    return {_key(shown)} if shown else set()


def explain_pair(problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str) -> str:
    """Whether two people share a group, and what their pair contributes."""
    ia, ib = lookup_id(problem, a), lookup_id(problem, b)
    score = float(pair_scores(problem, Pairs(np.array([ia]), np.array([ib])))[0])
    lines = [f"Members {problem.ids[ia]} and {problem.ids[ib]}: pair score {score:.2f} of 100"]
    apart = apart_sentence(problem, ia, ib)
    if apart is not None:
        lines.append(apart)
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
