"""solve_pairing_with_changes: a budget on breaking current units of a pool, against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.pairing import solve_pairing_with_changes


@st.composite
def pools(draw):  # type: ignore[no-untyped-def]
    """A small symmetric weight matrix and disjoint kept units (pairs, maybe a trio) on it."""
    n = draw(st.integers(2, 7))
    w = np.full((n, n), NOT_ALLOWED, dtype=np.int32)
    for i in range(n):
        for j in range(i + 1, n):
            w[i, j] = w[j, i] = draw(st.one_of(st.just(NOT_ALLOWED), st.integers(0, 9)))
    kept: list[tuple[int, ...]] = []
    free = list(range(n))
    while len(free) >= 2 and draw(st.booleans()):
        size = 3 if len(free) >= 3 and draw(st.booleans()) else 2
        unit = tuple(free[:size])
        if all(w[a, b] != NOT_ALLOWED for k, a in enumerate(unit) for b in unit[k + 1 :]):
            kept.append(unit)
        free = free[size:]
    return w, kept


def _value2(w, unit):  # type: ignore[no-untyped-def]
    if len(unit) == 2:
        return 2 * int(w[unit])
    a, b, c = unit
    return int(w[a, b]) + int(w[a, c]) + int(w[b, c])


def _solutions(w, people, trio_left):  # type: ignore[no-untyped-def]
    """Every set of disjoint allowed units over ``people`` (at most ``trio_left`` trios)."""
    if not people:
        yield []
        return
    i, rest = people[0], people[1:]
    yield from _solutions(w, rest, trio_left)  # i left out
    for a, j in enumerate(rest):
        if w[i, j] == NOT_ALLOWED:
            continue
        others = rest[:a] + rest[a + 1 :]
        for tail in _solutions(w, others, trio_left):
            yield [(i, j), *tail]
        if trio_left:
            for b, k in enumerate(others):
                if w[i, k] != NOT_ALLOWED and w[j, k] != NOT_ALLOWED:
                    left = others[:b] + others[b + 1 :]
                    for tail in _solutions(w, left, trio_left - 1):
                        yield [(i, j, k), *tail]


def brute(w, kept, budget, objective, leftover):  # type: ignore[no-untyped-def]
    best = None
    kept_set = set(kept)
    kept_trios = sum(1 for u in kept if len(u) == 3)
    for units in _solutions(w, list(range(len(w))), 1 + kept_trios if leftover == "trio" else 0):
        new_trios = sum(1 for u in units if len(u) == 3 and u not in kept_set)
        kept_pair_trios = [u for u in units if len(u) == 3 and u in kept_set]
        if new_trios > 1 or (leftover != "trio" and (new_trios or kept_pair_trios)):
            continue
        breaks = len(kept_set - set(units))
        if breaks > budget:
            continue
        people = sum(len(u) for u in units)
        value = sum(_value2(w, u) for u in units)
        key = (people, -breaks, value) if objective == "max-matched" else (value, -breaks)
        if best is None or key > best:
            best = key
    return best


@settings(max_examples=250, deadline=None)
@given(
    pools(),
    st.integers(0, 2),
    st.sampled_from(["max-matched", "max-score"]),
    st.sampled_from(["trio", "exclude"]),
)
def test_equals_brute_force(pool, budget, objective, leftover) -> None:  # type: ignore[no-untyped-def]
    w, kept = pool
    if leftover == "exclude" and any(len(u) == 3 for u in kept):
        return
    out = solve_pairing_with_changes(
        w, kept=kept, max_changes=budget, objective=objective, leftover=leftover
    )
    units = [u for u in kept if u not in out.broken] + list(out.new)
    people = sum(len(u) for u in units)
    value = sum(_value2(w, u) for u in units)
    key = (
        (people, -len(out.broken), value)
        if objective == "max-matched"
        else (value, -len(out.broken))
    )
    assert out.status == Status.OPTIMAL
    assert key == brute(w, kept, budget, objective, leftover)
    assert len(out.broken) <= budget and out.objective == value / 2
    seen = [m for u in units for m in u]
    assert len(seen) == len(set(seen))


def test_a_break_that_places_two_more_people() -> None:
    w = np.full((4, 4), NOT_ALLOWED, dtype=np.int32)
    for a, b, v in ((0, 1, 9), (0, 2, 1), (1, 3, 1)):
        w[a, b] = w[b, a] = v
    kept = [(0, 1)]
    zero = solve_pairing_with_changes(w, kept=kept, max_changes=0)
    assert zero.new == [] and zero.broken == []
    one = solve_pairing_with_changes(w, kept=kept, max_changes=1)
    assert one.broken == [(0, 1)] and sorted(one.new) == [(0, 2), (1, 3)]
    assert one.trade_off == [(0, 9.0), (1, 2.0)]
    assert (
        solve_pairing_with_changes(w, kept=kept, max_changes=1, objective="max-score").broken == []
    )


def test_fair_needs_no_budget_and_large_pools_are_refused() -> None:
    w = np.zeros((4, 4), dtype=np.int32)
    np.fill_diagonal(w, NOT_ALLOWED)
    assert solve_pairing_with_changes(w, kept=[(0, 1)], max_changes=0, objective="fair").new
    with pytest.raises(ValueError, match="max-matched and max-score"):
        solve_pairing_with_changes(w, kept=[(0, 1)], max_changes=1, objective="fair")
    import buddymatch.solvers.pairing.budget as module

    old, module.MAX_PAIRS = module.MAX_PAIRS, 2
    try:
        w[2, 3] = w[3, 2] = NOT_ALLOWED  # breaking (0, 1) could place 2 and 3: the model is needed
        w[0, 2] = w[2, 0] = w[0, 3] = w[3, 0] = w[1, 2] = w[2, 1] = w[1, 3] = w[3, 1] = 5
        w[0, 1] = w[1, 0] = 1
        with pytest.raises(ValueError, match="allowed pairs"):
            solve_pairing_with_changes(w, kept=[(0, 1)], max_changes=1, leftover="exclude")
    finally:
        module.MAX_PAIRS = old


def test_a_trio_may_grow_from_a_kept_pair() -> None:
    """Breaking the kept pair (0, 1) into the trio (0, 1, 2) places everyone (found by hypothesis:
    the trio's value must count the kept pair's weight)."""
    w = np.full((5, 5), NOT_ALLOWED, dtype=np.int32)
    for a, b, v in ((0, 1, 2), (0, 2, 0), (1, 2, 0), (1, 3, 0), (1, 4, 1), (3, 4, 0)):
        w[a, b] = w[b, a] = v
    out = solve_pairing_with_changes(w, kept=[(0, 1)], max_changes=1)
    assert sorted(out.new) == [(0, 1, 2), (3, 4)] and out.broken == [(0, 1)]
    assert out.objective == 1.0
