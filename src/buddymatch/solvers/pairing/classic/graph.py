"""Sparse candidate graphs, exact matching and LP certificates for one-pool pairing.

The dense weight matrix is never copied: every scan reads it in place, with the
per-call view given by ``active`` (people still in the pool), ``t_min`` (pairs
lighter than this are treated as not allowed; used by the ``fair`` objective)
and ``pen`` (an additive per-person bonus, so that edge value is
``w'_ij = w_ij + pen_i + pen_j``).  All certificate arithmetic is in int64 on
*doubled* values (``2 * w'``) so that half-integral LP duals stay exact.

What callers may rely on:

* :func:`top_k_edges` / :func:`violating_edges` return sorted, duplicate-free
  ``(a, b)`` arrays with ``a < b``.
* :func:`lp_dual` returns doubled duals ``y2 >= 0`` that are *feasible for the
  full graph* after :func:`repair_dual` (``y2_i + y2_j >= 2 w'_ij`` for every
  allowed active pair), so ``sum(y2) / 2`` is a certified upper bound on the
  value of any set of disjoint pairs and trios (trio value = half the sum of
  its three pair values).
* :func:`exact_matching` is an exact maximum-weight matching (Edmonds' blossom
  algorithm from rustworkx) on the given edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
from ortools.linear_solver import pywraplp

from buddymatch.solvers.pairing.graph import (  # shared with the blossom engine
    Edges,
    normalise_edges,
)


@nb.njit(cache=True)
def _violation_kernel(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    w: np.ndarray,
    active: np.ndarray,
    pen: np.ndarray,
    t_min: int,
    y2: np.ndarray,
    member: np.ndarray,
    min_v: int,
    per_row: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row, up to ``per_row`` pairs with the largest ``v = 2w' - y2_i - y2_j > min_v``.

    Pairs with both ends in ``member`` (odd-set cut members) are skipped: their
    slack includes the cut duals and is computed exactly by the caller.
    Returns the edges, each row's worst ``max(v, 0)`` and each row's count of
    pairs with ``v > min_v``.
    """
    n = w.shape[0]
    out_a = np.empty(n * per_row, dtype=np.int64)
    out_b = np.empty(n * per_row, dtype=np.int64)
    worst = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    cnt = 0
    best_v = np.empty(max(per_row, 1), dtype=np.int64)
    best_j = np.empty(max(per_row, 1), dtype=np.int64)
    for i in range(n):
        if not active[i]:
            continue
        m = 0
        for j in range(n):
            if j == i or not active[j] or (member[i] and member[j]):
                continue
            wij = w[i, j]
            if wij < 0 or wij < t_min:
                continue
            v = 2 * (np.int64(wij) + pen[i] + pen[j]) - y2[i] - y2[j]
            if v > worst[i]:
                worst[i] = v
            if v <= min_v:
                continue
            count[i] += 1
            if per_row == 0:
                continue
            if m < per_row:
                p = m
                m += 1
            elif v > best_v[m - 1]:
                p = m - 1
            else:
                continue
            while p > 0 and best_v[p - 1] < v:
                best_v[p] = best_v[p - 1]
                best_j[p] = best_j[p - 1]
                p -= 1
            best_v[p] = v
            best_j[p] = j
        for q in range(m):
            out_a[cnt] = i
            out_b[cnt] = best_j[q]
            cnt += 1
    return out_a[:cnt], out_b[:cnt], worst, count


@dataclass(frozen=True)
class Dual:
    """Doubled LP duals: ``y2`` per person, ``z2`` per odd-set cut ``cuts[k]``.

    Feasible (after :func:`repair`) means ``y2_i + y2_j + Z2_ij >= 2 w'_ij`` for
    every allowed active pair, ``Z2_ij`` being the sum of ``z2`` over cuts
    holding both; then ``bound2 = sum(y2) + sum(z2_k * (|S_k| - 1) / 2)``
    bounds twice the value of any matching.
    """

    y2: np.ndarray
    z2: np.ndarray
    cuts: tuple[np.ndarray, ...]

    @property
    def bound2(self) -> int:
        extra = sum(int(z) * ((len(c) - 1) // 2) for z, c in zip(self.z2, self.cuts, strict=True))
        return int(self.y2.sum()) + extra

    def members(self, n: int) -> np.ndarray:
        mem = np.zeros(n, dtype=bool)
        for c in self.cuts:
            mem[c] = True
        return mem

    def block(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Cut members (sorted) and their pairwise ``Z2`` matrix."""
        idx = np.flatnonzero(self.members(n))
        pos = np.full(n, -1, dtype=np.int64)
        pos[idx] = np.arange(len(idx))
        z = np.zeros((len(idx), len(idx)), dtype=np.int64)
        for zk, c in zip(self.z2.tolist(), self.cuts, strict=True):
            if zk:
                p = pos[c]
                z[np.ix_(p, p)] += zk
        return idx, z


def _block_slack(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, dual: Dual
) -> tuple[np.ndarray, np.ndarray]:
    """``v = 2w' - y2_i - y2_j - Z2_ij`` on the cut-member block (NaN-free; -inf if not allowed)."""
    idx, z = dual.block(w.shape[0])
    sub = w[np.ix_(idx, idx)].astype(np.int64)
    v = 2 * (sub + pen[idx, None] + pen[None, idx]) - dual.y2[idx, None] - dual.y2[None, idx] - z
    ok = (sub >= max(t_min, 0)) & active[idx, None] & active[None, idx]
    np.fill_diagonal(ok, False)
    v[~ok] = np.iinfo(np.int64).min // 4
    return idx, v


def price(
    w: np.ndarray,
    active: np.ndarray,
    pen: np.ndarray,
    t_min: int,
    dual: Dual,
    min_v: int = 0,
    per_row: int = 4,
) -> tuple[Edges, np.ndarray, bool]:
    """Pairs with slack ``v > min_v`` (a few per row), each row's worst ``v``, and overflow.

    ``overflow`` is True when some row had more such pairs than ``per_row``.
    """
    n = w.shape[0]
    a, b, worst, count = _violation_kernel(
        w, active, pen, int(t_min), dual.y2, dual.members(n), int(min_v), int(per_row)
    )
    overflow = bool((count > per_row).any())
    if dual.cuts:
        idx, v = _block_slack(w, active, pen, t_min, dual)
        worst[idx] = np.maximum(worst[idx], np.maximum(v.max(axis=1, initial=0), 0))
        hit = v > min_v
        overflow = overflow or bool((hit.sum(axis=1) > per_row).any())
        if per_row == 0:
            order = np.zeros((len(idx), 0), dtype=np.int64)
        elif per_row < v.shape[1]:
            order = np.argpartition(-v, per_row - 1, axis=1)[:, :per_row]
        else:
            order = np.argsort(-v, axis=1, kind="stable")
        rows = np.repeat(np.arange(len(idx)), order.shape[1])
        cols = order.ravel()
        keep = hit[rows, cols]
        a = np.concatenate([a, idx[rows[keep]]])
        b = np.concatenate([b, idx[cols[keep]]])
    return normalise_edges(a, b, n), worst, overflow


def repair(w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, dual: Dual) -> Dual:
    """Raise ``y2`` just enough to make ``dual`` feasible on the whole (active) graph."""
    _, worst, _ = price(w, active, pen, t_min, dual, min_v=0, per_row=0)
    y2 = dual.y2 + worst
    y2[~active] = 0
    return Dual(y2, dual.z2, dual.cuts)


def odd_set_cuts(n: int, edges: Edges, x: np.ndarray, eps: float = 1e-6) -> list[np.ndarray]:
    """Odd components of the fractional support whose blossom inequality ``x`` violates."""
    a, b = edges
    frac = (x > eps) & (x < 1 - eps)
    parent = list(range(n))

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for i, j in zip(a[frac].tolist(), b[frac].tolist(), strict=True):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    nodes = np.unique(np.concatenate([a[frac], b[frac]]))
    groups: dict[int, list[int]] = {}
    for u in nodes.tolist():
        groups.setdefault(find(u), []).append(u)
    cuts = []
    inside = np.zeros(n, dtype=np.int64)
    for root in sorted(groups):
        s = np.array(sorted(groups[root]), dtype=np.int64)
        if len(s) % 2 == 0 or len(s) < 3:
            continue
        inside[:] = 0
        inside[s] = 1
        mask = (inside[a] == 1) & (inside[b] == 1)
        if float(x[mask].sum()) > (len(s) - 1) / 2 + 1e-6:
            cuts.append(s)
    return cuts


def union_edges(e1: Edges, e2: Edges, n: int) -> Edges:
    """Union of two edge sets, normalised."""
    return normalise_edges(np.concatenate([e1[0], e2[0]]), np.concatenate([e1[1], e2[1]]), n)


def edge_values(w: np.ndarray, pen: np.ndarray, edges: Edges) -> np.ndarray:
    """``w'`` for each edge (int64)."""
    a, b = edges
    return w[a, b].astype(np.int64) + pen[a] + pen[b]


class FracLP:
    """Fractional matching LP, grown in place so GLOP re-solves from its last basis.

    max sum v_e x_e, sum_{e ni i} x_e <= 1, sum_{e in E(S)} x_e <= (|S|-1)/2
    for each odd-set cut S, x >= 0.  :meth:`solve` returns rounded doubled
    duals (callers :func:`repair` them before using them as a certificate)
    and ``x`` in the order of :attr:`edges`.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        self.inf = self.solver.infinity()
        self.cons = [self.solver.Constraint(-self.inf, 1.0) for _ in range(n)]
        self.obj = self.solver.Objective()
        self.obj.SetMaximization()
        self.vars: list[pywraplp.Variable] = []
        self.index: dict[tuple[int, int], int] = {}
        self.cuts: list[np.ndarray] = []
        self.cut_cons: list[pywraplp.Constraint] = []
        self.cut_sets: list[frozenset[int]] = []
        self.a: list[int] = []
        self.b: list[int] = []

    def add_edges(self, edges: Edges, values: np.ndarray) -> int:
        """Add the edges not yet in the model; returns how many were new."""
        added = 0
        for i, j, v in zip(edges[0].tolist(), edges[1].tolist(), values.tolist(), strict=True):
            if (i, j) in self.index:
                continue
            var = self.solver.NumVar(0.0, self.inf, "")
            self.index[(i, j)] = len(self.vars)
            self.vars.append(var)
            self.a.append(i)
            self.b.append(j)
            self.cons[i].SetCoefficient(var, 1.0)
            self.cons[j].SetCoefficient(var, 1.0)
            self.obj.SetCoefficient(var, float(v))
            for cs, c in zip(self.cut_sets, self.cut_cons, strict=True):
                if i in cs and j in cs:
                    c.SetCoefficient(var, 1.0)
            added += 1
        return added

    def add_cuts(self, cuts: list[np.ndarray]) -> None:
        a = np.array(self.a, dtype=np.int64)
        b = np.array(self.b, dtype=np.int64)
        member = np.zeros(self.n, dtype=bool)
        for s in cuts:
            c = self.solver.Constraint(-self.inf, float((len(s) - 1) // 2))
            member[:] = False
            member[s] = True
            for e in np.flatnonzero(member[a] & member[b]).tolist():
                c.SetCoefficient(self.vars[e], 1.0)
            self.cuts.append(s)
            self.cut_sets.append(frozenset(s.tolist()))
            self.cut_cons.append(c)

    def solve(self) -> tuple[Dual, np.ndarray]:
        if not self.vars:
            return Dual(np.zeros(self.n, np.int64), np.zeros(0, np.int64), ()), np.zeros(0)
        self.solver.Solve()
        y = np.array([abs(c.dual_value()) for c in self.cons], dtype=np.float64)
        z = np.array([abs(c.dual_value()) for c in self.cut_cons], dtype=np.float64)
        x = np.array([v.solution_value() for v in self.vars], dtype=np.float64)
        y2 = np.maximum(np.rint(2.0 * y), 0).astype(np.int64)
        z2 = np.maximum(np.rint(2.0 * z), 0).astype(np.int64)
        return Dual(y2, z2, tuple(self.cuts)), x

    @property
    def edges(self) -> Edges:
        return np.array(self.a, dtype=np.int64), np.array(self.b, dtype=np.int64)


def exact_matching(edges: Edges, weights: list[int], drop: frozenset[int] = frozenset()) -> Edges:
    """Exact maximum-weight matching on ``edges`` (int weights, may be huge), ignoring ``drop``.

    Deterministic: rustworkx's blossom implementation is sequential and the
    edge order is the sorted order of ``edges``.
    """
    import rustworkx as rx

    a, b = edges
    g = rx.PyGraph(multigraph=False)
    nodes = np.unique(np.concatenate([a, b])) if len(a) else np.zeros(0, dtype=np.int64)
    index = {int(v): k for k, v in enumerate(nodes.tolist())}
    g.add_nodes_from(nodes.tolist())
    el = [
        (index[i], index[j], wt)
        for i, j, wt in zip(a.tolist(), b.tolist(), weights, strict=True)
        if wt > 0 and i not in drop and j not in drop
    ]
    g.extend_from_weighted_edge_list(el)
    mate = rx.max_weight_matching(g, max_cardinality=False, weight_fn=lambda x: x)
    pa = np.array([min(nodes[u], nodes[v]) for u, v in mate], dtype=np.int64)
    pb = np.array([max(nodes[u], nodes[v]) for u, v in mate], dtype=np.int64)
    order = np.lexsort((pb, pa))
    return pa[order], pb[order]
