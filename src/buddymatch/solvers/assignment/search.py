"""How a level is solved: which candidates first, then the certified rounds of :mod:`.flow`.

- small pair spaces: every arc at once (nothing to certify);
- people sharing profiles: the class-level optimum, disaggregated and priced
  (:mod:`.classes`);
- otherwise: the top arcs of each row and column by weight, plus (large
  spaces) arcs priced by a sampled sub-market.
"""

from __future__ import annotations

import time

import numpy as np

from buddymatch.solvers.assignment.classes import class_candidates
from buddymatch.solvers.assignment.flow import (
    FlowResult,
    FlowSpec,
    Level,
    Start,
    all_arcs,
    candidate_arcs,
    certify_rounds,
    scan_top,
    sorted_unique,
)


def _priced_candidates(
    spec: FlowSpec, factor: int, k: int, dense_limit: int, rounds: int
) -> np.ndarray:
    """Top ``k`` arcs per row ranked by weight plus an estimated mentor price.

    Prices come from the same market on every ``factor``-th left node with right
    capacities scaled by 1/``factor`` (a smaller market with the same balance),
    solved on its own for total weight (one level, no further sampling): prices
    make popular mentors dear, so the candidates spread over every mentor, which
    a count level (whose own duals are flat) needs as much as a weighted one.
    Only a heuristic for the first candidate set: the certificate still checks
    every arc.
    """
    n_left = spec.weights.shape[0]
    rows = np.arange(0, n_left, factor)
    sub_right = np.maximum(np.rint(spec.right_cap * (rows.size / n_left)), 0).astype(np.int64)
    level = spec.level if spec.level.weight_factor else Level("score", weight_factor=1)
    sub = FlowSpec(
        weights=spec.weights.take_rows(rows),
        left_cap=spec.left_cap[rows],
        right_cap=np.where(spec.right_cap > 0, np.maximum(sub_right, 1), 0),
        min_weight=spec.min_weight,
        excluded=np.empty(0, np.int64),
        level=level.take_rows(rows),
        left_start=None if spec.left_start is None else spec.left_start[rows],
        split_left=spec.split_left,
        split_right=spec.split_right,
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
    if res.dist is None:
        return np.empty(0, np.int64)
    d_right = res.dist[2 + rows.size :]
    key = d_right - int(d_right.min(initial=0))
    if level.right_add is not None:
        key = key + level.right_add
    return scan_top(spec, key, k)


def solve_flow(
    spec: FlowSpec,
    *,
    dense_limit: int,
    deadline: float | None,
    k_row: int,
    k_col: int,
    add_per_row: int = 32,
    sample_factor: int = 4,
    price_per_row: int = 12,
    max_rounds: int = 0,
    price_rounds: int = 0,
    initial_keys: np.ndarray | None = None,
    extra_keys: np.ndarray | None = None,
    known_optimum: int | None = None,
) -> FlowResult:
    """Optimal (certified) b-matching of ``spec``; best found if ``deadline`` passes first.

    ``dense_limit``: when the pair space has at most this many pairs, every
    arc is put in the network at once (nothing to certify).  Otherwise the
    first candidates are ``initial_keys`` when given (they must carry a flow of
    ``spec.flow_value`` and lie on the faces: the previous level's network),
    else the top ``k_row`` / ``k_col`` arcs of each row / column, plus (for
    spaces over ``sample_factor × dense_limit`` pairs) the top
    ``price_per_row`` of each row by weight + a price estimated on a sampled
    sub-market; each round adds the ``add_per_row`` best violating arcs of each row.
    ``extra_keys`` join whichever first candidates are used (e.g. a maximum
    matching, so that a flow of ``spec.flow_value`` exists on them).
    ``known_optimum``: the level's optimal profit, proven elsewhere; a flow
    reaching it is optimal, so its potentials are repaired for longer rather
    than re-solved.
    """
    n_left, n_right = spec.weights.shape
    dense = n_left * n_right <= dense_limit
    t0 = time.perf_counter()
    start: Start | None = None
    if dense:
        keys = all_arcs(spec)
    elif initial_keys is not None:
        keys = initial_keys
    else:
        by_class = None
        if sample_factor > 1:  # not inside a sub-market or a class-level solve

            def inner(agg: FlowSpec, extra: np.ndarray | None) -> FlowResult:
                return solve_flow(
                    agg,
                    dense_limit=dense_limit,
                    deadline=deadline,
                    k_row=k_row,
                    k_col=k_col,
                    extra_keys=extra,
                )

            by_class = class_candidates(spec, 2, inner, extra_keys)
        if by_class is not None:  # near optimal already: add violators sparingly
            keys, start = by_class
            add_per_row = min(add_per_row, 4)
        else:
            keys = candidate_arcs(spec, k_row, k_col)
            if sample_factor > 1 and n_left * n_right > sample_factor * max(dense_limit, 1):
                priced = _priced_candidates(
                    spec, sample_factor, price_per_row, dense_limit, price_rounds
                )
                keys = sorted_unique(np.concatenate([keys, priced]))
    t_price = time.perf_counter() - t0
    if extra_keys is not None and not dense:
        keys = sorted_unique(np.concatenate([keys, extra_keys]))
    res = certify_rounds(
        spec, keys, dense, deadline, add_per_row, max_rounds, t_price, known_optimum, start
    )
    res.stats["class_level"] = int(start is not None)
    return res
