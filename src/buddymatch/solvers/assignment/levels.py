"""Priorities: lexicographic levels, each an exact flow on the optimal face of the ones
before it (see :mod:`.solve` for the level definitions)."""

from __future__ import annotations

import numpy as np

from buddymatch.solvers.assignment.cardinality import max_cardinality
from buddymatch.solvers.assignment.flow import Face, FlowResult, FlowSpec, Level
from buddymatch.solvers.assignment.prepared import (
    AssignmentOutcome,
    Favour,
    LevelOutcome,
    Prepared,
    check_range,
    finish,
    merge,
)
from buddymatch.solvers.assignment.search import solve_flow


def _level(name: str, prep: Prepared, favour: Favour) -> Level:
    """The flow costs of one priority level (people covered by locks gain nothing more)."""
    free_l = prep.left_locked == 0
    free_r = prep.right_locked == 0
    if name == "mentees-covered":
        return Level(name, left_first=free_l.astype(np.int64))
    if name == "mentors-covered":
        return Level(name, right_first=free_r.astype(np.int64))
    if name == "priority-covered":
        return Level(
            name,
            left_first=(favour.left & free_l).astype(np.int64),
            right_first=(favour.right & free_r).astype(np.int64),
        )
    if name == "pairs":
        return Level(name, pair_bonus=1)
    add_l = add_r = None
    if favour.bonus:
        add_l = favour.bonus * favour.left.astype(np.int64)
        add_r = favour.bonus * favour.right.astype(np.int64)
    return Level(name, weight_factor=1, left_add=add_l, right_add=add_r)


def level_value(name: str, pairs: np.ndarray, prep: Prepared, favour: Favour) -> int:
    """The value of one level for these pairs (locked ones included)."""
    n_left, n_right = prep.weights.shape
    deg_l = np.bincount(pairs[:, 0], minlength=n_left) if pairs.size else np.zeros(n_left, int)
    deg_r = np.bincount(pairs[:, 1], minlength=n_right) if pairs.size else np.zeros(n_right, int)
    if name == "mentees-covered":
        return int((deg_l > 0).sum())
    if name == "mentors-covered":
        return int((deg_r > 0).sum())
    if name == "priority-covered":
        return int(((deg_l > 0) & favour.left).sum() + ((deg_r > 0) & favour.right).sum())
    if name == "pairs":
        return len(pairs)
    if not pairs.size:
        return 0
    bonus = favour.bonus * (favour.left[pairs[:, 0]].astype(np.int64) + favour.right[pairs[:, 1]])
    return int(prep.weights_of(pairs).sum() + bonus.sum())


def solve_levels(
    prep: Prepared,
    names: tuple[str, ...],
    favour: Favour,
    flow_kw: dict[str, object],
    score_only: bool,
) -> AssignmentOutcome:
    """Each level on the optimal face of the ones before (``pairs`` fixes the flow value)."""
    n_left, n_right = prep.weights.shape
    levels = [_level(n, prep, favour) for n in names]
    if "score" in names:
        top = prep.max_weight + 2 * favour.bonus
        check_range("score", top, 2 + n_left + n_right, top * int(prep.left_cap.sum()))
    shape: dict[str, object] = {
        "split_left": any(lv.left_first is not None for lv in levels),
        "split_right": any(lv.right_first is not None for lv in levels),
        "min_weight": 1 if score_only else 0,
    }
    caps = _matching_caps(names[0], prep, favour)
    results = run_levels(prep, levels, flow_kw, shape, caps)
    last = results[-1]
    pairs = _drop_idle(merge(prep.locked, last.pairs), names, prep, favour)
    outcomes = _level_outcomes(names, results, pairs, prep, favour)
    done = all(r.certified for r in results) and len(results) == len(levels)
    stats: dict[str, float | int | str] = {
        "rounds": sum(int(r.stats["rounds"]) for r in results),
        "levels": ",".join(names),
    }
    first = outcomes[0]
    bound = None if first.bound is None else float(first.bound)
    return finish(prep, last, done, float(first.value), bound, stats, outcomes, pairs)


def run_levels(
    prep: Prepared,
    levels: list[Level],
    flow_kw: dict[str, object],
    shape: dict[str, object],
    first_caps: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[FlowResult]:
    """Solve ``levels`` in order, each on the optimal face of the ones before (a level named
    ``pairs`` fixes the flow value instead).  ``shape``: network settings shared by every
    level (first-unit or unit arcs, ``min_weight``); ``first_caps``: the first level is a
    maximum b-matching with these capacities.  Stops after a level not proven optimal."""
    faces: list[Face] = []
    flow_value: int | None = None
    keys: np.ndarray | None = None  # the previous level's network (on its face)
    extra: np.ndarray | None = None  # arcs that must join fresh candidates
    results: list[FlowResult] = []
    for k, level in enumerate(levels):
        spec = prep.spec(level, faces=tuple(faces), flow_value=flow_value, **shape)
        if k == 0 and first_caps is not None:
            res, extra = _first_by_matching(spec, first_caps, flow_kw)
        else:
            res = solve_flow(spec, initial_keys=keys, extra_keys=extra, **flow_kw)  # type: ignore[arg-type]
            extra = None
        results.append(res)
        if not res.certified:
            break
        if level.name == "pairs":
            flow_value = len(res.pairs)
        else:
            faces.append(Face(level, res.dist))  # type: ignore[arg-type]
        keys = None if res.dist is None else res.keys
    return results


def _matching_caps(
    name: str, prep: Prepared, favour: Favour
) -> tuple[np.ndarray, np.ndarray] | None:
    """Capacities under which the level's optimum is a maximum b-matching (None if it is
    not one): pairs as they are; a covered-level counts one partner per person."""
    lc, rc = prep.left_cap, prep.right_cap
    one_l = np.where(prep.left_locked == 0, np.minimum(lc, 1), 0)
    one_r = np.where(prep.right_locked == 0, np.minimum(rc, 1), 0)
    if name == "pairs":
        return lc, rc
    if name == "mentees-covered":
        return one_l, rc
    if name == "mentors-covered":
        return lc, one_r
    if name == "priority-covered" and not (favour.right & (rc > 0)).any():
        return np.where(favour.left, one_l, 0), rc
    if name == "priority-covered" and not (favour.left & (lc > 0)).any():
        return lc, np.where(favour.right, one_r, 0)
    return None


def _first_by_matching(
    spec: FlowSpec, caps: tuple[np.ndarray, np.ndarray], flow_kw: dict[str, object]
) -> tuple[FlowResult, np.ndarray | None]:
    """The first level when it is a maximum b-matching: proven by an augmenting-path
    search over every pair; ``pairs`` needs nothing more, a covered-level's flow (for the
    face of the next levels) starts from the matching and is known to be optimal."""
    n_right = spec.weights.shape[1]
    card = max_cardinality(spec.weights, caps[0], caps[1], spec.min_weight, spec.excluded)
    if spec.level.name != "pairs":
        res = solve_flow(spec, extra_keys=card.keys, known_optimum=card.value, **flow_kw)  # type: ignore[arg-type]
        res.stats.update(card.stats)
        return res, None
    pairs = np.stack([card.keys // n_right, card.keys % n_right], axis=1).astype(np.int64)
    stats: dict[str, float | int | str] = {"rounds": 0, **card.stats}
    res = FlowResult(
        pairs=pairs,
        profit=card.value,
        certified=card.certified,
        bound=card.value if card.certified else None,
        keys=card.keys,
        stats=stats,
    )
    return res, card.keys


def _level_outcomes(
    names: tuple[str, ...],
    results: list[FlowResult],
    pairs: np.ndarray,
    prep: Prepared,
    favour: Favour,
) -> tuple[LevelOutcome, ...]:
    """Each level's value on the final pairs, and its bound: the value when the level was
    proven optimal, the dual bound of the level whose certificate was cut short, else None."""
    out = []
    for k, name in enumerate(names):
        value = level_value(name, pairs, prep, favour)
        bound: int | None = None
        if k < len(results) and results[k].certified:
            bound = value
        elif k < len(results) and results[k].bound is not None:
            bound = level_value(name, prep.locked, prep, favour) + int(results[k].bound or 0)
        out.append(LevelOutcome(name, value, bound))
    return tuple(out)


def _drop_idle(
    pairs: np.ndarray, names: tuple[str, ...], prep: Prepared, favour: Favour
) -> np.ndarray:
    """Pairs without any contribution to a listed level are not made (locks are kept).

    A pair contributes to ``pairs`` always; to ``score`` when its weight (plus
    favour bonus) is positive; to a covered-level when it is the only partner
    of a person that level counts.  Removing non-contributing pairs one by one
    (in order) keeps every level's value.
    """
    if "pairs" in names or not pairs.size:
        return pairs
    n_left, n_right = prep.weights.shape
    deg_l = np.bincount(pairs[:, 0], minlength=n_left)
    deg_r = np.bincount(pairs[:, 1], minlength=n_right)
    gain = prep.weights_of(pairs)
    gain = gain + favour.bonus * (
        favour.left[pairs[:, 0]].astype(np.int64) + favour.right[pairs[:, 1]]
    )
    counts_l = ("mentees-covered" in names, "priority-covered" in names)
    counts_r = ("mentors-covered" in names, "priority-covered" in names)
    lock_set = set(map(tuple, prep.locked.tolist()))
    keep = np.ones(len(pairs), bool)
    for k, (i, j) in enumerate(pairs.tolist()):
        if (i, j) in lock_set or ("score" in names and gain[k] > 0):
            continue
        needed_l = deg_l[i] == 1 and (counts_l[0] or (counts_l[1] and favour.left[i]))
        needed_r = deg_r[j] == 1 and (counts_r[0] or (counts_r[1] and favour.right[j]))
        if needed_l or needed_r:
            continue
        keep[k] = False
        deg_l[i] -= 1
        deg_r[j] -= 1
    return pairs[keep]
