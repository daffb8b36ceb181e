"""The ``fair`` objective: coverage by depth, then the bottleneck, then total weight.

See :mod:`.solve` for the definition.  Coverage and weight are lexicographic
levels (:func:`.levels.run_levels`): "mentees with at least k partners" is the
profit of each mentee's k-th unit arc, one level per depth, the first by the
augmenting-path search; then the weight, all on each other's optimal faces.
The bottleneck — the highest lowest pair weight that keeps the coverage — is
searched over the distinct weights; a probe that reaches the coverage on the
arcs already known proves "yes" by itself (any flow on some arcs is a valid
result), and only the threshold just above the answer is settled by a
certified solve over every pair (its coverage levels as one flow with small
per-unit bonuses, checked against the 64-bit range).
"""

from __future__ import annotations

import time

import numpy as np

from buddymatch.solvers.assignment.flow import FlowResult, Level, flow_on, sorted_unique
from buddymatch.solvers.assignment.levels import run_levels
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
        self.probes = 0

    def run(self, min_weight: int, full: bool, keys: np.ndarray | None = None) -> FlowResult:
        level = Level(
            "fair", unit_bonus=self.full if full else self.cover, weight_factor=1 if full else 0
        )
        spec = self.prep.spec(level, min_weight=min_weight, left_start=self.prep.left_locked)
        res = solve_flow(spec, initial_keys=keys, **self.flow_kw)  # type: ignore[arg-type]
        self.rounds += int(res.stats["rounds"])
        return res

    def levels(self, min_weight: int) -> tuple[bool, FlowResult, np.ndarray]:
        """Coverage depth by depth, then weight, with pairs of weight >= ``min_weight``:
        (all proven, the last level's flow, its arcs)."""
        prep = self.prep
        depths = [
            Level(f"coverage-{k}", unit_bonus=(np.arange(self.n_levels + 1) == k - 1) * 1)
            for k in range(1, self.n_levels + 1)
        ]
        levels = [*depths, Level("weight", weight_factor=1)]
        shape: dict[str, object] = {
            "unit_arcs": True,
            "min_weight": min_weight,
            "left_start": prep.left_locked,
        }
        caps = None
        if min_weight == 0:  # the first depth is the most mentees covered: a matching
            caps = (
                np.where(prep.left_locked == 0, np.minimum(prep.left_cap, 1), 0),
                prep.right_cap,
            )
        results = run_levels(prep, levels, self.flow_kw, shape, caps)
        self.rounds += sum(int(r.stats["rounds"]) for r in results)
        last = results[-1]
        done = len(results) == len(levels) and all(r.certified for r in results)
        return done, last, last.keys

    def coverage_on(self, min_weight: int, keys: np.ndarray) -> tuple[int, ...]:
        """The best coverage with pairs of weight >= ``min_weight`` among ``keys`` (a
        witness, not a proof of the best over every pair)."""
        self.probes += 1
        level = Level("fair", unit_bonus=self.cover, weight_factor=0)
        spec = self.prep.spec(level, min_weight=min_weight, left_start=self.prep.left_locked)
        pairs = flow_on(spec, keys)
        n_left = self.prep.weights.shape[0]
        return coverage(merge(self.prep.locked, pairs), n_left, self.n_levels)

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
    """Coverage, then bottleneck (a search over the distinct weights), then weight.

    The bottleneck is the largest weight t such that the coverage stays the best
    with pairs of weight >= t only.  The search runs on the arcs already known;
    only the threshold just above its answer is settled by a certified solve
    over every pair — a "no" ends the search, a "yes" brings the arcs that made
    it and the search goes on above.
    """
    fair = _Fair(prep, flow_kw)
    done, best, keys = fair.levels(0)
    target = fair.coverage(best)
    proven = done
    floor = fair.bottleneck(best)
    complete, searched, lo = True, 0, -1
    if floor is not None and proven:
        values = _distinct_above(prep, floor)
        known = keys
        hi = values.size - 1
        while True:  # values[lo] proven feasible (-1 = floor); values[hi + 1:] infeasible
            lo = _search_known(fair, values, lo, hi, known, target)
            if lo == hi:
                break
            if deadline is not None and time.monotonic() > deadline:
                complete = False
                break
            probe = fair.run(int(values[lo + 1]), False)
            searched += 1
            if not probe.certified:
                complete = False
                break
            if fair.coverage(probe) != target:
                break  # proven: nothing above values[lo] keeps the coverage
            lo += 1
            known = sorted_unique(np.concatenate([known, probe.keys]))
        if lo >= 0:
            done, best, _ = fair.levels(int(values[lo]))
            proven = proven and done
    return _fair_outcome(prep, fair, best, target, proven and complete, searched)


def _search_known(
    fair: _Fair, values: np.ndarray, lo: int, hi: int, known: np.ndarray, target: tuple[int, ...]
) -> int:
    """The largest index in [lo, hi] whose threshold keeps the coverage on ``known`` arcs."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fair.coverage_on(int(values[mid]), known) == target:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _fair_outcome(
    prep: Prepared,
    fair: _Fair,
    best: FlowResult,
    target: tuple[int, ...],
    done: bool,
    searched: int,
) -> AssignmentOutcome:
    cover = fair.coverage(best)
    low = fair.bottleneck(best)
    stats: dict[str, float | int | str] = {
        "coverage": ",".join(str(c) for c in cover),
        "min_weight": -1 if low is None else low,
        "threshold_solves": searched,
        "threshold_probes": fair.probes,
        "rounds": fair.rounds,
    }
    proven = best.certified
    bound = float(target[0]) if proven and target else (0.0 if proven else None)
    value = float(cover[0] if cover else 0)
    return finish(prep, best, done, value, bound, stats)
