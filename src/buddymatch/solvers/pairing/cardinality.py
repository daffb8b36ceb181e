"""Maximum-cardinality matching on "pairs with weight >= t" (the fair objective's checks).

Edmonds' augmenting-path search with blossom shrinking (breadth first, the
classic base / parent / lowest-common-ancestor formulation), started from a
given matching.  A search that fails from a free person leaves a *Hungarian
tree*: no later augmentation can pass through it, so its people are dropped
for the rest of the call (Edmonds 1965); each edge is then scanned by a
failing search at most once.

What callers may rely on: :func:`max_matching` returns a maximum matching of
the threshold graph (every pair in it allowed, both people active, weight
``>= t``), grown from ``mate`` restricted to that graph.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _threshold_graph(
    w: np.ndarray, active: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """CSR adjacency of pairs with ``w_ij >= t`` between active people (two passes, no copy)."""
    n = w.shape[0]
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        if active[i]:
            c = 0
            for j in range(n):
                if w[i, j] >= t and j != i and active[j]:
                    c += 1
            ptr[i + 1] = c
    ptr = np.cumsum(ptr)
    adj = np.empty(ptr[n], dtype=np.int64)
    for i in range(n):
        if active[i]:
            q = ptr[i]
            for j in range(n):
                if w[i, j] >= t and j != i and active[j]:
                    adj[q] = j
                    q += 1
    return ptr, adj


@nb.njit(cache=True)
def _lca(a: int, b: int, base: np.ndarray, mate: np.ndarray, par: np.ndarray,
         mark: np.ndarray, stamp: int) -> int:  # fmt: skip
    while True:
        a = base[a]
        mark[a] = stamp
        if mate[a] == -1:
            break
        a = par[mate[a]]
    while True:
        b = base[b]
        if mark[b] == stamp:
            return b
        b = par[mate[b]]


@nb.njit(cache=True)
def _mark_path(v: int, b: int, child: int, base: np.ndarray, mate: np.ndarray,
               par: np.ndarray, inb: np.ndarray) -> None:  # fmt: skip
    while base[v] != b:
        inb[base[v]] = True
        inb[base[mate[v]]] = True
        par[v] = child
        child = mate[v]
        v = par[mate[v]]


@nb.njit(cache=True)
def _search(root: int, ptr: np.ndarray, adj: np.ndarray, mate: np.ndarray, dead: np.ndarray,
            ws: np.ndarray, lca_calls: np.ndarray) -> tuple[int, int]:  # fmt: skip
    """BFS from free ``root``: (free vertex ending an augmenting path or -1, tree size).

    ``ws`` rows: 0 base, 1 parent, 2 even ("used"), 3 in-blossom, 4 LCA marks,
    5 the queue of even vertices, 6 every vertex the search reached.
    """
    base, par, used, inb, mark = ws[0], ws[1], ws[2], ws[3], ws[4]
    queue, tree = ws[5], ws[6]
    nq = nt = head = 0
    used[root] = 1
    queue[nq] = root
    nq += 1
    tree[nt] = root
    nt += 1
    while head < nq:
        v = queue[head]
        head += 1
        for q in range(ptr[v], ptr[v + 1]):
            u = adj[q]
            if dead[u] or base[v] == base[u] or mate[v] == u:
                continue
            if u == root or (mate[u] != -1 and par[mate[u]] != -1):
                lca_calls[0] += 1
                cur = _lca(v, u, base, mate, par, mark, lca_calls[0])
                _mark_path(v, cur, u, base, mate, par, inb)
                _mark_path(u, cur, v, base, mate, par, inb)
                for r in range(nt):
                    x = tree[r]
                    if inb[base[x]]:
                        base[x] = cur
                        if not used[x]:
                            used[x] = 1
                            queue[nq] = x
                            nq += 1
                for r in range(nt):
                    inb[tree[r]] = 0
            elif par[u] == -1:
                par[u] = v
                if mate[u] == -1:
                    return u, nt
                tree[nt] = u
                nt += 1
                m = mate[u]
                used[m] = 1
                queue[nq] = m
                nq += 1
                tree[nt] = m
                nt += 1
    return -1, nt


@nb.njit(cache=True)
def _grow(ptr: np.ndarray, adj: np.ndarray, mate: np.ndarray) -> int:  # noqa: C901 - numba kernel
    """Augment ``mate`` to a maximum matching; returns its size."""
    n = len(mate)
    ws = np.zeros((7, n + 1), dtype=np.int64)
    for v in range(n):
        ws[0, v] = v
        ws[1, v] = -1
    dead = np.zeros(n, dtype=np.bool_)
    lca_calls = np.zeros(1, dtype=np.int64)
    for v in range(n):  # greedy first: cheap and usually most of the matching
        if mate[v] == -1:
            for q in range(ptr[v], ptr[v + 1]):
                u = adj[q]
                if mate[u] == -1:
                    mate[u], mate[v] = v, u
                    break
    for root in range(n):
        if mate[root] != -1 or dead[root] or ptr[root] == ptr[root + 1]:
            continue
        end, nt = _search(root, ptr, adj, mate, dead, ws, lca_calls)
        tree = ws[6]
        if end == -1:  # a Hungarian tree: no augmenting path will ever cross it
            for r in range(nt):
                dead[tree[r]] = True
        else:
            u = end
            while u != -1:
                pv = ws[1, u]
                ppv = mate[pv]
                mate[u] = pv
                mate[pv] = u
                u = ppv
        for r in range(nt):  # reset the rows the search used
            x = tree[r]
            ws[0, x], ws[1, x], ws[2, x], ws[3, x] = x, -1, 0, 0
        if end != -1:
            ws[0, end], ws[1, end], ws[2, end], ws[3, end] = end, -1, 0, 0
    size = 0
    for v in range(n):
        if mate[v] > v:
            size += 1
    return size


def max_matching(
    w: np.ndarray, active: np.ndarray, t: int, mate: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """A maximum matching of the pairs with ``w >= max(t, 0)`` (``mate`` array, size).

    ``mate`` (optional) is a starting matching; pairs in it below the
    threshold are dropped first.  Deterministic.
    """
    n = w.shape[0]
    thr = max(int(t), 0)
    ptr, adj = _threshold_graph(w, active, thr)
    start = np.full(n, -1, dtype=np.int64) if mate is None else mate.copy()
    if mate is not None:
        has = start >= 0
        i = np.flatnonzero(has)
        bad = (w[i, start[i]] < thr) | ~active[i] | ~active[start[i]]
        start[start[i[bad]]] = -1
        start[i[bad]] = -1
    size = _grow(ptr, adj, start)
    return start, int(size)
