"""What every assignment objective starts from: validated inputs with locks applied,
and the outcome types."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from buddymatch.errors import SolverError
from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.assignment.flow import (
    INT64_LIMIT,
    FlowResult,
    FlowSpec,
    Level,
    capped_degrees,
    transposed,
)
from buddymatch.weights import PairWeights

SOLVER_NAME = "ortools.SimpleMinCostFlow"


@dataclass(frozen=True)
class LevelOutcome:
    """One level of a priorities objective: its value and a proven upper bound (or None)."""

    name: str
    value: int
    bound: int | None


@dataclass(frozen=True)
class AssignmentOutcome:
    """Result of :func:`solve_assignment` (see the module docstring for units)."""

    status: Status
    pairs: np.ndarray  # (k, 2) int64 (left, right), sorted lexicographically, unique
    objective: float
    bound: float | None  # proven upper bound on objective (== objective when OPTIMAL)
    total_weight: int
    stats: dict[str, float | int | str] = field(default_factory=dict)
    levels: tuple[LevelOutcome, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """Validated inputs with the locks applied (what every objective starts from)."""

    weights: PairWeights
    left_cap: np.ndarray  # residual after locks, clipped to allowed arcs
    right_cap: np.ndarray
    locked: np.ndarray  # (k, 2) sorted unique
    locked_keys: np.ndarray
    left_locked: np.ndarray  # locked partners per left node
    right_locked: np.ndarray
    max_weight: int

    def spec(self, level: Level, **kw: object) -> FlowSpec:
        base = FlowSpec(
            weights=self.weights,
            left_cap=self.left_cap,
            right_cap=self.right_cap,
            min_weight=0,
            excluded=self.locked_keys,
            level=level,
        )
        return replace(base, **kw)  # type: ignore[arg-type]

    def weights_of(self, pairs: np.ndarray) -> np.ndarray:
        return self.weights.at(pairs[:, 0], pairs[:, 1]).astype(np.int64)


@dataclass(frozen=True)
class Favour:
    """People a ``priority-covered`` level counts and a ``score`` bonus (weight units) favours."""

    left: np.ndarray  # bool per left node
    right: np.ndarray  # bool per right node
    bonus: int = 0


def _as_int_array(a: np.ndarray, ndim: int, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension(s), got {arr.ndim}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got {arr.dtype}")
    return arr


def infeasible(reason: str, n_locked: int) -> AssignmentOutcome:
    return AssignmentOutcome(
        status=Status.INFEASIBLE,
        pairs=np.empty((0, 2), np.int64),
        objective=0.0,
        bound=None,
        total_weight=0,
        stats={"solver": SOLVER_NAME, "reason": reason, "locked": n_locked},
    )


def _as_pair_weights(weights: np.ndarray | PairWeights) -> PairWeights:
    if isinstance(weights, PairWeights):
        cw = weights.class_weights
        if cw.size and int(cw.min()) < NOT_ALLOWED:
            raise ValueError(f"weights must be >= 0, or NOT_ALLOWED ({NOT_ALLOWED})")
        return weights
    w = _as_int_array(weights, 2, "weights")
    if w.size and (w.min() < NOT_ALLOWED or w.max() > np.iinfo(np.int32).max):
        raise ValueError(
            f"weights must be >= 0, or NOT_ALLOWED ({NOT_ALLOWED}), and fit in 32 bits"
        )
    return PairWeights.from_matrix(w)


def _locks(locked: np.ndarray | None, n_left: int, n_right: int) -> np.ndarray:
    lk = np.empty((0, 2), np.int64) if locked is None else np.asarray(locked, dtype=np.int64)
    lk = lk.reshape(-1, 2) if lk.size == 0 else lk
    if lk.ndim != 2 or lk.shape[1] != 2:
        raise ValueError(f"locked must have shape (k, 2), got {lk.shape}")
    if lk.size and (
        (lk[:, 0] < 0).any()
        or (lk[:, 0] >= n_left).any()
        or (lk[:, 1] < 0).any()
        or (lk[:, 1] >= n_right).any()
    ):
        raise ValueError("locked pair index out of range")
    return np.unique(lk, axis=0)


def _capacities(
    left_capacity: np.ndarray, right_capacity: np.ndarray, n_left: int, n_right: int
) -> tuple[np.ndarray, np.ndarray]:
    lc = _as_int_array(left_capacity, 1, "left_capacity").astype(np.int64)
    rc = _as_int_array(right_capacity, 1, "right_capacity").astype(np.int64)
    if lc.shape != (n_left,) or rc.shape != (n_right,):
        raise ValueError(
            f"capacities must have lengths {n_left} and {n_right}, got {lc.size} and {rc.size}"
        )
    if (lc < 0).any() or (rc < 0).any():
        raise ValueError("capacities must be >= 0")
    return lc, rc


def _lock_problem(
    pw: PairWeights, lk: np.ndarray, lc: np.ndarray, rc: np.ndarray
) -> tuple[str | None, np.ndarray, np.ndarray, np.ndarray]:
    """The reason the locks are impossible (or None), their weights and per-node counts."""
    n_left, n_right = pw.shape
    lw = pw.at(lk[:, 0], lk[:, 1]).astype(np.int64) if lk.size else np.zeros(0, np.int64)
    left_locked = np.bincount(lk[:, 0], minlength=n_left).astype(np.int64)
    right_locked = np.bincount(lk[:, 1], minlength=n_right).astype(np.int64)
    forbidden = lw == NOT_ALLOWED
    if forbidden.any():
        i, j = lk[np.argmax(forbidden)]
        return (
            f"locked pair (left {i}, right {j}) is forbidden by a hard rule",
            lw,
            left_locked,
            right_locked,
        )
    for what, got, cap in (("left", left_locked, lc), ("right", right_locked, rc)):
        over = np.nonzero(got > cap)[0]
        if over.size:
            k = int(over[0])
            return (
                f"{what} {k} has {got[k]} locked pairs but capacity {cap[k]}",
                lw,
                left_locked,
                right_locked,
            )
    return None, lw, left_locked, right_locked


def prepare(
    weights: np.ndarray | PairWeights,
    left_capacity: np.ndarray,
    right_capacity: np.ndarray,
    locked: np.ndarray | None,
    min_weight: int,
) -> Prepared | str:
    """Validated arrays with locks applied, or the reason the locks are impossible.

    Residual capacities are clipped to the allowed pairs each node has (a node
    never needs more), counted without building any matrix.
    """
    pw = _as_pair_weights(weights)
    n_left, n_right = pw.shape
    lc, rc = _capacities(left_capacity, right_capacity, n_left, n_right)
    lk = _locks(locked, n_left, n_right)
    reason, lw, left_locked, right_locked = _lock_problem(pw, lk, lc, rc)
    if reason is not None:
        return reason
    usable = lw >= min_weight
    lu = np.bincount(lk[:, 0], weights=usable, minlength=n_left).astype(np.int64)
    ru = np.bincount(lk[:, 1], weights=usable, minlength=n_right).astype(np.int64)
    none = np.empty(0, np.int64)
    row_deg = capped_degrees(pw, lc - left_locked + lu, min_weight, none, none)
    col_deg = capped_degrees(transposed(pw), rc - right_locked + ru, min_weight, none, none)
    cw = pw.class_weights
    return Prepared(
        weights=pw,
        left_cap=np.minimum(lc - left_locked, row_deg - lu),
        right_cap=np.minimum(rc - right_locked, col_deg - ru),
        locked=lk,
        locked_keys=np.sort(lk[:, 0] * n_right + lk[:, 1]),
        left_locked=left_locked,
        right_locked=right_locked,
        max_weight=max(int(cw.max()) if cw.size else 0, 0),
    )


def check_range(what: str, max_cost: int, n_nodes: int, total: int) -> None:
    """Refuse costs whose products could leave the exact 64-bit range of the flow."""
    if max_cost * (n_nodes + 1) > INT64_LIMIT or total > INT64_LIMIT:
        raise SolverError(
            f"{what}: arc cost {max_cost} × {n_nodes + 1} nodes (or total {total}) exceeds the "
            f"64-bit limit 2^62 used for exact flows — lower capacities or split the cohort"
        )


def merge(locked: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    both = np.concatenate([locked, pairs]).astype(np.int64)
    return both[np.lexsort((both[:, 1], both[:, 0]))] if both.size else both.reshape(0, 2)


def finish(
    prep: Prepared,
    res: FlowResult,
    done: bool,
    value: float,
    bound: float | None,
    stats: dict[str, float | int | str],
    levels: tuple[LevelOutcome, ...] = (),
    pairs: np.ndarray | None = None,
) -> AssignmentOutcome:
    """The outcome of a solve: locks merged in, totals and stats."""
    pairs = merge(prep.locked, res.pairs) if pairs is None else pairs
    total = int(prep.weights_of(pairs).sum()) if pairs.size else 0
    stats = {"solver": SOLVER_NAME, "locked": len(prep.locked), **res.stats, **stats}
    stats["total_weight"] = total
    stats["pairs"] = len(pairs)
    return AssignmentOutcome(
        status=Status.OPTIMAL if done else Status.FEASIBLE,
        pairs=pairs,
        objective=value,
        bound=value if done else bound,
        total_weight=total,
        stats=stats,
        levels=levels,
    )
