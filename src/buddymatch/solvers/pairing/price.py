"""Reduced costs of every allowed pair under the blossom duals, read from the dense matrix.

The blossom engine only sees the candidate pairs.  These kernels check its
duals against *every* allowed pair of the view, so that the certificate
covers the whole allowed graph, and find the pairs a better answer could use.

Units: everything is doubled and integer.  A pair's value is
``c_ij = K + w_ij + pen_i + pen_j`` (``K`` is the people weight: 0 for
max-score), ``d`` are the engine's doubled person duals and ``Z_ij`` the sum
of the duals of the blossoms holding both ``i`` and ``j``.  The doubled
reduced cost ``r2_ij = d_i + d_j + 2 Z_ij - 2 c_ij`` is ``>= 0`` for every
allowed pair exactly when the duals are a certificate.

``Z_ij`` is found through the blossom tree: ``zcum[B]`` is the sum of the
duals of ``B`` and all blossoms holding it, so ``Z_ij = zcum[L]`` for the
smallest blossom ``L`` holding both.  Blossoms nest deeply (an odd pool's
proof is one blossom of everybody, built a pair at a time), so each row
``i`` first writes ``Z_ij`` for all ``j`` at once into ``zrow``, indexed by
the people's positions in a depth-first order of the blossom tree (every
blossom is a contiguous range of positions): one pass over the range of
``i``'s top-level blossom, whatever the depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from buddymatch.solvers.pairing import blossom as bl
from buddymatch.solvers.pairing.graph import Edges, gather_slots, in_row_tasks, keep_best


@dataclass(frozen=True)
class Tree:
    """Blossom tree of a solved state, as the kernels need it."""

    top: np.ndarray  # (n,) top-level blossom of each vertex (itself if none)
    parent: np.ndarray  # (2n,) parent blossom, -1 at the top
    zcum: np.ndarray  # (2n,) dual of a blossom plus those of all blossoms holding it
    d: np.ndarray  # (n,) doubled person duals
    pos: np.ndarray  # (n,) position of each person in depth-first order
    lo: np.ndarray  # (2n,) each blossom's (and person's) range of positions
    hi: np.ndarray


@nb.njit(cache=True)
def _tree_arrays(
    n: int, parent: np.ndarray, base: np.ndarray, dual: np.ndarray, coff: np.ndarray,
    clen: np.ndarray, cpool: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    zcum = np.zeros(2 * n, dtype=np.int64)
    lo = np.zeros(2 * n, dtype=np.int64)
    hi = np.zeros(2 * n, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    stack = np.empty(4 * n + 2, dtype=np.int64)  # (node, phase) pairs
    nxt = 0
    for root in range(2 * n):
        if parent[root] != -1 or (root >= n and base[root] < 0):
            continue
        stack[0], stack[1] = root, 0
        top = 1
        while top > 0:
            top -= 1
            x, phase = stack[2 * top], stack[2 * top + 1]
            if x < n:
                pos[x] = nxt
                lo[x], hi[x] = nxt, nxt + 1
                nxt += 1
                continue
            if phase == 1:
                hi[x] = nxt
                continue
            lo[x] = nxt
            zcum[x] = dual[x] + (zcum[parent[x]] if parent[x] != -1 else 0)
            stack[2 * top], stack[2 * top + 1] = x, 1
            top += 1
            for r in range(clen[x] - 1, -1, -1):
                stack[2 * top], stack[2 * top + 1] = cpool[coff[x] + r], 0
                top += 1
    return zcum, pos, lo, hi


def tree(s: bl.State) -> Tree:
    """The arrays the kernels read (copies: the state may change later)."""
    zc, pos, lo, hi = _tree_arrays(s.n, s.parent, s.base, s.dual, s.coff, s.clen, s.cpool)
    d = s.dual[: s.n].copy()
    d[~s.alive] = 0
    return Tree(s.inblossom.copy(), s.parent.copy(), zc, d, pos, lo, hi)


def flat_tree(d: np.ndarray) -> Tree:
    """A tree without blossoms: prices pairs against person duals ``d`` alone."""
    nv = len(d)
    none = np.full(2 * nv, -1, dtype=np.int64)
    lo = np.arange(2 * nv, dtype=np.int64)
    return Tree(
        np.arange(nv, dtype=np.int64), none, np.zeros(2 * nv, dtype=np.int64),
        np.asarray(d, dtype=np.int64), lo[:nv].copy(), lo, lo + 1,
    )  # fmt: skip


@nb.njit(cache=True, inline="always")
def fill_row(
    i: int, n: int, top: np.ndarray, parent: np.ndarray, zcum: np.ndarray, lo: np.ndarray,
    hi: np.ndarray, zrow: np.ndarray,
) -> None:  # fmt: skip
    """``zrow[pos[j]] = Z_ij`` for every ``j`` in ``i``'s top-level blossom."""
    if top[i] < n:
        return
    plo, phi = lo[i], hi[i]
    x = parent[i]
    while x != -1:
        for p in range(lo[x], plo):
            zrow[p] = zcum[x]
        for p in range(phi, hi[x]):
            zrow[p] = zcum[x]
        plo, phi = lo[x], hi[x]
        x = parent[x]


@nb.njit(cache=True, inline="always")
def z_of(i: int, j: int, top: np.ndarray, pos: np.ndarray, zrow: np.ndarray) -> int:
    """``Z_ij`` once ``fill_row`` ran for ``i`` (0 outside ``i``'s top-level blossom)."""
    if top[j] != top[i] or top[i] < len(pos):
        return 0
    return zrow[pos[j]]


@nb.njit(cache=True, nogil=True)
def _violation_rows(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, big: int, d: np.ndarray,
    top: np.ndarray, parent: np.ndarray, zcum: np.ndarray, pos: np.ndarray, lo: np.ndarray,
    hi: np.ndarray, per_row: int, first: int, step: int, slot: np.ndarray, kept: np.ndarray,
    worst: np.ndarray,
) -> None:  # fmt: skip
    """Rows ``first, first + step, ...``: pairs ``i < j`` with negative reduced cost, up to
    ``per_row`` worst per row into the row's slots, and each row's worst violation
    (``max(-r2, 0)`` over ``j > i``)."""
    n = w.shape[0]
    nv = len(top)  # the state's vertex count (blossom ids start there)
    zrow = np.zeros(nv, dtype=np.int64)
    best_v = np.empty(max(per_row, 1), dtype=np.int64)
    best_j = np.empty(max(per_row, 1), dtype=np.int64)
    thr = max(t_min, 0)
    for i in range(first, n, step):
        if not active[i]:
            continue
        filled = False
        m = 0
        base_i = d[i] - 2 * (big + pen[i])
        for j in range(i + 1, n):
            wij = w[i, j]
            if wij < thr or not active[j]:
                continue
            r2 = base_i + d[j] - 2 * (np.int64(wij) + pen[j])
            if r2 >= 0 or (top[j] == top[i] and r2 + 2 * zcum[top[i]] >= 0):
                continue  # Z_ij is at least the top-level blossom's dual
            if not filled:
                fill_row(i, nv, top, parent, zcum, lo, hi, zrow)
                filled = True
            r2 += 2 * z_of(i, j, top, pos, zrow)
            if r2 >= 0:
                continue
            worst[i] = max(worst[i], -r2)
            m = keep_best(best_v, best_j, m, per_row, -r2, j)
        kept[i] = m
        slot[i * per_row : i * per_row + m] = best_j[:m]


@nb.njit(cache=True)
def _small_reduced(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, big: int, d: np.ndarray,
    top: np.ndarray, parent: np.ndarray, zcum: np.ndarray, pos: np.ndarray, lo: np.ndarray,
    hi: np.ndarray, budget: int, per_row: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:  # fmt: skip
    """Pairs ``i < j`` with ``r2 - 2 Z_ij < 2 budget``: their ``r2`` and ``Z_ij``, and the most
    pairs any row had.

    ``r2 - 2 Z_ij`` is the reduced cost without the blossom duals; a pair in
    a triangle ``T`` whose bound beats the incumbent by ``budget`` passes
    this test, because ``Z_T <= Z_ij``.  Keeps the ``per_row`` pairs with the
    smallest such value per row; the list is complete when no row had more.
    """
    n = w.shape[0]
    nv = len(top)  # the state's vertex count (blossom ids start there)
    zrow = np.zeros(nv, dtype=np.int64)
    out_a = np.empty(n * per_row, dtype=np.int64)
    out_b = np.empty(n * per_row, dtype=np.int64)
    out_r = np.empty(n * per_row, dtype=np.int64)
    out_z = np.empty(n * per_row, dtype=np.int64)
    best_v = np.empty(max(per_row, 1), dtype=np.int64)
    best_j = np.empty(max(per_row, 1), dtype=np.int64)
    cnt = 0
    most = 0
    thr = max(t_min, 0)
    for i in range(n):
        if not active[i]:
            continue
        m = 0
        seen = 0
        base_i = d[i] - 2 * (big + pen[i])
        for j in range(i + 1, n):
            wij = w[i, j]
            if wij < thr or not active[j]:
                continue
            rr = base_i + d[j] - 2 * (np.int64(wij) + pen[j])
            if rr >= 2 * budget:
                continue
            seen += 1
            m = keep_best(best_v, best_j, m, per_row, -rr, j)
        most = max(most, seen)
        if m:
            fill_row(i, nv, top, parent, zcum, lo, hi, zrow)
        for q in range(m):
            j = best_j[q]
            out_a[cnt] = i
            out_b[cnt] = j
            out_z[cnt] = z_of(i, j, top, pos, zrow)
            out_r[cnt] = -best_v[q] + 2 * out_z[cnt]
            cnt += 1
    return out_a[:cnt], out_b[:cnt], out_r[:cnt], out_z[:cnt], most


@nb.njit(cache=True)
def _row_min_slack(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, big: int, d: np.ndarray,
    top: np.ndarray, parent: np.ndarray, zcum: np.ndarray, pos: np.ndarray, lo: np.ndarray,
    hi: np.ndarray, cptr: np.ndarray, cidx: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Each row's least ``r2`` over allowed pairs that are *not* candidate pairs.

    ``cidx[cptr[i]:cptr[i + 1]]`` are ``i``'s candidate partners, sorted.
    """
    n = w.shape[0]
    nv = len(top)  # the state's vertex count (blossom ids start there)
    zrow = np.zeros(nv, dtype=np.int64)
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    thr = max(t_min, 0)
    for i in range(n):
        if not active[i]:
            continue
        filled = False
        q = cptr[i]
        base_i = d[i] - 2 * (big + pen[i])
        for j in range(n):
            while q < cptr[i + 1] and cidx[q] < j:
                q += 1
            if j == i or (q < cptr[i + 1] and cidx[q] == j):
                continue
            wij = w[i, j]
            if wij < thr or not active[j]:
                continue
            r2 = base_i + d[j] - 2 * (np.int64(wij) + pen[j])
            if r2 >= out[i] or (top[j] == top[i] and r2 + 2 * zcum[top[i]] >= out[i]):
                continue
            if not filled:
                fill_row(i, nv, top, parent, zcum, lo, hi, zrow)
                filled = True
            r2 += 2 * z_of(i, j, top, pos, zrow)
            out[i] = min(out[i], r2)
    return out


@nb.njit(cache=True)
def _row_violations(
    w: np.ndarray, active: np.ndarray, pen: np.ndarray, t_min: int, big: int, d: np.ndarray,
    top: np.ndarray, parent: np.ndarray, zcum: np.ndarray, pos: np.ndarray, lo: np.ndarray,
    hi: np.ndarray, rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Every pair with negative reduced cost that has an end in ``rows``."""
    n = w.shape[0]
    nv = len(top)  # the state's vertex count (blossom ids start there)
    zrow = np.zeros(nv, dtype=np.int64)
    out_a = []
    out_b = []
    thr = max(t_min, 0)
    for i in rows:
        if not active[i]:
            continue
        filled = False
        base_i = d[i] - 2 * (big + pen[i])
        for j in range(n):
            wij = w[i, j]
            if j == i or wij < thr or not active[j]:
                continue
            r2 = base_i + d[j] - 2 * (np.int64(wij) + pen[j])
            if r2 >= 0 or (top[j] == top[i] and r2 + 2 * zcum[top[i]] >= 0):
                continue
            if not filled:
                fill_row(i, nv, top, parent, zcum, lo, hi, zrow)
                filled = True
            if r2 + 2 * z_of(i, j, top, pos, zrow) < 0:
                out_a.append(min(i, j))
                out_b.append(max(i, j))
    return np.array(out_a, dtype=np.int64), np.array(out_b, dtype=np.int64)


@dataclass(frozen=True)
class Pricer:
    """The dense view a solve prices against: weights, who is in, bonuses, threshold, ``K``."""

    w: np.ndarray
    active: np.ndarray
    pen: np.ndarray
    t_min: int
    big: int

    def violations(self, t: Tree, per_row: int) -> tuple[Edges, np.ndarray]:
        """Up to ``per_row`` violated pairs per row, and each row's worst violation."""
        n = self.w.shape[0]
        slot = np.empty(n * per_row, dtype=np.int64)
        kept = np.zeros(n, dtype=np.int64)
        worst = np.zeros(n, dtype=np.int64)

        def rows(first: int, step: int) -> None:
            _violation_rows(
                self.w, self.active, self.pen, self.t_min, self.big, t.d, t.top, t.parent,
                t.zcum, t.pos, t.lo, t.hi, per_row, first, step, slot, kept, worst,
            )  # fmt: skip

        in_row_tasks(rows, n)
        return gather_slots(slot, kept, per_row), worst

    def small_reduced(
        self, t: Tree, budget: int, per_row: int
    ) -> tuple[Edges, np.ndarray, np.ndarray, int]:
        """Pairs that may sit in a trio beating the incumbent by ``budget`` (see the kernel),
        and the most pairs one row had (the list is complete when that is ``<= per_row``)."""
        a, b, r, z, most = _small_reduced(
            self.w, self.active, self.pen, self.t_min, self.big, t.d, t.top, t.parent,
            t.zcum, t.pos, t.lo, t.hi, budget, per_row,
        )  # fmt: skip
        return (a, b), r, z, int(most)

    def row_min_slack(self, t: Tree, cand: Edges) -> np.ndarray:
        n = self.w.shape[0]
        a = np.concatenate([cand[0], cand[1]])
        b = np.concatenate([cand[1], cand[0]])
        order = np.lexsort((b, a))
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(ptr, a + 1, 1)
        return _row_min_slack(
            self.w, self.active, self.pen, self.t_min, self.big, t.d, t.top, t.parent,
            t.zcum, t.pos, t.lo, t.hi, np.cumsum(ptr), b[order],
        )  # fmt: skip

    def row_violations(self, t: Tree, rows: np.ndarray) -> Edges:
        return _row_violations(
            self.w, self.active, self.pen, self.t_min, self.big, t.d, t.top, t.parent,
            t.zcum, t.pos, t.lo, t.hi, np.asarray(rows, dtype=np.int64),
        )  # fmt: skip

    def values(self, edges: Edges) -> np.ndarray:
        """``c`` of each pair (int64)."""
        a, b = edges
        return self.w[a, b].astype(np.int64) + self.pen[a] + self.pen[b] + self.big


@dataclass(frozen=True)
class Certificate:
    """Dual proof that no set of disjoint allowed pairs is worth more than :attr:`bound2` / 2.

    A pair's worth is ``c_ij = people_weight + w_ij + pen_i + pen_j`` over the
    pairs the solve could use (both people in ``active``, ``w_ij >= t_min``
    and not NOT_ALLOWED).  The odd sets form a laminar family, stored as a
    tree: ``person_set[i]`` is the smallest set holding ``i`` (-1 if none) and
    ``set_parent[k]`` the smallest set strictly holding set ``k``.  For every
    such pair ``y2_i + y2_j + sum(z2_k : i, j in set k) >= 2 c_ij``, all
    ``y2`` and ``z2`` are ``>= 0`` and every set has an odd ``set_size``, so
    any set of disjoint pairs is worth at most
    ``(sum(y2) + sum(z2_k * (set_size_k - 1) / 2)) / 2``.  With
    ``people_weight`` larger than any possible total of the other terms, this
    also bounds how many people any set of pairs can place.
    """

    people_weight: int
    pen: np.ndarray
    active: np.ndarray
    t_min: int
    y2: np.ndarray
    person_set: np.ndarray
    set_parent: np.ndarray
    set_size: np.ndarray
    z2: np.ndarray

    @property
    def bound2(self) -> int:
        return int(self.y2.sum()) + int((self.z2 * ((self.set_size - 1) // 2)).sum())


def certificate(s: bl.State, pricer: Pricer) -> Certificate:
    """The state's duals as a :class:`Certificate` (blossoms with zero dual left out)."""
    found = bl.blossoms(s)
    n = len(pricer.active)
    y2 = s.dual[:n].astype(np.int64).copy()
    y2[~s.alive[:n]] = 0
    keep = found.z > 0
    if not keep.any():
        none = np.zeros(0, dtype=np.int64)
        return Certificate(
            pricer.big, pricer.pen, pricer.active, pricer.t_min, y2,
            np.full(n, -1, dtype=np.int64), none, none, none,
        )  # fmt: skip
    new_id = np.full(len(keep), -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    # Each blossom's nearest kept ancestor-or-self (parents come after children in no
    # fixed order, so follow the tree until a kept one or the top).
    near = np.where(keep, np.arange(len(keep)), found.parent)
    while True:
        nxt = np.where(
            (near >= 0) & ~keep[np.maximum(near, 0)], found.parent[np.maximum(near, 0)], near
        )
        if np.array_equal(nxt, near):
            break
        near = nxt
    kept_of = np.where(near >= 0, new_id[np.maximum(near, 0)], -1)
    par = found.parent[keep]
    set_parent = np.where(par >= 0, kept_of[np.maximum(par, 0)], -1)
    inner = found.innermost[:n]
    person_set = np.where(inner >= 0, kept_of[np.maximum(inner, 0)], -1)
    return Certificate(
        pricer.big, pricer.pen, pricer.active, pricer.t_min, y2, person_set, set_parent,
        found.size[keep].astype(np.int64), 2 * found.z[keep].astype(np.int64),
    )  # fmt: skip
