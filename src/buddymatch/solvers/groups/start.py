"""Feasible starting groupings: a randomised greedy construction, CP-SAT when greedy fails.

The search only makes moves that keep every rule, so it needs a start that already meets
them all.  :func:`construct` places locked people and keep-together blocks first, then the
people that class minimums need (scarcest class first), then the members of each
not-alone class in runs of at least its floor, then fills groups up to their lower size
and spreads the rest (never past a common rule's shared values).  :func:`cpsat_start`
solves the same feasibility question exactly on moderate sizes and can prove that no
grouping exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

from buddymatch.solvers.groups.rules import Classes, classes_hold


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
            ok &= self.keeps_shared(cs, k)
        return ok

    def keeps_shared(self, cs: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Groups that keep every common rule's shared values after adding counts ``k``."""
        ok = np.ones(self.lo.shape[0], dtype=bool)
        for start, end, need in self.classes.families.tolist():
            add = np.zeros(end - start, np.int64)
            sel = (cs >= start) & (cs < end)
            add[cs[sel] - start] = k[sel]
            ok &= ((self.cnt[start:end] + add[:, None]) == 0).sum(axis=0) >= need
        return ok

    def place(self, block: np.ndarray, g: int) -> None:
        self.a[block] = g
        self.sizes[g] += block.size
        cs, k = self.member_classes(block)
        self.cnt[cs, g] += k

    def unplace(self, block: np.ndarray, g: int) -> None:
        self.a[block] = -1
        self.sizes[g] -= block.size
        cs, k = self.member_classes(block)
        self.cnt[cs, g] -= k

    def fill(self, g: int, free: list[int], count: int) -> bool:
        """Place ``count`` people of ``free`` (taken from it) in group ``g``, each fitting;
        all or nothing."""
        taken: list[int] = []
        for i in list(free):
            if len(taken) == count:
                break
            one = np.array([i], np.int64)
            if self.fits(one)[g]:
                self.place(one, g)
                taken.append(i)
        if len(taken) < count:
            for i in taken:
                self.unplace(np.array([i], np.int64), g)
            return False
        for i in taken:
            free.remove(i)
        return True


def construct(
    n: int,
    lo: np.ndarray,
    up: np.ndarray,
    classes: Classes,
    locked: np.ndarray | None,
    blocks: Sequence[np.ndarray],
    rng: np.random.Generator,
    *,
    varied: bool = False,
) -> np.ndarray | None:
    """A grouping meeting every rule, or ``None`` when this greedy pass got stuck.

    ``blocks`` are the merged keep-together sets (each placed whole).  Randomised by ``rng``
    so that repeated calls give diverse starts.  Not-alone classes are spread over as many
    groups as their floor allows; ``varied`` (population members) uses a random number of
    groups half the time instead, since the search keeps that number.
    """
    b = _Builder(n, lo, up, classes)
    block_of = np.full(n, -1, np.int64)
    for k, blk in enumerate(blocks):
        block_of[blk] = k
    if not _place_fixed(b, locked, blocks, block_of, rng):
        return None
    members: list[list[int]] = [[] for _ in range(classes.count)]
    p, x = classes.ptr, classes.idx
    for person in range(n):
        for c in x[p[person] : p[person + 1]]:
            members[int(c)].append(person)
    if not _place_minimums(b, members, block_of, rng):
        return None
    if not _place_not_alone(b, members, block_of, rng, varied):
        return None
    if not _place_rest(b, rng):
        return None
    if np.any(b.sizes < lo) or not classes_hold(classes, b.cnt):
        return None
    return b.a


def _place_fixed(
    b: _Builder,
    locked: np.ndarray | None,
    blocks: Sequence[np.ndarray],
    block_of: np.ndarray,
    rng: np.random.Generator,
) -> bool:
    """Locked people (with their keep-together block), then the other blocks, each whole
    in a random roomy group that fits it; False when one does not fit."""
    G = b.lo.shape[0]
    if locked is not None:
        for i in np.flatnonzero(locked >= 0):
            if b.a[i] < 0:
                blk = blocks[block_of[i]] if block_of[i] >= 0 else np.array([i], np.int64)
                if not b.fits(blk)[locked[i]]:
                    return False
                b.place(blk, int(locked[i]))
    for blk in blocks:
        if b.a[blk[0]] >= 0:
            continue
        ok = b.fits(blk)
        if not ok.any():
            return False
        room = np.where(ok, b.up - b.sizes, -1) + rng.random(G) * 0.5
        b.place(blk, int(np.argmax(room)))
    return True


def _place_minimums(
    b: _Builder, members: list[list[int]], block_of: np.ndarray, rng: np.random.Generator
) -> bool:
    """Class minimums in every group, scarcest class first; False when one cannot be met."""
    classes, G = b.classes, b.lo.shape[0]
    need = [c for c in range(classes.count) if classes.cmin[c] > 0]
    need.sort(key=lambda c: len(members[c]) - G * int(classes.cmin[c]))
    alone = _AloneOrder(classes, members, b.a.shape[0])
    for c in need:
        pool = np.array(members[c], np.int64)
        pool = pool[rng.permutation(pool.size)]
        for g in rng.permutation(G):
            for i in alone.order(pool, int(g), b.cnt):
                if b.cnt[c, g] >= classes.cmin[c]:
                    break
                if b.a[i] < 0 and block_of[i] < 0 and b.fits(np.array([i]))[g]:
                    b.place(np.array([i]), int(g))
            if b.cnt[c, g] < classes.cmin[c]:
                return False
    return True


def _place_rest(b: _Builder, rng: np.random.Generator) -> bool:
    """Everyone left, in random order, to a roomy group below its lower size if any."""
    G = b.lo.shape[0]
    for i in rng.permutation(np.flatnonzero(b.a < 0)):
        one = np.array([i], np.int64)
        ok = b.fits(one)
        if not ok.any():
            return False
        short = ok & (b.sizes < b.lo)
        pick = short if short.any() else ok
        room = np.where(pick, b.up - b.sizes, -1) + rng.random(G) * 0.5
        b.place(one, int(np.argmax(room)))
    return True


class _AloneOrder:
    """Who to place first for a class minimum when not-alone classes exist: people who
    would leave no not-alone class with a lone member in the group, then people of
    plentiful not-alone classes (their runs are easy to complete later)."""

    def __init__(self, classes: Classes, members: list[list[int]], n: int) -> None:
        floors = np.flatnonzero(classes.floor > 1)
        self.active = floors.size > 0
        if not self.active:
            return
        per_person: list[list[int]] = [[] for _ in range(n)]
        self.scarcity = np.zeros(n)
        for c in floors.tolist():
            for i in members[c]:
                per_person[i].append(c)
                self.scarcity[i] += 1.0 / len(members[c])
        width = max(1, max(len(f) for f in per_person))
        self.floors = np.full((n, width), -1, np.int64)
        for i, f in enumerate(per_person):
            self.floors[i, : len(f)] = f

    def order(self, pool: np.ndarray, g: int, cnt: np.ndarray) -> np.ndarray:
        """``pool`` reordered for group ``g`` (unchanged when no class is not-alone)."""
        if not self.active or pool.size == 0:
            return pool
        f = self.floors[pool]
        lone = ((f >= 0) & (cnt[np.maximum(f, 0), g] == 0)).sum(axis=1)
        return pool[np.lexsort((self.scarcity[pool], lone))]


def _place_not_alone(
    b: _Builder,
    members: list[list[int]],
    block_of: np.ndarray,
    rng: np.random.Generator,
    varied: bool,
) -> bool:
    """Place every free member of the not-alone classes so no group holds 1 .. floor - 1.

    First every group already holding too few (from locks, blocks or minimums) is topped
    up, for every class, while there is room; then each class, smallest first, goes in
    runs of at least its floor, each run to one group (the roomiest first), person by
    person so other rules (at most two per organisation) are kept; a run too long for any
    group is halved.  The number of runs is the most that fit half the time and random
    otherwise, so that starts differ in how many groups hold a class (the search keeps
    that number: it moves people one by one).  False when this greedy pass got stuck.
    """
    classes = np.flatnonzero(b.classes.floor > 1).tolist()
    free: dict[int, list[int]] = {}
    for c in classes:
        pool = np.array([i for i in members[c] if b.a[i] < 0 and block_of[i] < 0], np.int64)
        free[c] = [int(i) for i in pool[rng.permutation(pool.size)]]
    if not all(_top_up(b, c, free[c]) for c in classes):
        return False
    for c in sorted(classes, key=lambda c: len(members[c])):
        if not _runs(b, c, [i for i in free[c] if b.a[i] < 0], rng, varied):
            return False
    return True


def _top_up(b: _Builder, c: int, free: list[int]) -> bool:
    """Complete every group holding 1 .. floor - 1 of class ``c`` from ``free``."""
    floor = int(b.classes.floor[c])
    short = np.flatnonzero((b.cnt[c] > 0) & (b.cnt[c] < floor)).tolist()
    return all(b.fill(g, free, floor - int(b.cnt[c, g])) for g in short)


def _runs(b: _Builder, c: int, free: list[int], rng: np.random.Generator, varied: bool) -> bool:
    """Runs of at least the floor of class ``c`` from ``free`` (see :func:`_place_not_alone`),
    after completing groups that runs of earlier classes left short of it."""
    floor = int(b.classes.floor[c])
    if not _top_up(b, c, free):
        return False
    most = len(free) // floor
    vary = varied and most > 1 and rng.random() < 0.5
    runs = int(rng.integers(1, most + 1)) if vary else most
    lengths = [len(r) for r in np.array_split(np.arange(len(free)), runs)] if runs else []
    while lengths:
        length = lengths.pop()
        room = b.up - b.sizes + rng.random(b.up.shape[0]) * 0.5
        order = np.argsort(-room, kind="stable")
        empty = order[b.cnt[c, order] == 0][:_TRIES]
        held = order[b.cnt[c, order] >= floor][:_TRIES]
        if any(b.fill(int(g), free, length) for g in [*empty, *held]):
            continue
        if length >= 2 * floor:
            lengths += [length // 2, length - length // 2]  # too long for any group: halve
        elif not _join(b, c, free, length, rng):
            return False
    return _join(b, c, free, len(free), rng)  # fewer than the floor left


def _join(b: _Builder, c: int, free: list[int], count: int, rng: np.random.Generator) -> bool:
    """Place ``count`` people of ``free`` one by one in groups that hold class ``c`` already."""
    floor = int(b.classes.floor[c])
    for i in list(free)[:count]:
        ok = np.flatnonzero(b.fits(np.array([i], np.int64)) & (b.cnt[c] >= floor - 1))
        ok = ok[b.cnt[c, ok] > 0]
        if not ok.size:
            return False
        b.place(np.array([i], np.int64), int(ok[rng.integers(ok.size)]))
        free.remove(i)
    return True


_TRIES = 20
"""Groups tried for one run of a not-alone class before the greedy start gives up."""


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
    _cpsat_alone_and_shared(m, x, members, classes, G)
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


def _cpsat_alone_and_shared(
    m: cp_model.CpModel,
    x: list[list[cp_model.IntVar]],
    members: list[list[int]],
    classes: Classes,
    G: int,
) -> None:
    """Not-alone classes (0 or at least the floor) and common rules (enough empty classes)."""
    for c in np.flatnonzero(classes.floor > 1).tolist():
        if not members[c]:
            continue
        for g in range(G):
            total = cp_model.LinearExpr.sum([x[i][g] for i in members[c]])
            some = m.new_bool_var(f"any{c}_{g}")
            m.add(total >= int(classes.floor[c])).only_enforce_if(some)
            m.add(total == 0).only_enforce_if(~some)
    for start, end, need in classes.families.tolist():
        always = sum(1 for c in range(start, end) if not members[c])  # values everyone has
        for g in range(G):
            empty = []
            for c in range(start, end):
                if members[c]:
                    z = m.new_bool_var(f"empty{c}_{g}")
                    total = cp_model.LinearExpr.sum([x[i][g] for i in members[c]])
                    m.add(total == 0).only_enforce_if(z)
                    empty.append(z)
            m.add(cp_model.LinearExpr.sum(empty) >= need - always)
