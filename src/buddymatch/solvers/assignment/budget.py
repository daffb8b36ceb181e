"""Re-matching with a budget: current pairs stay unless breaking at most K of them pays.

:func:`solve_with_changes` takes the same weights and capacities as
:func:`~buddymatch.solvers.assignment.solve_assignment`, plus ``kept`` (pairs
that exist now and may be broken) and ``max_changes`` K.  A solution
**breaks** a kept pair when it does not contain it; it breaks at most K.
``locked`` pairs are always made.  Definitions, exact:

``max-matched``
    Lexicographic: most pairs, then **fewest kept pairs broken**, then total
    weight.  So a kept pair is broken only to make more pairs, never for score.
    Let C(v) be the fewest breaks with which v pairs can be made.  Each
    component of the difference between a solution and the best one keeping
    every pair (v0 pairs) gains at most one pair and holds at least one broken
    pair, so C(v) >= v - v0, and C is convex (min-cost flow with 0/1 costs on
    the kept arcs, as a function of the flow value).  The answer is the
    largest v with C(v) <= K; each C(v) and the final pairs come from one exact
    min-cost flow of value v with profit ``B * [kept] + weight`` (B larger than
    any total weight), certified over the whole matrix like every flow here.
``max-score``
    Lexicographic: total weight, then fewest breaks.  A budget on a flow is a
    side constraint, so this is solved by Lagrangian relaxation: the flow with
    profit ``s * weight + [kept] * (1 + s * mu)`` (s = kept + 1 makes "fewest
    breaks" the tie-break) for the smallest multiplier ``mu`` whose solution
    breaks at most K.  It is **proven optimal** when that solution breaks
    exactly K or ``mu`` is 0 (complementary slackness); otherwise it is
    reported ``FEASIBLE`` with the Lagrangian bound (the least
    ``L(mu)`` evaluated) — the budget then falls between two breakpoints.
``fair``
    Not supported (``ValueError``): the bottleneck level has no budgeted form here.

``trade_off`` lists (changes, objective) points: for max-matched every v from
the no-break value up to the answer, and the next v with the changes it would
need; for max-score the Lagrangian solutions found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.assignment.flow import FlowSpec, Level, candidate_arcs, sorted_unique
from buddymatch.solvers.assignment.search import solve_flow
from buddymatch.solvers.assignment.solve import DENSE_LIMIT, AssignmentOutcome, solve_assignment
from buddymatch.weights import PairWeights

INT32_MAX = int(np.iinfo(np.int32).max)
CPSAT_ARCS = 50_000
"""max-score: when the Lagrangian leaves a gap and the matrix has at most this many
allowed pairs, the gap is closed exactly by CP-SAT over every allowed pair."""


@dataclass(frozen=True)
class ChangesOutcome:
    """Result of :func:`solve_with_changes` (see the module docstring).

    ``objective`` is pairs (max-matched) or total weight (max-score);
    ``broken`` the kept pairs not in ``pairs``.
    """

    status: Status
    pairs: np.ndarray
    broken: np.ndarray
    objective: float
    bound: float | None
    trade_off: list[tuple[int, float]] = field(default_factory=list)
    stats: dict[str, float | int | str] = field(default_factory=dict)


def _keys(pairs: np.ndarray, n_right: int) -> np.ndarray:
    return sorted_unique(pairs[:, 0].astype(np.int64) * n_right + pairs[:, 1])


def _as_pairs(pairs: np.ndarray | None) -> np.ndarray:
    if pairs is None:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=0)


def _broken(kept: np.ndarray, pairs: np.ndarray, n_right: int) -> np.ndarray:
    made = set(_keys(pairs, n_right).tolist()) if len(pairs) else set()
    return np.array(
        [p for p in kept.tolist() if p[0] * n_right + p[1] not in made], dtype=np.int64
    ).reshape(-1, 2)


def solve_with_changes(
    weights: np.ndarray,
    left_capacity: np.ndarray,
    right_capacity: np.ndarray,
    *,
    kept: np.ndarray,
    max_changes: int,
    objective: str = "max-matched",
    locked: np.ndarray | None = None,
    time_limit: float | None = None,
    dense_limit: int = DENSE_LIMIT,
) -> ChangesOutcome:
    """Best pairs breaking at most ``max_changes`` of ``kept`` (module docstring)."""
    if max_changes < 0:
        raise ValueError("max_changes must be >= 0")
    if objective not in ("max-matched", "max-score"):
        raise ValueError(f"a budget on changes supports max-matched and max-score, not {objective}")
    w = np.asarray(weights)
    lk = _as_pairs(locked)
    kp = _as_pairs(kept)
    n_right = w.shape[1]
    if len(lk) and len(kp):  # a kept pair that is also locked is simply locked
        kp = kp[~np.isin(_keys(kp, n_right), _keys(lk, n_right))]
    if len(kp) and (w[kp[:, 0], kp[:, 1]] == NOT_ALLOWED).any():
        raise ValueError("a kept pair is not allowed by the weights")
    run = _Run(w, np.asarray(left_capacity), np.asarray(right_capacity), kp, lk, max_changes)
    run.time_limit, run.dense_limit = time_limit, dense_limit
    if objective == "max-matched":
        return run.max_matched()
    return run.max_score()


class _Run:
    """One budgeted solve: the inputs and the flows evaluated so far."""

    def __init__(
        self,
        w: np.ndarray,
        lc: np.ndarray,
        rc: np.ndarray,
        kept: np.ndarray,
        locked: np.ndarray,
        budget: int,
    ) -> None:
        self.w, self.lc, self.rc, self.kept, self.locked, self.budget = (
            w,
            lc,
            rc,
            kept,
            locked,
            budget,
        )
        self.time_limit: float | None = None
        self.dense_limit = DENSE_LIMIT
        self.proven = True
        self.started = time.perf_counter()
        self.flows = 0

    # --- shared ---------------------------------------------------------------------

    def assign(self, weights: np.ndarray, objective: str, locked: np.ndarray) -> AssignmentOutcome:
        out = solve_assignment(
            weights,
            self.lc,
            self.rc,
            objective=objective,
            locked=locked,
            time_limit=self.time_limit,
            dense_limit=self.dense_limit,
        )
        self.flows += 1
        if out.status == Status.INFEASIBLE:
            raise ValueError(str(out.stats.get("reason", "locked and kept pairs do not fit")))
        self.proven &= out.status == Status.OPTIMAL
        return out

    def bonus_weights(self, bonus: int, scale: int = 1) -> np.ndarray:
        """``scale * w`` with ``bonus`` added on kept pairs (int32, checked for overflow)."""
        top = int(self.w.max(initial=0))
        if top * scale + bonus > INT32_MAX:
            raise ValueError(
                "weights too large for a budgeted re-match (more than about 20,000 pairs)"
            )
        out = np.where(self.w >= 0, self.w.astype(np.int64) * scale, NOT_ALLOWED).astype(np.int32)
        if len(self.kept):
            out[self.kept[:, 0], self.kept[:, 1]] += np.int32(bonus)
        return out

    def breaks(self, pairs: np.ndarray) -> int:
        return len(_broken(self.kept, pairs, self.w.shape[1]))

    def weight(self, pairs: np.ndarray) -> int:
        return int(self.w[pairs[:, 0], pairs[:, 1]].astype(np.int64).sum()) if len(pairs) else 0

    def outcome(
        self, pairs: np.ndarray, value: float, bound: float | None, trade: list[tuple[int, float]]
    ) -> ChangesOutcome:
        stats: dict[str, float | int | str] = {
            "solver": "budgeted min-cost flow",
            "flows": self.flows,
            "seconds": round(time.perf_counter() - self.started, 4),
        }
        return ChangesOutcome(
            status=Status.OPTIMAL if self.proven and bound == value else Status.FEASIBLE,
            pairs=pairs,
            broken=_broken(self.kept, pairs, self.w.shape[1]),
            objective=value,
            bound=bound,
            trade_off=trade,
            stats=stats,
        )

    # --- max-matched: exact by flows of fixed value ------------------------------------

    def max_matched(self) -> ChangesOutcome:
        all_kept = np.concatenate([self.kept, self.locked]) if len(self.locked) else self.kept
        base = self.assign(self.w, "max-matched", all_kept)
        v0 = len(base.pairs)
        max_pairs = int(min(self.lc.sum(), self.rc.sum()))
        big = int(self.w.max(initial=0)) * max_pairs + 1
        prefer = self.bonus_weights(big)
        free = self.assign(prefer, "max-matched", self.locked)
        vmax = len(free.pairs)
        trade: list[tuple[int, float]] = [(0, float(v0))]
        if vmax == v0 or self.budget == 0:
            return self.outcome(base.pairs, float(v0), float(v0), trade)
        best = base.pairs
        keys = sorted_unique(
            np.concatenate([_keys(base.pairs, self.w.shape[1]), _keys(free.pairs, self.w.shape[1])])
        )
        for v in range(v0 + 1, vmax + 1):
            pairs = free.pairs if v == vmax else self.fixed_value(prefer, v, keys)
            changes = self.breaks(pairs)
            trade.append((changes, float(v)))
            if changes > self.budget:
                return self.outcome(best, float(v - 1), float(v - 1), trade)
            best = pairs
        return self.outcome(best, float(vmax), float(vmax), trade)

    def fixed_value(self, prefer: np.ndarray, value: int, keys: np.ndarray) -> np.ndarray:
        """Pairs of the best flow with exactly ``value`` pairs (locked included) on ``prefer``."""
        n_right = self.w.shape[1]
        lk_keys = _keys(self.locked, n_right) if len(self.locked) else np.zeros(0, np.int64)
        lc = (
            self.lc - np.bincount(self.locked[:, 0], minlength=len(self.lc))
            if len(self.locked)
            else self.lc
        )
        rc = (
            self.rc - np.bincount(self.locked[:, 1], minlength=len(self.rc))
            if len(self.locked)
            else self.rc
        )
        spec = FlowSpec(
            weights=PairWeights.from_matrix(prefer),
            left_cap=np.asarray(lc, np.int64),
            right_cap=np.asarray(rc, np.int64),
            min_weight=0,
            excluded=lk_keys,
            level=Level("score", weight_factor=1),
            flow_value=value - len(self.locked),
        )
        k_row, k_col = int(lc.max(initial=0)) + 4, 2 * int(rc.max(initial=0)) + 4
        start = sorted_unique(
            np.concatenate([keys[~np.isin(keys, lk_keys)], candidate_arcs(spec, k_row, k_col)])
        )
        deadline = None if self.time_limit is None else time.monotonic() + self.time_limit
        res = solve_flow(
            spec,
            dense_limit=self.dense_limit,
            deadline=deadline,
            k_row=k_row,
            k_col=k_col,
            initial_keys=start,
        )
        self.flows += 1
        self.proven &= res.certified
        pairs = np.concatenate([self.locked, res.pairs]) if len(self.locked) else res.pairs
        return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs

    # --- max-score: Lagrangian on the budget ------------------------------------------

    def max_score(self) -> ChangesOutcome:
        scale = len(self.kept) + 1
        top = int(self.w.max(initial=0))
        mu_hi = max(0, (INT32_MAX - top * scale - 1) // scale)
        seen: dict[int, tuple[np.ndarray, int]] = {}

        def probe(mu: int) -> tuple[np.ndarray, int]:
            if mu not in seen:
                out = self.assign(
                    self.bonus_weights(1 + scale * mu, scale), "max-score", self.locked
                )
                seen[mu] = (out.pairs, self.breaks(out.pairs))
            return seen[mu]

        # Above top * max_pairs no break can pay; int32 weights may cap the search lower.
        max_pairs = int(min(self.lc.sum(), self.rc.sum()))
        lo, hi = 0, min(mu_hi, top * max(1, max_pairs) + 1)
        if probe(0)[1] > self.budget:
            if probe(hi)[1] > self.budget:  # capped by int32: keep every pair, unproven
                base = np.concatenate([self.kept, self.locked]) if len(self.locked) else self.kept
                seen[-1] = (self.assign(self.w, "max-score", base).pairs, 0)
                self.proven = False
                lo = hi = -1
            while hi - lo > 1:  # invariant: probe(lo) breaks too many, probe(hi) does not
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if probe(mid)[1] > self.budget else (lo, mid)
            mu = hi
        else:
            mu = 0
        pairs, changes = seen[mu]
        h = scale * self.weight(pairs) + len(self.kept) - changes
        # L(m) = h(x_m) + s * m * (K - breaks(x_m)) bounds h over every solution within budget
        bound_h = min(
            scale * self.weight(p) + len(self.kept) - b + scale * m * (self.budget - b)
            for m, (p, b) in seen.items()
            if m >= 0
        )
        exact = mu >= 0 and (changes == self.budget or mu == 0 or h == bound_h)
        trade = sorted({(b, float(self.weight(p))) for p, b in seen.values() if b <= self.budget})
        if not exact and int((self.w >= 0).sum()) <= CPSAT_ARCS:
            closed = self.close_gap(scale, pairs)
            if closed is not None:
                trade = sorted({*trade, (self.breaks(closed), float(self.weight(closed)))})
                value = float(self.weight(closed))
                return self.outcome(closed, value, value, trade)
        value = float(self.weight(pairs))
        bound = value if exact else float((bound_h - len(self.kept) + self.budget) // scale)
        return self.outcome(pairs, value, bound, trade)

    def close_gap(self, scale: int, start: np.ndarray) -> np.ndarray | None:
        """The exact optimum by CP-SAT over every allowed pair (small inputs), or None.

        Maximises ``scale * weight + kept pairs made`` (weight, then fewest
        breaks) with at most ``budget`` kept pairs broken; pairs of weight 0
        that are not kept are left out, as max-score never makes them.
        """
        from ortools.sat.python import cp_model

        kept = {tuple(p) for p in self.kept.tolist()}
        locked = {tuple(p) for p in self.locked.tolist()}
        arcs = [
            (int(i), int(j))
            for i, j in zip(*np.nonzero(self.w >= 0), strict=True)
            if self.w[i, j] > 0 or (int(i), int(j)) in kept | locked
        ]
        m = cp_model.CpModel()
        x = {a: m.new_bool_var("") for a in arcs}
        for side, cap in ((0, self.lc), (1, self.rc)):
            for node in range(len(cap)):
                terms = [v for a, v in x.items() if a[side] == node]
                if len(terms) > int(cap[node]):
                    m.add(sum(terms) <= int(cap[node]))
        for a in locked:
            m.add(x[a] == 1)
        m.add(sum(1 - x[a] for a in kept) <= self.budget)
        m.maximize(sum((scale * int(self.w[a]) + (a in kept)) * v for a, v in x.items()))
        made = {tuple(p) for p in start.tolist()}
        for a, v in x.items():
            m.add_hint(v, a in made)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1  # deterministic
        solver.parameters.max_time_in_seconds = self.time_limit or 60.0
        self.flows += 1
        if solver.solve(m) != cp_model.OPTIMAL:
            return None
        chosen = sorted(a for a, v in x.items() if solver.value(v))
        return np.array(chosen, dtype=np.int64).reshape(-1, 2)


__all__ = ["ChangesOutcome", "solve_with_changes"]
