"""The most pairs there can be, proven over the whole pair space (an augmenting-path search).

Count levels (``pairs``, and "covered" levels, which are the most pairs when
one side's capacities are cut to 1) have flat costs: a min-cost flow on sparse
candidates finds their optimum slowly and its duals certify it slowly.  A
breadth-first augmenting-path search over every allowed pair
(:func:`.kernels.augment_bmatching`, Hopcroft–Karp style, grouped by profile
class) both finds the optimum and proves it: the last search reaches no column
with spare capacity.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from buddymatch.solvers.assignment.flow import csr, sorted_unique, space_of
from buddymatch.solvers.assignment.kernels import augment_bmatching
from buddymatch.weights import PairWeights


@dataclass
class Cardinality:
    """A maximum b-matching (as sorted pair keys) and whether it is proven maximum."""

    keys: np.ndarray
    value: int
    certified: bool
    stats: dict[str, float | int | str] = field(default_factory=dict)


def max_cardinality(
    weights: PairWeights,
    left_cap: np.ndarray,
    right_cap: np.ndarray,
    min_weight: int,
    excluded: np.ndarray,
    start: np.ndarray | None = None,
    max_searches: int = 0,
) -> Cardinality:
    """Most pairs with these capacities over the allowed pairs (key not in ``excluded``),
    grown from the valid b-matching ``start`` (sorted keys).  ``min_weight`` must be 0:
    the search admits a pair by its class weight (overridden weights are all >= 0)."""
    t0 = time.perf_counter()
    n_left, n_right = weights.shape
    space = space_of(weights, left_cap > 0, right_cap > 0)
    if min_weight > 0:
        raise ValueError("max_cardinality counts pairs of any weight (min_weight 0)")
    blocked_rows = np.repeat(np.arange(n_left, dtype=np.int64), np.diff(weights.blocked_ptr))
    skip = sorted_unique(
        np.concatenate([blocked_rows * n_right + weights.blocked_cols, excluded.astype(np.int64)])
    )
    skip_ptr, skip_cols = csr(skip, n_left, n_right)
    init = np.empty(0, np.int64) if start is None else start
    rows, cols, searches, done = augment_bmatching(
        weights.row_class,
        weights.row_group,
        weights.class_weights,
        weights.row_codes,
        weights.col_codes,
        weights.code_same,
        skip_ptr,
        skip_cols,
        space.b_ptr,
        space.b_base,
        space.b_class,
        space.cg_ptr,
        space.rg_ptr,
        space.rg_cols,
        int(min_weight),
        left_cap.astype(np.int64),
        right_cap.astype(np.int64),
        init // max(n_right, 1),
        init % max(n_right, 1),
        int(max_searches),
    )
    keys = sorted_unique(rows * n_right + cols)
    stats: dict[str, float | int | str] = {
        "cardinality_searches": int(searches),
        "cardinality_seconds": round(time.perf_counter() - t0, 4),
    }
    return Cardinality(keys=keys, value=int(keys.size), certified=bool(done), stats=stats)
