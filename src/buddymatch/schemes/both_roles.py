"""People who answered "both": never mentor and mentee of each other, and optionally one role.

Why: someone who may mentor and be mentored sits on both sides of the
assignment flow.  The flow may then pair a with b *and* b with a (a mentors b,
b mentors a) — seen on a four-person case — which no coordinator means by
"both".  Neither "not both directions" nor "one role per person per round"
(``role: {one_role: true}``) is a flow constraint, so both are enforced by an
exact best-first branch and bound around the flow solver:

1. solve the flow (a relaxation: it ignores these constraints);
2. if its pairs keep them, it is optimal for the constrained problem too;
3. otherwise branch on the first conflict — forbid a→b, or b→a (for one role:
   forbid everything x mentors, or everything x is mentored in) — re-solve each
   child, and always expand the best open node.  A node's value bounds every
   node below it, so the first conflict-free node taken is optimal.

Conflicts are rare (a gap or seniority rule usually makes pairs one-way), so
the tree is a handful of flows.  After :data:`MAX_NODES` solves the best open
node is dived to a conflict-free answer, reported ``feasible`` (never a rule
broken; the checker enforces both rules).  ``role: {reciprocal: true}``
allows both directions and skips all of this.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import InfeasibleError
from ..model import Pairs, Problem

MAX_NODES = 200
"""Flow solves before the search settles for a conflict-free answer it can reach."""

Solve = Callable[[np.ndarray], Any]
"""Solve with extra (mentor, mentee) pairs forbidden; returns the solver's outcome."""


def conflicts(problem: Problem, pairs: Pairs) -> list[list[np.ndarray]]:
    """Each conflict as its options: (mentor, mentee) pairs one branch forbids."""
    role = problem.scheme.participants.role
    made = {(int(a), int(b)) for a, b in pairs}
    out: list[list[np.ndarray]] = []
    if role is None or not role.reciprocal:
        for a, b in sorted(made):
            if a < b and (b, a) in made:
                out.append([np.array([[a, b]]), np.array([[b, a]])])
    if role is not None and role.one_role:
        mentors = {a for a, _ in made}
        mentees, everyone = {b for _, b in made}, np.arange(problem.n)
        for x in sorted(mentors & mentees):
            as_mentor = np.column_stack([np.full(problem.n, x), everyone])
            as_mentee = np.column_stack([everyone, np.full(problem.n, x)])
            out.append([as_mentor, as_mentee])
    return out


def _open(options: list[np.ndarray], locked: set[tuple[int, int]]) -> list[np.ndarray]:
    """The branches of a conflict that forbid no locked pair (a lock is always made)."""
    return [o for o in options if not any((int(a), int(b)) in locked for a, b in o)]


def _rank(out: Any) -> tuple[float, ...]:
    """Larger is better: the levels when the solver reports them, else pairs then weight."""
    levels = getattr(out, "levels", ())
    if levels:
        return tuple(float(level.value) for level in levels)
    return (float(out.objective), float(len(out.pairs)), float(out.total_weight))


def solve_without_conflicts(
    problem: Problem,
    solve: Solve,
    to_pairs: Callable[[Any], Pairs],
    locked: set[tuple[int, int]],
    solved: Callable[[Any], bool],
) -> Any:
    """The best outcome whose pairs keep both rules (module docstring)."""
    empty = np.zeros((0, 2), dtype=np.int64)
    root = solve(empty)
    if not solved(root) or not conflicts(problem, to_pairs(root)):
        return root
    heap: list[tuple[tuple[float, ...], int, np.ndarray, Any]] = []
    count = 0

    def push(forbid: np.ndarray, out: Any) -> None:
        nonlocal count
        count += 1
        heapq.heappush(heap, (tuple(-x for x in _rank(out)), count, forbid, out))

    push(empty, root)
    while heap and count < MAX_NODES:
        _, _, forbid, out = heapq.heappop(heap)
        found = conflicts(problem, to_pairs(out))
        if not found:
            return out
        for option in _open(found[0], locked):  # a branch forbidding a lock is empty
            child_forbid = np.concatenate([forbid, option])
            child = solve(child_forbid)
            if solved(child):
                push(child_forbid, child)
    if not heap:
        raise InfeasibleError(
            "no pairs keep the rules without pairing two people both ways (or, with "
            "one_role, giving someone both roles); allow it with role: {reciprocal: true}"
        )
    return _dive(problem, solve, to_pairs, locked, solved, heap[0][2], heap[0][3], root)


def _dive(
    problem: Problem,
    solve: Solve,
    to_pairs: Callable[[Any], Pairs],
    locked: set[tuple[int, int]],
    solved: Callable[[Any], bool],
    forbid: np.ndarray,
    out: Any,
    root: Any,
) -> Any:
    """Resolve conflicts one by one from the best open node; ``feasible``, root's bound."""
    from ..solvers import Status

    while found := conflicts(problem, to_pairs(out)):
        options = _open(found[0], locked)
        if not options:
            raise InfeasibleError("locked pairs pair two people both ways; unlock one of them")
        forbid = np.concatenate([forbid, options[0]])
        out = solve(forbid)
        if not solved(out):
            raise InfeasibleError("no conflict-free pairs were found; allow reciprocal pairs")
    return replace(out, status=Status.FEASIBLE, bound=root.bound)
