"""Exact assignment solver: brute force, scipy differential, sparse certificate, edge cases."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from buddymatch.errors import SolverError
from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.assignment import AssignmentOutcome, solve_assignment
from buddymatch.solvers.assignment import solve as assignment

OBJECTIVES = ("max-score", "max-matched", "fair")


# ---------------------------------------------------------------- helpers


def check_valid(
    out: AssignmentOutcome,
    w: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    locked: np.ndarray | None = None,
) -> None:
    pairs = out.pairs
    assert pairs.dtype == np.int64 and pairs.ndim == 2 and pairs.shape[1] == 2
    as_list = [tuple(p) for p in pairs.tolist()]
    assert as_list == sorted(set(as_list)), "pairs sorted and unique"
    if pairs.size:
        assert (w[pairs[:, 0], pairs[:, 1]] != NOT_ALLOWED).all()
    assert (np.bincount(pairs[:, 0], minlength=len(left)) <= left).all()
    assert (np.bincount(pairs[:, 1], minlength=len(right)) <= right).all()
    assert out.total_weight == int(w[pairs[:, 0], pairs[:, 1]].sum()) if pairs.size else True
    if locked is not None:
        assert {tuple(p) for p in np.asarray(locked).tolist()} <= set(as_list)
    if out.status is Status.OPTIMAL:
        assert out.bound == out.objective


def fair_key(
    pairs: list[tuple[int, int]], w: np.ndarray, left: np.ndarray, locked: set[tuple[int, int]]
) -> tuple:
    deg = np.bincount([i for i, _ in pairs], minlength=len(left)) if pairs else np.zeros(len(left))
    levels = int(left.max(initial=0))
    coverage = tuple(int((deg >= k).sum()) for k in range(1, levels + 1))
    free = [int(w[i, j]) for i, j in pairs if (i, j) not in locked]
    bottleneck = min(free) if free else math.inf
    return (coverage, bottleneck, sum(int(w[i, j]) for i, j in pairs))


def outcome_key(
    out: AssignmentOutcome,
    objective: str,
    w: np.ndarray,
    left: np.ndarray,
    locked: set[tuple[int, int]],
) -> tuple:
    pairs = [tuple(p) for p in out.pairs.tolist()]
    if objective == "max-score":
        return (out.total_weight,)
    if objective == "max-matched":
        return (len(pairs), out.total_weight)
    return fair_key(pairs, w, left, locked)


def brute_force(
    w: np.ndarray, left: np.ndarray, right: np.ndarray, locked: set[tuple[int, int]], objective: str
) -> tuple:
    """Best key over every set of allowed pairs that respects capacities and locks."""
    n_left, n_right = w.shape
    free = [
        (i, j)
        for i, j in product(range(n_left), range(n_right))
        if w[i, j] != NOT_ALLOWED and (i, j) not in locked
    ]
    deg_l = np.zeros(n_left, int)
    deg_r = np.zeros(n_right, int)
    for i, j in locked:
        deg_l[i] += 1
        deg_r[j] += 1
    best: list[tuple] = []
    chosen: list[tuple[int, int]] = list(locked)

    def key() -> tuple:
        weight = sum(int(w[i, j]) for i, j in chosen)
        if objective == "max-score":
            return (weight,)
        if objective == "max-matched":
            return (len(chosen), weight)
        return fair_key(chosen, w, left, locked)

    def rec(k: int) -> None:
        if k == len(free):
            best.append(max([key(), *best]))
            del best[:-1]
            return
        rec(k + 1)
        i, j = free[k]
        if deg_l[i] < left[i] and deg_r[j] < right[j]:
            deg_l[i] += 1
            deg_r[j] += 1
            chosen.append((i, j))
            rec(k + 1)
            chosen.pop()
            deg_l[i] -= 1
            deg_r[j] -= 1

    rec(0)
    return best[0]


@st.composite
def small_instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_left = draw(st.integers(0, 5))
    n_right = draw(st.integers(0, 5))
    w = np.array(
        draw(
            st.lists(
                st.sampled_from([NOT_ALLOWED, 0, 1, 2, 5, 9, 40, 100_000]),
                min_size=n_left * n_right,
                max_size=n_left * n_right,
            )
        ),
        dtype=np.int32,
    ).reshape(n_left, n_right)
    left = np.array(draw(st.lists(st.integers(0, 3), min_size=n_left, max_size=n_left)), np.int64)
    right = np.array(
        draw(st.lists(st.integers(0, 3), min_size=n_right, max_size=n_right)), np.int64
    )
    allowed = [(i, j) for i, j in product(range(n_left), range(n_right)) if w[i, j] >= 0]
    lock_flags = draw(st.lists(st.booleans(), min_size=len(allowed), max_size=len(allowed)))
    locked = [p for p, f in zip(allowed, lock_flags, strict=True) if f and draw(st.booleans())]
    lk = np.array(locked, np.int64).reshape(-1, 2)
    # keep locks within capacity, so the instance is feasible
    if lk.size:
        ok = []
        dl, dr = np.zeros(n_left, int), np.zeros(n_right, int)
        for i, j in lk.tolist():
            if dl[i] < left[i] and dr[j] < right[j]:
                dl[i] += 1
                dr[j] += 1
                ok.append((i, j))
        lk = np.array(ok, np.int64).reshape(-1, 2)
    # bound the brute force: per-row choices multiplied together
    size = 1
    for i in range(n_left):
        a = int((w[i] >= 0).sum())
        size *= sum(math.comb(a, k) for k in range(min(a, int(left[i])) + 1))
    assume(size <= 3000)
    return w, left, right, lk


# ---------------------------------------------------------------- brute force


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(small_instances(), st.sampled_from(OBJECTIVES), st.booleans())
def test_matches_brute_force(inst: tuple, objective: str, sparse: bool) -> None:
    w, left, right, lk = inst
    locked = {tuple(p) for p in lk.tolist()}
    out = solve_assignment(
        w, left, right, objective=objective, locked=lk, dense_limit=0 if sparse else 10**9
    )
    assert out.status is Status.OPTIMAL
    check_valid(out, w, left, right, lk)
    expected = brute_force(w, left, right, locked, objective)
    assert outcome_key(out, objective, w, left, locked) == expected
    if objective in ("max-score", "max-matched"):
        assert out.objective == expected[0]
    else:
        assert out.objective == (expected[0][0] if expected[0] else 0)


# ---------------------------------------------------------------- scipy differential


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("objective", ["max-score", "max-matched"])
def test_equals_linear_sum_assignment(seed: int, objective: str) -> None:
    rng = np.random.default_rng(seed)
    n_left, n_right = rng.integers(1, 61, size=2)
    w = rng.integers(0, 100_001, (n_left, n_right)).astype(np.int32)
    w[rng.random(w.shape) < rng.uniform(0, 0.8)] = NOT_ALLOWED
    left = np.ones(n_left, np.int64)
    right = rng.integers(1, 4, n_right) if seed % 2 else np.ones(n_right, np.int64)
    max_pairs = min(n_left, int(right.sum()))
    bonus = int(w.max()) * max_pairs + 1 if objective == "max-matched" else 0
    cost = np.where(w >= 0, -(w.astype(np.float64) + bonus), 0.0)
    expanded = np.repeat(cost, right, axis=1)
    mentor_of = np.repeat(np.arange(n_right), right)
    rows, cols = linear_sum_assignment(expanded)
    made = w[rows, mentor_of[cols]]
    made = made[made > 0] if objective == "max-score" else made[made >= 0]
    out = solve_assignment(w, left, right, objective=objective)
    check_valid(out, w, left, right)
    assert out.total_weight == int(made.astype(np.int64).sum())
    if objective == "max-matched":
        assert out.objective == len(made)


# ---------------------------------------------------------------- sparse path and certificate


def popular_mentor_instance(n_left: int = 300, n_right: int = 60) -> tuple:
    """Mentor 0 is everyone's top choice; each mentee's next choices are rarely free."""
    rng = np.random.default_rng(7)
    w = rng.integers(0, 60_000, (n_left, n_right)).astype(np.int32)
    w[:, 0] = 100_000
    w[:, 1:6] += 30_000  # five more popular mentors, also everybody's next choices
    w[rng.random(w.shape) < 0.5] = NOT_ALLOWED
    w[:, :6] = np.maximum(w[:, :6], 1)
    left = np.ones(n_left, np.int64)
    right = np.full(n_right, 5, np.int64)
    return w, left, right


def test_naive_top_k_loses_people_on_popular_mentor() -> None:
    w, left, right = popular_mentor_instance()
    full = solve_assignment(w, left, right, objective="max-matched")
    top3 = np.argsort(-w, axis=1, kind="stable")[:, :3]
    naive = np.full_like(w, NOT_ALLOWED)
    np.put_along_axis(naive, top3, np.take_along_axis(w, top3, axis=1), axis=1)
    lossy = solve_assignment(naive, left, right, objective="max-matched")
    assert lossy.objective < full.objective  # the trap is real


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_sparse_certified_equals_dense_on_popular_mentor(objective: str) -> None:
    w, left, right = popular_mentor_instance()
    dense = solve_assignment(w, left, right, objective=objective)
    sparse = solve_assignment(w, left, right, objective=objective, dense_limit=0)
    assert dense.stats["path"] == "dense" and sparse.stats["path"] == "sparse"
    assert sparse.status is Status.OPTIMAL
    check_valid(sparse, w, left, right)
    assert (sparse.objective, sparse.total_weight) == (dense.objective, dense.total_weight)
    if objective == "fair":
        assert sparse.stats["coverage"] == dense.stats["coverage"]
        assert sparse.stats["min_weight"] == dense.stats["min_weight"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_sparse_equals_dense_mid_size(objective: str) -> None:
    rng = np.random.default_rng(3)
    n_left, n_right = 400, 100
    region_l, region_r = rng.integers(0, 5, n_left), rng.integers(0, 5, n_right)
    topic = rng.random((n_left, 6)) @ rng.random((6, n_right))
    w = np.rint(10_000 * topic + 40_000 * (region_l[:, None] == region_r[None, :])).astype(np.int32)
    w[rng.random(w.shape) < 0.4] = NOT_ALLOWED
    left = rng.integers(1, 3, n_left)
    right = rng.integers(0, 7, n_right)
    lk = np.array([(i, int(np.argmax(w[i]))) for i in range(0, 40, 7)], np.int64)
    lk = lk[w[lk[:, 0], lk[:, 1]] >= 0]
    dense = solve_assignment(w, left, right, objective=objective, locked=lk)
    sparse = solve_assignment(w, left, right, objective=objective, locked=lk, dense_limit=0)
    assert sparse.status is Status.OPTIMAL and sparse.stats["path"] == "sparse"
    check_valid(sparse, w, left, right, lk)
    assert (sparse.objective, sparse.total_weight) == (dense.objective, dense.total_weight)


@pytest.mark.parametrize("objective", ["max-score", "max-matched"])
def test_time_limit_gives_valid_bound(objective: str) -> None:
    w, left, right = popular_mentor_instance()
    best = solve_assignment(w, left, right, objective=objective)
    out = solve_assignment(w, left, right, objective=objective, dense_limit=0, time_limit=0.0)
    check_valid(out, w, left, right)
    if out.status is Status.FEASIBLE:
        assert out.bound is not None and out.bound >= best.objective >= out.objective
    else:
        assert out.objective == best.objective


# ---------------------------------------------------------------- edge cases


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("shape", [(0, 0), (0, 4), (4, 0), (3, 3)])
def test_empty_and_zero_capacity(objective: str, shape: tuple[int, int]) -> None:
    w = np.full(shape, 7, np.int32)
    for left, right in [
        (np.zeros(shape[0], np.int64), np.ones(shape[1], np.int64)),
        (np.ones(shape[0], np.int64), np.zeros(shape[1], np.int64)),
    ]:
        out = solve_assignment(w, left, right, objective=objective)
        assert out.status is Status.OPTIMAL
        assert out.pairs.shape == (0, 2) and out.objective == 0 and out.total_weight == 0


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_all_not_allowed(objective: str) -> None:
    w = np.full((4, 3), NOT_ALLOWED, np.int32)
    out = solve_assignment(
        w, np.ones(4, np.int64), np.full(3, 2), objective=objective, dense_limit=0
    )
    assert out.status is Status.OPTIMAL and out.pairs.shape == (0, 2)


def test_zero_weight_pairs_never_made_by_max_score() -> None:
    w = np.array([[0, 0], [0, 5]], np.int32)
    out = solve_assignment(w, np.ones(2, np.int64), np.ones(2, np.int64), objective="max-score")
    assert out.pairs.tolist() == [[1, 1]]
    matched = solve_assignment(w, np.ones(2, np.int64), np.ones(2, np.int64))
    assert matched.pairs.tolist() == [[0, 0], [1, 1]]


def test_locks_beyond_capacity_are_infeasible() -> None:
    w = np.ones((3, 2), np.int32)
    out = solve_assignment(
        w, np.ones(3, np.int64), np.array([1, 1]), locked=np.array([[0, 0], [1, 0]])
    )
    assert out.status is Status.INFEASIBLE
    assert out.stats["reason"] == "right 0 has 2 locked pairs but capacity 1"
    out = solve_assignment(w, np.array([1, 0, 1]), np.array([2, 2]), locked=np.array([[1, 1]]))
    assert out.status is Status.INFEASIBLE
    assert out.stats["reason"] == "left 1 has 1 locked pairs but capacity 0"


def test_lock_on_forbidden_pair_is_infeasible() -> None:
    w = np.array([[NOT_ALLOWED, 3]], np.int32)
    out = solve_assignment(w, np.ones(1, np.int64), np.ones(2, np.int64), locked=np.array([[0, 0]]))
    assert out.status is Status.INFEASIBLE
    assert "forbidden" in str(out.stats["reason"])


def test_lock_worse_than_alternative_is_kept() -> None:
    w = np.array([[1, 50], [50, 1]], np.int32)
    out = solve_assignment(
        w,
        np.ones(2, np.int64),
        np.ones(2, np.int64),
        objective="max-score",
        locked=np.array([[0, 0], [0, 0]]),
    )
    assert out.pairs.tolist() == [[0, 0], [1, 1]] and out.objective == 2


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_deterministic(objective: str) -> None:
    w, left, right = popular_mentor_instance(120, 30)
    a = solve_assignment(w, left, right, objective=objective, dense_limit=0)
    b = solve_assignment(w, left, right, objective=objective, dense_limit=0)
    assert np.array_equal(a.pairs, b.pairs)
    assert {k: v for k, v in a.stats.items() if not k.endswith("seconds")} == {
        k: v for k, v in b.stats.items() if not k.endswith("seconds")
    }


def test_fair_prefers_first_partners_over_seconds() -> None:
    # mentee 0 wants two mentors and loves both; mentee 1 only fits mentor 1
    w = np.array([[90_000, 90_000], [NOT_ALLOWED, 10]], np.int32)
    left, right = np.array([2, 1]), np.array([1, 1])
    assert solve_assignment(w, left, right, objective="max-score").pairs.tolist() == [
        [0, 0],
        [0, 1],
    ]
    fair = solve_assignment(w, left, right, objective="fair")
    assert fair.pairs.tolist() == [[0, 0], [1, 1]] and fair.stats["coverage"] == "2,0"


def test_overflow_is_reported() -> None:
    w = np.full((30, 30), 2_000_000_000, np.int32)
    with pytest.raises(SolverError, match="64-bit limit"):
        solve_assignment(w, np.full(30, 30), np.full(30, 30), objective="fair")


def test_bad_input_shapes() -> None:
    with pytest.raises(ValueError):
        solve_assignment(np.ones((2, 2), np.int32), np.ones(3, np.int64), np.ones(2, np.int64))
    with pytest.raises(ValueError):
        solve_assignment(np.ones((2, 2), np.int32), np.ones(2), np.ones(2, np.int64))
    with pytest.raises(ValueError, match="unknown objective"):
        solve_assignment(
            np.ones((2, 2), np.int32), np.ones(2, np.int64), np.ones(2, np.int64), objective="best"
        )


@pytest.mark.slow
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_sparse_equals_dense_large(objective: str) -> None:
    from benchmarks.scenario_mentoring_solver import make_instance

    w = make_instance(1_500, 400, seed=11)
    left, right = np.ones(1_500, np.int64), np.full(400, 4, np.int64)
    dense = solve_assignment(w, left, right, objective=objective, dense_limit=10**9)
    sparse = solve_assignment(w, left, right, objective=objective, dense_limit=0)
    assert sparse.status is Status.OPTIMAL and sparse.stats["path"] == "sparse"
    check_valid(sparse, w, left, right)
    assert (sparse.objective, sparse.total_weight) == (dense.objective, dense.total_weight)


# ---------------------------------------------------------------- max-matched without big-M


def big_m(*args: object, **kw: object) -> AssignmentOutcome:
    """The old single big-M flow for max-matched, as a reference."""
    assignment._MAX_MATCHED_BIG_M = True
    try:
        return solve_assignment(*args, objective="max-matched", **kw)  # type: ignore[arg-type]
    finally:
        assignment._MAX_MATCHED_BIG_M = False


def chain_instance(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Max weight takes the diagonal (n pairs); the one extra pair needs a 2n+1-arc path.

    Left i loves right i; left i may also take right i+1 at weight 0; the extra
    left n may only take right 0.  The unique maximum matching shifts everyone.
    """
    rng = np.random.default_rng(seed)
    w = np.full((n + 1, n + 1), NOT_ALLOWED, np.int32)
    idx = np.arange(n)
    w[idx, idx] = rng.integers(90_000, 100_001, n)
    w[idx, idx + 1] = 0
    w[n, 0] = 5
    return w, np.ones(n + 1, np.int64), np.ones(n + 1, np.int64)


@pytest.mark.parametrize("sparse", [False, True])
def test_max_matched_takes_more_pairs_than_max_weight(sparse: bool) -> None:
    w, left, right = chain_instance(150)
    out = solve_assignment(w, left, right, dense_limit=0 if sparse else 10**9)
    score = solve_assignment(w, left, right, objective="max-score")
    assert score.pairs.shape[0] == 150
    assert out.status is Status.OPTIMAL and out.objective == 151 == out.pairs.shape[0]
    check_valid(out, w, left, right)
    assert out.total_weight == 5  # every diagonal pair had to go


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([0, 10**9]))
def test_max_matched_equals_big_m(seed: int, with_locks: bool, dense_limit: int) -> None:
    rng = np.random.default_rng(seed)
    n_left, n_right = (int(x) for x in rng.integers(1, 40, size=2))
    # few distinct weights, many zeros and a skewed popularity: max weight often
    # leaves people out that max-matched must place
    w = rng.choice([0, 0, 1, 7, 50_000, 100_000], size=(n_left, n_right)).astype(np.int32)
    w[:, : max(1, n_right // 5)] += 100_000
    w[rng.random(w.shape) < rng.uniform(0.3, 0.95)] = NOT_ALLOWED
    left = rng.integers(0, 3, n_left)
    right = rng.integers(0, 4, n_right)
    lk = np.empty((0, 2), np.int64)
    if with_locks:
        cand = np.argwhere(w >= 0)[: rng.integers(0, 4)]
        dl, dr, keep = np.zeros(n_left, int), np.zeros(n_right, int), []
        for i, j in cand.tolist():
            if dl[i] < left[i] and dr[j] < right[j]:
                dl[i], dr[j] = dl[i] + 1, dr[j] + 1
                keep.append((i, j))
        lk = np.array(keep, np.int64).reshape(-1, 2)
    out = solve_assignment(w, left, right, locked=lk, dense_limit=dense_limit)
    ref = big_m(w, left, right, locked=lk, dense_limit=dense_limit)
    assert out.status is Status.OPTIMAL and ref.status is Status.OPTIMAL
    check_valid(out, w, left, right, lk)
    assert (out.objective, out.total_weight) == (ref.objective, ref.total_weight)


def test_max_matched_equals_big_m_on_popular_mentor() -> None:
    w, left, right = popular_mentor_instance()
    w = w.copy()
    w[:, 10:] = np.where(w[:, 10:] >= 0, 0, NOT_ALLOWED)  # the rest only adds pairs, not weight
    right[:10] = 12
    out = solve_assignment(w, left, right, dense_limit=0)
    ref = big_m(w, left, right, dense_limit=10**9)
    assert out.status is Status.OPTIMAL and out.stats["path"] == "sparse"
    check_valid(out, w, left, right)
    assert (out.objective, out.total_weight) == (ref.objective, ref.total_weight)


def test_max_matched_has_no_big_m_overflow() -> None:
    # M = max_weight × max_pairs + 1 ≈ 1.25e14 per pair: M × pairs passes 2^62
    w = np.full((250, 250), 2_000_000_000, np.int32)
    w[0, :] = NOT_ALLOWED
    w[0, 0] = 1
    left, right = np.full(250, 250), np.full(250, 250)
    with pytest.raises(SolverError, match="64-bit limit"):
        big_m(w, left, right)
    for dense_limit in (0, 10**9):
        out = solve_assignment(w, left, right, dense_limit=dense_limit)
        assert out.status is Status.OPTIMAL and out.objective == 249 * 250 + 1
        assert out.total_weight == 249 * 250 * 2_000_000_000 + 1
