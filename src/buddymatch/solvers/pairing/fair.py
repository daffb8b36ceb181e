"""The ``fair`` objective: people placed, then the largest bottleneck, then value.

The bottleneck is the smallest weight among all pairs that meet.  The
largest bottleneck that still places as many people as max-matched is found
by binary search on a weight threshold ``t``; each step only asks *how many
people can be paired using pairs of weight >= t*, a maximum-cardinality
matching (:mod:`.cardinality`, started from the previous step's matching),
not a weighted solve.  A trio needs a weighted check only in the rare step
where the pairs alone fall one trio short and no left-out person can simply
join a pair.  One weighted solve at the threshold found then maximises
value.  Cost: two weighted solves plus about 17 cardinality matchings.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from buddymatch.solvers.pairing.cardinality import max_matching
from buddymatch.solvers.pairing.core import CoreResult, View, solve_view

MAX_ATTACH_CHECKS = 500
"""Left-out people tried as a trio's third member before a weighted check."""


def _attach_reaches(view: View, t: int, mate: np.ndarray) -> bool:
    """Can a left-out person join a pair of ``mate`` (all three pairs of weight >= t)?"""
    w = view.w
    a = np.flatnonzero(mate > np.arange(len(mate)))
    b = mate[a]
    free = np.flatnonzero(view.active & (mate < 0))[:MAX_ATTACH_CHECKS]
    return any(bool(np.any((w[x, a] >= t) & (w[x, b] >= t))) for x in free.tolist())


def _feasible(
    view: View, t: int, target: int, mate: np.ndarray | None, deadline: float | None
) -> tuple[bool, np.ndarray, bool]:
    """(can ``target`` people be placed with pairs of weight >= t, the matching, exact?)"""
    m, size = max_matching(view.w, view.active, t, mate)
    if 2 * size >= target:
        return True, m, True
    # A trio with k pairs leaves a matching of k + 1 pairs (add one trio pair), so
    # k < size: a trio helps only when the target is exactly one person more.
    if not view.trio or target != 2 * size + 1:
        return False, m, True
    if _attach_reaches(view, t, m):
        return True, m, True
    res = solve_view(replace(view, t_min=t), deadline)
    return res.people >= target, m, res.proven


def solve_fair(
    view: View, deadline: float | None, lock_min: int | None
) -> tuple[CoreResult, int | None, bool]:
    """Best structure for ``fair``; returns it, the threshold used and whether all was proven.

    ``lock_min`` is the lightest locked pair (locked pairs are always made,
    so a threshold above it cannot raise the bottleneck, only cost value).
    """
    first = solve_view(view, deadline)
    if first.people == 0:
        return first, None, first.proven
    target = first.people
    lo, hi = 0, max(int(view.w.max(initial=0)), 0)
    mate: np.ndarray | None = None
    proven = first.proven
    while lo < hi:
        mid = (lo + hi + 1) // 2
        ok, m, exact = _feasible(view, mid, target, mate, deadline)
        proven = proven and exact
        if ok:
            lo, mate = mid, m
        else:
            hi = mid - 1
    t = lo if lock_min is None else min(lo, lock_min)
    final = first if t <= view.t_min else solve_view(replace(view, t_min=t), deadline)
    return final, t, proven and final.proven
