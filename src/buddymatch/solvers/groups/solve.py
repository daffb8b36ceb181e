"""Cohort grouping: partition a pool into groups of bounded size maximising in-group benefit.

This is the Maximally Diverse Grouping Problem (MDGP) with composition rules.  The method:

1. counting checks (:func:`check_composition`) prove the obvious infeasibilities with
   sentences a coordinator can act on;
2. small pools (``n <= EXACT_MAX_N``) are solved exactly by branch and bound and reported
   ``OPTIMAL`` (or ``INFEASIBLE``, proven);
3. otherwise a memetic search: a population of feasible starts, each improved by tabu
   search over one-moves and swaps with O(1) gains from the maintained person-to-group
   benefit matrix; each generation crosses two parents group by group (or perturbs one
   when the child breaks a rule), improves the child by tabu search and replaces the
   worst member.  Very large pools (``n > TABU_MAX_N``) descend once over everyone, then
   repeatedly run tabu search on the members of a few random groups (decomposition).

Every move keeps every rule, lock, keep-together and keep-apart set, so every returned
assignment is valid.  Keep-together sets are placed whole by the start and then stay put.
With ``iterations`` and no ``time_limit`` the result depends only on the inputs and seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from buddymatch.errors import SolverError
from buddymatch.solvers import Status
from buddymatch.solvers.groups import kernel as K  # numba kernels
from buddymatch.solvers.groups.bound import upper_bound
from buddymatch.solvers.groups.rules import (
    Classes,
    CommonRule,
    CountRule,
    check_composition,
    classes_hold,
    compile_classes,
    group_bounds,
)
from buddymatch.solvers.groups.start import construct, cpsat_start

EXACT_MAX_N = 12
"""Pools up to this size are solved exactly (branch and bound)."""

EXACT_NODE_LIMIT = 50_000_000
RESTART_AFTER = 10
"""Generations without a new best, per population member, before the population restarts."""

TABU_MAX_N = 1500
"""Above this size a tabu iteration (O(n^2)) is too slow: after one descent over everyone,
each generation runs tabu search on the people of a few random groups (``PART_SIZE``)."""

PART_SIZE = 200
BOUND_SHARE = 0.1
"""Share of a time limit the upper bound may take."""

__all__ = [
    "CommonRule",
    "CountRule",
    "GroupOutcome",
    "check_composition",
    "group_bounds",
    "solve_groups",
]


@dataclass(frozen=True)
class GroupOutcome:
    """Result of :func:`solve_groups`; ``assignment`` is -1 for everyone when none was found."""

    status: Status
    assignment: np.ndarray
    objective: float
    bound: float | None
    reasons: tuple[str, ...] = ()
    stats: dict[str, float | int | str] = field(default_factory=dict)


@dataclass
class _Problem:
    """Arrays the kernels take, in one place."""

    D: np.ndarray
    lo: np.ndarray
    up: np.ndarray
    classes: Classes
    movable: np.ndarray
    locked: np.ndarray | None
    blocks: list[np.ndarray]

    @property
    def n(self) -> int:
        return int(self.D.shape[0])

    @property
    def G(self) -> int:
        return int(self.lo.shape[0])


def _merge_blocks(n: int, together: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Union of overlapping keep-together sets, each as a sorted index array (size >= 2)."""
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for s in together:
        s = np.asarray(s, dtype=np.int64)
        for j in s[1:]:
            parent[root(int(j))] = root(int(s[0]))
    groups: dict[int, list[int]] = {}
    for s in together:
        for i in np.asarray(s, dtype=np.int64):
            groups.setdefault(root(int(i)), []).append(int(i))
    return [np.unique(v) for v in groups.values() if len(set(v)) > 1]


def _objective(D: np.ndarray, a: np.ndarray) -> float:
    """Sum of benefit over same-group pairs, recomputed from scratch (no kernel state)."""
    total = 0.0
    for g in np.unique(a):
        idx = np.flatnonzero(a == g)
        total += float(D[np.ix_(idx, idx)].sum()) / 2.0
    return total


def _outcome(
    status: Status,
    a: np.ndarray,
    D: np.ndarray,
    bound: float | None,
    stats: dict[str, float | int | str],
    reasons: Sequence[str] = (),
) -> GroupOutcome:
    placed = bool(np.all(a >= 0))
    obj = _objective(D, a) if placed else 0.0
    return GroupOutcome(status, a.astype(np.int64), obj, bound, tuple(reasons), stats)


def _exact(p: _Problem, stats: dict[str, float | int | str]) -> GroupOutcome | None:
    """Branch and bound; None when the node limit stopped it."""
    n, G = p.n, p.G
    allowed = np.ones((n, G), np.bool_)
    if p.locked is not None:
        for i in np.flatnonzero(p.locked >= 0):
            allowed[i, :] = False
            allowed[i, p.locked[i]] = True
    tie = np.full(n, -1, np.int64)
    for blk in p.blocks:
        tie[blk[1:]] = blk[0]
    sym_prev = np.full(G, -1, np.int64)
    if p.locked is None or not np.any(p.locked >= 0):
        for g in range(G):
            for h in range(g - 1, -1, -1):
                if p.lo[h] == p.lo[g] and p.up[h] == p.up[g]:
                    sym_prev[g] = h
                    break
    c = p.classes
    a, best, complete = K.enumerate_exact(
        p.D,
        p.lo,
        p.up,
        c.ptr,
        c.idx,
        c.cmin,
        c.cmax,
        c.floor,
        c.families,
        allowed,
        tie,
        sym_prev,
        -np.inf,
        EXACT_NODE_LIMIT,
    )
    stats["method"] = "branch and bound"
    if not complete:
        return None
    if np.all(a < 0):
        return _outcome(
            Status.INFEASIBLE,
            a,
            p.D,
            None,
            stats,
            ["no grouping meets every rule at once (checked exhaustively)"],
        )
    return _outcome(Status.OPTIMAL, a, p.D, float(best), stats)


class _Search:
    """Memetic search state: population, budgets, progress reporting."""

    def __init__(self, p: _Problem, seed: int) -> None:
        self.p = p
        mixed = (seed % 2**63) * 0x2545F4914F6CDD1D + 0x9E3779B97F4A7C15
        self.rng_state = np.array([np.uint64(mixed % 2**64 or 1)], np.uint64)
        K.rand_u64(self.rng_state)
        n, G = p.n, p.G
        self.small = n <= TABU_MAX_N
        self.max_stall = max(200, 5 * n)
        self.tt_min = max(2, n // 20)
        self.tt_rand = max(2, G)
        self.strength = max(2, n // 10) if self.small else 30
        self.tabu_iterations = 0
        self.failed_crossovers = 0
        self.tabu_seconds = 0.0
        self.deadline: float | None = None

    def iteration_cap(self) -> int:
        """Tabu iterations allowed by the deadline at the speed measured so far."""
        if self.deadline is None:
            return 10**12
        left = max(0.0, self.deadline - time.perf_counter())
        if self.tabu_iterations < 1000 or self.tabu_seconds <= 0:
            return max(1000, 2 * self.p.n)
        return max(50, int(left * self.tabu_iterations / self.tabu_seconds))

    def improve(self, a: np.ndarray) -> tuple[np.ndarray, float]:
        """Tabu search from ``a`` (feasible); returns the best assignment and its value.

        With a deadline, the run is capped at the iterations the measured speed allows
        in the time left (so a time limit is overshot by little); without one the run
        length depends on the search alone (deterministic).
        """
        p, c = self.p, self.p.classes
        a = a.copy()
        M, sizes, cnt, f = K.build_state(p.D, a, p.G, c.ptr, c.idx, c.count)
        if not self.small:
            f = K.descent(
                p.D,
                a,
                M,
                sizes,
                cnt,
                f,
                p.lo,
                p.up,
                c.ptr,
                c.idx,
                c.cmin,
                c.cmax,
                c.floor,
                c.families,
                p.movable,
                self.rng_state,
            )
            return a, float(f)
        best_a = np.empty_like(a)
        t = time.perf_counter()
        best_f, it = K.tabu_search(
            p.D,
            a,
            M,
            sizes,
            cnt,
            f,
            p.lo,
            p.up,
            c.ptr,
            c.idx,
            c.cmin,
            c.cmax,
            c.floor,
            c.families,
            p.movable,
            self.iteration_cap(),
            self.max_stall,
            self.tt_min,
            self.tt_rand,
            self.rng_state,
            best_a,
        )
        self.tabu_iterations += int(it)
        self.tabu_seconds += time.perf_counter() - t
        return best_a, float(best_f)

    def improve_part(
        self, a: np.ndarray, f: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, float]:
        """Tabu search on the members of a few random groups only (large pools).

        The objective splits by group, so repartitioning the people of ``k`` groups among
        those groups changes only their pairs: a full tabu search on that sub-pool (about
        ``PART_SIZE`` people) is cheap and its gain adds to ``f``.  Class counts are per
        group, so the sub-pool keeps every rule.
        """
        p, c = self.p, self.p.classes
        mean = max(1.0, p.n / max(1, p.G))
        k = int(min(p.G, max(2, round(PART_SIZE / mean))))
        chosen = np.sort(rng.choice(p.G, size=k, replace=False))
        idx = np.flatnonzero(np.isin(a, chosen))
        remap = np.full(p.G, -1, np.int64)
        remap[chosen] = np.arange(k)
        sub_a = remap[a[idx]]
        sub_d = np.ascontiguousarray(p.D[np.ix_(idx, idx)])
        counts = np.diff(c.ptr)[idx]
        sub_ptr = np.zeros(idx.size + 1, np.int64)
        sub_ptr[1:] = np.cumsum(counts)
        sub_idx = (
            np.concatenate([c.idx[c.ptr[i] : c.ptr[i + 1]] for i in idx]) if c.idx.size else c.idx
        )
        M, sizes, cnt, f0 = K.build_state(sub_d, sub_a, k, sub_ptr, sub_idx, c.count)
        best = np.empty_like(sub_a)
        t = time.perf_counter()
        f1, it = K.tabu_search(
            sub_d, sub_a, M, sizes, cnt, f0, p.lo[chosen], p.up[chosen], sub_ptr, sub_idx,
            c.cmin, c.cmax, c.floor, c.families, p.movable[idx], self.iteration_cap(),
            5 * idx.size, self.tt_min, self.tt_rand, self.rng_state, best,
        )  # fmt: skip
        self.tabu_iterations += int(it)
        self.tabu_seconds += time.perf_counter() - t
        if f1 <= f0 + 1e-9:
            return a, f
        out = a.copy()
        out[idx] = chosen[best]
        return out, f + (f1 - f0)

    def perturbed(self, a: np.ndarray, scale: int = 1) -> np.ndarray:
        """``a`` after ``scale * strength`` random feasible swaps."""
        p, c = self.p, self.p.classes
        a = a.copy()
        M, sizes, cnt, f = K.build_state(p.D, a, p.G, c.ptr, c.idx, c.count)
        K.perturb(
            p.D,
            a,
            M,
            sizes,
            cnt,
            f,
            c.ptr,
            c.idx,
            c.cmin,
            c.cmax,
            c.floor,
            c.families,
            p.movable,
            scale * self.strength,
            self.rng_state,
        )
        return a

    def feasible(self, a: np.ndarray) -> bool:
        """Whether ``a`` places everyone within sizes and every class range."""
        p, c = self.p, self.p.classes
        if np.any(a < 0):
            return False
        sizes = np.bincount(a, minlength=p.G)
        if np.any(sizes < p.lo) or np.any(sizes > p.up):
            return False
        cnt = np.zeros((c.count, p.G), np.int64)
        np.add.at(cnt, (c.idx, np.repeat(a, np.diff(c.ptr))), 1)
        return classes_hold(c, cnt)

    def child(self, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
        p = self.p
        kid = K.crossover(p.D, pa, pb, p.G, p.lo, p.up, p.movable, self.rng_state)
        if not self.feasible(kid):
            self.failed_crossovers += 1
            return self.perturbed(pa)
        return kid


def solve_groups(
    benefit: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    rules: Sequence[CountRule] = (),
    locked: np.ndarray | None = None,
    together: Sequence[np.ndarray] = (),
    apart: Sequence[np.ndarray] = (),
    common: Sequence[CommonRule] = (),
    time_limit: float | None = None,
    iterations: int | None = None,
    seed: int = 0,
    callback: Callable[[dict[str, float | int | str]], None] | None = None,
) -> GroupOutcome:
    """Groups maximising the summed benefit of same-group pairs under every hard rule.

    Hard rules: sizes within ``lower .. upper``; every count rule (``min``, ``max`` and
    "nobody alone" ``min_if_any``); ``locked`` people in their group; each ``together``
    set in one group; no two of an ``apart`` set together; in every group at least the
    ``common`` rule's count of values shared by all members.

    ``iterations`` counts generations of the memetic search (one tabu run each); with it
    and no ``time_limit`` the result is fully deterministic.  With neither, 30 generations.
    ``callback`` receives ``{"elapsed", "best", "iteration"}`` at most 5 times a second
    during the search and once at its end.
    Status: OPTIMAL (proven, small pools), FEASIBLE, INFEASIBLE (with ``reasons``) or
    UNKNOWN (no valid grouping found in time).
    """
    t0 = time.perf_counter()
    D, lo, up, lk = _checked_arrays(benefit, lower, upper, locked, rules, common)
    n, G = int(D.shape[0]), int(lo.shape[0])
    stats: dict[str, float | int | str] = {"n": n, "groups": G, "seed": seed}
    none = np.full(n, -1, np.int64)
    reasons = check_composition(lo, up, rules, lk, together, apart, n, common)
    if reasons:
        stats["method"] = "counting check"
        return _outcome(Status.INFEASIBLE, none, D, None, stats, reasons)
    if n == 0:
        return _outcome(Status.OPTIMAL, none, D, 0.0, stats)
    p = _problem(D, lo, up, lk, together, apart, rules, common)
    if n <= EXACT_MAX_N:
        exact = _exact(p, stats)
        if exact is not None:
            stats["runtime_s"] = time.perf_counter() - t0
            return exact
    rng = np.random.default_rng(seed % 2**63)
    search = _Search(p, seed)
    start = _start(p, rng, time_limit, seed, stats)
    if isinstance(start, GroupOutcome):
        return start
    if iterations is None and time_limit is None:
        iterations = 30
    # The bound's cut rounds get a tenth of a time limit; without one they run to the end
    # (so that the reported bound depends on the inputs only).
    found = upper_bound(D, lo, up, None if time_limit is None else BOUND_SHARE * time_limit)
    stats["bound_method"] = found.method
    search.deadline = None if time_limit is None else t0 + time_limit
    evolution = _Evolution(search, rng, _Budget(t0, search.deadline, iterations, callback))
    best_a, best_f = evolution.run(start)
    if not search.feasible(best_a):
        raise SolverError("the grouping search returned a grouping that breaks a rule (a bug)")
    if callback is not None:
        callback({"elapsed": time.perf_counter() - t0, "best": best_f, "iteration": evolution.gen})
    stats.update(
        method="memetic tabu search" if search.small else "decomposed tabu search",
        generations=evolution.gen,
        tabu_iterations=search.tabu_iterations,
        failed_crossovers=search.failed_crossovers,
        restarts=evolution.restarts,
        runtime_s=time.perf_counter() - t0,
    )
    return _outcome(Status.FEASIBLE, best_a, D, found.value, stats)


def _checked_arrays(
    benefit: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    locked: np.ndarray | None,
    rules: Sequence[CountRule],
    common: Sequence[CommonRule],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The arguments as arrays (benefit copied, zero diagonal); ValueError when malformed."""
    D = np.array(benefit, dtype=np.float64, copy=True)
    n = int(D.shape[0])
    if D.shape != (n, n) or not np.allclose(D, D.T):
        raise ValueError("benefit must be a square symmetric matrix")
    np.fill_diagonal(D, 0.0)
    lo = np.asarray(lower, dtype=np.int64)
    up = np.asarray(upper, dtype=np.int64)
    lk = None if locked is None else np.asarray(locked, dtype=np.int64)
    if lo.shape != up.shape or lo.ndim != 1:
        raise ValueError("lower and upper must be 1-D arrays of the same length")
    if lk is not None and lk.shape != (n,):
        raise ValueError(f"locked must have one entry per person ({n})")
    for rule in rules:
        if np.shape(rule.labels) != (n,):
            raise ValueError(f"rule {rule.name!r}: labels must have one entry per person ({n})")
    for shared in common:
        if np.ndim(shared.values) != 2 or np.shape(shared.values)[0] != n:
            raise ValueError(f"rule {shared.name!r}: values must have one row per person ({n})")
    return D, lo, up, lk


def _problem(
    D: np.ndarray,
    lo: np.ndarray,
    up: np.ndarray,
    lk: np.ndarray | None,
    together: Sequence[np.ndarray],
    apart: Sequence[np.ndarray],
    rules: Sequence[CountRule],
    common: Sequence[CommonRule],
) -> _Problem:
    """The kernels' arrays: merged keep-together blocks, who may move, compiled classes."""
    n = int(D.shape[0])
    blocks = _merge_blocks(n, together)
    movable = np.ones(n, np.bool_)
    if lk is not None:
        movable &= lk < 0
    for blk in blocks:
        movable[blk] = False
    return _Problem(D, lo, up, compile_classes(n, rules, apart, common), movable, lk, blocks)


def _start(
    p: _Problem,
    rng: np.random.Generator,
    time_limit: float | None,
    seed: int,
    stats: dict[str, float | int | str],
) -> np.ndarray | GroupOutcome:
    """A valid grouping to start from: greedy constructions, else CP-SAT.

    When CP-SAT finds none, the outcome to return (INFEASIBLE if proven, else UNKNOWN).
    """
    for _ in range(5):
        start = construct(p.n, p.lo, p.up, p.classes, p.locked, p.blocks, rng)
        if start is not None:
            return start
    budget = 10.0 if time_limit is None else max(1.0, time_limit / 2)
    start, proven = cpsat_start(p.n, p.lo, p.up, p.classes, p.locked, p.blocks, budget, seed)
    if start is None:
        stats["method"] = "CP-SAT feasibility"
        status = Status.INFEASIBLE if proven else Status.UNKNOWN
        why = (
            "no grouping meets every rule at once (proven by CP-SAT)"
            if proven
            else "no grouping meeting every rule was found in the time allowed"
        )
        return _outcome(status, np.full(p.n, -1, np.int64), p.D, None, stats, [why])
    stats["start"] = "cp-sat"
    return start


@dataclass
class _Budget:
    """When the search stops, and progress reports at most 5 times a second."""

    t0: float
    deadline: float | None
    iterations: int | None
    callback: Callable[[dict[str, float | int | str]], None] | None
    last_report: float = 0.0

    def spent(self, gen: int) -> bool:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return True
        return self.iterations is not None and gen >= self.iterations

    def report(self, gen: int, best: float) -> None:
        now = time.perf_counter()
        if self.callback is not None and now - self.last_report >= 0.2:
            self.last_report = now
            self.callback({"elapsed": now - self.t0, "best": best, "iteration": gen})


class _Evolution:
    """The memetic loop: a population improved by tabu search, crossed, restarted."""

    def __init__(self, search: _Search, rng: np.random.Generator, budget: _Budget) -> None:
        self.search, self.rng, self.budget = search, rng, budget
        n = search.p.n
        self.pop_size = 8 if n <= 300 else (4 if search.small else 1)
        self.pop: list[np.ndarray] = []
        self.fit: list[float] = []
        self.best_a = np.zeros(0, np.int64)
        self.best_f = -np.inf
        self.gen = 0
        self.restarts = 0
        self.last_gain = 0

    def run(self, start: np.ndarray) -> tuple[np.ndarray, float]:
        """Best assignment and value when the budget is spent."""
        self._populate(start)
        while not self.budget.spent(self.gen):
            self.gen += 1
            if len(self.pop) >= 2:
                self._generation()
            else:
                self._improve_part()
        return self.best_a, self.best_f

    def _fresh(self, fallback: np.ndarray, scale: int = 1) -> np.ndarray:
        """A varied greedy construction, or a perturbed ``fallback`` when none is found."""
        p = self.search.p
        s = construct(p.n, p.lo, p.up, p.classes, p.locked, p.blocks, self.rng, varied=True)
        return self.search.perturbed(fallback, scale) if s is None else s

    def _populate(self, start: np.ndarray) -> None:
        a, f = self.search.improve(start)
        self.pop.append(a)
        self.fit.append(f)
        self.best_a, self.best_f = a, f
        while len(self.pop) < self.pop_size and not self.budget.spent(self.gen):
            a, f = self.search.improve(self._fresh(self.pop[0]))
            self.pop.append(a)
            self.fit.append(f)
            if f > self.best_f:
                self.best_a, self.best_f = a, f
            self.budget.report(self.gen, self.best_f)

    def _improve_part(self) -> None:
        """One decomposition step on the single member (very large pools)."""
        a, f = self.search.improve_part(self.best_a, self.best_f, self.rng)
        if f > self.best_f + 1e-9:
            self.best_a, self.best_f = a, f
        self.budget.report(self.gen, self.best_f)

    def _generation(self) -> None:
        """Cross two parents, improve the child, keep it if new and better than the worst."""
        pop, fit, search = self.pop, self.fit, self.search
        i, j = self.rng.choice(len(pop), size=2, replace=False)
        a, f = search.improve(search.child(pop[i], pop[j]))
        if f > self.best_f + 1e-9:
            self.best_a, self.best_f = a, f
            self.last_gain = self.gen
        elif self.gen - self.last_gain >= RESTART_AFTER * len(pop):
            self._restart()
            return
        worst = int(np.argmin(fit))
        if f > fit[worst] + 1e-9 and all(abs(f - x) > 1e-9 for x in fit):
            pop[worst] = a
            fit[worst] = f
        else:
            # stagnation guard: replace a random non-best member by a perturbed copy of it
            k = int(self.rng.integers(len(pop)))
            if fit[k] < max(fit):
                pop[k], fit[k] = search.improve(search.perturbed(pop[k]))
        self.budget.report(self.gen, self.best_f)

    def _restart(self) -> None:
        """The population has converged: keep the best, rebuild the rest from fresh starts
        (or strong perturbations of the best when greedy cannot build one)."""
        self.last_gain = self.gen
        self.restarts += 1
        keep = int(np.argmax(self.fit))
        for k in range(len(self.pop)):
            if k != keep and not self.budget.spent(self.gen):
                self.pop[k], self.fit[k] = self.search.improve(self._fresh(self.best_a, 3))
