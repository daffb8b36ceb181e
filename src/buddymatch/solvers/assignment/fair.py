"""The ``fair`` objective: coverage by depth, then the bottleneck, then total weight.

See :mod:`.solve` for the definition.  Coverage and weight are one flow with
per-unit bonuses (each checked against the 64-bit range).  The bottleneck —
the highest lowest pair weight that keeps the coverage — is searched over the
distinct weights; most probes are settled without a certified solve: a probe
that reaches the coverage on the candidate arcs already known proves itself
(any flow on some arcs is a valid result), and only the probes that fail
there are decided by a certified solve over every pair.
"""

from __future__ import annotations

import time

import numpy as np

from buddymatch.solvers.assignment.flow import FlowResult, Level, sorted_unique
from buddymatch.solvers.assignment.prepared import (
    AssignmentOutcome,
    Prepared,
    check_range,
    finish,
    merge,
)
from buddymatch.solvers.assignment.search import solve_flow


def _level_bonus(prep: Prepared, weight_bound: int, n_nodes: int) -> np.ndarray:
    """Bonus B_k of a left node's k-th partner: B_k > everything levels > k and weight add."""
    top = prep.left_locked + prep.left_cap
    n_levels = int(top.max()) if top.size else 0
    bonus = np.zeros(n_levels + 1, np.int64)  # index k-1 = level k; last slot unused
    tail = weight_bound  # T_{k+1}: most that levels > k plus weights can add
    for k in range(n_levels, 0, -1):
        gainers = int(((prep.left_locked < k) & (top >= k)).sum())
        b = tail + 1
        tail = gainers * b + tail
        check_range("fair objective", b, n_nodes, tail)
        bonus[k - 1] = b
    return bonus


def coverage(pairs: np.ndarray, n_left: int, n_levels: int) -> tuple[int, ...]:
    """Mentees with at least 1, 2, ... partners."""
    deg = np.bincount(pairs[:, 0], minlength=n_left) if pairs.size else np.zeros(n_left, int)
    return tuple(int((deg >= k).sum()) for k in range(1, n_levels + 1))


def _distinct_above(prep: Prepared, floor: int) -> np.ndarray:
    """Sorted distinct weights > ``floor`` that some pair may have: every class weight and
    every overridden weight (a superset of the weights of allowed pairs)."""
    w = prep.weights
    values = [w.class_weights[w.class_weights > floor].astype(np.int64)]
    if w.override_values.size:
        rows = np.repeat(np.arange(w.shape[0], dtype=np.int64), np.diff(w.override_ptr))
        values.append(w.at(rows, w.override_cols).astype(np.int64))
    both = np.concatenate(values)
    both = both[both > floor]
    top = int(both.max(initial=0))
    if top <= 10_000_000:
        return np.flatnonzero(np.bincount(both, minlength=top + 1)).astype(np.int64)
    return sorted_unique(both)


class _Fair:
    """State of one fair solve: the bonus vectors and the flow keyword arguments."""

    def __init__(self, prep: Prepared, flow_kw: dict[str, object]) -> None:
        n_left, n_right = prep.weights.shape
        n_nodes = 2 + n_left + n_right
        max_pairs = int(min(prep.left_cap.sum(), prep.right_cap.sum()))
        self.prep = prep
        self.flow_kw = flow_kw
        self.n_levels = int((prep.left_locked + prep.left_cap).max(initial=0))
        self.full = _level_bonus(prep, prep.max_weight * max_pairs, n_nodes)
        self.cover = _level_bonus(prep, 0, n_nodes)
        self.rounds = 0

    def run(self, min_weight: int, full: bool, keys: np.ndarray | None = None) -> FlowResult:
        level = Level(
            "fair", unit_bonus=self.full if full else self.cover, weight_factor=1 if full else 0
        )
        spec = self.prep.spec(level, min_weight=min_weight, left_start=self.prep.left_locked)
        res = solve_flow(spec, initial_keys=keys, **self.flow_kw)  # type: ignore[arg-type]
        self.rounds += int(res.stats["rounds"])
        return res

    def coverage(self, res: FlowResult) -> tuple[int, ...]:
        n_left = self.prep.weights.shape[0]
        return coverage(merge(self.prep.locked, res.pairs), n_left, self.n_levels)

    def bottleneck(self, res: FlowResult) -> int | None:
        if not res.pairs.size:
            return None
        return int(self.prep.weights_of(res.pairs).min())


def solve_fair(
    prep: Prepared, flow_kw: dict[str, object], deadline: float | None
) -> AssignmentOutcome:
    """Coverage, then bottleneck (a search over the distinct weights), then weight."""
    fair = _Fair(prep, flow_kw)
    best = fair.run(0, True)
    target = fair.coverage(best)
    proven = best.certified
    searched = 0
    floor = fair.bottleneck(best)
    complete = True
    if floor is not None and proven:
        values = _distinct_above(prep, floor)
        lo, hi = -1, values.size - 1  # values[lo] feasible (-1 = floor); find largest feasible
        while lo < hi:
            if deadline is not None and time.monotonic() > deadline:
                complete = False
                break
            mid = (lo + hi + 1) // 2
            probe = fair.run(int(values[mid]), False)
            searched += 1
            if not probe.certified:
                complete = False
                break
            if fair.coverage(probe) == target:
                lo = mid
            else:
                hi = mid - 1
        if lo >= 0:
            best = fair.run(int(values[lo]), True)
            proven = proven and best.certified
    cover = fair.coverage(best)
    low = fair.bottleneck(best)
    stats: dict[str, float | int | str] = {
        "coverage": ",".join(str(c) for c in cover),
        "min_weight": -1 if low is None else low,
        "threshold_solves": searched,
        "rounds": fair.rounds,
    }
    bound = float(target[0]) if proven and target else (0.0 if proven else None)
    value = float(cover[0] if cover else 0)
    return finish(prep, best, proven and complete, value, bound, stats)
