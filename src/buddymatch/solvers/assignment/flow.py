"""Certified sparse min-cost flow for a max-profit b-matching on a dense weight matrix.

The exact model (one network, every objective of :mod:`.assignment` is an
instance of it)::

    source --(left i: residual capacity, optional per-unit level bonuses)--> left i
    left i --(cap 1, profit pair_bonus + weight_factor * w[i, j])--> right j
    right j --(residual capacity)--> sink,      source --(bypass, cost 0)--> sink

A min-cost flow of value ``S = min(Σ left, Σ right)`` with costs = −profit is a
maximum-profit b-matching (the bypass lets any number of units stay unmatched).
With ``FlowSpec.flow_value = k`` the bypass is closed and the supply is ``k``:
a maximum-profit b-matching with exactly ``k`` pairs (the certificate below is
unchanged: no negative cycle proves optimality among flows of that value).

Dense inputs are large (10,000 × 2,500 = 25M entries), so we solve on a sparse
*candidate* set of arcs (top-k per row and per column) and then **prove** the
sparse optimum is optimal for the whole matrix: shortest-path potentials ``d``
on the residual graph of the sparse optimum are feasible LP duals; if every arc
left out has non-negative reduced cost, ``profit(i, j) <= d[i] − d[j]``, then the
residual graph of the full network has no negative cycle either, so the flow is
optimal for the full network.  Violating arcs are added and the sparse problem
re-solved until none remain.  The check is vectorised over the dense matrix in
row blocks.  Only a certified result is reported as optimal.

:func:`max_cardinality` gives the most pairs there can be, proven on the
whole matrix by an augmenting-path search (Hopcroft–Karp, in
:mod:`.assignment_kernels`) that finds no augmenting path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba
import numpy as np
from ortools.graph.python import min_cost_flow

from buddymatch.errors import SolverError
from buddymatch.solvers import Status
from buddymatch.solvers.assignment.kernels import (
    dual_slack_sum,
    maximum_bmatching,
    top_candidates,
    violating_arcs,
)

_SMCF = min_cost_flow.SimpleMinCostFlow
ORTOOLS_STATUS: dict[int, Status] = {
    _SMCF.OPTIMAL: Status.OPTIMAL,
    _SMCF.FEASIBLE: Status.FEASIBLE,
    _SMCF.INFEASIBLE: Status.INFEASIBLE,
    _SMCF.UNBALANCED: Status.INFEASIBLE,
    _SMCF.NOT_SOLVED: Status.UNKNOWN,
    _SMCF.BAD_RESULT: Status.UNKNOWN,
    _SMCF.BAD_COST_RANGE: Status.UNKNOWN,
    _SMCF.BAD_CAPACITY_RANGE: Status.UNKNOWN,
}
"""OR-Tools min-cost-flow status -> :class:`Status` (the one place codes are mapped)."""

INT64_LIMIT = 2**62
"""Largest magnitude we allow for (arc cost × nodes) and for any path or total cost.

OR-Tools scales costs by the node count internally and shortest-path potentials
sum costs along paths, so both must stay well inside int64 (2^63 − 1)."""

_BLOCK_ENTRIES = 1 << 22  # entries of the dense matrix handled at once (~32 MB as int64)


@dataclass(frozen=True)
class FlowSpec:
    """One max-profit b-matching over the allowed entries of a dense matrix.

    An entry ``(i, j)`` is an arc when ``weights[i, j] >= min_weight`` (weights
    use ``NOT_ALLOWED = -1``; ``min_weight >= 0``), its key ``i * n_right + j`` is
    not in ``excluded`` (sorted; locked pairs already made), and both residual
    capacities are positive.
    """

    weights: np.ndarray
    left_cap: np.ndarray  # int64, residual capacity after locks
    right_cap: np.ndarray  # int64
    min_weight: int
    excluded: np.ndarray  # sorted int64 keys
    pair_bonus: int
    weight_factor: int
    level_bonus: np.ndarray | None = None  # (L,) int64: bonus of a left node's k-th partner
    left_start: np.ndarray | None = None  # partners a left node already has (locked)
    flow_value: int | None = None  # exactly this many pairs (no bypass); None: any number


@dataclass
class FlowResult:
    """Pairs of the best flow found and what was proven about it."""

    pairs: np.ndarray  # (k, 2) int64, sorted
    profit: int  # pair profits + level bonuses of the flow
    certified: bool  # optimal for the whole matrix, not just the candidates
    bound: int | None  # proven upper bound on profit (None if unknown)
    right_potential: np.ndarray | None = None  # d of right nodes (a price estimate)
    stats: dict[str, float | int | str] = field(default_factory=dict)


@numba.njit(cache=True)
def _spfa(n: int, indptr: np.ndarray, heads: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Shortest distances from a virtual root joined to every node by a 0-cost arc.

    Queue-based Bellman-Ford.  The residual graph of an optimal flow has no
    negative cycle; if one shows up (a bug), an empty array is returned.
    """
    dist = np.zeros(n, dtype=np.int64)
    in_queue = np.ones(n, dtype=np.bool_)
    pushes = np.zeros(n, dtype=np.int64)
    queue = np.arange(n, dtype=np.int64)
    head = 0
    size = n
    while size > 0:
        u = queue[head]
        head = (head + 1) % n
        size -= 1
        in_queue[u] = False
        du = dist[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = heads[e]
            nd = du + costs[e]
            if nd < dist[v]:
                dist[v] = nd
                if not in_queue[v]:
                    pushes[v] += 1
                    if pushes[v] > n:
                        return np.empty(0, dtype=np.int64)
                    queue[(head + size) % n] = v
                    size += 1
                    in_queue[v] = True
    return dist


def _arc_mask(spec: FlowSpec, block: np.ndarray, cols_ok: np.ndarray) -> np.ndarray:
    return (block >= spec.min_weight) & cols_ok[None, :]


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is slow on millions of int64)."""
    a = np.sort(a, kind="stable")
    if a.size == 0:
        return a
    keep = np.empty(a.size, bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _drop_keys(keys: np.ndarray, sorted_out: np.ndarray) -> np.ndarray:
    """``keys`` without those in the sorted array ``sorted_out``."""
    if keys.size == 0 or sorted_out.size == 0:
        return keys
    pos = np.searchsorted(sorted_out, keys)
    pos[pos == sorted_out.size] = 0
    return keys[sorted_out[pos] != keys]


def all_arcs(spec: FlowSpec) -> np.ndarray:
    """Sorted keys of every arc of the full network (the dense path)."""
    n_left, n_right = spec.weights.shape
    rows_ok = spec.left_cap > 0
    cols_ok = spec.right_cap > 0
    parts = []
    step = _row_step(n_left, n_right)
    for r0 in range(0, n_left, step):
        block = spec.weights[r0 : r0 + step]
        mask = _arc_mask(spec, block, cols_ok) & rows_ok[r0 : r0 + block.shape[0], None]
        rr, cc = np.nonzero(mask)
        parts.append((rr.astype(np.int64) + r0) * n_right + cc)
    keys = np.concatenate(parts) if parts else np.empty(0, np.int64)
    return _drop_keys(keys, spec.excluded)


def _row_step(n_rows: int, n_cols: int) -> int:
    return max(1, _BLOCK_ENTRIES // max(1, n_cols))


def candidate_arcs(spec: FlowSpec, k_row: int, k_col: int) -> np.ndarray:
    """Sorted keys of the top ``k_row`` arcs of each row and ``k_col`` of each column.

    Ties are broken by index (lower index first), so the set is deterministic.
    """
    n_right = spec.weights.shape[1]
    rows, cols = top_candidates(
        spec.weights,
        spec.min_weight,
        spec.left_cap > 0,
        spec.right_cap > 0,
        min(k_row, n_right),
        min(k_col, spec.weights.shape[0]),
    )
    return _drop_keys(sorted_unique(rows * n_right + cols), spec.excluded)


@dataclass
class _Network:
    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    n_nodes: int
    first_pair_arc: int
    supply: int


def _network(spec: FlowSpec, keys: np.ndarray) -> _Network:
    """Arc arrays of the flow network restricted to the pair arcs ``keys``."""
    n_left, n_right = spec.weights.shape
    left_cap, right_cap = spec.left_cap, spec.right_cap
    left_ids = np.arange(n_left, dtype=np.int64) + 2
    right_ids = np.arange(n_right, dtype=np.int64) + 2 + n_left
    if spec.level_bonus is None:
        has = left_cap > 0
        src_heads = left_ids[has]
        src_caps = left_cap[has]
        src_costs = np.zeros(src_heads.size, np.int64)
    else:
        start = spec.left_start if spec.left_start is not None else np.zeros(n_left, np.int64)
        src_heads = np.repeat(left_ids, left_cap)
        first = np.repeat(np.cumsum(left_cap) - left_cap, left_cap)
        level = np.repeat(start, left_cap) + np.arange(src_heads.size) - first
        src_caps = np.ones(src_heads.size, np.int64)
        src_costs = -spec.level_bonus[level]
    has_r = right_cap > 0
    supply = int(min(left_cap.sum(), right_cap.sum()))
    bypass = supply
    if spec.flow_value is not None:
        supply, bypass = spec.flow_value, 0
    rows = keys // n_right
    cols = keys % n_right
    w = spec.weights[rows, cols].astype(np.int64)
    pair_costs = -(spec.pair_bonus + spec.weight_factor * w)
    tails = np.concatenate(
        [np.zeros(src_heads.size + 1, np.int64), right_ids[has_r], left_ids[rows]]
    )
    heads = np.concatenate([src_heads, [1], np.ones(int(has_r.sum()), np.int64), right_ids[cols]])
    caps = np.concatenate([src_caps, [bypass], right_cap[has_r], np.ones(keys.size, np.int64)])
    costs = np.concatenate([src_costs, [0], np.zeros(int(has_r.sum()), np.int64), pair_costs])
    return _Network(
        tails=tails,
        heads=heads,
        caps=caps.astype(np.int64),
        costs=costs.astype(np.int64),
        n_nodes=2 + n_left + n_right,
        first_pair_arc=src_heads.size + 1 + int(has_r.sum()),
        supply=supply,
    )


def _min_cost_flow(net: _Network) -> np.ndarray:
    """Optimal arc flows of ``net`` (raises SolverError if OR-Tools does not prove optimality)."""
    smcf = _SMCF()
    smcf.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.costs)
    supplies = np.zeros(net.n_nodes, np.int64)
    supplies[0] = net.supply
    supplies[1] = -net.supply
    smcf.set_nodes_supplies(np.arange(net.n_nodes), supplies)
    code = smcf.solve()
    status = ORTOOLS_STATUS.get(code, Status.UNKNOWN)
    if status is not Status.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {code!r} ({status.value})")
    return np.asarray(smcf.flows(np.arange(net.tails.size)), dtype=np.int64)


def _potentials(net: _Network, flows: np.ndarray) -> np.ndarray:
    """Feasible node potentials of the residual graph (all reduced costs >= 0)."""
    fwd = flows < net.caps
    bwd = flows > 0
    tails = np.concatenate([net.tails[fwd], net.heads[bwd]])
    heads = np.concatenate([net.heads[fwd], net.tails[bwd]])
    costs = np.concatenate([net.costs[fwd], -net.costs[bwd]])
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(net.n_nodes + 1, np.int64)
    np.cumsum(np.bincount(tails, minlength=net.n_nodes), out=indptr[1:])
    dist = _spfa(net.n_nodes, indptr, heads[order], costs[order])
    if dist.size == 0:
        raise SolverError("residual graph has a negative cycle: the flow is not optimal (a bug)")
    return np.asarray(dist)


def _violations(
    spec: FlowSpec, keys: np.ndarray, dist: np.ndarray, per_row: int
) -> tuple[np.ndarray, int]:
    """Arcs outside ``keys`` with negative reduced cost (the ``per_row`` most violated
    of each row), and how many violating arcs there were in all."""
    n_left, n_right = spec.weights.shape
    known = sorted_unique(np.concatenate([keys, spec.excluded])) if spec.excluded.size else keys
    ptr = np.searchsorted(known, np.arange(n_left + 1, dtype=np.int64) * n_right)
    rows, cols, total = violating_arcs(
        spec.weights,
        spec.min_weight,
        spec.pair_bonus,
        spec.weight_factor,
        dist[2 : 2 + n_left],
        dist[2 + n_left :],
        spec.left_cap > 0,
        spec.right_cap > 0,
        ptr,
        known % n_right,
        per_row,
    )
    return np.sort(rows * n_right + cols), int(total)


def _dual_bound(spec: FlowSpec, dist: np.ndarray) -> int:
    """Upper bound on the full problem's profit from the LP dual (plain b-matching only).

    u_i = max(d_i − d_t, 0), v_j = max(d_t − d_j, 0) are dual-feasible with slack
    z_ij = max(0, p_ij − u_i − v_j): bound = Σ cap·u + Σ cap·v + Σ z.
    """
    n_left = spec.weights.shape[0]
    d_sink = int(dist[1])
    u = np.maximum(dist[2 : 2 + n_left] - d_sink, 0)
    v = np.maximum(d_sink - dist[2 + n_left :], 0)
    total = int((spec.left_cap * u).sum()) + int((spec.right_cap * v).sum())
    return total + int(
        dual_slack_sum(
            spec.weights,
            spec.min_weight,
            spec.pair_bonus,
            spec.weight_factor,
            u,
            v,
            spec.left_cap > 0,
            spec.right_cap > 0,
        )
    )


def _priced_candidates(
    spec: FlowSpec, factor: int, k: int, dense_limit: int, rounds: int
) -> np.ndarray:
    """Top ``k`` arcs per row ranked by weight plus an estimated mentor price.

    Prices come from the same problem on every ``factor``-th left node with right
    capacities scaled by 1/``factor`` (a smaller market with the same balance),
    solved on its own (one level, no further sampling).  Only a heuristic for
    the first candidate set: the certificate still checks every arc.
    """
    n_left, n_right = spec.weights.shape
    rows = np.arange(0, n_left, factor)
    sub_right = np.maximum(np.rint(spec.right_cap * (rows.size / n_left)), 0).astype(np.int64)
    sub = FlowSpec(
        weights=np.ascontiguousarray(spec.weights[rows]),
        left_cap=spec.left_cap[rows],
        right_cap=np.where(spec.right_cap > 0, np.maximum(sub_right, 1), 0),
        min_weight=spec.min_weight,
        excluded=np.empty(0, np.int64),
        pair_bonus=spec.pair_bonus,
        weight_factor=spec.weight_factor,
        level_bonus=spec.level_bonus,
        left_start=None if spec.left_start is None else spec.left_start[rows],
        flow_value=None,
    )
    res = solve_flow(
        sub,
        dense_limit=dense_limit,
        deadline=None,
        k_row=k,
        k_col=2 * k,
        sample_factor=factor if rounds else 1,
        price_per_row=k,
        max_rounds=rounds,
        price_rounds=rounds,
    )
    if res.right_potential is None:
        return np.empty(0, np.int64)
    d_right = res.right_potential - int(res.right_potential.min())
    far = np.full(n_left, -(1 << 50), np.int64)  # every arc "violates": rank by p + d_j
    known = np.sort(spec.excluded)
    ptr = np.searchsorted(known, np.arange(n_left + 1, dtype=np.int64) * n_right)
    r, c, _ = violating_arcs(
        spec.weights,
        spec.min_weight,
        spec.pair_bonus,
        spec.weight_factor,
        far,
        d_right,
        spec.left_cap > 0,
        spec.right_cap > 0,
        ptr,
        known % n_right,
        k,
    )
    return r * n_right + c


def solve_flow(
    spec: FlowSpec,
    *,
    dense_limit: int,
    deadline: float | None,
    k_row: int,
    k_col: int,
    add_per_row: int = 16,
    sample_factor: int = 4,
    price_per_row: int = 6,
    max_rounds: int = 0,
    price_rounds: int = 0,
    initial_keys: np.ndarray | None = None,
) -> FlowResult:
    """Optimal (certified) b-matching of ``spec``; best found if ``deadline`` passes first.

    ``dense_limit``: when the matrix has at most this many entries, every arc is
    put in the network at once (nothing to certify).  Otherwise the first
    candidates are the top ``k_row`` / ``k_col`` arcs of each row / column, plus
    (for matrices over ``sample_factor × dense_limit`` entries) the top
    ``price_per_row`` of each row by weight + a price estimated on a sampled
    sub-market; each round adds the ``add_per_row`` most violated arcs of each row.
    ``initial_keys`` (sorted arc keys) replace the top-k candidates when given.

    With ``spec.flow_value`` set the flow must carry exactly that many pairs
    (the caller guarantees ``initial_keys`` carry such a flow); the certificate
    then proves optimality among all flows of that value in the full network.
    """
    n_left, n_right = spec.weights.shape
    dense = n_left * n_right <= dense_limit
    if dense:
        keys = all_arcs(spec)
    elif initial_keys is not None:
        keys = initial_keys
    else:
        keys = candidate_arcs(spec, k_row, k_col)
    t_price = 0.0
    if not dense and sample_factor > 1 and n_left * n_right > sample_factor * max(dense_limit, 1):
        t0 = time.perf_counter()
        priced = _priced_candidates(spec, sample_factor, price_per_row, dense_limit, price_rounds)
        keys = sorted_unique(np.concatenate([keys, priced]))
        t_price = time.perf_counter() - t0
    history: list[str] = []
    rounds = 0
    added_total = 0
    violators = 0
    t_flow = t_check = 0.0
    bound: int | None = None
    while True:
        rounds += 1
        t0 = time.perf_counter()
        net = _network(spec, keys)
        flows = _min_cost_flow(net)
        t_flow += time.perf_counter() - t0
        profit = -int((flows * net.costs).sum())
        if dense:
            certified, bound = True, profit
            break
        t0 = time.perf_counter()
        dist = _potentials(net, flows)
        extra, violators = _violations(spec, keys, dist, add_per_row)
        history.append(str(violators))
        t_check += time.perf_counter() - t0
        if extra.size == 0:
            certified, bound = True, profit
            break
        if (deadline is not None and time.monotonic() > deadline) or rounds == max_rounds:
            certified = False
            plain = spec.level_bonus is None and spec.flow_value is None
            bound = _dual_bound(spec, dist) if plain else None
            break
        added_total += int(extra.size)
        keys = sorted_unique(np.concatenate([keys, extra]))
    used = flows[net.first_pair_arc :] > 0
    chosen = keys[used]
    pairs = np.stack([chosen // n_right, chosen % n_right], axis=1).astype(np.int64)
    stats: dict[str, float | int | str] = {
        "path": "dense" if dense else "sparse",
        "candidate_arcs": int(keys.size),
        "rounds": rounds,
        "arcs_added": added_total,
        "violators_by_round": ",".join(history),
        "price_seconds": round(t_price, 4),
        "flow_seconds": round(t_flow, 4),
        "certify_seconds": round(t_check, 4),
    }
    return FlowResult(
        pairs=pairs,
        profit=profit,
        certified=certified,
        bound=bound,
        stats=stats,
        right_potential=None if dense else dist[2 + n_left :],
    )


@dataclass
class CardinalityResult:
    """A maximum-cardinality b-matching and the arcs it was found on."""

    keys: np.ndarray  # sorted arc keys (they carry a flow of ``value``)
    value: int  # pairs in the matching
    certified: bool  # no augmenting path in the full matrix: ``value`` is the maximum
    stats: dict[str, float | int | str] = field(default_factory=dict)


def _ptr(sorted_rows: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(sorted_rows, np.arange(n + 1, dtype=np.int64))


def max_cardinality(spec: FlowSpec, keys: np.ndarray) -> CardinalityResult:
    """Most pairs of ``spec``, certified over the whole matrix.

    :func:`maximum_bmatching` (Hopcroft–Karp from no pairs) runs until a search
    finds no augmenting path in the **full** matrix, which proves the value is
    the maximum (a flow is maximum iff its residual graph has no augmenting
    path).  The returned keys are ``keys`` plus the matching, so they carry a
    flow of that value.
    """
    n_left, n_right = spec.weights.shape
    t0 = time.perf_counter()
    excl = spec.excluded
    empty = np.empty(0, np.int64)
    rows, cols, searches, done = maximum_bmatching(
        spec.weights,
        spec.min_weight,
        spec.left_cap > 0,
        spec.right_cap > 0,
        spec.left_cap,
        spec.right_cap,
        empty,
        empty,
        _ptr(excl // n_right, n_left),
        excl % n_right,
        0,
    )
    used = sorted_unique(rows * n_right + cols)
    stats: dict[str, float | int | str] = {
        "cardinality_searches": int(searches),
        "cardinality_seconds": round(time.perf_counter() - t0, 4),
    }
    return CardinalityResult(
        keys=sorted_unique(np.concatenate([keys, used])),
        value=int(used.size),
        certified=bool(done),
        stats=stats,
    )
