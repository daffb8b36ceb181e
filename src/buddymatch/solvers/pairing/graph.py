"""Candidate pairs for one-pool pairing, read from the dense weight matrix in place.

The dense matrix is never copied: every scan reads it with the per-call view
given by ``active`` (people still in the pool), ``t_min`` (pairs lighter than
this are treated as not allowed; used by the ``fair`` objective) and ``pen``
(an additive per-person bonus, so that a pair's value is
``w_ij + pen_i + pen_j``).  Edge lists are sorted, duplicate-free ``(a, b)``
arrays with ``a < b``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

Edges = tuple[np.ndarray, np.ndarray]
TASKS = 64
"""Row tasks of a parallel scan (spread over numba's threads)."""


@nb.njit(cache=True, inline="always")
def keep_best(
    best_v: np.ndarray, best_j: np.ndarray, m: int, cap: int, v: int, j: int
) -> int:  # fmt: skip
    """Insert ``(v, j)`` into the descending top-``cap`` list of length ``m``; new length."""
    if cap == 0:
        return 0
    if m < cap:
        p = m
        m += 1
    elif v > best_v[m - 1]:
        p = m - 1
    else:
        return m
    while p > 0 and best_v[p - 1] < v:
        best_v[p] = best_v[p - 1]
        best_j[p] = best_j[p - 1]
        p -= 1
    best_v[p] = v
    best_j[p] = j
    return m


@nb.njit(cache=True, parallel=True)
def _top_k_kernel(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each active row's ``k`` best partners; rows run in parallel tasks (``c, c + TASKS, ...``),
    each writing its own slots, so the answer does not depend on the number of threads."""
    n = w.shape[0]
    slot = np.empty(n * k, dtype=np.int64)
    kept = np.zeros(n, dtype=np.int64)
    for c in nb.prange(TASKS):
        best_v = np.empty(k, dtype=np.int64)
        best_j = np.empty(k, dtype=np.int64)
        for i in range(c, n, TASKS):
            if not active[i]:
                continue
            m = 0
            for j in range(n):
                if j == i or not active[j]:
                    continue
                wij = w[i, j]
                if wij < 0 or wij < t_min:
                    continue
                m = keep_best(best_v, best_j, m, k, np.int64(wij) + pen[i] + pen[j], j)
            kept[i] = m
            for q in range(m):
                slot[i * k + q] = best_j[q]
    out_a = np.empty(int(kept.sum()), dtype=np.int64)
    out_b = np.empty(len(out_a), dtype=np.int64)
    cnt = 0
    for i in range(n):
        for q in range(kept[i]):
            out_a[cnt] = i
            out_b[cnt] = slot[i * k + q]
            cnt += 1
    return out_a, out_b


def normalise_edges(a: np.ndarray, b: np.ndarray, n: int) -> Edges:
    """Sorted unique undirected edges with ``a < b``."""
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    key = np.unique(lo * max(n, 1) + hi)
    return key // max(n, 1), key % max(n, 1)


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
