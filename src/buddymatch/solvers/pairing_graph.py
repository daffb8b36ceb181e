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

import numba as nb
import numpy as np
from ortools.linear_solver import pywraplp

Edges = tuple[np.ndarray, np.ndarray]


@nb.njit(cache=True)
def _top_k_kernel(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    n = w.shape[0]
    out_a = np.empty(n * k, dtype=np.int64)
    out_b = np.empty(n * k, dtype=np.int64)
    cnt = 0
    best_v = np.empty(k, dtype=np.int64)
    best_j = np.empty(k, dtype=np.int64)
    for i in range(n):
        if not active[i]:
            continue
        m = 0
        for j in range(n):
            if j == i or not active[j]:
                continue
            wij = w[i, j]
            if wij < 0 or wij < t_min:
                continue
            v = np.int64(wij) + pen[i] + pen[j]
            if m < k:
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
    return out_a[:cnt], out_b[:cnt]


@nb.njit(cache=True)
def _violation_kernel(
    w: np.ndarray,
    active: np.ndarray,
    pen: np.ndarray,
    t_min: int,
    y2: np.ndarray,
    per_row: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, up to ``per_row`` pairs with the largest positive 2w' - y2_i - y2_j."""
    n = w.shape[0]
    out_a = np.empty(n * per_row, dtype=np.int64)
    out_b = np.empty(n * per_row, dtype=np.int64)
    worst = np.zeros(n, dtype=np.int64)
    cnt = 0
    best_v = np.empty(per_row, dtype=np.int64)
    best_j = np.empty(per_row, dtype=np.int64)
    for i in range(n):
        if not active[i]:
            continue
        m = 0
        for j in range(n):
            if j == i or not active[j]:
                continue
            wij = w[i, j]
            if wij < 0 or wij < t_min:
                continue
            v = 2 * (np.int64(wij) + pen[i] + pen[j]) - y2[i] - y2[j]
            if v <= 0:
                continue
            if v > worst[i]:
                worst[i] = v
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
    return out_a[:cnt], out_b[:cnt], worst


def normalise_edges(a: np.ndarray, b: np.ndarray, n: int) -> Edges:
    """Sorted unique undirected edges with ``a < b``."""
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    key = np.unique(lo * max(n, 1) + hi)
    return key // max(n, 1), key % max(n, 1)


def union_edges(e1: Edges, e2: Edges, n: int) -> Edges:
    """Union of two edge sets, normalised."""
    return normalise_edges(np.concatenate([e1[0], e2[0]]), np.concatenate([e1[1], e2[1]]), n)


def all_edges(w: np.ndarray, active: np.ndarray, t_min: int) -> Edges:
    """Every allowed active pair (for small pools, where the full graph is cheap)."""
    iu, ju = np.triu_indices(w.shape[0], k=1)
    keep = (w[iu, ju] >= max(t_min, 0)) & active[iu] & active[ju]
    return iu[keep].astype(np.int64), ju[keep].astype(np.int64)


def count_allowed(w: np.ndarray, active: np.ndarray, t_min: int) -> int:
    """Number of allowed active pairs (counted in row blocks, no full copy)."""
    total = 0
    n = w.shape[0]
    step = max(1, 4_000_000 // max(n, 1))
    for s in range(0, n, step):
        blk = w[s : s + step]
        ok = (blk >= max(t_min, 0)) & active[None, :] & active[s : s + step, None]
        total += int(ok.sum())
    return total // 2  # the diagonal is NOT_ALLOWED by contract


def top_k_edges(w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, k: int) -> Edges:
    """Each active person's ``k`` best allowed partners (by ``w'``), as undirected edges."""
    a, b = _top_k_kernel(w, active, pen, int(t_min), int(k))
    return normalise_edges(a, b, w.shape[0])


def edge_values(w: np.ndarray, pen: np.ndarray, edges: Edges) -> np.ndarray:
    """``w'`` for each edge (int64)."""
    a, b = edges
    return w[a, b].astype(np.int64) + pen[a] + pen[b]


def violating_edges(
    w: np.ndarray,
    active: np.ndarray,
    pen: np.ndarray,
    t_min: int,
    y2: np.ndarray,
    per_row: int = 4,
) -> tuple[Edges, np.ndarray]:
    """Pairs whose doubled dual constraint is violated (a few per row) and each row's worst."""
    a, b, worst = _violation_kernel(w, active, pen, int(t_min), y2, int(per_row))
    return normalise_edges(a, b, w.shape[0]), worst


def repair_dual(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, y2: np.ndarray
) -> np.ndarray:
    """Raise ``y2`` just enough to be feasible on the whole (active, thresholded) graph."""
    _, _, worst = _violation_kernel(w, active, pen, int(t_min), y2, 0)
    return y2 + worst


def lp_dual(n: int, edges: Edges, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractional matching LP on ``edges``: doubled duals ``y2`` and primal ``x``.

    max sum v_e x_e, sum_{e ni i} x_e <= 1, x >= 0.  Solved with GLOP (primal
    simplex vertex, so ``x`` is half-integral up to tolerance).  ``y2`` is
    ``round(2 * y)`` clipped at 0: it may be slightly infeasible; callers
    repair it before using it as a certificate.
    """
    a, b = edges
    y2 = np.zeros(n, dtype=np.int64)
    x = np.zeros(len(a), dtype=np.float64)
    if len(a) == 0:
        return y2, x
    solver = pywraplp.Solver.CreateSolver("GLOP")
    inf = solver.infinity()
    cons = [solver.Constraint(-inf, 1.0) for _ in range(n)]
    xs = [solver.NumVar(0.0, inf, "") for _ in range(len(a))]
    obj = solver.Objective()
    for e, (i, j, v) in enumerate(zip(a.tolist(), b.tolist(), values.tolist(), strict=True)):
        var = xs[e]
        cons[i].SetCoefficient(var, 1.0)
        cons[j].SetCoefficient(var, 1.0)
        obj.SetCoefficient(var, float(v))
    obj.SetMaximization()
    solver.Solve()
    y = np.array([abs(c.dual_value()) for c in cons], dtype=np.float64)
    x = np.array([v.solution_value() for v in xs], dtype=np.float64)
    y2 = np.maximum(np.rint(2.0 * y), 0).astype(np.int64)
    return y2, x


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
