"""One-pool pairing: brute force and networkx agreement, invariants, edge cases."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.pairing import PairingOutcome, solve_pairing

Structure = tuple[list[tuple[int, int]], tuple[int, int, int] | None]


def random_weights(rng: np.random.Generator, n: int, p_forbid: float, top: int = 100) -> np.ndarray:
    w = rng.integers(0, top, size=(n, n))
    w = np.triu(w, 1)
    w = w + w.T
    mask = np.triu(rng.random((n, n)) < p_forbid, 1)
    w[mask | mask.T] = NOT_ALLOWED
    np.fill_diagonal(w, NOT_ALLOWED)
    return w.astype(np.int32)


def structures(w: np.ndarray, locked: list[tuple[int, int]], trio: bool) -> Iterator[Structure]:
    """Every set of disjoint allowed pairs (+ at most one allowed trio) containing ``locked``."""
    busy = {x for p in locked for x in p}
    free = [i for i in range(len(w)) if i not in busy]

    def rec(
        rest: list[int], pairs: list[tuple[int, int]], tr: tuple[int, int, int] | None
    ) -> Iterator[Structure]:
        if not rest:
            yield pairs, tr
            return
        i, tail = rest[0], rest[1:]
        yield from rec(tail, pairs, tr)  # i left out
        for j in tail:
            if w[i, j] >= 0:
                yield from rec([x for x in tail if x != j], [*pairs, (i, j)], tr)
        if trio and tr is None:
            for j, k in itertools.combinations(tail, 2):
                if min(w[i, j], w[i, k], w[j, k]) >= 0:
                    yield from rec([x for x in tail if x not in (j, k)], pairs, (i, j, k))

    for pairs, tr in rec(free, [], None):
        yield [*locked, *pairs], tr


def score(w: np.ndarray, s: Structure, objective: str, pen: np.ndarray) -> tuple[float, ...]:
    pairs, tr = s
    used = [int(w[a, b]) for a, b in pairs]
    placed = {x for p in pairs for x in p}
    value = float(sum(used))
    if tr is not None:
        a, b, c = tr
        trio_w = [int(w[a, b]), int(w[a, c]), int(w[b, c])]
        used += trio_w
        value += sum(trio_w) / 2
        placed |= set(tr)
    value -= float(sum(int(pen[i]) for i in range(len(w)) if i not in placed))
    if objective == "max-score":
        return (value,)
    if objective == "max-matched":
        return (len(placed), value)
    return (len(placed), min(used) if used else 10**9, value)


def outcome_structure(out: PairingOutcome) -> Structure:
    trio = tuple(out.trios[0].tolist()) if len(out.trios) else None
    return [tuple(p) for p in out.pairs.tolist()], trio


def assert_valid(w: np.ndarray, out: PairingOutcome, locked: np.ndarray | None = None) -> None:
    people = list(out.pairs.ravel()) + list(out.trios.ravel())
    assert len(people) == len(set(people)), "somebody is in two groups"
    for a, b in out.pairs.tolist():
        assert a < b and w[a, b] != NOT_ALLOWED
    for a, b, c in out.trios.tolist():
        assert a < b < c and min(w[a, b], w[a, c], w[b, c]) != NOT_ALLOWED
    rows = [tuple(r) for r in out.pairs.tolist()]
    assert rows == sorted(rows)
    if locked is not None:
        assert {tuple(sorted(p)) for p in locked.tolist()} <= set(rows)
    assert out.bound is None or out.bound >= out.objective - 1e-9


@pytest.mark.parametrize("objective", ["max-matched", "max-score", "fair"])
@pytest.mark.parametrize("leftover", ["trio", "exclude"])
def test_equals_brute_force_on_small_pools(objective: str, leftover: str) -> None:
    rng = np.random.default_rng(hash((objective, leftover)) % 2**32)
    for _ in range(25):
        n = int(rng.integers(0, 10))
        w = random_weights(rng, n, float(rng.random()))
        pen = rng.integers(0, 30, size=n) if rng.random() < 0.3 else np.zeros(n, np.int64)
        best = max(score(w, s, objective, pen) for s in structures(w, [], leftover == "trio"))
        out = solve_pairing(w, objective=objective, leftover=leftover, exclude_penalty=pen)
        assert_valid(w, out)
        assert out.status is Status.OPTIMAL
        got = score(w, outcome_structure(out), objective, pen)
        assert got == best
        assert out.objective == pytest.approx(got[-1])


@pytest.mark.parametrize("objective", ["max-matched", "max-score", "fair"])
def test_locks_equal_brute_force(objective: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(2, 10))
        w = random_weights(rng, n, 0.3)
        perm = rng.permutation(n)
        lk = [tuple(sorted((int(perm[0]), int(perm[1]))))]
        if w[lk[0]] == NOT_ALLOWED:
            out = solve_pairing(w, objective=objective, locked=np.array(lk))
            assert out.status is Status.INFEASIBLE and "not allowed" in str(out.stats["reason"])
            continue
        zero = np.zeros(n, np.int64)
        best = max(score(w, s, objective, zero) for s in structures(w, lk, True))  # type: ignore[arg-type]
        out = solve_pairing(w, objective=objective, locked=np.array(lk))
        assert_valid(w, out, np.array(lk))
        assert score(w, outcome_structure(out), objective, zero) == best


def test_trio_choice_is_optimal_not_last_in() -> None:
    # Odd pool: the best trio is {0, 1, 2}; a "leftover joins some pair" heuristic
    # starting from the max-weight pairs (3,4), (0,1) would put 2 with (3,4) or (0,1).
    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.choice([3, 5, 7, 9]))
        w = random_weights(rng, n, 0.2, top=1000)
        best = max(score(w, s, "max-matched", np.zeros(n)) for s in structures(w, [], True))
        out = solve_pairing(w, leftover="trio")
        assert score(w, outcome_structure(out), "max-matched", np.zeros(n)) == best


@pytest.mark.parametrize("objective,maxcard", [("max-score", False), ("max-matched", True)])
def test_equals_networkx_up_to_60_nodes(objective: str, maxcard: bool) -> None:
    rng = np.random.default_rng(11)
    for _ in range(6):
        n = int(rng.integers(10, 61))
        w = random_weights(rng, n, float(rng.random()) * 0.9, top=100_001)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        iu, ju = np.nonzero(np.triu(w >= 0, 1))
        g.add_weighted_edges_from(zip(iu.tolist(), ju.tolist(), w[iu, ju].tolist(), strict=True))
        ref = nx.max_weight_matching(g, maxcardinality=maxcard)
        out = solve_pairing(w, objective=objective, leftover="exclude")
        assert_valid(w, out)
        assert out.objective == sum(int(w[a, b]) for a, b in ref)
        if maxcard:
            assert out.stats["people_placed"] == 2 * len(ref)


def test_large_graph_path_matches_networkx() -> None:
    # Dense enough to go through top-k candidates + LP pricing (not the full graph).
    rng = np.random.default_rng(5)
    n = 240
    w = random_weights(rng, n, 0.2, top=100_001)
    g = nx.Graph()
    iu, ju = np.nonzero(np.triu(w >= 0, 1))
    g.add_weighted_edges_from(zip(iu.tolist(), ju.tolist(), w[iu, ju].tolist(), strict=True))
    ref = sum(int(w[a, b]) for a, b in nx.max_weight_matching(g))
    out = solve_pairing(w, objective="max-score", leftover="exclude")
    assert_valid(w, out)
    assert int(out.stats["candidate_pairs"]) < len(iu)
    assert out.bound is not None and out.bound >= ref
    assert out.objective == ref


@st.composite
def pools(draw: st.DrawFn) -> tuple[np.ndarray, str, str, np.ndarray | None]:
    n = draw(st.integers(0, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    w = random_weights(rng, n, draw(st.floats(0, 1)), top=draw(st.sampled_from([1, 5, 100_001])))
    objective = draw(st.sampled_from(["max-matched", "max-score", "fair"]))
    leftover = draw(st.sampled_from(["trio", "exclude"]))
    locked = None
    if n >= 2 and draw(st.booleans()):
        allowed = np.argwhere(np.triu(w >= 0, 1))
        if len(allowed):
            locked = allowed[:1]
    return w, objective, leftover, locked


@settings(max_examples=60, deadline=None)
@given(pools())
def test_invariants_and_determinism(case: tuple[np.ndarray, str, str, np.ndarray | None]) -> None:
    w, objective, leftover, locked = case
    out = solve_pairing(w, objective=objective, leftover=leftover, locked=locked)
    assert_valid(w, out, locked)
    if leftover == "exclude":
        assert len(out.trios) == 0
    assert out.stats["people_placed"] == out.pairs.size + out.trios.size
    again = solve_pairing(w, objective=objective, leftover=leftover, locked=locked, seed=0)
    assert np.array_equal(out.pairs, again.pairs) and np.array_equal(out.trios, again.trios)
    assert out.objective == again.objective


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_pools(n: int) -> None:
    w = np.full((n, n), 500, dtype=np.int32)
    np.fill_diagonal(w, NOT_ALLOWED)
    out = solve_pairing(w)
    assert out.status is Status.OPTIMAL
    assert out.stats["people_placed"] == (n if n != 1 else 0)
    assert len(out.trios) == (1 if n == 3 else 0)
    excl = solve_pairing(w, leftover="exclude")
    assert excl.stats["people_placed"] == n - n % 2


def test_everyone_forbidden_and_all_zero() -> None:
    w = np.full((6, 6), NOT_ALLOWED, dtype=np.int32)
    out = solve_pairing(w)
    assert out.status is Status.OPTIMAL and out.pairs.shape == (0, 2) and out.objective == 0
    z = np.zeros((7, 7), dtype=np.int32)
    np.fill_diagonal(z, NOT_ALLOWED)
    out = solve_pairing(z)
    assert out.stats["people_placed"] == 7 and len(out.trios) == 1 and out.objective == 0


def test_bad_locks_are_infeasible_with_reason() -> None:
    w = np.zeros((4, 4), dtype=np.int32)
    np.fill_diagonal(w, NOT_ALLOWED)
    for lk, word in (
        ([[0, 1], [1, 2]], "two locked"),
        ([[0, 9]], "outside"),
        ([[2, 2]], "themself"),
    ):
        out = solve_pairing(w, locked=np.array(lk))
        assert out.status is Status.INFEASIBLE and word in str(out.stats["reason"])


def test_exclude_penalty_chooses_who_is_left_out() -> None:
    w = np.full((5, 5), 100, dtype=np.int32)
    np.fill_diagonal(w, NOT_ALLOWED)
    pen = np.array([0, 50, 50, 50, 50])
    out = solve_pairing(w, leftover="exclude", exclude_penalty=pen)
    assert 0 not in out.pairs and out.objective == 200
    pen = np.array([50, 50, 50, 0, 50])
    out = solve_pairing(w, leftover="exclude", exclude_penalty=pen)
    assert 3 not in out.pairs


def test_rejects_bad_arguments() -> None:
    w = np.zeros((3, 3), dtype=np.int32)
    with pytest.raises(ValueError, match="objective"):
        solve_pairing(w, objective="best")
    with pytest.raises(ValueError, match="leftover"):
        solve_pairing(w, leftover="drop")
    with pytest.raises(ValueError, match="square"):
        solve_pairing(np.zeros((2, 3), dtype=np.int32))


@pytest.mark.slow
@pytest.mark.parametrize("objective,maxcard", [("max-score", False), ("max-matched", True)])
def test_structured_pool_matches_rustworkx(objective: str, maxcard: bool) -> None:
    rx = pytest.importorskip("rustworkx")
    from benchmarks.scenario_peer import make_weights

    w = make_weights(700, seed=4)
    g = rx.PyGraph()
    g.add_nodes_from(range(len(w)))
    iu, ju = np.nonzero(np.triu(w >= 0, 1))
    g.extend_from_weighted_edge_list(
        list(zip(iu.tolist(), ju.tolist(), w[iu, ju].astype(int).tolist(), strict=True))
    )
    ref = rx.max_weight_matching(g, max_cardinality=maxcard, weight_fn=lambda x: x)
    out = solve_pairing(w, objective=objective, leftover="exclude")
    assert_valid(w, out)
    assert out.objective == sum(int(w[a, b]) for a, b in ref)
    assert out.bound is not None and out.bound >= out.objective
