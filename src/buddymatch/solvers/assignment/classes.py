"""Profile classes in the solve: the class-level problem first, then its people.

Rows of one *group* (same score class and rule group) have the same weight to
every column of one *bucket*; apart from the exceptions (per-person codes,
blocked pairs, pairs with their own weight) the pair space is a transportation problem between
groups and buckets — far smaller than rows × columns when people share
profiles.  Its optimum is solved exactly (the same certified flow, with pair
arcs as wide as both capacities), then

- *disaggregated*: each group–bucket flow is spread over the members, round
  robin, skipping pairs an exception forbids or penalises;
- *priced*: every row's best pairs by weight plus the bucket's class-level
  potential (the exact market price of that kind of mentor).

Together these are the first candidates of the row-level flow, which is then
certified over every pair as usual: the class level is only a (very good)
starting point, never trusted.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from buddymatch.solvers.assignment.flow import (
    FlowResult,
    FlowSpec,
    Start,
    csr,
    scan_top,
    sorted_unique,
    space_of,
)
from buddymatch.solvers.assignment.kernels import Space
from buddymatch.weights import PairWeights

PAYS_OFF = 3
"""Solve by classes when groups × buckets is at most 1/PAYS_OFF of rows × columns.

Measured (whole run, CPU seconds, same optimum either way): compression 3.61
(10k mentees × 2.5k mentors, band gap 0-3, forbids) 6.6 s without classes,
3.4 s with; 3.68 (sampler, 25,000 people) 8.7 s vs 7.0 s; 2.28 (sampler,
10,000 people) 2.1 s vs 2.7 s — below about 3 the class level costs more than
it saves."""


def applies(spec: FlowSpec) -> bool:
    """Whether the level's profits depend on classes only (no per-person terms, no faces)."""
    lv = spec.level
    per_person = (lv.left_add, lv.right_add, lv.left_first, lv.right_first, lv.unit_bonus)
    simple = not (
        spec.faces or spec.wide_pairs or spec.split_left or spec.split_right or spec.unit_arcs
    )
    return all(x is None for x in per_person) and simple


def class_candidates(
    spec: FlowSpec,
    per_row: int,
    solve: Callable[[FlowSpec, np.ndarray | None], FlowResult],
    extra_keys: np.ndarray | None = None,
) -> tuple[np.ndarray, Start] | None:
    """First candidates from the class-level optimum (see the module docstring) and a
    start: the disaggregated flow when it carries all of the class-level flow (then it is
    optimal: the class level is a relaxation), with potentials lifted from the class
    level; None when the classes do not pay off.  ``solve(spec, extra_keys)`` solves the class-level
    spec; ``extra_keys`` (row-level pairs that carry a flow of ``spec.flow_value``) are
    passed on as class-level pairs, so that the class level carries that flow too."""
    if not applies(spec):
        return None
    n_left, n_right = spec.weights.shape
    space = space_of(spec.weights, spec.left_cap > 0, spec.right_cap > 0)
    n_groups, n_buckets = space.eg_ptr.size - 1, space.b_ptr.size - 1
    if n_groups * n_buckets * PAYS_OFF > n_left * n_right or n_groups * n_buckets == 0:
        return None
    agg = _aggregate(spec, space)
    agg_extra = None
    if extra_keys is not None and extra_keys.size:
        groups = np.full(n_left, -1, np.int64)
        groups[space.eg_rows] = np.repeat(np.arange(n_groups), np.diff(space.eg_ptr))
        g, b = groups[extra_keys // n_right], space.b_of_col[extra_keys % n_right]
        ok = (g >= 0) & (b >= 0)
        agg_extra = sorted_unique(g[ok] * n_buckets + b[ok])
    res = solve(agg, agg_extra)
    amounts = res.amounts if res.amounts is not None else np.ones(len(res.pairs), np.int64)
    spread = _spread(spec, space, res.pairs, amounts)
    assert res.dist is not None
    warm = _lifted(res.dist, space, n_left, n_right)
    key = warm[2 + n_left :] - warm[1]
    priced = scan_top(spec, key, per_row)
    complete = spread.size == int(amounts.sum())
    start = Start(chosen=spread if complete else None, warm=warm)
    return sorted_unique(np.concatenate([spread, priced])), start


def _lifted(dist: np.ndarray, space: Space, n_left: int, n_right: int) -> np.ndarray:
    """Row-level node potentials: each row its group's, each column its bucket's."""
    n_groups = space.eg_ptr.size - 1
    warm = np.empty(2 + n_left + n_right, np.int64)
    warm[0], warm[1] = dist[0], dist[1]
    warm[2 : 2 + n_left] = dist[0]
    warm[2 + n_left :] = dist[1]
    warm[2 + space.eg_rows] = np.repeat(dist[2 : 2 + n_groups], np.diff(space.eg_ptr))
    open_cols = space.b_of_col >= 0
    warm[2 + n_left + np.flatnonzero(open_cols)] = dist[2 + n_groups + space.b_of_col[open_cols]]
    return warm


def _aggregate(spec: FlowSpec, space: Space) -> FlowSpec:
    """The class-level problem: rows = groups, columns = buckets, summed capacities."""
    w = spec.weights
    n_groups = space.eg_ptr.size - 1
    group_of = np.repeat(np.arange(n_groups), np.diff(space.eg_ptr))
    left = np.bincount(group_of, weights=spec.left_cap[space.eg_rows], minlength=n_groups)
    n_buckets = space.b_ptr.size - 1
    bucket_of = np.repeat(np.arange(n_buckets), np.diff(space.b_ptr))
    right = np.bincount(bucket_of, weights=spec.right_cap[space.b_base], minlength=n_buckets)
    first_cols = space.b_base[space.b_ptr[:-1]]
    weights = PairWeights.build(
        row_class=space.eg_class,
        col_class=space.b_class,
        class_weights=w.class_weights,
        row_group=space.eg_group,
        col_group=w.col_group[first_cols],
        group_allowed=w.group_allowed,
        blocked=_dead_blocks(spec, space),
    )
    return FlowSpec(
        weights=weights,
        left_cap=left.astype(np.int64),
        right_cap=right.astype(np.int64),
        min_weight=spec.min_weight,
        excluded=np.empty(0, np.int64),
        level=spec.level,
        flow_value=spec.flow_value,
        wide_pairs=True,
    )


def _single_code(ptr: np.ndarray, members: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per group (or bucket): its members' one code when they all share it, else -1."""
    n = ptr.size - 1
    owner = np.repeat(np.arange(n), np.diff(ptr))
    values = codes[members]
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(lo, owner, values)
    np.maximum.at(hi, owner, values)
    return np.where((lo == hi) & (lo >= 0), lo, -1)


def _dead_blocks(spec: FlowSpec, space: Space) -> np.ndarray:
    """Class-level pairs (group, bucket) no member pair of which is allowed: both sides
    share one value of a ``different`` code, or one row and one column whose pair is
    blocked.  Leaving them out tightens the class level (it stays a relaxation)."""
    w = spec.weights
    n_left = w.shape[0]
    dead = [np.zeros((0, 2), np.int64)]
    for r in np.flatnonzero(~w.code_same):
        g_code = _single_code(space.eg_ptr, space.eg_rows, w.row_codes[:, r].astype(np.int64))
        b_code = _single_code(space.b_ptr, space.b_base, w.col_codes[:, r].astype(np.int64))
        gs, bs = np.flatnonzero(g_code >= 0), np.flatnonzero(b_code >= 0)
        order = np.argsort(b_code[bs], kind="stable")
        bs, values = bs[order], b_code[bs][order]
        lo = np.searchsorted(values, g_code[gs], side="left")
        hi = np.searchsorted(values, g_code[gs], side="right")
        count = hi - lo
        g_rep = np.repeat(gs, count)
        b_rep = bs[
            np.repeat(lo, count)
            + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        ]
        dead.append(np.stack([g_rep, b_rep], axis=1))
    group_of = np.full(n_left, -1, np.int64)
    group_of[space.eg_rows] = np.repeat(np.arange(space.eg_ptr.size - 1), np.diff(space.eg_ptr))
    blocked_rows = np.repeat(np.arange(n_left, dtype=np.int64), np.diff(w.blocked_ptr))
    g, b = group_of[blocked_rows], space.b_of_col[w.blocked_cols]
    ok = (g >= 0) & (b >= 0)
    g, b = g[ok], b[ok]
    single = (np.diff(space.eg_ptr)[g] == 1) & (np.diff(space.b_ptr)[b] == 1)
    dead.append(np.stack([g[single], b[single]], axis=1))
    return np.concatenate(dead)


def _spread(spec: FlowSpec, space: Space, pairs: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Row-level pairs (keys) carrying the class-level flows, as far as exceptions allow."""
    w = spec.weights
    n_left, n_right = w.shape
    blocked_rows = np.repeat(np.arange(n_left, dtype=np.int64), np.diff(w.blocked_ptr))
    own_rows = np.repeat(np.arange(n_left, dtype=np.int64), np.diff(w.override_ptr))
    skip = sorted_unique(
        np.concatenate(
            [
                blocked_rows * n_right + w.blocked_cols,
                own_rows * n_right + w.override_cols,
                spec.excluded,
            ]
        )
    )
    skip_ptr, skip_cols = csr(skip, n_left, n_right)
    rows, cols = _spread_kernel(
        pairs[:, 0].copy(),
        pairs[:, 1].copy(),
        amounts.astype(np.int64),
        space.eg_ptr,
        space.eg_rows,
        space.b_ptr,
        space.b_base,
        spec.left_cap.astype(np.int64),
        spec.right_cap.astype(np.int64),
        w.row_codes,
        w.col_codes,
        w.code_same,
        skip_ptr,
        skip_cols,
    )
    return np.sort(rows * n_right + cols)


@numba.njit(cache=True, inline="always")
def _valid(
    i: int,
    j: int,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    code_same: np.ndarray,
    mark: np.ndarray,
) -> bool:
    if mark[j] == i:
        return False
    for r in range(code_same.size):
        x = row_codes[i, r]
        if (x >= 0 and x == col_codes[j, r]) != code_same[r]:
            return False
    return True


@numba.njit(cache=True)
def _mark_row(
    i: int,
    mark: np.ndarray,
    skip_ptr: np.ndarray,
    skip_cols: np.ndarray,
    l_ptr: np.ndarray,
    l_cols: np.ndarray,
    l_deg: np.ndarray,
) -> None:
    """``mark[j] = i`` for the columns row i may not take: skipped ones and its partners."""
    for e in range(skip_ptr[i], skip_ptr[i + 1]):
        mark[skip_cols[e]] = i
    for e in range(l_ptr[i], l_ptr[i] + l_deg[i]):
        mark[l_cols[e]] = i


@numba.njit(cache=True)
def _can(
    i: int,
    j: int,
    rules: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    state: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> bool:
    """Whether row i may take column j (rules and the pairs it already has)."""
    row_codes, col_codes, code_same, skip_ptr, skip_cols = rules
    mark, l_ptr, l_cols, l_deg = state
    _mark_row(i, mark, skip_ptr, skip_cols, l_ptr, l_cols, l_deg)
    return _valid(i, j, row_codes, col_codes, code_same, mark)


@numba.njit(cache=True)
def _move(
    i: int, old: int, new: int, l_ptr: np.ndarray, l_cols: np.ndarray, l_deg: np.ndarray
) -> None:
    for s in range(l_ptr[i], l_ptr[i] + l_deg[i]):
        if l_cols[s] == old:
            l_cols[s] = new
            return


@numba.njit(cache=True)
def _spread_kernel(  # noqa: C901 - numba kernel: one flat loop nest, kept whole for speed
    agg_rows: np.ndarray,
    agg_cols: np.ndarray,
    amounts: np.ndarray,
    eg_ptr: np.ndarray,
    eg_rows: np.ndarray,
    b_ptr: np.ndarray,
    b_base: np.ndarray,
    left_cap: np.ndarray,
    right_cap: np.ndarray,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    code_same: np.ndarray,
    skip_ptr: np.ndarray,
    skip_cols: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each group–bucket flow becomes pairs of members with spare capacity: round robin;
    then, where an exception blocks the last spare row and column of a block, a swap with
    a row of the same group or a column of the same bucket placed elsewhere (every block
    keeps its count, so the weight is unchanged)."""
    n_left = left_cap.size
    n_right = right_cap.size
    left = left_cap.copy()
    right = right_cap.copy()
    l_ptr = np.zeros(n_left + 1, np.int64)
    for i in range(n_left):
        l_ptr[i + 1] = l_ptr[i] + left_cap[i]
    l_cols = np.empty(l_ptr[n_left], np.int64)
    l_deg = np.zeros(n_left, np.int64)
    r_ptr = np.zeros(n_right + 1, np.int64)
    for j in range(n_right):
        r_ptr[j + 1] = r_ptr[j] + right_cap[j]
    r_rows = np.empty(r_ptr[n_right], np.int64)
    r_deg = np.zeros(n_right, np.int64)
    mark = np.full(n_right, -1, np.int64)
    rules = (row_codes, col_codes, code_same, skip_ptr, skip_cols)
    state = (mark, l_ptr, l_cols, l_deg)
    g_next = eg_ptr[:-1].copy()  # members before it are full
    b_next = b_ptr[:-1].copy()  # next member of each bucket to use
    short = amounts.copy()
    for k in range(amounts.size):
        g = agg_rows[k]
        b = agg_cols[k]
        lo = b_ptr[b]
        size = b_ptr[b + 1] - lo
        p = g_next[g]
        while p < eg_ptr[g + 1] and left[eg_rows[p]] <= 0:
            p += 1
        g_next[g] = p
        while short[k] > 0 and p < eg_ptr[g + 1]:
            i = eg_rows[p]
            placed = False
            if left[i] > 0:
                for step in range(size):
                    q = lo + (b_next[b] - lo + step) % size
                    j = b_base[q]
                    if right[j] > 0 and _can(i, j, rules, state):
                        l_cols[l_ptr[i] + l_deg[i]] = j
                        l_deg[i] += 1
                        r_rows[r_ptr[j] + r_deg[j]] = i
                        r_deg[j] += 1
                        left[i] -= 1
                        right[j] -= 1
                        short[k] -= 1
                        b_next[b] = lo + (q - lo + 1) % size
                        placed = True
                        break
            if not placed or left[i] <= 0:
                p += 1
    for k in range(amounts.size):  # swaps for what an exception blocked
        g = agg_rows[k]
        b = agg_cols[k]
        for p in range(eg_ptr[g], eg_ptr[g + 1]):
            i = eg_rows[p]
            for q in range(b_ptr[b], b_ptr[b + 1]):
                j = b_base[q]
                if short[k] == 0 or left[i] <= 0:
                    break
                if right[j] <= 0:
                    continue
                # a row i2 of group g placed with j2 takes j; i takes j2
                for p2 in range(eg_ptr[g], eg_ptr[g + 1]):
                    i2 = eg_rows[p2]
                    hit = -1
                    for s in range(l_ptr[i2], l_ptr[i2] + l_deg[i2]):
                        j2 = l_cols[s]
                        if i2 != i and _can(i2, j, rules, state) and _can(i, j2, rules, state):
                            hit = j2
                            break
                    if hit >= 0:
                        _move(i2, hit, j, l_ptr, l_cols, l_deg)
                        for s in range(r_ptr[hit], r_ptr[hit] + r_deg[hit]):
                            if r_rows[s] == i2:
                                r_rows[s] = i
                        r_rows[r_ptr[j] + r_deg[j]] = i2
                        r_deg[j] += 1
                        l_cols[l_ptr[i] + l_deg[i]] = hit
                        l_deg[i] += 1
                        left[i] -= 1
                        right[j] -= 1
                        short[k] -= 1
                        break
                if short[k] == 0 or left[i] <= 0 or right[j] <= 0:
                    continue
                # a column j3 of bucket b placed with i3 goes to i; i3 takes j
                for q3 in range(b_ptr[b], b_ptr[b + 1]):
                    j3 = b_base[q3]
                    hit = -1
                    for s in range(r_ptr[j3], r_ptr[j3] + r_deg[j3]):
                        i3 = r_rows[s]
                        if i3 != i and _can(i, j3, rules, state) and _can(i3, j, rules, state):
                            hit = s
                            break
                    if hit >= 0:
                        i3 = r_rows[hit]
                        _move(i3, j3, j, l_ptr, l_cols, l_deg)
                        r_rows[hit] = i
                        r_rows[r_ptr[j] + r_deg[j]] = i3
                        r_deg[j] += 1
                        l_cols[l_ptr[i] + l_deg[i]] = j3
                        l_deg[i] += 1
                        left[i] -= 1
                        right[j] -= 1
                        short[k] -= 1
                        break
    out_r = np.empty(l_ptr[n_left], np.int64)
    out_c = np.empty(l_ptr[n_left], np.int64)
    n_out = 0
    for i in range(n_left):
        for s in range(l_ptr[i], l_ptr[i] + l_deg[i]):
            out_r[n_out] = i
            out_c[n_out] = l_cols[s]
            n_out += 1
    return out_r[:n_out], out_c[:n_out]
