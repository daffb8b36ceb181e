"""Large pools start the blossom engine from the fractional matching LP (solvers/pairing/lp.py).

The thresholds are lowered to 0 so that small pools take that path; answers
must equal brute force and networkx, and the certificate must pass the
independent check (tests/solvers/test_pairing_certificate.py) exactly as on
the engine's own start.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings

from buddymatch.solvers import Status
from buddymatch.solvers.pairing import core, lp, solve_pairing
from buddymatch.solvers.pairing.price import Pricer
from tests.solvers.test_pairing import (
    assert_valid,
    outcome_structure,
    random_weights,
    score,
    structures,
)
from tests.solvers.test_pairing_certificate import (
    assert_certified_optimum,
    check_certificate,
    odd_pools,
)

SHIPPED = {
    name: getattr(core, name)
    for name in ("FULL_EDGE_LIMIT", "LP_START_PEOPLE", "LP_START_DISTINCT")
}


@pytest.fixture(autouse=True)
def lp_start_everywhere() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(core, "FULL_EDGE_LIMIT", 0)
        mp.setattr(core, "LP_START_PEOPLE", 0)
        mp.setattr(core, "LP_START_DISTINCT", 10**9)
        mp.setattr(core, "TOP_K", 2)  # few first candidates: the pricing must find the rest
        yield


@settings(max_examples=40, deadline=None)
@given(odd_pools())
def test_equals_brute_force(case: tuple[np.ndarray, str, np.ndarray]) -> None:
    w, objective, pen = case
    best = max(score(w, s, objective, pen) for s in structures(w, [], True))
    out = solve_pairing(w, objective=objective, leftover="trio", exclude_penalty=pen)
    assert out.status is Status.OPTIMAL
    if (w >= 0).any():
        assert "lp_rounds" in out.stats
    assert score(w, outcome_structure(out), objective, pen) == best


@pytest.mark.parametrize("objective", ["max-score", "max-matched"])
def test_certificate_checks_out_on_random_graphs_up_to_300_nodes(objective: str) -> None:
    rng = np.random.default_rng(41)
    for n, p, top in ((12, 0.5, 100_001), (60, 0.3, 7), (150, 0.8, 100_001), (300, 0.2, 4)):
        w = random_weights(rng, n, p, top=top)  # top 4 / 7: mostly ties, as in real schemes
        out = assert_certified_optimum(w, objective)
        assert int(out.stats["lp_rounds"]) >= 1


def test_the_start_is_feasible_for_every_allowed_pair() -> None:
    rng = np.random.default_rng(5)
    w = random_weights(rng, 80, 0.4, top=5)
    n = len(w)
    active = np.ones(n, dtype=bool)
    active[[3, 7]] = False
    pen = rng.integers(0, 3, size=n).astype(np.int64)
    pricer = Pricer(w, active, pen, 0, 1000)
    ok = (w >= 0) & active[:, None] & active[None, :]
    np.fill_diagonal(ok, False)
    first = np.argwhere(np.triu(ok, 1))[:2]  # two allowed pairs: the pricing finds the rest
    edges = (first[:, 0].astype(np.int64), first[:, 1].astype(np.int64))
    start = lp.lp_start(pricer, edges, n + 3)
    d = start.duals
    assert len(d) == n + 3 and (d >= 0).all() and (d[n:] == 0).all()
    c = 1000 + w.astype(np.int64) + pen[:, None] + pen[None, :]
    assert ((d[:n, None] + d[None, :n])[ok] >= 2 * c[ok]).all()
    a, b = start.edges
    assert (a < b).all() and ok[a, b].all()
    used = np.concatenate([a[start.prefer], b[start.prefer]])
    assert len(used) == len(set(used.tolist()))  # the LP's firm pairs are disjoint


def test_locks_penalties_and_fair_on_the_lp_start() -> None:
    rng = np.random.default_rng(12)
    for n in (9, 11, 12):
        w = random_weights(rng, n, 0.3, top=6)
        pen = rng.integers(0, 4, size=n)
        lock = np.argwhere(np.triu(w >= 0, 1))[:1]
        for objective in ("max-matched", "max-score", "fair"):
            locked = [tuple(int(x) for x in p) for p in lock.tolist()]
            best = max(score(w, s, objective, pen) for s in structures(w, locked, True))
            out = solve_pairing(w, objective=objective, locked=lock, exclude_penalty=pen)
            assert out.status is Status.OPTIMAL
            assert score(w, outcome_structure(out), objective, pen) == best


def test_the_lp_start_is_chosen_for_large_pools_of_tied_scores() -> None:
    rng = np.random.default_rng(3)
    n = 1_200
    tied = random_weights(rng, n, 0.2, top=40) * 1000  # 40 distinct scores
    spread = random_weights(rng, n, 0.2, top=100_001)  # nearly all distinct
    zero = np.zeros(n, np.int64)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in SHIPPED.items():  # the module's own thresholds, not the fixture's
            mp.setattr(core, name, value)
        for w, expect in ((tied, True), (spread, False)):
            view = core.View(w, np.ones(n, dtype=bool), zero, zero, 0, True, True)
            assert core._lp_start_pays(view, 10**6) is expect
            assert not core._lp_start_pays(view, 1_000)  # a small graph: all pairs, no LP


def test_a_spent_time_limit_still_gives_a_valid_answer_and_bound() -> None:
    rng = np.random.default_rng(4)
    w = random_weights(rng, 120, 0.3, top=5)
    exact = solve_pairing(w, leftover="exclude")
    late = solve_pairing(w, leftover="exclude", time_limit=0.0)
    assert_valid(w, late)
    assert late.bound is not None and late.bound >= exact.objective >= late.objective
    if late.status is Status.OPTIMAL:
        check_certificate(w, late)
        assert late.objective == exact.objective
