"""The best structure with one trio, found from the certified pairs-only optimum.

A structure is a set of disjoint pairs plus at most one trio ``T``; its
doubled worth is ``2 c(pairs) + c_ab + c_ac + c_bc - 2 tp(T)`` (a trio counts
as 1.5 pairs).  The blossom duals of the best pairs-only answer (doubled
worth ``D2``: person duals ``d``, blossom duals ``z``) bound any structure
holding ``T = {a, b, c}``:

* the pairs among everybody else are worth at most the same duals without
  ``a, b, c``: ``D2 - d_a - d_b - d_c - 2 max(Z_ab, Z_ac, Z_bc)`` (a blossom
  losing two or three of its people holds one pair fewer; those blossoms are
  the ones above the deepest of the three pairs' smallest common blossoms);
* minus the smallest dual of a person who must sit out, when parity forces
  one (a trio places an odd number of people);

so ``UB(T) = c_ab + c_ac + c_bc - 2 tp(T) + D2 - d_a - d_b - d_c - 2 max Z -
out``.  Only triangles whose pairs have small reduced costs can have
``UB(T)`` above the incumbent; they are listed from the whole allowed graph
(one dense scan), sorted by ``UB(T)`` and settled in that order:

1. repair the pairs-only optimum locally (drop the pairs touching ``T``,
   re-pair the partners left alone among themselves and with people left
   out); if that reaches ``UB(T)`` it is exact;
2. otherwise remove ``T`` from the solved blossom state and re-optimise warm
   (one augmenting search per member), re-checking the duals against every
   allowed pair of the people whose duals went down.

The search stops when the next ``UB(T)`` cannot beat the best found: the
answer is then proven.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from buddymatch.solvers.pairing import blossom as bl
from buddymatch.solvers.pairing.price import Edges, Pricer, Tree, tree

SMALL_PER_ROW = 64
"""Low-reduced-cost partners listed per person when looking for triangles (first try)."""
MAX_LISTED = 16_000_000
"""Most entries (people x partners per person) the triangle scan may list when people are
alike and a row has many low-reduced-cost partners: past it the search is not complete."""
MAX_TRIANGLES = 2_000_000
MAX_EVALUATIONS = 20_000
MAX_RECHECK_ROUNDS = 30
LOCAL_PARTNERS = 4
"""People left out tried as new partners for each person a trio leaves alone."""
MAX_FREE_FOR_ATTACH = 300
"""People left out tried as a trio's third member for the first incumbent."""
SPARE = 3
"""Edge-less vertices every state carries past the people: stand-in partners for a trio."""


@dataclass
class Best:
    """A structure: pairs, the trio (or None), its doubled worth ``c2``."""

    pairs: Edges
    trio: tuple[int, int, int] | None
    c2: int


@dataclass
class Search:
    """What the trio search needs from the pairs-only solve."""

    state: bl.State  # certified over the whole allowed graph
    pricer: Pricer
    tree: Tree
    d2: int  # doubled worth of the best pairs (= the certificate's bound)
    trio_pen: np.ndarray
    deadline: float | None
    slack_min: np.ndarray | None = None  # each row's least r2 off the candidate pairs
    rows_checked: int = 0
    partner: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    left_out: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def rows_to_check(self, c: bl.State) -> np.ndarray:
        """People whose dual went down enough that a pair off the candidates may be violated.

        A pair's reduced cost only drops by the drops of its two duals, so
        with ``slack_min`` known only drops above half of it matter.  It costs
        one dense scan, made once checking rows directly has cost as much.
        """
        n = len(self.pricer.active)
        if self.slack_min is None and self.rows_checked > n:
            self.slack_min = self.pricer.row_min_slack(self.tree, (self.state.eu, self.state.ev))
        limit = 0 if self.slack_min is None else self.slack_min // 2
        rows = np.flatnonzero(c.dec[:n] > limit)
        self.rows_checked += len(rows)
        return rows


@nb.njit(cache=True)
def _triangles(
    a: np.ndarray, b: np.ndarray, r2: np.ndarray, zz: np.ndarray, d: np.ndarray, tp: np.ndarray,
    out_d: np.ndarray, out_id: np.ndarray, d2: int, inc: int, cap: int,
) -> tuple[np.ndarray, np.ndarray, bool]:  # fmt: skip
    """Triangles of the edge list with ``UB > inc``: rows ``(i, j, k)``, their ``UB``, overflow.

    Edges are sorted by ``(a, b)`` with ``a < b``; ``r2`` are their doubled
    reduced costs and ``zz`` their ``Z``.  ``out_d`` / ``out_id``: the
    smallest duals of people one of whom must sit out (empty if none must).
    """
    n = len(d)
    deg = np.zeros(n + 1, dtype=np.int64)
    for e in range(len(a)):
        deg[a[e] + 1] += 1
    ptr = np.cumsum(deg)
    out = np.empty((cap, 3), dtype=np.int64)
    ub = np.empty(cap, dtype=np.int64)
    cnt = 0
    for e in range(len(a)):
        i, j = a[e], b[e]
        p, q = e + 1, ptr[j]
        while p < ptr[i + 1] and q < ptr[j + 1]:
            if b[p] != b[q]:
                if b[p] < b[q]:
                    p += 1
                else:
                    q += 1
                continue
            k = b[p]
            zsum = zz[e] + zz[p] + zz[q]
            zmax = max(zz[e], max(zz[p], zz[q]))
            # c_ab + c_ac + c_bc = d_a + d_b + d_c + sum Z - sum r2 / 2
            val = d2 + zsum - 2 * zmax - (r2[e] + r2[p] + r2[q] + 1) // 2
            val -= 2 * (tp[i] + tp[j] + tp[k])
            for r in range(len(out_id)):
                x = out_id[r]
                if x != i and x != j and x != k:
                    val -= out_d[r]
                    break
            if val > inc:
                if cnt == cap:
                    return out[:cnt], ub[:cnt], True
                out[cnt, 0], out[cnt, 1], out[cnt, 2] = i, j, k
                ub[cnt] = val
                cnt += 1
            p += 1
            q += 1
    return out[:cnt], ub[:cnt], False


def _sit_out(sr: Search) -> tuple[np.ndarray, np.ndarray]:
    """The four smallest doubled duals among people who could be placed, if one must sit out.

    A trio places an odd number of people; if the people with an allowed
    partner are even in number, one of them is left out of any structure with
    a trio, and the bound counts each placed person's dual once.
    """
    n = len(sr.pricer.active)
    deg = np.zeros(n, dtype=np.int64)
    eu, ev = sr.state.eu, sr.state.ev
    np.add.at(deg, eu[ev < n], 1)
    np.add.at(deg, ev[ev < n], 1)
    able = np.flatnonzero((deg > 0) & sr.pricer.active)
    if len(able) % 2 == 1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    d = sr.tree.d[able]
    order = np.lexsort((able, d))[:4]
    return d[order].astype(np.int64), able[order].astype(np.int64)


def _trio_c2(p: Pricer, tp: np.ndarray, t: tuple[int, int, int]) -> int:
    a, b, c = t
    vals = p.values((np.array([a, a, b]), np.array([b, c, c])))
    return int(vals.sum()) - 2 * int(tp[a] + tp[b] + tp[c])


def _pairs_c2(p: Pricer, pairs: Edges) -> int:
    return int(2 * p.values(pairs).sum()) if len(pairs[0]) else 0


def _pair_c(p: Pricer, i: int, j: int) -> int | None:
    """``c_ij`` if the pair is allowed in the view, else None."""
    if int(p.w[i, j]) < max(p.t_min, 0) or not (p.active[i] and p.active[j]):
        return None
    return int(p.w[i, j]) + int(p.pen[i] + p.pen[j]) + p.big


def _attachments(sr: Search, base: Best) -> Best:
    """Best single move "a person left out joins a pair" (a quick first incumbent)."""
    p = sr.pricer
    pa, pb = base.pairs
    lo = max(p.t_min, 0)
    pair_c = p.values((pa, pb))
    tp = sr.trio_pen
    best_gain, best_move = 0, (-1, -1)
    for u in sr.left_out[:MAX_FREE_FOR_ATTACH].tolist():
        ok = np.flatnonzero((p.w[u, pa] >= lo) & (p.w[u, pb] >= lo))
        if not len(ok):
            continue
        uu = np.full(len(ok), u)
        cu = p.values((uu, pa[ok])) + p.values((uu, pb[ok]))
        gain = cu - pair_c[ok] - 2 * (tp[u] + tp[pa[ok]] + tp[pb[ok]])
        e = int(np.argmax(gain))
        if int(gain[e]) > best_gain:
            best_gain, best_move = int(gain[e]), (u, int(ok[e]))
    if best_move[0] < 0:
        return base
    u, e = best_move
    keep = np.ones(len(pa), dtype=bool)
    keep[e] = False
    t = tuple(sorted((u, int(pa[e]), int(pb[e]))))
    return Best((pa[keep], pb[keep]), t, base.c2 + best_gain)  # type: ignore[arg-type]


def _options(sr: Search, o: int, t: tuple[int, int, int]) -> list[tuple[int, int]]:
    """(partner, c) for orphan ``o`` among the people left out of the pairs-only optimum."""
    p = sr.pricer
    free = sr.left_out
    ok = free[(p.w[o, free] >= max(p.t_min, 0)) & ~np.isin(free, t)]
    if not len(ok):
        return []
    vals = p.values((np.full(len(ok), o), ok))
    top = np.lexsort((ok, -vals))[:LOCAL_PARTNERS]
    return [(int(ok[i]), int(vals[i])) for i in top]


def _best_repair(
    sr: Search, orphans: list[int], t: tuple[int, int, int]
) -> tuple[int, list[tuple[int, int]]]:
    """Best pairs for the people ``T`` left alone: among themselves or with people left out.

    An exhaustive search over at most three orphans; returns the doubled
    worth added and the pairs.
    """
    opts = {o: _options(sr, o, t) for o in orphans}

    def rec(rest: list[int], used: frozenset[int]) -> tuple[int, list[tuple[int, int]]]:
        if not rest:
            return 0, []
        o, tail = rest[0], rest[1:]
        best = rec(tail, used)
        for o2 in tail:
            c = _pair_c(sr.pricer, o, o2)
            if c is not None:
                add, pairs = rec([x for x in tail if x != o2], used)
                if add + 2 * c > best[0]:
                    best = (add + 2 * c, [(min(o, o2), max(o, o2)), *pairs])
        for x, c in opts[o]:
            if x not in used:
                add, pairs = rec(tail, used | {x})
                if add + 2 * c > best[0]:
                    best = (add + 2 * c, [(min(o, x), max(o, x)), *pairs])
        return best

    return rec(orphans, frozenset())


def _local(sr: Search, t: tuple[int, int, int]) -> Best:
    """``T`` plus the pairs-only optimum repaired around it (a lower bound for ``T``)."""
    part = sr.partner
    dropped = {(min(x, int(part[x])), max(x, int(part[x]))) for x in t if part[x] >= 0}
    gone = set(t) | {v for pair in dropped for v in pair}
    orphans = sorted(gone - set(t))
    base = sr.d2 - 2 * sum(_pair_c(sr.pricer, a, b) or 0 for a, b in dropped)
    add, extra = _best_repair(sr, orphans, t)
    pa, pb = _without(sr, gone)
    if extra:
        e = np.array(extra, dtype=np.int64)
        pa, pb = np.concatenate([pa, e[:, 0]]), np.concatenate([pb, e[:, 1]])
        order = np.lexsort((pb, pa))
        pa, pb = pa[order], pb[order]
    return Best((pa, pb), t, base + add + _trio_c2(sr.pricer, sr.trio_pen, t))


def _without(sr: Search, gone: set[int]) -> Edges:
    """The pairs-only optimum's pairs not touching ``gone``."""
    n = len(sr.pricer.active)
    pa, pb = real_pairs(sr.state, n)
    g = np.array(sorted(gone), dtype=np.int64)
    keep = ~np.isin(pa, g) & ~np.isin(pb, g)
    return pa[keep], pb[keep]


def _recheck(sr: Search, c: bl.State, t: tuple[int, int, int]) -> tuple[bl.State, bool]:
    """Make the re-optimised duals feasible on every allowed pair (adding pairs as needed)."""
    p = sr.pricer
    n = len(p.active)
    active = p.active.copy()
    active[list(t)] = False
    sub = Pricer(p.w, active, p.pen, p.t_min, p.big)
    for _ in range(MAX_RECHECK_ROUNDS):
        rows = sr.rows_to_check(c)
        rows = rows[active[rows]]
        if not len(rows):
            return c, True
        a, b = sub.row_violations(tree(c), rows)
        if not len(a):
            return c, True
        key = np.unique(a * n + b)
        a, b = key // n, key % n
        m = len(c.eu)
        c = bl.add_edges(c, a, b, p.values((a, b)))
        bl.raise_for_edges(c, np.arange(m, m + len(a)))
        bl.run(c)
    return c, False


def _evaluate(sr: Search, t: tuple[int, int, int], bound: int) -> Best | None:
    """Trio ``t`` plus the best pairs among everybody else (None if that was not proven).

    Each member of ``t`` gets a spare vertex as a partner through an edge so
    heavy that every optimum uses it: the optimum then pairs everybody else
    as well as possible.  The spare's dual is set so that the edge is just
    feasible; the re-optimisation is one augmenting search per member and
    leaves the rest of the blossom structure (and its proof) in place.  If
    the result on the candidate pairs reaches ``bound`` (a valid bound over
    the whole graph) it is exact as it stands; otherwise the new duals are
    re-checked against every allowed pair.
    """
    n = len(sr.pricer.active)
    c = bl.copy_state(sr.state)
    c.dec[:] = 0
    heavy = 2 * int(c.ew.max(initial=0)) + 1
    members = np.array(t, dtype=np.int64)
    spares = np.arange(n, n + SPARE, dtype=np.int64)
    c = bl.add_edges(c, members, spares, np.full(SPARE, heavy, dtype=np.int64))
    c.dual[spares] = 2 * heavy - c.dual[members]
    bl.run(c)
    trio_c2 = _trio_c2(sr.pricer, sr.trio_pen, t)
    a, b = real_pairs(c, n)
    if _pairs_c2(sr.pricer, (a, b)) + trio_c2 < bound:
        c, ok = _recheck(sr, c, t)
        if not ok:
            return None
        a, b = real_pairs(c, n)
    return Best((a, b), t, _pairs_c2(sr.pricer, (a, b)) + trio_c2)


def real_pairs(s: bl.State, n: int) -> Edges:
    """The matched pairs between people (spare vertices left out)."""
    a, b, _ = bl.pairs(s)
    keep = b < n
    return a[keep], b[keep]


@dataclass
class Outcome:
    best: Best
    bound2: int  # doubled upper bound on the worth of any structure
    proven: bool
    stats: dict[str, float | int | str]


def _prepare(sr: Search, pairs_only: Best) -> None:
    n = len(sr.pricer.active)
    part = np.full(n, -1, dtype=np.int64)
    pa, pb = pairs_only.pairs
    part[pa], part[pb] = pb, pa
    sr.partner = part
    sr.left_out = np.flatnonzero((part < 0) & sr.pricer.active)


def search(sr: Search, pairs_only: Best) -> Outcome:
    """The best structure (pairs + at most one trio) and how well it is proven."""
    t0 = time.perf_counter()
    _prepare(sr, pairs_only)
    n = len(sr.tree.d)
    par = sr.tree.parent[:n]
    zs = np.zeros(n, dtype=np.int64)  # duals of all blossoms holding each person
    zs[par >= 0] = sr.tree.zcum[par[par >= 0]]
    out_d, out_id = _sit_out(sr)
    floor_out = int(out_d[0]) if len(out_d) else 0
    best = _attachments(sr, pairs_only)
    # Any trio structure is worth at most d2 + zmax - floor_out (doubled).
    ceiling = sr.d2 + 2 * int(zs.max(initial=0)) - floor_out
    if ceiling <= best.c2:
        return Outcome(best, best.c2, True, {"trio_s": round(time.perf_counter() - t0, 3)})
    budget = sr.d2 - best.c2 - floor_out
    edges, r2, zz, overflow = _small_pairs(sr, budget)
    by = np.lexsort((edges[1], edges[0]))
    tri, ub, over2 = _triangles(
        edges[0][by], edges[1][by], r2[by], zz[by], sr.tree.d, sr.trio_pen, out_d, out_id,
        sr.d2, best.c2, MAX_TRIANGLES,
    )  # fmt: skip
    best, rest, counts = _settle_in_order(sr, best, tri, ub)
    complete = not (overflow or over2)
    bound = best.c2 if rest is None else max(best.c2, rest)
    if not complete:
        bound = max(bound, ceiling)
    stats: dict[str, float | int | str] = {
        "trio_candidates": len(ub),
        "trio_local": counts[0],
        "trio_evaluations": counts[1],
        "trio_s": round(time.perf_counter() - t0, 3),
    }
    return Outcome(best, bound, complete and rest is None, stats)


def _small_pairs(sr: Search, budget: int) -> tuple[Edges, np.ndarray, np.ndarray, bool]:
    """Pairs that may sit in a winning triangle, and whether some were left off.

    Listed ``SMALL_PER_ROW`` per person; when a row had more (pools of people
    who are alike have many near-ties), listed again with room for the most
    any row had, so the list is complete unless that exceeds ``MAX_LISTED``.
    """
    n = len(sr.pricer.active)
    edges, r2, zz, most = sr.pricer.small_reduced(sr.tree, budget, SMALL_PER_ROW)
    if most > SMALL_PER_ROW and n * most <= MAX_LISTED:
        edges, r2, zz, most = sr.pricer.small_reduced(sr.tree, budget, most)
        return edges, r2, zz, False
    return edges, r2, zz, most > SMALL_PER_ROW


def _settle_in_order(
    sr: Search, best: Best, tri: np.ndarray, ub: np.ndarray
) -> tuple[Best, int | None, tuple[int, int]]:
    """Settle triangles by decreasing bound until none can win.

    Returns the best structure, the largest bound left unsettled (None if
    every triangle was settled) and how many were settled locally / by a
    warm re-optimisation.
    """
    order = np.lexsort((tri[:, 2], tri[:, 1], tri[:, 0], -ub))
    local = evals = 0
    rest = None
    for idx in order.tolist():
        bound = int(ub[idx])
        if bound <= best.c2:
            break
        t = (int(tri[idx, 0]), int(tri[idx, 1]), int(tri[idx, 2]))
        got: Best | None = _local(sr, t)
        local += 1
        if got is not None and got.c2 < bound:
            if evals >= MAX_EVALUATIONS or _late(sr.deadline):
                rest = max(rest or 0, bound)
                break
            evals += 1
            exact = _evaluate(sr, t, bound)
            if exact is None:
                rest = max(rest or 0, bound)
            got = exact if exact is not None and exact.c2 > got.c2 else got
        if got is not None and got.c2 > best.c2:
            best = got
    return best, rest, (local, evals)


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline
