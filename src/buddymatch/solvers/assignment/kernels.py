"""Single-pass numba kernels over the dense weight matrix for :mod:`.assignment_flow`.

A 10,000 × 2,500 matrix is 25M entries: numpy expressions over it allocate
several temporaries per pass, so the passes that run every certification round
(and the candidate pick) are plain loops here.  All are deterministic: entries
are visited in row-major order and ties keep the lower index.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def matrix_summary(weights: np.ndarray, min_weight: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Per-row and per-column counts of entries >= ``min_weight``; matrix min and max."""
    n_left, n_right = weights.shape
    row_count = np.zeros(n_left, np.int64)
    col_count = np.zeros(n_right, np.int64)
    lo = 0
    hi = 0
    if n_left * n_right > 0:
        lo = weights[0, 0]
        hi = weights[0, 0]
    for i in range(n_left):
        c = 0
        for j in range(n_right):
            w = weights[i, j]
            if w < lo:
                lo = w
            if w > hi:
                hi = w
            if w >= min_weight:
                c += 1
                col_count[j] += 1
        row_count[i] = c
    return row_count, col_count, int(lo), int(hi)


@numba.njit(cache=True)
def top_candidates(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    weights: np.ndarray,
    min_weight: int,
    rows_ok: np.ndarray,
    cols_ok: np.ndarray,
    k_row: int,
    k_col: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the ``k_row`` heaviest arcs of each row and ``k_col`` of each column.

    May list a pair twice (once as a row pick, once as a column pick).
    """
    n_left, n_right = weights.shape
    col_val = np.full((n_right, max(k_col, 1)), -1, np.int64)
    col_idx = np.full((n_right, max(k_col, 1)), -1, np.int64)
    col_fill = np.zeros(n_right, np.int64)
    col_min = np.zeros(n_right, np.int64)  # slot of the smallest kept value when full
    out_r = np.empty(n_left * k_row + n_right * k_col, np.int64)
    out_c = np.empty(n_left * k_row + n_right * k_col, np.int64)
    n_out = 0
    row_val = np.empty(max(k_row, 1), np.int64)
    row_idx = np.empty(max(k_row, 1), np.int64)
    for i in range(n_left):
        if not rows_ok[i]:
            continue
        fill = 0
        min_slot = 0
        for j in range(n_right):
            w = weights[i, j]
            if w < min_weight or not cols_ok[j]:
                continue
            if k_row > 0:
                if fill < k_row:
                    row_val[fill] = w
                    row_idx[fill] = j
                    fill += 1
                    if fill == k_row:
                        min_slot = 0
                        for s in range(1, k_row):
                            if row_val[s] < row_val[min_slot]:
                                min_slot = s
                elif w > row_val[min_slot]:
                    row_val[min_slot] = w
                    row_idx[min_slot] = j
                    min_slot = 0
                    for s in range(1, k_row):
                        if row_val[s] < row_val[min_slot]:
                            min_slot = s
            if k_col > 0:
                f = col_fill[j]
                if f < k_col:
                    col_val[j, f] = w
                    col_idx[j, f] = i
                    col_fill[j] = f + 1
                    if f + 1 == k_col:
                        ms = 0
                        for s in range(1, k_col):
                            if col_val[j, s] < col_val[j, ms]:
                                ms = s
                        col_min[j] = ms
                elif w > col_val[j, col_min[j]]:
                    col_val[j, col_min[j]] = w
                    col_idx[j, col_min[j]] = i
                    ms = 0
                    for s in range(1, k_col):
                        if col_val[j, s] < col_val[j, ms]:
                            ms = s
                    col_min[j] = ms
        for s in range(fill):
            out_r[n_out] = i
            out_c[n_out] = row_idx[s]
            n_out += 1
    for j in range(n_right):
        for s in range(col_fill[j]):
            out_r[n_out] = col_idx[j, s]
            out_c[n_out] = j
            n_out += 1
    return out_r[:n_out], out_c[:n_out]


@numba.njit(cache=True)
def violating_arcs(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    weights: np.ndarray,
    min_weight: int,
    pair_bonus: int,
    weight_factor: int,
    d_left: np.ndarray,
    d_right: np.ndarray,
    rows_ok: np.ndarray,
    cols_ok: np.ndarray,
    known_ptr: np.ndarray,
    known_cols: np.ndarray,
    per_row: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Arcs not yet known with ``profit > d_left[i] − d_right[j]`` (negative reduced cost).

    Returns (rows, cols) of at most ``per_row`` per row, the most violated first
    (ties: lower column), and the total number of violating arcs.  ``known_ptr``
    / ``known_cols`` list, per row, the sorted columns already in the network.
    """
    n_left, n_right = weights.shape
    out_r = np.empty(n_left * per_row, np.int64)
    out_c = np.empty(n_left * per_row, np.int64)
    n_out = 0
    total = 0
    buf_gain = np.empty(per_row, np.int64)
    buf_col = np.empty(per_row, np.int64)
    for i in range(n_left):
        if not rows_ok[i]:
            continue
        p = known_ptr[i]
        end = known_ptr[i + 1]
        di = d_left[i]
        fill = 0
        min_slot = 0
        for j in range(n_right):
            w = weights[i, j]
            if w < min_weight or not cols_ok[j]:
                continue
            gain = pair_bonus + weight_factor * np.int64(w) - (di - d_right[j])
            if gain <= 0:
                continue
            while p < end and known_cols[p] < j:
                p += 1
            if p < end and known_cols[p] == j:
                continue
            total += 1
            if fill < per_row:
                buf_gain[fill] = gain
                buf_col[fill] = j
                fill += 1
                if fill == per_row:
                    min_slot = 0
                    for s in range(1, per_row):
                        if buf_gain[s] < buf_gain[min_slot]:
                            min_slot = s
            elif gain > buf_gain[min_slot]:
                buf_gain[min_slot] = gain
                buf_col[min_slot] = j
                min_slot = 0
                for s in range(1, per_row):
                    if buf_gain[s] < buf_gain[min_slot]:
                        min_slot = s
        for s in range(fill):
            out_r[n_out] = i
            out_c[n_out] = buf_col[s]
            n_out += 1
    return out_r[:n_out], out_c[:n_out], total


@numba.njit(cache=True)
def dual_slack_sum(
    weights: np.ndarray,
    min_weight: int,
    pair_bonus: int,
    weight_factor: int,
    u: np.ndarray,
    v: np.ndarray,
    rows_ok: np.ndarray,
    cols_ok: np.ndarray,
) -> int:
    """Σ over arcs of max(0, profit − u_i − v_j): the slack part of the LP dual bound."""
    n_left, n_right = weights.shape
    total = 0
    for i in range(n_left):
        if not rows_ok[i]:
            continue
        for j in range(n_right):
            w = weights[i, j]
            if w < min_weight or not cols_ok[j]:
                continue
            s = pair_bonus + weight_factor * np.int64(w) - u[i] - v[j]
            if s > 0:
                total += s
    return total


@numba.njit(cache=True)
def maximum_bmatching(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    weights: np.ndarray,
    min_weight: int,
    rows_ok: np.ndarray,
    cols_ok: np.ndarray,
    left_cap: np.ndarray,
    right_cap: np.ndarray,
    init_rows: np.ndarray,
    init_cols: np.ndarray,
    skip_ptr: np.ndarray,
    skip_cols: np.ndarray,
    max_searches: int,
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Grow a b-matching to maximum cardinality over every allowed entry; certify it.

    Hopcroft–Karp on the dense matrix, from the valid b-matching
    ``init_rows``/``init_cols``.  Each search is a breadth-first layering of the
    residual graph from every left node with spare capacity — forward through
    any allowed entry of the row (``weights >= min_weight``, column open, not
    matched with the row, not in ``skip``), back from a right node to the left
    nodes matched with it — up to the nearest right node with spare capacity;
    then depth-first searches along the layers apply node-disjoint shortest
    augmenting paths (at least one per search).  The loop ends with a layering
    that reaches no such right node: then the full residual graph has no
    augmenting path, so the matching has maximum cardinality
    (max-flow/min-cut).  A search costs at most two passes over the matrix.

    ``skip_ptr``/``skip_cols``: per row, sorted columns that are not arcs
    (locked pairs).  ``max_searches`` > 0 stops after that many searches.
    Returns (rows, cols) of the matching (row-major order), the number of
    searches, and whether the last search proved the matching maximum.
    """
    n_left, n_right = weights.shape
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
    mark = np.full(n_right, -1, np.int64)
    inf = n_left + n_right + 1
    dist_left = np.empty(n_left, np.int64)
    dist_right = np.empty(n_right, np.int64)
    seen_left = np.zeros(n_left, np.bool_)
    seen_right = np.zeros(n_right, np.bool_)
    parent_right = np.empty(n_right, np.int64)  # left node a right node was reached from
    parent_left = np.empty(n_left, np.int64)  # right node a left node was reached from
    scan = np.empty(n_left, np.int64)  # next column to look at, per left node
    stack = np.empty(n_left, np.int64)
    queue = np.empty(n_left, np.int64)
    searches = 0
    while True:
        searches += 1
        # breadth-first layers of the residual graph, up to the nearest open right node
        dist_left[:] = inf
        dist_right[:] = inf
        mark[:] = -1
        q_end = 0
        for i in range(n_left):
            if rows_ok[i] and l_deg[i] < left_cap[i]:
                dist_left[i] = 0
                queue[q_end] = i
                q_end += 1
        nearest = inf
        q = 0
        while q < q_end:
            i = queue[q]
            q += 1
            if dist_left[i] + 1 > nearest:
                break
            # columns matched with (or locked to) i are not arcs; a stale mark of
            # another node never equals i
            for p in range(l_ptr[i], l_ptr[i] + l_deg[i]):
                mark[l_cols[p]] = i
            for p in range(skip_ptr[i], skip_ptr[i + 1]):
                mark[skip_cols[p]] = i
            for j in range(n_right):
                if dist_right[j] < inf or mark[j] == i or not cols_ok[j]:
                    continue
                if weights[i, j] < min_weight:
                    continue
                dist_right[j] = dist_left[i] + 1
                if r_deg[j] < right_cap[j]:
                    nearest = min(nearest, dist_right[j])
                    continue
                for p in range(r_ptr[j], r_ptr[j] + r_deg[j]):
                    i2 = r_rows[p]
                    if dist_left[i2] == inf:
                        dist_left[i2] = dist_right[j]
                        queue[q_end] = i2
                        q_end += 1
        if nearest == inf or searches == max_searches:
            break
        # depth-first along the layers: node-disjoint shortest augmenting paths
        seen_left[:] = False
        seen_right[:] = False
        mark[:] = -1
        for root in range(n_left):
            if dist_left[root] != 0 or seen_left[root]:
                continue
            seen_left[root] = True
            parent_left[root] = -1
            scan[root] = 0
            top = 0
            stack[0] = root
            while top >= 0:
                i = stack[top]
                for p in range(l_ptr[i], l_ptr[i] + l_deg[i]):
                    mark[l_cols[p]] = i
                for p in range(skip_ptr[i], skip_ptr[i + 1]):
                    mark[skip_cols[p]] = i
                layer = dist_left[i] + 1
                j = scan[i]
                found = -1
                while j < n_right:
                    if (
                        dist_right[j] == layer
                        and not seen_right[j]
                        and mark[j] != i
                        and cols_ok[j]
                        and weights[i, j] >= min_weight
                    ):
                        found = j
                        break
                    j += 1
                scan[i] = j + 1
                if found < 0:
                    top -= 1
                    continue
                seen_right[found] = True
                parent_right[found] = i
                if r_deg[found] < right_cap[found]:
                    j = found
                    while j >= 0:
                        i = parent_right[j]
                        jp = parent_left[i]
                        # (i, j) joins the matching; (i, jp) leaves it
                        if jp >= 0:
                            for p in range(l_ptr[i], l_ptr[i] + l_deg[i]):
                                if l_cols[p] == jp:
                                    l_cols[p] = j
                                    break
                            for p in range(r_ptr[jp], r_ptr[jp] + r_deg[jp]):
                                if r_rows[p] == i:
                                    r_deg[jp] -= 1
                                    r_rows[p] = r_rows[r_ptr[jp] + r_deg[jp]]
                                    break
                        else:
                            l_cols[l_ptr[i] + l_deg[i]] = j
                            l_deg[i] += 1
                        r_rows[r_ptr[j] + r_deg[j]] = i
                        r_deg[j] += 1
                        j = jp
                    break
                if layer >= nearest:
                    continue  # a full right node on the last layer leads nowhere useful
                for p in range(r_ptr[found], r_ptr[found] + r_deg[found]):
                    i2 = r_rows[p]
                    if not seen_left[i2] and dist_left[i2] == layer:
                        seen_left[i2] = True
                        parent_left[i2] = found
                        scan[i2] = 0
                        top += 1
                        stack[top] = i2
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
    return out_r, out_c, searches, nearest == inf
