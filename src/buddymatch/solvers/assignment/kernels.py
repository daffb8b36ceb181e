"""Numba kernels over a :class:`~buddymatch.weights.PairWeights` pair space.

One kernel, :func:`scan`, does every pass the flow solver makes over *all*
allowed pairs — candidate generation (top-k per row), pricing (the arcs with
negative reduced cost, the certificate), the slack sum of a dual bound,
capped degree counts and, on small problems, listing every arc — without ever
building rows × columns of anything.

How it avoids rows × columns work: rows are grouped (same score class and same
rule group: the same weight to every column class), columns are put in
*buckets* (same score class and rule group), and within a bucket the columns
are sorted by their key (a price), highest first.  For a group of rows the
kernel computes, per compatible bucket, an upper bound on the gain of any pair
in it (class weight + the bucket's best key); buckets are then visited best
bound first through a heap, and each bucket's columns in key order, so a row
stops as soon as no remaining pair can beat what it needs.  Pairs that the
class-level bound lets through are checked one by one (code rules, blocked
pairs, pairs with their own weight, pairs already known) — the exact definition of
:class:`PairWeights` — so nothing is skipped that could qualify.

All passes are deterministic: groups in order, buckets by (bound desc, index),
columns by (key desc, index).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from buddymatch.weights import PairWeights

FAR = 1 << 52
"""A threshold below every gain (used to rank every allowed pair)."""


@dataclass(frozen=True)
class Space:
    """The grouping of a pair space for :func:`scan` (built once per solve)."""

    weights: PairWeights
    eg_ptr: np.ndarray  # row groups: rows eg_rows[eg_ptr[g]:eg_ptr[g + 1]]
    eg_rows: np.ndarray
    eg_class: np.ndarray
    eg_group: np.ndarray
    b_ptr: np.ndarray  # buckets: columns b_base[b_ptr[b]:b_ptr[b + 1]]
    b_base: np.ndarray
    b_class: np.ndarray
    b_of_col: np.ndarray  # bucket of each column (-1: not a column of any arc)
    cg_ptr: np.ndarray  # buckets of column group k: cg_ptr[k]:cg_ptr[k + 1]
    rg_ptr: np.ndarray  # column groups compatible with row group g
    rg_cols: np.ndarray

    @classmethod
    def build(cls, weights: PairWeights, rows_ok: np.ndarray, cols_ok: np.ndarray) -> Space:
        n_rg, n_cg = weights.group_allowed.shape
        rows = np.flatnonzero(rows_ok).astype(np.int64)
        r_key = weights.row_class[rows].astype(np.int64) * n_rg + weights.row_group[rows]
        order = np.lexsort((rows, r_key))
        rows, r_key = rows[order], r_key[order]
        starts = _starts(r_key)
        cols = np.flatnonzero(cols_ok).astype(np.int64)
        c_group = weights.col_group[cols].astype(np.int64)
        c_key = c_group * (int(weights.class_weights.shape[1]) + 1) + weights.col_class[cols]
        order = np.lexsort((cols, c_key))
        cols, c_key = cols[order], c_key[order]
        b_starts = _starts(c_key)
        b_first = cols[b_starts[:-1]]
        b_group = weights.col_group[b_first].astype(np.int64)
        of_col = np.full(weights.shape[1], -1, np.int64)
        of_col[cols] = np.repeat(np.arange(len(b_first)), np.diff(b_starts))
        compat_r, compat_c = np.nonzero(weights.group_allowed)
        return cls(
            weights=weights,
            eg_ptr=starts,
            eg_rows=rows,
            eg_class=weights.row_class[rows[starts[:-1]]].astype(np.int64),
            eg_group=weights.row_group[rows[starts[:-1]]].astype(np.int64),
            b_ptr=b_starts,
            b_base=cols,
            b_class=weights.col_class[b_first].astype(np.int64),
            b_of_col=of_col,
            cg_ptr=np.searchsorted(b_group, np.arange(n_cg + 1)).astype(np.int64),
            rg_ptr=np.searchsorted(compat_r, np.arange(n_rg + 1)).astype(np.int64),
            rg_cols=compat_c.astype(np.int64),
        )

    def ordered(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bucket members sorted by ``key`` (highest first, ties by index), and each
        bucket's best key."""
        cols = self.b_base
        bucket = self.b_of_col[cols]
        order = np.lexsort((cols, -key[cols], bucket))
        members = cols[order]
        top = key[members[self.b_ptr[:-1]]] if members.size else np.empty(0, np.int64)
        return members, top.astype(np.int64)


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Start of each run of equal values, and the end."""
    if sorted_keys.size == 0:
        return np.zeros(1, np.int64)
    change = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    return np.concatenate([[0], change, [sorted_keys.size]]).astype(np.int64)


@dataclass(frozen=True)
class Faces:
    """Earlier lexicographic levels a pair must be tight for (reduced cost 0).

    A pair (i, j) is in the face when, for every level l,
    ``factor[l] * w + key[l, j] − thr[l, i] == 0``.
    """

    thr: np.ndarray  # (F, n_rows) int64
    key: np.ndarray  # (F, n_cols) int64
    factor: np.ndarray  # (F,) int64

    @classmethod
    def none(cls, n_rows: int, n_cols: int) -> Faces:
        return cls(
            np.zeros((0, n_rows), np.int64), np.zeros((0, n_cols), np.int64), np.zeros(0, np.int64)
        )


@dataclass(frozen=True)
class ScanResult:
    rows: np.ndarray
    cols: np.ndarray
    found: int  # pairs that qualified (the listed ones, or all in sum mode)
    gain_sum: int  # sum of the gains of every qualifying pair (sum mode)


def scan(
    space: Space,
    *,
    thr: np.ndarray,
    key: np.ndarray,
    factor: int,
    min_weight: int,
    limit: np.ndarray,
    known_ptr: np.ndarray,
    known_cols: np.ndarray,
    faces: Faces | None = None,
    sum_mode: bool = False,
) -> ScanResult:
    """Pairs with ``gain = factor * w + key[j] − thr[i] > 0`` over every allowed pair.

    A pair qualifies when ``w >= min_weight`` (w its weight, overrides
    applied), it is not listed in ``known`` (per-row sorted columns: arcs
    already in the network, locked pairs) and it is tight for every face.
    Returns up to ``limit[i]`` pairs of each row, the highest gains first; in
    ``sum_mode`` nothing is listed and the gains of *every* qualifying pair are
    summed (a dual bound's slack).
    """
    w = space.weights
    members, top = space.ordered(key)
    f = faces if faces is not None else Faces.none(*w.shape)
    rows, cols, found, total = _scan(
        space.eg_ptr,
        space.eg_rows,
        space.eg_class,
        space.eg_group,
        space.b_ptr,
        members,
        space.b_class,
        top,
        space.cg_ptr,
        space.rg_ptr,
        space.rg_cols,
        w.class_weights,
        w.row_codes,
        w.col_codes,
        w.code_same,
        w.blocked_ptr,
        w.blocked_cols,
        w.override_ptr,
        w.override_cols,
        w.override_values,
        space.b_of_col,
        w.col_class,
        w.col_group,
        w.group_allowed,
        known_ptr,
        known_cols,
        thr.astype(np.int64),
        key.astype(np.int64),
        int(factor),
        int(min_weight),
        f.thr,
        f.key,
        f.factor,
        limit.astype(np.int64),
        sum_mode,
    )
    return ScanResult(rows, cols, int(found), int(total))


@numba.njit(cache=True, inline="always")
def _better(ub: np.ndarray, ids: np.ndarray, a: int, b: int) -> bool:
    """Bucket heap order: larger bound first, then smaller bucket index."""
    return ub[a] > ub[b] or (ub[a] == ub[b] and ids[a] < ids[b])


@numba.njit(cache=True)
def _sift_down(ub: np.ndarray, ids: np.ndarray, ws: np.ndarray, size: int, k: int) -> None:
    while True:
        best = k
        left = 2 * k + 1
        right = left + 1
        if left < size and _better(ub, ids, left, best):
            best = left
        if right < size and _better(ub, ids, right, best):
            best = right
        if best == k:
            return
        ub[k], ub[best] = ub[best], ub[k]
        ids[k], ids[best] = ids[best], ids[k]
        ws[k], ws[best] = ws[best], ws[k]
        k = best


@numba.njit(cache=True)
def _row_push(gains: np.ndarray, cols: np.ndarray, size: int, cap: int, g: int, c: int) -> int:
    """Keep the ``cap`` largest gains in a min-heap; returns the new size."""
    if size < cap:
        k = size
        gains[k] = g
        cols[k] = c
        while k > 0:
            parent = (k - 1) // 2
            if gains[parent] <= gains[k]:
                break
            gains[k], gains[parent] = gains[parent], gains[k]
            cols[k], cols[parent] = cols[parent], cols[k]
            k = parent
        return size + 1
    if g <= gains[0]:
        return size
    gains[0] = g
    cols[0] = c
    k = 0
    while True:
        small = k
        left = 2 * k + 1
        right = left + 1
        if left < size and gains[left] < gains[small]:
            small = left
        if right < size and gains[right] < gains[small]:
            small = right
        if small == k:
            return size
        gains[k], gains[small] = gains[small], gains[k]
        cols[k], cols[small] = cols[small], cols[k]
        k = small


@numba.njit(cache=True)
def _keep_best(
    ub: np.ndarray, ids: np.ndarray, ws: np.ndarray, size: int, cap: int, u: int, b: int, w: int
) -> tuple[int, int]:
    """Keep the ``cap`` best buckets (larger bound, then smaller index) in a min-heap whose
    top is the worst kept.  Returns the new size and the bound of a bucket left out
    (-FAR when none)."""
    if size < cap:
        k = size
        ub[k], ids[k], ws[k] = u, b, w
        while k > 0:
            parent = (k - 1) // 2
            if not _better(ub, ids, parent, k):
                break
            ub[k], ub[parent] = ub[parent], ub[k]
            ids[k], ids[parent] = ids[parent], ids[k]
            ws[k], ws[parent] = ws[parent], ws[k]
            k = parent
        return size + 1, -FAR
    if u < ub[0] or (u == ub[0] and b > ids[0]):
        return size, u
    out = int(ub[0])
    ub[0], ids[0], ws[0] = u, b, w
    k = 0
    while True:
        worst = k
        left = 2 * k + 1
        right = left + 1
        if left < size and _better(ub, ids, worst, left):
            worst = left
        if right < size and _better(ub, ids, worst, right):
            worst = right
        if worst == k:
            return size, out
        ub[k], ub[worst] = ub[worst], ub[k]
        ids[k], ids[worst] = ids[worst], ids[k]
        ws[k], ws[worst] = ws[worst], ws[k]
        k = worst


@numba.njit(cache=True)
def _scan(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    eg_ptr: np.ndarray,
    eg_rows: np.ndarray,
    eg_class: np.ndarray,
    eg_group: np.ndarray,
    b_ptr: np.ndarray,
    members: np.ndarray,
    b_class: np.ndarray,
    b_top: np.ndarray,
    cg_ptr: np.ndarray,
    rg_ptr: np.ndarray,
    rg_cols: np.ndarray,
    W: np.ndarray,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    code_same: np.ndarray,
    bl_ptr: np.ndarray,
    bl_cols: np.ndarray,
    pe_ptr: np.ndarray,
    pe_cols: np.ndarray,
    pe_vals: np.ndarray,
    b_of_col: np.ndarray,
    col_class: np.ndarray,
    col_group: np.ndarray,
    group_allowed: np.ndarray,
    kn_ptr: np.ndarray,
    kn_cols: np.ndarray,
    thr: np.ndarray,
    key: np.ndarray,
    factor: int,
    min_weight: int,
    f_thr: np.ndarray,
    f_key: np.ndarray,
    f_factor: np.ndarray,
    limit: np.ndarray,
    sum_mode: bool,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    n_cols = key.size
    n_codes = code_same.size
    n_faces = f_factor.size
    total_out = 0
    for g in range(eg_ptr.size - 1):
        for p in range(eg_ptr[g], eg_ptr[g + 1]):
            total_out += limit[eg_rows[p]]
    out_r = np.empty(0 if sum_mode else total_out, np.int64)
    out_c = np.empty(0 if sum_mode else total_out, np.int64)
    n_out = 0
    found = 0
    gain_sum = 0
    n_buckets = b_class.size
    h_ub = np.empty(n_buckets, np.int64)
    h_id = np.empty(n_buckets, np.int64)
    h_w = np.empty(n_buckets, np.int64)
    s_ub = np.empty(n_buckets, np.int64)  # buckets popped so far, best first
    s_id = np.empty(n_buckets, np.int64)
    s_w = np.empty(n_buckets, np.int64)
    known_mark = np.full(n_cols, -1, np.int64)
    blocked_mark = np.full(n_cols, -1, np.int64)
    pen_mark = np.full(n_cols, -1, np.int64)
    max_limit = 1
    for i in range(limit.size):
        if limit[i] > max_limit:
            max_limit = limit[i]
    r_gain = np.empty(max_limit, np.int64)
    r_col = np.empty(max_limit, np.int64)
    for g in range(eg_ptr.size - 1):
        cls = eg_class[g]
        least = FAR
        group_limit = 0
        for p in range(eg_ptr[g], eg_ptr[g + 1]):
            if thr[eg_rows[p]] < least:
                least = thr[eg_rows[p]]
            if limit[eg_rows[p]] > group_limit:
                group_limit = limit[eg_rows[p]]
        rg = eg_group[g]
        start_out = n_out
        start_found = found
        start_sum = gain_sum
        # first keep only the best few buckets (a top-k query needs no more); redo the
        # group with every bucket if some row runs out of them before it is complete
        for attempt in range(2):
            bounded = attempt == 0 and not sum_mode
            keep = 2 * group_limit + 8
            n_out = start_out
            found = start_found
            gain_sum = start_sum
            # buckets that may hold a qualifying pair for some row of the group
            size = 0
            cut = -FAR  # best bound among buckets left out
            for q in range(rg_ptr[rg], rg_ptr[rg + 1]):
                cg = rg_cols[q]
                for b in range(cg_ptr[cg], cg_ptr[cg + 1]):
                    wc = int(W[cls, b_class[b]])
                    if wc < min_weight:
                        continue
                    ub = factor * wc + b_top[b]
                    if ub - least <= 0:
                        continue
                    if bounded:
                        if size == keep and (ub < h_ub[0] or (ub == h_ub[0] and b > h_id[0])):
                            if ub > cut:  # not among the best: only its bound matters
                                cut = ub
                            continue
                        size, out = _keep_best(h_ub, h_id, h_w, size, keep, ub, b, wc)
                        if out > cut:
                            cut = out
                    else:
                        h_ub[size] = ub
                        h_id[size] = b
                        h_w[size] = wc
                        size += 1
            for k in range(size // 2 - 1, -1, -1):
                _sift_down(h_ub, h_id, h_w, size, k)
            n_sorted = 0
            complete = True
            for p in range(eg_ptr[g], eg_ptr[g + 1]):
                i = eg_rows[p]
                cap = limit[i]
                if cap <= 0 and not sum_mode:
                    continue
                t = thr[i]
                for e in range(kn_ptr[i], kn_ptr[i + 1]):
                    known_mark[kn_cols[e]] = i
                for e in range(bl_ptr[i], bl_ptr[i + 1]):
                    blocked_mark[bl_cols[e]] = i
                r_size = 0
                k = 0
                bar = t
                # pairs with their own weight: each on its own, then skipped in buckets
                for e in range(pe_ptr[i], pe_ptr[i + 1]):
                    j = pe_cols[e]
                    pen_mark[j] = i
                    if b_of_col[j] < 0 or known_mark[j] == i or blocked_mark[j] == i:
                        continue
                    if W[cls, col_class[j]] < 0 or not group_allowed[rg, col_group[j]]:
                        continue
                    w = int(pe_vals[e])
                    if w < min_weight:
                        continue
                    ok = True
                    for r in range(n_codes):
                        x = row_codes[i, r]
                        if (x >= 0 and x == col_codes[j, r]) != code_same[r]:
                            ok = False
                            break
                    for lv in range(n_faces):
                        if f_factor[lv] * w + f_key[lv, j] - f_thr[lv, i] != 0:
                            ok = False
                            break
                    gain = factor * w + key[j] - t
                    if not ok or gain <= bar - t:
                        continue
                    found += 1
                    if sum_mode:
                        gain_sum += gain
                        continue
                    r_size = _row_push(r_gain, r_col, r_size, cap, gain, j)
                    if r_size == cap:
                        bar = t + r_gain[0]
                while True:
                    if k == n_sorted:
                        if size == 0:
                            if cut > bar:
                                complete = False
                            break
                        s_ub[n_sorted] = h_ub[0]
                        s_id[n_sorted] = h_id[0]
                        s_w[n_sorted] = h_w[0]
                        n_sorted += 1
                        size -= 1
                        h_ub[0] = h_ub[size]
                        h_id[0] = h_id[size]
                        h_w[0] = h_w[size]
                        _sift_down(h_ub, h_id, h_w, size, 0)
                    bar = t
                    if not sum_mode and r_size == cap:
                        bar = t + r_gain[0]
                    if s_ub[k] <= bar:
                        break
                    b = s_id[k]
                    wc = s_w[k]
                    k += 1
                    for m in range(b_ptr[b], b_ptr[b + 1]):
                        j = members[m]
                        if factor * wc + key[j] <= bar:
                            break
                        if known_mark[j] == i or blocked_mark[j] == i or pen_mark[j] == i:
                            continue
                        ok = True
                        for r in range(n_codes):
                            x = row_codes[i, r]
                            y = col_codes[j, r]
                            equal = x >= 0 and x == y
                            if equal != code_same[r]:
                                ok = False
                                break
                        if not ok:
                            continue
                        w = wc
                        gain = factor * w + key[j] - t
                        if gain <= bar - t:
                            continue
                        for lv in range(n_faces):
                            if f_factor[lv] * w + f_key[lv, j] - f_thr[lv, i] != 0:
                                ok = False
                                break
                        if not ok:
                            continue
                        found += 1
                        if sum_mode:
                            gain_sum += gain
                            continue
                        r_size = _row_push(r_gain, r_col, r_size, cap, gain, j)
                        if r_size == cap:
                            bar = t + r_gain[0]
                if not complete:
                    break
                for s in range(r_size):
                    out_r[n_out] = i
                    out_c[n_out] = r_col[s]
                    n_out += 1
            if complete:
                break
    return out_r[:n_out], out_c[:n_out], found, gain_sum


# --- maximum cardinality over the whole pair space -------------------------------------------


@numba.njit(cache=True, inline="always")
def _find(nxt: np.ndarray, p: int) -> int:
    """First unvisited member position >= p (path halving)."""
    while nxt[p] != p:
        nxt[p] = nxt[nxt[p]]
        p = nxt[p]
    return p


@numba.njit(cache=True, inline="always")
def _pair_ok(
    i: int,
    j: int,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    code_same: np.ndarray,
    mark: np.ndarray,
) -> bool:
    """Member-level rules of (i, j); ``mark[j] == i`` flags blocked, excluded or matched."""
    if mark[j] == i:
        return False
    for r in range(code_same.size):
        x = row_codes[i, r]
        if (x >= 0 and x == col_codes[j, r]) != code_same[r]:
            return False
    return True


@numba.njit(cache=True)
def augment_bmatching(  # noqa: C901 - numba kernel: one BFS/augment loop, kept whole for speed
    row_class: np.ndarray,
    row_group: np.ndarray,
    W: np.ndarray,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    code_same: np.ndarray,
    skip_ptr: np.ndarray,
    skip_cols: np.ndarray,
    b_ptr: np.ndarray,
    b_members: np.ndarray,
    b_class: np.ndarray,
    cg_ptr: np.ndarray,
    rg_ptr: np.ndarray,
    rg_cols: np.ndarray,
    min_weight: int,
    left_cap: np.ndarray,
    right_cap: np.ndarray,
    init_rows: np.ndarray,
    init_cols: np.ndarray,
    max_phases: int,
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Grow a b-matching to maximum cardinality over every allowed pair; certify it.

    Each phase is a breadth-first search of the residual graph from every row
    with spare capacity — forward through any allowed pair not in the matching,
    back from a full column to the rows matched with it — that stops after the
    layer reaching the first columns with spare capacity; the tree paths to them
    that share no node are then applied.  A column is visited at most once per
    search: each bucket keeps "next unvisited member" pointers and a bucket with
    none left leaves its column group's list.  A search that reaches no column
    with spare capacity proves the matching maximum (no augmenting path:
    max-flow/min-cut).  ``skip``: per row, sorted columns that are not arcs
    (blocked pairs and locked ones).  Returns (rows, cols) of the matching, the
    number of searches, and whether the last one proved it maximum.
    """
    n_left = row_class.size
    n_right = right_cap.size
    n_b = b_class.size
    n_cg = cg_ptr.size - 1
    l_ptr = np.zeros(n_left + 1, np.int64)
    for i in range(n_left):
        l_ptr[i + 1] = l_ptr[i] + left_cap[i]
    r_ptr = np.zeros(n_right + 1, np.int64)
    for j in range(n_right):
        r_ptr[j + 1] = r_ptr[j] + right_cap[j]
    l_cols = np.empty(l_ptr[n_left], np.int64)
    r_rows = np.empty(r_ptr[n_right], np.int64)
    l_deg = np.zeros(n_left, np.int64)
    r_deg = np.zeros(n_right, np.int64)
    for e in range(init_rows.size):
        i = init_rows[e]
        j = init_cols[e]
        l_cols[l_ptr[i] + l_deg[i]] = j
        l_deg[i] += 1
        r_rows[r_ptr[j] + r_deg[j]] = i
        r_deg[j] += 1
    nxt = np.empty(b_members.size + 1, np.int64)
    b_next = np.empty(n_b, np.int64)
    b_prev = np.empty(n_b, np.int64)
    cg_head = np.empty(n_cg, np.int64)
    visited_r = np.zeros(n_right, np.bool_)
    visited_l = np.zeros(n_left, np.bool_)
    parent_r = np.empty(n_right, np.int64)
    parent_l = np.empty(n_left, np.int64)
    used_l = np.zeros(n_left, np.int64)
    used_r = np.zeros(n_right, np.int64)
    mark = np.full(n_right, -1, np.int64)
    queue = np.empty(n_left, np.int64)
    free_found = np.empty(n_right, np.int64)
    searches = 0
    done = False
    while True:
        searches += 1
        for p in range(b_members.size + 1):
            nxt[p] = p
        for k in range(n_cg):
            lo = cg_ptr[k]
            hi = cg_ptr[k + 1]
            cg_head[k] = lo if hi > lo else -1
            for b in range(lo, hi):
                b_prev[b] = b - 1 if b > lo else -1
                b_next[b] = b + 1 if b + 1 < hi else -1
        visited_r[:] = False
        visited_l[:] = False
        q_end = 0
        for i in range(n_left):
            if l_deg[i] < left_cap[i]:
                visited_l[i] = True
                parent_l[i] = -1
                queue[q_end] = i
                q_end += 1
        n_free = 0
        q = 0
        layer_end = q_end
        while q < q_end:
            if q == layer_end:
                if n_free > 0:
                    break
                layer_end = q_end
            i = queue[q]
            q += 1
            for p in range(l_ptr[i], l_ptr[i] + l_deg[i]):
                mark[l_cols[p]] = i
            for p in range(skip_ptr[i], skip_ptr[i + 1]):
                mark[skip_cols[p]] = i
            cls = row_class[i]
            rg = row_group[i]
            ended = False  # a row leads to at most one open column per search
            for t in range(rg_ptr[rg], rg_ptr[rg + 1]):
                if ended:
                    break
                cg = rg_cols[t]
                b = cg_head[cg]
                while b >= 0 and not ended:
                    b_after = b_next[b]
                    if W[cls, b_class[b]] >= min_weight:
                        end = b_ptr[b + 1]
                        p = _find(nxt, b_ptr[b])
                        while p < end:
                            j = b_members[p]
                            if _pair_ok(i, j, row_codes, col_codes, code_same, mark):
                                visited_r[j] = True
                                parent_r[j] = i
                                nxt[p] = p + 1
                                if r_deg[j] < right_cap[j]:
                                    free_found[n_free] = j
                                    n_free += 1
                                    ended = True
                                    break
                                else:
                                    for s in range(r_ptr[j], r_ptr[j] + r_deg[j]):
                                        i2 = r_rows[s]
                                        if not visited_l[i2]:
                                            visited_l[i2] = True
                                            parent_l[i2] = j
                                            queue[q_end] = i2
                                            q_end += 1
                            p = _find(nxt, p + 1)
                        if _find(nxt, b_ptr[b]) >= end:  # bucket exhausted: unlink it
                            if b_prev[b] >= 0:
                                b_next[b_prev[b]] = b_next[b]
                            else:
                                cg_head[cg] = b_next[b]
                            if b_next[b] >= 0:
                                b_prev[b_next[b]] = b_prev[b]
                    b = b_after
        if n_free == 0:
            done = True
            break
        # apply node-disjoint tree paths (a node once per search)
        for f in range(n_free):
            j = free_found[f]
            ok = used_r[j] != searches and r_deg[j] < right_cap[j]
            jj = j
            while ok:
                i = parent_r[jj]
                if used_l[i] == searches:
                    ok = False
                    break
                jp = parent_l[i]
                if jp < 0:
                    ok = l_deg[i] < left_cap[i]
                    break
                if used_r[jp] == searches:
                    ok = False
                    break
                jj = jp
            if not ok:
                continue
            jj = j
            used_r[j] = searches
            while True:
                i = parent_r[jj]
                jp = parent_l[i]
                used_l[i] = searches
                if jp >= 0:
                    used_r[jp] = searches
                    for p in range(l_ptr[i], l_ptr[i] + l_deg[i]):
                        if l_cols[p] == jp:
                            l_cols[p] = jj
                            break
                    for p in range(r_ptr[jp], r_ptr[jp] + r_deg[jp]):
                        if r_rows[p] == i:
                            r_deg[jp] -= 1
                            r_rows[p] = r_rows[r_ptr[jp] + r_deg[jp]]
                            break
                else:
                    l_cols[l_ptr[i] + l_deg[i]] = jj
                    l_deg[i] += 1
                r_rows[r_ptr[jj] + r_deg[jj]] = i
                r_deg[jj] += 1
                if jp < 0:
                    break
                jj = jp
        if searches == max_phases:
            break
    n_pairs = 0
    for i in range(n_left):
        n_pairs += l_deg[i]
    out_r = np.empty(n_pairs, np.int64)
    out_c = np.empty(n_pairs, np.int64)
    n = 0
    for i in range(n_left):
        for p in range(l_ptr[i], l_ptr[i] + l_deg[i]):
            out_r[n] = i
            out_c[n] = l_cols[p]
            n += 1
    return out_r, out_c, searches, done


@numba.njit(cache=True)
def count_allowed(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    eg_ptr: np.ndarray,
    eg_rows: np.ndarray,
    eg_class: np.ndarray,
    eg_group: np.ndarray,
    b_ptr: np.ndarray,
    b_members: np.ndarray,
    b_class: np.ndarray,
    cg_ptr: np.ndarray,
    rg_ptr: np.ndarray,
    rg_cols: np.ndarray,
    W: np.ndarray,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    code_same: np.ndarray,
    skip_ptr: np.ndarray,
    skip_cols: np.ndarray,
    pe_ptr: np.ndarray,
    pe_cols: np.ndarray,
    pe_vals: np.ndarray,
    b_of_col: np.ndarray,
    col_class: np.ndarray,
    col_group: np.ndarray,
    group_allowed: np.ndarray,
    min_weight: int,
    cap: np.ndarray,
) -> np.ndarray:
    """Per row, the allowed pairs it has (weight >= ``min_weight``), counted up to ``cap``."""
    n_rows = cap.size
    out = np.zeros(n_rows, np.int64)
    mark = np.full(col_codes.shape[0], -1, np.int64)
    own = np.full(col_codes.shape[0], -1, np.int64)
    for g in range(eg_ptr.size - 1):
        cls = eg_class[g]
        rg = eg_group[g]
        for p in range(eg_ptr[g], eg_ptr[g + 1]):
            i = eg_rows[p]
            need = cap[i]
            if need <= 0:
                continue
            for e in range(skip_ptr[i], skip_ptr[i + 1]):
                mark[skip_cols[e]] = i
            count = 0
            for e in range(pe_ptr[i], pe_ptr[i + 1]):  # pairs with their own weight
                j = pe_cols[e]
                own[j] = i
                if count >= need or mark[j] == i or b_of_col[j] < 0 or pe_vals[e] < min_weight:
                    continue
                if W[cls, col_class[j]] < 0 or not group_allowed[rg, col_group[j]]:
                    continue
                ok = True
                for r in range(code_same.size):
                    x = row_codes[i, r]
                    if (x >= 0 and x == col_codes[j, r]) != code_same[r]:
                        ok = False
                        break
                if ok:
                    count += 1
            for t in range(rg_ptr[rg], rg_ptr[rg + 1]):
                if count >= need:
                    break
                cg = rg_cols[t]
                for b in range(cg_ptr[cg], cg_ptr[cg + 1]):
                    if count >= need:
                        break
                    wc = np.int64(W[cls, b_class[b]])
                    if wc < min_weight:
                        continue
                    for m in range(b_ptr[b], b_ptr[b + 1]):
                        j = b_members[m]
                        if mark[j] == i or own[j] == i:
                            continue
                        ok = True
                        for r in range(code_same.size):
                            x = row_codes[i, r]
                            if (x >= 0 and x == col_codes[j, r]) != code_same[r]:
                                ok = False
                                break
                        if ok:
                            count += 1
                            if count >= need:
                                break
            out[i] = min(count, need)
    return out
