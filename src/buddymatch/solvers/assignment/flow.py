"""Certified sparse min-cost flow for one level of a lexicographic b-matching objective.

The exact model (every objective of :mod:`.solve` is a sequence of these)::

    source --(mentee i: residual capacity; optionally a first-unit arc + the rest)--> i
    i --(cap 1, profit pair_bonus + factor * w[i, j] + left_add[i] + right_add[j])--> j
    j --(mentor j: residual capacity; optionally a first-unit arc + the rest)--> sink
    source --(bypass, profit 0)--> sink

A first-unit arc carries a profit (``left_first[i]``, ``right_first[j]``) for
a person's first partner only: the profit is concave in the number of
partners, so a min-cost flow takes the first-unit arc first and "covered" (has
at least one partner) is counted exactly.  ``unit_bonus`` (the ``fair``
objective) gives each unit of a mentee's capacity its own arc.

A min-cost flow of value ``S = min(Σ left, Σ right)`` with costs = −profit is a
maximum-profit b-matching (the bypass lets units stay unmatched).  With
``flow_value = k`` the bypass is closed: exactly ``k`` pairs.

**Lexicographic levels.**  A level solved to proven optimality leaves node
potentials ``d`` (shortest-path distances in the residual graph) under which
every arc has a non-negative residual reduced cost.  By complementary
slackness the flows optimal for that level are exactly the feasible flows
with ``x = 0`` on arcs of positive reduced cost and ``x = cap`` on arcs of
negative reduced cost (its *optimal face*).  Later levels are solved on that
face (:class:`Face`): arcs are removed or fixed (their flow moved into node
supplies) and, for pairs outside the network, "tight for every earlier level"
is part of the pricing.  Counting pairs is fixed by ``flow_value`` instead.
No big-M: each level's costs are its own small numbers, so nothing can
overflow however many levels there are.

**Certificate.**  Pairs come from a sparse candidate set; the flow is proven
optimal over the whole pair space when no pair outside the network (and on
the face) has a positive gain ``profit(i, j) − (d_i − d_j)`` (a negative
reduced cost): then the full residual graph has no negative cycle.  The check
is :func:`.kernels.scan` over every allowed pair, grouped by profile class.
Violating pairs are added and the level re-solved until none remain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numba
import numpy as np
from ortools.graph.python import min_cost_flow

from buddymatch.errors import SolverError
from buddymatch.solvers import Status
from buddymatch.solvers.assignment.kernels import FAR, Faces, Space, count_allowed, scan
from buddymatch.weights import PairWeights

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


@dataclass(frozen=True)
class Level:
    """The profit of one unit of flow on each kind of arc, for one objective level."""

    name: str
    pair_bonus: int = 0
    weight_factor: int = 0
    left_add: np.ndarray | None = None  # (n_left,) added to the profit of each pair of row i
    right_add: np.ndarray | None = None  # (n_right,)
    left_first: np.ndarray | None = None  # (n_left,) profit of row i's first partner
    right_first: np.ndarray | None = None  # (n_right,) profit of column j's first partner
    unit_bonus: np.ndarray | None = None  # (L,) profit of a row's k-th partner (fair)

    def take_rows(self, rows: np.ndarray) -> Level:
        """The level on a subset of rows (the per-row arrays cut to them)."""
        cut = {
            k: getattr(self, k)[rows]
            for k in ("left_add", "left_first")
            if getattr(self, k) is not None
        }
        return replace(self, **cut)


@dataclass(frozen=True)
class Face:
    """A solved level and its certified potentials: later levels stay on its optimal face."""

    level: Level
    dist: np.ndarray  # node potentials (source, sink, rows, columns)


@dataclass(frozen=True)
class FlowSpec:
    """One level of a max-profit b-matching over the allowed pairs of ``weights``.

    A pair ``(i, j)`` can be an arc when its weight is ``>= min_weight`` (weights
    use ``NOT_ALLOWED = -1``; ``min_weight >= 0``), its key ``i * n_right + j``
    is not in ``excluded`` (sorted; locked pairs already made), both residual
    capacities are positive and it is tight for every face.
    """

    weights: PairWeights
    left_cap: np.ndarray  # int64, residual capacity after locks
    right_cap: np.ndarray  # int64
    min_weight: int
    excluded: np.ndarray  # sorted int64 keys
    level: Level
    left_start: np.ndarray | None = None  # partners a left node already has (locked)
    faces: tuple[Face, ...] = ()
    flow_value: int | None = None  # exactly this many pairs (no bypass); None: any number
    split_left: bool = False  # first-unit arcs on the row side
    split_right: bool = False
    wide_pairs: bool = False  # a pair arc carries up to min(both capacities) (class level)
    unit_arcs: bool = False  # one source arc per unit of a row's capacity (coverage by depth)


@dataclass
class FlowResult:
    """Pairs of the best flow found and what was proven about it."""

    pairs: np.ndarray  # (k, 2) int64, sorted
    profit: int  # the level's profit of the flow (fixed arcs included)
    certified: bool  # optimal for the whole pair space, not just the candidates
    bound: int | None  # proven upper bound on profit (None if unknown)
    keys: np.ndarray  # sorted pair keys of the network (they carry this flow)
    dist: np.ndarray | None = None  # node potentials of the residual graph
    amounts: np.ndarray | None = None  # flow on each pair of ``pairs`` (wide pairs)
    stats: dict[str, float | int | str] = field(default_factory=dict)


@numba.njit(cache=True)
def _spfa(
    dist: np.ndarray,
    start: np.ndarray,
    indptr: np.ndarray,
    heads: np.ndarray,
    costs: np.ndarray,
    max_pushes: int,
) -> bool:
    """Lower ``dist`` (in place) to shortest distances, from the nodes ``start``.

    Queue-based Bellman-Ford.  With ``dist`` all 0 and every node a start, the
    distances are those from a virtual root joined to every node by a 0-cost
    arc.  Returns False when more than ``max_pushes`` queue insertions were
    needed (a negative cycle — the flow is not optimal — or a long repair).
    """
    n = dist.size
    in_queue = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.int64)
    size = 0
    for k in range(start.size):
        u = start[k]
        if not in_queue[u]:
            in_queue[u] = True
            queue[size] = u
            size += 1
    head = 0
    pushes = 0
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
                    pushes += 1
                    if pushes > max_pushes:
                        return False
                    queue[(head + size) % n] = v
                    size += 1
                    in_queue[v] = True
    return True


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is slow on millions of int64)."""
    a = np.sort(a, kind="stable")
    if a.size == 0:
        return a
    keep = np.empty(a.size, bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def csr(keys: np.ndarray, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and per-row sorted columns of sorted pair keys."""
    ptr = np.searchsorted(keys, np.arange(n_rows + 1, dtype=np.int64) * max(n_cols, 1))
    return ptr.astype(np.int64), (keys % max(n_cols, 1)).astype(np.int64)


# --- the spaces of a spec (cached: built once per weights and capacities) ---------------------


_SPACES: dict[tuple[int, int, bytes, bytes], Space] = {}


def space_of(weights: PairWeights, rows_ok: np.ndarray, cols_ok: np.ndarray) -> Space:
    """The :class:`Space` of these weights and open rows/columns (a small cache)."""
    key = (
        id(weights),
        weights.shape[0],
        np.packbits(rows_ok).tobytes(),
        np.packbits(cols_ok).tobytes(),
    )
    found = _SPACES.get(key)
    if found is None or found.weights is not weights:
        if len(_SPACES) > 8:
            _SPACES.clear()
        found = _SPACES[key] = Space.build(weights, rows_ok, cols_ok)
    return found


_TRANSPOSED: dict[int, tuple[PairWeights, PairWeights]] = {}


def transposed(weights: PairWeights) -> PairWeights:
    """``weights.transposed()``, kept while the same weights are in use."""
    found = _TRANSPOSED.get(id(weights))
    if found is None or found[0] is not weights:
        _TRANSPOSED.clear()
        found = _TRANSPOSED[id(weights)] = (weights, weights.transposed())
    return found[1]


def _spaces(spec: FlowSpec) -> Space:
    return space_of(spec.weights, spec.left_cap > 0, spec.right_cap > 0)


def all_arcs(spec: FlowSpec) -> np.ndarray:
    """Sorted keys of every arc of the full network (the dense path)."""
    n_left, n_right = spec.weights.shape
    found = scan(
        _spaces(spec),
        thr=np.full(n_left, -FAR, np.int64),
        key=np.zeros(n_right, np.int64),
        factor=0,
        min_weight=spec.min_weight,
        limit=np.full(n_left, n_right, np.int64),
        known_ptr=csr(spec.excluded, n_left, n_right)[0],
        known_cols=csr(spec.excluded, n_left, n_right)[1],
    )
    return np.sort(found.rows * n_right + found.cols)


def candidate_arcs(spec: FlowSpec, k_row: int, k_col: int) -> np.ndarray:
    """Sorted keys of the top ``k_row`` arcs of each row and ``k_col`` of each column by weight."""
    n_left, n_right = spec.weights.shape
    ptr, cols = csr(spec.excluded, n_left, n_right)
    rows = scan(
        _spaces(spec),
        thr=np.full(n_left, -FAR, np.int64),
        key=np.zeros(n_right, np.int64),
        factor=1,
        min_weight=spec.min_weight,
        limit=np.full(n_left, min(k_row, n_right), np.int64),
        known_ptr=ptr,
        known_cols=cols,
    )
    keys = [rows.rows * n_right + rows.cols]
    if k_col > 0 and n_left:
        t = transposed(spec.weights)
        excl_t = np.sort((spec.excluded % n_right) * n_left + spec.excluded // n_right)
        tptr, tcols = csr(excl_t, n_right, n_left)
        by_col = scan(
            space_of(t, spec.right_cap > 0, spec.left_cap > 0),
            thr=np.full(n_right, -FAR, np.int64),
            key=np.zeros(n_left, np.int64),
            factor=1,
            min_weight=spec.min_weight,
            limit=np.full(n_right, min(k_col, n_left), np.int64),
            known_ptr=tptr,
            known_cols=tcols,
        )
        keys.append(by_col.cols * n_right + by_col.rows)
    return sorted_unique(np.concatenate(keys))


def capped_degrees(
    weights: PairWeights,
    cap: np.ndarray,
    min_weight: int,
    excluded_rows: np.ndarray,
    excluded_cols: np.ndarray,
    cols_ok: np.ndarray | None = None,
) -> np.ndarray:
    """Per row: how many allowed pairs (weight >= ``min_weight``, not excluded, column in
    ``cols_ok``) it has, counted up to ``cap`` (a row never needs more)."""
    n_left, n_right = weights.shape
    blocked_rows = np.repeat(np.arange(n_left, dtype=np.int64), np.diff(weights.blocked_ptr))
    skip = sorted_unique(
        np.concatenate(
            [
                blocked_rows * n_right + weights.blocked_cols,
                excluded_rows.astype(np.int64) * n_right + excluded_cols,
            ]
        )
    )
    skip_ptr, skip_cols = csr(skip, n_left, n_right)
    space = space_of(weights, cap > 0, np.ones(n_right, bool) if cols_ok is None else cols_ok)
    return count_allowed(
        space.eg_ptr,
        space.eg_rows,
        space.eg_class,
        space.eg_group,
        space.b_ptr,
        space.b_base,
        space.b_class,
        space.cg_ptr,
        space.rg_ptr,
        space.rg_cols,
        weights.class_weights,
        weights.row_codes,
        weights.col_codes,
        weights.code_same,
        skip_ptr,
        skip_cols,
        weights.override_ptr,
        weights.override_cols,
        weights.override_values,
        space.b_of_col,
        weights.col_class,
        weights.col_group,
        weights.group_allowed,
        int(min_weight),
        np.asarray(cap, np.int64),
    )


# --- the network ------------------------------------------------------------------------------


@dataclass
class _Network:
    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray  # capacity of free arcs (0 for removed and fixed ones)
    costs: np.ndarray  # the current level's cost (−profit) per arc
    fixed: np.ndarray  # flow forced by a face (0 or the arc's capacity)
    supplies: np.ndarray
    n_nodes: int
    first_pair_arc: int
    keys: np.ndarray  # pair keys, in arc order


@dataclass(frozen=True)
class _Arcs:
    """The arcs of a network: which row/column each serves and which unit of it."""

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    src_row: np.ndarray  # row of each source arc
    src_unit: np.ndarray  # -1: all units, 0: the first unit, 1: the rest, k: unit k (fair)
    snk_col: np.ndarray
    snk_unit: np.ndarray
    pair_rows: np.ndarray
    pair_cols: np.ndarray
    pair_w: np.ndarray
    n_nodes: int
    supply: int
    bypass: int


def _source_arcs(spec: FlowSpec, unit_arcs: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, unit, capacity) of each source arc (see :class:`_Arcs`)."""
    n_left = spec.weights.shape[0]
    cap = spec.left_cap
    if unit_arcs:
        start = spec.left_start if spec.left_start is not None else np.zeros(n_left, np.int64)
        row = np.repeat(np.arange(n_left, dtype=np.int64), cap)
        first = np.repeat(np.cumsum(cap) - cap, cap)
        unit = np.repeat(start, cap) + np.arange(row.size) - first
        return row, unit, np.ones(row.size, np.int64)
    return _split(cap, spec.split_left)


def _split(cap: np.ndarray, split: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = np.flatnonzero(cap > 0).astype(np.int64)
    if not split:
        return idx, np.full(idx.size, -1, np.int64), cap[idx]
    rest = idx[cap[idx] > 1]
    node = np.concatenate([idx, rest])
    unit = np.concatenate([np.zeros(idx.size, np.int64), np.ones(rest.size, np.int64)])
    caps = np.concatenate([np.ones(idx.size, np.int64), cap[rest] - 1])
    order = np.lexsort((unit, node))
    return node[order], unit[order], caps[order]


def _arcs(spec: FlowSpec, keys: np.ndarray) -> _Arcs:
    n_left, n_right = spec.weights.shape
    unit_arcs = spec.unit_arcs or spec.level.unit_bonus is not None
    src_row, src_unit, src_cap = _source_arcs(spec, unit_arcs)
    snk_col, snk_unit, snk_cap = _split(spec.right_cap, spec.split_right)
    supply = int(min(spec.left_cap.sum(), spec.right_cap.sum()))
    bypass = supply
    if spec.flow_value is not None:
        supply, bypass = spec.flow_value, 0
    rows, cols = keys // n_right, keys % n_right
    left_ids, right_ids = 2 + rows, 2 + n_left + cols
    tails = np.concatenate([np.zeros(src_row.size + 1, np.int64), 2 + n_left + snk_col, left_ids])
    heads = np.concatenate([2 + src_row, [1], np.ones(snk_col.size, np.int64), right_ids])
    pair_cap = np.ones(keys.size, np.int64)
    if spec.wide_pairs:
        pair_cap = np.minimum(spec.left_cap[rows], spec.right_cap[cols])
    caps = np.concatenate([src_cap, [bypass], snk_cap, pair_cap])
    return _Arcs(
        tails=tails,
        heads=heads,
        caps=caps.astype(np.int64),
        src_row=src_row,
        src_unit=src_unit,
        snk_col=snk_col,
        snk_unit=snk_unit,
        pair_rows=rows,
        pair_cols=cols,
        pair_w=spec.weights.at(rows, cols).astype(np.int64),
        n_nodes=2 + n_left + n_right,
        supply=supply,
        bypass=bypass,
    )


def _profits(level: Level, arcs: _Arcs) -> np.ndarray:
    """The level's profit of one unit on each arc."""
    src = np.zeros(arcs.src_row.size, np.int64)
    if level.unit_bonus is not None:
        src = level.unit_bonus[np.maximum(arcs.src_unit, 0)].astype(np.int64)
    elif level.left_first is not None:
        src = np.where(arcs.src_unit == 0, level.left_first[arcs.src_row], 0).astype(np.int64)
    snk = np.zeros(arcs.snk_col.size, np.int64)
    if level.right_first is not None:
        snk = np.where(arcs.snk_unit == 0, level.right_first[arcs.snk_col], 0).astype(np.int64)
    pair = level.pair_bonus + level.weight_factor * arcs.pair_w
    if level.left_add is not None:
        pair = pair + level.left_add[arcs.pair_rows]
    if level.right_add is not None:
        pair = pair + level.right_add[arcs.pair_cols]
    return np.concatenate([src, [0], snk, pair]).astype(np.int64)


def _network(spec: FlowSpec, keys: np.ndarray) -> _Network:
    """The network of ``spec`` on the pair arcs ``keys``, on the faces of earlier levels."""
    arcs = _arcs(spec, keys)
    caps = arcs.caps.copy()
    fixed = np.zeros(caps.size, np.int64)
    open_ = np.ones(caps.size, bool)
    for face in spec.faces:
        rc = -_profits(face.level, arcs) + face.dist[arcs.tails] - face.dist[arcs.heads]
        fix = open_ & (rc < 0)
        fixed[fix] = caps[fix]
        caps[open_ & (rc != 0)] = 0
        open_ &= rc == 0
    supplies = np.zeros(arcs.n_nodes, np.int64)
    supplies[0], supplies[1] = arcs.supply, -arcs.supply
    np.subtract.at(supplies, arcs.tails, fixed)
    np.add.at(supplies, arcs.heads, fixed)
    return _Network(
        tails=arcs.tails,
        heads=arcs.heads,
        caps=caps,
        costs=-_profits(spec.level, arcs),
        fixed=fixed,
        supplies=supplies,
        n_nodes=arcs.n_nodes,
        first_pair_arc=arcs.caps.size - keys.size,
        keys=keys,
    )


def _min_cost_flow(net: _Network) -> np.ndarray:
    """Optimal flows of the free arcs (raises SolverError if OR-Tools does not prove it)."""
    smcf = _SMCF()
    smcf.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.costs)
    smcf.set_nodes_supplies(np.arange(net.n_nodes), net.supplies)
    code = smcf.solve()
    status = ORTOOLS_STATUS.get(code, Status.UNKNOWN)
    if status is not Status.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {code!r} ({status.value})")
    return np.asarray(smcf.flows(np.arange(net.tails.size)), dtype=np.int64)


@dataclass(frozen=True)
class _Residual:
    """The residual graph of a flow on the network, as CSR (tails implied by indptr)."""

    indptr: np.ndarray
    heads: np.ndarray
    costs: np.ndarray


def _residual(net: _Network, flows: np.ndarray) -> _Residual:
    fwd = flows < net.caps
    bwd = flows > 0
    tails = np.concatenate([net.tails[fwd], net.heads[bwd]])
    heads = np.concatenate([net.heads[fwd], net.tails[bwd]])
    costs = np.concatenate([net.costs[fwd], -net.costs[bwd]])
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(net.n_nodes + 1, np.int64)
    np.cumsum(np.bincount(tails, minlength=net.n_nodes), out=indptr[1:])
    return _Residual(indptr, heads[order], costs[order])


def _potentials(
    net: _Network, graph: _Residual, warm: np.ndarray | None = None, budget: int | None = None
) -> np.ndarray | None:
    """Feasible node potentials of the residual graph (all reduced costs >= 0), lowered
    from ``warm`` (default 0); None when there is a negative cycle (within ``budget``
    queue insertions): the flow is not optimal."""
    dist = np.zeros(net.n_nodes, np.int64) if warm is None else warm.astype(np.int64).copy()
    every = np.arange(net.n_nodes, dtype=np.int64)
    limit = net.n_nodes**2 + 1 if budget is None else budget
    if not _spfa(dist, every, graph.indptr, graph.heads, graph.costs, limit):
        return None
    return dist


def _flows_of(net: _Network, chosen: np.ndarray) -> np.ndarray | None:
    """Arc flows of the b-matching ``chosen`` (sorted pair keys) on a network with one arc
    per row and per column (None when it has split or fixed arcs, or ``chosen`` does not
    fit it)."""
    first = net.first_pair_arc
    if net.fixed.any() or not np.isin(chosen, net.keys).all():
        return None
    flows = np.zeros(net.tails.size, np.int64)
    pos = np.searchsorted(net.keys, chosen)
    flows[first + pos] = 1
    tails, heads = net.tails[first + pos], net.heads[first + pos]
    deg = np.bincount(np.concatenate([tails, heads]), minlength=net.n_nodes)
    src = np.flatnonzero(net.tails[:first] == 0)
    bypass = src[net.heads[src] == 1]
    rows = src[net.heads[src] != 1]
    cols = np.flatnonzero(net.heads[:first] == 1)
    cols = cols[net.tails[cols] != 0]
    if np.unique(net.heads[rows]).size != rows.size or bypass.size != 1:
        return None  # split arcs: not this simple network
    flows[rows] = deg[net.heads[rows]]
    flows[cols] = deg[net.tails[cols]]
    flows[bypass] = net.supplies[0] - chosen.size
    if (flows > net.caps).any() or (flows < 0).any():
        return None
    return flows


def _thresholds(level: Level, dist: np.ndarray, n_left: int) -> tuple[np.ndarray, np.ndarray]:
    """(thr, key) of :func:`.kernels.scan` for this level's pair gains under ``dist``."""
    thr = dist[2 : 2 + n_left] - level.pair_bonus
    if level.left_add is not None:
        thr = thr - level.left_add
    key = dist[2 + n_left :].copy()
    if level.right_add is not None:
        key = key + level.right_add
    return thr.astype(np.int64), key.astype(np.int64)


def _faces(spec: FlowSpec) -> Faces:
    n_left, n_right = spec.weights.shape
    if not spec.faces:
        return Faces.none(n_left, n_right)
    parts = [_thresholds(f.level, f.dist, n_left) for f in spec.faces]
    return Faces(
        thr=np.stack([p[0] for p in parts]),
        key=np.stack([p[1] for p in parts]),
        factor=np.array([f.level.weight_factor for f in spec.faces], np.int64),
    )


def _pricing(
    spec: FlowSpec, keys: np.ndarray, dist: np.ndarray, per_row: int, sum_mode: bool = False
) -> tuple[np.ndarray, int, int]:
    """Pairs outside ``keys`` (and on the faces) with a positive gain under ``dist``:
    the ``per_row`` best of each row, how many were found, and (sum mode) their gains."""
    n_left, n_right = spec.weights.shape
    known = sorted_unique(np.concatenate([keys, spec.excluded])) if spec.excluded.size else keys
    ptr, cols = csr(known, n_left, n_right)
    thr, key = _thresholds(spec.level, dist, n_left)
    found = scan(
        _spaces(spec),
        thr=thr,
        key=key,
        factor=spec.level.weight_factor,
        min_weight=spec.min_weight,
        limit=np.full(n_left, per_row, np.int64),
        known_ptr=ptr,
        known_cols=cols,
        faces=_faces(spec),
        sum_mode=sum_mode,
    )
    return np.sort(found.rows * n_right + found.cols), found.found, found.gain_sum


def _transposed_faces(spec: FlowSpec) -> Faces:
    f = _faces(spec)
    return Faces(thr=-f.key, key=-f.thr, factor=f.factor)


def _repair(
    spec: FlowSpec, keys: np.ndarray, graph: _Residual, dist: np.ndarray, max_iter: int
) -> tuple[bool, np.ndarray]:
    """Lower ``dist`` until it certifies the flow over the whole pair space (True), or give up.

    A flow optimal on the network is often optimal on the whole space while the
    network's shortest-path potentials are not a certificate (count levels have
    flat costs: degenerate duals).  Instead of re-solving with more arcs, each
    column's potential is lowered to its best pair outside the network (one
    :func:`.kernels.scan` from the column side) and the change propagated
    through the network's residual graph (Bellman-Ford from the changed
    nodes).  When a scan finds nothing, every pair of the space has a
    non-negative reduced cost under ``dist``: the certificate.  Gives up after
    ``max_iter`` scans or a long propagation (e.g. a negative cycle: the flow is
    not optimal), leaving ``dist`` unusable; the pairs its scans found are then
    returned (as keys): they lie on the improving cycles, the arcs to add.
    """
    n_left, n_right = spec.weights.shape
    known = sorted_unique(np.concatenate([keys, spec.excluded])) if spec.excluded.size else keys
    known_t = np.sort((known % n_right) * n_left + known // n_right)
    ptr, cols = csr(known_t, n_right, n_left)
    space = space_of(transposed(spec.weights), spec.right_cap > 0, spec.left_cap > 0)
    faces = _transposed_faces(spec)
    seen: list[np.ndarray] = []
    for _ in range(max_iter):
        thr, key = _thresholds(spec.level, dist, n_left)
        found = scan(
            space,
            thr=-key,
            key=-thr,
            factor=spec.level.weight_factor,
            min_weight=spec.min_weight,
            limit=np.ones(n_right, np.int64),
            known_ptr=ptr,
            known_cols=cols,
            faces=faces,
        )
        if found.rows.size == 0:
            return True, np.empty(0, np.int64)
        j, i = found.rows, found.cols
        seen.append(i * n_right + j)
        w = spec.weights.at(i, j).astype(np.int64)
        gain = spec.level.weight_factor * w + key[j] - thr[i]
        nodes = 2 + n_left + j
        dist[nodes] -= gain
        budget = 10 * dist.size
        if not _spfa(dist, nodes, graph.indptr, graph.heads, graph.costs, budget):
            break
    return False, sorted_unique(np.concatenate(seen))


def _dual_bound(spec: FlowSpec, net: _Network, flows: np.ndarray, dist: np.ndarray) -> int:
    """Upper bound on the level's profit over the whole pair space from potentials ``dist``.

    For any potentials d: cost(x) = Σ rc·x − Σ_v d(v)·b(v) >= Σ cap·min(rc, 0) − Σ d·b,
    over the free arcs of the network and every pair outside it on the faces (cap 1).
    """
    rc = net.costs + dist[net.tails] - dist[net.heads]
    inside = int((net.caps * np.maximum(-rc, 0)).sum())
    _, _, outside = _pricing(spec, net.keys, dist, 0, sum_mode=True)
    fixed_profit = -int((net.fixed * net.costs).sum())
    return int((dist * net.supplies).sum()) + inside + outside + fixed_profit


def scan_top(spec: FlowSpec, key: np.ndarray, k: int) -> np.ndarray:
    """Keys of each row's ``k`` best arcs by ``factor * weight + key[j]`` (ties: bucket
    order), where ``factor`` is the level's (1 for a count level)."""
    n_left, n_right = spec.weights.shape
    ptr, cols = csr(spec.excluded, n_left, n_right)
    found = scan(
        _spaces(spec),
        thr=np.full(n_left, -FAR, np.int64),
        key=key.astype(np.int64),
        factor=spec.level.weight_factor or 1,
        min_weight=spec.min_weight,
        limit=np.full(n_left, k, np.int64),
        known_ptr=ptr,
        known_cols=cols,
    )
    return found.rows * n_right + found.cols


@dataclass(frozen=True)
class Start:
    """A known starting point: a b-matching believed optimal and potentials near a
    certificate (from the class level).  Used only if it checks out."""

    chosen: np.ndarray | None  # sorted pair keys
    warm: np.ndarray  # node potentials


def _solve_round(net: _Network, start: Start | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The flow of one round and its potentials: the start's flow when its residual graph
    has no negative cycle (no solve needed), else a min-cost flow."""
    if start is not None and start.chosen is not None:
        flows = _flows_of(net, start.chosen)
        if flows is not None:
            dist = _potentials(net, _residual(net, flows), start.warm, 20 * net.n_nodes)
            if dist is not None:
                return flows, dist
    flows = _min_cost_flow(net)
    dist = _potentials(net, _residual(net, flows), None if start is None else start.warm)
    if dist is None:
        raise SolverError("residual graph has a negative cycle: the flow is not optimal (a bug)")
    return flows, dist


def certify_rounds(
    spec: FlowSpec,
    keys: np.ndarray,
    dense: bool,
    deadline: float | None,
    add_per_row: int,
    max_rounds: int,
    t_price: float,
    known_optimum: int | None = None,
    start: Start | None = None,
) -> FlowResult:
    """Solve, price every pair, add the violators, until none remain (or time is up)."""
    n_right = spec.weights.shape[1]
    history: list[str] = []
    rounds = added_total = 0
    t_flow = t_check = 0.0
    while True:
        rounds += 1
        t0 = time.perf_counter()
        net = _network(spec, keys)
        flows, dist = _solve_round(net, start if rounds == 1 else None)
        t_flow += time.perf_counter() - t0
        profit = -int(((flows + net.fixed) * net.costs).sum())
        t0 = time.perf_counter()
        graph = _residual(net, flows)
        assert dist is not None  # also the face of this level for the next one
        if dense:
            certified, bound = True, profit
            break
        repaired = dist.copy()
        repairs = 64 if known_optimum is not None and profit >= known_optimum else 8
        done, cycle_arcs = _repair(spec, keys, graph, repaired, repairs)
        if done:
            history.append("0")
            t_check += time.perf_counter() - t0
            certified, bound, dist = True, profit, repaired
            break
        extra, violators, _ = _pricing(spec, keys, dist, add_per_row)
        extra = sorted_unique(np.concatenate([extra, cycle_arcs]))
        history.append(str(violators))
        t_check += time.perf_counter() - t0
        if extra.size == 0:
            certified, bound = True, profit
            break
        if (deadline is not None and time.monotonic() > deadline) or rounds == max_rounds:
            certified = False
            bound = _dual_bound(spec, net, flows, dist)
            break
        added_total += int(extra.size)
        keys = sorted_unique(np.concatenate([keys, extra]))
    carried = (flows + net.fixed)[net.first_pair_arc :]
    used = carried > 0
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
        keys=keys,
        dist=dist,
        stats=stats,
        amounts=carried[used],
    )


def clear_caches() -> None:
    """Forget the spaces and transposed weights kept during a solve (they can be large)."""
    _SPACES.clear()
    _TRANSPOSED.clear()


def flow_on(spec: FlowSpec, keys: np.ndarray) -> np.ndarray:
    """Pairs of a best flow of ``spec`` using only the pair arcs ``keys`` (no certificate:
    a witness that some result exists on them, not that nothing better does)."""
    n_right = spec.weights.shape[1]
    if keys.size:
        w = spec.weights.at(keys // n_right, keys % n_right)
        keys = keys[w >= spec.min_weight]
    net = _network(spec, keys)
    flows = _min_cost_flow(net)
    chosen = keys[(flows + net.fixed)[net.first_pair_arc :] > 0]
    return np.stack([chosen // n_right, chosen % n_right], axis=1).astype(np.int64)
