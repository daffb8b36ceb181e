"""Upper bounds of the grouping objective: never below the optimum.

Checked against the proven optima of every MDGPLIB instance with 10 or 12
people and against brute force on random pools (benefits built from random
attributes, as scoring builds them, so that profile classes exist).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from benchmarks.mdgplib import instance_paths, load_instance, reference_values
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.solvers.groups import upper_bound
from buddymatch.solvers.groups.bound import class_bound, size_range, slot_bound, spread

MDGPLIB = Path(__file__).resolve().parents[1] / "data" / "mdgplib"


def best_grouping(benefit: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Best objective over all assignments meeting the sizes (brute force)."""
    n, groups = benefit.shape[0], len(lower)
    best = -np.inf
    for combo in itertools.product(range(groups), repeat=n):
        a = np.array(combo)
        sizes = np.bincount(a, minlength=groups)
        if np.any(sizes < lower) or np.any(sizes > upper):
            continue
        best = max(best, float(np.triu(benefit * (a[:, None] == a[None, :]), 1).sum()))
    return best


def test_bounds_hold_on_every_small_mdgplib_instance() -> None:
    refs = reference_values(MDGPLIB)
    paths = instance_paths(MDGPLIB, "*_n01[02]_*")
    assert len(paths) == 120
    for path in paths:
        inst = load_instance(path)
        optimum = refs[inst.name][0] - 0.005  # reference values are rounded to 2 decimals
        n = inst.benefit.shape[0]
        assert slot_bound(inst.benefit, inst.lower, inst.upper) >= optimum, inst.name
        # every person their own class: the class LP with its cuts on real instances
        forced = class_bound(inst.benefit, inst.lower, inst.upper, max_classes=n)
        assert forced is not None and forced >= optimum - 1e-6, inst.name
        assert upper_bound(inst.benefit, inst.lower, inst.upper).value >= optimum


@st.composite
def attribute_pools(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Benefits from a few categorical and ordinal attributes (diversity and balance)."""
    n = draw(st.integers(4, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    benefit = np.zeros((n, n))
    for _ in range(draw(st.integers(1, 3))):
        values = rng.integers(0, draw(st.integers(1, 3)), size=n)
        weight = float(rng.integers(1, 5))
        if draw(st.booleans()):
            benefit += weight * (values[:, None] != values[None, :])
        else:
            benefit += weight * (values[:, None] - values[None, :]) ** 2
    if draw(st.booleans()):  # a penalty on some pairs (history): benefits may go negative
        benefit -= 3.0 * (rng.random((n, n)) < 0.2)
        benefit = np.minimum(benefit, benefit.T)
    np.fill_diagonal(benefit, 0.0)
    groups = draw(st.integers(1, 3))
    lo = draw(st.integers(1, max(1, n // groups)))
    hi = draw(st.integers(lo, n))
    lower, upper = np.full(groups, lo), np.full(groups, hi)
    return benefit, lower, upper


@settings(max_examples=80, deadline=None)
@given(attribute_pools())
def test_bounds_are_never_below_brute_force(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    benefit, lower, upper = case
    n = benefit.shape[0]
    if not (lower.sum() <= n <= upper.sum()):
        return
    best = best_grouping(benefit, lower, upper)
    assert slot_bound(benefit, lower, upper) >= best - 1e-6
    forced = class_bound(benefit, lower, upper, max_classes=n)
    assert forced is None or forced >= best - 1e-6
    assert upper_bound(benefit, lower, upper).value >= best - 1e-6


def test_size_range_and_spread() -> None:
    lo, up = np.array([2, 2, 2]), np.array([4, 4, 4])
    least, most = size_range(9, lo, up)
    assert least == 18  # 3, 3, 3
    assert 12 + 6 + 2 <= most <= 21  # 4, 3, 2 is the most; the bound may exceed it a little
    assert size_range(10, np.array([3, 3]), np.array([6, 7]))[1] >= 6 + 42  # 3 and 7
    assert spread(7, 3) == 1 + 1 + 3  # 3,2,2 people: 3 + 1 + 1 pairs
    assert spread(2, 3) == 0


def test_spread_cuts_make_the_class_bound_tight_on_one_attribute() -> None:
    # 12 people, 4 of each of 3 professions, 4 groups of 3: every group can hold all
    # three professions, so the best has no same-profession pair: 4 groups x 3 pairs.
    prof = np.repeat(np.arange(3), 4)
    benefit = (prof[:, None] != prof[None, :]).astype(float)
    lower = upper = np.full(4, 3)
    assert class_bound(benefit, lower, upper) == pytest.approx(12.0)
    # 6 of one profession in 3 groups of 4 (with 3 + 3 others): at least 3 same pairs
    prof = np.array([0] * 6 + [1] * 3 + [2] * 3)
    benefit = (prof[:, None] != prof[None, :]).astype(float)
    lower = upper = np.full(3, 4)
    assert class_bound(benefit, lower, upper) == pytest.approx(18 - 3)
