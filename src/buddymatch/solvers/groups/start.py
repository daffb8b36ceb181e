"""Feasible starting groupings: a randomised greedy construction, CP-SAT when greedy fails.

The search only makes moves that keep every rule, so it needs a start that already meets
them all.  :func:`construct` places locked people and keep-together blocks first, then the
people that class minimums need (scarcest class first), then fills groups up to their lower
size and spreads the rest.  :func:`cpsat_start` solves the same feasibility question exactly
on moderate sizes and can prove that no grouping exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

from buddymatch.solvers.groups.rules import Classes


class _Builder:
    """Partial grouping with the counts needed to test whether a block fits a group."""

    def __init__(self, n: int, lo: np.ndarray, up: np.ndarray, classes: Classes) -> None:
        self.a = np.full(n, -1, np.int64)
        self.lo = lo
        self.up = up
        self.classes = classes
        self.sizes = np.zeros(lo.shape[0], np.int64)
        self.cnt = np.zeros((classes.count, lo.shape[0]), np.int64)

    def member_classes(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classes touched by ``block`` and how many of its people each holds."""
        p, x = self.classes.ptr, self.classes.idx
        cs = np.concatenate([x[p[i] : p[i + 1]] for i in block]) if block.size else x[:0]
        return np.unique(cs, return_counts=True)

    def fits(self, block: np.ndarray) -> np.ndarray:
        """Boolean mask of groups that can take the whole block without breaking a max."""
        ok = self.sizes + block.size <= self.up
        cs, k = self.member_classes(block)
        if cs.size:
            ok &= np.all(self.cnt[cs, :] + k[:, None] <= self.classes.cmax[cs, None], axis=0)
        return ok

    def place(self, block: np.ndarray, g: int) -> None:
        self.a[block] = g
        self.sizes[g] += block.size
        cs, k = self.member_classes(block)
        self.cnt[cs, g] += k


def construct(
    n: int,
    lo: np.ndarray,
    up: np.ndarray,
    classes: Classes,
    locked: np.ndarray | None,
    blocks: Sequence[np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray | None:
    """A grouping meeting every rule, or ``None`` when this greedy pass got stuck.

    ``blocks`` are the merged keep-together sets (each placed whole).  Randomised by ``rng``
    so that repeated calls give diverse starts.
    """
    b = _Builder(n, lo, up, classes)
    G = lo.shape[0]
    block_of = np.full(n, -1, np.int64)
    for k, blk in enumerate(blocks):
        block_of[blk] = k

    def unit(i: int) -> np.ndarray:
        return blocks[block_of[i]] if block_of[i] >= 0 else np.array([i], np.int64)

    if locked is not None:
        for i in np.flatnonzero(locked >= 0):
            if b.a[i] < 0:
                blk = unit(int(i))
                if not b.fits(blk)[locked[i]]:
                    return None
                b.place(blk, int(locked[i]))
    for blk in blocks:
        if b.a[blk[0]] >= 0:
            continue
        ok = b.fits(blk)
        if not ok.any():
            return None
        room = np.where(ok, b.up - b.sizes, -1) + rng.random(G) * 0.5
        b.place(blk, int(np.argmax(room)))
    # class minimums, scarcest class first
    p, x = classes.ptr, classes.idx
    members: list[list[int]] = [[] for _ in range(classes.count)]
    for person in range(n):
        for c in x[p[person] : p[person + 1]]:
            members[int(c)].append(person)
    need = [c for c in range(classes.count) if classes.cmin[c] > 0]
    need.sort(key=lambda c: len(members[c]) - G * int(classes.cmin[c]))
    for c in need:
        pool = np.array(members[c], np.int64)
        pool = pool[rng.permutation(pool.size)]
        for g in rng.permutation(G):
            for i in pool:
                if b.cnt[c, g] >= classes.cmin[c]:
                    break
                if b.a[i] < 0 and block_of[i] < 0 and b.fits(np.array([i]))[g]:
                    b.place(np.array([i]), int(g))
            if b.cnt[c, g] < classes.cmin[c]:
                return None
    rest = rng.permutation(np.flatnonzero(b.a < 0))
    for i in rest:
        one = np.array([i], np.int64)
        ok = b.fits(one)
        if not ok.any():
            return None
        short = ok & (b.sizes < b.lo)
        pick = short if short.any() else ok
        room = np.where(pick, b.up - b.sizes, -1) + rng.random(G) * 0.5
        b.place(one, int(np.argmax(room)))
    if np.any(b.sizes < lo) or np.any(b.cnt < classes.cmin[:, None]):
        return None
    return b.a


def cpsat_start(
    n: int,
    lo: np.ndarray,
    up: np.ndarray,
    classes: Classes,
    locked: np.ndarray | None,
    blocks: Sequence[np.ndarray],
    time_limit: float,
    seed: int,
) -> tuple[np.ndarray | None, bool]:
    """(a feasible grouping or None, whether infeasibility was proven) by CP-SAT.

    One worker and a fixed seed, so the answer is reproducible.
    """
    G = lo.shape[0]
    m = cp_model.CpModel()
    x = [[m.new_bool_var(f"x{i}_{g}") for g in range(G)] for i in range(n)]
    for i in range(n):
        m.add_exactly_one(x[i])
        if locked is not None and locked[i] >= 0:
            m.add(x[i][int(locked[i])] == 1)
    for g in range(G):
        m.add_linear_constraint(sum(x[i][g] for i in range(n)), int(lo[g]), int(up[g]))
    p, idx = classes.ptr, classes.idx
    members: list[list[int]] = [[] for _ in range(classes.count)]
    for i in range(n):
        for c in idx[p[i] : p[i + 1]]:
            members[int(c)].append(i)
    for c in range(classes.count):
        hi = min(int(classes.cmax[c]), len(members[c]))
        for g in range(G):
            m.add_linear_constraint(sum(x[i][g] for i in members[c]), int(classes.cmin[c]), hi)
    for blk in blocks:
        for i in blk[1:]:
            for g in range(G):
                m.add(x[int(i)][g] == x[int(blk[0])][g])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(m)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        a = np.array(
            [next(g for g in range(G) if solver.value(x[i][g])) for i in range(n)], np.int64
        )
        return a, False
    return None, status == cp_model.INFEASIBLE
