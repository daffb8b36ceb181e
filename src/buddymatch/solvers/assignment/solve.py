"""Exact mentor–mentee assignment: capacitated bipartite matching by min-cost flow.

Left nodes are mentees (capacity = mentors wanted, usually 1), right nodes are
mentors (capacity = mentees they can take, 0 allowed).  ``weights[i, j]`` is the
integer pair weight (score × ``WEIGHT_SCALE``, so 0..100,000) or ``NOT_ALLOWED``
(-1) when a hard rule forbids the pair.  A pair is made at most once.

Objectives (exact definitions; ``objective`` on the outcome is in the units given)
----------------------------------------------------------------------------------
``max-score``
    Maximise the total weight of the pairs made.  Pairs of weight 0 add nothing
    and are **never** made (unless locked).  ``objective`` = total weight
    (weight units: score × 1000).
``max-matched``
    Lexicographic: maximise the number of pairs made, then their total weight.
    Pairs of weight 0 are made when they add a pair.  ``objective`` = number of
    pairs made.  Solved without a big-M (so no overflow whatever the weights):
    the most pairs there can be, proven by an augmenting-path search over the
    whole matrix, then a min-cost flow of exactly that many pairs (see
    :func:`_solve_max_matched`).
``fair``
    Lexicographic, three levels:

    1. coverage: maximise the number of mentees with at least 1 partner, then
       the number with at least 2, and so on (``stats["coverage"]`` lists these
       counts).  Implemented with per-unit bonuses on each mentee's capacity:
       a k-th partner is worth more than every later-level gain combined.
    2. bottleneck: among those, maximise the lowest weight of any pair made,
       not counting locked pairs (a coordinator's lock does not lower the bar
       for anyone else).  Binary search on a threshold over the distinct
       weights, keeping the coverage vector achievable.  ``stats["min_weight"]``.
    3. total weight, among those.

    ``objective`` = number of mentees with at least one partner.

``locked`` pairs are always in the result and count against both capacities; a
lock on a forbidden pair or beyond a capacity gives an INFEASIBLE outcome with
``stats["reason"]``.  Duplicate lock rows are the same pair.

What callers may rely on: capacities are never exceeded, ``NOT_ALLOWED`` pairs
are never made, ``pairs`` is sorted and duplicate-free, the result is the same
for the same inputs (ties are broken by index when candidates are chosen; the
flow solver is deterministic), and ``OPTIMAL`` is reported only when the
solution is proven optimal over the **whole** matrix (see
:mod:`.assignment_flow` for the sparse-candidate certificate).  ``time_limit``
is checked between solver rounds (a single flow solve, or max-matched's
augmenting-path search, is not interrupted); if
it passes before the certificate holds, the best solution so far is returned as
``FEASIBLE`` with a proven ``bound`` where one is known.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from buddymatch.errors import SolverError
from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.assignment.flow import (
    INT64_LIMIT,
    FlowResult,
    FlowSpec,
    all_arcs,
    candidate_arcs,
    max_cardinality,
    solve_flow,
    sorted_unique,
)
from buddymatch.solvers.assignment.kernels import matrix_summary

OBJECTIVES = ("max-matched", "max-score", "fair")
SOLVER_NAME = "ortools.SimpleMinCostFlow"
DENSE_LIMIT = 250_000
"""Matrices with at most this many entries go into the flow whole (no certificate needed)."""
_MAX_MATCHED_BIG_M = False
"""Solve max-matched as one big-M flow (the old method; kept for differential tests)."""


@dataclass(frozen=True)
class AssignmentOutcome:
    """Result of :func:`solve_assignment` (see the module docstring for units)."""

    status: Status
    pairs: np.ndarray  # (k, 2) int64 (left, right), sorted lexicographically, unique
    objective: float
    bound: float | None  # proven upper bound on objective (== objective when OPTIMAL)
    total_weight: int
    stats: dict[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Prepared:
    weights: np.ndarray
    left_cap: np.ndarray  # residual after locks, clipped to allowed arcs
    right_cap: np.ndarray
    locked: np.ndarray  # (k, 2) sorted unique
    locked_keys: np.ndarray
    left_locked: np.ndarray  # locked partners per left node
    max_weight: int


def _as_int_array(a: np.ndarray, ndim: int, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension(s), got {arr.ndim}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got {arr.dtype}")
    return arr


def _infeasible(reason: str, n_locked: int) -> AssignmentOutcome:
    return AssignmentOutcome(
        status=Status.INFEASIBLE,
        pairs=np.empty((0, 2), np.int64),
        objective=0.0,
        bound=None,
        total_weight=0,
        stats={"solver": SOLVER_NAME, "reason": reason, "locked": n_locked},
    )


def _prepare(
    weights: np.ndarray,
    left_capacity: np.ndarray,
    right_capacity: np.ndarray,
    locked: np.ndarray | None,
    min_weight: int,
) -> _Prepared | str:
    """Validated arrays with locks applied, or the reason the locks are impossible."""
    w = _as_int_array(weights, 2, "weights")
    if w.dtype != np.int32:
        if w.size and (w.min() < NOT_ALLOWED or w.max() > np.iinfo(np.int32).max):
            raise ValueError("weights must lie in -1 .. 2^31-1")
        w = w.astype(np.int32)
    w = np.ascontiguousarray(w)
    row_arcs, col_arcs, w_min, w_max = matrix_summary(w, min_weight)
    n_left, n_right = w.shape
    lc = _as_int_array(left_capacity, 1, "left_capacity").astype(np.int64)
    rc = _as_int_array(right_capacity, 1, "right_capacity").astype(np.int64)
    if lc.shape != (n_left,) or rc.shape != (n_right,):
        raise ValueError(
            f"capacities must have lengths {n_left} and {n_right}, got {lc.size} and {rc.size}"
        )
    if (lc < 0).any() or (rc < 0).any():
        raise ValueError("capacities must be >= 0")
    if w.size and w_min < NOT_ALLOWED:
        raise ValueError(f"weights must be >= 0, or NOT_ALLOWED ({NOT_ALLOWED})")
    lk = np.empty((0, 2), np.int64) if locked is None else np.asarray(locked, dtype=np.int64)
    lk = lk.reshape(-1, 2) if lk.size == 0 else lk
    if lk.ndim != 2 or lk.shape[1] != 2:
        raise ValueError(f"locked must have shape (k, 2), got {lk.shape}")
    if lk.size and (
        (lk[:, 0] < 0).any()
        or (lk[:, 0] >= n_left).any()
        or (lk[:, 1] < 0).any()
        or (lk[:, 1] >= n_right).any()
    ):
        raise ValueError("locked pair index out of range")
    lk = np.unique(lk, axis=0)
    forbidden = w[lk[:, 0], lk[:, 1]] == NOT_ALLOWED if lk.size else np.zeros(0, bool)
    if forbidden.any():
        i, j = lk[np.argmax(forbidden)]
        return f"locked pair (left {i}, right {j}) is forbidden by a hard rule"
    left_locked = np.bincount(lk[:, 0], minlength=n_left).astype(np.int64)
    right_locked = np.bincount(lk[:, 1], minlength=n_right).astype(np.int64)
    over = np.nonzero(left_locked > lc)[0]
    if over.size:
        i = int(over[0])
        return f"left {i} has {left_locked[i]} locked pairs but capacity {lc[i]}"
    over = np.nonzero(right_locked > rc)[0]
    if over.size:
        j = int(over[0])
        return f"right {j} has {right_locked[j]} locked pairs but capacity {rc[j]}"
    lock_usable = w[lk[:, 0], lk[:, 1]] >= min_weight
    row_arcs = row_arcs - np.bincount(lk[:, 0], weights=lock_usable, minlength=n_left).astype(int)
    col_arcs = col_arcs - np.bincount(lk[:, 1], weights=lock_usable, minlength=n_right).astype(int)
    return _Prepared(
        weights=w,
        left_cap=np.minimum(lc - left_locked, row_arcs),
        right_cap=np.minimum(rc - right_locked, col_arcs),
        locked=lk,
        locked_keys=np.sort(lk[:, 0] * n_right + lk[:, 1]),
        left_locked=left_locked,
        max_weight=max(w_max, 0),
    )


def _check_range(what: str, max_cost: int, n_nodes: int, total: int) -> None:
    if max_cost * (n_nodes + 1) > INT64_LIMIT or total > INT64_LIMIT:
        raise SolverError(
            f"{what}: arc cost {max_cost} × {n_nodes + 1} nodes (or total {total}) exceeds the "
            f"64-bit limit 2^62 used for exact flows — lower capacities or split the cohort"
        )


def _level_bonus(prep: _Prepared, weight_bound: int, n_nodes: int) -> np.ndarray:
    """Bonus B_k of a left node's k-th partner: B_k > everything levels > k and weight add."""
    top = prep.left_locked + prep.left_cap
    n_levels = int(top.max()) if top.size else 0
    bonus = np.zeros(n_levels + 1, np.int64)  # index k-1 = level k; last slot unused
    tail = weight_bound  # T_{k+1}: most that levels > k plus weights can add
    for k in range(n_levels, 0, -1):
        gainers = int(((prep.left_locked < k) & (top >= k)).sum())
        b = tail + 1
        tail = gainers * b + tail
        _check_range("fair objective", b, n_nodes, tail)
        bonus[k - 1] = b
    return bonus


def _coverage(pairs: np.ndarray, n_left: int, n_levels: int) -> tuple[int, ...]:
    deg = np.bincount(pairs[:, 0], minlength=n_left) if pairs.size else np.zeros(n_left, int)
    return tuple(int((deg >= k).sum()) for k in range(1, n_levels + 1))


def _merge(locked: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    both = np.concatenate([locked, pairs]).astype(np.int64)
    return both[np.lexsort((both[:, 1], both[:, 0]))] if both.size else both.reshape(0, 2)


def _spec(prep: _Prepared, **kw: object) -> FlowSpec:
    base = FlowSpec(
        weights=prep.weights,
        left_cap=prep.left_cap,
        right_cap=prep.right_cap,
        min_weight=0,
        excluded=prep.locked_keys,
        pair_bonus=0,
        weight_factor=1,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def solve_assignment(
    weights: np.ndarray,
    left_capacity: np.ndarray,
    right_capacity: np.ndarray,
    *,
    objective: str = "max-matched",
    locked: np.ndarray | None = None,
    time_limit: float | None = None,
    dense_limit: int = DENSE_LIMIT,
) -> AssignmentOutcome:
    """Best pairs for ``objective`` (module docstring), proven optimal where possible.

    ``dense_limit``: matrices with at most this many entries are solved on all
    arcs at once; larger ones use certified sparse candidates (pass 0 to force
    the sparse path, e.g. in tests).
    """
    if objective not in OBJECTIVES:
        raise ValueError(
            f"unknown objective {objective!r}; expected one of {', '.join(OBJECTIVES)}"
        )
    start = time.perf_counter()
    deadline = None if time_limit is None else time.monotonic() + time_limit
    prep = _prepare(
        weights, left_capacity, right_capacity, locked, 1 if objective == "max-score" else 0
    )
    n_locked = 0 if locked is None else len(np.unique(np.asarray(locked).reshape(-1, 2), axis=0))
    if isinstance(prep, str):
        return _infeasible(prep, n_locked)
    n_left, n_right = prep.weights.shape
    n_nodes = 2 + n_left + n_right
    max_pairs = int(min(prep.left_cap.sum(), prep.right_cap.sum()))
    weight_bound = prep.max_weight * max_pairs
    k_row = int(prep.left_cap.max(initial=0)) + 4
    k_col = 2 * int(prep.right_cap.max(initial=0)) + 4
    flow_kw: dict[str, object] = {
        "dense_limit": dense_limit,
        "deadline": deadline,
        "k_row": k_row,
        "k_col": k_col,
    }
    stats: dict[str, float | int | str] = {"solver": SOLVER_NAME, "locked": len(prep.locked)}
    lw = prep.weights[prep.locked[:, 0], prep.locked[:, 1]].astype(np.int64)
    locked_weight = int(lw.sum())

    if objective == "max-score":
        res = solve_flow(_spec(prep, min_weight=1), **flow_kw)  # type: ignore[arg-type]
        value = float(locked_weight + res.profit)
        bound = None if res.bound is None else float(locked_weight + res.bound)
        done = res.certified
        stats.update(res.stats)
    elif objective == "max-matched" and _MAX_MATCHED_BIG_M:
        bonus = weight_bound + 1
        _check_range(
            "max-matched pair bonus M", bonus + prep.max_weight, n_nodes, bonus * max_pairs
        )
        res = solve_flow(_spec(prep, pair_bonus=bonus), **flow_kw)  # type: ignore[arg-type]
        value = float(len(prep.locked) + len(res.pairs))
        bound = None if res.bound is None else float(len(prep.locked) + res.bound // bonus)
        done = res.certified
        stats.update(res.stats)
        stats["pair_bonus"] = bonus
    elif objective == "max-matched":
        res, done, most = _solve_max_matched(prep, flow_kw)
        value = float(len(prep.locked) + len(res.pairs))
        bound = float(len(prep.locked) + most)
        stats.update(res.stats)
    else:
        res, done, bound, fair_stats = _solve_fair(prep, weight_bound, n_nodes, flow_kw, deadline)
        value = float(fair_stats["coverage_1"])
        stats.update(res.stats)
        stats.update(fair_stats)
        stats.pop("coverage_1")
    pairs = _merge(prep.locked, res.pairs)
    total = int(prep.weights[pairs[:, 0], pairs[:, 1]].astype(np.int64).sum()) if pairs.size else 0
    stats["total_weight"] = total
    stats["pairs"] = len(pairs)
    stats["seconds"] = round(time.perf_counter() - start, 4)
    return AssignmentOutcome(
        status=Status.OPTIMAL if done else Status.FEASIBLE,
        pairs=pairs,
        objective=value,
        bound=value if done else bound,
        total_weight=total,
        stats=stats,
    )


def _solve_max_matched(prep: _Prepared, flow_kw: dict[str, object]) -> tuple[FlowResult, bool, int]:
    """Most pairs, then most weight: two exact phases without a big-M (module docstring).

    Returns the best flow, whether it is proven lexicographically optimal over
    the whole matrix, and a proven upper bound on the number of free pairs.

    1. The maximum number of pairs ``k*`` over the whole matrix: Hopcroft–Karp
       over the dense matrix (:func:`max_cardinality`), proven by a search that
       finds no augmenting path.
    2. A min-cost flow of value exactly ``k*`` (no bypass), costs −weight, on
       the usual candidate arcs plus the phase-1 matching (so a flow of value
       ``k*`` exists on them).  Its certificate — potentials with non-negative
       reduced cost on every arc of the full matrix — shows the full residual
       graph has no negative cycle: no flow of value ``k*`` (the most there can
       be) weighs more.  Arcs added by the certificate rounds only grow the set.
    """
    spec = _spec(prep)
    n_left, n_right = prep.weights.shape
    dense_limit, k_row, k_col = (cast(int, flow_kw[k]) for k in ("dense_limit", "k_row", "k_col"))
    dense = n_left * n_right <= dense_limit
    card = max_cardinality(spec, all_arcs(spec) if dense else candidate_arcs(spec, k_row, k_col))
    res = solve_flow(
        replace(spec, flow_value=card.value),
        initial_keys=card.keys,
        **flow_kw,  # type: ignore[arg-type]
    )
    res.stats.update(card.stats)
    return res, card.certified and res.certified, card.value


def _distinct_above(weights: np.ndarray, floor: int) -> np.ndarray:
    """Sorted distinct weights > ``floor`` (bincount when weights are small, as scores are)."""
    top = int(weights.max(initial=0))
    if top <= floor:
        return np.empty(0, np.int64)
    if top <= 10_000_000:
        counts = np.bincount(weights[weights > floor], minlength=top + 1)
        return np.nonzero(counts)[0].astype(np.int64)
    return sorted_unique(weights[weights > floor].astype(np.int64))


def _solve_fair(
    prep: _Prepared,
    weight_bound: int,
    n_nodes: int,
    flow_kw: dict[str, object],
    deadline: float | None,
) -> tuple[FlowResult, bool, float | None, dict[str, float | int | str]]:
    """Coverage, then bottleneck (binary search), then weight; see the module docstring."""
    n_left = prep.weights.shape[0]
    n_levels = int((prep.left_locked + prep.left_cap).max(initial=0))
    full_bonus = _level_bonus(prep, weight_bound, n_nodes)
    cover_bonus = _level_bonus(prep, 0, n_nodes)
    start = prep.left_locked

    def run(min_weight: int, bonus: np.ndarray, factor: int) -> FlowResult:
        spec = _spec(
            prep, min_weight=min_weight, level_bonus=bonus, left_start=start, weight_factor=factor
        )
        return solve_flow(spec, **flow_kw)  # type: ignore[arg-type]

    best = run(0, full_bonus, 1)
    target = _coverage(_merge(prep.locked, best.pairs), n_left, n_levels)
    proven = best.certified
    rounds = int(best.stats["rounds"])
    searched = 0

    def bottleneck(res: FlowResult) -> int | None:
        if not res.pairs.size:
            return None
        return int(prep.weights[res.pairs[:, 0], res.pairs[:, 1]].min())

    floor = bottleneck(best)
    complete = True
    if floor is not None and proven:
        values = _distinct_above(prep.weights, floor)
        lo, hi = -1, values.size - 1  # values[lo] feasible (-1 = floor); find largest feasible
        while lo < hi:
            if deadline is not None and time.monotonic() > deadline:
                complete = False
                break
            mid = (lo + hi + 1) // 2
            probe = run(int(values[mid]), cover_bonus, 0)
            searched += 1
            rounds += int(probe.stats["rounds"])
            ok = _coverage(_merge(prep.locked, probe.pairs), n_left, n_levels) == target
            if not probe.certified:
                complete = False
                break
            if ok:
                lo = mid
            else:
                hi = mid - 1
        if lo >= 0:
            best = run(int(values[lo]), full_bonus, 1)
            rounds += int(best.stats["rounds"])
            proven = proven and best.certified
    cover = _coverage(_merge(prep.locked, best.pairs), n_left, n_levels)
    fair_stats: dict[str, float | int | str] = {
        "coverage": ",".join(str(c) for c in cover),
        "coverage_1": cover[0] if cover else 0,
        "min_weight": -1 if bottleneck(best) is None else int(bottleneck(best) or 0),
        "threshold_solves": searched,
    }
    best.stats["rounds"] = rounds
    bound = float(target[0]) if proven and target else (0.0 if proven else None)
    return best, proven and complete, bound, fair_stats
