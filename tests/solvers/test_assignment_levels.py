"""Priorities (lexicographic levels): brute force, an independent staged MILP, no overflow."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.assignment import PRIORITIES, Favour, solve_assignment

LEVELS = PRIORITIES


def level_values(
    pairs: list[tuple[int, int]], w: np.ndarray, names: tuple[str, ...], favour: Favour
) -> tuple[int, ...]:
    """Each level's value for a set of pairs, straight from the definitions."""
    rows = {i for i, _ in pairs}
    cols = {j for _, j in pairs}
    out = []
    for name in names:
        if name == "mentees-covered":
            out.append(len(rows))
        elif name == "mentors-covered":
            out.append(len(cols))
        elif name == "priority-covered":
            out.append(
                sum(1 for i in rows if favour.left[i]) + sum(1 for j in cols if favour.right[j])
            )
        elif name == "pairs":
            out.append(len(pairs))
        else:
            out.append(
                sum(
                    int(w[i, j]) + favour.bonus * (int(favour.left[i]) + int(favour.right[j]))
                    for i, j in pairs
                )
            )
    return tuple(out)


def brute_best(
    w: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    locked: set[tuple[int, int]],
    names: tuple[str, ...],
    favour: Favour,
) -> tuple[int, ...]:
    allowed = [(i, j) for i, j in itertools.product(*map(range, w.shape)) if w[i, j] >= 0]
    free = [p for p in allowed if p not in locked]
    best: tuple[int, ...] | None = None
    for r in range(len(free) + 1):
        for chosen in itertools.combinations(free, r):
            pairs = [*locked, *chosen]
            dl = np.bincount([i for i, _ in pairs], minlength=w.shape[0])
            dr = np.bincount([j for _, j in pairs], minlength=w.shape[1])
            if (dl > left).any() or (dr > right).any():
                continue
            key = level_values(pairs, w, names, favour)
            best = key if best is None or key > best else best
    assert best is not None
    return best


@st.composite
def instances(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    n_left, n_right = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    w = np.array(
        draw(
            st.lists(
                st.sampled_from([NOT_ALLOWED, 0, 3, 7, 100_000]),
                min_size=n_left * n_right,
                max_size=n_left * n_right,
            )
        ),
        np.int32,
    ).reshape(n_left, n_right)
    left = np.array(draw(st.lists(st.integers(0, 3), min_size=n_left, max_size=n_left)))
    right = np.array(draw(st.lists(st.integers(0, 3), min_size=n_right, max_size=n_right)))
    assume(int((w >= 0).sum()) <= 10)
    names = tuple(draw(st.permutations(LEVELS))[: draw(st.integers(1, len(LEVELS)))])
    fav_l = np.array(draw(st.lists(st.booleans(), min_size=n_left, max_size=n_left)), bool)
    fav_r = np.array(draw(st.lists(st.booleans(), min_size=n_right, max_size=n_right)), bool)
    favour = Favour(fav_l, fav_r, draw(st.sampled_from([0, 0, 5, 50_000])))
    lock = draw(st.booleans())
    locked: list[tuple[int, int]] = []
    if lock:
        for i, j in np.argwhere(w >= 0).tolist()[:1]:
            if left[i] and right[j]:
                locked.append((i, j))
    return w, left, right, names, favour, locked


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(instances(), st.booleans())
def test_levels_match_brute_force(inst: tuple, sparse: bool) -> None:  # type: ignore[type-arg]
    w, left, right, names, favour, locked = inst
    out = solve_assignment(
        w,
        left,
        right,
        objective=names,
        favour=favour,
        locked=np.array(locked, np.int64).reshape(-1, 2),
        dense_limit=0 if sparse else 10**9,
    )
    assert out.status is Status.OPTIMAL
    pairs = [tuple(p) for p in out.pairs.tolist()]
    assert set(locked) <= set(pairs)
    expected = brute_best(w, left, right, set(locked), names, favour)
    assert level_values(pairs, w, names, favour) == expected
    assert tuple(lv.value for lv in out.levels) == expected
    assert all(lv.bound == lv.value for lv in out.levels), "each level certified"
    assert out.objective == expected[0]
    if "score" in names and "pairs" not in names:  # a pair adds something to some level
        covered = {"mentees-covered", "mentors-covered", "priority-covered"} & set(names)
        for i, j in pairs:
            if (i, j) in locked or w[i, j] + favour.bonus * (favour.left[i] + favour.right[j]):
                continue
            assert covered, "a pair of weight 0 is made only when a covered-level needs it"


def test_shorthands_are_priority_lists() -> None:
    rng = np.random.default_rng(3)
    w = rng.integers(0, 100_001, (30, 12)).astype(np.int32)
    w[rng.random(w.shape) < 0.6] = NOT_ALLOWED
    w[rng.random(w.shape) < 0.2] = 0
    left, right = rng.integers(1, 3, 30), rng.integers(1, 4, 12)
    for name, levels in (("max-matched", ("pairs", "score")), ("max-score", ("score",))):
        a = solve_assignment(w, left, right, objective=name)
        b = solve_assignment(w, left, right, objective=levels)
        assert (a.objective, a.total_weight) == (b.objective, b.total_weight)
        assert (a.pairs == b.pairs).all()


# --- an independent lexicographic solve: staged MILP (HiGHS via scipy) ---------------------


def staged_milp(
    w: np.ndarray, left: np.ndarray, right: np.ndarray, names: tuple[str, ...], favour: Favour
) -> list[float]:
    """Each level maximised in turn with the earlier ones fixed at their optimum.

    Variables: x_ij (allowed pairs), c_i (row i covered), d_j (column j covered),
    binaries; c_i <= sum_j x_ij, d_j <= sum_i x_ij.
    """
    arcs = np.argwhere(w >= 0)
    n_x, n_l, n_r = len(arcs), w.shape[0], w.shape[1]
    n = n_x + n_l + n_r
    rows, lo, hi = [], [], []
    for i in range(n_l):  # row capacity, and c_i <= sum x
        cap = np.zeros(n)
        cap[:n_x] = arcs[:, 0] == i
        rows.append(cap)
        lo.append(0)
        hi.append(left[i])
        cover = -cap.copy()
        cover[n_x + i] = 1
        rows.append(cover)
        lo.append(-np.inf)
        hi.append(0)
    for j in range(n_r):
        cap = np.zeros(n)
        cap[:n_x] = arcs[:, 1] == j
        rows.append(cap)
        lo.append(0)
        hi.append(right[j])
        cover = -cap.copy()
        cover[n_x + n_l + j] = 1
        rows.append(cover)
        lo.append(-np.inf)
        hi.append(0)
    profit = {}
    for name in names:
        c = np.zeros(n)
        if name == "mentees-covered":
            c[n_x : n_x + n_l] = 1
        elif name == "mentors-covered":
            c[n_x + n_l :] = 1
        elif name == "priority-covered":
            c[n_x : n_x + n_l] = favour.left
            c[n_x + n_l :] = favour.right
        elif name == "pairs":
            c[:n_x] = 1
        else:
            c[:n_x] = w[arcs[:, 0], arcs[:, 1]] + favour.bonus * (
                favour.left[arcs[:, 0]].astype(int) + favour.right[arcs[:, 1]]
            )
        profit[name] = c
    values = []
    for name in names:
        res = milp(
            -profit[name],
            constraints=LinearConstraint(np.array(rows), lo, hi),
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
        )
        assert res.success
        value = round(-res.fun)
        values.append(value)
        rows.append(profit[name])
        lo.append(value - 0.5)
        hi.append(np.inf)
    return values


@pytest.mark.parametrize("seed", range(6))
def test_levels_equal_a_staged_milp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_left, n_right = int(rng.integers(15, 40)), int(rng.integers(6, 15))
    w = rng.choice([0, 5, 40_000, 70_000, 100_000], size=(n_left, n_right)).astype(np.int32)
    w[rng.random(w.shape) < rng.uniform(0.5, 0.85)] = NOT_ALLOWED
    left, right = rng.integers(0, 4, n_left), rng.integers(0, 6, n_right)
    names = tuple(rng.permutation(LEVELS)[: rng.integers(2, len(LEVELS) + 1)].tolist())
    favour = Favour(rng.random(n_left) < 0.3, rng.random(n_right) < 0.3, int(rng.integers(0, 3)))
    expected = staged_milp(w, left, right, names, favour)
    for dense_limit in (0, 10**9):
        out = solve_assignment(
            w, left, right, objective=names, favour=favour, dense_limit=dense_limit
        )
        assert out.status is Status.OPTIMAL
        assert [lv.value for lv in out.levels] == expected
        pairs = [tuple(p) for p in out.pairs.tolist()]
        assert list(level_values(pairs, w, names, favour)) == expected


def test_civil_service_priorities_at_10k_do_not_overflow() -> None:
    """10,000 mentees x 2,500 mentors, capacities up to 5, wants up to 3: every level is a
    flow of its own, certified, with nothing near the 64-bit range."""
    rng = np.random.default_rng(7)
    n_left, n_right = 10_000, 2_500
    w = rng.integers(0, 100_001, (n_left, n_right)).astype(np.int32)
    w[rng.random(w.shape) < 0.5] = NOT_ALLOWED
    left, right = rng.integers(1, 4, n_left), rng.integers(1, 6, n_right)
    names = ("mentees-covered", "mentors-covered", "pairs", "score")
    out = solve_assignment(w, left, right, objective=names)
    assert out.status is Status.OPTIMAL
    values = {lv.name: lv.value for lv in out.levels}
    places = int(right.sum())  # fewer mentor places than mentees: each covers one
    assert values["mentees-covered"] == places == values["pairs"]
    assert values["mentors-covered"] == n_right
    assert 0 < values["score"] < math.inf
    deg = np.bincount(out.pairs[:, 0], minlength=n_left)
    assert (deg <= 1).all() and (np.bincount(out.pairs[:, 1], minlength=n_right) <= right).all()
