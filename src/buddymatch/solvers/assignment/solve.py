"""Exact mentor–mentee assignment: capacitated bipartite matching by min-cost flow.

Left nodes are mentees (capacity = mentors wanted, usually 1), right nodes are
mentors (capacity = mentees they can take, 0 allowed).  The weight of a pair
is the integer pair weight (score × ``WEIGHT_SCALE``, so 0..100,000) or
``NOT_ALLOWED`` (-1) when a hard rule forbids it, given as a dense matrix or
as :class:`~buddymatch.weights.PairWeights` (stored by profile class; no
rows × columns array is ever built).  A pair is made at most once.

Objectives (exact definitions; ``objective`` on the outcome is in the units given)
----------------------------------------------------------------------------------
Priorities (a tuple of level names, optimised lexicographically: the first
as high as possible, then the second among those, and so on):

``mentees-covered``  mentees with at least one partner (locked pairs count);
``mentors-covered``  mentors with at least one mentee;
``priority-covered`` people marked ``favoured_left`` / ``favoured_right`` with
                     at least one partner (a person on each side counts once
                     per side);
``pairs``            pairs made;
``score``            total weight of the pairs, plus ``favour_bonus`` for each
                     favoured member of each pair (weight units).

A pair that adds nothing to any listed level is not made (so without
``score`` weights do not matter, and without a count level pairs of weight 0
are never made).  Each level is an exact min-cost flow on the optimal face of
the levels before it (:mod:`.flow`): no big-M, so no overflow at any size.
``objective`` = the first level's value; ``levels`` lists every level's value
and proven bound.

The named objectives:

``max-score``
    = priorities ``(score,)``.  ``objective`` = total weight (weight units).
``max-matched``
    = priorities ``(pairs, score)``.  ``objective`` = number of pairs made.
``fair``
    Lexicographic, three levels (not expressible as priorities: the second is
    a bottleneck, and coverage counts every depth):

    1. coverage: maximise the number of mentees with at least 1 partner, then
       the number with at least 2, and so on (``stats["coverage"]`` lists these
       counts).  Implemented with per-unit bonuses on each mentee's capacity:
       a k-th partner is worth more than every later-level gain combined
       (the bonuses are checked against the 64-bit range before solving).
    2. bottleneck: among those, maximise the lowest weight of any pair made,
       not counting locked pairs (a coordinator's lock does not lower the bar
       for anyone else).  ``stats["min_weight"]``.
    3. total weight, among those.

    ``objective`` = number of mentees with at least one partner.

``locked`` pairs are always in the result and count against both capacities; a
lock on a forbidden pair or beyond a capacity gives an INFEASIBLE outcome with
``stats["reason"]``.  Duplicate lock rows are the same pair.

What callers may rely on: capacities are never exceeded, ``NOT_ALLOWED`` pairs
are never made, ``pairs`` is sorted and duplicate-free, the result is the same
for the same inputs, and ``OPTIMAL`` is reported only when every level is
proven optimal over the **whole** pair space (see :mod:`.flow` for the
certificate).  ``time_limit`` is checked between solver rounds (a single flow
solve is not interrupted); if it passes before the certificate holds, the best
solution so far is returned as ``FEASIBLE`` with a proven ``bound`` where one
is known.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from buddymatch.solvers.assignment.fair import solve_fair
from buddymatch.solvers.assignment.flow import Level, clear_caches
from buddymatch.solvers.assignment.levels import solve_levels
from buddymatch.solvers.assignment.prepared import (
    AssignmentOutcome,
    Favour,
    LevelOutcome,
    Prepared,
    check_range,
    finish,
    infeasible,
    prepare,
)
from buddymatch.solvers.assignment.search import solve_flow
from buddymatch.weights import PairWeights

OBJECTIVES = ("max-matched", "max-score", "fair")
PRIORITIES = ("mentees-covered", "mentors-covered", "priority-covered", "pairs", "score")
"""Level names of a priorities objective (see the module docstring)."""
SHORTHANDS: dict[str, tuple[str, ...]] = {
    "max-score": ("score",),
    "max-matched": ("pairs", "score"),
}
"""The named objectives that are priority lists."""
DENSE_LIMIT = 250_000
"""Pair spaces with at most this many pairs go into the flow whole (no certificate needed)."""
_MAX_MATCHED_BIG_M = False
"""Solve max-matched as one big-M flow (the old method; kept for differential tests)."""

__all__ = ["AssignmentOutcome", "Favour", "LevelOutcome", "solve_assignment"]


def _objective_levels(objective: str | Sequence[str]) -> tuple[str, ...] | None:
    """The level names of ``objective`` (None for fair); ValueError when unknown."""
    if isinstance(objective, str):
        if objective not in OBJECTIVES:
            raise ValueError(
                f"unknown objective {objective!r}; expected one of {', '.join(OBJECTIVES)}"
            )
        return SHORTHANDS.get(objective)
    names = tuple(objective)
    bad = [n for n in names if n not in PRIORITIES]
    if bad or not names or len(set(names)) != len(names):
        raise ValueError(
            f"priorities must be distinct names from {', '.join(PRIORITIES)}; got {names!r}"
        )
    return names


def solve_assignment(
    weights: np.ndarray | PairWeights,
    left_capacity: np.ndarray,
    right_capacity: np.ndarray,
    *,
    objective: str | Sequence[str] = "max-matched",
    locked: np.ndarray | None = None,
    favour: Favour | None = None,
    time_limit: float | None = None,
    dense_limit: int = DENSE_LIMIT,
) -> AssignmentOutcome:
    """Best pairs for ``objective`` (module docstring), proven optimal where possible.

    ``objective`` is a named objective or a sequence of priority level names.
    ``favour`` marks the people of a ``priority-covered`` level and the bonus
    the ``score`` level adds for them (``fair`` does not use it).
    ``dense_limit``: pair spaces with at most this many pairs are solved on
    all arcs at once; larger ones use certified sparse candidates (pass 0 to
    force the sparse path, e.g. in tests).
    """
    names = _objective_levels(objective)
    start = time.perf_counter()
    deadline = None if time_limit is None else time.monotonic() + time_limit
    # Score alone: pairs adding nothing (weight 0, no favour bonus) are not arcs at all.
    score_only = names is not None and set(names) == {"score"} and not (favour and favour.bonus)
    try:
        prep = prepare(weights, left_capacity, right_capacity, locked, 1 if score_only else 0)
        if isinstance(prep, str):
            n_locked = (
                0 if locked is None else len(np.unique(np.asarray(locked).reshape(-1, 2), axis=0))
            )
            return infeasible(prep, n_locked)
        n_left, n_right = prep.weights.shape
        flow_kw: dict[str, object] = {
            "dense_limit": dense_limit,
            "deadline": deadline,
            "k_row": int(prep.left_cap.max(initial=0)) + 4,
            "k_col": 2 * int(prep.right_cap.max(initial=0)) + 4,
        }
        if names is None:
            out = solve_fair(prep, flow_kw, deadline)
        elif names == SHORTHANDS["max-matched"] and _MAX_MATCHED_BIG_M:
            out = _solve_big_m(prep, flow_kw)
        else:
            fav = favour or Favour(np.zeros(n_left, bool), np.zeros(n_right, bool))
            out = solve_levels(prep, names, fav, flow_kw, score_only)
    finally:
        clear_caches()
    out.stats["seconds"] = round(time.perf_counter() - start, 4)
    return out


def _solve_big_m(prep: Prepared, flow_kw: dict[str, object]) -> AssignmentOutcome:
    """max-matched as one flow with a pair bonus M above any weight difference."""
    n_left, n_right = prep.weights.shape
    max_pairs = int(min(prep.left_cap.sum(), prep.right_cap.sum()))
    bonus = prep.max_weight * max_pairs + 1
    check_range(
        "max-matched pair bonus M", bonus + prep.max_weight, 2 + n_left + n_right, bonus * max_pairs
    )
    level = Level("big-M", pair_bonus=bonus, weight_factor=1)
    res = solve_flow(prep.spec(level), **flow_kw)  # type: ignore[arg-type]
    value = float(len(prep.locked) + len(res.pairs))
    bound = None if res.bound is None else float(len(prep.locked) + res.bound // bonus)
    return finish(prep, res, res.certified, value, bound, {"pair_bonus": bonus})
