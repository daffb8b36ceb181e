"""Candidate pairs for one-pool pairing, read from the dense weight matrix in place.

The dense matrix is never copied: every scan reads it with the per-call view
given by ``active`` (people still in the pool), ``t_min`` (pairs lighter than
this are treated as not allowed; used by the ``fair`` objective) and ``pen``
(an additive per-person bonus, so that a pair's value is
``w_ij + pen_i + pen_j``).  Edge lists are sorted, duplicate-free ``(a, b)``
arrays with ``a < b``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

Edges = tuple[np.ndarray, np.ndarray]
TASKS = 16
"""Interleaved row sets of a scan over the dense matrix (run in threads)."""
MIN_PARALLEL_ROWS = 512
"""Smaller matrices are scanned in the calling thread."""


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


@nb.njit(cache=True, nogil=True)
def _top_k_rows(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, k: int, first: int,
    step: int, slot: np.ndarray, kept: np.ndarray,
) -> None:  # fmt: skip
    """Rows ``first, first + step, ...``: each active row's ``k`` best partners into its slots."""
    n = w.shape[0]
    best_v = np.empty(k, dtype=np.int64)
    best_j = np.empty(k, dtype=np.int64)
    for i in range(first, n, step):
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
        slot[i * k : i * k + m] = best_j[:m]


def in_row_tasks(task: Callable[[int, int], None], n_rows: int) -> None:
    """Run ``task(first, step)`` over interleaved row sets in threads.

    The kernels release the GIL (``nogil``) and each row writes only its own
    slots, so the answer does not depend on how many threads ran.  Rows
    ``first, first + step, ...`` mix the long and short rows of a triangle.
    No numba threading layer is involved: safe in threads and forked processes.
    """
    tasks = min(TASKS, max(n_rows, 1))
    workers = min(tasks, os.cpu_count() or 1)
    if workers <= 1 or n_rows < MIN_PARALLEL_ROWS:
        task(0, 1)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done in [pool.submit(task, c, tasks) for c in range(tasks)]:
            done.result()


def gather_slots(slot: np.ndarray, kept: np.ndarray, width: int) -> Edges:
    """``(row, slot value)`` for each row's first ``kept`` of its ``width`` slots, by row."""
    rows = np.repeat(np.arange(len(kept), dtype=np.int64), kept)
    offset = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(kept) - kept, kept)
    return rows, slot[rows * width + offset]


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
    n = w.shape[0]
    slot = np.empty(n * k, dtype=np.int64)
    kept = np.zeros(n, dtype=np.int64)
    in_row_tasks(
        lambda first, step: _top_k_rows(
            w, active, pen, int(t_min), int(k), first, step, slot, kept
        ),
        n,
    )
    a, b = gather_slots(slot, kept, k)
    return normalise_edges(a, b, n)
