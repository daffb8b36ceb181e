"""One solve of "disjoint pairs plus at most one trio" on a view of the weight matrix.

:func:`solve_view` is the engine behind :func:`buddymatch.solvers.pairing.solve_pairing`.
Everything is exact integer arithmetic on *doubled* values:

* a pair's worth is ``c_ij = K + w_ij + pen_i + pen_j`` where ``K`` (the
  people weight) is 0 for max-score and, for max-matched / fair, larger
  than any total of the other terms, so that worth ranks by people placed
  first, then value;
* value2 (what callers see) leaves ``K`` out: ``2 w'`` per pair,
  ``w'_ab + w'_ac + w'_bc - 2 tp(T)`` for the trio.

Method.  Small graphs (``<= FULL_EDGE_LIMIT`` allowed pairs) use every
allowed pair as candidates; larger ones start from each person's best
``TOP_K`` partners, and pools of ``LP_START_PEOPLE`` or more with mostly
tied scores from the fractional matching LP's duals and integral pairs
(:mod:`.lp`).  The blossom engine (:mod:`.blossom`) finds the best pairs on
the candidates with their dual certificate; every allowed pair of the dense
matrix is then priced against those duals (:mod:`.price`), the pairs that
violate them are added and the engine re-optimises warm, until none does:
the duals then certify the answer over the whole allowed graph.
With ``leftover="trio"`` the trio is then chosen by :mod:`.trio`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from buddymatch.solvers.pairing import blossom as bl
from buddymatch.solvers.pairing import lp
from buddymatch.solvers.pairing import trio as tr
from buddymatch.solvers.pairing.graph import all_edges, count_allowed, top_k_edges
from buddymatch.solvers.pairing.price import Certificate, Edges, Pricer, certificate, tree

FULL_EDGE_LIMIT = 20_000
"""Graphs with at most this many allowed pairs start from all of them."""
TOP_K = 6
"""Initial candidate partners per person on larger graphs."""
PRICE_PER_ROW = 4
"""Violated pairs added per person and pricing round."""
MAX_PRICE_ROUNDS = 100
LP_START_PEOPLE = 1_000
"""Pools of at least this many people (on larger graphs) whose scores are mostly tied
start from the fractional matching LP (:mod:`.lp`) instead of the engine's greedy start."""
LP_START_DISTINCT = 1_000
"""At most this many distinct pair scores (in the sampled rows) count as mostly tied."""
TIE_SAMPLE_ROWS = 64


@dataclass(frozen=True)
class View:
    """Which part of the dense matrix a solve sees (nothing is copied)."""

    w: np.ndarray
    active: np.ndarray  # bool (n,)
    pen: np.ndarray  # int64 (n,), bonus for placing i (= penalty for leaving i out)
    trio_pen: np.ndarray  # int64 (n,), cost of putting i in the trio
    t_min: int
    card: bool
    trio: bool


@dataclass
class CoreResult:
    pairs: Edges
    trio: tuple[int, int, int] | None
    people: int
    value2: int
    bound2: int  # certified upper bound on value2 (among structures placing >= people)
    people_bound: int
    proven: bool
    stats: dict[str, float | int | str] = field(default_factory=dict)
    certificate: Certificate | None = None


def people_weight(view: View) -> int:
    """``K``: 0 for max-score, else more than any structure's value2 can differ by."""
    if not view.card:
        return 0
    n = int(view.active.sum())
    pmax = int(view.pen[view.active].max(initial=0))
    tmax = int(view.trio_pen[view.active].max(initial=0))
    wmax = max(int(view.w.max(initial=0)), 0)
    return n * (wmax + 2 * pmax + 1) + 6 * tmax + 1


@dataclass
class _Matched:
    """The best pairs and how well they are proven."""

    state: bl.State
    pricer: Pricer
    certified: bool
    bound2: int  # doubled upper bound on the worth of any set of pairs
    stats: dict[str, float | int | str]


def _candidates(view: View) -> tuple[Edges, int]:
    n_allowed = count_allowed(view.w, view.active, view.t_min)
    if n_allowed <= FULL_EDGE_LIMIT:
        return all_edges(view.w, view.active, view.t_min), n_allowed
    return top_k_edges(view.w, view.active, view.pen, view.t_min, TOP_K), n_allowed


def _match(view: View, deadline: float | None) -> _Matched:
    """Best pairs on candidates, priced against the whole graph until certified."""
    n = view.w.shape[0]
    pricer = Pricer(view.w, view.active, view.pen, int(view.t_min), people_weight(view))
    edges, n_allowed = _candidates(view)
    stats: dict[str, float | int | str] = {"allowed_pairs": n_allowed}
    if _lp_start_pays(view, n_allowed):
        t0 = time.perf_counter()
        start = lp.lp_start(pricer, edges, n + tr.SPARE, deadline)
        edges = start.edges
        stats.update(start.stats, lp_s=round(time.perf_counter() - t0, 2))
        state = bl.new_state(
            n + tr.SPARE, edges[0], edges[1], pricer.values(edges), start.duals, start.prefer
        )
    else:
        state = bl.new_state(n + tr.SPARE, edges[0], edges[1], pricer.values(edges))
    stages = bl.run(state)
    rounds, certified = 0, False
    t_price = 0.0
    while True:
        t0 = time.perf_counter()
        new, worst = pricer.violations(tree(state), PRICE_PER_ROW)
        t_price += time.perf_counter() - t0
        if not len(new[0]):
            certified = True
            break
        if rounds >= MAX_PRICE_ROUNDS or _late(deadline):
            break
        m = len(state.eu)
        state = bl.add_edges(state, new[0], new[1], pricer.values(new))
        bl.raise_for_edges(state, np.arange(m, m + len(new[0])))
        stages += bl.run(state)
        rounds += 1
    bound2 = bl.dual_bound2(state) + (0 if certified else int(worst.sum()))
    stats.update(
        candidate_pairs=len(state.eu),
        pricing_rounds=rounds,
        pricing_s=round(t_price, 2),
        augmenting_searches=stages,
    )
    return _Matched(state, pricer, certified, bound2, stats)


def _lp_start_pays(view: View, n_allowed: int) -> bool:
    """Large pools whose pair scores are mostly tied start from the LP (:mod:`.lp`).

    Scores built from a few criteria take few distinct values (the sampler's
    peer scheme: 61), and there the engine's own start re-grows huge trees
    (20,000 people: not finished in 10 minutes; from the LP: 23 s).  Where
    scores are nearly all distinct the LP's half-integral optimum is far
    from the engine's and its start costs more than it saves (structured
    random scores, 20,000 people, measured once: 43 s from the LP, 11 s
    without).  The distinct values are counted on up to ``TIE_SAMPLE_ROWS``
    rows.
    """
    act = np.flatnonzero(view.active)
    if n_allowed <= FULL_EDGE_LIMIT or len(act) < LP_START_PEOPLE:
        return False
    rows = act[:: max(1, len(act) // TIE_SAMPLE_ROWS)][:TIE_SAMPLE_ROWS]
    block = view.w[rows][:, act]
    values = np.unique(block[block >= max(view.t_min, 0)])
    return len(values) <= LP_START_DISTINCT


def _structure_of(m: _Matched) -> tr.Best:
    a, b = tr.real_pairs(m.state, len(m.pricer.active))
    c2 = int(2 * m.pricer.values((a, b)).sum()) if len(a) else 0
    return tr.Best((a, b), None, c2)


def _value2(view: View, best: tr.Best, big: int) -> tuple[int, int]:
    """(people placed, value2) of a structure from its doubled worth."""
    people = 2 * len(best.pairs[0]) + (3 if best.trio is not None else 0)
    return people, best.c2 - big * people


def _non_isolated(view: View, m: _Matched) -> int:
    deg = np.zeros(view.w.shape[0], dtype=np.int64)
    np.add.at(deg, m.state.eu, 1)
    np.add.at(deg, m.state.ev, 1)
    return int((deg > 0).sum())


def _needs_trio_search(view: View, best: tr.Best, m: _Matched) -> bool:
    if not view.trio or int(view.active.sum()) < 3:
        return False
    people = 2 * len(best.pairs[0])
    # max-matched / fair with everybody who has a partner placed: a trio (an odd
    # number of people) cannot place more, so it cannot rank higher.
    return not (view.card and people >= _non_isolated(view, m))


def solve_view(view: View, deadline: float | None = None) -> CoreResult:
    """Best structure (pairs + at most one trio when ``view.trio``) on ``view``."""
    m = _match(view, deadline)
    big = m.pricer.big
    best = _structure_of(m)
    bound2, proven = m.bound2, m.certified
    stats = dict(m.stats)
    if m.certified and _needs_trio_search(view, best, m):
        t = tree(m.state)
        search = tr.Search(m.state, m.pricer, t, best.c2, view.trio_pen, deadline)
        found = tr.search(search, best)
        best, bound2, proven = found.best, found.bound2, found.proven
        stats.update(found.stats)
    elif view.trio:  # no certificate, no trio search: a trio may beat the pairs' bound
        bound2 += _zmax(m.state)
    people, value2 = _value2(view, best, big)
    n_active = int(view.active.sum())
    people_bound = people
    if not proven:
        slack = 6 * int(view.trio_pen[view.active].max(initial=0))  # value2 >= -slack
        people_bound = n_active if big == 0 else min(n_active, (bound2 + slack) // big)
    value_bound2 = bound2 - big * people
    stats["method"] = "blossom"
    return CoreResult(
        pairs=best.pairs,
        trio=best.trio,
        people=people,
        value2=value2,
        bound2=value2 if proven else max(value_bound2, value2),
        people_bound=people_bound,
        proven=proven,
        stats=stats,
        certificate=certificate(m.state, m.pricer) if m.certified else None,
    )


def _zmax(s: bl.State) -> int:
    """Largest total of blossom duals holding one person (how far a trio can exceed)."""
    t = tree(s)
    par = t.parent[: s.n]
    return int(t.zcum[par[par >= 0]].max(initial=0))


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline
