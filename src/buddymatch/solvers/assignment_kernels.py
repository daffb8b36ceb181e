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
def top_candidates(
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
def violating_arcs(
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
