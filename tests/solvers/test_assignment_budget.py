"""solve_with_changes: a budget on breaking current pairs, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.assignment import solve_assignment, solve_with_changes


@st.composite
def instances(draw):  # type: ignore[no-untyped-def]
    """A small weight matrix, capacities, and a feasible set of current (kept) pairs."""
    n_left = draw(st.integers(1, 5))
    n_right = draw(st.integers(1, 4))
    cells = st.one_of(st.just(NOT_ALLOWED), st.integers(0, 9))
    w = np.array([[draw(cells) for _ in range(n_right)] for _ in range(n_left)], dtype=np.int32)
    lc = np.array([draw(st.integers(0, 2)) for _ in range(n_left)], dtype=np.int64)
    rc = np.array([draw(st.integers(0, 2)) for _ in range(n_right)], dtype=np.int64)
    kept = []
    load_l, load_r = np.zeros(n_left, int), np.zeros(n_right, int)
    order = sorted(itertools.product(range(n_left), range(n_right)), key=lambda p: w[p])
    for i, j in order:  # cheapest first: current pairs that breaking may improve on
        if w[i, j] >= 0 and load_l[i] < lc[i] and load_r[j] < rc[j] and draw(st.booleans()):
            kept.append((i, j))
            load_l[i] += 1
            load_r[j] += 1
    return w, lc, rc, np.array(kept, dtype=np.int64).reshape(-1, 2)


def brute(w, lc, rc, kept, budget, objective):  # type: ignore[no-untyped-def]
    """Best (key, pairs) by enumerating every set of allowed pairs."""
    arcs = [(i, j) for i, j in zip(*np.nonzero(w >= 0), strict=True)]
    kept_set = {tuple(p) for p in kept.tolist()}
    best = None
    for r in range(len(arcs) + 1):
        for chosen in itertools.combinations(arcs, r):
            deg_l = np.bincount([i for i, _ in chosen], minlength=len(lc))
            deg_r = np.bincount([j for _, j in chosen], minlength=len(rc))
            if (deg_l > lc).any() or (deg_r > rc).any():
                continue
            breaks = len(kept_set - set(chosen))
            if breaks > budget:
                continue
            weight = sum(int(w[i, j]) for i, j in chosen)
            if objective == "max-matched":
                key = (len(chosen), -breaks, weight)
            else:
                key = (weight, -breaks)
            if best is None or key > best[0]:
                best = (key, chosen)
    return best


@settings(max_examples=80, deadline=None)
@given(instances(), st.integers(0, 3))
def test_max_matched_equals_brute_force(inst, budget) -> None:  # type: ignore[no-untyped-def]
    w, lc, rc, kept = inst
    if (w >= 0).sum() > 9:
        return  # keep the enumeration small
    out = solve_with_changes(w, lc, rc, kept=kept, max_changes=budget, objective="max-matched")
    key, _ = brute(w, lc, rc, kept, budget, "max-matched")
    pairs = {tuple(p) for p in out.pairs.tolist()}
    breaks = len({tuple(p) for p in kept.tolist()} - pairs)
    weight = sum(int(w[i, j]) for i, j in pairs)
    assert (len(pairs), -breaks, weight) == key
    assert out.status == Status.OPTIMAL and out.objective == len(pairs)
    assert len(out.broken) == breaks <= budget


def _check_score(out, w, kept, key, budget) -> None:  # type: ignore[no-untyped-def]
    pairs = {tuple(p) for p in out.pairs.tolist()}
    breaks = len({tuple(p) for p in kept.tolist()} - pairs)
    assert breaks <= budget
    weight = sum(int(w[i, j]) for i, j in pairs)
    assert weight <= key[0]
    assert out.bound is not None and out.bound >= key[0]  # the bound is a true bound
    if out.status == Status.OPTIMAL:
        assert (weight, -breaks) == key


@settings(max_examples=80, deadline=None)
@given(instances(), st.integers(0, 3))
def test_max_score_equals_brute_force(inst, budget) -> None:  # type: ignore[no-untyped-def]
    w, lc, rc, kept = inst
    if (w >= 0).sum() > 9:
        return
    out = solve_with_changes(w, lc, rc, kept=kept, max_changes=budget, objective="max-score")
    key, _ = brute(w, lc, rc, kept, budget, "max-score")
    assert out.status == Status.OPTIMAL  # small: a Lagrangian gap is closed by CP-SAT
    _check_score(out, w, kept, key, budget)


@settings(max_examples=60, deadline=None)
@given(instances(), st.integers(0, 3))
def test_lagrangian_alone_gives_a_true_bound(inst, budget) -> None:  # type: ignore[no-untyped-def]
    import buddymatch.solvers.assignment.budget as module

    w, lc, rc, kept = inst
    if (w >= 0).sum() > 9:
        return
    old, module.CPSAT_ARCS = module.CPSAT_ARCS, -1  # no gap closing
    try:
        out = solve_with_changes(w, lc, rc, kept=kept, max_changes=budget, objective="max-score")
    finally:
        module.CPSAT_ARCS = old
    _check_score(out, w, kept, brute(w, lc, rc, kept, budget, "max-score")[0], budget)


def test_breaks_a_pair_only_to_place_more_people() -> None:
    # mentee 0 is kept with mentor 0; mentee 1 can only have mentor 0; mentee 0 could use 1
    w = np.array([[5, 1], [9, NOT_ALLOWED]], dtype=np.int32)
    caps = (np.array([1, 1]), np.array([1, 1]))
    kept = np.array([[0, 0]])
    zero = solve_with_changes(w, *caps, kept=kept, max_changes=0)
    assert zero.pairs.tolist() == [[0, 0]] and zero.objective == 1
    one = solve_with_changes(w, *caps, kept=kept, max_changes=1)
    assert one.pairs.tolist() == [[0, 1], [1, 0]] and one.broken.tolist() == [[0, 0]]
    assert one.trade_off == [(0, 1.0), (1, 2.0)]
    # same count available without breaking: nothing is broken for score under max-matched
    w2 = np.array([[1, 9], [NOT_ALLOWED, NOT_ALLOWED]], dtype=np.int32)
    keep = solve_with_changes(w2, *caps, kept=kept, max_changes=1)
    assert keep.pairs.tolist() == [[0, 0]] and len(keep.broken) == 0


def test_zero_budget_is_the_locked_assignment() -> None:
    rng = np.random.default_rng(3)
    w = rng.integers(-1, 50, size=(30, 12)).astype(np.int32)
    lc, rc = np.ones(30, np.int64), np.full(12, 2, np.int64)
    base = solve_assignment(w, lc, rc)
    kept = base.pairs[::2]
    out = solve_with_changes(w, lc, rc, kept=kept, max_changes=0)
    locked = solve_assignment(w, lc, rc, locked=kept)
    assert out.pairs.tolist() == locked.pairs.tolist()


def test_fair_and_bad_arguments_are_refused() -> None:
    w = np.zeros((2, 2), dtype=np.int32)
    caps = (np.ones(2, np.int64), np.ones(2, np.int64))
    with pytest.raises(ValueError, match="max-matched and max-score"):
        solve_with_changes(w, *caps, kept=np.zeros((0, 2)), max_changes=1, objective="fair")
    with pytest.raises(ValueError, match="not allowed"):
        w[0, 0] = NOT_ALLOWED
        solve_with_changes(w, *caps, kept=np.array([[0, 0]]), max_changes=1)


@pytest.mark.parametrize("objective", ["max-matched", "max-score"])
def test_sparse_path_agrees_with_dense_and_breaks_when_it_pays(objective: str) -> None:
    rng = np.random.default_rng(11)
    n_left, n_right = 60, 20
    w = rng.integers(0, 100, size=(n_left, n_right)).astype(np.int32)
    w[rng.random((n_left, n_right)) < 0.9] = NOT_ALLOWED
    lc, rc = np.ones(n_left, np.int64), np.full(n_right, 3, np.int64)
    # current pairs: a poor greedy assignment, so breaking some of them pays
    kept, load = [], np.zeros(n_right, int)
    for i in range(n_left):
        for j in np.flatnonzero(w[i] >= 0)[::-1].tolist():
            if load[j] < 3:
                kept.append((i, j))
                load[j] += 1
                break
    kept_arr = np.array(kept, dtype=np.int64)
    outs = [
        solve_with_changes(
            w, lc, rc, kept=kept_arr, max_changes=3, objective=objective, dense_limit=limit
        )
        for limit in (10**9, 0)
    ]
    assert outs[0].objective == outs[1].objective
    assert len(outs[0].broken) == len(outs[1].broken) <= 3
    zero = solve_with_changes(w, lc, rc, kept=kept_arr, max_changes=0, objective=objective)
    assert outs[0].objective > zero.objective  # the budget is used
    assert outs[0].trade_off[0] == (0, zero.objective)
