"""Grouping solver, the coordinators' rules: nobody alone and shared values (common slots).

Exact results are compared with a brute force over every grouping (n <= 10); the
heuristic path (n > 12) must keep every rule in every result; the counting checks word
why a rule cannot hold.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buddymatch.solvers import Status
from buddymatch.solvers.groups import CommonRule, CountRule, check_composition, solve_groups
from buddymatch.solvers.groups.rules import classes_hold, compile_classes


def counts_hold(
    a: np.ndarray, G: int, rules: tuple[CountRule, ...], common: tuple[CommonRule, ...]
) -> bool:
    """Plain re-check of count rules (min, max, nobody alone) and shared values."""
    for rule in rules:
        for code in rule.codes():
            per = np.bincount(a[np.asarray(rule.labels) == code], minlength=G)
            if np.any(per < rule.min) or (rule.max is not None and np.any(per > rule.max)):
                return False
            if rule.min_if_any > 1 and np.any((per > 0) & (per < rule.min_if_any)):
                return False
    for shared in common:
        for g in range(G):
            together = np.all(shared.values[a == g], axis=0)
            if together.sum() < shared.count:
                return False
    return True


def brute_force(
    benefit: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    rules: tuple[CountRule, ...] = (),
    common: tuple[CommonRule, ...] = (),
) -> float | None:
    """Best objective over all G**n assignments meeting sizes and rules (None: infeasible)."""
    n, G = benefit.shape[0], len(lower)
    best = None
    for combo in itertools.product(range(G), repeat=n):
        a = np.array(combo)
        sizes = np.bincount(a, minlength=G)
        if np.any(sizes < lower) or np.any(sizes > upper) or not counts_hold(a, G, rules, common):
            continue
        v = float(np.triu(benefit * (a[:, None] == a[None, :]), 1).sum())
        best = v if best is None else max(best, v)
    return best


def _benefit(rng: np.random.Generator, n: int) -> np.ndarray:
    d = rng.integers(0, 10, (n, n)).astype(float)
    return np.triu(d, 1) + np.triu(d, 1).T


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(6, 9), st.booleans())
def test_not_alone_optimum_equals_brute_force(seed: int, n: int, every_value: bool) -> None:
    rng = np.random.default_rng(seed)
    benefit = _benefit(rng, n)
    lower, upper = np.array([2, 2, 2]), np.array([3, 4, 4])
    labels = rng.integers(-1, 3, n)
    value = None if every_value else 1
    rules = (CountRule(labels, value, min_if_any=2, name="kind"),)
    out = solve_groups(benefit, lower, upper, rules=rules, iterations=1)
    expected = brute_force(benefit, lower, upper, rules)
    if expected is None:
        assert out.status == Status.INFEASIBLE and out.reasons
        return
    assert out.status == Status.OPTIMAL
    assert out.objective == pytest.approx(expected)
    assert counts_hold(out.assignment, 3, rules, ())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(6, 8))
def test_not_alone_with_other_rules_and_common_values_equal_brute_force(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    benefit = _benefit(rng, n)
    lower, upper = np.array([2, 2, 1]), np.array([3, 4, 3])
    labels = rng.integers(0, 3, n)
    slots = rng.random((n, 4)) < 0.7
    rules = (
        CountRule(labels, 0, min_if_any=2, name="a"),
        CountRule(labels, 1, max=2, name="b"),
    )
    common = (CommonRule(slots, 1, "slots"),)
    out = solve_groups(benefit, lower, upper, rules=rules, common=common, iterations=1)
    expected = brute_force(benefit, lower, upper, rules, common)
    if expected is None:
        assert out.status == Status.INFEASIBLE
        return
    assert out.status == Status.OPTIMAL
    assert out.objective == pytest.approx(expected)
    assert counts_hold(out.assignment, 3, rules, common)


@st.composite
def pools(draw: st.DrawFn) -> dict:
    """Pools of 13–40 (the heuristic path) with not-alone values and shared slots."""
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(13, 40))
    G = draw(st.integers(2, 5))
    base = n // G
    lower, upper = np.full(G, max(1, base - 1)), np.full(G, base + 2)
    d = rng.random((n, n))
    labels = rng.integers(-1, 4, n)
    rules = [CountRule(labels, None if draw(st.booleans()) else 0, min_if_any=2, name="kind")]
    if draw(st.booleans()):
        rules.append(CountRule(rng.integers(0, G + 3, n), None, max=3, name="org"))
    common = ()
    if draw(st.booleans()):
        common = (CommonRule(rng.random((n, 6)) < 0.85, 1, "slots"),)
    return dict(
        benefit=np.triu(d, 1) + np.triu(d, 1).T,
        lower=lower,
        upper=upper,
        rules=tuple(rules),
        common=common,
        seed=seed % 1000,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools())
def test_every_search_result_keeps_nobody_alone_and_shared_values(pool: dict) -> None:
    kwargs = dict(rules=pool["rules"], common=pool["common"], seed=pool["seed"], iterations=3)
    out = solve_groups(pool["benefit"], pool["lower"], pool["upper"], **kwargs)
    if out.status in (Status.INFEASIBLE, Status.UNKNOWN):
        assert out.reasons
        return
    a, G = out.assignment, len(pool["lower"])
    sizes = np.bincount(a, minlength=G)
    assert np.all(sizes >= pool["lower"]) and np.all(sizes <= pool["upper"])
    assert counts_hold(a, G, pool["rules"], pool["common"])
    again = solve_groups(pool["benefit"], pool["lower"], pool["upper"], **kwargs)
    assert np.array_equal(a, again.assignment)


def test_the_decomposed_search_keeps_nobody_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import buddymatch.solvers.groups.solve as groups_module

    monkeypatch.setattr(groups_module, "TABU_MAX_N", 40)
    monkeypatch.setattr(groups_module, "PART_SIZE", 24)
    rng = np.random.default_rng(8)
    n = 80
    d = rng.random((n, n))
    kind = rng.integers(0, 6, n)
    rules = (CountRule(kind, None, min_if_any=2, name="kind"),)
    out = solve_groups(np.triu(d, 1) + np.triu(d, 1).T, np.full(10, 7), np.full(10, 9),
                       rules=rules, iterations=6, seed=1)  # fmt: skip
    assert out.stats["method"] == "decomposed tabu search"
    assert counts_hold(out.assignment, 10, rules, ())


def test_classes_hold_catches_a_lone_member_and_a_lost_shared_value() -> None:
    labels = np.array([0, 0, 1, 1, 0, 1])
    slots = np.array([[1, 1], [1, 0], [1, 1], [1, 1], [1, 0], [0, 1]], dtype=bool)
    classes = compile_classes(
        6, [CountRule(labels, 0, min_if_any=2)], [], [CommonRule(slots, 1, "slots")]
    )

    def held(a: list[int]) -> bool:
        cnt = np.zeros((classes.count, 2), np.int64)
        arr = np.array(a)
        np.add.at(cnt, (classes.idx, np.repeat(arr, np.diff(classes.ptr))), 1)
        return classes_hold(classes, cnt)

    assert held([0, 0, 1, 1, 0, 1]) is True
    assert held([0, 0, 0, 1, 1, 1]) is False  # person 4 (kind 0) alone in group 2
    assert held([0, 0, 1, 1, 0, 0]) is False  # group 1: persons 1 and 5 share no slot
    assert counts_hold(np.array([0, 0, 1, 1, 0, 1]), 2, (CountRule(labels, 0, min_if_any=2),), ())


def test_nobody_alone_is_explained_before_search() -> None:
    n = 30
    lower, upper = np.full(5, 6), np.full(5, 6)
    rep = np.zeros(n, np.int64)
    rep[:3] = 1
    lone = (CountRule(rep, 1, min_if_any=2, name="profession=Patient representative"),)
    assert check_composition(lower, upper, lone, None, (), (), n) == []
    rep[1:3] = 0
    assert check_composition(lower, upper, lone, None, (), (), n) == [
        "the pool has 1 of profession=Patient representative, who cannot be alone in a group "
        "(0 or at least 2 per group)"
    ]
    rep[:3] = 1
    every_group = (
        CountRule(rep, 1, min=1, name="profession=Patient representative"),
        *lone,
    )
    assert check_composition(lower, upper, every_group, None, (), (), n) == [
        "5 groups need at least 1 of profession=Patient representative each; the pool has 3",
        "5 groups need at least 1 of profession=Patient representative each, and nobody alone "
        "makes that 2 each; the pool has 3",
    ]
    at_most_one = (CountRule(rep, 1, max=1, name="profession=Patient representative"), *lone)
    assert check_composition(lower, upper, at_most_one, None, (), (), n) == [
        "profession=Patient representative: at most 1 per group, yet a group with any needs "
        "at least 2; the pool has 3"
    ]
    out = solve_groups(np.zeros((n, n)), lower, upper, rules=at_most_one, iterations=1)
    assert out.status == Status.INFEASIBLE and "at most 1 per group" in out.reasons[0]


def test_shared_values_are_explained_before_search() -> None:
    slots = np.ones((12, 3), dtype=bool)
    slots[:2] = False
    reasons = check_composition(
        np.full(3, 4), np.full(3, 4), (), None, (), (), 12, (CommonRule(slots, 1, "availability"),)
    )
    assert reasons == [
        "2 people have fewer than 1 values of availability; every group needs 1 shared by "
        "all its members"
    ]
